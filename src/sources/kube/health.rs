//! One side's source state, from what its watches deliver and what the
//! probe of the API server answers.

use jiff::Timestamp;

use crate::app::{Msg, SourceId, SourceState};
use crate::sources::health::Failure;

/// After a watch error, a successful probe alone does not make the side
/// live until the watches have had this long (two retry pauses) to fail again.
const WATCH_ERROR_HOLD: i64 = 10;

/// One side's source state, from watch results and probes.
#[derive(Debug)]
pub(super) struct Health {
    pub(super) id: SourceId,
    pub(super) live: bool,
    pub(super) last_ok: Option<Timestamp>,
    pub(super) failing: Option<(Timestamp, String)>,
    pub(super) last_watch_error: Option<Timestamp>,
}

impl Health {
    /// Something worked: a watch delivered (`from_watch`) or a probe answered.
    pub(super) fn ok(&mut self, now: Timestamp, from_watch: bool) -> Vec<Msg> {
        self.last_ok = Some(now);
        let held =
            !from_watch && self.last_watch_error.is_some_and(|t| now.as_second() - t.as_second() < WATCH_ERROR_HOLD);
        if self.live || held {
            return vec![];
        }
        self.live = true;
        self.failing = None;
        vec![Msg::Source { id: self.id, state: SourceState::Live { last_ok: now } }]
    }

    pub(super) fn watch_failed(&mut self, now: Timestamp, failure: Failure) -> Vec<Msg> {
        self.last_watch_error = Some(now);
        self.failed(now, failure)
    }

    /// Stale, announced once per distinct reason.
    pub(super) fn failed(&mut self, now: Timestamp, failure: Failure) -> Vec<Msg> {
        let same = self.failing.as_ref().is_some_and(|(_, e)| *e == failure.text);
        if same && !self.live {
            return vec![];
        }
        let since = self.failing.as_ref().map_or(now, |(since, _)| *since);
        self.failing = Some((since, failure.text.clone()));
        self.live = false;
        let state = SourceState::Stale { since, error: failure.text, last_ok: self.last_ok, fault: failure.fault };
        vec![Msg::Source { id: self.id, state }]
    }
}

//! A source's health as the header shows it: connecting, live with the
//! time of its last good read, or stale since when, why, and with which
//! last good read. Every polling source keeps it the same way.

use jiff::Timestamp;

use crate::app::{Msg, SourceId, SourceState};
use crate::domain::Fault;

/// Why a read failed: the line a person reads, and what kind of trouble
/// it is for code to decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub text: String,
    pub fault: Fault,
}

impl Failure {
    pub fn new(text: impl Into<String>, fault: Fault) -> Failure {
        Failure { text: text.into(), fault }
    }

    /// A failure of no particular kind.
    pub fn other(text: impl Into<String>) -> Failure {
        Failure::new(text, Fault::Other)
    }
}

impl From<String> for Failure {
    fn from(text: String) -> Failure {
        Failure::other(text)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// One source's health between its reads.
#[derive(Debug)]
pub struct Health {
    id: SourceId,
    last_ok: Option<Timestamp>,
    failing_since: Option<Timestamp>,
}

impl Health {
    pub fn new(id: SourceId) -> Health {
        Health { id, last_ok: None, failing_since: None }
    }

    /// A good read at `now`: the message saying the source is live.
    pub fn live(&mut self, now: Timestamp) -> Msg {
        self.last_ok = Some(now);
        self.failing_since = None;
        Msg::Source { id: self.id, state: SourceState::Live { last_ok: now } }
    }

    /// A failed read at `now`: the message saying the source is stale,
    /// since its first failure in a row.
    pub fn stale(&mut self, now: Timestamp, failure: Failure) -> Msg {
        let since = *self.failing_since.get_or_insert(now);
        Msg::Source {
            id: self.id,
            state: SourceState::Stale { since, error: failure.text, last_ok: self.last_ok, fault: failure.fault },
        }
    }
}

/// What a node-signal source's poll gave, sent: its signals (if any) and
/// the source's health. False when the poll should stop: the console is
/// gone, or the call was denied (said once, with the IAM action; nothing
/// else stops with it).
pub async fn send_signals(
    tx: &tokio::sync::mpsc::Sender<crate::app::Msg>,
    health: &mut Health,
    read: Result<Vec<crate::domain::SignalSeen>, Failure>,
    what: &str,
) -> bool {
    let now = Timestamp::now();
    match read {
        Ok(found) => {
            if !found.is_empty() && tx.send(crate::app::Msg::NodeSignals(found)).await.is_err() {
                return false;
            }
            tx.send(health.live(now)).await.is_ok()
        }
        Err(failure) => {
            let denied = failure.fault == Fault::Denied;
            tracing::warn!(error = %failure.text, "{what} not read");
            tx.send(health.stale(now, failure)).await.is_ok() && !denied
        }
    }
}

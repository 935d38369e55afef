//! A singleton handed from one side to the other, phase by phase, and
//! the alarm of one that runs where it must not.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{Side, SingletonSpec};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HandoffPhase {
    /// The stop of the source side is being written.
    Stopping,
    /// Stopped; waiting until it runs nothing.
    WaitingGone,
    /// The start of the target side is being written.
    Starting,
    WaitingReady,
    Done,
    /// The source side is being started again.
    Aborting,
    Aborted,
    /// Ended with the source side untouched or in an unknown state
    /// (recordings of earlier versions).
    Failed(String),
    /// Not begun: a check before the stop failed, nothing was changed.
    Refused(String),
    /// The source side was stopped but the target side could not be
    /// started (or the source restored): the singleton runs nowhere.
    StartFailed(String),
}

impl HandoffPhase {
    /// Whether the handoff is over and a new one may begin. A failed start
    /// is not over: the singleton runs nowhere until it is fixed.
    pub fn finished(&self) -> bool {
        matches!(self, HandoffPhase::Done | HandoffPhase::Aborted | HandoffPhase::Failed(_) | HandoffPhase::Refused(_))
    }

    /// Whether the singleton may rightly run on neither side now: the gap
    /// between the stop and the start.
    pub fn in_gap(&self) -> bool {
        matches!(
            self,
            HandoffPhase::Stopping
                | HandoffPhase::WaitingGone
                | HandoffPhase::Starting
                | HandoffPhase::WaitingReady
                | HandoffPhase::Aborting
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub spec: SingletonSpec,
    pub from: Side,
    pub to: Side,
    pub phase: HandoffPhase,
    pub started: Timestamp,
    /// When the source side was seen running nothing: the gap starts.
    pub gone_at: Option<Timestamp>,
    /// When the target side was seen ready: the gap ends.
    pub ready_at: Option<Timestamp>,
    /// Who confirmed it.
    #[serde(default)]
    pub who: String,
    /// The `startingDeadlineSeconds` a CronJob's start writes.
    #[serde(default)]
    pub starting_deadline: Option<i64>,
    /// Picked up with its source still to be seen gone: the console that
    /// left it last saw the source at this time, so the source went (and
    /// the gap began) between it and `gone_at`, unseen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_after: Option<Timestamp>,
}

impl Handoff {
    /// The phase in the operator's words: what a quit or a restart leaves.
    pub fn state_text(&self) -> String {
        let (from, to) = (self.from, self.to);
        let name = &self.spec.name;
        match &self.phase {
            HandoffPhase::Stopping => format!("{name}: the stop of {from} is being written; {to} is not started"),
            HandoffPhase::WaitingGone => format!("{name}: {from} is stopped and not yet gone; {to} is not started"),
            HandoffPhase::Starting => format!("{name}: {from} runs nothing; the start of {to} is being written"),
            HandoffPhase::WaitingReady => format!("{name}: {to} is started and not yet ready"),
            HandoffPhase::Done => format!("{name}: handed over to {to}"),
            HandoffPhase::Aborting => format!("{name}: {from} is being restored; {to} is not started"),
            HandoffPhase::Aborted => format!("{name}: aborted, {from} restored"),
            HandoffPhase::Failed(why) => format!("{name}: failed: {why}"),
            HandoffPhase::Refused(why) => format!("{name}: not begun: {why}"),
            HandoffPhase::StartFailed(why) => format!("{name}: RUNS ON NEITHER SIDE: {why}"),
        }
    }
}

/// A singleton that runs where it must not: on neither side, or on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmKind {
    Neither,
    Both,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub kind: AlarmKind,
    pub since: Timestamp,
}

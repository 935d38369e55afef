//! The report's lists: one row per thing that happened (the timeline's
//! lines, refusals, overrides, handoffs, alarms, outside changes, peaks,
//! node signals, pods lost, who held the wheel).

use jiff::Timestamp;
use serde::Serialize;

use crate::app::WheelChange;
use crate::domain::{NodeSignalKind, Side};
use crate::report::time;

/// A line of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Moment {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    /// `action`, `refused` or `incident`.
    pub class: &'static str,
    /// What it is: `weights`, `handoff`, `node`, `spike`, `outside_change`...
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    pub text: String,
    /// When the action's last folded line (its answer, a handoff's end) came.
    #[serde(with = "time::rfc3339_option", skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// How many recorded marks this line stands for.
    pub marks: usize,
}

/// Something not done: refused by the console's guards before anything was
/// sent, or refused or failed in the executor (which re-reads before writing).
#[derive(Debug, Serialize)]
pub struct Refusal {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    /// `console` or `executor`.
    pub by: &'static str,
    /// Who was at the keys.
    pub who: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct OutsideRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub subject: String,
    pub before: String,
    pub after: String,
    pub who: Option<String>,
    pub revert: bool,
}

#[derive(Debug, Serialize)]
pub struct OverrideRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub who: String,
    /// Who would undo it, as the proposal named them.
    pub owner: String,
    pub proposal: String,
}

#[derive(Debug, Serialize)]
pub struct AlarmRow {
    pub singleton: String,
    /// `neither` or `both`.
    pub ran_on: &'static str,
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// When it ran on one side again; None if not before the recording ends.
    #[serde(with = "time::rfc3339_option")]
    pub until: Option<Timestamp>,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct HandoffRow {
    pub singleton: String,
    pub from: Side,
    pub to: Side,
    #[serde(with = "time::rfc3339")]
    pub started: Timestamp,
    #[serde(with = "time::rfc3339_option")]
    pub ended: Option<Timestamp>,
    pub who: String,
    /// How it ended: done, aborted, failed, or still running at the end.
    pub result: String,
    /// Seconds with nothing running on either side.
    pub gap_secs: Option<i64>,
    /// Picked up after its source went while no console watched: the gap
    /// was at least `gap_secs` and at most this.
    pub gap_max_secs: Option<i64>,
    /// Started by an earlier session and picked up by this one, then.
    #[serde(with = "time::rfc3339_option")]
    pub picked_up: Option<Timestamp>,
}

/// A node signal: what took a node's capacity away, named by its source.
#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub side: Side,
    pub node: String,
    pub kind: NodeSignalKind,
    /// The kind as people say it: "NTH spot interruption".
    pub label: &'static str,
    /// Who raises it: aws-node-termination-handler, karpenter, ...
    pub source: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Peak {
    pub route: String,
    pub side: Side,
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// The start of the last minute above the guard.
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    pub peak_percent: f64,
    #[serde(with = "time::rfc3339")]
    pub peak_at: Timestamp,
    /// Node signals on the same side from `SIGNALS_BEFORE_MINUTES` before
    /// the peak began until it ended.
    pub signals_before: Vec<Signal>,
    /// Pods of the route's workload lost to node signals on that side in
    /// the same window.
    pub pods_lost: Vec<LostRow>,
}

/// What the console last said made a route's 5xx rise on one side.
#[derive(Debug, Clone, Serialize)]
pub struct CauseRow {
    pub route: String,
    pub side: Side,
    /// The start of the rise's first minute.
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// When the console last said it.
    #[serde(with = "time::rfc3339")]
    pub said: Timestamp,
    pub text: String,
}

/// A lifecycle risk, as the console last judged it.
#[derive(Debug, Clone, Serialize)]
pub struct RiskRow {
    pub side: Side,
    pub route: Option<String>,
    pub kind: crate::domain::lifecycle::RiskKind,
    pub finding: String,
    pub means: &'static str,
    pub change: String,
}

/// Pods of a route's workload that left one node with a disruption signal.
#[derive(Debug, Clone, Serialize)]
pub struct LostRow {
    /// The start of the first and of the last minute a pod was lost in.
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    pub side: Side,
    pub workload: String,
    pub node: String,
    pub cause: NodeSignalKind,
    pub pods: u32,
    /// "3 pods of app/api lost to Karpenter disruption".
    pub text: String,
}

/// One holder's time at the wheel, as this console saw it.
#[derive(Debug, Clone, Serialize)]
pub struct WheelRow {
    /// Who held it; None: nobody did.
    pub holder: Option<String>,
    /// The holder is the recorded console.
    pub mine: bool,
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// None: still so when the recording ends.
    #[serde(with = "time::rfc3339_option")]
    pub to: Option<Timestamp>,
    /// How it came to this holder.
    pub began: WheelChange,
    /// How it left them; None: it had not when the recording ends.
    pub ended: Option<WheelChange>,
    /// Who took it from them, when it was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_by: Option<String>,
}

impl WheelRow {
    /// How the period began, in words.
    pub fn began_text(&self) -> String {
        match (self.began, &self.holder) {
            (WheelChange::Seen, Some(_)) => "held when this console first read the lease".into(),
            (WheelChange::Seen, None) => "nobody held it when this console first read the lease".into(),
            (WheelChange::Acquired, _) => "taken while nobody held it".into(),
            (WheelChange::Taken, _) => "taken by the typed confirmation".into(),
            (WheelChange::Regained, _) => "renewed again after failed renewals".into(),
            (WheelChange::Released, _) => "released by its holder".into(),
            (WheelChange::Expired, _) => "its holder's lease expired".into(),
            (WheelChange::Lapsed, _) => "this console could not renew it".into(),
        }
    }

    /// How the period ended, in words.
    pub fn ended_text(&self) -> String {
        match (self.ended, &self.taken_by) {
            (None, _) => "held at the end of the recording".into(),
            (Some(WheelChange::Taken), Some(by)) => format!("taken by {by}"),
            (Some(WheelChange::Released), _) => "released on quit".into(),
            (Some(WheelChange::Expired), _) => "expired: not renewed".into(),
            (Some(WheelChange::Lapsed), _) => "not renewed in time: this console stopped driving".into(),
            (Some(WheelChange::Acquired), Some(by)) => format!("taken by {by}"),
            (Some(other), _) => other.label().into(),
        }
    }
}

//! The report as tools read it: the types serialised to JSON, field for
//! field what `schemas/report.schema.json` describes. The analyses fill
//! them in; `doc`, `html` and `chart` render them.

mod analysis;
mod route;
mod rows;
mod summary;

pub use analysis::*;
pub use route::*;
pub use rows::*;
pub use summary::*;

use jiff::Timestamp;
use serde::Serialize;

use crate::domain::Minute;
use crate::report::time;

/// The JSON report's format: bumped when a field changes meaning or goes.
/// A field added where it applies (a judged route's verdicts) leaves it:
/// a tool that knows the fields before reads the report as it did.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Report {
    /// Always `cutover-report`.
    pub format: &'static str,
    pub format_version: u32,
    pub session: Session,
    /// The part of the session reported: all of it unless `--from`/`--to`.
    pub window: Window,
    /// Where the charts and each route's `minutes` start: the window's
    /// start, or for a whole session `CHART_LEAD_MINUTES` before it (what
    /// the console read of the time before it started).
    #[serde(with = "time::rfc3339")]
    pub chart_from: Timestamp,
    pub summary: Summary,
    /// Per route: its weights over time, its steps and its minutes.
    pub routes: Vec<RouteReport>,
    /// One entry per action (its proposal, confirmation and the executor's
    /// answer folded together) and per incident, in time order.
    pub timeline: Vec<Moment>,
    pub refusals: Vec<Refusal>,
    /// Proposals confirmed with the typed override, against an owner that
    /// would undo them.
    pub overrides: Vec<OverrideRow>,
    pub handoffs: Vec<HandoffRow>,
    /// Every time a singleton ran on neither side (outside a handoff's
    /// gap) or on both.
    pub alarms: Vec<AlarmRow>,
    /// Changes of the plan's routes and singletons not made by this
    /// session, reverts of its writes among them.
    pub outside: Vec<OutsideRow>,
    pub peaks: Vec<Peak>,
    /// What the console said made each 5xx rise, its last word on it.
    pub causes: Vec<CauseRow>,
    /// The lifecycle risks (node and pod settings against the load
    /// balancer) as the console last judged them.
    pub risks: Vec<RiskRow>,
    /// Node signals, as the console saw them.
    pub signals: Vec<Signal>,
    /// Pods of the routes' workloads lost to node disruptions, per node and
    /// signal.
    pub pods_lost: Vec<LostRow>,
    /// Who held the plan's wheel (its Lease), and how it changed hands, as
    /// the recorded console read it; empty without a Lease (the demo).
    pub wheel: Vec<WheelRow>,
    /// Every automatic revert and autopilot step, every revert the console
    /// would have made where it could not act, and the analysis going
    /// blind and seeing again; absent when no route is judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_actions: Option<Vec<AutomaticAction>>,
}

#[derive(Debug, Serialize)]
pub struct Session {
    pub title: String,
    pub mode: String,
    /// The version of cutover that recorded it.
    pub tool: String,
    pub recording_format_version: u32,
    #[serde(with = "time::rfc3339")]
    pub started: Timestamp,
    #[serde(with = "time::rfc3339")]
    pub ended: Timestamp,
    pub duration_secs: i64,
    /// Everyone at the keys, in the order they came.
    pub operators: Vec<String>,
    pub old_cluster: String,
    pub new_cluster: String,
    pub routes: Vec<String>,
    pub singletons: Vec<String>,
    pub spike_percent: f64,
    pub terminal: (u16, u16),
    pub messages: usize,
    pub keyframes: usize,
    /// Why the recording ends early, if it does.
    pub stopped: Option<String>,
    /// The plan's Lease, `namespace/name` in the new cluster, when the
    /// console read one.
    pub lease: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Window {
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    /// The whole recording (no `--from`/`--to`).
    pub whole: bool,
}

impl Window {
    /// Whether a mark at `at` is reported: all of them for the whole
    /// recording (a demo's history and a live console's first CloudWatch
    /// minutes come before its start, and are told as such).
    pub fn contains(&self, at: Timestamp) -> bool {
        self.whole || (self.from <= at && at <= self.to)
    }

    /// The whole minutes the window touches.
    pub(in crate::report) fn minutes(&self) -> (Minute, Minute) {
        (Minute::containing(self.from), Minute::containing(self.to))
    }
}

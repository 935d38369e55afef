//! The summary at the top of the report: per route, per singleton, how
//! the session ended and what the recording missed.

use jiff::Timestamp;
use serde::Serialize;

use crate::domain::{PerSide, RouteKind, Weights};
use crate::report::{AnalysisSummary, time};

#[derive(Debug, Serialize)]
pub struct Summary {
    /// The recording holds the whole session: it ends with the session's
    /// end (a quit or a signal), nothing in it is cut short, and no line
    /// was lost while it could not be written.
    pub complete: bool,
    /// How the session ended, as its last message says; `None`: no end was
    /// recorded (killed with SIGKILL, the machine stopped, still running,
    /// or a recording of an earlier version).
    pub ended: Option<EndRow>,
    /// Every stretch the recording could not be written, and what it lost.
    pub recording_gaps: Vec<RecordingGap>,
    /// Who confirmed the actions in the window; the operators when nobody did.
    pub drivers: Vec<String>,
    pub routes: Vec<RouteSummary>,
    pub singletons: Vec<SingletonSummary>,
    pub outside_changes: usize,
    /// Outside changes that undid one of this session's writes.
    pub outside_reverts: usize,
    pub alarms: usize,
    pub refusals: usize,
    /// Runs of 5xx minutes above the guard from the window's start on.
    pub peaks: usize,
    /// Those before it, in the minutes the console read at its start.
    pub peaks_before: usize,
    /// Steps by their verdict and the automatic actions; absent when no
    /// route is judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisSummary>,
}

/// How a session ended.
#[derive(Debug, Clone, Serialize)]
pub struct EndRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    /// `quit`, `signal`, `error` or `crash`.
    pub how: &'static str,
    /// The signal's name, for `signal`.
    pub signal: Option<&'static str>,
    /// What the console said as it ended: for a signal, what it left.
    pub text: String,
}

/// A stretch the recording could not be written.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingGap {
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// When it was written again; `None`: not before the recording ends.
    #[serde(with = "time::rfc3339_option")]
    pub to: Option<Timestamp>,
    pub error: String,
    /// Lines held in memory and written late: in the recording.
    pub written_late: u64,
    /// Lines that did not fit in memory: not in the recording.
    pub lost: u64,
    #[serde(with = "time::rfc3339_option")]
    pub lost_from: Option<Timestamp>,
    #[serde(with = "time::rfc3339_option")]
    pub lost_to: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
pub struct RouteSummary {
    pub route: String,
    pub kind: RouteKind,
    /// The weights in effect at the window's start and at its end.
    pub first: Option<Weights>,
    #[serde(rename = "final")]
    pub last: Option<Weights>,
    pub first_share_new_percent: Option<f64>,
    pub final_share_new_percent: Option<f64>,
    /// The highest share set on new in the window, and since when.
    pub highest_share_new_percent: Option<f64>,
    #[serde(with = "time::rfc3339_option")]
    pub highest_share_at: Option<Timestamp>,
    /// Weight changes confirmed in the window.
    pub steps: usize,
    /// Those that lowered new's share: back toward old.
    pub reverts: usize,
    /// The minute with the highest target 5xx share, per side; None: no data.
    pub worst_5xx: PerSide<Option<Worst>>,
    /// The minute with the most 5xx answered by the load balancer(s)
    /// itself (502/503/504); None: none read.
    pub worst_lb_5xx: Option<WorstLb>,
    /// The fewest healthy targets read, per side; None: never read.
    pub lowest_healthy: PerSide<Option<Health>>,
}

/// One minute's target 5xx on one side.
#[derive(Debug, Clone, Serialize)]
pub struct Worst {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub percent: f64,
    pub requests: f64,
    pub target_5xx: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorstLb {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub count: f64,
    /// Of every request through the load balancers and these errors.
    pub percent: Option<f64>,
    /// The load balancers counted: an ALB shared by several routes counts
    /// its 5xx for each of them.
    pub load_balancers: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub healthy: u32,
    pub targets: u32,
}

#[derive(Debug, Serialize)]
pub struct SingletonSummary {
    pub singleton: String,
    pub handoffs: usize,
    pub done: usize,
    /// The gap (nothing running) of each handoff that finished, in order.
    pub gaps_secs: Vec<i64>,
}

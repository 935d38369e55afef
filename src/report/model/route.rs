//! One route's part of the report: its weights over time, its steps with
//! the figures around them, a DNS route's clients following, and its
//! minutes.

use jiff::Timestamp;
use serde::Serialize;

use crate::domain::{RouteKind, Side, Weights};
use crate::report::{RouteAnalysis, StepVerdict, time};

#[derive(Debug, Serialize)]
pub struct RouteReport {
    pub route: String,
    pub kind: RouteKind,
    /// A DNS route's TTL as last read (the longer of its two records'; an
    /// alias answers with its target's), in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<i64>,
    /// Each distinct pair of weights the console saw, from when it saw it:
    /// the pair in effect at the window's start first.
    pub history: Vec<WeightsAt>,
    /// When the console first read that first pair (before the window, if
    /// it was in effect at its start): where the chart's line starts.
    #[serde(skip)]
    pub first_read: Option<Timestamp>,
    pub steps: Vec<Step>,
    /// A DNS route's clients following each change of the history after
    /// the first read, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followed: Vec<Followed>,
    /// Every minute from the report's `chart_from` to the window's end
    /// with a datapoint or a read.
    pub minutes: Vec<MinuteRow>,
    /// How the route is judged and the minutes judged; absent for a
    /// route the plan does not judge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<RouteAnalysis>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeightsAt {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub weights: Weights,
    pub share_new_percent: Option<f64>,
}

/// A confirmed weight change of one route, with what the service did
/// around it.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Its number in the session, from 1, counted over all routes.
    pub number: usize,
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub who: String,
    /// What armed a change made without a key press (told among the
    /// automatic actions, where `who` says it in words).
    #[serde(skip)]
    pub armed: Option<crate::app::Armed>,
    /// The proposal confirmed, as the console showed it.
    pub proposal: String,
    pub route: String,
    /// None when the weights had not been read (a revert from a stale view).
    pub before: Option<Weights>,
    pub after: Weights,
    pub before_share_new_percent: Option<f64>,
    pub after_share_new_percent: Option<f64>,
    /// It lowered new's share.
    pub revert: bool,
    /// The executor's answer, when the recording has it.
    pub outcome: Option<String>,
    pub verified: bool,
    /// How long the route had been at the weights before it.
    pub secs_at_previous: Option<i64>,
    /// Those weights were the console's first read: they may have been in
    /// place longer than `secs_at_previous`.
    pub since_first_read: bool,
    /// The side the step sends more traffic to (old for a revert).
    pub target_side: Side,
    /// That side's figures in the minutes before and after the step's own.
    pub before_figures: Figures,
    pub after_figures: Figures,
    /// A DNS route's clients following it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed: Option<String>,
    /// The step's verdict at the weight it set; absent for a route the
    /// plan does not judge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<StepVerdict>,
}

/// One side's requests and target 5xx over some whole minutes.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// The start of the last minute counted.
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    /// Minutes with a request datapoint.
    pub minutes: i64,
    pub requests: f64,
    pub target_5xx: f64,
    /// None: no requests in those minutes (no data).
    pub percent: Option<f64>,
}

impl Figures {
    pub fn requests_per_minute(&self) -> Option<f64> {
        (self.minutes > 0).then(|| self.requests / self.minutes as f64)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SideMinute {
    pub requests: Option<f64>,
    pub target_5xx: Option<f64>,
    pub target_5xx_percent: Option<f64>,
    pub healthy_targets: Option<u32>,
    pub targets: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MinuteRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub old: SideMinute,
    pub new: SideMinute,
    /// 5xx the load balancer(s) answered itself in the minute.
    pub lb_5xx: Option<f64>,
    /// Of every request through them (all their routes') and these errors.
    pub lb_5xx_percent: Option<f64>,
    pub set_share_new_percent: Option<f64>,
    pub observed_share_new_percent: Option<f64>,
}

impl MinuteRow {
    pub fn side(&self, side: Side) -> &SideMinute {
        match side {
            Side::Old => &self.old,
            Side::New => &self.new,
        }
    }
}

/// How long a DNS route's observed share (new's requests of both load
/// balancers', per minute) took to come within `CONVERGED_POINTS` of the
/// share a change set.
#[derive(Debug, Clone, Serialize)]
pub struct Followed {
    /// When the change was seen.
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub set_percent: f64,
    /// Minutes from the change's minute to the first minute within
    /// `CONVERGED_POINTS` (0: the change's own minute); None if none was.
    pub after_minutes: Option<i64>,
    /// The last observed share looked at, when none came within.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_percent: Option<f64>,
    /// The next change, which ended the looking, if one did.
    #[serde(with = "time::rfc3339_option", skip_serializing_if = "Option::is_none")]
    pub next_change: Option<Timestamp>,
    /// "clients followed in 4 min".
    pub text: String,
}

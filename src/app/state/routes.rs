//! Each route of the plan as the session knows it: the last read, the
//! metrics, this session's writes of it (verified, awaited, unsettled),
//! and how long it has been at its weights.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::LbMetric;
use crate::domain::{MetricSeries, PerSide, RecordRead, RouteKind, RouteOwners, Side, Target, Weight, Weights};

use super::{Autopilot, Judged, Purpose, RouteSpec, StepAnalysis};

/// The backend's answer for a route, as of `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteReadState {
    pub at: Timestamp,
    /// The weights of the plan's two objects, or None if one of them is
    /// missing from the forward action (shown as an alarm).
    pub weights: Option<Weights>,
    /// Weighted objects beside the plan's two.
    pub others: Vec<(String, Weight)>,
    pub targets: PerSide<Vec<Target>>,
    pub detail: crate::domain::ReadDetail,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SideMetrics {
    pub requests: MetricSeries,
    pub target_5xx: MetricSeries,
    pub latency_ms: MetricSeries,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteState {
    pub spec: RouteSpec,
    pub read: Option<RouteReadState>,
    pub metrics: PerSide<SideMetrics>,
    /// The last weights known good: the first read of the session, then
    /// each write that read back as written.
    pub verified: Option<Weights>,
    /// A write is in flight; no second one until it is answered.
    pub pending: bool,
    /// What `r` goes back to, newest last: the weights before each verified
    /// change of this session, down to the session's first read.
    #[serde(default)]
    pub undo: Vec<Weights>,
    /// Since when the route has been at its current weights, and whether
    /// that is the session's start (it may have been there longer).
    #[serde(default)]
    pub weights_since: Option<(Timestamp, bool)>,
    /// When the weights changed this session and to what, oldest first,
    /// for the route's chart; the last `WEIGHT_CHANGES` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_changes: Vec<(Timestamp, Weights)>,
    /// The session's first read of the weights: where the set share of
    /// the route's chart begins.
    #[serde(default)]
    pub first_read: Option<(Timestamp, Weights)>,
    /// This session's last verified write of the route: what a change
    /// nobody here made is told apart from, and what a revert undoes.
    #[serde(default)]
    pub last_write: Option<OwnWrite<Weights>>,
    /// Weights written to the route's Ingress, waited for on the ALB.
    #[serde(default)]
    pub awaiting: Option<Awaiting>,
    /// Who else writes the rule and its target groups, from their tags;
    /// None until they are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<RouteOwners>,
    /// Why the tags could not be read at the last try.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners_error: Option<String>,
    /// This session's weight writes of the route that may still land
    /// (answer not awaited or lost), oldest first; at most
    /// `UNSETTLED_CAPACITY`, each for `LATE_WRITE_SECS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsettled: Vec<Unsettled>,
    /// This session's newest write of the route that read back as written,
    /// with why: what stands when an earlier one lands late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<Standing>,
    /// Since when, and why, this route alone cannot be read while its
    /// source reads the others (its rule deleted): its read is as old as
    /// it says, and its steps wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<(Timestamp, String)>,
    /// The route's last weight change before this session, as earlier
    /// recordings of the plan (or the simulated world) tell it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<crate::domain::PriorChange>,
    /// The step under analysis, when the plan arms one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<StepAnalysis>,
    /// Each minute judged, oldest first (the last `JUDGED_CAPACITY`), for
    /// the chart's band.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judged: Vec<(crate::domain::Minute, Judged)>,
    /// The last weights whose step passed: where an automatic revert goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<Weights>,
    /// Since when the analysis cannot see: its metrics source is stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blind: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Autopilot::is_idle")]
    pub autopilot: Autopilot,
}

/// How long a route has been at its weights, as far as the console can
/// tell.
#[derive(Debug, Clone, PartialEq)]
pub enum AtWeight {
    /// Changed in this session, at this time.
    Changed(Timestamp),
    /// Changed before this session, as an earlier one saw: when, and where
    /// that was seen.
    Before(Timestamp, String),
    /// No change on record: at these weights since at least this
    /// session's first read, for how much longer nobody here knows.
    Unknown(Timestamp),
}

/// A weight write of this session whose request may still be applied: its
/// answer was not awaited (a revert went ahead of it) or lost, and no read
/// shows it. A read that shows what it would write names it as this
/// session's late write, not as somebody else's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unsettled {
    pub effect: u64,
    pub to: Weights,
    #[serde(default)]
    pub all_old: bool,
    pub purpose: Purpose,
    /// When it was sent.
    pub sent: Timestamp,
    pub who: String,
    /// Why it is not known to have landed, in a few words.
    pub why: String,
    /// Requests of it that may still land: one, or a revert's each try.
    pub requests: u32,
}

/// The session's newest verified write of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    pub effect: u64,
    pub to: Weights,
    #[serde(default)]
    pub all_old: bool,
    pub purpose: Purpose,
    pub who: String,
    /// When its answer came.
    pub at: Timestamp,
}

/// How long a write of this session whose answer was lost may land and be
/// named as this session's: far longer than any request stays in AWS, and
/// short enough that a later write of the same weights by someone else is
/// not taken for it.
pub const LATE_WRITE_SECS: i64 = 5 * 60;
/// Writes that may still land kept per route: more than a session sends
/// in that time.
pub const UNSETTLED_CAPACITY: usize = 8;

/// Weight changes kept per route: far more than a cutover's steps.
pub const WEIGHT_CHANGES: usize = 64;

impl RouteState {
    pub fn kind(&self) -> RouteKind {
        self.spec.kind()
    }

    /// The weights as last read.
    pub fn weights(&self) -> Option<Weights> {
        self.read.as_ref().and_then(|r| r.weights)
    }

    /// The share of traffic the weights as read send to new, in percent.
    pub fn set_share(&self) -> Option<f64> {
        self.weights().and_then(|w| self.kind().share_new(w))
    }

    /// The load balancer whose own metrics (its 5xx) count for `side`:
    /// the one ALB of an ALB route, each side's own for a DNS route (known
    /// once its record is read).
    pub fn load_balancer(&self, side: Side) -> Option<&str> {
        match self.spec.backend.load_balancer() {
            Some(lb) => Some(lb),
            None => self.record(side).and_then(|r| r.load_balancer.as_deref()),
        }
    }

    /// A DNS route's TTL as last read: the longer of its records' (an
    /// alias answers with the load balancer's, 60 s).
    pub fn ttl(&self) -> Option<i64> {
        Side::BOTH
            .iter()
            .filter_map(|side| self.record(*side).map(|r| r.ttl.unwrap_or(crate::domain::ALIAS_TTL_SECS)))
            .max()
    }

    /// The share of requests that reached new in `minute`, in percent:
    /// None without a datapoint on either side, or without requests.
    pub fn observed_share(&self, minute: crate::domain::Minute) -> Option<f64> {
        let (o, n) = (self.metrics.old.requests.get(minute), self.metrics.new.requests.get(minute));
        if o.is_none() && n.is_none() {
            return None;
        }
        let (o, n) = (o.unwrap_or(0.0), n.unwrap_or(0.0));
        (o + n > 0.0).then(|| n * 100.0 / (o + n))
    }

    /// One side's record as last read, for a DNS route.
    pub fn record(&self, side: Side) -> Option<&RecordRead> {
        match self.read.as_ref().map(|r| &r.detail) {
            Some(crate::domain::ReadDetail::Route53 { records }) => Some(records.get(side)),
            _ => None,
        }
    }

    /// Since when the route has been at its current weights; None before
    /// its first read.
    pub fn at_weight(&self) -> Option<AtWeight> {
        let (since, session_start) = self.weights_since?;
        if !session_start {
            return Some(AtWeight::Changed(since));
        }
        // An earlier change counts only if it set what is read now (and
        // came before this session's first read).
        Some(match &self.prior {
            Some(p) if Some(p.to) == self.weights() && p.at <= since => AtWeight::Before(p.at, p.source.clone()),
            _ => AtWeight::Unknown(since),
        })
    }

    /// The weights in effect at `at`, as far as this session saw them.
    pub fn weights_at(&self, at: Timestamp) -> Option<Weights> {
        let (first_at, first) = self.first_read?;
        if at < first_at {
            return None;
        }
        Some(self.weight_changes.iter().rev().find(|(t, _)| *t <= at).map_or(first, |(_, w)| *w))
    }

    /// The weights are `to` from `at` on: a change seen, whoever made it.
    pub fn note_change(&mut self, at: Timestamp, to: Option<Weights>) {
        self.weights_since = Some((at, false));
        // The executor's answer and the next read report the same change:
        // it is marked once, when first seen.
        if let Some(to) = to
            && self.weight_changes.last().map(|(_, w)| *w) != Some(to)
        {
            self.weight_changes.push((at, to));
            if self.weight_changes.len() > WEIGHT_CHANGES {
                // The oldest change kept is where the set share is known from.
                self.first_read = Some(self.weight_changes.remove(0));
            }
        }
    }

    /// A write of this session read back as written: what the route is
    /// known good at, and what a change by somebody else would undo.
    pub fn note_verified(&mut self, at: Timestamp, who: String, to: Weights) {
        self.verified = Some(to);
        self.last_write = Some(OwnWrite { at, who, to });
    }

    /// A change of this session in effect: `r` goes back over it (an undo
    /// takes its own step off the stack instead).
    pub fn note_undo(&mut self, from: Option<Weights>, to: Weights, purpose: Purpose) {
        if purpose == Purpose::Undo {
            self.undo.pop();
        } else if let Some(from) = from.filter(|f| *f != to) {
            self.undo.push(from);
        }
    }
}

/// Weights written where the AWS Load Balancer Controller takes them from,
/// not yet seen on the ALB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Awaiting {
    pub to: Weights,
    /// The weights read before, where known.
    pub from: Option<Weights>,
    /// When the Ingress was written.
    pub since: Timestamp,
    pub purpose: Purpose,
    pub who: String,
    /// The write's id, and whether it was the panic button's.
    #[serde(default)]
    pub effect: u64,
    #[serde(default)]
    pub all_old: bool,
}

/// How long the console waits for the AWS Load Balancer Controller to
/// write the weights of an Ingress to the rule before it says it has not.
pub const CONTROLLER_DEADLINE_SECS: i64 = 120;

/// A write of this session that read back as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnWrite<T> {
    /// When its answer came.
    pub at: Timestamp,
    pub who: String,
    pub to: T,
}

/// How long after one of this session's writes a change that undoes it is
/// called a revert (and one that matches it is still taken as its echo).
pub const REVERT_WINDOW_SECS: i64 = 30 * 60;
/// How long after a write's answer a read that still shows the weights
/// before it counts as a read begun before the write, not as a change.
pub const LATE_READ_SECS: i64 = 3;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LbMetrics {
    pub elb_502: MetricSeries,
    pub elb_503: MetricSeries,
    pub elb_504: MetricSeries,
    pub elb_5xx: MetricSeries,
}

impl LbMetrics {
    pub fn series_mut(&mut self, metric: LbMetric) -> &mut MetricSeries {
        match metric {
            LbMetric::Elb502 => &mut self.elb_502,
            LbMetric::Elb503 => &mut self.elb_503,
            LbMetric::Elb504 => &mut self.elb_504,
            LbMetric::Elb5xx => &mut self.elb_5xx,
        }
    }
}

//! A route's analysis as the session keeps it: the step under judgement,
//! the verdict of each minute judged (for the chart's band), the last
//! weights that passed, whether its metrics are blind, and its autopilot.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::analysis::{Check, Evidence, Failed, Unsure};
use crate::domain::{Minute, Weights};

/// The step under judgement: the route at `weights` since `since`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepAnalysis {
    pub since: Timestamp,
    pub weights: Weights,
    /// The last minute judged.
    pub judged: Option<Minute>,
    /// The evidence of the last judgement.
    pub evidence: Evidence,
    pub failures: u32,
    /// Once `Failed`, final for the step, whatever later minutes show.
    pub verdict: Verdict,
    /// When the verdict first became what it is: a report's time to
    /// decision.
    pub verdict_at: Timestamp,
}

/// What the step's analysis says now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Verdict {
    /// No whole minute at this weight judged yet.
    Waiting,
    /// Passing, not yet baked: whole minutes at the weight, of the bake's.
    Baking { minutes: u32, of: u32 },
    /// Passing and baked: the next step may go.
    Ready,
    /// Failing minutes so far, under the limit, and the last one's reason.
    Failing { failures: u32, limit: u32, why: Failed },
    /// Failing minutes reached the limit: the step failed.
    Failed(Failed),
    /// Cannot tell yet.
    Unsure(Unsure),
}

impl Verdict {
    /// The verdict's name, as marks and the report give it.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Waiting => "waiting",
            Verdict::Baking { .. } => "pass",
            Verdict::Ready => "ready",
            Verdict::Failing { .. } => "failing",
            Verdict::Failed(_) => "fail",
            Verdict::Unsure(_) => "inconclusive",
        }
    }

    /// The verdict in a few words, as the traffic panel's cell says it.
    pub fn cell(&self) -> String {
        match self {
            Verdict::Waiting => "… waiting for a whole minute".into(),
            Verdict::Baking { minutes, of } => format!("… {minutes}/{of} min"),
            Verdict::Ready => "✓ ready".into(),
            Verdict::Failing { failures, limit, why } => format!("! {failures}/{limit} {}", why.text()),
            Verdict::Failed(why) => format!("✖ FAIL {}", why.text()),
            Verdict::Unsure(why) => format!("? {}", why.cell()),
        }
    }

    /// The verdict with its evidence, in a sentence.
    pub fn text(&self) -> String {
        match self {
            Verdict::Waiting => "waiting for a whole minute at this weight".into(),
            Verdict::Baking { minutes, of } => format!("passing, {minutes} of {of} min baked"),
            Verdict::Ready => "PASS, baked: ready for the next step".into(),
            Verdict::Failing { failures, limit, why } => {
                format!("failing {failures} of {limit} minutes: {}", why.text())
            }
            Verdict::Failed(why) => format!("FAIL: {}", why.text()),
            Verdict::Unsure(why) => format!("INCONCLUSIVE: {}", why.text()),
        }
    }
}

impl Unsure {
    /// Why it cannot tell yet, as short as the traffic panel's cell takes it.
    pub fn cell(&self) -> String {
        match self {
            Unsure::NoData => "no data".into(),
            Unsure::Thin { minutes: Some(m), .. } => format!("thin traffic, ~{m} min"),
            Unsure::Thin { minutes: None, .. } => "thin traffic, >1 h".into(),
            Unsure::NoLatency => "no latency".into(),
        }
    }
}

/// A minute's check, as the chart's band colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Judged {
    Pass,
    Fail,
    Unsure,
}

impl From<&Check> for Judged {
    fn from(c: &Check) -> Judged {
        match c {
            Check::Pass => Judged::Pass,
            Check::Fail(_) => Judged::Fail,
            Check::Inconclusive(_) => Judged::Unsure,
        }
    }
}

/// Minutes judged kept per route, for the chart's band: six hours.
pub const JUDGED_CAPACITY: usize = 360;

/// The autopilot of a route armed with `advance = "auto"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Autopilot {
    /// The next step and when it is applied, once the route is ready.
    pub countdown: Option<Countdown>,
    /// Paused by the operator for this route: no countdown runs.
    pub paused: bool,
    /// Cancelled by the operator, or stopped by a failure and its revert,
    /// until the weights change by somebody's hand: the operator steps.
    pub stopped: Option<String>,
}

impl Autopilot {
    pub fn is_idle(&self) -> bool {
        *self == Autopilot::default()
    }
}

/// A step the autopilot will apply at `at`, unless cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Countdown {
    pub at: Timestamp,
    pub to: Weights,
    /// Why it waits past `at`, when a guard holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

/// How long the autopilot counts down before applying a step.
pub const COUNTDOWN_SECS: i64 = 30;

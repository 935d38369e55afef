//! What the report says of the plan's analysis: each step's verdict with
//! its evidence and how long it took to decide, the minutes judged, what
//! the console did (or would have done) by itself, and the counts in the
//! summary. A session without analysis has none of these fields at all,
//! so its report reads as it always did.

use jiff::Timestamp;
use serde::Serialize;

use crate::domain::Weights;
use crate::domain::analysis::{Advance, OnFailure};
use crate::report::time;

/// A step's verdict: the last one reached at the weight it set, and the
/// first decisive one (`ready` or `fail`), which is what an operator
/// waits for.
#[derive(Debug, Clone, Serialize)]
pub struct StepVerdict {
    /// `ready`, `pass` (passing, not yet baked), `failing`, `fail` or
    /// `inconclusive`; None: no whole minute at the weight was judged.
    pub verdict: Option<&'static str>,
    /// The verdict with its evidence, as the console said it:
    /// `FAIL: 5xx 4.0% > 1.0%`.
    pub evidence: Option<String>,
    /// When the last verdict was first reached.
    #[serde(with = "time::rfc3339_option")]
    pub verdict_at: Option<Timestamp>,
    /// The first decisive verdict: `ready` or `fail`.
    pub decision: Option<&'static str>,
    #[serde(with = "time::rfc3339_option")]
    pub decided_at: Option<Timestamp>,
    /// From the step to its first decisive verdict.
    pub decision_secs: Option<i64>,
}

/// How a judged route was judged (the plan's `[analysis]` under its own
/// `[route.analysis]`), and each minute judged on the chart's span.
#[derive(Debug, Clone, Serialize)]
pub struct RouteAnalysis {
    pub max_error_rate_percent: Option<f64>,
    /// Points new's 5xx share may exceed old's by.
    pub max_error_increase_percent: Option<f64>,
    pub max_latency_ms: Option<f64>,
    pub bake_secs: i64,
    pub failure_limit: u32,
    pub confidence: f64,
    pub on_failure: OnFailure,
    /// The plan's line that says it (`cutover.toml:14`).
    pub on_failure_at: String,
    pub advance: Advance,
    pub advance_at: String,
    pub minutes: Vec<JudgedMinute>,
}

/// One minute's judgement, on all the evidence at its weight up to it.
#[derive(Debug, Clone, Serialize)]
pub struct JudgedMinute {
    /// The minute's start.
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    /// `pass`, `fail` or `inconclusive`.
    pub check: &'static str,
}

/// What the console did, or said it would do, without a key press.
#[derive(Debug, Clone, Serialize)]
pub struct AutomaticAction {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub route: String,
    /// `revert` (a failed step reverted), `autopilot` (a ready step taken
    /// after its countdown), `would_revert` (said where the console could
    /// not act), `blind` (its metrics went stale) or `sees` (they read
    /// again).
    pub kind: &'static str,
    /// The step of the steps table it is, for a revert or an autopilot step.
    pub step: Option<usize>,
    /// The weights before and after a revert or an autopilot step; a
    /// `would_revert` has the weights it found.
    pub before: Option<Weights>,
    pub after: Option<Weights>,
    pub before_share_new_percent: Option<f64>,
    pub after_share_new_percent: Option<f64>,
    /// Who the change is recorded as made by: what armed it, where, and
    /// who ran the console with that plan.
    pub who: Option<String>,
    /// The plan's line that armed it.
    pub armed_at: Option<String>,
    /// Who ran the console with that plan.
    pub armed_by: Option<String>,
    /// What the console said.
    pub text: String,
    /// What it acted on: the failed step's verdict, or the ready one's.
    pub why: Option<String>,
    /// The executor's answer to a revert or an autopilot step.
    pub outcome: Option<String>,
    pub verified: Option<bool>,
}

/// The summary's counts of what the analysis decided and did in the
/// window: steps of the judged routes by their last verdict, and the
/// automatic actions.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisSummary {
    /// The routes the plan judges.
    pub routes: Vec<String>,
    /// Steps of those routes.
    pub steps: usize,
    /// Ready, or passing and not yet baked.
    pub steps_passed: usize,
    pub steps_failed: usize,
    pub steps_inconclusive: usize,
    pub automatic_reverts: usize,
    pub autopilot_steps: usize,
    /// Reverts the console would have made where it could not act.
    pub would_revert: usize,
    /// Times the analysis went blind (its metrics stale).
    pub blind: usize,
}

//! A step's analysis: is the new side healthy at this weight?
//!
//! Each complete minute since the weight last changed is judged on all the
//! minutes so far at that weight: new's 5xx share against a ceiling, new's
//! share against old's in the same minutes (old is a live baseline under
//! the same traffic), and new's latency. A judgement passes only when the
//! evidence is strong enough to say so at the plan's confidence, fails only
//! when it is strong enough to say that, and is inconclusive otherwise: no
//! data, or too few requests, is never a pass. The bounds are exact ones
//! (see [`super::stats`]): a failure, which may revert traffic by itself,
//! is never claimed on fewer requests than the confidence allows.

use serde::{Deserialize, Serialize};

use super::stats::{exact, exact_difference};

/// What the plan says a step must show (one route's, the plan-wide
/// defaults under its own). Shares are fractions (0.01 is 1%).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisSpec {
    /// New's 5xx share may not exceed this, whatever old does.
    pub max_error_rate: Option<f64>,
    /// New's 5xx share may exceed old's by at most this.
    pub max_error_increase: Option<f64>,
    /// New's latency (the source's p99, else its average) may not exceed
    /// this, in milliseconds.
    pub max_latency_ms: Option<f64>,
    /// Seconds at a weight, judged healthy, before the next step is ready.
    pub bake_secs: i64,
    /// Failing minutes before the step fails.
    pub failure_limit: u32,
    /// How sure a pass or a fail must be (0.95).
    pub confidence: f64,
    pub on_failure: OnFailure,
    pub advance: Advance,
    /// Where the plan says what a failure does and how a ready step moves
    /// on (`cutover.toml:14`): what an automatic action names as having
    /// armed it.
    pub on_failure_at: String,
    pub advance_at: String,
}

/// The plan's defaults, close to Flagger's built-in checks (99% success,
/// 500 ms).
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.01;
pub const DEFAULT_MAX_ERROR_INCREASE: f64 = 0.005;
pub const DEFAULT_MAX_LATENCY_MS: f64 = 500.0;
pub const DEFAULT_BAKE_SECS: i64 = 300;
pub const DEFAULT_FAILURE_LIMIT: u32 = 2;
pub const DEFAULT_CONFIDENCE: f64 = 0.95;

impl AnalysisSpec {
    /// An `[analysis]` table of the defaults only, arming `on_failure`
    /// (said at `on_failure_at`) and `advance` (at `advance_at`).
    pub fn defaults(on_failure: OnFailure, advance: Advance, on_failure_at: &str, advance_at: &str) -> AnalysisSpec {
        AnalysisSpec {
            max_error_rate: Some(DEFAULT_MAX_ERROR_RATE),
            max_error_increase: Some(DEFAULT_MAX_ERROR_INCREASE),
            max_latency_ms: Some(DEFAULT_MAX_LATENCY_MS),
            bake_secs: DEFAULT_BAKE_SECS,
            failure_limit: DEFAULT_FAILURE_LIMIT,
            confidence: DEFAULT_CONFIDENCE,
            on_failure,
            advance,
            on_failure_at: on_failure_at.into(),
            advance_at: advance_at.into(),
        }
    }
}

/// What a failed step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// An alarm; the operator decides.
    Alarm,
    /// The console reverts the route by itself to the last weight that
    /// passed (all-old when none did), then waits for the operator.
    Revert,
}

/// What a ready step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Advance {
    /// Nothing: the operator steps.
    Manual,
    /// The next step is proposed; the operator confirms it.
    Prompt,
    /// The next step is applied after a countdown one key cancels.
    Auto,
}

/// One side's counts over the minutes judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub requests: u64,
    pub errors: u64,
}

impl Counts {
    pub fn share(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.errors as f64 / self.requests as f64)
    }
}

/// What a judgement is made of: the counts since the weight changed, the
/// judged minute's latency, and the pace of requests (per minute), for
/// saying how long a thin side would take to tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Complete minutes at the weight so far.
    pub minutes: u32,
    pub new: Counts,
    pub old: Counts,
    /// New's latency in the judged minute, milliseconds.
    pub latency_ms: Option<f64>,
}

/// A judgement of one minute, on all the evidence at the weight so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Check {
    Pass,
    Fail(Failed),
    Inconclusive(Unsure),
}

/// Why a check failed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Failed {
    /// New's share is above the ceiling, for sure: the share and the
    /// ceiling.
    ErrorRate { share: f64, ceiling: f64 },
    /// New's share is above old's by more than allowed, for sure.
    Increase { share: f64, old: f64, allowed: f64 },
    /// New's latency in the minute is above the ceiling.
    Latency { ms: f64, ceiling: f64 },
}

/// Why a check could not decide.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Unsure {
    /// No request reached new in the minutes so far.
    NoData,
    /// Requests, too few to tell: at this pace it would take about this
    /// many minutes more (None: longer than an hour, or never at this
    /// pace), to tell `ceiling` from `baseline`.
    Thin { minutes: Option<u32>, ceiling: f64, baseline: f64 },
    /// No latency for the minute though there were requests.
    NoLatency,
}

/// Judges the evidence against the spec; when the traffic is too thin
/// to tell, says how long it would take at its pace.
pub fn judge(spec: &AnalysisSpec, e: &Evidence) -> Check {
    match decide(spec, e) {
        Check::Inconclusive(Unsure::Thin { ceiling, baseline, .. }) => {
            Check::Inconclusive(Unsure::Thin { minutes: minutes_to_tell(spec, e), ceiling, baseline })
        }
        other => other,
    }
}

/// [`judge`], without the projection.
fn decide(spec: &AnalysisSpec, e: &Evidence) -> Check {
    let Some(share) = e.new.share() else { return Check::Inconclusive(Unsure::NoData) };
    let (new_low, new_high) = exact(e.new.errors, e.new.requests, spec.confidence);
    let old = e.old.share();
    if let Some(ceiling) = spec.max_error_rate
        && new_low > ceiling
    {
        return Check::Fail(Failed::ErrorRate { share, ceiling });
    }
    let diff = (e.old.requests > 0)
        .then(|| exact_difference(e.new.errors, e.new.requests, e.old.errors, e.old.requests, spec.confidence));
    if let (Some(allowed), Some((low, _)), Some(old)) = (spec.max_error_increase, diff, old)
        && low > allowed
    {
        return Check::Fail(Failed::Increase { share, old, allowed });
    }
    if let (Some(ceiling), Some(ms)) = (spec.max_latency_ms, e.latency_ms)
        && ms > ceiling
    {
        return Check::Fail(Failed::Latency { ms, ceiling });
    }
    let under_ceiling = spec.max_error_rate.is_none_or(|ceiling| new_high <= ceiling);
    // Without old's requests there is no baseline to compare with: the
    // ceiling alone judges.
    let under_increase = match (spec.max_error_increase, diff) {
        (Some(allowed), Some((_, high))) => high <= allowed,
        _ => true,
    };
    if !(under_ceiling && under_increase) {
        let (ceiling, baseline) = threshold(spec, e);
        return Check::Inconclusive(Unsure::Thin { minutes: None, ceiling, baseline });
    }
    if spec.max_latency_ms.is_some() && e.latency_ms.is_none() {
        return Check::Inconclusive(Unsure::NoLatency);
    }
    Check::Pass
}

/// The share new must stay under, and what it is compared with: the
/// tighter of the ceiling and old's share plus the allowed increase, and
/// old's share (or new's own, without old).
fn threshold(spec: &AnalysisSpec, e: &Evidence) -> (f64, f64) {
    let baseline = e.old.share().or(e.new.share()).unwrap_or(0.0);
    let by_increase = spec.max_error_increase.map(|d| baseline + d);
    let ceiling = match (spec.max_error_rate, by_increase) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => 1.0,
    };
    (ceiling, baseline)
}

/// The longest a thin side is projected: an hour.
const PROJECT_MINUTES: u32 = 60;

/// How many more minutes at the pace seen so far until a check would
/// decide, if new goes on as it has: the counts grown minute by minute at
/// each side's average rate and share. None when an hour would not do.
pub fn minutes_to_tell(spec: &AnalysisSpec, e: &Evidence) -> Option<u32> {
    if e.minutes == 0 || e.new.requests == 0 {
        return None;
    }
    let per_minute = |c: Counts| (c.requests as f64 / f64::from(e.minutes), c.share().unwrap_or(0.0));
    let (new_rate, new_share) = per_minute(e.new);
    let (old_rate, old_share) = per_minute(e.old);
    // Latency is judged minute by minute: the projection is of the shares.
    let shares_only = AnalysisSpec { max_latency_ms: None, ..spec.clone() };
    for more in 1..=PROJECT_MINUTES {
        let grow = |c: Counts, rate: f64, share: f64| {
            let requests = c.requests + (rate * f64::from(more)).round() as u64;
            Counts { requests, errors: c.errors + (rate * share * f64::from(more)).round() as u64 }
        };
        let projected = Evidence {
            minutes: e.minutes + more,
            new: grow(e.new, new_rate, new_share),
            old: grow(e.old, old_rate, old_share),
            latency_ms: None,
        };
        if !matches!(decide(&shares_only, &projected), Check::Inconclusive(_)) {
            return Some(more);
        }
    }
    None
}

/// A percentage as the screen says it: `0.3%`, `12%`, `0.02%`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 0.1 {
        format!("{p:.2}%")
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

impl Failed {
    /// The evidence, in a few words: `5xx 3.1% vs old 0.2%`.
    pub fn text(&self) -> String {
        match self {
            Failed::ErrorRate { share, ceiling } => format!("5xx {} > {}", percent(*share), percent(*ceiling)),
            Failed::Increase { share, old, .. } => format!("5xx {} vs old {}", percent(*share), percent(*old)),
            Failed::Latency { ms, ceiling } => format!("latency {ms:.0} ms > {ceiling:.0} ms"),
        }
    }
}

impl Unsure {
    /// Why it cannot tell yet, in a few words.
    pub fn text(&self) -> String {
        match self {
            Unsure::NoData => "no requests to new yet".into(),
            Unsure::Thin { minutes: Some(m), ceiling, baseline } => {
                format!(
                    "thin traffic, ~{m} min more at this weight to tell {} from {}",
                    percent(*ceiling),
                    percent(*baseline)
                )
            }
            Unsure::Thin { minutes: None, ceiling, baseline } => {
                format!(
                    "thin traffic, over an hour at this pace to tell {} from {}",
                    percent(*ceiling),
                    percent(*baseline)
                )
            }
            Unsure::NoLatency => "no latency for the minute".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AnalysisSpec {
        AnalysisSpec::defaults(OnFailure::Alarm, Advance::Manual, "cutover.toml:3", "cutover.toml:4")
    }

    fn evidence(minutes: u32, new: (u64, u64), old: (u64, u64), latency_ms: f64) -> Evidence {
        Evidence {
            minutes,
            new: Counts { requests: new.0, errors: new.1 },
            old: Counts { requests: old.0, errors: old.1 },
            latency_ms: Some(latency_ms),
        }
    }

    #[test]
    fn no_data_is_never_a_pass() {
        let e = Evidence { minutes: 3, ..Evidence::default() };
        assert_eq!(judge(&spec(), &e), Check::Inconclusive(Unsure::NoData));
        // Requests without latency: not a pass either.
        let e = Evidence { latency_ms: None, ..evidence(5, (5000, 5), (15000, 15), 0.0) };
        assert_eq!(judge(&spec(), &e), Check::Inconclusive(Unsure::NoLatency));
    }

    /// At 1% of 800 requests a minute new sees 8 a minute: 0 errors in one
    /// minute cannot tell 1% from old's 0.3%.
    #[test]
    fn eight_requests_without_an_error_are_not_enough() {
        let e = evidence(1, (8, 0), (792, 2), 80.0);
        let Check::Inconclusive(Unsure::Thin { minutes, ceiling, baseline }) = judge(&spec(), &e) else {
            panic!("{:?}", judge(&spec(), &e))
        };
        // The threshold is the tighter of the 1% ceiling and old's 0.25%
        // plus the 0.5 points allowed. Projected at 8 requests a minute
        // without an error (old at 792 with its share), both bounds are
        // under their limits after 49 more minutes: computed independently
        // in Python with scipy 1.17.1, the exact upper bound
        // `beta.ppf(0.95, 1, 8 + 8k)` and the square-and-add of the exact
        // bounds of 0/(8 + 8k) and (2 + 2k)/(792 + 792k), for k = 1, 2,
        // ...: the first k with upper bounds <= 0.01 and <= 0.005 is 49.
        assert!((ceiling - (2.0 / 792.0 + 0.005)).abs() < 1e-12, "{ceiling}");
        assert!((baseline - 2.0 / 792.0).abs() < 1e-12);
        assert_eq!(minutes, Some(49));
        assert_eq!(
            Unsure::Thin { minutes: Some(14), ceiling: 0.01, baseline: 0.003 }.text(),
            "thin traffic, ~14 min more at this weight to tell 1.0% from 0.3%"
        );
    }

    #[test]
    fn a_healthy_new_side_with_enough_traffic_passes() {
        // 5 minutes at 25% of 4,000 a minute: 5,000 requests, 0.3% errors
        // on both sides.
        let e = evidence(5, (5000, 15), (15000, 45), 120.0);
        assert_eq!(judge(&spec(), &e), Check::Pass);
    }

    #[test]
    fn a_regression_fails_on_the_increase_before_the_ceiling() {
        // New at 0.9%, old at 0.2%: under the 1% ceiling, but 0.7 points
        // above old, for sure, with 12,000 requests.
        let e = evidence(4, (12000, 108), (36000, 72), 120.0);
        let Check::Fail(Failed::Increase { share, old, allowed }) = judge(&spec(), &e) else {
            panic!("{:?}", judge(&spec(), &e))
        };
        assert_eq!((share, old, allowed), (0.009, 0.002, 0.005));
        assert_eq!(Failed::Increase { share, old, allowed }.text(), "5xx 0.9% vs old 0.2%");
        // Far above the ceiling: that is said first.
        let e = evidence(1, (1000, 31), (3000, 6), 120.0);
        assert!(matches!(judge(&spec(), &e), Check::Fail(Failed::ErrorRate { .. })));
        assert_eq!(Failed::ErrorRate { share: 0.031, ceiling: 0.01 }.text(), "5xx 3.1% > 1.0%");
    }

    #[test]
    fn a_slow_minute_fails_on_latency() {
        let e = evidence(4, (5000, 15), (15000, 45), 740.0);
        assert_eq!(judge(&spec(), &e), Check::Fail(Failed::Latency { ms: 740.0, ceiling: 500.0 }));
    }

    /// A single error in a thin minute is no failure: the bound says how
    /// little one error in 40 requests proves.
    #[test]
    fn one_error_in_a_thin_minute_is_not_a_failure() {
        let e = evidence(1, (40, 1), (3960, 12), 100.0);
        assert!(matches!(judge(&spec(), &e), Check::Inconclusive(Unsure::Thin { .. })), "{:?}", judge(&spec(), &e));
    }

    #[test]
    fn without_old_traffic_the_ceiling_alone_judges() {
        let e = evidence(5, (5000, 5), (0, 0), 100.0);
        assert_eq!(judge(&spec(), &e), Check::Pass);
        let e = evidence(5, (5000, 100), (0, 0), 100.0);
        assert!(matches!(judge(&spec(), &e), Check::Fail(Failed::ErrorRate { .. })));
    }

    #[test]
    fn percentages_read_well() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.0002), "0.02%");
        assert_eq!(percent(0.003), "0.3%");
        assert_eq!(percent(0.031), "3.1%");
        assert_eq!(percent(0.5), "50%");
    }
}

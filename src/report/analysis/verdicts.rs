//! The analysis in the report: each step's verdict at the weight it set,
//! how the route was judged and its minutes, and what the console did by
//! itself (or said it would have).
//!
//! A step's verdict comes from the verdicts the replay's reducer reached,
//! not from the marks: a mark says only that the verdict changed kind,
//! not which weights it was of, and a verdict reached before a step was
//! read back is still the previous weight's.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::steps::weight_outcome;
use crate::app::{App, Judged, Mark, Marked, RouteState, Verdict};
use crate::domain::analysis::AnalysisSpec;
use crate::domain::{Minute, Weights, clock};
use crate::report::builder::VerdictAt;
use crate::report::{AutomaticAction, JudgedMinute, RouteAnalysis, Step, StepVerdict, Window};

/// The verdict of step `s`: what the route's step analysis said of the
/// weights `s` set, from the step until the route left them (the next
/// step, or a change read from elsewhere). The end is inclusive: a step
/// that fails is reverted at the very instant of its verdict.
pub(super) fn step_verdict(
    s: &Step,
    next: Option<Timestamp>,
    history: &[(Timestamp, Weights)],
    verdicts: &[VerdictAt],
) -> StepVerdict {
    let reached = history.iter().position(|(at, w)| *at >= s.at && *w == s.after);
    let left = reached.and_then(|i| history.get(i + 1)).map(|(at, _)| *at);
    let end = next.into_iter().chain(left).min();
    let mine: Vec<&VerdictAt> = verdicts
        .iter()
        .filter(|v| v.at >= s.at && end.is_none_or(|e| v.at <= e))
        .filter(|v| v.weights == s.after && v.verdict != Verdict::Waiting)
        .collect();
    let last = mine.last();
    let decided = mine.iter().find(|v| matches!(v.verdict, Verdict::Ready | Verdict::Failed(_)));
    StepVerdict {
        verdict: last.map(|v| v.verdict.name()),
        evidence: last.map(|v| v.verdict.text()),
        verdict_at: last.map(|v| v.verdict_at),
        decision: decided.map(|v| v.verdict.name()),
        // A step to the weights the route already had was decided no
        // earlier than the step.
        decided_at: decided.map(|v| v.verdict_at.max(s.at)),
        decision_secs: decided.map(|v| v.verdict_at.as_second().max(s.at.as_second()) - s.at.as_second()),
    }
}

/// How the route is judged, and its minutes judged from `from` to `to`.
pub(super) fn route_analysis(
    spec: &AnalysisSpec,
    judged: &BTreeMap<Minute, Judged>,
    span: (Minute, Minute),
) -> RouteAnalysis {
    // Shares as percentages, without the float's tail (0.005 × 100).
    let percent = |share: Option<f64>| share.map(|s| (s * 100.0 * 1e9).round() / 1e9);
    RouteAnalysis {
        max_error_rate_percent: percent(spec.max_error_rate),
        max_error_increase_percent: percent(spec.max_error_increase),
        max_latency_ms: spec.max_latency_ms,
        bake_secs: spec.bake_secs,
        failure_limit: spec.failure_limit,
        confidence: spec.confidence,
        on_failure: spec.on_failure,
        on_failure_at: spec.on_failure_at.clone(),
        advance: spec.advance,
        advance_at: spec.advance_at.clone(),
        minutes: judged
            .range(span.0..=span.1)
            .map(|(m, j)| JudgedMinute { at: m.start(), check: check_name(*j) })
            .collect(),
    }
}

fn check_name(j: Judged) -> &'static str {
    match j {
        Judged::Pass => "pass",
        Judged::Fail => "fail",
        Judged::Unsure => "inconclusive",
    }
}

/// The text of the last analysis mark of `route` with `verdict` before
/// mark `i`, and when it was made.
fn said_before(marks: &[Mark], i: usize, route: &str, verdict: &str) -> Option<(Timestamp, String)> {
    marks[..i].iter().rev().find_map(|m| match &m.what {
        Marked::Analysis { route: r, verdict: v, text } if r == route && v == verdict => Some((m.at, text.clone())),
        _ => None,
    })
}

/// Every automatic revert and autopilot step, every revert said and not
/// made, and the analysis going blind and seeing again, in the window.
/// `marks` are all of the session's, in time order, as the steps were
/// numbered from.
pub(super) fn automatic_actions(
    marks: &[Mark],
    app: &App,
    history: &[Vec<(Timestamp, Weights)>],
    window: &Window,
) -> Vec<AutomaticAction> {
    let route_of = |name: &str| app.routes.iter().position(|r| r.spec.name == name);
    let share = |name: &str, w: Option<Weights>| {
        let route: Option<&RouteState> = route_of(name).map(|i| &app.routes[i]);
        route.zip(w).and_then(|(r, w)| r.kind().share_new(w))
    };
    let mut steps = 0;
    let mut out = Vec::new();
    for (i, mark) in marks.iter().enumerate() {
        let action = match &mark.what {
            Marked::Weights { route, from, to, who, proposal, armed } => {
                steps += 1;
                let Some(armed) = armed else { continue };
                let kind = armed.by.name();
                let why = if kind == "revert" {
                    said_before(marks, i, route, "fail").map(|(_, text)| text)
                } else {
                    let ready = said_before(marks, i, route, "ready").map(|(_, text)| text);
                    let countdown = said_before(marks, i, route, "countdown").map(|(at, _)| at);
                    match (ready, countdown) {
                        (Some(r), Some(c)) => Some(format!("{r}; counted down from {}", clock(c))),
                        (r, _) => r,
                    }
                };
                let outcome = weight_outcome(marks, i, route).and_then(|j| match &marks[j].what {
                    Marked::Outcome { ok, text, .. } => Some((*ok, text.clone())),
                    _ => None,
                });
                AutomaticAction {
                    at: mark.at,
                    route: route.clone(),
                    kind,
                    step: Some(steps),
                    before: *from,
                    after: Some(*to),
                    before_share_new_percent: share(route, *from),
                    after_share_new_percent: share(route, Some(*to)),
                    who: Some(who.clone()),
                    armed_at: Some(armed.at.clone()),
                    armed_by: Some(armed.operator.clone()),
                    text: proposal.clone(),
                    why,
                    verified: Some(outcome.as_ref().is_some_and(|(ok, _)| *ok)),
                    outcome: outcome.map(|(_, text)| text),
                }
            }
            Marked::Analysis { route, verdict, text } => {
                let kind = match verdict.as_str() {
                    "would revert" => "would_revert",
                    "blind" => "blind",
                    "sees" => "sees",
                    _ => continue,
                };
                let spec = route_of(route).and_then(|r| app.routes[r].spec.analysis.as_ref());
                // The weights it found: the last read at that time.
                let found = (kind == "would_revert")
                    .then(|| route_of(route).and_then(|r| history[r].iter().rev().find(|(at, _)| *at <= mark.at)))
                    .flatten()
                    .map(|(_, w)| *w);
                AutomaticAction {
                    at: mark.at,
                    route: route.clone(),
                    kind,
                    step: None,
                    before: found,
                    after: None,
                    before_share_new_percent: share(route, found),
                    after_share_new_percent: None,
                    who: None,
                    armed_at: (kind == "would_revert").then(|| spec.map(|s| s.on_failure_at.clone())).flatten(),
                    armed_by: None,
                    text: text.clone(),
                    why: (kind == "would_revert")
                        .then(|| said_before(marks, i, route, "fail").map(|(_, text)| text))
                        .flatten(),
                    outcome: None,
                    verified: None,
                }
            }
            _ => continue,
        };
        if window.contains(action.at) {
            out.push(action);
        }
    }
    out
}

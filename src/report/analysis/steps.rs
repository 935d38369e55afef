//! The steps: every confirmed weight change, numbered over the session,
//! with the executor's answer and what the side it sends traffic to did
//! in the minutes before and after it.

use jiff::Timestamp;

use crate::app::{Mark, Marked};
use crate::domain::{Minute, PerSide, RouteKind, Side, Weights};
use crate::report::series::Series;
use crate::report::{Figures, Followed, Step};

/// How many whole minutes before and after a step its figures cover: long
/// enough to smooth a minute's noise, short enough to be the step's own.
pub const STEP_WINDOW_MINUTES: i64 = 5;

/// The executor's answer to a weight change: the first outcome after it
/// for the same route.
pub(super) fn weight_outcome(marks: &[Mark], i: usize, route: &str) -> Option<usize> {
    let prefix = format!("route {route}:");
    (i + 1..marks.len())
        .find(|j| matches!(&marks[*j].what, Marked::Outcome { effect, .. } if effect.starts_with(&prefix)))
}

/// Every confirmed weight change, numbered in order; the figures around
/// each are filled in per route.
pub(super) fn steps(marks: &[Mark]) -> Vec<Step> {
    let mut rows = Vec::new();
    for (i, mark) in marks.iter().enumerate() {
        let Marked::Weights { route, from, to, who, proposal, armed } = &mark.what else { continue };
        let outcome = weight_outcome(marks, i, route).and_then(|j| match &marks[j].what {
            Marked::Outcome { ok, text, .. } => Some((*ok, text.clone())),
            _ => None,
        });
        let empty =
            |at: Timestamp| Figures { from: at, to: at, minutes: 0, requests: 0.0, target_5xx: 0.0, percent: None };
        rows.push(Step {
            number: rows.len() + 1,
            at: mark.at,
            who: who.clone(),
            armed: armed.clone(),
            proposal: proposal.clone(),
            route: route.clone(),
            before: *from,
            after: *to,
            before_share_new_percent: None,
            after_share_new_percent: None,
            revert: false,
            verified: outcome.as_ref().is_some_and(|(ok, _)| *ok),
            outcome: outcome.map(|(_, text)| text),
            secs_at_previous: None,
            since_first_read: false,
            target_side: Side::New,
            before_figures: empty(mark.at),
            after_figures: empty(mark.at),
            followed: None,
            analysis: None,
        });
    }
    rows
}

/// A step of the route with what the route's history and figures say
/// around it: the shares, whether it was a revert, how long the weights
/// before it had been in place, and its side's figures before and after.
pub(super) fn around(
    mut s: Step,
    kind: RouteKind,
    history: &[(Timestamp, Weights)],
    series: &PerSide<Series>,
    followed: &[Followed],
) -> Step {
    s.before_share_new_percent = s.before.and_then(|w| kind.share_new(w));
    s.after_share_new_percent = kind.share_new(s.after);
    s.revert = matches!((s.before_share_new_percent, s.after_share_new_percent), (Some(b), Some(a)) if a < b);
    s.target_side = if s.revert { Side::Old } else { Side::New };
    // Since the change before it, as the console saw the weights.
    let previous = history.iter().rev().find(|(at, w)| *at < s.at && Some(*w) == s.before).map(|(at, _)| *at);
    s.since_first_read = previous.is_some() && previous == history.first().map(|(at, _)| *at);
    s.secs_at_previous = previous.map(|at| s.at.as_second() - at.as_second());
    let minute = Minute::containing(s.at);
    let next = history.iter().find(|(at, _)| *at > s.at).map(|(at, _)| Minute::containing(*at));
    let side = series.get(s.target_side);
    // From the previous change's next minute at the earliest: the
    // minutes before are the setting before that.
    let first = minute.offset(-STEP_WINDOW_MINUTES);
    let first = match previous {
        // The first read's weights may have been there all along.
        Some(p) if !s.since_first_read => first.max(Minute::containing(p).offset(1)),
        _ => first,
    };
    s.before_figures = figures(side, first, minute.offset(-1));
    // Up to the next change's minute, which is partly the next setting's.
    let last = minute.offset(STEP_WINDOW_MINUTES);
    let last = next.map_or(last, |n| last.min(n.offset(-1)));
    s.after_figures = figures(side, minute.offset(1), last);
    s.followed = followed.iter().find(|f| f.at >= s.at).map(|f| f.text.clone());
    s
}

/// A side's requests and target 5xx over the whole minutes `from` to `to`.
fn figures(s: &Series, from: Minute, to: Minute) -> Figures {
    let (mut minutes, mut requests, mut errors) = (0, 0.0, 0.0);
    // No whole minute between two changes a minute apart: nothing to count.
    if from <= to {
        for (_, r) in s.requests.range(from..=to) {
            minutes += 1;
            requests += r;
        }
        for (m, e) in s.target_5xx.range(from..=to) {
            if s.requests.contains_key(m) {
                errors += e;
            }
        }
    }
    Figures {
        from: from.start(),
        to: to.max(from).start(),
        minutes,
        requests,
        target_5xx: errors,
        percent: (requests > 0.0).then(|| errors * 100.0 / requests),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_no_whole_minute_are_no_data_and_a_side_without_requests_too() {
        let mut s = Series::default();
        s.requests.insert(Minute(10), 200.0);
        s.target_5xx.insert(Minute(10), 3.0);
        // Two changes in neighbouring minutes: nothing between them.
        let none = figures(&s, Minute(11), Minute(10));
        assert_eq!((none.minutes, none.percent), (0, None));
        let one = figures(&s, Minute(9), Minute(11));
        assert_eq!((one.minutes, one.requests, one.target_5xx, one.percent), (1, 200.0, 3.0, Some(1.5)));
        // A 5xx point with no request point is no data, not an error rate.
        s.target_5xx.insert(Minute(12), 5.0);
        assert_eq!(figures(&s, Minute(12), Minute(12)).percent, None);
    }
}

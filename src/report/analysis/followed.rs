//! How long a DNS route's clients took to follow each change: the first
//! minute whose observed share came to the share set, by the rule of
//! `domain::converged`.

use jiff::Timestamp;

use crate::app::RouteState;
use crate::domain::{CONVERGED_POINTS, Minute, Side, Weights, clock, converged};
use crate::report::Followed;

/// For each change after the first read: the first minute, from the
/// change's own on and before the next change's, whose observed share is
/// within `CONVERGED_POINTS` of the share set.
pub(super) fn followed(route: &RouteState, history: &[(Timestamp, Weights)]) -> Vec<Followed> {
    let kind = route.kind();
    let mut out = Vec::new();
    for (i, (at, w)) in history.iter().enumerate().skip(1) {
        let Some(set) = kind.share_new(*w) else { continue };
        let from = Minute::containing(*at);
        let next_change = history.get(i + 1).map(|(t, _)| *t);
        // Up to the next change's minute (whose traffic is partly the next
        // setting's), or the last minute read.
        let last_read = Side::BOTH.iter().filter_map(|s| route.metrics.get(*s).requests.last_minute()).max();
        let end = next_change.map(|t| Minute::containing(t).offset(-1)).or(last_read);
        let mut after_minutes = None;
        let mut last_seen = None;
        if let Some(end) = end {
            let mut m = from;
            while m <= end {
                if let Some(seen) = route.observed_share(m) {
                    if converged(seen, set) {
                        after_minutes = Some(m.0 - from.0);
                        break;
                    }
                    last_seen = Some(seen);
                }
                m = m.offset(1);
            }
        }
        let points = CONVERGED_POINTS;
        let text = match (after_minutes, last_seen, next_change) {
            (Some(0), ..) => "clients followed within the minute of the change".to_string(),
            (Some(n), ..) => format!("clients followed in {n} min"),
            (None, None, _) => "no requests observed after the change".to_string(),
            (None, Some(seen), Some(next)) => format!(
                "not within {points} points before the next change at {} (last seen {seen:.1}% vs set {set}%)",
                clock(next)
            ),
            (None, Some(seen), None) => {
                format!("not within {points} points by the end of the recording (last seen {seen:.1}% vs set {set}%)")
            }
        };
        out.push(Followed {
            at: *at,
            set_percent: set,
            after_minutes,
            last_seen_percent: if after_minutes.is_none() { last_seen } else { None },
            next_change,
            text,
        });
    }
    out
}

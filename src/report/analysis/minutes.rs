//! A route's minutes: each side's requests, target 5xx and healthy
//! targets, its load balancers' own 5xx, and the share set and observed,
//! for every minute with a datapoint or a read.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::domain::{Minute, PerSide, RouteKind, Weights, observed_share};
use crate::report::series::{Series, percent};
use crate::report::{MinuteRow, SideMinute};

/// The minutes from `first` to `last` that have something to show.
pub(super) fn rows(
    kind: RouteKind,
    history: &[(Timestamp, Weights)],
    series: &PerSide<Series>,
    (lb_5xx, lb_requests): &(BTreeMap<Minute, f64>, BTreeMap<Minute, f64>),
    (first, last): (Minute, Minute),
) -> Vec<MinuteRow> {
    let mut minutes = Vec::new();
    let mut m = first;
    while m <= last {
        let side = |s: &Series| {
            let requests = s.requests.get(&m).copied();
            let errors = s.target_5xx.get(&m).copied();
            let health = s.health.get(&m).copied();
            SideMinute {
                requests,
                target_5xx: requests.map(|_| errors.unwrap_or(0.0)),
                target_5xx_percent: percent(requests, errors),
                healthy_targets: health.map(|h| h.0),
                targets: health.map(|h| h.1),
            }
        };
        let row = MinuteRow {
            at: m.start(),
            old: side(&series.old),
            new: side(&series.new),
            lb_5xx: lb_5xx.get(&m).copied(),
            lb_5xx_percent: lb_5xx.get(&m).and_then(|e| {
                let requests = lb_requests.get(&m).copied().unwrap_or(0.0);
                (requests > 0.0).then(|| e * 100.0 / (requests + e))
            }),
            set_share_new_percent: history
                .iter()
                .rev()
                .find(|(at, _)| *at < m.offset(1).start())
                .and_then(|(_, w)| kind.share_new(*w)),
            observed_share_new_percent: observed(series, m),
        };
        let empty = row.old.requests.is_none()
            && row.new.requests.is_none()
            && row.old.targets.is_none()
            && row.lb_5xx.is_none();
        if !empty {
            minutes.push(row);
        }
        m = m.offset(1);
    }
    minutes
}

/// New's share of the requests of both sides in a minute, in percent.
fn observed(series: &PerSide<Series>, m: Minute) -> Option<f64> {
    observed_share(series.old.requests.get(&m).copied(), series.new.requests.get(&m).copied())
}

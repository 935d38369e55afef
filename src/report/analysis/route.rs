//! One route's section: the weights in effect over the window, its steps,
//! a DNS route's clients following, and its minutes.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::app::RouteState;
use crate::domain::{Minute, PerSide, Weights};
use crate::report::series::Series;
use crate::report::{Followed, RouteReport, Step, WeightsAt, Window};

pub(super) fn route_report(
    route: &RouteState,
    history: &[(Timestamp, Weights)],
    steps: &[Step],
    series: &PerSide<Series>,
    lbs: &(BTreeMap<Minute, f64>, BTreeMap<Minute, f64>),
    window: Window,
    chart_from: Timestamp,
) -> RouteReport {
    let kind = route.kind();
    let weights_at =
        |(at, w): &(Timestamp, Weights)| WeightsAt { at: *at, weights: *w, share_new_percent: kind.share_new(*w) };
    // The pair in effect at the window's start, then the changes inside it.
    let mut shown: Vec<WeightsAt> = Vec::new();
    let mut first_read = None;
    if let Some(before) = history.iter().rev().find(|(at, _)| *at <= window.from) {
        shown.push(WeightsAt { at: window.from.max(before.0), ..weights_at(before) });
        first_read = Some(before.0);
    }
    first_read = first_read.or(history.iter().find(|(at, _)| *at > window.from).map(|(at, _)| *at));
    shown.extend(history.iter().filter(|(at, _)| window.from < *at && *at <= window.to).map(weights_at));
    let followed: Vec<Followed> = if kind.clients_follow_late() {
        super::followed::followed(route, history).into_iter().filter(|f| window.contains(f.at)).collect()
    } else {
        Vec::new()
    };
    let steps: Vec<Step> = steps
        .iter()
        .filter(|s| s.route == route.spec.name && window.contains(s.at))
        .cloned()
        .map(|s| super::steps::around(s, kind, history, series, &followed))
        .collect();
    let span = (Minute::containing(chart_from), Minute::containing(window.to));
    let minutes = super::minutes::rows(kind, history, series, lbs, span);
    RouteReport {
        route: route.spec.name.clone(),
        kind,
        ttl_secs: if kind.clients_follow_late() { route.ttl() } else { None },
        history: shown,
        first_read,
        steps,
        followed,
        minutes,
    }
}

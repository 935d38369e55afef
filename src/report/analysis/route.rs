//! One route's section: the weights in effect over the window, its steps
//! (with their verdicts, where the route is judged), a DNS route's
//! clients following, and its minutes.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::app::{Judged, RouteState};
use crate::domain::{Minute, PerSide, Weights};
use crate::report::builder::VerdictAt;
use crate::report::series::Series;
use crate::report::{Followed, RouteReport, Step, WeightsAt, Window};

/// What the builder gathered of one route as the stream was applied.
pub(super) struct Gathered<'a> {
    pub(super) history: &'a [(Timestamp, Weights)],
    pub(super) series: &'a PerSide<Series>,
    /// Its load balancers' own 5xx and their requests, per minute.
    pub(super) lbs: (BTreeMap<Minute, f64>, BTreeMap<Minute, f64>),
    pub(super) verdicts: &'a [VerdictAt],
    pub(super) judged: &'a BTreeMap<Minute, Judged>,
}

pub(super) fn route_report(
    route: &RouteState,
    gathered: Gathered<'_>,
    steps: &[Step],
    window: Window,
    chart_from: Timestamp,
) -> RouteReport {
    let Gathered { history, series, lbs, verdicts, judged } = gathered;
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
    let all: Vec<&Step> = steps.iter().filter(|s| s.route == route.spec.name).collect();
    let spec = route.spec.analysis.as_ref();
    let steps: Vec<Step> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| window.contains(s.at))
        .map(|(k, s)| {
            let mut s = super::steps::around((*s).clone(), kind, history, series, &followed);
            // Judged until the route's next step, in the window or not.
            let next = all.get(k + 1).map(|n| n.at);
            s.analysis = spec.map(|_| super::verdicts::step_verdict(&s, next, history, verdicts));
            s
        })
        .collect();
    let span = (Minute::containing(chart_from), Minute::containing(window.to));
    let minutes = super::minutes::rows(kind, history, series, &lbs, span);
    let analysis = spec.map(|spec| super::verdicts::route_analysis(spec, judged, span));
    RouteReport {
        route: route.spec.name.clone(),
        kind,
        ttl_secs: if kind.clients_follow_late() { route.ttl() } else { None },
        history: shown,
        first_read,
        steps,
        followed,
        minutes,
        analysis,
    }
}

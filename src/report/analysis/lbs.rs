//! The load balancers' own figures per route: an ALB shared by several
//! routes, or one per side behind a DNS route.

use std::collections::BTreeMap;

use crate::app::{App, RouteState};
use crate::domain::{Minute, PerSide, Side};
use crate::report::series::Series;

/// Each route's load balancers, for the summary's note.
pub(super) fn lb_names(app: &App) -> Vec<Vec<String>> {
    app.routes
        .iter()
        .map(|r| {
            let mut lbs: Vec<String> =
                Side::BOTH.iter().filter_map(|s| r.load_balancer(*s).map(String::from)).collect();
            lbs.dedup();
            lbs
        })
        .collect()
}

/// Every route's requests per minute through each load balancer: what a
/// load balancer's own 5xx are a share of.
pub(super) fn lb_requests(app: &App, series: &[PerSide<Series>]) -> BTreeMap<String, BTreeMap<Minute, f64>> {
    let mut out: BTreeMap<String, BTreeMap<Minute, f64>> = BTreeMap::new();
    for (route, s) in app.routes.iter().zip(series) {
        for side in Side::BOTH {
            let Some(lb) = route.load_balancer(side) else { continue };
            let per_minute = out.entry(lb.to_string()).or_default();
            for (m, r) in &s.get(side).requests {
                *per_minute.entry(*m).or_default() += r;
            }
        }
    }
    out
}

/// A per-load-balancer series summed over the route's load balancers: one
/// ALB for an ALB route, each side's own for a DNS route.
pub(super) fn route_lb(route: &RouteState, lbs: &BTreeMap<String, BTreeMap<Minute, f64>>) -> BTreeMap<Minute, f64> {
    let mut names: Vec<&str> = Side::BOTH.iter().filter_map(|s| route.load_balancer(*s)).collect();
    names.dedup();
    let mut out: BTreeMap<Minute, f64> = BTreeMap::new();
    for name in names {
        for (m, v) in lbs.get(name).into_iter().flatten() {
            *out.entry(*m).or_default() += v;
        }
    }
    out
}

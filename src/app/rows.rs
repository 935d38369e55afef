//! Figures derived from the state for display: computed on demand from
//! the trimmed state rather than stored, so they can never disagree with it.

use crate::domain::{Health, Minute, PerSide, Side, Weights, Workload, WorkloadKey, WorkloadKind, error_rate};

use super::{LbMetrics, RouteState, State};
use crate::domain::SingletonSpec;

/// One side of a workload row.
#[derive(Debug, Clone)]
pub struct SideView<'a> {
    pub workload: &'a Workload,
    pub restarts: u32,
    /// Pods waiting in CrashLoopBackOff or failing to pull their image.
    pub crashing: u32,
    pub pods: u32,
    /// Pods pending without a failure: on their way up.
    pub starting: u32,
    pub health: Health,
}

/// A workload matched by namespace/name across the two sides.
#[derive(Debug, Clone)]
pub struct WorkloadRow<'a> {
    pub key: &'a WorkloadKey,
    pub sides: PerSide<Option<SideView<'a>>>,
    /// Both sides exist and their images differ: a deploy reached one side only.
    pub drift: bool,
    pub singleton: Option<&'a SingletonSpec>,
    /// A singleton with something running on both sides at once.
    pub singleton_conflict: bool,
}

impl WorkloadRow<'_> {
    pub fn kind_label(&self) -> &'static str {
        self.sides.old.as_ref().or(self.sides.new.as_ref()).map(|s| s.workload.kind.short()).unwrap_or("?")
    }

    /// The worst health of the two sides, for sorting and summary.
    pub fn worst(&self) -> Health {
        Side::BOTH.iter().filter_map(|s| self.sides.get(*s).as_ref().map(|v| v.health)).max().unwrap_or(Health::Idle)
    }
}

impl State {
    /// Keys of all workloads on either side, in display order.
    pub fn workload_keys(&self) -> Vec<&WorkloadKey> {
        self.workload_pairs().into_iter().map(|(k, _)| k).collect()
    }

    /// Every workload key with what each side has under it, in display
    /// order. Both maps are sorted: merged in one pass, with no lookups
    /// (this runs every frame, over thousands of workloads).
    pub fn workload_pairs(&self) -> Vec<(&WorkloadKey, PerSide<Option<&Workload>>)> {
        let mut old = self.clusters.old.workloads.iter().peekable();
        let mut new = self.clusters.new.workloads.iter().peekable();
        let mut pairs = Vec::with_capacity(old.len().max(new.len()));
        loop {
            let next = match (old.peek(), new.peek()) {
                (Some((o, _)), Some((n, _))) => match o.cmp(n) {
                    std::cmp::Ordering::Less => old.next().map(|(k, w)| (k, PerSide::new(Some(w), None))),
                    std::cmp::Ordering::Greater => new.next().map(|(k, w)| (k, PerSide::new(None, Some(w)))),
                    std::cmp::Ordering::Equal => {
                        let (_, n) = new.next().unzip();
                        old.next().map(|(k, w)| (k, PerSide::new(Some(w), n)))
                    }
                },
                (Some(_), None) => old.next().map(|(k, w)| (k, PerSide::new(Some(w), None))),
                (None, _) => new.next().map(|(k, w)| (k, PerSide::new(None, Some(w)))),
            };
            match next {
                Some(pair) => pairs.push(pair),
                None => return pairs,
            }
        }
    }

    pub fn workload_row<'a>(&'a self, key: &'a WorkloadKey) -> WorkloadRow<'a> {
        let found = PerSide::new(self.clusters.old.workloads.get(key), self.clusters.new.workloads.get(key));
        self.row_of(key, found)
    }

    /// The row of `key`, given what each side has under it.
    pub fn row_of<'a>(&'a self, key: &'a WorkloadKey, found: PerSide<Option<&'a Workload>>) -> WorkloadRow<'a> {
        let side_view = |side: Side| {
            let cluster = self.clusters.get(side);
            let workload = (*found.get(side))?;
            // Kept up to date as pods change: a row costs the same at 5 or
            // 5,000 pods.
            let tally = cluster.tally(key);
            let mut health = workload.health();
            if tally.crashing > 0 && health != Health::Failing {
                health = Health::Degraded;
            }
            // None ready yet, but nothing failing and pods on their way:
            // starting, not failing.
            if health == Health::Failing
                && matches!(workload.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet)
                && tally.crashing == 0
                && tally.pending > 0
            {
                health = Health::Degraded;
            }
            Some(SideView {
                workload,
                restarts: tally.restarts,
                crashing: tally.crashing,
                pods: tally.pods,
                starting: tally.pending,
                health,
            })
        };
        let sides = PerSide::new(side_view(Side::Old), side_view(Side::New));
        let drift = match (&sides.old, &sides.new) {
            (Some(o), Some(n)) => o.workload.images != n.workload.images,
            _ => false,
        };
        let singleton = self.singleton_for(key);
        let singleton_conflict = singleton.is_some_and(|s| {
            Side::BOTH
                .iter()
                .all(|side| self.clusters.get(*side).workloads.get(s.key(*side)).is_some_and(Workload::is_active))
        });
        WorkloadRow { key, sides, drift, singleton, singleton_conflict }
    }

    pub fn workload_rows(&self) -> Vec<WorkloadRow<'_>> {
        self.workload_pairs().into_iter().map(|(k, found)| self.row_of(k, found)).collect()
    }

    pub fn route_summary<'a>(&'a self, route: &'a RouteState) -> RouteSummary<'a> {
        let latest = Side::BOTH.iter().filter_map(|s| route.metrics.get(*s).requests.last_minute()).max();
        let minute = latest.unwrap_or(Minute::containing(self.now).offset(-1));
        let side = |s: Side| {
            let m = route.metrics.get(s);
            let requests = m.requests.get(minute);
            SideFigures {
                requests,
                error_rate: error_rate(requests, m.target_5xx.get(minute)),
                latency_ms: m.latency_ms.get(minute),
            }
        };
        let figures = PerSide::new(side(Side::Old), side(Side::New));
        let observed_new = route.observed_share(minute);
        let lb = |s: Side| route.load_balancer(s).map(|lb| self.load_balancers.get(lb));
        let lb = PerSide::new(lb(Side::Old), lb(Side::New));
        RouteSummary { route, minute, weights: route.weights(), figures, observed_new, lb }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideFigures {
    /// Requests in the minute.
    pub requests: Option<f64>,
    /// Target 5xx as a share (0..1).
    pub error_rate: Option<f64>,
    pub latency_ms: Option<f64>,
}

/// The numbers of a route's latest complete minute.
#[derive(Debug, Clone)]
pub struct RouteSummary<'a> {
    pub route: &'a RouteState,
    pub minute: Minute,
    pub weights: Option<Weights>,
    pub figures: PerSide<SideFigures>,
    /// Percent of requests that reached the new side in that minute.
    pub observed_new: Option<f64>,
    /// Each side's load balancer, once known (the same one for an ALB
    /// route), with its series if any datapoint came.
    pub lb: PerSide<Option<Option<&'a LbMetrics>>>,
}

impl RouteSummary<'_> {
    /// Load-balancer-generated 5xx (502/503/504 and the rest) in the
    /// minute: load balancer wide for an ALB route, both sides' load
    /// balancers together for a DNS route.
    pub fn elb_errors(&self) -> Option<f64> {
        if !self.per_side_lb() {
            return self.elb_errors_on(Side::Old);
        }
        match (self.elb_errors_on(Side::Old), self.elb_errors_on(Side::New)) {
            (None, None) => None,
            (o, n) => Some(o.unwrap_or(0.0) + n.unwrap_or(0.0)),
        }
    }

    /// Whether each side has its own load balancer (a DNS route), so its
    /// load balancer's own 5xx are that side's.
    pub fn per_side_lb(&self) -> bool {
        self.route.kind().per_side_load_balancer()
    }

    /// One side's load balancer's own 5xx in the minute. ALB publishes the
    /// count only for minutes that had one, so with traffic and no point
    /// the count is zero; with neither it is no data.
    pub fn elb_errors_on(&self, side: Side) -> Option<f64> {
        // A known load balancer without a series has had no 5xx yet.
        let lb = (*self.lb.get(side))?;
        if let Some(total) = lb.and_then(|lb| lb.elb_5xx.get(self.minute)) {
            return Some(total);
        }
        let parts = lb.map_or([None; 3], |lb| [&lb.elb_502, &lb.elb_503, &lb.elb_504].map(|s| s.get(self.minute)));
        let has_traffic = if self.per_side_lb() {
            self.figures.get(side).requests.is_some()
        } else {
            self.figures.old.requests.is_some() || self.figures.new.requests.is_some()
        };
        if parts.iter().all(Option::is_none) && !has_traffic {
            return None;
        }
        Some(parts.iter().flatten().sum())
    }
}

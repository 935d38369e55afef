//! The routes' traffic: each route's weights (and the Load Balancer
//! Controller's writes of the rule it owns), the DNS clients following a
//! weighted record as their answers expire, each second's requests and
//! errors by the model of `sim::traffic`, each minute's metrics, and the
//! reads the live pollers would make.

use jiff::Timestamp;

use crate::app::{LbMetric, MetricPoint, Msg, RouteMetric, RouteSpec, SeriesId};
use crate::domain::{
    Backend, Minute, PerSide, ReadDetail, RecordRead, RouteId, RouteKind, RouteRead, Side, Target, TargetState, Weights,
};
use crate::sim::traffic::{self, SideLoad};

use super::World;
use super::scenario::WWW_OPENING;

/// How often the simulated ALB is "read", as the live poller would.
pub(super) const ALB_READ_EVERY_SECS: i64 = 5;
pub(super) const LOAD_BALANCER: &str = "app/photo-api-alb/5e1f0c2a9b7d4e33";
/// The `www` route's load balancers, one per cluster: weighted Route 53
/// records between them, as the EKS blue/green guide has it.
const WWW_LOAD_BALANCERS: [&str; 2] = ["app/photo-www-2022/0b7d1e2f3a4c5d6e", "app/photo-www-2026/9f8e7d6c5b4a3928"];
/// The TTL of the demo's alias records: a load balancer's.
const WWW_TTL_SECS: f64 = 60.0;
/// Who resolves how often: most clients re-resolve within a TTL or two,
/// some (connection pools, mobile apps) keep an answer for minutes, and a
/// tail (JVMs caching forever, resolvers stretching TTLs) for a quarter of
/// an hour. (share of traffic, mean seconds an answer is kept)
const DNS_COHORTS: [(f64, f64); 3] = [(0.72, WWW_TTL_SECS / 2.0), (0.20, WWW_TTL_SECS * 3.0), (0.08, 900.0)];

#[derive(Debug, Clone)]
pub(super) struct SimRoute {
    pub(super) spec: RouteSpec,
    pub(super) weights: Weights,
    /// Requests per minute at the daily mean.
    pub(super) base_rpm: f64,
    /// For a rule the AWS Load Balancer Controller owns: the weights of its
    /// Ingress annotation, and the controller's next write of the rule.
    pub(super) controller: Option<SimController>,
    /// For weighted records: the share to new each cohort of clients still
    /// acts on, as their cached answers expire (see `DNS_COHORTS`).
    pub(super) dns: Option<[f64; 3]>,
}

impl SimRoute {
    /// The share of requests that reach new now, in percent.
    fn observed_new(&self) -> f64 {
        match &self.dns {
            Some(cohorts) => DNS_COHORTS.iter().zip(cohorts).map(|((share, _), seen)| share * seen).sum(),
            None => self.weights.percent_new().unwrap_or(0.0),
        }
    }

    /// The load balancer a side's requests go through.
    fn load_balancer(&self, side: Side) -> &'static str {
        match (&self.dns, side) {
            (None, _) => LOAD_BALANCER,
            (Some(_), Side::Old) => WWW_LOAD_BALANCERS[0],
            (Some(_), Side::New) => WWW_LOAD_BALANCERS[1],
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct SimController {
    pub(super) annotation: Weights,
    pub(super) next_write: Option<Timestamp>,
}

/// How long the demo's Load Balancer Controller takes to reconcile an
/// Ingress change into the rule, and to put back a rule written directly.
pub const CONTROLLER_RECONCILE_SECS: i64 = 8;
pub const CONTROLLER_REVERT_SECS: i64 = 20;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LbTotals {
    pub(super) e502: f64,
    pub(super) e503: f64,
    pub(super) e504: f64,
}

impl World {
    /// The Load Balancer Controller writes the rules it owns back to their
    /// Ingress annotation when its reconcile comes.
    pub(super) fn step_controllers(&mut self) {
        let now = self.now;
        let mut wrote = false;
        for r in &mut self.routes {
            if let Some(c) = r.controller.as_mut()
                && c.next_write.is_some_and(|at| now >= at)
            {
                c.next_write = None;
                wrote |= r.weights != c.annotation;
                r.weights = c.annotation;
            }
        }
        if wrote {
            self.read_routes();
        }
    }

    fn side_load(&self, side: Side, route: &SimRoute) -> SideLoad {
        let cluster = self.sides.get(side);
        let (desired, ready) = route
            .spec
            .workload
            .as_ref()
            .and_then(|k| cluster.workloads.get(k))
            .map(|w| (w.workload.desired, w.workload.ready))
            .unwrap_or((0, 0));
        let now = self.now;
        let resets = cluster.reset_burst_until.is_some_and(|t| t > now);
        SideLoad {
            share: match side {
                Side::Old => 1.0 - route.observed_new() / 100.0,
                Side::New => route.observed_new() / 100.0,
            },
            desired,
            ready,
            reset_rate: if resets && route.spec.name == "api" { cluster.reset_severity } else { 0.0 },
            base_error_rate: match side {
                Side::Old => 0.002,
                // The bad build fails a few percent of what it serves once
                // it takes half the route's traffic.
                Side::New if self.bad_build && route.spec.name == "api" && route.observed_new() >= 50.0 => 0.035,
                Side::New => 0.0015,
            },
            base_latency_ms: match side {
                Side::Old => 92.0,
                Side::New => 78.0,
            },
        }
    }

    pub(super) fn accumulate_traffic(&mut self) {
        let now = self.now;
        if self.www_step.is_some_and(|at| now >= at) {
            self.www_step = None;
            // The opening step of the `www` records, made before the session.
            if let Some(r) = self.routes.iter_mut().find(|r| r.dns.is_some()) {
                r.weights = WWW_OPENING;
            }
            self.read_routes();
        }
        for r in &mut self.routes {
            let set = RouteKind::Route53.share_new(r.weights).unwrap_or(0.0);
            if let Some(cohorts) = r.dns.as_mut() {
                for ((_, keep), seen) in DNS_COHORTS.iter().zip(cohorts.iter_mut()) {
                    *seen += (set - *seen) * (1.0 - (-1.0 / keep).exp());
                }
            }
        }
        for i in 0..self.routes.len() {
            let route = &self.routes[i];
            let rpm = traffic::route_rpm(route.base_rpm, now);
            for side in Side::BOTH {
                let load = self.side_load(side, &self.routes[i]);
                let second = traffic::second(rpm, &load);
                self.minute[i].get_mut(side).add(&second);
                let lb = self.lb_minute.entry(self.routes[i].load_balancer(side)).or_default();
                lb.e502 += second.elb_502;
                lb.e504 += second.elb_504;
                lb.e503 += second.elb_503;
            }
        }
    }

    pub(super) fn close_minute(&mut self, minute: Minute) {
        let mut points = Vec::new();
        for i in 0..self.routes.len() {
            let id = RouteId::of(i);
            for side in Side::BOTH {
                let totals = std::mem::take(self.minute[i].get_mut(side));
                let noise = self.rng.range(0.96, 1.04);
                let requests = (totals.requests * noise).round();
                // CloudWatch has no datapoint for a minute with nothing counted.
                if requests < 1.0 {
                    continue;
                }
                let mut push = |metric, value| {
                    points.push(MetricPoint { series: SeriesId::Route { route: id, side, metric }, minute, value })
                };
                push(RouteMetric::Requests, requests);
                let errors = (totals.target_5xx * noise).round();
                if errors >= 1.0 {
                    push(RouteMetric::Target5xx, errors);
                }
                let latency = totals.latency_ms_sum / totals.requests.max(1e-9) * self.rng.range(0.93, 1.07);
                push(RouteMetric::LatencyMs, (latency * 10.0).round() / 10.0);
            }
        }
        for (name, lb) in std::mem::take(&mut self.lb_minute) {
            let lb_points = [(LbMetric::Elb502, lb.e502), (LbMetric::Elb503, lb.e503), (LbMetric::Elb504, lb.e504)];
            let mut total = 0.0;
            for (metric, value) in lb_points {
                let value = value.round();
                total += value;
                if value >= 1.0 {
                    points.push(MetricPoint {
                        series: SeriesId::LoadBalancer { lb: name.into(), metric },
                        minute,
                        value,
                    });
                }
            }
            if total >= 1.0 {
                let series = SeriesId::LoadBalancer { lb: name.into(), metric: LbMetric::Elb5xx };
                points.push(MetricPoint { series, minute, value: total });
            }
        }
        if !points.is_empty() {
            self.tick();
            self.out.push(Msg::Metrics(points));
        }
    }

    /// One read of every route, as the two live sources send them: the
    /// ALB's routes in one message, the weighted records in another.
    pub(super) fn read_routes(&mut self) {
        let mut albs = Vec::new();
        let mut dns = Vec::new();
        for (i, route) in self.routes.iter().enumerate() {
            let targets = |side: Side| -> Vec<Target> {
                let cluster = self.sides.get(side);
                let Some(key) = &route.spec.workload else { return vec![] };
                cluster
                    .pods
                    .values()
                    .filter(|p| p.pod.owner.as_ref() == Some(key))
                    .map(|p| Target {
                        id: format!("{}:3000", p.ip),
                        state: if p.pod.ready { TargetState::Healthy } else { TargetState::Initial },
                        reason: (!p.pod.ready).then(|| "Elb.RegistrationInProgress".to_string()),
                    })
                    .collect()
            };
            let detail = match &route.spec.backend {
                Backend::Alb(_) => ReadDetail::Alb,
                Backend::Route53(d) => {
                    let record = |side: Side| RecordRead {
                        set_identifier: d.set_identifiers.get(side).clone(),
                        ttl: None,
                        points_at: format!(
                            "dualstack.{}.ap-northeast-1.elb.amazonaws.com.",
                            route.load_balancer(side).split('/').nth(1).unwrap_or_default()
                        ),
                        alias: true,
                        evaluate_target_health: true,
                        health_check: None,
                        load_balancer: Some(route.load_balancer(side).into()),
                    };
                    ReadDetail::Route53 { records: Box::new(PerSide::new(record(Side::Old), record(Side::New))) }
                }
            };
            let read = RouteRead {
                route: RouteId::of(i),
                weights: Some(route.weights),
                others: Vec::new(),
                targets: PerSide::new(targets(Side::Old), targets(Side::New)),
                detail,
            };
            match route.dns {
                None => albs.push(read),
                Some(_) => dns.push(read),
            }
        }
        self.tick();
        self.out.push(Msg::Traffic { at: self.now, routes: albs });
        if !dns.is_empty() {
            self.out.push(Msg::Traffic { at: self.now, routes: dns });
        }
    }
}

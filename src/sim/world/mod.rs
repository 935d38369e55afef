//! The simulated world: two clusters of a Rails-style service, one ALB with
//! two routes, and the incidents a real cutover meets.
//!
//! The world moves in whole simulated seconds and reports what changed as
//! the same `Msg`s the live sources send, so the console cannot tell it
//! from the real thing except by the DEMO banner.
//!
//! This file holds the world's state and its clock: each second runs the
//! incidents and the controllers' writes, then each side's `nodes` and
//! `pods`, then the `routes`' traffic, metrics and reads. `scenario` is
//! the cast it starts with; `writes` carries out the operator's effects.
//! Every draw of the seeded `Rng` comes in the same order, so a seed is
//! one world, minute for minute.

mod lifecycle;
mod nodes;
mod pods;
mod routes;
mod scenario;
mod writes;

pub use routes::{CONTROLLER_RECONCILE_SECS, CONTROLLER_REVERT_SECS};
pub use writes::SELF_HEAL_AFTER_SECS;

use crate::domain::analysis::{Advance, AnalysisSpec, OnFailure};
use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::app::{AppConfig, ClusterDelta, ClusterMeta, Mode, Msg, SourceId, SourceState};
use crate::domain::SingletonSpec;
use crate::domain::{Minute, PerSide, PodKey, RouteId, Side, Weights, WorkloadKey, plus_secs};

use super::rng::Rng;
use super::traffic::MinuteTotals;
use nodes::{DrainKind, SimNode};
use pods::{SimPod, SimWorkload};
use routes::{ALB_READ_EVERY_SECS, LbTotals, SimRoute};
use scenario::{WWW_OPENING, WWW_STEP_BEFORE_SECS};

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// When the live part starts; the world has history before it.
    pub start: Timestamp,
    /// Multiplies worker replicas (and nodes), for large-world benchmarks.
    pub scale: u32,
}

/// Minutes of history the world has when the console first shows it, so
/// the sparklines are full at once.
pub const HISTORY_MINUTES: i64 = 30;

pub struct World {
    rng: Rng,
    now: Timestamp,
    start: Timestamp,
    scale: u32,
    sides: PerSide<SimCluster>,
    metas: PerSide<ClusterMeta>,
    routes: Vec<SimRoute>,
    singletons: Vec<SingletonSpec>,
    /// Accumulated traffic of the current minute, per route.
    minute: Vec<PerSide<MinuteTotals>>,
    /// The load balancers' own 5xx of the current minute, by load balancer.
    lb_minute: BTreeMap<&'static str, LbTotals>,
    /// When the `www` records were set to their opening weights.
    www_step: Option<Timestamp>,
    /// When the next unscripted incident hits the new side.
    next_incident: Timestamp,
    /// Scripted incidents: (when, side, kind); consumed in time order.
    script: Vec<(Timestamp, Side, DrainKind)>,
    out: Vec<Msg>,
    /// The second of the last Tick put in `out`, to avoid duplicates.
    last_tick: Option<Timestamp>,
    node_seq: u32,
    /// A GitOps controller with self-heal on the old side's `app/scheduler`:
    /// once, `SELF_HEAL_AFTER_SECS` after it was scaled to 0, it puts the
    /// replicas back, as Argo CD does to a stopped singleton that its Git
    /// still says runs there. The demo's way to show the alarm for what
    /// others undo.
    self_heal: Option<Timestamp>,
    self_healed: bool,
    /// The build on the new side of `api` is bad: it fails under load, from
    /// half the route's traffic on (the demo's analysis catches it).
    bad_build: bool,
    /// What EC2's records will say of nodes taken away, by when the
    /// console's readers would have it; soonest first.
    outside: Vec<(Timestamp, crate::domain::SignalSeen)>,
    /// The nodes changed since the lifecycle facts were last sent.
    facts_stale: bool,
}

/// One side: its workloads, their pods, its nodes.
#[derive(Debug, Clone, Default)]
struct SimCluster {
    workloads: BTreeMap<WorkloadKey, SimWorkload>,
    pods: BTreeMap<PodKey, SimPod>,
    nodes: BTreeMap<String, SimNode>,
    /// Pods per node, kept with `pods` so scheduling does not scan them all.
    pods_on_node: BTreeMap<String, usize>,
    /// Until when this side's ALB sees connection resets from a drain.
    reset_burst_until: Option<Timestamp>,
    reset_severity: f64,
}

impl SimCluster {
    fn insert_pod(&mut self, pod: SimPod) {
        if let Some(node) = &pod.pod.node {
            *self.pods_on_node.entry(node.clone()).or_default() += 1;
        }
        self.pods.insert(pod.pod.key.clone(), pod);
    }

    fn remove_pod(&mut self, key: &PodKey) -> Option<SimPod> {
        let pod = self.pods.remove(key)?;
        if let Some(count) = pod.pod.node.as_ref().and_then(|n| self.pods_on_node.get_mut(n)) {
            *count = count.saturating_sub(1);
        }
        Some(pod)
    }

    fn place(&mut self, key: &PodKey, node: String) {
        if let Some(pod) = self.pods.get_mut(key) {
            *self.pods_on_node.entry(node.clone()).or_default() += 1;
            pod.pod.node = Some(node);
            pod.pod.reason = Some("ContainerCreating".into());
        }
    }
}

impl World {
    pub fn new(config: &SimConfig) -> World {
        let rng = Rng::new(config.seed);
        let history_start = plus_secs(config.start, -HISTORY_MINUTES * 60);
        // Start on a whole minute so every minute bucket is complete.
        let now = Minute::containing(history_start).start();
        let scale = config.scale.max(1);
        let metas = scenario::clusters();
        let routes = scenario::routes();
        let singletons = scenario::singletons();
        let minute = routes.iter().map(|_| PerSide::default()).collect();
        let mut world = World {
            rng,
            now,
            start: config.start,
            scale,
            sides: PerSide::default(),
            metas,
            routes,
            singletons,
            minute,
            lb_minute: BTreeMap::new(),
            www_step: Some(plus_secs(config.start, -WWW_STEP_BEFORE_SECS)),
            next_incident: plus_secs(config.start, 6 * 60),
            script: scenario::script(config.start),
            out: Vec::new(),
            last_tick: None,
            node_seq: 0,
            self_heal: None,
            self_healed: false,
            bad_build: false,
            outside: Vec::new(),
            facts_stale: true,
        };
        world.populate();
        // Pods created at population are already up: the history starts
        // with a running system.
        for side in Side::BOTH {
            for pod in world.sides.get_mut(side).pods.values_mut() {
                pod.pod.created = plus_secs(now, -scenario::rng_age(&mut world.rng));
            }
        }
        world
    }

    /// The world as `cutover demo` runs it: its plan arms a step analysis
    /// (`api` reverted by itself when a step fails, `www` stepped by the
    /// autopilot when one is ready), and `api`'s new build is bad under
    /// load, so a step to 50% fails within a few minutes.
    pub fn with_analysis(mut self) -> World {
        for (name, on_failure, advance) in
            [("api", OnFailure::Revert, Advance::Manual), ("www", OnFailure::Revert, Advance::Auto)]
        {
            if let Some(r) = self.routes.iter_mut().find(|r| r.spec.name == name) {
                r.spec.analysis =
                    Some(AnalysisSpec::defaults(on_failure, advance, "the demo's plan", "the demo's plan"));
            }
        }
        self.bad_build = true;
        self
    }

    /// The console's configuration for this world: what a plan file gives
    /// the live console.
    pub fn app_config(&self) -> AppConfig {
        AppConfig {
            mode: Mode::Demo,
            title: "photo-api-2026 (demo)".into(),
            clusters: self.metas.clone(),
            routes: self.routes.iter().map(|r| r.spec.clone()).collect(),
            singletons: self.singletons.clone(),
            guards: crate::app::Guards::default(),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Everything the console needs to show the world as it stands, then
    /// the history up to the configured start.
    pub fn initial(&mut self) -> Vec<Msg> {
        self.tick();
        self.out.push(Msg::Source { id: SourceId::Simulator, state: SourceState::Live { last_ok: self.now } });
        for side in Side::BOTH {
            let cluster = self.sides.get(side);
            let mut deltas: Vec<ClusterDelta> = Vec::new();
            deltas.extend(cluster.nodes.values().map(|n| ClusterDelta::Node(n.node.clone())));
            deltas.extend(cluster.workloads.values().map(|w| ClusterDelta::Workload(w.workload.clone())));
            deltas.extend(cluster.pods.values().map(|p| ClusterDelta::Pod(p.pod.clone())));
            // Listed whole, as a live side is once every watch has listed.
            deltas.push(ClusterDelta::Synced);
            self.out.extend(deltas.into_iter().map(|delta| Msg::Cluster { side, delta }));
        }
        // The tags of the rules: the admin rule is the AWS Load Balancer
        // Controller's, the api listener nobody's.
        let owners = self
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| crate::domain::RouteOwners {
                route: RouteId::of(i),
                rule: r.controller.map(|_| crate::domain::Owner::LoadBalancerController {
                    cluster: Some("eks-2026".into()),
                    stack: Some("app/admin".into()),
                    resource: Some("80:1".into()),
                }),
                target_groups: PerSide::new(None, None),
            })
            .collect();
        self.out.push(Msg::RouteOwners { at: self.now, routes: owners, error: None });
        // The world knows when each route's weights were last set: since
        // it began, or (`www`) at its opening step.
        let changes = self
            .routes
            .iter()
            .map(|r| {
                let (at, to) = if r.dns.is_some() {
                    (plus_secs(self.start, -WWW_STEP_BEFORE_SECS), WWW_OPENING)
                } else {
                    (Minute::containing(plus_secs(self.start, -HISTORY_MINUTES * 60)).start(), r.weights)
                };
                crate::domain::PriorChange { route: r.spec.name.clone(), at, to, source: "the simulated world".into() }
            })
            .collect();
        self.out.push(Msg::PriorChanges { changes, recordings: 0 });
        let mut msgs = std::mem::take(&mut self.out);
        msgs.extend(self.advance(self.start));
        self.slow_start();
        self.read_routes();
        msgs.append(&mut self.out);
        msgs
    }

    /// Moves the world forward to `to`, one simulated second at a time.
    pub fn advance(&mut self, to: Timestamp) -> Vec<Msg> {
        while self.now < to {
            self.now = plus_secs(self.now, 1);
            self.step();
        }
        self.tick();
        self.out.push(Msg::Source { id: SourceId::Simulator, state: SourceState::Live { last_ok: self.now } });
        std::mem::take(&mut self.out)
    }

    /// Puts a Tick for the current second before whatever comes next, so
    /// the console stamps derived events (node signals) with world time.
    pub(super) fn tick(&mut self) {
        if self.last_tick != Some(self.now) {
            self.out.push(Msg::Tick { at: self.now });
            self.last_tick = Some(self.now);
        }
    }

    pub(super) fn emit(&mut self, side: Side, delta: ClusterDelta) {
        self.tick();
        self.out.push(Msg::Cluster { side, delta });
    }

    /// One simulated second: incidents, others' writes, each side's nodes,
    /// pods and crons, then the traffic, the minute's metrics and a read.
    fn step(&mut self) {
        let now = self.now;
        self.step_incidents();
        self.step_outside();
        self.step_controllers();
        self.step_self_heal();
        for side in Side::BOTH {
            self.step_nodes(side);
            self.step_pods(side);
            self.step_crons(side);
        }
        self.accumulate_traffic();
        if now.as_second() % 60 == 0 {
            self.close_minute(Minute::containing(now).offset(-1));
        }
        // History needs no ALB reads: only the latest one is ever shown.
        if now >= self.start && now.as_second() % ALB_READ_EVERY_SECS == 0 {
            self.read_routes();
        }
    }
}

/// Inspection and nudges for tests.
impl World {
    /// Sets a route's weights directly (tests; the operator's actions come
    /// through the console).
    pub fn set_weights(&mut self, route: &str, weights: Weights) {
        if let Some(r) = self.routes.iter_mut().find(|r| r.spec.name == route) {
            r.weights = weights;
        }
    }

    /// Starts a drain of a spot node on `side` in the next second (tests).
    pub fn drain_now(&mut self, side: Side, interruption: bool) {
        let kind = if interruption { DrainKind::Interruption } else { DrainKind::Rebalance };
        self.script.insert(0, (plus_secs(self.now, 1), side, kind));
    }

    /// Turns the scripted and random incidents off (tests of the baseline).
    pub fn calm(&mut self) {
        self.script.clear();
        self.next_incident = plus_secs(self.now, 365 * 86400);
    }

    pub fn pod_count(&self, side: Side) -> usize {
        self.sides.get(side).pods.len()
    }
}

#[cfg(test)]
mod tests {
    use super::routes::LOAD_BALANCER;
    use super::*;
    use crate::app::{App, Msg};
    use crate::domain::error_rate;
    use crate::domain::{Pod, Weight};
    use crate::keymap::Keymap;

    fn start() -> Timestamp {
        "2026-11-25T14:00:00Z".parse().unwrap()
    }

    fn world(seed: u64) -> World {
        World::new(&SimConfig { seed, start: start(), scale: 1 })
    }

    /// What a new user opening the demo sees: a pod killed for memory and
    /// restarting, and one still starting.
    #[test]
    fn the_demo_opens_with_an_oom_killed_pod_and_a_starting_one() {
        for seed in [2026, 7] {
            let mut w = world(seed);
            let mut app = App::new(w.app_config(), Keymap::default(), w.now());
            for msg in w.initial() {
                let _ = crate::app::update(&mut app, msg);
            }
            let pods: Vec<&Pod> = app.clusters.new.pods.values().collect();
            let oom = pods.iter().find(|p| p.key.name.starts_with("sidekiq-gpu-")).expect("the GPU worker's pod");
            assert_eq!(oom.last_exit.as_ref().map(ToString::to_string).as_deref(), Some("OOMKilled (137)"));
            assert!(oom.restarts > 0 && oom.health() == crate::domain::Health::Failing, "{oom:?}");
            let starting: Vec<_> = pods.iter().filter(|p| p.starting(app.now)).map(|p| &p.key.name).collect();
            assert!(!starting.is_empty(), "seed {seed}: no pod is starting");
        }
    }

    /// Feeds a world's messages to a fresh console, as the runtime does.
    fn console(world: &mut World) -> App {
        let mut app = App::new(world.app_config(), Keymap::default(), world.now());
        for msg in world.initial() {
            let _ = crate::app::update(&mut app, msg);
        }
        app
    }

    fn feed(app: &mut App, msgs: Vec<Msg>) {
        for msg in msgs {
            let _ = crate::app::update(app, msg);
        }
    }

    fn requests(app: &App, side: Side, minute: Minute) -> Option<f64> {
        app.routes[0].metrics.get(side).requests.get(minute)
    }

    #[test]
    fn the_same_seed_gives_the_same_world() {
        let (mut a, mut b) = (world(3), world(3));
        let (ma, mb) = (a.initial(), b.initial());
        assert_eq!(ma, mb);
        assert_eq!(a.advance(plus_secs(start(), 600)), b.advance(plus_secs(start(), 600)));
        let mut c = world(4);
        assert_ne!(c.initial(), ma, "another seed, another world");
    }

    #[test]
    fn history_fills_the_sparkline_window_before_the_start() {
        let mut w = world(1);
        let app = console(&mut w);
        let last = Minute::containing(start()).offset(-1);
        let window = app.routes[0].metrics.old.requests.window(last, 30);
        assert!(window.iter().all(Option::is_some), "30 minutes of api requests: {window:?}");
        assert_eq!(app.now, start());
        // The admin route sends nothing to new (weight 0): no data, not zero.
        assert!(app.routes[1].metrics.new.requests.is_empty());
    }

    #[test]
    fn weights_split_traffic_between_the_sides() {
        let mut w = world(5);
        w.calm();
        let mut app = console(&mut w);
        w.set_weights("api", Weights { old: Weight(1), new: Weight(3) });
        let from = Minute::containing(w.now()).offset(1);
        feed(&mut app, w.advance(plus_secs(start(), 21 * 60)));
        let (mut old, mut new) = (0.0, 0.0);
        for m in 0..20 {
            old += requests(&app, Side::Old, from.offset(m)).unwrap_or(0.0);
            new += requests(&app, Side::New, from.offset(m)).unwrap_or(0.0);
        }
        let share = new / (old + new);
        assert!((share - 0.75).abs() < 0.01, "new got {share:.3} of the traffic at weights 1:3");

        w.set_weights("api", Weights { old: Weight(0), new: Weight(10) });
        let from = Minute::containing(w.now()).offset(1);
        feed(&mut app, w.advance(plus_secs(w.now(), 5 * 60)));
        for m in 0..4 {
            assert_eq!(requests(&app, Side::Old, from.offset(m)), None, "old gets nothing at weight 0");
            assert!(requests(&app, Side::New, from.offset(m)).unwrap_or(0.0) > 1000.0);
        }
    }

    /// Target 5xx share of one side over `minutes` minutes from `from`.
    fn error_share(app: &App, side: Side, from: Minute, minutes: i64) -> f64 {
        let m = app.routes[0].metrics.get(side);
        let (mut req, mut err) = (0.0, 0.0);
        for i in 0..minutes {
            let minute = from.offset(i);
            req += m.requests.get(minute).unwrap_or(0.0);
            err += m.target_5xx.get(minute).unwrap_or(0.0);
        }
        error_rate(Some(req), Some(err)).unwrap_or(0.0)
    }

    #[test]
    fn a_drained_node_raises_that_sides_5xx_and_the_elb_502s() {
        let mut w = world(9);
        w.calm();
        w.set_weights("api", Weights::from_percent_new(50));
        let mut app = console(&mut w);
        let calm_from = Minute::containing(w.now()).offset(1);
        feed(&mut app, w.advance(plus_secs(w.now(), 5 * 60)));
        let baseline =
            PerSide::new(error_share(&app, Side::Old, calm_from, 4), error_share(&app, Side::New, calm_from, 4));

        w.drain_now(Side::New, true);
        let drain_from = Minute::containing(w.now());
        feed(&mut app, w.advance(plus_secs(w.now(), 3 * 60)));
        let during =
            PerSide::new(error_share(&app, Side::Old, drain_from, 2), error_share(&app, Side::New, drain_from, 2));

        assert!(during.new > baseline.new * 2.0, "new 5xx {:.4} -> {:.4}", baseline.new, during.new);
        assert!(during.old < baseline.old * 1.5 + 0.001, "old 5xx {:.4} -> {:.4}", baseline.old, during.old);
        let lb = &app.load_balancers[LOAD_BALANCER];
        let elb: f64 = (0..3).filter_map(|i| lb.elb_502.get(drain_from.offset(i))).sum();
        let elb_before: f64 = (0..4).filter_map(|i| lb.elb_502.get(calm_from.offset(i))).sum();
        assert!(elb > 5.0 && elb_before == 0.0, "ELB 502s before {elb_before}, during {elb}");
        // The console saw the node signals on the same clock.
        let kinds: Vec<_> = app.node_signals.iter().filter(|s| s.at >= drain_from.start()).map(|s| s.kind).collect();
        // No termination handler: the drain's cordon, and the group's
        // activity saying why.
        assert!(kinds.contains(&crate::domain::NodeSignalKind::AsgTermination), "{kinds:?}");
        assert!(kinds.contains(&crate::domain::NodeSignalKind::Cordon), "{kinds:?}");
        assert!(!kinds.contains(&crate::domain::NodeSignalKind::SpotInterruption), "no NTH taint: {kinds:?}");
    }

    #[test]
    fn the_demo_has_the_incidents_a_cutover_meets() {
        let mut w = world(2026);
        let mut app = console(&mut w);
        feed(&mut app, w.advance(plus_secs(start(), 120)));
        let rows = app.workload_rows();
        assert!(rows.iter().any(|r| r.drift), "an image differs between the sides");
        assert!(rows.iter().any(|r| r.sides.new.as_ref().is_some_and(|s| s.crashing > 0)), "a crash loop");
        assert!(rows.iter().any(|r| r.sides.old.is_none()) && rows.iter().any(|r| r.sides.new.is_none()));
        assert!(rows.iter().any(|r| r.singleton.is_some()) && !rows.iter().any(|r| r.singleton_conflict));
        let rebalance = app.node_signals.iter().any(|s| s.kind == crate::domain::NodeSignalKind::AsgRebalance);
        assert!(rebalance, "the scripted rebalance 20 s after the start, told by its group's activity");
        assert!(w.pod_count(Side::Old) >= 20 && w.pod_count(Side::New) >= 20);
    }

    /// The founding night: the risks are named from the start, and the
    /// scripted rebalance's 502s are put down to the node, its group's
    /// activity and the risks that made it hurt.
    #[test]
    fn the_demo_names_the_risks_and_the_cause_of_the_rebalance_502s() {
        use crate::domain::lifecycle::RiskKind as R;
        let mut w = world(2026);
        let mut app = console(&mut w);
        let api_new: Vec<R> = app
            .risks
            .iter()
            .filter(|r| r.side == Side::New && r.route.as_deref() == Some("api"))
            .map(|r| r.kind)
            .collect();
        assert_eq!(
            api_new,
            [R::NoPreStop, R::GraceBelowDeregistration, R::SpotWithoutHandler, R::RebalanceWithoutHandler],
            "{:#?}",
            app.risks
        );
        assert!(!app.risks.iter().any(|r| r.side == Side::Old), "the old side's settings are right: {:#?}", app.risks);
        feed(&mut app, w.advance(plus_secs(start(), 4 * 60)));
        let cause = app
            .causes
            .iter()
            .find(|c| c.side == Side::New && c.minute >= Minute::containing(start()))
            .unwrap_or_else(|| panic!("a cause of the rebalance's 5xx: {:#?}", app.causes));
        for part in [
            "api pods on ip-",
            "(spot) stopped by ASG capacity rebalance",
            "no termination handler on new",
            "grace 30s < deregistration 300s",
        ] {
            assert!(cause.text.contains(part), "`{part}` in {}", cause.text);
        }
        assert!(app.events.iter().any(|e| e.text.contains("likely cause")), "said as an event");
    }

    /// A rollout of a route's workload in the minutes before a rise is
    /// named as its likely cause, with the tags it went between.
    #[test]
    fn a_rollout_before_a_rise_is_named_as_its_likely_cause() {
        use crate::app::{MetricPoint, RouteMetric, SeriesId};
        let mut w = world(2026);
        w.calm();
        let mut app = console(&mut w);
        feed(&mut app, w.advance(plus_secs(start(), 5 * 60)));
        let key = WorkloadKey::new("app", "api");
        let mut api = app.clusters.new.workloads[&key].clone();
        let from = api.tag().to_string();
        api.images = vec![format!("{}:v2026.12.0", api.images[0].rsplit_once(':').unwrap().0)];
        feed(&mut app, vec![Msg::Cluster { side: Side::New, delta: ClusterDelta::Workload(api) }]);
        let minute = Minute::containing(app.now);
        let point = |metric, value| MetricPoint {
            series: SeriesId::Route { route: RouteId::of(0), side: Side::New, metric },
            minute,
            value,
        };
        feed(
            &mut app,
            vec![Msg::Metrics(vec![point(RouteMetric::Requests, 1000.0), point(RouteMetric::Target5xx, 80.0)])],
        );
        let cause = app.causes.iter().find(|c| c.route == "api" && c.side == Side::New).expect("a cause of the rise");
        assert!(cause.text.contains(&format!("a rollout of app/api ({from} → v2026.12.0) at ")), "{}", cause.text);
        assert!(!cause.text.contains("no rollout"), "{}", cause.text);
    }

    /// Karpenter consolidates a node of the new side within the first
    /// minutes: tainted, its Event, its pods evicted and rescheduled, the
    /// node removed; the pods of the api lost to it are counted.
    #[test]
    fn the_demo_shows_a_karpenter_consolidation_early() {
        use crate::domain::NodeSignalKind as K;
        let mut w = world(2026);
        let mut app = console(&mut w);
        feed(&mut app, w.advance(plus_secs(start(), 5 * 60)));
        let karpenter: Vec<_> = app
            .node_signals
            .iter()
            .filter(|s| s.at >= start() && s.side == Side::New)
            .filter(|s| matches!(s.kind, K::KarpenterDisrupted | K::KarpenterConsolidation | K::Removed))
            .map(|s| (s.kind, s.node.clone()))
            .collect();
        let node = &karpenter.iter().find(|(k, _)| *k == K::KarpenterDisrupted).expect("a Karpenter taint").1;
        let on_node: Vec<K> = karpenter.iter().filter(|(_, n)| n == node).map(|(k, _)| *k).collect();
        assert_eq!(on_node, vec![K::KarpenterDisrupted, K::KarpenterConsolidation, K::Removed], "{karpenter:?}");
        assert!(app.events.iter().any(|e| e.text.ends_with(": Karpenter disruption")), "named by its source");
        let lost: u32 = app
            .pods_lost
            .iter()
            .filter(|l| &l.node == node && l.cause == K::KarpenterConsolidation)
            .map(|l| l.count)
            .sum();
        assert!(lost > 0, "pods of a route's workload lost to it: {:?}", app.pods_lost);
        let api = app.clusters.new.workloads[&WorkloadKey::new("app", "api")].clone();
        assert_eq!(api.ready, api.desired, "the evicted pods run again elsewhere");
        assert!(!app.clusters.new.pods.values().any(|p| p.node.as_ref() == Some(node)));
    }

    #[test]
    fn scale_grows_the_world_towards_thousands_of_pods() {
        let w = World::new(&SimConfig { seed: 1, start: start(), scale: 200 });
        assert!(w.pod_count(Side::New) > 2_500, "{}", w.pod_count(Side::New));
    }
}

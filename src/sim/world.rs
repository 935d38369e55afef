//! The simulated world: two clusters of a Rails-style service, one ALB with
//! two routes, and the incidents a real cutover meets.
//!
//! The world moves in whole simulated seconds and reports what changed as
//! the same `Msg`s the live sources send, so the console cannot tell it
//! from the real thing except by the DEMO banner.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::app::{
    AlbSpec, AppConfig, Backend, ClusterDelta, ClusterMeta, DnsSpec, Effect, EffectResult, IngressRef, LbMetric,
    MetricPoint, Mode, Msg, RouteMetric, RouteSpec, SeriesId, SingletonSpec, SourceId, SourceState,
};
use crate::domain::{
    Capacity, Exit, KubeWarning, Minute, Node, NodeEvent, NodeSignalKind, PerSide, Pod, PodKey, PodPhase, ReadDetail,
    RecordRead, RouteId, RouteKind, RouteRead, Side, Target, TargetState, Weight, Weights, Workload, WorkloadKey,
    WorkloadKind, plus_secs,
};

use super::rng::Rng;
use super::traffic::{self, MinuteTotals, SideLoad};

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
/// The weights the `www` records were set to before the session, and how
/// long before its start.
const WWW_OPENING: Weights = Weights { old: Weight(90), new: Weight(10) };
const WWW_STEP_BEFORE_SECS: i64 = 150;
/// How often the simulated ALB is "read", as the live poller would.
const ALB_READ_EVERY_SECS: i64 = 5;
const LOAD_BALANCER: &str = "app/photo-api-alb/5e1f0c2a9b7d4e33";
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
const ECR: &str = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/photo";

#[derive(Debug, Clone)]
struct SimWorkload {
    workload: Workload,
    /// Schedules only on GPU nodes.
    gpu: bool,
    /// Its pods are killed on start, out of memory (the new GPU AMI's driver
    /// takes more than the limit allows).
    crashloop: bool,
    /// CronJob: runs every this many minutes (the demo's stand-in for cron).
    every_minutes: Option<i64>,
    template_hash: String,
}

#[derive(Debug, Clone)]
struct SimPod {
    pod: Pod,
    /// Becomes ready at this time (scheduling, image pull, boot).
    ready_at: Option<Timestamp>,
    /// A crash-looping pod restarts again at this time.
    next_restart: Option<Timestamp>,
    /// A job pod finishes at this time.
    finish_at: Option<Timestamp>,
    /// A terminating pod is gone at this time (its grace period).
    remove_at: Option<Timestamp>,
    ip: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DrainKind {
    Rebalance,
    Interruption,
    /// Karpenter consolidates an underutilized node: taints it
    /// `karpenter.sh/disrupted`, launches a cheaper replacement, says
    /// `DisruptionTerminating` ("Underutilized") on the Node, drains it and
    /// removes it.
    Consolidation,
}

#[derive(Debug, Clone)]
struct SimNode {
    node: Node,
    gpu: bool,
    /// Drain timeline, relative to its start, for the node being replaced.
    drain: Option<(DrainKind, Timestamp)>,
}

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

#[derive(Debug, Clone)]
struct SimRoute {
    spec: RouteSpec,
    weights: Weights,
    /// Requests per minute at the daily mean.
    base_rpm: f64,
    /// For a rule the AWS Load Balancer Controller owns: the weights of its
    /// Ingress annotation, and the controller's next write of the rule.
    controller: Option<SimController>,
    /// For weighted records: the share to new each cohort of clients still
    /// acts on, as their cached answers expire (see `DNS_COHORTS`).
    dns: Option<[f64; 3]>,
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
struct SimController {
    annotation: Weights,
    next_write: Option<Timestamp>,
}

/// How long the demo's Load Balancer Controller takes to reconcile an
/// Ingress change into the rule, and to put back a rule written directly.
pub const CONTROLLER_RECONCILE_SECS: i64 = 8;
pub const CONTROLLER_REVERT_SECS: i64 = 20;

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
}

/// How long after a stop the demo's GitOps controller undoes it.
pub const SELF_HEAL_AFTER_SECS: i64 = 90;

#[derive(Debug, Clone, Copy, Default)]
struct LbTotals {
    e502: f64,
    e503: f64,
    e504: f64,
}

impl World {
    pub fn new(config: &SimConfig) -> World {
        let rng = Rng::new(config.seed);
        let history_start = plus_secs(config.start, -HISTORY_MINUTES * 60);
        // Start on a whole minute so every minute bucket is complete.
        let now = Minute::containing(history_start).start();
        let scale = config.scale.max(1);
        let metas = PerSide::new(
            ClusterMeta { name: "eks-2022".into(), version: "1.24".into() },
            ClusterMeta { name: "eks-2026".into(), version: "1.31".into() },
        );
        let routes = vec![
            SimRoute {
                spec: RouteSpec {
                    name: "api".into(),
                    backend: Backend::Alb(AlbSpec {
                        load_balancer: LOAD_BALANCER.into(),
                        rule: None,
                        old_target_group: "api-old".into(),
                        new_target_group: "api-new".into(),
                        ingress: None,
                    }),
                    workload: Some(WorkloadKey::new("app", "api")),
                    steps: vec![0, 1, 5, 10, 25, 50, 75, 100],
                },
                weights: Weights { old: Weight(75), new: Weight(25) },
                base_rpm: 1200.0,
                controller: None,
                dns: None,
            },
            SimRoute {
                spec: RouteSpec {
                    name: "admin".into(),
                    backend: Backend::Alb(AlbSpec {
                        load_balancer: LOAD_BALANCER.into(),
                        rule: Some("path /admin/*".into()),
                        old_target_group: "admin-old".into(),
                        new_target_group: "admin-new".into(),
                        // The admin rule is the AWS Load Balancer Controller's,
                        // written from this Ingress of the new cluster.
                        ingress: Some(IngressRef {
                            side: Side::New,
                            key: WorkloadKey::new("app", "admin"),
                            action: "admin".into(),
                        }),
                    }),
                    workload: Some(WorkloadKey::new("app", "admin")),
                    steps: vec![0, 10, 50, 100],
                },
                weights: Weights { old: Weight(100), new: Weight(0) },
                base_rpm: 3.0,
                controller: Some(SimController {
                    annotation: Weights { old: Weight(100), new: Weight(0) },
                    next_write: None,
                }),
                dns: None,
            },
            // The public name: weighted records between one load balancer
            // per cluster. Set to 10% a little before the session starts,
            // so a newcomer sees the observed share still catching up.
            SimRoute {
                spec: RouteSpec {
                    name: "www".into(),
                    backend: Backend::Route53(DnsSpec {
                        hosted_zone_id: "Z04517273NVV6EXAMPLE".into(),
                        record_name: "www.photo.example.".into(),
                        record_type: "A".into(),
                        set_identifiers: PerSide::new("eks-2022".into(), "eks-2026".into()),
                    }),
                    workload: Some(WorkloadKey::new("app", "api")),
                    steps: vec![0, 1, 5, 10, 25, 50, 75, 100],
                },
                weights: Weights { old: Weight(100), new: Weight(0) },
                base_rpm: 600.0,
                controller: None,
                dns: Some([0.0; 3]),
            },
        ];
        let singletons = vec![
            SingletonSpec {
                name: "scheduler".into(),
                kind: WorkloadKind::Deployment,
                old: WorkloadKey::new("app", "scheduler"),
                new: WorkloadKey::new("app", "scheduler"),
                replicas: 1,
            },
            SingletonSpec {
                name: "billing-close".into(),
                kind: WorkloadKind::CronJob,
                old: WorkloadKey::new("batch", "billing-close"),
                new: WorkloadKey::new("batch", "billing-close"),
                replicas: 1,
            },
        ];
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
            script: vec![
                (plus_secs(config.start, -12 * 60), Side::New, DrainKind::Interruption),
                (plus_secs(config.start, 20), Side::New, DrainKind::Rebalance),
                (plus_secs(config.start, 150), Side::New, DrainKind::Consolidation),
            ],
            out: Vec::new(),
            last_tick: None,
            node_seq: 0,
            self_heal: None,
            self_healed: false,
        };
        world.populate();
        // Pods created at population are already up: the history starts
        // with a running system.
        for side in Side::BOTH {
            for pod in world.sides.get_mut(side).pods.values_mut() {
                pod.pod.created = plus_secs(now, -rng_age(&mut world.rng));
            }
        }
        world
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
    fn tick(&mut self) {
        if self.last_tick != Some(self.now) {
            self.out.push(Msg::Tick { at: self.now });
            self.last_tick = Some(self.now);
        }
    }

    fn emit(&mut self, side: Side, delta: ClusterDelta) {
        self.tick();
        self.out.push(Msg::Cluster { side, delta });
    }

    fn step(&mut self) {
        let now = self.now;
        // Incidents, scripted first, then the recurring random ones.
        while let Some(&(at, side, kind)) = self.script.first() {
            if at > now {
                break;
            }
            self.script.remove(0);
            self.start_drain(side, kind);
        }
        if now >= self.next_incident {
            let kind = match self.rng.unit() {
                r if r < 0.7 => DrainKind::Rebalance,
                r if r < 0.85 => DrainKind::Consolidation,
                _ => DrainKind::Interruption,
            };
            self.start_drain(Side::New, kind);
            let gap = self.rng.between(6 * 60, 10 * 60);
            self.next_incident = plus_secs(now, gap);
        }
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
        if self.self_heal.is_some_and(|at| now >= at) {
            self.self_heal = None;
            self.self_healed = true;
            let key = WorkloadKey::new("app", "scheduler");
            if let Some(w) = self.sides.get_mut(Side::Old).workloads.get_mut(&key) {
                w.workload.changed_by = Some("argocd-application-controller".into());
            }
            self.scale_up(Side::Old, &key, 1);
        }
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

    // --- population -----------------------------------------------------

    fn populate(&mut self) {
        let s = self.scale;
        let new_tag = "v2026.11.3";
        // (namespace, name, kind, old replicas, new replicas, old tag, new tag)
        let specs: [(&str, &str, WorkloadKind, u32, u32, &str, &str); 14] = [
            ("app", "api", WorkloadKind::Deployment, 6 * s, 6 * s, new_tag, new_tag),
            ("app", "admin", WorkloadKind::Deployment, 2, 2, new_tag, new_tag),
            ("app", "scheduler", WorkloadKind::Deployment, 1, 0, new_tag, new_tag),
            ("app", "memcached", WorkloadKind::StatefulSet, 3, 3, "1.6.32", "1.6.32"),
            ("app", "db-migrate", WorkloadKind::Job, 1, 1, new_tag, new_tag),
            ("app", "otel-collector", WorkloadKind::Deployment, 0, 2, "", "0.113.0"),
            ("batch", "sidekiq-default", WorkloadKind::Deployment, 4 * s, 4 * s, new_tag, new_tag),
            ("batch", "sidekiq-mailers", WorkloadKind::Deployment, 2 * s, 2 * s, "v2026.11.2", new_tag),
            ("batch", "sidekiq-media", WorkloadKind::Deployment, 3 * s, 3 * s, new_tag, new_tag),
            ("batch", "sidekiq-gpu", WorkloadKind::Deployment, 1, 1, new_tag, new_tag),
            ("batch", "legacy-thumbnailer", WorkloadKind::Deployment, 2, 0, "v2019.4.1", ""),
            ("batch", "cleanup-sessions", WorkloadKind::CronJob, 0, 0, new_tag, new_tag),
            ("batch", "billing-close", WorkloadKind::CronJob, 0, 0, new_tag, new_tag),
            ("batch", "sitemap-refresh", WorkloadKind::CronJob, 0, 0, new_tag, new_tag),
        ];
        for side in Side::BOTH {
            self.add_nodes(side);
            for (ns, name, kind, old_n, new_n, old_tag, new_tag) in specs {
                let (replicas, tag) = match side {
                    Side::Old => (old_n, old_tag),
                    Side::New => (new_n, new_tag),
                };
                if tag.is_empty() {
                    continue; // exists on the other side only
                }
                let repo = match name {
                    "memcached" => "memcached".to_string(),
                    "otel-collector" => "otel-collector".to_string(),
                    n if n.starts_with("sidekiq") || kind == WorkloadKind::CronJob => "worker".to_string(),
                    n => n.to_string(),
                };
                let key = WorkloadKey::new(ns, name);
                let suspended = match (name, side) {
                    // A cron owner runs on one side only until handed over.
                    ("billing-close", Side::New) => true,
                    _ => false,
                };
                let workload = Workload {
                    key: key.clone(),
                    kind,
                    desired: replicas,
                    ready: 0,
                    images: vec![format!("{ECR}/{repo}:{tag}")],
                    suspended,
                    schedule: match name {
                        "cleanup-sessions" => Some("*/15 * * * *".into()),
                        "billing-close" => Some("*/30 * * * *".into()),
                        "sitemap-refresh" => Some("0 * * * *".into()),
                        _ => None,
                    },
                    completed: (kind == WorkloadKind::Job).then_some(true),
                    last_schedule: None,
                    starting_deadline: None,
                    time_zone: None,
                    created: None,
                    changed_by: None,
                    // The scheduler is in an Argo CD application with
                    // self-heal on both clusters (see `self_heal`).
                    owner: (name == "scheduler")
                        .then(|| crate::domain::Owner::ArgoCd { app: "photo-api".into(), by_label: false }),
                };
                let sim = SimWorkload {
                    workload,
                    gpu: name == "sidekiq-gpu",
                    crashloop: name == "sidekiq-gpu" && side == Side::New,
                    every_minutes: match name {
                        "cleanup-sessions" => Some(15),
                        "billing-close" => Some(30),
                        "sitemap-refresh" => Some(60),
                        _ => None,
                    },
                    template_hash: format!("{:x}", self.rng.next_u64() % 0xFF_FFFF_FFFF + 0x10_0000_0000)[..9]
                        .to_string(),
                };
                self.sides.get_mut(side).workloads.insert(key.clone(), sim);
                if matches!(kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet) {
                    for i in 0..replicas {
                        self.spawn_pod(side, &key, Some(i), true);
                    }
                }
            }
            let keys: Vec<WorkloadKey> = self.sides.get(side).workloads.keys().cloned().collect();
            for key in keys {
                self.refresh_workload(side, &key, false);
            }
        }
    }

    /// The new collector's newest pod, replaced 40 s before the present,
    /// is still pulling its image when the demo opens: a pod starting.
    fn slow_start(&mut self) {
        let now = self.now;
        let key = WorkloadKey::new("app", "otel-collector");
        let cluster = self.sides.get_mut(Side::New);
        let Some(pod) = cluster.pods.values_mut().filter(|p| p.pod.owner.as_ref() == Some(&key)).last() else {
            return;
        };
        pod.pod.phase = PodPhase::Pending;
        pod.pod.ready = false;
        pod.pod.reason = Some("ContainerCreating".into());
        pod.pod.created = plus_secs(now, -40);
        pod.ready_at = Some(plus_secs(now, 100));
        let pod = pod.pod.clone();
        self.emit(Side::New, ClusterDelta::Pod(pod));
        self.refresh_workload(Side::New, &key, true);
    }

    fn add_nodes(&mut self, side: Side) {
        let general = (4 * self.scale).div_ceil(2).max(4);
        match side {
            // The old cluster predates spot: on-demand only, plus one GPU host.
            Side::Old => {
                for _ in 0..general + 2 {
                    self.add_node(side, Capacity::OnDemand, "m5.2xlarge", false);
                }
                self.add_node(side, Capacity::OnDemand, "p3.2xlarge", true);
            }
            Side::New => {
                for _ in 0..general.div_ceil(2) {
                    self.add_node(side, Capacity::OnDemand, "m6i.2xlarge", false);
                }
                for _ in 0..general {
                    self.add_node(side, Capacity::Spot, "m6i.2xlarge", false);
                }
                self.add_node(side, Capacity::OnDemand, "g5.xlarge", true);
            }
        }
    }

    fn add_node(&mut self, side: Side, capacity: Capacity, instance_type: &str, gpu: bool) -> String {
        self.node_seq += 1;
        let subnet = match side {
            Side::Old => 0,
            Side::New => 1,
        };
        let name = format!("ip-10-{subnet}-{}-{}.ec2.internal", self.rng.between(16, 63), self.node_seq * 7 % 250 + 2);
        let node = Node {
            name: name.clone(),
            capacity,
            instance_type: instance_type.into(),
            ready: true,
            cordoned: false,
            spot_interruption: false,
            rebalance_recommendation: false,
            disruptions: Vec::new(),
        };
        self.sides.get_mut(side).nodes.insert(name.clone(), SimNode { node, gpu, drain: None });
        name
    }

    /// Creates a pod for a workload on the least-loaded schedulable node.
    fn spawn_pod(&mut self, side: Side, key: &WorkloadKey, ordinal: Option<u32>, up: bool) -> PodKey {
        let now = self.now;
        let (kind, hash, gpu) = {
            let w = &self.sides.get(side).workloads[key];
            (w.workload.kind, w.template_hash.clone(), w.gpu)
        };
        let name = match (kind, ordinal) {
            (WorkloadKind::StatefulSet, Some(i)) => format!("{}-{i}", key.name),
            (WorkloadKind::CronJob, _) => {
                format!("{}-{}-{}", key.name, Minute::containing(now).0, self.rng.suffix(5))
            }
            _ => format!("{}-{hash}-{}", key.name, self.rng.suffix(5)),
        };
        let node = self.pick_node(side, gpu);
        let boot = self.rng.between(20, 45);
        let ip = format!("10.{}.{}.{}", side.index(), self.rng.between(64, 127), self.rng.between(2, 254));
        let pod_key = PodKey { namespace: key.namespace.clone(), name };
        let running = up && node.is_some();
        let pod = Pod {
            key: pod_key.clone(),
            owner: Some(key.clone()),
            phase: if running { PodPhase::Running } else { PodPhase::Pending },
            ready: running,
            restarts: 0,
            reason: (!running && node.is_some()).then(|| "ContainerCreating".to_string()),
            node,
            created: now,
            last_exit: None,
        };
        let sim = SimPod {
            pod,
            ready_at: (!running).then(|| plus_secs(now, boot)),
            next_restart: None,
            finish_at: None,
            remove_at: None,
            ip,
        };
        self.sides.get_mut(side).insert_pod(sim);
        pod_key
    }

    fn pick_node(&self, side: Side, gpu: bool) -> Option<String> {
        let cluster = self.sides.get(side);
        cluster
            .nodes
            .values()
            .filter(|n| n.node.ready && !n.node.cordoned && n.node.disruptions.is_empty() && n.gpu == gpu)
            .min_by_key(|n| cluster.pods_on_node.get(&n.node.name).copied().unwrap_or(0))
            .map(|n| n.node.name.clone())
    }

    // --- dynamics -------------------------------------------------------

    fn start_drain(&mut self, side: Side, kind: DrainKind) {
        let now = self.now;
        // Prefer a node that serves the API: the incident that matters. Spot
        // nodes are interrupted; Karpenter consolidates on-demand ones here.
        let wanted = match kind {
            DrainKind::Consolidation => Capacity::OnDemand,
            _ => Capacity::Spot,
        };
        let cluster = self.sides.get(side);
        let mut candidates: Vec<(&String, usize)> = cluster
            .nodes
            .iter()
            .filter(|(_, n)| n.node.capacity == wanted && !n.gpu && n.drain.is_none() && n.node.ready)
            .map(|(name, _)| {
                let api = cluster
                    .pods
                    .values()
                    .filter(|p| p.pod.node.as_ref() == Some(name) && p.pod.key.name.starts_with("api-"))
                    .count();
                (name, api)
            })
            .collect();
        candidates.sort_by_key(|(_, api)| std::cmp::Reverse(*api));
        let Some(name) = candidates.first().map(|(n, _)| (*n).clone()) else {
            return;
        };
        if let Some(node) = self.sides.get_mut(side).nodes.get_mut(&name) {
            node.drain = Some((kind, now));
        }
    }

    fn step_nodes(&mut self, side: Side) {
        let now = self.now;
        let draining: Vec<(String, DrainKind, i64)> = self
            .sides
            .get(side)
            .nodes
            .values()
            .filter_map(|n| n.drain.map(|(k, t0)| (n.node.name.clone(), k, now.as_second() - t0.as_second())))
            .collect();
        for (name, kind, t) in draining {
            // Timelines: a rebalance recommendation is acted on at once; an
            // interruption notice gives two minutes before the instance goes;
            // Karpenter launches the replacement before it drains (no cordon:
            // its NoSchedule taint keeps new pods off).
            let (cordon_at, evict_at, not_ready_at, gone_at) = match kind {
                DrainKind::Rebalance => (Some(10), 20, None, 120),
                DrainKind::Interruption => (Some(5), 10, Some(120), 150),
                DrainKind::Consolidation => (None, 15, None, 60),
            };
            let mut changed = false;
            if t == 0 {
                let node = self.node_mut(side, &name);
                match kind {
                    DrainKind::Rebalance => node.rebalance_recommendation = true,
                    DrainKind::Interruption => node.spot_interruption = true,
                    DrainKind::Consolidation => node.disruptions.push(NodeSignalKind::KarpenterDisrupted),
                }
                changed = true;
            }
            if Some(t) == cordon_at {
                self.node_mut(side, &name).cordoned = true;
                changed = true;
            }
            if kind == DrainKind::Consolidation && t == 10 {
                let fresh = self.add_node(side, Capacity::OnDemand, "m7i.xlarge", false);
                let node = self.sides.get(side).nodes[&fresh].node.clone();
                self.emit(side, ClusterDelta::Node(node));
            }
            if t == evict_at {
                if kind == DrainKind::Consolidation {
                    let event = NodeEvent {
                        at: now,
                        node: name.clone(),
                        kind: NodeSignalKind::KarpenterConsolidation,
                        reason: "DisruptionTerminating".into(),
                    };
                    self.emit(side, ClusterDelta::NodeEvent(event));
                }
                self.evict(side, &name, kind);
            }
            if Some(t) == not_ready_at {
                self.node_mut(side, &name).ready = false;
                changed = true;
            }
            if changed {
                let node = self.node_mut(side, &name).clone();
                self.emit(side, ClusterDelta::Node(node));
            }
            if t == gone_at {
                let cluster = self.sides.get_mut(side);
                cluster.nodes.remove(&name);
                cluster.pods_on_node.remove(&name);
                self.emit(side, ClusterDelta::NodeGone(name));
                // The node group replaces the capacity (Karpenter already has).
                if kind != DrainKind::Consolidation {
                    let fresh = self.add_node(side, Capacity::Spot, "m6i.2xlarge", false);
                    let node = self.sides.get(side).nodes[&fresh].node.clone();
                    self.emit(side, ClusterDelta::Node(node));
                }
            }
        }
    }

    fn node_mut(&mut self, side: Side, name: &str) -> &mut Node {
        &mut self
            .sides
            .get_mut(side)
            .nodes
            .get_mut(name)
            .unwrap_or_else(|| unreachable!("node {name} is draining, so it exists"))
            .node
    }

    /// Drains a node: every pod on it is deleted and its workload's
    /// controller creates a replacement elsewhere, Pending until it boots.
    fn evict(&mut self, side: Side, node: &str, kind: DrainKind) {
        let now = self.now;
        let victims: Vec<PodKey> = self
            .sides
            .get(side)
            .pods
            .values()
            .filter(|p| p.pod.node.as_deref() == Some(node))
            .map(|p| p.pod.key.clone())
            .collect();
        let reason = match kind {
            DrainKind::Rebalance => Some("rebalance recommendation"),
            DrainKind::Interruption => Some("spot interruption"),
            // Karpenter says it with its Normal Event, not a Warning.
            DrainKind::Consolidation => None,
        };
        if let Some(reason) = reason {
            self.emit(
                side,
                ClusterDelta::Warning(KubeWarning {
                    at: now,
                    object: format!("Node/{}", crate::domain::short_node(node)),
                    reason: "Drain".into(),
                    message: format!("evicting {} pods ({reason})", victims.len()),
                }),
            );
        }
        let mut api_hit = 0;
        let mut owners = Vec::new();
        for key in victims {
            let Some(pod) = self.sides.get_mut(side).remove_pod(&key) else { continue };
            self.emit(side, ClusterDelta::PodGone(key));
            if let Some(owner) = pod.pod.owner {
                if owner.name == "api" {
                    api_hit += 1;
                }
                let kind = self.sides.get(side).workloads[&owner].workload.kind;
                if kind != WorkloadKind::CronJob {
                    owners.push((owner, pod.pod.key.name));
                }
            }
        }
        for (owner, old_name) in owners {
            let ordinal = old_name.rsplit('-').next().and_then(|n| n.parse().ok());
            let key = self.spawn_pod(side, &owner, ordinal, false);
            let pod = self.sides.get(side).pods[&key].pod.clone();
            self.emit(side, ClusterDelta::Pod(pod));
            self.refresh_workload(side, &owner, true);
        }
        // In-flight requests on the evicted API pods are cut: the ALB sees
        // resets (502) and timeouts (504) until the targets deregister.
        if api_hit > 0 {
            let cluster = self.sides.get_mut(side);
            cluster.reset_burst_until = Some(plus_secs(now, 90));
            cluster.reset_severity = match kind {
                DrainKind::Rebalance => 0.02,
                DrainKind::Interruption => 0.05,
                DrainKind::Consolidation => 0.015,
            };
        }
    }

    fn step_pods(&mut self, side: Side) {
        let now = self.now;
        let mut changed_pods = Vec::new();
        let mut finished_jobs = Vec::new();
        let cluster = self.sides.get_mut(side);
        let crashloopers: Vec<WorkloadKey> =
            cluster.workloads.values().filter(|w| w.crashloop).map(|w| w.workload.key.clone()).collect();
        for pod in cluster.pods.values_mut() {
            let crashes = pod.pod.owner.as_ref().is_some_and(|o| crashloopers.contains(o));
            if pod.ready_at.is_some_and(|t| t <= now) {
                pod.ready_at = None;
                if pod.pod.node.is_none() {
                    continue;
                }
                pod.pod.phase = PodPhase::Running;
                if crashes {
                    pod.next_restart = Some(now);
                } else {
                    pod.pod.ready = true;
                    pod.pod.reason = None;
                }
                changed_pods.push(pod.pod.key.clone());
            }
            if crashes && pod.pod.phase == PodPhase::Running && pod.next_restart.is_none() {
                pod.next_restart = Some(now);
            }
            if pod.next_restart.is_some_and(|t| t <= now) {
                pod.pod.restarts += 1;
                pod.pod.ready = false;
                pod.pod.reason = Some("CrashLoopBackOff".into());
                pod.pod.last_exit = Some(Exit { reason: "OOMKilled".into(), code: 137 });
                // Kubernetes doubles the back-off from 10 s up to 5 minutes.
                let backoff = (10i64 << pod.pod.restarts.min(5)).min(300);
                pod.next_restart = Some(plus_secs(now, backoff));
                changed_pods.push(pod.pod.key.clone());
            }
            if pod.remove_at.is_some_and(|t| t <= now) {
                finished_jobs.push(pod.pod.key.clone());
                continue;
            }
            if pod.finish_at.is_some_and(|t| t <= now) {
                pod.finish_at = None;
                pod.pod.phase = PodPhase::Succeeded;
                pod.pod.ready = false;
                pod.pod.reason = Some("Completed".into());
                changed_pods.push(pod.pod.key.clone());
                finished_jobs.push(pod.pod.key.clone());
            }
        }
        // Pending pods whose node is gone get another node.
        let unplaced: Vec<PodKey> = cluster
            .pods
            .values()
            .filter(|p| p.pod.node.is_none() && p.pod.phase == PodPhase::Pending)
            .map(|p| p.pod.key.clone())
            .collect();
        for key in unplaced {
            let gpu = self.sides.get(side).pods[&key]
                .pod
                .owner
                .as_ref()
                .is_some_and(|o| self.sides.get(side).workloads[o].gpu);
            if let Some(node) = self.pick_node(side, gpu) {
                self.sides.get_mut(side).place(&key, node);
                changed_pods.push(key);
            }
        }
        let mut owners = Vec::new();
        for key in &changed_pods {
            let Some(pod) = self.sides.get(side).pods.get(key) else { continue };
            let pod = pod.pod.clone();
            if pod.restarts > 0 && pod.reason.as_deref() == Some("CrashLoopBackOff") {
                let warning = KubeWarning {
                    at: now,
                    object: format!("Pod/{}/{}", pod.key.namespace, pod.key.name),
                    reason: "BackOff".into(),
                    message: "Back-off restarting failed container".into(),
                };
                if pod.restarts % 3 == 0 {
                    self.emit(side, ClusterDelta::Warning(warning));
                }
            }
            if let Some(owner) = &pod.owner {
                owners.push(owner.clone());
            }
            self.emit(side, ClusterDelta::Pod(pod));
        }
        // Finished job pods are cleaned up a little later by the TTL
        // controller; the demo removes them at once.
        for key in finished_jobs {
            if let Some(pod) = self.sides.get_mut(side).remove_pod(&key) {
                owners.extend(pod.pod.owner);
            }
            self.emit(side, ClusterDelta::PodGone(key));
        }
        owners.sort();
        owners.dedup();
        for owner in owners {
            self.refresh_workload(side, &owner, true);
        }
    }

    fn step_crons(&mut self, side: Side) {
        let now = self.now;
        if now.as_second() % 60 != 0 {
            return;
        }
        let minute = Minute::containing(now).0;
        let due: Vec<WorkloadKey> = self
            .sides
            .get(side)
            .workloads
            .values()
            .filter(|w| !w.workload.suspended)
            .filter(|w| w.every_minutes.is_some_and(|every| minute % every == 0))
            .map(|w| w.workload.key.clone())
            .collect();
        for key in due {
            let pod_key = self.spawn_pod(side, &key, None, true);
            let run = self.rng.between(15, 50);
            if let Some(pod) = self.sides.get_mut(side).pods.get_mut(&pod_key) {
                pod.finish_at = Some(plus_secs(now, run));
                let pod = pod.pod.clone();
                self.emit(side, ClusterDelta::Pod(pod));
            }
            self.refresh_workload(side, &key, true);
        }
    }

    /// Recomputes a workload's status from its pods, emitting it if it moved.
    fn refresh_workload(&mut self, side: Side, key: &WorkloadKey, emit: bool) {
        let cluster = self.sides.get(side);
        let pods = cluster.pods.values().filter(|p| p.pod.owner.as_ref() == Some(key));
        let (ready, running) = pods.fold((0, 0), |(r, n), p| {
            let up = p.pod.phase == PodPhase::Running;
            (r + u32::from(p.pod.ready), n + u32::from(up))
        });
        let Some(sim) = self.sides.get_mut(side).workloads.get_mut(key) else { return };
        let w = &mut sim.workload;
        let value = match w.kind {
            WorkloadKind::CronJob => running,
            _ => ready,
        };
        if w.ready != value || !emit {
            w.ready = value;
            if emit {
                let w = w.clone();
                self.emit(side, ClusterDelta::Workload(w));
            }
        }
    }

    // --- traffic --------------------------------------------------------

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
                Side::New => 0.0015,
            },
            base_latency_ms: match side {
                Side::Old => 92.0,
                Side::New => 78.0,
            },
        }
    }

    fn accumulate_traffic(&mut self) {
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

    fn close_minute(&mut self, minute: Minute) {
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
    fn read_routes(&mut self) {
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

    // --- the operator's effects --------------------------------------------

    /// Carries out an effect as the live executor would against the real
    /// APIs: checks first, writes, reads back.
    pub fn apply(&mut self, effect: &Effect) -> (EffectResult, Vec<Msg>) {
        let result = match effect {
            // The simulated routes hold the plan's two weights only: `all_old`
            // has no other target to set to 0.
            Effect::SetWeights { route, seen, to, .. } => self.apply_weights(*route, seen.as_deref(), *to),
            Effect::SetIngressWeights { route, ingress, to, .. } => {
                let now = self.now;
                let name = self.routes.get(route.index()).map(|r| r.spec.name.clone()).unwrap_or_default();
                match self.routes.get_mut(route.index()).and_then(|r| r.controller.as_mut()) {
                    Some(c) => {
                        c.annotation = *to;
                        c.next_write = Some(plus_secs(now, CONTROLLER_RECONCILE_SECS));
                        EffectResult::Verified {
                            detail: format!(
                                "Ingress {} on {}: {} set to old {} / new {}; waiting for the AWS Load Balancer Controller",
                                ingress.key,
                                ingress.side,
                                ingress.annotation(),
                                to.old.0,
                                to.new.0
                            ),
                        }
                    }
                    None => EffectResult::Refused { reason: format!("route {name} has no Ingress in this world") },
                }
            }
            Effect::Stop { side, key, then: Some(target), .. }
                if !self.sides.get(side.other()).workloads.contains_key(target) =>
            {
                EffectResult::Refused {
                    reason: format!(
                        "{target} does not exist on {}: it could not be started; nothing was stopped",
                        side.other()
                    ),
                }
            }
            Effect::Stop { side, key, kind, .. } => self.stop(*side, key, *kind),
            Effect::Start { side, key, kind, replicas, other, .. } => self.start(*side, key, *kind, *replicas, other),
            // The demo's console is its only driver: there is no Lease.
            Effect::TakeWheel { .. } => {
                EffectResult::Refused { reason: "the demo has one driver, you: there is no wheel to take".into() }
            }
        };
        (result, std::mem::take(&mut self.out))
    }

    fn apply_weights(&mut self, id: RouteId, seen: Option<&[(String, Weight)]>, to: Weights) -> EffectResult {
        let Some(r) = self.routes.get_mut(id.index()) else {
            return EffectResult::Failed { error: format!("no route #{}", id.0) };
        };
        let route = r.spec.name.clone();
        let weighted = |side: Side| r.spec.weighted(side).to_string();
        let now = vec![(weighted(Side::Old), r.weights.old), (weighted(Side::New), r.weights.new)];
        if let Some(seen) = seen
            && now.as_slice() != seen
        {
            return EffectResult::Refused {
                reason: format!(
                    "route {route} changed since you saw it: you saw {}, it is {}",
                    groups(seen),
                    groups(&now)
                ),
            };
        }
        r.weights = to;
        let back = r.weights;
        // The controller puts back a rule it owns at its next reconcile.
        if let Some(c) = r.controller.as_mut()
            && c.annotation != to
        {
            c.next_write = Some(plus_secs(self.now, CONTROLLER_REVERT_SECS));
        }
        self.read_routes();
        if back == to {
            EffectResult::Verified {
                detail: format!("route {route} reads back old {} / new {}", back.old.0, back.new.0),
            }
        } else {
            EffectResult::Mismatch {
                detail: format!("route {route} reads back old {} / new {}", back.old.0, back.new.0),
            }
        }
    }

    fn stop(&mut self, side: Side, key: &WorkloadKey, kind: WorkloadKind) -> EffectResult {
        let now = self.now;
        let Some(w) = self.sides.get_mut(side).workloads.get_mut(key) else {
            return EffectResult::Failed { error: format!("{key} not found on {side}") };
        };
        match kind {
            WorkloadKind::CronJob => w.workload.suspended = true,
            _ => w.workload.desired = 0,
        }
        w.workload.changed_by = Some("cutover".into());
        let workload = w.workload.clone();
        self.emit(side, ClusterDelta::Workload(workload));
        if side == Side::Old && key.namespace == "app" && key.name == "scheduler" && !self.self_healed {
            self.self_heal = Some(plus_secs(now, SELF_HEAL_AFTER_SECS));
        }
        if kind != WorkloadKind::CronJob {
            // The controller deletes the pods; each takes its grace period.
            let pods: Vec<PodKey> = self
                .sides
                .get(side)
                .pods
                .values()
                .filter(|p| p.pod.owner.as_ref() == Some(key))
                .map(|p| p.pod.key.clone())
                .collect();
            for pod_key in pods {
                let secs = self.rng.between(6, 14);
                if let Some(p) = self.sides.get_mut(side).pods.get_mut(&pod_key) {
                    p.pod.ready = false;
                    p.pod.reason = Some("Terminating".into());
                    p.remove_at = Some(plus_secs(now, secs));
                    let pod = p.pod.clone();
                    self.emit(side, ClusterDelta::Pod(pod));
                }
            }
            self.refresh_workload(side, key, true);
        }
        EffectResult::Verified {
            detail: format!(
                "{key} on {side} {}",
                if kind == WorkloadKind::CronJob { "suspended" } else { "scaled to 0" }
            ),
        }
    }

    fn start(
        &mut self,
        side: Side,
        key: &WorkloadKey,
        kind: WorkloadKind,
        replicas: u32,
        other: &WorkloadKey,
    ) -> EffectResult {
        let other_side = side.other();
        let cluster = self.sides.get(other_side);
        let running =
            cluster.pods.values().filter(|p| p.pod.owner.as_ref() == Some(other) && p.pod.still_running()).count();
        let active = cluster.workloads.get(other).is_some_and(|w| w.workload.is_active());
        if running > 0 || active {
            return EffectResult::Refused {
                reason: format!("{other} on {other_side} still runs ({running} pod(s)); {side} was not started"),
            };
        }
        let Some(w) = self.sides.get_mut(side).workloads.get_mut(key) else {
            return EffectResult::Failed { error: format!("{key} not found on {side}") };
        };
        w.workload.changed_by = Some("cutover".into());
        if kind == WorkloadKind::CronJob {
            w.workload.suspended = false;
            let workload = w.workload.clone();
            self.emit(side, ClusterDelta::Workload(workload));
        } else {
            self.scale_up(side, key, replicas);
        }
        EffectResult::Verified {
            detail: format!(
                "{key} on {side} {}",
                if kind == WorkloadKind::CronJob { "resumed".to_string() } else { format!("scaled to {replicas}") }
            ),
        }
    }

    /// A Deployment to `replicas`, its missing pods created as the
    /// controller would (terminating pods do not count towards replicas).
    fn scale_up(&mut self, side: Side, key: &WorkloadKey, replicas: u32) {
        let Some(w) = self.sides.get_mut(side).workloads.get_mut(key) else { return };
        w.workload.desired = replicas;
        let workload = w.workload.clone();
        self.emit(side, ClusterDelta::Workload(workload));
        let have = self
            .sides
            .get(side)
            .pods
            .values()
            .filter(|p| p.pod.owner.as_ref() == Some(key) && p.remove_at.is_none())
            .count() as u32;
        for i in have..replicas {
            let pod_key = self.spawn_pod(side, key, Some(i), false);
            let pod = self.sides.get(side).pods[&pod_key].pod.clone();
            self.emit(side, ClusterDelta::Pod(pod));
        }
    }

    // --- inspection for tests --------------------------------------------

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

fn groups(list: &[(String, Weight)]) -> String {
    list.iter().map(|(g, w)| format!("{g}={}", w.0)).collect::<Vec<_>>().join(" ")
}

/// A plausible age for a pod that was running before history starts.
fn rng_age(rng: &mut Rng) -> i64 {
    rng.between(2 * 3600, 9 * 86400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{App, Msg};
    use crate::domain::error_rate;
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
        assert!(kinds.contains(&crate::domain::NodeSignalKind::SpotInterruption), "{kinds:?}");
        assert!(kinds.contains(&crate::domain::NodeSignalKind::Cordon), "{kinds:?}");
    }

    #[test]
    fn the_demo_has_the_incidents_a_cutover_meets() {
        let mut w = world(2026);
        let mut app = console(&mut w);
        feed(&mut app, w.advance(plus_secs(start(), 60)));
        let rows = app.workload_rows();
        assert!(rows.iter().any(|r| r.drift), "an image differs between the sides");
        assert!(rows.iter().any(|r| r.sides.new.as_ref().is_some_and(|s| s.crashing > 0)), "a crash loop");
        assert!(rows.iter().any(|r| r.sides.old.is_none()) && rows.iter().any(|r| r.sides.new.is_none()));
        assert!(rows.iter().any(|r| r.singleton.is_some()) && !rows.iter().any(|r| r.singleton_conflict));
        let rebalance = app.node_signals.iter().any(|s| s.kind == crate::domain::NodeSignalKind::Rebalance);
        assert!(rebalance, "the scripted rebalance 20 s after the start");
        assert!(w.pod_count(Side::Old) >= 20 && w.pod_count(Side::New) >= 20);
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

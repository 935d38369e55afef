//! The demo's cast: the clusters, the routes and singletons of a
//! Rails-style photo service, the workloads on each side (with their
//! drift, a crash loop and a cron owner), and the scripted incidents.

use jiff::Timestamp;

use crate::app::{ClusterDelta, ClusterMeta, RouteSpec};
use crate::domain::{AlbSpec, Backend, DnsSpec, IngressRef, SingletonSpec};
use crate::domain::{PerSide, PodPhase, Side, Weight, Weights, Workload, WorkloadKey, WorkloadKind, plus_secs};

use super::World;
use super::nodes::DrainKind;
use super::pods::SimWorkload;
use super::routes::{LOAD_BALANCER, SimController, SimRoute};
use crate::sim::Rng;

/// The weights the `www` records were set to before the session, and how
/// long before its start.
pub(super) const WWW_OPENING: Weights = Weights { old: Weight(90), new: Weight(10) };
pub(super) const WWW_STEP_BEFORE_SECS: i64 = 150;
const ECR: &str = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/photo";

/// The two clusters: the old one of 2022 and the new one.
pub(super) fn clusters() -> PerSide<ClusterMeta> {
    PerSide::new(
        ClusterMeta { name: "eks-2022".into(), version: "1.24".into() },
        ClusterMeta { name: "eks-2026".into(), version: "1.31".into() },
    )
}

/// The routes: `api` and `admin` on one ALB, the admin rule owned by the
/// AWS Load Balancer Controller, and `www` as weighted records.
pub(super) fn routes() -> Vec<SimRoute> {
    vec![
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
                metrics: Default::default(),
                analysis: None,
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
                metrics: Default::default(),
                analysis: None,
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
                metrics: Default::default(),
                analysis: None,
            },
            weights: Weights { old: Weight(100), new: Weight(0) },
            base_rpm: 600.0,
            controller: None,
            dns: Some([0.0; 3]),
        },
    ]
}

/// What must never run twice: a scheduler and a cron owner.
pub(super) fn singletons() -> Vec<SingletonSpec> {
    vec![
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
    ]
}

/// The incidents at fixed times around the start: a spot interruption in
/// the history, a rebalance 20 s in, a Karpenter consolidation.
pub(super) fn script(start: Timestamp) -> Vec<(Timestamp, Side, DrainKind)> {
    vec![
        (plus_secs(start, -12 * 60), Side::New, DrainKind::Interruption),
        (plus_secs(start, 20), Side::New, DrainKind::Rebalance),
        (plus_secs(start, 150), Side::New, DrainKind::Consolidation),
    ]
}

impl World {
    pub(super) fn populate(&mut self) {
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
                    desired: replicas,
                    images: vec![format!("{ECR}/{repo}:{tag}")],
                    suspended,
                    schedule: match name {
                        "cleanup-sessions" => Some("*/15 * * * *".into()),
                        "billing-close" => Some("*/30 * * * *".into()),
                        "sitemap-refresh" => Some("0 * * * *".into()),
                        _ => None,
                    },
                    completed: (kind == WorkloadKind::Job).then_some(true),
                    // The scheduler is in an Argo CD application with
                    // self-heal on both clusters (see `self_heal`).
                    owner: (name == "scheduler")
                        .then(|| crate::domain::Owner::ArgoCd { app: "photo-api".into(), by_label: false }),
                    stop: super::lifecycle::stop_spec(name, side),
                    ..Workload::new(key.clone(), kind)
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
    pub(super) fn slow_start(&mut self) {
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
}

/// A plausible age for a pod that was running before history starts.
pub(super) fn rng_age(rng: &mut Rng) -> i64 {
    rng.between(2 * 3600, 9 * 86400)
}

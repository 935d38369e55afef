use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Health, Side};

/// `namespace/name`: how a workload is matched across the two sides.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WorkloadKey {
    pub namespace: String,
    pub name: String,
}

impl WorkloadKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self { namespace: namespace.into(), name: name.into() }
    }
}

impl std::fmt::Display for WorkloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    CronJob,
    Job,
}

impl WorkloadKind {
    pub fn short(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deploy",
            WorkloadKind::StatefulSet => "sts",
            WorkloadKind::CronJob => "cron",
            WorkloadKind::Job => "job",
        }
    }
}

/// A workload trimmed to what the console shows and compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    pub key: WorkloadKey,
    pub kind: WorkloadKind,
    /// Replicas asked for (Deployment, StatefulSet), or parallelism of a Job.
    pub desired: u32,
    /// Ready replicas; for a CronJob, the number of active Jobs.
    pub ready: u32,
    /// Container images in pod-template order; drift is any difference here.
    pub images: Vec<String>,
    /// CronJob `spec.suspend`; always false for other kinds.
    pub suspended: bool,
    /// CronJob schedule, shown in the drill-down.
    pub schedule: Option<String>,
    /// For a Job: finished, successfully or not.
    pub completed: Option<bool>,
    /// CronJob `status.lastScheduleTime`: the last run it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule: Option<Timestamp>,
    /// CronJob `spec.startingDeadlineSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline: Option<i64>,
    /// CronJob `spec.timeZone`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// When the object was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Who wrote its spec last, as the API server records it (the manager
    /// of the newest `managedFields` entry that is not a status update):
    /// `kubectl-scale`, `argocd-controller`, `kustomize-controller`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    /// Who else writes it (Argo CD, Flux, Helm), from its labels and
    /// annotations; None when nobody is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<super::Owner>,
}

impl Workload {
    /// The tag (or short digest) of the first image: what an operator compares by eye.
    pub fn tag(&self) -> &str {
        self.images.first().map(|i| image_tag(i)).unwrap_or("-")
    }

    /// Health from the workload's own status; pod-level trouble (crash loops)
    /// is folded in by the caller, which knows the pods.
    pub fn health(&self) -> Health {
        match self.kind {
            WorkloadKind::CronJob if self.suspended => Health::Idle,
            WorkloadKind::CronJob => Health::Healthy,
            WorkloadKind::Job => match self.completed {
                Some(true) => Health::Idle,
                Some(false) => Health::Failing,
                None => Health::Healthy,
            },
            WorkloadKind::Deployment | WorkloadKind::StatefulSet => {
                if self.desired == 0 {
                    Health::Idle
                } else if self.ready >= self.desired {
                    Health::Healthy
                } else if self.ready == 0 {
                    Health::Failing
                } else {
                    Health::Degraded
                }
            }
        }
    }

    /// Whether anything of it may be running now: what a singleton must
    /// never have on both sides at once.
    pub fn is_active(&self) -> bool {
        match self.kind {
            WorkloadKind::CronJob => !self.suspended || self.ready > 0,
            WorkloadKind::Job => self.completed.is_none(),
            _ => self.desired > 0 || self.ready > 0,
        }
    }
}

/// `registry/repo:tag` -> `tag`; `repo@sha256:abcdef...` -> `sha256:abcdef` (12 hex).
pub fn image_tag(image: &str) -> &str {
    if let Some((_, digest)) = image.split_once('@') {
        return &digest[..digest.len().min(19)];
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => tag,
        None => "latest",
    }
}

/// `ip-10-1-33-9.ap-northeast-1.compute.internal` -> `ip-10-1-33-9`: the
/// part that tells nodes apart on a narrow screen.
pub fn short_node(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PodKey {
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    pub key: PodKey,
    /// The workload that owns it (ReplicaSet and Job owners resolved to the
    /// Deployment or CronJob above them).
    pub owner: Option<WorkloadKey>,
    pub phase: PodPhase,
    pub ready: bool,
    pub restarts: u32,
    /// Why a container is waiting or the pod is not ready: `CrashLoopBackOff`,
    /// `ImagePullBackOff`, `Terminating`...
    pub reason: Option<String>,
    pub node: Option<String>,
    pub created: Timestamp,
}

/// Whether a pod of this phase still runs, for every part of `cutover`
/// that waits for a side to run nothing (the console, the executor, the
/// simulator): a finished pod (Succeeded, or Failed as an evicted pod is,
/// kept until garbage collection) does not; a terminating one does.
pub fn phase_still_running(phase: Option<&str>) -> bool {
    !matches!(phase, Some("Succeeded" | "Failed"))
}

impl Pod {
    /// See [`phase_still_running`].
    pub fn still_running(&self) -> bool {
        !matches!(self.phase, PodPhase::Succeeded | PodPhase::Failed)
    }

    pub fn health(&self) -> Health {
        match (self.phase, self.ready, self.reason.as_deref()) {
            (PodPhase::Succeeded, _, _) => Health::Idle,
            (PodPhase::Failed, _, _) => Health::Failing,
            (_, _, Some("CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull")) => Health::Failing,
            (PodPhase::Running, true, _) => Health::Healthy,
            _ => Health::Degraded,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Capacity {
    OnDemand,
    Spot,
    Unknown,
}

impl Capacity {
    pub fn short(self) -> &'static str {
        match self {
            Capacity::OnDemand => "od",
            Capacity::Spot => "spot",
            Capacity::Unknown => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub capacity: Capacity,
    pub instance_type: String,
    pub ready: bool,
    /// `spec.unschedulable`: cordoned, by a person or by a drain.
    pub cordoned: bool,
    /// Termination-handler taints present on the node.
    pub spot_interruption: bool,
    pub rebalance_recommendation: bool,
}

impl Node {
    /// What is taking this node's capacity away now, if anything.
    pub fn disruption(&self) -> Option<&'static str> {
        if self.spot_interruption {
            Some("spot interruption")
        } else if self.rebalance_recommendation {
            Some("rebalance")
        } else if !self.ready {
            Some("not ready")
        } else if self.cordoned {
            Some("cordoned")
        } else {
            None
        }
    }
}

/// Something that happened to a node and tends to precede 502/504s: the
/// lesson of the field notes is that these belong on the 5xx time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NodeSignalKind {
    SpotInterruption,
    Rebalance,
    Cordon,
    NotReady,
    /// The node object went away (terminated, scaled in).
    Removed,
}

impl NodeSignalKind {
    pub fn label(self) -> &'static str {
        match self {
            NodeSignalKind::SpotInterruption => "spot interruption",
            NodeSignalKind::Rebalance => "rebalance recommendation",
            NodeSignalKind::Cordon => "cordoned",
            NodeSignalKind::NotReady => "NotReady",
            NodeSignalKind::Removed => "node removed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSignal {
    pub at: Timestamp,
    pub side: Side,
    pub node: String,
    pub kind: NodeSignalKind,
}

/// A HorizontalPodAutoscaler, trimmed to what tells whether scaling works
/// on a side (one of the field notes' open questions before a move).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Autoscaler {
    /// The workload it scales.
    pub target: WorkloadKey,
    pub min: u32,
    pub max: u32,
    pub current: u32,
    pub desired: u32,
}

/// A Kubernetes Warning event, trimmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeWarning {
    pub at: Timestamp,
    /// `Pod/app/api-7d9f-x2x`, `Node/ip-10-1-2-3`...
    pub object: String,
    pub reason: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(desired: u32, ready: u32) -> Workload {
        Workload {
            key: WorkloadKey::new("app", "api"),
            kind: WorkloadKind::Deployment,
            desired,
            ready,
            images: vec!["1234.dkr.ecr.ap-northeast-1.amazonaws.com/photo/api:v2026.11.3".into()],
            suspended: false,
            schedule: None,
            completed: None,
            last_schedule: None,
            starting_deadline: None,
            time_zone: None,
            created: None,
            changed_by: None,
            owner: None,
        }
    }

    #[test]
    fn tags_come_from_the_last_path_segment() {
        assert_eq!(image_tag("registry:5000/photo/api:v1.2"), "v1.2");
        assert_eq!(image_tag("photo/api"), "latest");
        assert_eq!(image_tag("photo/api@sha256:0123456789abcdef0123"), "sha256:0123456789ab");
        assert_eq!(deploy(1, 1).tag(), "v2026.11.3");
    }

    #[test]
    fn deployment_health_follows_readiness() {
        assert_eq!(deploy(6, 6).health(), Health::Healthy);
        assert_eq!(deploy(6, 4).health(), Health::Degraded);
        assert_eq!(deploy(6, 0).health(), Health::Failing);
        assert_eq!(deploy(0, 0).health(), Health::Idle);
        assert!(!deploy(0, 0).is_active());
        assert!(deploy(0, 1).is_active(), "a pod still terminating counts as running");
    }
}

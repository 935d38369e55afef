use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Health, NodeSignalKind, Side};

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
    /// How its pods stop (a Deployment's or StatefulSet's pod template):
    /// the grace period and the longest `preStop` pause, for the risks of
    /// the night. None for other kinds, and in recordings made before it
    /// was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<super::lifecycle::StopSpec>,
}

impl Workload {
    /// A workload of `kind` with its key and nothing else: no replicas
    /// asked for or ready, no images, no schedule, no history, no owner.
    /// The start of a workload for tests, benchmarks and the simulator,
    /// which set what they need over it with struct update syntax
    /// (`Workload { desired: 3, ..Workload::new(key, kind) }`), so that a
    /// field added here is added once. The Kubernetes trim fills every
    /// field itself.
    pub fn new(key: WorkloadKey, kind: WorkloadKind) -> Workload {
        Workload {
            key,
            kind,
            desired: 0,
            ready: 0,
            images: Vec::new(),
            suspended: false,
            schedule: None,
            completed: None,
            last_schedule: None,
            starting_deadline: None,
            time_zone: None,
            created: None,
            changed_by: None,
            owner: None,
            stop: None,
        }
    }

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

impl PodKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self { namespace: namespace.into(), name: name.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl PodPhase {
    /// As the API names it.
    pub fn label(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Unknown => "Unknown",
        }
    }
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
    /// How a container of it ended last (the one that restarted, or one
    /// that finished): `OOMKilled` and 137, `Error` and 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_exit: Option<Exit>,
}

/// A container's termination: the kubelet's reason and the exit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    pub reason: String,
    pub code: i32,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.reason, self.code)
    }
}

/// Waiting reasons that say a container cannot run as it is (a restart or
/// a pull will not fix it by itself); `Init:` ones are an init container's.
const FAILURE_REASONS: [&str; 9] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreStartHookError",
];

/// How long a running pod may stay unready before it counts as unready
/// rather than starting (readiness probes' usual first minute).
const STARTING_SECS: i64 = 60;

/// Whether a pod of this phase still runs, for every part of `cutover`
/// that waits for a side to run nothing (the console, the executor, the
/// simulator): a finished pod (Succeeded, or Failed as an evicted pod is,
/// kept until garbage collection) does not; a terminating one does.
pub fn phase_still_running(phase: Option<&str>) -> bool {
    !matches!(phase, Some("Succeeded" | "Failed"))
}

impl Pod {
    /// A pod of `owner`, named `name` in the owner's namespace and created
    /// at `created`, as the API shows a pod just created: Pending, not
    /// ready, on no node, never restarted. The start of a pod for tests,
    /// benchmarks and the simulator, which set what they need over it
    /// (`Pod { phase: PodPhase::Running, ready: true, ..Pod::of(&key, name, at) }`).
    pub fn of(owner: &WorkloadKey, name: impl Into<String>, created: Timestamp) -> Pod {
        Pod {
            key: PodKey::new(owner.namespace.clone(), name),
            owner: Some(owner.clone()),
            phase: PodPhase::Pending,
            ready: false,
            restarts: 0,
            reason: None,
            node: None,
            created,
            last_exit: None,
        }
    }

    /// See [`phase_still_running`].
    pub fn still_running(&self) -> bool {
        !matches!(self.phase, PodPhase::Succeeded | PodPhase::Failed)
    }

    /// Failing: finished in failure, or a container that cannot run
    /// (crash loop, image pull, bad config). A pod that is only starting or
    /// not ready is degraded, never failing.
    pub fn health(&self) -> Health {
        match (self.phase, self.ready) {
            (PodPhase::Succeeded, _) => Health::Idle,
            (PodPhase::Failed, _) => Health::Failing,
            _ if self.failure().is_some() => Health::Failing,
            (PodPhase::Running, true) => Health::Healthy,
            _ => Health::Degraded,
        }
    }

    /// The waiting reason that makes it fail, if any.
    pub fn failure(&self) -> Option<&str> {
        let reason = self.reason.as_deref()?;
        FAILURE_REASONS.contains(&reason.strip_prefix("Init:").unwrap_or(reason)).then_some(reason)
    }

    /// On its way up, with nothing wrong seen yet: pending (scheduling,
    /// pulling, creating, initialising) without a failure, or running but
    /// not yet ready within its first minute and never restarted.
    pub fn starting(&self, now: Timestamp) -> bool {
        if self.failure().is_some() || self.reason.as_deref() == Some("Terminating") {
            return false;
        }
        match self.phase {
            PodPhase::Pending => true,
            PodPhase::Running => {
                !self.ready && self.restarts == 0 && now.as_second() - self.created.as_second() < STARTING_SECS
            }
            _ => false,
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
    /// The EC2 instance behind the node (`i-0abc…`, from `spec.providerID`):
    /// what EC2's own signals (Auto Scaling activities, CloudTrail events)
    /// name it by. None for a node that is not an EC2 instance, and in
    /// recordings made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub ready: bool,
    /// `spec.unschedulable`: cordoned, by a person or by a drain.
    pub cordoned: bool,
    /// Termination-handler taints present on the node.
    pub spot_interruption: bool,
    pub rebalance_recommendation: bool,
    /// Every other disruption taint and condition present, trimmed to the
    /// signal it stands for (`NodeSignalKind::TRIMMED`, in that order): the
    /// taint list itself is never kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disruptions: Vec<NodeSignalKind>,
}

impl Node {
    /// A ready node with no disruption signal, cordon or known EC2
    /// instance. The start of a node for tests and the simulator, which set
    /// what they need over it (`Node { cordoned: true, ..Node::new(..) }`).
    pub fn new(name: impl Into<String>, capacity: Capacity, instance_type: impl Into<String>) -> Node {
        Node {
            name: name.into(),
            capacity,
            instance_type: instance_type.into(),
            instance_id: None,
            ready: true,
            cordoned: false,
            spot_interruption: false,
            rebalance_recommendation: false,
            disruptions: Vec::new(),
        }
    }

    /// Whether the node's state shows this signal now.
    pub fn has(&self, kind: NodeSignalKind) -> bool {
        match kind {
            NodeSignalKind::SpotInterruption => self.spot_interruption,
            NodeSignalKind::Rebalance => self.rebalance_recommendation,
            NodeSignalKind::Cordon => self.cordoned,
            NodeSignalKind::NotReady => !self.ready,
            other => self.disruptions.contains(&other),
        }
    }

    /// The signals its state shows now, in `NodeSignalKind::ON_NODE` order.
    pub fn signals(&self) -> impl Iterator<Item = NodeSignalKind> + '_ {
        NodeSignalKind::ON_NODE.iter().copied().filter(|k| self.has(*k))
    }

    /// The signal that best explains a loss of this node's capacity: the
    /// highest `cause_rank`, the first in `ON_NODE` order among equals.
    pub fn strongest(&self) -> Option<NodeSignalKind> {
        self.signals().filter(|k| k.cause_rank() > 0).fold(None, |best: Option<NodeSignalKind>, k| match best {
            Some(b) if b.cause_rank() >= k.cause_rank() => Some(b),
            _ => Some(k),
        })
    }

    /// What is taking this node's capacity away now, if anything.
    pub fn disruption(&self) -> Option<&'static str> {
        self.strongest().map(NodeSignalKind::label)
    }
}

/// Pods of a route's workload that left a node with a disruption signal
/// (deleted, terminating or evicted), counted per minute, side, node and
/// the signal they are put down to: a count, never a list of pods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodsLost {
    pub minute: super::Minute,
    pub side: Side,
    pub workload: WorkloadKey,
    pub node: String,
    pub cause: NodeSignalKind,
    pub count: u32,
    /// The node's capacity when the pods left it (the node may be gone
    /// by the time a cause is named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
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
            desired,
            ready,
            images: vec!["1234.dkr.ecr.ap-northeast-1.amazonaws.com/photo/api:v2026.11.3".into()],
            ..Workload::new(WorkloadKey::new("app", "api"), WorkloadKind::Deployment)
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

    fn pod(phase: PodPhase, ready: bool, restarts: u32, reason: Option<&str>, age_secs: i64) -> (Pod, Timestamp) {
        let now: Timestamp = "2026-11-25T14:00:00Z".parse().unwrap();
        let pod = Pod {
            phase,
            ready,
            restarts,
            reason: reason.map(Into::into),
            ..Pod::of(&WorkloadKey::new("app", "api"), "api-7d9f-x2x4k", crate::domain::plus_secs(now, -age_secs))
        };
        (pod, now)
    }

    /// Starting is never failing; failing is a container that cannot run
    /// or a pod that ended in failure.
    #[test]
    fn pod_health_tells_starting_from_failing() {
        use PodPhase::*;
        // phase, ready, restarts, reason, age (s): health, starting
        type Case<'a> = (PodPhase, bool, u32, Option<&'a str>, i64, Health, bool);
        let table: [Case; 14] = [
            (Pending, false, 0, None, 5, Health::Degraded, true),
            (Pending, false, 0, Some("ContainerCreating"), 600, Health::Degraded, true),
            (Pending, false, 0, Some("PodInitializing"), 20, Health::Degraded, true),
            (Running, false, 0, None, 30, Health::Degraded, true),
            // Unready past its first minute, or after a restart: not starting.
            (Running, false, 0, None, 90, Health::Degraded, false),
            (Running, false, 2, None, 30, Health::Degraded, false),
            (Running, true, 0, None, 30, Health::Healthy, false),
            (Running, false, 5, Some("CrashLoopBackOff"), 900, Health::Failing, false),
            (Pending, false, 0, Some("ImagePullBackOff"), 40, Health::Failing, false),
            (Pending, false, 0, Some("ErrImagePull"), 40, Health::Failing, false),
            (Pending, false, 0, Some("CreateContainerConfigError"), 40, Health::Failing, false),
            (Pending, false, 0, Some("Init:CrashLoopBackOff"), 40, Health::Failing, false),
            (Running, false, 0, Some("Terminating"), 30, Health::Degraded, false),
            (Failed, false, 0, Some("Evicted"), 30, Health::Failing, false),
        ];
        for (phase, ready, restarts, reason, age, health, starting) in table {
            let (p, now) = pod(phase, ready, restarts, reason, age);
            assert_eq!(p.health(), health, "{phase:?} ready={ready} {reason:?}");
            assert_eq!(p.starting(now), starting, "{phase:?} ready={ready} restarts={restarts} {reason:?} {age}s");
        }
        let (done, now) = pod(Succeeded, false, 0, Some("Completed"), 30);
        assert_eq!((done.health(), done.starting(now), done.still_running()), (Health::Idle, false, false));
    }

    /// A signal that names an EC2 instance finds the node that instance
    /// is; one that names a node finds it by name.
    #[test]
    fn a_node_reference_finds_its_node_by_name_or_by_instance() {
        use crate::domain::NodeRef;
        use std::collections::BTreeMap;
        let spot = Node {
            instance_id: Some("i-0abc1234def567890".into()),
            ..Node::new("ip-10-1-40-71.ec2.internal", Capacity::Spot, "m6i.2xlarge")
        };
        let other = Node::new("ip-10-1-40-72.ec2.internal", Capacity::OnDemand, "m6i.2xlarge");
        let nodes: BTreeMap<String, Node> = [&spot, &other].map(|n| (n.name.clone(), n.clone())).into();
        let by_instance = NodeRef::Instance("i-0abc1234def567890".into());
        let by_name = NodeRef::Name("ip-10-1-40-72.ec2.internal".into());
        assert_eq!(by_instance.find(&nodes), Some(&spot));
        assert_eq!(by_name.find(&nodes), Some(&other));
        assert!(by_instance.is(&spot) && !by_instance.is(&other) && !by_name.is(&spot));
        assert_eq!(NodeRef::Instance("i-0fff".into()).find(&nodes), None, "not registered as a node (yet)");
        assert_eq!(NodeRef::Name("i-0abc1234def567890".into()).find(&nodes), None, "a name is not an instance");
        assert_eq!(by_instance.to_string(), "i-0abc1234def567890");
        assert_eq!(serde_json::to_string(&by_instance).unwrap(), r#"{"instance":"i-0abc1234def567890"}"#);
    }

    /// A node recorded before the instance id was kept still reads, and a
    /// node without one is written as it was then.
    #[test]
    fn a_node_of_an_older_recording_reads_without_an_instance_id() {
        let old = r#"{"name":"ip-10-0-17-16.ec2.internal","capacity":"OnDemand","instance_type":"m5.2xlarge","ready":true,"cordoned":false,"spot_interruption":false,"rebalance_recommendation":false}"#;
        let node: Node = serde_json::from_str(old).unwrap();
        assert_eq!(node, Node::new("ip-10-0-17-16.ec2.internal", Capacity::OnDemand, "m5.2xlarge"));
        assert_eq!(serde_json::to_string(&node).unwrap(), old);
    }

    /// A pod recorded before the last exit was kept still reads.
    #[test]
    fn a_pod_of_an_older_recording_reads_without_its_last_exit() {
        let old = r#"{"key":{"namespace":"app","name":"api-1"},"owner":null,"phase":"Running","ready":true,
            "restarts":0,"reason":null,"node":null,"created":"2026-11-25T13:00:00Z"}"#;
        let pod: Pod = serde_json::from_str(old).unwrap();
        assert_eq!(pod.last_exit, None);
    }
}

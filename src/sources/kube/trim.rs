//! API objects trimmed to domain types: what the console shows and
//! compares, never a pod template's env, a node's taint list or an
//! object's `managedFields`. Each trim function is what a watch keeps of
//! one kind of object.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;

use super::objects::{
    self, CronJobObj, DeploymentObj, EventObj, HpaObj, JobObj, NodeObj, PodObj, StatefulSetObj, TemplateSpec,
};
use crate::app::ClusterDelta;
use crate::domain::lifecycle::{DEFAULT_GRACE_SECS, PreStop, StopSpec, longest};
use crate::domain::{
    Autoscaler, Capacity, Exit, KubeWarning, Node, NodeEvent, NodeSignalKind, Owner, Pod, PodKey, PodPhase, Workload,
    WorkloadKey, WorkloadKind, owner_from_metadata,
};

fn key_of(meta: &ObjectMeta) -> WorkloadKey {
    WorkloadKey::new(meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default())
}

pub(super) fn workload_gone<K: Resource>(o: &K) -> Option<ClusterDelta> {
    Some(ClusterDelta::WorkloadGone(key_of(o.meta())))
}

/// Container images only: the pod template's env, args and volumes never
/// leave this function, so nothing secret reaches the screen or a recording.
fn images(spec: Option<&TemplateSpec>) -> Vec<String> {
    spec.map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect()).unwrap_or_default()
}

/// How a template's pods stop: the grace period and the longest pause of
/// its containers' `preStop` hooks. The command of an `exec` hook is read
/// for a `sleep` and dropped.
pub fn stop_spec(spec: Option<&TemplateSpec>) -> Option<StopSpec> {
    let spec = spec?;
    let hooks = spec.containers.iter().map(|c| match c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) {
        None => PreStop::None,
        Some(h) => match (&h.sleep, &h.exec) {
            (Some(s), _) => PreStop::Sleep(u32::try_from(s.seconds.max(0)).unwrap_or(u32::MAX)),
            (None, Some(e)) => sleep_of(&e.command),
            (None, None) => PreStop::Other,
        },
    });
    let grace = spec
        .termination_grace_period_seconds
        .map_or(DEFAULT_GRACE_SECS, |g| u32::try_from(g.max(0)).unwrap_or(u32::MAX));
    Some(StopSpec { grace_secs: grace, pre_stop: longest(hooks) })
}

/// The pause of an `exec` hook: `["sleep", "15"]`, `["/bin/sh", "-c",
/// "sleep 15 && nginx -s quit"]`; a hook that runs something else is of
/// unknown length.
pub fn sleep_of(command: &[String]) -> PreStop {
    let words: Vec<&str> =
        command.iter().flat_map(|c| c.split(|ch: char| ch.is_whitespace() || ";&|".contains(ch))).collect();
    let pause = words.windows(2).find_map(|w| {
        let program = w[0].rsplit('/').next().unwrap_or(w[0]);
        if program != "sleep" {
            return None;
        }
        w[1].trim_end_matches('s').parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0)
    });
    match pause {
        Some(n) => PreStop::Sleep(n.ceil() as u32),
        None => PreStop::Other,
    }
}

fn count(n: Option<i32>) -> u32 {
    n.unwrap_or(0).max(0) as u32
}

/// A Deployment or StatefulSet: replicas asked for (1 when unset, as the
/// API defaults it) and ready.
fn replicated(
    meta: &ObjectMeta,
    kind: WorkloadKind,
    replicas: Option<i32>,
    ready: Option<i32>,
    template: Option<&TemplateSpec>,
) -> Option<ClusterDelta> {
    Some(ClusterDelta::Workload(Workload {
        key: key_of(meta),
        kind,
        desired: count(replicas.or(Some(1))),
        ready: count(ready),
        images: images(template),
        suspended: false,
        schedule: None,
        completed: None,
        last_schedule: None,
        starting_deadline: None,
        time_zone: None,
        created: created(meta),
        changed_by: changed_by(meta),
        owner: owner_of(kind, meta),
        stop: stop_spec(template),
    }))
}

fn created(meta: &ObjectMeta) -> Option<Timestamp> {
    meta.creation_timestamp.as_ref().map(|t| t.0)
}

/// The manager of the newest `managedFields` entry that wrote the object
/// itself (not its status): who changed its spec last.
pub fn changed_by(meta: &ObjectMeta) -> Option<String> {
    meta.managed_fields
        .as_ref()?
        .iter()
        .filter(|f| f.subresource.as_deref().is_none_or(str::is_empty))
        .max_by_key(|f| f.time.as_ref().map(|t| t.0))
        .and_then(|f| f.manager.clone())
}

/// Who else writes the object, from the few labels and annotations that
/// name an owner (Argo CD, Flux, Helm); the rest of the metadata stays here.
pub fn owner_of(kind: WorkloadKind, meta: &ObjectMeta) -> Option<Owner> {
    let none = std::collections::BTreeMap::new();
    owner_from_metadata(
        kind,
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default(),
        meta.labels.as_ref().unwrap_or(&none),
        meta.annotations.as_ref().unwrap_or(&none),
    )
}

pub fn trim_deployment(d: &DeploymentObj) -> Option<ClusterDelta> {
    let spec = d.spec.as_ref();
    replicated(
        &d.metadata,
        WorkloadKind::Deployment,
        spec.and_then(|s| s.replicas),
        d.status.as_ref().and_then(|s| s.ready_replicas),
        spec.and_then(|s| s.template.spec.as_ref()),
    )
}

pub fn trim_statefulset(s: &StatefulSetObj) -> Option<ClusterDelta> {
    let spec = s.spec.as_ref();
    replicated(
        &s.metadata,
        WorkloadKind::StatefulSet,
        spec.and_then(|s| s.replicas),
        s.status.as_ref().and_then(|s| s.ready_replicas),
        spec.and_then(|s| s.template.spec.as_ref()),
    )
}

pub fn trim_cronjob(c: &CronJobObj) -> Option<ClusterDelta> {
    let spec = c.spec.as_ref();
    let template = spec.and_then(|s| s.job_template.spec.as_ref()).and_then(|j| j.template.spec.as_ref());
    Some(ClusterDelta::Workload(Workload {
        key: key_of(&c.metadata),
        kind: WorkloadKind::CronJob,
        desired: 0,
        ready: c.status.as_ref().and_then(|s| s.active.as_ref()).map_or(0, |a| a.len() as u32),
        images: images(template),
        suspended: spec.and_then(|s| s.suspend).unwrap_or(false),
        schedule: spec.map(|s| s.schedule.clone()),
        completed: None,
        last_schedule: c.status.as_ref().and_then(|s| s.last_schedule_time.as_ref()).map(|t| t.0),
        starting_deadline: spec.and_then(|s| s.starting_deadline_seconds),
        time_zone: spec.and_then(|s| s.time_zone.clone()),
        created: created(&c.metadata),
        changed_by: changed_by(&c.metadata),
        owner: owner_of(WorkloadKind::CronJob, &c.metadata),
        stop: None,
    }))
}

/// A Job of its own (a migration, a one-off). Jobs a CronJob created are
/// shown through the CronJob, not as rows of their own.
pub fn trim_job(j: &JobObj) -> Option<ClusterDelta> {
    if owner(&j.metadata).is_some_and(|o| o.kind == "CronJob") {
        return None;
    }
    let status = j.status.as_ref();
    let condition = |kind: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == kind && c.status == "True"))
    };
    let completed = if condition("Complete") {
        Some(true)
    } else if condition("Failed") {
        Some(false)
    } else {
        None
    };
    let spec = j.spec.as_ref();
    Some(ClusterDelta::Workload(Workload {
        key: key_of(&j.metadata),
        kind: WorkloadKind::Job,
        desired: count(spec.and_then(|s| s.parallelism).or(Some(1))),
        ready: count(status.and_then(|s| s.active)),
        images: images(spec.and_then(|s| s.template.spec.as_ref())),
        suspended: false,
        schedule: None,
        completed,
        last_schedule: None,
        starting_deadline: None,
        time_zone: None,
        created: created(&j.metadata),
        changed_by: None,
        owner: owner_of(WorkloadKind::Job, &j.metadata),
        stop: None,
    }))
}

fn owner(meta: &ObjectMeta) -> Option<&OwnerReference> {
    let refs = meta.owner_references.as_ref()?;
    refs.iter().find(|r| r.controller == Some(true)).or(refs.first())
}

/// The workload behind a pod, from the names Kubernetes' controllers give:
/// a ReplicaSet is `<deployment>-<hash>`, a CronJob's Job is
/// `<cronjob>-<scheduled minute>`. Reading the names saves watching every
/// ReplicaSet and Job only to follow the chain.
pub fn pod_owner(namespace: &str, meta: &ObjectMeta) -> Option<WorkloadKey> {
    let o = owner(meta)?;
    let name = match o.kind.as_str() {
        "ReplicaSet" => o.name.rsplit_once('-').map_or(o.name.as_str(), |(d, _)| d),
        "Job" => match o.name.rsplit_once('-') {
            Some((cron, stamp)) if stamp.len() >= 8 && stamp.chars().all(|c| c.is_ascii_digit()) => cron,
            _ => o.name.as_str(),
        },
        _ => o.name.as_str(),
    };
    Some(WorkloadKey::new(namespace, name))
}

pub fn trim_pod(p: &PodObj) -> Option<ClusterDelta> {
    let namespace = p.metadata.namespace.clone().unwrap_or_default();
    let status = p.status.as_ref();
    let phase = match status.and_then(|s| s.phase.as_deref()) {
        Some("Pending") => PodPhase::Pending,
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        _ => PodPhase::Unknown,
    };
    let containers = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or(&[]);
    let init = status.and_then(|s| s.init_container_statuses.as_deref()).unwrap_or(&[]);
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let waiting = |c: &objects::ContainerStatus| c.state.as_ref()?.waiting.as_ref()?.reason.clone();
    // An init container that waits says more than the app containers'
    // `PodInitializing` behind it (kubectl's `Init:CrashLoopBackOff`).
    let waiting = init
        .iter()
        .filter_map(waiting)
        .find(|r| r != "PodInitializing")
        .map(|r| format!("Init:{r}"))
        .or_else(|| containers.iter().find_map(waiting));
    let reason = if p.metadata.deletion_timestamp.is_some() {
        Some("Terminating".to_string())
    } else {
        waiting.or_else(|| status.and_then(|s| s.reason.clone()))
    };
    Some(ClusterDelta::Pod(Pod {
        key: PodKey { namespace: namespace.clone(), name: p.metadata.name.clone().unwrap_or_default() },
        owner: pod_owner(&namespace, &p.metadata),
        phase,
        ready,
        restarts: containers.iter().map(|c| c.restart_count.max(0) as u32).sum(),
        reason,
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        created: p.metadata.creation_timestamp.as_ref().map_or(Timestamp::UNIX_EPOCH, |t| t.0),
        last_exit: last_exit(init.iter().chain(containers)),
    }))
}

/// How a container ended last: of the container that restarted most, its
/// previous run (`lastState.terminated`); else a container that has ended
/// now (`state.terminated`: a finished or evicted pod), a failure first.
fn last_exit<'a>(containers: impl Iterator<Item = &'a objects::ContainerStatus> + Clone) -> Option<Exit> {
    let exit = |t: &objects::Terminated| Exit {
        reason: t.reason.clone().unwrap_or_else(|| match t.signal {
            Some(signal) => format!("signal {signal}"),
            None => "Terminated".into(),
        }),
        code: t.exit_code,
    };
    let restarted = containers
        .clone()
        .filter(|c| c.restart_count > 0)
        .max_by_key(|c| c.restart_count)
        .and_then(|c| c.last_state.as_ref()?.terminated.as_ref());
    restarted
        .or_else(|| {
            let ended = containers.filter_map(|c| c.state.as_ref()?.terminated.as_ref());
            ended.clone().find(|t| t.exit_code != 0).or(ended.clone().next())
        })
        .map(exit)
}

pub const TAINT_SPOT_ITN: &str = "aws-node-termination-handler/spot-itn";
pub const TAINT_REBALANCE: &str = "aws-node-termination-handler/rebalance-recommendation";
pub const TAINT_SCHEDULED_MAINTENANCE: &str = "aws-node-termination-handler/scheduled-maintenance";
pub const TAINT_ASG_TERMINATION: &str = "aws-node-termination-handler/asg-lifecycle-termination";
pub const TAINT_KARPENTER_DISRUPTED: &str = "karpenter.sh/disrupted";
/// Karpenter before v1: `karpenter.sh/disruption=disrupting`.
pub const TAINT_KARPENTER_DISRUPTION: &str = "karpenter.sh/disruption";
pub const TAINT_CA_TO_BE_DELETED: &str = "ToBeDeletedByClusterAutoscaler";
pub const TAINT_CA_CANDIDATE: &str = "DeletionCandidateOfClusterAutoscaler";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";
pub const TAINT_SHUTDOWN: &str = "node.cloudprovider.kubernetes.io/shutdown";

/// The disruption signal a taint stands for, if any. Keys only, except
/// Karpenter's older taint, whose value says it is disrupting.
pub fn taint_signal(key: &str, value: Option<&str>) -> Option<NodeSignalKind> {
    Some(match key {
        TAINT_SPOT_ITN => NodeSignalKind::SpotInterruption,
        TAINT_REBALANCE => NodeSignalKind::Rebalance,
        TAINT_SCHEDULED_MAINTENANCE => NodeSignalKind::NthScheduledMaintenance,
        TAINT_ASG_TERMINATION => NodeSignalKind::NthAsgTermination,
        TAINT_KARPENTER_DISRUPTED => NodeSignalKind::KarpenterDisrupted,
        TAINT_KARPENTER_DISRUPTION if value == Some("disrupting") => NodeSignalKind::KarpenterDisrupted,
        TAINT_CA_TO_BE_DELETED => NodeSignalKind::AutoscalerScaleDown,
        TAINT_CA_CANDIDATE => NodeSignalKind::AutoscalerCandidate,
        TAINT_UNSCHEDULABLE => NodeSignalKind::TaintUnschedulable,
        TAINT_NOT_READY => NodeSignalKind::TaintNotReady,
        TAINT_UNREACHABLE => NodeSignalKind::TaintUnreachable,
        TAINT_OUT_OF_SERVICE => NodeSignalKind::OutOfService,
        TAINT_SHUTDOWN => NodeSignalKind::CloudShutdown,
        _ => return None,
    })
}

/// The disruption signal a node condition stands for, if any. Ready is
/// kept as `Node::ready` (anything but True is not ready).
pub fn condition_signal(kind: &str, status: &str) -> Option<NodeSignalKind> {
    if status != "True" {
        return None;
    }
    Some(match kind {
        "MemoryPressure" => NodeSignalKind::MemoryPressure,
        "DiskPressure" => NodeSignalKind::DiskPressure,
        "PIDPressure" => NodeSignalKind::PidPressure,
        "NetworkUnavailable" => NodeSignalKind::NetworkUnavailable,
        _ => return None,
    })
}

pub fn trim_node(n: &NodeObj) -> Option<ClusterDelta> {
    let labels = n.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    let capacity = match label("eks.amazonaws.com/capacityType").or(label("karpenter.sh/capacity-type")) {
        Some("SPOT" | "spot") => Capacity::Spot,
        Some("ON_DEMAND" | "on-demand") => Capacity::OnDemand,
        _ => Capacity::Unknown,
    };
    let taints = n.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or(&[]);
    let conditions = n.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let present: Vec<NodeSignalKind> = taints
        .iter()
        .filter_map(|t| taint_signal(&t.key, t.value.as_deref()))
        .chain(conditions.iter().filter_map(|c| condition_signal(&c.type_, &c.status)))
        .collect();
    let ready = conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True");
    Some(ClusterDelta::Node(Node {
        name: n.metadata.name.clone().unwrap_or_default(),
        capacity,
        instance_type: label("node.kubernetes.io/instance-type").unwrap_or("?").to_string(),
        instance_id: n.spec.as_ref().and_then(|s| s.provider_id.as_deref()).and_then(ec2_instance),
        ready,
        cordoned: n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
        spot_interruption: present.contains(&NodeSignalKind::SpotInterruption),
        rebalance_recommendation: present.contains(&NodeSignalKind::Rebalance),
        disruptions: NodeSignalKind::TRIMMED.into_iter().filter(|k| present.contains(k)).collect(),
    }))
}

/// The EC2 instance id of a node's `providerID`: its last path segment
/// (`aws:///ap-northeast-1a/i-0abc…`, or `aws:///i-0abc…`), when that is
/// an instance's. Another cloud's, or a Fargate node's, is None.
pub fn ec2_instance(provider_id: &str) -> Option<String> {
    let rest = provider_id.strip_prefix("aws://")?;
    let last = rest.rsplit('/').next()?;
    (last.starts_with("i-") && last.len() > 2).then(|| last.to_string())
}

/// The disruption signal a Node Event stands for: Karpenter's, which are
/// mostly of type Normal and so never reach the warnings. Karpenter's
/// `DisruptionBlocked`, `Unconsolidatable` and `ConsolidationCandidate`
/// say nothing is being taken away, and are left out.
pub fn node_event_signal(reason: &str, message: &str) -> Option<NodeSignalKind> {
    Some(match reason {
        // "Disrupting Node: Underutilized" (v1), "...: Empty", "...: Drifted",
        // "...: Expired"; before v1 "Consolidation/Delete", "Drift/Replace"...
        "DisruptionTerminating" | "Disrupting" | "DeprovisioningTerminating" => {
            let why = message.to_ascii_lowercase();
            if why.contains("underutilized") || why.contains("empty") || why.contains("consolidat") {
                NodeSignalKind::KarpenterConsolidation
            } else if why.contains("drift") {
                NodeSignalKind::KarpenterDrift
            } else if why.contains("expir") {
                NodeSignalKind::KarpenterExpiration
            } else {
                NodeSignalKind::KarpenterDisrupted
            }
        }
        "SpotRebalanceRecommendation" => NodeSignalKind::KarpenterRebalance,
        "SpotInterrupted" => NodeSignalKind::KarpenterSpotInterruption,
        "InstanceStopping" | "InstanceTerminating" | "TerminatingOnInterruption" => {
            NodeSignalKind::KarpenterInstanceStopping
        }
        _ => return None,
    })
}

/// A Node Event that is a disruption signal, trimmed.
pub fn trim_node_event(e: &EventObj) -> Option<NodeEvent> {
    let o = &e.involved_object;
    if o.kind.as_deref() != Some("Node") {
        return None;
    }
    let reason = e.reason.as_deref()?;
    let kind = node_event_signal(reason, e.message.as_deref().unwrap_or(""))?;
    // When it first happened: a repeat of the same Event is the same signal.
    let at = e
        .first_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.last_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))?;
    Some(NodeEvent { at, node: o.name.clone()?, kind, reason: reason.to_string() })
}

pub(super) fn hpa_target(h: &HpaObj) -> Option<WorkloadKey> {
    let name = &h.spec.as_ref()?.scale_target_ref.name;
    Some(WorkloadKey::new(h.metadata.namespace.clone().unwrap_or_default(), name.clone()))
}

pub fn trim_hpa(h: &HpaObj) -> Option<ClusterDelta> {
    let spec = h.spec.as_ref()?;
    let status = h.status.as_ref();
    Some(ClusterDelta::Autoscaler(Autoscaler {
        target: hpa_target(h)?,
        min: count(spec.min_replicas.or(Some(1))),
        max: count(Some(spec.max_replicas)),
        current: count(status.and_then(|s| s.current_replicas)),
        desired: count(status.map(|s| s.desired_replicas)),
    }))
}

/// Warning events only; Normal ones are noise during an incident.
pub fn trim_warning(e: &EventObj) -> Option<KubeWarning> {
    if e.type_.as_deref() != Some("Warning") {
        return None;
    }
    let at = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.first_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))?;
    let o = &e.involved_object;
    let object = match (&o.kind, &o.namespace, &o.name) {
        (Some(k), Some(ns), Some(n)) => format!("{k}/{ns}/{n}"),
        (Some(k), None, Some(n)) => format!("{k}/{n}"),
        _ => "?".into(),
    };
    Some(KubeWarning {
        at,
        object,
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default().trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Event as KubeEvent, Node as KubeNode};

    use super::*;

    /// A full k8s-openapi object as the watch reads it: through its JSON,
    /// into the partial type.
    fn partial<T: serde::de::DeserializeOwned>(full: &impl serde::Serialize) -> T {
        serde_json::from_value(serde_json::to_value(full).unwrap()).unwrap()
    }

    fn meta_owned(kind: &str, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some("pod-x".into()),
            namespace: Some("app".into()),
            owner_references: Some(vec![OwnerReference {
                kind: kind.into(),
                name: name.into(),
                controller: Some(true),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    use k8s_openapi::api::core::v1::{NodeCondition, NodeSpec, NodeStatus, ObjectReference, Taint};

    /// A ready node with these taints and extra conditions, as the API
    /// would send it, trimmed.
    fn trimmed(taints: &[(&str, Option<&str>)], conditions: &[(&str, &str)], unschedulable: bool) -> Node {
        let condition = |t: &str, s: &str| NodeCondition { type_: t.into(), status: s.into(), ..Default::default() };
        let mut all = vec![condition("Ready", "True")];
        all.extend(conditions.iter().map(|(t, s)| condition(t, s)));
        // A later Ready replaces the first (a table row about Ready).
        if conditions.iter().any(|(t, _)| *t == "Ready") {
            all.remove(0);
        }
        let n = KubeNode {
            metadata: ObjectMeta { name: Some("ip-10-1-2-3.ec2.internal".into()), ..Default::default() },
            spec: Some(NodeSpec {
                unschedulable: Some(unschedulable),
                taints: Some(
                    taints
                        .iter()
                        .map(|(k, v)| Taint {
                            key: (*k).into(),
                            value: v.map(Into::into),
                            effect: "NoSchedule".into(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }),
            status: Some(NodeStatus { conditions: Some(all), ..Default::default() }),
        };
        match trim_node(&partial(&n)) {
            Some(ClusterDelta::Node(node)) => node,
            other => panic!("not a node: {other:?}"),
        }
    }

    /// Every taint, condition and spec field of the field notes' list, each
    /// alone on a node: the one signal it stands for, named by its source.
    #[test]
    fn each_disruption_taint_and_condition_is_one_signal_named_by_its_source() {
        use NodeSignalKind as K;
        let taints: [(&str, Option<&str>, K, &str); 14] = [
            (TAINT_SPOT_ITN, Some("spot-itn-event-1"), K::SpotInterruption, "NTH spot interruption"),
            (TAINT_REBALANCE, Some("rebalance-1"), K::Rebalance, "NTH rebalance recommendation"),
            (TAINT_SCHEDULED_MAINTENANCE, Some("sm-1"), K::NthScheduledMaintenance, "NTH scheduled maintenance"),
            (TAINT_ASG_TERMINATION, Some("asg-1"), K::NthAsgTermination, "NTH ASG lifecycle termination"),
            (TAINT_KARPENTER_DISRUPTED, None, K::KarpenterDisrupted, "Karpenter disruption"),
            (TAINT_KARPENTER_DISRUPTION, Some("disrupting"), K::KarpenterDisrupted, "Karpenter disruption"),
            (TAINT_CA_TO_BE_DELETED, Some("1732543200"), K::AutoscalerScaleDown, "Cluster Autoscaler scale-down"),
            (TAINT_CA_CANDIDATE, Some("1732543100"), K::AutoscalerCandidate, "Cluster Autoscaler deletion candidate"),
            (TAINT_UNSCHEDULABLE, None, K::TaintUnschedulable, "node unschedulable (taint)"),
            (TAINT_NOT_READY, None, K::TaintNotReady, "node not-ready (taint)"),
            (TAINT_UNREACHABLE, None, K::TaintUnreachable, "node unreachable (taint)"),
            (TAINT_OUT_OF_SERVICE, Some("nodeshutdown"), K::OutOfService, "node out-of-service (taint)"),
            (TAINT_SHUTDOWN, None, K::CloudShutdown, "node shutdown (cloud provider taint)"),
            ("karpenter.sh/unregistered", None, K::Removed, ""),
        ];
        for (key, value, kind, label) in taints {
            let node = trimmed(&[(key, value)], &[], false);
            let signals: Vec<K> = node.signals().collect();
            if label.is_empty() {
                assert!(signals.is_empty(), "{key} is no disruption: {signals:?}");
                continue;
            }
            assert_eq!(signals, vec![kind], "taint {key}");
            assert_eq!(kind.label(), label, "taint {key}");
            assert!(node.has(kind));
        }
        // Karpenter's older taint means nothing with another value.
        assert_eq!(trimmed(&[(TAINT_KARPENTER_DISRUPTION, Some("candidate"))], &[], false).signals().count(), 0);

        let conditions: [(&str, &str, Option<K>, &str); 11] = [
            ("Ready", "False", Some(K::NotReady), "NotReady (condition)"),
            ("Ready", "Unknown", Some(K::NotReady), "NotReady (condition)"),
            ("Ready", "True", None, ""),
            ("MemoryPressure", "True", Some(K::MemoryPressure), "memory pressure"),
            ("MemoryPressure", "False", None, ""),
            ("DiskPressure", "True", Some(K::DiskPressure), "disk pressure"),
            ("PIDPressure", "True", Some(K::PidPressure), "PID pressure"),
            ("PIDPressure", "Unknown", None, ""),
            ("NetworkUnavailable", "True", Some(K::NetworkUnavailable), "network unavailable"),
            ("NetworkUnavailable", "False", None, ""),
            ("KernelDeadlock", "True", None, ""),
        ];
        for (kind, status, expected, label) in conditions {
            let node = trimmed(&[], &[(kind, status)], false);
            let signals: Vec<K> = node.signals().collect();
            assert_eq!(signals, expected.into_iter().collect::<Vec<_>>(), "condition {kind}={status}");
            if let Some(k) = expected {
                assert_eq!(k.label(), label);
            }
        }
        let cordoned = trimmed(&[(TAINT_UNSCHEDULABLE, None)], &[], true);
        assert_eq!(cordoned.signals().collect::<Vec<_>>(), vec![K::Cordon, K::TaintUnschedulable]);
        assert_eq!(cordoned.disruption(), Some("cordoned"));

        // The trimmed node keeps the signals, never the taints: one node
        // with everything at once keeps each kind once, in a fixed order.
        let all: Vec<(&str, Option<&str>)> = taints.iter().map(|(k, v, _, _)| (*k, *v)).collect();
        let node = trimmed(&all, &[("MemoryPressure", "True"), ("DiskPressure", "True")], true);
        assert_eq!(node.disruptions.len(), 12, "{:?}", node.disruptions);
        assert!(node.spot_interruption && node.rebalance_recommendation && node.cordoned);
        assert_eq!(node.disruption(), Some("NTH spot interruption"), "the strongest cause first");
        let json = serde_json::to_string(&node).unwrap();
        assert!(!json.contains("aws-node-termination-handler") && !json.contains("NoSchedule"), "{json}");
    }

    /// A node recorded before the trimmed disruptions existed still reads.
    #[test]
    fn a_node_of_an_older_recording_reads_without_disruptions() {
        let old = r#"{"name":"ip-1","capacity":"Spot","instance_type":"m5.large","ready":true,"cordoned":false,
            "spot_interruption":true,"rebalance_recommendation":false}"#;
        let node: Node = serde_json::from_str(old).unwrap();
        assert!(node.disruptions.is_empty());
        assert_eq!(node.signals().collect::<Vec<_>>(), vec![NodeSignalKind::SpotInterruption]);
    }

    /// A node keeps the EC2 instance of its `providerID`, for the signals
    /// that name an instance; a node of another cloud has none, and a
    /// node without one is written as before.
    #[test]
    fn a_node_keeps_the_ec2_instance_of_its_provider_id() {
        let id = "i-0abc1234def567890";
        assert_eq!(ec2_instance(&format!("aws:///ap-northeast-1a/{id}")).as_deref(), Some(id));
        assert_eq!(ec2_instance(&format!("aws:///{id}")).as_deref(), Some(id));
        for other in
            ["gce://photo/asia-northeast1-a/vm-1", "aws:///ap-northeast-1a/fargate-ip-10-1-2-3", id, "aws:///a/i-", ""]
        {
            assert_eq!(ec2_instance(other), None, "{other}");
        }
        let with = |provider: Option<&str>| {
            let n = KubeNode {
                metadata: ObjectMeta { name: Some("ip-10-1-2-3.ec2.internal".into()), ..Default::default() },
                spec: Some(NodeSpec { provider_id: provider.map(Into::into), ..Default::default() }),
                status: None,
            };
            match trim_node(&partial(&n)) {
                Some(ClusterDelta::Node(node)) => node,
                other => panic!("not a node: {other:?}"),
            }
        };
        let node = with(Some(&format!("aws:///ap-northeast-1a/{id}")));
        assert_eq!(node.instance_id.as_deref(), Some(id));
        let json = serde_json::to_string(&node).unwrap();
        assert!(json.contains(&format!(r#""instance_id":"{id}""#)), "{json}");
        let none = serde_json::to_string(&with(None)).unwrap();
        assert!(!none.contains("instance_id"), "{none}");
    }

    fn node_event(kind: &str, reason: &str, message: &str) -> KubeEvent {
        KubeEvent {
            metadata: ObjectMeta {
                name: Some("ip-10-1-2-3.17f2".into()),
                namespace: Some("default".into()),
                uid: Some("e-1".into()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some(kind.into()),
                name: Some("ip-10-1-2-3.ec2.internal".into()),
                ..Default::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some("Normal".into()),
            first_timestamp: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-11-25T14:02:00Z".parse().unwrap(),
            )),
            ..Default::default()
        }
    }

    /// Karpenter's Node Events, Normal ones included, as signals; what says
    /// nothing is taken away is left out, and so is any other object's.
    #[test]
    fn karpenter_node_events_are_signals_named_by_their_source() {
        use NodeSignalKind as K;
        let table: [(&str, &str, &str, Option<K>); 12] = [
            ("Node", "DisruptionTerminating", "Disrupting Node: Underutilized", Some(K::KarpenterConsolidation)),
            ("Node", "DisruptionTerminating", "Disrupting Node: Empty", Some(K::KarpenterConsolidation)),
            ("Node", "DisruptionTerminating", "Disrupting Node: Drifted", Some(K::KarpenterDrift)),
            ("Node", "DisruptionTerminating", "Disrupting Node: Expired", Some(K::KarpenterExpiration)),
            ("Node", "DisruptionTerminating", "Disrupting Node: Manual", Some(K::KarpenterDisrupted)),
            (
                "Node",
                "SpotRebalanceRecommendation",
                "Spot rebalance recommendation was triggered",
                Some(K::KarpenterRebalance),
            ),
            ("Node", "SpotInterrupted", "Spot interruption warning was triggered", Some(K::KarpenterSpotInterruption)),
            ("Node", "InstanceStopping", "Instance is stopping", Some(K::KarpenterInstanceStopping)),
            ("Node", "DisruptionBlocked", "Cannot disrupt Node: pdb prevents pod evictions", None),
            ("Node", "Unconsolidatable", "SpotToSpotConsolidation is disabled", None),
            ("NodeClaim", "DisruptionTerminating", "Disrupting NodeClaim: Underutilized", None),
            ("Pod", "SpotInterrupted", "Pod will be evicted", None),
        ];
        for (object, reason, message, expected) in table {
            let got = trim_node_event(&partial(&node_event(object, reason, message)));
            assert_eq!(got.as_ref().map(|e| e.kind), expected, "{object} {reason}: {message}");
            if let Some(e) = got {
                assert!(e.kind.label().starts_with("Karpenter "), "{}", e.kind.label());
                assert_eq!((e.node.as_str(), e.reason.as_str()), ("ip-10-1-2-3.ec2.internal", reason));
                assert_eq!(e.at, "2026-11-25T14:02:00Z".parse::<Timestamp>().unwrap());
            }
        }
        assert_eq!(K::KarpenterConsolidation.label(), "Karpenter consolidation");
    }

    #[test]
    fn a_workload_keeps_only_the_owner_its_labels_and_annotations_name() {
        let deployment = |labels: &[(&str, &str)], annotations: &[(&str, &str)]| {
            let map = |pairs: &[(&str, &str)]| {
                Some(
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<std::collections::BTreeMap<_, _>>(),
                )
            };
            let d = Deployment {
                metadata: ObjectMeta {
                    name: Some("scheduler".into()),
                    namespace: Some("app".into()),
                    labels: map(labels),
                    annotations: map(annotations),
                    ..Default::default()
                },
                ..Default::default()
            };
            match trim_deployment(&partial(&d)) {
                Some(ClusterDelta::Workload(w)) => w,
                other => panic!("{other:?}"),
            }
        };
        let w = deployment(
            &[("app", "scheduler")],
            &[
                ("argocd.argoproj.io/tracking-id", "photo-api:apps/Deployment:app/scheduler"),
                ("kubectl.kubernetes.io/last-applied-configuration", "{\"spec\":{\"replicas\":1}}"),
            ],
        );
        assert_eq!(w.owner, Some(Owner::ArgoCd { app: "photo-api".into(), by_label: false }));
        let text = serde_json::to_string(&w).unwrap();
        assert!(!text.contains("last-applied") && !text.contains("tracking-id"), "only the owner is kept: {text}");
        assert_eq!(deployment(&[], &[]).owner, None);
    }

    #[test]
    fn a_workload_keeps_how_its_pods_stop_and_nothing_else_of_their_hooks() {
        let d: DeploymentObj = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "api", "namespace": "family"},
            "spec": {"template": {"spec": {
                "terminationGracePeriodSeconds": 45,
                "containers": [
                    {"image": "api:v2", "lifecycle": {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 20 && curl -s localhost/drain?token=SECRET"]}}}},
                    {"image": "envoy:v1", "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}},
                    {"image": "log:v1"}
                ]
            }}}
        }))
        .unwrap();
        let Some(ClusterDelta::Workload(w)) = trim_deployment(&d) else { panic!() };
        assert_eq!(w.stop, Some(StopSpec { grace_secs: 45, pre_stop: PreStop::Sleep(20) }));
        assert!(!serde_json::to_string(&w).unwrap().contains("SECRET"), "the hook's command is not kept");
        let bare: DeploymentObj = serde_json::from_value(
            serde_json::json!({"spec": {"template": {"spec": {"containers": [{"image": "a"}]}}}}),
        )
        .unwrap();
        let Some(ClusterDelta::Workload(w)) = trim_deployment(&bare) else { panic!() };
        assert_eq!(w.stop, Some(StopSpec { grace_secs: 30, pre_stop: PreStop::None }));
        let words = |c: &[&str]| sleep_of(&c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(words(&["sleep", "15"]), PreStop::Sleep(15));
        assert_eq!(words(&["/bin/sleep", "2.5s"]), PreStop::Sleep(3));
        assert_eq!(words(&["nginx", "-s", "quit"]), PreStop::Other);
        assert_eq!(words(&["sh", "-c", "echo bye;sleep 10"]), PreStop::Sleep(10));
    }

    #[test]
    fn pods_are_traced_to_their_workload_by_controller_names() {
        let key = |kind, name| pod_owner("app", &meta_owned(kind, name)).unwrap().name;
        assert_eq!(key("ReplicaSet", "api-7d9f8c6b5"), "api");
        assert_eq!(key("ReplicaSet", "sidekiq-default-5c9b7"), "sidekiq-default");
        assert_eq!(key("StatefulSet", "memcached"), "memcached");
        assert_eq!(key("Job", "billing-close-29413920"), "billing-close");
        assert_eq!(key("Job", "db-migrate"), "db-migrate");
        assert_eq!(pod_owner("app", &ObjectMeta::default()), None);
    }

    /// A pod as the API server sends it: everything the kubelet writes,
    /// most of which the watch never builds.
    fn pod_json(phase: &str, ready: bool, containers: serde_json::Value) -> PodObj {
        let json = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "sidekiq-gpu-6f8d9c7b5-x2x4k", "namespace": "batch", "uid": "3c1e-77",
                "resourceVersion": "48213", "creationTimestamp": "2026-11-25T13:02:11Z",
                "labels": {"app": "sidekiq-gpu", "pod-template-hash": "6f8d9c7b5"},
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T13:00:00Z"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "sidekiq-gpu-6f8d9c7b5",
                                     "uid": "9a-1", "controller": true, "blockOwnerDeletion": true}],
                "managedFields": [{"manager": "kubelet", "operation": "Update", "subresource": "status",
                                   "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:phase": {}}}}]
            },
            "spec": {
                "nodeName": "ip-10-1-40-71.ec2.internal",
                "containers": [{"name": "sidekiq", "image": "photo/worker-gpu:v2.14.0",
                                "env": [{"name": "DATABASE_PASSWORD", "value": "s3cr3t-never-record"}],
                                "resources": {"limits": {"memory": "2Gi"}}}]
            },
            "status": {
                "phase": phase, "qosClass": "Burstable", "startTime": "2026-11-25T13:02:12Z",
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                                "lastTransitionTime": "2026-11-25T13:02:40Z"}],
                "containerStatuses": containers
            }
        });
        serde_json::from_value(json).unwrap()
    }

    fn trimmed_pod(p: &PodObj) -> Pod {
        match trim_pod(p) {
            Some(ClusterDelta::Pod(pod)) => pod,
            other => panic!("not a pod: {other:?}"),
        }
    }

    #[test]
    fn a_pod_keeps_why_it_fails_and_nothing_of_its_spec() {
        use crate::domain::Health;
        let now: Timestamp = "2026-11-25T14:00:00Z".parse().unwrap();
        // Killed for memory, now backing off before the next restart.
        let oom = trimmed_pod(&pod_json(
            "Running",
            false,
            serde_json::json!([{
                "name": "sidekiq", "image": "photo/worker-gpu:v2.14.0", "imageID": "photo/worker-gpu@sha256:ab",
                "restartCount": 12, "ready": false, "started": false,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                                      "message": "back-off 5m0s restarting failed container=sidekiq"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                             "startedAt": "2026-11-25T13:54:00Z",
                                             "finishedAt": "2026-11-25T13:54:09Z"}}
            }]),
        ));
        assert_eq!(oom.reason.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(oom.last_exit, Some(Exit { reason: "OOMKilled".into(), code: 137 }));
        assert_eq!(oom.last_exit.as_ref().unwrap().to_string(), "OOMKilled (137)");
        assert_eq!((oom.restarts, oom.ready, oom.health()), (12, false, Health::Failing));
        assert!(!oom.starting(now));
        assert_eq!(oom.owner, Some(WorkloadKey::new("batch", "sidekiq-gpu")));
        assert_eq!(oom.node.as_deref(), Some("ip-10-1-40-71.ec2.internal"));
        let text = serde_json::to_string(&oom).unwrap();
        assert!(!text.contains("s3cr3t") && !text.contains("restartedAt") && !text.contains("f:status"), "{text}");

        // Still pulling its image: starting, whatever its age.
        let creating = trimmed_pod(&pod_json(
            "Pending",
            false,
            serde_json::json!([{"name": "sidekiq", "image": "photo/worker-gpu:v2.14.0", "restartCount": 0,
                                "ready": false, "state": {"waiting": {"reason": "ContainerCreating"}}}]),
        ));
        assert_eq!((creating.reason.as_deref(), creating.last_exit.as_ref()), (Some("ContainerCreating"), None));
        assert_eq!(creating.health(), Health::Degraded);
        assert!(creating.starting(now));

        // A secret that does not exist: the container cannot be created.
        let config = trimmed_pod(&pod_json(
            "Pending",
            false,
            serde_json::json!([{"name": "sidekiq", "restartCount": 0, "ready": false,
                                "state": {"waiting": {"reason": "CreateContainerConfigError",
                                                      "message": "secret \"photo-db\" not found"}}}]),
        ));
        assert_eq!(config.health(), Health::Failing);
        assert!(!config.starting(now));

        // A finished container that failed, without restarts (a Job's pod).
        let failed = trimmed_pod(&pod_json(
            "Failed",
            false,
            serde_json::json!([{"name": "sidekiq", "restartCount": 0, "ready": false,
                                "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]),
        ));
        assert_eq!(failed.last_exit, Some(Exit { reason: "Error".into(), code: 1 }));
        assert_eq!(failed.health(), Health::Failing);
    }

    #[test]
    fn an_init_container_that_fails_is_named_before_pod_initializing() {
        let mut pod = pod_json(
            "Pending",
            false,
            serde_json::json!([{"name": "sidekiq", "restartCount": 0, "ready": false,
                                "state": {"waiting": {"reason": "PodInitializing"}}}]),
        );
        let init: Vec<objects::ContainerStatus> = serde_json::from_value(serde_json::json!([{
            "name": "migrate", "restartCount": 3, "ready": false,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}}
        }]))
        .unwrap();
        pod.status.as_mut().unwrap().init_container_statuses = Some(init);
        let p = trimmed_pod(&pod);
        assert_eq!(p.reason.as_deref(), Some("Init:CrashLoopBackOff"));
        assert_eq!(p.last_exit, Some(Exit { reason: "Error".into(), code: 2 }));
        assert_eq!(p.health(), crate::domain::Health::Failing);
    }
}

//! Partial API objects for the watches: each holds only the fields its
//! trim function reads. serde skips the rest of the JSON (pod templates'
//! env and volumes, `managedFields`' field sets, probes, images' digests)
//! without building it, so a list page costs its trimmed size, not the
//! full k8s-openapi objects' (several KB a pod).
//!
//! Each implements `kube::Resource` through the full type it stands for,
//! so `Api` and `kube::runtime::watcher` use the same paths and kinds.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, MicroTime, ObjectMeta, OwnerReference, Time};
use serde::{Deserialize, Deserializer};

/// `kube::Resource` for a partial type, from the full type's constants.
macro_rules! resource {
    ($partial:ty, $full:ty) => {
        impl kube::Resource for $partial {
            type DynamicType = ();
            type Scope = <$full as k8s_openapi::Resource>::Scope;

            fn kind(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::KIND.into()
            }
            fn group(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::GROUP.into()
            }
            fn version(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::VERSION.into()
            }
            fn plural(_: &()) -> Cow<'_, str> {
                <$full as k8s_openapi::Resource>::URL_PATH_SEGMENT.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct OwnerRef {
    api_version: String,
    kind: String,
    name: String,
    uid: String,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Managed {
    manager: Option<String>,
    operation: Option<String>,
    subresource: Option<String>,
    time: Option<Time>,
}

/// What every watch needs of an object's metadata: who it is, its
/// resourceVersion (the watcher resumes from it), its age and owner.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
    owner_references: Option<Vec<OwnerRef>>,
}

impl Meta {
    fn into_object_meta(self) -> ObjectMeta {
        ObjectMeta {
            name: self.name,
            namespace: self.namespace,
            uid: self.uid,
            resource_version: self.resource_version,
            creation_timestamp: self.creation_timestamp,
            deletion_timestamp: self.deletion_timestamp,
            owner_references: self.owner_references.map(|refs| {
                refs.into_iter()
                    .map(|r| OwnerReference {
                        api_version: r.api_version,
                        kind: r.kind,
                        name: r.name,
                        uid: r.uid,
                        controller: r.controller,
                        block_owner_deletion: None,
                    })
                    .collect()
            }),
            ..ObjectMeta::default()
        }
    }
}

/// Pods, Events, autoscalers: no labels or annotations.
fn meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    Ok(Meta::deserialize(d)?.into_object_meta())
}

/// Nodes: their labels name the capacity type and instance type.
fn labelled_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    #[derive(Deserialize)]
    struct Labelled {
        #[serde(flatten)]
        meta: Meta,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
    }
    let l = Labelled::deserialize(d)?;
    Ok(ObjectMeta { labels: l.labels, ..l.meta.into_object_meta() })
}

/// Workloads: labels and annotations name an owner (Argo CD, Flux, Helm),
/// `managedFields` who changed the spec last (without the field sets).
fn workload_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Owned {
        #[serde(flatten)]
        meta: Meta,
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
        #[serde(default)]
        annotations: Option<BTreeMap<String, String>>,
        #[serde(default)]
        managed_fields: Option<Vec<Managed>>,
    }
    let o = Owned::deserialize(d)?;
    Ok(ObjectMeta {
        labels: o.labels,
        annotations: o.annotations,
        managed_fields: o.managed_fields.map(|fields| {
            fields
                .into_iter()
                .map(|f| ManagedFieldsEntry {
                    manager: f.manager,
                    operation: f.operation,
                    subresource: f.subresource,
                    time: f.time,
                    ..ManagedFieldsEntry::default()
                })
                .collect()
        }),
        ..o.meta.into_object_meta()
    })
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct Container {
    pub image: Option<String>,
    pub lifecycle: Option<Lifecycle>,
}

/// A container's lifecycle hooks: only `preStop`, and of it only what
/// says how long it pauses.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Lifecycle {
    pub pre_stop: Option<Hook>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Hook {
    pub exec: Option<ExecHook>,
    pub sleep: Option<SleepHook>,
    pub http_get: Option<serde::de::IgnoredAny>,
    pub tcp_socket: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct ExecHook {
    pub command: Vec<String>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct SleepHook {
    pub seconds: i64,
}

/// A pod template's spec: its containers' images and how they stop,
/// nothing else.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TemplateSpec {
    pub containers: Vec<Container>,
    pub termination_grace_period_seconds: Option<i64>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct Template {
    pub spec: Option<TemplateSpec>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicatedSpec {
    pub replicas: Option<i32>,
    pub template: Template,
    /// Which pods are its own: the lifecycle reader lists them by it.
    pub selector: Option<Selector>,
}

/// A label selector's `matchLabels`; `matchExpressions` are not read (a
/// Deployment's selector is its template's labels in practice).
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Selector {
    pub match_labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicatedStatus {
    pub ready_replicas: Option<i32>,
}

/// A Deployment or a StatefulSet.
#[derive(Deserialize, Clone, Debug)]
pub struct Replicated<K> {
    #[serde(deserialize_with = "workload_meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<ReplicatedSpec>,
    #[serde(default)]
    pub status: Option<ReplicatedStatus>,
    #[serde(skip)]
    kind: std::marker::PhantomData<K>,
}

pub type DeploymentObj = Replicated<Deployment>;
pub type StatefulSetObj = Replicated<StatefulSet>;
resource!(DeploymentObj, Deployment);
resource!(StatefulSetObj, StatefulSet);

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct JobTemplate {
    pub spec: Option<JobTemplateSpec>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct JobTemplateSpec {
    pub template: Template,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CronJobSpec {
    pub schedule: String,
    pub suspend: Option<bool>,
    pub starting_deadline_seconds: Option<i64>,
    pub time_zone: Option<String>,
    pub job_template: JobTemplate,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CronJobStatus {
    /// The running Jobs, counted only.
    pub active: Option<Vec<serde::de::IgnoredAny>>,
    pub last_schedule_time: Option<Time>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct CronJobObj {
    #[serde(deserialize_with = "workload_meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<CronJobSpec>,
    #[serde(default)]
    pub status: Option<CronJobStatus>,
}
resource!(CronJobObj, CronJob);

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct JobSpec {
    pub parallelism: Option<i32>,
    pub template: Template,
}

/// A condition's type and status: all any trim function reads of one.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct JobStatus {
    pub active: Option<i32>,
    pub conditions: Option<Vec<Condition>>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct JobObj {
    #[serde(deserialize_with = "workload_meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<JobSpec>,
    #[serde(default)]
    pub status: Option<JobStatus>,
}
resource!(JobObj, Job);

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    pub node_name: Option<String>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct Waiting {
    pub reason: Option<String>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Terminated {
    pub reason: Option<String>,
    pub exit_code: i32,
    pub signal: Option<i32>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct ContainerState {
    pub waiting: Option<Waiting>,
    pub terminated: Option<Terminated>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStatus {
    pub restart_count: i32,
    pub state: Option<ContainerState>,
    pub last_state: Option<ContainerState>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    pub phase: Option<String>,
    pub reason: Option<String>,
    pub conditions: Option<Vec<Condition>>,
    pub container_statuses: Option<Vec<ContainerStatus>>,
    pub init_container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct PodObj {
    #[serde(deserialize_with = "meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<PodSpec>,
    #[serde(default)]
    pub status: Option<PodStatus>,
}
resource!(PodObj, Pod);

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct NodeSpec {
    pub unschedulable: Option<bool>,
    pub taints: Option<Vec<Taint>>,
    /// `aws:///ap-northeast-1a/i-0abc…` on EKS.
    #[serde(rename = "providerID")]
    pub provider_id: Option<String>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct NodeStatus {
    pub conditions: Option<Vec<Condition>>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct NodeObj {
    #[serde(deserialize_with = "labelled_meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<NodeSpec>,
    #[serde(default)]
    pub status: Option<NodeStatus>,
}
resource!(NodeObj, Node);

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct InvolvedObject {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct EventObj {
    #[serde(deserialize_with = "meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub involved_object: InvolvedObject,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    #[serde(default)]
    pub first_timestamp: Option<Time>,
    #[serde(default)]
    pub last_timestamp: Option<Time>,
    #[serde(default)]
    pub event_time: Option<MicroTime>,
}
resource!(EventObj, Event);

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct ScaleTarget {
    pub name: String,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct HpaSpec {
    pub scale_target_ref: ScaleTarget,
    pub min_replicas: Option<i32>,
    pub max_replicas: i32,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct HpaStatus {
    pub current_replicas: Option<i32>,
    pub desired_replicas: i32,
}

#[derive(Deserialize, Clone, Debug)]
pub struct HpaObj {
    #[serde(deserialize_with = "meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<HpaSpec>,
    #[serde(default)]
    pub status: Option<HpaStatus>,
}
resource!(HpaObj, HorizontalPodAutoscaler);

/// An environment variable of a container: kept only by name and literal
/// value, and read only for the few names that say where a handler reads
/// its notices (`INTERRUPTION_QUEUE`); a `valueFrom` is never followed.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
}

/// A termination handler's container: its env and args, where its
/// interruption queue is named.
#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct HandlerContainer {
    pub env: Vec<EnvVar>,
    pub args: Vec<String>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct HandlerPodSpec {
    pub containers: Vec<HandlerContainer>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct HandlerTemplate {
    pub spec: Option<HandlerPodSpec>,
}

#[derive(Deserialize, Clone, Debug, Default)]
#[serde(default)]
pub struct HandlerSpec {
    pub template: HandlerTemplate,
}

/// A DaemonSet or Deployment that may be a termination handler (NTH,
/// Karpenter): its name and its containers' env and args, nothing else.
#[derive(Deserialize, Clone, Debug)]
pub struct HandlerObj<K> {
    #[serde(deserialize_with = "meta", default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<HandlerSpec>,
    #[serde(skip)]
    kind: std::marker::PhantomData<K>,
}

pub type DaemonSetHandlerObj = HandlerObj<DaemonSet>;
pub type DeploymentHandlerObj = HandlerObj<Deployment>;
resource!(DaemonSetHandlerObj, DaemonSet);
resource!(DeploymentHandlerObj, Deployment);

/// A Namespace: its labels (the Load Balancer Controller's readiness gate
/// label among them).
#[derive(Deserialize, Clone, Debug)]
pub struct NamespaceObj {
    #[serde(deserialize_with = "labelled_meta", default)]
    pub metadata: ObjectMeta,
}
resource!(NamespaceObj, k8s_openapi::api::core::v1::Namespace);

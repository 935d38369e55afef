//! Singleton stops and starts: merge patches of `spec.replicas` or
//! `spec.suspend`, a start only when the other side runs nothing, and a
//! read-back after each.

use std::future::Future;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::KUBE_CALL_DEADLINE;
use crate::app::EffectResult;
use crate::domain::{Side, WorkloadKey, WorkloadKind, phase_still_running};
use crate::sources::fault::Fault;
use crate::sources::kube::{KubeError, pod_owner};

/// Why a Kubernetes call of the executor did not answer.
#[derive(Debug, thiserror::Error)]
enum CallError {
    /// The API server answered with an error, or was never reached (the
    /// connection was refused): nothing was changed.
    #[error("{0}")]
    Answered(KubeError),
    /// No answer: a timeout or a lost connection; a write may have happened.
    #[error("{0}")]
    NoAnswer(KubeError),
}

/// One call with the executor's deadline.
async fn call<T>(what: impl Future<Output = Result<T, kube::Error>>) -> Result<T, CallError> {
    match tokio::time::timeout(KUBE_CALL_DEADLINE, what).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            let e = KubeError::of(&e);
            Err(if e.answered() { CallError::Answered(e) } else { CallError::NoAnswer(e) })
        }
        Err(_) => Err(CallError::NoAnswer(KubeError::no_answer_within(KUBE_CALL_DEADLINE))),
    }
}

/// How a side is started.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    pub replicas: u32,
    /// CronJob: `startingDeadlineSeconds` written with the resume.
    pub starting_deadline: Option<i64>,
}

fn patch_body(kind: WorkloadKind, running: bool, start: Start) -> serde_json::Value {
    match kind {
        WorkloadKind::CronJob => match (running, start.starting_deadline) {
            (true, Some(deadline)) => json!({ "spec": { "suspend": false, "startingDeadlineSeconds": deadline } }),
            _ => json!({ "spec": { "suspend": !running } }),
        },
        _ => json!({ "spec": { "replicas": if running { start.replicas } else { 0 } } }),
    }
}

fn resource(kind: WorkloadKind) -> (&'static str, &'static str) {
    match kind {
        WorkloadKind::CronJob => ("batch", "cronjobs"),
        _ => ("apps", "deployments"),
    }
}

/// Whether the operator may patch `key` on a side, as the API server
/// says (a SelfSubjectAccessReview).
async fn may_patch(client: &Client, key: &WorkloadKey, kind: WorkloadKind) -> Result<(), String> {
    let (group, resource) = resource(kind);
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some("patch".into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: Some(key.namespace.clone()),
                name: Some(key.name.clone()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api = Api::<SelfSubjectAccessReview>::all(client.clone());
    let answer =
        call(api.create(&PostParams::default(), &review)).await.map_err(|e| format!("cannot ask whether: {e}"))?;
    let status = answer.status.unwrap_or_default();
    if status.allowed {
        return Ok(());
    }
    let why = status.reason.filter(|r| !r.is_empty()).map(|r| format!(" ({r})")).unwrap_or_default();
    Err(format!("not allowed{why}"))
}

/// Before the first step of a handoff: the target exists and may be
/// patched, and the source may be patched back. Nothing is stopped
/// unless all of it holds.
pub async fn preflight(
    source: &Client,
    source_side: Side,
    source_key: &WorkloadKey,
    target: &Client,
    target_side: Side,
    target_key: &WorkloadKey,
    kind: WorkloadKind,
) -> Result<(), String> {
    let (_, resource) = resource(kind);
    let nothing = "nothing was stopped";
    match fetch(target, target_key, kind).await {
        Ok(_) => {}
        Err(CallError::Answered(e)) if e.fault == Fault::NotFound => {
            return Err(format!(
                "{target_key} does not exist on {target_side} ({resource}): it could not be started; {nothing}"
            ));
        }
        Err(e) => return Err(format!("cannot read {target_key} on {target_side}: {e}; {nothing}")),
    }
    if let Err(e) = may_patch(target, target_key, kind).await {
        return Err(format!("may you patch {resource} {target_key} on {target_side}? {e}; {nothing}"));
    }
    if let Err(e) = may_patch(source, source_key, kind).await {
        return Err(format!("may you patch {resource} {source_key} on {source_side} (to restore it)? {e}; {nothing}"));
    }
    Ok(())
}

fn describe(kind: WorkloadKind, side: Side, key: &WorkloadKey, body: &serde_json::Value) -> String {
    let resource = match kind {
        WorkloadKind::CronJob => "batch/v1 cronjobs",
        _ => "apps/v1 deployments",
    };
    format!("PATCH (merge) {resource} {key} on {side}: {body}")
}

async fn patch(
    client: &Client,
    key: &WorkloadKey,
    kind: WorkloadKind,
    body: &serde_json::Value,
) -> Result<(), CallError> {
    // Named, so that a change of ours reads as `cutover` in the object's
    // managedFields, to this console and to everyone else.
    let params = PatchParams { field_manager: Some("cutover".into()), ..PatchParams::default() };
    match kind {
        WorkloadKind::CronJob => {
            let api = Api::<CronJob>::namespaced(client.clone(), &key.namespace);
            call(api.patch(&key.name, &params, &Patch::Merge(body))).await.map(|_| ())
        }
        _ => {
            let api = Api::<Deployment>::namespaced(client.clone(), &key.namespace);
            call(api.patch(&key.name, &params, &Patch::Merge(body))).await.map(|_| ())
        }
    }
}

/// A singleton's object as it is now, read fresh.
struct Now {
    /// Deployment `spec.replicas`; 0 for a CronJob.
    replicas: u32,
    /// CronJob `spec.suspend`; false for a Deployment.
    suspended: bool,
    /// CronJob `status.active` Jobs.
    active: u32,
    /// CronJob `spec.startingDeadlineSeconds`.
    starting_deadline: Option<i64>,
}

impl Now {
    /// Whether the object reads as `running` asked it to be.
    fn is(&self, kind: WorkloadKind, running: bool, start: Start) -> bool {
        match kind {
            WorkloadKind::CronJob => {
                self.suspended != running
                    && (!running
                        || start.starting_deadline.is_none()
                        || self.starting_deadline == start.starting_deadline)
            }
            _ => self.replicas == if running { start.replicas } else { 0 },
        }
    }

    fn show(&self, kind: WorkloadKind) -> String {
        match kind {
            WorkloadKind::CronJob => match self.starting_deadline {
                Some(d) => format!("suspend {}, startingDeadlineSeconds {d}", self.suspended),
                None => format!("suspend {}", self.suspended),
            },
            _ => format!("replicas {}", self.replicas),
        }
    }
}

async fn fetch(client: &Client, key: &WorkloadKey, kind: WorkloadKind) -> Result<Now, CallError> {
    match kind {
        WorkloadKind::CronJob => {
            let c = call(Api::<CronJob>::namespaced(client.clone(), &key.namespace).get(&key.name)).await?;
            let spec = c.spec.as_ref();
            Ok(Now {
                replicas: 0,
                suspended: spec.and_then(|s| s.suspend).unwrap_or(false),
                active: c.status.as_ref().and_then(|s| s.active.as_ref()).map_or(0, |a| a.len() as u32),
                starting_deadline: spec.and_then(|s| s.starting_deadline_seconds),
            })
        }
        _ => {
            let d = call(Api::<Deployment>::namespaced(client.clone(), &key.namespace).get(&key.name)).await?;
            let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32;
            Ok(Now { replicas, suspended: false, active: 0, starting_deadline: None })
        }
    }
}

/// Patches one side of a singleton to running (with `start`) or
/// stopped, and reads it back. A patch whose answer is lost is read
/// again: applied, not applied, or unknown.
async fn write(
    client: &Client,
    side: Side,
    key: &WorkloadKey,
    kind: WorkloadKind,
    running: bool,
    start: Start,
    dry_run: bool,
) -> EffectResult {
    let body = patch_body(kind, running, start);
    let call = describe(kind, side, key, &body);
    if dry_run {
        return EffectResult::DryRun { calls: vec![call] };
    }
    let lost = match patch(client, key, kind, &body).await {
        Ok(()) => None,
        Err(CallError::Answered(error)) => return EffectResult::Failed { error: format!("{call}: {error}") },
        Err(CallError::NoAnswer(error)) => Some(error),
    };
    match (fetch(client, key, kind).await, lost) {
        (Ok(now), None) if now.is(kind, running, start) => EffectResult::Verified { detail: call },
        (Ok(now), Some(lost)) if now.is(kind, running, start) => EffectResult::Verified {
            detail: format!("{call}: the answer was lost ({lost}); read again, it is applied"),
        },
        (Ok(now), Some(lost)) => EffectResult::Failed {
            error: format!("{call}: the answer was lost ({lost}); read again, it is not applied ({})", now.show(kind)),
        },
        (Ok(now), None) => EffectResult::Mismatch {
            detail: format!("{key} on {side} reads back {}, not what was written", now.show(kind)),
        },
        (Err(e), None) => EffectResult::Mismatch { detail: format!("{key} on {side}: written, read-back failed: {e}") },
        (Err(e), Some(lost)) => EffectResult::Unknown {
            detail: format!("{call}: the answer was lost ({lost}) and the re-read failed ({e})"),
        },
    }
}

pub async fn stop(client: &Client, side: Side, key: &WorkloadKey, kind: WorkloadKind, dry_run: bool) -> EffectResult {
    write(client, side, key, kind, false, Start { replicas: 0, starting_deadline: None }, dry_run).await
}

/// What still runs of `key` on a side: active Jobs or replicas, and pods
/// that are not finished. Read fresh, never from the console's state.
async fn still_running(client: &Client, key: &WorkloadKey, kind: WorkloadKind) -> Result<Vec<String>, CallError> {
    let mut what = Vec::new();
    let now = fetch(client, key, kind).await?;
    match kind {
        WorkloadKind::CronJob => {
            if !now.suspended {
                what.push("it is not suspended".to_string());
            }
            if now.active > 0 {
                what.push(format!("{} active Job(s)", now.active));
            }
        }
        _ if now.replicas > 0 => what.push(format!("replicas {}", now.replicas)),
        _ => {}
    }
    let pods = call(Api::<Pod>::namespaced(client.clone(), &key.namespace).list(&ListParams::default())).await?;
    let alive = pods
        .items
        .iter()
        .filter(|p| pod_owner(&key.namespace, &p.metadata).as_ref() == Some(key))
        .filter(|p| phase_still_running(p.status.as_ref().and_then(|s| s.phase.as_deref())))
        .count();
    if alive > 0 {
        what.push(format!("{alive} pod(s)"));
    }
    Ok(what)
}

#[allow(clippy::too_many_arguments)]
pub async fn start(
    client: &Client,
    other_client: &Client,
    side: Side,
    key: &WorkloadKey,
    kind: WorkloadKind,
    start: Start,
    other: &WorkloadKey,
    dry_run: bool,
) -> EffectResult {
    match still_running(other_client, other, kind).await {
        Ok(what) if what.is_empty() => {}
        Ok(what) => {
            return EffectResult::Refused {
                reason: format!("{other} on {} still runs ({}); {side} was not started", side.other(), what.join(", ")),
            };
        }
        Err(e) => {
            return EffectResult::Refused {
                reason: format!("cannot tell whether {other} on {} still runs: {e}", side.other()),
            };
        }
    }
    write(client, side, key, kind, true, start, dry_run).await
}

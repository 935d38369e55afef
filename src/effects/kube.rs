//! Singleton stops and starts: merge patches of `spec.replicas` or
//! `spec.suspend`, a start only when the other side runs nothing, and a
//! read-back after each.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use crate::app::EffectResult;
use crate::domain::{Side, WorkloadKey, WorkloadKind};
use crate::sources::kube::{kube_error, pod_owner};

fn patch_body(kind: WorkloadKind, running: bool, replicas: u32) -> serde_json::Value {
    match kind {
        WorkloadKind::CronJob => json!({ "spec": { "suspend": !running } }),
        _ => json!({ "spec": { "replicas": if running { replicas } else { 0 } } }),
    }
}

fn describe(kind: WorkloadKind, side: Side, key: &WorkloadKey, body: &serde_json::Value) -> String {
    let resource = match kind {
        WorkloadKind::CronJob => "batch/v1 cronjobs",
        _ => "apps/v1 deployments",
    };
    format!("PATCH (merge) {resource} {key} on {side}: {body}")
}

async fn patch(client: &Client, key: &WorkloadKey, kind: WorkloadKind, body: &serde_json::Value) -> Result<(), String> {
    let params = PatchParams::default();
    let result = match kind {
        WorkloadKind::CronJob => Api::<CronJob>::namespaced(client.clone(), &key.namespace)
            .patch(&key.name, &params, &Patch::Merge(body))
            .await
            .map(|_| ()),
        _ => Api::<Deployment>::namespaced(client.clone(), &key.namespace)
            .patch(&key.name, &params, &Patch::Merge(body))
            .await
            .map(|_| ()),
    };
    result.map_err(|e| kube_error(&e))
}

/// A singleton's object as it is now, read fresh.
struct Now {
    /// Deployment `spec.replicas`; 0 for a CronJob.
    replicas: u32,
    /// CronJob `spec.suspend`; false for a Deployment.
    suspended: bool,
    /// CronJob `status.active` Jobs.
    active: u32,
}

async fn fetch(client: &Client, key: &WorkloadKey, kind: WorkloadKind) -> Result<Now, String> {
    match kind {
        WorkloadKind::CronJob => {
            let c = Api::<CronJob>::namespaced(client.clone(), &key.namespace)
                .get(&key.name)
                .await
                .map_err(|e| kube_error(&e))?;
            Ok(Now {
                replicas: 0,
                suspended: c.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false),
                active: c.status.as_ref().and_then(|s| s.active.as_ref()).map_or(0, |a| a.len() as u32),
            })
        }
        _ => {
            let d = Api::<Deployment>::namespaced(client.clone(), &key.namespace)
                .get(&key.name)
                .await
                .map_err(|e| kube_error(&e))?;
            let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0) as u32;
            Ok(Now { replicas, suspended: false, active: 0 })
        }
    }
}

/// Patches one side of a singleton to running (with `replicas`) or
/// stopped, and reads it back.
#[allow(clippy::too_many_arguments)]
async fn write(
    client: &Client,
    side: Side,
    key: &WorkloadKey,
    kind: WorkloadKind,
    running: bool,
    replicas: u32,
    dry_run: bool,
) -> EffectResult {
    let body = patch_body(kind, running, replicas);
    let call = describe(kind, side, key, &body);
    if dry_run {
        return EffectResult::DryRun { calls: vec![call] };
    }
    if let Err(error) = patch(client, key, kind, &body).await {
        return EffectResult::Failed { error: format!("{call}: {error}") };
    }
    let wanted = if running { replicas } else { 0 };
    match fetch(client, key, kind).await {
        Ok(now) if kind == WorkloadKind::CronJob && now.suspended != running => EffectResult::Verified { detail: call },
        Ok(now) if kind != WorkloadKind::CronJob && now.replicas == wanted => EffectResult::Verified { detail: call },
        Ok(now) => EffectResult::Mismatch {
            detail: match kind {
                WorkloadKind::CronJob => format!("{key} on {side} reads back suspend {}", now.suspended),
                _ => format!("{key} on {side} reads back replicas {}, wanted {wanted}", now.replicas),
            },
        },
        Err(e) => EffectResult::Mismatch { detail: format!("{key} on {side}: written, read-back failed: {e}") },
    }
}

pub async fn stop(client: &Client, side: Side, key: &WorkloadKey, kind: WorkloadKind, dry_run: bool) -> EffectResult {
    write(client, side, key, kind, false, 0, dry_run).await
}

/// What still runs of `key` on a side: active Jobs or replicas, and pods
/// that are not finished. Read fresh, never from the console's state.
async fn still_running(client: &Client, key: &WorkloadKey, kind: WorkloadKind) -> Result<Vec<String>, String> {
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
    let pods = Api::<Pod>::namespaced(client.clone(), &key.namespace)
        .list(&ListParams::default())
        .await
        .map_err(|e| kube_error(&e))?;
    let alive = pods
        .items
        .iter()
        .filter(|p| pod_owner(&key.namespace, &p.metadata).as_ref() == Some(key))
        .filter(|p| !matches!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed")))
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
    replicas: u32,
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
    write(client, side, key, kind, true, replicas, dry_run).await
}

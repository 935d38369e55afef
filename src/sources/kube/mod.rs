//! One side's Kubernetes API, watched (list + watch, never polled), with
//! every object trimmed to a domain type at the boundary.
//!
//! Read-only by construction: this module builds watchers and nothing else;
//! no function here can create, patch or delete.
//!
//! By concern: [`client`] reads the kubeconfig and builds the client,
//! [`errors`] says a failed call in one line and sorts it for the code,
//! `watch` lists and watches one kind of object, `health` turns what the
//! watches and the probe meet into the side's source state, and [`trim`]
//! turns API objects (the partial ones of `objects`) into domain types.
//! The run loop that ties them together is here.

pub mod client;
pub mod errors;
mod health;
mod objects;
pub mod trim;
mod watch;

use std::collections::HashSet;

use futures::stream::{self, BoxStream, StreamExt};
use jiff::Timestamp;
use kube::Client;
use kube::api::Api;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{ClusterDelta, Msg, SourceId, SourceState};
use crate::domain::{Fault, KubeWarning, PodKey, Side};
use crate::sources::health::Failure;
pub use client::{client_for, context_user, server_version};
use errors::refused;
pub use errors::{KubeError, explain, kube_error};
use health::Health;
pub use objects::{
    CronJobObj, DaemonSetHandlerObj, DeploymentHandlerObj, DeploymentObj, EnvVar, EventObj, HandlerContainer, HpaObj,
    JobObj, NamespaceObj, NodeObj, PodObj, StatefulSetObj, TemplateSpec,
};
pub use trim::*;
use trim::{hpa_target, workload_gone};
use watch::{Batch, events, watch};

/// Watches everything the console shows of one side until cancelled,
/// sending deltas and the source's state.
pub async fn run(
    side: Side,
    context: String,
    client: Client,
    namespaces: Vec<String>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Cluster(side);
    let mut streams: Vec<BoxStream<'static, Batch>> = Vec::new();
    streams.push(watch(Api::<NodeObj>::all(client.clone()), trim_node, |n| {
        n.metadata.name.clone().map(ClusterDelta::NodeGone)
    }));
    for ns in &namespaces {
        streams.push(watch(Api::<DeploymentObj>::namespaced(client.clone(), ns), trim_deployment, workload_gone));
        streams.push(watch(Api::<StatefulSetObj>::namespaced(client.clone(), ns), trim_statefulset, workload_gone));
        streams.push(watch(Api::<CronJobObj>::namespaced(client.clone(), ns), trim_cronjob, workload_gone));
        streams.push(watch(Api::<JobObj>::namespaced(client.clone(), ns), trim_job, |j: &JobObj| {
            trim_job(j).and(workload_gone(j))
        }));
        streams.push(watch(Api::<PodObj>::namespaced(client.clone(), ns), trim_pod, |p: &PodObj| {
            Some(ClusterDelta::PodGone(PodKey {
                namespace: p.metadata.namespace.clone().unwrap_or_default(),
                name: p.metadata.name.clone().unwrap_or_default(),
            }))
        }));
        streams.push(events(Api::<EventObj>::namespaced(client.clone(), ns), false));
        streams.push(watch(Api::<HpaObj>::namespaced(client.clone(), ns), trim_hpa, |h| {
            hpa_target(h).map(ClusterDelta::AutoscalerGone)
        }));
    }
    // Optional watches from here on: what they miss is said once, and
    // neither makes the side stale nor holds back `Synced`.
    let optional_from = streams.len();
    // The Events of Nodes (Karpenter's disruption events among them) are
    // kept in `default`, which the plan may not list. A kube user who
    // cannot read there loses those signals and nothing else.
    if !namespaces.iter().any(|ns| ns == "default") {
        streams.push(events(Api::<EventObj>::namespaced(client.clone(), "default"), true));
    }
    let mut told: HashSet<String> = HashSet::new();
    // Each watch tagged, to tell when every one has listed once: only then
    // is an empty side really empty (and a singleton on it really idle).
    let watches = streams.len();
    let mut listed: Vec<bool> = (0..watches).map(|i| i >= optional_from).collect();
    let mut synced = false;
    let mut all = stream::select_all(streams.into_iter().enumerate().map(|(i, s)| s.map(move |b| (i, b)).boxed()));
    // A watch that reconnects after an outage says nothing until something
    // changes, so the watches alone cannot tell "quiet" from "gone". A cheap
    // probe every few seconds can; a watch error still wins over a probe
    // that succeeds soon after it (a forbidden watch on a reachable server).
    let mut probe = tokio::time::interval(PROBE_EVERY);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut state = Health { id, live: false, last_ok: None, failing: None, last_watch_error: None };
    if tx.send(Msg::Source { id, state: SourceState::Connecting }).await.is_err() {
        return;
    }
    loop {
        let out = tokio::select! {
            _ = cancel.cancelled() => return,
            _ = probe.tick() => {
                let reachable = match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
                    // Any answer, even an error status, is a reachable server.
                    Ok(Ok(_)) | Ok(Err(kube::Error::Api(_))) => Ok(()),
                    Ok(Err(e)) => {
                        let e = KubeError::of(&e);
                        Err(Failure::new(format!("context {context}: {e}"), e.fault))
                    }
                    Err(_) => Err(Failure::new(
                        format!("context {context}: the API server did not answer within {PROBE_TIMEOUT:?}"),
                        Fault::Timeout,
                    )),
                };
                match reachable {
                    Ok(()) => state.ok(Timestamp::now(), false),
                    Err(error) => state.failed(Timestamp::now(), error),
                }
            }
            item = all.next() => {
                let Some((i, item)) = item else { return };
                // Stamped when it arrived, not when the wait began.
                let now = Timestamp::now();
                match item {
                    Ok((deltas, list_done)) => {
                        // An optional watch counts as working once it has
                        // listed: between its failures it only restarts.
                        let optional = i >= optional_from;
                        if optional && list_done {
                            told.clear();
                        }
                        let mut out =
                            if optional && !list_done && deltas.is_empty() { vec![] } else { state.ok(now, true) };
                        out.extend(deltas.into_iter().map(|delta| Msg::Cluster { side, delta }));
                        listed[i] |= list_done;
                        if !synced && listed.iter().all(|l| *l) {
                            synced = true;
                            out.push(Msg::Cluster { side, delta: ClusterDelta::Synced });
                        }
                        out
                    }
                    Err(e) if i >= optional_from => {
                        let error = explain(&context, &e);
                        tracing::warn!(%side, %error, "node events watch failed");
                        // Said when the server refuses; an unreachable server
                        // is the other watches' to report.
                        if refused(&e) && told.insert(error.clone()) {
                            let warning = KubeWarning {
                                at: now,
                                object: "Event/default".into(),
                                reason: "NodeEventsUnread".into(),
                                message: format!("the Events of Nodes (Karpenter's disruption events) are not read: {error}"),
                            };
                            vec![Msg::Cluster { side, delta: ClusterDelta::Warning(warning) }]
                        } else {
                            vec![]
                        }
                    }
                    Err(e) => {
                        let failure = errors::failure(&context, &e);
                        tracing::warn!(%side, error = %failure.text, "watch failed");
                        state.watch_failed(now, failure)
                    }
                }
            }
        };
        for msg in out {
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    }
}

const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

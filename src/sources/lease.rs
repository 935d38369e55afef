//! Who drives, read: the plan's Lease in the new cluster (see
//! `domain::wheel`), trimmed to what the console keeps of it.
//!
//! Read-only by construction: a `get` every few seconds and nothing else.
//! What takes, renews and releases the Lease is `effects::lease`, which
//! only `cutover run` starts; `watch`, a dry run and the relay read here.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::Msg;
use crate::domain::Wheel;
pub use crate::domain::wheel::LeaseRef;
use crate::domain::wheel::{
    HANDOFF_ANNOTATION, HolderHandoff, LAST_HOLDER_ANNOTATION, LEASE_DURATION_SECS, LeaseRecord, OPERATOR_ANNOTATION,
    RENEW_EVERY_SECS, observed,
};
use crate::scrub::scrub;

/// How long one call about the Lease may take: less than a renewal period,
/// so a round of reads and writes ends before the next begins.
pub const CALL_DEADLINE: Duration = Duration::from_secs(4);

/// What the console keeps of a Lease. An empty holder is nobody.
pub fn record(lease: &Lease) -> LeaseRecord {
    let spec = lease.spec.clone().unwrap_or_default();
    let annotation = |key: &str| {
        lease
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .filter(|v| !v.is_empty())
            .map(|v| scrub(v).into_owned())
    };
    LeaseRecord {
        holder: spec.holder_identity.filter(|h| !h.is_empty()).map(|h| scrub(&h).into_owned()),
        operator: annotation(OPERATOR_ANNOTATION),
        last_holder: annotation(LAST_HOLDER_ANNOTATION),
        acquired: spec.acquire_time.map(|t| t.0),
        renewed: spec.renew_time.map(|t| t.0),
        duration_secs: spec.lease_duration_seconds.map_or(LEASE_DURATION_SECS, i64::from),
        transitions: spec.lease_transitions.unwrap_or(0),
        // Another console's words: read as data, scrubbed as text.
        handoff: annotation(HANDOFF_ANNOTATION)
            .and_then(|v| serde_json::from_str::<HolderHandoff>(&v).ok())
            .map(|h| HolderHandoff { singleton: h.singleton, text: scrub(&h.text).into_owned(), in_gap: h.in_gap }),
    }
}

/// Why a call about the Lease did not answer as hoped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// 409: the Lease changed since it was read (or already exists).
    Conflict,
    /// Anything else, in the operator's words.
    Failed(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Conflict => f.write_str("the lease changed since it was read (409 Conflict)"),
            CallError::Failed(e) => f.write_str(e),
        }
    }
}

/// One call with the Lease's deadline.
pub async fn call<T>(what: impl std::future::Future<Output = Result<T, kube::Error>>) -> Result<T, CallError> {
    match tokio::time::timeout(CALL_DEADLINE, what).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(kube::Error::Api(status))) if status.is_conflict() || status.is_already_exists() => {
            Err(CallError::Conflict)
        }
        Ok(Err(e)) => Err(CallError::Failed(crate::sources::kube::kube_error(&e))),
        Err(_) => Err(CallError::Failed(format!("no answer within {}s", CALL_DEADLINE.as_secs()))),
    }
}

/// The Lease as it is now; None if there is none.
pub async fn get(api: &Api<Lease>, name: &str) -> Result<Option<Lease>, String> {
    call(api.get_opt(name)).await.map_err(|e| e.to_string())
}

/// Reads the Lease every few seconds until cancelled, sending who drives
/// whenever that changes. Never writes.
pub async fn watch(client: kube::Client, at: LeaseRef, tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    let api: Api<Lease> = Api::namespaced(client, &at.namespace);
    let mut every = tokio::time::interval(Duration::from_secs(RENEW_EVERY_SECS as u64));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last: Option<Wheel> = None;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        let now = Timestamp::now();
        let wheel = match get(&api, &at.name).await {
            Ok(lease) => observed(lease.as_ref().map(record).as_ref(), now),
            Err(error) => Wheel::Unread { error },
        };
        if last.as_ref() == Some(&wheel) {
            continue;
        }
        last = Some(wheel.clone());
        if tx.send(Msg::Wheel { at: now, lease: at.to_string(), wheel }).await.is_err() {
            return;
        }
    }
}

//! CloudTrail's management events as node signals: EC2 taking a Spot
//! instance back (`BidEvictedEvent`) and someone or something calling
//! `TerminateInstances`, for the instances that hold the routes.
//!
//! CloudTrail delivers events minutes after they happen, so each poll
//! looks back 20 minutes and an event is placed at its own time, not when
//! it was read. LookupEvents allows two calls a second per account, shared
//! with every other caller: one call per event name per poll, no paging.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::{Msg, SourceId};
use crate::domain::{NodeRef, NodeSignalKind, SignalSeen, SignalSource};

use super::autoscaling::to_timestamp;
use super::aws;
use super::health::{Failure, Health};
use super::lifecycle::Known;

/// How often CloudTrail is asked.
pub const EVERY: Duration = Duration::from_secs(3 * 60);
/// How far back each poll looks: CloudTrail delivers events up to about
/// 15 minutes late.
pub const LOOK_BACK_SECS: i64 = 20 * 60;
/// The events read, each with its kind.
pub const EVENTS: [(&str, NodeSignalKind); 2] =
    [("BidEvictedEvent", NodeSignalKind::SpotBidEvicted), ("TerminateInstances", NodeSignalKind::InstanceTerminated)];

/// The instances an event names, and who it says did it.
pub fn instances_of(name: &str, record: &Value) -> (Vec<String>, Option<String>) {
    let ids = |items: Option<&Value>, field: Option<&str>| -> Vec<String> {
        items
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| match field {
                        Some(f) => v.get(f)?.as_str(),
                        None => v.as_str(),
                    })
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    match name {
        "BidEvictedEvent" => (ids(record.pointer("/serviceEventDetails/instanceIdSet"), None), None),
        _ => (
            ids(record.pointer("/requestParameters/instancesSet/items"), Some("instanceId")),
            record.pointer("/userIdentity/arn").and_then(Value::as_str).map(str::to_string),
        ),
    }
}

/// What one event says about the known instances, each (event, instance)
/// once.
fn signals(
    kind: NodeSignalKind,
    event: &aws_sdk_cloudtrail::types::Event,
    known: &BTreeSet<String>,
    seen: &mut HashSet<(String, String)>,
) -> Vec<SignalSeen> {
    let (Some(id), Some(name), Some(at)) =
        (event.event_id(), event.event_name(), event.event_time().and_then(to_timestamp))
    else {
        return Vec::new();
    };
    let record: Value = event.cloud_trail_event().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
    let (instances, who) = instances_of(name, &record);
    let detail = match (kind, who) {
        (NodeSignalKind::InstanceTerminated, Some(who)) => format!("TerminateInstances called by {who}"),
        (NodeSignalKind::InstanceTerminated, None) => "TerminateInstances called".to_string(),
        _ => "EC2 reclaimed the Spot instance (BidEvictedEvent)".to_string(),
    };
    instances
        .into_iter()
        .filter(|i| known.contains(i))
        .filter(|i| seen.insert((id.to_string(), i.clone())))
        .map(|i| SignalSeen { at, node: NodeRef::Instance(i), kind, detail: crate::scrub::scrub(&detail).into_owned() })
        .collect()
}

/// Polls every three minutes until cancelled, once the lifecycle reader
/// has found the instances. A denied call is said once (the IAM action it
/// needs) and the source stops: nothing else fails with it.
pub async fn poll(
    client: aws_sdk_cloudtrail::Client,
    mut known: watch::Receiver<Known>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) {
    let id = SourceId::Signals(SignalSource::CloudTrail);
    let mut health = Health::new(id);
    let mut seen = HashSet::new();
    if !super::lifecycle::first_known(&tx, id, &mut known, &cancel).await {
        return;
    }
    loop {
        let instances = known.borrow_and_update().instances.clone();
        let read = tokio::select! {
            _ = cancel.cancelled() => return,
            r = read_events(&client, &instances, &mut seen) => r,
        };
        if !super::health::send_signals(&tx, &mut health, read, "CloudTrail events").await {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// One LookupEvents per event name over the last 20 minutes.
async fn read_events(
    client: &aws_sdk_cloudtrail::Client,
    known: &BTreeSet<String>,
    seen: &mut HashSet<(String, String)>,
) -> Result<Vec<SignalSeen>, Failure> {
    let until = Timestamp::now();
    let from = until - jiff::SignedDuration::from_secs(LOOK_BACK_SECS);
    let mut found = Vec::new();
    for (name, kind) in EVENTS {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::EventName)
            .attribute_value(name)
            .build()
            .map_err(|e| Failure::other(e.to_string()))?;
        let out = client
            .lookup_events()
            .lookup_attributes(attribute)
            .start_time(DateTime::from_secs(from.as_second()))
            .end_time(DateTime::from_secs(until.as_second()))
            .max_results(50)
            .send()
            .await
            .map_err(|e| aws::failure(&e, "cloudtrail:LookupEvents"))?;
        for event in out.events() {
            found.extend(signals(kind, event, known, seen));
        }
    }
    found.sort_by_key(|s| s.at);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::Event;

    fn event(id: &str, name: &str, secs: i64, record: Value) -> Event {
        Event::builder()
            .event_id(id)
            .event_name(name)
            .event_time(DateTime::from_secs(secs))
            .cloud_trail_event(record.to_string())
            .build()
    }

    #[test]
    fn a_bid_eviction_names_each_known_instance_once_at_its_own_time() {
        let known: BTreeSet<String> = ["i-0a".to_string(), "i-0b".to_string()].into();
        let record = serde_json::json!({"serviceEventDetails": {"instanceIdSet": ["i-0a", "i-0b", "i-0other"]}});
        let e = event("e1", "BidEvictedEvent", 1_800_000_000, record);
        let mut seen = HashSet::new();
        let out = signals(NodeSignalKind::SpotBidEvicted, &e, &known, &mut seen);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].at.as_second(), 1_800_000_000);
        assert_eq!(out[1].node, NodeRef::Instance("i-0b".into()));
        assert!(signals(NodeSignalKind::SpotBidEvicted, &e, &known, &mut seen).is_empty());
    }

    #[test]
    fn a_terminate_call_says_who() {
        let known: BTreeSet<String> = ["i-0a".to_string()].into();
        let record = serde_json::json!({
            "userIdentity": {"arn": "arn:aws:sts::1:assumed-role/ops/bob"},
            "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-0a"}]}}
        });
        let e = event("e2", "TerminateInstances", 1_800_000_000, record);
        let out = signals(NodeSignalKind::InstanceTerminated, &e, &known, &mut HashSet::new());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].detail, "TerminateInstances called by arn:aws:sts::1:assumed-role/ops/bob");
    }
}

//! Node disruption signals read from a real API: the harness's kmock peer
//! gets Node objects and Node Events written through `/kube/new/apply`, and
//! the live sources, in this process, feed a console as `cutover watch`
//! does.
//!
//! kmock gaps, and what the tests do about them:
//! * it runs no node lifecycle controller: a cordon or a Ready condition
//!   never brings `node.kubernetes.io/unschedulable`, `not-ready` or
//!   `unreachable` taints with it, and NoExecute taints evict nothing; the
//!   tests write each taint and condition themselves, one at a time;
//! * no pod garbage collection or eviction: a pod "lost" with its node is
//!   deleted by the test;
//! * field selectors are ignored: the console's watch of the Events in
//!   `default` (`involvedObject.kind=Node`) gets them all and filters
//!   itself, which a Pod Event written there checks;
//! * no Karpenter or Cluster Autoscaler runs: their taints and Events are
//!   written as they write them (Karpenter v1 Event texts).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::live::LiveConsole;
use cutover::app::{App, Mode};
use cutover::domain::{NodeSignalKind as K, Side, WorkloadKey};
use serde_json::{Value, json};

/// An upper bound for a watch event to reach the console.
const WAIT: Duration = Duration::from_secs(30);
const NODE: &str = "ip-10-1-99-7.ec2.internal";

/// A ready spot node as the API serves it, with these taints and extra
/// conditions (a `Ready` among them replaces the ready one).
fn node(name: &str, taints: &[(&str, Option<&str>)], conditions: &[(&str, &str)], cordoned: bool) -> Value {
    let mut all: Vec<Value> = conditions.iter().map(|(t, s)| json!({"type": t, "status": s})).collect();
    if !conditions.iter().any(|(t, _)| *t == "Ready") {
        all.push(json!({"type": "Ready", "status": "True", "reason": "KubeletReady"}));
    }
    let taints: Vec<Value> = taints
        .iter()
        .map(|(k, v)| match v {
            Some(v) => json!({"key": k, "value": v, "effect": "NoSchedule"}),
            None => json!({"key": k, "effect": "NoSchedule"}),
        })
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "eks.amazonaws.com/capacityType": "SPOT",
            "node.kubernetes.io/instance-type": "m6i.2xlarge",
        }},
        "spec": {"unschedulable": cordoned, "taints": taints},
        "status": {"conditions": all},
    })
}

/// An Event about `object` (`Node` or `Pod`) in `default`, as Karpenter's
/// recorder writes the Events of Nodes.
fn event(name: &str, object: &str, about: &str, kind: &str, reason: &str, message: &str) -> Value {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": object, "name": about, "apiVersion": "v1"},
        "reason": reason, "message": message, "type": kind, "count": 1,
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "karpenter"}, "reportingComponent": "karpenter",
    })
}

fn signals_of(app: &App, node: &str) -> Vec<K> {
    app.node_signals.iter().filter(|s| s.side == Side::New && s.node == node).map(|s| s.kind).collect()
}

/// One node, updated step by step with each taint and condition of the
/// field notes' list (the previous one taken off), then Karpenter's Events
/// about it: every one is a signal of its own, named by its source in the
/// events panel, and marked for the time axis and the report.
#[test]
fn every_disruption_taint_condition_and_karpenter_event_is_read_and_named() {
    let mut s = LiveConsole::start("realistic", Mode::Watch);
    s.until("the new side listed", WAIT, |app| app.clusters.new.synced && !app.clusters.new.nodes.is_empty());
    s.peers.post("/kube/new/apply", node(NODE, &[], &[], false));
    s.until("the fresh node", WAIT, |app| app.clusters.new.nodes.contains_key(NODE));
    assert!(signals_of(&s.app, NODE).is_empty(), "a healthy node is no signal");

    let taints: [(&str, Option<&str>, K, &str); 13] = [
        ("aws-node-termination-handler/spot-itn", Some("spot-itn-1"), K::SpotInterruption, "NTH spot interruption"),
        (
            "aws-node-termination-handler/rebalance-recommendation",
            Some("rebalance-1"),
            K::Rebalance,
            "NTH rebalance recommendation",
        ),
        (
            "aws-node-termination-handler/scheduled-maintenance",
            Some("sm-1"),
            K::NthScheduledMaintenance,
            "NTH scheduled maintenance",
        ),
        (
            "aws-node-termination-handler/asg-lifecycle-termination",
            Some("asg-1"),
            K::NthAsgTermination,
            "NTH ASG lifecycle termination",
        ),
        ("karpenter.sh/disrupted", None, K::KarpenterDisrupted, "Karpenter disruption"),
        ("ToBeDeletedByClusterAutoscaler", Some("1764079200"), K::AutoscalerScaleDown, "Cluster Autoscaler scale-down"),
        (
            "DeletionCandidateOfClusterAutoscaler",
            Some("1764079100"),
            K::AutoscalerCandidate,
            "Cluster Autoscaler deletion candidate",
        ),
        ("node.kubernetes.io/unschedulable", None, K::TaintUnschedulable, "node unschedulable (taint)"),
        ("node.kubernetes.io/not-ready", None, K::TaintNotReady, "node not-ready (taint)"),
        ("node.kubernetes.io/unreachable", None, K::TaintUnreachable, "node unreachable (taint)"),
        ("node.kubernetes.io/out-of-service", Some("nodeshutdown"), K::OutOfService, "node out-of-service (taint)"),
        ("node.cloudprovider.kubernetes.io/shutdown", None, K::CloudShutdown, "node shutdown (cloud provider taint)"),
        // Karpenter before v1.
        ("karpenter.sh/disruption", Some("disrupting"), K::KarpenterDisrupted, "Karpenter disruption"),
    ];
    let mut expected: Vec<K> = Vec::new();
    for (key, value, kind, label) in taints {
        s.peers.post("/kube/new/apply", node(NODE, &[(key, value)], &[], false));
        expected.push(kind);
        let want = expected.clone();
        s.until(&format!("the signal of taint {key}"), WAIT, |app| signals_of(app, NODE) == want);
        let text = format!("node ip-10-1-99-7 (spot): {label}");
        assert!(s.app.events.iter().any(|e| e.side == Some(Side::New) && e.text == text), "`{text}` in the events");
    }
    let conditions: [(&str, &str, K, &str); 6] = [
        ("MemoryPressure", "True", K::MemoryPressure, "memory pressure"),
        ("DiskPressure", "True", K::DiskPressure, "disk pressure"),
        ("PIDPressure", "True", K::PidPressure, "PID pressure"),
        ("NetworkUnavailable", "True", K::NetworkUnavailable, "network unavailable"),
        ("Ready", "False", K::NotReady, "NotReady (condition)"),
        ("Ready", "Unknown", K::NotReady, "NotReady (condition)"),
    ];
    for (condition, status, kind, label) in conditions {
        // Back to healthy first, so that Ready Unknown after False shows too.
        s.peers.post("/kube/new/apply", node(NODE, &[], &[], false));
        s.peers.post("/kube/new/apply", node(NODE, &[], &[(condition, status)], false));
        expected.push(kind);
        let want = expected.clone();
        s.until(&format!("the signal of {condition}={status}"), WAIT, |app| signals_of(app, NODE) == want);
        let text = format!("node ip-10-1-99-7 (spot): {label}");
        assert!(s.app.events.iter().any(|e| e.text == text), "`{text}` in the events");
    }
    s.peers.post("/kube/new/apply", node(NODE, &[], &[], true));
    expected.push(K::Cordon);
    let want = expected.clone();
    s.until("the cordon", WAIT, |app| signals_of(app, NODE) == want);

    // Karpenter's Events about the node, Normal ones included; an Event of
    // another kind in `default`, and one that disrupts nothing, are not.
    let events = [
        ("n1", "Node", "Normal", "DisruptionBlocked", "Cannot disrupt Node: pdb prevents pod evictions"),
        ("p1", "Pod", "Warning", "SpotInterrupted", "Pod will be evicted from the node due to a spot interruption"),
        ("n2", "Node", "Normal", "SpotRebalanceRecommendation", "Spot rebalance recommendation was triggered"),
        ("n3", "Node", "Warning", "SpotInterrupted", "Spot interruption warning was triggered"),
        ("n4", "Node", "Normal", "DisruptionTerminating", "Disrupting Node: Underutilized"),
    ];
    for (name, object, kind, reason, message) in events {
        let about = if object == "Node" { NODE } else { "api-7d9f8c6b5-x2x9k" };
        s.peers.post("/kube/new/apply", event(&format!("{NODE}.{name}"), object, about, kind, reason, message));
    }
    expected.extend([K::KarpenterRebalance, K::KarpenterSpotInterruption, K::KarpenterConsolidation]);
    let want = expected.clone();
    s.until("Karpenter's Events as signals", WAIT, |app| signals_of(app, NODE) == want);
    let text = "node ip-10-1-99-7 (spot): Karpenter consolidation (Event DisruptionTerminating)";
    assert!(s.app.events.iter().any(|e| e.text == text), "`{text}` in the events");
    assert!(!s.app.events.iter().any(|e| e.text.contains("DisruptionBlocked")), "nothing is taken away by it");
    assert!(
        !s.app.events.iter().any(|e| e.text.contains("api-7d9f8c6b5-x2x9k")),
        "only the Events of Nodes are read in `default`"
    );
    // The same Event again (its count raised) is the same signal.
    s.peers.post(
        "/kube/new/apply",
        event(&format!("{NODE}.n4"), "Node", NODE, "Normal", "DisruptionTerminating", "Disrupting Node: Underutilized"),
    );
    s.peers.post("/kube/new/delete", json!({"resource": "v1/nodes", "name": NODE}));
    expected.push(K::Removed);
    let want = expected.clone();
    s.until("the node removed", WAIT, |app| signals_of(app, NODE) == want);
}

/// A pod of a route's workload deleted from a node Karpenter disrupts is
/// counted for the route, in the drill-down and in the recording's report.
#[test]
fn pods_lost_to_a_karpenter_disruption_are_counted_for_the_route() {
    let mut s = LiveConsole::start("realistic", Mode::Watch);
    let path = std::env::temp_dir().join(format!("cutover-nodes-live-{}.jsonl", std::process::id()));
    s.record_to(&path);
    let api = WorkloadKey::new("app", "api");
    s.until("the api's pods on new", WAIT, |app| app.clusters.new.synced && app.clusters.new.pods_of(&api).count() > 1);
    let new = &s.app.clusters.new;
    let healthy =
        |n: &Option<String>| n.as_ref().and_then(|n| new.nodes.get(n)).is_some_and(|n| n.signals().count() == 0);
    let victim = new.pods_of(&api).find(|p| healthy(&p.node)).unwrap().clone();
    let name = victim.node.clone().unwrap();
    let mut current = s.peers.get(&format!("/kube/new/object?resource=v1/nodes&namespace=&name={name}"));
    current["spec"]["taints"] = json!([{"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}]);
    s.peers.post("/kube/new/apply", current);
    s.until("the disruption", WAIT, |app| signals_of(app, &name).contains(&K::KarpenterDisrupted));
    s.peers
        .post("/kube/new/delete", json!({"resource": "v1/pods", "namespace": "app", "name": victim.key.name.clone()}));
    s.until("the pod counted as lost", WAIT, |app| {
        app.pods_lost.iter().any(|l| l.workload == api && l.node == name && l.cause == K::KarpenterDisrupted)
    });

    // The api route's drill-down, near its markers.
    let route = s.app.routes.iter().position(|r| r.spec.workload.as_ref() == Some(&api)).unwrap();
    s.app.ui.view = cutover::app::View::Route(route);
    let screen = s.screen();
    assert!(screen.contains("app/api pods lost: 1"), "{screen}");
    assert!(screen.contains("Karpenter disruption −1 pod"), "{screen}");

    drop(s.recorder.take());
    let report = cutover::report::build(&cutover::record::read(&path).unwrap());
    let md = report.markdown();
    assert!(md.contains("## Pods lost to node disruptions"), "{md}");
    assert!(md.contains("1 pod of app/api lost to Karpenter disruption"), "{md}");
    assert!(md.contains(&format!("new node {name}: Karpenter disruption")), "the timeline names it: {md}");
}

/// A kube user who may not read the Events of `default` loses Karpenter's
/// Event signals and nothing else: the side lists, is live, and says once
/// what it cannot read.
#[test]
fn events_of_default_denied_cost_only_those_signals() {
    let mut s = LiveConsole::start_with("realistic", Mode::Watch, |peers| {
        for verb in ["list", "watch"] {
            peers.deny("new", json!({"verb": verb, "resource": "events", "namespace": "default"}));
        }
    });
    s.until("the new side listed and told", WAIT, |app| {
        app.clusters.new.synced && app.events.iter().any(|e| e.text.contains("NodeEventsUnread"))
    });
    // Several retries of the denied watch later, still live and told once.
    s.pump(Duration::from_secs(6));
    let id = cutover::app::SourceId::Cluster(Side::New);
    assert!(!s.app.is_stale(id), "{:?}", s.app.sources.get(&id));
    let told: Vec<&str> =
        s.app.events.iter().filter(|e| e.text.contains("NodeEventsUnread")).map(|e| e.text.as_str()).collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("Karpenter") && told[0].contains("forbidden"), "{told:?}");
    assert!(s.app.events.iter().any(|e| e.text.contains("BackOff")), "the app namespaces' warnings still read");
}

//! A rule the AWS Load Balancer Controller owns, written the right way:
//! through its Ingress's actions annotation on the owning cluster, then
//! waited for on the ALB. Against the peers: kmock holds the Ingress, moto
//! the rule.
//!
//! Gap: no Load Balancer Controller runs here, so the test plays it: once
//! it sees the annotation changed in kmock, it writes the same weights to
//! the rule in moto, as the controller's reconcile would.
#![allow(clippy::unwrap_used)]

mod common;

use common::live::Driver;
use common::peers::Peers;
use cutover::app::{EffectResult, Panel};
use cutover::domain::Weights;
use serde_json::{Value, json};

const ANNOTATION: &str = "alb.ingress.kubernetes.io/actions.admin";

/// The admin route's plan names the Ingress; the Ingress is on new.
fn ingress_on_new(peers: &Peers) {
    let plan = peers.plan_path();
    let text = std::fs::read_to_string(&plan).unwrap();
    let text = text.replacen(
        "workload = \"app/admin\"",
        "workload = \"app/admin\"\ningress = \"new:app/admin\"\ningress_action = \"admin\"",
        1,
    );
    std::fs::write(&plan, text).unwrap();
    let plan = cutover::plan::Plan::load(&plan).unwrap();
    let admin = plan.routes[1].alb().unwrap();
    let action = json!({"type": "forward", "forwardConfig": {
        "targetGroups": [
            {"targetGroupARN": admin.old_target_group.0, "weight": 100},
            {"targetGroupARN": admin.new_target_group.0, "weight": 0}
        ],
        "targetGroupStickinessConfig": {"enabled": false}
    }});
    peers.post(
        "/kube/new/apply",
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "admin", "namespace": "app", "annotations": {
                ANNOTATION: action.to_string(),
                "alb.ingress.kubernetes.io/group.name": "family",
            }},
            "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [{"path": "/admin", "pathType": "Prefix",
                "backend": {"service": {"name": "admin", "port": {"name": "use-annotation"}}}}]}}]}
        }),
    );
}

fn ingress(d: &Driver) -> Value {
    d.object("new", "networking.k8s.io/v1/ingresses", "app", "admin")
}

#[test]
fn a_step_patches_exactly_the_annotation_and_waits_for_the_alb() {
    let mut d = Driver::start_prepared(false, ingress_on_new);
    let before = ingress(&d);
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = 1;
    d.press("]");
    d.peers.post("/requests/clear", Value::Null);
    d.press("y");
    let results = d.execute();
    assert!(
        matches!(&results[..], [EffectResult::Verified { detail }] if detail.contains("waiting for the AWS Load Balancer Controller")),
        "{results:#?}"
    );
    let after = ingress(&d);
    // Exactly the two weights of the annotation changed.
    let mut expected = before.clone();
    let action = before["metadata"]["annotations"][ANNOTATION]
        .as_str()
        .unwrap()
        .replace("\"weight\":100", "\"weight\":90")
        .replace("\"weight\":0", "\"weight\":10");
    expected["metadata"]["annotations"][ANNOTATION] = json!(action);
    for field in ["resourceVersion", "managedFields", "generation"] {
        match after["metadata"].get(field) {
            Some(v) => expected["metadata"][field] = v.clone(),
            None => {
                expected["metadata"].as_object_mut().unwrap().remove(field);
            }
        }
    }
    assert_eq!(after, expected, "only the annotation's two weights changed");
    let writes: Vec<Value> = d.peers.mutating_requests();
    assert!(
        writes.iter().all(|r| r["peer"] != "aws" && r["op"] != "ModifyRule"),
        "the rule itself is not written: {writes:#?}"
    );
    assert!(d.app.routes[1].awaiting.is_some() && d.app.routes[1].pending);
    assert!(d.screen().contains("a change is already being written") || d.app.routes[1].pending);

    // Playing the controller: it reconciles the annotation into the rule.
    d.peers.post("/elb/weights", json!({"route": "admin", "old": 90, "new": 10}));
    d.until("the controller's write seen", |app| app.routes[1].awaiting.is_none());
    assert_eq!(d.app.routes[1].verified, Some(Weights::from_percent_new(10)));
    assert!(
        d.app
            .events
            .iter()
            .any(|e| e.text.contains("the AWS Load Balancer Controller wrote old 90/new 10 to the rule"))
    );
    assert!(!d.app.events.iter().any(|e| e.text.contains("OUTSIDE CHANGE")), "the controller's write answers ours");
}

#[test]
fn a_controller_that_does_not_follow_is_said_after_the_deadline() {
    let mut d = Driver::start_prepared(false, ingress_on_new);
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = 1;
    d.press("]y");
    d.execute();
    assert!(d.app.routes[1].awaiting.is_some());
    let later = cutover::domain::plus_secs(d.app.now, cutover::app::CONTROLLER_DEADLINE_SECS + 1);
    d.apply(cutover::app::Msg::Tick { at: later });
    let notice = d.app.notice.clone().unwrap_or_default();
    assert!(notice.contains("has not written old 90/new 10 to the rule within 120s"), "{notice}");
    assert!(!d.app.routes[1].pending, "the route is free again");
}

#[test]
fn a_dry_run_shows_the_patch_and_sends_nothing() {
    let mut d = Driver::start_prepared(true, ingress_on_new);
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = 1;
    d.peers.post("/requests/clear", Value::Null);
    d.press("]y");
    let results = d.execute();
    assert!(
        matches!(&results[..], [EffectResult::DryRun { calls }] if calls[0].starts_with("PATCH (merge) networking.k8s.io/v1 ingresses app/admin on new: {\"metadata\":{\"annotations\":{\"alb.ingress.kubernetes.io/actions.admin\"") && calls[0].contains("\\\"weight\\\":90")),
        "{results:#?}"
    );
    assert!(d.peers.mutating_requests().is_empty(), "{:#?}", d.peers.mutating_requests());
}

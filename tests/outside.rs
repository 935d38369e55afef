//! Changes nobody in this session made, against the peers: a weight
//! change made straight in moto (a colleague in the AWS console, Terraform,
//! a controller), a revert of this session's verified write, and a
//! singleton scaled back up by a GitOps controller (its field manager set
//! in `managedFields`, as the API server records it). Each is an alert
//! event, a mark in the recording and a row of the report.
//!
//! Gaps of the peers: moto's ALB keeps no record of who changed a rule (as
//! AWS's own reads do not: only CloudTrail would say), so the console says
//! it does not know; kmock does not maintain `managedFields`, so the test
//! writes the entry a real API server would.
#![allow(clippy::unwrap_used)]

mod common;

use common::live::Driver;
use cutover::app::{EffectResult, HandoffPhase, Panel};
use serde_json::json;

fn report(path: &std::path::Path) -> String {
    cutover::report::from_file(path).unwrap().markdown()
}

#[test]
fn a_weight_change_nobody_here_made_is_an_alert_a_mark_and_a_report_row() {
    let path = common::fresh_path("outside", "weights.jsonl");
    let mut d = Driver::start_recorded("realistic", &path);
    d.peers.post("/elb/weights", json!({"route": "api", "old": 60, "new": 40}));
    d.until("the change read", |app| app.events.iter().any(|e| e.text.starts_with("OUTSIDE CHANGE: route api")));
    let event = d.app.events.iter().find(|e| e.text.starts_with("OUTSIDE CHANGE")).unwrap().text.clone();
    assert_eq!(
        event,
        "OUTSIDE CHANGE: route api weights old 75/new 25 -> old 60/new 40, not made by this session; the ALB does not say who"
    );
    d.recorder.as_mut().unwrap().flush().unwrap();
    let recording = std::fs::read_to_string(&path).unwrap();
    assert!(recording.contains("\"kind\":\"outside_change\""), "a mark in the recording");
    let report = report(&path);
    assert!(report.contains("## Changes not made by cutover"), "{report}");
    assert!(report.contains("| route api | old 75/new 25 | old 60/new 40 | not told | no |"), "{report}");
}

#[test]
fn this_sessions_own_write_is_not_an_outside_change_and_its_revert_is_called_a_revert() {
    let path = common::fresh_path("outside", "revert.jsonl");
    let mut d = Driver::start_recorded("realistic", &path);
    d.app.ui.focus = Panel::Traffic;
    d.press("]y");
    let results = d.execute();
    assert!(matches!(&results[..], [EffectResult::Verified { .. }]), "{results:?}");
    let at = d.app.routes[0].read.as_ref().unwrap().at;
    d.until("two more polls", |app| app.routes[0].read.as_ref().unwrap().at.as_second() > at.as_second() + 6);
    assert!(
        !d.app.events.iter().any(|e| e.text.contains("OUTSIDE CHANGE") || e.text.contains("REVERTED")),
        "the session's own write is its own: {:?}",
        d.app.events.iter().take(5).collect::<Vec<_>>()
    );

    // Somebody puts the weights back (the AWS console, a controller).
    d.peers.post("/elb/weights", json!({"route": "api", "old": 75, "new": 25}));
    d.until("the revert read", |app| app.events.iter().any(|e| e.text.starts_with("REVERTED: route api")));
    let event = d.app.events.iter().find(|e| e.text.starts_with("REVERTED")).unwrap().text.clone();
    assert!(
        event.starts_with("REVERTED: route api went from old 50/new 50 (written by ")
            && event.contains(") to old 75/new 25, not by this session"),
        "{event}"
    );
    assert_eq!(d.app.notice.as_deref(), Some(event.as_str()), "said on screen, not only in the events");
    d.recorder.as_mut().unwrap().flush().unwrap();
    let report = report(&path);
    assert!(report.contains("| route api | old 50/new 50 | old 75/new 25 | not told | **yes** |"), "{report}");
}

#[test]
fn a_singleton_scaled_back_up_by_gitops_is_a_revert_naming_the_field_manager() {
    let path = common::fresh_path("outside", "singleton.jsonl");
    let mut d = Driver::start_recorded("realistic", &path);
    let i = d.app.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    d.app.ui.focus = Panel::Workloads;
    d.app.ui.selected[Panel::Workloads.index()] = i;
    d.press("hy");
    let results = d.execute();
    assert!(matches!(&results[..], [EffectResult::Verified { .. }]), "{results:?}");
    assert!(matches!(d.app.handoff.as_ref().unwrap().phase, HandoffPhase::WaitingGone));
    // The watch event of the console's own stop is no outside change.
    d.pump(std::time::Duration::from_secs(2));
    assert!(!d.app.events.iter().any(|e| e.text.contains("OUTSIDE CHANGE") || e.text.contains("REVERTED")));

    // Argo CD's self-heal scales it back, as the API server records it.
    let mut old = d.object("old", "apps/v1/deployments", "app", "scheduler");
    old["spec"]["replicas"] = json!(1);
    old["metadata"]["managedFields"] = json!([
        {"manager": "cutover", "operation": "Update", "apiVersion": "apps/v1", "time": "2026-11-28T01:00:00Z",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "argocd-application-controller", "operation": "Apply", "apiVersion": "apps/v1",
         "time": jiff::Timestamp::now().to_string(), "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    ]);
    d.peers.post("/kube/old/apply", old);
    d.until("the revert read", |app| app.events.iter().any(|e| e.text.starts_with("REVERTED: app/scheduler on old")));
    let event = d.app.events.iter().find(|e| e.text.starts_with("REVERTED")).unwrap().text.clone();
    assert!(
        event.contains("went from replicas 0 (written by ")
            && event.contains("to replicas 1, by argocd-application-controller"),
        "{event}"
    );
    d.recorder.as_mut().unwrap().flush().unwrap();
    let report = report(&path);
    assert!(
        report.contains("| app/scheduler on old | replicas 0 | replicas 1 | argocd-application-controller | **yes** |"),
        "{report}"
    );
}

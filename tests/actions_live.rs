//! Operator actions against the real peers: the live executor writes to
//! moto's ELBv2 and to two kmock Kubernetes APIs, and every change is read
//! back from them.
//!
//! kmock runs no controllers, so the test plays them: it removes the old
//! pods after a scale-down and marks the new pod ready after a scale-up.
//! moto reports every registered target healthy, so "no healthy target" is
//! made by deregistering every target of a group.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use common::live::Driver;
use common::sent;
use cutover::app::{App, Effect, EffectResult, HandoffPhase, Modal, Panel};
use cutover::domain::{Side, Weight, Weights, WorkloadKey, WorkloadKind};
use serde_json::{Value, json};

fn verified(results: &[EffectResult]) {
    assert!(results.iter().all(|r| matches!(r, EffectResult::Verified { .. })), "{results:#?}");
    assert!(!results.is_empty());
}

/// Everything of a rule but the forward weights, for comparing before and after.
fn rule_without_weights(rule: &aws_sdk_elasticloadbalancingv2::types::Rule) -> String {
    let mut text = format!("{:?} {:?} {:?}", rule.priority(), rule.conditions(), rule.is_default());
    for a in rule.actions() {
        let f = a.forward_config();
        text.push_str(&format!(
            " {:?} {:?} {:?} {:?}",
            a.r#type(),
            a.order(),
            f.map(|f| f
                .target_groups()
                .iter()
                .map(|t| t.target_group_arn().unwrap_or_default().to_string())
                .collect::<Vec<_>>()),
            f.and_then(|f| f.target_group_stickiness_config()),
        ));
    }
    text
}

#[test]
fn a_nudge_writes_exactly_the_next_step_and_nothing_else() {
    let mut d = Driver::start(false);
    let rule_arn = d.plan.routes[1].alb().unwrap().rule.clone().unwrap().0;
    let describe = |d: &Driver| {
        let elb = d.elb();
        d.rt.block_on(async { elb.describe_rules().rule_arns(&rule_arn).send().await.unwrap() }).rules()[0].clone()
    };
    let before = describe(&d);

    // The admin route (a listener rule): 0% -> 10%, its next step.
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = 1;
    d.press("]");
    assert!(matches!(d.app.modal, Some(Modal::Proposal(_))));
    assert!(sent().is_empty());
    d.press("y");
    verified(&d.execute());
    let after = describe(&d);
    let weights: Vec<(String, i32)> = after.actions()[0]
        .forward_config()
        .unwrap()
        .target_groups()
        .iter()
        .map(|t| (t.target_group_arn().unwrap().rsplit('/').nth(1).unwrap().to_string(), t.weight().unwrap()))
        .collect();
    assert_eq!(weights, vec![("admin-old".to_string(), 90), ("admin-new".to_string(), 10)]);
    assert_eq!(rule_without_weights(&after), rule_without_weights(&before), "conditions, priority, stickiness kept");
    assert_eq!(d.app.routes[1].verified, Some(Weights { old: Weight(90), new: Weight(10) }));

    // The api route (the listener's default action, sticky): 25% -> 50%.
    let listener = d.plan.routes[0].alb().unwrap().listener.0.clone();
    let elb = d.elb();
    let sticky_before =
        d.rt.block_on(async { elb.describe_listeners().listener_arns(&listener).send().await.unwrap() }).listeners()[0]
            .clone();
    d.app.ui.selected[Panel::Traffic.index()] = 0;
    d.press("]y");
    verified(&d.execute());
    let after =
        d.rt.block_on(async { elb.describe_listeners().listener_arns(&listener).send().await.unwrap() }).listeners()[0]
            .clone();
    let f = after.default_actions()[0].forward_config().unwrap();
    assert_eq!(f.target_groups().iter().map(|t| t.weight().unwrap()).collect::<Vec<_>>(), vec![50, 50]);
    assert_eq!(
        f.target_group_stickiness_config(),
        sticky_before.default_actions()[0].forward_config().unwrap().target_group_stickiness_config(),
        "stickiness kept"
    );
    assert_eq!((after.port(), after.protocol()), (sticky_before.port(), sticky_before.protocol()));
    d.until("the poller reads the new weights", |app| {
        app.routes[0].read.as_ref().and_then(|r| r.weights) == Some(Weights::from_percent_new(50))
    });
}

#[test]
fn an_out_of_band_change_between_proposal_and_confirm_is_refused() {
    let mut d = Driver::start(false);
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    assert!(matches!(d.app.modal, Some(Modal::Proposal(_))));
    d.peers.post("/elb/weights", json!({"route": "api", "old": 60, "new": 40}));
    d.press("y");
    let results = d.execute();
    // Refused by the console if the poller saw the change first, else by
    // the executor's re-read right before writing: never written.
    let notice = d.app.notice.clone().unwrap_or_default();
    assert!(notice.contains("changed"), "refused: {notice} {results:?}");
    assert!(results.iter().all(|r| !matches!(r, EffectResult::Verified { .. })));
    let now = d.peers.get("/elb/weights?route=api");
    assert!(now.to_string().contains("60") && now.to_string().contains("40"), "the out-of-band weights stand: {now}");

    // The executor's own check, directly: what the operator saw is stale.
    let seen = vec![("api-old".to_string(), Weight(75)), ("api-new".to_string(), Weight(25))];
    let effect = Effect::SetWeights {
        route: cutover::domain::RouteId(0),
        seen: Some(seen),
        to: Weights::from_percent_new(50),
        all_old: false,
    };
    let result = d.rt.block_on(d.exec.execute(&effect, &|_| {}));
    assert!(
        matches!(&result, EffectResult::Refused { reason } if reason.contains("you saw api-new=25 api-old=75, it is now api-new=40 api-old=60")),
        "{result:?}"
    );
}

#[test]
fn no_healthy_target_in_the_new_group_refuses_a_step_towards_it() {
    let mut d = Driver::start(false);
    let tg = d.plan.routes[0].alb().unwrap().new_target_group.0.clone();
    let elb = d.elb();
    d.rt.block_on(async {
        let health = elb.describe_target_health().target_group_arn(&tg).send().await.unwrap();
        let targets: Vec<TargetDescription> =
            health.target_health_descriptions().iter().map(|h| h.target().unwrap().clone()).collect();
        elb.deregister_targets().target_group_arn(&tg).set_targets(Some(targets)).send().await.unwrap();
    });
    d.until("the empty group read", |app| app.routes[0].read.as_ref().is_some_and(|r| r.targets.new.is_empty()));
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    let notice = d.app.notice.clone().unwrap_or_default();
    assert!(notice.contains("target group api-new has no healthy target"), "{notice}");
    assert!(d.app.modal.is_none() && sent().is_empty());
}

fn scheduler_pods(app: &App, side: Side) -> Vec<String> {
    app.clusters
        .get(side)
        .pods
        .values()
        .filter(|p| p.key.name.starts_with("scheduler-"))
        .map(|p| p.key.name.clone())
        .collect()
}

#[test]
fn a_handoff_stops_old_first_and_starts_new_only_when_old_is_gone() {
    let mut d = Driver::start(false);
    let i = d.app.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    d.app.ui.focus = Panel::Workloads;
    d.app.ui.selected[Panel::Workloads.index()] = i;
    d.press("h");
    assert!(matches!(d.app.modal, Some(Modal::Proposal(_))));
    d.press("y");
    verified(&d.execute());
    let old = d.object("old", "apps/v1/deployments", "app", "scheduler");
    assert_eq!(old["spec"]["replicas"], 0, "old scaled to 0 first");
    let new = d.object("new", "apps/v1/deployments", "app", "scheduler");
    assert_eq!(new["spec"]["replicas"], 0, "new not started yet");

    // kmock runs no controller: the old pod is still there, so nothing starts.
    d.pump(Duration::from_secs(3));
    assert!(sent().is_empty(), "no start while the old pod runs");
    assert_eq!(d.app.handoff.as_ref().unwrap().phase, HandoffPhase::WaitingGone);
    // The executor refuses a start on its own too, reading old afresh.
    let key = WorkloadKey::new("app", "scheduler");
    let start = Effect::Start {
        side: Side::New,
        key: key.clone(),
        kind: WorkloadKind::Deployment,
        replicas: 1,
        other: key.clone(),
        starting_deadline: None,
    };
    let result = d.rt.block_on(d.exec.execute(&start, &|_| {}));
    assert!(
        matches!(&result, EffectResult::Refused { reason } if reason.contains("still runs (1 pod(s))")),
        "{result:?}"
    );

    // Playing the controller: the old pod goes.
    for pod in scheduler_pods(&d.app, Side::Old) {
        d.peers.post("/kube/old/delete", json!({"resource": "v1/pods", "namespace": "app", "name": pod}));
    }
    d.pump(Duration::from_secs(2));
    assert!(sent().is_empty(), "the Deployment still reports a ready replica: nothing starts yet");
    let mut old = d.object("old", "apps/v1/deployments", "app", "scheduler");
    old["status"] = json!({"replicas": 0, "readyReplicas": 0, "availableReplicas": 0});
    d.peers.post("/kube/old/apply", old);
    d.until("the start of new", |_| !sent().is_empty());
    verified(&d.execute());
    let new = d.object("new", "apps/v1/deployments", "app", "scheduler");
    assert_eq!(new["spec"]["replicas"], 1, "new started with the plan's replicas");

    // Playing the controller: the new side becomes ready.
    let mut deployment = new.clone();
    deployment["status"] = json!({"replicas": 1, "readyReplicas": 1, "availableReplicas": 1});
    d.peers.post("/kube/new/apply", deployment);
    d.until("the handoff done", |app| app.handoff.as_ref().is_some_and(|h| h.phase == HandoffPhase::Done));
    let h = d.app.handoff.as_ref().unwrap();
    assert!(h.gone_at.unwrap() <= h.ready_at.unwrap());
    assert!(d.app.events.iter().any(|e| e.text.contains("handoff scheduler old → new done: gap")));
}

#[test]
fn an_aborted_handoff_restores_the_old_side() {
    let mut d = Driver::start(false);
    let i = d.app.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    d.app.ui.focus = Panel::Workloads;
    d.app.ui.selected[Panel::Workloads.index()] = i;
    d.press("hy");
    verified(&d.execute());
    assert_eq!(d.object("old", "apps/v1/deployments", "app", "scheduler")["spec"]["replicas"], 0);
    d.press("xy");
    verified(&d.execute());
    assert_eq!(d.object("old", "apps/v1/deployments", "app", "scheduler")["spec"]["replicas"], 1, "old restored");
    assert_eq!(d.object("new", "apps/v1/deployments", "app", "scheduler")["spec"]["replicas"], 0, "new untouched");
    assert_eq!(d.app.handoff.as_ref().unwrap().phase, HandoffPhase::Aborted);
}

#[test]
fn dry_run_says_what_it_would_call_and_changes_nothing() {
    let mut d = Driver::start(true);
    d.peers.post("/requests/clear", Value::Null);
    d.app.ui.focus = Panel::Traffic;
    d.press("]y");
    let results = d.execute();
    assert!(
        matches!(&results[..], [EffectResult::DryRun { calls }] if calls[0].starts_with("ModifyListener ListenerArn=") && calls[0].contains("api-old=50 api-new=50")),
        "{results:?}"
    );
    let i = d.app.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    d.app.ui.focus = Panel::Workloads;
    d.app.ui.selected[Panel::Workloads.index()] = i;
    d.press("hy");
    let results = d.execute();
    assert!(
        matches!(&results[..], [EffectResult::DryRun { calls }] if calls[0].contains("PATCH (merge) apps/v1 deployments app/scheduler on old: {\"spec\":{\"replicas\":0}}")),
        "{results:?}"
    );
    let mutating = d.peers.mutating_requests();
    assert!(mutating.is_empty(), "dry run sends nothing that writes: {mutating:#?}");
}

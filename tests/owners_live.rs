//! Owners against the real peers: the admin rule tagged in moto as the AWS
//! Load Balancer Controller tags its rules, and the scheduler annotated in
//! both kmock clusters as Argo CD tracks what it deploys. The proposals name
//! them and wait for the typed override; `y` alone changes nothing.
//!
//! Gaps of the peers, and what the tests do about them:
//! - moto 5 answers DescribeTags for listener rules and listeners as well
//!   as for target groups and load balancers (checked below, straight
//!   through the SDK); it enforces neither the 20-ARN limit of a call nor
//!   the existence of the ARNs it is asked about, and allows 10 tags a
//!   resource where AWS allows 50.
//! - No controller runs: nothing puts the weights or the replicas back, so
//!   what is checked is what the console proposed, held and wrote.
//! - The tags are read with the first ALB poll and then every tenth: the
//!   plan here polls every second, so a tag added mid-session is seen
//!   within about ten seconds.
#![allow(clippy::unwrap_used)]

mod common;

use aws_sdk_elasticloadbalancingv2::types::Tag;
use common::live::{Driver, LiveConsole};
use common::peers::Peers;
use common::sent;
use cutover::app::{App, EffectResult, Modal, Mode, Msg, Panel, Proposal};
use cutover::domain::{Owner, Side, Weights};
use cutover::effects::LiveExecutor;
use cutover::keymap::{Key, KeyCode};
use serde_json::json;

fn proposal(app: &App) -> Proposal {
    match &app.modal {
        Some(Modal::Proposal(p)) => p.clone(),
        other => panic!("a proposal is shown, not {other:?}; notice: {:?}", app.notice),
    }
}

fn verified(results: &[EffectResult]) {
    assert!(!results.is_empty() && results.iter().all(|r| matches!(r, EffectResult::Verified { .. })), "{results:#?}");
}

/// The driver's console on the realistic peers, with the ALB polled every
/// second, recorded to `path` from the first message read.
fn driver(path: &std::path::Path) -> Driver {
    driver_with(path, |_| {})
}

/// `driver`, with `prepare` run on the peers before the sources start.
fn driver_with(path: &std::path::Path, prepare: impl FnOnce(&Peers)) -> Driver {
    let fast = |peers: &Peers| {
        let plan = std::fs::read_to_string(peers.plan_path()).unwrap();
        let plan = plan.replacen("[aws]\n", "[aws]\nalb_poll = 1\n", 1);
        std::fs::write(peers.plan_path(), plan).unwrap();
        prepare(peers);
    };
    let mut console = LiveConsole::start_with("realistic", Mode::Run, fast);
    console.record_to(path);
    let exec = LiveExecutor {
        elb: cutover::effects::elb_client(&console.clients.sdk),
        route53: cutover::sources::aws::route53_client(&console.clients.sdk),
        kube: console.clients.kube.clone(),
        plan: console.plan.clone(),
        dry_run: false,
        route53_options: Default::default(),
    };
    let mut d = Driver { console, exec };
    d.until("everything read", |app| {
        app.routes.iter().all(|r| r.read.is_some() && (r.owners.is_some() || r.owners_error.is_some()))
            && !app.routes[0].metrics.old.requests.is_empty()
            && app.clusters.old.synced
            && app.clusters.new.synced
    });
    // As every live driver: an hour-old recording of the plan read at the
    // start, so a first step is not one right after a restart.
    d.settle();
    d
}

fn keys(d: &mut Driver, keys: &[Key]) {
    for key in keys {
        d.apply(Msg::Key(*key));
    }
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

#[test]
fn a_step_on_a_rule_the_load_balancer_controller_tagged_needs_the_typed_override() {
    let path = common::fresh_path("owners", "lbc.jsonl");
    let mut d = driver(&path);
    assert!(d.app.routes.iter().all(|r| r.owners.as_ref().unwrap().rule.is_none()), "nobody owns them at first");
    let rule = d.plan.routes[1].alb().unwrap().rule.clone().unwrap().0;
    let listener = d.plan.routes[0].alb().unwrap().listener.0.clone();
    let elb = d.elb();
    let tags = d.rt.block_on(async {
        elb.add_tags()
            .resource_arns(&rule)
            .tags(tag("elbv2.k8s.aws/cluster", "eks-old"))
            .tags(tag("ingress.k8s.aws/stack", "app/photo-admin"))
            .tags(tag("ingress.k8s.aws/resource", "80:1"))
            .send()
            .await
            .unwrap();
        // moto answers DescribeTags for a rule and a listener.
        elb.describe_tags().resource_arns(&rule).resource_arns(&listener).send().await.unwrap()
    });
    let tag_keys = |arn: &str| {
        tags.tag_descriptions()
            .iter()
            .find(|t| t.resource_arn() == Some(arn))
            .map(|t| t.tags().iter().filter_map(|t| t.key()).map(String::from).collect::<Vec<_>>())
    };
    assert_eq!(tag_keys(&rule).map(|k| k.len()), Some(3), "{tags:?}");
    assert_eq!(tag_keys(&listener), Some(vec![]), "{tags:?}");

    // Read again at the slow pace of the tags.
    d.until("the controller seen on the admin rule", |app| {
        app.routes[1].owners.as_ref().is_some_and(|o| o.rule.is_some())
    });
    let expected = Owner::LoadBalancerController {
        cluster: Some("eks-old".into()),
        stack: Some("app/photo-admin".into()),
        resource: Some("80:1".into()),
    };
    assert_eq!(d.app.routes[1].owners.as_ref().unwrap().rule, Some(expected.clone()));
    assert!(d.app.routes[0].owners.as_ref().unwrap().rule.is_none(), "the api listener is not the controller's");

    // Selected with keys, not by setting the state: the report replays them.
    keys(&mut d, &[Key::plain(KeyCode::BackTab), Key::plain(KeyCode::Down)]);
    assert_eq!((d.app.ui.focus, d.app.ui.selected[Panel::Traffic.index()]), (Panel::Traffic, 1));
    d.press("]");
    let p = proposal(&d.app);
    assert!(p.typed_override.is_some());
    assert!(
        p.lines.iter().any(|l| l.contains("the AWS Load Balancer Controller (cluster eks-old, Ingress app/photo-admin) will put the weights back at its next reconcile")),
        "{:?}",
        p.lines
    );
    d.press("y");
    assert!(sent().is_empty(), "y alone does not confirm");
    assert!(d.execute().is_empty());
    assert!(matches!(d.app.modal, Some(Modal::Proposal(_))));
    d.press("override");
    keys(&mut d, &[Key::plain(KeyCode::Enter)]);
    verified(&d.execute());
    let w = d.peers.get("/elb/weights?route=admin");
    assert_eq!((w["old"].as_i64(), w["new"].as_i64()), (Some(90), Some(10)), "{w}");
    assert_eq!(d.app.routes[1].verified, Some(Weights::from_percent_new(10)));

    // The panic button is never held back, and names the owner.
    d.press("R");
    let p = proposal(&d.app);
    assert!(p.typed_override.is_none());
    assert!(p.lines.iter().any(|l| l.contains("owns this rule and may put its weights back")), "{:?}", p.lines);
    d.press("y");
    verified(&d.execute());

    d.recorder.as_mut().unwrap().flush().unwrap();
    let recording = std::fs::read_to_string(&path).unwrap();
    assert!(recording.contains("\"kind\":\"override\""), "a mark in the recording");
    assert!(recording.contains("\"RouteOwners\""), "the owners are in the stream");
    let report = cutover::report::from_file(&path).unwrap();
    assert_eq!(report.overrides.len(), 1, "{:?}", report.overrides);
    assert_eq!(report.overrides[0].owner, expected.describe());
    assert!(report.overrides[0].proposal.contains("route admin: 0% → 10% to new"));
    let markdown = report.markdown();
    assert!(
        markdown.contains("## Overrides") && markdown.contains("| the AWS Load Balancer Controller (cluster eks-old, Ingress app/photo-admin) | route admin: 0% → 10% to new |"),
        "{markdown}"
    );
}

#[test]
fn a_handoff_of_an_argo_tracked_scheduler_needs_the_typed_override() {
    let path = common::fresh_path("owners", "argo.jsonl");
    let mut d = driver(&path);
    for side in ["old", "new"] {
        let mut deployment = d.object(side, "apps/v1/deployments", "app", "scheduler");
        deployment["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] =
            json!("photo-api:apps/Deployment:app/scheduler");
        d.peers.post(&format!("/kube/{side}/apply"), deployment);
    }
    d.until("the tracking seen on both sides", |app| {
        Side::BOTH
            .iter()
            .all(|s| app.clusters.get(*s).workloads.values().any(|w| w.key.name == "scheduler" && w.owner.is_some()))
    });
    let i = d.app.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    assert_eq!(d.app.ui.focus, Panel::Workloads);
    keys(&mut d, &vec![Key::plain(KeyCode::Down); i]);
    d.press("h");
    let p = proposal(&d.app);
    assert_eq!(
        p.typed_override.as_ref().unwrap().owner,
        "old: Argo CD application photo-api; new: Argo CD application photo-api"
    );
    assert!(
        p.lines.iter().any(|l| l.contains(
            "Argo CD application photo-api with self-heal will scale it back: turn off automated sync for photo-api"
        )),
        "{:?}",
        p.lines
    );
    d.press("y");
    assert!(d.execute().is_empty(), "y alone hands nothing over");
    assert_eq!(d.object("old", "apps/v1/deployments", "app", "scheduler")["spec"]["replicas"], 1);
    d.press("override");
    keys(&mut d, &[Key::plain(KeyCode::Enter)]);
    verified(&d.execute());
    assert_eq!(d.object("old", "apps/v1/deployments", "app", "scheduler")["spec"]["replicas"], 0, "old stopped");
    d.recorder.as_mut().unwrap().flush().unwrap();
    let report = cutover::report::from_file(&path).unwrap();
    assert!(
        report
            .overrides
            .iter()
            .any(|o| o.owner.contains("Argo CD application photo-api") && o.proposal.contains("hand scheduler over")),
        "{:?}",
        report.overrides
    );
}

/// DescribeTags denied (the identity lacks the permission) while every
/// other read works: the weights are read as ever, the gap is said once,
/// a step says who owns the rule is not known; once the tags can be read,
/// they are, a couple of polls later.
#[test]
fn tags_that_cannot_be_read_leave_the_weights_read_and_say_so() {
    let path = common::fresh_path("owners", "denied.jsonl");
    let mut d = driver_with(&path, |peers| {
        peers.aws_fault(json!({
            "ops": ["DescribeTags"], "status": 403, "code": "AccessDenied",
            "message": "User is not authorized to perform: elasticloadbalancing:DescribeTags"
        }));
    });
    assert!(d.app.routes.iter().all(|r| r.owners.is_none() && r.read.is_some()), "the weights are read");
    assert!(
        !d.app.is_stale(cutover::app::SourceId::Traffic(cutover::domain::RouteKind::Alb)),
        "the ALB source is not stale for it"
    );
    let error = d.app.routes[1].owners_error.clone().unwrap();
    assert!(error.contains("access denied: the AWS identity needs elasticloadbalancing:DescribeTags"), "{error}");
    d.pump(std::time::Duration::from_secs(3));
    assert_eq!(d.app.events.iter().filter(|e| e.text.contains("ELBv2 tags not read")).count(), 1, "said once");
    keys(&mut d, &[Key::plain(KeyCode::BackTab), Key::plain(KeyCode::Down)]);
    d.press("]");
    let p = proposal(&d.app);
    assert!(p.typed_override.is_none());
    assert!(p.lines.iter().any(|l| l.contains("who else writes this rule is not known")), "{:?}", p.lines);
    d.press("n");

    d.peers.clear_aws_faults();
    d.until("the tags read again", |app| app.routes.iter().all(|r| r.owners.is_some() && r.owners_error.is_none()));
}

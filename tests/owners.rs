//! Other hands that write what cutover writes, in the simulated world: a
//! rule the AWS Load Balancer Controller owns and a singleton a GitOps
//! controller tracks are named in the proposals, and a change the owner
//! would undo takes a typed override, never `y`. The way back (`R`) is
//! never held back by an owner.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, draw, feed, press, sent, step, take_sent};
use cutover::app::{App, ClusterDelta, Effect, Marked, Modal, Msg, Panel, Proposal, update};
use cutover::domain::{FluxKind, Owner, PerSide, RouteOwners, Side, Weights, WorkloadKey};
use cutover::keymap::{Key, KeyCode};

fn key(c: char) -> Key {
    Key::char(c)
}

fn typed(app: &mut App, text: &str) {
    press(app, &text.chars().map(Key::char).collect::<Vec<_>>());
}

fn enter() -> Key {
    Key::plain(KeyCode::Enter)
}

fn lbc() -> Owner {
    Owner::LoadBalancerController {
        cluster: Some("eks-2022".into()),
        stack: Some("app/photo-api".into()),
        resource: Some("80".into()),
    }
}

fn argo() -> Owner {
    Owner::ArgoCd { app: "photo-api".into(), by_label: false }
}

/// The api route's listener carries the controller's tags.
fn api_owned_by(app: &mut App, owner: Option<Owner>) {
    let routes = vec![
        RouteOwners { route: cutover::domain::RouteId(0), rule: owner, target_groups: PerSide::new(None, None) },
        RouteOwners { route: cutover::domain::RouteId(1), rule: None, target_groups: PerSide::new(None, None) },
    ];
    let at = app.now;
    feed(app, vec![Msg::RouteOwners { at, routes, error: None }]);
}

fn proposal(app: &App) -> Proposal {
    match &app.modal {
        Some(Modal::Proposal(p)) => p.clone(),
        other => panic!("a proposal is shown, not {other:?}; notice {:?}", app.notice),
    }
}

/// The singleton `name` on `side`, as the watch would send it with an owner.
fn owned_singleton(app: &mut App, side: Side, name: &str, owner: Option<Owner>) {
    let mut w = app.clusters.get(side).workloads.values().find(|w| w.key.name == name).unwrap().clone();
    w.owner = owner;
    feed(app, vec![Msg::Cluster { side, delta: ClusterDelta::Workload(w) }]);
}

fn select(app: &mut App, name: &str) {
    let i = app.workload_keys().iter().position(|k| k.name == name).unwrap();
    app.ui.focus = Panel::Workloads;
    app.ui.selected[Panel::Workloads.index()] = i;
}

#[test]
fn a_step_on_a_rule_the_load_balancer_controller_owns_needs_the_typed_override() {
    let (_, mut app) = demo(30);
    api_owned_by(&mut app, Some(lbc()));
    assert!(
        app.events.iter().any(|e| e.text.contains(
            "route api: the AWS Load Balancer Controller (cluster eks-2022, Ingress app/photo-api) owns the rule"
        )),
        "the owner is an event: {:?}",
        app.events.iter().take(3).collect::<Vec<_>>()
    );
    press(&mut app, &[Key::plain(KeyCode::BackTab), key(']')]);
    let p = proposal(&app);
    let o = p.typed_override.clone().expect("the override is asked for");
    assert_eq!(o.word, "override");
    assert!(
        p.lines.iter().any(|l| l.contains(
            "the AWS Load Balancer Controller (cluster eks-2022, Ingress app/photo-api) will put the weights back at its next reconcile: change the Ingress annotation `alb.ingress.kubernetes.io/actions.<name>` instead"
        )),
        "{:?}",
        p.lines
    );
    let screen = draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(screen.contains("PROPOSAL, OWNER OVERRIDE"), "{screen}");
    assert!(screen.contains("type the override:"), "{screen}");
    assert!(screen.contains("`override` + enter apply (y is not taken)"), "{screen}");
    assert!(screen.contains("alb.ingress.kubernetes.io/actions.<name>"), "the advice is wrapped, not cut: {screen}");

    // `y`, `Y` and Enter alone do nothing.
    press(&mut app, &[key('y'), key('Y'), enter()]);
    assert!(sent().is_empty(), "y does not confirm an override");
    assert!(matches!(app.modal, Some(Modal::Proposal(_))), "still open");
    assert!(app.notice.as_deref().unwrap_or_default().contains("is not `override`"), "{:?}", app.notice);
    press(&mut app, &[key('y')]);
    assert!(app.notice.as_deref().unwrap_or_default().contains("y does not confirm this one"), "{:?}", app.notice);
    // A wrong word is cleared; Backspace deletes.
    typed(&mut app, "overide");
    press(&mut app, &[enter()]);
    assert!(sent().is_empty() && proposal(&app).typed_override.unwrap().typed.is_empty());
    typed(&mut app, "overridex");
    press(&mut app, &[Key::plain(KeyCode::Backspace)]);
    assert_eq!(proposal(&app).typed_override.unwrap().typed, "override");
    let out = update(&mut app, Msg::Key(enter()));
    assert!(
        matches!(&out.effects[..], [q] if matches!(&q.effect, Effect::SetWeights { to, .. } if *to == Weights::from_percent_new(50)))
    );
    let mark = out.marks.iter().find_map(|m| match &m.what {
        Marked::Override { who, owner, proposal } => Some((who.clone(), owner.clone(), proposal.clone())),
        _ => None,
    });
    let (who, owner, title) = mark.expect("the override is marked");
    assert_eq!(who, app.operator);
    assert_eq!(owner, lbc().describe());
    assert!(title.contains("route api: 25% → 50% to new"), "{title}");
    assert!(app.events.iter().any(|e| e.text.starts_with("OVERRIDE by") && e.text.contains("would undo it")));
    assert!(out.marks.iter().any(|m| matches!(m.what, Marked::Weights { .. })), "the change itself is marked too");
}

#[test]
fn revert_all_and_undo_name_the_owner_and_are_never_held_back() {
    let (_, mut app) = demo(30);
    api_owned_by(&mut app, Some(lbc()));
    press(&mut app, &[key('R')]);
    let p = proposal(&app);
    assert!(p.typed_override.is_none(), "the panic button takes y");
    assert!(p.lines.iter().any(|l| l.contains("the AWS Load Balancer Controller (cluster eks-2022, Ingress app/photo-api) owns this rule and may put its weights back")), "{:?}", p.lines);
    press(&mut app, &[key('y')]);
    // The admin route is at 100% old already in the demo; api and www are not.
    assert!(
        matches!(&sent()[..], [Effect::SetWeights { route: a, seen: None, .. }, Effect::SetWeights { route: w, seen: None, .. }]
            if *a == cutover::domain::RouteId(0) && *w == cutover::domain::RouteId(2)),
        "{:?}",
        sent()
    );
    take_sent();

    // `r` after a step: an undo is named, not held back.
    let (mut world, mut app) = demo(30);
    press(&mut app, &[Key::plain(KeyCode::BackTab), key(']'), key('y')]);
    for q in take_sent() {
        let (result, msgs) = world.apply(&q.effect);
        feed(&mut app, msgs);
        step(&mut app, Msg::EffectDone { id: q.id, effect: q.effect, result });
    }
    api_owned_by(&mut app, Some(lbc()));
    press(&mut app, &[key('r')]);
    let p = proposal(&app);
    assert!(p.typed_override.is_none(), "{p:?}");
    assert!(p.lines.iter().any(|l| l.contains("will put the weights back")), "{:?}", p.lines);
    press(&mut app, &[key('y')]);
    assert_eq!(sent().len(), 1);
}

#[test]
fn a_cloudformation_rule_is_named_and_a_step_takes_y() {
    let (_, mut app) = demo(30);
    api_owned_by(&mut app, Some(Owner::CloudFormation { stack: "photo-alb".into() }));
    press(&mut app, &[Key::plain(KeyCode::BackTab), key(']')]);
    let p = proposal(&app);
    assert!(p.typed_override.is_none());
    assert!(
        p.lines.iter().any(|l| l.contains("CloudFormation stack photo-alb sets these weights again")),
        "{:?}",
        p.lines
    );
    press(&mut app, &[key('y')]);
    assert_eq!(sent().len(), 1);
}

#[test]
fn a_failed_tag_read_keeps_the_owner_known_before_and_says_so() {
    let (_, mut app) = demo(30);
    api_owned_by(&mut app, Some(lbc()));
    let error = "throttled by AWS (Throttling: Rate exceeded); retrying with backoff".to_string();
    for _ in 0..3 {
        let at = app.now;
        feed(&mut app, vec![Msg::RouteOwners { at, routes: vec![], error: Some(error.clone()) }]);
    }
    assert_eq!(app.events.iter().filter(|e| e.text.contains("ELBv2 tags not read")).count(), 1, "said once");
    assert_eq!(app.routes[0].owners.as_ref().unwrap().rule, Some(lbc()), "what was known stands");
    press(&mut app, &[Key::plain(KeyCode::BackTab), key(']')]);
    assert!(proposal(&app).typed_override.is_some(), "still held for the override");
    press(&mut app, &[Key::plain(KeyCode::Esc)]);
    assert!(app.modal.is_none() && sent().is_empty(), "esc drops it");

    // Never read at all: the admin route's step says its owner is not known.
    let (_, mut app) = demo(30);
    let at = app.now;
    feed(&mut app, vec![Msg::RouteOwners { at, routes: vec![], error: Some(error) }]);
    press(&mut app, &[Key::plain(KeyCode::BackTab), key(']')]);
    let p = proposal(&app);
    assert!(p.typed_override.is_none());
    assert!(p.lines.iter().any(|l| l.contains("who else writes this rule is not known")), "{:?}", p.lines);
}

#[test]
fn an_argo_tracked_singleton_needs_the_typed_override_to_hand_over() {
    let (_, mut app) = demo(30);
    owned_singleton(&mut app, Side::Old, "scheduler", Some(argo()));
    owned_singleton(&mut app, Side::New, "scheduler", Some(argo()));
    select(&mut app, "scheduler");
    press(&mut app, &[key('h')]);
    let p = proposal(&app);
    let o = p.typed_override.clone().expect("the override is asked for");
    assert_eq!(o.owner, "old: Argo CD application photo-api; new: Argo CD application photo-api");
    assert!(
        p.lines.iter().any(|l| l == "⚠ old: Argo CD application photo-api with self-heal will scale it back: turn off automated sync for photo-api (or add a deny sync window), or remove `replicas` from the manifest"),
        "{:?}",
        p.lines
    );
    press(&mut app, &[key('y')]);
    assert!(sent().is_empty(), "y does not hand it over");
    typed(&mut app, "override");
    let out = update(&mut app, Msg::Key(enter()));
    assert!(matches!(&out.effects[..], [q] if matches!(q.effect, Effect::Stop { side: Side::Old, .. })));
    assert!(
        out.marks.iter().any(
            |m| matches!(&m.what, Marked::Override { owner, .. } if owner.contains("Argo CD application photo-api"))
        )
    );
    assert!(out.marks.iter().any(|m| matches!(m.what, Marked::HandoffStarted { .. })));
}

#[test]
fn singletons_whose_owner_leaves_replicas_alone_take_y() {
    // Flux told to leave the object alone; a Helm release (no controller).
    for owner in [
        Owner::Flux {
            kind: FluxKind::Kustomization,
            name: "apps".into(),
            namespace: Some("flux-system".into()),
            reconcile_disabled: true,
        },
        Owner::Helm { release: "scheduler".into(), namespace: Some("app".into()) },
    ] {
        let (_, mut app) = demo(30);
        // The demo's scheduler is Argo CD's on both sides: the new side's owner
        // is cleared to look at one side.
        owned_singleton(&mut app, Side::New, "scheduler", None);
        owned_singleton(&mut app, Side::Old, "scheduler", Some(owner.clone()));
        select(&mut app, "scheduler");
        press(&mut app, &[key('h')]);
        let p = proposal(&app);
        assert!(p.typed_override.is_none(), "{owner:?}");
        assert!(p.lines.iter().any(|l| l.starts_with("⚠ old: ") && l.contains(&owner.describe())), "{:?}", p.lines);
        press(&mut app, &[key('y')]);
        assert_eq!(take_sent().len(), 1);
    }
    // A CronJob tracked by Argo CD: named (its manifest rarely sets
    // `suspend`), not held back.
    let (_, mut app) = demo(30);
    owned_singleton(&mut app, Side::New, "billing-close", Some(argo()));
    select(&mut app, "billing-close");
    press(&mut app, &[key('h')]);
    let p = proposal(&app);
    assert!(p.typed_override.is_none());
    assert!(p.lines.iter().any(|l| l.contains("remove `suspend` from the manifest")), "{:?}", p.lines);
}

#[test]
fn the_drill_downs_name_the_owners() {
    let (_, mut app) = demo(30);
    press(&mut app, &[Key::plain(KeyCode::BackTab), enter()]);
    let screen = draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(
        screen.contains("owners         nobody known (no controller's tags on the rule or its target groups)"),
        "{screen}"
    );
    api_owned_by(&mut app, Some(lbc()));
    let screen = draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(
        screen.contains(
            "owners         ⚠ rule: the AWS Load Balancer Controller (cluster eks-2022, Ingress app/photo-api)\n"
        ) && screen
            .contains("               it puts the weights back at its next reconcile: a step needs the typed override"),
        "{screen}"
    );

    let (_, mut app) = demo(30);
    owned_singleton(&mut app, Side::New, "scheduler", None);
    owned_singleton(&mut app, Side::Old, "scheduler", Some(argo()));
    app.ui.view = cutover::app::View::Workload(WorkloadKey::new("app", "scheduler"));
    let screen = draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(
        screen.contains("owner old Argo CD application photo-api   new nobody known   ⚠ may scale it back: a handoff needs the typed override"),
        "{screen}"
    );
}

#[test]
fn recordings_and_keyframes_without_owners_still_read() {
    // A workload, a route state and a proposal as earlier versions wrote them.
    let w: cutover::domain::Workload = serde_json::from_str(
        r#"{"key":{"namespace":"app","name":"scheduler"},"kind":"Deployment","desired":1,"ready":1,"images":[],"suspended":false,"schedule":null,"completed":null}"#,
    )
    .unwrap();
    assert_eq!(w.owner, None);
    assert!(!serde_json::to_string(&w).unwrap().contains("owner"), "nobody known is not written");
    let (_, app) = demo(30);
    let mut state = serde_json::to_value(&app.routes[0]).unwrap();
    // The demo's tags are read: written as earlier versions did, without.
    state.as_object_mut().unwrap().remove("owners");
    state.as_object_mut().unwrap().remove("owners_error");
    let route: cutover::app::RouteState = serde_json::from_value(state).unwrap();
    assert_eq!(route.owners, None);
    let msg = Msg::RouteOwners {
        at: app.now,
        routes: vec![RouteOwners {
            route: cutover::domain::RouteId(0),
            rule: Some(lbc()),
            target_groups: PerSide::new(None, None),
        }],
        error: None,
    };
    let text = serde_json::to_string(&msg).unwrap();
    assert!(text.contains(r#""by":"load_balancer_controller""#), "{text}");
    assert_eq!(serde_json::from_str::<Msg>(&text).unwrap(), msg);
}

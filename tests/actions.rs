//! Operator actions in the simulated world, through the same `update` as
//! the live console: nothing happens on one key, every guard refuses with a
//! reason, and a singleton is never started while the other side runs.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, feed, press, sent, step, take_sent};
use cutover::app::{App, Effect, EffectResult, HandoffPhase, Modal, Mode, Msg, Panel, Queued, SourceId, SourceState};
use cutover::domain::{RouteRead, Side, Target, TargetState, Weight, Weights, plus_secs};
use cutover::keymap::{Key, KeyCode};
use cutover::sim::World;

fn key(c: char) -> Key {
    Key::char(c)
}

fn api_weights(app: &App) -> Weights {
    app.routes[0].read.as_ref().unwrap().weights.unwrap()
}

/// Hands the outbox to the simulated world, as the demo's executor does.
fn execute(world: &mut World, app: &mut App) -> Vec<EffectResult> {
    let mut results = Vec::new();
    for Queued { id, effect } in take_sent() {
        let (result, msgs) = world.apply(&effect);
        feed(app, msgs);
        results.push(result.clone());
        step(app, Msg::EffectDone { id, effect, result });
    }
    results
}

fn refused_with(app: &App, words: &str) {
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.contains(words), "expected a refusal about `{words}`, got `{notice}`");
    assert!(sent().is_empty(), "a refusal makes no effect");
    assert!(app.events.iter().any(|e| e.text.starts_with("refused:") && e.text.contains(words)));
}

#[test]
fn one_key_proposes_and_only_y_applies() {
    let (mut world, mut app) = demo(30);
    assert_eq!(api_weights(&app), Weights { old: Weight(75), new: Weight(25) });
    press(&mut app, &[key(']')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a proposal is shown") };
    assert!(p.lines[0].contains("old 75 / new 25  →  old 50 / new 50"), "{:?}", p.lines);
    assert!(p.lines[1].contains("req/min"), "{:?}", p.lines);
    assert!(sent().is_empty(), "nothing changes on a single key press");

    press(&mut app, &[key('n')]);
    assert!(app.modal.is_none() && sent().is_empty());
    press(&mut app, &[key('+'), Key::plain(KeyCode::Esc)]);
    assert!(app.modal.is_none() && sent().is_empty(), "esc cancels too");

    press(&mut app, &[key(']'), key('y')]);
    assert!(matches!(&sent()[..], [Effect::SetWeights { to, .. }] if *to == Weights::from_percent_new(50)));
    let results = execute(&mut world, &mut app);
    assert!(matches!(&results[..], [EffectResult::Verified { .. }]), "{results:?}");
    assert_eq!(api_weights(&app), Weights::from_percent_new(50));
    assert_eq!(app.routes[0].verified, Some(Weights::from_percent_new(50)));
    assert!(app.events.iter().any(|e| e.text.contains("set old 75/new 25 -> old 50/new 50")), "who and before/after");

    // The world's traffic follows the weights.
    let minute = cutover::domain::Minute::containing(world.now());
    feed(&mut app, world.advance(plus_secs(world.now(), 180)));
    let share = |m| {
        let r = &app.routes[0].metrics;
        let (o, n) = (r.old.requests.get(m).unwrap(), r.new.requests.get(m).unwrap());
        n / (o + n)
    };
    assert!((share(minute.offset(2)) - 0.5).abs() < 0.05, "{}", share(minute.offset(2)));
}

#[test]
fn steps_walk_to_100_and_back_and_r_undoes_to_the_sessions_first_read() {
    let (mut world, mut app) = demo(30);
    // The first step: the route has been at 25% at least since the session
    // began, so one confirmation is enough.
    press(&mut app, &[key(']'), key('y')]);
    execute(&mut world, &mut app);
    assert_eq!(api_weights(&app), Weights::from_percent_new(50));
    // The next ones come before min_dwell: a second, different key.
    for _ in 0..2 {
        press(&mut app, &[key(']'), key('y'), key('y')]);
        assert!(sent().is_empty(), "a repeated y is not the second confirmation");
        let Some(Modal::Proposal(p)) = &app.modal else { panic!("still proposed") };
        assert!(p.lines.iter().any(|l| l.contains("min_dwell 120s")), "{:?}", p.lines);
        press(&mut app, &[key('Y')]);
        execute(&mut world, &mut app);
    }
    assert_eq!(api_weights(&app), Weights::from_percent_new(100));
    press(&mut app, &[key(']')]);
    assert!(app.modal.is_none());
    refused_with(&app, "already at or beyond its last step");
    press(&mut app, &[key('['), key('y')]);
    execute(&mut world, &mut app);
    assert_eq!(api_weights(&app), Weights::from_percent_new(75));

    // `r` undoes, change by change, back to the session's first read.
    for want in [100, 75, 50, 25] {
        press(&mut app, &[key('r')]);
        let Some(Modal::Proposal(p)) = &app.modal else { panic!("undo to {want} proposed") };
        assert!(p.title.contains("undo, ") && p.title.ends_with(&format!("→ {want}% to new")), "{}", p.title);
        press(&mut app, &[key('y'), key('Y')]);
        execute(&mut world, &mut app);
        assert_eq!(api_weights(&app), Weights::from_percent_new(want));
    }
    press(&mut app, &[key('r')]);
    refused_with(&app, "nothing to undo; it is at the weights the session first read");

    // The panic button: every route to 100% old.
    press(&mut app, &[key('R')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!() };
    assert!(p.lines.iter().any(|l| l.starts_with("admin: already old")), "{:?}", p.lines);
    press(&mut app, &[key('y')]);
    execute(&mut world, &mut app);
    assert_eq!(api_weights(&app), Weights::from_percent_new(0));
}

#[test]
fn a_big_jump_needs_two_confirmations_and_bad_percentages_are_refused() {
    let (mut world, mut app) = demo(30);
    press(&mut app, &[key('='), key('1'), key('0'), key('0'), Key::plain(KeyCode::Enter)]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a proposal") };
    assert_eq!(p.needed, 2);
    assert!(p.lines.iter().any(|l| l.contains("more than max_step 25")), "{:?}", p.lines);
    press(&mut app, &[key('y')]);
    assert!(sent().is_empty(), "one y is not enough for 75 points");
    press(&mut app, &[key('y')]);
    assert!(sent().is_empty(), "nor is a second y: a repeated key never confirms twice");
    assert!(app.notice.as_deref().unwrap_or_default().contains("second, different confirmation: Y"));
    press(&mut app, &[key('Y')]);
    assert_eq!(sent().len(), 1);
    execute(&mut world, &mut app);
    assert_eq!(api_weights(&app), Weights::from_percent_new(100));

    press(&mut app, &[key('='), key('1'), key('5'), key('0'), Key::plain(KeyCode::Enter)]);
    refused_with(&app, "not a percentage from 0 to 100");
}

#[test]
fn stale_reads_unhealthy_targets_and_crowded_rules_are_refused() {
    let (_, mut app) = demo(30);
    // No ALB read for longer than stale_after.
    let later = plus_secs(app.now, 45);
    step(&mut app, Msg::Tick { at: later });
    press(&mut app, &[key(']')]);
    refused_with(&app, "stale after 30s");

    // A fresh read whose new target group has no healthy target.
    let (_, mut app) = demo(30);
    let mut read = RouteRead {
        route: cutover::domain::RouteId(0),
        weights: Some(Weights { old: Weight(75), new: Weight(25) }),
        others: Vec::new(),
        targets: cutover::domain::PerSide::new(
            vec![Target { id: "10.0.0.1:3000".into(), state: TargetState::Healthy, reason: None }],
            vec![Target { id: "10.1.0.1:3000".into(), state: TargetState::Unhealthy, reason: None }],
        ),
        detail: cutover::domain::ReadDetail::Alb,
    };
    let at = app.now;
    step(&mut app, Msg::Traffic { at, routes: vec![read.clone()] });
    press(&mut app, &[key(']')]);
    refused_with(&app, "target group api-new has no healthy target");

    // Six target groups in the forward action.
    read.targets.new[0].state = TargetState::Healthy;
    read.others.extend((0..4).map(|i| (format!("extra-{i}"), Weight(0))));
    step(&mut app, Msg::Traffic { at, routes: vec![read] });
    press(&mut app, &[key(']')]);
    refused_with(&app, "6 target groups");
}

#[test]
fn metrics_that_missed_their_poll_refuse_live_actions() {
    let (_, mut app) = demo(30);
    app.config.mode = Mode::Run;
    let now = app.now;
    step(
        &mut app,
        Msg::Source {
            id: SourceId::Traffic(cutover::domain::RouteKind::Alb),
            state: SourceState::Live { last_ok: now },
        },
    );
    step(
        &mut app,
        Msg::Source {
            id: SourceId::Metrics(cutover::domain::MetricsKind::CloudWatch),
            state: SourceState::Live { last_ok: plus_secs(now, -200) },
        },
    );
    press(&mut app, &[key(']')]);
    refused_with(&app, "metrics missed their last poll");
}

#[test]
fn watch_refuses_every_action_and_makes_no_effect() {
    let (_, mut app) = demo(30);
    app.config.mode = Mode::Watch;
    for c in [']', '[', '+', '-', '=', 'r', 'R', 'h', 'x', 'y', 'n'] {
        press(&mut app, &[key(c)]);
        assert!(app.modal.is_none(), "no proposal in watch ({c})");
        assert!(sent().is_empty(), "no effect in watch ({c})");
        if !matches!(c, 'y' | 'n') {
            assert!(app.notice.as_deref().unwrap_or("").contains("read-only"), "{c}: {:?}", app.notice);
        }
    }
}

/// `h`, and the typed override the demo's scheduler asks for: Argo CD's
/// self-heal would scale it back.
fn hand_over(app: &mut App) {
    press(app, &[key('h')]);
    let Some(Modal::Proposal(p)) = &app.modal else {
        panic!("a handoff proposal, not {:?}; {:?}", app.modal, app.notice)
    };
    assert!(p.lines.iter().any(|l| l.contains("Argo CD application photo-api")), "{:?}", p.lines);
    press(app, &[key('y')]);
    assert!(sent().is_empty(), "y does not confirm a handoff Argo CD would undo");
    for c in "override".chars() {
        press(app, &[key(c)]);
    }
    press(app, &[Key::plain(KeyCode::Enter)]);
}

fn select_scheduler(app: &mut App) {
    let i = app.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    app.ui.focus = Panel::Workloads;
    app.ui.selected[Panel::Workloads.index()] = i;
}

#[test]
fn a_handoff_stops_old_waits_until_nothing_runs_then_starts_new() {
    let (mut world, mut app) = demo(30);
    select_scheduler(&mut app);
    press(&mut app, &[key('h')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a handoff proposal") };
    assert!(p.title.contains("old → new"), "{}", p.title);
    press(&mut app, &[Key::plain(KeyCode::Esc)]);
    hand_over(&mut app);
    assert!(matches!(&sent()[..], [Effect::Stop { side: Side::Old, .. }]), "{:?}", sent());
    execute(&mut world, &mut app);
    assert_eq!(app.handoff.as_ref().unwrap().phase, HandoffPhase::WaitingGone);
    assert!(sent().is_empty(), "new is not started while old still has a pod");

    // Second by second until the old pod is gone: only then the start.
    let mut started_at = None;
    for _ in 0..30 {
        feed(&mut app, world.advance(plus_secs(world.now(), 1)));
        if !sent().is_empty() {
            let old_pods = app.clusters.old.pods.values().filter(|p| p.key.name.starts_with("scheduler-")).count();
            assert_eq!(old_pods, 0, "started only with nothing left on old");
            started_at = Some(app.now);
            break;
        }
    }
    assert!(started_at.is_some(), "the old pod went within its grace period");
    assert!(matches!(&sent()[..], [Effect::Start { side: Side::New, replicas: 1, .. }]));
    execute(&mut world, &mut app);
    for _ in 0..60 {
        feed(&mut app, world.advance(plus_secs(world.now(), 1)));
    }
    let h = app.handoff.as_ref().unwrap();
    assert_eq!(h.phase, HandoffPhase::Done);
    let gap = h.ready_at.unwrap().as_second() - h.gone_at.unwrap().as_second();
    assert!(gap > 0 && gap < 60, "the gap is timed: {gap}s");
    assert!(app.events.iter().any(|e| e.text.contains(&format!("gap {gap}s"))));
    let row = app.workload_row(app.workload_keys().into_iter().find(|k| k.name == "scheduler").unwrap());
    assert!(
        row.sides.old.as_ref().unwrap().workload.desired == 0 && row.sides.new.as_ref().unwrap().workload.ready == 1
    );
    assert!(!row.singleton_conflict);
}

#[test]
fn an_aborted_handoff_restores_the_source_and_a_started_one_cannot_abort() {
    let (mut world, mut app) = demo(30);
    select_scheduler(&mut app);
    hand_over(&mut app);
    execute(&mut world, &mut app);
    press(&mut app, &[key('x')]);
    assert!(sent().is_empty(), "x is a proposal like the rest");
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("abort proposed") };
    assert!(p.title.contains("restore old"), "{}", p.title);
    press(&mut app, &[key('y')]);
    assert!(matches!(&sent()[..], [Effect::Start { side: Side::Old, replicas: 1, .. }]), "{:?}", sent());
    execute(&mut world, &mut app);
    assert_eq!(app.handoff.as_ref().unwrap().phase, HandoffPhase::Aborted);
    for _ in 0..60 {
        feed(&mut app, world.advance(plus_secs(world.now(), 1)));
    }
    let key_ = app.workload_keys().into_iter().find(|k| k.name == "scheduler").unwrap().clone();
    assert_eq!(app.clusters.old.workloads[&key_].ready, 1, "old runs again");
    assert_eq!(app.clusters.new.workloads[&key_].desired, 0, "new was never started");

    // A second handoff that has started its target cannot be aborted.
    hand_over(&mut app);
    execute(&mut world, &mut app);
    for _ in 0..30 {
        feed(&mut app, world.advance(plus_secs(world.now(), 1)));
        if !sent().is_empty() {
            break;
        }
    }
    execute(&mut world, &mut app);
    press(&mut app, &[key('x')]);
    refused_with(&app, "can no longer be aborted");
}

#[test]
fn the_simulated_executor_refuses_a_start_while_the_other_side_runs() {
    let (mut world, _) = demo(30);
    let key_ = cutover::domain::WorkloadKey::new("app", "scheduler");
    let (result, _) = world.apply(&Effect::Start {
        side: Side::New,
        key: key_.clone(),
        kind: cutover::domain::WorkloadKind::Deployment,
        replicas: 1,
        other: key_,
        starting_deadline: None,
    });
    assert!(matches!(&result, EffectResult::Refused { reason } if reason.contains("still runs")), "{result:?}");
}

/// Runs the demo world until `done` holds, answering effects as they come.
fn run_until(world: &mut World, app: &mut App, secs: i64, done: impl Fn(&App) -> bool) {
    for _ in 0..secs {
        if done(app) {
            return;
        }
        feed(app, world.advance(plus_secs(world.now(), 1)));
        execute(world, app);
    }
    assert!(done(app), "not within {secs}s; events: {:#?}", app.events.iter().take(6).collect::<Vec<_>>());
}

#[test]
fn no_alarm_while_the_sides_are_first_listed_and_none_in_a_handoffs_gap() {
    let (mut world, mut app) = demo(30);
    assert!(app.alarms.is_empty(), "{:?}", app.events.iter().take(4).collect::<Vec<_>>());
    assert!(!app.events.iter().any(|e| e.text.contains("SINGLETON")), "no alarm came and went at the start");
    select_scheduler(&mut app);
    hand_over(&mut app);
    execute(&mut world, &mut app);
    run_until(&mut world, &mut app, 120, |app| app.handoff.as_ref().is_some_and(|h| h.phase == HandoffPhase::Done));
    assert!(!app.events.iter().any(|e| e.text.contains("SINGLETON")), "the gap is no alarm");
}

/// The demo's GitOps controller scales old back up after the handoff, as
/// Argo CD self-heal does: the alarm, an event and a mark; `h` proposes
/// the fix; once applied, the alarm clears.
#[test]
fn a_source_scaled_back_up_after_the_handoff_raises_the_alarm_and_h_fixes_it() {
    let (mut world, mut app) = demo(30);
    select_scheduler(&mut app);
    hand_over(&mut app);
    execute(&mut world, &mut app);
    run_until(&mut world, &mut app, 120, |app| app.handoff.as_ref().is_some_and(|h| h.phase == HandoffPhase::Done));
    let marks_before = app.events.len();
    run_until(&mut world, &mut app, cutover::sim::SELF_HEAL_AFTER_SECS + 10, |app| !app.alarms.is_empty());
    assert!(app.events.len() > marks_before);
    assert_eq!(app.alarms["scheduler"].kind, cutover::app::AlarmKind::Both);
    assert!(app.events.iter().any(|e| e.text.starts_with("SINGLETON scheduler RUNS ON BOTH SIDES")));
    let reverted =
        app.events.iter().find(|e| e.text.starts_with("REVERTED: app/scheduler on old")).expect("called a revert");
    assert!(
        reverted.text.contains("from replicas 0 (written by unknown operator at")
            && reverted.text.contains("to replicas 1, by argocd-application-controller"),
        "{}",
        reverted.text
    );
    let screen = common::draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(screen.contains("‼ SINGLETON ALARM") && screen.contains("scheduler runs on BOTH sides"), "{screen}");

    select_scheduler(&mut app);
    press(&mut app, &[key('h')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("the fix is proposed") };
    assert_eq!(p.title, "fix singleton scheduler: stop on old");
    press(&mut app, &[key('y')]);
    assert!(matches!(&sent()[..], [Effect::Stop { side: Side::Old, then: None, .. }]), "{:?}", sent());
    run_until(&mut world, &mut app, 60, |app| app.alarms.is_empty());
    assert!(app.events.iter().any(|e| e.text == "singleton scheduler runs on one side again"));
}

#[test]
fn quitting_mid_handoff_asks_and_says_what_it_leaves() {
    let (mut world, mut app) = demo(30);
    select_scheduler(&mut app);
    hand_over(&mut app);
    execute(&mut world, &mut app);
    press(&mut app, &[key('q')]);
    assert!(!app.quit, "q does not quit at once mid-handoff");
    let Some(Modal::Quit(lines)) = &app.modal else { panic!("a question, not {:?}", app.modal) };
    assert!(lines[0].contains("old is stopped and not yet gone; new is not started"), "{lines:?}");
    press(&mut app, &[key('n')]);
    assert!(!app.quit && app.modal.is_none());
    press(&mut app, &[key('q'), key('y')]);
    assert!(app.quit);

    // Nothing in flight: q quits at once; Ctrl-C always does.
    let (_, mut idle) = demo(30);
    press(&mut idle, &[key('q')]);
    assert!(idle.quit);
    let (mut world, mut app) = demo(30);
    select_scheduler(&mut app);
    hand_over(&mut app);
    execute(&mut world, &mut app);
    press(&mut app, &[Key::ctrl('c')]);
    assert!(app.quit);
}

#[test]
fn r_undoes_a_revert_all_only_as_a_guarded_step_and_x_is_a_proposal() {
    let (mut world, mut app) = demo(30);
    press(&mut app, &[key('R'), key('y')]);
    execute(&mut world, &mut app);
    assert_eq!(api_weights(&app), Weights::from_percent_new(0));
    // Undoing the revert moves traffic to new again: a forward step, so
    // every guard and the dwell apply.
    app.ui.focus = Panel::Traffic;
    press(&mut app, &[key('r')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("undo proposed") };
    assert!(p.title.contains("undo, 0% → 25% to new") && p.needed == 2, "{p:?}");
    assert!(p.lines.iter().any(|l| l.starts_with("new targets: ")), "pace: {:?}", p.lines);
    assert!(p.lines.iter().any(|l| l.starts_with("at this weight for ")), "pace: {:?}", p.lines);
    press(&mut app, &[Key::plain(KeyCode::Esc)]);
    press(&mut app, &[key('x')]);
    refused_with(&app, "no handoff in progress");
}

#[test]
fn an_hpa_on_a_singleton_is_named_in_the_handoff_proposal() {
    let (_, mut app) = demo(30);
    let target = cutover::domain::WorkloadKey::new("app", "scheduler");
    let hpa = cutover::domain::Autoscaler { target, min: 2, max: 4, current: 2, desired: 2 };
    feed(&mut app, vec![Msg::Cluster { side: Side::New, delta: cutover::app::ClusterDelta::Autoscaler(hpa) }]);
    select_scheduler(&mut app);
    press(&mut app, &[key('h')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a proposal") };
    assert!(
        p.lines
            .iter()
            .any(|l| l
                .contains("an HPA scales app/scheduler on new (min 2, max 4): it will not keep the plan's replicas")),
        "{:?}",
        p.lines
    );
}

/// The demo's admin rule is the AWS Load Balancer Controller's, written
/// from an Ingress: a step is written there, and counts once the
/// controller has written the rule.
#[test]
fn a_step_of_a_controller_owned_rule_goes_through_its_ingress_and_waits_for_the_controller() {
    let (mut world, mut app) = demo(30);
    app.ui.focus = Panel::Traffic;
    app.ui.selected[Panel::Traffic.index()] = 1;
    press(&mut app, &[key(']')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a proposal") };
    assert!(
        p.lines
            .iter()
            .any(|l| l.contains("written to Ingress app/admin on new (alb.ingress.kubernetes.io/actions.admin)")),
        "{:?}",
        p.lines
    );
    press(&mut app, &[key('y')]);
    assert!(
        matches!(&sent()[..], [Effect::SetIngressWeights { route, .. }] if *route == cutover::domain::RouteId(1)),
        "{:?}",
        sent()
    );
    execute(&mut world, &mut app);
    assert!(app.routes[1].awaiting.is_some() && app.routes[1].pending, "waiting for the controller");
    press(&mut app, &[key(']')]);
    assert!(app.notice.as_deref().unwrap_or_default().contains("a change is already being written"));
    run_until(&mut world, &mut app, 30, |app| app.routes[1].awaiting.is_none());
    let admin = app.routes[1].read.as_ref().unwrap().weights.unwrap();
    assert_eq!(admin, Weights::from_percent_new(10));
    assert!(
        app.events.iter().any(|e| e.text.contains("the AWS Load Balancer Controller wrote old 90/new 10 to the rule"))
    );
    assert!(!app.events.iter().any(|e| e.text.contains("OUTSIDE CHANGE") || e.text.contains("REVERTED")));
    assert_eq!(app.routes[1].undo, vec![Weights::from_percent_new(0)], "r undoes it");
}

/// Writing the demo's controller-owned rule directly takes the typed word,
/// and the controller puts it back: a revert nobody can miss.
#[test]
fn a_direct_write_of_a_controller_owned_rule_takes_the_word_and_is_reverted_loudly() {
    let (mut world, mut app) = demo(30);
    app.ui.focus = Panel::Traffic;
    app.ui.selected[Panel::Traffic.index()] = 1;
    press(&mut app, &[key(']')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a proposal") };
    assert!(p.lines.iter().any(|l| l.contains("to write the rule directly instead")), "{:?}", p.lines);
    for c in "override".chars() {
        press(&mut app, &[key(c)]);
    }
    press(&mut app, &[Key::plain(KeyCode::Enter)]);
    assert!(
        matches!(&sent()[..], [Effect::SetWeights { route, seen: Some(_), .. }] if *route == cutover::domain::RouteId(1)),
        "{:?}",
        sent()
    );
    assert!(app.events.iter().any(|e| e.text.starts_with("OVERRIDE by ")));
    execute(&mut world, &mut app);
    assert_eq!(app.routes[1].read.as_ref().unwrap().weights, Some(Weights::from_percent_new(10)));
    run_until(&mut world, &mut app, cutover::sim::CONTROLLER_REVERT_SECS + 10, |app| {
        app.events.iter().any(|e| e.text.starts_with("REVERTED: route admin"))
    });
    let notice = app.notice.clone().unwrap_or_default();
    assert!(
        notice.starts_with("REVERTED: route admin went from old 90/new 10")
            && notice.contains(
                "likely the AWS Load Balancer Controller, which writes this rule from Ingress app/admin on new"
            ),
        "{notice}"
    );
    let screen = common::draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(screen.contains("REVERTED: route admin"), "on screen, not only in the events:\n{screen}");
}

/// A step is one line of the events panel: what was set, by whom, and,
/// once the executor read it back, that it was verified; the reads that
/// see the session's own write say nothing more. A write that fails is a
/// line of its own.
#[test]
fn a_verified_step_is_one_line_in_the_events_and_a_failed_one_two() {
    let (mut world, mut app) = demo(60);
    let before = app.events.len();
    press(&mut app, &[Key::plain(KeyCode::BackTab), Key::char(']'), Key::char('y')]);
    for q in take_sent() {
        let (result, msgs) = world.apply(&q.effect);
        feed(&mut app, msgs);
        feed(&mut app, vec![Msg::EffectDone { id: q.id, effect: q.effect, result }]);
    }
    feed(&mut app, world.advance(plus_secs(common::start(), 120)));
    let about_api: Vec<&str> = app
        .events
        .iter()
        .map(|e| e.text.as_str())
        // A rise's likely cause names the route too: not an action's line.
        .filter(|t| (t.contains("route api") || t.contains("verified")) && !t.starts_with("likely cause"))
        .collect();
    assert_eq!(about_api.len(), 1, "{about_api:#?}");
    assert!(
        about_api[0].starts_with("route api: ")
            && about_api[0].contains(" set old 75/new 25 -> old 50/new 50 · verified: "),
        "{}",
        about_api[0]
    );
    assert!(app.events.len() > before);
    // A write the executor could not make: the action's line, and the failure on its own.
    press(&mut app, &[Key::char(']'), Key::char('y')]);
    if app.modal.is_some() {
        // Confirmed again over a guard's warning.
        press(&mut app, &[Key::char('Y')]);
    }
    let queued = take_sent();
    assert_eq!(queued.len(), 1, "the second step was sent");
    for q in queued {
        let result = EffectResult::Failed { error: "AccessDenied".into() };
        feed(&mut app, vec![Msg::EffectDone { id: q.id, effect: q.effect, result }]);
    }
    let newest: Vec<&str> = app.events.iter().take(2).map(|e| e.text.as_str()).collect();
    assert!(newest[0].starts_with("not applied:") && newest[0].contains("AccessDenied"), "{newest:#?}");
    assert!(newest[1].contains("-> old 25/new 75") && !newest[1].contains("verified"), "{newest:#?}");
}

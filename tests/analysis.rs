//! Step verdicts through the console's one entry point: minutes of
//! metrics judged as they close and are read, the verdict on screen and in
//! the marks, and what the plan arms (an automatic revert, the autopilot)
//! taken only where the console may act.

#![allow(clippy::unwrap_used)]

mod common;

use std::cell::RefCell;

use common::{keep, start, take_sent};
use cutover::app::{
    App, AppConfig, Effect, Judged, MetricPoint, Modal, Mode, Msg, Purpose, RouteMetric, SeriesId, SourceId,
    SourceState, Verdict,
};
use cutover::domain::analysis::{Advance, AnalysisSpec, OnFailure, Unsure};
use cutover::domain::{Minute, PerSide, ReadDetail, RouteId, RouteRead, Target, TargetState, Weights, plus_secs};
use cutover::keymap::{Key, Keymap};
use cutover::sim::{SimConfig, World};

thread_local! {
    /// The marks `update` handed back, as a recorder would keep them.
    static MARKS: RefCell<Vec<cutover::app::Mark>> = const { RefCell::new(Vec::new()) };
}

/// Applies one message as the runtime does: its effects kept for the test
/// to take, its marks for it to read.
fn step(app: &mut App, msg: Msg) {
    let out = cutover::app::update(app, msg);
    keep(out.effects);
    MARKS.with(|m| m.borrow_mut().extend(out.marks));
}

fn press(app: &mut App, keys: &[Key]) {
    for key in keys {
        step(app, Msg::Key(*key));
    }
}

fn marks() -> Vec<cutover::app::Marked> {
    MARKS.with(|m| m.borrow().iter().map(|m| m.what.clone()).collect())
}

fn spec(on_failure: OnFailure, advance: Advance) -> AnalysisSpec {
    // Two minutes' bake, so that a test reaches ready quickly.
    AnalysisSpec { bake_secs: 120, ..AnalysisSpec::defaults(on_failure, advance, "cutover.toml:30", "cutover.toml:31") }
}

/// A console of the demo's plan in `mode`, route `api` judged by `spec`,
/// at 14:00:30 (half a minute into a minute), with nothing read yet.
fn console(mode: Mode, spec: AnalysisSpec) -> App {
    let world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 });
    let mut config: AppConfig = world.app_config();
    config.mode = mode;
    config.routes[0].analysis = Some(spec);
    let mut app = App::new(config, Keymap::default(), start());
    app.operator = "alice".into();
    tick(&mut app, 30);
    app
}

fn at(secs: i64) -> jiff::Timestamp {
    plus_secs(start(), secs)
}

fn tick(app: &mut App, secs: i64) {
    step(app, Msg::Tick { at: at(secs) });
}

/// Both sources live as of `secs`: the weights' and the metrics'.
fn sources_live(app: &mut App, secs: i64) {
    let (traffic, metrics) = match app.config.mode {
        Mode::Demo => (SourceId::Simulator, SourceId::Simulator),
        _ => (
            SourceId::Traffic(cutover::domain::RouteKind::Alb),
            SourceId::Metrics(cutover::domain::MetricsKind::CloudWatch),
        ),
    };
    for id in [traffic, metrics] {
        step(app, Msg::Source { id, state: SourceState::Live { last_ok: at(secs) } });
    }
}

/// A read of `api` at `weights`, its six targets healthy on both sides.
fn read(app: &mut App, secs: i64, weights: Weights) {
    let healthy = |n: usize| {
        (0..n).map(|i| Target { id: format!("10.0.0.{i}:3000"), state: TargetState::Healthy, reason: None }).collect()
    };
    let read = RouteRead {
        route: RouteId(0),
        weights: Some(weights),
        others: Vec::new(),
        targets: PerSide::new(healthy(6), healthy(6)),
        detail: ReadDetail::Alb,
    };
    step(app, Msg::Traffic { at: at(secs), routes: vec![read] });
}

/// One minute of `api`'s metrics: (requests, 5xx) per side, new's latency.
fn minute(app: &mut App, m: Minute, old: (f64, f64), new: (f64, f64), latency: f64) {
    let point = |side, metric, value| MetricPoint {
        series: SeriesId::Route { route: RouteId(0), side, metric },
        minute: m,
        value,
    };
    use cutover::domain::Side::{New, Old};
    step(
        app,
        Msg::Metrics(vec![
            point(Old, RouteMetric::Requests, old.0),
            point(Old, RouteMetric::Target5xx, old.1),
            point(New, RouteMetric::Requests, new.0),
            point(New, RouteMetric::Target5xx, new.1),
            point(New, RouteMetric::LatencyMs, latency),
        ]),
    );
}

/// Minutes `from..=to` after the start (minute 0 is 14:00), each with
/// `old` and `new`, read a few seconds after it closed.
fn run(app: &mut App, minutes: std::ops::RangeInclusive<i64>, old: (f64, f64), new: (f64, f64)) {
    for k in minutes {
        let m = Minute::containing(start()).offset(k);
        let closed = (k + 1) * 60 + 5;
        minute(app, m, old, new, 110.0);
        tick(app, closed);
        sources_live(app, closed);
        tick(app, closed + 1);
    }
}

fn verdict(app: &App) -> Verdict {
    app.routes[0].analysis.as_ref().map(|a| a.verdict.clone()).unwrap()
}

fn analysis_marks() -> Vec<String> {
    marks()
        .into_iter()
        .filter_map(|m| match m {
            cutover::app::Marked::Analysis { verdict, .. } => Some(verdict),
            _ => None,
        })
        .collect()
}

#[test]
fn a_healthy_step_passes_each_minute_and_is_ready_after_its_bake() {
    let mut app = console(Mode::Run, spec(OnFailure::Alarm, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    // The session began at 14:00:30: the first whole minute is 14:01.
    run(&mut app, 1..=1, (3000.0, 9.0), (1000.0, 3.0));
    assert_eq!(verdict(&app), Verdict::Baking { minutes: 1, of: 2 }, "one minute of two baked");
    assert_eq!(app.routes[0].judged, vec![(Minute::containing(at(60)), Judged::Pass)]);
    let e = app.routes[0].analysis.as_ref().unwrap().evidence;
    assert_eq!((e.minutes, e.new.requests, e.new.errors, e.old.requests), (1, 1000, 3, 3000));
    run(&mut app, 2..=2, (3000.0, 9.0), (1000.0, 3.0));
    assert_eq!(verdict(&app), Verdict::Ready);
    assert_eq!(app.routes[0].passed, Some(Weights::from_percent_new(25)), "where a revert would go");
    assert!(app.events.iter().any(|e| e.text.contains("analysis of api at 25% to new: PASS, baked")));
    assert_eq!(analysis_marks(), ["pass", "ready"]);
    assert!(take_sent().is_empty(), "a pass acts on nothing with advance = manual");
}

#[test]
fn a_failed_step_is_reverted_by_itself_where_the_console_drives() {
    let mut app = console(Mode::Run, spec(OnFailure::Revert, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    // New at 4% against old's 0.3%: failing at once, failed at the limit.
    run(&mut app, 1..=1, (3000.0, 9.0), (1000.0, 40.0));
    assert!(matches!(verdict(&app), Verdict::Failing { failures: 1, limit: 2, .. }), "{:?}", verdict(&app));
    assert!(take_sent().is_empty(), "one failing minute reverts nothing");
    run(&mut app, 2..=2, (3000.0, 9.0), (1000.0, 40.0));
    let Verdict::Failed(why) = verdict(&app) else { panic!("{:?}", verdict(&app)) };
    assert_eq!(why.text(), "5xx 4.0% > 1.0%");
    // No step passed here: all old, every other target of the route too.
    let sent = take_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].effect,
        Effect::SetWeights { route: RouteId(0), seen: None, to: Weights::from_percent_new(0), all_old: true }
    );
    assert_eq!(app.in_flight[&sent[0].id].purpose, Purpose::AutoRevert);
    // Named, with what armed it and who ran the console with that plan.
    let weights = marks().into_iter().find_map(|m| match m {
        cutover::app::Marked::Weights { who, proposal, .. } => Some((who, proposal)),
        _ => None,
    });
    let (who, proposal) = weights.unwrap();
    assert_eq!(who, "analysis, on_failure = revert (cutover.toml:30; armed by alice)");
    assert!(proposal.contains("automatic revert after a failed step, to all old"), "{proposal}");
    assert!(
        app.notice.as_deref().unwrap().starts_with(
            "AUTO-REVERT route api: old 75/new 25 -> old 100/new 0 (all old), the step failed: 5xx 4.0% > 1.0%"
        ),
        "{:?}",
        app.notice
    );
}

#[test]
fn a_failure_after_a_passed_step_goes_back_to_the_weight_that_passed() {
    let mut app = console(Mode::Run, spec(OnFailure::Revert, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    run(&mut app, 1..=2, (3000.0, 9.0), (1000.0, 3.0));
    assert_eq!(verdict(&app), Verdict::Ready);
    // Stepped to 50% (by the operator, seen in the next read): a new step.
    read(&mut app, 190, Weights::from_percent_new(50));
    assert_eq!(verdict(&app), Verdict::Waiting);
    run(&mut app, 4..=5, (2000.0, 6.0), (2000.0, 90.0));
    assert!(matches!(verdict(&app), Verdict::Failed(_)));
    let sent = take_sent();
    assert_eq!(
        sent.last().unwrap().effect,
        Effect::SetWeights { route: RouteId(0), seen: None, to: Weights::from_percent_new(25), all_old: false }
    );
}

#[test]
fn where_the_console_may_not_act_it_says_what_it_would_have_done() {
    for mode in [Mode::Watch, Mode::DryRun] {
        let mut app = console(mode, spec(OnFailure::Revert, Advance::Manual));
        sources_live(&mut app, 30);
        read(&mut app, 30, Weights::from_percent_new(25));
        run(&mut app, 1..=2, (3000.0, 9.0), (1000.0, 40.0));
        assert!(matches!(verdict(&app), Verdict::Failed(_)), "{mode:?}");
        assert!(take_sent().is_empty(), "{mode:?}: nothing sent");
        assert!(app.in_flight.is_empty(), "{mode:?}");
        let said = app.events.iter().find(|e| e.text.starts_with("analysis would revert api to all old")).unwrap();
        assert!(said.text.contains("(on_failure = revert, cutover.toml:30)"), "{}", said.text);
        assert!(analysis_marks().contains(&"would revert".to_string()), "{mode:?}");
    }
}

#[test]
fn stale_metrics_blind_the_analysis_and_revert_nothing() {
    let mut app = console(Mode::Run, spec(OnFailure::Revert, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    run(&mut app, 1..=1, (3000.0, 9.0), (1000.0, 40.0));
    // CloudWatch throttled: stale from 14:02:10, with failing minutes
    // arriving from before.
    tick(&mut app, 131);
    let stale = SourceState::Stale {
        since: at(130),
        error: "throttled by AWS (Throttling: Rate exceeded) on cloudwatch:GetMetricData".into(),
        last_ok: Some(at(125)),
        fault: cutover::domain::Fault::Throttled,
    };
    step(&mut app, Msg::Source { id: SourceId::Metrics(cutover::domain::MetricsKind::CloudWatch), state: stale });
    minute(&mut app, Minute::containing(at(120)), (3000.0, 9.0), (1000.0, 40.0), 110.0);
    tick(&mut app, 200);
    assert_eq!(app.routes[0].blind, Some(at(130)));
    assert!(matches!(verdict(&app), Verdict::Failing { failures: 1, .. }), "no minute judged while blind");
    assert!(take_sent().is_empty(), "blind is no failure");
    assert!(app.events.iter().any(|e| e.text.starts_with("analysis blind on api: CloudWatch stale ")));
    assert!(app.routes[0].autopilot.countdown.is_none());
    // The source reads again: the minutes are judged, and it acts.
    sources_live(&mut app, 205);
    tick(&mut app, 206);
    assert_eq!(app.routes[0].blind, None);
    assert!(matches!(verdict(&app), Verdict::Failed(_)));
    assert_eq!(take_sent().len(), 1);
}

#[test]
fn thin_traffic_is_inconclusive_and_says_how_long_it_would_take() {
    let mut app = console(Mode::Run, spec(OnFailure::Revert, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(1));
    // 1% of 800 a minute: 8 requests to new, none failed.
    run(&mut app, 1..=1, (792.0, 2.0), (8.0, 0.0));
    let Verdict::Unsure(Unsure::Thin { minutes, .. }) = verdict(&app) else { panic!("{:?}", verdict(&app)) };
    assert_eq!(minutes, Some(49), "the domain's projection, checked against scipy there");
    assert!(take_sent().is_empty());
    // One error in the next 8 is no failure either.
    run(&mut app, 2..=2, (792.0, 2.0), (8.0, 1.0));
    assert!(matches!(verdict(&app), Verdict::Unsure(_)), "{:?}", verdict(&app));
    assert!(take_sent().is_empty());
}

/// Minutes read together (the session's first read of minutes already
/// over, or a source that reads again) are said once, on all the evidence
/// read: how long thin traffic would take is said as the console knows it
/// then, not as the first of those minutes showed it.
#[test]
fn minutes_read_together_are_said_on_all_their_evidence() {
    let mut app = console(Mode::Run, spec(OnFailure::Revert, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(1));
    // Five minutes of 1% of 800 a minute, read at once after they closed.
    for k in 1..=5 {
        minute(&mut app, Minute::containing(start()).offset(k), (792.0, 2.0), (8.0, 0.0), 90.0);
    }
    tick(&mut app, 6 * 60 + 5);
    sources_live(&mut app, 6 * 60 + 5);
    tick(&mut app, 6 * 60 + 6);
    assert_eq!(app.routes[0].judged.len(), 5);
    let Verdict::Unsure(Unsure::Thin { minutes: Some(more), .. }) = verdict(&app) else {
        panic!("{:?}", verdict(&app))
    };
    assert!(more < 49, "five minutes tell more than the first alone (49 more): {more}");
    let said: Vec<&str> =
        app.events.iter().filter(|e| e.text.starts_with("analysis of api")).map(|e| e.text.as_str()).collect();
    assert_eq!(
        said,
        [format!(
            "analysis of api at 1% to new: INCONCLUSIVE: thin traffic, ~{more} min more at this weight to tell 0.8% from 0.3%"
        )]
    );
    assert_eq!(analysis_marks(), ["inconclusive"]);
}

#[test]
fn no_data_is_inconclusive_never_a_pass() {
    let mut app = console(Mode::Run, spec(OnFailure::Alarm, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(0));
    for k in 1..=3 {
        tick(&mut app, (k + 1) * 60 + 5);
        sources_live(&mut app, (k + 1) * 60 + 5);
    }
    assert_eq!(verdict(&app), Verdict::Unsure(Unsure::NoData));
    assert_eq!(app.routes[0].judged.len(), 3);
    assert!(app.routes[0].judged.iter().all(|(_, j)| *j == Judged::Unsure));
}

#[test]
fn the_autopilot_counts_down_steps_and_is_cancelled_by_one_key() {
    let mut app = console(Mode::Run, spec(OnFailure::Alarm, Advance::Auto));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    run(&mut app, 1..=2, (3000.0, 9.0), (1000.0, 3.0));
    assert_eq!(verdict(&app), Verdict::Ready);
    let c = app.routes[0].autopilot.countdown.clone().unwrap();
    assert_eq!((c.at, c.to), (at(185 + 30), Weights::from_percent_new(50)), "the demo's next step, in 30 s");
    tick(&mut app, 200);
    assert!(take_sent().is_empty(), "not before the countdown ends");
    // Fresh reads, and the countdown runs out: the step goes.
    sources_live(&mut app, 215);
    read(&mut app, 215, Weights::from_percent_new(25));
    tick(&mut app, 216);
    let sent = take_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let Effect::SetWeights { to, seen: Some(_), all_old: false, .. } = sent[0].effect.clone() else { panic!() };
    assert_eq!(to, Weights::from_percent_new(50));
    assert_eq!(app.in_flight[&sent[0].id].purpose, Purpose::Autopilot);
    let who = marks().into_iter().rev().find_map(|m| match m {
        cutover::app::Marked::Weights { who, .. } => Some(who),
        _ => None,
    });
    assert_eq!(who.unwrap(), "autopilot, advance = auto (cutover.toml:31; armed by alice)");
    // While its step is unanswered the step before it still reads ready:
    // no second countdown to the same step.
    tick(&mut app, 217);
    tick(&mut app, 250);
    assert!(app.routes[0].autopilot.countdown.is_none(), "{:?}", app.routes[0].autopilot.countdown);
    let countdowns = app.events.iter().filter(|e| e.text.starts_with("autopilot of api: ready; ")).count();
    assert_eq!(countdowns, 1, "one countdown for one step");
    assert!(take_sent().is_empty());

    // Somebody else's step during a countdown ends it, and says so.
    let mut app = console(Mode::Run, spec(OnFailure::Alarm, Advance::Auto));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    run(&mut app, 1..=2, (3000.0, 9.0), (1000.0, 3.0));
    assert!(app.routes[0].autopilot.countdown.is_some());
    sources_live(&mut app, 190);
    read(&mut app, 190, Weights::from_percent_new(10));
    assert!(app.routes[0].autopilot.countdown.is_none());
    assert!(
        app.events.iter().any(|e| e.text == "autopilot of api: countdown stopped: the weights changed"),
        "{:#?}",
        app.events.iter().map(|e| &e.text).collect::<Vec<_>>()
    );
    tick(&mut app, 230);
    assert!(take_sent().is_empty(), "the countdown's step never goes");

    // Another console, the same, and `c` during the countdown: nothing goes.
    let mut app = console(Mode::Run, spec(OnFailure::Alarm, Advance::Auto));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    run(&mut app, 1..=2, (3000.0, 9.0), (1000.0, 3.0));
    assert!(app.routes[0].autopilot.countdown.is_some());
    press(&mut app, &[Key::char('c')]);
    assert!(app.routes[0].autopilot.countdown.is_none());
    assert_eq!(app.routes[0].autopilot.stopped.as_deref(), Some("cancelled by alice"));
    let screen = common::draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(screen.contains("AUTOPILOT: api stopped"), "{screen}");
    sources_live(&mut app, 215);
    read(&mut app, 215, Weights::from_percent_new(25));
    tick(&mut app, 260);
    assert!(take_sent().is_empty(), "cancelled: the operator steps from here");
    // `p` pauses a route's autopilot and resumes it.
    press(&mut app, &[Key::char('p')]);
    assert!(app.routes[0].autopilot.paused);
    let screen = common::draw(120, 32, |f| cutover::ui::render(&app, f));
    assert!(screen.contains("AUTOPILOT: api paused"), "{screen}");
    press(&mut app, &[Key::char('p')]);
    assert!(!app.routes[0].autopilot.paused);
}

#[test]
fn the_autopilot_never_steps_over_a_guard() {
    let mut app = console(Mode::Run, spec(OnFailure::Alarm, Advance::Auto));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    run(&mut app, 1..=2, (3000.0, 9.0), (1000.0, 3.0));
    assert!(app.routes[0].autopilot.countdown.is_some());
    // The weights' read is 90 s old when the countdown ends: stale.
    tick(&mut app, 280);
    assert!(take_sent().is_empty(), "no step on a stale read");
    let held = app.routes[0].autopilot.countdown.as_ref().and_then(|c| c.held.clone()).unwrap();
    assert!(held.contains("read is"), "{held}");
    assert!(app.events.iter().any(|e| e.text.starts_with("autopilot of api holds: ")));
}

#[test]
fn stepping_up_before_a_step_is_ready_takes_the_typed_word_and_down_never_waits() {
    let mut app = console(Mode::Run, spec(OnFailure::Alarm, Advance::Manual));
    sources_live(&mut app, 30);
    read(&mut app, 30, Weights::from_percent_new(25));
    run(&mut app, 1..=1, (3000.0, 9.0), (1000.0, 3.0));
    sources_live(&mut app, 126);
    read(&mut app, 126, Weights::from_percent_new(25));
    app.ui.focus = cutover::app::Panel::Traffic;
    press(&mut app, &[Key::char(']')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("{:?}", app.notice) };
    assert!(p.lines.iter().any(|l| l.starts_with("analysis: passing, 1 of 2 min baked")), "{:?}", p.lines);
    let o = p.typed_override.as_ref().expect("the typed word");
    assert!(o.reason().contains("the analysis holds it (not ready: passing, 1 of 2 min baked)"), "{}", o.reason());
    // The typed word's line takes letters: Esc drops the proposal.
    press(&mut app, &[Key::plain(cutover::keymap::KeyCode::Esc), Key::char('[')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("{:?}", app.notice) };
    assert!(
        p.typed_override.is_none(),
        "a step towards old never waits for the analysis: {:?} {:?}",
        p.title,
        p.typed_override
    );
}

/// The demo's world as `cutover demo` runs it: `api` at 25% for half an
/// hour is ready; the operator steps it to 50%, where the new build fails
/// under load; the analysis fails the step within a few minutes and the
/// console reverts it to 25% by itself, through the world's executor, and
/// reads it back. Meanwhile `www` becomes ready and its autopilot counts
/// down, which `c` cancels.
#[test]
fn the_demo_fails_a_bad_build_at_50_percent_and_reverts_it_by_itself() {
    let mut world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 }).with_analysis();
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    app.operator = "alice (demo)".into();
    let feed = |app: &mut App, msgs: Vec<Msg>| msgs.into_iter().for_each(|m| step(app, m));
    feed(&mut app, world.initial());
    feed(&mut app, world.advance(plus_secs(start(), 30)));
    let api = |app: &App| app.routes[0].analysis.as_ref().unwrap().verdict.clone();
    assert_eq!(api(&app), Verdict::Ready, "half an hour at 25%, passing");
    // The operator steps api to 50%.
    app.ui.focus = cutover::app::Panel::Traffic;
    app.ui.selected[cutover::app::Panel::Traffic.index()] = 0;
    press(&mut app, &[Key::char(']'), Key::char('y')]);
    let execute = |world: &mut World, app: &mut App| {
        for cutover::app::Queued { id, effect } in take_sent() {
            let (result, msgs) = world.apply(&effect);
            msgs.into_iter().for_each(|m| step(app, m));
            step(app, Msg::EffectDone { id, effect, result });
        }
    };
    execute(&mut world, &mut app);
    assert_eq!(app.routes[0].weights(), Some(Weights::from_percent_new(50)));
    // Minute by minute until the analysis has acted.
    let mut reverted_at = None;
    for k in 1..=8 {
        let msgs = world.advance(plus_secs(start(), 30 + k * 60));
        msgs.into_iter().for_each(|m| step(&mut app, m));
        let auto = take_sent();
        if !auto.is_empty() {
            assert!(matches!(api(&app), Verdict::Failed(_)), "{:?}", api(&app));
            for cutover::app::Queued { id, effect } in auto {
                assert_eq!(app.in_flight[&id].purpose, Purpose::AutoRevert);
                let (result, msgs) = world.apply(&effect);
                msgs.into_iter().for_each(|m| step(&mut app, m));
                step(&mut app, Msg::EffectDone { id, effect, result });
            }
            reverted_at = Some(k);
            break;
        }
    }
    let k = reverted_at.expect("reverted within 8 minutes");
    assert!(k <= 4, "failed within a few minutes: {k}");
    assert_eq!(app.routes[0].weights(), Some(Weights::from_percent_new(25)), "back to the weight that passed");
    assert!(
        app.notice.as_deref().unwrap_or("").contains("AUTO-REVERT route api: old 50/new 50 -> old 75/new 25"),
        "{:?}",
        app.notice
    );
    // www, armed with the autopilot, gets ready and counts down; `c` cancels.
    let www = app.routes.iter().position(|r| r.spec.name == "www").unwrap();
    let mut counting = false;
    for k in 9..=30 {
        let msgs = world.advance(plus_secs(start(), 30 + k * 60));
        msgs.into_iter().for_each(|m| step(&mut app, m));
        execute(&mut world, &mut app);
        if app.routes[www].autopilot.countdown.is_some() {
            counting = true;
            break;
        }
    }
    assert!(counting, "www's autopilot counts down: {:?}", app.routes[www].analysis.as_ref().map(|a| &a.verdict));
    app.ui.selected[cutover::app::Panel::Traffic.index()] = www;
    press(&mut app, &[Key::char('c')]);
    assert!(app.routes[www].autopilot.countdown.is_none());
    assert!(app.routes[www].autopilot.stopped.is_some());
}

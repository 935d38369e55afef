//! A signal in each phase of a handoff, and what a later console makes of
//! what is left, through the same `update` as the live console, in the
//! simulated world: a source not yet gone is restored (once), a start
//! already sent is let be answered and nothing running alone is stopped,
//! writes unanswered are given a bounded grace, a second SIGTERM or a
//! Ctrl-C exits at once, and a handoff picked up keeps the start of its
//! gap. The handoff state file that cannot be written is known to the
//! reducer: a handoff then takes the typed override, and quitting does not
//! promise it is kept.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, feed, press, sent, step, take_sent};
use cutover::app::{
    App, Effect, EffectResult, Ending, HandoffPhase, Keeping, Left, Marked, Modal, Mode, Msg, Panel, Queued, Signal,
};
use cutover::domain::{Side, plus_secs};
use cutover::keymap::{Key, KeyCode};
use cutover::sim::World;

fn key(c: char) -> Key {
    Key::char(c)
}

/// Each message as the runtime applies it, keeping the marks too.
fn apply(app: &mut App, msg: Msg, marks: &mut Vec<Marked>) {
    let out = cutover::app::update(app, msg);
    marks.extend(out.marks.into_iter().map(|m| m.what));
    common::keep(out.effects);
}

fn execute(world: &mut World, app: &mut App, marks: &mut Vec<Marked>) -> Vec<EffectResult> {
    let mut results = Vec::new();
    for Queued { id, effect } in take_sent() {
        let (result, msgs) = world.apply(&effect);
        for msg in msgs {
            apply(app, msg, marks);
        }
        results.push(result.clone());
        apply(app, Msg::EffectDone { id, effect, result }, marks);
    }
    results
}

fn select_scheduler(app: &mut App) {
    let i = app.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    app.ui.focus = Panel::Workloads;
    app.ui.selected[Panel::Workloads.index()] = i;
}

/// A driver's console (`run`) on the simulated world, with its scheduler's
/// handoff confirmed (with the typed override Argo CD's ownership asks).
fn handing_over() -> (World, App) {
    take_sent();
    let (world, mut app) = demo(30);
    app.config.mode = Mode::Run;
    select_scheduler(&mut app);
    press(&mut app, &[key('h')]);
    for c in "override".chars() {
        press(&mut app, &[key(c)]);
    }
    press(&mut app, &[Key::plain(KeyCode::Enter)]);
    assert!(matches!(&sent()[..], [Effect::Stop { side: Side::Old, .. }]), "{:?}; {:?}", sent(), app.notice);
    (world, app)
}

fn signal_texts(marks: &[Marked]) -> Vec<String> {
    marks
        .iter()
        .filter_map(|m| match m {
            Marked::Signal { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn tick(app: &mut App, secs: i64, marks: &mut Vec<Marked>) {
    let at = plus_secs(app.now, secs);
    apply(app, Msg::Tick { at }, marks);
}

#[test]
fn sigterm_with_the_source_not_yet_gone_restores_it_once_and_exits_when_that_is_answered() {
    let (mut world, mut app) = handing_over();
    let mut marks = Vec::new();
    execute(&mut world, &mut app, &mut marks);
    assert_eq!(app.handoff.as_ref().unwrap().phase, HandoffPhase::WaitingGone);

    apply(&mut app, Msg::Signal(Signal::Terminate), &mut marks);
    assert!(!app.quit, "not while the restore is unanswered");
    assert!(
        matches!(&sent()[..], [Effect::Start { side: Side::Old, replicas: 1, other, .. }] if other.name == "scheduler"),
        "old is restored, only if new runs nothing: {:?}",
        sent()
    );
    assert_eq!(app.handoff.as_ref().unwrap().phase, HandoffPhase::Aborting);
    assert!(marks.iter().any(|m| matches!(m, Marked::HandoffAborted { who, .. } if who == "cutover on SIGTERM")));
    // Keys do nothing now but say so; a hangup on top changes nothing.
    apply(&mut app, Msg::Key(key('R')), &mut marks);
    assert!(app.modal.is_none() && sent().len() == 1, "no proposal while stopping");
    assert!(app.notice.as_deref().unwrap().contains("stopping on SIGTERM"), "{:?}", app.notice);
    apply(&mut app, Msg::Signal(Signal::Hangup), &mut marks);
    assert!(!app.quit);

    let results = execute(&mut world, &mut app, &mut marks);
    assert!(matches!(&results[..], [EffectResult::Verified { .. }]), "{results:?}");
    assert!(app.quit, "quits once nothing it wrote is unanswered");
    assert_eq!(app.handoff.as_ref().unwrap().phase, HandoffPhase::Aborted);
    let said = signal_texts(&marks);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said[0].contains("old is stopped and not yet gone, new not started: old is restored"), "{said:?}");
    assert_eq!(
        said[1],
        "SIGTERM: exiting; handoff scheduler: aborted, old restored: it runs where it ran before the handoff"
    );
    assert!(sent().is_empty());
}

#[test]
fn a_restore_that_fails_is_not_tried_again_and_the_exit_line_says_what_the_next_run_shows() {
    let (mut world, mut app) = handing_over();
    let mut marks = Vec::new();
    execute(&mut world, &mut app, &mut marks);
    apply(&mut app, Msg::Signal(Signal::Hangup), &mut marks);
    let [Queued { id, effect }] = &take_sent()[..] else { panic!("one restore") };
    let failed = EffectResult::Failed { error: "connection refused".into() };
    apply(&mut app, Msg::EffectDone { id: *id, effect: effect.clone(), result: failed }, &mut marks);
    assert!(app.quit);
    assert!(sent().is_empty(), "the restore is tried once");
    assert!(matches!(app.handoff.as_ref().unwrap().phase, HandoffPhase::StartFailed(_)));
    let last = signal_texts(&marks).pop().unwrap();
    assert!(last.starts_with("SIGHUP: exiting; handoff scheduler: RUNS ON NEITHER SIDE"), "{last}");
    assert!(last.contains("it is kept on disk: `cutover run` with this plan picks it up again and shows it running on neither side: h retries the start of new, x restores old"), "{last}");
}

#[test]
fn a_start_already_sent_is_let_be_answered_and_nothing_running_alone_is_stopped() {
    let (mut world, mut app) = handing_over();
    let mut marks = Vec::new();
    execute(&mut world, &mut app, &mut marks);
    // Second by second until old has gone and the start of new is sent.
    for _ in 0..60 {
        feed(&mut app, world.advance(plus_secs(world.now(), 1)));
        if !sent().is_empty() {
            break;
        }
    }
    assert!(matches!(&sent()[..], [Effect::Start { side: Side::New, .. }]), "{:?}", sent());
    assert_eq!(app.handoff.as_ref().unwrap().phase, HandoffPhase::Starting);

    apply(&mut app, Msg::Signal(Signal::Hangup), &mut marks);
    assert!(!app.quit, "the start's answer is awaited");
    assert_eq!(sent().len(), 1, "nothing more is sent: no restore of old once new is being started");
    assert!(signal_texts(&marks)[0].contains("the start of new was sent: its answer is awaited"));
    apply(&mut app, Msg::Signal(Signal::TerminalLost), &mut marks);
    assert!(!app.quit, "the terminal going away is the same hangup, not a second signal");

    execute(&mut world, &mut app, &mut marks);
    assert!(app.quit);
    assert_eq!(app.handoff.as_ref().unwrap().phase, HandoffPhase::WaitingReady);
    assert!(!marks.iter().any(|m| matches!(m, Marked::HandoffAborted { .. })), "new is never stopped");
    let last = signal_texts(&marks).pop().unwrap();
    assert_eq!(
        last,
        "SIGHUP: exiting; handoff scheduler: new is started and not yet ready; it is kept on disk: `cutover run` with this plan picks it up again: it waits until new is ready and times the gap"
    );
}

#[test]
fn the_grace_runs_out_on_a_write_never_answered_and_a_second_sigterm_does_not_wait() {
    let (_world, mut app) = handing_over();
    let mut marks = Vec::new();
    // The stop is sent and never answered.
    apply(&mut app, Msg::Signal(Signal::Terminate), &mut marks);
    assert!(signal_texts(&marks)[0].contains("the stop of old was sent: its answer is awaited"));
    tick(&mut app, 14, &mut marks);
    assert!(!app.quit, "within the grace");
    tick(&mut app, 1, &mut marks);
    assert!(app.quit, "15 s after the signal");
    let last = signal_texts(&marks).pop().unwrap();
    assert!(last.starts_with("SIGTERM: 15s passed with 1 write(s) unanswered: exiting; handoff scheduler: the stop of old is being written"), "{last}");
    assert!(last.contains("waits until old runs nothing, then starts new"), "{last}");

    // Another console: a second signal, or Ctrl-C, ends the wait.
    let (_world, mut app) = handing_over();
    let mut marks = Vec::new();
    apply(&mut app, Msg::Signal(Signal::Hangup), &mut marks);
    apply(&mut app, Msg::Signal(Signal::Terminate), &mut marks);
    assert!(app.quit);
    assert!(
        signal_texts(&marks)
            .pop()
            .unwrap()
            .starts_with("SIGTERM: a second signal while stopping on SIGHUP: exiting now")
    );
    let (_world, mut app) = handing_over();
    apply(&mut app, Msg::Signal(Signal::Interrupt), &mut marks);
    apply(&mut app, Msg::Key(Key::ctrl('c')), &mut marks);
    assert!(app.quit, "Ctrl-C exits at once");
}

#[test]
fn a_signal_with_nothing_in_flight_exits_at_once_with_the_session_end_marked() {
    let (_world, mut app) = demo(10);
    let mut marks = Vec::new();
    press(&mut app, &[key(']')]);
    assert!(matches!(app.modal, Some(Modal::Proposal(_))));
    apply(&mut app, Msg::Signal(Signal::Interrupt), &mut marks);
    assert!(app.quit && app.modal.is_none() && sent().is_empty(), "the proposal is dropped, not applied");
    assert!(app.events.iter().any(|e| e.text.starts_with("proposal dropped on SIGINT")));
    apply(&mut app, Msg::Ended(Ending::Signal(Signal::Interrupt)), &mut marks);
    assert!(matches!(marks.last(), Some(Marked::Ended { ending: Ending::Signal(Signal::Interrupt), .. })));
    assert_eq!(Signal::Hangup.exit_code(), 129);
    assert_eq!(Signal::Interrupt.exit_code(), 130);
    assert_eq!(Signal::Terminate.exit_code(), 143);
}

/// The console that was stopped while new was being started (its start
/// sent, `gone_at` known), picked up 20 s later: the start is sent again
/// (it may not have happened), and the gap still starts when the first
/// console saw old gone. One stopped before old was seen gone is picked
/// up with the gap bounded by what is known.
#[test]
fn a_handoff_picked_up_keeps_the_start_of_its_gap_or_bounds_it() {
    let (mut world, mut app) = handing_over();
    let mut marks = Vec::new();
    execute(&mut world, &mut app, &mut marks);
    for _ in 0..60 {
        feed(&mut app, world.advance(plus_secs(world.now(), 1)));
        if !sent().is_empty() {
            break;
        }
    }
    let left = app.handoff.clone().unwrap();
    assert_eq!(left.phase, HandoffPhase::Starting);
    let gone_at = left.gone_at.unwrap();
    // The next console sees the same world: old gone, new not started.
    take_sent();
    app.in_flight.clear();
    app.handoff = None;
    feed(&mut app, world.advance(plus_secs(world.now(), 20)));
    apply(&mut app, Msg::Resumed { handoff: left.clone(), saved_at: gone_at }, &mut marks);
    let resumed = marks.iter().find_map(|m| match m {
        Marked::HandoffResumed { started, gone_at: g, from, .. } => Some((*started, *g, *from)),
        _ => None,
    });
    assert_eq!(resumed, Some((Some(left.started), Some(gone_at), Some(Side::Old))), "the picked-up handoff's facts");
    assert!(matches!(&sent()[..], [Effect::Start { side: Side::New, .. }]), "{:?}", sent());
    assert_eq!(app.handoff.as_ref().unwrap().gone_at, Some(gone_at), "kept, not the time of the pick-up");
    execute(&mut world, &mut app, &mut marks);
    for _ in 0..60 {
        feed(&mut app, world.advance(plus_secs(world.now(), 1)));
    }
    let h = app.handoff.as_ref().unwrap();
    assert_eq!(h.phase, HandoffPhase::Done);
    let gap = h.ready_at.unwrap().as_second() - gone_at.as_second();
    assert!(gap >= 20, "the whole gap, both consoles' part: {gap}s");

    // Left before old was seen gone: the gap began after the state file's
    // time, unseen; a next console says between what and what.
    let (mut world, mut app) = handing_over();
    let mut marks = Vec::new();
    execute(&mut world, &mut app, &mut marks);
    let h = app.handoff.clone().unwrap();
    assert_eq!(h.phase, HandoffPhase::WaitingGone);
    let saved_at = app.now;
    app.handoff = None;
    take_sent();
    app.in_flight.clear();
    // Nobody carries the handoff for 30 s; old goes meanwhile.
    feed(&mut app, world.advance(plus_secs(world.now(), 30)));
    apply(&mut app, Msg::Resumed { handoff: h, saved_at }, &mut marks);
    assert_eq!(app.handoff.as_ref().unwrap().gone_after, Some(saved_at));
    execute(&mut world, &mut app, &mut marks);
    for _ in 0..60 {
        for msg in world.advance(plus_secs(world.now(), 1)) {
            apply(&mut app, msg, &mut marks);
        }
    }
    let done = marks.iter().find_map(|m| match m {
        Marked::HandoffDone { gap_secs, gap_max_secs, .. } => Some((*gap_secs, *gap_max_secs)),
        _ => None,
    });
    let (gap, max) = done.expect("done");
    assert!(max.unwrap() >= gap + 25, "between what was seen and what was not: {gap}s to {max:?}s");
    assert!(app.events.iter().any(|e| e.text.contains("its source went while no console watched")));
}

#[test]
fn a_state_file_that_cannot_be_written_takes_the_typed_override_and_no_quit_promises_it_is_kept() {
    let (mut world, mut app) = demo(30);
    app.config.mode = Mode::Run;
    let mut marks = Vec::new();
    let path = "/state/cutover/handoffs/photo-api-2026.json".to_string();
    apply(
        &mut app,
        Msg::Keeping(Keeping::StateFile { path: path.clone(), error: Some("read-only file system".into()) }),
        &mut marks,
    );
    assert!(matches!(&marks[..], [Marked::StateFile { error: Some(_), .. }]));
    // The scheduler is Argo CD's too: one typed word for both reasons.
    select_scheduler(&mut app);
    press(&mut app, &[key('h')]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a proposal: {:?}", app.notice) };
    let o = p.typed_override.clone().unwrap();
    assert!(o.reason().contains("Argo CD") && o.reason().contains("cannot be written (read-only file system)"));
    assert!(p.lines.iter().any(|l| l.contains("no later one picks it up")), "{:?}", p.lines);
    for c in "override".chars() {
        press(&mut app, &[key(c)]);
    }
    press(&mut app, &[Key::plain(KeyCode::Enter)]);
    assert!(matches!(&sent()[..], [Effect::Stop { .. }]));
    execute(&mut world, &mut app, &mut marks);
    press(&mut app, &[key('q')]);
    let Some(Modal::Quit(lines)) = &app.modal else { panic!("the quit question") };
    assert!(lines.iter().any(|l| l.starts_with("it is NOT kept on disk (") && l.contains(&path)), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("picks it up")), "{lines:?}");
    press(&mut app, &[key('n')]);

    // Writable again: the next handoff needs no more than Argo CD's override.
    apply(&mut app, Msg::Keeping(Keeping::StateFile { path, error: None }), &mut marks);
    assert!(app.keeping.state_file.is_none());
    assert!(matches!(marks.last(), Some(Marked::StateFile { error: None, .. })));
}

#[test]
fn watch_shows_a_handoff_left_on_disk_and_never_acts_on_it() {
    let (_world, mut app) = demo(30);
    let (_w, mut driver) = handing_over();
    take_sent();
    let handoff = driver.handoff.take().unwrap();
    app.config.mode = Mode::Watch;
    let mut marks = Vec::new();
    let saved_at = app.now;
    apply(&mut app, Msg::OnDisk(Some(Left { handoff: handoff.clone(), saved_at })), &mut marks);
    assert!(app.keeping.left.is_some());
    assert!(
        app.events.iter().any(
            |e| e.text.starts_with("HANDOFF LEFT IN FLIGHT") && e.text.contains("the stop of old is being written")
        ),
        "{:?}",
        app.events.front()
    );
    assert!(matches!(&marks[..], [Marked::HandoffLeft { .. }]));
    for _ in 0..5 {
        tick(&mut app, 1, &mut marks);
    }
    assert!(app.handoff.is_none() && sent().is_empty(), "read-only: nothing is carried on");
    apply(&mut app, Msg::OnDisk(Some(Left { handoff, saved_at })), &mut marks);
    assert_eq!(marks.len(), 1, "the same phase again is no news");
    apply(&mut app, Msg::OnDisk(None), &mut marks);
    assert!(app.keeping.left.is_none());
    assert!(app.events.front().unwrap().text.contains("no longer holds a handoff"));
    step(&mut app, Msg::Signal(Signal::Terminate));
    assert!(app.quit, "watch has nothing to bring to rest");
}

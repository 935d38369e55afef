//! Pacing survives a restart: how long a route has been at its weights
//! comes from the last change the console can see (its recordings of the
//! plan), or is unknown, which counts as not yet dwelled. Against the real
//! peers: a step, a quit, a console started again 0 s later.
#![allow(clippy::unwrap_used)]

mod common;

use common::live::{Driver, seed_recording};
use common::sent;
use cutover::app::{EffectResult, Modal, Msg, Panel, Proposal};
use cutover::domain::Weights;

fn proposal(d: &Driver) -> Proposal {
    match &d.app.modal {
        Some(Modal::Proposal(p)) => p.clone(),
        other => panic!("a proposal, not {other:?}; notice {:?}", d.app.notice),
    }
}

/// The recordings of `dir` read as `cutover run` reads them at its start.
fn read_recordings(d: &mut Driver, dir: &std::path::Path) {
    let names: Vec<String> = d.app.routes.iter().map(|r| r.spec.name.clone()).collect();
    let (changes, recordings) =
        cutover::record::history::last_changes(&[dir.to_path_buf()], &d.plan.name, &names, jiff::Timestamp::now());
    d.console.apply(Msg::PriorChanges { changes, recordings });
}

fn everything_read(d: &mut Driver) {
    d.until("everything read again", |app| {
        app.routes.iter().all(|r| r.read.is_some()) && !app.routes[0].metrics.new.requests.is_empty()
    });
}

#[test]
fn with_no_recording_of_the_plan_the_time_at_a_weight_is_unknown_and_a_step_needs_the_second_confirmation() {
    let mut d = Driver::start_fresh("realistic");
    let dir = d.peers.dir.join("no-recordings");
    std::fs::create_dir_all(&dir).unwrap();
    read_recordings(&mut d, &dir);
    assert!(
        d.app.events.iter().any(|e| e
            .text
            .contains("pacing: no earlier change of the routes' weights on record (0 recording(s) of this plan read)")),
        "{:?}",
        d.app.events.iter().take(5).collect::<Vec<_>>()
    );
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    let p = proposal(&d);
    assert_eq!(p.needed, 2, "{:?}", p.lines);
    assert!(
        p.lines
            .iter()
            .any(|l| l.starts_with("time at this weight unknown (no earlier change on record); at it at least")),
        "{:?}",
        p.lines
    );
    assert!(
        p.lines
            .iter()
            .any(|l| l.contains("time at this weight unknown: counts as not yet dwelled")
                && l.contains("min_dwell 120s")),
        "{:?}",
        p.lines
    );
    d.press("y");
    assert!(sent().is_empty(), "one confirmation is not enough");
    d.press("Y");
    let results = d.execute();
    assert!(matches!(results[..], [EffectResult::Verified { .. }]), "{results:?}");
    assert_eq!(d.peers.get("/elb/weights?route=api")["new"], 50);
}

/// The Why's restart: a step, a quit, `cutover run` again at once. The
/// second console finds the step in the first's recording: the route has
/// been at 50% for seconds, not "at least since start", and the next step
/// needs the second confirmation. Its own recording holds what it read,
/// so its replay shows the same proposal.
#[test]
fn a_console_started_again_right_after_a_step_counts_from_that_step() {
    let mut d = Driver::start_fresh("realistic");
    let dir = d.peers.dir.join("recordings");
    let first = dir.join("live-first.jsonl");
    d.console.record_to(&first);
    d.app.ui.focus = Panel::Traffic;
    d.press("]yY");
    let results = d.execute();
    assert!(matches!(results[..], [EffectResult::Verified { .. }]), "{results:?}");
    let stepped = jiff::Timestamp::now();
    // Quit: the recording is flushed and closed.
    d.console.recorder = None;

    d.console.restart();
    let second = dir.join("live-second.jsonl");
    d.console.record_to(&second);
    everything_read(&mut d);
    read_recordings(&mut d, &dir);
    let prior = d.app.routes[0].prior.clone().unwrap();
    assert_eq!(prior.to, Weights::from_percent_new(50));
    assert_eq!(prior.source, "recording live-first.jsonl");
    assert!((prior.at.as_second() - stepped.as_second()).abs() <= 2, "{prior:?}");
    assert!(
        d.app.events.iter().any(|e| e.text.contains("pacing: last changes before this session: api set to 50% at")),
        "{:?}",
        d.app.events.front()
    );
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    let p = proposal(&d);
    let since = cutover::domain::clock(prior.at);
    assert!(
        p.lines.iter().any(|l| l.starts_with(&format!("at 50% since {since} (recording live-first.jsonl), "))),
        "{:?}",
        p.lines
    );
    assert_eq!(p.needed, 2, "a restart does not skip min_dwell: {:?}", p.lines);
    assert!(
        p.lines.iter().any(|l| l.contains("at this weight (min_dwell 120s)") && l.starts_with("only ")),
        "{:?}",
        p.lines
    );
    d.press("y");
    assert!(sent().is_empty());
    d.press("n");
    d.console.recorder = None;

    // The second session's replay: the same message, the same pacing.
    let mut player = cutover::replay::Player::open(&second).unwrap();
    let end = player.span().1;
    player.seek(end).unwrap();
    assert_eq!(player.app.routes[0].prior.as_ref(), Some(&prior), "the replay read what the session read");
    let events: Vec<&str> = player.app.events.iter().map(|e| e.text.as_str()).collect();
    assert!(events.iter().any(|e| e.starts_with("proposal dropped by")), "{events:?}");
    assert!(
        events.iter().any(|e| e.contains("pacing: last changes before this session: api set to 50%")),
        "{events:?}"
    );
}

/// A step long ago (90 minutes, in an earlier recording) leaves one
/// confirmation; a recording whose last change is not what the route
/// reads now (somebody moved it since) says nothing of how long.
#[test]
fn an_old_change_on_record_is_dwelled_and_one_the_route_no_longer_has_is_unknown() {
    let mut d = Driver::start_fresh("realistic");
    let dir = d.peers.dir.join("old-recordings");
    // 90 minutes: "1h" on screen, whichever second the clock shows.
    let ago = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(5400);
    seed_recording(&dir.join("live-an-hour-ago.jsonl"), &d.app, ago);
    read_recordings(&mut d, &dir);
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    let p = proposal(&d);
    assert_eq!(p.needed, 1, "{:?}", p.lines);
    assert!(
        p.lines.iter().any(|l| l.starts_with(&format!(
            "at 25% since {} (recording live-an-hour-ago.jsonl), 1h",
            cutover::domain::clock(ago)
        ))),
        "{:?}",
        p.lines
    );
    d.press("n");

    // Moved behind the console's back since that recording: its change no
    // longer says how long the route has been where it is.
    d.peers.post("/elb/weights", serde_json::json!({"route": "api", "old": 80, "new": 20}));
    d.until("the move read", |app| {
        app.routes[0].weights() == Some(Weights { old: cutover::domain::Weight(80), new: cutover::domain::Weight(20) })
    });
    d.console.restart();
    everything_read(&mut d);
    read_recordings(&mut d, &dir);
    assert!(d.app.routes[0].prior.is_some(), "the change is on record");
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    let p = proposal(&d);
    assert_eq!(p.needed, 2, "{:?}", p.lines);
    assert!(p.lines.iter().any(|l| l.starts_with("time at this weight unknown")), "{:?}", p.lines);
}

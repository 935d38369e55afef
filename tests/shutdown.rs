//! The way out of `cutover run` with a write in flight, against the peers
//! (moto behind the harness's fault proxy, which holds a ModifyListener's
//! answer; kmock for the clusters and the plan's Lease), in a real
//! terminal (tmux): the operator quits while the write is at AWS, and the
//! console waits for its answer (or gives up on it after a bounded wait)
//! and records it before the session's end. So no write the session sent
//! is left in the recording without its outcome: replayed to its end, the
//! session has nothing in flight.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::peers::Peers;
use common::tmux::Tmux;
use cutover::app::{Effect, EffectResult, Ending, Marked, Msg};
use cutover::effects::QUIT_UNANSWERED;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cutover");
const WAIT: Duration = Duration::from_secs(30);

/// The exit code the shell printed as a line `EXIT=<code>`.
fn exit_code(screen: &str) -> Option<i32> {
    screen.lines().find_map(|l| l.trim_end().strip_prefix("EXIT=")?.parse().ok())
}

/// `cutover run` on the peers in the terminal, recorded to `record`, up
/// and reading.
fn start(t: &Tmux, peers: &Peers, record: &Path) {
    t.type_line(&format!(
        "clear; AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {BIN} run --plan {} --log {} --record {}; echo EXIT=$?",
        peers.plan_path().display(),
        peers.dir.join("cutover.log").display(),
        record.display()
    ));
    t.wait_for("the live console", WAIT, |s| s.contains("read 75/25") && s.contains("wheel: yours since"));
}

/// The requests the proxy held for `fault`.
fn held(peers: &Peers, fault: &str) -> Vec<Value> {
    peers.requests("aws").into_iter().filter(|r| r["fault_id"] == fault).collect()
}

fn wait_held(t: &Tmux, peers: &Peers, fault: &str) {
    let start = Instant::now();
    while held(peers, fault).is_empty() {
        assert!(start.elapsed() < WAIT, "the write never reached the proxy; screen:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `q` (the question: a write is in flight), then `y`; the shell's screen
/// once the console has exited, and how long after the `y` that was.
fn quit(t: &Tmux, in_flight: &str) -> (String, Duration) {
    t.send(&["q"]);
    t.wait_for("the quit question", WAIT, |s| {
        s.contains("QUIT NOW?") && s.contains(&format!("written, answer not yet in: {in_flight}"))
    });
    let asked = Instant::now();
    t.send(&["y"]);
    let after = t.wait_for("the shell back", WAIT, |s| exit_code(s).is_some());
    (after, asked.elapsed())
}

fn weights(peers: &Peers, route: &str) -> (i64, i64) {
    let w = peers.get(&format!("/elb/weights?route={route}"));
    (w["old"].as_i64().unwrap(), w["new"].as_i64().unwrap())
}

/// The answers to route api's weight changes in the recording, with their
/// place in it.
fn api_answers(rec: &cutover::record::Recording) -> Vec<(usize, Effect, EffectResult)> {
    rec.entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.m {
            Msg::EffectDone { effect: effect @ Effect::SetWeights { route, .. }, result, .. } if route.0 == 0 => {
                Some((i, effect.clone(), result.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The recording replayed to its end: every write the session sent has
/// its answer there.
fn nothing_in_flight_at_the_end(path: &Path) {
    let mut player = cutover::replay::Player::open(path).unwrap();
    player.seek(player.span().1).unwrap();
    let left: Vec<String> =
        player.app.in_flight.values().map(|f| f.effect.describe(&player.app.config.routes)).collect();
    assert!(left.is_empty(), "writes without an answer in the recording: {left:?}");
}

/// ModifyListener's answer held 4 s (api is a listener's default
/// action): the step is at AWS when the operator quits. The console waits
/// for it (and says so), records it verified before the session's end,
/// says it on the way out, and exits 0 with the terminal given back.
#[test]
fn a_write_in_flight_at_quit_is_let_finish_and_its_answer_recorded() {
    common::peers::fake_aws_credentials();
    let peers = Peers::start("realistic");
    let t = Tmux::start("quit-answered");
    let record = peers.dir.join("answered.jsonl");
    start(&t, &peers, &record);
    peers.aws_fault(
        json!({"id": "held", "ops": ["ModifyListener"], "mode": "delay", "delay_ms": 4000, "lands": true, "count": 1}),
    );
    t.send(&["]"]);
    t.wait_for("the step's proposal", WAIT, |s| s.contains("PROPOSAL: route api: 25% → 50% to new"));
    // A fresh console of the plan: the step takes the second confirmation.
    t.send(&["y", "Y"]);
    wait_held(&t, &peers, "held");

    let (after, took) = quit(&t, "route api: weights old 50 / new 50");
    assert_eq!(exit_code(&after), Some(0), "{after}");
    let rec = cutover::record::read(&record).unwrap();
    assert!(rec.stopped.is_none(), "{:?}", rec.stopped);
    let answers = api_answers(&rec);
    let [(at, Effect::SetWeights { to, .. }, EffectResult::Verified { .. })] = &answers[..] else {
        panic!("one answer to the step, verified: {answers:?}")
    };
    assert_eq!((to.old.0, to.new.0), (50, 50));
    let ended = rec.entries.iter().position(|e| e.m == Msg::Ended(Ending::Quit)).expect("the session's end");
    assert!(*at < ended, "the answer is recorded before the session's end");
    assert!(
        rec.marks.iter().any(|(_, m)| matches!(&m.what, Marked::Outcome { ok: true, effect, .. } if effect == "route api: weights old 50 / new 50")),
        "the outcome's mark"
    );
    nothing_in_flight_at_the_end(&record);

    assert!(took < Duration::from_secs(14), "the answer came after about 4 s, not at the wait's end: {took:?}");
    assert_eq!(t.flag("alternate_on"), "0", "{after}");
    assert_eq!(t.flag("mouse_any_flag"), "0", "{after}");
    let said = after.replace('\n', "");
    assert!(said.contains("cutover: waiting up to 15s for the answer of 1 write(s) already sent"), "{after}");
    assert!(said.contains("cutover: route api: weights old 50 / new 50: done and verified"), "{after}");
    assert!(said.contains("cutover: released the wheel"), "{after}");
    assert_eq!(weights(&peers, "api"), (50, 50));
}

/// Every ModifyListener's answer held a minute: the revert of api (`R` `y`)
/// loses its answer at each try and is written again. The operator quits;
/// 15 s later the console stops waiting, records the revert as
/// unanswered (it may still land), and what was queued behind it as not
/// sent; then it exits 0.
#[test]
fn a_write_still_unanswered_when_the_wait_is_over_is_recorded_unanswered() {
    common::peers::fake_aws_credentials();
    let peers = Peers::start("realistic");
    let t = Tmux::start("quit-unanswered");
    let record = peers.dir.join("unanswered.jsonl");
    start(&t, &peers, &record);
    peers.aws_fault(json!({"id": "lost", "ops": ["ModifyListener"], "mode": "delay", "delay_ms": 60000, "count": 20}));
    t.send(&["R"]);
    t.wait_for("the revert's proposal", WAIT, |s| s.contains("ALL routes: 100% to old"));
    t.send(&["y"]);
    wait_held(&t, &peers, "lost");

    let (after, took) = quit(&t, "route api: revert to old 100 / new 0");
    assert_eq!(exit_code(&after), Some(0), "{after}");
    let rec = cutover::record::read(&record).unwrap();
    let answers = api_answers(&rec);
    let [(at, _, EffectResult::Unknown { detail })] = &answers[..] else {
        panic!("one answer to the revert, unknown: {answers:?}")
    };
    assert!(detail.starts_with(QUIT_UNANSWERED), "{detail}");
    let ended = rec.entries.iter().position(|e| e.m == Msg::Ended(Ending::Quit)).expect("the session's end");
    assert!(*at < ended, "the answer is recorded before the session's end");
    nothing_in_flight_at_the_end(&record);

    assert!(took >= Duration::from_secs(15), "the wait is 15 s: {took:?}");
    assert!(took < Duration::from_secs(25), "and bounded: {took:?}");
    assert_eq!(t.flag("alternate_on"), "0", "{after}");
    let said = after.replace('\n', "");
    assert!(said.contains("cutover: route api: revert to old 100 / new 0 and every other target 0: OUTCOME UNKNOWN: its answer was not awaited: the console quit while it was being written, and it may still land; check before acting again"), "{after}");
}

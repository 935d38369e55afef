//! Signals against the real binary in a real terminal (tmux), with a
//! handoff in flight against the peers (kmock plays both clusters, the
//! test plays the Deployment controller, which kmock does not run):
//! SIGHUP while the target is started and not yet ready leaves it
//! running, kept for the next `run`, which picks it up and reports the
//! whole gap; SIGTERM while the source is stopped and not yet gone
//! restores the source, and says so. Either way the terminal is given
//! back, the exit code is 128+signal, and the recording ends with the
//! signal's marks, its last second in it.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::peers::Peers;
use common::tmux::Tmux;
use cutover::app::{Ending, HandoffPhase, Marked, Msg, Signal};
use cutover::keymap::Key;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cutover");
const WAIT: Duration = Duration::from_secs(30);

/// The exit code the shell printed as a line `EXIT=<code>`.
fn exit_code(screen: &str) -> Option<i32> {
    screen.lines().find_map(|l| l.trim_end().strip_prefix("EXIT=")?.parse().ok())
}

/// The console's command line: `run` on the peers, recorded to `record`.
fn run_line(peers: &Peers, record: &Path) -> String {
    format!(
        "clear; AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {BIN} run --plan {} --log {} --record {}; echo EXIT=$?",
        peers.plan_path().display(),
        peers.dir.join("cutover.log").display(),
        record.display()
    )
}

/// The process whose command line names `record`: one console.
fn pid_of(record: &Path) -> String {
    let out = std::process::Command::new("pgrep").args(["-f", &format!("record {}", record.display())]).output();
    let out = String::from_utf8_lossy(&out.unwrap().stdout).into_owned();
    let pids: Vec<&str> = out.lines().collect();
    assert_eq!(pids.len(), 1, "one console records to {}: {pids:?}", record.display());
    pids[0].to_string()
}

fn kill(signal: &str, pid: &str) {
    assert!(std::process::Command::new("kill").args([&format!("-{signal}"), pid]).status().unwrap().success());
}

/// The handoff state file of the peers' plan, in the tmux server's state
/// directory (see `Tmux::start`).
fn state_file() -> PathBuf {
    std::env::temp_dir()
        .join(format!("cutover-terminal-test-{}", std::process::id()))
        .join("cutover/handoffs/photo-api-2026.json")
}

fn replicas(peers: &Peers, side: &str) -> Option<i64> {
    peers.get(&format!("/kube/{side}/object?resource=apps/v1/deployments&namespace=app&name=scheduler"))["spec"]
        ["replicas"]
        .as_i64()
}

fn wait_until(what: &str, t: &Tmux, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "waited {WAIT:?} for {what}; screen:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The console up on the peers, the scheduler's drill-down open, its
/// handoff old → new proposed and confirmed, old stopped.
fn start_handoff(t: &Tmux, peers: &Peers, record: &Path) {
    t.type_line(&run_line(peers, record));
    t.wait_for("the live console", WAIT, |s| s.contains("read 75/25") && s.contains("app/scheduler"));
    for _ in 0..30 {
        t.send(&["Enter"]);
        if t.screen().lines().take(6).any(|l| l.contains("app/scheduler")) {
            break;
        }
        t.send(&["Escape", "Down"]);
    }
    t.send(&["h"]);
    t.wait_for("the handoff proposal", WAIT, |s| s.contains("PROPOSAL: hand scheduler over: old → new"));
    t.send(&["y"]);
    t.wait_for("old stopped, new waiting", WAIT, |s| s.contains("waiting for old to run nothing"));
    assert_eq!(replicas(peers, "old"), Some(0));
}

/// Plays the Deployment controller of old after its scale to 0: its pods
/// go, and its status says so.
fn old_pods_go(peers: &Peers) {
    let pods: Value =
        ureq::get(&format!("{}/api/v1/namespaces/app/pods", peers.old)).call().unwrap().body_mut().read_json().unwrap();
    let names = pods["items"].as_array().unwrap().iter().filter_map(|p| p["metadata"]["name"].as_str());
    for pod in names.filter(|n| n.starts_with("scheduler-")) {
        peers.post("/kube/old/delete", json!({"resource": "v1/pods", "namespace": "app", "name": pod}));
    }
    set_status(peers, "old", 0);
}

fn set_status(peers: &Peers, side: &str, ready: i64) {
    let mut d = peers.get(&format!("/kube/{side}/object?resource=apps/v1/deployments&namespace=app&name=scheduler"));
    d["status"] = json!({"replicas": ready, "readyReplicas": ready, "availableReplicas": ready});
    peers.post(&format!("/kube/{side}/apply"), d);
}

/// Every message and mark of a recording, in file order, with its time.
fn read(path: &Path) -> cutover::record::Recording {
    let rec = cutover::record::read(path).unwrap();
    assert!(rec.stopped.is_none(), "every line reads: {:?}", rec.stopped);
    rec
}

fn signal_marks(rec: &cutover::record::Recording) -> Vec<String> {
    rec.marks
        .iter()
        .filter_map(|(_, m)| match &m.what {
            Marked::Signal { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn report_json(path: &Path) -> Value {
    let out = std::process::Command::new(BIN).args(["report", "--format", "json"]).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn report_md(path: &Path) -> String {
    let out = std::process::Command::new(BIN).arg("report").arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sighup_mid_handoff_gives_the_terminal_back_keeps_the_handoff_and_the_next_run_reports_the_whole_gap() {
    common::peers::fake_aws_credentials();
    let peers = Peers::start("realistic");
    let t = Tmux::start("sighup");
    let first = peers.dir.join("first.jsonl");
    start_handoff(&t, &peers, &first);
    // Old runs nothing: the console starts new, which is not yet ready.
    old_pods_go(&peers);
    t.wait_for("new started, not yet ready", WAIT, |s| s.contains("waiting for new to be ready"));
    wait_until("new started at the peer", &t, || replicas(&peers, "new") == Some(1));
    assert_eq!(t.flag("alternate_on"), "1");
    assert_eq!(t.flag("mouse_any_flag"), "1", "the console holds the mouse");

    // A key pressed just before the hangup: in the recording, though the
    // process was killed within a second of it.
    t.run(&["send-keys", "-t", "t", "?"]);
    std::thread::sleep(Duration::from_millis(100));
    let hung_up = jiff::Timestamp::now();
    kill("HUP", &pid_of(&first));
    let after = t.wait_for("the shell back", WAIT, |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(129), "{after}");
    assert_eq!(
        t.run(&["display-message", "-p", "-t", "t", "#{alternate_on} #{mouse_any_flag}"]).trim(),
        "0 0",
        "alternate screen and mouse given back"
    );
    let said = after.replace('\n', "");
    assert!(said.contains("cutover: session recorded in"), "{after}");
    assert!(said.contains("stopped by SIGHUP (exit code 129)"), "{after}");
    assert!(said.contains("handoff scheduler: new is started and not yet ready"), "{after}");
    assert!(said.contains("waits until new is ready and times the gap"), "{after}");
    assert_eq!(replicas(&peers, "new"), Some(1), "a side running alone is never stopped");
    assert_eq!(replicas(&peers, "old"), Some(0));

    // The recording: the key, the signal's marks saying what was left,
    // and the session's end last.
    let rec = read(&first);
    let key = rec.entries.iter().rposition(|e| e.m == Msg::Key(Key::char('?'))).expect("the last key is recorded");
    let signal = rec.entries.iter().position(|e| e.m == Msg::Signal(Signal::Hangup)).expect("the signal is recorded");
    assert!(key < signal);
    assert!((rec.entries[signal].t - hung_up.as_millisecond()).abs() < 2000, "stamped when it came");
    assert_eq!(rec.entries.last().unwrap().m, Msg::Ended(Ending::Signal(Signal::Hangup)));
    let said = signal_marks(&rec);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].starts_with("SIGHUP: stopping; handoff scheduler: new is started and not yet ready: left as it is")
    );
    assert!(
        said[1].starts_with("SIGHUP: exiting; handoff scheduler: new is started and not yet ready; it is kept on disk"),
        "{said:?}"
    );
    let (_, end) = rec.marks.last().unwrap();
    assert!(matches!(&end.what, Marked::Ended { ending: Ending::Signal(Signal::Hangup), .. }), "{end:?}");
    // A replay's timeline has them: the marks it indexes.
    let player = cutover::replay::Player::open(&first).unwrap();
    assert!(player.marks().iter().any(|(_, m)| matches!(m.what, Marked::Signal { .. })));
    let md = report_md(&first);
    assert!(md.contains("| Recording | ended by SIGHUP at "), "{md}");
    assert!(!md.contains("| Recording | complete"), "{md}");

    // The state file says where the handoff stood.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(state_file()).unwrap()).unwrap();
    assert_eq!(saved["handoff"]["phase"], "WaitingReady", "{saved}");
    let gone_at: jiff::Timestamp = saved["handoff"]["gone_at"].as_str().unwrap().parse().unwrap();
    let saved_at: jiff::Timestamp = saved["saved_at"].as_str().unwrap().parse().unwrap();
    assert!((saved_at.as_second() - hung_up.as_second()).abs() <= 2, "written again on the way out: {saved}");

    // `watch` shows the handoff left in flight at once, and writes nothing.
    t.type_line(&format!(
        "clear; AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {BIN} watch --plan {} --no-record --log {}; echo EXIT=$?",
        peers.plan_path().display(),
        peers.dir.join("watch.log").display()
    ));
    let watched = t.wait_for("the handoff left in flight", WAIT, |s| s.contains("HANDOFF LEFT IN FLIGHT"));
    assert!(watched.contains("scheduler: new is started and not yet ready"), "{watched}");
    t.send(&["q"]);
    t.wait_for("watch ends", WAIT, |s| exit_code(s) == Some(0));
    let again: Value = serde_json::from_str(&std::fs::read_to_string(state_file()).unwrap()).unwrap();
    assert_eq!(again, saved, "watch never writes the state file");

    // Meanwhile new becomes ready; the next `run` picks the handoff up.
    std::thread::sleep(Duration::from_secs(2));
    set_status(&peers, "new", 1);
    let second = peers.dir.join("second.jsonl");
    t.type_line(&run_line(&peers, &second));
    // The event and the handoff's strip are one frame's; waited for
    // together, as a capture can fall between the two being written.
    t.wait_for("the handoff picked up and on the strip", WAIT, |s| {
        s.contains("picked up the handoff") && s.contains("handoff scheduler old → new")
    });
    t.wait_for("the handoff done", WAIT, |s| {
        s.lines().any(|l| l.contains(" handoff scheduler old → new ") && l.contains(": done"))
    });
    wait_until("the state file removed", &t, || !state_file().exists());
    t.send(&["q"]);
    let after = t.wait_for("exit", WAIT, |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(0), "{after}");

    // Its report has the handoff, from its start in the first session,
    // with the gap from old gone (first session) to new ready (this one).
    let rec = read(&second);
    let done = rec
        .marks
        .iter()
        .find_map(|(_, m)| match &m.what {
            Marked::HandoffDone { gap_secs, .. } => Some((m.at, *gap_secs)),
            _ => None,
        })
        .expect("the picked-up handoff is done");
    assert_eq!(done.1, done.0.as_second() - gone_at.as_second(), "the gap starts where the first session saw old gone");
    assert!(
        done.1 >= rec.header.started.as_second() - gone_at.as_second(),
        "longer than the time between the two consoles"
    );
    assert!(done.1 >= 2, "the 2 s waited between the consoles are in it: {done:?}");
    let report = report_json(&second);
    let h = &report["handoffs"][0];
    assert_eq!(h["singleton"], "scheduler", "{report:#}");
    assert_eq!(h["result"], "done");
    assert_eq!(h["gap_secs"], done.1);
    assert!(h["picked_up"].is_string(), "{h}");
    let started: jiff::Timestamp = h["started"].as_str().unwrap().parse().unwrap();
    assert!(started < rec.header.started, "started in the first session: {h}");
    assert_eq!(report["summary"]["singletons"][0]["gaps_secs"], json!([done.1]));
    assert_eq!(report["summary"]["ended"]["how"], "quit");
    assert_eq!(report["summary"]["complete"], true);
    let md = report_md(&second);
    assert!(md.contains(&format!("nothing ran for {}s", done.1)), "{md}");
    assert!(md.contains("picked up at"), "{md}");
}

#[test]
fn sigterm_while_old_is_not_yet_gone_restores_old_says_so_and_leaves_nothing_to_pick_up() {
    common::peers::fake_aws_credentials();
    let peers = Peers::start("realistic");
    let t = Tmux::start("sigterm");
    let record = peers.dir.join("term.jsonl");
    start_handoff(&t, &peers, &record);
    // Old's pod does not go (nobody plays its controller): the singleton
    // runs on neither side once it does. SIGTERM now.
    kill("TERM", &pid_of(&record));
    let after = t.wait_for("the shell back", WAIT, |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(143), "{after}");
    assert_eq!(t.run(&["display-message", "-p", "-t", "t", "#{alternate_on} #{mouse_any_flag}"]).trim(), "0 0");
    let said = after.replace('\n', "");
    assert!(said.contains("stopped by SIGTERM (exit code 143)"), "{after}");
    assert!(said.contains("handoff scheduler: aborted, old restored"), "{after}");
    // The safe state, at the peers: old runs again, new was never started.
    assert_eq!(replicas(&peers, "old"), Some(1), "old restored");
    assert_eq!(replicas(&peers, "new"), Some(0), "new never started");
    assert!(!state_file().exists(), "nothing left for a next run to pick up");

    let rec = read(&record);
    let said = signal_marks(&rec);
    assert!(
        said[0].starts_with(
            "SIGTERM: stopping; handoff scheduler: old is stopped and not yet gone, new not started: old is restored"
        ),
        "{said:?}"
    );
    assert!(said.last().unwrap().starts_with("SIGTERM: exiting; handoff scheduler: aborted, old restored"), "{said:?}");
    let aborted = rec
        .marks
        .iter()
        .any(|(_, m)| matches!(&m.what, Marked::HandoffAborted { who, .. } if who == "cutover on SIGTERM"));
    assert!(aborted, "{:?}", rec.marks);
    let restored = rec.entries.iter().any(|e| {
        matches!(&e.m, Msg::EffectDone { effect: cutover::app::Effect::Start { side: cutover::domain::Side::Old, .. }, result, .. } if result.applied())
    });
    assert!(restored, "the restore is verified before the exit");
    assert_eq!(rec.entries.last().unwrap().m, Msg::Ended(Ending::Signal(Signal::Terminate)));
    // The replay comes to the same state: the handoff aborted.
    let mut player = cutover::replay::Player::open(&record).unwrap();
    player.seek(i64::MAX).unwrap();
    assert_eq!(player.app.handoff.as_ref().map(|h| h.phase.clone()), Some(HandoffPhase::Aborted));
    let report = report_json(&record);
    assert_eq!(report["handoffs"][0]["result"], "aborted by cutover on SIGTERM", "{report:#}");
    assert_eq!(report["summary"]["ended"]["signal"], "SIGTERM");
    assert!(report_md(&record).contains("| Recording | ended by SIGTERM at "));
}

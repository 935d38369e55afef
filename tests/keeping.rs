//! What the console keeps of itself when the disk will not take it, in a
//! real terminal (tmux), on real file systems: a small tmpfs as the
//! recording's directory that fills up, then grows again (the machine runs
//! the tests as root: `mount` must work, and the tests fail, never skip,
//! when it does not); and a read-only tmpfs as the handoff state
//! directory, against the peers.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::peers::Peers;
use common::tmux::Tmux;
use cutover::app::Marked;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cutover");
const WAIT: Duration = Duration::from_secs(30);

fn exit_code(screen: &str) -> Option<i32> {
    screen.lines().find_map(|l| l.trim_end().strip_prefix("EXIT=")?.parse().ok())
}

/// A tmpfs mounted at a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(name: &str, options: &str) -> Tmpfs {
        let dir = std::env::temp_dir().join(format!("cutover-keeping-{name}-{}", std::process::id()));
        let _ = Command::new("umount").arg(&dir).status();
        std::fs::create_dir_all(&dir).unwrap();
        Tmpfs::mount_at(dir, options)
    }

    fn mount_at(dir: PathBuf, options: &str) -> Tmpfs {
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs"]).arg(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "these tests need to mount a tmpfs (run them as root, as CI does): mount -t tmpfs -o {options} tmpfs {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    fn remount(&self, options: &str) {
        let out = Command::new("mount").args(["-o", &format!("remount,{options}")]).arg(&self.dir).output().unwrap();
        assert!(out.status.success(), "remount {options}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: a console still stopping may hold a file open there.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// The screen's words, boxes' sides taken out and blanks run together: a
/// line the modal wrapped (where the path's length puts the break) reads
/// as one.
fn words(screen: &str) -> String {
    screen.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The words inside the box whose title starts with `title`: what is drawn
/// beside it (a drill-down's borders) left out.
fn boxed(screen: &str, title: &str) -> String {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let Some((top, left)) = lines.iter().enumerate().find_map(|(i, l)| {
        let text: String = l.iter().collect();
        let at = text.find(&format!("┌ {title}"))?;
        Some((i, text[..at].chars().count()))
    }) else {
        return String::new();
    };
    let right = lines[top][left..].iter().position(|c| *c == '┐').map_or(usize::MAX, |r| left + r);
    let mut inside = String::new();
    for line in &lines[top + 1..] {
        if line.get(left) == Some(&'└') {
            break;
        }
        let end = right.min(line.len());
        inside.extend(line.get(left + 1..end).into_iter().flatten());
        inside.push(' ');
    }
    words(&inside)
}

fn header_line(screen: &str, what: &str) -> Option<String> {
    screen.lines().take(4).find(|l| l.contains(what)).map(str::to_string)
}

/// The number before `word` in `line`: `85 lines held` → 85.
fn count_before(line: &str, word: &str) -> Option<u64> {
    let at = line.find(word)?;
    line[..at].split_whitespace().last()?.parse().ok()
}

fn report(path: &Path, format: &str) -> String {
    let out = Command::new(BIN).args(["report", "--format", format]).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The disk holds the recording's header and nothing more: the demo's
/// start (30 minutes of history) is held in memory up to a small bound,
/// the rest dropped and counted on screen; once the file system grows the
/// held lines go in, the loss is marked where it was with a keyframe after
/// it, the report gives the lost span and still has the history, and the
/// exit message and code say the recording is not complete.
#[test]
fn a_full_disk_is_an_alarm_the_lines_are_held_then_written_and_the_loss_is_told() {
    // Two pages: the header (4.4 KB with the demo plan's analysis) and
    // hardly a line more.
    let disk = Tmpfs::mount("full", "size=8k");
    let record = disk.dir.join("demo.jsonl");
    let t = Tmux::start("full-disk");
    t.type_line(&format!(
        "{BIN} demo --record {} --record-hold 60000 --log {}; echo EXIT=$?",
        record.display(),
        std::env::temp_dir().join(format!("cutover-keeping-{}.log", std::process::id())).display()
    ));
    let screen = t.wait_for("the alarm", WAIT, |s| {
        header_line(s, "NOT RECORDING").is_some_and(|l| l.contains("DROPPED")) && s.contains("app/api")
    });
    let alarm = header_line(&screen, "NOT RECORDING").unwrap();
    assert!(alarm.contains("NOT RECORDING: no space left on device"), "{alarm}");
    assert!(alarm.contains("lines held in memory") && alarm.contains("demo.jsonl"), "{alarm}");
    let held = count_before(&alarm, "lines held").unwrap();
    assert!(held > 10, "{alarm}");
    assert!(count_before(&alarm, "DROPPED").unwrap() > 0, "{alarm}");
    // What the disk took is whole lines: what a failed write left of one
    // was cut off again.
    let so_far = std::fs::read_to_string(&record).unwrap();
    assert!(so_far.lines().count() < 10 && so_far.ends_with('\n'), "{so_far}");
    assert!(cutover::record::read(&record).unwrap().stopped.is_none());

    // Space again: the held lines are written on the next flush.
    disk.remount("size=8m");
    t.wait_for("the alarm gone", WAIT, |s| header_line(s, "NOT RECORDING").is_none());
    std::thread::sleep(Duration::from_secs(2));
    t.send(&["q"]);
    let after = t.wait_for("exit", WAIT, |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(1), "not a success: lines were lost; {after}");
    let after = after.replace('\n', "");
    assert!(after.contains(&format!("the recording {} is NOT COMPLETE", record.display())), "{after}");
    assert!(after.contains("it could not be written (no space left on device)"), "{after}");
    assert!(after.contains("line(s) were held in memory and written late"), "{after}");
    assert!(after.contains("did not fit in memory and are NOT in it"), "{after}");

    // The file: every line whole and readable; where the lines were lost,
    // a gap line, and a keyframe right after the console said so.
    let text = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let gap = lines.iter().position(|l| l.contains("\"gap\":")).expect("a gap line");
    let gap_line: Value = serde_json::from_str(lines[gap]).unwrap();
    assert_eq!(gap_line["gap"]["local"], true);
    let lost = gap_line["gap"]["lines"].as_u64().unwrap();
    assert!(lost > 0);
    assert!(lines[gap + 1..].iter().take(6).any(|l| l.contains("\"k\":")), "a keyframe follows the gap");
    assert!(lines[..gap].iter().any(|l| l.contains("RecordingFailed")), "the failure is in the held lines");
    let replay = cutover::replay::Player::open(&record).unwrap();
    assert!(replay.index.stopped.is_none(), "{:?}", replay.index.stopped);
    assert!(
        replay.marks().iter().any(|(_, m)| matches!(m.what, Marked::RecordingResumed { lost: n, .. } if n == lost))
    );

    // The report: the lost lines and their span, and the history the
    // console held in memory, restored from the keyframe.
    let md = report(&record, "md");
    let row = md.lines().find(|l| l.starts_with("| Recording |")).unwrap();
    assert!(row.contains(&format!("{lost} lines lost ")), "{row}");
    assert!(row.contains("NOT COMPLETE") && !row.contains("| complete"), "{row}");
    let json: Value = serde_json::from_str(&report(&record, "json")).unwrap();
    let gaps = &json["summary"]["recording_gaps"];
    assert_eq!(gaps[0]["lost"], lost, "{gaps}");
    assert_eq!(gaps[0]["error"], "no space left on device");
    assert!(gaps[0]["to"].is_string() && gaps[0]["lost_from"].is_string() && gaps[0]["lost_to"].is_string());
    assert_eq!(json["summary"]["complete"], false);
    let from: jiff::Timestamp = gaps[0]["lost_from"].as_str().unwrap().parse().unwrap();
    let to: jiff::Timestamp = gaps[0]["lost_to"].as_str().unwrap().parse().unwrap();
    let span = format!("{}–{}", cutover::domain::clock(from), cutover::domain::clock(to));
    assert!(row.contains(&span), "{span} in {row}");
    let started: jiff::Timestamp = json["session"]["started"].as_str().unwrap().parse().unwrap();
    let before: Vec<&Value> = json["routes"][0]["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap() < started)
        .filter(|m| m["new"]["requests"].is_number())
        .collect();
    assert!(before.len() >= 9, "the minutes before the start are there: {}", json["routes"][0]["minutes"]);
}

/// `run` with a state directory it cannot write: an alarm, a handoff
/// proposal that takes only the typed override (`y` and Esc start
/// nothing), and a quit question that does not promise the handoff is
/// kept.
#[test]
fn a_read_only_state_directory_is_an_alarm_and_a_handoff_needs_the_typed_override() {
    common::peers::fake_aws_credentials();
    let peers = Peers::start("realistic");
    let state = std::env::temp_dir().join(format!("cutover-keeping-state-{}", std::process::id()));
    let handoffs = state.join("cutover/handoffs");
    let _ = Command::new("umount").arg(&handoffs).status();
    std::fs::create_dir_all(&handoffs).unwrap();
    let _ro = Tmpfs::mount_at(handoffs.clone(), "ro,size=64k");
    assert!(std::fs::write(handoffs.join("x"), b"").is_err(), "read-only, for root too");
    let record = peers.dir.join("ro.jsonl");
    let t = Tmux::start("read-only");
    t.type_line(&format!(
        "XDG_STATE_HOME={} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {BIN} run --plan {} --log {} --record {}; echo EXIT=$?",
        state.display(),
        peers.plan_path().display(),
        peers.dir.join("cutover.log").display(),
        record.display()
    ));
    let screen = t.wait_for("the live console", WAIT, |s| s.contains("read 75/25") && s.contains("app/scheduler"));
    let alarm = header_line(&screen, "HANDOFF STATE NOT KEPT").unwrap_or_else(|| panic!("an alarm: {screen}"));
    assert!(alarm.contains("HANDOFF STATE NOT KEPT: read-only file system"), "{alarm}");
    assert!(alarm.contains("/cutover/handoffs/photo-api-2026.json: a handoff needs the typed over"), "{alarm}");
    for _ in 0..30 {
        t.send(&["Enter"]);
        if t.screen().lines().take(6).any(|l| l.contains("app/scheduler")) {
            break;
        }
        t.send(&["Escape", "Down"]);
    }
    let replicas = |side: &str| {
        peers.get(&format!("/kube/{side}/object?resource=apps/v1/deployments&namespace=app&name=scheduler"))["spec"]
            ["replicas"]
            .as_i64()
            .unwrap_or(1)
    };

    t.send(&["h"]);
    let proposal = boxed(
        &t.wait_for("the handoff proposal", WAIT, |s| s.contains("PROPOSAL, OVERRIDE: hand scheduler over")),
        "PROPOSAL",
    );
    assert!(proposal.contains("cannot be written (read-only file system)"), "{proposal}");
    assert!(proposal.contains("no later one picks it up"), "{proposal}");
    assert!(proposal.contains("type `override`"), "{proposal}");
    t.send(&["y"]);
    let refused = t.wait_for("y not taken", WAIT, |s| s.contains("does not confirm this one"));
    assert!(words(&refused).contains("the handoff state file"), "{refused}");
    t.send(&["Escape"]);
    t.wait_for("the proposal dropped", WAIT, |s| !s.contains("PROPOSAL"));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(replicas("old"), 1, "nothing was stopped without the typed override");

    t.send(&["h"]);
    t.wait_for("the proposal again", WAIT, |s| s.contains("PROPOSAL, OVERRIDE"));
    t.run(&["send-keys", "-t", "t", "-l", "override"]);
    t.send(&["Enter"]);
    t.wait_for("old stopped, new waiting", WAIT, |s| s.contains("waiting for old to run nothing"));
    let start = Instant::now();
    while replicas("old") != 0 {
        assert!(start.elapsed() < WAIT, "the handoff went ahead with the override");
        std::thread::sleep(Duration::from_millis(200));
    }

    t.send(&["q"]);
    let asked = boxed(&t.wait_for("the quit question", WAIT, |s| s.contains("QUIT NOW?")), "QUIT NOW?");
    assert!(asked.contains("it is NOT kept on disk"), "{asked}");
    assert!(asked.contains("read-only file system"), "{asked}");
    assert!(!asked.contains("picks it up"), "no promise: {asked}");
    t.send(&["y"]);
    let after = t.wait_for("exit", WAIT, |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(0), "{after}");
    let after = after.replace('\n', "");
    assert!(after.contains("NOT kept: the state file"), "{after}");
    assert!(!after.contains("kept in "), "{after}");

    // The recording: the state file's trouble, and the override naming it.
    let rec = cutover::record::read(&record).unwrap();
    assert!(
        rec.marks
            .iter()
            .any(|(_, m)| matches!(&m.what, Marked::StateFile { error: Some(e), .. } if e == "read-only file system"))
    );
    let overridden = rec.marks.iter().find_map(|(_, m)| match &m.what {
        Marked::Override { owner, .. } => Some(owner.clone()),
        _ => None,
    });
    assert!(overridden.as_deref().is_some_and(|o| o.contains("cannot be written")), "{overridden:?}");
}

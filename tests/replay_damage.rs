//! A damaged line in the middle of a recording: `replay` says it as
//! `report` does (which line, what is wrong, what is kept) and ends there,
//! also when a seek enters at a keyframe after it (which reads none of the
//! lines between), rather than playing past it unsaid.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::record_session;
use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_cutover");

/// A recorded ten-minute demo session with one message line damaged after
/// its first keyframe, before its last; the damaged line's number, byte and
/// time, and the time of the good line before it.
fn damaged_recording(name: &str) -> (PathBuf, usize, u64, i64) {
    let path = common::fresh_path("replay-damage", name);
    record_session(&path, 10 * 60, &[]);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let keyframes: Vec<usize> = (0..lines.len()).filter(|i| lines[*i].contains("\"k\":")).collect();
    assert!(keyframes.len() >= 3, "keyframes at {keyframes:?}");
    // A Tick after the second keyframe, with its time damaged: the line
    // still starts as an entry, so the index takes it, and only parsing it
    // finds what is wrong.
    let t_of = |line: &str| -> i64 { line[5..].split(',').next().unwrap().parse().unwrap() };
    // In the live part, minutes after the start-up history.
    let live = common::start().as_millisecond() + 120_000;
    let last = keyframes[keyframes.len() - 1];
    let i = (1..last)
        .find(|i| *i > keyframes[1] && t_of(lines[*i]) > live && lines[*i].contains("{\"Tick\":{\"at\":"))
        .unwrap();
    assert!(keyframes.iter().any(|k| *k > i), "a keyframe after the damage");
    let before_t = t_of(lines[i - 1]);
    let broken = lines[i].replacen("{\"Tick\":{\"at\":\"", "{\"Tick\":{\"at\":\"yesterday ", 1);
    let byte: u64 = lines[..i].iter().map(|l| l.len() as u64 + 1).sum();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    out[i] = broken;
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    (path, i + 1, byte, before_t)
}

fn report_says(path: &Path) -> String {
    let out = std::process::Command::new(BIN).arg("report").arg(path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CUT SHORT"), "the report's summary says so too");
    stderr
}

#[test]
fn a_seek_past_a_damaged_line_through_a_keyframe_stops_at_the_line_and_says_it_as_the_report_does() {
    let (path, number, byte, before_t) = damaged_recording("seek.jsonl");
    let said = report_says(&path);
    let expected = format!("line {number} (byte {byte}) cannot be read: ");
    assert!(said.contains(&format!("the recording stops early: {expected}")), "{said}");
    let why = said.split_once(": the recording stops early: ").unwrap().1.to_string();

    let mut player = cutover::replay::Player::open(&path).unwrap();
    let (_, end_before) = player.span();
    // To the end at once: entered at the last keyframe, past the damage.
    player.seek(end_before).unwrap();
    player.checked(true);
    let stops = player.stops_early().unwrap();
    assert_eq!(stops, format!("{why}; everything before it is replayed"));
    let (_, end) = player.span();
    assert_eq!(end, before_t, "the replay ends at the last good line");
    assert!(end < end_before);
    // The screen is the console as of that line, no later.
    assert!(player.app.now.as_millisecond() <= before_t, "{} after {before_t}", player.app.now);
    player.seek(end_before).unwrap();
    assert_eq!(player.position(), before_t, "no seek goes past it");
}

#[test]
fn a_replay_in_a_terminal_names_the_damaged_line_on_screen_and_on_the_way_out() {
    let (path, number, byte, _) = damaged_recording("tmux.jsonl");
    let said = report_says(&path);
    let t = Tmux::start("replay-damage");
    t.type_line(&format!("{BIN} replay {}; echo EXIT=$?", path.display()));
    t.wait_for("the replay", Duration::from_secs(10), |s| s.contains("REPLAY of DEMO"));
    // To the end of the recording: shift-right a minute at a time.
    for _ in 0..12 {
        t.send(&["S-Right"]);
    }
    let screen = t.wait_for("the damage said", Duration::from_secs(10), |s| {
        s.contains(&format!("the recording stops early: line {number} (byte {byte}) cannot be read"))
    });
    assert!(!screen.contains("end of the recording"), "{screen}");
    t.send(&["q"]);
    let screen = t.wait_for("the exit", Duration::from_secs(10), |s| s.contains("EXIT="));
    let out: String = screen.lines().map(str::trim_end).collect::<Vec<_>>().join("");
    // The same words as the report's, and what was kept; the same exit code.
    let report_words = said.split_once("the recording stops early: ").unwrap().1;
    assert!(out.replace(' ', "").contains(&report_words.replace(' ', "")), "{said}\n{screen}");
    // A line the terminal wrapped at a space loses that space to the
    // join: the words are compared without their spaces, as above.
    assert!(out.replace(' ', "").contains("everythingbeforeitisreplayed") && out.contains("EXIT=0"), "{screen}");
}

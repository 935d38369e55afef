//! A recording made by an earlier build replays and reports as it did
//! then: the same screens at the same instants, the same report.
//!
//! `tests/fixtures/compat/demo.jsonl` is a demo session (the operator's
//! script of `tests/common`, plus an undo, a step, and the panic button)
//! recorded by the build of its commit; beside it, what that build drew
//! and reported of it. A change that moves code around must leave all of
//! it equal. A feature that changes what is drawn or reported brings the
//! expected screens and reports forward from the same recording, its
//! difference read line by line (the lifecycle work: the targets column
//! says `· 2 initial`, and the report gains the rises' likely causes),
//! never the recording itself. The fixture is made once, by
//! `cargo nextest run --test compat --run-ignored only`, which refuses to
//! write over an existing one: a fixture made again by the changed build
//! would prove nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use cutover::keymap::{Key, KeyCode, Keymap};
use cutover::replay::{Player, Viewer};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat")
}

/// The session: twenty minutes of the demo world with everything the
/// console records: steps, a refusal, a handoff with the typed override,
/// an undo, the panic button.
fn script() -> Vec<(i64, Vec<Key>)> {
    let k = Key::char;
    let mut script = common::operator_script();
    script.extend([
        // Undo the 50 -> 75 step, then step again: two confirmations, too soon.
        (600, vec![Key::plain(KeyCode::BackTab), k('r'), k('y')]),
        (700, vec![k(']'), k('y'), k('Y')]),
        // Every route to old.
        (900, vec![k('R'), k('y')]),
    ]);
    script
}

const SECS: i64 = 20 * 60;
/// The screens compared: one every 97 s of the session, at 120x32, and
/// the last.
const EVERY_SECS: i64 = 97;
const SIZE: (u16, u16) = (120, 32);

/// What a viewer of the recording shows at `at` (unix ms), at `SIZE`: the
/// replay's own screen, reached as a person would, with `g` and a time.
fn screens(path: &Path) -> String {
    let player = Player::open(path).unwrap();
    let (start, end) = player.span();
    let mut viewer = Viewer::new(player, Keymap::default(), false);
    // Paused, so the clock is where the keys put it.
    viewer.on_key(Key::char(' '));
    let mut out = String::new();
    let mut at = start;
    loop {
        let time = cutover::replay::to_timestamp(at).strftime("%H:%M:%S").to_string();
        viewer.on_key(Key::char('g'));
        for c in time.chars() {
            viewer.on_key(Key::char(c));
        }
        viewer.on_key(Key::plain(KeyCode::Enter));
        out.push_str(&format!("=== {time} ===\n"));
        out.push_str(&common::draw(SIZE.0, SIZE.1, |f| viewer.render(f)));
        if at >= end {
            break;
        }
        at = (at + EVERY_SECS * 1000).min(end);
    }
    out
}

fn reports(path: &Path) -> [(&'static str, String); 3] {
    let report = cutover::report::from_file_in(path, &cutover::report::Span::default()).unwrap();
    [("report.md", report.markdown()), ("report.json", report.json()), ("report.html", report.html())]
}

#[test]
fn the_earlier_builds_recording_replays_and_reports_as_it_did() {
    let recording = dir().join("demo.jsonl");
    assert!(recording.exists(), "{} is missing: the fixture is committed, never made by the test", recording.display());
    let expected = std::fs::read_to_string(dir().join("screens.txt")).unwrap();
    let drawn = screens(&recording);
    if drawn != expected {
        let first = drawn.lines().zip(expected.lines()).position(|(a, b)| a != b).unwrap_or(0);
        let screen = expected.lines().take(first + 1).filter(|l| l.starts_with("=== ")).last().unwrap_or("?");
        panic!(
            "the replay draws another screen at {screen}, line {}:\n  then: {}\n  now:  {}",
            first + 1,
            expected.lines().nth(first).unwrap_or("(nothing)"),
            drawn.lines().nth(first).unwrap_or("(nothing)")
        );
    }
    for (name, text) in reports(&recording) {
        let expected = std::fs::read_to_string(dir().join(name)).unwrap();
        assert!(text == expected, "{name} differs from the one the earlier build wrote");
    }
}

/// Makes the fixture; never over one that exists.
#[test]
#[ignore = "makes the fixture: run once, by the build the fixture is of"]
fn make_the_fixture() {
    let dir = dir();
    std::fs::create_dir_all(&dir).unwrap();
    let recording = dir.join("demo.jsonl");
    assert!(!recording.exists(), "{} exists: a fixture is made once", recording.display());
    common::record_script(&recording, SECS, &[], &script());
    std::fs::write(dir.join("screens.txt"), screens(&recording)).unwrap();
    for (name, text) in reports(&recording) {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

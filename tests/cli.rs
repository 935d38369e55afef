//! Bad input on the command line: a clear message, exit code 2, and the
//! terminal never taken over.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

fn cutover(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .env("XDG_STATE_HOME", std::env::temp_dir().join("cutover-cli-test-state"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.code().unwrap_or(-1), text)
}

fn keymap_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("cutover-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn unknown_flags_and_commands_exit_2() {
    let (code, text) = cutover(&["demo", "--bogus"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--bogus"), "{text}");
    let (code, text) = cutover(&["takeoff"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("takeoff"), "{text}");
}

#[test]
fn bad_speed_exits_2_and_says_the_range() {
    for bad in ["0", "601", "fast", "-3"] {
        let (code, text) = cutover(&["demo", "--speed", bad]);
        assert_eq!(code, 2, "--speed {bad}: {text}");
        assert!(text.contains("--speed"), "--speed {bad}: {text}");
    }
    let (_, text) = cutover(&["demo", "--speed", "0"]);
    assert!(text.contains("1..=600") || text.contains("1..601"), "{text}");
}

#[test]
fn a_missing_keymap_file_exits_2_naming_it() {
    let (code, text) = cutover(&["demo", "--keymap", "/no/such/keys.toml"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("/no/such/keys.toml") && text.contains("cannot read"), "{text}");
}

#[test]
fn a_malformed_keymap_exits_2_with_file_line_and_column() {
    let path = keymap_file("broken.toml", "quit = [\"q\"]\nhelp = [\"?\"\n");
    let (code, text) = cutover(&["demo", "--keymap", &path]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("{path}:2:")), "{text}");
    assert!(text.contains("not a valid keymap"), "{text}");

    let path = keymap_file("unknown.toml", "# mine\nquit = [\"q\"]\nself_destruct = [\"x\"]\n");
    let (code, text) = cutover(&["demo", "--keymap", &path]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("{path}:3:1: unknown action `self_destruct`")), "{text}");
    assert!(text.contains("known actions:"), "{text}");
}

#[test]
fn without_a_terminal_it_refuses_plainly() {
    let (code, text) = cutover(&["demo"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("needs a terminal"), "{text}");
    assert!(!text.contains('\u{1b}'), "no escape sequences were written: {text:?}");
}

#[test]
fn help_and_version_exit_0() {
    let (code, text) = cutover(&["--help"]);
    assert_eq!(code, 0);
    assert!(text.contains("demo"), "{text}");
    let (code, text) = cutover(&["demo", "--help"]);
    assert_eq!(code, 0);
    assert!(text.contains("--speed") && text.contains("--seed") && text.contains("--keymap"), "{text}");
    assert!(!text.contains("--panic-after"), "test-only flags stay hidden");
}

#[test]
fn watch_and_run_refuse_a_bad_plan_before_touching_the_terminal() {
    for command in ["watch", "run"] {
        let (code, text) = cutover(&[command, "--plan", "/no/such/cutover.toml"]);
        assert_eq!(code, 2, "{command}: {text}");
        assert!(text.contains("/no/such/cutover.toml: cannot read the plan"), "{command}: {text}");
        assert!(!text.contains('\u{1b}'), "no escape sequences: {text:?}");
    }
    let path = keymap_file(
        "plan.toml",
        "name = \"x\"\nnamespaces = [\"app\"]\n[new]\ncontext = \"c\"\n[aws]\nregion = \"r\"\nrolls = 3\n",
    );
    let (code, text) = cutover(&["run", "--dry-run", "--plan", &path]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("{path}:7:1: unknown field `rolls`")), "{text}");
    let (code, text) = cutover(&["run", "--plan"]);
    assert_eq!(code, 2, "a missing value is a usage error: {text}");
}

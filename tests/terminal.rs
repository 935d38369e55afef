//! The demo in a real terminal (tmux): it takes the screen over, draws
//! every panel, and gives the terminal back exactly as it was, after `q`
//! and after a panic alike.
//!
//! Needs tmux (the test harness installs it; see .ci/run).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

mod common;

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_cutover");

/// Whether the screen has `text` as a whole line of output (the typed
/// command line contains the same words, so a substring would lie).
fn has_line(screen: &str, text: &str) -> bool {
    screen.lines().any(|l| l.trim_end() == text)
}

/// The exit code the shell printed as a line `EXIT=<code>`.
fn exit_code(screen: &str) -> Option<i32> {
    screen.lines().find_map(|l| l.trim_end().strip_prefix("EXIT=")?.parse().ok())
}

#[test]
fn the_demo_fills_every_panel_and_q_restores_the_terminal() {
    let t = Tmux::start("quit");
    t.type_line("stty -g > /tmp/cutover-stty-before-$PPID; echo READY");
    let shell = t.wait_for("the shell", Duration::from_secs(5), |s| has_line(s, "READY"));
    let before = t.flag("alternate_on");
    t.type_line(&format!("{BIN} demo; echo EXIT=$?; stty -g | cmp - /tmp/cutover-stty-before-$PPID && echo STTY-SAME"));

    let screen = t.wait_for("all panels filled", Duration::from_secs(10), |s| {
        s.contains("Traffic") && s.contains("req/m") && s.contains("app/api") && s.contains("Events")
    });
    assert_eq!(t.flag("alternate_on"), "1", "the console draws on the alternate screen");
    assert!(screen.contains("DEMO") && screen.contains("eks-2022") && screen.contains("eks-2026"), "{screen}");
    assert!(screen.contains("read 75/25"), "weights are shown: {screen}");

    // Drill-downs and help open and close.
    t.send(&["Down", "Enter"]);
    t.wait_for("the workload drill-down", Duration::from_secs(3), |s| {
        s.contains("app/api deploy") && s.contains("pods")
    });
    t.send(&["Escape", "BTab", "Enter"]);
    t.wait_for("the route drill-down", Duration::from_secs(3), |s| {
        s.contains("requests / min") && s.contains("target health")
    });
    t.send(&["Escape", "?"]);
    t.wait_for("help", Duration::from_secs(3), |s| s.contains("keymap: default"));
    t.send(&["?"]);

    t.send(&["q"]);
    let after = t.wait_for("exit", Duration::from_secs(5), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(0), "{after}");
    let after = t.wait_for("the stty check", Duration::from_secs(2), |s| has_line(s, "STTY-SAME"));
    assert_eq!(t.flag("alternate_on"), before, "back on the main screen");
    assert_eq!(t.flag("cursor_flag"), "1", "cursor visible again");
    // Everything the shell had printed before the console started is
    // still there, line for line: the console drew on its own screen.
    let kept: Vec<&str> = shell.lines().map(str::trim_end).take_while(|l| !l.is_empty()).collect();
    let (prompt, printed) = kept.split_last().unwrap();
    let now: Vec<&str> = after.lines().map(str::trim_end).collect();
    assert_eq!(&now[..printed.len()], printed, "the shell's screen is as it was:\n{after}");
    assert!(now[printed.len()].starts_with(prompt), "{after}");
}

#[test]
fn a_panic_restores_the_terminal_and_reports_the_error() {
    let t = Tmux::start("panic");
    t.type_line("stty -g > /tmp/cutover-stty-panic-$PPID; echo READY");
    t.wait_for("the shell", Duration::from_secs(5), |s| has_line(s, "READY"));
    t.type_line(&format!(
        "{BIN} demo --panic-after 1 2>/tmp/cutover-panic-$PPID.txt; echo EXIT=$?; stty -g | cmp - /tmp/cutover-stty-panic-$PPID && echo STTY-SAME; grep -m1 -o 'The application panicked' /tmp/cutover-panic-$PPID.txt; grep -m1 -o 'deliberate crash' /tmp/cutover-panic-$PPID.txt"
    ));
    let after = t.wait_for("the crash", Duration::from_secs(10), |s| has_line(s, "deliberate crash"));
    assert_eq!(exit_code(&after), Some(101), "a crash is not a success: {after}");
    assert!(has_line(&after, "STTY-SAME"), "terminal modes restored: {after}");
    assert_eq!(t.flag("alternate_on"), "0");
    assert_eq!(t.flag("cursor_flag"), "1");
    assert!(has_line(&after, "The application panicked"), "color-eyre reported it: {after}");
}

//! The demo in a real terminal (tmux): it takes the screen over, draws
//! every panel, and gives the terminal back exactly as it was, after `q`
//! and after a panic alike; and an escape sequence the terminal splits or
//! merges with a key never becomes an action.
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
    assert_eq!(t.flag("mouse_any_flag"), "0", "the mouse given back");
    assert!(has_line(&after, "The application panicked"), "color-eyre reported it: {after}");
}

/// The percentages of the step proposal on screen, `25% → 50%` as (25, 50).
fn proposed_step(screen: &str) -> Option<(u32, u32)> {
    let line = screen.lines().find(|l| l.contains(" PROPOSAL: route "))?;
    let (from, to) = line.split_once(" → ")?;
    let from = from.rsplit(' ').next()?.strip_suffix('%')?.parse().ok()?;
    let to = to.split('%').next()?.parse().ok()?;
    Some((from, to))
}

const HELP: &str = "keymap: default";

/// Bytes written to the console's terminal as one tmux command line (`;`
/// separates commands), then a pause, as `Tmux::send` keeps keys apart.
fn send_raw(t: &Tmux, args: &[&str]) {
    let mut full = vec!["send-keys", "-t", "t"];
    full.extend_from_slice(args);
    t.run(&full);
    std::thread::sleep(Duration::from_millis(150));
}

/// Opens the help with `?`, a key with a visible effect sent after the
/// ones under test: keys are applied in order, so once the help shows,
/// they have all been applied, and had one opened a proposal, the proposal
/// would have swallowed the `?` and be on screen instead.
fn help_shows_and_no_proposal(t: &Tmux, after: &str) {
    t.send(&["?"]);
    let screen =
        t.wait_for("the help (or a proposal)", Duration::from_secs(5), |s| s.contains(HELP) || s.contains("PROPOSAL"));
    assert!(!screen.contains("PROPOSAL"), "{after} opened a proposal:\n{screen}");
    t.send(&["Escape"]);
    t.wait_for("the help to close", Duration::from_secs(3), |s| !s.contains(HELP));
}

#[test]
fn an_escape_sequence_split_or_merged_by_the_terminal_proposes_nothing() {
    let t = Tmux::start("escapes");
    t.type_line(&format!("{BIN} demo; echo EXIT=$?"));
    t.wait_for("all panels filled", Duration::from_secs(10), |s| {
        s.contains("Traffic") && s.contains("read 75/25") && s.contains("Events")
    });

    // ↓ cut after its Esc, as tmux or a slow link may deliver it: `ESC`
    // alone, then `[B` 10 ms later, written by the tmux server (no client
    // start in between, so the gap is the timer's). crossterm reads Esc,
    // `[`, `B`; the Esc closes the help, the `[` must not propose a step.
    t.send(&["?"]);
    t.wait_for("the help", Duration::from_secs(3), |s| s.contains(HELP));
    send_raw(&t, &["-H", "1b", ";", "run-shell", "-C", "-d", "0.01", "send-keys -t t -H 5b 42"]);
    t.wait_for("the Esc to close the help", Duration::from_secs(3), |s| !s.contains(HELP));
    help_shows_and_no_proposal(&t, "ESC | [B");

    // Esc then ↓ at once, `ESC` `ESC [ B` in one write: crossterm reads the
    // two Escs as one Esc key and the rest as `[`, `B`, whatever the timing.
    t.send(&["?"]);
    t.wait_for("the help", Duration::from_secs(3), |s| s.contains(HELP));
    send_raw(&t, &["-H", "1b", "1b", "5b", "42"]);
    t.wait_for("the Esc to close the help", Duration::from_secs(3), |s| !s.contains(HELP));
    help_shows_and_no_proposal(&t, "ESC ESC [ B");

    // Esc and `]` in one read: Alt-], bound to nothing, so nothing.
    send_raw(&t, &["-H", "1b", "5d"]);
    help_shows_and_no_proposal(&t, "ESC ]");

    // A `]` typed on its own is a step up.
    t.send(&["]"]);
    let screen = t.wait_for("the step-up proposal", Duration::from_secs(3), |s| s.contains("PROPOSAL"));
    let (from, to) = proposed_step(&screen).unwrap_or_else(|| panic!("a step proposal:\n{screen}"));
    assert!(to > from, "`]` proposes a step up, not down: {from}% → {to}%\n{screen}");

    t.send(&["n", "q"]);
    let after = t.wait_for("exit", Duration::from_secs(5), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(0), "{after}");
}

/// The workload a drill-down shows, from its first line (`ns/name kind`
/// at the left edge; the rows of the main screen's table are in a border).
fn drilled_into(screen: &str) -> Option<String> {
    screen.lines().find_map(|l| {
        let l = l.trim_end();
        if l.starts_with([' ', '│']) {
            return None;
        }
        let (name, kind) = l.split_once(' ')?;
        (name.contains('/') && ["deploy", "sts", "cron", "job"].contains(&kind.split_whitespace().next()?))
            .then(|| name.to_string())
    })
}

/// Presses `keys` (raw bytes or tmux key names), then Enter; returns the
/// workload opened, and goes back.
fn open_after(t: &Tmux, what: &str, keys: &[&str]) -> String {
    send_raw(t, keys);
    t.send(&["Enter"]);
    let screen =
        t.wait_for(&format!("a drill-down after {what}"), Duration::from_secs(3), |s| drilled_into(s).is_some());
    t.send(&["Escape"]);
    t.wait_for("the main screen", Duration::from_secs(3), |s| drilled_into(s).is_none());
    drilled_into(&screen).unwrap()
}

#[test]
fn home_end_and_page_keys_work_in_every_encoding_terminals_send() {
    let (_, app) = common::demo(5);
    let keys: Vec<String> = app.workload_keys().iter().map(ToString::to_string).collect();
    let (first, last, page) = (keys[0].clone(), keys[keys.len() - 1].clone(), keys[10].clone());
    let t = Tmux::start("homeend");
    t.type_line(&format!("{BIN} demo; echo EXIT=$?"));
    t.wait_for("all panels filled", Duration::from_secs(10), |s| s.contains("read 75/25") && s.contains("Events"));

    // tmux's own Home/End/PPage/NPage (what it sends for the keys of the
    // terminal it runs in), then each encoding xterm, VT220, rxvt and the
    // Linux console use, written as raw bytes.
    assert_eq!(open_after(&t, "End", &["End"]), last);
    assert_eq!(open_after(&t, "Home", &["Home"]), first);
    assert_eq!(open_after(&t, "PageDown", &["NPage"]), page);
    assert_eq!(open_after(&t, "PageUp", &["PPage"]), first);
    for (name, end, home) in [
        ("CSI F/H (xterm)", "1b 5b 46", "1b 5b 48"),
        ("SS3 F/H (xterm application mode)", "1b 4f 46", "1b 4f 48"),
        ("CSI 4~/1~ (VT220, tmux, screen)", "1b 5b 34 7e", "1b 5b 31 7e"),
        ("CSI 8~/7~ (rxvt)", "1b 5b 38 7e", "1b 5b 37 7e"),
    ] {
        let bytes = |hex: &str| -> Vec<String> { hex.split(' ').map(str::to_string).collect() };
        let mut end_args = vec!["-H".to_string()];
        end_args.extend(bytes(end));
        let end_args: Vec<&str> = end_args.iter().map(String::as_str).collect();
        assert_eq!(open_after(&t, &format!("End as {name}"), &end_args), last, "{name}");
        let mut home_args = vec!["-H".to_string()];
        home_args.extend(bytes(home));
        let home_args: Vec<&str> = home_args.iter().map(String::as_str).collect();
        assert_eq!(open_after(&t, &format!("Home as {name}"), &home_args), first, "{name}");
    }
    assert_eq!(open_after(&t, "CSI 6~", &["-H", "1b", "5b", "36", "7e"]), page);
    assert_eq!(open_after(&t, "CSI 5~", &["-H", "1b", "5b", "35", "7e"]), first);
    help_shows_and_no_proposal(&t, "the movement keys");
    t.send(&["q"]);
    let after = t.wait_for("exit", Duration::from_secs(5), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(0), "{after}");
}

/// Where `needle` is on the screen, as the 1-based column and row a
/// terminal reports a mouse press at.
fn mouse_cell(screen: &str, needle: &str) -> (usize, usize) {
    for (y, line) in screen.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            return (line[..byte].chars().count() + 1, y + 1);
        }
    }
    panic!("`{needle}` not on the screen:\n{screen}");
}

/// `presses` left presses and releases at (column, row), as SGR mouse
/// reports, in one write: two of them are a double click however slowly
/// this machine starts a tmux client (two writes could land more than the
/// 400 ms of a double click apart on a loaded machine).
fn click(t: &Tmux, (x, y): (usize, usize), presses: usize) {
    let report = format!("\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m").repeat(presses);
    let mut args = vec!["send-keys".to_string(), "-t".into(), "t".into(), "-H".into()];
    args.extend(report.bytes().map(|b| format!("{b:02x}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    t.run(&args);
}

#[test]
fn a_filter_typed_and_a_double_click_in_the_terminal_and_the_mouse_given_back() {
    let t = Tmux::start("find");
    t.type_line(&format!("{BIN} demo; echo EXIT=$?"));
    let screen = t.wait_for("all panels filled", Duration::from_secs(10), |s| {
        s.contains("read 75/25") && s.contains("batch/sidekiq-mailers")
    });
    assert_eq!(t.flag("mouse_any_flag"), "1", "the console takes the mouse");

    // A word full of action keys, typed into the filter line.
    t.send(&["/"]);
    t.run(&["send-keys", "-t", "t", "-l", "mailers"]);
    let filtered = t.wait_for("the filter", Duration::from_secs(3), |s| s.contains("/mailers▏"));
    assert!(!filtered.contains("PROPOSAL"), "{filtered}");
    assert!(filtered.contains("batch/sidekiq-mailers") && !filtered.contains("app/api "), "{filtered}");
    t.send(&["Escape"]);
    t.wait_for("the filter cleared", Duration::from_secs(3), |s| s.contains("app/api") && !s.contains("/mailers"));

    // Two presses on a row: the drill-down of that row.
    let at = mouse_cell(&screen, "batch/sidekiq-mailers");
    click(&t, at, 2);
    let opened = t.wait_for("the drill-down", Duration::from_secs(3), |s| drilled_into(s).is_some());
    assert_eq!(drilled_into(&opened).as_deref(), Some("batch/sidekiq-mailers"), "{opened}");
    t.send(&["Escape", "q"]);
    let after = t.wait_for("exit", Duration::from_secs(5), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(0), "{after}");
    assert_eq!(t.flag("mouse_any_flag"), "0", "the mouse is the terminal's again");

    // --no-mouse leaves it to the terminal throughout.
    t.type_line(&format!("clear; {BIN} demo --no-mouse; echo EXIT=$?"));
    t.wait_for("all panels filled", Duration::from_secs(10), |s| s.contains("read 75/25"));
    assert_eq!(t.flag("mouse_any_flag"), "0");
    t.send(&["q"]);
    t.wait_for("exit", Duration::from_secs(5), |s| exit_code(s).is_some());
}

/// SIGINT sent to the demo (not Ctrl-C typed, which is a key): the
/// terminal is given back and the exit code is 130; a crash ends the
/// recording with a line that says so, which the report tells.
#[test]
fn sigint_gives_the_terminal_back_and_a_crash_is_the_recordings_last_line() {
    let t = Tmux::start("sigint");
    let dir = std::env::temp_dir().join(format!("cutover-terminal-sigint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("int.jsonl");
    let _ = std::fs::remove_file(&record);
    t.type_line(&format!("{BIN} demo --record {}; echo EXIT=$?", record.display()));
    t.wait_for("the demo", Duration::from_secs(10), |s| s.contains("read 75/25"));
    assert_eq!(t.flag("mouse_any_flag"), "1");
    let pids = std::process::Command::new("pgrep").args(["-f", &format!("record {}", record.display())]).output();
    let pid = String::from_utf8_lossy(&pids.unwrap().stdout).lines().next().expect("the demo's pid").to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let after = t.wait_for("exit", Duration::from_secs(10), |s| exit_code(s).is_some());
    assert_eq!(exit_code(&after), Some(130), "{after}");
    assert_eq!(t.flag("alternate_on"), "0");
    assert_eq!(t.flag("mouse_any_flag"), "0");
    assert!(after.contains("stopped by SIGINT (exit code 130)"), "{after}");
    let rec = cutover::record::read(&record).unwrap();
    let last = &rec.entries.last().unwrap().m;
    assert_eq!(*last, cutover::app::Msg::Ended(cutover::app::Ending::Signal(cutover::app::Signal::Interrupt)));

    let crashed = dir.join("crash.jsonl");
    let _ = std::fs::remove_file(&crashed);
    t.type_line(&format!(
        "clear; {BIN} demo --panic-after 1 --record {} 2>/dev/null; echo CRASHED=$?",
        crashed.display()
    ));
    let after = t.wait_for("the crash", Duration::from_secs(10), |s| has_line(s, "CRASHED=101"));
    assert!(!after.contains("EXIT="), "{after}");
    let rec = cutover::record::read(&crashed).unwrap();
    assert!(rec.stopped.is_none(), "{:?}", rec.stopped);
    match &rec.entries.last().unwrap().m {
        cutover::app::Msg::Ended(cutover::app::Ending::Crash(why)) => {
            assert!(why.contains("deliberate crash"), "{why}")
        }
        other => panic!("the last line says it crashed, not {other:?}"),
    }
    let out = std::process::Command::new(BIN).arg("report").arg(&crashed).output().unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    let row = md.lines().find(|l| l.starts_with("| Recording |")).unwrap();
    assert!(row.starts_with("| Recording | CRASHED at ") && row.contains("deliberate crash"), "{row}");

    // A replay stops on a signal too, and gives the terminal back.
    t.type_line(&format!("clear; {BIN} replay {}; echo REPLAY=$?", record.display()));
    t.wait_for("the replay", Duration::from_secs(10), |s| s.contains("REPLAY of DEMO"));
    let pids = std::process::Command::new("pgrep").args(["-f", &format!("replay {}", record.display())]).output();
    let pid = String::from_utf8_lossy(&pids.unwrap().stdout).lines().next().expect("the replay's pid").to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    t.wait_for("the replay's exit", Duration::from_secs(10), |s| has_line(s, "REPLAY=129"));
    assert_eq!(t.flag("alternate_on"), "0");
    assert_eq!(t.flag("mouse_any_flag"), "0");
}

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

/// The command line as clap defines it: every visible subcommand, and for
/// each its visible long flags (globals included).
fn definitions() -> Vec<(String, Vec<String>)> {
    let mut cmd = <cutover::cli::Cli as clap::CommandFactory>::command();
    cmd.build();
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .map(|c| {
            let flags = c.get_arguments().filter(|a| !a.is_hide_set()).filter_map(|a| a.get_long()).map(String::from);
            (c.get_name().to_string(), flags.collect())
        })
        .collect()
}

fn stdout_of(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover")).args(args).stdin(Stdio::null()).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn every_help_lists_every_visible_flag() {
    let defined = definitions();
    assert!(defined.iter().any(|(c, flags)| c == "demo" && flags.iter().any(|f| f == "scale")), "{defined:?}");
    for (command, flags) in &defined {
        let (code, text) = cutover(&[command, "--help"]);
        assert_eq!(code, 0, "{command}: {text}");
        for flag in flags {
            assert!(text.contains(&format!("--{flag}")), "`{command} --help` lacks --{flag}:\n{text}");
        }
    }
    // The key bindings belong to the commands that draw the console.
    let (_, text) = cutover(&["check", "--help"]);
    assert!(!text.contains("--keymap"), "{text}");
    assert!(text.contains("Exit codes: 0 every check passed"), "{text}");
}

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    let commands: Vec<String> = definitions().into_iter().map(|(c, _)| c).collect();
    for shell in ["bash", "zsh", "fish"] {
        let (code, script) = stdout_of(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(script.contains("cutover"), "{shell}: {script}");
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell} completion lacks `{command}`");
        }
        // A flag of a subcommand, to be sure they are completed too.
        assert!(script.contains("scale"), "{shell} completion lacks demo's --scale");
    }
    let (_, bash) = stdout_of(&["completions", "bash"]);
    assert!(bash.contains("complete -F _cutover"), "a bash completion function is registered");
    let (_, zsh) = stdout_of(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef cutover"), "zsh loads it by its first line");
    let (_, fish) = stdout_of(&["completions", "fish"]);
    assert!(fish.contains("complete -c cutover"), "fish");
}

#[test]
fn a_bad_shell_name_exits_2_naming_the_shells() {
    let (code, text) = cutover(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("invalid value 'tcsh'") && text.contains("bash") && text.contains("zsh"), "{text}");
    let (code, text) = cutover(&["completions"]);
    assert_eq!(code, 2, "a missing shell is a usage error: {text}");
}

/// roff escapes `-` in option names: `--no-record` is `\-\-no\-record`.
fn roff(flag: &str) -> String {
    format!("\\fB{}\\fR", format!("--{flag}").replace('-', "\\-"))
}

#[test]
fn the_man_pages_are_roff_naming_every_subcommand_and_flag() {
    let defined = definitions();
    let (code, page) = stdout_of(&["man"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH cutover 1"), "a man page header: {page}");
    assert!(page.contains(".SH SYNOPSIS") && page.contains(".SH OPTIONS") && page.contains(".SH SUBCOMMANDS"));
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    assert!(page.contains(&roff("log")), "the global flag: {page}");
    for (command, _) in &defined {
        assert!(page.contains(&format!("cutover\\-{}(1)", command.replace('-', "\\-"))), "`{command}` in:\n{page}");
    }
    assert!(!page.contains("cutover\\-help(1)"), "no page is pointed at that does not exist");
    for (command, flags) in &defined {
        let (code, page) = stdout_of(&["man", command]);
        assert_eq!(code, 0, "{command}");
        assert!(page.contains(&format!(".TH cutover-{command} 1")), "{command}: {page}");
        assert!(page.contains(&format!("\\fBcutover {command}\\fR")), "{command}'s synopsis: {page}");
        for flag in flags {
            assert!(page.contains(&roff(flag)), "cutover-{command}(1) lacks --{flag}:\n{page}");
        }
    }
    let (code, text) = cutover(&["man", "takeoff"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no man page for `takeoff`: the commands are demo, run"), "{text}");
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

#[test]
fn a_bad_share_url_or_credentials_file_exits_2_before_the_terminal_matters() {
    let (code, text) = cutover(&["demo", "--share", "http://user:hunter2@broker:4222"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--share http://***@broker:4222: not a NATS URL"), "{text}");
    assert!(!text.contains("hunter2"), "the password is never said: {text}");
    let (code, text) = cutover(&["demo", "--share", "nats://127.0.0.1:4222", "--nats-creds", "/no/such/user.creds"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--nats-creds /no/such/user.creds"), "{text}");
    let (code, text) = cutover(&["demo", "--share", "nats://127.0.0.1:4222", "--share-max-age", "7 days"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--share-max-age"), "{text}");
    // Sharing publishes the recording's lines: there is none without one.
    let (code, text) = cutover(&["demo", "--share", "nats://127.0.0.1:4222", "--no-record"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("--no-record") && text.contains("--share"), "{text}");
}

#[test]
fn share_without_a_url_takes_nats_url_and_says_when_it_is_not_set() {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["demo", "--share"])
        .env_remove("NATS_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("$NATS_URL, which is not set"), "{text}");
}

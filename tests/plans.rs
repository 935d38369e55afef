//! Plans that read well and would still hurt, against the real peers:
//! both sides one cluster (one context, one API server, one kube-system
//! UID), a rule or listener that does not exist, and keymaps that leave an
//! essential action without a key. Each is refused by `check`, `watch` and
//! `run` (and the keymap by every console) with the file, the line and
//! what to write, exit code 2, and nothing is written anywhere.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::peers::Peers;

fn cutover(peers: &Peers, args: &[&str]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
    command
        .args(args)
        .arg("--log")
        .arg(peers.dir.join("cutover.log"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("XDG_STATE_HOME", peers.dir.join("state"));
    let out = command.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// `check`, `watch` and `run` on one plan, each with its exit code and words.
fn all_three(peers: &Peers, plan: &Path) -> [(&'static str, i32, String); 3] {
    let p = plan.to_str().unwrap();
    ["check", "watch", "run"].map(|command| {
        let (code, text) = cutover(peers, &[command, "--plan", p]);
        (command, code, text)
    })
}

fn variant(peers: &Peers, name: &str, change: impl Fn(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(peers.plan_path()).unwrap();
    let changed = change(&text);
    assert_ne!(changed, text, "the variant {name} changes the plan");
    let path = peers.dir.join(format!("{name}.toml"));
    std::fs::write(&path, changed).unwrap();
    path
}

/// The 1-based line of the first line of `path` that starts with `prefix`.
fn line_of(path: &Path, prefix: &str, nth: usize) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().enumerate().filter(|(_, l)| l.starts_with(prefix)).nth(nth).unwrap().0 + 1
}

fn no_writes(peers: &Peers) {
    let mutating = peers.mutating_requests();
    assert!(mutating.is_empty(), "a refused plan writes nothing: {mutating:#?}");
}

#[test]
fn one_cluster_on_both_sides_is_refused_by_check_watch_and_run() {
    let peers = Peers::start("realistic");

    // The Why's plan: [new] names [old]'s context, in the same kubeconfig.
    let path = variant(&peers, "same-context", |p| p.replacen("context = \"eks-new\"", "context = \"eks-old\"", 1));
    let line = line_of(&path, "context = ", 1);
    for (command, code, text) in all_three(&peers, &path) {
        assert_eq!(code, 2, "{command}: {text}");
        assert!(
            text.contains(&format!(
                "{}:{line}:11: [new] context `eks-old` is [old]'s context (line {}) in the same kubeconfig",
                path.display(),
                line_of(&path, "context = ", 0)
            )),
            "{command}: {text}"
        );
        assert!(text.contains("hint: give [new] the new cluster's context"), "{command}: {text}");
    }

    // Two contexts of the kubeconfig that name one API server.
    let kubeconfig = peers.dir.join("kubeconfig");
    let config = std::fs::read_to_string(&kubeconfig).unwrap();
    let alias = peers.dir.join("kubeconfig-alias");
    std::fs::write(
        &alias,
        config.replace(
            "contexts:\n",
            "contexts:\n- name: eks-new-admin\n  context:\n    cluster: eks-new\n    user: test\n",
        ),
    )
    .unwrap();
    let path = variant(&peers, "same-server", |p| {
        p.replace(
            &format!("kubeconfig = \"{}\"", kubeconfig.display()),
            &format!("kubeconfig = \"{}\"", alias.display()),
        )
        .replacen("context = \"eks-old\"", "context = \"eks-new-admin\"", 1)
    });
    let server = format!("{}/", peers.new.trim_end_matches('/'));
    for (command, code, text) in all_three(&peers, &path) {
        assert_eq!(code, 2, "{command}: {text}");
        assert!(
            text.contains(&format!(
                "{}:{}:11: [new] context `eks-new` and [old] context `eks-new-admin` (line 5) both reach the API server {server}: both sides would be one cluster",
                path.display(),
                line_of(&path, "context = ", 1)
            )),
            "{command}: {text}"
        );
        assert!(text.contains("hint: point [new] at the new cluster's context"), "{command}: {text}");
    }

    // Two servers in the kubeconfig, one cluster behind them: once
    // connected, new's kube-system is old's (the same uid).
    let old_ns = peers.get("/kube/old/object?resource=v1/namespaces&name=kube-system");
    let mut new_ns = peers.get("/kube/new/object?resource=v1/namespaces&name=kube-system");
    assert_ne!(old_ns["metadata"]["uid"], new_ns["metadata"]["uid"], "the harness's clusters are two");
    let (code, text) = cutover(&peers, &["watch", "--plan", peers.plan_path().to_str().unwrap()]);
    assert!(code == 2 && text.contains("needs a terminal"), "two clusters pass the start: {text}");
    new_ns["metadata"]["uid"] = old_ns["metadata"]["uid"].clone();
    let stored = peers.post("/kube/new/apply?keep_identity=false", new_ns);
    assert_eq!(stored["metadata"]["uid"], old_ns["metadata"]["uid"]);
    let uid = old_ns["metadata"]["uid"].as_str().unwrap();
    let path = peers.plan_path();
    for (command, code, text) in all_three(&peers, &path) {
        assert_eq!(code, 2, "{command}: {text}");
        assert!(
            text.contains(&format!(
                "{}:{}:11: [new] context `eks-new` reaches the same cluster as [old] context `eks-old` (line 5): namespace kube-system has the same uid {uid} on both",
                path.display(),
                line_of(&path, "context = ", 1)
            )),
            "{command}: {text}"
        );
        assert!(!text.contains("all checks passed"), "{command}: {text}");
    }
    no_writes(&peers);
}

#[test]
fn a_rule_or_listener_that_does_not_exist_is_refused_at_the_start_of_watch_and_run() {
    let peers = Peers::start("realistic");
    let plan = std::fs::read_to_string(peers.plan_path()).unwrap();
    let rule = plan.lines().find_map(|l| l.strip_prefix("rule_arn = \"")).unwrap().trim_end_matches('"').to_string();
    let gone = format!("{}/0000000000000000", rule.rsplit_once('/').unwrap().0);
    let path = variant(&peers, "no-rule", |p| p.replace(&rule, &gone));
    let line = line_of(&path, "rule_arn = ", 0);
    for (command, code, text) in all_three(&peers, &path) {
        let said = if command == "check" {
            format!("{}:{line}: rule_arn …/0000000000000000 does not exist (RuleNotFound)", path.display())
        } else {
            format!(
                "{}:{line}: route `admin`: rule_arn {gone} does not exist in this account and region (RuleNotFound)",
                path.display()
            )
        };
        assert!(text.contains(&said), "{command}: {text}");
        assert!(text.contains("aws elbv2 describe-rules"), "{command}: {text}");
        if command == "check" {
            assert!(text.lines().all(|l| l.chars().count() <= 200), "one short line: {text}");
            // A check that fails, said on the route's line, as for records.
            assert_eq!(code, 1, "{text}");
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with("FAIL") && l.contains("alb admin") && l.contains(&said)),
                "{text}"
            );
            assert!(
                text.contains("alb api") && text.contains("old target group api-old"),
                "the api route is still checked: {text}"
            );
        } else {
            assert_eq!(code, 2, "{command}: {text}");
            assert!(!text.contains("needs a terminal"), "refused before the terminal matters: {text}");
        }
    }

    let listener = plan.lines().find_map(|l| l.strip_prefix("listener_arn = \"")).unwrap().trim_end_matches('"');
    let no_listener = format!("{}/0000000000000000", listener.rsplit_once('/').unwrap().0);
    // The api route's listener alone (the admin route keeps its own rule).
    let path = variant(&peers, "no-listener", |p| {
        p.replacen(&format!("listener_arn = \"{listener}\""), &format!("listener_arn = \"{no_listener}\""), 1)
    });
    let (code, text) = cutover(&peers, &["watch", "--plan", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(&format!(
            "{}:{}: route `api`: listener_arn {no_listener} does not exist in this account and region (ListenerNotFound)",
            path.display(),
            line_of(&path, "listener_arn = ", 0)
        )),
        "{text}"
    );
    // An ALB that does not answer is the source's trouble, not the plan's:
    // the start goes on (and stops here only for want of a terminal).
    peers.aws_fault(
        serde_json::json!({"ops": ["DescribeRules", "DescribeListeners"], "status": 503, "code": "ServiceUnavailable"}),
    );
    let (code, text) = cutover(&peers, &["watch", "--plan", peers.plan_path().to_str().unwrap()]);
    assert!(code == 2 && text.contains("needs a terminal"), "{text}");
    no_writes(&peers);
}

#[test]
fn a_keymap_without_confirm_or_with_quit_taken_by_the_replay_is_refused_by_every_console() {
    let peers = Peers::start("empty");
    let keys = peers.dir.join("keys.toml");
    // The Why's keymap: `y` for another action, so no proposal could be applied.
    std::fs::write(&keys, "# mine\ncancel = [\"n\", \"y\"]\n").unwrap();
    let k = keys.to_str().unwrap();
    let plan = peers.plan_path();
    let p = plan.to_str().unwrap();
    for args in [
        vec!["demo", "--keymap", k],
        vec!["run", "--plan", p, "--keymap", k],
        vec!["watch", "--plan", p, "--keymap", k],
    ] {
        let (code, text) = cutover(&peers, &args);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(
            text.contains(&format!("keymap: {k}:2:16: key `y` for `cancel` leaves `confirm` without a key")),
            "{args:?}: {text}"
        );
        assert!(
            text.contains("hint: give `confirm` a key of its own in this file too, e.g. confirm = [\"y\"]"),
            "{text}"
        );
    }
    std::fs::write(&keys, "[replay]\nplay_pause = [\"space\", \"q\"]\nfaster = [\">\", \"ctrl-c\"]\n").unwrap();
    let (code, text) = cutover(&peers, &["demo", "--keymap", k]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(&format!("{k}:3:")) && text.contains("leaves `quit` without a key in a replay"), "{text}");
}

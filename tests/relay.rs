//! `cutover relay`, the real binary with no terminal, against the peers
//! (moto behind the logging proxy, two kmock APIs) and a real
//! `nats-server`: what it publishes, how it stops, what it refuses, and
//! that it only ever reads. Also the example manifest in `deploy/`.
//!
//! Waits are generous upper bounds for a loaded 2-core machine, not speed
//! goals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::zombie_processes)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream::Stream};
use common::nats::Nats;
use common::peers::{Peers, fake_aws_credentials};
use cutover::record::{self, Header, Kind};
use cutover::share::{self, Heartbeat, KeyframeAt};

const WAIT: Duration = Duration::from_secs(60);

/// The relay as a Deployment runs it: stdin closed, stdout and stderr not
/// a terminal (stderr kept in a file to read).
struct Relay {
    child: Child,
    stderr: PathBuf,
}

impl Relay {
    fn start(dir: &Path, args: &[&str]) -> Relay {
        let stderr = dir.join(format!("relay-{}.stderr", common::peers::unique()));
        let child = Command::new(env!("CARGO_BIN_EXE_cutover"))
            .arg("relay")
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("HOSTNAME", "relay-pod-0")
            .env_remove("NATS_URL")
            .env_remove("NATS_CREDS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("starting cutover relay");
        Relay { child, stderr }
    }

    fn said(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until stderr holds `text`.
    fn until_said(&mut self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let said = self.said();
            if said.contains(text) {
                return said;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the relay exited ({status}) before saying {text:?}:\n{said}");
            }
            assert!(Instant::now() < deadline, "the relay did not say {text:?} within {WAIT:?}:\n{said}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The session's log subject, from the "relay started" line.
    fn subject(&mut self) -> String {
        let said = self.until_said("relay started");
        // `subject`, not `session`: the log is scrubbed, and a `session=`
        // value reads as a secret there.
        let start = said.find("subject=").expect("the session is named") + "subject=".len();
        said[start..].split_whitespace().next().unwrap().to_string()
    }

    /// Sends a signal and waits for the exit code.
    fn stop(&mut self, signal: &str) -> i32 {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the relay did not exit within 30 s of SIG{signal}:\n{}", self.said());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn open_stream(url: &str) -> Stream {
    let client = async_nats::connect(url).await.unwrap();
    jetstream::new(client).get_stream(share::DEFAULT_STREAM).await.unwrap()
}

/// Every message of a subject in stream order, with its sequence (the
/// relay's lines fit one message each: no parts).
async fn read_subject(stream: &Stream, subject: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut seq = 1;
    loop {
        let m = match stream.get_first_raw_message_by_subject(subject, seq).await {
            Ok(m) => m,
            Err(e) if e.to_string().contains("no message found") => return out,
            Err(e) => panic!("reading {subject} from {seq}: {e}"),
        };
        assert!(m.headers.get(share::PART_HEADER).is_none(), "a line in parts at {}", m.sequence);
        seq = m.sequence + 1;
        out.push((m.sequence, String::from_utf8(m.payload.to_vec()).unwrap()));
    }
}

async fn last_on(stream: &Stream, subject: &str) -> Option<String> {
    let m = stream.get_last_raw_message_by_subject(subject).await.ok()?;
    Some(String::from_utf8(m.payload.to_vec()).unwrap())
}

/// Waits until the stream holds the session's keyframe pointer and a
/// heartbeat naming a log line at or past it: the relay read both
/// clusters and published what it read.
async fn until_keyframe_and_heartbeat(relay: &mut Relay, url: &str, subjects: &share::Subjects) -> KeyframeAt {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = relay.child.try_wait().unwrap() {
            panic!("the relay exited ({status}):\n{}", relay.said());
        }
        let stream = async_nats::connect(url).await.ok().map(jetstream::new);
        let stream = match stream {
            Some(js) => js.get_stream(share::DEFAULT_STREAM).await.ok(),
            None => None,
        };
        if let Some(stream) = stream
            && let (Some(k), Some(hb)) =
                (last_on(&stream, &subjects.keyframe).await, last_on(&stream, &subjects.heartbeat).await)
        {
            let k: KeyframeAt = serde_json::from_str(&k).unwrap();
            let hb: Heartbeat = serde_json::from_str(&hb).unwrap();
            if hb.last >= k.seq {
                return k;
            }
        }
        assert!(Instant::now() < deadline, "no keyframe and heartbeat within {WAIT:?}:\n{}", relay.said());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The session's name from its log subject, `cutover.<plan>.<session>.log`.
fn subjects_of(log: &str) -> share::Subjects {
    let parts: Vec<&str> = log.split('.').collect();
    assert_eq!((parts.len(), parts[0], parts[3]), (4, "cutover", "log"), "{log}");
    share::Subjects::new(parts[1], parts[2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_what_it_reads_only_reads_and_ends_cleanly_on_sigterm() {
    // SAFETY: first thing in the test's process (nextest runs one test per
    // process), before any thread; the harness inherits it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PEERS_ROUTE53", "1");
    }
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let nats = Nats::start();
    let local = peers.dir.join("relay.jsonl");
    let plan = peers.plan_path().to_string_lossy().into_owned();
    let mut relay =
        Relay::start(&peers.dir, &["--plan", &plan, "--share", &nats.url(), "--record", &local.to_string_lossy()]);
    let log_subject = relay.subject();
    let subjects = subjects_of(&log_subject);
    assert_eq!(subjects.log, log_subject);
    assert!(log_subject.starts_with("cutover.photo-api-2026.relay."), "named after its recording: {log_subject}");
    let started = relay.said();
    assert!(started.contains(&format!("broker={}", nats.url())), "{started}");
    let k = until_keyframe_and_heartbeat(&mut relay, &nats.url(), &subjects).await;
    relay.until_said("source live");

    assert_eq!(relay.stop("TERM"), 0, "{}", relay.said());
    let said = relay.said();
    assert!(said.contains("SIGTERM: stopping"), "{said}");
    let stopped = said.lines().find(|l| l.contains("relay stopped: ")).unwrap_or_else(|| panic!("no summary: {said}"));
    for part in ["messages", "sources:", "k8s old live", "k8s new live", "alb live", "dns live", "metrics live"] {
        assert!(stopped.contains(part), "{part:?} missing from the summary: {stopped}");
    }

    // The stream is the recording, line for line, header first; `.k`
    // points at a keyframe line of it; `.end` closes it.
    let stream = open_stream(&nats.url()).await;
    let log = read_subject(&stream, &subjects.log).await;
    let lines: Vec<String> = std::fs::read_to_string(&local).unwrap().lines().map(str::to_string).collect();
    assert_eq!(log.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>(), lines, "the stream is the local recording");
    let header = record::parse_header(&local, &log[0].1).unwrap();
    assert_eq!(header.config.mode, cutover::app::Mode::Watch, "a relay is a read-only session");
    assert_eq!(header.terminal, (0, 0), "no terminal");
    assert_eq!(header.operator.as_deref(), Some("relay on relay-pod-0"));
    let kinds: Vec<Kind> =
        log.iter().skip(1).filter_map(|(_, l)| record::classify(l.as_bytes()).map(|c| c.1)).collect();
    assert_eq!(kinds.len(), log.len() - 1, "every line after the header is an entry");
    assert!(kinds.iter().filter(|k| **k == Kind::Msg).count() > 50, "the sources' messages: {}", kinds.len());
    let keyframe = log.iter().find(|(seq, _)| *seq == k.seq).expect("`.k` names a line of the log");
    assert_eq!(record::classify(keyframe.1.as_bytes()), Some((k.t, Kind::Keyframe)));
    let traffic = log.iter().filter(|(_, l)| l.contains("\"Traffic\"")).count();
    assert!(traffic >= 2, "the ALB and Route 53 reads are in the stream: {traffic}");
    let end: share::Ended = serde_json::from_str(&last_on(&stream, &subjects.end).await.expect(".end")).unwrap();
    assert_eq!((end.last, end.lines, end.lost), (log.last().unwrap().0, log.len() as u64, 0));
    let published = format!("share: {} lines published as {log_subject}, 0 behind, 0 lost;", log.len());
    assert!(stopped.contains(&published), "{published:?} missing from the summary: {stopped}");
    // A replay reads the stream's lines as a recording.
    let replay = cutover::replay::Player::open(&local).expect("the relay's recording replays");
    drop(replay);

    // Only reads reached the peers, and every AWS call is one the example
    // IAM policy allows.
    let mutating = peers.mutating_requests();
    assert!(mutating.is_empty(), "the relay must not change anything: {mutating:#?}");
    let allowed = iam_actions();
    let ops: std::collections::BTreeSet<String> =
        peers.requests("aws").iter().map(|r| r["op"].as_str().unwrap_or("?").to_string()).collect();
    for op in ["DescribeRules", "DescribeTargetHealth", "GetMetricData", "ListResourceRecordSets"] {
        assert!(ops.contains(op), "{op} not called: {ops:?}");
    }
    for op in &ops {
        assert!(allowed.iter().any(|a| a.ends_with(&format!(":{op}"))), "{op} is not in deploy/relay-iam-policy.json");
    }
    assert!(peers.requests("old").len() > 5 && peers.requests("new").len() > 5, "both clusters were read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_started_with_the_broker_down_keeps_reading_and_publishes_once_it_is_up() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let mut nats = Nats::reserve(None);
    let plan = peers.plan_path().to_string_lossy().into_owned();
    let mut relay = Relay::start(&peers.dir, &["--plan", &plan, "--share", &nats.url()]);
    let subjects = subjects_of(&relay.subject());
    assert!(subjects.log.starts_with("cutover.photo-api-2026.relay-"), "{}", subjects.log);
    relay.until_said("broker down");
    relay.until_said("source live");
    assert!(relay.child.try_wait().unwrap().is_none(), "a broker down is no reason to exit");

    nats.resume();
    relay.until_said("broker connected");
    until_keyframe_and_heartbeat(&mut relay, &nats.url(), &subjects).await;
    assert_eq!(relay.stop("INT"), 0, "{}", relay.said());
    let said = relay.said();
    assert!(said.contains("SIGINT: stopping") && said.contains("relay stopped: "), "{said}");

    // Without --record the stream is the only record, and whole: the
    // header, then what was held while the broker was down, in order.
    let stream = open_stream(&nats.url()).await;
    let log = read_subject(&stream, &subjects.log).await;
    let header: Header = record::parse_header(Path::new("stream"), &log[0].1).unwrap();
    assert_eq!(header.config.mode, cutover::app::Mode::Watch);
    let times: Vec<i64> = log.iter().skip(1).map(|(_, l)| record::classify(l.as_bytes()).unwrap().0).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in the order written");
    assert!(!log.iter().any(|(_, l)| l.contains("\"gap\"")), "the buffer held everything: no gap");
    let end: share::Ended = serde_json::from_str(&last_on(&stream, &subjects.end).await.expect(".end")).unwrap();
    assert_eq!((end.lines, end.lost), (log.len() as u64, 0));
    assert!(peers.mutating_requests().is_empty());
}

/// `cutover relay` with these arguments and no terminal: exit code and stderr.
fn relay_exit(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    cmd.arg("relay").args(args).env_remove("NATS_URL").env_remove("NATS_CREDS").stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn file(name: &str, text: &str) -> String {
    let path = common::fresh_path("relay", name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const PLAN: &str = r#"name = "photo-api-2026"
namespaces = ["app"]

[new]
context = "eks-2026"

[aws]
region = "ap-northeast-1"
"#;

#[test]
fn bad_input_exits_2_with_the_same_messages_as_watch_and_no_terminal() {
    let bad = file("bad.toml", "name = \"x\"\nnamespaces = [\"app\"\n[new]\n");
    let (code, said) = relay_exit(&["--plan", &bad, "--share", "nats://127.0.0.1:4222"], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains(&format!("cutover: error: plan: {bad}:")), "file and line: {said}");
    assert!(said.lines().next().unwrap().contains(&format!("{bad}:3")), "the line: {said}");

    let plan = file("plan.toml", PLAN);
    let (code, said) = relay_exit(&["--plan", &plan], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("no broker: give --share nats://host:port (or set $NATS_URL)"), "{said}");

    let (code, said) = relay_exit(&["--plan", &plan, "--share", "http://user:pw@broker:4222"], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("not a NATS URL") && !said.contains("pw"), "{said}");

    let (code, said) = relay_exit(&["--plan", &plan], &[("NATS_URL", "broker:4222")]);
    assert_eq!(code, 2, "$NATS_URL is checked as --share is: {said}");
    assert!(said.contains("not a NATS URL"), "{said}");

    let (code, said) =
        relay_exit(&["--plan", &plan, "--share", "nats://127.0.0.1:1", "--nats-creds", "/no/such.creds"], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("--nats-creds /no/such.creds"), "{said}");

    // A context the kubeconfig does not have: said as `watch` says it.
    let kubeconfig = file("kubeconfig", "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
    let plan = file("plan-ctx.toml", &PLAN.replace("[new]\n", &format!("[new]\nkubeconfig = \"{kubeconfig}\"\n")));
    let (code, said) = relay_exit(&["--plan", &plan, "--share", "nats://127.0.0.1:1"], &[]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains(&format!("cutover: error: plan {plan}: [new]: context `eks-2026` is not in the kubeconfig")),
        "{said}"
    );
}

/// The actions of the example IAM policy.
fn iam_actions() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/relay-iam-policy.json");
    let policy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|s| assert_eq!(s["Effect"], "Allow"))
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn the_iam_policy_only_reads() {
    let actions = iam_actions();
    assert!(!actions.is_empty());
    for a in &actions {
        let (service, op) = a.split_once(':').unwrap();
        assert!(
            ["elasticloadbalancing", "cloudwatch", "route53", "autoscaling", "cloudtrail"].contains(&service),
            "{a}"
        );
        // LookupEvents reads CloudTrail's management events.
        assert!(
            ["Describe", "Get", "List", "Lookup"].iter().any(|p| op.starts_with(p)) && !op.contains('*'),
            "{a}: read-only, named one by one"
        );
    }
}

/// The documents of deploy/relay.yaml, as JSON (PyYAML from the tests'
/// venv reads the YAML; no YAML crate is a dependency).
fn manifest() -> Vec<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join(".venv/bin/python"))
        .args(["-c", "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))"])
        .stdin(std::fs::File::open(root.join("deploy/relay.yaml")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "deploy/relay.yaml is not YAML: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn one<T: serde::de::DeserializeOwned>(docs: &[serde_json::Value], kind: &str) -> T {
    let found: Vec<_> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} in deploy/relay.yaml");
    serde_json::from_value(found[0].clone()).unwrap_or_else(|e| panic!("the {kind} is not a valid {kind}: {e}"))
}

#[test]
fn the_example_manifest_is_kubernetes_objects_that_run_one_read_only_relay() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let docs = manifest();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    for d in &docs {
        assert!(d["metadata"]["namespace"].is_null(), "namespace-less: applied with -n: {}", d["kind"]);
        assert!(d["apiVersion"].is_string(), "{d}");
    }
    let sa: ServiceAccount = one(&docs, "ServiceAccount");
    let role: ClusterRole = one(&docs, "ClusterRole");
    let binding: ClusterRoleBinding = one(&docs, "ClusterRoleBinding");
    let config: ConfigMap = one(&docs, "ConfigMap");
    let _: Secret = one(&docs, "Secret");
    let deploy: Deployment = one(&docs, "Deployment");
    assert_eq!(kinds.len(), 6, "{kinds:?}");

    let sa_name = sa.metadata.name.clone().unwrap();
    assert!(sa.metadata.annotations.unwrap().contains_key("eks.amazonaws.com/role-arn"), "IRSA");

    // The ClusterRole reads exactly what the sources watch, and never writes;
    // the plan's Lease (who drives) is read by name with a get.
    let mut granted = std::collections::BTreeSet::new();
    for rule in role.rules.unwrap() {
        for verb in &rule.verbs {
            assert!(["get", "list", "watch"].contains(&verb.as_str()), "a mutating verb: {verb}");
        }
        if rule.resources.as_deref() == Some(&["leases".to_string()]) {
            assert_eq!(rule.verbs, ["get"]);
            assert_eq!(rule.resource_names.clone().unwrap(), ["cutover-photo-api-2026"], "the plan's Lease only");
        } else if rule.resources.as_deref() == Some(&["daemonsets".to_string()]) {
            // The lifecycle reader lists termination handlers, no more.
            assert_eq!(rule.verbs, ["list"]);
        } else if rule.resources.as_deref() == Some(&["namespaces".to_string()]) {
            // The lifecycle reader gets the plan's namespaces' labels.
            assert_eq!(rule.verbs, ["get"]);
        } else {
            assert_eq!(rule.verbs, ["get", "list", "watch"]);
        }
        for group in rule.api_groups.unwrap() {
            for resource in rule.resources.clone().unwrap() {
                assert!(!resource.contains('*') && !group.contains('*'), "no wildcard: {group}/{resource}");
                granted.insert(format!("{group}/{resource}"));
            }
        }
    }
    let read = [
        "/pods",
        "/events",
        "/nodes",
        "/namespaces",
        "apps/daemonsets",
        "apps/deployments",
        "apps/statefulsets",
        "batch/jobs",
        "batch/cronjobs",
        "autoscaling/horizontalpodautoscalers",
        "coordination.k8s.io/leases",
    ];
    assert_eq!(granted, read.iter().map(|s| s.to_string()).collect(), "exactly what the sources read");
    assert_eq!(binding.role_ref.name, role.metadata.name.unwrap());
    let subject = &binding.subjects.unwrap()[0];
    assert_eq!((subject.kind.as_str(), subject.name.as_str()), ("ServiceAccount", sa_name.as_str()));

    // One relay, replaced rather than rolled: two would publish two sessions.
    let spec = deploy.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.strategy.unwrap().type_.as_deref(), Some("Recreate"));
    let pod = spec.template.spec.unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some(sa_name.as_str()));
    assert!(pod.termination_grace_period_seconds.unwrap() >= 10, "longer than the 5 s drain");
    let container = &pod.containers[0];
    let security = container.security_context.clone().unwrap();
    assert_eq!((security.run_as_non_root, security.read_only_root_filesystem), (Some(true), Some(true)));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    let resources = container.resources.clone().unwrap();
    assert!(resources.requests.is_some() && resources.limits.is_some());

    // Its arguments are a relay's command line, and its plan reads.
    let args = container.args.clone().unwrap();
    assert_eq!(args[0], "relay");
    let argv = std::iter::once("cutover".to_string()).chain(args.iter().cloned());
    let cli = <cutover::cli::Cli as clap::Parser>::try_parse_from(argv).unwrap_or_else(|e| panic!("{e}"));
    let cutover::cli::Command::Relay(relay) = cli.command else { panic!("not a relay: {args:?}") };
    let plan_text = config.data.unwrap().get("plan.toml").cloned().expect("the plan in the ConfigMap");
    let mount = container.volume_mounts.clone().unwrap();
    assert!(mount.iter().any(|m| relay.plan.plan.starts_with(&m.mount_path)), "the plan is mounted where --plan says");
    let plan_path = common::fresh_path("relay", "manifest-plan.toml");
    std::fs::write(&plan_path, plan_text).unwrap();
    let plan = cutover::plan::Plan::load(&plan_path).unwrap_or_else(|e| panic!("the ConfigMap's plan: {e}"));
    assert_eq!(plan.new.context, "in-cluster");
    assert_eq!(plan.lease().name, "cutover-photo-api-2026", "the rule names the plan's Lease");
    assert!(plan.old.is_some_and(|old| old.kubeconfig.is_some_and(|k| k.starts_with("/etc/cutover/old"))));
}

/// A broker user that may not publish sessions.
const REFUSING: &str = r#"
accounts {
  CUTOVER {
    jetstream: enabled
    users: [ { user: observer, password: observer, permissions: { publish: { deny: ["cutover.>"] } } } ]
  }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_the_broker_refuses_says_why_in_json_keeps_reading_and_exits_0() {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let nats = Nats::start_with_config(REFUSING);
    let url = format!("nats://observer:observer@127.0.0.1:{}", nats.port);
    let plan = peers.plan_path().to_string_lossy().into_owned();
    let mut relay = Relay::start(&peers.dir, &["--plan", &plan, "--share", &url, "--log-format", "json"]);
    // The relay's own line, once the publisher counts the session refused.
    relay.until_said("\"message\":\"broker refuses: ");
    relay.until_said("source live");
    assert!(relay.child.try_wait().unwrap().is_none(), "a refusing broker is no reason to exit");
    assert_eq!(relay.stop("TERM"), 0, "{}", relay.said());
    let said = relay.said();
    assert!(!said.contains("observer:observer"), "the password is never logged: {said}");
    let lines: Vec<serde_json::Value> = said
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object a line ({e}): {l}")))
        .collect();
    let message = |l: &serde_json::Value| l["message"].as_str().unwrap_or_default().to_string();
    let started = lines.iter().find(|l| l["message"] == "relay started").expect("relay started");
    assert_eq!(started["broker"], format!("nats://***@127.0.0.1:{}", nats.port));
    assert_eq!(started["level"], "INFO");
    let refused = lines.iter().find(|l| message(l).starts_with("broker refuses")).unwrap();
    assert_eq!(refused["level"], "ERROR");
    assert!(refused["error"].as_str().unwrap().contains("Permissions Violation for Publish"), "{refused}");
    let stopped = lines.iter().find(|l| message(l).starts_with("relay stopped: ")).unwrap();
    assert!(message(stopped).contains("share: 0 lines published"), "{stopped}");
    assert_eq!(stopped["level"], "WARN", "lines the broker never took: {stopped}");
}

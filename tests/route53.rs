//! Route 53 weighted records, a route's second kind, against moto through
//! the harness's proxy (started with PEERS_ROUTE53=1: a zone `example.test.`
//! with two weighted alias A records `www.example.test.`, `eks-2022` at 100
//! to the load balancer `photo-api` and `eks-2026` at 0 to `photo-api-2026`).
//!
//! Gaps of the peer, and what stands in for them:
//! - moto does not check that a DELETE in a change batch matches the record
//!   (it deletes by set identifier alone); Route 53 does, and refuses the
//!   whole batch with InvalidChangeBatch. The harness's proxy enforces it.
//! - moto answers INSYNC at once, to the batch and to GetChange; the proxy
//!   answers PENDING a set number of times when a test asks it to.
//! - moto ignores StartRecordIdentifier; the reader does not rely on it
//!   (it starts at the name and type, and pages only within them).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::peers::{Peers, fake_aws_credentials};
use cutover::domain::PerSide;
use cutover::effects::route53::{self as write, Progress, WriteError, WriteOptions};
use cutover::plan::{Plan, Route53Route};
use cutover::sources::route53::{self as read, RecordTarget};
use serde_json::{Value, json};

struct World {
    peers: Peers,
    route: Route53Route,
    r53: aws_sdk_route53::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    rt: tokio::runtime::Runtime,
    seed: Value,
}

fn start() -> World {
    start_with("empty")
}

/// `seed`: `empty` (the load balancers and the zone only) or `realistic`
/// (the clusters and metrics too, for `check` to pass as a whole).
fn start_with(seed: &str) -> World {
    // SAFETY: first thing in the test's process (nextest runs one test per
    // process), before any thread; the harness inherits it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PEERS_ROUTE53", "1");
    }
    fake_aws_credentials();
    let peers = Peers::start(seed);
    let plan = Plan::load(&peers.plan_path()).unwrap();
    let route = plan.route53[0].clone();
    let seed: Value = serde_json::from_str(&std::fs::read_to_string(peers.dir.join("route53.json")).unwrap()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sdk = rt.block_on(cutover::sources::aws::sdk_config(&plan.aws));
    let r53 = cutover::sources::aws::route53_client(&sdk);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
    peers.post("/requests/clear", Value::Null);
    World { peers, route, r53, elb, rt, seed }
}

impl World {
    fn read(&self) -> read::RecordPair {
        self.rt.block_on(read::read(&self.r53, &self.route)).unwrap()
    }

    fn set(&self, pair: &read::RecordPair, old: u8, new: u8) -> (Result<write::Written, WriteError>, Vec<Progress>) {
        let options = WriteOptions {
            insync_deadline: Duration::from_secs(5),
            poll_every: Duration::from_millis(20),
            backoff: Duration::from_millis(20),
            attempts: 4,
        };
        let mut seen = Vec::new();
        let result = self.rt.block_on(write::set_weights(
            &self.r53,
            &self.route,
            pair,
            PerSide::new(old, new),
            &options,
            &mut |p| seen.push(p),
        ));
        (result, seen)
    }

    /// The records as moto holds them, straight (not through the proxy).
    fn records(&self) -> Vec<Value> {
        self.peers.get("/route53/records").as_array().cloned().unwrap()
    }

    fn record(&self, set_identifier: &str) -> Value {
        self.records().into_iter().find(|r| r["SetIdentifier"] == set_identifier).unwrap()
    }

    fn ops(&self) -> Vec<String> {
        self.peers.requests("aws").iter().map(|r| r["op"].as_str().unwrap().to_string()).collect()
    }
}

#[test]
fn both_records_are_read_with_one_call_started_at_their_name() {
    let w = start();
    let pair = w.read();
    let (old, new) = (&pair.records.old, &pair.records.new);
    assert_eq!((old.set_identifier.as_str(), old.weight), ("eks-2022", 100));
    assert_eq!((new.set_identifier.as_str(), new.weight), ("eks-2026", 0));
    let old_dns = w.seed["load_balancers"]["old"]["dns_name"].as_str().unwrap();
    assert_eq!(
        old.target,
        RecordTarget::Alias {
            dns_name: format!("dualstack.{old_dns}."),
            hosted_zone_id: w.record("eks-2022")["AliasTarget"]["HostedZoneId"].as_str().unwrap().into(),
            evaluate_target_health: true,
        }
    );
    assert_eq!(old.ttl, None, "an alias has no TTL of its own");
    assert_eq!(old.health_check_id, None);
    assert!(!pair.equal_split());
    assert_eq!(pair.new_percent(), 0.0);

    // One call, from the record's name and type: not a scan of the zone.
    let requests = w.peers.requests("aws");
    assert_eq!(w.ops(), ["ListResourceRecordSets"]);
    let query = requests[0]["query"].as_str().unwrap();
    for part in ["name=www.example.test.", "type=A", "maxitems=10"] {
        assert!(query.contains(part), "{query}");
    }
}

#[test]
fn each_sides_load_balancer_is_found_from_its_alias_dns_name() {
    let w = start();
    let pair = w.read();
    let lbs = w.rt.block_on(read::load_balancers(&w.elb, &w.route, &pair)).unwrap();
    // The aliases say `dualstack.<name>.`; the load balancers, `<name>`.
    for side in ["old", "new"] {
        let lb = if side == "old" { &lbs.old } else { &lbs.new };
        assert_eq!(lb.arn.0, w.seed["load_balancers"][side]["arn"].as_str().unwrap(), "{side}");
    }
    assert!(lbs.new.dimension().starts_with("app/photo-api-2026/"), "{}", lbs.new.dimension());
    assert_eq!(w.ops(), ["ListResourceRecordSets", "DescribeLoadBalancers"]);

    // One the plan names is taken from the plan, and must exist.
    let mut named = w.route.clone();
    named.new_load_balancer = Some(cutover::plan::Arn(lbs.old.arn.0.replace("photo-api/", "gone/")));
    named.lines.new_load_balancer = Some(40);
    let err = w.rt.block_on(read::load_balancers(&w.elb, &named, &pair)).unwrap_err();
    assert!(err.contains(":40: route `www`: new_load_balancer") && err.contains("is not a load balancer"), "{err}");
}

#[test]
fn a_write_is_one_batch_of_the_records_as_read_and_reads_back_the_same_but_the_weight() {
    let w = start();
    let before = w.records();
    let pair = w.read();
    w.peers.post("/requests/clear", Value::Null);
    let (written, progress) = w.set(&pair, 90, 10);
    let written = written.unwrap();
    assert_eq!(written.after.weights(), PerSide::new(90, 10));
    assert_eq!(written.attempts, 1);
    assert!(written.change_id.is_some());
    assert!(progress.is_empty(), "moto answers INSYNC at once: {progress:?}");

    // Exactly one batch, then GetChange, then the read-back.
    assert_eq!(w.ops(), ["ChangeResourceRecordSets", "GetChange", "ListResourceRecordSets"]);
    let batch = w.peers.requests("aws")[0]["changes"].as_array().cloned().unwrap();
    let actions: Vec<(&str, &str, i64)> = batch
        .iter()
        .map(|c| {
            let r = &c["record"];
            (c["action"].as_str().unwrap(), r["SetIdentifier"].as_str().unwrap(), r["Weight"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("DELETE", "eks-2022", 100),
            ("CREATE", "eks-2022", 90),
            ("DELETE", "eks-2026", 0),
            ("CREATE", "eks-2026", 10)
        ]
    );
    // Each CREATE is its DELETE with only the weight changed.
    for pair in batch.chunks(2) {
        let (mut deleted, mut created) = (pair[0]["record"].clone(), pair[1]["record"].clone());
        deleted["Weight"] = Value::Null;
        created["Weight"] = Value::Null;
        assert_eq!(deleted, created);
    }

    // In moto: weights changed, alias and health evaluation as they were.
    for side in ["eks-2022", "eks-2026"] {
        let was = before.iter().find(|r| r["SetIdentifier"] == side).unwrap();
        let now = w.record(side);
        assert_eq!(now["AliasTarget"], was["AliasTarget"], "{side}");
        assert_eq!(now.get("TTL"), was.get("TTL"), "{side}");
    }
    assert_eq!(w.record("eks-2022")["Weight"], 90);
    assert_eq!(w.record("eks-2026")["Weight"], 10);
}

#[test]
fn a_record_changed_since_it_was_read_refuses_the_whole_write() {
    let w = start();
    let pair = w.read();
    // Someone (ExternalDNS, a colleague) changes new's weight meanwhile.
    w.peers.post("/route53/records", json!({"set_identifier": "eks-2026", "weight": 7}));
    w.peers.post("/requests/clear", Value::Null);
    let (result, _) = w.set(&pair, 50, 50);
    let err = result.unwrap_err();
    assert!(matches!(err, WriteError::Changed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with("changed since you looked"), "{text}");
    assert!(text.contains("nothing was written"), "{text}");
    assert!(text.contains("eks-2026"), "Route 53's message names the record: {text}");
    // Nothing changed, not even old's record, whose DELETE did match.
    assert_eq!(w.record("eks-2022")["Weight"], 100);
    assert_eq!(w.record("eks-2026")["Weight"], 7);
    let requests = w.peers.requests("aws");
    assert_eq!(w.ops(), ["ChangeResourceRecordSets"], "no retry of a refused batch");
    assert_eq!(requests[0]["status"], 400);
    assert_eq!(requests[0]["refused"], "InvalidChangeBatch");

    // A change of anything else refuses it too: health evaluation here.
    let pair = w.read();
    w.peers.post("/route53/records", json!({"set_identifier": "eks-2022", "evaluate_target_health": false}));
    let (result, _) = w.set(&pair, 50, 50);
    assert!(matches!(result, Err(WriteError::Changed { .. })), "{result:?}");

    // Read again, the same write goes through.
    let pair = w.read();
    let (result, _) = w.set(&pair, 50, 50);
    assert_eq!(result.unwrap().after.weights(), PerSide::new(50, 50));
}

#[test]
fn pending_is_propagating_until_insync_and_a_deadline_says_still_propagating() {
    let w = start();
    let pair = w.read();
    // moto answers INSYNC at once; the proxy says PENDING twice first.
    w.peers.post("/route53/pending", json!({"count": 2}));
    w.peers.post("/requests/clear", Value::Null);
    let (result, progress) = w.set(&pair, 75, 25);
    let written = result.unwrap();
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert!(progress.iter().all(|p| matches!(p, Progress::Propagating { .. })), "{progress:?}");
    assert!(progress[0].to_string().starts_with("propagating"), "{}", progress[0]);
    assert_eq!(w.ops(), ["ChangeResourceRecordSets", "GetChange", "GetChange", "GetChange", "ListResourceRecordSets"]);
    assert_eq!(written.after.weights(), PerSide::new(75, 25));

    // Never INSYNC within the deadline: said, and the change stands.
    w.peers.post("/route53/pending", json!({"count": 1000}));
    let pair = w.read();
    let options = WriteOptions {
        insync_deadline: Duration::from_millis(200),
        poll_every: Duration::from_millis(20),
        ..WriteOptions::default()
    };
    let result =
        w.rt.block_on(write::set_weights(&w.r53, &w.route, &pair, PerSide::new(60, 40), &options, &mut |_| {}));
    let err = result.unwrap_err();
    assert!(matches!(err, WriteError::StillPropagating { .. }), "{err:?}");
    assert!(err.to_string().starts_with("still propagating after"), "{err}");
    assert_eq!(w.record("eks-2026")["Weight"], 40);
}

#[test]
fn throttled_batches_are_retried_with_backoff() {
    let w = start();
    let pair = w.read();
    w.peers.aws_fault(json!({"faults": [
        {"ops": ["ChangeResourceRecordSets"], "code": "Throttling", "count": 1},
        {"ops": ["ChangeResourceRecordSets"], "code": "PriorRequestNotComplete", "status": 400, "count": 1},
    ]}));
    w.peers.post("/requests/clear", Value::Null);
    let (result, progress) = w.set(&pair, 80, 20);
    let written = result.unwrap();
    assert_eq!(written.attempts, 3);
    let pauses: Vec<Duration> = progress
        .iter()
        .map(|p| match p {
            Progress::Retrying { pause, .. } => *pause,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pauses, [Duration::from_millis(20), Duration::from_millis(40)], "doubling backoff");
    assert_eq!(w.ops().iter().filter(|o| *o == "ChangeResourceRecordSets").count(), 3);
    assert_eq!(w.record("eks-2026")["Weight"], 20);
}

#[test]
fn both_weights_at_zero_are_an_equal_split() {
    let w = start();
    w.peers.post("/route53/records", json!({"set_identifier": "eks-2022", "weight": 0}));
    let pair = w.read();
    assert!(pair.equal_split());
    assert_eq!(pair.new_percent(), 50.0);
    assert_eq!(pair.weights(), PerSide::new(0, 0));
}

#[test]
fn a_dry_run_shows_the_exact_batch_and_sends_nothing() {
    let w = start();
    let pair = w.read();
    w.peers.post("/requests/clear", Value::Null);
    let text = write::dry_run(&w.route, &pair, write::weights_for_percent(25));
    assert!(text.starts_with("dry run: nothing sent."), "{text}");
    let json: Value = serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap();
    let changes = json["Changes"].as_array().unwrap();
    assert_eq!(changes.len(), 4, "{text}");
    assert_eq!(changes[0]["Action"], "DELETE");
    assert_eq!(changes[0]["ResourceRecordSet"]["Weight"], 100);
    assert_eq!(changes[1]["Action"], "CREATE");
    assert_eq!(changes[1]["ResourceRecordSet"]["Weight"], 75);
    assert_eq!(changes[3]["ResourceRecordSet"]["Weight"], 25);
    assert_eq!(changes[1]["ResourceRecordSet"]["AliasTarget"]["EvaluateTargetHealth"], true);
    assert_eq!(w.peers.requests("aws"), Vec::<Value>::new(), "a dry run calls nothing");
    assert_eq!(w.record("eks-2022")["Weight"], 100);
}

fn cutover(args: &[&str], plan: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .arg("--plan")
        .arg(plan)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("XDG_STATE_HOME", std::env::temp_dir().join("cutover-route53-test-state"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// The line of the plan that starts `prefix`, 1-based.
fn line_of(plan: &str, prefix: &str) -> usize {
    plan.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

#[test]
fn check_reports_the_records_and_names_the_plan_line_of_a_wrong_one() {
    let w = start_with("realistic");
    let plan = std::fs::read_to_string(w.peers.plan_path()).unwrap();
    let (code, text) = cutover(&["check"], &w.peers.plan_path());
    assert_eq!(code, 0, "{text}");
    let zone = w.route.hosted_zone_id.clone();
    for expected in [
        format!("route53 www      zone {zone} holds A www.example.test. with both weighted records"),
        "old record `eks-2022`: weight 100, alias dualstack.photo-api-1.".to_string(),
        "(evaluate target health: yes)".to_string(),
        "0% of answers to new".to_string(),
        "old load balancer app/photo-api/".to_string(),
        "new load balancer app/photo-api-2026/".to_string(),
        "(from the record)".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected}\n{text}");
    }
    assert!(text.contains("3 route(s)"), "{text}");

    let write = |name: &str, text: String| {
        let path = w.peers.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let line = line_of(&plan, "new_set_identifier");
    let path = write("set-id.toml", plan.replace("\"eks-2026\"", "\"eks-2030\""));
    let (code, text) = cutover(&["check"], &path);
    assert_eq!(code, 1, "{text}");
    let fail: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("FAIL")).collect();
    assert_eq!(fail.len(), 1, "{text}");
    assert!(
        fail[0].contains(&format!("set-id.toml:{line}: route `www`: no new record with set identifier `eks-2030`")),
        "{text}"
    );
    assert!(fail[0].contains("eks-2022, eks-2026"), "the ids present are named: {text}");

    let path = write("zone.toml", plan.replace(&zone, "ZNOSUCHZONE0000"));
    let (code, text) = cutover(&["check"], &path);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("hosted zone ZNOSUCHZONE0000 does not exist"), "{text}");

    let path = write("name.toml", plan.replace("\"www.example.test.\"", "\"api.example.test.\""));
    let (code, text) = cutover(&["check"], &path);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("holds no A record named api.example.test."), "{text}");
}

#[test]
fn run_and_watch_refuse_a_route53_route_and_bad_route53_plans_exit_2_with_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("cutover-route53-plans-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = r#"name = "www-2026"
namespaces = ["app"]

[new]
context = "eks-2026"

[aws]
region = "us-east-1"

[[route]]
name = "www"
kind = "route53"
hosted_zone_id = "Z0123456789ABCDEFGHIJ"
record_name = "www.example.com."
old_set_identifier = "eks-2022"
new_set_identifier = "eks-2026"
"#;
    let path = dir.join("cutover.toml");
    std::fs::write(&path, plan).unwrap();
    for command in ["watch", "run"] {
        let (code, text) = cutover(&[command], &path);
        assert_eq!(code, 2, "{command}: {text}");
        assert!(text.contains("cutover.toml:11:1: route `www`: route53 routes are checked by `cutover check` but not yet driven by the console"), "{command}: {text}");
    }

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, plan.replace("old_set_identifier = \"eks-2022\"\n", "")).unwrap();
    let (code, text) = cutover(&["check"], &bad);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("bad.toml:11:"), "{text}");
    assert!(text.contains("route `www`: missing field `old_set_identifier`"), "{text}");

    std::fs::write(&bad, plan.replace("new_set_identifier", "rule_arn = \"x\"\nnew_set_identifier")).unwrap();
    let (code, text) = cutover(&["check"], &bad);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("bad.toml:16:"), "{text}");
    assert!(text.contains("`rule_arn` is a field of kind = \"alb\" routes"), "{text}");
}

//! Route 53 weighted records, a route's second kind, against moto through
//! the harness's proxy (started with PEERS_ROUTE53=1: a zone `example.test.`
//! with two weighted alias A records `www.example.test.`, `eks-2022` at 100
//! to the load balancer `photo-api` and `eks-2026` at 0 to `photo-api-2026`,
//! which forwards to its own target group `www-2026`).
//!
//! First the reader and the writer on their own, then the console on the
//! route (LiveConsole and Driver of tests/common/live.rs, the plan's third
//! route): what it reads, each side's load balancer's metrics, a step, a
//! dry run, ExternalDNS's registry (TXT records the harness adds with POST
//! /route53/txt) and `watch`, which writes nothing.
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

use common::live::{Driver, LiveConsole};
use common::peers::{Peers, fake_aws_credentials};
use common::sent;
use cutover::app::{App, EffectResult, LbMetric, Modal, Mode, Msg, Panel, Proposal, RouteMetric, SeriesId};
use cutover::domain::MetricTarget;
use cutover::domain::{Minute, Owner, PerSide, RouteId, RouteKind, Side, TargetState, Weight, Weights};
use cutover::effects::route53::{self as write, Progress, WriteError, WriteOptions};
use cutover::keymap::Key;
use cutover::plan::{Plan, PlanRoute, Route53Route, Routed};
use cutover::sources::cloudwatch;
use cutover::sources::route53::{self as read, RecordTarget};
use serde_json::{Value, json};

struct World {
    peers: Peers,
    route: Routed<Route53Route>,
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
    let route = plan.routes_of(PlanRoute::route53).next().unwrap();
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
    let err = w.rt.block_on(read::load_balancers(&w.elb, &named, &pair)).unwrap_err().to_string();
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
    let json: Value = serde_json::from_str(text[text.find('{').unwrap()..].trim_end_matches('\'')).unwrap();
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
fn bad_route53_plans_exit_2_with_file_line_and_field() {
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
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, plan.replace("old_set_identifier = \"eks-2022\"\n", "")).unwrap();
    for command in ["check", "watch", "run"] {
        let (code, text) = cutover(&[command], &bad);
        assert_eq!(code, 2, "{command}: {text}");
        assert!(text.contains("bad.toml:11:"), "{command}: {text}");
        assert!(text.contains("route `www`: missing field `old_set_identifier`"), "{command}: {text}");
    }

    std::fs::write(&bad, plan.replace("new_set_identifier", "rule_arn = \"x\"\nnew_set_identifier")).unwrap();
    for command in ["check", "watch", "run"] {
        let (code, text) = cutover(&[command], &bad);
        assert_eq!(code, 2, "{command}: {text}");
        assert!(text.contains("bad.toml:16:"), "{command}: {text}");
        assert!(text.contains("`rule_arn` is a field of kind = \"alb\" routes"), "{command}: {text}");
    }
}

#[test]
fn watch_and_run_on_a_set_identifier_the_zone_lacks_exit_2_before_the_terminal() {
    let w = start();
    let plan = std::fs::read_to_string(w.peers.plan_path()).unwrap();
    let line = line_of(&plan, "new_set_identifier");
    let path = w.peers.dir.join("set-id.toml");
    std::fs::write(&path, plan.replace("\"eks-2026\"", "\"eks-2030\"")).unwrap();
    for command in ["watch", "run"] {
        // No terminal here: the plan's mistake is said first all the same.
        let (code, text) = cutover(&[command], &path);
        assert_eq!(code, 2, "{command}: {text}");
        assert!(
            text.contains(&format!("set-id.toml:{line}: route `www`: no new record with set identifier `eks-2030`")),
            "{command}: {text}"
        );
        assert!(text.contains("(the record's set identifiers: eks-2022, eks-2026)"), "{command}: {text}");
        assert!(text.contains("hint: set new_set_identifier to the Set ID of new's record"), "{command}: {text}");
        assert!(!text.contains("needs a terminal"), "{command}: {text}");
        assert!(!text.contains('\u{1b}'), "{command}: the terminal was not touched: {text:?}");
    }
    assert_eq!(w.peers.mutating_requests(), Vec::<Value>::new(), "nothing written");

    // The right plan gets past the records to the terminal, which is missing.
    let (code, text) = cutover(&["watch"], &w.peers.plan_path());
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("needs a terminal"), "{text}");
}

// ---------------------------------------------------------------------------
// The console on the route: LiveConsole and Driver (tests/common/live.rs)
// over the harness's plan, whose third route is `www`.
// ---------------------------------------------------------------------------

/// Before the peers start: the harness seeds the zone and plans `www`.
fn with_route53() {
    // SAFETY: first thing in the test's process (nextest runs one test per
    // process), before any thread; the harness inherits it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PEERS_ROUTE53", "1");
    }
}

fn www(app: &App) -> usize {
    app.routes.iter().position(|r| r.spec.name == "www").unwrap()
}

fn seed_of(peers: &Peers) -> Value {
    serde_json::from_str(&std::fs::read_to_string(peers.dir.join("route53.json")).unwrap()).unwrap()
}

/// The Route 53 calls of the log, in order.
fn r53_ops(peers: &Peers) -> Vec<String> {
    let ops = ["ListResourceRecordSets", "ChangeResourceRecordSets", "GetChange"];
    peers
        .requests("aws")
        .iter()
        .map(|r| r["op"].as_str().unwrap().to_string())
        .filter(|op| ops.contains(&op.as_str()))
        .collect()
}

/// A record as moto holds it, weight left out.
fn without_weight(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("Weight");
            r
        })
        .collect()
}

#[test]
fn the_console_reads_the_records_their_load_balancers_and_each_sides_targets() {
    with_route53();
    let mut c = LiveConsole::start("empty", Mode::Watch);
    let seed = seed_of(&c.peers);
    c.until("www read", Duration::from_secs(30), |app| app.routes[www(app)].read.is_some());
    let route = &c.app.routes[www(&c.app)];
    assert_eq!(route.kind(), RouteKind::Route53);
    assert_eq!(c.plan.routes_of(PlanRoute::alb).count(), www(&c.app), "ALB routes first, then route53 routes");
    assert_eq!(route.weights(), Some(Weights { old: Weight(100), new: Weight(0) }));
    assert_eq!(route.set_share(), Some(0.0));
    for (side, id) in [(Side::Old, "eks-2022"), (Side::New, "eks-2026")] {
        let record = route.record(side).unwrap();
        let lb = &seed["load_balancers"][side.label()];
        assert_eq!(record.set_identifier, id);
        assert_eq!(record.ttl, None, "an alias: the load balancer's TTL");
        assert!(record.alias && record.evaluate_target_health, "{record:?}");
        assert_eq!(record.points_at, format!("dualstack.{}.", lb["dns_name"].as_str().unwrap()));
        assert_eq!(record.health_check, None);
        let dimension = lb["dimension"].as_str().unwrap();
        assert_eq!(record.load_balancer.as_deref(), Some(dimension), "{side:?}");
        assert_eq!(route.load_balancer(side), Some(dimension));
    }
    // Each side's load balancer's target groups: old's four (the shared
    // ALB of the ALB routes), new's own www-2026 of three.
    let read = route.read.as_ref().unwrap();
    assert_eq!(read.targets.old.len(), 16, "{:?}", read.targets.old);
    assert_eq!(read.targets.new.len(), 3, "{:?}", read.targets.new);
    assert!(read.targets.new.iter().all(|t| t.state == TargetState::Healthy), "{:?}", read.targets.new);
    assert!(read.others.is_empty());
    assert!(c.app.routes[..www(&c.app)].iter().all(|r| r.kind() == RouteKind::Alb));
}

/// Puts one minute of a side's load balancer metrics into CloudWatch (moto,
/// through the proxy), with the `LoadBalancer` dimension only, as ALB
/// publishes its own counts.
fn put_lb_minute(
    cw: &aws_sdk_cloudwatch::Client,
    rt: &tokio::runtime::Runtime,
    lb: &str,
    minute: Minute,
    values: &[(&str, f64)],
) {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    let data: Vec<MetricDatum> = values
        .iter()
        .map(|(name, value)| {
            MetricDatum::builder()
                .metric_name(*name)
                .dimensions(Dimension::builder().name("LoadBalancer").value(lb).build())
                .timestamp(DateTime::from_secs(minute.0 * 60))
                .value(*value)
                .unit(StandardUnit::Count)
                .build()
        })
        .collect();
    rt.block_on(cw.put_metric_data().namespace(cloudwatch::NAMESPACE).set_metric_data(Some(data)).send()).unwrap();
}

/// The last whole minute: what the console shows.
fn last_minute() -> Minute {
    Minute::containing(jiff::Timestamp::now()).offset(-1)
}

/// Old's load balancer: 600 requests, 3 of its own 5xx (2 of them 502);
/// new's: 200 requests, 17 (11). Per side, and different.
fn put_both_sides(peers: &Peers, minute: Minute) {
    let plan = Plan::load(&peers.plan_path()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let sdk = rt.block_on(cutover::sources::aws::sdk_config(&plan.aws));
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let seed = seed_of(peers);
    let dim = |side: &str| seed["load_balancers"][side]["dimension"].as_str().unwrap().to_string();
    let old = [("RequestCount", 600.0), ("HTTPCode_ELB_5XX_Count", 3.0), ("HTTPCode_ELB_502_Count", 2.0)];
    put_lb_minute(&cw, &rt, &dim("old"), minute, &old);
    let new = [("RequestCount", 200.0), ("HTTPCode_ELB_5XX_Count", 17.0), ("HTTPCode_ELB_502_Count", 11.0)];
    put_lb_minute(&cw, &rt, &dim("new"), minute, &new);
}

#[test]
fn each_sides_own_load_balancer_5xx_are_that_sides() {
    with_route53();
    let minute = last_minute();
    let mut c = LiveConsole::start_with("empty", Mode::Watch, |peers| put_both_sides(peers, minute));
    let seed = seed_of(&c.peers);
    let dim = |side: &str| seed["load_balancers"][side]["dimension"].as_str().unwrap().to_string();

    // Straight from CloudWatch, with the DNS route's queries.
    let id = RouteId::of(c.plan.routes_of(PlanRoute::alb).count());
    let queries = cloudwatch::queries(&MetricTarget::on_load_balancers(id, &PerSide::new(dim("old"), dim("new"))));
    let cw = aws_sdk_cloudwatch::Client::new(&c.clients.sdk);
    let points = c.rt.block_on(cloudwatch::fetch(&cw, &queries, minute.offset(-2), minute.offset(1))).unwrap();
    let value = |series: SeriesId| {
        let found: Vec<f64> =
            points.iter().filter(|p| p.series == series && p.minute == minute).map(|p| p.value).collect();
        assert_eq!(found.len(), 1, "{series:?} in {points:?}");
        found[0]
    };
    let lb = |side: &str, metric| value(SeriesId::LoadBalancer { lb: dim(side), metric });
    assert_eq!((lb("old", LbMetric::Elb5xx), lb("new", LbMetric::Elb5xx)), (3.0, 17.0));
    assert_eq!((lb("old", LbMetric::Elb502), lb("new", LbMetric::Elb502)), (2.0, 11.0));
    let requests = |side| value(SeriesId::Route { route: id, side, metric: RouteMetric::Requests });
    assert_eq!((requests(Side::Old), requests(Side::New)), (600.0, 200.0));

    // In the console, once the records name the load balancers.
    c.until("www's minute of metrics", Duration::from_secs(40), |app| {
        let s = app.route_summary(&app.routes[www(app)]);
        s.minute == minute && s.elb_errors_on(Side::New).is_some()
    });
    let s = c.app.route_summary(&c.app.routes[www(&c.app)]);
    assert!(s.per_side_lb());
    assert_eq!(s.elb_errors_on(Side::Old), Some(3.0));
    assert_eq!(s.elb_errors_on(Side::New), Some(17.0));
    assert_eq!(s.elb_errors(), Some(20.0), "both load balancers together");
    assert_eq!((s.figures.old.requests, s.figures.new.requests), (Some(600.0), Some(200.0)));
    assert_eq!(s.observed_new, Some(25.0), "new's share of the two load balancers' requests");
}

/// Proposes www's next step (`]` on the traffic panel).
fn step_www(d: &mut Driver) -> Proposal {
    let i = www(&d.app);
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = i;
    d.press("]");
    match &d.app.modal {
        Some(Modal::Proposal(p)) => p.clone(),
        other => panic!("no proposal: {other:?} {:?}", d.app.notice),
    }
}

#[test]
fn a_step_writes_one_batch_of_the_records_as_read_and_the_console_reads_it_back() {
    with_route53();
    let mut d = Driver::start(false);
    let i = www(&d.app);
    let before = d.peers.get("/route53/records").as_array().cloned().unwrap();
    let p = step_www(&mut d);
    assert_eq!(p.title, "route www: 0% → 10% to new");
    assert!(p.lines[0].starts_with("old 100 / new 0  →  old 90 / new 10"), "{:?}", p.lines);
    assert!(
        p.lines.iter().any(|l| l.starts_with("one change batch for www.example.test. A: DELETE both records as read")),
        "{:?}",
        p.lines
    );
    assert!(p.lines.iter().any(|l| l.contains("(TTL 60s)")), "an alias answers with 60 s: {:?}", p.lines);
    assert!(p.typed_override.is_none(), "no owner in the registry");
    // The records' load balancers are read with the first poll, and their
    // first CloudWatch minute comes with the next metrics poll: until then
    // no minute at this weight is seen, and a step takes `Y` after `y`.
    assert_eq!(p.needed, 2, "{:?}", p.lines);
    assert!(
        p.lines.iter().any(|l| l.starts_with("no complete CloudWatch minute seen at this weight yet")),
        "{:?}",
        p.lines
    );
    d.peers.post("/requests/clear", Value::Null);
    d.press("yY");
    let results = d.execute();
    assert!(
        matches!(&results[..], [EffectResult::Verified { detail }] if detail.contains("reads back old 90 / new 10")),
        "{results:?}"
    );

    // The exact write: one batch, INSYNC asked, read back; nothing else changed.
    let requests = d.peers.requests("aws");
    let changes: Vec<&Value> = requests.iter().filter(|r| r["op"] == "ChangeResourceRecordSets").collect();
    assert_eq!(changes.len(), 1, "{requests:?}");
    let batch: Vec<(String, String, i64)> = changes[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = &c["record"];
            (
                c["action"].as_str().unwrap().into(),
                r["SetIdentifier"].as_str().unwrap().into(),
                r["Weight"].as_i64().unwrap(),
            )
        })
        .collect();
    let expect = [
        ("DELETE", "eks-2022", 100),
        ("CREATE", "eks-2022", 90),
        ("DELETE", "eks-2026", 0),
        ("CREATE", "eks-2026", 10),
    ];
    assert_eq!(batch, expect.map(|(a, s, w)| (a.to_string(), s.to_string(), w)));
    // The pollers read meanwhile: the executor's calls are in this order
    // among theirs (a re-read, the batch, GetChange, the read-back).
    let ops = r53_ops(&d.peers);
    let at = ops.iter().position(|o| o == "ChangeResourceRecordSets").unwrap();
    assert!(ops[..at].contains(&"ListResourceRecordSets".to_string()), "{ops:?}");
    assert_eq!(ops[at + 1], "GetChange", "{ops:?}");
    assert!(ops[at + 2..].contains(&"ListResourceRecordSets".to_string()), "{ops:?}");
    let mutating: Vec<&Value> = requests.iter().filter(|r| r["mutating"] == true).collect();
    assert_eq!(mutating.len(), 1, "only the batch: {mutating:?}");
    let after = d.peers.get("/route53/records").as_array().cloned().unwrap();
    assert_eq!(without_weight(&after), without_weight(&before), "alias, health evaluation, names as they were");
    let weight =
        |records: &[Value], id: &str| records.iter().find(|r| r["SetIdentifier"] == id).unwrap()["Weight"].clone();
    assert_eq!((weight(&after, "eks-2022"), weight(&after, "eks-2026")), (json!(90), json!(10)));
    // Only a read sets the weights shown: the poller's, after the write.
    d.until("the poller reads 90/10", |app| {
        app.routes[www(app)].weights() == Some(Weights { old: Weight(90), new: Weight(10) })
    });
    assert_eq!(d.app.routes[i].verified, Some(Weights { old: Weight(90), new: Weight(10) }));

    // Someone changes new's record between the proposal and the confirm:
    // the executor reads again first and writes nothing.
    let p = step_www(&mut d);
    d.peers.post("/route53/records", json!({"set_identifier": "eks-2026", "weight": 7}));
    d.peers.post("/requests/clear", Value::Null);
    // Just after a step: min_dwell asks for the second confirmation too.
    assert_eq!(p.needed, 2, "{:?}", p.lines);
    d.press("yY");
    let results = d.execute();
    let [EffectResult::Refused { reason }] = &results[..] else { panic!("{results:?}") };
    assert!(reason.contains("route www changed since you looked"), "{reason}");
    assert!(reason.contains("you saw eks-2022=90, eks-2026=10, the records are eks-2022=90, eks-2026=7"), "{reason}");
    assert_eq!(d.peers.mutating_requests(), Vec::<Value>::new(), "nothing written");
    let now = d.peers.get("/route53/records").as_array().cloned().unwrap();
    assert_eq!((weight(&now, "eks-2022"), weight(&now, "eks-2026")), (json!(90), json!(7)));
}

#[test]
fn a_dry_run_step_sends_no_batch_and_answers_with_it() {
    with_route53();
    let mut d = Driver::start(true);
    let p = step_www(&mut d);
    // No CloudWatch minute of the records' load balancers yet: `Y` after `y`.
    assert_eq!(p.needed, 2, "{:?}", p.lines);
    d.peers.post("/requests/clear", Value::Null);
    d.press("yY");
    let results = d.execute();
    let [EffectResult::DryRun { calls }] = &results[..] else { panic!("{results:?}") };
    assert_eq!(calls.len(), 1);
    let text = &calls[0];
    assert!(
        text.starts_with("dry run: nothing sent. aws route53 change-resource-record-sets --hosted-zone-id"),
        "{text}"
    );
    let batch: Value = serde_json::from_str(text[text.find('{').unwrap()..].trim_end_matches('\'')).unwrap();
    let changes: Vec<(&str, &str, i64)> = batch["Changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = &c["ResourceRecordSet"];
            (c["Action"].as_str().unwrap(), r["SetIdentifier"].as_str().unwrap(), r["Weight"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("DELETE", "eks-2022", 100),
            ("CREATE", "eks-2022", 90),
            ("DELETE", "eks-2026", 0),
            ("CREATE", "eks-2026", 10)
        ]
    );
    // It read the records (to show them as they are), and wrote nothing.
    let ops = r53_ops(&d.peers);
    assert!(ops.contains(&"ListResourceRecordSets".to_string()), "{ops:?}");
    assert!(!ops.iter().any(|o| o == "ChangeResourceRecordSets" || o == "GetChange"), "{ops:?}");
    assert_eq!(d.peers.mutating_requests(), Vec::<Value>::new());
    let records = d.peers.get("/route53/records");
    let weights: Vec<i64> = records.as_array().unwrap().iter().map(|r| r["Weight"].as_i64().unwrap()).collect();
    assert_eq!(weights, [100, 0]);
}

const REGISTRY: &str = "\"heritage=external-dns,external-dns/owner=eks-2026,external-dns/resource=ingress/web/www\"";

#[test]
fn a_record_in_external_dns_registry_is_owned_and_a_step_needs_the_override() {
    with_route53();
    let mut d = Driver::start_prepared(false, |peers| {
        // ExternalDNS's registry since 0.11: `a-` in front, for new's record;
        // the older form, the record's own name, for old's.
        peers.post(
            "/route53/txt",
            json!({"name": "a-www.example.test.", "set_identifier": "eks-2026", "value": REGISTRY}),
        );
        let old =
            REGISTRY.replace("owner=eks-2026", "owner=eks-2022").replace("ingress/web/www", "ingress/web/www-2022");
        peers.post("/route53/txt", json!({"set_identifier": "eks-2022", "weight": 100, "value": old}));
    });

    // read_owner, directly.
    let route = d.plan.routes_of(PlanRoute::route53).next().unwrap();
    let r53 = cutover::sources::aws::route53_client(&d.clients.sdk);
    let owners = d.rt.block_on(read::read_owner(&r53, &route)).unwrap();
    let owner = |id: &str, resource: &str| Owner::ExternalDns { owner_id: id.into(), resource: Some(resource.into()) };
    assert_eq!(
        owners,
        PerSide::new(Some(owner("eks-2022", "ingress/web/www-2022")), Some(owner("eks-2026", "ingress/web/www")))
    );

    // The console names the owner (new's: it would put the new weight back).
    d.until("www's owners read", |app| app.routes[www(app)].owners.is_some());
    let owners = d.app.routes[www(&d.app)].owners.clone().unwrap();
    assert_eq!(owners.rule, Some(owner("eks-2026", "ingress/web/www")));
    assert!(
        d.app
            .events
            .iter()
            .any(|e| e.text.contains("route www: ExternalDNS (owner eks-2026, from ingress/web/www) owns the rule")),
        "{:?}",
        d.app.events
    );

    let p = step_www(&mut d);
    let o = p.typed_override.as_ref().expect("a step its owner would put back needs the typed override");
    assert_eq!(o.owner, "ExternalDNS (owner eks-2026, from ingress/web/www)");
    let advice = p.lines.iter().find(|l| l.contains("will put the weight back")).unwrap();
    assert!(
        advice.contains("change the annotation `external-dns.alpha.kubernetes.io/aws-weight` on ingress/web/www"),
        "{advice}"
    );
    d.press("y");
    assert!(sent().is_empty(), "`y` does not confirm an override");
}

#[test]
fn watch_sends_no_mutating_call_while_it_reads_the_records() {
    with_route53();
    let mut c = LiveConsole::start("empty", Mode::Watch);
    c.until("www read", Duration::from_secs(30), |app| app.routes[www(app)].read.is_some());
    // A few polls (5 s apart), and the operator trying to step in watch.
    c.app.ui.focus = Panel::Traffic;
    c.app.ui.selected[Panel::Traffic.index()] = www(&c.app);
    for key in "]y".chars() {
        c.apply(Msg::Key(Key::char(key)));
    }
    assert!(sent().is_empty(), "watch makes no effect");
    c.pump(Duration::from_secs(11));
    let requests = c.peers.requests("aws");
    let ops: Vec<&str> = requests.iter().map(|r| r["op"].as_str().unwrap()).collect();
    let writes: Vec<&&str> = ops
        .iter()
        .filter(|o| {
            ["Change", "Modify", "Create", "Delete", "Put", "Set", "Register", "Deregister"]
                .iter()
                .any(|p| o.starts_with(p))
        })
        .collect();
    assert_eq!(writes, Vec::<&&str>::new());
    assert_eq!(c.peers.mutating_requests(), Vec::<Value>::new(), "nothing mutating, AWS or Kubernetes");
    let lists = ops.iter().filter(|o| **o == "ListResourceRecordSets").count();
    assert!(lists >= 3, "the records are read on every poll: {ops:?}");
}

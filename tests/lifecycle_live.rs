//! The node lifecycle against the load balancer, against the real peers
//! (moto, kmock): `cutover check` names each risk with the bad setting and
//! not with the right one; a denied call loses only its own fact, said
//! once; Auto Scaling activities and CloudTrail events reach the console
//! as node signals at their own times; a draining target is counted.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::live::LiveConsole;
use common::peers::Peers;
use cutover::app::Mode;
use cutover::domain::lifecycle::RiskKind;
use cutover::domain::{NodeSignalKind, Side, TargetState};
use serde_json::json;

const GATE: &str = "elbv2.k8s.aws/pod-readiness-gate-inject";

/// `cutover check`, each of whose lines is within 200 characters.
fn check(plan: &Path) -> (i32, String) {
    let (code, text) = common::peers::check(plan);
    for line in text.lines() {
        assert!(line.chars().count() <= 200, "a line of {} characters:\n{line}", line.chars().count());
    }
    (code, text)
}

/// `check`'s findings, each with its continued lines joined to it (a
/// finding's detail wraps under itself).
fn findings(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        match out.last_mut() {
            Some(last) if line.starts_with(&" ".repeat(25)) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => out.push(line.to_string()),
        }
    }
    out
}

/// The risk findings of one side about one route: each finding up to what
/// it means (`WARN  risk new  api: …`).
fn risks(text: &str, side: &str, route: &str) -> Vec<String> {
    let area = format!("risk {side}");
    findings(text)
        .into_iter()
        .filter(|l| l.trim_start().starts_with("WARN") && l.contains(&area) && l.contains(&format!("{route}: ")))
        .map(|l| l.split(" means: ").next().unwrap_or_default().to_string())
        .collect()
}

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

/// The route `api` on new, as set up the night of the founding incident:
/// pods with no preStop pause and a 30 s grace, a 300 s deregistration
/// delay, no readiness gate, Spot nodes in a group with capacity
/// rebalance, and no termination handler.
fn founding_night(peers: &Peers) {
    peers.spot_node_group("new", "photo-spot-2026", true);
    peers.set_deregistration_delay("api-new", 300);
}

#[test]
fn each_risk_is_found_with_the_bad_setting_and_explained() {
    let peers = Peers::start("realistic");
    founding_night(&peers);
    let (code, text) = check(&peers.plan_path());
    assert_eq!(code, 0, "risks are warnings, never a failed check:\n{text}");
    let api = risks(&text, "new", "api");
    for expected in [
        "app/api has no preStop pause (target group api-new, IP targets)",
        "app/api grace 30s < deregistration 300s (target group api-new)",
        "namespace app has no pod readiness gate",
        "pod(s) on 3 Spot node(s), no termination handler",
        "node group photo-spot-2026 (ASG photo-spot-2026) has capacity rebalance on, no termination handler",
    ] {
        assert!(has(&api, expected), "missing `{expected}` in:\n{text}");
    }
    assert!(text.contains("means: the ALB keeps sending new requests"), "{text}");
    assert!(text.contains("change: add a preStop pause of at least 15s"), "{text}");
    assert!(text.contains("all checks passed ("), "{text}");
    assert!(peers.mutating_requests().is_empty(), "check only reads");
}

#[test]
fn the_right_settings_raise_no_risk() {
    let peers = Peers::start("realistic");
    founding_night(&peers);
    peers.set_stop("new", "app", "api", Some(20), 90);
    peers.set_deregistration_delay("api-new", 60);
    peers.label_namespace("new", "app", GATE, Some("enabled"));
    peers.add_nth_daemonset("new");
    let (_, text) = check(&peers.plan_path());
    assert_eq!(risks(&text, "new", "api"), Vec::<String>::new(), "{text}");

    // A short pause, and a grace within it.
    peers.set_stop("new", "app", "api", Some(5), 5);
    let (_, text) = check(&peers.plan_path());
    let api = risks(&text, "new", "api");
    assert!(has(&api, "app/api preStop sleep 5s < 15s"), "{text}");
    assert!(has(&api, "app/api grace 5s <= preStop sleep 5s"), "{text}");
    assert!(has(&api, "app/api grace 5s < deregistration 60s"), "{text}");
    assert!(!has(&api, "no preStop pause") && !has(&api, "Spot node"), "{text}");

    // The handler gone: Spot and rebalance are risks again.
    peers.set_stop("new", "app", "api", Some(20), 90);
    peers.remove_nth_daemonset("new");
    let (_, text) = check(&peers.plan_path());
    let api = risks(&text, "new", "api");
    assert!(has(&api, "Spot node(s), no termination handler"), "{text}");
    assert!(has(&api, "has capacity rebalance on"), "{text}");
    assert_eq!(api.len(), 2, "{text}");
}

/// Karpenter acts on Spot notices only with an interruption queue.
#[test]
fn karpenter_handles_spot_only_with_its_interruption_queue() {
    let peers = Peers::start("realistic");
    founding_night(&peers);
    peers.add_karpenter("new", None);
    let (_, text) = check(&peers.plan_path());
    let api = risks(&text, "new", "api");
    assert!(
        has(
            &api,
            "no termination handler; Karpenter (karpenter/karpenter) without an interruption queue does not act on Spot notices"
        ),
        "{text}"
    );
    peers.add_karpenter("new", Some("photo-2026-interruptions"));
    let (_, text) = check(&peers.plan_path());
    let api = risks(&text, "new", "api");
    assert!(!has(&api, "Spot node") && !has(&api, "capacity rebalance"), "{text}");
}

/// A Route 53 route's side is carried by its load balancer's one target
/// group (www's new side: www-2026); a load balancer of several target
/// groups (the old side's, photo-api) names none, and its side is not
/// judged.
#[test]
fn a_dns_routes_target_group_is_its_load_balancers_only_one() {
    // SAFETY: first thing in the test's process (nextest runs one test per
    // process), before any thread; the harness inherits it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PEERS_ROUTE53", "1");
    }
    let peers = Peers::start("realistic");
    peers.set_deregistration_delay("www-2026", 120);
    let (code, text) = check(&peers.plan_path());
    assert_eq!(code, 0, "{text}");
    let www = risks(&text, "new", "www");
    assert!(has(&www, "app/api grace 30s < deregistration 120s (target group www-2026)"), "{text}");
    assert!(risks(&text, "old", "www").is_empty(), "{text}");
}

#[test]
fn a_plan_with_every_setting_right_says_what_was_judged() {
    let peers = Peers::start("realistic");
    founding_night(&peers);
    for side in ["old", "new"] {
        for route in ["api", "admin"] {
            peers.set_stop(side, "app", route, Some(20), 90);
            peers.set_deregistration_delay(&format!("{route}-{side}"), 60);
        }
        peers.label_namespace(side, "app", GATE, Some("enabled"));
        peers.label_namespace(side, "batch", GATE, Some("enabled"));
        peers.add_nth_daemonset(side);
    }
    let (code, text) = check(&peers.plan_path());
    assert_eq!(code, 0, "{text}");
    let ok: Vec<&str> = text.lines().filter(|l| l.contains("no lifecycle risks found (")).collect();
    assert_eq!(ok.len(), 1, "{text}");
    assert!(ok[0].trim_start().starts_with("ok"), "{text}");
    assert!(ok[0].contains("4 target group(s)") && ok[0].contains("1 Auto Scaling group(s)"), "{text}");
    assert!(!text.contains("risk new") && !text.contains("risk old"), "{text}");
}

#[test]
fn a_denied_call_loses_only_its_own_fact_and_is_said_once() {
    let peers = Peers::start("realistic");
    founding_night(&peers);
    peers.aws_fault(json!({"ops": ["DescribeAutoScalingGroups"], "code": "AccessDenied", "status": 403}));
    peers.deny("new", json!({"verb": "list", "group": "apps", "resource": "daemonsets"}));
    let (code, text) = check(&peers.plan_path());
    assert_eq!(code, 0, "{text}");
    let denied: Vec<String> = findings(&text)
        .into_iter()
        .filter(|l| {
            l.contains(
                "autoscaling:DescribeAutoScalingGroups denied: capacity rebalance of the node groups is not judged",
            )
        })
        .collect();
    assert_eq!(denied.len(), 1, "said once:\n{text}");
    assert!(denied[0].trim_start().starts_with("WARN"), "{text}");
    let rbac: Vec<String> =
        findings(&text).into_iter().filter(|l| l.contains("[new] list daemonsets.apps cluster-wide denied")).collect();
    assert_eq!(rbac.len(), 1, "{text}");
    let api = risks(&text, "new", "api");
    // What was read is judged; what was denied raises nothing.
    assert!(has(&api, "has no preStop pause") && has(&api, "grace 30s < deregistration 300s"), "{text}");
    assert!(!has(&api, "capacity rebalance") && !has(&api, "Spot node"), "{text}");
}

/// The old side as EC2 behind the ALB: its Auto Scaling group terminates
/// instances without deregistering them while the route's target group is
/// not attached to it.
#[test]
fn an_ec2_group_without_the_target_group_attached_is_a_risk_until_attached() {
    let peers = Peers::start("realistic");
    let arn = peers.ec2_group("photo-old-ec2", "api-old-ec2", false);
    // The listener forwards to the EC2 target group, as the plan says.
    peers.post(
        "/elb/forward",
        json!({"route": "api", "groups": [{"name": "api-old-ec2", "weight": 75}, {"name": "api-new", "weight": 25}]}),
    );
    let text = std::fs::read_to_string(peers.plan_path()).unwrap();
    let start = text.find("[old]").unwrap();
    let end = start + text[start..].find("[new]").unwrap();
    let old_tg = text.lines().find_map(|l| l.strip_prefix("old_target_group = ")).unwrap().to_string();
    let plan = format!("{}{}", &text[..start], &text[end..]).replacen(&old_tg, &format!("\"{arn}\""), 1);
    let path = peers.dir.join("ec2-old.toml");
    std::fs::write(&path, plan).unwrap();

    let (code, text) = check(&path);
    assert_eq!(code, 0, "{text}");
    let api = risks(&text, "old", "api");
    assert_eq!(api.len(), 1, "{text}");
    assert!(
        api[0].contains(
            "ASG photo-old-ec2 (capacity rebalance on) holds targets of api-old-ec2 but does not have it attached"
        ),
        "{text}"
    );
    assert!(text.contains("change: attach target group api-old-ec2 to photo-old-ec2"), "{text}");

    peers.ec2_group("photo-old-ec2", "api-old-ec2", true);
    let (_, text) = check(&path);
    assert!(risks(&text, "old", "api").is_empty(), "{text}");
}

/// The live console's sources: the lifecycle facts and the risks, the
/// Auto Scaling activities and CloudTrail events of the Spot nodes as node
/// signals at their own times, and nothing of an instance that is not the
/// routes'.
#[test]
fn activities_and_bid_evictions_arrive_as_node_signals_at_their_times() {
    let mut placed = Vec::new();
    let mut times = Vec::new();
    let mut console = LiveConsole::start_with("realistic", Mode::Watch, |peers| {
        placed = peers.spot_node_group("new", "photo-spot-2026", true);
        let on = |i: usize| placed[i].1.clone();
        let a = peers.add_activities(json!({"activities": [
            {"group": "photo-spot-2026", "instance": on(0), "minutes_ago": 4},
            {"group": "photo-spot-2026", "instance": on(1), "minutes_ago": 6,
             "cause": "At 2026-12-08T01:00:00Z a user request update of AutoScalingGroup constraints changed the desired capacity."},
            {"group": "photo-spot-2026", "instance": on(2), "minutes_ago": 90},
        ]}));
        let t = peers.add_trail_events(json!({"events": [
            {"name": "BidEvictedEvent", "instances": [on(3)], "minutes_ago": 10},
            {"name": "TerminateInstances", "instances": ["i-0notours00000000"], "minutes_ago": 2},
        ]}));
        times = vec![a[0]["start"].clone(), a[1]["start"].clone(), t[0]["time"].clone()];
    });
    let at = |v: &serde_json::Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let node = |i: usize| placed[i].0.clone();
    console.until("the lifecycle facts and their risks", Duration::from_secs(60), |app| {
        app.lifecycle.is_some() && app.risks.iter().any(|r| r.kind == RiskKind::RebalanceWithoutHandler)
    });
    let facts = console.app.lifecycle.clone().unwrap();
    assert_eq!(facts.scaling_groups.len(), 1, "{facts:?}");
    assert_eq!(facts.scaling_groups[0].node_group.as_deref(), Some("photo-spot-2026"));
    assert!(facts.scaling_groups[0].capacity_rebalance);
    let wanted = [
        (NodeSignalKind::AsgRebalance, node(0), at(&times[0])),
        (NodeSignalKind::AsgTermination, node(1), at(&times[1])),
        (NodeSignalKind::SpotBidEvicted, node(3), at(&times[2])),
    ];
    console.until("the three signals", Duration::from_secs(60), |app| {
        wanted.iter().all(|(kind, node, _)| app.node_signals.iter().any(|s| s.kind == *kind && s.node == *node))
    });
    for (kind, node, time) in &wanted {
        let s = console.app.node_signals.iter().find(|s| s.kind == *kind && s.node == *node).unwrap();
        assert_eq!(s.side, Side::New);
        assert!((s.at - *time).abs().get_seconds() <= 1, "{kind:?} at {} not {time}", s.at);
    }
    let bid = console.app.node_signals.iter().find(|s| s.kind == NodeSignalKind::SpotBidEvicted).unwrap();
    let ago = jiff::Timestamp::now() - bid.at;
    assert!((590..=660).contains(&ago.get_seconds()), "placed 10 minutes back, not when read: {ago:?}");
    assert!(!console.app.node_signals.iter().any(|s| s.node == node(2)), "an activity of 90 minutes ago is history");
    assert!(
        !console.app.node_signals.iter().any(|s| s.kind == NodeSignalKind::InstanceTerminated),
        "another instance's termination is not the routes'"
    );
    let ops: Vec<String> =
        console.peers.requests("aws").iter().map(|r| r["op"].as_str().unwrap().to_string()).collect();
    for op in ["DescribeAutoScalingInstances", "DescribeAutoScalingGroups", "DescribeScalingActivities", "LookupEvents"]
    {
        assert!(ops.iter().any(|o| o == op), "{op} not called: {ops:?}");
    }
    assert_eq!(ops.iter().filter(|o| *o == "LookupEvents").count(), 2, "one call per event name per poll");
    // The protocols the SDK speaks: awsQuery for Auto Scaling, awsJson1_1
    // for CloudTrail (the proxy answers both in them).
    let requests = console.peers.requests("aws");
    let request = |op: &str| requests.iter().find(|r| r["op"].as_str() == Some(op)).unwrap().clone();
    assert_eq!(request("DescribeScalingActivities")["protocol"], "query");
    assert_eq!(request("LookupEvents")["protocol"], "json-1.1");
    assert_eq!(request("LookupEvents")["target"], "CloudTrail_20131101.LookupEvents");
}

/// A denied DescribeScalingActivities makes that source stale with the
/// IAM action it needs, once; the CloudTrail source reads on.
#[test]
fn a_denied_activities_call_stops_only_its_source() {
    let mut console = LiveConsole::start_with("realistic", Mode::Watch, |peers| {
        let placed = peers.spot_node_group("new", "photo-spot-2026", true);
        peers.add_trail_events(json!({"name": "BidEvictedEvent", "instances": [placed[0].1], "minutes_ago": 3}));
        peers.aws_fault(json!({"ops": ["DescribeScalingActivities"], "code": "AccessDenied", "status": 403}));
    });
    use cutover::app::{SourceId, SourceState};
    use cutover::domain::SignalSource;
    let asg = SourceId::Signals(SignalSource::AutoScaling);
    console.until("the Auto Scaling source stale, denied", Duration::from_secs(60), |app| {
        matches!(app.sources.get(&asg), Some(SourceState::Stale { error, .. }) if error.contains("autoscaling:DescribeScalingActivities"))
    });
    console.until("the bid eviction", Duration::from_secs(60), |app| {
        app.node_signals.iter().any(|s| s.kind == NodeSignalKind::SpotBidEvicted)
    });
    console.pump(Duration::from_secs(3));
    let calls =
        console.peers.requests("aws").iter().filter(|r| r["op"].as_str() == Some("DescribeScalingActivities")).count();
    assert_eq!(calls, 1, "a denied call is not tried again");
}

/// moto drops a deregistered target at once; the proxy shows it draining
/// as ELB does, and the console counts it.
#[test]
fn a_draining_target_is_counted() {
    let mut draining = String::new();
    let mut console = LiveConsole::start_with("realistic", Mode::Watch, |peers| {
        draining = peers.drain_target("api-new");
    });
    let id = draining.clone();
    console.until("the draining target read", Duration::from_secs(60), move |app| {
        app.routes[0].read.as_ref().is_some_and(|r| {
            r.targets.new.iter().any(|t| {
                t.id.starts_with(&id)
                    && t.state == TargetState::Draining
                    && t.reason.as_deref() == Some("Target.DeregistrationInProgress")
            })
        })
    });
    let read = console.app.routes[0].read.clone().unwrap();
    assert_eq!(read.targets.new.iter().filter(|t| t.state == TargetState::Draining).count(), 1);
    assert_eq!(read.targets.new.len(), 6, "five registered and one draining");
}

//! The founding night against the real peers: the new side's `api` on a
//! Spot managed node group with capacity rebalance and no termination
//! handler, its pods without a `preStop` pause and with 30 s of grace
//! against the target group's 300 s deregistration delay. A Spot node
//! holding api pods is rebalanced away; the 502s rise in CloudWatch; the
//! console names the node, the group's activity and the risks as the
//! likely cause, and the report of its recording says the same.
//!
//! What the test plays, since the peers run none of it:
//! - the node group (EC2 Auto Scaling and EKS's drain): moto holds the
//!   group and its instances, but answers DescribeScalingActivities with
//!   an empty list, so the harness's proxy answers it with the activity
//!   the test places (`/aws/activities`, AWS's query wire format); the
//!   test cordons the node, evicts its pods and deletes it, as EKS's
//!   lifecycle hook and the instance's end do;
//! - the Deployment controller: each evicted pod is replaced by one on
//!   another node;
//! - the load balancer's count of it: the 5xx minutes are put into
//!   CloudWatch (moto) for api's new target group.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::cloudwatch::{CloudWatch, Traffic};
use common::live::LiveConsole;
use cutover::app::Mode;
use cutover::domain::lifecycle::RiskKind;
use cutover::domain::{Minute, NodeSignalKind, Side, WorkloadKey, short_node};
use serde_json::json;

/// Longer than a minute's poll of the activities and of the metrics, with
/// the SDK's retries.
const NEXT_POLLS: Duration = Duration::from_secs(150);

#[test]
fn a_rebalanced_spot_node_is_named_as_the_cause_of_the_502s_with_the_risks_that_made_it_hurt() {
    let mut group = Vec::new();
    let mut console = LiveConsole::start_with("realistic", Mode::Watch, |peers| {
        group = peers.spot_node_group("new", "photo-spot-2026", true);
        peers.set_deregistration_delay("api-new", 300);
        peers.set_stop("new", "app", "api", None, 30);
    });
    let path = std::env::temp_dir().join(format!("cutover-night-live-{}.jsonl", std::process::id()));
    console.record_to(&path);
    let api = WorkloadKey::new("app", "api");
    let before_the_night = [
        RiskKind::NoPreStop,
        RiskKind::GraceBelowDeregistration,
        RiskKind::SpotWithoutHandler,
        RiskKind::RebalanceWithoutHandler,
    ];
    console.until("the night's risks, judged from the start", NEXT_POLLS, |app| {
        let api_new: Vec<RiskKind> = app
            .risks
            .iter()
            .filter(|r| r.side == Side::New && r.route.as_deref() == Some("api"))
            .map(|r| r.kind)
            .collect();
        before_the_night.iter().all(|k| api_new.contains(k))
    });

    // A Spot node of the group that holds api pods.
    let new = &console.app.clusters.new;
    let (node, instance) = group
        .iter()
        .find(|(n, _)| new.pods_of(&api).any(|p| p.node.as_deref() == Some(n.as_str())))
        .cloned()
        .unwrap_or_else(|| panic!("no node of the group holds api pods: {group:?}"));
    let victims: Vec<String> =
        new.pods_of(&api).filter(|p| p.node.as_deref() == Some(node.as_str())).map(|p| p.key.name.clone()).collect();
    let elsewhere = new.nodes.keys().find(|n| **n != node).cloned().unwrap();

    // The group's activity, as the rebalance starts it.
    console
        .peers
        .add_activities(json!({"activities": [{"group": "photo-spot-2026", "instance": instance, "minutes_ago": 0}]}));
    // EKS's drain: the cordon first, then the evictions.
    let mut n = console.peers.object("new", "v1/nodes", "", &node);
    n["spec"]["unschedulable"] = json!(true);
    console.peers.apply("new", n);
    console.until("the cordon", NEXT_POLLS, |app| {
        app.node_signals.iter().any(|s| s.node == node && s.kind == NodeSignalKind::Cordon)
    });
    for pod in &victims {
        let mut replacement = console.peers.object("new", "v1/pods", "app", pod);
        console.peers.delete("new", "v1/pods", "app", pod);
        // The Deployment controller's replacement, on another node.
        replacement["metadata"]["name"] = json!(format!("{pod}-r"));
        replacement["metadata"].as_object_mut().unwrap().remove("resourceVersion");
        replacement["metadata"].as_object_mut().unwrap().remove("uid");
        replacement["spec"]["nodeName"] = json!(elsewhere);
        console.peers.apply("new", replacement);
    }
    console.until("the pods counted as lost", NEXT_POLLS, |app| {
        app.pods_lost.iter().filter(|l| l.node == node && l.workload == api).map(|l| l.count).sum::<u32>()
            == victims.len() as u32
    });
    // The instance ends: its node goes.
    console.peers.delete("new", "v1/nodes", "", &node);

    // The load balancer counts the resets: 6% of new's requests.
    let now = Minute::containing(jiff::Timestamp::now());
    CloudWatch::new(&console.peers, "api").put(
        Side::New,
        &[now.offset(-1), now],
        Traffic { requests: 1000.0, errors: 60.0, latency_ms: 130.0 },
    );

    let short = short_node(&node).to_string();
    console.until("the likely cause, named", NEXT_POLLS, |app| {
        app.causes.iter().any(|c| {
            c.route == "api"
                && c.side == Side::New
                && c.text.contains(&format!("on {short} (spot) stopped by ASG capacity rebalance"))
                && c.text.contains("grace 30s < deregistration 300s")
                && c.text.contains("no termination handler on new")
        })
    });
    let cause = console.app.causes.iter().rev().find(|c| c.route == "api" && c.side == Side::New).unwrap().clone();
    assert!(cause.text.contains(&format!("{} api pod", victims.len())), "the pods lost are counted: {}", cause.text);
    assert!(
        console.app.events.iter().any(|e| e.text.starts_with("likely cause") && e.text.contains(&short)),
        "said in the events"
    );
    // The route drill-down says it.
    let route = console.app.routes.iter().position(|r| r.spec.name == "api").unwrap();
    console.app.ui.view = cutover::app::View::Route(route);
    let screen = console.screen();
    assert!(screen.contains("likely cause   new"), "{screen}");

    // The report of the recording says the same.
    drop(console.recorder.take());
    let report = cutover::report::build(&cutover::record::read(&path).unwrap());
    let md = report.markdown();
    assert!(md.contains("## Likely causes"), "{md}");
    let causes = &md[md.find("## Likely causes").unwrap()..];
    let line = causes
        .lines()
        .find(|l| l.starts_with("| api | new |") && l.contains(&short))
        .unwrap_or_else(|| panic!("no cause row for api new naming {short}:\n{md}"));
    assert!(line.contains("ASG capacity rebalance") && line.contains("grace 30s < deregistration 300s"), "{line}");
    assert!(md.contains("## Lifecycle risks") && md.contains("grace 30s < deregistration 300s"), "{md}");
    let _ = std::fs::remove_file(&path);
}

//! The live read path against real peers: moto (ELBv2, CloudWatch) behind
//! the harness's logging proxy and two kmock Kubernetes APIs, seeded with a
//! mid-cutover photo service by `tests/harness/peers.py`.
//!
//! The sources run in this process and feed a console through `update`, as
//! `cutover watch` does; assertions read the console's state and screen.
//!
//! Waits are generous upper bounds for a loaded 2-core machine, not speed
//! goals: how fast things show is measured and written down in the README.
//!
//! Peer gaps, documented where they matter: moto reports every registered
//! target healthy (no unhealthy target can be seeded), and kmock ignores
//! label and field selectors and runs no controllers.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::live::LiveConsole;
use common::peers::{Peers, fake_aws_credentials};
use cutover::app::{App, Mode, SourceId, SourceState};
use cutover::domain::{Minute, Side, Weight, Weights};
use serde_json::json;

/// An upper bound for anything to show up (the ALB is polled every 5 s).
const WAIT: Duration = Duration::from_secs(30);

fn weights(app: &App, route: usize) -> Option<Weights> {
    app.routes[route].read.as_ref().and_then(|r| r.weights)
}

fn has_workload(app: &App, side: Side, ns: &str, name: &str) -> bool {
    app.clusters.get(side).workloads.keys().any(|k| k.namespace == ns && k.name == name)
}

#[test]
fn watch_shows_weights_health_metrics_and_both_clusters() {
    let mut s = LiveConsole::start("realistic", Mode::Watch);
    let took = s.until("weights, targets, metrics and workloads of both sides", WAIT, |app| {
        weights(app, 0).is_some()
            && weights(app, 1).is_some()
            && !app.routes[0].metrics.old.requests.is_empty()
            && has_workload(app, Side::Old, "app", "api")
            && has_workload(app, Side::New, "app", "api")
            && app.clusters.new.pods.len() > 10
    });
    eprintln!("everything on screen after {took:?}");
    let app = &s.app;
    assert_eq!(weights(app, 0), Some(Weights { old: Weight(75), new: Weight(25) }));
    assert_eq!(weights(app, 1), Some(Weights { old: Weight(100), new: Weight(0) }));
    let read = app.routes[0].read.as_ref().unwrap();
    assert!(!read.targets.old.is_empty() && !read.targets.new.is_empty(), "target health of both groups");

    // Workloads: matched across sides, drift, crash loop, singletons, one-sided.
    let rows = app.workload_rows();
    let row = |name: &str| rows.iter().find(|r| r.key.name == name).unwrap_or_else(|| panic!("no row {name}"));
    assert!(row("sidekiq-mailers").drift, "the mailer's image differs between the sides");
    assert!(!row("api").drift);
    assert!(row("sidekiq-gpu").sides.new.as_ref().unwrap().crashing > 0, "the new GPU worker crash-loops");
    assert!(row("legacy-thumbnailer").sides.new.is_none(), "old-only workload has a row");
    assert!(row("scheduler").singleton.is_some() && !row("scheduler").singleton_conflict);
    assert_eq!(row("api").sides.old.as_ref().unwrap().pods, 6, "pods traced to their Deployment");
    let signals: Vec<_> = app.node_signals.iter().filter(|s| s.side == Side::New).map(|s| s.kind).collect();
    assert!(signals.contains(&cutover::domain::NodeSignalKind::Rebalance), "{signals:?}");
    assert!(app.events.iter().any(|e| e.text.contains("BackOff")), "warning events shown");
    let hpa = app.clusters.new.autoscalers.values().find(|a| a.target.name == "api").expect("the api's autoscaler");
    assert!(hpa.max >= hpa.min && hpa.max > 0, "{hpa:?}");

    // 5xx percentages computed from exactly the seeded datapoints; minutes
    // with no datapoint are no data, not zero.
    let expected = s.peers.expected();
    let route = &app.routes[0];
    let mut compared = 0;
    for (side, key) in [(Side::Old, "old"), (Side::New, "new")] {
        let series = &expected["routes"]["api"][key]["metrics"];
        let requests = series["RequestCount"].as_object().unwrap();
        let errors = series["HTTPCode_Target_5XX_Count"].as_object().unwrap();
        for (epoch, value) in requests {
            let minute = Minute(epoch.parse::<i64>().unwrap() / 60);
            let got = route.metrics.get(side).requests.get(minute);
            assert_eq!(got, value.as_f64(), "{side} requests at {epoch}");
            let e = errors.get(epoch).and_then(|v| v.as_f64());
            let rate = cutover::domain::error_rate(got, route.metrics.get(side).target_5xx.get(minute));
            assert_eq!(rate, Some(e.unwrap_or(0.0) / value.as_f64().unwrap()), "{side} 5xx share at {epoch}");
            compared += 1;
        }
    }
    assert!(compared > 40, "compared {compared} minutes");
    let gaps: Vec<i64> =
        expected["no_data"]["api"]["old"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert!(!gaps.is_empty());
    for epoch in gaps {
        assert_eq!(route.metrics.old.requests.get(Minute(epoch / 60)), None, "minute {epoch} has no data");
    }

    let screen = s.screen();
    assert!(screen.contains("WATCH") && screen.contains("read-only"), "{screen}");
    assert!(screen.contains("read 75/25"), "{screen}");
    assert!(screen.contains("eks-old") && screen.contains("eks-new"), "{screen}");
    for secret in ["s3cr3t-never-record", "DATABASE_PASSWORD"] {
        assert!(
            !format!("{screen}{:?}", app.clusters.new.workloads).contains(secret),
            "env values never reach the console"
        );
    }
}

#[test]
fn an_out_of_band_weight_change_shows() {
    let mut s = LiveConsole::start("realistic", Mode::Watch);
    s.until("first read", WAIT, |app| weights(app, 0).is_some());
    s.peers.post("/elb/weights", json!({"route": "api", "old": 50, "new": 50}));
    let took =
        s.until("the new weights", WAIT, |app| weights(app, 0) == Some(Weights { old: Weight(50), new: Weight(50) }));
    eprintln!("weight change seen after {took:?}");
    assert!(
        s.app
            .events
            .iter()
            .any(|e| e.text.starts_with("OUTSIDE CHANGE: route api weights old 75/new 25 -> old 50/new 50"))
    );
}

#[test]
fn a_deleted_pod_disappears() {
    let mut s = LiveConsole::start("realistic", Mode::Watch);
    // All listed (pages), not only the first few pods.
    s.until("both sides listed", WAIT, |app| app.clusters.old.synced && app.clusters.new.synced);
    let victim = s.app.clusters.new.pods.keys().find(|k| k.name.starts_with("api-")).unwrap().clone();
    let old_before: Vec<_> = s.app.clusters.old.pods.keys().cloned().collect();
    s.peers
        .post("/kube/new/delete", json!({"resource": "v1/pods", "namespace": victim.namespace, "name": victim.name}));
    let took = s.until("the pod gone", WAIT, |app| !app.clusters.new.pods.contains_key(&victim));
    eprintln!("deletion seen after {took:?}");
    assert!(old_before.iter().all(|k| s.app.clusters.old.pods.contains_key(k)), "the other side is untouched");
}

/// A pod killed for memory, as the kubelet writes it, and its BackOff
/// Event: the drill-down says why it fails.
#[test]
fn a_pod_killed_for_memory_says_so_in_the_drill_down() {
    let mut s = LiveConsole::start("realistic", Mode::Watch);
    // Listed in pages: more than a few pods is not all of them, a side
    // that has listed every watch is.
    s.until("both sides listed", WAIT, |app| app.clusters.old.synced && app.clusters.new.synced);
    let victim = s.app.clusters.old.pods.keys().find(|k| k.name.starts_with("api-")).unwrap().clone();
    let mut pod = s.peers.get(&format!("/kube/old/object?resource=v1/pods&namespace=app&name={}", victim.name));
    pod["status"]["containerStatuses"][0] = json!({
        "name": "api", "image": pod["spec"]["containers"][0]["image"], "restartCount": 4, "ready": false,
        "started": false,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                                     "startedAt": "2026-11-25T13:58:00Z", "finishedAt": "2026-11-25T13:59:31Z"}}
    });
    pod["status"]["conditions"] = json!([{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]);
    s.peers.post("/kube/old/apply", pod.clone());
    let now = jiff::Timestamp::now().to_string();
    s.peers.post(
        "/kube/old/apply",
        json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{}.oom", victim.name), "namespace": "app"},
            "involvedObject": {"kind": "Pod", "namespace": "app", "name": victim.name, "apiVersion": "v1"},
            "reason": "BackOff", "message": "Back-off restarting failed container api", "type": "Warning",
            "count": 4, "firstTimestamp": now, "lastTimestamp": now
        }),
    );
    s.until("the pod failing with its last exit, and its warning", WAIT, |app| {
        app.clusters.old.pods.get(&victim).is_some_and(|p| p.last_exit.is_some())
            && app.events.iter().any(|e| e.text.contains(&victim.name))
    });
    let pod = &s.app.clusters.old.pods[&victim];
    assert_eq!(pod.health(), cutover::domain::Health::Failing);
    assert_eq!(pod.last_exit.as_ref().map(ToString::to_string).as_deref(), Some("OOMKilled (137)"));

    s.app.ui.view = cutover::app::View::Workload(cutover::domain::WorkloadKey::new("app", "api"));
    let screen = s.screen();
    let line =
        screen.lines().find(|l| l.contains(&victim.name)).unwrap_or_else(|| panic!("no row for the pod:\n{screen}"));
    for shown in ["CrashLoopBackOff", "OOMKilled (137)", "BackOff"] {
        assert!(line.contains(shown), "{shown} missing from the pod's row: {line}\n{screen}");
    }
    // The other api pods of that side are running and say nothing.
    let quiet = screen.lines().filter(|l| l.contains("api-") && !l.contains(&victim.name) && l.contains("Running"));
    assert!(quiet.clone().count() >= 5 && quiet.clone().all(|l| !l.contains("OOMKilled")), "{screen}");
}

#[test]
fn a_killed_emulator_turns_its_side_stale_and_it_recovers() {
    let mut s = LiveConsole::start("realistic", Mode::Watch);
    let live = |id| move |app: &App| matches!(app.sources.get(&id), Some(SourceState::Live { .. }));
    s.until("all sources live", WAIT, |app| {
        live(SourceId::Cluster(Side::New))(app)
            && live(SourceId::Traffic(cutover::domain::RouteKind::Alb))(app)
            && live(SourceId::Metrics(cutover::domain::MetricsKind::CloudWatch))(app)
    });

    s.peers.stop("new");
    s.until("new side stale", Duration::from_secs(20), |app| app.is_stale(SourceId::Cluster(Side::New)));
    let SourceState::Stale { error, .. } = &s.app.sources[&SourceId::Cluster(Side::New)] else { unreachable!() };
    assert!(error.contains("eks-new"), "the reason names the context: {error}");
    assert!(!s.app.is_stale(SourceId::Cluster(Side::Old)), "the old side is unaffected");
    let screen = s.screen();
    assert!(screen.contains("k8s new: STALE"), "{screen}");

    s.peers.resume("new");
    s.until("new side live again", Duration::from_secs(30), live(SourceId::Cluster(Side::New)));
    assert!(s.app.events.iter().any(|e| e.text.contains("k8s new live again")));

    s.peers.stop("aws");
    s.until("ALB stale", Duration::from_secs(15), |app| {
        app.is_stale(SourceId::Traffic(cutover::domain::RouteKind::Alb))
    });
    s.peers.resume("aws");
    s.until("ALB live again", Duration::from_secs(40), live(SourceId::Traffic(cutover::domain::RouteKind::Alb)));
    assert!(!s.app.is_stale(SourceId::Cluster(Side::Old)));
}

/// The real binary in a real terminal, every key pressed (and every
/// proposal confirmed): the peers' logs show reads only.
fn every_key_only_reads(name: &str, command: &str) {
    fake_aws_credentials();
    let peers = Peers::start("realistic");
    let t = common::tmux::Tmux::start(name);
    t.type_line(&format!(
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing CUTOVER_LOG=debug {} {command} --plan {} --log {}; echo EXIT=$?",
        env!("CARGO_BIN_EXE_cutover"),
        peers.plan_path().display(),
        peers.dir.join("cutover.log").display()
    ));
    t.wait_for("the live console", WAIT, |s| s.contains("read 75/25") && s.contains("app/api"));
    t.press_every_key_and_confirm();
    // Long enough for another ALB poll, the executor and watch traffic.
    std::thread::sleep(Duration::from_secs(6));
    // Apart, with pauses: an Escape and a `q` arriving in one read are
    // Alt-q to any terminal parser, and the console would not quit.
    t.send(&["Escape", "Escape", "q"]);
    eprintln!("console log: {}", peers.dir.join("cutover.log").display());
    let after = t.wait_for("exit", Duration::from_secs(10), |s| s.lines().any(|l| l.starts_with("EXIT=")));
    assert!(after.contains("EXIT=0"), "{after}");

    let mutating = peers.mutating_requests();
    assert!(mutating.is_empty(), "{command} must not change anything: {mutating:#?}");
    let aws: Vec<String> = peers.requests("aws").iter().map(|r| r["op"].as_str().unwrap_or("?").to_string()).collect();
    assert!(aws.iter().any(|op| op == "DescribeRules") && aws.iter().any(|op| op == "GetMetricData"), "{aws:?}");
    assert!(peers.requests("old").len() > 5 && peers.requests("new").len() > 5, "both clusters were read");
}

#[test]
fn watch_sends_no_mutating_request_whatever_is_pressed() {
    every_key_only_reads("watch-keys", "watch");
}

#[test]
fn a_dry_run_sends_no_mutating_request_whatever_is_confirmed() {
    every_key_only_reads("dry-run-keys", "run --dry-run");
}

/// The old side as EC2 behind its load balancer: a plan without `[old]`
/// reads both route kinds, with target health on both sides, and the
/// console has no old cluster to show. (moto registers EC2 instances only
/// when EC2 has them; the harness's targets are registered by address, which
/// is also how an EC2 fleet behind an `ip` target group looks.)
#[test]
fn without_kubernetes_on_the_old_side_both_route_kinds_are_read() {
    // SAFETY: first thing in the test's process (nextest runs one test per
    // process), before any thread; the harness inherits it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PEERS_ROUTE53", "1");
    }
    let mut s = LiveConsole::start_with("realistic", Mode::Watch, |peers| {
        let path = peers.plan_path();
        let text = std::fs::read_to_string(&path).unwrap();
        let start = text.find("[old]").unwrap();
        let end = start + text[start..].find("[new]").unwrap();
        std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
    });
    assert!(s.plan.old.is_none(), "the plan has no [old]");
    let kinds: Vec<_> = s.app.routes.iter().map(|r| r.kind()).collect();
    assert_eq!(
        kinds,
        vec![cutover::domain::RouteKind::Alb, cutover::domain::RouteKind::Alb, cutover::domain::RouteKind::Route53]
    );
    s.until("both kinds read, with target health per side", WAIT, |app| {
        app.routes.iter().all(|r| r.read.is_some())
            && app.routes[0].read.as_ref().is_some_and(|r| !r.targets.old.is_empty() && !r.targets.new.is_empty())
            && app.routes[2].read.as_ref().is_some_and(|r| !r.targets.old.is_empty())
    });
    assert_eq!(weights(&s.app, 0), Some(Weights { old: Weight(75), new: Weight(25) }));
    assert_eq!(weights(&s.app, 2), Some(Weights { old: Weight(100), new: Weight(0) }));
    assert!(s.app.routes[2].load_balancer(Side::Old).is_some_and(|lb| lb.starts_with("app/photo-api/")));
    assert!(s.app.clusters.old.workloads.is_empty(), "no old cluster is read");
    assert!(!matches!(s.app.sources.get(&SourceId::Cluster(Side::Old)), Some(SourceState::Live { .. })));
    let screen = s.screen();
    assert!(screen.contains("EC2 (no Kubernetes)"), "{screen}");
    assert!(screen.contains("www   dns"), "{screen}");
}

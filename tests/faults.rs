//! The fault matrix: what the driver sees, and what the peers hold
//! afterwards, when the world misbehaves during a cutover. AWS calls go
//! through the harness's fault-injecting proxy in front of moto; the two
//! Kubernetes APIs are kmock, with the harness's faults, deny rules and
//! evictions. kmock runs no controllers, so the tests play them: they
//! delete the pods of a scaled-down Deployment and set its status, and mark
//! a started one ready.
//!
//! Gaps of the peers, and what the tests do about them:
//! - moto's ELBv2 has no rate limit: throttling is the proxy answering
//!   `Throttling: Rate exceeded`, by count, not by rate.
//! - kmock has no RBAC: a deny rule of the harness answers 403 to the
//!   matching request and `allowed: false` to the matching access review.
//! - kmock runs no CronJob controller, so "no catch-up run" is asserted by
//!   what the console wrote (a `startingDeadlineSeconds` that the
//!   controller's rule puts the missed run past), not by a Job not created.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::live::Driver;
use common::sent;
use cutover::app::{AlarmKind, App, EffectResult, HandoffPhase, Modal, Msg, Panel, SourceId, SourceState};
use cutover::domain::{Side, Weights, plus_secs};
use serde_json::{Value, json};

/// A route's weights as moto holds them: (old, new).
fn weights(d: &Driver, route: &str) -> (i64, i64) {
    let w = d.peers.get(&format!("/elb/weights?route={route}"));
    let of = |side: &str| w[side].as_i64().unwrap_or_else(|| panic!("no {side} weight in {w}"));
    (of("old"), of("new"))
}

fn proposal(app: &App) -> cutover::app::Proposal {
    match &app.modal {
        Some(Modal::Proposal(p)) => p.clone(),
        other => panic!("a proposal is shown, not {other:?}; notice: {:?}", app.notice),
    }
}

fn select_singleton(d: &mut Driver, name: &str) {
    let i = d.app.workload_keys().iter().position(|k| k.name == name).unwrap();
    d.app.ui.focus = Panel::Workloads;
    d.app.ui.selected[Panel::Workloads.index()] = i;
}

fn replicas(d: &Driver, side: &str, name: &str) -> i64 {
    d.object(side, "apps/v1/deployments", "app", name)["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// Plays the Deployment controller after a scale to 0: the pods go and the
/// status says so.
fn old_scheduler_gone(d: &mut Driver) {
    let pods: Vec<String> = d
        .app
        .clusters
        .old
        .pods
        .values()
        .filter(|p| p.key.name.starts_with("scheduler-"))
        .map(|p| p.key.name.clone())
        .collect();
    for pod in pods {
        d.peers.post("/kube/old/delete", json!({"resource": "v1/pods", "namespace": "app", "name": pod}));
    }
    set_status(d, "old", 0);
}

fn set_status(d: &mut Driver, side: &str, ready: i64) {
    let mut deployment = d.object(side, "apps/v1/deployments", "app", "scheduler");
    deployment["status"] = json!({"replicas": ready, "readyReplicas": ready, "availableReplicas": ready});
    d.peers.post(&format!("/kube/{side}/apply"), deployment);
}

fn verified(results: &[EffectResult]) {
    assert!(!results.is_empty() && results.iter().all(|r| matches!(r, EffectResult::Verified { .. })), "{results:#?}");
}

/// DescribeTargetHealth throttled: the ALB source turns stale, forward
/// steps are refused, and `R` still sends every route to old.
#[test]
fn alb_reads_throttled_then_revert_all_sends_every_route_to_old() {
    let mut d = Driver::start(false);
    d.peers.aws_fault(json!({"ops": ["DescribeTargetHealth"], "code": "Throttling", "message": "Rate exceeded"}));
    d.until("the ALB source throttled", |app| {
        matches!(app.sources.get(&SourceId::Traffic(cutover::domain::RouteKind::Alb)), Some(SourceState::Stale { error, .. }) if error.contains("throttled by AWS (Throttling: Rate exceeded)"))
    });
    assert!(d.screen().contains("THROTTLED, retrying"), "{}", d.screen());
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    assert!(d.app.notice.as_deref().unwrap_or_default().contains("stale"), "{:?}", d.app.notice);
    assert!(sent().is_empty(), "a forward step keeps every guard");

    d.press("R");
    let p = proposal(&d.app);
    assert!(p.lines.iter().any(|l| l.contains("read again right before it is written")), "{:?}", p.lines);
    d.press("y");
    let results = d.execute();
    assert_eq!(results.len(), 2, "one write per route, each answered on its own: {results:#?}");
    verified(&results);
    assert_eq!(weights(&d, "api"), (100, 0));
    assert_eq!(weights(&d, "admin"), (100, 0));
    assert!(d.app.routes.iter().all(|r| r.read.as_ref().unwrap().weights == Some(Weights::from_percent_new(0))));
}

/// CloudWatch answers nothing for three minutes (the console's clock moved
/// on by three minutes): a step forward is refused, `R` is done.
#[test]
fn metrics_down_for_three_minutes_then_revert_all_is_done() {
    let mut d = Driver::start(false);
    d.peers.aws_fault(json!({"ops": ["GetMetricData"], "status": 503}));
    // The metrics are polled once a minute.
    d.console.until("the metrics stale", Duration::from_secs(90), |app| {
        app.is_stale(SourceId::Metrics(cutover::domain::MetricsKind::CloudWatch))
    });
    let later = plus_secs(d.app.now, 180);
    d.apply(Msg::Tick { at: later });
    d.app.ui.focus = Panel::Traffic;
    d.press("]");
    let notice = d.app.notice.clone().unwrap_or_default();
    assert!(notice.contains("old") || notice.contains("metrics"), "a forward step is refused: {notice}");
    d.press("Ry");
    verified(&d.execute());
    assert_eq!(weights(&d, "api"), (100, 0));
    assert_eq!(weights(&d, "admin"), (100, 0));
}

/// ModifyRule takes effect but its answer comes after the write deadline:
/// the rule is read again and the step reported as applied, never failed,
/// and the next poll sees no "outside" change.
#[test]
fn a_rule_write_whose_answer_is_lost_is_read_again_and_reported_applied() {
    let mut d = Driver::start(false);
    d.peers.aws_fault(json!({"ops": ["ModifyRule"], "mode": "after", "delay_ms": 12000}));
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = 1;
    d.press("]y");
    let results = d.execute();
    assert!(
        matches!(&results[..], [EffectResult::Verified { detail }] if detail.contains("answer was lost") && detail.contains("it is applied")),
        "{results:#?}"
    );
    assert_eq!(weights(&d, "admin"), (90, 10));
    assert!(d.app.events.iter().any(|e| e.text.contains("verified: ") && e.text.contains("answer was lost")));
    let at = d.app.routes[1].read.as_ref().unwrap().at;
    d.until("the next ALB poll", |app| app.routes[1].read.as_ref().unwrap().at > at);
    assert!(!d.app.events.iter().any(|e| e.text.contains("weights changed")), "no outside change is reported");
}

/// A revert sent while a forward step of the same route waits on a slow
/// answer goes ahead: the step is dropped where it stands and the revert's
/// own re-read and write decide.
#[test]
fn a_revert_goes_ahead_of_a_step_stuck_in_flight() {
    let d = Driver::start(false);
    d.peers.aws_fault(json!({"ops": ["ModifyRule"], "mode": "after", "delay_ms": 60000, "count": 1}));
    let exec = cutover::effects::LiveExecutor {
        elb: d.exec.elb.clone(),
        kube: d.exec.kube.clone(),
        route53: d.exec.route53.clone(),
        plan: d.exec.plan.clone(),
        dry_run: false,
        route53_options: Default::default(),
    };
    let answers = d.rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let (etx, erx) = tokio::sync::mpsc::channel(8);
        let cancel = tokio_util::sync::CancellationToken::new();
        tokio::spawn(cutover::effects::run(exec, erx, tx, cancel.clone()));
        let seen = vec![
            ("admin-old".to_string(), cutover::domain::Weight(100)),
            ("admin-new".to_string(), cutover::domain::Weight(0)),
        ];
        let step = cutover::app::Effect::SetWeights {
            route: cutover::domain::RouteId(1),
            seen: Some(seen),
            to: Weights::from_percent_new(10),
            all_old: false,
        };
        etx.send(cutover::app::Queued { id: 1, effect: step }).await.unwrap();
        // The step is at the proxy, held; then the panic button.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let revert = cutover::app::Effect::SetWeights {
            route: cutover::domain::RouteId(1),
            seen: None,
            to: Weights::from_percent_new(0),
            all_old: true,
        };
        etx.send(cutover::app::Queued { id: 2, effect: revert }).await.unwrap();
        let mut answers = Vec::new();
        while answers.len() < 2 {
            let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("answers well before the held 60 s");
            if let Some(Msg::EffectDone { id, result, .. }) = msg {
                answers.push((id, result));
            }
        }
        cancel.cancel();
        answers
    });
    assert!(matches!(&answers[0], (1, EffectResult::Unknown { detail }) if detail.contains("revert")), "{answers:#?}");
    assert!(matches!(&answers[1], (2, EffectResult::Verified { .. })), "{answers:#?}");
    assert_eq!(weights(&d, "admin"), (100, 0), "the revert stands");
}

/// The new side's API goes away while old is being stopped: the start
/// fails, the console says loudly that the singleton runs nowhere, and
/// once the API is back `h` proposes the start again.
#[test]
fn the_target_api_lost_during_a_handoff_raises_the_alarm_and_h_starts_it_again() {
    let mut d = Driver::start(false);
    select_singleton(&mut d, "scheduler");
    d.press("hy");
    verified(&d.execute());
    d.peers.stop("new");
    old_scheduler_gone(&mut d);
    d.until("the start of new", |_| !sent().is_empty());
    let results = d.execute();
    assert!(matches!(&results[..], [EffectResult::Failed { .. } | EffectResult::Unknown { .. }]), "{results:#?}");
    assert!(matches!(d.app.handoff.as_ref().unwrap().phase, HandoffPhase::StartFailed(_)));
    assert_eq!(d.app.alarms.get("scheduler").map(|a| a.kind), Some(AlarmKind::Neither));
    let screen = d.screen();
    assert!(screen.contains("SINGLETON ALARM") && screen.contains("scheduler runs on NEITHER side"), "{screen}");
    assert!(d.app.events.iter().any(|e| e.text.contains("did NOT start: it runs on neither side")));

    d.peers.resume("new");
    d.until("k8s new live again", |app| {
        matches!(app.sources.get(&SourceId::Cluster(Side::New)), Some(SourceState::Live { .. }))
    });
    d.press("h");
    let p = proposal(&d.app);
    assert!(p.title.contains("fix singleton scheduler: start on new"), "{}", p.title);
    d.press("y");
    verified(&d.execute());
    assert_eq!(replicas(&d, "new", "scheduler"), 1);
    assert_eq!(replicas(&d, "old", "scheduler"), 0, "old stays stopped");
    set_status(&mut d, "new", 1);
    d.until("the handoff done and the alarm gone", |app| {
        app.handoff.as_ref().is_some_and(|h| h.phase == HandoffPhase::Done) && app.alarms.is_empty()
    });
}

/// The new side has no such Deployment: nothing is proposed, and the
/// executor's own check refuses before anything is stopped.
#[test]
fn a_missing_target_deployment_stops_nothing() {
    let mut d = Driver::start(false);
    d.peers
        .post("/kube/new/delete", json!({"resource": "apps/v1/deployments", "namespace": "app", "name": "scheduler"}));
    let key = cutover::domain::WorkloadKey::new("app", "scheduler");
    d.until("the deletion seen", |app| !app.clusters.new.workloads.contains_key(&key));
    select_singleton(&mut d, "scheduler");
    d.press("h");
    let notice = d.app.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("the new side has no Deployment app/scheduler") && notice.contains("nothing was stopped"),
        "{notice}"
    );
    assert!(d.app.modal.is_none());

    // The executor checks on its own, against the API, not the console.
    d.peers.post("/requests/clear", Value::Null);
    let stop = cutover::app::Effect::Stop {
        side: Side::Old,
        key: key.clone(),
        kind: cutover::domain::WorkloadKind::Deployment,
        then: Some(key.clone()),
    };
    let result = d.rt.block_on(d.exec.execute(&stop, &|_| {}));
    assert!(
        matches!(&result, EffectResult::Refused { reason } if reason.contains("does not exist on new") && reason.contains("nothing was stopped")),
        "{result:?}"
    );
    assert_eq!(replicas(&d, "old", "scheduler"), 1);
    assert!(d.peers.mutating_requests().is_empty(), "{:#?}", d.peers.mutating_requests());
}

/// The operator may not patch the Deployment on the target side: the
/// handoff is refused before the source is touched.
#[test]
fn a_forbidden_patch_on_the_target_stops_nothing() {
    let mut d = Driver::start(false);
    d.peers.deny(
        "new",
        json!({"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "app", "name": "scheduler"}),
    );
    select_singleton(&mut d, "scheduler");
    d.press("hy");
    let results = d.execute();
    assert!(
        matches!(&results[..], [EffectResult::Refused { reason }] if reason.contains("may you patch deployments app/scheduler on new? not allowed") && reason.contains("nothing was stopped")),
        "{results:#?}"
    );
    assert!(matches!(d.app.handoff.as_ref().unwrap().phase, HandoffPhase::Refused(_)));
    assert_eq!(replicas(&d, "old", "scheduler"), 1, "old untouched");
    assert_eq!(replicas(&d, "new", "scheduler"), 0);
    assert!(d.app.alarms.is_empty(), "it still runs on old: no alarm");
}

/// An evicted pod of the source (phase Failed, kept until garbage
/// collection) does not hold the handoff: old runs nothing.
#[test]
fn an_evicted_pod_on_the_source_does_not_hang_the_handoff() {
    let mut d = Driver::start(false);
    select_singleton(&mut d, "scheduler");
    d.press("hy");
    verified(&d.execute());
    let pod = d
        .app
        .clusters
        .old
        .pods
        .values()
        .find(|p| p.key.name.starts_with("scheduler-"))
        .map(|p| p.key.name.clone())
        .unwrap();
    d.peers.evict("old", "app", &pod);
    set_status(&mut d, "old", 0);
    d.until("the start of new", |_| !sent().is_empty());
    assert!(d.app.clusters.old.pods.values().any(|p| p.key.name == pod), "the evicted pod is still listed");
    assert_eq!(
        cutover::app::actions::pods_still_running(
            &d.app,
            Side::Old,
            &cutover::domain::WorkloadKey::new("app", "scheduler")
        ),
        0
    );
    verified(&d.execute());
    assert_eq!(replicas(&d, "new", "scheduler"), 1);
}

/// After a completed handoff, old is scaled back up (an Argo CD self-heal):
/// the alarm is raised on that watch event, marked in the recording and
/// named in the report.
#[test]
fn a_singleton_scaled_back_up_after_its_handoff_raises_an_alarm_mark_and_report_line() {
    let path = common::fresh_path("faults", "self-heal.jsonl");
    let mut d = Driver::start_recorded("realistic", &path);
    select_singleton(&mut d, "scheduler");
    d.press("hy");
    verified(&d.execute());
    old_scheduler_gone(&mut d);
    d.until("the start of new", |_| !sent().is_empty());
    verified(&d.execute());
    set_status(&mut d, "new", 1);
    d.until("the handoff done", |app| app.handoff.as_ref().is_some_and(|h| h.phase == HandoffPhase::Done));
    assert!(d.app.alarms.is_empty());

    let mut old = d.object("old", "apps/v1/deployments", "app", "scheduler");
    old["spec"]["replicas"] = json!(1);
    d.peers.post("/kube/old/apply", old);
    d.until("the alarm", |app| !app.alarms.is_empty());
    assert_eq!(d.app.alarms["scheduler"].kind, AlarmKind::Both);
    assert!(d.app.events.iter().any(|e| e.text.contains("SINGLETON scheduler RUNS ON BOTH SIDES")));
    assert!(d.screen().contains("scheduler runs on BOTH sides"));
    d.press("h");
    let p = proposal(&d.app);
    assert!(p.title.contains("stop on old"), "the fix stops the side it must not run on: {}", p.title);
    d.press("n");
    d.recorder.as_mut().unwrap().flush().unwrap();
    let recording = std::fs::read_to_string(&path).unwrap();
    assert!(
        recording.contains("\"kind\":\"alarm\"") && recording.contains("RUNS ON BOTH SIDES"),
        "a mark in the recording"
    );
    let report = cutover::report::from_file(&path).unwrap().markdown();
    assert!(report.contains("## Singleton alarms") && report.contains("scheduler | on BOTH sides"), "{report}");
}

/// A CronJob resumed on new after missing its hourly runs while suspended:
/// the proposal counts them, and the resume writes a
/// `startingDeadlineSeconds` that puts the last missed run past its
/// deadline (kmock runs no CronJob controller: the value is what is
/// checked, against the controller's rule).
#[test]
fn a_cronjob_with_missed_slots_is_resumed_with_no_catch_up_run() {
    let mut d = Driver::start(false);
    // A daily slot two hours ago: far from now, so the test never meets a
    // slot missed seconds ago.
    let two_hours_ago = plus_secs(jiff::Timestamp::now(), -7200);
    let utc = two_hours_ago.to_zoned(jiff::tz::TimeZone::UTC);
    let schedule = format!("{} {} * * *", utc.minute(), utc.hour());
    let mut cron = d.object("new", "batch/v1/cronjobs", "batch", "billing-close");
    cron["spec"]["schedule"] = json!(schedule);
    d.peers.post("/kube/new/apply", cron);
    let cron = d.object("new", "batch/v1/cronjobs", "batch", "billing-close");
    assert!(cron["status"]["lastScheduleTime"].is_null(), "new never ran: missed runs count from its creation");
    let created: jiff::Timestamp = cron["metadata"]["creationTimestamp"].as_str().unwrap().parse().unwrap();
    let parsed = cutover::domain::Schedule::parse(&schedule).unwrap();
    let missed = parsed.slots_between(created, jiff::Timestamp::now(), 100);
    assert!(missed.count >= 1, "the seed's CronJob is days old");
    let key = cutover::domain::WorkloadKey::new("batch", "billing-close");
    d.until("the new schedule read", |app| {
        app.clusters.new.workloads.get(&key).is_some_and(|w| w.schedule.as_deref() == Some(schedule.as_str()))
    });
    select_singleton(&mut d, "billing-close");
    d.press("h");
    let p = proposal(&d.app);
    let counted = format!("{} run(s) of new missed while suspended", missed.count);
    assert!(p.lines.iter().any(|l| l.contains(&counted)), "{counted}: {:?}", p.lines);
    assert!(p.lines.iter().any(|l| l.contains("startingDeadlineSeconds")), "{:?}", p.lines);
    d.press("y");
    verified(&d.execute());
    d.until("the start of new", |_| !sent().is_empty());
    verified(&d.execute());
    let cron = d.object("new", "batch/v1/cronjobs", "batch", "billing-close");
    assert_eq!(cron["spec"]["suspend"], json!(false));
    let deadline = cron["spec"]["startingDeadlineSeconds"].as_i64().expect("a deadline was written");
    let last_missed = missed.last.unwrap();
    // The controller starts a missed run only if it is less than the
    // deadline late; from the write on, it is later than that.
    let late = jiff::Timestamp::now().as_second() - last_missed.as_second();
    assert!(deadline < late && deadline >= 10, "deadline {deadline}s, the missed run is {late}s late");
}

/// The real binary in a real terminal: `q` mid-handoff asks first; a
/// `kill -9` mid-handoff leaves the handoff on disk, and `cutover run`
/// started again picks it up, says so, and finishes it.
#[test]
fn a_handoff_killed_mid_way_is_picked_up_by_the_next_run() {
    common::peers::fake_aws_credentials();
    let peers = common::peers::Peers::start("realistic");
    let t = common::tmux::Tmux::start("kill-9");
    let command = format!(
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {} run --plan {} --log {}; echo EXIT=$?",
        env!("CARGO_BIN_EXE_cutover"),
        peers.plan_path().display(),
        peers.dir.join("cutover.log").display()
    );
    let wait = Duration::from_secs(30);
    t.type_line(&command);
    t.wait_for("the live console", wait, |s| s.contains("read 75/25") && s.contains("app/scheduler"));
    // Down the workloads until the drill-down opened is the scheduler's.
    for _ in 0..30 {
        t.send(&["Enter"]);
        if t.screen().contains("app/scheduler") && t.screen().lines().take(6).any(|l| l.contains("app/scheduler")) {
            break;
        }
        t.send(&["Escape", "Down"]);
    }
    t.send(&["h"]);
    t.wait_for("the handoff proposal", wait, |s| s.contains("PROPOSAL: hand scheduler over: old → new"));
    t.send(&["y"]);
    t.wait_for("old stopped, new waiting", wait, |s| s.contains("waiting for old to run nothing"));
    assert_eq!(
        peers.get("/kube/old/object?resource=apps/v1/deployments&namespace=app&name=scheduler")["spec"]["replicas"],
        0
    );

    // `q` asks, and says what it would leave; any other key stays.
    t.send(&["q"]);
    let asked = t.wait_for("the quit question", wait, |s| s.contains("QUIT NOW?"));
    assert!(asked.contains("old is stopped and not yet gone; new is not started"), "{asked}");
    assert!(asked.contains("picks it up again"), "{asked}");
    t.send(&["n"]);
    t.wait_for("still running", wait, |s| !s.contains("QUIT NOW?") && s.contains("waiting for old to run nothing"));

    // The process dies where it stands.
    let pids = std::process::Command::new("pgrep")
        .args(["-f", &format!("{} run --plan", env!("CARGO_BIN_EXE_cutover"))])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pids.stdout).lines().next().expect("the console's pid").to_string();
    assert!(std::process::Command::new("kill").args(["-9", &pid]).status().unwrap().success());
    t.wait_for("the shell back", wait, |s| s.contains("EXIT=137"));
    t.type_line("stty sane; tput rmcup; clear");

    // Meanwhile the Deployment controller removes old's pod.
    let pods: Value =
        ureq::get(&format!("{}/api/v1/namespaces/app/pods", peers.old)).call().unwrap().body_mut().read_json().unwrap();
    let names = pods["items"].as_array().unwrap().iter().filter_map(|p| p["metadata"]["name"].as_str());
    for pod in names.filter(|n| n.starts_with("scheduler-")) {
        peers.post("/kube/old/delete", json!({"resource": "v1/pods", "namespace": "app", "name": pod}));
    }
    let mut old = peers.get("/kube/old/object?resource=apps/v1/deployments&namespace=app&name=scheduler");
    old["status"] = json!({"replicas": 0, "readyReplicas": 0, "availableReplicas": 0});
    peers.post("/kube/old/apply", old);

    t.type_line(&command);
    let picked = t.wait_for("the handoff picked up", wait, |s| s.contains("picked up the handoff"));
    assert!(picked.contains("handoff scheduler old → new"), "{picked}");
    let new_replicas = || {
        peers.get("/kube/new/object?resource=apps/v1/deployments&namespace=app&name=scheduler")["spec"]["replicas"]
            .as_i64()
    };
    let start = std::time::Instant::now();
    while new_replicas() != Some(1) {
        assert!(start.elapsed() < wait, "new was started by the resumed handoff; screen:\n{}", t.screen());
        std::thread::sleep(Duration::from_millis(200));
    }
    t.send(&["q"]);
    t.wait_for("the question again: new is not ready yet", wait, |s| s.contains("QUIT NOW?"));
    t.send(&["y"]);
    let after = t.wait_for("exit", wait, |s| s.contains("EXIT=0")).replace('\n', "");
    assert!(after.contains("handoff scheduler: new is started and not yet ready"), "{after}");
    assert!(after.contains("kept in") && after.contains("picks it up"), "{after}");
}

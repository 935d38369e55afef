//! The way back wins, against the peers: moto behind the harness's
//! fault-injecting proxy, the console driven as `cutover run` drives it
//! (the live executor's loop behind it, `Driver::start_running`).
//!
//! - A write whose answer was not awaited (a revert went ahead of it) or
//!   lost is still the session's: when it lands late, it is named as such,
//!   and the revert it undid is written again at once and verified.
//! - A revert whose answer is lost is written again until it reads back,
//!   and never shown failed while a request of it may still land.
//! - The panic button sets every target of the route but old's to 0: a
//!   target group in the forward the plan does not list, another weighted
//!   record of the name.
//!
//! Gaps of the peers, and what stands in for them:
//! - A request that reached AWS is applied even when its client gave up;
//!   the proxy's `delay` fault with `lands: true` holds the request, then
//!   forwards it to moto whether or not the client still listens (without
//!   it, a client that hangs up cancels the held request).
//! - Someone else's edit of the rule (a new target group in place of the
//!   plan's new one) is the harness's POST /elb/forward, straight to moto;
//!   a third weighted record is its POST /route53/weighted.
//! - The plan's ALB poll is 1 s (`alb_poll = 1`) so that a change that
//!   stands for two seconds is read: the late step's, before the revert's
//!   own held request lands after it.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::live::Driver;
use cutover::app::{App, Modal, Panel, Proposal};
use cutover::domain::Weights;
use serde_json::{Value, json};

/// Every target group of a route's forward as moto holds it, by name.
fn groups(d: &Driver, route: &str) -> Value {
    d.peers.get(&format!("/elb/weights?route={route}"))["groups"].clone()
}

fn weights(d: &Driver, route: &str) -> (i64, i64) {
    let w = d.peers.get(&format!("/elb/weights?route={route}"));
    (w["old"].as_i64().unwrap_or(-1), w["new"].as_i64().unwrap_or(-1))
}

fn proposal(app: &App) -> Proposal {
    match &app.modal {
        Some(Modal::Proposal(p)) => p.clone(),
        other => panic!("a proposal is shown, not {other:?}; notice: {:?}", app.notice),
    }
}

/// The plan's ALB poll at 1 s.
fn fast_poll(peers: &common::peers::Peers) {
    let path = peers.plan_path();
    let plan = std::fs::read_to_string(&path).unwrap().replacen("[aws]\n", "[aws]\nalb_poll = 1\n", 1);
    std::fs::write(&path, plan).unwrap();
}

fn select(d: &mut Driver, route: usize) {
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = route;
}

/// The events panel's lines, newest first.
fn events(app: &App) -> Vec<String> {
    app.events.iter().map(|e| e.text.clone()).collect()
}

/// The lines that call a change of the session's own somebody else's.
fn blamed(app: &App) -> Vec<String> {
    events(app)
        .into_iter()
        .filter(|t| t.contains("not by this session") || t.contains("not made by this session"))
        .collect()
}

/// The held requests of a fault, as the proxy logged them.
fn held(d: &Driver, fault: &str) -> Vec<Value> {
    d.peers.requests("aws").into_iter().filter(|r| r["fault_id"] == fault).collect()
}

/// Lets messages in until every request held by `fault` has landed at moto.
fn until_landed(d: &mut Driver, fault: &str, within: Duration) {
    let start = Instant::now();
    while !held(d, fault).iter().all(|r| r["landed"].is_string()) {
        assert!(start.elapsed() < within, "held requests not landed: {:#?}", held(d, fault));
        d.console.pump(Duration::from_millis(500));
    }
}

/// The recording as text, flushed.
fn recording(d: &mut Driver, path: &std::path::Path) -> String {
    d.recorder.as_mut().unwrap().flush().unwrap();
    std::fs::read_to_string(path).unwrap()
}

/// ModifyRule held 30 s for the step only: `]` `y` on admin, `R` `y` two
/// seconds later. The revert goes ahead and is verified; at +28 s the step
/// lands at moto. The console names it as this session's late write (not
/// somebody else's), writes the revert again at once and verifies it; moto
/// ends all-old; the recording holds the late write and the re-asserted
/// revert with who.
#[test]
fn a_step_that_lands_after_the_revert_is_named_as_the_sessions_and_the_revert_written_again() {
    let path = common::fresh_path("wayback", "late-step.jsonl");
    let mut d = Driver::start_running("realistic", Some(&path), fast_poll);
    let fault = json!({"id": "held-step", "ops": ["ModifyRule"], "mode": "delay", "delay_ms": 30000, "lands": true, "count": 1});
    d.peers.aws_fault(fault);
    select(&mut d, 1);
    d.press("]");
    assert!(proposal(&d.app).title.contains("route admin: 0% → 10% to new"), "{}", proposal(&d.app).title);
    d.press("y");
    d.console.pump(Duration::from_secs(2));
    assert_eq!(held(&d, "held-step").len(), 1, "the step is at the proxy, held");
    d.press("R");
    d.press("y");
    d.until("the revert verified", |app| {
        app.events
            .iter()
            .any(|e| e.text.starts_with("route admin:") && e.text.contains("reverted") && e.text.contains("· verified"))
    });
    assert!(
        events(&d.app).iter().any(|t| t.starts_with("NOT AWAITED: route admin: weights old 90 / new 10")
            && t.contains("named as this session's")),
        "{:#?}",
        events(&d.app)
    );
    assert_eq!(weights(&d, "admin"), (100, 0), "the revert stands, the step not landed yet");
    assert_eq!(d.app.routes[1].unsettled.len(), 1, "the step is kept as one that may still land");

    d.console.until("the late step named", Duration::from_secs(45), |app| {
        app.events.iter().any(|e| e.text.starts_with("LATE WRITE of this session: route admin"))
    });
    assert!(held(&d, "held-step")[0]["landed"].is_string(), "it landed at moto: {:?}", held(&d, "held-step"));
    d.until("the revert written again and verified", |app| {
        app.events
            .iter()
            .any(|e| e.text.starts_with("LATE WRITE of this session: route admin") && e.text.contains("· verified"))
    });
    let line = events(&d.app).into_iter().find(|t| t.starts_with("LATE WRITE")).unwrap();
    assert!(line.contains("route admin old 100/new 0 → old 90/new 10: the step sent at"), "{line}");
    assert!(
        line.contains("(its answer was not awaited) landed after the revert to old 100/new 0: written again"),
        "{line}"
    );
    assert!(line.contains("· verified: ModifyRule wrote admin-old=100 admin-new=0"), "{line}");
    assert_eq!(events(&d.app).iter().filter(|t| t.starts_with("LATE WRITE")).count(), 1, "one line says so");
    assert!(blamed(&d.app).is_empty(), "{:#?}", blamed(&d.app));
    assert!(d.screen().contains("LATE WRITE"), "{}", d.screen());

    // All-old at moto, and it stays so over the next polls.
    assert_eq!(weights(&d, "admin"), (100, 0));
    let at = d.app.routes[1].read.as_ref().unwrap().at;
    d.until("two more polls", |app| app.routes[1].read.as_ref().unwrap().at.as_second() >= at.as_second() + 2);
    assert_eq!(d.app.routes[1].weights(), Some(Weights::from_percent_new(0)));
    assert_eq!(weights(&d, "admin"), (100, 0));
    assert!(blamed(&d.app).is_empty(), "{:#?}", blamed(&d.app));

    let recorded = recording(&mut d, &path);
    let marks: Vec<Value> = recorded
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("mark").cloned())
        .collect();
    assert!(
        marks.iter().any(|m| m["kind"] == "late_write" && m["reasserted"] == true && m["route"] == "admin"),
        "{marks:#?}"
    );
    assert!(
        marks.iter().any(|m| m["kind"] == "weights"
            && m["route"] == "admin"
            && m["who"].as_str().is_some_and(|w| w.ends_with("(the session's revert, re-asserted)"))),
        "{marks:#?}"
    );
    assert!(!recorded.contains("not by this session"), "no outside change is recorded");
    // The report tells it as the recording holds it: the late write an
    // incident, the revert written again a verified action of the session.
    let report = cutover::report::from_file(&path).unwrap().markdown();
    assert!(report.contains("| incident | LATE WRITE of this session: route admin"), "{report}");
    assert!(
        report.contains("(the session's revert, re-asserted): route admin: revert written again after a late write of this session (90/10 → 100/0): verified"),
        "{report}"
    );
    let driven = report.lines().find(|l| l.starts_with("| Driven by |")).unwrap();
    assert!(!driven.contains("re-asserted"), "the operator drove it: {driven}");
}

/// ModifyRule held 30 s for every write: `]` `y`, then `R` `y` two seconds
/// later. The revert's answers are lost; it is read again and written again
/// until it reads back, its progress on screen, never a "failed" or "not
/// applied" for it. The step's late landing, while the revert is still
/// being written, is named as this session's; nothing is blamed on anyone
/// else; moto ends all-old once every held request has landed.
#[test]
fn a_revert_whose_answers_are_held_is_written_until_it_reads_back_and_never_shown_failed() {
    let path = common::fresh_path("wayback", "held-both.jsonl");
    // admin at 90/10 to begin with, so that the revert has to write.
    let mut d = Driver::start_running("realistic", Some(&path), |peers| {
        fast_poll(peers);
        peers.post("/elb/weights", json!({"route": "admin", "old": 90, "new": 10}));
    });
    let fault = json!({"id": "held", "ops": ["ModifyRule"], "mode": "delay", "delay_ms": 30000, "lands": true});
    d.peers.aws_fault(fault);
    select(&mut d, 1);
    d.press("]");
    assert!(proposal(&d.app).title.contains("route admin: 10% → 50% to new"), "{}", proposal(&d.app).title);
    // 40 points, more than max_step: `Y` after `y`.
    d.press("yY");
    assert!(d.app.modal.is_none(), "{:?}", d.app.modal);
    d.console.pump(Duration::from_secs(2));
    d.press("Ry");
    let revert_verified = |app: &App| {
        app.events
            .iter()
            .any(|e| e.text.starts_with("route admin:") && e.text.contains("reverted") && e.text.contains("· verified"))
    };
    let start = Instant::now();
    let mut progress_seen = false;
    while !revert_verified(&d.app) {
        assert!(start.elapsed() < Duration::from_secs(90), "the revert verified within 90 s: {:#?}", events(&d.app));
        d.console.pump(Duration::from_millis(250));
        let said: Vec<String> = events(&d.app).into_iter().chain(d.app.notice.clone()).collect();
        let failed: Vec<&String> = said
            .iter()
            .filter(|t| t.contains("revert") || t.contains("old 100 / new 0") || t.contains("not applied"))
            .filter(|t| t.contains("not applied") || t.contains("NOT APPLIED") || t.contains("failed"))
            .collect();
        assert!(failed.is_empty(), "the revert is never said to have failed: {failed:#?}");
        assert!(blamed(&d.app).is_empty(), "{:#?}", blamed(&d.app));
        if d.app.write_progress(cutover::domain::RouteId(1)).is_some_and(|p| p.starts_with("revert not applied yet")) {
            progress_seen = true;
            assert!(d.screen().contains("⟳ revert not applied yet"), "{}", d.screen());
        }
    }
    assert!(progress_seen, "the revert's tries were shown while it went on");
    let line = events(&d.app).into_iter().find(|t| t.starts_with("route admin:") && t.contains("reverted")).unwrap();
    assert!(line.contains("· verified:") && line.contains("answer(s) lost before"), "{line}");
    let late = events(&d.app).into_iter().find(|t| t.starts_with("LATE WRITE of this session: route admin"));
    let late = late.unwrap_or_else(|| panic!("the step's landing named: {:#?}", events(&d.app)));
    assert!(late.contains("route admin old 90/new 10 → old 50/new 50: the step sent at"), "{late}");
    assert!(
        late.contains("(its answer was not awaited) landed")
            && late.contains("while the revert to old 100/new 0 is being written, which writes until it reads back"),
        "{late}"
    );

    until_landed(&mut d, "held", Duration::from_secs(60));
    d.console.pump(Duration::from_secs(2));
    assert_eq!(weights(&d, "admin"), (100, 0), "all-old after every held request landed");
    assert_eq!(d.app.routes[1].weights(), Some(Weights::from_percent_new(0)));
    assert!(blamed(&d.app).is_empty(), "{:#?}", blamed(&d.app));
    let recorded = recording(&mut d, &path);
    assert!(recorded.contains("\"kind\":\"late_write\""), "the late step is marked");
    assert!(!recorded.contains("not by this session"));
}

/// Someone replaces admin's new target group in the rule: admin-old 80,
/// admin-new-v2 20, admin-new gone. `R` names admin-new-v2 as not in the
/// plan, writes it 0 (and admin-new 0), and says so in the result; moto
/// reads admin-old 100 and every other group 0.
#[test]
fn the_panic_button_sets_a_target_group_the_plan_does_not_know_to_zero() {
    let path = common::fresh_path("wayback", "unknown-group.jsonl");
    let mut d = Driver::start_running("realistic", Some(&path), |_| {});
    let groups_now = json!([{"name": "admin-old", "weight": 80}, {"name": "admin-new-v2", "weight": 20}]);
    d.peers.post("/elb/forward", json!({"route": "admin", "groups": groups_now}));
    d.until("the new group read", |app| {
        app.routes[1].read.as_ref().is_some_and(|r| r.others.iter().any(|(g, w)| g == "admin-new-v2" && w.0 == 20))
    });
    assert!(d.screen().contains("target groups missing from the rule! +admin-new-v2=20"), "{}", d.screen());
    d.press("R");
    let p = proposal(&d.app);
    assert!(
        p.lines
            .iter()
            .any(|l| l.starts_with("admin: the plan's two are not both in the forward action +admin-new-v2=20")),
        "{:?}",
        p.lines
    );
    assert!(
        p.lines.iter().any(|l| l.contains("admin-new-v2=20 not in the plan: target group(s) set to 0 too")),
        "{:?}",
        p.lines
    );
    d.press("y");
    d.until("both routes verified", |app| {
        ["route api:", "route admin:"].iter().all(|r| {
            app.events
                .iter()
                .any(|e| e.text.starts_with(r) && e.text.contains("reverted") && e.text.contains("· verified"))
        })
    });
    let line = events(&d.app).into_iter().find(|t| t.starts_with("route admin:") && t.contains("reverted")).unwrap();
    assert!(line.contains("admin-new-v2=20 (not in the plan) -> 0"), "{line}");
    assert!(
        line.contains("ModifyRule wrote admin-old=100 admin-new=0 and 0 to admin-new-v2=20 (not in the plan)"),
        "{line}"
    );
    assert!(line.contains("reads back admin-new=0 admin-new-v2=0 admin-old=100"), "{line}");
    assert_eq!(groups(&d, "admin"), json!({"admin-old": 100, "admin-new-v2": 0, "admin-new": 0}));
    assert_eq!(groups(&d, "api"), json!({"api-old": 100, "api-new": 0}));
    let at = d.app.routes[1].read.as_ref().unwrap().at;
    d.until("the next poll", |app| app.routes[1].read.as_ref().unwrap().at > at);
    assert_eq!(d.app.routes[1].weights(), Some(Weights::from_percent_new(0)));
    assert!(d.screen().contains("read 100/0  +admin-new-v2=0"), "{}", d.screen());
    let recorded = recording(&mut d, &path);
    assert!(recorded.contains("and 0 to admin-new-v2=20 (not in the plan)"), "the outcome mark names it");
}

/// A third weighted record of www (a canary at 20) beside the plan's two:
/// `R` names it, one change batch DELETEs it as read and CREATEs it at 0
/// with old at 100; Route 53 (moto) reads old 100, new 0, canary 0.
#[test]
fn the_panic_button_sets_a_weighted_record_the_plan_does_not_know_to_zero() {
    // SAFETY: first thing in the test's process (nextest runs one test per
    // process), before any thread; the harness inherits it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PEERS_ROUTE53", "1");
    }
    let mut d = Driver::start_running("realistic", None, |_| {});
    let www = d.app.routes.iter().position(|r| r.spec.name == "www").unwrap();
    d.peers.post("/route53/weighted", json!({"set_identifier": "canary", "weight": 20}));
    d.until("the canary read", |app| {
        app.routes[www].read.as_ref().is_some_and(|r| r.others.iter().any(|(id, w)| id == "canary" && w.0 == 20))
    });
    assert!(d.screen().contains("+canary=20"), "{}", d.screen());
    d.peers.post("/requests/clear", Value::Null);
    d.press("R");
    let p = proposal(&d.app);
    assert!(
        p.lines.iter().any(|l| l.starts_with("www: old 100 / new 0 +canary=20") && l.ends_with("every other 0")),
        "{:?}",
        p.lines
    );
    assert!(
        p.lines.iter().any(|l| l.contains("canary=20 not in the plan: weighted record(s) set to 0 too")),
        "{:?}",
        p.lines
    );
    d.press("y");
    d.until("www verified", |app| {
        app.events
            .iter()
            .any(|e| e.text.starts_with("route www:") && e.text.contains("reverted") && e.text.contains("· verified"))
    });
    let line = events(&d.app).into_iter().find(|t| t.starts_with("route www:") && t.contains("reverted")).unwrap();
    assert!(line.contains("canary=20 (not in the plan) -> 0") && line.contains("set to 0: canary=0"), "{line}");
    let records: Vec<(String, i64)> = d
        .peers
        .get("/route53/records")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["SetIdentifier"].as_str().unwrap().to_string(), r["Weight"].as_i64().unwrap()))
        .collect();
    let mut records = records;
    records.sort();
    assert_eq!(records, [("canary".to_string(), 0), ("eks-2022".to_string(), 100), ("eks-2026".to_string(), 0)]);
    let batches: Vec<Value> =
        d.peers.requests("aws").into_iter().filter(|r| r["op"] == "ChangeResourceRecordSets").collect();
    assert_eq!(batches.len(), 1, "one batch: {batches:#?}");
    let changes: Vec<(String, String, i64)> = batches[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = &c["record"];
            (
                c["action"].as_str().unwrap().to_string(),
                r["SetIdentifier"].as_str().unwrap_or_default().to_string(),
                r["Weight"].as_i64().unwrap_or(-1),
            )
        })
        .filter(|(_, id, _)| id == "canary")
        .collect();
    assert_eq!(
        changes,
        [("DELETE".to_string(), "canary".to_string(), 20), ("CREATE".to_string(), "canary".to_string(), 0)]
    );
}

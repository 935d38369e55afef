//! Step verdicts against the real peers: the plan's `[analysis]` and
//! `[route.analysis]` read by the plan loader, each side's minutes put into
//! CloudWatch (moto, through the harness's proxy, with the SDK the console
//! reads with), the console fed by its live sources and, where it drives,
//! its effects carried out by the live executor's loop as in `cutover run`.
//! Each test ends on what the peers hold (the admin rule's weights read
//! back from moto, the harness's call log), what the console said, and
//! where it matters what it recorded.
//!
//! How the tests keep to a few seconds: the console judges each whole
//! minute since the route's weights last changed, once the metrics source
//! has read after it closed. An earlier session's recording, seeded by the
//! test, says the route was set to its weights a few minutes ago; the
//! minutes since then are already in CloudWatch and are judged with the
//! console's first read. Only a test that must see a later read (a minute
//! still thin, a source throttled and back) waits for the next poll.
//!
//! Gaps of the peers, and what stands in for them:
//! - moto 5.2 matches a query's dimensions against a datapoint's as an
//!   ordered list (its sort of dimensions keeps them in the order given);
//!   CloudWatch matches them as a set. Each series is put in AWS's
//!   documented order (`TargetGroup`, `LoadBalancer`) and again in the
//!   reverse, so the console's query finds each datapoint exactly once
//!   whichever order it asks in, and the harness's own minutes of admin's
//!   old side (put in the documented order) are put again in the reverse.
//!   On CloudWatch itself the two orders are one series.
//! - moto has no rate limit: throttling is the proxy answering
//!   `Throttling: Rate exceeded` to every GetMetricData while the fault
//!   stands, not a rate.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use aws_sdk_cloudwatch::types::StandardUnit;
use common::cloudwatch::{CloudWatch, Traffic, datum};
use common::live::{Driver, LiveConsole, everything_read};
use common::peers::Peers;
use cutover::app::{App, Marked, Modal, Mode, Msg, Panel, SeriesId, SourceId, SourceState, Verdict};
use cutover::domain::analysis::{Failed, Unsure, minutes_to_tell};
use cutover::domain::{MetricsKind, Minute, RouteId, Side, Weights};
use cutover::keymap::{Key, KeyCode};
use cutover::sources::cloudwatch;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// The plan's second route, a listener rule: the one each test judges.
const ADMIN: usize = 1;

/// How long a test waits for a read that comes once a minute, with the
/// SDK's retries: well over a minute.
const NEXT_POLL: Duration = Duration::from_secs(100);

/// Old's side of every test but the thin one: 1,000 requests a minute, one
/// 5xx.
const OLD: Traffic = Traffic { requests: 1000.0, errors: 1.0, latency_ms: 110.0 };
/// A healthy new side: as old.
const NEW_HEALTHY: Traffic = Traffic { requests: 1000.0, errors: 1.0, latency_ms: 120.0 };
/// A bad build on new: 6% of its requests answer 5xx.
const NEW_FAILING: Traffic = Traffic { requests: 1000.0, errors: 60.0, latency_ms: 120.0 };
/// 1% of 800 requests a minute, the example: old's 792 with two
/// 5xx, new's 8 without one.
const OLD_THIN: Traffic = Traffic { requests: 792.0, errors: 2.0, latency_ms: 110.0 };
const NEW_THIN: Traffic = Traffic { requests: 8.0, errors: 0.0, latency_ms: 90.0 };

impl CloudWatch {
    /// The harness's own minutes of admin's old side, which it put in the
    /// documented order only, put again in the reverse: both orders hold
    /// the same series.
    fn mirror_harness_seed(&self) {
        let [_, reverse] = self.orders(Side::Old);
        let metrics = self.expected["routes"]["admin"]["old"]["metrics"].as_object().unwrap();
        let mut data = Vec::new();
        for (name, series) in metrics {
            let unit = StandardUnit::from(self.expected["units"][name].as_str().unwrap());
            for (secs, value) in series.as_object().unwrap() {
                let minute = Minute(secs.parse::<i64>().unwrap() / 60);
                data.push(datum(name, reverse.clone(), minute, value.as_f64().unwrap(), unit.clone()));
            }
        }
        self.send(data);
    }

    /// The harness's own requests to admin's old side in `minute`.
    fn harness_old_requests(&self, minute: Minute) -> f64 {
        let series = &self.expected["routes"]["admin"]["old"]["metrics"]["RequestCount"];
        series[(minute.0 * 60).to_string()].as_f64().unwrap_or(0.0)
    }

    /// admin's new side's requests in `minute`, as a GetMetricData asking
    /// with the dimensions in `order` (0: documented, 1: reverse) reads them.
    fn new_requests(&self, minute: Minute, order: usize) -> Vec<f64> {
        let mut dimensions = vec![("TargetGroup", self.tg.new.clone()), ("LoadBalancer", self.lb.clone())];
        if order == 1 {
            dimensions.reverse();
        }
        let query = cloudwatch::Query {
            id: "admin_new_req".into(),
            series: SeriesId::Route {
                route: RouteId::of(ADMIN),
                side: Side::New,
                metric: cutover::app::RouteMetric::Requests,
            },
            metric_name: "RequestCount",
            stat: "Sum",
            dimensions,
            scale: 1.0,
        };
        let points = self.rt.block_on(cloudwatch::fetch(&self.client, &[query], minute, minute.offset(1))).unwrap();
        points.iter().map(|p| p.value).collect()
    }
}

/// The last six whole minutes and the one in progress (its start is past):
/// the minutes at the weight so far, and the next one if a test runs into
/// it.
fn recent_minutes() -> Vec<Minute> {
    let now = Minute::containing(Timestamp::now());
    (-6..=0).map(|k| now.offset(k)).collect()
}

/// Arms analysis in the harness's plan: `plan_wide` as its `[analysis]`
/// (none when empty), `admin` as admin's `[route.analysis]`, right after
/// its `[[route]]`.
fn arm(peers: &Peers, plan_wide: &str, admin: &str) {
    let path = peers.plan_path();
    let mut plan = std::fs::read_to_string(&path).unwrap();
    let route = plan.find("name = \"admin\"").unwrap();
    let steps = "steps = [0, 10, 50, 100]\n";
    let end = route + plan[route..].find(steps).unwrap() + steps.len();
    plan.insert_str(end, &format!("\n[route.analysis]\n{admin}"));
    if !plan_wide.is_empty() {
        let first = plan.find("[[route]]").unwrap();
        plan.insert_str(first, &format!("[analysis]\n{plan_wide}\n"));
    }
    std::fs::write(&path, plan).unwrap();
}

/// Where the plan says `field`, as the console names it: `plan.toml:27`.
fn plan_line(peers: &Peers, field: &str) -> String {
    let path = peers.plan_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let found: Vec<usize> = text.lines().enumerate().filter(|(_, l)| l.trim() == field).map(|(i, _)| i + 1).collect();
    assert_eq!(found.len(), 1, "`{field}` once in the plan:\n{text}");
    format!("{}:{}", path.display(), found[0])
}

/// admin at `new` percent to new at moto, before the console reads it.
fn set_admin(peers: &Peers, new: i64) {
    peers.post("/elb/weights", json!({"route": "admin", "old": 100 - new, "new": new}));
}

/// A route's weights as moto holds them: (old, new).
fn weights(peers: &Peers, route: &str) -> (i64, i64) {
    let w = peers.get(&format!("/elb/weights?route={route}"));
    (w["old"].as_i64().unwrap(), w["new"].as_i64().unwrap())
}

/// Each side's minutes put, the harness's call log cleared after: what the
/// test itself wrote is not the console's.
fn seed(peers: &Peers, old: Traffic, new: Traffic) {
    let cw = CloudWatch::new(peers, "admin");
    cw.mirror_harness_seed();
    cw.put(Side::Old, &recent_minutes(), old);
    cw.put(Side::New, &recent_minutes(), new);
    peers.post("/requests/clear", Value::Null);
}

fn verdict(app: &App) -> Verdict {
    app.routes[ADMIN].analysis.as_ref().map_or(Verdict::Waiting, |a| a.verdict.clone())
}

fn said(app: &App, start: &str) -> Option<String> {
    app.events.iter().map(|e| e.text.clone()).find(|t| t.starts_with(start))
}

/// The operations of every call the console made to AWS that writes.
fn writes(peers: &Peers) -> Vec<String> {
    peers.mutating_requests().iter().map(|r| r["op"].as_str().unwrap_or("?").to_string()).collect()
}

/// Opens the step proposal of admin (`]` on the traffic panel), returns
/// its analysis line and why a typed word is asked, and closes it.
fn propose_admin(d: &mut Driver) -> (String, Option<String>) {
    d.app.ui.focus = Panel::Traffic;
    d.app.ui.selected[Panel::Traffic.index()] = ADMIN;
    d.press("]");
    let Some(Modal::Proposal(p)) = d.app.modal.clone() else { panic!("no proposal: {:?}", d.app.notice) };
    let line = p.lines.iter().find(|l| l.starts_with("analysis: ")).cloned().unwrap_or_default();
    let typed = p.typed_override.as_ref().map(|o| o.reason());
    d.apply(Msg::Key(Key::plain(KeyCode::Esc)));
    assert!(d.app.modal.is_none(), "the proposal is dropped: {:?}", d.app.modal);
    (line, typed)
}

/// The analysis marks of admin in a recording: (verdict, text).
fn analysis_marks(path: &Path) -> Vec<(String, String)> {
    let recording = cutover::record::read(path).unwrap();
    recording
        .marks
        .into_iter()
        .filter_map(|(_, m)| match m.what {
            Marked::Analysis { route, verdict, text } if route == "admin" => Some((verdict, text)),
            _ => None,
        })
        .collect()
}

/// The judged minutes of admin's step: from the first whole one at its
/// weight to the last judged.
fn judged_minutes(app: &App) -> Vec<Minute> {
    let a = app.routes[ADMIN].analysis.as_ref().unwrap();
    let first = Minute::containing(a.since);
    let first = if first.start() == a.since { first } else { first.offset(1) };
    (first.0..=a.judged.unwrap().0).map(Minute).collect()
}

#[test]
fn a_healthy_step_passes_each_minute_and_is_ready_once_baked() {
    // Set to 50% two minutes and fifty seconds ago; three minutes' bake.
    let mut d = Driver::start_running_since("realistic", None, SignedDuration::from_secs(170), |peers| {
        arm(peers, "", "bake = \"3m\"\nfailure_limit = 2\non_failure = \"revert\"\n");
        set_admin(peers, 50);
        seed(peers, OLD, NEW_HEALTHY);
    });
    assert_eq!(d.app.routes[ADMIN].spec.name, "admin");

    // What the console reads is each minute once, whichever order a query
    // gives the dimensions in.
    let cw = CloudWatch::new(&d.peers, "admin");
    let minute = recent_minutes()[0];
    assert_eq!(cw.new_requests(minute, 0), [1000.0]);
    assert_eq!(cw.new_requests(minute, 1), [1000.0]);

    d.until("admin's first minutes judged", |app| matches!(verdict(app), Verdict::Baking { .. }));
    assert_eq!(verdict(&d.app), Verdict::Baking { minutes: 2, of: 3 }, "passing, two of three minutes at 50%");
    let judged = judged_minutes(&d.app);
    let e = d.app.routes[ADMIN].analysis.as_ref().unwrap().evidence;
    let m = judged.len() as u32;
    assert!(m >= 1, "at least one whole minute since the change");
    assert_eq!(e.minutes, m);
    assert_eq!((e.new.requests, e.new.errors), (1000 * u64::from(m), u64::from(m)), "new's minutes, each read once");
    let harness: f64 = judged.iter().map(|m| cw.harness_old_requests(*m)).sum();
    assert_eq!((e.old.requests, e.old.errors), (1000 * u64::from(m) + harness as u64, u64::from(m)));
    assert_eq!(e.latency_ms, Some(120.0));
    let screen = d.screen();
    assert!(screen.contains("… 2/3 min"), "{screen}");
    assert!(screen.contains("AUTO-REVERT armed: admin"), "{screen}");

    // Stepping up before the bake takes the typed word.
    let (line, typed) = propose_admin(&mut d);
    assert!(line.starts_with("analysis: passing, 2 of 3 min baked (bake 180s) over"), "{line}");
    let typed = typed.expect("a typed word before the step is ready");
    assert!(typed.contains("the analysis holds it (not ready: passing, 2 of 3 min baked)"), "{typed}");

    // Ready once three minutes have passed at the weight, not before.
    d.console.until("admin ready", Duration::from_secs(60), |app| verdict(app) == Verdict::Ready);
    let a = d.app.routes[ADMIN].analysis.clone().unwrap();
    assert!(
        a.verdict_at.as_second() - a.since.as_second() >= 180,
        "ready at {} for a step at {}",
        a.verdict_at,
        a.since
    );
    assert_eq!(d.app.routes[ADMIN].passed, Some(Weights::from_percent_new(50)), "where a revert would go back to");
    assert!(said(&d.app, "analysis of admin at 50% to new: passing, 2 of 3 min baked").is_some());
    assert!(said(&d.app, "analysis of admin at 50% to new: PASS, baked: ready for the next step").is_some());
    assert!(d.screen().contains("✓ 3/3 min, ready"), "{}", d.screen());
    let (line, typed) = propose_admin(&mut d);
    assert!(line.starts_with("analysis: PASS, baked: ready for the next step over"), "{line}");
    assert!(line.contains("new 5xx 0.1% of") && line.contains("latency 120 ms"), "{line}");
    assert_eq!(typed, None, "a ready step needs no typed word");

    // A pass acts on nothing: the rule as it was, nothing written.
    assert!(d.app.in_flight.is_empty());
    assert_eq!(writes(&d.peers), Vec::<String>::new());
    assert_eq!(weights(&d.peers, "admin"), (50, 50));
}

#[test]
fn a_failing_step_is_reverted_by_itself_and_the_rule_reads_back_all_old() {
    let path = common::fresh_path("analysis-live", "revert.jsonl");
    // Set to 50% six and a half minutes ago; new answers 6% 5xx since.
    let mut d = Driver::start_running_since("realistic", Some(&path), SignedDuration::from_secs(390), |peers| {
        arm(peers, "", "bake = \"3m\"\nfailure_limit = 2\non_failure = \"revert\"\n");
        set_admin(peers, 50);
        seed(peers, OLD, NEW_FAILING);
    });
    d.until("the automatic revert verified", |app| {
        app.events.iter().any(|e| e.text.starts_with("AUTO-REVERT route admin: ") && e.text.contains("· verified"))
    });
    d.until("the rule read back all old", |app| {
        app.routes[ADMIN].read.as_ref().and_then(|r| r.weights) == Some(Weights::from_percent_new(0))
    });

    // At moto: the rule all old, by one write of it.
    assert_eq!(weights(&d.peers, "admin"), (100, 0));
    assert_eq!(writes(&d.peers), ["ModifyRule"]);

    // What the console said: two failing minutes, the step failed, and
    // the revert with what armed it and who ran the console.
    let armed = format!(
        "analysis, on_failure = revert ({}; armed by {})",
        plan_line(&d.peers, "on_failure = \"revert\""),
        d.app.operator
    );
    // The minutes at the weight were read together at the start: judged
    // one by one (two failing), and the verdict they end on said once.
    assert!(said(&d.app, "analysis of admin at 50% to new: failing").is_none());
    let fails = d.app.routes[ADMIN].judged.iter().filter(|(_, j)| *j == cutover::app::Judged::Fail).count();
    assert!(fails >= 2, "{:?}", d.app.routes[ADMIN].judged);
    assert_eq!(
        said(&d.app, "analysis of admin at 50% to new: FAIL").as_deref(),
        Some("analysis of admin at 50% to new: FAIL: 5xx 6.0% > 1.0%")
    );
    let revert = said(&d.app, "AUTO-REVERT route admin: ").unwrap();
    assert!(
        revert.starts_with(&format!(
            "AUTO-REVERT route admin: old 50/new 50 -> old 100/new 0 (all old), the step failed: 5xx 6.0% > 1.0%; \
             on_failure = revert ({}), armed by {}",
            plan_line(&d.peers, "on_failure = \"revert\""),
            d.app.operator
        )),
        "{revert}"
    );
    assert!(revert.contains("· verified"), "{revert}");
    // The step at all old is a new one: judged from the revert on.
    let a = d.app.routes[ADMIN].analysis.as_ref().unwrap();
    assert_eq!(a.weights, Weights::from_percent_new(0));
    assert_eq!(d.app.routes[ADMIN].passed, None, "no step passed: all old");

    // What it recorded: the verdicts, the revert with who, its outcome.
    d.recorder.as_mut().unwrap().flush().unwrap();
    let verdicts: Vec<String> = analysis_marks(&path).into_iter().map(|(v, _)| v).collect();
    assert_eq!(verdicts, ["fail"]);
    let recording = cutover::record::read(&path).unwrap();
    type WeightsMark = (Option<Weights>, Weights, String, String, Option<cutover::app::Armed>);
    let weights_marks: Vec<WeightsMark> = recording
        .marks
        .iter()
        .filter_map(|(_, m)| match &m.what {
            Marked::Weights { route, from, to, who, proposal, armed } if route == "admin" => {
                Some((*from, *to, who.clone(), proposal.clone(), armed.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        weights_marks,
        [(
            Some(Weights::from_percent_new(50)),
            Weights::from_percent_new(0),
            armed,
            "route admin: automatic revert after a failed step, to all old".to_string(),
            Some(cutover::app::Armed {
                by: cutover::app::Automatic::Revert,
                at: plan_line(&d.peers, "on_failure = \"revert\""),
                operator: d.app.operator.clone(),
            })
        )]
    );
    assert!(
        recording.marks.iter().any(
            |(_, m)| matches!(&m.what, Marked::Outcome { ok: true, effect, .. } if effect.starts_with("route admin"))
        ),
        "{:#?}",
        recording.marks
    );
}

#[test]
fn thin_traffic_stays_inconclusive_and_says_how_long_it_would_take() {
    // admin at 1% of 800 requests a minute for six and a half minutes.
    let mut d = Driver::start_running_since("realistic", None, SignedDuration::from_secs(390), |peers| {
        arm(peers, "", "bake = \"3m\"\nfailure_limit = 2\non_failure = \"revert\"\n");
        set_admin(peers, 1);
        seed(peers, OLD_THIN, NEW_THIN);
    });
    d.until("admin judged", |app| app.routes[ADMIN].analysis.as_ref().is_some_and(|a| a.judged.is_some()));
    let Verdict::Unsure(Unsure::Thin { minutes: Some(more), .. }) = verdict(&d.app) else {
        panic!("{:?}", verdict(&d.app))
    };
    let a = d.app.routes[ADMIN].analysis.clone().unwrap();
    let m = judged_minutes(&d.app).len() as u64;
    assert_eq!((a.evidence.new.requests, a.evidence.new.errors), (8 * m, 0));
    assert_eq!(a.evidence.old.errors, 2 * m);
    // The time it would take is the domain's projection at the pace read
    // (checked against scipy in its own tests).
    let spec = d.app.routes[ADMIN].spec.analysis.clone().unwrap();
    assert_eq!(Some(more), minutes_to_tell(&spec, &a.evidence));
    let line = said(&d.app, "analysis of admin at 1% to new: INCONCLUSIVE: thin traffic").unwrap();
    assert!(line.contains(&format!("~{more} min more at this weight to tell")), "{line}");
    assert!(d.screen().contains(&format!("? thin traffic, ~{more} min")), "{}", d.screen());

    // The next minute read is as thin: still inconclusive, nothing done.
    let judged = a.judged;
    d.console.until("the next minute judged", NEXT_POLL, |app| {
        app.routes[ADMIN].analysis.as_ref().is_some_and(|a| a.judged > judged)
    });
    assert!(matches!(verdict(&d.app), Verdict::Unsure(Unsure::Thin { .. })), "{:?}", verdict(&d.app));
    assert!(d.app.routes[ADMIN].analysis.as_ref().unwrap().failures == 0);
    assert!(said(&d.app, "analysis would revert").is_none());
    assert!(d.app.in_flight.is_empty());
    assert_eq!(writes(&d.peers), Vec::<String>::new());
    assert_eq!(weights(&d.peers, "admin"), (99, 1));
}

#[test]
fn cloudwatch_throttled_blinds_the_analysis_and_reverts_nothing_until_it_reads_again() {
    // Healthy at 50% for six and a half minutes; one failing minute is
    // enough to fail the step.
    let mut d = Driver::start_running_since("realistic", None, SignedDuration::from_secs(390), |peers| {
        arm(peers, "", "bake = \"2m\"\nfailure_limit = 1\non_failure = \"revert\"\n");
        set_admin(peers, 50);
        seed(peers, OLD, NEW_HEALTHY);
    });
    d.until("admin ready", |app| verdict(app) == Verdict::Ready);

    // GetMetricData throttled; then the minute in progress goes bad on new.
    d.peers.aws_fault(json!({"id": "throttled", "ops": ["GetMetricData"], "code": "Throttling"}));
    let bad = Minute::containing(Timestamp::now());
    CloudWatch::new(&d.peers, "admin").put(
        Side::New,
        &[bad],
        Traffic { requests: 5000.0, errors: 1000.0, latency_ms: 120.0 },
    );
    let metrics = SourceId::Metrics(MetricsKind::CloudWatch);
    d.console.until("admin blind", NEXT_POLL, |app| app.routes[ADMIN].blind.is_some());
    // The bad minute is over and in CloudWatch; the console cannot read it.
    let closed = bad.offset(1).start() + SignedDuration::from_secs(1);
    d.console.until("the bad minute over", NEXT_POLL, |app| app.now >= closed);
    assert!(d.app.routes[ADMIN].blind.is_some(), "blind until it reads again");
    let Some(SourceState::Stale { error, .. }) = d.app.sources.get(&metrics) else { panic!("{:?}", d.app.sources) };
    assert!(error.contains("Throttling"), "{error}");
    let blind = said(&d.app, "analysis blind on admin: ").unwrap();
    assert!(blind.starts_with("analysis blind on admin: CloudWatch stale "), "{blind}");
    assert!(blind.ends_with("; no verdict, and nothing reverted by itself, until it reads again"), "{blind}");
    let screen = d.screen();
    assert!(screen.contains("ANALYSIS BLIND on admin"), "{screen}");
    assert!(screen.contains("◌ blind"), "{screen}");
    let a = d.app.routes[ADMIN].analysis.clone().unwrap();
    assert_eq!(a.verdict, Verdict::Ready, "no minute judged while blind");
    assert!(a.judged < Some(bad));
    assert!(d.app.in_flight.is_empty(), "blind is no failure: nothing sent");
    assert_eq!(writes(&d.peers), ["PutMetricData"], "the test's own write only");
    assert_eq!(weights(&d.peers, "admin"), (50, 50));

    // CloudWatch answers again: the bad minute is judged, and it acts.
    d.peers.clear_aws_faults();
    d.console.until("admin sees again", NEXT_POLL, |app| app.routes[ADMIN].blind.is_none());
    assert!(said(&d.app, "analysis of admin sees again after ").is_some());
    d.until("the automatic revert verified", |app| {
        app.events.iter().any(|e| e.text.starts_with("AUTO-REVERT route admin: ") && e.text.contains("· verified"))
    });
    let failed = said(&d.app, "analysis of admin at 50% to new: FAIL: ").unwrap();
    assert!(
        matches!(d.app.routes[ADMIN].judged.iter().find(|(m, _)| *m == bad), Some((_, cutover::app::Judged::Fail))),
        "{failed}"
    );
    assert_eq!(weights(&d.peers, "admin"), (100, 0));
    assert_eq!(writes(&d.peers), ["PutMetricData", "ModifyRule"]);
}

#[test]
fn watch_says_what_the_revert_would_do_and_writes_nothing() {
    let path = common::fresh_path("analysis-live", "watch.jsonl");
    // The plan arms the revert for every route; admin's own table sets a
    // ceiling of its own.
    let mut c = LiveConsole::start_with("realistic", Mode::Watch, |peers| {
        arm(peers, "bake = \"3m\"\nfailure_limit = 2\non_failure = \"revert\"\n", "max_error_rate = \"2%\"\n");
        set_admin(peers, 50);
        seed(peers, OLD, NEW_FAILING);
    });
    c.record_to(&path);
    c.until("everything read", Duration::from_secs(30), everything_read);
    c.settle_since(SignedDuration::from_secs(390));
    c.until("admin's step failed", Duration::from_secs(30), |app| matches!(verdict(app), Verdict::Failed(_)));
    assert_eq!(verdict(&c.app), Verdict::Failed(Failed::ErrorRate { share: 0.06, ceiling: 0.02 }), "admin's ceiling");
    let would = said(&c.app, "analysis would revert admin").unwrap();
    assert_eq!(
        would,
        format!(
            "analysis would revert admin to all old (on_failure = revert, {}): nothing can be changed from here",
            plan_line(&c.peers, "on_failure = \"revert\"")
        )
    );
    let screen = c.screen();
    assert!(screen.contains("AUTO-REVERT armed"), "{screen}");
    assert!(screen.contains("here it says what it would do"), "{screen}");

    // Through the next read of the rule: the failed step stands, nothing is
    // asked of the executor or the peers.
    let at = c.app.routes[ADMIN].read.as_ref().unwrap().at;
    c.until("the next ALB poll", Duration::from_secs(30), |app| app.routes[ADMIN].read.as_ref().unwrap().at > at);
    assert!(matches!(verdict(&c.app), Verdict::Failed(_)));
    assert!(common::take_sent().is_empty(), "no effect made");
    assert!(c.app.in_flight.is_empty());
    let ops: Vec<String> =
        c.peers.requests("aws").iter().map(|r| r["op"].as_str().unwrap_or("?").to_string()).collect();
    assert!(ops.iter().any(|op| op == "GetMetricData") && ops.iter().any(|op| op == "DescribeRules"), "{ops:?}");
    assert_eq!(c.peers.mutating_requests(), Vec::<Value>::new(), "watch writes nothing, anywhere");
    assert_eq!(weights(&c.peers, "admin"), (50, 50));
    assert_eq!(weights(&c.peers, "api"), (75, 25));

    c.recorder.as_mut().unwrap().flush().unwrap();
    let marks = analysis_marks(&path);
    assert!(marks.iter().any(|(v, t)| v == "would revert" && *t == would), "{marks:#?}");
    assert!(marks.iter().any(|(v, _)| v == "fail"), "{marks:#?}");
}

//! The postmortem report of a scripted demo session whose truth the test
//! knows: the operator's steps, revert and handoff at set seconds, and 5xx
//! datapoints of its own at set minutes. The summary's figures are checked
//! against those numbers and against figures the test works out from the
//! recorded stream itself; an action's lines fold into one; the JSON
//! validates against the schema in the repo; the HTML is one file that
//! fetches nothing; the command's flags and its bad input. A session with
//! the plan's analysis armed: each step's verdict and time to decision
//! against the recorded marks, the automatic revert, and the replay
//! reaching the live console's verdicts at the same instants.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{record_with, start};
use cutover::app::{App, AppConfig, LbMetric, Mark, Marked, MetricPoint, Msg, Queued, RouteMetric, SeriesId, Verdict};
use cutover::domain::Backend;
use cutover::domain::analysis::{Advance, AnalysisSpec, OnFailure};
use cutover::domain::{Minute, RouteId, Side, Weights, plus_secs};
use cutover::keymap::{Key, KeyCode};
use cutover::record::{Header, Keyframe, Writer};

const BIN: &str = env!("CARGO_BIN_EXE_cutover");

/// The session's length, and the minutes (after the start) of the test's
/// own datapoints: new's 5xx at 9.0%, old's at 3.5%, and 500 5xx of the
/// api's load balancer itself; each far above anything the demo makes.
const SECS: i64 = 13 * 60;
const NEW_PEAK_MINUTE: i64 = 7;
const OLD_PEAK_MINUTE: i64 = 9;
const LB_MINUTE: i64 = 11;

fn temp(name: &str) -> PathBuf {
    common::fresh_path("report", name)
}

fn minute(after_start: i64) -> Minute {
    Minute::containing(plus_secs(start(), after_start * 60))
}

/// Steps api 25% -> 50% at 60 s and -> 75% at 180 s, undoes the last at
/// 300 s (back to 50%), and hands the scheduler over at 420 s with the
/// typed override (Argo CD would scale it back).
fn script() -> Vec<(i64, Vec<Key>)> {
    let k = Key::char;
    let mut handoff = vec![Key::plain(KeyCode::Tab)];
    handoff.extend([Key::plain(KeyCode::Down); 5]);
    handoff.push(k('h'));
    handoff.extend("override".chars().map(k));
    handoff.push(Key::plain(KeyCode::Enter));
    vec![
        (60, vec![Key::plain(KeyCode::BackTab), k(']'), k('y')]),
        (180, vec![k(']'), k('y')]),
        (300, vec![k('r'), k('y')]),
        (420, handoff),
    ]
}

/// The test's datapoints, each sent a little after the world closed that
/// minute (so the world's own point for it is replaced, as CloudWatch
/// revises a minute).
fn inject(s: i64, app: &App) -> Vec<Msg> {
    let api = RouteId::of(0);
    let route = |side, metric, minute, value| MetricPoint {
        series: SeriesId::Route { route: api, side, metric },
        minute,
        value,
    };
    let at = |m: i64| (m + 1) * 60 + 50;
    if s == at(NEW_PEAK_MINUTE) {
        let m = minute(NEW_PEAK_MINUTE);
        return vec![Msg::Metrics(vec![
            route(Side::New, RouteMetric::Requests, m, 1000.0),
            route(Side::New, RouteMetric::Target5xx, m, 90.0),
        ])];
    }
    if s == at(OLD_PEAK_MINUTE) {
        let m = minute(OLD_PEAK_MINUTE);
        return vec![Msg::Metrics(vec![
            route(Side::Old, RouteMetric::Requests, m, 2000.0),
            route(Side::Old, RouteMetric::Target5xx, m, 70.0),
        ])];
    }
    if s == at(LB_MINUTE) {
        let Backend::Alb(alb) = &app.routes[0].spec.backend else { panic!("api is an ALB route") };
        let series = SeriesId::LoadBalancer { lb: alb.load_balancer.clone(), metric: LbMetric::Elb5xx };
        return vec![Msg::Metrics(vec![MetricPoint { series, minute: minute(LB_MINUTE), value: 500.0 }])];
    }
    Vec::new()
}

fn session(name: &str) -> (PathBuf, App) {
    let path = temp(name);
    let live = record_with(&path, SECS, &[], &script(), inject);
    (path, live.app)
}

/// Per route and side, each minute's requests and target 5xx as the
/// recording's datapoints last said them: worked out here from the raw
/// stream, not by the report.
/// Per (route, side, minute): requests and target 5xx.
type Points = BTreeMap<(usize, Side, Minute), (Option<f64>, Option<f64>)>;

fn recorded_points(path: &Path) -> Points {
    let rec = cutover::record::read(path).unwrap();
    let mut out = Points::new();
    for entry in &rec.entries {
        let Msg::Metrics(points) = &entry.m else { continue };
        for p in points {
            if let SeriesId::Route { route, side, metric } = &p.series {
                let e = out.entry((route.index(), *side, p.minute)).or_default();
                match metric {
                    RouteMetric::Requests => e.0 = Some(p.value),
                    RouteMetric::Target5xx => e.1 = Some(p.value),
                    RouteMetric::LatencyMs => {}
                }
            }
        }
    }
    out
}

/// When the scheduler stopped running on old (no pod of it still running)
/// and when it was ready on new, after the handoff began: from the
/// recorded cluster stream, applied to a console of the test's own.
fn handoff_truth(path: &Path, began: jiff::Timestamp) -> i64 {
    let rec = cutover::record::read(path).unwrap();
    let mut app = rec.header.initial_app();
    let spec = app.config.singletons.iter().find(|s| s.name == "scheduler").unwrap().clone();
    let (mut gone, mut ready) = (None, None);
    for entry in &rec.entries {
        let _ = cutover::app::update(&mut app, entry.m.clone());
        if app.now < began {
            continue;
        }
        let running = app.clusters.old.pods_of(spec.key(Side::Old)).filter(|p| p.still_running()).count();
        if gone.is_none() && running == 0 {
            gone = Some(app.now);
        }
        let up = app.clusters.new.workloads.get(spec.key(Side::New)).is_some_and(|w| w.ready >= spec.replicas);
        if gone.is_some() && ready.is_none() && up {
            ready = Some(app.now);
        }
    }
    ready.unwrap().as_second() - gone.unwrap().as_second()
}

#[test]
fn the_summary_tells_the_truth_of_a_scripted_session() {
    let (path, live) = session("truth.jsonl");
    assert_eq!(live.routes[0].verified, Some(Weights::from_percent_new(50)), "the script ran: api back at 50%");
    let report = cutover::report::from_file(&path).unwrap();
    let s = &report.summary;
    assert!(s.complete);
    assert_eq!(s.drivers, vec!["alice@example (demo)".to_string()]);

    let api = &s.routes[0];
    assert_eq!(api.route, "api");
    assert_eq!((api.first, api.last), (Some(Weights::from_percent_new(25)), Some(Weights::from_percent_new(50))));
    assert_eq!((api.steps, api.reverts), (3, 1), "two steps up and the undo");
    assert_eq!(api.highest_share_new_percent, Some(75.0));
    let steps = &report.routes[0].steps;
    let at: Vec<i64> = steps.iter().map(|s| s.at.as_second() - start().as_second()).collect();
    assert_eq!(at, vec![60, 180, 300], "each step when its key was pressed");
    assert_eq!(api.highest_share_at, Some(steps[1].at));
    assert_eq!(steps.iter().map(|s| s.revert).collect::<Vec<_>>(), vec![false, false, true]);
    assert_eq!(steps.iter().map(|s| s.target_side).collect::<Vec<_>>(), vec![Side::New, Side::New, Side::Old]);
    assert_eq!(steps[1].secs_at_previous, Some(120), "at 50% from the first step to the second");
    assert_eq!(steps[2].secs_at_previous, Some(120));

    // The worst minutes are the test's own datapoints.
    let new = api.worst_5xx.new.as_ref().unwrap();
    assert_eq!(
        (new.at, new.percent, new.requests, new.target_5xx),
        (minute(NEW_PEAK_MINUTE).start(), 9.0, 1000.0, 90.0)
    );
    let old = api.worst_5xx.old.as_ref().unwrap();
    assert_eq!((old.at, old.percent), (minute(OLD_PEAK_MINUTE).start(), 3.5));
    let lb = api.worst_lb_5xx.as_ref().unwrap();
    assert_eq!((lb.at, lb.count), (minute(LB_MINUTE).start(), 500.0));
    let m7 = minute(NEW_PEAK_MINUTE).start();
    let peak = report.peaks.iter().find(|p| p.side == Side::New && p.from <= m7 && m7 <= p.to);
    let peak = peak.unwrap_or_else(|| panic!("a peak over the test's minute: {:#?}", report.peaks));
    assert_eq!((peak.route.as_str(), peak.peak_percent, peak.peak_at), ("api", 9.0, m7));
    assert!(report.peaks.iter().any(|p| p.side == Side::Old && p.peak_percent == 3.5), "{:?}", report.peaks);
    assert_eq!(s.peaks + s.peaks_before, report.peaks.len());

    // A side that never had a request says so.
    let admin = &s.routes[1];
    assert_eq!(admin.route, "admin");
    assert!(admin.worst_5xx.new.is_none(), "admin's new side has no traffic: {:?}", admin.worst_5xx.new);
    assert_eq!((admin.steps, admin.reverts), (0, 0));

    // The revert's figures: old's requests and 5xx in the minutes after
    // it, summed here from the recorded datapoints.
    let points = recorded_points(&path);
    let revert = &steps[2];
    let after = &revert.after_figures;
    let (from, to) = (Minute::containing(after.from), Minute::containing(after.to));
    assert_eq!((from, to), (minute(6), minute(10)), "the five whole minutes after the step's");
    let (mut requests, mut errors) = (0.0, 0.0);
    for ((route, side, m), (r, e)) in &points {
        if *route == 0 && *side == Side::Old && (from..=to).contains(m) && r.is_some() {
            requests += r.unwrap();
            errors += e.unwrap_or(0.0);
        }
    }
    assert_eq!((after.requests, after.target_5xx), (requests, errors));
    assert!(errors >= 70.0, "the test's old peak is among them");

    // The handoff and its gap, against the recorded cluster stream.
    let scheduler = s.singletons.iter().find(|x| x.singleton == "scheduler").unwrap();
    assert_eq!((scheduler.handoffs, scheduler.done), (1, 1));
    let began = report.handoffs[0].started;
    assert_eq!(began, plus_secs(start(), 420));
    assert_eq!(scheduler.gaps_secs, vec![handoff_truth(&path, began)]);
    // The demo's Argo CD scales the old side back: an outside change that
    // reverts this session's write, and a singleton alarm.
    assert_eq!((s.outside_changes, s.outside_reverts, s.alarms), (1, 1, 1), "{:?}", report.outside);

    let md = report.markdown();
    let summary = md.split("## Steps").next().unwrap();
    for needle in [
        "| Driven by | alice@example (demo) |",
        "| api (ALB rule) | 25% (75/25) | 50% (50/50) | 75% from 14:03:00 | 3 | 1 |",
        "| api | new | 9.00% (90 of 1,000 req) at 14:07 |",
        "| api | old | 3.50% (70 of 2,000 req) at 14:09 |",
        "| api | load balancer | 500 at 14:11",
        "| admin | new | no data |",
        &format!("| scheduler | 1, done | {}s |", scheduler.gaps_secs[0]),
        "| Changes not made by cutover | 1, 1 of them undoing a write of this session |",
    ] {
        assert!(summary.contains(needle), "the summary has `{needle}`:\n{summary}");
    }
    assert!(md.find("## Summary") < md.find("## Steps") && md.find("## Steps") < md.find("## Timeline"));
}

#[test]
fn an_action_s_lines_fold_into_one() {
    let (path, _) = session("fold.jsonl");
    let rec = cutover::record::read(&path).unwrap();
    let report = cutover::report::build(&rec);
    let weights: Vec<&cutover::report::Moment> = report.timeline.iter().filter(|m| m.kind == "weights").collect();
    assert_eq!(weights.len(), 3, "one line per step: {weights:#?}");
    for w in &weights {
        assert_eq!(w.marks, 2, "the confirmed change and its verified answer: {w:?}");
        assert!(w.text.ends_with(": verified"), "{}", w.text);
        assert_eq!(w.who.as_deref(), Some("alice@example (demo)"));
    }
    assert!(weights[2].text.contains("undo, 75% → 50% to new (25/75 → 50/50)"), "{}", weights[2].text);
    let handoff: Vec<&cutover::report::Moment> = report.timeline.iter().filter(|m| m.kind == "handoff").collect();
    assert_eq!(handoff.len(), 1, "{handoff:#?}");
    let gap = report.handoffs[0].gap_secs.unwrap();
    // The override, the start, both scalings and the end.
    assert_eq!(handoff[0].marks, 5, "{:?}", handoff[0]);
    assert!(handoff[0].text.contains("with the typed override (owner: old: Argo CD application photo-api"));
    assert!(handoff[0].text.ends_with(&format!("nothing ran for {gap}s")), "{}", handoff[0].text);
    // Nothing of them is left on a line of its own.
    let kinds: Vec<&str> = report.timeline.iter().map(|m| m.kind.as_str()).collect();
    assert!(!kinds.iter().any(|k| ["override", "handoff_started", "handoff_done"].contains(k)), "{kinds:?}");
    let answers = report.timeline.iter().filter(|m| m.kind == "outcome").count();
    assert_eq!(answers, 0, "every executor answer folded into its action: {:#?}", report.timeline);
    let marks: usize = report.timeline.iter().map(|m| m.marks).sum();
    assert_eq!(marks, rec.marks.len(), "every recorded mark is on one line or folded into one");

    let md = report.markdown();
    let timeline = md.split("## Timeline").nth(1).unwrap();
    assert_eq!(timeline.matches("route api: 25% → 50% to new").count(), 1, "{timeline}");
    assert_eq!(timeline.lines().filter(|l| l.contains("handoff of scheduler")).count(), 1, "{timeline}");
}

fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(venv.exists(), "the test venv is missing: run ./tests/run.sh, which creates .venv with jsonschema");
    venv
}

/// Python's `jsonschema` (in the tests' venv) checks the output: an
/// implementation of the standard that is not ours.
fn validate(json: &Path) -> std::process::Output {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json");
    let check = "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 jsonschema.Draft202012Validator.check_schema(schema)\n\
                 v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())\n\
                 errors = sorted(v.iter_errors(json.load(open(sys.argv[2]))), key=lambda e: list(e.path))\n\
                 [print(e.json_path, e.message[:300]) for e in errors]\n\
                 sys.exit(1 if errors else 0)";
    std::process::Command::new(python()).args(["-c", check]).arg(&schema).arg(json).output().unwrap()
}

#[test]
fn the_json_validates_against_the_schema() {
    let (path, _) = session("schema.jsonl");
    let json = temp("report.json");
    let window = temp("window.json");
    for (out, extra) in [(&json, vec![]), (&window, vec!["--from", "14:02", "--to", "14:06:30"])] {
        let status = std::process::Command::new(BIN)
            .args(["report", path.to_str().unwrap(), "--format", "json", "-o", out.to_str().unwrap()])
            .args(&extra)
            .status()
            .unwrap();
        assert!(status.success());
        let checked = validate(out);
        assert!(
            checked.status.success(),
            "{}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
    }
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["format_version"], 1);
    assert_eq!(value["summary"]["routes"][0]["worst_5xx"]["new"]["percent"], 9.0);
    assert_eq!(value["summary"]["routes"][1]["worst_5xx"]["new"], serde_json::Value::Null, "no data is null");
    // Every time of one precision.
    let text = std::fs::read_to_string(&json).unwrap();
    let times: Vec<&str> = text.split('"').filter(|t| t.starts_with("2026-11-25T")).collect();
    assert!(times.len() > 50, "{}", times.len());
    for t in times {
        assert_eq!(t.len(), "2026-11-25T14:00:00.000Z".len(), "{t}");
    }

    // The schema is not a formality: a report with a minute of no unit
    // (the old `minute`) or a signal as a string fails it.
    let mut broken = value.clone();
    broken["peaks"] = serde_json::json!([{"route": "api", "side": "new", "from": "2026-11-25T14:07:00.000Z",
        "to": "2026-11-25T14:07:00.000Z", "peak_percent": 9.0, "peak_at": "2026-11-25T14:07:00.000Z",
        "signals_before": ["14:06:10 ip-10-1-19-86: spot interruption"], "pods_lost": []}]);
    broken["session"]["started"] = serde_json::json!("2026-11-25T14:00:00Z");
    let bad = temp("broken.json");
    std::fs::write(&bad, serde_json::to_string(&broken).unwrap()).unwrap();
    let checked = validate(&bad);
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(!checked.status.success());
    assert!(said.contains("signals_before") && said.contains("session.started"), "{said}");
}

/// What an HTML page may not have: anything that makes a browser fetch.
fn external_references(html: &str) -> Vec<String> {
    let lower = html.to_lowercase();
    let mut found = Vec::new();
    for needle in
        ["<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href=", "http://", "https://", "//fonts"]
    {
        for (i, _) in lower.match_indices(needle) {
            let context = &html[i.saturating_sub(40)..(i + 80).min(html.len())];
            // The one namespace URI an inline SVG carries is a name, never fetched.
            if context.contains("xmlns=\"http://www.w3.org/2000/svg\"") && needle == "http://" {
                continue;
            }
            found.push(context.to_string());
        }
    }
    found
}

#[test]
fn the_html_report_is_one_file_that_fetches_nothing() {
    let (path, _) = session("html.jsonl");
    let out = temp("report.html");
    let status = std::process::Command::new(BIN)
        .args(["report", path.to_str().unwrap(), "--format", "html", "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(external_references(&html), Vec::<String>::new(), "the page must read offline");
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 2, "nothing beside it but the recording");
    // A chart per route, inline, with hover labels on its marks.
    assert_eq!(html.matches("<svg ").count(), 3, "api, admin and www");
    assert!(html.contains("<style>") && html.contains("<table>"));
    let api = html.split("<figure id=\"chart-api\">").nth(1).unwrap().split("</figure>").next().unwrap();
    for n in 1..=3 {
        assert!(api.contains(&format!("<title>step {n}: ")), "step {n} is marked with its label: {api:.400}");
    }
    assert!(
        api.contains("<title>14:01:00 alice@example (demo): route api")
            || api.contains("step 1: 14:01:00 alice@example (demo)")
    );
    assert!(api.contains("handoff of scheduler old → new: done"), "the handoff is marked");
    assert!(api.contains("(aws-node-termination-handler)") || api.contains("(karpenter)"), "node signals, by source");
    // The tables of the Markdown, as HTML.
    let md = cutover::report::from_file(&path).unwrap().markdown();
    for heading in md.lines().filter_map(|l| l.strip_prefix("## ")) {
        assert!(html.contains(&format!("<h2>{heading}</h2>")), "{heading}");
    }
    assert!(html.contains("<td>9.00% (90 of 1,000 req) at 14:07</td>"));
}

#[test]
fn the_command_writes_a_window_a_chart_or_a_file_and_refuses_bad_input() {
    let (path, _) = session("flags.jsonl");
    let file = path.to_str().unwrap();
    let run = |args: &[&str]| std::process::Command::new(BIN).arg("report").arg(file).args(args).output().unwrap();

    // A window: only the second step and what is in it.
    let out = run(&["--from", "14:02", "--to", "2026-11-25T14:04:00Z", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let window: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(window["window"]["whole"], false);
    let steps = window["routes"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0]["number"], 2, "numbered as in the whole session");
    assert_eq!(window["summary"]["routes"][0]["first"]["new"], 50, "the weights in effect at the window's start");
    assert_eq!(window["summary"]["routes"][0]["final"]["new"], 75);
    assert!(window["handoffs"].as_array().unwrap().is_empty(), "the handoff is after the window");
    let md = String::from_utf8(run(&["--from", "14:02", "--to", "14:04"]).stdout).unwrap();
    assert!(md.contains("| Reported | only 2026-11-25 14:02:00 UTC to 2026-11-25 14:04:00 UTC |"), "{md}");

    // One chart alone.
    let svg = temp("api.svg");
    let out = run(&["--format", "svg", "--route", "api", "-o", svg.to_str().unwrap()]);
    assert!(out.status.success() && out.stdout.is_empty(), "written to the file, not printed");
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(external_references(&svg), Vec::<String>::new());

    // -o writes what standard output would have had.
    let md_file = temp("report.md");
    assert!(run(&["-o", md_file.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read_to_string(&md_file).unwrap(), String::from_utf8(run(&[]).stdout).unwrap());

    for (args, says) in [
        (
            vec!["--format", "svg", "--route", "nope"],
            "no route `nope` in this recording: its routes are api, admin, www",
        ),
        (vec!["--format", "svg"], "add --route NAME (one of api, admin, www)"),
        (vec!["--route", "api"], "--route picks the chart of --format svg"),
        (vec!["--from", "25:00"], "`25:00` is not a time"),
        (vec!["--from", "yesterday-ish"], "--from `yesterday-ish` is not an RFC 3339 time"),
        (vec!["--to", "2026-11-26T10:00:00Z"], "--to 2026-11-26T10:00:00Z is outside the recording"),
        (vec!["--from", "09:00"], "09:00 UTC is outside the recording"),
        (vec!["--from", "14:05", "--to", "14:04"], "--from 14:05:00 is not before --to 14:04:00"),
        (vec!["-o", "/nonexistent/dir/report.md"], "cannot write /nonexistent/dir/report.md"),
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing printed");
    }
}

// A session with the plan's analysis armed on `api`.

/// The plan's analysis of `api`: new's 5xx under a 5% ceiling (the demo's
/// new side stays far under it), four minutes' bake, two failing minutes
/// fail a step, and a failed step is reverted by the console itself.
fn armed_spec() -> AnalysisSpec {
    AnalysisSpec {
        max_error_rate: Some(0.05),
        max_error_increase: None,
        max_latency_ms: None,
        bake_secs: 240,
        ..AnalysisSpec::defaults(OnFailure::Revert, Advance::Manual, "cutover.toml:30", "cutover.toml:31")
    }
}

const ARMED_SECS: i64 = 10 * 60;
/// The operator's steps of api: 25% -> 50%, then 50% -> 75% once ready
/// (the bake's four minutes later), ten seconds into a minute.
const PASSING_STEP: i64 = 60;
const FAILING_STEP: i64 = 310;
/// The operator's step of www, a route the plan does not judge.
const WWW_STEP: i64 = 500;

fn armed_script() -> Vec<(i64, Vec<Key>)> {
    let k = Key::char;
    let down = Key::plain(KeyCode::Down);
    vec![
        (PASSING_STEP, vec![Key::plain(KeyCode::BackTab), k(']'), k('y')]),
        (FAILING_STEP, vec![k(']'), k('y')]),
        (WWW_STEP, vec![down, down, k(']'), k('y')]),
    ]
}

/// A bad build at 75%: new's 5xx at 20% of its requests in each minute
/// the route is there, sent as the world closes the minute (so they
/// replace the world's own, which the analysis has judged once already).
fn regression(s: i64, app: &App) -> Vec<Msg> {
    let at_75 = app.routes[0].weights() == Some(Weights::from_percent_new(75));
    if s % 60 != 0 || s <= FAILING_STEP || !at_75 {
        return Vec::new();
    }
    let m = minute(s / 60 - 1);
    let point = |metric, value| MetricPoint {
        series: SeriesId::Route { route: RouteId::of(0), side: Side::New, metric },
        minute: m,
        value,
    };
    vec![Msg::Metrics(vec![point(RouteMetric::Requests, 900.0), point(RouteMetric::Target5xx, 180.0)])]
}

/// A recorded demo session with analysis armed on api: the live console
/// at the end, its state at each check time (as `common::record_with`
/// keeps them), and each change of api's verdict as the live console
/// reached it.
struct Armed {
    app: App,
    states: Vec<(i64, serde_json::Value)>,
    verdicts: Vec<(jiff::Timestamp, Verdict)>,
}

/// `common::record_with`, with the plan's analysis armed on api before the
/// console starts (the world's own plan has none), and the effects the
/// world carries out in turn, the automatic revert among them.
fn record_armed(path: &Path, checks: &[i64]) -> Armed {
    use cutover::sim::{SimConfig, World};
    let world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 });
    let mut config: AppConfig = world.app_config();
    config.routes[0].analysis = Some(armed_spec());
    record_world(path, world, config, checks, &armed_script(), ARMED_SECS, regression)
}

/// `world` run for `secs` seconds by a console with `config`, `script`'s
/// keys pressed, `inject`'s messages sent after the world's each second,
/// and every effect carried out by the world in turn.
fn record_world(
    path: &Path,
    mut world: cutover::sim::World,
    config: AppConfig,
    checks: &[i64],
    script: &[(i64, Vec<Key>)],
    secs: i64,
    inject: fn(i64, &App) -> Vec<Msg>,
) -> Armed {
    let mut app = App::new(config, cutover::keymap::Keymap::default(), world.now());
    let mut writer = Writer::create(path, &Header::new(&app, start(), (120, 32))).unwrap();
    let mut checks: Vec<i64> = checks.iter().rev().map(|s| start().as_millisecond() + s * 1000).collect();
    let mut states = Vec::new();
    let mut verdicts: Vec<(jiff::Timestamp, Verdict)> = Vec::new();
    let mut step = |app: &mut App, writer: &mut Writer, msg: Msg| -> Vec<Queued> {
        let at = cutover::runtime::stamp(app, &msg).as_millisecond();
        while checks.last().is_some_and(|c| *c < at) {
            let c = checks.pop().unwrap();
            states.push((c, serde_json::to_value(Keyframe::of(app)).unwrap()));
        }
        let out = cutover::runtime::apply(app, msg, Some(writer));
        let verdict = app.routes[0].analysis.as_ref().map(|a| a.verdict.clone());
        if let Some(v) = verdict.filter(|v| verdicts.last().is_none_or(|(_, last)| last != v)) {
            verdicts.push((app.now, v));
        }
        out.effects
    };
    let mut queued = step(&mut app, &mut writer, Msg::Operator { who: "alice@example (demo)".into() });
    for msg in world.initial() {
        queued.extend(step(&mut app, &mut writer, msg));
    }
    for s in 1..=secs {
        for msg in world.advance(plus_secs(start(), s)) {
            queued.extend(step(&mut app, &mut writer, msg));
        }
        for msg in inject(s, &app) {
            queued.extend(step(&mut app, &mut writer, msg));
        }
        for key in script.iter().filter(|(at, _)| *at == s).flat_map(|(_, keys)| keys) {
            queued.extend(step(&mut app, &mut writer, Msg::Key(*key)));
        }
        // What the answers bring about (an automatic revert) is sent too.
        while !queued.is_empty() {
            for Queued { id, effect } in std::mem::take(&mut queued) {
                let (result, msgs) = world.apply(&effect);
                for msg in msgs.into_iter().chain([Msg::EffectDone { id, effect, result }]) {
                    queued.extend(step(&mut app, &mut writer, msg));
                }
            }
        }
    }
    let _ = step(&mut app, &mut writer, Msg::Ended(cutover::app::Ending::Quit));
    drop(writer);
    Armed { app, states, verdicts }
}

/// api's steps and its analysis marks, as the recording holds them.
fn recorded_api(path: &Path) -> (Vec<Mark>, Vec<Mark>) {
    let rec = cutover::record::read(path).unwrap();
    let mut marks: Vec<Mark> = rec.marks.into_iter().map(|(_, m)| m).collect();
    marks.sort_by_key(|m| m.at);
    let api = |m: &&Mark| match &m.what {
        Marked::Weights { route, .. } | Marked::Analysis { route, .. } => route == "api",
        _ => false,
    };
    let (steps, said) = marks.iter().filter(api).cloned().partition(|m| matches!(m.what, Marked::Weights { .. }));
    (steps, said)
}

/// The first decisive verdict (ready or fail) the recording says of the
/// weights step `k` set, from the step until api's next one: the mark's
/// text names the share it judged. Its time, its verdict and its text.
fn decided(steps: &[Mark], said: &[Mark], k: usize) -> Option<(jiff::Timestamp, String, String)> {
    let Marked::Weights { to, .. } = &steps[k].what else { unreachable!() };
    let share = u32::from(to.new.0) * 100 / (u32::from(to.old.0) + u32::from(to.new.0));
    let judged = format!("analysis of api at {share}% to new: ");
    let end = steps.get(k + 1).map(|n| n.at);
    said.iter().filter(|m| m.at >= steps[k].at && end.is_none_or(|e| m.at <= e)).find_map(|m| match &m.what {
        Marked::Analysis { verdict, text, .. } if ["ready", "fail"].contains(&verdict.as_str()) => {
            text.strip_prefix(&judged).map(|evidence| (m.at, verdict.clone(), evidence.to_string()))
        }
        _ => None,
    })
}

#[test]
fn a_step_that_passes_then_one_that_fails_and_is_reverted_by_itself() {
    let path = temp("armed.jsonl");
    let live = record_armed(&path, &[]);
    assert_eq!(live.app.routes[0].verified, Some(Weights::from_percent_new(50)), "reverted to the step that passed");
    let report = cutover::report::from_file(&path).unwrap();
    let (recorded, said) = recorded_api(&path);
    let api = &report.routes[0];
    let steps = &api.steps;
    assert_eq!(steps.len(), 3, "{steps:#?}");
    let at: Vec<i64> = steps.iter().map(|s| s.at.as_second() - start().as_second()).collect();
    assert_eq!(&at[..2], [PASSING_STEP, FAILING_STEP]);
    assert_eq!(steps[2].who, "analysis, on_failure = revert (cutover.toml:30; armed by alice@example (demo))");
    assert_eq!((steps[2].before, steps[2].after), (Some(Weights::from_percent_new(75)), Weights::from_percent_new(50)));
    assert!(steps[2].verified && steps[2].revert);

    // Each step's verdict, and its time to decision, against the marks.
    let verdicts: Vec<_> = steps.iter().map(|s| s.analysis.clone().unwrap()).collect();
    assert_eq!(verdicts[0].verdict, Some("ready"));
    assert_eq!(verdicts[0].evidence.as_deref(), Some("PASS, baked: ready for the next step"));
    assert_eq!(verdicts[1].verdict, Some("fail"));
    let evidence = verdicts[1].evidence.clone().unwrap();
    assert!(evidence.starts_with("FAIL: 5xx ") && evidence.ends_with(" > 5.0%"), "{evidence}");
    for (k, v) in verdicts.iter().enumerate() {
        let truth = decided(&recorded, &said, k);
        let secs = truth.as_ref().map(|(at, ..)| at.as_second() - recorded[k].at.as_second());
        assert_eq!(v.decision_secs, secs, "step {k}: {said:#?}");
        assert_eq!(v.decision, truth.as_ref().map(|(_, verdict, _)| verdict.as_str()), "step {k}");
        assert_eq!(v.decided_at, truth.as_ref().map(|(at, ..)| *at), "step {k}");
        if let Some((_, _, text)) = &truth {
            assert_eq!(v.evidence.as_ref(), Some(text), "step {k}: the last verdict is the decisive one");
        }
    }
    // Back at 50%, baking again when the session ends: not decided.
    assert_eq!((verdicts[2].verdict, verdicts[2].decision), (Some("pass"), None), "{:?}", verdicts[2]);
    // Ready once the bake is over, its minutes judged healthy.
    assert_eq!(verdicts[0].decision_secs, Some(240));
    let failed_at = verdicts[1].decided_at.unwrap();
    assert_eq!(steps[2].at, failed_at, "reverted at the instant the step failed");

    // The automatic actions: the revert, with what armed it and why.
    let actions = report.automatic_actions.as_ref().unwrap();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    let revert = &actions[0];
    assert_eq!((revert.kind, revert.route.as_str(), revert.step, revert.at), ("revert", "api", Some(4), failed_at));
    assert_eq!(
        (revert.armed_at.as_deref(), revert.armed_by.as_deref()),
        (Some("cutover.toml:30"), Some("alice@example (demo)"))
    );
    assert_eq!(revert.why.as_deref(), Some(format!("analysis of api at 75% to new: {evidence}").as_str()));
    assert_eq!((revert.before_share_new_percent, revert.after_share_new_percent), (Some(75.0), Some(50.0)));
    assert_eq!(revert.verified, Some(true));

    assert_eq!(report.summary.drivers, ["alice@example (demo)"], "the console's own step is nobody's at the keys");
    let sum = report.summary.analysis.as_ref().unwrap();
    assert_eq!(sum.routes, ["api"]);
    assert_eq!((sum.steps, sum.steps_passed, sum.steps_failed, sum.steps_inconclusive), (3, 2, 1, 0));
    assert_eq!((sum.automatic_reverts, sum.autopilot_steps, sum.would_revert, sum.blind), (1, 0, 0, 0));

    // The minutes judged: passes at 50%, failures at 75%.
    let minutes = &api.analysis.as_ref().unwrap().minutes;
    assert!(minutes.iter().any(|m| m.check == "fail") && minutes.iter().any(|m| m.check == "pass"), "{minutes:?}");
    assert!(report.routes[1..].iter().all(|r| r.analysis.is_none() && r.steps.iter().all(|s| s.analysis.is_none())));

    let md = report.markdown();
    let minsecs = |secs: i64| format!("{}m {:02}s", secs / 60, secs % 60);
    for needle in [
        "| Step verdicts | 3 steps of api judged: 2 passed, 1 failed, 0 inconclusive |".to_string(),
        "| Automatic actions | 1 automatic revert |".to_string(),
        "| Result | Verdict | Evidence | Time to decision |".to_string(),
        format!("| verified | **FAIL** | {evidence} | {} (fail) |", minsecs(verdicts[1].decision_secs.unwrap())),
        format!("| verified | ready | PASS, baked: ready for the next step | {} (ready) |", minsecs(240)),
        "## Automatic actions".to_string(),
        format!(
            "| automatic revert (step 4) | 75% (25/75) → 50% (50/50) | analysis, on_failure = revert (cutover.toml:30; \
             armed by alice@example (demo)) | analysis of api at 75% to new: {evidence} | verified |"
        ),
    ] {
        assert!(md.contains(&needle), "the report has `{needle}`:\n{md}");
    }
    // www is not judged: its steps table has no verdict columns.
    let www = md.split("### www (Route 53 records").nth(1).unwrap().split("\n\n").nth(1).unwrap();
    assert!(www.starts_with("| # | Time |") && !www.contains("Verdict"), "{www}");
    assert_eq!(report.routes[2].steps.len(), 1, "the www step");

    // The JSON: against the schema, and nothing of it for www.
    let json = temp("armed.json");
    std::fs::write(&json, report.json()).unwrap();
    let checked = validate(&json);
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let value: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    let step = &value["routes"][0]["steps"][1]["analysis"];
    assert_eq!((step["verdict"].as_str(), step["decision"].as_str()), (Some("fail"), Some("fail")));
    assert_eq!(step["decision_secs"], verdicts[1].decision_secs.unwrap());
    assert!(value["routes"][2]["steps"][0].get("analysis").is_none() && value["routes"][2].get("analysis").is_none());
    assert_eq!(value["automatic_actions"][0]["kind"], "revert");
    assert_eq!(value["summary"]["analysis"]["steps_failed"], 1);
    // The schema holds the new fields to their forms too.
    let mut broken = value.clone();
    broken["routes"][0]["steps"][0]["analysis"]["verdict"] = serde_json::json!("great");
    broken["automatic_actions"][0]["decision_secs"] = serde_json::json!(3);
    std::fs::write(&json, serde_json::to_string(&broken).unwrap()).unwrap();
    let checked = validate(&json);
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(!checked.status.success());
    assert!(said.contains("steps[0].analysis.verdict") && said.contains("automatic_actions[0]"), "{said}");

    // The chart: the revert in the console's own colour, named, and the
    // verdict band; charts of routes not judged have neither.
    let html = report.html();
    let chart = |route: &str| {
        html.split(&format!("<figure id=\"chart-{route}\">"))
            .nth(1)
            .unwrap()
            .split("</figure>")
            .next()
            .unwrap()
            .to_string()
    };
    let api_chart = chart("api");
    assert!(
        api_chart.contains("<title>step 4: ")
            && api_chart.contains("automatic revert by the analysis, on_failure = revert")
    );
    assert!(api_chart.contains("fill=\"#c2185b\"") && api_chart.contains("Verdict of each minute judged"));
    for colour in ["#2e9d4b", "#d62f2f"] {
        assert!(api_chart.contains(&format!("fill=\"{colour}\"")), "{colour} in the band");
    }
    for other in ["admin", "www"] {
        let c = chart(other);
        assert!(!c.contains("Verdict of each minute") && !c.contains("#c2185b"), "{other}");
    }
}

#[test]
fn a_session_without_analysis_says_nothing_of_verdicts() {
    let (path, _) = session("unjudged.jsonl");
    let report = cutover::report::from_file(&path).unwrap();
    let md = report.markdown();
    for absent in ["Verdict", "Time to decision", "## Automatic actions", "Step verdicts", "Judged by"] {
        assert!(!md.contains(absent), "`{absent}` in a report without analysis");
    }
    let value: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert!(value.get("automatic_actions").is_none() && value["summary"].get("analysis").is_none());
    for route in value["routes"].as_array().unwrap() {
        assert!(route.get("analysis").is_none());
        assert!(route["steps"].as_array().unwrap().iter().all(|s| s.get("analysis").is_none()), "{route}");
    }
    assert!(!report.html().contains("Verdict of each minute"));
}

#[test]
fn a_recorded_session_with_analysis_replays_to_the_same_verdicts_at_the_same_instants() {
    let path = temp("armed-replay.jsonl");
    let checks: Vec<i64> = (0..ARMED_SECS / 15).map(|i| i * 15 + 4).collect();
    let live = record_armed(&path, &checks);
    let names: Vec<&str> = live.verdicts.iter().map(|(_, v)| v.name()).collect();
    assert!(names.contains(&"ready") && names.contains(&"fail"), "{names:?}");

    // The stream applied again, as the report and a replay apply it: each
    // change of api's verdict at the same instant, and the same marks.
    let rec = cutover::record::read(&path).unwrap();
    let mut app = rec.header.initial_app();
    let mut replayed: Vec<(jiff::Timestamp, Verdict)> = Vec::new();
    let mut marks = Vec::new();
    for entry in &rec.entries {
        marks.extend(cutover::app::update(&mut app, entry.m.clone()).marks);
        let verdict = app.routes[0].analysis.as_ref().map(|a| a.verdict.clone());
        if let Some(v) = verdict.filter(|v| replayed.last().is_none_or(|(_, last)| last != v)) {
            replayed.push((app.now, v));
        }
    }
    assert_eq!(replayed, live.verdicts);
    let analysis = |marks: Vec<Mark>| -> Vec<Mark> {
        marks.into_iter().filter(|m| matches!(m.what, Marked::Analysis { .. })).collect()
    };
    assert_eq!(analysis(marks), analysis(rec.marks.into_iter().map(|(_, m)| m).collect()));

    // The replay's viewer, seeking forward, back and through keyframes:
    // the console as it was, verdicts and minutes judged with the rest.
    let mut player = cutover::replay::Player::open(&path).unwrap();
    let mut order: Vec<usize> = (0..live.states.len()).collect();
    order.extend((0..live.states.len()).rev());
    for i in order {
        let (t, state) = &live.states[i];
        player.seek(*t).unwrap();
        let replayed = serde_json::to_value(Keyframe::of(&player.app)).unwrap();
        assert_eq!(
            replayed["routes"][0]["analysis"],
            state["routes"][0]["analysis"],
            "api's verdict at +{}s",
            (t - start().as_millisecond()) / 1000
        );
        if let Some(differ) = common::differing_parts(state, &replayed, "live", "replay") {
            panic!("the replay differs from the live console at +{}s: {differ}", (t - start().as_millisecond()) / 1000);
        }
    }
}

/// The demo's own plan (its analysis armed: api reverted by itself, www
/// stepped by the autopilot) left alone for forty minutes: each of www's
/// steps is the autopilot's, counted down and verified, and the report
/// names what armed it and why it went.
#[test]
fn the_autopilot_s_steps_are_automatic_actions_with_what_armed_them() {
    use cutover::sim::{SimConfig, World};
    let path = temp("autopilot.jsonl");
    let world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 }).with_analysis();
    let config = world.app_config();
    let live = record_world(&path, world, config, &[], &[], 40 * 60, |_, _| Vec::new());
    let www = live.app.routes.iter().position(|r| r.spec.name == "www").unwrap();
    let report = cutover::report::from_file(&path).unwrap();
    let actions = report.automatic_actions.as_ref().unwrap();
    let autopilot: Vec<_> = actions.iter().filter(|a| a.kind == "autopilot").collect();
    assert!(!autopilot.is_empty(), "{actions:#?}");
    assert!(actions.iter().all(|a| a.kind != "revert"), "no step of api was made: nothing to revert");
    let steps = &report.routes[www].steps;
    assert_eq!(steps.len(), autopilot.len(), "every www step is the autopilot's: {steps:#?}");
    for (a, s) in autopilot.iter().zip(steps) {
        assert_eq!((a.at, a.route.as_str(), a.before, a.after), (s.at, "www", s.before, Some(s.after)));
        assert_eq!(a.who.as_deref(), Some(s.who.as_str()));
        assert_eq!(s.who, "autopilot, advance = auto (the demo's plan; armed by alice@example (demo))");
        assert_eq!(
            (a.armed_at.as_deref(), a.armed_by.as_deref()),
            (Some("the demo's plan"), Some("alice@example (demo)"))
        );
        assert_eq!(a.verified, Some(true), "{a:#?}");
        let why = a.why.as_deref().unwrap();
        assert!(why.starts_with("analysis of www at ") && why.contains(": PASS, baked: ready"), "{why}");
        assert!(why.contains("; counted down from "), "{why}");
        // The step before it was decided ready, the countdown's length
        // (or more) before.
        assert!(a.after_share_new_percent > a.before_share_new_percent, "{a:#?}");
    }
    // Each autopilot step's own verdict, in the steps table.
    let first = steps[0].analysis.clone().unwrap();
    assert!(first.verdict.is_some(), "{first:?}");
    let sum = report.summary.analysis.as_ref().unwrap();
    assert_eq!((sum.autopilot_steps, sum.automatic_reverts), (autopilot.len(), 0));
    assert_eq!(sum.routes, ["api", "www"]);
    let md = report.markdown();
    assert!(md.contains(&format!("| Automatic actions | {} |", plural_steps(autopilot.len()))), "{md}");
    assert!(md.contains("| autopilot step (step "), "{md}");
}

fn plural_steps(n: usize) -> String {
    if n == 1 { "1 autopilot step".into() } else { format!("{n} autopilot steps") }
}

//! The report's sections from what the builder gathered, each by an
//! analysis of its own; here they are put together.

mod causes;
mod followed;
mod handoffs;
mod incidents;
mod lbs;
mod minutes;
mod recording;
mod refusals;
mod route;
mod steps;
mod summary;
mod timeline;
mod verdicts;
mod wheel;

pub use incidents::SIGNALS_BEFORE_MINUTES;
pub use steps::STEP_WINDOW_MINUTES;

use crate::app::App;
use crate::domain::Side;
use crate::record;
use crate::report::builder::Builder;
use crate::report::{FORMAT_VERSION, LostRow, Report, RouteReport, Session, Signal, Summary, Window};

/// How much of the time before the session's start the charts show when no
/// `--from` is given: the recent minutes the console read at its start.
pub const CHART_LEAD_MINUTES: i64 = 10;

/// The report of the part `window` of a session, from the builder that
/// applied its stream.
pub(super) fn report(
    builder: Builder,
    header: &record::Header,
    messages: usize,
    keyframes: usize,
    stopped: Option<String>,
    window: Window,
) -> Report {
    let Builder { app, operators, mut marks, history, series, lb_5xx, verdicts, judged, .. } = builder;
    let chart_from = if window.whole {
        let lead = crate::domain::plus_secs(header.started, -CHART_LEAD_MINUTES * 60);
        lead.max(header.clock.min(header.started))
    } else {
        window.from
    };
    // In time order: a spike is noted when its minute is read, after it.
    marks.sort_by_key(|m| m.at);
    let all_marks = marks.clone();
    marks.retain(|m| window.contains(m.at));
    let refusals = refusals::refusals(&marks, &operators);
    let overrides = refusals::overrides(&marks);
    let handoffs = handoffs::handoffs(&all_marks)
        .into_iter()
        .filter(|h| window.contains(h.picked_up.unwrap_or(h.started)))
        .collect();
    let alarms = handoffs::alarms(&all_marks).into_iter().filter(|a| window.contains(a.from)).collect();
    let outside = refusals::outside(&marks);
    let signals = incidents::signals(&all_marks);
    let pods_lost: Vec<LostRow> = incidents::pods_lost(&app).into_iter().filter(|l| window.contains(l.from)).collect();
    let peaks = incidents::peaks(&all_marks, &app, &signals, &pods_lost, &series)
        .into_iter()
        .filter(|p| window.contains(p.from))
        .collect();
    let signals: Vec<Signal> = signals.into_iter().filter(|s| window.contains(s.at)).collect();
    let steps = steps::steps(&all_marks);
    let lb_requests = lbs::lb_requests(&app, &series);
    let routes: Vec<RouteReport> = app
        .routes
        .iter()
        .enumerate()
        .map(|(i, route)| {
            let gathered = route::Gathered {
                history: &history[i],
                series: &series[i],
                lbs: (lbs::route_lb(route, &lb_5xx), lbs::route_lb(route, &lb_requests)),
                verdicts: &verdicts[i],
                judged: &judged[i],
            };
            route::route_report(route, gathered, &steps, window, chart_from)
        })
        .collect();
    let timeline = timeline::timeline(&marks, &app.config.singletons);
    // Only a session that judged a route says what its analysis did.
    let judging = app.routes.iter().any(|r| r.spec.analysis.is_some());
    let automatic_actions = judging.then(|| verdicts::automatic_actions(&all_marks, &app, &history, &window));
    let session = session(header, &app, operators, (messages, keyframes, stopped));
    let mut report = Report {
        format: "cutover-report",
        format_version: FORMAT_VERSION,
        session,
        window,
        chart_from,
        summary: Summary {
            complete: true,
            ended: None,
            recording_gaps: Vec::new(),
            drivers: Vec::new(),
            routes: Vec::new(),
            singletons: Vec::new(),
            outside_changes: 0,
            outside_reverts: 0,
            alarms: 0,
            refusals: 0,
            peaks: 0,
            peaks_before: 0,
            analysis: None,
        },
        routes,
        timeline,
        refusals,
        overrides,
        handoffs,
        alarms,
        outside,
        peaks,
        causes: causes::causes(&all_marks).into_iter().filter(|c| window.contains(c.from)).collect(),
        risks: causes::risks(&app),
        signals,
        pods_lost,
        wheel: wheel::rows(&all_marks, &window),
        automatic_actions,
    };
    report.summary = summary::summarize(&report, &lbs::lb_names(&app));
    report.summary.ended = recording::ending(&all_marks);
    report.summary.recording_gaps = recording::recording_gaps(&all_marks);
    report.summary.complete = report.summary.complete
        && report.summary.ended.is_some()
        && report.summary.recording_gaps.iter().all(|g| g.lost == 0 && g.to.is_some());
    report
}

/// The session's facts: its header's, and what the console ended with.
fn session(
    header: &record::Header,
    app: &App,
    operators: Vec<String>,
    (messages, keyframes, stopped): (usize, usize, Option<String>),
) -> Session {
    let ended = app.now.max(header.started);
    let config = &header.config;
    let cluster = |side: Side| {
        let c = config.clusters.get(side);
        let version = &app.config.clusters.get(side).version;
        if version.is_empty() { c.name.clone() } else { format!("{} ({version})", c.name) }
    };
    Session {
        title: config.title.clone(),
        mode: config.mode.label().into(),
        tool: header.tool.clone(),
        recording_format_version: header.version,
        started: header.started,
        ended,
        duration_secs: ended.as_second() - header.started.as_second(),
        operators,
        old_cluster: cluster(Side::Old),
        new_cluster: cluster(Side::New),
        routes: config.routes.iter().map(|r| r.name.clone()).collect(),
        singletons: config.singletons.iter().map(|s| s.name.clone()).collect(),
        spike_percent: config.guards.spike_percent,
        terminal: header.terminal,
        messages,
        keyframes,
        stopped,
        lease: app.wheel.as_ref().map(|w| w.lease.clone()),
    }
}

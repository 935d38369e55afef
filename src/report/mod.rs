//! `cutover report FILE`: the postmortem of a recorded session.
//!
//! Built by replaying the whole stream through `update`, the same way the
//! session and a replay built their screens: the marks `update` notes are
//! the timeline, and the rebuilt state gives the weight history. The
//! per-minute figures (requests, 5xx, the load balancers' own 5xx, healthy
//! targets) are gathered from the stream as it passes, since the console
//! keeps only its last hours of them. One `Report` is rendered three ways:
//! Markdown to paste into a postmortem, a self-contained HTML page with
//! charts, and JSON for tools (its schema is `schemas/report.schema.json`).

mod chart;
mod doc;
mod html;
mod summary;
mod time;
mod timeline;
mod wheel;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::app::RouteState;
use crate::app::{App, Mark, MarkClass, Marked, Msg, update};
use crate::app::{LbMetric, MetricPoint, RouteMetric, SeriesId};
use crate::domain::{
    CONVERGED_POINTS, Minute, NodeSignalKind, PerSide, RouteKind, Side, TargetState, Weights, clock, converged, error_rate,
    short_node,
};
use crate::record::{self, Recording};

pub use chart::route_svg;
pub use wheel::WheelRow;

/// The JSON report's format: bumped when a field changes meaning or goes.
pub const FORMAT_VERSION: u32 = 1;

/// How far back before a 5xx peak node signals are listed as its suspects.
pub const SIGNALS_BEFORE_MINUTES: i64 = 10;

/// How many whole minutes before and after a step its figures cover: long
/// enough to smooth a minute's noise, short enough to be the step's own.
pub const STEP_WINDOW_MINUTES: i64 = 5;

/// How much of the time before the session's start the charts show when no
/// `--from` is given: the recent minutes the console read at its start.
pub const CHART_LEAD_MINUTES: i64 = 10;

#[derive(Debug, Serialize)]
pub struct Report {
    /// Always `cutover-report`.
    pub format: &'static str,
    pub format_version: u32,
    pub session: Session,
    /// The part of the session reported: all of it unless `--from`/`--to`.
    pub window: Window,
    /// Where the charts and each route's `minutes` start: the window's
    /// start, or for a whole session `CHART_LEAD_MINUTES` before it (what
    /// the console read of the time before it started).
    #[serde(with = "time::rfc3339")]
    pub chart_from: Timestamp,
    pub summary: Summary,
    /// Per route: its weights over time, its steps and its minutes.
    pub routes: Vec<RouteReport>,
    /// One entry per action (its proposal, confirmation and the executor's
    /// answer folded together) and per incident, in time order.
    pub timeline: Vec<Moment>,
    pub refusals: Vec<Refusal>,
    /// Proposals confirmed with the typed override, against an owner that
    /// would undo them.
    pub overrides: Vec<OverrideRow>,
    pub handoffs: Vec<HandoffRow>,
    /// Every time a singleton ran on neither side (outside a handoff's
    /// gap) or on both.
    pub alarms: Vec<AlarmRow>,
    /// Changes of the plan's routes and singletons not made by this
    /// session, reverts of its writes among them.
    pub outside: Vec<OutsideRow>,
    pub peaks: Vec<Peak>,
    /// Node signals, as the console saw them.
    pub signals: Vec<Signal>,
    /// Pods of the routes' workloads lost to node disruptions, per node and
    /// signal.
    pub pods_lost: Vec<LostRow>,
    /// Who held the plan's wheel (its Lease), and how it changed hands, as
    /// the recorded console read it; empty without a Lease (the demo).
    pub wheel: Vec<WheelRow>,
}

#[derive(Debug, Serialize)]
pub struct Session {
    pub title: String,
    pub mode: String,
    /// The version of cutover that recorded it.
    pub tool: String,
    pub recording_format_version: u32,
    #[serde(with = "time::rfc3339")]
    pub started: Timestamp,
    #[serde(with = "time::rfc3339")]
    pub ended: Timestamp,
    pub duration_secs: i64,
    /// Everyone at the keys, in the order they came.
    pub operators: Vec<String>,
    pub old_cluster: String,
    pub new_cluster: String,
    pub routes: Vec<String>,
    pub singletons: Vec<String>,
    pub spike_percent: f64,
    pub terminal: (u16, u16),
    pub messages: usize,
    pub keyframes: usize,
    /// Why the recording ends early, if it does.
    pub stopped: Option<String>,
    /// The plan's Lease, `namespace/name` in the new cluster, when the
    /// console read one.
    pub lease: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Window {
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    /// The whole recording (no `--from`/`--to`).
    pub whole: bool,
}

impl Window {
    /// Whether a mark at `at` is reported: all of them for the whole
    /// recording (a demo's history and a live console's first CloudWatch
    /// minutes come before its start, and are told as such).
    pub fn contains(&self, at: Timestamp) -> bool {
        self.whole || (self.from <= at && at <= self.to)
    }

    /// The whole minutes the window touches.
    fn minutes(&self) -> (Minute, Minute) {
        (Minute::containing(self.from), Minute::containing(self.to))
    }
}

#[derive(Debug, Serialize)]
pub struct Summary {
    /// The recording holds the whole session: it ends with the session's
    /// end (a quit or a signal), nothing in it is cut short, and no line
    /// was lost while it could not be written.
    pub complete: bool,
    /// How the session ended, as its last message says; `None`: no end was
    /// recorded (killed with SIGKILL, the machine stopped, still running,
    /// or a recording of an earlier version).
    pub ended: Option<EndRow>,
    /// Every stretch the recording could not be written, and what it lost.
    pub recording_gaps: Vec<RecordingGap>,
    /// Who confirmed the actions in the window; the operators when nobody did.
    pub drivers: Vec<String>,
    pub routes: Vec<RouteSummary>,
    pub singletons: Vec<SingletonSummary>,
    pub outside_changes: usize,
    /// Outside changes that undid one of this session's writes.
    pub outside_reverts: usize,
    pub alarms: usize,
    pub refusals: usize,
    /// Runs of 5xx minutes above the guard from the window's start on.
    pub peaks: usize,
    /// Those before it, in the minutes the console read at its start.
    pub peaks_before: usize,
}

/// How a session ended.
#[derive(Debug, Clone, Serialize)]
pub struct EndRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    /// `quit`, `signal`, `error` or `crash`.
    pub how: &'static str,
    /// The signal's name, for `signal`.
    pub signal: Option<&'static str>,
    /// What the console said as it ended: for a signal, what it left.
    pub text: String,
}

/// A stretch the recording could not be written.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingGap {
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// When it was written again; `None`: not before the recording ends.
    #[serde(with = "time::rfc3339_option")]
    pub to: Option<Timestamp>,
    pub error: String,
    /// Lines held in memory and written late: in the recording.
    pub written_late: u64,
    /// Lines that did not fit in memory: not in the recording.
    pub lost: u64,
    #[serde(with = "time::rfc3339_option")]
    pub lost_from: Option<Timestamp>,
    #[serde(with = "time::rfc3339_option")]
    pub lost_to: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
pub struct RouteSummary {
    pub route: String,
    pub kind: RouteKind,
    /// The weights in effect at the window's start and at its end.
    pub first: Option<Weights>,
    #[serde(rename = "final")]
    pub last: Option<Weights>,
    pub first_share_new_percent: Option<f64>,
    pub final_share_new_percent: Option<f64>,
    /// The highest share set on new in the window, and since when.
    pub highest_share_new_percent: Option<f64>,
    #[serde(with = "time::rfc3339_option")]
    pub highest_share_at: Option<Timestamp>,
    /// Weight changes confirmed in the window.
    pub steps: usize,
    /// Those that lowered new's share: back toward old.
    pub reverts: usize,
    /// The minute with the highest target 5xx share, per side; None: no data.
    pub worst_5xx: PerSide<Option<Worst>>,
    /// The minute with the most 5xx answered by the load balancer(s)
    /// itself (502/503/504); None: none read.
    pub worst_lb_5xx: Option<WorstLb>,
    /// The fewest healthy targets read, per side; None: never read.
    pub lowest_healthy: PerSide<Option<Health>>,
}

/// One minute's target 5xx on one side.
#[derive(Debug, Clone, Serialize)]
pub struct Worst {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub percent: f64,
    pub requests: f64,
    pub target_5xx: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorstLb {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub count: f64,
    /// Of every request through the load balancers and these errors.
    pub percent: Option<f64>,
    /// The load balancers counted: an ALB shared by several routes counts
    /// its 5xx for each of them.
    pub load_balancers: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub healthy: u32,
    pub targets: u32,
}

#[derive(Debug, Serialize)]
pub struct SingletonSummary {
    pub singleton: String,
    pub handoffs: usize,
    pub done: usize,
    /// The gap (nothing running) of each handoff that finished, in order.
    pub gaps_secs: Vec<i64>,
}

#[derive(Debug, Serialize)]
pub struct RouteReport {
    pub route: String,
    pub kind: RouteKind,
    /// A DNS route's TTL as last read (the longer of its two records'; an
    /// alias answers with its target's), in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<i64>,
    /// Each distinct pair of weights the console saw, from when it saw it:
    /// the pair in effect at the window's start first.
    pub history: Vec<WeightsAt>,
    /// When the console first read that first pair (before the window, if
    /// it was in effect at its start): where the chart's line starts.
    #[serde(skip)]
    pub first_read: Option<Timestamp>,
    pub steps: Vec<Step>,
    /// A DNS route's clients following each change of the history after
    /// the first read, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followed: Vec<Followed>,
    /// Every minute from the report's `chart_from` to the window's end
    /// with a datapoint or a read.
    pub minutes: Vec<MinuteRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeightsAt {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub weights: Weights,
    pub share_new_percent: Option<f64>,
}

/// A confirmed weight change of one route, with what the service did
/// around it.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Its number in the session, from 1, counted over all routes.
    pub number: usize,
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub who: String,
    /// The proposal confirmed, as the console showed it.
    pub proposal: String,
    pub route: String,
    /// None when the weights had not been read (a revert from a stale view).
    pub before: Option<Weights>,
    pub after: Weights,
    pub before_share_new_percent: Option<f64>,
    pub after_share_new_percent: Option<f64>,
    /// It lowered new's share.
    pub revert: bool,
    /// The executor's answer, when the recording has it.
    pub outcome: Option<String>,
    pub verified: bool,
    /// How long the route had been at the weights before it.
    pub secs_at_previous: Option<i64>,
    /// Those weights were the console's first read: they may have been in
    /// place longer than `secs_at_previous`.
    pub since_first_read: bool,
    /// The side the step sends more traffic to (old for a revert).
    pub target_side: Side,
    /// That side's figures in the minutes before and after the step's own.
    pub before_figures: Figures,
    pub after_figures: Figures,
    /// A DNS route's clients following it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed: Option<String>,
}

/// One side's requests and target 5xx over some whole minutes.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// The start of the last minute counted.
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    /// Minutes with a request datapoint.
    pub minutes: i64,
    pub requests: f64,
    pub target_5xx: f64,
    /// None: no requests in those minutes (no data).
    pub percent: Option<f64>,
}

impl Figures {
    pub fn requests_per_minute(&self) -> Option<f64> {
        (self.minutes > 0).then(|| self.requests / self.minutes as f64)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SideMinute {
    pub requests: Option<f64>,
    pub target_5xx: Option<f64>,
    pub target_5xx_percent: Option<f64>,
    pub healthy_targets: Option<u32>,
    pub targets: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MinuteRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub old: SideMinute,
    pub new: SideMinute,
    /// 5xx the load balancer(s) answered itself in the minute.
    pub lb_5xx: Option<f64>,
    /// Of every request through them (all their routes') and these errors.
    pub lb_5xx_percent: Option<f64>,
    pub set_share_new_percent: Option<f64>,
    pub observed_share_new_percent: Option<f64>,
}

impl MinuteRow {
    pub fn side(&self, side: Side) -> &SideMinute {
        match side {
            Side::Old => &self.old,
            Side::New => &self.new,
        }
    }
}

/// A line of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Moment {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    /// `action`, `refused` or `incident`.
    pub class: &'static str,
    /// What it is: `weights`, `handoff`, `node`, `spike`, `outside_change`...
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    pub text: String,
    /// When the action's last folded line (its answer, a handoff's end) came.
    #[serde(with = "time::rfc3339_option", skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// How many recorded marks this line stands for.
    pub marks: usize,
}

/// Something not done: refused by the console's guards before anything was
/// sent, or refused or failed in the executor (which re-reads before writing).
#[derive(Debug, Serialize)]
pub struct Refusal {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    /// `console` or `executor`.
    pub by: &'static str,
    /// Who was at the keys.
    pub who: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct OutsideRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub subject: String,
    pub before: String,
    pub after: String,
    pub who: Option<String>,
    pub revert: bool,
}

#[derive(Debug, Serialize)]
pub struct OverrideRow {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub who: String,
    /// Who would undo it, as the proposal named them.
    pub owner: String,
    pub proposal: String,
}

#[derive(Debug, Serialize)]
pub struct AlarmRow {
    pub singleton: String,
    /// `neither` or `both`.
    pub ran_on: &'static str,
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// When it ran on one side again; None if not before the recording ends.
    #[serde(with = "time::rfc3339_option")]
    pub until: Option<Timestamp>,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct HandoffRow {
    pub singleton: String,
    pub from: Side,
    pub to: Side,
    #[serde(with = "time::rfc3339")]
    pub started: Timestamp,
    #[serde(with = "time::rfc3339_option")]
    pub ended: Option<Timestamp>,
    pub who: String,
    /// How it ended: done, aborted, failed, or still running at the end.
    pub result: String,
    /// Seconds with nothing running on either side.
    pub gap_secs: Option<i64>,
    /// Picked up after its source went while no console watched: the gap
    /// was at least `gap_secs` and at most this.
    pub gap_max_secs: Option<i64>,
    /// Started by an earlier session and picked up by this one, then.
    #[serde(with = "time::rfc3339_option")]
    pub picked_up: Option<Timestamp>,
}

/// A node signal: what took a node's capacity away, named by its source.
#[derive(Debug, Clone, Serialize)]
pub struct Signal {
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub side: Side,
    pub node: String,
    pub kind: NodeSignalKind,
    /// The kind as people say it: "NTH spot interruption".
    pub label: &'static str,
    /// Who raises it: aws-node-termination-handler, karpenter, ...
    pub source: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Peak {
    pub route: String,
    pub side: Side,
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// The start of the last minute above the guard.
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    pub peak_percent: f64,
    #[serde(with = "time::rfc3339")]
    pub peak_at: Timestamp,
    /// Node signals on the same side from `SIGNALS_BEFORE_MINUTES` before
    /// the peak began until it ended.
    pub signals_before: Vec<Signal>,
    /// Pods of the route's workload lost to node signals on that side in
    /// the same window.
    pub pods_lost: Vec<LostRow>,
}

/// Pods of a route's workload that left one node with a disruption signal.
#[derive(Debug, Clone, Serialize)]
pub struct LostRow {
    /// The start of the first and of the last minute a pod was lost in.
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    #[serde(with = "time::rfc3339")]
    pub to: Timestamp,
    pub side: Side,
    pub workload: String,
    pub node: String,
    pub cause: NodeSignalKind,
    pub pods: u32,
    /// "3 pods of app/api lost to Karpenter disruption".
    pub text: String,
}

/// Minutes between two counts of the same node and cause that still make
/// one row (a drain evicts over a minute or two).
const LOST_MERGE_MINUTES: i64 = 5;

/// How long a DNS route's observed share (new's requests of both load
/// balancers', per minute) took to come within `CONVERGED_POINTS` of the
/// share a change set.
#[derive(Debug, Clone, Serialize)]
pub struct Followed {
    /// When the change was seen.
    #[serde(with = "time::rfc3339")]
    pub at: Timestamp,
    pub set_percent: f64,
    /// Minutes from the change's minute to the first minute within
    /// `CONVERGED_POINTS` (0: the change's own minute); None if none was.
    pub after_minutes: Option<i64>,
    /// The last observed share looked at, when none came within.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_percent: Option<f64>,
    /// The next change, which ended the looking, if one did.
    #[serde(with = "time::rfc3339_option", skip_serializing_if = "Option::is_none")]
    pub next_change: Option<Timestamp>,
    /// "clients followed in 4 min".
    pub text: String,
}

fn class_name(class: MarkClass) -> &'static str {
    match class {
        MarkClass::Action => "action",
        MarkClass::Refusal => "refused",
        MarkClass::Incident => "incident",
    }
}

/// The part of a session to report, as the operator typed it: RFC 3339, or
/// `HH:MM[:SS]` UTC on whichever day of the recording has it.
#[derive(Debug, Clone, Default)]
pub struct Span {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Replays a recording read whole and gathers the report.
pub fn build(rec: &Recording) -> Report {
    let mut builder = Builder::new(&rec.header);
    for entry in &rec.entries {
        builder.feed(entry.m.clone());
    }
    let window = builder.whole(&rec.header);
    builder.finish(&rec.header, rec.entries.len(), rec.keyframes, rec.stopped.clone(), window)
}

/// Streams a recording from its file into the report, holding no more than
/// the console's state and the minutes' figures: how `cutover report` reads
/// a long recording.
pub fn from_file(path: &std::path::Path) -> Result<Report, String> {
    from_file_in(path, &Span::default())
}

/// `from_file` for a part of the session. A time that cannot be read or
/// lies outside the recording is an error that says so.
pub fn from_file_in(path: &std::path::Path, span: &Span) -> Result<Report, String> {
    let mut stream = record::Stream::open(path)?;
    let mut builder = Builder::new(&stream.header);
    let mut messages = 0;
    // Between lines lost and the keyframe after them, the marks written
    // beside the stream are all that tells what happened.
    let mut in_gap = false;
    for (_, item) in stream.by_ref() {
        match item {
            record::Item::Msg(msg) => {
                messages += 1;
                builder.feed(msg);
            }
            record::Item::Mark(mark) if in_gap => builder.marks.push(mark),
            record::Item::Mark(_) => {}
            record::Item::Gap(_) => in_gap = true,
            record::Item::Resync(frame) => {
                in_gap = false;
                builder.resync(frame);
            }
        }
    }
    let whole = builder.whole(&stream.header);
    // A window may start in the minutes the console read before the session.
    let earliest = stream.header.clock.min(stream.header.started);
    let window = time::window(whole, earliest, span)?;
    Ok(builder.finish(&stream.header, messages, stream.keyframes, stream.stopped.clone(), window))
}

impl Builder {
    /// After lines the recording lost, the keyframe that follows them is
    /// the state again; what the report gathers itself (the minutes'
    /// figures) takes from it the minutes it missed, the history the
    /// console held included.
    fn resync(&mut self, frame: Box<record::Stored>) {
        let keymap = std::mem::take(&mut self.app.keymap);
        self.app = frame.restore(keymap);
        for (i, route) in self.app.routes.iter().enumerate() {
            let Some(series) = self.series.get_mut(i) else { continue };
            for side in Side::BOTH {
                let (theirs, ours) = (route.metrics.get(side), series.get_mut(side));
                for m in theirs.requests.minutes() {
                    if let Some(v) = theirs.requests.get(m) {
                        ours.requests.entry(m).or_insert(v);
                    }
                }
                for m in theirs.target_5xx.minutes() {
                    if let Some(v) = theirs.target_5xx.get(m) {
                        ours.target_5xx.entry(m).or_insert(v);
                    }
                }
            }
        }
        for (lb, metrics) in &self.app.load_balancers {
            let series = &metrics.elb_5xx;
            let ours = self.lb_5xx.entry(lb.clone()).or_default();
            for m in series.minutes() {
                if let Some(v) = series.get(m) {
                    ours.entry(m).or_insert(v);
                }
            }
        }
    }
}

/// One route's figures per minute, as the datapoints came (a later point of
/// the same minute replaces an earlier one, as CloudWatch revises).
#[derive(Default)]
struct Series {
    requests: BTreeMap<Minute, f64>,
    target_5xx: BTreeMap<Minute, f64>,
    /// The fewest healthy targets read in the minute, and the targets then.
    health: BTreeMap<Minute, (u32, u32)>,
}

/// The report's state while the stream is applied.
struct Builder {
    app: App,
    operators: Vec<String>,
    marks: Vec<Mark>,
    history: Vec<Vec<(Timestamp, Weights)>>,
    series: Vec<PerSide<Series>>,
    /// Per load balancer, its own 5xx per minute.
    lb_5xx: BTreeMap<String, BTreeMap<Minute, f64>>,
    /// The time of each route's last read taken into `health`.
    read_at: Vec<Option<Timestamp>>,
}

impl Builder {
    fn new(header: &record::Header) -> Builder {
        let app = header.initial_app();
        let routes = app.routes.len();
        Builder {
            app,
            operators: header.operator.iter().cloned().collect(),
            marks: Vec::new(),
            history: vec![Vec::new(); routes],
            series: (0..routes).map(|_| PerSide::default()).collect(),
            lb_5xx: BTreeMap::new(),
            read_at: vec![None; routes],
        }
    }

    fn feed(&mut self, msg: Msg) {
        match &msg {
            Msg::Operator { who } if !self.operators.contains(who) => self.operators.push(who.clone()),
            Msg::Metrics(points) => self.note_points(points),
            _ => {}
        }
        let app = &mut self.app;
        let mut out = update(app, msg);
        self.marks.append(&mut out.marks);
        for (i, route) in app.routes.iter().enumerate() {
            let Some(read) = &route.read else { continue };
            if let Some(w) = read.weights
                && self.history[i].last().is_none_or(|(_, last)| *last != w)
            {
                self.history[i].push((app.now, w));
            }
            if self.read_at[i] != Some(read.at) {
                self.read_at[i] = Some(read.at);
                let minute = Minute::containing(read.at);
                for side in Side::BOTH {
                    let targets = read.targets.get(side);
                    let healthy = targets.iter().filter(|t| t.state == TargetState::Healthy).count() as u32;
                    let total = targets.len() as u32;
                    let entry = self.series[i].get_mut(side).health.entry(minute).or_insert((healthy, total));
                    if healthy < entry.0 {
                        *entry = (healthy, total);
                    }
                }
            }
        }
    }

    fn note_points(&mut self, points: &[MetricPoint]) {
        for p in points {
            match &p.series {
                SeriesId::Route { route, side, metric } => {
                    let Some(s) = self.series.get_mut(route.index()) else { continue };
                    let s = s.get_mut(*side);
                    match metric {
                        RouteMetric::Requests => s.requests.insert(p.minute, p.value),
                        RouteMetric::Target5xx => s.target_5xx.insert(p.minute, p.value),
                        RouteMetric::LatencyMs => None,
                    };
                }
                SeriesId::LoadBalancer { lb, metric: LbMetric::Elb5xx } => {
                    self.lb_5xx.entry(lb.clone()).or_default().insert(p.minute, p.value);
                }
                SeriesId::LoadBalancer { .. } => {}
            }
        }
    }

    /// The session, from its start to the console's last clock. What the
    /// console read of the time before (a demo's simulated history, a live
    /// console's recent CloudWatch minutes) is the charts' lead-in only.
    fn whole(&self, header: &record::Header) -> Window {
        Window { from: header.started, to: self.app.now.max(header.started), whole: true }
    }

    fn finish(
        self,
        header: &record::Header,
        messages: usize,
        keyframes: usize,
        stopped: Option<String>,
        window: Window,
    ) -> Report {
        let Builder { app, operators, mut marks, history, series, lb_5xx, .. } = self;
        let chart_from = if window.whole {
            let lead = crate::domain::plus_secs(header.started, -CHART_LEAD_MINUTES * 60);
            lead.max(header.clock.min(header.started))
        } else {
            window.from
        };
        let ended = app.now.max(header.started);
        // In time order: a spike is noted when its minute is read, after it.
        marks.sort_by_key(|m| m.at);
        let all_marks = marks.clone();
        marks.retain(|m| window.contains(m.at));
        let refusals = refusals(&marks, &operators);
        let overrides = marks
            .iter()
            .filter_map(|m| match &m.what {
                Marked::Override { who, owner, proposal } => {
                    Some(OverrideRow { at: m.at, who: who.clone(), owner: owner.clone(), proposal: proposal.clone() })
                }
                _ => None,
            })
            .collect();
        let handoffs =
            handoffs(&all_marks).into_iter().filter(|h| window.contains(h.picked_up.unwrap_or(h.started))).collect();
        let alarms = alarms(&all_marks).into_iter().filter(|a| window.contains(a.from)).collect();
        let outside: Vec<OutsideRow> = marks
            .iter()
            .filter_map(|m| match &m.what {
                Marked::OutsideChange { subject, before, after, who, revert, .. } => Some(OutsideRow {
                    at: m.at,
                    subject: subject.clone(),
                    before: before.clone(),
                    after: after.clone(),
                    who: who.clone(),
                    revert: *revert,
                }),
                _ => None,
            })
            .collect();
        let signals = signals(&all_marks);
        let pods_lost: Vec<LostRow> = pods_lost(&app).into_iter().filter(|l| window.contains(l.from)).collect();
        let peaks = peaks(&all_marks, &app, &signals, &pods_lost, &series)
            .into_iter()
            .filter(|p| window.contains(p.from))
            .collect();
        let signals: Vec<Signal> = signals.into_iter().filter(|s| window.contains(s.at)).collect();
        let steps = steps(&all_marks);
        let lb_requests = lb_requests(&app, &series);
        let routes: Vec<RouteReport> = app
            .routes
            .iter()
            .enumerate()
            .map(|(i, route)| {
                let lb = (route_lb(route, &lb_5xx), route_lb(route, &lb_requests));
                route_report(route, &history[i], &steps, &series[i], &lb, window, chart_from)
            })
            .collect();
        let timeline = timeline::timeline(&marks, &app.config.singletons);
        let config = &header.config;
        let cluster = |side: Side| {
            let c = config.clusters.get(side);
            let version = &app.config.clusters.get(side).version;
            if version.is_empty() { c.name.clone() } else { format!("{} ({version})", c.name) }
        };
        let session = Session {
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
        };
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
            },
            routes,
            timeline,
            refusals,
            overrides,
            handoffs,
            alarms,
            outside,
            peaks,
            signals,
            pods_lost,
            wheel: wheel::rows(&all_marks, &window),
        };
        report.summary = summary::summarize(&report, &lb_names(&app));
        report.summary.ended = ending(&all_marks);
        report.summary.recording_gaps = recording_gaps(&all_marks);
        report.summary.complete = report.summary.complete
            && report.summary.ended.is_some()
            && report.summary.recording_gaps.iter().all(|g| g.lost == 0 && g.to.is_some());
        report
    }
}

/// Each route's load balancers, for the summary's note.
fn lb_names(app: &App) -> Vec<Vec<String>> {
    app.routes
        .iter()
        .map(|r| {
            let mut lbs: Vec<String> =
                Side::BOTH.iter().filter_map(|s| r.load_balancer(*s).map(String::from)).collect();
            lbs.dedup();
            lbs
        })
        .collect()
}

/// Every route's requests per minute through each load balancer: what a
/// load balancer's own 5xx are a share of.
fn lb_requests(app: &App, series: &[PerSide<Series>]) -> BTreeMap<String, BTreeMap<Minute, f64>> {
    let mut out: BTreeMap<String, BTreeMap<Minute, f64>> = BTreeMap::new();
    for (route, s) in app.routes.iter().zip(series) {
        for side in Side::BOTH {
            let Some(lb) = route.load_balancer(side) else { continue };
            let per_minute = out.entry(lb.to_string()).or_default();
            for (m, r) in &s.get(side).requests {
                *per_minute.entry(*m).or_default() += r;
            }
        }
    }
    out
}

/// A per-load-balancer series summed over the route's load balancers: one
/// ALB for an ALB route, each side's own for a DNS route.
fn route_lb(route: &RouteState, lbs: &BTreeMap<String, BTreeMap<Minute, f64>>) -> BTreeMap<Minute, f64> {
    let mut names: Vec<&str> = Side::BOTH.iter().filter_map(|s| route.load_balancer(*s)).collect();
    names.dedup();
    let mut out: BTreeMap<Minute, f64> = BTreeMap::new();
    for name in names {
        for (m, v) in lbs.get(name).into_iter().flatten() {
            *out.entry(*m).or_default() += v;
        }
    }
    out
}

fn route_report(
    route: &RouteState,
    history: &[(Timestamp, Weights)],
    steps: &[Step],
    series: &PerSide<Series>,
    (lb_5xx, lb_requests): &(BTreeMap<Minute, f64>, BTreeMap<Minute, f64>),
    window: Window,
    chart_from: Timestamp,
) -> RouteReport {
    let kind = route.kind();
    let weights_at =
        |(at, w): &(Timestamp, Weights)| WeightsAt { at: *at, weights: *w, share_new_percent: kind.share_new(*w) };
    // The pair in effect at the window's start, then the changes inside it.
    let mut shown: Vec<WeightsAt> = Vec::new();
    let mut first_read = None;
    if let Some(before) = history.iter().rev().find(|(at, _)| *at <= window.from) {
        shown.push(WeightsAt { at: window.from.max(before.0), ..weights_at(before) });
        first_read = Some(before.0);
    }
    first_read = first_read.or(history.iter().find(|(at, _)| *at > window.from).map(|(at, _)| *at));
    shown.extend(history.iter().filter(|(at, _)| window.from < *at && *at <= window.to).map(weights_at));
    let followed: Vec<Followed> = if kind == RouteKind::Route53 {
        followed(route, history).into_iter().filter(|f| window.contains(f.at)).collect()
    } else {
        Vec::new()
    };
    let steps: Vec<Step> = steps
        .iter()
        .filter(|s| s.route == route.spec.name && window.contains(s.at))
        .cloned()
        .map(|mut s| {
            s.before_share_new_percent = s.before.and_then(|w| kind.share_new(w));
            s.after_share_new_percent = kind.share_new(s.after);
            s.revert = matches!((s.before_share_new_percent, s.after_share_new_percent), (Some(b), Some(a)) if a < b);
            s.target_side = if s.revert { Side::Old } else { Side::New };
            // Since the change before it, as the console saw the weights.
            let previous = history.iter().rev().find(|(at, w)| *at < s.at && Some(*w) == s.before).map(|(at, _)| *at);
            s.since_first_read = previous.is_some() && previous == history.first().map(|(at, _)| *at);
            s.secs_at_previous = previous.map(|at| s.at.as_second() - at.as_second());
            let minute = Minute::containing(s.at);
            let next = history.iter().find(|(at, _)| *at > s.at).map(|(at, _)| Minute::containing(*at));
            let side = series.get(s.target_side);
            // From the previous change's next minute at the earliest: the
            // minutes before are the setting before that.
            let first = minute.offset(-STEP_WINDOW_MINUTES);
            let first = match previous {
                // The first read's weights may have been there all along.
                Some(p) if !s.since_first_read => first.max(Minute::containing(p).offset(1)),
                _ => first,
            };
            s.before_figures = figures(side, first, minute.offset(-1));
            // Up to the next change's minute, which is partly the next setting's.
            let last = minute.offset(STEP_WINDOW_MINUTES);
            let last = next.map_or(last, |n| last.min(n.offset(-1)));
            s.after_figures = figures(side, minute.offset(1), last);
            s.followed = followed.iter().find(|f| f.at >= s.at).map(|f| f.text.clone());
            s
        })
        .collect();
    let (first, last) = (Minute::containing(chart_from), Minute::containing(window.to));
    let mut minutes = Vec::new();
    let mut m = first;
    while m <= last {
        let side = |s: &Series| {
            let requests = s.requests.get(&m).copied();
            let errors = s.target_5xx.get(&m).copied();
            let health = s.health.get(&m).copied();
            SideMinute {
                requests,
                target_5xx: requests.map(|_| errors.unwrap_or(0.0)),
                target_5xx_percent: percent(requests, errors),
                healthy_targets: health.map(|h| h.0),
                targets: health.map(|h| h.1),
            }
        };
        let row = MinuteRow {
            at: m.start(),
            old: side(&series.old),
            new: side(&series.new),
            lb_5xx: lb_5xx.get(&m).copied(),
            lb_5xx_percent: lb_5xx.get(&m).and_then(|e| {
                let requests = lb_requests.get(&m).copied().unwrap_or(0.0);
                (requests > 0.0).then(|| e * 100.0 / (requests + e))
            }),
            set_share_new_percent: history
                .iter()
                .rev()
                .find(|(at, _)| *at < m.offset(1).start())
                .and_then(|(_, w)| kind.share_new(*w)),
            observed_share_new_percent: observed(series, m),
        };
        let empty = row.old.requests.is_none()
            && row.new.requests.is_none()
            && row.old.targets.is_none()
            && row.lb_5xx.is_none();
        if !empty {
            minutes.push(row);
        }
        m = m.offset(1);
    }
    RouteReport {
        route: route.spec.name.clone(),
        kind,
        ttl_secs: if kind == RouteKind::Route53 { route.ttl() } else { None },
        history: shown,
        first_read,
        steps,
        followed,
        minutes,
    }
}

/// Target 5xx as a percentage of requests, as `error_rate` reads the
/// datapoints (no request point: no data; no 5xx point: none), computed
/// in percent so that 70 of 2,000 is 3.5.
fn percent(requests: Option<f64>, errors: Option<f64>) -> Option<f64> {
    error_rate(requests, errors).map(|_| errors.unwrap_or(0.0) * 100.0 / requests.unwrap_or(1.0))
}

/// New's share of the requests of both sides in a minute, in percent.
fn observed(series: &PerSide<Series>, m: Minute) -> Option<f64> {
    let (o, n) = (series.old.requests.get(&m), series.new.requests.get(&m));
    if o.is_none() && n.is_none() {
        return None;
    }
    let (o, n) = (o.copied().unwrap_or(0.0), n.copied().unwrap_or(0.0));
    (o + n > 0.0).then(|| n * 100.0 / (o + n))
}

fn figures(s: &Series, from: Minute, to: Minute) -> Figures {
    let (mut minutes, mut requests, mut errors) = (0, 0.0, 0.0);
    // No whole minute between two changes a minute apart: nothing to count.
    if from <= to {
        for (_, r) in s.requests.range(from..=to) {
            minutes += 1;
            requests += r;
        }
        for (m, e) in s.target_5xx.range(from..=to) {
            if s.requests.contains_key(m) {
                errors += e;
            }
        }
    }
    Figures {
        from: from.start(),
        to: to.max(from).start(),
        minutes,
        requests,
        target_5xx: errors,
        percent: (requests > 0.0).then(|| errors * 100.0 / requests),
    }
}

/// For each change after the first read: the first minute, from the
/// change's own on and before the next change's, whose observed share is
/// within `CONVERGED_POINTS` of the share set.
fn followed(route: &RouteState, history: &[(Timestamp, Weights)]) -> Vec<Followed> {
    let kind = route.kind();
    let mut out = Vec::new();
    for (i, (at, w)) in history.iter().enumerate().skip(1) {
        let Some(set) = kind.share_new(*w) else { continue };
        let from = Minute::containing(*at);
        let next_change = history.get(i + 1).map(|(t, _)| *t);
        // Up to the next change's minute (whose traffic is partly the next
        // setting's), or the last minute read.
        let last_read = Side::BOTH.iter().filter_map(|s| route.metrics.get(*s).requests.last_minute()).max();
        let end = next_change.map(|t| Minute::containing(t).offset(-1)).or(last_read);
        let mut after_minutes = None;
        let mut last_seen = None;
        if let Some(end) = end {
            let mut m = from;
            while m <= end {
                if let Some(seen) = route.observed_share(m) {
                    if converged(seen, set) {
                        after_minutes = Some(m.0 - from.0);
                        break;
                    }
                    last_seen = Some(seen);
                }
                m = m.offset(1);
            }
        }
        let points = CONVERGED_POINTS;
        let text = match (after_minutes, last_seen, next_change) {
            (Some(0), ..) => "clients followed within the minute of the change".to_string(),
            (Some(n), ..) => format!("clients followed in {n} min"),
            (None, None, _) => "no requests observed after the change".to_string(),
            (None, Some(seen), Some(next)) => format!(
                "not within {points} points before the next change at {} (last seen {seen:.1}% vs set {set}%)",
                clock(next)
            ),
            (None, Some(seen), None) => {
                format!("not within {points} points by the end of the recording (last seen {seen:.1}% vs set {set}%)")
            }
        };
        out.push(Followed {
            at: *at,
            set_percent: set,
            after_minutes,
            last_seen_percent: if after_minutes.is_none() { last_seen } else { None },
            next_change,
            text,
        });
    }
    out
}

fn refusals(marks: &[Mark], operators: &[String]) -> Vec<Refusal> {
    let operator = operators.last().cloned().unwrap_or_else(|| "unknown".into());
    marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Refused { reason, who } => {
                Some(Refusal { at: m.at, by: "console", who: who.clone(), reason: reason.clone() })
            }
            Marked::Outcome { ok: false, text, .. } => {
                Some(Refusal { at: m.at, by: "executor", who: operator.clone(), reason: text.clone() })
            }
            _ => None,
        })
        .collect()
}

/// The executor's answer to a weight change: the first outcome after it
/// for the same route.
fn weight_outcome(marks: &[Mark], i: usize, route: &str) -> Option<usize> {
    let prefix = format!("route {route}:");
    (i + 1..marks.len())
        .find(|j| matches!(&marks[*j].what, Marked::Outcome { effect, .. } if effect.starts_with(&prefix)))
}

/// Every confirmed weight change, numbered in order; the figures around
/// each are filled in per route.
fn steps(marks: &[Mark]) -> Vec<Step> {
    let mut rows = Vec::new();
    for (i, mark) in marks.iter().enumerate() {
        let Marked::Weights { route, from, to, who, proposal } = &mark.what else { continue };
        let outcome = weight_outcome(marks, i, route).and_then(|j| match &marks[j].what {
            Marked::Outcome { ok, text, .. } => Some((*ok, text.clone())),
            _ => None,
        });
        let empty =
            |at: Timestamp| Figures { from: at, to: at, minutes: 0, requests: 0.0, target_5xx: 0.0, percent: None };
        rows.push(Step {
            number: rows.len() + 1,
            at: mark.at,
            who: who.clone(),
            proposal: proposal.clone(),
            route: route.clone(),
            before: *from,
            after: *to,
            before_share_new_percent: None,
            after_share_new_percent: None,
            revert: false,
            verified: outcome.as_ref().is_some_and(|(ok, _)| *ok),
            outcome: outcome.map(|(_, text)| text),
            secs_at_previous: None,
            since_first_read: false,
            target_side: Side::New,
            before_figures: empty(mark.at),
            after_figures: empty(mark.at),
            followed: None,
        });
    }
    rows
}

fn handoffs(marks: &[Mark]) -> Vec<HandoffRow> {
    let mut rows: Vec<HandoffRow> = Vec::new();
    for mark in marks {
        fn open<'a>(rows: &'a mut [HandoffRow], singleton: &str, at: Timestamp) -> Option<&'a mut HandoffRow> {
            let row = rows.iter_mut().rev().find(|r| r.singleton == singleton && r.ended.is_none())?;
            row.ended = Some(at);
            Some(row)
        }
        match &mark.what {
            Marked::HandoffStarted { singleton, from, to, who } => rows.push(HandoffRow {
                singleton: singleton.clone(),
                from: *from,
                to: *to,
                started: mark.at,
                ended: None,
                who: who.clone(),
                result: "still running when the recording ends".into(),
                gap_secs: None,
                gap_max_secs: None,
                picked_up: None,
            }),
            // A handoff an earlier session started: its row, from its start.
            Marked::HandoffResumed { singleton, from: Some(from), to: Some(to), started, who, .. } => {
                if rows.iter().any(|r| &r.singleton == singleton && r.ended.is_none()) {
                    continue;
                }
                rows.push(HandoffRow {
                    singleton: singleton.clone(),
                    from: *from,
                    to: *to,
                    started: started.unwrap_or(mark.at),
                    ended: None,
                    who: who.clone().unwrap_or_else(|| "an earlier session".into()),
                    result: "still running when the recording ends".into(),
                    gap_secs: None,
                    gap_max_secs: None,
                    picked_up: Some(mark.at),
                })
            }
            Marked::HandoffDone { singleton, gap_secs, gap_max_secs, .. } => {
                if let Some(row) = open(&mut rows, singleton, mark.at) {
                    row.result = "done".into();
                    row.gap_secs = Some(*gap_secs);
                    row.gap_max_secs = *gap_max_secs;
                }
            }
            Marked::HandoffAborted { singleton, who } => {
                if let Some(row) = open(&mut rows, singleton, mark.at) {
                    row.result = format!("aborted by {who}");
                }
            }
            Marked::HandoffFailed { singleton, reason } => {
                if let Some(row) = open(&mut rows, singleton, mark.at) {
                    row.result = format!("failed: {reason}");
                }
            }
            _ => {}
        }
    }
    rows
}

/// How the session ended: its last `Ended` mark, said with the last thing
/// a signal's stop said (what it left).
fn ending(marks: &[Mark]) -> Option<EndRow> {
    let end = marks.iter().rev().find(|m| matches!(m.what, Marked::Ended { .. }))?;
    let Marked::Ended { ending, text } = &end.what else { return None };
    let (how, signal) = match ending {
        crate::app::Ending::Quit => ("quit", None),
        crate::app::Ending::Signal(s) => ("signal", Some(s.name())),
        crate::app::Ending::Error(_) => ("error", None),
        crate::app::Ending::Crash(_) => ("crash", None),
    };
    let said = marks.iter().rev().find_map(|m| match &m.what {
        Marked::Signal { text, .. } if signal.is_some() => Some(text.clone()),
        _ => None,
    });
    let own = match ending {
        crate::app::Ending::Error(e) | crate::app::Ending::Crash(e) => e.clone(),
        _ => text.clone(),
    };
    Some(EndRow { at: end.at, how, signal, text: said.unwrap_or(own) })
}

/// Every stretch the recording could not be written, from its marks.
fn recording_gaps(marks: &[Mark]) -> Vec<RecordingGap> {
    let mut rows: Vec<RecordingGap> = Vec::new();
    for mark in marks {
        match &mark.what {
            Marked::RecordingFailed { error, .. } => rows.push(RecordingGap {
                from: mark.at,
                to: None,
                error: error.clone(),
                written_late: 0,
                lost: 0,
                lost_from: None,
                lost_to: None,
            }),
            Marked::RecordingResumed { failed_at, written, lost, lost_from, lost_to } => {
                let open = rows.iter_mut().rev().find(|r| r.to.is_none());
                let row = match open {
                    Some(row) => row,
                    None => {
                        rows.push(RecordingGap {
                            from: *failed_at,
                            to: None,
                            error: "not recorded".into(),
                            written_late: 0,
                            lost: 0,
                            lost_from: None,
                            lost_to: None,
                        });
                        let Some(row) = rows.last_mut() else { continue };
                        row
                    }
                };
                row.to = Some(mark.at);
                row.written_late = *written;
                row.lost = *lost;
                row.lost_from = *lost_from;
                row.lost_to = *lost_to;
            }
            _ => {}
        }
    }
    rows
}

fn alarms(marks: &[Mark]) -> Vec<AlarmRow> {
    let mut rows: Vec<AlarmRow> = Vec::new();
    for mark in marks {
        match &mark.what {
            Marked::Alarm { singleton, both, text } => {
                let open = rows.iter_mut().rev().find(|r| &r.singleton == singleton && r.until.is_none());
                if let Some(open) = open {
                    open.until = Some(mark.at);
                }
                rows.push(AlarmRow {
                    singleton: singleton.clone(),
                    ran_on: if *both { "both" } else { "neither" },
                    from: mark.at,
                    until: None,
                    text: text.clone(),
                });
            }
            Marked::AlarmCleared { singleton } => {
                if let Some(open) = rows.iter_mut().rev().find(|r| &r.singleton == singleton && r.until.is_none()) {
                    open.until = Some(mark.at);
                }
            }
            _ => {}
        }
    }
    rows
}

/// Who raises a node signal.
fn signal_source(kind: NodeSignalKind) -> &'static str {
    use NodeSignalKind as K;
    match kind {
        K::SpotInterruption | K::Rebalance | K::NthScheduledMaintenance | K::NthAsgTermination => {
            "aws-node-termination-handler"
        }
        K::KarpenterDisrupted
        | K::KarpenterConsolidation
        | K::KarpenterDrift
        | K::KarpenterExpiration
        | K::KarpenterRebalance
        | K::KarpenterSpotInterruption
        | K::KarpenterInstanceStopping => "karpenter",
        K::AutoscalerScaleDown | K::AutoscalerCandidate => "cluster-autoscaler",
        K::Cordon | K::TaintUnschedulable => "node spec (cordon)",
        K::NotReady | K::MemoryPressure | K::DiskPressure | K::PidPressure | K::NetworkUnavailable => {
            "kubelet (node condition)"
        }
        K::TaintNotReady | K::TaintUnreachable | K::OutOfService => "node lifecycle controller (taint)",
        K::CloudShutdown => "cloud provider (taint)",
        K::Removed => "Kubernetes API (node deleted)",
    }
}

fn signals(marks: &[Mark]) -> Vec<Signal> {
    marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Node { side, node, signal } => Some(Signal {
                at: m.at,
                side: *side,
                node: node.clone(),
                kind: *signal,
                label: signal.label(),
                source: signal_source(*signal),
            }),
            _ => None,
        })
        .collect()
}

/// Runs of consecutive spike minutes per route and side, each with the
/// node signals of that side shortly before it.
fn peaks(marks: &[Mark], app: &App, signals: &[Signal], lost: &[LostRow], series: &[PerSide<Series>]) -> Vec<Peak> {
    let mut spikes: Vec<(String, Side, Minute, f64)> = marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Spike { route, side, minute, percent, .. } => Some((route.clone(), *side, *minute, *percent)),
            _ => None,
        })
        .collect();
    spikes.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    spikes.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
    let mut peaks: Vec<Peak> = Vec::new();
    for (route, side, minute, percent) in spikes {
        // The rate as finally read.
        let percent = app
            .routes
            .iter()
            .position(|r| r.spec.name == route)
            .and_then(|i| series.get(i))
            .and_then(|s| {
                let s = s.get(side);
                self::percent(s.requests.get(&minute).copied(), s.target_5xx.get(&minute).copied())
            })
            .unwrap_or(percent);
        match peaks.last_mut() {
            Some(p) if p.route == route && p.side == side && Minute::containing(p.to).offset(1) == minute => {
                p.to = minute.start();
                if percent > p.peak_percent {
                    p.peak_percent = percent;
                    p.peak_at = minute.start();
                }
            }
            _ => peaks.push(Peak {
                route,
                side,
                from: minute.start(),
                to: minute.start(),
                peak_percent: percent,
                peak_at: minute.start(),
                signals_before: Vec::new(),
                pods_lost: Vec::new(),
            }),
        }
    }
    for peak in &mut peaks {
        let window_start = peak.from.as_second() - SIGNALS_BEFORE_MINUTES * 60;
        let window_end = peak.to.as_second() + 60;
        peak.signals_before = signals
            .iter()
            .filter(|s| s.side == peak.side && (window_start..window_end).contains(&s.at.as_second()))
            .cloned()
            .collect();
        let workload = app.config.routes.iter().find(|r| r.name == peak.route).and_then(|r| r.workload.as_ref());
        peak.pods_lost = lost
            .iter()
            .filter(|l| l.side == peak.side && workload.is_some_and(|w| w.to_string() == l.workload))
            .filter(|l| l.from.as_second() < window_end && l.to.as_second() >= window_start)
            .cloned()
            .collect();
    }
    peaks.sort_by_key(|p| (p.from, p.side));
    peaks
}

/// The counts of the final state, merged per side, workload, node and
/// cause when they are close in time.
fn pods_lost(app: &App) -> Vec<LostRow> {
    let mut rows: Vec<LostRow> = Vec::new();
    for l in &app.pods_lost {
        let workload = l.workload.to_string();
        let at = l.minute.start();
        let open = rows.iter_mut().rev().find(|r| {
            r.side == l.side
                && r.workload == workload
                && r.node == l.node
                && r.cause == l.cause
                && at.as_second() - r.to.as_second() <= LOST_MERGE_MINUTES * 60
        });
        match open {
            Some(r) => {
                r.to = r.to.max(at);
                r.pods += l.count;
            }
            None => rows.push(LostRow {
                from: at,
                to: at,
                side: l.side,
                workload,
                node: l.node.clone(),
                cause: l.cause,
                pods: l.count,
                text: String::new(),
            }),
        }
    }
    for r in &mut rows {
        r.text = format!("{} of {} lost to {}", doc::plural(r.pods as usize, "pod"), r.workload, r.cause.label());
    }
    rows
}

/// `75/25`: old, then new.
pub(crate) fn weights(w: Weights) -> String {
    format!("{}/{}", w.old.0, w.new.0)
}

pub(crate) fn node_name(node: &str) -> String {
    short_node(node).to_string()
}

impl Report {
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    pub fn markdown(&self) -> String {
        doc::document(self).markdown()
    }

    /// One self-contained page: inline CSS and SVG, nothing fetched.
    pub fn html(&self) -> String {
        html::page(self)
    }

    /// The route named, or a message naming the routes there are.
    pub fn route(&self, name: &str) -> Result<&RouteReport, String> {
        self.routes.iter().find(|r| r.route == name).ok_or_else(|| {
            let names: Vec<&str> = self.routes.iter().map(|r| r.route.as_str()).collect();
            format!("no route `{name}` in this recording: its routes are {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_no_whole_minute_are_no_data_and_a_side_without_requests_too() {
        let mut s = Series::default();
        s.requests.insert(Minute(10), 200.0);
        s.target_5xx.insert(Minute(10), 3.0);
        // Two changes in neighbouring minutes: nothing between them.
        let none = figures(&s, Minute(11), Minute(10));
        assert_eq!((none.minutes, none.percent), (0, None));
        let one = figures(&s, Minute(9), Minute(11));
        assert_eq!((one.minutes, one.requests, one.target_5xx, one.percent), (1, 200.0, 3.0, Some(1.5)));
        // A 5xx point with no request point is no data, not an error rate.
        s.target_5xx.insert(Minute(12), 5.0);
        assert_eq!(figures(&s, Minute(12), Minute(12)).percent, None);
    }

    #[test]
    fn chart_scales_end_on_a_round_tick() {
        assert_eq!(chart::ticks_for_test(3.6), (4.0, vec![0.0, 1.0, 2.0, 3.0, 4.0]));
        assert_eq!(chart::ticks_for_test(1166.0), (1500.0, vec![0.0, 500.0, 1000.0, 1500.0]));
    }
}

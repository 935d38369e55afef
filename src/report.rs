//! `cutover report FILE`: a postmortem timeline of a recorded session.
//!
//! Built by replaying the whole stream through `update`, the same way the
//! session and a replay built their screens: the marks `update` notes are
//! the timeline, and the rebuilt state gives the weight history and the
//! 5xx figures. Markdown reads as is in a postmortem; JSON is the same
//! facts for tools.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::app::RouteState;
use crate::app::{App, Mark, MarkClass, Marked, Msg, update};
use crate::domain::{Minute, NodeSignalKind, RouteKind, Side, Weights, clock, error_rate, short_node};
use crate::record::{self, Recording};

/// How close, in percentage points, the observed share must come to the set
/// share for a DNS route's clients to count as having followed a change.
pub const CONVERGED_POINTS: f64 = 5.0;

/// How far back before a 5xx peak node signals are listed as its suspects.
pub const SIGNALS_BEFORE_MINUTES: i64 = 10;

#[derive(Debug, Serialize)]
pub struct Report {
    pub session: Session,
    /// Every mark, in the order it was recorded.
    pub timeline: Vec<Moment>,
    pub actions: Vec<ActionRow>,
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
    /// Pods of the routes' workloads lost to node disruptions, per node and
    /// signal.
    pub pods_lost: Vec<LostRow>,
    /// The highest 5xx minute of each route and side, above the guard or not.
    pub highest: Vec<Highest>,
    pub weights: Vec<RouteWeights>,
}

#[derive(Debug, Serialize)]
pub struct Session {
    pub title: String,
    pub mode: String,
    pub tool: String,
    pub format_version: u32,
    pub started: Timestamp,
    pub ended: Timestamp,
    pub duration_secs: i64,
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
}

#[derive(Debug, Serialize)]
pub struct Moment {
    pub at: Timestamp,
    pub class: &'static str,
    pub text: String,
    #[serde(flatten)]
    pub mark: Marked,
}

/// Something not done: refused by the console's guards before anything was
/// sent, or refused or failed in the executor (which re-reads before writing).
#[derive(Debug, Serialize)]
pub struct Refusal {
    pub at: Timestamp,
    /// `console` or `executor`.
    pub by: &'static str,
    /// Who was at the keys.
    pub who: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct ActionRow {
    pub at: Timestamp,
    pub who: String,
    /// The proposal confirmed, as the console showed it.
    pub proposal: String,
    pub route: String,
    /// None when the weights had not been read (a revert from a stale view).
    pub before: Option<Weights>,
    pub after: Weights,
    /// The executor's answer, when the recording has it.
    pub outcome: Option<String>,
    pub verified: bool,
}

#[derive(Debug, Serialize)]
pub struct OutsideRow {
    pub at: Timestamp,
    pub subject: String,
    pub before: String,
    pub after: String,
    pub who: Option<String>,
    pub revert: bool,
}

#[derive(Debug, Serialize)]
pub struct OverrideRow {
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
    pub from: Timestamp,
    /// When it ran on one side again; None if not before the recording ends.
    pub until: Option<Timestamp>,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct HandoffRow {
    pub singleton: String,
    pub from: Side,
    pub to: Side,
    pub started: Timestamp,
    pub who: String,
    /// How it ended: done, aborted, failed, or still running at the end.
    pub result: String,
    /// Seconds with nothing running on either side.
    pub gap_secs: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Peak {
    pub route: String,
    pub side: Side,
    pub from: Timestamp,
    /// The start of the last minute above the guard.
    pub to: Timestamp,
    pub peak_percent: f64,
    pub peak_at: Timestamp,
    /// Node signals on the same side from `SIGNALS_BEFORE_MINUTES` before
    /// the peak began until it ended, each named by its source.
    pub signals_before: Vec<String>,
    /// Pods of the route's workload lost to node signals on that side in
    /// the same window.
    pub pods_lost: Vec<String>,
}

/// Pods of a route's workload that left one node with a disruption signal.
#[derive(Debug, Serialize)]
pub struct LostRow {
    /// The start of the first and of the last minute a pod was lost in.
    pub from: Timestamp,
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

#[derive(Debug, Serialize)]
pub struct Highest {
    pub route: String,
    pub side: Side,
    pub percent: f64,
    pub at: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct RouteWeights {
    pub route: String,
    pub kind: RouteKind,
    /// A DNS route's TTL as last read (the longer of its two records'; an
    /// alias answers with its target's), in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<i64>,
    /// Each distinct pair of weights the console saw, from when it saw it.
    pub history: Vec<(Timestamp, Weights)>,
    /// A DNS route's clients following each change of the history after
    /// the first read, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followed: Vec<Followed>,
}

/// How long a DNS route's observed share (new's requests of both load
/// balancers', per minute) took to come within `CONVERGED_POINTS` of the
/// share a change set.
#[derive(Debug, Serialize)]
pub struct Followed {
    /// When the change was seen.
    pub at: Timestamp,
    pub set_percent: f64,
    /// Minutes from the change's minute to the first minute within
    /// `CONVERGED_POINTS` (0: the change's own minute); None if none was.
    pub after_minutes: Option<i64>,
    /// The last observed share looked at, when none came within.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_percent: Option<f64>,
    /// The next change, which ended the looking, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// Replays a recording read whole and gathers the report.
pub fn build(rec: &Recording) -> Report {
    let mut builder = Builder::new(&rec.header);
    for entry in &rec.entries {
        builder.feed(entry.m.clone());
    }
    builder.finish(&rec.header, rec.entries.len(), rec.keyframes, rec.stopped.clone())
}

/// Streams a recording from its file into the report, holding no more than
/// the console's state: how `cutover report` reads a long recording.
pub fn from_file(path: &std::path::Path) -> Result<Report, String> {
    let mut stream = record::Stream::open(path)?;
    let mut builder = Builder::new(&stream.header);
    let mut messages = 0;
    for (_, item) in stream.by_ref() {
        if let record::Item::Msg(msg) = item {
            messages += 1;
            builder.feed(msg);
        }
    }
    Ok(builder.finish(&stream.header, messages, stream.keyframes, stream.stopped.clone()))
}

/// The report's state while the stream is applied.
struct Builder {
    app: App,
    operators: Vec<String>,
    marks: Vec<Mark>,
    weights: Vec<RouteWeights>,
}

impl Builder {
    fn new(header: &record::Header) -> Builder {
        let app = header.initial_app();
        let weights = app
            .routes
            .iter()
            .map(|r| RouteWeights {
                route: r.spec.name.clone(),
                kind: r.kind(),
                ttl_secs: None,
                history: Vec::new(),
                followed: Vec::new(),
            })
            .collect();
        Builder { app, operators: header.operator.iter().cloned().collect(), marks: Vec::new(), weights }
    }

    fn feed(&mut self, msg: Msg) {
        if let Msg::Operator { who } = &msg
            && !self.operators.contains(who)
        {
            self.operators.push(who.clone());
        }
        let app = &mut self.app;
        let mut out = update(app, msg);
        self.marks.append(&mut out.marks);
        for (route, history) in app.routes.iter().zip(self.weights.iter_mut()) {
            if let Some(read) = &route.read
                && let Some(w) = read.weights
                && history.history.last().is_none_or(|(_, last)| *last != w)
            {
                history.history.push((app.now, w));
            }
        }
    }

    fn finish(self, header: &record::Header, messages: usize, keyframes: usize, stopped: Option<String>) -> Report {
        let Builder { app, operators, mut marks, mut weights } = self;
        for (route, w) in app.routes.iter().zip(weights.iter_mut()) {
            if route.kind() == RouteKind::Route53 {
                w.ttl_secs = route.ttl();
                w.followed = followed(route, &w.history);
            }
        }
        let ended = app.now.max(header.started);
        // In time order: a spike is noted when its minute is read, after it.
        marks.sort_by_key(|m| m.at);
        let timeline: Vec<Moment> = marks
            .iter()
            .map(|m| Moment { at: m.at, class: class_name(m.class()), text: m.describe(), mark: m.what.clone() })
            .collect();
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
        let actions = actions(&marks);
        let handoffs = handoffs(&marks);
        let alarms = alarms(&marks);
        let outside = marks
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
        let pods_lost = pods_lost(&app);
        let peaks = peaks(&marks, &app, &pods_lost);
        let highest = highest(&app);
        let config = &header.config;
        let cluster = |side: Side| {
            let c = config.clusters.get(side);
            let version = &app.config.clusters.get(side).version;
            if version.is_empty() { c.name.clone() } else { format!("{} ({version})", c.name) }
        };
        Report {
            session: Session {
                title: config.title.clone(),
                mode: config.mode.label().into(),
                tool: header.tool.clone(),
                format_version: header.version,
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
            },
            timeline,
            actions,
            refusals,
            overrides,
            handoffs,
            alarms,
            outside,
            peaks,
            pods_lost,
            highest,
            weights,
        }
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
                    if (seen - set).abs() <= CONVERGED_POINTS {
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

fn actions(marks: &[Mark]) -> Vec<ActionRow> {
    let mut rows = Vec::new();
    for (i, mark) in marks.iter().enumerate() {
        let Marked::Weights { route, from, to, who, proposal } = &mark.what else { continue };
        let prefix = format!("route {route}:");
        let outcome = marks[i + 1..].iter().find_map(|m| match &m.what {
            Marked::Outcome { ok, effect, text } if effect.starts_with(&prefix) => Some((*ok, text.clone())),
            _ => None,
        });
        rows.push(ActionRow {
            at: mark.at,
            who: who.clone(),
            proposal: proposal.clone(),
            route: route.clone(),
            before: *from,
            after: *to,
            verified: outcome.as_ref().is_some_and(|(ok, _)| *ok),
            outcome: outcome.map(|(_, text)| text),
        });
    }
    rows
}

fn handoffs(marks: &[Mark]) -> Vec<HandoffRow> {
    let mut rows: Vec<HandoffRow> = Vec::new();
    for mark in marks {
        match &mark.what {
            Marked::HandoffStarted { singleton, from, to, who } => rows.push(HandoffRow {
                singleton: singleton.clone(),
                from: *from,
                to: *to,
                started: mark.at,
                who: who.clone(),
                result: "still running when the recording ends".into(),
                gap_secs: None,
            }),
            Marked::HandoffDone { singleton, gap_secs, .. } => {
                if let Some(row) = rows.iter_mut().rev().find(|r| &r.singleton == singleton) {
                    row.result = "done".into();
                    row.gap_secs = Some(*gap_secs);
                }
            }
            Marked::HandoffAborted { singleton, who } => {
                if let Some(row) = rows.iter_mut().rev().find(|r| &r.singleton == singleton) {
                    row.result = format!("aborted by {who}");
                }
            }
            Marked::HandoffFailed { singleton, reason } => {
                if let Some(row) = rows.iter_mut().rev().find(|r| &r.singleton == singleton) {
                    row.result = format!("failed: {reason}");
                }
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

/// Runs of consecutive spike minutes per route and side, each with the
/// node signals of that side shortly before it.
fn peaks(marks: &[Mark], app: &App, lost: &[LostRow]) -> Vec<Peak> {
    let mut spikes: Vec<(String, Side, Minute, f64)> = marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Spike { route, side, minute, percent, .. } => Some((route.clone(), *side, *minute, *percent)),
            _ => None,
        })
        .collect();
    spikes.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    spikes.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
    let signals: Vec<(Timestamp, Side, String, NodeSignalKind)> = marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Node { side, node, signal } => Some((m.at, *side, node.clone(), *signal)),
            _ => None,
        })
        .collect();
    let mut peaks: Vec<Peak> = Vec::new();
    for (route, side, minute, percent) in spikes {
        // The rate as finally read, when the console still holds that minute.
        let percent = final_rate(app, &route, side, minute).map_or(percent, |r| r * 100.0);
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
            .filter(|(at, side, _, _)| *side == peak.side && (window_start..window_end).contains(&at.as_second()))
            .map(|(at, _, node, kind)| format!("{} {node}: {}", clock(*at), kind.label()))
            .collect();
        let workload = app.config.routes.iter().find(|r| r.name == peak.route).and_then(|r| r.workload.as_ref());
        peak.pods_lost = lost
            .iter()
            .filter(|l| l.side == peak.side && workload.is_some_and(|w| w.to_string() == l.workload))
            .filter(|l| l.from.as_second() < window_end && l.to.as_second() >= window_start)
            .map(|l| format!("{} from {}", l.text, short_node(&l.node)))
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
        r.text = format!("{} of {} lost to {}", plural(r.pods as usize, "pod"), r.workload, r.cause.label());
    }
    rows
}

fn final_rate(app: &App, route: &str, side: Side, minute: Minute) -> Option<f64> {
    let r = app.routes.iter().find(|r| r.spec.name == route)?;
    let m = r.metrics.get(side);
    error_rate(m.requests.get(minute), m.target_5xx.get(minute))
}

fn highest(app: &App) -> Vec<Highest> {
    let mut out = Vec::new();
    for route in &app.routes {
        for side in Side::BOTH {
            let m = route.metrics.get(side);
            let best = m
                .requests
                .minutes()
                .filter_map(|minute| error_rate(m.requests.get(minute), m.target_5xx.get(minute)).map(|r| (minute, r)))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((minute, rate)) = best {
                out.push(Highest { route: route.spec.name.clone(), side, percent: rate * 100.0, at: minute.start() });
            }
        }
    }
    out
}

fn day_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn duration(secs: i64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// A table cell: pipes would end the cell early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `api (ALB rule)`, `www (Route 53 records, TTL 60s)`.
fn route_label(r: &RouteWeights) -> String {
    match (r.kind, r.ttl_secs) {
        (RouteKind::Alb, _) => format!("{} (ALB rule)", r.route),
        (RouteKind::Route53, Some(ttl)) => format!("{} (Route 53 records, TTL {ttl}s)", r.route),
        (RouteKind::Route53, None) => format!("{} (Route 53 records, never read)", r.route),
    }
}

fn weights(w: Weights) -> String {
    format!("{} / {}", w.old.0, w.new.0)
}

impl Report {
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    pub fn markdown(&self) -> String {
        let s = &self.session;
        let mut out = String::new();
        let _ = writeln!(out, "# Cutover session report: {}\n", s.title);
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| Mode | {} |", s.mode);
        let _ = writeln!(out, "| Started | {} |", day_time(s.started));
        let _ = writeln!(out, "| Ended | {} ({}) |", day_time(s.ended), duration(s.duration_secs));
        let operators = if s.operators.is_empty() { "unknown".to_string() } else { s.operators.join(", ") };
        let _ = writeln!(out, "| Operators | {} |", cell(&operators));
        let _ = writeln!(out, "| Clusters | old: {} → new: {} |", cell(&s.old_cluster), cell(&s.new_cluster));
        let routes: Vec<String> = self.weights.iter().map(route_label).collect();
        let _ = writeln!(out, "| Routes | {} |", cell(&routes.join(", ")));
        if !s.singletons.is_empty() {
            let _ = writeln!(out, "| Singletons | {} |", s.singletons.join(", "));
        }
        let _ = writeln!(out, "| 5xx spike guard | {}% of a side's requests in a minute |", s.spike_percent);
        let _ = writeln!(
            out,
            "| Recording | cutover {}, format {}; {}, {}; {} |",
            s.tool,
            s.format_version,
            plural(s.messages, "message"),
            plural(s.keyframes, "keyframe"),
            match &s.stopped {
                Some(why) => format!("**stops early**: {}", cell(why)),
                None => "complete".into(),
            }
        );

        let _ = writeln!(out, "\n## Timeline\n");
        if self.timeline.is_empty() {
            let _ = writeln!(out, "Nothing was marked: no action, refusal, node drain or 5xx spike.");
        } else {
            let _ = writeln!(out, "Times are UTC; a spike's time is the start of its minute.\n");
            let _ = writeln!(out, "| Time | Kind | What |\n|---|---|---|");
            for m in &self.timeline {
                // A demo starts with simulated history, and a live console
                // with CloudWatch's recent minutes: say so.
                let before = if m.at < s.started { " (before the session started)" } else { "" };
                let _ = writeln!(out, "| {} | {} | {}{before} |", clock(m.at), m.class, cell(&m.text));
            }
        }

        let _ = writeln!(out, "\n## Actions\n");
        if self.actions.is_empty() {
            let _ = writeln!(out, "No weight change was confirmed.");
        } else {
            let _ =
                writeln!(out, "| Time | Who | Proposal | Route | Before (old / new) | After (old / new) | Outcome |");
            let _ = writeln!(out, "|---|---|---|---|---|---|---|");
            for a in &self.actions {
                let outcome = a.outcome.clone().unwrap_or_else(|| "no answer recorded".into());
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    clock(a.at),
                    cell(&a.who),
                    cell(&a.proposal),
                    a.route,
                    a.before.map_or("not read".into(), weights),
                    weights(a.after),
                    cell(&outcome)
                );
            }
        }

        let _ = writeln!(out, "\n## Refusals\n");
        if self.refusals.is_empty() {
            let _ = writeln!(out, "Nothing was refused.");
        } else {
            let _ = writeln!(out, "| Time | Who | Refused by | Reason |\n|---|---|---|---|");
            for r in &self.refusals {
                let _ = writeln!(out, "| {} | {} | {} | {} |", clock(r.at), cell(&r.who), r.by, cell(&r.reason));
            }
        }

        let _ = writeln!(out, "\n## Overrides\n");
        if self.overrides.is_empty() {
            let _ = writeln!(out, "No proposal was confirmed against an owner that would undo it.");
        } else {
            let _ = writeln!(
                out,
                "Confirmed with the typed override, against the warning that another writer would undo it.\n"
            );
            let _ = writeln!(out, "| Time | Who | Owner that would undo it | Proposal |\n|---|---|---|---|");
            for o in &self.overrides {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    clock(o.at),
                    cell(&o.who),
                    cell(&o.owner),
                    cell(&o.proposal)
                );
            }
        }

        let _ = writeln!(out, "\n## Singleton handoffs\n");
        if self.handoffs.is_empty() {
            let _ = writeln!(out, "No handoff.");
        } else {
            let _ = writeln!(out, "| Singleton | From → to | Started | By | Result | Gap (nothing running) |");
            let _ = writeln!(out, "|---|---|---|---|---|---|");
            for h in &self.handoffs {
                let gap = h.gap_secs.map_or("-".into(), |g| format!("{g}s"));
                let _ = writeln!(
                    out,
                    "| {} | {} → {} | {} | {} | {} | {gap} |",
                    h.singleton,
                    h.from,
                    h.to,
                    clock(h.started),
                    cell(&h.who),
                    cell(&h.result)
                );
            }
        }

        let _ = writeln!(out, "\n## Changes not made by cutover\n");
        if self.outside.is_empty() {
            let _ = writeln!(out, "Nobody else changed the weights, replicas or suspension of the plan's objects.");
        } else {
            let _ = writeln!(
                out,
                "| Time | What | Before | After | By | Reverted this session's write |\n|---|---|---|---|---|---|"
            );
            for o in &self.outside {
                let who = o.who.clone().unwrap_or_else(|| "not told".into());
                let revert = if o.revert { "**yes**" } else { "no" };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {revert} |",
                    clock(o.at),
                    cell(&o.subject),
                    cell(&o.before),
                    cell(&o.after),
                    cell(&who)
                );
            }
        }

        let _ = writeln!(out, "\n## Singleton alarms\n");
        if self.alarms.is_empty() {
            let _ = writeln!(out, "No singleton ran on neither side or on both.");
        } else {
            let _ = writeln!(out, "| Singleton | Ran | From | Until | What the console said |\n|---|---|---|---|---|");
            for a in &self.alarms {
                let ran = if a.ran_on == "both" { "on BOTH sides" } else { "on NEITHER side" };
                let until = a.until.map_or("the end of the recording".into(), clock);
                let _ = writeln!(out, "| {} | {ran} | {} | {until} | {} |", a.singleton, clock(a.from), cell(&a.text));
            }
        }

        let _ = writeln!(out, "\n## 5xx peaks\n");
        if self.peaks.is_empty() {
            let _ = writeln!(out, "No minute went above the {}% guard on either side.", s.spike_percent);
        } else {
            let _ = writeln!(
                out,
                "Minutes above the {}% guard, with the node signals on the same side from {} minutes before.\n",
                s.spike_percent, SIGNALS_BEFORE_MINUTES
            );
            let _ = writeln!(
                out,
                "| Side | Route | From | To | Peak | Node signals before | Pods lost to them |\n|---|---|---|---|---|---|---|"
            );
            for p in &self.peaks {
                let signals =
                    if p.signals_before.is_empty() { "none".to_string() } else { p.signals_before.join("; ") };
                let lost = if p.pods_lost.is_empty() { "none".to_string() } else { p.pods_lost.join("; ") };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {:.1}% at {} | {} | {} |",
                    p.side,
                    p.route,
                    clock(p.from),
                    clock(p.to),
                    p.peak_percent,
                    clock(p.peak_at),
                    cell(&signals),
                    cell(&lost)
                );
            }
        }
        if !self.highest.is_empty() {
            let _ = writeln!(out, "\nHighest minute per route and side:\n");
            let _ = writeln!(out, "| Route | Side | 5xx | At |\n|---|---|---|---|");
            for h in &self.highest {
                let _ = writeln!(out, "| {} | {} | {:.2}% | {} |", h.route, h.side, h.percent, clock(h.at));
            }
        }

        let _ = writeln!(out, "\n## Pods lost to node disruptions\n");
        if self.pods_lost.is_empty() {
            let _ = writeln!(out, "No pod of a route's workload left a node with a disruption signal.");
        } else {
            let _ = writeln!(
                out,
                "Pods of the routes' workloads deleted, terminating or evicted from a node with a disruption \
                 signal, put down to the node's strongest signal.\n"
            );
            let _ = writeln!(out, "| From | To | Side | What | Node |\n|---|---|---|---|---|");
            for l in &self.pods_lost {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    clock(l.from),
                    clock(l.to),
                    l.side,
                    cell(&l.text),
                    cell(&l.node)
                );
            }
        }

        let _ = writeln!(out, "\n## Weights per route\n");
        for r in &self.weights {
            let _ = writeln!(out, "### {}\n", r.route);
            if r.history.is_empty() {
                let _ = writeln!(out, "Never read.\n");
                continue;
            }
            if r.kind == RouteKind::Route53 {
                let _ = writeln!(
                    out,
                    "Clients follow a change as their DNS caches expire: how long the observed share (new's \
                     requests per minute) took to come within {CONVERGED_POINTS} points of the share set.\n"
                );
                let _ = writeln!(out, "| From | Old | New | Clients |\n|---|---|---|---|");
                for (at, w) in &r.history {
                    let clients = r.followed.iter().find(|f| f.at == *at).map_or("first read", |f| f.text.as_str());
                    let _ = writeln!(out, "| {} | {} | {} | {} |", clock(*at), w.old.0, w.new.0, cell(clients));
                }
            } else {
                let _ = writeln!(out, "| From | Old | New |\n|---|---|---|");
                for (at, w) in &r.history {
                    let _ = writeln!(out, "| {} | {} | {} |", clock(*at), w.old.0, w.new.0);
                }
            }
            let _ = writeln!(out);
        }
        out
    }
}

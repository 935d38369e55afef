//! Reading a recording into the report: every message applied through
//! `update`, as the session and a replay applied it, with the marks it
//! notes, each route's weights as read, and the minutes' figures kept as
//! they pass.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::series::Series;
use super::time::{self, Span};
use super::{Report, Window};
use crate::app::{App, Judged, LbMetric, Mark, MetricPoint, Msg, RouteMetric, SeriesId, Verdict, update};
use crate::domain::{Minute, PerSide, Side, TargetState, Weights};
use crate::record::{self, Recording};

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

/// The report's state while the stream is applied.
pub(super) struct Builder {
    pub(super) app: App,
    /// Everyone at the keys, in the order they came.
    pub(super) operators: Vec<String>,
    /// What `update` noted, in the order it noted it.
    pub(super) marks: Vec<Mark>,
    /// Per route, each distinct pair of weights read, from when it was read.
    pub(super) history: Vec<Vec<(Timestamp, Weights)>>,
    /// Per route and side, the minutes' figures.
    pub(super) series: Vec<PerSide<Series>>,
    /// Per load balancer, its own 5xx per minute.
    pub(super) lb_5xx: BTreeMap<String, BTreeMap<Minute, f64>>,
    /// Per judged route, each change of its step's verdict as `update`
    /// left it, in order: the marks say only the changes of kind, and
    /// not which weights they were of.
    pub(super) verdicts: Vec<Vec<VerdictAt>>,
    /// Per judged route, each minute judged: the console keeps only its
    /// last hours of them.
    pub(super) judged: Vec<BTreeMap<Minute, Judged>>,
    /// The time of each route's last read taken into `health`.
    read_at: Vec<Option<Timestamp>>,
}

/// A route's step verdict as it stood after a message.
#[derive(Debug, Clone)]
pub(super) struct VerdictAt {
    /// The console's clock when it was so.
    pub(super) at: Timestamp,
    /// The weights judged, and since when the route had them.
    pub(super) weights: Weights,
    pub(super) since: Timestamp,
    pub(super) verdict: Verdict,
    /// When the verdict first became what it is (its kind).
    pub(super) verdict_at: Timestamp,
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
            verdicts: vec![Vec::new(); routes],
            judged: vec![BTreeMap::new(); routes],
            read_at: vec![None; routes],
        }
    }

    fn feed(&mut self, msg: Msg) {
        match &msg {
            Msg::Operator { who } if !self.operators.contains(who) => self.operators.push(who.clone()),
            Msg::Metrics(points) => self.note_points(points),
            _ => {}
        }
        let mut out = update(&mut self.app, msg);
        self.marks.append(&mut out.marks);
        self.note_analysis();
        let app = &self.app;
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

    /// Each judged route's step verdict when it changed, and the minutes
    /// judged since the last message.
    fn note_analysis(&mut self) {
        let now = self.app.now;
        for (i, route) in self.app.routes.iter().enumerate() {
            if route.spec.analysis.is_none() {
                continue;
            }
            if let Some(a) = &route.analysis
                && self.verdicts[i]
                    .last()
                    .is_none_or(|v| (v.since, v.weights, &v.verdict) != (a.since, a.weights, &a.verdict))
            {
                self.verdicts[i].push(VerdictAt {
                    at: now,
                    weights: a.weights,
                    since: a.since,
                    verdict: a.verdict.clone(),
                    verdict_at: a.verdict_at,
                });
            }
            let seen = self.judged[i].last_key_value().map(|(m, _)| *m);
            for (m, judged) in route.judged.iter().rev().take_while(|(m, _)| seen.is_none_or(|s| *m > s)) {
                self.judged[i].insert(*m, *judged);
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

    /// The report of the part `window` of the session applied.
    fn finish(
        self,
        header: &record::Header,
        messages: usize,
        keyframes: usize,
        stopped: Option<String>,
        window: Window,
    ) -> Report {
        super::analysis::report(self, header, messages, keyframes, stopped, window)
    }

    /// After lines the recording lost, the keyframe that follows them is
    /// the state again; what the report gathers itself (the minutes'
    /// figures) takes from it the minutes it missed, the history the
    /// console held included.
    fn resync(&mut self, frame: Box<record::Stored>) {
        let keymap = std::mem::take(&mut self.app.keymap);
        self.app = frame.restore(keymap);
        self.note_analysis();
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

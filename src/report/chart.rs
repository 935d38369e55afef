//! A route's chart: the weights set as a step line and the share of
//! requests new really got, each side's requests, 5xx share and healthy
//! targets, in stacked panels on one time axis; steps, handoffs and node
//! signals as vertical lines across them, each labelled on hover. A
//! judged route has a band of its minutes' verdicts above the time axis,
//! as the console's drill-down has, and the console's own steps (an
//! automatic revert, the autopilot's) in a colour of their own.
//!
//! Drawn with the `svg` crate: it builds an element tree and writes it
//! with text and attributes escaped, and a `<title>` child gives any line
//! its hover label, which is what a postmortem chart needs. A plotting
//! crate (plotters) brings fonts and raster backends the report has no use
//! for, and its SVG backend has no hover labels.

use jiff::Timestamp;
use svg::Document;
use svg::node::element::path::Data;
use svg::node::element::{Circle, Group, Line, Path, Rectangle, Text, Title};

use super::doc::{count, node_name, route_label, share, weights};
use super::{Report, RouteReport};
use crate::domain::{Minute, Side, clock, clock_minute};

pub const WIDTH: f64 = 1000.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 24.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;

pub const OLD: &str = "#2f6db5";
pub const NEW: &str = "#e07b00";
const SET: &str = "#1d1d1d";
const LB: &str = "#8e44ad";
const GUARD: &str = "#c0392b";
const GRID: &str = "#e3e3e3";
/// The console's own steps, and what it said it would have done.
const AUTO: &str = "#c2185b";
/// The verdict band: pass, fail, inconclusive.
const PASS: &str = "#2e9d4b";
const FAIL: &str = "#d62f2f";
const UNSURE: &str = "#e6b800";
const AXIS: &str = "#888";
const INK: &str = "#333";

fn side_colour(side: Side) -> &'static str {
    match side {
        Side::Old => OLD,
        Side::New => NEW,
    }
}

/// Where times fall on the page.
struct Axis {
    from: i64,
    to: i64,
}

impl Axis {
    fn x(&self, at: Timestamp) -> f64 {
        let span = (self.to - self.from).max(1) as f64;
        LEFT + (at.as_millisecond() - self.from).clamp(0, self.to - self.from) as f64 / span * PLOT_W
    }

    /// A minute's datapoint is drawn at its middle.
    fn minute_x(&self, at: Timestamp) -> f64 {
        self.x(crate::domain::plus_secs(at, 30))
    }

    fn contains(&self, at: Timestamp) -> bool {
        (self.from..=self.to).contains(&at.as_millisecond())
    }
}

/// A panel: a band of the page with its own value scale.
struct Panel {
    top: f64,
    height: f64,
    max: f64,
}

impl Panel {
    fn y(&self, v: f64) -> f64 {
        self.top + self.height - (v / self.max).clamp(0.0, 1.0) * self.height
    }
    fn bottom(&self) -> f64 {
        self.top + self.height
    }
}

/// A scale's ticks: a round step (1, 2 or 5 times a power of ten) giving
/// at most four intervals up to `top`, and the top tick, which the values
/// stay under.
fn ticks(top: f64) -> (f64, Vec<f64>) {
    let top = if top > 0.0 { top } else { 1.0 };
    let rough = top / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|c| *c >= rough * 0.999).unwrap_or(10.0 * power);
    let n = (top / step - 1e-9).ceil().max(1.0) as i32;
    (step * f64::from(n), (0..=n).map(|i| step * f64::from(i)).collect())
}

/// A tick's label with only the decimals its step needs.
fn tick_label(v: f64, step: f64, unit: &str) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10()).ceil() as usize };
    if decimals == 0 && unit.is_empty() { count(v) } else { format!("{v:.decimals$}{unit}") }
}

fn text(x: f64, y: f64, s: impl Into<String>) -> Text {
    Text::new(s.into()).set("x", x).set("y", y)
}

/// A polyline with gaps where a minute has no value: no data is not zero.
fn series(points: &[(f64, Option<f64>)], panel: &Panel, colour: &str, width: f64, dash: Option<&str>) -> Path {
    let mut data = Data::new();
    let mut open = false;
    for (x, v) in points {
        match v {
            Some(v) if open => data = data.line_to((*x, panel.y(*v))),
            Some(v) => {
                data = data.move_to((*x, panel.y(*v)));
                open = true;
            }
            None => open = false,
        }
    }
    let mut path = Path::new()
        .set("d", data)
        .set("fill", "none")
        .set("stroke", colour)
        .set("stroke-width", width)
        .set("stroke-linejoin", "round");
    if let Some(dash) = dash {
        path = path.set("stroke-dasharray", dash);
    }
    path
}

/// Dots for minutes that stand alone, which a line would not show.
fn lone_dots(points: &[(f64, Option<f64>)], panel: &Panel, colour: &str) -> Group {
    let mut g = Group::new();
    for (i, (x, v)) in points.iter().enumerate() {
        let Some(v) = v else { continue };
        let before = i > 0 && points[i - 1].1.is_some();
        let after = points.get(i + 1).is_some_and(|p| p.1.is_some());
        if !before && !after {
            g = g.add(Circle::new().set("cx", *x).set("cy", panel.y(*v)).set("r", 2.2).set("fill", colour));
        }
    }
    g
}

fn panel_frame(panel: &Panel, title: &str, ticks: &[(f64, String)]) -> Group {
    let mut g = Group::new().set("class", "panel");
    g = g.add(
        Rectangle::new()
            .set("x", LEFT)
            .set("y", panel.top)
            .set("width", PLOT_W)
            .set("height", panel.height)
            .set("fill", "#fff")
            .set("stroke", AXIS)
            .set("stroke-width", 0.8),
    );
    for (v, label) in ticks {
        let y = panel.y(*v);
        if *v > 0.0 && *v < panel.max {
            g = g.add(
                Line::new()
                    .set("x1", LEFT)
                    .set("x2", LEFT + PLOT_W)
                    .set("y1", y)
                    .set("y2", y)
                    .set("stroke", GRID)
                    .set("stroke-width", 1),
            );
        }
        g = g.add(text(LEFT - 6.0, y + 4.0, label.clone()).set("text-anchor", "end").set("class", "tick"));
    }
    g.add(text(LEFT, panel.top - 9.0, title).set("class", "panel-title"))
}

/// A legend entry: a short line in the colour, then the words.
fn legend(items: &[(&str, &str, Option<&str>)], right: f64, y: f64) -> Group {
    let mut g = Group::new().set("class", "legend");
    // Laid out from the right edge leftwards, roughly 6.6 px a character.
    let mut x = right;
    for (label, colour, dash) in items.iter().rev() {
        let w = label.chars().count() as f64 * 6.6;
        x -= w;
        g = g.add(text(x, y + 4.0, *label));
        let mut line = Line::new()
            .set("x1", x - 26.0)
            .set("x2", x - 6.0)
            .set("y1", y)
            .set("y2", y)
            .set("stroke", *colour)
            .set("stroke-width", 2.5);
        if let Some(dash) = dash {
            line = line.set("stroke-dasharray", *dash);
        }
        g = g.add(line);
        x -= 40.0;
    }
    g
}

/// Minutes between time labels: about ten across the chart.
fn tick_minutes(span_minutes: i64) -> i64 {
    [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].into_iter().find(|m| span_minutes / m <= 12).unwrap_or(1440)
}

/// The chart of one route as an SVG document of its own.
pub fn route_svg(report: &Report, route: &RouteReport) -> String {
    chart(report, route).to_string()
}

pub fn chart(report: &Report, route: &RouteReport) -> Document {
    let from = report.chart_from;
    let to = report.window.to;
    let axis = Axis { from: from.as_millisecond(), to: to.as_millisecond() };
    let minutes: Vec<&super::MinuteRow> = route.minutes.iter().filter(|m| axis.contains(m.at)).collect();

    // Each panel's title and legend sit in a band above its frame.
    let mut y = 92.0;
    let mut next = |height: f64, max: f64| {
        let p = Panel { top: y, height, max };
        y += height + 40.0;
        p
    };
    let share_panel = next(170.0, 100.0);
    let (req_max, req_ticks) =
        ticks(minutes.iter().flat_map(|m| [m.old.requests, m.new.requests]).flatten().fold(0.0, f64::max) * 1.1);
    let req_panel = next(110.0, req_max);
    let guard = report.session.spike_percent;
    let lb_rate = |m: &super::MinuteRow| m.lb_5xx_percent;
    let err_top = minutes
        .iter()
        .flat_map(|m| [m.old.target_5xx_percent, m.new.target_5xx_percent, lb_rate(m)])
        .flatten()
        .fold(guard * 1.5, f64::max);
    let (err_max, err_ticks) = ticks(err_top * 1.1);
    let err_panel = next(130.0, err_max);
    let targets_max = minutes.iter().flat_map(|m| [m.old.targets, m.new.targets]).flatten().max().unwrap_or(1).max(1);
    let health_panel = next(70.0, f64::from(targets_max) * 1.2);
    // Only a judged route has the band: a chart of any other is as it was.
    let band_panel = route.analysis.as_ref().map(|_| next(14.0, 1.0));
    let axis_y = band_panel.as_ref().unwrap_or(&health_panel).bottom();
    let height = axis_y + if band_panel.is_some() { 84.0 } else { 64.0 };

    let mut doc = Document::new()
        .set("viewBox", (0, 0, WIDTH, height))
        .set("width", WIDTH)
        .set("height", height)
        .set("font-family", "DejaVu Sans, Helvetica, Arial, sans-serif")
        .set("font-size", 12)
        .set("role", "img")
        .set("class", "route-chart");
    doc = doc.add(Title::new(format!("{}: weights, requests, 5xx and healthy targets", route_label(route))));
    doc = doc.add(Rectangle::new().set("width", WIDTH).set("height", height).set("fill", "#fafafa"));
    doc =
        doc.add(text(LEFT, 22.0, route_label(route)).set("font-size", 16).set("font-weight", "bold").set("fill", INK));
    doc = doc.add(
        text(LEFT, 40.0, format!("{} to {} UTC, per minute", clock_minute(from), clock_minute(to))).set("fill", "#666"),
    );

    // Panel 1: the share of traffic to new, set and observed.
    let pct_ticks: Vec<(f64, String)> = [0.0, 25.0, 50.0, 75.0, 100.0].iter().map(|v| (*v, format!("{v}%"))).collect();
    doc = doc.add(panel_frame(&share_panel, "Share of traffic on new", &pct_ticks));
    let mut set = Data::new();
    let mut started = false;
    let mut last_y = None;
    for (i, w) in route.history.iter().enumerate() {
        let Some(p) = w.share_new_percent else { continue };
        // The first pair from when it was first read, which may be before
        // the window.
        let at = if i == 0 { route.first_read.unwrap_or(w.at).min(w.at) } else { w.at };
        let x = axis.x(at.max(from));
        let y = share_panel.y(p);
        if started {
            set = set.line_to((x, last_y.unwrap_or(y))).line_to((x, y));
        } else {
            set = set.move_to((x, y));
            started = true;
        }
        last_y = Some(y);
    }
    if let Some(y) = last_y {
        set = set.line_to((LEFT + PLOT_W, y));
        doc = doc.add(
            Path::new().set("d", set).set("fill", "none").set("stroke", SET).set("stroke-width", 2.5).add(Title::new(
                route
                    .history
                    .iter()
                    .map(|w| format!("{} from {}", weights(w.weights), clock(w.at)))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
        );
    }
    let observed: Vec<(f64, Option<f64>)> =
        minutes.iter().map(|m| (axis.minute_x(m.at), m.observed_share_new_percent)).collect();
    doc = doc.add(series(&observed, &share_panel, NEW, 1.8, Some("5 3")));
    doc = doc.add(lone_dots(&observed, &share_panel, NEW));
    doc = doc.add(legend(
        &[("weights set", SET, None), ("requests that reached new", NEW, Some("5 3"))],
        LEFT + PLOT_W,
        share_panel.top - 13.0,
    ));

    // Panel 2: requests per minute per side.
    let step = req_ticks.get(1).copied().unwrap_or(1.0);
    let req_ticks: Vec<(f64, String)> = req_ticks.iter().map(|v| (*v, tick_label(*v, step, ""))).collect();
    doc = doc.add(panel_frame(&req_panel, "Requests per minute", &req_ticks));
    for side in Side::BOTH {
        let points: Vec<(f64, Option<f64>)> =
            minutes.iter().map(|m| (axis.minute_x(m.at), m.side(side).requests)).collect();
        doc = doc.add(series(&points, &req_panel, side_colour(side), 2.0, None));
        doc = doc.add(lone_dots(&points, &req_panel, side_colour(side)));
    }
    doc = doc.add(legend(&[("old", OLD, None), ("new", NEW, None)], LEFT + PLOT_W, req_panel.top - 13.0));

    // Panel 3: 5xx as a share of requests.
    let step = err_ticks.get(1).copied().unwrap_or(1.0);
    let err_ticks: Vec<(f64, String)> = err_ticks.iter().map(|v| (*v, tick_label(*v, step, "%"))).collect();
    doc = doc.add(panel_frame(&err_panel, "5xx share of requests", &err_ticks));
    let gy = err_panel.y(guard);
    doc = doc.add(
        Group::new()
            .add(
                Line::new()
                    .set("x1", LEFT)
                    .set("x2", LEFT + PLOT_W)
                    .set("y1", gy)
                    .set("y2", gy)
                    .set("stroke", GUARD)
                    .set("stroke-width", 1.2)
                    .set("stroke-dasharray", "6 4"),
            )
            .add(
                text(LEFT + PLOT_W - 6.0, gy - 4.0, format!("spike guard {guard}%"))
                    .set("text-anchor", "end")
                    .set("fill", GUARD),
            )
            .add(Title::new(format!("the plan's spike guard: {guard}% of a side's requests in a minute"))),
    );
    for side in Side::BOTH {
        let points: Vec<(f64, Option<f64>)> =
            minutes.iter().map(|m| (axis.minute_x(m.at), m.side(side).target_5xx_percent)).collect();
        doc = doc.add(series(&points, &err_panel, side_colour(side), 2.0, None));
        doc = doc.add(lone_dots(&points, &err_panel, side_colour(side)));
    }
    let lb: Vec<(f64, Option<f64>)> = minutes.iter().map(|m| (axis.minute_x(m.at), lb_rate(m))).collect();
    doc = doc.add(series(&lb, &err_panel, LB, 1.5, Some("2 3")));
    doc = doc.add(lone_dots(&lb, &err_panel, LB));
    doc = doc.add(legend(
        &[("old targets", OLD, None), ("new targets", NEW, None), ("load balancer", LB, Some("2 3"))],
        LEFT + PLOT_W,
        err_panel.top - 13.0,
    ));

    // Panel 4: healthy targets.
    let health_ticks: Vec<(f64, String)> = vec![(0.0, "0".into()), (f64::from(targets_max), targets_max.to_string())];
    doc = doc.add(panel_frame(&health_panel, "Healthy targets", &health_ticks));
    for side in Side::BOTH {
        let points: Vec<(f64, Option<f64>)> =
            minutes.iter().map(|m| (axis.minute_x(m.at), m.side(side).healthy_targets.map(f64::from))).collect();
        doc = doc.add(series(&points, &health_panel, side_colour(side), 2.0, None));
    }
    doc = doc.add(legend(&[("old", OLD, None), ("new", NEW, None)], LEFT + PLOT_W, health_panel.top - 13.0));

    // Panel 5, for a judged route: each minute judged, by its check.
    if let (Some(band), Some(analysis)) = (&band_panel, &route.analysis) {
        doc = doc.add(panel_frame(band, "Verdict of each minute judged", &[]));
        let mut minutes = Group::new().set("class", "verdicts");
        for m in analysis.minutes.iter().filter(|m| axis.contains(m.at)) {
            let (x, end) = (axis.x(m.at), axis.x(crate::domain::plus_secs(m.at, 60)));
            let colour = match m.check {
                "pass" => PASS,
                "fail" => FAIL,
                _ => UNSURE,
            };
            minutes = minutes.add(
                Rectangle::new()
                    .set("x", x)
                    .set("y", band.top)
                    .set("width", (end - x).max(0.5))
                    .set("height", band.height)
                    .set("fill", colour)
                    .add(Title::new(format!("{}: {}", clock_minute(m.at), m.check))),
            );
        }
        doc = doc.add(minutes);
        doc = doc.add(legend(
            &[("pass", PASS, None), ("fail", FAIL, None), ("inconclusive", UNSURE, None)],
            LEFT + PLOT_W,
            band.top - 13.0,
        ));
    }

    // The time axis.
    let span_minutes = (axis.to - axis.from) / 60_000;
    let every = tick_minutes(span_minutes);
    let mut m = Minute(Minute::containing(from).0.div_euclid(every) * every);
    while m.start() <= to {
        if axis.contains(m.start()) {
            let x = axis.x(m.start());
            doc = doc.add(
                Line::new().set("x1", x).set("x2", x).set("y1", axis_y).set("y2", axis_y + 5.0).set("stroke", AXIS),
            );
            doc = doc
                .add(text(x, axis_y + 18.0, clock_minute(m.start())).set("text-anchor", "middle").set("class", "tick"));
        }
        m = m.offset(every);
    }

    // Node signals, handoffs and steps across every panel, steps on top.
    let top = share_panel.top - 22.0;
    let panels: Vec<(f64, f64)> = [Some(&share_panel), Some(&req_panel), Some(&err_panel), Some(&health_panel)]
        .into_iter()
        .chain([band_panel.as_ref()])
        .flatten()
        .map(|p| (p.top, p.bottom()))
        .collect();
    // Steps and handoffs have their marker above the panels; the band
    // between, with the first panel's title and legend, stays clear.
    let reaching = panels.clone();
    let mut marks = Group::new().set("class", "marks");
    for s in report.signals.iter().filter(|s| axis.contains(s.at)) {
        let x = axis.x(s.at);
        let label = format!("{} {} node {}: {} ({})", clock(s.at), s.side, node_name(&s.node), s.label, s.source);
        marks = marks.add(
            vline(x, &panels, side_colour(s.side), 1.0, Some("3 3"), 0.75, &label).add(
                // A small triangle on the 5xx panel's top edge: the usual suspect.
                Path::new()
                    .set(
                        "d",
                        Data::new()
                            .move_to((x - 4.5, err_panel.top))
                            .line_to((x + 4.5, err_panel.top))
                            .line_to((x, err_panel.top + 7.0))
                            .close(),
                    )
                    .set("fill", side_colour(s.side)),
            ),
        );
    }
    for h in report.handoffs.iter().filter(|h| axis.contains(h.started)) {
        let x = axis.x(h.started);
        let gap = h
            .gap_secs
            .map_or(String::new(), |g| format!(", nothing ran for {}", crate::app::gap_text(g, h.gap_max_secs)));
        let label = format!(
            "{} {}: handoff of {} {} → {}: {}{gap}",
            clock(h.started),
            h.who,
            h.singleton,
            h.from,
            h.to,
            h.result
        );
        marks =
            marks.add(vline(x, &reaching, "#555", 1.2, Some("1 3"), 0.9, &label).add(
                text(x, top - 4.0, "H").set("text-anchor", "middle").set("font-weight", "bold").set("fill", "#555"),
            ));
    }
    // What the console would have reverted where it could not act.
    let said = report.automatic_actions.iter().flatten();
    for a in said.filter(|a| a.route == route.route && a.kind == "would_revert" && axis.contains(a.at)) {
        let label = format!("{} not done: {}", clock(a.at), a.text);
        marks = marks.add(vline(axis.x(a.at), &reaching, AUTO, 1.2, Some("4 3"), 0.85, &label));
    }
    for s in route.steps.iter().filter(|s| axis.contains(s.at)) {
        let x = axis.x(s.at);
        let automatic = s.armed.as_ref().map(|a| a.by);
        let by = match automatic {
            Some(crate::app::Automatic::Revert) => format!("automatic revert by the {}", s.who),
            Some(crate::app::Automatic::Autopilot) => format!("automatic step by the {}", s.who),
            None => s.who.clone(),
        };
        let label = format!(
            "step {}: {} {}: {} → {} on new ({} → {}){}",
            s.number,
            clock(s.at),
            by,
            s.before_share_new_percent.map_or("?".into(), |p| share(Some(p))),
            share(s.after_share_new_percent),
            s.before.map_or("not read".into(), weights),
            weights(s.after),
            if s.verified { ", verified" } else { ", not verified" }
        );
        let colour = match (automatic, s.revert) {
            (Some(_), _) => AUTO,
            (None, true) => OLD,
            (None, false) => SET,
        };
        marks = marks.add(
            vline(x, &reaching, colour, 1.3, None, 0.85, &label)
                .add(Circle::new().set("cx", x).set("cy", top - 9.0).set("r", 9.0).set("fill", colour))
                .add(
                    text(x, top - 5.0, s.number.to_string())
                        .set("text-anchor", "middle")
                        .set("fill", "#fff")
                        .set("font-size", 11)
                        .set("font-weight", "bold"),
                ),
        );
    }
    doc = doc.add(marks);

    // What the vertical lines are.
    let key_y = axis_y + 42.0;
    let mut key = Group::new().set("class", "legend");
    key = key
        .add(Circle::new().set("cx", LEFT + 6.0).set("cy", key_y - 4.0).set("r", 7.0).set("fill", SET))
        .add(text(LEFT + 6.0, key_y - 0.5, "n").set("text-anchor", "middle").set("fill", "#fff").set("font-size", 10))
        .add(text(LEFT + 20.0, key_y, "step n of the table (blue: back toward old)"))
        .add(text(LEFT + 320.0, key_y, "H").set("font-weight", "bold").set("fill", "#555"))
        .add(text(LEFT + 334.0, key_y, "singleton handoff"))
        .add(
            Path::new()
                .set(
                    "d",
                    Data::new()
                        .move_to((LEFT + 470.0, key_y - 9.0))
                        .line_to((LEFT + 479.0, key_y - 9.0))
                        .line_to((LEFT + 474.5, key_y - 2.0))
                        .close(),
                )
                .set("fill", NEW),
        )
        .add(text(LEFT + 486.0, key_y, "node signal (dashed, in its side's colour); hover a line for what it was"));
    if band_panel.is_some() {
        let key_y = key_y + 20.0;
        key = key
            .add(Circle::new().set("cx", LEFT + 6.0).set("cy", key_y - 4.0).set("r", 7.0).set("fill", AUTO))
            .add(
                text(LEFT + 6.0, key_y - 0.5, "n")
                    .set("text-anchor", "middle")
                    .set("fill", "#fff")
                    .set("font-size", 10),
            )
            .add(text(
                LEFT + 20.0,
                key_y,
                "the console's own step: an automatic revert or the autopilot's (dashed: a revert it would have made)",
            ));
    }
    doc.add(key)
}

/// A vertical line in pieces (one per panel, so it never crosses a
/// panel's title), with its hover label and a wider invisible line that
/// makes it easy to hover.
fn vline(
    x: f64,
    spans: &[(f64, f64)],
    colour: &str,
    width: f64,
    dash: Option<&str>,
    opacity: f64,
    label: &str,
) -> Group {
    let mut g = Group::new().add(Title::new(label));
    for (top, bottom) in spans {
        let mut line = Line::new()
            .set("x1", x)
            .set("x2", x)
            .set("y1", *top)
            .set("y2", *bottom)
            .set("stroke", colour)
            .set("stroke-width", width)
            .set("opacity", opacity);
        if let Some(dash) = dash {
            line = line.set("stroke-dasharray", dash);
        }
        g = g.add(line).add(
            Line::new()
                .set("x1", x)
                .set("x2", x)
                .set("y1", *top)
                .set("y2", *bottom)
                .set("stroke", "transparent")
                .set("stroke-width", 8),
        );
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_scales_end_on_a_round_tick() {
        assert_eq!(ticks(3.6), (4.0, vec![0.0, 1.0, 2.0, 3.0, 4.0]));
        assert_eq!(ticks(1166.0), (1500.0, vec![0.0, 500.0, 1000.0, 1500.0]));
    }
}

//! Drill-down of one route: requests and 5xx of both sides on one time
//! axis, node signals marked on it, and target health.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Row, Table};

use crate::app::{App, RouteState};
use crate::domain::{
    Minute, NodeSignalKind, Severity, Side, Target, TargetState, WorkloadKey, clock, clock_minute, error_rate,
};

use super::theme;

/// Minutes shown on the charts' time axis.
const WINDOW: i64 = 30;

pub fn render(app: &App, index: usize, frame: &mut Frame, area: Rect) {
    let Some(route) = app.routes.get(index) else { return };
    let summary = app.route_summary(route);
    let owners = owners_lines(route);
    let [info, charts, bottom] =
        Layout::vertical([Constraint::Length(4 + owners.len() as u16), Constraint::Min(10), Constraint::Length(8)])
            .areas(area);

    // What the route is and what the ALB says now.
    let spec = &route.spec;
    let weights = summary.weights.map_or("missing".into(), |w| format!("old {} / new {}", w.old.0, w.new.0));
    let read_age = route.read.as_ref().map_or("never".into(), |r| crate::domain::age(r.at, app.now) + " ago");
    let mut lines =
        vec![
            Line::from(vec![
                Span::styled(format!("route {} ", spec.name), theme::title()),
                Span::styled(
                    format!("{} · {}", spec.load_balancer, spec.rule.as_deref().unwrap_or("listener default action")),
                    theme::dim(),
                ),
            ]),
            Line::from(vec![
                Span::styled("target groups  ", theme::dim()),
                Span::styled(format!("old {}", spec.old_target_group), theme::side(Side::Old)),
                Span::raw("   "),
                Span::styled(format!("new {}", spec.new_target_group), theme::side(Side::New)),
            ]),
            Line::from(vec![
                Span::styled("weights read   ", theme::dim()),
                Span::raw(format!("{weights}  (read {read_age})   ")),
                Span::styled("observed ", theme::dim()),
                Span::raw(summary.observed_new.map_or("no data".into(), |p| {
                    format!("{p:.1}% to new in {}", clock_minute(summary.minute.start()))
                })),
            ]),
            Line::from(vec![
                Span::styled("steps          ", theme::dim()),
                Span::raw(spec.steps.iter().map(|s| format!("{s}%")).collect::<Vec<_>>().join(" → ")),
            ]),
        ];
    lines.extend(owners);
    frame.render_widget(Paragraph::new(lines), info);

    let [left, right] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(charts);
    let last = summary.minute;
    let first = last.offset(-(WINDOW - 1));
    let x = |m: Minute| (m.0 - first.0) as f64;
    let signals: Vec<(f64, NodeSignalKind, Side)> = app
        .node_signals
        .iter()
        .filter(|s| Minute::containing(s.at) >= first && Minute::containing(s.at) <= last)
        .map(|s| (x(Minute::containing(s.at)) + (s.at.as_second().rem_euclid(60)) as f64 / 60.0, s.kind, s.side))
        .collect();

    let requests = |side: Side| -> Vec<(f64, f64)> {
        let series = &route.metrics.get(side).requests;
        (0..WINDOW).filter_map(|i| series.get(first.offset(i)).map(|v| (i as f64, v))).collect()
    };
    let errors = |side: Side| -> Vec<(f64, f64)> {
        let m = route.metrics.get(side);
        (0..WINDOW)
            .filter_map(|i| {
                let minute = first.offset(i);
                error_rate(m.requests.get(minute), m.target_5xx.get(minute)).map(|r| (i as f64, r * 100.0))
            })
            .collect()
    };
    let elb: Vec<(f64, f64)> = elb_rate(app, route, first);
    let req = [requests(Side::Old), requests(Side::New)];
    let err = [errors(Side::Old), errors(Side::New)];
    let req_max = req.iter().flatten().map(|p| p.1).fold(10.0, f64::max) * 1.1;
    let err_max = err.iter().flatten().chain(elb.iter()).map(|p| p.1).fold(2.0, f64::max) * 1.1;

    let markers_req = marker_lines(&signals, req_max);
    let markers_err = marker_lines(&signals, err_max);
    let axis_labels = vec![
        Span::raw(clock_minute(first.start())),
        Span::raw(clock_minute(first.offset(WINDOW / 2).start())),
        Span::raw(clock_minute(last.start())),
    ];

    let mut datasets = marker_datasets(&markers_req);
    datasets.push(line("old", &req[0], theme::OLD));
    datasets.push(line("new", &req[1], theme::NEW));
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(Span::styled(" requests / min ", theme::title())))
        .x_axis(Axis::default().bounds([0.0, (WINDOW - 1) as f64]).labels(axis_labels.clone()).style(theme::dim()))
        .y_axis(
            Axis::default()
                .bounds([0.0, req_max])
                .labels(vec![Span::raw("0"), Span::raw(theme::count(req_max))])
                .style(theme::dim()),
        );
    frame.render_widget(chart, left);

    let mut datasets = marker_datasets(&markers_err);
    datasets.push(line("old 5xx%", &err[0], theme::OLD));
    datasets.push(line("new 5xx%", &err[1], theme::NEW));
    datasets.push(line("ELB 5xx%", &elb, Color::LightRed));
    let chart = Chart::new(datasets)
        .block(
            Block::bordered()
                .title(Span::styled(" 5xx % (target per side, ELB for the load balancer) ", theme::title())),
        )
        .x_axis(Axis::default().bounds([0.0, (WINDOW - 1) as f64]).labels(axis_labels).style(theme::dim()))
        .y_axis(
            Axis::default()
                .bounds([0.0, err_max])
                .labels(vec![Span::raw("0"), Span::raw(format!("{err_max:.1}"))])
                .style(theme::dim()),
        );
    frame.render_widget(chart, right);

    let [targets, signals_area] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(bottom);
    render_targets(app, route, frame, targets);
    render_signals(app, route.spec.workload.as_ref(), first, frame, signals_area);
}

/// Who else writes the rule and its target groups: one line, and a second
/// when the rule's owner puts the weights back.
fn owners_lines(route: &RouteState) -> Vec<Line<'static>> {
    let label = |text: &'static str| Span::styled(text, theme::dim());
    let warn = Style::new().fg(Color::Yellow);
    let stale = route.owners_error.as_ref().map(|e| format!(" (as last read; now: {e})")).unwrap_or_default();
    match (&route.owners, &route.owners_error) {
        (Some(o), _) => match o.rule.as_ref().filter(|r| r.reverts_weights()) {
            Some(rule) => vec![
                Line::from(vec![label("owners         "), Span::styled(format!("⚠ rule: {}", rule.describe()), warn)]),
                Line::from(vec![
                    label("               "),
                    Span::styled(
                        format!(
                            "it puts the weights back at its next reconcile: a step needs the typed override{stale}"
                        ),
                        warn,
                    ),
                ]),
            ],
            None => vec![Line::from(vec![label("owners         "), Span::raw(format!("{}{stale}", o.describe()))])],
        },
        (None, Some(e)) => {
            vec![Line::from(vec![
                label("owners         "),
                Span::styled(format!("not known: tags not read ({e})"), warn),
            ])]
        }
        (None, None) => vec![Line::from(vec![label("owners         "), label("not read yet (ELBv2 tags)")])],
    }
}

/// ELB-generated 5xx as a share of all requests of the route, per minute.
/// ALB counts these per load balancer; a shared ALB makes this an upper bound.
fn elb_rate(app: &App, route: &RouteState, first: Minute) -> Vec<(f64, f64)> {
    let Some(lb) = app.load_balancers.get(&route.spec.load_balancer) else { return vec![] };
    (0..WINDOW)
        .filter_map(|i| {
            let m = first.offset(i);
            let requests: f64 = Side::BOTH.iter().filter_map(|s| route.metrics.get(*s).requests.get(m)).sum();
            if requests <= 0.0 {
                return None;
            }
            let errors = lb.elb_5xx.get(m).unwrap_or(0.0);
            Some((i as f64, errors * 100.0 / (requests + errors)))
        })
        .collect()
}

fn line<'a>(name: &'a str, data: &'a [(f64, f64)], colour: Color) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(Marker::Braille)
        .graph_type(GraphType::Line)
        .style(Style::new().fg(colour))
        .data(data)
}

fn signal_colour(kind: NodeSignalKind) -> Color {
    match (kind, kind.severity()) {
        (NodeSignalKind::Removed, _) | (_, Severity::Info) => Color::Gray,
        (_, Severity::Alert) => Color::LightRed,
        (_, Severity::Warn) => Color::Yellow,
    }
}

/// A vertical line per node signal, from the floor to the top of the chart.
fn marker_lines(signals: &[(f64, NodeSignalKind, Side)], top: f64) -> Vec<(Vec<(f64, f64)>, Color)> {
    signals.iter().map(|(x, kind, _)| (vec![(*x, 0.0), (*x, top)], signal_colour(*kind))).collect()
}

fn marker_datasets(lines: &[(Vec<(f64, f64)>, Color)]) -> Vec<Dataset<'_>> {
    lines
        .iter()
        .map(|(points, colour)| {
            Dataset::default()
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(*colour))
                .data(points)
        })
        .collect()
}

fn render_targets(app: &App, route: &RouteState, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(Span::styled(" target health ", theme::title()));
    let Some(read) = &route.read else {
        frame.render_widget(Paragraph::new("not read yet").style(theme::dim()).block(block), area);
        return;
    };
    let mut rows = Vec::new();
    for side in Side::BOTH {
        let list: &Vec<Target> = read.targets.get(side);
        let count = |s: TargetState| list.iter().filter(|t| t.state == s).count();
        let summary = [
            TargetState::Healthy,
            TargetState::Initial,
            TargetState::Draining,
            TargetState::Unhealthy,
            TargetState::Unused,
        ]
        .into_iter()
        .filter(|s| count(*s) > 0)
        .map(|s| format!("{} {}", count(s), s.label()))
        .collect::<Vec<_>>()
        .join(", ");
        rows.push(Row::new(vec![
            Span::styled(side.label(), theme::side(side)),
            Span::raw(if summary.is_empty() { "no targets".into() } else { summary }),
        ]));
        for t in list.iter().filter(|t| t.state != TargetState::Healthy).take(3) {
            rows.push(Row::new(vec![
                Span::raw(""),
                Span::styled(
                    format!("{} {} {}", t.id, t.state.label(), t.reason.as_deref().unwrap_or("")),
                    Style::new().fg(Color::Yellow),
                ),
            ]));
        }
    }
    let age = crate::domain::age(read.at, app.now);
    let table = Table::new(rows, [Constraint::Length(4), Constraint::Min(10)])
        .block(block.title_bottom(Span::styled(format!(" read {age} ago "), theme::dim())));
    frame.render_widget(table, area);
}

/// The node signals of the window, newest first, each with the pods of the
/// route's workload lost to it from that node; the title sums them.
fn render_signals(app: &App, workload: Option<&WorkloadKey>, first: Minute, frame: &mut Frame, area: Rect) {
    let mut lost: HashMap<(Side, &str, NodeSignalKind), u32> = HashMap::new();
    for l in app.pods_lost.iter().filter(|l| l.minute >= first && Some(&l.workload) == workload) {
        *lost.entry((l.side, l.node.as_str(), l.cause)).or_default() += l.count;
    }
    let total: u32 = lost.values().sum();
    let lines: Vec<Line> = app
        .node_signals
        .iter()
        .rev()
        .filter(|s| Minute::containing(s.at) >= first)
        .map(|s| {
            let mut spans = vec![
                Span::styled(clock(s.at), theme::dim()),
                Span::raw(" "),
                Span::styled(format!("{:<4}", s.side.label()), theme::side(s.side)),
                Span::styled(format!("{} ", s.kind.label()), Style::new().fg(signal_colour(s.kind))),
            ];
            // On the newest line of the signal the pods were lost to.
            if let Some(n) = lost.remove(&(s.side, s.node.as_str(), s.kind)) {
                let pods = if n == 1 { "pod" } else { "pods" };
                spans.push(Span::styled(format!("−{n} {pods} "), Style::new().fg(Color::LightRed)));
            }
            spans.push(Span::styled(crate::domain::short_node(&s.node), theme::dim()));
            Line::from(spans)
        })
        .collect();
    let mut title = vec![Span::styled(" node signals on this time axis ", theme::title())];
    if let (Some(w), true) = (workload, total > 0) {
        title.push(Span::styled(format!("· {w} pods lost: {total} "), Style::new().fg(Color::LightRed)));
    }
    let block = Block::bordered().title(Line::from(title));
    if lines.is_empty() {
        frame.render_widget(Paragraph::new("none in the window").style(theme::dim()).block(block), area);
    } else {
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }
}

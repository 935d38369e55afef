//! Drill-down of one route: requests and 5xx of both sides on one time
//! axis, node signals and weight changes marked on it, and target health.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Row, Table};

use crate::app::{RouteState, State};
use crate::domain::Backend;
use crate::domain::{
    ALIAS_TTL_SECS, Minute, NodeSignalKind, Severity, Side, Target, TargetState, Weights, WorkloadKey, clock,
    clock_minute, error_rate,
};

use super::columns;
use super::theme;

/// Minutes shown on the charts' time axis.
const WINDOW: i64 = 30;

/// Blanks before a continued info line: under the text, not the label.
const LABEL: u16 = 15;

pub fn render(app: &State, index: usize, frame: &mut Frame, area: Rect) {
    let Some(route) = app.routes.get(index) else { return };
    let summary = app.route_summary(route);
    let width = area.width;
    let label = |text: &'static str| Span::styled(text, theme::dim());

    // What the route is and what the ALB says now, in lines that continue
    // rather than cut.
    let spec = &route.spec;
    let weights = summary.weights.map_or("missing".into(), |w| format!("old {} / new {}", w.old.0, w.new.0));
    let read_age = route.read.as_ref().map_or("never".into(), |r| crate::domain::age(r.at, app.now) + " ago");
    let mut lines = Vec::new();
    let head = |place: Vec<Vec<Span<'static>>>| {
        let mut pieces = vec![vec![Span::styled(format!("route {} ", spec.name), theme::title())]];
        pieces.extend(place);
        pieces
    };
    let [place, holder] = spec.backend.title();
    lines.extend(columns::flow(
        head(vec![vec![Span::styled(place, theme::dim())], vec![Span::styled(holder, theme::dim())]]),
        width,
        LABEL,
    ));
    // Weighted records say more than their names: where each points, its
    // TTL, how its health is judged, and how far clients have followed.
    if let Backend::Route53(d) = &spec.backend {
        for side in Side::BOTH {
            let mut pieces = vec![vec![
                label(if side == Side::Old { "records        " } else { "               " }),
                Span::styled(format!("{side} {}  ", d.set_identifiers.get(side)), theme::side(side)),
            ]];
            match route.record(side) {
                Some(r) => {
                    let ttl = r.ttl.map_or(format!("alias (TTL {ALIAS_TTL_SECS}s)"), |t| format!("TTL {t}s"));
                    pieces.push(vec![Span::raw(format!("→ {}  ", r.points_at.trim_end_matches('.')))]);
                    pieces.push(vec![Span::styled(format!("{ttl}  "), theme::dim())]);
                    let health = match (r.evaluate_target_health, &r.health_check) {
                        (_, Some(h)) => format!("health check {h}  "),
                        (true, None) => "evaluates target health  ".into(),
                        (false, None) => "no health evaluation  ".into(),
                    };
                    pieces.push(vec![Span::styled(health, theme::dim())]);
                    pieces.push(vec![Span::styled(
                        r.load_balancer.clone().unwrap_or_else(|| "load balancer not found".into()),
                        theme::dim(),
                    )]);
                }
                None => pieces.push(vec![Span::styled("not read yet", theme::dim())]),
            }
            lines.extend(columns::flow(pieces, width, LABEL));
        }
        let mut lag = vec![vec![label("DNS            ")]];
        if let Some((text, style)) = super::traffic::dns_lag(app, &summary) {
            lag.push(vec![Span::styled(text.trim_start().to_string(), style)]);
        }
        if summary.weights.is_some_and(|w| w.old.0 == 0 && w.new.0 == 0) {
            lag.push(vec![Span::raw("  both at 0: Route 53 answers evenly")]);
        }
        lag.push(vec![Span::styled(
            "  clients follow a change as their caches expire; some keep answers far past the TTL",
            theme::dim(),
        )]);
        lines.extend(columns::flow(lag, width, LABEL));
    } else {
        let label_text = format!("{:<15}", format!("{}s", spec.kind().weighted_one()));
        lines.extend(columns::flow(
            vec![
                vec![
                    Span::styled(label_text, theme::dim()),
                    Span::styled(format!("old {}   ", spec.weighted(Side::Old)), theme::side(Side::Old)),
                ],
                vec![Span::styled(format!("new {}", spec.weighted(Side::New)), theme::side(Side::New))],
            ],
            width,
            LABEL,
        ));
    }
    lines.extend(columns::flow(
        vec![
            vec![label("weights read   "), Span::raw(format!("{weights}  "))],
            vec![Span::raw(format!("(read {read_age})   "))],
            vec![
                label("observed "),
                Span::raw(summary.observed_new.map_or("no data".into(), |p| {
                    format!("{p:.1}% to new in {}", clock_minute(summary.minute.start()))
                })),
            ],
        ],
        width,
        LABEL,
    ));
    let mut steps = vec![vec![label("steps          ")]];
    let count = spec.steps.len();
    steps.extend(
        spec.steps
            .iter()
            .enumerate()
            .map(|(i, s)| vec![Span::raw(if i + 1 < count { format!("{s}% → ") } else { format!("{s}%") })]),
    );
    lines.extend(columns::flow(steps, width, LABEL));
    let flowed = |ls: Vec<Line<'static>>| -> Vec<Line<'static>> {
        ls.into_iter()
            .flat_map(|l| {
                let pieces = l.spans.into_iter().map(|s| vec![s]).collect();
                columns::flow(pieces, width, LABEL)
            })
            .collect()
    };
    lines.extend(flowed(analysis_lines(app, route)));
    lines.extend(flowed(owners_lines(route)));
    // The charts get what the text leaves; the tables below shrink first
    // on a short screen.
    let bottom_height = if area.height >= 30 { 8 } else { 5 };
    let room = usize::from(area.height.saturating_sub(bottom_height + 8));
    // The cause and the risks last: each risk with what to change where
    // there is room, else the risks in one line of their own.
    let full = flowed(lifecycle_lines(app, route, false));
    if lines.len() + full.len() <= room {
        lines.extend(full);
    } else {
        lines.extend(flowed(lifecycle_lines(app, route, true)));
    }
    let info_height = (lines.len() as u16).min(room as u16);
    let [info, charts, bottom] =
        Layout::vertical([Constraint::Length(info_height), Constraint::Min(8), Constraint::Length(bottom_height)])
            .areas(area);
    frame.render_widget(Paragraph::new(lines), info);

    let [left, right] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(charts);
    let last = summary.minute;
    let first = last.offset(-(WINDOW - 1));
    let x =
        |at: jiff::Timestamp| (Minute::containing(at).0 - first.0) as f64 + at.as_second().rem_euclid(60) as f64 / 60.0;
    // The minute under way has no figures yet, but what happened in it
    // (a step just made) is marked, at the right edge.
    let in_window = |at: jiff::Timestamp| Minute::containing(at) >= first && Minute::containing(at) <= last.offset(1);
    let signals: Vec<(f64, NodeSignalKind, Side)> =
        app.node_signals.iter().filter(|s| in_window(s.at)).map(|s| (x(s.at), s.kind, s.side)).collect();
    let changes: Vec<(f64, Weights)> =
        route.weight_changes.iter().filter(|(at, _)| in_window(*at)).map(|(at, w)| (x(*at), *w)).collect();

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

    // Weight changes first: their labels find room before the signals' lines.
    let marks: Vec<(f64, String, Style)> = changes
        .iter()
        .map(|(x, w)| {
            let label = route.kind().share_new(*w).map_or("→?".to_string(), |p| format!("→{p:.0}"));
            (*x, label, Style::new().fg(theme::NEW).add_modifier(ratatui::style::Modifier::BOLD))
        })
        .chain(signals.iter().map(|(x, kind, _)| (*x, String::new(), Style::new().fg(signal_colour(*kind)))))
        .collect();
    let axis_labels = vec![
        Span::raw(clock_minute(first.start())),
        Span::raw(clock_minute(first.offset(WINDOW / 2).start())),
        Span::raw(clock_minute(last.start())),
    ];

    // The legend is in the title, never over the newest minutes; without
    // colour each side has its own marker.
    let series = [("old", theme::OLD, OLD_MARK), ("new", theme::NEW, NEW_MARK), ("ELB", Color::LightRed, ELB_MARK)];
    let legend = |count: usize, suffix: &str| -> Vec<Span<'static>> {
        series[..count]
            .iter()
            .flat_map(|(name, colour, mark)| {
                [
                    Span::styled(format!(" {} ", mark_glyph(*mark)), Style::new().fg(*colour)),
                    Span::raw(format!("{name}{suffix}")),
                ]
            })
            .collect()
    };
    // A DNS route's left chart is its lag: the share set and the share
    // observed, on the same minutes as everything else.
    let dns = spec.kind().clients_follow_late();
    let (set, seen) = if dns { share_series(route, first) } else { (Vec::new(), Vec::new()) };
    let (datasets, mut title, y_max) = if dns {
        let datasets = vec![line(&set, Color::White, OLD_MARK), line(&seen, theme::NEW, NEW_MARK)];
        let title = vec![
            Span::styled(" % to new ", theme::title()),
            Span::styled(format!(" {} ", mark_glyph(OLD_MARK)), Style::new().fg(Color::White)),
            Span::raw("set"),
            Span::styled(format!(" {} ", mark_glyph(NEW_MARK)), Style::new().fg(theme::NEW)),
            Span::raw("observed"),
        ];
        // Scaled to what is there, so a lag of a few points at 10% shows.
        let top = set.iter().chain(seen.iter()).map(|p| p.1).fold(0.0, f64::max);
        (datasets, title, ((top * 1.25 / 10.0).ceil() * 10.0).clamp(10.0, 100.0))
    } else {
        let datasets = vec![line(&req[0], theme::OLD, OLD_MARK), line(&req[1], theme::NEW, NEW_MARK)];
        let mut title = vec![Span::styled(" requests / min ", theme::title())];
        title.extend(legend(2, ""));
        (datasets, title, req_max)
    };
    title.push(Span::raw(" "));
    let req_max = y_max;
    let y_labels = [Span::raw("0"), Span::raw(theme::count(req_max))];
    let y_width = y_labels.iter().map(|s| columns::width(&s.content)).max().unwrap_or(1);
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(Line::from(title)))
        .legend_position(None)
        .x_axis(Axis::default().bounds([0.0, (WINDOW - 1) as f64]).labels(axis_labels.clone()).style(theme::dim()))
        .y_axis(Axis::default().bounds([0.0, req_max]).labels(y_labels.to_vec()).style(theme::dim()));
    frame.render_widget(chart, left);
    mark_columns(frame, Block::bordered().inner(left), y_width, &marks);

    let mut datasets = vec![line(&err[0], theme::OLD, OLD_MARK)];
    datasets.push(line(&err[1], theme::NEW, NEW_MARK));
    datasets.push(line(&elb, Color::LightRed, ELB_MARK));
    // Each minute's verdict, a band along the top of the 5xx chart.
    let band = verdict_band(route, first, err_max);
    for (points, colour) in band.iter().zip(BAND_COLOURS) {
        datasets.push(
            Dataset::default()
                .marker(Marker::Block)
                .graph_type(GraphType::Scatter)
                .style(Style::new().fg(colour))
                .data(points),
        );
    }
    let mut title = vec![Span::styled(" 5xx % ", theme::title())];
    title.extend(legend(3, ""));
    if band.iter().any(|b| !b.is_empty()) {
        title.push(Span::styled(" ▇ verdict: ", theme::dim()));
        for (name, colour) in ["pass", "fail", "?"].into_iter().zip(BAND_COLOURS) {
            title.push(Span::styled(format!("{name} "), Style::new().fg(colour)));
        }
    }
    title.push(Span::styled(" (targets per side; ELB: the load balancer's own) ", theme::dim()));
    let y_labels = [Span::raw("0"), Span::raw(format!("{err_max:.1}"))];
    let y_width = y_labels.iter().map(|s| columns::width(&s.content)).max().unwrap_or(1);
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(Line::from(title)))
        .legend_position(None)
        .x_axis(Axis::default().bounds([0.0, (WINDOW - 1) as f64]).labels(axis_labels).style(theme::dim()))
        .y_axis(Axis::default().bounds([0.0, err_max]).labels(y_labels.to_vec()).style(theme::dim()));
    frame.render_widget(chart, right);
    mark_columns(frame, Block::bordered().inner(right), y_width, &marks);

    let [targets, signals_area] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(bottom);
    render_targets(app, route, frame, targets);
    render_signals(app, route.spec.workload.as_ref(), first, frame, signals_area);
}

/// Per minute of the window: the share to new the weights set and the
/// share of requests that reached new.
fn share_series(route: &RouteState, first: Minute) -> (Points, Points) {
    let kind = route.kind();
    let mut set = Vec::new();
    let mut seen = Vec::new();
    for i in 0..WINDOW {
        let m = first.offset(i);
        // The set share at the minute's start (where its point is drawn);
        // the changes within it are added below as steps.
        if let Some(p) = route.weights_at(m.start()).and_then(|w| kind.share_new(w)) {
            set.push((i as f64, p));
        }
        if let Some(p) = route.observed_share(m) {
            seen.push((i as f64, p));
        }
    }
    // A step where the weights changed, not a slope across the minute.
    for (at, to) in &route.weight_changes {
        let minute = Minute::containing(*at);
        if minute < first || minute > first.offset(WINDOW - 1) {
            continue;
        }
        let x = (minute.0 - first.0) as f64 + at.as_second().rem_euclid(60) as f64 / 60.0;
        let before = jiff::Timestamp::from_second(at.as_second() - 1).ok().and_then(|t| route.weights_at(t));
        if let Some(p) = before.and_then(|w| kind.share_new(w)) {
            set.push((x, p));
        }
        if let Some(p) = kind.share_new(*to) {
            set.push((x, p));
        }
    }
    set.sort_by(|a, b| a.0.total_cmp(&b.0));
    (set, seen)
}

/// A chart's points: (minute in the window, value).
type Points = Vec<(f64, f64)>;

/// The band's colours: pass, fail, inconclusive.
const BAND_COLOURS: [Color; 3] = [Color::Green, Color::LightRed, Color::Yellow];

/// The minutes judged in the window, by verdict, at the top of a chart
/// whose scale ends at `top`.
fn verdict_band(route: &RouteState, first: Minute, top: f64) -> [Points; 3] {
    use crate::app::Judged;
    let mut band: [Points; 3] = Default::default();
    for (m, judged) in &route.judged {
        let i = m.0 - first.0;
        if !(0..WINDOW).contains(&i) {
            continue;
        }
        let which = match judged {
            Judged::Pass => 0,
            Judged::Fail => 1,
            Judged::Unsure => 2,
        };
        band[which].push((i as f64, top * 0.97));
    }
    band
}

/// The step's analysis: its verdict and evidence, what the plan sets and
/// arms, and the autopilot's state.
fn analysis_lines(app: &State, route: &RouteState) -> Vec<Line<'static>> {
    use crate::domain::analysis::{Advance, OnFailure, percent};
    let Some(spec) = &route.spec.analysis else { return Vec::new() };
    let label = |text: &'static str| Span::styled(text, theme::dim());
    let mut lines = Vec::new();
    let (cell, style) = super::traffic::verdict_cell(app, route).unwrap_or_default();
    let mut first = vec![label("analysis       "), Span::styled(cell, style)];
    if let Some(a) = &route.analysis {
        first.push(Span::raw(format!("  {}", a.verdict.text())));
        first.push(Span::styled(format!("  since {}", crate::domain::clock(a.verdict_at)), theme::dim()));
    }
    lines.push(Line::from(first));
    if let Some(a) = route.analysis.as_ref().filter(|a| a.evidence.minutes > 0) {
        let e = &a.evidence;
        let side = |c: crate::domain::analysis::Counts| {
            c.share().map_or("no requests".into(), |s| {
                format!("5xx {} of {} req", percent(s), theme::count(c.requests as f64))
            })
        };
        let latency = e
            .latency_ms
            .map_or(String::new(), |ms| format!(" · latency {ms:.0} ms ({})", route.spec.metrics.latency_is()));
        lines.push(Line::from(vec![
            label("  evidence     "),
            Span::raw(format!(
                "{} whole min at this weight: new {}, old {}{latency} · failing minutes {}/{}",
                e.minutes,
                side(e.new),
                side(e.old),
                a.failures,
                spec.failure_limit
            )),
        ]));
    }
    let limit = |v: Option<f64>| v.map_or("none".to_string(), percent);
    let latency = spec.max_latency_ms.map_or("none".to_string(), |ms| format!("{ms:.0} ms"));
    let on_failure = match spec.on_failure {
        OnFailure::Alarm => "alarm".to_string(),
        OnFailure::Revert => format!("REVERT by itself ({})", spec.on_failure_at),
    };
    let advance = match spec.advance {
        Advance::Manual => "manual".to_string(),
        Advance::Prompt => format!("prompt ({})", spec.advance_at),
        Advance::Auto => format!("AUTO after {}s ({})", crate::app::COUNTDOWN_SECS, spec.advance_at),
    };
    lines.push(Line::from(vec![
        label("  judged by    "),
        Span::styled(
            format!(
                "5xx ≤ {} and ≤ old + {}, latency ≤ {latency}, at {:.0}% confidence; bake {}s; {} failing min fail; on failure: {on_failure}; advance: {advance}",
                limit(spec.max_error_rate),
                limit(spec.max_error_increase),
                spec.confidence * 100.0,
                spec.bake_secs,
                spec.failure_limit
            ),
            theme::dim(),
        ),
    ]));
    let pilot = &route.autopilot;
    if spec.advance == Advance::Auto {
        let state = match (&pilot.countdown, pilot.paused, &pilot.stopped) {
            (_, true, _) => "paused".to_string(),
            (_, _, Some(why)) => format!("stopped: {why}; the operator steps"),
            (Some(c), _, _) => match &c.held {
                Some(why) => format!("holds: {why}"),
                None => format!(
                    "steps to old {}/new {} at {} ({}s)",
                    c.to.old.0,
                    c.to.new.0,
                    crate::domain::clock(c.at),
                    (c.at.as_second() - app.now.as_second()).max(0)
                ),
            },
            (None, _, _) => "waits for the step to be ready".into(),
        };
        lines.push(Line::from(vec![label("  autopilot    "), Span::raw(state)]));
    }
    lines
}

const OLD_MARK: Marker = Marker::Braille;
const NEW_MARK: Marker = Marker::HalfBlock;
const ELB_MARK: Marker = Marker::Dot;

/// The glyph a marker draws, for the legend.
fn mark_glyph(marker: Marker) -> &'static str {
    if !theme::no_color() {
        return "━";
    }
    match marker {
        Marker::Braille => "⣿",
        Marker::HalfBlock => "▀",
        Marker::Dot => "•",
        _ => "█",
    }
}

/// The plot's column of `x` on a chart whose inner area is `inner`, as the
/// chart lays it out: y labels (at least the first time label but one)
/// and the axis on the left, then the minutes.
fn plot_column(inner: Rect, y_labels: u16, x: f64) -> Option<u16> {
    let left = y_labels.max(TIME_LABEL - 1).min(inner.width / 3) + 1;
    let width = inner.width.checked_sub(left)?;
    if width == 0 {
        return None;
    }
    let col = (x / (WINDOW - 1) as f64 * f64::from(width - 1)) as u16;
    Some(inner.x + left + col.min(width - 1))
}

/// `HH:MM`, the time labels of the axis.
const TIME_LABEL: u16 = 5;

/// A vertical line at each mark: `┊` for a node signal, `│` labelled
/// with the share moved to new (`→50`) for a change of the weights. Drawn
/// only on empty cells, so no point of the data is hidden.
fn mark_columns(frame: &mut Frame, inner: Rect, y_labels: u16, marks: &[(f64, String, Style)]) {
    // The plot's rows: all but the time labels and the axis line.
    let rows = inner.height.saturating_sub(2);
    if rows < 2 {
        return;
    }
    let buf = frame.buffer_mut();
    for (x, label, style) in marks {
        let Some(col) = plot_column(inner, y_labels, *x) else { continue };
        let glyph = if label.is_empty() { "┊" } else { "│" };
        for y in inner.y..inner.y + rows {
            let cell = &mut buf[(col, y)];
            if cell.symbol() == " " {
                cell.set_symbol(glyph).set_style(*style);
            }
        }
        let label_width = columns::width(label);
        if label_width == 0 {
            continue;
        }
        // Beside the line on its right, or on its left at the right edge;
        // on the highest row with room for it.
        let start = if col + label_width < inner.right() { col + 1 } else { col.saturating_sub(label_width) };
        if let Some(y) =
            (inner.y..inner.y + rows).find(|y| (start..start + label_width).all(|x| buf[(x, *y)].symbol() == " "))
        {
            buf.set_string(start, y, label, *style);
        }
    }
}

/// What holds a route's weights, as the owners line names it.
fn what_holds(route: &RouteState) -> &'static str {
    route.kind().holder()
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
                Line::from(vec![
                    label("owners         "),
                    Span::styled(format!("⚠ {}: {}", what_holds(route), rule.describe()), warn),
                ]),
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
            None if route.spec.dns().is_some() => {
                let text = match &o.rule {
                    Some(owner) => format!("records: {}", owner.describe()),
                    None => "nobody known (no ExternalDNS registry record for these records)".into(),
                };
                vec![Line::from(vec![label("owners         "), Span::raw(format!("{text}{stale}"))])]
            }
            None => vec![Line::from(vec![label("owners         "), Span::raw(format!("{}{stale}", o.describe()))])],
        },
        (None, Some(e)) => {
            vec![Line::from(vec![
                label("owners         "),
                Span::styled(format!("not known: tags not read ({e})"), warn),
            ])]
        }
        (None, None) => {
            let source = route.kind().owners_from();
            vec![Line::from(vec![
                label("owners         "),
                Span::styled(format!("not read yet ({source})"), theme::dim()),
            ])]
        }
    }
}

/// The route's latest likely cause (while its rise is on the charts),
/// and its risks, each with what to change: `risks          new grace
/// 30s < deregistration 300s: raise terminationGracePeriodSeconds...`.
fn lifecycle_lines(app: &State, route: &RouteState, compact: bool) -> Vec<Line<'static>> {
    let name = &route.spec.name;
    let label = |text: &'static str| Span::styled(text, theme::dim());
    let mut lines = Vec::new();
    let shown_from = Minute::containing(app.now).offset(-WINDOW);
    if let Some(c) = app.causes.iter().rev().find(|c| &c.route == name && c.minute >= shown_from && !c.text.is_empty())
    {
        // The route is this one: the side and the rest of the sentence.
        let text = c.text.split_once(": ").map_or(c.text.as_str(), |(_, rest)| rest);
        let mut spans = vec![label("likely cause   "), Span::styled(format!("{} ", c.side), theme::side(c.side))];
        spans.extend(words(text, Style::new().fg(Color::LightRed)));
        lines.push(Line::from(spans));
    }
    let risks: Vec<_> = app.risks.iter().filter(|r| r.route.as_deref() == Some(name.as_str())).collect();
    if compact && !risks.is_empty() {
        let mut spans = vec![label("risks          ")];
        for (i, r) in risks.iter().enumerate() {
            let sep = if i + 1 < risks.len() { " ·" } else { "" };
            spans.push(Span::styled(format!("{} ", r.side), theme::side(r.side)));
            spans.extend(words(&format!("{}{sep}", r.brief), Style::new().fg(Color::Yellow)));
        }
        lines.push(Line::from(spans));
        return lines;
    }
    for (i, r) in risks.iter().enumerate() {
        let mut spans = vec![
            label(if i == 0 { "risks          " } else { "               " }),
            Span::styled(format!("{} ", r.side), theme::side(r.side)),
        ];
        spans.extend(words(&format!("{}:", r.brief), Style::new().fg(Color::Yellow)));
        spans.extend(words(&r.change, theme::dim()));
        lines.push(Line::from(spans));
    }
    if risks.is_empty() && app.lifecycle.is_some() {
        lines.push(Line::from(vec![label("risks          "), Span::styled("none found", theme::dim())]));
    }
    lines
}

/// A sentence as one span a word, so that a line flows at its spaces
/// instead of being cut.
fn words(text: &str, style: Style) -> Vec<Span<'static>> {
    text.split(' ').filter(|w| !w.is_empty()).map(|w| Span::styled(format!("{w} "), style)).collect()
}

/// Load-balancer-generated 5xx as a share of all requests of the route,
/// per minute. ALB counts these per load balancer: a shared ALB makes this
/// an upper bound; a DNS route's two load balancers are its own.
fn elb_rate(app: &State, route: &RouteState, first: Minute) -> Vec<(f64, f64)> {
    let mut lbs: Vec<&str> = Side::BOTH.iter().filter_map(|s| route.load_balancer(*s)).collect();
    lbs.dedup();
    let lbs: Vec<_> = lbs.iter().filter_map(|lb| app.load_balancers.get(*lb)).collect();
    if lbs.is_empty() {
        return vec![];
    }
    (0..WINDOW)
        .filter_map(|i| {
            let m = first.offset(i);
            let requests: f64 = Side::BOTH.iter().filter_map(|s| route.metrics.get(*s).requests.get(m)).sum();
            if requests <= 0.0 {
                return None;
            }
            let errors: f64 = lbs.iter().map(|lb| lb.elb_5xx.get(m).unwrap_or(0.0)).sum();
            Some((i as f64, errors * 100.0 / (requests + errors)))
        })
        .collect()
}

fn line(data: &[(f64, f64)], colour: Color, marker: Marker) -> Dataset<'_> {
    // With colour the lines are told apart by it, in the finest marker.
    let marker = if theme::no_color() { marker } else { Marker::Braille };
    Dataset::default().marker(marker).graph_type(GraphType::Line).style(Style::new().fg(colour)).data(data)
}

fn signal_colour(kind: NodeSignalKind) -> Color {
    match (kind, kind.severity()) {
        (NodeSignalKind::Removed, _) | (_, Severity::Info) => Color::Gray,
        (_, Severity::Alert) => Color::LightRed,
        (_, Severity::Warn) => Color::Yellow,
    }
}

fn render_targets(app: &State, route: &RouteState, frame: &mut Frame, area: Rect) {
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
fn render_signals(app: &State, workload: Option<&WorkloadKey>, first: Minute, frame: &mut Frame, area: Rect) {
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

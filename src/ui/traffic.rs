//! One block of three lines per route: the weights, then each side's
//! requests, 5xx, latency and last 30 minutes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline};

use crate::app::{App, Panel, RouteSummary, SideFigures, SourceId, View};
use crate::domain::{Health, Minute, Side, Weights, error_rate};

use super::theme;

/// Minutes of history in the sparklines.
pub const SPARK_MINUTES: usize = 30;
/// Lines per route in the panel.
pub const ROUTE_LINES: u16 = 3;

pub fn height(app: &App) -> u16 {
    (app.routes.len().max(1) as u16) * ROUTE_LINES + 2
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.ui.focus == Panel::Traffic && app.ui.view == View::Main;
    let block = Block::bordered()
        .title(Line::from(vec![
            Span::styled(" Traffic ", theme::title()),
            Span::styled("per route · last complete minute · 30 min ", theme::dim()),
        ]))
        .border_style(theme::focused_border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    {
        let mut screen = app.screen.0.borrow_mut();
        screen.panel(Panel::Traffic, area.into());
        screen.rows(Panel::Traffic, inner.into(), 0, app.routes.iter().map(|_| ROUTE_LINES));
    }
    if app.routes.is_empty() {
        frame.render_widget(Paragraph::new("no routes in the plan").style(theme::dim()), inner);
        return;
    }
    let stale = app.is_stale(SourceId::Alb) || app.is_stale(SourceId::Metrics);
    let rows = Layout::vertical(app.routes.iter().map(|_| Constraint::Length(ROUTE_LINES))).split(inner);
    for (i, (route, row)) in app.routes.iter().zip(rows.iter()).enumerate() {
        let summary = app.route_summary(route);
        let selected = focused && app.ui.selected[Panel::Traffic.index()] == i;
        let waiting = route.awaiting.as_ref().map(|aw| crate::domain::age(aw.since, app.now));
        render_route(&summary, frame, *row, selected, stale, waiting);
    }
}

/// `waiting`: how long the route has waited for the AWS Load Balancer
/// Controller to write what was written to its Ingress.
fn render_route(
    s: &RouteSummary<'_>,
    frame: &mut Frame,
    area: Rect,
    selected: bool,
    stale: bool,
    waiting: Option<String>,
) {
    let [first, old_line, new_line] = Layout::vertical([Constraint::Length(1); 3]).areas(area);
    let spec = &s.route.spec;
    let name_style = if selected { theme::selected().add_modifier(Modifier::BOLD) } else { theme::title() };
    let mut spans = vec![
        Span::styled(format!("{:<8}", theme::fit(&spec.name, 8)), name_style),
        Span::styled(format!("{:<18}", theme::fit(spec.rule.as_deref().unwrap_or("default action"), 17)), theme::dim()),
    ];
    spans.extend(weight_bar(s.weights, 24));
    match (s.weights, &s.route.read) {
        (Some(w), _) => spans.push(Span::raw(format!("  read {}/{} ", w.old.0, w.new.0))),
        // Not read yet is not a broken rule: say which it is.
        (None, None) => spans.push(Span::styled("  weights not read yet", Style::new().fg(Color::Yellow))),
        (None, Some(_)) => {
            spans.push(Span::styled("  target groups missing from the rule!", Style::new().fg(Color::LightRed)))
        }
    }
    if let (Some(waiting), Some(aw)) = (waiting, &s.route.awaiting) {
        spans.push(Span::styled(
            format!(" ⟳ Ingress {}/{}, controller {waiting} ", aw.to.old.0, aw.to.new.0),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(read) = &s.route.read {
        for (tg, w) in &read.others {
            spans.push(Span::styled(format!(" +{tg}={}", w.0), Style::new().fg(Color::LightRed)));
        }
    }
    spans.push(Span::styled(" observed ", theme::dim()));
    spans.push(Span::raw(s.observed_new.map_or("no data".into(), |p| format!("{p:.1}% new"))));
    spans.push(Span::styled("  ALB 5xx ", theme::dim()));
    let elb = s.elb_errors();
    let elb_style = match elb {
        Some(v) if v > 0.0 => Style::new().fg(Color::LightRed),
        Some(_) => Style::new().fg(Color::Green),
        None => theme::dim(),
    };
    spans.push(Span::styled(elb.map_or("no data".into(), |v| format!("{}/min", theme::count(v))), elb_style));
    let mut line = Line::from(spans);
    if stale {
        line = line.style(theme::dim());
    }
    frame.render_widget(Paragraph::new(line), first);

    for (side, area) in [(Side::Old, old_line), (Side::New, new_line)] {
        render_side(s, side, *s.figures.get(side), frame, area, stale);
    }
}

/// `old ██████████░░░░ new` with each part in its side's colour.
fn weight_bar(weights: Option<Weights>, width: usize) -> Vec<Span<'static>> {
    let Some(pct) = weights.and_then(|w| w.percent_new()) else {
        return vec![Span::styled(format!("old {} new", "?".repeat(width)), theme::dim())];
    };
    let new_cells = ((pct / 100.0) * width as f64).round() as usize;
    let old_cells = width - new_cells.min(width);
    vec![
        Span::styled("old ", theme::side(Side::Old)),
        Span::styled("█".repeat(old_cells), theme::side(Side::Old)),
        Span::styled("█".repeat(new_cells.min(width)), theme::side(Side::New)),
        Span::styled(format!(" new {:>3.0}%", pct), theme::side(Side::New)),
    ]
}

fn render_side(s: &RouteSummary<'_>, side: Side, f: SideFigures, frame: &mut Frame, area: Rect, stale: bool) {
    let [label, numbers, req_label, req_spark, err_label, err_spark, targets] = Layout::horizontal([
        Constraint::Length(6),
        Constraint::Length(33),
        Constraint::Length(5),
        Constraint::Length(SPARK_MINUTES as u16),
        Constraint::Length(5),
        Constraint::Length(SPARK_MINUTES as u16),
        Constraint::Min(8),
    ])
    .areas(area);
    let base = if stale { theme::dim() } else { Style::new() };
    frame.render_widget(Paragraph::new(Span::styled(format!("  {side}"), theme::side(side))), label);

    let rate_health = f.error_rate.map(theme::error_health);
    let spans = vec![
        Span::styled(format!("{:>7}", f.requests.map_or("–".into(), theme::count)), base),
        Span::styled(" req/m ", theme::dim()),
        Span::styled(
            format!("{:>6}", f.error_rate.map_or("–".into(), theme::percent)),
            if stale { base } else { rate_health.map_or(theme::dim(), theme::health) },
        ),
        Span::styled(" 5xx ", theme::dim()),
        Span::styled(format!("{:>5}", f.latency_ms.map_or("–".into(), |l| format!("{l:.0}"))), base),
        Span::styled(" ms", theme::dim()),
    ];
    frame.render_widget(Paragraph::new(Line::from(spans)), numbers);

    let metrics = s.route.metrics.get(side);
    let last = s.minute;
    let requests: Vec<Option<u64>> =
        metrics.requests.window(last, SPARK_MINUTES).into_iter().map(|v| v.map(|v| v.round() as u64)).collect();
    let colour = if stale {
        theme::DIM
    } else {
        match side {
            Side::Old => theme::OLD,
            Side::New => theme::NEW,
        }
    };
    // Both sides on one scale, so the split of the traffic shows at a glance.
    frame.render_widget(Paragraph::new(Span::styled(" req ", theme::dim())), req_label);
    frame.render_widget(spark(&requests, Some(requests_max(s, last)), colour), req_spark);
    frame.render_widget(Paragraph::new(Span::styled(" 5xx ", theme::dim())), err_label);
    // In hundredths of a percent; the scale never drops below the warning
    // level, so noise at 0.2% stays a low line, not a wall of bars.
    let errors: Vec<Option<u64>> =
        error_window(s, side, last).into_iter().map(|v| v.map(|r| (r * 10_000.0).round() as u64)).collect();
    let max = errors.iter().flatten().copied().max().unwrap_or(0).max((theme::ERROR_WARN * 10_000.0) as u64 * 2);
    let worst = errors.iter().flatten().copied().max().unwrap_or(0) as f64 / 10_000.0;
    let err_colour =
        if stale { theme::DIM } else { theme::health(theme::error_health(worst)).fg.unwrap_or(Color::Green) };
    frame.render_widget(spark(&errors, Some(max), err_colour), err_spark);

    let line = match s.route.read.as_ref() {
        Some(read) => {
            let list = read.targets.get(side);
            let healthy = list.iter().filter(|t| t.state == crate::domain::TargetState::Healthy).count();
            let health = if list.is_empty() {
                Health::Idle
            } else if healthy == list.len() {
                Health::Healthy
            } else if healthy == 0 {
                Health::Failing
            } else {
                Health::Degraded
            };
            Line::from(vec![
                Span::styled(" tg ", theme::dim()),
                Span::styled(format!("{healthy}/{}", list.len()), if stale { base } else { theme::health(health) }),
            ])
        }
        None => Line::from(Span::styled(" tg: not read", theme::dim())),
    };
    frame.render_widget(Paragraph::new(line), targets);
}

/// The largest request count of either side in the window.
fn requests_max(s: &RouteSummary<'_>, last: Minute) -> u64 {
    Side::BOTH
        .iter()
        .flat_map(|side| s.route.metrics.get(*side).requests.window(last, SPARK_MINUTES))
        .flatten()
        .fold(1.0, f64::max)
        .round() as u64
}

/// Target 5xx share per minute over the sparkline window.
pub fn error_window(s: &RouteSummary<'_>, side: Side, last: Minute) -> Vec<Option<f64>> {
    let m = s.route.metrics.get(side);
    let requests = m.requests.window(last, SPARK_MINUTES);
    let errors = m.target_5xx.window(last, SPARK_MINUTES);
    requests.into_iter().zip(errors).map(|(r, e)| error_rate(r, e)).collect()
}

fn spark(data: &[Option<u64>], max: Option<u64>, colour: Color) -> Sparkline<'static> {
    let mut s = Sparkline::default()
        .data(data.iter().copied().map(ratatui::widgets::SparklineBar::from).collect::<Vec<_>>())
        .style(Style::new().fg(colour))
        .absent_value_symbol("·")
        .absent_value_style(theme::dim());
    if let Some(max) = max {
        s = s.max(max);
    }
    s
}

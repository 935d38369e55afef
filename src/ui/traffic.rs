//! One block of three lines per route: the weights, then each side's
//! requests, 5xx, latency, targets and history, as much as fits.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use crate::app::{Panel, RouteState, RouteSummary, SourceId, State, View};
use crate::domain::{Health, Minute, RouteId, Side, error_rate};

use super::columns::{self, Col};
use super::{Shown, theme};

/// Lines per route in the panel.
pub const ROUTE_LINES: u16 = 3;
/// The narrowest sparkline drawn, in minutes; a narrower one is left out.
pub const SPARK_MIN: u16 = 10;
/// The most minutes a sparkline stretches to.
pub const SPARK_MAX: u16 = 240;
/// ` req ` and ` 5xx ` before each sparkline.
const SPARK_LABEL: u16 = 5;

pub fn height(app: &State) -> u16 {
    (app.routes.len().max(1) as u16) * ROUTE_LINES + 2
}

/// The columns of a side's line, fitted once for the whole panel so every
/// route's numbers stand under each other.
struct SideColumns {
    /// Widths of the number fields: requests, 5xx share, latency, targets.
    numbers: [usize; 4],
    /// Widths of label, requests, 5xx, latency, targets, requests
    /// sparkline, 5xx sparkline; `None` for a column left out.
    widths: Vec<Option<u16>>,
    /// Minutes of history there are, over every route (at least 30).
    history: usize,
}

impl SideColumns {
    /// What each side's line holds, most important first: the numbers of
    /// the last minute, then target health, then the 5xx history, then the
    /// request history. Sparklines take the room that is left.
    fn fit(app: &State, width: u16) -> Self {
        let mut numbers = [1usize; 4];
        let mut history = HISTORY_MIN;
        for route in &app.routes {
            let s = app.route_summary(route);
            for side in Side::BOTH {
                if let Some(first) = route.metrics.get(side).requests.minutes().next() {
                    history = history.max((s.minute.0 - first.0 + 1).max(0) as usize);
                }
                let f = s.figures.get(side);
                let texts = [
                    f.requests.map_or("–".into(), theme::count),
                    f.error_rate.map_or("–".into(), theme::percent),
                    f.latency_ms.map_or("–".into(), |l| format!("{l:.0}")),
                    targets_text(route, side),
                ];
                for (n, t) in numbers.iter_mut().zip(texts) {
                    *n = (*n).max(t.chars().count());
                }
            }
        }
        let cols = [
            Col::fixed(5, 0),
            Col::fixed(numbers[0] as u16 + 6, 0),
            Col::fixed(numbers[1] as u16 + 4, 0),
            Col::fixed(numbers[2] as u16 + 3, 1),
            Col::fixed(numbers[3] as u16 + 3, 2),
            Col::stretch(SPARK_LABEL + SPARK_MIN, SPARK_LABEL + SPARK_MAX, 4),
            Col::stretch(SPARK_LABEL + SPARK_MIN, SPARK_LABEL + SPARK_MAX, 3),
        ];
        Self { numbers, widths: columns::fit(&cols, width, 1), history }
    }

    /// Cells of a sparkline.
    fn cells(&self) -> usize {
        self.widths[5].or(self.widths[6]).map_or(0, |w| usize::from(w - SPARK_LABEL))
    }

    /// Minutes in a sparkline: one a cell, or, when there is more room than
    /// history, the history there is, each minute over two cells or more.
    fn minutes(&self) -> usize {
        self.cells().min(self.history)
    }
}

/// The history a sparkline shows at the least: what the first read brings.
const HISTORY_MIN: usize = 30;

/// `values` spread over `cells`, each taking an even share of them.
fn spread<T: Copy>(values: &[T], cells: usize) -> Vec<T> {
    if values.is_empty() {
        return Vec::new();
    }
    (0..cells).map(|c| values[c * values.len() / cells.max(1)]).collect()
}

/// `5/6`, healthy of all, and what the others are doing: `5/6 · 1
/// draining` (a target being deregistered: a pod or node going away).
fn targets_text(route: &RouteState, side: Side) -> String {
    use crate::domain::TargetState;
    match route.read.as_ref() {
        Some(read) => {
            let list = read.targets.get(side);
            let count = |s: TargetState| list.iter().filter(|t| t.state == s).count();
            let mut text = format!("{}/{}", count(TargetState::Healthy), list.len());
            let others: Vec<String> = [TargetState::Draining, TargetState::Initial, TargetState::Unhealthy]
                .into_iter()
                .filter(|s| count(*s) > 0)
                .map(|s| format!("{} {}", count(s), s.label()))
                .collect();
            if !others.is_empty() {
                text.push_str(" · ");
                text.push_str(&others.join(" "));
            }
            text
        }
        None => "not read".into(),
    }
}

pub fn render<'a>(view: impl Into<Shown<'a>>, frame: &mut Frame, area: Rect) {
    let s = view.into();
    let app = s.app;
    let focused = s.ui.focus == Panel::Traffic && s.ui.view == View::Main;
    let cols = SideColumns::fit(app, area.width.saturating_sub(2));
    let minutes = cols.minutes();
    let history = if minutes > 0 { format!(" · {minutes} min") } else { String::new() };
    let block = theme::panel(focused).title(Line::from(vec![
        Span::styled(" Traffic ", theme::title()),
        Span::styled(format!("per route · last complete minute{history} "), theme::dim()),
    ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    {
        let mut screen = s.screen.0.borrow_mut();
        screen.panel(Panel::Traffic, area);
        screen.rows(Panel::Traffic, inner, 0, app.routes.iter().map(|_| ROUTE_LINES));
    }
    if app.routes.is_empty() {
        frame.render_widget(Paragraph::new("no routes in the plan").style(theme::dim()), inner);
        return;
    }
    let rows = Layout::vertical(app.routes.iter().map(|_| Constraint::Length(ROUTE_LINES))).split(inner);
    let name_width = app.routes.iter().map(|r| r.spec.name.chars().count()).max().unwrap_or(0) as u16;
    for (i, (route, row)) in app.routes.iter().zip(rows.iter()).enumerate() {
        let summary = app.route_summary(route);
        let selected = focused && s.ui.selected[Panel::Traffic.index()] == i;
        let metrics_stale = app.is_stale(SourceId::Metrics(route.spec.metrics));
        let stale = metrics_stale || app.is_stale(route.spec.source()) || route.problem.is_some();
        let waiting = route.awaiting.as_ref().map(|aw| crate::domain::age(aw.since, app.now));
        let [first, old_line, new_line] = Layout::vertical([Constraint::Length(1); 3]).areas(*row);
        let progress = app.write_progress(RouteId::of(i));
        let mut line = route_line(app, &summary, first.width, name_width, selected, waiting, progress);
        if stale {
            line = line.style(theme::dim());
        }
        frame.render_widget(Paragraph::new(line), first);
        for (side, area) in [(Side::Old, old_line), (Side::New, new_line)] {
            render_side(&summary, side, &cols, frame, area, stale);
        }
    }
}

/// The route's first line: its name, the weights as a bar and in numbers,
/// what is awaited, then what was observed and the ALB's own 5xx, then
/// the rule. `waiting`: how long the route has waited for the AWS Load
/// Balancer Controller to write what was written to its Ingress.
fn route_line(
    app: &State,
    s: &RouteSummary<'_>,
    width: u16,
    name_width: u16,
    selected: bool,
    waiting: Option<String>,
    progress: Option<&str>,
) -> Line<'static> {
    let spec = &s.route.spec;
    let name_style = if selected { theme::selected().add_modifier(Modifier::BOLD) } else { theme::title() };
    let mut pieces: Vec<(Col, Vec<Span<'static>>)> = Vec::new();
    let piece = |spans: Vec<Span<'static>>, priority: u8| {
        let w = spans.iter().map(|s| columns::width(&s.content)).sum();
        (Col::fixed(w, priority), spans)
    };
    pieces.push((Col::text(4, name_width + 1, 0), vec![Span::styled(spec.name.clone(), name_style)]));
    let (tag, place) = spec.backend.short_place();
    // The kind stays when the place does not fit.
    if let Some(tag) = tag {
        pieces.push(piece(vec![Span::styled(format!("{tag} "), theme::dim())], 1));
    }
    let place = format!("{place} ");
    pieces.push((Col::text(8, columns::width(&place), 5), vec![Span::styled(place, theme::dim())]));
    let bar = pieces.len();
    pieces.push((Col::stretch(BAR_FIXED + BAR_MIN, BAR_FIXED + BAR_MAX, 1), Vec::new()));
    match (s.weights, &s.route.read) {
        // Both at 0: no traffic for an ALB rule, an equal split for records.
        (Some(w), _) if w.old.0 == 0 && w.new.0 == 0 && spec.kind().zero_is_equal_split() => {
            pieces.push(piece(vec![Span::raw(" read 0/0 (equal split) ")], 0))
        }
        (Some(w), _) => pieces.push(piece(vec![Span::raw(format!(" read {}/{} ", w.old.0, w.new.0))], 0)),
        // Not read yet is not a broken rule: say which it is.
        (None, None) => {
            pieces.push(piece(vec![Span::styled(" weights not read yet", Style::new().fg(Color::Yellow))], 0))
        }
        (None, Some(_)) => pieces.push(piece(
            vec![Span::styled(" target groups missing from the rule!", Style::new().fg(Color::LightRed))],
            0,
        )),
    }
    // The step's verdict and the autopilot's countdown: whole or not at
    // all, never cut into something else.
    if let Some((text, style)) = verdict_cell(app, s.route) {
        pieces.push(piece(vec![Span::styled(format!(" {text} "), style)], 1));
    }
    if let Some((text, style)) = countdown_cell(app, s.route) {
        pieces.push(piece(vec![Span::styled(format!(" {text} "), style)], 0));
    }
    if let Some((since, problem)) = &s.route.problem {
        // This route alone cannot be read: said on its line, not greyed
        // away with the rest of it.
        let text = format!(" ✖ not read since {}: {problem}", crate::domain::clock(*since));
        let want = columns::width(&text);
        pieces.push((
            Col::text(24, want, 1),
            vec![Span::styled(text, Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD))],
        ));
    }
    if let (Some(waiting), Some(aw)) = (waiting, &s.route.awaiting) {
        pieces.push(piece(
            vec![Span::styled(
                format!(" ⟳ Ingress {}/{}, controller {waiting} ", aw.to.old.0, aw.to.new.0),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            )],
            0,
        ));
    }
    if let Some(progress) = progress {
        // What a write in flight waits for: a throttled retry, a change
        // propagating to Route 53's name servers.
        // Its first clause: the rest is in the events when it ends.
        let cut = [" (", "; "].iter().filter_map(|sep| progress.find(sep)).min();
        let text = cut.map_or(progress, |at| &progress[..at]);
        pieces.push(piece(
            vec![Span::styled(format!(" ⟳ {text} "), Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD))],
            0,
        ));
    }
    if let Some(read) = &s.route.read {
        for (tg, w) in &read.others {
            // One the panic button set to 0 takes nothing: shown, not alarming.
            let style = if w.0 == 0 { theme::dim() } else { Style::new().fg(Color::LightRed) };
            pieces.push(piece(vec![Span::styled(format!(" +{tg}={}", w.0), style)], 0));
        }
    }
    pieces.push(piece(
        vec![
            Span::styled(" observed ", theme::dim()),
            Span::raw(s.observed_new.map_or("no data".into(), |p| format!("{p:.1}% new"))),
        ],
        2,
    ));
    if let Some(lag) = dns_lag(app, s) {
        pieces.push(piece(vec![Span::styled(lag.0, lag.1)], 4));
    }
    let elb_style = |elb: Option<f64>| match elb {
        Some(v) if v > 0.0 => Style::new().fg(Color::LightRed),
        Some(_) => Style::new().fg(Color::Green),
        None => theme::dim(),
    };
    let per_min = |elb: Option<f64>| elb.map_or("no data".into(), |v| format!("{}/min", theme::count(v)));
    if s.per_side_lb() {
        // One load balancer a side: its own 5xx are that side's.
        let (old, new) = (s.elb_errors_on(Side::Old), s.elb_errors_on(Side::New));
        pieces.push(piece(
            vec![
                Span::styled("  LB 5xx old ", theme::dim()),
                Span::styled(per_min(old), elb_style(old)),
                Span::styled(" new ", theme::dim()),
                Span::styled(per_min(new), elb_style(new)),
            ],
            3,
        ));
    } else {
        let elb = s.elb_errors();
        pieces
            .push(piece(vec![Span::styled("  ALB 5xx ", theme::dim()), Span::styled(per_min(elb), elb_style(elb))], 3));
    }
    // The bar's width is known once the rest is fitted.
    let widths = columns::fit(&pieces.iter().map(|(c, _)| *c).collect::<Vec<_>>(), width, 0);
    if let Some(w) = widths[bar] {
        let share = s.weights.and_then(|w| s.route.kind().share_new(w));
        pieces[bar].1 = weight_bar(share, usize::from(w - BAR_FIXED));
    }
    columns::line(pieces, width)
}

/// For a DNS route: how far the observed share is from the set share,
/// the TTL, and how long since the weights last changed (`lag 2.7 pts ·
/// TTL 60s · set 3m ago`), yellow while the clients have not followed.
pub fn dns_lag(app: &State, s: &RouteSummary<'_>) -> Option<(String, Style)> {
    let route = s.route;
    route.spec.dns()?;
    let ttl = route.ttl().map_or("TTL ?".to_string(), |t| format!("TTL {t}s"));
    let since = route.weights_since.map(|(at, start)| {
        let age = crate::domain::age(at, app.now);
        if start { format!("set ≥{age} ago") } else { format!("set {age} ago") }
    });
    let gap = match (route.set_share(), s.observed_new) {
        (Some(set), Some(seen)) => Some(seen - set),
        _ => None,
    };
    let mut text = String::from("  ");
    if let Some(gap) = gap {
        text.push_str(&format!("lag {:+.1} pts · ", gap));
    }
    text.push_str(&ttl);
    if let Some(since) = since {
        text.push_str(&format!(" · {since}"));
    }
    let style = match (route.set_share(), s.observed_new) {
        (Some(set), Some(seen)) if !crate::domain::converged(seen, set) => Style::new().fg(Color::Yellow),
        _ => theme::dim(),
    };
    Some((text, style))
}

/// `old ` and ` new  25%` around the bar.
const BAR_FIXED: u16 = 13;
const BAR_MIN: u16 = 8;
const BAR_MAX: u16 = 40;

/// `old ████████▒▒▒▒ new 25%`: each part in its side's colour and its own
/// fill, so the split reads without colour too.
fn weight_bar(share_new: Option<f64>, width: usize) -> Vec<Span<'static>> {
    let Some(pct) = share_new else {
        return vec![Span::styled(format!("old {} new    ", "?".repeat(width)), theme::dim())];
    };
    let new_cells = ((pct / 100.0) * width as f64).round() as usize;
    let old_cells = width - new_cells.min(width);
    vec![
        Span::styled("old ", theme::side(Side::Old)),
        Span::styled(OLD_FILL.repeat(old_cells), theme::side(Side::Old)),
        Span::styled(NEW_FILL.repeat(new_cells.min(width)), theme::side(Side::New)),
        Span::styled(format!(" new {:>3.0}%", pct), theme::side(Side::New)),
    ]
}

/// The two fills of the weight bar.
pub const OLD_FILL: &str = "█";
pub const NEW_FILL: &str = "▒";

fn render_side(s: &RouteSummary<'_>, side: Side, cols: &SideColumns, frame: &mut Frame, area: Rect, stale: bool) {
    let f = *s.figures.get(side);
    let rects = columns::rects(area, &cols.widths, 1);
    let base = if stale { theme::dim() } else { Style::new() };
    let [n_req, n_err, n_lat, n_tg] = cols.numbers;
    let text = |r: Option<Rect>, line: Line<'static>, frame: &mut Frame| {
        if let Some(r) = r {
            frame.render_widget(Paragraph::new(line), r);
        }
    };
    text(rects[0], Line::from(Span::styled(format!("  {side}"), theme::side(side))), frame);
    text(
        rects[1],
        Line::from(vec![
            Span::styled(format!("{:>n_req$}", f.requests.map_or("–".into(), theme::count)), base),
            Span::styled(" req/m", theme::dim()),
        ]),
        frame,
    );
    let rate_health = f.error_rate.map(theme::error_health);
    text(
        rects[2],
        Line::from(vec![
            Span::styled(
                format!("{:>n_err$}", f.error_rate.map_or("–".into(), theme::percent)),
                if stale { base } else { rate_health.map_or(theme::dim(), theme::health) },
            ),
            Span::styled(" 5xx", theme::dim()),
        ]),
        frame,
    );
    text(
        rects[3],
        Line::from(vec![
            Span::styled(format!("{:>n_lat$}", f.latency_ms.map_or("–".into(), |l| format!("{l:.0}"))), base),
            Span::styled(" ms", theme::dim()),
        ]),
        frame,
    );
    let health = s.route.read.as_ref().map(|read| {
        let list = read.targets.get(side);
        let healthy = list.iter().filter(|t| t.state == crate::domain::TargetState::Healthy).count();
        if list.is_empty() {
            Health::Idle
        } else if healthy == list.len() {
            Health::Healthy
        } else if healthy == 0 {
            Health::Failing
        } else {
            Health::Degraded
        }
    });
    let tg_style = match health {
        Some(h) if !stale => theme::health(h),
        Some(_) => base,
        None => theme::dim(),
    };
    text(
        rects[4],
        Line::from(vec![
            Span::styled("tg ", theme::dim()),
            Span::styled(format!("{:<n_tg$}", targets_text(s.route, side)), tg_style),
        ]),
        frame,
    );

    let minutes = cols.minutes();
    let cells = cols.cells();
    let metrics = s.route.metrics.get(side);
    let last = s.minute;
    let colour = if stale {
        theme::DIM
    } else {
        match side {
            Side::Old => theme::OLD,
            Side::New => theme::NEW,
        }
    };
    if let Some(r) = rects[5] {
        let requests: Vec<Option<u64>> =
            metrics.requests.window(last, minutes).into_iter().map(|v| v.map(|v| v.round() as u64)).collect();
        let [label, chart] = Layout::horizontal([Constraint::Length(SPARK_LABEL), Constraint::Min(0)]).areas(r);
        frame.render_widget(Paragraph::new(Span::styled(" req ", theme::dim())), label);
        // Both sides on one scale, so the split of the traffic shows at a glance.
        frame.render_widget(spark(&spread(&requests, cells), Some(requests_max(s, last, minutes)), colour), chart);
    }
    if let Some(r) = rects[6] {
        // In hundredths of a percent; the scale never drops below the warning
        // level, so noise at 0.2% stays a low line, not a wall of bars.
        let errors: Vec<Option<u64>> = error_window(s, side, last, minutes)
            .into_iter()
            .map(|v| v.map(|r| (r * 10_000.0).round() as u64))
            .collect();
        let max = errors.iter().flatten().copied().max().unwrap_or(0).max((theme::ERROR_WARN * 10_000.0) as u64 * 2);
        let worst = errors.iter().flatten().copied().max().unwrap_or(0) as f64 / 10_000.0;
        let err_colour =
            if stale { theme::DIM } else { theme::health(theme::error_health(worst)).fg.unwrap_or(Color::Green) };
        let [label, chart] = Layout::horizontal([Constraint::Length(SPARK_LABEL), Constraint::Min(0)]).areas(r);
        frame.render_widget(Paragraph::new(Span::styled(" 5xx ", theme::dim())), label);
        frame.render_widget(spark(&spread(&errors, cells), Some(max), err_colour), chart);
    }
}

/// The largest request count of either side in the window.
fn requests_max(s: &RouteSummary<'_>, last: Minute, minutes: usize) -> u64 {
    Side::BOTH
        .iter()
        .flat_map(|side| s.route.metrics.get(*side).requests.window(last, minutes))
        .flatten()
        .fold(1.0, f64::max)
        .round() as u64
}

/// Target 5xx share per minute over the sparkline window.
pub fn error_window(s: &RouteSummary<'_>, side: Side, last: Minute, minutes: usize) -> Vec<Option<f64>> {
    let m = s.route.metrics.get(side);
    let requests = m.requests.window(last, minutes);
    let errors = m.target_5xx.window(last, minutes);
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

/// The step's verdict as a route's line shows it: `✓ 5/5 min, ready`,
/// `… 2/5 min`, `? thin traffic, ~14 min`, `✖ FAIL 5xx 3.1% vs old 0.2%`;
/// `◌ blind` while its metrics are stale. None for a route not judged.
pub fn verdict_cell(app: &State, route: &RouteState) -> Option<(String, Style)> {
    use crate::app::Verdict;
    let spec = route.spec.analysis.as_ref()?;
    if let Some(since) = route.blind {
        let text = format!("◌ blind {}", crate::domain::age(since, app.now));
        return Some((text, Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD)));
    }
    let verdict = route.analysis.as_ref().map_or(&Verdict::Waiting, |a| &a.verdict);
    let bake = ((spec.bake_secs + 59) / 60).max(1);
    let style = match verdict {
        Verdict::Ready => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        Verdict::Baking { .. } => Style::new().fg(Color::Green),
        Verdict::Failed(_) => Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD | Modifier::REVERSED),
        Verdict::Failing { .. } => Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
        Verdict::Unsure(_) => Style::new().fg(Color::Yellow),
        Verdict::Waiting => theme::dim(),
    };
    let text = match verdict {
        Verdict::Ready => format!("✓ {bake}/{bake} min, ready"),
        other => other.cell(),
    };
    Some((text, style))
}

/// The autopilot's countdown on a route's line: `◷ 50% in 23s`, `‖
/// autopilot paused`, or what holds it.
pub fn countdown_cell(app: &State, route: &RouteState) -> Option<(String, Style)> {
    let pilot = &route.autopilot;
    let style = Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD);
    if pilot.paused {
        return Some(("‖ autopilot paused".into(), Style::new().fg(Color::Yellow)));
    }
    let c = pilot.countdown.as_ref()?;
    let share = route.kind().share_new(c.to).map_or("?".into(), |s| format!("{s:.0}%"));
    let left = (c.at.as_second() - app.now.as_second()).max(0);
    Some(match &c.held {
        Some(_) if left == 0 => (format!("◷ {share}: held"), style),
        _ => (format!("◷ {share} in {left}s"), style),
    })
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn a_short_history_is_spread_over_the_room() {
        assert_eq!(spread(&[1, 2, 3], 6), vec![1, 1, 2, 2, 3, 3]);
        assert_eq!(spread(&[1, 2, 3], 7), vec![1, 1, 1, 2, 2, 3, 3]);
        assert_eq!(spread(&[1, 2, 3], 3), vec![1, 2, 3]);
        assert!(spread::<u8>(&[], 4).is_empty());
    }
}

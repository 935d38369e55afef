//! The help overlay, generated from the active keymap: every key, then
//! every mark the screen draws. It scrolls when the screen is short.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::app::App;
use crate::domain::Health;
use crate::keymap::{Action, ReplayAction};

use super::theme;

/// The widest the overlay is drawn.
const WIDTH: u16 = 120;
/// Width of the key column.
const KEYS: usize = 14;
/// Below this inner width, keys and legend are one column.
const TWO_COLUMNS: u16 = 110;

/// The keys: one line per action of the keymap.
fn keys(app: &App) -> Vec<Line<'static>> {
    let mut keys = vec![Line::from(Span::styled(format!("keymap: {}", app.keymap.layers.join(" + ")), theme::dim()))];
    for action in Action::ALL {
        let style = if action.mutates() && !app.can_act() { theme::dim() } else { Style::new() };
        let mut text = action.description().to_string();
        if action.mutates() && !app.can_act() {
            text = format!("{text} (read-only here)");
        }
        keys.push(Line::from(vec![
            Span::styled(
                format!("{:>KEYS$}  ", theme::fit(&app.keymap.label(action), KEYS)),
                Style::new().fg(theme::ACCENT),
            ),
            Span::styled(text, style),
        ]));
    }
    keys
}

/// Every glyph the console draws, and how to read it.
pub const GLYPHS: [(&str, &str); 27] = [
    ("≠", "image differs between the sides; the difference underlined"),
    ("◆", "singleton: never on both sides at once"),
    ("‼", "a singleton runs on both sides now"),
    ("?", "that side's source is stale: its figures are old"),
    ("—", "not on this side"),
    ("▲", "warning (events)"),
    ("✖", "alert (events); failing (health)"),
    ("·", "information (events); no data for that minute (never 0)"),
    ("–", "no data (never 0)"),
    ("█ ▒", "weight bar: old's share, new's share"),
    ("│→50", "route chart: the weights moved to 50% new here"),
    ("┊", "route chart: a node signal (drain, interruption) here"),
    ("⟳", "a write awaited: Ingress on the ALB, DNS propagating"),
    ("⚠", "another writer (rule owner, Argo CD, Flux) may undo a change"),
    ("−3 pods", "pods of the workload lost to that node signal"),
    ("⇢", "old cluster ⇢ new cluster"),
    ("→", "steps of a route; old → new in a proposal"),
    ("…", "text left out; a number is never cut, only left out whole"),
    ("▶ ═", "no colour: the focused panel; selection in reverse video"),
    ("ALB 5xx", "the ALB's own 502/503/504, whole ALB"),
    ("observed", "share of requests reaching new, last minute"),
    ("dns", "weighted Route 53 records, one load balancer a side"),
    ("lag", "observed minus set share to new, in points (DNS caches)"),
    ("LB 5xx", "each side's own load balancer's 502/503/504 (dns routes)"),
    ("STALE", "a source stopped answering; its data greyed"),
    ("tg 3/4", "healthy targets of all registered in the target group"),
    ("rst", "container restarts of the workload's pods"),
];

/// A replay's own keys, first: what a replay's viewer presses most.
fn replay_keys(app: &App) -> Vec<Line<'static>> {
    let mut legend = Vec::new();
    if app.replay {
        legend.push(Line::from(Span::styled("replay keys", theme::title())));
        for action in ReplayAction::ALL {
            legend.push(Line::from(vec![
                Span::styled(
                    format!("{:>KEYS$}  ", theme::fit(&app.keymap.replay_label(action), KEYS)),
                    Style::new().fg(theme::ACCENT),
                ),
                Span::raw(action.description()),
            ]));
        }
        legend.push(Line::raw(""));
    }
    legend
}

/// How to read the screen: health, then every glyph.
fn legend() -> Vec<Line<'static>> {
    let mut legend = vec![Line::from(Span::styled("reading the screen", theme::title()))];
    for (h, text) in [
        (Health::Healthy, "healthy"),
        (Health::Degraded, "degraded: not all ready, restarts, 5xx ≥ 1%"),
        (Health::Failing, "failing: nothing ready, crash loop, 5xx ≥ 5%"),
        (Health::Idle, "idle: scaled to zero or suspended on purpose"),
    ] {
        legend.push(Line::from(vec![
            Span::styled(format!("{:>KEYS$}  ", theme::health_symbol(h)), theme::health(h)),
            Span::raw(text),
        ]));
    }
    for (symbol, text) in GLYPHS {
        legend.push(Line::from(vec![
            Span::styled(format!("{symbol:>KEYS$}  "), Style::new().fg(theme::ACCENT)),
            Span::raw(text),
        ]));
    }
    legend
}

/// Lines of the help in one column: what the scroll is clamped to.
pub fn line_count(app: &App) -> usize {
    replay_keys(app).len() + keys(app).len() + 1 + legend().len()
}

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let replay = replay_keys(app);
    let keys = keys(app);
    let legend = legend();
    let width = WIDTH.min(area.width);
    let inner_width = width.saturating_sub(2);
    let right = replay.len() + legend.len();
    let two = inner_width >= TWO_COLUMNS && keys.len().max(right) as u16 + 2 <= area.height;
    let content = if two { keys.len().max(right) } else { replay.len() + keys.len() + 1 + legend.len() };
    let height = (content as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    let visible = usize::from(height.saturating_sub(2));
    let scroll = app.ui.help_scroll.min(content.saturating_sub(visible));
    let km = &app.keymap;
    let hint = if content > visible {
        format!(
            " {}-{} of {}: {}/{} {}/{} {}/{} scroll · {} closes ",
            scroll + 1,
            scroll + visible,
            content,
            km.label(Action::Up),
            km.label(Action::Down),
            km.label(Action::PageUp),
            km.label(Action::PageDown),
            km.label(Action::Top),
            km.label(Action::Bottom),
            km.label(Action::Help)
        )
    } else {
        format!(" {} closes ", km.label(Action::Help))
    };
    let block = theme::panel(true)
        .title(Span::styled(" help ", theme::title()))
        .title_bottom(Span::styled(hint, theme::dim()))
        .border_style(Style::new().fg(theme::ACCENT));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if two {
        let [left, right] = Layout::horizontal([Constraint::Length(60), Constraint::Min(20)]).areas(inner);
        frame.render_widget(Paragraph::new(keys), left);
        frame.render_widget(Paragraph::new([replay, legend].concat()), right);
    } else {
        let mut lines = replay;
        lines.extend(keys);
        lines.push(Line::raw(""));
        lines.extend(legend);
        // Lines are cut, not wrapped, so the scroll counts lines as drawn.
        let lines: Vec<Line> = lines.into_iter().skip(scroll).take(visible).collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

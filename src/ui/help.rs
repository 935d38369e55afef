//! The help overlay, generated from the active keymap: keys on the left,
//! how to read the screen on the right.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::App;
use crate::domain::Health;
use crate::keymap::{Action, ReplayAction};

use super::theme;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let mut keys = vec![Line::from(Span::styled(format!("keymap: {}", app.keymap.layers.join(" + ")), theme::dim()))];
    for action in Action::ALL {
        let style = if action.mutates() && !app.can_act() { theme::dim() } else { Style::new() };
        let mut text = action.description().to_string();
        if action.mutates() && !app.can_act() {
            text = format!("{text} (read-only here)");
        }
        keys.push(Line::from(vec![
            Span::styled(
                format!("{:>14}  ", theme::fit(&app.keymap.label(action), 14)),
                Style::new().fg(theme::ACCENT),
            ),
            Span::styled(text, style),
        ]));
    }

    let mut legend = Vec::new();
    if app.replay {
        legend.push(Line::from(Span::styled("replay keys", theme::title())));
        for action in ReplayAction::ALL {
            legend.push(Line::from(vec![
                Span::styled(
                    format!("{:>11}  ", theme::fit(&app.keymap.replay_label(action), 11)),
                    Style::new().fg(theme::ACCENT),
                ),
                Span::raw(action.description()),
            ]));
        }
        legend.push(Line::raw(""));
    }
    legend.push(Line::from(Span::styled("reading the screen", theme::title())));
    for (h, text) in [
        (Health::Healthy, "healthy"),
        (Health::Degraded, "degraded: not all ready, restarts, 5xx ≥ 1%"),
        (Health::Failing, "failing: nothing ready, crash loop, 5xx ≥ 5%"),
        (Health::Idle, "idle: scaled to zero or suspended on purpose"),
    ] {
        legend.push(Line::from(vec![
            Span::styled(format!("{:>8}  ", theme::health_symbol(h)), theme::health(h)),
            Span::raw(text),
        ]));
    }
    for (symbol, text) in [
        ("≠", "image differs between the sides"),
        ("◆", "singleton: never on both sides at once"),
        ("‼", "a singleton runs on both sides now"),
        ("·  –", "no data for that minute (never 0)"),
        ("ALB 5xx", "the ALB's own 502/503/504, whole ALB"),
        ("observed", "share of requests reaching new, last minute"),
        ("STALE", "a source stopped answering; its data greyed"),
    ] {
        legend.push(Line::from(vec![
            Span::styled(format!("{symbol:>8}  "), Style::new().fg(theme::ACCENT)),
            Span::raw(text),
        ]));
    }

    let height = (keys.len().max(legend.len()) as u16 + 2).min(area.height);
    let width = 116.min(area.width);
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(" help ", theme::title()))
        .title_bottom(Span::styled(format!(" {} closes ", app.keymap.label(Action::Help)), theme::dim()))
        .border_style(Style::new().fg(theme::ACCENT));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [left, right] = Layout::horizontal([Constraint::Length(60), Constraint::Min(20)]).areas(inner);
    frame.render_widget(Paragraph::new(keys), left);
    frame.render_widget(Paragraph::new(legend).wrap(Wrap { trim: false }), right);
}

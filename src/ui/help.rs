//! The help overlay, generated from the active keymap.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::App;
use crate::domain::Health;
use crate::keymap::Action;

use super::theme;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let mut lines = vec![Line::from(Span::styled(format!("keymap: {}", app.keymap.layers.join(" + ")), theme::dim()))];
    lines.push(Line::raw(""));
    for action in Action::ALL {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>18}  ", app.keymap.label(action)), Style::new().fg(theme::ACCENT)),
            Span::raw(action.description()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled("reading the screen", theme::title())));
    let legend = [
        (Health::Healthy, "healthy"),
        (Health::Degraded, "degraded: not all ready, restarts, 5xx ≥ 1%"),
        (Health::Failing, "failing: nothing ready, crash loop, 5xx ≥ 5%"),
        (Health::Idle, "idle: scaled to zero or suspended on purpose"),
    ];
    for (h, text) in legend {
        lines.push(Line::from(vec![
            Span::styled(format!("{:>18}  ", theme::health_symbol(h)), theme::health(h)),
            Span::raw(text),
        ]));
    }
    for (symbol, text) in [
        ("≠", "image differs between old and new: a deploy reached one side only"),
        ("◆", "singleton: must never run on both sides at once"),
        ("‼", "a singleton is running on both sides now"),
        ("·", "no data for that minute (never shown as 0)"),
        ("ALB 5xx", "errors the load balancer made itself (502/503/504), for the whole ALB"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("{symbol:>18}  "), Style::new().fg(theme::ACCENT)),
            Span::raw(text),
        ]));
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(88.min(area.width))]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(" help ", theme::title()))
        .title_bottom(Span::styled(format!(" {} closes ", app.keymap.label(Action::Help)), theme::dim()))
        .border_style(Style::new().fg(theme::ACCENT));
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

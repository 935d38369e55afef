use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, SourceId, SourceState};
use crate::domain::{Side, age, clock};

use super::theme;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let mode = app.config.mode;
    let mut top = vec![
        Span::styled(" cutover ", Style::new().fg(Color::Black).bg(theme::ACCENT).add_modifier(Modifier::BOLD)),
        Span::raw(" "),
        Span::styled(
            if app.replay { format!(" REPLAY of {} ", mode.label()) } else { format!(" {} ", mode.label()) },
            Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        Span::raw("  "),
        Span::styled(app.config.title.clone(), theme::title()),
        Span::raw("   "),
    ];
    for side in Side::BOTH {
        let meta = app.config.clusters.get(side);
        top.push(Span::styled(format!("{side} "), theme::side(side).add_modifier(Modifier::BOLD)));
        if meta.version.is_empty() {
            top.push(Span::raw(meta.name.clone()));
        } else {
            top.push(Span::raw(format!("{} ({})", meta.name, meta.version)));
        }
        if side == Side::Old {
            top.push(Span::styled("  ⇢  ", theme::dim()));
        }
    }
    top.push(Span::raw("   "));
    top.push(Span::styled(format!("{} UTC", clock(app.now)), theme::title()));

    let banner = if app.replay {
        format!(" recorded session of {}: read-only, nothing here reaches a cluster ", app.operator)
    } else {
        format!(" {} ", mode.banner())
    };
    let mut second = vec![Span::styled(banner, Style::new().fg(Color::Yellow)), Span::raw("  ")];
    for (id, state) in &app.sources {
        let (text, style) = match state {
            SourceState::Connecting => ("connecting".to_string(), Style::new().fg(Color::Gray)),
            // A watch is live until it fails; a poller's age says how old its data is.
            SourceState::Live { .. } if matches!(id, SourceId::Cluster(_) | SourceId::Simulator) => {
                ("live".to_string(), Style::new().fg(Color::Green))
            }
            SourceState::Live { last_ok } => (format!("{} ago", age(*last_ok, app.now)), Style::new().fg(Color::Green)),
            SourceState::Stale { since, error, .. } => (
                format!("STALE {} ({})", age(*since, app.now), theme::fit(error, 40)),
                Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
            ),
        };
        second.push(Span::styled(format!("{}: ", id.label()), theme::dim()));
        second.push(Span::styled(text, style));
        second.push(Span::raw("  "));
    }
    frame.render_widget(Paragraph::new(vec![Line::from(top), Line::from(second)]), area);
}

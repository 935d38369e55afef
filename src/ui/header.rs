use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{AlarmKind, App, SourceId, SourceState};
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
            SourceState::Stale { since, error, .. } if error.contains(crate::sources::aws::THROTTLED) => (
                format!("THROTTLED, retrying ({} old)", app.sources_age(*id).unwrap_or_else(|| age(*since, app.now))),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            SourceState::Stale { since, error, .. } => (
                format!("STALE {} ({})", age(*since, app.now), theme::fit(error, 40)),
                Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
            ),
        };
        second.push(Span::styled(format!("{}: ", id.label()), theme::dim()));
        second.push(Span::styled(text, style));
        second.push(Span::raw("  "));
    }
    let mut lines = vec![Line::from(top), Line::from(second)];
    lines.extend(alarm_line(app));
    frame.render_widget(Paragraph::new(lines), area);
}

/// Lines the header needs: a third for the alarm banner when a singleton
/// runs where it must not.
pub fn height(app: &App) -> u16 {
    2 + u16::from(!app.alarms.is_empty())
}

/// The alarm banner: every singleton that runs on neither side or on
/// both, for how long, and the key that proposes the fix.
fn alarm_line(app: &App) -> Option<Line<'static>> {
    if app.alarms.is_empty() {
        return None;
    }
    let style = Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD);
    let mut spans = vec![Span::styled(" ‼ SINGLETON ALARM ", style)];
    for (name, alarm) in &app.alarms {
        let what = match alarm.kind {
            AlarmKind::Neither => "runs on NEITHER side",
            AlarmKind::Both => "runs on BOTH sides",
        };
        spans.push(Span::styled(
            format!(" {name} {what} for {} ", age(alarm.since, app.now)),
            Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    spans.push(Span::styled(
        format!("  select it and press {} for the fix", app.keymap.label(crate::keymap::Action::Handoff)),
        Style::new().fg(Color::LightRed),
    ));
    Some(Line::from(spans))
}

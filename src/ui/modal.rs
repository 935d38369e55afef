//! Proposals waiting for `y`, the percentage input, the handoff strip and
//! the last refusal: everything about acting, drawn over the console.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::actions::{gap_secs, pods_still_running};
use crate::app::{App, HandoffPhase, Modal};
use crate::keymap::Action;

use super::theme;

pub fn render_modal(app: &App, frame: &mut Frame, area: Rect) {
    let Some(modal) = &app.modal else { return };
    let km = &app.keymap;
    let (title, mut lines, border) = match modal {
        Modal::Proposal(p) => {
            let mut lines: Vec<Line> = p.lines.iter().map(|l| Line::raw(format!(" {l}"))).collect();
            lines.push(Line::raw(""));
            let confirm = match (p.needed, p.given) {
                (1, _) => format!(" {} apply", km.label(Action::Confirm)),
                (_, 0) => format!(
                    " {} then {} apply (2 confirmations)",
                    km.label(Action::Confirm),
                    km.label(Action::ConfirmAgain)
                ),
                _ => format!(
                    " {} apply (second confirmation; {} again is not taken)",
                    km.label(Action::ConfirmAgain),
                    km.label(Action::Confirm)
                ),
            };
            lines.push(Line::from(vec![
                Span::styled(confirm, Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)),
                Span::raw("    "),
                Span::styled(format!("{}/esc cancel", km.label(Action::Cancel)), theme::dim()),
            ]));
            (format!(" PROPOSAL: {} ", p.title), lines, Color::Yellow)
        }
        Modal::Percent(input) => {
            let name = app.routes.get(input.route).map_or("?", |r| r.spec.name.as_str());
            let lines = vec![
                Line::raw(format!(" percent of route {name}'s traffic to new (0-100):")),
                Line::from(Span::styled(format!(" {}█", input.text), Style::new().add_modifier(Modifier::BOLD))),
                Line::from(Span::styled(" enter proposes, esc cancels", theme::dim())),
            ];
            (" set percentage ".to_string(), lines, theme::ACCENT)
        }
        Modal::Quit(what) => {
            let mut lines: Vec<Line> = what.iter().map(|l| Line::raw(format!(" {l}"))).collect();
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled(
                    format!(" {} quit anyway", km.label(Action::Confirm)),
                    Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
                ),
                Span::raw("    "),
                Span::styled("any other key: stay", theme::dim()),
            ]));
            (" QUIT NOW? something is in flight ".to_string(), lines, Color::LightRed)
        }
    };
    if app.config.mode == crate::app::Mode::DryRun {
        lines.insert(0, Line::from(Span::styled(" dry run: nothing will be sent", Style::new().fg(Color::Yellow))));
    }
    let height = lines.len() as u16 + 2;
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(80.min(area.width))]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(title, Style::new().fg(border).add_modifier(Modifier::BOLD)))
        .border_style(Style::new().fg(border));
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

/// One line: where the handoff is and how long the gap has been.
pub fn handoff_line(app: &App) -> Option<Line<'static>> {
    let h = app.handoff.as_ref()?;
    let end = if h.phase.finished() { h.ready_at.unwrap_or(app.now) } else { app.now };
    let elapsed = crate::domain::age(h.started, end);
    let step = match &h.phase {
        HandoffPhase::Stopping => format!("stopping {}…", h.from),
        HandoffPhase::WaitingGone => {
            let left = pods_still_running(app, h.from, h.spec.key(h.from));
            format!("waiting for {} to run nothing ({left} pod(s) left)", h.from)
        }
        HandoffPhase::Starting => format!("starting {}…", h.to),
        HandoffPhase::WaitingReady => format!("waiting for {} to be ready", h.to),
        HandoffPhase::Done => "done".into(),
        HandoffPhase::Aborting => format!("aborting: restoring {}", h.from),
        HandoffPhase::Aborted => format!("aborted; {} restored", h.from),
        HandoffPhase::Failed(reason) => format!("STOPPED: {reason}"),
        HandoffPhase::Refused(reason) => format!("not begun: {reason}"),
        HandoffPhase::StartFailed(reason) => format!(
            "RUNS ON NEITHER SIDE: {reason} ({}: retry the start, {}: restore {})",
            app.keymap.label(Action::Handoff),
            app.keymap.label(Action::Abort),
            h.from
        ),
    };
    let style = match &h.phase {
        HandoffPhase::Failed(_) | HandoffPhase::StartFailed(_) | HandoffPhase::Refused(_) => {
            Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD)
        }
        HandoffPhase::Done | HandoffPhase::Aborted => Style::new().fg(Color::Green),
        _ => Style::new().fg(Color::Yellow),
    };
    let mut spans = vec![
        Span::styled(
            format!(" handoff {} {} → {} ", h.spec.name, h.from, h.to),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("{elapsed}: "), theme::dim()),
        Span::styled(step, style),
    ];
    if let Some(gap) = gap_secs(h, app.now) {
        spans.push(Span::styled(
            format!("   gap {gap}s"),
            Style::new().fg(Color::LightMagenta).add_modifier(Modifier::BOLD),
        ));
    }
    Some(Line::from(spans))
}

pub fn notice_line(app: &App) -> Option<Line<'static>> {
    let n = app.notice.as_ref()?;
    Some(Line::from(Span::styled(format!(" ✖ {n}"), Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD))))
}

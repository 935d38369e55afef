//! Drawing: `render(&App, &mut Frame)` reads the state and nothing else.
//! One file per panel or view.

pub mod events;
pub mod find;
pub mod header;
pub mod help;
pub mod modal;
pub mod route_view;
pub mod theme;
pub mod timeline;
pub mod traffic;
pub mod workload_view;
pub mod workloads;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, View};
use crate::keymap::Action;

/// The smallest screen every panel is designed for.
pub const MIN_WIDTH: u16 = 120;
pub const MIN_HEIGHT: u16 = 32;

pub fn render(app: &App, frame: &mut Frame) {
    render_in(app, frame, frame.area());
}

/// The console in `area`: the whole screen, or above a replay's timeline.
pub fn render_in(app: &App, frame: &mut Frame, area: ratatui::layout::Rect) {
    app.screen.0.borrow_mut().clear();
    let strip: Vec<Line> = [modal::handoff_line(app), modal::notice_line(app)].into_iter().flatten().collect();
    let [header_area, body, strip_area, footer] = Layout::vertical([
        Constraint::Length(header::height(app)),
        Constraint::Min(5),
        Constraint::Length(strip.len() as u16),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(strip), strip_area);
    header::render(app, frame, header_area);
    match &app.ui.view {
        View::Main => {
            let [traffic_area, lower] =
                Layout::vertical([Constraint::Length(traffic::height(app)), Constraint::Min(3)]).areas(body);
            traffic::render(app, frame, traffic_area);
            let [workloads_area, events_area] =
                Layout::horizontal([Constraint::Length(workloads::WIDTH), Constraint::Min(20)]).areas(lower);
            workloads::render(app, frame, workloads_area);
            events::render(app, frame, events_area);
        }
        View::Route(i) => route_view::render(app, *i, frame, body),
        View::Workload(key) => workload_view::render(app, key, frame, body),
    }
    render_footer(app, frame, footer);
    if app.ui.help {
        help::render(app, frame, body);
    }
    modal::render_modal(app, frame, body);
    // The terminal's size, not the area's: a replay gives the console all
    // but the timeline's two rows.
    let screen = frame.area();
    if screen.width < MIN_WIDTH || screen.height < MIN_HEIGHT {
        let warning = format!(
            " terminal {}x{}: cutover is laid out for {MIN_WIDTH}x{MIN_HEIGHT} or larger ",
            screen.width, screen.height
        );
        frame.render_widget(
            Paragraph::new(Span::styled(warning, theme::health(crate::domain::Health::Degraded))),
            footer,
        );
    }
}

fn render_footer(app: &App, frame: &mut Frame, area: ratatui::layout::Rect) {
    let km = &app.keymap;
    let hints: &[(Action, &str)] = match app.ui.view {
        View::Main if app.can_act() => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::NextPanel, "panel"),
            (Action::Open, "open"),
            (Action::StepUp, "step up"),
            (Action::StepDown, "down"),
            (Action::Revert, "undo"),
            (Action::RevertAll, "ALL old"),
            (Action::Handoff, "handoff"),
        ],
        View::Main => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::NextPanel, "panel"),
            (Action::Down, "down"),
            (Action::Up, "up"),
            (Action::Open, "open"),
        ],
        _ => &[(Action::Back, "back"), (Action::Down, "scroll"), (Action::Help, "help"), (Action::Quit, "quit")],
    };
    let mut spans = Vec::new();
    for (action, label) in hints {
        let keys = km.keys(*action).first().map(ToString::to_string).unwrap_or_else(|| "unbound".into());
        spans.push(Span::styled(format!(" {keys} "), theme::key_hint()));
        spans.push(Span::styled(format!(" {label}  "), theme::dim()));
    }
    if app.replay {
        spans.push(Span::styled("replay: read-only, the timeline's keys are below", theme::dim()));
    } else if app.config.mode == crate::app::Mode::Watch {
        spans.push(Span::styled("read-only: traffic and handoff actions exist only in `cutover run`", theme::dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

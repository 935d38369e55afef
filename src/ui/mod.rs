//! Drawing: `render` reads a session's state and a view of it
//! ([`Shown`]), and nothing else. One file per panel or view.

pub mod columns;
pub mod events;
pub mod find;
pub mod header;
pub mod help;
pub mod modal;
pub mod route_view;
pub mod theme;
pub mod traffic;
pub mod workload_view;
pub mod workloads;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, Panel, Screen, State, UiState, View};
use crate::keymap::{Action, Keymap};

/// The smallest screen every panel is designed for: below it the console
/// still draws, and says so.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Below this width the workloads and events panels are stacked, not side
/// by side.
const SIDE_BY_SIDE: u16 = 110;
/// The narrowest the events panel is drawn beside the workloads.
const EVENTS_MIN: u16 = 36;

/// What a frame is drawn from: a session's state, and one view of it (the
/// selection, drill-down, filters and help, the keys the screen names, and
/// the map the frame leaves for the mouse). The console draws its state
/// with its own view (`From<&App>`); a replay draws the recorded state with
/// its viewer's, so nothing is swapped into the recorded console.
#[derive(Clone, Copy)]
pub struct Shown<'a> {
    pub app: &'a State,
    pub ui: &'a UiState,
    pub keymap: &'a Keymap,
    pub screen: &'a Screen,
}

impl<'a> From<&'a App> for Shown<'a> {
    fn from(app: &'a App) -> Shown<'a> {
        Shown { app: &app.state, ui: &app.ui, keymap: &app.keymap, screen: &app.screen }
    }
}

/// Where everything is on the screen: what `render` draws into. (A click
/// is mapped back through what the panels registered as they drew, see
/// `app::pointer::ScreenMap`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub header: Rect,
    /// Everything between the header and the strip: the panels or a drill-down.
    pub body: Rect,
    /// The handoff's progress and the last refusal, when there are any.
    pub strip: Rect,
    pub footer: Rect,
    /// The main view's panels; `None` in a drill-down.
    pub traffic: Option<Rect>,
    pub workloads: Option<Rect>,
    pub events: Option<Rect>,
}

/// The layout of the console in `area`, from the state and its view alone.
pub fn layout<'a>(view: impl Into<Shown<'a>>, area: Rect) -> Areas {
    let s = view.into();
    let app = s.app;
    let strip = [modal::handoff_line(s), modal::notice_line(app)].iter().flatten().count() as u16;
    let [header, body, strip, footer] = Layout::vertical([
        Constraint::Length(header::height(app)),
        Constraint::Min(5),
        Constraint::Length(strip),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut areas = Areas { header, body, strip, footer, ..Areas::default() };
    if s.ui.view != View::Main {
        return areas;
    }
    let [traffic, lower] = Layout::vertical([Constraint::Length(traffic::height(app)), Constraint::Min(6)]).areas(body);
    let (workloads, events) = if lower.width >= SIDE_BY_SIDE {
        // The workloads take what their columns want, the events the rest.
        let want = workloads::want_width(app).min(lower.width - EVENTS_MIN);
        let [w, e] = Layout::horizontal([Constraint::Length(want), Constraint::Min(EVENTS_MIN)]).areas(lower);
        (w, e)
    } else {
        // Stacked: the focused one of the two gets the larger share.
        let small = (lower.height / 3).max(4).min(lower.height);
        let (w, e) = if s.ui.focus == Panel::Events {
            (Constraint::Length(small), Constraint::Min(0))
        } else {
            (Constraint::Min(0), Constraint::Length(small))
        };
        let [w, e] = Layout::vertical([w, e]).areas(lower);
        (w, e)
    };
    areas.traffic = Some(traffic);
    areas.workloads = Some(workloads);
    areas.events = Some(events);
    areas
}

/// The console on the whole screen, as its operator sees it.
pub fn render(app: &App, frame: &mut Frame) {
    render_in(Shown::from(app), frame, frame.area());
}

/// A session's state with a view of it, in `area`: the whole screen, or
/// above a replay's timeline.
pub fn render_in(s: Shown, frame: &mut Frame, area: Rect) {
    let app = s.app;
    s.screen.0.borrow_mut().clear();
    let areas = layout(s, area);
    let strip: Vec<Line> = [modal::handoff_line(s), modal::notice_line(app)].into_iter().flatten().collect();
    frame.render_widget(Paragraph::new(strip), areas.strip);
    header::render(s, frame, areas.header);
    match &s.ui.view {
        View::Main => {
            if let (Some(t), Some(w), Some(e)) = (areas.traffic, areas.workloads, areas.events) {
                traffic::render(s, frame, t);
                workloads::render(s, frame, w);
                events::render(s, frame, e);
            }
        }
        View::Route(i) => route_view::render(app, *i, frame, areas.body),
        View::Workload(key) => workload_view::render(s, key, frame, areas.body),
    }
    render_footer(s, frame, areas.footer);
    if s.ui.help {
        help::render(s, frame, areas.body);
    }
    modal::render_modal(s, frame, areas.body, area);
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
            areas.footer,
        );
    }
    theme::strip_colour(frame.buffer_mut(), area);
}

fn render_footer(s: Shown, frame: &mut Frame, area: ratatui::layout::Rect) {
    let (app, km) = (s.app, s.keymap);
    let hints: &[(Action, &str)] = match s.ui.view {
        // Another console drives: what is left to this one.
        View::Main if app.can_act() && !app.drives() => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::NextPanel, "panel"),
            (Action::Open, "open"),
            (Action::RevertAll, "ALL old"),
            (Action::TakeWheel, "take the wheel"),
            (Action::Find, "find"),
        ],
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
            (Action::Find, "find"),
        ],
        View::Main => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::NextPanel, "panel"),
            (Action::Find, "find"),
            (Action::Down, "down"),
            (Action::Up, "up"),
            (Action::Open, "open"),
        ],
        _ => &[
            (Action::Back, "back"),
            (Action::Down, "scroll"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
            (Action::Find, "find"),
        ],
    };
    // Hints that do not fit are left out whole, from the right; the help
    // lists every key.
    let mut pieces = Vec::new();
    for (i, (action, label)) in hints.iter().enumerate() {
        let keys = km.keys(*action).first().map(ToString::to_string).unwrap_or_else(|| "unbound".into());
        let spans = vec![
            Span::styled(format!(" {keys} "), theme::key_hint()),
            Span::styled(format!(" {label}  "), theme::dim()),
        ];
        let width = spans.iter().map(|s| columns::width(&s.content)).sum();
        pieces.push((columns::Col::fixed(width, if i < 2 { 0 } else { i as u8 }), spans));
    }
    let note = if app.replay {
        Some("replay: read-only, the timeline's keys are below")
    } else if app.config.mode == crate::app::Mode::Watch {
        Some("read-only: traffic and handoff actions exist only in `cutover run`")
    } else {
        None
    };
    // After the keys: the header says read-only too.
    if let Some(note) = note {
        pieces.push((columns::Col::text(10, columns::width(note), u8::MAX), vec![Span::styled(note, theme::dim())]));
    }
    frame.render_widget(Paragraph::new(columns::line(pieces, area.width)), area);
}

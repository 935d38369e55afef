//! Moving around the screen: the selection, the panels, the drill-downs,
//! the help and its scroll. Nothing here changes the world, so `update`,
//! the filter line and the mouse all move with it, and a replay's viewer
//! moves its own screen with it.
//!
//! A move changes a view ([`UiState`]) against a state it only reads; what
//! it asks of the session besides (to quit, the notice line) it hands back
//! as [`Moved`], for the console to apply and a replay's viewer to leave.

use crate::keymap::Action;

use super::{App, Panel, State, UiState, View, find};

/// What a move asks of the session besides its view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Moved {
    /// `q`, or Ctrl-C in the filter line: the console ends.
    pub quit: bool,
    pub notice: Notice,
}

/// What a move does to the notice line (the last refusal or failure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Notice {
    /// Left as it is (the help is over it).
    #[default]
    Keep,
    /// Gone: the operator has moved on.
    Clear,
    /// Why the move could not be made.
    Say(String),
}

impl Moved {
    /// This move, then `later`.
    pub fn then(self, later: Moved) -> Moved {
        let notice = match later.notice {
            Notice::Keep => self.notice,
            notice => notice,
        };
        Moved { quit: self.quit || later.quit, notice }
    }

    /// Applies to the session what the move asks of it.
    pub fn apply(self, app: &mut State) {
        if self.quit {
            app.quit = true;
        }
        match self.notice {
            Notice::Keep => {}
            Notice::Clear => app.notice = None,
            Notice::Say(text) => app.notice = Some(text),
        }
    }
}

/// A move of the console's own view, and what it asks of the session.
pub fn on_console(app: &mut App, action: Action) {
    let App { state, ui, .. } = app;
    navigate(state, ui, action).apply(state);
}

/// The actions that only move around the screen: quit, help, selection,
/// panels and drill-downs. A replay applies its viewer's keys with this and
/// nothing else, so no key of the viewer can reach an action.
pub fn navigate(app: &State, ui: &mut UiState, action: Action) -> Moved {
    // The help scrolls when it is longer than the screen; at most as far as
    // the smallest screen needs (the drawing clamps it to the one it has).
    let help_end = if ui.help { super::help::line_count(app.replay).saturating_sub(HELP_PAGE) } else { 0 };
    if ui.help {
        let scroll = ui.help_scroll.min(help_end);
        let mut moved = Moved::default();
        match action {
            Action::Help | Action::Back => ui.help = false,
            Action::Quit => moved.quit = true,
            Action::Up => ui.help_scroll = scroll.saturating_sub(1),
            Action::Down => ui.help_scroll = (scroll + 1).min(help_end),
            Action::PageUp => ui.help_scroll = scroll.saturating_sub(PAGE),
            Action::PageDown => ui.help_scroll = (scroll + PAGE).min(help_end),
            Action::Top => ui.help_scroll = 0,
            Action::Bottom => ui.help_scroll = help_end,
            _ => {}
        }
        return moved;
    }
    let mut moved = Moved { quit: false, notice: Notice::Clear };
    // Esc clears a filter before it leaves a drill-down.
    if action == Action::Back && find::clear_on_back(ui) {
        return moved;
    }
    match action {
        Action::Quit => moved.quit = true,
        Action::Help => {
            ui.help = true;
            ui.help_scroll = 0;
        }
        Action::Back => {
            ui.view = View::Main;
            ui.detail_scroll = 0;
        }
        Action::Find => {
            if let Err(why) = find::open(ui) {
                moved.notice = Notice::Say(why);
            }
        }
        Action::ProblemsOnly => {
            ui.find.problems_only = !ui.find.problems_only;
            ui.selected[Panel::Workloads.index()] = 0;
            ui.selected[Panel::Events.index()] = 0;
            ui.detail_scroll = 0;
        }
        Action::Sort => ui.find.sort = ui.find.sort.next(),
        Action::Open => open_selected(app, ui),
        Action::NextPanel | Action::PrevPanel if ui.view == View::Main => {
            let i = ui.focus.index();
            let next = if action == Action::NextPanel { i + 1 } else { i + 2 };
            ui.focus = Panel::ORDER[next % Panel::ORDER.len()];
        }
        Action::NextPanel | Action::PrevPanel => {}
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            move_selection(app, ui, action)
        }
        // Confirm and cancel without a proposal open have nothing to act
        // on; the actions that change the world were handled above.
        _ => {}
    }
    moved
}

/// Rows a page-move skips: about a panel's height at 120x32.
const PAGE: usize = 10;
/// Lines of the help an 80x24 screen shows.
const HELP_PAGE: usize = 19;

pub fn move_selection(app: &State, ui: &mut UiState, action: Action) {
    let len = match (&ui.view, ui.focus) {
        (View::Main, panel) => app.visible_len(panel, &ui.find),
        (View::Route(_), _) | (View::Workload(_), _) => usize::MAX,
    };
    let current = match ui.view {
        View::Main => ui.selected[ui.focus.index()],
        _ => ui.detail_scroll,
    };
    let last = len.saturating_sub(1);
    let next = match action {
        Action::Up => current.saturating_sub(1),
        Action::Down => current.saturating_add(1).min(last),
        Action::PageUp => current.saturating_sub(PAGE),
        Action::PageDown => current.saturating_add(PAGE).min(last),
        Action::Top => 0,
        Action::Bottom if len == usize::MAX => current,
        Action::Bottom => last,
        _ => current,
    };
    match ui.view {
        View::Main => ui.selected[ui.focus.index()] = next,
        // The drill-down clamps the scroll to its content when drawing.
        _ => ui.detail_scroll = next,
    }
}

fn open_selected(app: &State, ui: &mut UiState) {
    if ui.view != View::Main {
        return;
    }
    let selected = ui.selected[ui.focus.index()];
    ui.detail_scroll = 0;
    match ui.focus {
        Panel::Traffic if selected < app.routes.len() => ui.view = View::Route(selected),
        Panel::Workloads => {
            if let Some(key) = app.visible_workload_keys(&ui.find).get(selected) {
                ui.view = View::Workload(key.clone());
            }
        }
        _ => {}
    }
}

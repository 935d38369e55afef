//! Moving around the screen: the selection, the panels, the drill-downs,
//! the help and its scroll. Nothing here changes the world, so `update`,
//! the filter line and the mouse all move with it, and a replay's viewer
//! moves its own screen with it.

use crate::keymap::Action;

use super::{App, Panel, View, find};

/// The actions that only move around the screen: quit, help, selection,
/// panels and drill-downs. A replay applies its viewer's keys with this and
/// nothing else, so no key of the viewer can reach an action.
pub fn navigate(app: &mut App, action: Action) {
    // The help scrolls when it is longer than the screen; at most as far as
    // the smallest screen needs (the drawing clamps it to the one it has).
    let help_end = if app.ui.help { super::help::line_count(app.replay).saturating_sub(HELP_PAGE) } else { 0 };
    let ui = &mut app.ui;
    if ui.help {
        let scroll = ui.help_scroll.min(help_end);
        match action {
            Action::Help | Action::Back => ui.help = false,
            Action::Quit => app.quit = true,
            Action::Up => ui.help_scroll = scroll.saturating_sub(1),
            Action::Down => ui.help_scroll = (scroll + 1).min(help_end),
            Action::PageUp => ui.help_scroll = scroll.saturating_sub(PAGE),
            Action::PageDown => ui.help_scroll = (scroll + PAGE).min(help_end),
            Action::Top => ui.help_scroll = 0,
            Action::Bottom => ui.help_scroll = help_end,
            _ => {}
        }
        return;
    }
    app.notice = None;
    // Esc clears a filter before it leaves a drill-down.
    if action == Action::Back && find::clear_on_back(app) {
        return;
    }
    let ui = &mut app.ui;
    match action {
        Action::Quit => app.quit = true,
        Action::Help => {
            ui.help = true;
            ui.help_scroll = 0;
        }
        Action::Back => {
            ui.view = View::Main;
            ui.detail_scroll = 0;
        }
        Action::Find => find::open(app),
        Action::ProblemsOnly => {
            ui.find.problems_only = !ui.find.problems_only;
            ui.selected[Panel::Workloads.index()] = 0;
            ui.selected[Panel::Events.index()] = 0;
            ui.detail_scroll = 0;
        }
        Action::Sort => ui.find.sort = ui.find.sort.next(),
        Action::Open => open_selected(app),
        Action::NextPanel | Action::PrevPanel if ui.view == View::Main => {
            let i = ui.focus.index();
            let next = if action == Action::NextPanel { i + 1 } else { i + 2 };
            ui.focus = Panel::ORDER[next % Panel::ORDER.len()];
        }
        Action::NextPanel | Action::PrevPanel => {}
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom => {
            move_selection(app, action)
        }
        // Confirm and cancel without a proposal open have nothing to act
        // on; the actions that change the world were handled above.
        _ => {}
    }
}

/// Rows a page-move skips: about a panel's height at 120x32.
const PAGE: usize = 10;
/// Lines of the help an 80x24 screen shows.
const HELP_PAGE: usize = 19;

pub fn move_selection(app: &mut App, action: Action) {
    let len = match (&app.ui.view, app.ui.focus) {
        (View::Main, panel) => app.visible_len(panel),
        (View::Route(_), _) | (View::Workload(_), _) => usize::MAX,
    };
    let current = match app.ui.view {
        View::Main => app.ui.selected[app.ui.focus.index()],
        _ => app.ui.detail_scroll,
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
    match app.ui.view {
        View::Main => app.ui.selected[app.ui.focus.index()] = next,
        // The drill-down clamps the scroll to its content when drawing.
        _ => app.ui.detail_scroll = next,
    }
}

fn open_selected(app: &mut App) {
    if app.ui.view != View::Main {
        return;
    }
    let selected = app.ui.selected[app.ui.focus.index()];
    app.ui.detail_scroll = 0;
    match app.ui.focus {
        Panel::Traffic if selected < app.routes.len() => app.ui.view = View::Route(selected),
        Panel::Workloads => {
            if let Some(key) = app.visible_workload_keys().get(selected) {
                app.ui.view = View::Workload(key.clone());
            }
        }
        _ => {}
    }
}

//! The mouse: a click selects a row or a panel, a double click opens, the
//! wheel scrolls.
//!
//! Drawing registers where each panel and row went ([`ScreenMap`]); a
//! press is resolved against it into a [`Pointer`] before it is recorded,
//! so a recording holds what was clicked, not where, and replays the same
//! whatever the replaying terminal's size.

use std::cell::RefCell;

use ratatui::layout::{Position, Rect};
use serde::{Deserialize, Serialize};

use super::{App, Moved, Panel, State, UiState, View, moves};

/// What a mouse event meant, once resolved against the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pointer {
    /// A click on a panel, on one of its rows or not.
    Select { panel: Panel, row: Option<usize> },
    /// A double click on a row: select and open it.
    Open { panel: Panel, row: usize },
    /// The wheel over a panel (or over a drill-down or the help: `None`).
    Scroll { panel: Option<Panel>, down: bool },
}

/// A mouse event as the terminal reports it, in screen cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MouseKind {
    Click,
    DoubleClick,
    WheelUp,
    WheelDown,
}

/// Where the last frame put the panels and their rows. Written while
/// drawing (drawing only reads the state; this is not state), read when
/// the mouse is pressed.
#[derive(Debug, Default)]
pub struct ScreenMap {
    panels: Vec<(Panel, Rect)>,
    /// Rows of a panel: the area of one row and the index it shows.
    rows: Vec<(Panel, Rect, usize)>,
}

impl ScreenMap {
    pub fn clear(&mut self) {
        self.panels.clear();
        self.rows.clear();
    }

    pub fn panel(&mut self, panel: Panel, area: Rect) {
        self.panels.push((panel, area));
    }

    /// Rows drawn from `first` on, each as high as `heights` says, from
    /// the top of `area` down: as many as fit whole, as a list draws them.
    pub fn rows(&mut self, panel: Panel, area: Rect, first: usize, heights: impl IntoIterator<Item = u16>) {
        let mut y = area.y;
        for (i, height) in heights.into_iter().enumerate() {
            if y + height > area.y + area.height {
                break;
            }
            self.rows.push((panel, Rect { x: area.x, y, width: area.width, height }, first + i));
            y += height;
        }
    }

    fn panel_at(&self, column: u16, row: u16) -> Option<Panel> {
        self.panels.iter().find(|(_, a)| a.contains(Position::new(column, row))).map(|(p, _)| *p)
    }

    fn row_at(&self, column: u16, row: u16) -> Option<(Panel, usize)> {
        self.rows.iter().find(|(_, a, _)| a.contains(Position::new(column, row))).map(|(p, _, i)| (*p, *i))
    }
}

/// The screen map of a view: not saved, rebuilt by every frame.
#[derive(Debug, Default)]
pub struct Screen(pub RefCell<ScreenMap>);

impl App {
    /// What a mouse event at (`column`, `row`) means on the console's last
    /// frame.
    pub fn resolve_pointer(&self, kind: MouseKind, column: u16, row: u16) -> Option<Pointer> {
        self.screen.resolve(&self.ui, kind, column, row)
    }
}

impl Screen {
    /// What a mouse event at (`column`, `row`) means on the last frame
    /// drawn with this map, the view being `ui`.
    pub fn resolve(&self, ui: &UiState, kind: MouseKind, column: u16, row: u16) -> Option<Pointer> {
        let map = self.0.borrow();
        let in_main = ui.view == View::Main && !ui.help;
        match kind {
            MouseKind::WheelUp | MouseKind::WheelDown => {
                let panel = if in_main { map.panel_at(column, row) } else { None };
                Some(Pointer::Scroll { panel, down: kind == MouseKind::WheelDown })
            }
            // Clicks select on the main screen only; a drill-down and the
            // help scroll with the wheel.
            _ if !in_main => None,
            MouseKind::Click => match map.row_at(column, row) {
                Some((panel, i)) => Some(Pointer::Select { panel, row: Some(i) }),
                None => map.panel_at(column, row).map(|panel| Pointer::Select { panel, row: None }),
            },
            MouseKind::DoubleClick => match map.row_at(column, row) {
                Some((panel, row)) => Some(Pointer::Open { panel, row }),
                None => map.panel_at(column, row).map(|panel| Pointer::Select { panel, row: None }),
            },
        }
    }
}

/// Lines one notch of the wheel moves.
pub const WHEEL_LINES: usize = 3;

/// Applies a resolved pointer to a view: never more than moving around
/// the screen. None if it did nothing: a proposal open on screen takes no
/// clicks, since a click must not be read as anything about it.
pub fn apply(app: &State, ui: &mut UiState, pointer: Pointer) -> Option<Moved> {
    if app.modal.is_some() {
        return None;
    }
    let mut moved = Moved::default();
    match pointer {
        Pointer::Select { panel, row } => {
            if ui.view != View::Main {
                return None;
            }
            ui.focus = panel;
            if let Some(row) = row {
                ui.selected[panel.index()] = row.min(app.visible_len(panel, &ui.find).saturating_sub(1));
            }
        }
        Pointer::Open { panel, row } => {
            moved = apply(app, ui, Pointer::Select { panel, row: Some(row) }).unwrap_or_default();
            moved = moved.then(moves::navigate(app, ui, crate::keymap::Action::Open));
        }
        Pointer::Scroll { panel, down } => {
            if let Some(panel) = panel
                && ui.view == View::Main
            {
                ui.focus = panel;
            }
            let action = if down { crate::keymap::Action::Down } else { crate::keymap::Action::Up };
            for _ in 0..WHEEL_LINES {
                moved = moved.then(moves::navigate(app, ui, action));
            }
        }
    }
    Some(moved)
}

//! The operator's view of the state: the focused panel, the selection,
//! the drill-down, the filters and the help. Moved by `app::moves`, drawn
//! by `ui`; a replay's viewer has one of its own.

use serde::{Deserialize, Serialize};

use crate::domain::WorkloadKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Panel {
    Traffic,
    Workloads,
    Events,
}

impl Panel {
    pub const ORDER: [Panel; 3] = [Panel::Traffic, Panel::Workloads, Panel::Events];

    pub fn index(self) -> usize {
        match self {
            Panel::Traffic => 0,
            Panel::Workloads => 1,
            Panel::Events => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    Main,
    Route(usize),
    Workload(WorkloadKey),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiState {
    pub focus: Panel,
    /// Selected row per panel, by `Panel::index`.
    pub selected: [usize; 3],
    pub view: View,
    /// Scroll offset inside a drill-down.
    pub detail_scroll: usize,
    pub help: bool,
    /// Filters, problems only, sort.
    #[serde(default)]
    pub find: crate::app::Find,
    /// First line of the help shown; the help clamps it when drawing.
    #[serde(default)]
    pub help_scroll: usize,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            focus: Panel::Workloads,
            selected: [0; 3],
            view: View::Main,
            detail_scroll: 0,
            help: false,
            find: crate::app::Find::default(),
            help_scroll: 0,
        }
    }
}

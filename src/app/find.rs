//! Finding a row among hundreds: a filter typed after `/`, "problems only"
//! and the sort order of the tables.
//!
//! The filter line takes every key while it is open: a word typed into it
//! never reaches the keymap, so the `r` of "mailer" cannot propose a revert.

use serde::{Deserialize, Serialize};

use crate::domain::{Health, Pod, Side, WorkloadKey};
use crate::keymap::{Key, KeyCode};

use super::{EventEntry, Level, Moved, Panel, State, UiState, View, WorkloadRow};

/// A table that can be filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Listing {
    Workloads,
    Events,
    /// The pods of the workload drill-down.
    Pods,
}

impl Listing {
    pub fn index(self) -> usize {
        match self {
            Listing::Workloads => 0,
            Listing::Events => 1,
            Listing::Pods => 2,
        }
    }
}

/// The order of the workload and pod tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Sort {
    #[default]
    Name,
    /// Worst first.
    Health,
    /// Most restarts first.
    Restarts,
    /// Drifted first (pods: as health).
    Drift,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Name => Sort::Health,
            Sort::Health => Sort::Restarts,
            Sort::Restarts => Sort::Drift,
            Sort::Drift => Sort::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Health => "health",
            Sort::Restarts => "restarts",
            Sort::Drift => "drift",
        }
    }
}

/// What the operator narrowed the tables to. Part of the UI state, so a
/// recording shows the screen as it was.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Find {
    /// The filter of each table, by `Listing::index`; empty is none.
    pub text: [String; 3],
    /// The filter line is open, typing into this table's filter.
    pub editing: Option<Listing>,
    pub problems_only: bool,
    pub sort: Sort,
}

impl Find {
    pub fn text(&self, table: Listing) -> &str {
        &self.text[table.index()]
    }

    /// Whether anything hides rows of `table`.
    pub fn narrows(&self, table: Listing) -> bool {
        self.problems_only || !self.text(table).trim().is_empty()
    }
}

/// The longest filter kept; more is a paste gone wrong.
const MAX_FILTER: usize = 64;

/// Whether every word of `filter` is in one of `fields`, ignoring case.
/// An empty filter matches everything.
pub fn matches<'a>(filter: &str, fields: impl IntoIterator<Item = &'a str> + Clone) -> bool {
    filter.split_whitespace().all(|word| {
        let word = word.to_lowercase();
        fields.clone().into_iter().any(|f| contains_lowercase(f, &word))
    })
}

/// `haystack` contains `needle` (already lower case), ignoring case,
/// without allocating for ASCII haystacks.
fn contains_lowercase(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        return n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(needle)
}

impl UiState {
    /// The table that `/` filters: the focused one, or the drill-down's pods.
    pub fn focused_table(&self) -> Option<Listing> {
        match (&self.view, self.focus) {
            (View::Main, Panel::Workloads | Panel::Traffic) => Some(Listing::Workloads),
            (View::Main, Panel::Events) => Some(Listing::Events),
            (View::Workload(_), _) => Some(Listing::Pods),
            (View::Route(_), _) => None,
        }
    }
}

/// The rows a view shows of the state: what its filters, "problems only"
/// and sort leave, in order.
impl State {
    /// The workload rows on screen: filtered, problems only if asked, sorted.
    pub fn visible_workloads(&self, find: &Find) -> Vec<WorkloadRow<'_>> {
        let filter = find.text(Listing::Workloads);
        let mut rows: Vec<WorkloadRow> = self
            .workload_pairs()
            .into_iter()
            .map(|(k, found)| self.row_of(k, found))
            .filter(|r| !find.problems_only || self.is_problem(r))
            .filter(|r| filter.trim().is_empty() || self.workload_matches(r, filter))
            .collect();
        match find.sort {
            Sort::Name => {}
            Sort::Health => rows.sort_by_key(|r| std::cmp::Reverse(r.worst())),
            Sort::Restarts => rows.sort_by_key(|r| std::cmp::Reverse(restarts(r))),
            Sort::Drift => rows.sort_by_key(|r| !r.drift),
        }
        rows
    }

    /// Keys of the visible workload rows, in order.
    pub fn visible_workload_keys(&self, find: &Find) -> Vec<WorkloadKey> {
        self.visible_workloads(find).into_iter().map(|r| r.key.clone()).collect()
    }

    /// Failing, degraded, drifted, on one side only, or a singleton that
    /// runs where it must not.
    pub fn is_problem(&self, row: &WorkloadRow) -> bool {
        let one_side = row.sides.old.is_none() != row.sides.new.is_none();
        let alarm = row.singleton.is_some_and(|s| self.alarms.contains_key(&s.name));
        row.worst() >= Health::Degraded || row.drift || one_side || row.singleton_conflict || alarm
    }

    /// Names, namespace, kind, images (tags included) and the nodes of its pods.
    fn workload_matches(&self, row: &WorkloadRow, filter: &str) -> bool {
        let key = row.key.to_string();
        let mut fields: Vec<&str> = vec![&key, row.kind_label()];
        for side in Side::BOTH {
            if let Some(v) = row.sides.get(side) {
                fields.extend(v.workload.images.iter().map(String::as_str));
            }
        }
        if matches(filter, fields.iter().copied()) {
            return true;
        }
        // Node names only if the rest did not match: it walks the pods.
        for side in Side::BOTH {
            for pod in self.clusters.get(side).pods_of(row.key) {
                fields.extend(pod.node.as_deref());
            }
        }
        matches(filter, fields.iter().copied())
    }

    /// The events on screen, newest first.
    pub fn visible_events(&self, find: &Find) -> Vec<&EventEntry> {
        let filter = find.text(Listing::Events);
        self.events
            .iter()
            .filter(|e| !find.problems_only || e.level != Level::Info)
            .filter(|e| matches(filter, [e.text.as_str(), e.side.map_or("", |s| s.label())]))
            .collect()
    }

    /// The pods of `key` on `side` that the drill-down lists, in order.
    pub fn visible_pods(&self, key: &WorkloadKey, side: Side, find: &Find) -> Vec<&Pod> {
        let filter = find.text(Listing::Pods);
        let mut pods: Vec<&Pod> = self
            .clusters
            .get(side)
            .pods_of(key)
            .filter(|p| !find.problems_only || p.health() >= Health::Degraded)
            .filter(|p| {
                let fields = [
                    p.key.name.as_str(),
                    p.node.as_deref().unwrap_or(""),
                    p.reason.as_deref().unwrap_or(""),
                    p.phase.label(),
                ];
                matches(filter, fields)
            })
            .collect();
        match find.sort {
            Sort::Restarts => pods.sort_by(|a, b| (b.restarts, &a.key).cmp(&(a.restarts, &b.key))),
            // Worst first, then by name: a pod's generated name alone says
            // nothing worth ordering by.
            Sort::Name | Sort::Health | Sort::Drift => {
                pods.sort_by(|a, b| (b.health(), &a.key).cmp(&(a.health(), &b.key)))
            }
        }
        pods
    }

    /// Number of rows in the focused table, for moving the selection.
    pub fn visible_len(&self, panel: Panel, find: &Find) -> usize {
        match panel {
            Panel::Traffic => self.routes.len(),
            Panel::Workloads => self.visible_workloads(find).len(),
            Panel::Events => self.visible_events(find).len(),
        }
    }
}

fn restarts(row: &WorkloadRow) -> u32 {
    Side::BOTH.iter().filter_map(|s| row.sides.get(*s).as_ref()).map(|v| v.restarts).sum()
}

/// `/`: opens the filter line of the focused table (from the routes, the
/// workloads'), keeping what was typed before. Where there is none, what
/// to say instead.
pub fn open(ui: &mut UiState) -> Result<(), String> {
    let Some(table) = ui.focused_table() else {
        return Err("nothing to filter here: `/` filters workloads, events and a workload's pods".into());
    };
    if ui.view == View::Main && ui.focus == Panel::Traffic {
        ui.focus = Panel::Workloads;
    }
    ui.find.editing = Some(table);
    Ok(())
}

/// A key while the filter line is open: typed into it, or moving the
/// selection; nothing else (Ctrl-C asks to quit). None when the line is
/// closed.
pub fn on_key(app: &State, ui: &mut UiState, key: Key) -> Option<Moved> {
    let table = ui.find.editing?;
    let text = &mut ui.find.text[table.index()];
    let mut moved = Moved::default();
    match key.code {
        KeyCode::Char('c') if key.ctrl => moved.quit = true,
        // Ctrl-U clears the line, as in a shell.
        KeyCode::Char('u') if key.ctrl => {
            text.clear();
            reset_selection(ui, table);
        }
        KeyCode::Char(c) if !key.ctrl && !key.alt && text.chars().count() < MAX_FILTER => {
            text.push(c);
            reset_selection(ui, table);
        }
        KeyCode::Char(_) if !key.ctrl && !key.alt => {}
        KeyCode::Backspace => {
            text.pop();
            reset_selection(ui, table);
        }
        // Enter keeps the filter and gives the keys back.
        KeyCode::Enter => ui.find.editing = None,
        KeyCode::Esc => clear(ui, table),
        KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => {
            let action = match key.code {
                KeyCode::Up => crate::keymap::Action::Up,
                KeyCode::Down => crate::keymap::Action::Down,
                KeyCode::PageUp => crate::keymap::Action::PageUp,
                _ => crate::keymap::Action::PageDown,
            };
            super::moves::move_selection(app, ui, action);
        }
        _ => {}
    }
    Some(moved)
}

/// Esc with a filter set and the line closed clears it, before Esc's
/// other meaning (leaving a drill-down). Returns whether it did.
pub fn clear_on_back(ui: &mut UiState) -> bool {
    let Some(table) = ui.focused_table() else { return false };
    if ui.find.text(table).is_empty() {
        return false;
    }
    clear(ui, table);
    true
}

fn clear(ui: &mut UiState, table: Listing) {
    ui.find.text[table.index()].clear();
    ui.find.editing = None;
    reset_selection(ui, table);
}

/// A changed filter starts the selection at its first match.
fn reset_selection(ui: &mut UiState, table: Listing) {
    match table {
        Listing::Workloads => ui.selected[Panel::Workloads.index()] = 0,
        Listing::Events => ui.selected[Panel::Events.index()] = 0,
        Listing::Pods => ui.detail_scroll = 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_must_match_some_field_ignoring_case() {
        let fields = ["batch/sidekiq-mailers", "ecr/worker:v2.15.0-rc1", "ip-10-1-40-71"];
        assert!(matches("", fields));
        assert!(matches("MAILER", fields));
        assert!(matches("mailer rc1", fields));
        assert!(matches("  batch   40-71 ", fields));
        assert!(!matches("mailer gpu", fields));
        assert!(!matches("api", fields));
        assert!(matches("ÄPI", ["äpi-gateway"]));
    }
}

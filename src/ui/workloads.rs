//! Old and new side by side, matched by namespace/name.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

use crate::app::{Panel, SideView, SourceId, State, View, WorkloadRow};
use crate::domain::{Side, Workload, WorkloadKind};

use super::columns::{self, Col};
use super::{Shown, theme};

/// Columns of the table: name, kind, marker, then per side status,
/// restarts and tag.
const COLUMNS: usize = 9;

/// Text of a side's status cell: `● 18/18`, `○ susp`.
pub fn status(w: &Workload, symbol: &str) -> String {
    let what = match w.kind {
        WorkloadKind::Deployment | WorkloadKind::StatefulSet => format!("{}/{}", w.ready, w.desired),
        WorkloadKind::CronJob if w.suspended => "susp".into(),
        WorkloadKind::CronJob if w.ready > 0 => format!("run {}", w.ready),
        WorkloadKind::CronJob => "idle".into(),
        WorkloadKind::Job => match w.completed {
            Some(true) => "done".into(),
            Some(false) => "failed".into(),
            None => "run".into(),
        },
    };
    format!("{symbol} {what}")
}

/// The width of `status(w, "●")`, without making it.
fn status_width(w: &Workload) -> u16 {
    let digits = |n: u32| n.checked_ilog10().unwrap_or(0) as u16 + 1;
    let what = match w.kind {
        WorkloadKind::Deployment | WorkloadKind::StatefulSet => digits(w.ready) + 1 + digits(w.desired),
        WorkloadKind::CronJob if w.suspended => 4,
        WorkloadKind::CronJob if w.ready > 0 => 4 + digits(w.ready),
        WorkloadKind::CronJob => 4,
        WorkloadKind::Job => match w.completed {
            Some(true) => 4,
            Some(false) => 6,
            None => 3,
        },
    };
    2 + what
}

/// What each column needs, from the workloads themselves (not their pods,
/// so the layout is cheap to ask for). Priorities as an operator reads
/// the table: which workload and how ready each side is are never left
/// out; then restarts; then the tags (drift is also the `≠` marker); the
/// kind goes first.
fn column_specs(app: &State, restart_digits: u16) -> [Col; COLUMNS] {
    let mut name = 14u16;
    let mut status_w = [5u16; 2];
    let mut tag = [3u16; 2];
    // Each side's workloads as stored, without looking any up: this runs
    // every frame, over thousands of workloads.
    let all = app.workload_keys().len();
    for side in Side::BOTH {
        let workloads = &app.clusters.get(side).workloads;
        for w in workloads.values() {
            let key_width = columns::width(&w.key.namespace) + 1 + columns::width(&w.key.name);
            name = name.max(key_width);
            status_w[side.index()] = status_w[side.index()].max(status_width(w));
            tag[side.index()] = tag[side.index()].max(columns::width(w.tag()));
        }
        if workloads.len() < all {
            tag[side.index()] = tag[side.index()].max(columns::width(NOT_HERE));
        }
    }
    let rst = restart_digits.max(3);
    [
        Col::text(12, name, 0),
        Col::fixed(6, 5),
        Col::fixed(1, 0),
        Col::fixed(status_w[0], 0),
        Col::fixed(rst, 2),
        Col::text(TAG_MIN.min(tag[0]), tag[0], 3),
        Col::fixed(status_w[1], 0),
        Col::fixed(rst, 2),
        Col::text(TAG_MIN.min(tag[1]), tag[1], 3),
    ]
}

/// The narrowest a tag is drawn: enough for the part two drifted tags
/// differ in, with its marks.
const TAG_MIN: u16 = 8;
const NOT_HERE: &str = "not here";
const GAP: u16 = 1;

/// The width the table would like, borders included: the layout gives
/// the events panel the rest.
pub fn want_width(app: &State) -> u16 {
    let specs = column_specs(app, 3);
    specs.iter().map(|c| c.want).sum::<u16>() + GAP * (COLUMNS as u16 - 1) + 2
}

pub fn render<'a>(view: impl Into<Shown<'a>>, frame: &mut Frame, area: Rect) {
    let s = view.into();
    let app = s.app;
    let focused = s.ui.focus == Panel::Workloads && s.ui.view == View::Main;
    let rows = app.visible_workloads(&s.ui.find);
    let total = app.workload_keys().len();
    let drift = rows.iter().filter(|r| r.drift).count();
    let conflicts = rows.iter().filter(|r| r.singleton_conflict).count();
    let mut title = vec![Span::styled(" Workloads ", theme::title())];
    title.extend(super::find::title_spans(s.ui, crate::app::Listing::Workloads, rows.len(), total));
    if drift > 0 {
        title.push(Span::styled(format!("≠ {drift} drift "), Style::new().fg(Color::Yellow)));
    }
    if conflicts > 0 {
        title.push(Span::styled(
            format!("‼ {conflicts} singleton on both sides "),
            Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
        ));
    }
    let block = theme::panel(focused).title(Line::from(title));

    let restarts = rows
        .iter()
        .flat_map(|r| Side::BOTH.map(|s| r.sides.get(s).as_ref().map_or(0, |v| v.restarts)))
        .max()
        .unwrap_or(0);
    let specs = column_specs(app, columns::width(&restarts.to_string()));
    let widths = columns::fit(&specs, area.width.saturating_sub(2), GAP);
    let header = [
        Span::raw("namespace/name"),
        Span::raw("kind"),
        Span::raw(""),
        Span::styled("old", theme::side(Side::Old)),
        Span::raw("rst"),
        Span::raw("tag"),
        Span::styled("new", theme::side(Side::New)),
        Span::raw("rst"),
        Span::raw("tag"),
    ];
    let header = Row::new(shown(&widths, header.map(Cell::from))).style(theme::dim());
    let stale = [Side::Old, Side::New].map(|s| app.is_stale(SourceId::Cluster(s)));
    // Only the rows on screen are built: the table scrolls as little as
    // keeps the selection in view, as a table scrolled from the top would.
    let height = usize::from(area.height.saturating_sub(3));
    let selected = s.ui.selected[Panel::Workloads.index()].min(rows.len().saturating_sub(1));
    let offset = (selected + 1).saturating_sub(height);
    let window = &rows[offset.min(rows.len())..(offset + height).min(rows.len())];
    let table_rows: Vec<Row> = window.iter().map(|r| Row::new(shown(&widths, row(r, stale, &widths)))).collect();
    let constraints: Vec<Constraint> = widths.iter().flatten().map(|w| Constraint::Length(*w)).collect();
    let table = Table::new(table_rows, constraints)
        .header(header)
        .block(block)
        .column_spacing(GAP)
        .row_highlight_style(if focused { theme::selected() } else { Style::new() });
    let mut state = TableState::new().with_selected((!window.is_empty()).then(|| selected - offset));
    frame.render_stateful_widget(table, area, &mut state);
    // Below the border and the header row.
    let body = Rect {
        x: area.x + 1,
        y: area.y + 2,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(3),
    };
    let mut screen = s.screen.0.borrow_mut();
    screen.panel(Panel::Workloads, area);
    screen.rows(Panel::Workloads, body, offset, window.iter().map(|_| 1));
}

/// The cells of the columns that were kept.
fn shown<'a>(widths: &[Option<u16>], cells: [Cell<'a>; COLUMNS]) -> Vec<Cell<'a>> {
    cells.into_iter().zip(widths).filter(|(_, w)| w.is_some()).map(|(c, _)| c).collect()
}

fn row<'a>(r: &WorkloadRow<'a>, stale: [bool; 2], widths: &[Option<u16>]) -> [Cell<'a>; COLUMNS] {
    let marker = if r.singleton_conflict {
        Span::styled("‼", Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD))
    } else if r.singleton.is_some() {
        Span::styled("◆", Style::new().fg(theme::ACCENT))
    } else if r.drift {
        Span::styled("≠", Style::new().fg(Color::Yellow))
    } else {
        Span::raw(" ")
    };
    let name = usize::from(widths[0].unwrap_or(0));
    let tags = Side::BOTH.map(|s| r.sides.get(s).as_ref().map(|v| v.workload.tag()));
    let [o1, o2, o3] = side_cells(r.sides.old.as_ref(), r.drift.then_some(tags[1]).flatten(), stale[0], widths[5]);
    let [n1, n2, n3] = side_cells(r.sides.new.as_ref(), r.drift.then_some(tags[0]).flatten(), stale[1], widths[8]);
    [
        Cell::from(theme::fit(&r.key.to_string(), name)),
        Cell::from(Span::styled(r.kind_label(), theme::dim())),
        Cell::from(marker),
        o1,
        o2,
        o3,
        n1,
        n2,
        n3,
    ]
}

/// `other`: the other side's tag when the two differ.
fn side_cells<'a>(
    view: Option<&SideView<'a>>,
    other: Option<&str>,
    stale: bool,
    tag_width: Option<u16>,
) -> [Cell<'a>; 3] {
    let Some(v) = view else {
        return [
            Cell::from(Span::styled("  —", theme::dim())),
            Cell::from(""),
            Cell::from(Span::styled(NOT_HERE, theme::dim())),
        ];
    };
    let w = v.workload;
    let style = if stale { theme::dim() } else { theme::health(v.health) };
    let restarts_style = if v.crashing > 0 {
        Style::new().fg(Color::LightRed)
    } else if v.restarts > 0 {
        Style::new().fg(Color::Yellow)
    } else {
        theme::dim()
    };
    let symbol = if stale { "?" } else { theme::health_symbol(v.health) };
    let tag = match other {
        Some(other) => Line::from(theme::tag_diff(w.tag(), other, usize::from(tag_width.unwrap_or(0)))),
        None => Line::raw(theme::fit(w.tag(), usize::from(tag_width.unwrap_or(0)))),
    };
    [
        Cell::from(Span::styled(status(w, symbol), style)),
        Cell::from(Span::styled(format!("{:>3}", v.restarts), restarts_style)),
        Cell::from(tag),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WorkloadKey;

    #[test]
    fn the_status_width_is_the_width_of_the_status_drawn() {
        let base = Workload::new(WorkloadKey::new("app", "api"), WorkloadKind::Deployment);
        for kind in [WorkloadKind::Deployment, WorkloadKind::StatefulSet, WorkloadKind::CronJob, WorkloadKind::Job] {
            for (ready, desired) in [(0, 0), (9, 10), (668, 668), (1, 12_345), (99_999, 100_000)] {
                for suspended in [false, true] {
                    for completed in [None, Some(true), Some(false)] {
                        let w = Workload { kind, ready, desired, suspended, completed, ..base.clone() };
                        assert_eq!(status_width(&w), columns::width(&status(&w, "●")), "{w:?}");
                    }
                }
            }
        }
    }
}

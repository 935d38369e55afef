//! Old and new side by side, matched by namespace/name.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

use crate::app::{App, Panel, SideView, SourceId, View, WorkloadRow};
use crate::domain::{Side, WorkloadKind};

use super::theme;

const NAME: u16 = 22;
const TAG: u16 = 10;
/// The width the table needs, borders included; the events panel gets the rest.
pub const WIDTH: u16 = NAME + 6 + 1 + 2 * (7 + 3 + TAG) + 8 + 2;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.ui.focus == Panel::Workloads && app.ui.view == View::Main;
    let rows = app.visible_workloads();
    let total = app.workload_keys().len();
    let drift = rows.iter().filter(|r| r.drift).count();
    let conflicts = rows.iter().filter(|r| r.singleton_conflict).count();
    let mut title = vec![Span::styled(" Workloads ", theme::title())];
    title.extend(super::find::title_spans(app, crate::app::Listing::Workloads, rows.len(), total));
    if drift > 0 {
        title.push(Span::styled(format!("≠ {drift} drift "), Style::new().fg(Color::Yellow)));
    }
    if conflicts > 0 {
        title.push(Span::styled(
            format!("‼ {conflicts} singleton on both sides "),
            Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
        ));
    }
    let block = Block::bordered().title(Line::from(title)).border_style(theme::focused_border(focused));

    let header = Row::new(vec![
        Cell::from("namespace/name"),
        Cell::from("kind"),
        Cell::from(""),
        Cell::from(Span::styled("old", theme::side(Side::Old))),
        Cell::from("rst"),
        Cell::from("tag"),
        Cell::from(Span::styled("new", theme::side(Side::New))),
        Cell::from("rst"),
        Cell::from("tag"),
    ])
    .style(theme::dim());
    let stale = [Side::Old, Side::New].map(|s| app.is_stale(SourceId::Cluster(s)));
    let table_rows: Vec<Row> = rows.iter().map(|r| row(r, stale)).collect();
    let widths = [
        Constraint::Length(NAME),
        Constraint::Length(6),
        Constraint::Length(1),
        Constraint::Length(7),
        Constraint::Length(3),
        Constraint::Length(TAG),
        Constraint::Length(7),
        Constraint::Length(3),
        Constraint::Length(TAG),
    ];
    let table = Table::new(table_rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(if focused { theme::selected() } else { Style::new() });
    let mut state = TableState::new()
        .with_selected(Some(app.ui.selected[Panel::Workloads.index()].min(rows.len().saturating_sub(1))));
    frame.render_stateful_widget(table, area, &mut state);
    // Below the border and the header row.
    let body = Rect { x: area.x + 1, y: area.y + 2, width: area.width.saturating_sub(2), height: area.height.saturating_sub(3) };
    let mut screen = app.screen.0.borrow_mut();
    screen.panel(Panel::Workloads, area.into());
    screen.rows(Panel::Workloads, body.into(), state.offset(), (state.offset()..rows.len()).map(|_| 1));
}

fn row<'a>(r: &WorkloadRow<'a>, stale: [bool; 2]) -> Row<'a> {
    let marker = if r.singleton_conflict {
        Span::styled("‼", Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD))
    } else if r.singleton.is_some() {
        Span::styled("◆", Style::new().fg(theme::ACCENT))
    } else if r.drift {
        Span::styled("≠", Style::new().fg(Color::Yellow))
    } else {
        Span::raw(" ")
    };
    let mut cells = vec![
        Cell::from(theme::fit(&r.key.to_string(), NAME as usize)),
        Cell::from(Span::styled(r.kind_label(), theme::dim())),
        Cell::from(marker),
    ];
    for side in Side::BOTH {
        cells.extend(side_cells(r.sides.get(side).as_ref(), r.drift, stale[side.index()]));
    }
    Row::new(cells)
}

fn side_cells<'a>(view: Option<&SideView<'a>>, drift: bool, stale: bool) -> [Cell<'a>; 3] {
    let Some(v) = view else {
        return [
            Cell::from(Span::styled("  —", theme::dim())),
            Cell::from(""),
            Cell::from(Span::styled("not here", theme::dim())),
        ];
    };
    let w = v.workload;
    let style = if stale { theme::dim() } else { theme::health(v.health) };
    let status = match w.kind {
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
    let restarts_style = if v.crashing > 0 {
        Style::new().fg(Color::LightRed)
    } else if v.restarts > 0 {
        Style::new().fg(Color::Yellow)
    } else {
        theme::dim()
    };
    let tag_style = if drift { Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD) } else { Style::new() };
    let symbol = if stale { "?" } else { theme::health_symbol(v.health) };
    [
        Cell::from(Span::styled(format!("{symbol} {status}"), style)),
        Cell::from(Span::styled(format!("{:>3}", v.restarts), restarts_style)),
        Cell::from(Span::styled(theme::fit(w.tag(), TAG as usize), tag_style)),
    ]
}

//! Drill-down of one workload: its pods on both sides.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use crate::app::{SideView, State};
use crate::domain::{Owner, Pod, Side, WorkloadKey, WorkloadKind, age};

use super::columns::{self, Col};
use super::{Shown, theme};

/// Blanks before a continued line of a side: under its text.
const INDENT: u16 = 4;

pub fn render(s: Shown, key: &WorkloadKey, frame: &mut Frame, area: Rect) {
    let app = s.app;
    let row = app.workload_row(key);
    let width = area.width;

    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{key} "), theme::title()),
        Span::styled(row.kind_label(), theme::dim()),
        match (row.singleton, row.singleton_conflict) {
            (Some(s), true) => Span::styled(
                format!("  ‼ singleton `{}` is running on BOTH sides", s.name),
                theme::health(crate::domain::Health::Failing),
            ),
            (Some(s), false) => Span::styled(
                format!("  ◆ singleton `{}`: must never run on both sides", s.name),
                Style::new().fg(theme::ACCENT),
            ),
            _ => Span::raw(""),
        },
    ])];
    // The registry every image comes from is said once, not on every image.
    let images = Side::BOTH.map(|s| row.sides.get(s).as_ref().map(|v| v.workload.images.clone()).unwrap_or_default());
    let registry = theme::elide_registry(images.iter().flatten().map(String::as_str));
    for side in Side::BOTH {
        let mut pieces = vec![vec![Span::styled(format!("{:<4}", side.label()), theme::side(side))]];
        match row.sides.get(side) {
            Some(v) => {
                pieces.extend(describe(v).into_iter().map(|p| vec![Span::raw(p)]));
                let other = &images[side.other().index()];
                for (i, image) in images[side.index()].iter().enumerate() {
                    let shown = registry.as_deref().and_then(|r| image.strip_prefix(r)).unwrap_or(image);
                    let mut piece = vec![Span::raw(if i == 0 { " · " } else { ", " })];
                    match other.get(i).filter(|o| row.drift && *o != image) {
                        // The part that differs from the other side, marked.
                        Some(o) => {
                            let o = registry.as_deref().and_then(|r| o.strip_prefix(r)).unwrap_or(o);
                            piece.extend(theme::tag_diff(shown, o, shown.chars().count()));
                        }
                        None => piece.push(Span::raw(shown.to_string())),
                    }
                    pieces.push(piece);
                }
            }
            None => pieces.push(vec![Span::styled("not on this side", theme::dim())]),
        }
        if let Some(a) = app.clusters.get(side).autoscalers.get(key) {
            pieces.push(vec![Span::raw(format!(
                " · hpa {}-{} (current {}, wants {})",
                a.min, a.max, a.current, a.desired
            ))]);
        }
        if row.drift {
            pieces.push(vec![Span::styled(
                "  ≠ image differs from the other side",
                Style::new().fg(ratatui::style::Color::Yellow),
            )]);
        }
        lines.extend(columns::flow(pieces, width, INDENT));
    }
    if let Some(r) = &registry {
        lines.push(Line::from(vec![Span::styled("images from ", theme::dim()), Span::raw(r.clone())]));
    }
    let owner = owner_line(app, key, row.singleton.is_some_and(|s| s.kind == WorkloadKind::Deployment));
    lines.extend(columns::flow(owner.spans.into_iter().map(|s| vec![s]).collect(), width, INDENT));
    let info_height = (lines.len() as u16).min(area.height.saturating_sub(8));
    let [info, tables] = Layout::vertical([Constraint::Length(info_height), Constraint::Min(3)]).areas(area);
    frame.render_widget(Paragraph::new(lines), info);

    // Stacked rather than side by side: pod and node names need the width.
    let [top, bottom] = Layout::vertical([Constraint::Percentage(50); 2]).areas(tables);
    for (side, area) in [(Side::Old, top), (Side::New, bottom)] {
        let cluster = app.clusters.get(side);
        let pods = app.visible_pods(key, side, &s.ui.find);
        let total = cluster.pods_of(key).count();
        let visible = area.height.saturating_sub(3) as usize;
        let scroll = s.ui.detail_scroll.min(pods.len().saturating_sub(visible));
        let whys: Vec<String> = pods.iter().skip(scroll).take(visible).map(|p| why(app, side, p)).collect();
        let cells: Vec<[Span<'static>; POD_COLUMNS]> = pods
            .iter()
            .skip(scroll)
            .take(visible)
            .zip(whys)
            .map(|(p, why)| {
                let node = p.node.as_deref().map_or("—".to_string(), |n| {
                    let detail = cluster.nodes.get(n).map_or("gone".to_string(), |n| {
                        let mut d = format!("{} {}", n.capacity.short(), n.instance_type);
                        if n.spot_interruption {
                            d.push_str(" interrupted");
                        } else if n.rebalance_recommendation {
                            d.push_str(" rebalance");
                        } else if let Some(other) = n.disruptions.iter().find(|k| k.cause_rank() > 0) {
                            d.push(' ');
                            d.push_str(other.label());
                        }
                        if n.cordoned {
                            d.push_str(" cordoned");
                        }
                        d
                    });
                    format!("{} {detail}", crate::domain::short_node(n))
                });
                [
                    Span::styled(p.key.name.clone(), theme::health(p.health())),
                    Span::raw(phase(p)),
                    Span::raw(if p.ready { "yes" } else { "no" }),
                    Span::styled(
                        format!("{:>3}", p.restarts),
                        if p.restarts > 0 { theme::health(crate::domain::Health::Degraded) } else { theme::dim() },
                    ),
                    Span::styled(why, theme::health(p.health())),
                    Span::raw(node),
                    Span::raw(age(p.created, app.now)),
                ]
            })
            .collect();
        let title = Line::from(
            vec![Span::styled(format!(" {side} "), theme::side(side)), Span::styled("pods ", theme::dim())]
                .into_iter()
                .chain(super::find::title_spans(s.ui, crate::app::Listing::Pods, pods.len(), total))
                .collect::<Vec<_>>(),
        );
        // Each column as wide as its longest cell; the least needed are
        // left out whole on a narrow screen.
        let want = |i: usize, header: &str| {
            cells.iter().map(|c| columns::width(&c[i].content)).max().unwrap_or(0).max(columns::width(header))
        };
        let specs: Vec<Col> = POD_HEADERS
            .iter()
            .enumerate()
            .map(|(i, (header, min, priority))| {
                let want = want(i, header);
                if *min == 0 { Col::fixed(want, *priority) } else { Col::text(*min, want, *priority) }
            })
            .collect();
        let widths = columns::fit(&specs, area.width.saturating_sub(2), 1);
        let keep = |w: &Option<u16>| w.is_some();
        let rows: Vec<Row> = cells
            .into_iter()
            .map(|c| {
                Row::new(
                    c.into_iter()
                        .zip(&widths)
                        .filter(|(_, w)| keep(w))
                        .map(|(s, w)| Line::from(columns::sized(vec![s], w.unwrap_or(0)))),
                )
            })
            .collect();
        let header = Row::new(POD_HEADERS.iter().zip(&widths).filter(|(_, w)| keep(w)).map(|((h, _, _), _)| *h))
            .style(theme::dim());
        let table = Table::new(rows, widths.iter().flatten().map(|w| Constraint::Length(*w)))
            .column_spacing(1)
            .header(header)
            .block(Block::bordered().title(title));
        frame.render_widget(table, area);
    }
}

const POD_COLUMNS: usize = 7;
/// Header, narrowest cut (0: never cut, left out whole) and priority of
/// each pod column.
const POD_HEADERS: [(&str, u16, u8); POD_COLUMNS] =
    [("pod", 16, 0), ("phase", 7, 1), ("ready", 0, 2), ("rst", 0, 1), ("why", 10, 1), ("node", 12, 3), ("age", 0, 2)];

/// Who else writes the workload on each side (Argo CD, Flux, Helm).
fn owner_line(app: &State, key: &WorkloadKey, singleton: bool) -> Line<'static> {
    let owner = |side: Side| app.clusters.get(side).workloads.get(key).map(|w| w.owner.as_ref());
    let (old, new) = (owner(Side::Old), owner(Side::New));
    let mut spans = vec![Span::styled("owner ", theme::dim())];
    let name = |o: Option<Option<&Owner>>| match o {
        Some(Some(o)) => o.describe(),
        Some(None) => "nobody known".into(),
        None => "-".into(),
    };
    let loud = |o: Option<Option<&Owner>>| {
        if o.flatten().is_some_and(Owner::reverts_replicas) {
            Style::new().fg(ratatui::style::Color::Yellow)
        } else {
            Style::new()
        }
    };
    if old == new {
        spans.push(Span::styled(format!("{} (both sides)", name(old)), loud(old)));
    } else {
        for (side, o) in [(Side::Old, old), (Side::New, new)] {
            spans.push(Span::styled(format!("{side} "), theme::side(side)));
            spans.push(Span::styled(format!("{}   ", name(o)), loud(o)));
        }
    }
    if [old, new].iter().any(|o| o.flatten().is_some_and(Owner::reverts_replicas)) {
        let text = if singleton {
            "⚠ may scale it back: a handoff needs the typed override"
        } else {
            "⚠ may scale a manual change back"
        };
        spans.push(Span::styled(text, theme::dim()));
    }
    Line::from(spans)
}

/// A side's state in pieces: readiness, schedule, restarts, crash loops.
fn describe(v: &SideView<'_>) -> Vec<String> {
    let w = v.workload;
    let mut parts = vec![format!("{} {}/{} ready", theme::health_symbol(v.health), w.ready, w.desired)];
    if let Some(schedule) = &w.schedule {
        parts.push(format!(" · schedule {schedule}{}", if w.suspended { " (suspended)" } else { "" }));
    }
    parts.push(format!(" · {} restarts", v.restarts));
    if v.crashing > 0 {
        parts.push(format!(" · {} crash-looping", v.crashing));
    }
    parts
}

/// Why a pod is not simply running: starting, how its container ended
/// last (`OOMKilled (137)`), and its latest Warning events by reason,
/// newest first (`BackOff ×3`).
pub fn why(app: &State, side: Side, p: &Pod) -> String {
    let mut parts = Vec::new();
    if p.starting(app.now) {
        parts.push("starting".to_string());
    }
    if let Some(exit) = &p.last_exit {
        parts.push(format!("last {exit}"));
    }
    let about = format!(" Pod/{}/{}: ", p.key.namespace, p.key.name);
    let mut reasons: Vec<(&str, u32)> = Vec::new();
    // The panel keeps events newest first.
    for e in app.events.iter().filter(|e| e.side == Some(side)) {
        let Some((reason, _)) = e.text.split_once(&about) else { continue };
        if let Some((_, n)) = reasons.iter_mut().find(|(r, _)| *r == reason) {
            *n += 1;
        } else if reasons.len() < 2 {
            reasons.push((reason, 1));
        }
    }
    parts.extend(reasons.into_iter().map(|(r, n)| if n > 1 { format!("{r} ×{n}") } else { r.to_string() }));
    parts.join(" · ")
}

fn phase(p: &Pod) -> String {
    p.reason.clone().unwrap_or_else(|| p.phase.label().into())
}

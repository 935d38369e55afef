//! Drill-down of one workload: its pods on both sides.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use crate::app::{App, SideView};
use crate::domain::{Owner, Pod, PodPhase, Side, WorkloadKey, WorkloadKind, age};

use super::theme;

pub fn render(app: &App, key: &WorkloadKey, frame: &mut Frame, area: Rect) {
    let row = app.workload_row(key);
    let [info, tables] = Layout::vertical([Constraint::Length(4), Constraint::Min(3)]).areas(area);

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
    for side in Side::BOTH {
        let mut text = match row.sides.get(side) {
            Some(v) => describe(v),
            None => "not on this side".into(),
        };
        if let Some(a) = app.clusters.get(side).autoscalers.get(key) {
            text.push_str(&format!(" · hpa {}-{} (current {}, wants {})", a.min, a.max, a.current, a.desired));
        }
        let drift = if row.drift { "  ≠ image differs from the other side" } else { "" };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<4}", side.label()), theme::side(side)),
            Span::raw(text),
            Span::styled(drift, Style::new().fg(ratatui::style::Color::Yellow)),
        ]));
    }
    lines.push(owner_line(app, key, row.singleton.is_some_and(|s| s.kind == WorkloadKind::Deployment)));
    frame.render_widget(Paragraph::new(lines), info);

    // Stacked rather than side by side: pod and node names need the width.
    let [top, bottom] = Layout::vertical([Constraint::Percentage(50); 2]).areas(tables);
    for (side, area) in [(Side::Old, top), (Side::New, bottom)] {
        let cluster = app.clusters.get(side);
        let pods = app.visible_pods(key, side);
        let total = cluster.pods_of(key).count();
        let visible = area.height.saturating_sub(3) as usize;
        let scroll = app.ui.detail_scroll.min(pods.len().saturating_sub(visible));
        let rows: Vec<Row> = pods
            .iter()
            .skip(scroll)
            .map(|p| {
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
                Row::new(vec![
                    Span::styled(theme::fit(&p.key.name, 36), theme::health(p.health())),
                    Span::raw(phase(p)),
                    Span::raw(if p.ready { "yes" } else { "no" }),
                    Span::styled(
                        format!("{:>3}", p.restarts),
                        if p.restarts > 0 { theme::health(crate::domain::Health::Degraded) } else { theme::dim() },
                    ),
                    Span::raw(node),
                    Span::raw(age(p.created, app.now)),
                ])
            })
            .collect();
        let title = Line::from(vec![
            Span::styled(format!(" {side} "), theme::side(side)),
            Span::styled("pods ", theme::dim()),
        ]
        .into_iter()
        .chain(super::find::title_spans(app, crate::app::Listing::Pods, pods.len(), total))
        .collect::<Vec<_>>());
        let table = Table::new(
            rows,
            [
                Constraint::Length(36),
                Constraint::Length(16),
                Constraint::Length(5),
                Constraint::Length(3),
                Constraint::Min(30),
                Constraint::Length(4),
            ],
        )
        .header(Row::new(vec!["pod", "phase", "ready", "rst", "node", "age"]).style(theme::dim()))
        .block(Block::bordered().title(title));
        frame.render_widget(table, area);
    }
}

/// Who else writes the workload on each side (Argo CD, Flux, Helm).
fn owner_line(app: &App, key: &WorkloadKey, singleton: bool) -> Line<'static> {
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

fn describe(v: &SideView<'_>) -> String {
    let w = v.workload;
    let mut parts = vec![format!("{} {}/{} ready", theme::health_symbol(v.health), w.ready, w.desired)];
    if let Some(schedule) = &w.schedule {
        parts.push(format!("schedule {schedule}{}", if w.suspended { " (suspended)" } else { "" }));
    }
    parts.push(format!("{} restarts", v.restarts));
    if v.crashing > 0 {
        parts.push(format!("{} crash-looping", v.crashing));
    }
    parts.push(w.images.join(", "));
    parts.join(" · ")
}

fn phase(p: &Pod) -> String {
    if let Some(reason) = &p.reason {
        return theme::fit(reason, 16);
    }
    match p.phase {
        PodPhase::Pending => "Pending",
        PodPhase::Running => "Running",
        PodPhase::Succeeded => "Succeeded",
        PodPhase::Failed => "Failed",
        PodPhase::Unknown => "Unknown",
    }
    .into()
}

//! Incidents: the node signals with their sources, the pods of the routes'
//! workloads lost to them, and the runs of 5xx minutes above the guard
//! with the signals and losses just before them.

use crate::app::{App, Mark, Marked};
use crate::domain::{Minute, PerSide, Side};
use crate::report::series::Series;
use crate::report::{LostRow, Peak, Signal, doc};

/// How far back before a 5xx peak node signals are listed as its suspects.
pub const SIGNALS_BEFORE_MINUTES: i64 = 10;

/// Minutes between two counts of the same node and cause that still make
/// one row (a drain evicts over a minute or two).
const LOST_MERGE_MINUTES: i64 = 5;

pub(super) fn signals(marks: &[Mark]) -> Vec<Signal> {
    marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Node { side, node, signal } => Some(Signal {
                at: m.at,
                side: *side,
                node: node.clone(),
                kind: *signal,
                label: signal.label(),
                source: signal.source().label(),
            }),
            _ => None,
        })
        .collect()
}

/// Runs of consecutive spike minutes per route and side, each with the
/// node signals of that side shortly before it.
pub(super) fn peaks(
    marks: &[Mark],
    app: &App,
    signals: &[Signal],
    lost: &[LostRow],
    series: &[PerSide<Series>],
) -> Vec<Peak> {
    let mut spikes: Vec<(String, Side, Minute, f64)> = marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Spike { route, side, minute, percent, .. } => Some((route.clone(), *side, *minute, *percent)),
            _ => None,
        })
        .collect();
    spikes.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    spikes.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
    let mut peaks: Vec<Peak> = Vec::new();
    for (route, side, minute, percent) in spikes {
        // The rate as finally read.
        let percent = app
            .routes
            .iter()
            .position(|r| r.spec.name == route)
            .and_then(|i| series.get(i))
            .and_then(|s| {
                let s = s.get(side);
                crate::report::series::percent(s.requests.get(&minute).copied(), s.target_5xx.get(&minute).copied())
            })
            .unwrap_or(percent);
        match peaks.last_mut() {
            Some(p) if p.route == route && p.side == side && Minute::containing(p.to).offset(1) == minute => {
                p.to = minute.start();
                if percent > p.peak_percent {
                    p.peak_percent = percent;
                    p.peak_at = minute.start();
                }
            }
            _ => peaks.push(Peak {
                route,
                side,
                from: minute.start(),
                to: minute.start(),
                peak_percent: percent,
                peak_at: minute.start(),
                signals_before: Vec::new(),
                pods_lost: Vec::new(),
            }),
        }
    }
    for peak in &mut peaks {
        let window_start = peak.from.as_second() - SIGNALS_BEFORE_MINUTES * 60;
        let window_end = peak.to.as_second() + 60;
        peak.signals_before = signals
            .iter()
            .filter(|s| s.side == peak.side && (window_start..window_end).contains(&s.at.as_second()))
            .cloned()
            .collect();
        let workload = app.config.routes.iter().find(|r| r.name == peak.route).and_then(|r| r.workload.as_ref());
        peak.pods_lost = lost
            .iter()
            .filter(|l| l.side == peak.side && workload.is_some_and(|w| w.to_string() == l.workload))
            .filter(|l| l.from.as_second() < window_end && l.to.as_second() >= window_start)
            .cloned()
            .collect();
    }
    peaks.sort_by_key(|p| (p.from, p.side));
    peaks
}

/// The counts of the final state, merged per side, workload, node and
/// cause when they are close in time.
pub(super) fn pods_lost(app: &App) -> Vec<LostRow> {
    let mut rows: Vec<LostRow> = Vec::new();
    for l in &app.pods_lost {
        let workload = l.workload.to_string();
        let at = l.minute.start();
        let open = rows.iter_mut().rev().find(|r| {
            r.side == l.side
                && r.workload == workload
                && r.node == l.node
                && r.cause == l.cause
                && at.as_second() - r.to.as_second() <= LOST_MERGE_MINUTES * 60
        });
        match open {
            Some(r) => {
                r.to = r.to.max(at);
                r.pods += l.count;
            }
            None => rows.push(LostRow {
                from: at,
                to: at,
                side: l.side,
                workload,
                node: l.node.clone(),
                cause: l.cause,
                pods: l.count,
                text: String::new(),
            }),
        }
    }
    for r in &mut rows {
        r.text = format!("{} of {} lost to {}", doc::plural(r.pods as usize, "pod"), r.workload, r.cause.label());
    }
    rows
}

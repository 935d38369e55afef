//! The summary at the top: per route, per singleton and in counts, from
//! the report's own sections.

use jiff::Timestamp;

use crate::domain::{Minute, PerSide, Side};
use crate::report::{HandoffRow, Health, MinuteRow, Report, RouteSummary, SingletonSummary, Summary, Worst, WorstLb};

pub(super) fn summarize(report: &Report, lbs: &[Vec<String>]) -> Summary {
    let mut drivers: Vec<String> = Vec::new();
    let actors = report
        .routes
        .iter()
        .flat_map(|r| r.steps.iter().map(|s| (s.at, crate::app::driver_of(&s.who).to_string())))
        .chain(report.handoffs.iter().map(|h| (h.started, h.who.clone())));
    let mut actors: Vec<(Timestamp, String)> = actors.collect();
    actors.sort();
    for (_, who) in actors {
        if !drivers.contains(&who) {
            drivers.push(who);
        }
    }
    if drivers.is_empty() {
        drivers = report.session.operators.clone();
    }
    let routes = report
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (from, to) = report.window.minutes();
            let in_window = |m: &&MinuteRow| (from.start()..=to.start()).contains(&m.at);
            let first = r.history.first();
            let last = r.history.last();
            let highest = r.history.iter().filter_map(|w| w.share_new_percent.map(|p| (p, w.at))).fold(
                None,
                |best: Option<(f64, Timestamp)>, (p, at)| match best {
                    Some((b, _)) if b >= p => best,
                    _ => Some((p, at)),
                },
            );
            let worst = |side: Side| {
                r.minutes
                    .iter()
                    .filter(in_window)
                    .filter_map(|m| {
                        let s = m.side(side);
                        Some(Worst {
                            at: m.at,
                            percent: s.target_5xx_percent?,
                            requests: s.requests?,
                            target_5xx: s.target_5xx.unwrap_or(0.0),
                        })
                    })
                    .fold(None, |best: Option<Worst>, w| match best {
                        Some(b) if b.percent >= w.percent => Some(b),
                        _ => Some(w),
                    })
            };
            let lowest = |side: Side| {
                r.minutes
                    .iter()
                    .filter(in_window)
                    .filter_map(|m| {
                        let s = m.side(side);
                        Some(Health { at: m.at, healthy: s.healthy_targets?, targets: s.targets? })
                    })
                    .fold(None, |best: Option<Health>, h| match best {
                        Some(b) if b.healthy <= h.healthy => Some(b),
                        _ => Some(h),
                    })
            };
            let worst_lb = r
                .minutes
                .iter()
                .filter(in_window)
                .filter_map(|m| {
                    let count = m.lb_5xx?;
                    let load_balancers = lbs.get(i).cloned().unwrap_or_default();
                    Some(WorstLb { at: m.at, count, percent: m.lb_5xx_percent, load_balancers })
                })
                .fold(None, |best: Option<WorstLb>, w| match best {
                    Some(b) if b.count >= w.count => Some(b),
                    _ => Some(w),
                });
            RouteSummary {
                route: r.route.clone(),
                kind: r.kind,
                first: first.map(|w| w.weights),
                last: last.map(|w| w.weights),
                first_share_new_percent: first.and_then(|w| w.share_new_percent),
                final_share_new_percent: last.and_then(|w| w.share_new_percent),
                highest_share_new_percent: highest.map(|h| h.0),
                highest_share_at: highest.map(|h| h.1),
                steps: r.steps.len(),
                reverts: r.steps.iter().filter(|s| s.revert).count(),
                worst_5xx: PerSide::new(worst(Side::Old), worst(Side::New)),
                worst_lb_5xx: worst_lb,
                lowest_healthy: PerSide::new(lowest(Side::Old), lowest(Side::New)),
            }
        })
        .collect();
    let singletons = report
        .session
        .singletons
        .iter()
        .map(|name| {
            let mine: Vec<&HandoffRow> = report.handoffs.iter().filter(|h| &h.singleton == name).collect();
            SingletonSummary {
                singleton: name.clone(),
                handoffs: mine.len(),
                done: mine.iter().filter(|h| h.result == "done").count(),
                gaps_secs: mine.iter().filter_map(|h| h.gap_secs).collect(),
            }
        })
        .collect();
    Summary {
        complete: report.session.stopped.is_none(),
        // Filled in by the caller, from the marks.
        ended: None,
        recording_gaps: Vec::new(),
        drivers,
        routes,
        singletons,
        outside_changes: report.outside.len(),
        outside_reverts: report.outside.iter().filter(|o| o.revert).count(),
        alarms: report.alarms.len(),
        refusals: report.refusals.len(),
        peaks: report.peaks.iter().filter(|p| p.to >= Minute::containing(report.window.from).start()).count(),
        peaks_before: report.peaks.iter().filter(|p| p.to < Minute::containing(report.window.from).start()).count(),
    }
}

//! The summary at the top: per route, per singleton and in counts, from
//! the report's own sections: the steps of judged routes by verdict and
//! the automatic actions among them.

use jiff::Timestamp;

use crate::domain::{Minute, PerSide, Side};
use crate::report::{
    AnalysisSummary, HandoffRow, Health, MinuteRow, Report, RouteReport, RouteSummary, SingletonSummary, Summary,
    Worst, WorstLb,
};

pub(super) fn summarize(report: &Report, lbs: &[Vec<String>]) -> Summary {
    let mut drivers: Vec<String> = Vec::new();
    // The console's own steps are nobody's at the keys: they are told
    // among the automatic actions, with who armed them.
    let actors = report
        .routes
        .iter()
        .flat_map(|r| r.steps.iter().filter(|s| s.armed.is_none()))
        .map(|s| (s.at, crate::app::driver_of(&s.who).to_string()))
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
        analysis: analysis(report),
    }
}

/// The steps of the judged routes by their last verdict, and what the
/// console did by itself; None when no route is judged.
fn analysis(report: &Report) -> Option<AnalysisSummary> {
    let actions = report.automatic_actions.as_ref()?;
    let judged: Vec<&RouteReport> = report.routes.iter().filter(|r| r.analysis.is_some()).collect();
    let verdicts: Vec<Option<&str>> =
        judged.iter().flat_map(|r| &r.steps).map(|s| s.analysis.as_ref().and_then(|a| a.verdict)).collect();
    let steps = |names: &[&str]| verdicts.iter().filter(|v| v.is_some_and(|v| names.contains(&v))).count();
    let actions = |kind: &str| actions.iter().filter(|a| a.kind == kind).count();
    Some(AnalysisSummary {
        routes: judged.iter().map(|r| r.route.clone()).collect(),
        steps: verdicts.len(),
        steps_passed: steps(&["ready", "pass"]),
        steps_failed: steps(&["fail"]),
        steps_inconclusive: steps(&["inconclusive"]),
        automatic_reverts: actions("revert"),
        autopilot_steps: actions("autopilot"),
        would_revert: actions("would_revert"),
        blind: actions("blind"),
    })
}

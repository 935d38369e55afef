//! Likely causes: when a route's 5xx rise on one side, what happened in
//! the same minutes to the pods behind it. Which nodes held the pods that
//! went, what took each node (a capacity rebalance, a Spot interruption,
//! Karpenter, a scale-down, a cordon), and the risks that made it hurt;
//! without lost pods, a weight step in those minutes. Said as an event and
//! a mark when the rise is first seen, and again when later evidence
//! changes it: CloudTrail delivers minutes late, an Auto Scaling activity
//! is polled after the drain began.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::lifecycle::LikelyCause;
use crate::domain::{Capacity, Minute, NodeSignal, NodeSignalKind, Side, clock, error_rate, short_node};

use super::{Level, Marked, State};

/// How far before a rise its causes are looked for: a drain's pods go a
/// few minutes before the ALB's errors are counted and read.
pub const BEFORE_MINUTES: i64 = 10;

/// How many rises' causes are kept (the report reads the marks).
pub const CAUSES_KEPT: usize = 200;

/// How many rollouts of the routes' workloads are remembered.
pub const ROLLOUTS_KEPT: usize = 50;

/// A route workload's pod template changed its images on one side: a
/// rollout, whose ReplicaSet change replaces every pod behind the route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub at: jiff::Timestamp,
    pub side: Side,
    pub workload: crate::domain::WorkloadKey,
    /// The first image's tag before and after.
    pub from: String,
    pub to: String,
}

/// Notes a rollout of a route's workload (its images changed).
pub fn on_workload(app: &mut State, side: Side, before: &crate::domain::Workload, after: &crate::domain::Workload) {
    if before.images == after.images || !app.config.serves(&after.key) {
        return;
    }
    let rollout = Rollout {
        at: app.now,
        side,
        workload: after.key.clone(),
        from: before.tag().to_string(),
        to: after.tag().to_string(),
    };
    app.rollouts.push_back(rollout);
    while app.rollouts.len() > ROLLOUTS_KEPT {
        app.rollouts.pop_front();
    }
}

/// For how long after a rise's first minute later evidence still changes
/// what is said of it (CloudTrail's delivery is usually within 15).
pub const REVISED_FOR_MINUTES: i64 = 20;

/// Minutes apart that still make one rise.
const SAME_RISE_MINUTES: i64 = 3;

/// The most nodes named in one cause.
const NODES_NAMED: usize = 3;

/// A route's side went above the guard in `minute`: its cause, new or
/// (the same rise going on) brought up to date.
pub fn on_rise(app: &mut State, route: usize, side: Side, minute: Minute, percent: f64) {
    let Some(name) = app.routes.get(route).map(|r| r.spec.name.clone()) else { return };
    let same = app.causes.iter().rposition(|c| {
        c.route == name && c.side == side && minute >= c.minute && minute <= c.until.offset(SAME_RISE_MINUTES)
    });
    let index = match same {
        Some(i) => {
            let c = &mut app.causes[i];
            c.percent = c.percent.max(percent);
            c.until = c.until.max(minute);
            i
        }
        None => {
            if app.causes.len() >= CAUSES_KEPT {
                app.causes.remove(0);
            }
            app.causes.push(LikelyCause { route: name, side, minute, until: minute, percent, text: String::new() });
            app.causes.len() - 1
        }
    };
    say(app, index, route);
}

/// A load balancer's own 5xx of `minute` were read (`before`: the value
/// read earlier for that minute, if any): where they rise above the guard
/// as a share of the requests of the routes behind it, a rise of those
/// routes. A load balancer that serves one side alone (a DNS route's)
/// names its side; one shared by both sides (an ALB rule's) names the
/// sides that lost pods of the route in the window, since its count has
/// no side.
pub fn on_elb(app: &mut State, lb: &str, minute: Minute, before: Option<f64>) {
    let guard = app.config.guards.spike_percent;
    let Some(errors) = app.load_balancers.get(lb).and_then(|m| m.elb_5xx.get(minute)) else { return };
    // Its count has no route either: it is a share of every request the
    // load balancer's routes had in the minute.
    let served = |route: &super::RouteState, s: Side| {
        (route.load_balancer(s) == Some(lb)).then(|| route.metrics.get(s).requests.get(minute)).flatten()
    };
    let requests: f64 = app.routes.iter().flat_map(|r| Side::BOTH.map(|s| served(r, s))).flatten().sum();
    let share = |e: f64| e * 100.0 / (requests + e);
    let above = |e: Option<f64>| e.is_some_and(|e| requests + e > 0.0 && share(e) > guard);
    if above(before) || !above(Some(errors)) {
        return;
    }
    // The sides the load balancer serves at all: one (a DNS route's own)
    // names the side; both (an ALB rule's) need evidence of a side.
    let lb_sides: Vec<Side> =
        Side::BOTH.into_iter().filter(|s| app.routes.iter().any(|r| r.load_balancer(*s) == Some(lb))).collect();
    let mut rises = Vec::new();
    for (i, route) in app.routes.iter().enumerate() {
        // The sides this load balancer carried requests of in the minute.
        let sides: Vec<Side> = Side::BOTH.into_iter().filter(|s| served(route, *s).is_some_and(|r| r > 0.0)).collect();
        if sides.is_empty() {
            continue;
        }
        let sides = match lb_sides.as_slice() {
            [_] => sides,
            _ => {
                let from = minute.offset(-BEFORE_MINUTES);
                let lost = |s: Side| {
                    app.pods_lost
                        .iter()
                        .any(|l| l.side == s && Some(&l.workload) == route.spec.workload.as_ref() && l.minute >= from)
                };
                sides.into_iter().filter(|s| lost(*s)).collect()
            }
        };
        rises.extend(sides.into_iter().map(|s| (i, s, share(errors))));
    }
    for (i, side, percent) in rises {
        on_rise(app, i, side, minute, percent);
    }
}

/// Whether later evidence may still change what is said of a cause.
pub fn recent(cause: &LikelyCause, now: jiff::Timestamp) -> bool {
    cause.minute >= Minute::containing(now).offset(-REVISED_FOR_MINUTES)
}

/// After new evidence (signals, pods, nodes): the causes of recent rises
/// said again where it changes them.
pub fn refresh(app: &mut State) {
    let since = Minute::containing(app.now).offset(-REVISED_FOR_MINUTES);
    let recent: Vec<(usize, usize)> = app
        .causes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.minute >= since)
        .filter_map(|(i, c)| Some((i, app.routes.iter().position(|r| r.spec.name == c.route)?)))
        .collect();
    for (i, route) in recent {
        say(app, i, route);
    }
}

/// Explains cause `i` again; an event and a mark when the text changed.
fn say(app: &mut State, i: usize, route: usize) {
    let (side, minute, until, percent) = {
        let c = &app.causes[i];
        (c.side, c.minute, c.until, c.percent)
    };
    let text = explain(app, route, side, (minute, until), percent);
    if app.causes[i].text == text {
        return;
    }
    let first = app.causes[i].text.is_empty();
    app.causes[i].text = text.clone();
    let name = app.causes[i].route.clone();
    let at = app.now;
    let lead = if first { "likely cause" } else { "likely cause (updated)" };
    app.push_event(at, Some(side), Level::Alert, format!("{lead}: {text}"));
    app.mark(at, Marked::Cause { route: name, side, minute, text });
}

/// The pods a route's workload lost on one node in the window.
struct Lost {
    count: u32,
    capacity: Option<Capacity>,
    /// What the loss was put down to when the pods went.
    cause: NodeSignalKind,
}

/// The sentence for a rise (its first and last minute): the rate, what
/// went, what took it, the risks. What happened after the rise is no
/// cause of it.
pub fn explain(app: &State, route: usize, side: Side, (minute, until): (Minute, Minute), percent: f64) -> String {
    let Some(state) = app.routes.get(route) else { return String::new() };
    let spec = &state.spec;
    // What an earlier rise of the same side already explained is not
    // counted again.
    let earlier = app
        .causes
        .iter()
        .filter(|c| c.route == spec.name && c.side == side && c.until < minute)
        .map(|c| c.until.offset(2))
        .max();
    let from = minute.offset(-BEFORE_MINUTES).max(earlier.unwrap_or(Minute(i64::MIN)));
    let to = until.offset(1);
    let within = |m: Minute| m >= from && m <= to;
    let metrics = state.metrics.get(side);
    let before: Vec<f64> = (1..=BEFORE_MINUTES)
        .filter_map(|k| {
            let m = minute.offset(-k);
            error_rate(metrics.requests.get(m), metrics.target_5xx.get(m))
        })
        .collect();
    let baseline = match before.len() {
        0 => String::new(),
        n => format!(" (before: {:.1}%)", before.iter().sum::<f64>() * 100.0 / n as f64),
    };
    let head = format!("route {} {side}: 5xx {percent:.1}% from {}{baseline}", spec.name, hhmm(minute));
    let mut parts = Vec::new();
    if let Some(workload) = &spec.workload {
        let mut by_node: BTreeMap<&str, Lost> = BTreeMap::new();
        for l in app.pods_lost.iter().filter(|l| l.side == side && &l.workload == workload && within(l.minute)) {
            let e = by_node.entry(l.node.as_str()).or_insert(Lost { count: 0, capacity: l.capacity, cause: l.cause });
            e.count += l.count;
            if l.cause.cause_rank() > e.cause.cause_rank() {
                e.cause = l.cause;
            }
        }
        let mut nodes: Vec<(&str, Lost)> = by_node.into_iter().collect();
        nodes.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        let more = nodes.len().saturating_sub(NODES_NAMED);
        for (node, lost) in nodes.into_iter().take(NODES_NAMED) {
            parts.push(node_part(app, side, (from, to), &workload.name, node, &lost));
        }
        if more > 0 {
            parts.push(format!("and {more} more node(s)"));
        }
    }
    // A rollout in those minutes replaced the pods behind the route: a
    // cause of its own, with or without nodes.
    if let Some(workload) = &spec.workload {
        for r in app.rollouts.iter().filter(|r| r.side == side && &r.workload == workload) {
            if within(Minute::containing(r.at)) {
                parts.push(format!("a rollout of {workload} ({} → {}) at {}", r.from, r.to, clock(r.at)));
            }
        }
    }
    if parts.is_empty() {
        let step = state
            .weight_changes
            .iter()
            .rev()
            .find(|(at, _)| within(Minute::containing(*at)))
            .and_then(|(at, w)| Some(format!("a weight step to {:.0}% new at {}", w.percent_new()?, clock(*at))));
        parts.push(step.unwrap_or_else(|| {
            format!(
                "no pods of {} lost on {side}, no rollout and no weight step in the {BEFORE_MINUTES} minutes before: look at the targets and the application",
                spec.workload.as_ref().map_or("the route's workload".into(), |w| w.to_string())
            )
        }));
    }
    let mut briefs: Vec<&str> = Vec::new();
    for r in super::risks::of_route(app, &spec.name, side) {
        if !briefs.contains(&r.brief.as_str()) {
            briefs.push(&r.brief);
        }
    }
    let mut text = format!("{head}: {}", parts.join(", "));
    for b in briefs {
        text.push_str("; ");
        text.push_str(b);
    }
    text
}

/// `4 api pods on ip-10-1-19-86 (spot) stopped by ASG capacity rebalance
/// (EC2 Auto Scaling 19:47)`.
fn node_part(app: &State, side: Side, (from, to): (Minute, Minute), workload: &str, node: &str, lost: &Lost) -> String {
    let signals: Vec<&NodeSignal> = app
        .node_signals
        .iter()
        .filter(|s| s.side == side && s.node == node)
        .filter(|s| (from..=to).contains(&Minute::containing(s.at)))
        .collect();
    // The strongest signal of the node in the window; among equals, one
    // from EC2's own record (an activity, a CloudTrail event) names the
    // reason, then the earliest.
    let strongest = signals.iter().max_by(|a, b| {
        let outside = |s: &NodeSignal| s.kind.source().reader().is_some();
        (a.kind.cause_rank(), outside(a), std::cmp::Reverse(a.at)).cmp(&(
            b.kind.cause_rank(),
            outside(b),
            std::cmp::Reverse(b.at),
        ))
    });
    let capacity = lost
        .capacity
        .or_else(|| app.clusters.get(side).nodes.get(node).map(|n| n.capacity))
        .map(|c| format!(" ({})", c.short()))
        .unwrap_or_default();
    let taken = match strongest {
        Some(s) if s.kind.cause_rank() >= lost.cause.cause_rank() => {
            format!("{} ({} {})", taken_by(s.kind), s.kind.source().label(), hhmm(Minute::containing(s.at)))
        }
        _ => taken_by(lost.cause).to_string(),
    };
    // Other sources' word on the same node, where the strongest is not
    // theirs: the activity or the event that says why.
    let also: Vec<String> = signals
        .iter()
        .filter(|s| s.kind.source().reader().is_some() && strongest.is_none_or(|t| t.kind != s.kind))
        .map(|s| format!("{} {}", s.kind.label(), hhmm(Minute::containing(s.at))))
        .collect();
    let also = if also.is_empty() { String::new() } else { format!(" [{}]", also.join(", ")) };
    let pods = if lost.count == 1 { "pod" } else { "pods" };
    format!("{} {workload} {pods} on {}{capacity} stopped by {taken}{also}", lost.count, short_node(node))
}

/// What took a node, as the cause says it: a cordon alone is a drain
/// nobody said the reason of (no handler's taint, no activity yet).
fn taken_by(kind: NodeSignalKind) -> &'static str {
    match kind {
        NodeSignalKind::Cordon | NodeSignalKind::TaintUnschedulable => "a drain (cordoned)",
        other => other.label(),
    }
}

fn hhmm(minute: Minute) -> String {
    minute.start().strftime("%H:%M").to_string()
}

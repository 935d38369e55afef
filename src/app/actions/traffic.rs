//! The routes' weights: the guards a step must pass, the proposals (a
//! step, an exact percentage, an undo, every route to old) and their
//! confirmation, and the AWS Load Balancer Controller awaited after an
//! Ingress is written.
//!
//! The way back is not guarded like the way forward: a revert to old is
//! never refused for the console's own staleness, missing metrics or
//! another route's trouble, and a step towards old only warns where a
//! step towards new would refuse.

use jiff::Timestamp;

use crate::app::{
    App, AtWeight, Effect, Level, Marked, Modal, Panel, PercentInput, Proposal, ProposalKind, Purpose, SourceId,
    SourceState, TypedOverride, View,
};
use crate::domain::{ALIAS_TTL_SECS, Minute, RouteId, RouteKind, Side, TargetState, Weights, age, clock};
use crate::keymap::Action;

use super::modal::override_line;
use super::refuse;

/// Polls of the metrics source that may be missed before acting is refused.
const METRICS_MISSED_POLLS: i64 = 2;

/// A step up or down: a proposal to move the selected route to its next
/// step towards new, or back towards old.
pub(super) fn propose_step(app: &mut App, action: Action) {
    let Some(i) = selected_route(app) else { return };
    let Some(current) = app.routes[i].set_share() else {
        return refuse(app, format!("route {}: no weights read yet", app.routes[i].spec.name));
    };
    let steps = &app.routes[i].spec.steps;
    let next = if action == Action::StepUp {
        steps.iter().copied().find(|s| f64::from(*s) > current + 1e-9)
    } else {
        steps.iter().rev().copied().find(|s| f64::from(*s) < current - 1e-9)
    };
    match next {
        Some(step) => propose_weights(app, i, Weights::from_percent_new(step)),
        None => {
            let end = if action == Action::StepUp { "last" } else { "first" };
            refuse(app, format!("route {}: already at or beyond its {end} step", app.routes[i].spec.name))
        }
    }
}

/// The line where the selected route's share to new is typed, as a
/// percentage.
pub(super) fn ask_percent(app: &mut App) {
    if let Some(route) = selected_route(app) {
        app.modal = Some(Modal::Percent(PercentInput { route, text: String::new() }));
    }
}

/// Undo: a proposal to go back to the selected route's weights before the
/// last change of this session.
pub(super) fn propose_undo(app: &mut App) {
    let Some(i) = selected_route(app) else { return };
    let route = &app.routes[i];
    match route.undo.last() {
        Some(w) => {
            let w = *w;
            propose(app, i, w, Purpose::Undo)
        }
        None => refuse(
            app,
            format!(
                "route {}: nothing to undo; it is at the weights the session first read{}",
                route.spec.name,
                route.weights_since.map(|(at, _)| format!(" ({})", clock(at))).unwrap_or_default()
            ),
        ),
    }
}

fn selected_route(app: &App) -> Option<usize> {
    let i = match app.ui.view {
        View::Route(i) => i,
        _ => app.ui.selected[Panel::Traffic.index()],
    };
    (i < app.routes.len()).then_some(i)
}

/// The source whose reads route `i`'s weights come from.
fn weights_source(app: &App, i: usize) -> SourceId {
    if app.config.mode == crate::app::Mode::Demo { SourceId::Simulator } else { app.routes[i].spec.source() }
}

/// Why moving route `i` to `to` now would be acting on a stale or unsafe
/// view, if it would be. Only steps towards new are held to all of it; a
/// step towards old is refused only for what makes it impossible.
pub fn weights_guard(app: &App, i: usize, to: Weights) -> Result<(), String> {
    let route = &app.routes[i];
    let name = &route.spec.name;
    let kind = route.kind();
    let source = kind.source_name();
    let Some(read) = &route.read else {
        return Err(format!("route {name}: {} has not been read yet", kind.backend_name()));
    };
    let Some(from) = read.weights else {
        return Err(format!("route {name}: {} does not hold both of the plan's", kind.weights_of()));
    };
    let max = kind.max_weight();
    if to.old.0 > max || to.new.0 > max {
        return Err(format!("route {name}: weights must be 0 to {max}"));
    }
    let weighted = 2 + read.others.len();
    if let Some(most) = kind.max_weighted().filter(|most| weighted > *most) {
        return Err(format!(
            "route {name}: {} has {weighted} {}s (at most {most})",
            kind.weights_of(),
            kind.weighted_one()
        ));
    }
    if route.pending {
        return Err(format!("route {name}: a change is already being written"));
    }
    // Its source reads the other routes; this one it cannot: what the
    // screen shows of it is as old as its last read.
    if let Some((since, problem)) = &route.problem {
        return Err(format!(
            "route {name} cannot be read since {}: {problem}; steps wait until it reads again (R still reverts)",
            clock(*since)
        ));
    }
    if !towards_new(kind, from, to) {
        return Ok(());
    }
    if app.is_stale(weights_source(app, i)) {
        return Err(format!("route {name}: the {source} source is stale; wait until it reads again (R still reverts)"));
    }
    let read_age = app.now.as_second() - read.at.as_second();
    if read_age > app.config.guards.stale_after_secs {
        return Err(format!(
            "route {name}: the {source} read is {} old (stale after {}s); wait for a fresh read",
            age(read.at, app.now),
            app.config.guards.stale_after_secs
        ));
    }
    if app.config.mode != crate::app::Mode::Demo {
        let metrics = app.routes[i].spec.metrics;
        match app.sources.get(&SourceId::Metrics(metrics)) {
            Some(SourceState::Live { last_ok })
                if app.now.as_second() - last_ok.as_second() <= METRICS_MISSED_POLLS * metrics.poll_secs() => {}
            Some(SourceState::Live { last_ok }) | Some(SourceState::Stale { last_ok: Some(last_ok), .. }) => {
                return Err(format!(
                    "route {name}: the metrics missed their last poll (last good read {} ago); the 5xx on screen are not current",
                    age(*last_ok, app.now)
                ));
            }
            _ => return Err(format!("route {name}: no metrics read yet; the 5xx on screen are not current")),
        }
    }
    for side in Side::BOTH {
        let healthy = read.targets.get(side).iter().filter(|t| t.state == TargetState::Healthy).count();
        if to.get(side).0 > 0 && healthy == 0 {
            return Err(format!(
                "route {name}: {} has no healthy target; it would get weight {}",
                target_group(app, i, side),
                to.get(side).0
            ));
        }
    }
    Ok(())
}

/// What serves a side of route `i`, as a refusal names it: its target
/// group, or the load balancer its record points at.
fn target_group(app: &App, i: usize, side: Side) -> String {
    let route = &app.routes[i];
    let kind = route.kind();
    if kind.per_side_load_balancer() {
        format!(
            "the {side} load balancer ({}, {} {})",
            route.load_balancer(side).unwrap_or("not found"),
            kind.weighted_one(),
            route.spec.weighted(side)
        )
    } else {
        format!("{} {}", kind.weighted_one(), route.spec.weighted(side))
    }
}

/// Whether a change sends a larger share to new: the direction that keeps
/// every guard.
fn towards_new(kind: RouteKind, from: Weights, to: Weights) -> bool {
    kind.share_new(to).unwrap_or(0.0) > kind.share_new(from).unwrap_or(0.0) + 1e-9
}

pub(super) fn propose_weights(app: &mut App, i: usize, to: Weights) {
    propose(app, i, to, Purpose::Step)
}

/// What the operator should see of the target side before a step towards
/// new: its last complete minute, its targets, node drains under way, and
/// how long the route has been at its weight. Returns the lines and, if a
/// step now would be too soon, why.
fn pace(app: &App, i: usize) -> (Vec<String>, Option<String>) {
    let route = &app.routes[i];
    let mut lines = Vec::new();
    let new = route.metrics.get(Side::New);
    let last_complete = Minute::containing(app.now).offset(-1);
    let minute = new.requests.minutes().filter(|m| *m <= last_complete).last();
    match minute {
        Some(m) => {
            let requests = new.requests.get(m).unwrap_or(0.0);
            let share = crate::domain::error_rate(new.requests.get(m), new.target_5xx.get(m));
            let share = share.map_or("no 5xx data".into(), |s| format!("5xx {:.2}%", s * 100.0));
            lines.push(format!("new, minute {}: {share} of {requests:.0} req", crate::domain::clock_minute(m.start())));
        }
        None => lines.push(format!("new: no complete {} minute yet", route.spec.metrics.name())),
    }
    if let Some(read) = &route.read {
        let targets = read.targets.get(Side::New);
        let healthy = targets.iter().filter(|t| t.state == TargetState::Healthy).count();
        let mark = if healthy < targets.len() { "  ⚠" } else { "" };
        lines.push(format!("new targets: {healthy}/{} healthy{mark}", targets.len()));
    }
    let draining: Vec<String> = app
        .clusters
        .get(Side::New)
        .nodes
        .values()
        .filter_map(|n| n.disruption().map(|what| format!("{} ({what})", crate::domain::short_node(&n.name))))
        .collect();
    if !draining.is_empty() {
        let shown: Vec<&str> = draining.iter().take(3).map(String::as_str).collect();
        let more = if draining.len() > 3 { format!(" and {} more", draining.len() - 3) } else { String::new() };
        lines.push(format!("⚠ node drains on new: {}{more}", shown.join(", ")));
    }
    let dwell = app.config.guards.min_dwell_secs;
    let Some(at_weight) = route.at_weight() else {
        return (lines, Some("the route's weights have not been read yet".into()));
    };
    let share = route.set_share().map_or(String::new(), |s| format!(" {s:.0}%"));
    // Where the time at the weight comes from: this session, an earlier
    // one's recording, or nowhere (then it counts as not yet dwelled).
    let (since, known) = match &at_weight {
        AtWeight::Changed(since) => {
            lines.push(format!("at this weight for {} (since {})", age(*since, app.now), clock(*since)));
            (*since, true)
        }
        AtWeight::Before(since, source) => {
            lines.push(format!("at{share} since {} ({source}), {}", clock(*since), age(*since, app.now)));
            (*since, true)
        }
        AtWeight::Unknown(first) => {
            lines.push(format!(
                "time at this weight unknown (no earlier change on record); at it at least {}, since {}",
                age(*first, app.now),
                clock(*first)
            ));
            (*first, false)
        }
    };
    let held = app.now.as_second() - since.as_second();
    // A whole minute of the route's metrics that began at or after the change, with
    // data: the first evidence of how the new weight behaves (the old
    // side's, while new gets no traffic at all).
    let evidence = match route.weights() {
        Some(w) if w.new.0 == 0 => &route.metrics.get(Side::Old).requests,
        _ => &new.requests,
    };
    let seen_minute = evidence.minutes().any(|m| m.start() >= since && m <= last_complete);
    let too_soon = if held < dwell && known {
        Some(format!("only {} at this weight (min_dwell {dwell}s)", age(since, app.now)))
    } else if held < dwell {
        Some(format!(
            "time at this weight unknown: counts as not yet dwelled ({} seen here, min_dwell {dwell}s)",
            age(since, app.now)
        ))
    } else if !seen_minute {
        Some(format!("no complete {} minute seen at this weight yet", route.spec.metrics.name()))
    } else {
        None
    };
    (lines, too_soon)
}

fn propose(app: &mut App, i: usize, to: Weights, purpose: Purpose) {
    let route = &app.routes[i];
    let Some(from) = route.read.as_ref().and_then(|r| r.weights) else {
        return refuse(app, format!("route {}: no weights read yet", route.spec.name));
    };
    if from == to {
        return refuse(app, format!("route {}: already at old {} / new {}", route.spec.name, to.old.0, to.new.0));
    }
    if let Err(reason) = weights_guard(app, i, to) {
        return refuse(app, reason);
    }
    let summary = app.route_summary(&app.routes[i]);
    let rpm: f64 = Side::BOTH.iter().filter_map(|s| summary.figures.get(*s).requests).sum();
    let kind = app.routes[i].kind();
    let from_pct = kind.share_new(from).unwrap_or(0.0);
    let to_pct = kind.share_new(to).unwrap_or(0.0);
    let jump = (to_pct - from_pct).abs();
    let max = f64::from(app.config.guards.max_step);
    let name = app.routes[i].spec.name.clone();
    let mut lines = vec![
        format!("old {} / new {}  →  old {} / new {}", from.old.0, from.new.0, to.old.0, to.new.0),
        format!("{from_pct:.0}% → {to_pct:.0}% to new, of ~{rpm:.0} req/min"),
    ];
    if purpose == Purpose::Undo {
        lines.push("undo: the weights before the last change of this session".into());
    }
    for u in app.routes[i]
        .unsettled
        .iter()
        .filter(|u| app.now.as_second() - u.sent.as_second() <= crate::app::LATE_WRITE_SECS)
    {
        lines.push(format!(
            "⚠ the {} to old {}/new {} sent at {} may still land ({}): it would be named as this session's",
            u.purpose.noun(),
            u.to.old.0,
            u.to.new.0,
            clock(u.sent),
            u.why
        ));
    }
    if let Some(ingress) = app.routes[i].spec.ingress() {
        lines.push(format!(
            "written to Ingress {} on {} ({}); the AWS Load Balancer Controller then writes the rule (waited for up to {}s)",
            ingress.key,
            ingress.side,
            ingress.annotation(),
            crate::app::CONTROLLER_DEADLINE_SECS
        ));
    }
    if let Some(dns) = app.routes[i].spec.dns() {
        let ttl = app.routes[i].ttl().unwrap_or(ALIAS_TTL_SECS);
        lines.push(format!(
            "one change batch for {} {}: DELETE both records as read, CREATE them with the new weights; then wait until INSYNC",
            dns.record_name, dns.record_type
        ));
        lines.push(format!(
            "clients follow as their DNS caches expire (TTL {ttl}s): the observed share lags the set share for minutes"
        ));
        let observed = summary.observed_new;
        if let Some(seen) = observed.filter(|seen| !crate::domain::converged(*seen, from_pct)) {
            lines.push(format!(
                "⚠ clients have not followed the last change yet: {seen:.1}% observed vs {from_pct:.0}% set in {}",
                crate::domain::clock_minute(summary.minute.start())
            ));
        }
    }
    let mut twice = Vec::new();
    // The step's verdict, in every proposal of a route the plan judges;
    // a step towards new over a failed or unready one takes the typed word.
    if let Some(said) = crate::app::analysis::proposal_line(app, i) {
        lines.push(said);
    }
    let held = if towards_new(kind, from, to) { crate::app::analysis::holds(app, i) } else { None };
    if towards_new(kind, from, to) {
        let (pace, too_soon) = pace(app, i);
        lines.extend(pace);
        twice.extend(too_soon);
    } else {
        let read = app.routes[i].read.as_ref();
        let healthy = read.map_or(0, |r| r.targets.old.iter().filter(|t| t.state == TargetState::Healthy).count());
        if to.old.0 > 0 && healthy == 0 {
            lines.push(format!("⚠ {} has no healthy target", target_group(app, i, Side::Old)));
        }
    }
    if jump > max + 1e-9 {
        twice.push(format!("this step moves {jump:.0} points, more than max_step {max:.0}"));
    }
    let needed = if twice.is_empty() { 1 } else { 2 };
    // Another writer of the rule: named; a step (not an undo) that its
    // owner would put back needs the typed override.
    let route = &app.routes[i];
    let owner = route.owners.as_ref().and_then(|o| o.rule.as_ref());
    let typed_override = match route.spec.ingress() {
        // Written the right way, through the Ingress, with `y`; the typed
        // word writes the rule directly, which the controller puts back.
        Some(ingress) if purpose != Purpose::Revert => Some(TypedOverride {
            alternative: true,
            ..TypedOverride::new(format!(
                "the AWS Load Balancer Controller (from Ingress {} on {})",
                ingress.key, ingress.side
            ))
        }),
        Some(_) => None,
        None => {
            owner.filter(|o| purpose == Purpose::Step && o.reverts_weights()).map(|o| TypedOverride::new(o.describe()))
        }
    };
    let typed_override = match (typed_override, held) {
        (Some(o), Some(why)) => Some(TypedOverride { analysis: Some(why), ..o }),
        (None, Some(why)) => Some(TypedOverride::analysis(why)),
        (o, None) => o,
    };
    if route.spec.ingress().is_some() {
        // The Ingress line above says how; the owner is who reads it.
    } else if let Some(owner) = owner {
        lines.push(format!("⚠ {}", owner.weights_advice()));
    } else if let Some(error) = &route.owners_error {
        lines.push(format!("⚠ who else writes this rule is not known: its tags were not read ({error})"));
    }
    let again = app.keymap.label(Action::ConfirmAgain);
    match &typed_override {
        Some(o) => {
            if needed == 2 {
                lines.push(format!("{}: {again} follows the override", twice.join("; ")));
            }
            lines.push(override_line(app, o, needed));
        }
        None if needed == 2 => {
            let first = app.keymap.label(Action::Confirm);
            lines.push(format!("{}: confirm with {first}, then {again}", twice.join("; ")));
        }
        None => {}
    }
    let title = match purpose {
        Purpose::Undo => format!("route {name}: undo, {from_pct:.0}% → {to_pct:.0}% to new"),
        _ => format!("route {name}: {from_pct:.0}% → {to_pct:.0}% to new"),
    };
    app.modal = Some(Modal::Proposal(Proposal {
        title,
        lines,
        kind: ProposalKind::weights(vec![(i, from, to)], purpose),
        needed,
        given: 0,
        made_at: app.now,
        typed_override,
        direct: false,
    }));
}

/// `R`: every route to old 100 / new 0, and every other target of each
/// route (a target group or weighted record the plan does not list) to 0.
/// Refused only when every route is freshly read at that already; a stale
/// view, missing metrics, a write in flight or another route's trouble
/// never hold it back.
pub(super) fn propose_all_old(app: &mut App) {
    let all_old = Weights::from_percent_new(0);
    let stale: Vec<bool> = (0..app.routes.len())
        .map(|i| app.is_stale(weights_source(app, i)) || app.routes[i].problem.is_some())
        .collect();
    let fresh = !stale.contains(&true);
    let unsure: Vec<bool> = (0..app.routes.len())
        .map(|i| {
            let r = &app.routes[i];
            app.writing(RouteId::of(i)) || r.awaiting.is_some() || !r.unsettled.is_empty()
        })
        .collect();
    let mut changes = Vec::new();
    let mut lines = Vec::new();
    for (i, route) in app.routes.iter().enumerate() {
        let fresh = !stale[i];
        let read = route.read.as_ref();
        let weights = read.and_then(|r| r.weights);
        let name = &route.spec.name;
        // Other targets beside the plan's two: each gets 0, and is named.
        let others: Vec<String> = read
            .map(|r| r.others.iter().filter(|(_, w)| w.0 > 0).map(|(g, w)| format!("{g}={}", w.0)).collect())
            .unwrap_or_default();
        let plus: String = others.iter().map(|o| format!(" +{o}")).collect();
        let now = match (weights, read) {
            // All old as read, and nothing of the session's that may land:
            // a step in flight (or whose answer was lost) would undo it.
            (Some(w), Some(r)) if w == all_old && fresh && others.is_empty() && !unsure[i] => {
                lines.push(format!("{name}: already old {} / new 0 (read {} ago)", w.old.0, age(r.at, app.now)));
                continue;
            }
            (Some(w), Some(r)) => {
                format!("old {} / new {}{plus} (read {} ago)", w.old.0, w.new.0, age(r.at, app.now))
            }
            (None, Some(r)) => format!(
                "the plan's two are not both in {}{plus} (read {} ago)",
                route.kind().weights_of(),
                age(r.at, app.now)
            ),
            _ => "weights not read".into(),
        };
        let zeros = if others.is_empty() { "" } else { ", every other 0" };
        lines.push(format!("{name}: {now}  →  old 100 / new 0{zeros}"));
        if unsure[i] {
            lines.push("  a write of this session may still land here: the revert goes ahead of it".into());
        }
        if !others.is_empty() {
            let what = route.kind().weighted_objects();
            lines.push(format!("  ⚠ {} not in the plan: {what} set to 0 too", others.join(" ")));
        }
        let healthy = read.map_or(0, |r| r.targets.old.iter().filter(|t| t.state == TargetState::Healthy).count());
        if read.is_some() && healthy == 0 {
            lines.push(format!("  ⚠ {} has no healthy target", target_group(app, i, Side::Old)));
        }
        // Named, never held back: the way back is not an override.
        if let Some(owner) = route.owners.as_ref().and_then(|o| o.rule.as_ref()).filter(|o| o.reverts_weights()) {
            lines.push(format!(
                "  ⚠ {} owns this rule and may put its weights back: revert it there too",
                owner.describe()
            ));
        }
        changes.push((i, weights.unwrap_or(all_old), all_old));
    }
    if changes.is_empty() {
        return refuse(app, "every route already sends everything to old".into());
    }
    if !fresh {
        lines.push("some reads are stale: each route is read again right before it is written".into());
    }
    app.modal = Some(Modal::Proposal(Proposal {
        title: "ALL routes: 100% to old".into(),
        lines,
        kind: ProposalKind::weights(changes, Purpose::Revert),
        needed: 1,
        given: 0,
        made_at: app.now,
        typed_override: None,
        direct: false,
    }));
}

/// `direct`: the rule itself, even where the plan names its Ingress (the
/// typed override of a proposal that offered both).
pub(super) fn confirm_weights(
    app: &mut App,
    title: &str,
    changes: Vec<(usize, Weights, Weights)>,
    purpose: Purpose,
    direct: bool,
) {
    let who = app.operator.clone();
    let at = app.now;
    if purpose != Purpose::Revert {
        // The world may have moved while the proposal was open.
        for (i, from, to) in &changes {
            if let Err(reason) = weights_guard(app, *i, *to) {
                return refuse(app, reason);
            }
            if app.routes[*i].read.as_ref().and_then(|r| r.weights) != Some(*from) {
                return refuse(
                    app,
                    format!("route {}: the weights changed while the proposal was open", app.routes[*i].spec.name),
                );
            }
        }
    }
    for (i, from, to) in changes {
        let route = &mut app.routes[i];
        route.pending = true;
        let read = route.read.as_ref();
        let name = route.spec.name.clone();
        let seen = (purpose != Purpose::Revert).then(|| {
            let weighted = |side: Side| route.spec.weighted(side).to_string();
            let mut seen = vec![(weighted(Side::Old), from.old), (weighted(Side::New), from.new)];
            seen.extend(read.map(|r| r.others.clone()).unwrap_or_default());
            seen
        });
        let known_from = read.and_then(|r| r.weights);
        let unread = if read.is_some() { "(the plan's two not both there)" } else { "(weights not read)" };
        // The panic button: every other target of the route gets 0 too,
        // the ones the plan does not know named.
        let all_old = purpose == Purpose::Revert;
        let zeroed: Vec<String> = match read {
            Some(r) if all_old => {
                r.others.iter().filter(|(_, w)| w.0 > 0).map(|(g, w)| format!("{g}={}", w.0)).collect()
            }
            _ => Vec::new(),
        };
        let ingress = route.spec.ingress().cloned().filter(|_| !direct);
        let id = RouteId::of(i);
        // The write whose verification completes the action's line: the
        // rule's, when the rule is written.
        let sent = match (ingress, purpose) {
            // The panic button writes the rule at once, and the Ingress too,
            // so that the controller keeps it there.
            (Some(ingress), Purpose::Revert) => {
                let rule = app.send(Effect::SetWeights { route: id, seen, to, all_old }, purpose, known_from);
                app.send(Effect::SetIngressWeights { route: id, ingress, to, all_old }, purpose, known_from);
                rule
            }
            (Some(ingress), _) => {
                app.send(Effect::SetIngressWeights { route: id, ingress, to, all_old }, purpose, known_from)
            }
            (None, _) => app.send(Effect::SetWeights { route: id, seen, to, all_old }, purpose, known_from),
        };
        let proposal = title.to_string();
        let seen_from = if purpose == Purpose::Revert { known_from } else { Some(from) };
        app.mark(
            at,
            Marked::Weights { route: name.clone(), from: seen_from, to, who: who.clone(), proposal, armed: None },
        );
        let verb = match purpose {
            Purpose::Revert => "reverted",
            Purpose::Undo => "undid to",
            _ => "set",
        };
        let also = if zeroed.is_empty() {
            String::new()
        } else {
            format!(", and {} (not in the plan) -> 0", zeroed.join(" "))
        };
        app.push_action_event(
            at,
            Level::Warn,
            format!(
                "route {name}: {who} {verb} {} -> old {}/new {}{also}",
                seen_from.map_or(unread.into(), |f| format!("old {}/new {}", f.old.0, f.new.0)),
                to.old.0,
                to.new.0
            ),
            sent,
        );
    }
}

/// The ALB shows what was written to a route's Ingress: the controller
/// did its part, and the write counts as verified from here.
pub fn controller_wrote(app: &mut App, i: usize, at: Timestamp) {
    let still_writing = app.writing(RouteId::of(i));
    let route = &mut app.routes[i];
    let Some(aw) = route.awaiting.take() else { return };
    route.pending = still_writing;
    route.standing = Some(crate::app::Standing {
        effect: aw.effect,
        to: aw.to,
        all_old: aw.all_old,
        purpose: aw.purpose,
        who: aw.who.clone(),
        at,
    });
    route.note_verified(at, aw.who.clone(), aw.to);
    route.note_undo(aw.from, aw.to, aw.purpose);
    let name = route.spec.name.clone();
    let took = at.as_second() - aw.since.as_second();
    let text = format!(
        "route {name}: the AWS Load Balancer Controller wrote old {}/new {} to the rule, {took}s after the Ingress",
        aw.to.old.0, aw.to.new.0
    );
    app.push_event(at, None, Level::Info, format!("done and verified: {text}"));
    app.mark(at, Marked::Outcome { ok: true, effect: format!("route {name}: controller write"), text });
}

/// Every route whose Ingress was written and whose rule has not followed
/// within the deadline: said loudly, once, and the route free again.
pub fn controllers_overdue(app: &mut App) {
    let now = app.now;
    for i in 0..app.routes.len() {
        let route = &mut app.routes[i];
        let Some(aw) = route.awaiting.as_ref() else { continue };
        if now.as_second() - aw.since.as_second() <= crate::app::CONTROLLER_DEADLINE_SECS {
            continue;
        }
        let to = aw.to;
        route.awaiting = None;
        route.pending = false;
        let name = route.spec.name.clone();
        let text = format!(
            "route {name}: the AWS Load Balancer Controller has not written old {}/new {} to the rule within {}s of the Ingress change: look at the Ingress's events and the controller's logs",
            to.old.0,
            to.new.0,
            crate::app::CONTROLLER_DEADLINE_SECS
        );
        app.push_event(now, None, Level::Alert, text.clone());
        app.notice = Some(text.clone());
        app.mark(now, Marked::Outcome { ok: false, effect: format!("route {name}: controller write"), text });
    }
}

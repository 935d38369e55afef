//! Proposals, guards and handoffs: how an operator's key becomes an
//! effect, and every reason it may not.
//!
//! Nothing here does anything: a confirmed proposal sends effects through
//! `App::send`, which `update` hands back to the runtime for the session's
//! executor. The guards run twice, when a proposal is made and again on
//! confirmation, against the state as it is then.
//!
//! The way back is not guarded like the way forward: a revert to old is
//! never refused for the console's own staleness, missing metrics or
//! another route's trouble, and a step towards old only warns where a
//! step towards new would refuse.

use jiff::Timestamp;

use crate::domain::{
    ALIAS_TTL_SECS, Minute, RouteId, RouteKind, Side, SingletonSpec, TargetState, Weights, Workload, WorkloadKey,
    WorkloadKind, age, clock,
};
use crate::keymap::{Action, Key, KeyCode};

use super::{
    Alarm, AlarmKind, App, AtWeight, Effect, EffectResult, Handoff, HandoffPhase, Level, Marked, Modal, Panel,
    PercentInput, Proposal, ProposalKind, Purpose, SourceId, SourceState, State, TypedOverride, View,
};

/// Polls of the metrics source that may be missed before acting is refused.
const METRICS_MISSED_POLLS: i64 = 2;

/// Handles a key while a proposal or an input is open. Returns true when
/// the key was for the modal.
pub fn on_modal_key(app: &mut App, key: Key, action: Option<Action>) -> bool {
    let Some(modal) = app.modal.take() else { return false };
    match modal {
        Modal::Percent(mut input) => {
            match (key.code, action) {
                (KeyCode::Char(c), _) if c.is_ascii_digit() && input.text.len() < 4 => input.text.push(c),
                (KeyCode::Backspace, _) => {
                    input.text.pop();
                }
                (KeyCode::Enter, _) => {
                    match input.text.parse::<u16>() {
                        Ok(p) if p <= 100 => propose_weights(app, input.route, Weights::from_percent_new(p as u8)),
                        _ => refuse(app, format!("`{}` is not a percentage from 0 to 100", input.text)),
                    }
                    return true;
                }
                (KeyCode::Esc, _) | (_, Some(Action::Cancel | Action::Back)) => return true,
                (_, Some(Action::Quit)) => {
                    quit_or_ask(app, key);
                    return true;
                }
                _ => {}
            }
            app.modal = Some(Modal::Percent(input));
        }
        Modal::Quit(_) => {
            if action == Some(Action::Confirm) || key == Key::ctrl('c') {
                app.quit = true;
            } else {
                app.notice = Some("not quitting: the console goes on".into());
            }
        }
        // An owner would undo it: the first confirmation is a typed word.
        Modal::Proposal(p) if p.given == 0 && p.typed_override.is_some() => on_override_key(app, p, key, action),
        Modal::Proposal(p) => match action {
            // The first confirmation is `y`; a second one, where needed, is
            // a different key, so a held or bouncing `y` never gives it.
            Some(Action::Confirm) if p.given == 0 => first_confirmation(app, p),
            Some(Action::ConfirmAgain) if p.given == 1 && p.needed == 2 => confirm(app, p),
            Some(Action::Confirm | Action::ConfirmAgain) => {
                let again = app.keymap.label(Action::ConfirmAgain);
                let first = app.keymap.label(Action::Confirm);
                app.notice = Some(if p.given == 0 {
                    format!("confirm with {first} first")
                } else {
                    format!("this needs a second, different confirmation: {again}")
                });
                app.modal = Some(Modal::Proposal(p));
            }
            Some(Action::Cancel | Action::Back) => dropped(app, &p),
            Some(Action::Quit) => quit_or_ask(app, key),
            _ => app.modal = Some(Modal::Proposal(p)),
        },
    }
    true
}

/// A key while a proposal waits for its typed override: characters are
/// typed (a confirmation key first says it is not taken), Backspace
/// deletes, Enter checks the word, Esc drops the proposal, Ctrl-C quits.
fn on_override_key(app: &mut App, mut p: Proposal, key: Key, action: Option<Action>) {
    if key == Key::ctrl('c') {
        return quit_or_ask(app, key);
    }
    let Some(o) = p.typed_override.as_mut() else { return };
    if o.alternative && o.typed.is_empty() && action == Some(Action::Confirm) {
        // The right way: `y`, as any proposal, and no override.
        p.typed_override = None;
        return first_confirmation(app, p);
    }
    match key.code {
        KeyCode::Esc => return dropped(app, &p),
        KeyCode::Enter if o.typed == o.word => {
            p.direct = o.alternative;
            return first_confirmation(app, p);
        }
        KeyCode::Enter => {
            app.notice = Some(format!("`{}` is not `{}`: type it exactly, then Enter", o.typed, o.word));
            o.typed.clear();
        }
        KeyCode::Backspace => {
            o.typed.pop();
        }
        KeyCode::Char(c) if !key.ctrl && !key.alt => {
            let confirm_key = matches!(action, Some(Action::Confirm | Action::ConfirmAgain));
            let take = matches!(p.kind, ProposalKind::TakeWheel { .. });
            if o.typed.is_empty() && confirm_key && !o.word.starts_with(c) && take {
                app.notice = Some(format!(
                    "{} does not take the wheel: type `{}`, then Enter",
                    app.keymap.label(action.unwrap_or(Action::Confirm)),
                    o.word
                ));
            } else if o.typed.is_empty() && confirm_key && !o.word.starts_with(c) {
                app.notice = Some(format!(
                    "{} does not confirm this one ({}): type `{}`, then Enter",
                    app.keymap.label(action.unwrap_or(Action::Confirm)),
                    o.reason(),
                    o.word
                ));
            } else if o.typed.chars().count() < o.word.chars().count() + 8 {
                o.typed.push(c);
            }
        }
        _ => {}
    }
    app.modal = Some(Modal::Proposal(p));
}

/// The first confirmation given: the proposal is applied, or waits for
/// its second, different one.
fn first_confirmation(app: &mut App, mut p: Proposal) {
    p.given = 1;
    if p.given < p.needed {
        app.modal = Some(Modal::Proposal(p));
    } else {
        confirm(app, p);
    }
}

fn dropped(app: &mut App, p: &Proposal) {
    let at = app.now;
    let who = app.operator.clone();
    app.push_event(at, None, Level::Info, format!("proposal dropped by {who}: {}", p.title));
}

/// The line of a proposal that an owner would undo: how to go ahead anyway.
fn override_line(app: &App, o: &TypedOverride, needed: u8) -> String {
    let then = if needed == 2 { format!(", then {}", app.keymap.label(Action::ConfirmAgain)) } else { String::new() };
    if o.alternative {
        return format!(
            "{} writes it through the Ingress; to write the rule directly instead ({} will put it back), type `{}`, then Enter{then}",
            app.keymap.label(Action::Confirm),
            o.owner,
            o.word
        );
    }
    format!(
        "to do it here anyway: type `{}`, then Enter{then} ({} does not confirm this one)",
        o.word,
        app.keymap.label(Action::Confirm)
    )
}

/// `q` with a proposal or input open: drops it, and quits unless
/// something is in flight (then asks). Ctrl-C always quits.
fn quit_or_ask(app: &mut App, key: Key) {
    if key == Key::ctrl('c') || !ask_before_quit(app) {
        app.quit = true;
    }
}

/// Whether quitting now would leave a handoff or a write in flight; if so
/// the question is put on screen and true returned.
pub fn ask_before_quit(app: &mut App) -> bool {
    if !app.can_act() {
        return false;
    }
    let mut lines = Vec::new();
    if let Some(h) = &app.handoff
        && !h.phase.finished()
    {
        lines.push(format!("handoff {}", h.state_text()));
        lines.push(super::signal::kept(app, h));
    }
    for f in app.in_flight.values() {
        lines.push(format!("written, answer not yet in: {}", f.effect.describe(&app.config.routes)));
    }
    for r in &app.routes {
        for u in r.unsettled.iter().filter(|u| app.now.as_second() - u.sent.as_second() <= super::LATE_WRITE_SECS) {
            lines.push(format!(
                "may still land: route {}: the {} to old {}/new {} ({}); no console would name it as yours",
                r.spec.name,
                u.purpose.noun(),
                u.to.old.0,
                u.to.new.0,
                u.why
            ));
        }
    }
    if lines.is_empty() {
        return false;
    }
    app.modal = Some(Modal::Quit(lines));
    true
}

/// An action that changes the world, pressed with no modal open.
pub fn on_mutating_action(app: &mut App, action: Action) {
    app.notice = None;
    if !app.config.mode.can_act() {
        refuse(app, format!("{}: read-only, nothing can be changed from here", action.name()));
        return;
    }
    // Another console drives: only the way back, and taking the wheel.
    if !matches!(action, Action::RevertAll | Action::TakeWheel)
        && let Some(why) = app.wheel_refusal()
    {
        return refuse(app, why);
    }
    match action {
        Action::StepUp | Action::StepDown => {
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
        Action::SetPercent => {
            if let Some(route) = selected_route(app) {
                app.modal = Some(Modal::Percent(PercentInput { route, text: String::new() }));
            }
        }
        Action::Revert => {
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
        Action::RevertAll => propose_all_old(app),
        Action::Handoff => propose_handoff(app),
        Action::Abort => propose_abort(app),
        Action::TakeWheel => super::wheel::propose_take(app),
        _ => {}
    }
}

fn selected_route(app: &App) -> Option<usize> {
    let i = match app.ui.view {
        View::Route(i) => i,
        _ => app.ui.selected[Panel::Traffic.index()],
    };
    (i < app.routes.len()).then_some(i)
}

/// Shows why something was not done, on screen and in the events.
pub fn refuse(app: &mut App, reason: String) {
    let at = app.now;
    app.push_event(at, None, Level::Alert, format!("refused: {reason}"));
    let who = app.operator.clone();
    app.mark(at, Marked::Refused { reason: reason.clone(), who });
    app.notice = Some(reason);
}

/// The source whose reads route `i`'s weights come from.
fn weights_source(app: &App, i: usize) -> SourceId {
    if app.config.mode == super::Mode::Demo { SourceId::Simulator } else { app.routes[i].spec.source() }
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
    if app.config.mode != super::Mode::Demo {
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

fn propose_weights(app: &mut App, i: usize, to: Weights) {
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
    for u in
        app.routes[i].unsettled.iter().filter(|u| app.now.as_second() - u.sent.as_second() <= super::LATE_WRITE_SECS)
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
            super::CONTROLLER_DEADLINE_SECS
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
fn propose_all_old(app: &mut App) {
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

fn selected_workload(app: &App) -> Option<WorkloadKey> {
    match &app.ui.view {
        View::Workload(key) => Some(key.clone()),
        _ => app.visible_workload_keys().get(app.ui.selected[Panel::Workloads.index()]).cloned(),
    }
}

fn running(w: Option<&Workload>) -> bool {
    w.is_some_and(Workload::is_active)
}

/// Whether a side's cluster is read: Kubernetes there, and every watch's
/// first list done, so that an object not shown does not exist (a source
/// that went stale since still counts: its last view is shown as stale,
/// not as empty).
fn side_read(app: &App, side: Side) -> bool {
    app.clusters.get(side).synced
}

/// The side a singleton belongs on: where the last handoff of it sent it,
/// else old (before a cutover, everything runs there).
fn expected_side(app: &App, spec: &SingletonSpec) -> Side {
    match &app.handoff {
        Some(h) if h.spec.name == spec.name => match h.phase {
            HandoffPhase::Aborted | HandoffPhase::Aborting | HandoffPhase::Refused(_) | HandoffPhase::Failed(_) => {
                h.from
            }
            _ => h.to,
        },
        _ => Side::Old,
    }
}

/// Why a handoff started now would not be kept on disk, in `run`: the
/// handoff state file cannot be written.
fn unkept(app: &App) -> Option<String> {
    let t = app.keeping.state_file.as_ref().filter(|_| app.config.mode == super::Mode::Run)?;
    Some(format!("the handoff state file {} cannot be written ({})", t.path, t.error))
}

fn singleton_index(app: &App, name: &str) -> usize {
    app.config.singletons.iter().position(|s| s.name == name).unwrap_or(0)
}

fn propose_handoff(app: &mut App) {
    let Some(key) = selected_workload(app) else { return };
    let Some(spec) = app.singleton_for(&key).cloned() else {
        return refuse(app, format!("{key} is not a singleton of the plan; only singletons are handed over"));
    };
    let index = singleton_index(app, &spec.name);
    if app.alarms.contains_key(&spec.name) {
        return propose_fix(app, index);
    }
    if let Some(h) = &app.handoff
        && !h.phase.finished()
    {
        return refuse(app, format!("handoff {}", h.state_text()));
    }
    for side in Side::BOTH {
        if !side_read(app, side) {
            return refuse(app, format!("k8s {side} has not been read: a handoff needs Kubernetes on both sides"));
        }
        if app.is_stale(SourceId::Cluster(side)) {
            return refuse(app, format!("k8s {side} is stale; a handoff needs both sides live"));
        }
    }
    let on = |side: Side| running(app.clusters.get(side).workloads.get(spec.key(side)));
    let (from, to) = match (on(Side::Old), on(Side::New)) {
        (true, true) => {
            return refuse(app, format!("singleton {} runs on BOTH sides now: stop one by hand first", spec.name));
        }
        (false, false) => {
            return refuse(app, format!("singleton {} runs on neither side: nothing to hand over", spec.name));
        }
        (true, false) => (Side::Old, Side::New),
        (false, true) => (Side::New, Side::Old),
    };
    let kind_name = if spec.kind == WorkloadKind::CronJob { "CronJob" } else { "Deployment" };
    if !app.clusters.get(to).workloads.contains_key(spec.key(to)) {
        return refuse(
            app,
            format!("the {to} side has no {kind_name} {}: it could not be started; nothing was stopped", spec.key(to)),
        );
    }
    let what = match spec.kind {
        WorkloadKind::CronJob => ("suspend", "resume", "no active Jobs and no pods"),
        _ => ("scale to 0", "scale to", "no pods"),
    };
    let mut lines = vec![
        format!("0. check that {} exists on {to} and that you may patch both sides", spec.key(to)),
        format!("1. {} {} on {from}", what.0, spec.key(from)),
        format!("2. wait until {from} has {}", what.2),
        match spec.kind {
            WorkloadKind::CronJob => format!("3. {} {} on {to}", what.1, spec.key(to)),
            _ => format!("3. {} {} {} on {to}", what.1, spec.replicas, spec.key(to)),
        },
        format!("4. wait until {to} is ready; the gap is timed"),
    ];
    for side in [from, to] {
        if let Some(hpa) = app.clusters.get(side).autoscalers.get(spec.key(side))
            && (hpa.min > spec.replicas || side == from)
        {
            lines.push(format!(
                "⚠ an HPA scales {} on {side} (min {}, max {}): {}",
                spec.key(side),
                hpa.min,
                hpa.max,
                if side == from {
                    "it may scale the stopped side back up"
                } else {
                    "it will not keep the plan's replicas"
                }
            ));
        }
    }
    let (catch_up, starting_deadline) = match cronjob_catch_up(app, &spec, from, to) {
        Ok(c) => c,
        Err(reason) => return refuse(app, reason),
    };
    lines.extend(catch_up);
    lines.push(format!("{} proposes aborting while step 2 waits (restores {from})", app.keymap.label(Action::Abort)));
    let (owners, undone_by) = singleton_owners(app, &spec);
    lines.extend(owners);
    let mut typed_override = undone_by.map(TypedOverride::new);
    // Without its state file a handoff dies with this console: started
    // only on purpose.
    if let Some(unkept) = unkept(app) {
        lines.push(format!("⚠ {unkept}: if this console stops mid-handoff, no later one picks it up"));
        let o = typed_override.get_or_insert_with(|| TypedOverride::new(String::new()));
        o.unkept = Some(unkept);
    }
    if let Some(o) = &typed_override {
        lines.push(override_line(app, o, 1));
    }
    app.modal = Some(Modal::Proposal(Proposal {
        title: format!("hand {} over: {from} → {to}", spec.name),
        lines,
        kind: ProposalKind::Handoff { singleton: index, from, to, starting_deadline },
        needed: 1,
        given: 0,
        made_at: app.now,
        typed_override,
        direct: false,
    }));
}

/// Who else writes a singleton on each side, one line each, and, when one
/// of them would scale a Deployment back (Argo CD, Flux: the manifest
/// cannot be seen from here, so it is taken to set `replicas` unless Flux
/// is told to leave the object alone), who, for the typed override.
fn singleton_owners(app: &App, spec: &SingletonSpec) -> (Vec<String>, Option<String>) {
    let mut lines = Vec::new();
    let mut undone_by = Vec::new();
    for side in Side::BOTH {
        let Some(owner) = app.clusters.get(side).workloads.get(spec.key(side)).and_then(|w| w.owner.as_ref()) else {
            continue;
        };
        lines.push(format!("⚠ {side}: {}", owner.replicas_advice(spec.kind)));
        if spec.kind == WorkloadKind::Deployment && owner.reverts_replicas() {
            undone_by.push(format!("{side}: {}", owner.describe()));
        }
    }
    (lines, (!undone_by.is_empty()).then(|| undone_by.join("; ")))
}

/// For a CronJob, the runs missed on the target side while it was
/// suspended, and the `startingDeadlineSeconds` that keeps them from
/// starting when it is resumed (the CronJob controller starts the latest
/// missed run on a resume unless it is past that deadline).
///
/// `Err` when no resume is safe yet: a slot was missed moments ago, too
/// recently to be fenced off with a deadline the controller honours.
fn cronjob_catch_up(
    app: &App,
    spec: &SingletonSpec,
    from: Side,
    to: Side,
) -> Result<(Vec<String>, Option<i64>), String> {
    if spec.kind != WorkloadKind::CronJob {
        return Ok((Vec::new(), None));
    }
    let Some(target) = app.clusters.get(to).workloads.get(spec.key(to)) else { return Ok((Vec::new(), None)) };
    let Some(schedule) = target.schedule.as_deref() else { return Ok((Vec::new(), None)) };
    // The controller counts from the last run, or from the creation of a
    // CronJob that never ran.
    let Some(since) = target.last_schedule.or(target.created) else {
        return Ok((vec![format!("⚠ {to} has no lastScheduleTime nor creation time: missed runs not counted")], None));
    };
    let plan = match crate::domain::plan_no_catch_up(
        schedule,
        target.time_zone.as_deref(),
        since,
        target.starting_deadline,
        app.now,
    ) {
        Ok(plan) => plan,
        Err(e) => return Ok((vec![format!("⚠ missed runs of {to} not counted: {e}")], None)),
    };
    let mut lines = Vec::new();
    let Some(last_missed) = plan.missed.last else {
        lines.push(format!("no run of {to} was missed while suspended: nothing to catch up"));
        return Ok((lines, None));
    };
    let source = app.clusters.get(from).workloads.get(spec.key(from));
    let ran = source
        .and_then(|w| w.last_schedule)
        .map(|t| format!("; {from} already ran the slot of {}", clock(t)))
        .unwrap_or_default();
    let count =
        if plan.missed.more { format!("more than {}", plan.missed.count) } else { plan.missed.count.to_string() };
    lines.push(format!("{count} run(s) of {to} missed while suspended, the last at {}{ran}", clock(last_missed)));
    if let Some(wait) = plan.wait_until {
        return Err(format!(
            "{}: a run of {to} was missed at {}, too recently to keep it from starting on a resume; propose again after {}",
            spec.name,
            clock(last_missed),
            clock(wait)
        ));
    }
    match plan.set_deadline {
        Some(deadline) => {
            lines.push(format!("the resume sets startingDeadlineSeconds {deadline}: no missed run starts"));
        }
        None => lines.push(format!(
            "its startingDeadlineSeconds {} already keeps them from starting",
            target.starting_deadline.unwrap_or_default()
        )),
    }
    Ok((lines, plan.set_deadline))
}

/// A singleton that runs on neither side or on both: the proposal that
/// puts it back on one side.
fn propose_fix(app: &mut App, singleton: usize) {
    let spec = app.config.singletons[singleton].clone();
    let Some(alarm) = app.alarms.get(&spec.name).cloned() else { return };
    let expected = expected_side(app, &spec);
    let (side, start, text) = match alarm.kind {
        AlarmKind::Neither => (expected, true, format!("start {} on {expected} (it runs on neither side)", spec.name)),
        AlarmKind::Both => {
            let other = expected.other();
            (other, false, format!("stop {} on {other} (it runs on BOTH sides; it belongs on {expected})", spec.name))
        }
    };
    if !side_read(app, side) || app.is_stale(SourceId::Cluster(side)) {
        return refuse(app, format!("k8s {side} is not read live: cannot act on {}", spec.name));
    }
    let mut lines = vec![text];
    if start {
        lines.push(format!(
            "only if {} on {} runs nothing at that moment (read afresh)",
            spec.key(side.other()),
            side.other()
        ));
        if app.handoff.as_ref().is_some_and(|h| {
            h.spec.name == spec.name && h.phase.in_gap() | matches!(h.phase, HandoffPhase::StartFailed(_))
        }) {
            let from = app.handoff.as_ref().map(|h| h.from).unwrap_or(Side::Old);
            if from != side {
                lines.push(format!("or {} proposes restoring {from} instead", app.keymap.label(Action::Abort)));
            }
        }
    }
    // Named, not held back: a GitOps controller is often why it is here.
    lines.extend(singleton_owners(app, &spec).0);
    app.modal = Some(Modal::Proposal(Proposal {
        title: format!("fix singleton {}: {} on {side}", spec.name, if start { "start" } else { "stop" }),
        lines,
        kind: ProposalKind::Fix { singleton, side, start },
        needed: 1,
        given: 0,
        made_at: app.now,
        typed_override: None,
        direct: false,
    }));
}

/// `x`: a proposal to abort the handoff in progress by restoring its
/// source, while that is still the safe way back.
fn propose_abort(app: &mut App) {
    let Some(h) = &app.handoff else { return refuse(app, "no handoff in progress".into()) };
    match &h.phase {
        HandoffPhase::Stopping | HandoffPhase::WaitingGone | HandoffPhase::StartFailed(_) => {
            let mut lines = vec![
                format!("start {} on {} again ({} replica(s))", h.spec.key(h.from), h.from, h.spec.replicas),
                format!("only if {} on {} runs nothing at that moment (read afresh)", h.spec.key(h.to), h.to),
            ];
            if let HandoffPhase::StartFailed(why) = &h.phase {
                lines.insert(0, format!("the start of {} failed: {why}", h.to));
            }
            app.modal = Some(Modal::Proposal(Proposal {
                title: format!("abort handoff of {}: restore {}", h.spec.name, h.from),
                lines,
                kind: ProposalKind::Abort,
                needed: 1,
                given: 0,
                made_at: app.now,
                typed_override: None,
                direct: false,
            }));
        }
        HandoffPhase::Starting | HandoffPhase::WaitingReady => {
            let reason = format!(
                "handoff of {} can no longer be aborted: {} has been started (hand it back with a new handoff)",
                h.spec.name, h.to
            );
            refuse(app, reason)
        }
        _ => refuse(app, "no handoff in progress".into()),
    }
}

fn confirm(app: &mut App, p: Proposal) {
    let who = app.operator.clone();
    let at = app.now;
    // The wheel may have gone while the proposal was open.
    if !matches!(p.kind, ProposalKind::RevertAll(_) | ProposalKind::TakeWheel { .. })
        && let Some(why) = app.wheel_refusal()
    {
        return refuse(app, why);
    }
    if let ProposalKind::TakeWheel { from } = p.kind {
        let text = match &from {
            Some(from) => format!("{who} takes the wheel from {}", crate::domain::wheel::short_holder(from)),
            None => format!("{who} takes the wheel"),
        };
        let id = app.send(Effect::TakeWheel { from }, Purpose::Wheel, None);
        app.push_action_event(at, Level::Warn, text, id);
        app.notice = None;
        return;
    }
    if let Some(o) = &p.typed_override {
        let text = format!("OVERRIDE by {who}: {} ({})", p.title, o.reason());
        app.push_event(at, None, Level::Alert, text);
        app.mark(at, Marked::Override { who: who.clone(), owner: o.overridden(), proposal: p.title.clone() });
    }
    match p.kind {
        ProposalKind::Weights(changes) => confirm_weights(app, &p.title, changes, Purpose::Step, p.direct),
        ProposalKind::Undo(changes) => confirm_weights(app, &p.title, changes, Purpose::Undo, p.direct),
        ProposalKind::RevertAll(changes) => confirm_weights(app, &p.title, changes, Purpose::Revert, false),
        ProposalKind::Handoff { singleton, from, to, starting_deadline } => {
            let spec = app.config.singletons[singleton].clone();
            if running(app.clusters.get(to).workloads.get(spec.key(to))) {
                return refuse(app, format!("singleton {} already runs on {to}", spec.name));
            }
            let overridden = p.typed_override.as_ref().is_some_and(|o| o.unkept.is_some());
            if let Some(unkept) = unkept(app).filter(|_| !overridden) {
                return refuse(app, format!("{unkept} since the proposal: propose the handoff again"));
            }
            let stop = Effect::Stop {
                side: from,
                key: spec.key(from).clone(),
                kind: spec.kind,
                then: Some(spec.key(to).clone()),
            };
            app.send(stop, Purpose::Handoff, None);
            app.push_event(at, None, Level::Warn, format!("handoff {} {from} → {to} started by {who}", spec.name));
            app.mark(at, Marked::HandoffStarted { singleton: spec.name.clone(), from, to, who: who.clone() });
            app.handoff = Some(Handoff {
                spec,
                from,
                to,
                phase: HandoffPhase::Stopping,
                started: at,
                gone_at: None,
                ready_at: None,
                who,
                starting_deadline,
                gone_after: None,
            });
        }
        ProposalKind::Fix { singleton, side, start } => {
            let spec = app.config.singletons[singleton].clone();
            let ours = app.handoff.as_mut().filter(|h| h.spec.name == spec.name && !h.phase.finished());
            let effect = if start {
                let deadline = ours.as_ref().and_then(|h| h.starting_deadline);
                if let Some(h) = ours {
                    // Retrying the start of the handoff's target, or
                    // restoring its source: the handoff goes on from there.
                    h.phase = if side == h.to { HandoffPhase::Starting } else { HandoffPhase::Aborting };
                }
                Effect::Start {
                    side,
                    key: spec.key(side).clone(),
                    kind: spec.kind,
                    replicas: spec.replicas,
                    other: spec.key(side.other()).clone(),
                    starting_deadline: deadline,
                }
            } else {
                Effect::Stop { side, key: spec.key(side).clone(), kind: spec.kind, then: None }
            };
            let text = format!("singleton {}: {who} confirmed: {}", spec.name, effect.describe(&app.config.routes));
            let purpose = if app.handoff.as_ref().is_some_and(|h| h.spec.name == spec.name && !h.phase.finished()) {
                Purpose::Handoff
            } else {
                Purpose::Fix
            };
            app.send(effect, purpose, None);
            app.push_event(at, None, Level::Warn, text);
        }
        ProposalKind::Abort => {
            let Some(h) = app.handoff.as_mut() else { return refuse(app, "no handoff in progress".into()) };
            if !matches!(h.phase, HandoffPhase::Stopping | HandoffPhase::WaitingGone | HandoffPhase::StartFailed(_)) {
                let reason = format!("handoff of {} can no longer be aborted: {}", h.spec.name, h.state_text());
                return refuse(app, reason);
            }
            h.phase = HandoffPhase::Aborting;
            let effect = Effect::Start {
                side: h.from,
                key: h.spec.key(h.from).clone(),
                kind: h.spec.kind,
                replicas: h.spec.replicas,
                other: h.spec.key(h.to).clone(),
                starting_deadline: None,
            };
            let text = format!("handoff {} aborted by {who}: restoring {}", h.spec.name, h.from);
            let aborted = Marked::HandoffAborted { singleton: h.spec.name.clone(), who };
            app.send(effect, Purpose::Handoff, None);
            app.push_event(at, None, Level::Warn, text);
            app.mark(at, aborted);
        }
        ProposalKind::TakeWheel { .. } => {}
    }
}

/// `direct`: the rule itself, even where the plan names its Ingress (the
/// typed override of a proposal that offered both).
fn confirm_weights(
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
        app.mark(at, Marked::Weights { route: name.clone(), from: seen_from, to, who: who.clone(), proposal });
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

/// Moves a handoff along as the clusters change: the target side is
/// started only once the source side runs nothing at all.
pub fn advance_handoff(app: &mut App) {
    let Some(h) = app.handoff.as_ref() else { return };
    // Before both sides' first list, an empty side is not an idle one.
    if !Side::BOTH.iter().all(|s| side_read(app, *s)) {
        return;
    }
    let now = app.now;
    match h.phase {
        HandoffPhase::WaitingGone => {
            let source = app.clusters.get(h.from);
            let key = h.spec.key(h.from);
            let workload_idle = !running(source.workloads.get(key));
            if workload_idle
                && pods_still_running(app, h.from, key) == 0
                && let Some(why) = app.wheel_refusal()
            {
                let (name, from, to) = (h.spec.name.clone(), h.from, h.to);
                let reason = format!("{to} not started: {why}");
                let text = format!("handoff {name}: {from} runs nothing and {to} is NOT started: {why}");
                if let Some(h) = app.handoff.as_mut() {
                    h.gone_at = Some(now);
                    h.phase = HandoffPhase::StartFailed(reason.clone());
                }
                app.push_event(now, None, Level::Alert, text.clone());
                app.notice = Some(text);
                app.mark(now, Marked::HandoffFailed { singleton: name, reason });
                return;
            }
            if workload_idle && pods_still_running(app, h.from, key) == 0 {
                let effect = Effect::Start {
                    side: h.to,
                    key: h.spec.key(h.to).clone(),
                    kind: h.spec.kind,
                    replicas: h.spec.replicas,
                    other: key.clone(),
                    starting_deadline: h.starting_deadline,
                };
                let text = format!("handoff {}: {} has nothing running; starting {}", h.spec.name, h.from, h.to);
                if let Some(h) = app.handoff.as_mut() {
                    // A handoff picked up after its start was sent keeps
                    // the time its source was seen gone: the gap began then.
                    h.gone_at.get_or_insert(now);
                    h.phase = HandoffPhase::Starting;
                }
                app.send(effect, Purpose::Handoff, None);
                app.push_event(now, None, Level::Info, text);
            }
        }
        HandoffPhase::WaitingReady => {
            let target = app.clusters.get(h.to).workloads.get(h.spec.key(h.to));
            let ready = match h.spec.kind {
                WorkloadKind::CronJob => target.is_some_and(|w| !w.suspended),
                _ => target.is_some_and(|w| w.ready >= h.spec.replicas),
            };
            if ready {
                let gap = h.gone_at.map_or(0, |g| now.as_second() - g.as_second());
                let gap_max = h.gone_after.map(|g| now.as_second() - g.as_second());
                let text = format!(
                    "handoff {} {} → {} done: gap {} with nothing running",
                    h.spec.name,
                    h.from,
                    h.to,
                    super::gap_text(gap, gap_max)
                );
                let done = Marked::HandoffDone {
                    singleton: h.spec.name.clone(),
                    from: h.from,
                    to: h.to,
                    gap_secs: gap,
                    gap_max_secs: gap_max,
                };
                if let Some(h) = app.handoff.as_mut() {
                    h.ready_at = Some(now);
                    h.phase = HandoffPhase::Done;
                }
                app.push_event(now, None, Level::Info, text);
                app.mark(now, done);
            }
        }
        _ => {}
    }
}

/// An executor's answer, matched to its effect by id.
pub fn on_effect_done(app: &mut App, id: u64, effect: Effect, result: EffectResult) {
    let at = app.now;
    let sent = app.in_flight.remove(&id);
    let purpose = sent.as_ref().map(|s| s.purpose).unwrap_or(match &effect {
        // An answer with no id (a recording of an earlier version).
        Effect::SetWeights { seen: None, .. } => Purpose::Revert,
        Effect::SetWeights { .. } => Purpose::Step,
        Effect::TakeWheel { .. } => Purpose::Wheel,
        _ => Purpose::Handoff,
    });
    let (level, text) = match &result {
        EffectResult::Verified { detail } => (Level::Info, format!("done and verified: {detail}")),
        EffectResult::Mismatch { detail } => (Level::Alert, format!("READ-BACK DIFFERS: {detail}")),
        EffectResult::Refused { reason } => (Level::Alert, format!("refused, not applied: {reason}")),
        EffectResult::Failed { error } => {
            (Level::Alert, format!("not applied: {} ({error})", effect.describe(&app.config.routes)))
        }
        // Dropped where it stood for a revert: the revert's own outcome
        // says what stands; this one is watched for (see `late`).
        EffectResult::Unknown { detail } if detail.starts_with(super::NOT_AWAITED) => (
            Level::Warn,
            format!(
                "NOT AWAITED: {}: a revert went ahead of it; if it lands later, it is named as this session's",
                effect.describe(&app.config.routes)
            ),
        ),
        EffectResult::Unknown { detail } => (
            Level::Alert,
            format!("OUTCOME UNKNOWN: {} ({detail}); check before acting again", effect.describe(&app.config.routes)),
        ),
        EffectResult::NotYet { detail } => {
            (Level::Alert, format!("NOT APPLIED YET: {} ({detail})", effect.describe(&app.config.routes)))
        }
        EffectResult::DryRun { calls } => (Level::Info, format!("dry-run, not sent: {}", calls.join("; "))),
    };
    // A write that may still land stays this session's (see `late`).
    if let Some(s) = &sent {
        super::late::keep(app, id, &effect, purpose, s.since, &result, s.unanswered);
    }
    // A verified write completes its action's line; anything else is a
    // line of its own, where it cannot be missed.
    let completed = match &result {
        EffectResult::Verified { detail } => {
            // The line names the route already.
            let detail = detail
                .strip_prefix("route ")
                .and_then(|d| d.split_once(' '))
                .map_or(detail.as_str(), |(_, rest)| rest.trim_start_matches(": "));
            app.complete_action_event(id, &format!("verified: {detail}"))
        }
        _ => false,
    };
    if !completed {
        app.push_event(at, None, level, text.clone());
    }
    if !matches!(result, EffectResult::DryRun { .. }) {
        let ok = matches!(result, EffectResult::Verified { .. });
        let effect = effect.describe(&app.config.routes);
        app.mark(at, Marked::Outcome { ok, effect, text });
    }
    let not_awaited = matches!(&result, EffectResult::Unknown { detail } if detail.starts_with(super::NOT_AWAITED));
    if !matches!(result, EffectResult::Verified { .. } | EffectResult::DryRun { .. }) && !not_awaited {
        app.notice = Some(match &result {
            EffectResult::Mismatch { detail } => format!("read-back differs: {detail}"),
            other => other.text(),
        });
    }
    // The way back verified: an alarm about the route shown until now
    // (a late write, a lost answer) is answered by it, and goes.
    if matches!(result, EffectResult::Verified { .. })
        && matches!(purpose, Purpose::Revert | Purpose::Reassert)
        && let Some(route) = effect.route().and_then(|r| app.config.routes.get(r.index()))
        && app.notice.as_deref().is_some_and(|n| n.contains(&format!("route {} ", route.name)))
    {
        app.notice = None;
    }
    match effect {
        Effect::SetIngressWeights { route, to, .. } => {
            let who = app.operator.clone();
            let still_writing = app.writing(route);
            let Some(r) = app.routes.get_mut(route.index()) else { return };
            if matches!(result, EffectResult::Verified { .. }) {
                // Written where the controller reads it: the route is
                // still being written until the ALB shows it.
                let from = sent.and_then(|s| s.from);
                let all_old = effect.all_old();
                r.awaiting = Some(super::Awaiting { to, from, since: at, purpose, who, effect: id, all_old });
                r.pending = true;
            } else {
                r.pending = still_writing || r.awaiting.is_some();
            }
        }
        Effect::SetWeights { route, to, all_old, .. } => {
            let still_writing = app.writing(route);
            let who = app.operator.clone();
            let Some(r) = app.routes.get_mut(route.index()) else { return };
            r.pending = still_writing || r.awaiting.is_some();
            if result.applied() {
                if matches!(result, EffectResult::Verified { .. }) {
                    r.standing = Some(super::Standing { effect: id, to, all_old, purpose, who: who.clone(), at });
                    r.note_verified(at, who, to);
                    // The executor's read-back is a read: show it now rather
                    // than at the next poll. Its age stays the poll's.
                    if let Some(read) = r.read.as_mut() {
                        read.weights = Some(to);
                        if all_old {
                            // Verified too: every other target at 0.
                            read.others.iter_mut().for_each(|(_, w)| *w = crate::domain::Weight(0));
                        }
                    }
                }
                let from = sent.and_then(|s| s.from);
                r.note_undo(from, to, purpose);
                if from != Some(to) {
                    r.note_change(at, Some(to));
                }
            }
        }
        // The lease task tells who holds the wheel now (`Msg::Wheel`).
        Effect::TakeWheel { .. } => {}
        Effect::Stop { side, ref key, .. } | Effect::Start { side, ref key, .. } => {
            let is_start = matches!(effect, Effect::Start { .. });
            if matches!(result, EffectResult::Verified { .. }) {
                let write = super::OwnWrite { at, who: app.operator.clone(), to: is_start };
                app.singleton_writes.retain(|(s, k, _)| !(*s == side && k == key));
                app.singleton_writes.push((side, key.clone(), write));
            }
            let Some(h) = app.handoff.as_mut() else { return };
            if purpose != Purpose::Handoff || h.spec.key(side) != key {
                return;
            }
            let applied = result.applied();
            let next = match (&h.phase, is_start) {
                (HandoffPhase::Stopping, false) => Some(match &result {
                    EffectResult::Verified { .. } => HandoffPhase::WaitingGone,
                    // Not known to be stopped: wait and watch; `x` restores.
                    EffectResult::Mismatch { .. } | EffectResult::Unknown { .. } => HandoffPhase::WaitingGone,
                    EffectResult::DryRun { .. } => HandoffPhase::Refused("dry-run: nothing was stopped".into()),
                    other => HandoffPhase::Refused(format!("nothing was stopped: {}", other.text())),
                }),
                (HandoffPhase::Starting, true) if side == h.to => {
                    Some(if applied { HandoffPhase::WaitingReady } else { HandoffPhase::StartFailed(result.text()) })
                }
                (HandoffPhase::Aborting, true) if side == h.from => Some(if applied {
                    HandoffPhase::Aborted
                } else {
                    HandoffPhase::StartFailed(format!("restoring {}: {}", h.from, result.text()))
                }),
                _ => None,
            };
            if let Some(next) = next {
                h.phase = next;
            }
            match &h.phase {
                HandoffPhase::StartFailed(reason) if !applied => {
                    let failed = Marked::HandoffFailed { singleton: h.spec.name.clone(), reason: reason.clone() };
                    let (name, to, from) = (h.spec.name.clone(), h.to, h.from);
                    let keys = (app.keymap.label(Action::Handoff), app.keymap.label(Action::Abort));
                    let text = format!(
                        "handoff {name}: {from} is stopped and {to} did NOT start: it runs on neither side. {}: retry the start of {to}; {}: restore {from}",
                        keys.0, keys.1
                    );
                    app.push_event(at, None, Level::Alert, text.clone());
                    app.notice = Some(text);
                    app.mark(at, failed);
                }
                HandoffPhase::Refused(reason) => {
                    let failed = Marked::HandoffFailed { singleton: h.spec.name.clone(), reason: reason.clone() };
                    app.mark(at, failed);
                }
                _ => {}
            }
            advance_handoff(app);
        }
    }
}

/// A handoff an earlier session left unfinished. A write that was in
/// flight when it ended may or may not have happened, so its phase is
/// taken back to the wait before it: the waits read the clusters afresh,
/// and the executor checks again before every start.
pub fn on_resumed(app: &mut App, mut handoff: Handoff, saved_at: Timestamp) {
    if app.handoff.as_ref().is_some_and(|h| !h.phase.finished()) {
        return;
    }
    let was = handoff.state_text();
    // Not seen gone by the console that left it: it may have gone since,
    // unseen; the gap then began after that console last saw it.
    if handoff.gone_at.is_none() && matches!(handoff.phase, HandoffPhase::Stopping | HandoffPhase::WaitingGone) {
        handoff.gone_after = Some(saved_at);
    }
    handoff.phase = match handoff.phase {
        HandoffPhase::Stopping | HandoffPhase::Starting => HandoffPhase::WaitingGone,
        HandoffPhase::Aborting => {
            HandoffPhase::StartFailed(format!("the restore of {} was being written when cutover stopped", handoff.from))
        }
        other => other,
    };
    let text = format!(
        "picked up the handoff left at {} by {}: {was}; now: {}",
        clock(saved_at),
        if handoff.who.is_empty() { "an earlier session" } else { &handoff.who },
        handoff.state_text()
    );
    let at = app.now;
    app.push_event(at, None, Level::Alert, text.clone());
    app.mark(
        at,
        Marked::HandoffResumed {
            singleton: handoff.spec.name.clone(),
            text: text.clone(),
            from: Some(handoff.from),
            to: Some(handoff.to),
            started: Some(handoff.started),
            who: Some(handoff.who.clone()).filter(|w| !w.is_empty()),
            gone_at: handoff.gone_at,
            saved_at: Some(saved_at),
        },
    );
    app.notice = Some(text);
    app.handoff = Some(handoff);
    advance_handoff(app);
}

/// Checks every singleton against both clusters after each message: one
/// that runs on neither side (outside a handoff's gap) or on both raises
/// an alarm once, with an event and a mark, and clears it the same way.
/// Returns whether an alarm came or went.
pub fn watch_singletons(app: &mut App) -> bool {
    if !Side::BOTH.iter().all(|s| side_read(app, *s)) {
        return false;
    }
    let mut changed = false;
    for i in 0..app.config.singletons.len() {
        let spec = &app.config.singletons[i];
        // A side runs it while its object asks for it or any pod of it
        // still runs (a terminating pod does).
        let on = |side: Side| {
            running(app.clusters.get(side).workloads.get(spec.key(side)))
                || pods_still_running(app, side, spec.key(side)) > 0
        };
        // The gap of a handoff this console makes, or the one the console
        // that drives makes (its Lease says so): planned, no alarm.
        let in_gap = app.handoff.as_ref().is_some_and(|h| h.spec.name == spec.name && h.phase.in_gap())
            || app.wheel.as_ref().is_some_and(|w| match &w.wheel {
                crate::domain::Wheel::Held { handoff: Some(h), .. } => h.singleton == spec.name && h.in_gap,
                _ => false,
            });
        let kind = match (on(Side::Old), on(Side::New)) {
            (true, true) => Some(AlarmKind::Both),
            (false, false) if !in_gap => Some(AlarmKind::Neither),
            _ => None,
        };
        let name = spec.name.clone();
        let previous = app.alarms.get(&name).map(|a| a.kind);
        if previous == kind {
            continue;
        }
        changed = true;
        let at = app.now;
        match kind {
            Some(kind) => {
                let spec = spec.clone();
                let expected = expected_side(app, &spec);
                let shown = |side: Side| {
                    app.clusters
                        .get(side)
                        .workloads
                        .get(spec.key(side))
                        .map_or("missing".to_string(), |w| format!("{}/{}", w.ready, w.desired))
                };
                let fix = app.keymap.label(Action::Handoff);
                let text = match kind {
                    AlarmKind::Neither => format!(
                        "SINGLETON {name} RUNS ON NEITHER SIDE (old {}, new {}): {fix} on it proposes starting it on {expected}",
                        shown(Side::Old),
                        shown(Side::New)
                    ),
                    AlarmKind::Both => format!(
                        "SINGLETON {name} RUNS ON BOTH SIDES (old {}, new {}): {fix} on it proposes stopping {}",
                        shown(Side::Old),
                        shown(Side::New),
                        expected.other()
                    ),
                };
                app.alarms.insert(name.clone(), Alarm { kind, since: at });
                app.push_event(at, None, Level::Alert, text.clone());
                app.mark(at, Marked::Alarm { singleton: name, both: kind == AlarmKind::Both, text });
            }
            None => {
                app.alarms.remove(&name);
                app.push_event(at, None, Level::Info, format!("singleton {name} runs on one side again"));
                app.mark(at, Marked::AlarmCleared { singleton: name });
            }
        }
    }
    changed
}

/// The ALB shows what was written to a route's Ingress: the controller
/// did its part, and the write counts as verified from here.
pub fn controller_wrote(app: &mut App, i: usize, at: Timestamp) {
    let still_writing = app.writing(RouteId::of(i));
    let route = &mut app.routes[i];
    let Some(aw) = route.awaiting.take() else { return };
    route.pending = still_writing;
    route.standing = Some(super::Standing {
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
        if now.as_second() - aw.since.as_second() <= super::CONTROLLER_DEADLINE_SECS {
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
            super::CONTROLLER_DEADLINE_SECS
        );
        app.push_event(now, None, Level::Alert, text.clone());
        app.notice = Some(text.clone());
        app.mark(now, Marked::Outcome { ok: false, effect: format!("route {name}: controller write"), text });
    }
}

/// Pods of `key` on `side` that still run: what a handoff waits for
/// before it starts the other side. One definition, shared with the
/// executor and the simulator: [`crate::domain::Pod::still_running`].
pub fn pods_still_running(app: &State, side: Side, key: &WorkloadKey) -> usize {
    app.clusters.get(side).pods_of(key).filter(|p| p.still_running()).count()
}

/// Seconds since the source side stopped running, for the gap timer.
pub fn gap_secs(h: &Handoff, now: Timestamp) -> Option<i64> {
    let gone = h.gone_at?;
    Some(h.ready_at.unwrap_or(now).as_second() - gone.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Msg, update};
    use crate::domain::{PerSide, ReadDetail, RouteRead, Weight};
    use crate::keymap::Keymap;

    /// A target group the plan does not know, with weight, in a forward
    /// whose plan's new group is gone: `R` names it in the proposal and
    /// sends the write that sets it to 0; and a route at old 100 / new 0
    /// with such a group is not "already all old".
    #[test]
    fn the_panic_button_names_a_target_the_plan_does_not_know_and_writes_it_zero() {
        let t0 = Timestamp::from_second(1_800_000_000).unwrap();
        let world = crate::sim::World::new(&crate::sim::SimConfig { seed: 2026, start: t0, scale: 1 });
        let mut config = world.app_config();
        config.mode = super::super::Mode::Run;
        let mut app = App::new(config, Keymap::default(), t0);
        let reads = (0..app.routes.len())
            .map(|i| RouteRead {
                route: RouteId::of(i),
                weights: if i == 0 { None } else { Some(Weights::from_percent_new(0)) },
                others: vec![("api-new-v2".into(), Weight(20))],
                targets: PerSide::new(Vec::new(), Vec::new()),
                detail: ReadDetail::Alb,
            })
            .collect();
        let _ = update(&mut app, Msg::Traffic { at: t0, routes: reads });
        on_mutating_action(&mut app, Action::RevertAll);
        let Some(Modal::Proposal(p)) = app.modal.clone() else { panic!("{:?}", app.notice) };
        let named: Vec<&String> = p.lines.iter().filter(|l| l.contains("api-new-v2=20 not in the plan")).collect();
        assert_eq!(named.len(), app.routes.len(), "{:?}", p.lines);
        assert!(p.lines[0].contains("the plan's two are not both in the forward action"), "{:?}", p.lines);
        assert!(!p.lines.iter().any(|l| l.contains("already")), "{:?}", p.lines);
        confirm(&mut app, p);
        let sent = std::mem::take(&mut app.produced.effects);
        // One rule write a route (and a route's Ingress, where it has one),
        // each the panic button's.
        let rules = sent.iter().filter(|q| matches!(q.effect, Effect::SetWeights { .. })).count();
        assert_eq!(rules, app.routes.len(), "{sent:?}");
        assert!(sent.iter().all(|q| q.effect.all_old()), "{sent:?}");
        assert!(app.events.iter().any(|e| e.text.contains("api-new-v2=20 (not in the plan) -> 0")), "{:?}", app.events);
    }
}

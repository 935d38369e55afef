//! Proposals, guards and handoffs: how an operator's key becomes an
//! effect, and every reason it may not.
//!
//! Nothing here does anything: a confirmed proposal puts effects in
//! `App::outbox`, which the runtime hands to the session's executor. The
//! guards run twice, when a proposal is made and again on confirmation,
//! against the state as it is then.

use jiff::Timestamp;

use crate::domain::{Side, TargetState, Weights, Workload, WorkloadKey, WorkloadKind, age};
use crate::keymap::{Action, Key, KeyCode};

use super::{
    App, Effect, EffectResult, Handoff, HandoffPhase, Level, Marked, Modal, Panel, PercentInput, Proposal,
    ProposalKind, SourceId, SourceState, View,
};

/// The most target groups one forward action may have (an ALB limit).
pub const MAX_TARGET_GROUPS: usize = 5;
/// Polls of the metrics source that may be missed before acting is refused.
const METRICS_MISSED_POLLS: i64 = 2;
const METRICS_POLL_SECS: i64 = 60;

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
                        Ok(p) if p <= 100 => {
                            propose_weights(app, input.route, Some(Weights::from_percent_new(p as u8)))
                        }
                        _ => refuse(app, format!("`{}` is not a percentage from 0 to 100", input.text)),
                    }
                    return true;
                }
                (KeyCode::Esc, _) | (_, Some(Action::Cancel | Action::Back)) => return true,
                (_, Some(Action::Quit)) => {
                    app.quit = true;
                    return true;
                }
                _ => {}
            }
            app.modal = Some(Modal::Percent(input));
        }
        Modal::Proposal(mut p) => match action {
            Some(Action::Confirm) => {
                p.given += 1;
                if p.given < p.needed {
                    app.modal = Some(Modal::Proposal(p));
                } else {
                    confirm(app, p);
                }
            }
            Some(Action::Cancel | Action::Back) => {
                let at = app.now;
                let who = app.operator.clone();
                app.push_event(at, None, Level::Info, format!("proposal dropped by {who}: {}", p.title));
            }
            Some(Action::Quit) => app.quit = true,
            _ => app.modal = Some(Modal::Proposal(p)),
        },
    }
    true
}

/// An action that changes the world, pressed with no modal open.
pub fn on_mutating_action(app: &mut App, action: Action) {
    app.notice = None;
    if !app.config.mode.can_act() {
        refuse(app, format!("{}: read-only, nothing can be changed from here", action.name()));
        return;
    }
    match action {
        Action::StepUp | Action::StepDown => {
            let Some(i) = selected_route(app) else { return };
            let Some(current) = app.routes[i].read.as_ref().and_then(|r| r.weights).and_then(|w| w.percent_new())
            else {
                return refuse(app, format!("route {}: no weights read yet", app.routes[i].spec.name));
            };
            let steps = &app.routes[i].spec.steps;
            let next = if action == Action::StepUp {
                steps.iter().copied().find(|s| f64::from(*s) > current + 1e-9)
            } else {
                steps.iter().rev().copied().find(|s| f64::from(*s) < current - 1e-9)
            };
            match next {
                Some(step) => propose_weights(app, i, Some(Weights::from_percent_new(step))),
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
            match app.routes[i].verified {
                Some(w) => propose_weights(app, i, Some(w)),
                None => {
                    refuse(app, format!("route {}: no verified weights to go back to yet", app.routes[i].spec.name))
                }
            }
        }
        Action::RevertAll => propose_all_old(app),
        Action::Handoff => propose_handoff(app),
        Action::Abort => abort_handoff(app),
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

/// Why acting on route `i` now would be acting on a stale or unsafe view,
/// if it would be.
pub fn weights_guard(app: &App, i: usize, to: Weights) -> Result<(), String> {
    let route = &app.routes[i];
    let name = &route.spec.name;
    if route.pending {
        return Err(format!("route {name}: a change is already being written"));
    }
    let Some(read) = &route.read else { return Err(format!("route {name}: the ALB has not been read yet")) };
    let alb = if app.config.mode == super::Mode::Demo { SourceId::Simulator } else { SourceId::Alb };
    if app.is_stale(alb) {
        return Err(format!("route {name}: the ALB source is stale; wait until it reads again"));
    }
    let read_age = app.now.as_second() - read.at.as_second();
    if read_age > app.config.guards.stale_after_secs {
        return Err(format!(
            "route {name}: the ALB read is {} old (stale after {}s); wait for a fresh read",
            age(read.at, app.now),
            app.config.guards.stale_after_secs
        ));
    }
    if app.config.mode != super::Mode::Demo {
        match app.sources.get(&SourceId::Metrics) {
            Some(SourceState::Live { last_ok })
                if app.now.as_second() - last_ok.as_second() <= METRICS_MISSED_POLLS * METRICS_POLL_SECS => {}
            Some(SourceState::Live { last_ok }) | Some(SourceState::Stale { last_ok: Some(last_ok), .. }) => {
                return Err(format!(
                    "route {name}: the metrics missed their last poll (last good read {} ago); the 5xx on screen are not current",
                    age(*last_ok, app.now)
                ));
            }
            _ => return Err(format!("route {name}: no metrics read yet; the 5xx on screen are not current")),
        }
    }
    let Some(_) = read.weights else {
        return Err(format!("route {name}: the forward action does not hold both of the plan's target groups"));
    };
    let groups = 2 + read.others.len();
    if groups > MAX_TARGET_GROUPS {
        return Err(format!(
            "route {name}: the forward action has {groups} target groups (at most {MAX_TARGET_GROUPS})"
        ));
    }
    if to.old.0 > 999 || to.new.0 > 999 {
        return Err(format!("route {name}: weights must be 0 to 999"));
    }
    for side in Side::BOTH {
        let healthy = read.targets.get(side).iter().filter(|t| t.state == TargetState::Healthy).count();
        if to.get(side).0 > 0 && healthy == 0 {
            let tg = match side {
                Side::Old => &route.spec.old_target_group,
                Side::New => &route.spec.new_target_group,
            };
            return Err(format!(
                "route {name}: target group {tg} has no healthy target; it would get weight {}",
                to.get(side).0
            ));
        }
    }
    Ok(())
}

fn propose_weights(app: &mut App, i: usize, to: Option<Weights>) {
    let Some(to) = to else { return };
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
    let from_pct = from.percent_new().unwrap_or(0.0);
    let to_pct = to.percent_new().unwrap_or(0.0);
    let jump = (to_pct - from_pct).abs();
    let max = f64::from(app.config.guards.max_step);
    let name = app.routes[i].spec.name.clone();
    let mut lines = vec![
        format!("old {} / new {}  →  old {} / new {}", from.old.0, from.new.0, to.old.0, to.new.0),
        format!("{from_pct:.0}% → {to_pct:.0}% to new, of ~{rpm:.0} req/min"),
    ];
    let needed = if jump > max + 1e-9 {
        lines.push(format!("this step moves {jump:.0} points, more than max_step {max:.0}: confirm twice"));
        2
    } else {
        1
    };
    app.modal = Some(Modal::Proposal(Proposal {
        title: format!("route {name}: {from_pct:.0}% → {to_pct:.0}% to new"),
        lines,
        kind: ProposalKind::Weights(vec![(i, from, to)]),
        needed,
        given: 0,
        made_at: app.now,
    }));
}

fn propose_all_old(app: &mut App) {
    let all_old = Weights::from_percent_new(0);
    let mut changes = Vec::new();
    let mut lines = Vec::new();
    for i in 0..app.routes.len() {
        let route = &app.routes[i];
        let Some(from) = route.read.as_ref().and_then(|r| r.weights) else {
            return refuse(app, format!("route {}: no weights read yet", route.spec.name));
        };
        if from.new.0 == 0 {
            continue;
        }
        if let Err(reason) = weights_guard(app, i, all_old) {
            return refuse(app, reason);
        }
        lines.push(format!("{}: old {} / new {}  →  old 100 / new 0", route.spec.name, from.old.0, from.new.0));
        changes.push((i, from, all_old));
    }
    if changes.is_empty() {
        return refuse(app, "every route already sends everything to old".into());
    }
    app.modal = Some(Modal::Proposal(Proposal {
        title: "ALL routes: 100% to old".into(),
        lines,
        kind: ProposalKind::Weights(changes),
        needed: 1,
        given: 0,
        made_at: app.now,
    }));
}

fn selected_workload(app: &App) -> Option<WorkloadKey> {
    match &app.ui.view {
        View::Workload(key) => Some(key.clone()),
        _ => app.workload_keys().get(app.ui.selected[Panel::Workloads.index()]).map(|k| (*k).clone()),
    }
}

fn running(w: Option<&Workload>) -> bool {
    w.is_some_and(Workload::is_active)
}

fn propose_handoff(app: &mut App) {
    if let Some(h) = &app.handoff
        && !h.phase.finished()
    {
        return refuse(app, format!("handoff of {} is still in progress", h.spec.name));
    }
    let Some(key) = selected_workload(app) else { return };
    let Some(spec) = app.singleton_for(&key).cloned() else {
        return refuse(app, format!("{key} is not a singleton of the plan; only singletons are handed over"));
    };
    for side in Side::BOTH {
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
    let what = match spec.kind {
        WorkloadKind::CronJob => ("suspend", "resume", "no active Jobs and no pods"),
        _ => ("scale to 0", "scale to", "no pods"),
    };
    let lines = vec![
        format!("1. {} {} on {from}", what.0, spec.key(from)),
        format!("2. wait until {from} has {}", what.2),
        match spec.kind {
            WorkloadKind::CronJob => format!("3. {} {} on {to}", what.1, spec.key(to)),
            _ => format!("3. {} {} {} on {to}", what.1, spec.replicas, spec.key(to)),
        },
        format!("4. wait until {to} is ready; the gap is timed"),
        "x aborts while step 2 waits, and restores the source side".into(),
    ];
    let index = app.config.singletons.iter().position(|s| s.name == spec.name).unwrap_or(0);
    app.modal = Some(Modal::Proposal(Proposal {
        title: format!("hand {} over: {from} → {to}", spec.name),
        lines,
        kind: ProposalKind::Handoff { singleton: index, from, to },
        needed: 1,
        given: 0,
        made_at: app.now,
    }));
}

fn confirm(app: &mut App, p: Proposal) {
    let who = app.operator.clone();
    let at = app.now;
    match p.kind {
        ProposalKind::Weights(changes) => {
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
            for (i, from, to) in changes {
                let route = &mut app.routes[i];
                route.pending = true;
                let read = route.read.as_ref();
                let mut seen = vec![
                    (route.spec.old_target_group.clone(), from.old),
                    (route.spec.new_target_group.clone(), from.new),
                ];
                seen.extend(read.map(|r| r.others.clone()).unwrap_or_default());
                let name = route.spec.name.clone();
                app.outbox.push(Effect::SetWeights { route: name.clone(), seen, to });
                let proposal = p.title.clone();
                app.mark(at, Marked::Weights { route: name.clone(), from, to, who: who.clone(), proposal });
                app.push_event(
                    at,
                    None,
                    Level::Warn,
                    format!(
                        "route {name}: {who} set old {}/new {} -> old {}/new {}",
                        from.old.0, from.new.0, to.old.0, to.new.0
                    ),
                );
            }
        }
        ProposalKind::Handoff { singleton, from, to } => {
            let spec = app.config.singletons[singleton].clone();
            if running(app.clusters.get(to).workloads.get(spec.key(to))) {
                return refuse(app, format!("singleton {} already runs on {to}", spec.name));
            }
            app.outbox.push(Effect::Stop { side: from, key: spec.key(from).clone(), kind: spec.kind });
            app.push_event(at, None, Level::Warn, format!("handoff {} {from} → {to} started by {who}", spec.name));
            app.mark(at, Marked::HandoffStarted { singleton: spec.name.clone(), from, to, who });
            app.handoff = Some(Handoff {
                spec,
                from,
                to,
                phase: HandoffPhase::Stopping,
                started: at,
                gone_at: None,
                ready_at: None,
            });
        }
    }
}

fn abort_handoff(app: &mut App) {
    let Some(h) = app.handoff.as_mut() else { return refuse(app, "no handoff in progress".into()) };
    match h.phase {
        HandoffPhase::Stopping | HandoffPhase::WaitingGone => {
            h.phase = HandoffPhase::Aborting;
            let effect = Effect::Start {
                side: h.from,
                key: h.spec.key(h.from).clone(),
                kind: h.spec.kind,
                replicas: h.spec.replicas,
                other: h.spec.key(h.to).clone(),
            };
            let text = format!("handoff {} aborted by {}: restoring {}", h.spec.name, app.operator, h.from);
            let aborted = Marked::HandoffAborted { singleton: h.spec.name.clone(), who: app.operator.clone() };
            app.outbox.push(effect);
            let at = app.now;
            app.push_event(at, None, Level::Warn, text);
            app.mark(at, aborted);
        }
        _ => {
            let reason = format!(
                "handoff of {} can no longer be aborted: {} has been started (hand it back with a new handoff)",
                h.spec.name, h.to
            );
            refuse(app, reason)
        }
    }
}

/// Moves a handoff along as the clusters change: the target side is
/// started only once the source side runs nothing at all.
pub fn advance_handoff(app: &mut App) {
    let Some(h) = app.handoff.as_ref() else { return };
    let now = app.now;
    match h.phase {
        HandoffPhase::WaitingGone => {
            let source = app.clusters.get(h.from);
            let key = h.spec.key(h.from);
            let workload_idle = !running(source.workloads.get(key));
            if workload_idle && pods_still_running(app, h.from, key) == 0 {
                let effect = Effect::Start {
                    side: h.to,
                    key: h.spec.key(h.to).clone(),
                    kind: h.spec.kind,
                    replicas: h.spec.replicas,
                    other: key.clone(),
                };
                let text = format!("handoff {}: {} has nothing running; starting {}", h.spec.name, h.from, h.to);
                if let Some(h) = app.handoff.as_mut() {
                    h.gone_at = Some(now);
                    h.phase = HandoffPhase::Starting;
                }
                app.outbox.push(effect);
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
                let text =
                    format!("handoff {} {} → {} done: gap {gap}s with nothing running", h.spec.name, h.from, h.to);
                let done =
                    Marked::HandoffDone { singleton: h.spec.name.clone(), from: h.from, to: h.to, gap_secs: gap };
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

/// An executor's answer.
pub fn on_effect_done(app: &mut App, effect: Effect, result: EffectResult) {
    let at = app.now;
    let (level, text) = match &result {
        EffectResult::Verified { detail } => (Level::Info, format!("done and verified: {detail}")),
        EffectResult::Mismatch { detail } => (Level::Alert, format!("READ-BACK DIFFERS: {detail}")),
        EffectResult::Refused { reason } => (Level::Alert, format!("refused: {reason}")),
        EffectResult::Failed { error } => (Level::Alert, format!("failed: {} ({error})", effect.describe())),
        EffectResult::DryRun { calls } => (Level::Info, format!("dry-run, not sent: {}", calls.join("; "))),
    };
    app.push_event(at, None, level, text.clone());
    if !matches!(result, EffectResult::DryRun { .. }) {
        let ok = matches!(result, EffectResult::Verified { .. });
        app.mark(at, Marked::Outcome { ok, effect: effect.describe(), text });
    }
    if matches!(result, EffectResult::Refused { .. } | EffectResult::Failed { .. } | EffectResult::Mismatch { .. }) {
        app.notice = Some(match &result {
            EffectResult::Refused { reason } => reason.clone(),
            EffectResult::Failed { error } => error.clone(),
            EffectResult::Mismatch { detail } => format!("read-back differs: {detail}"),
            _ => String::new(),
        });
    }
    match effect {
        Effect::SetWeights { route, to, .. } => {
            if let Some(r) = app.routes.iter_mut().find(|r| r.spec.name == route) {
                r.pending = false;
                if matches!(result, EffectResult::Verified { .. }) {
                    r.verified = Some(to);
                    // The executor's read-back is a read: show it now rather
                    // than at the next poll. Its age stays the poll's.
                    if let Some(read) = r.read.as_mut() {
                        read.weights = Some(to);
                    }
                }
            }
        }
        Effect::Stop { .. } | Effect::Start { .. } => {
            let Some(h) = app.handoff.as_mut() else { return };
            h.phase = match (&h.phase, &result) {
                (HandoffPhase::Stopping, EffectResult::Verified { .. }) => HandoffPhase::WaitingGone,
                (HandoffPhase::Starting, EffectResult::Verified { .. }) => HandoffPhase::WaitingReady,
                (HandoffPhase::Aborting, EffectResult::Verified { .. }) => HandoffPhase::Aborted,
                (_, EffectResult::DryRun { .. }) => HandoffPhase::Failed("dry-run: nothing was stopped".into()),
                (_, EffectResult::Refused { reason }) => HandoffPhase::Failed(reason.clone()),
                (_, EffectResult::Failed { error }) => HandoffPhase::Failed(error.clone()),
                (_, EffectResult::Mismatch { detail }) => HandoffPhase::Failed(detail.clone()),
                (phase, _) => phase.clone(),
            };
            if let HandoffPhase::Failed(reason) = &h.phase {
                let failed = Marked::HandoffFailed { singleton: h.spec.name.clone(), reason: reason.clone() };
                app.mark(at, failed);
            }
            advance_handoff(app);
        }
    }
}

/// Pods of `key` on `side` that are not finished: what a handoff waits
/// for before it starts the other side.
pub fn pods_still_running(app: &App, side: Side, key: &WorkloadKey) -> usize {
    app.clusters.get(side).pods_of(key).filter(|p| p.health() != crate::domain::Health::Idle).count()
}

/// Seconds since the source side stopped running, for the gap timer.
pub fn gap_secs(h: &Handoff, now: Timestamp) -> Option<i64> {
    let gone = h.gone_at?;
    Some(h.ready_at.unwrap_or(now).as_second() - gone.as_second())
}

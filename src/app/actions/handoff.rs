//! Singletons: the proposals that hand one over, fix one that runs on
//! neither side or on both, or abort a handoff; their confirmation; and
//! the state machine that moves a handoff along as the clusters change
//! (the target side is started only once the source runs nothing).

use jiff::Timestamp;

use crate::app::{
    Alarm, AlarmKind, App, Effect, Handoff, HandoffPhase, Level, Marked, Modal, Panel, Proposal, ProposalKind, Purpose,
    SourceId, State, TypedOverride, View,
};
use crate::domain::{Side, SingletonSpec, Workload, WorkloadKey, WorkloadKind, clock};
use crate::keymap::Action;

use super::modal::override_line;
use super::refuse;

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
    let t = app.keeping.state_file.as_ref().filter(|_| app.config.mode == crate::app::Mode::Run)?;
    Some(format!("the handoff state file {} cannot be written ({})", t.path, t.error))
}

fn singleton_index(app: &App, name: &str) -> usize {
    app.config.singletons.iter().position(|s| s.name == name).unwrap_or(0)
}

pub(super) fn propose_handoff(app: &mut App) {
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
pub(super) fn propose_abort(app: &mut App) {
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

/// A confirmed handoff: its first step, the stop of the source side (the
/// executor stops nothing unless the target can be started and the source
/// restored).
pub(super) fn confirm_handoff(
    app: &mut App,
    singleton: usize,
    from: Side,
    to: Side,
    starting_deadline: Option<i64>,
    typed_override: Option<&TypedOverride>,
) {
    let who = app.operator.clone();
    let at = app.now;
    let spec = app.config.singletons[singleton].clone();
    if running(app.clusters.get(to).workloads.get(spec.key(to))) {
        return refuse(app, format!("singleton {} already runs on {to}", spec.name));
    }
    let overridden = typed_override.is_some_and(|o| o.unkept.is_some());
    if let Some(unkept) = unkept(app).filter(|_| !overridden) {
        return refuse(app, format!("{unkept} since the proposal: propose the handoff again"));
    }
    let stop =
        Effect::Stop { side: from, key: spec.key(from).clone(), kind: spec.kind, then: Some(spec.key(to).clone()) };
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

/// A confirmed fix of a singleton alarm: the start or the stop that puts
/// it back on one side, which a handoff in progress goes on from.
pub(super) fn confirm_fix(app: &mut App, singleton: usize, side: Side, start: bool) {
    let who = app.operator.clone();
    let at = app.now;
    let spec = app.config.singletons[singleton].clone();
    let ours = app.handoff.as_mut().filter(|h| h.spec.name == spec.name && !h.phase.finished());
    let effect = if start {
        let deadline = ours.as_ref().and_then(|h| h.starting_deadline);
        if let Some(h) = ours {
            // Retrying the start of the handoff's target, or
            // restoring its source: the handoff goes on from there.
            h.phase = if side == h.to { HandoffPhase::Starting } else { HandoffPhase::Aborting };
        }
        Effect::start(&spec, side, deadline)
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

/// A confirmed abort: the handoff's source side started again, while that
/// is still the safe way back.
pub(super) fn confirm_abort(app: &mut App) {
    let who = app.operator.clone();
    let at = app.now;
    let Some(h) = app.handoff.as_mut() else { return refuse(app, "no handoff in progress".into()) };
    if !matches!(h.phase, HandoffPhase::Stopping | HandoffPhase::WaitingGone | HandoffPhase::StartFailed(_)) {
        let reason = format!("handoff of {} can no longer be aborted: {}", h.spec.name, h.state_text());
        return refuse(app, reason);
    }
    h.phase = HandoffPhase::Aborting;
    let effect = Effect::start(&h.spec, h.from, None);
    let text = format!("handoff {} aborted by {who}: restoring {}", h.spec.name, h.from);
    let aborted = Marked::HandoffAborted { singleton: h.spec.name.clone(), who };
    app.send(effect, Purpose::Handoff, None);
    app.push_event(at, None, Level::Warn, text);
    app.mark(at, aborted);
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
                let effect = Effect::start(&h.spec, h.to, h.starting_deadline);
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
                    crate::app::gap_text(gap, gap_max)
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

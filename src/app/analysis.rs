//! Step verdicts, brought up to date as time passes and metrics arrive:
//! each whole minute at a route's weight is judged once its metrics are
//! read (see `domain::analysis`), and what the plan arms follows from the
//! verdict: an automatic revert on a failed step, the next step proposed
//! or applied after a countdown on a ready one.
//!
//! Automatic actions are the only changes without a key press. They are
//! taken only where the console drives (`run` holding the wheel, the
//! demo); `watch` and `--dry-run` say what they would have done, and a
//! replay or a follower shows them as they were. A stale metrics source
//! is no failure: the analysis is blind, says so, and reverts nothing.

use jiff::Timestamp;

use crate::app::{
    App, Armed, AtWeight, Automatic, COUNTDOWN_SECS, Countdown, Effect, JUDGED_CAPACITY, Judged, Level, Marked, Mode,
    Purpose, RouteState, SourceId, State, StepAnalysis, Verdict,
};
use crate::domain::analysis::{Advance, AnalysisSpec, Check, Counts, Evidence, OnFailure, judge};
use crate::domain::{Minute, RouteId, Side, Weights, age, clock};

/// Every analysed route's step brought up to date.
pub fn advance(app: &mut App) {
    for i in 0..app.routes.len() {
        if app.routes[i].spec.analysis.is_some() {
            advance_route(app, i);
        }
    }
}

/// Where the route's time at its weight begins.
fn since(route: &RouteState) -> Option<Timestamp> {
    Some(match route.at_weight()? {
        AtWeight::Changed(t) | AtWeight::Before(t, _) | AtWeight::Unknown(t) => t,
    })
}

/// The first whole minute that began at or after `at`.
fn first_whole(at: Timestamp) -> Minute {
    let m = Minute::containing(at);
    if m.start() == at { m } else { m.offset(1) }
}

/// The source whose minutes judge route `i`: a minute is judged once its
/// source has read after it closed.
fn metrics_source(app: &State, i: usize) -> SourceId {
    if app.config.mode == Mode::Demo { SourceId::Simulator } else { SourceId::Metrics(app.routes[i].spec.metrics) }
}

fn advance_route(app: &mut App, i: usize) {
    let Some(spec) = app.routes[i].spec.analysis.clone() else { return };
    let (Some(since), Some(weights)) = (since(&app.routes[i]), app.routes[i].weights()) else { return };
    let now = app.now;
    let name = app.routes[i].spec.name.clone();
    // A new step: the weights changed (anybody's change), or the console
    // learned when they last did.
    let fresh = app.routes[i].analysis.as_ref().is_none_or(|a| a.since != since || a.weights != weights);
    if fresh {
        let before = app.routes[i].analysis.as_ref().map(|a| a.weights);
        let route = &mut app.routes[i];
        route.analysis = Some(StepAnalysis {
            since,
            weights,
            judged: None,
            evidence: Evidence::default(),
            failures: 0,
            verdict: Verdict::Waiting,
            verdict_at: now,
        });
        if route.autopilot.countdown.take().is_some() {
            // Not the autopilot's own step (it ends its countdown as it
            // sends): somebody else moved the route first.
            let text = format!("autopilot of {name}: countdown stopped: the weights changed");
            app.push_event(now, None, Level::Warn, text);
        }
        let route = &mut app.routes[i];
        // A step towards new by somebody's hand gives the autopilot back
        // its say; the automatic revert's step back does not.
        let kind = route.kind();
        let up = before.is_some_and(|b| kind.share_new(weights) > kind.share_new(b));
        if up {
            route.autopilot.stopped = None;
        }
    }
    // Blind: the metrics source is stale. Nothing is judged, and nothing
    // reverted, until it reads again.
    let source = metrics_source(app, i);
    if app.is_stale(source) {
        if app.routes[i].blind.is_none() {
            // Blind since the source went stale, not since this was seen.
            let since = match app.sources.get(&source) {
                Some(crate::app::SourceState::Stale { since, .. }) => (*since).min(now),
                _ => now,
            };
            app.routes[i].blind = Some(since);
            app.routes[i].autopilot.countdown = None;
            let what = match source {
                SourceId::Metrics(kind) => kind.name(),
                other => other.label(),
            };
            let text = format!(
                "analysis blind on {name}: {what} stale {}; no verdict, and nothing reverted by itself, until it reads again",
                age(since, now)
            );
            app.push_event(now, None, Level::Alert, text.clone());
            app.mark(now, Marked::Analysis { route: name, verdict: "blind".into(), text });
        }
        return;
    }
    if let Some(blind) = app.routes[i].blind.take() {
        let text = format!("analysis of {name} sees again after {} blind", age(blind, now));
        app.push_event(now, None, Level::Info, text.clone());
        app.mark(now, Marked::Analysis { route: name.clone(), verdict: "sees".into(), text });
    }
    judge_minutes(app, i, &spec, source);
    follow_verdict(app, i, &spec);
}

/// Judges each whole minute at the weight that has closed and been read
/// since the last one judged.
fn judge_minutes(app: &mut State, i: usize, spec: &AnalysisSpec, source: SourceId) {
    let now = app.now;
    let read_after = match app.sources.get(&source) {
        Some(crate::app::SourceState::Live { last_ok }) => *last_ok,
        _ => return,
    };
    let Some(step) = app.routes[i].analysis.clone() else { return };
    let first = first_whole(step.since);
    // The newest minute that is over and that the source read after.
    let last = Minute::containing(read_after).offset(-1).min(Minute::containing(now).offset(-1));
    let mut m = step.judged.map_or(first, |j| j.offset(1));
    // Minutes read together (the history at the start, a source back from
    // stale) are judged one by one, and the verdict said once, as it ends.
    let mut verdict = step.verdict;
    let mut judged_any = false;
    while m <= last {
        let evidence = gather(&app.routes[i], first, m);
        let check = judge(spec, &evidence);
        let route = &mut app.routes[i];
        route.judged.push((m, Judged::from(&check)));
        if route.judged.len() > JUDGED_CAPACITY {
            route.judged.remove(0);
        }
        let Some(a) = route.analysis.as_mut() else { return };
        a.judged = Some(m);
        a.evidence = evidence;
        if matches!(check, Check::Fail(_)) {
            a.failures += 1;
        }
        verdict = verdict_of(&verdict, a.failures, a.since, spec, &check, now);
        judged_any = true;
        m = m.offset(1);
    }
    if judged_any {
        set_verdict(app, i, verdict);
    }
    // Baking goes on between judgements: minutes pass.
    if let Some(a) = &app.routes[i].analysis
        && matches!(a.verdict, Verdict::Baking { .. })
    {
        let verdict = verdict_of(&a.verdict, a.failures, a.since, spec, &Check::Pass, now);
        set_verdict(app, i, verdict);
    }
}

/// The counts of both sides from minute `first` to `last`, and new's
/// latency in `last`.
fn gather(route: &RouteState, first: Minute, last: Minute) -> Evidence {
    let count = |side: Side| {
        let m = route.metrics.get(side);
        let mut c = Counts::default();
        let mut minute = first;
        while minute <= last {
            if let Some(requests) = m.requests.get(minute) {
                c.requests += requests.max(0.0).round() as u64;
                c.errors += m.target_5xx.get(minute).unwrap_or(0.0).max(0.0).round() as u64;
            }
            minute = minute.offset(1);
        }
        c.errors = c.errors.min(c.requests);
        c
    };
    Evidence {
        minutes: (last.0 - first.0 + 1).max(0) as u32,
        new: count(Side::New),
        old: count(Side::Old),
        latency_ms: route.metrics.new.latency_ms.get(last),
    }
}

/// The step's verdict after `check`, from the verdict `before` it and the
/// step's failing minutes so far (`check`'s among them): failed once they
/// reach the limit, and so until the weights change (later minutes do not
/// undo a failure); ready once passing and baked at the weight held since
/// `since`.
fn verdict_of(
    before: &Verdict,
    failures: u32,
    since: Timestamp,
    spec: &AnalysisSpec,
    check: &Check,
    now: Timestamp,
) -> Verdict {
    if let Verdict::Failed(why) = before {
        return Verdict::Failed(*why);
    }
    match check {
        Check::Fail(why) if failures >= spec.failure_limit => Verdict::Failed(*why),
        Check::Fail(why) => Verdict::Failing { failures, limit: spec.failure_limit, why: *why },
        Check::Pass => {
            let held = now.as_second() - since.as_second();
            if held >= spec.bake_secs {
                Verdict::Ready
            } else {
                let of = (spec.bake_secs + 59) / 60;
                Verdict::Baking { minutes: (held / 60).min(of) as u32, of: of as u32 }
            }
        }
        Check::Inconclusive(why) => Verdict::Unsure(*why),
    }
}

/// A new verdict: said when it changes kind (and on each failing minute),
/// marked for the timeline and the report; a failure acts as the plan arms.
fn set_verdict(app: &mut State, i: usize, verdict: Verdict) {
    let now = app.now;
    let route = &mut app.routes[i];
    let Some(a) = route.analysis.as_mut() else { return };
    if a.verdict == verdict {
        return;
    }
    let said = a.verdict.name() != verdict.name() || matches!(verdict, Verdict::Failing { .. });
    if a.verdict.name() != verdict.name() {
        a.verdict_at = now;
    }
    a.verdict = verdict.clone();
    let weights = a.weights;
    if !said {
        return;
    }
    let name = route.spec.name.clone();
    let share = route.kind().share_new(weights).map_or("?".into(), |s| format!("{s:.0}%"));
    let text = format!("analysis of {name} at {share} to new: {}", verdict.text());
    let level = match verdict {
        Verdict::Failed(_) => Level::Alert,
        Verdict::Failing { .. } | Verdict::Unsure(_) => Level::Warn,
        _ => Level::Info,
    };
    if verdict == Verdict::Ready {
        route.passed = route.analysis.as_ref().map(|a| a.weights);
    }
    app.push_event(now, None, level, text.clone());
    if matches!(verdict, Verdict::Failed(_)) {
        app.notice = Some(text.clone());
    }
    app.mark(now, Marked::Analysis { route: name, verdict: verdict.name().into(), text });
    if matches!(verdict, Verdict::Failed(_)) {
        on_failed(app, i);
    }
}

/// What armed an automatic action of route `i`'s analysis.
fn armed(app: &State, by: Automatic, at: &str) -> Armed {
    Armed { by, at: at.to_string(), operator: app.operator.clone() }
}

/// Where the console may act by itself: where it drives, and never in a
/// dry run (which says what it would send, and sends nothing).
fn may_act(app: &State) -> bool {
    app.config.mode.can_act() && app.config.mode != Mode::DryRun && app.drives()
}

/// A failed step: reverted by itself when the plan says so, to the last
/// weights that passed (all-old when none did); otherwise the alarm said.
fn on_failed(app: &mut State, i: usize) {
    let Some(spec) = app.routes[i].spec.analysis.clone() else { return };
    let now = app.now;
    let route = &app.routes[i];
    let name = route.spec.name.clone();
    let kind = route.kind();
    let Some(from) = route.weights() else { return };
    route_stopped(app, i, "the step failed");
    if spec.on_failure != OnFailure::Revert {
        return;
    }
    let route = &app.routes[i];
    let to = route
        .passed
        .filter(|p| kind.share_new(*p).unwrap_or(0.0) < kind.share_new(from).unwrap_or(0.0))
        .unwrap_or(Weights::from_percent_new(0));
    let all_old = to == Weights::from_percent_new(0);
    let share = |w: Weights| kind.share_new(w).map_or("?".into(), |s| format!("{s:.0}%"));
    let target = if all_old { "all old".to_string() } else { format!("{}, the last weight that passed", share(to)) };
    if !may_act(app) {
        let mode = match app.config.mode {
            Mode::DryRun => "a dry run sends nothing",
            Mode::Run => "another console drives",
            _ => "nothing can be changed from here",
        };
        let text =
            format!("analysis would revert {name} to {target} (on_failure = revert, {}): {mode}", spec.on_failure_at);
        app.push_event(now, None, Level::Alert, text.clone());
        app.mark(now, Marked::Analysis { route: name, verdict: "would revert".into(), text });
        return;
    }
    let armed = armed(app, Automatic::Revert, &spec.on_failure_at);
    let id = RouteId::of(i);
    let effect = Effect::SetWeights { route: id, seen: None, to, all_old };
    let sent = app.send(effect, Purpose::AutoRevert, Some(from));
    if let Some(ingress) = app.routes[i].spec.ingress().cloned() {
        // The controller writes the rule from the Ingress: reverted there
        // too, or it would put the step back.
        app.send(Effect::SetIngressWeights { route: id, ingress, to, all_old }, Purpose::AutoRevert, Some(from));
    }
    app.routes[i].pending = true;
    let why = match app.routes[i].analysis.as_ref().map(|a| &a.verdict) {
        Some(Verdict::Failed(f)) => format!(": {}", f.text()),
        _ => String::new(),
    };
    let text = format!(
        "AUTO-REVERT route {name}: old {}/new {} -> old {}/new {} ({target}), the step failed{why}; on_failure = revert ({}), armed by {}",
        from.old.0, from.new.0, to.old.0, to.new.0, spec.on_failure_at, app.operator
    );
    app.push_action_event(now, Level::Alert, text.clone(), sent);
    app.notice = Some(text);
    let proposal = format!("route {name}: automatic revert after a failed step, to {target}");
    let who = armed.who();
    app.mark(now, Marked::Weights { route: name, from: Some(from), to, who, proposal, armed: Some(armed) });
}

/// The autopilot of route `i` stops until the operator steps it again.
fn route_stopped(app: &mut State, i: usize, why: &str) {
    let route = &mut app.routes[i];
    if route.spec.analysis.as_ref().is_some_and(|a| a.advance != Advance::Manual) {
        route.autopilot.countdown = None;
        route.autopilot.stopped = Some(why.into());
    }
}

/// The next step of route `i` towards new, if it has one.
fn next_step(route: &RouteState) -> Option<Weights> {
    let current = route.set_share()?;
    route.spec.steps.iter().copied().find(|s| f64::from(*s) > current + 1e-9).map(Weights::from_percent_new)
}

/// What a ready step does, as the plan arms it: the next step proposed,
/// or counted down to and applied; a step no longer ready stops its
/// countdown.
fn follow_verdict(app: &mut App, i: usize, spec: &AnalysisSpec) {
    let now = app.now;
    let ready = app.routes[i].analysis.as_ref().is_some_and(|a| a.verdict == Verdict::Ready);
    let name = app.routes[i].spec.name.clone();
    if !ready {
        if app.routes[i].autopilot.countdown.take().is_some() {
            let why = app.routes[i].analysis.as_ref().map_or(String::new(), |a| a.verdict.text());
            app.push_event(now, None, Level::Warn, format!("autopilot of {name}: countdown stopped: {why}"));
        }
        return;
    }
    let Some(to) = next_step(&app.routes[i]) else { return };
    match spec.advance {
        Advance::Manual => {}
        Advance::Prompt => {
            // Proposed once per step, when nothing else waits for the keys.
            let step = app.routes[i].analysis.as_ref().map(|a| a.since);
            if may_act(app) && app.prompted != step.map(|s| (i, s)) && app.modal.is_none() {
                app.prompted = step.map(|s| (i, s));
                crate::app::actions::propose_step_to(app, i, to);
            }
        }
        Advance::Auto => autopilot(app, i, spec, to),
    }
}

/// The autopilot: a countdown once the step is ready, the step applied
/// when it runs out, never over a guard (it holds, and says why).
fn autopilot(app: &mut App, i: usize, spec: &AnalysisSpec, to: Weights) {
    let now = app.now;
    let name = app.routes[i].spec.name.clone();
    let pilot = &app.routes[i].autopilot;
    if pilot.paused || pilot.stopped.is_some() || !may_act(app) {
        return;
    }
    let Some(countdown) = pilot.countdown.clone() else {
        // Not while a write of the route is unanswered or unsettled: the
        // step being made is no reason to count down to it again.
        let route = &app.routes[i];
        if route.pending || !route.unsettled.is_empty() || route.awaiting.is_some() || app.writing(RouteId::of(i)) {
            return;
        }
        let at = crate::domain::plus_secs(now, COUNTDOWN_SECS);
        app.routes[i].autopilot.countdown = Some(Countdown { at, to, held: None });
        let share = app.routes[i].kind().share_new(to).map_or("?".into(), |s| format!("{s:.0}%"));
        let text = format!(
            "autopilot of {name}: ready; {share} to new at {} unless cancelled (advance = auto, {})",
            clock(at),
            spec.advance_at
        );
        app.push_event(now, None, Level::Warn, text.clone());
        app.mark(now, Marked::Analysis { route: name, verdict: "countdown".into(), text });
        return;
    };
    if now < countdown.at {
        return;
    }
    let held = hold(app, i, countdown.to);
    if let Some(why) = held {
        if countdown.held.as_deref() != Some(why.as_str()) {
            app.push_event(now, None, Level::Warn, format!("autopilot of {name} holds: {why}"));
            if let Some(c) = app.routes[i].autopilot.countdown.as_mut() {
                c.held = Some(why);
            }
        }
        return;
    }
    app.routes[i].autopilot.countdown = None;
    let Some(from) = app.routes[i].weights() else { return };
    let armed = armed(app, Automatic::Autopilot, &spec.advance_at);
    let who = armed.who();
    let route = &app.routes[i];
    let weighted = |side: Side| route.spec.weighted(side).to_string();
    let mut seen = vec![(weighted(Side::Old), from.old), (weighted(Side::New), from.new)];
    seen.extend(route.read.as_ref().map(|r| r.others.clone()).unwrap_or_default());
    let id = RouteId::of(i);
    let sent = match route.spec.ingress().cloned() {
        Some(ingress) => app.send(
            Effect::SetIngressWeights { route: id, ingress, to, all_old: false },
            Purpose::Autopilot,
            Some(from),
        ),
        None => app.send(
            Effect::SetWeights { route: id, seen: Some(seen), to, all_old: false },
            Purpose::Autopilot,
            Some(from),
        ),
    };
    app.routes[i].pending = true;
    let kind = app.routes[i].kind();
    let share = |w: Weights| kind.share_new(w).map_or("?".into(), |s| format!("{s:.0}%"));
    let text = format!(
        "route {name}: {who} set old {}/new {} -> old {}/new {} ({} to new)",
        from.old.0,
        from.new.0,
        to.old.0,
        to.new.0,
        share(to)
    );
    app.push_action_event(now, Level::Warn, text, sent);
    let proposal = format!("route {name}: autopilot step {} → {}", share(from), share(to));
    app.mark(now, Marked::Weights { route: name, from: Some(from), to, who, proposal, armed: Some(armed) });
}

/// Why the autopilot may not step route `i` to `to` now: every guard a
/// step of the operator's would meet, the typed overrides included, and
/// a node drain on the new side.
fn hold(app: &App, i: usize, to: Weights) -> Option<String> {
    if let Err(reason) = crate::app::actions::weights_guard(app, i, to) {
        return Some(reason);
    }
    let route = &app.routes[i];
    if !route.unsettled.is_empty() || route.awaiting.is_some() || app.writing(RouteId::of(i)) {
        return Some("a write of the route is not settled".into());
    }
    if route.owners.as_ref().and_then(|o| o.rule.as_ref()).is_some_and(|o| o.reverts_weights()) {
        return Some("another writer of the rule would put the weights back: a step needs the operator".into());
    }
    let draining: Vec<String> = app
        .clusters
        .get(Side::New)
        .nodes
        .values()
        .filter(|n| n.disruption().is_some())
        .map(|n| crate::domain::short_node(&n.name).to_string())
        .collect();
    if !draining.is_empty() {
        return Some(format!("a node drain on new ({})", draining.join(", ")));
    }
    None
}

/// `c` and `p`: the autopilot of the selected route (or, when it has
/// none, of the one whose countdown ends first) cancels its coming step,
/// or pauses (and resumes). Neither changes anything but the autopilot.
pub fn on_key(app: &mut App, action: crate::keymap::Action) {
    use crate::keymap::Action;
    let now = app.now;
    let armed = |r: &RouteState| r.spec.analysis.as_ref().is_some_and(|a| a.advance == Advance::Auto);
    let selected = match app.ui.view {
        crate::app::View::Route(i) => i,
        _ => app.ui.selected[crate::app::Panel::Traffic.index()],
    };
    let i = if app.routes.get(selected).is_some_and(armed) {
        Some(selected)
    } else {
        app.routes
            .iter()
            .enumerate()
            .filter(|(_, r)| armed(r) && r.autopilot.countdown.is_some())
            .min_by_key(|(_, r)| r.autopilot.countdown.as_ref().map(|c| c.at))
            .map(|(i, _)| i)
    };
    let Some(i) = i else {
        app.notice = Some("no route has an autopilot (the plan's advance = \"auto\")".into());
        return;
    };
    let name = app.routes[i].spec.name.clone();
    let who = app.operator.clone();
    let pilot = &mut app.routes[i].autopilot;
    let text = match action {
        Action::AutopilotCancel => {
            let what = pilot.countdown.take().map_or("its next step".to_string(), |c| {
                format!("the step to old {}/new {} due at {}", c.to.old.0, c.to.new.0, clock(c.at))
            });
            pilot.stopped = Some(format!("cancelled by {who}"));
            format!("autopilot of {name}: {who} cancelled {what}; the operator steps from here")
        }
        _ if pilot.paused => {
            pilot.paused = false;
            format!("autopilot of {name}: resumed by {who}")
        }
        _ => {
            pilot.paused = true;
            pilot.countdown = None;
            format!("autopilot of {name}: paused by {who}")
        }
    };
    app.push_event(now, None, Level::Warn, text.clone());
    app.mark(now, Marked::Analysis { route: name, verdict: "autopilot".into(), text });
}

/// The verdict and its evidence, as a step's proposal says it.
pub fn proposal_line(app: &App, i: usize) -> Option<String> {
    let route = &app.routes[i];
    let spec = route.spec.analysis.as_ref()?;
    if route.blind.is_some() {
        return Some("analysis: BLIND, its metrics are stale: no verdict".into());
    }
    let a = route.analysis.as_ref()?;
    let e = &a.evidence;
    let side = |c: Counts| {
        c.share().map_or("no requests".into(), |s| {
            format!("5xx {} of {} req", crate::domain::analysis::percent(s), c.requests)
        })
    };
    let latency = e
        .latency_ms
        .map_or(String::new(), |ms| format!(", latency {ms:.0} ms ({})", app.routes[i].spec.metrics.latency_is()));
    let over = if e.minutes == 0 {
        String::new()
    } else {
        format!(" over {} min: new {}, old {}{latency}", e.minutes, side(e.new), side(e.old))
    };
    let bake = if matches!(a.verdict, Verdict::Ready) { String::new() } else { format!(" (bake {}s)", spec.bake_secs) };
    Some(format!("analysis: {}{bake}{over}", a.verdict.text()))
}

/// Why the analysis holds a step of route `i` towards new back: its step
/// failed, is blind, or is not yet ready (the typed word overrides it).
pub fn holds(app: &App, i: usize) -> Option<String> {
    let route = &app.routes[i];
    route.spec.analysis.as_ref()?;
    if route.blind.is_some() {
        return Some("blind: its metrics are stale".into());
    }
    match route.analysis.as_ref().map(|a| &a.verdict) {
        Some(Verdict::Ready) => None,
        Some(Verdict::Failed(why)) => Some(format!("the step at this weight FAILED: {}", why.text())),
        Some(v) => Some(format!("not ready: {}", v.text())),
        None => Some("not ready: not judged yet".into()),
    }
}

use jiff::Timestamp;

use crate::domain::{
    Minute, Node, NodeSignal, NodeSignalKind, Pod, PodsLost, PriorChange, RouteId, RouteOwners, RouteProblem,
    RouteRead, Severity, Side, SignalSeen, Weights, Workload, WorkloadKey, WorkloadKind, error_rate, short_node,
};
use crate::keymap::{Action, Key};

use super::{
    App, CAUSE_CAPACITY, ClusterDelta, Effect, LATE_READ_SECS, Level, Mark, Marked, MetricPoint, Msg, NodeCause,
    PODS_LOST_CAPACITY, Pointer, Queued, REVERT_WINDOW_SECS, RouteMetric, RouteReadState, SIGNAL_CAPACITY, SeriesId,
    SideMetrics, SourceId, SourceState, State, actions, find, moves, pointer,
};

/// What applying one message produced.
#[derive(Debug, Default)]
#[must_use]
pub struct Update {
    /// Whether anything visible may have changed: the runtime redraws only then.
    pub redraw: bool,
    /// Effects for the session's executor, each with the id its answer
    /// will carry. A session without an executor gets none.
    pub effects: Vec<Queued>,
    /// Moments for the recording's timeline and the report.
    pub marks: Vec<Mark>,
}

/// Applies one message and returns what it produced.
pub fn update(app: &mut App, msg: Msg) -> Update {
    let mut redraw = apply(app, msg);
    // New evidence (a signal, pods lost) may change what is said of a
    // recent rise: only then are the recent causes explained again.
    if std::mem::take(&mut app.evidence) && app.causes.iter().any(|c| super::causes::recent(c, app.now)) {
        super::causes::refresh(app);
    }
    redraw |= actions::watch_singletons(app);
    super::analysis::advance(app);
    super::signal::check(app);
    let produced = std::mem::take(&mut app.produced);
    Update { redraw, effects: produced.effects, marks: produced.marks }
}

fn apply(app: &mut App, msg: Msg) -> bool {
    match msg {
        Msg::Tick { at } => {
            let changed = at.as_second() != app.now.as_second();
            // Only when the clock moves into a new minute: a tick from an
            // earlier one (a late message) moves nothing.
            let minute = crate::domain::Minute::containing(at) > crate::domain::Minute::containing(app.now);
            app.now = at.max(app.now);
            if minute {
                // Pods move between nodes: the risks that count them.
                super::risks::judge(app);
            }
            actions::advance_handoff(app);
            actions::controllers_overdue(app);
            changed
        }
        Msg::Key(key) => {
            if super::signal::on_key_while_stopping(app, key) {
                return true;
            }
            let action = app.keymap.action(key);
            if actions::on_modal_key(app, key, action) {
                return true;
            }
            let App { state, ui, .. } = app;
            if let Some(moved) = find::on_key(state, ui, key) {
                moved.apply(state);
                return true;
            }
            match action {
                // Ctrl-C quits whatever is in flight (it is also how a lost
                // terminal ends the console); what a handoff leaves is on
                // disk, and said on the way out.
                Some(Action::Quit) if key == Key::ctrl('c') => {
                    app.quit = true;
                    true
                }
                Some(action) => {
                    on_action(app, action);
                    true
                }
                None => app.notice.take().is_some(),
            }
        }
        Msg::EffectDone { id, effect, result } => {
            actions::on_effect_done(app, id, effect, result);
            true
        }
        Msg::Resumed { handoff, saved_at } => {
            actions::on_resumed(app, handoff, saved_at);
            true
        }
        Msg::Operator { who } => {
            app.operator = who;
            true
        }
        Msg::Resize => true,
        Msg::Mouse { kind, column, row } => match app.resolve_pointer(kind, column, row) {
            Some(p) => on_pointer(app, p),
            None => false,
        },
        Msg::Pointer(p) => on_pointer(app, p),
        Msg::Cluster { side, delta } => {
            on_cluster(app, side, delta);
            actions::advance_handoff(app);
            true
        }
        Msg::NodeSignals(signals) => {
            signals.into_iter().for_each(|seen| on_signal_seen(app, seen));
            true
        }
        Msg::Lifecycle(facts) => {
            super::risks::on_lifecycle(app, facts);
            true
        }
        Msg::Traffic { at, routes } => {
            for read in routes {
                on_route_read(app, at, read);
            }
            true
        }
        Msg::EffectProgress { id, text, unanswered } => match app.in_flight.get_mut(&id) {
            Some(f) => {
                f.progress = Some(text);
                f.unanswered += u32::from(unanswered);
                true
            }
            None => false,
        },
        Msg::RouteOwners { at, routes, error } => {
            on_route_owners(app, at, routes, error);
            true
        }
        Msg::Metrics(points) => {
            for point in points {
                on_metric(app, point);
            }
            true
        }
        Msg::PriorChanges { changes, recordings } => {
            on_prior_changes(app, changes, recordings);
            true
        }
        Msg::RouteProblems { at, source, problems } => {
            on_route_problems(app, at, source, problems);
            true
        }
        Msg::Wheel { at, lease, wheel } => super::wheel::on_wheel(app, at, lease, wheel),
        Msg::Share(status) => {
            let changed = app.share.as_ref() != Some(&status);
            app.share = Some(status);
            changed
        }
        Msg::Signal(signal) => super::signal::on_signal(app, signal),
        Msg::Ended(ending) => super::signal::on_ended(app, ending),
        Msg::Keeping(keeping) => super::keeping::on_keeping(app, keeping),
        Msg::Held(held) => {
            let changed = app.held != held;
            app.held = held;
            changed
        }
        Msg::OnDisk(left) => super::keeping::on_disk(app, left),
        Msg::Source { id, state } => {
            let previous = app.sources.insert(id, state.clone());
            let was_stale = matches!(previous, Some(SourceState::Stale { .. }));
            match &state {
                SourceState::Stale { since, error, .. } if !was_stale => {
                    let text = format!("{} stale: {error}", id.label());
                    app.push_event(*since, None, Level::Alert, text);
                }
                SourceState::Live { last_ok } if was_stale => {
                    app.push_event(*last_ok, None, Level::Info, format!("{} live again", id.label()));
                }
                _ => {}
            }
            true
        }
    }
}

fn on_action(app: &mut App, action: Action) {
    if action == Action::Quit && actions::ask_before_quit(app) {
        return;
    }
    if app.ui.help {
        // The help overlay swallows everything but its own dismissal and quit.
        return moves::on_console(app, action);
    }
    if action.mutates() {
        actions::on_mutating_action(app, action);
        return;
    }
    match action {
        Action::AutopilotCancel | Action::AutopilotPause => super::analysis::on_key(app, action),
        _ => moves::on_console(app, action),
    }
}

/// A click or the wheel, on the console's own view.
fn on_pointer(app: &mut App, p: Pointer) -> bool {
    let App { state, ui, .. } = app;
    match pointer::apply(state, ui, p) {
        Some(moved) => {
            moved.apply(state);
            true
        }
        None => false,
    }
}

fn on_cluster(app: &mut State, side: Side, delta: ClusterDelta) {
    let now = app.now;
    let cluster = app.clusters.get_mut(side);
    match delta {
        ClusterDelta::Workload(w) => {
            let watched =
                cluster.synced && app.config.singletons.iter().any(|s| s.key(side) == &w.key && s.kind == w.kind);
            let before = cluster.workloads.insert(w.key.clone(), w.clone());
            let restopped = before.as_ref().is_some_and(|b| b.stop != w.stop);
            if let Some(b) = before.as_ref().filter(|_| app.clusters.get(side).synced) {
                super::causes::on_workload(app, side, b, &w);
            }
            if let Some(before) = before.filter(|_| watched) {
                on_singleton_change(app, side, &before, &w);
            }
            if restopped && app.config.serves(&w.key) {
                super::risks::judge(app);
            }
        }
        ClusterDelta::WorkloadGone(key) => {
            cluster.workloads.remove(&key);
        }
        ClusterDelta::Pod(pod) => {
            // A pod seen leaving (terminating, evicted) for the first time.
            let left = leaving(&pod) && cluster.pods.get(&pod.key).is_some_and(|p| !leaving(p));
            if left {
                count_lost(app, side, &pod);
            }
            app.clusters.get_mut(side).upsert_pod(pod);
        }
        ClusterDelta::PodGone(key) => {
            if let Some(pod) = cluster.remove_pod(&key)
                && !leaving(&pod)
            {
                count_lost(app, side, &pod);
            }
        }
        ClusterDelta::Node(node) => {
            let before = cluster.nodes.get(&node.name);
            let signals = node_signals(before, &node);
            // A node whose state no longer shows a disruption (uncordoned,
            // pressure over) loses the cause that state gave it.
            let cleared = before.and_then(Node::strongest).is_some() && node.strongest().is_none();
            cluster.nodes.insert(node.name.clone(), node.clone());
            if cleared
                && let Some(cause) = app.node_causes.get_mut(side).get(&node.name)
                && NodeSignalKind::ON_NODE.contains(&cause.kind)
            {
                app.node_causes.get_mut(side).remove(&node.name);
            }
            for kind in signals {
                record_signal(app, NodeSignal { at: now, side, node: node.name.clone(), kind }, None);
            }
        }
        ClusterDelta::NodeGone(name) => {
            if let Some(node) = cluster.nodes.remove(&name) {
                // EC2's own record of it (a CloudTrail event) may come
                // minutes after the node is gone: it is still known by
                // its instance for a while.
                app.departed.push_back((side, node));
                while app.departed.len() > super::DEPARTED_CAPACITY {
                    app.departed.pop_front();
                }
                record_signal(app, NodeSignal { at: now, side, node: name, kind: NodeSignalKind::Removed }, None);
            }
        }
        ClusterDelta::NodeEvent(e) => {
            let signal = NodeSignal { at: e.at, side, node: e.node, kind: e.kind };
            record_signal(app, signal, Some(Said::Event(&e.reason)));
        }
        ClusterDelta::Autoscaler(a) => {
            cluster.autoscalers.insert(a.target.clone(), a);
        }
        ClusterDelta::AutoscalerGone(target) => {
            cluster.autoscalers.remove(&target);
        }
        ClusterDelta::ServerVersion(v) => app.config.clusters.get_mut(side).version = v,
        ClusterDelta::Synced => {
            cluster.synced = true;
            super::risks::judge(app);
        }
        ClusterDelta::Warning(w) => {
            let text = format!("{} {}: {}", w.reason, w.object, w.message);
            app.push_event(w.at, Some(side), Level::Warn, text);
        }
    }
}

/// The signals a node change carries: disruptions that appeared since the
/// previous state, each once. A node seen for the first time is compared
/// with a healthy node, so a console started mid-incident still shows it.
fn node_signals(before: Option<&Node>, after: &Node) -> Vec<NodeSignalKind> {
    after.signals().filter(|k| !before.is_some_and(|b| b.has(*k)) && !implied(*k, after)).collect()
}

/// A taint that the node lifecycle controller adds for what another signal
/// of the same node already said: a cordon, or the Ready condition.
fn implied(kind: NodeSignalKind, node: &Node) -> bool {
    match kind {
        NodeSignalKind::TaintUnschedulable => node.cordoned,
        NodeSignalKind::TaintNotReady | NodeSignalKind::TaintUnreachable => !node.ready,
        _ => false,
    }
}

/// A signal an outside source saw: on the side whose node it names, with
/// what the source said. An instance no cluster has as a node (not yet
/// registered, already gone, another cluster's) is said as such, on no side.
fn on_signal_seen(app: &mut State, seen: SignalSeen) {
    let on = Side::BOTH
        .into_iter()
        .find_map(|side| Some((side, seen.node.find(&app.clusters.get(side).nodes)?)))
        .or_else(|| app.departed.iter().rev().find(|(_, n)| seen.node.is(n)).map(|(side, n)| (*side, n)));
    match on {
        Some((side, node)) => {
            let signal = NodeSignal { at: seen.at, side, node: node.name.clone(), kind: seen.kind };
            let said = format!("{}: {}", seen.kind.source().label(), seen.detail);
            record_signal(app, signal, Some(Said::Source(&said)));
        }
        None => {
            let text = format!(
                "{} {}: {} ({}: {}); no node of either cluster is that instance",
                match seen.node {
                    crate::domain::NodeRef::Instance(_) => "instance",
                    crate::domain::NodeRef::Name(_) => "node",
                },
                seen.node,
                seen.kind.label(),
                seen.kind.source().label(),
                seen.detail
            );
            app.push_event(seen.at, None, Level::Warn, text);
        }
    }
}

/// Where a signal was read, said after it.
enum Said<'a> {
    /// A Kubernetes Event, by its reason.
    Event(&'a str),
    /// An outside source, in its words.
    Source(&'a str),
}

fn record_signal(app: &mut State, signal: NodeSignal, said: Option<Said<'_>>) {
    let level = match signal.kind.severity() {
        Severity::Info => Level::Info,
        Severity::Warn => Level::Warn,
        Severity::Alert => Level::Alert,
    };
    let capacity = app
        .clusters
        .get(signal.side)
        .nodes
        .get(&signal.node)
        .map(|n| format!(" ({})", n.capacity.short()))
        .unwrap_or_default();
    let from = match said {
        Some(Said::Event(reason)) => format!(" (Event {reason})"),
        Some(Said::Source(words)) => format!(" ({words})"),
        None => String::new(),
    };
    let text = format!("node {}{capacity}: {}{from}", short_node(&signal.node), signal.kind.label());
    app.push_event(signal.at, Some(signal.side), level, text);
    if signal.kind != NodeSignalKind::Removed {
        let what = Marked::Node { side: signal.side, node: signal.node.clone(), signal: signal.kind };
        app.mark(signal.at, what);
    }
    note_cause(app, &signal);
    app.evidence = true;
    app.node_signals.push_back(signal);
    while app.node_signals.len() > SIGNAL_CAPACITY {
        app.node_signals.pop_front();
    }
}

/// Remembers what a node's pods would be lost to: the latest of the
/// strongest signals. A removed node keeps its cause (its pods may be
/// deleted after it), or gets `Removed` if it had none.
fn note_cause(app: &mut State, signal: &NodeSignal) {
    let rank = signal.kind.cause_rank();
    if rank == 0 {
        return;
    }
    let now = app.now;
    let nodes = &app.clusters.get(signal.side).nodes;
    let causes = app.node_causes.get_mut(signal.side);
    let current = causes.get(&signal.node).filter(|c| c.live(now));
    let cause = match (current, signal.kind) {
        (Some(c), NodeSignalKind::Removed) => NodeCause { kind: c.kind, at: now },
        (Some(c), _) if c.kind.cause_rank() > rank => NodeCause { kind: c.kind, at: c.at.max(signal.at) },
        (_, kind) => NodeCause { kind, at: signal.at },
    };
    causes.insert(signal.node.clone(), cause);
    if causes.len() > CAUSE_CAPACITY {
        causes.retain(|name, c| c.live(now) || nodes.contains_key(name));
    }
}

/// Whether a pod is on its way out: terminating, or evicted by the kubelet.
fn leaving(pod: &Pod) -> bool {
    matches!(pod.reason.as_deref(), Some("Terminating" | "Evicted"))
}

/// What a pod leaving this node now is put down to, if to anything: the
/// node's own strongest signal, or a recent one remembered (from an Event,
/// or of a node already removed), whichever ranks higher.
fn lost_to(app: &State, side: Side, node: &str) -> Option<NodeSignalKind> {
    let remembered = app.node_causes.get(side).get(node).filter(|c| c.live(app.now)).map(|c| c.kind);
    let state = app.clusters.get(side).nodes.get(node).and_then(Node::strongest);
    match (state, remembered) {
        (Some(s), Some(r)) => Some(if r.cause_rank() >= s.cause_rank() { r } else { s }),
        (s, r) => s.or(r),
    }
}

/// Counts a pod of a route's workload that left a node with a disruption
/// signal, in the current minute.
fn count_lost(app: &mut State, side: Side, pod: &Pod) {
    let (Some(owner), Some(node)) = (&pod.owner, &pod.node) else { return };
    if !app.config.serves(owner) {
        return;
    }
    let Some(cause) = lost_to(app, side, node) else { return };
    app.evidence = true;
    let minute = Minute::containing(app.now);
    let same = |l: &PodsLost| l.side == side && &l.workload == owner && &l.node == node && l.cause == cause;
    let found = app.pods_lost.iter_mut().rev().take_while(|l| l.minute == minute).find(|l| same(l));
    match found {
        Some(l) => l.count += 1,
        None => app.pods_lost.push_back(PodsLost {
            minute,
            side,
            workload: WorkloadKey::clone(owner),
            node: node.clone(),
            cause,
            count: 1,
            capacity: app.clusters.get(side).nodes.get(node).map(|n| n.capacity),
        }),
    }
    while app.pods_lost.len() > PODS_LOST_CAPACITY {
        app.pods_lost.pop_front();
    }
}

fn on_route_read(app: &mut App, at: Timestamp, read: RouteRead) {
    let i = read.route.index();
    let Some(route) = app.routes.get_mut(i) else {
        return;
    };
    let RouteRead { weights, others, targets, detail, .. } = read;
    let before = route.read.as_ref().and_then(|r| r.weights);
    // A poll begun before this session's write and answered just after it
    // shows the weights before the write: not a change of anybody's.
    let late = route.last_write.as_ref().is_some_and(|w| {
        before == Some(w.to) && weights != Some(w.to) && at.as_second() - w.at.as_second() <= LATE_READ_SECS
    });
    let weights = if late { before } else { weights };
    route.read = Some(RouteReadState { at, weights, others, targets, detail });
    if route.first_read.is_none()
        && let Some(w) = weights
    {
        route.first_read = Some((at, w));
    }
    if route.weights_since.is_none() && weights.is_some() {
        // The session's first read: where `r` stops, and as far back as
        // the console can vouch for the weights.
        route.weights_since = Some((at, true));
    }
    if route.awaiting.as_ref().is_some_and(|aw| Some(aw.to) == weights) {
        actions::controller_wrote(app, i, at);
        if before != weights {
            app.routes[i].note_change(at, weights);
        }
        return;
    }
    let (Some(before), Some(after)) = (before, weights) else { return };
    if before == after {
        return;
    }
    route.note_change(at, Some(after));
    let name = route.spec.name.clone();
    let ingress = route.spec.ingress().cloned();
    let owner = route.owners.as_ref().and_then(|o| o.rule.clone());
    let last_write = route.last_write.clone();
    let source = route.kind().backend_name();
    let id = RouteId::of(i);
    let shown = |w: Weights| format!("old {}/new {}", w.old.0, w.new.0);
    // The answer to one of this session's writes, read before the answer came.
    let ours = app.in_flight.values().any(|f| f.effect.route() == Some(id) && f.effect.sets_to() == Some(after));
    // Not said: the executor's read-back says it on the action's line.
    if ours {
        return;
    }
    // One of this session's writes, landing late: never somebody else's.
    if super::late::landed(app, i, at, before, after) {
        return;
    }
    let undone = last_write.filter(|w| w.to == before && at.as_second() - w.at.as_second() <= REVERT_WINDOW_SECS);
    let subject = format!("route {name}");
    let likely = match (&ingress, &owner) {
        (Some(ing), _) => format!(
            "likely the AWS Load Balancer Controller, which writes this rule from Ingress {} on {}: step through it",
            ing.key, ing.side
        ),
        (None, Some(owner)) => format!("{source} does not say who; likely {}, which owns it", owner.describe()),
        (None, None) => format!("{source} does not say who"),
    };
    let text = match &undone {
        Some(w) => format!(
            "REVERTED: route {name} went from {} (written by {} at {}) to {}, not by this session; {likely}",
            shown(before),
            w.who,
            crate::domain::clock(w.at),
            shown(after)
        ),
        None => format!(
            "OUTSIDE CHANGE: route {name} weights {} -> {}, not made by this session; {source} does not say who",
            shown(before),
            shown(after)
        ),
    };
    let (before, after, revert) = (shown(before), shown(after), undone.is_some());
    outside_change(app, at, Marked::OutsideChange { subject, before, after, who: None, revert, text });
}

/// A change nobody in this session made (a `Marked::OutsideChange`): an
/// alert, on the notice line too when it reverts this session's write, and
/// the mark for the recording's timeline and the report.
fn outside_change(app: &mut State, at: Timestamp, change: Marked) {
    if let Marked::OutsideChange { text, revert, .. } = &change {
        app.push_event(at, None, Level::Alert, text.clone());
        if *revert {
            app.notice = Some(text.clone());
        }
    }
    app.mark(at, change);
}

/// A singleton's replicas or suspension changed: by this session's
/// effect (in flight, or its echo after the answer), or by somebody else.
fn on_singleton_change(app: &mut State, side: Side, before: &Workload, after: &Workload) {
    let state = |w: &Workload| match w.kind {
        WorkloadKind::CronJob => (if w.suspended { "suspended" } else { "resumed" }).to_string(),
        _ => format!("replicas {}", w.desired),
    };
    let running = |w: &Workload| match w.kind {
        WorkloadKind::CronJob => !w.suspended,
        _ => w.desired > 0,
    };
    let (was, now) = (state(before), state(after));
    if was == now {
        return;
    }
    let key = &after.key;
    let at = app.now;
    let ours_in_flight = app.in_flight.values().any(|f| match &f.effect {
        Effect::Stop { side: s, key: k, .. } => *s == side && k == key && !running(after),
        Effect::Start { side: s, key: k, .. } => *s == side && k == key && running(after),
        _ => false,
    });
    let written = app.singleton_writes.iter().find(|(s, k, _)| *s == side && k == key).map(|(_, _, w)| w.clone());
    let recent = written.as_ref().filter(|w| at.as_second() - w.at.as_second() <= REVERT_WINDOW_SECS);
    let echo = recent.is_some_and(|w| w.to == running(after));
    if ours_in_flight || echo {
        return;
    }
    let undone = recent.filter(|w| w.to == running(before) && w.to != running(after));
    let who = after.changed_by.clone();
    let by = match (who.as_deref(), &after.owner) {
        (Some(w), Some(owner)) => format!("by {w} ({})", owner.describe()),
        (Some(w), None) => format!("by {w}"),
        (None, Some(owner)) => format!("the API does not name who; likely {}", owner.describe()),
        (None, None) => "by someone the API does not name".into(),
    };
    let subject = format!("{key} on {side}");
    let text = match undone {
        Some(w) => format!(
            "REVERTED: {key} on {side} went from {was} (written by {} at {}) to {now}, {by}, not by this session",
            w.who,
            crate::domain::clock(w.at)
        ),
        None => format!("OUTSIDE CHANGE: {key} on {side}: {was} -> {now}, {by}, not by this session"),
    };
    let revert = undone.is_some();
    outside_change(app, at, Marked::OutsideChange { subject, before: was, after: now, who, revert, text });
}

/// What earlier sessions of the plan saw last of each route's weights:
/// said once, in one line, so the operator (and a replay) knows where the
/// pacing's times come from.
fn on_prior_changes(app: &mut State, changes: Vec<PriorChange>, recordings: u32) {
    let mut known = Vec::new();
    for route in &mut app.routes {
        route.prior = changes.iter().filter(|c| c.route == route.spec.name).max_by_key(|c| c.at).cloned();
        if let Some(p) = &route.prior {
            let share = route.kind().share_new(p.to).map_or(String::new(), |s| format!(" {s:.0}%"));
            known.push(format!("{} set to{share} at {} ({})", route.spec.name, crate::domain::clock(p.at), p.source));
        }
    }
    // The simulated world tells what it knows without a word: only what
    // recordings said, or that nothing was found, is an event.
    if recordings == 0 && !known.is_empty() {
        return;
    }
    let at = app.now;
    let text = if known.is_empty() {
        format!(
            "pacing: no earlier change of the routes' weights on record ({recordings} recording(s) of this plan read): the time at each weight counts from now"
        )
    } else {
        format!("pacing: last changes before this session: {}", known.join("; "))
    };
    app.push_event(at, None, Level::Info, text);
}

/// The routes of `source` that could not be read, each with why; the
/// others read. Said once when a route's problem starts, changes or ends.
fn on_route_problems(app: &mut State, at: Timestamp, source: SourceId, problems: Vec<RouteProblem>) {
    let mut said = Vec::new();
    for (i, route) in app.routes.iter_mut().enumerate() {
        if route.spec.source() != source {
            continue;
        }
        let now = problems.iter().find(|p| p.route.index() == i).map(|p| p.error.clone());
        let name = &route.spec.name;
        match (&route.problem, now) {
            (Some((_, before)), Some(now)) if *before == now => {}
            (_, Some(now)) => {
                said.push((
                    Level::Alert,
                    format!(
                        "route {name} cannot be read: {now}; its steps wait, the other routes go on (R still reverts)"
                    ),
                ));
                route.problem = Some((at, now));
            }
            (Some(_), None) => {
                said.push((Level::Info, format!("route {name} reads again")));
                route.problem = None;
            }
            (None, None) => {}
        }
    }
    for (level, text) in said {
        app.push_event(at, None, level, text);
    }
}

/// Who else writes the routes' rules and target groups. A failed read
/// keeps what was known: a throttled DescribeTags must not make an owned
/// rule look free.
fn on_route_owners(app: &mut State, at: Timestamp, owners: Vec<RouteOwners>, error: Option<String>) {
    if let Some(error) = error {
        let new = app.routes.iter().any(|r| r.owners_error.as_deref() != Some(error.as_str()));
        for route in &mut app.routes {
            route.owners_error = Some(error.clone());
        }
        if new {
            let text = format!("who else writes the routes is not known: ELBv2 tags not read ({error})");
            app.push_event(at, None, Level::Warn, text);
        }
        return;
    }
    for owners in owners {
        let Some(route) = app.routes.get_mut(owners.route.index()) else { continue };
        route.owners_error = None;
        let before = route.owners.as_ref().and_then(|o| o.rule.clone());
        let name = route.spec.name.clone();
        let text = match (&before, &owners.rule) {
            (b, Some(now)) if b.as_ref() != Some(now) => Some(if now.reverts_weights() {
                (
                    Level::Warn,
                    format!("route {name}: {} owns the rule: a weight step needs the typed override", now.describe()),
                )
            } else {
                (Level::Info, format!("route {name}: the rule belongs to {}", now.describe()))
            }),
            (Some(b), None) => Some((Level::Info, format!("route {name}: {} no longer owns the rule", b.describe()))),
            _ => None,
        };
        route.owners = Some(owners);
        if let Some((level, text)) = text {
            app.push_event(at, None, level, text);
        }
    }
}

fn on_metric(app: &mut State, point: MetricPoint) {
    match point.series {
        SeriesId::Route { route, side, metric } => {
            let index = route.index();
            let Some(route) = app.routes.get_mut(index) else {
                return;
            };
            let m = route.metrics.get_mut(side);
            let rate = |m: &SideMetrics| error_rate(m.requests.get(point.minute), m.target_5xx.get(point.minute));
            let before = rate(m);
            let series = match metric {
                RouteMetric::Requests => &mut m.requests,
                RouteMetric::Target5xx => &mut m.target_5xx,
                RouteMetric::LatencyMs => &mut m.latency_ms,
            };
            series.insert(point.minute, point.value);
            // A spike is marked once, when its minute first reads above the
            // guard; a revised datapoint of the same minute adds nothing.
            let guard = app.config.guards.spike_percent;
            let above = |r: Option<f64>| r.is_some_and(|r| r * 100.0 > guard);
            if let Some(after) = rate(m).filter(|_| !above(before))
                && above(Some(after))
            {
                let what = Marked::Spike {
                    route: route.spec.name.clone(),
                    side,
                    minute: point.minute,
                    percent: after * 100.0,
                    guard,
                };
                app.mark(point.minute.start(), what);
                super::causes::on_rise(app, index, side, point.minute, after * 100.0);
            }
        }
        SeriesId::LoadBalancer { lb, metric } => {
            let series = app.load_balancers.entry(lb.clone()).or_default().series_mut(metric);
            let before = series.get(point.minute);
            series.insert(point.minute, point.value);
            if metric == super::LbMetric::Elb5xx {
                super::causes::on_elb(app, &lb, point.minute, before);
            }
        }
    }
}

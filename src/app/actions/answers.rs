//! The executor's answers, matched to their effects, and a handoff an
//! earlier session left unfinished, picked up.

use jiff::Timestamp;

use crate::app::{App, Effect, EffectResult, Handoff, HandoffPhase, Level, Marked, Purpose};
use crate::domain::clock;
use crate::keymap::Action;

use super::handoff::advance_handoff;

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
        EffectResult::Unknown { detail } if detail.starts_with(crate::app::NOT_AWAITED) => (
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
        crate::app::late::keep(app, id, &effect, purpose, s.since, &result, s.unanswered);
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
    let not_awaited =
        matches!(&result, EffectResult::Unknown { detail } if detail.starts_with(crate::app::NOT_AWAITED));
    if !matches!(result, EffectResult::Verified { .. } | EffectResult::DryRun { .. }) && !not_awaited {
        app.notice = Some(match &result {
            EffectResult::Mismatch { detail } => format!("read-back differs: {detail}"),
            other => other.text(),
        });
    }
    // The way back verified: an alarm about the route shown until now
    // (a late write, a lost answer) is answered by it, and goes.
    if matches!(result, EffectResult::Verified { .. })
        && matches!(purpose, Purpose::Revert | Purpose::Reassert | Purpose::AutoRevert)
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
                r.awaiting = Some(crate::app::Awaiting { to, from, since: at, purpose, who, effect: id, all_old });
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
                    r.standing = Some(crate::app::Standing { effect: id, to, all_old, purpose, who: who.clone(), at });
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
                let write = crate::app::OwnWrite { at, who: app.operator.clone(), to: is_start };
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

//! Late writes of this session: a weight write whose answer was not
//! awaited (a revert went ahead of it) or lost may still be applied, seconds
//! after the console moved on. It stays this session's: what it would write
//! is kept (per route, bounded, for `LATE_WRITE_SECS`), and a read that
//! shows it landing names it as the session's own, never as somebody
//! else's.
//!
//! What happens then depends on what the session asked for after it:
//! - nothing: it is the session's latest write, in effect from now;
//! - the same weights: nothing to do;
//! - a write still in flight: that write re-reads and decides (a revert
//!   writes again until it reads back);
//! - a written one that sends less traffic to new than what landed (a
//!   revert, an undo, a step back): it is written again at once and
//!   verified, as the way back always wins;
//! - a written one that sends more to new (a late revert landing after a
//!   later step forward): traffic went the safe way, and the console never
//!   moves it towards new by itself: it says so, and the operator decides.
//!
//! Only a session that can act writes again (`Mode::can_act`, and not a
//! dry run); a replay or a follower applies the same messages and shows the
//! same lines, and sends nothing (it has no executor).

use jiff::Timestamp;

use crate::domain::{RouteId, Weights, clock};

use super::{
    App, Effect, EffectResult, LATE_WRITE_SECS, Level, Marked, Mode, NOT_AWAITED, Purpose, Standing,
    UNSETTLED_CAPACITY, Unsettled,
};

/// Keeps a weight write whose answer says it may still land, or that sent
/// requests which went unanswered on its way (`unanswered`).
pub fn keep(
    app: &mut App,
    id: u64,
    effect: &Effect,
    purpose: Purpose,
    sent: Timestamp,
    result: &EffectResult,
    unanswered: u32,
) {
    let (Some(route), Some(to)) = (effect.route(), effect.sets_to()) else { return };
    let requests = unanswered + u32::from(result.may_still_land());
    if requests == 0 {
        return;
    }
    let why = match result {
        EffectResult::Unknown { detail } if detail.starts_with(NOT_AWAITED) => "its answer was not awaited",
        EffectResult::Verified { .. } | EffectResult::Mismatch { .. } => "tries of it went unanswered",
        _ => "its answer was lost",
    };
    let who = app.operator.clone();
    let now = app.now;
    let Some(r) = app.routes.get_mut(route.index()) else { return };
    trim(&mut r.unsettled, now);
    r.unsettled.push(Unsettled {
        effect: id,
        to,
        all_old: effect.all_old(),
        purpose,
        sent,
        who,
        why: why.into(),
        requests,
    });
    if r.unsettled.len() > UNSETTLED_CAPACITY {
        r.unsettled.remove(0);
    }
}

/// Drops what can no longer land.
fn trim(unsettled: &mut Vec<Unsettled>, now: Timestamp) {
    unsettled.retain(|u| now.as_second() - u.sent.as_second() <= LATE_WRITE_SECS);
}

/// What the session asked for last, after a given write.
struct Intent {
    to: Weights,
    all_old: bool,
    purpose: Purpose,
    who: String,
    in_flight: bool,
}

/// The session's newest write of route `i` after effect `after_id`:
/// in flight, written, or itself unsettled; None if it sent none since.
fn newest_after(app: &App, i: usize, after_id: u64) -> Option<Intent> {
    let id = RouteId::of(i);
    let route = &app.routes[i];
    let mut best: Option<(u64, Intent)> = None;
    let mut consider = |k: u64, intent: Intent| {
        if k > after_id && best.as_ref().is_none_or(|(b, _)| k > *b) {
            best = Some((k, intent));
        }
    };
    for (k, f) in &app.in_flight {
        if f.effect.route() == Some(id)
            && let Some(to) = f.effect.sets_to()
        {
            let intent = Intent {
                to,
                all_old: f.effect.all_old(),
                purpose: f.purpose,
                who: app.operator.clone(),
                in_flight: true,
            };
            consider(*k, intent);
        }
    }
    if let Some(s) = &route.standing {
        consider(
            s.effect,
            Intent { to: s.to, all_old: s.all_old, purpose: s.purpose, who: s.who.clone(), in_flight: false },
        );
    }
    for u in &route.unsettled {
        consider(
            u.effect,
            Intent { to: u.to, all_old: u.all_old, purpose: u.purpose, who: u.who.clone(), in_flight: false },
        );
    }
    best.map(|(_, intent)| intent)
}

fn shown(w: Weights) -> String {
    format!("old {}/new {}", w.old.0, w.new.0)
}

/// A read of route `i` shows its weights go from `before` to `after`, and
/// no write in flight explains it: if a write of this session that may
/// still land would write `after`, it is named as such and acted on, and
/// true is returned; false leaves it to the outside-change check.
pub fn landed(app: &mut App, i: usize, read_at: Timestamp, before: Weights, after: Weights) -> bool {
    // On the console's clock, as the answers to what it sends: a mark of
    // the write again comes before the mark of its answer.
    let at = app.now.min(read_at);
    let route = &mut app.routes[i];
    trim(&mut route.unsettled, read_at);
    let Some(pos) = route.unsettled.iter().rposition(|u| u.to == after) else { return false };
    let late = route.unsettled[pos].clone();
    if late.requests > 1 {
        route.unsettled[pos].requests -= 1;
    } else {
        route.unsettled.remove(pos);
    }
    let name = route.spec.name.clone();
    let kind = route.kind();
    let noun = late.purpose.noun();
    // Short: the events panel shows a line whole or not at all.
    let mut text = format!(
        "LATE WRITE of this session: route {name} {} → {}: the {noun} sent at {} ({}) landed",
        shown(before),
        shown(after),
        clock(late.sent),
        late.why
    );
    let intent = newest_after(app, i, late.effect);
    let share = |w: Weights| kind.share_new(w).unwrap_or(0.0);
    let can_write = app.config.mode.can_act() && app.config.mode != Mode::DryRun;
    let mark = |app: &mut App, reasserted: bool, text: &str| {
        let what = Marked::LateWrite {
            route: name.clone(),
            effect: format!("route {name}: the {noun} to {}", shown(late.to)),
            before,
            landed: after,
            reasserted,
            text: text.to_string(),
        };
        app.mark(at, what);
    };
    let Some(intent) = intent else {
        // The session's latest write of the route, in effect after all.
        text.push_str("; in effect from now, as the session's latest");
        let route = &mut app.routes[i];
        route.note_verified(at, late.who.clone(), after);
        route.note_undo(Some(before), after, late.purpose);
        route.standing = Some(Standing {
            effect: late.effect,
            to: after,
            all_old: late.all_old,
            purpose: late.purpose,
            who: late.who.clone(),
            at,
        });
        app.push_event(at, None, Level::Warn, text.clone());
        mark(app, false, &text);
        return true;
    };
    let then = format!("the {} to {}", intent.purpose.noun(), shown(intent.to));
    if intent.to == after {
        text.push_str(&format!("; the same as {then}"));
        app.push_event(at, None, Level::Info, text.clone());
        mark(app, false, &text);
        return true;
    }
    if intent.in_flight {
        text.push_str(&format!(" while {then} is being written, which writes until it reads back"));
        app.push_event(at, None, Level::Alert, text.clone());
        app.notice = Some(text.clone());
        mark(app, false, &text);
        return true;
    }
    if share(intent.to) < share(after) && can_write {
        text.push_str(&format!(" after {then}: written again"));
        let id = RouteId::of(i);
        let effect = Effect::SetWeights { route: id, seen: None, to: intent.to, all_old: intent.all_old };
        // No `from`: writing it again is no change of the session's own to undo.
        let sent = app.send(effect, Purpose::Reassert, None);
        if let Some(ingress) = app.routes[i].spec.ingress().cloned() {
            // The controller writes the rule from the Ingress: it is put
            // back there too, or the controller undoes the rule's.
            let effect = Effect::SetIngressWeights { route: id, ingress, to: intent.to, all_old: intent.all_old };
            app.send(effect, Purpose::Reassert, None);
        }
        app.routes[i].pending = true;
        let who = super::reasserted_by(&intent.who, intent.purpose.noun());
        let proposal =
            format!("route {name}: {} written again after a late write of this session", intent.purpose.noun());
        app.push_action_event(at, Level::Alert, text.clone(), sent);
        app.notice = Some(text.clone());
        mark(app, true, &text);
        app.mark(
            at,
            Marked::Weights { route: name.clone(), from: Some(after), to: intent.to, who, proposal, armed: None },
        );
        return true;
    }
    if can_write {
        text.push_str(&format!(
            " after {then}: traffic went back towards old and is left so (the console never sends more to new by itself): step again if you mean it"
        ));
    } else {
        text.push_str(&format!(" after {then}; this session does not write"));
    }
    app.push_event(at, None, Level::Alert, text.clone());
    app.notice = Some(text.clone());
    mark(app, false, &text);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{App, Msg, Queued, update};
    use crate::domain::{PerSide, ReadDetail, RouteRead};
    use crate::keymap::Keymap;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    /// A console of the demo's plan at `mode`, its routes read at old
    /// 100 / new 0, everything fresh.
    fn console(mode: Mode) -> App {
        let world = crate::sim::World::new(&crate::sim::SimConfig { seed: 2026, start: t(0), scale: 1 });
        let mut config = world.app_config();
        config.mode = mode;
        let mut app = App::new(config, Keymap::default(), t(0));
        app.operator = "alice".into();
        for i in 0..app.routes.len() {
            read(&mut app, i, 0, Weights::from_percent_new(0));
        }
        app
    }

    fn read(app: &mut App, i: usize, at: i64, w: Weights) -> Vec<Queued> {
        let _ = update(app, Msg::Tick { at: t(at) });
        let read = RouteRead {
            route: RouteId::of(i),
            weights: Some(w),
            others: Vec::new(),
            targets: PerSide::new(Vec::new(), Vec::new()),
            detail: ReadDetail::Alb,
        };
        update(app, Msg::Traffic { at: t(at), routes: vec![read] }).effects
    }

    fn answer(app: &mut App, q: &Queued, result: EffectResult) -> Vec<Queued> {
        update(app, Msg::EffectDone { id: q.id, effect: q.effect.clone(), result }).effects
    }

    fn verified() -> EffectResult {
        EffectResult::Verified { detail: "route x: ModifyRule wrote it; reads back it".into() }
    }

    fn unknown() -> EffectResult {
        EffectResult::Unknown { detail: format!("{NOT_AWAITED}; and so on") }
    }

    /// A step, sent by hand as `confirm_weights` would, and its id.
    fn step(app: &mut App, to: Weights, purpose: Purpose) -> Queued {
        let seen = if purpose == Purpose::Revert { None } else { Some(Vec::new()) };
        let all_old = purpose == Purpose::Revert;
        let from = app.routes[0].weights();
        let effect = Effect::SetWeights { route: RouteId(0), seen, to, all_old };
        let id = app.send(effect.clone(), purpose, from);
        app.produced.effects.clear();
        Queued { id, effect }
    }

    /// The panic button's step then revert: the step, dropped when the
    /// revert went ahead, lands after the revert was verified. It is
    /// named as this session's, the revert goes out again at once, with
    /// the panic button's `all_old`, and the marks say both.
    #[test]
    fn a_dropped_step_landing_after_the_revert_is_named_and_the_revert_written_again() {
        let mut app = console(Mode::Run);
        let s = step(&mut app, Weights::from_percent_new(10), Purpose::Step);
        let r = step(&mut app, Weights::from_percent_new(0), Purpose::Revert);
        assert!(answer(&mut app, &s, unknown()).is_empty());
        assert!(answer(&mut app, &r, verified()).is_empty());
        assert_eq!(app.routes[0].unsettled.len(), 1);
        let out = update(&mut app, Msg::Tick { at: t(30) });
        assert!(out.effects.is_empty());
        let _ = read(&mut app, 0, 29, Weights::from_percent_new(0));
        let read_at = 30;
        let _ = update(&mut app, Msg::Tick { at: t(read_at) });
        let r2 = RouteRead {
            route: RouteId(0),
            weights: Some(Weights::from_percent_new(10)),
            others: Vec::new(),
            targets: PerSide::new(Vec::new(), Vec::new()),
            detail: ReadDetail::Alb,
        };
        let out = update(&mut app, Msg::Traffic { at: t(read_at), routes: vec![r2] });
        assert!(
            matches!(&out.effects[..], [Queued { effect: Effect::SetWeights { seen: None, to, all_old: true, .. }, .. }] if *to == Weights::from_percent_new(0)),
            "{:?}",
            out.effects
        );
        let line = &app.events[0].text;
        assert!(line.starts_with("LATE WRITE of this session: route "), "{line}");
        assert!(
            line.contains("old 100/new 0 → old 90/new 10: the step sent at") && line.contains("not awaited"),
            "{line}"
        );
        assert!(line.contains("after the revert to old 100/new 0: written again"), "{line}");
        assert!(!app.events.iter().any(|e| e.text.contains("not by this session")), "{:?}", app.events);
        assert!(out.marks.iter().any(|m| matches!(&m.what, Marked::LateWrite { reasserted: true, .. })));
        assert!(out.marks.iter().any(
            |m| matches!(&m.what, Marked::Weights { who, .. } if who == "alice (the session's revert, re-asserted)")
        ));
        assert!(app.routes[0].unsettled.is_empty(), "one request, landed once");
        // Its verification completes the line, and the route is the
        // revert's again; the step is no undo.
        let q = out.effects[0].clone();
        let _ = answer(&mut app, &q, verified());
        assert!(app.events[0].text.contains("· verified: "), "{}", app.events[0].text);
        assert_eq!(app.events[0].level, Level::Info);
        assert_eq!(app.routes[0].weights(), Some(Weights::from_percent_new(0)));
        assert!(app.routes[0].undo.is_empty(), "{:?}", app.routes[0].undo);
    }

    /// The same in a replay of it, in watch, and in a dry run: named the
    /// same way where it can be, never written.
    #[test]
    fn a_replay_a_watch_and_a_dry_run_never_write_it_again() {
        for (mode, replay) in [(Mode::Run, true), (Mode::Watch, false), (Mode::DryRun, false)] {
            let mut app = console(mode);
            app.replay = replay;
            let s = step(&mut app, Weights::from_percent_new(10), Purpose::Step);
            let r = step(&mut app, Weights::from_percent_new(0), Purpose::Revert);
            let _ = answer(&mut app, &s, unknown());
            let _ = answer(&mut app, &r, verified());
            let effects = read(&mut app, 0, 30, Weights::from_percent_new(10));
            assert!(effects.is_empty(), "{mode:?} replay {replay}: {effects:?}");
            assert!(app.events[0].text.starts_with("LATE WRITE of this session"), "{:?}", app.events[0]);
            if replay {
                // The replay shows what the session did: the write again.
                assert!(app.events[0].text.contains(": written again"), "{}", app.events[0].text);
            } else {
                assert!(app.events[0].text.contains("this session does not write"), "{}", app.events[0].text);
            }
        }
    }

    /// A late revert that lands after a later step forward moves traffic
    /// towards old: named, said, never moved back towards new by itself.
    #[test]
    fn a_late_revert_after_a_later_step_forward_is_named_and_left_to_the_operator() {
        let mut app = console(Mode::Run);
        let r = step(&mut app, Weights::from_percent_new(0), Purpose::Revert);
        let lost = EffectResult::NotYet { detail: "route x: lost".into() };
        let _ = answer(&mut app, &r, lost);
        let s = step(&mut app, Weights::from_percent_new(10), Purpose::Step);
        let _ = answer(&mut app, &s, verified());
        let _ = read(&mut app, 0, 5, Weights::from_percent_new(10));
        let effects = read(&mut app, 0, 12, Weights::from_percent_new(0));
        assert!(effects.is_empty(), "{effects:?}");
        let line = &app.events[0].text;
        assert!(
            line.contains("→ old 100/new 0: the revert sent at") && line.contains("after the step to old 90/new 10"),
            "{line}"
        );
        assert!(line.contains("is left so (the console never sends more to new by itself)"), "{line}");
        assert_eq!(app.notice.as_deref(), Some(line.as_str()));
    }

    /// A late step landing while the revert is still being written is
    /// named, and left to the revert (it writes until it reads back).
    #[test]
    fn a_late_step_landing_while_the_revert_is_written_is_left_to_the_revert() {
        let mut app = console(Mode::Run);
        let s = step(&mut app, Weights::from_percent_new(10), Purpose::Step);
        let _r = step(&mut app, Weights::from_percent_new(0), Purpose::Revert);
        let _ = answer(&mut app, &s, unknown());
        let effects = read(&mut app, 0, 30, Weights::from_percent_new(10));
        assert!(effects.is_empty(), "{effects:?}");
        assert!(
            app.events[0].text.contains("while the revert to old 100/new 0 is being written, which writes until"),
            "{}",
            app.events[0].text
        );
    }

    /// A step whose answer was lost, landing with nothing after it, is the
    /// session's step in effect: `r` undoes it; no outside change.
    #[test]
    fn a_lost_step_landing_late_is_the_sessions_step() {
        let mut app = console(Mode::Run);
        let s = step(&mut app, Weights::from_percent_new(10), Purpose::Step);
        let _ = answer(&mut app, &s, EffectResult::NotYet { detail: "route x: lost".into() });
        let effects = read(&mut app, 0, 20, Weights::from_percent_new(10));
        assert!(effects.is_empty());
        assert!(app.events[0].text.contains("in effect from now"), "{}", app.events[0].text);
        assert_eq!(app.routes[0].undo, vec![Weights::from_percent_new(0)]);
        assert_eq!(app.routes[0].last_write.as_ref().map(|w| w.to), Some(Weights::from_percent_new(10)));
    }

    /// Past its window, or once landed, a write is not taken for the
    /// session's: the same weights then are somebody else's change.
    #[test]
    fn past_its_window_a_lost_write_is_not_the_sessions() {
        let mut app = console(Mode::Run);
        let s = step(&mut app, Weights::from_percent_new(10), Purpose::Step);
        let _ = answer(&mut app, &s, EffectResult::NotYet { detail: "route x: lost".into() });
        let _ = read(&mut app, 0, LATE_WRITE_SECS + 5, Weights::from_percent_new(10));
        assert!(app.events[0].text.starts_with("OUTSIDE CHANGE"), "{}", app.events[0].text);
        assert!(app.routes[0].unsettled.is_empty());
    }

    /// The report counts the person, not the console's own re-write, as a driver.
    #[test]
    fn a_reasserted_write_is_driven_by_its_operator() {
        let who = "arn:aws:sts::1:user/alice (kube: a, b)";
        assert_eq!(crate::app::driver_of(&crate::app::reasserted_by(who, "revert")), who);
        assert_eq!(crate::app::driver_of(who), who);
    }

    /// Recordings made before any of this read as they did: a weight
    /// change without `all_old`, progress without `unanswered`, an
    /// in-flight write and a route without the new fields.
    #[test]
    fn earlier_recordings_still_read() {
        let effect: Effect =
            serde_json::from_str(r#"{"SetWeights":{"route":1,"seen":null,"to":{"old":100,"new":0}}}"#).unwrap();
        assert!(effect.is_revert() && !effect.all_old());
        let msg: Msg = serde_json::from_str(r#"{"EffectProgress":{"id":3,"text":"throttled"}}"#).unwrap();
        assert_eq!(msg, Msg::EffectProgress { id: 3, text: "throttled".into(), unanswered: false });
        let app = console(Mode::Run);
        let mut route = serde_json::to_value(&app.routes[0]).unwrap();
        route.as_object_mut().unwrap().retain(|k, _| k != "unsettled" && k != "standing");
        let back: crate::app::RouteState = serde_json::from_value(route).unwrap();
        assert!(back.unsettled.is_empty() && back.standing.is_none());
    }

    /// At most `UNSETTLED_CAPACITY` a route, newest kept.
    #[test]
    fn what_may_still_land_is_bounded() {
        let mut app = console(Mode::Run);
        for n in 0..(UNSETTLED_CAPACITY as u8 + 3) {
            let s = step(&mut app, Weights::from_percent_new(n + 1), Purpose::Step);
            let _ = answer(&mut app, &s, EffectResult::NotYet { detail: "route x: lost".into() });
        }
        let kept = &app.routes[0].unsettled;
        assert_eq!(kept.len(), UNSETTLED_CAPACITY);
        assert_eq!(kept.last().map(|u| u.to), Some(Weights::from_percent_new(UNSETTLED_CAPACITY as u8 + 3)));
    }
}

//! One hand on the wheel, in the reducer: who holds the plan's Lease as
//! this console reads it, what is said when it changes hands, the refusal
//! of every action but the way back while another console drives, and the
//! proposal that takes the wheel by a typed word.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::wheel::{GIVE_UP_SECS, LEASE_DURATION_SECS, RENEW_EVERY_SECS, TAKE_WORD, short_holder};
use crate::domain::{Wheel, clock, plus_secs};
use crate::keymap::Action;

use super::{App, Level, Marked, Modal, Mode, Proposal, ProposalKind, State, TypedOverride, WheelChange};

/// The wheel as this console last read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WheelState {
    /// Where the Lease is: `namespace/name` in the new cluster.
    pub lease: String,
    pub wheel: Wheel,
    /// When this console first saw it as it is now.
    pub seen: Timestamp,
}

impl App {
    /// Why this console may not act now, another console driving (or none
    /// known to this one): None in every mode but `run`, and where there is
    /// no Lease at all.
    pub fn wheel_refusal(&self) -> Option<String> {
        if self.config.mode != Mode::Run {
            return None;
        }
        let w = self.wheel.as_ref()?;
        w.wheel.refusal(&self.keymap.label(Action::TakeWheel), &self.keymap.label(Action::RevertAll))
    }
}

impl State {
    /// Whether this console drives: it holds the wheel, or there is none
    /// (what [`App::wheel_refusal`] refuses for, in every other case).
    pub fn drives(&self) -> bool {
        self.config.mode != Mode::Run || self.wheel.as_ref().is_none_or(|w| matches!(w.wheel, Wheel::Yours { .. }))
    }
}

/// The wheel read anew: said once when it changes hands, loudly when it
/// leaves this console, and marked for the timeline and the report.
pub fn on_wheel(app: &mut App, at: Timestamp, lease: String, wheel: Wheel) -> bool {
    let before = app.wheel.as_ref().map(|w| w.wheel.clone());
    if before.as_ref() == Some(&wheel) {
        return false;
    }
    let seen = match (&before, &wheel) {
        // The same holder told more of (its operator, once known): no news.
        (Some(Wheel::Held { holder: a, since: s, .. }), Wheel::Held { holder: b, since: t, .. })
            if a == b && s == t =>
        {
            app.wheel.as_ref().map_or(at, |w| w.seen)
        }
        _ => at,
    };
    app.wheel = Some(WheelState { lease: lease.clone(), wheel: wheel.clone(), seen });
    let driving = app.config.mode == Mode::Run;
    let take = app.keymap.label(Action::TakeWheel);
    let revert = app.keymap.label(Action::RevertAll);
    let you_may = if driving {
        format!(" ({take} takes the wheel; {revert} still sends every route to old)")
    } else {
        String::new()
    };
    let since = |s: &Option<Timestamp>| s.map(|s| format!(" since {}", clock(s))).unwrap_or_default();
    // (level, text, said on the notice line too, the mark's holder, from, how)
    type Said = (Level, String, bool, Option<(Option<String>, Option<String>, WheelChange)>);
    let said: Option<Said> = match (&before, &wheel) {
        (Some(Wheel::Yours { failing: Some(_), .. }), Wheel::Yours { failing: None, .. }) => {
            Some((Level::Info, "the wheel's lease is renewed again".into(), false, None))
        }
        (Some(Wheel::Yours { failing: Some(_), .. }), Wheel::Yours { failing: Some(_), .. }) => None,
        (Some(Wheel::Yours { .. }), Wheel::Yours { failing: Some((renewed, error)), .. }) => Some((
            Level::Warn,
            format!(
                "the wheel's lease was not renewed since {} ({error}): you stop driving at {} unless it is",
                clock(*renewed),
                clock(plus_secs(*renewed, GIVE_UP_SECS))
            ),
            true,
            None,
        )),
        (Some(Wheel::Yours { .. }), Wheel::Yours { .. }) => None,
        (Some(Wheel::Held { holder: from, .. }), Wheel::Yours { identity, .. }) => Some((
            Level::Warn,
            format!("you took the wheel from {from} (Lease {lease}): it is told within {RENEW_EVERY_SECS}s"),
            false,
            Some((Some(identity.clone()), Some(from.clone()), WheelChange::Taken)),
        )),
        (Some(Wheel::Lapsed { .. }), Wheel::Yours { identity, .. }) => Some((
            Level::Info,
            "the wheel's lease could be renewed again and nobody took it meanwhile: you drive again".into(),
            true,
            Some((Some(identity.clone()), None, WheelChange::Regained)),
        )),
        (_, Wheel::Yours { identity, since, .. }) => {
            let from = match &before {
                Some(Wheel::Free { last, .. }) => last.clone().filter(|l| l != identity),
                _ => None,
            };
            Some((
                Level::Info,
                format!("you hold the wheel of this plan since {} (Lease {lease})", clock(*since)),
                false,
                Some((Some(identity.clone()), from, WheelChange::Acquired)),
            ))
        }
        (
            Some(Wheel::Yours { identity: me, .. } | Wheel::Lapsed { identity: me, .. }),
            Wheel::Held { holder, since: s, .. },
        ) => {
            let at_time = s.map(|s| format!(" at {}", clock(s))).unwrap_or_default();
            Some((
                Level::Alert,
                format!("{holder} took the wheel{at_time}; you are watching now{you_may}"),
                true,
                Some((Some(holder.clone()), Some(me.clone()), WheelChange::Taken)),
            ))
        }
        (Some(Wheel::Held { holder: a, since: s, .. }), Wheel::Held { holder: b, since: t, .. })
            if a == b && s == t =>
        {
            None
        }
        (Some(Wheel::Held { holder: a, .. }), Wheel::Held { holder: b, since: s, .. }) if a == b => Some((
            Level::Warn,
            format!("{b} took the wheel again{}", since(s)),
            false,
            Some((Some(b.clone()), None, WheelChange::Acquired)),
        )),
        (Some(Wheel::Held { holder: a, .. }), Wheel::Held { holder: b, since: s, .. }) => Some((
            Level::Warn,
            format!("{b} took the wheel from {a}{}", since(s)),
            false,
            Some((Some(b.clone()), Some(a.clone()), WheelChange::Taken)),
        )),
        (Some(Wheel::Free { last, .. }), Wheel::Held { holder, since: s, .. }) => Some((
            Level::Warn,
            format!("{holder} took the wheel{}{you_may}", since(s)),
            driving,
            Some((Some(holder.clone()), last.clone(), WheelChange::Acquired)),
        )),
        (_, Wheel::Held { holder, since: s, .. }) => Some((
            if driving { Level::Alert } else { Level::Info },
            if driving {
                format!("{holder} drives this plan{}: you are watching{you_may}", since(s))
            } else {
                format!("{holder} drives this plan{}", since(s))
            },
            driving,
            Some((Some(holder.clone()), None, WheelChange::Seen)),
        )),
        (Some(Wheel::Yours { identity: me, .. }), Wheel::Free { last, .. }) if last.as_deref() == Some(me.as_str()) => {
            Some((
                Level::Info,
                "you released the wheel: the next console takes it at once".into(),
                false,
                Some((None, Some(me.clone()), WheelChange::Released)),
            ))
        }
        (Some(Wheel::Yours { identity: me, .. }), Wheel::Free { .. }) => Some((
            Level::Alert,
            format!(
                "the wheel's lease no longer names you (it was cleared or expired elsewhere): you are watching{you_may}"
            ),
            true,
            Some((None, Some(me.clone()), WheelChange::Released)),
        )),
        (before, Wheel::Free { last, expired: true }) => {
            let who = last.clone().unwrap_or_else(|| "its holder".into());
            Some((
                Level::Warn,
                format!(
                    "the wheel's lease of {who} expired (not renewed for {LEASE_DURATION_SECS}s): nobody drives{you_may}"
                ),
                driving && before.as_ref().is_some_and(|b| matches!(b, Wheel::Held { .. })),
                Some((None, last.clone(), WheelChange::Expired)),
            ))
        }
        (Some(Wheel::Held { holder, .. }), Wheel::Free { .. }) => Some((
            Level::Info,
            format!("{holder} released the wheel: nobody drives{you_may}"),
            false,
            Some((None, Some(holder.clone()), WheelChange::Released)),
        )),
        (_, Wheel::Free { last, .. }) => Some((
            Level::Info,
            match last {
                Some(last) => format!("nobody drives this plan: {last} released the wheel{you_may}"),
                None => format!("nobody drives this plan yet{you_may}"),
            },
            false,
            Some((None, last.clone(), WheelChange::Seen)),
        )),
        (Some(Wheel::Lapsed { .. }), Wheel::Lapsed { .. }) => None,
        (_, Wheel::Lapsed { identity, renewed, error }) => Some((
            Level::Alert,
            format!(
                "YOU NO LONGER DRIVE: the wheel's lease was not renewed since {} ({error}); every proposal is refused, {revert} still sends every route to old",
                clock(*renewed)
            ),
            true,
            Some((None, Some(identity.clone()), WheelChange::Lapsed)),
        )),
        (Some(Wheel::Unread { .. }), Wheel::Unread { .. }) => None,
        (_, Wheel::Unread { error }) => Some((
            Level::Warn,
            if driving {
                format!("the wheel's lease cannot be read ({error}): you do not drive until it is{you_may}")
            } else {
                format!("who drives is not known: the wheel's lease cannot be read ({error})")
            },
            driving && before.is_none(),
            None,
        )),
    };
    let last_named_before = before.as_ref().and_then(last_named);
    let lost = before.as_ref().is_some_and(Wheel::is_yours) && !wheel.is_yours();
    if lost {
        drop_proposal(app);
        if let Wheel::Held { holder, .. } = &wheel {
            leave_handoff(app, at, holder);
        }
    }
    if let Some((level, mut text, notice, mark)) = said {
        // Who, not which process: the lines stay short enough for a small
        // screen; the marks (and the report) keep the whole identity.
        let named = [wheel.holder(), before.as_ref().and_then(Wheel::holder), last_named(&wheel), last_named_before];
        for identity in named.into_iter().flatten() {
            text = text.replace(identity, short_holder(identity));
        }
        app.push_event(at, None, level, text.clone());
        if notice && driving {
            app.notice = Some(text.clone());
        }
        if let Some((holder, from, how)) = mark {
            let mine = wheel.is_yours();
            let since = match &wheel {
                Wheel::Yours { since, .. } => Some(*since),
                Wheel::Held { since, .. } => *since,
                _ => None,
            };
            app.mark(at, Marked::Wheel { holder, from, how, mine, since, text });
        }
    }
    true
}

/// The wheel was taken: a handoff of this console in flight is the new
/// driver's now (it carries it on from the state file on the same machine,
/// or sees the singleton's alarm elsewhere), and this console does nothing
/// more for it.
fn leave_handoff(app: &mut App, at: Timestamp, holder: &str) {
    let Some(h) = app.handoff.as_mut().filter(|h| !h.phase.finished()) else { return };
    let was = h.state_text();
    let reason = format!("left where it stood when {} took the wheel ({was})", short_holder(holder));
    h.phase = super::HandoffPhase::Failed(reason.clone());
    let singleton = h.spec.name.clone();
    app.push_event(at, None, Level::Alert, format!("handoff {singleton}: {reason}"));
    app.mark(at, Marked::HandoffFailed { singleton, reason });
}

/// Who a wheel names besides its holder: who held it last, who lapsed.
fn last_named(wheel: &Wheel) -> Option<&str> {
    match wheel {
        Wheel::Free { last, .. } => last.as_deref(),
        Wheel::Lapsed { identity, .. } => Some(identity),
        _ => None,
    }
}

/// The wheel is gone: a proposal or input open would be confirmed by a
/// console that no longer drives; only the way back stays.
fn drop_proposal(app: &mut App) {
    match &app.modal {
        Some(Modal::Proposal(p)) if matches!(p.kind, ProposalKind::RevertAll(_)) => {}
        Some(Modal::Quit(_)) | None => {}
        Some(_) => {
            if let Some(Modal::Proposal(p)) = app.modal.take() {
                let text = format!("proposal dropped, the wheel having gone: {}", p.title);
                let at = app.now;
                app.push_event(at, None, Level::Warn, text);
            }
        }
    }
}

/// `W`: the proposal that takes the wheel, confirmed only by typing the
/// word, never by a key another proposal takes.
pub fn propose_take(app: &mut App) {
    let refuse = |app: &mut App, why: String| super::actions::refuse(app, why);
    match app.config.mode {
        Mode::Run => {}
        Mode::DryRun => return refuse(app, "a dry run changes nothing: it needs no wheel, and takes none".into()),
        Mode::Demo => return refuse(app, "the demo has one driver, you: there is no wheel to take".into()),
        Mode::Watch => return refuse(app, "read-only: nothing can be changed from here".into()),
    }
    let Some(state) = app.wheel.clone() else {
        return refuse(app, "this session has no lease: it drives as it is".into());
    };
    let (from, mut lines) = match &state.wheel {
        Wheel::Yours { since, .. } => {
            return refuse(app, format!("you hold the wheel already (since {})", clock(*since)));
        }
        Wheel::Held { holder, operator, since, handoff } => {
            let since = since.map(|s| format!(" since {}", clock(s))).unwrap_or_default();
            let operator = operator.as_ref().map(|o| format!(" ({o})")).unwrap_or_default();
            (
                Some(holder.clone()),
                vec![
                    format!("{holder}{operator} drives this plan{since}"),
                    format!(
                        "taking it writes the Lease {} with you as its holder: they are told within {RENEW_EVERY_SECS}s, and every proposal of theirs is refused from then on",
                        state.lease
                    ),
                    "what they sent before is answered to them".into(),
                    match handoff {
                        Some(h) => format!(
                            "⚠ their handoff is in flight ({}): taking the wheel stops it where it is; the singleton's alarm then shows where it runs, and {} proposes the fix",
                            h.text,
                            app.keymap.label(Action::Handoff)
                        ),
                        None => "they have no handoff in flight".into(),
                    },
                ],
            )
        }
        Wheel::Free { last, expired } => (
            None,
            vec![match (last, expired) {
                (Some(last), true) => format!("nobody drives: the lease of {last} expired"),
                (Some(last), false) => format!("nobody drives: {last} released the wheel"),
                (None, _) => "nobody drives this plan yet".into(),
            }],
        ),
        Wheel::Lapsed { renewed, error, .. } => (
            None,
            vec![format!(
                "your lease was not renewed since {} ({error}): taking the wheel writes it again, if the API answers",
                clock(*renewed)
            )],
        ),
        Wheel::Unread { error } => {
            (None, vec![format!("the lease cannot be read now ({error}): the take is refused if it cannot be written")])
        }
    };
    lines.push(format!(
        "type `{TAKE_WORD}`, then Enter ({} does not take the wheel)",
        app.keymap.label(Action::Confirm)
    ));
    let title = match &from {
        Some(from) => format!("take the wheel from {from}"),
        None => "take the wheel".into(),
    };
    let owner = from.clone().map_or("nobody".into(), |f| format!("{f}, who drives now"));
    app.modal = Some(Modal::Proposal(Proposal {
        title,
        lines,
        kind: ProposalKind::TakeWheel { from },
        needed: 1,
        given: 0,
        made_at: app.now,
        typed_override: Some(TypedOverride { word: TAKE_WORD.into(), ..TypedOverride::new(owner) }),
        direct: false,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppConfig, Guards, update};
    use crate::domain::PerSide;
    use crate::keymap::{Key, KeyCode, Keymap};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn app(mode: Mode) -> App {
        let meta = |name: &str| crate::app::ClusterMeta { name: name.into(), version: String::new() };
        let config = AppConfig {
            mode,
            title: "plan".into(),
            clusters: PerSide::new(meta("old"), meta("new")),
            routes: Vec::new(),
            singletons: Vec::new(),
            guards: Guards::default(),
        };
        App::new(config, Keymap::default(), at(0))
    }

    /// What one message made (unlike `Update`, fine to leave unread).
    struct Out {
        effects: Vec<crate::app::Queued>,
        marks: Vec<crate::app::Mark>,
    }

    fn made(u: crate::app::Update) -> Out {
        Out { effects: u.effects, marks: u.marks }
    }

    fn wheel(app: &mut App, secs: i64, w: Wheel) -> Out {
        made(update(app, crate::app::Msg::Wheel { at: at(secs), lease: "app/cutover-plan".into(), wheel: w }))
    }

    fn yours(me: &str) -> Wheel {
        Wheel::Yours { identity: me.into(), since: at(0), failing: None }
    }

    fn held(by: &str, since: i64) -> Wheel {
        Wheel::Held { holder: by.into(), operator: None, since: Some(at(since)), handoff: None }
    }

    fn press(app: &mut App, c: char) -> Out {
        made(update(app, crate::app::Msg::Key(Key::char(c))))
    }

    #[test]
    fn a_second_run_watches_refuses_every_action_but_the_way_back_and_takes_by_the_word() {
        let mut a = app(Mode::Run);
        let out = wheel(&mut a, 1, held("alice@a pid 1 run-1", 0));
        assert!(matches!(&out.marks[..], [m] if matches!(&m.what, Marked::Wheel { how: WheelChange::Seen, .. })));
        let notice = a.notice.clone().unwrap();
        assert!(notice.starts_with("alice@a drives this plan since"), "{notice}");
        assert!(a.events[0].text.starts_with("alice@a drives this plan since"), "{}", a.events[0].text);
        assert!(
            matches!(&out.marks[0].what, Marked::Wheel { holder: Some(h), .. } if h == "alice@a pid 1 run-1"),
            "the mark names the console"
        );
        a.notice = None;
        assert!(notice.contains("W takes the wheel"), "{notice}");
        for c in [']', '[', '=', 'r', 'h', 'x'] {
            a.notice = None;
            let out = press(&mut a, c);
            assert!(out.effects.is_empty());
            assert!(a.modal.is_none(), "{c} opened {:?}", a.modal);
            assert!(a.notice.as_deref().unwrap_or("").contains("drives this plan"), "{c}: {:?}", a.notice);
        }
        // The way back is offered (nothing to revert without routes, so it
        // says that, not that someone else drives).
        press(&mut a, 'R');
        assert!(!a.notice.as_deref().unwrap_or("").contains("drives this plan"), "{:?}", a.notice);

        press(&mut a, 'W');
        let Some(Modal::Proposal(p)) = &a.modal else { panic!("{:?}", a.modal) };
        assert_eq!(p.kind, ProposalKind::TakeWheel { from: Some("alice@a pid 1 run-1".into()) });
        // `y` does not take it; a wrong word does not; `take` + Enter does.
        let out = press(&mut a, 'y');
        assert!(out.effects.is_empty() && a.modal.is_some());
        for c in "tak".chars() {
            press(&mut a, c);
        }
        let entered = made(update(&mut a, crate::app::Msg::Key(Key::plain(KeyCode::Enter))));
        assert!(entered.effects.is_empty() && a.modal.is_some(), "`tak` is not the word");
        for c in TAKE_WORD.chars() {
            press(&mut a, c);
        }
        let entered = made(update(&mut a, crate::app::Msg::Key(Key::plain(KeyCode::Enter))));
        assert!(a.modal.is_none());
        assert!(
            matches!(&entered.effects[..], [q] if q.effect == crate::app::Effect::TakeWheel { from: Some("alice@a pid 1 run-1".into()) }),
            "{:?}",
            entered.effects
        );
        assert!(
            entered.marks.iter().all(|m| !matches!(m.what, Marked::Override { .. })),
            "a take is no owner override"
        );
        // The lease says so: this console drives now.
        let out = wheel(&mut a, 3, yours("bob@b pid 2 run-2"));
        assert!(a.drives());
        assert!(
            matches!(&out.marks[..], [m] if matches!(&m.what, Marked::Wheel { how: WheelChange::Taken, mine: true, from: Some(f), .. } if f.starts_with("alice")))
        );
    }

    #[test]
    fn a_driver_whose_wheel_is_taken_is_told_and_its_open_proposal_dropped() {
        let mut a = app(Mode::Run);
        wheel(&mut a, 0, yours("alice"));
        assert!(a.drives() && a.notice.is_none());
        a.modal = Some(Modal::Percent(crate::app::PercentInput { route: 0, text: "5".into() }));
        let out = wheel(&mut a, 6, held("bob", 4));
        assert!(a.modal.is_none(), "the input of a console that no longer drives is dropped");
        let notice = a.notice.clone().unwrap();
        assert_eq!(
            notice,
            format!(
                "bob took the wheel at {}; you are watching now (W takes the wheel; R still sends every route to old)",
                clock(at(4))
            )
        );
        assert!(matches!(&out.marks[..], [m] if m.class() == crate::app::MarkClass::Incident));
        assert!(!a.drives());
        // The same holder read again, its operator known: no news.
        let again =
            Wheel::Held { holder: "bob".into(), operator: Some("arn:bob".into()), since: Some(at(4)), handoff: None };
        let out = wheel(&mut a, 11, again);
        assert!(out.marks.is_empty());
        assert_eq!(a.wheel.as_ref().unwrap().seen, at(6));
    }

    #[test]
    fn failed_renewals_warn_once_then_lapse_and_the_way_back_stays() {
        let mut a = app(Mode::Run);
        wheel(&mut a, 0, yours("alice"));
        let failing =
            |e: &str| Wheel::Yours { identity: "alice".into(), since: at(0), failing: Some((at(5), e.into())) };
        wheel(&mut a, 10, failing("connection refused"));
        assert!(a.drives(), "still within its time");
        assert!(a.notice.as_deref().unwrap().contains("you stop driving at"), "{:?}", a.notice);
        let events = a.events.len();
        wheel(&mut a, 15, failing("no answer within 4s"));
        assert_eq!(a.events.len(), events, "said once");
        let out =
            wheel(&mut a, 25, Wheel::Lapsed { identity: "alice".into(), renewed: at(5), error: "no answer".into() });
        assert!(!a.drives());
        assert!(a.notice.as_deref().unwrap().starts_with("YOU NO LONGER DRIVE"), "{:?}", a.notice);
        assert!(
            matches!(&out.marks[..], [m] if matches!(&m.what, Marked::Wheel { how: WheelChange::Lapsed, holder: None, .. }))
        );
        a.notice = None;
        press(&mut a, ']');
        assert!(a.notice.as_deref().unwrap().contains("you no longer drive"), "{:?}", a.notice);
    }

    #[test]
    fn watch_and_dry_run_only_tell_who_drives() {
        for mode in [Mode::Watch, Mode::DryRun] {
            let mut a = app(mode);
            wheel(&mut a, 0, held("alice", 0));
            assert!(a.notice.is_none(), "{mode:?}: said in the events, not as a refusal");
            assert!(a.drives(), "{mode:?}: acting is decided by the mode, not the wheel");
            assert!(a.events[0].text.starts_with("alice drives this plan since"), "{}", a.events[0].text);
            press(&mut a, 'W');
            assert!(a.modal.is_none(), "{mode:?} takes no wheel");
        }
    }

    #[test]
    fn the_wheel_released_on_quit_and_expired_are_told_apart() {
        let mut a = app(Mode::Run);
        wheel(&mut a, 0, yours("alice"));
        let out = wheel(&mut a, 9, Wheel::Free { last: Some("alice".into()), expired: false });
        assert!(matches!(&out.marks[..], [m] if matches!(&m.what, Marked::Wheel { how: WheelChange::Released, .. })));
        let mut b = app(Mode::Run);
        wheel(&mut b, 0, held("alice", 0));
        let out = wheel(&mut b, 40, Wheel::Free { last: Some("alice".into()), expired: true });
        assert!(matches!(&out.marks[..], [m] if matches!(&m.what, Marked::Wheel { how: WheelChange::Expired, .. })));
        assert!(b.notice.as_deref().unwrap().contains("expired"), "{:?}", b.notice);
    }
}

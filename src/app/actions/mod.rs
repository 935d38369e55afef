//! Proposals, guards and handoffs: how an operator's key becomes an
//! effect, and every reason it may not.
//!
//! Nothing here does anything: a confirmed proposal sends effects through
//! `App::send`, which `update` hands back to the runtime for the session's
//! executor. The guards run twice, when a proposal is made and again on
//! confirmation, against the state as it is then.
//!
//! By concern: `traffic`, the routes' weights (the guards, a step, an
//! undo, every route to old, and the way back's rules); `handoff`, the
//! singletons (a handoff, a fix, an abort, and the handoff's state
//! machine); `modal`, the keys while a proposal, an input or a question is
//! open, and what a confirmation does; `answers`, the executor's answers
//! and a handoff an earlier session left.

mod answers;
mod handoff;
mod modal;
mod traffic;

pub use answers::{on_effect_done, on_resumed};
pub use handoff::{advance_handoff, gap_secs, pods_still_running, watch_singletons};
pub use modal::{ask_before_quit, on_modal_key};
pub use traffic::{controller_wrote, controllers_overdue, weights_guard};

use crate::app::{App, Level, Marked};
use crate::keymap::Action;

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
        Action::StepUp | Action::StepDown => traffic::propose_step(app, action),
        Action::SetPercent => traffic::ask_percent(app),
        Action::Revert => traffic::propose_undo(app),
        Action::RevertAll => traffic::propose_all_old(app),
        Action::Handoff => handoff::propose_handoff(app),
        Action::Abort => handoff::propose_abort(app),
        Action::TakeWheel => crate::app::wheel::propose_take(app),
        _ => {}
    }
}

/// The proposal of a step of route `i` to `to`, as the step keys make it:
/// what a ready step's `advance = "prompt"` opens.
pub fn propose_step_to(app: &mut App, i: usize, to: crate::domain::Weights) {
    traffic::propose_weights(app, i, to)
}

/// Shows why something was not done, on screen and in the events.
pub fn refuse(app: &mut App, reason: String) {
    let at = app.now;
    app.push_event(at, None, Level::Alert, format!("refused: {reason}"));
    let who = app.operator.clone();
    app.mark(at, Marked::Refused { reason: reason.clone(), who });
    app.notice = Some(reason);
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::modal::confirm;
    use super::*;
    use crate::app::{Effect, Modal, Msg, update};
    use crate::domain::{PerSide, ReadDetail, RouteId, RouteRead, Weight, Weights};
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
        config.mode = crate::app::Mode::Run;
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

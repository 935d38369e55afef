//! Keys while something waits for the operator: a proposal (its typed
//! override, its first and second confirmation), the percentage being
//! typed, the question before quitting; and what a confirmation does.

use crate::app::{App, Effect, Level, Marked, Modal, Proposal, ProposalKind, Purpose, TypedOverride};
use crate::domain::Weights;
use crate::keymap::{Action, Key, KeyCode};

use super::handoff::{confirm_abort, confirm_fix, confirm_handoff};
use super::refuse;
use super::traffic::{confirm_weights, propose_weights};

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
pub(super) fn override_line(app: &App, o: &TypedOverride, needed: u8) -> String {
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
        lines.push(crate::app::signal::kept(app, h));
    }
    for f in app.in_flight.values() {
        lines.push(format!("written, answer not yet in: {}", f.effect.describe(&app.config.routes)));
    }
    for r in &app.routes {
        for u in r.unsettled.iter().filter(|u| app.now.as_second() - u.sent.as_second() <= crate::app::LATE_WRITE_SECS)
        {
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

pub(super) fn confirm(app: &mut App, p: Proposal) {
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
            let typed_override = p.typed_override.as_ref();
            confirm_handoff(app, singleton, from, to, starting_deadline, typed_override)
        }
        ProposalKind::Fix { singleton, side, start } => confirm_fix(app, singleton, side, start),
        ProposalKind::Abort => confirm_abort(app),
        ProposalKind::TakeWheel { .. } => {}
    }
}

//! A proposal on a small terminal: how to apply it and how to drop it are
//! on screen at every size down to 40x10, with its title and what it
//! changes; the lines between give way, and say how many.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, draw, press};
use cutover::app::{App, Modal};
use cutover::keymap::{Key, KeyCode};

/// The demo's api route proposed to 100% at once: a large step, two
/// confirmations, the pace lines and the node drains under way.
fn long_proposal() -> App {
    let (_, mut app) = demo(90);
    press(&mut app, &[Key::plain(KeyCode::BackTab), Key::char('=')]);
    press(&mut app, &[Key::char('1'), Key::char('0'), Key::char('0'), Key::plain(KeyCode::Enter)]);
    let Some(Modal::Proposal(p)) = &app.modal else { panic!("a proposal: {:?}", app.notice) };
    assert_eq!(p.needed, 2);
    assert!(p.lines.len() >= 7, "a long one: {:?}", p.lines);
    app
}

/// The admin route: the controller's, so a typed word applies it.
fn override_proposal() -> App {
    let (_, mut app) = demo(90);
    press(&mut app, &[Key::plain(KeyCode::BackTab), Key::plain(KeyCode::Down), Key::char(']')]);
    assert!(matches!(&app.modal, Some(Modal::Proposal(p)) if p.typed_override.is_some()), "{:?}", app.notice);
    app
}

#[test]
fn a_long_proposal_at_40x10_and_80x24() {
    let app = long_proposal();
    insta::assert_snapshot!("proposal_long_40x10", draw(40, 10, |f| cutover::ui::render(&app, f)));
    insta::assert_snapshot!("proposal_long_80x24", draw(80, 24, |f| cutover::ui::render(&app, f)));
}

#[test]
fn the_apply_line_is_kept_at_every_size_down_to_40x10() {
    for (app, apply) in [(long_proposal(), "then Y apply"), (override_proposal(), "+ enter apply")] {
        let Some(Modal::Proposal(p)) = &app.modal else { unreachable!() };
        let first = p.lines[0].clone();
        for w in (40..=120).step_by(4) {
            for h in 10..=32 {
                let screen = draw(w, h, |f| cutover::ui::render(&app, f));
                let flat = screen.replace('\n', " ");
                assert!(screen.contains(apply), "{w}x{h}: no `{apply}`:\n{screen}");
                assert!(screen.contains("esc cancel"), "{w}x{h}: no way to drop it:\n{screen}");
                assert!(screen.contains("PROPOSAL"), "{w}x{h}: no title:\n{screen}");
                let start: String = first.chars().take(12).collect();
                assert!(flat.contains(start.trim()), "{w}x{h}: not what it changes (`{first}`):\n{screen}");
                if (w, h) == (40, 10) {
                    assert!(screen.contains("more line(s) on a taller screen"), "says what is left out:\n{screen}");
                }
            }
        }
    }
}

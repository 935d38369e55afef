//! The console's behaviour through its one entry point, `update`, and the
//! whole loop on a TestBackend: navigation, drill-downs, help, quit, and
//! how source changes reach the screen.

#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, draw, press, start, step};
use cutover::app::{ClusterDelta, Msg, Panel, SourceId, SourceState, View};
use cutover::domain::{Capacity, Node, NodeSignalKind, Side, plus_secs};
use cutover::keymap::{Key, KeyCode};
use cutover::runtime::run_loop;
use cutover::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(code: KeyCode) -> Key {
    Key::plain(code)
}

#[test]
fn tab_cycles_the_panels_and_enter_opens_the_selection() {
    let (_, mut app) = demo(5);
    assert_eq!(app.ui.focus, Panel::Workloads);
    press(&mut app, &[key(KeyCode::Tab)]);
    assert_eq!(app.ui.focus, Panel::Events);
    press(&mut app, &[key(KeyCode::Tab)]);
    assert_eq!(app.ui.focus, Panel::Traffic);
    press(&mut app, &[key(KeyCode::Down), key(KeyCode::Down), key(KeyCode::Enter)]);
    assert_eq!(app.ui.view, View::Route(1), "the selection stops at the last route");
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(screen.contains("route admin"), "{screen}");
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.ui.view, View::Main);

    press(&mut app, &[key(KeyCode::Tab), key(KeyCode::End), key(KeyCode::Enter)]);
    let last = app.workload_keys().last().map(|k| (*k).clone()).unwrap();
    assert_eq!(app.ui.view, View::Workload(last.clone()));
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(screen.contains(&last.to_string()), "{screen}");
}

#[test]
fn help_opens_closes_and_swallows_other_keys() {
    let (_, mut app) = demo(5);
    press(&mut app, &[Key::char('?'), key(KeyCode::Down), key(KeyCode::Enter)]);
    assert!(app.ui.help);
    assert_eq!(app.ui.view, View::Main, "keys under the help do nothing");
    assert_eq!(app.ui.selected[Panel::Workloads.index()], 0);
    press(&mut app, &[key(KeyCode::Esc)]);
    assert!(!app.ui.help);
    press(&mut app, &[Key::char('?'), Key::char('?')]);
    assert!(!app.ui.help);
}

#[test]
fn q_and_ctrl_c_quit() {
    let (_, mut app) = demo(1);
    press(&mut app, &[Key::char('q')]);
    assert!(app.quit);
    let (_, mut app) = demo(1);
    press(&mut app, &[Key::ctrl('c')]);
    assert!(app.quit);
}

#[test]
fn unbound_keys_change_nothing_and_ask_for_no_redraw() {
    let (_, mut app) = demo(1);
    assert!(!step(&mut app, Msg::Key(Key::char('Z'))));
    let now = app.now;
    assert!(!step(&mut app, Msg::Tick { at: now }), "the same second again is no change");
    assert!(step(&mut app, Msg::Tick { at: plus_secs(now, 1) }));
}

fn node(name: &str) -> Node {
    Node {
        name: name.into(),
        capacity: Capacity::Spot,
        instance_type: "m6i.large".into(),
        ready: true,
        cordoned: false,
        spot_interruption: false,
        rebalance_recommendation: false,
    }
}

#[test]
fn node_changes_become_signals_once_each() {
    let (_, mut app) = demo(1);
    let before = app.node_signals.len();
    let msg = |n: Node| Msg::Cluster { side: Side::New, delta: ClusterDelta::Node(n) };
    step(&mut app, msg(node("ip-10-1-9-9.ec2.internal")));
    assert_eq!(app.node_signals.len(), before, "a healthy new node is no signal");
    let tainted = Node { spot_interruption: true, ..node("ip-10-1-9-9.ec2.internal") };
    step(&mut app, msg(tainted.clone()));
    step(&mut app, msg(tainted.clone()));
    let cordoned = Node { cordoned: true, ready: false, ..tainted };
    step(&mut app, msg(cordoned));
    let kinds: Vec<_> = app.node_signals.iter().skip(before).map(|s| s.kind).collect();
    assert_eq!(kinds, vec![NodeSignalKind::SpotInterruption, NodeSignalKind::Cordon, NodeSignalKind::NotReady]);
    assert!(app.events[0].text.contains("ip-10-1-9-9 (spot): NotReady"), "{:?}", app.events[0]);
    step(&mut app, Msg::Cluster { side: Side::New, delta: ClusterDelta::NodeGone("ip-10-1-9-9.ec2.internal".into()) });
    assert_eq!(app.node_signals.back().map(|s| s.kind), Some(NodeSignalKind::Removed));
    // A node first seen already tainted (console started mid-incident) still signals.
    step(&mut app, msg(Node { rebalance_recommendation: true, ..node("ip-10-1-8-8") }));
    assert_eq!(app.node_signals.back().map(|s| s.kind), Some(NodeSignalKind::Rebalance));
}

#[test]
fn a_stale_source_is_announced_greyed_and_recovers() {
    let (_, mut app) = demo(1);
    let since = app.now;
    step(
        &mut app,
        Msg::Source {
            id: SourceId::Alb,
            state: SourceState::Stale { since, error: "connection refused".into(), last_ok: None },
        },
    );
    assert!(app.is_stale(SourceId::Alb));
    assert!(app.events[0].text.contains("alb stale: connection refused"));
    let header = draw(120, 2, |f| ui::header::render(&app, f, f.area()));
    assert!(header.contains("alb: STALE 0s (connection refused)"), "{header}");
    let grey = common::colour_of(120, 8, |f| ui::traffic::render(&app, f, f.area()), "read 75/25");
    assert_eq!(grey, Some(ui::theme::DIM), "stale weights are greyed, not shown as current");

    step(&mut app, Msg::Source { id: SourceId::Alb, state: SourceState::Live { last_ok: plus_secs(since, 5) } });
    assert!(!app.is_stale(SourceId::Alb));
    assert!(app.events[0].text.contains("alb live again"));
}

#[test]
fn health_colours_tell_healthy_degraded_and_failing_apart() {
    let (_, app) = demo(90);
    let at = |needle| common::colour_of(120, 32, |f| ui::render(&app, f), needle);
    use ratatui::style::Color;
    assert_eq!(at("● 2/2"), Some(Color::Green));
    assert_eq!(at("✖ 0/1"), Some(Color::LightRed), "the crash-looping GPU worker");
    assert_ne!(at("● 2/2"), at("✖ 0/1"));
}

#[tokio::test]
async fn the_loop_draws_until_quit_and_only_on_change() {
    let (mut world, mut app) = demo(0);
    let (tx, mut rx) = tokio::sync::mpsc::channel(cutover::runtime::CHANNEL_CAPACITY);
    for msg in world.advance(plus_secs(start(), 3)) {
        tx.send(msg).await.unwrap();
    }
    tx.send(Msg::Key(Key::plain(KeyCode::Down))).await.unwrap();
    tx.send(Msg::Key(Key::plain(KeyCode::Enter))).await.unwrap();
    let looping = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
        run_loop(&mut terminal, &mut app, &mut rx, None, None, None).await.unwrap();
        (terminal, app)
    });
    // Let the burst be drawn before the operator quits.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    tx.send(Msg::Key(Key::char('q'))).await.unwrap();
    let (mut terminal, app) = looping.await.unwrap();
    assert!(app.quit);
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("app/api deploy"), "the drill-down was drawn before quitting:\n{screen}");
    assert_eq!(app.now, plus_secs(start(), 3));

    // Everything gone: the loop ends by itself.
    let (_, mut app) = demo(0);
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    drop(tx);
    run_loop(&mut terminal, &mut app, &mut rx, None, None, None).await.unwrap();
    assert!(!app.quit);
}

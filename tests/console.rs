//! The console's behaviour through its one entry point, `update`, and the
//! whole loop on a TestBackend: navigation, drill-downs, help, quit, and
//! how source changes reach the screen.

#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, draw, press, start, step};
use cutover::app::{ClusterDelta, Msg, Panel, SourceId, SourceState, View};
use cutover::domain::{Capacity, Node, NodeEvent, NodeSignalKind, PodKey, Side, WorkloadKey, plus_secs};
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
    press(&mut app, &[key(KeyCode::Down), key(KeyCode::Down), key(KeyCode::Down), key(KeyCode::Enter)]);
    assert_eq!(app.ui.view, View::Route(2), "the selection stops at the last route");
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(screen.contains("route www"), "{screen}");
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
    Node::new(name, Capacity::Spot, "m6i.large")
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

/// A signal from a source outside the clusters (an Auto Scaling activity)
/// names its node by EC2 instance: it lands on the side that has that
/// instance as a node, with what the source said; an instance no cluster
/// has is said on no side, and marks nothing.
#[test]
fn a_signal_seen_outside_the_clusters_lands_on_the_side_of_its_instance() {
    use cutover::domain::{NodeRef, SignalSeen};
    let (_, mut app) = demo(1);
    let spot = Node { instance_id: Some("i-0abc1234def567890".into()), ..node("ip-10-1-9-9.ec2.internal") };
    step(&mut app, Msg::Cluster { side: Side::New, delta: ClusterDelta::Node(spot) });
    let before = app.node_signals.len();
    let at = app.now;
    let seen = |id: &str| SignalSeen {
        at,
        node: NodeRef::Instance(id.into()),
        kind: NodeSignalKind::Rebalance,
        detail: "an instance was taken out of service in response to an EC2 rebalance recommendation".into(),
    };
    step(&mut app, Msg::NodeSignals(vec![seen("i-0abc1234def567890")]));
    let signal = app.node_signals.back().unwrap();
    assert_eq!(app.node_signals.len(), before + 1);
    assert_eq!((signal.side, signal.node.as_str()), (Side::New, "ip-10-1-9-9.ec2.internal"));
    assert_eq!(signal.kind, NodeSignalKind::Rebalance);
    assert!(app.events[0].text.contains("ip-10-1-9-9 (spot): "), "{:?}", app.events[0]);
    assert!(app.events[0].text.contains("EC2 rebalance recommendation"), "the source's words: {:?}", app.events[0]);
    assert_eq!(app.events[0].side, Some(Side::New));

    step(&mut app, Msg::NodeSignals(vec![seen("i-0fff0000000000000")]));
    assert_eq!(app.node_signals.len(), before + 1, "no node, no signal on a side");
    assert!(app.events[0].text.starts_with("instance i-0fff0000000000000: "), "{:?}", app.events[0]);
    assert!(app.events[0].text.contains("no node of either cluster is that instance"), "{:?}", app.events[0]);
    assert_eq!(app.events[0].side, None);
}

/// The trimmed disruptions fire once each, on appearance, named by their
/// source; a taint the node lifecycle controller adds for a cordon or a
/// NotReady says nothing new.
#[test]
fn every_disruption_fires_once_named_by_its_source() {
    use NodeSignalKind as K;
    let (_, mut app) = demo(1);
    let before = app.node_signals.len();
    let msg = |n: Node| Msg::Cluster { side: Side::New, delta: ClusterDelta::Node(n) };
    let base = node("ip-10-1-7-7.ec2.internal");
    let with = |kinds: &[K]| Node { disruptions: kinds.to_vec(), ..base.clone() };
    step(&mut app, msg(base.clone()));
    step(&mut app, msg(with(&[K::AutoscalerCandidate])));
    step(&mut app, msg(with(&[K::AutoscalerCandidate, K::AutoscalerScaleDown])));
    step(&mut app, msg(with(&[K::AutoscalerCandidate, K::AutoscalerScaleDown])));
    step(&mut app, msg(with(&[K::AutoscalerScaleDown, K::MemoryPressure])));
    // Cordoned, and the controller's unschedulable taint with it: one signal.
    step(&mut app, msg(Node { cordoned: true, ..with(&[K::AutoscalerScaleDown, K::TaintUnschedulable]) }));
    // NotReady, and the controller's not-ready taint with it: one signal.
    step(&mut app, msg(Node { cordoned: true, ready: false, ..with(&[K::TaintUnschedulable, K::TaintNotReady]) }));
    let kinds: Vec<K> = app.node_signals.iter().skip(before).map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        vec![K::AutoscalerCandidate, K::AutoscalerScaleDown, K::MemoryPressure, K::Cordon, K::NotReady],
        "each once, on appearance"
    );
    let texts: Vec<&str> = app.events.iter().take(5).map(|e| e.text.as_str()).collect();
    assert!(texts.contains(&"node ip-10-1-7-7 (spot): Cluster Autoscaler scale-down"), "{texts:?}");
    assert!(texts.contains(&"node ip-10-1-7-7 (spot): Cluster Autoscaler deletion candidate"), "{texts:?}");
    // A Karpenter Event about a node is a signal at the Event's time.
    let at = plus_secs(start(), -30);
    let event = NodeEvent {
        at,
        node: base.name.clone(),
        kind: K::KarpenterConsolidation,
        reason: "DisruptionTerminating".into(),
    };
    step(&mut app, Msg::Cluster { side: Side::New, delta: ClusterDelta::NodeEvent(event) });
    let last = app.node_signals.back().unwrap();
    assert_eq!((last.kind, last.at), (K::KarpenterConsolidation, at));
    assert!(
        app.events
            .iter()
            .any(|e| e.text == "node ip-10-1-7-7 (spot): Karpenter consolidation (Event DisruptionTerminating)"),
        "{:?}",
        app.events.iter().take(3).collect::<Vec<_>>()
    );
}

/// Pods of a route's workload that leave a node with a disruption signal
/// are counted per workload, node and signal, once each; others are not.
#[test]
fn pods_lost_to_a_disrupted_node_are_counted_per_route_workload() {
    use NodeSignalKind as K;
    let (_, mut app) = demo(1);
    let api = WorkloadKey::new("app", "api");
    let new = &app.clusters.new;
    let victim = new.pods_of(&api).next().unwrap().clone();
    let node_name = victim.node.clone().unwrap();
    let mut on_node = new.pods.values().filter(|p| p.node.as_deref() == Some(node_name.as_str()));
    // A pod of no route's workload (api and admin have routes).
    let worker = on_node.find(|p| p.owner.as_ref().is_some_and(|o| o.namespace == "batch")).cloned();
    let healthy = new.pods_of(&api).find(|p| p.node != victim.node).unwrap().clone();
    let node = app.clusters.new.nodes[&node_name].clone();
    let cluster = |delta| Msg::Cluster { side: Side::New, delta };
    let gone = |key: &PodKey| Msg::Cluster { side: Side::New, delta: ClusterDelta::PodGone(key.clone()) };

    // The demo's history has a spot drain already; counts from here on.
    let before = app.pods_lost.len();
    step(&mut app, gone(&healthy.key));
    assert_eq!(app.pods_lost.len(), before, "a pod of a healthy node is no loss");
    step(&mut app, cluster(ClusterDelta::Node(Node { disruptions: vec![K::KarpenterDisrupted], ..node })));
    // Terminating first, then gone: one pod.
    let terminating = cutover::domain::Pod { reason: Some("Terminating".into()), ready: false, ..victim.clone() };
    step(&mut app, cluster(ClusterDelta::Pod(terminating.clone())));
    step(&mut app, cluster(ClusterDelta::Pod(terminating)));
    step(&mut app, gone(&victim.key));
    if let Some(worker) = worker {
        step(&mut app, gone(&worker.key));
    }
    let lost: Vec<_> =
        app.pods_lost.iter().skip(before).map(|l| (&l.workload, l.node.as_str(), l.cause, l.count)).collect();
    assert_eq!(lost, vec![(&api, node_name.as_str(), K::KarpenterDisrupted, 1)], "only the route's workload, once");

    // Karpenter's Event names the disruption better: later pods go to it.
    let event = NodeEvent {
        at: app.now,
        node: node_name.clone(),
        kind: K::KarpenterConsolidation,
        reason: "DisruptionTerminating".into(),
    };
    step(&mut app, cluster(ClusterDelta::NodeEvent(event)));
    for i in 0..2 {
        let pod = cutover::domain::Pod {
            key: PodKey { namespace: "app".into(), name: format!("api-x-{i}") },
            ..victim.clone()
        };
        step(&mut app, cluster(ClusterDelta::Pod(pod.clone())));
        step(&mut app, gone(&pod.key));
    }
    // Pods deleted after their node is removed still count, to its cause.
    let late = cutover::domain::Pod { key: PodKey { namespace: "app".into(), name: "api-late".into() }, ..victim };
    step(&mut app, cluster(ClusterDelta::Pod(late.clone())));
    step(&mut app, cluster(ClusterDelta::NodeGone(node_name.clone())));
    step(&mut app, gone(&late.key));
    let consolidated: u32 =
        app.pods_lost.iter().filter(|l| l.cause == K::KarpenterConsolidation).map(|l| l.count).sum();
    assert_eq!(consolidated, 3);

    // The route's drill-down says it near the markers.
    press(&mut app, &[key(KeyCode::BackTab), key(KeyCode::Enter)]);
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(screen.contains("app/api pods lost: "), "{screen}");
    assert!(screen.contains("Karpenter consolidation −3 pods"), "{screen}");
    assert!(screen.contains("Karpenter disruption −1 pod ip-"), "{screen}");
}

#[test]
fn a_stale_source_is_announced_greyed_and_recovers() {
    let (_, mut app) = demo(1);
    let since = app.now;
    step(
        &mut app,
        Msg::Source {
            id: SourceId::Traffic(cutover::domain::RouteKind::Alb),
            state: SourceState::Stale {
                since,
                error: "connection refused".into(),
                last_ok: None,
                fault: Default::default(),
            },
        },
    );
    assert!(app.is_stale(SourceId::Traffic(cutover::domain::RouteKind::Alb)));
    assert!(app.events[0].text.contains("alb stale: connection refused"));
    let header = draw(120, 2, |f| ui::header::render(&app, f, f.area()));
    assert!(header.contains("alb: STALE 0s (connection refused)"), "{header}");
    let grey = common::colour_of(120, 8, |f| ui::traffic::render(&app, f, f.area()), "read 75/25");
    assert_eq!(grey, Some(ui::theme::DIM), "stale weights are greyed, not shown as current");

    step(
        &mut app,
        Msg::Source {
            id: SourceId::Traffic(cutover::domain::RouteKind::Alb),
            state: SourceState::Live { last_ok: plus_secs(since, 5) },
        },
    );
    assert!(!app.is_stale(SourceId::Traffic(cutover::domain::RouteKind::Alb)));
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

//! `cargo bench --bench console`: what the console costs per message and
//! per frame, for the demo world and for 5,000 and 50,000 pods a side.
//!
//! Plain timing over many iterations (medians of batches); numbers are
//! written down in the README with the machine and the date.

#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use cutover::app::{App, ClusterDelta, Msg, update};
use cutover::domain::{Pod, PodPhase, Side, Workload, WorkloadKey, WorkloadKind, plus_secs};
use cutover::keymap::{Key, KeyCode, Keymap};
use cutover::sim::{SimConfig, World};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn per_iter(batches: usize, iters: usize, mut f: impl FnMut()) -> Duration {
    let samples = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters as u32
        })
        .collect();
    median(samples)
}

/// The demo world's console with `deployments` more Deployments of 25 pods
/// a side, as the benchmark harness seeds a large cluster (`--pods`): the
/// simulator grows pods per workload, this grows the workloads.
fn generated(start: Timestamp, deployments: usize) -> App {
    let mut world = World::new(&SimConfig { seed: 2026, start, scale: 1 });
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    for msg in world.initial() {
        let _ = update(&mut app, msg);
    }
    for side in Side::BOTH {
        for d in 0..deployments {
            let key = WorkloadKey::new(["app", "batch"][d % 2], format!("bulk-{d:04}"));
            let tag = if side == Side::New && d % 7 == 3 { "v3.1.0" } else { "v3.0.9" };
            let workload = Workload {
                desired: 25,
                ready: 25,
                images: vec![format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/photo/bulk-{}:{tag}", d % 40)],
                created: Some(start),
                ..Workload::new(key.clone(), WorkloadKind::Deployment)
            };
            let _ = update(&mut app, Msg::Cluster { side, delta: ClusterDelta::Workload(workload) });
            for i in 0..25 {
                let pod = Pod {
                    phase: PodPhase::Running,
                    ready: true,
                    node: Some(format!("ip-10-2-{}-{}.ec2.internal", d % 250, i)),
                    ..Pod::of(&key, format!("{}-7d9f8c6b5-{i:05}", key.name), start)
                };
                let _ = update(&mut app, Msg::Cluster { side, delta: ClusterDelta::Pod(pod) });
            }
        }
    }
    app
}

/// One main-screen frame at 120x32, then one frame of the second
/// workload's drill-down.
fn frames(app: &mut App) -> (Duration, Duration) {
    let mut terminal = Terminal::new(TestBackend::new(120, 32)).expect("a test terminal");
    let frame = per_iter(7, 20, || {
        terminal.draw(|f| cutover::ui::render(app, f)).expect("drawn");
    });
    let _ = update(app, Msg::Key(Key::plain(KeyCode::Down)));
    let _ = update(app, Msg::Key(Key::plain(KeyCode::Enter)));
    let pods_frame = per_iter(7, 20, || {
        terminal.draw(|f| cutover::ui::render(app, f)).expect("drawn");
    });
    (frame, pods_frame)
}

fn main() {
    let start: Timestamp = "2026-11-25T14:00:00Z".parse().expect("a valid time");
    println!(
        "{:<34} {:>10} {:>12} {:>12} {:>12} {:>12}",
        "world", "pods/side", "history", "msg update", "main frame", "pods frame"
    );
    // `-- generated`: only the generated worlds (quick, for a profiler).
    let scales: &[u32] = if std::env::args().any(|a| a == "generated") { &[] } else { &[1, 334, 3334] };
    for &scale in scales {
        let mut world = World::new(&SimConfig { seed: 2026, start, scale });
        let pods = world.pod_count(Side::New);
        let mut app = App::new(world.app_config(), Keymap::default(), world.now());

        // Start-up: 30 minutes of history generated and applied.
        let t = Instant::now();
        let msgs = world.initial();
        let count = msgs.len();
        for msg in msgs {
            let _ = update(&mut app, msg);
        }
        let history = t.elapsed();

        // Steady state: one simulated minute of messages, applied.
        let minute: Vec<Msg> = world.advance(plus_secs(start, 60));
        let n = minute.len().max(1);
        let msg_cost = per_iter(5, 3, || {
            for msg in minute.iter().cloned() {
                let _ = update(&mut app, msg);
            }
        }) / n as u32;

        let (frame, pods_frame) = frames(&mut app);
        println!(
            "{:<34} {:>10} {:>12} {:>12} {:>12} {:>12}",
            format!("demo, scale {scale} ({count} history msgs)"),
            pods,
            format!("{:.1?}", history),
            format!("{:.1?}", msg_cost),
            format!("{:.2?}", frame),
            format!("{:.2?}", pods_frame),
        );
    }
    for deployments in [800usize, 2000] {
        let t = Instant::now();
        let mut app = generated(start, deployments);
        let built = t.elapsed();
        let pods = app.clusters.new.pods.len();
        let (frame, pods_frame) = frames(&mut app);
        println!(
            "{:<34} {:>10} {:>12} {:>12} {:>12} {:>12}",
            format!("demo + {deployments} Deployments of 25"),
            pods,
            format!("{:.1?}", built),
            "-",
            format!("{:.2?}", frame),
            format!("{:.2?}", pods_frame),
        );
    }
}

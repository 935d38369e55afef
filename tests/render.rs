//! Snapshots of every panel and view of the demo console at 80x24, 120x32
//! and 200x50, with colour and without, from a fixed seed and start time,
//! drawn on ratatui's TestBackend; and checks over every width from 80 to
//! 250 that numbers are drawn whole or not at all.

#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, draw, feed, press, start, take_sent};
use cutover::app::{App, Msg, View};
use cutover::domain::{Side, WorkloadKind, clock, plus_secs};
use cutover::keymap::{Key, KeyCode, Keymap};
use cutover::sim::{SimConfig, World};
use cutover::ui::{self, theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 32), (200, 50)];

/// The demo world at `scale`, run `secs` past its start.
fn world(scale: u32, secs: i64) -> (World, App) {
    let mut world = World::new(&SimConfig { seed: 2026, start: start(), scale });
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    feed(&mut app, world.initial());
    feed(&mut app, world.advance(plus_secs(start(), secs)));
    (world, app)
}

fn buffer(width: u16, height: u16, app: &App) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| ui::render(app, f)).unwrap();
    terminal.backend().buffer().clone()
}

fn row_text(buffer: &Buffer, y: u16) -> String {
    (0..buffer.area.width).map(|x| buffer[(x, y)].symbol().to_string()).collect()
}

/// The screen as text, and under every line with reversed or bold cells a
/// line marking them (`r` reversed, `b` bold, `R` both): what shows the
/// selection and the focus without colour.
fn draw_marked(width: u16, height: u16, app: &App) -> String {
    let buffer = buffer(width, height, app);
    let mut out = String::new();
    for y in 0..height {
        out.push_str(row_text(&buffer, y).trim_end());
        out.push('\n');
        let marks: String = (0..width)
            .map(|x| {
                let m = buffer[(x, y)].modifier;
                match (m.contains(Modifier::REVERSED), m.contains(Modifier::BOLD)) {
                    (true, true) => 'R',
                    (true, false) => 'r',
                    (false, true) => 'b',
                    _ => ' ',
                }
            })
            .collect();
        if !marks.trim().is_empty() {
            out.push_str(&format!("{}\n", marks.trim_end()));
        }
    }
    out
}

fn keys(app: &mut App, codes: &[KeyCode]) {
    press(app, &codes.iter().map(|c| Key::plain(*c)).collect::<Vec<_>>());
}

/// Each view the console has, as the operator reaches it.
fn views() -> Vec<(&'static str, App)> {
    let (_, main) = demo(90);
    let (_, mut route) = demo(90);
    // Focus the traffic panel (one back from workloads) and open the api route.
    keys(&mut route, &[KeyCode::BackTab, KeyCode::Enter]);
    let (_, mut workload) = demo(90);
    // batch/sidekiq-mailers: the drifted one.
    press(&mut workload, &[Key::plain(KeyCode::End)]);
    keys(&mut workload, &[KeyCode::Up, KeyCode::Up, KeyCode::Enter]);
    let (_, mut help) = demo(5);
    press(&mut help, &[Key::char('?')]);
    let (_, mut proposal) = demo(90);
    press(&mut proposal, &[Key::plain(KeyCode::BackTab), Key::char(']')]);
    assert!(proposal.modal.is_some());
    vec![("main", main), ("route", route), ("workload", workload), ("help", help), ("proposal", proposal)]
}

#[test]
fn every_view_at_three_sizes() {
    for (name, app) in views() {
        for (w, h) in SIZES {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(w, h, |f| ui::render(&app, f)));
        }
    }
}

#[test]
fn every_view_without_colour() {
    theme::set_no_color(true);
    for (name, app) in views() {
        for (w, h) in [(80, 24), (120, 32)] {
            let buffer = buffer(w, h, &app);
            let coloured = buffer.content.iter().filter(|c| c.fg != Color::Reset || c.bg != Color::Reset).count();
            assert_eq!(coloured, 0, "{name} at {w}x{h}: {coloured} cells keep a colour");
            insta::assert_snapshot!(format!("no_color_{name}_{w}x{h}"), draw_marked(w, h, &app));
        }
    }
}

#[test]
fn without_colour_the_selection_focus_and_weights_still_show() {
    theme::set_no_color(true);
    let (_, app) = demo(90);
    let buffer = buffer(120, 32, &app);
    let areas = ui::layout(&app, buffer.area);
    let table = areas.workloads.unwrap();
    // The focused panel: double lines and a marker.
    assert_eq!(buffer[(table.x, table.y)].symbol(), "╔");
    assert!(row_text(&buffer, table.y).contains('▶'));
    let traffic = areas.traffic.unwrap();
    assert_eq!(buffer[(traffic.x, traffic.y)].symbol(), "┌");
    // The selected row (the first, under the header) in reverse video.
    let selected = table.y + 2;
    assert!(row_text(&buffer, selected).contains("app/admin"));
    assert!((table.x + 1..table.right() - 1).all(|x| buffer[(x, selected)].modifier.contains(Modifier::REVERSED)));
    assert!(!buffer[(table.x + 1, selected + 1)].modifier.contains(Modifier::REVERSED));
    // The weight bar: two fills, old's and new's.
    let bar = row_text(&buffer, traffic.y + 1);
    assert!(bar.contains('█') && bar.contains('▒'), "{bar}");
}

#[test]
fn every_panel_at_three_widths() {
    let (_, app) = demo(90);
    for (w, _) in SIZES {
        insta::assert_snapshot!(format!("traffic_{w}"), draw(w, 8, |f| ui::traffic::render(&app, f, f.area())));
        insta::assert_snapshot!(format!("workloads_{w}"), draw(w, 18, |f| ui::workloads::render(&app, f, f.area())));
        insta::assert_snapshot!(format!("events_{w}"), draw(w / 2, 18, |f| ui::events::render(&app, f, f.area())));
        insta::assert_snapshot!(format!("header_{w}"), draw(w, 2, |f| ui::header::render(&app, f, f.area())));
    }
}

#[test]
fn a_click_on_any_line_of_a_panel_maps_back_to_the_row_drawn_there() {
    use cutover::app::{MouseKind, Panel, Pointer};
    let (_, mut app) = demo(90);
    for (w, h, selected, filter) in [(80, 24, 0, ""), (80, 24, 13, ""), (120, 32, 13, ""), (200, 50, 2, "sidekiq")] {
        app.ui.selected[1] = selected;
        app.ui.find.text[0] = filter.to_string();
        let buffer = buffer(w, h, &app);
        let areas = ui::layout(&app, buffer.area);
        let rows = app.visible_workloads();
        let area = areas.workloads.unwrap();
        let mut seen = 0;
        for y in area.top()..area.bottom() {
            match app.resolve_pointer(MouseKind::Click, area.x + 3, y) {
                Some(Pointer::Select { panel: Panel::Workloads, row: Some(i) }) => {
                    assert!(
                        row_text(&buffer, y).contains(&rows[i].key.to_string()),
                        "{w}x{h}: line {y} is not row {i}"
                    );
                    seen += 1;
                }
                Some(Pointer::Select { panel: Panel::Workloads, row: None }) => {}
                other => panic!("{w}x{h}: line {y} of the workloads resolved to {other:?}"),
            }
        }
        assert_eq!(seen, usize::from(area.height - 3).min(rows.len()), "{w}x{h}");
        // Each route's three lines are that route; each event's lines, that event.
        let traffic = areas.traffic.unwrap();
        for (i, route) in app.routes.iter().enumerate() {
            let y = traffic.y + 1 + 3 * i as u16;
            assert!(row_text(&buffer, y).contains(&route.spec.name), "{w}x{h}");
            for dy in 0..3 {
                assert_eq!(
                    app.resolve_pointer(MouseKind::Click, traffic.x + 2, y + dy),
                    Some(Pointer::Select { panel: Panel::Traffic, row: Some(i) })
                );
            }
        }
        let events = areas.events.unwrap();
        let visible = app.visible_events();
        for y in events.top() + 1..events.bottom() - 1 {
            if let Some(Pointer::Select { panel: Panel::Events, row: Some(i) }) =
                app.resolve_pointer(MouseKind::Click, events.x + 1, y)
            {
                let clock = cutover::domain::clock(visible[i].at);
                let mut first = y;
                while !row_text(&buffer, first).contains(&clock) {
                    first -= 1;
                    assert!(
                        first > events.top(),
                        "{w}x{h}: no first line above {y} for event {i} ({clock}):\n{}",
                        (events.top()..events.bottom()).map(|y| row_text(&buffer, y)).collect::<Vec<_>>().join("\n")
                    );
                }
            }
        }
    }
}

#[test]
fn help_follows_the_active_keymap() {
    let (_, mut app) = demo(5);
    app.keymap = Keymap::load(Some("vim")).unwrap();
    press(&mut app, &[Key::char('?')]);
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(screen.contains("keymap: default + vim"), "{screen}");
    assert!(screen.contains("down/j"), "{screen}");
}

#[test]
fn help_scrolls_through_every_key_and_glyph_at_80x24() {
    let (_, mut app) = demo(5);
    press(&mut app, &[Key::char('?')]);
    let mut seen = String::new();
    let mut last = String::new();
    for _ in 0..80 {
        let screen = draw(80, 24, |f| ui::render(&app, f));
        if screen == last {
            break;
        }
        seen.push_str(&screen);
        last = screen;
        press(&mut app, &[Key::plain(KeyCode::Down)]);
    }
    for action in cutover::keymap::Action::ALL {
        let line = format!("{}  {}", app.keymap.label(action), action.description());
        assert!(seen.contains(&line), "`{line}` is never shown whole");
    }
    for (glyph, text) in theme_glyphs() {
        assert!(seen.contains(&format!("{glyph}  {text}")), "`{glyph}` is not explained");
    }
    for symbol in ["●", "◐", "✖", "○"] {
        assert!(seen.contains(&format!("{symbol}  ")), "{symbol} is not explained");
    }
    // End shows the last line; Home the first; Up after End moves at once.
    press(&mut app, &[Key::plain(KeyCode::End)]);
    let end = draw(80, 24, |f| ui::render(&app, f));
    assert!(end.contains(ui::help::GLYPHS[ui::help::GLYPHS.len() - 1].1), "{end}");
    press(&mut app, &[Key::plain(KeyCode::Up)]);
    assert_ne!(draw(80, 24, |f| ui::render(&app, f)), end);
    press(&mut app, &[Key::plain(KeyCode::Home)]);
    assert!(draw(80, 24, |f| ui::render(&app, f)).contains("keymap: default"));
    // Scrolling does not act: the help is still open, nothing proposed.
    assert!(app.ui.help && app.modal.is_none());
}

/// Every glyph the panels draw, with its line in the help's legend.
fn theme_glyphs() -> Vec<(&'static str, &'static str)> {
    let glyphs: Vec<(&str, &str)> = ui::help::GLYPHS.to_vec();
    for needed in ["◆", "‼", "≠", "▲", "·", "▒", "┊", "│→", "⟳", "⚠", "…", "▶", "—", "?"] {
        assert!(glyphs.iter().any(|(g, _)| g.contains(needed)), "{needed} missing from the legend");
    }
    glyphs
}

#[test]
fn a_small_terminal_is_told_the_size_it_needs() {
    let (_, app) = demo(5);
    let screen = draw(70, 20, |f| ui::render(&app, f));
    assert!(screen.contains("terminal 70x20: cutover is laid out for 80x24 or larger"), "{screen}");
    let screen = draw(80, 24, |f| ui::render(&app, f));
    assert!(!screen.contains("laid out for"), "{screen}");
}

#[test]
fn a_weight_change_is_marked_on_the_route_chart() {
    let (mut world, mut app) = demo(60);
    // api 25 -> 50, carried out by the simulated world.
    press(&mut app, &[Key::plain(KeyCode::BackTab), Key::char(']'), Key::char('y')]);
    for q in take_sent() {
        let (result, msgs) = world.apply(&q.effect);
        feed(&mut app, msgs);
        feed(&mut app, vec![Msg::EffectDone { id: q.id, effect: q.effect, result }]);
    }
    feed(&mut app, world.advance(plus_secs(start(), 600)));
    let change = app.routes[0].weight_changes.last().copied().unwrap();
    assert_eq!(change.1.percent_new(), Some(50.0));
    // The executor's answer and the next reads saw the same change: one mark.
    let to_50 = app.routes[0].weight_changes.iter().filter(|(_, w)| w.percent_new() == Some(50.0)).count();
    assert_eq!(to_50, 1, "{:?}", app.routes[0].weight_changes);
    press(&mut app, &[Key::plain(KeyCode::Enter)]);
    assert_eq!(app.ui.view, View::Route(0));
    for (w, h) in SIZES {
        let screen = draw(w, h, |f| ui::render(&app, f));
        assert!(screen.contains("│→50"), "{w}x{h}:\n{screen}");
        assert_eq!(screen.matches("→50").count(), 2, "one label per chart, {w}x{h}:\n{screen}");
    }
    insta::assert_snapshot!("route_with_a_weight_change_120x32", draw(120, 32, |f| ui::render(&app, f)));
}

/// The token before `suffix` on `line`, if `suffix` is there.
fn before<'a>(line: &'a str, suffix: &str) -> Option<&'a str> {
    let at = line.find(suffix)?;
    line[..at].split_whitespace().last()
}

/// Every number the state holds for what is on the screen is drawn whole
/// where it is drawn, and the columns an operator needs most are there.
fn check_numbers(app: &App, width: u16, height: u16) {
    let buffer = buffer(width, height, app);
    let screen: Vec<String> = (0..height).map(|y| row_text(&buffer, y)).collect();
    let ctx = || format!("{width}x{height}:\n{}", screen.join("\n"));
    assert!(screen[0].contains(&format!("{} UTC", clock(app.now))), "clock cut at {}", ctx());
    let areas = ui::layout(app, buffer.area);
    let traffic = areas.traffic.unwrap();
    for (i, route) in app.routes.iter().enumerate() {
        let s = app.route_summary(route);
        let y = usize::from(traffic.y + 1) + i * 3;
        if y + 2 >= usize::from(traffic.bottom()) {
            break;
        }
        let first = &screen[y];
        if let Some(w) = s.weights {
            assert!(first.contains(&format!(" read {}/{} ", w.old.0, w.new.0)), "weights at {}", ctx());
        }
        if let Some(p) = before(first, "% new") {
            assert_eq!(p, format!("{:.1}", s.observed_new.unwrap()), "observed at {}", ctx());
        }
        if let Some(v) = before(first, "/min") {
            assert_eq!(v, theme::count(s.elb_errors().unwrap()), "ALB 5xx at {}", ctx());
        }
        for (side, line) in [(Side::Old, &screen[y + 1]), (Side::New, &screen[y + 2])] {
            let f = s.figures.get(side);
            let req = f.requests.map_or("–".into(), theme::count);
            let err = f.error_rate.map_or("–".into(), theme::percent);
            assert_eq!(before(line, " req/m"), Some(req.as_str()), "requests at {}", ctx());
            assert_eq!(before(line, " 5xx"), Some(err.as_str()), "5xx at {}", ctx());
            let lat = f.latency_ms.map_or("–".into(), |l| format!("{l:.0}"));
            assert_eq!(before(line, " ms"), Some(lat.as_str()), "latency at {}", ctx());
        }
    }
    let table = areas.workloads.unwrap();
    let rows = app.workload_rows();
    let shown = usize::from(table.height.saturating_sub(3));
    for (j, row) in rows.iter().take(shown).enumerate() {
        let line: String = screen[usize::from(table.y) + 2 + j]
            .chars()
            .skip(usize::from(table.x))
            .take(usize::from(table.width))
            .collect();
        let name = row.key.to_string();
        assert!(line.contains(&name) || line.contains('…'), "{name} at {}", ctx());
        let mut expected: Vec<String> = Vec::new();
        for side in Side::BOTH {
            if let Some(v) = row.sides.get(side) {
                let w = v.workload;
                if matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet) {
                    expected.push(format!("{}/{}", w.ready, w.desired));
                }
            }
        }
        let drawn: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '│')
            .filter(|t| t.contains('/') && t.starts_with(|c: char| c.is_ascii_digit()))
            .collect();
        assert_eq!(drawn, expected, "ready counts of {name} at {}", ctx());
    }
}

/// The demo's workloads copied under new names, through the messages a
/// cluster watch sends, until there are 500, with counts of every width.
fn crowd(app: &mut App) {
    let originals: Vec<(Side, cutover::domain::Workload)> = Side::BOTH
        .iter()
        .flat_map(|s| app.clusters.get(*s).workloads.values().map(|w| (*s, w.clone())).collect::<Vec<_>>())
        .collect();
    for i in 0..40u32 {
        for (side, w) in &originals {
            let mut w = w.clone();
            w.key.name = format!("{}-{i:02}", w.key.name);
            w.desired = w.desired * (i * 37 % 1000) + i;
            w.ready = w.desired.saturating_sub(i % 3);
            feed(app, vec![Msg::Cluster { side: *side, delta: cutover::app::ClusterDelta::Workload(w) }]);
        }
    }
}

#[test]
fn numbers_are_whole_at_every_width() {
    for (scale, label) in [(1, "demo"), (334, "500 workloads")] {
        let (_, mut app) = world(scale, 600);
        if scale > 1 {
            crowd(&mut app);
            assert!(app.workload_keys().len() >= 500, "{label}: {}", app.workload_keys().len());
        }
        let heights: &[u16] = if scale > 1 { &[24, 50] } else { &[24, 32, 50, 70] };
        for width in 80..=250 {
            for height in heights {
                check_numbers(&app, width, *height);
            }
        }
    }
}

#[test]
fn the_route_chart_legend_never_covers_data() {
    let (_, mut app) = demo(600);
    keys(&mut app, &[KeyCode::BackTab, KeyCode::Enter]);
    for width in 80..=250 {
        for height in [24, 32, 50] {
            let screen = draw(width, height, |f| ui::render(&app, f));
            let lines: Vec<&str> = screen.lines().collect();
            let top = lines.iter().position(|l| l.contains("requests / min")).unwrap();
            assert!(lines[top].contains("old") && lines[top].contains("new"), "{screen}");
            let bottom = lines[top + 1..].iter().position(|l| l.starts_with('└')).unwrap() + top + 1;
            for line in &lines[top + 1..bottom] {
                assert!(
                    !line.contains("old") && !line.contains("new") && !line.contains("ELB"),
                    "{width}x{height}:\n{screen}"
                );
            }
        }
    }
}

/// A Route 53 route stepped to 25%: for minutes the panel and the
/// drill-down say how far the observed share trails the set one, on the
/// route's own numbers, and the chart draws both on one time axis.
#[test]
fn a_dns_route_shows_the_observed_share_trailing_the_set_share() {
    let (mut world, mut app) = demo(60);
    let www = 2;
    assert_eq!(app.routes[www].kind(), cutover::domain::RouteKind::Route53);
    press(&mut app, &[Key::plain(KeyCode::BackTab), Key::plain(KeyCode::Down), Key::plain(KeyCode::Down)]);
    press(&mut app, &[Key::char(']'), Key::char('y')]);
    for q in take_sent() {
        let (result, msgs) = world.apply(&q.effect);
        feed(&mut app, msgs);
        feed(&mut app, vec![Msg::EffectDone { id: q.id, effect: q.effect, result }]);
    }
    assert_eq!(app.routes[www].set_share(), Some(25.0));
    // Two complete minutes later most clients, not all, have followed.
    feed(&mut app, world.advance(plus_secs(start(), 60 + 150)));
    let summary = app.route_summary(&app.routes[www]);
    let observed = summary.observed_new.unwrap();
    assert!(observed > 10.0 && observed < 25.0 - 1.0, "observed {observed:.1}% trails the set 25%");
    let lag = format!("lag {:+.1} pts", observed - 25.0);
    let screen = draw(200, 50, |f| ui::render(&app, f));
    assert!(screen.contains(&lag), "{lag} in the panel\n{screen}");
    assert!(screen.contains("LB 5xx old"), "each side's own load balancer\n{screen}");
    press(&mut app, &[Key::plain(KeyCode::Enter)]);
    assert_eq!(app.ui.view, View::Route(www));
    let screen = draw(160, 40, |f| ui::render(&app, f));
    for text in
        ["% to new", "set", "observed", "TTL 60s", "→25", &lag, "eks-2022", "eks-2026", "evaluates target health"]
    {
        assert!(screen.contains(text), "{text}\n{screen}");
    }
    // Fifteen minutes on, the tail has followed too.
    feed(&mut app, world.advance(plus_secs(start(), 60 + 20 * 60)));
    let observed = app.route_summary(&app.routes[www]).observed_new.unwrap();
    assert!((observed - 25.0).abs() < 5.0, "observed {observed:.1}% within 5 points of 25%");
    // Both records at 0: Route 53's equal split, said as such.
    world.set_weights("www", cutover::domain::Weights::from_percent_new(0).with_old(0));
    feed(&mut app, world.advance(plus_secs(start(), 60 + 20 * 60 + 10)));
    assert_eq!(app.routes[www].set_share(), Some(50.0));
    press(&mut app, &[Key::plain(KeyCode::Esc)]);
    let screen = draw(200, 50, |f| ui::render(&app, f));
    assert!(screen.contains("read 0/0 (equal split)") && screen.contains("new  50%"), "{screen}");
}

#[test]
fn a_step_made_in_the_minute_under_way_is_marked_at_once() {
    let (mut world, mut app) = demo(60);
    // Half a minute into a minute: the last complete one is before the step.
    feed(&mut app, world.advance(plus_secs(start(), 90)));
    press(&mut app, &[Key::plain(KeyCode::BackTab), Key::char(']'), Key::char('y')]);
    for q in take_sent() {
        let (result, msgs) = world.apply(&q.effect);
        feed(&mut app, msgs);
        feed(&mut app, vec![Msg::EffectDone { id: q.id, effect: q.effect, result }]);
    }
    feed(&mut app, world.advance(plus_secs(start(), 95)));
    let (at, _) = app.routes[0].weight_changes.last().copied().unwrap();
    let last_complete = app.route_summary(&app.routes[0]).minute;
    assert!(cutover::domain::Minute::containing(at) > last_complete, "the step is in the minute under way");
    press(&mut app, &[Key::plain(KeyCode::Enter)]);
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert_eq!(screen.matches("→50").count(), 2, "marked on both charts at once:\n{screen}");
}

/// What the console cannot keep, and a signal being honoured, in the
/// header at every size: the recording not written (how much is held and
/// dropped, where, since when), the handoff state file not writable, a
/// stop on SIGTERM; and `watch`'s banner of a handoff left in flight.
#[test]
fn the_keeping_banners_at_three_sizes() {
    use cutover::app::{Held, Keeping, Left, Signal};
    let (_world, mut app) = world(1, 30);
    app.config.mode = cutover::app::Mode::Run;
    let path = "/home/oncall/.local/state/cutover/recordings/run-20261125T140000Z.jsonl".to_string();
    let _ = cutover::app::update(
        &mut app,
        Msg::Keeping(Keeping::RecordingFailed { path, error: "no space left on device".into() }),
    );
    let _ = cutover::app::update(&mut app, Msg::Held(Some(Held { lines: 1204, bytes: 3 << 20, dropped: 96 })));
    let _ = cutover::app::update(
        &mut app,
        Msg::Keeping(Keeping::StateFile {
            path: "/home/oncall/.local/state/cutover/handoffs/photo-api-2026.json".into(),
            error: Some("read-only file system".into()),
        }),
    );
    let _ = cutover::app::update(&mut app, Msg::Signal(Signal::Terminate));
    for (w, h) in SIZES {
        let screen = draw(w, h, |f| ui::render(&app, f));
        let header: Vec<&str> = screen.lines().take(6).collect();
        assert!(header[2].contains("STOPPING on SIGTERM"), "{header:#?}");
        assert!(header[3].contains("NOT RECORDING: no space left on device  1204 lines held in memory, 96 DROPPED"));
        assert!(header[4].contains("HANDOFF STATE NOT KEPT: read-only file system"), "{header:#?}");
        insta::assert_snapshot!(format!("keeping_{w}x{h}"), header.join("\n"));
    }
    // What `watch` shows of a handoff a driver's console left on disk.
    let (_world, mut watch) = world(1, 30);
    watch.config.mode = cutover::app::Mode::Watch;
    let (_w, mut driver) = world(1, 30);
    let i = driver.workload_keys().iter().position(|k| k.name == "scheduler").unwrap();
    driver.ui.focus = cutover::app::Panel::Workloads;
    driver.ui.selected[cutover::app::Panel::Workloads.index()] = i;
    press(&mut driver, &[Key::char('h')]);
    for c in "override".chars() {
        press(&mut driver, &[Key::char(c)]);
    }
    press(&mut driver, &[Key::plain(KeyCode::Enter)]);
    take_sent();
    let handoff = driver.handoff.clone().unwrap();
    let saved_at = watch.now;
    let _ = cutover::app::update(&mut watch, Msg::OnDisk(Some(Left { handoff, saved_at })));
    for (w, h) in SIZES {
        let screen = draw(w, h, |f| ui::render(&watch, f));
        let header: Vec<&str> = screen.lines().take(4).collect();
        assert!(header[2].contains("HANDOFF LEFT IN FLIGHT"), "{header:#?}");
        insta::assert_snapshot!(format!("left_{w}x{h}"), header.join("\n"));
    }
}

/// The demo's plan judges api and www: at every width each route's
/// verdict cell and the autopilot's countdown are drawn whole on its line,
/// or not at all, never cut into a different claim ("✓ 5/5 min, rea").
#[test]
fn verdict_cells_are_whole_or_absent_at_every_width() {
    let mut world = World::new(&SimConfig { seed: 2026, start: start(), scale: 1 }).with_analysis();
    let mut app = App::new(world.app_config(), Keymap::default(), world.now());
    feed(&mut app, world.initial());
    let mut seen = Vec::new();
    // api ready and www thin; then, minute by minute, until www's
    // autopilot counts down.
    let mut secs = 30;
    feed(&mut app, world.advance(plus_secs(start(), secs)));
    check_verdict_cells(&app, &mut seen);
    while app.routes[2].autopilot.countdown.is_none() {
        secs += 60;
        assert!(secs < 40 * 60, "www's autopilot counted down within 40 minutes");
        feed(&mut app, world.advance(plus_secs(start(), secs)));
    }
    check_verdict_cells(&app, &mut seen);
    for cell in ["✓ 5/5 min, ready", "? thin traffic", "◷ "] {
        assert!(seen.iter().any(|s| s.starts_with(cell)), "`{cell}` drawn at some width: {seen:?}");
    }
}

/// Each judged route's cells on its line at every width from 80 to 250,
/// whole or absent; the ones drawn whole are added to `seen`.
fn check_verdict_cells(app: &App, seen: &mut Vec<String>) {
    let cells: Vec<(usize, String)> = app
        .routes
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            let verdict = ui::traffic::verdict_cell(app, r).map(|(text, _)| text);
            let countdown = ui::traffic::countdown_cell(app, r).map(|(text, _)| text);
            [verdict, countdown].into_iter().flatten().map(move |t| (i, t))
        })
        .collect();
    assert!(cells.iter().any(|(i, _)| *i == 0) && cells.iter().any(|(i, _)| *i == 2), "{cells:?}");
    for width in 80..=250 {
        let screen = draw(width, 32, |f| ui::render(app, f));
        let lines: Vec<&str> = screen.lines().collect();
        for (i, cell) in &cells {
            let name = &app.routes[*i].spec.name;
            let line = lines.iter().find(|l| l.starts_with(&format!("│{name} "))).unwrap();
            // The cell's first characters (its glyph and the word after)
            // are there only with the whole cell.
            let head: String = cell.chars().take(4).collect();
            if line.contains(cell.as_str()) {
                seen.push(cell.clone());
            } else {
                assert!(!line.contains(&head), "{width} wide: `{cell}` cut on\n{line}");
            }
        }
    }
}

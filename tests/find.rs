//! Finding a workload among many: the `/` filter, problems only, the sort,
//! and the mouse; through `update` and the screen as drawn.

#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, draw, press, sent, step};
use cutover::app::{Listing, Modal, MouseKind, Msg, Panel, Pointer, Sort, View};
use cutover::domain::{Health, Side, WorkloadKey};
use cutover::keymap::{Key, KeyCode};
use cutover::ui;

fn key(code: KeyCode) -> Key {
    Key::plain(code)
}

fn typed(app: &mut cutover::app::App, text: &str) {
    for c in text.chars() {
        step(app, Msg::Key(Key::char(c)));
    }
}

fn visible(app: &cutover::app::App) -> Vec<String> {
    app.visible_workload_keys().iter().map(ToString::to_string).collect()
}

#[test]
fn typing_into_the_filter_line_fires_no_action_and_narrows_the_table() {
    let (_, mut app) = demo(60);
    let all = visible(&app);
    press(&mut app, &[Key::char('/')]);
    assert_eq!(app.ui.find.editing, Some(Listing::Workloads));
    // Every letter of these is an action key outside the filter line:
    // r revert, R revert all, h handoff, s sort, q quit, ] step up.
    typed(&mut app, "mailers");
    assert!(app.modal.is_none(), "no proposal from the `r` of mailers: {:?}", app.modal.is_some());
    assert!(sent().is_empty());
    assert!(!app.quit);
    assert_eq!(app.ui.find.sort, Sort::Name, "the `s` of mailers was typed, not a sort");
    assert_eq!(visible(&app), vec!["batch/sidekiq-mailers"]);
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(
        screen.contains("1/") && screen.contains(&format!("/{}", all.len())),
        "shown/total in the title:\n{screen}"
    );
    assert!(screen.contains("/mailers▏"), "{screen}");

    // Backspace edits; every word must match; case does not matter.
    press(&mut app, &[key(KeyCode::Backspace), key(KeyCode::Backspace)]);
    assert_eq!(app.ui.find.text(Listing::Workloads), "maile");
    typed(&mut app, " BATCH");
    assert_eq!(visible(&app), vec!["batch/sidekiq-mailers"]);

    // Enter keeps the filter and gives the keys back: `q` is quit again.
    press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(app.ui.find.editing, None);
    assert_eq!(visible(&app), vec!["batch/sidekiq-mailers"]);
    press(&mut app, &[key(KeyCode::Enter)]);
    assert_eq!(app.ui.view, View::Workload(WorkloadKey::new("batch", "sidekiq-mailers")), "opens the row shown");
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.ui.view, View::Main);
    // Esc on the main screen clears the filter.
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(visible(&app), all);
}

#[test]
fn the_filter_matches_image_tags_and_the_nodes_pods_run_on() {
    let (_, mut app) = demo(60);
    let mailers = WorkloadKey::new("batch", "sidekiq-mailers");
    // The tag only the old side of the mailers still runs.
    let old_tag = app.clusters.old.workloads[&mailers].tag().to_string();
    assert_ne!(old_tag, app.clusters.new.workloads[&mailers].tag());
    press(&mut app, &[Key::char('/')]);
    typed(&mut app, &old_tag);
    assert!(visible(&app).contains(&mailers.to_string()), "{:?}", visible(&app));

    // A node name: every workload with a pod there, and no other.
    let node = app.clusters.new.pods.values().find_map(|p| p.node.clone()).unwrap();
    press(&mut app, &[Key::ctrl('u')]);
    assert_eq!(app.ui.find.text(Listing::Workloads), "", "ctrl-u clears the line");
    typed(&mut app, &node);
    let expected: Vec<String> = app
        .workload_keys()
        .into_iter()
        .filter(|k| Side::BOTH.iter().any(|s| app.clusters.get(*s).pods_of(k).any(|p| p.node.as_ref() == Some(&node))))
        .map(ToString::to_string)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(visible(&app), expected);
}

#[test]
fn problems_only_hides_healthy_rows_and_says_so() {
    let (_, mut app) = demo(60);
    let all = app.visible_workloads().len();
    press(&mut app, &[Key::char('!')]);
    assert!(app.ui.find.problems_only);
    let rows = app.visible_workloads();
    assert!(!rows.is_empty() && rows.len() < all, "{} of {all}", rows.len());
    for r in &rows {
        let one_side = r.sides.old.is_none() != r.sides.new.is_none();
        assert!(
            r.worst() >= Health::Degraded || r.drift || one_side || r.singleton_conflict,
            "{} is no problem",
            r.key
        );
    }
    let hidden: Vec<_> = app.workload_keys().into_iter().filter(|k| !rows.iter().any(|r| r.key == *k)).collect();
    for k in hidden {
        let r = app.workload_row(k);
        assert!(!app.is_problem(&r), "{k} is a problem and hidden");
    }
    // The crash-looping GPU worker of the new side is among them.
    assert!(rows.iter().any(|r| r.key.name == "sidekiq-gpu"));
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(screen.contains("!problems"), "{screen}");
    press(&mut app, &[Key::char('!')]);
    assert_eq!(app.visible_workloads().len(), all);
}

#[test]
fn sort_cycles_name_health_restarts_drift() {
    let (_, mut app) = demo(60);
    let by_name = visible(&app);
    let mut sorted = by_name.clone();
    sorted.sort();
    assert_eq!(by_name, sorted);
    press(&mut app, &[Key::char('s')]);
    assert_eq!(app.ui.find.sort, Sort::Health);
    let worst: Vec<Health> = app.visible_workloads().iter().map(|r| r.worst()).collect();
    assert!(worst.windows(2).all(|w| w[0] >= w[1]), "worst first: {worst:?}");
    assert_eq!(worst[0], Health::Failing);
    press(&mut app, &[Key::char('s')]);
    assert_eq!(app.ui.find.sort, Sort::Restarts);
    let restarts: Vec<u32> = app
        .visible_workloads()
        .iter()
        .map(|r| Side::BOTH.iter().filter_map(|s| r.sides.get(*s).as_ref()).map(|v| v.restarts).sum())
        .collect();
    assert!(restarts.windows(2).all(|w| w[0] >= w[1]), "{restarts:?}");
    press(&mut app, &[Key::char('s')]);
    let drift: Vec<bool> = app.visible_workloads().iter().map(|r| r.drift).collect();
    assert!(drift[0] && drift.windows(2).all(|w| w[0] >= w[1]), "drifted first: {drift:?}");
    press(&mut app, &[Key::char('s')]);
    assert_eq!(visible(&app), by_name);
}

#[test]
fn a_handoff_is_proposed_for_the_row_shown_selected_not_its_place_in_the_whole_list() {
    let (_, mut app) = demo(60);
    press(&mut app, &[Key::char('/')]);
    typed(&mut app, "scheduler");
    press(&mut app, &[key(KeyCode::Enter), Key::char('h')]);
    let screen = draw(120, 32, |f| ui::render(&app, f));
    assert!(matches!(app.modal, Some(Modal::Proposal(_))), "{screen}");
    assert!(screen.contains("scheduler"), "{screen}");
    assert!(sent().is_empty(), "a proposal, nothing sent");
}

#[test]
fn events_and_a_workloads_pods_are_filtered_as_well() {
    let (_, mut app) = demo(180);
    press(&mut app, &[key(KeyCode::Tab)]);
    assert_eq!(app.ui.focus, Panel::Events);
    // A source that goes stale and comes back: an alert, then an info line.
    let id = cutover::app::SourceId::Traffic(cutover::domain::RouteKind::Alb);
    let at = app.now;
    step(
        &mut app,
        Msg::Source {
            id,
            state: cutover::app::SourceState::Stale {
                since: at,
                error: "timed out".into(),
                last_ok: None,
                fault: Default::default(),
            },
        },
    );
    step(&mut app, Msg::Source { id, state: cutover::app::SourceState::Live { last_ok: at } });
    let total = app.visible_events().len();
    let levels: Vec<_> = app.events.iter().map(|e| e.level).collect();
    press(&mut app, &[Key::char('!')]);
    let problems = app.visible_events();
    assert!(!problems.is_empty() && problems.len() < total, "{} of {total}: {levels:?}", problems.len());
    assert!(problems.iter().all(|e| e.level != cutover::app::Level::Info));
    press(&mut app, &[Key::char('!'), Key::char('/')]);
    assert_eq!(app.ui.find.editing, Some(Listing::Events));
    typed(&mut app, "new");
    assert!(app.visible_events().iter().all(|e| e.text.to_lowercase().contains("new") || e.side == Some(Side::New)));

    // The pods of the API workload, filtered by node: each pod shown is there.
    press(&mut app, &[key(KeyCode::Esc), key(KeyCode::BackTab)]);
    press(&mut app, &[Key::char('/')]);
    typed(&mut app, "app/api");
    press(&mut app, &[key(KeyCode::Enter), key(KeyCode::Enter)]);
    let api = WorkloadKey::new("app", "api");
    assert_eq!(app.ui.view, View::Workload(api.clone()));
    let node = app.clusters.new.pods_of(&api).find_map(|p| p.node.clone()).unwrap();
    let all = app.visible_pods(&api, Side::New).len();
    press(&mut app, &[Key::char('/')]);
    assert_eq!(app.ui.find.editing, Some(Listing::Pods));
    typed(&mut app, &node);
    let pods = app.visible_pods(&api, Side::New);
    assert!(!pods.is_empty() && pods.len() < all);
    assert!(pods.iter().all(|p| p.node.as_ref() == Some(&node)));
    // Esc clears the pods' filter first, then leaves the drill-down.
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.visible_pods(&api, Side::New).len(), all);
    assert_eq!(app.ui.view, View::Workload(api));
    press(&mut app, &[key(KeyCode::Esc)]);
    assert_eq!(app.ui.view, View::Main);
}

/// The cell where `needle` is drawn, after drawing the app at 120x32.
fn cell_of(app: &cutover::app::App, needle: &str) -> (u16, u16) {
    let screen = draw(120, 32, |f| ui::render(app, f));
    for (y, line) in screen.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            return (line[..byte].chars().count() as u16, y as u16);
        }
    }
    panic!("`{needle}` is not on the screen:\n{screen}");
}

#[test]
fn a_click_selects_the_row_under_it_and_a_double_click_opens_it() {
    let (_, mut app) = demo(60);
    let (x, y) = cell_of(&app, "batch/sidekiq-mailers");
    step(&mut app, Msg::Mouse { kind: MouseKind::Click, column: x + 2, row: y });
    let keys = app.visible_workload_keys();
    let selected = &keys[app.ui.selected[Panel::Workloads.index()]];
    assert_eq!(selected.to_string(), "batch/sidekiq-mailers");
    step(&mut app, Msg::Mouse { kind: MouseKind::DoubleClick, column: x + 2, row: y });
    assert_eq!(app.ui.view, View::Workload(WorkloadKey::new("batch", "sidekiq-mailers")));

    // On a drill-down a click selects nothing; the wheel scrolls it.
    assert_eq!(app.resolve_pointer(MouseKind::Click, x, y), None);
    step(&mut app, Msg::Mouse { kind: MouseKind::WheelDown, column: x, row: y });
    assert_eq!(app.ui.detail_scroll, 3);
    press(&mut app, &[key(KeyCode::Esc)]);

    // A click on the events panel focuses it; a route's lines select the route.
    let (ex, ey) = cell_of(&app, "Events");
    step(&mut app, Msg::Mouse { kind: MouseKind::Click, column: ex, row: ey });
    assert_eq!(app.ui.focus, Panel::Events);
    // The route's own line in the traffic panel (the header names it too).
    let route = app.routes[1].spec.name.clone();
    let (rx, ry) = cell_of(&app, &format!("│{route} "));
    let rx = rx + 1;
    assert_eq!(
        app.resolve_pointer(MouseKind::Click, rx, ry),
        Some(Pointer::Select { panel: Panel::Traffic, row: Some(1) })
    );
    // The wheel over the workloads moves their selection, focused or not.
    let (wx, wy) = cell_of(&app, "batch/sidekiq-mailers");
    step(&mut app, Msg::Mouse { kind: MouseKind::WheelDown, column: wx, row: wy });
    assert_eq!(app.ui.focus, Panel::Workloads);
}

#[test]
fn a_click_never_touches_a_proposal() {
    let (_, mut app) = demo(60);
    press(&mut app, &[key(KeyCode::BackTab), Key::char(']')]);
    assert!(matches!(app.modal, Some(Modal::Proposal(_))));
    let (x, y) = cell_of(&app, "batch/sidekiq-mailers");
    for kind in [MouseKind::Click, MouseKind::DoubleClick, MouseKind::WheelDown] {
        step(&mut app, Msg::Mouse { kind, column: x, row: y });
    }
    assert!(matches!(app.modal, Some(Modal::Proposal(_))), "still asking");
    assert!(sent().is_empty());
    assert_eq!(app.ui.focus, Panel::Traffic);
}

#[test]
fn a_click_is_recorded_as_what_was_clicked_and_a_replay_filters_too() {
    use cutover::keymap::Keymap;
    use cutover::record::{Header, Writer};
    use cutover::replay::{Player, Viewer};
    let path = common::fresh_path("find", "clicks.jsonl");
    let (mut world, _) = demo(0);
    let mut app = cutover::app::App::new(world.app_config(), Keymap::default(), world.now());
    let mut writer = Writer::create(&path, &Header::new(&app, common::start(), (120, 32))).unwrap();
    for msg in world.initial().into_iter().chain(world.advance(cutover::domain::plus_secs(common::start(), 60))) {
        let _ = cutover::runtime::apply(&mut app, msg, Some(&mut writer));
    }
    let (x, y) = cell_of(&app, "batch/sidekiq-mailers");
    let _ =
        cutover::runtime::apply(&mut app, Msg::Mouse { kind: MouseKind::Click, column: x, row: y }, Some(&mut writer));
    // Off every panel (the header): nothing happens, nothing is recorded.
    let _ =
        cutover::runtime::apply(&mut app, Msg::Mouse { kind: MouseKind::Click, column: 0, row: 0 }, Some(&mut writer));
    writer.flush().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let clicks: Vec<&str> = text.lines().filter(|l| l.contains("Pointer") || l.contains("Mouse")).collect();
    assert_eq!(clicks.len(), 1, "{clicks:?}");
    assert!(clicks[0].contains("Pointer") && clicks[0].contains("Select"), "{}", clicks[0]);
    let row = app.visible_workload_keys().iter().position(|k| k.name == "sidekiq-mailers").unwrap();
    assert!(clicks[0].contains(&format!("\"row\":{row}")), "{}", clicks[0]);

    // In the replay, a word typed into the filter moves nothing in time:
    // `]` and `[` (marks) and space (pause) are typed, not acted on.
    let mut viewer = Viewer::new(Player::open(&path).unwrap(), Keymap::default(), false);
    let clock = viewer.clock;
    viewer.on_key(Key::char('/'));
    for c in "[ ]".chars() {
        viewer.on_key(Key::char(c));
    }
    assert_eq!(viewer.clock, clock);
    assert!(!viewer.paused);
    assert_eq!(viewer.ui.find.text(Listing::Workloads), "[ ]");
    viewer.on_key(key(KeyCode::Esc));
    for c in "mailers".chars() {
        viewer.on_key(Key::char(c));
    }
    assert_eq!(viewer.ui.find.text(Listing::Workloads), "", "Esc closed the line");
    viewer.on_key(Key::char('/'));
    for c in "mailers".chars() {
        viewer.on_key(Key::char(c));
    }
    viewer.on_key(key(KeyCode::Enter));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 32)).unwrap();
    terminal.draw(|f| viewer.render(f)).unwrap();
    let screen: String = terminal.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(screen.contains("batch/sidekiq-mailers") && !screen.contains("app/api "), "filtered in the replay");
}

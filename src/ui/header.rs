use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{AlarmKind, Mode, SourceId, SourceState, State};
use crate::domain::wheel::short_holder;
use crate::domain::{Fault, Side, Wheel, age, clock};
use crate::keymap::Action;

use super::{Shown, theme};

pub fn render<'a>(view: impl Into<Shown<'a>>, frame: &mut Frame, area: Rect) {
    use super::columns::{Col, line, width};
    let s = view.into();
    let app = s.app;
    let mode = app.config.mode;
    let badge =
        |text: String, bg: Color| Span::styled(text, Style::new().fg(Color::Black).bg(bg).add_modifier(Modifier::BOLD));
    let mode_text = match () {
        () if app.followed => format!(" FOLLOWING {} ", mode.label()),
        () if app.replay => format!(" REPLAY of {} ", mode.label()),
        () => format!(" {} ", mode.label()),
    };
    let clock = format!(" {} UTC ", clock(app.now));
    // Pieces of the first line, by what an operator needs first: where
    // this is, which mode, the time; then the clusters, then the title.
    let mut top: Vec<(Col, Vec<Span<'static>>)> = vec![
        (Col::fixed(10, 0), vec![badge(" cutover ".into(), theme::ACCENT), Span::raw(" ")]),
        (Col::fixed(width(&mode_text) + 2, 0), vec![badge(mode_text, Color::Yellow), Span::raw("  ")]),
    ];
    let title = app.config.title.clone();
    top.push((Col::text(8, width(&title) + 3, 4), vec![Span::styled(title, theme::title()), Span::raw("   ")]));
    for side in Side::BOTH {
        let meta = app.config.clusters.get(side);
        let spans = vec![
            Span::styled(format!("{side} "), theme::side(side).add_modifier(Modifier::BOLD)),
            Span::raw(meta.name.clone()),
        ];
        let want: u16 = spans.iter().map(|s| width(&s.content)).sum();
        top.push((Col::text(want.min(10), want, 2), spans));
        // A version is left out whole, never cut.
        if !meta.version.is_empty() {
            let version = format!(" ({})", meta.version);
            top.push((Col::fixed(width(&version), 5), vec![Span::raw(version)]));
        }
        if side == Side::Old {
            top.push((Col::fixed(5, 2), vec![Span::styled("  ⇢  ", theme::dim())]));
        }
    }
    let clock_width = width(&clock);
    let [left, right] = ratatui::layout::Layout::horizontal([
        ratatui::layout::Constraint::Min(0),
        ratatui::layout::Constraint::Length(clock_width),
    ])
    .areas(Rect { height: 1, ..area });
    // The clock is drawn in a place of its own at the right: never cut.
    frame.render_widget(Paragraph::new(line(top, left.width.saturating_sub(1))), left);
    frame.render_widget(Paragraph::new(Span::styled(clock, theme::title())), right);

    let banner = if app.followed {
        format!(
            " shared session of {}, followed from the broker: read-only, nothing here reaches a cluster ",
            app.operator
        )
    } else if app.replay {
        format!(" recorded session of {}: read-only, nothing here reaches a cluster ", app.operator)
    } else {
        format!(" {} ", mode.banner())
    };
    // The sources' states come first: a stale source changes what every
    // number on the screen means; the banner is cut to the rest.
    let mut second: Vec<(Col, Vec<Span<'static>>)> = Vec::new();
    for (id, state) in &app.sources {
        let (text, style) = match state {
            SourceState::Connecting => ("connecting".to_string(), Style::new().fg(Color::Gray)),
            // A watch is live until it fails; a poller's age says how old its data is.
            SourceState::Live { .. } if matches!(id, SourceId::Cluster(_) | SourceId::Simulator) => {
                ("live".to_string(), Style::new().fg(Color::Green))
            }
            SourceState::Live { last_ok } => (format!("{} ago", age(*last_ok, app.now)), Style::new().fg(Color::Green)),
            SourceState::Stale { since, fault: Fault::Throttled, .. } => (
                format!("THROTTLED, retrying ({} old)", app.sources_age(*id).unwrap_or_else(|| age(*since, app.now))),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            SourceState::Stale { since, error, .. } => (
                format!("STALE {} ({})", age(*since, app.now), theme::fit(error, 40)),
                Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
            ),
        };
        let stale = matches!(state, SourceState::Stale { .. });
        let spans =
            vec![Span::styled(format!("{}: ", id.label()), theme::dim()), Span::styled(text, style), Span::raw("  ")];
        let want: u16 = spans.iter().map(|s| width(&s.content)).sum();
        // A stale source's reason may be cut; its name and state never.
        let min = if stale { want.min(width(id.label()) + 18) } else { want };
        second.push((Col::text(min, want, if stale { 0 } else { 1 }), spans));
    }
    if let Some(piece) = risks_piece(app) {
        second.push(piece);
    }
    if let Some(share) = &app.share {
        use crate::domain::ShareState;
        let style = match share.state {
            ShareState::Live if share.lost == 0 => Style::new().fg(Color::Green),
            ShareState::Connecting | ShareState::Live => Style::new().fg(Color::Yellow),
            ShareState::Down(_) | ShareState::Refused(_) => {
                Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD)
            }
        };
        let text = share.text();
        let spans = vec![Span::styled("share: ", theme::dim()), Span::styled(text, style), Span::raw("  ")];
        let want: u16 = spans.iter().map(|s| width(&s.content)).sum();
        second.push((Col::text(want.min(24), want, 1), spans));
    }
    // Who drives comes before the banner: in `run`, it says whether this
    // console's keys act at all.
    let wheel = wheel_piece(s);
    let banner = match &wheel {
        Some((_, false)) if !app.replay => {
            format!(" not driving: {} is all that is taken from here ", s.keymap.label(Action::RevertAll))
        }
        _ => banner,
    };
    let banner_width = width(&banner) + 2;
    second.insert(
        0,
        (
            Col::text(12.min(banner_width), banner_width, 3),
            vec![Span::styled(banner, Style::new().fg(Color::Yellow)), Span::raw("  ")],
        ),
    );
    if let Some((piece, _)) = wheel {
        second.insert(0, piece);
    }
    let mut lines = vec![line(second, area.width)];
    lines.extend(keeping_lines(app));
    lines.extend(analysis_line(s, area.width));
    lines.extend(alarm_line(s));
    let below = Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area };
    frame.render_widget(Paragraph::new(lines), below);
}

/// The risks of the night, counted per side with the routes they touch:
/// `RISKS new 8 (api www)`, the list in each route's drill-down; `risks:
/// none` once the lifecycle was read and nothing was found.
fn risks_piece(app: &State) -> Option<(super::columns::Col, Vec<Span<'static>>)> {
    use super::columns::{Col, width};
    app.lifecycle.as_ref()?;
    if app.risks.is_empty() {
        let spans = vec![Span::styled("risks: none  ", theme::dim())];
        return Some((Col::fixed(width("risks: none  "), 6), spans));
    }
    let mut parts = Vec::new();
    for side in Side::BOTH {
        let of_side: Vec<_> = app.risks.iter().filter(|r| r.side == side).collect();
        if of_side.is_empty() {
            continue;
        }
        let mut routes: Vec<&str> = of_side.iter().filter_map(|r| r.route.as_deref()).collect();
        routes.dedup();
        parts.push(format!("{side} {} ({})", of_side.len(), routes.join(" ")));
    }
    let head = "RISKS ".to_string();
    let text = parts.join(", ");
    let want = width(&head) + width(&text) + 2;
    let spans = vec![
        Span::styled(head.clone(), Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)),
        Span::styled(text, Style::new().fg(Color::Yellow)),
        Span::raw("  "),
    ];
    Some((Col::text(width(&head) + 6, want, 2), spans))
}

/// Who holds the plan's wheel, as the header says it, and whether this
/// console drives; None without a Lease (the demo, older recordings).
fn wheel_piece(s: Shown) -> Option<((super::columns::Col, Vec<Span<'static>>), bool)> {
    use super::columns::{Col, width};
    let app = s.app;
    let state = app.wheel.as_ref()?;
    let driving = app.config.mode == Mode::Run;
    let take = if driving && !app.replay {
        format!(" · {} takes the wheel", s.keymap.label(Action::TakeWheel))
    } else {
        String::new()
    };
    let loud = |c: Color| Style::new().fg(c).add_modifier(Modifier::BOLD);
    let since = |s: &Option<jiff::Timestamp>| s.map(|s| format!(" since {}", clock(s))).unwrap_or_default();
    let (head, rest, style) = match &state.wheel {
        Wheel::Yours { since: s, failing: None, .. } => {
            let who = if app.replay { "this session's" } else { "yours" };
            (format!("wheel: {who}"), format!(" since {}", clock(*s)), Style::new().fg(Color::Green))
        }
        Wheel::Yours { failing: Some((renewed, _)), .. } => {
            ("wheel: yours, NOT RENEWED".to_string(), format!(" for {}", age(*renewed, app.now)), loud(Color::Yellow))
        }
        Wheel::Held { holder, since: s, .. } if driving => {
            (format!("WATCHING: {} drives", short_holder(holder)), format!("{}{take}", since(s)), loud(Color::LightRed))
        }
        Wheel::Held { holder, since: s, .. } => {
            (format!("wheel: {}", short_holder(holder)), since(s), Style::new().fg(Color::Yellow))
        }
        Wheel::Free { .. } if driving => ("WATCHING: nobody drives".to_string(), take, loud(Color::Yellow)),
        Wheel::Free { .. } => ("wheel: nobody".to_string(), String::new(), theme::dim()),
        Wheel::Lapsed { renewed, .. } => (
            "NOT DRIVING: lease not renewed".to_string(),
            format!(" for {}{take}", age(*renewed, app.now)),
            loud(Color::LightRed),
        ),
        Wheel::Unread { error } if driving => (
            "NOT DRIVING: lease unread".to_string(),
            format!(" ({}){take}", theme::fit(error, 30)),
            loud(Color::LightRed),
        ),
        Wheel::Unread { .. } => ("wheel: not known".to_string(), String::new(), theme::dim()),
    };
    let text = format!("{head}{rest}");
    let want = width(&text) + 2;
    let spans = vec![Span::styled(text, style), Span::raw("  ")];
    // Who drives is never cut below its head; the rest may be.
    Some(((Col::text(width(&head) + 2, want, 0), spans), app.drives()))
}

/// Lines the header needs: a third for the alarm banner when a singleton
/// runs where it must not.
pub fn height(app: &State) -> u16 {
    2 + u16::from(!app.alarms.is_empty()) + keeping_lines(app).len() as u16 + u16::from(armed(app).is_some())
}

/// What the plan arms to act without a key press, per route, and what
/// cannot see: (auto-revert routes, autopilot routes, blind routes).
type Armed = (Vec<String>, Vec<String>, Vec<(String, Timestamp)>);

fn armed(app: &State) -> Option<Armed> {
    use crate::domain::analysis::{Advance, OnFailure};
    let (mut revert, mut pilot, mut blind) = (Vec::new(), Vec::new(), Vec::new());
    for r in &app.routes {
        let Some(a) = &r.spec.analysis else { continue };
        if a.on_failure == OnFailure::Revert {
            revert.push(r.spec.name.clone());
        }
        if a.advance == Advance::Auto {
            // Said as it stands: a paused or stopped autopilot steps nothing.
            let state = if r.autopilot.paused {
                " paused"
            } else if r.autopilot.stopped.is_some() {
                " stopped"
            } else {
                ""
            };
            pilot.push(format!("{}{state}", r.spec.name));
        }
        if let Some(since) = r.blind {
            blind.push((r.spec.name.clone(), since));
        }
    }
    (!(revert.is_empty() && pilot.is_empty() && blind.is_empty())).then_some((revert, pilot, blind))
}

/// The line that says, from the start, what acts without a key press:
/// `AUTO-REVERT armed: api` and `AUTOPILOT: admin (c cancels, p pauses)`,
/// in a console that may act; what they would do, in one that may not;
/// and an analysis blind on stale metrics, loudest first.
fn analysis_line(s: Shown, width: u16) -> Option<Line<'static>> {
    use super::columns::{Col, line, width as w};
    let app = s.app;
    let (revert, pilot, blind) = armed(app)?;
    let acts = app.config.mode.can_act() && app.config.mode != crate::app::Mode::DryRun && !app.replay;
    let badge = Style::new().fg(Color::White).bg(Color::Magenta).add_modifier(Modifier::BOLD);
    let loud = Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD);
    let mut pieces: Vec<(Col, Vec<Span<'static>>)> = Vec::new();
    let mut piece = |spans: Vec<Span<'static>>, priority: u8| {
        let want: u16 = spans.iter().map(|s| w(&s.content)).sum();
        pieces.push((Col::fixed(want, priority), spans));
    };
    for (route, since) in &blind {
        piece(
            vec![
                Span::styled(format!(" ANALYSIS BLIND on {route} for {} ", age(*since, app.now)), loud),
                Span::raw(" "),
            ],
            0,
        );
    }
    if !revert.is_empty() {
        piece(vec![Span::styled(format!(" AUTO-REVERT armed: {} ", revert.join(", ")), badge), Span::raw(" ")], 0);
    }
    if !pilot.is_empty() {
        let keys = format!(
            " ({} cancels, {} pauses)",
            s.keymap.label(Action::AutopilotCancel),
            s.keymap.label(Action::AutopilotPause)
        );
        let mut spans = vec![Span::styled(format!(" AUTOPILOT: {} ", pilot.join(", ")), badge)];
        if acts {
            spans.push(Span::styled(keys, Style::new().fg(Color::Magenta)));
        }
        spans.push(Span::raw(" "));
        piece(spans, 1);
    }
    let armed_any = !(revert.is_empty() && pilot.is_empty());
    if !acts && armed_any {
        let why = if app.replay {
            "as armed in the driver's console"
        } else {
            "acts only where `cutover run` drives: here it says what it would do"
        };
        piece(vec![Span::styled(why.to_string(), theme::dim())], 2);
    }
    Some(line(pieces, width))
}

/// A path in at most `width` characters, its end kept: the file's name
/// says more than its first directories.
fn tail(path: &str, width: usize) -> String {
    let n = path.chars().count();
    if n <= width {
        return path.to_string();
    }
    let kept: String = path.chars().skip(n - width.saturating_sub(1)).collect();
    format!("…{kept}")
}

/// The banners of what the session cannot keep and how it is stopping,
/// one line each: a signal being honoured, a recording that cannot be
/// written, a handoff state file that cannot be, a handoff another console
/// left in flight. The words that matter come first, so a narrow screen
/// cuts only where and since when.
fn keeping_lines(app: &State) -> Vec<Line<'static>> {
    let alarm = Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD);
    let detail = Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD);
    let mut lines = Vec::new();
    if let Some(s) = &app.stopping {
        lines.push(Line::from(vec![
            Span::styled(format!(" STOPPING on {} ", s.signal.name()), alarm),
            Span::styled(format!(" exits by {} at the latest", clock(s.until)), detail),
        ]));
    }
    if let Some(t) = &app.keeping.recording {
        let held = match &app.held {
            Some(h) if h.dropped > 0 => format!(" {} lines held in memory, {} DROPPED", h.lines, h.dropped),
            Some(h) => format!(" {} lines held in memory", h.lines),
            None => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" NOT RECORDING: {} ", t.error), alarm),
            Span::styled(format!("{held} ({}) since {}", tail(&t.path, 32), clock(t.since)), detail),
        ]));
    }
    if let Some(t) = &app.keeping.state_file {
        lines.push(Line::from(vec![
            Span::styled(format!(" HANDOFF STATE NOT KEPT: {} ", t.error), alarm),
            Span::styled(format!(" {}: a handoff needs the typed override", tail(&t.path, 40)), detail),
        ]));
    }
    if let Some(left) = &app.keeping.left {
        lines.push(Line::from(vec![
            Span::styled(format!(" HANDOFF LEFT IN FLIGHT ({}) ", clock(left.saved_at)), alarm),
            Span::styled(format!(" {}; `cutover run` picks it up", left.handoff.state_text()), detail),
        ]));
    }
    lines
}

/// The alarm banner: every singleton that runs on neither side or on
/// both, for how long, and the key that proposes the fix.
fn alarm_line(s: Shown) -> Option<Line<'static>> {
    let app = s.app;
    if app.alarms.is_empty() {
        return None;
    }
    let style = Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD);
    let mut spans = vec![Span::styled(" ‼ SINGLETON ALARM ", style)];
    for (name, alarm) in &app.alarms {
        let what = match alarm.kind {
            AlarmKind::Neither => "runs on NEITHER side",
            AlarmKind::Both => "runs on BOTH sides",
        };
        spans.push(Span::styled(
            format!(" {name} {what} for {} ", age(alarm.since, app.now)),
            Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    spans.push(Span::styled(
        format!("  select it and press {} for the fix", s.keymap.label(Action::Handoff)),
        Style::new().fg(Color::LightRed),
    ));
    Some(Line::from(spans))
}

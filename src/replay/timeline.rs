//! The replay's timeline: where the clock is in the recording, the marks
//! along it, and the state of playback.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::MarkClass;
use crate::domain::clock;
use crate::keymap::ReplayAction;
use crate::share::read::{Link, LinkState};
use crate::ui::theme;

use super::{SPEEDS, Viewer, to_timestamp};

fn glyph(class: MarkClass) -> (&'static str, Style) {
    match class {
        MarkClass::Action => ("◆", Style::new().fg(Color::Cyan)),
        MarkClass::Refusal => ("✖", Style::new().fg(Color::Magenta)),
        MarkClass::Incident => ("▲", Style::new().fg(Color::LightRed)),
    }
}

/// `+1:02:03` from the start.
fn offset(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("+{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("+{}:{:02}", s / 60, s % 60)
    }
}

/// A followed session's state, as the timeline's first words: the style
/// and text, and the sentence for the line below when something is wrong.
fn link_words(viewer: &Viewer, link: &Link) -> (Style, String, Option<String>) {
    let (_, end) = viewer.player.span();
    let as_of = clock(to_timestamp(end));
    match link.state(Instant::now()) {
        LinkState::Stale { silent } => (
            Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD),
            format!("STALE {}s", silent.as_secs()),
            Some(format!(
                "STALE: nothing from the publisher for {} s (it or the broker is gone); the screen is as of {as_of} UTC and goes on when they are back{}",
                silent.as_secs(),
                link.error.as_ref().map(|e| format!(" · {e}")).unwrap_or_default()
            )),
        ),
        LinkState::Ended { at } => (
            Style::new().fg(Color::Black).bg(Color::Gray),
            "ENDED".into(),
            Some(format!("the session ended at {} UTC: what it showed stays here to look back at", clock(at))),
        ),
        _ if !viewer.at_live_end() => (
            Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD),
            format!("{} behind", offset(end - viewer.clock).trim_start_matches('+')),
            None,
        ),
        LinkState::CatchingUp { behind } => (
            Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD),
            format!("catching up {behind}"),
            None,
        ),
        LinkState::Live { delay } => (
            Style::new().fg(Color::Black).bg(Color::Green).add_modifier(Modifier::BOLD),
            match delay {
                Some(d) => format!("● LIVE {:.1}s", d.as_secs_f64()),
                None => "● LIVE".into(),
            },
            None,
        ),
    }
}

pub fn render(viewer: &Viewer, frame: &mut Frame, area: Rect) {
    let (start, end) = viewer.player.span();
    let link = viewer.link();
    let state = if viewer.paused { "▮▮ paused".to_string() } else { format!("▶ {}x", SPEEDS[viewer.speed]) };
    let follow = if viewer.follow && link.is_none() { " follow" } else { "" };
    let (label, state, trouble) = match &link {
        Some(link) => {
            let (style, words, trouble) = link_words(viewer, link);
            // The publisher's own backlog: what it has not got to the broker.
            let publisher = link.publisher().map(|p| format!(" ({p})")).unwrap_or_default();
            (style, format!("{words}{publisher} {state}"), trouble)
        }
        None => (Style::new().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD), state, None),
    };
    let gap = viewer.player.gap_line().map(|(t, gap)| match gap.local {
        true => format!(
            "{} lines could not be recorded before {} UTC (the recording could not be written and memory ran out): the screen is as of then until the next keyframe",
            gap.lines,
            clock(to_timestamp(t))
        ),
        false => format!(
            "{} lines were lost on the way to the broker at {} UTC: the screen is as of then until the publisher's next keyframe",
            gap.lines,
            clock(to_timestamp(t))
        ),
    });
    let left = format!(" {state:<9}{follow} {} UTC ", clock(to_timestamp(viewer.clock)));
    let right = format!(" {} / {} ", offset(viewer.clock - start), offset(end - start));
    let width = (area.width as usize).saturating_sub(left.chars().count() + right.chars().count()).max(10);

    // One cell per slice of the recording: a mark's glyph where it falls
    // (incidents over refusals over actions), the clock as a bright bar.
    let span = (end - start).max(1);
    let cell = |t: i64| (((t - start).clamp(0, span) as i128 * (width as i128 - 1)) / span as i128) as usize;
    let mut cells: Vec<Option<MarkClass>> = vec![None; width];
    for (t, mark) in viewer.player.marks() {
        let c = cell(*t);
        let class = mark.class();
        if cells[c].is_none_or(|old| class > old) {
            cells[c] = Some(class);
        }
    }
    let cursor = cell(viewer.clock);
    let mut bar = vec![Span::styled(left, label)];
    for (i, class) in cells.iter().enumerate() {
        let (text, style) = match class {
            Some(c) => glyph(*c),
            None => ("─", theme::dim()),
        };
        let style = if i == cursor { style.bg(Color::White).fg(Color::Black) } else { style };
        let text = if i == cursor && class.is_none() { "┃" } else { text };
        bar.push(Span::styled(text, style));
    }
    bar.push(Span::styled(right, theme::title()));

    let status = if let Some(text) = &viewer.goto {
        Line::from(vec![
            Span::styled(" go to (HH:MM[:SS] UTC): ", theme::title()),
            Span::raw(text.clone()),
            Span::styled("▏ enter goes, esc cancels", theme::dim()),
        ])
    } else if let Some(text) = trouble.as_ref().or(gap.as_ref()) {
        Line::from(Span::styled(format!(" {text}"), Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD)))
    } else if let Some(text) = &viewer.status {
        Line::from(Span::styled(format!(" {text}"), Style::new().fg(Color::Yellow)))
    } else if let Some((_, damaged)) = &viewer.player.damaged {
        Line::from(Span::styled(format!(" the recording stops early: {damaged}"), Style::new().fg(Color::LightRed)))
    } else if let Some(stopped) = &viewer.player.index.stopped
        && viewer.clock >= end
        && !viewer.follow
    {
        Line::from(Span::styled(format!(" the recording stops early: {stopped}"), Style::new().fg(Color::LightRed)))
    } else {
        let mut spans = Vec::new();
        // Arrows as arrows: the hint line is short.
        let first = |a: ReplayAction| {
            let key = viewer.keymap.replay_keys(a).first().map_or("unbound".into(), |k| k.to_string());
            key.replace("shift-", "⇧").replace("left", "←").replace("right", "→")
        };
        let pair = |a: ReplayAction, b: ReplayAction| format!("{} {}", first(a), first(b));
        for (keys, text) in [
            (first(ReplayAction::PlayPause), "pause"),
            (pair(ReplayAction::Slower, ReplayAction::Faster), "speed"),
            (pair(ReplayAction::Back, ReplayAction::Forward), "10s"),
            (pair(ReplayAction::BackMinute, ReplayAction::ForwardMinute), "1m"),
            (pair(ReplayAction::PrevMark, ReplayAction::NextMark), "marks"),
            (first(ReplayAction::GotoTime), "go to"),
        ]
        .into_iter()
        .chain(link.is_some().then(|| (first(ReplayAction::Live), "live")))
        {
            spans.push(Span::styled(format!(" {keys} "), theme::key_hint()));
            spans.push(Span::styled(format!(" {text}  "), theme::dim()));
        }
        for (class, text) in
            [(MarkClass::Action, "action"), (MarkClass::Refusal, "refused/failed"), (MarkClass::Incident, "drain/5xx")]
        {
            let (g, style) = glyph(class);
            spans.push(Span::styled(format!("{g} "), style));
            spans.push(Span::styled(format!("{text}  "), theme::dim()));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(vec![Line::from(bar), status]), area);
    theme::strip_colour(frame.buffer_mut(), area);
}

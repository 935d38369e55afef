//! Node signals, warnings and (later) operator actions, newest first.
//! Long lines wrap under their text, so nothing an operator needs is cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use crate::app::{EventEntry, Listing, Panel, View};
use crate::domain::clock;

use super::{Shown, theme};

/// `HH:MM:SS new ▲ `: what stands before the text.
const PREFIX: usize = 15;

pub fn render<'a>(view: impl Into<Shown<'a>>, frame: &mut Frame, area: Rect) {
    let s = view.into();
    let app = s.app;
    let focused = s.ui.focus == Panel::Events && s.ui.view == View::Main;
    let events = app.visible_events(&s.ui.find);
    let block = theme::panel(focused).title(Line::from(
        [Span::styled(" Events ", theme::title())]
            .into_iter()
            .chain(super::find::title_spans(s.ui, Listing::Events, events.len(), app.events.len()))
            .chain([Span::styled("newest first ", theme::dim())])
            .collect::<Vec<_>>(),
    ));
    let width = (area.width as usize).saturating_sub(2 + PREFIX).max(10);
    // An item taller than the panel would not be drawn at all (a list
    // draws whole items): cut to the panel, so the newest is always seen.
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let items: Vec<ListItem> = events.iter().map(|e| item(e, width, rows)).collect();
    let heights: Vec<u16> = items.iter().map(|i| i.height() as u16).collect();
    let empty = items.is_empty();
    let list = List::new(items).block(block).highlight_style(if focused { theme::selected() } else { Style::new() });
    let selected = s.ui.selected[Panel::Events.index()].min(events.len().saturating_sub(1));
    let mut state = ListState::default().with_selected((!empty).then_some(selected));
    frame.render_stateful_widget(list, area, &mut state);
    let mut screen = s.screen.0.borrow_mut();
    screen.panel(Panel::Events, area);
    let body = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    screen.rows(Panel::Events, body, state.offset(), heights.into_iter().skip(state.offset()));
}

fn item(e: &EventEntry, width: usize, rows: usize) -> ListItem<'static> {
    let side = match e.side {
        Some(s) => Span::styled(format!("{:<4}", s.label()), theme::side(s)),
        None => Span::raw("    "),
    };
    let style = theme::level(e.level);
    let mut chunks = wrap(&e.text, width);
    if chunks.len() > rows {
        chunks.truncate(rows);
        if let Some(last) = chunks.last_mut() {
            let keep = width.saturating_sub(1).min(last.chars().count());
            *last = last.chars().take(keep).collect::<String>() + "…";
        }
    }
    let mut chunks = chunks.into_iter();
    let first = chunks.next().unwrap_or_default();
    let mut lines = vec![Line::from(vec![
        Span::styled(clock(e.at), theme::dim()),
        Span::raw(" "),
        side,
        Span::styled(format!("{} ", theme::level_symbol(e.level)), style),
        Span::styled(first, style),
    ])];
    lines.extend(chunks.map(|c| Line::from(vec![Span::raw(" ".repeat(PREFIX)), Span::styled(c, style)])));
    ListItem::new(lines)
}

/// Greedy word wrap; a word longer than the width is split.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: String = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        let needed =
            if line.is_empty() { word.chars().count() } else { line.chars().count() + 1 + word.chars().count() };
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    /// A line taller than the panel is cut to it, ending in `…`, rather
    /// than not drawn at all.
    #[test]
    fn an_event_taller_than_the_panel_is_cut_to_it() {
        let e = crate::app::EventEntry {
            at: jiff::Timestamp::UNIX_EPOCH,
            side: None,
            level: crate::app::Level::Alert,
            text: "one two three four five six seven eight nine ten".into(),
            effect: None,
        };
        assert_eq!(super::item(&e, 10, 2).height(), 2);
        assert_eq!(super::item(&e, 10, 20).height(), 6);
    }

    #[test]
    fn wraps_on_words_and_splits_long_ones() {
        assert_eq!(wrap("node ip-10-1-2-3 (spot): cordoned", 16), vec!["node ip-10-1-2-3", "(spot): cordoned"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
    }
}

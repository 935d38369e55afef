//! What narrows a table, said in its title: the filter (with a cursor
//! while it is typed), "problems only", the sort, and how many rows of how
//! many are shown, so a filtered table never passes for the whole.

use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

use crate::app::{Listing, Sort, UiState};

use super::theme;

/// Spans for a table's title after its name: `12/500 /mail▏ !problems sort:health`.
pub fn title_spans(ui: &UiState, table: Listing, shown: usize, total: usize) -> Vec<Span<'static>> {
    let find = &ui.find;
    let mut spans = Vec::new();
    let narrowed = find.narrows(table);
    spans.push(if narrowed && shown != total {
        Span::styled(format!("{shown}/{total} "), Style::new().add_modifier(Modifier::BOLD))
    } else {
        Span::styled(format!("{total} "), theme::dim())
    });
    let text = find.text(table);
    if find.editing == Some(table) {
        spans.push(Span::styled(format!("/{text}▏"), Style::new().add_modifier(Modifier::REVERSED)));
        spans.push(Span::styled(" Enter keep · Esc clear ", theme::dim()));
    } else if !text.is_empty() {
        spans.push(Span::styled(format!("/{text} "), Style::new().add_modifier(Modifier::BOLD)));
    }
    if find.problems_only {
        spans.push(Span::styled("!problems ", Style::new().add_modifier(Modifier::BOLD)));
    }
    if find.sort != Sort::Name && table != Listing::Events {
        spans.push(Span::styled(format!("sort:{} ", find.sort.label()), theme::dim()));
    }
    spans
}

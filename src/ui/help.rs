//! The help overlay: what `app::help` says (every key of the active
//! keymap, then every mark the screen draws), drawn. It scrolls when the
//! screen is short.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub use crate::app::help::GLYPHS;
use crate::app::help::{HEALTH, Help, KeyLine};
use crate::keymap::Action;

use super::{Shown, theme};

/// The widest the overlay is drawn.
const WIDTH: u16 = 120;
/// Width of the key column.
const KEYS: usize = 14;
/// Below this inner width, keys and legend are one column.
const TWO_COLUMNS: u16 = 110;

/// A key and what it does, the key right-aligned in its column.
fn key_line(line: &KeyLine) -> Line<'static> {
    let style = if line.unavailable { theme::dim() } else { Style::new() };
    Line::from(vec![
        Span::styled(format!("{:>KEYS$}  ", theme::fit(&line.keys, KEYS)), Style::new().fg(theme::ACCENT)),
        Span::styled(line.text.clone(), style),
    ])
}

/// The keys: the keymap's layers, then one line per action.
fn keys(help: &Help) -> Vec<Line<'static>> {
    let mut keys = vec![Line::from(Span::styled(format!("keymap: {}", help.layers), theme::dim()))];
    keys.extend(help.keys.iter().map(key_line));
    keys
}

/// A replay's own keys, first: what a replay's viewer presses most.
fn replay_keys(help: &Help) -> Vec<Line<'static>> {
    let Some(replay) = &help.replay else { return Vec::new() };
    let mut lines = vec![Line::from(Span::styled("replay keys", theme::title()))];
    lines.extend(replay.iter().map(key_line));
    lines.push(Line::raw(""));
    lines
}

/// How to read the screen: health, then every glyph.
fn legend() -> Vec<Line<'static>> {
    let mut legend = vec![Line::from(Span::styled("reading the screen", theme::title()))];
    for (h, text) in HEALTH {
        legend.push(Line::from(vec![
            Span::styled(format!("{:>KEYS$}  ", theme::health_symbol(h)), theme::health(h)),
            Span::raw(text),
        ]));
    }
    for (symbol, text) in GLYPHS {
        legend.push(Line::from(vec![
            Span::styled(format!("{symbol:>KEYS$}  "), Style::new().fg(theme::ACCENT)),
            Span::raw(text),
        ]));
    }
    legend
}

pub fn render(s: Shown, frame: &mut Frame, area: Rect) {
    let help = Help::of(s.keymap, s.app.can_act(), s.app.replay);
    let replay = replay_keys(&help);
    let keys = keys(&help);
    let legend = legend();
    let width = WIDTH.min(area.width);
    let inner_width = width.saturating_sub(2);
    let right = replay.len() + legend.len();
    let two = inner_width >= TWO_COLUMNS && keys.len().max(right) as u16 + 2 <= area.height;
    let content = if two { keys.len().max(right) } else { replay.len() + keys.len() + 1 + legend.len() };
    let height = (content as u16 + 2).min(area.height);
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    let visible = usize::from(height.saturating_sub(2));
    let scroll = s.ui.help_scroll.min(content.saturating_sub(visible));
    let km = s.keymap;
    let hint = if content > visible {
        format!(
            " {}-{} of {}: {}/{} {}/{} {}/{} scroll · {} closes ",
            scroll + 1,
            scroll + visible,
            content,
            km.label(Action::Up),
            km.label(Action::Down),
            km.label(Action::PageUp),
            km.label(Action::PageDown),
            km.label(Action::Top),
            km.label(Action::Bottom),
            km.label(Action::Help)
        )
    } else {
        format!(" {} closes ", km.label(Action::Help))
    };
    let block = theme::panel(true)
        .title(Span::styled(" help ", theme::title()))
        .title_bottom(Span::styled(hint, theme::dim()))
        .border_style(Style::new().fg(theme::ACCENT));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if two {
        let [left, right] = Layout::horizontal([Constraint::Length(60), Constraint::Min(20)]).areas(inner);
        frame.render_widget(Paragraph::new(keys), left);
        frame.render_widget(Paragraph::new([replay, legend].concat()), right);
    } else {
        let mut lines = replay;
        lines.extend(keys);
        lines.push(Line::raw(""));
        lines.extend(legend);
        // Lines are cut, not wrapped, so the scroll counts lines as drawn.
        let lines: Vec<Line> = lines.into_iter().skip(scroll).take(visible).collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::Keymap;

    /// The reducer clamps the help's scroll to `app::help::line_count`
    /// without drawing it: the drawing has as many lines, in a replay or
    /// not, whatever the keys.
    #[test]
    fn the_help_drawn_in_one_column_has_the_lines_the_reducer_counts() {
        for keymap in [Keymap::default(), Keymap::load(Some("vim")).expect("the vim keymap")] {
            for replay in [false, true] {
                let help = Help::of(&keymap, false, replay);
                let drawn = replay_keys(&help).len() + keys(&help).len() + 1 + legend().len();
                assert_eq!(drawn, crate::app::help::line_count(replay), "replay: {replay}");
            }
        }
    }
}

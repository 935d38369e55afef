//! Colours and the few formatting rules every panel shares.
//!
//! Health is told apart by colour and by a symbol, so a colour-blind
//! operator or a monochrome screenshot still reads it.

use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType};

use crate::app::Level;
use crate::domain::{Health, Side};

pub const OLD: Color = Color::LightBlue;
pub const NEW: Color = Color::LightMagenta;
pub const DIM: Color = Color::DarkGray;
pub const ACCENT: Color = Color::Cyan;

/// Target 5xx share above which a side reads degraded, and failing.
pub const ERROR_WARN: f64 = 0.01;
pub const ERROR_ALERT: f64 = 0.05;

/// Whether colour is off (https://no-color.org). Read once at start-up;
/// a render test sets it for its own process.
static NO_COLOR: AtomicBool = AtomicBool::new(false);

/// `NO_COLOR` set and not empty.
pub fn no_color_from_env() -> bool {
    no_color_in(std::env::var_os("NO_COLOR").as_deref())
}

/// The value of `NO_COLOR`, if set: any but the empty string turns colour off.
pub fn no_color_in(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

pub fn set_no_color(on: bool) {
    NO_COLOR.store(on, Ordering::Relaxed);
}

pub fn no_color() -> bool {
    NO_COLOR.load(Ordering::Relaxed)
}

/// The one place colour is taken away: every cell drawn in `area` loses
/// its colours, and a cell that stood on a background (the selection, key
/// hints, badges, the alarm) is drawn in reverse video instead, so what a
/// background told apart stays apart.
pub fn strip_colour(buf: &mut Buffer, area: Rect) {
    if !no_color() {
        return;
    }
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buf[(x, y)];
            if cell.bg != Color::Reset {
                cell.modifier.insert(Modifier::REVERSED);
            }
            cell.fg = Color::Reset;
            cell.bg = Color::Reset;
        }
    }
}

/// A panel's frame: the focused one in the accent colour, and without
/// colour in double lines with a marker before its title.
pub fn panel(focused: bool) -> Block<'static> {
    let block = Block::bordered().border_style(focused_border(focused));
    match (focused, no_color()) {
        (true, true) => block.border_type(BorderType::Double).title("▶"),
        _ => block,
    }
}

pub fn side(side: Side) -> Style {
    Style::new().fg(match side {
        Side::Old => OLD,
        Side::New => NEW,
    })
}

pub fn health(h: Health) -> Style {
    Style::new().fg(match h {
        Health::Idle => Color::Gray,
        Health::Healthy => Color::Green,
        Health::Degraded => Color::Yellow,
        Health::Failing => Color::LightRed,
    })
}

pub fn health_symbol(h: Health) -> &'static str {
    match h {
        Health::Idle => "○",
        Health::Healthy => "●",
        Health::Degraded => "◐",
        Health::Failing => "✖",
    }
}

pub fn level(l: Level) -> Style {
    match l {
        Level::Info => Style::new().fg(Color::Gray),
        Level::Warn => Style::new().fg(Color::Yellow),
        Level::Alert => Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
    }
}

pub fn level_symbol(l: Level) -> &'static str {
    match l {
        Level::Info => "·",
        Level::Warn => "▲",
        Level::Alert => "✖",
    }
}

pub fn error_health(rate: f64) -> Health {
    if rate >= ERROR_ALERT {
        Health::Failing
    } else if rate >= ERROR_WARN {
        Health::Degraded
    } else {
        Health::Healthy
    }
}

pub fn dim() -> Style {
    Style::new().fg(DIM)
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn focused_border(focused: bool) -> Style {
    match (focused, no_color()) {
        (true, true) => Style::new().add_modifier(Modifier::BOLD),
        (true, false) => Style::new().fg(ACCENT),
        (false, _) => Style::new().fg(Color::Gray),
    }
}

/// The selected row: a background band that keeps each cell's own colour
/// readable (reversing would turn every health colour into a background).
pub fn selected() -> Style {
    Style::new().bg(Color::Indexed(238)).add_modifier(Modifier::BOLD)
}

/// A key in the footer hints.
pub fn key_hint() -> Style {
    Style::new().fg(Color::Black).bg(Color::Gray)
}

/// `1,234`, for counts an operator compares by eye.
pub fn count(value: f64) -> String {
    let n = value.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A share as a percentage with the precision error rates need.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 10.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// Cuts `text` to `width` characters, marking the cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `tag` in `width` cells with the part where it differs from `other`
/// highlighted: when it must be cut, the cut keeps the difference and
/// marks what it left out (`…11.2` against `…11.3`, never `r2026.11.…`
/// on both sides).
pub fn tag_diff(tag: &str, other: &str, width: usize) -> Vec<Span<'static>> {
    let a: Vec<char> = tag.chars().collect();
    let b: Vec<char> = other.chars().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    let suffix = suffix.min(a.len().min(b.len()) - prefix);
    let (d0, d1) = (prefix, a.len() - suffix);
    // Cells a window of the tag takes with its marks.
    let cost = |start: usize, end: usize| end - start + usize::from(start > 0) + usize::from(end < a.len());
    let (mut start, mut end) = (d0, d1);
    if width == 0 {
        return Vec::new();
    }
    if cost(start, end) > width {
        // The difference alone is wider: its beginning.
        end = start + width.saturating_sub(usize::from(start > 0) + 1).max(1).min(end - start);
    } else {
        // The rest of the tag after it (usually short), then before it.
        while end < a.len() && cost(start, end + 1) <= width {
            end += 1;
        }
        while start > 0 && cost(start - 1, end) <= width {
            start -= 1;
        }
    }
    let text = |from: usize, to: usize| a[from.min(to)..to].iter().collect::<String>();
    let plain = Style::new().fg(Color::Yellow);
    let marked = plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let mut spans = Vec::new();
    if start > 0 {
        spans.push(Span::styled("…", dim()));
    }
    spans.push(Span::styled(text(start, d0.max(start)), plain));
    spans.push(Span::styled(text(d0.max(start), d1.min(end)), marked));
    spans.push(Span::styled(text(d1.min(end), end), plain));
    if end < a.len() {
        spans.push(Span::styled("…", dim()));
    }
    spans.retain(|s| !s.content.is_empty());
    spans
}

/// Images without the registry they all share, when that saves room
/// (`123456789012.dkr.ecr.us-east-1.amazonaws.com/` before every one).
/// Returns the prefix left out, if any.
pub fn elide_registry<'a>(images: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut common: Option<&str> = None;
    for image in images {
        let (registry, _) = image.split_once('/')?;
        // A registry is a host: `docker.io/library/x` or `123.dkr.ecr…`.
        if !(registry.contains('.') || registry.contains(':') || registry == "localhost") {
            return None;
        }
        match common {
            Some(c) if c != registry => return None,
            _ => common = Some(registry),
        }
    }
    common.map(|c| format!("{c}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_percentages_read_well() {
        assert_eq!(count(1214.4), "1,214");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(1_000_000.0), "1,000,000");
        assert_eq!(percent(0.0021), "0.21%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.253), "25.3%");
        assert_eq!(fit("sidekiq-default", 8), "sidekiq…");
        assert_eq!(fit("api", 8), "api");
    }

    fn text(spans: &[Span<'_>]) -> String {
        spans.iter().map(|s| s.content.to_string()).collect()
    }

    #[test]
    fn a_drifted_tag_keeps_the_part_that_differs() {
        assert_eq!(text(&tag_diff("v2026.11.2", "v2026.11.3", 20)), "v2026.11.2");
        let marked = tag_diff("v2026.11.2", "v2026.11.3", 20);
        assert!(marked.iter().any(|s| s.content == "2" && s.style.add_modifier.contains(Modifier::UNDERLINED)));
        assert_eq!(text(&tag_diff("v2026.11.2", "v2026.11.3", 6)), "….11.2");
        assert_eq!(text(&tag_diff("r2026.11.04-a1b2", "r2026.11.04-c3d4", 8)), "…04-a1b2");
        assert_eq!(text(&tag_diff("r2026.11.04-a1b2", "r2026.11.05-a1b2", 8)), "…04-a1b2");
        assert_eq!(text(&tag_diff("abcdefgh", "zyxwvuts", 4)), "abc…");
    }

    #[test]
    fn no_color_is_read_as_no_color_org_says() {
        assert!(!no_color_in(None));
        assert!(!no_color_in(Some("".as_ref())), "empty is as good as unset");
        assert!(no_color_in(Some("1".as_ref())));
        assert!(no_color_in(Some("false".as_ref())), "any value at all");
    }

    #[test]
    fn only_a_registry_every_image_shares_is_left_out() {
        let ecr = [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app/api:v1",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app/web:v2",
        ];
        assert_eq!(elide_registry(ecr).as_deref(), Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/"));
        assert_eq!(elide_registry(["nginx:1.27", "docker.io/x:1"]), None);
        assert_eq!(elide_registry(["a.io/x:1", "b.io/x:1"]), None);
    }
}

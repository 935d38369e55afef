//! Colours and the few formatting rules every panel shares.
//!
//! Health is told apart by colour and by a symbol, so a colour-blind
//! operator or a monochrome screenshot still reads it.

use ratatui::style::{Color, Modifier, Style};

use crate::app::Level;
use crate::domain::{Health, Side};

pub const OLD: Color = Color::LightBlue;
pub const NEW: Color = Color::LightMagenta;
pub const DIM: Color = Color::DarkGray;
pub const ACCENT: Color = Color::Cyan;

/// Target 5xx share above which a side reads degraded, and failing.
pub const ERROR_WARN: f64 = 0.01;
pub const ERROR_ALERT: f64 = 0.05;

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
    if focused { Style::new().fg(ACCENT) } else { Style::new().fg(Color::Gray) }
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
}

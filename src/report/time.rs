//! The report's times: RFC 3339 in UTC to the millisecond in JSON, whatever
//! precision the recording had, and the window `--from`/`--to` ask for.

use jiff::Timestamp;

use super::Window;
use crate::domain::clock;

/// `2026-11-25T14:03:00.000Z`: one precision for every time, so tools can
/// compare them as text.
pub fn text(at: Timestamp) -> String {
    format!("{:.3}", at.round(jiff::Unit::Millisecond).unwrap_or(at))
}

pub mod rfc3339 {
    use jiff::Timestamp;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::text(*at))
    }
}

pub mod rfc3339_option {
    use jiff::Timestamp;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(at: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_str(&super::text(*at)),
            None => s.serialize_none(),
        }
    }
}

/// The part of a session to report, as the operator typed it: RFC 3339, or
/// `HH:MM[:SS]` UTC on whichever day of the recording has it.
#[derive(Debug, Clone, Default)]
pub struct Span {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The window `span` asks for within the whole recording.
pub fn window(whole: Window, earliest: Timestamp, span: &Span) -> Result<Window, String> {
    let bounds = (earliest.min(whole.from).as_millisecond(), whole.to.as_millisecond());
    let from = span.from.as_deref().map(|t| parse("--from", t, bounds)).transpose()?;
    let to = span.to.as_deref().map(|t| parse("--to", t, bounds)).transpose()?;
    let window =
        Window { from: from.unwrap_or(whole.from), to: to.unwrap_or(whole.to), whole: from.is_none() && to.is_none() };
    if !window.whole && window.from >= window.to {
        return Err(format!(
            "--from {} is not before --to {}: the window would be empty",
            clock(window.from),
            clock(window.to)
        ));
    }
    Ok(window)
}

fn parse(flag: &str, text: &str, (start, end): (i64, i64)) -> Result<Timestamp, String> {
    let outside = || {
        format!(
            "{flag} {text} is outside the recording, which runs from {} to {} UTC",
            super::doc::day_time(ms(start)),
            super::doc::day_time(ms(end))
        )
    };
    if text.contains('T') || text.contains('-') {
        let at: Timestamp = text.parse().map_err(|e| {
            format!("{flag} `{text}` is not an RFC 3339 time ({e}): give 2026-11-25T14:05:00Z, or HH:MM[:SS] in UTC")
        })?;
        let t = at.as_millisecond();
        if t < start - 999 || t > end {
            return Err(outside());
        }
        return Ok(at.max(ms(start)));
    }
    crate::domain::parse_time_of_day(text, (start, end))
        .map(ms)
        .map_err(|e| format!("{flag}: {e}; or give an RFC 3339 time such as 2026-11-25T14:05:00Z"))
}

fn ms(t: i64) -> Timestamp {
    Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

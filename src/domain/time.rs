use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// A whole UTC minute, counted from the Unix epoch: the bucket of every
/// CloudWatch-style datapoint (period 60 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Minute(pub i64);

impl Minute {
    /// The minute that contains `at`.
    pub fn containing(at: Timestamp) -> Minute {
        Minute(at.as_second().div_euclid(60))
    }

    pub fn start(self) -> Timestamp {
        Timestamp::from_second(self.0 * 60).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    pub fn offset(self, minutes: i64) -> Minute {
        Minute(self.0 + minutes)
    }
}

/// `HH:MM:SS` in UTC: cutovers span teams and time zones, and a postmortem
/// compares our clock with CloudTrail and CloudWatch, which speak UTC.
pub fn clock(at: Timestamp) -> String {
    at.strftime("%H:%M:%S").to_string()
}

/// `HH:MM` in UTC.
pub fn clock_minute(at: Timestamp) -> String {
    at.strftime("%H:%M").to_string()
}

/// A short human age: `42s`, `7m`, `3h`, `2d`.
pub fn age(since: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second().saturating_sub(since.as_second()).max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

/// Adds whole seconds to a timestamp, saturating instead of failing: the
/// simulator and tests move time in small steps far from the limits.
pub fn plus_secs(at: Timestamp, secs: i64) -> Timestamp {
    at.checked_add(secs.seconds()).unwrap_or(at)
}

/// `HH:MM` or `HH:MM:SS` in UTC, on whichever day of the span `start` to
/// `end` (unix ms) has it: the time an operator types to reach a moment of
/// a recording. Unix ms, never before `start`.
pub fn parse_time_of_day(text: &str, (start, end): (i64, i64)) -> Result<i64, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let numbers: Option<Vec<i64>> = parts.iter().map(|p| p.parse::<i64>().ok()).collect();
    let secs = match numbers.as_deref() {
        Some([h, m]) if *h < 24 && *m < 60 => h * 3600 + m * 60,
        Some([h, m, s]) if *h < 24 && *m < 60 && *s < 60 => h * 3600 + m * 60 + s,
        _ => return Err(format!("`{text}` is not a time: type HH:MM or HH:MM:SS (UTC)")),
    };
    let day_ms = 86_400_000;
    let first_day = start.div_euclid(day_ms) * day_ms;
    let mut t = first_day + secs * 1000;
    while t < start - 999 && t + day_ms <= end {
        t += day_ms;
    }
    if t < start - 999 || t > end {
        let at = |ms: i64| Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
        return Err(format!("{text} UTC is outside the recording ({} to {} UTC)", clock(at(start)), clock(at(end))));
    }
    Ok(t.max(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_buckets_floor_towards_the_past() {
        let at: Timestamp = "2026-11-25T14:02:59Z".parse().unwrap();
        let m = Minute::containing(at);
        assert_eq!(m.start().to_string(), "2026-11-25T14:02:00Z");
        let before_epoch = Timestamp::from_second(-1).unwrap();
        assert_eq!(Minute::containing(before_epoch), Minute(-1));
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let t0: Timestamp = "2026-11-25T14:00:00Z".parse().unwrap();
        assert_eq!(age(t0, plus_secs(t0, 59)), "59s");
        assert_eq!(age(t0, plus_secs(t0, 61)), "1m");
        assert_eq!(age(t0, plus_secs(t0, 7200)), "2h");
        assert_eq!(age(plus_secs(t0, 10), t0), "0s");
    }

    #[test]
    fn a_time_of_day_is_found_on_the_day_of_the_span_that_has_it() {
        let ms = |t: &str| t.parse::<Timestamp>().unwrap().as_millisecond();
        // From 23:50 one day to 00:20 the next: 00:05 is the second day's.
        let span = (ms("2026-11-25T23:50:00Z"), ms("2026-11-26T00:20:00Z"));
        assert_eq!(parse_time_of_day("00:05", span), Ok(ms("2026-11-26T00:05:00Z")));
        assert_eq!(parse_time_of_day("23:55:30", span), Ok(ms("2026-11-25T23:55:30Z")));
        // The start's own second, with its milliseconds, is the start.
        let late = (ms("2026-11-25T14:00:00.400Z"), ms("2026-11-25T15:00:00Z"));
        assert_eq!(parse_time_of_day("14:00", late), Ok(late.0));
        let outside = parse_time_of_day("12:00", late).unwrap_err();
        assert_eq!(outside, "12:00 UTC is outside the recording (14:00:00 to 15:00:00 UTC)");
        for bad in ["24:00", "12:60", "12", "12:00:60", "noon", "1:2:3:4"] {
            let e = parse_time_of_day(bad, late).unwrap_err();
            assert_eq!(e, format!("`{bad}` is not a time: type HH:MM or HH:MM:SS (UTC)"));
        }
    }
}

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
}

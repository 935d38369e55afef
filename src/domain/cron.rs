//! CronJob schedules, counted in UTC, so a CronJob can be handed over
//! without catch-up (issue 9, item 7).
//!
//! # Why
//!
//! A handoff suspends the CronJob on the source and then unsuspends it on the
//! target. The target's `status.lastScheduleTime` is usually old (it last ran
//! before an earlier handoff, or never: then the controller counts from
//! `metadata.creationTimestamp`), so the schedule has slots between it and
//! now that the target never ran, most of which the source did run. On
//! unsuspend, the Kubernetes CronJob controller would start the most recent
//! of them at once: a duplicate, or a run at an hour nobody expected. The
//! console counts those missed slots, says how many, and sets
//! `spec.startingDeadlineSeconds` in the unsuspend patch so that none of them
//! starts, while the next regular run still does.
//!
//! # What the controller does (kube-controller-manager, CronJob controller v2)
//!
//! As read from `pkg/controller/cronjob/utils.go` (`mostRecentScheduleTime`,
//! `nextScheduleTime`) and `cronjob_controllerv2.go` (`syncCronJob`); v2 is
//! the default since Kubernetes 1.21 and the only controller since the old
//! one was removed. At each sync, at controller time `c`:
//!
//! 1. `earliest` = `lastScheduleTime`, or the creation time if unset;
//!    with a deadline `D` set, `earliest = max(earliest, c - D)`.
//! 2. The candidate is the most recent slot `t` with `earliest < t <= c`
//!    (robfig/cron's `Next` is strictly after). None: nothing starts, and
//!    the controller requeues itself for the next slot plus 100 ms.
//! 3. If `D` is set and `t + D < c`, the candidate is "too late": a
//!    `MissSchedule` event, nothing starts.
//! 4. Otherwise the Job for `t` is created (subject to `concurrencyPolicy`)
//!    and `lastScheduleTime = t`.
//!
//! Only the most recent missed slot is ever started, never a backlog. With
//! `D` unset every missed slot counts, however old.
//!
//! More than 100 missed slots: the old (v1) controller refused to start
//! anything and logged "Too many missed start time (> 100)" (the docs still
//! describe that). The v2 controller only records a `TooManyMissedTimes`
//! warning event and *still starts the most recent one*, so more than 100
//! missed slots is no protection. With `D` set both controllers count only
//! the slots after `c - D`, so the deadline we set also silences that warning.
//!
//! The docs warn that a deadline under 10 seconds may keep the CronJob from
//! being scheduled at all, "because the CronJob controller checks things
//! every 10 seconds": true of v1's polling loop; v2 requeues at each slot
//! plus 100 ms, but a regular run is still only started if the controller
//! handles it less than `D` after its slot, so a small `D` turns any delay
//! (a busy or restarting controller) into a skipped run. We therefore keep
//! `D` at or above [`MIN_STARTING_DEADLINE_SECONDS`] and, when that is not
//! possible, say how long to wait ([`unsuspend_not_before`]). The API only
//! requires `D >= 0`; `D = 0` would start nothing, ever.
//!
//! # Schedules
//!
//! [`Schedule::parse`] follows robfig/cron v3's standard parser, which the
//! API server validates `spec.schedule` with (see its doc for the details
//! and the few deviations). Times are whole UTC minutes.
//!
//! # Time zones
//!
//! jiff is built here without a time zone database, so only UTC can be
//! counted. A `spec.timeZone` (or a `TZ=`/`CRON_TZ=` prefix in the schedule)
//! naming UTC or one of its aliases is fine; any other zone is reported as
//! "cannot count" ([`countable_time_zone`]) rather than guessed, since a wrong
//! offset would put every slot, and so the deadline, hours off. No
//! `spec.timeZone` means the kube-controller-manager's local zone, which we
//! assume to be UTC (managed control planes run in UTC as far as we know;
//! the console cannot see that zone).

use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

/// How far [`Schedule::next_after`] and [`Schedule::prev_at_or_before`]
/// search before giving up, as robfig/cron does: a schedule that cannot
/// match ("0 0 30 2 *") must not search forever.
const SEARCH_YEARS: i16 = 5;

/// The smallest `startingDeadlineSeconds` we set, per the Kubernetes docs'
/// warning (see the module doc).
pub const MIN_STARTING_DEADLINE_SECONDS: i64 = 10;

/// How far the kube-controller-manager's clock may be behind ours. A
/// deadline that keeps a missed slot out must be this much shorter than the
/// time since that slot by our clock.
pub const CLOCK_SKEW_SECONDS: i64 = 5;

/// The controller's threshold for "too many missed start times": count
/// missed slots up to this ([`Schedule::slots_between`]'s `limit`).
pub const MISSED_LIMIT: usize = 100;

/// A parsed CronJob `spec.schedule`: one bit per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    /// Bit 0 is Sunday.
    days_of_week: u64,
    /// Day-of-month was written `*` or `?` (without a step above 1).
    dom_unrestricted: bool,
    /// Day-of-week was written `*` or `?` (without a step above 1).
    dow_unrestricted: bool,
}

/// The scheduled times `t` with `after < t <= until`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slots {
    /// How many were counted: all of them, or `limit` when `more`.
    pub count: usize,
    /// The earliest, if any.
    pub first: Option<Timestamp>,
    /// The latest, if any: exact even when `more` (found by searching
    /// backwards from `until`, not by counting).
    pub last: Option<Timestamp>,
    /// There are more than `count` (that is, more than `limit`).
    pub more: bool,
}

/// One field of a five-field schedule.
struct Field {
    /// As named in error messages.
    name: &'static str,
    min: u32,
    /// The largest value accepted as written (7 for day-of-week).
    max: u32,
    /// The largest value `*`, and `N/step`, go up to (6 for day-of-week,
    /// whose `max` of 7 is Sunday again).
    star_max: u32,
    /// Three-letter names, case-insensitive.
    names: &'static [(&'static str, u32)],
}

const MINUTE: Field = Field { name: "minute", min: 0, max: 59, star_max: 59, names: &[] };
const HOUR: Field = Field { name: "hour", min: 0, max: 23, star_max: 23, names: &[] };
const DAY_OF_MONTH: Field = Field { name: "day-of-month", min: 1, max: 31, star_max: 31, names: &[] };
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    star_max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 0,
    max: 7,
    star_max: 6,
    names: &[("sun", 0), ("mon", 1), ("tue", 2), ("wed", 3), ("thu", 4), ("fri", 5), ("sat", 6)],
};

/// All values of a field from `min` to `max`.
fn all(min: u32, max: u32) -> u64 {
    (min..=max).fold(0, |bits, v| bits | 1 << v)
}

impl Schedule {
    /// Parses a CronJob `spec.schedule` the way Kubernetes does (robfig/cron
    /// v3's `ParseStandard`):
    ///
    /// - five fields: minute (0-59), hour (0-23), day-of-month (1-31),
    ///   month (1-12 or JAN-DEC), day-of-week (0-7 or SUN-SAT, 0 and 7 both
    ///   Sunday); names are case-insensitive;
    /// - each field a comma list of `*`, `?` (same as `*`), `N`, `A-B`,
    ///   `*/S`, `A-B/S` or `N/S` (= `N-max/S`); names work in ranges;
    /// - descriptors `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
    ///   `@midnight`, `@hourly` (lowercase, as robfig/cron matches them);
    /// - a `TZ=zone ` or `CRON_TZ=zone ` prefix, accepted only for UTC (see
    ///   [`countable_time_zone`]).
    ///
    /// Day-of-month and day-of-week combine as in cron: if either is written
    /// `*` or `?` the other alone decides; otherwise a day matches if either
    /// does. As in robfig/cron, a step above 1 makes a field restricted
    /// (`*/2` is odd days, not "any day"), and so does a full range (`1-31`).
    ///
    /// Deviations from robfig/cron, none of which changes the slots of a
    /// schedule the API server accepted: 7 for Sunday (robfig/cron, and so
    /// the API server, rejects it); `@every` is rejected (it counts from the
    /// last run, not the clock); numbers must be plain digits (no `+5`).
    ///
    /// Errors name the field: `day-of-month: 32 is out of range 1-31`.
    pub fn parse(spec: &str) -> Result<Schedule, String> {
        let mut spec = spec.trim();
        if spec.is_empty() {
            return Err("empty schedule".to_string());
        }
        if let Some(rest) = spec.strip_prefix("CRON_TZ=").or_else(|| spec.strip_prefix("TZ=")) {
            let Some((zone, schedule)) = rest.split_once(' ') else {
                return Err(format!("nothing after the time zone in \"{spec}\""));
            };
            countable_time_zone(Some(zone))?;
            spec = schedule.trim();
        }
        if spec.starts_with('@') {
            return Self::descriptor(spec);
        }
        let fields: Vec<&str> = spec.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}: \"{spec}\"",
                fields.len()
            ));
        };
        let (minutes, _) = parse_field(minute, &MINUTE)?;
        let (hours, _) = parse_field(hour, &HOUR)?;
        let (days_of_month, dom_unrestricted) = parse_field(dom, &DAY_OF_MONTH)?;
        let (months, _) = parse_field(month, &MONTH)?;
        let (days_of_week, dow_unrestricted) = parse_field(dow, &DAY_OF_WEEK)?;
        Ok(Schedule { minutes, hours, days_of_month, months, days_of_week, dom_unrestricted, dow_unrestricted })
    }

    fn descriptor(spec: &str) -> Result<Schedule, String> {
        let every = Schedule {
            minutes: all(0, 59),
            hours: all(0, 23),
            days_of_month: all(1, 31),
            months: all(1, 12),
            days_of_week: all(0, 6),
            dom_unrestricted: true,
            dow_unrestricted: true,
        };
        let midnight = Schedule { minutes: 1, hours: 1, ..every.clone() };
        let first_of_month = Schedule { days_of_month: 1 << 1, dom_unrestricted: false, ..midnight.clone() };
        match spec {
            "@yearly" | "@annually" => Ok(Schedule { months: 1 << 1, ..first_of_month }),
            "@monthly" => Ok(first_of_month),
            "@weekly" => Ok(Schedule { days_of_week: 1, dow_unrestricted: false, ..midnight }),
            "@daily" | "@midnight" => Ok(midnight),
            "@hourly" => Ok(Schedule { minutes: 1, ..every }),
            _ if spec.starts_with("@every") => Err(format!(
                "\"{spec}\": @every schedules count from the last run, not the clock, and are not supported"
            )),
            _ => Err(format!("unknown descriptor \"{spec}\"")),
        }
    }

    /// The first scheduled time strictly after `t`, on a whole minute (UTC);
    /// `None` if there is none within about five years (an impossible date
    /// such as "0 0 30 2 *").
    ///
    /// Walks months, then days, then hours, then minutes, skipping whole
    /// months and days that do not match: a few hundred steps at most for a
    /// schedule that matches, about 2,000 for one that never does.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let from = Offset::UTC.to_datetime(Timestamp::from_second(floor_minute(t).checked_add(60)?).ok()?);
        let (y0, mo0, d0, h0) = (from.year(), from.month(), from.day(), from.hour());
        for year in y0..=y0.saturating_add(SEARCH_YEARS) {
            let first_month = if year == y0 { mo0 } else { 1 };
            for month in first_month..=12 {
                if !has(self.months, month) {
                    continue;
                }
                let same_month = year == y0 && month == mo0;
                let first_day = if same_month { d0 } else { 1 };
                for day in first_day..=Date::new(year, month, 1).ok()?.days_in_month() {
                    if !self.day_matches(year, month, day)? {
                        continue;
                    }
                    let same_day = same_month && day == d0;
                    for hour in (if same_day { h0 } else { 0 })..24 {
                        if !has(self.hours, hour) {
                            continue;
                        }
                        let first_minute = if same_day && hour == h0 { from.minute() } else { 0 };
                        if let Some(minute) = first_bit_from(self.minutes, first_minute) {
                            return utc(year, month, day, hour, minute);
                        }
                    }
                }
            }
        }
        None
    }

    /// The last scheduled time at or before `t` (UTC); `None` if there is
    /// none within about five years.
    pub fn prev_at_or_before(&self, t: Timestamp) -> Option<Timestamp> {
        let year = Offset::UTC.to_datetime(t).year();
        self.search_back(t, year.saturating_sub(SEARCH_YEARS))
    }

    /// [`Self::prev_at_or_before`], searching back to the start of `floor_year`.
    fn search_back(&self, t: Timestamp, floor_year: i16) -> Option<Timestamp> {
        let from = Offset::UTC.to_datetime(Timestamp::from_second(floor_minute(t)).ok()?);
        let (y0, mo0, d0, h0) = (from.year(), from.month(), from.day(), from.hour());
        for year in (floor_year..=y0).rev() {
            let last_month = if year == y0 { mo0 } else { 12 };
            for month in (1..=last_month).rev() {
                if !has(self.months, month) {
                    continue;
                }
                let same_month = year == y0 && month == mo0;
                let last_day = if same_month { d0 } else { Date::new(year, month, 1).ok()?.days_in_month() };
                for day in (1..=last_day).rev() {
                    if !self.day_matches(year, month, day)? {
                        continue;
                    }
                    let same_day = same_month && day == d0;
                    for hour in (0..=if same_day { h0 } else { 23 }).rev() {
                        if !has(self.hours, hour) {
                            continue;
                        }
                        let last_minute = if same_day && hour == h0 { from.minute() } else { 59 };
                        if let Some(minute) = last_bit_upto(self.minutes, last_minute) {
                            return utc(year, month, day, hour, minute);
                        }
                    }
                }
            }
        }
        None
    }

    /// The scheduled times `t` with `after < t <= until`: counted one by one
    /// up to `limit` (then `more`), the first and the last found directly.
    ///
    /// For the runs a CronJob missed: `after` = `status.lastScheduleTime`
    /// (or `metadata.creationTimestamp` if unset), `until` = now, `limit` =
    /// [`MISSED_LIMIT`].
    pub fn slots_between(&self, after: Timestamp, until: Timestamp, limit: usize) -> Slots {
        let Some(first) = self.next_after(after).filter(|&t| t <= until) else {
            return Slots::default();
        };
        // `first` bounds the search, so it ends however long the range.
        let floor_year = Offset::UTC.to_datetime(first).year();
        let last = self.search_back(until, floor_year).filter(|&t| t > after);
        let mut slots = Slots { count: 0, first: Some(first), last, more: false };
        let mut t = first;
        loop {
            if slots.count == limit {
                slots.more = true;
                break;
            }
            slots.count += 1;
            match self.next_after(t) {
                Some(next) if next <= until => t = next,
                _ => break,
            }
        }
        slots
    }

    /// Whether the day matches day-of-month and day-of-week, by cron's rule.
    fn day_matches(&self, year: i16, month: i8, day: i8) -> Option<bool> {
        let dom = has(self.days_of_month, day);
        let dow = has(self.days_of_week, Date::new(year, month, day).ok()?.weekday().to_sunday_zero_offset());
        Some(if self.dom_unrestricted || self.dow_unrestricted { dom && dow } else { dom || dow })
    }
}

impl FromStr for Schedule {
    type Err = String;

    fn from_str(spec: &str) -> Result<Schedule, String> {
        Schedule::parse(spec)
    }
}

/// A comma list of ranges: its bits, and whether it is unrestricted (some
/// item is `*` or `?` without a step above 1). Empty items are skipped, as
/// robfig/cron does ("1,,2").
fn parse_field(text: &str, field: &Field) -> Result<(u64, bool), String> {
    let mut bits = 0;
    let mut unrestricted = false;
    let mut items = 0;
    for item in text.split(',').filter(|item| !item.is_empty()) {
        let (item_bits, item_unrestricted) = parse_range(item, field)?;
        bits |= item_bits;
        unrestricted |= item_unrestricted;
        items += 1;
    }
    if items == 0 {
        return Err(format!("{}: no value in \"{text}\"", field.name));
    }
    Ok((bits, unrestricted))
}

/// `*`, `?`, `N`, `A-B`, each optionally followed by `/S`.
fn parse_range(item: &str, field: &Field) -> Result<(u64, bool), String> {
    let name = field.name;
    let (range, step) = match item.split_once('/') {
        None => (item, None),
        Some((_, step)) if step.contains('/') => return Err(format!("{name}: too many slashes in \"{item}\"")),
        Some((range, step)) => (range, Some(step)),
    };
    let (start, mut end, mut unrestricted, single) = if range == "*" || range == "?" {
        (field.min, field.star_max, true, false)
    } else {
        match range.split_once('-') {
            None => {
                let value = value(range, field)?;
                (value, value, false, true)
            }
            Some((_, high)) if high.contains('-') => return Err(format!("{name}: too many hyphens in \"{item}\"")),
            Some((low, high)) => (value(low, field)?, value(high, field)?, false, false),
        }
    };
    let step = match step {
        None => 1,
        Some(text) => {
            let step = number(text).ok_or_else(|| format!("{name}: step \"{text}\" in \"{item}\" is not a number"))?;
            if step == 0 {
                return Err(format!("{name}: step 0 in \"{item}\" must be at least 1"));
            }
            if single {
                // "N/S" means "N-max/S".
                end = field.star_max;
            }
            if step > 1 {
                unrestricted = false;
            }
            step
        }
    };
    if start > end {
        return Err(format!("{name}: range {start}-{end} in \"{item}\" runs backwards"));
    }
    let step = usize::try_from(step).unwrap_or(usize::MAX);
    // Day-of-week 7 is Sunday, bit 0; every other value is its own bit.
    let sunday_7 = field.max > field.star_max;
    let bits = (start..=end).step_by(step).fold(0, |bits, v| bits | 1 << (if sunday_7 && v == 7 { 0 } else { v }));
    Ok((bits, unrestricted))
}

/// A number or, in the month and day-of-week fields, a three-letter name.
fn value(text: &str, field: &Field) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(&(_, value)) = field.names.iter().find(|(name, _)| *name == lower) {
        return Ok(value);
    }
    let (name, min, max) = (field.name, field.min, field.max);
    match number(text) {
        Some(value) if (min..=max).contains(&value) => Ok(value),
        Some(_) => Err(format!("{name}: {text} is out of range {min}-{max}")),
        None if field.names.is_empty() => Err(format!("{name}: \"{text}\" is not a number")),
        None => Err(format!("{name}: \"{text}\" is neither a number nor a name")),
    }
}

/// Plain decimal digits; a number too large for u32 is `u32::MAX` (out of
/// range in every field).
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u32::MAX))
}

fn has(bits: u64, value: i8) -> bool {
    (0..64).contains(&value) && bits >> value & 1 == 1
}

/// The smallest set bit at or above `from`.
fn first_bit_from(bits: u64, from: i8) -> Option<i8> {
    let masked = bits & u64::MAX.checked_shl(u32::try_from(from).ok()?)?;
    (masked != 0).then(|| masked.trailing_zeros() as i8)
}

/// The largest set bit at or below `upto` (at most 62).
fn last_bit_upto(bits: u64, upto: i8) -> Option<i8> {
    let upto = u32::try_from(upto).ok()?.min(62);
    let masked = bits & ((2u64 << upto) - 1);
    (masked != 0).then(|| 63 - masked.leading_zeros() as i8)
}

/// The start of the minute containing `t`, in seconds since the epoch
/// (towards the past, also before 1970).
fn floor_minute(t: Timestamp) -> i64 {
    floor_seconds(t).div_euclid(60) * 60
}

/// Whole seconds since the epoch, towards the past.
fn floor_seconds(t: Timestamp) -> i64 {
    t.as_second() - i64::from(t.subsec_nanosecond() < 0)
}

/// Whole seconds from `from` to `to`, rounded towards the past.
fn seconds_between(from: Timestamp, to: Timestamp) -> i64 {
    let nanos = to.as_nanosecond() - from.as_nanosecond();
    i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

fn utc(year: i16, month: i8, day: i8, hour: i8, minute: i8) -> Option<Timestamp> {
    let at = DateTime::new(year, month, day, hour, minute, 0, 0).ok()?;
    Offset::UTC.to_timestamp(at).ok()
}

/// Whether the slots of a CronJob in `time_zone` (its `spec.timeZone`) can
/// be counted here: only UTC and its aliases can, since jiff has no time zone
/// database in this build. `None` (no `spec.timeZone`) means the
/// kube-controller-manager's local zone, assumed to be UTC. Otherwise the
/// error says "cannot count" and why, for the operator.
pub fn countable_time_zone(time_zone: Option<&str>) -> Result<(), String> {
    // The IANA names that are UTC all year (tzdata's "backward" links).
    const UTC: &[&str] = &[
        "UTC",
        "Etc/UTC",
        "UCT",
        "Etc/UCT",
        "Universal",
        "Etc/Universal",
        "Zulu",
        "Etc/Zulu",
        "GMT",
        "Etc/GMT",
        "GMT0",
        "Etc/GMT0",
        "GMT+0",
        "Etc/GMT+0",
        "GMT-0",
        "Etc/GMT-0",
        "Greenwich",
        "Etc/Greenwich",
    ];
    match time_zone {
        None => Ok(()),
        Some(zone) if UTC.contains(&zone) => Ok(()),
        Some(zone) => Err(format!(
            "cannot count missed runs: time zone \"{zone}\" is not UTC, and the console counts in UTC only"
        )),
    }
}

/// A `startingDeadlineSeconds` for the unsuspend patch that keeps the
/// missed slot `last_missed` (the latest slot at or before `now`) from
/// starting, yet lets the next regular run, at `next`, start normally.
///
/// The reasoning, with the controller's algorithm from the module doc:
///
/// - Kept out: at its first sync after the unsuspend, at controller time
///   `c`, the controller only considers slots after `c - D`. `last_missed`
///   is out if `last_missed <= c - D`, i.e. `D <= c - last_missed`. `c` is at
///   least our `now` less the clock skew (the patch lands after we compute
///   it), so `D <= (now - last_missed) - CLOCK_SKEW_SECONDS` is enough.
///   It stays out at every later sync: `c - D` only grows, and once the next
///   run has started `lastScheduleTime` is past it anyway.
/// - Next run kept in: the controller wakes at `next` + 100 ms and starts
///   `next` if it is after `c - D` and not `D` late, i.e. if it handles it
///   less than `D` seconds after `next`. That depends on the controller's
///   delay, not on `now`, so the larger `D` the safer: we take the largest
///   value that keeps `last_missed` out. It is also the closest to the
///   usual "unset" (every missed slot counts), so later controller outages
///   behave almost as before. It is capped below `next - last_missed`, so the
///   window never reaches back to a missed slot even at the next run; that
///   holds anyway while `now < next`, and `next` only makes it explicit.
///
/// With `now - last_missed < MIN_STARTING_DEADLINE_SECONDS +
/// CLOCK_SKEW_SECONDS` (the slot passed seconds ago) the value is below
/// [`MIN_STARTING_DEADLINE_SECONDS`], and below 1 it is clamped to 1 (0
/// would start nothing, ever), when it may no longer keep the slot out:
/// check with [`keeps_missed_out`], and rather wait until
/// [`unsuspend_not_before`]. The slots are a minute apart at least, so the
/// wait never reaches `next`.
///
/// The deadline stays on the CronJob: once the next regular run has started,
/// `lastScheduleTime` keeps the missed slots out by itself, and the
/// operator's previous value can be put back.
pub fn deadline_excluding_missed(last_missed: Timestamp, now: Timestamp, next: Option<Timestamp>) -> i64 {
    let mut deadline = seconds_between(last_missed, now).saturating_sub(CLOCK_SKEW_SECONDS);
    if let Some(next) = next {
        deadline = deadline.min(seconds_between(last_missed, next).saturating_sub(1));
    }
    deadline.max(1)
}

/// Whether an existing `startingDeadlineSeconds` already keeps the missed
/// slot `last_missed` from starting if the CronJob is unsuspended at `now`,
/// by the rule of [`deadline_excluding_missed`] (with the same allowance for
/// clock skew). Unset (`None`) never does: every missed slot counts then.
pub fn keeps_missed_out(existing: Option<i64>, last_missed: Timestamp, now: Timestamp) -> bool {
    match existing {
        None => false,
        Some(deadline) => deadline.saturating_add(CLOCK_SKEW_SECONDS) <= seconds_between(last_missed, now),
    }
}

/// The earliest time to unsuspend so that a deadline of at least
/// [`MIN_STARTING_DEADLINE_SECONDS`] keeps `last_missed` out:
/// `last_missed + 15 s`.
pub fn unsuspend_not_before(last_missed: Timestamp) -> Timestamp {
    crate::domain::plus_secs(last_missed, MIN_STARTING_DEADLINE_SECONDS + CLOCK_SKEW_SECONDS)
}

/// What to do about missed runs when unsuspending a CronJob: the result of
/// [`plan_no_catch_up`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoCatchUp {
    /// The slots missed since `lastScheduleTime`, counted up to
    /// [`MISSED_LIMIT`]; `missed.last` is the one the controller would start.
    pub missed: Slots,
    /// The next regular run after `now`, if any within about five years.
    pub next: Option<Timestamp>,
    /// The `startingDeadlineSeconds` to set in the unsuspend patch (in the
    /// same patch as `suspend: false`, or before it); `None` when nothing
    /// must change: no missed slot, or the existing value keeps them out.
    pub set_deadline: Option<i64>,
    /// The missed slot passed too recently for a deadline of at least
    /// [`MIN_STARTING_DEADLINE_SECONDS`] to keep it out: unsuspend no earlier
    /// than this (and plan again then).
    pub wait_until: Option<Timestamp>,
}

/// Counts the runs a CronJob missed while suspended and says how to
/// unsuspend it without starting any of them.
///
/// `schedule` and `time_zone` are its `spec.schedule` and `spec.timeZone`;
/// `last_schedule` its `status.lastScheduleTime`, or
/// `metadata.creationTimestamp` if unset (as the controller does);
/// `existing_deadline` its `spec.startingDeadlineSeconds`. An error means the
/// runs cannot be counted (bad schedule, time zone other than UTC): say so
/// rather than guess.
pub fn plan_no_catch_up(
    schedule: &str,
    time_zone: Option<&str>,
    last_schedule: Timestamp,
    existing_deadline: Option<i64>,
    now: Timestamp,
) -> Result<NoCatchUp, String> {
    countable_time_zone(time_zone)?;
    let schedule = Schedule::parse(schedule)?;
    let missed = schedule.slots_between(last_schedule, now, MISSED_LIMIT);
    let next = schedule.next_after(now);
    let (set_deadline, wait_until) = match missed.last {
        Some(last_missed) if !keeps_missed_out(existing_deadline, last_missed, now) => {
            let deadline = deadline_excluding_missed(last_missed, now, next);
            let wait = (deadline < MIN_STARTING_DEADLINE_SECONDS).then(|| unsuspend_not_before(last_missed));
            (Some(deadline), wait)
        }
        _ => (None, None),
    };
    Ok(NoCatchUp { missed, next, set_deadline, wait_until })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn sched(spec: &str) -> Schedule {
        Schedule::parse(spec).unwrap()
    }

    /// Every slot with `after < t <= until`, by `next_after`.
    fn all_slots(spec: &str, after: &str, until: &str) -> Vec<String> {
        let (s, until) = (sched(spec), at(until));
        let mut out = Vec::new();
        let mut t = at(after);
        while let Some(next) = s.next_after(t).filter(|&n| n <= until) {
            out.push(next.to_string());
            t = next;
        }
        out
    }

    fn next(spec: &str, after: &str) -> Option<String> {
        sched(spec).next_after(at(after)).map(|t| t.to_string())
    }

    fn prev(spec: &str, before: &str) -> Option<String> {
        sched(spec).prev_at_or_before(at(before)).map(|t| t.to_string())
    }

    fn err(spec: &str) -> String {
        Schedule::parse(spec).unwrap_err()
    }

    #[test]
    fn quarter_hours_after_a_stray_minute() {
        assert_eq!(
            all_slots("*/15 * * * *", "2026-03-10T10:07:00Z", "2026-03-10T11:00:00Z"),
            ["2026-03-10T10:15:00Z", "2026-03-10T10:30:00Z", "2026-03-10T10:45:00Z", "2026-03-10T11:00:00Z"]
        );
        let slots = sched("*/15 * * * *").slots_between(at("2026-03-10T10:07:00Z"), at("2026-03-10T11:00:00Z"), 100);
        assert_eq!(
            slots,
            Slots {
                count: 4,
                first: Some(at("2026-03-10T10:15:00Z")),
                last: Some(at("2026-03-10T11:00:00Z")),
                more: false
            }
        );
    }

    #[test]
    fn next_is_strictly_after_and_on_whole_minutes() {
        assert_eq!(next("*/15 * * * *", "2026-03-10T10:15:00Z").as_deref(), Some("2026-03-10T10:30:00Z"));
        assert_eq!(next("*/15 * * * *", "2026-03-10T10:14:59.999Z").as_deref(), Some("2026-03-10T10:15:00Z"));
        assert_eq!(next("*/15 * * * *", "2026-03-10T10:15:00.001Z").as_deref(), Some("2026-03-10T10:30:00Z"));
        assert_eq!(next("* * * * *", "2026-03-10T10:15:30Z").as_deref(), Some("2026-03-10T10:16:00Z"));
        // Rolls over hour, day, month and year.
        assert_eq!(next("*/15 * * * *", "2026-12-31T23:59:00Z").as_deref(), Some("2027-01-01T00:00:00Z"));
        // At or before includes the minute itself.
        assert_eq!(prev("*/15 * * * *", "2026-03-10T10:15:00Z").as_deref(), Some("2026-03-10T10:15:00Z"));
        assert_eq!(prev("*/15 * * * *", "2026-03-10T10:14:59Z").as_deref(), Some("2026-03-10T10:00:00Z"));
        assert_eq!(prev("*/15 * * * *", "2027-01-01T00:14:00Z").as_deref(), Some("2027-01-01T00:00:00Z"));
        assert_eq!(prev("30 * * * *", "2027-01-01T00:14:00Z").as_deref(), Some("2026-12-31T23:30:00Z"));
    }

    #[test]
    fn weekdays_at_three_skip_the_weekend() {
        // 2026-03-13 is a Friday, 2026-03-16 a Monday.
        let s = "0 3 * * 1-5";
        assert_eq!(next(s, "2026-03-13T03:00:00Z").as_deref(), Some("2026-03-16T03:00:00Z"));
        assert_eq!(prev(s, "2026-03-16T02:59:00Z").as_deref(), Some("2026-03-13T03:00:00Z"));
        assert!(all_slots(s, "2026-03-13T03:00:00Z", "2026-03-16T02:00:00Z").is_empty());
        assert_eq!(
            all_slots(s, "2026-03-12T12:00:00Z", "2026-03-16T03:00:00Z"),
            ["2026-03-13T03:00:00Z", "2026-03-16T03:00:00Z"]
        );
        // Names, in any case, mean the same.
        assert_eq!(sched("0 3 * * MON-fri"), sched(s));
    }

    #[test]
    fn day_of_month_or_day_of_week_when_both_are_restricted() {
        // March 2026: the 1st and 15th are Sundays; the Fridays are 6, 13, 20, 27.
        assert_eq!(
            all_slots("0 0 1,15 * 5", "2026-02-28T00:00:00Z", "2026-03-31T23:59:00Z"),
            [
                "2026-03-01T00:00:00Z",
                "2026-03-06T00:00:00Z",
                "2026-03-13T00:00:00Z",
                "2026-03-15T00:00:00Z",
                "2026-03-20T00:00:00Z",
                "2026-03-27T00:00:00Z",
            ]
        );
        // Either one unrestricted: the other alone decides (`?` is `*`).
        assert_eq!(
            all_slots("0 0 1,15 * ?", "2026-02-28T00:00:00Z", "2026-03-31T23:59:00Z"),
            ["2026-03-01T00:00:00Z", "2026-03-15T00:00:00Z",]
        );
        assert_eq!(
            all_slots("0 0 * * FRI", "2026-02-28T00:00:00Z", "2026-03-14T00:00:00Z"),
            ["2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z",]
        );
        // A step above 1 restricts (robfig/cron): odd days OR Mondays.
        // February 2026: Mondays 2, 9, 16, 23.
        let odd_or_monday = all_slots("0 0 */2 2 1", "2026-01-31T00:00:00Z", "2026-02-10T00:00:00Z");
        assert_eq!(
            odd_or_monday,
            [
                "2026-02-01T00:00:00Z",
                "2026-02-02T00:00:00Z",
                "2026-02-03T00:00:00Z",
                "2026-02-05T00:00:00Z",
                "2026-02-07T00:00:00Z",
                "2026-02-09T00:00:00Z",
            ]
        );
        // `*/1` stays unrestricted: Mondays only.
        assert_eq!(
            all_slots("0 0 */1 2 1", "2026-01-31T00:00:00Z", "2026-02-10T00:00:00Z"),
            ["2026-02-02T00:00:00Z", "2026-02-09T00:00:00Z",]
        );
    }

    #[test]
    fn leap_days_and_impossible_dates() {
        assert_eq!(next("0 12 29 2 *", "2026-01-01T00:00:00Z").as_deref(), Some("2028-02-29T12:00:00Z"));
        assert_eq!(prev("0 12 29 2 *", "2027-06-01T00:00:00Z").as_deref(), Some("2024-02-29T12:00:00Z"));
        assert_eq!(next("0 12 29 2 *", "2028-02-29T12:00:00Z").as_deref(), Some("2032-02-29T12:00:00Z"));
        // Never: gives up after five years, in both directions.
        assert_eq!(next("0 0 30 2 *", "2026-01-01T00:00:00Z"), None);
        assert_eq!(next("0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z"), None);
        assert_eq!(prev("0 0 30 2 *", "2026-01-01T00:00:00Z"), None);
        let never = sched("0 0 30 2 *").slots_between(at("2020-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"), 100);
        assert_eq!(never, Slots::default());
        // With a restricted day-of-week the OR rule makes it possible:
        // February 2027's Mondays are 1, 8, 15, 22.
        assert_eq!(next("0 0 30 2 1", "2026-03-01T00:00:00Z").as_deref(), Some("2027-02-01T00:00:00Z"));
        // The 31st only in months that have one.
        assert_eq!(next("0 0 31 * *", "2026-04-01T00:00:00Z").as_deref(), Some("2026-05-31T00:00:00Z"));
    }

    #[test]
    fn descriptors() {
        assert_eq!(
            all_slots("@hourly", "2026-03-10T10:00:00Z", "2026-03-10T13:00:00Z"),
            ["2026-03-10T11:00:00Z", "2026-03-10T12:00:00Z", "2026-03-10T13:00:00Z",]
        );
        assert_eq!(sched("@hourly"), sched("0 * * * *"));
        assert_eq!(sched("@daily"), sched("0 0 * * *"));
        assert_eq!(sched("@midnight"), sched("0 0 * * *"));
        assert_eq!(sched("@weekly"), sched("0 0 * * 0"));
        assert_eq!(sched("@monthly"), sched("0 0 1 * *"));
        assert_eq!(sched("@yearly"), sched("0 0 1 1 *"));
        assert_eq!(sched("@annually"), sched("0 0 1 1 *"));
        assert_eq!(next("@weekly", "2026-03-10T10:00:00Z").as_deref(), Some("2026-03-15T00:00:00Z"));
        assert_eq!(next("@monthly", "2026-03-10T10:00:00Z").as_deref(), Some("2026-04-01T00:00:00Z"));
        assert_eq!(next("@yearly", "2026-03-10T10:00:00Z").as_deref(), Some("2027-01-01T00:00:00Z"));
    }

    #[test]
    fn seven_is_sunday() {
        assert_eq!(sched("0 0 * * 7"), sched("0 0 * * 0"));
        assert_eq!(sched("0 0 * * 7"), sched("0 0 * * sun"));
        assert_eq!(sched("0 0 * * 5-7"), sched("0 0 * * FRI,SAT,SUN"));
        assert_eq!(sched("0 0 * * 0-7"), sched("0 0 * * 0-6"));
        // 2026-03-13 is a Friday.
        assert_eq!(next("0 0 * * 7", "2026-03-13T00:00:00Z").as_deref(), Some("2026-03-15T00:00:00Z"));
        // `*` and `N/S` stop at Saturday, as in robfig/cron.
        assert_eq!(sched("0 0 * * 1/2"), sched("0 0 * * 1,3,5"));
        assert_eq!(sched("0 0 * * */3"), sched("0 0 * * 0,3,6"));
    }

    #[test]
    fn ranges_steps_lists_and_names() {
        assert_eq!(sched("5/20 * * * *"), sched("5,25,45 * * * *"));
        assert_eq!(sched("10-40/15 * * * *"), sched("10,25,40 * * * *"));
        assert_eq!(sched("0 */6 * * *"), sched("0 0,6,12,18 * * *"));
        assert_eq!(sched("0 0 1 jan-MAR *"), sched("0 0 1 1,2,3 *"));
        assert_eq!(sched("0 0 1 Jan/4 *"), sched("0 0 1 1,5,9 *"));
        assert_eq!(sched("1,,2 * * * *"), sched("1,2 * * * *"));
        assert_eq!(sched("*/100 * * * *"), sched("0 * * * *"));
        assert_eq!(sched("  0   3 * * *  "), sched("0 3 * * *"));
        assert_eq!("0 3 * * *".parse::<Schedule>(), Ok(sched("0 3 * * *")));
        assert_eq!(sched("CRON_TZ=UTC 0 3 * * *"), sched("0 3 * * *"));
        assert_eq!(sched("TZ=Etc/UTC @daily"), sched("0 0 * * *"));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(err("0 0 32 * *"), "day-of-month: 32 is out of range 1-31");
        assert_eq!(err("0 0 0 * *"), "day-of-month: 0 is out of range 1-31");
        assert_eq!(err("60 * * * *"), "minute: 60 is out of range 0-59");
        assert_eq!(err("0 24 * * *"), "hour: 24 is out of range 0-23");
        assert_eq!(err("0 0 * 13 *"), "month: 13 is out of range 1-12");
        assert_eq!(err("0 0 * * 8"), "day-of-week: 8 is out of range 0-7");
        assert_eq!(err("0 0 * * 99999999999"), "day-of-week: 99999999999 is out of range 0-7");
        assert_eq!(err("JAN * * * *"), "minute: \"JAN\" is not a number");
        assert_eq!(err("0 0 * * monday"), "day-of-week: \"monday\" is neither a number nor a name");
        assert_eq!(err("-5 * * * *"), "minute: \"\" is not a number");
        assert_eq!(err("+5 * * * *"), "minute: \"+5\" is not a number");
        assert_eq!(err("30-10 * * * *"), "minute: range 30-10 in \"30-10\" runs backwards");
        assert_eq!(err("0 0 * * SAT-SUN"), "day-of-week: range 6-0 in \"SAT-SUN\" runs backwards");
        assert_eq!(err("1-2-3 * * * *"), "minute: too many hyphens in \"1-2-3\"");
        assert_eq!(err("*/5/2 * * * *"), "minute: too many slashes in \"*/5/2\"");
        assert_eq!(err("*/0 * * * *"), "minute: step 0 in \"*/0\" must be at least 1");
        assert_eq!(err("*/x * * * *"), "minute: step \"x\" in \"*/x\" is not a number");
        assert_eq!(err(", * * * *"), "minute: no value in \",\"");
        assert!(err("* * * *").starts_with("expected 5 fields"), "{}", err("* * * *"));
        assert!(err("0 * * * * *").contains("found 6"), "{}", err("0 * * * * *"));
        assert_eq!(err("   "), "empty schedule");
        assert!(err("@every 1h").contains("not supported"), "{}", err("@every 1h"));
        assert_eq!(err("@fortnightly"), "unknown descriptor \"@fortnightly\"");
        assert_eq!(err("@HOURLY"), "unknown descriptor \"@HOURLY\"");
        assert!(err("TZ=Europe/Paris 0 3 * * *").starts_with("cannot count"));
        assert_eq!(err("TZ=UTC"), "nothing after the time zone in \"TZ=UTC\"");
    }

    #[test]
    fn time_zones() {
        assert_eq!(countable_time_zone(None), Ok(()));
        assert_eq!(countable_time_zone(Some("UTC")), Ok(()));
        assert_eq!(countable_time_zone(Some("Etc/UTC")), Ok(()));
        let paris = countable_time_zone(Some("Europe/Paris")).unwrap_err();
        assert!(paris.starts_with("cannot count") && paris.contains("Europe/Paris"), "{paris}");
        assert!(countable_time_zone(Some("utc")).is_err(), "zone names are case-sensitive");
    }

    #[test]
    fn counting_stops_at_the_limit_but_knows_the_last() {
        let slots = sched("* * * * *").slots_between(at("2026-03-10T10:00:00Z"), at("2026-03-10T12:00:30Z"), 100);
        assert_eq!(
            slots,
            Slots {
                count: 100,
                first: Some(at("2026-03-10T10:01:00Z")),
                last: Some(at("2026-03-10T12:00:00Z")),
                more: true
            }
        );
        // Exactly at the limit is not more.
        let slots = sched("* * * * *").slots_between(at("2026-03-10T10:00:00Z"), at("2026-03-10T10:03:00Z"), 3);
        assert_eq!((slots.count, slots.more), (3, false));
        let slots = sched("* * * * *").slots_between(at("2026-03-10T10:00:00Z"), at("2026-03-10T10:04:00Z"), 3);
        assert_eq!((slots.count, slots.more), (3, true));
        // A limit of 0 still tells whether there is any, and which.
        let slots = sched("@hourly").slots_between(at("2026-03-10T10:00:00Z"), at("2026-03-10T12:00:00Z"), 0);
        assert_eq!(
            slots,
            Slots {
                count: 0,
                first: Some(at("2026-03-10T11:00:00Z")),
                last: Some(at("2026-03-10T12:00:00Z")),
                more: true
            }
        );
        // An empty or backwards range has none.
        let t = at("2026-03-10T10:00:00Z");
        assert_eq!(sched("* * * * *").slots_between(t, t, 100), Slots::default());
        assert_eq!(sched("* * * * *").slots_between(t, at("2026-03-10T09:00:00Z"), 100), Slots::default());
        // Years of a daily schedule: the last is found without counting them.
        let slots = sched("0 3 * * *").slots_between(at("2019-01-01T00:00:00Z"), at("2026-03-10T10:00:00Z"), 100);
        assert_eq!(slots.first, Some(at("2019-01-01T03:00:00Z")));
        assert_eq!(slots.last, Some(at("2026-03-10T03:00:00Z")));
        assert!(slots.more);
    }

    /// The v2 controller's decision at controller time `c`, as in the
    /// module doc: the slot it would start, if any.
    fn controller_starts(
        s: &Schedule,
        last_schedule: Timestamp,
        deadline: Option<i64>,
        c: Timestamp,
    ) -> Option<Timestamp> {
        let mut earliest = last_schedule;
        if let Some(d) = deadline {
            earliest = earliest.max(c - jiff::SignedDuration::from_secs(d));
        }
        let candidate = s.prev_at_or_before(c).filter(|&t| t > earliest)?;
        let too_late = deadline.is_some_and(|d| candidate + jiff::SignedDuration::from_secs(d) < c);
        (!too_late).then_some(candidate)
    }

    fn plus(t: Timestamp, secs: f64) -> Timestamp {
        t + jiff::SignedDuration::from_secs_f64(secs)
    }

    #[test]
    fn a_weekend_suspension_keeps_friday_out_and_monday_in() {
        let s = sched("0 3 * * 1-5");
        let last_schedule = at("2026-03-12T03:00:00Z"); // Thursday's run
        let now = at("2026-03-16T02:00:00Z"); // Monday, before the run
        let plan = plan_no_catch_up("0 3 * * 1-5", None, last_schedule, None, now).unwrap();
        let friday = at("2026-03-13T03:00:00Z");
        let monday = at("2026-03-16T03:00:00Z");
        assert_eq!(plan.missed, Slots { count: 1, first: Some(friday), last: Some(friday), more: false });
        assert_eq!(plan.next, Some(monday));
        // 71 h since Friday's slot, less 5 s of skew.
        assert_eq!(plan.set_deadline, Some(71 * 3600 - 5));
        assert_eq!(plan.wait_until, None);
        let d = plan.set_deadline;

        // Unset, the controller would start Friday's run on unsuspend.
        assert_eq!(controller_starts(&s, last_schedule, None, now), Some(friday));
        // With the deadline it starts nothing, even if its clock is 5 s behind
        // or it gets to it later.
        for c in [plus(now, -5.0), now, plus(now, 600.0), plus(monday, -1.0)] {
            assert_eq!(controller_starts(&s, last_schedule, d, c), None, "at {c}");
        }
        // Monday's run starts on time, or late by up to the deadline.
        for c in [plus(monday, 0.1), plus(monday, 9.0), plus(monday, 3600.0)] {
            assert_eq!(controller_starts(&s, last_schedule, d, c), Some(monday), "at {c}");
        }
    }

    #[test]
    fn deadlines() {
        let m = at("2026-03-10T10:00:00Z");
        let next = Some(at("2026-03-10T10:15:00Z"));
        // An hour-long suspension of a quarter-hourly job: 10 min since the last slot.
        let now = at("2026-03-10T10:10:00.7Z");
        assert_eq!(deadline_excluding_missed(m, now, next), 600 - 5);
        assert!(keeps_missed_out(Some(595), m, now));
        assert!(!keeps_missed_out(Some(596), m, now));
        assert!(keeps_missed_out(Some(60), m, now));
        assert!(!keeps_missed_out(None, m, now));
        // The cap below `next` only bites when `now` is stale (past `next`).
        assert_eq!(deadline_excluding_missed(m, at("2026-03-10T10:20:00Z"), next), 899);
        assert_eq!(deadline_excluding_missed(m, now, None), 595);
        // Seconds after the slot: too small to be safe, so wait.
        let soon = at("2026-03-10T10:00:07Z");
        assert_eq!(deadline_excluding_missed(m, soon, next), 2);
        assert!(keeps_missed_out(Some(2), m, soon));
        assert_eq!(unsuspend_not_before(m), at("2026-03-10T10:00:15Z"));
        assert_eq!(deadline_excluding_missed(m, unsuspend_not_before(m), next), MIN_STARTING_DEADLINE_SECONDS);
        // Within the skew: never 0, but then it does not keep the slot out.
        let now = at("2026-03-10T10:00:03Z");
        assert_eq!(deadline_excluding_missed(m, now, next), 1);
        assert!(!keeps_missed_out(Some(1), m, now));
    }

    #[test]
    fn plans() {
        let last = at("2026-03-10T09:00:00Z");
        // Nothing missed: nothing to set.
        let plan = plan_no_catch_up("@hourly", Some("UTC"), last, None, at("2026-03-10T09:59:00Z")).unwrap();
        assert_eq!(plan.missed.count, 0);
        assert_eq!(plan.next, Some(at("2026-03-10T10:00:00Z")));
        assert_eq!((plan.set_deadline, plan.wait_until), (None, None));
        // Missed, but the operator's deadline already keeps them out.
        let now = at("2026-03-10T12:30:00Z");
        let plan = plan_no_catch_up("@hourly", None, last, Some(300), now).unwrap();
        assert_eq!(plan.missed.count, 3);
        assert_eq!(plan.missed.last, Some(at("2026-03-10T12:00:00Z")));
        assert_eq!((plan.set_deadline, plan.wait_until), (None, None));
        // Missed, and the operator's deadline would start the last one.
        let plan = plan_no_catch_up("@hourly", None, last, Some(3600), now).unwrap();
        assert_eq!((plan.set_deadline, plan.wait_until), (Some(1800 - 5), None));
        // A slot seconds ago: wait.
        let plan = plan_no_catch_up("@hourly", None, last, None, at("2026-03-10T12:00:04Z")).unwrap();
        assert_eq!(plan.set_deadline, Some(1));
        assert_eq!(plan.wait_until, Some(at("2026-03-10T12:00:15Z")));
        // More than the controller's 100.
        let plan = plan_no_catch_up("* * * * *", None, last, None, now).unwrap();
        assert_eq!((plan.missed.count, plan.missed.more), (100, true));
        assert_eq!(plan.missed.last, Some(at("2026-03-10T12:30:00Z")));
        // Cannot count.
        assert!(
            plan_no_catch_up("@hourly", Some("Europe/Paris"), last, None, now).unwrap_err().starts_with("cannot count")
        );
        assert!(plan_no_catch_up("@every 1h", None, last, None, now).is_err());
    }

    /// The searches against a minute-by-minute scan, across a year end and
    /// a leap February.
    #[test]
    fn searches_agree_with_a_scan() {
        let specs = [
            "*/15 * * * *",
            "0 3 * * 1-5",
            "0 0 1,15 * 5",
            "30 6-16/4 * * 1-5",
            "0 0 */2 2 1",
            "0 12 29 2 *",
            "59 23 31 * *",
            "@weekly",
            "5 4 * * sun",
            "0 0 1 */3 *",
        ];
        let (start, end) = (at("2027-12-20T00:00:00Z"), at("2028-03-05T00:00:00Z"));
        for spec in specs {
            let s = sched(spec);
            let matches = |t: Timestamp| {
                let dt = Offset::UTC.to_datetime(t);
                has(s.minutes, dt.minute())
                    && has(s.hours, dt.hour())
                    && has(s.months, dt.month())
                    && s.day_matches(dt.year(), dt.month(), dt.day()) == Some(true)
            };
            let mut scanned = Vec::new();
            let mut t = start;
            while t <= end {
                if matches(t) {
                    scanned.push(t);
                }
                t += jiff::SignedDuration::from_mins(1);
            }
            assert!(!scanned.is_empty(), "{spec}");
            // Every 7 min 13 s, so the probes fall on and between minutes.
            let mut probe = start;
            while probe < end {
                let after = scanned.get(scanned.partition_point(|&m| m <= probe)).copied();
                if let Some(expected) = after {
                    assert_eq!(s.next_after(probe), Some(expected), "{spec} after {probe}");
                }
                let before = scanned.partition_point(|&m| m <= probe).checked_sub(1).map(|i| scanned[i]);
                if let Some(expected) = before {
                    assert_eq!(s.prev_at_or_before(probe), Some(expected), "{spec} at or before {probe}");
                }
                probe += jiff::SignedDuration::from_secs(7 * 60 + 13);
            }
            let slots = s.slots_between(start, end, usize::MAX);
            let expected = scanned.iter().filter(|&&m| m > start).count();
            assert_eq!(slots.count, expected, "{spec}");
            assert_eq!(slots.last, scanned.last().copied(), "{spec}");
        }
    }

    #[test]
    fn searches_are_bounded() {
        // Every minute for a year would be 525,600 steps; this is one search.
        let s = sched("59 23 31 12 *");
        assert_eq!(s.next_after(at("2026-01-01T00:00:00Z")), Some(at("2026-12-31T23:59:00Z")));
        assert_eq!(s.prev_at_or_before(at("2026-12-31T23:58:59Z")), Some(at("2025-12-31T23:59:00Z")));
        // Near the end of jiff's range: none, rather than an error.
        assert_eq!(sched("0 0 1 1 *").next_after(at("9999-06-01T00:00:00Z")), None);
    }
}

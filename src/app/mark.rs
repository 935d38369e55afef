//! Marks: the moments a postmortem asks about (an operator's action, an
//! executor's answer, a refusal, a node drain, a 5xx spike), noted by
//! `update` as they happen.
//!
//! `update` only appends to `App::marks`; whoever runs it drains them. The
//! recorder writes them beside the stream, so a replay can put every mark
//! on its timeline without reading the whole recording, and the report is
//! built from the same marks a replay shows.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{Minute, NodeSignalKind, Side, Weights, clock};

use super::{Ending, Signal};

/// What made a change without a key press: the plan's line that armed
/// it, and who ran the console with that plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Armed {
    pub by: Automatic,
    /// The plan's line (`cutover.toml:30`).
    pub at: String,
    pub operator: String,
}

/// The two actions a plan arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Automatic {
    /// `on_failure = "revert"`: a failed step reverted.
    Revert,
    /// `advance = "auto"`: a ready step taken after its countdown.
    Autopilot,
}

impl Automatic {
    /// As the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Automatic::Revert => "revert",
            Automatic::Autopilot => "autopilot",
        }
    }
}

impl Armed {
    /// Who the change is made by, in words: `analysis, on_failure = revert
    /// (cutover.toml:30; armed by alice)`.
    pub fn who(&self) -> String {
        let what = match self.by {
            Automatic::Revert => "analysis, on_failure = revert",
            Automatic::Autopilot => "autopilot, advance = auto",
        };
        format!("{what} ({}; armed by {})", self.at, self.operator)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// When it happened on the console's clock (a spike: the minute's start).
    pub at: Timestamp,
    #[serde(flatten)]
    pub what: Marked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Marked {
    /// A confirmed weight change, as proposed: what was read, what was
    /// asked, and the proposal it was part of (a revert-all changes several).
    Weights {
        route: String,
        /// None when the route's weights had not been read (a revert from
        /// a stale view).
        from: Option<Weights>,
        to: Weights,
        who: String,
        proposal: String,
        /// A change made without a key press: what armed it. `who` says
        /// the same in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        armed: Option<Armed>,
    },
    HandoffStarted {
        singleton: String,
        from: Side,
        to: Side,
        who: String,
    },
    HandoffAborted {
        singleton: String,
        who: String,
    },
    /// Both sides ran nothing for `gap_secs`, then the target side was ready.
    HandoffDone {
        singleton: String,
        from: Side,
        to: Side,
        gap_secs: i64,
        /// Picked up after the source went while no console watched: the
        /// gap was at least `gap_secs` and at most this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gap_max_secs: Option<i64>,
    },
    HandoffFailed {
        singleton: String,
        reason: String,
    },
    /// The executor's answer to a confirmed action: the effect, described,
    /// and what came of it.
    Outcome {
        ok: bool,
        effect: String,
        text: String,
    },
    /// An action the console would not take, and why.
    Refused {
        reason: String,
        who: String,
    },
    /// A node condition that takes capacity away: the usual cause of a spike.
    Node {
        side: Side,
        node: String,
        signal: NodeSignalKind,
    },
    /// A singleton found running on neither side (outside a handoff's
    /// gap) or on both.
    Alarm {
        singleton: String,
        both: bool,
        text: String,
    },
    /// The singleton runs on one side again.
    AlarmCleared {
        singleton: String,
    },
    /// A step's analysis said something new: its verdict (`pass`, `ready`,
    /// `failing`, `fail`, `inconclusive`), that it is blind or sees again,
    /// that the autopilot counts down, or what it would have done where
    /// it may not act.
    Analysis {
        route: String,
        verdict: String,
        text: String,
    },
    /// A change of a route's weights, or of a singleton's replicas or
    /// suspension, that is not the answer to one of this session's
    /// effects. `revert`: it undoes one of this session's verified writes.
    OutsideChange {
        subject: String,
        before: String,
        after: String,
        /// Who made it, where the read tells (a Kubernetes field manager).
        who: Option<String>,
        revert: bool,
        text: String,
    },
    /// A write of this session whose answer was not awaited or lost,
    /// seen landing late: named as the session's own, never as somebody
    /// else's. `reasserted`: the session's way back it undid was written
    /// again at once.
    LateWrite {
        route: String,
        /// The late write, described.
        effect: String,
        before: Weights,
        landed: Weights,
        reasserted: bool,
        text: String,
    },
    /// A handoff an earlier session left unfinished, picked up. The
    /// handoff's own facts (who started it, when, when its source was seen
    /// gone) let the report tell it whole; recordings of earlier versions
    /// have only the text.
    HandoffResumed {
        singleton: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Side>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Side>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started: Option<jiff::Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        who: Option<String>,
        /// When the earlier session saw the source run nothing: the gap's start.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gone_at: Option<jiff::Timestamp>,
        /// When the earlier session last wrote the state file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        saved_at: Option<jiff::Timestamp>,
    },
    /// A handoff the plan's state file holds, seen by `watch`: a driver's
    /// console left it in flight (or is still driving it).
    HandoffLeft {
        singleton: String,
        text: String,
    },
    /// A signal asked the console to stop, and what it did about it; the
    /// last one says what it left.
    Signal {
        signal: Signal,
        text: String,
    },
    /// The session's end, and how.
    Ended {
        ending: Ending,
        text: String,
    },
    /// The recording could not be written from here.
    RecordingFailed {
        path: String,
        error: String,
    },
    /// The recording is written again; `lost` lines (from `lost_from` to
    /// `lost_to`) did not fit in memory meanwhile and are not in it.
    RecordingResumed {
        failed_at: jiff::Timestamp,
        written: u64,
        lost: u64,
        lost_from: Option<jiff::Timestamp>,
        lost_to: Option<jiff::Timestamp>,
    },
    /// The handoff state file cannot be written (`error`), or can again.
    StateFile {
        path: String,
        error: Option<String>,
    },
    /// A proposal confirmed with the typed override, against the warning
    /// that another writer of the object (`owner`) would undo it.
    Override {
        who: String,
        owner: String,
        proposal: String,
    },
    /// The plan's wheel changed hands, as this console saw it.
    Wheel {
        /// Who holds it from here; None: nobody (released, expired, lapsed).
        holder: Option<String>,
        /// Who held it before, as this console knew.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        how: WheelChange,
        /// The holder from here is this console.
        #[serde(default)]
        mine: bool,
        /// Since when the holder has held it, as the Lease says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Timestamp>,
        text: String,
    },
    /// A minute in which a side's 5xx share of requests went above the guard.
    Spike {
        route: String,
        side: Side,
        minute: Minute,
        percent: f64,
        guard: f64,
    },
    /// What most likely made a route's 5xx rise on one side, said when the
    /// rise is first seen and again when later evidence (a late CloudTrail
    /// event, an activity polled after the drain) changes it.
    Cause {
        route: String,
        side: Side,
        /// The first minute of the rise.
        minute: Minute,
        text: String,
    },
}

/// How a weights mark's `who` says the console wrote the session's way
/// back again by itself: `alice (the session's revert, re-asserted)`.
pub fn reasserted_by(who: &str, what: &str) -> String {
    format!("{who} (the session's {what}, re-asserted)")
}

/// The person behind a weights mark's `who`: the operator, also of a way
/// back the console wrote again by itself.
pub fn driver_of(who: &str) -> &str {
    match who.strip_suffix(", re-asserted)").and_then(|w| w.rfind(" (the session's").map(|i| &who[..i])) {
        Some(person) => person,
        None => who,
    }
}

/// How the wheel changed hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WheelChange {
    /// Taken while nobody held it.
    Acquired,
    /// Taken from its holder by the typed confirmation.
    Taken,
    /// Released by its holder on a clean quit.
    Released,
    /// Its holder stopped renewing it for longer than its duration.
    Expired,
    /// This console could not renew it and stopped driving.
    Lapsed,
    /// This console renews it again after failed renewals, nobody having
    /// taken it meanwhile.
    Regained,
    /// Found held (or free) when this console first read it.
    Seen,
}

impl WheelChange {
    pub fn label(self) -> &'static str {
        match self {
            WheelChange::Acquired => "acquired",
            WheelChange::Taken => "taken",
            WheelChange::Released => "released",
            WheelChange::Expired => "expired",
            WheelChange::Lapsed => "lapsed",
            WheelChange::Regained => "regained",
            WheelChange::Seen => "seen",
        }
    }
}

/// What kind of moment a mark is, for the timeline's glyphs and colours;
/// in rising order of what a shared cell of the timeline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkClass {
    Action,
    Refusal,
    Incident,
}

impl Mark {
    pub fn class(&self) -> MarkClass {
        match &self.what {
            Marked::Weights { .. }
            | Marked::HandoffStarted { .. }
            | Marked::HandoffAborted { .. }
            | Marked::HandoffDone { .. }
            | Marked::HandoffResumed { .. }
            | Marked::AlarmCleared { .. }
            | Marked::Override { .. }
            | Marked::Outcome { ok: true, .. } => MarkClass::Action,
            // Taken by this console is its action; from it, an incident.
            Marked::Wheel { how, mine, .. } => match how {
                WheelChange::Taken if *mine => MarkClass::Action,
                WheelChange::Taken | WheelChange::Expired | WheelChange::Lapsed => MarkClass::Incident,
                _ => MarkClass::Action,
            },
            Marked::Refused { .. } | Marked::HandoffFailed { .. } | Marked::Outcome { ok: false, .. } => {
                MarkClass::Refusal
            }
            // A step failing, failed or not to be judged is an incident;
            // the rest of what the analysis says is its part of the steps.
            Marked::Analysis { verdict, .. } => match verdict.as_str() {
                "fail" | "failing" | "blind" | "would revert" => MarkClass::Incident,
                _ => MarkClass::Action,
            },
            Marked::Node { .. }
            | Marked::Spike { .. }
            | Marked::Cause { .. }
            | Marked::Alarm { .. }
            | Marked::OutsideChange { .. }
            | Marked::LateWrite { .. }
            | Marked::HandoffLeft { .. }
            | Marked::Signal { .. }
            | Marked::RecordingFailed { .. }
            | Marked::StateFile { error: Some(_), .. } => MarkClass::Incident,
            Marked::RecordingResumed { lost, .. } if *lost > 0 => MarkClass::Incident,
            Marked::Ended { ending: Ending::Quit, .. }
            | Marked::RecordingResumed { .. }
            | Marked::StateFile { error: None, .. } => MarkClass::Action,
            Marked::Ended { .. } => MarkClass::Incident,
        }
    }

    /// One line, as the replay's status and the report's timeline say it.
    pub fn describe(&self) -> String {
        match &self.what {
            Marked::Weights { route, from, to, who, .. } => format!(
                "{who} set route {route}: {} -> old {}/new {}",
                from.map_or("weights not read".into(), |f| format!("old {}/new {}", f.old.0, f.new.0)),
                to.old.0,
                to.new.0
            ),
            Marked::HandoffStarted { singleton, from, to, who } => {
                format!("{who} started handoff of {singleton} {from} -> {to}")
            }
            Marked::HandoffAborted { singleton, who } => format!("{who} aborted handoff of {singleton}"),
            Marked::HandoffDone { singleton, from, to, gap_secs, gap_max_secs } => {
                format!(
                    "handoff of {singleton} {from} -> {to} done; nothing ran for {}",
                    gap_text(*gap_secs, *gap_max_secs)
                )
            }
            Marked::HandoffFailed { singleton, reason } => format!("handoff of {singleton} failed: {reason}"),
            Marked::Outcome { text, .. } => text.clone(),
            Marked::Alarm { text, .. } | Marked::OutsideChange { text, .. } | Marked::LateWrite { text, .. } => {
                text.clone()
            }
            Marked::AlarmCleared { singleton } => format!("singleton {singleton} runs on one side again"),
            Marked::HandoffResumed { text, .. }
            | Marked::Analysis { text, .. }
            | Marked::Wheel { text, .. }
            | Marked::HandoffLeft { text, .. }
            | Marked::Signal { text, .. }
            | Marked::Ended { text, .. } => text.clone(),
            Marked::RecordingFailed { path, error } => format!("NOT RECORDING: {error} ({path})"),
            Marked::RecordingResumed { lost: 0, written, failed_at, .. } => {
                format!("recording again: the {written} line(s) held since {} written, nothing lost", clock(*failed_at))
            }
            Marked::RecordingResumed { lost, lost_from, lost_to, .. } => format!(
                "recording again: {lost} line(s) lost{}",
                match (lost_from, lost_to) {
                    (Some(from), Some(to)) => format!(" from {} to {}", clock(*from), clock(*to)),
                    _ => String::new(),
                }
            ),
            Marked::StateFile { path, error: Some(error) } => {
                format!("the handoff state file {path} cannot be written: {error}")
            }
            Marked::StateFile { path, error: None } => format!("the handoff state file {path} can be written again"),
            Marked::Refused { reason, who } => format!("refused ({who}): {reason}"),
            Marked::Override { who, owner, proposal } => {
                format!("{who} overrode the owner ({owner}): {proposal}")
            }
            Marked::Node { side, node, signal } => format!("{side} node {node}: {}", signal.label()),
            Marked::Cause { text, .. } => format!("likely cause: {text}"),
            Marked::Spike { route, side, minute, percent, guard } => format!(
                "5xx spike on {side}, route {route}: {percent:.1}% at {} (guard {guard}%)",
                clock(minute.start())
            ),
        }
    }
}

/// A handoff's gap as said everywhere: `33s`, or `2s to 28s` when its
/// start was not seen.
pub fn gap_text(secs: i64, max: Option<i64>) -> String {
    match max {
        Some(max) if max > secs => format!("{secs}s to {max}s (its source went while no console watched)"),
        _ => format!("{secs}s"),
    }
}

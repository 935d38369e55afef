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
    /// A handoff an earlier session left unfinished, picked up.
    HandoffResumed {
        singleton: String,
        text: String,
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
            Marked::Node { .. } | Marked::Spike { .. } | Marked::Alarm { .. } | Marked::OutsideChange { .. } => {
                MarkClass::Incident
            }
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
            Marked::HandoffDone { singleton, from, to, gap_secs } => {
                format!("handoff of {singleton} {from} -> {to} done; nothing ran for {gap_secs}s")
            }
            Marked::HandoffFailed { singleton, reason } => format!("handoff of {singleton} failed: {reason}"),
            Marked::Outcome { text, .. } => text.clone(),
            Marked::Alarm { text, .. } | Marked::OutsideChange { text, .. } => text.clone(),
            Marked::AlarmCleared { singleton } => format!("singleton {singleton} runs on one side again"),
            Marked::HandoffResumed { text, .. } | Marked::Wheel { text, .. } => text.clone(),
            Marked::Refused { reason, who } => format!("refused ({who}): {reason}"),
            Marked::Override { who, owner, proposal } => {
                format!("{who} overrode the owner ({owner}): {proposal}")
            }
            Marked::Node { side, node, signal } => format!("{side} node {node}: {}", signal.label()),
            Marked::Spike { route, side, minute, percent, guard } => format!(
                "5xx spike on {side}, route {route}: {percent:.1}% at {} (guard {guard}%)",
                clock(minute.start())
            ),
        }
    }
}

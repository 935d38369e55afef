//! Who held the wheel: the periods of one holder each (or of nobody), as
//! the recording console read the plan's Lease, from its `Wheel` marks.

use jiff::Timestamp;
use serde::Serialize;

use super::{Window, time};
use crate::app::{Mark, Marked, WheelChange};

/// One holder's time at the wheel, as this console saw it.
#[derive(Debug, Clone, Serialize)]
pub struct WheelRow {
    /// Who held it; None: nobody did.
    pub holder: Option<String>,
    /// The holder is the recorded console.
    pub mine: bool,
    #[serde(with = "time::rfc3339")]
    pub from: Timestamp,
    /// None: still so when the recording ends.
    #[serde(with = "time::rfc3339_option")]
    pub to: Option<Timestamp>,
    /// How it came to this holder.
    pub began: WheelChange,
    /// How it left them; None: it had not when the recording ends.
    pub ended: Option<WheelChange>,
    /// Who took it from them, when it was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken_by: Option<String>,
}

impl WheelRow {
    /// How the period began, in words.
    pub fn began_text(&self) -> String {
        match (self.began, &self.holder) {
            (WheelChange::Seen, Some(_)) => "held when this console first read the lease".into(),
            (WheelChange::Seen, None) => "nobody held it when this console first read the lease".into(),
            (WheelChange::Acquired, _) => "taken while nobody held it".into(),
            (WheelChange::Taken, _) => "taken by the typed confirmation".into(),
            (WheelChange::Regained, _) => "renewed again after failed renewals".into(),
            (WheelChange::Released, _) => "released by its holder".into(),
            (WheelChange::Expired, _) => "its holder's lease expired".into(),
            (WheelChange::Lapsed, _) => "this console could not renew it".into(),
        }
    }

    /// How the period ended, in words.
    pub fn ended_text(&self) -> String {
        match (self.ended, &self.taken_by) {
            (None, _) => "held at the end of the recording".into(),
            (Some(WheelChange::Taken), Some(by)) => format!("taken by {by}"),
            (Some(WheelChange::Released), _) => "released on quit".into(),
            (Some(WheelChange::Expired), _) => "expired: not renewed".into(),
            (Some(WheelChange::Lapsed), _) => "not renewed in time: this console stopped driving".into(),
            (Some(WheelChange::Acquired), Some(by)) => format!("taken by {by}"),
            (Some(other), _) => other.label().into(),
        }
    }
}

/// The periods from the recording's `Wheel` marks (in time order) that
/// touch the window.
pub(super) fn rows(marks: &[Mark], window: &Window) -> Vec<WheelRow> {
    let mut rows: Vec<WheelRow> = Vec::new();
    for mark in marks {
        let Marked::Wheel { holder, how, mine, since, .. } = &mark.what else { continue };
        if let Some(last) = rows.last_mut() {
            last.to = Some(mark.at);
            last.ended = Some(*how);
            last.taken_by = holder.clone().filter(|_| matches!(how, WheelChange::Taken | WheelChange::Acquired));
        }
        // A holder found at the start held it from its acquire time.
        let from = match (how, since) {
            (WheelChange::Seen, Some(since)) if rows.is_empty() => (*since).min(mark.at),
            _ => mark.at,
        };
        rows.push(WheelRow {
            holder: holder.clone(),
            mine: *mine,
            from,
            to: None,
            began: *how,
            ended: None,
            taken_by: None,
        });
    }
    rows.retain(|r| window.whole || (r.from <= window.to && r.to.is_none_or(|to| to >= window.from)));
    rows
}

//! Singletons: each handoff from its start (or its pick-up from an
//! earlier session) to its end and gap, and each alarm of one running on
//! neither side or on both.

use jiff::Timestamp;

use crate::app::{Mark, Marked};
use crate::report::{AlarmRow, HandoffRow};

pub(super) fn handoffs(marks: &[Mark]) -> Vec<HandoffRow> {
    let mut rows: Vec<HandoffRow> = Vec::new();
    for mark in marks {
        fn open<'a>(rows: &'a mut [HandoffRow], singleton: &str, at: Timestamp) -> Option<&'a mut HandoffRow> {
            let row = rows.iter_mut().rev().find(|r| r.singleton == singleton && r.ended.is_none())?;
            row.ended = Some(at);
            Some(row)
        }
        match &mark.what {
            Marked::HandoffStarted { singleton, from, to, who } => rows.push(HandoffRow {
                singleton: singleton.clone(),
                from: *from,
                to: *to,
                started: mark.at,
                ended: None,
                who: who.clone(),
                result: "still running when the recording ends".into(),
                gap_secs: None,
                gap_max_secs: None,
                picked_up: None,
            }),
            // A handoff an earlier session started: its row, from its start.
            Marked::HandoffResumed { singleton, from: Some(from), to: Some(to), started, who, .. } => {
                if rows.iter().any(|r| &r.singleton == singleton && r.ended.is_none()) {
                    continue;
                }
                rows.push(HandoffRow {
                    singleton: singleton.clone(),
                    from: *from,
                    to: *to,
                    started: started.unwrap_or(mark.at),
                    ended: None,
                    who: who.clone().unwrap_or_else(|| "an earlier session".into()),
                    result: "still running when the recording ends".into(),
                    gap_secs: None,
                    gap_max_secs: None,
                    picked_up: Some(mark.at),
                })
            }
            Marked::HandoffDone { singleton, gap_secs, gap_max_secs, .. } => {
                if let Some(row) = open(&mut rows, singleton, mark.at) {
                    row.result = "done".into();
                    row.gap_secs = Some(*gap_secs);
                    row.gap_max_secs = *gap_max_secs;
                }
            }
            Marked::HandoffAborted { singleton, who } => {
                if let Some(row) = open(&mut rows, singleton, mark.at) {
                    row.result = format!("aborted by {who}");
                }
            }
            Marked::HandoffFailed { singleton, reason } => {
                if let Some(row) = open(&mut rows, singleton, mark.at) {
                    row.result = format!("failed: {reason}");
                }
            }
            _ => {}
        }
    }
    rows
}

pub(super) fn alarms(marks: &[Mark]) -> Vec<AlarmRow> {
    let mut rows: Vec<AlarmRow> = Vec::new();
    for mark in marks {
        match &mark.what {
            Marked::Alarm { singleton, both, text } => {
                let open = rows.iter_mut().rev().find(|r| &r.singleton == singleton && r.until.is_none());
                if let Some(open) = open {
                    open.until = Some(mark.at);
                }
                rows.push(AlarmRow {
                    singleton: singleton.clone(),
                    ran_on: if *both { "both" } else { "neither" },
                    from: mark.at,
                    until: None,
                    text: text.clone(),
                });
            }
            Marked::AlarmCleared { singleton } => {
                if let Some(open) = rows.iter_mut().rev().find(|r| &r.singleton == singleton && r.until.is_none()) {
                    open.until = Some(mark.at);
                }
            }
            _ => {}
        }
    }
    rows
}

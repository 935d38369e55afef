//! How the session ended and what the recording missed: its last `Ended`
//! mark, and every stretch it could not be written.

use crate::app::{Ending, Mark, Marked};
use crate::report::{EndRow, RecordingGap};

/// How the session ended: its last `Ended` mark, said with the last thing
/// a signal's stop said (what it left).
pub(super) fn ending(marks: &[Mark]) -> Option<EndRow> {
    let end = marks.iter().rev().find(|m| matches!(m.what, Marked::Ended { .. }))?;
    let Marked::Ended { ending, text } = &end.what else { return None };
    let (how, signal) = match ending {
        Ending::Quit => ("quit", None),
        Ending::Signal(s) => ("signal", Some(s.name())),
        Ending::Error(_) => ("error", None),
        Ending::Crash(_) => ("crash", None),
    };
    let said = marks.iter().rev().find_map(|m| match &m.what {
        Marked::Signal { text, .. } if signal.is_some() => Some(text.clone()),
        _ => None,
    });
    let own = match ending {
        Ending::Error(e) | Ending::Crash(e) => e.clone(),
        _ => text.clone(),
    };
    Some(EndRow { at: end.at, how, signal, text: said.unwrap_or(own) })
}

/// Every stretch the recording could not be written, from its marks.
pub(super) fn recording_gaps(marks: &[Mark]) -> Vec<RecordingGap> {
    let mut rows: Vec<RecordingGap> = Vec::new();
    for mark in marks {
        match &mark.what {
            Marked::RecordingFailed { error, .. } => rows.push(RecordingGap {
                from: mark.at,
                to: None,
                error: error.clone(),
                written_late: 0,
                lost: 0,
                lost_from: None,
                lost_to: None,
            }),
            Marked::RecordingResumed { failed_at, written, lost, lost_from, lost_to } => {
                let open = rows.iter_mut().rev().find(|r| r.to.is_none());
                let row = match open {
                    Some(row) => row,
                    None => {
                        rows.push(RecordingGap {
                            from: *failed_at,
                            to: None,
                            error: "not recorded".into(),
                            written_late: 0,
                            lost: 0,
                            lost_from: None,
                            lost_to: None,
                        });
                        let Some(row) = rows.last_mut() else { continue };
                        row
                    }
                };
                row.to = Some(mark.at);
                row.written_late = *written;
                row.lost = *lost;
                row.lost_from = *lost_from;
                row.lost_to = *lost_to;
            }
            _ => {}
        }
    }
    rows
}

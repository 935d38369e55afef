//! Who held the wheel: the periods of one holder each (or of nobody), as
//! the recording console read the plan's Lease, from its `Wheel` marks.

use crate::app::{Mark, Marked, WheelChange};
use crate::report::{WheelRow, Window};

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

//! Likely causes and the risks of the night: what the console said made
//! each 5xx rise (its last word on it: a late CloudTrail event may have
//! changed it), and the lifecycle risks as it last judged them.

use crate::app::{App, Mark, Marked};
use crate::report::{CauseRow, RiskRow};

/// The last cause said of each rise, in the order the rises began.
pub(super) fn causes(marks: &[Mark]) -> Vec<CauseRow> {
    let mut rows: Vec<CauseRow> = Vec::new();
    for m in marks {
        let Marked::Cause { route, side, minute, text } = &m.what else { continue };
        let row = CauseRow { route: route.clone(), side: *side, from: minute.start(), said: m.at, text: text.clone() };
        match rows.iter_mut().find(|r| &r.route == route && r.side == *side && r.from == minute.start()) {
            Some(r) => *r = row,
            None => rows.push(row),
        }
    }
    rows.sort_by(|a, b| (a.from, &a.route, a.side).cmp(&(b.from, &b.route, b.side)));
    rows
}

/// The risks as the console last judged them.
pub(super) fn risks(app: &App) -> Vec<RiskRow> {
    app.risks
        .iter()
        .map(|r| RiskRow {
            side: r.side,
            route: r.route.clone(),
            kind: r.kind,
            finding: r.finding.clone(),
            means: r.kind.means(),
            change: r.change.clone(),
        })
        .collect()
}

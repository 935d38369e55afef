//! Refusals, overrides and outside changes: the rows that are one mark
//! each, of what was not done, what was done over an owner's head, and
//! what others changed.

use crate::app::{Mark, Marked};
use crate::report::{OutsideRow, OverrideRow, Refusal};

/// Refused by the console's guards, or refused or failed in the executor.
pub(super) fn refusals(marks: &[Mark], operators: &[String]) -> Vec<Refusal> {
    let operator = operators.last().cloned().unwrap_or_else(|| "unknown".into());
    marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Refused { reason, who } => {
                Some(Refusal { at: m.at, by: "console", who: who.clone(), reason: reason.clone() })
            }
            Marked::Outcome { ok: false, text, .. } => {
                Some(Refusal { at: m.at, by: "executor", who: operator.clone(), reason: text.clone() })
            }
            _ => None,
        })
        .collect()
}

/// Proposals confirmed with the typed override.
pub(super) fn overrides(marks: &[Mark]) -> Vec<OverrideRow> {
    marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::Override { who, owner, proposal } => {
                Some(OverrideRow { at: m.at, who: who.clone(), owner: owner.clone(), proposal: proposal.clone() })
            }
            _ => None,
        })
        .collect()
}

/// Changes of the plan's routes and singletons not made by this session.
pub(super) fn outside(marks: &[Mark]) -> Vec<OutsideRow> {
    marks
        .iter()
        .filter_map(|m| match &m.what {
            Marked::OutsideChange { subject, before, after, who, revert, .. } => Some(OutsideRow {
                at: m.at,
                subject: subject.clone(),
                before: before.clone(),
                after: after.clone(),
                who: who.clone(),
                revert: *revert,
            }),
            _ => None,
        })
        .collect()
}

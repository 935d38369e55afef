//! The timeline: one line per action, its marks folded together, and one
//! per incident.

use super::steps::weight_outcome;
use crate::app::{Mark, MarkClass, Marked};
use crate::domain::SingletonSpec;
use crate::domain::{Side, clock};
use crate::report::Moment;
use crate::report::doc::weights;

fn class_name(class: MarkClass) -> &'static str {
    match class {
        MarkClass::Action => "action",
        MarkClass::Refusal => "refused",
        MarkClass::Incident => "incident",
    }
}

/// The kind a mark is serialized with (`weights`, `node`...).
fn mark_kind(what: &Marked) -> String {
    serde_json::to_value(what)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(String::from))
        .unwrap_or_default()
}

/// The timeline, one line per action: a weight change's override, its
/// confirmation and the executor's answer are one line; a handoff's start,
/// its scalings and its end are one line.
pub(super) fn timeline(marks: &[Mark], singletons: &[SingletonSpec]) -> Vec<Moment> {
    let mut used = vec![false; marks.len()];
    let mut out = Vec::new();
    for i in 0..marks.len() {
        if used[i] {
            continue;
        }
        let mark = &marks[i];
        let mut moment = Moment {
            at: mark.at,
            class: class_name(mark.class()),
            kind: mark_kind(&mark.what),
            who: None,
            text: mark.describe(),
            until: None,
            marks: 1,
        };
        match &mark.what {
            Marked::Override { proposal, .. } => {
                // Told with the action it let through, when that is here.
                let action =
                    (i + 1..marks.len()).take_while(|j| marks[*j].at == mark.at).any(|j| match &marks[j].what {
                        Marked::Weights { proposal: p, .. } => p == proposal,
                        Marked::HandoffStarted { singleton, .. } => proposal.contains(&format!(" {singleton} ")),
                        _ => false,
                    });
                if action {
                    continue;
                }
            }
            Marked::Weights { route, from, to, who, proposal, .. } => {
                let override_by = take_override(marks, &mut used, i, |p| p == proposal);
                let change = match from {
                    Some(f) => format!("{} → {}", weights(*f), weights(*to)),
                    None => format!("weights not read → {}", weights(*to)),
                };
                let mut text = format!("{who}: {proposal} ({change})");
                if let Some(owner) = override_by {
                    text.push_str(&format!(", with the typed override (owner: {owner})"));
                    moment.marks += 1;
                }
                match weight_outcome(marks, i, route) {
                    Some(j) if !used[j] => {
                        used[j] = true;
                        moment.marks += 1;
                        moment.until = Some(marks[j].at);
                        if let Marked::Outcome { ok, text: answer, .. } = &marks[j].what {
                            let when = if marks[j].at == mark.at {
                                String::new()
                            } else {
                                format!(" at {}", clock(marks[j].at))
                            };
                            if *ok {
                                text.push_str(&format!(": verified{when}"));
                            } else {
                                moment.class = "refused";
                                text.push_str(&format!(": {answer}{when}"));
                            }
                        }
                    }
                    _ => text.push_str(": no answer recorded"),
                }
                moment.who = Some(who.clone());
                moment.text = text;
            }
            Marked::HandoffStarted { singleton, .. } | Marked::HandoffResumed { singleton, from: Some(_), .. } => {
                let keys: Vec<String> = singletons
                    .iter()
                    .filter(|s| &s.name == singleton)
                    .flat_map(|s| Side::BOTH.map(|side| format!("{} on ", s.key(side))))
                    .collect();
                let (who, mut text) = match &mark.what {
                    Marked::HandoffStarted { from, to, who, .. } => {
                        (who.clone(), format!("{who}: handoff of {singleton} {from} → {to}"))
                    }
                    Marked::HandoffResumed { from, to, who, started, .. } => {
                        let who = who.clone().unwrap_or_else(|| "an earlier session".into());
                        let side = |s: &Option<Side>| s.map_or("?".to_string(), |s| s.to_string());
                        let when = started.map(|t| format!(" at {}", clock(t))).unwrap_or_default();
                        let text = format!(
                            "{who}: handoff of {singleton} {} → {}, started{when} by an earlier session and picked up here",
                            side(from),
                            side(to)
                        );
                        (who, text)
                    }
                    _ => continue,
                };
                if let Some(owner) = take_override(marks, &mut used, i, |p| p.contains(&format!(" {singleton} "))) {
                    text.push_str(&format!(", with the typed override (owner: {owner})"));
                    moment.marks += 1;
                }
                let mut end = " still running when the recording ends".to_string();
                for j in i + 1..marks.len() {
                    if used[j] {
                        continue;
                    }
                    let fold = match &marks[j].what {
                        Marked::Outcome { effect, text: answer, ok }
                            if keys.iter().any(|k| effect.contains(k.as_str())) =>
                        {
                            if !ok {
                                end = format!(" {answer} at {}", clock(marks[j].at));
                            }
                            Some(false)
                        }
                        Marked::HandoffDone { singleton: s, gap_secs, gap_max_secs, .. } if s == singleton => {
                            end = format!(
                                " done at {}, nothing ran for {}",
                                clock(marks[j].at),
                                crate::app::gap_text(*gap_secs, *gap_max_secs)
                            );
                            Some(true)
                        }
                        Marked::HandoffAborted { singleton: s, who } if s == singleton => {
                            end = format!(" aborted by {who} at {}", clock(marks[j].at));
                            Some(true)
                        }
                        Marked::HandoffFailed { singleton: s, reason } if s == singleton => {
                            end = format!(" failed at {}: {reason}", clock(marks[j].at));
                            moment.class = "refused";
                            Some(true)
                        }
                        Marked::HandoffStarted { singleton: s, .. } | Marked::HandoffResumed { singleton: s, .. }
                            if s == singleton =>
                        {
                            break;
                        }
                        _ => None,
                    };
                    if let Some(last) = fold {
                        used[j] = true;
                        moment.marks += 1;
                        moment.until = Some(marks[j].at);
                        if last {
                            break;
                        }
                    }
                }
                moment.kind = "handoff".into();
                moment.who = Some(who);
                moment.text = format!("{text}:{end}");
            }
            Marked::Refused { who, .. } | Marked::HandoffAborted { who, .. } => moment.who = Some(who.clone()),
            _ => {}
        }
        out.push(moment);
    }
    out
}

/// The override confirmed with the action at `i`, marked used; who it
/// overrode.
fn take_override(marks: &[Mark], used: &mut [bool], i: usize, matches: impl Fn(&str) -> bool) -> Option<String> {
    let at = marks[i].at;
    let j = (0..i)
        .rev()
        .take_while(|j| marks[*j].at == at)
        .find(|j| !used[*j] && matches!(&marks[*j].what, Marked::Override { proposal, .. } if matches(proposal)))?;
    used[j] = true;
    match &marks[j].what {
        Marked::Override { owner, .. } => Some(owner.clone()),
        _ => None,
    }
}

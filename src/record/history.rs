//! What earlier sessions of a plan saw last of each route's weights, read
//! from their recordings at the start: pacing (`min_dwell`) counts from the
//! last change the console can see, not from its own first read, so a
//! restart does not make a route look long settled.
//!
//! Only the marks are parsed (a line's kind is read from its first bytes,
//! the rest of a message or keyframe is skipped unparsed), newest
//! recordings first, and the work is bounded: at most [`MAX_RECORDINGS`] of
//! the plan and [`MAX_BYTES`] in all. A change counts when the executor
//! verified it (an `outcome` mark, ok, for the route) or a read showed it
//! (an `outside_change` mark of the route).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::app::{Marked, Mode};
use crate::domain::{PriorChange, Weight, Weights};

use super::{Kind, Line, classify, parse_header, parse_line};

/// Recordings of the plan read at most, newest first.
pub const MAX_RECORDINGS: usize = 12;
/// Recording files whose header is looked at, newest first.
const MAX_HEADERS: usize = 200;
/// Bytes read in all, over every recording.
pub const MAX_BYTES: u64 = 512 << 20;

/// What the recordings in `dirs` say of `plan`'s routes: each route's last
/// change, and how many recordings of the plan were read. Recordings of
/// sessions that began at `before` or later (this session's own, being
/// written) are left out. A file that cannot be read is passed over: this
/// helps the operator, and is never a reason not to start.
pub fn last_changes(
    dirs: &[PathBuf],
    plan: &str,
    routes: &[String],
    before: jiff::Timestamp,
) -> (Vec<PriorChange>, u32) {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "jsonl") || files.iter().any(|(_, p)| *p == path) {
                continue;
            }
            let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
            files.push((modified, path));
        }
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    let mut found: Vec<PriorChange> = Vec::new();
    let mut read = 0u32;
    let mut budget = MAX_BYTES;
    for (_, path) in files.into_iter().take(MAX_HEADERS) {
        if read as usize >= MAX_RECORDINGS || budget == 0 || found.len() == routes.len() {
            break;
        }
        let Some(changes) = changes_in(&path, plan, before, &mut budget) else { continue };
        read += 1;
        let source = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        for (route, (at, to)) in changes {
            // A newer recording's last change stands.
            if routes.contains(&route) && !found.iter().any(|c| c.route == route) {
                found.push(PriorChange { route, at, to, source: format!("recording {source}") });
            }
        }
    }
    (found, read)
}

/// The last change of each route in one recording of `plan`; None when it
/// is not one (another plan, a demo, not a recording).
fn changes_in(
    path: &Path,
    plan: &str,
    before: jiff::Timestamp,
    budget: &mut u64,
) -> Option<Vec<(String, (jiff::Timestamp, Weights))>> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).ok()?);
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line).ok()?;
    *budget = budget.saturating_sub(n as u64);
    let header = parse_header(path, &String::from_utf8_lossy(&line)).ok()?;
    // A demo's world is simulated: its weights are nobody's.
    if header.config.title != plan || header.config.mode == Mode::Demo || header.started >= before {
        return None;
    }
    let mut last: Vec<(String, (jiff::Timestamp, Weights))> = Vec::new();
    loop {
        line.clear();
        let n = match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        *budget = budget.saturating_sub(n as u64);
        if *budget == 0 {
            break;
        }
        if !matches!(classify(&line), Some((_, Kind::Mark))) {
            continue;
        }
        let Ok((_, Line::Mark(mark))) = parse_line(String::from_utf8_lossy(&line).trim_end()) else { continue };
        let change = match &mark.what {
            Marked::Outcome { ok: true, effect, .. } => effect
                .strip_prefix("route ")
                .and_then(|rest| rest.split_once(':'))
                .and_then(|(route, what)| weights_in(what).map(|w| (route, w))),
            Marked::OutsideChange { subject, after, .. } => {
                subject.strip_prefix("route ").and_then(|route| weights_in(after).map(|w| (route, w)))
            }
            _ => None,
        };
        if let Some((route, to)) = change {
            last.retain(|(r, _)| r != route);
            last.push((route.to_string(), (mark.at, to)));
        }
    }
    Some(last)
}

/// The last `old O / new N` (or `old O/new N`) in a text: the weights an
/// effect set or a read showed.
fn weights_in(text: &str) -> Option<Weights> {
    let (_, rest) = text.rsplit_once("old ")?;
    let digits = |s: &str| -> Option<(u16, usize)> {
        let n = s.chars().take_while(char::is_ascii_digit).count();
        Some((s[..n].parse().ok()?, n))
    };
    let (old, n) = digits(rest)?;
    let rest = rest[n..].trim_start().strip_prefix('/')?.trim_start().strip_prefix("new ")?;
    let (new, _) = digits(rest)?;
    Some(Weights { old: Weight(old), new: Weight(new) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_read_from_an_effect_and_from_a_read() {
        let w = |o, n| Some(Weights { old: Weight(o), new: Weight(n) });
        assert_eq!(weights_in(" weights old 50 / new 50"), w(50, 50));
        assert_eq!(weights_in(" revert to old 100 / new 0"), w(100, 0));
        assert_eq!(weights_in("old 60/new 40"), w(60, 40));
        assert_eq!(
            weights_in(" Ingress app/web on new, alb.ingress.kubernetes.io/actions.web: old 90 / new 10"),
            w(90, 10)
        );
        assert_eq!(weights_in("replicas 1"), None);
        assert_eq!(weights_in("old x / new 1"), None);
    }
}

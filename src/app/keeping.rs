//! What the console keeps of itself: its recording and the handoff state
//! file. The runtime says what happened to them (a write that failed, a
//! recording written again, a state file that cannot be written) as
//! recorded messages, so `update` stays pure, the screen and the quit
//! question can tell the truth, and a replay and the report know what the
//! session knew.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{App, Handoff, Level, Marked, signal};
use crate::domain::clock;

/// What the runtime found about a file the session keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Keeping {
    /// The recording could not be written: its lines are held in memory
    /// (up to a bound) and written when it can write again.
    RecordingFailed { path: String, error: String },
    /// The recording is written again: the `written` lines held since
    /// `failed_at` went in; `lost` lines past the memory bound did not,
    /// the first at `lost_from`, the last at `lost_to` (console clock).
    RecordingResumed {
        failed_at: Timestamp,
        written: u64,
        lost: u64,
        lost_from: Option<Timestamp>,
        lost_to: Option<Timestamp>,
    },
    /// Whether the handoff state file can be written: `error` when not.
    StateFile { path: String, error: Option<String> },
}

/// A file the session cannot keep, since when, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trouble {
    pub path: String,
    pub error: String,
    pub since: Timestamp,
}

/// What the session cannot keep, and a handoff another console of the
/// plan left on disk (what `watch` shows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeepingState {
    /// The recording is not being written.
    pub recording: Option<Trouble>,
    /// The handoff state file cannot be written: a handoff in flight would
    /// not survive this console.
    pub state_file: Option<Trouble>,
    /// The handoff the plan's state file holds, as `watch` read it.
    pub left: Option<Left>,
}

/// The recording held in memory while it cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub lines: u64,
    pub bytes: u64,
    /// Lines dropped once the bound was reached: lost to the recording.
    pub dropped: u64,
}

/// A handoff in flight as a driver's console last wrote it to the plan's
/// state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Left {
    pub handoff: Handoff,
    pub saved_at: Timestamp,
}

/// An I/O error as the screen says it: `no space left on device`, not
/// `No space left on device (os error 28)`.
pub fn error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

pub fn on_keeping(app: &mut App, keeping: Keeping) -> bool {
    let at = app.now;
    match keeping {
        Keeping::RecordingFailed { path, error } => {
            let text = format!(
                "NOT RECORDING: {error} ({path}): its lines are held in memory and written when it can write again"
            );
            app.keeping.recording = Some(Trouble { path: path.clone(), error: error.clone(), since: at });
            app.push_event(at, None, Level::Alert, text);
            app.mark(at, Marked::RecordingFailed { path, error });
        }
        Keeping::RecordingResumed { failed_at, written, lost, lost_from, lost_to } => {
            app.keeping.recording = None;
            let text = match (lost, lost_from, lost_to) {
                (0, ..) => format!(
                    "recording again: the {written} line(s) held since {} are written; nothing was lost",
                    clock(failed_at)
                ),
                (n, Some(from), Some(to)) => format!(
                    "recording again, {n} line(s) LOST from {} to {} (more than memory holds); the {written} held since {} are written",
                    clock(from),
                    clock(to),
                    clock(failed_at)
                ),
                (n, ..) => format!("recording again, {n} line(s) LOST; the {written} held are written"),
            };
            let level = if lost == 0 { Level::Info } else { Level::Alert };
            app.push_event(at, None, level, text);
            app.mark(at, Marked::RecordingResumed { failed_at, written, lost, lost_from, lost_to });
        }
        Keeping::StateFile { path, error: Some(error) } => {
            if app.keeping.state_file.as_ref().is_some_and(|t| t.path == path && t.error == error) {
                return false;
            }
            let text = format!(
                "HANDOFF STATE NOT KEPT: {path} cannot be written ({error}): a handoff in flight would not survive this console, so one needs the typed override"
            );
            app.keeping.state_file = Some(Trouble { path: path.clone(), error: error.clone(), since: at });
            app.push_event(at, None, Level::Alert, text);
            app.mark(at, Marked::StateFile { path, error: Some(error) });
        }
        Keeping::StateFile { path, error: None } => {
            if app.keeping.state_file.take().is_none() {
                return false;
            }
            app.push_event(at, None, Level::Info, format!("the handoff state file {path} can be written again"));
            app.mark(at, Marked::StateFile { path, error: None });
        }
    }
    true
}

/// The plan's state file as `watch` read it: a handoff left in flight is
/// said at once (nobody may be driving it), read-only.
pub fn on_disk(app: &mut App, left: Option<Left>) -> bool {
    let at = app.now;
    let before = app.keeping.left.take();
    match left {
        Some(left) => {
            let same = before.as_ref().is_some_and(|b| b.handoff.phase == left.handoff.phase);
            if !same {
                let h = &left.handoff;
                let who = if h.who.is_empty() { "a driver's console" } else { h.who.as_str() };
                let text = format!(
                    "HANDOFF LEFT IN FLIGHT, per the plan's state file (written {} by {who}): {}; if no console drives it, {}",
                    clock(left.saved_at),
                    h.state_text(),
                    signal::next_run(app, h)
                );
                app.push_event(at, None, Level::Alert, text.clone());
                app.mark(at, Marked::HandoffLeft { singleton: h.spec.name.clone(), text });
            }
            app.keeping.left = Some(left);
            !same
        }
        None => {
            let Some(before) = before else { return false };
            let text = format!(
                "the plan's state file no longer holds a handoff of {}: it ended or was picked up",
                before.handoff.spec.name
            );
            app.push_event(at, None, Level::Info, text);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_said_in_the_screens_words() {
        let e = std::io::Error::from_raw_os_error(28);
        assert_eq!(error_text(&e), "no space left on device");
        let e = std::io::Error::from_raw_os_error(30);
        assert_eq!(error_text(&e), "read-only file system");
        assert_eq!(error_text(&std::io::Error::other("Odd")), "odd");
    }
}

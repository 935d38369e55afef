//! The handoff in flight, kept on disk while it is in flight, so that a
//! console that quits or is killed mid-handoff is picked up by the next
//! `cutover run` of the same plan, rather than leaving a singleton
//! stopped on one side and never started on the other.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::{App, Handoff};

#[derive(Serialize, Deserialize)]
struct Saved {
    /// The console's clock when it was written.
    saved_at: Timestamp,
    handoff: Handoff,
}

pub struct HandoffFile {
    path: PathBuf,
    /// What the file holds now, to write only on a change.
    written: Option<String>,
}

impl HandoffFile {
    /// The file of a plan, in the state directory beside the recordings:
    /// `$XDG_STATE_HOME/cutover/handoffs/<plan name>.json`.
    pub fn for_plan(plan_name: &str) -> Option<HandoffFile> {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        let name: String = plan_name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        Some(HandoffFile::at(base.join("cutover/handoffs").join(format!("{name}.json"))))
    }

    pub fn at(path: PathBuf) -> HandoffFile {
        HandoffFile { path, written: None }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The handoff an earlier session left unfinished, if any.
    pub fn load(&mut self) -> Result<Option<(Handoff, Timestamp)>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        let saved: Saved = serde_json::from_str(&text).map_err(|e| {
            format!("{}:{}:{}: {e} (move the file away to start without it)", self.path.display(), e.line(), e.column())
        })?;
        self.written = Some(text);
        Ok((!saved.handoff.phase.finished()).then_some((saved.handoff, saved.saved_at)))
    }

    /// Writes the app's handoff if it is in flight and changed, or removes
    /// the file once it is over. Written whole to a temporary file and
    /// renamed, so a crash leaves the old state or the new, never half.
    pub fn save(&mut self, app: &App) -> std::io::Result<()> {
        let in_flight = app.handoff.as_ref().filter(|h| !h.phase.finished());
        let Some(handoff) = in_flight else {
            if self.written.take().is_some() || self.path.exists() {
                match std::fs::remove_file(&self.path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            return Ok(());
        };
        let text = serde_json::to_string_pretty(&SavedRef { saved_at: app.now, handoff })?;
        if self.written.as_deref().is_some_and(|w| same_handoff(w, &text)) {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        self.written = Some(text);
        Ok(())
    }
}

#[derive(Serialize)]
struct SavedRef<'a> {
    saved_at: Timestamp,
    handoff: &'a Handoff,
}

/// Whether two saved texts hold the same handoff (the time it was saved
/// at aside): the clock alone moving is no reason to write.
fn same_handoff(a: &str, b: &str) -> bool {
    let strip = |t: &str| t.split_once("\"handoff\"").map(|(_, rest)| rest.to_string());
    strip(a).is_some() && strip(a) == strip(b)
}

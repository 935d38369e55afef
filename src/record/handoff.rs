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
    /// The handoff the file holds now, to write only on a change.
    saved: Option<Handoff>,
    /// Whether the file exists (checked once, at `load`).
    on_disk: bool,
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
        HandoffFile { path, saved: None, on_disk: false }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file can be written where it goes: its directory is made
    /// and a file written there and removed.
    pub fn probe(&self) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let probe = self.path.with_extension("json.probe");
        std::fs::write(&probe, b"{}")?;
        std::fs::remove_file(&probe)
    }

    /// The file as another console left it, read only (`watch`): the
    /// handoff in flight it holds, or none.
    pub fn peek(&self) -> Result<Option<(Handoff, Timestamp)>, String> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        let saved: Saved = serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", self.path.display(), e.line(), e.column()))?;
        Ok((!saved.handoff.phase.finished()).then_some((saved.handoff, saved.saved_at)))
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
        self.on_disk = true;
        if saved.handoff.phase.finished() {
            return Ok(None);
        }
        self.saved = Some(saved.handoff.clone());
        Ok(Some((saved.handoff, saved.saved_at)))
    }

    /// Writes the app's handoff if it is in flight and changed, or removes
    /// the file once it is over. Written whole to a temporary file and
    /// renamed, so a crash leaves the old state or the new, never half.
    /// Whether the file was written (or removed).
    pub fn save(&mut self, app: &App) -> std::io::Result<bool> {
        let in_flight = app.handoff.as_ref().filter(|h| !h.phase.finished());
        if in_flight == self.saved.as_ref() && (in_flight.is_some() || !self.on_disk) {
            return Ok(false);
        }
        self.write(app)
    }

    /// On the way out: the handoff in flight written again, so its time
    /// says until when this console watched it.
    pub fn save_at_exit(&mut self, app: &App) -> std::io::Result<bool> {
        self.write(app)
    }

    fn write(&mut self, app: &App) -> std::io::Result<bool> {
        let in_flight = app.handoff.as_ref().filter(|h| !h.phase.finished());
        if in_flight.is_none() && !self.on_disk {
            return Ok(false);
        }
        let Some(handoff) = in_flight else {
            match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            self.saved = None;
            self.on_disk = false;
            return Ok(true);
        };
        let text = serde_json::to_string_pretty(&SavedRef { saved_at: app.now, handoff })?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        self.saved = Some(handoff.clone());
        self.on_disk = true;
        Ok(true)
    }
}

#[derive(Serialize)]
struct SavedRef<'a> {
    saved_at: Timestamp,
    handoff: &'a Handoff,
}

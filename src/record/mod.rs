//! Session recordings: the console's `Msg` stream with timestamps, after a
//! header that says what the session was. Replaying the stream through the
//! same `update` rebuilds every screen the operator could have seen.
//!
//! Format (JSON Lines, UTF-8):
//! - line 1, the header: `{"format":"cutover-recording","version":1,...}`;
//! - then one entry per message: `{"t":<unix ms>,"m":<Msg>}`.
//!
//! Entries are appended as they happen and flushed at least once a second,
//! so a crash loses at most the last second; a reader stops at the first
//! line it cannot read, says where, and keeps everything before it.
//! Secrets cannot be in a recording: sources trim objects to domain types
//! that have no field for environment values, tokens or credentials.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::{AppConfig, Msg};

pub const FORMAT: &str = "cutover-recording";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The longest a written message may wait in memory before reaching the file.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The cutover version that wrote it.
    pub tool: String,
    pub started: Timestamp,
    /// The plan as the console used it (names, ARN-derived names, guards):
    /// no credentials are ever part of it.
    pub config: AppConfig,
    pub operator: Option<String>,
    /// Columns and rows of the terminal at the start.
    pub terminal: (u16, u16),
}

impl Header {
    pub fn new(config: AppConfig, started: Timestamp, terminal: (u16, u16)) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            tool: env!("CARGO_PKG_VERSION").into(),
            started,
            config,
            operator: None,
            terminal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Unix milliseconds when the console received the message.
    pub t: i64,
    pub m: Msg,
}

pub struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    last_flush: Instant,
}

impl Writer {
    /// Creates the file (never overwriting one) and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Writer, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| format!("cannot create the recording {}: {e}", path.display()))?;
        let mut w = Writer { path: path.to_path_buf(), out: BufWriter::new(file), last_flush: Instant::now() };
        w.line(header).map_err(|e| format!("cannot write the recording {}: {e}", path.display()))?;
        w.out.flush().map_err(|e| format!("cannot write the recording {}: {e}", path.display()))?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn line<T: Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(std::io::Error::other)?;
        self.out.write_all(b"\n")
    }

    /// Appends one message; flushes when the last flush is a second old.
    pub fn append(&mut self, at: Timestamp, msg: &Msg) -> std::io::Result<()> {
        self.line(&EntryRef { t: at.as_millisecond(), m: msg })?;
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.last_flush = Instant::now();
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[derive(Serialize)]
struct EntryRef<'a> {
    t: i64,
    m: &'a Msg,
}

/// A recording read back: everything up to the first unreadable line.
#[derive(Debug)]
pub struct Recording {
    pub header: Header,
    pub entries: Vec<Entry>,
    /// Why reading stopped before the end of the file, if it did: a
    /// truncated or damaged tail, said with its byte offset and line.
    pub stopped: Option<String>,
}

/// Reads a whole recording. A header this build cannot read is an error;
/// a damaged entry ends the read there, with the reason in `stopped`.
pub fn read(path: &Path) -> Result<Recording, String> {
    let file = File::open(path).map_err(|e| format!("{}: cannot open the recording: {e}", path.display()))?;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let n = reader.read_line(&mut line).map_err(|e| format!("{}: {e}", path.display()))?;
    if n == 0 {
        return Err(format!("{}: empty file, not a cutover recording", path.display()));
    }
    let header = parse_header(path, &line)?;
    let mut entries = Vec::new();
    let mut offset = n as u64;
    let mut number = 1;
    let mut stopped = None;
    loop {
        line.clear();
        number += 1;
        let n = match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                stopped = Some(format!("line {number} (byte {offset}): {e}"));
                break;
            }
        };
        if !line.ends_with('\n') {
            stopped = Some(format!("line {number} (byte {offset}) is cut short: the recording ends mid-entry"));
            break;
        }
        match serde_json::from_str::<Entry>(&line) {
            Ok(e) => entries.push(e),
            Err(e) => {
                stopped = Some(format!("line {number} (byte {offset}) cannot be read: {e}"));
                break;
            }
        }
        offset += n as u64;
    }
    Ok(Recording { header, entries, stopped })
}

fn parse_header(path: &Path, line: &str) -> Result<Header, String> {
    #[derive(Deserialize)]
    struct Probe {
        format: Option<String>,
        version: Option<u32>,
    }
    let probe: Probe = serde_json::from_str(line)
        .map_err(|e| format!("{}: line 1 is not a cutover recording header: {e}", path.display()))?;
    if probe.format.as_deref() != Some(FORMAT) {
        return Err(format!("{}: not a cutover recording (line 1 has no \"format\": \"{FORMAT}\")", path.display()));
    }
    match probe.version {
        Some(VERSION) => {}
        Some(v) if v > VERSION => {
            return Err(format!(
                "{}: recording format version {v} is newer than this cutover reads ({VERSION}); use a newer cutover",
                path.display()
            ));
        }
        v => {
            return Err(format!(
                "{}: unknown recording format version {v:?} (this cutover reads {VERSION})",
                path.display()
            ));
        }
    }
    serde_json::from_str(line).map_err(|e| format!("{}: line 1, the header: {e}", path.display()))
}

/// Where a recording goes when no `--record` is given:
/// `$XDG_STATE_HOME/cutover/recordings/<mode>-<UTC time>.jsonl`.
pub fn default_path(mode: &str, started: Timestamp) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    let stamp = started.strftime("%Y%m%dT%H%M%SZ");
    Some(base.join("cutover/recordings").join(format!("{mode}-{stamp}.jsonl")))
}

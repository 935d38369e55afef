//! Session recordings: the console's `Msg` stream with timestamps, after a
//! header that says what the session was. Replaying the stream through the
//! same `update` rebuilds every screen the operator could have seen.
//!
//! Format (JSON Lines, UTF-8), described for users in the README:
//! - line 1, the header: `{"format":"cutover-recording","version":1,...}`;
//! - then one line per entry, each `{"t":<unix ms>,<kind>:<value>}`, `t`
//!   being the console's clock (the time its header showed) at the entry:
//!   - `"m"`: a message, as `update` received it;
//!   - `"alb"`: an ALB read identical to the last `"m"` ALB read but for
//!     its time (the value): most polls change nothing, and at thousands of
//!     targets a read is most of a recording; `"dns"` the same for a Route
//!     53 read;
//!   - `"mark"`: a moment for the timeline and the report, as `update` noted
//!     it after the message before (redundant with the stream, so a replay
//!     can place every mark without replaying everything);
//!   - `"k"`: a keyframe, the whole state after the message before, so a
//!     replay can start there.
//!
//! Entries are appended as they happen and flushed at least once a second,
//! so a crash loses at most the last second; a reader stops at the first
//! line it cannot read, says where, and keeps everything before it.
//! Secrets cannot be in a recording: sources trim objects to domain types
//! that have no field for environment values, tokens or credentials.

mod handoff;
pub mod history;
mod keyframe;
mod sink;

pub use handoff::HandoffFile;
pub use keyframe::{Keyframe, Stored};
pub use sink::{Disk, HOLD_BYTES, Stretch};

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sink::Sink;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::app::{App, AppConfig, Held, Keeping, Mark, Msg};
use crate::domain::{RouteKind, RouteRead};
use crate::keymap::{Action, Key};

pub const FORMAT: &str = "cutover-recording";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The longest a written message may wait in memory before reaching the file.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// A keyframe is written once the messages since the last one are this
/// many times its size: entering anywhere then costs at most one keyframe
/// and twice its size of messages to read, and keyframes stay about a
/// third of a recording...
const KEYFRAME_STREAM_RATIO: u64 = 2;
/// ...but never closer than this (recording time, ms)...
const KEYFRAME_MIN_GAP_MS: i64 = 60_000;
/// ...and never further apart than this, whatever the sizes.
const KEYFRAME_MAX_GAP_MS: i64 = 30 * 60_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The cutover version that wrote it.
    pub tool: String,
    /// When the session began: where a replay starts (a demo's history,
    /// stamped before it, is applied at once).
    pub started: Timestamp,
    /// The console's clock before the first message: `update` starts there.
    pub clock: Timestamp,
    /// The plan as the console used it (names, ARN-derived names, guards):
    /// no credentials are ever part of it.
    pub config: AppConfig,
    /// Who was at the keys, when known at the start; later changes arrive
    /// as `Operator` messages in the stream.
    pub operator: Option<String>,
    /// Columns and rows of the terminal at the start.
    pub terminal: (u16, u16),
    /// The session's key bindings, so its recorded keys replay as they acted.
    pub keymap: BTreeMap<Action, Vec<Key>>,
}

impl Header {
    pub fn new(app: &App, started: Timestamp, terminal: (u16, u16)) -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            tool: env!("CARGO_PKG_VERSION").into(),
            started,
            clock: app.now,
            config: app.config.clone(),
            operator: Some(app.operator.clone()).filter(|o| o != crate::app::UNKNOWN_OPERATOR),
            terminal,
            keymap: app.keymap.bindings(),
        }
    }

    /// The console as the session started it, before the first message:
    /// where a replay and a report begin applying the stream.
    pub fn initial_app(&self) -> App {
        let keymap = crate::keymap::Keymap::from_bindings(self.keymap.clone());
        let mut app = App::new(self.config.clone(), keymap, self.clock);
        if let Some(who) = &self.operator {
            app.operator = who.clone();
        }
        app
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The console's clock when it received the message, unix ms.
    pub t: i64,
    pub m: Msg,
}

/// A second place every line goes as it is written, header first (the
/// broker, when the session is shared). It must not wait: the console
/// waits on the recorder.
pub trait Tap: Send {
    fn line(&mut self, line: &str);

    /// Whether a keyframe should be written at the next chance: after the
    /// broker lost lines, its followers have nothing to build on until one.
    fn wants_keyframe(&mut self) -> bool {
        false
    }
}

pub struct Writer {
    /// The file, when there is one: a relay's lines may go to the tap only.
    /// Shared with the panic hook, which ends it with a line on a crash.
    file: Option<Arc<Mutex<Sink>>>,
    path: Option<PathBuf>,
    tap: Option<Box<dyn Tap>>,
    last_flush: Instant,
    /// Bytes handed over so far (to the file, held, or the tap).
    written: u64,
    /// Lines handed over so far, the header included.
    lines: u64,
    /// Time and file position of the last keyframe, and its size.
    keyframe: (i64, u64, u64),
    /// The last whole read of each backend, as written.
    last_read: std::collections::BTreeMap<RouteKind, String>,
    /// A keyframe was written once both clusters had listed.
    synced_keyframe: bool,
}

impl Writer {
    /// Creates the file (never overwriting one) and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Writer, String> {
        Writer::create_tapped(path, header, None)
    }

    /// `create`, every line also handed to `tap`.
    pub fn create_tapped(path: &Path, header: &Header, tap: Option<Box<dyn Tap>>) -> Result<Writer, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| format!("cannot create the recording {}: {e}", path.display()))?;
        Writer::on_disk(path, Box::new(file), header, tap).map_err(|e| {
            // Not even the header went in: no empty file is left behind.
            let _ = std::fs::remove_file(path);
            format!("cannot write the recording {}: {e}", path.display())
        })
    }

    /// A recorder writing to `disk` as the file at `path`: a file, or in
    /// tests a disk that fills up.
    pub fn on_disk(
        path: &Path,
        disk: Box<dyn Disk>,
        header: &Header,
        tap: Option<Box<dyn Tap>>,
    ) -> Result<Writer, String> {
        let sink = Arc::new(Mutex::new(Sink::new(path, disk)));
        sink::register(&sink);
        Writer::start(Some((path.to_path_buf(), sink)), header, tap)
    }

    /// A recorder with no file: every line, header first, goes to `tap`
    /// only (a relay, whose record is the broker's stream).
    pub fn tap_only(header: &Header, tap: Box<dyn Tap>) -> Result<Writer, String> {
        Writer::start(None, header, Some(tap))
    }

    fn start(
        file: Option<(PathBuf, Arc<Mutex<Sink>>)>,
        header: &Header,
        tap: Option<Box<dyn Tap>>,
    ) -> Result<Writer, String> {
        let (path, file) = file.unzip();
        let mut w = Writer {
            file,
            path,
            tap,
            last_flush: Instant::now(),
            written: 0,
            lines: 0,
            keyframe: (header.started.as_millisecond(), 0, 0),
            last_read: Default::default(),
            synced_keyframe: false,
        };
        let line = serde_json::to_string(header).map_err(|e| format!("cannot write the header: {e}"))?;
        // Stamped with the console's clock before its first message, as
        // what follows is (a demo's history comes before `started`).
        w.raw(header.clock.as_millisecond(), &line);
        w.flush().map_err(|e| e.to_string())?;
        Ok(w)
    }

    fn sink(&self) -> Option<std::sync::MutexGuard<'_, Sink>> {
        self.file.as_ref().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// How much may be held in memory while the file cannot be written.
    pub fn set_hold(&mut self, bytes: usize) {
        if let Some(mut sink) = self.sink() {
            sink.set_hold(bytes);
        }
    }

    /// The recording's file; `None` for a writer that only taps.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Lines written so far, the header included.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.written
    }

    /// What happened to the file since the last call, for the runtime to
    /// apply as a `Msg::Keeping`: the recording failed, or is written again.
    pub fn take_news(&mut self) -> Option<Keeping> {
        self.sink()?.news.pop_front()
    }

    /// How much is held in memory while the file cannot be written.
    pub fn held(&self) -> Option<Held> {
        self.sink()?.held()
    }

    fn raw(&mut self, t: i64, line: &str) {
        if let Some(mut sink) = self.sink() {
            sink.push(t, line);
        }
        self.written += line.len() as u64 + 1;
        self.lines += 1;
        if let Some(tap) = &mut self.tap {
            tap.line(line);
        }
    }

    fn entry<T: Serialize + ?Sized>(&mut self, t: i64, kind: &str, value: &T) -> std::io::Result<()> {
        let value = serde_json::to_string(value).map_err(std::io::Error::other)?;
        self.raw(t, &format!("{{\"t\":{t},\"{kind}\":{value}}}"));
        Ok(())
    }

    /// Appends one message; flushes when the last flush is a second old.
    /// A file that cannot be written is no error here: its lines are held
    /// (see `take_news`).
    pub fn append(&mut self, at: Timestamp, msg: &Msg) -> std::io::Result<()> {
        let t = at.as_millisecond();
        match msg {
            Msg::Traffic { at, routes } => {
                let key = repeated(routes);
                let same = serde_json::to_string(routes).map_err(std::io::Error::other)?;
                if self.last_read.get(&key).map(String::as_str) == Some(same.as_str()) {
                    self.entry(t, key.repeat_field(), at)?;
                } else {
                    let whole =
                        format!("{{\"t\":{t},\"m\":{{\"Traffic\":{{\"at\":{},\"routes\":{same}}}}}}}", json(at)?);
                    self.last_read.insert(key, same);
                    self.raw(t, &whole);
                }
            }
            _ => self.entry(t, "m", msg)?,
        }
        self.flush_if_due();
        Ok(())
    }

    /// Writes the marks `update` noted, and a keyframe when one is due:
    /// called after each message is applied, with the app it changed.
    pub fn after_update(&mut self, at: Timestamp, app: &App, marks: &[Mark]) -> std::io::Result<()> {
        let t = at.as_millisecond();
        for mark in marks {
            self.entry(t, "mark", mark)?;
        }
        let (last_t, last_at, last_size) = self.keyframe;
        let since = t - last_t;
        let bytes = self.written - last_at;
        // Once both clusters have listed, their whole state at once: a
        // seek then starts from it rather than from every object listed,
        // and the keyframe is made during start-up, not a minute into a
        // quiet console.
        let synced = !self.synced_keyframe && app.clusters.old.synced && app.clusters.new.synced;
        let wanted = self.tap.as_mut().is_some_and(|tap| tap.wants_keyframe());
        // Lines the file lost: what follows builds on this keyframe.
        let lost = self.sink().is_some_and(|mut s| std::mem::take(&mut s.keyframe_due));
        if synced
            || wanted
            || lost
            || since >= KEYFRAME_MAX_GAP_MS
            || (since >= KEYFRAME_MIN_GAP_MS && bytes >= KEYFRAME_STREAM_RATIO * last_size)
        {
            self.synced_keyframe |= synced;
            self.keyframe(at, app)?;
        }
        self.flush_if_due();
        Ok(())
    }

    /// Writes a keyframe of `app` now.
    pub fn keyframe(&mut self, at: Timestamp, app: &App) -> std::io::Result<()> {
        let t = at.as_millisecond();
        let before = self.written;
        self.entry(t, "k", &Keyframe::of(app))?;
        self.keyframe = (t, self.written, self.written - before);
        // The next ALB read is written whole, so a replay entering at this
        // keyframe knows what an `alb` line repeats.
        self.last_read.clear();
        Ok(())
    }

    fn flush_if_due(&mut self) {
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            // A failure is held and told through `take_news`.
            let _ = self.flush();
        }
    }

    /// Writes and syncs what is pending; an error while the file cannot be
    /// written (its lines stay held).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.last_flush = Instant::now();
        match self.sink() {
            Some(mut sink) => sink.flush(),
            None => Ok(()),
        }
    }

    /// The end: the last attempt to write what is held, and every stretch
    /// the file could not be written, for the exit message. What is still
    /// held is lost, and the file ends on a whole line.
    pub fn finish(&mut self) -> Vec<Stretch> {
        self.last_flush = Instant::now();
        self.sink().map(|mut s| s.finish()).unwrap_or_default()
    }
}

/// Ends every recording being written with a crash: the message and its
/// mark, then a sync. For the panic hook, the last thing before exit.
pub fn end_on_crash(message: &str) {
    let mut msg = Msg::Ended(crate::app::Ending::Crash(message.to_string()));
    msg.scrub_secrets();
    let Msg::Ended(ending) = &msg else { return };
    sink::end_all(|t| {
        let at = Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH);
        let mark = crate::app::signal::ended_mark(at, ending.clone());
        [
            serde_json::to_string(&msg).map(|m| format!("{{\"t\":{t},\"m\":{m}}}")),
            serde_json::to_string(&mark).map(|m| format!("{{\"t\":{t},\"mark\":{m}}}")),
        ]
        .into_iter()
        .flatten()
        .collect()
    });
}

fn json<T: Serialize>(value: &T) -> std::io::Result<String> {
    serde_json::to_string(value).map_err(std::io::Error::other)
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// What a line after the header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Msg,
    /// A read repeated (`"alb"`, `"dns"`).
    Again,
    Mark,
    Keyframe,
    /// Lines lost: on the way to the broker (a shared session's copy), or
    /// to a recording that could not be written and ran out of memory to
    /// hold them (`local`). What follows does not build on what came
    /// before until the next keyframe.
    Gap,
}

/// Reads the time and kind of an entry line from its first bytes, without
/// parsing the rest: how a replay indexes a large recording quickly.
pub fn classify(line: &[u8]) -> Option<(i64, Kind)> {
    let rest = line.strip_prefix(b"{\"t\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit() || **b == b'-').count();
    let t = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let rest = rest[digits..].strip_prefix(b",\"")?;
    let repeat =
        |k: &RouteKind| rest.strip_prefix(k.repeat_field().as_bytes()).is_some_and(|after| after.starts_with(b"\":"));
    let kind = if rest.starts_with(b"m\":") {
        Kind::Msg
    } else if RouteKind::ALL.iter().any(repeat) {
        Kind::Again
    } else if rest.starts_with(b"mark\":") {
        Kind::Mark
    } else if rest.starts_with(b"k\":") {
        Kind::Keyframe
    } else if rest.starts_with(b"gap\":") {
        Kind::Gap
    } else {
        return None;
    };
    Some((t, kind))
}

/// One entry line, parsed.
#[derive(Debug)]
pub enum Line {
    Msg(Msg),
    Again(RouteKind, Timestamp),
    Mark(Mark),
    Keyframe(Box<keyframe::Stored>),
    Gap(Gap),
}

/// Lines lost where this line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Gap {
    pub lines: u64,
    /// The console's clock of the first and last line lost, unix ms (a
    /// local gap's; a broker's gap does not know).
    #[serde(default)]
    pub from: Option<i64>,
    #[serde(default)]
    pub to: Option<i64>,
    /// Lost to the recording itself, not on the way to a broker.
    #[serde(default)]
    pub local: bool,
}

/// An entry line as written: its time and exactly one of a message, a
/// backend's repeated read (`"alb"`, `"dns"`: each backend's field, see
/// [`RouteKind::repeat_field`]), a mark, a keyframe or a gap. Other keys
/// are left alone, as a later build may add some.
struct RawLine {
    t: i64,
    m: Option<Msg>,
    again: Vec<(RouteKind, Timestamp)>,
    mark: Option<Mark>,
    k: Option<Box<keyframe::Stored>>,
    gap: Option<Gap>,
}

impl<'de> Deserialize<'de> for RawLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RawLine, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = RawLine;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a recording's entry line")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawLine, A::Error> {
                let mut t = None;
                let mut line = RawLine { t: 0, m: None, again: Vec::new(), mark: None, k: None, gap: None };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "t" => t = Some(map.next_value()?),
                        "m" => line.m = Some(map.next_value()?),
                        "mark" => line.mark = Some(map.next_value()?),
                        "k" => line.k = Some(map.next_value()?),
                        "gap" => line.gap = Some(map.next_value()?),
                        other => match RouteKind::ALL.into_iter().find(|k| k.repeat_field() == other) {
                            Some(kind) => line.again.push((kind, map.next_value()?)),
                            None => {
                                map.next_value::<serde::de::IgnoredAny>()?;
                            }
                        },
                    }
                }
                line.t = t.ok_or_else(|| serde::de::Error::missing_field("t"))?;
                Ok(line)
            }
        }
        d.deserialize_map(Fields)
    }
}

/// Parses an entry line (without its newline).
pub fn parse_line(line: &str) -> Result<(i64, Line), String> {
    let mut raw: RawLine = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let again = match raw.again.len() {
        0 => None,
        1 => raw.again.pop(),
        _ => return Err(one_kind()),
    };
    let entry = match (raw.m, again, raw.mark, raw.k, raw.gap) {
        (Some(m), None, None, None, None) => Line::Msg(m),
        (None, Some((which, at)), None, None, None) => Line::Again(which, at),
        (None, None, Some(mark), None, None) => Line::Mark(mark),
        (None, None, None, Some(k), None) => Line::Keyframe(k),
        (None, None, None, None, Some(gap)) => Line::Gap(gap),
        _ => return Err(one_kind()),
    };
    Ok((raw.t, entry))
}

fn one_kind() -> String {
    let repeats: Vec<String> = RouteKind::ALL.iter().map(|k| format!("\"{}\"", k.repeat_field())).collect();
    format!("an entry holds exactly one of \"m\", {}, \"mark\", \"k\", \"gap\"", repeats.join(", "))
}

/// Which backend's read a repeat line repeats: a read holds one backend's
/// routes (each source sends its own), so each is remembered apart; an
/// empty one repeats nothing, and is taken as the first backend's.
fn repeated(routes: &[RouteRead]) -> RouteKind {
    routes.first().map_or(RouteKind::ALL[0], |r| r.detail.kind())
}

/// Turns `alb` and `dns` lines back into the reads they repeat.
#[derive(Debug, Default)]
pub struct AlbMemory {
    last: std::collections::BTreeMap<RouteKind, Vec<RouteRead>>,
}

impl AlbMemory {
    /// The message a line stands for, if it stands for one.
    pub fn message(&mut self, line: Line) -> Result<Option<Msg>, String> {
        Ok(match line {
            Line::Msg(msg) => {
                if let Msg::Traffic { routes, .. } = &msg {
                    self.last.insert(repeated(routes), routes.clone());
                }
                Some(msg)
            }
            Line::Again(which, at) => match self.last.get(&which) {
                Some(routes) => Some(Msg::Traffic { at, routes: routes.clone() }),
                None => return Err(format!("an \"{}\" line with no whole read before it", which.repeat_field())),
            },
            Line::Mark(_) | Line::Keyframe(_) | Line::Gap(_) => None,
        })
    }

    /// A keyframe is followed by a full read: forget the last one.
    pub fn forget(&mut self) {
        self.last.clear();
    }
}

/// A recording read back: everything up to the first unreadable line.
#[derive(Debug)]
pub struct Recording {
    pub header: Header,
    /// Every message, ALB repeats written out in full.
    pub entries: Vec<Entry>,
    /// The marks, with the time their line was written.
    pub marks: Vec<(i64, Mark)>,
    pub keyframes: usize,
    /// Why reading stopped before the end of the file, if it did: a
    /// truncated or damaged tail, said with its byte offset and line.
    pub stopped: Option<String>,
}

/// Reads a whole recording. A header this build cannot read is an error;
/// a damaged entry ends the read there, with the reason in `stopped`.
/// Keyframes are checked to be JSON but not kept: a whole read has the
/// stream.
pub fn read(path: &Path) -> Result<Recording, String> {
    let mut stream = Stream::open(path)?;
    let mut entries = Vec::new();
    let mut marks = Vec::new();
    for (t, item) in stream.by_ref() {
        match item {
            Item::Msg(m) => entries.push(Entry { t, m }),
            Item::Mark(mark) => marks.push((t, mark)),
            Item::Gap(_) | Item::Resync(_) => {}
        }
    }
    Ok(Recording { header: stream.header, entries, marks, keyframes: stream.keyframes, stopped: stream.stopped })
}

/// What a `Stream` yields, in file order.
pub enum Item {
    /// A message, an ALB repeat written out in full.
    Msg(Msg),
    Mark(Mark),
    /// Lines the recording lost here (it could not be written, and memory
    /// ran out to hold them): the messages up to the next keyframe are not
    /// yielded, since they would build on a state the session did not have.
    Gap(Gap),
    /// The first keyframe after a gap: the whole state again.
    Resync(Box<keyframe::Stored>),
}

/// A recording read line by line, each message and mark handed over with
/// its time and not kept: a report of a long recording needs no more memory
/// than the console did. Ends at the end of the file or at the first line
/// it cannot read, saying why in `stopped`.
pub struct Stream {
    pub header: Header,
    pub keyframes: usize,
    pub stopped: Option<String>,
    /// Where reading stopped: the line's number and byte offset.
    pub stopped_at: Option<(usize, u64)>,
    /// It stopped at a last line without its end: one being written, or
    /// the end of a session that was killed mid-line.
    pub cut_short: bool,
    reader: BufReader<File>,
    line: String,
    albs: AlbMemory,
    offset: u64,
    number: usize,
    done: bool,
    /// A local gap was passed and no keyframe since.
    in_gap: bool,
}

impl Stream {
    /// Opens a recording and reads its header. A header this build cannot
    /// read is an error.
    pub fn open(path: &Path) -> Result<Stream, String> {
        let file = File::open(path).map_err(|e| format!("{}: cannot open the recording: {e}", path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = String::new();
        let n = reader.read_line(&mut line).map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Err(format!("{}: empty file, not a cutover recording", path.display()));
        }
        let header = parse_header(path, &line)?;
        Ok(Stream {
            header,
            keyframes: 0,
            stopped: None,
            stopped_at: None,
            cut_short: false,
            reader,
            line,
            albs: AlbMemory::default(),
            offset: n as u64,
            number: 1,
            done: false,
            in_gap: false,
        })
    }

    fn stop(&mut self, at: (usize, u64), why: String) -> Option<(i64, Item)> {
        self.stopped = Some(why);
        self.stopped_at = Some(at);
        self.done = true;
        None
    }
}

impl Iterator for Stream {
    type Item = (i64, Item);

    fn next(&mut self) -> Option<(i64, Item)> {
        while !self.done {
            self.line.clear();
            self.number += 1;
            let (number, offset) = (self.number, self.offset);
            let n = match self.reader.read_line(&mut self.line) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) => n,
                Err(e) => return self.stop((number, offset), format!("line {number} (byte {offset}): {e}")),
            };
            if !self.line.ends_with('\n') {
                self.cut_short = true;
                return self.stop(
                    (number, offset),
                    format!("line {number} (byte {offset}) is cut short: the recording ends mid-entry"),
                );
            }
            self.offset += n as u64;
            let item = match classify(self.line.as_bytes()) {
                Some((_, Kind::Keyframe)) if self.in_gap => parse_line(self.line.trim_end()).map(|(t, entry)| {
                    self.keyframes += 1;
                    self.albs.forget();
                    self.in_gap = false;
                    match entry {
                        Line::Keyframe(k) => Some((t, Item::Resync(k))),
                        _ => None,
                    }
                }),
                Some((_, Kind::Keyframe)) => serde_json::from_str::<serde::de::IgnoredAny>(&self.line)
                    .map(|_| {
                        self.keyframes += 1;
                        self.albs.forget();
                        None
                    })
                    .map_err(|e| e.to_string()),
                _ => parse_line(self.line.trim_end()).and_then(|(t, entry)| match entry {
                    Line::Mark(mark) => Ok(Some((t, Item::Mark(mark)))),
                    Line::Gap(gap) if gap.local => {
                        self.in_gap = true;
                        Ok(Some((t, Item::Gap(gap))))
                    }
                    // Read from a broker that lost lines: what follows
                    // would be counted on a state that is not the session's.
                    Line::Gap(gap) => Err(format!(
                        "{} lines were lost here on the way to the broker (the publisher's own recording has them all)",
                        gap.lines
                    )),
                    _ if self.in_gap => Ok(None),
                    entry => Ok(self.albs.message(entry)?.map(|m| (t, Item::Msg(m)))),
                }),
            };
            match item {
                Ok(Some(item)) => return Some(item),
                Ok(None) => {}
                Err(e) => {
                    return self.stop((number, offset), format!("line {number} (byte {offset}) cannot be read: {e}"));
                }
            }
        }
        None
    }
}

pub fn parse_header(path: &Path, line: &str) -> Result<Header, String> {
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
    Some(base.join("cutover/recordings").join(format!("{}.jsonl", session_name(mode, started))))
}

/// A session's name, `<mode>-<UTC time>`: its recording's file stem, and
/// its subjects on the broker.
pub fn session_name(mode: &str, started: Timestamp) -> String {
    format!("{mode}-{}", started.strftime("%Y%m%dT%H%M%SZ"))
}

//! The player: a recording indexed once, and the console rebuilt at any
//! moment of it by the same `update` the session ran.
//!
//! Opening reads only the start of each line (its time and kind), so a
//! large recording opens quickly. Going to a moment restores the last
//! keyframe before it and applies the messages after that keyframe.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::app::{App, Mark, update};
use crate::record::{self, AlbMemory, Header, Kind, Line};

/// Where an entry line is, and what it is.
#[derive(Debug, Clone, Copy)]
pub struct LineAt {
    /// Unix ms when the session received it.
    pub t: i64,
    /// Its line number in the file, for messages.
    pub number: usize,
    pub offset: u64,
    pub len: u32,
    pub kind: Kind,
}

/// Every entry of a recording by time, and its marks.
#[derive(Debug, Default)]
pub struct Index {
    /// Messages, ALB repeats and keyframes, in file order.
    pub lines: Vec<LineAt>,
    /// Indices into `lines` of the keyframes.
    pub keyframes: Vec<usize>,
    pub marks: Vec<(i64, Mark)>,
    /// Where the next complete line will start: the end of what is indexed.
    end: u64,
    /// The number of the next line, for messages.
    line_number: usize,
    /// Why indexing stopped before the end of the file, if it did.
    pub stopped: Option<String>,
    /// It stopped at a last line without its end, which a later call may
    /// find whole.
    cut_short: bool,
}

impl Index {
    /// Indexes complete lines from where the last call ended. A last line
    /// without its newline is left for a later call (a recording still
    /// being written), and reported as cut short until then.
    fn extend(&mut self, file: &mut File) -> Result<usize, String> {
        let before = self.lines.len() + self.marks.len();
        if self.stopped.is_some() && !self.cut_short {
            return Ok(0);
        }
        // Nothing appended: the common case when following, many times a second.
        if file.metadata().map_err(|e| e.to_string())?.len() == self.end {
            return Ok(0);
        }
        self.stopped = None;
        self.cut_short = false;
        file.seek(SeekFrom::Start(self.end)).map_err(|e| e.to_string())?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            let number = self.line_number;
            if line.last() != Some(&b'\n') {
                self.cut_short = true;
                self.stopped =
                    Some(format!("line {number} (byte {}) is cut short: the recording ends mid-entry", self.end));
                break;
            }
            let Some((t, kind)) = record::classify(&line) else {
                self.stopped = Some(format!("line {number} (byte {}) cannot be read: not a recording entry", self.end));
                break;
            };
            // Kept in order even if a hand-edited file is not: seeking
            // searches by time.
            let t = t.max(self.lines.last().map_or(i64::MIN, |l| l.t));
            if kind == Kind::Mark {
                let text = String::from_utf8_lossy(&line);
                match record::parse_line(text.trim_end()) {
                    Ok((t, Line::Mark(mark))) => self.marks.push((t, mark)),
                    Ok(_) | Err(_) => {
                        self.stopped =
                            Some(format!("line {number} (byte {}) cannot be read: a damaged mark", self.end));
                        break;
                    }
                }
            } else {
                if kind == Kind::Keyframe {
                    self.keyframes.push(self.lines.len());
                }
                self.lines.push(LineAt { t, number, offset: self.end, len: n as u32, kind });
            }
            self.end += n as u64;
            self.line_number += 1;
        }
        Ok(self.lines.len() + self.marks.len() - before)
    }
}

pub struct Player {
    path: PathBuf,
    file: File,
    pub header: Header,
    pub index: Index,
    /// The console as of `position`.
    pub app: App,
    /// The next line of the index to apply.
    next: usize,
    albs: AlbMemory,
    /// A line that indexed but would not parse (its index, and why, as the
    /// report says it): the replay ends before it.
    pub damaged: Option<(usize, String)>,
    /// The whole file read as the report reads it, in a thread of its own
    /// from the open: its first unreadable line (number, byte, why), or
    /// none. A seek past keyframes never reads the lines between, so
    /// without it a damaged line there would be played past unsaid.
    /// What the check of the whole file found: where it stopped, why, and
    /// whether at a line cut short.
    checked: Option<std::sync::mpsc::Receiver<Option<(u64, String, bool)>>>,
    /// How many times a seek started from a keyframe.
    pub keyframe_loads: usize,
    /// A gap was passed (its time and lines lost) and no keyframe since:
    /// messages are not applied, since they would build on a state the
    /// session never had.
    gap: Option<(i64, record::Gap)>,
    /// The recording is a shared session followed live: the screen says so.
    followed: bool,
}

impl Player {
    /// Opens and indexes a recording. A missing file or a header this build
    /// cannot read is an error; a damaged tail is in `index.stopped`.
    pub fn open(path: &Path) -> Result<Player, String> {
        let mut file = File::open(path).map_err(|e| format!("{}: cannot open the recording: {e}", path.display()))?;
        let mut first = String::new();
        let n = BufReader::new(&mut file).read_line(&mut first).map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Err(format!("{}: empty file, not a cutover recording", path.display()));
        }
        let header = record::parse_header(path, &first)?;
        let mut index = Index { end: n as u64, line_number: 2, ..Index::default() };
        index.extend(&mut file).map_err(|e| format!("{}: {e}", path.display()))?;
        let app = Self::fresh(&header);
        let (tx, checked) = std::sync::mpsc::channel();
        let whole = path.to_path_buf();
        std::thread::spawn(move || {
            let first = record::Stream::open(&whole).ok().and_then(|mut stream| {
                for _ in stream.by_ref() {}
                let (_, offset) = stream.stopped_at?;
                Some((offset, stream.stopped?, stream.cut_short))
            });
            let _ = tx.send(first);
        });
        Ok(Player {
            path: path.to_path_buf(),
            file,
            header,
            index,
            app,
            next: 0,
            albs: AlbMemory::default(),
            damaged: None,
            checked: Some(checked),
            keyframe_loads: 0,
            gap: None,
            followed: false,
        })
    }

    fn fresh(header: &Header) -> App {
        let mut app = header.initial_app();
        app.replay = true;
        app
    }

    /// Says on screen that this is a shared session followed live.
    pub fn set_followed(&mut self) {
        self.followed = true;
        self.app.followed = true;
    }

    /// The console restored from a keyframe: a replay's, still.
    fn restored(&self, frame: Box<record::Stored>) -> App {
        let mut app = frame.restore(self.app.keymap.clone());
        app.replay = true;
        app.followed = self.followed;
        app
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what was appended since; for `--follow`. Returns whether
    /// anything new arrived.
    pub fn refresh(&mut self) -> Result<bool, String> {
        Ok(self.index.extend(&mut self.file)? > 0)
    }

    /// The first and last moments of the recording, in unix ms: the last
    /// before a damaged line, if there is one.
    pub fn span(&self) -> (i64, i64) {
        let start = self.header.started.as_millisecond();
        let lines = match &self.damaged {
            Some((limit, _)) => &self.index.lines[..*limit],
            None => &self.index.lines[..],
        };
        let end = lines.last().map_or(start, |l| l.t).max(start);
        (start, end)
    }

    /// Takes in what the check of the whole file found, if it is done;
    /// `wait`: until it is. Returns whether a damaged line was found now.
    pub fn checked(&mut self, wait: bool) -> bool {
        let Some(rx) = &self.checked else { return false };
        let found = match if wait { rx.recv().ok() } else { rx.try_recv().ok() } {
            Some(found) => found,
            None if wait => None,
            None => return false,
        };
        self.checked = None;
        let Some((offset, why, cut_short)) = found else { return false };
        // A last line still being written is the index's to tell, and a
        // gap (a shared session's lost lines) the replay's, which waits
        // for the next keyframe after it.
        let Some(i) = self.index.lines.iter().position(|l| l.offset >= offset) else { return false };
        if cut_short || self.index.lines[i].kind == Kind::Gap {
            return false;
        }
        if self.damaged.as_ref().is_some_and(|(limit, _)| *limit <= i) {
            return false;
        }
        self.damaged = Some((i, format!("{why}; everything before it is replayed")));
        // The screen may already be past it: back to the last good line.
        if self.next > i {
            let (_, end) = self.span();
            let _ = self.seek(end);
        }
        true
    }

    /// Why the replay ends before the end of the file, if it does: a
    /// damaged line, or a tail the index could not read.
    pub fn stops_early(&self) -> Option<String> {
        self.damaged.as_ref().map(|(_, why)| why.clone()).or_else(|| self.index.stopped.clone())
    }

    /// The time of the last line applied: where the replay is.
    pub fn position(&self) -> i64 {
        match self.next {
            0 => self.span().0,
            n => self.index.lines[n - 1].t,
        }
    }

    /// The console as it was at `t`: after every line received up to and
    /// including `t`. Returns whether anything changed.
    pub fn seek(&mut self, t: i64) -> Result<bool, String> {
        self.checked(false);
        let target = self.index.lines.partition_point(|l| l.t <= t);
        let target = self.damaged.as_ref().map_or(target, |(limit, _)| target.min(*limit));
        if target == self.next {
            return Ok(false);
        }
        // The nearest keyframe at or before the target, when it saves work.
        let keyframe = self.index.keyframes.iter().rev().find(|k| **k < target).copied();
        let from_keyframe = keyframe.filter(|k| target < self.next || *k >= self.next);
        if let Some(k) = from_keyframe {
            match self.read_line(k) {
                Ok(Line::Keyframe(frame)) => {
                    // The recorded keymap, as the app already holds it.
                    self.app = self.restored(frame);
                    self.albs.forget();
                    self.next = k + 1;
                    self.keyframe_loads += 1;
                    self.gap = None;
                }
                // A keyframe that will not read: replay from the start instead.
                Ok(_) | Err(_) => self.rewind(),
            }
        } else if target < self.next {
            self.rewind();
        }
        while self.next < target {
            if let Err(e) = self.apply(self.next) {
                let at = self.index.lines[self.next];
                self.damaged = Some((
                    self.next,
                    format!(
                        "line {} (byte {}) cannot be read: {e}; everything before it is replayed",
                        at.number, at.offset
                    ),
                ));
                break;
            }
            self.next += 1;
        }
        Ok(true)
    }

    fn rewind(&mut self) {
        self.app = Self::fresh(&self.header);
        self.app.followed = self.followed;
        self.albs.forget();
        self.next = 0;
        self.gap = None;
    }

    /// The gap the screen is stuck at, if one was passed and no keyframe
    /// since: its time and how many lines were lost.
    pub fn gap(&self) -> Option<(i64, u64)> {
        self.gap.map(|(t, gap)| (t, gap.lines))
    }

    /// The gap as its line says it: lost on the way to a broker, or to the
    /// recording itself (`local`), and when.
    pub fn gap_line(&self) -> Option<(i64, record::Gap)> {
        self.gap
    }

    fn read_line(&self, i: usize) -> Result<Line, String> {
        let at = self.index.lines[i];
        let mut buf = vec![0; at.len as usize];
        self.file.read_exact_at(&mut buf, at.offset).map_err(|e| e.to_string())?;
        let text = std::str::from_utf8(&buf).map_err(|e| e.to_string())?;
        record::parse_line(text.trim_end()).map(|(_, line)| line)
    }

    fn apply(&mut self, i: usize) -> Result<(), String> {
        match self.index.lines[i].kind {
            // After a gap, the first keyframe is where the state is whole again.
            Kind::Keyframe if self.gap.is_some() => {
                if let Line::Keyframe(frame) = self.read_line(i)? {
                    self.app = self.restored(frame);
                }
                self.albs.forget();
                self.gap = None;
                return Ok(());
            }
            // Passing a keyframe in order: the state is already what it
            // holds, so it is not even read.
            Kind::Keyframe => {
                self.albs.forget();
                return Ok(());
            }
            Kind::Gap => {
                if let Line::Gap(gap) = self.read_line(i)? {
                    self.gap = Some((self.index.lines[i].t, gap));
                }
                return Ok(());
            }
            _ if self.gap.is_some() => return Ok(()),
            _ => {}
        }
        let line = self.read_line(i)?;
        if let Some(msg) = self.albs.message(line)? {
            // A replay acts on nothing: what the session did is in the
            // stream as the executor's answers, so the effects are dropped.
            let _ = update(&mut self.app, msg);
            self.app.quit = false;
        }
        Ok(())
    }

    /// The marks, in recording order.
    pub fn marks(&self) -> &[(i64, Mark)] {
        &self.index.marks
    }
}

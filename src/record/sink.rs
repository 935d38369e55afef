//! The recording's file, written so that a write error (a full disk, a
//! file system gone read-only) never passes silently and never breaks the
//! file: lines are kept in memory (up to a bound, then dropped and
//! counted) until the file takes them again, a write that failed part-way
//! is cut back off before the next one, and the writer says when the
//! recording failed and when it is written again, with how many lines
//! were lost and over which span.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::app::{Held, Keeping, keeping::error_text};

/// How much of the recording is held in memory while it cannot be written,
/// by default: hours of a quiet session, minutes of a 5,000-pod start.
pub const HOLD_BYTES: usize = 64 << 20;
/// Lines are written once this much is pending (or on the flush cadence),
/// as a buffered writer's buffer would.
const WRITE_AT: usize = 8 << 10;
/// How often a failing file is tried again: the flush cadence.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Where the lines go: whole lines at a known offset, so a write cut short
/// can be cut back off. A file; in tests, a disk that fills up.
pub trait Disk: Send {
    /// Writes all of `buf` at `offset`, or fails (having written any part).
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()>;
    fn truncate(&mut self, len: u64) -> io::Result<()>;
    fn sync(&mut self) -> io::Result<()>;
}

impl Disk for File {
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(self, buf, offset)
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }
}

/// A stretch of the session the file could not be written, for the exit
/// message: when, why, and what came of the lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Stretch {
    pub since: Timestamp,
    /// When it was written again; `None`: not before the end.
    pub until: Option<Timestamp>,
    pub error: String,
    /// Lines held in memory and written once it could write again.
    pub written_late: u64,
    /// Lines dropped past the memory bound, the first and last of them.
    pub lost: u64,
    pub lost_from: Option<Timestamp>,
    pub lost_to: Option<Timestamp>,
    /// Lines still held when the session ended, and so never written.
    pub lost_at_exit: u64,
}

pub(super) struct Sink {
    pub path: PathBuf,
    disk: Box<dyn Disk>,
    /// Bytes of whole lines in the file.
    committed: u64,
    /// The file may hold part of a line past `committed`.
    ragged: bool,
    /// Whole lines not yet in the file, oldest first.
    pending: Vec<u8>,
    pending_lines: u64,
    hold: usize,
    /// The file cannot be written: since when, why, what was dropped.
    failing: Option<Stretch>,
    last_try: Instant,
    /// The console's clock of the last line handed over, unix ms.
    pub last_t: i64,
    pub troubles: Vec<Stretch>,
    /// What the runtime is to be told.
    pub news: std::collections::VecDeque<Keeping>,
    /// Lines were lost: what follows needs a keyframe to build on.
    pub keyframe_due: bool,
}

fn time(t: i64) -> Timestamp {
    Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Sink {
    pub fn new(path: &Path, disk: Box<dyn Disk>) -> Sink {
        Sink {
            path: path.to_path_buf(),
            disk,
            committed: 0,
            ragged: false,
            pending: Vec::new(),
            pending_lines: 0,
            hold: HOLD_BYTES,
            failing: None,
            last_try: Instant::now(),
            last_t: 0,
            troubles: Vec::new(),
            news: Default::default(),
            keyframe_due: false,
        }
    }

    pub fn set_hold(&mut self, bytes: usize) {
        self.hold = bytes;
    }

    /// A whole line (without its newline), stamped `t`.
    pub fn push(&mut self, t: i64, line: &str) {
        self.last_t = self.last_t.max(t);
        if self.failing.is_some() && self.last_try.elapsed() >= RETRY_EVERY {
            self.try_write();
        }
        let len = line.len() + 1;
        // Once one line is dropped, every line is until the file takes
        // them again: what is held stays one unbroken run, each line with
        // what it builds on before it.
        if let Some(f) = self.failing.as_mut()
            && (f.lost > 0 || self.pending.len() + len > self.hold)
        {
            f.lost += 1;
            f.lost_from.get_or_insert(time(t));
            f.lost_to = Some(time(t));
            return;
        }
        self.pending.extend_from_slice(line.as_bytes());
        self.pending.push(b'\n');
        self.pending_lines += 1;
        if self.failing.is_none() && self.pending.len() >= WRITE_AT {
            self.try_write();
        }
    }

    /// Writes what is pending; a failure starts (or continues) a stretch
    /// of holding, a success after one ends it.
    fn try_write(&mut self) {
        self.last_try = Instant::now();
        if self.pending.is_empty() && !self.ragged {
            return;
        }
        if self.ragged {
            // What a failed write left of a line goes first: a reader
            // would stop at it for good.
            if let Err(e) = self.disk.truncate(self.committed) {
                return self.failed(&e);
            }
            self.ragged = false;
        }
        if self.pending.is_empty() {
            return;
        }
        match self.disk.write_at(&self.pending, self.committed) {
            Ok(()) => {
                self.committed += self.pending.len() as u64;
                self.pending.clear();
                let written = std::mem::take(&mut self.pending_lines);
                if let Some(stretch) = self.failing.take() {
                    self.recovered(stretch, written);
                }
            }
            Err(e) => {
                // Cut back at once: the file ends on a whole line while it
                // cannot be written (a follower waits at a cut line, a
                // crash now would leave one).
                self.ragged = self.disk.truncate(self.committed).is_err();
                self.failed(&e);
            }
        }
    }

    fn failed(&mut self, e: &io::Error) {
        if self.failing.is_some() {
            return;
        }
        let error = error_text(e);
        tracing::error!(error = %e, path = %self.path.display(), "recording failed: lines are held in memory");
        self.failing = Some(Stretch {
            since: time(self.last_t),
            until: None,
            error: error.clone(),
            written_late: 0,
            lost: 0,
            lost_from: None,
            lost_to: None,
            lost_at_exit: 0,
        });
        self.news.push_back(Keeping::RecordingFailed { path: self.path.display().to_string(), error });
    }

    fn recovered(&mut self, mut stretch: Stretch, written: u64) {
        let at = time(self.last_t);
        stretch.until = Some(at);
        stretch.written_late = written;
        tracing::warn!(
            path = %self.path.display(),
            written,
            lost = stretch.lost,
            "recording again after a write error"
        );
        if stretch.lost > 0 {
            // Where the lines were lost: readers build on nothing after it
            // until the next keyframe, which follows at once.
            let ms = |t: Option<Timestamp>| t.map_or("null".to_string(), |t| t.as_millisecond().to_string());
            let line = format!(
                "{{\"t\":{},\"gap\":{{\"lines\":{},\"from\":{},\"to\":{},\"local\":true}}}}",
                self.last_t,
                stretch.lost,
                ms(stretch.lost_from),
                ms(stretch.lost_to)
            );
            self.pending.extend_from_slice(line.as_bytes());
            self.pending.push(b'\n');
            self.pending_lines += 1;
            self.keyframe_due = true;
            self.try_write();
        }
        self.news.push_back(Keeping::RecordingResumed {
            failed_at: stretch.since,
            written,
            lost: stretch.lost,
            lost_from: stretch.lost_from,
            lost_to: stretch.lost_to,
        });
        self.troubles.push(stretch);
    }

    /// Writes what is pending and syncs it; an error while the file cannot
    /// be written.
    pub fn flush(&mut self) -> io::Result<()> {
        self.try_write();
        match &self.failing {
            Some(f) => Err(io::Error::other(format!("the recording cannot be written: {}", f.error))),
            None => self.disk.sync(),
        }
    }

    pub fn held(&self) -> Option<Held> {
        let f = self.failing.as_ref()?;
        Some(Held { lines: self.pending_lines, bytes: self.pending.len() as u64, dropped: f.lost })
    }

    /// The last chance: what cannot be written now is lost, and the file
    /// is left ending on a whole line.
    pub fn finish(&mut self) -> Vec<Stretch> {
        self.try_write();
        if let Some(mut stretch) = self.failing.take() {
            stretch.lost_at_exit = self.pending_lines;
            self.pending.clear();
            self.pending_lines = 0;
            if self.ragged && self.disk.truncate(self.committed).is_ok() {
                self.ragged = false;
            }
            self.troubles.push(stretch);
        }
        let _ = self.disk.sync();
        self.troubles.clone()
    }
}

/// Every recording being written, for the panic hook: it ends them with a
/// line that says the console crashed.
static SINKS: Mutex<Vec<Weak<Mutex<Sink>>>> = Mutex::new(Vec::new());

pub(super) fn register(sink: &Arc<Mutex<Sink>>) {
    let mut sinks = SINKS.lock().unwrap_or_else(|e| e.into_inner());
    sinks.retain(|s| s.strong_count() > 0);
    sinks.push(Arc::downgrade(sink));
}

/// Ends every recording being written with `lines` (each a whole line):
/// from the panic hook, so a recording of a crash says so. A recording
/// whose writer was busy at the moment (the panic was in it) is left as
/// it is.
pub(super) fn end_all(lines: impl Fn(i64) -> Vec<String>) {
    let sinks = match SINKS.try_lock() {
        Ok(s) => s.iter().filter_map(Weak::upgrade).collect::<Vec<_>>(),
        Err(_) => return,
    };
    for sink in sinks {
        let Ok(mut sink) = sink.try_lock() else { continue };
        let t = sink.last_t;
        for line in lines(t) {
            sink.push(t, &line);
        }
        let _ = sink.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk of `room` bytes: a write past it writes what fits, then
    /// fails as a full disk does.
    #[derive(Clone, Default)]
    struct Full {
        data: Arc<Mutex<Vec<u8>>>,
        room: Arc<Mutex<usize>>,
    }

    impl Disk for Full {
        fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
            let mut data = self.data.lock().unwrap();
            let room = *self.room.lock().unwrap();
            data.truncate(offset as usize);
            let fits = room.saturating_sub(data.len()).min(buf.len());
            data.extend_from_slice(&buf[..fits]);
            if fits < buf.len() { Err(io::Error::from_raw_os_error(28)) } else { Ok(()) }
        }

        fn truncate(&mut self, len: u64) -> io::Result<()> {
            self.data.lock().unwrap().truncate(len as usize);
            Ok(())
        }

        fn sync(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn line(i: usize) -> String {
        format!("{{\"t\":{i},\"m\":\"line {i:04}\"}}")
    }

    #[test]
    fn a_full_disk_holds_lines_then_drops_and_counts_them_and_writes_the_rest_when_space_returns() {
        let disk = Full::default();
        *disk.room.lock().unwrap() = 100;
        let mut sink = Sink::new(Path::new("/rec.jsonl"), Box::new(disk.clone()));
        sink.set_hold(10 * (line(0).len() + 1));
        for i in 0..5 {
            sink.push(i as i64 * 1000, &line(i));
        }
        assert!(sink.flush().is_err(), "100 bytes do not take five lines");
        assert!(
            matches!(sink.news.pop_front(), Some(Keeping::RecordingFailed { error, .. }) if error == "no space left on device")
        );
        // What the failed write left of a line stays out of the file once
        // it is retried; nothing in the file is half a line.
        for i in 5..20 {
            sink.last_try -= RETRY_EVERY;
            sink.push(i as i64 * 1000, &line(i));
        }
        let held = sink.held().unwrap();
        assert_eq!((held.lines, held.dropped), (10, 10), "ten held, the rest dropped and counted");
        *disk.room.lock().unwrap() = 1 << 20;
        sink.last_try -= RETRY_EVERY;
        sink.push(20_000, &line(20));
        sink.flush().unwrap();
        let text = String::from_utf8(disk.data.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..10], (0..10).map(line).collect::<Vec<_>>()[..], "the held lines, in order");
        assert_eq!(lines[10], r#"{"t":20000,"gap":{"lines":10,"from":10000,"to":19000,"local":true}}"#);
        assert_eq!(lines[11], line(20), "then what came after, past the gap");
        assert!(text.ends_with('\n'));
        match sink.news.pop_front() {
            Some(Keeping::RecordingResumed { written, lost, lost_from, lost_to, failed_at }) => {
                assert_eq!((written, lost), (10, 10));
                assert_eq!(failed_at.as_millisecond(), 4000);
                assert_eq!(lost_from.unwrap().as_millisecond(), 10_000);
                assert_eq!(lost_to.unwrap().as_millisecond(), 19_000);
            }
            other => panic!("{other:?}"),
        }
        assert!(sink.keyframe_due);
        assert_eq!(sink.held(), None);
        let troubles = sink.finish();
        assert_eq!(troubles.len(), 1);
        assert_eq!((troubles[0].written_late, troubles[0].lost, troubles[0].lost_at_exit), (10, 10, 0));
    }

    #[test]
    fn once_a_line_is_dropped_every_line_is_until_the_file_takes_them_again() {
        let disk = Full::default();
        let mut sink = Sink::new(Path::new("/rec.jsonl"), Box::new(disk.clone()));
        sink.set_hold(100);
        sink.push(1, &line(1));
        assert!(sink.flush().is_err());
        // A line too big for what is left of the bound, then small ones
        // that would fit: they are dropped too, or a line would be kept
        // without the one it builds on (an `alb` line without its read).
        sink.push(2, &"x".repeat(90));
        sink.push(3, &line(3));
        sink.push(4, "{}");
        assert_eq!(sink.held(), Some(Held { lines: 1, bytes: line(1).len() as u64 + 1, dropped: 3 }));
    }

    #[test]
    fn a_disk_still_full_at_the_end_leaves_whole_lines_and_counts_what_was_never_written() {
        let disk = Full::default();
        *disk.room.lock().unwrap() = 3 * (line(0).len() + 1) + 7;
        let mut sink = Sink::new(Path::new("/rec.jsonl"), Box::new(disk.clone()));
        for i in 0..3 {
            sink.push(i, &line(i as usize));
        }
        sink.flush().unwrap();
        for i in 3..6 {
            sink.push(i, &line(i as usize));
        }
        assert!(sink.flush().is_err());
        let troubles = sink.finish();
        assert_eq!(troubles[0].lost_at_exit, 3);
        assert_eq!(troubles[0].until, None);
        let text = String::from_utf8(disk.data.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'), "the 7 bytes of a fourth line were cut off: {text:?}");
    }
}

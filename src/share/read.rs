//! Reading shared sessions back from the broker: which sessions there
//! are, one session's lines (for a replay, a report or a file), and a
//! live session followed as it is published.
//!
//! Only reads: a follower needs no permission to publish anything on the
//! stream's subjects (see "Permissions" in the README), and nothing here
//! ever publishes on them.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::{self, stream};
use futures::StreamExt;
use jiff::Timestamp;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Ended, HEARTBEAT_EVERY, Heartbeat, KeyframeAt, Options, PART_HEADER, PREFIX, Subjects, refusal};
use crate::record::{self, Header, Kind};

/// Without a message from a live session for this long (heartbeats come
/// every 2 s), the publisher or the broker is gone.
pub const SILENT_AFTER: Duration = Duration::from_secs(3 * HEARTBEAT_EVERY.as_secs());
/// How long to wait for the broker before saying it does not answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// A connection to the broker's stream, for reading.
pub struct Broker {
    stream: stream::Stream,
    pub options: Options,
    /// The last permission error the server reported, if any: said
    /// instead of the timeout a refused request ends in.
    refused: Arc<Mutex<Option<String>>>,
}

/// What one session is, from its first line and last messages.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub subjects: Subjects,
    /// The session's name as in its subjects (the recording's file name).
    pub session: String,
    pub header: Header,
    /// The header line as stored, for a follower's copy.
    pub header_line: Vec<u8>,
    /// Stream sequences of the header's first and last message.
    pub header_seqs: (u64, u64),
    /// The stream sequence of the last `.log` message, when asked.
    pub last_seq: u64,
    /// When the broker stored the last `.log` message.
    pub last_message: Option<Timestamp>,
    pub heartbeat: Option<Heartbeat>,
    pub ended: Option<Ended>,
}

/// Whether a session is still being published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    /// Heartbeats are coming.
    Live,
    /// The publisher said it ended.
    Ended,
    /// No end, and no heartbeat for a while: the publisher stopped without
    /// saying so (killed, or its broker link is down).
    Silent,
}

impl SessionInfo {
    pub fn plan(&self) -> &str {
        &self.header.config.title
    }

    pub fn liveness(&self, now: Timestamp) -> Liveness {
        if self.ended.is_some() {
            return Liveness::Ended;
        }
        let beat = self.heartbeat.as_ref().map_or(i64::MIN, |hb| hb.at);
        if now.as_millisecond().saturating_sub(beat) <= SILENT_AFTER.as_millis() as i64 {
            Liveness::Live
        } else {
            Liveness::Silent
        }
    }

    /// `plan / session (mode, driver)`, to say which session this is.
    pub fn describe(&self) -> String {
        let driver = self.header.operator.as_deref().unwrap_or("driver unknown");
        format!("{} / {} ({}, {driver})", self.plan(), self.session, self.header.config.mode.label().to_lowercase())
    }
}

/// A line put back together from its parts.
#[derive(Debug, Default)]
struct Joiner {
    /// The parts so far: the next part number expected, of how many.
    partial: Option<(u32, u32, Vec<u8>)>,
}

impl Joiner {
    /// A message of `.log`: the whole line once its last part is in.
    fn push(&mut self, seq: u64, part: Option<&str>, payload: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let Some(part) = part else {
            if self.partial.is_some() {
                return Err(format!("message {seq}: a whole line in the middle of a line sent in parts"));
            }
            return Ok(Some(payload.to_vec()));
        };
        let (i, n) = part
            .split_once('/')
            .and_then(|(i, n)| Some((i.parse::<u32>().ok()?, n.parse::<u32>().ok()?)))
            .ok_or_else(|| format!("message {seq}: `{PART_HEADER}: {part}` is not <part>/<parts>"))?;
        let (expected, mut bytes) = match self.partial.take() {
            Some((next, of, bytes)) if of == n => (next, bytes),
            Some(_) => return Err(format!("message {seq}: part {part} of a line that was not finished")),
            None => (1, Vec::new()),
        };
        if i != expected {
            return Err(format!("message {seq}: part {i} of {n} where part {expected} was due"));
        }
        bytes.extend_from_slice(payload);
        if i == n {
            return Ok(Some(bytes));
        }
        self.partial = Some((i + 1, n, bytes));
        Ok(None)
    }
}

/// Whether the broker answered that the stream does not exist (JetStream's
/// error code, not the words of its description).
fn stream_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(j)
        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}

impl Broker {
    /// Connects and finds the stream. Errors say what to do.
    pub async fn connect(options: &Options) -> Result<Broker, String> {
        let refused = Arc::new(Mutex::new(None));
        let seen = refused.clone();
        let connect = options
            .connect_options()
            .await?
            .name("cutover reader")
            .connection_timeout(ANSWER_WITHIN)
            .max_reconnects(None)
            .event_callback(move |event| {
                let seen = seen.clone();
                async move {
                    if let Some(why) = refusal(&event) {
                        *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                    }
                }
            });
        let url = options.redacted_url();
        let client = connect
            .connect(options.url.as_str())
            .await
            .map_err(|e| format!("{url}: the broker does not answer ({e}); check the URL, or that the broker is up"))?;
        let js = jetstream::ContextBuilder::new().timeout(ANSWER_WITHIN).build(client);
        let stream = match js.get_stream(&options.stream).await {
            Ok(stream) => stream,
            Err(e) => {
                let why = refused.lock().unwrap_or_else(|e| e.into_inner()).clone();
                return Err(match why {
                    Some(why) => format!("{url}: the broker refuses: {why} (see Permissions in the README)"),
                    None if stream_not_found(&e) => format!(
                        "{url}: no stream {} there: nothing was shared on this broker yet, or --share-stream names another",
                        options.stream
                    ),
                    None => format!("{url}: stream {}: {e}", options.stream),
                });
            }
        };
        let broker = Broker { stream, options: options.clone(), refused };
        Ok(broker)
    }

    /// What went wrong with a request: the server's refusal if it said one.
    fn explain(&self, what: &str, error: impl std::fmt::Display) -> String {
        match self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            Some(why) => format!("{what}: the broker refuses: {why} (see Permissions in the README)"),
            None => format!("{what}: {error}"),
        }
    }

    /// Every session on the stream, oldest first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, String> {
        let mut subjects = self
            .stream
            .info_with_subjects(format!("{PREFIX}.*.*.log"))
            .await
            .map_err(|e| self.explain("listing the sessions", e))?;
        let mut logs = Vec::new();
        while let Some(entry) = subjects.next().await {
            logs.push(entry.map_err(|e| self.explain("listing the sessions", e))?.0);
        }
        let mut sessions = Vec::new();
        for log in logs {
            if let Some(info) = self.session_at(&log).await? {
                sessions.push(info);
            }
        }
        sessions.sort_by_key(|s| s.header.started);
        Ok(sessions)
    }

    /// The session whose log is `log`; none if its header is gone (past
    /// the stream's retention) or not a recording's.
    async fn session_at(&self, log: &str) -> Result<Option<SessionInfo>, String> {
        let Some(base) = log.strip_suffix(".log") else { return Ok(None) };
        let session = base.rsplit('.').next().unwrap_or_default().to_string();
        let subjects = Subjects::from_base(base);
        let Some((first, last, line)) = self.line_from(log, 1).await? else { return Ok(None) };
        let Ok(header) = record::parse_header(Path::new(log), &String::from_utf8_lossy(&line)) else {
            // Retention took the header and kept later lines: not readable.
            return Ok(None);
        };
        let last_log = self.last(log).await?;
        let heartbeat = self.last(&subjects.heartbeat).await?.and_then(|m| serde_json::from_slice(&m.payload).ok());
        let ended = self.last(&subjects.end).await?.and_then(|m| serde_json::from_slice(&m.payload).ok());
        Ok(Some(SessionInfo {
            subjects,
            session,
            header,
            header_line: line,
            header_seqs: (first, last),
            last_seq: last_log.as_ref().map_or(last, |m| m.sequence),
            last_message: last_log.and_then(|m| Timestamp::from_second(m.time.unix_timestamp()).ok()),
            heartbeat,
            ended,
        }))
    }

    /// The session `id` names (its name as `cutover sessions` shows it, or
    /// `plan/session`, or the start of one name only), or without an id
    /// the newest live one. Errors list what there is.
    pub async fn find(&self, id: Option<&str>) -> Result<SessionInfo, String> {
        let sessions = self.sessions().await?;
        let now = Timestamp::now();
        let url = self.options.redacted_url();
        let Some(id) = id else {
            return newest_live(&sessions, now, |_| true).cloned().ok_or_else(|| match sessions.last() {
                Some(newest) => format!(
                    "{url}: no live session (the newest, {}, is {}); give --session, see `cutover sessions {url}`",
                    newest.session,
                    match newest.liveness(now) {
                        Liveness::Ended => "ended",
                        _ => "silent",
                    }
                ),
                None => format!("{url}: no session on stream {}", self.options.stream),
            });
        };
        let exact: Vec<&SessionInfo> = sessions
            .iter()
            .filter(|s| s.session == id || format!("{}/{}", s.plan(), s.session) == id || s.subjects.base() == id)
            .collect();
        let found =
            if exact.is_empty() { sessions.iter().filter(|s| s.session.starts_with(id)).collect() } else { exact };
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(format!("{url}: no session `{id}`; see `cutover sessions {url}`")),
            many => Err(format!(
                "{url}: `{id}` names {} sessions: {}; give one whole, as plan/session",
                many.len(),
                many.iter().map(|s| format!("{}/{}", s.plan(), s.session)).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    async fn last(&self, subject: &str) -> Result<Option<jetstream::message::StreamMessage>, String> {
        match self.stream.get_last_raw_message_by_subject(subject).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(self.explain(&format!("reading {subject}"), e)),
        }
    }

    /// The first whole line of `subject` from sequence `from` on: the
    /// sequences of its first and last part, and its bytes.
    async fn line_from(&self, subject: &str, from: u64) -> Result<Option<(u64, u64, Vec<u8>)>, String> {
        let mut joiner = Joiner::default();
        let mut seq = from;
        let mut first = None;
        loop {
            let m = match self.stream.get_first_raw_message_by_subject(subject, seq).await {
                Ok(m) => m,
                Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => return Ok(None),
                Err(e) => return Err(self.explain(&format!("reading {subject}"), e)),
            };
            let first = *first.get_or_insert(m.sequence);
            let part = m.headers.get(PART_HEADER).map(|v| v.as_str());
            if let Some(line) = joiner.push(m.sequence, part, &m.payload)? {
                return Ok(Some((first, m.sequence, line)));
            }
            seq = m.sequence + 1;
        }
    }

    /// Writes the session's lines, header first, up to the last line
    /// stored when it was found; returns how many.
    pub async fn download(&self, session: &SessionInfo, out: &mut dyn Write) -> Result<u64, String> {
        if session.last_seq < session.header_seqs.0 {
            return Ok(0);
        }
        let mut consumer = self.read_from(&session.subjects.log, session.header_seqs.0).await?;
        let mut joiner = Joiner::default();
        let mut lines = 0;
        while let Some(m) = consumer.next().await {
            let m = m.map_err(|e| self.explain("reading the session", e))?;
            let seq = m.info().map_err(|e| e.to_string())?.stream_sequence;
            let part = m.headers.as_ref().and_then(|h| h.get(PART_HEADER)).map(|v| v.as_str());
            if let Some(line) = joiner.push(seq, part, &m.payload)? {
                out.write_all(&line).and_then(|()| out.write_all(b"\n")).map_err(|e| e.to_string())?;
                lines += 1;
            }
            if seq >= session.last_seq {
                break;
            }
        }
        Ok(lines)
    }

    /// An ordered consumer of `filter` from sequence `from` on: no state
    /// on the broker beyond the read, and no acknowledgement to send.
    async fn read_from(
        &self,
        filter: &str,
        from: u64,
    ) -> Result<async_nats::jetstream::consumer::pull::Ordered, String> {
        let config = pull::OrderedConfig {
            filter_subject: filter.to_string(),
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: from.max(1) },
            ..Default::default()
        };
        let consumer =
            self.stream.create_consumer(config).await.map_err(|e| self.explain(&format!("reading {filter}"), e))?;
        consumer.messages().await.map_err(|e| self.explain(&format!("reading {filter}"), e))
    }
}

/// How a followed session is doing, shared between the reading task and
/// the screen.
#[derive(Debug, Clone)]
pub struct Link {
    /// Lines written to the local copy.
    pub lines: u64,
    /// When anything of the session last came from the broker.
    pub heard: Instant,
    /// Messages the broker still held for this follower after the last.
    pub pending: u64,
    /// Between the broker storing the last line and it arriving here.
    pub delay: Option<Duration>,
    pub heartbeat: Option<Heartbeat>,
    pub ended: Option<Ended>,
    /// The last thing that went wrong with the broker, until it answers.
    pub error: Option<String>,
    /// A newer live session of the same plan, found once this one ended or
    /// went silent: the viewer moves to it.
    pub next: Option<SessionInfo>,
}

/// What the screen says about the link.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Up to date: how long lines take to arrive.
    Live {
        delay: Option<Duration>,
    },
    /// Reading a backlog.
    CatchingUp {
        behind: u64,
    },
    /// Nothing heard for this long: publisher or broker gone.
    Stale {
        silent: Duration,
    },
    Ended {
        at: Timestamp,
    },
}

impl Default for Link {
    fn default() -> Link {
        Link::new()
    }
}

impl Link {
    pub fn new() -> Link {
        Link {
            lines: 0,
            heard: Instant::now(),
            pending: 0,
            delay: None,
            heartbeat: None,
            ended: None,
            error: None,
            next: None,
        }
    }

    pub fn state(&self, now: Instant) -> LinkState {
        if let Some(end) = &self.ended {
            return LinkState::Ended { at: Timestamp::from_millisecond(end.at).unwrap_or(Timestamp::UNIX_EPOCH) };
        }
        let silent = now.saturating_duration_since(self.heard);
        if silent > SILENT_AFTER {
            LinkState::Stale { silent }
        } else if self.pending > 1 {
            LinkState::CatchingUp { behind: self.pending }
        } else {
            LinkState::Live { delay: self.delay }
        }
    }

    /// The publisher's own state, when it is not simply live: its broker
    /// link was down and it is sending a backlog, or lost lines.
    pub fn publisher(&self) -> Option<String> {
        let hb = self.heartbeat.as_ref()?;
        let mut words = Vec::new();
        if hb.behind > 0 {
            words.push(format!("publisher {} behind", hb.behind));
        }
        if hb.lost > 0 {
            words.push(format!("{} lines lost", hb.lost));
        }
        (!words.is_empty()).then(|| words.join(", "))
    }
}

/// How often a follower whose session ended or went silent looks for the
/// next one.
const SUCCESSOR_EVERY: Duration = Duration::from_secs(3);

/// Following the newest live session: once the one followed has ended or
/// gone silent, looks for a newer live session of the same plan (a relay
/// started again after its pod moved, a driver's new console) and puts it
/// in `link.next`, for the viewer to move to. Until `cancel`.
pub async fn watch_for_successor(
    options: Options,
    current: SessionInfo,
    link: Arc<Mutex<Link>>,
    cancel: CancellationToken,
) {
    let mut broker = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep(SUCCESSOR_EVERY) => {}
            () = cancel.cancelled() => return,
        }
        if matches!(lock(&link).state(Instant::now()), LinkState::Live { .. } | LinkState::CatchingUp { .. }) {
            continue;
        }
        if broker.is_none() {
            broker = Broker::connect(&options).await.ok();
        }
        let Some(b) = &broker else { continue };
        let Ok(sessions) = b.sessions().await else {
            broker = None;
            continue;
        };
        let later_of_the_plan = |s: &SessionInfo| {
            s.plan() == current.plan() && s.session != current.session && s.header.started >= current.header.started
        };
        if let Some(next) = newest_live(&sessions, Timestamp::now(), later_of_the_plan) {
            tracing::info!(from = %current.session, to = %next.session, "following the next live session");
            lock(&link).next = Some(next.clone());
            return;
        }
    }
}

/// The live session started last among those `keep` accepts.
fn newest_live(sessions: &[SessionInfo], now: Timestamp, keep: impl Fn(&SessionInfo) -> bool) -> Option<&SessionInfo> {
    sessions.iter().filter(|s| keep(s) && s.liveness(now) == Liveness::Live).max_by_key(|s| s.header.started)
}

pub fn lock(link: &Mutex<Link>) -> std::sync::MutexGuard<'_, Link> {
    link.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a follower starts: the session's header, and the sequence of
/// its last keyframe (or of the line after the header, before any).
#[derive(Debug, Clone)]
pub struct Joined {
    pub header: Vec<u8>,
    pub start: u64,
    pub keyframe: Option<KeyframeAt>,
}

impl Broker {
    pub async fn join(&self, session: &SessionInfo) -> Result<Joined, String> {
        // The header was read when the session was found.
        let (header, header_last) = (session.header_line.clone(), session.header_seqs.1);
        let keyframe = self
            .last(&session.subjects.keyframe)
            .await?
            .and_then(|m| serde_json::from_slice::<KeyframeAt>(&m.payload).ok())
            .filter(|k| k.seq > header_last);
        let start = keyframe.as_ref().map_or(header_last + 1, |k| k.seq);
        Ok(Joined { header, start, keyframe })
    }
}

/// Follows a session into `out` from where it was joined (the header is
/// the caller's to write), every line as it is published, until
/// `cancel`. The broker going away is waited out: reading resumes where
/// it stopped. Errors only for what cannot be read at all.
pub async fn follow(
    broker: Broker,
    session: SessionInfo,
    joined: Joined,
    mut out: impl Write + Send,
    link: Arc<Mutex<Link>>,
    cancel: CancellationToken,
) -> Result<(), String> {
    let write = |out: &mut dyn Write, line: &[u8]| -> Result<(), String> {
        out.write_all(line).and_then(|()| out.write_all(b"\n")).map_err(|e| format!("the local copy: {e}"))
    };
    let filter = format!("{}.>", session.subjects.base());
    // The first sequence of the line being put together, to start over
    // from if the reading must be started again mid-line.
    let mut line_start = joined.start;
    let mut unflushed = 0;
    while !cancel.is_cancelled() {
        let mut messages = tokio::select! {
            r = broker.read_from(&filter, line_start) => match r {
                Ok(m) => m,
                Err(e) => {
                    lock(&link).error = Some(e);
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = cancel.cancelled() => break,
                    }
                }
            },
            () = cancel.cancelled() => break,
        };
        let mut joiner = Joiner::default();
        let mut next = line_start;
        loop {
            let m = tokio::select! {
                m = messages.next() => m,
                () = cancel.cancelled() => None,
            };
            let m = match m {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    lock(&link).error = Some(broker.explain("following", e));
                    break;
                }
                None => break,
            };
            let Ok(info) = m.info() else { continue };
            let (seq, pending) = (info.stream_sequence, info.pending);
            if seq < next {
                continue;
            }
            next = seq + 1;
            let now = Instant::now();
            let published_ms = (info.published.unix_timestamp_nanos() / 1_000_000) as i64;
            let subject = m.subject.as_str();
            let kind = subject.rsplit('.').next().unwrap_or_default();
            let mut state = lock(&link);
            state.heard = now;
            state.pending = pending;
            state.error = None;
            match kind {
                "log" => {
                    let part = m.headers.as_ref().and_then(|h| h.get(PART_HEADER)).map(|v| v.as_str());
                    if joiner.partial.is_none() {
                        line_start = seq;
                    }
                    if let Some(line) = joiner.push(seq, part, &m.payload)? {
                        drop(state);
                        write(&mut out, &line)?;
                        unflushed += 1;
                        let mut state = lock(&link);
                        state.lines += 1;
                        let age = Timestamp::now().as_millisecond() - published_ms;
                        state.delay = Some(Duration::from_millis(age.max(0) as u64));
                        line_start = seq + 1;
                        if record::classify(&line).is_some_and(|(_, kind)| kind == Kind::Gap) {
                            tracing::warn!(seq, "the publisher lost lines here: waiting for its next keyframe");
                        }
                    }
                }
                "hb" => state.heartbeat = serde_json::from_slice(&m.payload).ok(),
                "end" => state.ended = serde_json::from_slice(&m.payload).ok(),
                _ => {}
            }
            // Written out when the backlog is read, or every so many lines
            // while it is: the screen reads the copy.
            if unflushed > 0 && (pending == 0 || unflushed >= 256) {
                out.flush().map_err(|e| format!("the local copy: {e}"))?;
                unflushed = 0;
            }
        }
        out.flush().map_err(|e| format!("the local copy: {e}"))?;
        unflushed = 0;
    }
    Ok(())
}

/// One session as `cutover sessions --format json` gives it.
#[derive(Debug, Serialize)]
struct Row<'a> {
    plan: &'a str,
    session: &'a str,
    subject: &'a str,
    mode: String,
    driver: Option<&'a str>,
    started: Timestamp,
    last_message: Option<Timestamp>,
    state: Liveness,
    /// Lines the publisher could not get to the broker.
    lost: u64,
}

fn row(s: &SessionInfo, now: Timestamp) -> Row<'_> {
    Row {
        plan: s.plan(),
        session: &s.session,
        subject: s.subjects.base(),
        mode: s.header.config.mode.label().to_lowercase(),
        driver: s.header.operator.as_deref(),
        // Seconds, both: a list for people and scripts, one precision.
        started: Timestamp::from_second(s.header.started.as_second()).unwrap_or(s.header.started),
        last_message: s.last_message,
        state: s.liveness(now),
        lost: s.ended.as_ref().map(|e| e.lost).or(s.heartbeat.as_ref().map(|h| h.lost)).unwrap_or(0),
    }
}

/// The sessions as JSON: an array, oldest first.
pub fn sessions_json(sessions: &[SessionInfo], now: Timestamp) -> String {
    let rows: Vec<Row> = sessions.iter().map(|s| row(s, now)).collect();
    serde_json::to_string_pretty(&rows).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")) + "\n"
}

/// The sessions as a table for people, oldest first.
pub fn sessions_table(sessions: &[SessionInfo], now: Timestamp) -> String {
    let ago = |t: Timestamp| {
        let secs = (now.as_second() - t.as_second()).max(0);
        match secs {
            0..60 => format!("{secs}s ago"),
            60..3600 => format!("{}m ago", secs / 60),
            3600..86_400 => format!("{}h ago", secs / 3600),
            _ => format!("{}d ago", secs / 86_400),
        }
    };
    let minute = |t: Timestamp| t.strftime("%Y-%m-%d %H:%M").to_string();
    let mut rows =
        vec![["PLAN", "SESSION", "MODE", "DRIVER", "STARTED (UTC)", "LAST MESSAGE", "STATE"].map(String::from)];
    for s in sessions {
        let r = row(s, now);
        let state = match r.state {
            Liveness::Live => "live".to_string(),
            Liveness::Ended => "ended".to_string(),
            Liveness::Silent => "silent (no end, no heartbeat)".to_string(),
        };
        rows.push([
            r.plan.to_string(),
            r.session.to_string(),
            r.mode,
            r.driver.unwrap_or("-").to_string(),
            minute(r.started),
            r.last_message.map_or("-".into(), ago),
            if r.lost > 0 { format!("{state}, {} lines lost", r.lost) } else { state },
        ]);
    }
    let widths: Vec<usize> = (0..7).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_joined_in_order_and_anything_else_is_an_error() {
        let mut j = Joiner::default();
        assert_eq!(j.push(1, None, b"whole").unwrap(), Some(b"whole".to_vec()));
        assert_eq!(j.push(2, Some("1/3"), b"ab").unwrap(), None);
        assert_eq!(j.push(3, Some("2/3"), b"cd").unwrap(), None);
        assert_eq!(j.push(4, Some("3/3"), b"e").unwrap(), Some(b"abcde".to_vec()));
        // A part missing, a whole line inside a split one, a bad header.
        assert_eq!(j.push(5, Some("1/2"), b"x").unwrap(), None);
        assert!(j.push(6, None, b"y").unwrap_err().contains("message 6"));
        let mut j = Joiner::default();
        assert!(j.push(7, Some("2/2"), b"x").unwrap_err().contains("part 2 of 2 where part 1 was due"));
        assert!(Joiner::default().push(8, Some("two"), b"x").unwrap_err().contains("not <part>/<parts>"));
    }
}

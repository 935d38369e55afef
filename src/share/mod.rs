//! Sharing a session over NATS JetStream: the recording's lines, as they
//! are written, also go to a broker, where any number of people can follow
//! the session without reading AWS or the clusters themselves.
//!
//! The stream layout (said for users in the README, "Watching together"):
//! one JetStream stream (default `CUTOVER`, subjects `cutover.>`), and per
//! session, `<plan>` and `<session>` being names made subject-safe:
//! - `cutover.<plan>.<session>.log`: every recording line in order, the
//!   header first; a line the buffer could not hold is replaced, with the
//!   others lost with it, by one `{"t":..,"gap":{"lines":N}}` line;
//! - `cutover.<plan>.<session>.k`: the stream sequence of the latest
//!   keyframe line of `.log`, published once that line is stored (only the
//!   latest is kept: a rollup);
//! - `cutover.<plan>.<session>.hb`: a heartbeat every 2 s while the broker
//!   answers (only the latest is kept);
//! - `cutover.<plan>.<session>.end`: once, when the session ends.
//!
//! The console never waits on the broker: the recorder hands each line to
//! a bounded buffer and returns; a task of its own publishes from there,
//! one line at a time, each acknowledged before the next, so the order
//! on the broker is the order written whatever the broker does.

pub use crate::domain::{ShareState, ShareStatus};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use async_nats::{ConnectOptions, HeaderMap};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};

use crate::app::Msg;
use crate::record::{Kind, Tap, classify};

pub mod read;

/// The stream's name when none is given.
pub const DEFAULT_STREAM: &str = "CUTOVER";
/// Every subject of the stream starts with this.
pub const PREFIX: &str = "cutover";
/// The header that marks a part of a line split to fit the broker's
/// largest message: `<part>/<parts>`, from `1/<parts>`.
pub const PART_HEADER: &str = "Cutover-Part";
/// Room left in each part for the headers, which count in a message's size.
const HEADROOM: usize = 4096;
/// How often a heartbeat is published while the broker answers.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// How long a publish may wait for its acknowledgement before the broker
/// counts as down and the line is tried again.
const ACK_WITHIN: Duration = Duration::from_secs(3);
/// The wait before trying again after a failure.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// The header shows how far behind the broker is at most this often.
const STATUS_EVERY: Duration = Duration::from_millis(500);

/// How much the buffer between the recorder and the broker may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub lines: usize,
    pub bytes: usize,
}

impl Default for Limits {
    /// Minutes of a busy session while the broker is away, in bounded memory.
    fn default() -> Limits {
        Limits { lines: 50_000, bytes: 64 << 20 }
    }
}

/// Where and how to share, from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// `nats://host:port` or `tls://host:port`, maybe with a user or token.
    pub url: String,
    /// A NATS credentials file (JWT and seed).
    pub creds: Option<PathBuf>,
    pub stream: String,
    /// Retention of the stream, when this publisher creates it.
    pub max_age: Duration,
    pub max_bytes: i64,
    pub limits: Limits,
}

impl Options {
    pub fn new(url: &str) -> Options {
        Options {
            url: url.to_string(),
            creds: None,
            stream: DEFAULT_STREAM.into(),
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 1 << 30,
            limits: Limits::default(),
        }
    }

    /// Checks what can be checked before anything starts: the URL, the
    /// stream's name and the credentials file. Errors say what to fix.
    pub fn check(&self) -> Result<(), String> {
        self.address()?;
        if let Some(path) = &self.creds {
            std::fs::read_to_string(path).map_err(|e| format!("--nats-creds {}: {e}", path.display()))?;
        }
        Ok(())
    }

    fn address(&self) -> Result<async_nats::ServerAddr, String> {
        let scheme = self.url.split_once("://").map(|(s, _)| s);
        if !matches!(scheme, Some("nats" | "tls")) {
            return Err(format!(
                "--share {}: not a NATS URL (use nats://host:port or tls://host:port)",
                self.redacted_url()
            ));
        }
        let addr = self
            .url
            .parse::<async_nats::ServerAddr>()
            .map_err(|e| format!("--share {}: {e} (use nats://host:port or tls://host:port)", self.redacted_url()))?;
        if !valid_token(&self.stream) {
            return Err(format!("--share-stream {}: a stream name is letters, digits, '-' and '_' only", self.stream));
        }
        Ok(addr)
    }

    /// The client's options: the credentials file, or the URL's user or
    /// token. Errors say what to fix.
    pub async fn connect_options(&self) -> Result<ConnectOptions, String> {
        let addr = self.address()?;
        let options = match &self.creds {
            Some(path) => ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|e| format!("--nats-creds {}: {e}", path.display()))?,
            None => ConnectOptions::new(),
        };
        // The client does not read credentials from the URL itself:
        // `user:password@` is a user, a lone `token@` a token.
        let options = match (addr.username(), addr.password()) {
            (Some(user), Some(password)) => options.user_and_password(user.into(), password.into()),
            (Some(token), None) => options.token(token.into()),
            _ => options,
        };
        Ok(options)
    }
}

impl Options {
    /// The URL without a user, password or token, for the log.
    pub fn redacted_url(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}"),
                None => self.url.clone(),
            },
            None => self.url.clone(),
        }
    }
}

fn valid_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A name made safe as one token of a subject: letters, digits, `-` and
/// `_` are kept, anything else (dots, spaces, wildcards) becomes `_`.
pub fn subject_token(name: &str) -> String {
    let token: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if token.is_empty() { "_".into() } else { token }
}

/// The subjects of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    pub log: String,
    pub keyframe: String,
    pub heartbeat: String,
    pub end: String,
}

impl Subjects {
    pub fn new(plan: &str, session: &str) -> Subjects {
        Subjects::from_base(&format!("{PREFIX}.{}.{}", subject_token(plan), subject_token(session)))
    }

    /// The subjects under `cutover.<plan>.<session>`.
    pub fn from_base(base: &str) -> Subjects {
        Subjects {
            log: format!("{base}.log"),
            keyframe: format!("{base}.k"),
            heartbeat: format!("{base}.hb"),
            end: format!("{base}.end"),
        }
    }

    /// `cutover.<plan>.<session>`.
    pub fn base(&self) -> &str {
        self.log.strip_suffix(".log").unwrap_or(&self.log)
    }
}

/// The heartbeat's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Wall-clock time of the heartbeat, unix ms (not the console's clock:
    /// a demo's clock may run faster).
    pub at: i64,
    /// The stream sequence of the last `.log` line stored, 0 before any.
    pub last: u64,
    /// Lines written and not yet stored.
    pub behind: u64,
    /// Lines lost to a full buffer so far.
    pub lost: u64,
    /// `live`, or `catching up` while a backlog is published.
    pub status: String,
    pub plan: String,
    pub session: String,
}

/// The `.k` body: where a follower starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyframeAt {
    /// The stream sequence of the keyframe line in `.log`.
    pub seq: u64,
    /// Its time, as in the line (the console's clock, unix ms).
    pub t: i64,
}

/// The `.end` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    pub at: i64,
    /// The stream sequence of the last `.log` line.
    pub last: u64,
    /// Lines of the log, gap lines included.
    pub lines: u64,
    pub lost: u64,
}

/// How much of a line goes in one message, for a broker that takes at
/// most `max_payload` bytes.
fn part_size(max_payload: usize) -> usize {
    max_payload.saturating_sub(HEADROOM).max(1024)
}

/// The line that stands for lines lost to a full buffer.
pub fn gap_line(t: i64, lines: u64) -> String {
    format!("{{\"t\":{t},\"gap\":{{\"lines\":{lines}}}}}")
}

/// Lines waiting for the broker, shared by the recorder (who pushes) and
/// the publishing task (who takes them once stored).
#[derive(Debug)]
struct Queue {
    lines: VecDeque<String>,
    bytes: usize,
    limits: Limits,
    /// Lines lost since the last gap line, and the time of the first.
    dropping: Option<(i64, u64)>,
    lost: u64,
    /// Lines stored by the broker.
    published: u64,
    ended: bool,
    /// A gap line went in: followers need a keyframe after it.
    keyframe_wanted: bool,
}

impl Queue {
    fn room_for(&self, len: usize) -> bool {
        // One line bigger than the byte limit still goes into an empty
        // buffer: a large keyframe is never lost for its size alone.
        self.lines.is_empty() || (self.lines.len() < self.limits.lines && self.bytes + len <= self.limits.bytes)
    }

    fn push_unchecked(&mut self, line: String) {
        self.bytes += line.len();
        self.lines.push_back(line);
    }

    /// A gap line for the lines lost so far, in their place.
    fn close_gap(&mut self) {
        if let Some((t, n)) = self.dropping.take() {
            self.push_unchecked(gap_line(t, n));
            self.keyframe_wanted = true;
        }
    }

    fn push(&mut self, line: &str) {
        if self.dropping.is_some() && self.room_for(line.len()) {
            self.close_gap();
        }
        if self.dropping.is_none() && self.room_for(line.len()) {
            self.push_unchecked(line.to_string());
        } else {
            let t = classify(line.as_bytes()).map_or(0, |(t, _)| t);
            let (_, n) = self.dropping.get_or_insert((t, 0));
            *n += 1;
            self.lost += 1;
        }
    }

    /// The next line to publish, left in place until it is stored.
    fn front(&mut self) -> Option<String> {
        if self.lines.is_empty() {
            self.close_gap();
        }
        self.lines.front().cloned()
    }

    fn pop(&mut self) {
        if let Some(line) = self.lines.pop_front() {
            self.bytes -= line.len();
            self.published += 1;
        }
    }

    fn behind(&self) -> u64 {
        self.lines.len() as u64 + self.dropping.map_or(0, |(_, n)| n)
    }
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Notify,
}

impl Shared {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic while holding the lock ends the program (see main), so
        // a poisoned lock is never seen by a live console.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The recorder's end: hands a line over and returns at once.
struct ShareTap(Arc<Shared>);

impl Tap for ShareTap {
    fn line(&mut self, line: &str) {
        self.0.queue().push(line);
        self.0.wake.notify_one();
    }

    fn wants_keyframe(&mut self) -> bool {
        std::mem::take(&mut self.0.queue().keyframe_wanted)
    }
}

/// What a session's sharing came to at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Lines stored by the broker, gap lines included.
    pub published: u64,
    /// Lines the broker never got (the local recording has them).
    pub behind: u64,
    pub lost: u64,
}

/// A session being shared: the publishing task and the buffer it reads.
pub struct Share {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
    pub subjects: Subjects,
}

impl Share {
    /// Starts publishing (in the background; the broker may be down).
    /// `status` gets a `Msg::Share` whenever the state changes, without
    /// ever waiting on it. Needs a tokio runtime.
    pub fn start(
        options: Options,
        connect: ConnectOptions,
        plan: &str,
        session: &str,
        status: Option<mpsc::Sender<Msg>>,
    ) -> Share {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                lines: VecDeque::new(),
                bytes: 0,
                limits: options.limits,
                dropping: None,
                lost: 0,
                published: 0,
                ended: false,
                keyframe_wanted: false,
            }),
            wake: Notify::new(),
        });
        let subjects = Subjects::new(plan, session);
        let publisher = Publisher {
            shared: shared.clone(),
            options,
            subjects: subjects.clone(),
            plan: plan.to_string(),
            session: session.to_string(),
            status,
            refused: Arc::new(Mutex::new(None)),
            state: ShareState::Connecting,
            told: None,
            last_seq: 0,
            line_index: 0,
            verify: false,
            pending_k: None,
            part: 0,
            first_seq: 0,
            rollup: true,
        };
        let task = tokio::spawn(publisher.run(connect));
        Share { shared, task, subjects }
    }

    /// Lines written and not yet stored by the broker.
    pub fn behind(&self) -> u64 {
        self.shared.queue().behind()
    }

    /// The recorder's end of the buffer, for `Writer::tap`.
    pub fn tap(&self) -> Box<dyn Tap> {
        Box::new(ShareTap(self.shared.clone()))
    }

    /// Ends the session: publishes what is left and `.end`, waiting at
    /// most `within` for the broker.
    pub async fn finish(self, within: Duration) -> Finished {
        self.shared.queue().ended = true;
        self.shared.wake.notify_one();
        let Share { shared, mut task, .. } = self;
        if tokio::time::timeout(within, &mut task).await.is_err() {
            task.abort();
        }
        let queue = shared.queue();
        Finished { published: queue.published, behind: queue.behind(), lost: queue.lost }
    }
}

struct Publisher {
    shared: Arc<Shared>,
    options: Options,
    subjects: Subjects,
    plan: String,
    session: String,
    status: Option<mpsc::Sender<Msg>>,
    /// The last permission error the server reported, if any.
    refused: Arc<Mutex<Option<String>>>,
    state: ShareState,
    /// The status last sent, and when.
    told: Option<(ShareStatus, Instant)>,
    last_seq: u64,
    /// The index of the next line in the log: its message id.
    line_index: u64,
    /// A publish failed: the line may have been stored without its
    /// acknowledgement reaching us, so the stream is asked before it is
    /// sent again.
    verify: bool,
    pending_k: Option<KeyframeAt>,
    /// Parts of the line being published already stored, and the
    /// sequence of its first.
    part: usize,
    first_seq: u64,
    /// The stream allows rollups (one this publisher creates does).
    rollup: bool,
}

struct Counts {
    behind: u64,
    lost: u64,
    published: u64,
    ended_empty: bool,
}

enum Step {
    Published,
    Idle,
    Done,
}

impl Publisher {
    /// Publishes until the session ends and everything is stored.
    async fn run(mut self, connect: ConnectOptions) {
        let refused = self.refused.clone();
        let connect = connect
            .name(format!("cutover {}", self.session))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .reconnect_delay_callback(|attempts| Duration::from_millis((250 * attempts as u64).min(2000)))
            .event_callback(move |event| {
                let refused = refused.clone();
                async move {
                    if let Some(why) = refusal(&event) {
                        tracing::warn!(error = %why, "the broker refuses");
                        *refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
                    }
                }
            });
        self.tell();
        let client = match connect.connect(self.options.url.as_str()).await {
            Ok(c) => c,
            Err(e) => {
                // With retries on, only a bad address gets here.
                self.set_state(ShareState::Down(e.to_string()));
                tracing::error!(error = %e, url = %self.options.redacted_url(), "sharing cannot start");
                return;
            }
        };
        let js = jetstream::ContextBuilder::new().timeout(ACK_WITHIN).build(client);
        let mut stream = None;
        let mut next_beat = Instant::now();
        loop {
            if stream.is_none() {
                match self.ensure_stream(&js).await {
                    Ok(s) => {
                        // A stream made by an administrator without rollups
                        // keeps every heartbeat and `.k`: still readable.
                        self.rollup = s.cached_info().config.allow_rollup;
                        if !self.rollup {
                            tracing::warn!(stream = %self.options.stream, "the stream does not allow rollups: every heartbeat is kept");
                        }
                        stream = Some(s);
                    }
                    Err(e) => {
                        self.failed(e);
                        if self.counts().ended_empty {
                            return;
                        }
                        tokio::time::sleep(RETRY_AFTER).await;
                        continue;
                    }
                }
            }
            let Some(s) = stream.as_ref() else { continue };
            if Instant::now() >= next_beat {
                next_beat = Instant::now() + HEARTBEAT_EVERY;
                match self.heartbeat(&js).await {
                    Ok(()) => self.published(),
                    Err(e) => self.failed(e),
                }
            }
            match self.step(&js, s).await {
                Ok(Step::Published) => self.published(),
                Ok(Step::Done) => {
                    self.tell();
                    return;
                }
                Ok(Step::Idle) => {
                    self.tell();
                    // Woken by a line, or to send the header the count a
                    // throttled status left out, or for the heartbeat.
                    let wait = next_beat.saturating_duration_since(Instant::now()).min(STATUS_EVERY);
                    let _ = tokio::time::timeout(wait, self.shared.wake.notified()).await;
                }
                Err(e) => {
                    self.failed(e);
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
    }

    async fn ensure_stream(&self, js: &jetstream::Context) -> Result<stream::Stream, String> {
        let config = stream::Config {
            name: self.options.stream.clone(),
            subjects: vec![format!("{PREFIX}.>")],
            max_age: self.options.max_age,
            max_bytes: self.options.max_bytes,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            allow_rollup: true,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        js.get_or_create_stream(config).await.map_err(|e| format!("stream {}: {e}", self.options.stream))
    }

    /// Publishes the `.k` owed, or the next line; ends the session when
    /// everything is stored and the session is over.
    async fn step(&mut self, js: &jetstream::Context, stream: &stream::Stream) -> Result<Step, String> {
        if let Some(k) = self.pending_k.clone() {
            let body = serde_json::to_vec(&k).map_err(|e| e.to_string())?;
            publish(js, &self.subjects.keyframe, self.rollup_headers(), body).await?;
            self.pending_k = None;
        }
        let front = self.shared.queue().front();
        let Some(line) = front else {
            if self.shared.queue().ended {
                self.end(js).await?;
                return Ok(Step::Done);
            }
            return Ok(Step::Idle);
        };
        // A line larger than the broker takes in one message (a keyframe
        // of thousands of pods is megabytes; NATS's default is 1 MiB) goes
        // as consecutive parts, each saying which it is.
        let bytes = line.as_bytes();
        let size = part_size(js.client().server_info().max_payload);
        let parts = bytes.len().div_ceil(size).max(1);
        while self.part < parts {
            let index = self.line_index;
            let id = match parts {
                1 => format!("{}.{index}", subject_token(&self.session)),
                _ => format!("{}.{index}.{}", subject_token(&self.session), self.part + 1),
            };
            let stored = if self.verify { self.stored_as(stream, &id).await? } else { None };
            let seq = match stored {
                Some(seq) => seq,
                None => {
                    let mut headers = HeaderMap::new();
                    headers.insert("Nats-Msg-Id", id.as_str());
                    if parts > 1 {
                        headers.insert(PART_HEADER, format!("{}/{parts}", self.part + 1).as_str());
                    }
                    let chunk = &bytes[self.part * size..((self.part + 1) * size).min(bytes.len())];
                    publish(js, &self.subjects.log, headers, chunk.to_vec()).await?
                }
            };
            self.verify = false;
            if self.part == 0 {
                self.first_seq = seq;
            }
            self.part += 1;
            self.last_seq = seq;
        }
        self.part = 0;
        self.shared.queue().pop();
        self.line_index += 1;
        if let Some((t, Kind::Keyframe)) = classify(bytes) {
            self.pending_k = Some(KeyframeAt { seq: self.first_seq, t });
        }
        Ok(Step::Published)
    }

    /// The sequence of the last `.log` message if it is the message `id`.
    async fn stored_as(&self, stream: &stream::Stream, id: &str) -> Result<Option<u64>, String> {
        match stream.get_last_raw_message_by_subject(&self.subjects.log).await {
            Ok(m) => {
                let same = m.headers.get("Nats-Msg-Id").is_some_and(|v| v.as_str() == id);
                Ok(same.then_some(m.sequence))
            }
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(format!("reading the stream back: {e}")),
        }
    }

    async fn heartbeat(&mut self, js: &jetstream::Context) -> Result<(), String> {
        let Counts { behind, lost, .. } = self.counts();
        let beat = Heartbeat {
            at: jiff::Timestamp::now().as_millisecond(),
            last: self.last_seq,
            behind,
            lost,
            status: if behind > 0 { "catching up" } else { "live" }.into(),
            plan: self.plan.clone(),
            session: self.session.clone(),
        };
        let body = serde_json::to_vec(&beat).map_err(|e| e.to_string())?;
        publish(js, &self.subjects.heartbeat, self.rollup_headers(), body).await?;
        Ok(())
    }

    async fn end(&mut self, js: &jetstream::Context) -> Result<(), String> {
        let Counts { published, lost, .. } = self.counts();
        let ended = Ended { at: jiff::Timestamp::now().as_millisecond(), last: self.last_seq, lines: published, lost };
        let body = serde_json::to_vec(&ended).map_err(|e| e.to_string())?;
        publish(js, &self.subjects.end, HeaderMap::new(), body).await?;
        Ok(())
    }

    /// Only the latest message of the subject is kept, where the stream
    /// allows it.
    fn rollup_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if self.rollup {
            headers.insert("Nats-Rollup", "sub");
        }
        headers
    }

    /// The broker stored something: it is live.
    fn published(&mut self) {
        *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.state = ShareState::Live;
        self.tell();
    }

    /// A publish or a stream call failed: refused if the server said so,
    /// else down; said in the header and the log.
    fn failed(&mut self, error: String) {
        self.verify = true;
        // Kept until a publish succeeds: a refusal does not turn into
        // "down" because a retry timed out.
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let state = match refused {
            Some(why) => ShareState::Refused(why),
            None => ShareState::Down(error),
        };
        if self.state != state {
            match &state {
                ShareState::Refused(why) => {
                    tracing::error!(error = %why, url = %self.options.redacted_url(), "the broker refuses this session")
                }
                _ => tracing::warn!(error = ?state, url = %self.options.redacted_url(), "sharing: broker unavailable"),
            }
        }
        self.set_state(state);
    }

    /// The buffer's counts, read under one short lock.
    fn counts(&self) -> Counts {
        let q = self.shared.queue();
        Counts {
            behind: q.behind(),
            lost: q.lost,
            published: q.published,
            ended_empty: q.ended && q.lines.is_empty() && q.dropping.is_none(),
        }
    }

    fn set_state(&mut self, state: ShareState) {
        self.state = state;
        self.tell();
    }

    /// Sends the status when it changed: at once when the state did, at
    /// most every `STATUS_EVERY` when only the counts did.
    fn tell(&mut self) {
        let Counts { behind, lost, .. } = self.counts();
        let status = ShareStatus { state: self.state.clone(), behind, lost };
        let due = match &self.told {
            None => true,
            Some((told, _)) if told.state != status.state => true,
            Some((told, at)) => told != &status && at.elapsed() >= STATUS_EVERY,
        };
        if due && let Some(tx) = &self.status {
            // Never waits: a full channel skips this one; the next is sent.
            if tx.try_send(Msg::Share(status.clone())).is_ok() {
                self.told = Some((status, Instant::now()));
            }
        }
    }
}

/// What the operator must hear of a client event: a refusal of the
/// credentials (at connecting) or of a publish (a permission).
pub(crate) fn refusal(event: &async_nats::Event) -> Option<String> {
    const CREDENTIALS: &str =
        "the broker does not accept these credentials (--nats-creds, $NATS_CREDS, the URL's user or token)";
    match event {
        async_nats::Event::ServerError(async_nats::ServerError::AuthorizationViolation) => {
            Some(format!("authorization violation: {CREDENTIALS}"))
        }
        // The server's `-ERR 'Permissions Violation for …'` reaches the
        // client only as text (`ServerError::Other`): its words are all
        // there is to tell it by.
        async_nats::Event::ServerError(e) if e.to_string().to_ascii_lowercase().contains("permission") => {
            Some(permission_text(&e.to_string()))
        }
        // Failing to connect is said as a client error; only these two
        // are the credentials', the others pass when the broker is back.
        async_nats::Event::ClientError(async_nats::ClientError::Other(e))
            if e == "authorization violation" || e == "failed signing nonce" =>
        {
            Some(format!("{e}: {CREDENTIALS}"))
        }
        _ => None,
    }
}

/// The server's permission error, said for the operator.
fn permission_text(server: &str) -> String {
    let detail = server.trim_start_matches("nats: ").trim_matches('\'');
    format!("{detail}: these credentials may not publish the session (see \"Watching together\" in the README)")
}

/// Publishes and waits for the stream's acknowledgement; the sequence.
async fn publish(js: &jetstream::Context, subject: &str, headers: HeaderMap, body: Vec<u8>) -> Result<u64, String> {
    let sent = async {
        let ack =
            js.publish_with_headers(subject.to_string(), headers, body.into()).await.map_err(|e| e.to_string())?;
        ack.await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(ACK_WITHIN + Duration::from_secs(1), sent).await {
        Ok(Ok(ack)) => Ok(ack.sequence),
        Ok(Err(e)) => Err(format!("publishing to {subject}: {e}")),
        Err(_) => Err(format!("publishing to {subject}: no answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(t: i64) -> String {
        format!("{{\"t\":{t},\"m\":{{\"Tick\":{{\"at\":\"2026-11-25T14:00:00Z\"}}}}}}")
    }

    fn queue(lines: usize) -> Queue {
        Queue {
            lines: VecDeque::new(),
            bytes: 0,
            limits: Limits { lines, bytes: 1 << 20 },
            dropping: None,
            lost: 0,
            published: 0,
            ended: false,
            keyframe_wanted: false,
        }
    }

    #[test]
    fn names_become_single_subject_tokens() {
        assert_eq!(subject_token("shop.eu-1 *prod*"), "shop_eu-1__prod_");
        assert_eq!(subject_token(""), "_");
        let s = Subjects::new("a.b", "demo-20261128T080000Z");
        assert_eq!(s.log, "cutover.a_b.demo-20261128T080000Z.log");
        assert_eq!(s.keyframe, "cutover.a_b.demo-20261128T080000Z.k");
    }

    #[test]
    fn lines_past_a_full_buffer_become_one_gap_line_in_their_place() {
        let mut q = queue(2);
        for t in 1..=5 {
            q.push(&line(t));
        }
        assert_eq!(q.behind(), 5);
        assert_eq!(q.lost, 3);
        q.pop();
        q.pop();
        // Room again: the next line comes after the gap for 3, 4 and 5.
        q.push(&line(6));
        let rest: Vec<String> = q.lines.iter().cloned().collect();
        assert_eq!(rest, vec![gap_line(3, 3), line(6)]);
        assert_eq!(q.behind(), 2);
    }

    #[test]
    fn a_gap_at_the_end_is_published_once_the_buffer_drains() {
        let mut q = queue(1);
        q.push(&line(1));
        q.push(&line(2));
        assert_eq!(q.front(), Some(line(1)));
        q.pop();
        assert_eq!(q.front(), Some(gap_line(2, 1)));
        q.pop();
        assert_eq!(q.front(), None);
        assert_eq!(q.lost, 1);
    }
}

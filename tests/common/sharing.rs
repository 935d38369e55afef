//! A demo console sharing its session with a real `nats-server`, and ways
//! to read the stream back as a follower would: for the sharing and
//! following tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::jetstream::{self, stream::Stream};
use cutover::app::{App, Msg};
use cutover::domain::plus_secs;
use cutover::keymap::Keymap;
use cutover::record::{Header, Writer};
use cutover::share::{self, Limits, Share, ShareStatus};
use cutover::sim::{SimConfig, World};
use tokio::sync::mpsc;

pub const PLAN: &str = "demo shop";

/// A demo console recording through the runtime's `apply`, its lines also
/// going to a broker.
pub struct Session {
    pub world: World,
    pub app: App,
    pub writer: Writer,
    pub path: PathBuf,
    pub share: Share,
    pub status: mpsc::Receiver<Msg>,
    /// The simulated world's clock, seconds past its start.
    pub secs: i64,
}

impl Session {
    pub async fn start(name: &str, url: &str, limits: Limits) -> Session {
        Session::start_armed(name, url, limits, |_| {}).await
    }

    /// [`Session::start`], with `arm` changing the console's configuration
    /// first (a plan's analysis, say).
    pub async fn start_armed(
        name: &str,
        url: &str,
        limits: Limits,
        arm: impl FnOnce(&mut cutover::app::AppConfig),
    ) -> Session {
        let path = super::fresh_path("share", &format!("{name}.jsonl"));
        let start = super::start();
        let world = World::new(&SimConfig { seed: 2026, start, scale: 1 });
        let mut config = world.app_config();
        arm(&mut config);
        let mut app = App::new(config, Keymap::default(), world.now());
        app.config.title = PLAN.into();
        let mut options = share::Options::new(url);
        options.limits = limits;
        let (tx, status) = mpsc::channel(10_000);
        let session = path.file_stem().unwrap().to_string_lossy().into_owned();
        let connect = options.connect_options().await.unwrap();
        let share = Share::start(options, connect, PLAN, &session, Some(tx));
        let writer = Writer::create_tapped(&path, &Header::new(&app, start, (120, 32)), Some(share.tap())).unwrap();
        let mut s = Session { world, app, writer, path, share, status, secs: 0 };
        let initial = s.world.initial();
        s.feed(initial);
        s
    }

    pub fn feed(&mut self, msgs: Vec<Msg>) {
        for msg in msgs {
            let out = cutover::runtime::apply(&mut self.app, msg, Some(&mut self.writer));
            assert!(out.effects.is_empty(), "nobody pressed a key: no effect");
        }
    }

    /// The simulated world `secs` further on, recorded.
    pub fn advance(&mut self, secs: i64) {
        self.secs += secs;
        let msgs = self.world.advance(plus_secs(super::start(), self.secs));
        self.feed(msgs);
    }

    /// The local recording's lines so far.
    pub fn local(&mut self) -> Vec<String> {
        self.writer.flush().unwrap();
        lines(&self.path)
    }

    /// The statuses the header was sent so far.
    pub fn statuses(&mut self) -> Vec<ShareStatus> {
        let mut seen = Vec::new();
        while let Ok(msg) = self.status.try_recv() {
            match msg {
                Msg::Share(s) => seen.push(s),
                other => panic!("only share statuses go to the console from the publisher: {other:?}"),
            }
        }
        seen
    }

    /// Waits until the header is told a status that `done` accepts.
    pub async fn until_status(&mut self, what: &str, done: impl Fn(&ShareStatus) -> bool) -> ShareStatus {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match tokio::time::timeout_at(deadline, self.status.recv()).await {
                Ok(Some(Msg::Share(s))) if done(&s) => return s,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the publisher stopped before {what}"),
                Err(_) => panic!("no status {what} within 30 s (now {:?})", self.share.behind()),
            }
        }
    }

    /// Waits until the broker has every line written.
    pub async fn caught_up(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.share.behind() > 0 {
            assert!(tokio::time::Instant::now() < deadline, "{} lines still behind after 30 s", self.share.behind());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ends the session as the console does; the local lines.
    pub async fn finish(self, within: Duration) -> (Vec<String>, share::Finished, PathBuf) {
        let Session { writer, share, path, .. } = self;
        drop(writer);
        let finished = share.finish(within).await;
        (lines(&path), finished, path)
    }
}

pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

pub fn session_subjects(path: &Path) -> share::Subjects {
    share::Subjects::new(PLAN, &path.file_stem().unwrap().to_string_lossy())
}

pub async fn open_stream(url: &str) -> (jetstream::Context, Stream) {
    let connect = share::Options::new(url).connect_options().await.unwrap();
    let client = connect.connect(url).await.unwrap();
    let js = jetstream::new(client);
    let stream = js.get_stream(share::DEFAULT_STREAM).await.unwrap();
    (js, stream)
}

/// Every message of a subject, in stream order, with its sequence: read
/// as a follower reads, one after the other from a sequence on. A line
/// sent in parts is put back together, with the sequence of its first.
pub async fn read_subject(stream: &Stream, subject: &str, from: u64) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut partial: Option<(u64, Vec<u8>)> = None;
    let mut seq = from;
    loop {
        let m = match stream.get_first_raw_message_by_subject(subject, seq).await {
            Ok(m) => m,
            Err(e) if e.to_string().contains("no message found") => break,
            Err(e) => panic!("reading {subject} from {seq}: {e}"),
        };
        seq = m.sequence + 1;
        let part = m.headers.get(share::PART_HEADER).map(|v| v.as_str().to_string());
        let Some(part) = part else {
            assert!(partial.is_none(), "a line's parts are consecutive: {subject} at {}", m.sequence);
            out.push((m.sequence, String::from_utf8(m.payload.to_vec()).unwrap()));
            continue;
        };
        let (i, n) = part.split_once('/').unwrap();
        let (i, n): (u64, u64) = (i.parse().unwrap(), n.parse().unwrap());
        let (first, mut bytes) = partial.take().unwrap_or((m.sequence, Vec::new()));
        assert_eq!(i, m.sequence - first + 1, "parts in order, none missing: {part} at {}", m.sequence);
        bytes.extend_from_slice(&m.payload);
        if i == n {
            out.push((first, String::from_utf8(bytes).unwrap()));
        } else {
            partial = Some((first, bytes));
        }
    }
    assert!(partial.is_none(), "a line's last part is missing in {subject}");
    out
}

pub async fn last_on(stream: &Stream, subject: &str) -> Option<(u64, String)> {
    let m = stream.get_last_raw_message_by_subject(subject).await.ok()?;
    Some((m.sequence, String::from_utf8(m.payload.to_vec()).unwrap()))
}

pub fn texts(log: &[(u64, String)]) -> Vec<String> {
    log.iter().map(|(_, l)| l.clone()).collect()
}

pub fn gap_lines(log: &[String]) -> Vec<&String> {
    log.iter().filter(|l| l.contains("\"gap\":{\"lines\":")).collect()
}

/// A server with a user that may use JetStream but not publish sessions,
/// a publisher and a follower with exactly the permissions the README
/// gives them, and an administrator to look at the stream.
pub const PERMISSIONS: &str = r#"
accounts {
  CUTOVER {
    jetstream: enabled
    users: [
      { user: admin, password: admin }
      { user: observer, password: observer, permissions: { publish: { deny: ["cutover.>"] } } }
      { user: publisher, password: publisher, permissions: {
          publish: { allow: ["cutover.>", "$JS.API.STREAM.INFO.CUTOVER", "$JS.API.STREAM.CREATE.CUTOVER",
                             "$JS.API.STREAM.MSG.GET.CUTOVER"] }
          subscribe: { allow: ["_INBOX.>"] } } }
      { user: follower, password: follower, permissions: {
          publish: { allow: ["$JS.API.STREAM.INFO.CUTOVER", "$JS.API.STREAM.MSG.GET.CUTOVER",
                             "$JS.API.CONSUMER.CREATE.CUTOVER", "$JS.API.CONSUMER.CREATE.CUTOVER.>",
                             "$JS.API.CONSUMER.MSG.NEXT.CUTOVER.>"] }
          subscribe: { allow: ["_INBOX.>"] } } }
    ]
  }
}
"#;

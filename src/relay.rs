//! `cutover relay`: the reading half of `watch` with no terminal. One
//! process reads AWS and the clusters and publishes the session to the
//! broker; everyone else follows it there, costing the cloud nothing.
//!
//! Messages are applied, recorded and keyframed by the console's own code
//! ([`crate::runtime::apply_burst`]); the relay draws nothing and reads no
//! keys. What an SRE needs from a Deployment's log goes to stderr: the
//! sources and the broker going down and coming back, and a summary line
//! every minute.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::app::{App, Msg, SourceId, SourceState};
use crate::record::Writer;
use crate::share::ShareState;

/// How often the relay says how it is doing when nothing changes.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// What the log has said of the sources and the broker, to say only
/// changes.
#[derive(Debug, Default)]
pub struct Told {
    sources: BTreeMap<SourceId, &'static str>,
    share: Option<&'static str>,
}

/// A source's or the broker's state in one word, for the log.
fn source_word(state: &SourceState) -> &'static str {
    match state {
        SourceState::Connecting => "connecting",
        SourceState::Live { .. } => "live",
        SourceState::Stale { .. } => "stale",
    }
}

fn share_word(state: &ShareState) -> &'static str {
    match state {
        ShareState::Connecting => "connecting",
        ShareState::Live => "connected",
        ShareState::Down(_) => "down",
        ShareState::Refused(_) => "refused",
    }
}

impl Told {
    /// Logs what changed since the last call: a source turning stale or
    /// live, the broker connected, down or refusing.
    pub fn log_changes(&mut self, app: &App) {
        for (id, state) in &app.sources {
            let word = source_word(state);
            if self.sources.insert(*id, word) == Some(word) {
                continue;
            }
            match state {
                SourceState::Stale { error, .. } => {
                    tracing::warn!(source = id.label(), %error, "source stale: its panel shows the last good read")
                }
                _ => tracing::info!(source = id.label(), "source {word}"),
            }
        }
        if let Some(status) = &app.share {
            let word = share_word(&status.state);
            if self.share.replace(word) != Some(word) {
                match &status.state {
                    ShareState::Refused(why) => {
                        tracing::error!(error = %why, "broker refuses: followers see nothing until the credentials or permissions are fixed; retrying")
                    }
                    ShareState::Down(why) => {
                        tracing::warn!(error = %why, behind = status.behind, "broker down: lines are held, retrying")
                    }
                    _ => tracing::info!(behind = status.behind, "broker {word}"),
                }
            }
        }
    }
}

/// One line on how the relay is doing: what it has applied and written
/// (`recorder`), the broker (`share`, as [`share_text`] says it while
/// running), its sources.
pub fn summary(app: &App, up: Duration, messages: u64, recorder: Option<&Writer>, share: &str) -> String {
    let mut text = format!("up {}, {messages} messages", human_duration(up));
    if let Some(r) = recorder {
        let _ = write!(text, ", {} lines ({} KiB)", r.lines(), r.bytes() / 1024);
    }
    let _ = write!(text, "; share: {share}; sources:");
    if app.sources.is_empty() {
        text.push_str(" none yet");
    }
    for (id, state) in &app.sources {
        let _ = write!(text, " {} {}", id.label(), source_word(state));
        if let SourceState::Stale { error, .. } = state {
            let _ = write!(text, " ({error})");
        }
        text.push(',');
    }
    text.trim_end_matches(',').to_string()
}

/// The broker as the header says it: `live`, `down, 120 behind`...
pub fn share_text(app: &App) -> String {
    app.share.as_ref().map_or_else(|| "connecting".to_string(), |s| s.text())
}

/// `1h02m`, `5m10s`, `12s`.
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Logs the summary: an error while the broker refuses (nobody can follow,
/// and someone must fix the credentials), a warning while it or a source
/// is down, else plain information.
pub fn log_summary(app: &App, text: &str) {
    let refused = app.share.as_ref().is_some_and(|s| matches!(s.state, ShareState::Refused(_)));
    let down = app.share.as_ref().is_some_and(|s| matches!(s.state, ShareState::Down(_)))
        || app.sources.values().any(|s| matches!(s, SourceState::Stale { .. }));
    if refused {
        tracing::error!("relay: {text}");
    } else if down {
        tracing::warn!("relay: {text}");
    } else {
        tracing::info!("relay: {text}");
    }
}

/// Applies messages until `stop` fires or every source is gone, recording
/// (and so publishing) each as the console does, logging changes and a
/// summary every `every`. Returns how many messages were applied.
///
/// A relay has no executor: an effect can only come from a key, and no
/// key reaches it; any that `update` made anyway is dropped and logged.
pub async fn run(
    app: &mut App,
    rx: &mut mpsc::Receiver<Msg>,
    mut recorder: Option<&mut Writer>,
    stop: impl std::future::Future<Output = ()>,
    every: Duration,
) -> u64 {
    enum Next {
        // Boxed: a message is large, the other branches carry nothing.
        Msg(Option<Box<Msg>>),
        Summary,
        Stop,
    }
    let started = Instant::now();
    let mut messages = 0u64;
    let mut told = Told::default();
    let mut outbox = Vec::new();
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        let next = tokio::select! {
            _ = &mut stop => Next::Stop,
            msg = rx.recv() => Next::Msg(msg.map(Box::new)),
            _ = ticker.tick() => Next::Summary,
        };
        match next {
            Next::Stop | Next::Msg(None) => break,
            Next::Summary => {
                let text = summary(app, started.elapsed(), messages, recorder.as_deref(), &share_text(app));
                log_summary(app, &text);
            }
            Next::Msg(Some(msg)) => {
                let burst = crate::runtime::apply_burst(app, *msg, rx, recorder.as_deref_mut(), &mut outbox);
                messages += burst.applied as u64;
                for queued in outbox.drain(..) {
                    tracing::error!(?queued, "an effect in a relay, which has no executor, was dropped");
                }
                told.log_changes(app);
            }
        }
    }
    messages
}

/// Log lines as JSON objects, one a line (`--log-format json`): `ts`,
/// `level`, `target`, `message` and the event's fields.
pub struct JsonLines;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for JsonLines
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        let mut fields = serde_json::Map::new();
        fields.insert("ts".into(), jiff::Timestamp::now().to_string().into());
        fields.insert("level".into(), meta.level().as_str().into());
        fields.insert("target".into(), meta.target().into());
        event.record(&mut JsonFields(&mut fields));
        writeln!(writer, "{}", serde_json::Value::Object(fields))
    }
}

struct JsonFields<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl tracing::field::Visit for JsonFields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::update;
    use crate::domain::Side;
    use crate::share::ShareStatus;

    #[test]
    fn the_summary_says_each_source_the_broker_and_what_was_written() {
        let start: jiff::Timestamp = "2026-11-25T14:00:00Z".parse().unwrap();
        let world = crate::sim::World::new(&crate::sim::SimConfig { seed: 2026, start, scale: 1 });
        let mut app = App::new(world.app_config(), crate::keymap::Keymap::default(), start);
        assert_eq!(
            summary(&app, Duration::from_secs(5), 0, None, &share_text(&app)),
            "up 5s, 0 messages; share: connecting; sources: none yet"
        );
        let stale = SourceState::Stale {
            since: start,
            error: "eks-new: connection refused".into(),
            last_ok: None,
            fault: Default::default(),
        };
        for (id, state) in [
            (SourceId::Traffic(crate::domain::RouteKind::Alb), SourceState::Live { last_ok: start }),
            (SourceId::Cluster(Side::New), stale),
        ] {
            let _ = update(&mut app, Msg::Source { id, state });
        }
        let down = ShareStatus { state: ShareState::Down("no answer".into()), behind: 120, lost: 0 };
        let _ = update(&mut app, Msg::Share(down));
        let text = summary(&app, Duration::from_secs(3725), 4321, None, &share_text(&app));
        assert_eq!(
            text,
            "up 1h02m, 4321 messages; share: down, 120 behind; sources: k8s new stale (eks-new: connection refused), alb live"
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(Duration::from_secs(12)), "12s");
        assert_eq!(human_duration(Duration::from_secs(310)), "5m10s");
        assert_eq!(human_duration(Duration::from_secs(3720)), "1h02m");
    }
}

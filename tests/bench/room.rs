//! One more follower of a shared session, reading it through the same code
//! as `cutover follow` (`share::read::follow`), that notes when marked pod
//! changes arrive. Driven by `tests/bench/room.sh`, which runs the relay,
//! the other followers and the changes.
//!
//! Usage: cargo bench --bench room -- URL SECS OUT
//! Writes to OUT one `<restart count> <unix ms received>` line for every
//! line of the session that carries a restart count of 4,242,000 or more
//! (the marks room.sh writes), and prints how long the join took.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cutover::share::Options;
use cutover::share::read::{Broker, Link, follow};
use tokio_util::sync::CancellationToken;

/// The restart counts room.sh writes start here.
const MARK: &str = "\"restarts\":4242";

/// The follower's copy, read as it is written: the marks it carries, when.
struct Probe {
    partial: Vec<u8>,
    seen: Arc<Mutex<Vec<(u64, i64)>>>,
    first_line: Arc<Mutex<Option<Instant>>>,
}

impl Write for Probe {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let now = jiff::Timestamp::now().as_millisecond();
            self.first_line.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Instant::now);
            let text = String::from_utf8_lossy(&line);
            let mut rest = text.as_ref();
            while let Some(at) = rest.find(MARK) {
                let from = at + "\"restarts\":".len();
                let digits: String = rest[from..].chars().take_while(char::is_ascii_digit).collect();
                if let Ok(value) = digits.parse() {
                    self.seen.lock().unwrap_or_else(|e| e.into_inner()).push((value, now));
                }
                rest = &rest[at + MARK.len()..];
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [url, secs, out] = args.as_slice() else {
        return Err("usage: cargo bench --bench room -- URL SECS OUT".into());
    };
    let secs: u64 = secs.parse().map_err(|e| format!("SECS: {e}"))?;
    cutover::sources::ensure_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let first_line = Arc::new(Mutex::new(None));
    let started = Instant::now();
    runtime.block_on(async {
        let options = Options::new(url);
        let broker = Broker::connect(&options).await?;
        let session = broker.find(None).await?;
        let joined = broker.join(&session).await?;
        let link = Arc::new(Mutex::new(Link::new()));
        let cancel = CancellationToken::new();
        let probe = Probe { partial: Vec::new(), seen: seen.clone(), first_line: first_line.clone() };
        let task = tokio::spawn(follow(broker, session, joined, probe, link, cancel.clone()));
        tokio::time::sleep(Duration::from_secs(secs)).await;
        cancel.cancel();
        task.await.map_err(|e| e.to_string())??;
        Ok::<(), String>(())
    })?;
    let joined = first_line.lock().unwrap_or_else(|e| e.into_inner()).map(|t| t - started);
    println!(
        "probe: first line (the keyframe) {:.0} ms after connecting",
        joined.unwrap_or_default().as_secs_f64() * 1000.0
    );
    let mut file = std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?;
    for (value, at) in seen.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        writeln!(file, "{value} {at}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

//! `cutover follow URL`: the replay viewer over a local copy the broker
//! fills as the session goes. No client of AWS or Kubernetes exists here.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use tokio_util::sync::CancellationToken;

use super::broker::{TempCopy, find_session, temp_copy_path};
use super::console::{self, no_terminal};
use super::crash;
use super::init::tokio_runtime;
use super::say::{bad_input, say};
use super::share_args::reader_options;
use super::signals::{stopped_by, viewer_signals};
use crate::cli::FollowArgs;
use crate::replay::{self, Player, Viewer};
use crate::share::read::{self, Broker, Link};
use crate::terminal::TerminalGuard;

/// Follows the session `--session` names, or the newest live one.
/// Following the newest live session, it moves on by itself to the next
/// one of the same plan once this one has ended or gone silent (a relay
/// started again, a driver's new console).
pub fn run(args: FollowArgs) -> Result<ExitCode> {
    let keymap = match console::keymap(&args.console) {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    let options = match reader_options(args.url.as_deref(), &args.shared) {
        Ok(o) => o,
        Err(e) => return Ok(bad_input(&format!("follow: {e}"))),
    };
    let runtime = tokio_runtime()?;
    let id = args.shared.session.as_deref();
    let found = runtime.block_on(async {
        let (broker, session) = find_session(&options, id).await?;
        let joined = broker.join(&session).await?;
        Ok::<_, String>((broker, session, joined))
    });
    let (mut broker, mut session, mut joined) = match found {
        Ok(f) => f,
        Err(e) => return Ok(bad_input(&format!("follow: {e}"))),
    };
    let mut status =
        format!("following {}{}", session.describe(), if id.is_none() { ": the newest live session" } else { "" });
    let mut terminal: Option<TerminalGuard> = None;
    let mut followed = Vec::new();
    let stop = viewer_signals();
    let result = loop {
        let (path, temporary) = match (&args.save, followed.is_empty()) {
            (Some(path), true) => (path.clone(), None),
            // The sessions after the first go next to the file asked for.
            (Some(path), false) => (path.with_file_name(format!("{}.jsonl", session.session)), None),
            (None, _) => {
                let path = temp_copy_path("follow", &session.session);
                (path.clone(), Some(TempCopy(path)))
            }
        };
        let player = match start_copy(&path, &joined.header) {
            Ok(p) => p,
            Err(e) if terminal.is_none() => return Ok(bad_input(&format!("follow: {e}"))),
            Err(e) => break Err(color_eyre::eyre::eyre!("follow: {e}")),
        };
        if terminal.is_none() {
            if let Some(code) = no_terminal() {
                return Ok(code);
            }
            crash::exit_on_panic();
            terminal = Some(TerminalGuard::take(!args.console.no_mouse)?);
        }
        let link = Arc::new(Mutex::new(Link::new()));
        let cancel = CancellationToken::new();
        let copy = std::fs::OpenOptions::new().append(true).open(&path).wrap_err("the local copy")?;
        let (task_link, task_cancel, task_session) = (link.clone(), cancel.clone(), session.clone());
        runtime.spawn(async move {
            let out = std::io::BufWriter::with_capacity(1 << 20, copy);
            let followed = read::follow(broker, task_session, joined, out, task_link.clone(), task_cancel);
            if let Err(e) = followed.await {
                tracing::error!(error = %e, "following stopped");
                task_link.lock().unwrap_or_else(|e| e.into_inner()).error = Some(e);
            }
        });
        if id.is_none() {
            let (options, current, link, cancel) = (options.clone(), session.clone(), link.clone(), cancel.clone());
            runtime.spawn(read::watch_for_successor(options, current, link, cancel));
        }
        let mut viewer = Viewer::new(player, keymap.clone(), true).following(link.clone());
        viewer.status = Some(status.clone());
        viewer.stop = Some(stop.clone());
        let Some(term) = terminal.as_mut() else { break Ok(()) };
        let ran = replay::run(term.terminal(), &mut viewer);
        cancel.cancel();
        let (lines, next) = {
            let mut link = link.lock().unwrap_or_else(|e| e.into_inner());
            (link.lines, link.next.take())
        };
        followed.push((session.clone(), lines, path, temporary));
        let Some(next) = next.filter(|_| ran.is_ok() && viewer.gave_way) else { break ran };
        let rejoined = runtime.block_on(async {
            let broker = Broker::connect(&options).await?;
            let joined = broker.join(&next).await?;
            Ok::<_, String>((broker, joined))
        });
        match rejoined {
            Ok((b, j)) => {
                status =
                    format!("{} ended; now following {}, the newest live session", session.session, next.describe());
                (broker, session, joined) = (b, next, j);
            }
            Err(e) => break Err(color_eyre::eyre::eyre!("follow: moving to {}: {e}", next.describe())),
        }
    };
    drop(terminal);
    runtime.shutdown_timeout(Duration::from_secs(1));
    for (session, lines, path, temporary) in followed {
        say(&format!("cutover: followed {} ({lines} lines)", session.describe()));
        match temporary {
            Some(_) => say(&format!(
                "  the whole session: cutover replay {} --session {}",
                options.redacted_url(),
                session.session
            )),
            None => say(&format!("  kept in {}: cutover replay {}", path.display(), path.display())),
        }
    }
    result.map(|()| stopped_by(&stop))
}

/// A followed session's local copy: created (never over a file) with its
/// header, and opened for the viewer.
fn start_copy(path: &Path, header: &[u8]) -> Result<Player, String> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("{}: {e} (give another with --save FILE)", path.display()))?;
    std::io::Write::write_all(&mut file, &[header, b"\n"].concat()).map_err(|e| format!("{}: {e}", path.display()))?;
    Player::open(path)
}

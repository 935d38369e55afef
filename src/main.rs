use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use cutover::app::{App, Ending, Mode, Msg, Signal, keeping};
use cutover::check::{self, Verdict};
use cutover::cli::{
    self, Cli, Command, DemoArgs, ExportArgs, FollowArgs, LogFormat, PlanArgs, RecordArgs, RelayArgs, ReplayArgs,
    ReportArgs, ReportFormat, SessionsArgs, SessionsFormat, ShareArgs, SharedArgs,
};
use cutover::keymap::Keymap;
use cutover::plan::Plan;
use cutover::runtime;
use cutover::share::read::{Broker, Link, SessionInfo};
use cutover::{effects, record, sources};

/// Bad input (flags, files): the operator must fix something. Reported
/// plainly, with exit code 2, before the terminal is taken over.
const EXIT_BAD_INPUT: u8 = 2;

/// Whether the console takes the mouse (`--no-mouse` leaves it to the
/// terminal); read where the terminal is taken and given back.
static MOUSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// How long a shared session waits, once ended, for the broker to take
/// what it has not yet.
const SHARE_DRAIN: Duration = Duration::from_secs(5);

/// Takes the terminal: raw mode, the alternate screen, and the mouse.
fn take_terminal() -> Result<ratatui::DefaultTerminal> {
    let terminal = ratatui::try_init().wrap_err("taking over the terminal")?;
    if MOUSE.load(std::sync::atomic::Ordering::Relaxed) {
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
            .wrap_err("taking the mouse (--no-mouse leaves it to the terminal)")?;
    }
    Ok(terminal)
}

/// Gives the terminal back as it was found. A terminal that hung up
/// cannot be given anything: that is no error.
fn give_terminal_back() {
    if MOUSE.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    if let Err(e) = ratatui::try_restore() {
        tracing::warn!(error = %e, "the terminal could not be restored (it is gone)");
    }
}

/// A line on stderr on the way out, and in the log: after a hangup nobody
/// reads the terminal, and writing to it fails (where `eprintln!` would
/// panic).
fn say(text: &str) {
    use std::io::Write;
    tracing::info!("{text}");
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn main() -> Result<ExitCode> {
    color_eyre::install()?;
    sources::ensure_crypto_provider();
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    // Text for the shell and man: no log, no runtime.
    match &cli.command {
        Command::Completions(args) => {
            let mut script = Vec::new();
            cli::completions(args.shell, &mut script);
            return print_text(&script, "the completion script");
        }
        Command::Man(args) => return man(args.command.as_deref()),
        _ => {}
    }
    if let Command::Relay(args) = &cli.command {
        return relay_command(args, cli.log.clone());
    }
    let log = init_logging(cli.log.clone());
    cutover::ui::theme::set_no_color(cutover::ui::theme::no_color_from_env());
    if let Command::Check(args) = &cli.command {
        return check(args, log.as_deref());
    }
    if let Command::Report(args) = &cli.command {
        return Ok(report(args));
    }
    match &cli.command {
        Command::Sessions(args) => return sessions(args),
        Command::Export(args) => return export(args),
        _ => {}
    }
    let console_args = match &cli.command {
        Command::Demo(args) => Some(&args.console),
        Command::Run(args) => Some(&args.console),
        Command::Watch(args) => Some(&args.console),
        Command::Replay(args) => Some(&args.console),
        Command::Follow(args) => Some(&args.console),
        _ => None,
    };
    let chosen = console_args.and_then(|c| c.keymap.as_deref());
    MOUSE.store(!console_args.is_some_and(|c| c.no_mouse), std::sync::atomic::Ordering::Relaxed);
    let keymap = match Keymap::load(chosen) {
        Ok(k) => k,
        Err(e) => return Ok(bad_input(&format!("keymap: {e}"))),
    };
    let plan_args = match &cli.command {
        Command::Watch(args) => Some(&args.plan),
        Command::Run(args) => Some(&args.plan),
        _ => None,
    };
    let plan = match plan_args {
        Some(args) => match Plan::load(&args.plan) {
            Ok(p) => Some(p),
            Err(e) => return Ok(bad_input(&format!("plan: {e}"))),
        },
        _ => None,
    };
    if let Command::Follow(args) = cli.command {
        return follow(args, keymap);
    }
    // A recording that cannot be read is said before the terminal matters.
    let mut copy = None;
    let player = match &cli.command {
        Command::Replay(args) => {
            let path = if cli::is_broker_url(&args.file) {
                match fetch(&args.file.to_string_lossy(), &args.shared) {
                    Ok(c) => copy.insert(c).0.clone(),
                    Err(e) => return Ok(bad_input(&format!("replay: {e}"))),
                }
            } else {
                args.file.clone()
            };
            match cutover::replay::Player::open(&path) {
                Ok(p) => Some(p),
                Err(e) => return Ok(bad_input(&format!("replay: {e}"))),
            }
        }
        _ => None,
    };
    // Where a shared session goes is checked before the terminal matters.
    let share_args = match &cli.command {
        Command::Demo(args) => Some(&args.share),
        Command::Run(args) => Some(&args.share),
        Command::Watch(args) => Some(&args.share),
        _ => None,
    };
    let share = match share_args.map(share_options).transpose() {
        Ok(s) => s.flatten(),
        Err(e) => return Ok(bad_input(&e)),
    };
    // `watch` and `run` ask for the terminal once the plan's backends have
    // resolved it: a record the zone does not hold is said first, with or
    // without a terminal.
    if plan.is_none()
        && let Some(code) = no_terminal()
    {
        return Ok(code);
    }
    match (cli.command, plan) {
        (Command::Replay(args), _) => match player {
            Some(player) => replay(&args, player, keymap),
            None => Ok(ExitCode::SUCCESS),
        },
        (Command::Demo(args), _) => demo(args, keymap, share),
        (Command::Watch(args), Some(plan)) => watch(plan, keymap, Sinks { record: args.record, share }),
        (Command::Run(args), Some(plan)) => drive(plan, keymap, args.dry_run, Sinks { record: args.record, share }),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `cutover man [COMMAND]`: the page on stdout; an unknown command is a
/// usage error, said the way clap says them (exit code 2).
fn man(command: Option<&str>) -> Result<ExitCode> {
    let mut page = Vec::new();
    match cli::man_page(command, &mut page) {
        Some(written) => {
            written.wrap_err("rendering the man page")?;
            print_text(&page, "the man page")
        }
        None => {
            let known = cli::man_commands().join(", ");
            let message = format!("no man page for `{}`: the commands are {known}", command.unwrap_or_default());
            <Cli as clap::CommandFactory>::command().error(clap::error::ErrorKind::InvalidValue, message).exit()
        }
    }
}

/// Text for another program: a reader that stops early (`| head`) is
/// not an error.
fn print_text(text: &[u8], what: &str) -> Result<ExitCode> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).wrap_err(format!("writing {what}")),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Exit code 2, said plainly, when stdin or stdout is not a terminal.
fn no_terminal() -> Option<ExitCode> {
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    (!terminal).then(|| {
        bad_input("the console needs a terminal on stdin and stdout (run it in a terminal, not through a pipe)")
    })
}

fn bad_input(message: &str) -> ExitCode {
    eprintln!("cutover: error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")
}

fn demo(args: DemoArgs, keymap: Keymap, share: Option<cutover::share::Options>) -> Result<ExitCode> {
    tokio_runtime()?.block_on(async move {
        let world = runtime::demo_world(args.seed, args.scale);
        let mut app = App::new(world.app_config(), keymap, world.now());
        tracing::info!(seed = args.seed, speed = args.speed, "demo starting");
        let (tx, rx) = mpsc::channel(runtime::CHANNEL_CAPACITY);
        let (effects_tx, effects_rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        // Known before the start, so the recording's header names it.
        app.operator = format!("{} (demo)", std::env::var("USER").unwrap_or_else(|_| "operator".into()));
        tokio::spawn(runtime::sim_task(world, args.speed, tx.clone(), effects_rx, cancel.clone()));
        let acting = Acting { effects: Some(effects_tx), saved: None, wheel: None };
        let sinks = Sinks { record: args.record, share };
        console(app, args.panic_after, tx, rx, acting, cancel, &sinks).await
    })
}

/// The read-only console. Only reading sources are started: there is no
/// code path from here to anything that writes.
fn watch(plan: Plan, keymap: Keymap, sinks: Sinks) -> Result<ExitCode> {
    tokio_runtime()?.block_on(async move {
        let app = App::new(cutover::app::AppConfig::of_plan(&plan, Mode::Watch), keymap, jiff::Timestamp::now());
        tracing::info!(plan = %plan.path.display(), "watch starting");
        let (tx, rx) = mpsc::channel(runtime::CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let clients = match sources::start_reading(&plan, tx.clone(), cancel.clone()).await {
            Ok(c) => c,
            Err(e) => return Ok(bad_input(&format!("plan {}: {e}", plan.path.display()))),
        };
        if let Some(code) = no_terminal() {
            cancel.cancel();
            return Ok(code);
        }
        // A handoff a driver's console left in flight is shown at once,
        // from the plan's state file, read and never written.
        if let Some(file) = record::HandoffFile::for_plan(&plan.name) {
            tokio::spawn(peek_state_file(file, tx.clone(), cancel.clone()));
        }
        prior_changes(&plan, &sinks.record, tx.clone());
        read_wheel(&plan, &clients, tx.clone(), cancel.clone());
        // No executor exists in this session: effects have nowhere to go.
        console(app, None, tx, rx, Acting { effects: None, saved: None, wheel: None }, cancel, &sinks).await
    })
}

/// The driver's console: the same reading sources, plus the live executor
/// (or, with --dry-run, one that only says what it would send).
fn drive(plan: Plan, keymap: Keymap, dry_run: bool, mut sinks: Sinks) -> Result<ExitCode> {
    tokio_runtime()?.block_on(async move {
        let mode = if dry_run { Mode::DryRun } else { Mode::Run };
        let app = App::new(cutover::app::AppConfig::of_plan(&plan, mode), keymap, jiff::Timestamp::now());
        tracing::info!(plan = %plan.path.display(), dry_run, "run starting");
        let (tx, rx) = mpsc::channel(runtime::CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        let clients = match sources::start_reading(&plan, tx.clone(), cancel.clone()).await {
            Ok(c) => c,
            Err(e) => return Ok(bad_input(&format!("plan {}: {e}", plan.path.display()))),
        };
        if let Some(code) = no_terminal() {
            cancel.cancel();
            return Ok(code);
        }
        // One hand on the wheel: the run takes the plan's Lease if nobody
        // holds it, and watches whoever does. A dry run changes nothing, so
        // it needs no wheel and takes none; it shows who drives, as `watch`.
        let wheel = if dry_run {
            read_wheel(&plan, &clients, tx.clone(), cancel.clone());
            None
        } else {
            let session = session_for(&mut sinks.record, app.config.mode);
            let identity = effects::lease::local_identity(&session);
            let Some(client) = clients.kube.new.clone() else {
                return Ok(bad_input("the new side has no Kubernetes client: the plan's wheel is kept there"));
            };
            let handle =
                effects::lease::WheelHandle::new(client, plan.lease(), identity, plan.name.clone(), tx.clone());
            // The start's round, before anything is picked up: whether this
            // console drives decides it.
            handle.tick().await;
            tokio::spawn(handle.clone().run(cancel.clone()));
            Some(handle)
        };
        let drives = match &wheel {
            Some(w) => w.holding().await,
            None => !dry_run,
        };
        prior_changes(&plan, &sinks.record, tx.clone());
        let users: Vec<String> = cutover::domain::Side::BOTH
            .iter()
            .filter_map(|side| plan.cluster(*side).and_then(sources::kube::context_user))
            .collect();
        let sdk = clients.sdk;
        let sts = aws_sdk_sts::Client::new(&sdk);
        let id_tx = tx.clone();
        let id_wheel = wheel.clone();
        tokio::spawn(async move {
            let who = effects::identity(&sts, &users).await;
            if let Some(w) = id_wheel {
                w.set_operator(&who);
            }
            let _ = id_tx.send(Msg::Operator { who }).await;
        });
        // A handoff an earlier session left in flight is picked up first, by
        // the console that drives: a second one watching leaves it alone.
        // Whether a new one could be kept is known before any is proposed.
        let mut saved = if dry_run { None } else { record::HandoffFile::for_plan(&plan.name) };
        let unwritable = match &saved {
            Some(file) if drives => {
                file.probe().err().map(|e| (file.path().display().to_string(), keeping::error_text(&e)))
            }
            None if drives => Some((
                "$XDG_STATE_HOME/cutover/handoffs".to_string(),
                "no HOME or XDG_STATE_HOME: no place for it".to_string(),
            )),
            Some(_) | None => None,
        };
        if let Some((path, error)) = unwritable {
            tracing::error!(%path, %error, "the handoff state file cannot be written");
            let _ = tx.send(Msg::Keeping(cutover::app::Keeping::StateFile { path, error: Some(error) })).await;
        }
        if let Some(file) = saved.as_mut().filter(|_| drives) {
            match file.load() {
                Ok(Some((handoff, saved_at))) => {
                    let _ = tx.send(Msg::Resumed { handoff, saved_at }).await;
                }
                Ok(None) => {}
                Err(e) => return Ok(bad_input(&format!("the saved handoff state: {e}"))),
            }
        }
        let exec = effects::LiveExecutor {
            elb: effects::elb_client(&sdk),
            route53: sources::aws::route53_client(&sdk),
            kube: clients.kube,
            plan: plan.clone(),
            dry_run,
            route53_options: Default::default(),
        };
        let (effects_tx, effects_rx) = mpsc::channel(16);
        tokio::spawn(effects::run_with(exec, wheel.clone(), effects_rx, tx.clone(), cancel.clone()));
        console(app, None, tx, rx, Acting { effects: Some(effects_tx), saved, wheel }, cancel, &sinks).await
    })
}

/// Reads, off the screen's thread, what earlier sessions of the plan
/// recorded of the routes' weights (the default recordings directory, and
/// the one `--record` writes to), and sends it as one message: recorded,
/// so a replay paces as the session did.
fn prior_changes(plan: &Plan, record: &RecordArgs, tx: mpsc::Sender<Msg>) {
    let started = jiff::Timestamp::now();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = record::default_path("live", started).and_then(|p| p.parent().map(|d| d.to_path_buf())) {
        dirs.push(dir);
    }
    if let Some(dir) = record.record.as_ref().and_then(|p| p.parent()) {
        dirs.push(if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.to_path_buf() });
    }
    let name = plan.name.clone();
    let routes: Vec<String> = plan.routes.iter().map(|r| r.name.clone()).collect();
    tokio::task::spawn_blocking(move || {
        let (changes, recordings) = record::history::last_changes(&dirs, &name, &routes, started);
        tracing::info!(recordings, found = changes.len(), "earlier weight changes read");
        let _ = tx.blocking_send(Msg::PriorChanges { changes, recordings });
    });
}

/// The session's name, as its recording will be named: the holder's
/// identity carries it. The default recording path is fixed here, so the
/// console records under the same name.
fn session_for(record: &mut RecordArgs, mode: Mode) -> String {
    let mode = mode.label().to_ascii_lowercase();
    let started = jiff::Timestamp::now();
    if record.record.is_none() && !record.no_record {
        record.record = record::default_path(&mode, started);
    }
    let stem = record.record.as_ref().filter(|_| !record.no_record).and_then(|p| p.file_stem());
    stem.map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| record::session_name(&mode, started))
}

/// Starts reading who drives the plan (its Lease, never written here), for
/// a console or relay that does not drive.
fn read_wheel(plan: &Plan, clients: &sources::Clients, tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    if let Some(client) = clients.kube.new.clone() {
        tokio::spawn(sources::lease::watch(client, plan.lease(), tx, cancel));
    }
}

/// `cutover relay`: checks its input as `watch` does (same messages, exit
/// code 2), then relays until SIGTERM or SIGINT. No terminal is needed.
fn relay_command(args: &RelayArgs, log: Option<PathBuf>) -> Result<ExitCode> {
    init_stderr_logging(log, args.log_format);
    exit_on_panic(false);
    let plan = match Plan::load(&args.plan.plan) {
        Ok(p) => p,
        Err(e) => return Ok(bad_input(&format!("plan: {e}"))),
    };
    // The broker is the relay's whole point: without one it is bad input.
    // Without --share, $NATS_URL.
    let share = match (share_options(&args.share), nats_url(None)) {
        (Ok(Some(options)), _) => Ok(options),
        (Ok(None), Some(url)) => share_options_at(&url, &args.share),
        (Ok(None), None) => {
            return Ok(bad_input("relay: no broker: give --share nats://host:port (or set $NATS_URL)"));
        }
        (Err(e), _) => Err(e),
    };
    let share = match share {
        Ok(options) => options,
        Err(e) => return Ok(bad_input(&e)),
    };
    relay(plan, args.record.clone(), share)
}

/// The reading half of `watch`, with no terminal: the session goes to the
/// broker (and to `--record FILE`, if given). Only reading sources are
/// started: there is no executor and no effect channel, so there is no
/// code path from here to anything that writes.
fn relay(plan: Plan, record: Option<PathBuf>, options: cutover::share::Options) -> Result<ExitCode> {
    use cutover::relay;
    tokio_runtime()?.block_on(async move {
        // Listened for from the start: a SIGTERM while the sources start
        // still ends the relay cleanly.
        let stop = match stop_signal() {
            Ok(stop) => stop,
            Err(e) => return Err(e).wrap_err("listening for SIGTERM"),
        };
        let started = jiff::Timestamp::now();
        let mut app = App::new(cutover::app::AppConfig::of_plan(&plan, Mode::Watch), Keymap::default(), started);
        // Nobody is at the keys of a relay: its header names where it runs.
        let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty());
        app.operator = format!("relay on {}", host.as_deref().unwrap_or("an unnamed host"));
        let connect = match options.connect_options().await {
            Ok(c) => c,
            Err(e) => return Ok(bad_input(&e)),
        };
        let (tx, mut rx) = mpsc::channel(runtime::CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        match sources::start_reading(&plan, tx.clone(), cancel.clone()).await {
            Ok(clients) => read_wheel(&plan, &clients, tx.clone(), cancel.clone()),
            Err(e) => return Ok(bad_input(&format!("plan {}: {e}", plan.path.display()))),
        }
        // Named after its recording when it keeps one, as a console's is.
        let stem = record.as_ref().and_then(|p| p.file_stem()).map(|s| s.to_string_lossy().into_owned());
        let session = stem.unwrap_or_else(|| record::session_name("relay", started));
        let sharing = cutover::share::Share::start(options.clone(), connect, &app.config.title, &session, Some(tx));
        // No terminal: (0, 0) says so; a replay draws on its own terminal.
        let header = record::Header::new(&app, started, (0, 0));
        let recorder = match &record {
            Some(path) => record::Writer::create_tapped(path, &header, Some(sharing.tap())),
            None => record::Writer::tap_only(&header, sharing.tap()),
        };
        let mut recorder = match recorder {
            Ok(w) => w,
            Err(e) => {
                cancel.cancel();
                return Ok(bad_input(&format!("{e} (--record FILE)")));
            }
        };
        tracing::info!(
            plan = %plan.path.display(),
            subject = %sharing.subjects.log,
            broker = %options.redacted_url(),
            record = ?record,
            "relay started"
        );
        let which = std::sync::Arc::new(std::sync::Mutex::new(None));
        let stopped_by = which.clone();
        let stop = async move {
            let signal = stop.await;
            *stopped_by.lock().unwrap_or_else(|e| e.into_inner()) = Some(signal);
        };
        let messages = relay::run(&mut app, &mut rx, Some(&mut recorder), stop, relay::SUMMARY_EVERY).await;
        cancel.cancel();
        let ending = match which.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(signal) => Ending::Signal(signal),
            None => Ending::Error("every source stopped".into()),
        };
        let _ = runtime::apply(&mut app, Msg::Ended(ending), Some(&mut recorder));
        for stretch in recorder.finish() {
            tracing::error!(path = ?recorder.path(), "{}", stretch_text(&stretch));
        }
        let subject = sharing.subjects.log.clone();
        let done = sharing.finish(SHARE_DRAIN).await;
        let share =
            format!("{} lines published as {subject}, {} behind, {} lost", done.published, done.behind, done.lost);
        let up = started.duration_until(jiff::Timestamp::now()).unsigned_abs();
        let text = relay::summary(&app, up, messages, Some(&recorder), &share);
        if done.behind > 0 {
            tracing::warn!("relay stopped: {text} (the broker did not take every line in time)");
        } else {
            tracing::info!("relay stopped: {text}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on the first SIGTERM (Kubernetes stopping the pod) or SIGINT.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = Signal>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {
                tracing::info!("SIGTERM: stopping");
                Signal::Terminate
            }
            _ = int.recv() => {
                tracing::info!("SIGINT: stopping");
                Signal::Interrupt
            }
        }
    })
}

/// Forwards SIGHUP, SIGTERM and SIGINT to the console as messages until
/// cancelled: the console stops as it decides, never where it stands.
/// Listened for before the terminal is taken.
fn console_signals(
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        loop {
            let signal = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = hup.recv() => Signal::Hangup,
                _ = term.recv() => Signal::Terminate,
                _ = int.recv() => Signal::Interrupt,
            };
            tracing::warn!(signal = signal.name(), "signal: stopping");
            if tx.send(Msg::Signal(signal)).await.is_err() {
                return;
            }
        }
    })
}

/// `watch`'s view of the plan's handoff state file: read every couple of
/// seconds, sent when what it holds changes. Never written.
async fn peek_state_file(file: record::HandoffFile, tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    let mut last = None;
    let mut said_error = false;
    loop {
        let now = match file.peek() {
            Ok(left) => {
                said_error = false;
                left
            }
            Err(e) => {
                if !said_error {
                    tracing::warn!(error = %e, "the handoff state file cannot be read");
                    said_error = true;
                }
                last.clone()
            }
        };
        if now != last {
            let left = now.clone().map(|(handoff, saved_at)| cutover::app::Left { handoff, saved_at });
            if tx.send(Msg::OnDisk(left)).await.is_err() {
                return;
            }
            last = now;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// Where a session's actions go: its executor (none in `watch`), and the
/// file that keeps a handoff in flight (only `run`).
struct Acting {
    effects: Option<mpsc::Sender<cutover::app::Queued>>,
    saved: Option<record::HandoffFile>,
    /// The plan's wheel, held or watched (only `run`): released on a clean quit.
    wheel: Option<std::sync::Arc<effects::lease::WheelHandle>>,
}

/// Where a session's lines go: the recording, and the broker with --share.
struct Sinks {
    record: RecordArgs,
    share: Option<cutover::share::Options>,
}

/// The sharing options, from the flags and the environment, checked as
/// far as can be without a broker; an error is bad input.
fn share_options(args: &ShareArgs) -> Result<Option<cutover::share::Options>, String> {
    let Some(given) = &args.share else { return Ok(None) };
    let url = nats_url(Some(given))
        .ok_or("--share without a URL takes $NATS_URL, which is not set (give --share nats://host:port)")?;
    share_options_at(&url, args).map(Some)
}

/// A broker's URL: the one given, or else $NATS_URL; none if neither.
fn nats_url(given: Option<&str>) -> Option<String> {
    let from_env = || std::env::var("NATS_URL").ok().filter(|u| !u.is_empty());
    given.filter(|u| !u.is_empty()).map(str::to_string).or_else(from_env)
}

/// The options to reach the broker at `url`: its credentials from the flag
/// or $NATS_CREDS, and the stream.
fn broker_options(url: &str, creds: Option<&PathBuf>, stream: &str) -> cutover::share::Options {
    let mut options = cutover::share::Options::new(url);
    options.creds = creds.cloned().or_else(|| std::env::var_os("NATS_CREDS").map(PathBuf::from));
    options.stream = stream.to_string();
    options
}

/// The sharing options for the broker at `url`, from the share flags.
fn share_options_at(url: &str, args: &ShareArgs) -> Result<cutover::share::Options, String> {
    let mut options = broker_options(url, args.nats_creds.as_ref(), &args.share_stream);
    options.max_age = args.share_max_age;
    options.max_bytes = args.share_max_bytes;
    options.check()?;
    Ok(options)
}

/// Takes the terminal, starts the sources, runs the loop, and gives the
/// terminal back, whatever happens.
async fn console(
    mut app: App,
    panic_after: Option<u64>,
    tx: mpsc::Sender<Msg>,
    mut rx: mpsc::Receiver<Msg>,
    acting: Acting,
    cancel: CancellationToken,
    sinks: &Sinks,
) -> Result<ExitCode> {
    let Acting { effects, mut saved, wheel } = acting;
    let record = &sinks.record;
    let started = jiff::Timestamp::now();
    // A live console's clock is the wall clock: the session begins now,
    // not when its state was made before the sources and the wheel were
    // read, so nothing it records is stamped before its start.
    if app.config.mode != Mode::Demo {
        app.now = app.now.max(started);
    }
    let share = match &sinks.share {
        Some(options) => match options.connect_options().await {
            Ok(connect) => Some((options.clone(), connect)),
            Err(e) => return Ok(bad_input(&e)),
        },
        None => None,
    };
    let mut sharing = None;
    let mut recorder = if record.no_record {
        None
    } else {
        let mode = app.config.mode.label().to_ascii_lowercase();
        let path = match record.record.clone().or_else(|| record::default_path(&mode, started)) {
            Some(p) => p,
            None => {
                return Ok(bad_input(
                    "no place for the recording (no HOME or XDG_STATE_HOME): use --record FILE or --no-record",
                ));
            }
        };
        let size = crossterm::terminal::size().unwrap_or((0, 0));
        // The session is named after its recording: one name on disk and
        // on the broker.
        let tap = share.map(|(options, connect)| {
            let session = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let s = cutover::share::Share::start(options, connect, &app.config.title, &session, Some(tx.clone()));
            let tap = s.tap();
            sharing = Some(s);
            tap
        });
        match record::Writer::create_tapped(&path, &record::Header::new(&app, started, size), tap) {
            Ok(mut w) => {
                if let Some(bytes) = record.record_hold {
                    w.set_hold(bytes);
                }
                Some(w)
            }
            Err(e) => return Ok(bad_input(&format!("{e} (use --record FILE or --no-record)"))),
        }
    };
    // Listened for before the terminal is taken: from here a signal
    // stops the console the way it chooses, never where it stands.
    let signals = console_signals(tx.clone(), cancel.clone()).wrap_err("listening for SIGHUP, SIGTERM and SIGINT")?;
    tokio::spawn(signals);
    tokio::spawn(runtime::input_task(tx, cancel.clone()));
    if let Some(secs) = panic_after {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            panic!("--panic-after {secs}: deliberate crash to exercise terminal restore");
        });
    }
    // ratatui::init installs a panic hook that restores the terminal
    // before color-eyre's hook prints the report.
    let mut terminal = take_terminal()?;
    exit_on_panic(true);
    let mut note = |app: &App| {
        if let Some(w) = &wheel {
            w.note_handoff(app);
        }
    };
    let result = runtime::run_loop_with(
        &mut terminal,
        &mut app,
        &mut rx,
        effects.as_ref(),
        recorder.as_mut(),
        saved.as_mut(),
        &mut note,
    )
    .await;
    // Whether the handoff in flight is this console's to keep on disk: it
    // drove until the end.
    let drove = app.drives();
    // The sources and the wheel's renewals stop here: nothing renews the
    // Lease after it is given back.
    cancel.cancel();
    give_terminal_back();
    // A clean end gives the wheel back at once (a crash leaves it to
    // expire), and the recording says so.
    if let Some(wheel) = &wheel {
        match wheel.release().await {
            Ok(Some(released)) => {
                let _ = runtime::apply(&mut app, released, recorder.as_mut());
                say(&format!(
                    "cutover: released the wheel (Lease {}): the next `cutover run` takes it at once",
                    wheel.lease()
                ));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, lease = %wheel.lease(), "releasing the wheel failed");
                say(&format!(
                    "cutover: the wheel (Lease {}) could not be released ({e}): it expires {}s after its last renewal",
                    wheel.lease(),
                    cutover::domain::wheel::LEASE_DURATION_SECS
                ));
            }
        }
    }
    // The recording's last message says how the session ended.
    let ending = match (&result, app.stopping) {
        (Err(e), _) => Ending::Error(format!("{e:#}")),
        (Ok(()), Some(stopping)) => Ending::Signal(stopping.signal),
        (Ok(()), None) => Ending::Quit,
    };
    let _ = runtime::apply(&mut app, Msg::Ended(ending.clone()), recorder.as_mut());
    // Written again on the way out, by the console that drove: its time
    // says until when this console watched the handoff in flight.
    if drove
        && let Some(file) = saved.as_mut()
        && let Err(e) = file.save_at_exit(&app)
    {
        tracing::error!(error = %e, path = %file.path().display(), "saving the handoff failed");
    }
    let mut lost = false;
    if let Some(mut r) = recorder.take() {
        let stretches = r.finish();
        if let Some(path) = r.path() {
            lost = recording_said(path, &stretches);
        }
    }
    if let Some(s) = sharing {
        let subject = s.subjects.log.clone();
        let done = s.finish(SHARE_DRAIN).await;
        say(&format!("cutover: session shared as {subject} ({} lines)", done.published));
        if done.behind > 0 {
            say(&format!("  {} lines did not reach the broker in time; the recording has them all", done.behind));
        }
        if done.lost > 0 {
            say(&format!("  {} lines were past the share buffer: followers saw a gap", done.lost));
        }
    }
    if let Ending::Signal(signal) = &ending {
        say(&format!("cutover: stopped by {} (exit code {})", signal.name(), signal.exit_code()));
    }
    if let Some(h) = app.handoff.as_ref().filter(|h| !h.phase.finished() && drove) {
        say(&format!("cutover: handoff {}", h.state_text()));
        match (&saved, &app.keeping.state_file) {
            (Some(_), Some(t)) => say(&format!(
                "  NOT kept: the state file {} cannot be written ({}): no later console picks it up; look at both sides",
                t.path, t.error
            )),
            (Some(file), None) => {
                say(&format!("  kept in {}: {}", file.path().display(), cutover::app::signal::next_run(&app, h)))
            }
            (None, _) => {}
        }
    } else if let Some(h) = app.handoff.as_ref().filter(|h| h.phase == cutover::app::HandoffPhase::Aborted)
        && matches!(ending, Ending::Signal(_))
    {
        say(&format!("cutover: handoff {}", h.state_text()));
    }
    tracing::info!(ending = %ending.describe(), "console ended");
    match (result, ending) {
        (Err(e), _) => Err(e),
        (Ok(()), Ending::Signal(signal)) => Ok(ExitCode::from(signal.exit_code())),
        // Not a success: the recording the operator counts on has holes.
        (Ok(()), _) if lost => Ok(ExitCode::FAILURE),
        (Ok(()), _) => Ok(ExitCode::SUCCESS),
    }
}

/// Says where the session was recorded, and, if the file could not be
/// written for a while, what is and is not in it. Returns whether lines
/// were lost.
fn recording_said(path: &std::path::Path, stretches: &[record::Stretch]) -> bool {
    let path = path.display();
    let lost = stretches.iter().any(|s| s.lost + s.lost_at_exit > 0);
    if lost {
        say(&format!("cutover: the recording {path} is NOT COMPLETE:"));
    } else {
        say(&format!("cutover: session recorded in {path}"));
    }
    for stretch in stretches {
        say(&format!("  {}", stretch_text(stretch)));
    }
    say(&format!("  replay it: cutover replay {path}"));
    say(&format!("  report:    cutover report {path}"));
    lost
}

/// One stretch the recording could not be written, in the exit message's
/// words.
fn stretch_text(s: &record::Stretch) -> String {
    use cutover::domain::clock;
    let lost = match (s.lost, s.lost_from, s.lost_to) {
        (0, ..) => String::new(),
        (n, Some(from), Some(to)) => format!(
            "; {n} line(s) from {} to {} did not fit in memory and are NOT in it (it says so there)",
            clock(from),
            clock(to)
        ),
        (n, ..) => format!("; {n} line(s) did not fit in memory and are NOT in it"),
    };
    match s.until {
        Some(until) => format!(
            "from {} to {} UTC it could not be written ({}): {} line(s) were held in memory and written late{}",
            clock(s.since),
            clock(until),
            s.error,
            s.written_late,
            if lost.is_empty() { "; nothing is missing".to_string() } else { lost.clone() }
        ),
        None => format!(
            "from {} UTC to the end it could not be written ({}): {} line(s) held in memory were never written{lost}; it ends at {}",
            clock(s.since),
            s.error,
            s.lost_at_exit,
            clock(s.since)
        ),
    }
}

/// The replay: no runtime, no sources, no executor; a file and a clock.
fn replay(args: &ReplayArgs, player: cutover::replay::Player, keymap: Keymap) -> Result<ExitCode> {
    let mut viewer = cutover::replay::Viewer::new(player, keymap, args.follow);
    let stop = viewer_signals();
    viewer.stop = Some(stop.clone());
    let mut terminal = take_terminal()?;
    exit_on_panic(true);
    let result = cutover::replay::run(&mut terminal, &mut viewer);
    give_terminal_back();
    // Said as `report` says it: which line, what is wrong, what was kept.
    viewer.player.checked(true);
    if let Some(stopped) = viewer.player.stops_early() {
        say(&format!("cutover: {}: the recording stops early: {stopped}", args.file.display()));
    }
    result.map(|()| stopped_by(&stop))
}

/// A viewer (replay, follow) stops on SIGHUP, SIGTERM or SIGINT as on `q`,
/// and the process then exits 128 + the signal: the flag holds that code.
/// It has nothing in flight to bring to rest; the terminal is what matters.
fn viewer_signals() -> std::sync::Arc<std::sync::atomic::AtomicU8> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0));
    let set = flag.clone();
    let listening = std::thread::Builder::new().name("signals".into()).spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async move {
            let (tx, mut rx) = mpsc::channel(4);
            let Ok(signals) = console_signals(tx, CancellationToken::new()) else { return };
            tokio::spawn(signals);
            if let Some(Msg::Signal(signal)) = rx.recv().await {
                set.store(signal.exit_code(), std::sync::atomic::Ordering::Relaxed);
            }
        });
    });
    if let Err(e) = listening {
        tracing::warn!(error = %e, "not listening for signals");
    }
    flag
}

/// The exit code a viewer stopped with: 0, or 128 + the signal.
fn stopped_by(flag: &std::sync::atomic::AtomicU8) -> ExitCode {
    match flag.load(std::sync::atomic::Ordering::Relaxed) {
        0 => ExitCode::SUCCESS,
        code => {
            let name = [Signal::Hangup, Signal::Interrupt, Signal::Terminate]
                .into_iter()
                .find(|s| s.exit_code() == code)
                .map_or("a signal", |s| s.name());
            say(&format!("cutover: stopped by {name} (exit code {code})"));
            ExitCode::from(code)
        }
    }
}

fn report(args: &ReportArgs) -> ExitCode {
    if args.route.is_some() && args.format != ReportFormat::Svg {
        return bad_input("report: --route picks the chart of --format svg; the other formats cover every route");
    }
    let mut copy = None;
    let path = if cli::is_broker_url(&args.file) {
        match fetch(&args.file.to_string_lossy(), &args.shared) {
            Ok(c) => copy.insert(c).0.clone(),
            Err(e) => return bad_input(&format!("report: {e}")),
        }
    } else {
        args.file.clone()
    };
    let span = cutover::report::Span { from: args.from.clone(), to: args.to.clone() };
    let report = match cutover::report::from_file_in(&path, &span) {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("report: {}: {e}", args.file.display())),
    };
    let text = match args.format {
        ReportFormat::Md => report.markdown(),
        ReportFormat::Json => report.json(),
        ReportFormat::Html => report.html(),
        ReportFormat::Svg => {
            let names: Vec<&str> = report.routes.iter().map(|r| r.route.as_str()).collect();
            let Some(name) = args.route.as_deref() else {
                return bad_input(&format!(
                    "report: --format svg draws one route's chart: add --route NAME (one of {})",
                    names.join(", ")
                ));
            };
            match report.route(name) {
                Ok(route) => cutover::report::route_svg(&report, route),
                Err(e) => return bad_input(&format!("report: {e}")),
            }
        }
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return bad_input(&format!("report: cannot write {}: {e}", path.display()));
            }
        }
        // A reader that stops early (`| head`) is no error.
        None => {
            if let Err(e) = print_text(text.as_bytes(), "the report") {
                eprintln!("cutover: error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(stopped) = &report.session.stopped {
        eprintln!("cutover: {}: the recording stops early: {stopped}", args.file.display());
    }
    ExitCode::SUCCESS
}

/// The broker to read shared sessions from: the URL given, or $NATS_URL.
fn reader_options(url: Option<&str>, shared: &SharedArgs) -> Result<cutover::share::Options, String> {
    let url = nats_url(url).ok_or("no broker: give its URL (nats://host:port or tls://host:port) or set $NATS_URL")?;
    let options = broker_options(&url, shared.nats_creds.as_ref(), &shared.share_stream);
    options.check()?;
    Ok(options)
}

/// Connects to the broker and finds the session `--session` names, or
/// the newest live one.
async fn find_session(options: &cutover::share::Options, id: Option<&str>) -> Result<(Broker, SessionInfo), String> {
    let broker = Broker::connect(options).await?;
    let session = broker.find(id).await?;
    Ok((broker, session))
}

/// A local copy of a shared session, removed when dropped.
struct TempCopy(PathBuf);

impl Drop for TempCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_copy_path(what: &str, session: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cutover-{what}-{}-{session}.jsonl", std::process::id()))
}

/// A shared session copied whole into a temporary file, for `replay`
/// and `report`.
fn fetch(url: &str, shared: &SharedArgs) -> Result<TempCopy, String> {
    let options = reader_options(Some(url), shared)?;
    let runtime = tokio_runtime().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (broker, session) = find_session(&options, shared.session.as_deref()).await?;
        let copy = TempCopy(temp_copy_path("read", &session.session));
        let file = std::fs::File::create(&copy.0).map_err(|e| format!("{}: {e}", copy.0.display()))?;
        let mut out = std::io::BufWriter::new(file);
        broker.download(&session, &mut out).await?;
        std::io::Write::flush(&mut out).map_err(|e| format!("{}: {e}", copy.0.display()))?;
        Ok(copy)
    })
}

/// `cutover sessions URL`.
fn sessions(args: &SessionsArgs) -> Result<ExitCode> {
    let options = match reader_options(args.url.as_deref(), &args.shared) {
        Ok(o) => o,
        Err(e) => return Ok(bad_input(&format!("sessions: {e}"))),
    };
    let listed = tokio_runtime()?.block_on(async { Broker::connect(&options).await?.sessions().await });
    let sessions = match listed {
        Ok(s) => s,
        Err(e) => return Ok(bad_input(&format!("sessions: {e}"))),
    };
    let now = jiff::Timestamp::now();
    let text = match args.format {
        SessionsFormat::Table if sessions.is_empty() => {
            format!("no sessions on {} (stream {})\n", options.redacted_url(), options.stream)
        }
        SessionsFormat::Table => cutover::share::read::sessions_table(&sessions, now),
        SessionsFormat::Json => cutover::share::read::sessions_json(&sessions, now),
    };
    print_text(text.as_bytes(), "the sessions")
}

/// `cutover export URL --session ID`: a recording file of a shared session.
fn export(args: &ExportArgs) -> Result<ExitCode> {
    let options = match reader_options(args.url.as_deref(), &args.shared) {
        Ok(o) => o,
        Err(e) => return Ok(bad_input(&format!("export: {e}"))),
    };
    let done = tokio_runtime()?.block_on(async {
        let (broker, session) = find_session(&options, args.shared.session.as_deref()).await?;
        let path = args.output.clone().unwrap_or_else(|| PathBuf::from(format!("{}.jsonl", session.session)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("{}: {e} (give another with -o FILE)", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        let lines = broker.download(&session, &mut out).await?;
        std::io::Write::flush(&mut out).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok::<_, String>((session, path, lines))
    });
    match done {
        Ok((session, path, lines)) => {
            let live = session.liveness(jiff::Timestamp::now()) == cutover::share::read::Liveness::Live;
            let so_far = if live { " so far (the session is live)" } else { "" };
            eprintln!("cutover: {} exported to {} ({lines} lines{so_far})", session.describe(), path.display());
            eprintln!("  replay it: cutover replay {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(bad_input(&format!("export: {e}"))),
    }
}

/// `cutover follow URL`: the replay viewer over a local copy the broker
/// fills as the session goes. No client of AWS or Kubernetes exists here.
/// Following the newest live session, it moves on by itself to the next
/// one of the same plan once this one has ended or gone silent (a relay
/// started again, a driver's new console).
fn follow(args: FollowArgs, keymap: Keymap) -> Result<ExitCode> {
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
    let mut terminal = None;
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
            terminal = Some(take_terminal()?);
            exit_on_panic(true);
        }
        let link = std::sync::Arc::new(std::sync::Mutex::new(Link::new()));
        let cancel = CancellationToken::new();
        let copy = std::fs::OpenOptions::new().append(true).open(&path).wrap_err("the local copy")?;
        let (task_link, task_cancel, task_session) = (link.clone(), cancel.clone(), session.clone());
        runtime.spawn(async move {
            let out = std::io::BufWriter::with_capacity(1 << 20, copy);
            let followed =
                cutover::share::read::follow(broker, task_session, joined, out, task_link.clone(), task_cancel);
            if let Err(e) = followed.await {
                tracing::error!(error = %e, "following stopped");
                task_link.lock().unwrap_or_else(|e| e.into_inner()).error = Some(e);
            }
        });
        if id.is_none() {
            let (options, current, link, cancel) = (options.clone(), session.clone(), link.clone(), cancel.clone());
            runtime.spawn(cutover::share::read::watch_for_successor(options, current, link, cancel));
        }
        let mut viewer = cutover::replay::Viewer::new(player, keymap.clone(), true).following(link.clone());
        viewer.status = Some(status.clone());
        viewer.stop = Some(stop.clone());
        let Some(term) = terminal.as_mut() else { break Ok(()) };
        let ran = cutover::replay::run(term, &mut viewer);
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
    give_terminal_back();
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
fn start_copy(path: &std::path::Path, header: &[u8]) -> Result<cutover::replay::Player, String> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("{}: {e} (give another with --save FILE)", path.display()))?;
    std::io::Write::write_all(&mut file, &[header, b"\n"].concat()).map_err(|e| format!("{}: {e}", path.display()))?;
    cutover::replay::Player::open(path)
}

/// Exit codes of `check`: 0 every check passed (warnings allowed), 1 a
/// check failed, 2 bad input (the plan cannot be read).
fn check(args: &PlanArgs, log: Option<&std::path::Path>) -> Result<ExitCode> {
    let plan = match Plan::load(&args.plan) {
        Ok(p) => p,
        Err(e) => return Ok(bad_input(&format!("plan: {e}"))),
    };
    let runtime = tokio_runtime()?;
    if let Err(e) = runtime.block_on(check::refusals(&plan)) {
        return Ok(bad_input(&format!("plan: {e}")));
    }
    let findings = runtime.block_on(check::run(&plan));
    let mut out = format!("cutover check: {}\n\n", plan.path.display());
    for f in &findings {
        out.push_str(&format!("{f}\n"));
    }
    let failed = findings.iter().filter(|f| f.verdict == Verdict::Fail).count();
    let warned = findings.iter().filter(|f| f.verdict == Verdict::Warn).count();
    out.push('\n');
    let code = if failed == 0 {
        let warnings = if warned > 0 { format!(" ({warned} warning(s))") } else { String::new() };
        out.push_str(&format!("all checks passed{warnings}\n"));
        ExitCode::SUCCESS
    } else {
        out.push_str(&format!("{failed} check(s) failed, {warned} warning(s)\n"));
        if let Some(log) = log {
            out.push_str(&format!("the errors in full: {}\n", log.display()));
        }
        ExitCode::from(1)
    };
    // A reader that stops early (`| head`) is no error.
    print_text(out.as_bytes(), "the findings")?;
    Ok(code)
}

/// A panic in any task ends the program: the terminal is restored and the
/// report printed by the hooks installed before, then the process exits.
/// Without this a panicking background task would leave the console
/// running on a terminal that has already been given back (and a relay
/// running without one of its sources, where a restart is better).
fn exit_on_panic(terminal: bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The terminal is never dropped on this path, so its cursor is
        // shown here; the previous hooks restore the modes and report.
        if terminal {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
        }
        if terminal && MOUSE.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        }
        previous(info);
        // The recording says the session crashed, rather than just stop.
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        record::end_on_crash(&format!("{what}{place}"));
        std::process::exit(101);
    }));
}

/// Starts the log; the file it writes to, if any.
fn init_logging(path: Option<PathBuf>) -> Option<PathBuf> {
    let path = path.or_else(|| {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        Some(base.join("cutover/cutover.log"))
    });
    let path = path?;
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(cutover::logging::Scrubbed(std::sync::Mutex::new(file)))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Some(path)
}

/// The relay's log: stderr (a container's log), or `--log FILE`; text for
/// people, or one JSON object a line for a log pipeline.
fn init_stderr_logging(path: Option<PathBuf>, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let writer = match path.and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok()) {
        Some(file) => {
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(cutover::logging::Scrubbed(std::sync::Mutex::new(file)))
        }
        None => tracing_subscriber::fmt::writer::BoxMakeWriter::new(cutover::logging::Scrubbed(std::io::stderr)),
    };
    let builder = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.event_format(cutover::relay::JsonLines).try_init(),
    };
}

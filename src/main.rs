use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use cutover::app::App;
use cutover::cli::{Cli, Command, DemoArgs};
use cutover::keymap::Keymap;
use cutover::runtime;

/// Bad input (flags, files): the operator must fix something. Reported
/// plainly, with exit code 2, before the terminal is taken over.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> Result<ExitCode> {
    color_eyre::install()?;
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let cli = Cli::parse();
    let keymap = match Keymap::load(cli.keymap.as_deref()) {
        Ok(k) => k,
        Err(e) => return Ok(bad_input(&format!("keymap: {e}"))),
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Ok(bad_input(
            "the console needs a terminal on stdin and stdout (run it in a terminal, not through a pipe)",
        ));
    }
    init_logging(cli.log.clone());
    match cli.command {
        Command::Demo(args) => demo(args, keymap)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn bad_input(message: &str) -> ExitCode {
    eprintln!("cutover: error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn demo(args: DemoArgs, keymap: Keymap) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")?;
    rt.block_on(async move {
        let world = runtime::demo_world(args.seed, args.scale);
        let mut app = App::new(world.app_config(), keymap, world.now());
        let (tx, mut rx) = mpsc::channel(runtime::CHANNEL_CAPACITY);
        let cancel = CancellationToken::new();
        tokio::spawn(runtime::sim_task(world, args.speed, tx.clone(), cancel.clone()));
        tokio::spawn(runtime::input_task(tx, cancel.clone()));
        if let Some(secs) = args.panic_after {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                panic!("--panic-after {secs}: deliberate crash to exercise terminal restore");
            });
        }
        tracing::info!(seed = args.seed, speed = args.speed, "demo starting");
        // ratatui::init installs a panic hook that restores the terminal
        // before color-eyre's hook prints the report.
        let mut terminal = ratatui::try_init().wrap_err("taking over the terminal")?;
        exit_on_panic();
        let result = runtime::run_loop(&mut terminal, &mut app, &mut rx).await;
        cancel.cancel();
        ratatui::restore();
        tracing::info!("demo ended");
        result
    })
}

/// A panic in any task ends the program: the terminal is restored and the
/// report printed by the hooks installed before, then the process exits.
/// Without this a panicking background task would leave the console
/// running on a terminal that has already been given back.
fn exit_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The terminal is never dropped on this path, so its cursor is
        // shown here; the previous hooks restore the modes and report.
        let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
        previous(info);
        std::process::exit(101);
    }));
}

fn init_logging(path: Option<PathBuf>) {
    let path = path.or_else(|| {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        Some(base.join("cutover/cutover.log"))
    });
    let Some(path) = path else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(&path) else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}

//! The command line. Usage errors exit with code 2 (clap's convention),
//! like every other kind of bad input.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cutover", version, about = "The console for a live cutover from an old cluster to a new one")]
pub struct Cli {
    /// Key bindings: `default`, `vim`, or a TOML file laid over the defaults.
    #[arg(long, global = true, value_name = "NAME|FILE")]
    pub keymap: Option<String>,

    /// Where to write the log (the terminal is the console's; logs never go there).
    /// Default: $XDG_STATE_HOME/cutover/cutover.log or ~/.local/state/cutover/cutover.log.
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Leave the mouse to the terminal (to select and copy text) instead
    /// of clicking rows and scrolling with the wheel. Most terminals also
    /// select text with Shift held while the console has the mouse.
    #[arg(long, global = true)]
    pub no_mouse: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole console on an embedded simulated world: no cloud account needed.
    Demo(DemoArgs),
    /// Drive a live cutover: watch, nudge ALB weights, revert, hand singletons over.
    Run(RunArgs),
    /// Watch a live cutover, read-only: nothing can be changed from this console.
    Watch(WatchArgs),
    /// Validate a plan and connect to every backend once; print what was found and what is missing.
    Check(PlanArgs),
    /// Replay a recorded session: the same console, read-only, on a timeline you can seek.
    Replay(ReplayArgs),
    /// Print a postmortem timeline of a recorded session (Markdown, or JSON).
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The recording (printed when the session ended).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Keep reading as the file grows: watch a session still being recorded.
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Md,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The recording (printed when the session ended).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Markdown reads as is in a postmortem document; JSON is for tools.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
}

/// Every session is recorded unless told otherwise.
#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    /// Where to record the session (default: a timestamped file under $XDG_STATE_HOME/cutover/recordings).
    #[arg(long, value_name = "FILE", conflicts_with = "no_record")]
    pub record: Option<PathBuf>,
    /// Do not record this session.
    #[arg(long)]
    pub no_record: bool,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub record: RecordArgs,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub record: RecordArgs,
    /// Show exactly which API calls each confirmed action would make, and make none.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The cutover plan (TOML): clusters, namespaces, routes, singletons.
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many times faster than real time the simulated world runs (1 to 600).
    #[arg(long, default_value_t = 1, allow_hyphen_values = true, value_parser = clap::value_parser!(u32).range(1..=600))]
    pub speed: u32,

    /// Seed of the simulated world: the same seed gives the same world.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,

    /// Multiplies the worker replicas, for large-world checks (1 to 400).
    #[arg(long, default_value_t = 1, hide = true, value_parser = clap::value_parser!(u32).range(1..=400))]
    pub scale: u32,

    #[command(flatten)]
    pub record: RecordArgs,

    /// Panic after this many seconds: exercises the crash path (terminal restored, error reported).
    #[arg(long, hide = true, value_name = "SECS")]
    pub panic_after: Option<u64>,
}

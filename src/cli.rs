//! The command line. Usage errors exit with code 2 (clap's convention),
//! like every other kind of bad input.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Said under every command's help and in the man page.
const EXIT_CODES: &str = "Exit codes: 0 success; 1 `check` found a failing check; 2 bad input \
(unknown flags, a plan, keymap or recording that cannot be read, no terminal); 101 a crash (the terminal is restored first).";

const CHECK_EXIT_CODES: &str = "Exit codes: 0 every check passed (warnings allowed); 1 a check failed; \
2 the plan cannot be read. Each failure is one line; the errors in full are in the log (--log).";

const RELAY_EXIT_CODES: &str = "Exit codes: 0 stopped by SIGTERM or SIGINT, after the share buffer \
drained (at most 5 s) and the session's end was published; 2 bad input (unknown flags, a plan that cannot \
be read, no broker URL, a URL that is not NATS). A broker down or refusing is not an exit: the relay \
says so in its log and keeps trying.";

#[derive(Debug, Parser)]
#[command(
    name = "cutover",
    version,
    about = "The console for a live cutover from an old cluster to a new one",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Where to write the log (the terminal is the console's; logs never go there).
    /// Default: $XDG_STATE_HOME/cutover/cutover.log or ~/.local/state/cutover/cutover.log;
    /// `relay` logs to stderr.
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,

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
    /// Read AWS and the clusters for everyone, with no terminal: publish the session to a NATS
    /// broker for followers (run it as a Deployment; see "Watching together" in the README).
    #[command(after_help = RELAY_EXIT_CODES)]
    Relay(RelayArgs),
    /// Validate a plan and connect to every backend once; print what was found and what is missing.
    #[command(after_help = CHECK_EXIT_CODES)]
    Check(CheckArgs),
    /// Replay a recorded session: the same console, read-only, on a timeline you can seek.
    Replay(ReplayArgs),
    /// Write the postmortem of a recorded session: Markdown, HTML with charts, one SVG chart, or JSON.
    Report(ReportArgs),
    /// Follow a session shared on a NATS broker, live: the replay's console, read-only, at no cost in AWS reads.
    Follow(FollowArgs),
    /// List the sessions shared on a NATS broker, live and ended.
    Sessions(SessionsArgs),
    /// Copy a session shared on a NATS broker to a local recording file.
    Export(ExportArgs),
    /// Print a shell completion script to stdout (see the README for where it goes).
    Completions(CompletionsArgs),
    /// Print a man page in roff to stdout: cutover(1), or a command's own page, cutover-COMMAND(1).
    Man(ManArgs),
}

/// The options of the commands that draw the console.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleArgs {
    /// Key bindings: `default`, `vim`, or a TOML file laid over the defaults.
    #[arg(long, value_name = "NAME|FILE")]
    pub keymap: Option<String>,
    /// Leave the mouse to the terminal (to select and copy text) instead
    /// of clicking rows and scrolling with the wheel. Most terminals also
    /// select text with Shift held while the console has the mouse.
    #[arg(long)]
    pub no_mouse: bool,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print (demo, run, watch...); without it, cutover(1).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// The commands that have a man page of their own: every visible one.
pub fn man_commands() -> Vec<String> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    cmd.build();
    cmd.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Writes cutover(1), or with `command` that command's page
/// cutover-COMMAND(1). `None` when there is no such command.
pub fn man_page(command: Option<&str>, out: &mut dyn std::io::Write) -> Option<std::io::Result<()>> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    // Built, the subcommands carry the global flags and their full names.
    cmd.build();
    let source = format!("cutover {}", cmd.get_version().unwrap_or_default());
    let page = match command {
        // `help` is clap's own: `--help` says it, it has no page to point at.
        None => cmd.mut_subcommand("help", |h| h.hide(true)),
        Some(name) => {
            let sub = cmd.get_subcommands().find(|c| c.get_name() == name && name != "help")?.clone();
            sub.display_name(format!("cutover-{name}"))
        }
    };
    let exit_codes = page.get_after_help().map(|t| t.to_string());
    let versioned = page.get_version().is_some();
    let man = clap_mangen::Man::new(page).source(source);
    let write = |out: &mut dyn std::io::Write| -> std::io::Result<()> {
        man.render_title(out)?;
        man.render_name_section(out)?;
        man.render_synopsis_section(out)?;
        man.render_description_section(out)?;
        man.render_options_section(out)?;
        if command.is_none() {
            man.render_subcommands_section(out)?;
        }
        // The after-help is the exit codes: under the heading man pages use.
        if let Some(text) = exit_codes {
            writeln!(out, ".SH \"EXIT STATUS\"")?;
            writeln!(out, "{}", text.replace('\\', "\\e").replace('-', "\\-"))?;
        }
        if versioned { man.render_version_section(out) } else { Ok(()) }
    };
    Some(write(out))
}

/// Writes the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut cmd, "cutover", out);
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub console: ConsoleArgs,
    /// The recording (printed when the session ended), or a NATS URL with --session.
    #[arg(value_name = "FILE|URL")]
    pub file: PathBuf,
    /// Keep reading as the file grows: watch a session still being recorded.
    #[arg(long)]
    pub follow: bool,
    #[command(flatten)]
    pub shared: SharedArgs,
}

/// A session on a broker, named by its URL (a command's argument) and these.
#[derive(Debug, Clone, clap::Args)]
pub struct SharedArgs {
    /// With a NATS URL: the session, as `cutover sessions` lists it (its name, or plan/name).
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// A NATS credentials file (default: $NATS_CREDS).
    #[arg(long, value_name = "FILE")]
    pub nats_creds: Option<PathBuf>,
    /// The JetStream stream the sessions are in.
    #[arg(long, value_name = "NAME", default_value = crate::share::DEFAULT_STREAM)]
    pub share_stream: String,
}

/// Whether a command's FILE argument is a broker's URL instead.
pub fn is_broker_url(file: &std::path::Path) -> bool {
    let text = file.to_string_lossy();
    text.starts_with("nats://") || text.starts_with("tls://")
}

#[derive(Debug, clap::Args)]
pub struct FollowArgs {
    #[command(flatten)]
    pub console: ConsoleArgs,
    /// The broker: nats://host:port or tls://host:port (default: $NATS_URL).
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub shared: SharedArgs,
    /// Keep the followed lines in this file, a recording `replay` and `report` read
    /// (default: a temporary copy, removed at the end).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SessionsFormat {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SessionsArgs {
    /// The broker: nats://host:port or tls://host:port (default: $NATS_URL).
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub shared: SharedArgs,
    #[arg(long, value_enum, default_value_t = SessionsFormat::Table)]
    pub format: SessionsFormat,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The broker: nats://host:port or tls://host:port (default: $NATS_URL).
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    #[command(flatten)]
    pub shared: SharedArgs,
    /// The file to write (never overwritten; default: <session>.jsonl here).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown, to paste into a postmortem document.
    Md,
    /// One self-contained HTML page: the report with a chart per route.
    Html,
    /// One route's chart alone (with --route), to embed in a document.
    Svg,
    /// The same facts for tools (schema: schemas/report.schema.json).
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The recording (printed when the session ended), or a NATS URL with --session.
    #[arg(value_name = "FILE|URL")]
    pub file: PathBuf,
    #[command(flatten)]
    pub shared: SharedArgs,
    /// Markdown reads as is in a postmortem; HTML adds charts; SVG is one chart; JSON is for tools.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// The route whose chart `--format svg` draws.
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    /// Report from this time on: RFC 3339 (2026-11-25T14:05:00Z) or HH:MM[:SS] UTC.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Report up to this time: RFC 3339 or HH:MM[:SS] UTC.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Every session is recorded unless told otherwise.
#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    /// Where to record the session (default: a timestamped file under $XDG_STATE_HOME/cutover/recordings).
    #[arg(long, value_name = "FILE", conflicts_with = "no_record")]
    pub record: Option<PathBuf>,
    /// Do not record this session.
    #[arg(long, conflicts_with = "share")]
    pub no_record: bool,
    /// How many bytes of the recording are held in memory while it cannot be written (default 64 MiB): a test's small bound.
    #[arg(long, hide = true, value_name = "BYTES")]
    pub record_hold: Option<usize>,
}

/// Publishing the session for others to follow (see "Watching together"
/// in the README).
#[derive(Debug, Clone, clap::Args)]
pub struct ShareArgs {
    /// Publish the session to NATS JetStream as it is recorded: nats://host:port or tls://host:port,
    /// a user or token may be in the URL. `--share` alone takes $NATS_URL.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub share: Option<String>,
    /// A NATS credentials file for --share (default: $NATS_CREDS).
    #[arg(long, value_name = "FILE", requires = "share")]
    pub nats_creds: Option<PathBuf>,
    /// The JetStream stream the session goes to (created if missing, subjects `cutover.>`).
    #[arg(long, value_name = "NAME", default_value = crate::share::DEFAULT_STREAM, requires = "share")]
    pub share_stream: String,
    /// How long the stream keeps a session, when this console creates it: 30m, 12h, 7d.
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = parse_age, requires = "share")]
    pub share_max_age: std::time::Duration,
    /// How much the stream keeps, oldest first out, when this console creates it: 512MiB, 1GiB.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size, requires = "share")]
    pub share_max_bytes: i64,
}

/// `30s`, `30m`, `12h`, `7d`.
fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text}: a number and a unit (30m, 12h, 7d)"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text}: the unit is s, m, h or d (30m, 12h, 7d)")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(secs)))
}

/// `1048576`, `512MiB`, `1GiB` (KiB, MiB, GiB, TiB).
fn parse_size(text: &str) -> Result<i64, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("{text}: a number of bytes, or with KiB, MiB, GiB, TiB"))?;
    let shift = match unit {
        "" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        "TiB" => 40,
        _ => return Err(format!("{text}: the unit is KiB, MiB, GiB or TiB (512MiB, 1GiB)")),
    };
    n.checked_mul(1 << shift).filter(|n| *n > 0).ok_or_else(|| format!("{text}: out of range"))
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub console: ConsoleArgs,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub share: ShareArgs,
}

#[derive(Debug, clap::Args)]
pub struct RelayArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Also keep a local recording in FILE (by default the broker's stream is the only record).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// The log on stderr: `text` for people, `json` (one object a line) for a log pipeline.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The broker is required: --share URL, or $NATS_URL.
    #[command(flatten)]
    pub share: ShareArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub console: ConsoleArgs,
    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub share: ShareArgs,
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
pub struct CheckArgs {
    /// The cutover plan (TOML): clusters, namespaces, routes, singletons.
    #[arg(long, value_name = "FILE", required_unless_present = "demo")]
    pub plan: Option<PathBuf>,

    /// Check the demo's simulated world instead of a plan: the lifecycle risks `cutover demo` shows,
    /// as `check` says them of a real plan.
    #[arg(long, conflicts_with = "plan")]
    pub demo: bool,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many times faster than real time the simulated world runs (1 to 600).
    #[arg(long, default_value_t = 1, allow_hyphen_values = true, value_parser = clap::value_parser!(u32).range(1..=600))]
    pub speed: u32,

    /// Seed of the simulated world: the same seed gives the same world.
    #[arg(long, default_value_t = crate::runtime::DEMO_SEED)]
    pub seed: u64,

    /// Multiplies the replicas of the simulated workers, to try the console on large clusters
    /// (1 to 400; 334 gives about 5,000 pods a side).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=400))]
    pub scale: u32,

    #[command(flatten)]
    pub console: ConsoleArgs,

    #[command(flatten)]
    pub record: RecordArgs,
    #[command(flatten)]
    pub share: ShareArgs,

    /// Panic after this many seconds: exercises the crash path (terminal restored, error reported).
    #[arg(long, hide = true, value_name = "SECS")]
    pub panic_after: Option<u64>,
}

//! What a command starts before its work: the log (in a file, or for the
//! relay on stderr), the colours, the async runtime.

use std::path::PathBuf;

use color_eyre::eyre::{Result, WrapErr};

use crate::cli::LogFormat;

/// What every command but `completions`, `man` and `relay` starts with:
/// the log in its file (the terminal is the console's: logs never go
/// there), and colours or none as the environment says. Returns the log's
/// file, if any.
pub fn start(log: Option<PathBuf>) -> Option<PathBuf> {
    let log = log_to_file(log);
    crate::ui::theme::set_no_color(crate::ui::theme::no_color_from_env());
    log
}

/// Starts the log; the file it writes to, if any.
fn log_to_file(path: Option<PathBuf>) -> Option<PathBuf> {
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
        .with_writer(crate::logging::Scrubbed(std::sync::Mutex::new(file)))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Some(path)
}

/// The relay's log: stderr (a container's log), or `--log FILE`; text for
/// people, or one JSON object a line for a log pipeline.
pub fn relay_log(path: Option<PathBuf>, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let writer = match path.and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok()) {
        Some(file) => {
            tracing_subscriber::fmt::writer::BoxMakeWriter::new(crate::logging::Scrubbed(std::sync::Mutex::new(file)))
        }
        None => tracing_subscriber::fmt::writer::BoxMakeWriter::new(crate::logging::Scrubbed(std::io::stderr)),
    };
    let builder = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.event_format(crate::relay::JsonLines).try_init(),
    };
}

/// The async runtime of a command that talks to a backend or a broker.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")
}

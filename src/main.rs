//! The `cutover` binary: parses the command line, starts what the command
//! needs (the error report, TLS, the log) and hands it to its module in
//! [`cutover::cmd`].

use std::process::ExitCode;

use clap::Parser;
use color_eyre::eyre::Result;

use cutover::cli::{Cli, Command};
use cutover::cmd::{self, init};

fn main() -> Result<ExitCode> {
    color_eyre::install()?;
    cutover::sources::ensure_crypto_provider();
    // clap exits with 2 on usage errors and 0 for --help/--version.
    let Cli { log, command } = Cli::parse();
    match command {
        // Text for the shell and man: no log, no runtime.
        Command::Completions(args) => cmd::completions::run(&args),
        Command::Man(args) => cmd::man::run(&args),
        // A container's log: stderr, or --log FILE.
        Command::Relay(args) => {
            init::relay_log(log, args.log_format);
            cmd::relay::run(&args)
        }
        Command::Check(args) => {
            let log = init::start(log);
            cmd::check::run(&args, log.as_deref())
        }
        Command::Report(args) => {
            init::start(log);
            Ok(cmd::report::run(&args))
        }
        Command::Sessions(args) => {
            init::start(log);
            cmd::sessions::run(&args)
        }
        Command::Export(args) => {
            init::start(log);
            cmd::export::run(&args)
        }
        Command::Follow(args) => {
            init::start(log);
            cmd::follow::run(args)
        }
        Command::Replay(args) => {
            init::start(log);
            cmd::replay::run(args)
        }
        Command::Demo(args) => {
            init::start(log);
            cmd::demo::run(args)
        }
        Command::Watch(args) => {
            init::start(log);
            cmd::watch::run(args)
        }
        Command::Run(args) => {
            init::start(log);
            cmd::run::run(args)
        }
    }
}

//! `cutover demo`: the whole console on the embedded simulated world,
//! which is also its executor. No cloud account, no cluster.

use std::process::ExitCode;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use super::console::{self, Acting, Options, Session, Sinks, no_terminal};
use super::init::tokio_runtime;
use super::say::bad_input;
use super::share_args::share_options;
use crate::app::App;
use crate::cli::DemoArgs;
use crate::runtime;

/// Checks the keymap and the share flags, then runs the console.
pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let keymap = match console::keymap(&args.console) {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    // Where a shared session goes is checked before the terminal matters.
    let share = match share_options(&args.share) {
        Ok(s) => s,
        Err(e) => return Ok(bad_input(&e)),
    };
    if let Some(code) = no_terminal() {
        return Ok(code);
    }
    tokio_runtime()?.block_on(async move {
        let world = runtime::demo_world(args.seed, args.scale).with_analysis();
        let mut app = App::new(world.app_config(), keymap, world.now());
        tracing::info!(seed = args.seed, speed = args.speed, "demo starting");
        // Known before the start, so the recording's header names it.
        app.operator = format!("{} (demo)", std::env::var("USER").unwrap_or_else(|_| "operator".into()));
        let session = Session::new(app);
        let (effects_tx, effects_rx) = mpsc::channel(16);
        let sim = runtime::sim_task(world, args.speed, session.tx.clone(), effects_rx, session.tasks.sources.clone());
        session.tasks.spawn(sim);
        let acting = Acting { effects: Some(effects_tx), ..Acting::default() };
        let sinks = Sinks { record: args.record, share };
        let options = Options { panic_after: args.panic_after, ..Options::new(&args.console) };
        console::run(session, acting, &sinks, options).await
    })
}

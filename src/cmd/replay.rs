//! `cutover replay FILE`: no runtime, no sources, no executor; a file
//! (or a shared session copied from the broker) and a clock.

use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::broker::fetch;
use super::console::{self, no_terminal};
use super::crash;
use super::say::{bad_input, say};
use super::signals::{stopped_by, viewer_signals};
use crate::cli::{self, ReplayArgs};
use crate::replay::{self, Player, Viewer};
use crate::terminal::TerminalGuard;

/// Checks the keymap and opens the recording (a recording that cannot be
/// read is said before the terminal matters), then plays it.
pub fn run(args: ReplayArgs) -> Result<ExitCode> {
    let keymap = match console::keymap(&args.console) {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
    // Removed when the replay ends.
    let mut copy = None;
    let path = if cli::is_broker_url(&args.file) {
        match fetch(&args.file.to_string_lossy(), &args.shared) {
            Ok(c) => copy.insert(c).0.clone(),
            Err(e) => return Ok(bad_input(&format!("replay: {e}"))),
        }
    } else {
        args.file.clone()
    };
    let player = match Player::open(&path) {
        Ok(p) => p,
        Err(e) => return Ok(bad_input(&format!("replay: {e}"))),
    };
    if let Some(code) = no_terminal() {
        return Ok(code);
    }
    let mut viewer = Viewer::new(player, keymap, args.follow);
    let stop = viewer_signals();
    viewer.stop = Some(stop.clone());
    crash::exit_on_panic();
    let mut terminal = TerminalGuard::take(!args.console.no_mouse)?;
    let result = replay::run(terminal.terminal(), &mut viewer);
    terminal.give_back();
    // Said as `report` says it: which line, what is wrong, what was kept.
    viewer.player.checked(true);
    if let Some(stopped) = viewer.player.stops_early() {
        say(&format!("cutover: {}: the recording stops early: {stopped}", args.file.display()));
    }
    result.map(|()| stopped_by(&stop))
}

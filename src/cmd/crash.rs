//! A crash ends the program, and says so in the recording.

use crate::record;

/// A panic in any task ends the program: the hooks installed before (the
/// report) run, the recording ends with the crash, and the process exits
/// with code 101. Without this a panicking background task would leave the
/// console running on a terminal that has already been given back (and a
/// relay running without one of its sources, where a restart is better).
///
/// Installed before the terminal is taken: the terminal's own hook (see
/// [`crate::terminal::TerminalGuard::take`]) then runs first, so the
/// report is printed on the shell's screen with the cursor and the mouse
/// given back.
pub fn exit_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
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

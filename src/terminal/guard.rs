//! The terminal taken for the console's screen and given back as it was
//! found: raw mode, the alternate screen and (unless `--no-mouse`) mouse
//! capture, all three restored when the guard is dropped, and by the panic
//! hook when the process ends in a panic (where nothing is dropped).

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::{Result, WrapErr};
use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{execute, queue};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Room for a whole frame: a full redraw of a large terminal, colours and
/// all, is some tens of KiB.
const FRAME_BUFFER: usize = 64 * 1024;

/// The console's screen as the guard hands it out.
pub type Screen = Terminal<CrosstermBackend<Frames>>;

/// Holds the terminal while the console draws on it; dropping it gives
/// the terminal back.
pub struct TerminalGuard {
    terminal: Screen,
    held: Arc<Held>,
}

impl TerminalGuard {
    /// Takes the terminal: raw mode, the alternate screen, and the mouse
    /// when `mouse` (without it the terminal keeps the mouse, to select
    /// and copy text). From here a panic gives it back too, before the
    /// hooks installed earlier print their report (color-eyre's) or end
    /// the recording: those are then read on the shell's own screen.
    pub fn take(mouse: bool) -> Result<TerminalGuard> {
        let held = Arc::new(Held { taken: AtomicBool::new(true), mouse });
        give_back_on_panic(held.clone());
        let taken = (|| {
            crossterm::terminal::enable_raw_mode().wrap_err("taking over the terminal")?;
            execute!(io::stdout(), EnterAlternateScreen).wrap_err("taking over the terminal")?;
            let terminal = Terminal::new(CrosstermBackend::new(Frames::new())).wrap_err("taking over the terminal")?;
            if mouse {
                execute!(io::stdout(), EnableMouseCapture)
                    .wrap_err("taking the mouse (--no-mouse leaves it to the terminal)")?;
            }
            Ok(terminal)
        })();
        match taken {
            Ok(terminal) => Ok(TerminalGuard { terminal, held }),
            // What was taken before the failure is given back.
            Err(e) => {
                let _ = held.give_back();
                Err(e)
            }
        }
    }

    /// The screen to draw on.
    pub fn terminal(&mut self) -> &mut Screen {
        &mut self.terminal
    }

    /// Gives the terminal back now: where the console's last words are
    /// to be printed on the shell's screen, they come after this.
    pub fn give_back(self) {
        drop(self);
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // The cursor is shown on the screen it was hidden on, with what is
        // left of a frame; the terminal then has nothing to write when it
        // is dropped, after the screen is left.
        let _ = self.terminal.show_cursor();
        // A terminal that hung up cannot be given anything: that is no error.
        if let Err(e) = self.held.give_back() {
            tracing::warn!(error = %e, "the terminal could not be restored (it is gone)");
        }
    }
}

/// What the guard took, shared with the panic hook: whichever comes first
/// gives it back, the other finds nothing left to do.
struct Held {
    taken: AtomicBool,
    mouse: bool,
}

impl Held {
    fn give_back(&self) -> io::Result<()> {
        if !self.taken.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let mut out = io::stdout();
        // A frame cut short (a panic while drawing) must not leave the
        // terminal holding back what follows.
        let _ = execute!(out, EndSynchronizedUpdate);
        if self.mouse {
            let _ = execute!(out, DisableMouseCapture);
        }
        let _ = execute!(out, Show);
        // Raw mode first: it has more side effects than the alternate screen.
        let raw = crossterm::terminal::disable_raw_mode();
        let screen = execute!(out, LeaveAlternateScreen);
        raw.and(screen)
    }
}

/// A panic gives the terminal back first, then runs the hooks installed
/// before (the report, the recording's end), which may exit the process.
fn give_back_on_panic(held: Arc<Held>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = held.give_back();
        previous(info);
    }));
}

/// Standard output as the console draws on it: a frame at a time.
///
/// ratatui writes a frame as many small writes and flushes at its end.
/// Through stdout's own buffer (a line buffer of 1 KiB, and a frame has no
/// newline) they would reach the terminal in 1 KiB chunks, and a terminal
/// that paints between two chunks shows a frame half-written: the top of
/// the new one over the bottom of the one before. tmux's capture-pane in
/// the tests can read the screen at that moment too. So the frame is
/// buffered whole and written at the flush in one write, and it is wrapped
/// in a synchronized update (mode 2026: the terminal holds its screen
/// until the frame's end, even if the write arrives in pieces); a terminal
/// that does not know the mode ignores it.
pub struct Frames {
    out: BufWriter<Stdout>,
    /// Bytes were written since the last flush: a synchronized update is open.
    open: bool,
}

impl Frames {
    fn new() -> Frames {
        Frames { out: BufWriter::with_capacity(FRAME_BUFFER, io::stdout()), open: false }
    }
}

impl Write for Frames {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.open {
            queue!(self.out, BeginSynchronizedUpdate)?;
            self.open = true;
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.open {
            self.open = false;
            queue!(self.out, EndSynchronizedUpdate)?;
        }
        self.out.flush()
    }
}

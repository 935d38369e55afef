//! `cutover replay FILE`: the same console over a recording, driven by a
//! virtual clock.
//!
//! Read-only by construction: the viewer's keys never reach `update`. They
//! move the viewer's own view (selection, drill-downs, help) with
//! `navigate`, or the clock; the recorded session's keys are replayed from
//! the file as they were pressed, on the recorded operator's view, and the
//! effects they queued are dropped, since the executor's answers are in
//! the stream. No client of any cloud or cluster exists in a replay.
//!
//! The screen is the recorded state drawn with the viewer's view and keys
//! (`ui::Shown`): the recorded console's own view is never drawn, and never
//! moved by the viewer.

pub mod player;
mod timeline;

pub use player::Player;

use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{self, Event, KeyEventKind};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::Backend;

use std::sync::{Arc, Mutex};

use crate::app::{App, Screen, UiState, find, navigate, pointer};
use crate::domain::{clock, parse_time_of_day};
use crate::keymap::{Action, Key, KeyCode, Keymap, ReplayAction};
use crate::share::read::Link;
use crate::terminal::input::{Clicks, key_from};

/// Playback speeds `<` and `>` step through.
pub const SPEEDS: [u32; 7] = [1, 2, 5, 10, 20, 30, 60];
/// `back`/`forward` and `back_minute`/`forward_minute` (keymap `[replay]`).
pub const SHORT_SEEK_MS: i64 = 10_000;
pub const LONG_SEEK_MS: i64 = 60_000;
/// How often `--follow` looks for what was appended.
const FOLLOW_POLL: Duration = Duration::from_millis(500);
/// How often a followed shared session's copy is looked at: its lines
/// should be on screen well within a second of being published.
const LIVE_POLL: Duration = Duration::from_millis(50);
/// How often the link's words (delay, silence) are drawn again.
const LINK_REDRAW: Duration = Duration::from_secs(1);

pub struct Viewer {
    pub player: Player,
    /// The viewer's own selection, drill-down and help, apart from the
    /// recorded operator's.
    pub ui: UiState,
    /// The viewer's key bindings (the session's are in the recording).
    pub keymap: Keymap,
    /// Where the viewer's last frame drew each panel and row, for its mouse.
    pub screen: Screen,
    /// The virtual clock, unix ms.
    pub clock: i64,
    /// Index into `SPEEDS`.
    pub speed: usize,
    pub paused: bool,
    pub follow: bool,
    /// The time being typed after `g`.
    pub goto: Option<String>,
    /// The last thing the viewer did or was told.
    pub status: Option<String>,
    pub quit: bool,
    last_poll: Instant,
    /// Following a shared session: how its link to the broker is doing.
    pub link: Option<Arc<Mutex<Link>>>,
    link_drawn: Instant,
    /// The followed session gave way to the next: the viewer ended for it,
    /// not for a key.
    pub gave_way: bool,
    /// Set (to the exit code) when a signal asks the viewer to stop: it
    /// ends as on `q`, and the terminal is given back.
    pub stop: Option<Arc<std::sync::atomic::AtomicU8>>,
}

impl Viewer {
    /// Starts at the beginning, playing; `--follow` starts at the live end.
    pub fn new(player: Player, keymap: Keymap, follow: bool) -> Viewer {
        let (start, end) = player.span();
        let mut viewer = Viewer {
            player,
            ui: UiState::default(),
            keymap,
            screen: Screen::default(),
            clock: if follow { end } else { start },
            speed: 0,
            paused: false,
            follow,
            goto: None,
            status: None,
            quit: false,
            last_poll: Instant::now(),
            link: None,
            link_drawn: Instant::now(),
            gave_way: false,
            stop: None,
        };
        viewer.go(viewer.clock);
        viewer
    }

    /// A viewer of a shared session followed from the broker.
    pub fn following(mut self, link: Arc<Mutex<Link>>) -> Viewer {
        self.link = Some(link);
        self.follow = true;
        self.player.set_followed();
        self
    }

    /// The link of a followed session, as of now.
    pub fn link(&self) -> Option<Link> {
        self.link.as_deref().map(|l| crate::share::read::lock(l).clone())
    }

    /// Whether the screen shows the newest line there is.
    pub fn at_live_end(&self) -> bool {
        !self.paused && self.clock >= self.player.span().1
    }

    fn go(&mut self, t: i64) {
        let (start, end) = self.player.span();
        self.clock = t.clamp(start, end);
        if let Err(e) = self.player.seek(self.clock) {
            self.status = Some(e);
        }
    }

    /// Handles a key; returns whether the screen changed.
    pub fn on_key(&mut self, key: Key) -> bool {
        // The filter line takes every key while it is open, the replay's too.
        if let Some(moved) = find::on_key(&self.player.app, &mut self.ui, key) {
            self.quit |= moved.quit;
            return true;
        }
        if let Some(text) = self.goto.as_mut() {
            match key.code {
                KeyCode::Char(c) if (c.is_ascii_digit() || c == ':') && text.len() < 8 => text.push(c),
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Enter => {
                    let text = text.clone();
                    self.goto = None;
                    self.goto_time(&text);
                }
                KeyCode::Esc => self.goto = None,
                _ if key == Key::ctrl('c') => self.quit = true,
                _ => {}
            }
            return true;
        }
        self.status = None;
        let Some(action) = self.keymap.replay_action(key) else { return self.on_console_key(key) };
        match action {
            ReplayAction::PlayPause => self.paused = !self.paused,
            ReplayAction::Slower => self.speed = self.speed.saturating_sub(1),
            ReplayAction::Faster => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            ReplayAction::Back => self.go(self.clock - SHORT_SEEK_MS),
            ReplayAction::Forward => self.go(self.clock + SHORT_SEEK_MS),
            ReplayAction::BackMinute => self.go(self.clock - LONG_SEEK_MS),
            ReplayAction::ForwardMinute => self.go(self.clock + LONG_SEEK_MS),
            ReplayAction::PrevMark => self.jump(false),
            ReplayAction::NextMark => self.jump(true),
            ReplayAction::GotoTime => self.goto = Some(String::new()),
            ReplayAction::Live if self.link.is_some() => {
                self.paused = false;
                self.speed = 0;
                self.go(self.player.span().1);
            }
            ReplayAction::Live => {
                self.status = Some("live: only when following a shared session (cutover follow)".into());
            }
        }
        true
    }

    /// A mouse event: moving around the viewer's screen only, as the
    /// console's. What a move asks of the session (the notice line) is not
    /// the viewer's to change.
    pub fn on_mouse(&mut self, msg: crate::app::Msg) -> bool {
        let crate::app::Msg::Mouse { kind, column, row } = msg else { return false };
        let Some(p) = self.screen.resolve(&self.ui, kind, column, row) else { return false };
        pointer::apply(&self.player.app, &mut self.ui, p).is_some()
    }

    /// A key of the keymap: moving around the screen only.
    fn on_console_key(&mut self, key: Key) -> bool {
        let Some(action) = self.keymap.action(key) else { return false };
        match action {
            Action::Quit => self.quit = true,
            a if a.mutates() || matches!(a, Action::Confirm | Action::Cancel) => {
                self.status = Some(format!("{}: this is a replay; nothing can be changed from here", a.name()));
            }
            // The viewer's own view moves; what the move asks of the
            // session (the notice line) is not the viewer's to change.
            a => {
                let _ = navigate(&self.player.app, &mut self.ui, a);
            }
        }
        true
    }

    /// To the first mark after (or the last before) the clock, paused there.
    fn jump(&mut self, forward: bool) {
        let marks = self.player.marks();
        let found = if forward {
            marks.iter().find(|(t, _)| *t > self.clock)
        } else {
            marks.iter().rev().find(|(t, _)| *t < self.clock)
        };
        match found.map(|(t, _)| *t) {
            Some(t) => {
                self.paused = true;
                self.go(t);
                let here: Vec<String> =
                    self.player.marks().iter().filter(|(m, _)| *m == t).map(|(_, m)| m.describe()).collect();
                let more = if here.len() > 1 { format!("  (+{} more here)", here.len() - 1) } else { String::new() };
                self.status = here.first().map(|first| format!("{first}{more}"));
            }
            None => {
                let which = if forward { "after" } else { "before" };
                self.status = Some(format!("no mark {which} {}", clock(to_timestamp(self.clock))));
            }
        }
    }

    fn goto_time(&mut self, text: &str) {
        match parse_time_of_day(text, self.player.span()) {
            Ok(t) => {
                self.paused = true;
                self.go(t);
            }
            Err(e) => self.status = Some(e),
        }
    }

    /// Moves the clock by `elapsed` real time at the current speed, and
    /// follows a growing file. Returns whether the screen changed.
    pub fn advance(&mut self, elapsed: Duration) -> bool {
        let mut changed = false;
        let poll = if self.link.is_some() { LIVE_POLL } else { FOLLOW_POLL };
        // The session followed has a successor: the viewer gives way to it.
        if self.link.as_deref().is_some_and(|l| crate::share::read::lock(l).next.is_some()) {
            self.gave_way = true;
            self.quit = true;
            return true;
        }
        if self.link.is_some() && self.link_drawn.elapsed() >= LINK_REDRAW {
            self.link_drawn = Instant::now();
            changed = true;
        }
        if self.follow && self.last_poll.elapsed() >= poll {
            self.last_poll = Instant::now();
            let at_end = self.clock >= self.player.span().1;
            match self.player.refresh() {
                Ok(true) => {
                    changed = true;
                    if at_end && !self.paused {
                        self.go(self.player.span().1);
                    }
                }
                Ok(false) => {}
                Err(e) => self.status = Some(e),
            }
        }
        // The whole file's check, once it is done: a damaged line ends the
        // replay there, and is said.
        if self.player.checked(false) {
            changed = true;
            if let Some(why) = self.player.stops_early() {
                self.status = Some(format!("the recording stops early: {why}"));
            }
        }
        if self.paused {
            return changed;
        }
        let end = self.player.span().1;
        let before = self.clock;
        let step = elapsed.as_millis() as i64 * i64::from(SPEEDS[self.speed]);
        self.go(self.clock + step);
        if self.clock >= end && !self.follow {
            self.paused = true;
            self.status = Some(match self.player.stops_early() {
                Some(why) => format!("the recording stops early: {why}"),
                None => "end of the recording: ← or [ to go back, q to quit".into(),
            });
            changed = true;
        }
        changed || self.clock / 1000 != before / 1000
    }

    /// The screen: the console as recorded, with the viewer's own view of
    /// it, and the timeline at the bottom.
    pub fn render(&mut self, frame: &mut ratatui::Frame) {
        let area = frame.area();
        let [console, timeline] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Min(5),
            ratatui::layout::Constraint::Length(2),
        ])
        .areas(area);
        // The viewer's view and keys (in the footer and help), not the
        // recorded operator's.
        let shown =
            crate::ui::Shown { app: &self.player.app, ui: &self.ui, keymap: &self.keymap, screen: &self.screen };
        crate::ui::render_in(shown, frame, console);
        timeline::render(self, frame, timeline);
    }

    /// The recorded console as of the clock.
    pub fn app(&self) -> &App {
        &self.player.app
    }
}

pub fn to_timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Runs the replay on a terminal until the viewer quits.
pub fn run<B: Backend>(terminal: &mut Terminal<B>, viewer: &mut Viewer) -> Result<()>
where
    B::Error: Send + Sync + 'static,
{
    terminal.draw(|f| viewer.render(f)).wrap_err("drawing the first frame")?;
    let mut last = Instant::now();
    let origin = Instant::now();
    let mut clicks = Clicks::default();
    while !viewer.quit {
        if viewer.stop.as_ref().is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed) != 0) {
            break;
        }
        // Ten wakes a second while playing, for a smooth clock; paused, the
        // replay waits for keys (and, following, for the file to grow).
        let wait = match () {
            () if viewer.link.is_some() => LIVE_POLL,
            () if viewer.paused && !viewer.follow => Duration::from_secs(1),
            () => Duration::from_millis(100),
        };
        let mut dirty = false;
        if event::poll(wait).wrap_err("reading the terminal")? {
            match event::read().wrap_err("reading the terminal")? {
                Event::Key(k) if k.kind != KeyEventKind::Release => {
                    if let Some(key) = key_from(k.code, k.modifiers) {
                        dirty |= viewer.on_key(key);
                    }
                }
                Event::Resize(_, _) => dirty = true,
                Event::Mouse(m) => {
                    if let Some(msg) = clicks.read(origin.elapsed(), m) {
                        dirty |= viewer.on_mouse(msg);
                    }
                }
                _ => {}
            }
        }
        let now = Instant::now();
        dirty |= viewer.advance(now - last);
        last = now;
        if dirty && !viewer.quit {
            terminal.draw(|f| viewer.render(f)).wrap_err("drawing a frame")?;
        }
    }
    Ok(())
}

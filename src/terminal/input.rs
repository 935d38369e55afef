//! Terminal input as the console reads it: crossterm's key codes as the
//! keymap's keys, mouse presses as clicks, double clicks and the wheel, and
//! the tail of an escape sequence that arrived split dropped rather than
//! read as typed keys. Pure decoding: the tasks that read the terminal
//! (the console's input task, the replay's loop) feed it what they read.

use std::time::Duration;

use crossterm::event::{KeyCode as CtKey, KeyModifiers};

use crate::app::Msg;
use crate::keymap::{Key, KeyCode};

/// Two presses of the left button on one cell within this long are a
/// double click.
pub const DOUBLE_CLICK: Duration = Duration::from_millis(400);

/// Mouse events as the console reads them: left presses (a second one on
/// the same cell soon after is a double click) and the wheel; drags,
/// releases, moves and the other buttons are left alone.
#[derive(Debug, Default)]
pub struct Clicks {
    last: Option<(Duration, u16, u16)>,
}

impl Clicks {
    /// `at`: a monotonic time since a fixed origin, never going back.
    pub fn read(&mut self, at: Duration, m: crossterm::event::MouseEvent) -> Option<Msg> {
        use crate::app::MouseKind;
        use crossterm::event::{MouseButton, MouseEventKind};
        let kind = match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let double = self
                    .last
                    .is_some_and(|(t, c, r)| c == m.column && r == m.row && at.saturating_sub(t) <= DOUBLE_CLICK);
                // A third press starts over rather than open twice.
                self.last = if double { None } else { Some((at, m.column, m.row)) };
                if double { MouseKind::DoubleClick } else { MouseKind::Click }
            }
            MouseEventKind::ScrollUp => MouseKind::WheelUp,
            MouseEventKind::ScrollDown => MouseKind::WheelDown,
            _ => return None,
        };
        Some(Msg::Mouse { kind, column: m.column, row: m.row })
    }
}

/// A key as the keymap names it, from crossterm's code and modifiers;
/// none for keys no action can be bound to (media keys, lone modifiers).
pub fn key_from(code: CtKey, mods: KeyModifiers) -> Option<Key> {
    let code = match code {
        CtKey::Char(c) => KeyCode::Char(c),
        CtKey::Up => KeyCode::Up,
        CtKey::Down => KeyCode::Down,
        CtKey::Left => KeyCode::Left,
        CtKey::Right => KeyCode::Right,
        CtKey::Enter => KeyCode::Enter,
        CtKey::Esc => KeyCode::Esc,
        CtKey::Tab => KeyCode::Tab,
        CtKey::BackTab => KeyCode::BackTab,
        CtKey::Backspace => KeyCode::Backspace,
        CtKey::Delete => KeyCode::Delete,
        CtKey::Home => KeyCode::Home,
        CtKey::End => KeyCode::End,
        CtKey::PageUp => KeyCode::PageUp,
        CtKey::PageDown => KeyCode::PageDown,
        CtKey::F(n) => KeyCode::F(n),
        _ => return None,
    };
    let key = Key {
        code,
        ctrl: mods.contains(KeyModifiers::CONTROL),
        alt: mods.contains(KeyModifiers::ALT),
        shift: mods.contains(KeyModifiers::SHIFT),
    };
    Some(key.normalized())
}

/// How soon after the key before it a byte still counts as part of an
/// escape sequence. A terminal (or tmux, or ssh) that splits a sequence
/// delivers the rest within a few milliseconds; no one means a `[` or an
/// `O` typed within 50 ms of an Esc.
pub const ESCAPE_TAIL_WINDOW: Duration = Duration::from_millis(50);

/// Where an escape sequence split after its Esc would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Not in a sequence.
    Outside,
    /// An Esc came: a `[` or `O` now would open a sequence.
    AfterEsc,
    /// `ESC [` (CSI): parameter and intermediate bytes, then a final byte.
    /// `first` until a byte follows the `[`.
    Csi { first: bool },
    /// `ESC [ [`: the Linux console's F1 to F5, one letter to come.
    LinuxF,
    /// `ESC O` (SS3): a final byte, rarely after parameters.
    Ss3,
}

/// Drops the tail of an escape sequence that reached the console split.
///
/// crossterm reads an Esc that arrives alone as the Esc key, and so reads
/// whatever of the sequence comes after it as typed characters: Esc then ↓
/// (`ESC`, then `ESC [ B`), or a `ESC [ B` that tmux or a slow link cut
/// after the Esc, becomes Esc, `[`, `B`, and `[` proposes a step down the
/// operator never asked for. This filter, fed every key with the time it
/// was read, drops printable keys that continue a sequence begun by an Esc
/// (`[` or `O`, CSI parameter and intermediate bytes, one final byte), each
/// within [`ESCAPE_TAIL_WINDOW`] of the key before it. The Esc itself is
/// forwarded at once: it only closes or cancels. A key that cannot continue
/// the sequence, or comes later, is forwarded as typed, so a `[` pressed a
/// moment after Esc still works.
///
/// The other half of the problem, an Esc and a key arriving together, is
/// read by crossterm as an Alt chord; the keymap matches modifiers exactly
/// (see [`crate::keymap::Keymap::action`]), so an Alt chord does nothing
/// unless a keymap binds it.
///
/// Pure: time is whatever monotonic clock the caller reads, as the time
/// since a fixed origin.
#[derive(Debug, Clone)]
pub struct EscapeFilter {
    window: Duration,
    tail: Tail,
    /// When the key before, in the sequence, came.
    last: Duration,
}

impl EscapeFilter {
    pub fn new(window: Duration) -> EscapeFilter {
        EscapeFilter { window, tail: Tail::Outside, last: Duration::ZERO }
    }

    /// The key to forward, or `None` for the tail of a split sequence.
    /// `at` must not go back in time between calls.
    pub fn feed(&mut self, at: Duration, key: Key) -> Option<Key> {
        let gap = at.saturating_sub(self.last);
        let tail = if gap <= self.window { self.tail } else { Tail::Outside };
        self.tail = Tail::Outside;
        if key.code == KeyCode::Esc {
            self.tail = Tail::AfterEsc;
            self.last = at;
            return Some(key);
        }
        let byte = match key {
            Key { code: KeyCode::Char(c @ ' '..='~'), ctrl: false, alt: false, .. } => c as u8,
            _ => return Some(key),
        };
        let next = match (tail, byte) {
            (Tail::AfterEsc, b'[') => Tail::Csi { first: true },
            (Tail::AfterEsc, b'O') => Tail::Ss3,
            (Tail::Csi { first: true }, b'[') => Tail::LinuxF,
            (Tail::Csi { .. }, 0x20..=0x3F) => Tail::Csi { first: false },
            (Tail::Ss3, 0x20..=0x3F) => Tail::Ss3,
            // The final byte: the sequence is over, and dropped whole.
            (Tail::Csi { .. } | Tail::Ss3 | Tail::LinuxF, 0x40..=0x7E) => Tail::Outside,
            _ => return Some(key),
        };
        tracing::debug!(?key, gap_ms = gap.as_millis() as u64, "dropped the tail of a split escape sequence");
        self.tail = next;
        self.last = at;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::Keymap;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn mouse(kind: crossterm::event::MouseEventKind, column: u16, row: u16) -> crossterm::event::MouseEvent {
        crossterm::event::MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE }
    }

    #[test]
    fn two_presses_on_one_cell_soon_after_are_a_double_click_and_a_third_starts_over() {
        use crate::app::MouseKind::*;
        use crossterm::event::{MouseButton, MouseEventKind as K};
        let mut clicks = Clicks::default();
        let mut kind = |at: u64, k: K, c: u16, r: u16| match clicks.read(ms(at), mouse(k, c, r)) {
            Some(Msg::Mouse { kind, .. }) => Some(kind),
            _ => None,
        };
        let left = K::Down(MouseButton::Left);
        assert_eq!(kind(0, left, 5, 5), Some(Click));
        assert_eq!(kind(10, K::Up(MouseButton::Left), 5, 5), None, "releases are not read");
        assert_eq!(kind(300, left, 5, 5), Some(DoubleClick));
        assert_eq!(kind(350, left, 5, 5), Some(Click), "a third press is a click again");
        assert_eq!(kind(1000, left, 5, 5), Some(Click), "too late for a double");
        assert_eq!(kind(1100, left, 6, 5), Some(Click), "another cell");
        assert_eq!(kind(1200, K::Down(MouseButton::Right), 6, 5), None);
        assert_eq!(kind(1250, K::Drag(MouseButton::Left), 6, 5), None);
        assert_eq!(kind(1300, K::ScrollDown, 1, 1), Some(WheelDown));
        assert_eq!(kind(1300, K::ScrollUp, 1, 1), Some(WheelUp));
    }

    fn esc() -> Key {
        Key::plain(KeyCode::Esc)
    }

    /// What the filter forwards of `keys`, each at its time in ms.
    fn forwarded(keys: &[(u64, Key)]) -> Vec<Key> {
        let mut filter = EscapeFilter::new(ESCAPE_TAIL_WINDOW);
        keys.iter().filter_map(|(at, key)| filter.feed(ms(*at), *key)).collect()
    }

    /// Keys as crossterm hands them over for these characters.
    fn chars(from: u64, step: u64, text: &str) -> Vec<(u64, Key)> {
        let mut at = from;
        text.chars()
            .map(|c| {
                let key = key_from(CtKey::Char(c), KeyModifiers::NONE).unwrap();
                at += step;
                (at - step, key)
            })
            .collect()
    }

    #[test]
    fn the_tail_of_a_csi_sequence_split_after_its_esc_is_dropped_and_the_esc_kept() {
        // Esc then ↓: `ESC`, then `ESC [ B`, read as Esc, Esc, `[`, `B`.
        let mut keys = vec![(1000, esc()), (1003, esc())];
        keys.extend(chars(1003, 0, "[B"));
        assert_eq!(forwarded(&keys), [esc(), esc()]);

        // `ESC [ 1 ; 5 A` (ctrl-up) cut after the Esc, bytes a little apart.
        let mut keys = vec![(0, esc())];
        keys.extend(chars(10, 2, "[1;5A"));
        assert_eq!(forwarded(&keys), [esc()]);

        // The Linux console's F1, `ESC [ [ A`.
        let mut keys = vec![(0, esc())];
        keys.extend(chars(1, 0, "[[A"));
        assert_eq!(forwarded(&keys), [esc()]);
    }

    #[test]
    fn the_tail_of_an_ss3_sequence_is_dropped() {
        let mut keys = vec![(500, esc())];
        keys.extend(chars(505, 1, "OB"));
        assert_eq!(forwarded(&keys), [esc()]);
    }

    #[test]
    fn keys_after_the_sequence_or_outside_the_window_are_forwarded() {
        // A `[` typed 200 ms after Esc is a `[`.
        let keys = [(0, esc()), (200, Key::char('['))];
        assert_eq!(forwarded(&keys), [esc(), Key::char('[')]);
        // Just past the window, too; and a gap inside the sequence ends it.
        let keys = [(0, esc()), (51, Key::char('['))];
        assert_eq!(forwarded(&keys), [esc(), Key::char('[')]);
        let keys = [(0, esc()), (10, Key::char('[')), (100, Key::char('B'))];
        assert_eq!(forwarded(&keys), [esc(), Key::char('B')]);
        // Once the final byte came, the sequence is over: the next key counts.
        let mut keys = vec![(0, esc())];
        keys.extend(chars(1, 1, "[B]"));
        assert_eq!(forwarded(&keys), [esc(), Key::char(']')]);
        // Without an Esc before, `[` and `O` are keys like any other.
        let keys = chars(0, 1, "[BOB");
        assert_eq!(forwarded(&keys), keys.iter().map(|(_, k)| *k).collect::<Vec<_>>());
        // Only `[` and `O` open a sequence: `]` right after Esc is `]`.
        let keys = [(0, esc()), (5, Key::char(']'))];
        assert_eq!(forwarded(&keys), [esc(), Key::char(']')]);
    }

    #[test]
    fn a_key_that_cannot_continue_a_sequence_ends_it_and_is_forwarded() {
        let up = Key::plain(KeyCode::Up);
        let keys = [(0, esc()), (1, Key::char('[')), (2, up), (3, Key::char('B'))];
        assert_eq!(forwarded(&keys), [esc(), up, Key::char('B')]);
        let keys = [(0, esc()), (1, Key::ctrl('[')), (2, Key::char('['))];
        assert_eq!(forwarded(&keys), [esc(), Key::ctrl('['), Key::char('[')]);
        // An Esc inside a sequence starts a new one, and is forwarded.
        let keys = [(0, esc()), (1, Key::char('[')), (2, esc()), (3, Key::char('O')), (4, Key::char('A'))];
        assert_eq!(forwarded(&keys), [esc(), esc()]);
    }

    #[test]
    fn an_esc_merged_with_a_key_is_an_alt_chord_that_does_nothing_unbound() {
        // crossterm reads `ESC [`-less pairs as Alt: `ESC ]` is Alt-].
        let alt = |c| key_from(CtKey::Char(c), KeyModifiers::ALT).unwrap();
        assert_eq!(alt('['), Key { alt: true, ..Key::char('[') });
        // The filter leaves Alt chords alone (a keymap may bind them) ...
        assert_eq!(forwarded(&[(0, esc()), (1, alt('['))]), [esc(), alt('[')]);
        // ... and the keymap matches them exactly, never as the bare key.
        let km = Keymap::default();
        for c in ['[', ']', 'R', 'h', 'x', 'y', 'q', 'r', '='] {
            assert!(km.action(Key::char(c)).is_some(), "{c} is bound");
            assert_eq!(km.action(alt(c)), None, "alt-{c} is not");
        }
    }
}

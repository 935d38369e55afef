//! The terminal the console draws on: taken and given back by one guard
//! ([`guard`]), and its input decoded into the keymap's keys and the
//! console's clicks ([`input`]). Nothing else in `cutover` changes the
//! terminal's modes.

pub mod guard;
pub mod input;

pub use guard::TerminalGuard;

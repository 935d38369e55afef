//! The console's state and the one function that changes it.
//!
//! `update(&mut App, Msg)` is pure: no IO, no clock, no randomness. Time
//! arrives as `Msg::Tick`. That is what lets a recording reproduce every
//! screen and lets tests drive the whole console without a terminal.

pub mod actions;
pub mod analysis;
pub mod causes;
mod console;
mod effect;
pub mod find;
pub mod help;
pub mod keeping;
pub mod late;
mod mark;
mod moves;
mod msg;
pub mod pointer;
pub mod risks;
mod rows;
pub mod signal;
mod state;
mod update;
pub mod wheel;

pub use console::App;
pub use effect::*;
pub use find::{Find, Listing, Sort};
pub use keeping::{Held, Keeping, KeepingState, Left, Trouble};
pub use mark::*;
pub use moves::{Moved, Notice, navigate};
pub use msg::*;
pub use pointer::{MouseKind, Pointer, Screen, ScreenMap};
pub use rows::*;
pub use signal::{Ending, Signal, Stopping};
pub use state::*;
pub use update::{Update, update};
pub use wheel::WheelState;

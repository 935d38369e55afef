//! `cutover`: the console for moving a live service from an old cluster to
//! a new one.
//!
//! The shape, in the order data flows:
//! - [`sim`] (and later the live and replay sources) produce [`app::Msg`]s:
//!   trimmed [`domain`] types, sent over one channel;
//! - [`app::update`] applies each message to the [`app::App`] state, purely;
//! - [`ui::render`] draws the state; it reads and never changes it;
//! - [`runtime`] runs the loop that ties these together, on the screen
//!   [`terminal`] takes and gives back, and whose input it decodes;
//! - [`keymap`] turns key presses into actions, from data in `keymaps/`;
//! - [`cli`] is the command line;
//! - [`scrub`] takes secrets out of free text before it becomes a `Msg`,
//!   and [`logging`] out of every line of the log;
//! - [`share`] publishes a session's recording to NATS JetStream;
//! - [`relay`] runs the loop with no terminal, for `cutover relay`;
//! - [`cmd`] is each command of the binary, on top of everything else:
//!   nothing in the library imports it.

pub mod app;
pub mod check;
pub mod cli;
pub mod cmd;
pub mod domain;
pub mod effects;
pub mod keymap;
pub mod logging;
pub mod plan;
pub mod record;
pub mod relay;
pub mod replay;
pub mod report;
pub mod runtime;
pub mod scrub;
pub mod share;
pub mod sim;
pub mod sources;
pub mod terminal;
pub mod ui;

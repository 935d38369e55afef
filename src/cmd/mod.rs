//! The commands of the `cutover` binary, one module each, and what they
//! share, each piece in a module named for what it is. `main` parses the
//! command line, starts what the command needs and calls its `run`.
//!
//! The top of the library: every module here may use any other, and
//! nothing outside `cmd` uses it.

pub mod broker;
pub mod console;
pub mod crash;
pub mod init;
pub mod live;
pub mod recording;
pub mod say;
pub mod share_args;
pub mod signals;
pub mod tasks;

pub mod check;
pub mod completions;
pub mod demo;
pub mod export;
pub mod follow;
pub mod man;
pub mod relay;
pub mod replay;
pub mod report;
pub mod run;
pub mod sessions;
pub mod watch;

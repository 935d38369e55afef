//! The embedded simulated world behind `cutover demo`.

mod rng;
pub mod traffic;
mod world;

pub use rng::Rng;
pub use world::{HISTORY_MINUTES, SELF_HEAL_AFTER_SECS, SimConfig, World};

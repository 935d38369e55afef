//! The embedded simulated world behind `cutover demo`.

mod rng;
pub mod traffic;
mod world;

pub use rng::Rng;
pub use world::{HISTORY_MINUTES, SimConfig, World};

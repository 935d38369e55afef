//! The embedded simulated world behind `cutover demo`.

mod rng;
pub mod traffic;
mod world;

pub use rng::Rng;
pub use world::{
    CONTROLLER_RECONCILE_SECS, CONTROLLER_REVERT_SECS, HISTORY_MINUTES, SELF_HEAL_AFTER_SECS, SimConfig, World,
};

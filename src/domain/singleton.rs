//! What must never run on both sides at once: a scheduler, a cron owner,
//! a singleton worker, handed over by stopping old before starting new.

use serde::{Deserialize, Serialize};

use super::{Side, WorkloadKey, WorkloadKind};

/// Something that must never run on both sides at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingletonSpec {
    pub name: String,
    pub kind: WorkloadKind,
    pub old: WorkloadKey,
    pub new: WorkloadKey,
    pub replicas: u32,
}

impl SingletonSpec {
    pub fn key(&self, side: Side) -> &WorkloadKey {
        match side {
            Side::Old => &self.old,
            Side::New => &self.new,
        }
    }
}

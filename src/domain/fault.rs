//! Why a source is not reading, as code decides on it: the text says it
//! to a person, this says what kind of trouble it is.

use serde::{Deserialize, Serialize};

/// The kind of trouble a source is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFault {
    /// The API asks callers to slow down: the source retries with backoff
    /// and the data it fed ages meanwhile.
    Throttled,
    /// No connection, or no answer in time.
    Unreachable,
    /// No credentials, expired or refused ones.
    Credentials,
    /// The identity may not make the call.
    Denied,
    /// What the plan names is not there.
    NotFound,
    #[default]
    Other,
}

impl SourceFault {
    pub fn is_other(&self) -> bool {
        *self == SourceFault::Other
    }
}

//! Why a call failed or a source is not reading, as code decides on it:
//! the text says it to a person, this says what kind of trouble it is.

use serde::{Deserialize, Serialize};

/// The kind of failure, by what it calls for. The code branches on this,
/// never on the text said to the operator. A source that is not reading
/// records it with its reason (recordings of earlier builds have none:
/// `Other`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// No connection to the server: refused, no route, DNS, reset.
    Unreachable,
    /// The connection was made and its TLS handshake failed.
    Tls,
    /// The credentials could not be had, or were refused.
    Credentials,
    /// The identity may not do this.
    Denied,
    /// The server asks the caller to slow down: a source retries with
    /// backoff, and the data it fed ages meanwhile.
    Throttled,
    /// What the call names does not exist.
    NotFound,
    /// What the call names changed since it was read.
    Conflict,
    /// No answer in time.
    Timeout,
    #[default]
    Other,
}

impl Fault {
    pub fn is_other(&self) -> bool {
        *self == Fault::Other
    }
}

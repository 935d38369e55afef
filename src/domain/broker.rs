//! How the broker a shared session is published to is doing: this
//! process's link, shown in the header, never recorded.

use serde::{Deserialize, Serialize};

/// How the broker is doing, for the header. Not part of the recording: it
/// is about this process's link, not about the cutover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareStatus {
    pub state: ShareState,
    /// Lines written and not yet stored by the broker.
    pub behind: u64,
    /// Lines the buffer could not hold, over the whole session.
    pub lost: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareState {
    Connecting,
    Live,
    /// The broker does not answer: what went wrong.
    Down(String),
    /// The broker answers and refuses: credentials without the permission.
    Refused(String),
}

impl ShareStatus {
    /// The header's words: `live`, `down, 120 behind`...
    pub fn text(&self) -> String {
        let mut text = match &self.state {
            ShareState::Connecting => "connecting".to_string(),
            ShareState::Live if self.behind > 0 => format!("live, {} behind", self.behind),
            ShareState::Live => "live".to_string(),
            ShareState::Down(_) => format!("down, {} behind", self.behind),
            ShareState::Refused(why) => format!("REFUSED: {why}"),
        };
        if self.lost > 0 {
            text.push_str(&format!(", {} lost", self.lost));
        }
        text
    }
}

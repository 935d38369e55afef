//! A keyframe: everything `update` has built, written now and then so a
//! replay can enter a long recording anywhere by reading one keyframe and
//! the messages after it, rather than the whole file.
//!
//! It is the `App` itself, serialised: the fields of its `State` (where
//! what is not state is marked `skip`: `quit`, what one message produced)
//! and, beside them, the operator's view as `ui`; the keymap is in the
//! header. Every other field, including one added later, is saved.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::keymap::Keymap;

/// Borrowed when written, owned when read.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Keyframe<'a>(pub &'a App);

impl<'a> Keyframe<'a> {
    pub fn of(app: &'a App) -> Keyframe<'a> {
        Keyframe(app)
    }
}

/// A keyframe as read back.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct Stored(pub App);

impl Stored {
    /// The console as it was when the keyframe was written.
    pub fn restore(self, keymap: Keymap) -> App {
        let mut app = self.0;
        app.keymap = keymap;
        app
    }
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "keyframe at {}", self.0.now)
    }
}

//! A console's or relay's tasks: every one tracked, so that the way out
//! can stop them in order and know they have stopped.
//!
//! The order, on the way out of a console: first its input (keys, mouse,
//! resizes), so nothing done after the quit is read; then the executor is
//! let finish the write it is making (see `console`); then everything
//! else (the sources, the wheel's renewals, the simulator, the signal
//! listener), before the wheel is released and the recording ended.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::app::Msg;

/// How long the tasks get to end once cancelled. Each ends at its next
/// wait; one in the middle of a call that does not watch the cancel (a
/// probe, the caller identity) is left to the runtime's end after this.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// The tasks of one session, and the cancels that stop them.
#[derive(Debug)]
pub struct Tasks {
    pub tracker: TaskTracker,
    /// Stops the terminal's input: first. Cancelled with `sources` too.
    pub input: CancellationToken,
    /// Stops everything else that runs: the sources, the wheel's
    /// renewals, the simulator, the signal listener.
    pub sources: CancellationToken,
}

impl Default for Tasks {
    fn default() -> Tasks {
        Tasks::new()
    }
}

impl Tasks {
    pub fn new() -> Tasks {
        let sources = CancellationToken::new();
        Tasks { tracker: TaskTracker::new(), input: sources.child_token(), sources }
    }

    /// Starts a task of the session.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tracker.spawn(task)
    }

    /// Stops everything at once: a session that ends before it began.
    pub fn cancel(&self) {
        self.sources.cancel();
    }

    /// Stops every task (the input too, if it still runs) and waits, at
    /// most [`STOP_WAIT`], until they have ended. The channel is closed
    /// first, so a task waiting to send on it (the channel full of what
    /// nobody applies any more) ends too; what is in it stays there.
    pub async fn stop(&self, rx: &mut mpsc::Receiver<Msg>) {
        self.sources.cancel();
        rx.close();
        self.tracker.close();
        if tokio::time::timeout(STOP_WAIT, self.tracker.wait()).await.is_err() {
            tracing::warn!(
                left = self.tracker.len(),
                "tasks still running {STOP_WAIT:?} after the stop: left to the runtime's end"
            );
        }
    }
}

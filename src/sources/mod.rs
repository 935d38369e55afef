//! Live sources: tasks that read the real backends and send `Msg`s. They
//! never touch the console's state; they only send.
//!
//! Every source here reads. Nothing in this module can change a cluster or
//! a load balancer: `cutover watch` is built from these alone.

pub mod alb;
pub mod aws;
pub mod cloudwatch;
pub mod kube;

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::Msg;

/// The console's clock in live mode: a Tick each second.
pub async fn clock(tx: mpsc::Sender<Msg>, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if tx.send(Msg::Tick { at: Timestamp::now() }).await.is_err() {
            return;
        }
    }
}

//! Listening for SIGHUP, SIGTERM and SIGINT: a console is told and stops
//! as it decides; a viewer stops as on `q`; a relay stops at the first.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::say::say;
use crate::app::{Msg, Signal};

/// Resolves on the first SIGTERM (Kubernetes stopping the pod) or SIGINT.
pub fn stop_signal() -> std::io::Result<impl std::future::Future<Output = Signal>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {
                tracing::info!("SIGTERM: stopping");
                Signal::Terminate
            }
            _ = int.recv() => {
                tracing::info!("SIGINT: stopping");
                Signal::Interrupt
            }
        }
    })
}

/// Forwards SIGHUP, SIGTERM and SIGINT to the console as messages until
/// cancelled: the console stops as it decides, never where it stands.
/// Listened for before the terminal is taken.
pub fn console_signals(
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
) -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        loop {
            let signal = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = hup.recv() => Signal::Hangup,
                _ = term.recv() => Signal::Terminate,
                _ = int.recv() => Signal::Interrupt,
            };
            tracing::warn!(signal = signal.name(), "signal: stopping");
            if tx.send(Msg::Signal(signal)).await.is_err() {
                return;
            }
        }
    })
}

/// A viewer (replay, follow) stops on SIGHUP, SIGTERM or SIGINT as on `q`,
/// and the process then exits 128 + the signal: the flag holds that code.
/// It has nothing in flight to bring to rest; the terminal is what matters.
pub fn viewer_signals() -> Arc<AtomicU8> {
    let flag = Arc::new(AtomicU8::new(0));
    let set = flag.clone();
    let listening = std::thread::Builder::new().name("signals".into()).spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async move {
            let (tx, mut rx) = mpsc::channel(4);
            let Ok(signals) = console_signals(tx, CancellationToken::new()) else { return };
            tokio::spawn(signals);
            if let Some(Msg::Signal(signal)) = rx.recv().await {
                set.store(signal.exit_code(), Ordering::Relaxed);
            }
        });
    });
    if let Err(e) = listening {
        tracing::warn!(error = %e, "not listening for signals");
    }
    flag
}

/// The exit code a viewer stopped with: 0, or 128 + the signal.
pub fn stopped_by(flag: &AtomicU8) -> ExitCode {
    match flag.load(Ordering::Relaxed) {
        0 => ExitCode::SUCCESS,
        code => {
            let name = [Signal::Hangup, Signal::Interrupt, Signal::Terminate]
                .into_iter()
                .find(|s| s.exit_code() == code)
                .map_or("a signal", |s| s.name());
            say(&format!("cutover: stopped by {name} (exit code {code})"));
            ExitCode::from(code)
        }
    }
}

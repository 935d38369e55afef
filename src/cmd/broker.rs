//! Reading sessions shared on a broker: finding one, and copying it whole
//! into a temporary file for `replay` and `report`.

use std::path::PathBuf;

use super::init::tokio_runtime;
use super::share_args::reader_options;
use crate::cli::SharedArgs;
use crate::share::Options;
use crate::share::read::{Broker, SessionInfo};

/// Connects to the broker and finds the session `--session` names, or
/// the newest live one.
pub async fn find_session(options: &Options, id: Option<&str>) -> Result<(Broker, SessionInfo), String> {
    let broker = Broker::connect(options).await?;
    let session = broker.find(id).await?;
    Ok((broker, session))
}

/// A local copy of a shared session, removed when dropped.
pub struct TempCopy(pub PathBuf);

impl Drop for TempCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where a temporary copy of a session goes: named after the process, so
/// two commands never share one.
pub fn temp_copy_path(what: &str, session: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cutover-{what}-{}-{session}.jsonl", std::process::id()))
}

/// A shared session copied whole into a temporary file, for `replay`
/// and `report`.
pub fn fetch(url: &str, shared: &SharedArgs) -> Result<TempCopy, String> {
    let options = reader_options(Some(url), shared)?;
    let runtime = tokio_runtime().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (broker, session) = find_session(&options, shared.session.as_deref()).await?;
        let copy = TempCopy(temp_copy_path("read", &session.session));
        let file = std::fs::File::create(&copy.0).map_err(|e| format!("{}: {e}", copy.0.display()))?;
        let mut out = std::io::BufWriter::new(file);
        broker.download(&session, &mut out).await?;
        std::io::Write::flush(&mut out).map_err(|e| format!("{}: {e}", copy.0.display()))?;
        Ok(copy)
    })
}

//! A console's recording: created before the terminal is taken (a file
//! that cannot be created is bad input, said plainly), with the broker as
//! its second sink when the session is shared; and what the exit message
//! says of it.

use std::process::ExitCode;

use jiff::Timestamp;
use tokio::sync::mpsc;

use super::say::{bad_input, say};
use crate::app::{App, Msg};
use crate::cli::RecordArgs;
use crate::record;
use crate::share::{self, Share};

/// Where a console's lines go.
pub struct Recording {
    /// None with `--no-record`.
    pub writer: Option<record::Writer>,
    /// The broker's half, with `--share`.
    pub sharing: Option<Share>,
}

/// Opens the session's recording, and its sharing with `share`. The
/// session is named after its recording: one name on disk and on the
/// broker. The share's own state reaches the console on `tx`.
pub async fn open(
    app: &App,
    record: &RecordArgs,
    share: Option<&share::Options>,
    started: Timestamp,
    tx: &mpsc::Sender<Msg>,
) -> Result<Recording, ExitCode> {
    let share = match share {
        Some(options) => match options.connect_options().await {
            Ok(connect) => Some((options.clone(), connect)),
            Err(e) => return Err(bad_input(&e)),
        },
        None => None,
    };
    if record.no_record {
        return Ok(Recording { writer: None, sharing: None });
    }
    let mode = app.config.mode.label().to_ascii_lowercase();
    let Some(path) = record.record.clone().or_else(|| record::default_path(&mode, started)) else {
        return Err(bad_input(
            "no place for the recording (no HOME or XDG_STATE_HOME): use --record FILE or --no-record",
        ));
    };
    let size = crossterm::terminal::size().unwrap_or((0, 0));
    let mut sharing = None;
    let tap = share.map(|(options, connect)| {
        let session = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let s = Share::start(options, connect, &app.config.title, &session, Some(tx.clone()));
        let tap = s.tap();
        sharing = Some(s);
        tap
    });
    match record::Writer::create_tapped(&path, &record::Header::new(app, started, size), tap) {
        Ok(mut w) => {
            if let Some(bytes) = record.record_hold {
                w.set_hold(bytes);
            }
            Ok(Recording { writer: Some(w), sharing })
        }
        Err(e) => Err(bad_input(&format!("{e} (use --record FILE or --no-record)"))),
    }
}

/// Says where the session was recorded, and, if the file could not be
/// written for a while, what is and is not in it. Returns whether lines
/// were lost.
pub fn said(path: &std::path::Path, stretches: &[record::Stretch]) -> bool {
    let path = path.display();
    let lost = stretches.iter().any(|s| s.lost + s.lost_at_exit > 0);
    if lost {
        say(&format!("cutover: the recording {path} is NOT COMPLETE:"));
    } else {
        say(&format!("cutover: session recorded in {path}"));
    }
    for stretch in stretches {
        say(&format!("  {}", stretch_text(stretch)));
    }
    say(&format!("  replay it: cutover replay {path}"));
    say(&format!("  report:    cutover report {path}"));
    lost
}

/// One stretch the recording could not be written, in the exit message's
/// words.
pub fn stretch_text(s: &record::Stretch) -> String {
    use crate::domain::clock;
    let lost = match (s.lost, s.lost_from, s.lost_to) {
        (0, ..) => String::new(),
        (n, Some(from), Some(to)) => format!(
            "; {n} line(s) from {} to {} did not fit in memory and are NOT in it (it says so there)",
            clock(from),
            clock(to)
        ),
        (n, ..) => format!("; {n} line(s) did not fit in memory and are NOT in it"),
    };
    match s.until {
        Some(until) => format!(
            "from {} to {} UTC it could not be written ({}): {} line(s) were held in memory and written late{}",
            clock(s.since),
            clock(until),
            s.error,
            s.written_late,
            if lost.is_empty() { "; nothing is missing".to_string() } else { lost.clone() }
        ),
        None => format!(
            "from {} UTC to the end it could not be written ({}): {} line(s) held in memory were never written{lost}; it ends at {}",
            clock(s.since),
            s.error,
            s.lost_at_exit,
            clock(s.since)
        ),
    }
}

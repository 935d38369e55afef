//! The broker's options, from the share flags and the environment
//! (`$NATS_URL`, `$NATS_CREDS`), checked as far as can be without a
//! broker: what does not hold is bad input.

use std::path::PathBuf;

use crate::cli::{ShareArgs, SharedArgs};
use crate::share::Options;

/// The sharing options of a console (`--share`), if it shares.
pub fn share_options(args: &ShareArgs) -> Result<Option<Options>, String> {
    let Some(given) = &args.share else { return Ok(None) };
    let url = nats_url(Some(given))
        .ok_or("--share without a URL takes $NATS_URL, which is not set (give --share nats://host:port)")?;
    share_options_at(&url, args).map(Some)
}

/// A broker's URL: the one given, or else $NATS_URL; none if neither.
pub fn nats_url(given: Option<&str>) -> Option<String> {
    let from_env = || std::env::var("NATS_URL").ok().filter(|u| !u.is_empty());
    given.filter(|u| !u.is_empty()).map(str::to_string).or_else(from_env)
}

/// The options to reach the broker at `url`: its credentials from the flag
/// or $NATS_CREDS, and the stream.
fn broker_options(url: &str, creds: Option<&PathBuf>, stream: &str) -> Options {
    let mut options = Options::new(url);
    options.creds = creds.cloned().or_else(|| std::env::var_os("NATS_CREDS").map(PathBuf::from));
    options.stream = stream.to_string();
    options
}

/// The sharing options for the broker at `url`, from the share flags.
pub fn share_options_at(url: &str, args: &ShareArgs) -> Result<Options, String> {
    let mut options = broker_options(url, args.nats_creds.as_ref(), &args.share_stream);
    options.max_age = args.share_max_age;
    options.max_bytes = args.share_max_bytes;
    options.check()?;
    Ok(options)
}

/// The broker to read shared sessions from: the URL given, or $NATS_URL.
pub fn reader_options(url: Option<&str>, shared: &SharedArgs) -> Result<Options, String> {
    let url = nats_url(url).ok_or("no broker: give its URL (nats://host:port or tls://host:port) or set $NATS_URL")?;
    let options = broker_options(&url, shared.nats_creds.as_ref(), &shared.share_stream);
    options.check()?;
    Ok(options)
}

//! What went wrong with a call to a backend, Kubernetes or AWS, sorted by
//! what the code and the operator do about it.
//!
//! Both clients report a failure as a chain of errors (`source()`), the
//! part that says the most usually the last. The walk over that chain is
//! here, once, and so is the sorting of a failed connection (refused, DNS,
//! TLS, reset), which the Kubernetes and the AWS errors share word for
//! word. Each backend keeps its own sentences for what only it knows (a
//! kubeconfig's exec plugin, an SSO session); [`Fault`] is the vocabulary
//! the code decides on, so that no decision reads the sentences.

use std::error::Error;
use std::io;

pub use crate::domain::Fault;

/// Why a connection failed, in the few words both sources say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("connection refused (nothing listens there)")]
    Refused,
    #[error("connection reset")]
    Reset,
    #[error("connection timed out")]
    TimedOut,
    #[error("no route to the host")]
    NoRoute,
    #[error("the host name does not resolve (DNS)")]
    Dns,
    /// The handshake's own reason, cut short.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The innermost error's first line, cut short.
    #[error("{0}")]
    Other(String),
}

impl ConnectError {
    pub fn fault(&self) -> Fault {
        match self {
            ConnectError::TimedOut => Fault::Timeout,
            ConnectError::Tls(_) => Fault::Tls,
            ConnectError::Refused
            | ConnectError::Reset
            | ConnectError::NoRoute
            | ConnectError::Dns
            | ConnectError::Other(_) => Fault::Unreachable,
        }
    }
}

/// Sorts a failed connection: first by the kind of the first I/O error of
/// the chain that says one, then by the words of the chain (a resolver's
/// or a TLS library's error is not an I/O error of a kind of its own).
pub fn connect(err: &(dyn Error + 'static)) -> ConnectError {
    let kind = io_errors(err).find_map(|io| {
        use io::ErrorKind::*;
        Some(match io.kind() {
            ConnectionRefused => ConnectError::Refused,
            // A peer that hangs up during the TLS handshake is an EOF.
            ConnectionReset | ConnectionAborted | UnexpectedEof => ConnectError::Reset,
            TimedOut => ConnectError::TimedOut,
            HostUnreachable | NetworkUnreachable => ConnectError::NoRoute,
            _ => return None,
        })
    });
    if let Some(kind) = kind {
        return kind;
    }
    let words = chain_text(err).to_ascii_lowercase();
    if words.contains("dns error") || words.contains("failed to lookup address") {
        ConnectError::Dns
    } else if words.contains("certificate") || words.contains("tls") {
        ConnectError::Tls(short(&innermost(err), 100))
    } else {
        ConnectError::Other(short(&innermost(err), 120))
    }
}

/// Whether the request never left: the server refused the connection, so
/// nothing it would have done was done.
pub fn never_sent(err: &(dyn Error + 'static)) -> bool {
    io_errors(err).any(|io| io.kind() == io::ErrorKind::ConnectionRefused)
}

/// Every error of the chain, the outermost first.
pub fn chain<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn Error + 'static)| (*e).source())
}

/// The first error of the chain that is a `T`.
pub fn find<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    chain(err).find_map(|e| e.downcast_ref::<T>())
}

fn io_errors<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a io::Error> {
    chain(err).filter_map(|e| e.downcast_ref::<io::Error>())
}

/// Every error's own text in the chain, joined: for the log, and for the
/// words of a library that has no error type to find.
pub fn chain_text(err: &(dyn Error + 'static)) -> String {
    chain(err).map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}

/// The last error of the chain, first line: usually the one that says.
pub fn innermost(err: &(dyn Error + 'static)) -> String {
    let last = chain(err).last().unwrap_or(err);
    last.to_string().lines().next().unwrap_or("").to_string()
}

/// At most `max` characters of the first line that is not blank, cut at a
/// character boundary with an ellipsis.
pub fn short(text: &str, max: usize) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    match line.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a text and a source, as client libraries nest them.
    #[derive(Debug)]
    struct Wrap(String, Option<Box<dyn Error + 'static>>);

    fn wrap(text: &str, source: Option<Box<dyn Error + 'static>>) -> Wrap {
        Wrap(text.to_string(), source)
    }

    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl Error for Wrap {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref()
        }
    }

    fn wrapped(inner: Box<dyn Error + 'static>) -> Wrap {
        wrap("client error (Connect)", Some(Box::new(wrap("tcp connect error", Some(inner)))))
    }

    #[test]
    fn a_failed_connection_is_said_by_its_io_kind_first() {
        let io = |kind| wrapped(Box::new(io::Error::from(kind)));
        let cases = [
            (io::ErrorKind::ConnectionRefused, "connection refused (nothing listens there)", Fault::Unreachable),
            (io::ErrorKind::ConnectionReset, "connection reset", Fault::Unreachable),
            (io::ErrorKind::UnexpectedEof, "connection reset", Fault::Unreachable),
            (io::ErrorKind::TimedOut, "connection timed out", Fault::Timeout),
            (io::ErrorKind::HostUnreachable, "no route to the host", Fault::Unreachable),
        ];
        for (kind, says, fault) in cases {
            let why = connect(&io(kind));
            assert_eq!((why.to_string().as_str(), why.fault()), (says, fault), "{kind:?}");
        }
        assert!(never_sent(&io(io::ErrorKind::ConnectionRefused)));
        assert!(!never_sent(&io(io::ErrorKind::ConnectionReset)));
    }

    #[test]
    fn without_an_io_kind_the_words_of_the_chain_say_it() {
        let dns = wrapped(Box::new(wrap("dns error: failed to lookup address information", None)));
        assert_eq!(connect(&dns), ConnectError::Dns);
        let tls = wrapped(Box::new(wrap("invalid peer certificate: UnknownIssuer\nmore", None)));
        assert_eq!(connect(&tls).to_string(), "TLS failed: invalid peer certificate: UnknownIssuer");
        assert_eq!(connect(&tls).fault(), Fault::Tls);
        let other = wrapped(Box::new(wrap(&"x".repeat(200), None)));
        let text = connect(&other).to_string();
        assert!(text.ends_with('…') && text.chars().count() == 121, "{text}");
    }

    #[test]
    fn the_chain_is_walked_once_outermost_first() {
        let err = wrapped(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert_eq!(chain(&err).count(), 3);
        assert!(chain_text(&err).starts_with("client error (Connect): tcp connect error: "));
        assert!(find::<io::Error>(&err).is_some());
        assert_eq!(find::<std::fmt::Error>(&err).map(|e| e.to_string()), None);
        assert_eq!(short("\n  first line  \nsecond", 5), "first…");
    }
}

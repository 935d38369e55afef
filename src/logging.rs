//! The log's writer: every line is scrubbed of secrets before it reaches
//! the file or stderr, at every level.
//!
//! The console's own lines are scrubbed where they are made; the crates
//! below it are not: at `debug` and `trace` the AWS SDK prints the resolved
//! credentials (the access key id, in the `Debug` of its identity) with
//! every call, and a signed request's headers. A filter directive per
//! target would be overridden by the next `CUTOVER_LOG` someone writes
//! while debugging, and miss the next crate that prints one; scrubbing what
//! is written catches them all.

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

/// Wraps a writer maker so that each event is written scrubbed, whole.
pub struct Scrubbed<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Scrubbed<M> {
    type Writer = ScrubbedEvent<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedEvent { inner: self.0.make_writer(), buf: Vec::new() }
    }
}

/// One event's text, kept until the event is whole (the formatter writes
/// it in pieces, then drops the writer), then scrubbed and written at once:
/// a secret is never cut in two across writes.
pub struct ScrubbedEvent<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> ScrubbedEvent<W> {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf);
        let clean = crate::scrub::scrub(&text);
        let result = self.inner.write_all(clean.as_bytes());
        self.buf.clear();
        result
    }
}

impl<W: Write> Write for ScrubbedEvent<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for ScrubbedEvent<W> {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn what_the_sdk_prints_at_trace_is_written_without_its_credentials() {
        let sink = Sink::default();
        let make = Scrubbed(move || sink.clone());
        let lines = [
            r#"TRACE aws_smithy_runtime::client::orchestrator::auth: resolved identity identity=Identity { data: Credentials { provider_name: "EnvironmentVariable", access_key_id: "AKIAZZTESTKEYID12345", secret_access_key: "** redacted **", expires_after: "never" } }"#,
            r#"TRACE aws_sigv4::http_request::sign: signing request headers: [("x-amz-security-token", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ"), ("authorization", "AWS4-HMAC-SHA256 Credential=ASIAZZTESTKEYID12345/20261206/us-east-1/sts/aws4_request")]"#,
            "DEBUG credentials: AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIzzK7MDENGzzbPxRfiCYzzSECRET",
        ];
        for line in lines {
            // In pieces, as the formatter writes.
            let mut w = make.make_writer();
            let (a, b) = line.split_at(line.len() / 2);
            w.write_all(a.as_bytes()).unwrap();
            w.write_all(b.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
        }
        let Scrubbed(f) = &make;
        let written = String::from_utf8(f().0.lock().unwrap().clone()).unwrap();
        for secret in
            ["AKIAZZTESTKEYID12345", "ASIAZZTESTKEYID12345", "IQoJb3JpZ2lu", "wJalrXUtnFEMIzzK7MDENGzzbPxRfiCYzzSECRET"]
        {
            assert!(!written.contains(secret), "`{secret}` written:\n{written}");
        }
        assert_eq!(written.lines().count(), 3, "{written}");
        assert!(written.contains("resolved identity") && written.contains("signing request"), "{written}");
    }
}

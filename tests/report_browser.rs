//! The HTML report and an SVG chart as a browser sees them: Debian's
//! headless Chromium (`tests/run.sh` installs it) loads each file with
//! every host name unresolvable, and must parse it, keep the charts, log
//! no console error and try to load nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{operator_script, record_script};

const BIN: &str = env!("CARGO_BIN_EXE_cutover");

fn chromium() -> &'static str {
    let found = Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "chromium is missing: run ./tests/run.sh, which installs it (apt-get install -y chromium)");
    "chromium"
}

/// Chromium headless on `file`, with its log on stderr; `what` is
/// `--dump-dom` or `--screenshot=PATH`.
fn browse(file: &Path, what: &str, profile: &Path) -> Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            // Anything the page tried to fetch from a host would fail, and say so.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=1100,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(what)
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap()
}

/// The lines of Chromium's log that speak of the page: console messages
/// and loads that failed.
fn page_complaints(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Failed to load")
                || l.contains("net::ERR")
                || l.contains("Refused to")
        })
        .collect()
}

fn report(path: &Path, format: &str, out: &Path, extra: &[&str]) {
    let status = Command::new(BIN)
        .args(["report", path.to_str().unwrap(), "--format", format, "-o", out.to_str().unwrap()])
        .args(extra)
        .status()
        .unwrap();
    assert!(status.success());
}

fn temp(name: &str) -> PathBuf {
    common::fresh_path("report-browser", name)
}

#[test]
fn the_html_report_renders_in_chromium_without_errors() {
    let path = temp("session.jsonl");
    record_script(&path, 12 * 60, &[], &operator_script());
    let html = temp("report.html");
    report(&path, "html", &html, &[]);
    let profile = temp("profile");

    let dom = browse(&html, "--dump-dom", &profile);
    let stderr = String::from_utf8_lossy(&dom.stderr);
    assert!(dom.status.success(), "{stderr}");
    assert_eq!(page_complaints(&stderr), Vec::<&str>::new(), "the page logged or fetched something");
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The page as parsed: every chart, its marks' hover labels, the tables.
    assert_eq!(dom.matches("<svg ").count(), 3, "{dom:.2000}");
    assert!(dom.contains("<title>step 1: 14:01:00 alice@example (demo)"), "{dom:.2000}");
    assert!(dom.contains("<h2>Summary</h2>") && dom.contains("<h2>Timeline</h2>"));
    assert!(!dom.contains("parsererror"));

    let png = temp("report.png");
    let shot = browse(&html, &format!("--screenshot={}", png.display()), &profile);
    let stderr = String::from_utf8_lossy(&shot.stderr);
    assert_eq!(page_complaints(&stderr), Vec::<&str>::new());
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    assert_eq!(width, 1100, "the window's width");
}

#[test]
fn an_svg_chart_alone_parses_as_svg_in_chromium() {
    let path = temp("session.jsonl");
    record_script(&path, 8 * 60, &[], &operator_script());
    let svg = temp("api.svg");
    report(&path, "svg", &svg, &["--route", "api"]);
    let out = browse(&svg, "--dump-dom", &temp("profile"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(page_complaints(&stderr), Vec::<&str>::new());
    let dom = String::from_utf8_lossy(&out.stdout);
    // As an image/svg+xml document an XML error would show as a
    // `parsererror` element instead of the chart.
    assert!(!dom.contains("parsererror") && !dom.contains("error on line"), "{dom:.2000}");
    assert!(dom.contains("<title>api (ALB rule): weights, requests, 5xx and healthy targets</title>"), "{dom:.2000}");
    assert!(dom.contains("Share of traffic on new") && dom.contains("spike guard 1%"));
}

//! `cutover report FILE`: the postmortem of a recording, as Markdown,
//! HTML, JSON or one route's SVG chart.

use std::process::ExitCode;

use super::broker::fetch;
use super::say::{bad_input, print_text};
use crate::cli::{self, ReportArgs, ReportFormat};
use crate::report;

/// Writes the report to `--output` or stdout. Exit code 0, or 2 for bad
/// input (a recording that cannot be read, a route not in it).
pub fn run(args: &ReportArgs) -> ExitCode {
    if args.route.is_some() && args.format != ReportFormat::Svg {
        return bad_input("report: --route picks the chart of --format svg; the other formats cover every route");
    }
    // Removed when the report is written.
    let mut copy = None;
    let path = if cli::is_broker_url(&args.file) {
        match fetch(&args.file.to_string_lossy(), &args.shared) {
            Ok(c) => copy.insert(c).0.clone(),
            Err(e) => return bad_input(&format!("report: {e}")),
        }
    } else {
        args.file.clone()
    };
    let span = report::Span { from: args.from.clone(), to: args.to.clone() };
    let report = match report::from_file_in(&path, &span) {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("report: {}: {e}", args.file.display())),
    };
    let text = match args.format {
        ReportFormat::Md => report.markdown(),
        ReportFormat::Json => report.json(),
        ReportFormat::Html => report.html(),
        ReportFormat::Svg => {
            let names: Vec<&str> = report.routes.iter().map(|r| r.route.as_str()).collect();
            let Some(name) = args.route.as_deref() else {
                return bad_input(&format!(
                    "report: --format svg draws one route's chart: add --route NAME (one of {})",
                    names.join(", ")
                ));
            };
            match report.route(name) {
                Ok(route) => report::route_svg(&report, route),
                Err(e) => return bad_input(&format!("report: {e}")),
            }
        }
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return bad_input(&format!("report: cannot write {}: {e}", path.display()));
            }
        }
        // A reader that stops early (`| head`) is no error.
        None => {
            if let Err(e) = print_text(text.as_bytes(), "the report") {
                eprintln!("cutover: error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(stopped) = &report.session.stopped {
        eprintln!("cutover: {}: the recording stops early: {stopped}", args.file.display());
    }
    ExitCode::SUCCESS
}

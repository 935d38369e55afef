//! `cutover check`: validates a plan and connects to every backend once;
//! prints what was found and what is missing.

use std::path::Path;
use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::init::tokio_runtime;
use super::say::{bad_input, print_text};
use crate::check::{self, Verdict};
use crate::cli::PlanArgs;
use crate::plan::Plan;

/// Exit codes of `check`: 0 every check passed (warnings allowed), 1 a
/// check failed, 2 bad input (the plan cannot be read). `log` is named
/// for the errors in full.
pub fn run(args: &PlanArgs, log: Option<&Path>) -> Result<ExitCode> {
    let plan = match Plan::load(&args.plan) {
        Ok(p) => p,
        Err(e) => return Ok(bad_input(&format!("plan: {e}"))),
    };
    let runtime = tokio_runtime()?;
    if let Err(e) = runtime.block_on(check::refusals(&plan)) {
        return Ok(bad_input(&format!("plan: {e}")));
    }
    let findings = runtime.block_on(check::run(&plan));
    let mut out = format!("cutover check: {}\n\n", plan.path.display());
    for f in &findings {
        out.push_str(&format!("{f}\n"));
    }
    let failed = findings.iter().filter(|f| f.verdict == Verdict::Fail).count();
    let warned = findings.iter().filter(|f| f.verdict == Verdict::Warn).count();
    out.push('\n');
    let code = if failed == 0 {
        let warnings = if warned > 0 { format!(" ({warned} warning(s))") } else { String::new() };
        out.push_str(&format!("all checks passed{warnings}\n"));
        ExitCode::SUCCESS
    } else {
        out.push_str(&format!("{failed} check(s) failed, {warned} warning(s)\n"));
        if let Some(log) = log {
            out.push_str(&format!("the errors in full: {}\n", log.display()));
        }
        ExitCode::from(1)
    };
    // A reader that stops early (`| head`) is no error.
    print_text(out.as_bytes(), "the findings")?;
    Ok(code)
}

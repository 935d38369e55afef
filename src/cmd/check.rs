//! `cutover check`: validates a plan and connects to every backend once;
//! prints what was found and what is missing.

use std::path::Path;
use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::init::tokio_runtime;
use super::say::{bad_input, print_text};
use crate::check::{self, Verdict};
use crate::cli::CheckArgs;
use crate::plan::Plan;

/// Exit codes of `check`: 0 every check passed (warnings allowed), 1 a
/// check failed, 2 bad input (the plan cannot be read). `log` is named
/// for the errors in full.
pub fn run(args: &CheckArgs, log: Option<&Path>) -> Result<ExitCode> {
    let Some(path) = args.plan.as_ref().filter(|_| !args.demo) else { return demo() };
    let plan = match Plan::load(path) {
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

/// `check --demo`: the demo world's lifecycle risks, judged as the demo's
/// console judges them at its start (the same world, the same seed), and
/// said as `check` says them of a real plan.
fn demo() -> Result<ExitCode> {
    use crate::app::{App, update};
    let mut world = crate::runtime::demo_world(crate::runtime::DEMO_SEED, 1);
    let mut app = App::new(world.app_config(), crate::keymap::Keymap::default(), world.now());
    for msg in world.initial() {
        let _ = update(&mut app, msg);
    }
    let mut report = crate::sources::check::Report::default();
    report.add(
        Verdict::Ok,
        "plan",
        format!("{}: the simulated world of `cutover demo`, nothing real is read", app.config.title),
    );
    let unread = app.lifecycle.as_ref().map(|f| f.unread.clone()).unwrap_or_default();
    report.risks(&app.risks, &unread, "the demo's routes, target groups, node groups and handlers");
    let mut out = "cutover check --demo\n\n".to_string();
    for f in &report.0 {
        out.push_str(&format!("{f}\n"));
    }
    let warned = report.0.iter().filter(|f| f.verdict == Verdict::Warn).count();
    out.push_str(&format!("\nall checks passed ({warned} warning(s))\n"));
    print_text(out.as_bytes(), "the findings")?;
    Ok(ExitCode::SUCCESS)
}

//! `cutover report FILE`: the postmortem of a recorded session.
//!
//! Built by replaying the whole stream through `update`, the same way the
//! session and a replay built their screens: the marks `update` notes are
//! the timeline, and the rebuilt state gives the weight history. The
//! per-minute figures (requests, 5xx, the load balancers' own 5xx, healthy
//! targets) are gathered from the stream as it passes, since the console
//! keeps only its last hours of them. One `Report` is rendered three ways:
//! Markdown to paste into a postmortem, a self-contained HTML page with
//! charts, and JSON for tools (its schema is `schemas/report.schema.json`).
//!
//! `builder` reads the stream and gathers; `analysis` makes each section
//! of what it gathered; `model` is what the JSON holds; `doc`, `html` and
//! `chart` render it; `time` says its times and reads `--from`/`--to`.

mod analysis;
mod builder;
mod chart;
mod doc;
mod html;
mod model;
mod series;
mod time;

pub use analysis::{CHART_LEAD_MINUTES, SIGNALS_BEFORE_MINUTES, STEP_WINDOW_MINUTES};
pub use builder::{build, from_file, from_file_in};
pub use chart::route_svg;
pub use model::*;
pub use time::Span;

impl Report {
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    pub fn markdown(&self) -> String {
        doc::document(self).markdown()
    }

    /// One self-contained page: inline CSS and SVG, nothing fetched.
    pub fn html(&self) -> String {
        html::page(self)
    }

    /// The route named, or a message naming the routes there are.
    pub fn route(&self, name: &str) -> Result<&RouteReport, String> {
        self.routes.iter().find(|r| r.route == name).ok_or_else(|| {
            let names: Vec<&str> = self.routes.iter().map(|r| r.route.as_str()).collect();
            format!("no route `{name}` in this recording: its routes are {}", names.join(", "))
        })
    }
}

//! The report as one HTML file: the document's blocks as HTML, each
//! route's chart as inline SVG, and the CSS in the page. Nothing is fetched
//! (no script, font, image or style from elsewhere): it reads offline,
//! prints, and pastes into a wiki whole.

use super::Report;
use super::doc::{Block, document};

const STYLE: &str = "
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; color: #222; background: #fff;
       max-width: 1040px; margin: 24px auto; padding: 0 16px; line-height: 1.45; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 16px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 20px 0 8px; }
p { margin: 6px 0 12px; }
table { border-collapse: collapse; margin: 6px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d6d6d6; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; font-weight: 600; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 12px 0 24px; }
figure svg { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
.tick { fill: #555; font-size: 11px; }
.panel-title { fill: #333; font-weight: 600; }
.legend text { fill: #333; font-size: 12px; }
@media print { figure { break-inside: avoid; } }
";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Escaped text, with the Markdown's `**bold**` kept as bold.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::new();
    for (i, part) in escaped.split("**").enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<strong>{part}</strong>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

pub fn page(report: &Report) -> String {
    let doc = document(report);
    let mut body = String::new();
    for block in &doc.blocks {
        match block {
            Block::Title(t) => body.push_str(&format!("<h1>{}</h1>\n", inline(t))),
            Block::Heading(t) => body.push_str(&format!("<h2>{}</h2>\n", inline(t))),
            Block::Subheading(t) => body.push_str(&format!("<h3>{}</h3>\n", inline(t))),
            Block::Text(t) => body.push_str(&format!("<p>{}</p>\n", inline(t))),
            Block::Table { head, rows } => {
                body.push_str("<table>\n");
                if head.iter().any(|h| !h.is_empty()) {
                    let cells: String = head.iter().map(|h| format!("<th>{}</th>", inline(h))).collect();
                    body.push_str(&format!("<thead><tr>{cells}</tr></thead>\n"));
                }
                body.push_str("<tbody>\n");
                for row in rows {
                    let cells: String = row.iter().map(|c| format!("<td>{}</td>", inline(c))).collect();
                    body.push_str(&format!("<tr>{cells}</tr>\n"));
                }
                body.push_str("</tbody></table>\n");
            }
            Block::Charts => {
                body.push_str("<h2 id=\"charts\">Charts</h2>\n");
                body.push_str(
                    "<p>Per route, on one time axis (UTC): the weights set and the share of requests new really \
                     got, each side's requests, 5xx share and healthy targets. Hover a vertical line for the step, \
                     handoff or node signal it marks.</p>\n",
                );
                for route in &report.routes {
                    let svg = super::chart::chart(report, route).to_string();
                    body.push_str(&format!("<figure id=\"chart-{}\">\n{svg}\n</figure>\n", escape(&route.route)));
                }
            }
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(&format!("Cutover report: {}", report.session.title))
    )
}

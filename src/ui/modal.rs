//! Proposals waiting for `y`, the percentage input, the handoff strip and
//! the last refusal: everything about acting, drawn over the console.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::actions::{gap_secs, pods_still_running};
use crate::app::{HandoffPhase, Modal, ProposalKind, State};
use crate::keymap::Action;

use super::{Shown, theme};

/// Draws the open proposal, input or question over the console: in the
/// body when it fits there, else over the whole screen (`screen`, the
/// footer kept). What never goes, at any size down to 40x10: the title,
/// the first line (what changes) and the line that says how to apply and
/// how to drop it; the lines between give way first, and say how many.
pub fn render_modal(s: Shown, frame: &mut Frame, area: Rect, screen: Rect) {
    let (app, km) = (s.app, s.keymap);
    let Some(modal) = &app.modal else { return };
    let width = WIDTH.min(screen.width.max(area.width));
    // Inside the border, after the one-space margin every line has.
    let inner = usize::from(width.saturating_sub(3));
    let (title, mut lines, keys, border) = match modal {
        Modal::Proposal(p) => {
            // Wrapped, not cut: an owner's advice is longer than the box.
            let mut lines: Vec<Line> =
                p.lines.iter().flat_map(|l| wrap(l, inner)).map(|l| Line::raw(format!(" {l}"))).collect();
            let take = matches!(p.kind, ProposalKind::TakeWheel { .. });
            let confirm = match (p.needed, p.given, &p.typed_override) {
                (_, 0, Some(o)) if take => {
                    lines.push(Line::raw(""));
                    lines.push(Line::from(vec![
                        Span::styled(" type the word: ", Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD)),
                        Span::styled(format!("{}█", o.typed), Style::new().add_modifier(Modifier::BOLD)),
                    ]));
                    format!(" `{}` + enter take the wheel ({} is not taken)", o.word, km.label(Action::Confirm))
                }
                // Another writer would undo it: a typed word, then Enter.
                (_, 0, Some(o)) => {
                    lines.push(Line::raw(""));
                    lines.push(Line::from(vec![
                        Span::styled(
                            " type the override: ",
                            Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
                        ),
                        Span::styled(format!("{}█", o.typed), Style::new().add_modifier(Modifier::BOLD)),
                    ]));
                    let then = if p.needed == 2 {
                        format!(", then {}", km.label(Action::ConfirmAgain))
                    } else {
                        String::new()
                    };
                    format!(" `{}` + enter apply{then} ({} is not taken)", o.word, km.label(Action::Confirm))
                }
                (1, _, _) => format!(" {} apply", km.label(Action::Confirm)),
                (_, 0, _) => format!(
                    " {} then {} apply (2 confirmations)",
                    km.label(Action::Confirm),
                    km.label(Action::ConfirmAgain)
                ),
                _ => format!(
                    " {} apply (second confirmation; {} again is not taken)",
                    km.label(Action::ConfirmAgain),
                    km.label(Action::Confirm)
                ),
            };
            let typing = p.given == 0 && p.typed_override.is_some();
            // While the word is typed, the cancel key is a letter like any other.
            let cancel =
                if typing { "esc cancel".to_string() } else { format!("{}/esc cancel", km.label(Action::Cancel)) };
            let keys = keys_lines(
                (confirm, Style::new().fg(Color::Green).add_modifier(Modifier::BOLD)),
                (cancel, theme::dim()),
                inner + 1,
            );
            match &p.typed_override {
                Some(_) if take => {
                    let from = p.title.strip_prefix("take the wheel").unwrap_or_default();
                    (format!(" TAKE THE WHEEL{from} "), lines, keys, Color::LightRed)
                }
                Some(o) if o.owner.is_empty() => {
                    (format!(" PROPOSAL, OVERRIDE: {} ", p.title), lines, keys, Color::LightRed)
                }
                Some(_) => (format!(" PROPOSAL, OWNER OVERRIDE: {} ", p.title), lines, keys, Color::LightRed),
                None => (format!(" PROPOSAL: {} ", p.title), lines, keys, Color::Yellow),
            }
        }
        Modal::Percent(input) => {
            let name = app.routes.get(input.route).map_or("?", |r| r.spec.name.as_str());
            let lines = vec![
                Line::raw(format!(" percent of route {name}'s traffic to new (0-100):")),
                Line::from(Span::styled(format!(" {}█", input.text), Style::new().add_modifier(Modifier::BOLD))),
            ];
            let keys = vec![Line::from(Span::styled(" enter proposes, esc cancels", theme::dim()))];
            (" set percentage ".to_string(), lines, keys, theme::ACCENT)
        }
        Modal::Quit(what) => {
            let lines: Vec<Line> =
                what.iter().flat_map(|l| wrap(l, inner)).map(|l| Line::raw(format!(" {l}"))).collect();
            let keys = keys_lines(
                (
                    format!(" {} quit anyway", km.label(Action::Confirm)),
                    Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD),
                ),
                ("any other key: stay".to_string(), theme::dim()),
                inner + 1,
            );
            (" QUIT NOW? something is in flight ".to_string(), lines, keys, Color::LightRed)
        }
    };
    if app.config.mode == crate::app::Mode::DryRun {
        lines.insert(0, Line::from(Span::styled(" dry run: nothing will be sent", Style::new().fg(Color::Yellow))));
    }
    let blank = matches!(modal, Modal::Proposal(_) | Modal::Quit(_));
    let want = lines.len() + usize::from(blank) + keys.len() + 2;
    // Where it is drawn: the body if it fits, else all but the footer.
    let room = if usize::from(area.height) >= want {
        area
    } else {
        Rect { height: screen.height.saturating_sub(1).max(area.height), ..screen }
    };
    let fit = fit_lines(lines, keys, blank, usize::from(room.height).saturating_sub(2));
    let height = fit.len() as u16 + 2;
    let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(room);
    let [popup] = Layout::horizontal([Constraint::Length(width.min(room.width))]).flex(Flex::Center).areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(title, Style::new().fg(border).add_modifier(Modifier::BOLD)))
        .border_style(Style::new().fg(border));
    frame.render_widget(Paragraph::new(fit).block(block), popup);
}

/// How to apply and how to drop, on one line when both fit in `width`,
/// else each on its own, wrapped.
fn keys_lines(apply: (String, Style), cancel: (String, Style), width: usize) -> Vec<Line<'static>> {
    let gap = "    ";
    let whole = apply.0.chars().count() + gap.len() + cancel.0.chars().count();
    if whole <= width {
        return vec![Line::from(vec![
            Span::styled(apply.0, apply.1),
            Span::raw(gap),
            Span::styled(cancel.0, cancel.1),
        ])];
    }
    let mut out: Vec<Line> = wrap(&apply.0, width).into_iter().map(|l| Line::from(Span::styled(l, apply.1))).collect();
    let text = format!(" {}", cancel.0.trim_start());
    out.extend(wrap(&text, width).into_iter().map(|l| Line::from(Span::styled(l, cancel.1))));
    out
}

/// `lines`, a blank line (`blank`) and `keys` in at most `rows` rows: the
/// keys always, the first line always, then as many of the rest as fit,
/// with one line saying how many more there are.
fn fit_lines(lines: Vec<Line<'static>>, keys: Vec<Line<'static>>, blank: bool, rows: usize) -> Vec<Line<'static>> {
    let all = lines.len() + usize::from(blank) + keys.len();
    if all <= rows {
        let mut out = lines;
        if blank {
            out.push(Line::raw(""));
        }
        out.extend(keys);
        return out;
    }
    // No blank line, and one for the count of what is left out.
    let room = rows.saturating_sub(keys.len()).max(1);
    let shown = room.saturating_sub(1).max(1).min(lines.len());
    let left = lines.len() - shown;
    let mut out: Vec<Line> = lines.into_iter().take(shown).collect();
    if left > 0 && out.len() < room {
        out.push(Line::from(Span::styled(format!(" … {left} more line(s) on a taller screen"), theme::dim())));
    }
    out.extend(keys);
    out
}

/// The width of the box a proposal, an input or a question is drawn in.
const WIDTH: u16 = 80;

/// A line cut at spaces into lines of at most `width` characters (a word
/// longer than that stays whole); continuations are indented two more
/// than the line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let indent = text.len() - text.trim_start_matches(' ').len();
    let mut out = vec![" ".repeat(indent)];
    for word in text[indent..].split(' ') {
        let Some(last) = out.last_mut() else { break };
        let len = last.chars().count();
        if len > indent && len + 1 + word.chars().count() > width {
            out.push(format!("{}{word}", " ".repeat(indent + 2)));
        } else {
            if len > indent {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    out
}

/// The handoff of the console that drives, as its Lease says, when this
/// one has none of its own under way.
fn holder_handoff_line(app: &State) -> Option<Line<'static>> {
    if app.handoff.as_ref().is_some_and(|h| !h.phase.finished()) {
        return None;
    }
    let crate::domain::Wheel::Held { holder, handoff: Some(h), .. } = &app.wheel.as_ref()?.wheel else { return None };
    Some(Line::from(vec![
        Span::styled(
            format!(" handoff by {} ", crate::domain::wheel::short_holder(holder)),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(h.text.clone(), Style::new().fg(Color::Yellow)),
    ]))
}

/// One line: where the handoff is and how long the gap has been.
pub fn handoff_line(s: Shown) -> Option<Line<'static>> {
    let app = s.app;
    if let Some(line) = holder_handoff_line(app) {
        return Some(line);
    }
    let h = app.handoff.as_ref()?;
    let end = if h.phase.finished() { h.ready_at.unwrap_or(app.now) } else { app.now };
    let elapsed = crate::domain::age(h.started, end);
    let step = match &h.phase {
        HandoffPhase::Stopping => format!("stopping {}…", h.from),
        HandoffPhase::WaitingGone => {
            let left = pods_still_running(app, h.from, h.spec.key(h.from));
            format!("waiting for {} to run nothing ({left} pod(s) left)", h.from)
        }
        HandoffPhase::Starting => format!("starting {}…", h.to),
        HandoffPhase::WaitingReady => format!("waiting for {} to be ready", h.to),
        HandoffPhase::Done => "done".into(),
        HandoffPhase::Aborting => format!("aborting: restoring {}", h.from),
        HandoffPhase::Aborted => format!("aborted; {} restored", h.from),
        HandoffPhase::Failed(reason) => format!("STOPPED: {reason}"),
        HandoffPhase::Refused(reason) => format!("not begun: {reason}"),
        HandoffPhase::StartFailed(reason) => format!(
            "RUNS ON NEITHER SIDE: {reason} ({}: retry the start, {}: restore {})",
            s.keymap.label(Action::Handoff),
            s.keymap.label(Action::Abort),
            h.from
        ),
    };
    let style = match &h.phase {
        HandoffPhase::Failed(_) | HandoffPhase::StartFailed(_) | HandoffPhase::Refused(_) => {
            Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD)
        }
        HandoffPhase::Done | HandoffPhase::Aborted => Style::new().fg(Color::Green),
        _ => Style::new().fg(Color::Yellow),
    };
    let mut spans = vec![
        Span::styled(
            format!(" handoff {} {} → {} ", h.spec.name, h.from, h.to),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("{elapsed}: "), theme::dim()),
        Span::styled(step, style),
    ];
    if let Some(gap) = gap_secs(h, app.now) {
        spans.push(Span::styled(
            format!("   gap {gap}s"),
            Style::new().fg(Color::LightMagenta).add_modifier(Modifier::BOLD),
        ));
    }
    Some(Line::from(spans))
}

pub fn notice_line(app: &State) -> Option<Line<'static>> {
    let n = app.notice.as_ref()?;
    Some(Line::from(Span::styled(format!(" ✖ {n}"), Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD))))
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn proposal_lines_wrap_at_spaces_keeping_their_indent() {
        assert_eq!(wrap("old 75 / new 25  →  old 50 / new 50", 80), vec!["old 75 / new 25  →  old 50 / new 50"]);
        assert_eq!(wrap("  ⚠ one two three", 10), vec!["  ⚠ one", "    two", "    three"]);
        assert_eq!(wrap("abcdefghijkl x", 5), vec!["abcdefghijkl", "  x"]);
        assert_eq!(wrap("", 5), vec![""]);
    }
}

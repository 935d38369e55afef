//! Fitting columns to a width: each column says how narrow it can be drawn
//! truthfully, how wide it would like to be, how far it may stretch, and
//! how much it matters. Columns that do not fit are dropped whole, least
//! important first, so a number is either drawn whole or not at all.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// One column (or one piece of a line) to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    /// Narrowest truthful width: a number's full width; a name's shortest
    /// readable cut.
    pub min: u16,
    /// The width that shows all of it.
    pub want: u16,
    /// How far it may stretch into room nobody else wants (sparklines).
    pub max: u16,
    /// 0 is kept longest; higher numbers are dropped first.
    pub priority: u8,
}

impl Col {
    /// Always exactly `width` wide: numbers and fixed labels.
    pub const fn fixed(width: u16, priority: u8) -> Self {
        Self { min: width, want: width, max: width, priority }
    }

    /// Between `min` and `want`: text that may be cut with a mark.
    pub const fn text(min: u16, want: u16, priority: u8) -> Self {
        Self { min: if min < want { min } else { want }, want, max: want, priority }
    }

    /// From `min` up to `max`, taking the room left over.
    pub const fn stretch(min: u16, max: u16, priority: u8) -> Self {
        Self { min, want: min, max, priority }
    }
}

/// The width of each column, `None` for one dropped; `gap` cells stand
/// between two shown columns.
///
/// A column is shown only if every more important column can have the
/// width it wants beside it at its minimum: least important columns go
/// first (among equals, the rightmost), so a name is not cut to keep a
/// column that matters less. Then the room left widens columns to what
/// they want, most important first; what is still left is shared evenly
/// among the columns that stretch.
pub fn fit(cols: &[Col], width: u16, gap: u16) -> Vec<Option<u16>> {
    let mut shown: Vec<bool> = vec![true; cols.len()];
    let need = |shown: &[bool]| -> u32 {
        let lowest = cols.iter().zip(shown).filter(|(_, s)| **s).map(|(c, _)| c.priority).max().unwrap_or(0);
        let n = shown.iter().filter(|s| **s).count() as u32;
        let widths: u32 = cols
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s)
            .map(|(c, _)| u32::from(if c.priority == lowest { c.min } else { c.want }))
            .sum();
        widths + n.saturating_sub(1) * u32::from(gap)
    };
    while need(&shown) > u32::from(width) {
        let drop = (0..cols.len()).filter(|i| shown[*i]).max_by_key(|i| (cols[*i].priority, *i));
        match drop {
            Some(i) => shown[i] = false,
            None => break,
        }
    }
    let n = shown.iter().filter(|s| **s).count() as u32;
    let mins: u32 = cols.iter().zip(&shown).filter(|(_, s)| **s).map(|(c, _)| u32::from(c.min)).sum();
    let used = mins + n.saturating_sub(1) * u32::from(gap);
    let mut widths: Vec<u16> = cols.iter().map(|c| c.min).collect();
    let mut left = u32::from(width).saturating_sub(used);
    let mut order: Vec<usize> = (0..cols.len()).filter(|i| shown[*i]).collect();
    order.sort_by_key(|i| (cols[*i].priority, *i));
    for &i in &order {
        let more = u32::from(cols[i].want.saturating_sub(widths[i])).min(left);
        widths[i] += more as u16;
        left -= more;
    }
    // Even shares, one cell at a time, so two sparklines side by side stay
    // the same width.
    loop {
        let growing: Vec<usize> = order.iter().copied().filter(|i| widths[*i] < cols[*i].max).collect();
        if growing.is_empty() || left == 0 {
            break;
        }
        let share = (left / growing.len() as u32).max(1);
        for i in growing {
            let more = share.min(u32::from(cols[i].max - widths[i])).min(left);
            widths[i] += more as u16;
            left -= more;
        }
    }
    widths.into_iter().zip(shown).map(|(w, s)| s.then_some(w)).collect()
}

/// Display width of a string, in cells (every glyph used is one cell).
pub fn width(text: &str) -> u16 {
    text.chars().count().min(u16::MAX as usize) as u16
}

/// The rectangles of the shown columns, left to right in `area`.
pub fn rects(area: Rect, widths: &[Option<u16>], gap: u16) -> Vec<Option<Rect>> {
    let mut x = area.x;
    let right = area.right();
    widths
        .iter()
        .map(|w| {
            let w = (*w)?;
            let r = Rect::new(x, area.y, w.min(right.saturating_sub(x)), area.height);
            x = x.saturating_add(w + gap).min(right);
            Some(r)
        })
        .collect()
}

/// One line of pieces fitted to `width`: each piece dropped whole, or cut
/// to its width with a mark (only a text piece ever is), or padded.
pub fn line(pieces: Vec<(Col, Vec<Span<'static>>)>, width: u16) -> Line<'static> {
    let cols: Vec<Col> = pieces.iter().map(|(c, _)| *c).collect();
    let widths = fit(&cols, width, 0);
    let mut out = Vec::new();
    for ((_, spans), w) in pieces.into_iter().zip(widths) {
        if let Some(w) = w {
            out.extend(sized(spans, w));
        }
    }
    Line::from(out)
}

/// Spans cut to `width` cells (the last kept cell an ellipsis) or padded.
pub fn sized(spans: Vec<Span<'static>>, width: u16) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let width = usize::from(width);
    let mut out = Vec::new();
    if total <= width {
        out.extend(spans);
        if total < width {
            out.push(Span::raw(" ".repeat(width - total)));
        }
        return out;
    }
    // Text that ended in a blank (a separator) keeps one after the mark.
    let blank = spans.last().is_some_and(|s| s.content.ends_with(' ')) && width >= 3;
    let mut room = width.saturating_sub(1 + usize::from(blank));
    let mut last_style = ratatui::style::Style::new();
    for span in spans {
        if room == 0 {
            break;
        }
        let n = span.content.chars().count();
        last_style = span.style;
        if n <= room {
            room -= n;
            out.push(span);
        } else {
            out.push(Span::styled(span.content.chars().take(room).collect::<String>(), span.style));
            room = 0;
        }
    }
    if width > 0 {
        out.push(Span::styled("…", last_style));
    }
    if blank {
        out.push(Span::raw(" "));
    }
    out
}

/// Pieces laid out in lines of at most `width` cells, a piece moving to
/// the next line whole when it does not fit; continuation lines start
/// with `indent` blanks. A piece wider than a line is cut there.
pub fn flow(pieces: Vec<Vec<Span<'static>>>, width: u16, indent: u16) -> Vec<Line<'static>> {
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0u16;
    for piece in pieces {
        let w: u16 = piece.iter().map(|s| self::width(&s.content)).sum();
        // A piece too long for any line is cut where it is.
        if used > 0 && used + w > width && w <= width.saturating_sub(indent) {
            lines.push(vec![Span::raw(" ".repeat(usize::from(indent)))]);
            used = indent;
        }
        let room = width.saturating_sub(used);
        let Some(line) = lines.last_mut() else { break };
        if w > room {
            line.extend(sized(piece, room));
            used = width;
        } else {
            line.extend(piece);
            used += w;
        }
    }
    lines.into_iter().map(Line::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_important_columns_are_dropped_whole() {
        let cols = [Col::fixed(10, 0), Col::fixed(5, 2), Col::fixed(5, 1)];
        assert_eq!(fit(&cols, 22, 1), vec![Some(10), Some(5), Some(5)]);
        assert_eq!(fit(&cols, 20, 1), vec![Some(10), None, Some(5)]);
        assert_eq!(fit(&cols, 12, 1), vec![Some(10), None, None]);
        assert_eq!(fit(&cols, 4, 1), vec![None, None, None]);
    }

    #[test]
    fn a_name_is_not_cut_to_keep_a_column_that_matters_less() {
        let cols = [Col::text(4, 12, 0), Col::fixed(6, 3)];
        assert_eq!(fit(&cols, 19, 1), vec![Some(12), Some(6)]);
        assert_eq!(fit(&cols, 18, 1), vec![Some(12), None]);
        assert_eq!(fit(&cols, 8, 1), vec![Some(8), None]);
    }

    #[test]
    fn room_goes_to_what_columns_want_then_to_those_that_stretch() {
        let cols = [Col::text(6, 20, 0), Col::stretch(10, 40, 3), Col::stretch(10, 40, 3)];
        // The name whole comes before a second sparkline; the one left
        // takes the rest.
        assert_eq!(fit(&cols, 38, 1), vec![Some(20), Some(17), None]);
        // The name whole, then the two sparklines share evenly.
        assert_eq!(fit(&cols, 62, 1), vec![Some(20), Some(20), Some(20)]);
        assert_eq!(fit(&cols, 200, 1), vec![Some(20), Some(40), Some(40)]);
    }

    #[test]
    fn text_is_cut_with_a_mark_and_padded_to_its_width() {
        let text = |spans: Vec<Span<'static>>| spans.iter().map(|s| s.content.to_string()).collect::<String>();
        assert_eq!(text(sized(vec![Span::raw("ab"), Span::raw("cdef")], 4)), "abc…");
        assert_eq!(text(sized(vec![Span::raw("ab")], 4)), "ab  ");
        let line =
            line(vec![(Col::fixed(3, 0), vec![Span::raw("123")]), (Col::fixed(4, 1), vec![Span::raw("4567")])], 5);
        assert_eq!(line.to_string(), "123");
    }
}

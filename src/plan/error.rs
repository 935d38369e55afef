//! A plan mistake, located: the file, the line and column, what is wrong
//! and what to write instead.

use std::fmt;

/// A plan mistake: where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub problem: String,
    pub hint: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 && self.column > 0 {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.problem)?;
        } else if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.problem)?;
        } else {
            write!(f, "{}: {}", self.file, self.problem)?;
        }
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanError {}

pub(super) struct Located<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Located<'_> {
    /// The line of a value, for messages that point at it later.
    pub fn line(&self, span: std::ops::Range<usize>) -> usize {
        line_col(self.text, span.start).0
    }

    pub fn at(&self, span: std::ops::Range<usize>, problem: impl Into<String>, hint: impl Into<String>) -> PlanError {
        let (line, column) = line_col(self.text, span.start);
        PlanError { file: self.file.into(), line, column, problem: problem.into(), hint: hint.into() }
    }
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

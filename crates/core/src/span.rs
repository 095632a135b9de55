//! Source positions: byte spans inside a named text, turned into `file:line:column`.

use std::fmt;
use std::ops::Range;

/// A named source text (a profile or world file) that errors point into.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// Shown in messages, usually the file path.
    pub name: &'a str,
    /// The whole text.
    pub text: &'a str,
    /// Where each line starts, found once when the first position is asked for, so
    /// that locating many problems in a large text stays linear.
    line_starts: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> Source<'a> {
    /// A source named `name` holding `text`.
    pub fn new(name: &'a str, text: &'a str) -> Self {
        Self {
            name,
            text,
            line_starts: std::cell::OnceCell::new(),
        }
    }

    /// The 1-based line and column of byte `offset` (clamped to the text).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        // The last line starting at or before `offset`.
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line, column)
    }

    /// A location for byte `offset`.
    pub fn locate(&self, offset: usize) -> Location {
        let (line, column) = self.line_col(offset);
        Location {
            file: self.name.to_owned(),
            line,
            column,
        }
    }

    /// A diagnostic at the start of `span`.
    pub fn error(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location: Some(self.locate(span.start)),
            message: message.into(),
        }
    }
}

/// `file:line:column`, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (or source name).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem found in an input, with where it is when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is, when the input came from a file.
    pub location: Option<Location>,
    /// Lowercase, no trailing period, user input in backticks.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic with no position (input that did not come from a file).
    pub fn bare(message: impl Into<String>) -> Self {
        Self {
            location: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Every problem found while loading one input; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

impl Diagnostics {
    /// The first diagnostic, for callers that show only one.
    pub fn first(&self) -> Option<&Diagnostic> {
        self.0.first()
    }
}

/// Where the text of a TOML string value starts, given the span of the value
/// (which begins at its opening quote). Multi-line strings skip the newline that
/// directly follows the opening delimiter, as TOML does.
pub fn string_content_start(text: &str, value_span: &Range<usize>) -> usize {
    let raw = text.get(value_span.clone()).unwrap_or("");
    let delim = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        3
    } else if raw.starts_with('\'') || raw.starts_with('"') {
        1
    } else {
        0
    };
    let mut start = value_span.start + delim;
    if delim == 3 {
        let rest = text.get(start..).unwrap_or("");
        if rest.starts_with("\r\n") {
            start += 2;
        } else if rest.starts_with('\n') {
            start += 1;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let s = Source::new("f", "ab\ncd\né x");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(4), (2, 2));
        assert_eq!(s.line_col(9), (3, 3));
    }

    #[test]
    fn content_start_skips_quotes_and_leading_newline() {
        let t = "x = '''\nhas(\"a\")'''";
        assert_eq!(string_content_start(t, &(4..t.len())), 8);
        let t = "x = 'has'";
        assert_eq!(string_content_start(t, &(4..t.len())), 5);
    }
}

//! Where something is in a text file: one position type for every reader and every error.
//!
//! Every diagnostic nsgsim prints starts `file:LINE:COLUMN:` — the scenario loader (RON), the
//! timeline's step errors, the importers (JSON, with positions recovered from paths), the flow-log
//! readers, the UTF-8 check. They used to carry three shapes (a `(line, column)` pair, separate
//! optional `line` and `column` fields, and the importers' struct), each formatted by hand. One
//! type with one formatter keeps them agreeing, and lets a report or an editor integration
//! (SARIF regions, the web page) read the numbers instead of parsing the text.
//!
//! Conventions, which editors share: lines and columns are 1-based, a line ends at `\n`, and a
//! column counts **characters** (not bytes): a value after `"é": ` is at the same column as after
//! `"e": `.

use std::fmt;

/// A 1-based line and column in a text; the column counts characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters from the start of the line.
    pub column: usize,
}

impl Position {
    /// The position at `line` and `column` (both 1-based).
    #[must_use]
    pub const fn new(line: usize, column: usize) -> Self {
        Position { line, column }
    }
}

/// `LINE:COLUMN`, the form that follows a file name in a diagnostic.
///
/// # Examples
/// ```
/// use nsgsim::position::Position;
/// assert_eq!(Position::new(12, 27).to_string(), "12:27");
/// ```
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn positions_order_by_line_then_column() {
        assert!(Position::new(2, 1) > Position::new(1, 80));
        assert!(Position::new(2, 5) > Position::new(2, 4));
    }
}

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

    /// The position of `line` and a 1-based column counted in **bytes** (as serde_json counts in
    /// its errors) in `text`, with the column in characters. A column past the end of its line
    /// stays past it by as many columns.
    #[must_use]
    pub fn from_byte_column(text: &str, line: usize, column: usize) -> Self {
        let Some(line_text) = text.split('\n').nth(line.saturating_sub(1)) else {
            return Position { line, column };
        };
        let bytes = column.saturating_sub(1);
        let within = bytes.min(line_text.len());
        Position { line, column: chars_in(&line_text.as_bytes()[..within]) + (bytes - within) + 1 }
    }
}

/// The characters in a run of UTF-8 bytes that starts on a character boundary: the bytes that do
/// not continue a multi-byte sequence. A run cut inside a character counts that character.
#[must_use]
pub fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
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
    fn byte_columns_become_character_columns() {
        assert_eq!(Position::from_byte_column("{\n  \"é\": 1", 2, 9), Position::new(2, 8));
        assert_eq!(Position::from_byte_column("ab", 1, 9), Position::new(1, 9));
        assert_eq!(Position::from_byte_column("ab", 7, 2), Position::new(7, 2));
    }

    #[test]
    fn positions_order_by_line_then_column() {
        assert!(Position::new(2, 1) > Position::new(1, 80));
        assert!(Position::new(2, 5) > Position::new(2, 4));
    }
}

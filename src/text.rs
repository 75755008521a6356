//! Text that came from a user, made safe to print in a message, and files read as UTF-8 with a
//! position when they are not.
//!
//! Every error path echoes the value it refuses, and a value is whatever a file or an argument
//! held: 100 KB of one string, a terminal escape sequence, or a right-to-left override (U+202E)
//! that makes `rule-1` print as something else. So messages show a value through [`shown`]
//! (control and invisible formatting characters escaped, cut to [`MAX_SHOWN_CHARS`]), and the
//! command line passes every message line it prints through [`safe_message`], which does the
//! same to the whole text as a last line of defence (a cause from a library, such as a parser's
//! message quoting the input, never went through [`shown`]).
//!
//! Reading files: [`decode_utf8`] turns bytes into text or says where (line and column) the first
//! byte that is not UTF-8 is, so that every input kind reports invalid UTF-8 like any other error
//! of the file.
//!
//! Nothing here panics or allocates more than a constant factor of its input.

use std::borrow::Cow;
use std::fmt;

/// The most characters of one value a message shows; the rest is counted, not printed.
pub const MAX_SHOWN_CHARS: usize = 200;

/// A run of non-space characters longer than this in a message is cut by [`safe_message`] (to
/// [`MAX_SHOWN_CHARS`]); a little longer than a value, so that ordinary file paths and JSON paths
/// are never cut.
const MAX_TOKEN_CHARS: usize = 256;

/// A message line longer than this keeps its head and its tail (where "valid: …" is written)
/// and says how much of the middle was left out.
const MAX_LINE_CHARS: usize = 4_000;

/// Whether `c` must not reach a terminal as itself: control characters (C0, DEL, C1) and the
/// invisible formatting characters that reorder or hide text (bidirectional controls such as
/// U+202E, zero-width characters, the byte order mark, line and paragraph separators).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Writes `c` escaped when it [`is_unsafe`]: `\n`, `\r`, `\t`, else `\u{202e}`.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    }
}

/// `value` as a message shows it: unsafe characters escaped ([`is_unsafe`]) and, past
/// [`MAX_SHOWN_CHARS`] characters, cut with a count of what was left out
/// (`aaaa… (99800 more characters)`).
///
/// # Examples
/// ```
/// use nsgsim::text::shown;
/// assert_eq!(shown("vm\u{202e}1"), "vm\\u{202e}1");
/// assert!(shown(&"x".repeat(1000)).ends_with("… (800 more characters)"));
/// ```
pub fn shown(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(MAX_SHOWN_CHARS + 32));
    let mut chars = value.chars();
    let mut written = 0;
    for c in chars.by_ref() {
        push_escaped(&mut out, c);
        written += 1;
        if written == MAX_SHOWN_CHARS {
            break;
        }
    }
    let rest = chars.count();
    if rest > 0 {
        out.push_str(&format!("… ({rest} more character{})", if rest == 1 { "" } else { "s" }));
    }
    out
}

/// `text` with every unsafe character escaped except line breaks, or `text` itself when it has
/// none.
fn escape_keeping_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c == '\n' { out.push('\n') } else { push_escaped(&mut out, c) }
    }
    Cow::Owned(out)
}

/// One line with every run of non-space characters longer than [`MAX_TOKEN_CHARS`] cut to
/// [`MAX_SHOWN_CHARS`], and then, if still longer than [`MAX_LINE_CHARS`], its middle left out.
fn cut_line(line: &str) -> Cow<'_, str> {
    let count = line.chars().count();
    let longest_token = line.split(' ').map(|t| t.chars().count()).max().unwrap_or(0);
    if longest_token <= MAX_TOKEN_CHARS && count <= MAX_LINE_CHARS {
        return Cow::Borrowed(line);
    }
    let mut out = String::new();
    for (i, token) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let n = token.chars().count();
        if n > MAX_TOKEN_CHARS {
            out.extend(token.chars().take(MAX_SHOWN_CHARS));
            out.push_str(&format!("… ({} more characters)", n - MAX_SHOWN_CHARS));
        } else {
            out.push_str(token);
        }
    }
    let n = out.chars().count();
    if n <= MAX_LINE_CHARS {
        return Cow::Owned(out);
    }
    let head_len = MAX_LINE_CHARS / 2;
    let tail_len = MAX_LINE_CHARS / 4;
    let head: String = out.chars().take(head_len).collect();
    let tail: String = out.chars().skip(n - tail_len).collect();
    Cow::Owned(format!("{head} … ({} characters left out) … {tail}", n - head_len - tail_len))
}

/// A message made safe to print: unsafe characters escaped (line breaks kept), over-long values
/// cut, and over-long lines shortened in the middle. Applied by the command line to every error
/// and warning it prints, whatever built the message.
///
/// # Examples
/// ```
/// use nsgsim::text::safe_message;
/// assert_eq!(safe_message("bad name 'a\u{1b}[2J'"), "bad name 'a\\u{1b}[2J'");
/// let long = format!("'{}' is not a port", "9".repeat(100_000));
/// assert!(safe_message(&long).len() < 300);
/// ```
pub fn safe_message(text: &str) -> String {
    let escaped = escape_keeping_lines(text);
    let mut out = String::with_capacity(escaped.len().min(MAX_LINE_CHARS * 2));
    for (i, line) in escaped.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&cut_line(line));
    }
    out
}

/// Where a file stops being UTF-8: the 1-based line and column (in characters) of the first bad
/// byte, and the bad bytes themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotUtf8 {
    /// Where the first bad byte is (the column counts the characters before it on its line).
    pub position: crate::position::Position,
    /// The invalid sequence (one to three bytes), or empty when the file ends inside a character.
    pub bytes: Vec<u8>,
}

impl fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes.is_empty() {
            f.write_str("the file ends in the middle of a UTF-8 character")?;
        } else {
            let hex: Vec<String> = self.bytes.iter().map(|b| format!("0x{b:02X}")).collect();
            write!(f, "byte {} is not valid UTF-8", hex.join(" "))?;
        }
        f.write_str("; valid: text encoded as UTF-8 (save the file as UTF-8)")
    }
}

impl std::error::Error for NotUtf8 {}

/// What [`NotUtf8`] says of the first invalid sequence in `bytes` (the byte, and what is valid),
/// for readers that track the line and column themselves.
///
/// # Examples
/// ```
/// let bytes = b"ab\xFEc";
/// let error = std::str::from_utf8(bytes).expect_err("not UTF-8");
/// assert_eq!(
///     nsgsim::text::not_utf8_message(bytes, error),
///     "byte 0xFE is not valid UTF-8; valid: text encoded as UTF-8 (save the file as UTF-8)"
/// );
/// ```
pub fn not_utf8_message(bytes: &[u8], error: std::str::Utf8Error) -> String {
    let good = error.valid_up_to();
    let bad = error.error_len().map_or(&[][..], |n| bytes.get(good..good + n).unwrap_or_default());
    NotUtf8 { position: crate::position::Position::new(0, 0), bytes: bad.to_vec() }.to_string()
}

/// `bytes` as text, or where the first byte that is not UTF-8 is.
///
/// # Errors
/// [`NotUtf8`] with the line and column of the first invalid byte.
///
/// # Examples
/// ```
/// use nsgsim::text::decode_utf8;
/// let err = decode_utf8(b"ok\nab\xFFc".to_vec()).expect_err("not UTF-8");
/// assert_eq!(err.position.to_string(), "2:3");
/// assert_eq!(err.to_string(), "byte 0xFF is not valid UTF-8; valid: text encoded as UTF-8 (save the file as UTF-8)");
/// ```
pub fn decode_utf8(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    String::from_utf8(bytes).map_err(|e| {
        let error = e.utf8_error();
        let bytes = e.as_bytes();
        let good = error.valid_up_to();
        // The prefix is valid UTF-8 by definition of `valid_up_to`.
        let before = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let bad = match error.error_len() {
            Some(n) => bytes[good..good + n].to_vec(),
            None => Vec::new(),
        };
        NotUtf8 { position: crate::position::Position::new(line, column), bytes: bad }
    })
}

/// Why a text file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be read at all (missing, a directory, no permission).
    Io(std::io::Error),
    /// The file was read but is not UTF-8.
    NotUtf8(NotUtf8),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read the file: {e}"),
            ReadError::NotUtf8(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads the file at `path` as UTF-8 text; where it is not UTF-8, says where.
///
/// # Errors
/// [`ReadError::Io`] when the file cannot be read, [`ReadError::NotUtf8`] with the position of
/// the first byte that is not UTF-8.
pub fn read_file(path: &std::path::Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(ReadError::Io)?;
    decode_utf8(bytes).map_err(ReadError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_escapes_controls_and_bidi_and_cuts() {
        assert_eq!(shown("plain-name_1"), "plain-name_1");
        assert_eq!(shown("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(shown("\u{1b}[31mred"), "\\u{1b}[31mred");
        for c in ['\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\u{85}', '\u{7F}', '\u{2028}'] {
            let s = shown(&format!("x{c}y"));
            assert!(!s.contains(c), "{c:?} printed as itself: {s}");
            assert!(s.starts_with("x\\u{") && s.ends_with("}y"), "{s}");
        }
        // Other non-ASCII text is printed as written.
        assert_eq!(shown("réseau-東京"), "réseau-東京");
        let long = "é".repeat(MAX_SHOWN_CHARS + 5);
        let cut = shown(&long);
        assert!(cut.starts_with(&"é".repeat(MAX_SHOWN_CHARS)), "{cut}");
        assert!(cut.ends_with("… (5 more characters)"), "{cut}");
        assert_eq!(shown(&"x".repeat(MAX_SHOWN_CHARS + 1)).matches('x').count(), MAX_SHOWN_CHARS);
        assert!(shown(&"x".repeat(MAX_SHOWN_CHARS + 1)).ends_with("(1 more character)"));
        assert_eq!(shown(&"x".repeat(MAX_SHOWN_CHARS)), "x".repeat(MAX_SHOWN_CHARS));
    }

    #[test]
    fn safe_message_escapes_cuts_and_keeps_lines() {
        assert_eq!(safe_message("a: 'b'\nc: 'd'"), "a: 'b'\nc: 'd'");
        assert_eq!(safe_message("a\u{202E}b\r"), "a\\u{202e}b\\r");
        let value = "7".repeat(100_000);
        let message = format!("file.ron:1:2: field: '{value}' is not a port; valid: 0-65535");
        let safe = safe_message(&message);
        assert!(safe.starts_with("file.ron:1:2: field: '777"), "{safe}");
        assert!(safe.ends_with("(99802 more characters) is not a port; valid: 0-65535"), "{safe}");
        // Many short words: the line keeps its head and its tail.
        let words = format!("start {} valid: the end", "ab ".repeat(50_000));
        let safe = safe_message(&words);
        assert!(safe.len() < MAX_LINE_CHARS + 100, "{}", safe.len());
        assert!(safe.starts_with("start ab") && safe.ends_with("valid: the end"), "{safe}");
        assert!(safe.contains("characters left out"), "{safe}");
        // A long but ordinary path is not cut.
        let path = format!("{}/scenario.ron", "dir/".repeat(50));
        assert_eq!(safe_message(&path), path);
    }

    #[test]
    fn decode_utf8_names_line_column_and_bytes() {
        assert_eq!(decode_utf8(b"fine \xC3\xA9".to_vec()).as_deref(), Ok("fine é"));
        let err = decode_utf8(b"l1\n\xC3\xA9\xC3(".to_vec()).expect_err("bad");
        assert_eq!((err.position.line, err.position.column, err.bytes.clone()), (2, 2, vec![0xC3]));
        let err = decode_utf8(b"abc\xE2\x82".to_vec()).expect_err("truncated");
        assert_eq!((err.position.line, err.position.column), (1, 4));
        assert!(err.bytes.is_empty() && err.to_string().starts_with("the file ends"), "{err}");
        let err = decode_utf8(b"\xFF".to_vec()).expect_err("bad");
        assert_eq!((err.position.line, err.position.column), (1, 1));
    }
}

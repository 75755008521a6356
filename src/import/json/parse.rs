//! The parser: bytes to a positioned [`Node`] tree, accepting ARM's comments and multi-line
//! strings (see the module docs of [`super`]).
//!
//! A hand-written recursive descent over the bytes of a string already checked to be UTF-8.
//! Structure characters (`{ } [ ] : , " \ /`) are ASCII and never part of a multi-byte
//! sequence, so scanning bytes is safe; columns are counted in characters by counting the bytes
//! that start one. Node starts are met in increasing order, so the column of each is counted
//! from the previous one on the same line: linear in the input, even for a one-line file.

use std::collections::HashMap;

use super::{Node, Object, Value};
use crate::import::json_position::Position;

/// The deepest nesting of arrays and objects read (Azure's own limits are far lower; this guards
/// the stack against arbitrary input).
pub const MAX_DEPTH: usize = 256;

/// The largest input read: 64 MiB, forty times the largest published template nsgsim knows
/// (1.6 MB). Larger inputs are refused before anything is allocated for them.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Objects with more members than this find duplicate keys through a hash map while parsing,
/// so that a huge object cannot make parsing quadratic.
const LINEAR_KEYS: usize = 16;

/// Why a text is not JSON as ARM reads it, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the problem is (for bad UTF-8, the first bad byte, as the column of its character).
    pub position: Position,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.position, self.message)
    }
}

/// Parses one JSON value (with ARM's leniencies) from `bytes`.
///
/// # Errors
/// Input over [`MAX_INPUT_BYTES`], text that is not UTF-8, nesting deeper than [`MAX_DEPTH`], or
/// anything that is not one JSON value followed by whitespace and comments.
pub fn parse(bytes: &[u8]) -> Result<Node, SyntaxError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(SyntaxError {
            position: Position { line: 1, column: 1 },
            message: format!(
                "the input is {} bytes; nsgsim reads at most {} MiB",
                bytes.len(),
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return Err(bad_utf8(bytes, e.valid_up_to())),
    };
    let start = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let mut p = Parser { text, bytes, pos: start, line: 1, line_start: start, col_at: (start, 1) };
    p.skip_blank()?;
    let root = p.value(0)?;
    p.skip_blank()?;
    if p.pos < bytes.len() {
        return Err(p.error_here(format!("unexpected {} after the JSON value", p.found())));
    }
    Ok(root)
}

/// The error for invalid UTF-8 at byte `bad` of `bytes` (everything before it is valid).
fn bad_utf8(bytes: &[u8], bad: usize) -> SyntaxError {
    let before = &bytes[..bad];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
    let mut column = before[line_start..].iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
    if line_start == 0 && before.starts_with("\u{feff}".as_bytes()) {
        column -= 1;
    }
    SyntaxError {
        position: Position { line: before.iter().filter(|&&b| b == b'\n').count() + 1, column },
        message: format!(
            "not UTF-8: byte 0x{:02X} does not start or continue a character here; save the file as UTF-8",
            bytes[bad]
        ),
    }
}

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    /// The current line (1-based) and the byte offset where it starts.
    line: usize,
    line_start: usize,
    /// A byte offset on the current line and its column, to count the next column from.
    col_at: (usize, usize),
}

impl Parser<'_> {
    /// The position of byte offset `offset` on the current line (at or after `col_at`).
    fn position(&mut self, offset: usize) -> Position {
        let (from, col) = if self.col_at.0 >= self.line_start && self.col_at.0 <= offset {
            self.col_at
        } else {
            (self.line_start, 1)
        };
        let column = col + self.bytes[from..offset].iter().filter(|&&b| b & 0xC0 != 0x80).count();
        self.col_at = (offset, column);
        Position { line: self.line, column }
    }

    fn error_here(&mut self, message: String) -> SyntaxError {
        SyntaxError { position: self.position(self.pos), message }
    }

    fn error_at(&mut self, at: Position, message: String) -> SyntaxError {
        SyntaxError { position: at, message }
    }

    /// What is at the current position, for messages: a quoted character or the end.
    fn found(&self) -> String {
        match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            Some(c) => format!("'{}'", super::shorten(&c.to_string())),
            None => "the end of the input".into(),
        }
    }

    fn newline(&mut self, at: usize) {
        self.line += 1;
        self.line_start = at + 1;
        self.col_at = (at + 1, 1);
    }

    /// Skips whitespace and comments.
    fn skip_blank(&mut self) -> Result<(), SyntaxError> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\n') => {
                    self.newline(self.pos);
                    self.pos += 1;
                }
                Some(b'/') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                    while let Some(&b) = self.bytes.get(self.pos) {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.bytes.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.position(self.pos);
                    self.pos += 2;
                    loop {
                        match self.bytes.get(self.pos) {
                            None => {
                                return Err(self.error_at(start, "a /* comment is not closed by */".into()));
                            }
                            Some(b'*') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(b'\n') => {
                                self.newline(self.pos);
                                self.pos += 1;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let position = self.position(self.pos);
        let value = match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth, position)?,
            Some(b'[') => self.array(depth, position)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => self.number(position)?,
            Some(b't') if self.bytes[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Value::Bool(true)
            }
            Some(b'f') if self.bytes[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Value::Bool(false)
            }
            Some(b'n') if self.bytes[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Value::Null
            }
            _ => return Err(self.error_here(format!("expected a value, found {}", self.found()))),
        };
        Ok(Node { value, position })
    }

    fn nest(&mut self, depth: usize, at: Position) -> Result<(), SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(self.error_at(
                at,
                format!("arrays and objects nest more than {MAX_DEPTH} levels deep here; nsgsim reads at most {MAX_DEPTH}"),
            ));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize, at: Position) -> Result<Value, SyntaxError> {
        self.nest(depth, at)?;
        self.pos += 1;
        let mut members: Vec<(String, Node)> = Vec::new();
        let mut keys_at: Vec<Option<Position>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        self.skip_blank()?;
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(Object::from_distinct(members, keys_at)));
        }
        loop {
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self
                    .error_here(format!("expected a member name in double quotes, found {}", self.found())));
            }
            let key_at = self.position(self.pos);
            let key = self.string()?;
            self.skip_blank()?;
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(
                    self.error_here(format!("expected ':' after the member name, found {}", self.found()))
                );
            }
            self.pos += 1;
            self.skip_blank()?;
            let node = self.value(depth + 1)?;
            // A key given again (in any case, as ARM compares them) replaces the first.
            let existing = if members.len() < LINEAR_KEYS {
                members.iter().position(|(k, _)| k.eq_ignore_ascii_case(&key))
            } else {
                if index.is_empty() {
                    for (i, (k, _)) in members.iter().enumerate() {
                        index.insert(k.to_ascii_lowercase(), i);
                    }
                }
                index.get(&key.to_ascii_lowercase()).copied()
            };
            match existing {
                Some(i) => {
                    members[i] = (key, node);
                    keys_at[i] = Some(key_at);
                }
                None => {
                    if !index.is_empty() {
                        index.insert(key.to_ascii_lowercase(), members.len());
                    }
                    members.push((key, node));
                    keys_at.push(Some(key_at));
                }
            }
            self.skip_blank()?;
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_blank()?;
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(Object::from_distinct(members, keys_at)));
                }
                _ => {
                    return Err(self.error_here(format!(
                        "expected ',' or '}}' after an object member, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    fn array(&mut self, depth: usize, at: Position) -> Result<Value, SyntaxError> {
        self.nest(depth, at)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_blank()?;
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_blank()?;
            match self.bytes.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_blank()?;
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => {
                    return Err(self.error_here(format!(
                        "expected ',' or ']' after an array item, found {}",
                        self.found()
                    )));
                }
            }
        }
    }

    /// A string literal at `pos` (its opening quote), unescaped. Raw line breaks and other
    /// control characters are kept, as ARM keeps them.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.position(self.pos);
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err(self.error_at(open, "a string is not closed by '\"'".into())),
                Some(b'"') => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\n') => {
                    self.newline(self.pos);
                    self.pos += 1;
                }
                Some(b'\\') => {
                    out.push_str(&self.text[run..self.pos]);
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// One escape sequence at `pos` (its backslash), appended to `out`.
    fn escape(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let at = self.position(self.pos);
        let c = match self.bytes.get(self.pos + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let high = self.hex4(self.pos + 2).ok_or_else(|| self.bad_unicode(at))?;
                self.pos += 6;
                let c = if (0xD800..0xDC00).contains(&high) {
                    let low = (self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u"))
                        .then(|| self.hex4(self.pos + 2))
                        .flatten()
                        .filter(|low| (0xDC00..0xE000).contains(low))
                        .ok_or_else(|| self.bad_unicode(at))?;
                    self.pos += 6;
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                } else {
                    char::from_u32(high)
                };
                out.push(c.ok_or_else(|| self.bad_unicode(at))?);
                return Ok(());
            }
            _ => {
                self.pos += 1;
                return Err(self.error_at(
                    at,
                    format!(
                        "unknown escape '\\{}' in a string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                        self.found().trim_matches('\'')
                    ),
                ));
            }
        };
        self.pos += 2;
        out.push(c);
        Ok(())
    }

    fn bad_unicode(&self, at: Position) -> SyntaxError {
        SyntaxError {
            position: at,
            message: "a \\u escape must be four hex digits naming a character (a surrogate pair for one above U+FFFF)"
                .into(),
        }
    }

    fn hex4(&self, from: usize) -> Option<u32> {
        let digits = self.text.get(from..from + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }

    fn number(&mut self, at: Position) -> Result<Value, SyntaxError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - from
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let whole = digits(self);
        let mut integer = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            integer = false;
            if digits(self) == 0 {
                return Err(self.error_here(format!("expected a digit after '.', found {}", self.found())));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(
                    self.error_here(format!("expected a digit in the exponent, found {}", self.found()))
                );
            }
        }
        let text = &self.text[start..self.pos];
        if whole == 0 {
            return Err(self.error_at(at, format!("'{}' is not a number", super::shorten(text))));
        }
        let number = if integer {
            text.parse::<i64>()
                .map(serde_json::Number::from)
                .or_else(|_| text.parse::<u64>().map(serde_json::Number::from))
                .ok()
                .or_else(|| text.parse::<f64>().ok().and_then(serde_json::Number::from_f64))
        } else {
            text.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
        };
        match number {
            Some(n) => Ok(Value::Number(n)),
            None => Err(self.error_at(at, format!("the number {} is out of range", super::shorten(text)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (usize, usize, String) {
        let e = parse(text.as_bytes()).expect_err("not JSON");
        (e.position.line, e.position.column, e.message)
    }

    fn pos(node: &Node) -> (usize, usize) {
        (node.position.line, node.position.column)
    }

    #[test]
    fn values_are_placed_where_they_start_in_characters() {
        let text = "{\n  \"é→\": [1, {\"b\": \"x\"}],\n  \"n\": null }";
        let root = parse(text.as_bytes()).expect("JSON");
        assert_eq!(pos(&root), (1, 1));
        let list = root.get("é→").and_then(Node::as_array).expect("array");
        assert_eq!(pos(root.get("é→").expect("member")), (2, 9));
        assert_eq!(pos(&list[0]), (2, 10));
        assert_eq!(pos(list[1].get("b").expect("b")), (2, 19));
        assert_eq!(pos(root.get("n").expect("n")), (3, 8));
    }

    #[test]
    fn arm_leniencies_comments_multi_line_strings_and_a_byte_order_mark() {
        let text =
            "\u{feff}{ // a comment\n  /* block\n comment */ \"a\": \"line one\nline two\", \"b\": /**/ 2 }";
        let root = parse(text.as_bytes()).expect("ARM JSON");
        assert_eq!(root.get("a").and_then(Node::as_str), Some("line one\nline two"));
        // After the multi-line string, lines count on.
        assert_eq!(pos(root.get("b").expect("b")), (4, 22));
        // The byte order mark is not a column.
        assert_eq!(pos(&root), (1, 1));
        let e = parse("\u{feff}[x]".as_bytes()).expect_err("bad");
        assert_eq!((e.position.line, e.position.column), (1, 2));
    }

    #[test]
    fn escapes_are_read_and_bad_ones_are_placed() {
        let root = parse(br#"["a\"b\\c\/\n\u00e9\ud83d\ude00"]"#).expect("JSON");
        assert_eq!(root.as_array().and_then(|a| a[0].as_str()), Some("a\"b\\c/\n\u{e9}\u{1f600}"));
        let (l, c, m) = err(r#"["ab\q"]"#);
        assert_eq!((l, c), (1, 5));
        assert!(m.contains("unknown escape '\\q'"), "{m}");
        let (_, c, m) = err(r#"["\ud83d"]"#);
        assert_eq!(c, 3);
        assert!(m.contains("surrogate pair"), "{m}");
        assert!(err(r#"["\u12"]"#).2.contains("four hex digits"));
    }

    #[test]
    fn syntax_errors_say_what_was_expected_where() {
        assert_eq!(err("{ \"resources\": [ }"), (1, 18, "expected a value, found '}'".into()));
        assert_eq!(err("[1 2]"), (1, 4, "expected ',' or ']' after an array item, found '2'".into()));
        assert_eq!(err("{\"a\" 1}"), (1, 6, "expected ':' after the member name, found '1'".into()));
        assert_eq!(err("{a: 1}"), (1, 2, "expected a member name in double quotes, found 'a'".into()));
        assert_eq!(err("[1] x"), (1, 5, "unexpected 'x' after the JSON value".into()));
        assert_eq!(err(""), (1, 1, "expected a value, found the end of the input".into()));
        assert_eq!(err("\n  \"open"), (2, 3, "a string is not closed by '\"'".into()));
        assert_eq!(err("[1, /* open"), (1, 5, "a /* comment is not closed by */".into()));
        assert_eq!(err("[-]").2, "'-' is not a number");
        assert_eq!(err("[1.]").2, "expected a digit after '.', found ']'");
        assert_eq!(err("[1e999]").2, "the number 1e999 is out of range");
        // A control character is shown escaped.
        assert_eq!(err("[\u{1}]").2, "expected a value, found '\\u{1}'");
    }

    #[test]
    fn numbers_keep_integers_exact() {
        let root = parse(b"[0, -7, 9223372036854775807, 18446744073709551615, 1.5e2, 99999999999999999999]")
            .expect("JSON");
        let n: Vec<String> =
            root.as_array().expect("array").iter().map(|n| n.to_json().to_string()).collect();
        assert_eq!(n, ["0", "-7", "9223372036854775807", "18446744073709551615", "150.0", "1e+20"]);
    }

    #[test]
    fn invalid_utf8_is_placed_at_the_bad_byte() {
        let mut bytes = b"{\n  \"na\xC3\xA9me\": \"caf".to_vec();
        bytes.push(0xE9);
        bytes.extend_from_slice(b"\"}");
        let e = parse(&bytes).expect_err("Latin-1");
        assert_eq!((e.position.line, e.position.column), (2, 16));
        assert!(e.message.contains("byte 0xE9"), "{}", e.message);
        let e = parse(b"\xEF\xBB\xBF[\xFF]").expect_err("bad");
        assert_eq!((e.position.line, e.position.column), (1, 2));
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        let e = parse(deep.as_bytes()).expect_err("too deep");
        assert_eq!((e.position.line, e.position.column), (1, MAX_DEPTH + 1));
        assert!(e.message.contains("nest more than 256"), "{}", e.message);
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let big = vec![b' '; MAX_INPUT_BYTES + 1];
        assert!(parse(&big).expect_err("too big").message.contains("at most 64 MiB"));
    }

    #[test]
    fn duplicate_keys_keep_the_last_in_any_case_even_in_large_objects() {
        let root = parse(br#"{"k": 1, "K": 2}"#).expect("JSON");
        let o = root.as_object().expect("object");
        assert_eq!((o.len(), o.get("k").map(Node::to_json)), (1, Some(serde_json::json!(2))));
        let members: Vec<String> = (0..100).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}, \"K50\": \"again\"}}", members.join(", "));
        let root = parse(text.as_bytes()).expect("JSON");
        let o = root.as_object().expect("object");
        assert_eq!(o.len(), 100);
        assert_eq!(o.get("k50").and_then(Node::as_str), Some("again"));
    }

    #[test]
    fn a_long_single_line_is_parsed_in_linear_time() {
        // 200,000 values on one line: counting each column from the line's start would take
        // billions of steps.
        let text = format!("[{}]", vec!["\"é\""; 200_000].join(","));
        let root = parse(text.as_bytes()).expect("JSON");
        let last = root.as_array().and_then(|a| a.last()).expect("items");
        assert_eq!(pos(last), (1, 2 + 199_999 * 4));
    }

    /// Random mutations of real inputs never panic: every outcome is a tree or a positioned
    /// error inside the text.
    #[test]
    fn mutated_inputs_never_panic() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import");
        let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .expect("the fixtures are readable")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| std::fs::read(p).ok())
            .collect();
        seeds.sort();
        assert!(seeds.len() > 5);
        let edits = proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..8);
        let mut runner = TestRunner::new(Config { cases: 512, ..Config::default() });
        runner
            .run(&(0..seeds.len(), edits), |(which, edits)| {
                let mut bytes = seeds[which].clone();
                for (at, byte, op) in edits {
                    let i = at.index(bytes.len().max(1)).min(bytes.len());
                    match op {
                        0 => bytes.insert(i, byte),
                        1 if i < bytes.len() => bytes[i] = byte,
                        2 if i < bytes.len() => {
                            bytes.remove(i);
                        }
                        _ => bytes.truncate(i),
                    }
                }
                if let Err(e) = parse(&bytes) {
                    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
                    prop_assert!(e.position.line >= 1 && e.position.line <= lines);
                    prop_assert!(e.position.column >= 1);
                }
                Ok(())
            })
            .expect("no input panics the parser");
    }
}

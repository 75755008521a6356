//! Just enough JSON for flow logs, read in place: a cursor that validates as it walks one value
//! held in memory (a flow-log record), and a scanner that finds where a value ends in a stream so
//! that records can be cut out of it one by one.
//!
//! Why not serde_json: its DOM (`Value`) holds a `String` per tuple and the whole document, and
//! its streaming deserializer reports no position for a value that parsed but is wrong (a bad
//! tuple), which every error here must carry. The cursor hands out string slices of the record's
//! own bytes (a tuple is unescaped only in the rare case that it has an escape), reports syntax
//! errors at the byte where they are, and is walked once per record. Measured on the generated
//! 1,000,000-tuple log (docs in `super`): cutting records and walking them costs less than
//! parsing the tuples themselves.

use std::borrow::Cow;

/// A syntax error at a byte offset of the text being read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Byte offset of the offending byte (or of the end, when the text ends too soon).
    pub offset: usize,
    /// What was wrong.
    pub message: String,
}

/// The maximum nesting of a record (Network Watcher's records nest 7 deep).
const MAX_DEPTH: usize = 64;

fn describe(b: Option<u8>) -> String {
    match b {
        None => "the end of the record".into(),
        Some(b) if b.is_ascii_graphic() => format!("'{}'", b as char),
        Some(b) => format!("byte 0x{b:02x}"),
    }
}

/// A position in one JSON value held in memory.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

/// What a value is, by its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Other,
}

impl<'a> Cursor<'a> {
    /// A cursor at `pos` of `text`.
    pub fn new(text: &'a str, pos: usize) -> Cursor<'a> {
        Cursor { text, pos }
    }

    /// The byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError { offset: self.pos, message: message.into() })
    }

    /// Skips whitespace.
    pub fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// The kind of the value at the cursor (after whitespace).
    pub fn kind(&mut self) -> Kind {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            _ => Kind::Other,
        }
    }

    /// Reads a string at the cursor: its text, unescaped only when it has escapes.
    pub fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return self.error(format!("expected a string, found {}", describe(self.peek())));
        }
        self.pos += 1;
        let start = self.pos;
        let bytes = self.bytes();
        let Some(i) = memchr::memchr2(b'"', b'\\', &bytes[self.pos..]) else {
            self.pos = bytes.len();
            return self.error("a string is not closed");
        };
        let at = self.pos + i;
        // Checked over the whole run at once (it vectorises); found only on error.
        if bytes[self.pos..at].iter().fold(false, |any, &b| any | (b < 0x20)) {
            self.pos += bytes[self.pos..at].iter().position(|&b| b < 0x20).unwrap_or(0);
            return self.error("a control character inside a string (write it as an escape)");
        }
        self.pos = at;
        if bytes[at] == b'"' {
            self.pos += 1;
            return Ok(Cow::Borrowed(&self.text[start..at]));
        }
        // An escape: unescape the whole string.
        self.escaped(start).map(Cow::Owned)
    }

    /// Unescapes a string that starts at `start` (after its quote); the cursor is at its first
    /// backslash.
    fn escaped(&mut self, start: usize) -> Result<String, SyntaxError> {
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            match self.peek() {
                None => return self.error("a string is not closed"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let unit = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&unit) {
                                if !self.text[self.pos + 1..].starts_with("\\u") {
                                    return self.error("a lone UTF-16 surrogate in a \\u escape");
                                }
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return self.error("a lone UTF-16 surrogate in a \\u escape");
                                }
                                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                unit
                            };
                            match char::from_u32(code) {
                                Some(c) => c,
                                None => return self.error("a lone UTF-16 surrogate in a \\u escape"),
                            }
                        }
                        other => return self.error(format!("an invalid escape \\{}", describe(other))),
                    };
                    out.push(c);
                    self.pos += 1;
                }
                Some(b) if b < 0x20 => {
                    return self.error("a control character inside a string (write it as an escape)");
                }
                Some(_) => {
                    let rest = &self.text[self.pos..];
                    let run = rest.find(['"', '\\']).unwrap_or(rest.len());
                    if let Some(bad) = rest.as_bytes()[..run].iter().position(|&b| b < 0x20) {
                        self.pos += bad;
                        return self.error("a control character inside a string (write it as an escape)");
                    }
                    out.push_str(&rest[..run]);
                    self.pos += run;
                }
            }
        }
    }

    /// Four hex digits after `\u` (the cursor is at the `u`); leaves the cursor at the last one.
    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self.text.get(self.pos + 1..self.pos + 5).unwrap_or("");
        match u32::from_str_radix(digits, 16) {
            Ok(v) if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(v)
            }
            _ => self.error("\\u must be followed by four hex digits"),
        }
    }

    /// Skips (and validates) one value; returns where it starts.
    pub fn skip(&mut self) -> Result<usize, SyntaxError> {
        self.skip_value(0)
    }

    fn skip_value(&mut self, depth: usize) -> Result<usize, SyntaxError> {
        self.skip_ws();
        let start = self.pos;
        if depth > MAX_DEPTH {
            return self.error(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        match self.peek() {
            Some(b'"') => {
                self.string()?;
            }
            Some(b'{') => {
                let mut members = self.members()?;
                while members.next_key(self)?.is_some() {
                    self.skip_value(depth + 1)?;
                }
            }
            Some(b'[') => {
                let mut items = self.items()?;
                while items.next(self)? {
                    self.skip_value(depth + 1)?;
                }
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            other => return self.error(format!("expected a value, found {}", describe(other))),
        }
        Ok(start)
    }

    fn literal(&mut self, word: &str) -> Result<(), SyntaxError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.error(format!("expected a value, found {}", describe(self.peek())))
        }
    }

    /// Reads a number (JSON's grammar) and returns its text.
    pub fn number(&mut self) -> Result<(), SyntaxError> {
        let digits = |c: &mut Cursor<'_>| {
            let from = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
            c.pos > from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return self.error(format!("expected a digit, found {}", describe(self.peek())));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return self.error(format!("expected a digit, found {}", describe(self.peek())));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !digits(self) {
                return self.error(format!("expected a digit, found {}", describe(self.peek())));
            }
        }
        Ok(())
    }

    /// The text of the value starting at `start` up to the cursor.
    pub fn text_since(&self, start: usize) -> &'a str {
        &self.text[start..self.pos]
    }

    /// Enters the object at the cursor.
    pub fn members(&mut self) -> Result<Members, SyntaxError> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return self.error(format!("expected an object, found {}", describe(self.peek())));
        }
        self.pos += 1;
        Ok(Members { first: true })
    }

    /// Enters the array at the cursor.
    pub fn items(&mut self) -> Result<Items, SyntaxError> {
        self.skip_ws();
        if self.peek() != Some(b'[') {
            return self.error(format!("expected an array, found {}", describe(self.peek())));
        }
        self.pos += 1;
        Ok(Items { first: true })
    }

    /// Whitespace, then the end of the text.
    pub fn end(&mut self) -> Result<(), SyntaxError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            other => self.error(format!("trailing characters after the value: {}", describe(other))),
        }
    }
}

/// Walks the members of an object: `while let Some(key) = m.next_key(&mut cursor)? { … }`, where
/// the body reads or skips the value.
#[derive(Debug)]
pub(crate) struct Members {
    first: bool,
}

impl Members {
    /// The next key (the cursor is then at its value), or `None` after the closing brace.
    pub fn next_key<'a>(&mut self, c: &mut Cursor<'a>) -> Result<Option<(Cow<'a, str>, usize)>, SyntaxError> {
        c.skip_ws();
        match c.peek() {
            Some(b'}') => {
                c.pos += 1;
                return Ok(None);
            }
            Some(b',') if !self.first => {
                c.pos += 1;
                c.skip_ws();
            }
            Some(b'"') if self.first => {}
            other if self.first => {
                return c.error(format!("expected a member name or '}}', found {}", describe(other)));
            }
            other => return c.error(format!("expected ',' or '}}', found {}", describe(other))),
        }
        self.first = false;
        let key_at = c.pos;
        let key = c.string()?;
        c.skip_ws();
        if c.peek() != Some(b':') {
            return c.error(format!("expected ':', found {}", describe(c.peek())));
        }
        c.pos += 1;
        c.skip_ws();
        Ok(Some((key, key_at)))
    }
}

/// Walks the items of an array: `while items.next(&mut cursor)? { … }`, where the body reads or
/// skips the item.
#[derive(Debug)]
pub(crate) struct Items {
    first: bool,
}

impl Items {
    /// Whether another item follows (the cursor is then at it).
    pub fn next(&mut self, c: &mut Cursor<'_>) -> Result<bool, SyntaxError> {
        c.skip_ws();
        match c.peek() {
            Some(b']') => {
                c.pos += 1;
                return Ok(false);
            }
            Some(b',') if !self.first => {
                c.pos += 1;
                c.skip_ws();
            }
            _ if self.first => {}
            other => return c.error(format!("expected ',' or ']', found {}", describe(other))),
        }
        self.first = false;
        Ok(true)
    }
}

/// Where the JSON value that starts at `bytes[0]` ends, scanning only its structure (strings,
/// brackets); `Ok(None)` when `bytes` ends first. Brackets must pair up; everything else is
/// checked when the value is read with a [`Cursor`].
pub(crate) fn value_end(bytes: &[u8], stack: &mut Vec<u8>) -> Result<Option<usize>, SyntaxError> {
    scan(bytes, stack, None)
}

/// Where every object and array of one or more values starts and ends (byte offsets, the end
/// just past the closing bracket), in the order they open: the values' structure, found in one
/// pass so that a reader that walks into nested members needs not scan each one again to skip
/// over it.
///
/// The offsets are the chunk's ([`Containers::append`] takes where the value starts in it), so
/// that whoever cut the records hands their structure to the lane that reads them, which then scans nothing again: the
/// scan was ~6 % of a replay's CPU (sixth round of issue 20, `perf record`, one thread).
#[derive(Debug, Default)]
pub struct Containers {
    spans: Vec<(u32, u32)>,
    stack: Vec<u8>,
    open: Vec<usize>,
    /// Where the value being scanned starts in the chunk.
    base: u32,
}

impl Containers {
    /// Scans the value that starts at `bytes[0]`, at offset `base` of the chunk (as
    /// [`value_end`]), adding its containers to those kept; a value that does not end in `bytes`
    /// or is malformed adds none.
    pub(crate) fn append(&mut self, bytes: &[u8], base: usize) -> Result<Option<usize>, SyntaxError> {
        let kept = self.spans.len();
        self.open.clear();
        let Some(base) =
            base.checked_add(bytes.len()).filter(|&e| e <= u32::MAX as usize).map(|_| base as u32)
        else {
            return Ok(None);
        };
        self.base = base;
        let mut stack = std::mem::take(&mut self.stack);
        let result = scan(bytes, &mut stack, Some(self));
        self.stack = stack;
        if !matches!(result, Ok(Some(_))) {
            self.spans.truncate(kept);
        }
        result
    }

    /// The end of the container that starts at `start`, if one does.
    pub(crate) fn end_of(&self, start: usize) -> Option<usize> {
        let i = self.spans.binary_search_by_key(&(start as u64), |s| u64::from(s.0)).ok()?;
        let end = self.spans[i].1 as usize;
        (end > start).then_some(end)
    }
}

fn scan(
    bytes: &[u8],
    stack: &mut Vec<u8>,
    mut index: Option<&mut Containers>,
) -> Result<Option<usize>, SyntaxError> {
    stack.clear();
    let mut i = 0;
    match bytes.first() {
        None => return Ok(None),
        Some(b'{' | b'[') => {}
        Some(b'"') => {
            return Ok(string_end(bytes, 1).map(|e| e + 1));
        }
        Some(_) => {
            // A scalar: up to the next separator.
            return Ok(bytes
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t')));
        }
    }
    while i < bytes.len() {
        match bytes[i] {
            b'"' => match string_end(bytes, i + 1) {
                Some(end) => i = end + 1,
                None => return Ok(None),
            },
            open @ (b'{' | b'[') => {
                if stack.len() > MAX_DEPTH {
                    return Err(SyntaxError {
                        offset: i,
                        message: format!("nested more than {MAX_DEPTH} levels deep"),
                    });
                }
                stack.push(open);
                if let Some(c) = index.as_deref_mut() {
                    c.open.push(c.spans.len());
                    c.spans.push((c.base + i as u32, 0));
                }
                i += 1;
            }
            close @ (b'}' | b']') => {
                let expected = if close == b'}' { b'{' } else { b'[' };
                let open = stack.pop();
                if open != Some(expected) {
                    let message = match open {
                        Some(open) => {
                            format!("'{}' does not close the '{}' before it", close as char, open as char)
                        }
                        None => format!("'{}' closes nothing", close as char),
                    };
                    return Err(SyntaxError { offset: i, message });
                }
                i += 1;
                if let Some(c) = index.as_deref_mut()
                    && let Some(k) = c.open.pop()
                {
                    c.spans[k].1 = c.base + i as u32;
                }
                if stack.is_empty() {
                    return Ok(Some(i));
                }
            }
            _ => {
                // Skip to the next byte of structure. Between the strings of an array of tuples
                // that is a few bytes (`,\n`): look at those directly before searching further.
                let near =
                    bytes[i..].iter().take(8).position(|b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'));
                if let Some(j) = near {
                    i += j;
                    continue;
                }
                match memchr::memchr3(b'"', b'{', b'[', &bytes[i..]) {
                    Some(j) => {
                        let close = memchr::memchr2(b'}', b']', &bytes[i..i + j]);
                        i += close.unwrap_or(j);
                    }
                    None => match memchr::memchr2(b'}', b']', &bytes[i..]) {
                        Some(j) => i += j,
                        None => return Ok(None),
                    },
                }
            }
        }
    }
    Ok(None)
}

/// The offset of the quote that closes a string whose text starts at `from`.
fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let j = memchr::memchr2(b'"', b'\\', &bytes[from..])?;
        if bytes[from + j] == b'"' {
            return Some(from + j);
        }
        from += j + 2;
        if from > bytes.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(text: &str) -> Result<usize, SyntaxError> {
        let mut c = Cursor::new(text, 0);
        c.skip()?;
        c.end()?;
        Ok(c.pos())
    }

    #[test]
    fn valid_values_are_skipped_whole() {
        for text in [
            "{}",
            "[]",
            " {\"a\": [1, -2.5e3, true, false, null, \"x\\\"y\\u00e9\\ud83d\\ude00\"], \"b\": {}} ",
            "\"plain\"",
            "0",
        ] {
            assert!(skip(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn syntax_errors_are_at_the_offending_byte() {
        let at = |text: &str| skip(text).expect_err("invalid").offset;
        assert_eq!(at("{\"a\": }"), 6);
        assert_eq!(at("[1, ]"), 4);
        assert_eq!(at("{\"a\" 1}"), 5);
        assert_eq!(at("[01]"), 2);
        assert_eq!(at("\"a\\qb\""), 3);
        assert_eq!(at("\"a\nb\""), 2);
        assert_eq!(at("[1] x"), 4);
        assert_eq!(at("{\"a\": [1}"), 8);
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut c = Cursor::new("\"1,2,3\"", 0);
        assert!(matches!(c.string(), Ok(Cow::Borrowed("1,2,3"))));
        let mut c = Cursor::new("\"a\\/b\\u0041\"", 0);
        assert_eq!(c.string().expect("valid").as_ref(), "a/bA");
    }

    #[test]
    fn value_ends_are_found_by_structure_across_strings_with_brackets() {
        let mut stack = Vec::new();
        let text = br#"{"a": "}]\"{", "b": [1, {"c": 2}]} , {"#;
        assert_eq!(value_end(text, &mut stack), Ok(Some(34)));
        assert_eq!(value_end(br#"{"a": [1, 2"#, &mut stack), Ok(None));
        assert_eq!(value_end(br#"{"a": "unclosed"#, &mut stack), Ok(None));
        assert_eq!(value_end(b"123,", &mut stack), Ok(Some(3)));
        assert_eq!(value_end(b"\"x\",", &mut stack), Ok(Some(3)));
        assert_eq!(value_end(br#"{"a": [1}"#, &mut stack).map_err(|e| e.offset), Err(8));
    }

    #[test]
    fn containers_are_indexed_in_one_pass() {
        let text = br#"{"a": "[{", "b": [1, {"c": []}], "d": {}} , {"#;
        let mut c = Containers::default();
        assert_eq!(c.append(text, 0), Ok(Some(41)));
        assert_eq!(c.end_of(0), Some(41));
        assert_eq!(c.end_of(17), Some(31));
        assert_eq!(c.end_of(21), Some(30));
        assert_eq!(c.end_of(27), Some(29));
        assert_eq!(c.end_of(38), Some(40));
        assert_eq!(c.end_of(7), None, "inside a string is no container");
        let mut c = Containers::default();
        assert_eq!(c.append(br#"{"a": [1"#, 0), Ok(None));
        assert_eq!(c.end_of(0), None, "an unclosed container has no end");
        // Values appended at their offsets in a chunk, and one that does not end adds nothing.
        let mut c = Containers::default();
        assert_eq!(c.append(br#"{"a": [1]}"#, 100), Ok(Some(10)));
        assert_eq!(c.append(br#"{"b": {}"#, 112), Ok(None));
        assert_eq!(c.append(br#"{"b": {}}"#, 112), Ok(Some(9)));
        assert_eq!(c.end_of(100), Some(110));
        assert_eq!(c.end_of(106), Some(109));
        assert_eq!(c.end_of(112), Some(121));
        assert_eq!(c.end_of(118), Some(120));
    }
}

//! Where in the source text each value was written, so that errors found after parsing (an
//! unknown reference, an address outside its subnet, a priority clash) point at a line and column.
//!
//! RON's parser reports positions only for syntax errors, and serde hands the loader plain values.
//! So once a file has parsed, [`SourceMap::new`] walks the same text again with a small RON
//! scanner and records the byte span of every value under its field path, in the loader's own
//! spelling: `nsgs[0].rules[2].priority`, `timeline[4].action.ports[1]`,
//! `service_tags["Office"]`. Struct and enum-variant names are transparent (`AddRule(nsg: …)` is
//! the value of `action`, its fields are `action.nsg`, …); positional elements of tuples and
//! tuple variants (`("hub", "spoke")`, `Some("x")`, `VirtualAppliance("10.0.0.4")`) are `[i]`.
//!
//! An error then names its field path (a [`FieldPath`], built by the loader) and its offending
//! value; [`SourceMap::find`] looks the path up by its written text (or its longest recorded
//! prefix, for fields left out of the file, found by the path's segments), and points at the value
//! inside that span when it is written there, else at the span's start. Positions therefore come
//! from the entity's own place in the file, never from the first look-alike text elsewhere.
//!
//! The scanner only ever sees text that RON has already accepted; on anything unexpected it stops
//! recording rather than failing, and lookups fall back to shorter prefixes.

use crate::hash::FastBuild;
use crate::position::Position;
use std::collections::HashMap;

use super::FieldPath;

/// Field path → byte span.
///
/// The map is built from the scenario's own text and holds a key per value written (three per
/// timeline step), so it uses nsgsim's fast hasher: SipHash cost a third of loading a long
/// timeline. Keys are boxed (no spare capacity) and the table is sized from the text before the
/// scan (see [`expected_values`]): growing it rehashed every key several times over a
/// million-step timeline.
type Spans = HashMap<Box<str>, (usize, usize), FastBuild>;

/// About how many values `text` holds, counted cheaply: a named field has a `:` and a struct or
/// tuple a `(` (colons inside strings count too, and plain list elements not). Only a size hint
/// for [`Spans`].
fn expected_values(text: &str) -> usize {
    text.bytes().filter(|b| matches!(b, b':' | b'(')).count()
}

/// The byte span of every value of one source text, by field path.
#[derive(Debug, Clone)]
pub struct SourceMap<'a> {
    text: &'a str,
    spans: Spans,
    /// The byte offset of every `\n`, in order: a position is a binary search, not a scan of
    /// the text before it (a loader asks once per timeline step, so a scan made loading
    /// quadratic in the number of steps).
    newlines: Vec<usize>,
}

/// The characters RON skips as whitespace (Unicode's `Pattern_White_Space`, as `ron`'s own
/// parser lists them): the scanner must skip exactly what RON skipped, or it stops recording and
/// every later error loses its position (a fuzzed U+0085 after a value did that).
fn is_ron_whitespace(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\n'
            | '\r'
            | '\x0B'
            | '\x0C'
            | '\u{85}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

impl<'a> SourceMap<'a> {
    /// Scans `text` (which RON has parsed) and records every value's span.
    pub fn new(text: &'a str) -> SourceMap<'a> {
        let spans = Spans::with_capacity_and_hasher(expected_values(text), FastBuild::default());
        let mut scanner =
            Scanner { text, bytes: text.as_bytes(), pos: 0, spans, depth: 0, path: String::new() };
        scanner.skip_trivia();
        // Inner attributes such as `#![enable(implicit_some)]` come before the value.
        while scanner.bytes[scanner.pos..].starts_with(b"#!") {
            while scanner.pos < scanner.bytes.len() && scanner.bytes[scanner.pos] != b']' {
                scanner.pos += 1;
            }
            scanner.pos += 1;
            scanner.skip_trivia();
        }
        scanner.value();
        let newlines = text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i).collect();
        SourceMap { text, spans: scanner.spans, newlines }
    }

    /// The byte span of the value at exactly `path`.
    pub fn span(&self, path: &FieldPath) -> Option<(usize, usize)> {
        self.spans.get(path.to_string().as_str()).copied()
    }

    /// The position of the value at `path` (or of the nearest recorded enclosing
    /// value), pointing at `value` where it is written inside that span.
    pub fn find(&self, path: &FieldPath, value: &str) -> Option<Position> {
        let (start, end) = self.enclosing_span(path)?;
        let inside = &self.text[start..end];
        let offset = if value.is_empty() {
            None
        } else {
            inside.find(&format!("\"{value}\"")).or_else(|| find_word(inside, value))
        };
        Some(self.position(start + offset.unwrap_or(0)))
    }

    /// The position where the value at `path` (or its nearest recorded enclosing
    /// value) starts.
    pub fn start(&self, path: &FieldPath) -> Option<Position> {
        self.enclosing_span(path).map(|(start, _)| self.position(start))
    }

    /// The span of `path`, or of its longest prefix that was written in the file (down to its
    /// root field: a path of the file's root is only found when it is the empty path).
    fn enclosing_span(&self, path: &FieldPath) -> Option<(usize, usize)> {
        // The path itself first: a step's start, looked up for every step, is always written.
        if let Some(span) = self.span(path) {
            return Some(span);
        }
        let (text, ends) = path.written_with_parents();
        ends.into_iter().skip(1).find_map(|end| self.spans.get(&text[..end]).copied())
    }

    /// Converts a byte offset to its 1-based line and column (in characters).
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        // The newlines before `offset`, and where its line starts.
        let before = self.newlines.partition_point(|&n| n < offset);
        let line_start = if before == 0 { 0 } else { self.newlines[before - 1] + 1 };
        let col = self.text.get(line_start..offset).map_or(0, |l| l.chars().count()) + 1;
        Position::new(before + 1, col)
    }
}

/// The offset of `word` where it is not part of a longer identifier or number.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(o, _)| o).find(|&o| {
        let before_ok = text[..o].chars().next_back().is_none_or(|c| !is_ident(c));
        let after_ok = text[o + word.len()..].chars().next().is_none_or(|c| !is_ident(c));
        before_ok && after_ok
    })
}

/// Nesting deeper than this is not recorded (scenario files are a few levels deep; this only
/// bounds the recursion on pathological input).
const MAX_DEPTH: usize = 64;

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    spans: Spans,
    depth: usize,
    /// The field path of the value being scanned: each container appends its element's
    /// segment, scans it and cuts the segment off again, so a path is allocated once, as its
    /// key.
    path: String,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace, line comments and (nested) block comments.
    fn skip_trivia(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_ascii_whitespace() || c == 0x0B => self.pos += 1,
                Some(c) if c >= 0x80 => match self.text[self.pos..].chars().next() {
                    Some(c) if is_ron_whitespace(c) => self.pos += c.len_utf8(),
                    _ => return,
                },
                Some(b'/') if self.bytes.get(self.pos + 1) == Some(&b'/') => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.bytes.get(self.pos + 1) == Some(&b'*') => {
                    let mut nesting = 0usize;
                    while self.pos < self.bytes.len() {
                        if self.bytes[self.pos..].starts_with(b"/*") {
                            nesting += 1;
                            self.pos += 2;
                        } else if self.bytes[self.pos..].starts_with(b"*/") {
                            nesting -= 1;
                            self.pos += 2;
                            if nesting == 0 {
                                break;
                            }
                        } else {
                            self.pos += 1;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// Scans one value and records its span under the current path.
    fn value(&mut self) {
        self.skip_trivia();
        let start = self.pos;
        if self.depth > MAX_DEPTH {
            self.pos = self.bytes.len();
            return;
        }
        self.depth += 1;
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'\'') => self.char_literal(),
            Some(b'r') if self.at_raw_string() => self.raw_string(),
            Some(b'b') if self.bytes.get(self.pos + 1) == Some(&b'"') => {
                self.pos += 1;
                self.string();
            }
            Some(b'[') => self.list(),
            Some(b'{') => self.map(),
            Some(b'(') => self.body(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                self.identifier();
                self.skip_trivia();
                if self.peek() == Some(b'(') {
                    self.body();
                }
            }
            Some(_) => self.atom(),
            None => {}
        }
        self.depth -= 1;
        if self.pos > start {
            self.spans.insert(self.path.as_str().into(), (start, self.pos.min(self.bytes.len())));
        }
    }

    fn string(&mut self) {
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => self.pos += 1,
                b'"' => return,
                _ => {}
            }
        }
    }

    fn char_literal(&mut self) {
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\\' => self.pos += 1,
                b'\'' => return,
                _ => {}
            }
        }
    }

    /// Whether a raw string (`r"…"`, `r#"…"#`) starts at the cursor, rather than a raw
    /// identifier (`r#name`).
    fn at_raw_string(&self) -> bool {
        let hashes = self.bytes[self.pos + 1..].iter().take_while(|&&c| c == b'#').count();
        self.bytes.get(self.pos + 1 + hashes) == Some(&b'"')
    }

    fn raw_string(&mut self) {
        self.pos += 1;
        let mut hashes = 0;
        while self.peek() == Some(b'#') {
            hashes += 1;
            self.pos += 1;
        }
        self.pos += 1;
        let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
        while self.pos < self.bytes.len() && !self.bytes[self.pos..].starts_with(&close) {
            self.pos += 1;
        }
        self.pos += close.len();
    }

    /// An identifier, or a raw identifier (`r#name`, which RON accepts wherever a name goes).
    fn identifier(&mut self) {
        if self.bytes[self.pos..].starts_with(b"r#")
            && self.bytes.get(self.pos + 2).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            self.pos += 2;
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
    }

    /// A number, or anything else up to the next separator.
    fn atom(&mut self) {
        while self.peek().is_some_and(|c| !matches!(c, b',' | b')' | b']' | b'}') && !c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    /// After an element: a comma, or the closing bracket `close` (left for the caller). Returns
    /// false when neither follows (the scan is lost; stop recording this container).
    fn separator(&mut self, close: u8) -> bool {
        self.skip_trivia();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                true
            }
            Some(c) => c == close,
            None => false,
        }
    }

    /// Scans `child` (the segment after the current path: `[3]`, `.name`) as the next value.
    fn child(&mut self, child: std::fmt::Arguments<'_>) {
        use std::fmt::Write as _;
        let len = self.path.len();
        // Writing to a `String` cannot fail.
        let _ = self.path.write_fmt(child);
        self.value();
        self.path.truncate(len);
    }

    fn list(&mut self) {
        self.pos += 1;
        let mut i = 0;
        loop {
            self.skip_trivia();
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    return;
                }
                None => return,
                _ => {}
            }
            let before = self.pos;
            self.child(format_args!("[{i}]"));
            i += 1;
            if self.pos == before || !self.separator(b']') {
                self.pos = self.bytes.len();
                return;
            }
        }
    }

    fn map(&mut self) {
        self.pos += 1;
        loop {
            self.skip_trivia();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return;
                }
                None => return,
                _ => {}
            }
            let key_start = self.pos;
            match self.peek() {
                Some(b'"') => self.string(),
                _ => self.atom(),
            }
            let key_end = self.pos;
            self.skip_trivia();
            if self.peek() != Some(b':') {
                self.pos = self.bytes.len();
                return;
            }
            self.pos += 1;
            // A map entry spans its key and its value, so that an error about the key (a tag
            // that cannot be defined) points at the key.
            let key = self.text[key_start..key_end].trim_matches('"');
            let len = self.path.len();
            self.path.push_str("[\"");
            self.path.push_str(key);
            self.path.push_str("\"]");
            self.value();
            if let Some(span) = self.spans.get_mut(self.path.as_str()) {
                span.0 = key_start;
            }
            self.path.truncate(len);
            if !self.separator(b'}') {
                self.pos = self.bytes.len();
                return;
            }
        }
    }

    /// The inside of `( … )`: named fields (`name: value`) or positional elements.
    fn body(&mut self) {
        self.pos += 1;
        let mut i = 0;
        loop {
            self.skip_trivia();
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    return;
                }
                None => return,
                _ => {}
            }
            let before = self.pos;
            match self.field_name() {
                Some(name) if self.path.is_empty() => self.child(format_args!("{name}")),
                Some(name) => self.child(format_args!(".{name}")),
                None => {
                    self.child(format_args!("[{i}]"));
                    i += 1;
                }
            }
            if self.pos == before || !self.separator(b')') {
                self.pos = self.bytes.len();
                return;
            }
        }
    }

    /// `ident :` (not `::`) at the cursor: consumes it and returns the name.
    fn field_name(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if !self.peek().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
            return None;
        }
        self.identifier();
        // A raw identifier names the field without its `r#`.
        let written = &self.text[start..self.pos];
        let name = written.strip_prefix("r#").unwrap_or(written);
        self.skip_trivia();
        if self.peek() == Some(b':') && self.bytes.get(self.pos + 1) != Some(&b':') {
            self.pos += 1;
            return Some(name);
        }
        self.pos = start;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r##"// a comment with "vm1" and (at: "0") in it
Scenario(
    name: "t", /* block /* nested */ comment */
    service_tags: {"Office": ["203.0.113.0/24"], "Storage.WestEurope": ["20.0.0.0/8"]},
    vnets: [ Vnet(name: "v", address_space: ["10.9.0.0/16"]),
        Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.1.0/24", nsg: Some("n1"))]),
    ],
    peerings: [("v", "w")],
    nsgs: [Nsg(name: "n1", rules: [
        Rule(name: "a", priority: 100, destination_ports: "22,,23", description: r#"raw "quoted" text"#),
        Rule(name: "A", priority: -1, destination_ports: "22"),
    ])],
    timeline: [
        (at: "0", note: "(at: nothing)"),
        (at: "5m", action: EnableJit(vm: "vm1", ports: [Port(number: 22), Port(number: 22)])),
    ],
)
"##;

    #[test]
    fn records_every_value_by_field_path() {
        let map = SourceMap::new(TEXT);
        let at = |path: &FieldPath| map.span(path).map(|(s, e)| &TEXT[s..e]);
        assert_eq!(at(&FieldPath::root("name")), Some("\"t\""));
        assert_eq!(
            at(&FieldPath::root("service_tags").key("Storage.WestEurope").index(0)),
            Some("\"20.0.0.0/8\"")
        );
        assert_eq!(at(&FieldPath::root("vnets").index(1).field("name")), Some("\"v\""));
        assert_eq!(
            at(&FieldPath::root("vnets").index(1).field("subnets").index(0).field("nsg")),
            Some("Some(\"n1\")")
        );
        assert_eq!(
            at(&FieldPath::root("vnets").index(1).field("subnets").index(0).field("nsg").index(0)),
            Some("\"n1\"")
        );
        assert_eq!(at(&FieldPath::root("peerings").index(0).index(1)), Some("\"w\""));
        assert_eq!(
            at(&FieldPath::root("nsgs").index(0).field("rules").index(1).field("priority")),
            Some("-1")
        );
        assert_eq!(
            at(&FieldPath::root("nsgs").index(0).field("rules").index(0).field("description")),
            Some("r#\"raw \"quoted\" text\"#")
        );
        assert_eq!(
            at(&FieldPath::root("timeline").index(1).field("action").field("ports").index(1).field("number")),
            Some("22")
        );
        assert_eq!(at(&FieldPath::root("timeline").index(1).field("action").field("vm")), Some("\"vm1\""));
        assert!(at(&FieldPath::root("timeline").index(1).field("at")).is_some());
        assert_eq!(at(&FieldPath::root("timeline").index(2)), None);
    }

    #[test]
    fn positions_agree_with_counting_lines_and_characters_at_every_offset() {
        let text = format!("{TEXT}\n\"é\": 1,\n\n  x");
        let map = SourceMap::new(&text);
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            assert_eq!(map.position(offset), Position::new(line, column), "offset {offset}");
        }
        assert_eq!(map.position(text.len() + 5), map.position(text.len()));
    }

    /// The position of the `nth` occurrence of `needle` in `TEXT`.
    fn nth(needle: &str, nth: usize) -> Position {
        let (offset, _) = TEXT.match_indices(needle).nth(nth).expect("the needle occurs");
        SourceMap::new(TEXT).position(offset)
    }

    #[test]
    fn finds_the_value_inside_its_own_entity() {
        let map = SourceMap::new(TEXT);
        // The second VNet's name, not the first's.
        assert_eq!(map.find(&FieldPath::root("vnets").index(1).field("name"), "v"), Some(nth("\"v\"", 1)));
        assert_eq!(map.find(&FieldPath::root("vnets").index(0).field("name"), "v"), Some(nth("\"v\"", 0)));
        // The second Port of the step, not the NSG rule's "22" nor the first Port.
        assert_eq!(
            map.find(&FieldPath::root("timeline").index(1).field("action").field("ports").index(1), "22"),
            Some(nth("22)", 1))
        );
        assert_eq!(
            map.find(
                &FieldPath::root("timeline").index(1).field("action").field("ports").index(0).field("number"),
                "22"
            ),
            Some(nth("22)", 0))
        );
        // A rule name differing only in case.
        assert_eq!(
            map.find(&FieldPath::root("nsgs").index(0).field("rules").index(1).field("name"), "A"),
            Some(nth("\"A\"", 0))
        );
        // The value is not written (an empty port entry): the field's start.
        assert_eq!(
            map.find(
                &FieldPath::root("nsgs").index(0).field("rules").index(0).field("destination_ports"),
                ""
            ),
            Some(nth("\"22,,23\"", 0))
        );
        // A value inside a longer string is found where it is written.
        assert_eq!(
            map.find(
                &FieldPath::root("nsgs").index(0).field("rules").index(0).field("destination_ports"),
                "23"
            ),
            Some(nth("23\"", 0))
        );
        // A field left out of the file: its nearest written parent.
        assert_eq!(
            map.find(&FieldPath::root("nsgs").index(0).field("rules").index(1).field("source_ports"), "x"),
            map.start(&FieldPath::root("nsgs").index(0).field("rules").index(1))
        );
        assert_eq!(
            map.start(&FieldPath::root("nsgs").index(0).field("rules").index(1)),
            Some(nth("Rule(name: \"A\"", 0))
        );
        assert_eq!(map.start(&FieldPath::root("timeline").index(1)), Some(nth("(at: \"5m\"", 0)));
        assert_eq!(map.start(&FieldPath::root("service_tags").key("Office")), Some(nth("\"Office\"", 0)));
        assert_eq!(map.start(&FieldPath::root("service_tags").key("Office").index(0)), Some(nth("\"203", 0)));
        assert_eq!(map.find(&FieldPath::root("no_such_field"), "x"), None);
    }

    #[test]
    fn raw_identifiers_name_their_fields_and_keep_later_positions() {
        let text = "Scenario(\n    r#name: \"t\",\n    r#vnets: [r#Vnet(name: \"v\", r#type: r#\"raw\"#)],\n    nsgs: [Nsg(name: \"n\")],\n)";
        let map = SourceMap::new(text);
        let at = |path: &FieldPath| map.span(path).map(|(s, e)| &text[s..e]);
        assert_eq!(at(&FieldPath::root("name")), Some("\"t\""));
        assert_eq!(at(&FieldPath::root("vnets").index(0).field("name")), Some("\"v\""));
        assert_eq!(at(&FieldPath::root("vnets").index(0).field("type")), Some("r#\"raw\"#"));
        assert_eq!(at(&FieldPath::root("nsgs").index(0).field("name")), Some("\"n\""));
        assert_eq!(map.start(&FieldPath::root("nsgs").index(0).field("name")), Some(Position::new(4, 22)));
    }

    #[test]
    fn unicode_whitespace_that_ron_skips_keeps_later_positions() {
        for space in ['\u{85}', '\u{2028}', '\u{200E}', '\x0B', '\x0C'] {
            let text = format!("S(a: [1, 2]{space},\n b: \"x\")");
            let map = SourceMap::new(&text);
            let at = text.find("\"x\"").expect("the value is in the text");
            assert_eq!(map.span(&FieldPath::root("b")).map(|s| s.0), Some(at), "after {:?}", space);
        }
    }
}

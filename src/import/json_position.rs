//! Where a value is in JSON text, found by the JSON path the readers of Azure's JSON print.
//!
//! The importers read JSON through `serde_json::Value`, which keeps no positions, and name what
//! they read by a path of keys and indices (`records[0].properties.flows[1]`). An error found
//! after parsing (a wrong shape, a bad field value) would then name the path only; this module
//! turns the path back into the line and column where that value starts, so that such errors
//! read like the parser's own: `file:LINE:COLUMN: PATH: message`.
//!
//! [`JsonIndex`] scans the raw text once (a small hand-written scanner: strings with their
//! escapes are skipped whole, so braces, brackets and quotes inside them are not structure) and
//! keeps where every value starts and the members and items of every object and array. Lookups
//! then walk the path down that tree. One scan serves any number of lookups, which matters for
//! an import that reports a warning per resource.
//!
//! Conventions, chosen to agree with the other positions nsgsim prints (RON scenario errors, the
//! flow-log CSV reader) and with what editors show:
//! - lines and columns are 1-based; a line ends at `\n`;
//! - a column counts **characters**: a value after `"é": ` on the same line is at the same column
//!   as after `"e": `. serde_json counts bytes in its syntax errors; the readers convert those with
//!   [`from_serde`], so a syntax error and a field error in one file agree;
//! - the text is what serde_json parsed: the readers strip a UTF-8 byte order mark first, so the
//!   mark is not a column;
//! - a key that occurs twice in one object is found at its last occurrence, the one serde_json
//!   keeps.
//!
//! Paths are written as the readers write them: keys joined by `.`, indices as `[i]`, the empty
//! path for the document itself (`a.b[2].c`, `[0].name`). Keys are not escaped, so `a.b` may be
//! the key `a.b` or the key `b` inside `a`; the lookup matches keys against the text, so it takes
//! whichever the text has (the longer key first when both exist).
//!
//! Contract: nothing here panics, whatever the text; text that is not one JSON value has no
//! index ([`JsonIndex::new`] returns `None`), and a path that does not name a value in the text
//! has no position.

use std::borrow::Cow;
use std::path::Path;

pub use crate::position::Position;
use crate::position::chars_in;

/// The position of a serde_json error (`line`, and `column` in bytes, as serde_json counts) in
/// `text`, with the column in characters. A column past the end of its line stays past it by as
/// many columns.
pub fn from_serde(text: &str, line: usize, column: usize) -> Position {
    Position::from_byte_column(text, line, column)
}

/// Where serde_json's syntax error `e` in `text` is (column in characters, see [`from_serde`]),
/// and its message without serde_json's own "at line L column C" (bytes), which the position
/// replaces.
pub fn serde_error(text: &str, e: &serde_json::Error) -> (Position, String) {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&suffix).map_or(message.clone(), str::to_string);
    (from_serde(text, e.line(), e.column()), message)
}

/// `file:LINE:COLUMN` when the position is known, else `file`: the start of an error line.
pub fn file_position(file: &Path, position: Option<Position>) -> String {
    match position {
        Some(p) => format!("{}:{p}", file.display()),
        None => file.display().to_string(),
    }
}

/// The nesting depth the scanner follows; serde_json refuses deeper documents (128) before
/// anything is indexed, so this only guards the stack against arbitrary text.
const MAX_DEPTH: usize = 256;

/// Where every value of one JSON text starts, and its structure.
#[derive(Debug)]
pub struct JsonIndex<'t> {
    /// The text scanned, for counting the characters before a value on its line.
    text: &'t str,
    root: Node<'t>,
    /// The byte offset of every `\n`, in order.
    newlines: Vec<usize>,
}

#[derive(Debug)]
struct Node<'t> {
    /// Byte offset of the value's first byte.
    start: usize,
    kind: Kind<'t>,
}

#[derive(Debug)]
enum Kind<'t> {
    Scalar,
    Array(Vec<Node<'t>>),
    /// Members in text order, keys unescaped.
    Object(Vec<(Cow<'t, str>, Node<'t>)>),
}

/// What a walk down a path found.
enum Walk {
    /// The value, at this offset.
    Value(usize),
    /// The path names a member that the object at this offset lacks.
    MissingFrom(usize),
    /// The path goes on inside a template expression string (`"[variables('rules')]"`) at this
    /// offset: the expression makes the value, which the text does not hold.
    Expression(usize),
    /// Nothing.
    None,
}

impl<'t> JsonIndex<'t> {
    /// Scans `text`; `None` unless it is one JSON value (trailing whitespace allowed).
    pub fn new(text: &'t str) -> Option<JsonIndex<'t>> {
        let mut scanner = Scanner { text, bytes: text.as_bytes(), pos: 0 };
        let root = scanner.value(0)?;
        scanner.skip_whitespace();
        if scanner.pos != text.len() {
            return None;
        }
        let newlines = text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i).collect();
        Some(JsonIndex { text, root, newlines })
    }

    /// Where the value at `path` starts; `None` when the text has no value there.
    pub fn value_at(&self, path: &str) -> Option<Position> {
        match walk(&self.root, path, None) {
            Walk::Value(offset) => Some(self.position(offset)),
            Walk::MissingFrom(_) | Walk::Expression(_) | Walk::None => None,
        }
    }

    /// Where the value at `path` starts or, when `path` names a member that its object lacks
    /// (`a.b` where `a` has no `b`), where that object starts: where the member would go.
    pub fn value_or_object_at(&self, path: &str) -> Option<Position> {
        match walk(&self.root, path, None) {
            Walk::Value(offset) | Walk::MissingFrom(offset) => Some(self.position(offset)),
            Walk::Expression(_) | Walk::None => None,
        }
    }

    /// As [`JsonIndex::value_or_object_at`], and for a value that an ARM template expression
    /// makes (`securityRules[3].priority` where `securityRules` is `"[variables('rules')]"`),
    /// where that expression starts: the nearest place in the text that the value comes from.
    pub fn value_object_or_expression_at(&self, path: &str) -> Option<Position> {
        match walk(&self.root, path, Some(self.text)) {
            Walk::Value(offset) | Walk::MissingFrom(offset) | Walk::Expression(offset) => {
                Some(self.position(offset))
            }
            Walk::None => None,
        }
    }

    fn position(&self, offset: usize) -> Position {
        let before = self.newlines.partition_point(|&n| n < offset);
        let line_start = if before == 0 { 0 } else { self.newlines[before - 1] + 1 };
        Position { line: before + 1, column: chars_in(&self.text.as_bytes()[line_start..offset]) + 1 }
    }
}

/// Follows `rest` from `node`. Keys are matched against the text (see the module docs); a key
/// that occurs twice counts at its last occurrence only.
/// Follows `rest` down from `node`. With `expressions` (the whole text), a path that goes on
/// inside an ARM template expression string (`"[…]"`, but not the escaped literal `"[[…"`) ends
/// there as [`Walk::Expression`].
fn walk(node: &Node<'_>, rest: &str, expressions: Option<&str>) -> Walk {
    if rest.is_empty() {
        return Walk::Value(node.start);
    }
    match &node.kind {
        Kind::Scalar => match expressions.and_then(|text| text.get(node.start..)) {
            Some(value) if value.starts_with("\"[") && !value.starts_with("\"[[") => {
                Walk::Expression(node.start)
            }
            _ => Walk::None,
        },
        Kind::Array(items) => {
            let Some((index, after)) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) else {
                return Walk::None;
            };
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return Walk::None;
            }
            match (index.parse::<usize>().ok().and_then(|i| items.get(i)), continuation(after)) {
                (Some(item), Some(next)) => walk(item, next, expressions),
                _ => Walk::None,
            }
        }
        Kind::Object(members) => {
            // The keys that could begin `rest`, each at its last occurrence, longest first.
            let mut candidates: Vec<(&str, &Node<'_>, &str)> = Vec::new();
            for (key, child) in members.iter().rev() {
                let key = key.as_ref();
                if let Some(next) = rest.strip_prefix(key).and_then(continuation)
                    && !candidates.iter().any(|(k, _, _)| *k == key)
                {
                    candidates.push((key, child, next));
                }
            }
            if candidates.is_empty() {
                // A plain name that no member has: the object lacks it. (A name with `.` or `[`
                // could be a deeper path as well, so nothing is claimed for it.)
                return if rest.contains(['.', '[']) { Walk::None } else { Walk::MissingFrom(node.start) };
            }
            candidates.sort_by_key(|(key, _, _)| std::cmp::Reverse(key.len()));
            let mut missing = Walk::None;
            for (_, child, next) in candidates {
                match walk(child, next, expressions) {
                    Walk::Value(offset) => return Walk::Value(offset),
                    Walk::Expression(offset) => return Walk::Expression(offset),
                    Walk::MissingFrom(offset) if matches!(missing, Walk::None) => {
                        missing = Walk::MissingFrom(offset);
                    }
                    _ => {}
                }
            }
            missing
        }
    }
}

/// What follows a key or an index in a path: nothing, `.` and a key, or `[` and an index.
fn continuation(after: &str) -> Option<&str> {
    if after.is_empty() || after.starts_with('[') { Some(after) } else { after.strip_prefix('.') }
}

struct Scanner<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
}

impl<'t> Scanner<'t> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.bytes.get(self.pos) == Some(&byte)).then(|| self.pos += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Node<'t>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_whitespace();
        let start = self.pos;
        let kind = match *self.bytes.get(start)? {
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                if self.eat(b'}').is_none() {
                    loop {
                        self.skip_whitespace();
                        let key = self.string()?;
                        self.eat(b':')?;
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b',').is_none() {
                            self.eat(b'}')?;
                            break;
                        }
                    }
                }
                Kind::Object(members)
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_none() {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b',').is_none() {
                            self.eat(b']')?;
                            break;
                        }
                    }
                }
                Kind::Array(items)
            }
            b'"' => {
                self.string()?;
                Kind::Scalar
            }
            _ => {
                // A number, `true`, `false` or `null`: everything up to the next delimiter.
                while let Some(&b) = self.bytes.get(self.pos) {
                    if matches!(b, b',' | b']' | b'}' | b':' | b'"' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                if self.pos == start {
                    return None;
                }
                Kind::Scalar
            }
        };
        Some(Node { start, kind })
    }

    /// A string at `pos` (its opening quote), unescaped. `"` and `\` are ASCII and never part of
    /// a multi-byte UTF-8 sequence, so scanning bytes is safe.
    fn string(&mut self) -> Option<Cow<'t, str>> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let open = self.pos;
        let mut escaped = false;
        let mut i = open + 1;
        loop {
            match *self.bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        let raw = self.text.get(open..=i)?;
        if escaped {
            serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
        } else {
            raw.get(1..raw.len() - 1).map(Cow::Borrowed)
        }
    }
}

/// Where the value at `path` of `text` starts, or where the object that lacks the member `path`
/// names starts (see [`JsonIndex::value_or_object_at`]); for a single lookup.
pub fn locate(text: &str, path: &str) -> Option<Position> {
    JsonIndex::new(text)?.value_or_object_at(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: &str) -> Option<(usize, usize)> {
        let index = JsonIndex::new(text).expect("the text is JSON");
        index.value_at(path).map(|p| (p.line, p.column))
    }

    /// The position of the first occurrence of `needle`, counted as the module counts.
    fn of(text: &str, needle: &str) -> (usize, usize) {
        let offset = text.find(needle).expect("the needle occurs");
        let line_start = text[..offset].rfind('\n').map_or(0, |n| n + 1);
        (text[..offset].matches('\n').count() + 1, offset - line_start + 1)
    }

    const NESTED: &str = r#"{
  "records": [
    {"a": 1, "b": {"c": [10, 20, {"d": null}]}},
    {"e": [ [], {}, [[true]] ]}
  ],
  "last": false
}"#;

    #[test]
    fn nested_objects_and_arrays_are_found_where_their_values_start() {
        assert_eq!(at(NESTED, ""), Some((1, 1)));
        assert_eq!(at(NESTED, "records"), Some((2, 14)));
        assert_eq!(at(NESTED, "records[0]"), Some((3, 5)));
        assert_eq!(at(NESTED, "records[0].a"), Some((3, 11)));
        assert_eq!(at(NESTED, "records[0].b.c"), Some(of(NESTED, "[10")));
        assert_eq!(at(NESTED, "records[0].b.c[1]"), Some(of(NESTED, "20")));
        assert_eq!(at(NESTED, "records[0].b.c[2].d"), Some(of(NESTED, "null")));
        assert_eq!(at(NESTED, "records[1].e[2][0][0]"), Some(of(NESTED, "true")));
        assert_eq!(at(NESTED, "last"), Some((6, 11)));
        // Paths the text does not have.
        assert_eq!(at(NESTED, "records[2]"), None);
        assert_eq!(at(NESTED, "records[0].a.b"), None);
        assert_eq!(at(NESTED, "records.a"), None);
        assert_eq!(at(NESTED, "last[0]"), None);
        assert_eq!(at(NESTED, "records[x]"), None);
        assert_eq!(at(NESTED, "records[]"), None);
        assert_eq!(at(NESTED, "records[0]x"), None);
    }

    #[test]
    fn empty_containers_and_the_root_are_values() {
        assert_eq!(at(NESTED, "records[1].e[0]"), Some(of(NESTED, "[]")));
        assert_eq!(at(NESTED, "records[1].e[1]"), Some(of(NESTED, "{}")));
        assert_eq!(at(NESTED, "records[1].e[0][0]"), None);
        assert_eq!(at("{}", ""), Some((1, 1)));
        assert_eq!(at("[]", ""), Some((1, 1)));
        assert_eq!(at("\n\n   []  \n", ""), Some((3, 4)));
        assert_eq!(at("42", ""), Some((1, 1)));
        assert_eq!(at("[{\"x\": 1}]", "[0].x"), Some((1, 8)));
    }

    #[test]
    fn a_path_into_a_template_expression_ends_at_the_expression_when_asked() {
        let text = r#"{"a": "[variables('list')]", "b": "[[literal]", "c": "plain", "d": ["[f()]"]}"#;
        let index = JsonIndex::new(text).expect("JSON");
        let expr = |path: &str| index.value_object_or_expression_at(path).map(|p| (p.line, p.column));
        assert_eq!(expr("a[3].name"), Some(of(text, r#""[variables"#)));
        assert_eq!(expr("d[0].x"), Some(of(text, r#""[f()]""#)));
        // `[[` escapes a literal bracket: not an expression; nor is a plain string.
        assert_eq!(expr("b[0]"), None);
        assert_eq!(expr("c.x"), None);
        // Values in the text are found as before, and the other lookups do not follow expressions.
        assert_eq!(expr("c"), Some(of(text, r#""plain""#)));
        assert_eq!(at(text, "a[3].name"), None);
        assert_eq!(index.value_or_object_at("a[3].name"), None);
    }

    #[test]
    fn braces_brackets_and_quotes_inside_strings_are_not_structure() {
        let text = r#"{"s": "{[\"]}\\", "t": "a\"b", "u": [ "]", "}" ], "v": 7}"#;
        assert_eq!(at(text, "t"), Some(of(text, r#""a\"b""#)));
        assert_eq!(at(text, "u[1]"), Some(of(text, r#""}""#)));
        assert_eq!(at(text, "v"), Some(of(text, "7")));
    }

    #[test]
    fn keys_with_escapes_dots_and_brackets_are_matched_against_the_text() {
        let text = r#"{"a\"q": 1, "a.b": 2, "a": {"b": 3, "c[0]": 4}, "x": {"y.z": {"w": 5}}, "\u0041": 6}"#;
        assert_eq!(at(text, "a\"q"), Some(of(text, "1")));
        // `a.b` is both a key and a path; the longer key wins.
        assert_eq!(at(text, "a.b"), Some(of(text, "2")));
        assert_eq!(at(text, "a.c[0]"), Some(of(text, "4")));
        assert_eq!(at(text, "x.y.z.w"), Some(of(text, "5")));
        assert_eq!(at(text, "A"), Some(of(text, "6")));
    }

    #[test]
    fn a_duplicate_key_is_found_where_serde_json_takes_it_from() {
        let text = r#"{"k": {"v": "first"}, "k": {"v": "second"}}"#;
        let kept: serde_json::Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(kept["k"]["v"], "second", "serde_json keeps the last duplicate");
        assert_eq!(at(text, "k.v"), Some(of(text, "\"second\"")));
        // Even when only the first occurrence has the path.
        let text = r#"{"k": {"v": 1}, "k": {}}"#;
        assert_eq!(at(text, "k.v"), None);
    }

    #[test]
    fn columns_count_characters_and_serde_json_errors_are_converted_alike() {
        // serde_json's own position of an error at the same place as the value looked up.
        let good = "{\"é\": 1,\n \"ü→\": {\"n\": 2}}";
        let bad = "{\"é\": 1,\n \"ü→\": {\"n\": x}}";
        let err = serde_json::from_str::<serde_json::Value>(bad).expect_err("x is not JSON");
        // 'ü' and '→' are 2 and 3 bytes: the value is at byte column 17, character column 14.
        assert_eq!((err.line(), err.column()), (2, 17), "serde_json counts bytes");
        assert_eq!(at(good, "ü→.n"), Some((2, 14)));
        let converted = from_serde(bad, err.line(), err.column());
        assert_eq!((converted.line, converted.column), (2, 14));
        assert_eq!(at(good, "é"), Some((1, 7)));
        // Past the end of the line (an unexpected end), and a line that does not exist.
        assert_eq!(from_serde("{\"é\"", 1, 7), Position { line: 1, column: 6 });
        assert_eq!(from_serde("{}", 5, 3), Position { line: 5, column: 3 });
        let (at, message) = serde_error(bad, &err);
        assert_eq!((at.line, at.column, message.as_str()), (2, 14, "expected value"));
    }

    #[test]
    fn a_missing_member_is_placed_at_its_object() {
        let index = JsonIndex::new(NESTED).expect("JSON");
        let p = |path: &str| index.value_or_object_at(path).map(|p| (p.line, p.column));
        assert_eq!(p("records[0].b.z"), Some(of(NESTED, "{\"c\"")));
        assert_eq!(p("nothing"), Some((1, 1)));
        assert_eq!(p("records[0].b.c"), Some(of(NESTED, "[10")));
        // Not a member of an object: an index out of range, below a scalar, or a deeper path.
        assert_eq!(p("records[9]"), None);
        assert_eq!(p("last.x"), None);
        assert_eq!(p("records[0].z.y"), None);
        assert_eq!(index.value_at("records[0].b.z"), None);
    }

    #[test]
    fn text_that_is_not_one_json_value_has_no_index() {
        for text in ["", "  ", "{", "{\"a\" 1}", "[1,]x", "[1] 2", "\"open", "{\"a\": }", "{1: 2}"] {
            assert!(JsonIndex::new(text).is_none(), "{text:?}");
        }
        let deep = "[".repeat(10_000);
        assert!(JsonIndex::new(&deep).is_none());
        assert_eq!(locate("[1, 2]", "[1]"), Some(Position { line: 1, column: 5 }));
        assert_eq!(locate("[1, 2", "[1]"), None);
    }

    #[test]
    fn positions_print_as_line_colon_column() {
        let p = Position { line: 3, column: 14 };
        assert_eq!(p.to_string(), "3:14");
        assert_eq!(file_position(Path::new("a.json"), Some(p)), "a.json:3:14");
        assert_eq!(file_position(Path::new("a.json"), None), "a.json");
    }
}

//! JSON as Azure Resource Manager reads it, with the position of every value.
//!
//! Azure's inputs (ARM templates, parameters files, `az` output, REST bodies) are read into a
//! tree of [`Node`]s: each value with the line and column where it starts, so that anything found
//! later (a bad priority, an unresolvable reference) is reported where it is, without scanning
//! the text again. ARM's reader is more lenient than strict JSON, and templates published by
//! Microsoft rely on it, so [`parse()`] accepts what ARM accepts:
//! - `//` line comments and `/* */` block comments wherever whitespace may be;
//! - raw line breaks (and other control characters) inside string literals, which multi-line
//!   strings in Bicep-built and hand-written templates use;
//! - a UTF-8 byte order mark, which PowerShell's `Out-File` and Notepad write (it is not a
//!   column: positions count from the character after it).
//!
//! Object keys are looked up without regard to ASCII case ([`Object::get`]), because ARM
//! property names are case-insensitive (`Properties`, `addressprefix`), and keep their spelling
//! for messages. A key given twice in one object (in any case) counts at its last occurrence,
//! the one a JSON reader keeps.
//!
//! Positions follow the conventions of every other position nsgsim prints (see
//! [`super::json_position`]): 1-based lines and columns, a column counting characters.
//!
//! Readers that evaluate template expressions put their results in the same tree: a value an
//! expression makes carries the position of that expression, and an expression that cannot be
//! evaluated offline becomes a [`Value::Unknown`] that says why, so that a property nobody reads
//! never fails an import while one that is read gives a positioned error.
//!
//! Contract: [`parse()`] never panics and is bounded: at most [`MAX_INPUT_BYTES`] of input and
//! [`MAX_DEPTH`] levels of nesting, each refused with a positioned [`SyntaxError`], as is text
//! that is not UTF-8 (at the first bad byte).

mod parse;
mod unknown;

pub use parse::{MAX_DEPTH, MAX_INPUT_BYTES, SyntaxError, parse};
pub use unknown::{DeploymentFunction, UnknownReason, Via, is_call_name};

use super::json_position::Position;

/// One JSON value and where it starts.
#[derive(Clone, Debug)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts in its text; for a value a template expression made, where that
    /// expression starts.
    pub position: Position,
}

/// A JSON value, or a value an expression could not make offline.
#[derive(Clone, Debug)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object.
    Object(Object),
    /// A value a template expression makes that cannot be known offline (never made by
    /// [`parse()`]).
    Unknown(Box<Unknown>),
}

/// Why a value is not known: the expression that makes it and the evaluator's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The expression as written (`[uniqueString(resourceGroup().id)]`).
    pub expression: String,
    /// Why it cannot be evaluated offline, with its facts (`Display` says what would help).
    pub reason: UnknownReason,
}

/// The members of a JSON object, in text order, each key once (compared without ASCII case).
///
/// Each key parsed from a text keeps where it starts ([`Object::key_position`]): a member that
/// must not be there at all (a parameter a template does not declare) is reported at its name.
#[derive(Clone, Debug, Default)]
pub struct Object {
    members: Vec<(String, Node)>,
    /// Where each member's key starts, parallel to `members`, for objects [`parse()`] read;
    /// empty for objects built in code (then no key has a position).
    keys_at: Vec<Option<Position>>,
}

impl Object {
    /// An empty object.
    pub fn new() -> Object {
        Object::default()
    }

    /// The value of `key`, compared without ASCII case.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|(_, node)| node)
    }

    /// The key as spelt in the text and the value of `key`, compared without ASCII case.
    pub fn member(&self, key: &str) -> Option<(&str, &Node)> {
        self.members.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(k, n)| (k.as_str(), n))
    }

    /// Whether the object has `key` (without ASCII case).
    pub fn contains_key(&self, key: &str) -> bool {
        self.member(key).is_some()
    }

    /// Sets `key` to `node`: a member of the same key (without ASCII case) is replaced in its
    /// place and takes the new spelling, as a later duplicate key does in a JSON text.
    pub fn insert(&mut self, key: String, node: Node) {
        match self.members.iter().position(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            Some(i) => {
                self.members[i] = (key, node);
                if let Some(at) = self.keys_at.get_mut(i) {
                    *at = None;
                }
            }
            None => {
                self.members.push((key, node));
                if !self.keys_at.is_empty() {
                    self.keys_at.push(None);
                }
            }
        }
    }

    /// Where the key of member `key` (compared without ASCII case) starts in the text it was
    /// parsed from, at its opening quote; `None` when absent or built in code.
    pub fn key_position(&self, key: &str) -> Option<Position> {
        let i = self.members.iter().position(|(k, _)| k.eq_ignore_ascii_case(key))?;
        self.keys_at.get(i).copied().flatten()
    }

    /// The members in text order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.members.iter().map(|(k, n)| (k.as_str(), n))
    }

    /// The keys in text order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|(k, _)| k.as_str())
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the object has no member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Builds an object from members already known to have distinct keys (the parser checks),
    /// each with where its key starts.
    fn from_distinct(members: Vec<(String, Node)>, keys_at: Vec<Option<Position>>) -> Object {
        debug_assert_eq!(members.len(), keys_at.len());
        Object { members, keys_at }
    }
}

impl Node {
    /// A node at `position`.
    pub fn new(value: Value, position: Position) -> Node {
        Node { value, position }
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if the value is one.
    pub fn as_object(&self) -> Option<&Object> {
        match &self.value {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The items, if the value is an array.
    pub fn as_array(&self) -> Option<&Vec<Node>> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The boolean, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The member `key` of an object (without ASCII case); `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// The value as `serde_json` holds it, positions dropped. An [`Value::Unknown`] becomes
    /// `null` (callers that must tell it apart look for it first).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null | Value::Unknown(_) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => J::Number(n.clone()),
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Object(o) => J::Object(o.iter().map(|(k, n)| (k.to_string(), n.to_json())).collect()),
        }
    }

    /// A `serde_json` value as a tree whose every node is at `position`: what an expression
    /// at `position` made.
    pub fn from_json(value: &serde_json::Value, position: Position) -> Node {
        use serde_json::Value as J;
        let value = match value {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.clone()),
            J::String(s) => Value::String(s.clone()),
            J::Array(items) => Value::Array(items.iter().map(|i| Node::from_json(i, position)).collect()),
            J::Object(m) => {
                let mut o = Object::new();
                for (k, v) in m {
                    o.insert(k.clone(), Node::from_json(v, position));
                }
                Value::Object(o)
            }
        };
        Node { value, position }
    }

    /// The value as a message shows it: compact JSON, cut to about 200 characters with control
    /// characters escaped; an unknown value shows its expression.
    pub fn shown(&self) -> String {
        match &self.value {
            Value::String(s) => shorten(s),
            Value::Unknown(u) => shorten(&u.expression),
            _ => shorten(&self.to_json().to_string()),
        }
    }

    /// What kind of value this is, for messages (`a string`, `an array`, …).
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
            Value::Unknown(_) => "a value only known at deployment",
        }
    }
}

/// What kind of value a `serde_json` value is, for messages (`a string`, `an array`, …).
pub fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The longest value a message quotes, in characters.
pub const SHOWN_CHARS: usize = 200;

/// `text` as a message quotes it: control characters escaped (`\n`, `\u{1b}`), and cut to
/// [`SHOWN_CHARS`] characters with `…` when longer.
pub fn shorten(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == SHOWN_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn keys_are_found_without_case_and_keep_their_spelling() {
        let node = parse(br#"{"Properties": {"addressPrefix": "10.0.0.0/24"}}"#).expect("JSON");
        let (key, props) = node.as_object().and_then(|o| o.member("properties")).expect("found");
        assert_eq!(key, "Properties");
        assert_eq!(props.get("ADDRESSPREFIX").and_then(Node::as_str), Some("10.0.0.0/24"));
        assert!(node.get("nothing").is_none());
    }

    #[test]
    fn parsed_keys_keep_where_they_start_and_keys_built_in_code_have_none() {
        let node = parse("{\"a\": 1,\n  \"Bé\": {\"c\": 2}, \"A\": 3}".as_bytes()).expect("JSON");
        let o = node.as_object().expect("object");
        // A key given again counts at its last occurrence, as its value does.
        assert_eq!(o.key_position("a"), Some(at(2, 19)));
        assert_eq!(o.key_position("BÉ"), None);
        assert_eq!(o.key_position("bé"), Some(at(2, 3)));
        let inner = o.get("bé").and_then(Node::as_object);
        assert_eq!(inner.and_then(|i| i.key_position("C")), Some(at(2, 10)));
        assert_eq!(o.key_position("nothing"), None);
        let mut made = Object::new();
        made.insert("x".into(), Node::new(Value::Null, at(1, 1)));
        assert_eq!(made.key_position("x"), None);
        let mut parsed = o.clone();
        parsed.insert("d".into(), Node::new(Value::Null, at(1, 1)));
        assert_eq!((parsed.key_position("d"), parsed.key_position("Bé")), (None, Some(at(2, 3))));
    }

    #[test]
    fn json_round_trips_and_made_values_take_the_expressions_position() {
        let node = parse(br#"{"a": [1, "x", null, true, {"b": -2.5}]}"#).expect("JSON");
        let json = node.to_json();
        assert_eq!(json, serde_json::json!({"a": [1, "x", null, true, {"b": -2.5}]}));
        let made = Node::from_json(&json, at(7, 3));
        assert_eq!(made.to_json(), json);
        let inner = made.get("a").and_then(Node::as_array).expect("array");
        assert!(inner.iter().all(|n| n.position == at(7, 3)));
    }

    #[test]
    fn shown_values_are_cut_and_escaped() {
        let long = "x".repeat(500);
        let shown = Node::new(Value::String(long), at(1, 1)).shown();
        assert_eq!(shown.chars().count(), SHOWN_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(shorten("a\nb\u{1b}c"), "a\\nb\\u{1b}c");
        let unknown = Node::new(
            Value::Unknown(Box::new(Unknown {
                expression: "[guid()]".into(),
                reason: UnknownReason::KnownAfterApply { attribute: "r".into() },
            })),
            at(1, 1),
        );
        assert_eq!(unknown.shown(), "[guid()]");
        assert_eq!(unknown.kind(), "a value only known at deployment");
    }

    #[test]
    fn insert_replaces_a_key_in_any_case() {
        let mut o = Object::new();
        o.insert("name".into(), Node::new(Value::Null, at(1, 1)));
        o.insert("Name".into(), Node::new(Value::Bool(true), at(2, 1)));
        assert_eq!(o.len(), 1);
        assert_eq!(o.keys().collect::<Vec<_>>(), ["Name"]);
        assert_eq!(o.get("NAME").and_then(Node::as_bool), Some(true));
    }
}

//! Reading the API's JSON bodies: every error names the field at fault, shows the bad value (cut
//! to 200 characters, control characters escaped) and says what would be valid.
//!
//! Actions are the scenario format's own (`scenario::schema::ActionSpec`), read with
//! `serde_path_to_error` so that a wrong value deep inside (`EnableJit.ports[1].number`) is named
//! by its path. The small bodies of the other operations are read field by field here.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::report::printable;
use crate::scenario::schema::ActionSpec;

/// The longest body the API reads, in bytes. Actions, flows and clock moves are a few hundred
/// bytes; this leaves room for an `EnableJit` with many ports and long justifications.
pub const MAX_BODY: usize = 64 * 1024;

/// `value` as an error shows it: control characters escaped, cut to 200 characters.
pub fn shown(value: &str) -> String {
    printable(value)
}

/// A JSON object body; an empty body is an empty object.
#[derive(Debug)]
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Parses `bytes` as a JSON object.
    ///
    /// # Errors
    /// 400 naming `body` when it is not JSON or not an object.
    pub fn parse(bytes: &[u8]) -> Result<Fields, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Fields { map: Map::new() });
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Fields { map }),
            Ok(other) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "body",
                format!(
                    "'{}' is not a JSON object; valid: an object such as {{\"from\": \"alice\"}}",
                    shown(&other.to_string())
                ),
            )),
            Err(e) => Err(not_json(&e)),
        }
    }

    /// Refuses fields other than `known`.
    ///
    /// # Errors
    /// 422 naming the first unknown field and listing the valid ones.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                shown(k),
                format!("unknown field '{}'; valid: {}", shown(k), known.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// The string at `field`, if given.
    ///
    /// # Errors
    /// 422 when it is not a string.
    pub fn optional_string(&self, field: &str) -> Result<Option<String>, ApiError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(field, other, "a string")),
        }
    }

    /// The string at `field`.
    ///
    /// # Errors
    /// 422 when it is missing or not a string.
    pub fn string(&self, field: &str) -> Result<String, ApiError> {
        self.optional_string(field)?.ok_or_else(|| missing(field, "a string"))
    }

    /// The integer at `field`, in `lo..=hi`.
    ///
    /// # Errors
    /// 422 when it is missing, not an integer or out of range.
    pub fn integer(&self, field: &str, lo: i64, hi: i64) -> Result<i64, ApiError> {
        let what = format!("an integer from {lo} to {hi}");
        match self.map.get(field) {
            None | Some(Value::Null) => Err(missing(field, &what)),
            Some(Value::Number(n)) => match n.as_i64().filter(|v| (lo..=hi).contains(v)) {
                Some(v) => Ok(v),
                None => Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    field,
                    format!("{} is out of range; valid: {what}", shown(&n.to_string())),
                )),
            },
            Some(other) => Err(wrong_type(field, other, &what)),
        }
    }
}

/// Reads an action written as the scenario format writes it, in JSON: `{"RequestJit": {"id":
/// "r1", "user": "alice", "vm": "vm1", "ports": [22], "duration": "1h"}}`.
///
/// # Errors
/// 400 when the body is not JSON; 422 naming the path of the field at fault otherwise.
pub fn action(bytes: &[u8]) -> Result<ActionSpec, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<ActionSpec, _> = serde_path_to_error::deserialize(&mut de);
    let spec = match result {
        Ok(spec) => spec,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(not_json(&inner));
            }
            let field = if path == "." { "action".to_string() } else { path };
            // serde's message names the variant or field it expected; its position is of the
            // body, which the path already locates.
            let message = strip_position(&inner.to_string());
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, shown(&message)));
        }
    };
    de.end().map_err(|e| not_json(&e))?;
    Ok(spec)
}

fn not_json(e: &serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "body",
        format!(
            "not valid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ),
    )
}

/// serde_json's message without its ` at line L column C` suffix.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn missing(field: &str, what: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, format!("missing; valid: {what}"))
}

fn wrong_type(field: &str, value: &Value, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        field,
        format!("'{}' is not {what}", shown(&value.to_string())),
    )
}

/// A URL's query (`?status=Configured&limit=200`), percent-decoded.
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a query string (without the `?`).
    pub fn parse(query: Option<&str>) -> Query {
        let pairs = query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Query { pairs }
    }

    /// Refuses parameters other than `known`.
    ///
    /// # Errors
    /// 422 naming the first unknown parameter.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((k, _)) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                shown(k),
                format!(
                    "unknown query parameter '{}'; valid: {}",
                    shown(k),
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
            )),
            None => Ok(()),
        }
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The count at `name` (1 to 100,000), if given.
    ///
    /// # Errors
    /// 422 when it is not such a number.
    pub fn limit(&self, name: &str) -> Result<Option<usize>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<usize>().ok().filter(|n| (1..=100_000).contains(n)).ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        name,
                        format!("'{}' is not a count; valid: an integer from 1 to 100000", shown(v)),
                    )
                })
            })
            .transpose()
    }
}

/// Percent-decoding of a query component (`+` is a space); a bad escape is kept as written.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_name_what_is_wrong() {
        let f = Fields::parse(br#"{"from": "alice", "port": 70000, "to": 5}"#).expect("an object");
        assert_eq!(f.string("from").expect("a string"), "alice");
        let e = f.integer("port", 0, 65535).expect_err("out of range");
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some("port"), "70000 is out of range; valid: an integer from 0 to 65535")
        );
        assert_eq!(f.string("to").expect_err("a number").message, "'5' is not a string");
        assert_eq!(f.string("via").expect_err("missing").field.as_deref(), Some("via"));
        let e = f.only(&["from", "port"]).expect_err("to is unknown");
        assert_eq!(e.message, "unknown field 'to'; valid: from, port");
        assert!(Fields::parse(b"").expect("empty is {}").only(&[]).is_ok());
        assert_eq!(Fields::parse(b"[1]").expect_err("not an object").field.as_deref(), Some("body"));
        let e = Fields::parse(b"{\"a\": ").expect_err("not JSON");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.starts_with("not valid JSON at line 1 column"), "{e}");
    }

    #[test]
    fn an_action_error_names_its_path() {
        let ok = action(br#"{"DisableJit": {"vm": "vm1"}}"#).expect("an action");
        assert!(matches!(ok, ActionSpec::DisableJit { .. }));
        let e = action(br#"{"EnableJit": {"vm": "vm1", "ports": [{"number": 22}, {"number": "x"}]}}"#)
            .expect_err("a string for a number");
        assert_eq!(e.field.as_deref(), Some("EnableJit.ports[1].number"), "{e}");
        let e = action(br#"{"Fly": {}}"#).expect_err("no such action");
        assert!(
            e.message.contains("unknown variant `Fly`, expected one of `AttachNsg`")
                && e.message.contains("EnableJit"),
            "{e}"
        );
        let e = action(br#"{"RequestJit": {"id": "r", "usr": "alice"}}"#).expect_err("a misspelt field");
        assert!(e.message.contains("unknown field `usr`"), "{e}");
        assert!(action(br#"{"DisableJit": {"vm": "vm1"}} x"#).is_err(), "trailing text");
    }

    #[test]
    fn bad_values_are_cut_and_escaped() {
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).chars().count(), 201);
    }

    #[test]
    fn queries_are_decoded_and_checked() {
        let q = Query::parse(Some("filter=vm+1%2F2&limit=20&x=%zz&y=%4"));
        assert_eq!(q.get("filter"), Some("vm 1/2"));
        assert_eq!(q.get("x"), Some("%zz"));
        assert_eq!(q.get("y"), Some("%4"));
        assert_eq!(q.limit("limit").expect("a count"), Some(20));
        assert_eq!(q.only(&["filter", "limit"]).expect_err("x is unknown").field.as_deref(), Some("x"));
        let bad = Query::parse(Some("limit=0"));
        assert_eq!(bad.limit("limit").expect_err("zero").field.as_deref(), Some("limit"));
        assert!(Query::parse(None).only(&[]).is_ok());
    }
}

//! String functions: `base64`, `base64ToJson`, `base64ToString`, `concat` (of strings),
//! `dataUri`, `dataUriToString`, `endsWith`, `format`, `guid`, `join`, `newGuid`, `padLeft`,
//! `replace`, `split`, `startsWith`, `string`, `substring`, `toLower`, `toUpper`, `trim`,
//! `uniqueString`, `uri`, `uriComponent`, `uriComponentToString`. (`contains`, `empty`,
//! `first`, `last`, `indexOf`, `lastIndexOf`, `length`, `skip` and `take` take strings and
//! arrays alike: they are in `collections`.)

use serde_json::Value;

use super::super::format::format_string;
use super::super::hash;
use super::{Args, Res};
use crate::import::arm::expr::parser::Parser;
use crate::import::arm::expr::{ExprError, FunctionError, TextKind, Usage, V};
use crate::import::json::shorten;

pub(super) fn call(p: &mut Parser<'_, '_>, name: &str, a: &Args) -> Option<Res> {
    Some(match name {
        "concat" if !a.json.first().is_some_and(Value::is_array) => Ok(V::str(a.texts().concat())),
        "format" => a.text(0).and_then(|fmt| format_string(&fmt, &a.json[1..])).map(V::str),
        "tolower" => a.arity(1).and_then(|()| a.text(0)).map(|s| V::str(s.to_lowercase())),
        "toupper" => a.arity(1).and_then(|()| a.text(0)).map(|s| V::str(s.to_uppercase())),
        "string" => a.arity(1).and_then(|()| a.text(0)).map(V::str),
        "trim" => a.arity(1).and_then(|()| a.text(0)).map(|s| V::str(s.trim())),
        "replace" => (|| {
            a.arity(3)?;
            let old = a.text(1)?;
            if old.is_empty() {
                return Err(FunctionError::EmptyReplace.into());
            }
            Ok(V::str(a.text(0)?.replace(&old, &a.text(2)?)))
        })(),
        "split" => split(a),
        "substring" => substring(a),
        "startswith" => (|| {
            a.arity(2)?;
            Ok(V::bool(a.text(0)?.to_lowercase().starts_with(&a.text(1)?.to_lowercase())))
        })(),
        "endswith" => (|| {
            a.arity(2)?;
            Ok(V::bool(a.text(0)?.to_lowercase().ends_with(&a.text(1)?.to_lowercase())))
        })(),
        "join" => (|| {
            a.arity(2)?;
            let items = a.array(0)?;
            let parts: Vec<String> =
                items.iter().map(|x| super::text_of(&V::J(x.clone()), &a.deployment)).collect();
            Ok(V::str(parts.join(&a.text(1)?)))
        })(),
        "padleft" => pad_left(a),
        "base64" => a.arity(1).and_then(|()| a.text(0)).map(|s| V::str(base64_encode(s.as_bytes()))),
        "base64tostring" => a.arity(1).and_then(|()| a.text(0)).and_then(|s| decoded_text(&s)).map(V::str),
        "base64tojson" => (|| {
            a.arity(1)?;
            let text = decoded_text(&a.text(0)?)?;
            serde_json::from_str(&text)
                .map(V::J)
                .map_err(|e| FunctionError::NotJson { text: shorten(&text), reason: e.to_string() }.into())
        })(),
        "datauri" => a
            .arity(1)
            .and_then(|()| a.text(0))
            .map(|s| V::str(format!("data:text/plain;charset=utf8;base64,{}", base64_encode(s.as_bytes())))),
        "datauritostring" => {
            a.arity(1).and_then(|()| a.text(0)).and_then(|s| data_uri_to_string(&s)).map(V::str)
        }
        "uri" => a.arity(2).and_then(|()| Ok(V::str(uri(&a.text(0)?, &a.text(1)?)))),
        "uricomponent" => a.arity(1).and_then(|()| a.text(0)).map(|s| V::str(uri_component(&s))),
        "uricomponenttostring" => {
            a.arity(1).and_then(|()| a.text(0)).and_then(|s| uri_decode(&s)).map(V::str)
        }
        "uniquestring" => {
            if a.len() == 0 {
                Err(FunctionError::Usage(Usage::OneString).into())
            } else {
                strings_only(a).map(|parts| V::str(hash::unique_string(&parts)))
            }
        }
        "guid" => {
            if a.len() == 0 {
                Err(FunctionError::Usage(Usage::OneString).into())
            } else {
                strings_only(a).map(|parts| V::str(hash::guid(&parts)))
            }
        }
        "newguid" => new_guid(p, a),
        _ => return None,
    })
}

/// `uniqueString` and `guid` take strings only ("The function parameters must be strings").
fn strings_only(a: &Args) -> Result<Vec<String>, ExprError> {
    (0..a.len()).map(|i| a.string(i)).collect()
}

/// `newGuid()`: only in a parameter's default value, as ARM allows it; offline it is the
/// `guid()` of the parameter's name and the deployment's name, so that a run gives the same
/// value twice (an assumption, reported once).
fn new_guid(p: &mut Parser<'_, '_>, a: &Args) -> Res {
    a.arity(0)?;
    let Some(label) = p.ev.parameter_default() else {
        return Err(FunctionError::OnlyInParameterDefault { function: "newGuid" }.into());
    };
    p.ev.note("newGuid()");
    let name = p.ev.scope.deployment.name.clone();
    Ok(V::str(hash::guid(&["nsgsim-newGuid".to_string(), name, label])))
}

fn split(a: &Args) -> Res {
    a.arity(2)?;
    let s = a.text(0)?;
    let delimiters: Vec<String> = match &a.json[1] {
        Value::Array(d) => d.iter().map(|x| super::text_of(&V::J(x.clone()), &a.deployment)).collect(),
        _ => vec![a.text(1)?],
    };
    let mut parts = vec![s];
    for d in delimiters.iter().filter(|d| !d.is_empty()) {
        parts =
            parts.iter().flat_map(|p| p.split(d.as_str()).map(str::to_string).collect::<Vec<_>>()).collect();
    }
    Ok(V::J(Value::Array(parts.into_iter().map(Value::String).collect())))
}

fn substring(a: &Args) -> Res {
    a.arity_between(2, 3)?;
    let s: Vec<char> = a.text(0)?.chars().collect();
    let start = usize::try_from(a.int(1)?).map_err(|_| FunctionError::NegativeStart)?;
    let len = if a.len() > 2 {
        usize::try_from(a.int(2)?).map_err(|_| FunctionError::NegativeLength)?
    } else {
        s.len().saturating_sub(start)
    };
    match start.checked_add(len) {
        Some(end) if end <= s.len() => Ok(V::str(s[start..end].iter().collect::<String>())),
        _ => Err(FunctionError::SubstringBeyond { start, len, chars: s.len() }.into()),
    }
}

/// `padLeft(value, totalLength, paddingCharacter)`: ARM's limit on `totalLength` is 16K.
fn pad_left(a: &Args) -> Res {
    a.arity_between(2, 3)?;
    let s = a.text(0)?;
    let total = a.int(1)?;
    if !(0..=16_384).contains(&total) {
        return Err(FunctionError::PadLength(total).into());
    }
    let pad = if a.len() == 3 { a.text(2)? } else { " ".to_string() };
    let mut pad_chars = pad.chars();
    let (Some(c), None) = (pad_chars.next(), pad_chars.next()) else {
        return Err(FunctionError::PadCharacter(shorten(&pad)).into());
    };
    let have = s.chars().count();
    let want = usize::try_from(total).unwrap_or(0);
    Ok(V::str(format!("{}{s}", c.to_string().repeat(want.saturating_sub(have)))))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 (RFC 4648, padded).
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Result<Vec<u8>, ExprError> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim().chars().filter(|c| *c != '=') {
        let Some(v) = B64.iter().position(|b| char::from(*b) == c) else {
            return Err(unreadable(text, TextKind::Base64));
        };
        bits = (bits << 6) | u32::try_from(v).unwrap_or(0);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).unwrap_or(0));
        }
    }
    Ok(out)
}

fn decoded_text(text: &str) -> Result<String, ExprError> {
    String::from_utf8(base64_decode(text)?).map_err(|_| unreadable(text, TextKind::Utf8))
}

fn data_uri_to_string(uri: &str) -> Result<String, ExprError> {
    let Some((head, data)) = uri.strip_prefix("data:").and_then(|r| r.split_once(',')) else {
        return Err(unreadable(uri, TextKind::DataUri));
    };
    if head.ends_with(";base64") { decoded_text(data) } else { uri_decode(data) }
}

/// `uri(baseUri, relativeUri)` by the rules of Microsoft's string function reference: a base
/// ending in `/` is followed by the relative part (one slash kept); otherwise what follows the
/// base's last slash is replaced, or a slash is added when the base has none past `//`.
fn uri(base: &str, relative: &str) -> String {
    if relative.contains("://") {
        return relative.to_string();
    }
    if let Some(stripped) = base.strip_suffix('/') {
        return format!("{stripped}/{}", relative.trim_start_matches('/'));
    }
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    match base[after_scheme..].rfind('/') {
        Some(i) => format!("{}/{}", &base[..after_scheme + i], relative.trim_start_matches('/')),
        None => format!("{base}/{}", relative.trim_start_matches('/')),
    }
}

/// Percent-encoding as .NET's `Uri.EscapeDataString`: every byte but the unreserved
/// characters of RFC 3986.
fn uri_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn uri_decode(text: &str) -> Result<String, ExprError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(unreadable(text, TextKind::PercentEscapes));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| unreadable(text, TextKind::Utf8))
}

/// `text` (shortened) does not read as `expected`.
fn unreadable(text: &str, expected: TextKind) -> ExprError {
    FunctionError::Unreadable { text: shorten(text), expected }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_uris_follow_the_documented_rules() {
        // Microsoft's base64 example: 'one, two, three' -> b25lLCB0d28sIHRocmVl.
        assert_eq!(base64_encode(b"one, two, three"), "b25lLCB0d28sIHRocmVl");
        assert_eq!(decoded_text("b25lLCB0d28sIHRocmVl").as_deref(), Ok("one, two, three"));
        for s in ["", "a", "ab", "abc", "abcd"] {
            assert_eq!(decoded_text(&base64_encode(s.as_bytes())).as_deref(), Ok(s));
        }
        assert_eq!(
            uri("http://contoso.com/resources/", "nested/azuredeploy.json"),
            "http://contoso.com/resources/nested/azuredeploy.json"
        );
        assert_eq!(
            uri("http://contoso.com/resources/azuredeploy.json", "nested/x.json"),
            "http://contoso.com/resources/nested/x.json"
        );
        assert_eq!(uri("http://contoso.com", "x.json"), "http://contoso.com/x.json");
        assert_eq!(uri("http://contoso.com/a/", "/b"), "http://contoso.com/a/b");
        assert_eq!(
            uri_component("http://contoso.com/resources/nested/azuredeploy.json"),
            "http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json"
        );
        assert_eq!(uri_decode("http%3A%2F%2Fcontoso.com").as_deref(), Ok("http://contoso.com"));
        assert!(uri_decode("%zz").is_err());
        // Microsoft's dataUri example: 'Hello' -> data:text/plain;charset=utf8;base64,SGVsbG8=.
        assert_eq!(base64_encode(b"Hello"), "SGVsbG8=");
        assert_eq!(data_uri_to_string("data:;base64,SGVsbG8sIFdvcmxkIQ==").as_deref(), Ok("Hello, World!"));
    }
}

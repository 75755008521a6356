//! `format()`: .NET composite formatting, as ARM's `format` uses it ("uses the .NET format
//! string syntax").
//!
//! A placeholder is `{index[,alignment][:format]}`; `{{` and `}}` are literal braces. Numbers
//! take the standard numeric formats `D`, `X`, `N`, `F`, `E`, `G` and `P` (with a precision) and
//! custom formats made of `0`, `#`, `,` and `.`, in the invariant culture (model choice:
//! ARM's servers do not document a culture; the invariant one writes `8,175,133`, Microsoft's
//! own example); other values ignore the format. Booleans are `True` and `False`, as .NET
//! writes them.

use serde_json::Value;

use super::{ExprError, FunctionError, TextKind};
use crate::import::json::shorten;

/// Formats `args` into `fmt`.
///
/// # Errors
/// A malformed placeholder, an index with no argument, or a format that does not apply.
pub fn format_string(fmt: &str, args: &[Value]) -> Result<String, ExprError> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == '}' {
                        closed = true;
                        break;
                    }
                    spec.push(d);
                }
                if !closed {
                    return Err(FunctionError::UnclosedPlaceholder(shorten(&spec)).into());
                }
                out.push_str(&placeholder(&spec, args)?);
            }
            '}' => return Err(FunctionError::LoneBrace.into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn placeholder(spec: &str, args: &[Value]) -> Result<String, ExprError> {
    let (head, format) = match spec.split_once(':') {
        Some((h, f)) => (h, Some(f)),
        None => (spec, None),
    };
    let (index, alignment) = match head.split_once(',') {
        Some((i, a)) => (i, Some(a)),
        None => (head, None),
    };
    let i: usize = index
        .trim()
        .parse()
        .map_err(|_| FunctionError::NotAPlaceholder { spec: shorten(spec), args: args.len() })?;
    let value = args.get(i).ok_or(FunctionError::NoArgument { index: i, args: args.len() })?;
    let text = match (value, format) {
        (Value::Number(n), Some(f)) => number(n, f.trim())?,
        (Value::String(s), _) => s.clone(),
        (Value::Bool(b), _) => {
            if *b {
                "True".into()
            } else {
                "False".into()
            }
        }
        (Value::Null, _) => String::new(),
        (Value::Number(n), None) => n.to_string(),
        (other, _) => other.to_string(),
    };
    let Some(alignment) = alignment else { return Ok(text) };
    let width: i64 = alignment
        .trim()
        .parse()
        .map_err(|_| FunctionError::Unreadable { text: shorten(alignment), expected: TextKind::Alignment })?;
    let pad =
        usize::try_from(width.unsigned_abs()).unwrap_or(0).min(16_384).saturating_sub(text.chars().count());
    Ok(if width < 0 { format!("{text}{}", " ".repeat(pad)) } else { format!("{}{text}", " ".repeat(pad)) })
}

/// A number in a .NET numeric format.
fn number(n: &serde_json::Number, format: &str) -> Result<String, ExprError> {
    let value = n.as_f64().unwrap_or(0.0);
    let mut chars = format.chars();
    let kind = chars.next().unwrap_or('G');
    let rest: String = chars.collect();
    let precision: Option<usize> = if rest.is_empty() {
        None
    } else if rest.chars().all(|c| c.is_ascii_digit()) && rest.len() <= 2 {
        rest.parse().ok()
    } else {
        return custom(value, format);
    };
    Ok(match kind.to_ascii_uppercase() {
        'D' => {
            let Some(i) = n.as_i64() else {
                return Err(FunctionError::FormatNeedsInteger { format: 'D', found: n.to_string() }.into());
            };
            let digits = i.unsigned_abs().to_string();
            let width = precision.unwrap_or(0);
            format!(
                "{}{}{digits}",
                if i < 0 { "-" } else { "" },
                "0".repeat(width.saturating_sub(digits.len()))
            )
        }
        'X' => {
            let Some(i) = n.as_i64() else {
                return Err(FunctionError::FormatNeedsInteger { format: 'X', found: n.to_string() }.into());
            };
            let hex = if kind == 'x' { format!("{i:x}") } else { format!("{i:X}") };
            format!("{}{hex}", "0".repeat(precision.unwrap_or(0).saturating_sub(hex.len())))
        }
        'N' => grouped(value, precision.unwrap_or(2)),
        'F' => format!("{value:.*}", precision.unwrap_or(2)),
        'P' => format!("{} %", grouped(value * 100.0, precision.unwrap_or(2))),
        'E' => {
            let s = format!("{value:.*e}", precision.unwrap_or(6));
            let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = exponent.parse().unwrap_or(0);
            let sign = if e < 0 { '-' } else { '+' };
            let letter = if kind == 'e' { 'e' } else { 'E' };
            format!("{mantissa}{letter}{sign}{:03}", e.unsigned_abs())
        }
        'G' => match (n.as_i64(), precision) {
            (Some(i), _) => i.to_string(),
            (None, _) => n.to_string(),
        },
        _ => return custom(value, format),
    })
}

/// A number with thousands separators and `decimals` decimals.
fn grouped(value: f64, decimals: usize) -> String {
    let fixed = format!("{:.*}", decimals, value.abs());
    let (int, frac) = fixed.split_once('.').map_or((fixed.as_str(), ""), |(i, f)| (i, f));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    let sign = if value < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    if frac.is_empty() { format!("{sign}{out}") } else { format!("{sign}{out}.{frac}") }
}

/// A custom numeric format of `0` (a digit, always), `#` (a digit when significant), `,`
/// (thousands separators, when between digit placeholders) and `.` (the decimal point).
fn custom(value: f64, format: &str) -> Result<String, ExprError> {
    if !format.chars().all(|c| matches!(c, '0' | '#' | ',' | '.')) {
        return Err(
            FunctionError::Unreadable { text: shorten(format), expected: TextKind::NumericFormat }.into()
        );
    }
    let (int_part, frac_part) = format.split_once('.').unwrap_or((format, ""));
    let decimals = frac_part.chars().filter(|c| matches!(c, '0' | '#')).count();
    let min_decimals = frac_part.chars().take_while(|c| *c == '0').count();
    let min_int = int_part.chars().filter(|c| *c == '0').count();
    let group = int_part.contains(',');
    let fixed = format!("{:.*}", decimals, value.abs());
    let (int, frac) =
        fixed.split_once('.').map_or((fixed.clone(), String::new()), |(i, f)| (i.to_string(), f.to_string()));
    let int = int.trim_start_matches('0');
    let int = format!("{}{int}", "0".repeat(min_int.saturating_sub(int.len())));
    let int = if group { grouped(int.parse::<f64>().unwrap_or(0.0), 0) } else { int };
    let mut frac = frac;
    while frac.len() > min_decimals && frac.ends_with('0') {
        frac.pop();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    Ok(if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(fmt: &str, args: &[Value]) -> String {
        format_string(fmt, args).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn composite_formats_as_dotnet_does() {
        // Microsoft's example: format('{0}, {1}. Formatted number: {2:N0}', 'Hello', 'User', 8175133).
        assert_eq!(
            f("{0}, {1}. Formatted number: {2:N0}", &[json!("Hello"), json!("User"), json!(8_175_133)]),
            "Hello, User. Formatted number: 8,175,133"
        );
        assert_eq!(f("{0:D3}-{1:X}-{1:x4}", &[json!(7), json!(255)]), "007-FF-00ff");
        assert_eq!(f("{0:N}", &[json!(1234.5)]), "1,234.50");
        assert_eq!(f("{0:F1}|{0:P0}", &[json!(0.26)]), "0.3|26 %");
        assert_eq!(f("{0:000}|{0:#,##0.00}", &[json!(12345)]), "12345|12,345.00");
        assert_eq!(f("{0:00}", &[json!(5)]), "05");
        assert_eq!(f("[{0,5}][{0,-5}]", &[json!("ab")]), "[   ab][ab   ]");
        assert_eq!(f("{{{0}}} {1}", &[json!(true), json!(null)]), "{True} ");
        assert!(f("{2}", &[json!(1)]).starts_with("error: '{2}' has no argument"));
        assert!(f("{0", &[json!(1)]).starts_with("error:"));
        assert!(f("{0:Q}", &[json!(1)]).starts_with("error: 'Q' is not a numeric format"));
        assert_eq!(f("{0:E2}", &[json!(1234.5)]), "1.23E+003");
    }

    /// Found by fresh fuzz seed 9112: a placeholder broken by an invisible character.
    #[test]
    fn a_bad_placeholder_says_which_are_valid() {
        assert_eq!(
            f("{0\u{feff}}-nic", &[json!("web")]),
            "error: '{0\u{feff}}' is not a placeholder; valid: {N}, {N,width} or {N:format} with N = 0 (one argument after the format string)"
        );
        assert_eq!(
            f("{2}", &[json!(1), json!(2)]),
            "error: '{2}' has no argument; valid: {N}, {N,width} or {N:format} with N from 0 to 1 (2 arguments after the format string)"
        );
        assert!(f("{0", &[json!(1)]).contains("valid: a placeholder closed by '}'"));
        assert!(f("a}b", &[]).contains("valid: '}}' for a brace"));
        assert!(f("{0,x}", &[json!(1)]).contains("valid: an integer width"));
    }
}

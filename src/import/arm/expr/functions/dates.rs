//! Date functions: `utcNow`, `dateTimeAdd`, `dateTimeFromEpoch`, `dateTimeToEpoch`.
//!
//! `utcNow()` is allowed only in a parameter's default value, as ARM allows it, and answers the
//! offline context's instant (`--utc-now`), noted for the reader's warning. Formats are .NET's:
//! the standard `u`, `s`, `o` and `d` and custom patterns of `yyyy`, `yy`, `MM`, `M`, `dd`, `d`,
//! `HH`, `H`, `hh`, `h`, `mm`, `m`, `ss`, `s`, `f…` and `tt` (anything else is literal, `'…'`
//! quotes literal text), in the invariant culture.

use jiff::{Span, Timestamp, tz::TimeZone};

use super::{Args, Res};
use crate::import::arm::expr::parser::Parser;
use crate::import::arm::expr::{ExprError, FunctionError, TextKind, V};
use crate::import::json::shorten;

pub(super) fn call(p: &mut Parser<'_, '_>, name: &str, a: &Args) -> Option<Res> {
    Some(match name {
        "utcnow" => utc_now(p, a),
        "datetimeadd" => (|| {
            a.arity_between(2, 3)?;
            let base = parse(&a.text(0)?)?;
            let duration = a.text(1)?;
            let span: Span = duration.parse().map_err(|_| FunctionError::Unreadable {
                text: shorten(&duration),
                expected: TextKind::Duration,
            })?;
            let zoned = base.to_zoned(TimeZone::UTC);
            let added = zoned.checked_add(span).map_err(|e| FunctionError::DateAddOutOfRange {
                duration: shorten(&duration),
                base: base.to_string(),
                reason: e.to_string(),
            })?;
            let fmt = if a.len() == 3 { a.text(2)? } else { "yyyy-MM-ddTHH:mm:ssZ".into() };
            format_time(added.timestamp(), &fmt).map(V::str)
        })(),
        "datetimefromepoch" => (|| {
            a.arity(1)?;
            let secs = a.int(0)?;
            let t = Timestamp::from_second(secs)
                .map_err(|e| FunctionError::EpochOutOfRange { seconds: secs, reason: e.to_string() })?;
            format_time(t, "yyyy-MM-ddTHH:mm:ssZ").map(V::str)
        })(),
        "datetimetoepoch" => {
            a.arity(1).and_then(|()| a.text(0)).and_then(|s| parse(&s)).map(|t| V::int(t.as_second()))
        }
        _ => return None,
    })
}

fn utc_now(p: &mut Parser<'_, '_>, a: &Args) -> Res {
    a.arity_between(0, 1)?;
    if p.ev.parameter_default().is_none() {
        return Err(FunctionError::OnlyInParameterDefault { function: "utcNow" }.into());
    }
    p.ev.note("utcNow()");
    let now = parse(&p.ev.scope.deployment.utc_now)?;
    let fmt = if a.len() == 1 { a.text(0)? } else { "yyyyMMddTHHmmssZ".into() };
    format_time(now, &fmt).map(V::str)
}

/// An instant written as ISO 8601 / RFC 3339 (a date alone is midnight UTC).
fn parse(text: &str) -> Result<Timestamp, ExprError> {
    let t = text.trim();
    t.parse::<Timestamp>()
        .or_else(|_| format!("{t}Z").parse::<Timestamp>())
        .or_else(|_| format!("{t}T00:00:00Z").parse::<Timestamp>())
        .map_err(|_| FunctionError::Unreadable { text: shorten(text), expected: TextKind::DateTime }.into())
}

/// `t` in a .NET date and time format.
fn format_time(t: Timestamp, format: &str) -> Result<String, ExprError> {
    let pattern = match format {
        "u" => "yyyy-MM-dd HH:mm:ssZ",
        "s" => "yyyy-MM-ddTHH:mm:ss",
        "o" | "O" => "yyyy-MM-ddTHH:mm:ss.fffffffZ",
        "d" => "MM/dd/yyyy",
        other if other.chars().count() == 1 && other.chars().all(char::is_alphabetic) && other != "Z" => {
            return Err(
                FunctionError::Unreadable { text: shorten(other), expected: TextKind::DateFormat }.into()
            );
        }
        other => other,
    };
    let dt = t.to_zoned(TimeZone::UTC).datetime();
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|x| **x == c).count();
        let pad = |n: i64, width: usize| format!("{n:0width$}");
        match c {
            'y' => out.push_str(&if run <= 2 {
                pad(i64::from(dt.year()) % 100, 2)
            } else {
                pad(i64::from(dt.year()), run)
            }),
            'M' => out.push_str(&pad(i64::from(dt.month()), run.min(2))),
            'd' => out.push_str(&pad(i64::from(dt.day()), run.min(2))),
            'H' => out.push_str(&pad(i64::from(dt.hour()), run.min(2))),
            'h' => out.push_str(&pad(i64::from((dt.hour() + 11) % 12 + 1), run.min(2))),
            'm' => out.push_str(&pad(i64::from(dt.minute()), run.min(2))),
            's' => out.push_str(&pad(i64::from(dt.second()), run.min(2))),
            'f' => {
                let nanos = format!("{:09}", dt.subsec_nanosecond());
                out.push_str(&format!("{nanos:0<9}")[..run.min(9)]);
            }
            't' => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
            '\'' => {
                let end = chars[i + 1..].iter().position(|x| *x == '\'').map_or(chars.len(), |e| i + 1 + e);
                out.extend(&chars[i + 1..end]);
                i = end + 1;
                continue;
            }
            other => out.extend(std::iter::repeat_n(other, run)),
        }
        i += run;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_epochs_as_microsofts_examples() {
        let t = parse("2020-04-07T14:53:14Z").expect("a date");
        assert_eq!(format_time(t, "yyyyMMddTHHmmssZ").as_deref(), Ok("20200407T145314Z"));
        assert_eq!(format_time(t, "u").as_deref(), Ok("2020-04-07 14:53:14Z"));
        assert_eq!(format_time(t, "d").as_deref(), Ok("04/07/2020"));
        assert_eq!(format_time(t, "'at' h:mm tt").as_deref(), Ok("at 2:53 PM"));
        // dateTimeToEpoch('2023-05-02T15:16:13Z') = 1683040573 (Microsoft's example).
        assert_eq!(parse("2023-05-02T15:16:13Z").map(|t| t.as_second()), Ok(1_683_040_573));
        assert!(parse("yesterday").is_err());
        assert!(format_time(t, "q").is_err());
    }
}

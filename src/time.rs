//! Virtual time: instants with real calendar meaning, and offsets from a scenario's start.
//!
//! The simulator never reads the wall clock. Time moves only when the timeline says so.
//!
//! Instants stay within the calendar's range ([`Instant::MIN`]..=[`Instant::MAX`], the years
//! -9999 to 9999), so that every instant prints as a timestamp. Offsets that would leave it are
//! rejected where they are read (`scenario` for a step's `at`, `cli` for `--at`), through
//! [`Instant::checked_plus`]; [`Instant::plus`] saturates at the ends instead of overflowing.

use std::fmt;

use crate::text::shown;

/// A point in virtual time: whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

/// A span of virtual time in whole seconds (never negative in a timeline).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(i64);

impl Instant {
    /// The earliest instant: the first second of the year -9999 in every time zone.
    pub const MIN: Instant = Instant(-377_705_023_201);
    /// The last instant: the last second of the year 9999 in every time zone
    /// (9999-12-30T22:00:00Z).
    pub const MAX: Instant = Instant(253_402_207_200);

    /// Parses an RFC 3339 timestamp such as `2025-01-06T09:00:00Z`.
    ///
    /// # Errors
    /// What the text is instead ([`TimeError`], whose words say what is valid).
    pub fn parse(text: &str) -> Result<Instant, TimeError> {
        let ts: jiff::Timestamp = text.parse().map_err(|e: jiff::Error| {
            // A date and time that reads well but lies outside the calendar (9999-12-31T23:59:59Z)
            // gets the range, not the date library's arithmetic.
            if jiff::fmt::temporal::Pieces::parse(text).is_ok() {
                TimeError::OutsideCalendar { text: shown(text) }
            } else {
                TimeError::NotATimestamp { text: shown(text), reason: e.to_string() }
            }
        })?;
        // jiff's range is the calendar's; keep to it even if that ever changes.
        Ok(Instant(ts.as_second().clamp(Self::MIN.0, Self::MAX.0)))
    }

    /// The instant `secs` seconds after the Unix epoch, if the calendar reaches it.
    pub fn from_unix_secs(secs: i64) -> Option<Instant> {
        (Self::MIN.0..=Self::MAX.0).contains(&secs).then_some(Instant(secs))
    }

    /// Seconds since the Unix epoch.
    pub fn as_secs(self) -> i64 {
        self.0
    }

    /// The instant `d` later, or `None` when that is past [`Instant::MAX`] (or before
    /// [`Instant::MIN`]).
    pub fn checked_plus(self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d.0).filter(|s| (Self::MIN.0..=Self::MAX.0).contains(s)).map(Instant)
    }

    /// The instant `d` later, saturating at [`Instant::MIN`] and [`Instant::MAX`]. Use
    /// [`Instant::checked_plus`] where an offset comes from the user.
    pub fn plus(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0).clamp(Self::MIN.0, Self::MAX.0))
    }

    /// The time from `earlier` to `self`.
    pub fn since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_second(self.0) {
            Ok(ts) => write!(f, "{}", ts.strftime("%Y-%m-%dT%H:%M:%SZ")),
            Err(_) => write!(f, "@{}", self.0),
        }
    }
}

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: i64) -> Duration {
        Duration(secs)
    }

    /// Whole seconds.
    pub fn as_secs(self) -> i64 {
        self.0
    }

    /// Parses `90m`, `2h30m`, `1h 30m`, `45s`, `1d`, `0`, or an ISO 8601 duration `PT1H30M`,
    /// `P1D`.
    ///
    /// # Errors
    /// What the text is instead ([`TimeError`], whose words say what is valid).
    pub fn parse(text: &str) -> Result<Duration, TimeError> {
        let invalid = || TimeError::NotADuration { text: shown(text) };
        let too_long = || TimeError::DurationTooLong { text: shown(text) };
        let t = text.trim();
        if t.starts_with('-') {
            return Err(TimeError::NegativeDuration { text: shown(text) });
        }
        if t == "0" {
            return Ok(Duration(0));
        }
        let upper = t.to_ascii_uppercase();
        let (body, iso) = match upper.strip_prefix('P') {
            Some(rest) => (rest.to_string(), true),
            None => (upper.replace(' ', ""), false),
        };
        if body.is_empty() {
            return Err(invalid());
        }
        let mut total: i64 = 0;
        let mut number = String::new();
        let mut in_time = !iso;
        let mut seen_unit = false;
        for c in body.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            if iso && c == 'T' {
                if !number.is_empty() || in_time {
                    return Err(invalid());
                }
                in_time = true;
                continue;
            }
            if number.is_empty() {
                return Err(invalid());
            }
            let n: i64 = number.parse().map_err(|_| too_long())?;
            number.clear();
            let unit = match (c, in_time) {
                ('D', _) => 86_400,
                ('W', false) if iso => 7 * 86_400,
                ('H', true) => 3_600,
                ('M', true) => 60,
                ('S', true) => 1,
                _ => return Err(invalid()),
            };
            total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(too_long)?;
            seen_unit = true;
        }
        if !number.is_empty() || !seen_unit {
            return Err(invalid());
        }
        Ok(Duration(total))
    }

    /// ISO 8601 form, as the JIT API writes durations (`PT3H`, `PT1H30M`, `PT0S`).
    pub fn to_iso8601(self) -> String {
        let (mut s, mut out) = (self.0.unsigned_abs(), String::from(if self.0 < 0 { "-P" } else { "P" }));
        let days = s / 86_400;
        s %= 86_400;
        if days > 0 {
            out.push_str(&format!("{days}D"));
        }
        if s > 0 || days == 0 {
            out.push('T');
            let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
            if h > 0 {
                out.push_str(&format!("{h}H"));
            }
            if m > 0 {
                out.push_str(&format!("{m}M"));
            }
            if sec > 0 || (h == 0 && m == 0) {
                out.push_str(&format!("{sec}S"));
            }
        }
        out
    }
}

impl fmt::Display for Duration {
    /// Compact human form: `0s`, `45s`, `1h30m`, `2d3h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.unsigned_abs();
        if self.0 < 0 {
            f.write_str("-")?;
        }
        if s == 0 {
            return f.write_str("0s");
        }
        let parts = [(s / 86_400, "d"), (s % 86_400 / 3600, "h"), (s % 3600 / 60, "m"), (s % 60, "s")];
        for (n, unit) in parts {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

/// Why a text is not an instant or a duration: the text (shortened, control characters
/// escaped) and what it is instead; `Display` says what is valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// A timestamp that reads well but lies outside [`Instant::MIN`]..=[`Instant::MAX`].
    OutsideCalendar {
        /// The text.
        text: String,
    },
    /// Not an RFC 3339 UTC timestamp.
    NotATimestamp {
        /// The text.
        text: String,
        /// The date library's reason.
        reason: String,
    },
    /// Not a duration.
    NotADuration {
        /// The text.
        text: String,
    },
    /// A duration of more seconds than an `i64` holds.
    DurationTooLong {
        /// The text.
        text: String,
    },
    /// A negative duration.
    NegativeDuration {
        /// The text.
        text: String,
    },
}

/// The forms of a duration, for messages.
const DURATION_FORMS: &str = "e.g. 90m, 2h30m, 45s, 1d, 0, or ISO 8601 like PT1H30M";

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::OutsideCalendar { text } => write!(
                f,
                "'{text}' is outside the calendar nsgsim can represent; valid: a UTC timestamp from {} to {}",
                Instant::MIN,
                Instant::MAX
            ),
            TimeError::NotATimestamp { text, reason } => write!(
                f,
                "'{text}' is not an RFC 3339 UTC timestamp ({reason}); valid: e.g. 2025-01-06T09:00:00Z"
            ),
            TimeError::NotADuration { text } => {
                write!(f, "'{text}' is not a duration; valid: {DURATION_FORMS}")
            }
            TimeError::DurationTooLong { text } => write!(
                f,
                "'{text}' is too long: a duration is at most {} seconds (and an offset must stay within the calendar, up to {}); valid: {DURATION_FORMS}",
                i64::MAX,
                Instant::MAX
            ),
            TimeError::NegativeDuration { text } => {
                write!(f, "'{text}' is negative; valid: 0 or more, {DURATION_FORMS}")
            }
        }
    }
}

impl std::error::Error for TimeError {}

impl From<TimeError> for String {
    fn from(e: TimeError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compact_and_iso_durations() {
        assert_eq!(Duration::parse("90m"), Ok(Duration(5400)));
        assert_eq!(Duration::parse("2h30m"), Ok(Duration(9000)));
        assert_eq!(Duration::parse("1h 30m"), Ok(Duration(5400)));
        assert_eq!(Duration::parse("45s"), Ok(Duration(45)));
        assert_eq!(Duration::parse("0"), Ok(Duration(0)));
        assert_eq!(Duration::parse("PT1H30M"), Ok(Duration(5400)));
        assert_eq!(Duration::parse("PT3H"), Ok(Duration(10800)));
        assert_eq!(Duration::parse("P1D"), Ok(Duration(86400)));
        assert_eq!(Duration::parse("P1DT1S"), Ok(Duration(86401)));
        for bad in ["", "m", "90", "1x", "PT", "P1H", "1h30", "-5m"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
        for huge in ["999999999999999d", "99999999999999999999h", "9223372036854775808s"] {
            let err = Duration::parse(huge).expect_err(huge);
            assert_eq!(err, TimeError::DurationTooLong { text: huge.into() });
        }
        assert_eq!(Duration::parse("1x"), Err(TimeError::NotADuration { text: "1x".into() }));
    }

    #[test]
    fn formats() {
        assert_eq!(Duration(5400).to_string(), "1h30m");
        assert_eq!(Duration(0).to_string(), "0s");
        assert_eq!(Duration(10800).to_iso8601(), "PT3H");
        assert_eq!(Duration(5401).to_iso8601(), "PT1H30M1S");
        assert_eq!(Duration(86400).to_iso8601(), "P1D");
        let start = Instant::parse("2025-01-06T09:00:00Z").expect("valid");
        assert_eq!(start.plus(Duration(5400)).to_string(), "2025-01-06T10:30:00Z");
        assert!(Instant::parse("yesterday").is_err());
    }

    #[test]
    fn refusals_give_the_valid_range_and_not_the_date_librarys_words() {
        let err = Instant::parse("9999-12-31T23:59:59Z").expect_err("past the calendar");
        assert_eq!(err, TimeError::OutsideCalendar { text: "9999-12-31T23:59:59Z".into() });
        assert_eq!(
            err.to_string(),
            "'9999-12-31T23:59:59Z' is outside the calendar nsgsim can represent; valid: a UTC timestamp from -9999-01-02T01:59:59Z to 9999-12-30T22:00:00Z"
        );
        assert!(Instant::parse("9999-12-30T22:00:00Z").is_ok());
        let err = Instant::parse("2025-13-01T00:00:00Z").expect_err("no month 13");
        assert!(
            matches!(&err, TimeError::NotATimestamp { text, reason } if text == "2025-13-01T00:00:00Z" && !reason.is_empty()),
            "{err:?}"
        );
        let err = Duration::parse("-5m").expect_err("negative");
        assert_eq!(err, TimeError::NegativeDuration { text: "-5m".into() });
        assert_eq!(
            err.to_string(),
            "'-5m' is negative; valid: 0 or more, e.g. 90m, 2h30m, 45s, 1d, 0, or ISO 8601 like PT1H30M"
        );
        let err =
            Duration::parse(&format!("{}\u{202e}", "9".repeat(10_000))).expect_err("too long").to_string();
        assert!(err.len() < 600 && !err.contains('\u{202e}'), "{err}");
    }

    #[test]
    fn the_range_is_the_calendars() {
        assert_eq!(Instant::MAX.as_secs(), jiff::Timestamp::MAX.as_second());
        assert_eq!(Instant::MIN.as_secs(), jiff::Timestamp::MIN.as_second());
        assert_eq!(Instant::MAX.to_string(), "9999-12-30T22:00:00Z");
        assert!(!Instant::MIN.to_string().starts_with('@'), "{}", Instant::MIN);
    }

    #[test]
    fn adding_never_overflows() {
        let start = Instant::parse("2025-01-06T09:00:00Z").expect("valid");
        let huge = Duration::parse("9223372036854775807s").expect("a valid duration");
        assert_eq!(huge, Duration(i64::MAX));
        assert_eq!(start.checked_plus(huge), None);
        assert_eq!(start.plus(huge), Instant::MAX);
        assert_eq!(Instant::MAX.checked_plus(Duration(1)), None);
        assert_eq!(Instant::MAX.checked_plus(Duration(0)), Some(Instant::MAX));
        assert_eq!(start.checked_plus(Duration(60)), Some(start.plus(Duration(60))));
        assert_eq!(
            Instant::MIN.since(Instant::MAX).as_secs(),
            Instant::MIN.as_secs() - Instant::MAX.as_secs()
        );
        // Display and ISO 8601 of the extremes do not overflow.
        assert_eq!(Duration(i64::MIN).to_string().chars().next(), Some('-'));
        assert!(Duration(i64::MIN).to_iso8601().starts_with("-P"));
    }
}

//! Why an offset, a grant or a Bastion host named on a scenario's timeline (in a file, an
//! assertions file or on the command line) is refused, as data: the values, and the bound the
//! calendar sets. `Display` writes the words with what is valid; the loader and the commands
//! place them (`file:line:column: field: …`, `--at: …`).

use std::fmt;

use crate::time::{Duration, Instant, TimeError};

/// Why a scenario refuses an offset, a grant or a Bastion host's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimelineError {
    /// Not a duration of 0 or more.
    Offset(TimeError),
    /// An offset that would put a step past the last instant nsgsim can represent.
    PastCalendar {
        /// The scenario's start.
        start: Instant,
        /// The offset.
        offset: Duration,
    },
    /// A JIT grant that would end past the last instant nsgsim can represent.
    GrantPastCalendar {
        /// The grant's duration.
        duration: Duration,
        /// Its offset from the start.
        offset: Duration,
        /// The instant it starts.
        from: Instant,
    },
    /// A Bastion host the scenario does not declare.
    UnknownBastion {
        /// The name given.
        name: String,
        /// The names it declares.
        declared: Vec<String>,
    },
}

impl fmt::Display for TimelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimelineError::Offset(e) => write!(f, "{e}"),
            TimelineError::PastCalendar { start, offset } => write!(
                f,
                "offset {offset} after the start {start} is past {}, the last instant nsgsim can represent; valid: an offset up to {}",
                Instant::MAX,
                Instant::MAX.since(*start)
            ),
            TimelineError::GrantPastCalendar { duration, offset, from } => write!(
                f,
                "a {duration} grant from offset {offset} would end past {}, the last instant nsgsim can represent; valid: a duration up to {} at this offset",
                Instant::MAX,
                Instant::MAX.since(*from)
            ),
            TimelineError::UnknownBastion { name, declared } => {
                write!(f, "unknown bastion '{name}'; valid: ")?;
                if declared.is_empty() {
                    f.write_str("(none declared)")
                } else {
                    f.write_str(&declared.join(", "))
                }
            }
        }
    }
}

impl std::error::Error for TimelineError {}

impl From<TimeError> for TimelineError {
    fn from(e: TimeError) -> TimelineError {
        TimelineError::Offset(e)
    }
}

impl From<TimelineError> for String {
    fn from(e: TimelineError) -> String {
        e.to_string()
    }
}

//! The activity log: every JIT operation and every NSG rule write, with time, caller, resource
//! and outcome, in the order they happened.

use std::fmt;

use crate::time::Instant;

/// The caller Azure shows for rule writes made by Defender for Cloud itself.
pub const SECURITY_RP: &str = "Windows Azure Security Resource Provider";

/// How an operation ended, as the Activity Log's status column says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStatus {
    /// Done.
    Succeeded,
    /// Refused, with the reason in the entry's detail.
    Failed,
    /// Accepted and waiting (a request pending approval).
    Accepted,
}

impl fmt::Display for LogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogStatus::Succeeded => "Succeeded",
            LogStatus::Failed => "Failed",
            LogStatus::Accepted => "Accepted",
        })
    }
}

/// One entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// When.
    pub at: Instant,
    /// Who (a user name, or the Security Resource Provider for automatic rule writes).
    pub caller: String,
    /// The operation, as the Activity Log names it.
    pub operation: String,
    /// The resource acted on.
    pub resource: String,
    /// How it ended.
    pub status: LogStatus,
    /// Details: the reason of a failure, the rule written, the end time of a grant.
    pub detail: String,
    /// Whether the operation is an nsgsim extension rather than an Azure feature.
    pub extension: bool,
}

/// The log itself.
#[derive(Clone, Debug, Default)]
pub struct ActivityLog {
    entries: Vec<LogEntry>,
}

impl ActivityLog {
    /// Appends an entry.
    pub fn push(&mut self, entry: LogEntry) {
        self.entries.push(entry);
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, operation: &str, extension: bool) -> LogEntry {
        LogEntry {
            at: Instant::parse(at).expect("valid"),
            caller: SECURITY_RP.into(),
            operation: operation.into(),
            resource: "nsg/securityRules/x".into(),
            status: LogStatus::Succeeded,
            detail: String::new(),
            extension,
        }
    }

    #[test]
    fn entries_keep_the_order_they_happened_in() {
        let mut log = ActivityLog::default();
        assert!(log.entries().is_empty());
        let first = entry("2025-01-06T09:00:00Z", "Update JIT Network Access Policy", false);
        let second = entry("2025-01-06T09:00:00Z", "Create or Update Security Rule", false);
        let third = entry("2025-01-06T09:05:00Z", "Revoke JIT access", true);
        for e in [&first, &second, &third] {
            log.push(e.clone());
        }
        assert_eq!(log.entries(), [first, second, third.clone()]);
        assert!(log.entries()[2].extension, "extensions stay flagged");
        assert_eq!(third.caller, "Windows Azure Security Resource Provider");
    }
}

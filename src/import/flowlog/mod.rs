//! Traffic records to replay against a scenario: Azure's NSG flow logs (versions 1 and 2), its
//! virtual network flow logs, and a small CSV format for hand-made replays.
//!
//! The format is detected by content: a file whose first non-blank character is `{` is Azure
//! flow-log JSON (as Network Watcher writes it to storage: `{"records": [...]}`; NSG and virtual
//! network records are told apart by their shape), anything else is CSV with a header line.
//! Every tuple becomes one [`FlowRecord`]: the 5-tuple as the logging NSG saw it (private
//! addresses, after translation), the log's timestamp, and, for flow logs, what Azure decided
//! and which rule decided it ([`Logged`]).
//!
//! Flow logs record a connection several times when they carry a flow state (NSG flow logs
//! version 2 and virtual network flow logs: `B`egin, `C`ontinuing, `E`nd); [`select_flows`] keeps
//! one record per connection (see its documentation). Version 1 tuples have no state and each
//! counts as a flow.
//!
//! Contract: parsing never panics; a malformed input is a [`FlowLogError`] that names the file,
//! the line and column, the JSON path (flow-log fields, placed in the text by
//! `import::json_position`), the bad value and what would be valid. Nothing here evaluates
//! anything: see `crate::replay`.

mod azure;
mod csv;

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::json_position::{Position, file_position};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, Direction};
use crate::time::{Duration, Instant};

/// Which kind of input a file was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// Network security group flow log (`NetworkSecurityGroupFlowEvent`), version 1 or 2.
    NsgFlowLog {
        /// The highest `properties.Version` in the file.
        version: u8,
    },
    /// Virtual network flow log (`FlowLogFlowEvent`).
    VnetFlowLog,
    /// The CSV format `src,dst,src_port,dst_port,protocol[,expected][,at]`.
    Csv,
}

impl std::fmt::Display for InputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputFormat::NsgFlowLog { version } => write!(f, "NSG flow log version {version}"),
            InputFormat::VnetFlowLog => f.write_str("virtual network flow log"),
            InputFormat::Csv => f.write_str("CSV"),
        }
    }
}

/// A flow's state in flow logs that carry one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowState {
    /// `B`: the flow began.
    Begin,
    /// `C`: the flow continues (statistics at intervals).
    Continuing,
    /// `E`: the flow ended.
    End,
    /// `D`: the flow was denied (virtual network flow logs only).
    Denied,
}

/// Where Azure logged a flow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LoggedAt {
    /// An NSG flow log: the NSG named by the record's `resourceId`.
    Nsg(String),
    /// A virtual network flow log: the `aclID` (the resource GUID of the NSG, which a scenario
    /// does not know; nsgsim then considers every NSG at the logging NIC).
    Acl(String),
}

/// The rule named in a flow log, as Azure names it there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LoggedRule {
    /// `UserRule_NAME`: the user rule `securityRules/NAME`.
    User(String),
    /// `DefaultRule_NAME`: the default rule `defaultSecurityRules/NAME`.
    Default(String),
    /// Any other name: a Virtual Network Manager security admin rule, or `unspecified` for an
    /// encryption drop. Not an NSG rule.
    Other(String),
}

impl LoggedRule {
    /// Splits Azure's flow-log rule name into its kind and name.
    pub fn parse(text: &str) -> LoggedRule {
        if let Some(name) = strip_prefix_ignore_case(text, "UserRule_") {
            LoggedRule::User(name.to_string())
        } else if let Some(name) = strip_prefix_ignore_case(text, "DefaultRule_") {
            LoggedRule::Default(name.to_string())
        } else {
            LoggedRule::Other(text.to_string())
        }
    }

    /// The rule as nsgsim names it (`securityRules/NAME`, `defaultSecurityRules/NAME`); `None`
    /// for a rule that is not an NSG rule.
    pub fn azure_name(&self) -> Option<String> {
        match self {
            LoggedRule::User(n) => Some(format!("securityRules/{n}")),
            LoggedRule::Default(n) => Some(format!("defaultSecurityRules/{n}")),
            LoggedRule::Other(_) => None,
        }
    }

    /// The name exactly as the log wrote it.
    pub fn logged_name(&self) -> String {
        match self {
            LoggedRule::User(n) => format!("UserRule_{n}"),
            LoggedRule::Default(n) => format!("DefaultRule_{n}"),
            LoggedRule::Other(n) => n.clone(),
        }
    }

    /// Whether nsgsim's rule name (`securityRules/NAME`, `defaultSecurityRules/NAME`) is this
    /// rule. Rule names are compared without regard to case, as Azure compares resource names.
    pub fn is(&self, azure_name: &str) -> bool {
        self.azure_name().is_some_and(|n| n.eq_ignore_ascii_case(azure_name))
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// What Azure logged about a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logged {
    /// Where it was logged.
    pub at: LoggedAt,
    /// The direction at the logging NIC: inbound (arriving) or outbound (leaving).
    pub direction: Direction,
    /// Azure's decision.
    pub access: Access,
    /// The rule that decided.
    pub rule: LoggedRule,
    /// The flow state, when the format has one.
    pub state: Option<FlowState>,
}

/// One flow to replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    /// Where it comes from, for messages: `file:LINE` or `file: JSON path`.
    pub origin: String,
    /// The 5-tuple (ports are 0 for protocols without ports).
    pub flow: Flow,
    /// When it was logged (flow logs).
    pub time: Option<Instant>,
    /// The offset of the timeline to evaluate it at (the CSV `at` column).
    pub at: Option<Duration>,
    /// Azure's own decision (flow logs).
    pub logged: Option<Logged>,
    /// The verdict the author expects (the CSV `expected` column).
    pub expected: Option<Access>,
}

/// One parsed input file.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file.
    pub file: PathBuf,
    /// What it was.
    pub format: InputFormat,
    /// Its records, in file order.
    pub records: Vec<FlowRecord>,
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowLogError {
    /// The file could not be read.
    #[error("{}: cannot read the file", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A problem at a line and column (CSV, JSON syntax).
    #[error("{}:{line}:{column}: {message}", file.display())]
    At {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The bad value and what is valid.
        message: String,
    },
    /// A problem in a flow-log field: printed `file:LINE:COLUMN: PATH: message`.
    #[error("{}: {path}: {message}", file_position(file, *position))]
    Field {
        /// The file.
        file: PathBuf,
        /// Where the field's value starts (for a missing field, the object that lacks it);
        /// `None` only if the path cannot be found in the text.
        position: Option<Position>,
        /// The JSON path, e.g. `records[0].properties.flows[1].flows[0].flowTuples[3]`;
        /// `(document)` for the whole document.
        path: String,
        /// The bad value and what is valid.
        message: String,
    },
}

/// Reads and parses one input file.
///
/// # Errors
/// An unreadable file, or see [`parse`].
pub fn read(path: &Path) -> Result<Input, FlowLogError> {
    let text = crate::text::read_file(path).map_err(|e| match e {
        crate::text::ReadError::Io(source) => FlowLogError::Read { file: path.to_path_buf(), source },
        crate::text::ReadError::NotUtf8(at) => FlowLogError::At {
            file: path.to_path_buf(),
            line: at.line,
            column: at.column,
            message: at.to_string(),
        },
    })?;
    parse(path, &text)
}

/// Parses `text`, naming `path` in errors, detecting the format by content.
///
/// # Errors
/// The first malformed record, with its position and what is valid.
pub fn parse(path: &Path, text: &str) -> Result<Input, FlowLogError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    match body.trim_start().chars().next() {
        Some('{') => azure::parse(path, body),
        Some(_) => csv::parse(path, body),
        None => Err(FlowLogError::At {
            file: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!(
                "the file is empty; valid: Azure flow-log JSON ({{\"records\": [...]}}) or CSV with the header {}",
                csv::HEADER
            ),
        }),
    }
}

/// Keeps one record per flow, in input order, and returns how many were dropped.
///
/// A flow log that carries flow states writes a connection when it begins (`B`), while it
/// continues (`C`) and when it ends (`E`), all with the same 5-tuple, decision and rule. Only the
/// `B` record is kept; a connection with no `B` record in the inputs (it began before the logs
/// start) is represented by its first `C` or `E` record. A denied flow (`D`, virtual network flow
/// logs) is kept every time: each is an attempt that was dropped. Records without a state
/// (version 1, CSV) are all kept. Connections are told apart by where they were logged, the
/// direction, the protocol and both addresses and ports.
pub fn select_flows(records: Vec<FlowRecord>) -> (Vec<FlowRecord>, usize) {
    type Key = (LoggedAt, Direction, IpProtocol, IpAddr, u16, IpAddr, u16);
    let key = |r: &FlowRecord| -> Option<Key> {
        let l = r.logged.as_ref()?;
        let f = &r.flow;
        Some((l.at.clone(), l.direction, f.protocol, f.src, f.src_port, f.dst, f.dst_port))
    };
    let state = |r: &FlowRecord| r.logged.as_ref().and_then(|l| l.state);
    let begun: HashSet<Key> =
        records.iter().filter(|r| state(r) == Some(FlowState::Begin)).filter_map(key).collect();
    let mut represented: HashSet<Key> = HashSet::new();
    let before = records.len();
    let kept: Vec<FlowRecord> = records
        .into_iter()
        .filter(|r| match (state(r), key(r)) {
            (Some(FlowState::Continuing | FlowState::End), Some(k)) => {
                !begun.contains(&k) && represented.insert(k)
            }
            _ => true,
        })
        .collect();
    let dropped = before - kept.len();
    (kept, dropped)
}

/// The instant `secs` seconds after the Unix epoch, if the calendar reaches it.
fn unix_instant(secs: i64) -> Option<Instant> {
    Instant::parse("1970-01-01T00:00:00Z").ok()?.checked_plus(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: Option<FlowState>, src_port: u16) -> FlowRecord {
        let flow = Flow::new(
            IpProtocol::TCP,
            "10.0.0.4".parse().expect("an address"),
            src_port,
            "203.0.113.1".parse().expect("an address"),
            443,
        );
        FlowRecord {
            origin: format!("f: {src_port}"),
            flow,
            time: None,
            at: None,
            logged: Some(Logged {
                at: LoggedAt::Nsg("nsg".into()),
                direction: Direction::Outbound,
                access: Access::Allow,
                rule: LoggedRule::Default("AllowInternetOutBound".into()),
                state,
            }),
            expected: None,
        }
    }

    #[test]
    fn rule_names_split_into_kind_and_name_without_regard_to_case() {
        assert_eq!(LoggedRule::parse("UserRule_allow-rdp"), LoggedRule::User("allow-rdp".into()));
        assert_eq!(LoggedRule::parse("userrule_allow-rdp"), LoggedRule::User("allow-rdp".into()));
        assert_eq!(
            LoggedRule::parse("DefaultRule_DenyAllInBound"),
            LoggedRule::Default("DenyAllInBound".into())
        );
        assert_eq!(LoggedRule::parse("Internet"), LoggedRule::Other("Internet".into()));
        assert!(LoggedRule::parse("UserRule_Allow-RDP").is("securityRules/allow-rdp"));
        assert!(!LoggedRule::parse("UserRule_allow-rdp").is("defaultSecurityRules/allow-rdp"));
        assert!(!LoggedRule::parse("unspecified").is("securityRules/unspecified"));
        assert_eq!(LoggedRule::parse("DefaultRule_X").logged_name(), "DefaultRule_X");
    }

    #[test]
    fn begin_records_stand_for_their_connection_and_orphans_keep_their_first_record() {
        let records = vec![
            record(Some(FlowState::Begin), 1),
            record(Some(FlowState::Continuing), 1),
            record(Some(FlowState::End), 1),
            // Began before the log: its first C stands for it, its E is dropped.
            record(Some(FlowState::Continuing), 2),
            record(Some(FlowState::End), 2),
            // Only an E.
            record(Some(FlowState::End), 3),
            // Denied attempts all count.
            record(Some(FlowState::Denied), 4),
            record(Some(FlowState::Denied), 4),
            // No state (version 1): every record counts.
            record(None, 5),
            record(None, 5),
        ];
        let (kept, dropped) = select_flows(records);
        let ports: Vec<u16> = kept.iter().map(|r| r.flow.src_port).collect();
        assert_eq!(ports, vec![1, 2, 3, 4, 4, 5, 5]);
        assert_eq!(dropped, 3);
        assert_eq!(kept[1].logged.as_ref().and_then(|l| l.state), Some(FlowState::Continuing));
    }

    #[test]
    fn empty_input_is_an_error_at_line_one() {
        let err = parse(Path::new("empty.json"), "  \n").expect_err("empty input is refused");
        let text = err.to_string();
        assert!(text.starts_with("empty.json:1:1: the file is empty"), "{text}");
    }

    #[test]
    fn unix_seconds_become_instants() {
        assert_eq!(
            unix_instant(1_542_110_377).map(|i| i.to_string()).as_deref(),
            Some("2018-11-13T11:59:37Z")
        );
        assert_eq!(unix_instant(i64::MAX), None);
    }
}

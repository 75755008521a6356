//! Traffic records to replay against a scenario, read as a stream: Azure's NSG flow logs
//! (versions 1 and 2), its virtual network flow logs, and a small CSV format for hand-made
//! replays; from files, directories, gzip and standard input.
//!
//! The format is detected by content: a stream whose first non-blank character is `{` is Azure
//! flow-log JSON (as Network Watcher writes it to storage: `{"records": [...]}`; NSG and virtual
//! network records are told apart by their shape), anything else is CSV with a header line.
//!
//! Reading is in two stages so that a large input is read in parallel with bounded memory:
//! [`Splitter`] cuts a stream into [`RawChunk`]s of about 128 KiB of whole records or lines (one
//! thread at a time per input), and [`parse_chunk`] turns a chunk into compact [`Tuple`]s (any
//! thread). The scan that cuts a record finds its structure, which travels with the chunk, so
//! the parse scans nothing again.
//! Tuples are the 5-tuple as the logging NSG saw it, the log's time, and for flow logs what Azure decided,
//! with the NSG and rule held once per group ([`Group`]), not per tuple. Tuples are parsed in the
//! record's own bytes: no `String` per tuple. A [`FlowRecord`], the full form with its origin as
//! text, is made only for the records shown to people ([`Catalog::record`]).
//!
//! Why a hand-written reader (`json`, `source`) rather than serde_json or a SIMD parser: errors
//! must carry the line and column of any value (serde_json's streaming visitors report none for a
//! value that parsed), and the reader must never hold the document. Measured on the generated
//! 1,000,000-tuple version 2 log (61.7 MB; `benches/replay`), one thread, AMD EPYC (2 cores,
//! shared): see the figures in README.md's Performance table.
//!
//! Why each record's structure is scanned once (sixth round of issue 20, `perf record` on that
//! log, one thread): a record's parse walks into its nested members (record, `properties`,
//! `flows`, the MAC's `flowTuples`) and, scanning each to skip over it, read the record's
//! structure four more times. Now the scan that cuts a record indexes where each of its objects
//! and arrays ends (`json::Containers`), the index travels with its chunk, and the walk looks
//! ends up (the second scan was ~6 % of a replay's CPU on one thread).
//!
//! Why tuples are read from the JSON text and lists are recycled (measured with `perf record`
//! on that log, one thread, 2026-12-07, the second round): reading tuples was the largest cost
//! (the string found and checked for escapes, then split into fields, then each field read: a
//! third of the time), and the page faults to map fresh lists for every chunk, and the
//! allocator's trimming to give them back, were a tenth. Now a tuple as Network Watcher writes
//! it is read in one pass over its bytes in the text, up to its closing quote (`tuple`; anything
//! else, and every error, by the field reader as before), and chunks' bytes and tuples go back
//! to bounded pools (`recycle`): 27,000 page faults a run became 7,000, and the CPU time a
//! quarter less. Lines of cut records are counted in blocks (`source::count_newlines`).
//!
//! Cut exactly, always: earlier rounds cut windows of the stream at *candidate* record
//! boundaries (`,{"time"`) for workers to check, because the reader thread's serial cutting
//! held two threads back. Since the seventh round every lane cuts its own chunks (the reader's
//! lock is held only while a chunk is cut; `super::lanes`), which measured faster on two threads
//! than the speculative windows, so they were removed. Figures and their history: README.md and
//! docs/replay-performance.md.
//!
//! Contract: reading never panics; a malformed input is a [`FlowLogError`] that names the file,
//! the line and column, the JSON path of a flow-log field, the bad value and what would be valid.
//! Nothing here evaluates anything.

mod azure;
mod csv;
mod json;
mod recycle;
mod source;
mod tuple;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::import::json_position::{Position, file_position};
use crate::net::Flow;
use crate::nsg::{Access, Direction, RuleRef};
use crate::time::{Duration, Instant};

pub use recycle::Recycled;
pub use source::{CHUNK_BYTES, MAX_RECORD_BYTES, RawChunk, RawKind, Source, Splitter, expand, open};

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

    /// The NSG rule the log names (a user or a default rule); `None` for a rule that is not an
    /// NSG rule.
    pub fn rule_ref(&self) -> Option<RuleRef> {
        match self {
            LoggedRule::User(n) => Some(RuleRef::Security { name: n.clone() }),
            LoggedRule::Default(n) => Some(RuleRef::Default { name: n.clone() }),
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

    /// Whether nsgsim's `rule` is this rule: the same kind (user or default) and name. Rule names
    /// are compared without regard to case, as Azure compares resource names.
    pub fn is(&self, rule: &RuleRef) -> bool {
        match (self, rule) {
            (LoggedRule::User(n), RuleRef::Security { name })
            | (LoggedRule::Default(n), RuleRef::Default { name }) => n.eq_ignore_ascii_case(name),
            _ => false,
        }
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

/// Where a tuple of a flow log was logged and which rule decided it; shared by the tuples of one
/// rule group of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Where it was logged.
    pub at: LoggedAt,
    /// The rule.
    pub rule: LoggedRule,
    /// `at` as a number, the same for equal places throughout a replay ([`Catalog::place`]).
    pub place: u32,
    /// `rule` as a number, the same for equal rules throughout a replay ([`Catalog::rule`]).
    pub rule_id: u32,
}

/// What a flow log says about one tuple besides the 5-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TupleLog {
    /// The group (index into [`Chunk::groups`]).
    pub group: u32,
    /// The direction at the logging NIC.
    pub direction: Direction,
    /// Azure's decision.
    pub access: Access,
    /// The flow state, when the format has one.
    pub state: Option<FlowState>,
}

/// Where a tuple is in its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `records[record].(properties|flowRecords).flows[outer].(flows|flowGroups)[inner].flowTuples[tuple]`,
    /// with the keys as the file spells them ([`Catalog::spelling`]).
    Json {
        /// The record.
        record: u32,
        /// The rule group (NSG flow logs) or ACL (virtual network flow logs).
        outer: u32,
        /// The MAC (NSG flow logs) or rule group (virtual network flow logs).
        inner: u32,
        /// The tuple.
        tuple: u32,
        /// The spelling of the keys on the way.
        spelling: u32,
    },
    /// A CSV line.
    Csv {
        /// The 1-based line.
        line: u32,
    },
}

/// One tuple, compact: what the replay needs of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuple {
    /// The 5-tuple (ports are 0 for protocols without ports).
    pub flow: Flow,
    /// When it was logged (flow logs).
    pub time: Option<Instant>,
    /// The offset of the timeline to evaluate it at (the CSV `at` column).
    pub at: Option<Duration>,
    /// The verdict the author expects (the CSV `expected` column).
    pub expected: Option<Access>,
    /// Azure's own decision (flow logs).
    pub logged: Option<TupleLog>,
    /// Where it is in its input.
    pub origin: Origin,
}

/// Where a tuple is among all inputs: input, chunk, index in the chunk. Ordered as the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ordinal {
    /// The input.
    pub file: u32,
    /// The chunk of the input.
    pub chunk: u32,
    /// The tuple in the chunk.
    pub index: u32,
}

/// A record or tuple that could not be read, skipped under `--skip-bad`.
#[derive(Debug)]
pub struct BadInput {
    /// Where it is among the inputs (errors of one chunk keep their order).
    pub ordinal: Ordinal,
    /// What is wrong, positioned.
    pub error: FlowLogError,
    /// How many tuples it stands for when known (a skipped tuple: 1; a skipped record: its
    /// tuples, if they could be counted).
    pub what: BadKind,
}

/// What a skipped piece of input was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadKind {
    /// One tuple or CSV line.
    Tuple,
    /// A whole flow-log record.
    Record,
    /// The rest of an input, from the error on (its structure was lost).
    RestOfInput,
}

/// One chunk, parsed.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The input.
    pub file: u32,
    /// The chunk's number in its input.
    pub seq: u32,
    /// The flow-log groups its tuples refer to.
    pub groups: Vec<Group>,
    /// The tuples, in input order.
    pub tuples: Vec<Tuple>,
    /// What could not be read, in input order.
    pub bad: Vec<BadInput>,
    /// The highest NSG flow-log version seen.
    pub nsg_version: Option<u8>,
    /// Whether virtual network flow-log records were seen.
    pub vnet: bool,
    /// Whether the chunk is CSV.
    pub csv: bool,
}

impl Chunk {
    /// Where tuple `index` is in its input.
    pub fn origin(&self, index: usize) -> Origin {
        self.tuples[index].origin
    }

    /// The ordinal of tuple `index`.
    pub fn ordinal(&self, index: usize) -> Ordinal {
        Ordinal { file: self.file, chunk: self.seq, index: index as u32 }
    }
}

/// The names a replay shares between threads: inputs, key spellings, logging places.
#[derive(Debug, Default)]
pub struct Catalog {
    files: Mutex<Vec<String>>,
    spellings: Mutex<Vec<[Arc<str>; 5]>>,
    places: Mutex<HashMap<LoggedAt, u32>>,
    rules: Mutex<HashMap<LoggedRule, u32>>,
}

impl Catalog {
    /// Registers an input's name; returns its number.
    pub fn add_file(&self, name: String) -> u32 {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.push(name);
        (files.len() - 1) as u32
    }

    /// The name of input `file`.
    pub fn file(&self, file: u32) -> String {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.get(file as usize).cloned().unwrap_or_default()
    }

    /// The number of a spelling of the five keys of a tuple's path.
    pub fn spelling(&self, keys: [&str; 5]) -> u32 {
        let mut all = self.spellings.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = all.iter().position(|s| s.iter().zip(keys).all(|(a, b)| a.as_ref() == b)) {
            return i as u32;
        }
        all.push(keys.map(Arc::from));
        (all.len() - 1) as u32
    }

    /// The number of a logging place, the same for equal places.
    pub fn place(&self, at: &LoggedAt) -> u32 {
        let mut all = self.places.lock().unwrap_or_else(|e| e.into_inner());
        let next = all.len() as u32;
        *all.entry(at.clone()).or_insert(next)
    }

    /// The number of a logged rule, the same for equal rules.
    pub fn rule(&self, rule: &LoggedRule) -> u32 {
        let mut all = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let next = all.len() as u32;
        *all.entry(rule.clone()).or_insert(next)
    }

    /// The origin as people read it: `file:LINE` or `file: JSON path`.
    pub fn origin(&self, file: u32, origin: Origin) -> String {
        let name = self.file(file);
        match origin {
            Origin::Csv { line } => format!("{name}:{line}"),
            Origin::Json { record, outer, inner, tuple, spelling } => {
                let all = self.spellings.lock().unwrap_or_else(|e| e.into_inner());
                let fallback: [Arc<str>; 5] =
                    ["records", "properties", "flows", "flows", "flowTuples"].map(Arc::from);
                let k = all.get(spelling as usize).unwrap_or(&fallback);
                format!(
                    "{name}: {}[{record}].{}.{}[{outer}].{}[{inner}].{}[{tuple}]",
                    k[0], k[1], k[2], k[3], k[4]
                )
            }
        }
    }

    /// The full record of tuple `index` of `chunk`.
    pub fn record(&self, chunk: &Chunk, index: usize) -> FlowRecord {
        let t = &chunk.tuples[index];
        let group = t.logged.map(|l| &chunk.groups[l.group as usize]);
        FlowRecord::of(self.origin(chunk.file, chunk.origin(index)), group, t)
    }
}

impl FlowRecord {
    /// The full record of tuple `t` of a flow-log `group` (none for CSV), with its origin.
    pub fn of(origin: String, group: Option<&Group>, t: &Tuple) -> FlowRecord {
        FlowRecord {
            origin,
            flow: t.flow,
            time: t.time,
            at: t.at,
            logged: t.logged.zip(group).map(|(l, g)| Logged {
                at: g.at.clone(),
                direction: l.direction,
                access: l.access,
                rule: g.rule.clone(),
                state: l.state,
            }),
            expected: t.expected,
        }
    }
}

/// Parses one chunk; with `skip_bad`, what cannot be read is recorded in [`Chunk::bad`] and
/// skipped, else the first such thing is the error.
///
/// # Errors
/// The first malformed record or tuple, positioned, unless `skip_bad`.
pub fn parse_chunk(
    raw: &RawChunk,
    catalog: &Catalog,
    name: &Path,
    skip_bad: bool,
) -> Result<Chunk, FlowLogError> {
    parse_chunk_until(raw, catalog, name, skip_bad, None)
}

/// [`parse_chunk`], refusing a CSV `at` offset past `latest_at` (the last offset the calendar
/// reaches from the scenario's start): the one rule of every offset, like `--at`.
///
/// # Errors
/// As [`parse_chunk`]; an `at` cell past `latest_at`, at its line and column.
pub fn parse_chunk_until(
    raw: &RawChunk,
    catalog: &Catalog,
    name: &Path,
    skip_bad: bool,
    latest_at: Option<Duration>,
) -> Result<Chunk, FlowLogError> {
    parse_chunk_into(raw, catalog, name, skip_bad, latest_at, Vec::new())
}

/// [`parse_chunk_until`] into `tuples` (emptied), a list of an earlier chunk: a new list is new
/// memory, and mapping it was a tenth of a replay's time.
///
/// # Errors
/// As [`parse_chunk_until`].
pub fn parse_chunk_into(
    raw: &RawChunk,
    catalog: &Catalog,
    name: &Path,
    skip_bad: bool,
    latest_at: Option<Duration>,
    mut tuples: Vec<Tuple>,
) -> Result<Chunk, FlowLogError> {
    tuples.clear();
    let mut chunk = Chunk { file: raw.file, seq: raw.seq, tuples, ..Chunk::default() };
    match &raw.kind {
        RawKind::Json { records, records_key, containers } => {
            chunk.tuples.reserve(raw.bytes.len() / 56);
            azure::parse(raw, (records, containers), records_key, catalog, name, skip_bad, &mut chunk)?;
        }
        RawKind::Csv { first_line, header } => {
            chunk.csv = true;
            csv::parse(raw, (*first_line, header), name, (skip_bad, latest_at), &mut chunk)?;
        }
    }
    Ok(chunk)
}

/// One input read whole (for small inputs and tests): its format and its records in order.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file.
    pub file: PathBuf,
    /// What it was.
    pub format: InputFormat,
    /// Its records, in file order.
    pub records: Vec<FlowRecord>,
}

/// Reads a whole input held in memory, on this thread.
///
/// # Errors
/// The first malformed record, with its position and what is valid.
pub fn parse(path: &Path, text: &str) -> Result<Input, FlowLogError> {
    let catalog = Catalog::default();
    let file = catalog.add_file(path.display().to_string());
    let mut splitter =
        Splitter::new(Box::new(std::io::Cursor::new(text.as_bytes().to_vec())), file, path.into(), false);
    let mut records = Vec::new();
    let (mut version, mut vnet, mut csv) = (None, false, false);
    while let Some(raw) = splitter.next_chunk()? {
        let chunk = parse_chunk(&raw, &catalog, path, false)?;
        version = version.max(chunk.nsg_version);
        vnet |= chunk.vnet;
        csv |= chunk.csv;
        records.extend((0..chunk.tuples.len()).map(|i| catalog.record(&chunk, i)));
    }
    let format = input_format(version, vnet, csv || splitter.is_json() == Some(false));
    Ok(Input { file: path.into(), format, records })
}

/// The format of an input from what its chunks held.
pub fn input_format(nsg_version: Option<u8>, vnet: bool, csv: bool) -> InputFormat {
    match (csv, nsg_version, vnet) {
        (true, _, _) => InputFormat::Csv,
        (false, Some(version), _) => InputFormat::NsgFlowLog { version },
        (false, None, true) => InputFormat::VnetFlowLog,
        (false, None, false) => InputFormat::NsgFlowLog { version: 2 },
    }
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
    #[error("{}:{position}: {message}", file.display())]
    At {
        /// The file.
        file: PathBuf,
        /// Where in the file.
        position: Position,
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

/// The instant `secs` seconds after the Unix epoch, if the calendar reaches it.
pub(crate) fn unix_instant(secs: i64) -> Option<Instant> {
    Instant::from_unix_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_split_into_kind_and_name_without_regard_to_case() {
        assert_eq!(LoggedRule::parse("UserRule_allow-rdp"), LoggedRule::User("allow-rdp".into()));
        assert_eq!(LoggedRule::parse("userrule_allow-rdp"), LoggedRule::User("allow-rdp".into()));
        assert_eq!(
            LoggedRule::parse("DefaultRule_DenyAllInBound"),
            LoggedRule::Default("DenyAllInBound".into())
        );
        assert_eq!(LoggedRule::parse("Internet"), LoggedRule::Other("Internet".into()));
        let user = |name: &str| RuleRef::Security { name: name.into() };
        assert!(LoggedRule::parse("UserRule_Allow-RDP").is(&user("allow-rdp")));
        assert!(!LoggedRule::parse("UserRule_allow-rdp").is(&RuleRef::Default { name: "allow-rdp".into() }));
        assert!(
            LoggedRule::parse("defaultrule_DenyAllInBound")
                .is(&RuleRef::Default { name: "DenyAllInbound".into() })
        );
        assert!(!LoggedRule::parse("unspecified").is(&user("unspecified")));
        assert!(!LoggedRule::parse("UserRule_allow").is(&user("allow-rdp")));
        assert_eq!(LoggedRule::parse("UserRule_x").rule_ref(), Some(user("x")));
        assert_eq!(LoggedRule::parse("unspecified").rule_ref(), None);
        assert_eq!(LoggedRule::parse("DefaultRule_X").logged_name(), "DefaultRule_X");
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

//! Traffic records to replay against a scenario, read as a stream: Azure's NSG flow logs
//! (versions 1 and 2), its virtual network flow logs, and a small CSV format for hand-made
//! replays; from files, directories, gzip and standard input.
//!
//! The format is detected by content: a stream whose first non-blank character is `{` is Azure
//! flow-log JSON (as Network Watcher writes it to storage: `{"records": [...]}`; NSG and virtual
//! network records are told apart by their shape), anything else is CSV with a header line.
//!
//! Reading is in two stages so that a large input is read in parallel with bounded memory:
//! [`Splitter`] cuts a stream into [`RawChunk`]s (one thread per input), and [`parse_chunk`]
//! turns a chunk into compact [`Tuple`]s (any thread). Inside a flow log's records array the
//! splitter does not read the records' structure: it cuts a window of the stream at *candidate*
//! record boundaries (`,{"time"`) and the workers find and check the records of each piece in
//! parallel; the pieces proved to be whole records are kept in order, and whatever is not (a
//! wrong guess, a malformed record, the end of the array) is cut again exactly, record by record,
//! on the reader thread (see `speculate`). The header of a document, its end, CSV, and logs whose
//! records do not start with `time` are cut exactly: chunks of about 128 KiB of whole records or
//! lines. Either way a chunk's tuples are the same, and so is every error and its position.
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
//! Why speculative cutting (measured with `perf record` on that log, one thread, 2026-12-07):
//! the reader thread's exact cutting was an eighth of all the CPU time, serial; and each worker
//! scanned every record's structure four more times, once per level it walked into (record,
//! `properties`, `flows`, the MAC's `flowTuples`), to skip over the nested members. Now the
//! reader only looks for candidates and copies bytes, and the worker that reads a record scans
//! its structure once, to find where it ends in its piece and index where each of its objects
//! and arrays ends (`json::Containers`), which the walk then looks up. A record cut exactly is
//! indexed by the scan that cut it, and the index travels with its chunk (sixth round: the
//! second scan was ~6 % of a replay's CPU on one thread).
//!
//! Why tuples are read from the JSON text and lists are recycled (measured with `perf record`
//! on that log, one thread, 2026-12-07, the second round): reading tuples was the largest cost
//! (the string found and checked for escapes, then split into fields, then each field read: a
//! third of the time), and the page faults to map fresh chunk and shard lists every wave, and
//! the allocator's trimming to give them back, were a tenth. Now a tuple as Network Watcher
//! writes it is read in one pass over its bytes in the text, up to its closing quote (`tuple`;
//! anything else, and every error, by the field reader as before), and chunks' bytes, their tuples
//! and the shards' tuples go back to bounded pools after each wave (`recycle`): 27,000 page
//! faults a run became 7,000, and the CPU time a quarter less. Exact cutting alone (no
//! speculation) costs the same CPU on one thread but about a tenth more on two (the workers wait
//! for the reader), so speculative cutting stays.
//!
//! Why a window's pieces share the stream's buffer (`shared`; third round, 2026-12-07): the
//! reader thread copied each window, a megabyte, into its pieces: a quarter of its time, and the
//! reader thread is serial work beside the workers. Now a piece is a range of the buffer; the
//! stream goes on in a spare buffer while pieces hold the last one. The reader thread went from
//! ~11.5 % of all CPU to ~8–9 %. What remains (`perf record`, one thread, after that round):
//! reading tuples (~20 %, one pass over ~60 bytes each), dealing tuples to shards (~9 %: the
//! shards' lists are written cold, 120 bytes a tuple), the connection table (~9 %), the
//! evaluation (~13 % with the chain's rules and the matcher), the kernel's copy of the file
//! (~5 %), the structure of records (~7 %). The fourth round stopped dealing on one worker
//! thread (its chunks are cut exactly and handled in place; `super::Dealt`) and numbers a
//! settled piece's records once ([`Chunk::record_base`]). The sixth round scans each record's
//! structure once (above), counts the lines of cut records in blocks rather than by memchr's
//! iterator (a call per line: ~3 % on one thread), and on one worker thread reads the inputs on
//! the worker itself (`super::Feed`). Figures and their history: README.md and
//! docs/replay-performance.md.
//!
//! Contract: reading never panics; a malformed input is a [`FlowLogError`] that names the file,
//! the line and column, the JSON path of a flow-log field, the bad value and what would be valid.
//! Nothing here evaluates anything.

mod azure;
mod csv;
mod json;
mod recycle;
mod shared;
mod source;
mod speculate;
mod tuple;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::import::json_position::{Position, file_position};
use crate::net::Flow;
use crate::nsg::{Access, Direction, RuleRef};
use crate::time::{Duration, Instant};

pub use recycle::Recycled;
pub use shared::SharedBytes;
pub use source::{CHUNK_BYTES, MAX_RECORD_BYTES, RawChunk, RawKind, Source, Splitter, expand, open};
pub use speculate::{Advance, Cut, Cutting, PIECE_BYTES, Speculation, Verdict, WINDOW_BYTES, Window, settle};

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
    /// For a piece of a speculative window: what its worker found ([`settle`] keeps it or not).
    pub speculation: Option<Speculation>,
    /// What to add to the record number of its tuples' JSON origins: a piece's records are
    /// numbered from 0 as it is parsed, and [`settle`] says where it starts among the input's
    /// records (kept here rather than added to every tuple: on two threads that pass over a
    /// window's tuples, cold in the cache, was serial work between the workers' two steps).
    pub record_base: u32,
}

impl Chunk {
    /// Where tuple `index` is in its input.
    pub fn origin(&self, index: usize) -> Origin {
        let mut origin = self.tuples[index].origin;
        if let Origin::Json { record, .. } = &mut origin {
            *record = record.saturating_add(self.record_base);
        }
        origin
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
    if let Some(records_key) = speculate::piece_key(raw) {
        speculate::parse_piece(raw, records_key, catalog, name, &mut chunk);
        return Ok(chunk);
    }
    match &raw.kind {
        RawKind::Piece { .. } => {}
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

    /// Reads `text` as the replay does, with speculative windows cut as `cutting` says and
    /// settled in order; its records, and how many pieces were kept and dropped.
    fn speculative(text: &str, cutting: Cutting) -> Result<(Vec<FlowRecord>, usize, usize), FlowLogError> {
        let path = Path::new("t.json");
        let catalog = Catalog::default();
        let file = catalog.add_file("t.json".into());
        let reader = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut splitter = Splitter::new(reader, file, path.into(), false).speculate(cutting);
        let (mut records, mut kept, mut dropped) = (Vec::new(), 0, 0);
        let mut add =
            |chunk: &Chunk| records.extend((0..chunk.tuples.len()).map(|i| catalog.record(chunk, i)));
        while let Some(cut) = splitter.next_cut()? {
            match cut {
                Cut::Chunk(raw) => add(&parse_chunk(&raw, &catalog, path, false)?),
                Cut::Window(window) => {
                    let mut chunks = window
                        .pieces
                        .iter()
                        .map(|raw| parse_chunk(raw, &catalog, path, false))
                        .collect::<Result<Vec<_>, _>>()?;
                    let verdict = settle(window.first_index, chunks.iter_mut());
                    splitter.settle(&verdict)?;
                    kept += verdict.pieces;
                    dropped += chunks.len() - verdict.pieces;
                    chunks.iter().take(verdict.pieces).for_each(&mut add);
                }
            }
        }
        Ok((records, kept, dropped))
    }

    /// A version 2 log of `records` records of three tuples each, as Network Watcher writes it;
    /// `extra` is a member written into every record before its properties.
    fn log(records: usize, extra: &str) -> String {
        let mut out = String::from("{\"records\":[");
        for r in 0..records {
            if r > 0 {
                out.push_str(",\n");
            }
            out.push_str(&format!(
                "{{\"time\":\"2025-01-06T09:{:02}:00Z\",\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":\"/X/NETWORKSECURITYGROUPS/WEB-NSG\",{extra}\"properties\":{{\"Version\":2,\"flows\":[{{\"rule\":\"UserRule_allow-https\",\"flows\":[{{\"mac\":\"000D3A1B2C3D\",\"flowTuples\":[\n",
                r % 60
            ));
            let tuples: Vec<String> = (0..3)
                .map(|t| {
                    format!("\"1736154000,198.18.0.{},10.0.1.4,{},443,T,I,A,B,,,,\"", r % 250 + 1, 1024 + t)
                })
                .collect();
            out.push_str(&tuples.join(",\n"));
            out.push_str("]}]}]}}");
        }
        out.push_str("],\n\"after\": [1, {\"time\": 2}]}\n");
        out
    }

    #[test]
    fn speculative_windows_read_what_exact_cutting_reads() {
        // Larger than the first exact chunk (CHUNK_BYTES), after which windows are cut.
        let text = log(1000, "");
        let exact = parse(Path::new("t.json"), &text).expect("valid").records;
        assert_eq!(exact.len(), 3000);
        for cutting in [Cutting { piece: 1, window: 300 }, Cutting { piece: 700, window: 3000 }] {
            let (records, kept, _) = speculative(&text, cutting).expect("valid");
            assert!(kept > 3, "{cutting:?}: pieces were kept ({kept})");
            assert_eq!(records, exact, "{cutting:?}");
        }
    }

    #[test]
    fn a_record_straddling_a_candidate_boundary_is_read_again_exactly() {
        // Every record holds an object that starts like a record, after a comma: pieces cut
        // there straddle a record and are dropped, and that part is read again exactly.
        let text = log(1000, "\"extra\":[0,\n{\"time\":1}],");
        let exact = parse(Path::new("t.json"), &text).expect("valid").records;
        // A piece ends at a candidate: with the smallest pieces every one ends inside a record
        // (the inner object comes first) and is dropped; larger pieces end at a record's start
        // as often as not, and are kept. Whatever is dropped or kept, the records are the exact ones.
        let (mut kept_in_all, mut dropped_in_all) = (0, 0);
        for piece in [1, 97, 700, 1500] {
            let cutting = Cutting { piece, window: 4000 };
            let (records, kept, dropped) = speculative(&text, cutting).expect("valid");
            assert_eq!(records, exact, "{cutting:?}");
            kept_in_all += kept;
            dropped_in_all += dropped;
        }
        assert!(dropped_in_all > 0, "some pieces straddled a record");
        assert!(kept_in_all > 0, "some pieces were kept");
    }

    #[test]
    fn pieces_held_while_the_stream_reads_on_keep_their_bytes() {
        // The pieces of every window share the stream's buffer (`shared`): held until the end,
        // while the stream fills and moves on in other buffers, each still reads what it was
        // cut from, and the records are the exact ones.
        let text = log(1000, "");
        let exact = parse(Path::new("t.json"), &text).expect("valid").records;
        let path = Path::new("t.json");
        let catalog = Catalog::default();
        let file = catalog.add_file("t.json".into());
        let reader = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut splitter =
            Splitter::new(reader, file, path.into(), false).speculate(Cutting { piece: 700, window: 3000 });
        let (mut records, mut held) = (Vec::new(), Vec::new());
        while let Some(cut) = splitter.next_cut().expect("valid") {
            let chunks = match cut {
                Cut::Chunk(raw) => vec![parse_chunk(&raw, &catalog, path, false).expect("valid")],
                Cut::Window(window) => {
                    let mut chunks: Vec<Chunk> = window
                        .pieces
                        .iter()
                        .map(|raw| parse_chunk(raw, &catalog, path, false).expect("pieces never fail"))
                        .collect();
                    let verdict = settle(window.first_index, chunks.iter_mut());
                    splitter.settle(&verdict).expect("fits");
                    chunks.truncate(verdict.pieces);
                    held.extend(window.pieces.into_iter().map(|p| (p.bytes.to_vec(), p)));
                    chunks
                }
            };
            for chunk in &chunks {
                records.extend((0..chunk.tuples.len()).map(|i| catalog.record(chunk, i)));
            }
        }
        assert_eq!(records, exact);
        assert!(held.len() > 10, "windows were cut ({})", held.len());
        for (i, (copy, piece)) in held.iter().enumerate() {
            assert_eq!(&copy[..], &piece.bytes[..], "piece {i}");
        }
    }

    /// `text` with its `n`th (from 0) `from` replaced by `to`.
    fn replace_nth(text: &str, from: &str, to: &str, n: usize) -> String {
        let (at, _) = text.match_indices(from).nth(n).expect("an occurrence");
        format!("{}{to}{}", &text[..at], &text[at + from.len()..])
    }

    #[test]
    fn an_error_past_kept_pieces_is_where_exact_reading_puts_it() {
        let text = replace_nth(&log(1000, ""), "10.0.1.4,1025,443,T", "10.0.1.4,1025,443,X", 700);
        let exact = parse(Path::new("t.json"), &text).expect_err("a bad tuple").to_string();
        assert!(exact.contains("records[700].properties.flows[0].flows[0].flowTuples[1]"), "{exact}");
        for cutting in [Cutting { piece: 1, window: 300 }, Cutting { piece: 500, window: 5000 }] {
            let err = speculative(&text, cutting).expect_err("a bad tuple").to_string();
            assert_eq!(err, exact, "{cutting:?}");
        }
        // A structure error likewise.
        let broken = replace_nth(&log(1000, ""), "]}]}]}}", "]}]}]}]", 745);
        let exact = parse(Path::new("t.json"), &broken).expect_err("broken").to_string();
        let err = speculative(&broken, Cutting { piece: 1, window: 300 }).expect_err("broken").to_string();
        assert_eq!(err, exact);
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

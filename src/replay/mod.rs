//! Replaying real traffic against a scenario's policy: "does our model of production decide
//! these flows the way production did?", at the scale of an estate's flow logs.
//!
//! The inputs are read as streams ([`read`]: NSG and virtual network flow logs, CSV; files,
//! directories, gzip, standard input) and never held whole: a reader thread cuts each input into
//! chunks of whole records, or into windows of pieces at candidate record boundaries that the
//! workers check (the reader waits for each window's verdict: the pieces proved whole are kept,
//! the rest is cut again exactly), a wave of chunks is parsed in parallel, and the wave's tuples are then
//! handed to [`SHARDS`] shards, by connection, that evaluate them in parallel and keep totals
//! ([`Tally`]). On one worker thread there is no reader thread (`--threads 1` is one core, see
//! `Feed`): the worker cuts each chunk exactly, parses it, and hands its tuples to their shards
//! in place (see `Dealt`). Memory is bounded by the chunks in flight, the open connections (see `select`),
//! each worker's bounded tables of shared evaluations (see `fast`), and the totals: per rule and
//! hour, per unknown address (capped), and the first few records shown.
//!
//! Each record is evaluated in the state of the scenario at the record's offset of the timeline
//! (see `states`):
//! - by default every record at one offset ([`Timing::at`], the end of the timeline when absent:
//!   after the last step and the last JIT expiry);
//! - with [`Timing::log_start`], each flow-log record at its own time: a record logged at
//!   `log_start + d` is evaluated at offset `d`, so rules that a JIT grant or a timeline step
//!   changed are seen as they were then; records logged before `log_start` are not evaluated;
//! - a CSV row with an `at` cell at that offset.
//!
//! What is compared (see [`Check`]) and counted (see [`Tally`]) is documented on the items; the
//! choices are recorded in docs/fidelity.md. The reference evaluation (`compare`: the whole path
//! for every record) is kept; the batched one (`fast`) must give its answers, and the records
//! shown to people are evaluated again by the reference, with their traces. Shards, waves and
//! workers change nothing in the result: totals are sums, lists are sorted or kept in input order.
//! This module reads no clock; it reads the inputs it is given.

mod against;
mod compare;
mod fast;
pub mod read;
mod select;
mod states;
mod tally;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::nsg::{Access, Direction, RuleKind, RuleRef};
use crate::path::Trace;
use crate::sim::{Duration, Instant, SimError, Step, World};

use fast::{Evaluator, Fact};
use read::{
    BadKind, CHUNK_BYTES, Catalog, Chunk, Cut, Cutting, FlowLogError, InputFormat, PIECE_BYTES, RawChunk,
    Recycled, Source, Splitter, Tuple, Verdict, WINDOW_BYTES, Window,
};
use select::{ConnectionKey, Connections};
use states::States;
use tally::Partial;

pub use against::{Impact, ImpactClass, MAX_PATHS, PathImpact, PathKey, Side};
pub use fast::EvaluationCounts;
pub use tally::{MAX_UNKNOWN_ADDRESSES, RuleCount, Sample, Tally, VerdictCounts};

/// The number of shards tuples are spread over (fixed, so that nothing depends on the number of
/// threads).
pub const SHARDS: usize = 16;

/// When records are evaluated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    /// The offset of the timeline for records without their own (default: its end).
    pub at: Option<Duration>,
    /// Place flow-log records on the timeline by their own time: this instant is offset 0.
    pub log_start: Option<Instant>,
}

/// A decision: what was allowed or denied, and by which NSG and rule when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Allow or deny.
    pub access: Access,
    /// The NSG (or firewall) that decided, as the scenario names it.
    pub nsg: Option<String>,
    /// The rule (printed as Azure spells it: `securityRules/NAME`, `defaultSecurityRules/NAME`).
    pub rule: Option<RuleRef>,
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.access)?;
        match (&self.nsg, &self.rule) {
            (Some(nsg), Some(rule)) => write!(f, " by {nsg} {rule}"),
            (None, Some(rule)) => write!(f, " by {rule}"),
            (Some(nsg), None) => write!(f, " at {nsg}"),
            (None, None) => Ok(()),
        }
    }
}

/// A record's reference answer (Azure's log, or the CSV's `expected`) against nsgsim's.
///
/// For a flow-log record the comparison is made where Azure logged the flow: the NSG named by
/// the record (NSG flow logs), or the NSGs of the logging NIC and its subnet (virtual network flow
/// logs, whose `aclID` is a GUID the scenario does not know), in the record's direction. Azure
/// logs a denied flow at the NSG that denied it and an allowed flow at the last NSG that allowed
/// it, and the order between the subnet and NIC levels is "platform dependent" (Microsoft, "Flow
/// logging for network security groups"). So:
/// - when nsgsim's path passes that NSG, its access and rule there must be Azure's;
/// - when nsgsim's path is denied before it gets there, Azure's `A` disagrees; Azure's `D` agrees
///   if that NSG, evaluated alone on the logged tuple, denies with Azure's rule;
/// - when nsgsim's path does not pass that NSG at all (a load balancer or route nsgsim does not
///   model), the NSG is evaluated alone on the logged tuple, and the check says so.
///
/// For a CSV row with `expected`, nsgsim's end-to-end verdict must be the expected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Whether nsgsim agrees.
    pub agrees: bool,
    /// Azure's logged decision, or the expected verdict.
    pub reference: Decision,
    /// The rule name exactly as the log wrote it (`UserRule_NAME`), for flow logs.
    pub logged_rule: Option<String>,
    /// nsgsim's decision at the same place.
    pub nsgsim: Decision,
    /// How nsgsim's answer was found when it is not simply the hop on the path.
    pub note: Option<String>,
    /// The full trace, kept only when nsgsim disagrees.
    pub trace: Option<Trace>,
}

/// One NSG rule that decided a flow.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleHit {
    /// The NSG, as the scenario names it.
    pub nsg: String,
    /// The direction it was evaluated in.
    pub direction: Direction,
    /// The rule (a user or default rule; printed `securityRules/NAME`,
    /// `defaultSecurityRules/NAME`). Tallies are keyed by it, never by its text.
    pub rule: RuleRef,
}

/// What nsgsim made of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// The instant it was evaluated at.
    pub at: Instant,
    /// nsgsim's verdict as counted in the totals: for a flow-log record, the decision where Azure
    /// logged it; for a CSV row, the end-to-end verdict.
    pub verdict: Access,
    /// The direction of the totals: the logged direction, or for a CSV row the direction of the
    /// hop that decided (`None` when no NSG decided: routing, a firewall, Bastion).
    pub direction: Option<Direction>,
    /// The NSG rules that decided it, one per NSG evaluated (see [`Tally`] for which count).
    pub hits: Vec<RuleHit>,
    /// The comparison with Azure's log or the expectation, when the record has one.
    pub check: Option<Check>,
}

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "made only for records evaluated in full or shown, and nearly all are evaluated: boxing would allocate for the common case"
)]
pub enum Outcome {
    /// Logged before `--log-start`: not on the timeline, not evaluated.
    BeforeStart,
    /// Its addresses, NSG or rule are not in the scenario: not evaluated, not compared.
    Unmapped(Unmapped),
    /// Evaluated.
    Evaluated(Evaluation),
}

/// Why a record could not be placed in the scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmapped {
    /// What is missing, as a sentence.
    pub reason: String,
    /// The addresses of the record that the scenario does not know (empty when the NSG or the
    /// rule is what is missing).
    pub unknown: Vec<IpAddr>,
}

/// A user rule present in an NSG while records were evaluated: the candidates for "decided
/// nothing".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InventoryRule {
    /// The NSG.
    pub nsg: String,
    /// The rule's direction.
    pub direction: Direction,
    /// Its priority.
    pub priority: u16,
    /// The rule (a user rule: printed `securityRules/NAME`).
    pub rule: RuleRef,
}

/// How a replay runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// When records are evaluated.
    pub timing: Timing,
    /// Count, report and skip malformed records instead of stopping at the first.
    pub skip_bad: bool,
    /// How many disagreements and unmapped records to keep for showing (each).
    pub samples: usize,
}

/// Where a replay is, for a progress display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressState {
    /// Inputs read to their end.
    pub inputs_done: usize,
    /// Inputs in all.
    pub inputs: usize,
    /// Bytes read from storage (before decompression).
    pub bytes: u64,
    /// Bytes in all, when every input's size is known.
    pub total_bytes: Option<u64>,
    /// Tuples read.
    pub tuples: u64,
}

/// Told how a replay advances (after each wave of chunks).
pub trait Progress: Sync {
    /// The replay has advanced to `state`.
    fn update(&self, state: &ProgressState);
}

/// No progress display.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _: &ProgressState) {}
}

/// One input and what it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputSummary {
    /// Its name.
    pub name: String,
    /// Its format.
    pub format: InputFormat,
}

/// What `--skip-bad` skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Malformed tuples or CSV lines.
    pub tuples: usize,
    /// Malformed flow-log records (with all their tuples).
    pub records: usize,
    /// Inputs read only up to an error that lost their structure (or their UTF-8).
    pub rest_of_inputs: usize,
    /// The first errors, positioned, in input order.
    pub first: Vec<String>,
}

impl Skipped {
    /// Whether anything was skipped.
    pub fn any(&self) -> bool {
        self.tuples + self.records + self.rest_of_inputs > 0
    }
}

/// A record shown to people, with the reference evaluation's full outcome.
#[derive(Clone, Debug)]
pub struct Shown {
    /// The record, where it is, and when it was evaluated.
    pub sample: Sample,
    /// Its origin as people read it.
    pub origin: String,
    /// What the reference evaluation made of it.
    pub outcome: Outcome,
}

/// The result of a replay.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The scenario's start.
    pub start: Instant,
    /// The offset of the end of the timeline (the last step or event).
    pub end: Duration,
    /// The offset used for records without their own.
    pub at: Duration,
    /// The inputs, in order.
    pub inputs: Vec<InputSummary>,
    /// Tuples (records) read.
    pub tuples: usize,
    /// Flows after dropping the records of connections already counted.
    pub flows: usize,
    /// Records dropped as records of a connection already counted.
    pub dropped: usize,
    /// Connections forgotten because too many were open at once (their later records counted).
    pub forgotten: u64,
    /// The totals.
    pub tally: Tally,
    /// The first disagreements, in input order.
    pub disagreements: Vec<Shown>,
    /// The first unmapped records, in input order.
    pub unmapped: Vec<Shown>,
    /// What `--skip-bad` skipped.
    pub skipped: Skipped,
    /// How the tuples were evaluated.
    pub counts: EvaluationCounts,
    /// With a proposed scenario: what it does to the observed flows.
    pub impact: Option<Impact>,
}

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// A step of the timeline cannot be applied.
    #[error("{0}")]
    Sim(SimError),
    /// A step of the proposed scenario's timeline cannot be applied.
    #[error("{0}")]
    ProposedSim(SimError),
    /// An input cannot be read.
    #[error(transparent)]
    Input(#[from] FlowLogError),
}

/// Where on the timeline a tuple is evaluated: its offset, or `None` before `log_start`.
fn placement(t: &Tuple, at: Duration, timing: &Timing) -> Option<Duration> {
    if let Some(own) = t.at {
        return Some(own);
    }
    match (timing.log_start, t.time) {
        (Some(origin), Some(time)) => (time >= origin).then(|| time.since(origin)),
        _ => Some(at),
    }
}

/// What the reader thread sends.
enum Message {
    /// An input starts.
    Start { name: String },
    /// A chunk of it.
    Chunk(RawChunk),
    /// A window of speculative pieces of it; the reader waits for the verdict.
    Window { window: Window, reply: SyncSender<Verdict> },
    /// It ends; whether it was JSON.
    End { file: u32, json: Option<bool> },
    /// It could not be read on from here.
    Error { error: FlowLogError },
}

/// The inputs, read in order, one message at a time: on a reader thread of their own
/// ([`read_inputs`]), or on one worker thread by the collector itself ([`Feed::Inline`]).
struct Inputs<'a> {
    sources: &'a [Source],
    catalog: &'a Catalog,
    bytes: Arc<AtomicU64>,
    buffers: Arc<Recycled<u8>>,
    skip_bad: bool,
    cutting: Option<Cutting>,
    /// The next source to open.
    next: usize,
    /// The input being read and its index.
    current: Option<(u32, Splitter)>,
    /// Messages made and not given yet.
    queue: std::collections::VecDeque<Message>,
    /// Nothing more is read (all read, or an input could not be read on and `skip_bad` is off).
    finished: bool,
}

/// What the inputs give next.
enum Pulled {
    /// A message for the collector.
    Message(Message),
    /// A window of speculative pieces: the reader waits for its verdict ([`Inputs::settle`]).
    Window(Window),
}

impl<'a> Inputs<'a> {
    fn new(
        sources: &'a [Source],
        catalog: &'a Catalog,
        bytes: Arc<AtomicU64>,
        buffers: Arc<Recycled<u8>>,
        (skip_bad, cutting): (bool, Option<Cutting>),
    ) -> Inputs<'a> {
        Inputs {
            sources,
            catalog,
            bytes,
            buffers,
            skip_bad,
            cutting,
            next: 0,
            current: None,
            queue: std::collections::VecDeque::new(),
            finished: false,
        }
    }

    /// The next message, or `None` when all is read: an input's start, its chunks (or
    /// windows), its end; an error ends everything unless `skip_bad` (the rest of that input is
    /// skipped; an input that cannot be opened ends everything).
    fn pull(&mut self) -> Option<Pulled> {
        loop {
            if let Some(m) = self.queue.pop_front() {
                return Some(Pulled::Message(m));
            }
            if self.finished {
                return None;
            }
            let Some((file, splitter)) = &mut self.current else {
                let Some(source) = self.sources.get(self.next) else {
                    self.finished = true;
                    continue;
                };
                self.next += 1;
                let name = source.name();
                let file = self.catalog.add_file(name.clone());
                self.queue.push_back(Message::Start { name: name.clone() });
                match read::open(source, self.bytes.clone()) {
                    Ok((reader, gzip)) => {
                        let mut splitter =
                            Splitter::new(reader, file, name.into(), gzip).recycling(self.buffers.clone());
                        if let Some(cutting) = self.cutting {
                            splitter = splitter.speculate(cutting);
                        }
                        self.current = Some((file, splitter));
                    }
                    Err(error) => {
                        self.queue.push_back(Message::Error { error });
                        self.finished = true;
                    }
                }
                continue;
            };
            match splitter.next_cut() {
                Ok(Some(Cut::Chunk(chunk))) => return Some(Pulled::Message(Message::Chunk(chunk))),
                Ok(Some(Cut::Window(window))) => return Some(Pulled::Window(window)),
                Ok(None) => {
                    self.queue.push_back(Message::End { file: *file, json: splitter.is_json() });
                    self.current = None;
                }
                Err(error) => {
                    let end = Message::End { file: *file, json: splitter.is_json() };
                    self.queue.push_back(Message::Error { error });
                    if self.skip_bad {
                        self.queue.push_back(end);
                    } else {
                        self.finished = true;
                    }
                    self.current = None;
                }
            }
        }
    }

    /// Settles the window given last; an error when the reader cannot go on from it.
    fn settle(&mut self, verdict: &Verdict) -> Option<Message> {
        let (_, splitter) = self.current.as_mut()?;
        let error = splitter.settle(verdict).err()?;
        self.finished = true;
        self.current = None;
        Some(Message::Error { error })
    }
}

/// Reads the inputs on a thread of its own, sending each message; waits for each window's
/// verdict.
fn read_inputs(mut inputs: Inputs<'_>, tx: SyncSender<Message>) {
    while let Some(pulled) = inputs.pull() {
        match pulled {
            Pulled::Message(m) => {
                if tx.send(m).is_err() {
                    return;
                }
            }
            Pulled::Window(window) => {
                let (reply, verdict) = sync_channel(1);
                if tx.send(Message::Window { window, reply }).is_err() {
                    return;
                }
                // The collector settles the window before it evaluates it.
                let Ok(verdict) = verdict.recv() else { return };
                if let Some(error) = inputs.settle(&verdict) {
                    let _ = tx.send(error);
                    return;
                }
            }
        }
    }
}

/// Where the collector gets the inputs' messages from.
///
/// On one worker thread the inputs are read by the collector itself, when it needs the next
/// chunk (`Inline`): `--threads 1` is one core. Measured (sixth round of issue 20, `perf stat`,
/// the 1,000,000-tuple log): the reader thread beside the worker made one "thread" use 1.2 cores
/// (its wall time was not one core's) and cost the hand-over of every chunk between two threads
/// (wake-ups, and the chunk's bytes moving between the cores' caches); see
/// docs/replay-performance.md for the figures. More threads keep a reader thread, which cuts
/// speculative windows while the workers evaluate.
enum Feed<'a> {
    Thread(Receiver<Message>),
    Inline(Box<Inputs<'a>>),
}

impl Feed<'_> {
    /// The next message: waiting for one when `wait`, else only one that is ready.
    fn next(&mut self, wait: bool) -> Option<Message> {
        match self {
            Feed::Thread(rx) if wait => rx.recv().ok(),
            Feed::Thread(rx) => rx.try_recv().ok(),
            Feed::Inline(inputs) => match inputs.pull()? {
                Pulled::Message(m) => Some(m),
                Pulled::Window(_) => unreachable!("inline reading cuts records exactly: no windows"),
            },
        }
    }
}

/// One shard: its open connections, evaluator and totals.
struct Shard<'s> {
    impact: Option<against::ImpactPartial>,
    connections: Connections,
    evaluator: Evaluator<'s>,
    partial: Partial,
    flows: usize,
    dropped: usize,
}

/// What every shard reads.
struct Context<'a> {
    states: &'a States,
    proposed: Option<&'a States>,
    catalog: &'a Catalog,
    at: Duration,
    options: &'a Options,
}

impl Shard<'_> {
    fn handle(&mut self, ctx: &Context<'_>, chunk: &Chunk, index: usize, t: &Tuple) {
        let group = t.logged.map(|l| &chunk.groups[l.group as usize]);
        if let (Some(l), Some(g)) = (t.logged, group)
            && !self.connections.counts(ConnectionKey::of(g, t), l.state, l.access)
        {
            self.dropped += 1;
            return;
        }
        self.flows += 1;
        let Some(offset) = placement(t, ctx.at, &ctx.options.timing) else {
            self.partial.before_start += 1;
            return;
        };
        let when = ctx.states.start.plus(offset);
        let state = ctx.states.index_at(when);
        if let (Some(impact), Some(then)) = (&mut self.impact, ctx.proposed) {
            let logged = t.logged.zip(group).map(|(l, g)| (g.place, g.rule_id, l.direction as u8));
            let record = fast::record_of(group, t);
            let origin = || ctx.catalog.origin(chunk.file, chunk.origin(index));
            impact.add(ctx.states, state, then, then.index_at(when), &record, logged, when, &origin);
        }
        let Shard { evaluator, partial, .. } = self;
        let fact = evaluator.evaluate(state, group.map(|g| (g, g.rule_id)), t, when);
        if partial.add(fact, t.time.unwrap_or(when), state) {
            let samples = match fact {
                Fact::Unmapped { .. } => &mut partial.unmapped_samples,
                Fact::Evaluated { .. } => &mut partial.disagreement_samples,
            };
            if samples.len() < ctx.options.samples {
                samples.push(Sample {
                    ordinal: chunk.ordinal(index),
                    record: ctx.catalog.record(chunk, index),
                    state,
                    at: when,
                });
            }
        }
    }
}

/// A parsed chunk with its tuples dealt out to shards: each shard's tuples are copied, with
/// their index in the chunk, so that a shard reads them in order from memory of its own (read
/// by index from the chunk, at random, they were the slowest part of the whole replay once the
/// chunks of a wave no longer fit in the cache).
///
/// On one worker thread nothing is dealt (`shards` is empty): the worker handles each tuple of
/// the chunk it has just parsed, in place, each in its shard ([`shard_of`]). Measured (fourth
/// round, 2026-12-07, `perf stat` task-clock, side by side): the same CPU as dealing to 3 % less,
/// and a third less memory (docs/replay-performance.md). On two threads, handling the tuples in place by groups of shards (each
/// group reading its tuples by index from a window's chunks) cost 10-20 % more CPU than these
/// copies, so more threads still deal.
struct Dealt {
    chunk: Chunk,
    shards: Vec<Vec<(u32, Tuple)>>,
}

/// The lists a replay recycles: each exactly cut chunk's bytes (a window's pieces share the
/// stream's buffer instead, `read::SharedBytes`), every chunk's tuples, and the shards' tuples
/// dealt from them.
struct Lists {
    bytes: Arc<Recycled<u8>>,
    chunks: Recycled<Tuple>,
    dealt: Recycled<(u32, Tuple)>,
}

impl Lists {
    /// A wave is `2 * threads` chunks, or a window's pieces, of up to about 3,000 tuples
    /// (128 KiB) each, each dealt to `SHARDS` lists: two waves' lists are kept, at most about
    /// 40 MB on 2 threads.
    fn new(threads: usize) -> Lists {
        let chunks = 2 * (2 * threads.clamp(1, 16)).max(WINDOW_BYTES / PIECE_BYTES);
        Lists {
            // Chunks are 128 KiB and a little more (a chunk ends at a whole record).
            bytes: Arc::new(Recycled::new(chunks, 2 * CHUNK_BYTES)),
            chunks: Recycled::new(chunks, 8192),
            dealt: Recycled::new(chunks * SHARDS, 1024),
        }
    }

    fn give_back(&self, dealt: Vec<Dealt>) {
        for d in dealt {
            self.chunks.give_back([d.chunk.tuples]);
            self.dealt.give_back(d.shards);
        }
    }
}

/// The shard of tuple `i` of `chunk`: a flow-log tuple's by its connection (all the records of
/// one connection in one shard), any other's in turn.
fn shard_of(chunk: &Chunk, i: usize, t: &Tuple) -> usize {
    match t.logged {
        Some(l) => {
            let key = ConnectionKey::of(&chunk.groups[l.group as usize], t);
            (key.shard_hash() % SHARDS as u64) as usize
        }
        None => (i + chunk.seq as usize) % SHARDS,
    }
}

/// `chunk`'s tuples dealt out to the shards; with `in_place`, not dealt ([`Dealt`]).
fn deal(chunk: Chunk, lists: &Lists, in_place: bool) -> Dealt {
    if in_place {
        return Dealt { chunk, shards: Vec::new() };
    }
    let expected = chunk.tuples.len() / SHARDS + chunk.tuples.len() / (4 * SHARDS) + 1;
    let mut shards: Vec<Vec<(u32, Tuple)>> = (0..SHARDS).map(|_| lists.dealt.take(expected)).collect();
    for (i, t) in chunk.tuples.iter().enumerate() {
        shards[shard_of(&chunk, i, t)].push((i as u32, *t));
    }
    Dealt { chunk, shards }
}

/// Replays `sources` against the scenario made of `world` and `steps`, on the caller's rayon
/// pool (`ThreadPool::install`).
///
/// # Errors
/// A step of the timeline that cannot be applied, an input that cannot be opened or read, or
/// (without `skip_bad`) the first malformed record.
pub fn replay(
    world: &World,
    steps: &[Step],
    sources: &[Source],
    options: &Options,
    progress: &dyn Progress,
) -> Result<Replay, ReplayError> {
    replay_against(world, steps, None, sources, options, progress)
}

/// [`replay`], and with `proposed` (a second scenario's world and timeline) the impact of the
/// proposal on every observed flow ([`Impact`]).
///
/// # Errors
/// As [`replay`]; a step of the proposed timeline that cannot be applied.
pub fn replay_against(
    world: &World,
    steps: &[Step],
    proposed: Option<(&World, &[Step])>,
    sources: &[Source],
    options: &Options,
    progress: &dyn Progress,
) -> Result<Replay, ReplayError> {
    let states = States::build(world, steps).map_err(ReplayError::Sim)?;
    let proposed_states = match proposed {
        Some((w, s)) => Some(States::build(w, s).map_err(ReplayError::ProposedSim)?),
        None => None,
    };
    let at = options.timing.at.unwrap_or(states.end);
    // The last offset the calendar reaches: a CSV `at` past it is refused, as `--at` is.
    let latest_at = Instant::MAX.since(states.start);
    let catalog = Catalog::default();
    let bytes = Arc::new(AtomicU64::new(0));
    let sizes: Vec<Option<u64>> = sources.iter().map(Source::size).collect();
    let mut shown = ProgressState {
        inputs: sources.len(),
        total_bytes: sizes.iter().copied().sum::<Option<u64>>(),
        ..ProgressState::default()
    };
    let shards: Vec<Mutex<Shard<'_>>> = (0..SHARDS)
        .map(|_| {
            Mutex::new(Shard {
                impact: proposed_states.as_ref().map(|_| against::ImpactPartial::default()),
                connections: Connections::default(),
                evaluator: Evaluator::new(&states),
                partial: Partial::default(),
                flows: 0,
                dropped: 0,
            })
        })
        .collect();
    let ctx = Context { states: &states, proposed: proposed_states.as_ref(), catalog: &catalog, at, options };
    let mut inputs: Vec<InputSummary> = Vec::new();
    let mut formats: Vec<(Option<u8>, bool, bool)> = Vec::new();
    let mut skipped = Skipped::default();
    let mut tuples = 0usize;
    // One worker thread parses each chunk and at once evaluates its tuples, while they are in
    // the cache: a wave is one chunk, cut exactly, and read by the worker itself (`Feed`). Measured (2026-12-07, fourth round): a wave of a
    // window's eight pieces, parsed before any was evaluated, left the tuples (120 bytes each,
    // about 2 MB a window) out of the cache by the time they were evaluated; and speculation
    // only moves the reader thread's work to the workers, which on one worker is the slower
    // side. More threads: waves of two chunks a thread, or a speculative window.
    let threads = rayon::current_num_threads().max(1);
    let (wave, cutting) = if threads == 1 { (1, None) } else { (2 * threads, Some(Cutting::default())) };
    let lists = &Lists::new(rayon::current_num_threads());
    let in_place = threads == 1;

    std::thread::scope(|scope| -> Result<(), ReplayError> {
        let catalog = &catalog;
        let reading =
            Inputs::new(sources, catalog, bytes.clone(), lists.bytes.clone(), (options.skip_bad, cutting));
        let mut feed = if threads == 1 {
            Feed::Inline(Box::new(reading))
        } else {
            let (tx, rx): (SyncSender<Message>, Receiver<Message>) = sync_channel(wave);
            scope.spawn(move || read_inputs(reading, tx));
            Feed::Thread(rx)
        };
        let mut done = false;
        let mut stashed: Option<Message> = None;
        while !done {
            // A wave: the chunks that are ready, at least one, at most `wave`; or a window of
            // speculative pieces on its own.
            let mut raws: Vec<RawChunk> = Vec::new();
            let mut speculative: Option<(u32, SyncSender<Verdict>)> = None;
            let mut stop: Option<FlowLogError> = None;
            while raws.len() < wave {
                let message = match stashed.take() {
                    Some(m) => Some(m),
                    None => feed.next(raws.is_empty()),
                };
                let Some(message) = message else {
                    done = raws.is_empty() || done;
                    break;
                };
                match message {
                    Message::Window { window, reply } => {
                        if raws.is_empty() {
                            raws = window.pieces;
                            speculative = Some((window.first_index, reply));
                        } else {
                            stashed = Some(Message::Window { window, reply });
                        }
                        break;
                    }
                    Message::Start { name } => {
                        inputs.push(InputSummary { name, format: InputFormat::Csv });
                        formats.push((None, false, false));
                    }
                    Message::Chunk(raw) => raws.push(raw),
                    Message::End { file, json } => {
                        if let Some(f) = formats.get_mut(file as usize) {
                            f.2 = json == Some(false);
                        }
                        shown.inputs_done += 1;
                    }
                    Message::Error { error } => {
                        stop = Some(error);
                        break;
                    }
                }
            }
            let names: Vec<std::path::PathBuf> = inputs.iter().map(|i| i.name.clone().into()).collect();
            // Each chunk is parsed and its tuples' shards found by its worker (dealing is per
            // tuple: on the collecting thread it was a serial part of every wave); a window's
            // pieces too, before they are settled, so that a wave has one parallel step less.
            let parsed: Vec<Result<Dealt, FlowLogError>> = if let Some((first_index, reply)) =
                speculative.take()
            {
                let mut chunks: Vec<Dealt> = raws
                    .par_iter()
                    .map(|raw| {
                        let name = &names[raw.file as usize];
                        let into = lists.chunks.take(0);
                        read::parse_chunk_into(raw, catalog, name, options.skip_bad, Some(latest_at), into)
                            .map(|c| deal(c, lists, in_place))
                    })
                    .collect::<Result<_, _>>()?;
                // Keep the pieces proved to be whole records; the reader reads the rest again,
                // exactly, while this wave is evaluated.
                let verdict = read::settle(first_index, chunks.iter_mut().map(|d| &mut d.chunk));
                lists.give_back(chunks.split_off(verdict.pieces.min(chunks.len())));
                let _ = reply.send(verdict);
                chunks.into_iter().map(Ok).collect()
            } else {
                raws.par_iter()
                    .map(|raw| {
                        let name = &names[raw.file as usize];
                        let into = lists.chunks.take(0);
                        read::parse_chunk_into(raw, catalog, name, options.skip_bad, Some(latest_at), into)
                            .map(|c| deal(c, lists, in_place))
                    })
                    .collect()
            };
            lists.bytes.give_back(raws.into_iter().filter_map(|r| r.bytes.into_list()));
            let mut dealt: Vec<Dealt> = Vec::with_capacity(parsed.len());
            for d in parsed {
                let d = d?;
                let chunk = &d.chunk;
                if let Some(f) = formats.get_mut(chunk.file as usize) {
                    f.0 = f.0.max(chunk.nsg_version);
                    f.1 |= chunk.vnet;
                    f.2 |= chunk.csv;
                }
                for bad in &chunk.bad {
                    match bad.what {
                        BadKind::Tuple => skipped.tuples += 1,
                        BadKind::Record => skipped.records += 1,
                        BadKind::RestOfInput => skipped.rest_of_inputs += 1,
                    }
                    if skipped.first.len() < options.samples {
                        skipped.first.push(bad.error.to_string());
                    }
                }
                tuples += chunk.tuples.len();
                dealt.push(d);
            }
            let ctx = &ctx;
            if in_place {
                let mut all: Vec<_> =
                    shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner())).collect();
                for d in &dealt {
                    for (i, t) in d.chunk.tuples.iter().enumerate() {
                        all[shard_of(&d.chunk, i, t)].handle(ctx, &d.chunk, i, t);
                    }
                }
            } else {
                shards.par_iter().enumerate().for_each(|(s, shard)| {
                    let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
                    for d in &dealt {
                        for (i, t) in &d.shards[s] {
                            shard.handle(ctx, &d.chunk, *i as usize, t);
                        }
                    }
                });
            }
            lists.give_back(dealt);
            if let Some(error) = stop {
                if !options.skip_bad || matches!(error, FlowLogError::Read { .. }) {
                    return Err(error.into());
                }
                skipped.rest_of_inputs += 1;
                if skipped.first.len() < options.samples {
                    skipped.first.push(format!("{error} (the rest of this input is skipped)"));
                }
                shown.inputs_done += 1;
            }
            shown.bytes = bytes.load(Ordering::Relaxed);
            shown.tuples = tuples as u64;
            progress.update(&shown);
        }
        Ok(())
    })?;

    for (input, (version, vnet, csv)) in inputs.iter_mut().zip(&formats) {
        input.format = read::input_format(*version, *vnet, *csv);
    }
    let shards: Vec<Shard<'_>> =
        shards.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect();
    let used: BTreeSet<usize> = shards.iter().flat_map(|s| s.partial.states.iter().copied()).collect();
    let mut inventory = BTreeSet::new();
    for &state in &used {
        let topology = &states.snapshots[state].topology;
        for id in topology.nsg_ids() {
            let nsg = topology.nsg(id);
            for rule in nsg.rules.iter().filter(|r| r.kind == RuleKind::Security) {
                inventory.insert(InventoryRule {
                    nsg: nsg.name.clone(),
                    direction: rule.direction,
                    priority: rule.priority.0,
                    rule: rule.rule_ref(),
                });
            }
        }
    }
    let (mut flows, mut dropped, mut forgotten) = (0, 0, 0);
    let mut counts = EvaluationCounts::default();
    for shard in &shards {
        flows += shard.flows;
        dropped += shard.dropped;
        forgotten += shard.connections.forgotten;
        counts.shared += shard.evaluator.counts.shared;
        counts.chain += shard.evaluator.counts.chain;
        counts.full += shard.evaluator.counts.full;
    }
    // Move the partials out (the hit tables stay borrowed).
    let mut partials: Vec<Partial> = Vec::new();
    let mut impacts = Vec::new();
    let mut shards = shards;
    for shard in &mut shards {
        partials.push(std::mem::take(&mut shard.partial));
        impacts.extend(shard.impact.take());
    }
    let impact = proposed_states.as_ref().map(|_| against::Impact::merge(impacts));
    let parts: Vec<(Partial, &fast::HitTable)> =
        partials.into_iter().zip(shards.iter().map(|s| &s.evaluator.hits)).collect();
    let tally = Tally::merge(parts, &inventory, options.samples);
    let again = |samples: &[Sample]| -> Vec<Shown> {
        samples
            .iter()
            .map(|s| {
                let snap = &states.snapshots[s.state];
                Shown {
                    sample: s.clone(),
                    origin: s.record.origin.clone(),
                    outcome: compare::evaluate_record(&snap.topology, &snap.cache, &s.record, s.at),
                }
            })
            .collect()
    };
    let disagreements = again(&tally.disagreement_samples);
    let unmapped = again(&tally.unmapped_samples);
    Ok(Replay {
        start: states.start,
        end: states.end,
        at,
        inputs,
        tuples,
        flows,
        dropped,
        forgotten,
        tally,
        disagreements,
        unmapped,
        skipped,
        counts,
        impact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Flow, IpProtocol};
    use read::{Origin, TupleLog};

    fn record(at: Option<Duration>, time: Option<Instant>) -> Tuple {
        Tuple {
            origin: Origin::Csv { line: 1 },
            flow: Flow::new(
                IpProtocol::TCP,
                "198.18.0.1".parse().expect("ip"),
                1,
                "10.0.1.4".parse().expect("ip"),
                443,
            ),
            time,
            at,
            logged: time.map(|_| TupleLog {
                group: 0,
                direction: Direction::Inbound,
                access: Access::Allow,
                state: None,
            }),
            expected: None,
        }
    }

    #[test]
    fn records_are_placed_by_their_own_offset_then_the_log_clock_then_the_default() {
        let origin = Instant::parse("2025-01-06T09:00:00Z").expect("instant");
        let later = Instant::parse("2025-01-06T09:05:00Z").expect("instant");
        let earlier = Instant::parse("2025-01-06T08:59:59Z").expect("instant");
        let at = Duration::from_secs(60);
        let fixed = Timing { at: Some(at), log_start: None };
        let logged = Timing { at: Some(at), log_start: Some(origin) };
        let own = Some(Duration::from_secs(7));
        assert_eq!(placement(&record(own, None), at, &logged), own);
        assert_eq!(placement(&record(None, Some(later)), at, &fixed), Some(at));
        assert_eq!(placement(&record(None, Some(later)), at, &logged), Some(Duration::from_secs(300)));
        assert_eq!(placement(&record(None, Some(origin)), at, &logged), Some(Duration::from_secs(0)));
        assert_eq!(placement(&record(None, Some(earlier)), at, &logged), None);
        assert_eq!(placement(&record(None, None), at, &logged), Some(at));
    }

    #[test]
    fn decisions_read_as_sentences() {
        let d = Decision {
            access: Access::Deny,
            nsg: Some("web-nic-nsg".into()),
            rule: Some(RuleRef::Security { name: "deny-ssh".into() }),
        };
        assert_eq!(d.to_string(), "Deny by web-nic-nsg securityRules/deny-ssh");
        assert_eq!(Decision { access: Access::Allow, nsg: None, rule: None }.to_string(), "Allow");
    }
}

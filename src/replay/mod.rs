//! Replaying real traffic against a scenario's policy: "does our model of production decide
//! these flows the way production did?", at the scale of an estate's flow logs.
//!
//! The inputs are read as streams ([`read`]: NSG and virtual network flow logs, CSV; files,
//! directories, gzip, standard input) and never held whole: each input is cut into chunks of
//! whole records, and the tuples go to [`SHARDS`] shards, by connection, that evaluate them and
//! keep totals ([`Tally`]). The work runs on lanes ([`Options::threads`], see `lanes`): every
//! lane cuts and parses chunks and evaluates the tuples of its own shards, in input order; on one
//! lane a chunk is cut, parsed and evaluated on one core, while its tuples are in the cache.
//! Memory is bounded by the chunks in flight, the open connections (see `select`), each shard's
//! bounded tables of shared evaluations (see `fast`), and the totals: per rule and hour, per
//! unknown address (capped), and the first few records shown.
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
//! shown to people are evaluated again by the reference, with their traces. Shards and lanes
//! change nothing in the result: totals are sums, lists are sorted or kept in input order.
//! This module reads no clock; it reads the inputs it is given.

mod against;
mod compare;
mod fast;
mod lanes;
pub mod read;
mod select;
mod states;
mod tally;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use crate::nsg::{Access, Direction, RuleKind, RuleRef};
use crate::path::Trace;
use crate::sim::{Duration, Instant, SimError, Step, World};

use fast::{Evaluator, Fact};
use read::{Catalog, Chunk, FlowLogError, InputFormat, Source, Tuple};
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
    /// How many threads read, parse and evaluate (at least 1; at most [`SHARDS`] are used).
    pub threads: usize,
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

/// Told how a replay advances (after each chunk, and at each input's end).
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
    /// The threads asked for cannot be started.
    #[error("cannot start {lanes} replay threads ({source}); valid: fewer threads")]
    Lanes {
        /// How many were asked for.
        lanes: usize,
        /// Why one could not be started.
        source: std::io::Error,
    },
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
    let reading =
        lanes::Reading { sources, bytes: Arc::new(AtomicU64::new(0)), lanes: options.threads, latest_at };
    let lanes::Bookkeeping { mut inputs, formats, skipped, tuples } =
        lanes::run(reading, &ctx, &shards, progress)?;
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

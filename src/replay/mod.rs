//! Replaying real traffic against a scenario's policy: "does our model of production decide
//! these flows the way production did?"
//!
//! Each [`FlowRecord`] (from `import::flowlog`: Azure NSG or virtual network flow logs, or CSV) is
//! evaluated end to end with `path::evaluate`, in the state of the scenario at the record's
//! offset of the timeline:
//! - by default every record at one offset ([`Timing::at`], the end of the timeline when absent:
//!   after the last step and the last JIT expiry);
//! - with [`Timing::log_start`], each flow-log record at its own time: a record logged at
//!   `log_start + d` is evaluated at offset `d`, so rules that a JIT grant or a timeline step
//!   changed are seen as they were then; records logged before `log_start` are not evaluated;
//! - a CSV row with an `at` cell at that offset.
//!
//! The timeline is played twice with `sim::observe`: once to learn the instants at which the
//! policy changes, once to evaluate, at each such instant, the records that fall before the next
//! change. Within one state the records are evaluated in parallel with rayon, on the caller's
//! pool (`ThreadPool::install`); results are stored by record index, so the output does not
//! depend on the number of threads.
//!
//! What is compared (see [`Check`]) and counted (see [`tally()`]) is documented on the items; the
//! choices are recorded in docs/fidelity.md. This module reads no clock and does no I/O.

mod compare;
mod tally;

use std::collections::BTreeSet;
use std::net::IpAddr;

use rayon::prelude::*;

use crate::import::flowlog::FlowRecord;
use crate::nsg::{Access, Direction, RuleKind};
use crate::path::Trace;
use crate::sim::{Duration, Instant, SimError, Step, World, observe};

pub use tally::{RuleCount, Tally, VerdictCounts, tally};

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
    /// The rule, as nsgsim names it (`securityRules/NAME`, `defaultSecurityRules/NAME`).
    pub rule: Option<String>,
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
    /// The rule (`securityRules/NAME`, `defaultSecurityRules/NAME`).
    pub rule: String,
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
    /// The NSG rules that decided it, one per NSG evaluated (see [`tally()`] for which count).
    pub hits: Vec<RuleHit>,
    /// The comparison with Azure's log or the expectation, when the record has one.
    pub check: Option<Check>,
}

/// What became of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// The rule (`securityRules/NAME`).
    pub rule: String,
}

/// The result of a replay: one outcome per record, in input order.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The scenario's start.
    pub start: Instant,
    /// The offset of the end of the timeline (the last step or event).
    pub end: Duration,
    /// The offset used for records without their own.
    pub at: Duration,
    /// One outcome per record, in input order.
    pub outcomes: Vec<Outcome>,
    /// The user rules of every NSG in the states in which records were evaluated.
    pub inventory: BTreeSet<InventoryRule>,
}

/// Where on the timeline a record is evaluated: its offset, or `None` before `log_start`.
fn placement(record: &FlowRecord, at: Duration, timing: &Timing) -> Option<Duration> {
    if let Some(own) = record.at {
        return Some(own);
    }
    match (timing.log_start, record.time) {
        (Some(origin), Some(time)) => (time >= origin).then(|| time.since(origin)),
        _ => Some(at),
    }
}

/// Replays `records` against the scenario made of `world` and `steps`.
///
/// # Errors
/// A step of the timeline that cannot be applied (the scenario is inconsistent).
pub fn replay(
    world: &World,
    steps: &[Step],
    records: &[FlowRecord],
    timing: Timing,
) -> Result<Replay, SimError> {
    let start = world.start;
    let mut changes: Vec<Instant> = Vec::new();
    let last = observe(world.clone(), steps, None, |sim| changes.push(sim.now()))?;
    let end = last.now().since(start);
    let at = timing.at.unwrap_or(end);
    let offsets: Vec<Option<Duration>> = records.iter().map(|r| placement(r, at, &timing)).collect();
    let mut order: Vec<(Instant, usize)> =
        offsets.iter().enumerate().filter_map(|(i, o)| o.map(|o| (start.plus(o), i))).collect();
    order.sort();

    let mut outcomes: Vec<Option<Outcome>> = vec![None; records.len()];
    let mut inventory = BTreeSet::new();
    let mut state = 0;
    let mut cursor = 0;
    observe(world.clone(), steps, None, |sim| {
        // The records from this state's instant up to the next change are decided by this state;
        // the last state holds to the end of time.
        let next = changes.get(state + 1).copied();
        state += 1;
        let first = cursor;
        while cursor < order.len() && next.is_none_or(|n| order[cursor].0 < n) {
            cursor += 1;
        }
        let window = &order[first..cursor];
        if window.is_empty() {
            return;
        }
        let topology = sim.topology();
        for id in topology.nsg_ids() {
            let nsg = topology.nsg(id);
            for rule in nsg.rules.iter().filter(|r| r.kind == RuleKind::Security) {
                inventory.insert(InventoryRule {
                    nsg: nsg.name.clone(),
                    direction: rule.direction,
                    priority: rule.priority.0,
                    rule: rule.azure_name(),
                });
            }
        }
        let evaluated: Vec<(usize, Outcome)> = window
            .par_iter()
            .map(|&(when, i)| (i, compare::evaluate_record(topology, sim.policies(), &records[i], when)))
            .collect();
        for (i, outcome) in evaluated {
            outcomes[i] = Some(outcome);
        }
    })?;
    let outcomes = outcomes.into_iter().map(|o| o.unwrap_or(Outcome::BeforeStart)).collect();
    Ok(Replay { start, end, at, outcomes, inventory })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::flowlog::{Logged, LoggedAt, LoggedRule};
    use crate::net::{Flow, IpProtocol};

    fn record(at: Option<Duration>, time: Option<Instant>) -> FlowRecord {
        FlowRecord {
            origin: "t".into(),
            flow: Flow::new(
                IpProtocol::TCP,
                "198.18.0.1".parse().expect("ip"),
                1,
                "10.0.1.4".parse().expect("ip"),
                443,
            ),
            time,
            at,
            logged: time.map(|_| Logged {
                at: LoggedAt::Nsg("n".into()),
                direction: Direction::Inbound,
                access: Access::Allow,
                rule: LoggedRule::User("r".into()),
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
            rule: Some("securityRules/deny-ssh".into()),
        };
        assert_eq!(d.to_string(), "Deny by web-nic-nsg securityRules/deny-ssh");
        assert_eq!(Decision { access: Access::Allow, nsg: None, rule: None }.to_string(), "Allow");
    }
}

//! Totals over a replay, kept as the tuples stream by: verdicts per direction, flows per rule
//! (and per rule and hour), rules that decided nothing, and the first records where nsgsim
//! disagrees or that it cannot place.
//!
//! Each worker adds into its own [`Partial`]; partials are merged at the end ([`Tally::merge`]).
//! Every total is a sum and every list is sorted or kept by input order, so the result does not
//! depend on how the tuples were spread over workers.
//!
//! Rule counts: a CSV row counts every NSG on its path, each with the rule that decided there. A
//! flow-log record counts the NSGs on its path in the logged direction (the logging NIC's side:
//! the flow's other side is logged, if at all, by another record) and, when the path does not
//! reach the NSG that logged it, that NSG evaluated alone. So a VM-to-VM flow logged at both ends
//! is counted once at each end, never twice at one.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::hash::FastMap;
use crate::nsg::{Access, Direction};
use crate::sim::Instant;

use super::fast::{Fact, HitTable};
use super::read::{FlowRecord, Ordinal, unix_instant};
use super::{InventoryRule, RuleHit};

/// Distinct unknown addresses counted one by one; past this, only their number.
pub const MAX_UNKNOWN_ADDRESSES: usize = 10_000;

/// Allowed and denied counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    /// Allowed flows.
    pub allowed: usize,
    /// Denied flows.
    pub denied: usize,
}

impl VerdictCounts {
    fn add(&mut self, access: Access) {
        match access {
            Access::Allow => self.allowed += 1,
            Access::Deny => self.denied += 1,
        }
    }

    fn merge(&mut self, other: VerdictCounts) {
        self.allowed += other.allowed;
        self.denied += other.denied;
    }
}

/// How many flows one rule decided, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCount {
    /// The NSG, the direction and the rule.
    pub hit: RuleHit,
    /// The number of flows.
    pub flows: usize,
    /// The first and last time a flow it decided was logged (or, for a record without a time,
    /// evaluated).
    pub seen: Option<(Instant, Instant)>,
    /// Flows per hour: the hour's start and the count, in time order.
    pub hours: Vec<(Instant, usize)>,
}

/// A record kept to be shown: where it is, the record, and the state and instant it was
/// evaluated in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Where it is among the inputs.
    pub ordinal: Ordinal,
    /// The record.
    pub record: FlowRecord,
    /// The state of the timeline it was evaluated in.
    pub state: usize,
    /// The instant it was evaluated at.
    pub at: Instant,
}

#[derive(Clone, Debug, Default)]
struct RuleStats {
    flows: usize,
    seen: Option<(Instant, Instant)>,
    hours: FastMap<i64, usize>,
}

impl RuleStats {
    fn add(&mut self, when: Instant) {
        self.flows += 1;
        self.seen = Some(match self.seen {
            None => (when, when),
            Some((a, b)) => (a.min(when), b.max(when)),
        });
        *self.hours.entry(when.as_secs().div_euclid(3600)).or_default() += 1;
    }

    fn merge(&mut self, other: &RuleStats) {
        self.flows += other.flows;
        self.seen = match (self.seen, other.seen) {
            (None, s) | (s, None) => s,
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        };
        for (h, n) in &other.hours {
            *self.hours.entry(*h).or_default() += n;
        }
    }
}

/// One worker's totals.
#[derive(Debug, Default)]
pub(crate) struct Partial {
    pub evaluated: usize,
    pub before_start: usize,
    pub unmapped: usize,
    pub unknown: FastMap<IpAddr, usize>,
    pub unknown_overflow: usize,
    pub verdicts: BTreeMap<Option<Direction>, VerdictCounts>,
    pub logged: BTreeMap<Direction, VerdictCounts>,
    pub compared: usize,
    pub disagreements: usize,
    /// By hit number of the worker's evaluator.
    rules: Vec<RuleStats>,
    pub unmapped_samples: Vec<Sample>,
    pub disagreement_samples: Vec<Sample>,
    /// The states records were evaluated in.
    pub states: BTreeSet<usize>,
    /// The state added last (most tuples of a replay share it: no set insertion for them).
    last_state: Option<usize>,
}

impl Partial {
    /// Adds one evaluated or unmapped tuple; returns whether it is a disagreement or unmapped
    /// (a sample candidate).
    pub fn add(&mut self, fact: &Fact, when: Instant, state: usize) -> bool {
        if self.last_state != Some(state) {
            self.states.insert(state);
            self.last_state = Some(state);
        }
        match fact {
            Fact::Unmapped { unknown } => {
                self.unmapped += 1;
                let mut seen: [Option<IpAddr>; 2] = [None; 2];
                for (i, ip) in unknown.iter().enumerate().take(2) {
                    if seen.contains(&Some(*ip)) {
                        continue;
                    }
                    seen[i] = Some(*ip);
                    let room = self.unknown.len() < MAX_UNKNOWN_ADDRESSES;
                    match self.unknown.get_mut(ip) {
                        Some(n) => *n += 1,
                        None if room => {
                            self.unknown.insert(*ip, 1);
                        }
                        None => self.unknown_overflow += 1,
                    }
                }
                true
            }
            Fact::Evaluated { verdict, direction, hits, compared } => {
                self.evaluated += 1;
                self.verdicts.entry(*direction).or_default().add(*verdict);
                let mut unique: [u32; 8] = [u32::MAX; 8];
                let mut extra: Vec<u32> = Vec::new();
                for (i, &id) in hits.iter().enumerate() {
                    if unique.contains(&id) || extra.contains(&id) {
                        continue;
                    }
                    if i < unique.len() {
                        unique[i] = id;
                    } else {
                        extra.push(id);
                    }
                    let at = id as usize;
                    if self.rules.len() <= at {
                        self.rules.resize(at + 1, RuleStats::default());
                    }
                    self.rules[at].add(when);
                }
                let mut sample = false;
                if let Some(c) = compared {
                    self.compared += 1;
                    if c.logged
                        && let Some(d) = direction
                    {
                        self.logged.entry(*d).or_default().add(c.reference);
                    }
                    if !c.agrees {
                        self.disagreements += 1;
                        sample = true;
                    }
                }
                sample
            }
        }
    }
}

/// The totals of a replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records evaluated.
    pub evaluated: usize,
    /// Records logged before `--log-start`.
    pub before_start: usize,
    /// Records not in the scenario.
    pub unmapped: usize,
    /// The first unmapped records, in input order.
    pub unmapped_samples: Vec<Sample>,
    /// The addresses the scenario does not know, with the number of records that named them, in
    /// address order (at most [`MAX_UNKNOWN_ADDRESSES`]).
    pub unknown_addresses: Vec<(IpAddr, usize)>,
    /// Records naming unknown addresses beyond those listed.
    pub unknown_overflow: usize,
    /// nsgsim's verdicts per direction (`None`: decided by no NSG).
    pub verdicts: BTreeMap<Option<Direction>, VerdictCounts>,
    /// Azure's logged decisions per direction, for the evaluated flow-log records.
    pub logged: BTreeMap<Direction, VerdictCounts>,
    /// Flows per rule, by NSG, direction, then most flows first.
    pub rules: Vec<RuleCount>,
    /// User rules of the NSGs (and directions) that decided at least one flow, that decided none:
    /// candidates for cleanup. Default rules cannot be removed and are not listed.
    pub unused: Vec<InventoryRule>,
    /// Records with a reference answer (Azure's log or `expected`).
    pub compared: usize,
    /// Records where nsgsim disagrees.
    pub disagreements: usize,
    /// The first of them, in input order.
    pub disagreement_samples: Vec<Sample>,
}

/// Keeps the first `n` samples by input order.
fn first_samples(mut all: Vec<Sample>, n: usize) -> Vec<Sample> {
    all.sort_by_key(|s| s.ordinal);
    all.truncate(n);
    all
}

impl Tally {
    /// Merges the workers' totals; `inventory` holds the user rules of every NSG in the states in
    /// which records were evaluated; `samples` is how many records of each kind to keep.
    pub(crate) fn merge(
        parts: Vec<(Partial, &HitTable)>,
        inventory: &BTreeSet<InventoryRule>,
        samples: usize,
    ) -> Tally {
        let mut t = Tally::default();
        let mut rules: BTreeMap<RuleHit, RuleStats> = BTreeMap::new();
        let mut unknown: BTreeMap<IpAddr, usize> = BTreeMap::new();
        let (mut unmapped_samples, mut disagreement_samples) = (Vec::new(), Vec::new());
        for (p, hits) in parts {
            t.evaluated += p.evaluated;
            t.before_start += p.before_start;
            t.unmapped += p.unmapped;
            t.compared += p.compared;
            t.disagreements += p.disagreements;
            t.unknown_overflow += p.unknown_overflow;
            for (d, c) in p.verdicts {
                t.verdicts.entry(d).or_default().merge(c);
            }
            for (d, c) in p.logged {
                t.logged.entry(d).or_default().merge(c);
            }
            for (ip, n) in p.unknown {
                *unknown.entry(ip).or_default() += n;
            }
            for (id, stats) in p.rules.iter().enumerate() {
                if stats.flows > 0 {
                    rules.entry(hits.get(id as u32).clone()).or_default().merge(stats);
                }
            }
            unmapped_samples.extend(p.unmapped_samples);
            disagreement_samples.extend(p.disagreement_samples);
        }
        t.unmapped_samples = first_samples(unmapped_samples, samples);
        t.disagreement_samples = first_samples(disagreement_samples, samples);
        // The per-worker caps apply to the merged list too.
        while unknown.len() > MAX_UNKNOWN_ADDRESSES {
            if let Some((_, n)) = unknown.pop_last() {
                t.unknown_overflow += n;
            }
        }
        t.unknown_addresses = unknown.into_iter().collect();

        let judged: BTreeSet<(String, Direction)> =
            rules.keys().map(|h| (h.nsg.to_ascii_lowercase(), h.direction)).collect();
        let used: BTreeSet<(String, Direction, String)> = rules
            .keys()
            .map(|h| (h.nsg.to_ascii_lowercase(), h.direction, h.rule.to_ascii_lowercase()))
            .collect();
        // A rule whose priority changed over the timeline is in the inventory twice: list it once.
        let mut listed: BTreeSet<(String, Direction, String)> = BTreeSet::new();
        t.unused = inventory
            .iter()
            .filter(|r| {
                let key = (r.nsg.to_ascii_lowercase(), r.direction, r.rule.to_ascii_lowercase());
                judged.contains(&(key.0.clone(), r.direction)) && !used.contains(&key) && listed.insert(key)
            })
            .cloned()
            .collect();
        let mut counts: Vec<RuleCount> = rules
            .into_iter()
            .map(|(hit, s)| {
                let hours: BTreeMap<i64, usize> = s.hours.into_iter().collect();
                RuleCount {
                    hit,
                    flows: s.flows,
                    seen: s.seen,
                    hours: hours
                        .into_iter()
                        .map(|(h, n)| (unix_instant(h * 3600).unwrap_or(Instant::MIN), n))
                        .collect(),
                }
            })
            .collect();
        counts.sort_by(|a, b| {
            (&a.hit.nsg, a.hit.direction, std::cmp::Reverse(a.flows), &a.hit.rule).cmp(&(
                &b.hit.nsg,
                b.hit.direction,
                std::cmp::Reverse(b.flows),
                &b.hit.rule,
            ))
        });
        t.rules = counts;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::fast::Compared;

    fn hit(nsg: &str, direction: Direction, rule: &str) -> RuleHit {
        RuleHit { nsg: nsg.into(), direction, rule: rule.into() }
    }

    fn evaluated(verdict: Access, hits: Vec<u32>, agrees: Option<bool>) -> Fact {
        Fact::Evaluated {
            verdict,
            direction: Some(Direction::Inbound),
            hits,
            compared: agrees.map(|agrees| Compared { agrees, reference: Access::Allow, logged: true }),
        }
    }

    #[test]
    fn counts_verdicts_rules_hours_unused_rules_and_disagreements_across_workers() {
        let nine = Instant::parse("2025-01-06T09:10:00Z").expect("instant");
        let ten = Instant::parse("2025-01-06T10:59:59Z").expect("instant");
        let inv = |nsg: &str, direction, rule: &str| InventoryRule {
            nsg: nsg.into(),
            direction,
            priority: 100,
            rule: rule.into(),
        };
        let mut table_a = HitTable::default();
        let a = table_a.id(&hit("web", Direction::Inbound, "securityRules/a"));
        let deny = table_a.id(&hit("web", Direction::Inbound, "defaultSecurityRules/DenyAllInBound"));
        let mut table_b = HitTable::default();
        let b_a = table_b.id(&hit("web", Direction::Inbound, "securityRules/a"));
        let mut one = Partial::default();
        let mut two = Partial::default();
        assert!(!one.add(&evaluated(Access::Allow, vec![a, a], Some(true)), nine, 0));
        assert!(!two.add(&evaluated(Access::Allow, vec![b_a], Some(true)), ten, 0));
        assert!(one.add(&evaluated(Access::Deny, vec![deny], Some(false)), nine, 0));
        let x: IpAddr = "172.16.0.1".parse().expect("ip");
        let y: IpAddr = "172.16.0.2".parse().expect("ip");
        assert!(one.add(&Fact::Unmapped { unknown: vec![x, y] }, nine, 0));
        assert!(two.add(&Fact::Unmapped { unknown: vec![x] }, nine, 0));
        assert!(two.add(&Fact::Unmapped { unknown: vec![] }, nine, 0));
        two.before_start += 1;
        let inventory: BTreeSet<InventoryRule> = [
            inv("web", Direction::Inbound, "securityRules/a"),
            inv("web", Direction::Inbound, "securityRules/b"),
            // No outbound flow was seen at web: its outbound rules are not judged.
            inv("web", Direction::Outbound, "securityRules/c"),
            // Nor any flow at other.
            inv("other", Direction::Inbound, "securityRules/d"),
        ]
        .into_iter()
        .collect();
        let t = Tally::merge(vec![(one, &table_a), (two, &table_b)], &inventory, 10);
        assert_eq!((t.evaluated, t.before_start, t.compared, t.unmapped, t.disagreements), (3, 1, 3, 3, 1));
        let unknown: Vec<(String, usize)> =
            t.unknown_addresses.iter().map(|(ip, n)| (ip.to_string(), *n)).collect();
        assert_eq!(unknown, vec![("172.16.0.1".to_string(), 2), ("172.16.0.2".to_string(), 1)]);
        assert_eq!(t.verdicts[&Some(Direction::Inbound)], VerdictCounts { allowed: 2, denied: 1 });
        assert_eq!(t.logged[&Direction::Inbound], VerdictCounts { allowed: 3, denied: 0 });
        let rules: Vec<(&str, usize)> = t.rules.iter().map(|r| (r.hit.rule.as_str(), r.flows)).collect();
        assert_eq!(rules, vec![("securityRules/a", 2), ("defaultSecurityRules/DenyAllInBound", 1)]);
        assert_eq!(t.rules[0].seen, Some((nine, ten)));
        let hours: Vec<(String, usize)> = t.rules[0].hours.iter().map(|(h, n)| (h.to_string(), *n)).collect();
        assert_eq!(
            hours,
            vec![("2025-01-06T09:00:00Z".to_string(), 1), ("2025-01-06T10:00:00Z".to_string(), 1)]
        );
        let unused: Vec<&str> = t.unused.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(unused, vec!["securityRules/b"]);
    }
}

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
use crate::nsg::{Access, Direction, RuleRef};
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

/// One rule's flows, first and last time, and flows per hour.
///
/// Why the current hour is counted apart: a rule's flows come in time order as the log is
/// written, nearly all in the hour of the flow before, and a table look-up per rule and flow was
/// a share of the replay's time; the count moves to the table when the hour changes.
#[derive(Clone, Debug, Default)]
struct RuleStats {
    flows: usize,
    seen: Option<(Instant, Instant)>,
    hours: FastMap<i64, usize>,
    /// The hour counted last and its flows not yet in `hours`.
    current: Option<(i64, usize)>,
}

impl RuleStats {
    fn add(&mut self, when: Instant) {
        self.flows += 1;
        self.seen = Some(match self.seen {
            None => (when, when),
            Some((a, b)) => (a.min(when), b.max(when)),
        });
        let hour = when.as_secs().div_euclid(3600);
        match &mut self.current {
            Some((h, n)) if *h == hour => *n += 1,
            _ => {
                self.settle();
                self.current = Some((hour, 1));
            }
        }
    }

    /// Moves the current hour's count into the table.
    fn settle(&mut self) {
        if let Some((h, n)) = self.current.take() {
            *self.hours.entry(h).or_default() += n;
        }
    }

    fn merge(&mut self, other: &RuleStats) {
        self.flows += other.flows;
        self.seen = match (self.seen, other.seen) {
            (None, s) | (s, None) => s,
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        };
        for (h, n) in other.hours.iter().chain(other.current.as_ref().map(|(h, n)| (h, n))) {
            *self.hours.entry(*h).or_default() += n;
        }
    }
}

/// The place of a direction in [`Partial`]'s arrays.
fn slot(direction: Option<Direction>) -> usize {
    match direction {
        None => 0,
        Some(Direction::Inbound) => 1,
        Some(Direction::Outbound) => 2,
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
    /// By direction: none, inbound, outbound ([`slot`]); arrays, not maps, as they are added
    /// to for every tuple.
    verdicts: [VerdictCounts; 3],
    /// By direction: inbound, outbound.
    logged: [VerdictCounts; 2],
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
                self.verdicts[slot(*direction)].add(*verdict);
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
                        self.logged[slot(Some(*d)) - 1].add(c.reference);
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

/// `rule` with its names in ASCII lower case: equal for rules Azure takes as the same.
fn folded(rule: &RuleRef) -> RuleRef {
    let low = |s: &String| s.to_ascii_lowercase();
    match rule {
        RuleRef::Security { name } => RuleRef::Security { name: low(name) },
        RuleRef::Default { name } => RuleRef::Default { name: low(name) },
        RuleRef::Admin { collection, rule } => {
            RuleRef::Admin { collection: low(collection), rule: low(rule) }
        }
        RuleRef::Firewall { group, collection, rule } => {
            RuleRef::Firewall { group: low(group), collection: low(collection), rule: low(rule) }
        }
        RuleRef::LoadBalancer { name } => RuleRef::LoadBalancer { name: low(name) },
        RuleRef::NoNsg => RuleRef::NoNsg,
    }
}

/// The order of rules with as many flows in one NSG and direction: as people read them, Azure's
/// spelling in byte order (default rules, `defaultSecurityRules/…`, before user rules,
/// `securityRules/…`; then by name). The NSG rules a replay counts are compared by their kind and
/// name; any other kind of rule (none is counted today) by its printed form.
fn as_spelled(a: &RuleRef, b: &RuleRef) -> std::cmp::Ordering {
    match (a, b) {
        (RuleRef::Default { name: x }, RuleRef::Default { name: y })
        | (RuleRef::Security { name: x }, RuleRef::Security { name: y }) => x.cmp(y),
        (RuleRef::Default { .. }, RuleRef::Security { .. }) => std::cmp::Ordering::Less,
        (RuleRef::Security { .. }, RuleRef::Default { .. }) => std::cmp::Ordering::Greater,
        _ => a.to_string().cmp(&b.to_string()),
    }
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
            for d in [None, Some(Direction::Inbound), Some(Direction::Outbound)] {
                let c = p.verdicts[slot(d)];
                if c != VerdictCounts::default() {
                    t.verdicts.entry(d).or_default().merge(c);
                }
                if let Some(d) = d {
                    let c = p.logged[slot(Some(d)) - 1];
                    if c != VerdictCounts::default() {
                        t.logged.entry(d).or_default().merge(c);
                    }
                }
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

        // NSG and rule names are compared without regard to case, as Azure compares them: the
        // keys are the typed rule with its names folded, never its printed text.
        let judged: BTreeSet<(String, Direction)> =
            rules.keys().map(|h| (h.nsg.to_ascii_lowercase(), h.direction)).collect();
        let used: BTreeSet<(String, Direction, RuleRef)> =
            rules.keys().map(|h| (h.nsg.to_ascii_lowercase(), h.direction, folded(&h.rule))).collect();
        // A rule whose priority changed over the timeline is in the inventory twice: list it once.
        let mut listed: BTreeSet<(String, Direction, RuleRef)> = BTreeSet::new();
        t.unused = inventory
            .iter()
            .filter(|r| {
                let key = (r.nsg.to_ascii_lowercase(), r.direction, folded(&r.rule));
                judged.contains(&(key.0.clone(), r.direction)) && !used.contains(&key) && listed.insert(key)
            })
            .cloned()
            .collect();
        let mut counts: Vec<RuleCount> = rules
            .into_iter()
            .map(|(hit, mut s)| {
                s.settle();
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
            (&a.hit.nsg, a.hit.direction, std::cmp::Reverse(a.flows))
                .cmp(&(&b.hit.nsg, b.hit.direction, std::cmp::Reverse(b.flows)))
                .then_with(|| as_spelled(&a.hit.rule, &b.hit.rule))
        });
        t.rules = counts;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::fast::Compared;

    fn hit(nsg: &str, direction: Direction, rule: RuleRef) -> RuleHit {
        RuleHit { nsg: nsg.into(), direction, rule }
    }

    fn user(name: &str) -> RuleRef {
        RuleRef::Security { name: name.into() }
    }

    fn default(name: &str) -> RuleRef {
        RuleRef::Default { name: name.into() }
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
            rule: user(rule),
        };
        let mut table_a = HitTable::default();
        let a = table_a.id(&hit("web", Direction::Inbound, user("a")));
        let deny = table_a.id(&hit("web", Direction::Inbound, default("DenyAllInBound")));
        let mut table_b = HitTable::default();
        let b_a = table_b.id(&hit("web", Direction::Inbound, user("a")));
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
            inv("web", Direction::Inbound, "a"),
            inv("web", Direction::Inbound, "b"),
            // No outbound flow was seen at web: its outbound rules are not judged.
            inv("web", Direction::Outbound, "c"),
            // Nor any flow at other.
            inv("other", Direction::Inbound, "d"),
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
        let rules: Vec<(&RuleRef, usize)> = t.rules.iter().map(|r| (&r.hit.rule, r.flows)).collect();
        assert_eq!(rules, vec![(&user("a"), 2), (&default("DenyAllInBound"), 1)]);
        assert_eq!(t.rules[0].seen, Some((nine, ten)));
        let hours: Vec<(String, usize)> = t.rules[0].hours.iter().map(|(h, n)| (h.to_string(), *n)).collect();
        assert_eq!(
            hours,
            vec![("2025-01-06T09:00:00Z".to_string(), 1), ("2025-01-06T10:00:00Z".to_string(), 1)]
        );
        let unused: Vec<&RuleRef> = t.unused.iter().map(|r| &r.rule).collect();
        assert_eq!(unused, vec![&user("b")]);
    }

    #[test]
    fn rules_with_as_many_flows_list_as_spelled_and_unused_rules_match_in_any_case() {
        let when = Instant::parse("2025-01-06T09:10:00Z").expect("instant");
        let mut table = HitTable::default();
        let ids: Vec<u32> = [user("b"), default("DenyAllInBound"), user("B-upper"), user("a")]
            .into_iter()
            .map(|r| table.id(&hit("web", Direction::Inbound, r)))
            .collect();
        let mut p = Partial::default();
        for &id in &ids {
            p.add(&evaluated(Access::Allow, vec![id], None), when, 0);
        }
        // The inventory spells `a` in another case: it was used, not unused; `c` was not.
        let inventory: BTreeSet<InventoryRule> = ["A", "c"]
            .into_iter()
            .map(|n| InventoryRule {
                nsg: "WEB".into(),
                direction: Direction::Inbound,
                priority: 100,
                rule: user(n),
            })
            .collect();
        let t = Tally::merge(vec![(p, &table)], &inventory, 10);
        let order: Vec<String> = t.rules.iter().map(|r| r.hit.rule.to_string()).collect();
        let mut spelled = order.clone();
        spelled.sort();
        assert_eq!(order, spelled, "ties are in the byte order of Azure's spelling");
        assert_eq!(order[0], "defaultSecurityRules/DenyAllInBound");
        let unused: Vec<&RuleRef> = t.unused.iter().map(|r| &r.rule).collect();
        assert_eq!(unused, vec![&user("c")]);
    }
}

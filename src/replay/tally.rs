//! Totals over a replay: verdicts per direction, flows per rule, rules that decided nothing, and
//! the records where nsgsim disagrees.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::nsg::{Access, Direction};

use super::{Outcome, Replay, RuleHit};

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
}

/// How many flows one rule decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCount {
    /// The NSG, the direction and the rule.
    pub hit: RuleHit,
    /// The number of flows.
    pub flows: usize,
}

/// The totals of a [`Replay`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records given.
    pub records: usize,
    /// Records evaluated.
    pub evaluated: usize,
    /// Records logged before `--log-start`.
    pub before_start: usize,
    /// Indices of unmapped records, in input order.
    pub unmapped: Vec<usize>,
    /// The addresses the scenario does not know, with the number of records that named them, in
    /// address order.
    pub unknown_addresses: Vec<(IpAddr, usize)>,
    /// nsgsim's verdicts per direction (`None`: decided by no NSG).
    pub verdicts: BTreeMap<Option<Direction>, VerdictCounts>,
    /// Azure's logged decisions per direction, for the evaluated flow-log records.
    pub logged: BTreeMap<Direction, VerdictCounts>,
    /// Flows per rule, by NSG, direction, then most flows first.
    pub rules: Vec<RuleCount>,
    /// User rules of the NSGs (and directions) that decided at least one flow, that decided none:
    /// candidates for cleanup. Default rules cannot be removed and are not listed.
    pub unused: Vec<super::InventoryRule>,
    /// Records with a reference answer (Azure's log or `expected`).
    pub compared: usize,
    /// Indices of the records where nsgsim disagrees, in input order.
    pub disagreements: Vec<usize>,
}

/// Adds up a replay.
///
/// Rule counts: a CSV row counts every NSG on its path, each with the rule that decided there. A
/// flow-log record counts the NSGs on its path in the logged direction (the logging NIC's side:
/// the flow's other side is logged, if at all, by another record) and, when the path does not
/// reach the NSG that logged it, that NSG evaluated alone. So a VM-to-VM flow logged at both ends
/// is counted once at each end, never twice at one.
pub fn tally(replay: &Replay) -> Tally {
    let mut t = Tally { records: replay.outcomes.len(), ..Tally::default() };
    let mut counts: BTreeMap<RuleHit, usize> = BTreeMap::new();
    let mut unknown: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for (i, outcome) in replay.outcomes.iter().enumerate() {
        let e = match outcome {
            Outcome::BeforeStart => {
                t.before_start += 1;
                continue;
            }
            Outcome::Unmapped(u) => {
                t.unmapped.push(i);
                let distinct: BTreeSet<&IpAddr> = u.unknown.iter().collect();
                for ip in distinct {
                    *unknown.entry(*ip).or_default() += 1;
                }
                continue;
            }
            Outcome::Evaluated(e) => e,
        };
        t.evaluated += 1;
        t.verdicts.entry(e.direction).or_default().add(e.verdict);
        let unique: BTreeSet<&RuleHit> = e.hits.iter().collect();
        for hit in unique {
            *counts.entry(hit.clone()).or_default() += 1;
        }
        if let Some(check) = &e.check {
            t.compared += 1;
            if check.logged_rule.is_some()
                && let Some(direction) = e.direction
            {
                t.logged.entry(direction).or_default().add(check.reference.access);
            }
            if !check.agrees {
                t.disagreements.push(i);
            }
        }
    }
    let judged: BTreeSet<(String, Direction)> =
        counts.keys().map(|h| (h.nsg.to_ascii_lowercase(), h.direction)).collect();
    let used: BTreeSet<(String, Direction, String)> = counts
        .keys()
        .map(|h| (h.nsg.to_ascii_lowercase(), h.direction, h.rule.to_ascii_lowercase()))
        .collect();
    // A rule whose priority changed over the timeline is in the inventory twice: list it once.
    let mut listed: BTreeSet<(String, Direction, String)> = BTreeSet::new();
    t.unused = replay
        .inventory
        .iter()
        .filter(|r| {
            let key = (r.nsg.to_ascii_lowercase(), r.direction, r.rule.to_ascii_lowercase());
            judged.contains(&(key.0.clone(), r.direction)) && !used.contains(&key) && listed.insert(key)
        })
        .cloned()
        .collect();
    let mut rules: Vec<RuleCount> = counts.into_iter().map(|(hit, flows)| RuleCount { hit, flows }).collect();
    rules.sort_by(|a, b| {
        (&a.hit.nsg, a.hit.direction, std::cmp::Reverse(a.flows), &a.hit.rule).cmp(&(
            &b.hit.nsg,
            b.hit.direction,
            std::cmp::Reverse(b.flows),
            &b.hit.rule,
        ))
    });
    t.rules = rules;
    t.unknown_addresses = unknown.into_iter().collect();
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{Check, Decision, Evaluation, InventoryRule, Unmapped};
    use crate::sim::{Duration, Instant};

    fn hit(nsg: &str, direction: Direction, rule: &str) -> RuleHit {
        RuleHit { nsg: nsg.into(), direction, rule: rule.into() }
    }

    fn evaluated(verdict: Access, hits: Vec<RuleHit>, agrees: Option<bool>) -> Outcome {
        let at = Instant::parse("2025-01-06T09:00:00Z").expect("instant");
        Outcome::Evaluated(Evaluation {
            at,
            verdict,
            direction: Some(Direction::Inbound),
            hits,
            check: agrees.map(|agrees| Check {
                agrees,
                reference: Decision { access: Access::Allow, nsg: None, rule: None },
                logged_rule: Some("UserRule_a".into()),
                nsgsim: Decision { access: verdict, nsg: None, rule: None },
                note: None,
                trace: None,
            }),
        })
    }

    #[test]
    fn counts_verdicts_rules_unused_rules_and_disagreements() {
        let inv = |nsg: &str, direction, rule: &str| InventoryRule {
            nsg: nsg.into(),
            direction,
            priority: 100,
            rule: rule.into(),
        };
        let replay = Replay {
            start: Instant::parse("2025-01-06T09:00:00Z").expect("instant"),
            end: Duration::from_secs(0),
            at: Duration::from_secs(0),
            outcomes: vec![
                evaluated(Access::Allow, vec![hit("web", Direction::Inbound, "securityRules/a")], Some(true)),
                evaluated(Access::Allow, vec![hit("web", Direction::Inbound, "securityRules/a")], Some(true)),
                evaluated(
                    Access::Deny,
                    vec![hit("web", Direction::Inbound, "defaultSecurityRules/DenyAllInBound")],
                    Some(false),
                ),
                Outcome::Unmapped(Unmapped {
                    reason: "nowhere".into(),
                    unknown: vec!["172.16.0.1".parse().expect("ip"), "172.16.0.2".parse().expect("ip")],
                }),
                Outcome::Unmapped(Unmapped {
                    reason: "again".into(),
                    unknown: vec!["172.16.0.1".parse().expect("ip")],
                }),
                Outcome::Unmapped(Unmapped { reason: "no such NSG".into(), unknown: Vec::new() }),
                Outcome::BeforeStart,
            ],
            inventory: [
                inv("web", Direction::Inbound, "securityRules/a"),
                inv("web", Direction::Inbound, "securityRules/b"),
                // No outbound flow was seen at web: its outbound rules are not judged.
                inv("web", Direction::Outbound, "securityRules/c"),
                // Nor any flow at other.
                inv("other", Direction::Inbound, "securityRules/d"),
            ]
            .into_iter()
            .collect(),
        };
        let t = tally(&replay);
        assert_eq!((t.records, t.evaluated, t.before_start, t.compared), (7, 3, 1, 3));
        assert_eq!(t.unmapped, vec![3, 4, 5]);
        let unknown: Vec<(String, usize)> =
            t.unknown_addresses.iter().map(|(ip, n)| (ip.to_string(), *n)).collect();
        assert_eq!(unknown, vec![("172.16.0.1".to_string(), 2), ("172.16.0.2".to_string(), 1)]);
        assert_eq!(t.disagreements, vec![2]);
        assert_eq!(t.verdicts[&Some(Direction::Inbound)], VerdictCounts { allowed: 2, denied: 1 });
        assert_eq!(t.logged[&Direction::Inbound], VerdictCounts { allowed: 3, denied: 0 });
        let rules: Vec<(&str, usize)> = t.rules.iter().map(|r| (r.hit.rule.as_str(), r.flows)).collect();
        assert_eq!(rules, vec![("securityRules/a", 2), ("defaultSecurityRules/DenyAllInBound", 1)]);
        let unused: Vec<&str> = t.unused.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(unused, vec!["securityRules/b"]);
    }
}

//! The impact of a proposed policy on observed traffic (`replay CURRENT LOGS --against PROPOSED`):
//! every observed flow is evaluated end to end under both scenarios, and each observed path
//! (source, destination, protocol, destination port) is classed as Microsoft's Rule Impact
//! Analyzer classes flows:
//! - **Impacted**: the verdict or the deciding NSG rule (or firewall rule) changes;
//! - **Not impacted**: the same verdict by the same rule;
//! - **Indeterminate**: the flow cannot be placed in one of the scenarios (an address or logging
//!   NSG it does not have), so nsgsim cannot say.
//!
//! Flows that would break (allowed now, denied under the proposal) and that would newly pass are
//! counted. Not-impacted flows are only counted; impacted and indeterminate paths are listed, up to
//! [`MAX_PATHS`] per worker (the rest are counted), so memory stays bounded. The definitions of the
//! classes are nsgsim's (model choice, docs/fidelity.md): Microsoft's page describes the feature,
//! not the classes' rules.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::hash::FastMap;
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, RuleRef};
use crate::path::HopKind;
use crate::sim::Instant;

use super::Outcome;
use super::compare::evaluate_traced;
use super::read::FlowRecord;
use super::states::States;

/// Impacted and indeterminate paths kept per worker.
pub const MAX_PATHS: usize = 10_000;

/// How a flow is decided under one scenario.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Side {
    /// The end-to-end verdict.
    pub access: Access,
    /// The NSG or firewall that decided.
    pub nsg: Option<String>,
    /// The rule (`securityRules/NAME`, `defaultSecurityRules/NAME`, a firewall rule).
    pub rule: Option<RuleRef>,
    /// The rule's priority, for NSG rules.
    pub priority: Option<u16>,
}

/// The class of an observed path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImpactClass {
    /// The verdict or the deciding rule changes.
    Impacted,
    /// Indeterminate: not placed in one of the scenarios.
    Indeterminate,
    /// Same verdict by the same rule.
    NotImpacted,
}

impl std::fmt::Display for ImpactClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImpactClass::Impacted => "Impacted",
            ImpactClass::Indeterminate => "Indeterminate",
            ImpactClass::NotImpacted => "Not impacted",
        })
    }
}

/// An observed path: what tells paths apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathKey {
    /// Protocol.
    pub protocol: IpProtocol,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port.
    pub dst_port: u16,
}

/// One observed path and what the proposal does to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathImpact {
    /// The path.
    pub path: PathKey,
    /// Its class.
    pub class: ImpactClass,
    /// How the current scenario decides it (`None`: not placed).
    pub before: Option<Side>,
    /// How the proposed scenario decides it (`None`: not placed).
    pub after: Option<Side>,
    /// Observed flows on it.
    pub flows: usize,
    /// Where the first record of its class was read (`file:LINE`, or `file: JSON path`).
    pub record: String,
}

/// The impact of a proposal on the observed flows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impact {
    /// Flows per class.
    pub flows: BTreeMap<ImpactClass, usize>,
    /// Flows allowed now and denied under the proposal.
    pub breaks: usize,
    /// Flows denied now and allowed under the proposal.
    pub passes: usize,
    /// Impacted and indeterminate paths, impacted first, then by path.
    pub paths: Vec<PathImpact>,
    /// Impacted or indeterminate paths not listed (past [`MAX_PATHS`] per worker).
    pub paths_not_listed: usize,
}

/// What an evaluation under both scenarios is shared by: the two states, the flow, and the
/// logging place, rule and direction.
type SharedKey = (u32, u32, Flow, Option<(u32, u32, u8)>);

/// One worker's share.
#[derive(Debug, Default)]
pub(crate) struct ImpactPartial {
    flows: BTreeMap<ImpactClass, usize>,
    breaks: usize,
    passes: usize,
    paths: FastMap<PathKey, PathImpact>,
    not_listed: usize,
    memo: FastMap<SharedKey, (Option<Side>, Option<Side>)>,
}

/// The deciding side of an outcome and its trace.
fn side(outcome: &Outcome, trace: Option<&crate::path::Trace>) -> Option<Side> {
    let (Outcome::Evaluated(_), Some(trace)) = (outcome, trace) else { return None };
    let hop = trace.deciding_hop();
    Some(Side {
        access: trace.verdict,
        nsg: hop.filter(|h| matches!(h.kind, HopKind::Nsg | HopKind::Firewall)).map(|h| h.resource.clone()),
        rule: hop.and_then(|h| h.rule.clone()),
        priority: hop.and_then(|h| h.priority),
    })
}

impl ImpactPartial {
    /// Adds one observed flow, evaluated at `at` in state `current` of `now` and `proposed` of
    /// `then`. `logged` numbers the record's logging place, rule and direction (they decide
    /// whether it can be placed), `None` for a CSV row. `origin` says where the record was read
    /// (made only for the first record of a listed path: formatting it for every flow would
    /// slow the replay).
    #[expect(
        clippy::too_many_arguments,
        reason = "the two timelines, their states, the record and its instant are all needed; a struct would only rename them"
    )]
    pub fn add(
        &mut self,
        now: &States,
        current: usize,
        then: &States,
        proposed: usize,
        record: &FlowRecord,
        logged: Option<(u32, u32, u8)>,
        at: Instant,
        origin: &dyn Fn() -> String,
    ) {
        let mut flow = record.flow;
        if !now.snapshots[current].source_ports_matter && !then.snapshots[proposed].source_ports_matter {
            flow.src_port = 0;
        }
        let key = (current as u32, proposed as u32, flow, logged);
        if self.memo.len() >= MAX_PATHS {
            self.memo.clear();
        }
        let (before, after) = match self.memo.get(&key) {
            Some(v) => v.clone(),
            None => {
                let a = &now.snapshots[current];
                let b = &then.snapshots[proposed];
                let (oa, ta) = evaluate_traced(&a.topology, &a.cache, record, at);
                let (ob, tb) = evaluate_traced(&b.topology, &b.cache, record, at);
                let v = (side(&oa, ta.as_ref()), side(&ob, tb.as_ref()));
                self.memo.insert(key, v.clone());
                v
            }
        };
        let class = match (&before, &after) {
            (Some(x), Some(y)) if x.access == y.access && x.nsg == y.nsg && x.rule == y.rule => {
                ImpactClass::NotImpacted
            }
            (Some(_), Some(_)) => ImpactClass::Impacted,
            _ => ImpactClass::Indeterminate,
        };
        *self.flows.entry(class).or_default() += 1;
        if let (Some(x), Some(y)) = (&before, &after) {
            match (x.access, y.access) {
                (Access::Allow, Access::Deny) => self.breaks += 1,
                (Access::Deny, Access::Allow) => self.passes += 1,
                _ => {}
            }
        }
        if class == ImpactClass::NotImpacted {
            return;
        }
        let path = PathKey {
            protocol: record.flow.protocol,
            src: record.flow.src,
            dst: record.flow.dst,
            dst_port: record.flow.dst_port,
        };
        if let Some(p) = self.paths.get_mut(&path) {
            p.flows += 1;
            // A path decided differently at different times is impacted if it ever is.
            if class < p.class {
                (p.class, p.before, p.after, p.record) = (class, before, after, origin());
            }
        } else if self.paths.len() < MAX_PATHS {
            let record = origin();
            self.paths.insert(path, PathImpact { path, class, before, after, flows: 1, record });
        } else {
            self.not_listed += 1;
        }
    }
}

impl Impact {
    /// Merges the workers' shares.
    pub(crate) fn merge(parts: Vec<ImpactPartial>) -> Impact {
        let mut out = Impact::default();
        let mut paths: BTreeMap<PathKey, PathImpact> = BTreeMap::new();
        for p in parts {
            for (c, n) in p.flows {
                *out.flows.entry(c).or_default() += n;
            }
            out.breaks += p.breaks;
            out.passes += p.passes;
            out.paths_not_listed += p.not_listed;
            for (k, v) in p.paths {
                match paths.get_mut(&k) {
                    Some(q) => {
                        q.flows += v.flows;
                        if v.class < q.class {
                            (q.class, q.before, q.after, q.record) = (v.class, v.before, v.after, v.record);
                        }
                    }
                    None => {
                        paths.insert(k, v);
                    }
                }
            }
        }
        let mut paths: Vec<PathImpact> = paths.into_values().collect();
        paths.sort_by_key(|p| (p.class, p.path));
        out.paths = paths;
        out
    }
}

//! The NSG chain of a NIC as a partition of its flow space, labelled by the deciding rules.
//!
//! Inbound traffic to a NIC meets its subnet's NSG, then the NIC's NSG; outbound traffic the
//! NIC's, then the subnet's (`path`). Each NSG alone partitions the flows by first match
//! ([`super::space::partition`]); the chain is the product: a piece the first NSG denies is
//! denied there, a piece it allows is cut by the second NSG's partition. A level without an NSG
//! allows everything. Flows are restricted to the NIC's own address (destination inbound,
//! source outbound), since that is what the NSGs on its path decide about.

use crate::matcher::MatchBox;
use crate::model::{NicId, NsgId, SubnetId, Topology};
use crate::net::AddrSet;
use crate::nsg::{Access, CompiledNsg, Direction, RuleKind};
use crate::path::Level;

use super::space::{Region, partition};

/// The rule (or missing NSG) that decided at one level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decider {
    /// The NSG, `None` when the level has none.
    pub nsg: Option<String>,
    /// Subnet or NIC.
    pub level: Level,
    /// The rule as Azure names it (`securityRules/NAME`, `defaultSecurityRules/NAME`), or
    /// `(no NSG)`.
    pub rule: String,
    /// The rule's priority.
    pub priority: Option<u16>,
    /// What it did.
    pub access: Access,
    /// Whether it is a user rule (not a default rule, not a missing NSG).
    pub user_rule: bool,
}

impl std::fmt::Display for Decider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.nsg, self.priority) {
            (Some(nsg), Some(p)) => write!(f, "{nsg} {} ({p}, {})", self.rule, self.access),
            (Some(nsg), None) => write!(f, "{nsg} {} ({})", self.rule, self.access),
            (None, _) => write!(f, "no NSG on the {} (Allow)", self.level.as_str()),
        }
    }
}

/// A part of the flow space with one verdict and the rules behind it.
#[derive(Clone, Debug)]
pub struct Piece {
    /// The flows.
    pub region: Region,
    /// Allow or Deny.
    pub verdict: Access,
    /// The deciders in evaluation order (one when the first level denied).
    pub deciders: Vec<Decider>,
}

/// The NSG of `level` for `nic`, if any.
pub fn nsg_at(topology: &Topology, nic: NicId, level: Level) -> Option<NsgId> {
    let n = topology.nic(nic);
    match level {
        Level::Nic => n.nsg,
        Level::Subnet => topology.subnet(n.subnet).nsg,
    }
}

/// An NSG compiled where it applies to `subnet` (or a NIC in it).
pub fn compile(topology: &Topology, nsg: NsgId, subnet: SubnetId, direction: Direction) -> CompiledNsg {
    CompiledNsg::compile(topology.nsg(nsg), direction, &topology.resolve_context_for_subnet(subnet))
}

/// One level's partition of `universe`: (decider, region) for every rule that decides something.
pub fn level_partition(
    topology: &Topology,
    nic: NicId,
    level: Level,
    direction: Direction,
    universe: &Region,
) -> Vec<(Decider, Region)> {
    let Some(id) = nsg_at(topology, nic, level) else {
        let d = Decider {
            nsg: None,
            level,
            rule: "(no NSG)".into(),
            priority: None,
            access: Access::Allow,
            user_rule: false,
        };
        return vec![(d, universe.clone())];
    };
    let compiled = compile(topology, id, topology.nic(nic).subnet, direction);
    let (parts, _) = partition(compiled.resolved(), universe);
    let name = topology.nsg(id).name.clone();
    parts
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty())
        .map(|(i, region)| {
            let rule = &compiled.rules()[i];
            let d = Decider {
                nsg: Some(name.clone()),
                level,
                rule: rule.azure_name(),
                priority: Some(rule.priority.0),
                access: rule.access,
                user_rule: rule.kind == RuleKind::Security,
            };
            (d, region)
        })
        .collect()
}

/// The flows that concern `nic` in `direction`: those to its address (inbound) or from it
/// (outbound).
pub fn universe(topology: &Topology, nic: NicId, direction: Direction) -> Region {
    let own = AddrSet::from_addr(topology.nic(nic).private_ip);
    let b = match direction {
        Direction::Inbound => MatchBox { dst: own, ..MatchBox::any() },
        Direction::Outbound => MatchBox { src: own, ..MatchBox::any() },
    };
    Region::from_box(b)
}

/// The chain of `nic` in `direction` as labelled pieces covering its whole universe.
pub fn chain(topology: &Topology, nic: NicId, direction: Direction) -> Vec<Piece> {
    let levels = match direction {
        Direction::Inbound => [Level::Subnet, Level::Nic],
        Direction::Outbound => [Level::Nic, Level::Subnet],
    };
    let all = universe(topology, nic, direction);
    let first = level_partition(topology, nic, levels[0], direction, &all);
    let second = level_partition(topology, nic, levels[1], direction, &all);
    let mut out = Vec::new();
    for (d1, r1) in &first {
        if d1.access == Access::Deny {
            out.push(Piece { region: r1.clone(), verdict: Access::Deny, deciders: vec![d1.clone()] });
            continue;
        }
        for (d2, r2) in &second {
            let region = r1.intersect(r2);
            if !region.is_empty() {
                out.push(Piece { region, verdict: d2.access, deciders: vec![d1.clone(), d2.clone()] });
            }
        }
    }
    out
}

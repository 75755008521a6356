//! The NSG chain of a NIC as a partition of its flow space, labelled by the deciding rules.
//!
//! Inbound traffic to a NIC meets its subnet's NSG, then the NIC's NSG; outbound traffic the
//! NIC's, then the subnet's (`path`). Each NSG alone partitions the flows by first match
//! ([`super::space::partition`]); the chain is the product: a piece the first NSG denies is
//! denied there, a piece it allows is cut by the second NSG's partition. A level without an NSG
//! allows everything. Flows are restricted to the NIC's own address (destination inbound,
//! source outbound), since that is what the NSGs on its path decide about.
//!
//! Lint and diff ask for the chain of every NIC, and thousands of NICs share a few NSGs, so
//! [`Chains`] compiles each NSG once per place it applies and reuses it: compiling (resolving
//! service tags, building the matcher) once per NIC made `lint` on 10,000 VMs take a minute.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::matcher::{MatchBox, MatchRule};
use crate::model::{AdminAction, NicId, NsgId, SubnetId, Topology};
use crate::net::AddrSet;
use crate::nsg::{Access, CompiledNsg, Direction, RuleRef};
use crate::path::Level;

use super::space::{Region, partition};

/// The rule (or missing NSG) that decided at one level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decider {
    /// The NSG, `None` when the level has none.
    pub nsg: Option<String>,
    /// Subnet or NIC.
    pub level: Level,
    /// The rule (printed as Azure names it, `securityRules/NAME`, `defaultSecurityRules/NAME`),
    /// or [`RuleRef::NoNsg`].
    pub rule: RuleRef,
    /// The rule's priority.
    pub priority: Option<u16>,
    /// What it did.
    pub access: Access,
    /// `Some(action)` when the decider is a security admin rule of Virtual Network Manager (Deny
    /// or AlwaysAllow: an admin Allow leaves the NSGs to decide): then `nsg` is the
    /// configuration's name, `rule` is `ruleCollections/C/rules/R`, and `level` means nothing.
    pub admin: Option<AdminAction>,
}

impl Decider {
    /// Whether it is an NSG user rule (not a default rule, not a missing NSG, not an admin rule).
    pub fn user_rule(&self) -> bool {
        self.rule.is_user_rule()
    }
}

impl std::fmt::Display for Decider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let (Some(action), Some(config)) = (self.admin, &self.nsg) {
            return write!(
                f,
                "security admin configuration {config} {} ({}, {action})",
                self.rule,
                self.priority.unwrap_or_default()
            );
        }
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

/// The flows that concern `nic` in `direction`: those to its addresses (inbound) or from them
/// (outbound), every IP configuration's.
pub fn universe(topology: &Topology, nic: NicId, direction: Direction) -> Region {
    let own = topology.nic_addresses(nic).fold(AddrSet::empty(), |set, a| set.union(&AddrSet::from_addr(a)));
    let b = match direction {
        Direction::Inbound => MatchBox { dst: own, ..MatchBox::any() },
        Direction::Outbound => MatchBox { src: own, ..MatchBox::any() },
    };
    Region::from_box(b)
}

/// The Internet addresses as the subnet of `nic` sees them (every address outside its VNet's
/// domain), in the NIC's address family: a flow to the NIC's address comes from its own family.
pub fn internet_seen_by(topology: &Topology, nic: NicId) -> AddrSet {
    let n = topology.nic(nic);
    let family = if n.private_ip.is_ipv4() {
        AddrSet::from_ranges(vec![(0, u32::MAX)], vec![])
    } else {
        AddrSet::from_ranges(vec![], vec![(0, u128::MAX)])
    };
    topology.resolve_context_for_subnet(n.subnet).internet.intersect(&family)
}

/// The chain of `nic` in `direction` as labelled pieces covering its whole universe. For many
/// NICs of one topology, use one [`Chains`], which compiles each NSG once.
pub fn chain(topology: &Topology, nic: NicId, direction: Direction) -> Vec<Piece> {
    Chains::new(topology).chain(nic, direction)
}

/// The flows of `probe` that the pieces of a chain allow, grouped by their deciding rules (in
/// the order of the pieces), leaving out the pieces whose deciders `skip` says to: what
/// [`Chains::allowed_inbound`] answers, for a caller that already has the chain.
pub fn allowed(
    pieces: &[Piece],
    probe: &MatchBox,
    skip: impl Fn(&[Decider]) -> bool,
) -> Vec<(Vec<Decider>, Region)> {
    let mut groups: Vec<(Vec<Decider>, Region)> = Vec::new();
    for piece in pieces {
        if piece.verdict != Access::Allow || skip(&piece.deciders) {
            continue;
        }
        let open = piece.region.intersect_box(probe);
        if open.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(d, _)| *d == piece.deciders) {
            Some(g) => g.1 = g.1.union(&open),
            None => groups.push((piece.deciders.clone(), open)),
        }
    }
    groups
}

/// One topology's NSG chains, with each NSG compiled once per (subnet, direction) it applies
/// to and shared by every NIC there.
#[derive(Debug)]
pub struct Chains<'t> {
    topology: &'t Topology,
    compiled: RefCell<HashMap<(NsgId, SubnetId, Direction), Rc<CompiledNsg>>>,
    /// [`internet_seen_by`] per subnet and address family (IPv4: `true`): resolving a subnet's
    /// tags once per NIC was a few per cent of `lint` at 10,000 VMs.
    internet: RefCell<HashMap<(SubnetId, bool), AddrSet>>,
}

impl<'t> Chains<'t> {
    /// No NSG compiled yet.
    pub fn new(topology: &'t Topology) -> Chains<'t> {
        Chains { topology, compiled: RefCell::new(HashMap::new()), internet: RefCell::new(HashMap::new()) }
    }

    /// The topology the chains are of.
    pub fn topology(&self) -> &'t Topology {
        self.topology
    }

    /// [`internet_seen_by`] `nic`, resolved once per subnet and address family.
    pub fn internet_seen_by(&self, nic: NicId) -> AddrSet {
        let n = self.topology.nic(nic);
        let key = (n.subnet, n.private_ip.is_ipv4());
        if let Some(set) = self.internet.borrow().get(&key) {
            return set.clone();
        }
        let set = internet_seen_by(self.topology, nic);
        self.internet.borrow_mut().insert(key, set.clone());
        set
    }

    /// `nsg` compiled where it applies to `subnet` (or a NIC in it), compiled on first use.
    pub fn compile(&self, nsg: NsgId, subnet: SubnetId, direction: Direction) -> Rc<CompiledNsg> {
        let key = (nsg, subnet, direction);
        if let Some(c) = self.compiled.borrow().get(&key) {
            return Rc::clone(c);
        }
        let c = Rc::new(compile(self.topology, nsg, subnet, direction));
        self.compiled.borrow_mut().insert(key, Rc::clone(&c));
        c
    }

    /// One level's partition of `universe`: (decider, region) for every rule that decides
    /// something.
    pub fn level_partition(
        &self,
        nic: NicId,
        level: Level,
        direction: Direction,
        universe: &Region,
    ) -> Vec<(Decider, Region)> {
        let topology = self.topology;
        let Some(id) = nsg_at(topology, nic, level) else {
            let d = Decider {
                nsg: None,
                level,
                rule: RuleRef::NoNsg,
                priority: None,
                access: Access::Allow,
                admin: None,
            };
            return vec![(d, universe.clone())];
        };
        let compiled = self.compile(id, topology.nic(nic).subnet, direction);
        let (parts, _) = partition(compiled.resolved(), universe);
        let name = &topology.nsg(id).name;
        parts
            .into_iter()
            .enumerate()
            .filter(|(_, r)| !r.is_empty())
            .map(|(i, region)| {
                let rule = &compiled.rules()[i];
                let d = Decider {
                    nsg: Some(name.clone()),
                    level,
                    rule: rule.rule_ref(),
                    priority: Some(rule.priority.0),
                    access: rule.access,
                    admin: None,
                };
                (d, region)
            })
            .collect()
    }

    /// Virtual Network Manager's security admin rules of `nic`'s VNet, evaluated before the NSGs
    /// (`path/admin.rs`): the pieces of `all` an admin Deny or AlwaysAllow decides, and the rest
    /// (matched by an admin Allow or by no admin rule), which the NSGs decide.
    fn admin_partition(&self, nic: NicId, direction: Direction, all: Region) -> (Vec<Piece>, Region) {
        let topology = self.topology;
        let subnet = topology.nic(nic).subnet;
        let vnet = topology.subnet(subnet).vnet;
        if !topology.has_admin_rules(vnet) {
            return (Vec::new(), all);
        }
        let applied = topology.admin_rules_for(vnet, direction);
        let ctx = topology.resolve_context_for_subnet(subnet);
        let rules: Vec<MatchRule> = applied.iter().map(|a| a.rule.resolve(&ctx)).collect();
        let (parts, mut rest) = partition(&rules, &all);
        let mut out = Vec::new();
        for (a, region) in applied.iter().zip(parts) {
            if region.is_empty() {
                continue;
            }
            let verdict = match a.rule.action {
                AdminAction::Allow => {
                    rest = rest.union(&region);
                    continue;
                }
                AdminAction::AlwaysAllow => Access::Allow,
                AdminAction::Deny => Access::Deny,
            };
            let d = Decider {
                nsg: Some(a.configuration.name.clone()),
                level: Level::Subnet,
                rule: RuleRef::Admin { collection: a.collection.name.clone(), rule: a.rule.name.clone() },
                priority: Some(a.rule.priority),
                access: verdict,
                admin: Some(a.rule.action),
            };
            out.push(Piece { region, verdict, deciders: vec![d] });
        }
        (out, rest)
    }

    /// The flows of `probe` that the inbound chain of `nic` allows, grouped by their deciding
    /// rules, leaving out the pieces whose deciders `skip` says to.
    pub fn allowed_inbound(
        &self,
        nic: NicId,
        probe: &MatchBox,
        skip: impl Fn(&[Decider]) -> bool,
    ) -> Vec<(Vec<Decider>, Region)> {
        allowed(&self.chain(nic, Direction::Inbound), probe, skip)
    }

    /// The chain of `nic` in `direction` as labelled pieces covering its whole universe.
    pub fn chain(&self, nic: NicId, direction: Direction) -> Vec<Piece> {
        let levels = match direction {
            Direction::Inbound => [Level::Subnet, Level::Nic],
            Direction::Outbound => [Level::Nic, Level::Subnet],
        };
        let (mut out, all) = self.admin_partition(nic, direction, universe(self.topology, nic, direction));
        let first = self.level_partition(nic, levels[0], direction, &all);
        let second = self.level_partition(nic, levels[1], direction, &all);
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
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::Path;

    use super::*;
    use crate::net::{Flow, IpProtocol};
    use crate::scenario::load_str;

    fn topology(subnet_nsg: bool, nic_nsg: bool) -> Topology {
        let text = format!(
            r#"Scenario(name: "c", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.0.0/24"{})])],
                nsgs: [
                    Nsg(name: "sub", rules: [
                        Rule(name: "deny-telnet", priority: 100, direction: Inbound, access: Deny, protocol: Tcp, destination_ports: "23"),
                        Rule(name: "allow-web", priority: 200, direction: Inbound, access: Allow, protocol: Tcp, source: "Internet", destination_ports: "80,443"),
                        Rule(name: "no-smtp", priority: 100, direction: Outbound, access: Deny, protocol: Tcp, destination: "Internet", destination_ports: "25"),
                    ]),
                    Nsg(name: "nic", rules: [
                        Rule(name: "deny-443", priority: 100, direction: Inbound, access: Deny, protocol: Tcp, source: "203.0.113.0/24", destination_ports: "443"),
                        Rule(name: "allow-web", priority: 110, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "80-443"),
                    ]),
                ],
                vms: [Vm(name: "vm", os: Linux, nics: [Nic(name: "n", subnet: "v/s", private_ip: "10.0.0.4"{})])])"#,
            if subnet_nsg { ", nsg: \"sub\"" } else { "" },
            if nic_nsg { ", nsg: \"nic\"" } else { "" },
        );
        load_str(&text, Path::new("c.ron")).expect("loads").topology
    }

    /// The verdict of one flow, level by level (the oracle): the first level that denies decides.
    fn oracle(t: &Topology, nic: NicId, direction: Direction, flow: &Flow) -> (Access, Vec<String>) {
        let levels = match direction {
            Direction::Inbound => [Level::Subnet, Level::Nic],
            Direction::Outbound => [Level::Nic, Level::Subnet],
        };
        let mut rules = Vec::new();
        for level in levels {
            let Some(nsg) = nsg_at(t, nic, level) else {
                rules.push("(no NSG)".to_string());
                continue;
            };
            let c = compile(t, nsg, t.nic(nic).subnet, direction);
            let hit = c.evaluate(flow);
            rules.push(hit.rule.azure_name());
            if hit.rule.access == Access::Deny {
                return (Access::Deny, rules);
            }
        }
        (Access::Allow, rules)
    }

    #[test]
    fn the_chain_partitions_the_nic_flows_as_level_by_level_evaluation_decides() {
        let others: Vec<IpAddr> =
            ["10.0.0.9", "10.0.5.1", "203.0.113.7", "198.51.100.1", "192.168.1.1", "168.63.129.16"]
                .iter()
                .map(|a| a.parse().expect("ip"))
                .collect();
        let mut checked = 0;
        for (subnet_nsg, nic_nsg) in [(true, true), (true, false), (false, true), (false, false)] {
            let t = topology(subnet_nsg, nic_nsg);
            let nic = t.nic_ids().next().expect("a nic");
            let own = t.nic(nic).private_ip;
            for direction in [Direction::Inbound, Direction::Outbound] {
                let pieces = chain(&t, nic, direction);
                for &other in &others {
                    for protocol in [IpProtocol::TCP, IpProtocol::UDP] {
                        for port in [22u16, 23, 25, 80, 81, 443, 444] {
                            let (src, dst) = match direction {
                                Direction::Inbound => (other, own),
                                Direction::Outbound => (own, other),
                            };
                            let flow = Flow::new(protocol, src, 50000, dst, port);
                            let holding: Vec<&Piece> =
                                pieces.iter().filter(|p| p.region.contains(&flow)).collect();
                            assert_eq!(holding.len(), 1, "{flow}: in {} pieces", holding.len());
                            let (verdict, rules) = oracle(&t, nic, direction, &flow);
                            assert_eq!(holding[0].verdict, verdict, "{flow} ({subnet_nsg}, {nic_nsg})");
                            let deciders: Vec<String> =
                                holding[0].deciders.iter().map(|d| d.rule.to_string()).collect();
                            assert_eq!(deciders, rules, "{flow}");
                            checked += 1;
                        }
                    }
                }
                // Nothing outside the NIC's own flows.
                let stranger = Flow::new(
                    IpProtocol::TCP,
                    "10.0.0.9".parse().expect("ip"),
                    1,
                    "10.0.0.10".parse().expect("ip"),
                    80,
                );
                assert!(pieces.iter().all(|p| !p.region.contains(&stranger)));
            }
        }
        assert!(checked > 500);
    }

    #[test]
    fn a_level_without_an_nsg_allows_everything_and_says_so() {
        let t = topology(false, false);
        let nic = t.nic_ids().next().expect("a nic");
        let pieces = chain(&t, nic, Direction::Inbound);
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].verdict, Access::Allow);
        assert_eq!(pieces[0].deciders[0].to_string(), "no NSG on the subnet (Allow)");
        assert!(!pieces[0].deciders[0].user_rule());
    }
}

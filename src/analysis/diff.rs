//! The exact difference of two policies: for every VM in both, every flow whose verdict changes.
//!
//! Sampling flows would miss the one port that changed. Instead each side's NSG chain is a
//! partition of the VM's flow space into pieces labelled by their deciding rules
//! ([`super::chain`]); intersecting the old and new partitions where the verdicts differ gives
//! exactly the changed flows, already grouped by (old rules, new rules). Each group is merged
//! into few boxes ([`super::space::merge`]) for display.
//!
//! Scope: the NSG chain at every NIC of the VM (subnet and NIC NSGs, both directions), which is
//! where policy changes act; a change on a secondary NIC opens or closes the VM as surely as one
//! on the primary. NICs are matched by name (the primary NICs with each other when their names
//! differ); a NIC on one side only is listed, not compared. Routing, public IPs, firewalls and
//! Bastion are the same code on both sides and are not diffed. A NIC whose address changed is
//! compared flow for flow with the destination (inbound) or source (outbound) standing for "the
//! NIC".

use crate::matcher::MatchBox;
use crate::model::{NicId, Topology};
use crate::net::AddrSet;
use crate::nsg::{Access, Direction};

use super::chain::{Chains, Decider, Piece};

/// The flows of one VM and direction whose verdict changes, with what decides them on each side.
#[derive(Clone, Debug)]
pub struct Change {
    /// The VM.
    pub vm: String,
    /// The NIC (its name in the new policy).
    pub nic: String,
    /// Whether that is the VM's primary NIC.
    pub primary: bool,
    /// Inbound (to the VM) or outbound (from it).
    pub direction: Direction,
    /// The changed flows: disjoint, merged boxes (the VM's own field is its new address).
    pub boxes: Vec<MatchBox>,
    /// The verdict before.
    pub old_verdict: Access,
    /// The verdict after.
    pub new_verdict: Access,
    /// The deciding rules before, in evaluation order.
    pub old: Vec<Decider>,
    /// The deciding rules after.
    pub new: Vec<Decider>,
}

/// The whole difference.
#[derive(Clone, Debug, Default)]
pub struct PolicyDiff {
    /// Every change, by VM (in the new policy's order), inbound first.
    pub changes: Vec<Change>,
    /// VMs only in the old policy.
    pub removed_vms: Vec<String>,
    /// VMs only in the new policy.
    pub added_vms: Vec<String>,
    /// NICs whose address changed: (vm, nic, old, new).
    pub moved_vms: Vec<(String, String, String, String)>,
    /// NICs only in the old policy, of VMs in both: (vm, nic).
    pub removed_nics: Vec<(String, String)>,
    /// NICs only in the new policy, of VMs in both: (vm, nic).
    pub added_nics: Vec<(String, String)>,
}

impl PolicyDiff {
    /// Whether any verdict changes.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Puts the VM's own field of every box to `own`.
fn rebase(pieces: Vec<Piece>, direction: Direction, own: &AddrSet) -> Vec<Piece> {
    pieces
        .into_iter()
        .map(|p| {
            let boxes: Vec<MatchBox> = p
                .region
                .boxes()
                .iter()
                .map(|b| match direction {
                    Direction::Inbound => MatchBox { dst: own.clone(), ..b.clone() },
                    Direction::Outbound => MatchBox { src: own.clone(), ..b.clone() },
                })
                .collect();
            let mut region = super::space::Region::empty();
            for b in boxes {
                // The boxes were disjoint with one own address; they stay disjoint.
                region = region.union(&super::space::Region::from_box(b));
            }
            Piece { region, ..p }
        })
        .collect()
}

/// Compares the NSG chains of every VM present (by name) in both topologies.
pub fn diff(old: &Topology, new: &Topology) -> PolicyDiff {
    let mut out = PolicyDiff::default();
    let (old_chains, new_chains) = (Chains::new(old), Chains::new(new));
    for v in old.vm_ids() {
        let name = &old.vm(v).name;
        if new.vm_by_name(name).is_none() {
            out.removed_vms.push(name.clone());
        }
    }
    for nv in new.vm_ids() {
        let name = new.vm(nv).name.clone();
        let Some(ov) = old.vm_by_name(&name) else {
            out.added_vms.push(name);
            continue;
        };
        for (on, nn) in nic_pairs(old, ov, new, nv, &mut out) {
            diff_nic(&old_chains, on, &new_chains, nn, &name, &mut out);
        }
    }
    out
}

/// The NICs of a VM on both sides, matched by name, then primary with primary; the rest are
/// recorded as added or removed.
fn nic_pairs(
    old: &Topology,
    ov: crate::model::VmId,
    new: &Topology,
    nv: crate::model::VmId,
    out: &mut PolicyDiff,
) -> Vec<(NicId, NicId)> {
    let (olds, news) = (&old.vm(ov).nics, &new.vm(nv).nics);
    let mut pairs = Vec::new();
    let mut unmatched_old: Vec<NicId> = Vec::new();
    for &o in olds {
        match news.iter().find(|&&n| new.nic(n).name == old.nic(o).name) {
            Some(&n) => pairs.push((o, n)),
            None => unmatched_old.push(o),
        }
    }
    let mut unmatched_new: Vec<NicId> =
        news.iter().copied().filter(|n| !pairs.iter().any(|(_, m)| m == n)).collect();
    if let (Some(op), Some(np)) = (old.primary_nic(ov), new.primary_nic(nv))
        && unmatched_old.contains(&op)
        && unmatched_new.contains(&np)
    {
        pairs.push((op, np));
        unmatched_old.retain(|n| *n != op);
        unmatched_new.retain(|n| *n != np);
    }
    let vm = new.vm(nv).name.clone();
    out.removed_nics.extend(unmatched_old.iter().map(|n| (vm.clone(), old.nic(*n).name.clone())));
    out.added_nics.extend(unmatched_new.iter().map(|n| (vm.clone(), new.nic(*n).name.clone())));
    pairs
}

/// The changed flows of one NIC in both directions.
fn diff_nic(
    old_chains: &Chains,
    on: NicId,
    new_chains: &Chains,
    nn: NicId,
    name: &str,
    out: &mut PolicyDiff,
) {
    let (old, new) = (old_chains.topology(), new_chains.topology());
    let name = name.to_string();
    let (old_ip, new_ip) = (old.nic(on).private_ip, new.nic(nn).private_ip);
    let nic = new.nic(nn).name.clone();
    let primary = new.nic(nn).primary;
    if old_ip != new_ip {
        out.moved_vms.push((name.clone(), nic.clone(), old_ip.to_string(), new_ip.to_string()));
    }
    let own = AddrSet::from_addr(new_ip);
    {
        for direction in [Direction::Inbound, Direction::Outbound] {
            let before = rebase(old_chains.chain(on, direction), direction, &own);
            let after = new_chains.chain(nn, direction);
            for a in &before {
                for b in &after {
                    if a.verdict == b.verdict {
                        continue;
                    }
                    let region = a.region.intersect(&b.region);
                    if region.is_empty() {
                        continue;
                    }
                    out.changes.push(Change {
                        vm: name.clone(),
                        nic: nic.clone(),
                        primary,
                        direction,
                        boxes: region.merged().boxes().to_vec(),
                        old_verdict: a.verdict,
                        new_verdict: b.verdict,
                        old: a.deciders.clone(),
                        new: b.deciders.clone(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, RulePools};
    use std::net::IpAddr;
    use std::path::Path;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::net::{Flow, IpProtocol};
    use crate::path::Level;
    use crate::scenario::load_str;

    use super::super::chain::{compile, nsg_at};

    const POOLS: RulePools = RulePools {
        sources: &[
            "*",
            "10.0.0.0/24",
            "10.0.0.0/25",
            "10.0.1.0/24",
            "Internet",
            "VirtualNetwork",
            "192.0.2.0/28,10.0.0.128/26",
            "ASG",
        ],
        source_ports: &["*", "*", "1024-65535", "50000", "20-25"],
        priority_slots: 30,
        outbound_one_in: 3,
    };

    fn rules(rng: &mut StdRng, n: usize) -> String {
        testing::random_rules(rng, n, &POOLS)
    }

    /// One VM with two NICs: the primary in subnet `s` (subnet NSG `sub`, NIC NSG `nic`, member
    /// of `asg1`), the secondary in subnet `t` (NIC NSG `nic2` only).
    fn scenario(subnet_rules: &str, nic_rules: &str, nic2_rules: &str) -> String {
        format!(
            r#"Scenario(name: "r", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.0.0/24", nsg: "sub"), Subnet(name: "t", prefix: "10.0.2.0/24")])],
                asgs: ["asg1"],
                nsgs: [Nsg(name: "sub", rules: [{subnet_rules}]), Nsg(name: "nic", rules: [{nic_rules}]), Nsg(name: "nic2", rules: [{nic2_rules}])],
                vms: [Vm(name: "vm", os: Linux, nics: [Nic(name: "n", subnet: "v/s", private_ip: "10.0.0.4", nsg: "nic", asgs: ["asg1"]),
                                                      Nic(name: "n2", subnet: "v/t", private_ip: "10.0.2.4", nsg: "nic2")])])"#
        )
    }

    /// The chain of one NIC, compiled, in evaluation order.
    fn chain_nsgs(t: &Topology, nic: NicId, direction: Direction) -> Vec<crate::nsg::CompiledNsg> {
        let levels = match direction {
            Direction::Inbound => [Level::Subnet, Level::Nic],
            Direction::Outbound => [Level::Nic, Level::Subnet],
        };
        levels
            .into_iter()
            .filter_map(|level| nsg_at(t, nic, level))
            .map(|nsg| compile(t, nsg, t.nic(nic).subnet, direction))
            .collect()
    }

    /// The chain verdict of one flow, evaluated rule by rule (the oracle).
    fn verdict(chain: &[crate::nsg::CompiledNsg], flow: &Flow) -> Access {
        if chain.iter().any(|c| c.evaluate(flow).rule.access == Access::Deny) {
            return Access::Deny;
        }
        Access::Allow
    }

    #[test]
    fn diff_matches_brute_force_on_random_policies() {
        let mut rng = StdRng::seed_from_u64(2025);
        let addresses: Vec<IpAddr> = [
            "10.0.0.1",
            "10.0.0.4",
            "10.0.0.127",
            "10.0.0.128",
            "10.0.0.200",
            "10.0.1.9",
            "10.0.255.1",
            "192.0.2.3",
            "192.0.2.20",
            "203.0.113.5",
            "172.16.0.1",
            "168.63.129.16",
            "10.0.2.9",
        ]
        .iter()
        .map(|a| a.parse().expect("ip"))
        .collect();
        let ports = [0u16, 19, 20, 22, 25, 26, 79, 80, 81, 999, 1000, 2000, 2001, 65535];
        let protocols = [IpProtocol::TCP, IpProtocol::UDP, IpProtocol::ICMP, IpProtocol::ESP];
        let mut checked = 0usize;
        let mut changed = 0usize;
        let mut changed_secondary = 0usize;
        for round in 0..25 {
            let (s_old, n_old, m_old) = (rules(&mut rng, 4), rules(&mut rng, 3), rules(&mut rng, 2));
            // The new policy keeps some levels and redraws the others, so the two overlap.
            let (s_new, n_new, m_new) = match round % 3 {
                0 => (s_old.clone(), rules(&mut rng, 3), m_old.clone()),
                1 => (rules(&mut rng, 4), n_old.clone(), m_old.clone()),
                _ => (s_old.clone(), n_old.clone(), rules(&mut rng, 2)),
            };
            let old = load_str(&scenario(&s_old, &n_old, &m_old), Path::new("old.ron"))
                .expect("old loads")
                .topology;
            let new = load_str(&scenario(&s_new, &n_new, &m_new), Path::new("new.ron"))
                .expect("new loads")
                .topology;
            let d = diff(&old, &new);
            for nic_name in ["n", "n2"] {
                let (on, nn) = (
                    old.nic_by_name(nic_name).expect("old nic"),
                    new.nic_by_name(nic_name).expect("new nic"),
                );
                let own = new.nic(nn).private_ip;
                for direction in [Direction::Inbound, Direction::Outbound] {
                    let (old_chain, new_chain) =
                        (chain_nsgs(&old, on, direction), chain_nsgs(&new, nn, direction));
                    for &other in &addresses {
                        for &protocol in &protocols {
                            for &port in &ports {
                                for src_port in [50000u16, 50001, 22, 80, 1023] {
                                    let (src, dst) = match direction {
                                        Direction::Inbound => (other, own),
                                        Direction::Outbound => (own, other),
                                    };
                                    let flow = Flow::new(protocol, src, src_port, dst, port);
                                    let differs = verdict(&old_chain, &flow) != verdict(&new_chain, &flow);
                                    let reported: Vec<&Change> = d
                                        .changes
                                        .iter()
                                        .filter(|c| {
                                            c.nic == nic_name
                                                && c.direction == direction
                                                && c.boxes.iter().any(|b| b.contains(&flow))
                                        })
                                        .collect();
                                    assert!(reported.len() <= 1, "flow {flow} in {} changes", reported.len());
                                    assert_eq!(
                                        differs,
                                        !reported.is_empty(),
                                        "round {round} {nic_name} {direction} {flow}\nold {s_old} | {n_old} | {m_old}\nnew {s_new} | {n_new} | {m_new}"
                                    );
                                    if let Some(c) = reported.first() {
                                        assert_eq!(c.new_verdict, verdict(&new_chain, &flow));
                                        assert_eq!(c.primary, nic_name == "n");
                                        changed += 1;
                                        changed_secondary += usize::from(nic_name == "n2");
                                    }
                                    checked += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(changed > 100, "too few changed flows to be a test: {changed} of {checked}");
        assert!(changed_secondary > 20, "too few changes on the secondary NIC: {changed_secondary}");
    }

    #[test]
    fn identical_policies_have_no_diff() {
        let mut rng = StdRng::seed_from_u64(1);
        let (s, n, m) = (rules(&mut rng, 5), rules(&mut rng, 5), rules(&mut rng, 3));
        let t = load_str(&scenario(&s, &n, &m), Path::new("x.ron")).expect("loads").topology;
        assert!(diff(&t, &t).is_empty());
    }
}

//! `reach`: every source class that can reach a VM, and on which ports.

use rayon::prelude::*;

use crate::model::{CollectionRules, NicId, SubnetId, Topology, User, VmId};
use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, split_at};
use crate::nsg::{Access, Direction};
use crate::path::{Destination, FlowRequest, HopKind, PolicyCache, Source, evaluate};

/// One way a class reaches the VM: a protocol, ports, the sources that can, and what allowed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReachEntry {
    /// Protocol.
    pub protocol: IpProtocol,
    /// Destination ports the traffic is addressed to (for DNAT, the public port).
    pub ports: PortSet,
    /// For DNAT: the VM port that the public port is translated to (`None`: the VM port is the
    /// port addressed, one of `ports`).
    pub translated_port: Option<u16>,
    /// The sources (within the class) that get through.
    pub sources: AddrSet,
    /// How the traffic enters: `private`, `public IP <name>`, `DNAT <firewall> <ip>:<port> -> :<port>`,
    /// `Bastion <name>`.
    pub entry: String,
    /// The deciding NSG or firewall, and its rule, as in a trace.
    pub allowed_by: String,
}

/// What one source class can reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassReach {
    /// `Internet`, `user alice`, `subnet hub/app`, `Bastion hub-bastion`, `on-premises 10.8.0.0/16 (vnet corp)`.
    pub class: String,
    /// The class's addresses.
    pub addresses: AddrSet,
    /// A short name for those addresses (`the Internet`, `10.1.1.0/24`).
    pub addresses_name: String,
    /// Every way in; empty = the class cannot reach the VM on the ports asked.
    pub entries: Vec<ReachEntry>,
}

/// One way to address the VM.
#[derive(Clone, Debug)]
struct EntryPoint {
    destination: Destination,
    label: String,
    /// For DNAT: the public port that enters, and the VM port it is translated to.
    fixed_port: Option<(u16, u16)>,
    via: Option<crate::model::BastionId>,
}

/// A source class with its sources and entry points.
struct Class {
    /// The subnet the class's sources sit in, when they do.
    subnet: Option<SubnetId>,
    label: String,
    addresses: AddrSet,
    addresses_name: String,
    entries: Vec<EntryPoint>,
}

/// Which source classes [`reach`] considers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classes<'a> {
    /// Every class: the Internet, Bastion hosts, on-premises networks, every subnet, and these users.
    All(&'a [User]),
    /// Only the Internet (directly, through DNAT; not through Bastion, which opens the session
    /// itself from its subnet).
    InternetOnly,
}

/// Who can reach `vm` (its primary NIC), and on which ports (`ports` = every port when `None`),
/// for TCP and UDP.
pub fn reach(
    topology: &Topology,
    cache: &PolicyCache,
    vm: VmId,
    ports: Option<&PortSet>,
    which: Classes<'_>,
) -> Vec<ClassReach> {
    let Some(nic) = topology.primary_nic(vm) else { return Vec::new() };
    let classes = classes(topology, cache, nic, which);
    let mut base = Cuts::default();
    base.add_subnet(topology, cache, topology.nic(nic).subnet);
    base.add_appliances(topology, cache);
    let all_ports = ports.cloned().unwrap_or_else(PortSet::any);
    classes
        .into_iter()
        .map(|class| {
            let mut cuts = base.clone();
            if let Some(subnet) = class.subnet {
                cuts.add_subnet(topology, cache, subnet);
            }
            let pieces = split_at(&class.addresses, &mut cuts.v4, &mut cuts.v6);
            let port_pieces = split_ports(&all_ports, &mut cuts.ports);
            let mut jobs = Vec::new();
            for entry in &class.entries {
                for protocol in [IpProtocol::TCP, IpProtocol::UDP] {
                    let entry_ports: Vec<(u16, u16)> = match entry.fixed_port {
                        Some((public, target)) if all_ports.contains(target) => vec![(public, public)],
                        Some(_) => vec![],
                        None => port_pieces.clone(),
                    };
                    for &(lo, hi) in &entry_ports {
                        for piece in &pieces {
                            jobs.push((entry, protocol, (lo, hi), piece));
                        }
                    }
                }
            }
            let allowed: Vec<Allowed> = jobs
                .par_iter()
                .filter_map(|(entry, protocol, (lo, hi), piece)| {
                    let src = piece.first()?;
                    let source = match topology.nic_by_private_ip(src) {
                        Some(n) => Source::Nic(n),
                        None => Source::Address(src),
                    };
                    let req = FlowRequest {
                        source,
                        destination: entry.destination,
                        protocol: *protocol,
                        src_port: 50000,
                        dst_port: *lo,
                        via: entry.via,
                    };
                    let trace = evaluate(topology, cache, &req);
                    if trace.verdict != Access::Allow {
                        return None;
                    }
                    let by = trace
                        .deciding_hop()
                        .filter(|h| matches!(h.kind, HopKind::Nsg | HopKind::Firewall))
                        .map(|h| format!("{} {}", h.resource, h.rule.clone().unwrap_or_default()))
                        .unwrap_or_else(|| "no NSG on the path".into());
                    let translated = entry.fixed_port.map(|(_, target)| target);
                    Some((entry.label.clone(), *protocol, (*lo, *hi), (*piece).clone(), by, translated))
                })
                .collect();
            ClassReach {
                class: class.label,
                addresses: class.addresses,
                addresses_name: class.addresses_name,
                entries: merge(allowed),
            }
        })
        .collect()
}

/// One allowed piece: (entry label, protocol, port range, sources, deciding rule).
/// An allowed piece: entry label, protocol, ports, sources, deciding rule, DNAT target port.
type Allowed = (String, IpProtocol, (u16, u16), AddrSet, String, Option<u16>);

/// Groups allowed pieces by (entry, protocol, deciding rule), uniting ports and sources.
fn merge(allowed: Vec<Allowed>) -> Vec<ReachEntry> {
    let mut out: Vec<ReachEntry> = Vec::new();
    // Ports first: for each group, the sources allowed on every port piece of that group can be
    // reported together only when they agree; keep (ports, sources) pairs merged per exact source set.
    for (entry, protocol, (lo, hi), sources, by, translated_port) in allowed {
        let range = PortSet::from_ranges([PortRange::new(lo, hi).unwrap_or(PortRange::single(lo))]);
        if let Some(e) = out
            .iter_mut()
            .find(|e| e.entry == entry && e.protocol == protocol && e.allowed_by == by && e.ports == range)
        {
            e.sources = e.sources.union(&sources);
            continue;
        }
        out.push(ReachEntry { protocol, ports: range, translated_port, sources, entry, allowed_by: by });
    }
    // Then merge entries that differ only in ports.
    let mut merged: Vec<ReachEntry> = Vec::new();
    for e in out {
        if let Some(m) = merged.iter_mut().find(|m| {
            m.entry == e.entry
                && m.protocol == e.protocol
                && m.allowed_by == e.allowed_by
                && m.sources == e.sources
        }) {
            m.ports = m.ports.union(&e.ports);
            continue;
        }
        merged.push(e);
    }
    merged.sort_by(|a, b| {
        (a.entry.as_str(), a.protocol, a.ports.as_pairs().first()).cmp(&(
            b.entry.as_str(),
            b.protocol,
            b.ports.as_pairs().first(),
        ))
    });
    merged
}

fn split_ports(set: &PortSet, cuts: &mut Vec<u32>) -> Vec<(u16, u16)> {
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    for &(lo, hi) in set.as_pairs() {
        let mut start = lo as u32;
        for &c in cuts.iter().filter(|&&c| c > lo as u32 && c <= hi as u32) {
            out.push((start as u16, (c - 1) as u16));
            start = c;
        }
        out.push((start as u16, hi));
    }
    out
}

/// The points where some rule on the relevant paths changes its mind: address cuts (source
/// side) and destination-port cuts.
#[derive(Clone, Debug, Default)]
struct Cuts {
    v4: Vec<u32>,
    v6: Vec<u128>,
    ports: Vec<u32>,
}

impl Cuts {
    fn add_set(&mut self, set: &AddrSet) {
        for &(lo, hi) in set.v4_ranges() {
            self.v4.push(lo);
            self.v4.extend(hi.checked_add(1));
        }
        for &(lo, hi) in set.v6_ranges() {
            self.v6.push(lo);
            self.v6.extend(hi.checked_add(1));
        }
    }

    fn add_ports(&mut self, set: &PortSet) {
        for &(lo, hi) in set.as_pairs() {
            self.ports.push(lo as u32);
            self.ports.push(hi as u32 + 1);
        }
    }

    /// A subnet's NSG, its NICs' NSGs, and every NIC address in it (each NIC is its own piece,
    /// having an NSG of its own).
    fn add_subnet(&mut self, topology: &Topology, cache: &PolicyCache, subnet: SubnetId) {
        let s = topology.subnet(subnet);
        let mut nsgs: Vec<_> = s.nsg.into_iter().collect();
        nsgs.extend(s.nics.iter().filter_map(|n| topology.nic(*n).nsg));
        for nsg in nsgs {
            for direction in [Direction::Inbound, Direction::Outbound] {
                if let Some(c) = cache.get(topology, nsg, subnet, direction) {
                    c.address_cuts(true, &mut self.v4, &mut self.v6);
                    c.port_cuts(&mut self.ports);
                }
            }
        }
        for n in &s.nics {
            self.add_set(&AddrSet::from_addr(topology.nic(*n).private_ip));
        }
    }

    /// Every firewall rule's sources and ports, and every Bastion subnet.
    fn add_appliances(&mut self, topology: &Topology, cache: &PolicyCache) {
        for fw in topology.firewall_ids() {
            for group in &topology.firewall(fw).groups {
                for c in &group.collections {
                    match &c.rules {
                        // DNAT entries are evaluated at their own public port (`fixed_port`).
                        CollectionRules::Dnat(rules) => rules.iter().for_each(|r| self.add_set(&r.sources)),
                        CollectionRules::Network(_, rules) => rules.iter().for_each(|r| {
                            self.add_set(&r.sources);
                            self.add_ports(&r.destination_ports);
                        }),
                        CollectionRules::Application(_, rules) => rules.iter().for_each(|r| {
                            self.add_set(&r.sources);
                            self.add_ports(&r.ports);
                        }),
                    }
                }
            }
        }
        for b in topology.bastion_ids() {
            self.add_subnet(topology, cache, topology.bastion(b).subnet);
        }
    }
}

fn classes(topology: &Topology, cache: &PolicyCache, nic: NicId, which: Classes<'_>) -> Vec<Class> {
    let target_vnet = topology.vnet_of_nic(nic);
    let target_ip = topology.nic(nic).private_ip;
    let mut out = Vec::new();
    let internet = topology.resolve_context(target_vnet).internet;
    let mut internet_entries = vec![EntryPoint {
        destination: Destination::Nic(nic),
        label: match topology.nic(nic).public_ip {
            Some(p) => {
                format!("public IP '{}' ({})", topology.public_ip(p).name, topology.public_ip(p).address)
            }
            None => "private address (no public IP)".into(),
        },
        fixed_port: None,
        via: None,
    }];
    for fw in topology.firewall_ids() {
        let f = topology.firewall(fw);
        let Some(pip) = f.public_ip else { continue };
        for group in &f.groups {
            for c in &group.collections {
                if let crate::model::CollectionRules::Dnat(rules) = &c.rules {
                    for r in rules.iter().filter(|r| r.translated_address == target_ip) {
                        internet_entries.push(EntryPoint {
                            destination: Destination::PublicIp(pip),
                            label: format!(
                                "DNAT on firewall '{}' {}:{} -> :{}",
                                f.name, r.destination, r.destination_port, r.translated_port
                            ),
                            fixed_port: Some((r.destination_port, r.translated_port)),
                            via: None,
                        });
                    }
                }
            }
        }
    }
    let bastion_entries: Vec<EntryPoint> = topology
        .bastion_ids()
        .filter(|&b| cache.private_reach().vnet_reaches(topology.bastion(b).vnet, target_vnet))
        .map(|b| EntryPoint {
            destination: Destination::Nic(nic),
            label: format!("Bastion '{}'", topology.bastion(b).name),
            fixed_port: None,
            via: Some(b),
        })
        .collect();
    out.push(Class {
        subnet: None,
        label: "Internet".into(),
        addresses: internet.clone(),
        addresses_name: "the Internet".into(),
        entries: internet_entries.clone(),
    });
    let Classes::All(users) = which else { return out };
    for u in users {
        out.push(Class {
            subnet: None,
            label: format!("user {} ({})", u.name, u.source_ip),
            addresses: AddrSet::from_addr(u.source_ip),
            addresses_name: u.source_ip.to_string(),
            entries: internet_entries.iter().chain(&bastion_entries).cloned().collect(),
        });
    }
    if !bastion_entries.is_empty() {
        out.push(Class {
            subnet: None,
            label: "Bastion users (anyone on the Internet who can sign in)".into(),
            addresses: internet.clone(),
            addresses_name: "the Internet".into(),
            entries: bastion_entries,
        });
    }
    for v in topology.vnet_ids() {
        for space in &topology.vnet(v).on_premises {
            out.push(Class {
                subnet: None,
                label: format!("on-premises {space} (gateway of vnet '{}')", topology.vnet(v).name),
                addresses: AddrSet::from_net(*space),
                addresses_name: space.to_string(),
                entries: vec![EntryPoint {
                    destination: Destination::Nic(nic),
                    label: "private address".into(),
                    fixed_port: None,
                    via: None,
                }],
            });
        }
    }
    for s in topology.subnet_ids() {
        let subnet = topology.subnet(s);
        if subnet.name == crate::model::BASTION_SUBNET || subnet.name == crate::model::FIREWALL_SUBNET {
            continue;
        }
        out.push(Class {
            label: format!("subnet '{}/{}'", topology.vnet(subnet.vnet).name, subnet.name),
            subnet: Some(s),
            addresses: AddrSet::from_net(subnet.prefix).subtract(&AddrSet::from_addr(target_ip)),
            addresses_name: subnet.prefix.to_string(),
            entries: vec![EntryPoint {
                destination: Destination::Nic(nic),
                label: "private address".into(),
                fixed_port: None,
                via: None,
            }],
        });
    }
    out
}

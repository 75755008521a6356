//! `reach`: every source class that can reach a VM, and on which ports.

use rayon::prelude::*;

use crate::model::{CollectionRules, NicId, Site, SubnetId, Topology, User, VmId};
use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, split_at};
use crate::nsg::{Access, Direction};
use crate::path::{Destination, FlowRequest, HopKind, PolicyCache, Source, evaluate, source_at};

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
    /// Where the class's addresses are: in a VNet, or on-premises behind a gateway (separate
    /// routing domains may share addresses, so the class says which); `None` on the Internet.
    site: Option<Site>,
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
                    let source = match class.site {
                        Some(site) => source_at(topology, src, site),
                        None => topology.nic_by_private_ip(src).map_or(Source::Address(src), Source::Nic),
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
                        .filter(|h| matches!(h.kind, HopKind::Nsg | HopKind::Firewall | HopKind::AdminRule))
                        .map(|h| format!("{} {}", h.resource, h.rule_name().unwrap_or_default()))
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
    // A secondary IP configuration's public IP is another way in, to that configuration's address.
    for c in &topology.nic(nic).secondary {
        let Some(p) = c.public_ip else { continue };
        internet_entries.push(EntryPoint {
            destination: Destination::PublicIp(p),
            label: format!(
                "public IP '{}' ({}) of IP configuration '{}' ({})",
                topology.public_ip(p).name,
                topology.public_ip(p).address,
                c.name,
                c.private_ip
            ),
            fixed_port: None,
            via: None,
        });
    }
    for fw in topology.firewall_ids() {
        let f = topology.firewall(fw);
        let Some(pip) = f.public_ip else { continue };
        for group in &f.groups {
            for c in &group.collections {
                if let crate::model::CollectionRules::Dnat(rules) = &c.rules {
                    // The DNAT target is routed from the firewall's subnet: it is this VM only as the
                    // firewall's VNet sees the address.
                    let fw_vnet = topology.subnet(f.subnet).vnet;
                    if topology.vnet_seen_from(fw_vnet, target_ip) != Some(target_vnet) {
                        continue;
                    }
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
    internet_entries.extend(load_balancer_entries(topology, nic));
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
        site: None,
        label: "Internet".into(),
        addresses: internet.clone(),
        addresses_name: "the Internet".into(),
        entries: internet_entries.clone(),
    });
    let Classes::All(users) = which else { return out };
    for u in users {
        // A user's address that separate routing domains share is the one that reaches this
        // VM; when none or several do, each is its own class, named.
        let sites = topology.sites_toward(u.source_ip, target_vnet);
        let placements: Vec<(Option<Site>, String)> = match sites.as_slice() {
            [] => vec![(None, u.source_ip.to_string())],
            [one] => vec![(Some(*one), u.source_ip.to_string())],
            many => many
                .iter()
                .map(|s| (Some(*s), format!("{} as {}", u.source_ip, topology.site_label(*s, u.source_ip))))
                .collect(),
        };
        for (site, what) in placements {
            out.push(Class {
                subnet: None,
                site,
                label: format!("user {} ({what})", u.name),
                addresses: AddrSet::from_addr(u.source_ip),
                addresses_name: u.source_ip.to_string(),
                entries: internet_entries.iter().chain(&bastion_entries).cloned().collect(),
            });
        }
    }
    if !bastion_entries.is_empty() {
        out.push(Class {
            subnet: None,
            site: None,
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
                site: Some(Site::OnPremises(v)),
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
        // The VM itself is left out of its own subnet; a subnet of another routing domain that
        // reuses its address keeps that address (another host).
        let own = if subnet.vnet == target_vnet { AddrSet::from_addr(target_ip) } else { AddrSet::default() };
        out.push(Class {
            label: format!("subnet '{}/{}'", topology.vnet(subnet.vnet).name, subnet.name),
            subnet: Some(s),
            site: Some(Site::Vnet(subnet.vnet)),
            addresses: AddrSet::from_net(subnet.prefix).subtract(&own),
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

/// The ways in from the Internet through public load balancers to `nic`: each inbound NAT rule
/// port that goes to one of its IP configurations, and each load-balancing rule whose pool holds
/// one, at its own frontend port (an HA ports rule, every port). Each is asked for this member
/// ([`Destination::Backend`]): Azure's hash may send a flow to any healthy member, so every
/// member is exposed through the rule as far as its own NSGs allow.
fn load_balancer_entries(topology: &Topology, nic: NicId) -> Vec<EntryPoint> {
    let mut out = Vec::new();
    for id in topology.load_balancer_ids() {
        let l = topology.load_balancer(id);
        let public = |frontend: usize| {
            matches!(l.frontends[frontend].address, crate::model::FrontendAddress::Public(_))
                .then(|| topology.frontend_address(id, frontend))
        };
        for rule in &l.nat_rules {
            let Some(address) = public(rule.frontend) else { continue };
            for (port, member) in l.nat_members(rule).into_iter().filter(|(_, m)| m.nic == nic) {
                out.push(EntryPoint {
                    destination: Destination::Backend { address, nic: member.nic },
                    label: format!(
                        "load balancer '{}' NAT rule '{}' {address}:{port} -> :{}",
                        l.name, rule.name, rule.backend_port
                    ),
                    fixed_port: Some((port, rule.backend_port)),
                    via: None,
                });
            }
        }
        for rule in l.rules.iter().filter(|r| topology.nic_in_pool(id, r.pool, nic)) {
            let Some(address) = public(rule.frontend) else { continue };
            let (label, fixed_port) = if rule.ha_ports() {
                (format!("load balancer '{}' rule '{}' {address} (HA ports)", l.name, rule.name), None)
            } else {
                (
                    format!(
                        "load balancer '{}' rule '{}' {address}:{} -> :{}",
                        l.name, rule.name, rule.frontend_port, rule.backend_port
                    ),
                    Some((rule.frontend_port, rule.backend_port)),
                )
            };
            out.push(EntryPoint {
                destination: Destination::Backend { address, nic },
                label,
                fixed_port,
                via: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// vnet-a and vnet-b, unpeered, both 10.0.0.0/16, with a2 and b at 10.0.1.5; vnet-c peered
    /// with vnet-b; vnet-d alone, its VM with a public IP; a firewall in vnet-a publishing
    /// 10.0.1.5:22 (a2, as vnet-a sees it); user ops at 10.0.1.5.
    const TWINS: &str = r#"Scenario(
        name: "twins",
        start: "2025-01-06T09:00:00Z",
        vnets: [
            Vnet(name: "vnet-a", address_space: ["10.0.0.0/16"], subnets: [
                Subnet(name: "app", prefix: "10.0.1.0/24"),
                Subnet(name: "AzureFirewallSubnet", prefix: "10.0.3.0/26"),
            ]),
            Vnet(name: "vnet-b", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.0.1.0/24")]),
            Vnet(name: "vnet-c", address_space: ["10.9.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.9.1.0/24")]),
            Vnet(name: "vnet-d", address_space: ["10.20.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.20.1.0/24", nsg: "d-nsg")]),
        ],
        peerings: [("vnet-b", "vnet-c")],
        nsgs: [Nsg(name: "d-nsg", rules: [Rule(name: "ssh", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "22")])],
        public_ips: [
            PublicIp(name: "fw-pip", address: "20.0.0.1", sku: Standard),
            PublicIp(name: "d-pip", address: "20.0.0.9", sku: Standard),
        ],
        firewalls: [Firewall(name: "fw", vnet: "vnet-a", private_ip: "10.0.3.4", public_ip: "fw-pip", collections: [
            Dnat(name: "in", priority: 100, rules: [DnatRule(name: "ssh", protocols: [Tcp], sources: ["*"], destination_port: 50022, translated_address: "10.0.1.5", translated_port: 22)]),
        ])],
        vms: [
            Vm(name: "vm-a2", os: Linux, nics: [Nic(name: "a2", subnet: "vnet-a/app", private_ip: "10.0.1.5")]),
            Vm(name: "vm-b", os: Linux, nics: [Nic(name: "b", subnet: "vnet-b/app", private_ip: "10.0.1.5")]),
            Vm(name: "vm-c", os: Linux, nics: [Nic(name: "c", subnet: "vnet-c/app", private_ip: "10.9.1.4")]),
            Vm(name: "vm-d", os: Linux, nics: [Nic(name: "d", subnet: "vnet-d/app", private_ip: "10.20.1.4", public_ip: "d-pip")]),
        ],
        users: [User(name: "ops", roles: ["Owner"], source_ip: "10.0.1.5")],
    )"#;

    fn classes_of(vm: &str) -> Vec<ClassReach> {
        let s = crate::scenario::load_str(TWINS, std::path::Path::new("twins.ron"))
            .unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let vm = t.vm_by_name(vm).expect("vm");
        reach(
            t,
            &PolicyCache::new(t),
            vm,
            Some(&PortSet::from_ranges([PortRange::single(22)])),
            Classes::All(&s.users),
        )
    }

    fn class<'a>(classes: &'a [ClassReach], label: &str) -> &'a ClassReach {
        classes.iter().find(|c| c.class == label).unwrap_or_else(|| panic!("no class {label}: {classes:#?}"))
    }

    #[test]
    fn classes_are_placed_in_their_own_routing_domain() {
        let b = classes_of("vm-b");
        // The firewall's DNAT to 10.0.1.5 is a2's, as vnet-a sees the address: not an entry to b.
        assert!(class(&b, "Internet").entries.is_empty(), "{b:#?}");
        // vnet-a's subnet keeps 10.0.1.5 (a2, another host) and reaches nothing in vnet-b.
        let a_app = class(&b, "subnet 'vnet-a/app'");
        assert!(a_app.addresses.contains("10.0.1.5".parse().expect("ip")) && a_app.entries.is_empty());
        assert!(!class(&b, "subnet 'vnet-c/app'").entries.is_empty(), "vnet-c is peered with vnet-b");
        // The user at 10.0.1.5 is b itself toward b's routing domain.
        assert!(!class(&b, "user ops (10.0.1.5)").entries.is_empty());

        let a2 = classes_of("vm-a2");
        let internet = class(&a2, "Internet");
        assert_eq!(internet.entries.len(), 1, "{internet:#?}");
        assert!(internet.entries[0].entry.starts_with("DNAT on firewall 'fw'"), "{internet:#?}");

        // Toward vm-d, whose VNet neither reaches, the user's address is both hosts: two classes.
        let d = classes_of("vm-d");
        for label in ["user ops (10.0.1.5 as vm-a2 (vnet-a))", "user ops (10.0.1.5 as vm-b (vnet-b))"] {
            assert!(!class(&d, label).entries.is_empty(), "through vm-d's public IP: {d:#?}");
        }
    }
}

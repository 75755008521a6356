//! Converting the routing and appliance parts of a scenario: route tables, Azure Firewalls and
//! Azure Bastion hosts.

use std::net::IpAddr;

use super::load::{Fault, Loader, fault, in_range};
use super::schema::{
    AppProtocolSpec, CollectionSpec, FirewallActionSpec, FirewallModeSpec, FirewallSpec, NextHopSpec,
    ProtocolSpec, ScenarioFile,
};
use crate::model::{
    ApplicationRule, CollectionRules, DnatRule, Firewall, FirewallAction, FirewallMode, NetworkRule, NextHop,
    Route, RouteTable, RuleCollection, RuleCollectionGroup, SubnetId, Topology, TopologyError,
};
use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, ProtocolSet, parse_prefix};
use crate::nsg::ServiceTag;

impl Loader<'_> {
    /// Route tables (and their subnet associations), firewalls and Bastion hosts.
    pub(super) fn network(&self, file: &ScenarioFile, t: &mut Topology) -> Result<(), Fault> {
        for (ti, table) in file.route_tables.iter().enumerate() {
            let field = format!("route_tables[{ti}]");
            let mut routes = Vec::new();
            for (ri, r) in table.routes.iter().enumerate() {
                let rf = format!("{field}.routes[{ri}]");
                let prefix = parse_prefix(&r.prefix)
                    .map_err(|e| fault(format!("{rf}.prefix"), &r.prefix, e.to_string()))?;
                let next_hop = match &r.next_hop {
                    NextHopSpec::VirtualAppliance(ip) => NextHop::VirtualAppliance(ip.parse::<IpAddr>().map_err(|_| {
                        fault(format!("{rf}.next_hop"), ip, format!("'{ip}' is not an IP address; VirtualAppliance takes the appliance's private IP"))
                    })?),
                    NextHopSpec::Internet => NextHop::Internet,
                    NextHopSpec::VnetLocal => NextHop::VnetLocal,
                    NextHopSpec::VirtualNetworkGateway => NextHop::VirtualNetworkGateway,
                    NextHopSpec::None => NextHop::None,
                };
                routes.push(Route { name: r.name.clone(), prefix, next_hop });
            }
            t.add_route_table(RouteTable { name: table.name.clone(), routes })
                .map_err(|e| fault(format!("{field}.name"), &table.name, e.to_string()))?;
        }
        for (vi, v) in file.vnets.iter().enumerate() {
            let Some(vnet) = t.vnet_by_name(&v.name) else { continue };
            for (si, s) in v.subnets.iter().enumerate() {
                let Some(name) = &s.route_table else { continue };
                let field = format!("vnets[{vi}].subnets[{si}].route_table");
                let table = t.route_table_by_name(name).ok_or_else(|| {
                    let names: Vec<String> =
                        t.route_table_ids().map(|r| t.route_table(r).name.clone()).collect();
                    fault(
                        &field,
                        name,
                        format!(
                            "unknown route table '{name}'; valid: {}",
                            if names.is_empty() { "(none declared)".into() } else { names.join(", ") }
                        ),
                    )
                })?;
                let subnet = t.subnet_by_name(vnet, &s.name).expect("added by the caller");
                t.set_subnet_route_table(subnet, table).map_err(|e| fault(&field, name, e.to_string()))?;
            }
        }
        for (fi, f) in file.firewalls.iter().enumerate() {
            self.firewall(f, t, &format!("firewalls[{fi}]"))?;
        }
        for (bi, b) in file.bastions.iter().enumerate() {
            let field = format!("bastions[{bi}]");
            let vnet = self.vnet(t, &b.vnet, &format!("{field}.vnet"))?;
            let public_ip = match &b.public_ip {
                Some(name) => Some(t.public_ip_by_name(name).ok_or_else(|| {
                    fault(
                        format!("{field}.public_ip"),
                        name,
                        format!("unknown public IP '{name}'; declare it in public_ips"),
                    )
                })?),
                None => None,
            };
            t.add_bastion(&b.name, vnet, public_ip).map_err(|e| match e {
                TopologyError::DuplicateName { .. } => fault(format!("{field}.name"), &b.name, e.to_string()),
                TopologyError::PublicIpInUse { .. } => fault(format!("{field}.public_ip"), "", e.to_string()),
                _ => fault(format!("{field}.vnet"), &b.vnet, e.to_string()),
            })?;
        }
        Ok(())
    }

    fn firewall(&self, f: &FirewallSpec, t: &mut Topology, field: &str) -> Result<(), Fault> {
        let vnet = self.vnet(t, &f.vnet, &format!("{field}.vnet"))?;
        let private_ip: IpAddr = f.private_ip.parse().map_err(|_| {
            fault(
                format!("{field}.private_ip"),
                &f.private_ip,
                format!("'{}' is not an IP address", f.private_ip),
            )
        })?;
        let public_ip = match &f.public_ip {
            Some(name) => Some(t.public_ip_by_name(name).ok_or_else(|| {
                fault(
                    format!("{field}.public_ip"),
                    name,
                    format!("unknown public IP '{name}'; declare it in public_ips"),
                )
            })?),
            None => None,
        };
        let public_address = public_ip.map(|p| t.public_ip(p).address);
        let mut fqdns = std::collections::BTreeMap::new();
        for (name, addrs) in &f.fqdns {
            let nets = addrs
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    parse_prefix(a)
                        .map_err(|e| fault(format!("{field}.fqdns[\"{name}\"][{i}]"), a, e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            fqdns.insert(name.clone(), AddrSet::from_nets(&nets));
        }
        let ctx = t.resolve_context(vnet);
        let mut groups = Vec::new();
        if !f.collections.is_empty() {
            let collections = self.collections(
                &f.collections,
                &ctx,
                &fqdns,
                public_address,
                &format!("{field}.collections"),
            )?;
            groups.push(RuleCollectionGroup { name: "classic".into(), priority: 100, collections });
        }
        for (gi, g) in f.rule_collection_groups.iter().enumerate() {
            let gf = format!("{field}.rule_collection_groups[{gi}]");
            let priority = check_priority(g.priority, &format!("{gf}.priority"), &g.name)?;
            let collections =
                self.collections(&g.collections, &ctx, &fqdns, public_address, &format!("{gf}.collections"))?;
            groups.push(RuleCollectionGroup { name: g.name.clone(), priority, collections });
        }
        let mode = match f.mode {
            Some(FirewallModeSpec::Policy) => FirewallMode::Policy,
            Some(FirewallModeSpec::Classic) | None => FirewallMode::Classic,
        };
        let firewall = Firewall {
            name: f.name.clone(),
            subnet: SubnetId(0),
            private_ip,
            public_ip,
            mode,
            groups,
            legacy_dnat: false,
        };
        t.add_firewall(firewall, vnet).map_err(|e| match e {
            TopologyError::DuplicateName { .. } => fault(format!("{field}.name"), &f.name, e.to_string()),
            TopologyError::IpOutsideSubnet { .. } => {
                fault(format!("{field}.private_ip"), &f.private_ip, e.to_string())
            }
            TopologyError::PublicIpInUse { .. } => fault(format!("{field}.public_ip"), "", e.to_string()),
            _ => fault(format!("{field}.vnet"), &f.vnet, e.to_string()),
        })?;
        Ok(())
    }

    fn collections(
        &self,
        specs: &[CollectionSpec],
        ctx: &crate::nsg::ResolveContext,
        fqdns: &std::collections::BTreeMap<String, AddrSet>,
        public_address: Option<IpAddr>,
        field: &str,
    ) -> Result<Vec<RuleCollection>, Fault> {
        let mut out = Vec::new();
        for (ci, c) in specs.iter().enumerate() {
            let cf = format!("{field}[{ci}]");
            let collection = match c {
                CollectionSpec::Dnat { name, priority, rules } => {
                    let priority = check_priority(*priority, &format!("{cf}.priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = format!("{cf}.rules[{ri}]");
                        let destination = match (&r.destination, public_address) {
                            (Some(d), _) => d.parse::<IpAddr>().map_err(|_| {
                                fault(format!("{rf}.destination"), d, format!("'{d}' is not an IP address"))
                            })?,
                            (None, Some(p)) => p,
                            (None, None) => {
                                return Err(fault(
                                    format!("{rf}.destination"),
                                    &r.name,
                                    "the firewall has no public IP; give the DNAT rule a destination",
                                ));
                            }
                        };
                        let translated_address = r.translated_address.parse::<IpAddr>().map_err(|_| {
                            fault(
                                format!("{rf}.translated_address"),
                                &r.translated_address,
                                format!("'{}' is not an IP address", r.translated_address),
                            )
                        })?;
                        out_rules.push(DnatRule {
                            name: r.name.clone(),
                            protocols: protocols(&r.protocols),
                            sources: addresses(&r.sources, ctx, &format!("{rf}.sources"))?,
                            destination,
                            destination_port: port(r.destination_port, &format!("{rf}.destination_port"))?,
                            translated_address,
                            translated_port: port(r.translated_port, &format!("{rf}.translated_port"))?,
                        });
                    }
                    RuleCollection { name: name.clone(), priority, rules: CollectionRules::Dnat(out_rules) }
                }
                CollectionSpec::Network { name, priority, action, rules } => {
                    let priority = check_priority(*priority, &format!("{cf}.priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = format!("{cf}.rules[{ri}]");
                        out_rules.push(NetworkRule {
                            name: r.name.clone(),
                            protocols: protocols(&r.protocols),
                            sources: addresses(&r.sources, ctx, &format!("{rf}.sources"))?,
                            destinations: addresses(&r.destinations, ctx, &format!("{rf}.destinations"))?,
                            destination_ports: ports(
                                &r.destination_ports,
                                &format!("{rf}.destination_ports"),
                            )?,
                        });
                    }
                    RuleCollection {
                        name: name.clone(),
                        priority,
                        rules: CollectionRules::Network(action_of(*action), out_rules),
                    }
                }
                CollectionSpec::Application { name, priority, action, rules } => {
                    let priority = check_priority(*priority, &format!("{cf}.priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = format!("{cf}.rules[{ri}]");
                        let mut destinations = AddrSet::empty();
                        for (i, fqdn) in r.fqdns.iter().enumerate() {
                            let set = fqdns.get(fqdn).ok_or_else(|| {
                                fault(
                                    format!("{rf}.fqdns[{i}]"),
                                    fqdn,
                                    format!(
                                        "FQDN '{fqdn}' has no addresses; add it to the firewall's fqdns map"
                                    ),
                                )
                            })?;
                            destinations = destinations.union(set);
                        }
                        let ports = PortSet::from_ranges(r.protocols.iter().map(|p| {
                            PortRange::single(match p {
                                AppProtocolSpec::Http => 80,
                                AppProtocolSpec::Https => 443,
                                AppProtocolSpec::Mssql => 1433,
                            })
                        }));
                        out_rules.push(ApplicationRule {
                            name: r.name.clone(),
                            sources: addresses(&r.sources, ctx, &format!("{rf}.sources"))?,
                            fqdns: r.fqdns.clone(),
                            destinations,
                            ports,
                        });
                    }
                    RuleCollection {
                        name: name.clone(),
                        priority,
                        rules: CollectionRules::Application(action_of(*action), out_rules),
                    }
                }
            };
            out.push(collection);
        }
        Ok(out)
    }
}

fn check_priority(priority: i64, field: &str, name: &str) -> Result<u32, Fault> {
    in_range(priority, 100u32, 65000).ok_or_else(|| {
        fault(field, priority.to_string(), format!("'{name}': priority {priority} is outside 100..=65000"))
    })
}

fn port(number: i64, field: &str) -> Result<u16, Fault> {
    in_range(number, 0u16, u16::MAX)
        .ok_or_else(|| fault(field, number.to_string(), format!("port {number} is outside 0..=65535")))
}

fn action_of(a: FirewallActionSpec) -> FirewallAction {
    match a {
        FirewallActionSpec::Allow => FirewallAction::Allow,
        FirewallActionSpec::Deny => FirewallAction::Deny,
    }
}

fn protocols(list: &[ProtocolSpec]) -> ProtocolSet {
    let mut set = ProtocolSet::EMPTY;
    for p in list {
        set = set.union(&match p {
            ProtocolSpec::Tcp => ProtocolSet::single(IpProtocol::TCP),
            ProtocolSpec::Udp => ProtocolSet::single(IpProtocol::UDP),
            ProtocolSpec::Icmp => ProtocolSet::of(&[IpProtocol::ICMP, IpProtocol::ICMPV6]),
            ProtocolSpec::Esp => ProtocolSet::single(IpProtocol::ESP),
            ProtocolSpec::Ah => ProtocolSet::single(IpProtocol::AH),
            ProtocolSpec::Any => ProtocolSet::ALL,
        });
    }
    set
}

/// `*`, IPs, CIDRs, or service tags (resolved in the firewall's VNet).
fn addresses(list: &[String], ctx: &crate::nsg::ResolveContext, field: &str) -> Result<AddrSet, Fault> {
    if list.is_empty() || list.iter().any(|a| a.trim() == "*") {
        return Ok(AddrSet::any());
    }
    let mut set = AddrSet::empty();
    for (i, a) in list.iter().enumerate() {
        let part = match parse_prefix(a) {
            Ok(net) => AddrSet::from_net(net),
            Err(e) => match ServiceTag::parse(a) {
                Some(tag) => ctx.tag(&tag),
                None => return Err(fault(format!("{field}[{i}]"), a, e.to_string())),
            },
        };
        set = set.union(&part);
    }
    Ok(set)
}

fn ports(list: &[String], field: &str) -> Result<PortSet, Fault> {
    let ranges = list
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.trim().parse::<PortRange>().map_err(|e| fault(format!("{field}[{i}]"), p, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PortSet::from_ranges(ranges))
}

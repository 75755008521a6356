//! Converting the routing and appliance parts of a scenario: route tables, Azure Firewalls and
//! Azure Bastion hosts.

use std::net::IpAddr;

use super::load::{Fault, Loader, fault};
use super::schema::{
    AppProtocolSpec, CollectionSpec, FirewallActionSpec, FirewallModeSpec, FirewallSpec, NextHopSpec,
    ProtocolSpec, ScenarioFile,
};
use crate::model::{
    ApplicationRule, CollectionRules, DnatRule, Firewall, FirewallAction, FirewallMode, NetworkRule, NextHop,
    Route, RouteTable, RuleCollection, RuleCollectionGroup, SubnetId, Topology,
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
                    .map_err(|e| fault(format!("{rf}.prefix"), Some(&r.name), &r.prefix, e.to_string()))?;
                let next_hop = match &r.next_hop {
                    NextHopSpec::VirtualAppliance(ip) => NextHop::VirtualAppliance(ip.parse::<IpAddr>().map_err(|_| {
                        fault(format!("{rf}.next_hop"), Some(&r.name), ip, format!("'{ip}' is not an IP address; VirtualAppliance takes the appliance's private IP"))
                    })?),
                    NextHopSpec::Internet => NextHop::Internet,
                    NextHopSpec::VnetLocal => NextHop::VnetLocal,
                    NextHopSpec::VirtualNetworkGateway => NextHop::VirtualNetworkGateway,
                    NextHopSpec::None => NextHop::None,
                };
                routes.push(Route { name: r.name.clone(), prefix, next_hop });
            }
            t.add_route_table(RouteTable { name: table.name.clone(), routes })
                .map_err(|e| fault(&field, None, &table.name, e.to_string()))?;
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
                        Some(&s.name),
                        name,
                        format!(
                            "unknown route table '{name}'; valid: {}",
                            if names.is_empty() { "(none declared)".into() } else { names.join(", ") }
                        ),
                    )
                })?;
                let subnet = t.subnet_by_name(vnet, &s.name).expect("added by the caller");
                t.set_subnet_route_table(subnet, table)
                    .map_err(|e| fault(&field, Some(&s.name), name, e.to_string()))?;
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
                        Some(&b.name),
                        name,
                        format!("unknown public IP '{name}'; declare it in public_ips"),
                    )
                })?),
                None => None,
            };
            t.add_bastion(&b.name, vnet, public_ip)
                .map_err(|e| fault(&field, None, &b.name, e.to_string()))?;
        }
        Ok(())
    }

    fn firewall(&self, f: &FirewallSpec, t: &mut Topology, field: &str) -> Result<(), Fault> {
        let anchor = Some(f.name.as_str());
        let vnet = self.vnet(t, &f.vnet, &format!("{field}.vnet"))?;
        let private_ip: IpAddr = f.private_ip.parse().map_err(|_| {
            fault(
                format!("{field}.private_ip"),
                anchor,
                &f.private_ip,
                format!("'{}' is not an IP address", f.private_ip),
            )
        })?;
        let public_ip = match &f.public_ip {
            Some(name) => Some(t.public_ip_by_name(name).ok_or_else(|| {
                fault(
                    format!("{field}.public_ip"),
                    anchor,
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
                .map(|a| {
                    parse_prefix(a).map_err(|e| fault(format!("{field}.fqdns"), anchor, a, e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            fqdns.insert(name.clone(), AddrSet::from_nets(&nets));
        }
        // Classic rules and a Firewall Policy are two ways of managing a firewall, never both.
        let mode = match (f.mode, f.collections.is_empty(), f.rule_collection_groups.is_empty()) {
            (_, false, false) => {
                return Err(fault(
                    format!("{field}.rule_collection_groups"),
                    anchor,
                    &f.name,
                    "a firewall has classic rule collections (collections) or a Firewall Policy (rule_collection_groups), not both; valid: move the collections into a RuleCollectionGroup, or remove rule_collection_groups",
                ));
            }
            (Some(FirewallModeSpec::Classic), _, false) => {
                return Err(fault(
                    format!("{field}.rule_collection_groups"),
                    anchor,
                    &f.name,
                    "rule collection groups belong to a Firewall Policy, but the firewall has mode: Classic; valid: mode: Policy, or classic rules in collections",
                ));
            }
            (Some(FirewallModeSpec::Policy), false, _) => {
                return Err(fault(
                    format!("{field}.collections"),
                    anchor,
                    &f.name,
                    "classic rule collections need mode: Classic, but the firewall has mode: Policy; valid: put them in rule_collection_groups, or mode: Classic",
                ));
            }
            (Some(FirewallModeSpec::Policy), _, _) | (None, _, false) => FirewallMode::Policy,
            (Some(FirewallModeSpec::Classic), _, _) | (None, _, true) => FirewallMode::Classic,
        };
        let ctx = t.resolve_context(vnet);
        let mut groups = Vec::new();
        if !f.collections.is_empty() {
            let collections = self.collections(
                &f.collections,
                &ctx,
                &fqdns,
                public_address,
                &format!("{field}.collections"),
                anchor,
            )?;
            groups.push(RuleCollectionGroup { name: "classic".into(), priority: 100, collections });
        }
        for (gi, g) in f.rule_collection_groups.iter().enumerate() {
            let gf = format!("{field}.rule_collection_groups[{gi}]");
            check_priority(g.priority, &format!("{gf}.priority"), &g.name)?;
            let collections = self.collections(
                &g.collections,
                &ctx,
                &fqdns,
                public_address,
                &format!("{gf}.collections"),
                anchor,
            )?;
            groups.push(RuleCollectionGroup { name: g.name.clone(), priority: g.priority, collections });
        }
        let firewall = Firewall {
            name: f.name.clone(),
            subnet: SubnetId(0),
            private_ip,
            public_ip,
            mode,
            groups,
            legacy_dnat: false,
        };
        t.add_firewall(firewall, vnet).map_err(|e| fault(field, None, &f.name, e.to_string()))?;
        Ok(())
    }

    fn collections(
        &self,
        specs: &[CollectionSpec],
        ctx: &crate::nsg::ResolveContext,
        fqdns: &std::collections::BTreeMap<String, AddrSet>,
        public_address: Option<IpAddr>,
        field: &str,
        anchor: Option<&str>,
    ) -> Result<Vec<RuleCollection>, Fault> {
        let mut out = Vec::new();
        for (ci, c) in specs.iter().enumerate() {
            let cf = format!("{field}[{ci}]");
            let collection = match c {
                CollectionSpec::Dnat { name, priority, rules } => {
                    check_priority(*priority, &format!("{cf}.priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = format!("{cf}.rules[{ri}]");
                        let destination = match (&r.destination, public_address) {
                            (Some(d), _) => d.parse::<IpAddr>().map_err(|_| {
                                fault(
                                    format!("{rf}.destination"),
                                    Some(&r.name),
                                    d,
                                    format!("'{d}' is not an IP address"),
                                )
                            })?,
                            (None, Some(p)) => p,
                            (None, None) => {
                                return Err(fault(
                                    format!("{rf}.destination"),
                                    Some(&r.name),
                                    &r.name,
                                    "the firewall has no public IP; give the DNAT rule a destination",
                                ));
                            }
                        };
                        let translated_address = r.translated_address.parse::<IpAddr>().map_err(|_| {
                            fault(
                                format!("{rf}.translated_address"),
                                Some(&r.name),
                                &r.translated_address,
                                format!("'{}' is not an IP address", r.translated_address),
                            )
                        })?;
                        out_rules.push(DnatRule {
                            name: r.name.clone(),
                            protocols: protocols(&r.protocols),
                            sources: addresses(&r.sources, ctx, &format!("{rf}.sources"), Some(&r.name))?,
                            destination,
                            destination_port: r.destination_port,
                            translated_address,
                            translated_port: r.translated_port,
                        });
                    }
                    RuleCollection {
                        name: name.clone(),
                        priority: *priority,
                        rules: CollectionRules::Dnat(out_rules),
                    }
                }
                CollectionSpec::Network { name, priority, action, rules } => {
                    check_priority(*priority, &format!("{cf}.priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = format!("{cf}.rules[{ri}]");
                        out_rules.push(NetworkRule {
                            name: r.name.clone(),
                            protocols: protocols(&r.protocols),
                            sources: addresses(&r.sources, ctx, &format!("{rf}.sources"), Some(&r.name))?,
                            destinations: addresses(
                                &r.destinations,
                                ctx,
                                &format!("{rf}.destinations"),
                                Some(&r.name),
                            )?,
                            destination_ports: ports(
                                &r.destination_ports,
                                &format!("{rf}.destination_ports"),
                                Some(&r.name),
                            )?,
                        });
                    }
                    RuleCollection {
                        name: name.clone(),
                        priority: *priority,
                        rules: CollectionRules::Network(action_of(*action), out_rules),
                    }
                }
                CollectionSpec::Application { name, priority, action, rules } => {
                    check_priority(*priority, &format!("{cf}.priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = format!("{cf}.rules[{ri}]");
                        let mut destinations = AddrSet::empty();
                        for fqdn in &r.fqdns {
                            let set = fqdns.get(fqdn).ok_or_else(|| {
                                fault(
                                    format!("{rf}.fqdns"),
                                    Some(&r.name),
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
                            sources: addresses(&r.sources, ctx, &format!("{rf}.sources"), Some(&r.name))?,
                            fqdns: r.fqdns.clone(),
                            destinations,
                            ports,
                        });
                    }
                    RuleCollection {
                        name: name.clone(),
                        priority: *priority,
                        rules: CollectionRules::Application(action_of(*action), out_rules),
                    }
                }
            };
            let _ = anchor;
            out.push(collection);
        }
        Ok(out)
    }
}

fn check_priority(priority: u32, field: &str, name: &str) -> Result<(), Fault> {
    if (100..=65000).contains(&priority) {
        Ok(())
    } else {
        Err(fault(
            field,
            Some(name),
            priority.to_string(),
            format!("'{name}': priority {priority} is outside 100..=65000"),
        ))
    }
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
fn addresses(
    list: &[String],
    ctx: &crate::nsg::ResolveContext,
    field: &str,
    anchor: Option<&str>,
) -> Result<AddrSet, Fault> {
    if list.is_empty() || list.iter().any(|a| a.trim() == "*") {
        return Ok(AddrSet::any());
    }
    let mut set = AddrSet::empty();
    for a in list {
        let part = match parse_prefix(a) {
            Ok(net) => AddrSet::from_net(net),
            Err(e) => match ServiceTag::parse(a) {
                Some(tag) => ctx.tag(&tag),
                None => return Err(fault(field, anchor, a, e.to_string())),
            },
        };
        set = set.union(&part);
    }
    Ok(set)
}

fn ports(list: &[String], field: &str, anchor: Option<&str>) -> Result<PortSet, Fault> {
    let ranges = list
        .iter()
        .map(|p| p.trim().parse::<PortRange>().map_err(|e| fault(field, anchor, p, e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PortSet::from_ranges(ranges))
}

//! Converting the routing and appliance parts of a scenario: route tables, Azure Firewalls and
//! Azure Bastion hosts.

use std::net::IpAddr;

use super::FieldPath;
use super::load::{Fault, Loader, dependent, fault, in_range, not_an_ip};
use super::schema::{
    AppProtocolSpec, CollectionSpec, FirewallActionSpec, FirewallModeSpec, FirewallSpec, NextHopSpec,
    ProtocolSpec, ScenarioFile,
};
use crate::model::{
    ApplicationRule, CollectionRules, DnatRule, Firewall, FirewallAction, FirewallMode, NetworkRule, NextHop,
    Route, RouteTable, RuleCollection, RuleCollectionGroup, SnatPrivateRanges, SubnetId, Topology,
    TopologyError,
};
use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, ProtocolSet, parse_prefix};
use crate::nsg::ServiceTag;

impl Loader<'_> {
    /// A public IP is never also a NIC's private IP: Azure takes public IPs from its public
    /// ranges, and one address meaning two endpoints would make every answer about it wrong.
    /// (Private-use addresses are refused where the public IP is read; this catches a VNet
    /// that uses a public range.)
    pub(super) fn public_ips_not_private(&self, file: &ScenarioFile, t: &Topology) -> Result<(), Fault> {
        for (pi, p) in file.public_ips.iter().enumerate() {
            let Ok(address) = p.address.parse::<IpAddr>() else { continue };
            if let Some(nic) = t.nic_ids().map(|n| t.nic(n)).find(|nic| nic.private_ip == address) {
                return Err(fault(
                    FieldPath::root("public_ips").index(pi).field("address"),
                    &p.address,
                    format!(
                        "public IP '{}': {address} is the private IP of nic '{}'; valid: a public address that no NIC uses as its private IP",
                        p.name, nic.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Route tables (and their subnet associations), firewalls and Bastion hosts.
    /// Each is its own item: one that is wrong is reported and left out, and the others are
    /// still checked.
    pub(super) fn network(&self, file: &ScenarioFile, t: &mut Topology) {
        for (ti, table) in file.route_tables.iter().enumerate() {
            self.item(&[&table.name], || {
                self.route_table(table, t, &FieldPath::root("route_tables").index(ti))
            });
        }
        for (vi, v) in file.vnets.iter().enumerate() {
            let Some(vnet) = t.vnet_by_name(&v.name).filter(|_| !self.is_skipped(&v.name)) else { continue };
            for (si, s) in v.subnets.iter().enumerate() {
                let Some(name) = &s.route_table else { continue };
                let Some(subnet) = t.subnet_by_name(vnet, &s.name) else { continue };
                let field =
                    FieldPath::root("vnets").index(vi).field("subnets").index(si).field("route_table");
                self.item(&[], || -> Result<(), Fault> {
                    if self.is_skipped(name) {
                        return Err(dependent(&field));
                    }
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
                    t.set_subnet_route_table(subnet, table).map_err(|e| fault(&field, name, e.to_string()))
                });
            }
        }
        for (fi, f) in file.firewalls.iter().enumerate() {
            self.item(&[&f.name], || self.firewall(f, t, &FieldPath::root("firewalls").index(fi)));
        }
        for (bi, b) in file.bastions.iter().enumerate() {
            self.item(&[&b.name], || self.bastion(b, t, &FieldPath::root("bastions").index(bi)));
        }
    }

    fn route_table(
        &self,
        table: &super::schema::RouteTableSpec,
        t: &mut Topology,
        field: &FieldPath,
    ) -> Result<(), Fault> {
        let mut routes = Vec::new();
        for (ri, r) in table.routes.iter().enumerate() {
            let rf = field.field("routes").index(ri);
            let prefix =
                parse_prefix(&r.prefix).map_err(|e| fault(rf.field("prefix"), &r.prefix, e.to_string()))?;
            let next_hop = match &r.next_hop {
                NextHopSpec::VirtualAppliance(ip) => NextHop::VirtualAppliance(ip.parse::<IpAddr>().map_err(|_| {
                    fault(rf.field("next_hop"), ip, format!("'{ip}' is not an IP address; valid: the appliance's private IP, such as 10.0.0.4"))
                })?),
                NextHopSpec::Internet => NextHop::Internet,
                NextHopSpec::VnetLocal => NextHop::VnetLocal,
                NextHopSpec::VirtualNetworkGateway => NextHop::VirtualNetworkGateway,
                NextHopSpec::None => NextHop::None,
            };
            routes.push(Route { name: r.name.clone(), prefix, next_hop });
        }
        t.add_route_table(RouteTable { name: table.name.clone(), routes })
            .map_err(|e| fault(field.field("name"), &table.name, e.to_string()))?;
        Ok(())
    }

    fn bastion(
        &self,
        b: &super::schema::BastionSpec,
        t: &mut Topology,
        field: &FieldPath,
    ) -> Result<(), Fault> {
        let vnet = self.vnet(t, &b.vnet, &field.field("vnet"))?;
        let public_ip = self.public_ip_ref(t, b.public_ip.as_deref(), field)?;
        t.add_bastion(&b.name, vnet, public_ip).map_err(|e| match e {
            TopologyError::DuplicateName { .. } => fault(field.field("name"), &b.name, e.to_string()),
            TopologyError::PublicIpInUse { .. } => {
                fault(field.field("public_ip"), b.public_ip.as_deref().unwrap_or(""), e.to_string())
            }
            _ => fault(field.field("vnet"), &b.vnet, e.to_string()),
        })?;
        Ok(())
    }

    /// The public IP an appliance (`field`) names, if it names one.
    pub(super) fn public_ip_ref(
        &self,
        t: &Topology,
        name: Option<&str>,
        field: &FieldPath,
    ) -> Result<Option<crate::model::PublicIpId>, Fault> {
        let Some(name) = name else { return Ok(None) };
        if self.is_skipped(name) {
            return Err(dependent(field.field("public_ip")));
        }
        t.public_ip_by_name(name).map(Some).ok_or_else(|| {
            fault(
                field.field("public_ip"),
                name,
                format!("unknown public IP '{name}'; declare it in public_ips"),
            )
        })
    }

    fn firewall(&self, f: &FirewallSpec, t: &mut Topology, field: &FieldPath) -> Result<(), Fault> {
        let vnet = self.vnet(t, &f.vnet, &field.field("vnet"))?;
        let private_ip: IpAddr = f
            .private_ip
            .parse()
            .map_err(|_| fault(field.field("private_ip"), &f.private_ip, not_an_ip(&f.private_ip)))?;
        let public_ip = self.public_ip_ref(t, f.public_ip.as_deref(), field)?;
        let public_address = public_ip.map(|p| t.public_ip(p).address);
        let mut fqdns = std::collections::BTreeMap::new();
        for (name, addrs) in &f.fqdns {
            let nets = addrs
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    parse_prefix(a).map_err(|e| {
                        fault(field.field("fqdns").key(name.as_str()).index(i), a, e.to_string())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            fqdns.insert(name.clone(), AddrSet::from_nets(&nets));
        }
        // Classic rules and a Firewall Policy are two ways of managing a firewall, never both.
        let mode = match (f.mode, f.collections.is_empty(), f.rule_collection_groups.is_empty()) {
            (_, false, false) => {
                return Err(fault(
                    field.field("rule_collection_groups"),
                    "",
                    "a firewall has classic rule collections (collections) or a Firewall Policy (rule_collection_groups), not both; valid: move the collections into a RuleCollectionGroup, or remove rule_collection_groups",
                ));
            }
            (Some(FirewallModeSpec::Classic), _, false) => {
                return Err(fault(
                    field.field("rule_collection_groups"),
                    "",
                    "rule collection groups belong to a Firewall Policy, but the firewall has mode: Classic; valid: mode: Policy, or classic rules in collections",
                ));
            }
            (Some(FirewallModeSpec::Policy), false, _) => {
                return Err(fault(
                    field.field("collections"),
                    "",
                    "classic rule collections need mode: Classic, but the firewall has mode: Policy; valid: put them in rule_collection_groups, or mode: Classic",
                ));
            }
            (Some(FirewallModeSpec::Policy), _, _) | (None, _, false) => FirewallMode::Policy,
            (Some(FirewallModeSpec::Classic), _, _) | (None, _, true) => FirewallMode::Classic,
        };
        let ctx = t.resolve_context(vnet);
        let mut groups = Vec::new();
        if !f.collections.is_empty() {
            let collections =
                self.collections(&f.collections, &ctx, &fqdns, public_address, &field.field("collections"))?;
            groups.push(RuleCollectionGroup { name: "classic".into(), priority: 100, collections });
        }
        for (gi, g) in f.rule_collection_groups.iter().enumerate() {
            let gf = field.field("rule_collection_groups").index(gi);
            let priority = check_priority(g.priority, &gf.field("priority"), &g.name)?;
            let collections =
                self.collections(&g.collections, &ctx, &fqdns, public_address, &gf.field("collections"))?;
            groups.push(RuleCollectionGroup { name: g.name.clone(), priority, collections });
        }
        let mut private_ranges = SnatPrivateRanges::new(&f.private_ranges).map_err(|(i, reason)| {
            fault(
                field.field("private_ranges").index(i),
                f.private_ranges.get(i).map_or("", String::as_str),
                reason,
            )
        })?;
        private_ranges.auto_learn = f.auto_learn_private_ranges;
        let firewall = Firewall {
            name: f.name.clone(),
            subnet: SubnetId(0),
            private_ip,
            public_ip,
            mode,
            groups,
            legacy_dnat: false,
            private_ranges,
        };
        t.add_firewall(firewall, vnet).map_err(|e| match e {
            TopologyError::DuplicateName { .. } => fault(field.field("name"), &f.name, e.to_string()),
            TopologyError::IpOutsideSubnet { .. } => {
                fault(field.field("private_ip"), &f.private_ip, e.to_string())
            }
            TopologyError::PublicIpInUse { .. } => {
                fault(field.field("public_ip"), f.public_ip.as_deref().unwrap_or(""), e.to_string())
            }
            _ => fault(field.field("vnet"), &f.vnet, e.to_string()),
        })?;
        Ok(())
    }

    fn collections(
        &self,
        specs: &[CollectionSpec],
        ctx: &crate::nsg::ResolveContext,
        fqdns: &std::collections::BTreeMap<String, AddrSet>,
        public_address: Option<IpAddr>,
        field: &FieldPath,
    ) -> Result<Vec<RuleCollection>, Fault> {
        let mut out = Vec::new();
        for (ci, c) in specs.iter().enumerate() {
            let cf = field.index(ci);
            let collection = match c {
                CollectionSpec::Dnat { name, priority, rules } => {
                    let priority = check_priority(*priority, &cf.field("priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = cf.field("rules").index(ri);
                        let destination = match (&r.destination, public_address) {
                            (Some(d), _) => d
                                .parse::<IpAddr>()
                                .map_err(|_| fault(rf.field("destination"), d, not_an_ip(d)))?,
                            (None, Some(p)) => p,
                            (None, None) => {
                                return Err(fault(
                                    rf.field("destination"),
                                    &r.name,
                                    "the firewall has no public IP; give the DNAT rule a destination",
                                ));
                            }
                        };
                        let translated_address = r.translated_address.parse::<IpAddr>().map_err(|_| {
                            fault(
                                rf.field("translated_address"),
                                &r.translated_address,
                                not_an_ip(&r.translated_address),
                            )
                        })?;
                        out_rules.push(DnatRule {
                            name: r.name.clone(),
                            protocols: protocols(&r.protocols),
                            sources: addresses(&r.sources, ctx, &rf.field("sources"))?,
                            destination,
                            destination_port: port(r.destination_port, &rf.field("destination_port"))?,
                            translated_address,
                            translated_port: port(r.translated_port, &rf.field("translated_port"))?,
                            written_by_jit: false,
                        });
                    }
                    RuleCollection { name: name.clone(), priority, rules: CollectionRules::Dnat(out_rules) }
                }
                CollectionSpec::Network { name, priority, action, rules } => {
                    let priority = check_priority(*priority, &cf.field("priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = cf.field("rules").index(ri);
                        out_rules.push(NetworkRule {
                            name: r.name.clone(),
                            protocols: protocols(&r.protocols),
                            sources: addresses(&r.sources, ctx, &rf.field("sources"))?,
                            destinations: addresses(&r.destinations, ctx, &rf.field("destinations"))?,
                            destination_ports: ports(&r.destination_ports, &rf.field("destination_ports"))?,
                        });
                    }
                    RuleCollection {
                        name: name.clone(),
                        priority,
                        rules: CollectionRules::Network(action_of(*action), out_rules),
                    }
                }
                CollectionSpec::Application { name, priority, action, rules } => {
                    let priority = check_priority(*priority, &cf.field("priority"), name)?;
                    let mut out_rules = Vec::new();
                    for (ri, r) in rules.iter().enumerate() {
                        let rf = cf.field("rules").index(ri);
                        let mut destinations = AddrSet::empty();
                        for (i, fqdn) in r.fqdns.iter().enumerate() {
                            let set = fqdns.get(fqdn).ok_or_else(|| {
                                fault(
                                    rf.field("fqdns").index(i),
                                    fqdn,
                                    format!(
                                        "FQDN '{fqdn}' has no addresses; valid: an FQDN that the firewall's fqdns map lists"
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
                            sources: addresses(&r.sources, ctx, &rf.field("sources"))?,
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

fn check_priority(priority: i64, field: &FieldPath, name: &str) -> Result<u32, Fault> {
    in_range(priority, 100u32, 65000).ok_or_else(|| {
        fault(field, priority.to_string(), format!("'{name}': priority {priority} is outside 100..=65000"))
    })
}

fn port(number: i64, field: &FieldPath) -> Result<u16, Fault> {
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
fn addresses(list: &[String], ctx: &crate::nsg::ResolveContext, field: &FieldPath) -> Result<AddrSet, Fault> {
    if list.is_empty() || list.iter().any(|a| a.trim() == "*") {
        return Ok(AddrSet::any());
    }
    let mut set = AddrSet::empty();
    for (i, a) in list.iter().enumerate() {
        let part = match parse_prefix(a) {
            Ok(net) => AddrSet::from_net(net),
            // Tag names in any case, as Azure accepts them.
            Err(e) => match ServiceTag::parse(a).map(|tag| match tag {
                ServiceTag::Other(name) => ServiceTag::Other(
                    ctx.tags.keys().find(|k| k.eq_ignore_ascii_case(&name)).cloned().unwrap_or(name),
                ),
                builtin => builtin,
            }) {
                // An unknown tag would resolve to no address at all, silently.
                Some(ServiceTag::Other(name)) if !ctx.tags.contains_key(&name) => {
                    // Microsoft's file has thousands of tags: name the nearest then.
                    let known: Vec<&str> = if ctx.tags.len() <= 20 {
                        ctx.tags.keys().map(String::as_str).collect()
                    } else {
                        crate::model::nearest_names(&name, ctx.tags.keys().map(String::as_str), 5)
                    };
                    return Err(fault(
                        field.index(i),
                        a,
                        format!(
                            "'{a}' is neither an address nor a known service tag ({e}); valid: '*', an IP, a CIDR prefix, VirtualNetwork, Internet, AzureLoadBalancer, {}, or a tag defined in service_tags",
                            known.join(", ")
                        ),
                    ));
                }
                Some(tag) => ctx.tag(&tag),
                None => return Err(fault(field.index(i), a, e.to_string())),
            },
        };
        set = set.union(&part);
    }
    Ok(set)
}

fn ports(list: &[String], field: &FieldPath) -> Result<PortSet, Fault> {
    let ranges = list
        .iter()
        .enumerate()
        .map(|(i, p)| p.trim().parse::<PortRange>().map_err(|e| fault(field.index(i), p, e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PortSet::from_ranges(ranges))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, Case};
    use super::super::{LoadError, Scenario};
    use crate::model::{CollectionRules, FirewallAction, FirewallMode, NextHop};

    const BASE: &str = r#"Scenario(
    name: "net",
    start: "2025-01-06T09:00:00Z",
    vnets: [
        Vnet(name: "hub", address_space: ["10.0.0.0/16"], subnets: [
            Subnet(name: "AzureFirewallSubnet", prefix: "10.0.1.0/26"),
            Subnet(name: "AzureBastionSubnet", prefix: "10.0.2.0/26"),
        ]),
        Vnet(name: "spoke", address_space: ["10.1.0.0/16"], subnets: [
            Subnet(name: "work", prefix: "10.1.1.0/24", route_table: "via-fw"),
        ]),
    ],
    peerings: [("hub", "spoke")],
    route_tables: [
        RouteTable(name: "via-fw", routes: [
            Route(name: "default", prefix: "0.0.0.0/0", next_hop: VirtualAppliance("10.0.1.4")),
            Route(name: "drop", prefix: "10.9.0.0/16", next_hop: None),
        ]),
    ],
    public_ips: [PublicIp(name: "fw-pip", address: "20.30.0.10"), PublicIp(name: "bastion-pip", address: "20.30.0.20")],
    firewalls: [
        Firewall(name: "fw", vnet: "hub", private_ip: "10.0.1.4", public_ip: "fw-pip",
            fqdns: {"www.example.com": ["93.184.216.34"]},
            collections: [
                Dnat(name: "in", priority: 100, rules: [
                    DnatRule(name: "ssh", protocols: [Tcp], sources: ["203.0.113.0/24"],
                             destination_port: 50022, translated_address: "10.1.1.4", translated_port: 22),
                ]),
                Network(name: "net", priority: 200, action: Deny, rules: [
                    NetworkRule(name: "web", protocols: [Tcp, Udp], sources: ["10.1.0.0/16"],
                                destinations: ["*"], destination_ports: ["443", "8000-8080"]),
                ]),
                Application(name: "app", priority: 300, action: Allow, rules: [
                    ApplicationRule(name: "site", sources: ["10.1.0.0/16"], protocols: [Https, Http], fqdns: ["www.example.com"]),
                ]),
            ]),
    ],
    bastions: [Bastion(name: "bastion", vnet: "hub", public_ip: "bastion-pip")],
    vms: [Vm(name: "vm", os: Linux, nics: [Nic(name: "vm-nic", subnet: "spoke/work", private_ip: "10.1.1.4")])],
)
"#;

    const FILE: &str = "n.ron";

    fn load(text: &str) -> Result<Scenario, LoadError> {
        testing::load(text, FILE)
    }

    #[test]
    fn loads_route_tables_firewalls_and_bastions() {
        let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let table = t.route_table(t.route_table_by_name("via-fw").expect("table"));
        assert_eq!(table.routes.len(), 2);
        assert_eq!(table.routes[0].next_hop, NextHop::VirtualAppliance("10.0.1.4".parse().expect("ip")));
        assert_eq!(table.routes[1].next_hop, NextHop::None);
        let spoke = t.vnet_by_name("spoke").expect("spoke");
        let work = t.subnet_by_name(spoke, "work").expect("work");
        assert_eq!(t.subnet(work).route_table, t.route_table_by_name("via-fw"));

        let fw = t.firewall(t.firewall_by_name("fw").expect("fw"));
        assert_eq!(
            (fw.mode, fw.legacy_dnat, fw.public_ip),
            (FirewallMode::Classic, false, t.public_ip_by_name("fw-pip"))
        );
        let collections = &fw.groups[0].collections;
        let priorities: Vec<u32> = collections.iter().map(|c| c.priority).collect();
        assert_eq!(priorities, [100, 200, 300]);
        let CollectionRules::Dnat(dnat) = &collections[0].rules else { panic!("a DNAT collection") };
        assert_eq!((dnat[0].destination_port, dnat[0].translated_port), (50022, 22));
        assert_eq!(
            dnat[0].destination,
            "20.30.0.10".parse::<std::net::IpAddr>().expect("ip"),
            "the firewall's public IP by default"
        );
        let CollectionRules::Network(action, net) = &collections[1].rules else {
            panic!("a network collection")
        };
        assert_eq!(*action, FirewallAction::Deny);
        assert!(net[0].destination_ports.contains(8080) && !net[0].destination_ports.contains(8081));
        let CollectionRules::Application(_, app) = &collections[2].rules else {
            panic!("an application collection")
        };
        assert!(app[0].ports.contains(443) && app[0].ports.contains(80) && !app[0].ports.contains(1433));
        assert!(app[0].destinations.contains("93.184.216.34".parse().expect("ip")));

        let bastion = t.bastion(t.bastion_by_name("bastion").expect("bastion"));
        assert_eq!(bastion.public_ip, t.public_ip_by_name("bastion-pip"));
    }

    #[test]
    fn each_error_names_its_field_and_position() {
        let cases: &[Case] = &[
            (
                r#"prefix: "0.0.0.0/0""#,
                r#"prefix: "0.0.0.0/99""#,
                "route_tables[0].routes[0].prefix",
                (r#""0.0.0.0/99""#, 0),
                "IPv4 length",
            ),
            (
                r#"VirtualAppliance("10.0.1.4")"#,
                r#"VirtualAppliance("fw")"#,
                "route_tables[0].routes[0].next_hop",
                (r#""fw""#, 0),
                "valid: the appliance's private IP",
            ),
            (
                r#"route_table: "via-fw""#,
                r#"route_table: "via""#,
                "vnets[1].subnets[0].route_table",
                (r#""via""#, 0),
                "unknown route table 'via'; valid: via-fw",
            ),
            (
                r#"Dnat(name: "in", priority: 100"#,
                r#"Dnat(name: "in", priority: 70000"#,
                "firewalls[0].collections[0].priority",
                ("70000", 0),
                "'in': priority 70000 is outside 100..=65000",
            ),
            (
                r#"destination_port: 50022"#,
                r#"destination_port: -1"#,
                "firewalls[0].collections[0].rules[0].destination_port",
                ("-1", 0),
                "port -1 is outside 0..=65535",
            ),
            (
                r#"translated_port: 22"#,
                r#"translated_port: 65536"#,
                "firewalls[0].collections[0].rules[0].translated_port",
                ("65536", 0),
                "port 65536 is outside 0..=65535",
            ),
            (
                r#"translated_address: "10.1.1.4""#,
                r#"translated_address: "vm""#,
                "firewalls[0].collections[0].rules[0].translated_address",
                (r#""vm""#, 0),
                "is not an IP address",
            ),
            (
                r#"destination_ports: ["443", "8000-8080"]"#,
                r#"destination_ports: ["443", "8080-8000"]"#,
                "firewalls[0].collections[1].rules[0].destination_ports[1]",
                (r#""8080-8000""#, 0),
                "the start is above the end",
            ),
            // A name that is not a known tag used to resolve to no address at all, silently.
            (
                r#"sources: ["203.0.113.0/24"]"#,
                r#"sources: ["somewhere"]"#,
                "firewalls[0].collections[0].rules[0].sources[0]",
                (r#""somewhere""#, 0),
                "is neither an address nor a known service tag",
            ),
            (
                r#"fqdns: ["www.example.com"]"#,
                r#"fqdns: ["www.example.org"]"#,
                "firewalls[0].collections[2].rules[0].fqdns[0]",
                (r#""www.example.org""#, 0),
                "has no addresses",
            ),
            (
                r#""www.example.com": ["93.184.216.34"]"#,
                r#""www.example.com": ["93.184.216.340"]"#,
                r#"firewalls[0].fqdns["www.example.com"][0]"#,
                (r#""93.184.216.340""#, 0),
                "is not an IP address",
            ),
            (
                r#"Firewall(name: "fw", vnet: "hub", private_ip: "10.0.1.4""#,
                r#"Firewall(name: "fw", vnet: "hub", private_ip: "10.0.3.4""#,
                "firewalls[0].private_ip",
                (r#""10.0.3.4""#, 0),
                "outside subnet",
            ),
            (
                r#"Firewall(name: "fw", vnet: "hub""#,
                r#"Firewall(name: "fw", vnet: "spoke""#,
                "firewalls[0].vnet",
                (r#""spoke""#, 2),
                "AzureFirewallSubnet",
            ),
            (
                r#"Bastion(name: "bastion", vnet: "hub""#,
                r#"Bastion(name: "bastion", vnet: "spoke""#,
                "bastions[0].vnet",
                (r#""spoke""#, 2),
                "AzureBastionSubnet",
            ),
            (
                r#"public_ip: "bastion-pip""#,
                r#"public_ip: "none-pip""#,
                "bastions[0].public_ip",
                (r#""none-pip""#, 0),
                "unknown public IP 'none-pip'",
            ),
            // Azure associates a public IP with one resource only (audit: a Bastion, a firewall
            // and a NIC could share one).
            (
                r#"public_ip: "bastion-pip""#,
                r#"public_ip: "fw-pip""#,
                "bastions[0].public_ip",
                (r#""fw-pip""#, 2),
                "public IP 'fw-pip' is already associated with firewall 'fw'; Azure associates a public IP with one resource only, so give bastion 'bastion' a public IP of its own",
            ),
            (
                r#"private_ip: "10.1.1.4")"#,
                r#"private_ip: "10.1.1.4", public_ip: "bastion-pip")"#,
                "vms[0].nics[0].public_ip",
                (r#""bastion-pip""#, 2),
                "public IP 'bastion-pip' is already associated with bastion 'bastion'",
            ),
        ];
        testing::assert_cases(BASE, FILE, cases);
    }
}

//! Writing route tables, Azure Firewalls, public IP prefixes and NAT gateways, in the layout of `scenarios/20-*.ron` and
//! `23-*.ron`: one route or rule per line, collections and groups as blocks.

use std::fmt::Write;

use super::{list, s};
use crate::scenario::schema::{
    AdminActionSpec, AdminConfigurationSpec, AppProtocolSpec, CollectionSpec, DirectionSpec,
    FirewallActionSpec, FirewallModeSpec, FirewallSpec, NatGatewaySpec, NatSkuSpec, NetworkGroupSpec,
    NextHopSpec, ProtocolSpec, PublicIpPrefixSpec, RouteTableSpec,
};

/// The `route_tables` field; nothing when there are none.
pub(super) fn route_tables(o: &mut String, tables: &[RouteTableSpec]) {
    if tables.is_empty() {
        return;
    }
    o.push_str("    route_tables: [\n");
    for t in tables {
        let _ = writeln!(o, "        RouteTable(name: {}, routes: [", s(&t.name));
        for r in &t.routes {
            let hop = match &r.next_hop {
                NextHopSpec::VirtualAppliance(ip) => format!("VirtualAppliance({})", s(ip)),
                NextHopSpec::Internet => "Internet".into(),
                NextHopSpec::VnetLocal => "VnetLocal".into(),
                NextHopSpec::VirtualNetworkGateway => "VirtualNetworkGateway".into(),
                NextHopSpec::None => "None".into(),
            };
            let _ = writeln!(
                o,
                "            Route(name: {}, prefix: {}, next_hop: {hop}),",
                s(&r.name),
                s(&r.prefix)
            );
        }
        o.push_str("        ]),\n");
    }
    o.push_str("    ],\n");
}

/// The `firewalls` field; nothing when there are none.
pub(super) fn firewalls(o: &mut String, firewalls: &[FirewallSpec]) {
    if firewalls.is_empty() {
        return;
    }
    o.push_str("    firewalls: [\n");
    for f in firewalls {
        let _ = write!(
            o,
            "        Firewall(name: {}, vnet: {}, private_ip: {}",
            s(&f.name),
            s(&f.vnet),
            s(&f.private_ip)
        );
        if let Some(p) = &f.public_ip {
            let _ = write!(o, ", public_ip: {}", s(p));
        }
        match f.mode {
            Some(FirewallModeSpec::Classic) => o.push_str(", mode: Classic"),
            Some(FirewallModeSpec::Policy) => o.push_str(", mode: Policy"),
            None => {}
        }
        o.push_str(",\n");
        if !f.private_ranges.is_empty() {
            let _ = writeln!(o, "            private_ranges: {},", list(&f.private_ranges));
        }
        if f.auto_learn_private_ranges {
            o.push_str("            auto_learn_private_ranges: true,\n");
        }
        if !f.fqdns.is_empty() {
            o.push_str("            // FQDN -> addresses for application rules: the firewall resolves them through DNS at\n");
            o.push_str("            // run time, so fill in the empty ones (until then their rules match nothing).\n");
            o.push_str("            fqdns: {\n");
            for (name, addresses) in &f.fqdns {
                let _ = writeln!(o, "                {}: {},", s(name), list(addresses));
            }
            o.push_str("            },\n");
        }
        if !f.collections.is_empty() {
            o.push_str("            collections: [\n");
            collections(o, &f.collections, "                ");
            o.push_str("            ],\n");
        }
        if !f.rule_collection_groups.is_empty() {
            o.push_str("            rule_collection_groups: [\n");
            for g in &f.rule_collection_groups {
                let _ = writeln!(
                    o,
                    "                RuleCollectionGroup(name: {}, priority: {}, collections: [",
                    s(&g.name),
                    g.priority
                );
                collections(o, &g.collections, "                    ");
                o.push_str("                ]),\n");
            }
            o.push_str("            ],\n");
        }
        o.push_str("        ),\n");
    }
    o.push_str("    ],\n");
}

fn collections(o: &mut String, list_of: &[CollectionSpec], indent: &str) {
    for c in list_of {
        match c {
            CollectionSpec::Dnat { name, priority, rules } => {
                let _ = writeln!(o, "{indent}Dnat(name: {}, priority: {priority}, rules: [", s(name));
                for r in rules {
                    let mut line = format!(
                        "DnatRule(name: {}, protocols: {}, sources: {}",
                        s(&r.name),
                        protocols(&r.protocols),
                        list(&r.sources)
                    );
                    if let Some(d) = &r.destination {
                        let _ = write!(line, ", destination: {}", s(d));
                    }
                    let _ = write!(
                        line,
                        ", destination_port: {}, translated_address: {}, translated_port: {})",
                        r.destination_port,
                        s(&r.translated_address),
                        r.translated_port
                    );
                    let _ = writeln!(o, "{indent}    {line},");
                }
            }
            CollectionSpec::Network { name, priority, action, rules } => {
                let _ = writeln!(
                    o,
                    "{indent}Network(name: {}, priority: {priority}, action: {}, rules: [",
                    s(name),
                    action_name(*action)
                );
                for r in rules {
                    let _ = writeln!(
                        o,
                        "{indent}    NetworkRule(name: {}, protocols: {}, sources: {}, destinations: {}, destination_ports: {}),",
                        s(&r.name),
                        protocols(&r.protocols),
                        list(&r.sources),
                        list(&r.destinations),
                        list(&r.destination_ports)
                    );
                }
            }
            CollectionSpec::Application { name, priority, action, rules } => {
                let _ = writeln!(
                    o,
                    "{indent}Application(name: {}, priority: {priority}, action: {}, rules: [",
                    s(name),
                    action_name(*action)
                );
                for r in rules {
                    let kinds: Vec<&str> = r
                        .protocols
                        .iter()
                        .map(|p| match p {
                            AppProtocolSpec::Http => "Http",
                            AppProtocolSpec::Https => "Https",
                            AppProtocolSpec::Mssql => "Mssql",
                        })
                        .collect();
                    let _ = writeln!(
                        o,
                        "{indent}    ApplicationRule(name: {}, sources: {}, protocols: [{}], fqdns: {}),",
                        s(&r.name),
                        list(&r.sources),
                        kinds.join(", "),
                        list(&r.fqdns)
                    );
                }
            }
        }
        let _ = writeln!(o, "{indent}]),");
    }
}

fn action_name(a: FirewallActionSpec) -> &'static str {
    match a {
        FirewallActionSpec::Allow => "Allow",
        FirewallActionSpec::Deny => "Deny",
    }
}

fn protocols(list_of: &[ProtocolSpec]) -> String {
    let names: Vec<&str> = list_of.iter().map(|p| crate::scenario::write::protocol(*p)).collect();
    format!("[{}]", names.join(", "))
}

/// The `network_groups` and `security_admin_configurations` fields (Virtual Network Manager);
/// nothing when there are none.
pub(super) fn avnm(o: &mut String, groups: &[NetworkGroupSpec], configs: &[AdminConfigurationSpec]) {
    if !groups.is_empty() {
        o.push_str("    network_groups: [\n");
        for g in groups {
            let _ = writeln!(o, "        NetworkGroup(name: {}, vnets: {}),", s(&g.name), list(&g.vnets));
        }
        o.push_str("    ],\n");
    }
    if configs.is_empty() {
        return;
    }
    o.push_str("    security_admin_configurations: [\n");
    for c in configs {
        let _ = write!(o, "        SecurityAdminConfiguration(name: {}", s(&c.name));
        if let Some(m) = &c.network_manager {
            let _ = write!(o, ", network_manager: {}", s(m));
        }
        if let Some(d) = c.deployed {
            let _ = write!(o, ", deployed: {d}");
        }
        o.push_str(", rule_collections: [\n");
        for k in &c.rule_collections {
            let _ = writeln!(
                o,
                "            AdminRuleCollection(name: {}, applies_to: {}, rules: [",
                s(&k.name),
                list(&k.applies_to)
            );
            for r in &k.rules {
                let direction = match r.direction {
                    DirectionSpec::Inbound => "Inbound",
                    DirectionSpec::Outbound => "Outbound",
                };
                let action = match r.action {
                    AdminActionSpec::Allow => "Allow",
                    AdminActionSpec::AlwaysAllow => "AlwaysAllow",
                    AdminActionSpec::Deny => "Deny",
                };
                let _ = write!(
                    o,
                    "                AdminRule(name: {}, priority: {}, direction: {direction}, action: {action}, protocol: {}",
                    s(&r.name),
                    r.priority,
                    crate::scenario::write::protocol(r.protocol)
                );
                if !r.sources.is_empty() {
                    let _ = write!(o, ", sources: {}", list(&r.sources));
                }
                if let Some(p) = &r.source_ports {
                    let _ = write!(o, ", source_ports: {}", s(p));
                }
                if !r.destinations.is_empty() {
                    let _ = write!(o, ", destinations: {}", list(&r.destinations));
                }
                if let Some(p) = &r.destination_ports {
                    let _ = write!(o, ", destination_ports: {}", s(p));
                }
                if !r.description.is_empty() {
                    let _ = write!(o, ", description: {}", s(&r.description));
                }
                o.push_str("),\n");
            }
            o.push_str("            ]),\n");
        }
        o.push_str("        ]),\n");
    }
    o.push_str("    ],\n");
}

/// The `public_ip_prefixes` and `nat_gateways` fields; nothing when there are none.
pub(super) fn nat_gateways(o: &mut String, prefixes: &[PublicIpPrefixSpec], gateways: &[NatGatewaySpec]) {
    if !prefixes.is_empty() {
        o.push_str("    public_ip_prefixes: [\n");
        for q in prefixes {
            let _ = writeln!(o, "        PublicIpPrefix(name: {}, prefix: {}),", s(&q.name), s(&q.prefix));
        }
        o.push_str("    ],\n");
    }
    if gateways.is_empty() {
        return;
    }
    o.push_str("    nat_gateways: [\n");
    for g in gateways {
        let _ = write!(o, "        NatGateway(name: {}", s(&g.name));
        if !g.public_ips.is_empty() {
            let _ = write!(o, ", public_ips: {}", list(&g.public_ips));
        }
        if !g.public_ip_prefixes.is_empty() {
            let _ = write!(o, ", public_ip_prefixes: {}", list(&g.public_ip_prefixes));
        }
        if let Some(m) = g.idle_timeout_minutes {
            let _ = write!(o, ", idle_timeout_minutes: {m}");
        }
        match g.sku {
            Some(NatSkuSpec::Standard) => o.push_str(", sku: Standard"),
            Some(NatSkuSpec::StandardV2) => o.push_str(", sku: StandardV2"),
            None => {}
        }
        o.push_str("),\n");
    }
    o.push_str("    ],\n");
}

//! Writing a [`ScenarioFile`] as RON in the layout of the hand-written scenarios: one resource
//! per block, one rule per line, optional fields only when set.
//!
//! A printer of our own rather than `ron::ser`: the schema types stay `Deserialize`-only (the
//! loader's contract), and the output reads like the files in `scenarios/`, which is what people
//! edit after an import. The import tests load every output back with `scenario::load_str`.

mod load_balancer;
mod network;

use std::fmt::Write;

use crate::scenario::schema::{
    CaveatKindSpec, CaveatSpec, NicSpec, OsSpec, ScenarioFile, ScopeSpec, SkuSpec,
};
// The RON writers of single values are the scenario format's own, shared with `serve`.
pub(super) use crate::scenario::write::rule_line;
use crate::scenario::write::{jit_port as port, list, string as s};

fn nic(n: &NicSpec) -> String {
    let mut out =
        format!("Nic(name: {}, subnet: {}, private_ip: {}", s(&n.name), s(&n.subnet), s(&n.private_ip));
    if let Some(v) = &n.nsg {
        let _ = write!(out, ", nsg: {}", s(v));
    }
    if !n.asgs.is_empty() {
        let _ = write!(out, ", asgs: {}", list(&n.asgs));
    }
    if let Some(v) = &n.public_ip {
        let _ = write!(out, ", public_ip: {}", s(v));
    }
    if !n.ip_configs.is_empty() {
        let configs: Vec<String> = n
            .ip_configs
            .iter()
            .map(|c| {
                let mut one = format!("IpConfig(name: {}, private_ip: {}", s(&c.name), s(&c.private_ip));
                if !c.asgs.is_empty() {
                    let _ = write!(one, ", asgs: {}", list(&c.asgs));
                }
                if let Some(v) = &c.public_ip {
                    let _ = write!(one, ", public_ip: {}", s(v));
                }
                one.push(')');
                one
            })
            .collect();
        let _ = write!(out, ", ip_configs: [{}]", configs.join(", "));
    }
    out.push(')');
    out
}

/// The `caveats` field, written near the top of the file where people read first; nothing when
/// there are none.
fn caveats(o: &mut String, caveats: &[CaveatSpec]) {
    if caveats.is_empty() {
        return;
    }
    o.push_str(
        "    // What nsgsim could not read or model and can change traffic: every answer that depends\n",
    );
    o.push_str("    // on one names it (affects: the VMs, subnets or VNets whose traffic it can change; [] = all).\n");
    o.push_str("    caveats: [\n");
    for c in caveats {
        let kind = match c.kind {
            CaveatKindSpec::UnmodelledResource => "UnmodelledResource",
            CaveatKindSpec::UnresolvedLink => "UnresolvedLink",
            CaveatKindSpec::UnresolvedReference => "UnresolvedReference",
            CaveatKindSpec::Placeholder => "Placeholder",
            CaveatKindSpec::Other => "Other",
        };
        o.push_str("        Caveat(\n");
        let _ = writeln!(o, "            kind: {kind},");
        let _ = writeln!(o, "            resource: {},", s(&c.resource));
        let _ = writeln!(o, "            source: {},", s(&c.source));
        let _ = writeln!(o, "            reason: {},", s(&c.reason));
        if !c.affects.is_empty() {
            let _ = writeln!(o, "            affects: {},", list(&c.affects));
        }
        o.push_str("        ),\n");
    }
    o.push_str("    ],\n");
}

/// The scenario as RON text. Covers what import produces: VNets, peerings, ASGs, NSGs, public
/// IPs, VMs, route tables, Azure Firewalls, Bastion hosts and JIT policies with their open
/// grants (users, roles, options and the timeline are never filled by import).
pub fn to_ron(f: &ScenarioFile) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "// {}", f.description.replace('\n', " "));
    o.push_str("// Check it with `nsgsim check`; lint it with `nsgsim lint`.\n");
    o.push_str("Scenario(\n");
    let _ = writeln!(o, "    name: {},", s(&f.name));
    let _ = writeln!(o, "    description: {},", s(&f.description));
    let _ = writeln!(o, "    start: {},", s(&f.start));
    caveats(&mut o, &f.caveats);
    if let Some(file) = &f.service_tags_file {
        o.push_str(
            "    // Microsoft's service tags the import was checked against (relative to this file).\n",
        );
        let _ = writeln!(o, "    service_tags_file: {},", s(file));
    }
    if !f.service_tags.is_empty() {
        o.push_str("    service_tags: {\n");
        for (tag, members) in &f.service_tags {
            if members.is_empty() {
                o.push_str(
                    "        // Placeholder: fill in this tag's prefixes (`az network list-service-tags`);\n",
                );
                o.push_str("        // until then, rules that name it match nothing.\n");
            }
            let _ = writeln!(o, "        {}: {},", s(tag), list(members));
        }
        o.push_str("    },\n");
    }
    if !f.vnets.is_empty() {
        o.push_str("    vnets: [\n");
        for v in &f.vnets {
            o.push_str("        Vnet(\n");
            let _ = writeln!(o, "            name: {},", s(&v.name));
            let _ = writeln!(o, "            address_space: {},", list(&v.address_space));
            if !v.subnets.is_empty() {
                o.push_str("            subnets: [\n");
                for sub in &v.subnets {
                    let _ = write!(
                        o,
                        "                Subnet(name: {}, prefix: {}",
                        s(&sub.name),
                        s(&sub.prefix)
                    );
                    if let Some(n) = &sub.nsg {
                        let _ = write!(o, ", nsg: {}", s(n));
                    }
                    if let Some(r) = &sub.route_table {
                        let _ = write!(o, ", route_table: {}", s(r));
                    }
                    if let Some(enabled) = sub.default_outbound_access {
                        let _ = write!(o, ", default_outbound_access: {enabled}");
                    }
                    if let Some(g) = &sub.nat_gateway {
                        let _ = write!(o, ", nat_gateway: {}", s(g));
                    }
                    o.push_str("),\n");
                }
                o.push_str("            ],\n");
            }
            if !v.on_premises.is_empty() {
                let _ = writeln!(o, "            on_premises: {},", list(&v.on_premises));
            }
            o.push_str("        ),\n");
        }
        o.push_str("    ],\n");
    }
    if !f.peerings.is_empty() {
        let pairs: Vec<String> = f
            .peerings
            .iter()
            .map(|p| {
                let (a, b) = p.vnets();
                let mut access = match p.virtual_network_access() {
                    (true, true) => String::new(),
                    (x, y) => format!(", allow_virtual_network_access: ({x}, {y})"),
                };
                if let Some((x, y)) = p.subnets() {
                    let list = |names: &[String]| names.iter().map(|n| s(n)).collect::<Vec<_>>().join(", ");
                    access.push_str(&format!(", subnets: ([{}], [{}])", list(x), list(y)));
                }
                match p.gateway_flags() {
                    (false, false) if access.is_empty() => format!("({}, {})", s(a), s(b)),
                    (false, false) => format!("Peering(vnets: ({}, {}){access})", s(a), s(b)),
                    (allow, use_remote) => format!(
                        "Peering(vnets: ({}, {}), allow_gateway_transit: {allow}, use_remote_gateways: {use_remote}{access})",
                        s(a),
                        s(b)
                    ),
                }
            })
            .collect();
        let _ = writeln!(o, "    peerings: [{}],", pairs.join(", "));
    }
    if !f.asgs.is_empty() {
        let _ = writeln!(o, "    asgs: {},", list(&f.asgs));
    }
    if !f.nsgs.is_empty() {
        o.push_str("    nsgs: [\n");
        for n in &f.nsgs {
            let origin = n.origin.as_ref().map(|x| format!("origin: {}, ", s(x))).unwrap_or_default();
            let flush = if n.flush_connection { "flush_connection: true, " } else { "" };
            let _ = writeln!(o, "        Nsg(name: {}, {origin}{flush}rules: [", s(&n.name));
            for r in &n.rules {
                let _ = writeln!(o, "            {},", rule_line(r));
            }
            o.push_str("        ]),\n");
        }
        o.push_str("    ],\n");
    }
    if !f.public_ips.is_empty() {
        o.push_str("    public_ips: [\n");
        for p in &f.public_ips {
            let _ = write!(o, "        PublicIp(name: {}, address: {}", s(&p.name), s(&p.address));
            match p.sku {
                Some(SkuSpec::Basic) => o.push_str(", sku: Basic"),
                Some(SkuSpec::Standard) => o.push_str(", sku: Standard"),
                None => {}
            }
            if let Some(q) = &p.prefix {
                let _ = write!(o, ", prefix: {}", s(q));
            }
            o.push_str("),\n");
        }
        o.push_str("    ],\n");
    }
    network::nat_gateways(&mut o, &f.public_ip_prefixes, &f.nat_gateways);
    if !f.vms.is_empty() {
        o.push_str("    vms: [\n");
        for v in &f.vms {
            let os = match v.os {
                OsSpec::Linux => "Linux",
                OsSpec::Windows => "Windows",
            };
            let _ = write!(o, "        Vm(name: {}, os: {os}", s(&v.name));
            if v.classic {
                o.push_str(", classic: true");
            }
            if let Some(sub) = &v.subscription {
                let _ = write!(o, ", subscription: {}", s(sub));
            }
            if let Some(rg) = &v.resource_group {
                let _ = write!(o, ", resource_group: {}", s(rg));
            }
            o.push_str(", nics: [\n");
            for n in &v.nics {
                let _ = writeln!(o, "            {},", nic(n));
            }
            o.push_str("        ]),\n");
        }
        o.push_str("    ],\n");
    }
    network::route_tables(&mut o, &f.route_tables);
    network::firewalls(&mut o, &f.firewalls);
    if !f.bastions.is_empty() {
        o.push_str("    bastions: [\n");
        for b in &f.bastions {
            let _ = write!(o, "        Bastion(name: {}, vnet: {}", s(&b.name), s(&b.vnet));
            if let Some(p) = &b.public_ip {
                let _ = write!(o, ", public_ip: {}", s(p));
            }
            o.push_str("),\n");
        }
        o.push_str("    ],\n");
    }
    load_balancer::load_balancers(&mut o, &f.load_balancers);
    network::avnm(&mut o, &f.network_groups, &f.security_admin_configurations);
    if !f.jit_policies.is_empty() {
        o.push_str("    jit_policies: [\n");
        for j in &f.jit_policies {
            let scope = match &j.scope {
                ScopeSpec::Subscription(x) => format!("Subscription({})", s(x)),
                ScopeSpec::ResourceGroup(x) => format!("ResourceGroup({})", s(x)),
                ScopeSpec::Vm(x) => format!("Vm({})", s(x)),
            };
            let _ = write!(o, "        JitPolicy(name: {}, scope: {scope}", s(&j.name));
            if j.enable_at_start {
                o.push_str(", enable_at_start: true");
            }
            if let Some(from) = &j.in_force_from {
                let _ = write!(o, ", in_force_from: {}", s(from));
            }
            if !j.approvers.is_empty() {
                let _ = write!(o, ", approvers: {}", list(&j.approvers));
            }
            if let Some(ports) = &j.ports {
                o.push_str(", ports: [\n");
                for p in ports {
                    let _ = writeln!(o, "            {},", port(p));
                }
                o.push_str("        ]");
            }
            if !j.active_grants.is_empty() {
                o.push_str(", active_grants: [\n");
                for g in &j.active_grants {
                    let _ = writeln!(
                        o,
                        "            Grant(vm: {}, port: {}, source: {}, requestor: {}, ends_at: {}),",
                        s(&g.vm),
                        g.port,
                        s(&g.source),
                        s(&g.requestor),
                        s(&g.ends_at)
                    );
                }
                o.push_str("        ]");
            }
            o.push_str("),\n");
        }
        o.push_str("    ],\n");
    }
    origins(&mut o, &f.origins);
    o.push_str(")\n");
    o
}

/// The `origins` field, last: where each part was read, for findings to point at (long, and
/// read by tools rather than people); nothing when there are none.
fn origins(
    o: &mut String,
    origins: &std::collections::BTreeMap<String, crate::scenario::schema::OriginSpec>,
) {
    if origins.is_empty() {
        return;
    }
    o.push_str(
        "    // Where each part was read: `lint --format sarif`, `test` and `diff` point findings there.\n",
    );
    o.push_str("    origins: {\n");
    for (key, origin) in origins {
        let _ = write!(o, "        {}: Origin(file: {}", s(key), s(&origin.file));
        if let (Some(line), Some(column)) = (origin.line, origin.column) {
            let _ = write!(o, ", line: {line}, column: {column}");
        }
        let _ = writeln!(o, ", path: {}),", s(&origin.path));
    }
    o.push_str("    },\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caveats_round_trip_through_the_loader() {
        let text = r#"Scenario(
            name: "c",
            start: "2025-01-06T09:00:00Z",
            vnets: [Vnet(name: "prod", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "web", prefix: "10.0.1.0/24")])],
            vms: [Vm(name: "vm-web", os: Linux, nics: [Nic(name: "n", subnet: "prod/web", private_ip: "10.0.1.4")])],
        )"#;
        let options =
            ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let mut file: ScenarioFile = options.from_str(text).expect("the base parses");
        assert!(!to_ron(&file).contains("caveats"), "no caveats, no field");
        file.caveats = vec![
            CaveatSpec::new(
                CaveatKindSpec::UnmodelledResource,
                "Microsoft.Network/loadBalancers/lb-web",
                "azuredeploy.json:120:7",
                "load balancers are not modelled: their \"NAT\" rules\ncan publish ports",
            )
            .affecting(["vm-web", "prod/web", "prod"]),
            CaveatSpec::new(CaveatKindSpec::UnresolvedLink, "https://example.com/t.json", "", "remote"),
            CaveatSpec::new(
                CaveatKindSpec::UnresolvedReference,
                "Microsoft.Network/routeTables/rt",
                "a:1:2",
                "r",
            ),
            CaveatSpec::new(CaveatKindSpec::Placeholder, "privateIPAddress of nic n", "a:3:4", "dynamic"),
            CaveatSpec::new(CaveatKindSpec::Other, "x", "", "y"),
        ];
        let ron = to_ron(&file);
        let again: ScenarioFile = options.from_str(&ron).unwrap_or_else(|e| panic!("{e}\n{ron}"));
        assert_eq!(again.caveats, file.caveats, "{ron}");
        let loaded = crate::scenario::load_str(&ron, std::path::Path::new("emitted.ron"))
            .unwrap_or_else(|e| panic!("{e}\n{ron}"));
        let kinds: Vec<&str> = loaded.caveats.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["UnmodelledResource", "UnresolvedLink", "UnresolvedReference", "Placeholder", "Other"]
        );
        let names: Vec<&str> = loaded.caveats[0].affects.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["vm-web", "prod/web", "prod"]);
        assert!(loaded.caveats[1].affects_everything());
    }
}

//! Azure's "effective security rules": per NIC, every associated NSG with its rules in
//! evaluation order and every symbolic address expanded to prefixes.

use crate::model::{NicId, Topology};
use crate::net::AddrSet;
use crate::nsg::{AddressSpec, Direction, SecurityRule, display_net};
use crate::path::Level;

/// One rule with its expansion.
#[derive(Clone, Debug)]
pub struct EffectiveRule {
    /// The rule.
    pub rule: SecurityRule,
    /// The source as written (`*`, a tag, prefixes, ASG names).
    pub source: String,
    /// The destination as written.
    pub destination: String,
    /// The source expanded to prefixes.
    pub expanded_source: Vec<String>,
    /// The destination expanded to prefixes.
    pub expanded_destination: Vec<String>,
}

/// One associated NSG as seen from a NIC.
#[derive(Clone, Debug)]
pub struct EffectiveNsg {
    /// The NSG's name.
    pub nsg: String,
    /// `subnet` or `networkInterface`.
    pub association: Level,
    /// Inbound rules in evaluation order, then outbound.
    pub rules: Vec<EffectiveRule>,
}

/// The effective rules of one NIC.
#[derive(Clone, Debug)]
pub struct NicEffectiveRules {
    /// The NIC's name.
    pub nic: String,
    /// Its private address.
    pub private_ip: String,
    /// One entry per associated NSG (subnet first); empty when neither level has one.
    pub nsgs: Vec<EffectiveNsg>,
    /// The security admin rules of Virtual Network Manager applying to the NIC's VNet (deployed
    /// configurations only), in evaluation order, inbound then outbound: evaluated before the
    /// NSGs.
    pub admin_rules: Vec<EffectiveAdminRule>,
}

/// One security admin rule as it applies to a NIC's VNet.
#[derive(Clone, Debug)]
pub struct EffectiveAdminRule {
    /// The network manager.
    pub network_manager: String,
    /// The security admin configuration.
    pub configuration: String,
    /// The rule collection.
    pub collection: String,
    /// The rule.
    pub rule: crate::model::AdminRule,
    /// Each source as written (a prefix or a tag); `*` when any.
    pub sources: Vec<String>,
    /// Each destination as written; `*` when any.
    pub destinations: Vec<String>,
}

/// The admin rules applying to `vnet`, inbound then outbound, each in evaluation order.
fn admin_rules(topology: &Topology, vnet: crate::model::VnetId) -> Vec<EffectiveAdminRule> {
    let describe = |specs: &[AddressSpec]| -> Vec<String> {
        if specs.is_empty() {
            return vec!["*".into()];
        }
        specs.iter().map(|s| topology.describe_address(s)).collect()
    };
    [Direction::Inbound, Direction::Outbound]
        .into_iter()
        .flat_map(|d| topology.admin_rules_for(vnet, d))
        .map(|a| EffectiveAdminRule {
            network_manager: a.configuration.network_manager.clone(),
            configuration: a.configuration.name.clone(),
            collection: a.collection.name.clone(),
            sources: describe(&a.rule.sources),
            destinations: describe(&a.rule.destinations),
            rule: a.rule.clone(),
        })
        .collect()
}

/// A field expanded as Azure's effective rules list it: `VirtualNetwork` as its constituent
/// prefixes (not merged), ASGs as each member's address, other tags as prefixes.
fn expand(
    set: &AddrSet,
    spec: &AddressSpec,
    ctx: &crate::nsg::ResolveContext,
    topology: &Topology,
) -> Vec<String> {
    match spec {
        AddressSpec::Any => vec!["0.0.0.0/0".into(), "::/0".into()],
        AddressSpec::Tag(crate::nsg::ServiceTag::VirtualNetwork) => {
            ctx.virtual_network_prefixes.iter().map(display_net).collect()
        }
        AddressSpec::Asgs(ids) => {
            // The members as the context resolves them: none from a VNet outside the NIC's
            // routing domain, whose addresses would be other hosts here.
            let mut ips: Vec<std::net::IpAddr> = ids
                .iter()
                .flat_map(|id| {
                    let members = ctx.asg_members.get(id);
                    topology
                        .asg(*id)
                        .members
                        .iter()
                        .map(|n| topology.nic(*n).private_ip)
                        .filter(move |ip| members.is_some_and(|set| set.contains(*ip)))
                })
                .collect();
            ips.sort();
            ips.dedup();
            ips.iter().map(|ip| ip.to_string()).collect()
        }
        _ => set.to_prefixes().iter().map(display_net).collect(),
    }
}

/// The effective rules of each of `nics`.
pub fn effective_rules(topology: &Topology, nics: &[NicId]) -> Vec<NicEffectiveRules> {
    nics.iter()
        .map(|&nic| {
            let n = topology.nic(nic);
            let ctx = topology.resolve_context_for_subnet(n.subnet);
            let levels = [(Level::Subnet, topology.subnet(n.subnet).nsg), (Level::Nic, n.nsg)];
            let nsgs = levels
                .into_iter()
                .filter_map(|(level, nsg)| nsg.map(|id| (level, id)))
                .map(|(association, id)| {
                    let nsg = topology.nsg(id);
                    let rules = [Direction::Inbound, Direction::Outbound]
                        .into_iter()
                        .flat_map(|d| nsg.evaluation_order(d))
                        .map(|rule| EffectiveRule {
                            source: topology.describe_address(&rule.source),
                            destination: topology.describe_address(&rule.destination),
                            expanded_source: expand(
                                &ctx.addresses(&rule.source),
                                &rule.source,
                                &ctx,
                                topology,
                            ),
                            expanded_destination: expand(
                                &ctx.addresses(&rule.destination),
                                &rule.destination,
                                &ctx,
                                topology,
                            ),
                            rule,
                        })
                        .collect();
                    EffectiveNsg { nsg: nsg.name.clone(), association, rules }
                })
                .collect();
            let admin_rules = admin_rules(topology, topology.subnet(n.subnet).vnet);
            NicEffectiveRules { nic: n.name.clone(), private_ip: n.private_ip.to_string(), nsgs, admin_rules }
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::load_str;

    /// A VM whose NIC has an NSG in a subnet that has one too; the NIC is in an ASG.
    pub(crate) const SCENARIO: &str = r#"Scenario(
        name: "eff",
        start: "2025-01-06T09:00:00Z",
        service_tags: {"Storage.WestEurope": ["20.38.96.0/19"]},
        vnets: [
            Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "sub")]),
            Vnet(name: "peer", address_space: ["10.5.0.0/16"]),
        ],
        peerings: [("v", "peer")],
        asgs: ["web"],
        nsgs: [
            Nsg(name: "sub", rules: [
                Rule(name: "to-web", priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
                     source: "Internet", destination_asgs: ["web"], destination_ports: "443"),
                Rule(name: "admins", priority: 110, direction: Inbound, access: Allow, protocol: Tcp,
                     source: "203.0.113.0/24, 198.51.100.7", destination_ports: "22,3389-3390"),
            ]),
            Nsg(name: "nic", rules: [
                Rule(name: "no-storage", priority: 100, direction: Outbound, access: Deny, protocol: Any,
                     destination: "Storage.WestEurope", destination_ports: "*"),
            ]),
        ],
        vms: [Vm(name: "vm", os: Linux, nics: [Nic(name: "vm-nic", subnet: "v/a", private_ip: "10.0.1.4", nsg: "nic", asgs: ["web"])])],
    )"#;

    pub(crate) fn rules() -> Vec<NicEffectiveRules> {
        let s = load_str(SCENARIO, Path::new("eff.ron")).unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let vm = t.vm_by_name("vm").expect("vm");
        effective_rules(t, &t.vm(vm).nics)
    }

    fn rule<'a>(nsg: &'a EffectiveNsg, name: &str) -> &'a EffectiveRule {
        nsg.rules.iter().find(|r| r.rule.azure_name() == name).unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn subnet_then_nic_each_in_evaluation_order() {
        let nics = rules();
        assert_eq!(
            (nics.len(), nics[0].nic.as_str(), nics[0].private_ip.as_str()),
            (1, "vm-nic", "10.0.1.4")
        );
        let levels: Vec<(&str, &str)> =
            nics[0].nsgs.iter().map(|n| (n.nsg.as_str(), n.association.as_str())).collect();
        assert_eq!(levels, [("sub", "subnet"), ("nic", "networkInterface")]);
        let names: Vec<String> = nics[0].nsgs[0].rules.iter().map(|r| r.rule.azure_name()).collect();
        assert_eq!(
            names[..3],
            ["securityRules/to-web", "securityRules/admins", "defaultSecurityRules/AllowVnetInBound"]
        );
        assert_eq!(names.len(), 8, "two user rules and the six defaults");
        assert_eq!(
            nics[0].nsgs[1].rules[3].rule.azure_name(),
            "securityRules/no-storage",
            "outbound after inbound"
        );
    }

    #[test]
    fn symbolic_addresses_are_expanded_as_azure_lists_them() {
        let nics = rules();
        let (sub, nic) = (&nics[0].nsgs[0], &nics[0].nsgs[1]);
        let to_web = rule(sub, "securityRules/to-web");
        assert_eq!((to_web.source.as_str(), to_web.destination.as_str()), ("Internet", "asg:web"));
        assert_eq!(to_web.expanded_destination, ["10.0.1.4"]);
        assert!(!to_web.expanded_source.iter().any(|p| p.starts_with("10.")), "{:?}", to_web.expanded_source);
        let admins = rule(sub, "securityRules/admins");
        assert_eq!(admins.source, "203.0.113.0/24,198.51.100.7");
        assert_eq!(admins.expanded_source, ["198.51.100.7", "203.0.113.0/24"]);
        assert_eq!(admins.expanded_destination, ["0.0.0.0/0", "::/0"]);
        // VirtualNetwork: each constituent prefix on its own (own space, peer, host address).
        let vnet = rule(sub, "defaultSecurityRules/AllowVnetInBound");
        assert_eq!(vnet.expanded_source, ["10.0.0.0/16", "10.5.0.0/16", "168.63.129.16"]);
        let storage = rule(nic, "securityRules/no-storage");
        assert_eq!(
            (storage.destination.as_str(), storage.expanded_destination.as_slice()),
            ("Storage.WestEurope", ["20.38.96.0/19".to_string()].as_slice())
        );
    }
}

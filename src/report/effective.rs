//! Azure's "effective security rules": per NIC, every associated NSG with its rules in
//! evaluation order and every symbolic address expanded to prefixes.

use crate::model::{NicId, Topology};
use crate::net::AddrSet;
use crate::nsg::{AddressSpec, Direction, SecurityRule, describe_address, display_net};
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
            let mut ips: Vec<std::net::IpAddr> = ids
                .iter()
                .flat_map(|id| topology.asg(*id).members.iter().map(|n| topology.nic(*n).private_ip))
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
                            source: describe_address(&rule.source, topology),
                            destination: describe_address(&rule.destination, topology),
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
            NicEffectiveRules { nic: n.name.clone(), private_ip: n.private_ip.to_string(), nsgs }
        })
        .collect()
}

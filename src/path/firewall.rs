//! Azure Firewall rule processing, in Azure's order: DNAT rules, then network rules, then
//! application rules, each phase across all rule collection groups by priority and, inside a
//! group, collections by priority; no match means deny.
//!
//! DNAT (current Microsoft documentation): a matching DNAT rule translates and allows the traffic;
//! it is not processed further by network rules. The older documentation added an implicit
//! network rule that explicit network deny rules could override; the option
//! `firewall_dnat_legacy_network_rules` reproduces it.

use std::net::IpAddr;

use crate::model::{CollectionRules, Firewall, FirewallAction, RuleCollection};
use crate::net::Flow;

/// What the firewall decided for a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A DNAT rule matched: forward to the translated address and port.
    Dnat {
        /// `group/collection/rule`.
        rule: String,
        /// Private target.
        address: IpAddr,
        /// Private port.
        port: u16,
    },
    /// A network or application rule allowed it.
    Allow {
        /// `group/collection/rule`.
        rule: String,
    },
    /// A network or application rule denied it.
    Deny {
        /// `group/collection/rule`.
        rule: String,
    },
    /// Nothing matched: Azure Firewall's default deny.
    DefaultDeny,
}

/// The collections of every group in processing order (group priority, then collection priority).
fn ordered(firewall: &Firewall) -> Vec<(&str, &RuleCollection)> {
    let mut groups: Vec<_> = firewall.groups.iter().collect();
    groups.sort_by_key(|g| g.priority);
    let mut out = Vec::new();
    for g in groups {
        let mut collections: Vec<_> = g.collections.iter().collect();
        collections.sort_by_key(|c| c.priority);
        out.extend(collections.into_iter().map(|c| (g.name.as_str(), c)));
    }
    out
}

/// DNAT phase only: the first DNAT rule matching traffic addressed to the firewall's public IP.
pub fn dnat(firewall: &Firewall, flow: &Flow) -> Option<Decision> {
    for (group, c) in ordered(firewall) {
        if let CollectionRules::Dnat(rules) = &c.rules {
            for r in rules {
                if r.protocols.contains(flow.protocol)
                    && r.sources.contains(flow.src)
                    && r.destination == flow.dst
                    && r.destination_port == flow.dst_port
                {
                    return Some(Decision::Dnat {
                        rule: format!("{group}/{}/{}", c.name, r.name),
                        address: r.translated_address,
                        port: r.translated_port,
                    });
                }
            }
        }
    }
    None
}

/// Network then application phases for traffic passing through the firewall.
pub fn filter(firewall: &Firewall, flow: &Flow) -> Decision {
    let collections = ordered(firewall);
    for (group, c) in &collections {
        if let CollectionRules::Network(action, rules) = &c.rules {
            for r in rules {
                if r.protocols.contains(flow.protocol)
                    && r.sources.contains(flow.src)
                    && r.destinations.contains(flow.dst)
                    && r.destination_ports.contains(flow.dst_port)
                {
                    let rule = format!("{group}/{}/{}", c.name, r.name);
                    return match action {
                        FirewallAction::Allow => Decision::Allow { rule },
                        FirewallAction::Deny => Decision::Deny { rule },
                    };
                }
            }
        }
    }
    // Application rules apply to HTTP, HTTPS and MSSQL (TCP).
    if flow.protocol == crate::net::IpProtocol::TCP {
        for (group, c) in &collections {
            if let CollectionRules::Application(action, rules) = &c.rules {
                for r in rules {
                    if r.sources.contains(flow.src)
                        && r.destinations.contains(flow.dst)
                        && r.ports.contains(flow.dst_port)
                    {
                        let rule = format!("{group}/{}/{}", c.name, r.name);
                        return match action {
                            FirewallAction::Allow => Decision::Allow { rule },
                            FirewallAction::Deny => Decision::Deny { rule },
                        };
                    }
                }
            }
        }
    }
    Decision::DefaultDeny
}

/// Under the legacy DNAT behaviour: the network deny rule that overrides the implicit allow of
/// translated traffic, if any.
pub fn legacy_network_deny(firewall: &Firewall, translated: &Flow) -> Option<String> {
    match filter(firewall, translated) {
        Decision::Deny { rule } => Some(rule),
        _ => None,
    }
}

//! Azure Firewall rule processing, in Azure's order: DNAT rules, then network rules, then
//! application rules, each phase across all rule collection groups by priority and, inside a
//! group, collections by priority; no match means deny.
//!
//! DNAT (current Microsoft documentation): a matching DNAT rule translates and allows the traffic;
//! it is not processed further by network rules. The older documentation added an implicit
//! network rule that explicit network deny rules could override; the option
//! `firewall_dnat_legacy_network_rules` reproduces it.

use std::net::IpAddr;

use crate::model::{CollectionRules, Firewall, FirewallAction, FirewallId, RuleCollection};
use crate::net::Flow;
use crate::nsg::{Access, RuleRef};

use super::evaluate::{Egress, Position, Walk, hop};
use super::{Hop, HopDetail, HopKind};

/// What the firewall decided for a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A DNAT rule matched: forward to the translated address and port.
    Dnat {
        /// `group/collection/rule`.
        rule: RuleRef,
        /// Private target.
        address: IpAddr,
        /// Private port.
        port: u16,
        /// Whether JIT wrote the rule for a grant.
        written_by_jit: bool,
    },
    /// A network or application rule allowed it.
    Allow {
        /// `group/collection/rule`.
        rule: RuleRef,
        /// Whether an application rule allowed it: application-rule traffic is always SNAT-ed
        /// (Azure Firewall FAQ), network-rule traffic to private addresses keeps its source.
        application: bool,
    },
    /// A network or application rule denied it.
    Deny {
        /// `group/collection/rule`.
        rule: RuleRef,
    },
    /// Nothing matched: Azure Firewall's default deny.
    DefaultDeny,
}

/// What the firewall does to the source of traffic it allowed and forwards (Microsoft, "Azure
/// Firewall SNAT private IP address ranges").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Snat {
    /// A network rule allowed it and the destination is in the private ranges: the source is kept.
    Kept {
        /// The destination.
        destination: IpAddr,
        /// The firewall's private ranges, as written.
        ranges: String,
    },
    /// SNAT to the firewall's private address in `AzureFirewallSubnet`: an application rule
    /// allowed it, or the destination is outside the private ranges and not on the Internet (or
    /// the firewall has no public IP: forced tunnelling).
    Private {
        /// The firewall's private address, the new source.
        address: IpAddr,
        /// Why: an application rule, or the destination outside these ranges.
        reason: SnatReason,
    },
    /// To the Internet through the firewall's public IP.
    Public {
        /// The firewall's public address, the new source.
        address: IpAddr,
    },
    /// A network rule allowed traffic to the Internet whose destination the private ranges
    /// include: the firewall does not SNAT it and cannot send it out ("With this configuration,
    /// Azure Firewall can't route traffic directly to the Internet").
    Stranded {
        /// The destination.
        destination: IpAddr,
        /// The firewall's private ranges, as written.
        ranges: String,
    },
}

/// Why traffic was SNAT-ed to the firewall's private address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnatReason {
    /// Application rules always SNAT.
    ApplicationRule,
    /// The destination is not in the private ranges (written as given).
    OutsidePrivateRanges {
        /// The destination.
        destination: IpAddr,
        /// The firewall's private ranges, as written.
        ranges: String,
    },
}

impl std::fmt::Display for Snat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Snat::Kept { destination, ranges } => write!(
                f,
                "no SNAT: destination {destination} is in the private ranges {ranges}, so the source is kept"
            ),
            Snat::Private { address, reason: SnatReason::ApplicationRule } => write!(
                f,
                "application rules always SNAT, so the source becomes {address} (AzureFirewallSubnet)"
            ),
            Snat::Private { address, reason: SnatReason::OutsidePrivateRanges { destination, ranges } } => {
                write!(
                    f,
                    "SNAT to {address}, the firewall's private address in AzureFirewallSubnet: destination {destination} is not in the private ranges {ranges}"
                )
            }
            Snat::Public { address } => write!(f, "SNAT to its public IP {address} for the Internet"),
            Snat::Stranded { destination, ranges } => write!(
                f,
                "destination {destination} is on the Internet and in the private ranges {ranges}, so a network rule's traffic to it is not SNAT-ed and the firewall cannot send it to the Internet"
            ),
        }
    }
}

/// How the firewall translates the source of `flow`, which a rule allowed (an application rule
/// when `application`). `internet` is the firewall's public address when the flow leaves for the
/// Internet through it; a firewall without a public IP (forced tunnelling) sends Internet-bound
/// traffic on by its routes like any other.
pub fn snat(firewall: &Firewall, flow: &Flow, application: bool, internet: Option<IpAddr>) -> Snat {
    let ranges = || firewall.private_ranges.to_string();
    let kept = !application && firewall.private_ranges.contains(flow.dst);
    match (internet, kept) {
        (Some(_), true) => Snat::Stranded { destination: flow.dst, ranges: ranges() },
        (None, true) => Snat::Kept { destination: flow.dst, ranges: ranges() },
        (Some(address), false) => Snat::Public { address },
        (None, false) if application => {
            Snat::Private { address: firewall.private_ip, reason: SnatReason::ApplicationRule }
        }
        (None, false) => Snat::Private {
            address: firewall.private_ip,
            reason: SnatReason::OutsidePrivateRanges { destination: flow.dst, ranges: ranges() },
        },
    }
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
                        rule: firewall_rule(group, &c.name, &r.name),
                        address: r.translated_address,
                        port: r.translated_port,
                        written_by_jit: r.written_by_jit,
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
    network_phase(&collections, flow)
        .or_else(|| application_phase(&collections, flow))
        .unwrap_or(Decision::DefaultDeny)
}

/// The first network rule, across every group and collection in order, that matches `flow`.
fn network_phase(collections: &[(&str, &RuleCollection)], flow: &Flow) -> Option<Decision> {
    for (group, c) in collections {
        if let CollectionRules::Network(action, rules) = &c.rules {
            for r in rules {
                if r.protocols.contains(flow.protocol)
                    && r.sources.contains(flow.src)
                    && r.destinations.contains(flow.dst)
                    && r.destination_ports.contains(flow.dst_port)
                {
                    return Some(decide(*action, firewall_rule(group, &c.name, &r.name), false));
                }
            }
        }
    }
    None
}

/// The first application rule that matches `flow`. Application rules apply to HTTP, HTTPS and
/// MSSQL, all over TCP.
fn application_phase(collections: &[(&str, &RuleCollection)], flow: &Flow) -> Option<Decision> {
    if flow.protocol != crate::net::IpProtocol::TCP {
        return None;
    }
    for (group, c) in collections {
        if let CollectionRules::Application(action, rules) = &c.rules {
            for r in rules {
                if r.sources.contains(flow.src)
                    && r.destinations.contains(flow.dst)
                    && r.ports.contains(flow.dst_port)
                {
                    return Some(decide(*action, firewall_rule(group, &c.name, &r.name), true));
                }
            }
        }
    }
    None
}

/// The firewall rule `name` of collection `collection` in group `group`.
fn firewall_rule(group: &str, collection: &str, name: &str) -> RuleRef {
    RuleRef::Firewall { group: group.to_string(), collection: collection.to_string(), rule: name.to_string() }
}

fn decide(action: FirewallAction, rule: RuleRef, application: bool) -> Decision {
    match action {
        FirewallAction::Allow => Decision::Allow { rule, application },
        FirewallAction::Deny => Decision::Deny { rule },
    }
}

/// Under the legacy DNAT behaviour: the network deny rule that overrides the implicit allow of
/// translated traffic, if any. Only network rules can: the older documentation's override is "a
/// network rule collection with deny rules that match the translated traffic", and application
/// rules are not applied to inbound connections.
pub fn legacy_network_deny(firewall: &Firewall, translated: &Flow) -> Option<RuleRef> {
    match network_phase(&ordered(firewall), translated) {
        Some(Decision::Deny { rule }) => Some(rule),
        _ => None,
    }
}

impl Walk<'_> {
    /// Traffic routed to the firewall's private address: network and application rules, then on.
    pub(in crate::path) fn through_firewall(&mut self, flow: Flow, fw: FirewallId) -> bool {
        let t = self.topology;
        let f = t.firewall(fw);
        let name = f.name.clone();
        let application = match filter(f, &flow) {
            Decision::Allow { rule, application } => {
                self.hops.push(Hop {
                    rule: Some(rule.clone()),
                    ..hop(
                        HopKind::Firewall,
                        &name,
                        Access::Allow,
                        HopDetail::FirewallRule {
                            firewall: name.clone(),
                            rule,
                            access: Access::Allow,
                            flow,
                            snat: None,
                        },
                    )
                });
                application
            }
            Decision::Deny { rule } => {
                self.hops.push(Hop {
                    rule: Some(rule.clone()),
                    ..hop(
                        HopKind::Firewall,
                        &name,
                        Access::Deny,
                        HopDetail::FirewallRule {
                            firewall: name.clone(),
                            rule,
                            access: Access::Deny,
                            flow,
                            snat: None,
                        },
                    )
                });
                return false;
            }
            Decision::DefaultDeny | Decision::Dnat { .. } => {
                return self.deny(
                    HopKind::Firewall,
                    &name,
                    HopDetail::FirewallDefaultDeny { firewall: name.clone(), flow },
                );
            }
        };
        let fw_vnet = t.subnet(f.subnet).vnet;
        let to_internet =
            t.vnet_seen_from(fw_vnet, flow.dst).is_none() && t.gateway_seen_from(fw_vnet, flow.dst).is_none();
        // A NAT gateway on AzureFirewallSubnet takes the firewall's Internet traffic, which the
        // firewall hands it from its private IP (Microsoft, "Scale SNAT ports with NAT Gateway":
        // "all outbound Internet traffic will automatically use the public IP address of NAT
        // gateway"; "Azure Firewall instances will send the traffic to NAT gateway using their
        // private IP address rather than Azure Firewall public IP address").
        let nat =
            to_internet.then(|| super::outbound::nat_gateway_source(t, f.subnet, flow.protocol)).flatten();
        let egress = match (nat, f.public_ip) {
            (Some(super::outbound::OutboundSource::NatGateway(gw)), _) => {
                Egress::NatGateway { gw, nic: None }
            }
            (Some(super::outbound::OutboundSource::None(why)), _) => Egress::NoOutbound(why, None),
            (_, Some(p)) => Egress::Public(t.public_ip(p).address),
            (_, None) => Egress::Keep,
        };
        let internet = match egress {
            Egress::Public(address) if to_internet => Some(address),
            _ => None,
        };
        let snat = snat(f, &flow, application, internet);
        let out = match &snat {
            Snat::Kept { .. } => flow,
            Snat::Private { address, .. } | Snat::Public { address } => Flow { src: *address, ..flow },
            Snat::Stranded { .. } => {
                return self.deny(
                    HopKind::Firewall,
                    &name,
                    HopDetail::FirewallStranded { firewall: name.clone(), snat },
                );
            }
        };
        // The allow hop just pushed says what the firewall did to the source.
        if let Some(Hop { detail: HopDetail::FirewallRule { snat: said, .. }, .. }) = self.hops.last_mut() {
            *said = Some(snat);
        }
        self.deliver(out, Position::Subnet(f.subnet), egress)
    }

    /// DNAT on the firewall's public IP.
    pub(in crate::path) fn firewall_dnat(&mut self, flow: Flow, fw: FirewallId) -> bool {
        let t = self.topology;
        let f = t.firewall(fw);
        let name = f.name.clone();
        let Some(Decision::Dnat { rule, address, port, written_by_jit }) = dnat(f, &flow) else {
            return self.deny(
                HopKind::Firewall,
                &name,
                HopDetail::FirewallNoDnat { firewall: name.clone(), flow },
            );
        };
        // The source becomes the firewall's address in AzureFirewallSubnet (Microsoft, "Azure
        // Firewall NAT behaviors"); nsgsim uses the firewall's private IP (model choice).
        let translated = Flow { src: f.private_ip, dst: address, dst_port: port, ..flow };
        self.hops.push(Hop {
            rule: Some(rule.clone()),
            ..hop(
                HopKind::Firewall,
                &name,
                Access::Allow,
                HopDetail::FirewallDnat {
                    firewall: name.clone(),
                    rule,
                    original: (flow.dst, flow.dst_port),
                    translated: (address, port),
                    source: f.private_ip,
                    written_by_jit,
                },
            )
        });
        if f.legacy_dnat
            && let Some(deny_rule) = legacy_network_deny(f, &translated)
        {
            self.hops.push(Hop {
                rule: Some(deny_rule.clone()),
                ..hop(
                    HopKind::Firewall,
                    &name,
                    Access::Deny,
                    HopDetail::FirewallLegacyDeny { firewall: name.clone(), rule: deny_rule },
                )
            });
            return false;
        }
        let egress = match f.public_ip {
            Some(p) => Egress::Public(t.public_ip(p).address),
            None => Egress::Keep,
        };
        self.deliver(translated, Position::Subnet(f.subnet), egress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ApplicationRule, DnatRule, FirewallMode, NetworkRule, RuleCollectionGroup, SnatPrivateRanges,
        SubnetId,
    };
    use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, ProtocolSet};

    fn rule(group: &str, collection: &str, rule: &str) -> RuleRef {
        RuleRef::Firewall { group: group.into(), collection: collection.into(), rule: rule.into() }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn net(text: &str) -> AddrSet {
        AddrSet::from_net(text.parse().expect("net"))
    }

    fn port(p: u16) -> PortSet {
        PortSet::from_ranges([PortRange::single(p)])
    }

    fn net_rules(name: &str, action: FirewallAction, dst: &str, p: u16) -> CollectionRules {
        CollectionRules::Network(
            action,
            vec![NetworkRule {
                name: name.into(),
                protocols: ProtocolSet::single(IpProtocol::TCP),
                sources: AddrSet::any(),
                destinations: net(dst),
                destination_ports: port(p),
            }],
        )
    }

    fn app_rules(name: &str, action: FirewallAction, dst: &str, p: u16) -> CollectionRules {
        CollectionRules::Application(
            action,
            vec![ApplicationRule {
                name: name.into(),
                sources: AddrSet::any(),
                fqdns: vec!["app.example".into()],
                destinations: net(dst),
                ports: port(p),
            }],
        )
    }

    fn dnat_rules(name: &str, public_port: u16, to: &str, to_port: u16) -> CollectionRules {
        CollectionRules::Dnat(vec![DnatRule {
            name: name.into(),
            protocols: ProtocolSet::single(IpProtocol::TCP),
            sources: AddrSet::any(),
            destination: ip("20.0.0.1"),
            destination_port: public_port,
            translated_address: ip(to),
            translated_port: to_port,
            written_by_jit: false,
        }])
    }

    fn collection(name: &str, priority: u32, rules: CollectionRules) -> RuleCollection {
        RuleCollection { name: name.into(), priority, rules }
    }

    fn firewall(groups: Vec<RuleCollectionGroup>) -> Firewall {
        Firewall {
            name: "fw".into(),
            subnet: SubnetId(0),
            private_ip: ip("10.0.1.4"),
            public_ip: None,
            mode: FirewallMode::Policy,
            groups,
            legacy_dnat: false,
            private_ranges: crate::model::SnatPrivateRanges::default(),
        }
    }

    fn group(name: &str, priority: u32, collections: Vec<RuleCollection>) -> RuleCollectionGroup {
        RuleCollectionGroup { name: name.into(), priority, collections }
    }

    fn tcp(dst: &str, p: u16) -> Flow {
        Flow::new(IpProtocol::TCP, ip("10.1.1.4"), 50000, ip(dst), p)
    }

    #[test]
    fn rule_collection_groups_run_by_priority_then_collections_by_priority() {
        // The group listed first has the higher number: the other group's deny must win, and
        // inside a group the lower-numbered collection wins whatever the file order.
        let fw = firewall(vec![
            group(
                "late",
                300,
                vec![collection(
                    "allow-ssh",
                    100,
                    net_rules("ssh", FirewallAction::Allow, "10.2.0.0/16", 22),
                )],
            ),
            group(
                "early",
                200,
                vec![
                    collection(
                        "allow-https",
                        500,
                        net_rules("https", FirewallAction::Allow, "10.2.0.0/16", 443),
                    ),
                    collection("deny-ssh", 400, net_rules("ssh", FirewallAction::Deny, "10.2.0.0/16", 22)),
                    collection(
                        "deny-https",
                        600,
                        net_rules("https", FirewallAction::Deny, "10.2.0.0/16", 443),
                    ),
                ],
            ),
        ]);
        assert_eq!(
            filter(&fw, &tcp("10.2.1.4", 22)),
            Decision::Deny { rule: rule("early", "deny-ssh", "ssh") }
        );
        assert_eq!(
            filter(&fw, &tcp("10.2.1.4", 443)),
            Decision::Allow { rule: rule("early", "allow-https", "https"), application: false }
        );
    }

    #[test]
    fn network_rules_run_before_application_rules_whatever_their_priority() {
        // The application deny sits in a higher-priority group and collection; network rules are
        // still processed first ("regardless of rule collection group or rule collection priority").
        let fw = firewall(vec![
            group(
                "apps",
                100,
                vec![collection("deny-app", 100, app_rules("app", FirewallAction::Deny, "10.2.1.4/32", 443))],
            ),
            group(
                "net",
                900,
                vec![collection(
                    "allow-net",
                    900,
                    net_rules("net", FirewallAction::Allow, "10.2.0.0/16", 443),
                )],
            ),
        ]);
        assert_eq!(
            filter(&fw, &tcp("10.2.1.4", 443)),
            Decision::Allow { rule: rule("net", "allow-net", "net"), application: false }
        );
        // Where no network rule matches, the application phase decides.
        let only_app = firewall(vec![group(
            "apps",
            100,
            vec![collection("allow-app", 100, app_rules("app", FirewallAction::Allow, "10.2.1.4/32", 443))],
        )]);
        assert_eq!(
            filter(&only_app, &tcp("10.2.1.4", 443)),
            Decision::Allow { rule: rule("apps", "allow-app", "app"), application: true }
        );
        // Application rules are HTTP(S)/MSSQL over TCP: UDP to the same port is not theirs.
        let udp = Flow::new(IpProtocol::UDP, ip("10.1.1.4"), 50000, ip("10.2.1.4"), 443);
        assert_eq!(filter(&only_app, &udp), Decision::DefaultDeny);
    }

    #[test]
    fn dnat_is_its_own_phase_and_only_for_the_public_address() {
        let fw = firewall(vec![
            group(
                "net",
                100,
                vec![collection("deny-all", 100, net_rules("all", FirewallAction::Deny, "0.0.0.0/0", 2222))],
            ),
            group("nat", 500, vec![collection("inbound", 100, dnat_rules("ssh", 2222, "10.2.1.4", 22))]),
        ]);
        let inbound = Flow::new(IpProtocol::TCP, ip("203.0.113.9"), 50000, ip("20.0.0.1"), 2222);
        assert_eq!(
            dnat(&fw, &inbound),
            Some(Decision::Dnat {
                rule: rule("nat", "inbound", "ssh"),
                address: ip("10.2.1.4"),
                port: 22,
                written_by_jit: false
            })
        );
        assert_eq!(dnat(&fw, &tcp("20.0.0.1", 2223)), None, "another port has no DNAT rule");
        assert_eq!(dnat(&fw, &tcp("20.0.0.2", 2222)), None, "another address is not the rule's destination");
        // Filtering (traffic routed through the firewall) never translates.
        assert_eq!(filter(&fw, &inbound), Decision::Deny { rule: rule("net", "deny-all", "all") });
    }

    #[test]
    fn a_dnat_rule_is_jits_by_its_mark_never_by_its_name() {
        // A scenario's collection named as JIT names its own is still the scenario's; the rule
        // JIT writes carries the mark whatever its name.
        let named_like_jit = firewall(vec![group(
            "nat",
            100,
            vec![collection("JIT-vm1-22-0", 100, dnat_rules("JIT-vm1-22", 2222, "10.2.1.4", 22))],
        )]);
        let inbound = Flow::new(IpProtocol::TCP, ip("203.0.113.9"), 50000, ip("20.0.0.1"), 2222);
        assert!(matches!(
            dnat(&named_like_jit, &inbound),
            Some(Decision::Dnat { written_by_jit: false, .. })
        ));
        let mut rules = dnat_rules("anything", 2222, "10.2.1.4", 22);
        if let CollectionRules::Dnat(rs) = &mut rules {
            rs[0].written_by_jit = true;
        }
        let written = firewall(vec![group("nat", 100, vec![collection("c", 100, rules)])]);
        assert!(matches!(dnat(&written, &inbound), Some(Decision::Dnat { written_by_jit: true, .. })));
    }

    #[test]
    fn network_rules_snat_outside_the_private_ranges_and_application_rules_always() {
        // Microsoft: "If your organization uses registered IP address ranges outside of IANA RFC
        // 1918 or IANA RFC 6598 for private networks, Azure Firewall SNATs the traffic to one of
        // the firewall's private IP addresses in AzureFirewallSubnet."
        let mut fw = firewall(vec![]);
        let private = ip("10.0.1.4");
        let registered = tcp("198.51.100.4", 443);
        let outside = |ranges: &str| SnatReason::OutsidePrivateRanges {
            destination: ip("198.51.100.4"),
            ranges: ranges.into(),
        };
        assert_eq!(
            snat(&fw, &registered, false, None),
            Snat::Private { address: private, reason: outside("[IANAPrivateRanges]") }
        );
        assert_eq!(
            snat(&fw, &tcp("10.2.1.4", 443), false, None),
            Snat::Kept { destination: ip("10.2.1.4"), ranges: "[IANAPrivateRanges]".into() }
        );
        assert_eq!(
            snat(&fw, &tcp("100.64.1.4", 443), false, None),
            Snat::Kept { destination: ip("100.64.1.4"), ranges: "[IANAPrivateRanges]".into() },
            "RFC 6598 shared address space is private too"
        );
        // "Application rules are always SNATed ... regardless of the destination IP address."
        assert_eq!(
            snat(&fw, &tcp("10.2.1.4", 443), true, None),
            Snat::Private { address: private, reason: SnatReason::ApplicationRule }
        );
        // The registered range configured as private keeps the source.
        fw.private_ranges = SnatPrivateRanges::new(&["IANAPrivateRanges", "198.51.100.0/24"]).expect("valid");
        assert!(matches!(snat(&fw, &registered, false, None), Snat::Kept { .. }));
        // To the Internet through the public IP; with 0.0.0.0/0 the firewall cannot.
        let public = ip("20.0.0.1");
        assert_eq!(
            snat(&fw, &tcp("203.0.113.9", 443), false, Some(public)),
            Snat::Public { address: public }
        );
        fw.private_ranges = SnatPrivateRanges::new(&["0.0.0.0/0"]).expect("valid");
        assert!(matches!(snat(&fw, &tcp("203.0.113.9", 443), false, Some(public)), Snat::Stranded { .. }));
        assert!(matches!(snat(&fw, &registered, false, None), Snat::Kept { .. }), "never SNAT");
        assert_eq!(snat(&fw, &tcp("203.0.113.9", 443), true, Some(public)), Snat::Public { address: public });
        // 255.255.255.255/32: always SNAT, even to RFC 1918 destinations.
        fw.private_ranges = SnatPrivateRanges::new(&["255.255.255.255/32"]).expect("valid");
        assert!(matches!(snat(&fw, &tcp("10.2.1.4", 443), false, None), Snat::Private { .. }));
    }

    #[test]
    fn nothing_matching_is_denied_by_default() {
        assert_eq!(filter(&firewall(vec![]), &tcp("10.2.1.4", 22)), Decision::DefaultDeny);
        let fw = firewall(vec![group(
            "g",
            100,
            vec![collection("c", 100, net_rules("other", FirewallAction::Allow, "10.9.0.0/16", 22))],
        )]);
        assert_eq!(filter(&fw, &tcp("10.2.1.4", 22)), Decision::DefaultDeny);
    }

    #[test]
    fn legacy_dnat_override_comes_from_network_rules_only() {
        let translated = Flow::new(IpProtocol::TCP, ip("10.0.1.4"), 50000, ip("10.2.1.4"), 22);
        let app_deny = firewall(vec![group(
            "g",
            100,
            vec![collection("deny-app", 100, app_rules("app", FirewallAction::Deny, "10.2.1.4/32", 22))],
        )]);
        assert_eq!(
            filter(&app_deny, &translated),
            Decision::Deny { rule: rule("g", "deny-app", "app") },
            "the application phase would deny it when filtering"
        );
        assert_eq!(legacy_network_deny(&app_deny, &translated), None, "but it cannot override a DNAT");
        let net_deny = firewall(vec![group(
            "g",
            100,
            vec![
                collection("deny-net", 200, net_rules("ssh", FirewallAction::Deny, "10.2.0.0/16", 22)),
                collection("allow-net", 300, net_rules("ssh", FirewallAction::Allow, "10.2.0.0/16", 22)),
            ],
        )]);
        assert_eq!(legacy_network_deny(&net_deny, &translated), Some(rule("g", "deny-net", "ssh")));
        let net_allow_first = firewall(vec![group(
            "g",
            100,
            vec![
                collection("allow-net", 100, net_rules("ssh", FirewallAction::Allow, "10.2.0.0/16", 22)),
                collection("deny-net", 200, net_rules("ssh", FirewallAction::Deny, "10.2.0.0/16", 22)),
            ],
        )]);
        assert_eq!(
            legacy_network_deny(&net_allow_first, &translated),
            None,
            "an earlier allow matches first"
        );
    }
}

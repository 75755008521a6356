//! The rules Azure requires in an NSG on `AzureBastionSubnet`, and which of them an NSG lacks.
//!
//! Microsoft's "Working with NSG access and Azure Bastion" lists eight rules (four inbound, four
//! outbound). A rule is *present* when the NSG lets the traffic it describes through: every
//! address of the source tag (for `Internet`: at least some address, since Microsoft allows
//! narrowing it to your own public IPs), on each required port and protocol. The check is exact:
//! the tag's addresses are split into pieces on which every rule of the NSG behaves alike.

use crate::model::{BastionId, Site, Topology};
use crate::net::{AddrSet, Flow, IpProtocol};
use crate::nsg::{Access, CompiledNsg, Direction, ResolveContext, ServiceTag};

use super::detail::{HostAt, PeeringLead, PeeringRole};
use super::evaluate::{Position, Walk};
use super::{Destination, FlowRequest, HopDetail, HopKind};

/// A source or destination in a required rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Any,
    Tag(&'static str),
}

/// One required rule.
#[derive(Clone, Copy, Debug)]
struct Required {
    name: &'static str,
    direction: Direction,
    tcp_only: bool,
    source: Endpoint,
    destination: Endpoint,
    ports: &'static [u16],
    /// Some source address suffices (the doc allows narrowing `Internet` to chosen public IPs).
    any_source: bool,
}

const REQUIRED: &[Required] = &[
    Required {
        name: "AllowHttpsInbound",
        direction: Direction::Inbound,
        tcp_only: true,
        source: Endpoint::Tag("Internet"),
        destination: Endpoint::Any,
        ports: &[443],
        any_source: true,
    },
    Required {
        name: "AllowGatewayManagerInbound",
        direction: Direction::Inbound,
        tcp_only: true,
        source: Endpoint::Tag("GatewayManager"),
        destination: Endpoint::Any,
        ports: &[443],
        any_source: false,
    },
    Required {
        name: "AllowBastionHostCommunication",
        direction: Direction::Inbound,
        tcp_only: false,
        source: Endpoint::Tag("VirtualNetwork"),
        destination: Endpoint::Tag("VirtualNetwork"),
        ports: &[8080, 5701],
        any_source: false,
    },
    Required {
        name: "AllowAzureLoadBalancerInbound",
        direction: Direction::Inbound,
        tcp_only: true,
        source: Endpoint::Tag("AzureLoadBalancer"),
        destination: Endpoint::Any,
        ports: &[443],
        any_source: false,
    },
    Required {
        name: "AllowSshRdpOutbound",
        direction: Direction::Outbound,
        tcp_only: false,
        source: Endpoint::Any,
        destination: Endpoint::Tag("VirtualNetwork"),
        ports: &[22, 3389],
        any_source: false,
    },
    Required {
        name: "AllowAzureCloudOutbound",
        direction: Direction::Outbound,
        tcp_only: true,
        source: Endpoint::Any,
        destination: Endpoint::Tag("AzureCloud"),
        ports: &[443],
        any_source: false,
    },
    Required {
        name: "AllowBastionCommunication",
        direction: Direction::Outbound,
        tcp_only: false,
        source: Endpoint::Tag("VirtualNetwork"),
        destination: Endpoint::Tag("VirtualNetwork"),
        ports: &[8080, 5701],
        any_source: false,
    },
    Required {
        name: "AllowHttpOutbound",
        direction: Direction::Outbound,
        tcp_only: false,
        source: Endpoint::Any,
        destination: Endpoint::Tag("Internet"),
        ports: &[80],
        any_source: false,
    },
];

/// A required rule the Bastion subnet's NSG does not satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingBastionRule {
    /// The rule's name in Microsoft's documentation.
    pub rule: &'static str,
    /// What is blocked and by which rule.
    pub detail: String,
}

fn members(ctx: &ResolveContext, endpoint: Endpoint, own: std::net::IpAddr) -> AddrSet {
    match endpoint {
        // "Any" stands for the Bastion host's own address on the side it occupies.
        Endpoint::Any => AddrSet::from_addr(own),
        Endpoint::Tag(name) => ctx.tag(&ServiceTag::parse(name).unwrap_or(ServiceTag::Other(name.into()))),
    }
}

/// The required rules the NSG on `bastion`'s subnet lacks; empty when the subnet has no NSG
/// (Azure does not require one) or the NSG has every rule.
pub fn missing_bastion_rules(topology: &Topology, bastion: BastionId) -> Vec<MissingBastionRule> {
    let b = topology.bastion(bastion);
    let Some(nsg) = topology.subnet(b.subnet).nsg else { return Vec::new() };
    let ctx = topology.resolve_context_for_subnet(b.subnet);
    let mut missing = Vec::new();
    for req in REQUIRED {
        let compiled = CompiledNsg::compile(topology.nsg(nsg), req.direction, &ctx);
        let mut sources = members(&ctx, req.source, b.private_ip);
        if req.any_source {
            // Users connect from the Internet; the platform's own sources (GatewayManager and
            // AzureLoadBalancer, which are public addresses too) do not count as users.
            for platform in ["GatewayManager", "AzureLoadBalancer"] {
                sources = sources.subtract(&members(&ctx, Endpoint::Tag(platform), b.private_ip));
            }
        }
        let destinations = members(&ctx, req.destination, b.private_ip);
        let protocols: &[IpProtocol] =
            if req.tcp_only { &[IpProtocol::TCP] } else { &[IpProtocol::TCP, IpProtocol::UDP] };
        let src_pieces = compiled.address_pieces(&sources, true);
        let dst_pieces = compiled.address_pieces(&destinations, false);
        let mut problem = None;
        'check: for &protocol in protocols {
            for &port in req.ports {
                let mut allowed_somewhere = false;
                let mut first_denial = None;
                // One flow per piece decides for the whole piece; the message names the pieces
                // (prefixes), not the representative addresses.
                for (sp, s) in src_pieces.iter().filter_map(|p| Some((p, p.first()?))) {
                    for (dp, d) in dst_pieces.iter().filter_map(|p| Some((p, p.first()?))) {
                        let flow = Flow::new(protocol, s, 50000, d, port);
                        let hit = compiled.evaluate(&flow);
                        if hit.rule.access == Access::Allow {
                            allowed_somewhere = true;
                        } else if first_denial.is_none() {
                            first_denial = Some(format!(
                                "{protocol} from {sp} to {dp} port {port} is denied by {}",
                                hit.rule.azure_name()
                            ));
                        }
                    }
                }
                let failed = if req.any_source { !allowed_somewhere } else { first_denial.is_some() };
                if failed {
                    problem = first_denial.or_else(|| Some(format!("{protocol} port {port} is not allowed")));
                    break 'check;
                }
            }
        }
        if let Some(detail) = problem {
            missing.push(MissingBastionRule { rule: req.name, detail });
        }
    }
    missing
}

impl Walk<'_> {
    /// A user reaching the Bastion host's portal on 443.
    pub(in crate::path) fn bastion_portal(&mut self, flow: Flow, b: BastionId) -> bool {
        let t = self.topology;
        let bastion = t.bastion(b);
        let name = bastion.name.clone();
        if flow.protocol != IpProtocol::TCP || flow.dst_port != 443 {
            return self.deny(HopKind::Bastion, &name, HopDetail::BastionOnly443 { bastion: name.clone() });
        }
        self.push(
            HopKind::Bastion,
            &name,
            Access::Allow,
            HopDetail::BastionConnects { bastion: name.clone(), from: flow.src },
        );
        let inbound = Flow { dst: bastion.private_ip, ..flow };
        self.subnet_nsg(&inbound, bastion.subnet, Direction::Inbound)
    }

    /// A session through Bastion: user → Bastion on 443, then Bastion → target's private IP.
    pub(in crate::path) fn via_bastion(&mut self, req: &FlowRequest, b: BastionId) -> bool {
        let t = self.topology;
        let bastion = t.bastion(b);
        let name = bastion.name.clone();
        let Some((src_ip, position)) = self.position_or_deny(req.source) else { return false };
        let Some(pip) = bastion.public_ip else {
            return self.deny(
                HopKind::Bastion,
                &name,
                HopDetail::BastionNoPublicIp { bastion: name.clone() },
            );
        };
        let portal = Flow::new(IpProtocol::TCP, src_ip, req.src_port, t.public_ip(pip).address, 443);
        if !self.deliver(portal, position, self.egress(req.source, position, portal.protocol)) {
            return false;
        }
        self.depth = 0;
        // Bastion connects to a private IP as its own VNet sees it (it and the VNets peered with
        // it); an address outside them that one NIC has is that NIC, and is refused below.
        let target = match req.destination {
            Destination::Nic(n) | Destination::Backend { nic: n, .. } => Some(n),
            Destination::PublicIp(p) => t.public_ip(p).nic,
            Destination::Address(a) => match t.vnet_seen_from(bastion.vnet, a) {
                Some(v) => t.nic_in_vnet(v, a),
                None => t.nic_by_private_ip(a),
            },
        };
        let Some(target) = target else {
            return self.deny(HopKind::Bastion, &name, self.no_bastion_target(b, req.destination));
        };
        if req.protocol != IpProtocol::TCP || ![22, 3389].contains(&req.dst_port) {
            return self.deny(
                HopKind::Bastion,
                &name,
                HopDetail::BastionNotRdpOrSsh { protocol: req.protocol, port: req.dst_port },
            );
        }
        let target_vnet = t.vnet_of_nic(target);
        if let Some(blocked) = self.blocked_peering(Position::Subnet(bastion.subnet), target_vnet) {
            let lead = PeeringLead::Bastion { bastion: name.clone() };
            return self.deny_blocked_peering(name, lead, blocked);
        }
        if target_vnet != bastion.vnet {
            let gap = self
                .outside_subnet_peering(bastion.subnet, target_vnet, PeeringRole::BastionHost)
                .or_else(|| {
                    self.outside_subnet_peering(t.nic(target).subnet, bastion.vnet, PeeringRole::Destination)
                });
            if let Some(gap) = gap {
                return self.deny(
                    HopKind::Bastion,
                    &name,
                    HopDetail::BastionOutsideSubnetPeering { bastion: name.clone(), gap },
                );
            }
        }
        if !self.cache.private_reach().vnet_reaches(bastion.vnet, target_vnet) {
            return self.deny(
                HopKind::Bastion,
                &name,
                HopDetail::BastionOutOfReach {
                    bastion: name.clone(),
                    vnet: t.vnet(bastion.vnet).name.clone(),
                    target_vnet: t.vnet(target_vnet).name.clone(),
                },
            );
        }
        let session =
            Flow::new(req.protocol, bastion.private_ip, req.src_port, t.nic(target).private_ip, req.dst_port);
        self.push(
            HopKind::Bastion,
            &name,
            Access::Allow,
            HopDetail::BastionSession {
                bastion: name.clone(),
                from: bastion.private_ip,
                to: (session.dst, session.dst_port),
            },
        );
        if !self.subnet_nsg(&session, bastion.subnet, Direction::Outbound) {
            return false;
        }
        self.arrive_private(session, target_vnet)
    }

    /// Why Bastion `b` has no VM to open a session to at `destination`.
    pub(super) fn no_bastion_target(&self, b: BastionId, destination: Destination) -> HopDetail {
        let t = self.topology;
        let vnet = t.vnet(t.bastion(b).vnet).name.clone();
        let Destination::Address(a) = destination else {
            return HopDetail::BastionNoTarget { vnet, address: None, elsewhere: Vec::new() };
        };
        let elsewhere =
            t.nics_with_ip(a).iter().map(|n| HostAt::of(t, Site::Vnet(t.vnet_of_nic(*n)), a)).collect();
        HopDetail::BastionNoTarget { vnet, address: Some(a), elsewhere }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Topology;
    use crate::nsg::{Access::*, Direction::*, RuleProtocol::*};
    use crate::path::testing::{net, nsg, prefix, rule, tag};

    /// The eight rules of "Working with NSG access and Azure Bastion".
    fn required_rules() -> Vec<crate::nsg::SecurityRule> {
        vec![
            rule("AllowHttpsInbound", 120, Inbound, Allow, Tcp, (tag("Internet"), AddressSpec::Any), "443"),
            rule(
                "AllowGatewayManagerInbound",
                130,
                Inbound,
                Allow,
                Tcp,
                (tag("GatewayManager"), AddressSpec::Any),
                "443",
            ),
            rule(
                "AllowAzureLoadBalancerInbound",
                140,
                Inbound,
                Allow,
                Tcp,
                (tag("AzureLoadBalancer"), AddressSpec::Any),
                "443",
            ),
            rule(
                "AllowBastionHostCommunication",
                150,
                Inbound,
                Allow,
                Any,
                (tag("VirtualNetwork"), tag("VirtualNetwork")),
                "8080,5701",
            ),
            rule(
                "AllowSshRdpOutbound",
                100,
                Outbound,
                Allow,
                Any,
                (AddressSpec::Any, tag("VirtualNetwork")),
                "22,3389",
            ),
            rule(
                "AllowAzureCloudOutbound",
                110,
                Outbound,
                Allow,
                Tcp,
                (AddressSpec::Any, tag("AzureCloud")),
                "443",
            ),
            rule(
                "AllowBastionCommunication",
                120,
                Outbound,
                Allow,
                Any,
                (tag("VirtualNetwork"), tag("VirtualNetwork")),
                "8080,5701",
            ),
            rule("AllowHttpOutbound", 130, Outbound, Allow, Any, (AddressSpec::Any, tag("Internet")), "80"),
        ]
    }

    use crate::nsg::AddressSpec;

    /// A VNet 10.60.0.0/16 with a Bastion whose subnet has an NSG of `rules` (or none).
    fn bastion_with(rules: Option<Vec<crate::nsg::SecurityRule>>) -> (Topology, BastionId) {
        let mut t = Topology::new();
        let v = t.add_vnet("prod", vec![net("10.60.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "AzureBastionSubnet", net("10.60.0.0/26")).expect("subnet");
        if let Some(rules) = rules {
            let id = nsg(&mut t, "bastion-nsg", rules);
            t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
        }
        let b = t.add_bastion("prod-bastion", v, None).expect("bastion");
        (t, b)
    }

    #[test]
    fn every_required_rule_present_or_no_nsg_means_nothing_missing() {
        let (t, b) = bastion_with(Some(required_rules()));
        assert_eq!(missing_bastion_rules(&t, b), vec![]);
        let (t, b) = bastion_with(None);
        assert_eq!(missing_bastion_rules(&t, b), vec![], "Azure does not require an NSG there");
    }

    #[test]
    fn blocked_required_traffic_is_reported_with_the_rule_and_the_prefixes() {
        let mut rules: Vec<_> =
            required_rules().into_iter().filter(|r| r.name != "AllowSshRdpOutbound").collect();
        rules.push(rule(
            "DenyVnetOutbound",
            200,
            Outbound,
            Deny,
            Any,
            (AddressSpec::Any, tag("VirtualNetwork")),
            "*",
        ));
        rules.push(rule(
            "DenyGatewayManager",
            100,
            Inbound,
            Deny,
            Tcp,
            (tag("GatewayManager"), AddressSpec::Any),
            "443",
        ));
        let (t, b) = bastion_with(Some(rules));
        let missing = missing_bastion_rules(&t, b);
        let names: Vec<&str> = missing.iter().map(|m| m.rule).collect();
        assert_eq!(names, ["AllowGatewayManagerInbound", "AllowSshRdpOutbound"]);
        // The destination is named as the VNet's prefix, not as its network address
        // (`10.60.0.0:22` would read as a host).
        assert_eq!(
            missing[1].detail,
            "Tcp from 10.60.0.4/32 to 10.60.0.0/16 port 22 is denied by securityRules/DenyVnetOutbound"
        );
        assert!(
            missing[0].detail.contains("is denied by securityRules/DenyGatewayManager"),
            "{}",
            missing[0].detail
        );
    }

    #[test]
    fn https_inbound_may_be_narrowed_to_some_internet_sources() {
        let mut rules: Vec<_> =
            required_rules().into_iter().filter(|r| r.name != "AllowHttpsInbound").collect();
        rules.push(rule(
            "AllowHttpsFromOffice",
            120,
            Inbound,
            Allow,
            Tcp,
            (prefix("203.0.113.0/24"), AddressSpec::Any),
            "443",
        ));
        let (t, b) = bastion_with(Some(rules.clone()));
        assert_eq!(missing_bastion_rules(&t, b), vec![], "Microsoft allows narrowing the Internet source");
        rules.retain(|r| r.name != "AllowHttpsFromOffice");
        let (t, b) = bastion_with(Some(rules));
        let names: Vec<&str> = missing_bastion_rules(&t, b).iter().map(|m| m.rule).collect();
        assert_eq!(names, ["AllowHttpsInbound"]);
    }
}

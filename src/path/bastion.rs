//! The rules Azure requires in an NSG on `AzureBastionSubnet`, and which of them an NSG lacks.
//!
//! Microsoft's "Working with NSG access and Azure Bastion" lists eight rules (four inbound, four
//! outbound). A rule is *present* when the NSG lets the traffic it describes through: every
//! address of the source tag (for `Internet`: at least some address, since Microsoft allows
//! narrowing it to your own public IPs), on each required port and protocol. The check is exact:
//! the tag's addresses are split into pieces on which every rule of the NSG behaves alike.

use crate::model::{BastionId, Topology};
use crate::net::{AddrSet, Flow, IpProtocol};
use crate::nsg::{Access, CompiledNsg, Direction, ResolveContext, ServiceTag};

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
        let sources = members(&ctx, req.source, b.private_ip);
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
                for s in src_pieces.iter().filter_map(AddrSet::first) {
                    for d in dst_pieces.iter().filter_map(AddrSet::first) {
                        let flow = Flow::new(protocol, s, 50000, d, port);
                        let hit = compiled.evaluate(&flow);
                        if hit.rule.access == Access::Allow {
                            allowed_somewhere = true;
                        } else if first_denial.is_none() {
                            first_denial = Some(format!("{flow} is denied by {}", hit.rule.azure_name()));
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

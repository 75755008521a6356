//! The hop-by-hop evaluation itself.

use std::net::IpAddr;

use crate::model::{
    BastionId, LoadBalancerId, NatGatewayId, NicId, PublicIpId, PublicIpSku, Site, SubnetId, Topology, VnetId,
};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, Direction};

use super::detail::{
    BlockedPeering, OutboundDetail, PeeringLead, PeeringRole, PlatformAnswer, PlatformDetail, PrivateWay,
    RouteDetail, RouteVia, SubnetPeeringGap,
};
use super::outbound::{NoOutbound, OutboundSource, SnatBy, nat_gateway_source, outbound_source};
use super::platform::{self, Exemption, PlatformService};
use super::route::{self, Hop as RouteHop};
use super::{Hop, HopDetail, HopKind, PolicyCache, Trace};

mod chain;
mod resolve;
mod routing;
pub use resolve::{destination_nic, destination_vnet, reply_source, sending_vnet, source_at};
use resolve::{hosts_at, vnet_list};

/// Where a flow starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A NIC (a VM): its outbound NSGs apply.
    Nic(NicId),
    /// An address that is not a modelled NIC: an Internet client, an on-premises host, or an
    /// unmodelled host inside a VNet's address space. When VNets that are not connected share the
    /// address, the flow cannot start (the trace says so): give [`Source::AddressAt`] instead.
    Address(IpAddr),
    /// An address at a known site ([`Site`]): a host of that VNet's address space that is not a
    /// modelled NIC (its subnet's NSG applies), or an on-premises host behind that VNet's gateway.
    /// It says where an address that separate routing domains share is meant.
    AddressAt(IpAddr, Site),
}

/// Where a flow is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A NIC, reached by its private address when the source can route to it privately, else
    /// through its public IP.
    Nic(NicId),
    /// A public IP resource (of a NIC, a firewall or a Bastion host).
    PublicIp(PublicIpId),
    /// A raw address: a public IP's address, an address routed from the source (a NIC's private
    /// address as seen from the source's VNet: see `model::domain`), or something outside.
    Address(IpAddr),
    /// A load balancer frontend's address, answered for one backend member: Azure sends each
    /// flow of a load-balancing rule to one healthy member by a 5-tuple hash, so a question about
    /// one VM behind it names the VM (`reach` and `exposure` ask this way).
    Backend {
        /// The frontend's address (public or private).
        address: IpAddr,
        /// The member NIC asked about.
        nic: NicId,
    },
}

/// One flow to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRequest {
    /// Where it starts.
    pub source: Source,
    /// Where it is addressed.
    pub destination: Destination,
    /// IP protocol.
    pub protocol: IpProtocol,
    /// Source port (ignored for portless protocols).
    pub src_port: u16,
    /// Destination port (ignored for portless protocols).
    pub dst_port: u16,
    /// Reach the destination through this Bastion host: the user connects to the Bastion's
    /// public IP on 443, and the Bastion opens the session to the destination's private IP.
    pub via: Option<BastionId>,
}

/// Where a packet is when it is routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::path) enum Position {
    /// Sent from a subnet (a NIC's, or the firewall's).
    Subnet(SubnetId),
    /// From an on-premises network behind a VNet's gateway.
    OnPremises(VnetId),
    /// From a host in a VNet's address space that is not a modelled NIC.
    Unmodelled(VnetId),
    /// From the Internet.
    Internet,
    /// From the host platform address 168.63.129.16 (health probes, DNS, DHCP): it reaches every
    /// VNet privately.
    Platform,
}

/// Where a packet leaving a subnet for the Internet gets its public source address (Microsoft,
/// "Default outbound access in Azure" and "Outbound connectivity"): traffic to a public address,
/// even another VM's public IP in the same VNet, leaves through outbound SNAT, so the receiver's
/// NSGs see a public source and the `Internet` rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::path) enum Egress {
    /// A public IP of the sender (the VM's own, or the firewall's): the source becomes it.
    Public(IpAddr),
    /// A load balancer's frontend, by its outbound rule or load-balancing rule (`path::outbound`).
    LoadBalancer {
        /// The sending NIC.
        nic: NicId,
        /// The load balancer.
        lb: LoadBalancerId,
        /// The rule that translates.
        by: SnatBy,
        /// The frontend whose address becomes the source.
        frontend: usize,
    },
    /// The sender's subnet's NAT gateway (`path::outbound`); `nic` is the sending NIC, if one.
    NatGateway {
        /// The gateway.
        gw: NatGatewayId,
        /// The sending NIC, when the sender is one.
        nic: Option<NicId>,
    },
    /// No public IP, in a subnet with default outbound access: an implicit Microsoft address.
    DefaultOutbound,
    /// No way out: a private subnet (`defaultOutboundAccess` false), or a Standard load
    /// balancer's member that nothing translates (with the NIC).
    NoOutbound(NoOutbound, Option<NicId>),
    /// A sender outside Azure's VNets (an Internet or on-premises client): the source is kept.
    Keep,
}

/// The source address nsgsim gives traffic that leaves through default outbound access. Azure
/// uses an implicit, changing Microsoft address that no scenario can name; nsgsim stands in one
/// fixed public address for it (model choice, docs/fidelity.md) and labels it in every trace. It
/// lies in nsgsim's sample `AzureCloud` prefixes, as Microsoft's own addresses do.
pub const DEFAULT_OUTBOUND_ADDRESS: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(40, 64, 0, 1));

/// Evaluates `req` through `topology`, using the compiled NSGs in `cache`.
pub fn evaluate(topology: &Topology, cache: &PolicyCache, req: &FlowRequest) -> Trace {
    let mut walk = Walk { topology, cache, hops: Vec::new(), depth: 0, intended: None, backend: None };
    let allowed = match req.via {
        Some(bastion) => walk.via_bastion(req, bastion),
        None => walk.start(req),
    };
    Trace { verdict: if allowed { Access::Allow } else { Access::Deny }, hops: walk.hops }
}

pub(in crate::path) struct Walk<'a> {
    pub(in crate::path) topology: &'a Topology,
    pub(in crate::path) cache: &'a PolicyCache,
    pub(in crate::path) hops: Vec<Hop>,
    /// Guards against routing loops through appliances.
    pub(in crate::path) depth: u8,
    /// The NIC a VM named as the destination is addressed as, when by its private address: the
    /// packet must arrive at that NIC, not at another NIC of another routing domain that reuses
    /// the address.
    intended: Option<NicId>,
    /// The backend member a load balancer is asked about ([`Destination::Backend`]).
    pub(in crate::path) backend: Option<NicId>,
}

pub(in crate::path) fn hop(
    kind: HopKind,
    resource: impl Into<String>,
    access: Access,
    detail: impl Into<HopDetail>,
) -> Hop {
    Hop {
        kind,
        resource: resource.into(),
        level: None,
        direction: None,
        rule: None,
        priority: None,
        access,
        detail: detail.into(),
    }
}

impl Walk<'_> {
    pub(in crate::path) fn push(
        &mut self,
        kind: HopKind,
        resource: impl Into<String>,
        access: Access,
        detail: impl Into<HopDetail>,
    ) -> bool {
        self.hops.push(hop(kind, resource, access, detail));
        access == Access::Allow
    }

    pub(in crate::path) fn deny(
        &mut self,
        kind: HopKind,
        resource: impl Into<String>,
        detail: impl Into<HopDetail>,
    ) -> bool {
        self.push(kind, resource, Access::Deny, detail)
    }

    /// Whether traffic from `from` can reach `vnet` without leaving the private network: its own
    /// VNet and peered VNets (not transitively); from on-premises, the VNet whose gateway connects
    /// it and the VNets that use that gateway through peering (gateway transit). The answer comes
    /// from the topology graph (`model::PrivateReach`).
    fn privately_reaches(&self, from: Position, vnet: VnetId) -> bool {
        let t = self.topology;
        let reach = self.cache.private_reach();
        match from {
            Position::Subnet(s) => reach.vnet_reaches(t.subnet(s).vnet, vnet),
            Position::Unmodelled(v) => reach.vnet_reaches(v, vnet),
            Position::OnPremises(v) => reach.on_premises_reaches(v, vnet),
            Position::Internet => false,
            Position::Platform => true,
        }
    }

    /// Under option `peering_access_blocks_all_traffic`, the peering that a packet from `from`
    /// to `vnet` would cross and that carries no traffic: (from's VNet, `vnet`, the VNet whose
    /// side sets `allowVirtualNetworkAccess: false`). From on-premises, that is the peering the
    /// gateway transit crosses.
    pub(in crate::path) fn blocked_peering(
        &self,
        from: Position,
        vnet: VnetId,
    ) -> Option<(VnetId, VnetId, VnetId)> {
        let t = self.topology;
        let src = match from {
            Position::Subnet(s) => t.subnet(s).vnet,
            Position::Unmodelled(v) => v,
            Position::OnPremises(v) if t.vnet(vnet).remote_gateway == Some(v) => v,
            _ => return None,
        };
        if src == vnet {
            return None;
        }
        self.cache.private_reach().blocked_by(src, vnet).map(|side| (src, vnet, side))
    }

    /// Denies at `resource` a packet that would cross the peering of `from` and `to`, which
    /// carries no traffic because `side` sets `allowVirtualNetworkAccess: false` (option
    /// `peering_access_blocks_all_traffic`). `lead` says what led the packet there.
    pub(in crate::path) fn deny_blocked_peering(
        &mut self,
        resource: impl Into<String>,
        lead: PeeringLead,
        (from, to, side): (VnetId, VnetId, VnetId),
    ) -> bool {
        let t = self.topology;
        let peering = BlockedPeering {
            from: t.vnet(from).name.clone(),
            to: t.vnet(to).name.clone(),
            side: t.vnet(side).name.clone(),
        };
        self.deny(HopKind::Route, resource, RouteDetail::PeeringBlocked { lead, peering })
    }

    /// Why `subnet` cannot use its VNet's subnet peering with `remote` (Azure's
    /// `peerCompleteVnets: false`), or `None` when it can (a listed subnet, or a peering of whole
    /// VNets). `role` says what the subnet is to the packet ("sender", "destination").
    pub(in crate::path) fn outside_subnet_peering(
        &self,
        subnet: SubnetId,
        remote: VnetId,
        role: PeeringRole,
    ) -> Option<SubnetPeeringGap> {
        let t = self.topology;
        if t.subnet_in_peering(subnet, remote) {
            return None;
        }
        let s = t.subnet(subnet);
        let listed: Vec<String> = t
            .peered_subnets(s.vnet, remote)
            .unwrap_or_default()
            .iter()
            .map(|p| t.subnet(*p).name.clone())
            .collect();
        Some(SubnetPeeringGap {
            role,
            subnet: s.name.clone(),
            vnet: t.vnet(s.vnet).name.clone(),
            remote: t.vnet(remote).name.clone(),
            listed,
        })
    }

    /// How a sender at `position` leaves for the Internet with `protocol` when it does so
    /// directly: a NIC as `path::outbound` decides; a host of a subnet that is not a modelled
    /// NIC by default outbound access unless the subnet is private.
    pub(in crate::path) fn egress(&self, source: Source, position: Position, protocol: IpProtocol) -> Egress {
        let t = self.topology;
        let subnet = match (source, position) {
            (Source::Nic(n), _) => {
                return match outbound_source(t, n, protocol) {
                    OutboundSource::NatGateway(gw) => Egress::NatGateway { gw, nic: Some(n) },
                    OutboundSource::InstancePublicIp(p) => Egress::Public(t.public_ip(p).address),
                    OutboundSource::LoadBalancer { lb, by, frontend } => {
                        Egress::LoadBalancer { nic: n, lb, by, frontend }
                    }
                    OutboundSource::DefaultOutbound => Egress::DefaultOutbound,
                    OutboundSource::None(why) => Egress::NoOutbound(why, Some(n)),
                };
            }
            (_, Position::Subnet(s)) => s,
            _ => return Egress::Keep,
        };
        match nat_gateway_source(t, subnet, protocol) {
            Some(OutboundSource::NatGateway(gw)) => return Egress::NatGateway { gw, nic: None },
            Some(OutboundSource::None(why)) => return Egress::NoOutbound(why, None),
            _ => {}
        }
        if t.subnet(subnet).default_outbound_access {
            Egress::DefaultOutbound
        } else {
            Egress::NoOutbound(NoOutbound::PrivateSubnet, None)
        }
    }

    fn start(&mut self, req: &FlowRequest) -> bool {
        let t = self.topology;
        let Some((src_ip, position)) = self.position_or_deny(req.source) else { return false };
        // A VM named as the destination is addressed privately when the source can route to it
        // privately, else through its public IP.
        let dst = match req.destination {
            Destination::Nic(n) => {
                let vnet = t.vnet_of_nic(n);
                // A peering that carries no traffic still routes the private address (its system
                // route stays): the trace then shows the peering stopping it.
                match t.nic(n).public_ip {
                    Some(p)
                        if !self.privately_reaches(position, vnet)
                            && self.blocked_peering(position, vnet).is_none() =>
                    {
                        t.public_ip(p).address
                    }
                    _ => {
                        self.intended = Some(n);
                        t.nic(n).private_ip
                    }
                }
            }
            Destination::PublicIp(p) => t.public_ip(p).address,
            Destination::Address(a) => a,
            Destination::Backend { address, nic } => {
                self.backend = Some(nic);
                address
            }
        };
        let flow = Flow::new(req.protocol, src_ip, req.src_port, dst, req.dst_port);
        if let Some(service) = platform::service_of(&flow, t)
            && let Position::Subnet(subnet) = position
        {
            match self.platform_rule_disabled_by(service, subnet) {
                Some(route) => {
                    let detail = PlatformDetail {
                        service,
                        dst: flow.dst,
                        answer: PlatformAnswer::RuleDisabledByRoute { route },
                    };
                    self.push(HopKind::Route, "Azure platform", Access::Allow, detail);
                }
                None => return self.answer_platform(req, &flow, subnet, service),
            }
        }
        // Leaving: the NIC's chain, or, for a host in a subnet that is not a modelled NIC, its
        // subnet's NSG.
        let leaves = match (req.source, position) {
            (Source::Nic(nic), _) => self.chain(&flow, nic, Direction::Outbound),
            (_, Position::Subnet(subnet)) => self.subnet_nsg(&flow, subnet, Direction::Outbound),
            _ => true,
        };
        if !leaves {
            return false;
        }
        let egress = self.egress(req.source, position, flow.protocol);
        self.deliver(flow, position, egress)
    }

    /// The user-defined 0.0.0.0/0 route of `subnet` that disables the platform rule letting
    /// `service` past the NSGs (Windows licensing), if the service has such a rule and the subnet
    /// such a route (see `platform`).
    fn platform_rule_disabled_by(&self, service: PlatformService, subnet: SubnetId) -> Option<String> {
        if service.exemption != Exemption::PlatformRule {
            return None;
        }
        let t = self.topology;
        t.route_table(t.subnet(subnet).route_table?).default_route().map(|r| r.name.clone())
    }

    /// A flow from a VM to a platform service (168.63.129.16, 169.254.169.254, KMS): the host node
    /// answers it without the NSGs, unless an outbound NSG on the path names the service's tag
    /// (see `platform`). It is not routed: user-defined routes do not take it away (except a
    /// 0.0.0.0/0 route for KMS, handled before this).
    fn answer_platform(
        &mut self,
        req: &FlowRequest,
        flow: &Flow,
        subnet: SubnetId,
        service: PlatformService,
    ) -> bool {
        let t = self.topology;
        let nsgs: Vec<crate::model::NsgId> = match req.source {
            Source::Nic(n) => [t.nic(n).nsg, t.subnet(subnet).nsg].into_iter().flatten().collect(),
            Source::Address(_) | Source::AddressAt(..) => t.subnet(subnet).nsg.into_iter().collect(),
        };
        let targeted = service.tag.filter(|tag| nsgs.iter().any(|&id| platform::targets_tag(t.nsg(id), tag)));
        let answer = match targeted {
            Some(_) => {
                let leaves = match req.source {
                    Source::Nic(n) => self.chain(flow, n, Direction::Outbound),
                    Source::Address(_) | Source::AddressAt(..) => {
                        self.subnet_nsg(flow, subnet, Direction::Outbound)
                    }
                };
                if !leaves {
                    return false;
                }
                PlatformAnswer::TagTargeted
            }
            None if service.exemption == Exemption::PlatformRule => PlatformAnswer::PlatformRule,
            None => PlatformAnswer::HostNode,
        };
        let detail = PlatformDetail { service, dst: flow.dst, answer };
        self.push(HopKind::Platform, "Azure platform", Access::Allow, detail)
    }

    /// Routes `flow` from `position` to its destination. `egress` says which public source the
    /// sender takes when it leaves for the Internet directly.
    ///
    /// A private destination is looked up where the packet is: from a subnet, by the subnet's
    /// routes; from a host of a VNet or an on-premises network, within that VNet and the VNets
    /// peered with it ([`Topology::vnet_seen_from`]). VNets outside that routing domain are never
    /// entered, whatever addresses they share with it.
    pub(in crate::path) fn deliver(&mut self, flow: Flow, position: Position, egress: Egress) -> bool {
        let t = self.topology;
        self.depth += 1;
        if self.depth > 8 {
            return self.deny(HopKind::Route, "routing", RouteDetail::Loop);
        }
        if let Some(p) = t.public_ip_by_address(flow.dst) {
            return match position {
                Position::Subnet(s) => self.route_from_subnet(flow, s, egress),
                _ => self.arrive_public(flow, p),
            };
        }
        let v = match position {
            Position::Subnet(s) => return self.route_from_subnet(flow, s, egress),
            Position::Internet => return self.deliver_from_internet(flow),
            Position::Platform => return self.deliver_from_platform(flow),
            Position::OnPremises(v) | Position::Unmodelled(v) => v,
        };
        let Some(dst_vnet) = t.vnet_seen_from(v, flow.dst) else {
            let holders: Vec<VnetId> = t.vnets_holding(flow.dst).collect();
            if holders.is_empty() {
                return self.outside_every_network(flow);
            }
            return self.deny(
                HopKind::Route,
                "routing",
                RouteDetail::NotPeered { vnet: t.vnet(v).name.clone(), holders: vnet_list(t, &holders) },
            );
        };
        let on_premises = matches!(position, Position::OnPremises(_));
        if let Some(blocked) = self.blocked_peering(position, dst_vnet) {
            let lead = if on_premises {
                PeeringLead::OnPremisesTransit {
                    vnet: t.vnet(v).name.clone(),
                    dst_vnet: t.vnet(dst_vnet).name.clone(),
                }
            } else {
                PeeringLead::Direct
            };
            return self.deny_blocked_peering("routing", lead, blocked);
        }
        if v != dst_vnet
            && self.privately_reaches(position, dst_vnet)
            && let Some(gap) = t
                .subnet_in_vnet(dst_vnet, flow.dst)
                .and_then(|d| self.outside_subnet_peering(d, v, PeeringRole::Destination))
        {
            let detail = RouteDetail::DestinationOutsideSubnetPeering {
                from: t.vnet(v).name.clone(),
                transit_to: on_premises.then(|| t.vnet(dst_vnet).name.clone()),
                gap,
            };
            return self.deny(HopKind::Route, "routing", detail);
        }
        if self.privately_reaches(position, dst_vnet) {
            let (vnet, dst_name) = (t.vnet(v).name.clone(), t.vnet(dst_vnet).name.clone());
            let how = match (on_premises, v == dst_vnet) {
                (true, true) => PrivateWay::OnPremises { vnet },
                (true, false) => PrivateWay::OnPremisesTransit { vnet, dst_vnet: dst_name },
                (false, _) => PrivateWay::Inside { vnet },
            };
            self.push(HopKind::Route, "routing", Access::Allow, RouteDetail::Private(how));
            self.arrive_private(flow, dst_vnet)
        } else if on_premises && t.vnet(v).peerings.contains(&dst_vnet) {
            self.deny(
                HopKind::Route,
                "routing",
                RouteDetail::TransitOff { vnet: t.vnet(v).name.clone(), peer: t.vnet(dst_vnet).name.clone() },
            )
        } else {
            self.deny(
                HopKind::Route,
                "routing",
                RouteDetail::NotPeered {
                    vnet: t.vnet(v).name.clone(),
                    holders: vec![t.vnet(dst_vnet).name.clone()],
                },
            )
        }
    }

    /// A packet from the Internet to an address that is not a public IP: a VNet's private address
    /// is not routable there; anything else is outside every modelled network.
    fn deliver_from_internet(&mut self, flow: Flow) -> bool {
        let t = self.topology;
        // A VM named as the destination is in its own VNet (no need to look for the others).
        let holders: Vec<VnetId> = match self.intended {
            Some(n) => vec![t.vnet_of_nic(n)],
            None => t.vnets_holding(flow.dst).collect(),
        };
        if holders.is_empty() {
            return self.outside_every_network(flow);
        }
        self.deny(
            HopKind::Route,
            "routing",
            RouteDetail::PrivateFromInternet { dst: flow.dst, holders: vnet_list(t, &holders) },
        )
    }

    /// A packet from the host platform address 168.63.129.16, which reaches every VNet: to the
    /// VNet of the VM named as the destination, or of the address when one VNet holds it.
    fn deliver_from_platform(&mut self, flow: Flow) -> bool {
        let t = self.topology;
        let holders: Vec<VnetId> = match self.intended {
            Some(n) => vec![t.vnet_of_nic(n)],
            None => t.vnets_holding(flow.dst).collect(),
        };
        let dst_vnet = match holders.as_slice() {
            [] => return self.outside_every_network(flow),
            [one] => *one,
            many => {
                let sites: Vec<Site> = many.iter().map(|v| Site::Vnet(*v)).collect();
                return self.deny(
                    HopKind::Route,
                    "routing",
                    RouteDetail::PlatformAmbiguous { dst: flow.dst, hosts: hosts_at(t, &sites, flow.dst) },
                );
            }
        };
        self.push(HopKind::Route, "routing", Access::Allow, RouteDetail::FromPlatform);
        self.arrive_private(flow, dst_vnet)
    }

    /// A packet from outside a subnet to an address no modelled network holds.
    fn outside_every_network(&mut self, flow: Flow) -> bool {
        if let Some(gw) = self.topology.nat_gateway_with_address(flow.dst) {
            return self.nat_gateway_no_inbound(flow, gw);
        }
        self.push(
            HopKind::Route,
            "routing",
            Access::Allow,
            RouteDetail::OutsideEveryNetwork { dst: flow.dst },
        )
    }

    /// Traffic from the Internet to an address of NAT gateway `gw`, which is no connection's
    /// reply (a reply is stateful and never walked): refused.
    fn nat_gateway_no_inbound(&mut self, flow: Flow, gw: crate::model::NatGatewayId) -> bool {
        let name = self.topology.nat_gateway(gw).name.clone();
        self.deny(
            HopKind::NatGateway,
            &name,
            OutboundDetail::NatGatewayNoInbound { dst: flow.dst, gateway: name.clone() },
        )
    }

    /// Traffic arriving at a public IP from the Internet.
    fn arrive_public(&mut self, flow: Flow, p: PublicIpId) -> bool {
        let t = self.topology;
        let pip = t.public_ip(p);
        if let Some(fw) = t.firewall_by_public_ip(p) {
            return self.firewall_dnat(flow, fw);
        }
        if let Some(b) = t.bastion_by_public_ip(p) {
            return self.bastion_portal(flow, b);
        }
        if let Some((lb, frontend)) = t.load_balancer_by_public_ip(p) {
            return self.through_load_balancer(flow, lb, frontend);
        }
        if let Some(gw) = t.nat_gateway_with_address(flow.dst) {
            return self.nat_gateway_no_inbound(flow, gw);
        }
        let Some((nic, private)) = t.public_ip_target(p) else {
            return self.deny(
                HopKind::PublicIp,
                &pip.name,
                HopDetail::PublicIpUnassociated { name: pip.name.clone(), address: pip.address },
            );
        };
        let config =
            t.secondary_config_at(nic, private).map(|name| (name.to_string(), t.nic(nic).name.clone()));
        self.push(
            HopKind::PublicIp,
            &pip.name,
            Access::Allow,
            HopDetail::PublicIpTranslates { address: pip.address, sku: pip.sku, private, config },
        );
        let n = t.nic(nic);
        if pip.sku == PublicIpSku::Standard && n.nsg.is_none() && t.subnet(n.subnet).nsg.is_none() {
            return self.deny(HopKind::PublicIp, &pip.name, HopDetail::PublicIpClosed);
        }
        if let Some(denied) = self.asymmetric_reply(&flow, nic) {
            return denied;
        }
        let inbound = Flow { dst: private, ..flow };
        self.chain(&inbound, nic, Direction::Inbound)
    }

    /// Replies of a connection that came in through a public address (the VM's own public IP, a
    /// public load balancer) follow the subnet's routes; a default route to an appliance sends
    /// them to the firewall, which drops them. `Some(false)` (with its hop) when that happens.
    pub(in crate::path) fn asymmetric_reply(&mut self, flow: &Flow, nic: NicId) -> Option<bool> {
        let t = self.topology;
        let n = t.nic(nic);
        let route = route::select(t, n.subnet, flow.src)?;
        let RouteHop::Appliance(ip) = route.next_hop else { return None };
        Some(self.deny(
            HopKind::Route,
            format!("subnet '{}'", t.subnet(n.subnet).name),
            RouteDetail::AsymmetricReply {
                client: flow.src,
                via: RouteVia { prefix: route.prefix, source: route.source },
                appliance: ip,
            },
        ))
    }

    /// A packet arriving at a private address of `vnet`: the inbound chain of the NIC of `vnet`
    /// that has it.
    pub(in crate::path) fn arrive_private(&mut self, flow: Flow, vnet: VnetId) -> bool {
        let t = self.topology;
        let nic = t.nic_in_vnet(vnet, flow.dst);
        if let Some(why) = self.not_the_intended_nic(&flow, vnet, nic) {
            return self.deny(HopKind::Route, "routing", why);
        }
        match nic {
            Some(nic) => self.chain(&flow, nic, Direction::Inbound),
            None if let Some((lb, frontend)) = t.load_balancer_in_vnet(vnet, flow.dst) => {
                self.through_load_balancer(flow, lb, frontend)
            }
            None if t.firewall_in_vnet(vnet, flow.dst).is_some() => {
                self.deny(HopKind::Route, "routing", RouteDetail::FirewallItself { dst: flow.dst })
            }
            None => self.push(
                HopKind::Route,
                "routing",
                Access::Allow,
                RouteDetail::UnmodelledHost {
                    dst: flow.dst,
                    elsewhere: self.elsewhere(vnet, flow.dst),
                    vnet: t.vnet(vnet).name.clone(),
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests;

//! The hop-by-hop evaluation itself.

use std::net::IpAddr;

use crate::model::{BastionId, FirewallId, NicId, PublicIpId, PublicIpSku, Site, SubnetId, Topology, VnetId};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, CompiledNsg, Direction};

use super::firewall::{self, Decision};
use super::platform::{self, Exemption, PlatformService};
use super::route::{self, Hop as RouteHop};
use super::{Hop, HopKind, Level, PolicyCache, Trace};

mod resolve;
pub use resolve::{destination_nic, destination_vnet, reply_source, sending_vnet, source_at};
use resolve::{site_labels, vnet_names};

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
enum Position {
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
enum Egress {
    /// A public IP of the sender (the VM's own, or the firewall's): the source becomes it.
    Public(IpAddr),
    /// No public IP, in a subnet with default outbound access: an implicit Microsoft address.
    DefaultOutbound,
    /// No public IP, in a private subnet (`defaultOutboundAccess` false): no way out.
    NoOutbound,
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
    let mut walk = Walk { topology, cache, hops: Vec::new(), depth: 0, intended: None };
    let allowed = match req.via {
        Some(bastion) => walk.via_bastion(req, bastion),
        None => walk.start(req),
    };
    Trace { verdict: if allowed { Access::Allow } else { Access::Deny }, hops: walk.hops }
}

struct Walk<'a> {
    topology: &'a Topology,
    cache: &'a PolicyCache,
    hops: Vec<Hop>,
    /// Guards against routing loops through appliances.
    depth: u8,
    /// The NIC a VM named as the destination is addressed as, when by its private address: the
    /// packet must arrive at that NIC, not at another NIC of another routing domain that reuses
    /// the address.
    intended: Option<NicId>,
}

fn hop(kind: HopKind, resource: impl Into<String>, access: Access, detail: impl Into<String>) -> Hop {
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
    fn push(
        &mut self,
        kind: HopKind,
        resource: impl Into<String>,
        access: Access,
        detail: impl Into<String>,
    ) -> bool {
        self.hops.push(hop(kind, resource, access, detail));
        access == Access::Allow
    }

    fn deny(&mut self, kind: HopKind, resource: impl Into<String>, detail: impl Into<String>) -> bool {
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
    fn blocked_peering(&self, from: Position, vnet: VnetId) -> Option<(VnetId, VnetId, VnetId)> {
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
    /// `peering_access_blocks_all_traffic`). `prefix` goes before the explanation.
    fn deny_blocked_peering(
        &mut self,
        resource: impl Into<String>,
        prefix: &str,
        (from, to, side): (VnetId, VnetId, VnetId),
    ) -> bool {
        let t = self.topology;
        let (a, b, side) = (&t.vnet(from).name, &t.vnet(to).name, &t.vnet(side).name);
        let detail = format!(
            "{prefix}the peering {a}->{b} blocks virtual network access (allowVirtualNetworkAccess false on {side}'s side) and carries no traffic either way: option peering_access_blocks_all_traffic follows Microsoft's older peering documentation (\"When this setting is disabled, traffic doesn't flow between the peered virtual networks\"); without the option only {side}'s VirtualNetwork tag changes, as the current documentation says"
        );
        self.deny(HopKind::Route, resource, detail)
    }

    /// Why `subnet` cannot use its VNet's subnet peering with `remote` (Azure's
    /// `peerCompleteVnets: false`), or `None` when it can (a listed subnet, or a peering of whole
    /// VNets). `role` says what the subnet is to the packet ("sender", "destination").
    fn outside_subnet_peering(&self, subnet: SubnetId, remote: VnetId, role: &str) -> Option<String> {
        let t = self.topology;
        if t.subnet_in_peering(subnet, remote) {
            return None;
        }
        let s = t.subnet(subnet);
        let (here, there) = (&t.vnet(s.vnet).name, &t.vnet(remote).name);
        let listed: Vec<&str> = t
            .peered_subnets(s.vnet, remote)
            .unwrap_or_default()
            .iter()
            .map(|p| t.subnet(*p).name.as_str())
            .collect();
        Some(format!(
            "the {role}'s subnet '{}' of '{here}' is not in the subnet peering {here}<->{there} (peerCompleteVnets false; peered subnets of '{here}': {})",
            s.name,
            listed.join(", ")
        ))
    }

    /// How a sender at `position` leaves for the Internet when it does so directly.
    fn egress(&self, source: Source, position: Position) -> Egress {
        let t = self.topology;
        let subnet = match (source, position) {
            (Source::Nic(n), _) => {
                if let Some(p) = t.nic(n).public_ip {
                    return Egress::Public(t.public_ip(p).address);
                }
                t.nic(n).subnet
            }
            (_, Position::Subnet(s)) => s,
            _ => return Egress::Keep,
        };
        if t.subnet(subnet).default_outbound_access { Egress::DefaultOutbound } else { Egress::NoOutbound }
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
        };
        let flow = Flow::new(req.protocol, src_ip, req.src_port, dst, req.dst_port);
        if let Some(service) = platform::service_of(&flow, t)
            && let Position::Subnet(subnet) = position
        {
            match self.platform_rule_disabled_by(service, subnet) {
                Some(route) => {
                    let detail = format!(
                        "{} at {}: the platform rule that lets it past the NSGs is disabled by route '{route}' (0.0.0.0/0) of this subnet, so the flow is filtered and routed like any other ({}; reading a user-defined 0.0.0.0/0 route as that configuration is a model choice)",
                        service.name,
                        flow.dst,
                        platform::KMS_SOURCE
                    );
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
        let egress = self.egress(req.source, position);
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
        let detail = match targeted {
            Some(tag) => {
                let leaves = match req.source {
                    Source::Nic(n) => self.chain(flow, n, Direction::Outbound),
                    Source::Address(_) | Source::AddressAt(..) => {
                        self.subnet_nsg(flow, subnet, Direction::Outbound)
                    }
                };
                if !leaves {
                    return false;
                }
                format!(
                    "{} at {} answers; the NSGs evaluated this flow because a rule on the path names the {tag} service tag",
                    service.name, flow.dst
                )
            }
            None if service.exemption == Exemption::PlatformRule => format!(
                "{} at {} is let out by a platform rule without NSG evaluation ({}); an outbound deny rule to the {} service tag would block it, and a user-defined 0.0.0.0/0 route in the subnet would disable the platform rule",
                service.name,
                flow.dst,
                platform::KMS_SOURCE,
                platform::KMS_TAG
            ),
            None => format!(
                "{} at {} is answered by the host node without NSG evaluation ({}){}",
                service.name,
                flow.dst,
                platform::SOURCE,
                match service.tag {
                    Some(tag) => format!("; an outbound deny rule to the {tag} service tag would block it"),
                    None => String::new(),
                }
            ),
        };
        self.push(HopKind::Platform, "Azure platform", Access::Allow, detail)
    }

    /// Routes `flow` from `position` to its destination. `egress` says which public source the
    /// sender takes when it leaves for the Internet directly.
    ///
    /// A private destination is looked up where the packet is: from a subnet, by the subnet's
    /// routes; from a host of a VNet or an on-premises network, within that VNet and the VNets
    /// peered with it ([`Topology::vnet_seen_from`]). VNets outside that routing domain are never
    /// entered, whatever addresses they share with it.
    fn deliver(&mut self, flow: Flow, position: Position, egress: Egress) -> bool {
        let t = self.topology;
        self.depth += 1;
        if self.depth > 8 {
            return self.deny(HopKind::Route, "routing", "routing loop: more than 8 appliance hops");
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
                format!(
                    "vnet '{}' is not peered with {} (peering is not transitive)",
                    t.vnet(v).name,
                    vnet_names(t, &holders)
                ),
            );
        };
        let on_premises = matches!(position, Position::OnPremises(_));
        if let Some(blocked) = self.blocked_peering(position, dst_vnet) {
            let prefix = if on_premises {
                format!(
                    "the on-premises network behind the gateway of vnet '{}' reaches vnet '{}' through gateway transit, over the peering; ",
                    t.vnet(v).name,
                    t.vnet(dst_vnet).name
                )
            } else {
                String::new()
            };
            return self.deny_blocked_peering("routing", &prefix, blocked);
        }
        if v != dst_vnet
            && self.privately_reaches(position, dst_vnet)
            && let Some(why) = t
                .subnet_in_vnet(dst_vnet, flow.dst)
                .and_then(|d| self.outside_subnet_peering(d, v, "destination"))
        {
            let how = if on_premises {
                format!(
                    "the on-premises network behind the gateway of vnet '{}' reaches vnet '{}' through gateway transit, over the peering, and only its peered subnets: Microsoft, subnet peering \"prevents unnecessary exposure of the entire virtual network address space through gateways to on-premises environments\"",
                    t.vnet(v).name,
                    t.vnet(dst_vnet).name
                )
            } else {
                format!("from vnet '{}' over the peering", t.vnet(v).name)
            };
            return self.deny(HopKind::Route, "routing", format!("{how}; {why}"));
        }
        if self.privately_reaches(position, dst_vnet) {
            let how = match (on_premises, v == dst_vnet) {
                (true, true) => {
                    format!("on-premises network connected to vnet '{}' through its gateway", t.vnet(v).name)
                }
                (true, false) => format!(
                    "on-premises network connected to vnet '{}' through its gateway; vnet '{}' uses that gateway through peering (gateway transit)",
                    t.vnet(v).name,
                    t.vnet(dst_vnet).name
                ),
                (false, _) => format!("inside vnet '{}'", t.vnet(v).name),
            };
            self.push(HopKind::Route, "routing", Access::Allow, how);
            self.arrive_private(flow, dst_vnet)
        } else if on_premises && t.vnet(v).peerings.contains(&dst_vnet) {
            self.deny(
                HopKind::Route,
                "routing",
                format!(
                    "the on-premises network behind the gateway of vnet '{}' reaches peered vnet '{}' only through gateway transit, which is off (in Azure: 'allow gateway transit' on {}'s peering and 'use remote gateways' on {}'s; scenario: Peering(vnets: (\"{}\", \"{}\"), allow_gateway_transit: true, use_remote_gateways: true))",
                    t.vnet(v).name,
                    t.vnet(dst_vnet).name,
                    t.vnet(v).name,
                    t.vnet(dst_vnet).name,
                    t.vnet(v).name,
                    t.vnet(dst_vnet).name
                ),
            )
        } else {
            self.deny(
                HopKind::Route,
                "routing",
                format!(
                    "vnet '{}' is not peered with vnet '{}' (peering is not transitive)",
                    t.vnet(v).name,
                    t.vnet(dst_vnet).name
                ),
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
            format!(
                "{} is a private address in {}: not routable from the Internet",
                flow.dst,
                vnet_names(t, &holders)
            ),
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
                    format!(
                        "168.63.129.16 reaches every VNet, and {} is an address of more than one: {}; name the VM to say which",
                        flow.dst,
                        site_labels(t, &sites, flow.dst)
                    ),
                );
            }
        };
        self.push(
            HopKind::Route,
            "routing",
            Access::Allow,
            "from the host platform address 168.63.129.16, which reaches every VNet; traffic from it is the Azure Load Balancer's health probe, which NSGs filter (the AzureLoadBalancer tag, AllowAzureLoadBalancerInBound)",
        );
        self.arrive_private(flow, dst_vnet)
    }

    /// A packet from outside a subnet to an address no modelled network holds.
    fn outside_every_network(&mut self, flow: Flow) -> bool {
        self.push(
            HopKind::Route,
            "routing",
            Access::Allow,
            format!("{} is outside every modelled network", flow.dst),
        )
    }

    fn route_from_subnet(&mut self, flow: Flow, subnet: SubnetId, egress: Egress) -> bool {
        let t = self.topology;
        let s = t.subnet(subnet);
        let where_ = format!("subnet '{}/{}'", t.vnet(s.vnet).name, s.name);
        let Some(selected) = route::select(t, subnet, flow.dst) else {
            return self.deny(HopKind::Route, where_, format!("no route to {}", flow.dst));
        };
        let via = format!("{} via {}", selected.prefix, selected.source);
        match selected.next_hop {
            RouteHop::Drop => {
                self.deny(HopKind::Route, where_, format!("{via}: next hop None drops the traffic"))
            }
            RouteHop::Vnet(v) => {
                if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), v) {
                    return self.deny_blocked_peering(where_, &format!("to {}: {via}; ", flow.dst), blocked);
                }
                if v != s.vnet
                    && let Some(why) = self.outside_subnet_peering(subnet, v, "sender")
                {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "to {}: {via}; {why}: Azure gives every subnet the route to the remote peered subnets, but Microsoft: \"the nonpeered subnets can send packet to destination node in the peered subnet, although the packet is dropped and doesn't reach the virtual machine\"",
                            flow.dst
                        ),
                    );
                }
                self.push(HopKind::Route, where_, Access::Allow, format!("to {}: {via}", flow.dst));
                // The route names the VNet: the address is looked up there, never in another
                // VNet that reuses it (a user route to VnetLocal may name a prefix outside it).
                if !t.vnet_holds(v, flow.dst) {
                    return self.deny(
                        HopKind::Route,
                        "routing",
                        format!("{} is not in vnet '{}'", flow.dst, t.vnet(v).name),
                    );
                }
                self.arrive_private(flow, v)
            }
            RouteHop::Gateway => {
                // Through a remote gateway (gateway transit), the packet crosses the peering.
                if let Some(remote) = t.vnet(s.vnet).remote_gateway {
                    if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), remote) {
                        return self.deny_blocked_peering(
                            where_,
                            &format!("to {}: {via}; ", flow.dst),
                            blocked,
                        );
                    }
                    if let Some(why) = self.outside_subnet_peering(subnet, remote, "sender") {
                        return self.deny(
                            HopKind::Route,
                            where_,
                            format!(
                                "to {}: {via}; {why}: the remote gateway is reached over the peering, and a subnet outside a subnet peering is not advertised to on-premises and its packets over the peering are dropped (model choice, docs/fidelity.md)",
                                flow.dst
                            ),
                        );
                    }
                }
                self.push(
                    HopKind::Route,
                    where_,
                    Access::Allow,
                    format!("to {}: {via}; leaves through the gateway to on-premises", flow.dst),
                )
            }
            RouteHop::Internet => {
                if let Some(dst_vnet) = t.vnet_seen_from(s.vnet, flow.dst).filter(|d| *d != s.vnet)
                    && t.peered_subnets(dst_vnet, s.vnet).is_some()
                    && selected.source == "system (Internet)"
                {
                    let (here, there) = (&t.vnet(s.vnet).name, &t.vnet(dst_vnet).name);
                    let what = match t.subnet_in_vnet(dst_vnet, flow.dst) {
                        Some(d) => format!("subnet '{}' of '{there}'", t.subnet(d).name),
                        None => format!("an address of '{there}' in no modelled subnet"),
                    };
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{} is in {what}, which is not in the subnet peering {here}<->{there} (peerCompleteVnets false): Azure routes only the peered subnets' prefixes over it, so the default route sends it to the Internet, where private addresses are dropped",
                            flow.dst
                        ),
                    );
                }
                let holders: Vec<VnetId> = t.vnets_holding(flow.dst).collect();
                if holders.contains(&s.vnet) {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{via}: {} is in the address space of vnet '{}' itself, and this route sends it to the Internet, where private addresses are dropped",
                            flow.dst,
                            t.vnet(s.vnet).name
                        ),
                    );
                }
                if !holders.is_empty() {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{} is in {}, which {} not peered with vnet '{}'; the default route sends it to the Internet, where private addresses are dropped{}",
                            flow.dst,
                            vnet_names(t, &holders),
                            if holders.len() == 1 { "is" } else { "are" },
                            t.vnet(s.vnet).name,
                            peering_hint(self.cache, s.vnet, &holders)
                        ),
                    );
                }
                if !crate::model::internet_space().contains(flow.dst) {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{via}: {} is a private address outside every connected network; the Internet drops it",
                            flow.dst
                        ),
                    );
                }
                let (src, how) = match egress {
                    Egress::Public(a) if a == flow.src => (a, String::new()),
                    Egress::Public(a) => {
                        (a, format!("; outbound SNAT: the source becomes the public IP {a}"))
                    }
                    Egress::DefaultOutbound => (
                        DEFAULT_OUTBOUND_ADDRESS,
                        format!(
                            "; no public IP, so default outbound access: the source becomes an implicit Microsoft public address (nsgsim shows it as {DEFAULT_OUTBOUND_ADDRESS}; model choice, see docs/fidelity.md)"
                        ),
                    ),
                    Egress::NoOutbound => {
                        return self.deny(
                            HopKind::Route,
                            where_,
                            format!(
                                "{via}: the subnet is private (default_outbound_access: false) and the sender has no public IP, so it has no outbound Internet connectivity; add a public IP, a NAT gateway or a route to a firewall"
                            ),
                        );
                    }
                    Egress::Keep => (flow.src, String::new()),
                };
                self.push(HopKind::Route, where_, Access::Allow, format!("to {}: {via}{how}", flow.dst));
                let out = Flow { src, ..flow };
                match t.public_ip_by_address(flow.dst) {
                    Some(p) => self.arrive_public(out, p),
                    None => true,
                }
            }
            RouteHop::Appliance(ip) => {
                // The next hop is an address of this VNet or a VNet peered with it, looked up
                // there: an appliance of a VNet in another routing domain is not reached.
                let Some(fw) = t.vnet_seen_from(s.vnet, ip).and_then(|v| t.firewall_in_vnet(v, ip)) else {
                    return self.deny(HopKind::Route, where_, self.no_appliance_at(s.vnet, ip, &via));
                };
                let fw_vnet = t.subnet(t.firewall(fw).subnet).vnet;
                if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), fw_vnet) {
                    return self.deny_blocked_peering(
                        where_,
                        &format!("to {}: {via} (Azure Firewall '{}'); ", flow.dst, t.firewall(fw).name),
                        blocked,
                    );
                }
                if fw_vnet != s.vnet {
                    let fw_subnet = t.firewall(fw).subnet;
                    let why = self
                        .outside_subnet_peering(subnet, fw_vnet, "sender")
                        .or_else(|| self.outside_subnet_peering(fw_subnet, s.vnet, "appliance"));
                    if let Some(why) = why {
                        return self.deny(
                            HopKind::Route,
                            where_,
                            format!(
                                "to {}: {via} (Azure Firewall '{}'); {why}: the next hop is reached over the peering, which drops the packet (model choice, docs/fidelity.md)",
                                flow.dst,
                                t.firewall(fw).name
                            ),
                        );
                    }
                }
                self.push(
                    HopKind::Route,
                    where_,
                    Access::Allow,
                    format!("to {}: {via} (Azure Firewall '{}')", flow.dst, t.firewall(fw).name),
                );
                self.through_firewall(flow, fw)
            }
        }
    }

    /// Traffic routed to the firewall's private address: network and application rules, then on.
    fn through_firewall(&mut self, flow: Flow, fw: FirewallId) -> bool {
        let t = self.topology;
        let f = t.firewall(fw);
        let name = f.name.clone();
        let application = match firewall::filter(f, &flow) {
            Decision::Allow { rule, application } => {
                self.hops.push(Hop {
                    rule: Some(rule.clone()),
                    ..hop(
                        HopKind::Firewall,
                        &name,
                        Access::Allow,
                        format!("Azure Firewall '{name}': rule {rule} allows {flow}"),
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
                        format!("Azure Firewall '{name}': rule {rule} denies {flow}"),
                    )
                });
                return false;
            }
            Decision::DefaultDeny | Decision::Dnat { .. } => {
                return self.deny(HopKind::Firewall, &name, format!("Azure Firewall '{name}': no network or application rule matches {flow}; the firewall denies by default"));
            }
        };
        // Leaving the firewall: to the Internet with its public IP; on to a private address with
        // the source kept after a network rule ("Azure Firewall doesn't SNAT when the destination
        // IP address is a private IP range"), but with the firewall's own address after an
        // application rule ("traffic processed by application rules are always SNAT-ed", FAQ).
        let egress = match f.public_ip {
            Some(p) => Egress::Public(t.public_ip(p).address),
            None => Egress::Keep,
        };
        let fw_vnet = t.subnet(f.subnet).vnet;
        let leaving_to_internet =
            t.vnet_seen_from(fw_vnet, flow.dst).is_none() && t.gateway_seen_from(fw_vnet, flow.dst).is_none();
        let out = match egress {
            Egress::Public(a) if leaving_to_internet => Flow { src: a, ..flow },
            _ if application => {
                if let Some(last) = self.hops.last_mut() {
                    last.detail.push_str(&format!(
                        "; application rules always SNAT, so the source becomes {} (AzureFirewallSubnet)",
                        f.private_ip
                    ));
                }
                Flow { src: f.private_ip, ..flow }
            }
            _ => flow,
        };
        self.deliver(out, Position::Subnet(f.subnet), egress)
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
        let Some(nic) = pip.nic else {
            return self.deny(
                HopKind::PublicIp,
                &pip.name,
                format!("public IP '{}' ({}) is not associated with anything", pip.name, pip.address),
            );
        };
        let private = t.nic(nic).private_ip;
        self.push(
            HopKind::PublicIp,
            &pip.name,
            Access::Allow,
            format!(
                "{} ({:?} SKU) translates to {private}; inbound NSGs see the private address",
                pip.address, pip.sku
            ),
        );
        let n = t.nic(nic);
        if pip.sku == PublicIpSku::Standard && n.nsg.is_none() && t.subnet(n.subnet).nsg.is_none() {
            return self.deny(
                HopKind::PublicIp,
                &pip.name,
                "a Standard public IP is closed to inbound traffic unless an NSG allows it, and neither the subnet nor the NIC has an NSG",
            );
        }
        // Replies of a connection that came in through the VM's own public IP follow the subnet's
        // routes; a default route to an appliance sends them to the firewall, which drops them.
        if let Some(route) = route::select(t, n.subnet, flow.src)
            && let RouteHop::Appliance(ip) = route.next_hop
        {
            return self.deny(
                HopKind::Route,
                format!("subnet '{}'", t.subnet(n.subnet).name),
                format!("asymmetric routing: replies to {} would follow {} via {} to appliance {ip}, which drops them (model choice; see docs/fidelity.md)", flow.src, route.prefix, route.source),
            );
        }
        let inbound = Flow { dst: private, ..flow };
        self.chain(&inbound, nic, Direction::Inbound)
    }

    /// DNAT on the firewall's public IP.
    fn firewall_dnat(&mut self, flow: Flow, fw: FirewallId) -> bool {
        let t = self.topology;
        let f = t.firewall(fw);
        let name = f.name.clone();
        let Some(Decision::Dnat { rule, address, port }) = firewall::dnat(f, &flow) else {
            return self.deny(
                HopKind::Firewall,
                &name,
                format!("Azure Firewall '{name}': no DNAT rule for {flow}; the firewall denies by default"),
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
                format!(
                    "Azure Firewall '{name}': DNAT rule {rule} translates {}:{} to {address}:{port}; the source becomes {} (AzureFirewallSubnet){}",
                    flow.dst,
                    flow.dst_port,
                    f.private_ip,
                    if rule.contains("/JIT-") {
                        ". This is a JIT rule: the VM's NSGs see the firewall's address, so a JIT NSG rule for the requester's IP does not match (reported by users, azure-docs#46777)"
                    } else {
                        ""
                    }
                ),
            )
        });
        if f.legacy_dnat
            && let Some(deny_rule) = firewall::legacy_network_deny(f, &translated)
        {
            self.hops.push(Hop {
                rule: Some(deny_rule.clone()),
                ..hop(HopKind::Firewall, &name, Access::Deny, format!("Azure Firewall '{name}': network rule {deny_rule} overrides the implicit DNAT allow (option firewall_dnat_legacy_network_rules, older documentation)"))
            });
            return false;
        }
        let egress = match f.public_ip {
            Some(p) => Egress::Public(t.public_ip(p).address),
            None => Egress::Keep,
        };
        self.deliver(translated, Position::Subnet(f.subnet), egress)
    }

    /// A user reaching the Bastion host's portal on 443.
    fn bastion_portal(&mut self, flow: Flow, b: BastionId) -> bool {
        let t = self.topology;
        let bastion = t.bastion(b);
        let name = bastion.name.clone();
        if flow.protocol != IpProtocol::TCP || flow.dst_port != 443 {
            return self.deny(
                HopKind::Bastion,
                &name,
                format!("Azure Bastion '{name}' accepts connections on TCP 443 only"),
            );
        }
        self.push(
            HopKind::Bastion,
            &name,
            Access::Allow,
            format!("{} connects to Azure Bastion '{name}' on 443", flow.src),
        );
        let inbound = Flow { dst: bastion.private_ip, ..flow };
        self.subnet_nsg(&inbound, bastion.subnet, Direction::Inbound)
    }

    /// A session through Bastion: user → Bastion on 443, then Bastion → target's private IP.
    fn via_bastion(&mut self, req: &FlowRequest, b: BastionId) -> bool {
        let t = self.topology;
        let bastion = t.bastion(b);
        let name = bastion.name.clone();
        let Some((src_ip, position)) = self.position_or_deny(req.source) else { return false };
        let Some(pip) = bastion.public_ip else {
            return self.deny(HopKind::Bastion, &name, format!("Azure Bastion '{name}' has no public IP"));
        };
        let portal = Flow::new(IpProtocol::TCP, src_ip, req.src_port, t.public_ip(pip).address, 443);
        if !self.deliver(portal, position, self.egress(req.source, position)) {
            return false;
        }
        self.depth = 0;
        // Bastion connects to a private IP as its own VNet sees it (it and the VNets peered with
        // it); an address outside them that one NIC has is that NIC, and is refused below.
        let target = match req.destination {
            Destination::Nic(n) => Some(n),
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
                format!("Azure Bastion opens RDP (TCP 3389) and SSH (TCP 22) sessions; {} port {} is not one (custom ports need the Standard SKU, not modelled)", req.protocol, req.dst_port),
            );
        }
        let target_vnet = t.vnet_of_nic(target);
        if let Some(blocked) = self.blocked_peering(Position::Subnet(bastion.subnet), target_vnet) {
            let prefix = format!("Azure Bastion '{name}' reaches VMs in peered VNets over the peering; ");
            return self.deny_blocked_peering(name, &prefix, blocked);
        }
        if target_vnet != bastion.vnet {
            let why = self
                .outside_subnet_peering(bastion.subnet, target_vnet, "Bastion host")
                .or_else(|| self.outside_subnet_peering(t.nic(target).subnet, bastion.vnet, "destination"));
            if let Some(why) = why {
                return self.deny(
                    HopKind::Bastion,
                    &name,
                    format!(
                        "Azure Bastion '{name}' reaches VMs in peered VNets over the peering; {why} (model choice, docs/fidelity.md: Bastion's session starts in AzureBastionSubnet, so both it and the VM's subnet must be in the subnet peering)"
                    ),
                );
            }
        }
        if !self.cache.private_reach().vnet_reaches(bastion.vnet, target_vnet) {
            return self.deny(
                HopKind::Bastion,
                &name,
                format!(
                    "Azure Bastion '{name}' reaches VMs in vnet '{}' and peered VNets; vnet '{}' is neither",
                    t.vnet(bastion.vnet).name,
                    t.vnet(target_vnet).name
                ),
            );
        }
        let session =
            Flow::new(req.protocol, bastion.private_ip, req.src_port, t.nic(target).private_ip, req.dst_port);
        self.push(
            HopKind::Bastion,
            &name,
            Access::Allow,
            format!(
                "Azure Bastion '{name}' opens the session from {} (AzureBastionSubnet) to {}:{}",
                bastion.private_ip, session.dst, session.dst_port
            ),
        );
        if !self.subnet_nsg(&session, bastion.subnet, Direction::Outbound) {
            return false;
        }
        self.arrive_private(session, target_vnet)
    }

    /// A packet arriving at a private address of `vnet`: the inbound chain of the NIC of `vnet`
    /// that has it.
    fn arrive_private(&mut self, flow: Flow, vnet: VnetId) -> bool {
        let t = self.topology;
        let nic = t.nic_in_vnet(vnet, flow.dst);
        if let Some(why) = self.not_the_intended_nic(&flow, vnet, nic) {
            return self.deny(HopKind::Route, "routing", why);
        }
        match nic {
            Some(nic) => self.chain(&flow, nic, Direction::Inbound),
            None if t.firewall_in_vnet(vnet, flow.dst).is_some() => self.deny(
                HopKind::Route,
                "routing",
                format!(
                    "{} is the firewall's own address; traffic to the firewall itself is not modelled",
                    flow.dst
                ),
            ),
            None => self.push(
                HopKind::Route,
                "routing",
                Access::Allow,
                format!(
                    "{} is an unmodelled host in the VNet; no NSG of its is known{}",
                    flow.dst,
                    self.elsewhere_note(vnet, flow.dst)
                ),
            ),
        }
    }

    /// The NSG chain of a NIC: inbound subnet then NIC, outbound NIC then subnet.
    fn chain(&mut self, flow: &Flow, nic: NicId, direction: Direction) -> bool {
        let levels = match direction {
            Direction::Inbound => [Level::Subnet, Level::Nic],
            Direction::Outbound => [Level::Nic, Level::Subnet],
        };
        levels.into_iter().all(|level| self.level(flow, nic, level, direction))
    }

    /// The NSG of a subnet that holds no modelled NIC (Bastion's subnet).
    fn subnet_nsg(&mut self, flow: &Flow, subnet: SubnetId, direction: Direction) -> bool {
        let t = self.topology;
        let s = t.subnet(subnet);
        let where_ = format!("subnet '{}/{}'", t.vnet(s.vnet).name, s.name);
        self.nsg_hop(flow, s.nsg, subnet, Level::Subnet, direction, where_)
    }

    fn level(&mut self, flow: &Flow, nic: NicId, level: Level, direction: Direction) -> bool {
        let t = self.topology;
        let n = t.nic(nic);
        let (nsg, where_) = match level {
            Level::Nic => (n.nsg, format!("nic '{}'", n.name)),
            Level::Subnet => {
                let s = t.subnet(n.subnet);
                (s.nsg, format!("subnet '{}/{}'", t.vnet(s.vnet).name, s.name))
            }
        };
        self.nsg_hop(flow, nsg, n.subnet, level, direction, where_)
    }

    fn nsg_hop(
        &mut self,
        flow: &Flow,
        nsg: Option<crate::model::NsgId>,
        subnet: SubnetId,
        level: Level,
        direction: Direction,
        where_: String,
    ) -> bool {
        let t = self.topology;
        let Some(nsg) = nsg else {
            self.hops.push(Hop {
                level: Some(level),
                direction: Some(direction),
                ..hop(
                    HopKind::NoNsg,
                    where_.clone(),
                    Access::Allow,
                    format!(
                        "{where_} has no NSG: {} traffic passes this level",
                        direction.to_string().to_lowercase()
                    ),
                )
            });
            return true;
        };
        let name = t.nsg(nsg).name.clone();
        // The cache normally holds every association; compiling on a miss keeps the answer
        // right even if a caller forgot to refresh it.
        let fresh;
        let compiled = match self.cache.get(t, nsg, subnet, direction) {
            Some(c) => c,
            None => {
                fresh = CompiledNsg::compile(t.nsg(nsg), direction, &t.resolve_context_for_subnet(subnet));
                &fresh
            }
        };
        let hit = compiled.evaluate(flow);
        let access = hit.rule.access;
        let verb = match access {
            Access::Allow => "allows",
            Access::Deny => "denies",
        };
        let note = match access {
            Access::Deny => self.peering_tag_note(flow, subnet, direction),
            Access::Allow => String::new(),
        };
        self.hops.push(Hop {
            kind: HopKind::Nsg,
            resource: name.clone(),
            level: Some(level),
            direction: Some(direction),
            rule: Some(hit.rule.azure_name()),
            priority: Some(hit.rule.priority.0),
            access,
            detail: format!(
                "NSG '{name}' on {where_} ({direction}): {} {verb} (priority {}){note}",
                hit.rule.azure_name(),
                hit.rule.priority
            ),
        });
        access == Access::Allow
    }

    /// Why a denied flow to or from a peered VNet missed the `VirtualNetwork` rules: the NSG's
    /// own VNet sets `allowVirtualNetworkAccess: false` on its peering to that VNet, which takes
    /// the remote spaces out of its `VirtualNetwork` tag (Microsoft: the setting "only changes the
    /// definition of the VirtualNetwork service tag"). Empty when that is not the case.
    fn peering_tag_note(&self, flow: &Flow, subnet: SubnetId, direction: Direction) -> String {
        let t = self.topology;
        let here = t.subnet(subnet).vnet;
        let remote = match direction {
            Direction::Inbound => flow.src,
            Direction::Outbound => flow.dst,
        };
        let Some(peer) = t.vnet_seen_from(here, remote) else { return String::new() };
        if peer == here
            || !t.vnet(here).peerings.contains(&peer)
            || t.virtual_network_tag_contains(subnet, remote)
        {
            return String::new();
        }
        if t.peered_subnets(peer, here).is_some()
            && !t.peered_prefixes(here, peer).iter().any(|n| n.contains(&remote))
        {
            let (h, p) = (&t.vnet(here).name, &t.vnet(peer).name);
            let what = match t.subnet_in_vnet(peer, remote) {
                Some(d) => format!("subnet '{}' of '{p}'", t.subnet(d).name),
                None => format!("no modelled subnet of '{p}'"),
            };
            return format!(
                "; {remote} is not in this NSG's VirtualNetwork tag: it is in {what}, which is not in the subnet peering {h}<->{p} (peerCompleteVnets false), and only the peered subnets' prefixes join vnet '{h}''s VirtualNetwork tag (model choice, docs/fidelity.md)"
            );
        }
        if t.allows_virtual_network_access(here, peer) {
            return String::new();
        }
        let (h, p) = (&t.vnet(here).name, &t.vnet(peer).name);
        let default_rule = match direction {
            Direction::Inbound => "AllowVnetInBound",
            Direction::Outbound => "AllowVnetOutBound",
        };
        let then = if t.peering_access_blocks_all_traffic() {
            "; under option peering_access_blocks_all_traffic the peering carries no traffic anyway"
        } else {
            "; a rule naming its prefix still lets it through (Microsoft: the setting \"only changes the definition of the VirtualNetwork service tag\")"
        };
        format!(
            "; {remote} (vnet '{p}') is not in this NSG's VirtualNetwork tag: the peering {h}->{p} blocks virtual network access (allowVirtualNetworkAccess false on {h}'s side), which leaves vnet '{p}' out of the VirtualNetwork tag of vnet '{h}', so {default_rule} and rules naming VirtualNetwork do not match it{then}"
        )
    }
}

/// "; the VNets connect only through a, b: peering is not transitive, so add a UDR to an
/// appliance there or peer them directly", found on the topology graph: the shortest chain of
/// peerings from `from` to one of the VNets holding the destination (`holders`).
fn peering_hint(cache: &PolicyCache, from: VnetId, holders: &[VnetId]) -> String {
    let reach = cache.private_reach();
    match holders.iter().filter_map(|to| reach.peering_path(from, *to)).min_by_key(Vec::len) {
        Some(path) if path.len() > 2 => format!(
            "; the VNets connect only through {} ({}): peering is not transitive, so route through an appliance there (a UDR) or peer them directly",
            path[1..path.len() - 1].join(", "),
            path.join(" - ")
        ),
        _ => " (peering is not transitive)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Firewall, FirewallMode, NextHop, Route, RouteTable, RuleCollection, RuleCollectionGroup,
    };
    use crate::net::{AddrSet, ProtocolSet};
    use crate::nsg::{AddressSpec, Direction::*, RuleProtocol::Tcp};
    use crate::path::testing::{ip, net, nsg, prefix, rule, run, tag, tcp, tcp_firewall, vm};

    /// The rule names of the NSG hops, in order.
    fn rules(trace: &Trace) -> Vec<String> {
        trace.hops.iter().filter_map(|h| h.rule.clone()).collect()
    }

    #[test]
    fn public_ip_is_translated_before_the_inbound_nsgs() {
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "web", net("10.0.1.0/24")).expect("subnet");
        let web = vm(&mut t, "web", s, "10.0.1.4", Some("20.1.1.1"));
        // Keyed on the public address: never matches, inbound NSGs see the private one.
        let public_rule = rule(
            "ssh-to-public",
            100,
            Inbound,
            Access::Allow,
            Tcp,
            (AddressSpec::Any, prefix("20.1.1.1")),
            "22",
        );
        let private_rule = rule(
            "ssh-to-private",
            110,
            Inbound,
            Access::Allow,
            Tcp,
            (AddressSpec::Any, prefix("10.0.1.4")),
            "22",
        );
        let id = nsg(&mut t, "web-nsg", vec![public_rule, private_rule]);
        t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
        let trace = run(&t, tcp(Source::Address(ip("198.51.100.7")), Destination::Nic(web), 22));
        assert_eq!(trace.verdict, Access::Allow);
        assert_eq!(trace.hops[0].kind, HopKind::PublicIp);
        assert_eq!(rules(&trace), ["securityRules/ssh-to-private"]);
    }

    #[test]
    fn outbound_nsgs_see_the_private_source_before_translation_and_the_receiver_the_public_one() {
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "app", net("10.0.1.0/24")).expect("subnet");
        let a = vm(&mut t, "a", s, "10.0.1.4", Some("20.1.1.1"));
        let b = vm(&mut t, "b", s, "10.0.1.5", Some("20.1.1.2"));
        let out_private = rule(
            "out-from-private",
            100,
            Outbound,
            Access::Allow,
            Tcp,
            (prefix("10.0.1.4"), AddressSpec::Any),
            "22",
        );
        let in_from_a = rule(
            "in-from-a-public",
            100,
            Inbound,
            Access::Allow,
            Tcp,
            (prefix("20.1.1.1"), AddressSpec::Any),
            "22",
        );
        let id = nsg(&mut t, "app-nsg", vec![out_private, in_from_a]);
        t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
        let b_pip = t.nic(b).public_ip.expect("b has a public IP");
        let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        assert_eq!(rules(&trace), ["securityRules/out-from-private", "securityRules/in-from-a-public"]);
    }

    #[test]
    fn a_vm_without_a_public_ip_reaches_public_addresses_through_default_outbound_access() {
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "app", net("10.0.1.0/24")).expect("subnet");
        let a = vm(&mut t, "a", s, "10.0.1.4", None);
        let b = vm(&mut t, "b", s, "10.0.1.5", Some("20.1.1.2"));
        let id = nsg(&mut t, "app-nsg", vec![]);
        t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
        let b_pip = t.nic(b).public_ip.expect("b has a public IP");
        // The receiver sees a public source: AllowVnetInBound does not apply, DenyAllInBound does.
        let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
        assert_eq!(trace.verdict, Access::Deny);
        assert_eq!(
            trace.deciding_hop().and_then(|h| h.rule.clone()).as_deref(),
            Some("defaultSecurityRules/DenyAllInBound")
        );
        let route = trace.hops.iter().find(|h| h.kind == HopKind::Route).expect("a route hop");
        assert!(route.detail.contains("default outbound access"), "{}", route.detail);
        // An Internet rule admits it, with the stand-in address as the source.
        let internet_ssh = rule(
            "ssh-from-internet",
            100,
            Inbound,
            Access::Allow,
            Tcp,
            (tag("Internet"), AddressSpec::Any),
            "22",
        );
        t.nsg_mut(id).rules.push(internet_ssh);
        let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
        assert_eq!(trace.verdict, Access::Allow);
        assert!(trace.hops.iter().any(|h| h.detail.contains(&DEFAULT_OUTBOUND_ADDRESS.to_string())));
        // A private subnet has no default outbound access: the flow ends at the route hop.
        t.set_subnet_default_outbound_access(s, false);
        let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
        assert_eq!(trace.verdict, Access::Deny);
        let last = trace.hops.last().expect("a hop");
        assert_eq!(last.kind, HopKind::Route);
        assert!(last.detail.contains("private"), "{}", last.detail);
        // A VM with its own public IP is not affected by the subnet's setting.
        let trace = run(&t, tcp(Source::Nic(b), Destination::Address(ip("8.8.8.8")), 443));
        assert_eq!(trace.verdict, Access::Allow);
    }

    /// hub (firewall at 10.0.1.4) peered with spoke1 and spoke2; a VM in each spoke.
    fn hub_and_spokes(routes: Vec<Route>) -> (Topology, NicId, NicId) {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let s1 = t.add_vnet("spoke1", vec![net("10.1.0.0/16")]).expect("vnet");
        let s2 = t.add_vnet("spoke2", vec![net("10.2.0.0/16")]).expect("vnet");
        t.peer(hub, s1).expect("peer");
        t.peer(hub, s2).expect("peer");
        t.add_subnet(hub, "AzureFirewallSubnet", net("10.0.1.0/26")).expect("subnet");
        let w1 = t.add_subnet(s1, "work", net("10.1.1.0/24")).expect("subnet");
        let w2 = t.add_subnet(s2, "work", net("10.2.1.0/24")).expect("subnet");
        t.add_firewall(tcp_firewall("fw", "10.0.1.4", None), hub).expect("firewall");
        if !routes.is_empty() {
            let rt = t.add_route_table(RouteTable { name: "rt".into(), routes }).expect("table");
            t.set_subnet_route_table(w1, rt).expect("associate");
        }
        let a = vm(&mut t, "a", w1, "10.1.1.4", None);
        let b = vm(&mut t, "b", w2, "10.2.1.4", None);
        (t, a, b)
    }

    fn route(name: &str, prefix: &str, next_hop: NextHop) -> Route {
        Route { name: name.into(), prefix: net(prefix), next_hop }
    }

    #[test]
    fn peering_is_not_transitive() {
        let (t, a, b) = hub_and_spokes(vec![]);
        let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
        assert_eq!(trace.verdict, Access::Deny);
        let last = trace.hops.last().expect("a hop");
        assert_eq!(last.kind, HopKind::Route);
        assert!(last.detail.contains("not peered") && last.detail.contains("hub"), "{}", last.detail);
    }

    /// hub (10.0.0.0/16: VM h at 10.0.1.4, a Bastion with public IP 20.0.0.9) peered with spoke
    /// (10.1.0.0/16: VM s at 10.1.1.4); the hub's side of the peering sets
    /// `allowVirtualNetworkAccess: false`. Both work subnets carry an NSG with the default rules
    /// only.
    fn access_blocked_on_the_hubs_side() -> (Topology, NicId, NicId, BastionId, crate::model::NsgId) {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        t.peer(hub, spoke).expect("peer");
        t.set_peering_access(hub, spoke, false).expect("hub's side");
        let hw = t.add_subnet(hub, "work", net("10.0.1.0/24")).expect("subnet");
        let sw = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
        t.add_subnet(hub, crate::model::BASTION_SUBNET, net("10.0.2.0/26")).expect("subnet");
        let pip = t.add_public_ip("bastion-pip", ip("20.0.0.9"), PublicIpSku::Standard).expect("pip");
        let b = t.add_bastion("bastion", hub, Some(pip)).expect("bastion");
        let defaults = nsg(&mut t, "defaults", vec![]);
        t.set_subnet_nsg(hw, Some(defaults)).expect("nsg");
        t.set_subnet_nsg(sw, Some(defaults)).expect("nsg");
        let h = vm(&mut t, "h", hw, "10.0.1.4", None);
        let s = vm(&mut t, "s", sw, "10.1.1.4", None);
        (t, h, s, b, defaults)
    }

    /// Microsoft's current peering documentation: `allowVirtualNetworkAccess: false` "only changes
    /// the definition of the VirtualNetwork service tag": traffic still crosses the peering, and
    /// the hub's NSGs stop it at their default deny rules, both ways, saying why.
    #[test]
    fn a_side_without_virtual_network_access_loses_the_peer_from_its_virtual_network_tag() {
        let (mut t, h, s, _, defaults) = access_blocked_on_the_hubs_side();
        let out = run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22));
        assert_eq!(out.verdict, Access::Deny);
        let deny = out.deciding_hop().expect("a deciding hop");
        assert_eq!(deny.rule.as_deref(), Some("defaultSecurityRules/DenyAllOutBound"), "{out:#?}");
        assert!(
            deny.detail.contains(
                "the peering hub->spoke blocks virtual network access (allowVirtualNetworkAccess false on hub's side)"
            ),
            "{}",
            deny.detail
        );
        // The reverse direction leaves the spoke (its tag keeps the hub) and is stopped as it
        // arrives in the hub.
        let back = run(&t, tcp(Source::Nic(s), Destination::Nic(h), 22));
        assert_eq!(back.verdict, Access::Deny);
        assert_eq!(
            rules(&back),
            ["defaultSecurityRules/AllowVnetOutBound", "defaultSecurityRules/DenyAllInBound"]
        );
        assert!(
            back.hops.last().is_some_and(|h| h.detail.contains("is not in this NSG's VirtualNetwork tag"))
        );
        // A rule naming the spoke's prefix lets it through: the peering itself is open.
        let by_prefix = rule(
            "to-spoke",
            100,
            Outbound,
            Access::Allow,
            Tcp,
            (AddressSpec::Any, prefix("10.1.0.0/16")),
            "22",
        );
        t.nsg_mut(defaults).rules.push(by_prefix);
        let out = run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22));
        assert_eq!(out.verdict, Access::Allow, "{out:#?}");
        assert_eq!(rules(&out), ["securityRules/to-spoke", "defaultSecurityRules/AllowVnetInBound"]);
        // With the flag back to true, AllowVnetOutBound matches again and no note is given.
        let (mut t, h, s, _, _) = access_blocked_on_the_hubs_side();
        let (hub, spoke) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
        t.set_peering_access(hub, spoke, true).expect("hub's side");
        let out = run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22));
        assert_eq!(out.verdict, Access::Allow);
        assert!(out.hops.iter().all(|h| !h.detail.contains("VirtualNetwork tag")));
    }

    /// Option `peering_access_blocks_all_traffic` (the older documentation: "traffic doesn't flow
    /// between the peered virtual networks"): the peering carries nothing, either way, whatever
    /// the NSGs allow; the route hop says which side blocks it.
    #[test]
    fn the_legacy_option_stops_all_traffic_over_a_peering_without_access() {
        let (mut t, h, s, _, defaults) = access_blocked_on_the_hubs_side();
        let any = rule("any", 100, Outbound, Access::Allow, Tcp, (AddressSpec::Any, AddressSpec::Any), "*");
        let any_in =
            rule("any-in", 100, Inbound, Access::Allow, Tcp, (AddressSpec::Any, AddressSpec::Any), "*");
        t.nsg_mut(defaults).rules.extend([any, any_in]);
        assert_eq!(run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22)).verdict, Access::Allow);
        t.set_peering_access_blocks_all_traffic(true);
        for (from, to) in [(h, s), (s, h)] {
            let out = run(&t, tcp(Source::Nic(from), Destination::Nic(to), 22));
            assert_eq!(out.verdict, Access::Deny, "{out:#?}");
            let last = out.hops.last().expect("a hop");
            assert_eq!(last.kind, HopKind::Route);
            assert!(last.detail.contains("blocks virtual network access (allowVirtualNetworkAccess false on hub's side) and carries no traffic either way"), "{}", last.detail);
            assert!(last.detail.contains("option peering_access_blocks_all_traffic"), "{}", last.detail);
        }
        // Addressed by a raw private address the route still selects the peering, which drops it.
        let out = run(&t, tcp(Source::Nic(h), Destination::Address(ip("10.1.1.9")), 22));
        assert_eq!(out.verdict, Access::Deny);
        assert!(out.hops.last().is_some_and(|h| h.detail.contains("VNetPeering to 'spoke'")));
    }

    /// Bastion reaches VMs in peered VNets over the peering. By default the session is traffic
    /// from the Bastion subnet like any other (the target's own tag decides); under the legacy
    /// option a peering without access carries no session.
    #[test]
    fn bastion_sessions_over_a_peering_without_access() {
        let (mut t, _, s, b, _) = access_blocked_on_the_hubs_side();
        let mut req = tcp(Source::Address(ip("198.51.100.7")), Destination::Nic(s), 22);
        req.via = Some(b);
        // The spoke's side allows access, so its tag holds the Bastion subnet: AllowVnetInBound.
        let out = run(&t, req);
        assert_eq!(out.verdict, Access::Allow, "{out:#?}");
        assert_eq!(rules(&out), ["defaultSecurityRules/AllowVnetInBound"]);
        t.set_peering_access_blocks_all_traffic(true);
        let out = run(&t, req);
        assert_eq!(out.verdict, Access::Deny);
        let last = out.hops.last().expect("a hop");
        assert_eq!(last.kind, HopKind::Route);
        assert_eq!(last.resource, "bastion");
        assert!(last.detail.starts_with("Azure Bastion 'bastion' reaches VMs in peered VNets over the peering; the peering hub->spoke blocks"), "{}", last.detail);
    }

    /// Under the legacy option the gateway transit over a blocked peering carries nothing either
    /// (model choice): on-premises does not reach the spoke, and the spoke's route to on-premises
    /// is stopped at the peering.
    #[test]
    fn the_legacy_option_stops_gateway_transit_over_a_blocked_peering() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        t.connect_on_premises(hub, vec![net("192.168.0.0/16")]).expect("gateway");
        t.peer(hub, spoke).expect("peer");
        t.use_remote_gateway(spoke, hub).expect("transit");
        let work = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
        let s = vm(&mut t, "s", work, "10.1.1.4", None);
        t.set_peering_access(spoke, hub, false).expect("spoke's side");
        let office = Source::Address(ip("192.168.10.20"));
        assert_eq!(
            run(&t, tcp(office, Destination::Nic(s), 22)).verdict,
            Access::Allow,
            "no NSG: default model"
        );
        t.set_peering_access_blocks_all_traffic(true);
        let out = run(&t, tcp(office, Destination::Nic(s), 22));
        assert_eq!(out.verdict, Access::Deny);
        assert!(out.hops[0].detail.contains("through gateway transit, over the peering; the peering hub->spoke blocks virtual network access (allowVirtualNetworkAccess false on spoke's side)"), "{}", out.hops[0].detail);
        let back = run(&t, tcp(Source::Nic(s), Destination::Address(ip("192.168.10.20")), 22));
        assert_eq!(back.verdict, Access::Deny);
        assert!(
            back.hops.last().is_some_and(|h| h.detail.contains("the peering spoke->hub blocks")),
            "{back:#?}"
        );
    }

    #[test]
    fn a_udr_to_the_firewall_joins_the_spokes_and_the_longest_prefix_wins() {
        let to_fw = NextHop::VirtualAppliance(ip("10.0.1.4"));
        let (t, a, b) = hub_and_spokes(vec![route("spoke2", "10.2.0.0/16", to_fw)]);
        let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        assert!(trace.hops.iter().any(|h| h.kind == HopKind::Firewall && h.resource == "fw"));
        // A longer user prefix for b's subnet drops it even though the /16 leads to the firewall.
        let (t, a, b) = hub_and_spokes(vec![
            route("spoke2", "10.2.0.0/16", to_fw),
            route("drop", "10.2.1.0/24", NextHop::None),
        ]);
        let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
        assert_eq!(trace.verdict, Access::Deny);
        assert!(
            trace.hops.last().is_some_and(|h| h.detail.contains("10.2.1.0/24") && h.detail.contains("None"))
        );
    }

    #[test]
    fn a_udr_beats_the_system_route_of_the_same_prefix() {
        // The system route for the peered hub (10.0.0.0/16, VNetPeering) ties with the UDR.
        let (t, a, _) = hub_and_spokes(vec![route("no-hub", "10.0.0.0/16", NextHop::None)]);
        let trace = run(&t, tcp(Source::Nic(a), Destination::Address(ip("10.0.5.5")), 443));
        assert_eq!(trace.verdict, Access::Deny);
        let last = trace.hops.last().expect("a hop");
        assert!(last.detail.contains("user route 'rt/no-hub'"), "{}", last.detail);
        let (t, a, _) = hub_and_spokes(vec![]);
        let trace = run(&t, tcp(Source::Nic(a), Destination::Address(ip("10.0.5.5")), 443));
        assert_eq!(trace.verdict, Access::Allow, "without the UDR the peering route carries it");
    }

    /// Under the legacy option a spoke whose peering to the hub carries no traffic cannot reach
    /// the hub's firewall either, and the firewall cannot forward into it.
    #[test]
    fn the_legacy_option_stops_routes_to_and_from_the_firewall_over_a_blocked_peering() {
        let to_fw = NextHop::VirtualAppliance(ip("10.0.1.4"));
        let (mut t, a, b) = hub_and_spokes(vec![route("spoke2", "10.2.0.0/16", to_fw)]);
        let (hub, s1, s2) = (VnetId(0), VnetId(1), VnetId(2));
        t.set_peering_access_blocks_all_traffic(true);
        t.set_peering_access(s1, hub, false).expect("spoke1's side");
        let out = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
        assert_eq!(out.verdict, Access::Deny);
        let last = out.hops.last().expect("a hop");
        assert!(
            last.detail.contains("(Azure Firewall 'fw'); the peering spoke1->hub blocks"),
            "{}",
            last.detail
        );
        t.set_peering_access(s1, hub, true).expect("spoke1's side");
        t.set_peering_access(hub, s2, false).expect("the hub's side to spoke2");
        let out = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
        assert_eq!(out.verdict, Access::Deny);
        assert!(out.hops.iter().any(|h| h.kind == HopKind::Firewall && h.access == Access::Allow));
        let last = out.hops.last().expect("a hop");
        assert!(last.detail.contains("the peering hub->spoke2 blocks"), "{}", last.detail);
    }

    #[test]
    fn a_flow_the_firewall_has_no_rule_for_is_denied_at_the_firewall_hop() {
        // The firewall's only rule allows TCP: a UDP flow sent to it by the UDR matches nothing.
        let to_fw = NextHop::VirtualAppliance(ip("10.0.1.4"));
        let (t, a, b) = hub_and_spokes(vec![route("spoke2", "10.2.0.0/16", to_fw)]);
        let mut req = tcp(Source::Nic(a), Destination::Nic(b), 53);
        req.protocol = IpProtocol::UDP;
        let trace = run(&t, req);
        assert_eq!(trace.verdict, Access::Deny);
        let last = trace.hops.last().expect("a hop");
        assert_eq!((last.kind, last.access), (HopKind::Firewall, Access::Deny));
        assert!(last.detail.contains("denies by default"), "{}", last.detail);
        // The same flow over TCP is allowed by the rule, which the hop names.
        let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 53));
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        let fw = trace.hops.iter().find(|h| h.kind == HopKind::Firewall).expect("a firewall hop");
        assert_eq!(fw.rule.as_deref(), Some("classic/net/all"));
    }

    /// hub (firewall 10.0.1.4 with public IP 20.0.0.1, DNAT 50022 -> 10.1.1.4:22) peered with a
    /// spoke whose subnet NSG holds `rules`; the spoke VM has no public IP.
    fn dnat_topology(rules: Vec<crate::nsg::SecurityRule>) -> (Topology, crate::model::PublicIpId) {
        use crate::model::{CollectionRules, DnatRule, PublicIpSku};
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        t.peer(hub, spoke).expect("peer");
        t.add_subnet(hub, "AzureFirewallSubnet", net("10.0.1.0/26")).expect("subnet");
        let work = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
        let pip = t.add_public_ip("fw-pip", ip("20.0.0.1"), PublicIpSku::Standard).expect("pip");
        let dnat = DnatRule {
            name: "ssh".into(),
            protocols: ProtocolSet::single(IpProtocol::TCP),
            sources: AddrSet::any(),
            destination: ip("20.0.0.1"),
            destination_port: 50022,
            translated_address: ip("10.1.1.4"),
            translated_port: 22,
        };
        let firewall = Firewall {
            name: "fw".into(),
            subnet: SubnetId(0),
            private_ip: ip("10.0.1.4"),
            public_ip: Some(pip),
            mode: FirewallMode::Classic,
            groups: vec![RuleCollectionGroup {
                name: "classic".into(),
                priority: 100,
                collections: vec![RuleCollection {
                    name: "in".into(),
                    priority: 100,
                    rules: CollectionRules::Dnat(vec![dnat]),
                }],
            }],
            legacy_dnat: false,
        };
        t.add_firewall(firewall, hub).expect("firewall");
        let id = nsg(&mut t, "work-nsg", rules);
        t.set_subnet_nsg(work, Some(id)).expect("the subnet takes an NSG");
        vm(&mut t, "app", work, "10.1.1.4", None);
        (t, pip)
    }

    #[test]
    fn dnat_translates_at_the_firewall_and_the_nsgs_see_the_firewall_as_the_source() {
        let client = "203.0.113.9";
        let from_client = rule(
            "ssh-from-client",
            100,
            Inbound,
            Access::Allow,
            Tcp,
            (prefix(client), AddressSpec::Any),
            "22",
        );
        let deny_ssh =
            rule("deny-ssh", 200, Inbound, Access::Deny, Tcp, (AddressSpec::Any, AddressSpec::Any), "22");
        let (t, pip) = dnat_topology(vec![from_client, deny_ssh.clone()]);
        let req = tcp(Source::Address(ip(client)), Destination::PublicIp(pip), 50022);
        // The client's own address never reaches the NSG: its rule does not match, the deny does.
        let trace = run(&t, req);
        assert_eq!(trace.verdict, Access::Deny, "{trace:#?}");
        let kinds: Vec<HopKind> = trace.hops.iter().map(|h| h.kind).collect();
        let fw = kinds.iter().position(|k| *k == HopKind::Firewall).expect("a firewall hop");
        let nsg_hop = kinds.iter().position(|k| *k == HopKind::Nsg).expect("an NSG hop");
        assert!(fw < nsg_hop, "DNAT happens before the NSGs: {kinds:?}");
        assert_eq!(trace.hops[fw].access, Access::Allow);
        assert_eq!(trace.hops[fw].rule.as_deref(), Some("classic/in/ssh"));
        assert_eq!(rules(&trace).last().map(String::as_str), Some("securityRules/deny-ssh"));
        // A rule for the firewall's subnet admits it, on the translated port.
        let from_firewall = rule(
            "ssh-from-firewall",
            100,
            Inbound,
            Access::Allow,
            Tcp,
            (prefix("10.0.1.0/26"), AddressSpec::Any),
            "22",
        );
        let (t, pip) = dnat_topology(vec![from_firewall, deny_ssh]);
        let trace = run(&t, tcp(Source::Address(ip(client)), Destination::PublicIp(pip), 50022));
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        assert_eq!(rules(&trace).last().map(String::as_str), Some("securityRules/ssh-from-firewall"));
        // No DNAT rule for another public port: the firewall denies.
        let trace = run(&t, tcp(Source::Address(ip(client)), Destination::PublicIp(pip), 50023));
        assert_eq!(trace.verdict, Access::Deny);
        assert_eq!(trace.deciding_hop().map(|h| h.kind), Some(HopKind::Firewall));
    }

    #[test]
    fn on_premises_reaches_a_spoke_only_through_gateway_transit() {
        let build = |transit: bool| {
            let mut t = Topology::new();
            let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
            let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
            t.connect_on_premises(hub, vec![net("192.168.0.0/16")]).expect("gateway");
            t.peer(hub, spoke).expect("peer");
            if transit {
                t.use_remote_gateway(spoke, hub).expect("transit");
            }
            let work = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
            let id = nsg(&mut t, "work-nsg", vec![]);
            t.set_subnet_nsg(work, Some(id)).expect("the subnet takes an NSG");
            let nic = vm(&mut t, "app", work, "10.1.1.4", None);
            (t, nic)
        };
        let (t, nic) = build(false);
        let trace = run(&t, tcp(Source::Address(ip("192.168.5.5")), Destination::Nic(nic), 22));
        assert_eq!(trace.verdict, Access::Deny);
        let last = trace.hops.last().expect("a hop");
        assert_eq!(last.kind, HopKind::Route, "{trace:#?}");
        assert!(last.detail.contains("gateway transit, which is off"), "{}", last.detail);
        // With transit the on-premises space joins the spoke's VirtualNetwork tag.
        let (t, nic) = build(true);
        let trace = run(&t, tcp(Source::Address(ip("192.168.5.5")), Destination::Nic(nic), 22));
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        assert_eq!(rules(&trace), ["defaultSecurityRules/AllowVnetInBound"]);
    }

    /// Subnet peering (`peerCompleteVnets: false`) of hub's `web` and `AzureBastionSubnet` with
    /// spoke's `app`; hub's `db` and spoke's `data` are left out. Both VNets also hold
    /// 172.16.0.0/16, which Azure allows because no peered subnet is in it. Every subnet has an
    /// NSG with the default rules only. Returns (topology, web VM, db VM, app VM, data VM, Bastion).
    fn subnet_peered() -> (Topology, [NicId; 4], BastionId) {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
        let web = t.add_subnet(hub, "web", net("10.0.1.0/24")).expect("subnet");
        let db = t.add_subnet(hub, "db", net("10.0.2.0/24")).expect("subnet");
        let bas = t.add_subnet(hub, crate::model::BASTION_SUBNET, net("10.0.3.0/26")).expect("subnet");
        let app = t.add_subnet(spoke, "app", net("10.1.1.0/24")).expect("subnet");
        let data = t.add_subnet(spoke, "data", net("10.1.2.0/24")).expect("subnet");
        t.peer_subnets(hub, spoke, &[web, bas], &[app]).expect("subnet peering");
        let pip = t.add_public_ip("bastion-pip", ip("20.0.0.9"), PublicIpSku::Standard).expect("pip");
        let b = t.add_bastion("bastion", hub, Some(pip)).expect("bastion");
        let defaults = nsg(&mut t, "defaults", vec![]);
        for s in [web, db, app, data] {
            t.set_subnet_nsg(s, Some(defaults)).expect("nsg");
        }
        let nics = [
            vm(&mut t, "w", web, "10.0.1.4", None),
            vm(&mut t, "d", db, "10.0.2.4", None),
            vm(&mut t, "a", app, "10.1.1.4", None),
            vm(&mut t, "x", data, "10.1.2.4", None),
        ];
        (t, nics, b)
    }

    /// Peered subnets reach each other (each side's VirtualNetwork tag holds the other's peered
    /// subnet, so the default rules allow it); a subnet left out is stopped at the route, both
    /// as sender (the route exists, Azure drops the packet) and as destination (no route).
    #[test]
    fn subnet_peering_carries_only_the_peered_subnets() {
        let (t, [w, d, a, x], b) = subnet_peered();
        let ok = run(&t, tcp(Source::Nic(w), Destination::Nic(a), 22));
        assert_eq!(ok.verdict, Access::Allow, "{ok:#?}");
        assert_eq!(
            rules(&ok),
            ["defaultSecurityRules/AllowVnetOutBound", "defaultSecurityRules/AllowVnetInBound"]
        );
        let back = run(&t, tcp(Source::Nic(a), Destination::Nic(w), 22));
        assert_eq!(back.verdict, Access::Allow, "{back:#?}");

        let from_db = run(&t, tcp(Source::Nic(d), Destination::Nic(a), 22));
        assert_eq!(from_db.verdict, Access::Deny);
        let hop = from_db.deciding_hop().expect("deciding hop");
        assert_eq!(hop.kind, HopKind::Route, "{from_db:#?}");
        assert!(hop.detail.contains("10.1.1.0/24 via system (VNetPeering to 'spoke')"), "{}", hop.detail);
        assert!(
            hop.detail.contains("the sender's subnet 'db' of 'hub' is not in the subnet peering hub<->spoke (peerCompleteVnets false; peered subnets of 'hub': web, AzureBastionSubnet)"),
            "{}",
            hop.detail
        );

        // To a subnet left out, the sender's NSG already stops it: the VirtualNetwork tag holds
        // only the peered subnets, and the note says so.
        let to_data = run(&t, tcp(Source::Nic(w), Destination::Nic(x), 22));
        assert_eq!(to_data.verdict, Access::Deny);
        let hop = to_data.deciding_hop().expect("deciding hop");
        assert_eq!(hop.rule.as_deref(), Some("defaultSecurityRules/DenyAllOutBound"), "{to_data:#?}");
        assert!(
            hop.detail.contains("10.1.2.4 is not in this NSG's VirtualNetwork tag: it is in subnet 'data' of 'spoke', which is not in the subnet peering hub<->spoke (peerCompleteVnets false)"),
            "{}",
            hop.detail
        );
        // Without NSGs the route stops it: no route over the peering, the default route sends
        // it to the Internet.
        let mut open = t.clone();
        for s in open.subnet_ids().collect::<Vec<_>>() {
            open.set_subnet_nsg(s, None).expect("no nsg");
        }
        let to_data = run(&open, tcp(Source::Nic(w), Destination::Nic(x), 22));
        assert_eq!(to_data.verdict, Access::Deny);
        let hop = to_data.deciding_hop().expect("deciding hop");
        assert_eq!(hop.kind, HopKind::Route);
        assert!(
            hop.detail.contains("10.1.2.4 is in subnet 'data' of 'spoke', which is not in the subnet peering hub<->spoke (peerCompleteVnets false)"),
            "{}",
            hop.detail
        );
        let to_db = run(&open, tcp(Source::Nic(a), Destination::Nic(d), 22));
        assert_eq!(to_db.verdict, Access::Deny);
        assert!(
            to_db.deciding_hop().expect("hop").detail.contains(
                "10.0.2.4 is in subnet 'db' of 'hub', which is not in the subnet peering spoke<->hub"
            )
        );

        // Bastion in hub's peered AzureBastionSubnet reaches app, not data.
        let mut req = tcp(Source::Address(ip("198.51.100.7")), Destination::Nic(a), 22);
        req.via = Some(b);
        let trace = run(&t, req);
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        req.destination = Destination::Nic(x);
        let trace = run(&t, req);
        assert_eq!(trace.verdict, Access::Deny);
        let hop = trace.deciding_hop().expect("hop");
        assert_eq!(hop.kind, HopKind::Bastion);
        assert!(
            hop.detail.contains(
                "the destination's subnet 'data' of 'spoke' is not in the subnet peering spoke<->hub"
            ),
            "{}",
            hop.detail
        );
    }
}

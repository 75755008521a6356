//! The hop-by-hop evaluation itself.

use std::net::IpAddr;

use crate::model::{BastionId, FirewallId, NicId, PublicIpId, PublicIpSku, SubnetId, Topology, VnetId};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, CompiledNsg, Direction};

use super::firewall::{self, Decision};
use super::platform::{self, PlatformService};
use super::route::{self, Hop as RouteHop};
use super::{Hop, HopKind, Level, PolicyCache, Trace};

/// Where a flow starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A NIC (a VM): its outbound NSGs apply.
    Nic(NicId),
    /// An address that is not a modelled NIC: an Internet client, an on-premises host, or an
    /// unmodelled host inside a VNet's address space.
    Address(IpAddr),
}

/// Where a flow is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A NIC, reached by its private address when the source can route to it privately, else
    /// through its public IP.
    Nic(NicId),
    /// A public IP resource (of a NIC, a firewall or a Bastion host).
    PublicIp(PublicIpId),
    /// A raw address: a NIC's private address, a public IP's address, or something outside.
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

/// Evaluates `req` through `topology`, using the compiled NSGs in `cache`.
pub fn evaluate(topology: &Topology, cache: &PolicyCache, req: &FlowRequest) -> Trace {
    let mut walk = Walk { topology, cache, hops: Vec::new(), depth: 0 };
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

    fn position_of_address(&self, a: IpAddr) -> Position {
        let t = self.topology;
        if a == crate::model::PLATFORM_HOST_ADDRESS {
            return Position::Platform;
        }
        if let Some(s) = t.subnet_of_ip(a) {
            return Position::Subnet(s);
        }
        if let Some(v) = t.vnet_of_ip(a) {
            return Position::Unmodelled(v);
        }
        if let Some(v) = t.vnet_of_on_premises_ip(a) {
            return Position::OnPremises(v);
        }
        Position::Internet
    }

    /// Whether traffic from `from` can reach `vnet` without leaving the private network.
    fn privately_reaches(&self, from: Position, vnet: VnetId) -> bool {
        let t = self.topology;
        let from_vnet = match from {
            Position::Subnet(s) => t.subnet(s).vnet,
            Position::OnPremises(v) | Position::Unmodelled(v) => v,
            Position::Internet => return false,
            Position::Platform => return true,
        };
        from_vnet == vnet || t.vnet(from_vnet).peerings.contains(&vnet)
    }

    fn start(&mut self, req: &FlowRequest) -> bool {
        let t = self.topology;
        let (src_ip, position) = match req.source {
            Source::Nic(n) => (t.nic(n).private_ip, Position::Subnet(t.nic(n).subnet)),
            Source::Address(a) => (a, self.position_of_address(a)),
        };
        // A VM named as the destination is addressed privately when the source can route to it
        // privately, else through its public IP.
        let dst = match req.destination {
            Destination::Nic(n) => {
                let vnet = t.vnet_of_nic(n);
                match t.nic(n).public_ip {
                    Some(p) if !self.privately_reaches(position, vnet) => t.public_ip(p).address,
                    _ => t.nic(n).private_ip,
                }
            }
            Destination::PublicIp(p) => t.public_ip(p).address,
            Destination::Address(a) => a,
        };
        let flow = Flow::new(req.protocol, src_ip, req.src_port, dst, req.dst_port);
        if let Some(service) = platform::service_of(&flow)
            && let Position::Subnet(subnet) = position
        {
            return self.answer_platform(req, &flow, subnet, service);
        }
        // Leaving: the NIC's chain, or, for a host in a subnet that is not a modelled NIC, its
        // subnet's NSG.
        let leaves = match (req.source, position) {
            (Source::Nic(nic), _) => self.chain(&flow, nic, Direction::Outbound),
            (Source::Address(_), Position::Subnet(subnet)) => {
                self.subnet_nsg(&flow, subnet, Direction::Outbound)
            }
            _ => true,
        };
        if !leaves {
            return false;
        }
        let snat = match req.source {
            Source::Nic(n) => t.nic(n).public_ip.map(|p| t.public_ip(p).address),
            Source::Address(_) => None,
        };
        self.deliver(flow, position, snat)
    }

    /// A flow from a VM to a platform service (168.63.129.16, 169.254.169.254): the host node
    /// answers it without the NSGs, unless an outbound NSG on the path names the service's tag
    /// (see `platform`). It is not routed: user-defined routes do not take it away.
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
            Source::Address(_) => t.subnet(subnet).nsg.into_iter().collect(),
        };
        let targeted = service.tag.filter(|tag| nsgs.iter().any(|&id| platform::targets_tag(t.nsg(id), tag)));
        let detail = match targeted {
            Some(tag) => {
                let leaves = match req.source {
                    Source::Nic(n) => self.chain(flow, n, Direction::Outbound),
                    Source::Address(_) => self.subnet_nsg(flow, subnet, Direction::Outbound),
                };
                if !leaves {
                    return false;
                }
                format!(
                    "{} at {} answers; the NSGs evaluated this flow because a rule on the path names the {tag} service tag",
                    service.name, flow.dst
                )
            }
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

    /// Routes `flow` from `position` to its destination. `snat` is the public address the sender
    /// uses when it leaves for the Internet directly.
    fn deliver(&mut self, flow: Flow, position: Position, snat: Option<IpAddr>) -> bool {
        let t = self.topology;
        self.depth += 1;
        if self.depth > 8 {
            return self.deny(HopKind::Route, "routing", "routing loop: more than 8 appliance hops");
        }
        if let Some(p) = t.public_ip_by_address(flow.dst) {
            return match position {
                Position::Subnet(s) => self.route_from_subnet(flow, s, snat),
                _ => self.arrive_public(flow, p),
            };
        }
        if let Some(dst_vnet) = t.vnet_of_ip(flow.dst) {
            return match position {
                Position::Internet => self.deny(
                    HopKind::Route,
                    "routing",
                    format!(
                        "{} is a private address in vnet '{}': not routable from the Internet",
                        flow.dst,
                        t.vnet(dst_vnet).name
                    ),
                ),
                Position::Platform => {
                    self.push(
                        HopKind::Route,
                        "routing",
                        Access::Allow,
                        "from the host platform address 168.63.129.16, which reaches every VNet; traffic from it is the Azure Load Balancer's health probe, which NSGs filter (the AzureLoadBalancer tag, AllowAzureLoadBalancerInBound)",
                    );
                    self.arrive_private(flow)
                }
                Position::OnPremises(v) | Position::Unmodelled(v) => {
                    if self.privately_reaches(position, dst_vnet) {
                        let how = if matches!(position, Position::OnPremises(_)) {
                            format!(
                                "on-premises network connected to vnet '{}' through its gateway",
                                t.vnet(v).name
                            )
                        } else {
                            format!("inside vnet '{}'", t.vnet(v).name)
                        };
                        self.push(HopKind::Route, "routing", Access::Allow, how);
                        self.arrive_private(flow)
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
                Position::Subnet(s) => self.route_from_subnet(flow, s, snat),
            };
        }
        match position {
            Position::Subnet(s) => self.route_from_subnet(flow, s, snat),
            _ => self.push(
                HopKind::Route,
                "routing",
                Access::Allow,
                format!("{} is outside every modelled network", flow.dst),
            ),
        }
    }

    fn route_from_subnet(&mut self, flow: Flow, subnet: SubnetId, snat: Option<IpAddr>) -> bool {
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
                self.push(HopKind::Route, where_, Access::Allow, format!("to {}: {via}", flow.dst));
                if t.nic_by_private_ip(flow.dst).is_none() && t.vnet_of_ip(flow.dst) != Some(v) {
                    return self.deny(
                        HopKind::Route,
                        "routing",
                        format!("{} is not in vnet '{}'", flow.dst, t.vnet(v).name),
                    );
                }
                self.arrive_private(flow)
            }
            RouteHop::Gateway => self.push(
                HopKind::Route,
                where_,
                Access::Allow,
                format!("to {}: {via}; leaves through the gateway to on-premises", flow.dst),
            ),
            RouteHop::Internet => {
                if t.vnet_of_ip(flow.dst).is_some() {
                    let dst_vnet = t.vnet_of_ip(flow.dst).map(|v| t.vnet(v).name.clone()).unwrap_or_default();
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{} is in vnet '{dst_vnet}', which is not peered with vnet '{}'; the default route sends it to the Internet, where private addresses are dropped{}",
                            flow.dst,
                            t.vnet(s.vnet).name,
                            peering_hint(t, s.vnet, flow.dst)
                        ),
                    );
                }
                self.push(HopKind::Route, where_, Access::Allow, format!("to {}: {via}", flow.dst));
                let out = Flow { src: snat.unwrap_or(flow.src), ..flow };
                match t.public_ip_by_address(flow.dst) {
                    Some(p) => self.arrive_public(out, p),
                    None => true,
                }
            }
            RouteHop::Appliance(ip) => {
                let Some(fw) = t.firewall_by_private_ip(ip) else {
                    return self.deny(HopKind::Route, where_, format!("{via}: {ip} is not a modelled appliance; nsgsim models Azure Firewall as the only virtual appliance"));
                };
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
        match firewall::filter(f, &flow) {
            Decision::Allow { rule } => {
                self.hops.push(Hop {
                    rule: Some(rule.clone()),
                    ..hop(
                        HopKind::Firewall,
                        &name,
                        Access::Allow,
                        format!("Azure Firewall '{name}': rule {rule} allows {flow}"),
                    )
                });
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
        }
        // Leaving the firewall: to the Internet with its public IP, or on to a private address
        // with the source kept (network rules do not SNAT private destinations).
        let snat = f.public_ip.map(|p| t.public_ip(p).address);
        let leaving_to_internet =
            t.vnet_of_ip(flow.dst).is_none() && t.vnet_of_on_premises_ip(flow.dst).is_none();
        let out = if leaving_to_internet { Flow { src: snat.unwrap_or(flow.src), ..flow } } else { flow };
        self.deliver(out, Position::Subnet(f.subnet), snat)
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
        self.deliver(translated, Position::Subnet(f.subnet), None)
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
        let (src_ip, position) = match req.source {
            Source::Nic(n) => (t.nic(n).private_ip, Position::Subnet(t.nic(n).subnet)),
            Source::Address(a) => (a, self.position_of_address(a)),
        };
        let Some(pip) = bastion.public_ip else {
            return self.deny(HopKind::Bastion, &name, format!("Azure Bastion '{name}' has no public IP"));
        };
        let portal = Flow::new(IpProtocol::TCP, src_ip, req.src_port, t.public_ip(pip).address, 443);
        if !self.deliver(portal, position, None) {
            return false;
        }
        self.depth = 0;
        let target = match req.destination {
            Destination::Nic(n) => Some(n),
            Destination::PublicIp(p) => t.public_ip(p).nic,
            Destination::Address(a) => t.nic_by_private_ip(a),
        };
        let Some(target) = target else {
            return self.deny(
                HopKind::Bastion,
                &name,
                "Bastion connects to VMs by their private IP; the destination is not a modelled NIC",
            );
        };
        if req.protocol != IpProtocol::TCP || ![22, 3389].contains(&req.dst_port) {
            return self.deny(
                HopKind::Bastion,
                &name,
                format!("Azure Bastion opens RDP (TCP 3389) and SSH (TCP 22) sessions; {} port {} is not one (custom ports need the Standard SKU, not modelled)", req.protocol, req.dst_port),
            );
        }
        let target_vnet = t.vnet_of_nic(target);
        if !(bastion.vnet == target_vnet || t.vnet(bastion.vnet).peerings.contains(&target_vnet)) {
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
        self.arrive_private(session)
    }

    /// A packet arriving at a private address in a VNet: the NIC's inbound chain.
    fn arrive_private(&mut self, flow: Flow) -> bool {
        let t = self.topology;
        match t.nic_by_private_ip(flow.dst) {
            Some(nic) => self.chain(&flow, nic, Direction::Inbound),
            None if t.firewall_by_private_ip(flow.dst).is_some() => self.deny(
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
                format!("{} is an unmodelled host in the VNet; no NSG of its is known", flow.dst),
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
        self.hops.push(Hop {
            kind: HopKind::Nsg,
            resource: name.clone(),
            level: Some(level),
            direction: Some(direction),
            rule: Some(hit.rule.azure_name()),
            priority: Some(hit.rule.priority.0),
            access,
            detail: format!(
                "NSG '{name}' on {where_} ({direction}): {} {verb} (priority {})",
                hit.rule.azure_name(),
                hit.rule.priority
            ),
        });
        access == Access::Allow
    }
}

/// "; the VNets connect only through a, b: peering is not transitive, so add a UDR to an
/// appliance there or peer them directly", found on the topology graph.
fn peering_hint(t: &Topology, from: VnetId, dst: IpAddr) -> String {
    let Some(to) = t.vnet_of_ip(dst) else { return String::new() };
    match crate::model::TopologyGraph::new(t).peering_path(from, to) {
        Some(path) if path.len() > 2 => format!(
            "; the VNets connect only through {} ({}): peering is not transitive, so route through an appliance there (a UDR) or peer them directly",
            path[1..path.len() - 1].join(", "),
            path.join(" - ")
        ),
        _ => " (peering is not transitive)".into(),
    }
}

//! Routing hops as data: the route a subnet chose and where it took the packet, peerings that
//! carry it or not, gateway transit, and the addresses no route reaches. `Display` writes the
//! sentence the trace has always printed.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{Site, Topology};
use crate::path::route::RouteSource;

/// The route a subnet selected: `10.0.0.0/16 via system (VnetLocal)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteVia {
    /// The matching prefix.
    pub prefix: IpNet,
    /// Where the route comes from.
    pub source: RouteSource,
}

impl fmt::Display for RouteVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} via {}", self.prefix, self.source)
    }
}

/// A host at an address, as messages name it (`Topology::site_label`): `vm-a (vnet-a)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostAt {
    /// A NIC with the address: its VM's name (the NIC's when it has no VM) and VNet.
    Nic {
        /// The VM or NIC.
        owner: String,
        /// Its VNet.
        vnet: String,
    },
    /// An address of a VNet that no modelled NIC has.
    Unmodelled {
        /// The VNet.
        vnet: String,
    },
    /// An on-premises host behind a VNet's gateway.
    OnPremises {
        /// The VNet whose gateway connects it.
        vnet: String,
    },
}

impl HostAt {
    /// The host at `ip` of `site` in `t`.
    pub fn of(t: &Topology, site: Site, ip: IpAddr) -> HostAt {
        match site {
            Site::Vnet(v) => {
                let vnet = t.vnet(v).name.clone();
                match t.nic_in_vnet(v, ip) {
                    Some(n) => {
                        let nic = t.nic(n);
                        let owner = nic.vm.map_or_else(|| nic.name.clone(), |vm| t.vm(vm).name.clone());
                        HostAt::Nic { owner, vnet }
                    }
                    None => HostAt::Unmodelled { vnet },
                }
            }
            Site::OnPremises(g) => HostAt::OnPremises { vnet: t.vnet(g).name.clone() },
        }
    }
}

impl fmt::Display for HostAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostAt::Nic { owner, vnet } => write!(f, "{owner} ({vnet})"),
            HostAt::Unmodelled { vnet } => write!(f, "an unmodelled host of {vnet}"),
            HostAt::OnPremises { vnet } => write!(f, "an on-premises host behind the gateway of {vnet}"),
        }
    }
}

/// Comma-separated hosts.
struct Hosts<'a>(&'a [HostAt]);

impl fmt::Display for Hosts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, h) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{h}")?;
        }
        Ok(())
    }
}

/// `vnet 'a'`, or `vnets 'a', 'b'`.
pub(crate) struct VnetNames<'a>(pub(crate) &'a [String]);

impl fmt::Display for VnetNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.len() == 1 { "vnet " } else { "vnets " })?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "'{v}'")?;
        }
        Ok(())
    }
}

/// What a subnet is to the packet that a subnet peering leaves it out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeeringRole {
    /// The subnet sends it.
    Sender,
    /// The subnet holds its destination.
    Destination,
    /// The subnet holds the appliance the route sends it to.
    Appliance,
    /// The subnet is AzureBastionSubnet.
    BastionHost,
}

impl fmt::Display for PeeringRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeeringRole::Sender => "sender",
            PeeringRole::Destination => "destination",
            PeeringRole::Appliance => "appliance",
            PeeringRole::BastionHost => "Bastion host",
        })
    }
}

/// A subnet left out of its VNet's subnet peering with another VNet (`peerCompleteVnets:
/// false`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetPeeringGap {
    /// What the subnet is to the packet.
    pub role: PeeringRole,
    /// The subnet.
    pub subnet: String,
    /// Its VNet.
    pub vnet: String,
    /// The peered VNet.
    pub remote: String,
    /// The subnets of `vnet` the peering lists.
    pub listed: Vec<String>,
}

impl fmt::Display for SubnetPeeringGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SubnetPeeringGap { role, subnet, vnet, remote, listed } = self;
        write!(
            f,
            "the {role}'s subnet '{subnet}' of '{vnet}' is not in the subnet peering {vnet}<->{remote} (peerCompleteVnets false; peered subnets of '{vnet}': {})",
            listed.join(", ")
        )
    }
}

/// A peering that carries no traffic because one side sets `allowVirtualNetworkAccess: false`
/// (option `peering_access_blocks_all_traffic`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedPeering {
    /// The VNet the packet leaves.
    pub from: String,
    /// The VNet it would enter.
    pub to: String,
    /// The VNet whose side blocks access.
    pub side: String,
}

/// What led the packet to a peering that carries nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeeringLead {
    /// Nothing more than the peering.
    Direct,
    /// A subnet's route, to a VNet or a gateway, or to an Azure Firewall as its next hop.
    Route {
        /// The destination.
        dst: IpAddr,
        /// The route.
        via: RouteVia,
        /// The firewall the route's next hop is.
        firewall: Option<String>,
    },
    /// An on-premises network reaching a peered VNet through gateway transit.
    OnPremisesTransit {
        /// The VNet whose gateway connects it.
        vnet: String,
        /// The VNet it reaches.
        dst_vnet: String,
    },
    /// A Bastion host reaching a VM of a peered VNet.
    Bastion {
        /// The Bastion host.
        bastion: String,
    },
}

/// How a packet from outside a subnet reaches a VNet privately.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateWay {
    /// From an on-premises network through the VNet's own gateway.
    OnPremises {
        /// The VNet.
        vnet: String,
    },
    /// From an on-premises network through a peered VNet's gateway (gateway transit).
    OnPremisesTransit {
        /// The VNet whose gateway connects it.
        vnet: String,
        /// The VNet that uses that gateway.
        dst_vnet: String,
    },
    /// Within the VNet.
    Inside {
        /// The VNet.
        vnet: String,
    },
}

/// What happens to the packet after its route, for an allowed route hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteThen {
    /// Nothing more to say: on to the VNet, or out to the Internet with its own address.
    Nothing,
    /// It leaves through the VNet's gateway to on-premises.
    Gateway,
    /// It goes to an Azure Firewall, the route's next hop.
    Firewall {
        /// The firewall.
        firewall: String,
    },
    /// Outbound SNAT to the sender's public IP.
    PublicIp {
        /// The public address.
        address: IpAddr,
    },
    /// Outbound SNAT to a load balancer's frontend.
    LoadBalancer {
        /// The load balancer.
        lb: String,
        /// The frontend address.
        address: IpAddr,
    },
    /// The subnet's NAT gateway translates the source.
    NatGateway {
        /// The NAT gateway.
        gateway: String,
        /// The address shown.
        address: IpAddr,
    },
    /// Default outbound access: an implicit Microsoft address.
    DefaultOutbound {
        /// The address nsgsim shows for it.
        address: IpAddr,
    },
}

/// What a routing hop says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteDetail {
    /// The subnet has no route to the destination.
    NoRoute {
        /// The destination.
        dst: IpAddr,
    },
    /// The selected route's next hop is None.
    Dropped {
        /// The route.
        via: RouteVia,
    },
    /// The route took the packet on.
    Routed {
        /// The destination.
        dst: IpAddr,
        /// The route.
        via: RouteVia,
        /// What follows.
        then: RouteThen,
    },
    /// A route to a VNet that does not hold the destination.
    NotInVnet {
        /// The destination.
        dst: IpAddr,
        /// The VNet the route names.
        vnet: String,
    },
    /// The packet would cross a peering that carries nothing.
    PeeringBlocked {
        /// What led it there.
        lead: PeeringLead,
        /// The peering.
        peering: BlockedPeering,
    },
    /// A route to a peered VNet from a subnet that a subnet peering leaves out.
    SenderOutsideSubnetPeering {
        /// The destination.
        dst: IpAddr,
        /// The route.
        via: RouteVia,
        /// Which subnet is left out.
        gap: SubnetPeeringGap,
    },
    /// A route to a remote gateway from a subnet that a subnet peering leaves out.
    GatewayOutsideSubnetPeering {
        /// The destination.
        dst: IpAddr,
        /// The route.
        via: RouteVia,
        /// Which subnet is left out.
        gap: SubnetPeeringGap,
    },
    /// A route to an appliance of a peered VNet over a subnet peering that leaves out a subnet.
    ApplianceOutsideSubnetPeering {
        /// The destination.
        dst: IpAddr,
        /// The route.
        via: RouteVia,
        /// The firewall.
        firewall: String,
        /// Which subnet is left out.
        gap: SubnetPeeringGap,
    },
    /// A packet from outside a subnet to a subnet a subnet peering leaves out.
    DestinationOutsideSubnetPeering {
        /// How it came: `None` from the VNet `from` over the peering; else from on-premises
        /// through that VNet's gateway to `dst_vnet` (gateway transit).
        from: String,
        /// For on-premises: the VNet it reaches through gateway transit.
        transit_to: Option<String>,
        /// Which subnet is left out.
        gap: SubnetPeeringGap,
    },
    /// A destination in a peered VNet's subnet that the subnet peering leaves out: the default
    /// route sends it to the Internet.
    UnpeeredSubnet {
        /// The destination.
        dst: IpAddr,
        /// The subnet of `there` holding it, if a modelled one.
        subnet: Option<String>,
        /// The sender's VNet.
        here: String,
        /// The destination's VNet.
        there: String,
    },
    /// A route sending an address of the sender's own VNet to the Internet.
    OwnSpaceToInternet {
        /// The route.
        via: RouteVia,
        /// The destination.
        dst: IpAddr,
        /// The VNet.
        vnet: String,
    },
    /// A private address of VNets not peered with the sender's, sent to the Internet.
    NotPeeredToInternet {
        /// The destination.
        dst: IpAddr,
        /// The VNets holding it.
        holders: Vec<String>,
        /// The sender's VNet.
        vnet: String,
        /// The shortest chain of peered VNets to a holder, when it passes through others.
        chain: Option<Vec<String>>,
    },
    /// A private address outside every connected network, sent to the Internet.
    PrivateToInternet {
        /// The route.
        via: RouteVia,
        /// The destination.
        dst: IpAddr,
    },
    /// A route's next hop that is no appliance the VNet reaches.
    NoAppliance {
        /// The route.
        via: RouteVia,
        /// The next hop.
        ip: IpAddr,
        /// The subnet's VNet.
        vnet: String,
        /// Firewalls of other routing domains with that address: (firewall, its VNet).
        elsewhere: Vec<(String, String)>,
    },
    /// More than eight appliance hops.
    Loop,
    /// A VNet not peered with the VNets holding the destination.
    NotPeered {
        /// The VNet the packet is in.
        vnet: String,
        /// The VNets holding the destination.
        holders: Vec<String>,
    },
    /// An on-premises network reaching a peered VNet without gateway transit.
    TransitOff {
        /// The VNet whose gateway connects it.
        vnet: String,
        /// The peered VNet.
        peer: String,
    },
    /// How a packet from outside a subnet reaches the VNet.
    Private(PrivateWay),
    /// A private address asked from the Internet.
    PrivateFromInternet {
        /// The destination.
        dst: IpAddr,
        /// The VNets holding it.
        holders: Vec<String>,
    },
    /// From 168.63.129.16 to an address more than one VNet holds.
    PlatformAmbiguous {
        /// The destination.
        dst: IpAddr,
        /// The hosts with the address.
        hosts: Vec<HostAt>,
    },
    /// From 168.63.129.16, which reaches every VNet.
    FromPlatform,
    /// An address no modelled network holds.
    OutsideEveryNetwork {
        /// The destination.
        dst: IpAddr,
    },
    /// Replies that the subnet's routes send to an appliance, which drops them.
    AsymmetricReply {
        /// The client the replies go to.
        client: IpAddr,
        /// The route the replies follow.
        via: RouteVia,
        /// The appliance.
        appliance: IpAddr,
    },
    /// The VM named as the destination is not where the packet arrives.
    NotTheIntendedNic {
        /// The destination.
        dst: IpAddr,
        /// The VM named.
        target: HostAt,
        /// The VNet the packet stays in.
        vnet: String,
        /// What it reaches there.
        reached: HostAt,
        /// The named VM's VNet.
        target_vnet: String,
    },
    /// The firewall's own address.
    FirewallItself {
        /// The destination.
        dst: IpAddr,
    },
    /// An address of the VNet no modelled NIC has.
    UnmodelledHost {
        /// The destination.
        dst: IpAddr,
        /// NICs of other VNets with the address, which this packet does not reach.
        elsewhere: Vec<HostAt>,
        /// The VNet it is looked up in.
        vnet: String,
    },
    /// A source address that several routing domains hold.
    AmbiguousSource {
        /// The address.
        address: IpAddr,
        /// The hosts with it.
        hosts: Vec<HostAt>,
    },
}

impl fmt::Display for PeeringLead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeeringLead::Direct => Ok(()),
            PeeringLead::Route { dst, via, firewall: None } => write!(f, "to {dst}: {via}; "),
            PeeringLead::Route { dst, via, firewall: Some(fw) } => {
                write!(f, "to {dst}: {via} (Azure Firewall '{fw}'); ")
            }
            PeeringLead::OnPremisesTransit { vnet, dst_vnet } => write!(
                f,
                "the on-premises network behind the gateway of vnet '{vnet}' reaches vnet '{dst_vnet}' through gateway transit, over the peering; "
            ),
            PeeringLead::Bastion { bastion } => {
                write!(f, "Azure Bastion '{bastion}' reaches VMs in peered VNets over the peering; ")
            }
        }
    }
}

impl fmt::Display for RouteThen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteThen::Nothing => Ok(()),
            RouteThen::Gateway => f.write_str("; leaves through the gateway to on-premises"),
            RouteThen::Firewall { firewall } => write!(f, " (Azure Firewall '{firewall}')"),
            RouteThen::PublicIp { address } => {
                write!(f, "; outbound SNAT: the source becomes the public IP {address}")
            }
            RouteThen::LoadBalancer { lb, address } => write!(
                f,
                "; outbound SNAT through load balancer '{lb}': the source becomes its frontend address {address} (the load-balancer hop says by which rule)"
            ),
            RouteThen::NatGateway { gateway, address } => write!(
                f,
                "; the subnet's NAT gateway '{gateway}' is its route to the Internet: the source becomes {address} (the nat-gateway hop says how)"
            ),
            RouteThen::DefaultOutbound { address } => write!(
                f,
                "; no public IP, so default outbound access: the source becomes an implicit Microsoft public address (nsgsim shows it as {address}; model choice, see docs/fidelity.md)"
            ),
        }
    }
}

impl fmt::Display for RouteDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteDetail::NoRoute { dst } => write!(f, "no route to {dst}"),
            RouteDetail::Dropped { via } => write!(f, "{via}: next hop None drops the traffic"),
            RouteDetail::Routed { dst, via, then } => write!(f, "to {dst}: {via}{then}"),
            RouteDetail::NotInVnet { dst, vnet } => write!(f, "{dst} is not in vnet '{vnet}'"),
            RouteDetail::PeeringBlocked { lead, peering: BlockedPeering { from, to, side } } => write!(
                f,
                "{lead}the peering {from}->{to} blocks virtual network access (allowVirtualNetworkAccess false on {side}'s side) and carries no traffic either way: option peering_access_blocks_all_traffic follows Microsoft's older peering documentation (\"When this setting is disabled, traffic doesn't flow between the peered virtual networks\"); without the option only {side}'s VirtualNetwork tag changes, as the current documentation says"
            ),
            RouteDetail::SenderOutsideSubnetPeering { dst, via, gap } => write!(
                f,
                "to {dst}: {via}; {gap}: Azure gives every subnet the route to the remote peered subnets, but Microsoft: \"the nonpeered subnets can send packet to destination node in the peered subnet, although the packet is dropped and doesn't reach the virtual machine\""
            ),
            RouteDetail::GatewayOutsideSubnetPeering { dst, via, gap } => write!(
                f,
                "to {dst}: {via}; {gap}: the remote gateway is reached over the peering, and a subnet outside a subnet peering is not advertised to on-premises and its packets over the peering are dropped (model choice, docs/fidelity.md)"
            ),
            RouteDetail::ApplianceOutsideSubnetPeering { dst, via, firewall, gap } => write!(
                f,
                "to {dst}: {via} (Azure Firewall '{firewall}'); {gap}: the next hop is reached over the peering, which drops the packet (model choice, docs/fidelity.md)"
            ),
            RouteDetail::DestinationOutsideSubnetPeering { from, transit_to, gap } => {
                match transit_to {
                    Some(to) => write!(
                        f,
                        "the on-premises network behind the gateway of vnet '{from}' reaches vnet '{to}' through gateway transit, over the peering, and only its peered subnets: Microsoft, subnet peering \"prevents unnecessary exposure of the entire virtual network address space through gateways to on-premises environments\""
                    )?,
                    None => write!(f, "from vnet '{from}' over the peering")?,
                }
                write!(f, "; {gap}")
            }
            RouteDetail::UnpeeredSubnet { dst, subnet, here, there } => {
                write!(f, "{dst} is in ")?;
                match subnet {
                    Some(s) => write!(f, "subnet '{s}' of '{there}'")?,
                    None => write!(f, "an address of '{there}' in no modelled subnet")?,
                }
                write!(
                    f,
                    ", which is not in the subnet peering {here}<->{there} (peerCompleteVnets false): Azure routes only the peered subnets' prefixes over it, so the default route sends it to the Internet, where private addresses are dropped"
                )
            }
            RouteDetail::OwnSpaceToInternet { via, dst, vnet } => write!(
                f,
                "{via}: {dst} is in the address space of vnet '{vnet}' itself, and this route sends it to the Internet, where private addresses are dropped"
            ),
            RouteDetail::NotPeeredToInternet { dst, holders, vnet, chain } => {
                write!(
                    f,
                    "{dst} is in {}, which {} not peered with vnet '{vnet}'; the default route sends it to the Internet, where private addresses are dropped",
                    VnetNames(holders),
                    if holders.len() == 1 { "is" } else { "are" }
                )?;
                match chain {
                    Some(path) if path.len() > 2 => write!(
                        f,
                        "; the VNets connect only through {} ({}): peering is not transitive, so route through an appliance there (a UDR) or peer them directly",
                        path[1..path.len() - 1].join(", "),
                        path.join(" - ")
                    ),
                    _ => f.write_str(" (peering is not transitive)"),
                }
            }
            RouteDetail::PrivateToInternet { via, dst } => write!(
                f,
                "{via}: {dst} is a private address outside every connected network; the Internet drops it"
            ),
            RouteDetail::NoAppliance { via, ip, vnet, elsewhere } => {
                if elsewhere.is_empty() {
                    return write!(
                        f,
                        "{via}: {ip} is not a modelled appliance; nsgsim models Azure Firewall as the only virtual appliance"
                    );
                }
                let elsewhere: Vec<String> =
                    elsewhere.iter().map(|(fw, v)| format!("Azure Firewall '{fw}' (vnet '{v}')")).collect();
                write!(
                    f,
                    "{via}: the next hop {ip} is not an address of vnet '{vnet}' or of a VNet peered with it ({} has it, in another routing domain); Microsoft: \"A next hop private IP address must have direct connectivity\", and a next hop without it \"results in an invalid user-defined routing configuration\", so the packet is dropped",
                    elsewhere.join(", ")
                )
            }
            RouteDetail::Loop => f.write_str("routing loop: more than 8 appliance hops"),
            RouteDetail::NotPeered { vnet, holders } => write!(
                f,
                "vnet '{vnet}' is not peered with {} (peering is not transitive)",
                VnetNames(holders)
            ),
            RouteDetail::TransitOff { vnet, peer } => write!(
                f,
                "the on-premises network behind the gateway of vnet '{vnet}' reaches peered vnet '{peer}' only through gateway transit, which is off (in Azure: 'allow gateway transit' on {vnet}'s peering and 'use remote gateways' on {peer}'s; scenario: Peering(vnets: (\"{vnet}\", \"{peer}\"), allow_gateway_transit: true, use_remote_gateways: true))"
            ),
            RouteDetail::Private(PrivateWay::OnPremises { vnet }) => {
                write!(f, "on-premises network connected to vnet '{vnet}' through its gateway")
            }
            RouteDetail::Private(PrivateWay::OnPremisesTransit { vnet, dst_vnet }) => write!(
                f,
                "on-premises network connected to vnet '{vnet}' through its gateway; vnet '{dst_vnet}' uses that gateway through peering (gateway transit)"
            ),
            RouteDetail::Private(PrivateWay::Inside { vnet }) => write!(f, "inside vnet '{vnet}'"),
            RouteDetail::PrivateFromInternet { dst, holders } => write!(
                f,
                "{dst} is a private address in {}: not routable from the Internet",
                VnetNames(holders)
            ),
            RouteDetail::PlatformAmbiguous { dst, hosts } => write!(
                f,
                "168.63.129.16 reaches every VNet, and {dst} is an address of more than one: {}; name the VM to say which",
                Hosts(hosts)
            ),
            RouteDetail::FromPlatform => f.write_str(
                "from the host platform address 168.63.129.16, which reaches every VNet; traffic from it is the Azure Load Balancer's health probe, which NSGs filter (the AzureLoadBalancer tag, AllowAzureLoadBalancerInBound)",
            ),
            RouteDetail::OutsideEveryNetwork { dst } => write!(f, "{dst} is outside every modelled network"),
            RouteDetail::AsymmetricReply { client, via, appliance } => write!(
                f,
                "asymmetric routing: replies to {client} would follow {via} to appliance {appliance}, which drops them (model choice; see docs/fidelity.md)"
            ),
            RouteDetail::NotTheIntendedNic { dst, target, vnet, reached, target_vnet } => write!(
                f,
                "{dst} is the private address of {target}, but the packet stays in vnet '{vnet}', whose own address space holds it (VnetLocal: Azure routes an address of a VNet's space within that VNet): it reaches {reached} there, never vnet '{target_vnet}'"
            ),
            RouteDetail::FirewallItself { dst } => write!(
                f,
                "{dst} is the firewall's own address; traffic to the firewall itself is not modelled"
            ),
            RouteDetail::UnmodelledHost { dst, elsewhere, vnet } => {
                write!(f, "{dst} is an unmodelled host in the VNet; no NSG of its is known")?;
                if !elsewhere.is_empty() {
                    write!(
                        f,
                        " ({dst} is also {}, in a VNet this packet does not enter: the address is looked up in vnet '{vnet}', which holds it)",
                        Hosts(elsewhere)
                    )?;
                }
                Ok(())
            }
            RouteDetail::AmbiguousSource { address, hosts } => write!(
                f,
                "the source address {address} is ambiguous: it is {}, in separate routing domains; name the VM, or let the destination decide (a VM, or an address that only one of them reaches)",
                Hosts(hosts)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NextHop;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn local() -> RouteVia {
        RouteVia { prefix: "10.0.0.0/16".parse().expect("net"), source: RouteSource::VnetLocal }
    }

    fn internet() -> RouteVia {
        RouteVia { prefix: "0.0.0.0/0".parse().expect("net"), source: RouteSource::Internet }
    }

    fn gap() -> SubnetPeeringGap {
        SubnetPeeringGap {
            role: PeeringRole::Sender,
            subnet: "app".into(),
            vnet: "spoke".into(),
            remote: "hub".into(),
            listed: vec!["web".into(), "db".into()],
        }
    }

    const GAP: &str = "the sender's subnet 'app' of 'spoke' is not in the subnet peering spoke<->hub (peerCompleteVnets false; peered subnets of 'spoke': web, db)";

    fn says(detail: RouteDetail) -> String {
        detail.to_string()
    }

    #[test]
    fn a_route_via_names_its_prefix_and_source() {
        let user = RouteVia {
            prefix: "0.0.0.0/0".parse().expect("net"),
            source: RouteSource::User {
                table: "rt".into(),
                route: "all".into(),
                next_hop: NextHop::VirtualAppliance(ip("10.0.1.4")),
            },
        };
        assert_eq!(user.to_string(), "0.0.0.0/0 via user route 'rt/all' (VirtualAppliance 10.0.1.4)");
        assert_eq!(local().to_string(), "10.0.0.0/16 via system (VnetLocal)");
    }

    #[test]
    fn hosts_print_as_site_labels() {
        let nic = HostAt::Nic { owner: "vm-a".into(), vnet: "vnet-a".into() };
        let free = HostAt::Unmodelled { vnet: "vnet-b".into() };
        let onprem = HostAt::OnPremises { vnet: "hub".into() };
        assert_eq!(nic.to_string(), "vm-a (vnet-a)");
        assert_eq!(free.to_string(), "an unmodelled host of vnet-b");
        assert_eq!(onprem.to_string(), "an on-premises host behind the gateway of hub");
        assert_eq!(Hosts(&[nic, free]).to_string(), "vm-a (vnet-a), an unmodelled host of vnet-b");
    }

    #[test]
    fn no_route() {
        assert_eq!(says(RouteDetail::NoRoute { dst: ip("10.9.0.4") }), "no route to 10.9.0.4");
    }

    #[test]
    fn dropped() {
        assert_eq!(
            says(RouteDetail::Dropped { via: local() }),
            "10.0.0.0/16 via system (VnetLocal): next hop None drops the traffic"
        );
    }

    #[test]
    fn routed_with_each_thing_that_follows() {
        let routed = |then| says(RouteDetail::Routed { dst: ip("8.8.8.8"), via: internet(), then });
        let head = "to 8.8.8.8: 0.0.0.0/0 via system (Internet)";
        assert_eq!(routed(RouteThen::Nothing), head);
        assert_eq!(routed(RouteThen::Gateway), format!("{head}; leaves through the gateway to on-premises"));
        assert_eq!(
            routed(RouteThen::Firewall { firewall: "fw".into() }),
            format!("{head} (Azure Firewall 'fw')")
        );
        assert_eq!(
            routed(RouteThen::PublicIp { address: ip("20.0.0.1") }),
            format!("{head}; outbound SNAT: the source becomes the public IP 20.0.0.1")
        );
        assert_eq!(
            routed(RouteThen::LoadBalancer { lb: "lb".into(), address: ip("20.0.0.2") }),
            format!(
                "{head}; outbound SNAT through load balancer 'lb': the source becomes its frontend address 20.0.0.2 (the load-balancer hop says by which rule)"
            )
        );
        assert_eq!(
            routed(RouteThen::NatGateway { gateway: "nat".into(), address: ip("20.0.0.3") }),
            format!(
                "{head}; the subnet's NAT gateway 'nat' is its route to the Internet: the source becomes 20.0.0.3 (the nat-gateway hop says how)"
            )
        );
        assert_eq!(
            routed(RouteThen::DefaultOutbound { address: ip("192.0.2.1") }),
            format!(
                "{head}; no public IP, so default outbound access: the source becomes an implicit Microsoft public address (nsgsim shows it as 192.0.2.1; model choice, see docs/fidelity.md)"
            )
        );
    }

    #[test]
    fn not_in_vnet() {
        assert_eq!(
            says(RouteDetail::NotInVnet { dst: ip("10.5.0.4"), vnet: "hub".into() }),
            "10.5.0.4 is not in vnet 'hub'"
        );
    }

    #[test]
    fn peering_blocked_after_each_lead() {
        let blocked = |lead| {
            says(RouteDetail::PeeringBlocked {
                lead,
                peering: BlockedPeering { from: "hub".into(), to: "spoke".into(), side: "spoke".into() },
            })
        };
        let tail = "the peering hub->spoke blocks virtual network access (allowVirtualNetworkAccess false on spoke's side) and carries no traffic either way: option peering_access_blocks_all_traffic follows Microsoft's older peering documentation (\"When this setting is disabled, traffic doesn't flow between the peered virtual networks\"); without the option only spoke's VirtualNetwork tag changes, as the current documentation says";
        assert_eq!(blocked(PeeringLead::Direct), tail);
        let dst = ip("10.1.0.4");
        assert_eq!(
            blocked(PeeringLead::Route { dst, via: local(), firewall: None }),
            format!("to 10.1.0.4: 10.0.0.0/16 via system (VnetLocal); {tail}")
        );
        assert_eq!(
            blocked(PeeringLead::Route { dst, via: local(), firewall: Some("fw".into()) }),
            format!("to 10.1.0.4: 10.0.0.0/16 via system (VnetLocal) (Azure Firewall 'fw'); {tail}")
        );
        assert_eq!(
            blocked(PeeringLead::OnPremisesTransit { vnet: "hub".into(), dst_vnet: "spoke".into() }),
            format!(
                "the on-premises network behind the gateway of vnet 'hub' reaches vnet 'spoke' through gateway transit, over the peering; {tail}"
            )
        );
        assert_eq!(
            blocked(PeeringLead::Bastion { bastion: "bas".into() }),
            format!("Azure Bastion 'bas' reaches VMs in peered VNets over the peering; {tail}")
        );
    }

    #[test]
    fn sender_outside_subnet_peering() {
        assert_eq!(
            says(RouteDetail::SenderOutsideSubnetPeering { dst: ip("10.0.1.4"), via: local(), gap: gap() }),
            format!(
                "to 10.0.1.4: 10.0.0.0/16 via system (VnetLocal); {GAP}: Azure gives every subnet the route to the remote peered subnets, but Microsoft: \"the nonpeered subnets can send packet to destination node in the peered subnet, although the packet is dropped and doesn't reach the virtual machine\""
            )
        );
    }

    #[test]
    fn gateway_outside_subnet_peering() {
        assert_eq!(
            says(RouteDetail::GatewayOutsideSubnetPeering { dst: ip("10.0.1.4"), via: local(), gap: gap() }),
            format!(
                "to 10.0.1.4: 10.0.0.0/16 via system (VnetLocal); {GAP}: the remote gateway is reached over the peering, and a subnet outside a subnet peering is not advertised to on-premises and its packets over the peering are dropped (model choice, docs/fidelity.md)"
            )
        );
    }

    #[test]
    fn appliance_outside_subnet_peering() {
        let detail = RouteDetail::ApplianceOutsideSubnetPeering {
            dst: ip("10.0.1.4"),
            via: local(),
            firewall: "fw".into(),
            gap: SubnetPeeringGap { role: PeeringRole::Appliance, ..gap() },
        };
        assert_eq!(
            says(detail),
            "to 10.0.1.4: 10.0.0.0/16 via system (VnetLocal) (Azure Firewall 'fw'); the appliance's subnet 'app' of 'spoke' is not in the subnet peering spoke<->hub (peerCompleteVnets false; peered subnets of 'spoke': web, db): the next hop is reached over the peering, which drops the packet (model choice, docs/fidelity.md)"
        );
    }

    #[test]
    fn destination_outside_subnet_peering() {
        let gap = SubnetPeeringGap { role: PeeringRole::Destination, ..gap() };
        let dest = "the destination's subnet 'app' of 'spoke' is not in the subnet peering spoke<->hub (peerCompleteVnets false; peered subnets of 'spoke': web, db)";
        let from_vnet = RouteDetail::DestinationOutsideSubnetPeering {
            from: "hub".into(),
            transit_to: None,
            gap: gap.clone(),
        };
        assert_eq!(says(from_vnet), format!("from vnet 'hub' over the peering; {dest}"));
        let transit = RouteDetail::DestinationOutsideSubnetPeering {
            from: "hub".into(),
            transit_to: Some("spoke".into()),
            gap,
        };
        assert_eq!(
            says(transit),
            format!(
                "the on-premises network behind the gateway of vnet 'hub' reaches vnet 'spoke' through gateway transit, over the peering, and only its peered subnets: Microsoft, subnet peering \"prevents unnecessary exposure of the entire virtual network address space through gateways to on-premises environments\"; {dest}"
            )
        );
        assert_eq!(PeeringRole::BastionHost.to_string(), "Bastion host");
    }

    #[test]
    fn unpeered_subnet() {
        let tail = ", which is not in the subnet peering spoke<->hub (peerCompleteVnets false): Azure routes only the peered subnets' prefixes over it, so the default route sends it to the Internet, where private addresses are dropped";
        let detail = |subnet| RouteDetail::UnpeeredSubnet {
            dst: ip("10.0.2.4"),
            subnet,
            here: "spoke".into(),
            there: "hub".into(),
        };
        assert_eq!(says(detail(Some("db".into()))), format!("10.0.2.4 is in subnet 'db' of 'hub'{tail}"));
        assert_eq!(
            says(detail(None)),
            format!("10.0.2.4 is in an address of 'hub' in no modelled subnet{tail}")
        );
    }

    #[test]
    fn own_space_to_internet() {
        assert_eq!(
            says(RouteDetail::OwnSpaceToInternet {
                via: internet(),
                dst: ip("10.0.9.9"),
                vnet: "hub".into()
            }),
            "0.0.0.0/0 via system (Internet): 10.0.9.9 is in the address space of vnet 'hub' itself, and this route sends it to the Internet, where private addresses are dropped"
        );
    }

    #[test]
    fn not_peered_to_internet_with_and_without_a_chain() {
        let detail = |holders: Vec<&str>, chain: Option<Vec<&str>>| {
            says(RouteDetail::NotPeeredToInternet {
                dst: ip("10.2.0.4"),
                holders: holders.into_iter().map(String::from).collect(),
                vnet: "a".into(),
                chain: chain.map(|c| c.into_iter().map(String::from).collect()),
            })
        };
        let head = "the default route sends it to the Internet, where private addresses are dropped";
        assert_eq!(
            detail(vec!["c"], Some(vec!["a", "b", "c"])),
            format!(
                "10.2.0.4 is in vnet 'c', which is not peered with vnet 'a'; {head}; the VNets connect only through b (a - b - c): peering is not transitive, so route through an appliance there (a UDR) or peer them directly"
            )
        );
        assert_eq!(
            detail(vec!["c", "d"], None),
            format!(
                "10.2.0.4 is in vnets 'c', 'd', which are not peered with vnet 'a'; {head} (peering is not transitive)"
            )
        );
    }

    #[test]
    fn private_to_internet() {
        assert_eq!(
            says(RouteDetail::PrivateToInternet { via: internet(), dst: ip("10.200.0.1") }),
            "0.0.0.0/0 via system (Internet): 10.200.0.1 is a private address outside every connected network; the Internet drops it"
        );
    }

    #[test]
    fn no_appliance() {
        let detail = |elsewhere| {
            says(RouteDetail::NoAppliance {
                via: local(),
                ip: ip("10.0.1.4"),
                vnet: "spoke".into(),
                elsewhere,
            })
        };
        assert_eq!(
            detail(Vec::new()),
            "10.0.0.0/16 via system (VnetLocal): 10.0.1.4 is not a modelled appliance; nsgsim models Azure Firewall as the only virtual appliance"
        );
        assert_eq!(
            detail(vec![("fw".into(), "hub2".into())]),
            "10.0.0.0/16 via system (VnetLocal): the next hop 10.0.1.4 is not an address of vnet 'spoke' or of a VNet peered with it (Azure Firewall 'fw' (vnet 'hub2') has it, in another routing domain); Microsoft: \"A next hop private IP address must have direct connectivity\", and a next hop without it \"results in an invalid user-defined routing configuration\", so the packet is dropped"
        );
    }

    #[test]
    fn routing_loop() {
        assert_eq!(says(RouteDetail::Loop), "routing loop: more than 8 appliance hops");
    }

    #[test]
    fn not_peered() {
        assert_eq!(
            says(RouteDetail::NotPeered { vnet: "a".into(), holders: vec!["b".into()] }),
            "vnet 'a' is not peered with vnet 'b' (peering is not transitive)"
        );
    }

    #[test]
    fn transit_off() {
        assert_eq!(
            says(RouteDetail::TransitOff { vnet: "hub".into(), peer: "spoke".into() }),
            "the on-premises network behind the gateway of vnet 'hub' reaches peered vnet 'spoke' only through gateway transit, which is off (in Azure: 'allow gateway transit' on hub's peering and 'use remote gateways' on spoke's; scenario: Peering(vnets: (\"hub\", \"spoke\"), allow_gateway_transit: true, use_remote_gateways: true))"
        );
    }

    #[test]
    fn private_ways() {
        assert_eq!(
            says(RouteDetail::Private(PrivateWay::OnPremises { vnet: "hub".into() })),
            "on-premises network connected to vnet 'hub' through its gateway"
        );
        assert_eq!(
            says(RouteDetail::Private(PrivateWay::OnPremisesTransit {
                vnet: "hub".into(),
                dst_vnet: "spoke".into()
            })),
            "on-premises network connected to vnet 'hub' through its gateway; vnet 'spoke' uses that gateway through peering (gateway transit)"
        );
        assert_eq!(
            says(RouteDetail::Private(PrivateWay::Inside { vnet: "hub".into() })),
            "inside vnet 'hub'"
        );
    }

    #[test]
    fn private_from_internet() {
        assert_eq!(
            says(RouteDetail::PrivateFromInternet {
                dst: ip("10.0.0.4"),
                holders: vec!["a".into(), "b".into()]
            }),
            "10.0.0.4 is a private address in vnets 'a', 'b': not routable from the Internet"
        );
    }

    #[test]
    fn platform_ambiguous() {
        let hosts = vec![
            HostAt::Nic { owner: "vm-a".into(), vnet: "a".into() },
            HostAt::Unmodelled { vnet: "b".into() },
        ];
        assert_eq!(
            says(RouteDetail::PlatformAmbiguous { dst: ip("10.0.0.4"), hosts }),
            "168.63.129.16 reaches every VNet, and 10.0.0.4 is an address of more than one: vm-a (a), an unmodelled host of b; name the VM to say which"
        );
    }

    #[test]
    fn from_platform() {
        assert_eq!(
            says(RouteDetail::FromPlatform),
            "from the host platform address 168.63.129.16, which reaches every VNet; traffic from it is the Azure Load Balancer's health probe, which NSGs filter (the AzureLoadBalancer tag, AllowAzureLoadBalancerInBound)"
        );
    }

    #[test]
    fn outside_every_network() {
        assert_eq!(
            says(RouteDetail::OutsideEveryNetwork { dst: ip("8.8.8.8") }),
            "8.8.8.8 is outside every modelled network"
        );
    }

    #[test]
    fn asymmetric_reply() {
        assert_eq!(
            says(RouteDetail::AsymmetricReply {
                client: ip("203.0.113.9"),
                via: internet(),
                appliance: ip("10.0.1.4")
            }),
            "asymmetric routing: replies to 203.0.113.9 would follow 0.0.0.0/0 via system (Internet) to appliance 10.0.1.4, which drops them (model choice; see docs/fidelity.md)"
        );
    }

    #[test]
    fn not_the_intended_nic() {
        let detail = RouteDetail::NotTheIntendedNic {
            dst: ip("10.0.1.4"),
            target: HostAt::Nic { owner: "b".into(), vnet: "vnet-b".into() },
            vnet: "vnet-a".into(),
            reached: HostAt::Unmodelled { vnet: "vnet-a".into() },
            target_vnet: "vnet-b".into(),
        };
        assert_eq!(
            says(detail),
            "10.0.1.4 is the private address of b (vnet-b), but the packet stays in vnet 'vnet-a', whose own address space holds it (VnetLocal: Azure routes an address of a VNet's space within that VNet): it reaches an unmodelled host of vnet-a there, never vnet 'vnet-b'"
        );
    }

    #[test]
    fn firewall_itself() {
        assert_eq!(
            says(RouteDetail::FirewallItself { dst: ip("10.0.1.4") }),
            "10.0.1.4 is the firewall's own address; traffic to the firewall itself is not modelled"
        );
    }

    #[test]
    fn unmodelled_host_with_and_without_twins_elsewhere() {
        let detail = |elsewhere| {
            says(RouteDetail::UnmodelledHost { dst: ip("10.0.1.6"), elsewhere, vnet: "a".into() })
        };
        assert_eq!(detail(Vec::new()), "10.0.1.6 is an unmodelled host in the VNet; no NSG of its is known");
        assert_eq!(
            detail(vec![HostAt::Nic { owner: "b2".into(), vnet: "b".into() }]),
            "10.0.1.6 is an unmodelled host in the VNet; no NSG of its is known (10.0.1.6 is also b2 (b), in a VNet this packet does not enter: the address is looked up in vnet 'a', which holds it)"
        );
    }

    #[test]
    fn ambiguous_source() {
        let hosts = vec![
            HostAt::Nic { owner: "a2".into(), vnet: "a".into() },
            HostAt::OnPremises { vnet: "hub".into() },
        ];
        assert_eq!(
            says(RouteDetail::AmbiguousSource { address: ip("10.0.1.5"), hosts }),
            "the source address 10.0.1.5 is ambiguous: it is a2 (a), an on-premises host behind the gateway of hub, in separate routing domains; name the VM, or let the destination decide (a VM, or an address that only one of them reaches)"
        );
    }
}

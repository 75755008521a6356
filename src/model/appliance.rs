//! Route tables, Azure Firewall and Azure Bastion: the resources that steer or relay traffic.
//!
//! Their rules are plain data here; how traffic goes through them is `path`'s job.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::ids::{PublicIpId, SubnetId, VnetId};
use crate::net::{AddrSet, PortSet, ProtocolSet};

/// Identifies a route table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteTableId(pub u32);
/// Identifies an Azure Firewall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FirewallId(pub u32);
/// Identifies an Azure Bastion host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BastionId(pub u32);

/// Where a user-defined route sends traffic (Azure's `nextHopType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// A network virtual appliance at this private address (e.g. an Azure Firewall).
    VirtualAppliance(IpAddr),
    /// Out to the Internet.
    Internet,
    /// Within the VNet's own address space.
    VnetLocal,
    /// The VNet's VPN/ExpressRoute gateway.
    VirtualNetworkGateway,
    /// Dropped.
    None,
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::VirtualAppliance(ip) => write!(f, "VirtualAppliance {ip}"),
            NextHop::Internet => f.write_str("Internet"),
            NextHop::VnetLocal => f.write_str("VnetLocal"),
            NextHop::VirtualNetworkGateway => f.write_str("VirtualNetworkGateway"),
            NextHop::None => f.write_str("None"),
        }
    }
}

/// One user-defined route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Name.
    pub name: String,
    /// Destination prefix.
    pub prefix: IpNet,
    /// Next hop.
    pub next_hop: NextHop,
}

/// A route table, associated with subnets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTable {
    /// Name.
    pub name: String,
    /// Its routes.
    pub routes: Vec<Route>,
}

impl RouteTable {
    /// Its IPv4 default route (`0.0.0.0/0`), if it has one: the route that forced tunnelling, the
    /// firewall subnet's requirement and the licensing platform rule all turn on.
    pub fn default_route(&self) -> Option<&Route> {
        self.routes.iter().find(|r| r.prefix.prefix_len() == 0 && r.prefix.addr().is_ipv4())
    }
}

/// Whether the firewall uses classic rules or a Firewall Policy (Firewall Manager).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirewallMode {
    /// Rules (classic): JIT can manage it.
    Classic,
    /// Firewall Policy / Firewall Manager: JIT cannot manage it.
    Policy,
}

/// Allow or deny, for network and application rule collections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirewallAction {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// A DNAT rule: traffic to the firewall's public IP and port is translated to a private target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnatRule {
    /// Name.
    pub name: String,
    /// Protocols.
    pub protocols: ProtocolSet,
    /// Sources it applies to.
    pub sources: AddrSet,
    /// The public destination address (the firewall's public IP).
    pub destination: IpAddr,
    /// The public destination port.
    pub destination_port: u16,
    /// The private address it translates to.
    pub translated_address: IpAddr,
    /// The port it translates to.
    pub translated_port: u16,
}

/// A network rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkRule {
    /// Name.
    pub name: String,
    /// Protocols.
    pub protocols: ProtocolSet,
    /// Sources.
    pub sources: AddrSet,
    /// Destinations.
    pub destinations: AddrSet,
    /// Destination ports.
    pub destination_ports: PortSet,
}

/// An application rule (HTTP/HTTPS/MSSQL to target FQDNs). Flows carry addresses, so each FQDN
/// is matched through the addresses the scenario gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationRule {
    /// Name.
    pub name: String,
    /// Sources.
    pub sources: AddrSet,
    /// Target FQDNs, as written.
    pub fqdns: Vec<String>,
    /// The addresses those FQDNs resolve to.
    pub destinations: AddrSet,
    /// Ports (`Http:80` = 80, `Https:443` = 443, `Mssql:1433` = 1433).
    pub ports: PortSet,
}

/// The rules of one collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollectionRules {
    /// DNAT rules.
    Dnat(Vec<DnatRule>),
    /// Network rules with the collection's action.
    Network(FirewallAction, Vec<NetworkRule>),
    /// Application rules with the collection's action.
    Application(FirewallAction, Vec<ApplicationRule>),
}

/// A rule collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCollection {
    /// Name.
    pub name: String,
    /// 100–65000, lower first.
    pub priority: u32,
    /// Its rules.
    pub rules: CollectionRules,
}

/// A rule collection group (Firewall Policy; classic rules sit in one implicit group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCollectionGroup {
    /// Name.
    pub name: String,
    /// 100–65000, lower first.
    pub priority: u32,
    /// Its collections.
    pub collections: Vec<RuleCollection>,
}

/// An Azure Firewall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firewall {
    /// Name.
    pub name: String,
    /// Its subnet (`AzureFirewallSubnet`).
    pub subnet: SubnetId,
    /// Its private address (the next hop of UDRs).
    pub private_ip: IpAddr,
    /// Its public IP, for DNAT and SNAT to the Internet.
    pub public_ip: Option<PublicIpId>,
    /// Classic rules or Firewall Policy.
    pub mode: FirewallMode,
    /// Rule collection groups.
    pub groups: Vec<RuleCollectionGroup>,
    /// Older documented DNAT behaviour: translated traffic gets an implicit network allow that
    /// explicit network deny rules override (scenario option `firewall_dnat_legacy_network_rules`).
    pub legacy_dnat: bool,
}

/// An Azure Bastion host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bastion {
    /// Name.
    pub name: String,
    /// Its VNet.
    pub vnet: VnetId,
    /// Its subnet (`AzureBastionSubnet`, /26 or larger).
    pub subnet: SubnetId,
    /// Its public IP (users connect to it on 443).
    pub public_ip: Option<PublicIpId>,
    /// The address its sessions to VMs come from (model choice: the subnet's first usable address).
    pub private_ip: IpAddr,
}

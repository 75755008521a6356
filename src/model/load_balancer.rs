//! Azure Load Balancer: frontends, backend pools of NIC IP configurations, load-balancing rules,
//! inbound NAT rules and health probes, as plain data.
//!
//! A load balancer is a pass-through: it translates the destination (frontend address and port)
//! to a backend member's private address and port and keeps the client's source, so the
//! backend's NSGs see the client ("The source port and address range applied are from the
//! originating computer, not the load balancer", Network security groups). How a flow goes
//! through one is `path::load_balancer`'s job; the checks Azure makes when one is created are
//! `Topology::add_load_balancer`'s.

use std::fmt;
use std::net::IpAddr;

use crate::ids::{NicId, PublicIpId, SubnetId};
use crate::net::IpProtocol;

/// Identifies a load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoadBalancerId(pub u32);

/// Load balancer SKU: decides whether a public frontend is open or closed without an NSG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbSku {
    /// "Basic load balancer is open to the internet by default" (retired September 2025).
    Basic,
    /// "Standard load balancers and standard public IP addresses are closed to inbound
    /// connections unless opened by Network Security Groups".
    Standard,
}

impl fmt::Display for LbSku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LbSku::Basic => "Basic",
            LbSku::Standard => "Standard",
        })
    }
}

/// Where a frontend listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontendAddress {
    /// A public IP resource: a public load balancer.
    Public(PublicIpId),
    /// A private address in a subnet: an internal load balancer.
    Private {
        /// The subnet the address is taken from.
        subnet: SubnetId,
        /// The address.
        address: IpAddr,
    },
}

/// A frontend IP configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frontend {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Its address.
    pub address: FrontendAddress,
}

/// One member of a backend pool: a NIC's IP configuration (0 the primary, `i` the NIC's
/// `secondary[i - 1]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackendMember {
    /// The NIC.
    pub nic: NicId,
    /// Its IP configuration.
    pub config: usize,
}

/// A backend address pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendPool {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Its members, in order.
    pub members: Vec<BackendMember>,
}

/// A health probe's protocol (Standard: TCP, HTTP, HTTPS; Basic: TCP, HTTP). Every one is a TCP
/// connection from 168.63.129.16 to the probe port, which is what the NSGs see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeProtocol {
    /// A TCP handshake.
    Tcp,
    /// An HTTP GET.
    Http,
    /// An HTTPS GET.
    Https,
}

/// A health probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Protocol.
    pub protocol: ProbeProtocol,
    /// The backend port probed.
    pub port: u16,
}

/// The protocols a rule forwards: `Tcp`, `Udp` or `All` (HA ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// Every protocol (HA ports rules of an internal Standard load balancer).
    All,
}

impl LbProtocol {
    /// Whether the rule forwards `protocol`.
    pub fn matches(self, protocol: IpProtocol) -> bool {
        match self {
            LbProtocol::Tcp => protocol == IpProtocol::TCP,
            LbProtocol::Udp => protocol == IpProtocol::UDP,
            LbProtocol::All => true,
        }
    }
}

impl fmt::Display for LbProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LbProtocol::Tcp => "Tcp",
            LbProtocol::Udp => "Udp",
            LbProtocol::All => "All",
        })
    }
}

/// A load-balancing rule: a frontend's port to a pool's backend port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbRule {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Index into the load balancer's frontends.
    pub frontend: usize,
    /// Protocol.
    pub protocol: LbProtocol,
    /// The frontend port; with protocol `All` and port 0, every port (HA ports).
    pub frontend_port: u16,
    /// The backend port (HA ports: the port addressed).
    pub backend_port: u16,
    /// Index into the load balancer's pools.
    pub pool: usize,
    /// Index into the load balancer's probes, if the rule has one.
    pub probe: Option<usize>,
    /// Floating IP (direct server return): the backend receives the frontend's address as the
    /// destination, so its NSGs see that address.
    pub floating_ip: bool,
}

impl LbRule {
    /// Whether this is an HA ports rule (every protocol and port).
    pub fn ha_ports(&self) -> bool {
        self.protocol == LbProtocol::All && self.frontend_port == 0
    }

    /// The backend port a flow to `frontend_port` is sent to, if the rule takes that port.
    pub fn backend_port_for(&self, protocol: IpProtocol, frontend_port: u16) -> Option<u16> {
        if self.ha_ports() {
            return Some(frontend_port);
        }
        (self.protocol.matches(protocol) && self.frontend_port == frontend_port).then_some(self.backend_port)
    }
}

/// Where an inbound NAT rule sends traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NatTarget {
    /// One backend IP configuration (Azure's inbound NAT rule V1, the NIC's
    /// `loadBalancerInboundNatRules`).
    Member(BackendMember),
    /// A pool: frontend port `start + i` goes to the pool's `i`-th member (inbound NAT rule V2
    /// with `frontendPortRangeStart`/`End` and a backend pool; and inbound NAT pools).
    Pool(usize),
}

/// An inbound NAT rule: a frontend port (or range) forwarded to one backend member's port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatRule {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Index into the load balancer's frontends.
    pub frontend: usize,
    /// Protocol (`Tcp` or `Udp`; `All` also accepted).
    pub protocol: LbProtocol,
    /// First frontend port.
    pub frontend_port_start: u16,
    /// Last frontend port (equal to the first for a single-port rule).
    pub frontend_port_end: u16,
    /// The backend port.
    pub backend_port: u16,
    /// Who receives it.
    pub target: NatTarget,
    /// Floating IP, as for load-balancing rules.
    pub floating_ip: bool,
}

/// An Azure Load Balancer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancer {
    /// Name, unique in the topology.
    pub name: String,
    /// SKU.
    pub sku: LbSku,
    /// Frontend IP configurations.
    pub frontends: Vec<Frontend>,
    /// Backend pools.
    pub pools: Vec<BackendPool>,
    /// Health probes.
    pub probes: Vec<Probe>,
    /// Load-balancing rules.
    pub rules: Vec<LbRule>,
    /// Inbound NAT rules (and NAT pools, as rules whose target is a pool).
    pub nat_rules: Vec<NatRule>,
    /// Names of its outbound rules: not modelled (they change the source address of traffic to
    /// the Internet); the scenario records a caveat for each.
    pub outbound_rules: Vec<String>,
}

impl LoadBalancer {
    /// Whether it is internal (every frontend private).
    pub fn is_internal(&self) -> bool {
        self.frontends.iter().all(|f| matches!(f.address, FrontendAddress::Private { .. }))
    }

    /// Every member a NAT rule sends to, with its frontend port: one for a single-member rule,
    /// one per pool member (port `start + i`) for a pool rule, up to the range's end.
    pub fn nat_members(&self, rule: &NatRule) -> Vec<(u16, BackendMember)> {
        match &rule.target {
            NatTarget::Member(m) => vec![(rule.frontend_port_start, *m)],
            NatTarget::Pool(p) => self.pools[*p]
                .members
                .iter()
                .zip(rule.frontend_port_start..=rule.frontend_port_end)
                .map(|(m, port)| (port, *m))
                .collect(),
        }
    }
}

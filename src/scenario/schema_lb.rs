//! The scenario format's load balancers (serde types only; `load_lb.rs` gives them meaning):
//!
//! ```ron
//! LoadBalancer(name: "lb-web", sku: Standard,
//!     frontends: [Frontend(name: "fe", public_ip: "lb-pip")],
//!     pools: [Pool(name: "web", members: ["vm-a-nic", "vm-b-nic/ipconfig2"])],
//!     probes: [Probe(name: "http", protocol: Http, port: 80)],
//!     rules: [LbRule(name: "http", frontend: "fe", protocol: Tcp, frontend_port: 80,
//!                    backend_port: 80, pool: "web", probe: "http")],
//!     nat_rules: [NatRule(name: "rdp-a", frontend: "fe", protocol: Tcp, frontend_port: 50001,
//!                         backend_port: 3389, target: "vm-a-nic")],
//!     outbound_rules: [OutboundRule(name: "egress", frontends: ["fe-out"], pool: "web",
//!                                   protocol: All, allocated_outbound_ports: 10000)])
//! ```

use serde::Deserialize;

/// An Azure Load Balancer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "LoadBalancer")]
pub struct LoadBalancerSpec {
    /// Name.
    pub name: String,
    /// `Basic` or `Standard` (default Standard).
    #[serde(default)]
    pub sku: Option<LbSkuSpec>,
    /// Frontend IP configurations.
    pub frontends: Vec<FrontendSpec>,
    /// Backend pools.
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
    /// Health probes.
    #[serde(default)]
    pub probes: Vec<ProbeSpec>,
    /// Load-balancing rules.
    #[serde(default)]
    pub rules: Vec<LbRuleSpec>,
    /// Inbound NAT rules (a port or a port range; NAT pools are written as NAT rules with a
    /// `pool` target and a range).
    #[serde(default)]
    pub nat_rules: Vec<NatRuleSpec>,
    /// Outbound rules: the pool members' source address to the Internet (Standard only).
    #[serde(default)]
    pub outbound_rules: Vec<OutboundRuleSpec>,
}

/// An outbound rule (Azure's `outboundRules`): SNAT of a pool's members' traffic to the
/// Internet to the frontends' public addresses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "OutboundRule")]
pub struct OutboundRuleSpec {
    /// Name, unique in the load balancer.
    pub name: String,
    /// The public frontends' names (`frontendIPConfigurations`), at least one.
    pub frontends: Vec<String>,
    /// The backend pool's name (`backendAddressPool`).
    pub pool: String,
    /// `Tcp`, `Udp` or `All`.
    pub protocol: LbProtocolSpec,
    /// `allocatedOutboundPorts`: SNAT ports per member, a multiple of 8; 0 (the default) for
    /// Azure's allocation by pool size.
    #[serde(default)]
    pub allocated_outbound_ports: Option<i64>,
    /// `idleTimeoutInMinutes`: 4 to 120 (default 4).
    #[serde(default)]
    pub idle_timeout_minutes: Option<i64>,
    /// `enableTcpReset` (default false).
    #[serde(default)]
    pub enable_tcp_reset: bool,
}

/// Load balancer SKU.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "LbSku")]
pub enum LbSkuSpec {
    /// Open to the Internet by default.
    Basic,
    /// Closed unless an NSG allows.
    Standard,
}

/// A frontend IP configuration: `public_ip`, or `subnet` and `private_ip` (internal).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Frontend")]
pub struct FrontendSpec {
    /// Name, unique in the load balancer.
    pub name: String,
    /// A public IP of `public_ips` (a public load balancer).
    #[serde(default)]
    pub public_ip: Option<String>,
    /// `vnet/subnet` of an internal frontend.
    #[serde(default)]
    pub subnet: Option<String>,
    /// The internal frontend's private address, in `subnet`.
    #[serde(default)]
    pub private_ip: Option<String>,
}

/// A backend pool.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Pool")]
pub struct PoolSpec {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Members: a NIC's name (its primary IP configuration) or `nic/ipconfig` for a secondary
    /// configuration.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A health probe's protocol.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "ProbeProtocol")]
pub enum ProbeProtocolSpec {
    /// A TCP handshake.
    Tcp,
    /// An HTTP GET.
    Http,
    /// An HTTPS GET (Standard only).
    Https,
}

/// A health probe.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Probe")]
pub struct ProbeSpec {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Protocol (default Tcp).
    #[serde(default)]
    pub protocol: Option<ProbeProtocolSpec>,
    /// The backend port probed, 1–65535.
    pub port: i64,
}

/// The protocols a rule forwards.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "LbProtocol")]
pub enum LbProtocolSpec {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// Every protocol: with `frontend_port: 0` and `backend_port: 0`, an HA ports rule.
    All,
}

/// A load-balancing rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "LbRule")]
pub struct LbRuleSpec {
    /// Name, unique in the load balancer.
    pub name: String,
    /// The frontend's name.
    pub frontend: String,
    /// Protocol.
    pub protocol: LbProtocolSpec,
    /// Frontend port, 1–65535 (0 with protocol All: HA ports).
    pub frontend_port: i64,
    /// Backend port, 1–65535 (0 with protocol All: HA ports).
    pub backend_port: i64,
    /// The backend pool's name.
    pub pool: String,
    /// The health probe's name.
    #[serde(default)]
    pub probe: Option<String>,
    /// Floating IP (direct server return): the member receives the frontend's address as the
    /// destination.
    #[serde(default)]
    pub floating_ip: bool,
    /// Azure's `disableOutboundSnat` (default false: a public frontend's rule also gives its
    /// pool outbound SNAT to the frontend's address for the rule's protocol).
    #[serde(default)]
    pub disable_outbound_snat: bool,
}

/// An inbound NAT rule: `frontend_port` to `target`'s `backend_port`, or a range
/// `frontend_port`..=`frontend_port_end` over a `pool`'s members in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "NatRule")]
pub struct NatRuleSpec {
    /// Name, unique in the load balancer.
    pub name: String,
    /// The frontend's name.
    pub frontend: String,
    /// Protocol.
    pub protocol: LbProtocolSpec,
    /// Frontend port (the first of the range for a pool), 1–65535.
    pub frontend_port: i64,
    /// The last frontend port of a pool's range (default: `frontend_port`).
    #[serde(default)]
    pub frontend_port_end: Option<i64>,
    /// Backend port, 1–65535.
    pub backend_port: i64,
    /// One member: a NIC's name or `nic/ipconfig`.
    #[serde(default)]
    pub target: Option<String>,
    /// A backend pool: frontend port `frontend_port + i` goes to its `i`-th member.
    #[serde(default)]
    pub pool: Option<String>,
    /// Floating IP, as for load-balancing rules.
    #[serde(default)]
    pub floating_ip: bool,
}

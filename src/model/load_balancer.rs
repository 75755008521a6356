//! Azure Load Balancer: frontends, backend pools of NIC IP configurations, load-balancing rules,
//! inbound NAT rules, health probes and outbound rules, as plain data.
//!
//! A load balancer is a pass-through: it translates the destination (frontend address and port)
//! to a backend member's private address and port and keeps the client's source, so the
//! backend's NSGs see the client ("The source port and address range applied are from the
//! originating computer, not the load balancer", Network security groups). How a flow goes
//! through one is `path::load_balancer`'s job; the checks Azure makes when one is created are
//! `Topology::add_load_balancer`'s (and, for outbound rules, [`LoadBalancer::outbound_rule_problem`]).
//!
//! Outbound, a public load balancer is a source translation: an outbound rule, or a
//! load-balancing rule whose outbound SNAT is not disabled, gives its pool's members a frontend's
//! public address as their source to the Internet. Which of a VM's ways out wins is
//! `path::outbound`'s decision.

use std::fmt;
use std::net::IpAddr;

use crate::ids::{NicId, PublicIpId, SubnetId};
use crate::net::IpProtocol;

/// Typed ids live in [`crate::ids`]; re-exported here where they have always been named.
pub use crate::ids::LoadBalancerId;

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
    /// Azure's `disableOutboundSnat`: when false (Azure's default) a public frontend's rule also
    /// gives its pool's members outbound SNAT to the frontend's address for the rule's protocol
    /// ("Load-balancing rules provide automatic programming of outbound NAT").
    pub disable_outbound_snat: bool,
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
    /// Outbound rules: the source address its pools' members take to the Internet.
    pub outbound_rules: Vec<OutboundRule>,
}

/// The SNAT ports one public IP address of a frontend gives (Microsoft, "Outbound rules Azure
/// Load Balancer": "Each public IP address contributes up to 64,000 ephemeral ports").
pub const SNAT_PORTS_PER_ADDRESS: u32 = 64_000;

/// An outbound rule (Azure's `outboundRules`): the members of `pool` reach the Internet with a
/// frontend's public address as their source, for `protocol` (Microsoft: "An outbound rule
/// configures outbound NAT for all virtual machines identified by the backend pool to be
/// translated to the frontend"). Standard public load balancers only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundRule {
    /// Name, unique in the load balancer.
    pub name: String,
    /// Indexes into the load balancer's frontends (`frontendIPConfigurations`): at least one,
    /// each public. Azure uses their addresses one at a time, the first until its ports run out.
    pub frontends: Vec<usize>,
    /// Index into the load balancer's pools (`backendAddressPool`).
    pub pool: usize,
    /// The protocols translated: `Tcp`, `Udp` or `All` (both; ICMP never is).
    pub protocol: LbProtocol,
    /// `allocatedOutboundPorts`: SNAT ports per member, a multiple of 8; 0 for Azure's default
    /// allocation by pool size.
    pub allocated_ports: u32,
    /// `idleTimeoutInMinutes`: 4 to 120 (default 4).
    pub idle_timeout_minutes: u32,
    /// `enableTcpReset`: a TCP reset to both ends when an idle flow times out.
    pub tcp_reset: bool,
}

/// What Azure refuses in an outbound rule, with the facts; [`OutboundRuleProblem::field`] names
/// the rule's field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutboundRuleProblem {
    /// An outbound rule on a Basic load balancer.
    #[error(
        "outbound rule '{rule}': a Basic load balancer has no outbound rules (Azure: \"Outbound Rules: Not available\" for Basic); valid: sku Standard"
    )]
    BasicSku {
        /// The outbound rule.
        rule: String,
    },
    /// No frontend.
    #[error("outbound rule '{rule}' names no frontend; valid: one or more public frontends")]
    NoFrontend {
        /// The outbound rule.
        rule: String,
    },
    /// A frontend index out of range.
    #[error("outbound rule '{rule}' names a frontend that does not exist")]
    FrontendMissing {
        /// The outbound rule.
        rule: String,
    },
    /// A private frontend.
    #[error(
        "outbound rule '{rule}': frontend '{frontend}' is private, and an outbound rule translates to public addresses; valid: a frontend with a public IP"
    )]
    PrivateFrontend {
        /// The outbound rule.
        rule: String,
        /// The frontend.
        frontend: String,
    },
    /// A frontend a load-balancing rule already uses for outbound SNAT.
    #[error(
        "outbound rule '{rule}': frontend '{frontend}' already gives outbound SNAT through load-balancing rule '{lb_rule}', and Azure refuses an outbound rule that redefines it (\"Disable the outbound NAT of the load-balancing rule first\"); valid: disable_outbound_snat: true on rule '{lb_rule}', or another frontend"
    )]
    FrontendSnatInUse {
        /// The outbound rule.
        rule: String,
        /// The frontend.
        frontend: String,
        /// The load-balancing rule that SNATs through it.
        lb_rule: String,
    },
    /// A pool index out of range.
    #[error("outbound rule '{rule}' names a pool that does not exist")]
    PoolMissing {
        /// The outbound rule.
        rule: String,
    },
    /// A port count not a multiple of 8.
    #[error(
        "outbound rule '{rule}': {ports} SNAT ports is not a multiple of 8, which Azure rejects; valid: 0 (the default allocation) or a multiple of 8"
    )]
    PortsNotMultipleOf8 {
        /// The outbound rule.
        rule: String,
        /// The ports given.
        ports: u32,
    },
    /// More ports for the pool's members than the frontends' addresses hold.
    #[error(
        "outbound rule '{rule}': {ports} ports for each of the {members} members of pool '{pool}' is {wanted}, more than the {available} its {frontends} frontend address(es) give (64,000 each), which Azure rejects; valid: at most {most} per member, or more frontends"
    )]
    TooManyPorts {
        /// The outbound rule.
        rule: String,
        /// The ports given for each member.
        ports: u32,
        /// The pool's members.
        members: usize,
        /// The pool.
        pool: String,
        /// `ports` times `members`.
        wanted: u64,
        /// The ports the frontends' addresses hold.
        available: u32,
        /// The rule's frontends.
        frontends: usize,
        /// The most ports per member that fit (a multiple of 8).
        most: u32,
    },
    /// An idle timeout outside 4–120 minutes.
    #[error(
        "outbound rule '{rule}': an idle timeout of {minutes} minutes is outside Azure's range; valid: 4 to 120"
    )]
    IdleTimeout {
        /// The outbound rule.
        rule: String,
        /// The timeout given.
        minutes: u32,
    },
}

impl OutboundRuleProblem {
    /// The rule's field at fault, as the scenario names it: `frontends`, `pool`,
    /// `allocated_outbound_ports`, `idle_timeout_minutes`; empty for the rule as a whole.
    pub fn field(&self) -> &'static str {
        match self {
            OutboundRuleProblem::BasicSku { .. } => "",
            OutboundRuleProblem::NoFrontend { .. }
            | OutboundRuleProblem::FrontendMissing { .. }
            | OutboundRuleProblem::PrivateFrontend { .. }
            | OutboundRuleProblem::FrontendSnatInUse { .. } => "frontends",
            OutboundRuleProblem::PoolMissing { .. } => "pool",
            OutboundRuleProblem::PortsNotMultipleOf8 { .. } | OutboundRuleProblem::TooManyPorts { .. } => {
                "allocated_outbound_ports"
            }
            OutboundRuleProblem::IdleTimeout { .. } => "idle_timeout_minutes",
        }
    }
}

impl LoadBalancer {
    /// Whether it is internal (every frontend private).
    pub fn is_internal(&self) -> bool {
        self.frontends.iter().all(|f| matches!(f.address, FrontendAddress::Private { .. }))
    }

    /// Whether pool `pool` holds `member`.
    pub fn pool_has(&self, pool: usize, member: BackendMember) -> bool {
        self.pools.get(pool).is_some_and(|p| p.members.contains(&member))
    }

    /// What Azure refuses in outbound rule `index`, if anything (docs/fidelity.md, "Outbound
    /// rules"): any on a Basic load balancer ("Outbound Rules: Not available"); no frontend, or a
    /// private one (outbound rules translate to public addresses); a frontend a load-balancing
    /// rule already uses for outbound SNAT ("The operation to configure an outbound rule fails
    /// if you attempt to redefine an IP address that is used for inbound. Disable the outbound
    /// NAT of the load-balancing rule first"); ports not a multiple of 8, or more than the
    /// frontends' addresses hold for the pool's members; an idle timeout outside 4–120 minutes;
    /// an index (frontend, pool) out of range.
    ///
    /// # Panics
    /// When `index` is not an outbound rule's index.
    pub fn outbound_rule_problem(&self, index: usize) -> Option<OutboundRuleProblem> {
        let r = &self.outbound_rules[index];
        let rule = || r.name.clone();
        if self.sku == LbSku::Basic {
            return Some(OutboundRuleProblem::BasicSku { rule: rule() });
        }
        if r.frontends.is_empty() {
            return Some(OutboundRuleProblem::NoFrontend { rule: rule() });
        }
        for &f in &r.frontends {
            let Some(fe) = self.frontends.get(f) else {
                return Some(OutboundRuleProblem::FrontendMissing { rule: rule() });
            };
            if matches!(fe.address, FrontendAddress::Private { .. }) {
                return Some(OutboundRuleProblem::PrivateFrontend {
                    rule: rule(),
                    frontend: fe.name.clone(),
                });
            }
            if let Some(l) = self.rules.iter().find(|l| l.frontend == f && !l.disable_outbound_snat) {
                return Some(OutboundRuleProblem::FrontendSnatInUse {
                    rule: rule(),
                    frontend: fe.name.clone(),
                    lb_rule: l.name.clone(),
                });
            }
        }
        let Some(pool) = self.pools.get(r.pool) else {
            return Some(OutboundRuleProblem::PoolMissing { rule: rule() });
        };
        if !r.allocated_ports.is_multiple_of(8) {
            return Some(OutboundRuleProblem::PortsNotMultipleOf8 { rule: rule(), ports: r.allocated_ports });
        }
        let available = SNAT_PORTS_PER_ADDRESS.saturating_mul(r.frontends.len() as u32);
        let wanted = u64::from(r.allocated_ports) * pool.members.len() as u64;
        if wanted > u64::from(available) {
            return Some(OutboundRuleProblem::TooManyPorts {
                rule: rule(),
                ports: r.allocated_ports,
                members: pool.members.len(),
                pool: pool.name.clone(),
                wanted,
                available,
                frontends: r.frontends.len(),
                most: available / pool.members.len().max(1) as u32 / 8 * 8,
            });
        }
        if !(4..=120).contains(&r.idle_timeout_minutes) {
            return Some(OutboundRuleProblem::IdleTimeout { rule: rule(), minutes: r.idle_timeout_minutes });
        }
        None
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

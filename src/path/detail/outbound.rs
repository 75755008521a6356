//! Outbound hops as data: a NAT gateway or a load balancer translating a sender's source on the
//! way to the Internet, and why a sender has no way out. `Display` writes the trace's sentence.

use std::fmt;
use std::net::IpAddr;

use crate::model::{LbProtocol, LbSku, NatSku};
use crate::net::IpProtocol;

use super::routing::RouteVia;

/// A protocol's name in the outbound sentences: TCP, UDP, ICMP, else IP.
pub struct ProtocolName(pub IpProtocol);

impl fmt::Display for ProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            IpProtocol::TCP => "TCP",
            IpProtocol::UDP => "UDP",
            IpProtocol::ICMP => "ICMP",
            _ => "IP",
        })
    }
}

/// Who sends through a NAT gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// A modelled NIC.
    Nic {
        /// The NIC.
        name: String,
        /// Its private address.
        address: IpAddr,
    },
    /// An address of a subnet that is no modelled NIC.
    Address {
        /// The address.
        address: IpAddr,
        /// The subnet.
        subnet: String,
    },
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sender::Nic { name, address } => write!(f, "nic '{name}' ({address})"),
            Sender::Address { address, subnet } => write!(f, "{address} in subnet '{subnet}'"),
        }
    }
}

/// A rule that translates only some protocols for a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartialSnat {
    /// An outbound rule.
    OutboundRule {
        /// The rule.
        rule: String,
        /// Its load balancer.
        lb: String,
        /// The protocol it translates.
        protocol: LbProtocol,
    },
    /// A load-balancing rule that does not disable outbound SNAT.
    LbRule {
        /// The rule.
        rule: String,
        /// Its load balancer.
        lb: String,
        /// The protocol it translates.
        protocol: LbProtocol,
    },
}

/// Why nothing of a load balancer translates a member's traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoSnat {
    /// Load balancers translate TCP and UDP only.
    NotTcpOrUdp,
    /// Rules that translate other protocols only.
    OtherProtocols(Vec<PartialSnat>),
    /// An internal Standard load balancer.
    Internal,
    /// No outbound rule and no load-balancing rule that translates.
    NoRule,
}

impl fmt::Display for NoSnat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoSnat::NotTcpOrUdp => f.write_str(
                "a load balancer translates TCP and UDP only (\"Load balancer doesn't support ICMP for outbound NAT, the only supported protocols are TCP and UDP\")",
            ),
            NoSnat::OtherProtocols(rules) => {
                for (i, r) in rules.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    match r {
                        PartialSnat::OutboundRule { rule, lb, protocol } => {
                            write!(f, "outbound rule '{rule}' of '{lb}' translates {protocol} only")?
                        }
                        PartialSnat::LbRule { rule, lb, protocol } => write!(
                            f,
                            "load-balancing rule '{rule}' of '{lb}' translates {protocol} only (\"the automatic outbound NAT provided matches the transport protocol of the load-balancing rule\")"
                        )?,
                    }
                }
                Ok(())
            }
            NoSnat::Internal => f.write_str(
                "it is internal (\"Outbound connectivity isn't available for an internal standard load balancer until it has been explicitly declared\")",
            ),
            NoSnat::NoRule => f.write_str(
                "it has no outbound rule for the NIC's pool, and no load-balancing rule of it translates (outbound SNAT disabled, or only inbound NAT rules: \"When only inbound NAT rules are used, no outbound NAT is provided\")",
            ),
        }
    }
}

/// The load balancer member a translation is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnatMember {
    /// The member's NIC.
    pub nic: String,
    /// Its private address.
    pub address: IpAddr,
    /// The rule's pool.
    pub pool: String,
}

/// The frontend a member leaves as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnatFrontend {
    /// The frontend.
    pub name: String,
    /// Its address.
    pub address: IpAddr,
}

/// What an outbound hop (NAT gateway, load balancer SNAT, no way out) says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutboundDetail {
    /// A NAT gateway translates the sender's source.
    NatGatewayTranslates {
        /// The NAT gateway.
        gateway: String,
        /// Its SKU.
        sku: NatSku,
        /// Its subnets, `vnet/subnet`.
        subnets: Vec<String>,
        /// The flow's protocol.
        protocol: IpProtocol,
        /// The sender.
        sender: Sender,
        /// Its public addresses; nsgsim shows the first.
        addresses: Vec<IpAddr>,
        /// Its TCP idle timeout, minutes.
        idle_timeout_minutes: u16,
    },
    /// The subnet's NAT gateway gives no way out.
    NatGatewayRefuses {
        /// The destination.
        dst: IpAddr,
        /// The route.
        via: RouteVia,
        /// The NAT gateway.
        gateway: String,
        /// Whether it has no public address (else: the protocol is not TCP or UDP).
        no_address: bool,
        /// The flow's protocol.
        protocol: IpProtocol,
    },
    /// Traffic from the Internet to a NAT gateway's address.
    NatGatewayNoInbound {
        /// The destination.
        dst: IpAddr,
        /// The NAT gateway.
        gateway: String,
    },
    /// An outbound rule translates a member's source to a frontend.
    OutboundRule {
        /// The rule.
        rule: String,
        /// The load balancer.
        lb: String,
        /// Its SKU.
        sku: LbSku,
        /// The rule's protocol.
        rule_protocol: LbProtocol,
        /// The flow's protocol.
        protocol: IpProtocol,
        /// The member.
        member: SnatMember,
        /// The frontend shown.
        frontend: SnatFrontend,
        /// SNAT ports per member; 0 for Azure's default allocation.
        allocated_ports: u32,
        /// Idle timeout, minutes.
        idle_timeout_minutes: u32,
        /// TCP reset on idle.
        tcp_reset: bool,
        /// All the rule's frontends, when it has more than one.
        frontends: Vec<SnatFrontend>,
    },
    /// A load-balancing rule's automatic outbound SNAT translates a member's source.
    LbRuleSnat {
        /// The rule.
        rule: String,
        /// The load balancer.
        lb: String,
        /// Its SKU.
        sku: LbSku,
        /// The flow's protocol.
        protocol: IpProtocol,
        /// The member.
        member: SnatMember,
        /// The frontend.
        frontend: SnatFrontend,
    },
    /// A member of a Standard load balancer with no outbound translation for the protocol.
    StandardLbNoOutbound {
        /// The destination.
        dst: IpAddr,
        /// The route.
        via: RouteVia,
        /// The NIC.
        nic: String,
        /// The load balancer.
        lb: String,
        /// The flow's protocol.
        protocol: IpProtocol,
        /// Why nothing translates.
        reason: NoSnat,
    },
    /// A private subnet's sender without a public IP.
    PrivateSubnet {
        /// The route.
        via: RouteVia,
    },
}

impl fmt::Display for OutboundDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboundDetail::NatGatewayTranslates {
                gateway,
                sku,
                subnets,
                protocol,
                sender,
                addresses,
                idle_timeout_minutes,
            } => {
                let shown = addresses.first().map_or_else(String::new, ToString::to_string);
                write!(
                    f,
                    "NAT gateway '{gateway}' ({sku} SKU, on subnets {}) translates {} from {sender}: the source becomes its address {shown}, which the receiver's NSGs see (\"When configured on a subnet, the private IPs within your subnets SNAT to a NAT gateway's static public IP addresses to connect outbound to the internet\"; it \"takes precedence for outbound connectivity\" over instance-level public IPs and load balancers); TCP idle timeout {idle_timeout_minutes} minutes",
                    subnets.join(", "),
                    ProtocolName(*protocol)
                )?;
                if addresses.len() > 1 {
                    let all: Vec<String> = addresses.iter().map(ToString::to_string).collect();
                    write!(
                        f,
                        "; its addresses are {}: Azure picks one per flow, nsgsim shows the first (model choice), so an NSG or firewall at the receiver should allow them all",
                        all.join(", ")
                    )?;
                }
                Ok(())
            }
            OutboundDetail::NatGatewayRefuses { dst, via, gateway, no_address, protocol } => {
                write!(f, "to {dst}: {via}: ")?;
                if *no_address {
                    write!(
                        f,
                        "NAT gateway '{gateway}' on the subnet has no public IP or prefix, and it is the subnet's route to the Internet (\"The NAT gateway becomes the subnet's default route to the internet\"; outbound connectivity needs \"a NAT gateway with a subnet and at least one public IP address\"): no way out (model choice)"
                    )
                } else {
                    write!(
                        f,
                        "NAT gateway '{gateway}' on the subnet translates TCP and UDP only (\"NAT gateway doesn't support ICMP\"; \"Other IP protocols aren't supported\"), and it is the subnet's route to the Internet: no way out for {} (model choice: Microsoft does not say another way takes over)",
                        ProtocolName(*protocol)
                    )
                }
            }
            OutboundDetail::NatGatewayNoInbound { dst, gateway } => write!(
                f,
                "{dst} is an address of NAT gateway '{gateway}', which takes no connection from the Internet (\"NAT Gateway doesn't provide unsolicited inbound connections from the internet. DNAT is only performed for packets that arrive as a response to an outbound packet\")"
            ),
            OutboundDetail::OutboundRule {
                rule,
                lb,
                sku,
                rule_protocol,
                protocol,
                member,
                frontend,
                allocated_ports,
                idle_timeout_minutes,
                tcp_reset,
                frontends,
            } => {
                let ports = match allocated_ports {
                    0 => "SNAT ports per member: Azure's default allocation by pool size".to_string(),
                    p => format!("{p} SNAT ports per member"),
                };
                let reset = if *tcp_reset { ", TCP reset on idle" } else { "" };
                let (fe, address) = (&frontend.name, frontend.address);
                write!(
                    f,
                    "outbound rule '{rule}' of load balancer '{lb}' ({sku} SKU, protocol {rule_protocol}) translates {} from nic '{}' ({}, pool '{}') to frontend '{fe}' {address}, so the receiver sees {address} as the source (\"An outbound rule configures outbound NAT for all virtual machines identified by the backend pool to be translated to the frontend\"); {ports}; idle timeout {idle_timeout_minutes} minutes{reset}",
                    ProtocolName(*protocol),
                    member.nic,
                    member.address,
                    member.pool
                )?;
                if frontends.len() > 1 {
                    let names: Vec<String> =
                        frontends.iter().map(|fe| format!("'{}' {}", fe.name, fe.address)).collect();
                    write!(
                        f,
                        "; of its frontends {}, nsgsim shows the first: Azure uses them one at a time, the next when the first's ports run out (model choice)",
                        names.join(", ")
                    )?;
                }
                Ok(())
            }
            OutboundDetail::LbRuleSnat { rule, lb, sku, protocol, member, frontend } => write!(
                f,
                "load-balancing rule '{rule}' of load balancer '{lb}' ({sku} SKU) does not disable outbound SNAT (disable_outbound_snat false, Azure's default), so it translates {} from its pool '{}' too: nic '{}' ({}) leaves as frontend '{}' {}, which the receiver sees as the source (\"Load-balancing rules provide automatic programming of outbound NAT\"; Microsoft recommends an outbound rule instead)",
                ProtocolName(*protocol),
                member.pool,
                member.nic,
                member.address,
                frontend.name,
                frontend.address
            ),
            OutboundDetail::StandardLbNoOutbound { dst, via, nic, lb, protocol, reason } => write!(
                f,
                "to {dst}: {via}: nic '{nic}' belongs to Standard load balancer '{lb}', so it has no default outbound access (\"An outbound scenario must be explicitly created\"), and no load balancer translates its {} traffic: {reason}; add an outbound rule (protocol All), a public IP on the NIC, or a NAT gateway",
                ProtocolName(*protocol)
            ),
            OutboundDetail::PrivateSubnet { via } => write!(
                f,
                "{via}: the subnet is private (default_outbound_access: false) and the sender has no public IP, so it has no outbound Internet connectivity; add a public IP, a NAT gateway or a route to a firewall"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::route::RouteSource;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn internet() -> RouteVia {
        RouteVia { prefix: "0.0.0.0/0".parse().expect("net"), source: RouteSource::Internet }
    }

    fn member() -> SnatMember {
        SnatMember { nic: "web-nic".into(), address: ip("10.0.1.4"), pool: "web".into() }
    }

    fn frontend(name: &str, address: &str) -> SnatFrontend {
        SnatFrontend { name: name.into(), address: ip(address) }
    }

    #[test]
    fn senders_and_protocol_names() {
        assert_eq!(
            Sender::Nic { name: "n".into(), address: ip("10.0.0.4") }.to_string(),
            "nic 'n' (10.0.0.4)"
        );
        assert_eq!(
            Sender::Address { address: ip("10.0.0.9"), subnet: "web".into() }.to_string(),
            "10.0.0.9 in subnet 'web'"
        );
        let names: Vec<String> = [IpProtocol::TCP, IpProtocol::UDP, IpProtocol::ICMP, IpProtocol::ESP]
            .into_iter()
            .map(|p| ProtocolName(p).to_string())
            .collect();
        assert_eq!(names, ["TCP", "UDP", "ICMP", "IP"]);
    }

    #[test]
    fn nat_gateway_translates_with_one_address_and_with_several() {
        let d = |addresses: Vec<IpAddr>| {
            OutboundDetail::NatGatewayTranslates {
                gateway: "nat".into(),
                sku: NatSku::Standard,
                subnets: vec!["vnet/web".into(), "vnet/app".into()],
                protocol: IpProtocol::UDP,
                sender: Sender::Nic { name: "n".into(), address: ip("10.0.0.4") },
                addresses,
                idle_timeout_minutes: 4,
            }
            .to_string()
        };
        let one = "NAT gateway 'nat' (Standard SKU, on subnets vnet/web, vnet/app) translates UDP from nic 'n' (10.0.0.4): the source becomes its address 20.0.0.1, which the receiver's NSGs see (\"When configured on a subnet, the private IPs within your subnets SNAT to a NAT gateway's static public IP addresses to connect outbound to the internet\"; it \"takes precedence for outbound connectivity\" over instance-level public IPs and load balancers); TCP idle timeout 4 minutes";
        assert_eq!(d(vec![ip("20.0.0.1")]), one);
        assert_eq!(
            d(vec![ip("20.0.0.1"), ip("20.0.0.2")]),
            format!(
                "{one}; its addresses are 20.0.0.1, 20.0.0.2: Azure picks one per flow, nsgsim shows the first (model choice), so an NSG or firewall at the receiver should allow them all"
            )
        );
    }

    #[test]
    fn nat_gateway_refuses_without_an_address_and_for_icmp() {
        let d = |no_address| {
            OutboundDetail::NatGatewayRefuses {
                dst: ip("8.8.8.8"),
                via: internet(),
                gateway: "nat".into(),
                no_address,
                protocol: IpProtocol::ICMP,
            }
            .to_string()
        };
        assert_eq!(
            d(true),
            "to 8.8.8.8: 0.0.0.0/0 via system (Internet): NAT gateway 'nat' on the subnet has no public IP or prefix, and it is the subnet's route to the Internet (\"The NAT gateway becomes the subnet's default route to the internet\"; outbound connectivity needs \"a NAT gateway with a subnet and at least one public IP address\"): no way out (model choice)"
        );
        assert_eq!(
            d(false),
            "to 8.8.8.8: 0.0.0.0/0 via system (Internet): NAT gateway 'nat' on the subnet translates TCP and UDP only (\"NAT gateway doesn't support ICMP\"; \"Other IP protocols aren't supported\"), and it is the subnet's route to the Internet: no way out for ICMP (model choice: Microsoft does not say another way takes over)"
        );
    }

    #[test]
    fn nat_gateway_no_inbound() {
        assert_eq!(
            OutboundDetail::NatGatewayNoInbound { dst: ip("20.0.0.1"), gateway: "nat".into() }.to_string(),
            "20.0.0.1 is an address of NAT gateway 'nat', which takes no connection from the Internet (\"NAT Gateway doesn't provide unsolicited inbound connections from the internet. DNAT is only performed for packets that arrive as a response to an outbound packet\")"
        );
    }

    #[test]
    fn outbound_rule_with_default_ports_and_with_several_frontends() {
        let d = |allocated_ports, tcp_reset, frontends| {
            OutboundDetail::OutboundRule {
                rule: "out".into(),
                lb: "lb".into(),
                sku: LbSku::Standard,
                rule_protocol: LbProtocol::All,
                protocol: IpProtocol::TCP,
                member: member(),
                frontend: frontend("fe1", "20.0.0.1"),
                allocated_ports,
                idle_timeout_minutes: 4,
                tcp_reset,
                frontends,
            }
            .to_string()
        };
        let head = "outbound rule 'out' of load balancer 'lb' (Standard SKU, protocol All) translates TCP from nic 'web-nic' (10.0.1.4, pool 'web') to frontend 'fe1' 20.0.0.1, so the receiver sees 20.0.0.1 as the source (\"An outbound rule configures outbound NAT for all virtual machines identified by the backend pool to be translated to the frontend\")";
        assert_eq!(
            d(0, false, Vec::new()),
            format!(
                "{head}; SNAT ports per member: Azure's default allocation by pool size; idle timeout 4 minutes"
            )
        );
        assert_eq!(
            d(1024, true, vec![frontend("fe1", "20.0.0.1"), frontend("fe2", "20.0.0.2")]),
            format!(
                "{head}; 1024 SNAT ports per member; idle timeout 4 minutes, TCP reset on idle; of its frontends 'fe1' 20.0.0.1, 'fe2' 20.0.0.2, nsgsim shows the first: Azure uses them one at a time, the next when the first's ports run out (model choice)"
            )
        );
    }

    #[test]
    fn load_balancing_rule_snat() {
        let d = OutboundDetail::LbRuleSnat {
            rule: "http".into(),
            lb: "lb".into(),
            sku: LbSku::Standard,
            protocol: IpProtocol::TCP,
            member: member(),
            frontend: frontend("fe", "20.0.0.1"),
        };
        assert_eq!(
            d.to_string(),
            "load-balancing rule 'http' of load balancer 'lb' (Standard SKU) does not disable outbound SNAT (disable_outbound_snat false, Azure's default), so it translates TCP from its pool 'web' too: nic 'web-nic' (10.0.1.4) leaves as frontend 'fe' 20.0.0.1, which the receiver sees as the source (\"Load-balancing rules provide automatic programming of outbound NAT\"; Microsoft recommends an outbound rule instead)"
        );
    }

    #[test]
    fn standard_lb_without_outbound_for_each_reason() {
        let d = |reason| {
            OutboundDetail::StandardLbNoOutbound {
                dst: ip("8.8.8.8"),
                via: internet(),
                nic: "n".into(),
                lb: "lb".into(),
                protocol: IpProtocol::UDP,
                reason,
            }
            .to_string()
        };
        let head = "to 8.8.8.8: 0.0.0.0/0 via system (Internet): nic 'n' belongs to Standard load balancer 'lb', so it has no default outbound access (\"An outbound scenario must be explicitly created\"), and no load balancer translates its UDP traffic: ";
        let tail = "; add an outbound rule (protocol All), a public IP on the NIC, or a NAT gateway";
        let partial = NoSnat::OtherProtocols(vec![
            PartialSnat::OutboundRule { rule: "out".into(), lb: "lb".into(), protocol: LbProtocol::Tcp },
            PartialSnat::LbRule { rule: "http".into(), lb: "lb".into(), protocol: LbProtocol::Tcp },
        ]);
        assert_eq!(
            d(partial),
            format!(
                "{head}outbound rule 'out' of 'lb' translates Tcp only; load-balancing rule 'http' of 'lb' translates Tcp only (\"the automatic outbound NAT provided matches the transport protocol of the load-balancing rule\"){tail}"
            )
        );
        assert_eq!(
            d(NoSnat::NotTcpOrUdp),
            format!(
                "{head}a load balancer translates TCP and UDP only (\"Load balancer doesn't support ICMP for outbound NAT, the only supported protocols are TCP and UDP\"){tail}"
            )
        );
        assert_eq!(
            d(NoSnat::Internal),
            format!(
                "{head}it is internal (\"Outbound connectivity isn't available for an internal standard load balancer until it has been explicitly declared\"){tail}"
            )
        );
        assert_eq!(
            d(NoSnat::NoRule),
            format!(
                "{head}it has no outbound rule for the NIC's pool, and no load-balancing rule of it translates (outbound SNAT disabled, or only inbound NAT rules: \"When only inbound NAT rules are used, no outbound NAT is provided\"){tail}"
            )
        );
    }

    #[test]
    fn private_subnet() {
        assert_eq!(
            OutboundDetail::PrivateSubnet { via: internet() }.to_string(),
            "0.0.0.0/0 via system (Internet): the subnet is private (default_outbound_access: false) and the sender has no public IP, so it has no outbound Internet connectivity; add a public IP, a NAT gateway or a route to a firewall"
        );
    }
}

//! Load balancer hops as data: the frontend a flow arrived at, the inbound NAT rule or
//! load-balancing rule that took it (or none), its pool and health probe, every member's answer,
//! and a Standard load balancer's closed default. `Display` writes the trace's sentence.

use std::fmt;
use std::net::IpAddr;

use crate::model::{LbProtocol, LbSku};
use crate::net::IpProtocol;
use crate::nsg::RuleRef;

/// The frontend a flow arrived at: `load balancer 'lb' (Standard SKU) frontend 'fe' (20.0.0.1)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbFrontend {
    /// The load balancer.
    pub lb: String,
    /// Its SKU.
    pub sku: LbSku,
    /// The frontend.
    pub frontend: String,
    /// The address the flow was sent to.
    pub address: IpAddr,
}

impl fmt::Display for LbFrontend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "load balancer '{}' ({} SKU) frontend '{}' ({})",
            self.lb, self.sku, self.frontend, self.address
        )
    }
}

/// A load-balancing rule's health probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The probe.
    pub name: String,
    /// Its port.
    pub port: u16,
}

/// What one backend member does with a load-balancing rule's flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberAnswer {
    /// Its health probe is denied, so it gets no new connections.
    Down {
        /// The NSG resource (`NSG name`) that denied the probe; `None` when no hop said.
        by: Option<String>,
        /// The rule that denied it.
        rule: Option<RuleRef>,
    },
    /// Its NSGs let the flow in.
    Takes,
    /// Its NSGs drop the flow.
    Drops,
}

/// One member's answer, with its NIC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's NIC.
    pub nic: String,
    /// Its answer.
    pub answer: MemberAnswer,
}

/// What a load balancer hop says on the way in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LbDetail {
    /// An inbound NAT rule takes the port but its pool has no member for it.
    NatNoMember {
        /// The frontend.
        head: LbFrontend,
        /// The rule.
        rule: String,
        /// Its frontend port range.
        ports: (u16, u16),
        /// The port asked.
        port: u16,
    },
    /// An inbound NAT rule forwards the port to another member than the one asked about.
    NatOtherMember {
        /// The frontend.
        head: LbFrontend,
        /// The rule.
        rule: String,
        /// The port.
        port: u16,
        /// The NIC it forwards to.
        nic: String,
        /// The NIC asked about.
        asked: String,
    },
    /// An inbound NAT rule forwards the flow to a member.
    NatForwards {
        /// The frontend.
        head: LbFrontend,
        /// The rule.
        rule: String,
        /// Its protocol.
        protocol: LbProtocol,
        /// The frontend port.
        port: u16,
        /// The member's NIC.
        nic: String,
        /// The member's address.
        address: IpAddr,
        /// The backend port.
        backend_port: u16,
        /// The client's source, kept.
        client: IpAddr,
    },
    /// No rule takes the port.
    NoRule {
        /// The frontend.
        head: LbFrontend,
        /// The flow's protocol.
        protocol: IpProtocol,
        /// The port.
        port: u16,
    },
    /// The rule's pool does not have the NIC asked about.
    NotInPool {
        /// The frontend.
        head: LbFrontend,
        /// The rule.
        rule: String,
        /// The pool.
        pool: String,
        /// The NIC asked about.
        nic: String,
    },
    /// The rule's pool is empty.
    EmptyPool {
        /// The frontend.
        head: LbFrontend,
        /// The rule.
        rule: String,
        /// The pool.
        pool: String,
    },
    /// No member of the rule's pool is healthy.
    NoHealthyMember {
        /// The frontend.
        head: LbFrontend,
        /// The rule.
        rule: String,
        /// Its health probe.
        probe: Option<Probe>,
        /// The pool.
        pool: String,
        /// Every member's answer.
        members: Vec<Member>,
    },
    /// A load-balancing rule sends the flow to its pool.
    Balances {
        /// The frontend.
        head: LbFrontend,
        /// The rule.
        rule: String,
        /// The flow's protocol.
        protocol: IpProtocol,
        /// The frontend port.
        port: u16,
        /// The pool.
        pool: String,
        /// The backend port.
        backend_port: u16,
        /// The health probe.
        probe: Option<Probe>,
        /// The client's source, kept.
        client: IpAddr,
        /// Every member's answer.
        members: Vec<Member>,
        /// The member whose hops follow.
        shown: String,
    },
    /// A Standard load balancer's member without an NSG at either level.
    StandardClosed {
        /// The member's NIC.
        nic: String,
    },
}

/// A flow's protocol as the load balancer hops name it: TCP, UDP, else IP.
struct LbProtocolName(IpProtocol);

impl fmt::Display for LbProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            IpProtocol::TCP => "TCP",
            IpProtocol::UDP => "UDP",
            _ => "IP",
        })
    }
}

/// `health probe 'p' on port 80`, or `no health probe`.
struct ProbeNote<'a>(&'a Option<Probe>);

impl fmt::Display for ProbeNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, "health probe '{}' on port {}", p.name, p.port),
            None => f.write_str("no health probe"),
        }
    }
}

/// Every member's answer, `; ` between them.
struct Members<'a>(&'a [Member], &'a Option<Probe>);

impl fmt::Display for Members<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let nic = &m.nic;
            match &m.answer {
                MemberAnswer::Down { by, rule } => {
                    let by = match by {
                        Some(res) => {
                            let rule = rule.as_ref().map(ToString::to_string).unwrap_or_default();
                            format!("{res} {rule}").trim_end().to_string()
                        }
                        None => "an NSG".into(),
                    };
                    write!(
                        f,
                        "nic '{nic}' is down: its health probe '{}' (TCP {} from 168.63.129.16, AzureLoadBalancer) is denied by {by}, so it gets no new connections",
                        self.1.as_ref().map_or("", |p| p.name.as_str()),
                        self.1.as_ref().map_or(0, |p| p.port)
                    )?;
                }
                MemberAnswer::Takes => write!(f, "nic '{nic}' takes it")?,
                MemberAnswer::Drops => write!(f, "nic '{nic}' drops it")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for LbDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LbDetail::NatNoMember { head, rule, ports, port } => write!(
                f,
                "{head}: inbound NAT rule '{rule}' takes ports {}-{}, but its pool has no member for port {port}",
                ports.0, ports.1
            ),
            LbDetail::NatOtherMember { head, rule, port, nic, asked } => write!(
                f,
                "{head}: inbound NAT rule '{rule}' forwards port {port} to nic '{nic}', not to nic '{asked}'"
            ),
            LbDetail::NatForwards { head, rule, protocol, port, nic, address, backend_port, client } => {
                write!(
                    f,
                    "{head}: inbound NAT rule '{rule}' forwards {protocol} port {port} to nic '{nic}' {address}:{backend_port}; the client's source {client} is kept (the load balancer is a pass-through), so the NSGs see it; NAT rules use no health probe"
                )
            }
            LbDetail::NoRule { head, protocol, port } => write!(
                f,
                "{head}: no load-balancing rule or inbound NAT rule takes {} port {port}, so the load balancer forwards nothing there",
                LbProtocolName(*protocol)
            ),
            LbDetail::NotInPool { head, rule, pool, nic } => {
                write!(f, "{head}: rule '{rule}' sends to pool '{pool}', which nic '{nic}' is not in")
            }
            LbDetail::EmptyPool { head, rule, pool } => {
                write!(f, "{head}: rule '{rule}' sends to pool '{pool}', which has no members")
            }
            LbDetail::NoHealthyMember { head, rule, probe, pool, members } => write!(
                f,
                "{head}: rule '{rule}' ({}) has no healthy member in pool '{pool}' (when a health probe fails, the load balancer stops sending new connections to that instance): {}",
                ProbeNote(probe),
                Members(members, probe)
            ),
            LbDetail::Balances {
                head,
                rule,
                protocol,
                port,
                pool,
                backend_port,
                probe,
                client,
                members,
                shown,
            } => write!(
                f,
                "{head}: rule '{rule}' sends {} port {port} to pool '{pool}' port {backend_port} ({}); the client's source {client} is kept, so the NSGs see it. Azure picks one healthy member per flow by a 5-tuple hash, so nsgsim answers for every member (model choice): {}. Shown: nic '{shown}'",
                LbProtocolName(*protocol),
                ProbeNote(probe),
                Members(members, probe)
            ),
            LbDetail::StandardClosed { nic } => write!(
                f,
                "a Standard load balancer is closed to inbound connections unless an NSG opens them, and neither the subnet nor nic '{nic}' has an NSG"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn head() -> LbFrontend {
        LbFrontend { lb: "lb".into(), sku: LbSku::Standard, frontend: "fe".into(), address: ip("20.0.0.1") }
    }

    const HEAD: &str = "load balancer 'lb' (Standard SKU) frontend 'fe' (20.0.0.1)";

    fn members() -> Vec<Member> {
        vec![
            Member {
                nic: "a".into(),
                answer: MemberAnswer::Down {
                    by: Some("NSG 'web'".into()),
                    rule: Some(RuleRef::Security { name: "deny-all".into() }),
                },
            },
            Member { nic: "b".into(), answer: MemberAnswer::Down { by: None, rule: None } },
            Member { nic: "c".into(), answer: MemberAnswer::Takes },
            Member { nic: "d".into(), answer: MemberAnswer::Drops },
        ]
    }

    const MEMBERS: &str = "nic 'a' is down: its health probe 'http' (TCP 80 from 168.63.129.16, AzureLoadBalancer) is denied by NSG 'web' securityRules/deny-all, so it gets no new connections; nic 'b' is down: its health probe 'http' (TCP 80 from 168.63.129.16, AzureLoadBalancer) is denied by an NSG, so it gets no new connections; nic 'c' takes it; nic 'd' drops it";

    fn probe() -> Option<Probe> {
        Some(Probe { name: "http".into(), port: 80 })
    }

    #[test]
    fn nat_rule_without_a_member_for_the_port() {
        let d =
            LbDetail::NatNoMember { head: head(), rule: "rdp".into(), ports: (50000, 50009), port: 50005 };
        assert_eq!(
            d.to_string(),
            format!(
                "{HEAD}: inbound NAT rule 'rdp' takes ports 50000-50009, but its pool has no member for port 50005"
            )
        );
    }

    #[test]
    fn nat_rule_to_another_member() {
        let d = LbDetail::NatOtherMember {
            head: head(),
            rule: "rdp".into(),
            port: 50001,
            nic: "a".into(),
            asked: "b".into(),
        };
        assert_eq!(
            d.to_string(),
            format!("{HEAD}: inbound NAT rule 'rdp' forwards port 50001 to nic 'a', not to nic 'b'")
        );
    }

    #[test]
    fn nat_rule_forwards() {
        let d = LbDetail::NatForwards {
            head: head(),
            rule: "rdp".into(),
            protocol: LbProtocol::Tcp,
            port: 50001,
            nic: "a".into(),
            address: ip("10.0.0.4"),
            backend_port: 3389,
            client: ip("203.0.113.9"),
        };
        assert_eq!(
            d.to_string(),
            format!(
                "{HEAD}: inbound NAT rule 'rdp' forwards Tcp port 50001 to nic 'a' 10.0.0.4:3389; the client's source 203.0.113.9 is kept (the load balancer is a pass-through), so the NSGs see it; NAT rules use no health probe"
            )
        );
    }

    #[test]
    fn no_rule_names_tcp_udp_or_ip() {
        let d = |protocol| LbDetail::NoRule { head: head(), protocol, port: 8080 }.to_string();
        let tail = "port 8080, so the load balancer forwards nothing there";
        assert_eq!(
            d(IpProtocol::TCP),
            format!("{HEAD}: no load-balancing rule or inbound NAT rule takes TCP {tail}")
        );
        assert_eq!(
            d(IpProtocol::UDP),
            format!("{HEAD}: no load-balancing rule or inbound NAT rule takes UDP {tail}")
        );
        assert_eq!(
            d(IpProtocol::ICMP),
            format!("{HEAD}: no load-balancing rule or inbound NAT rule takes IP {tail}")
        );
    }

    #[test]
    fn not_in_pool() {
        let d =
            LbDetail::NotInPool { head: head(), rule: "http".into(), pool: "web".into(), nic: "x".into() };
        assert_eq!(
            d.to_string(),
            format!("{HEAD}: rule 'http' sends to pool 'web', which nic 'x' is not in")
        );
    }

    #[test]
    fn empty_pool() {
        let d = LbDetail::EmptyPool { head: head(), rule: "http".into(), pool: "web".into() };
        assert_eq!(d.to_string(), format!("{HEAD}: rule 'http' sends to pool 'web', which has no members"));
    }

    #[test]
    fn no_healthy_member() {
        let d = LbDetail::NoHealthyMember {
            head: head(),
            rule: "http".into(),
            probe: probe(),
            pool: "web".into(),
            members: members(),
        };
        assert_eq!(
            d.to_string(),
            format!(
                "{HEAD}: rule 'http' (health probe 'http' on port 80) has no healthy member in pool 'web' (when a health probe fails, the load balancer stops sending new connections to that instance): {MEMBERS}"
            )
        );
    }

    #[test]
    fn balances() {
        let d = LbDetail::Balances {
            head: head(),
            rule: "http".into(),
            protocol: IpProtocol::TCP,
            port: 80,
            pool: "web".into(),
            backend_port: 8080,
            probe: None,
            client: ip("203.0.113.9"),
            members: vec![Member { nic: "c".into(), answer: MemberAnswer::Takes }],
            shown: "c".into(),
        };
        assert_eq!(
            d.to_string(),
            format!(
                "{HEAD}: rule 'http' sends TCP port 80 to pool 'web' port 8080 (no health probe); the client's source 203.0.113.9 is kept, so the NSGs see it. Azure picks one healthy member per flow by a 5-tuple hash, so nsgsim answers for every member (model choice): nic 'c' takes it. Shown: nic 'c'"
            )
        );
    }

    #[test]
    fn standard_closed() {
        assert_eq!(
            LbDetail::StandardClosed { nic: "a".into() }.to_string(),
            "a Standard load balancer is closed to inbound connections unless an NSG opens them, and neither the subnet nor nic 'a' has an NSG"
        );
    }
}

//! Where a VM's traffic to the Internet gets its public source address: the decision among
//! Azure's ways out, and the trace hop that names the load balancer rule translating it.
//!
//! The order, quoted in docs/fidelity.md ("Outbound connectivity through a load balancer" and
//! "NAT gateway"):
//! 0. a NAT gateway on the NIC's subnet, before everything else: "In the presence of other
//!    outbound configurations within a virtual network, such as a load balancer or
//!    instance-level public IPs (IL PIPs), the NAT gateway takes precedence for outbound
//!    connectivity", for TCP and UDP ("NAT Gateway interacts with IP and IP transport headers of
//!    UDP and TCP flows [...] Other IP protocols aren't supported"); another protocol, or a
//!    gateway without addresses, has no way out (**model choice**: the gateway is the subnet's
//!    route to the Internet, "The NAT gateway becomes the subnet's default route to the
//!    internet", and Microsoft does not say another way takes over);
//! 1. the IP configuration's own public IP: "Azure uses the public IP assigned to the IP
//!    configuration of the instance's NIC for all outbound flows. [...] It doesn't matter
//!    whether the VM is load balanced or not. This scenario takes precedence over the others",
//!    and "Outbound rules will only be followed if the backend VM doesn't have an
//!    instance-level public IP address";
//! 2. an outbound rule of a Standard public load balancer whose pool holds the NIC's primary IP
//!    configuration, for the rule's protocols (TCP, UDP or both; never ICMP): the source becomes
//!    the rule's first frontend address ("frontend IPs are consumed one at a time");
//! 3. a load-balancing rule of a public load balancer whose outbound SNAT is not disabled
//!    ("Load-balancing rules provide automatic programming of outbound NAT"), for the rule's
//!    protocol ("the automatic outbound NAT provided matches the transport protocol of the
//!    load-balancing rule"): the source becomes the rule's frontend address;
//! 4. none of those, and the NIC's primary IP configuration belongs to a Standard load balancer
//!    (a pool member or a NAT rule's target): no way out ("An outbound scenario must be
//!    explicitly created"; "Outbound connectivity isn't available for an internal standard load
//!    balancer until it has been explicitly declared"; "When only inbound NAT rules are used, no
//!    outbound NAT is provided");
//! 5. otherwise default outbound access, unless the subnet is private.
//!
//! Only the primary IP configuration counts: "Outbound rules can only be applied to primary IPv4
//! configuration of a NIC", and "Secondary IP configurations of a network interface don't
//! provide outbound communication (unless a public IP is associated to it) via a load balancer".
//! Which of two load balancers wins when both would translate (Azure allows one public load
//! balancer per IP configuration, so only an odd estate has two) is the first declared: a
//! **model choice**, as is preferring an outbound rule to a load-balancing rule's SNAT.

use std::net::IpAddr;

use crate::ids::{NicId, PublicIpId};
use crate::model::{
    BackendMember, FrontendAddress, LbProtocol, LbSku, LoadBalancerId, NatGatewayId, NatTarget, SubnetId,
    Topology,
};
use crate::net::IpProtocol;

use super::detail::{NoSnat, OutboundDetail, PartialSnat, RouteVia, Sender, SnatFrontend, SnatMember};

/// Which setting of a load balancer translates the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnatBy {
    /// An outbound rule (index into the load balancer's `outbound_rules`).
    OutboundRule(usize),
    /// A load-balancing rule whose outbound SNAT is not disabled (index into its `rules`).
    LbRule(usize),
}

/// Why a NIC has no way to the Internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoOutbound {
    /// No public IP, in a private subnet (`default_outbound_access: false`), and no load
    /// balancer translates it.
    PrivateSubnet,
    /// Its primary IP configuration belongs to Standard load balancer `lb`, which takes away
    /// default outbound access, and nothing of a load balancer translates this protocol for it.
    StandardLoadBalancer(LoadBalancerId),
    /// The subnet's NAT gateway is its way out, but it translates TCP and UDP only, or it has
    /// no public address.
    NatGateway(NatGatewayId),
}

/// How traffic from a NIC to a public address gets its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboundSource {
    /// The NAT gateway on the NIC's subnet; the source becomes one of its addresses (nsgsim
    /// shows the first of [`Topology::nat_gateway_addresses`]).
    NatGateway(NatGatewayId),
    /// The NIC's own (instance-level) public IP.
    InstancePublicIp(PublicIpId),
    /// A load balancer's frontend, by an outbound rule or a load-balancing rule.
    LoadBalancer {
        /// The load balancer.
        lb: LoadBalancerId,
        /// The rule that translates.
        by: SnatBy,
        /// The frontend whose address becomes the source (index into its frontends).
        frontend: usize,
    },
    /// Default outbound access: an implicit Microsoft address.
    DefaultOutbound,
    /// No way out.
    None(NoOutbound),
}

/// Whether a load balancer's outbound SNAT for `protocol` translates `flow`'s protocol: TCP and
/// UDP only ("Load balancer doesn't support ICMP for outbound NAT, the only supported protocols
/// are TCP and UDP").
pub fn translates(protocol: LbProtocol, flow: IpProtocol) -> bool {
    let transport = flow == IpProtocol::TCP || flow == IpProtocol::UDP;
    transport && protocol.matches(flow)
}

/// How `nic`'s traffic of `protocol` to a public address gets its source (see the module's
/// order).
pub fn outbound_source(t: &Topology, nic: NicId, protocol: IpProtocol) -> OutboundSource {
    let n = t.nic(nic);
    if let Some(way) = nat_gateway_source(t, n.subnet, protocol) {
        return way;
    }
    if let Some(p) = n.public_ip {
        return OutboundSource::InstancePublicIp(p);
    }
    let member = BackendMember { nic, config: 0 };
    for id in t.load_balancer_ids() {
        let l = t.load_balancer(id);
        if let Some(i) = l
            .outbound_rules
            .iter()
            .position(|r| l.pool_has(r.pool, member) && translates(r.protocol, protocol))
            && let Some(&frontend) = l.outbound_rules[i].frontends.first()
        {
            return OutboundSource::LoadBalancer { lb: id, by: SnatBy::OutboundRule(i), frontend };
        }
    }
    for id in t.load_balancer_ids() {
        let l = t.load_balancer(id);
        let snat = l.rules.iter().position(|r| {
            !r.disable_outbound_snat
                && matches!(l.frontends[r.frontend].address, FrontendAddress::Public(_))
                && l.pool_has(r.pool, member)
                && translates(r.protocol, protocol)
        });
        if let Some(i) = snat {
            return OutboundSource::LoadBalancer {
                lb: id,
                by: SnatBy::LbRule(i),
                frontend: l.rules[i].frontend,
            };
        }
    }
    if let Some(lb) = standard_load_balancer_of(t, member) {
        return OutboundSource::None(NoOutbound::StandardLoadBalancer(lb));
    }
    if t.subnet(n.subnet).default_outbound_access {
        OutboundSource::DefaultOutbound
    } else {
        OutboundSource::None(NoOutbound::PrivateSubnet)
    }
}

/// The way out the NAT gateway of `subnet` gives traffic of `protocol`, or `None` when the subnet
/// has no NAT gateway: its address for TCP and UDP, else no way out (module docs).
pub fn nat_gateway_source(t: &Topology, subnet: SubnetId, protocol: IpProtocol) -> Option<OutboundSource> {
    let gw = t.subnet(subnet).nat_gateway?;
    let transport = protocol == IpProtocol::TCP || protocol == IpProtocol::UDP;
    Some(if transport && !t.nat_gateway_addresses(gw).is_empty() {
        OutboundSource::NatGateway(gw)
    } else {
        OutboundSource::None(NoOutbound::NatGateway(gw))
    })
}

/// The trace's hop for `gw` translating traffic of `protocol` from `sender`: the addresses the
/// receiver may see and the one nsgsim shows.
pub(in crate::path) fn nat_gateway_detail(
    t: &Topology,
    gw: NatGatewayId,
    sender: Sender,
    protocol: IpProtocol,
) -> OutboundDetail {
    let g = t.nat_gateway(gw);
    OutboundDetail::NatGatewayTranslates {
        gateway: g.name.clone(),
        sku: g.sku,
        subnets: t
            .nat_gateway_subnets(gw)
            .map(|s| format!("{}/{}", t.vnet(t.subnet(s).vnet).name, t.subnet(s).name))
            .collect(),
        protocol,
        sender,
        addresses: t.nat_gateway_addresses(gw),
        idle_timeout_minutes: g.idle_timeout_minutes,
    }
}

/// Why NAT gateway `gw` gives no way out for `protocol`, for a flow to `dst` by route `via`.
pub(in crate::path) fn nat_gateway_refusal(
    t: &Topology,
    gw: NatGatewayId,
    dst: IpAddr,
    via: RouteVia,
    protocol: IpProtocol,
) -> OutboundDetail {
    OutboundDetail::NatGatewayRefuses {
        dst,
        via,
        gateway: t.nat_gateway(gw).name.clone(),
        no_address: t.nat_gateway_addresses(gw).is_empty(),
        protocol,
    }
}

/// The first Standard load balancer `member` belongs to: in one of its pools, or the target of
/// one of its inbound NAT rules.
fn standard_load_balancer_of(t: &Topology, member: BackendMember) -> Option<LoadBalancerId> {
    t.load_balancer_ids().find(|&id| {
        let l = t.load_balancer(id);
        l.sku == LbSku::Standard
            && ((0..l.pools.len()).any(|p| l.pool_has(p, member))
                || l.nat_rules.iter().any(|r| r.target == NatTarget::Member(member)))
    })
}

/// The trace's hop for a translation by `lb`'s rule `by` to `frontend`, for `nic`'s traffic of
/// `protocol`: the rule's name and the hop's detail.
pub(in crate::path) fn snat_detail(
    t: &Topology,
    nic: NicId,
    lb: LoadBalancerId,
    by: SnatBy,
    frontend: usize,
    protocol: IpProtocol,
) -> (String, OutboundDetail) {
    let l = t.load_balancer(lb);
    let n = t.nic(nic);
    let shown =
        SnatFrontend { name: l.frontends[frontend].name.clone(), address: t.frontend_address(lb, frontend) };
    let member = |pool: usize| SnatMember {
        nic: n.name.clone(),
        address: n.private_ip,
        pool: l.pools[pool].name.clone(),
    };
    match by {
        SnatBy::OutboundRule(i) => {
            let r = &l.outbound_rules[i];
            let frontends = if r.frontends.len() > 1 {
                r.frontends
                    .iter()
                    .map(|&f| SnatFrontend {
                        name: l.frontends[f].name.clone(),
                        address: t.frontend_address(lb, f),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let detail = OutboundDetail::OutboundRule {
                rule: r.name.clone(),
                lb: l.name.clone(),
                sku: l.sku,
                rule_protocol: r.protocol,
                protocol,
                member: member(r.pool),
                frontend: shown,
                allocated_ports: r.allocated_ports,
                idle_timeout_minutes: r.idle_timeout_minutes,
                tcp_reset: r.tcp_reset,
                frontends,
            };
            (r.name.clone(), detail)
        }
        SnatBy::LbRule(i) => {
            let r = &l.rules[i];
            let detail = OutboundDetail::LbRuleSnat {
                rule: r.name.clone(),
                lb: l.name.clone(),
                sku: l.sku,
                protocol,
                member: member(r.pool),
                frontend: shown,
            };
            (r.name.clone(), detail)
        }
    }
}

/// Why nothing of Standard load balancer `lb` (or another load balancer) translates `nic`'s
/// traffic of `protocol`.
pub(in crate::path) fn no_snat_reason(
    t: &Topology,
    nic: NicId,
    lb: LoadBalancerId,
    protocol: IpProtocol,
) -> NoSnat {
    if protocol != IpProtocol::TCP && protocol != IpProtocol::UDP {
        return NoSnat::NotTcpOrUdp;
    }
    let member = BackendMember { nic, config: 0 };
    let mut partial = Vec::new();
    for id in t.load_balancer_ids() {
        let l = t.load_balancer(id);
        for r in l.outbound_rules.iter().filter(|r| l.pool_has(r.pool, member)) {
            partial.push(PartialSnat::OutboundRule {
                rule: r.name.clone(),
                lb: l.name.clone(),
                protocol: r.protocol,
            });
        }
        for r in l.rules.iter().filter(|r| {
            !r.disable_outbound_snat
                && matches!(l.frontends[r.frontend].address, FrontendAddress::Public(_))
                && l.pool_has(r.pool, member)
        }) {
            partial.push(PartialSnat::LbRule {
                rule: r.name.clone(),
                lb: l.name.clone(),
                protocol: r.protocol,
            });
        }
    }
    if !partial.is_empty() {
        return NoSnat::OtherProtocols(partial);
    }
    if t.load_balancer(lb).is_internal() { NoSnat::Internal } else { NoSnat::NoRule }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        BackendPool, Frontend, LbRule, LoadBalancer, NatRule, OutboundRule, PublicIpSku, SubnetId,
    };
    use crate::path::detail::{NoSnat, OutboundDetail, PartialSnat, RouteVia, Sender};
    use crate::path::testing::{ip, net, vm};

    /// A VNet with subnet `web` (private when `private`) and vm-a, vm-b in it; a Standard public
    /// IP `lb-pip` (20.0.0.10) for a load balancer.
    fn estate(private: bool) -> (Topology, SubnetId, [NicId; 2], crate::model::PublicIpId) {
        let mut t = Topology::new();
        let v = t.add_vnet("vnet", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "web", net("10.0.1.0/24")).expect("subnet");
        t.set_subnet_default_outbound_access(s, !private);
        let a = vm(&mut t, "vm-a", s, "10.0.1.4", None);
        let b = vm(&mut t, "vm-b", s, "10.0.1.5", None);
        let pip = t.add_public_ip("lb-pip", ip("20.0.0.10"), PublicIpSku::Standard).expect("pip");
        (t, s, [a, b], pip)
    }

    fn rule(snat: bool) -> LbRule {
        LbRule {
            name: "http".into(),
            frontend: 0,
            protocol: LbProtocol::Tcp,
            frontend_port: 80,
            backend_port: 80,
            pool: 0,
            probe: None,
            floating_ip: false,
            disable_outbound_snat: !snat,
        }
    }

    fn outbound(protocol: LbProtocol) -> OutboundRule {
        OutboundRule {
            name: "egress".into(),
            frontends: vec![0],
            pool: 0,
            protocol,
            allocated_ports: 0,
            idle_timeout_minutes: 4,
            tcp_reset: false,
        }
    }

    fn lb(
        frontend: FrontendAddress,
        members: Vec<NicId>,
        rules: Vec<LbRule>,
        out: Vec<OutboundRule>,
    ) -> LoadBalancer {
        LoadBalancer {
            name: "lb".into(),
            sku: LbSku::Standard,
            frontends: vec![Frontend { name: "fe".into(), address: frontend }],
            pools: vec![BackendPool {
                name: "web".into(),
                members: members.into_iter().map(|nic| BackendMember { nic, config: 0 }).collect(),
            }],
            probes: Vec::new(),
            rules,
            nat_rules: Vec::new(),
            outbound_rules: out,
        }
    }

    #[test]
    fn an_outbound_rule_translates_its_pool_for_its_protocols_only() {
        let (mut t, _, [a, b], pip) = estate(true);
        let id = t
            .add_load_balancer(lb(
                FrontendAddress::Public(pip),
                vec![a],
                vec![rule(false)],
                vec![outbound(LbProtocol::Tcp)],
            ))
            .expect("lb");
        let by_rule = OutboundSource::LoadBalancer { lb: id, by: SnatBy::OutboundRule(0), frontend: 0 };
        assert_eq!(outbound_source(&t, a, IpProtocol::TCP), by_rule);
        // UDP: the member is a Standard load balancer's, so no default outbound access either.
        assert_eq!(
            outbound_source(&t, a, IpProtocol::UDP),
            OutboundSource::None(NoOutbound::StandardLoadBalancer(id))
        );
        assert_eq!(
            no_snat_reason(&t, a, id, IpProtocol::UDP),
            NoSnat::OtherProtocols(vec![PartialSnat::OutboundRule {
                rule: "egress".into(),
                lb: "lb".into(),
                protocol: LbProtocol::Tcp
            }])
        );
        // ICMP is never translated, even by a rule for All.
        assert!(!translates(LbProtocol::All, IpProtocol::ICMP));
        assert_eq!(no_snat_reason(&t, a, id, IpProtocol::ICMP), NoSnat::NotTcpOrUdp);
        // vm-b is in no pool: the private subnet leaves it without a way out.
        assert_eq!(outbound_source(&t, b, IpProtocol::TCP), OutboundSource::None(NoOutbound::PrivateSubnet));
    }

    #[test]
    fn the_vms_own_public_ip_takes_precedence_over_the_load_balancer() {
        let (mut t, _, [a, _], pip) = estate(true);
        let own = t.add_public_ip("vm-a-pip", ip("20.0.0.20"), PublicIpSku::Standard).expect("pip");
        t.associate_public_ip(a, own).expect("free");
        t.add_load_balancer(lb(
            FrontendAddress::Public(pip),
            vec![a],
            vec![rule(false)],
            vec![outbound(LbProtocol::All)],
        ))
        .expect("lb");
        assert_eq!(outbound_source(&t, a, IpProtocol::TCP), OutboundSource::InstancePublicIp(own));
    }

    #[test]
    fn a_load_balancing_rule_snats_for_its_protocol_unless_disabled() {
        let (mut t, _, [a, _], pip) = estate(false);
        let id = t
            .add_load_balancer(lb(FrontendAddress::Public(pip), vec![a], vec![rule(true)], Vec::new()))
            .expect("lb");
        assert_eq!(
            outbound_source(&t, a, IpProtocol::TCP),
            OutboundSource::LoadBalancer { lb: id, by: SnatBy::LbRule(0), frontend: 0 }
        );
        // The subnet has default outbound access, but a Standard load balancer's member does not.
        assert_eq!(
            outbound_source(&t, a, IpProtocol::UDP),
            OutboundSource::None(NoOutbound::StandardLoadBalancer(id))
        );
    }

    #[test]
    fn an_internal_standard_load_balancer_takes_default_outbound_access_away_and_basic_does_not() {
        let (mut t, s, [a, b], _) = estate(false);
        let private = FrontendAddress::Private { subnet: s, address: ip("10.0.1.10") };
        let id = t.add_load_balancer(lb(private, vec![a], vec![rule(true)], Vec::new())).expect("lb");
        assert_eq!(
            outbound_source(&t, a, IpProtocol::TCP),
            OutboundSource::None(NoOutbound::StandardLoadBalancer(id))
        );
        assert_eq!(no_snat_reason(&t, a, id, IpProtocol::TCP), NoSnat::Internal);
        let mut basic = lb(
            FrontendAddress::Private { subnet: s, address: ip("10.0.1.11") },
            vec![b],
            vec![rule(true)],
            Vec::new(),
        );
        basic.name = "basic".into();
        basic.sku = LbSku::Basic;
        t.add_load_balancer(basic).expect("basic");
        assert_eq!(outbound_source(&t, b, IpProtocol::TCP), OutboundSource::DefaultOutbound);
    }

    #[test]
    fn the_subnets_nat_gateway_comes_before_the_vms_public_ip_and_the_load_balancer() {
        let (mut t, s, [a, b], pip) = estate(true);
        let own = t.add_public_ip("vm-a-pip", ip("20.0.0.20"), PublicIpSku::Standard).expect("pip");
        t.associate_public_ip(a, own).expect("free");
        t.add_load_balancer(lb(
            FrontendAddress::Public(pip),
            vec![b],
            vec![rule(false)],
            vec![outbound(LbProtocol::All)],
        ))
        .expect("lb");
        let nat_pip = t.add_public_ip("nat-pip", ip("20.0.0.30"), PublicIpSku::Standard).expect("pip");
        let gw = t
            .add_nat_gateway(crate::model::NatGateway {
                name: "nat".into(),
                sku: crate::model::NatSku::Standard,
                public_ips: vec![nat_pip],
                public_ip_prefixes: Vec::new(),
                idle_timeout_minutes: 4,
            })
            .expect("gw");
        t.set_subnet_nat_gateway(s, gw).expect("attach");
        for nic in [a, b] {
            assert_eq!(outbound_source(&t, nic, IpProtocol::TCP), OutboundSource::NatGateway(gw));
            assert_eq!(outbound_source(&t, nic, IpProtocol::UDP), OutboundSource::NatGateway(gw));
            assert_eq!(
                outbound_source(&t, nic, IpProtocol::ICMP),
                OutboundSource::None(NoOutbound::NatGateway(gw))
            );
        }
        let via = RouteVia { prefix: net("0.0.0.0/0"), source: crate::path::route::RouteSource::Internet };
        assert!(matches!(
            nat_gateway_refusal(&t, gw, ip("8.8.8.8"), via, IpProtocol::ICMP),
            OutboundDetail::NatGatewayRefuses { no_address: false, protocol: IpProtocol::ICMP, .. }
        ));
        let sender = Sender::Nic { name: "vm-a-nic".into(), address: ip("10.0.1.4") };
        match nat_gateway_detail(&t, gw, sender, IpProtocol::TCP) {
            OutboundDetail::NatGatewayTranslates { addresses, protocol, .. } => {
                assert_eq!(addresses.first(), Some(&ip("20.0.0.30")));
                assert_eq!(protocol, IpProtocol::TCP);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_nat_gateway_without_addresses_leaves_no_way_out() {
        let (mut t, s, [a, _], _) = estate(false);
        let gw = t
            .add_nat_gateway(crate::model::NatGateway {
                name: "empty".into(),
                sku: crate::model::NatSku::Standard,
                public_ips: Vec::new(),
                public_ip_prefixes: Vec::new(),
                idle_timeout_minutes: 4,
            })
            .expect("gw");
        t.set_subnet_nat_gateway(s, gw).expect("attach");
        assert_eq!(outbound_source(&t, a, IpProtocol::TCP), OutboundSource::None(NoOutbound::NatGateway(gw)));
        let via = RouteVia { prefix: net("0.0.0.0/0"), source: crate::path::route::RouteSource::Internet };
        assert!(matches!(
            nat_gateway_refusal(&t, gw, ip("8.8.8.8"), via, IpProtocol::TCP),
            OutboundDetail::NatGatewayRefuses { no_address: true, .. }
        ));
    }

    #[test]
    fn a_nat_rule_alone_gives_no_outbound() {
        let (mut t, _, [a, _], pip) = estate(false);
        let mut l = lb(FrontendAddress::Public(pip), Vec::new(), Vec::new(), Vec::new());
        l.nat_rules.push(NatRule {
            name: "ssh".into(),
            frontend: 0,
            protocol: LbProtocol::Tcp,
            frontend_port_start: 50022,
            frontend_port_end: 50022,
            backend_port: 22,
            target: NatTarget::Member(BackendMember { nic: a, config: 0 }),
            floating_ip: false,
        });
        let id = t.add_load_balancer(l).expect("lb");
        assert_eq!(
            outbound_source(&t, a, IpProtocol::TCP),
            OutboundSource::None(NoOutbound::StandardLoadBalancer(id))
        );
        assert_eq!(no_snat_reason(&t, a, id, IpProtocol::TCP), NoSnat::NoRule);
    }
}

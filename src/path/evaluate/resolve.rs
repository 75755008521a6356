//! Where the ends of a flow are, when VNets that are not connected share addresses.
//!
//! A source given as a bare address is placed at the one site that holds it
//! ([`Topology::sites_of`]); when separate routing domains share it, the flow does not start and
//! the trace says which candidates there are (the command line and scenario loading resolve such
//! an address first, from the other endpoint, into [`Source::AddressAt`]). A destination address
//! is looked up where the packet is routed, and a VM named as the destination must be the NIC the
//! packet arrives at: if the sender's VNet holds the same address, the packet stays there
//! (`VnetLocal`) and the trace says it never reaches the VM.
//!
//! The helpers at the bottom answer the same questions for the simulator (which VNet a flow is
//! sent from, which NIC it is addressed to, who answers it).

use std::net::IpAddr;

use crate::model::{NicId, Site, Topology, VnetId};
use crate::net::Flow;

use super::super::detail::{HostAt, RouteDetail, RouteVia};
use super::{Destination, FlowRequest, HopKind, Position, Source, Walk};

impl Walk<'_> {
    /// Where `source` sends from: its address and position, or the sites it could be at when it is
    /// a bare address that separate routing domains share.
    pub(super) fn position_of(&self, source: Source) -> Result<(IpAddr, Position), Vec<Site>> {
        let t = self.topology;
        match source {
            Source::Nic(n) => Ok((t.nic(n).private_ip, Position::Subnet(t.nic(n).subnet))),
            Source::AddressAt(a, site) => Ok((a, position_at(t, a, site))),
            Source::Address(a) if a == crate::model::PLATFORM_HOST_ADDRESS => Ok((a, Position::Platform)),
            Source::Address(a) => match t.sites_of(a).as_slice() {
                [] => Ok((a, Position::Internet)),
                [site] => Ok((a, position_at(t, a, *site))),
                many => Err(many.to_vec()),
            },
        }
    }

    /// [`Walk::position_of`], or a deny hop naming the candidates when the source is ambiguous.
    pub(in crate::path) fn position_or_deny(&mut self, source: Source) -> Option<(IpAddr, Position)> {
        match self.position_of(source) {
            Ok(found) => Some(found),
            Err(sites) => {
                let a = match source {
                    Source::Address(a) | Source::AddressAt(a, _) => a,
                    Source::Nic(n) => self.topology.nic(n).private_ip,
                };
                let detail =
                    RouteDetail::AmbiguousSource { address: a, hosts: hosts_at(self.topology, &sites, a) };
                self.deny(HopKind::Route, "routing", detail);
                None
            }
        }
    }

    /// Why a packet arriving in `vnet` (at `nic`, if any) is not at the VM named as the
    /// destination: the sender's routing domain holds the VM's address itself.
    pub(super) fn not_the_intended_nic(
        &self,
        flow: &Flow,
        vnet: VnetId,
        nic: Option<NicId>,
    ) -> Option<RouteDetail> {
        let t = self.topology;
        let target = self.intended?;
        if nic == Some(target) || flow.dst != t.nic(target).private_ip {
            return None;
        }
        let target_vnet = t.vnet_of_nic(target);
        Some(RouteDetail::NotTheIntendedNic {
            dst: flow.dst,
            target: HostAt::of(t, Site::Vnet(target_vnet), flow.dst),
            vnet: t.vnet(vnet).name.clone(),
            reached: HostAt::of(t, Site::Vnet(vnet), flow.dst),
            target_vnet: t.vnet(target_vnet).name.clone(),
        })
    }

    /// For an address of `vnet` that no NIC there has: the NICs of other VNets that have it, which
    /// this packet does not reach.
    pub(super) fn elsewhere(&self, vnet: VnetId, ip: IpAddr) -> Vec<HostAt> {
        let t = self.topology;
        t.nics_with_ip(ip)
            .iter()
            .map(|n| t.vnet_of_nic(*n))
            .filter(|v| *v != vnet)
            .map(|v| HostAt::of(t, Site::Vnet(v), ip))
            .collect()
    }

    /// Why a route's next hop `ip` is not an appliance the subnet's VNet (`vnet`) reaches.
    pub(super) fn no_appliance_at(&self, vnet: VnetId, ip: IpAddr, via: RouteVia) -> RouteDetail {
        let t = self.topology;
        let elsewhere = t
            .firewall_ids()
            .map(|f| t.firewall(f))
            .filter(|f| f.private_ip == ip)
            .map(|f| (f.name.clone(), t.vnet(t.subnet(f.subnet).vnet).name.clone()))
            .collect();
        RouteDetail::NoAppliance { via, ip, vnet: t.vnet(vnet).name.clone(), elsewhere }
    }
}

/// The position of a host at `site` with address `a`.
fn position_at(t: &Topology, a: IpAddr, site: Site) -> Position {
    match site {
        Site::Vnet(v) => t.subnet_in_vnet(v, a).map_or(Position::Unmodelled(v), Position::Subnet),
        Site::OnPremises(g) => Position::OnPremises(g),
    }
}

/// The VNets' names.
pub(super) fn vnet_list(t: &Topology, vnets: &[VnetId]) -> Vec<String> {
    vnets.iter().map(|v| t.vnet(*v).name.clone()).collect()
}

/// The host at `ip` of each site.
pub(super) fn hosts_at(t: &Topology, sites: &[Site], ip: IpAddr) -> Vec<HostAt> {
    sites.iter().map(|s| HostAt::of(t, *s, ip)).collect()
}

/// The source at address `ip` of `site`: the NIC of that VNet with the address, else the address
/// there ([`Source::AddressAt`]).
pub fn source_at(topology: &Topology, ip: IpAddr, site: Site) -> Source {
    match site {
        Site::Vnet(v) => topology.nic_in_vnet(v, ip).map_or(Source::AddressAt(ip, site), Source::Nic),
        Site::OnPremises(_) => Source::AddressAt(ip, site),
    }
}

/// The VNet a flow is sent from: its NIC's, its address's (as given, or the only VNet holding a
/// bare address) or, through Bastion, the Bastion's (a session starts in its subnet). `None` for
/// a source on the Internet or on-premises, or an address that several routing domains share.
pub fn sending_vnet(topology: &Topology, req: &FlowRequest) -> Option<VnetId> {
    if let Some(b) = req.via {
        return Some(topology.bastion(b).vnet);
    }
    match req.source {
        Source::Nic(n) => Some(topology.vnet_of_nic(n)),
        Source::AddressAt(_, Site::Vnet(v)) => Some(v),
        Source::AddressAt(_, Site::OnPremises(_)) => None,
        Source::Address(a) => match topology.sites_of(a).as_slice() {
            [Site::Vnet(v)] => Some(*v),
            _ => None,
        },
    }
}

/// The VNet a destination address `ip` of `req` lies in, as the sender sees it: within the
/// sender's VNet and its peers; from on-premises, within the VNets its gateway reaches; from
/// elsewhere, the only VNet holding it.
fn addressed_vnet(topology: &Topology, req: &FlowRequest, ip: IpAddr) -> Option<VnetId> {
    if let Some(v) = sending_vnet(topology, req) {
        return topology.vnet_seen_from(v, ip);
    }
    if let Source::AddressAt(_, site @ Site::OnPremises(_)) = req.source {
        return match topology.site_sees(site, ip) {
            Some(Site::Vnet(v)) => Some(v),
            _ => None,
        };
    }
    match topology.vnets_holding(ip).collect::<Vec<_>>().as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// The VNet `req` is addressed into privately: the named NIC's, or the VNet its destination
/// address lies in as the sender sees it; `None` for a public IP or an outside address.
pub fn destination_vnet(topology: &Topology, req: &FlowRequest) -> Option<VnetId> {
    match req.destination {
        Destination::Nic(n) => Some(topology.vnet_of_nic(n)),
        Destination::Address(ip) | Destination::Backend { address: ip, .. } => {
            addressed_vnet(topology, req, ip)
        }
        Destination::PublicIp(_) => None,
    }
}

/// The NIC `req` is addressed to: the NIC named, the NIC behind the public IP, or the NIC with
/// the destination address in the VNet the sender sees it in ([`destination_vnet`]).
pub fn destination_nic(topology: &Topology, req: &FlowRequest) -> Option<NicId> {
    match req.destination {
        Destination::Nic(n) | Destination::Backend { nic: n, .. } => Some(n),
        Destination::PublicIp(p) => topology.public_ip(p).nic,
        Destination::Address(ip) => {
            addressed_vnet(topology, req, ip).and_then(|v| topology.nic_in_vnet(v, ip))
        }
    }
}

/// Who answers `req`, as the source of a reply: the destination NIC, or the destination address
/// at the site the sender sees it in (so that a reply from an address several routing domains
/// share starts in the right one). `None` for a public IP that is associated with no NIC.
pub fn reply_source(topology: &Topology, req: &FlowRequest) -> Option<Source> {
    if let Some(n) = destination_nic(topology, req) {
        return Some(Source::Nic(n));
    }
    match req.destination {
        Destination::Address(ip) => Some(match addressed_vnet(topology, req, ip) {
            Some(v) => Source::AddressAt(ip, Site::Vnet(v)),
            None => Source::Address(ip),
        }),
        Destination::Nic(_) | Destination::PublicIp(_) | Destination::Backend { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GraphEdge, GraphNode, NextHop, PublicIpSku, Route, RouteTable, TopologyGraph};
    use crate::nsg::{Access, AddressSpec, Direction::*, RuleProtocol::Tcp};
    use crate::path::testing::{ip, net, nsg, rule, run, tcp, tcp_firewall, vm};
    use crate::path::{HopDetail, Trace};

    fn last_detail(trace: &Trace) -> HopDetail {
        trace.hops.last().expect("a hop").detail.clone()
    }

    fn nic_host(owner: &str, vnet: &str) -> HostAt {
        HostAt::Nic { owner: owner.into(), vnet: vnet.into() }
    }

    /// The NSG names met on the path.
    fn nsgs(trace: &Trace) -> Vec<&str> {
        trace.hops.iter().filter(|h| h.kind == HopKind::Nsg).map(|h| h.resource.as_str()).collect()
    }

    /// Two unpeered VNets, both 10.0.0.0/16 and both with a gateway to 192.168.0.0/16: vnet-a
    /// (a-nsg refuses SSH) holds a1 (10.0.1.4) and a2 (10.0.1.5); vnet-b (b-nsg allows SSH) holds
    /// b (10.0.1.5, a2's address) and b2 (10.0.1.6). Returns the topology and [a1, a2, b, b2].
    fn twins() -> (Topology, [NicId; 4]) {
        let mut t = Topology::new();
        let a = t.add_vnet("vnet-a", vec![net("10.0.0.0/16")]).expect("vnet");
        let b = t.add_vnet("vnet-b", vec![net("10.0.0.0/16")]).expect("the same space, unpeered");
        let deny =
            rule("deny-ssh-in", 100, Inbound, Access::Deny, Tcp, (AddressSpec::Any, AddressSpec::Any), "22");
        let allow = rule(
            "allow-ssh-in",
            100,
            Inbound,
            Access::Allow,
            Tcp,
            (AddressSpec::Any, AddressSpec::Any),
            "22",
        );
        let (a_nsg, b_nsg) = (nsg(&mut t, "a-nsg", vec![deny]), nsg(&mut t, "b-nsg", vec![allow]));
        let mut nics = Vec::new();
        for (v, id, name, addresses) in
            [(a, a_nsg, "a", ["10.0.1.4", "10.0.1.5"]), (b, b_nsg, "b", ["10.0.1.5", "10.0.1.6"])]
        {
            t.connect_on_premises(v, vec![net("192.168.0.0/16")]).expect("gateway");
            let s = t.add_subnet(v, "app", net("10.0.1.0/24")).expect("subnet");
            t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
            for (i, address) in addresses.into_iter().enumerate() {
                let suffix = if i == 0 { "1" } else { "2" };
                let name = if name == "b" && i == 0 { "b".to_string() } else { format!("{name}{suffix}") };
                nics.push(vm(&mut t, &name, s, address, None));
            }
        }
        (t, [nics[0], nics[1], nics[2], nics[3]])
    }

    #[test]
    fn a_packet_to_an_address_of_its_own_vnet_stays_there() {
        let (t, [a1, ..]) = twins();
        let trace = run(&t, tcp(Source::Nic(a1), Destination::Address(ip("10.0.1.5")), 22));
        assert_eq!(trace.verdict, Access::Deny, "{trace:#?}");
        assert_eq!(nsgs(&trace), ["a-nsg", "a-nsg"], "a2's subnet NSG decides, never b-nsg: {trace:#?}");
        assert_eq!(
            trace.deciding_hop().and_then(|h| h.rule_name()).as_deref(),
            Some("securityRules/deny-ssh-in")
        );
    }

    #[test]
    fn a_vm_of_another_routing_domain_is_not_reached_at_its_private_address() {
        let (t, [a1, _, b, _]) = twins();
        let trace = run(&t, tcp(Source::Nic(a1), Destination::Nic(b), 22));
        assert_eq!(trace.verdict, Access::Deny);
        assert_eq!(
            last_detail(&trace),
            HopDetail::Route(RouteDetail::NotTheIntendedNic {
                dst: ip("10.0.1.5"),
                target: nic_host("b", "vnet-b"),
                vnet: "vnet-a".into(),
                reached: nic_host("a2", "vnet-a"),
                target_vnet: "vnet-b".into(),
            })
        );
        assert!(!nsgs(&trace).contains(&"b-nsg"));
    }

    #[test]
    fn an_address_free_in_the_senders_vnet_is_an_unmodelled_host_there_whatever_other_vnets_hold() {
        let (t, [a1, ..]) = twins();
        let trace = run(&t, tcp(Source::Nic(a1), Destination::Address(ip("10.0.1.6")), 22));
        assert_eq!(trace.verdict, Access::Allow, "the model choice for unmodelled hosts: {trace:#?}");
        assert_eq!(nsgs(&trace), ["a-nsg"], "b2's NSG is never met");
        assert_eq!(
            last_detail(&trace),
            HopDetail::Route(RouteDetail::UnmodelledHost {
                dst: ip("10.0.1.6"),
                elsewhere: vec![nic_host("b2", "vnet-b")],
                vnet: "vnet-a".into(),
            })
        );
    }

    #[test]
    fn a_shared_source_address_starts_only_where_it_is_placed() {
        let (t, [_, _, b, _]) = twins();
        let vnet_b = t.vnet_of_nic(b);
        let trace = run(&t, tcp(Source::Address(ip("10.0.1.5")), Destination::Address(ip("8.8.8.8")), 443));
        assert_eq!(trace.verdict, Access::Deny);
        assert_eq!(trace.hops.len(), 1, "{trace:#?}");
        assert_eq!(
            last_detail(&trace),
            HopDetail::Route(RouteDetail::AmbiguousSource {
                address: ip("10.0.1.5"),
                hosts: vec![nic_host("a2", "vnet-a"), nic_host("b", "vnet-b")],
            })
        );
        let placed = Source::AddressAt(ip("10.0.1.77"), Site::Vnet(vnet_b));
        let trace = run(&t, tcp(placed, Destination::Nic(b), 22));
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        assert_eq!(nsgs(&trace), ["b-nsg", "b-nsg"]);
    }

    #[test]
    fn on_premises_internet_and_platform_sources_resolve_per_routing_domain() {
        let (t, [_, _, b, _]) = twins();
        let vnet_b = t.vnet_of_nic(b);
        let from_b = Source::AddressAt(ip("192.168.1.10"), Site::OnPremises(vnet_b));
        let trace = run(&t, tcp(from_b, Destination::Address(ip("10.0.1.5")), 22));
        assert_eq!((trace.verdict, nsgs(&trace)), (Access::Allow, vec!["b-nsg"]), "{trace:#?}");
        let trace =
            run(&t, tcp(Source::Address(ip("192.168.1.10")), Destination::Address(ip("10.0.1.5")), 22));
        let on_premises = |vnet: &str| HostAt::OnPremises { vnet: vnet.into() };
        assert_eq!(
            last_detail(&trace),
            HopDetail::Route(RouteDetail::AmbiguousSource {
                address: ip("192.168.1.10"),
                hosts: vec![on_premises("vnet-a"), on_premises("vnet-b")],
            })
        );
        let trace =
            run(&t, tcp(Source::Address(ip("203.0.113.9")), Destination::Address(ip("10.0.1.5")), 22));
        assert_eq!(
            last_detail(&trace),
            HopDetail::Route(RouteDetail::PrivateFromInternet {
                dst: ip("10.0.1.5"),
                holders: vec!["vnet-a".into(), "vnet-b".into()],
            })
        );
        let platform = Source::Address(crate::model::PLATFORM_HOST_ADDRESS);
        let trace = run(&t, tcp(platform, Destination::Address(ip("10.0.1.5")), 80));
        assert_eq!(trace.verdict, Access::Deny);
        assert_eq!(
            last_detail(&trace),
            HopDetail::Route(RouteDetail::PlatformAmbiguous {
                dst: ip("10.0.1.5"),
                hosts: vec![nic_host("a2", "vnet-a"), nic_host("b", "vnet-b")],
            })
        );
        let trace = run(&t, tcp(platform, Destination::Nic(b), 22));
        assert_eq!((trace.verdict, nsgs(&trace)), (Access::Allow, vec!["b-nsg"]), "{trace:#?}");
    }

    #[test]
    fn an_asg_of_another_routing_domain_matches_nothing() {
        let (mut t, [a1, a2, b, _]) = twins();
        let asg = t.add_asg("asg-b").expect("asg");
        t.join_asg(b, asg).expect("join");
        // a-nsg lets SSH in from asg-b (b, 10.0.1.5 in vnet-b): a2, at the same address in
        // vnet-a, is not a member.
        let from_asg = rule(
            "ssh-from-asg-b",
            90,
            Inbound,
            Access::Allow,
            Tcp,
            (AddressSpec::Asgs(vec![asg]), AddressSpec::Any),
            "22",
        );
        let a_nsg = t.nsg_by_name("a-nsg").expect("nsg");
        t.nsg_mut(a_nsg).rules.push(from_asg);
        let trace = run(&t, tcp(Source::Nic(a2), Destination::Nic(a1), 22));
        assert_eq!(
            trace.deciding_hop().and_then(|h| h.rule_name()).as_deref(),
            Some("securityRules/deny-ssh-in"),
            "{trace:#?}"
        );
        let a = t.vnet_of_nic(a1);
        assert!(t.resolve_context(a).asg_members[&asg].is_empty());
        assert!(t.resolve_context(t.vnet_of_nic(b)).asg_members[&asg].contains(ip("10.0.1.5")));
    }

    /// A user route more specific than `VnetLocal` wins, as longest-prefix match says; the
    /// appliance then routes the packet in its own routing domain, which holds vnet-a's copy of
    /// the address, not vnet-b's.
    #[test]
    fn a_more_specific_udr_beats_vnet_local_and_the_appliance_routes_in_its_own_domain() {
        let (mut t, [a1, ..]) = twins();
        let vnet_a = t.vnet_of_nic(a1);
        let hub = t.add_vnet("hub", vec![net("10.100.0.0/16")]).expect("vnet");
        t.peer(hub, vnet_a).expect("peer");
        t.add_subnet(hub, "AzureFirewallSubnet", net("10.100.1.0/26")).expect("subnet");
        t.add_firewall(tcp_firewall("fw", "10.100.1.4", None), hub).expect("firewall");
        let to_fw = Route {
            name: "a2-via-fw".into(),
            prefix: net("10.0.1.5/32"),
            next_hop: NextHop::VirtualAppliance(ip("10.100.1.4")),
        };
        let rt = t.add_route_table(RouteTable { name: "rt".into(), routes: vec![to_fw] }).expect("table");
        t.set_subnet_route_table(t.nic(a1).subnet, rt).expect("associate");
        let trace = run(&t, tcp(Source::Nic(a1), Destination::Address(ip("10.0.1.5")), 22));
        assert!(trace.hops.iter().any(|h| h.kind == HopKind::Firewall && h.resource == "fw"), "{trace:#?}");
        assert_eq!(
            trace.deciding_hop().and_then(|h| h.rule_name()).as_deref(),
            Some("securityRules/deny-ssh-in")
        );
        assert!(!nsgs(&trace).contains(&"b-nsg"), "{trace:#?}");
    }

    /// hub1 and hub2, unpeered, both 10.100.0.0/16 with a firewall at 10.100.1.4 (fw1, fw2);
    /// spoke1 is peered with hub1 and spoke2 with nothing, and both send 0.0.0.0/0 to 10.100.1.4.
    fn twin_hubs() -> (Topology, NicId, NicId) {
        let mut t = Topology::new();
        for name in ["hub1", "hub2"] {
            let hub = t.add_vnet(name, vec![net("10.100.0.0/16")]).expect("vnet");
            t.add_subnet(hub, "AzureFirewallSubnet", net("10.100.1.0/26")).expect("subnet");
            let pip = t
                .add_public_ip(
                    &format!("{name}-pip"),
                    ip(if name == "hub1" { "20.1.0.1" } else { "20.2.0.1" }),
                    PublicIpSku::Standard,
                )
                .expect("pip");
            let firewall = tcp_firewall(&name.replace("hub", "fw"), "10.100.1.4", Some(pip));
            t.add_firewall(firewall, hub).expect("firewall");
        }
        let to_fw = Route {
            name: "all".into(),
            prefix: net("0.0.0.0/0"),
            next_hop: NextHop::VirtualAppliance(ip("10.100.1.4")),
        };
        let rt = t.add_route_table(RouteTable { name: "rt".into(), routes: vec![to_fw] }).expect("table");
        let mut senders = Vec::new();
        for (name, space, peer) in [("spoke1", "10.1.0.0/16", Some("hub1")), ("spoke2", "10.2.0.0/16", None)]
        {
            let v = t.add_vnet(name, vec![net(space)]).expect("vnet");
            if let Some(hub) = peer {
                t.peer(v, t.vnet_by_name(hub).expect("hub")).expect("peer");
            }
            let prefix = space.replace(".0.0/16", ".1.0/24");
            let s = t.add_subnet(v, "work", net(&prefix)).expect("subnet");
            t.set_subnet_route_table(s, rt).expect("associate");
            senders.push(vm(&mut t, &format!("{name}-vm"), s, &prefix.replace(".0/24", ".4"), None));
        }
        (t, senders[0], senders[1])
    }

    #[test]
    fn a_route_to_an_appliance_finds_the_firewall_of_its_own_routing_domain() {
        let (t, one, two) = twin_hubs();
        let trace = run(&t, tcp(Source::Nic(one), Destination::Address(ip("8.8.8.8")), 443));
        assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
        let firewalls: Vec<&str> =
            trace.hops.iter().filter(|h| h.kind == HopKind::Firewall).map(|h| h.resource.as_str()).collect();
        assert_eq!(firewalls, ["fw1"], "spoke1 is peered with hub1 only");
        let trace = run(&t, tcp(Source::Nic(two), Destination::Address(ip("8.8.8.8")), 443));
        assert_eq!(trace.verdict, Access::Deny);
        match last_detail(&trace) {
            HopDetail::Route(RouteDetail::NoAppliance { via, ip: next_hop, vnet, elsewhere }) => {
                assert_eq!(via.prefix, net("0.0.0.0/0"));
                assert!(via.source.is_user());
                assert_eq!((next_hop, vnet.as_str()), (ip("10.100.1.4"), "spoke2"));
                let fw = |f: &str, v: &str| (f.to_string(), v.to_string());
                assert_eq!(elsewhere, [fw("fw1", "hub1"), fw("fw2", "hub2")]);
            }
            other => panic!("{other:?}"),
        }
        // The drawing joins spoke1's subnet to fw1 only, and spoke2's to neither.
        let g = TopologyGraph::new(&t);
        let routes: Vec<(String, String)> = g
            .graph()
            .edge_indices()
            .filter(|e| matches!(g.graph()[*e], GraphEdge::Route(_)))
            .filter_map(|e| g.graph().edge_endpoints(e))
            .map(|(x, y)| {
                let name = |n| match &g.graph()[n] {
                    GraphNode::Subnet { name, .. } | GraphNode::Firewall { name, .. } => name.clone(),
                    other => format!("{other:?}"),
                };
                (name(x), name(y))
            })
            .collect();
        assert_eq!(routes, [("spoke1/work".to_string(), "fw1".to_string())]);
    }

    #[test]
    fn bastion_connects_to_an_address_as_its_own_vnet_sees_it() {
        let (mut t, [_, _, b, _]) = twins();
        let vnet_b = t.vnet_of_nic(b);
        t.add_subnet(vnet_b, crate::model::BASTION_SUBNET, net("10.0.2.0/26")).expect("subnet");
        let pip = t.add_public_ip("bastion-pip", ip("20.0.0.20"), PublicIpSku::Standard).expect("pip");
        let bastion = t.add_bastion("bastion", vnet_b, Some(pip)).expect("bastion");
        let user = Source::Address(ip("203.0.113.9"));
        let mut req = tcp(user, Destination::Address(ip("10.0.1.5")), 22);
        req.via = Some(bastion);
        let trace = run(&t, req);
        assert_eq!((trace.verdict, nsgs(&trace)), (Access::Allow, vec!["b-nsg"]), "b, not a2: {trace:#?}");
        req.destination = Destination::Address(ip("10.0.1.4"));
        let trace = run(&t, req);
        assert_eq!(trace.verdict, Access::Deny);
        assert_eq!(
            last_detail(&trace),
            HopDetail::BastionNoTarget {
                vnet: "vnet-b".into(),
                address: Some(ip("10.0.1.4")),
                elsewhere: vec![nic_host("a1", "vnet-a")],
            }
        );
    }

    #[test]
    fn the_simulator_helpers_look_addresses_up_from_the_sender() {
        let (t, [a1, a2, b, b2]) = twins();
        let (vnet_a, vnet_b) = (t.vnet_of_nic(a1), t.vnet_of_nic(b));
        let to = |source, address: &str| tcp(source, Destination::Address(ip(address)), 22);
        assert_eq!(sending_vnet(&t, &to(Source::Nic(a1), "10.0.1.5")), Some(vnet_a));
        assert_eq!(sending_vnet(&t, &to(Source::Address(ip("10.0.1.5")), "8.8.8.8")), None, "ambiguous");
        assert_eq!(destination_nic(&t, &to(Source::Nic(a1), "10.0.1.5")), Some(a2));
        assert_eq!(destination_nic(&t, &to(Source::Nic(b2), "10.0.1.5")), Some(b));
        assert_eq!(destination_vnet(&t, &to(Source::Nic(b2), "10.0.1.4")), Some(vnet_b));
        assert_eq!(
            destination_nic(&t, &to(Source::Nic(b2), "10.0.1.4")),
            None,
            "a1's address is free in vnet-b"
        );
        assert_eq!(reply_source(&t, &to(Source::Nic(b2), "10.0.1.5")), Some(Source::Nic(b)));
        assert_eq!(
            reply_source(&t, &to(Source::Nic(b2), "10.0.1.4")),
            Some(Source::AddressAt(ip("10.0.1.4"), Site::Vnet(vnet_b))),
            "the reply starts in vnet-b, not at a1"
        );
        assert_eq!(source_at(&t, ip("10.0.1.5"), Site::Vnet(vnet_a)), Source::Nic(a2));
    }
}

//! Routing a packet from a subnet: the route the subnet selects, and where its next hop takes the
//! packet (a VNet, the gateway, the Internet with its SNAT, an appliance).

use crate::model::{SubnetId, VnetId};
use crate::net::Flow;
use crate::nsg::{Access, RuleRef};

use super::super::outbound::{
    NoOutbound, nat_gateway_detail, nat_gateway_refusal, no_snat_reason, protocol_name, snat_detail,
};
use super::super::route::{self, Hop as RouteHop};
use super::super::{Hop, HopKind, PolicyCache};
use super::resolve::vnet_names;
use super::{DEFAULT_OUTBOUND_ADDRESS, Egress, Position, Walk, hop};

impl Walk<'_> {
    pub(super) fn route_from_subnet(&mut self, flow: Flow, subnet: SubnetId, egress: Egress) -> bool {
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
                if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), v) {
                    return self.deny_blocked_peering(where_, &format!("to {}: {via}; ", flow.dst), blocked);
                }
                if v != s.vnet
                    && let Some(why) = self.outside_subnet_peering(subnet, v, "sender")
                {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "to {}: {via}; {why}: Azure gives every subnet the route to the remote peered subnets, but Microsoft: \"the nonpeered subnets can send packet to destination node in the peered subnet, although the packet is dropped and doesn't reach the virtual machine\"",
                            flow.dst
                        ),
                    );
                }
                self.push(HopKind::Route, where_, Access::Allow, format!("to {}: {via}", flow.dst));
                // The route names the VNet: the address is looked up there, never in another
                // VNet that reuses it (a user route to VnetLocal may name a prefix outside it).
                if !t.vnet_holds(v, flow.dst) {
                    return self.deny(
                        HopKind::Route,
                        "routing",
                        format!("{} is not in vnet '{}'", flow.dst, t.vnet(v).name),
                    );
                }
                self.arrive_private(flow, v)
            }
            RouteHop::Gateway => {
                // Through a remote gateway (gateway transit), the packet crosses the peering.
                if let Some(remote) = t.vnet(s.vnet).remote_gateway {
                    if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), remote) {
                        return self.deny_blocked_peering(
                            where_,
                            &format!("to {}: {via}; ", flow.dst),
                            blocked,
                        );
                    }
                    if let Some(why) = self.outside_subnet_peering(subnet, remote, "sender") {
                        return self.deny(
                            HopKind::Route,
                            where_,
                            format!(
                                "to {}: {via}; {why}: the remote gateway is reached over the peering, and a subnet outside a subnet peering is not advertised to on-premises and its packets over the peering are dropped (model choice, docs/fidelity.md)",
                                flow.dst
                            ),
                        );
                    }
                }
                self.push(
                    HopKind::Route,
                    where_,
                    Access::Allow,
                    format!("to {}: {via}; leaves through the gateway to on-premises", flow.dst),
                )
            }
            RouteHop::Internet => {
                if let Some(dst_vnet) = t.vnet_seen_from(s.vnet, flow.dst).filter(|d| *d != s.vnet)
                    && t.peered_subnets(dst_vnet, s.vnet).is_some()
                    && selected.source == route::RouteSource::Internet
                {
                    let (here, there) = (&t.vnet(s.vnet).name, &t.vnet(dst_vnet).name);
                    let what = match t.subnet_in_vnet(dst_vnet, flow.dst) {
                        Some(d) => format!("subnet '{}' of '{there}'", t.subnet(d).name),
                        None => format!("an address of '{there}' in no modelled subnet"),
                    };
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{} is in {what}, which is not in the subnet peering {here}<->{there} (peerCompleteVnets false): Azure routes only the peered subnets' prefixes over it, so the default route sends it to the Internet, where private addresses are dropped",
                            flow.dst
                        ),
                    );
                }
                let holders: Vec<VnetId> = t.vnets_holding(flow.dst).collect();
                if holders.contains(&s.vnet) {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{via}: {} is in the address space of vnet '{}' itself, and this route sends it to the Internet, where private addresses are dropped",
                            flow.dst,
                            t.vnet(s.vnet).name
                        ),
                    );
                }
                if !holders.is_empty() {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{} is in {}, which {} not peered with vnet '{}'; the default route sends it to the Internet, where private addresses are dropped{}",
                            flow.dst,
                            vnet_names(t, &holders),
                            if holders.len() == 1 { "is" } else { "are" },
                            t.vnet(s.vnet).name,
                            peering_hint(self.cache, s.vnet, &holders)
                        ),
                    );
                }
                if !crate::model::internet_space().contains(flow.dst) {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        format!(
                            "{via}: {} is a private address outside every connected network; the Internet drops it",
                            flow.dst
                        ),
                    );
                }
                let mut snat_hop = None;
                let (src, how) = match egress {
                    Egress::Public(a) if a == flow.src => (a, String::new()),
                    Egress::Public(a) => {
                        (a, format!("; outbound SNAT: the source becomes the public IP {a}"))
                    }
                    Egress::LoadBalancer { nic, lb, by, frontend } => {
                        let (rule, detail) = snat_detail(t, nic, lb, by, frontend, flow.protocol);
                        let name = t.load_balancer(lb).name.clone();
                        snat_hop = Some(Hop {
                            rule: Some(RuleRef::LoadBalancer { name: rule }),
                            ..hop(HopKind::LoadBalancer, &name, Access::Allow, detail)
                        });
                        let address = t.frontend_address(lb, frontend);
                        (
                            address,
                            format!(
                                "; outbound SNAT through load balancer '{name}': the source becomes its frontend address {address} (the load-balancer hop says by which rule)"
                            ),
                        )
                    }
                    Egress::NatGateway { gw, nic } => {
                        let sender = match nic {
                            Some(n) => format!("nic '{}' ({})", t.nic(n).name, t.nic(n).private_ip),
                            None => format!("{} in subnet '{}'", flow.src, s.name),
                        };
                        let name = t.nat_gateway(gw).name.clone();
                        let detail = nat_gateway_detail(t, gw, &sender, flow.protocol);
                        snat_hop = Some(hop(HopKind::NatGateway, &name, Access::Allow, detail));
                        let address = t.nat_gateway_addresses(gw)[0];
                        (
                            address,
                            format!(
                                "; the subnet's NAT gateway '{name}' is its route to the Internet: the source becomes {address} (the nat-gateway hop says how)"
                            ),
                        )
                    }
                    Egress::NoOutbound(NoOutbound::NatGateway(gw), _) => {
                        let name = t.nat_gateway(gw).name.clone();
                        let detail =
                            format!("to {}: {via}: {}", flow.dst, nat_gateway_refusal(t, gw, flow.protocol));
                        return self.push(HopKind::NatGateway, name, Access::Deny, detail);
                    }
                    Egress::DefaultOutbound => (
                        DEFAULT_OUTBOUND_ADDRESS,
                        format!(
                            "; no public IP, so default outbound access: the source becomes an implicit Microsoft public address (nsgsim shows it as {DEFAULT_OUTBOUND_ADDRESS}; model choice, see docs/fidelity.md)"
                        ),
                    ),
                    Egress::NoOutbound(NoOutbound::StandardLoadBalancer(lb), Some(nic)) => {
                        let l = t.load_balancer(lb);
                        let detail = format!(
                            "to {}: {via}: nic '{}' belongs to Standard load balancer '{}', so it has no default outbound access (\"An outbound scenario must be explicitly created\"), and no load balancer translates its {} traffic: {}; add an outbound rule (protocol All), a public IP on the NIC, or a NAT gateway",
                            flow.dst,
                            t.nic(nic).name,
                            l.name,
                            protocol_name(flow.protocol),
                            no_snat_reason(t, nic, lb, flow.protocol)
                        );
                        return self.push(HopKind::LoadBalancer, l.name.clone(), Access::Deny, detail);
                    }
                    Egress::NoOutbound(..) => {
                        return self.deny(
                            HopKind::Route,
                            where_,
                            format!(
                                "{via}: the subnet is private (default_outbound_access: false) and the sender has no public IP, so it has no outbound Internet connectivity; add a public IP, a NAT gateway or a route to a firewall"
                            ),
                        );
                    }
                    Egress::Keep => (flow.src, String::new()),
                };
                self.push(HopKind::Route, where_, Access::Allow, format!("to {}: {via}{how}", flow.dst));
                if let Some(h) = snat_hop {
                    self.hops.push(h);
                }
                let out = Flow { src, ..flow };
                match t.public_ip_by_address(flow.dst) {
                    Some(p) => self.arrive_public(out, p),
                    None => true,
                }
            }
            RouteHop::Appliance(ip) => {
                // The next hop is an address of this VNet or a VNet peered with it, looked up
                // there: an appliance of a VNet in another routing domain is not reached.
                let Some(fw) = t.vnet_seen_from(s.vnet, ip).and_then(|v| t.firewall_in_vnet(v, ip)) else {
                    return self.deny(HopKind::Route, where_, self.no_appliance_at(s.vnet, ip, &via));
                };
                let fw_vnet = t.subnet(t.firewall(fw).subnet).vnet;
                if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), fw_vnet) {
                    return self.deny_blocked_peering(
                        where_,
                        &format!("to {}: {via} (Azure Firewall '{}'); ", flow.dst, t.firewall(fw).name),
                        blocked,
                    );
                }
                if fw_vnet != s.vnet {
                    let fw_subnet = t.firewall(fw).subnet;
                    let why = self
                        .outside_subnet_peering(subnet, fw_vnet, "sender")
                        .or_else(|| self.outside_subnet_peering(fw_subnet, s.vnet, "appliance"));
                    if let Some(why) = why {
                        return self.deny(
                            HopKind::Route,
                            where_,
                            format!(
                                "to {}: {via} (Azure Firewall '{}'); {why}: the next hop is reached over the peering, which drops the packet (model choice, docs/fidelity.md)",
                                flow.dst,
                                t.firewall(fw).name
                            ),
                        );
                    }
                }
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
}

/// "; the VNets connect only through a, b: peering is not transitive, so add a UDR to an
/// appliance there or peer them directly", found on the topology graph: the shortest chain of
/// peerings from `from` to one of the VNets holding the destination (`holders`).
fn peering_hint(cache: &PolicyCache, from: VnetId, holders: &[VnetId]) -> String {
    let reach = cache.private_reach();
    match holders.iter().filter_map(|to| reach.peering_path(from, *to)).min_by_key(Vec::len) {
        Some(path) if path.len() > 2 => format!(
            "; the VNets connect only through {} ({}): peering is not transitive, so route through an appliance there (a UDR) or peer them directly",
            path[1..path.len() - 1].join(", "),
            path.join(" - ")
        ),
        _ => " (peering is not transitive)".into(),
    }
}

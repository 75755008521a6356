//! Routing a packet from a subnet: the route the subnet selects, and where its next hop takes the
//! packet (a VNet, the gateway, the Internet with its SNAT, an appliance).

use crate::model::{SubnetId, VnetId};
use crate::net::Flow;
use crate::nsg::{Access, RuleRef};

use super::super::detail::{
    OutboundDetail, PeeringLead, PeeringRole, RouteDetail, RouteThen, RouteVia, Sender,
};
use super::super::outbound::{
    NoOutbound, nat_gateway_detail, nat_gateway_refusal, no_snat_reason, snat_detail,
};
use super::super::route::{self, Hop as RouteHop};
use super::super::{Hop, HopKind, PolicyCache};
use super::resolve::vnet_list;
use super::{DEFAULT_OUTBOUND_ADDRESS, Egress, Position, Walk, hop};

impl Walk<'_> {
    pub(super) fn route_from_subnet(&mut self, flow: Flow, subnet: SubnetId, egress: Egress) -> bool {
        let t = self.topology;
        let s = t.subnet(subnet);
        let where_ = format!("subnet '{}/{}'", t.vnet(s.vnet).name, s.name);
        let Some(selected) = route::select(t, subnet, flow.dst) else {
            return self.deny(HopKind::Route, where_, RouteDetail::NoRoute { dst: flow.dst });
        };
        let via = RouteVia { prefix: selected.prefix, source: selected.source.clone() };
        let dst = flow.dst;
        let lead =
            |via: &RouteVia, firewall: Option<String>| PeeringLead::Route { dst, via: via.clone(), firewall };
        match selected.next_hop {
            RouteHop::Drop => self.deny(HopKind::Route, where_, RouteDetail::Dropped { via }),
            RouteHop::Vnet(v) => {
                if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), v) {
                    return self.deny_blocked_peering(where_, lead(&via, None), blocked);
                }
                if v != s.vnet
                    && let Some(gap) = self.outside_subnet_peering(subnet, v, PeeringRole::Sender)
                {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        RouteDetail::SenderOutsideSubnetPeering { dst, via, gap },
                    );
                }
                self.push(
                    HopKind::Route,
                    where_,
                    Access::Allow,
                    RouteDetail::Routed { dst, via, then: RouteThen::Nothing },
                );
                // The route names the VNet: the address is looked up there, never in another
                // VNet that reuses it (a user route to VnetLocal may name a prefix outside it).
                if !t.vnet_holds(v, flow.dst) {
                    return self.deny(
                        HopKind::Route,
                        "routing",
                        RouteDetail::NotInVnet { dst, vnet: t.vnet(v).name.clone() },
                    );
                }
                self.arrive_private(flow, v)
            }
            RouteHop::Gateway => {
                // Through a remote gateway (gateway transit), the packet crosses the peering.
                if let Some(remote) = t.vnet(s.vnet).remote_gateway {
                    if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), remote) {
                        return self.deny_blocked_peering(where_, lead(&via, None), blocked);
                    }
                    if let Some(gap) = self.outside_subnet_peering(subnet, remote, PeeringRole::Sender) {
                        return self.deny(
                            HopKind::Route,
                            where_,
                            RouteDetail::GatewayOutsideSubnetPeering { dst, via, gap },
                        );
                    }
                }
                self.push(
                    HopKind::Route,
                    where_,
                    Access::Allow,
                    RouteDetail::Routed { dst, via, then: RouteThen::Gateway },
                )
            }
            RouteHop::Internet => {
                if let Some(dst_vnet) = t.vnet_seen_from(s.vnet, flow.dst).filter(|d| *d != s.vnet)
                    && t.peered_subnets(dst_vnet, s.vnet).is_some()
                    && selected.source == route::RouteSource::Internet
                {
                    let detail = RouteDetail::UnpeeredSubnet {
                        dst,
                        subnet: t.subnet_in_vnet(dst_vnet, flow.dst).map(|d| t.subnet(d).name.clone()),
                        here: t.vnet(s.vnet).name.clone(),
                        there: t.vnet(dst_vnet).name.clone(),
                    };
                    return self.deny(HopKind::Route, where_, detail);
                }
                let holders: Vec<VnetId> = t.vnets_holding(flow.dst).collect();
                if holders.contains(&s.vnet) {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        RouteDetail::OwnSpaceToInternet { via, dst, vnet: t.vnet(s.vnet).name.clone() },
                    );
                }
                if !holders.is_empty() {
                    return self.deny(
                        HopKind::Route,
                        where_,
                        RouteDetail::NotPeeredToInternet {
                            dst,
                            holders: vnet_list(t, &holders),
                            vnet: t.vnet(s.vnet).name.clone(),
                            chain: peering_chain(self.cache, s.vnet, &holders),
                        },
                    );
                }
                if !crate::model::internet_space().contains(flow.dst) {
                    return self.deny(HopKind::Route, where_, RouteDetail::PrivateToInternet { via, dst });
                }
                let mut snat_hop = None;
                let (src, how) = match egress {
                    Egress::Public(a) if a == flow.src => (a, RouteThen::Nothing),
                    Egress::Public(a) => (a, RouteThen::PublicIp { address: a }),
                    Egress::LoadBalancer { nic, lb, by, frontend } => {
                        let (rule, detail) = snat_detail(t, nic, lb, by, frontend, flow.protocol);
                        let name = t.load_balancer(lb).name.clone();
                        snat_hop = Some(Hop {
                            rule: Some(RuleRef::LoadBalancer { name: rule }),
                            ..hop(HopKind::LoadBalancer, &name, Access::Allow, detail)
                        });
                        let address = t.frontend_address(lb, frontend);
                        (address, RouteThen::LoadBalancer { lb: name, address })
                    }
                    Egress::NatGateway { gw, nic } => {
                        let sender = match nic {
                            Some(n) => {
                                Sender::Nic { name: t.nic(n).name.clone(), address: t.nic(n).private_ip }
                            }
                            None => Sender::Address { address: flow.src, subnet: s.name.clone() },
                        };
                        let name = t.nat_gateway(gw).name.clone();
                        let detail = nat_gateway_detail(t, gw, sender, flow.protocol);
                        snat_hop = Some(hop(HopKind::NatGateway, &name, Access::Allow, detail));
                        let address = t.nat_gateway_addresses(gw)[0];
                        (address, RouteThen::NatGateway { gateway: name, address })
                    }
                    Egress::NoOutbound(NoOutbound::NatGateway(gw), _) => {
                        let name = t.nat_gateway(gw).name.clone();
                        let detail = nat_gateway_refusal(t, gw, dst, via, flow.protocol);
                        return self.push(HopKind::NatGateway, name, Access::Deny, detail);
                    }
                    Egress::DefaultOutbound => (
                        DEFAULT_OUTBOUND_ADDRESS,
                        RouteThen::DefaultOutbound { address: DEFAULT_OUTBOUND_ADDRESS },
                    ),
                    Egress::NoOutbound(NoOutbound::StandardLoadBalancer(lb), Some(nic)) => {
                        let l = t.load_balancer(lb);
                        let detail = OutboundDetail::StandardLbNoOutbound {
                            dst,
                            via,
                            nic: t.nic(nic).name.clone(),
                            lb: l.name.clone(),
                            protocol: flow.protocol,
                            reason: no_snat_reason(t, nic, lb, flow.protocol),
                        };
                        return self.push(HopKind::LoadBalancer, l.name.clone(), Access::Deny, detail);
                    }
                    Egress::NoOutbound(..) => {
                        return self.deny(HopKind::Route, where_, OutboundDetail::PrivateSubnet { via });
                    }
                    Egress::Keep => (flow.src, RouteThen::Nothing),
                };
                self.push(HopKind::Route, where_, Access::Allow, RouteDetail::Routed { dst, via, then: how });
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
                    return self.deny(HopKind::Route, where_, self.no_appliance_at(s.vnet, ip, via));
                };
                let fw_vnet = t.subnet(t.firewall(fw).subnet).vnet;
                if let Some(blocked) = self.blocked_peering(Position::Subnet(subnet), fw_vnet) {
                    let firewall = Some(t.firewall(fw).name.clone());
                    return self.deny_blocked_peering(where_, lead(&via, firewall), blocked);
                }
                if fw_vnet != s.vnet {
                    let fw_subnet = t.firewall(fw).subnet;
                    let gap = self
                        .outside_subnet_peering(subnet, fw_vnet, PeeringRole::Sender)
                        .or_else(|| self.outside_subnet_peering(fw_subnet, s.vnet, PeeringRole::Appliance));
                    if let Some(gap) = gap {
                        let firewall = t.firewall(fw).name.clone();
                        return self.deny(
                            HopKind::Route,
                            where_,
                            RouteDetail::ApplianceOutsideSubnetPeering { dst, via, firewall, gap },
                        );
                    }
                }
                self.push(
                    HopKind::Route,
                    where_,
                    Access::Allow,
                    RouteDetail::Routed {
                        dst,
                        via,
                        then: RouteThen::Firewall { firewall: t.firewall(fw).name.clone() },
                    },
                );
                self.through_firewall(flow, fw)
            }
        }
    }
}

/// The shortest chain of peered VNets from `from` to one of the VNets holding the destination
/// (`holders`), found on the topology graph.
fn peering_chain(cache: &PolicyCache, from: VnetId, holders: &[VnetId]) -> Option<Vec<String>> {
    let reach = cache.private_reach();
    holders.iter().filter_map(|to| reach.peering_path(from, *to)).min_by_key(Vec::len)
}

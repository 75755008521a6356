//! Route selection: which next hop a packet from a subnet takes to a destination address.
//!
//! Azure picks the route with the longest matching prefix; on a tie a user-defined route beats a
//! system route. System routes of a subnet: its VNet's address spaces (`VnetLocal`), each peered
//! VNet's spaces (`VNetPeering`: peering is not transitive; over a subnet peering only the remote
//! peered subnets' prefixes, in every local subnet, peered or not), the on-premises spaces behind the
//! VNet's gateway (`VirtualNetworkGateway`) or, with gateway transit, behind the gateway of the
//! peered VNet it uses, and `0.0.0.0/0` to the Internet.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{NextHop, SubnetId, Topology, VnetId};

/// The route a packet takes, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selected {
    /// The matching prefix.
    pub prefix: IpNet,
    /// Where it goes.
    pub next_hop: Hop,
    /// `user` (a UDR, with its table and name) or `system`.
    pub source: String,
}

/// A next hop, with peering resolved to the VNet it leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    /// Within the VNet, or to a peered VNet (the VNet it reaches).
    Vnet(VnetId),
    /// To the VNet's gateway (on-premises).
    Gateway,
    /// Out to the Internet.
    Internet,
    /// To a network virtual appliance at this address.
    Appliance(IpAddr),
    /// Dropped.
    Drop,
}

/// The route from `subnet` to `dst`, if any.
pub fn select(topology: &Topology, subnet: SubnetId, dst: IpAddr) -> Option<Selected> {
    let s = topology.subnet(subnet);
    let vnet = topology.vnet(s.vnet);
    let mut candidates: Vec<(IpNet, bool, Hop, String)> = Vec::new();
    for space in &vnet.address_space {
        candidates.push((*space, false, Hop::Vnet(s.vnet), "system (VnetLocal)".into()));
    }
    for peer in &vnet.peerings {
        for space in topology.peered_prefixes(s.vnet, *peer) {
            candidates.push((
                space,
                false,
                Hop::Vnet(*peer),
                format!("system (VNetPeering to '{}')", topology.vnet(*peer).name),
            ));
        }
    }
    for space in &vnet.on_premises {
        candidates.push((*space, false, Hop::Gateway, "system (VirtualNetworkGateway)".into()));
    }
    if let Some(remote) = vnet.remote_gateway {
        let remote = topology.vnet(remote);
        for space in &remote.on_premises {
            candidates.push((
                *space,
                false,
                Hop::Gateway,
                format!("system (VirtualNetworkGateway of peered vnet '{}', gateway transit)", remote.name),
            ));
        }
    }
    let default: IpNet = match dst {
        IpAddr::V4(_) => "0.0.0.0/0".parse().expect("literal"),
        IpAddr::V6(_) => "::/0".parse().expect("literal"),
    };
    candidates.push((default, false, Hop::Internet, "system (Internet)".into()));
    if let Some(table) = s.route_table {
        let t = topology.route_table(table);
        for route in &t.routes {
            let hop = match route.next_hop {
                NextHop::VirtualAppliance(ip) => Hop::Appliance(ip),
                NextHop::Internet => Hop::Internet,
                NextHop::VnetLocal => Hop::Vnet(s.vnet),
                NextHop::VirtualNetworkGateway => Hop::Gateway,
                NextHop::None => Hop::Drop,
            };
            candidates.push((
                route.prefix,
                true,
                hop,
                format!("user route '{}/{}' ({})", t.name, route.name, route.next_hop),
            ));
        }
    }
    candidates
        .into_iter()
        .filter(|(prefix, _, _, _)| prefix.contains(&dst))
        .max_by_key(|(prefix, user, _, _)| (prefix.prefix_len(), *user))
        .map(|(prefix, _, next_hop, source)| Selected { prefix, next_hop, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Route, RouteTable};

    #[test]
    fn longest_prefix_and_udr_wins_ties() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        let other = t.add_vnet("other", vec!["10.2.0.0/16".parse().expect("net")]).expect("vnet");
        t.peer(hub, spoke).expect("peer");
        let s = t.add_subnet(spoke, "app", "10.1.1.0/24".parse().expect("net")).expect("subnet");
        let ip = |x: &str| x.parse::<IpAddr>().expect("ip");
        assert_eq!(select(&t, s, ip("10.0.5.5")).map(|r| r.next_hop), Some(Hop::Vnet(hub)));
        assert_eq!(
            select(&t, s, ip("10.2.0.4")).map(|r| r.next_hop),
            Some(Hop::Internet),
            "no peering: default route"
        );
        let rt = t
            .add_route_table(RouteTable {
                name: "rt".into(),
                routes: vec![
                    Route {
                        name: "all".into(),
                        prefix: "0.0.0.0/0".parse().expect("net"),
                        next_hop: NextHop::VirtualAppliance(ip("10.0.1.4")),
                    },
                    Route {
                        name: "hub".into(),
                        prefix: "10.0.0.0/16".parse().expect("net"),
                        next_hop: NextHop::VirtualAppliance(ip("10.0.1.4")),
                    },
                ],
            })
            .expect("table");
        t.set_subnet_route_table(s, rt).expect("associate");
        assert_eq!(
            select(&t, s, ip("10.0.5.5")).map(|r| r.next_hop),
            Some(Hop::Appliance(ip("10.0.1.4"))),
            "UDR wins the tie"
        );
        assert_eq!(
            select(&t, s, ip("10.1.1.9")).map(|r| r.next_hop),
            Some(Hop::Vnet(spoke)),
            "longer system prefix wins"
        );
        assert_eq!(select(&t, s, ip("8.8.8.8")).map(|r| r.next_hop), Some(Hop::Appliance(ip("10.0.1.4"))));
        let _ = other;
    }
}

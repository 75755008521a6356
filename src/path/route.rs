//! Route selection: which next hop a packet from a subnet takes to a destination address.
//!
//! Azure picks the route with the longest matching prefix; on a tie a user-defined route beats a
//! system route. System routes of a subnet: its VNet's address spaces (`VnetLocal`), each peered
//! VNet's spaces (`VNetPeering`: peering is not transitive; over a subnet peering only the remote
//! peered subnets' prefixes, in every local subnet, peered or not), the on-premises spaces behind the
//! VNet's gateway (`VirtualNetworkGateway`) or, with gateway transit, behind the gateway of the
//! peered VNet it uses, and `0.0.0.0/0` to the Internet.

use std::fmt;
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
    /// Where the route comes from: one of the subnet's system routes or a user-defined route.
    pub source: RouteSource,
}

/// Where a selected route comes from: the facts, which `Display` writes as the trace's words
/// (`system (Internet)`, `user route 'rt/all' (VirtualAppliance 10.0.1.4)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteSource {
    /// The system route to the VNet's own address spaces (`VnetLocal`).
    VnetLocal,
    /// The system route to a peered VNet's spaces (`VNetPeering`), with the peered VNet's name.
    Peering {
        /// The peered VNet.
        vnet: String,
    },
    /// The system route to the on-premises spaces behind the VNet's own gateway.
    Gateway,
    /// The system route to the on-premises spaces behind a peered VNet's gateway (gateway transit).
    RemoteGateway {
        /// The peered VNet whose gateway it uses.
        vnet: String,
    },
    /// The system default route (`0.0.0.0/0` or `::/0`) to the Internet.
    Internet,
    /// A user-defined route of the subnet's route table.
    User {
        /// The route table.
        table: String,
        /// The route.
        route: String,
        /// Its next hop as the table writes it.
        next_hop: NextHop,
    },
}

impl RouteSource {
    /// Whether it is a user-defined route (which wins a tie of prefix lengths).
    pub fn is_user(&self) -> bool {
        matches!(self, RouteSource::User { .. })
    }
}

impl fmt::Display for RouteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteSource::VnetLocal => f.write_str("system (VnetLocal)"),
            RouteSource::Peering { vnet } => write!(f, "system (VNetPeering to '{vnet}')"),
            RouteSource::Gateway => f.write_str("system (VirtualNetworkGateway)"),
            RouteSource::RemoteGateway { vnet } => {
                write!(f, "system (VirtualNetworkGateway of peered vnet '{vnet}', gateway transit)")
            }
            RouteSource::Internet => f.write_str("system (Internet)"),
            RouteSource::User { table, route, next_hop } => {
                write!(f, "user route '{table}/{route}' ({next_hop})")
            }
        }
    }
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
    let mut candidates: Vec<(IpNet, Hop, RouteSource)> = Vec::new();
    for space in &vnet.address_space {
        candidates.push((*space, Hop::Vnet(s.vnet), RouteSource::VnetLocal));
    }
    for peer in &vnet.peerings {
        for space in topology.peered_prefixes(s.vnet, *peer) {
            let source = RouteSource::Peering { vnet: topology.vnet(*peer).name.clone() };
            candidates.push((space, Hop::Vnet(*peer), source));
        }
    }
    for space in &vnet.on_premises {
        candidates.push((*space, Hop::Gateway, RouteSource::Gateway));
    }
    if let Some(remote) = vnet.remote_gateway {
        let remote = topology.vnet(remote);
        for space in &remote.on_premises {
            candidates.push((*space, Hop::Gateway, RouteSource::RemoteGateway { vnet: remote.name.clone() }));
        }
    }
    let default: IpNet = match dst {
        IpAddr::V4(_) => "0.0.0.0/0".parse().expect("literal"),
        IpAddr::V6(_) => "::/0".parse().expect("literal"),
    };
    candidates.push((default, Hop::Internet, RouteSource::Internet));
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
            let source = RouteSource::User {
                table: t.name.clone(),
                route: route.name.clone(),
                next_hop: route.next_hop,
            };
            candidates.push((route.prefix, hop, source));
        }
    }
    candidates
        .into_iter()
        .filter(|(prefix, _, _)| prefix.contains(&dst))
        .max_by_key(|(prefix, _, source)| (prefix.prefix_len(), source.is_user()))
        .map(|(prefix, next_hop, source)| Selected { prefix, next_hop, source })
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

    #[test]
    fn the_route_source_is_data_and_displays_as_the_trace_writes_it() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        t.peer(hub, spoke).expect("peer");
        let s = t.add_subnet(spoke, "app", "10.1.1.0/24".parse().expect("net")).expect("subnet");
        let ip = |x: &str| x.parse::<IpAddr>().expect("ip");
        let source = |dst: &str| select(&t, s, ip(dst)).map(|r| r.source);
        assert_eq!(source("8.8.8.8"), Some(RouteSource::Internet));
        assert_eq!(source("10.1.9.9"), Some(RouteSource::VnetLocal));
        assert_eq!(source("10.0.5.5"), Some(RouteSource::Peering { vnet: "hub".into() }));
        let rt = t
            .add_route_table(RouteTable {
                name: "rt".into(),
                routes: vec![Route {
                    name: "all".into(),
                    prefix: "0.0.0.0/0".parse().expect("net"),
                    next_hop: NextHop::VirtualAppliance(ip("10.0.1.4")),
                }],
            })
            .expect("table");
        t.set_subnet_route_table(s, rt).expect("associate");
        let user = select(&t, s, ip("8.8.8.8")).map(|r| r.source).expect("a route");
        assert_eq!(
            user,
            RouteSource::User {
                table: "rt".into(),
                route: "all".into(),
                next_hop: NextHop::VirtualAppliance(ip("10.0.1.4"))
            }
        );
        assert!(user.is_user() && !RouteSource::Internet.is_user());
        assert_eq!(user.to_string(), "user route 'rt/all' (VirtualAppliance 10.0.1.4)");
        assert_eq!(RouteSource::Internet.to_string(), "system (Internet)");
        assert_eq!(RouteSource::Peering { vnet: "hub".into() }.to_string(), "system (VNetPeering to 'hub')");
        assert_eq!(
            RouteSource::RemoteGateway { vnet: "hub".into() }.to_string(),
            "system (VirtualNetworkGateway of peered vnet 'hub', gateway transit)"
        );
    }
}

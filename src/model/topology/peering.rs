//! Peering and gateways: VNets peered whole or by subnets, each side's virtual network access,
//! on-premises spaces behind a gateway and gateway transit.

use ipnet::IpNet;

use super::{PeeringProblem, Resource, SubnetPeeringProblem, Topology, TopologyError, overlaps};
use crate::ids::{SubnetId, VnetId};
use crate::net::AddrSet;

impl Topology {
    /// Connects on-premises address spaces to a VNet through a gateway.
    ///
    /// # Errors
    /// When a space overlaps the VNet's own address space.
    pub fn connect_on_premises(&mut self, vnet: VnetId, spaces: Vec<IpNet>) -> Result<(), TopologyError> {
        let v = &self.vnets[vnet.index()];
        for space in &spaces {
            if let Some(own) = v.address_space.iter().find(|a| overlaps(a, space)) {
                return Err(TopologyError::AddressSpaceOverlap {
                    vnet: v.name.clone(),
                    first: *own,
                    second: *space,
                });
            }
        }
        self.networked = self.networked.union(&AddrSet::from_nets(&spaces));
        self.vnets[vnet.index()].on_premises.extend(spaces);
        Ok(())
    }

    /// Peers two VNets (both directions).
    ///
    /// # Errors
    /// When their address spaces overlap, or one's overlaps a VNet already peered with the other.
    pub fn peer(&mut self, a: VnetId, b: VnetId) -> Result<(), TopologyError> {
        let overlap = self.vnets[a.index()]
            .address_space
            .iter()
            .any(|x| self.vnets[b.index()].address_space.iter().any(|y| overlaps(x, y)));
        if a == b {
            return Err(TopologyError::SelfPeering { vnet: self.vnets[a.index()].name.clone() });
        }
        if overlap {
            return Err(TopologyError::PeeringOverlap {
                first: self.vnets[a.index()].name.clone(),
                second: self.vnets[b.index()].name.clone(),
            });
        }
        if !self.vnets[a.index()].peerings.contains(&b) {
            let (sa, sb) =
                (self.vnets[a.index()].address_space.clone(), self.vnets[b.index()].address_space.clone());
            self.check_distinct_among_peers(a, b, &sa, &sb)?;
            self.vnets[a.index()].peerings.push(b);
            self.vnets[b.index()].peerings.push(a);
        }
        Ok(())
    }

    /// Peers subnets of two VNets (Azure's subnet peering, `peerCompleteVnets: false`):
    /// `a_subnets` of `a` with `b_subnets` of `b` (Azure's `localSubnetNames` and
    /// `remoteSubnetNames`). The VNets' address spaces may overlap; Microsoft's rule holds
    /// instead: "The participating subnets must be unique and must belong to unique address
    /// spaces", i.e. no address space of a VNet that holds one of its peered subnets overlaps an
    /// address space of the other VNet.
    ///
    /// Every subnet of each VNet gets routes to the other side's peered subnets only; traffic
    /// from a subnet that is not in the peering is dropped (see [`Topology::subnet_in_peering`]).
    ///
    /// # Errors
    /// A VNet peered with itself, VNets already peered (Azure allows one peering link between two
    /// VNets), an empty list, a subnet of another VNet, the overlap above, or a peered subnet that
    /// overlaps what the other VNet already reaches over another peering (Azure's rule for whole
    /// VNets, `VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`, applied to the prefixes the subnet
    /// peering routes: model choice, docs/fidelity.md).
    pub fn peer_subnets(
        &mut self,
        a: VnetId,
        b: VnetId,
        a_subnets: &[SubnetId],
        b_subnets: &[SubnetId],
    ) -> Result<(), TopologyError> {
        let (an, bn) = (self.vnets[a.index()].name.clone(), self.vnets[b.index()].name.clone());
        if a == b {
            return Err(TopologyError::SelfPeering { vnet: an });
        }
        let refuse = |problem: SubnetPeeringProblem| TopologyError::SubnetPeering {
            a: an.clone(),
            b: bn.clone(),
            problem: Box::new(problem),
        };
        if self.vnets[a.index()].peerings.contains(&b) {
            return Err(refuse(SubnetPeeringProblem::AlreadyPeered));
        }
        for (vnet, other, list) in [(a, b, a_subnets), (b, a, b_subnets)] {
            let (vname, oname) = (&self.vnets[vnet.index()].name, &self.vnets[other.index()].name);
            if list.is_empty() {
                return Err(refuse(SubnetPeeringProblem::NoSubnet { vnet: vname.clone() }));
            }
            for s in list {
                let sub = &self.subnets[s.index()];
                if sub.vnet != vnet {
                    return Err(refuse(SubnetPeeringProblem::SubnetNotInVnet {
                        subnet: sub.name.clone(),
                        vnet: vname.clone(),
                    }));
                }
                for space in
                    self.vnets[vnet.index()].address_space.iter().filter(|x| overlaps(x, &sub.prefix))
                {
                    if let Some(theirs) =
                        self.vnets[other.index()].address_space.iter().find(|y| overlaps(space, y))
                    {
                        return Err(refuse(SubnetPeeringProblem::SharedAddressSpace {
                            subnet: sub.name.clone(),
                            prefix: sub.prefix,
                            vnet: vname.clone(),
                            space: *space,
                            theirs: *theirs,
                            other: oname.clone(),
                        }));
                    }
                }
            }
        }
        let prefixes = |list: &[SubnetId]| -> Vec<IpNet> {
            list.iter().map(|s| self.subnets[s.index()].prefix).collect()
        };
        self.check_distinct_among_peers(a, b, &prefixes(a_subnets), &prefixes(b_subnets))?;
        let dedup = |list: &[SubnetId]| {
            let mut v = list.to_vec();
            v.sort();
            v.dedup();
            v
        };
        self.vnets[a.index()].peerings.push(b);
        self.vnets[b.index()].peerings.push(a);
        self.vnets[a.index()].subnet_peerings.push((b, dedup(a_subnets)));
        self.vnets[b.index()].subnet_peerings.push((a, dedup(b_subnets)));
        Ok(())
    }

    /// `vnet`'s subnets in its subnet peering with `remote` (Azure's `localSubnetNames`), or
    /// `None` when the two are peered whole or not peered.
    pub fn peered_subnets(&self, vnet: VnetId, remote: VnetId) -> Option<&[SubnetId]> {
        self.vnets[vnet.index()].subnet_peerings.iter().find(|(r, _)| *r == remote).map(|(_, s)| s.as_slice())
    }

    /// Whether `subnet` takes part in its VNet's peering with `remote`: always for a peering of
    /// whole VNets, only a listed subnet for a subnet peering. Microsoft: a subnet outside the
    /// peering still has the route to the remote peered subnets ("forward route from non-peered
    /// subnet to peered subnet exists") but "the packet is dropped and doesn't reach the virtual
    /// machine".
    pub fn subnet_in_peering(&self, subnet: SubnetId, remote: VnetId) -> bool {
        self.peered_subnets(self.subnets[subnet.index()].vnet, remote)
            .is_none_or(|list| list.contains(&subnet))
    }

    /// The prefixes of `remote` that `vnet` reaches over their peering (routes `VNetPeering`,
    /// and the peered part of `VirtualNetwork`): `remote`'s address spaces, or for a subnet
    /// peering the prefixes of `remote`'s peered subnets (Azure's `remoteAddressSpace`). Every
    /// subnet of `vnet` gets them, peered or not (Microsoft, Marc de Droog's subnet peering
    /// walkthrough: "the ip space of the subnets listed in --remote-subnet-names is propagated to
    /// all subnets in the local vnet"). Empty when they are not peered.
    pub fn peered_prefixes(&self, vnet: VnetId, remote: VnetId) -> Vec<IpNet> {
        if !self.vnets[vnet.index()].peerings.contains(&remote) {
            return Vec::new();
        }
        match self.peered_subnets(remote, vnet) {
            Some(list) => list.iter().map(|s| self.subnets[s.index()].prefix).collect(),
            None => self.vnets[remote.index()].address_space.clone(),
        }
    }

    /// Sets Azure's `allowVirtualNetworkAccess` on `vnet`'s side of its peering with `remote`
    /// (Azure's default: true). With `false`, `remote`'s address spaces leave `vnet`'s
    /// `VirtualNetwork` tag (Microsoft's current documentation: "only changes the definition of
    /// the VirtualNetwork service tag"); under option `peering_access_blocks_all_traffic` the
    /// peering also carries no traffic (see [`Topology::peering_access_blocked_by`]).
    ///
    /// # Errors
    /// When the two VNets are not peered.
    pub fn set_peering_access(
        &mut self,
        vnet: VnetId,
        remote: VnetId,
        allow: bool,
    ) -> Result<(), TopologyError> {
        let v = &self.vnets[vnet.index()];
        if !v.peerings.contains(&remote) {
            return Err(TopologyError::requirement(
                Resource::Vnet(v.name.clone()),
                PeeringProblem::NotPeered { remote: self.vnets[remote.index()].name.clone() },
            ));
        }
        let without = &mut self.vnets[vnet.index()].peerings_without_access;
        without.retain(|r| *r != remote);
        if !allow {
            without.push(remote);
        }
        Ok(())
    }

    /// Whether `vnet`'s side of its peering with `remote` allows virtual network access (Azure's
    /// `allowVirtualNetworkAccess`); true when they are not peered, as there is no side to say no.
    pub fn allows_virtual_network_access(&self, vnet: VnetId, remote: VnetId) -> bool {
        !self.vnets[vnet.index()].peerings_without_access.contains(&remote)
    }

    /// The VNet (`a` or `b`, `a` first) whose side of their peering sets
    /// `allowVirtualNetworkAccess: false`, if they are peered and one does.
    pub fn peering_access_blocked_by(&self, a: VnetId, b: VnetId) -> Option<VnetId> {
        if !self.vnets[a.index()].peerings.contains(&b) {
            return None;
        }
        [(a, b), (b, a)].into_iter().find(|&(x, y)| !self.allows_virtual_network_access(x, y)).map(|(x, _)| x)
    }

    /// Turns on scenario option `peering_access_blocks_all_traffic`: the older peering
    /// documentation ("When this setting is disabled, traffic doesn't flow between the peered
    /// virtual networks"), where a peering with `allowVirtualNetworkAccess: false` on either side
    /// carries no traffic whatever the NSGs say.
    pub fn set_peering_access_blocks_all_traffic(&mut self, on: bool) {
        self.peering_access_blocks_all_traffic = on;
    }

    /// Whether option `peering_access_blocks_all_traffic` is on.
    pub fn peering_access_blocks_all_traffic(&self) -> bool {
        self.peering_access_blocks_all_traffic
    }

    /// Lets `vnet` use the gateway of the peered VNet `remote` (gateway transit).
    ///
    /// # Errors
    /// As Azure refuses it: the VNets are not peered, `remote` has no gateway (no on-premises
    /// spaces), `vnet` has a gateway of its own, or `vnet` already uses another remote gateway.
    pub fn use_remote_gateway(&mut self, vnet: VnetId, remote: VnetId) -> Result<(), TopologyError> {
        let (v, r) = (&self.vnets[vnet.index()], &self.vnets[remote.index()]);
        let problem = if !v.peerings.contains(&remote) {
            Some(PeeringProblem::NotPeered { remote: r.name.clone() })
        } else if r.on_premises.is_empty() {
            Some(PeeringProblem::RemoteHasNoGateway { remote: r.name.clone() })
        } else if !v.on_premises.is_empty() {
            Some(PeeringProblem::HasOwnGateway)
        } else if let Some(other) = v.remote_gateway.filter(|o| *o != remote) {
            Some(PeeringProblem::UsesAnotherGateway { other: self.vnets[other.index()].name.clone() })
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(TopologyError::requirement(Resource::Vnet(v.name.clone()), problem));
        }
        self.vnets[vnet.index()].remote_gateway = Some(remote);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::appliance::RouteTable;
    use super::super::tests::{ip, net, small};
    use super::*;

    /// Subnet peering: each VNet's `VirtualNetwork` tag and routes get the other side's peered
    /// subnets only (the same for every local subnet), the VNets' shared 172.16.0.0/16 is
    /// allowed, and Microsoft's "unique address spaces" rule refuses a peered subnet whose
    /// address space overlaps the other VNet's, as well as a second link or an empty side.
    #[test]
    fn subnet_peering_shares_only_the_peered_subnets() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
        let web = t.add_subnet(hub, "web", net("10.0.1.0/24")).expect("subnet");
        let db = t.add_subnet(hub, "db", net("10.0.2.0/24")).expect("subnet");
        let shared = t.add_subnet(hub, "shared", net("172.16.1.0/24")).expect("subnet");
        let app = t.add_subnet(spoke, "app", net("10.1.1.0/24")).expect("subnet");
        let data = t.add_subnet(spoke, "data", net("10.1.2.0/24")).expect("subnet");
        assert!(t.peer(hub, spoke).is_err(), "whole VNets with overlapping spaces");
        let e = t.peer_subnets(hub, spoke, &[web, shared], &[app]).expect_err("172.16.0.0/16 is in both");
        let TopologyError::SubnetPeering { problem, .. } = &e else { panic!("{e:?}") };
        let SubnetPeeringProblem::SharedAddressSpace { subnet, space, theirs, other, .. } = problem.as_ref()
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            (subnet.as_str(), *space, *theirs, other.as_str()),
            ("shared", net("172.16.0.0/16"), net("172.16.0.0/16"), "spoke")
        );
        // The words, once per problem.
        assert!(e.to_string().contains("subnet 'shared' (172.16.1.0/24) of vnet 'hub' belongs to address space 172.16.0.0/16, which overlaps 172.16.0.0/16 of vnet 'spoke'"), "{e}");
        let empty = t.peer_subnets(hub, spoke, &[], &[app]).expect_err("empty");
        assert!(
            matches!(&empty, TopologyError::SubnetPeering { problem, .. } if matches!(problem.as_ref(), SubnetPeeringProblem::NoSubnet { vnet } if vnet == "hub")),
            "{empty:?}"
        );
        assert!(empty.to_string().contains("names no subnet of vnet 'hub'"), "{empty}");
        let wrong = t.peer_subnets(hub, spoke, &[app], &[app]).expect_err("wrong vnet");
        assert_eq!(
            wrong,
            TopologyError::SubnetPeering {
                a: "hub".into(),
                b: "spoke".into(),
                problem: Box::new(SubnetPeeringProblem::SubnetNotInVnet {
                    subnet: "app".into(),
                    vnet: "hub".into()
                })
            }
        );
        assert_eq!(
            wrong.to_string(),
            "the subnet peering of vnets 'hub' and 'spoke': subnet 'app' is not in vnet 'hub'"
        );
        assert!(t.vnet(hub).peerings.is_empty(), "a refused peering leaves nothing behind");
        t.peer_subnets(hub, spoke, &[web], &[app]).expect("subnet peering");
        let twice = t.peer_subnets(hub, spoke, &[web], &[app]).expect_err("one link between two VNets");
        assert!(
            matches!(&twice, TopologyError::SubnetPeering { problem, .. } if **problem == SubnetPeeringProblem::AlreadyPeered),
            "{twice:?}"
        );
        assert_eq!(t.peered_prefixes(hub, spoke), [net("10.1.1.0/24")]);
        assert_eq!(t.peered_prefixes(spoke, hub), [net("10.0.1.0/24")]);
        assert!(t.subnet_in_peering(web, spoke) && !t.subnet_in_peering(db, spoke));
        assert!(t.subnet_in_peering(app, hub) && !t.subnet_in_peering(data, hub));
        let tag = t.virtual_network_tag(hub);
        assert!(tag.contains(ip("10.1.1.9")) && !tag.contains(ip("10.1.2.9")), "hub's tag: spoke's app only");
        let tag = t.virtual_network_tag(spoke);
        assert!(tag.contains(ip("10.0.1.9")) && !tag.contains(ip("10.0.2.9")), "spoke's tag: hub's web only");
        // Every hub subnet has the tag and the route, peered or not.
        assert!(t.virtual_network_tag_contains(db, ip("10.1.1.9")));
        let hop = |s, d| crate::path::route::select(&t, s, ip(d)).map(|r| r.next_hop);
        use crate::path::route::Hop;
        assert_eq!(hop(db, "10.1.1.9"), Some(Hop::Vnet(spoke)), "Microsoft: the forward route exists");
        assert_eq!(hop(web, "10.1.2.9"), Some(Hop::Internet), "no route to a subnet left out");
        assert_eq!(hop(app, "10.0.2.9"), Some(Hop::Internet));
        assert_eq!(hop(app, "172.16.1.9"), Some(Hop::Vnet(spoke)), "the shared space stays local");
    }

    /// `allowVirtualNetworkAccess: false` on one side takes the remote VNet's spaces out of that
    /// side's `VirtualNetwork` only; the other side's tag keeps them (Microsoft's peering page
    /// sets it under "This virtual network"). The spaces never become `Internet`.
    #[test]
    fn peering_access_shapes_the_virtual_network_tag_of_its_own_side_only() {
        let (mut t, hub, _) = small();
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        let public = t.add_vnet("public", vec![net("20.50.0.0/16")]).expect("vnet");
        let web = t.subnet_by_name(hub, "web").expect("web");
        let err = t.set_peering_access(hub, spoke, false).expect_err("not peered yet");
        let not_peered = PeeringProblem::NotPeered { remote: "spoke".into() };
        assert_eq!(err.requirement_problem(), Some(&not_peered.into()), "{err}");
        t.peer(hub, spoke).expect("peer");
        t.peer(hub, public).expect("peer");
        assert!(t.allows_virtual_network_access(hub, spoke), "Azure's default");
        assert_eq!(t.peering_access_blocked_by(hub, spoke), None);
        t.set_peering_access(hub, spoke, false).expect("hub's side");
        t.set_peering_access(hub, public, false).expect("hub's side");
        assert!(!t.allows_virtual_network_access(hub, spoke));
        assert!(t.allows_virtual_network_access(spoke, hub));
        assert_eq!(t.peering_access_blocked_by(spoke, hub), Some(hub));
        assert!(!t.virtual_network_tag(hub).contains(ip("10.1.5.5")), "hub's tag loses the spoke");
        assert!(t.virtual_network_tag(hub).contains(ip("10.0.1.4")), "and keeps its own space");
        assert!(t.virtual_network_tag(spoke).contains(ip("10.0.1.4")), "the spoke's tag keeps the hub");
        assert!(!t.virtual_network_tag_contains(web, ip("10.1.5.5")));
        assert!(t.virtual_network_tag_contains(web, ip("168.63.129.16")));
        let ctx = t.resolve_context(hub);
        assert!(!ctx.internet.contains(ip("20.50.1.1")), "a peer's public space is not Internet");
        assert!(!ctx.virtual_network.contains(ip("20.50.1.1")));
        // Setting it back restores the tag; a forced-tunnelling UDR puts everything in it anyway.
        t.set_peering_access(hub, spoke, true).expect("hub's side");
        assert!(t.virtual_network_tag(hub).contains(ip("10.1.5.5")));
        t.set_peering_access(hub, spoke, false).expect("hub's side");
        let rt = t
            .add_route_table(RouteTable {
                name: "rt".into(),
                routes: vec![super::super::super::appliance::Route {
                    name: "all".into(),
                    prefix: net("0.0.0.0/0"),
                    next_hop: super::super::super::appliance::NextHop::Internet,
                }],
            })
            .expect("table");
        t.set_subnet_route_table(web, rt).expect("associate");
        assert!(t.virtual_network_tag_contains(web, ip("10.1.5.5")), "UDR prefixes are VirtualNetwork");
        assert!(t.resolve_context_for_subnet(web).virtual_network.contains(ip("10.1.5.5")));
    }
}

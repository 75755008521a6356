//! The NSG chain of a NIC or a subnet: one hop per level, in Azure's order, each naming the rule
//! that decided it.

use crate::model::{NicId, SubnetId};
use crate::net::Flow;
use crate::nsg::{Access, CompiledNsg, Direction};

use super::super::detail::{NsgPlace, PeeringTagNote};
use super::super::{Hop, HopDetail, HopKind, Level};
use super::{Walk, hop};

impl Walk<'_> {
    /// The NSG chain of a NIC: inbound subnet then NIC, outbound NIC then subnet.
    pub(in crate::path) fn chain(&mut self, flow: &Flow, nic: NicId, direction: Direction) -> bool {
        if let Some(decided) = self.admin_rules(flow, self.topology.nic(nic).subnet, direction) {
            return decided;
        }
        let levels = match direction {
            Direction::Inbound => [Level::Subnet, Level::Nic],
            Direction::Outbound => [Level::Nic, Level::Subnet],
        };
        levels.into_iter().all(|level| self.level(flow, nic, level, direction))
    }

    /// The NSG of a subnet that holds no modelled NIC (Bastion's subnet).
    pub(in crate::path) fn subnet_nsg(
        &mut self,
        flow: &Flow,
        subnet: SubnetId,
        direction: Direction,
    ) -> bool {
        if let Some(decided) = self.admin_rules(flow, subnet, direction) {
            return decided;
        }
        let t = self.topology;
        let s = t.subnet(subnet);
        let place = NsgPlace::Subnet { vnet: t.vnet(s.vnet).name.clone(), subnet: s.name.clone() };
        self.nsg_hop(flow, s.nsg, subnet, Level::Subnet, direction, place)
    }

    fn level(&mut self, flow: &Flow, nic: NicId, level: Level, direction: Direction) -> bool {
        let t = self.topology;
        let n = t.nic(nic);
        let (nsg, place) = match level {
            Level::Nic => (n.nsg, NsgPlace::Nic { nic: n.name.clone() }),
            Level::Subnet => {
                let s = t.subnet(n.subnet);
                (s.nsg, NsgPlace::Subnet { vnet: t.vnet(s.vnet).name.clone(), subnet: s.name.clone() })
            }
        };
        self.nsg_hop(flow, nsg, n.subnet, level, direction, place)
    }

    fn nsg_hop(
        &mut self,
        flow: &Flow,
        nsg: Option<crate::model::NsgId>,
        subnet: SubnetId,
        level: Level,
        direction: Direction,
        place: NsgPlace,
    ) -> bool {
        let t = self.topology;
        let Some(nsg) = nsg else {
            self.hops.push(Hop {
                level: Some(level),
                direction: Some(direction),
                ..hop(HopKind::NoNsg, place.to_string(), Access::Allow, HopDetail::NoNsg { place, direction })
            });
            return true;
        };
        let name = t.nsg(nsg).name.clone();
        // The cache normally holds every association; compiling on a miss keeps the answer
        // right even if a caller forgot to refresh it.
        let fresh;
        let compiled = match self.cache.get(t, nsg, subnet, direction) {
            Some(c) => c,
            None => {
                fresh = CompiledNsg::compile(t.nsg(nsg), direction, &t.resolve_context_for_subnet(subnet));
                &fresh
            }
        };
        let hit = compiled.evaluate(flow);
        let access = hit.rule.access;
        let note = match access {
            Access::Deny => self.peering_tag_note(flow, subnet, direction),
            Access::Allow => None,
        };
        self.hops.push(Hop {
            kind: HopKind::Nsg,
            resource: name.clone(),
            level: Some(level),
            direction: Some(direction),
            rule: Some(hit.rule.rule_ref()),
            priority: Some(hit.rule.priority.0),
            access,
            detail: HopDetail::Nsg {
                nsg: name,
                place,
                direction,
                rule: hit.rule.rule_ref(),
                priority: hit.rule.priority.0,
                access,
                peering_note: note,
            },
        });
        access == Access::Allow
    }

    /// Why a denied flow to or from a peered VNet missed the `VirtualNetwork` rules: the NSG's
    /// own VNet sets `allowVirtualNetworkAccess: false` on its peering to that VNet, which takes
    /// the remote spaces out of its `VirtualNetwork` tag (Microsoft: the setting "only changes the
    /// definition of the VirtualNetwork service tag"). Empty when that is not the case.
    fn peering_tag_note(
        &self,
        flow: &Flow,
        subnet: SubnetId,
        direction: Direction,
    ) -> Option<PeeringTagNote> {
        let t = self.topology;
        let here = t.subnet(subnet).vnet;
        let remote = match direction {
            Direction::Inbound => flow.src,
            Direction::Outbound => flow.dst,
        };
        let peer = t.vnet_seen_from(here, remote)?;
        if peer == here
            || !t.vnet(here).peerings.contains(&peer)
            || t.virtual_network_tag_contains(subnet, remote)
        {
            return None;
        }
        let (h, p) = (t.vnet(here).name.clone(), t.vnet(peer).name.clone());
        if t.peered_subnets(peer, here).is_some()
            && !t.peered_prefixes(here, peer).iter().any(|n| n.contains(&remote))
        {
            let subnet = t.subnet_in_vnet(peer, remote).map(|d| t.subnet(d).name.clone());
            return Some(PeeringTagNote::OutsideSubnetPeering { remote, subnet, here: h, peer: p });
        }
        if t.allows_virtual_network_access(here, peer) {
            return None;
        }
        Some(PeeringTagNote::AccessBlocked {
            remote,
            here: h,
            peer: p,
            direction,
            blocks_all_traffic: t.peering_access_blocks_all_traffic(),
        })
    }
}

//! The NSG chain of a NIC or a subnet: one hop per level, in Azure's order, each naming the rule
//! that decided it.

use crate::model::{NicId, SubnetId};
use crate::net::Flow;
use crate::nsg::{Access, CompiledNsg, Direction};

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
        let where_ = format!("subnet '{}/{}'", t.vnet(s.vnet).name, s.name);
        self.nsg_hop(flow, s.nsg, subnet, Level::Subnet, direction, where_)
    }

    fn level(&mut self, flow: &Flow, nic: NicId, level: Level, direction: Direction) -> bool {
        let t = self.topology;
        let n = t.nic(nic);
        let (nsg, where_) = match level {
            Level::Nic => (n.nsg, format!("nic '{}'", n.name)),
            Level::Subnet => {
                let s = t.subnet(n.subnet);
                (s.nsg, format!("subnet '{}/{}'", t.vnet(s.vnet).name, s.name))
            }
        };
        self.nsg_hop(flow, nsg, n.subnet, level, direction, where_)
    }

    fn nsg_hop(
        &mut self,
        flow: &Flow,
        nsg: Option<crate::model::NsgId>,
        subnet: SubnetId,
        level: Level,
        direction: Direction,
        where_: String,
    ) -> bool {
        let t = self.topology;
        let Some(nsg) = nsg else {
            self.hops.push(Hop {
                level: Some(level),
                direction: Some(direction),
                ..hop(
                    HopKind::NoNsg,
                    where_.clone(),
                    Access::Allow,
                    HopDetail::NoNsg { place: where_, direction },
                )
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
            Access::Allow => String::new(),
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
                place: where_,
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
    fn peering_tag_note(&self, flow: &Flow, subnet: SubnetId, direction: Direction) -> String {
        let t = self.topology;
        let here = t.subnet(subnet).vnet;
        let remote = match direction {
            Direction::Inbound => flow.src,
            Direction::Outbound => flow.dst,
        };
        let Some(peer) = t.vnet_seen_from(here, remote) else { return String::new() };
        if peer == here
            || !t.vnet(here).peerings.contains(&peer)
            || t.virtual_network_tag_contains(subnet, remote)
        {
            return String::new();
        }
        if t.peered_subnets(peer, here).is_some()
            && !t.peered_prefixes(here, peer).iter().any(|n| n.contains(&remote))
        {
            let (h, p) = (&t.vnet(here).name, &t.vnet(peer).name);
            let what = match t.subnet_in_vnet(peer, remote) {
                Some(d) => format!("subnet '{}' of '{p}'", t.subnet(d).name),
                None => format!("no modelled subnet of '{p}'"),
            };
            return format!(
                "; {remote} is not in this NSG's VirtualNetwork tag: it is in {what}, which is not in the subnet peering {h}<->{p} (peerCompleteVnets false), and only the peered subnets' prefixes join vnet '{h}''s VirtualNetwork tag (model choice, docs/fidelity.md)"
            );
        }
        if t.allows_virtual_network_access(here, peer) {
            return String::new();
        }
        let (h, p) = (&t.vnet(here).name, &t.vnet(peer).name);
        let default_rule = match direction {
            Direction::Inbound => "AllowVnetInBound",
            Direction::Outbound => "AllowVnetOutBound",
        };
        let then = if t.peering_access_blocks_all_traffic() {
            "; under option peering_access_blocks_all_traffic the peering carries no traffic anyway"
        } else {
            "; a rule naming its prefix still lets it through (Microsoft: the setting \"only changes the definition of the VirtualNetwork service tag\")"
        };
        format!(
            "; {remote} (vnet '{p}') is not in this NSG's VirtualNetwork tag: the peering {h}->{p} blocks virtual network access (allowVirtualNetworkAccess false on {h}'s side), which leaves vnet '{p}' out of the VirtualNetwork tag of vnet '{h}', so {default_rule} and rules naming VirtualNetwork do not match it{then}"
        )
    }
}

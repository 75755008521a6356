//! Compiled NSGs, one per (NSG, resolution context, direction), kept in step with the topology;
//! and which networks reach which privately, read once off the topology graph.

use std::collections::{BTreeSet, HashMap};

use crate::matcher::MatchRule;
use crate::model::{NsgId, PrivateReach, RouteTableId, SubnetId, Topology, TopologyGraph, VnetId};
use crate::nsg::{CompiledNsg, Direction};

/// Where an NSG is compiled: the VNet and the route table of the subnet it applies in.
type Context = (VnetId, Option<RouteTableId>);

/// Every NSG in use, compiled for each context it is applied in and each direction.
///
/// `VirtualNetwork` and ASG membership depend on where an NSG is applied (the VNet, and the
/// subnet's route table, whose prefixes join `VirtualNetwork`), so the key includes both. When
/// the simulator edits an NSG (a JIT grant, a rule added by a step) it calls
/// [`PolicyCache::refresh`], which recompiles only that NSG.
///
/// It also holds the [`PrivateReach`] of the topology's graph (peerings and gateways do not change
/// during a simulation; [`PolicyCache::rebuild`] reads it again).
#[derive(Clone, Debug)]
pub struct PolicyCache {
    compiled: HashMap<(NsgId, Context, Direction), CompiledNsg>,
    /// The security admin rules applying in each context, resolved there, in the order
    /// [`Topology::admin_rules_for`] gives them (see `path/admin.rs`).
    admin: HashMap<(Context, Direction), Vec<MatchRule>>,
    reach: PrivateReach,
    /// NSGs whose rules changed since they were last compiled ([`PolicyCache::invalidate`]).
    dirty: BTreeSet<NsgId>,
}

impl PolicyCache {
    /// Compiles every NSG association of `topology`.
    pub fn new(topology: &Topology) -> PolicyCache {
        let mut cache = PolicyCache {
            compiled: HashMap::new(),
            admin: HashMap::new(),
            reach: PrivateReach::default(),
            dirty: BTreeSet::new(),
        };
        cache.rebuild(topology);
        cache
    }

    /// Which networks reach which privately.
    pub fn private_reach(&self) -> &PrivateReach {
        &self.reach
    }

    /// Recompiles everything (after associations or the topology changed).
    pub fn rebuild(&mut self, topology: &Topology) {
        self.reach = TopologyGraph::new(topology).private_reach();
        self.compiled.clear();
        self.dirty.clear();
        for (nsg, subnet) in associations(topology) {
            self.compile(topology, nsg, subnet);
        }
        self.admin.clear();
        for subnet in topology.subnet_ids() {
            let key = topology.context_key(subnet);
            if !topology.has_admin_rules(key.0) || self.admin.contains_key(&(key, Direction::Inbound)) {
                continue;
            }
            let ctx = topology.resolve_context_for_subnet(subnet);
            for direction in [Direction::Inbound, Direction::Outbound] {
                let rules =
                    topology.admin_rules_for(key.0, direction).iter().map(|a| a.rule.resolve(&ctx)).collect();
                self.admin.insert((key, direction), rules);
            }
        }
    }

    /// The security admin rules applying in `subnet` in `direction`, resolved, in the order of
    /// [`Topology::admin_rules_for`]; `None` when none was compiled there (the caller resolves
    /// them on the spot). Deploying or removing a configuration needs [`PolicyCache::rebuild`].
    pub fn admin_rules(
        &self,
        topology: &Topology,
        subnet: SubnetId,
        direction: Direction,
    ) -> Option<&[MatchRule]> {
        self.admin.get(&(topology.context_key(subnet), direction)).map(Vec::as_slice)
    }

    /// Recompiles one NSG wherever it is applied (after its rules changed).
    pub fn refresh(&mut self, topology: &Topology, nsg: NsgId) {
        self.invalidate(nsg);
        self.flush(topology);
    }

    /// Drops one NSG's compiled forms and remembers to compile it at the next
    /// [`PolicyCache::flush`]. Many changes in a row (JIT enabling a scoped policy on thousands of
    /// VMs writes into the same NSGs again and again) then cost one compilation per NSG. Until the
    /// flush, evaluations that meet the NSG compile it on the spot (correct, but slow).
    pub fn invalidate(&mut self, nsg: NsgId) {
        self.compiled.retain(|(id, _, _), _| *id != nsg);
        self.dirty.insert(nsg);
    }

    /// Compiles every NSG invalidated since the last flush, wherever it is applied.
    pub fn flush(&mut self, topology: &Topology) {
        if self.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        for (id, subnet) in associations(topology) {
            if dirty.contains(&id) {
                self.compile(topology, id, subnet);
            }
        }
    }

    fn compile(&mut self, topology: &Topology, nsg: NsgId, subnet: SubnetId) {
        let key = topology.context_key(subnet);
        if self.compiled.contains_key(&(nsg, key, Direction::Inbound)) {
            return;
        }
        let ctx = topology.resolve_context_for_subnet(subnet);
        for direction in [Direction::Inbound, Direction::Outbound] {
            self.compiled
                .insert((nsg, key, direction), CompiledNsg::compile(topology.nsg(nsg), direction, &ctx));
        }
    }

    /// The compiled NSG applied to `subnet` (or a NIC in it), compiling nothing: `None` if it is
    /// not associated there.
    pub fn get(
        &self,
        topology: &Topology,
        nsg: NsgId,
        subnet: SubnetId,
        direction: Direction,
    ) -> Option<&CompiledNsg> {
        self.compiled.get(&(nsg, topology.context_key(subnet), direction))
    }
}

/// Every (NSG, subnet it applies in) pair: subnet associations and NIC associations.
fn associations(topology: &Topology) -> Vec<(NsgId, SubnetId)> {
    let mut out = Vec::new();
    for s in topology.subnet_ids() {
        if let Some(nsg) = topology.subnet(s).nsg {
            out.push((nsg, s));
        }
    }
    for n in topology.nic_ids() {
        if let Some(nsg) = topology.nic(n).nsg {
            out.push((nsg, topology.nic(n).subnet));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Flow;
    use crate::nsg::Access;
    use crate::path::testing::{ip, net, nsg, prefix, rule, vm};

    #[test]
    fn invalidated_nsgs_are_compiled_again_at_the_flush() {
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "app", net("10.0.1.0/24")).expect("subnet");
        vm(&mut t, "app", s, "10.0.1.4", None);
        let id = nsg(&mut t, "app-nsg", vec![]);
        t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
        let mut cache = PolicyCache::new(&t);
        let flow = Flow::new(crate::net::IpProtocol::TCP, ip("203.0.113.5"), 50000, ip("10.0.1.4"), 22);
        let verdict = |c: &PolicyCache, t: &Topology| {
            c.get(t, id, s, Direction::Inbound).map(|n| n.evaluate(&flow).rule.access)
        };
        assert_eq!(verdict(&cache, &t), Some(Access::Deny), "DenyAllInBound");
        t.nsg_mut(id).rules.push(rule(
            "ssh",
            100,
            Direction::Inbound,
            Access::Allow,
            crate::nsg::RuleProtocol::Tcp,
            (prefix("203.0.113.0/24"), crate::nsg::AddressSpec::Any),
            "22",
        ));
        cache.invalidate(id);
        assert_eq!(verdict(&cache, &t), None, "the stale form is gone before the flush");
        cache.flush(&t);
        assert_eq!(verdict(&cache, &t), Some(Access::Allow), "recompiled with the new rule");
        // A second flush with nothing invalidated keeps it.
        cache.flush(&t);
        assert_eq!(verdict(&cache, &t), Some(Access::Allow));
    }
}

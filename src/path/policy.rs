//! Compiled NSGs, one per (NSG, resolution context, direction), kept in step with the topology;
//! and which networks reach which privately, read once off the topology graph.

use std::collections::HashMap;

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
#[derive(Debug)]
pub struct PolicyCache {
    compiled: HashMap<(NsgId, Context, Direction), CompiledNsg>,
    reach: PrivateReach,
}

impl PolicyCache {
    /// Compiles every NSG association of `topology`.
    pub fn new(topology: &Topology) -> PolicyCache {
        let mut cache = PolicyCache { compiled: HashMap::new(), reach: PrivateReach::default() };
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
        for (nsg, subnet) in associations(topology) {
            self.compile(topology, nsg, subnet);
        }
    }

    /// Recompiles one NSG wherever it is applied (after its rules changed).
    pub fn refresh(&mut self, topology: &Topology, nsg: NsgId) {
        self.compiled.retain(|(id, _, _), _| *id != nsg);
        for (id, subnet) in associations(topology) {
            if id == nsg {
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

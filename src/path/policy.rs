//! Compiled NSGs, one per (NSG, VNet context, direction), kept in step with the topology.

use std::collections::HashMap;

use crate::model::{NsgId, Topology, VnetId};
use crate::nsg::{CompiledNsg, Direction};

/// Every NSG in use, compiled for each VNet it is applied in and each direction.
///
/// `VirtualNetwork` and ASG membership depend on where an NSG is applied, so the key includes the
/// VNet. When the simulator edits an NSG (a JIT grant, a rule added by a step) it calls
/// [`PolicyCache::refresh`], which recompiles only that NSG.
#[derive(Debug, Default)]
pub struct PolicyCache {
    compiled: HashMap<(NsgId, VnetId, Direction), CompiledNsg>,
}

impl PolicyCache {
    /// Compiles every NSG association of `topology`.
    pub fn new(topology: &Topology) -> PolicyCache {
        let mut cache = PolicyCache::default();
        cache.rebuild(topology);
        cache
    }

    /// Recompiles everything (after associations or the topology changed).
    pub fn rebuild(&mut self, topology: &Topology) {
        self.compiled.clear();
        for (nsg, vnet) in associations(topology) {
            self.compile(topology, nsg, vnet);
        }
    }

    /// Recompiles one NSG wherever it is applied (after its rules changed).
    pub fn refresh(&mut self, topology: &Topology, nsg: NsgId) {
        self.compiled.retain(|(id, _, _), _| *id != nsg);
        for (id, vnet) in associations(topology) {
            if id == nsg {
                self.compile(topology, id, vnet);
            }
        }
    }

    fn compile(&mut self, topology: &Topology, nsg: NsgId, vnet: VnetId) {
        let ctx = topology.resolve_context(vnet);
        for direction in [Direction::Inbound, Direction::Outbound] {
            self.compiled
                .entry((nsg, vnet, direction))
                .or_insert_with(|| CompiledNsg::compile(topology.nsg(nsg), direction, &ctx));
        }
    }

    /// The compiled NSG for an association, compiling nothing: `None` if it is not associated.
    pub fn get(&self, nsg: NsgId, vnet: VnetId, direction: Direction) -> Option<&CompiledNsg> {
        self.compiled.get(&(nsg, vnet, direction))
    }
}

fn associations(topology: &Topology) -> Vec<(NsgId, VnetId)> {
    let mut out = Vec::new();
    for s in topology.subnet_ids() {
        let subnet = topology.subnet(s);
        if let Some(nsg) = subnet.nsg {
            out.push((nsg, subnet.vnet));
        }
    }
    for n in topology.nic_ids() {
        if let Some(nsg) = topology.nic(n).nsg {
            out.push((nsg, topology.vnet_of_nic(n)));
        }
    }
    out.sort();
    out.dedup();
    out
}

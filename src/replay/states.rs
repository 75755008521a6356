//! The scenario's states along its timeline, for placing records in time.
//!
//! The timeline is played once with `sim::observe`; at every instant at which the network can
//! have changed (a step with an action, or a JIT grant's expiry) the topology is kept with its
//! compiled NSGs. A record is then evaluated in the state in force at its instant: the last one at
//! or before it. Steps that only note or expect something change nothing, so a long timeline of
//! notes keeps one state.

use std::net::IpAddr;

use crate::model::Topology;
use crate::path::PolicyCache;
use crate::sim::{Duration, Instant, SimError, Step, World, observe};

/// The network at one point of the timeline.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// From when it holds.
    pub from: Instant,
    /// The topology.
    pub topology: Topology,
    /// Its NSGs, compiled.
    pub cache: PolicyCache,
    /// Whether any NSG rule of the topology restricts source ports (if none, a flow's source
    /// port changes no decision and evaluations can be shared across source ports).
    pub source_ports_matter: bool,
    /// Every address the topology places (VNet and on-premises spaces, public IPs), as sorted
    /// disjoint ranges: an address outside them all is "outside" (see `fast`).
    placed: Vec<(u128, u128)>,
}

impl Snapshot {
    fn new(from: Instant, topology: Topology) -> Snapshot {
        let cache = PolicyCache::new(&topology);
        let source_ports_matter =
            topology.nsg_ids().any(|id| topology.nsg(id).rules.iter().any(|r| !r.source_ports.is_any()));
        let mut ranges: Vec<(u128, u128)> = Vec::new();
        for v in topology.vnet_ids() {
            let vnet = topology.vnet(v);
            for net in vnet.address_space.iter().chain(&vnet.on_premises) {
                ranges.push((key(net.network()), key(net.broadcast())));
            }
        }
        for p in topology.public_ip_ids() {
            let ip = key(topology.public_ip(p).address);
            ranges.push((ip, ip));
        }
        ranges.sort_unstable();
        let mut placed: Vec<(u128, u128)> = Vec::new();
        for (a, b) in ranges {
            match placed.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => placed.push((a, b)),
            }
        }
        Snapshot { from, topology, cache, source_ports_matter, placed }
    }

    /// Whether the topology places `ip` nowhere: no NIC, public IP, VNet or on-premises space.
    pub fn is_outside(&self, ip: IpAddr) -> bool {
        let k = key(ip);
        let i = self.placed.partition_point(|r| r.1 < k);
        self.placed.get(i).is_none_or(|r| r.0 > k)
    }
}

/// An address as one number: IPv4 in the IPv4-mapped IPv6 range, so the families never overlap.
fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Every state of the timeline, in time order.
#[derive(Debug)]
pub(crate) struct States {
    /// The scenario's start.
    pub start: Instant,
    /// The offset of the end of the timeline (the last step or event).
    pub end: Duration,
    /// The states; the first holds from the start.
    pub snapshots: Vec<Snapshot>,
}

impl States {
    /// Plays the timeline and keeps its states.
    ///
    /// # Errors
    /// A step that cannot be applied.
    pub fn build(world: &World, steps: &[Step]) -> Result<States, SimError> {
        let start = world.start;
        let mut actions: Vec<Instant> =
            steps.iter().filter(|s| s.action.is_some()).map(|s| start.plus(s.at)).collect();
        actions.sort();
        let mut snapshots: Vec<Snapshot> = Vec::new();
        let mut pending_event: Option<Instant> = None;
        let last = observe(world.clone(), steps, None, |sim| {
            let now = sim.now();
            let acted = actions.binary_search(&now).is_ok();
            let expired = pending_event.is_some_and(|e| e <= now);
            pending_event = sim.next_event_at();
            if snapshots.is_empty() || acted || expired {
                snapshots.push(Snapshot::new(now, sim.topology().clone()));
            }
        })?;
        Ok(States { start, end: last.now().since(start), snapshots })
    }

    /// The index of the state in force at `at`.
    pub fn index_at(&self, at: Instant) -> usize {
        self.snapshots.partition_point(|s| s.from <= at).saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::load_str;

    #[test]
    fn only_steps_with_actions_make_states_and_outside_means_placed_nowhere() {
        let text = include_str!("../../scenarios/01-nsg-evaluation-order.ron");
        let scenario = load_str(text, Path::new("01.ron")).expect("loads");
        let states = States::build(&scenario.world(), &scenario.steps).expect("plays");
        // Scenario 01 acts at 5m (a connection) and 10m (a rule removed); notes make no state.
        let froms: Vec<String> = states.snapshots.iter().map(|s| s.from.to_string()).collect();
        assert_eq!(froms, ["2025-01-06T09:00:00Z", "2025-01-06T09:05:00Z", "2025-01-06T09:10:00Z"]);
        assert_eq!(states.index_at(scenario.start), 0);
        assert_eq!(states.index_at(states.snapshots[2].from.plus(Duration::from_secs(1))), 2);
        let s = &states.snapshots[0];
        let ip = |t: &str| t.parse::<IpAddr>().expect("ip");
        assert!(!s.is_outside(ip("10.0.1.4")) && !s.is_outside(ip("10.0.255.255")));
        assert!(!s.is_outside(ip("20.50.60.70")), "the public IP");
        assert!(s.is_outside(ip("20.50.60.71")) && s.is_outside(ip("10.1.0.0")) && s.is_outside(ip("::1")));
    }
}

//! `exposure`: when each VM's management ports were reachable from the Internet over the
//! timeline, from where, and through what.
//!
//! The answer at each instant is a [`reach`] per VM and port. Between two instants a timeline
//! usually changes a few NSGs (a JIT grant writes into one VM's NSGs), so only the VMs behind a
//! changed NSG are evaluated again; a change to associations, firewall rules or Bastion subnets
//! (which shape every VM's paths) evaluates them all again.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{NsgId, RuleCollectionGroup, Topology, VmId};
use crate::net::{AddrSet, PortSet};
use crate::nsg::SecurityRule;
use crate::sim::{Duration, Instant, SimError, Simulator, Step, World, observe};

use super::{Classes, ReachEntry, reach};

/// The remote-management ports Azure Policy and Defender for Cloud watch: SSH, RDP, WinRM.
pub const MANAGEMENT_PORTS: [u16; 4] = [22, 3389, 5985, 5986];

/// One stretch of time during which a VM's port was reachable from the Internet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExposureWindow {
    /// The VM.
    pub vm: String,
    /// The port (as addressed: for DNAT, the translated target port is in `ways`).
    pub port: u16,
    /// Start.
    pub from: Instant,
    /// End; `None` while still open at the end of the period.
    pub to: Option<Instant>,
    /// Internet sources that could reach it.
    pub sources: AddrSet,
    /// How: entry and deciding rule, one line each.
    pub ways: Vec<String>,
    /// Wide or narrow, and why (see `reach::width`).
    pub width: super::WidthLabel,
}

/// What is exposed on `vms` at one instant: per (VM, port), the sources and ways.
fn snapshot(sim: &Simulator, vms: &[VmId]) -> Vec<(VmId, u16, AddrSet, Vec<String>)> {
    use rayon::prelude::*;
    let t = sim.topology();
    let all_ports = PortSet::from_ranges(MANAGEMENT_PORTS.map(crate::net::PortRange::single));
    vms.par_iter()
        .flat_map_iter(|&vm| {
            // One query for the four ports: the flow space is cut at each of them, so every
            // entry's sources hold for each of its ports, and a port's answer is the entries
            // that reach it (as a query for that port alone would give): those addressed to it,
            // and DNAT entries translated to it (whatever their public port).
            let entries: Vec<_> = reach(t, sim.policies(), vm, Some(&all_ports), Classes::InternetOnly)
                .into_iter()
                .flat_map(|class| class.entries)
                .collect();
            MANAGEMENT_PORTS
                .iter()
                .filter_map(|&port| {
                    let mut sources = AddrSet::empty();
                    let mut ways = Vec::new();
                    let reaches =
                        |e: &&ReachEntry| e.translated_port.map_or(e.ports.contains(port), |t| t == port);
                    for e in entries.iter().filter(reaches) {
                        sources = sources.union(&e.sources);
                        let addressed =
                            if e.translated_port.is_some() { e.ports.to_string() } else { port.to_string() };
                        ways.push(format!(
                            "{} {addressed} via {}, allowed by {}",
                            e.protocol, e.entry, e.allowed_by
                        ));
                    }
                    (!sources.is_empty()).then_some((vm, port, sources, ways))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What every VM's Internet exposure depends on, to tell which VMs a change can affect. It is
/// kept up to date in place, so that an instant costs a comparison, and copies only what changed.
#[derive(Clone, Debug, Default, PartialEq)]
struct Inputs {
    /// Every NSG's rules.
    rules: Vec<Vec<SecurityRule>>,
    /// Every subnet's and every NIC's NSG.
    associations: (Vec<Option<NsgId>>, Vec<Option<NsgId>>),
    /// Per NSG, the VMs whose paths it is on (from `associations`).
    users: BTreeMap<NsgId, BTreeSet<VmId>>,
    /// What affects every VM: each firewall's rules, and the NSGs of the Bastion and firewall
    /// subnets (which ones; a change to their rules also counts), which sit on paths into many
    /// VMs and have no VM of their own in `users`.
    shared: (Vec<Vec<RuleCollectionGroup>>, Vec<Option<NsgId>>),
    /// Whether `update` has run once.
    ready: bool,
}

impl Inputs {
    /// Brings `self` up to `t` and returns the VMs to evaluate again (`None` = all of them: the
    /// first time, or after a change of associations, firewall rules or Bastion subnets).
    fn update(&mut self, t: &Topology) -> Option<BTreeSet<VmId>> {
        let associations = (
            t.subnet_ids().map(|s| t.subnet(s).nsg).collect::<Vec<_>>(),
            t.nic_ids().map(|n| t.nic(n).nsg).collect::<Vec<_>>(),
        );
        let shared = (
            t.firewall_ids().map(|f| t.firewall(f).groups.clone()).collect::<Vec<_>>(),
            t.bastion_ids()
                .map(|b| t.subnet(t.bastion(b).subnet).nsg)
                .chain(t.firewall_ids().map(|f| t.subnet(t.firewall(f).subnet).nsg))
                .collect::<Vec<_>>(),
        );
        let first = !self.ready;
        self.ready = true;
        let mut all = first || associations != self.associations || shared != self.shared;
        if associations != self.associations || first {
            self.users.clear();
            for vm in t.vm_ids() {
                for &nic in &t.vm(vm).nics {
                    for nsg in [t.nic(nic).nsg, t.subnet(t.nic(nic).subnet).nsg].into_iter().flatten() {
                        self.users.entry(nsg).or_default().insert(vm);
                    }
                }
            }
            self.associations = associations;
        }
        self.shared = shared;
        if first {
            self.rules = t.nsg_ids().map(|n| t.nsg(n).rules.clone()).collect();
        }
        let mut vms = BTreeSet::new();
        for n in t.nsg_ids() {
            let now = &t.nsg(n).rules;
            if self.rules[n.index()] != *now {
                self.rules[n.index()] = now.clone();
                vms.extend(self.users.get(&n).into_iter().flatten().copied());
                all |= self.shared.1.contains(&Some(n));
            }
        }
        all |= first;
        (!all).then_some(vms)
    }
}

/// The exposure windows between `from` and `to` (offsets; `to = None` = the end of the timeline).
///
/// # Errors
/// A step that cannot be applied.
pub fn exposure(
    world: World,
    steps: &[Step],
    from: Duration,
    to: Option<Duration>,
) -> Result<Vec<ExposureWindow>, SimError> {
    let start = world.start;
    let from_at = start.plus(from);
    // Windows still open, by (VM, port); a window closes when its VM's answer for the port
    // changes, and only VMs whose inputs changed are asked again.
    let mut open: BTreeMap<(VmId, u16), ExposureWindow> = BTreeMap::new();
    let mut closed: Vec<ExposureWindow> = Vec::new();
    let mut inputs = Inputs::default();
    let end = observe(world, steps, to, |sim| {
        let now = sim.now().max(from_at);
        let t = sim.topology();
        let again: Vec<VmId> = match inputs.update(t) {
            Some(vms) => vms.into_iter().collect(),
            None => t.vm_ids().collect(),
        };
        let mut fresh: BTreeMap<(VmId, u16), (AddrSet, Vec<String>)> = snapshot(sim, &again)
            .into_iter()
            .map(|(vm, port, sources, ways)| ((vm, port), (sources, ways)))
            .collect();
        for &vm in &again {
            for port in MANAGEMENT_PORTS {
                let key = (vm, port);
                let answer = fresh.remove(&key);
                if let Some(w) = open.get(&key) {
                    if answer.as_ref().is_some_and(|(sources, ways)| *sources == w.sources && *ways == w.ways)
                    {
                        continue;
                    }
                    if let Some(w) = open.remove(&key) {
                        closed.push(ExposureWindow { to: Some(now), ..w });
                    }
                }
                if let Some((sources, ways)) = answer {
                    let internet = t
                        .primary_nic(vm)
                        .map(|n| t.resolve_context(t.vnet_of_nic(n)).internet)
                        .unwrap_or_default();
                    let window = ExposureWindow {
                        vm: t.vm(vm).name.clone(),
                        port,
                        from: now,
                        to: None,
                        width: super::width_of(&sources, &internet, t),
                        sources,
                        ways,
                    };
                    open.insert(key, window);
                }
            }
        }
    })?;
    let _ = end;
    closed.extend(open.into_values());
    closed.retain(|w| w.to.is_none_or(|t| t > w.from));
    closed.sort_by(|a, b| (a.vm.as_str(), a.port, a.from).cmp(&(b.vm.as_str(), b.port, b.from)));
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Os;
    use crate::nsg::{Direction, Nsg};

    fn ssh_rule(name: &str) -> SecurityRule {
        SecurityRule::ssh_for_tests(name, 100, Direction::Inbound)
    }

    /// Two VMs in two subnets with an NSG each, and a Bastion subnet with its own NSG.
    fn topology() -> (Topology, [NsgId; 3], [VmId; 2]) {
        let net = |s: &str| s.parse().expect("a prefix literal");
        let ip = |s: &str| s.parse().expect("an address literal");
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
        let a = t.add_subnet(v, "a", net("10.0.1.0/24")).expect("subnet");
        let b = t.add_subnet(v, "b", net("10.0.2.0/24")).expect("subnet");
        let bastion = t.add_subnet(v, crate::model::BASTION_SUBNET, net("10.0.3.0/26")).expect("subnet");
        t.add_bastion("bastion", v, None).expect("bastion");
        let nsgs = ["a-nsg", "b-nsg", "bastion-nsg"]
            .map(|n| t.add_nsg(Nsg { name: n.into(), rules: vec![] }).expect("nsg"));
        t.set_subnet_nsg(a, Some(nsgs[0])).expect("the subnet takes an NSG");
        t.set_subnet_nsg(b, Some(nsgs[1])).expect("the subnet takes an NSG");
        t.set_subnet_nsg(bastion, Some(nsgs[2])).expect("the subnet takes an NSG");
        let vms = [("vm-a", a, "10.0.1.4"), ("vm-b", b, "10.0.2.4")].map(|(name, subnet, address)| {
            let vm = t.add_vm(name, Os::Linux, false, ("sub", "rg")).expect("vm");
            t.add_nic(&format!("{name}-nic"), subnet, ip(address), Some(vm)).expect("nic");
            vm
        });
        (t, nsgs, vms)
    }

    #[test]
    fn only_the_vms_behind_a_changed_nsg_are_evaluated_again() {
        let (mut t, nsgs, [vm_a, vm_b]) = topology();
        let mut inputs = Inputs::default();
        assert_eq!(inputs.update(&t), None, "the first instant evaluates every VM");
        assert_eq!(inputs.update(&t), Some(BTreeSet::new()), "nothing changed");
        t.nsg_mut(nsgs[0]).rules.push(ssh_rule("ssh"));
        assert_eq!(inputs.update(&t), Some(BTreeSet::from([vm_a])));
        assert_eq!(inputs.update(&t), Some(BTreeSet::new()), "the change was recorded");
        // A NIC NSG shared by nobody else: only its VM.
        let nic_b = t.vm(vm_b).nics[0];
        t.set_nic_nsg(nic_b, Some(nsgs[0]));
        assert_eq!(inputs.update(&t), None, "an association change evaluates every VM");
        t.nsg_mut(nsgs[0]).rules.clear();
        assert_eq!(inputs.update(&t), Some(BTreeSet::from([vm_a, vm_b])), "now on both VMs' paths");
        // The Bastion subnet's NSG is on no VM's own path but shapes every VM's.
        t.nsg_mut(nsgs[2]).rules.push(ssh_rule("ssh"));
        assert_eq!(inputs.update(&t), None);
    }
}

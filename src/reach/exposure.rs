//! `exposure`: when each VM's management ports were reachable from the Internet over the
//! timeline, from where, and through what.

use crate::model::VmId;
use crate::net::{AddrSet, PortSet};
use crate::sim::{Duration, Instant, SimError, Simulator, Step, World, observe};

use super::{Classes, reach};

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
}

/// What is exposed at one instant: per (VM, port), the sources and ways.
fn snapshot(sim: &Simulator) -> Vec<(VmId, u16, AddrSet, Vec<String>)> {
    use rayon::prelude::*;
    let t = sim.topology();
    let vms: Vec<VmId> = t.vm_ids().collect();
    vms.par_iter()
        .flat_map_iter(|&vm| {
            MANAGEMENT_PORTS.iter().filter_map(move |&port| {
                let ports = PortSet::from_ranges([crate::net::PortRange::single(port)]);
                let classes = reach(t, sim.policies(), vm, Some(&ports), Classes::InternetOnly);
                let mut sources = AddrSet::empty();
                let mut ways = Vec::new();
                for class in classes {
                    for e in class.entries {
                        sources = sources.union(&e.sources);
                        ways.push(format!(
                            "{} {} via {}, allowed by {}",
                            e.protocol, e.ports, e.entry, e.allowed_by
                        ));
                    }
                }
                (!sources.is_empty()).then_some((vm, port, sources, ways))
            })
        })
        .collect()
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
    let mut open: Vec<ExposureWindow> = Vec::new();
    let mut closed: Vec<ExposureWindow> = Vec::new();
    let end = observe(world, steps, to, |sim| {
        let now = sim.now().max(from_at);
        let t = sim.topology();
        let current = snapshot(sim);
        // Close windows whose exposure changed or ended.
        let mut still = Vec::new();
        for w in open.drain(..) {
            let same = current.iter().any(|(vm, port, sources, ways)| {
                t.vm(*vm).name == w.vm && *port == w.port && *sources == w.sources && *ways == w.ways
            });
            if same {
                still.push(w);
            } else {
                closed.push(ExposureWindow { to: Some(now), ..w });
            }
        }
        open = still;
        for (vm, port, sources, ways) in current {
            let name = &t.vm(vm).name;
            if !open.iter().any(|w| &w.vm == name && w.port == port) {
                open.push(ExposureWindow { vm: name.clone(), port, from: now, to: None, sources, ways });
            }
        }
    })?;
    let _ = end;
    closed.extend(open);
    closed.retain(|w| w.to.is_none_or(|t| t > w.from));
    closed.sort_by(|a, b| (a.vm.as_str(), a.port, a.from).cmp(&(b.vm.as_str(), b.port, b.from)));
    Ok(closed)
}

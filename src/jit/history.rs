//! What the Configured tab of the JIT page shows for a VM, as data: the number of approved
//! requests in the last seven days, the last access and its user, the connection details (NSG
//! or Azure Firewall, with the DNAT endpoints of open grants), and every grant the VM has had,
//! ended ones included.
//!
//! Microsoft ("Enable just-in-time access on VMs"): the Configured tab shows "the number of
//! approved JIT requests in the last seven days, the last access date and time, the connection
//! details configured, the last user"; "The icon in the Connection Details column indicates
//! whether JIT is enabled on the network security group or firewall. If it's enabled on both,
//! only the firewall icon appears."

use std::net::IpAddr;

use crate::model::{Topology, VmId};
use crate::time::{Duration, Instant};

use super::{GrantState, JitEngine, RequestSource};

/// How the VM's JIT access goes, as the Connection details column marks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionVia {
    /// JIT writes NSG rules only (the NSG icon).
    Nsg {
        /// The NSGs JIT writes into.
        nsgs: Vec<String>,
    },
    /// JIT also writes DNAT rules on an Azure Firewall (only the firewall icon appears).
    Firewall {
        /// The firewall.
        firewall: String,
        /// Its public address.
        public_ip: Option<IpAddr>,
    },
}

/// One grant of the VM, open or ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    /// The request it came from.
    pub request: String,
    /// Whose it is.
    pub requester: String,
    /// The port.
    pub port: u16,
    /// The source allowed.
    pub source: RequestSource,
    /// When access began.
    pub granted_at: Instant,
    /// When it ends (or was to end).
    pub expires_at: Instant,
    /// When it ended, if it has.
    pub ended_at: Option<Instant>,
    /// Where it is.
    pub state: GrantState,
    /// The firewall's public port mapped to the VM's port, behind an Azure Firewall.
    pub mapped: Option<u16>,
    /// The request's justification.
    pub justification: Option<String>,
}

/// The Configured tab's row of a VM, and its grant history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfiguredRow {
    /// Requests granted on the VM in the seven days up to now ("Approved").
    pub approved_last_7_days: usize,
    /// When the last access began ("Last access"), and whose it was ("Last user").
    pub last_access: Option<(Instant, String)>,
    /// The Connection details marker.
    pub via: ConnectionVia,
    /// Every grant on the VM, oldest first.
    pub history: Vec<GrantRecord>,
}

/// The window of the Configured tab's "Approved" count.
pub const APPROVED_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

impl JitEngine {
    /// The Configured tab's row of `vm` at `now`; `None` when JIT is not configured on it.
    pub fn configured_row(&self, topology: &Topology, vm: VmId, now: Instant) -> Option<ConfiguredRow> {
        let config = self.configured.get(&vm)?;
        let via = match config.firewall {
            Some(f) => {
                let fw = topology.firewall(f);
                ConnectionVia::Firewall {
                    firewall: fw.name.clone(),
                    public_ip: fw.public_ip.map(|p| topology.public_ip(p).address),
                }
            }
            None => ConnectionVia::Nsg {
                nsgs: config.nsgs.iter().map(|&n| topology.nsg(n).name.clone()).collect(),
            },
        };
        let history: Vec<GrantRecord> = self
            .grants
            .iter()
            .filter(|g| g.vm == vm && g.granted_at <= now)
            .map(|g| {
                let request = &self.requests[g.request.0 as usize];
                GrantRecord {
                    request: request.name.clone(),
                    requester: g.requester.clone(),
                    port: g.port,
                    source: g.source.clone(),
                    granted_at: g.granted_at,
                    expires_at: g.expires_at,
                    ended_at: self.grant_ended_at(g.id),
                    state: g.state.clone(),
                    mapped: g.firewall_rule.as_ref().map(|(_, _, m)| *m),
                    justification: request.justification.clone(),
                }
            })
            .collect();
        let mut approved: Vec<&str> = history
            .iter()
            .filter(|g| now.since(g.granted_at) < APPROVED_WINDOW)
            .map(|g| g.request.as_str())
            .collect();
        approved.dedup();
        let last_access =
            history.iter().max_by_key(|g| g.granted_at).map(|g| (g.granted_at, g.requester.clone()));
        Some(ConfiguredRow { approved_last_7_days: approved.len(), last_access, via, history })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::testing::{ask, enabled};
    use crate::jit::{JitOptions, RoleBook};

    #[test]
    fn the_configured_row_counts_approvals_and_keeps_ended_grants() {
        let (mut f, mut jit, _) = enabled(JitOptions::default(), &[]);
        let alice = crate::jit::testing::user("alice", &["Owner"], "203.0.113.5");
        assert!(ask(&mut jit, &mut f, "first", &alice, 22, 3600, None, 0).accepted());
        // The first grant ends at its end time (no event queue here: expire it by hand).
        let first = jit.grants()[0].id;
        let hour = f.t0.plus(Duration::from_secs(3600));
        assert!(jit.expire(&mut f.topology, first, hour).is_some());
        assert!(ask(&mut jit, &mut f, "second", &alice, 22, 600, None, 7200).accepted());
        let later = f.t0.plus(Duration::from_secs(7200));
        let row = jit.configured_row(&f.topology, f.vm, later).expect("configured");
        assert_eq!(row.approved_last_7_days, 2);
        assert_eq!(row.last_access, Some((later, "alice".to_string())));
        assert_eq!(row.history.len(), 2, "the ended grant is still listed");
        assert_eq!(
            (row.history[0].state.clone(), row.history[0].ended_at),
            (GrantState::Expired, Some(hour))
        );
        assert_eq!(row.history[1].request, "second");
        assert!(matches!(&row.via, ConnectionVia::Nsg { nsgs } if nsgs.len() == 2), "{:?}", row.via);
        // Eight days on, neither approval is within the last seven days.
        let eight_days = later.plus(Duration::from_secs(8 * 24 * 3600));
        let old = jit.configured_row(&f.topology, f.vm, eight_days).expect("configured");
        assert_eq!((old.approved_last_7_days, old.history.len()), (0, 2));
        let fresh = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        assert!(fresh.configured_row(&f.topology, f.vm, later).is_none());
    }
}

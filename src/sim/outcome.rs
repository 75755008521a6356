//! What a step did, as data: what happened, the rules and connections it changed, the warnings,
//! and each NSG's rules added and removed. `report` makes the sentences (text, JSON, HTML); the
//! `Display` impls here are the one-line summaries every output shares.

use std::collections::HashSet;
use std::fmt;

use crate::jit::{JitError, JitEvent, JitWarning, RuleChange};
use crate::nsg::SecurityRule;
use crate::path::{HopDetail, Trace};

/// What an action did.
#[derive(Clone, Debug)]
pub struct ActionOutcome {
    /// What happened (for a JIT operation, possibly a refusal).
    pub what: Happened,
    /// Rule-level changes and connections closed by them, in order.
    pub changes: Vec<Change>,
    /// For `Connect`: the trace of the opening flow.
    pub trace: Option<Trace>,
    /// Warnings (e.g. existing rules that defeat a JIT deny rule).
    pub warnings: Vec<Warning>,
    /// Every NSG whose rules the action changed, with the rules added and removed.
    pub nsg_changes: Vec<NsgChange>,
    /// The activity-log entries the action wrote (indices into the JIT engine's log), so that a
    /// narrative can show the log beside the step that wrote it.
    pub log: std::ops::Range<usize>,
}

impl ActionOutcome {
    /// An outcome with nothing but what happened.
    pub(super) fn of(what: Happened) -> ActionOutcome {
        ActionOutcome {
            what,
            changes: Vec::new(),
            trace: None,
            warnings: Vec::new(),
            nsg_changes: Vec::new(),
            log: 0..0,
        }
    }

    /// Whether Azure accepted the operation (false: refused, see [`ActionOutcome::refusal`]).
    pub fn accepted(&self) -> bool {
        self.refusal().is_none()
    }

    /// Why Azure refused the operation, if it did.
    pub fn refusal(&self) -> Option<&JitError> {
        match &self.what {
            Happened::Jit(event) | Happened::ScopedPolicy { event, .. } => event.refusal(),
            _ => None,
        }
    }
}

/// Where an NSG is associated, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attached {
    /// A subnet.
    Subnet {
        /// Its VNet.
        vnet: String,
        /// The subnet.
        subnet: String,
    },
    /// A network interface.
    Nic {
        /// The NIC.
        nic: String,
    },
}

impl fmt::Display for Attached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attached::Subnet { vnet, subnet } => write!(f, "subnet '{vnet}/{subnet}'"),
            Attached::Nic { nic } => write!(f, "nic '{nic}'"),
        }
    }
}

/// What setting a peering side's `allowVirtualNetworkAccess` did to traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeeringEffect {
    /// Only the `VirtualNetwork` tag changed; open connections stay (NSGs are stateful).
    TagOnly,
    /// Option `peering_access_blocks_all_traffic`: the peering carries traffic again.
    CarriesTraffic,
    /// Option `peering_access_blocks_all_traffic`: the peering carries no traffic while a side
    /// sets it false.
    CarriesNoTraffic {
        /// The VNet whose side blocks it.
        blocked_by: String,
    },
}

/// What happened at a step or event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happened {
    /// An NSG was associated with a subnet or NIC.
    NsgAssociated {
        /// The NSG.
        nsg: String,
        /// Where.
        target: Attached,
    },
    /// An NSG was dissociated.
    NsgDissociated {
        /// The NSG.
        nsg: String,
        /// Where from.
        target: Attached,
    },
    /// A rule was added to an NSG (or replaced one of the same name).
    RuleAdded {
        /// The NSG.
        nsg: String,
        /// The rule's name.
        rule: String,
    },
    /// A rule was deleted from an NSG.
    RuleRemoved {
        /// The NSG.
        nsg: String,
        /// The rule's name as the step wrote it.
        rule: String,
    },
    /// One side of a peering changed `allowVirtualNetworkAccess`.
    PeeringAccessSet {
        /// The VNet whose side changed.
        vnet: String,
        /// The peered VNet.
        remote: String,
        /// The new value.
        allow: bool,
        /// What it did to traffic.
        effect: PeeringEffect,
    },
    /// A security admin configuration was committed to its network manager's VNets.
    AdminConfigurationDeployed {
        /// The configuration.
        configuration: String,
        /// Its network manager.
        network_manager: String,
        /// The configurations of the same manager that were deployed before and are removed by
        /// the commit (Azure's goal state: one security admin configuration per region).
        replaced: Vec<String>,
        /// Whether it was deployed already (the commit changes nothing).
        already: bool,
    },
    /// A deployed security admin configuration was removed.
    AdminConfigurationUndeployed {
        /// The configuration.
        configuration: String,
        /// Its network manager.
        network_manager: String,
    },
    /// A tracked connection was attempted.
    ConnectionAttempted {
        /// Its name.
        connection: String,
        /// The source as the step wrote it.
        from: String,
        /// The destination as the step wrote it.
        to: String,
        /// The destination port.
        port: u16,
        /// Whether it opened (else the flow was denied).
        opened: bool,
    },
    /// A tracked connection was closed.
    ConnectionClosed {
        /// Its name.
        connection: String,
    },
    /// A JIT operation, or a grant's expiry.
    Jit(JitEvent),
    /// JIT enabled at the start by a scoped policy.
    ScopedPolicy {
        /// The policy's name.
        policy: String,
        /// What enabling did.
        event: JitEvent,
    },
}

impl fmt::Display for Happened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Happened::NsgAssociated { nsg, target } => write!(f, "associated NSG '{nsg}' with {target}"),
            Happened::NsgDissociated { nsg, target } => write!(f, "dissociated NSG '{nsg}' from {target}"),
            Happened::RuleAdded { nsg, rule } => write!(f, "added rule '{rule}' to NSG '{nsg}'"),
            Happened::RuleRemoved { nsg, rule } => write!(f, "removed rule '{rule}' from NSG '{nsg}'"),
            Happened::PeeringAccessSet { vnet, remote, allow, effect } => {
                let tag = if *allow { "joins" } else { "leaves" };
                write!(
                    f,
                    "set allowVirtualNetworkAccess {allow} on the peering of vnet '{vnet}' to '{remote}': '{remote}' {tag} the VirtualNetwork tag of '{vnet}'"
                )?;
                match effect {
                    PeeringEffect::TagOnly => f.write_str("; open connections stay open (NSGs are stateful)"),
                    PeeringEffect::CarriesTraffic => f.write_str(
                        "; the peering carries traffic again (option peering_access_blocks_all_traffic)",
                    ),
                    PeeringEffect::CarriesNoTraffic { blocked_by } => write!(
                        f,
                        "; the peering carries no traffic while the side of '{blocked_by}' sets it false (option peering_access_blocks_all_traffic)"
                    ),
                }
            }
            Happened::AdminConfigurationDeployed { configuration, network_manager, replaced, already } => {
                write!(
                    f,
                    "deployed security admin configuration '{configuration}' of network manager '{network_manager}' to every VNet of its network groups (nsgsim has no regions: model choice)"
                )?;
                if *already {
                    f.write_str("; it was deployed already, so nothing changes")?;
                }
                if !replaced.is_empty() {
                    write!(
                        f,
                        "; it replaces {} in the manager's goal state (one security admin configuration per region)",
                        replaced.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(", ")
                    )?;
                }
                Ok(())
            }
            Happened::AdminConfigurationUndeployed { configuration, network_manager } => write!(
                f,
                "removed the deployment of security admin configuration '{configuration}' of network manager '{network_manager}': its admin rules no longer apply"
            ),
            Happened::ConnectionAttempted { connection, from, to, port, opened: true } => {
                write!(f, "{from} opened connection '{connection}' to {to} port {port}")
            }
            Happened::ConnectionAttempted { connection, from, to, port, opened: false } => {
                write!(f, "{from} tried to open connection '{connection}' to {to} port {port}: denied")
            }
            Happened::ConnectionClosed { connection } => write!(f, "closed connection '{connection}'"),
            Happened::Jit(event) => write!(f, "{event}"),
            Happened::ScopedPolicy { policy, event } => write!(f, "{event} (scoped policy '{policy}')"),
        }
    }
}

/// Why the simulator closed an open connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropCause {
    /// An Azure Firewall's rules changed and now deny it (a firewall drops such sessions).
    FirewallRuleChange {
        /// The firewall.
        firewall: String,
        /// The firewall hop's explanation, as the trace gives it.
        detail: HopDetail,
    },
    /// The rules of an NSG with `flushConnection: true` changed and now deny it: Azure
    /// re-evaluates such an NSG's established flows when its rules are updated.
    NsgFlush {
        /// The NSG.
        nsg: String,
        /// The NSG hop's explanation, as the trace gives it.
        detail: HopDetail,
    },
    /// Option `peering_access_blocks_all_traffic`: the peering it crosses carries no traffic.
    PeeringBlocked {
        /// One VNet of the peering.
        vnet: String,
        /// The other.
        remote: String,
    },
}

/// An open connection the simulator closed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedConnection {
    /// The connection.
    pub connection: String,
    /// Why.
    pub cause: DropCause,
}

impl fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connection = &self.connection;
        match &self.cause {
            DropCause::FirewallRuleChange { firewall, detail } => write!(
                f,
                "connection '{connection}' dropped: the rules of Azure Firewall '{firewall}' changed and now deny it ({detail}); a firewall drops existing sessions that a rule change denies, unlike an NSG"
            ),
            DropCause::NsgFlush { nsg, detail } => write!(
                f,
                "connection '{connection}' closed: the rules of NSG '{nsg}' changed and it has flushConnection: true, so its established connections were evaluated again and the new rules deny this one ({detail})"
            ),
            DropCause::PeeringBlocked { vnet, remote } => write!(
                f,
                "connection '{connection}' dropped: the peering of '{vnet}' and '{remote}' carries no traffic now (option peering_access_blocks_all_traffic; model choice: the peering stops forwarding established sessions too)"
            ),
        }
    }
}

/// A change a step made to rules, or to connections through them.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A rule or DNAT rule collection written or deleted (`report` writes it out with the
    /// topology, which names the ASGs a rule refers to).
    Rule(RuleChange),
    /// An open connection closed by the change.
    ConnectionDropped(DroppedConnection),
}

/// A warning of a step; the step went ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// A JIT warning (Defender's, or an option's label).
    Jit(JitWarning),
    /// Option `jit_expiry_drops_sessions` closed a connection at a grant's expiry.
    SessionDroppedAtExpiry {
        /// The connection.
        connection: String,
    },
    /// A security admin configuration was deployed whose admin rules deny an open connection;
    /// the connection stays open (model choice, see `sim/admin_deploy.rs`).
    AdminDenyKeepsConnection {
        /// The connection.
        connection: String,
        /// The deciding hop's explanation, as the trace gives it (`None` when no hop decided,
        /// which a denied trace does not leave).
        detail: Option<HopDetail>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Jit(w) => write!(f, "{w}"),
            Warning::SessionDroppedAtExpiry { connection } => write!(
                f,
                "connection '{connection}' dropped at expiry (option jit_expiry_drops_sessions, training-text behaviour; Azure keeps established connections)"
            ),
            Warning::AdminDenyKeepsConnection { connection, detail } => write!(
                f,
                "connection '{connection}' stays open, but a new connection like it would be denied now: {} (model choice: Microsoft does not say what a deployment does to established flows; nsgsim keeps them, as an NSG rule change without flushConnection does)",
                detail.as_ref().map_or(String::new(), ToString::to_string)
            ),
        }
    }
}

/// The user rules an action added to and removed from one NSG (a rule changed in place is
/// removed in its old form and added in its new one).
///
/// Only the difference is kept, not the NSG before and after: enabling JIT on 10,000 VMs that
/// share a few NSGs would otherwise hold 20,000 copies of rule lists hundreds long. The full
/// list at any step can be rebuilt from an earlier one with [`NsgChange::apply`].
#[derive(Clone, Debug, PartialEq)]
pub struct NsgChange {
    /// The NSG's name.
    pub nsg: String,
    /// Rules present after the action and not before.
    pub added: Vec<SecurityRule>,
    /// Rules present before the action and not after.
    pub removed: Vec<SecurityRule>,
}

impl NsgChange {
    /// The difference between two rule lists of the NSG `nsg` (`None` when they hold the same
    /// rules).
    pub fn between(nsg: &str, before: &[SecurityRule], after: &[SecurityRule]) -> Option<NsgChange> {
        // An action changes a few rules of a list that may be hundreds long (an NSG shared by
        // thousands of JIT-enabled VMs), once per VM: the common head and tail are skipped with
        // cheap comparisons, and only the middle is hashed.
        let head = before.iter().zip(after).take_while(|(b, a)| b == a).count();
        let tail =
            before[head..].iter().rev().zip(after[head..].iter().rev()).take_while(|(b, a)| b == a).count();
        let (old_middle, new_middle) = (&before[head..before.len() - tail], &after[head..after.len() - tail]);
        let (old, new): (HashSet<&SecurityRule>, HashSet<&SecurityRule>) =
            (old_middle.iter().collect(), new_middle.iter().collect());
        // A rule of one middle may still equal one of the other list's skipped rules (when a list
        // repeats a rule); those few candidates are checked against the whole list.
        let added: Vec<SecurityRule> =
            new_middle.iter().filter(|r| !old.contains(r) && !before.contains(r)).cloned().collect();
        let removed: Vec<SecurityRule> =
            old_middle.iter().filter(|r| !new.contains(r) && !after.contains(r)).cloned().collect();
        (!added.is_empty() || !removed.is_empty()).then(|| NsgChange { nsg: nsg.to_string(), added, removed })
    }

    /// The NSG's rules after the action, given its rules before it.
    pub fn apply(&self, before: &[SecurityRule]) -> Vec<SecurityRule> {
        let mut after: Vec<SecurityRule> =
            before.iter().filter(|r| !self.removed.contains(r)).cloned().collect();
        after.extend(self.added.iter().cloned());
        after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `NsgChange::between` skips the lists' common head and tail; its answer must stay the plain
    /// set difference, also when a list repeats a rule.
    #[test]
    fn nsg_changes_are_the_set_difference_of_the_two_lists() {
        use crate::nsg::Direction;
        use proptest::prelude::*;
        use proptest::test_runner::TestRunner;
        let pool: Vec<SecurityRule> = (0..6u16)
            .map(|i| SecurityRule::ssh_for_tests(&format!("r{i}"), 100 + i, Direction::Inbound))
            .collect();
        let list = proptest::collection::vec(0..pool.len(), 0..10);
        TestRunner::default()
            .run(&(list.clone(), list), |(before, after)| {
                let before: Vec<SecurityRule> = before.iter().map(|&i| pool[i].clone()).collect();
                let after: Vec<SecurityRule> = after.iter().map(|&i| pool[i].clone()).collect();
                let (old, new): (HashSet<&SecurityRule>, HashSet<&SecurityRule>) =
                    (before.iter().collect(), after.iter().collect());
                let added: Vec<SecurityRule> = after.iter().filter(|r| !old.contains(r)).cloned().collect();
                let removed: Vec<SecurityRule> =
                    before.iter().filter(|r| !new.contains(r)).cloned().collect();
                let expected = (!added.is_empty() || !removed.is_empty()).then(|| NsgChange {
                    nsg: "n".to_string(),
                    added,
                    removed,
                });
                prop_assert_eq!(NsgChange::between("n", &before, &after), expected);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn summaries_read_as_the_narrative_prints_them() {
        let subnet = Attached::Subnet { vnet: "v".into(), subnet: "a".into() };
        let cases = [
            (
                Happened::NsgAssociated { nsg: "n".into(), target: subnet.clone() },
                "associated NSG 'n' with subnet 'v/a'",
            ),
            (
                Happened::NsgDissociated { nsg: "n".into(), target: Attached::Nic { nic: "c".into() } },
                "dissociated NSG 'n' from nic 'c'",
            ),
            (
                Happened::ConnectionAttempted {
                    connection: "ssh".into(),
                    from: "a".into(),
                    to: "b".into(),
                    port: 22,
                    opened: false,
                },
                "a tried to open connection 'ssh' to b port 22: denied",
            ),
            (
                Happened::PeeringAccessSet {
                    vnet: "hub".into(),
                    remote: "spoke".into(),
                    allow: false,
                    effect: PeeringEffect::CarriesNoTraffic { blocked_by: "hub".into() },
                },
                "set allowVirtualNetworkAccess false on the peering of vnet 'hub' to 'spoke': 'spoke' leaves the VirtualNetwork tag of 'hub'; the peering carries no traffic while the side of 'hub' sets it false (option peering_access_blocks_all_traffic)",
            ),
            (
                Happened::ScopedPolicy { policy: "p".into(), event: JitEvent::Refused(JitError::NoPort) },
                "refused: the request names no port (scoped policy 'p')",
            ),
        ];
        for (happened, text) in cases {
            assert_eq!(happened.to_string(), text);
        }
        let refused = ActionOutcome::of(Happened::ScopedPolicy {
            policy: "p".into(),
            event: JitEvent::Refused(JitError::NoPort),
        });
        assert!(!refused.accepted());
        assert_eq!(refused.refusal(), Some(&JitError::NoPort));
        assert!(ActionOutcome::of(Happened::ConnectionClosed { connection: "c".into() }).accepted());
    }
}

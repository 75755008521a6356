//! The sentences of a step's outcome that need the topology or belong to one output's layout:
//! rule changes (an ASG in a rule is named through the topology) and the line after a
//! `REFUSED` marker. Every output (text, JSON, HTML, the quiz, `jit request`) renders outcomes
//! through these, so they say the same thing.

use crate::jit::{JitEvent, RuleChange};
use crate::model::Topology;
use crate::sim::{Change, Happened};

/// One rule or DNAT change: `+ web-nsg securityRules/x (priority 100, Inbound Allow, Tcp * ->
/// 10.0.1.4 port 22)`, `- firewall fw DNAT collection c (public port 50000)`.
pub fn rule_change_text(change: &RuleChange, topology: &Topology) -> String {
    match change {
        RuleChange::Added { nsg, rule } => format!("+ {nsg} {}", topology.describe_rule(rule)),
        RuleChange::Removed { nsg, rule } => format!("- {nsg} {}", topology.describe_rule(rule)),
        RuleChange::DnatAdded { firewall, collection, public_ip, mapped, vm_ip, port, priority } => format!(
            "+ firewall {firewall} DNAT collection {collection}: {public_ip}:{mapped} -> {vm_ip}:{port} (priority {priority})"
        ),
        RuleChange::DnatRemoved { firewall, collection, mapped } => {
            format!("- firewall {firewall} DNAT collection {collection} (public port {mapped})")
        }
    }
}

/// One change of a step: a rule change, or a connection it closed.
pub fn change_text(change: &Change, topology: &Topology) -> String {
    match change {
        Change::Rule(rule) => rule_change_text(rule, topology),
        Change::ConnectionDropped(dropped) => dropped.to_string(),
    }
}

/// What happened, for a line that already says whether it was refused: a refusal's reason
/// alone (and the scoped policy it came from), anything else as its summary.
pub fn happened_text(what: &Happened) -> String {
    match what {
        Happened::Jit(JitEvent::Refused(e)) => e.to_string(),
        Happened::ScopedPolicy { policy, event: JitEvent::Refused(e) } => {
            format!("{e} (scoped policy '{policy}')")
        }
        other => other.to_string(),
    }
}

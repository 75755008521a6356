//! Why a step cannot be applied: the scenario is inconsistent at that point in time (a priority
//! clash, a rule, connection, user or request that does not exist then). These are faults of the
//! scenario, not refusals: a refused JIT operation is an outcome ([`super::ActionOutcome`]).

use std::fmt;

use crate::jit::JitError;
use crate::model::TopologyError;
use crate::nsg::NsgError;
use crate::scenario::FieldPath;

use super::{Attached, Duration, Step};

/// Why an action cannot be applied now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActionFault {
    /// The NSG would not be valid with the rule (a priority or name clash, a rule Azure refuses).
    Nsg {
        /// The NSG.
        nsg: String,
        /// What validation found.
        error: NsgError,
    },
    /// The NSG has no rule of that name.
    NoSuchRule {
        /// The NSG.
        nsg: String,
        /// The name given.
        rule: String,
        /// Its user rules' names.
        valid: Vec<String>,
    },
    /// The rule named is a default rule, which cannot be deleted.
    DefaultRule {
        /// The NSG.
        nsg: String,
        /// The name given.
        rule: String,
        /// Its user rules' names.
        valid: Vec<String>,
    },
    /// Nothing is associated there.
    NoNsgToDetach {
        /// Where.
        target: Attached,
    },
    /// The topology refuses the change (an NSG on a service subnet, a peering that does not exist).
    Topology(TopologyError),
    /// A connection of that name is open already.
    ConnectionOpen {
        /// The connection.
        connection: String,
    },
    /// No open connection has that name.
    ConnectionNotOpen {
        /// The connection.
        connection: String,
        /// The connections open now (what would be valid).
        open: Vec<String>,
    },
    /// No user has that name.
    UnknownUser {
        /// The name given.
        name: String,
        /// The scenario's users.
        valid: Vec<String>,
    },
    /// A JIT operation names a request that has not been made.
    Jit(JitError),
    /// Removing the deployment of a security admin configuration that is not deployed.
    AdminNotDeployed {
        /// The configuration.
        configuration: String,
        /// The configurations deployed now.
        deployed: Vec<String>,
    },
}

impl fmt::Display for ActionFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let listed =
            |names: &[String]| if names.is_empty() { "(none)".to_string() } else { names.join(", ") };
        match self {
            ActionFault::Nsg { nsg, error } => write!(f, "NSG '{nsg}': {error}"),
            ActionFault::NoSuchRule { nsg, rule, valid } => {
                write!(f, "NSG '{nsg}' has no rule '{rule}'; valid: {}", listed(valid))
            }
            ActionFault::DefaultRule { nsg, rule, valid } => write!(
                f,
                "'{rule}' is a default rule of NSG '{nsg}'; default rules cannot be deleted; valid: a user rule ({})",
                listed(valid)
            ),
            ActionFault::NoNsgToDetach { target } => write!(f, "{target} has no NSG to detach"),
            ActionFault::Topology(e) => write!(f, "{e}"),
            ActionFault::ConnectionOpen { connection } => {
                write!(f, "connection '{connection}' is already open; valid: a name no open connection uses")
            }
            ActionFault::ConnectionNotOpen { connection, open } => {
                let valid =
                    if open.is_empty() { "(no connection is open)".to_string() } else { open.join(", ") };
                write!(f, "connection '{connection}' is not open; valid: an open connection: {valid}")
            }
            ActionFault::UnknownUser { name, valid } => {
                write!(f, "unknown user '{name}'; valid: {}", valid.join(", "))
            }
            ActionFault::Jit(e) => write!(f, "{e}"),
            ActionFault::AdminNotDeployed { configuration, deployed } => write!(
                f,
                "security admin configuration '{configuration}' is not deployed; valid: a deployed configuration ({})",
                if deployed.is_empty() { "none is deployed".to_string() } else { deployed.join(", ") }
            ),
        }
    }
}

impl std::error::Error for ActionFault {}

/// Why an action cannot be applied, and the field of the action at fault (`rule.priority`,
/// `request`, relative to the action; empty for the action as a whole).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{fault}")]
pub struct ActionError {
    /// The field of the action at fault, relative to the action.
    pub field: FieldPath,
    /// What is wrong (boxed: a `Result` carrying it stays small).
    pub fault: Box<ActionFault>,
}

impl ActionError {
    /// An error at the action's fields `fields` in turn (`&["rule", "priority"]`).
    pub(super) fn new(fields: &[&'static str], fault: ActionFault) -> ActionError {
        ActionError { field: FieldPath::fields(fields), fault: Box::new(fault) }
    }

    /// The error of `step`, whose action this is: its field is the step's action's.
    pub fn at_step(self, step: &Step) -> SimError {
        SimError {
            at: step.at,
            position: step.position,
            field: step.path().field("action").join(&self.field),
            fault: self.fault,
        }
    }
}

/// A step that cannot be applied. Printed as
/// `timeline[3].action.rule: step at 6m (line 19, column 9): NSG 'web' has no rule 'x'`;
/// `scenario::Scenario::step_error` turns it into a `file:line:col` diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: step at {at}{}: {fault}", position_text(*position))]
pub struct SimError {
    /// The step's offset.
    pub at: Duration,
    /// Where the step is in the file.
    pub position: Option<crate::position::Position>,
    /// The field the problem is in (`timeline[3].action.rule`), as segments.
    pub field: FieldPath,
    /// What is wrong (boxed: a `Result` carrying it stays small).
    pub fault: Box<ActionFault>,
}

fn position_text(position: Option<crate::position::Position>) -> String {
    position.map_or_else(String::new, |p| format!(" (line {}, column {})", p.line, p.column))
}

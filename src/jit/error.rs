//! Why a JIT operation did not happen, as data: the refusals Azure gives (a missing permission,
//! a port not in the policy, a duration over the maximum, a source outside the allowed ones, an
//! Unsupported VM, a rule that cannot be written) and the scenario faults (a request that was
//! never made). Each variant carries the facts; its `Display` is the sentence every output shows
//! (the narrative, JSON, HTML and the activity log alike), so nothing needs to parse it back.

use std::fmt;

use crate::nsg::NsgError;
use crate::time::Duration;

use super::request::RequestState;
use super::{
    AllowedSources, Blocker, Permission, RequestSource, RequestStatus, Supportability, UnsupportedReason,
};

/// Why JIT refused an operation ([`JitError::is_refusal`]), or why it could not be applied at
/// all ([`JitError::UnknownRequest`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JitError {
    /// The user's roles lack an action that the operation needs.
    MissingPermission {
        /// The user.
        user: String,
        /// Their roles.
        roles: Vec<String>,
        /// The first action none of their roles grants.
        action: &'static str,
        /// What they tried to do.
        permission: Permission,
    },
    /// The VM cannot have JIT (the portal's Unsupported tab).
    Unsupported {
        /// The VM.
        vm: String,
        /// The portal's reason.
        reason: UnsupportedReason,
    },
    /// The policy's resource name would be too long (`default` plus the VM's name, over 56).
    PolicyNameTooLong {
        /// The VM.
        vm: String,
    },
    /// The VM has no network interface to protect.
    NoNic {
        /// The VM.
        vm: String,
    },
    /// Writing the deny rules would break Azure's limit of rules per NSG.
    DenyRulesOverLimit {
        /// The VM.
        vm: String,
        /// The limit, as the NSG validation states it.
        limit: NsgError,
    },
    /// A request names a VM where JIT is not enabled.
    NotConfigured {
        /// The VM.
        vm: String,
        /// Its JIT status.
        status: Supportability,
    },
    /// An edit names a VM where JIT is not enabled (an edit never enables JIT).
    EditNotConfigured {
        /// The VM.
        vm: String,
        /// Its JIT status.
        status: Supportability,
    },
    /// A request from a VM's Connect page while JIT is not enabled on the VM: the page prompts to
    /// enable JIT, and the prompt was not accepted.
    ConnectPageNotEnabled {
        /// The VM.
        vm: String,
        /// The port the page would enable (RDP 3389 on Windows, SSH 22 on Linux).
        port: u16,
    },
    /// Disabling JIT on a VM where it is not enabled.
    DisableNotConfigured {
        /// The VM.
        vm: String,
    },
    /// The request names no port.
    NoPort,
    /// The requested duration is zero or negative.
    DurationNotPositive {
        /// What was asked.
        duration: Duration,
    },
    /// The port is not in the VM's JIT policy.
    PortNotInPolicy {
        /// The VM.
        vm: String,
        /// The port asked for.
        port: u16,
        /// The ports the policy protects.
        configured: Vec<u16>,
    },
    /// The requested duration exceeds the port's `maxRequestAccessDuration`.
    DurationOverMaximum {
        /// The VM.
        vm: String,
        /// The port.
        port: u16,
        /// What was asked.
        requested: Duration,
        /// The policy's maximum.
        maximum: Duration,
    },
    /// The source asked for is not inside the port's allowed source prefixes.
    SourceNotAllowed {
        /// The VM.
        vm: String,
        /// The port.
        port: u16,
        /// The source asked for.
        source: RequestSource,
        /// What the policy allows.
        allowed: AllowedSources,
    },
    /// The grant's allow rule would break Azure's limit of rules per NSG.
    AllowRuleOverLimit {
        /// The VM.
        vm: String,
        /// The port.
        port: u16,
        /// The limit, as the NSG validation states it.
        limit: NsgError,
    },
    /// An NSG has no free inbound priority at all for the allow rule.
    NoFreePriority {
        /// The NSG.
        nsg: String,
    },
    /// Every priority ahead of a deny rule that would defeat the grant is taken: an allow placed
    /// after it would open nothing, so the grant is refused.
    AllowWouldNotPrecede {
        /// The NSG.
        nsg: String,
        /// The VM.
        vm: String,
        /// The port.
        port: u16,
        /// The deny rule the allow rule had to precede.
        blocker: Blocker,
        /// The source asked for.
        source: RequestSource,
    },
    /// Approving or denying a request that no longer waits for approval (approval extension).
    NotPending {
        /// The request.
        request: String,
        /// Its status now.
        status: RequestStatus,
        /// Its state, which says why when it was refused or cancelled.
        state: Box<RequestState>,
    },
    /// A requester approving or denying their own request (approval extension).
    SelfApproval {
        /// The user.
        user: String,
    },
    /// The policies of the request's VMs name no approver role any more (approval extension).
    NoApprover {
        /// The request.
        request: String,
        /// Its VMs, sorted.
        vms: Vec<String>,
    },
    /// The user holds none of the approver roles (approval extension).
    NotAnApprover {
        /// The user.
        user: String,
        /// Their roles.
        roles: Vec<String>,
        /// The approver roles the policies name.
        approver_roles: Vec<String>,
    },
    /// At approval, the request no longer passes the checks it passed when made (the policy
    /// changed while it waited).
    NoLongerPasses {
        /// The request.
        request: String,
        /// The check it fails now.
        reason: Box<JitError>,
    },
    /// Revoking someone else's grant without permission to configure JIT (revoke extension).
    MayNotRevoke {
        /// The user.
        user: String,
    },
    /// No request of that name has been made: a fault of the scenario, not a refusal.
    UnknownRequest {
        /// The name given.
        name: String,
        /// The names made so far.
        made: Vec<String>,
    },
}

impl JitError {
    /// Whether Azure (or an nsgsim extension) refused the operation, as opposed to an operation
    /// that cannot be applied to the scenario at all.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, JitError::UnknownRequest { .. })
    }
}

/// `a, b`, or `none` for an empty list.
fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitError::MissingPermission { user, roles, action, permission } => {
                let needed = match permission {
                    Permission::Configure => "configure JIT",
                    Permission::Request => "request JIT access",
                    Permission::Read => "read JIT policies",
                    Permission::SetPlan => "turn a Defender plan on or off",
                };
                write!(f, "user '{user}' (roles: {}) lacks {action}, needed to {needed}", list_or_none(roles))
            }
            JitError::Unsupported { vm, reason } => write!(f, "vm '{vm}' is unsupported: {reason}"),
            JitError::PolicyNameTooLong { vm } => {
                write!(f, "the policy name 'default' and vm name '{vm}' together exceed 56 characters")
            }
            JitError::NoNic { vm } => write!(f, "vm '{vm}' has no NIC"),
            JitError::DenyRulesOverLimit { vm, limit } => {
                write!(f, "JIT cannot write its deny rules for vm '{vm}': {limit}")
            }
            JitError::NotConfigured { vm, status } => {
                write!(f, "vm '{vm}' is not configured for JIT ({status})")
            }
            JitError::EditNotConfigured { vm, status } => write!(
                f,
                "vm '{vm}' is not configured for JIT ({status}): Edit changes the policy of a configured VM; enable JIT on it first (EnableJit)"
            ),
            JitError::DisableNotConfigured { vm } => write!(f, "vm '{vm}' is not configured for JIT"),
            JitError::ConnectPageNotEnabled { vm, port } => write!(
                f,
                "JIT is not enabled on vm '{vm}': its Connect page prompts to enable it (with the VM page's parameters: port {port}, any source, 3 hours), and the prompt was not accepted"
            ),

            JitError::NoPort => f.write_str("the request names no port"),
            JitError::DurationNotPositive { duration } => {
                write!(f, "the requested duration {duration} is not positive")
            }
            JitError::PortNotInPolicy { vm, port, configured } => {
                let configured: Vec<String> = configured.iter().map(u16::to_string).collect();
                write!(
                    f,
                    "port {port} is not in the JIT policy of vm '{vm}' (configured: {})",
                    configured.join(", ")
                )
            }
            JitError::DurationOverMaximum { vm, port, requested, maximum } => write!(
                f,
                "the requested duration {requested} exceeds the maximum {maximum} ({}) for port {port} on vm '{vm}'",
                maximum.to_iso8601()
            ),
            JitError::SourceNotAllowed { vm, port, source, allowed } => write!(
                f,
                "source {source} is outside the allowed source prefixes {allowed} for port {port} on vm '{vm}'"
            ),
            JitError::AllowRuleOverLimit { vm, port, limit } => {
                write!(f, "JIT cannot write the allow rule for port {port} of vm '{vm}': {limit}")
            }
            JitError::NoFreePriority { nsg } => write!(f, "NSG '{nsg}' has no free inbound priority"),
            JitError::AllowWouldNotPrecede { nsg, vm, port, blocker, source } => {
                if blocker.is_jit_deny {
                    write!(
                        f,
                        "NSG '{nsg}' has no free priority ahead of the JIT deny rule '{}'",
                        blocker.name
                    )?;
                } else {
                    write!(
                        f,
                        "NSG '{nsg}' has no free priority ahead of existing rule '{}', which denies port {port} from {source}",
                        blocker.name
                    )?;
                }
                let first = crate::nsg::Priority::MIN_USER;
                let taken = match blocker.priority - first {
                    0 => "no priority comes before it".to_string(),
                    1 => format!("priority {first} is taken"),
                    _ => format!("priorities {first}-{} are all taken", blocker.priority - 1),
                };
                write!(
                    f,
                    " (priority {}) for port {port} of vm '{vm}': {taken}, and an allow rule placed after it would not open the port",
                    blocker.priority
                )
            }
            JitError::NotPending { request, status, state } => {
                write!(f, "request '{request}' is not pending (it is {status}")?;
                match state.as_ref() {
                    RequestState::Refused(why) => write!(f, ": {why}")?,
                    RequestState::Cancelled(why) => write!(f, ": {why}")?,
                    _ => {}
                }
                f.write_str(")")
            }
            JitError::SelfApproval { user } => write!(f, "'{user}' cannot approve their own request"),
            JitError::NoApprover { request, vms } => {
                let vms: Vec<String> = vms.iter().map(|v| format!("'{v}'")).collect();
                write!(
                    f,
                    "the JIT policy of vm {} names no approver roles any more, so nobody can approve or deny request '{request}'",
                    vms.join(", ")
                )
            }
            JitError::NotAnApprover { user, roles, approver_roles } => write!(
                f,
                "user '{user}' (roles: {}) holds none of the approver roles {}",
                list_or_none(roles),
                approver_roles.join(", ")
            ),
            JitError::NoLongerPasses { request, reason } => {
                write!(f, "request '{request}' no longer passes its checks: {reason}")
            }
            JitError::MayNotRevoke { user } => {
                write!(f, "user '{user}' is neither the requester nor allowed to configure JIT")
            }
            JitError::UnknownRequest { name, made } => {
                write!(
                    f,
                    "no JIT request named '{name}' has been made; valid: the name of one made so far ({})",
                    list_or_none(made)
                )
            }
        }
    }
}

impl std::error::Error for JitError {}

/// Why a request that waited for approval was withdrawn (approval extension).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelReason {
    /// JIT was disabled on one of its VMs.
    JitDisabled {
        /// The VM.
        vm: String,
        /// Who disabled it.
        by: String,
    },
    /// An edit left its VMs with no approver role, so nobody could approve it.
    NoApproverLeft {
        /// The VM edited.
        vm: String,
        /// Who edited it.
        by: String,
    },
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelReason::JitDisabled { vm, by } => write!(
                f,
                "JIT was disabled on vm '{vm}' by {by} while the request waited for approval (nsgsim extension)"
            ),
            CancelReason::NoApproverLeft { vm, by } => write!(
                f,
                "the JIT policy of vm '{vm}' no longer names approver roles (edited by {by}), so nobody could approve the request; request access again (nsgsim extension)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The sentences every output shows, one per variant: the facts are tested where they are
    //! found (the engine's tests match on variants); here, how they read.
    use super::*;

    fn blocker(priority: u16, is_jit_deny: bool) -> Blocker {
        Blocker { priority, name: "deny-x".into(), is_jit_deny }
    }

    #[test]
    fn each_refusal_reads_as_the_portal_or_api_states_it() {
        let source = RequestSource::Prefixes(vec!["203.0.113.200/32".parse().expect("net")]);
        let over = NsgError::TooManyRules { nsg: "n".into(), count: 1001 };
        let cases: Vec<(JitError, &str)> = vec![
            (
                JitError::MissingPermission {
                    user: "r".into(),
                    roles: vec![],
                    action: "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
                    permission: Permission::Request,
                },
                "user 'r' (roles: none) lacks Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action, needed to request JIT access",
            ),
            (
                JitError::Unsupported { vm: "old".into(), reason: UnsupportedReason::Classic },
                "vm 'old' is unsupported: Classic VM: JIT supports only VMs deployed through Azure Resource Manager",
            ),
            (
                JitError::DenyRulesOverLimit { vm: "vm1".into(), limit: over.clone() },
                "JIT cannot write its deny rules for vm 'vm1': NSG 'n' has 1001 rules; Azure allows at most 1000",
            ),
            (
                JitError::NotConfigured { vm: "vm1".into(), status: Supportability::NotConfigured },
                "vm 'vm1' is not configured for JIT (Not configured)",
            ),
            (JitError::DisableNotConfigured { vm: "vm1".into() }, "vm 'vm1' is not configured for JIT"),
            (
                JitError::PortNotInPolicy { vm: "vm1".into(), port: 3389, configured: vec![22, 80] },
                "port 3389 is not in the JIT policy of vm 'vm1' (configured: 22, 80)",
            ),
            (
                JitError::DurationOverMaximum {
                    vm: "vm1".into(),
                    port: 22,
                    requested: Duration::from_secs(3601),
                    maximum: Duration::from_secs(3600),
                },
                "the requested duration 1h1s exceeds the maximum 1h (PT1H) for port 22 on vm 'vm1'",
            ),
            (
                JitError::SourceNotAllowed {
                    vm: "vm1".into(),
                    port: 22,
                    source: RequestSource::Any,
                    allowed: AllowedSources::Prefixes(vec!["203.0.113.0/24".parse().expect("net")]),
                },
                "source * is outside the allowed source prefixes 203.0.113.0/24 for port 22 on vm 'vm1'",
            ),
            (
                JitError::AllowWouldNotPrecede {
                    nsg: "n".into(),
                    vm: "vm1".into(),
                    port: 22,
                    blocker: blocker(105, true),
                    source: source.clone(),
                },
                "NSG 'n' has no free priority ahead of the JIT deny rule 'deny-x' (priority 105) for port 22 of vm 'vm1': priorities 100-104 are all taken, and an allow rule placed after it would not open the port",
            ),
            (
                JitError::AllowWouldNotPrecede {
                    nsg: "n".into(),
                    vm: "vm1".into(),
                    port: 22,
                    blocker: blocker(101, false),
                    source,
                },
                "NSG 'n' has no free priority ahead of existing rule 'deny-x', which denies port 22 from 203.0.113.200 (priority 101) for port 22 of vm 'vm1': priority 100 is taken, and an allow rule placed after it would not open the port",
            ),
            (
                JitError::NotPending {
                    request: "r".into(),
                    status: RequestStatus::Cancelled,
                    state: Box::new(RequestState::Cancelled(CancelReason::JitDisabled {
                        vm: "vm1".into(),
                        by: "o".into(),
                    })),
                },
                "request 'r' is not pending (it is Cancelled: JIT was disabled on vm 'vm1' by o while the request waited for approval (nsgsim extension))",
            ),
            (
                JitError::NotPending {
                    request: "r".into(),
                    status: RequestStatus::Active,
                    state: Box::new(RequestState::Granted),
                },
                "request 'r' is not pending (it is Active)",
            ),
            (
                JitError::NoApprover { request: "r".into(), vms: vec!["a".into(), "b".into()] },
                "the JIT policy of vm 'a', 'b' names no approver roles any more, so nobody can approve or deny request 'r'",
            ),
            (
                JitError::NoLongerPasses { request: "r".into(), reason: Box::new(JitError::NoPort) },
                "request 'r' no longer passes its checks: the request names no port",
            ),
            (
                JitError::UnknownRequest { name: "x".into(), made: vec![] },
                "no JIT request named 'x' has been made; valid: the name of one made so far (none)",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
            assert_eq!(error.is_refusal(), !matches!(error, JitError::UnknownRequest { .. }));
        }
    }
}

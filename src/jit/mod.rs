//! Defender for Cloud just-in-time (JIT) VM access: policies, onboarding, requests, approval,
//! grants, revocation, expiry, and the activity log.
//!
//! What Azure does, and what this module reproduces (sources in docs/fidelity.md):
//! - Enabling JIT on a VM writes a *deny* rule per protected port into the NSGs on the VM's
//!   inbound path (`SecurityCenter-JITRule_-<int>_<hex>`, source `*`, destination the VM's
//!   private IP, at a low-precedence priority so that existing rules for the port keep winning;
//!   Defender warns about those).
//! - A request (`initiate`) is checked against the requester's role actions and the policy (port
//!   configured, duration within the maximum, source within the allowed sources). Granted, it
//!   writes an *allow* rule (`SecurityCenter-JITRule-<int>-<hex>`, priority 100–110) for the
//!   requester's source until the end time, ahead of the deny rule; a request whose allow rule
//!   could not come first, or would break the 1,000-rule limit, is refused rather than granted
//!   to no effect. A newer request for the same port supersedes the older
//!   (`NewerRequestInitiated`), and says whose grant it replaced.
//! - At the end time the allow rule is deleted (`Expired`); established connections survive.
//!
//! Two behaviours are nsgsim extensions, labelled as such in every output: the approval workflow
//! (described by training texts, not an Azure feature) and revoke (the JIT API has none). An
//! approval re-runs the request's checks against the policy of that moment, and disabling JIT
//! cancels the requests still waiting for approval.
//!
//! The engine never reads a clock: every operation takes `now`, and the engine reports the
//! instants at which grants end so the simulator can queue their expiry.
//!
//! Outcomes are data: an operation returns a [`JitOutcome`] whose [`JitEvent`] says what
//! happened (or carries the [`JitError`] of a refusal), with the [`RuleChange`]s written and the
//! [`JitWarning`]s Defender gives; their `Display` impls are the sentences, and `report` writes
//! the rule changes out. The engine itself is one state ([`JitEngine`], `engine.rs`) with one file
//! per stage: `configure.rs`, `request.rs`, `grant.rs`, `firewall.rs`, and `adopt.rs` for the
//! grants an imported policy's requests hold open at the start.

mod action_pattern;
mod adopt;
mod configure;
mod engine;
mod error;
mod firewall;
mod grant;
mod history;
mod log;
mod outcome;
mod policy;
mod request;
mod roles;
mod rules;
mod support;
#[cfg(test)]
mod testing;

pub use adopt::ActiveGrant;
pub use configure::OpenPort;
pub use engine::{JitEngine, JitOptions, NsgLevels};
pub use error::{CancelReason, JitError};
pub use grant::{Grant, GrantId, GrantState};
pub use history::{APPROVED_WINDOW, ConfiguredRow, ConnectionVia, GrantRecord};
pub use log::{ActivityLog, LogEntry, LogKind, LogStatus};
pub use outcome::{
    GrantSummary, JitEvent, JitOutcome, JitWarning, MappedPort, PortAccess, RuleChange, SupersededGrant,
};
pub use policy::{
    AllowedSources, DEFAULT_MAX_DURATION, JitPolicy, JitProtocol, MAX_MAX_DURATION, MIN_MAX_DURATION,
    PolicyChange, PolicyEdit, PolicyScope, PortEdit, PortPolicy, ScopedPolicy, default_ports,
    vm_page_default_port, vm_page_ports,
};
pub use request::{
    CancelledRequest, PortRequest, Request, RequestId, RequestSource, RequestState, RequestStatus,
};
pub use roles::{Permission, RoleBook};
pub use rules::{Blocker, JIT_RULE_PREFIX, is_jit_rule};
pub use support::{
    PLAN2_OFF_MODEL_CHOICE, Supportability, UnsupportedReason, firewall_for, protecting_firewall,
    supportability,
};

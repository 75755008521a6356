//! The JIT engine's state and what every stage shares: the options, the per-VM configuration,
//! requests and grants, the activity log, queries, and the one place a rule is written or deleted.
//!
//! The operations live beside this file, one stage each, as `impl JitEngine` blocks (smoltcp's
//! `iface/interface/` shape): `configure.rs` (enable, edit, disable), `request.rs` (initiate,
//! approve, deny), `grant.rs` (planning, granting, revoke, expiry), `firewall.rs` (DNAT rules on
//! a classic Azure Firewall).

use std::collections::BTreeMap;

use crate::model::{FirewallId, NsgId, Topology, VmId};
use crate::nsg::{Direction, SecurityRule};
use crate::time::Instant;

use super::log::{LogKind, LogStatus, SECURITY_RP};
use super::outcome::Effects;
use super::{
    ActivityLog, Grant, GrantId, GrantState, JitError, JitOutcome, JitPolicy, LogEntry, PolicyScope, Request,
    RequestState, RequestStatus, RoleBook, RuleChange, ScopedPolicy, Supportability, supportability,
};

/// Which NSGs on a VM's inbound path JIT writes its rules into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NsgLevels {
    /// Every NSG on the path, subnet and NIC (nsgsim's default, so that a grant works).
    #[default]
    Both,
    /// Only the NIC's NSG (reproduces user reports of grants blocked by the subnet NSG).
    NicOnly,
    /// Only the subnet's NSG.
    SubnetOnly,
}

/// Behaviours where sources disagree or Azure is undocumented, chosen per scenario.
#[derive(Clone, Debug)]
pub struct JitOptions {
    /// Which NSGs receive JIT rules.
    pub levels: NsgLevels,
    /// Learn-module behaviour: the deny rule goes above existing allows for the port.
    pub strict_deny_placement: bool,
    /// Learn-module behaviour: disabling JIT leaves the deny rules in place.
    pub keep_deny_rules_on_disable: bool,
    /// Training-text behaviour: expiry drops established sessions.
    pub expiry_drops_sessions: bool,
    /// Whether Defender for Servers Plan 2 is on (JIT needs it).
    pub defender_plan2: bool,
    /// Scopes whose security policy disables JIT.
    pub disabled_scopes: Vec<PolicyScope>,
    /// Whether a requester may approve their own request (approval extension).
    pub allow_self_approval: bool,
}

impl Default for JitOptions {
    fn default() -> Self {
        JitOptions {
            levels: NsgLevels::Both,
            strict_deny_placement: false,
            keep_deny_rules_on_disable: false,
            expiry_drops_sessions: false,
            defender_plan2: true,
            disabled_scopes: Vec::new(),
            allow_self_approval: false,
        }
    }
}

/// The JIT configuration of one VM.
#[derive(Clone, Debug)]
pub(super) struct VmJit {
    pub(super) policy: JitPolicy,
    /// The NSGs JIT wrote into.
    pub(super) nsgs: Vec<NsgId>,
    /// The deny rule per (NSG, port).
    pub(super) deny_rules: Vec<(NsgId, u16, String)>,
    /// The classic Azure Firewall in the VM's VNet (with a public IP) JIT also manages.
    pub(super) firewall: Option<FirewallId>,
    /// Taken over as in force while the NSGs are as a plan writes them: rules JIT would own
    /// that are missing (deny rules, grants' allow rules) are not written.
    pub(super) in_force: bool,
}

/// All JIT state of a simulation.
#[derive(Clone, Debug)]
pub struct JitEngine {
    pub(super) options: JitOptions,
    pub(super) roles: RoleBook,
    pub(super) scoped: Vec<ScopedPolicy>,
    pub(super) configured: BTreeMap<VmId, VmJit>,
    pub(super) requests: Vec<Request>,
    pub(super) grants: Vec<Grant>,
    pub(super) log: ActivityLog,
    pub(super) seq: u64,
    pub(super) ended_at: BTreeMap<GrantId, Instant>,
}

impl JitEngine {
    /// An engine with no VM configured.
    pub fn new(options: JitOptions, roles: RoleBook, scoped: Vec<ScopedPolicy>) -> JitEngine {
        JitEngine {
            options,
            roles,
            scoped,
            configured: BTreeMap::new(),
            requests: Vec::new(),
            grants: Vec::new(),
            log: ActivityLog::default(),
            seq: 0,
            ended_at: BTreeMap::new(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &JitOptions {
        &self.options
    }

    /// The role definitions.
    pub fn roles(&self) -> &RoleBook {
        &self.roles
    }

    /// The scenario's scoped policies.
    pub fn scoped_policies(&self) -> &[ScopedPolicy] {
        &self.scoped
    }

    /// The activity log.
    pub fn log(&self) -> &ActivityLog {
        &self.log
    }

    /// Records an operation made outside JIT (a rule or association changed by hand), so the
    /// activity log shows every write, as Azure's does.
    pub fn record_manual(
        &mut self,
        kind: LogKind,
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        detail: String,
    ) {
        self.record(kind, at, caller, operation, resource, LogStatus::Succeeded, detail);
    }

    /// Every request, oldest first.
    pub fn requests(&self) -> &[Request] {
        &self.requests
    }

    /// Every grant, oldest first.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// The request a scenario named `name` (the latest, if reused).
    pub fn request_by_name(&self, name: &str) -> Option<&Request> {
        self.requests.iter().rev().find(|r| r.name == name)
    }

    /// A grant.
    pub fn grant(&self, id: GrantId) -> &Grant {
        &self.grants[id.0 as usize]
    }

    /// When a grant that is no longer active ended (from the activity log of its state change).
    pub fn grant_ended_at(&self, id: GrantId) -> Option<Instant> {
        self.ended_at.get(&id).copied()
    }

    /// The policy of a configured VM.
    pub fn policy(&self, vm: VmId) -> Option<&JitPolicy> {
        self.configured.get(&vm).map(|c| &c.policy)
    }

    /// The portal status of `vm`.
    pub fn status(&self, topology: &Topology, vm: VmId) -> Supportability {
        supportability(
            topology,
            vm,
            self.configured.contains_key(&vm),
            self.options.defender_plan2,
            &self.options.disabled_scopes,
        )
    }

    /// The summary status of a request.
    pub fn request_status(&self, request: &Request) -> RequestStatus {
        match &request.state {
            RequestState::Refused(_) => RequestStatus::Refused,
            RequestState::Pending => RequestStatus::Pending,
            RequestState::Denied { .. } => RequestStatus::Denied,
            RequestState::Cancelled(_) => RequestStatus::Cancelled,
            RequestState::Granted => {
                let states: Vec<&GrantState> = request.grants.iter().map(|g| &self.grant(*g).state).collect();
                if states.is_empty() {
                    // A granted request always has a grant (grants are planned in full before
                    // the state changes); should one ever have none, it never gave access, and
                    // `all()` on the empty list must not call it superseded.
                    RequestStatus::Refused
                } else if states.iter().any(|s| **s == GrantState::Active) {
                    RequestStatus::Active
                } else if states.iter().any(|s| matches!(s, GrantState::Revoked { .. })) {
                    RequestStatus::Revoked
                } else if states.iter().all(|s| matches!(s, GrantState::Superseded { .. })) {
                    RequestStatus::Superseded
                } else {
                    RequestStatus::Expired
                }
            }
        }
    }

    /// The next instant at which an active grant ends.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.grants.iter().filter(|g| g.state == GrantState::Active).map(|g| g.expires_at).min()
    }

    /// The most specific scoped policy covering `vm`.
    pub fn scoped_policy_for(&self, topology: &Topology, vm: VmId) -> Option<&ScopedPolicy> {
        let v = topology.vm(vm);
        self.scoped.iter().filter(|s| s.scope.covers(v)).max_by_key(|s| s.scope.specificity())
    }

    /// The next number for a JIT rule's name, so that runs are reproducible.
    pub(super) fn next_seed(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Logs an operation of Azure's.
    #[expect(clippy::too_many_arguments, reason = "one activity-log entry's fields")]
    pub(super) fn record(
        &mut self,
        kind: LogKind,
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        status: LogStatus,
        detail: String,
    ) {
        self.push_log(kind, at, caller, operation, resource, status, detail, false);
    }

    /// Logs an operation that is an nsgsim extension rather than an Azure feature.
    #[expect(clippy::too_many_arguments, reason = "one activity-log entry's fields")]
    pub(super) fn record_extension(
        &mut self,
        kind: LogKind,
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        status: LogStatus,
        detail: String,
    ) {
        self.push_log(kind, at, caller, operation, resource, status, detail, true);
    }

    #[expect(clippy::too_many_arguments, reason = "one activity-log entry's fields")]
    fn push_log(
        &mut self,
        kind: LogKind,
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        status: LogStatus,
        detail: String,
        extension: bool,
    ) {
        self.log.push(LogEntry {
            kind,
            at,
            caller: caller.into(),
            operation: operation.into(),
            resource: resource.into(),
            status,
            detail,
            extension,
        });
    }

    /// Refuses an operation of Azure's: logs it as failed with the reason, writes nothing.
    pub(super) fn refuse(
        &mut self,
        kind: LogKind,
        at: Instant,
        actor: &str,
        operation: &str,
        resource: &str,
        reason: JitError,
    ) -> JitOutcome {
        self.record(kind, at, actor, operation, resource, LogStatus::Failed, reason.to_string());
        JitOutcome::from(reason)
    }

    /// A refusal of an nsgsim-extension operation (approve, deny, revoke), logged as such.
    pub(super) fn refuse_extension(
        &mut self,
        kind: LogKind,
        at: Instant,
        actor: &str,
        operation: &str,
        resource: &str,
        reason: JitError,
    ) -> JitOutcome {
        self.record_extension(kind, at, actor, operation, resource, LogStatus::Failed, reason.to_string());
        JitOutcome::from(reason)
    }

    /// Adds a JIT rule to `nsg`, logged as the Security Resource Provider's write.
    pub(super) fn write_rule(
        &mut self,
        topology: &mut Topology,
        nsg: NsgId,
        rule: SecurityRule,
        now: Instant,
        out: &mut Effects,
    ) {
        let nsg_name = topology.nsg(nsg).name.clone();
        self.record(
            LogKind::Rule,
            now,
            SECURITY_RP,
            "Create or Update Security Rule",
            &format!("{nsg_name}/securityRules/{}", rule.name),
            LogStatus::Succeeded,
            format!("priority {} {} {}", rule.priority, rule.access, rule.destination_ports),
        );
        topology.nsg_mut(nsg).rules.push(rule.clone());
        out.changes.push(RuleChange::Added { nsg: nsg_name, rule });
        if !out.changed_nsgs.contains(&nsg) {
            out.changed_nsgs.push(nsg);
        }
    }

    /// Deletes the inbound rule called `name` from `nsg`, if it is still there, logged as the
    /// Security Resource Provider's write.
    pub(super) fn delete_rule(
        &mut self,
        topology: &mut Topology,
        nsg: NsgId,
        name: &str,
        now: Instant,
        out: &mut Effects,
    ) {
        let n = topology.nsg(nsg);
        let Some(rule) = n
            .rules
            .iter()
            .find(|r| crate::name::same_name(&r.name, name) && r.direction == Direction::Inbound)
        else {
            return;
        };
        let change = RuleChange::Removed { nsg: n.name.clone(), rule: rule.clone() };
        let resource = format!("{}/securityRules/{name}", n.name);
        topology.nsg_mut(nsg).rules.retain(|r| !crate::name::same_name(&r.name, name));
        self.record(
            LogKind::Rule,
            now,
            SECURITY_RP,
            "Delete Security Rule",
            &resource,
            LogStatus::Succeeded,
            String::new(),
        );
        out.changes.push(change);
        if !out.changed_nsgs.contains(&nsg) {
            out.changed_nsgs.push(nsg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::testing::{enabled, fixture};
    use crate::jit::{PortRequest, RequestId, RequestSource};
    use crate::time::Duration;

    #[test]
    fn a_granted_request_without_grants_is_not_called_superseded() {
        let (f, mut jit, _) = enabled(JitOptions::default(), &[]);
        jit.requests.push(Request {
            id: RequestId(0),
            name: "empty".into(),
            requester: "o".into(),
            requested_at: f.t0,
            ports: vec![],
            source: RequestSource::Any,
            duration: Duration::from_secs(60),
            justification: None,
            state: RequestState::Granted,
            grants: vec![],
        });
        let r = jit.request_by_name("empty").expect("made");
        assert_eq!(jit.request_status(r), RequestStatus::Refused);
    }

    #[test]
    fn queries_see_configuration_requests_and_deadlines() {
        let fresh = fixture();
        let jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        assert_eq!(jit.status(&fresh.topology, fresh.vm), Supportability::NotConfigured);
        assert!(jit.policy(fresh.vm).is_none() && jit.next_deadline().is_none());
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::Configured);
        assert_eq!(jit.policy(f.vm).map(|p| p.ports.len()), Some(1));
        let out = jit.request(
            &mut f.topology,
            "r",
            &owner,
            vec![PortRequest { vm: f.vm, number: 22 }],
            Duration::from_secs(600),
            None,
            None,
            f.t0,
        );
        let (grant, end) = out.new_grants[0];
        assert_eq!(jit.next_deadline(), Some(end));
        assert_eq!(jit.grant(grant).requester, "o");
        assert_eq!(jit.request_by_name("r").map(|r| r.grants.clone()), Some(vec![grant]));
    }
}

//! Requests for access (`initiate`) and, as an nsgsim extension, their approval or denial.
//!
//! A request is checked against the requester's role actions and the policy of each VM (port
//! configured, duration within the maximum, source within the allowed sources). Refused, it
//! records the reason; waiting for an approver, it is Pending; otherwise it is granted at once
//! (`grant.rs`). An approval re-runs the checks against the policy of that moment.

use std::collections::BTreeSet;
use std::fmt;

use ipnet::IpNet;

use crate::model::{Topology, User, VmId};
use crate::net::AddrSet;
use crate::nsg::{AddressSpec, display_net};
use crate::time::{Duration, Instant};

use super::log::{LogKind, LogStatus};
use super::outcome::{AccessList, Effects, PortAccess};
use super::{
    AllowedSources, CancelReason, GrantId, GrantSummary, JitEngine, JitError, JitEvent, JitOutcome,
    Permission,
};

/// Typed ids live in [`crate::ids`]; re-exported here where they have always been named.
pub use crate::ids::RequestId;

/// One port of one VM in a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortRequest {
    /// The VM.
    pub vm: VmId,
    /// The port.
    pub number: u16,
}

/// The source a request asks access for (the API's `allowedSourceAddressPrefix` or
/// `allowedSourceAddressPrefixes`): `*`, which is every IPv4 and IPv6 source, or prefixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestSource {
    /// `*`.
    Any,
    /// These prefixes.
    Prefixes(Vec<IpNet>),
}

impl RequestSource {
    /// The source as a rule's address field.
    pub fn address_spec(&self) -> AddressSpec {
        match self {
            RequestSource::Any => AddressSpec::Any,
            RequestSource::Prefixes(p) => AddressSpec::Prefixes(p.clone()),
        }
    }

    /// The addresses it covers.
    pub fn addresses(&self) -> AddrSet {
        match self {
            RequestSource::Any => AddrSet::any(),
            RequestSource::Prefixes(p) => AddrSet::from_nets(p),
        }
    }
}

impl fmt::Display for RequestSource {
    /// As Azure writes an address field: `*`, or the prefixes joined by commas (a single
    /// address without its `/32` or `/128`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestSource::Any => f.write_str("*"),
            RequestSource::Prefixes(p) => {
                let parts: Vec<String> = p.iter().map(display_net).collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

/// Where a request is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// Refused by a policy or permission check, with the reason.
    Refused(JitError),
    /// Waiting for an approver (approval extension).
    Pending,
    /// Refused by an approver (approval extension).
    Denied {
        /// The approver.
        by: String,
        /// Their reason.
        reason: String,
    },
    /// Granted: see its grants.
    Granted,
    /// Withdrawn while it waited for approval, with the reason (approval extension: JIT was
    /// disabled on one of its VMs, or an edit left it no approver).
    Cancelled(CancelReason),
}

/// The status a scenario can expect of a request, summarising its grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    /// Refused by a check.
    Refused,
    /// Waiting for approval.
    Pending,
    /// Refused by an approver.
    Denied,
    /// At least one grant is active.
    Active,
    /// Every grant ended at its end time.
    Expired,
    /// A grant was revoked (and none is active).
    Revoked,
    /// Every grant was superseded by a newer request.
    Superseded,
    /// Withdrawn before approval because JIT was disabled on its VM, or an edit left its VMs with
    /// no approver role (approval extension).
    Cancelled,
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A request for access.
#[derive(Clone, Debug)]
pub struct Request {
    /// Its id.
    pub id: RequestId,
    /// The scenario's name for it.
    pub name: String,
    /// Who asked.
    pub requester: String,
    /// When.
    pub requested_at: Instant,
    /// What.
    pub ports: Vec<PortRequest>,
    /// The source the access is for.
    pub source: RequestSource,
    /// How long.
    pub duration: Duration,
    /// Why (free text).
    pub justification: Option<String>,
    /// Where it is.
    pub state: RequestState,
    /// Its grants, once granted.
    pub grants: Vec<GrantId>,
}

/// A request that waited for approval and was withdrawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelledRequest {
    /// The request.
    pub request: String,
    /// Who made it.
    pub requester: String,
}

/// The resource a request acts on, as its log entries name it.
fn request_resource(topology: &Topology, ports: &[PortRequest]) -> String {
    let vms: BTreeSet<&str> = ports.iter().map(|p| topology.vm(p.vm).name.as_str()).collect();
    format!("jitNetworkAccessPolicies/default (vm {})", vms.into_iter().collect::<Vec<_>>().join(", "))
}

/// `; justification: "…"` for a log entry, or nothing.
fn justified(justification: &Option<String>) -> String {
    justification.as_ref().map(|j| format!("; justification: \"{j}\"")).unwrap_or_default()
}

/// The ports of a request, by name.
pub(super) fn port_access(topology: &Topology, ports: &[PortRequest]) -> Vec<PortAccess> {
    ports.iter().map(|p| PortAccess { vm: topology.vm(p.vm).name.clone(), port: p.number }).collect()
}

impl JitEngine {
    /// Requests access (`initiate`). Refusals are outcomes ([`JitOutcome::refusal`]), recorded
    /// in the log and on the request. `source` is what to allow: `None` = the requester's IP,
    /// [`RequestSource::Any`] = `*` (every IPv4 and IPv6 source, written `*` as Azure does), or
    /// prefixes.
    #[expect(clippy::too_many_arguments, reason = "the fields of the API's initiate request")]
    pub fn request(
        &mut self,
        topology: &mut Topology,
        name: &str,
        user: &User,
        ports: Vec<PortRequest>,
        duration: Duration,
        source: Option<RequestSource>,
        justification: Option<String>,
        now: Instant,
    ) -> JitOutcome {
        let source = source.unwrap_or_else(|| RequestSource::Prefixes(vec![IpNet::from(user.source_ip)]));
        let resource = request_resource(topology, &ports);
        let operation = "Initiate JIT Network Access Policy";
        let id = RequestId(self.requests.len() as u32);
        let mut request = Request {
            id,
            name: name.into(),
            requester: user.name.clone(),
            requested_at: now,
            ports: ports.clone(),
            source: source.clone(),
            duration,
            justification,
            state: RequestState::Pending,
            grants: Vec::new(),
        };
        let checked =
            self.check_role(user).and_then(|()| self.check_request(topology, &ports, duration, &source));
        if let Err(reason) = checked {
            request.state = RequestState::Refused(reason.clone());
            self.requests.push(request);
            return self.refuse(LogKind::Request, now, &user.name, operation, &resource, reason);
        }
        let approver_roles = self.approvers_for(&ports);
        let access = port_access(topology, &ports);
        if !approver_roles.is_empty() {
            let justification = request.justification.clone();
            self.requests.push(request);
            self.record_extension(
                LogKind::Request,
                now,
                &user.name,
                operation,
                &resource,
                LogStatus::Accepted,
                format!("pending approval by {}{}", approver_roles.join(" or "), justified(&justification)),
            );
            let event = JitEvent::Pending {
                requester: user.name.clone(),
                access,
                duration,
                approver_roles,
                justification,
            };
            return Effects::default().finish(event);
        }
        let plan = match self.plan_grants(topology, &request) {
            Ok(plan) => plan,
            Err(reason) => {
                request.state = RequestState::Refused(reason.clone());
                self.requests.push(request);
                return self.refuse(LogKind::Request, now, &user.name, operation, &resource, reason);
            }
        };
        let justification = request.justification.clone();
        self.requests.push(request);
        self.record(
            LogKind::Request,
            now,
            &user.name,
            operation,
            &resource,
            LogStatus::Succeeded,
            format!("{} for {duration} from {source}{}", AccessList(&access), justified(&justification)),
        );
        let mut out = Effects::default();
        let superseded = self.grant_request(topology, id, plan, now, &mut out);
        let grant = GrantSummary {
            requester: user.name.clone(),
            access,
            source,
            expires_at: now.plus(duration),
            mapped: self.mapped_ports(topology, &out.new_grants),
            superseded,
            justification,
        };
        out.finish(JitEvent::Granted(grant))
    }

    /// A request from the VM's Connect page. Microsoft: "Azure checks to see if JIT is enabled
    /// on that VM. If JIT isn't enabled for the VM, you're prompted to enable it. If JIT is
    /// enabled, select Request access to pass an access request with the requesting IP, time
    /// range, and ports that were configured for that VM."
    ///
    /// So the request is for every port of the VM's policy, from the requester's IP, for the
    /// shortest of those ports' maximum durations (one request has one duration: model choice).
    /// When JIT is not enabled and `accept_prompt` is false the request is refused with the
    /// prompt; when it is true JIT is first enabled with the VM page's parameters (RDP 3389 on
    /// Windows, SSH 22 on Linux, any source, three hours) by the requester, who then needs the
    /// rights to configure JIT too.
    #[expect(clippy::too_many_arguments, reason = "the request's fields and the prompt's answer")]
    pub fn connect_page(
        &mut self,
        topology: &mut Topology,
        name: &str,
        user: &User,
        vm: VmId,
        accept_prompt: bool,
        justification: Option<String>,
        now: Instant,
    ) -> JitOutcome {
        let vm_name = topology.vm(vm).name.clone();
        let mut out = Effects::default();
        let mut enabled = None;
        if !self.configured.contains_key(&vm) {
            let page_ports = super::vm_page_ports(topology.vm(vm).os);
            let page_port = vec![PortRequest { vm, number: page_ports[0].number }];
            let refused = |reason: JitError| JitEvent::ConnectPage {
                vm: vm_name.clone(),
                enabled: None,
                request: Box::new(JitEvent::Refused(reason)),
            };
            if !accept_prompt {
                let reason =
                    JitError::ConnectPageNotEnabled { vm: vm_name.clone(), port: page_port[0].number };
                self.refuse_request(topology, name, user, page_port, justification, reason.clone(), now);
                return Effects::default().finish(refused(reason));
            }
            let change = super::PolicyChange { ports: Some(page_ports), approver_roles: None };
            let enabling = self.enable(topology, vm, change, user, now);
            if let Some(reason) = enabling.refusal().cloned() {
                self.refuse_request(topology, name, user, page_port, justification, reason.clone(), now);
                return Effects::default().finish(refused(reason));
            }
            enabled = Some(Box::new(out.absorb(enabling)));
        }
        let policy = self
            .configured
            .get(&vm)
            .map(|c| c.policy.clone())
            .unwrap_or_else(|| super::JitPolicy { ports: Vec::new(), approver_roles: Vec::new() });
        let ports: Vec<PortRequest> =
            policy.ports.iter().map(|p| PortRequest { vm, number: p.number }).collect();
        let duration =
            policy.ports.iter().map(|p| p.max_duration).min().unwrap_or(super::DEFAULT_MAX_DURATION);
        let requested = self.request(topology, name, user, ports, duration, None, justification, now);
        let request = Box::new(out.absorb(requested));
        out.finish(JitEvent::ConnectPage { vm: vm_name, enabled, request })
    }

    /// Records a request refused before its checks ran (a Connect page whose prompt was not
    /// accepted, or whose enabling was refused), so that it can be expected and is logged.
    #[expect(clippy::too_many_arguments, reason = "the request's fields and the reason")]
    fn refuse_request(
        &mut self,
        topology: &Topology,
        name: &str,
        user: &User,
        ports: Vec<PortRequest>,
        justification: Option<String>,
        reason: JitError,
        now: Instant,
    ) {
        let resource = request_resource(topology, &ports);
        let id = RequestId(self.requests.len() as u32);
        self.requests.push(Request {
            id,
            name: name.into(),
            requester: user.name.clone(),
            requested_at: now,
            ports,
            source: RequestSource::Prefixes(vec![IpNet::from(user.source_ip)]),
            duration: super::DEFAULT_MAX_DURATION,
            justification,
            state: RequestState::Refused(reason.clone()),
            grants: Vec::new(),
        });
        self.refuse(
            LogKind::Request,
            now,
            &user.name,
            "Initiate JIT Network Access Policy",
            &resource,
            reason,
        );
    }

    /// Whether `user`'s roles allow requesting access.
    fn check_role(&self, user: &User) -> Result<(), JitError> {
        self.roles.check(&user.roles, Permission::Request).map_err(|action| JitError::MissingPermission {
            user: user.name.clone(),
            roles: user.roles.clone(),
            action,
            permission: Permission::Request,
        })
    }

    /// The policy checks of a request: every VM configured, every port in its policy, the
    /// duration within each port's maximum, the source within each port's allowed sources.
    /// Run when the request is made and again when it is approved, since the policy may have
    /// changed in between.
    fn check_request(
        &self,
        topology: &Topology,
        ports: &[PortRequest],
        duration: Duration,
        source: &RequestSource,
    ) -> Result<(), JitError> {
        if ports.is_empty() {
            return Err(JitError::NoPort);
        }
        if duration.as_secs() <= 0 {
            return Err(JitError::DurationNotPositive { duration });
        }
        let requested = source.addresses();
        for p in ports {
            let vm = &topology.vm(p.vm).name;
            // JIT requires Defender for Servers Plan 2: with the plan off, a configured VM keeps
            // its policy but nobody can request (model choice, see PLAN2_OFF_MODEL_CHOICE).
            if !self.options.defender_plan2 {
                let subscription = topology.vm(p.vm).subscription.clone();
                let reason = super::UnsupportedReason::NoPlan2 { subscription };
                return Err(JitError::Unsupported { vm: vm.clone(), reason });
            }
            let Some(config) = self.configured.get(&p.vm) else {
                return Err(JitError::NotConfigured { vm: vm.clone(), status: self.status(topology, p.vm) });
            };
            let Some(port) = config.policy.port(p.number) else {
                return Err(JitError::PortNotInPolicy {
                    vm: vm.clone(),
                    port: p.number,
                    configured: config.policy.ports.iter().map(|x| x.number).collect(),
                });
            };
            if duration > port.max_duration {
                return Err(JitError::DurationOverMaximum {
                    vm: vm.clone(),
                    port: p.number,
                    requested: duration,
                    maximum: port.max_duration,
                });
            }
            if let AllowedSources::Prefixes(allowed) = &port.allowed_sources
                && !allowed.iter().any(|a| requested.is_subset(&AddrSet::from_net(*a)))
            {
                return Err(JitError::SourceNotAllowed {
                    vm: vm.clone(),
                    port: p.number,
                    source: source.clone(),
                    allowed: port.allowed_sources.clone(),
                });
            }
        }
        Ok(())
    }

    /// Approves a pending request (nsgsim extension): the access window starts now.
    ///
    /// The request's checks run again first, since the policy may have changed while it waited
    /// (a port removed, a shorter maximum, no room for the allow rule): if they fail, the
    /// approval is refused with the reason and the request is refused.
    ///
    /// # Errors
    /// [`JitError::UnknownRequest`] when no request has that name.
    pub fn approve(
        &mut self,
        topology: &mut Topology,
        name: &str,
        approver: &User,
        now: Instant,
    ) -> Result<JitOutcome, JitError> {
        let id = self.request_id(name)?;
        let resource = format!("JIT request '{name}'");
        let operation = "Approve JIT request";
        if let Some(reason) = self.approval_refusal(topology, id, approver) {
            return Ok(self.refuse_extension(
                LogKind::Request,
                now,
                &approver.name,
                operation,
                &resource,
                reason,
            ));
        }
        let request = self.requests[id.0 as usize].clone();
        let plan = self
            .check_request(topology, &request.ports, request.duration, &request.source)
            .and_then(|()| self.plan_grants(topology, &request));
        let plan = match plan {
            Ok(plan) => plan,
            Err(reason) => {
                let reason = JitError::NoLongerPasses { request: name.into(), reason: Box::new(reason) };
                self.requests[id.0 as usize].state = RequestState::Refused(reason.clone());
                return Ok(self.refuse_extension(
                    LogKind::Request,
                    now,
                    &approver.name,
                    operation,
                    &resource,
                    reason,
                ));
            }
        };
        let mut out = Effects::default();
        self.record_extension(
            LogKind::Request,
            now,
            &approver.name,
            operation,
            &resource,
            LogStatus::Succeeded,
            "approved".into(),
        );
        let superseded = self.grant_request(topology, id, plan, now, &mut out);
        let grant = GrantSummary {
            requester: request.requester.clone(),
            access: port_access(topology, &request.ports),
            source: request.source.clone(),
            expires_at: now.plus(request.duration),
            mapped: self.mapped_ports(topology, &out.new_grants),
            superseded,
            justification: request.justification.clone(),
        };
        Ok(out.finish(JitEvent::Approved { approver: approver.name.clone(), request: name.into(), grant }))
    }

    /// Denies a pending request (nsgsim extension).
    ///
    /// # Errors
    /// [`JitError::UnknownRequest`] when no request has that name.
    pub fn deny(
        &mut self,
        topology: &Topology,
        name: &str,
        approver: &User,
        reason: &str,
        now: Instant,
    ) -> Result<JitOutcome, JitError> {
        let id = self.request_id(name)?;
        let resource = format!("JIT request '{name}'");
        if let Some(refusal) = self.approval_refusal(topology, id, approver) {
            return Ok(self.refuse_extension(
                LogKind::Request,
                now,
                &approver.name,
                "Deny JIT request",
                &resource,
                refusal,
            ));
        }
        self.requests[id.0 as usize].state =
            RequestState::Denied { by: approver.name.clone(), reason: reason.into() };
        self.record_extension(
            LogKind::Request,
            now,
            &approver.name,
            "Deny JIT request",
            &resource,
            LogStatus::Succeeded,
            reason.into(),
        );
        let event =
            JitEvent::Denied { approver: approver.name.clone(), request: name.into(), reason: reason.into() };
        Ok(Effects::default().finish(event))
    }

    /// Cancels every pending request that `stuck` picks, recording `reason` as `actor`'s
    /// cancellation in the log; returns the requests cancelled.
    pub(super) fn cancel_pending(
        &mut self,
        now: Instant,
        actor: &str,
        reason: &CancelReason,
        stuck: impl Fn(&Self, &Request) -> bool,
    ) -> Vec<CancelledRequest> {
        let picked: Vec<usize> = (0..self.requests.len())
            .filter(|&i| self.requests[i].state == RequestState::Pending && stuck(self, &self.requests[i]))
            .collect();
        let mut cancelled = Vec::new();
        for i in picked {
            let r = &self.requests[i];
            let (name, requester) = (r.name.clone(), r.requester.clone());
            self.requests[i].state = RequestState::Cancelled(reason.clone());
            let resource = format!("JIT request '{name}'");
            self.record_extension(
                LogKind::Request,
                now,
                actor,
                "Cancel JIT request",
                &resource,
                LogStatus::Succeeded,
                reason.to_string(),
            );
            cancelled.push(CancelledRequest { request: name, requester });
        }
        cancelled
    }

    /// The approver roles the current policies of the VMs of `ports` name, sorted, deduplicated.
    pub(super) fn approvers_for(&self, ports: &[PortRequest]) -> Vec<String> {
        let mut allowed: Vec<String> = ports
            .iter()
            .filter_map(|p| self.configured.get(&p.vm))
            .flat_map(|c| c.policy.approver_roles.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        allowed
    }

    /// Why `approver` may not approve or deny request `id`: it is not pending, it is their own,
    /// or they hold none of the approver roles its VMs' policies name now.
    fn approval_refusal(&self, topology: &Topology, id: RequestId, approver: &User) -> Option<JitError> {
        let r = &self.requests[id.0 as usize];
        if r.state != RequestState::Pending {
            return Some(JitError::NotPending {
                request: r.name.clone(),
                status: self.request_status(r),
                state: Box::new(r.state.clone()),
            });
        }
        if r.requester == approver.name && !self.options.allow_self_approval {
            return Some(JitError::SelfApproval { user: approver.name.clone() });
        }
        let allowed = self.approvers_for(&r.ports);
        if allowed.is_empty() {
            let mut vms: Vec<String> = r.ports.iter().map(|p| topology.vm(p.vm).name.clone()).collect();
            vms.sort();
            vms.dedup();
            return Some(JitError::NoApprover { request: r.name.clone(), vms });
        }
        if !approver.roles.iter().any(|role| allowed.contains(role)) {
            return Some(JitError::NotAnApprover {
                user: approver.name.clone(),
                roles: approver.roles.clone(),
                approver_roles: allowed,
            });
        }
        None
    }

    /// The request a scenario named `name`.
    pub(super) fn request_id(&self, name: &str) -> Result<RequestId, JitError> {
        self.request_by_name(name).map(|r| r.id).ok_or_else(|| JitError::UnknownRequest {
            name: name.into(),
            made: self.requests.iter().map(|r| r.name.clone()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::testing::{
        Fixture, allow_sources, ask, assert_refused, at, enabled, fixture, jit_rules, net, ssh_policy,
        status_of, user,
    };
    use crate::jit::{
        JitOptions, JitPolicy, PolicyChange, PortPolicy, RoleBook, Supportability, default_ports,
    };
    use crate::nsg::Access;

    /// A fixture whose VM is not enabled, an engine, and an Owner.
    fn bare() -> (Fixture, JitEngine, User) {
        (
            fixture(),
            JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]),
            user("o", &["Owner"], "203.0.113.1"),
        )
    }

    // ---- refusal reasons, one each ----

    #[test]
    fn refuses_a_role_without_initiate() {
        let (mut f, mut jit, _) = enabled(JitOptions::default(), &[]);
        let lacks_initiate = |e: &JitError| {
            matches!(e, JitError::MissingPermission { action, permission: Permission::Request, .. }
                if action.ends_with("initiate/action"))
        };
        let reader = user("r", &["Reader"], "203.0.113.2");
        let out = ask(&mut jit, &mut f, "r", &reader, 22, 600, None, 0);
        assert_refused(&jit, &f, "r", &out, |e| {
            lacks_initiate(e)
                && matches!(e, JitError::MissingPermission { user, roles, .. } if user == "r" && roles == &["Reader"])
        });
        // Security Reader may only view (S17), whatever a training text says.
        let sec_reader = user("sr", &["Security Reader"], "203.0.113.2");
        let out = ask(&mut jit, &mut f, "sr", &sec_reader, 22, 600, None, 0);
        assert_refused(&jit, &f, "sr", &out, lacks_initiate);
        let nobody = user("n", &[], "203.0.113.2");
        let out = ask(&mut jit, &mut f, "n", &nobody, 22, 600, None, 0);
        assert_refused(
            &jit,
            &f,
            "n",
            &out,
            |e| matches!(e, JitError::MissingPermission { roles, .. } if roles.is_empty()),
        );
    }

    #[test]
    fn refuses_a_vm_not_configured() {
        let (mut f, mut jit, owner) = bare();
        let out = ask(&mut jit, &mut f, "r", &owner, 22, 600, None, 0);
        assert_refused(&jit, &f, "r", &out, |e| {
            *e == JitError::NotConfigured { vm: "vm1".into(), status: Supportability::NotConfigured }
        });
    }

    #[test]
    fn refuses_a_port_not_in_the_policy() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let out = ask(&mut jit, &mut f, "r", &owner, 3389, 600, None, 0);
        assert_refused(&jit, &f, "r", &out, |e| {
            *e == JitError::PortNotInPolicy { vm: "vm1".into(), port: 3389, configured: vec![22] }
        });
    }

    #[test]
    fn refuses_a_duration_over_the_maximum_and_accepts_the_maximum() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let out = ask(&mut jit, &mut f, "long", &owner, 22, 3601, None, 0);
        assert_refused(&jit, &f, "long", &out, |e| {
            *e == JitError::DurationOverMaximum {
                vm: "vm1".into(),
                port: 22,
                requested: Duration::from_secs(3601),
                maximum: Duration::from_secs(3600),
            }
        });
        let out = ask(&mut jit, &mut f, "zero", &owner, 22, 0, None, 0);
        assert_refused(&jit, &f, "zero", &out, |e| {
            *e == JitError::DurationNotPositive { duration: Duration::from_secs(0) }
        });
        let exact = ask(&mut jit, &mut f, "exact", &owner, 22, 3600, None, 0);
        assert!(exact.accepted(), "{}", exact.event);
        assert_eq!(exact.new_grants[0].1, at(f.t0, 3600));
    }

    #[test]
    fn refuses_a_source_outside_the_allowed_range() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let outside = |source: RequestSource| move |e: &JitError| matches!(e, JitError::SourceNotAllowed { port: 22, source: s, .. } if *s == source);
        let outsider = user("x", &["Owner"], "198.51.100.7");
        // The requester's own IP is the default source.
        let out = ask(&mut jit, &mut f, "own-ip", &outsider, 22, 600, None, 0);
        assert_refused(&jit, &f, "own-ip", &out, outside(net("198.51.100.7/32")));
        // A range that only overlaps the allowed one is outside it.
        let out = ask(&mut jit, &mut f, "wide", &owner, 22, 600, Some(net("203.0.112.0/23")), 0);
        assert_refused(&jit, &f, "wide", &out, outside(net("203.0.112.0/23")));
        // `*` is outside any list of prefixes.
        let out = ask(&mut jit, &mut f, "any", &owner, 22, 600, Some(RequestSource::Any), 0);
        assert_refused(&jit, &f, "any", &out, outside(RequestSource::Any));
        // A narrower prefix inside the allowed range is accepted.
        let ok = ask(&mut jit, &mut f, "narrow", &owner, 22, 600, Some(net("203.0.113.128/25")), 0);
        assert!(ok.accepted(), "{}", ok.event);
    }

    #[test]
    fn a_source_of_star_is_written_as_star() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let policy = JitPolicy { ports: default_ports(), approver_roles: vec![] };
        jit.edit(&mut f.topology, f.vm, policy.into(), &owner, f.t0);
        let out = ask(&mut jit, &mut f, "any", &owner, 22, 600, Some(RequestSource::Any), 0);
        assert!(
            matches!(&out.event, JitEvent::Granted(g) if g.source == RequestSource::Any),
            "{:?}",
            out.event
        );
        assert_eq!(allow_sources(&f.topology, f.nic_nsg), vec![AddressSpec::Any]);
        assert_eq!(allow_sources(&f.topology, f.subnet_nsg), vec![AddressSpec::Any]);
        let grant = jit.grant(out.new_grants[0].0);
        assert_eq!(grant.source, RequestSource::Any, "IPv4 and IPv6, not 0.0.0.0/0");
        assert_eq!(RequestSource::Any.to_string(), "*");
        assert_eq!(net("203.0.113.5/32").to_string(), "203.0.113.5");
    }

    #[test]
    fn a_grant_names_who_what_from_where_and_until_when() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let out = ask(&mut jit, &mut f, "r", &owner, 22, 600, None, 60);
        let JitEvent::Granted(grant) = &out.event else { panic!("expected a grant, got {:?}", out.event) };
        assert_eq!(grant.requester, "o");
        assert_eq!(grant.access, [PortAccess { vm: "vm1".into(), port: 22 }]);
        assert_eq!(grant.source, net("203.0.113.1/32"));
        assert_eq!(grant.expires_at, at(f.t0, 660));
        assert!(grant.mapped.is_empty() && grant.superseded.is_empty());
        assert_eq!(
            out.event.to_string(),
            "o was granted access to vm1:22 from 203.0.113.1 until 2025-01-01T00:11:00Z"
        );
    }

    // ---- approval (nsgsim extension) ----

    #[test]
    fn approval_approve_deny_wrong_approver_and_self_approval() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &["Security Admin"]);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let sec = user("sec", &["Security Admin"], "203.0.113.6");
        let pending = ask(&mut jit, &mut f, "r", &dev, 22, 900, None, 0);
        assert!(pending.new_grants.is_empty());
        assert!(
            matches!(&pending.event, JitEvent::Pending { requester, approver_roles, .. }
                if requester == "dev" && approver_roles == &["Security Admin"]),
            "{:?}",
            pending.event
        );
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        // Wrong approver: the refusal names the roles on both sides.
        let wrong = jit.approve(&mut f.topology, "r", &owner, f.t0).expect("exists");
        assert_eq!(
            wrong.refusal(),
            Some(&JitError::NotAnApprover {
                user: "o".into(),
                roles: vec!["Owner".into()],
                approver_roles: vec!["Security Admin".into()]
            })
        );
        // Self-approval is refused, even by someone holding the role.
        let self_approver = user("dev", &["Security Admin", "JIT Access Role"], "203.0.113.5");
        let own = jit.approve(&mut f.topology, "r", &self_approver, f.t0).expect("exists");
        assert_eq!(own.refusal(), Some(&JitError::SelfApproval { user: "dev".into() }));
        assert_eq!(status_of(&jit, "r"), RequestStatus::Pending);
        // Approval: the window starts then.
        let later = at(f.t0, 300);
        let ok = jit.approve(&mut f.topology, "r", &sec, later).expect("exists");
        assert!(
            matches!(&ok.event, JitEvent::Approved { approver, request, grant }
                if approver == "sec" && request == "r" && grant.requester == "dev"),
            "{:?}",
            ok.event
        );
        assert_eq!(ok.new_grants[0].1, later.plus(Duration::from_secs(900)));
        assert_eq!(status_of(&jit, "r"), RequestStatus::Active);
        let again = jit.approve(&mut f.topology, "r", &sec, later).expect("exists");
        assert!(
            matches!(again.refusal(), Some(JitError::NotPending { status: RequestStatus::Active, .. })),
            "{:?}",
            again.event
        );
        // Deny.
        ask(&mut jit, &mut f, "r2", &dev, 22, 900, None, 300);
        let denied = jit.deny(&f.topology, "r2", &sec, "not in a change window", later).expect("exists");
        assert_eq!(
            denied.event,
            JitEvent::Denied {
                approver: "sec".into(),
                request: "r2".into(),
                reason: "not in a change window".into()
            }
        );
        assert_eq!(status_of(&jit, "r2"), RequestStatus::Denied);
        let wrong_deny = jit.deny(&f.topology, "r2", &owner, "x", later).expect("exists");
        assert!(matches!(
            wrong_deny.refusal(),
            Some(JitError::NotPending { status: RequestStatus::Denied, .. })
        ));
        assert!(jit.log().entries().iter().any(|e| e.operation == "Deny JIT request" && e.extension));
        assert!(matches!(
            jit.approve(&mut f.topology, "nope", &sec, later),
            Err(JitError::UnknownRequest { name, made }) if name == "nope" && made == ["r", "r2"]
        ));
        // With the option, a requester holding an approver role may approve their own request.
        let (mut g, mut jit2, _) =
            enabled(JitOptions { allow_self_approval: true, ..JitOptions::default() }, &["Security Admin"]);
        ask(&mut jit2, &mut g, "mine", &self_approver, 22, 900, None, 0);
        let ok = jit2.approve(&mut g.topology, "mine", &self_approver, g.t0).expect("exists");
        assert!(ok.accepted(), "{}", ok.event);
    }

    #[test]
    fn approval_rechecks_the_request_against_the_edited_policy() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &["Security Admin"]);
        let two_ports = JitPolicy {
            ports: vec![
                ssh_policy(3600, &[]).ports[0].clone(),
                PortPolicy { number: 3389, ..ssh_policy(3600, &[]).ports[0].clone() },
            ],
            approver_roles: vec!["Security Admin".into()],
        };
        jit.edit(&mut f.topology, f.vm, two_ports.into(), &owner, f.t0);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let sec = user("sec", &["Security Admin"], "203.0.113.6");
        ask(&mut jit, &mut f, "rdp", &dev, 3389, 3000, None, 0);
        ask(&mut jit, &mut f, "ssh", &dev, 22, 3000, None, 0);
        // The edit drops 3389 and shortens the maximum.
        let edit = PolicyChange { ports: Some(ssh_policy(1800, &[]).ports), approver_roles: None };
        jit.edit(&mut f.topology, f.vm, edit, &owner, at(f.t0, 60));
        let rdp = jit.approve(&mut f.topology, "rdp", &sec, at(f.t0, 120)).expect("exists");
        let no_longer = |request: &str, reason: JitError| JitError::NoLongerPasses {
            request: request.into(),
            reason: Box::new(reason),
        };
        assert_eq!(
            rdp.refusal(),
            Some(&no_longer(
                "rdp",
                JitError::PortNotInPolicy { vm: "vm1".into(), port: 3389, configured: vec![22] }
            ))
        );
        assert!(rdp.new_grants.is_empty(), "no access is announced");
        assert_eq!(status_of(&jit, "rdp"), RequestStatus::Refused);
        let ssh = jit.approve(&mut f.topology, "ssh", &sec, at(f.t0, 120)).expect("exists");
        assert!(
            matches!(ssh.refusal(), Some(JitError::NoLongerPasses { reason, .. })
                if matches!(**reason, JitError::DurationOverMaximum { maximum, .. } if maximum == Duration::from_secs(1800))),
            "{:?}",
            ssh.event
        );
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0, "no rule written");
        let failed = jit
            .log()
            .entries()
            .iter()
            .filter(|e| e.operation == "Approve JIT request" && e.status == LogStatus::Failed)
            .count();
        assert_eq!(failed, 2);
    }
}

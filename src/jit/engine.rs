//! The JIT engine: per-VM configuration, requests, grants and their lifecycles.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;

use crate::model::{
    CollectionRules, DnatRule, FirewallId, FirewallMode, NsgId, RuleCollection, RuleCollectionGroup,
    Topology, User, VmId,
};
use crate::net::AddrSet;
use crate::nsg::{AddressSpec, Direction, SecurityRule, describe_address};
use crate::sim::{Duration, Instant};

use super::log::SECURITY_RP;
use super::rules::{allow_priority, allow_rule, covering_rules, deny_priority, deny_rule};
use super::{
    ActivityLog, AllowedSources, JitPolicy, LogEntry, Permission, PolicyChange, PolicyScope, RoleBook,
    ScopedPolicy, Supportability, default_ports, supportability,
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

/// Identifies a request within one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u32);

/// Identifies a grant (one port of one VM for one request) within one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrantId(pub u32);

/// One port of one VM in a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortRequest {
    /// The VM.
    pub vm: VmId,
    /// The port.
    pub number: u16,
}

/// Where a request is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// Refused by a policy or permission check, with the reason.
    Refused(String),
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
    pub source: AddressSpec,
    /// How long.
    pub duration: Duration,
    /// Why (free text).
    pub justification: Option<String>,
    /// Where it is.
    pub state: RequestState,
    /// Its grants, once granted.
    pub grants: Vec<GrantId>,
}

/// A grant's life; every change goes through one chokepoint in the engine (`end_grant`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantState {
    /// The allow rules are in place.
    Active,
    /// Ended at its end time (`statusReason: Expired`).
    Expired,
    /// Ended early by someone (nsgsim extension; `statusReason: UserRequested`).
    Revoked {
        /// Who revoked it.
        by: String,
    },
    /// Replaced by a newer request for the same port (`statusReason: NewerRequestInitiated`).
    Superseded {
        /// The newer grant.
        by: GrantId,
    },
}

impl fmt::Display for GrantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantState::Active => f.write_str("Active"),
            GrantState::Expired => f.write_str("Expired"),
            GrantState::Revoked { by } => write!(f, "Revoked by {by}"),
            GrantState::Superseded { by } => write!(f, "Superseded by grant #{}", by.0),
        }
    }
}

/// Access to one port of one VM from one source until an end time.
#[derive(Clone, Debug)]
pub struct Grant {
    /// Its id.
    pub id: GrantId,
    /// The request it came from.
    pub request: RequestId,
    /// Who it is for.
    pub requester: String,
    /// The VM.
    pub vm: VmId,
    /// The port.
    pub port: u16,
    /// The source allowed.
    pub source: AddressSpec,
    /// When access started.
    pub granted_at: Instant,
    /// When it ends (the API's `endTimeUtc`).
    pub expires_at: Instant,
    /// The allow rules written, by NSG.
    pub rules: Vec<(NsgId, String)>,
    /// The DNAT rule collection written on the firewall, and the public port mapped to the VM's
    /// port (the API's `mappedPort`), for a VM behind an Azure Firewall.
    pub firewall_rule: Option<(FirewallId, String, u16)>,
    /// Where it is.
    pub state: GrantState,
}

/// A scenario-level fault in a JIT action (not a refusal, which is an outcome).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JitError(pub String);

/// What an operation did.
#[derive(Clone, Debug, Default)]
pub struct JitOutcome {
    /// One line.
    pub summary: String,
    /// Whether Azure accepted the operation (false: refused, with the reason in `summary`).
    pub accepted: bool,
    /// Rule changes, one line each (`+ nsg rule …`, `- nsg rule …`).
    pub changes: Vec<String>,
    /// Warnings, e.g. existing rules that defeat the new deny rule.
    pub warnings: Vec<String>,
    /// NSGs whose rules changed (to recompile).
    pub changed_nsgs: Vec<NsgId>,
    /// Grants created, with their end instants (to queue their expiry).
    pub new_grants: Vec<(GrantId, Instant)>,
    /// Grants that ended (to re-check sessions when expiry drops them).
    pub ended_grants: Vec<GrantId>,
}

#[derive(Clone, Debug)]
struct VmJit {
    policy: JitPolicy,
    /// The NSGs JIT wrote into, and the deny rule per (NSG, port).
    nsgs: Vec<NsgId>,
    deny_rules: Vec<(NsgId, u16, String)>,
    /// The classic Azure Firewall in the VM's VNet (with a public IP) JIT also manages.
    firewall: Option<FirewallId>,
}

/// All JIT state of a simulation.
#[derive(Clone, Debug)]
pub struct JitEngine {
    options: JitOptions,
    roles: RoleBook,
    scoped: Vec<ScopedPolicy>,
    configured: BTreeMap<VmId, VmJit>,
    requests: Vec<Request>,
    grants: Vec<Grant>,
    log: ActivityLog,
    seq: u64,
    ended_at: BTreeMap<GrantId, Instant>,
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
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        detail: String,
    ) {
        self.record(at, caller, operation, resource, "Succeeded", detail);
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
            RequestState::Granted => {
                let states: Vec<&GrantState> = request.grants.iter().map(|g| &self.grant(*g).state).collect();
                if states.iter().any(|s| **s == GrantState::Active) {
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

    fn next_seed(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn record(
        &mut self,
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        status: &str,
        detail: String,
    ) {
        self.push_log(at, caller, operation, resource, status, detail, false);
    }

    /// Records an operation that is an nsgsim extension rather than an Azure feature.
    fn record_extension(
        &mut self,
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        status: &str,
        detail: String,
    ) {
        self.push_log(at, caller, operation, resource, status, detail, true);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_log(
        &mut self,
        at: Instant,
        caller: &str,
        operation: &str,
        resource: &str,
        status: &str,
        detail: String,
        extension: bool,
    ) {
        self.log.push(LogEntry {
            at,
            caller: caller.into(),
            operation: operation.into(),
            resource: resource.into(),
            status: status.into(),
            detail,
            extension,
        });
    }

    /// The NSGs on `vm`'s inbound path that JIT writes into, per the options.
    fn path_nsgs(&self, topology: &Topology, vm: VmId) -> Vec<NsgId> {
        let Some(nic) = topology.primary_nic(vm) else { return Vec::new() };
        let n = topology.nic(nic);
        let subnet = topology.subnet(n.subnet).nsg;
        let mut out = Vec::new();
        let (use_subnet, use_nic) = match self.options.levels {
            NsgLevels::Both => (true, true),
            NsgLevels::NicOnly => (false, true),
            NsgLevels::SubnetOnly => (true, false),
        };
        if use_subnet && let Some(s) = subnet {
            out.push(s);
        }
        if use_nic
            && let Some(n) = n.nsg
            && !out.contains(&n)
        {
            out.push(n);
        }
        out
    }

    fn refuse(
        &mut self,
        at: Instant,
        actor: &str,
        operation: &str,
        resource: &str,
        reason: String,
    ) -> JitOutcome {
        self.record(at, actor, operation, resource, "Failed", reason.clone());
        JitOutcome { summary: format!("refused: {reason}"), accepted: false, ..JitOutcome::default() }
    }

    /// A refusal of an nsgsim-extension operation (approve, deny, revoke), logged as such.
    fn refuse_extension(
        &mut self,
        at: Instant,
        actor: &str,
        operation: &str,
        resource: &str,
        reason: String,
    ) -> JitOutcome {
        self.record_extension(at, actor, operation, resource, "Failed", reason.clone());
        JitOutcome { summary: format!("refused: {reason}"), accepted: false, ..JitOutcome::default() }
    }

    /// Enables JIT on `vm` (or updates its policy when already enabled): writes a deny rule per
    /// protected port into the NSGs on the VM's path and warns about existing rules that keep
    /// precedence. Fields `change` leaves out keep their current values on an edit; on a first
    /// enable they come from the most specific scoped policy, else Defender's defaults.
    pub fn enable(
        &mut self,
        topology: &mut Topology,
        vm: VmId,
        change: PolicyChange,
        actor: &User,
        now: Instant,
    ) -> JitOutcome {
        let vm_name = topology.vm(vm).name.clone();
        let resource = format!("jitNetworkAccessPolicies/default (vm '{vm_name}')");
        let operation = "Update JIT Network Access Policy";
        if let Err(action) = self.roles.check(&actor.roles, Permission::Configure) {
            let reason = format!(
                "user '{}' (roles: {}) lacks {action}, needed to configure JIT",
                actor.name,
                roles_text(&actor.roles)
            );
            return self.refuse(now, &actor.name, operation, &resource, reason);
        }
        let status =
            supportability(topology, vm, false, self.options.defender_plan2, &self.options.disabled_scopes);
        if let Supportability::Unsupported(reason) = status {
            return self.refuse(
                now,
                &actor.name,
                operation,
                &resource,
                format!("vm '{vm_name}' is unsupported: {reason}"),
            );
        }
        if format!("default{vm_name}").len() > 56 {
            let reason =
                format!("the policy name 'default' and vm name '{vm_name}' together exceed 56 characters");
            return self.refuse(now, &actor.name, operation, &resource, reason);
        }
        let base = self
            .configured
            .get(&vm)
            .map(|c| c.policy.clone())
            .or_else(|| self.scoped_policy_for(topology, vm).map(|s| s.policy.clone()))
            .unwrap_or(JitPolicy { ports: default_ports(), approver_roles: Vec::new() });
        let policy = JitPolicy {
            ports: change.ports.unwrap_or(base.ports),
            approver_roles: change.approver_roles.unwrap_or(base.approver_roles),
        };
        let editing = self.configured.contains_key(&vm);
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        if editing {
            self.remove_deny_rules(topology, vm, now, &mut out);
            // Grants on ports the new policy no longer protects end now.
            let dropped: Vec<GrantId> = self
                .grants
                .iter()
                .filter(|g| g.vm == vm && g.state == GrantState::Active && policy.port(g.port).is_none())
                .map(|g| g.id)
                .collect();
            for g in dropped {
                self.end_grant(topology, g, GrantState::Revoked { by: actor.name.clone() }, now, &mut out);
            }
        }
        let nsgs = self.path_nsgs(topology, vm);
        let Some(nic) = topology.primary_nic(vm) else {
            return self.refuse(now, &actor.name, operation, &resource, format!("vm '{vm_name}' has no NIC"));
        };
        let ports: Vec<String> = policy.ports.iter().map(|p| p.number.to_string()).collect();
        self.record(
            now,
            &actor.name,
            operation,
            &resource,
            "Succeeded",
            format!("ports {}", ports.join(", ")),
        );
        let vm_ip = topology.nic(nic).private_ip;
        let ctx = topology.resolve_context_for_subnet(topology.nic(nic).subnet);
        if self.options.strict_deny_placement {
            out.warnings.push("deny rules placed above existing allow rules for their ports (option jit_strict_deny_placement, Learn module behaviour; Microsoft's JIT docs keep existing rules first)".into());
        }
        match self.options.levels {
            NsgLevels::Both => {}
            NsgLevels::NicOnly => out.warnings.push("JIT rules written to the NIC's NSG only (option jit_nsg_levels: NicOnly, from user reports)".into()),
            NsgLevels::SubnetOnly => out.warnings.push("JIT rules written to the subnet's NSG only (option jit_nsg_levels: SubnetOnly, from user reports)".into()),
        }
        let mut deny_rules = Vec::new();
        for &nsg in &nsgs {
            for port in &policy.ports {
                let nsg_name = topology.nsg(nsg).name.clone();
                let Some((priority, as_intended)) =
                    deny_priority(topology.nsg(nsg), port, vm_ip, &ctx, self.options.strict_deny_placement)
                else {
                    out.warnings.push(format!(
                        "NSG '{nsg_name}' has no free priority for the JIT deny rule of port {}",
                        port.number
                    ));
                    continue;
                };
                let seed = self.next_seed();
                let rule = deny_rule(&vm_name, vm_ip, port, priority, seed);
                if !as_intended {
                    out.warnings.push(format!(
                        "NSG '{nsg_name}': no free priority where the deny rule for port {} belongs; placed at {priority}",
                        port.number
                    ));
                }
                for existing in covering_rules(topology.nsg(nsg), port, vm_ip, &ctx) {
                    if existing.access == crate::nsg::Access::Allow && existing.priority.0 < priority {
                        out.warnings.push(format!(
                            "NSG '{nsg_name}': existing rule '{}' (priority {}) allows port {} from {} and keeps precedence over the JIT deny rule: JIT does not protect this port until it is removed",
                            existing.name,
                            existing.priority,
                            port.number,
                            describe_address(&existing.source, topology)
                        ));
                    }
                }
                self.write_rule(topology, nsg, rule.clone(), now, &mut out);
                deny_rules.push((nsg, port.number, rule.name));
            }
        }
        let approval = if policy.approver_roles.is_empty() {
            String::new()
        } else {
            format!("; requests need approval by {} (nsgsim extension)", policy.approver_roles.join(" or "))
        };
        out.summary = format!(
            "{} JIT on vm '{vm_name}' for ports {}{approval}",
            if editing { "updated" } else { "enabled" },
            ports.join(", ")
        );
        let firewall = super::support::firewall_for(topology, vm).filter(|&f| {
            let fw = topology.firewall(f);
            fw.mode == FirewallMode::Classic && fw.public_ip.is_some()
        });
        if deny_rules.is_empty() && firewall.is_none() {
            out.warnings.push(format!(
                "JIT wrote no rule for vm '{vm_name}': with jit_nsg_levels {:?} no NSG of the VM is at that level, so grants will open nothing",
                self.options.levels
            ));
        }
        if let Some(f) = firewall {
            out.warnings.push(format!(
                "vm '{vm_name}' is protected by Azure Firewall '{}': grants will also add a DNAT rule there (connect to the firewall's public IP and the mapped port)",
                topology.firewall(f).name
            ));
        }
        self.configured.insert(vm, VmJit { policy, nsgs, deny_rules, firewall });
        out
    }

    /// Disables JIT on `vm`: removes it from the policy, ends its active grants and (unless the
    /// Learn-module option says otherwise) removes its deny rules.
    pub fn disable(&mut self, topology: &mut Topology, vm: VmId, actor: &User, now: Instant) -> JitOutcome {
        let vm_name = topology.vm(vm).name.clone();
        let resource = format!("jitNetworkAccessPolicies/default (vm '{vm_name}')");
        let operation = "Delete JIT Network Access Policy";
        if let Err(action) = self.roles.check(&actor.roles, Permission::Configure) {
            let reason = format!(
                "user '{}' (roles: {}) lacks {action}, needed to configure JIT",
                actor.name,
                roles_text(&actor.roles)
            );
            return self.refuse(now, &actor.name, operation, &resource, reason);
        }
        if !self.configured.contains_key(&vm) {
            return self.refuse(
                now,
                &actor.name,
                operation,
                &resource,
                format!("vm '{vm_name}' is not configured for JIT"),
            );
        }
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        let active: Vec<GrantId> = self
            .grants
            .iter()
            .filter(|g| g.vm == vm && g.state == GrantState::Active)
            .map(|g| g.id)
            .collect();
        for g in active {
            self.end_grant(topology, g, GrantState::Revoked { by: actor.name.clone() }, now, &mut out);
        }
        if self.options.keep_deny_rules_on_disable {
            out.warnings.push(
                "deny rules left in place (option jit_keep_deny_rules_on_disable, Learn module behaviour; Microsoft's cleanup removes them)".into(),
            );
        } else {
            self.remove_deny_rules(topology, vm, now, &mut out);
        }
        self.configured.remove(&vm);
        out.summary = format!("disabled JIT on vm '{vm_name}'");
        self.record(now, &actor.name, operation, &resource, "Succeeded", "JIT was disabled on the VM".into());
        out
    }

    /// Requests access (`initiate`). Refusals are outcomes (`accepted == false`), recorded in the
    /// log and on the request.
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        &mut self,
        topology: &mut Topology,
        name: &str,
        user: &User,
        ports: Vec<PortRequest>,
        duration: Duration,
        source: Option<IpNet>,
        justification: Option<String>,
        now: Instant,
    ) -> JitOutcome {
        let source_spec = match source {
            Some(net) => AddressSpec::Prefixes(vec![net]),
            None => AddressSpec::Prefixes(vec![IpNet::from(user.source_ip)]),
        };
        let vms: Vec<String> = ports
            .iter()
            .map(|p| topology.vm(p.vm).name.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let resource = format!("jitNetworkAccessPolicies/default (vm {})", vms.join(", "));
        let id = RequestId(self.requests.len() as u32);
        let mut request = Request {
            id,
            name: name.into(),
            requester: user.name.clone(),
            requested_at: now,
            ports: ports.clone(),
            source: source_spec.clone(),
            duration,
            justification,
            state: RequestState::Pending,
            grants: Vec::new(),
        };
        if let Err(reason) = self.check_request(topology, user, &ports, duration, &source_spec) {
            request.state = RequestState::Refused(reason.clone());
            self.requests.push(request);
            return self.refuse(now, &user.name, "Initiate JIT Network Access Policy", &resource, reason);
        }
        let approvers: Vec<String> = ports
            .iter()
            .filter_map(|p| self.configured.get(&p.vm))
            .flat_map(|c| c.policy.approver_roles.iter().cloned())
            .collect();
        self.requests.push(request);
        let what = describe_ports(topology, &ports);
        if !approvers.is_empty() {
            let mut roles = approvers.clone();
            roles.sort();
            roles.dedup();
            self.record_extension(
                now,
                &user.name,
                "Initiate JIT Network Access Policy",
                &resource,
                "Accepted",
                format!("pending approval by {}", roles.join(" or ")),
            );
            return JitOutcome {
                summary: format!(
                    "{} requested {what} for {duration}: pending approval by {} (nsgsim extension)",
                    user.name,
                    roles.join(" or ")
                ),
                accepted: true,
                ..JitOutcome::default()
            };
        }
        self.record(
            now,
            &user.name,
            "Initiate JIT Network Access Policy",
            &resource,
            "Succeeded",
            format!("{what} for {duration} from {}", describe_address(&source_spec, topology)),
        );
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        self.grant_request(topology, id, now, &mut out);
        out.summary = format!(
            "{} was granted {what} from {} until {}{}",
            user.name,
            describe_address(&source_spec, topology),
            now.plus(duration),
            self.mapped_ports(topology, &out.new_grants)
        );
        out
    }

    /// " (connect through firewall 'fw' at IP:port for vm:port, …)" for grants behind a firewall.
    fn mapped_ports(&self, topology: &Topology, grants: &[(GrantId, Instant)]) -> String {
        let parts: Vec<String> = grants
            .iter()
            .filter_map(|(g, _)| {
                let grant = self.grant(*g);
                let (fw, _, mapped) = grant.firewall_rule.as_ref()?;
                let f = topology.firewall(*fw);
                let public =
                    f.public_ip.map(|p| topology.public_ip(p).address.to_string()).unwrap_or_default();
                Some(format!(
                    "{}:{} through firewall '{}' at {public}:{mapped}",
                    topology.vm(grant.vm).name,
                    grant.port,
                    f.name
                ))
            })
            .collect();
        if parts.is_empty() { String::new() } else { format!(" (connect to {})", parts.join(", ")) }
    }

    fn check_request(
        &self,
        topology: &Topology,
        user: &User,
        ports: &[PortRequest],
        duration: Duration,
        source: &AddressSpec,
    ) -> Result<(), String> {
        if let Err(action) = self.roles.check(&user.roles, Permission::Request) {
            return Err(format!(
                "user '{}' (roles: {}) lacks {action}, needed to request JIT access",
                user.name,
                roles_text(&user.roles)
            ));
        }
        if ports.is_empty() {
            return Err("the request names no port".into());
        }
        if duration.as_secs() <= 0 {
            return Err(format!("the requested duration {duration} is not positive"));
        }
        let requested = match source {
            AddressSpec::Prefixes(p) => AddrSet::from_nets(p),
            _ => AddrSet::any(),
        };
        for p in ports {
            let vm_name = &topology.vm(p.vm).name;
            let Some(config) = self.configured.get(&p.vm) else {
                return Err(format!(
                    "vm '{vm_name}' is not configured for JIT ({})",
                    self.status(topology, p.vm)
                ));
            };
            let Some(port) = config.policy.port(p.number) else {
                let configured: Vec<String> =
                    config.policy.ports.iter().map(|x| x.number.to_string()).collect();
                return Err(format!(
                    "port {} is not in the JIT policy of vm '{vm_name}' (configured: {})",
                    p.number,
                    configured.join(", ")
                ));
            };
            if duration > port.max_duration {
                return Err(format!(
                    "the requested duration {} exceeds the maximum {} ({}) for port {} on vm '{vm_name}'",
                    duration,
                    port.max_duration,
                    port.max_duration.to_iso8601(),
                    p.number
                ));
            }
            if let AllowedSources::Prefixes(allowed) = &port.allowed_sources
                && !allowed.iter().any(|a| requested.is_subset(&AddrSet::from_net(*a)))
            {
                return Err(format!(
                    "source {} is outside the allowed source prefixes {} for port {} on vm '{vm_name}'",
                    describe_address(source, topology),
                    port.allowed_sources,
                    p.number
                ));
            }
        }
        Ok(())
    }

    /// Approves a pending request (nsgsim extension): the access window starts now.
    ///
    /// # Errors
    /// When no request has that name.
    pub fn approve(
        &mut self,
        topology: &mut Topology,
        name: &str,
        approver: &User,
        now: Instant,
    ) -> Result<JitOutcome, JitError> {
        let id = self.request_id(name)?;
        let resource = format!("JIT request '{name}'");
        if let Some(reason) = self.approval_refusal(id, approver) {
            return Ok(self.refuse_extension(now, &approver.name, "Approve JIT request", &resource, reason));
        }
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        self.record_extension(
            now,
            &approver.name,
            "Approve JIT request",
            &resource,
            "Succeeded",
            "approved".into(),
        );
        self.grant_request(topology, id, now, &mut out);
        let r = &self.requests[id.0 as usize];
        out.summary = format!(
            "{} approved request '{name}' (nsgsim extension): {} has {} until {}",
            approver.name,
            r.requester,
            describe_ports(topology, &r.ports),
            now.plus(r.duration)
        );
        Ok(out)
    }

    /// Denies a pending request (nsgsim extension).
    ///
    /// # Errors
    /// When no request has that name.
    pub fn deny(
        &mut self,
        name: &str,
        approver: &User,
        reason: &str,
        now: Instant,
    ) -> Result<JitOutcome, JitError> {
        let id = self.request_id(name)?;
        let resource = format!("JIT request '{name}'");
        if let Some(refusal) = self.approval_refusal(id, approver) {
            return Ok(self.refuse_extension(now, &approver.name, "Deny JIT request", &resource, refusal));
        }
        self.requests[id.0 as usize].state =
            RequestState::Denied { by: approver.name.clone(), reason: reason.into() };
        self.record_extension(now, &approver.name, "Deny JIT request", &resource, "Succeeded", reason.into());
        Ok(JitOutcome {
            summary: format!("{} denied request '{name}' (nsgsim extension): {reason}", approver.name),
            accepted: true,
            ..JitOutcome::default()
        })
    }

    fn approval_refusal(&self, id: RequestId, approver: &User) -> Option<String> {
        let r = &self.requests[id.0 as usize];
        if r.state != RequestState::Pending {
            return Some(format!("request '{}' is not pending (it is {})", r.name, self.request_status(r)));
        }
        if r.requester == approver.name && !self.options.allow_self_approval {
            return Some(format!("'{}' cannot approve their own request", approver.name));
        }
        let allowed: Vec<&String> = r
            .ports
            .iter()
            .filter_map(|p| self.configured.get(&p.vm))
            .flat_map(|c| c.policy.approver_roles.iter())
            .collect();
        if !approver.roles.iter().any(|role| allowed.contains(&role)) {
            let mut names: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
            names.sort();
            names.dedup();
            return Some(format!(
                "user '{}' (roles: {}) holds none of the approver roles {}",
                approver.name,
                roles_text(&approver.roles),
                names.join(", ")
            ));
        }
        None
    }

    /// Revokes the active grants of a request at once (nsgsim extension: the JIT API has no revoke).
    ///
    /// # Errors
    /// When no request has that name.
    pub fn revoke(
        &mut self,
        topology: &mut Topology,
        name: &str,
        actor: &User,
        now: Instant,
    ) -> Result<JitOutcome, JitError> {
        let id = self.request_id(name)?;
        let resource = format!("JIT request '{name}'");
        let r = &self.requests[id.0 as usize];
        let may = r.requester == actor.name || self.roles.check(&actor.roles, Permission::Configure).is_ok();
        if !may {
            let reason =
                format!("user '{}' is neither the requester nor allowed to configure JIT", actor.name);
            return Ok(self.refuse_extension(now, &actor.name, "Revoke JIT access", &resource, reason));
        }
        let active: Vec<GrantId> =
            r.grants.iter().copied().filter(|g| self.grant(*g).state == GrantState::Active).collect();
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        for g in &active {
            self.end_grant(topology, *g, GrantState::Revoked { by: actor.name.clone() }, now, &mut out);
        }
        self.record_extension(
            now,
            &actor.name,
            "Revoke JIT access",
            &resource,
            "Succeeded",
            format!("{} grant(s) ended", active.len()),
        );
        out.summary = format!(
            "{} revoked request '{name}' (nsgsim extension): {} grant(s) ended",
            actor.name,
            active.len()
        );
        Ok(out)
    }

    /// Ends `grant` if it is still active and due at `now` (its queued expiry event).
    pub fn expire(&mut self, topology: &mut Topology, grant: GrantId, now: Instant) -> Option<JitOutcome> {
        let g = self.grant(grant);
        if g.state != GrantState::Active || g.expires_at > now {
            return None;
        }
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        let (requester, port, vm) = (g.requester.clone(), g.port, g.vm);
        self.end_grant(topology, grant, GrantState::Expired, now, &mut out);
        out.summary =
            format!("JIT access of {requester} to vm '{}' port {port} expired", topology.vm(vm).name);
        Some(out)
    }

    fn request_id(&self, name: &str) -> Result<RequestId, JitError> {
        self.request_by_name(name).map(|r| r.id).ok_or_else(|| {
            let names: Vec<&str> = self.requests.iter().map(|r| r.name.as_str()).collect();
            JitError(format!(
                "no JIT request named '{name}' has been made; made so far: {}",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ))
        })
    }

    fn grant_request(&mut self, topology: &mut Topology, id: RequestId, now: Instant, out: &mut JitOutcome) {
        let request = self.requests[id.0 as usize].clone();
        let expires_at = now.plus(request.duration);
        for p in &request.ports {
            let Some(config) = self.configured.get(&p.vm).cloned() else { continue };
            let Some(port) = config.policy.port(p.number).cloned() else { continue };
            let gid = GrantId(self.grants.len() as u32);
            // A newer request for the same port supersedes the older one.
            let older: Vec<GrantId> = self
                .grants
                .iter()
                .filter(|g| g.vm == p.vm && g.port == p.number && g.state == GrantState::Active)
                .map(|g| g.id)
                .collect();
            for o in older {
                self.end_grant(topology, o, GrantState::Superseded { by: gid }, now, out);
            }
            let vm_name = topology.vm(p.vm).name.clone();
            let Some(nic) = topology.primary_nic(p.vm) else { continue };
            let vm_ip = topology.nic(nic).private_ip;
            let mut rules = Vec::new();
            for &nsg in &config.nsgs {
                let deny_at = config
                    .deny_rules
                    .iter()
                    .find(|(n, port_no, _)| *n == nsg && *port_no == p.number)
                    .and_then(|(_, _, name)| topology.nsg(nsg).rule(name))
                    .map_or(4096, |r| r.priority.0);
                let Some(priority) = allow_priority(topology.nsg(nsg), deny_at) else {
                    out.warnings.push(format!(
                        "NSG '{}' has no free priority above the JIT deny rule for port {}",
                        topology.nsg(nsg).name,
                        p.number
                    ));
                    continue;
                };
                let seed = self.next_seed();
                let rule = allow_rule(&vm_name, vm_ip, &port, &request.source, priority, seed);
                rules.push((nsg, rule.name.clone()));
                self.write_rule(topology, nsg, rule, now, out);
            }
            let firewall_rule = config.firewall.map(|fw| {
                self.write_dnat(topology, fw, &vm_name, vm_ip, &port, &request.source, gid, now, out)
            });
            self.grants.push(Grant {
                id: gid,
                request: id,
                requester: request.requester.clone(),
                vm: p.vm,
                port: p.number,
                source: request.source.clone(),
                granted_at: now,
                expires_at,
                rules,
                firewall_rule,
                state: GrantState::Active,
            });
            self.requests[id.0 as usize].grants.push(gid);
            out.new_grants.push((gid, expires_at));
        }
        self.requests[id.0 as usize].state = RequestState::Granted;
    }

    /// The one place a grant changes state: removes its rules when it leaves `Active`, logs it.
    pub fn set_grant_state(
        &mut self,
        topology: &mut Topology,
        grant: GrantId,
        state: GrantState,
        now: Instant,
        out: &mut JitOutcome,
    ) {
        self.end_grant(topology, grant, state, now, out);
    }

    fn end_grant(
        &mut self,
        topology: &mut Topology,
        grant: GrantId,
        state: GrantState,
        now: Instant,
        out: &mut JitOutcome,
    ) {
        let g = self.grants[grant.0 as usize].clone();
        if g.state != GrantState::Active || state == GrantState::Active {
            return;
        }
        for (nsg, name) in &g.rules {
            self.delete_rule(topology, *nsg, name, now, out);
        }
        if let Some((fw, collection, mapped)) = &g.firewall_rule {
            let f = topology.firewall_mut(*fw);
            for group in &mut f.groups {
                group.collections.retain(|c| &c.name != collection);
            }
            let name = f.name.clone();
            out.changes
                .push(format!("- firewall {name} DNAT collection {collection} (public port {mapped})"));
            self.record(
                now,
                SECURITY_RP,
                "Create or Update Azure Firewall",
                &format!("{name}/natRuleCollections/{collection}"),
                "Succeeded",
                "JIT DNAT rule removed".into(),
            );
        }
        let reason = match &state {
            GrantState::Expired => "Expired",
            GrantState::Revoked { .. } => "UserRequested",
            GrantState::Superseded { .. } => "NewerRequestInitiated",
            GrantState::Active => "Initiated",
        };
        let vm_name = topology.vm(g.vm).name.clone();
        self.record(
            now,
            SECURITY_RP,
            "JIT port status change",
            &format!("vm '{vm_name}' port {}", g.port),
            "Succeeded",
            format!(
                "grant #{} of {}: Initiated => Revoked (statusReason: {reason}; {state})",
                g.id.0, g.requester
            ),
        );
        self.grants[grant.0 as usize].state = state;
        self.ended_at.insert(grant, now);
        out.ended_grants.push(grant);
    }

    /// Adds the JIT DNAT rule collection for one grant on a classic firewall; returns where it is.
    #[allow(clippy::too_many_arguments)]
    fn write_dnat(
        &mut self,
        topology: &mut Topology,
        fw: FirewallId,
        vm_name: &str,
        vm_ip: std::net::IpAddr,
        port: &super::PortPolicy,
        source: &AddressSpec,
        gid: GrantId,
        now: Instant,
        out: &mut JitOutcome,
    ) -> (FirewallId, String, u16) {
        let f = topology.firewall(fw);
        let used: Vec<u16> = f
            .groups
            .iter()
            .flat_map(|g| &g.collections)
            .filter_map(|c| match &c.rules {
                CollectionRules::Dnat(rules) => Some(rules.iter().map(|r| r.destination_port)),
                _ => None,
            })
            .flatten()
            .collect();
        // The API reports the chosen public port as `mappedPort`; nsgsim takes the first free one
        // from 50000 (model choice: Azure's choice is undocumented).
        let mapped = (50000..=u16::MAX).find(|p| !used.contains(p)).unwrap_or(50000);
        let public = f.public_ip.map(|p| topology.public_ip(p).address).unwrap_or(f.private_ip);
        let sources = match source {
            AddressSpec::Prefixes(p) => AddrSet::from_nets(p),
            _ => AddrSet::any(),
        };
        let protocols = match port.protocol {
            super::JitProtocol::Tcp => crate::net::ProtocolSet::single(crate::net::IpProtocol::TCP),
            super::JitProtocol::Udp => crate::net::ProtocolSet::single(crate::net::IpProtocol::UDP),
            super::JitProtocol::Any => {
                crate::net::ProtocolSet::of(&[crate::net::IpProtocol::TCP, crate::net::IpProtocol::UDP])
            }
        };
        let collection = format!("JIT-{vm_name}-{}-{}", port.number, gid.0);
        let rule = DnatRule {
            name: format!("JIT-{vm_name}-{}", port.number),
            protocols,
            sources,
            destination: public,
            destination_port: mapped,
            translated_address: vm_ip,
            translated_port: port.number,
        };
        let f = topology.firewall_mut(fw);
        if f.groups.is_empty() {
            f.groups.push(RuleCollectionGroup {
                name: "classic".into(),
                priority: 100,
                collections: Vec::new(),
            });
        }
        let priority = (100..=65000u32)
            .find(|p| !f.groups.iter().flat_map(|g| &g.collections).any(|c| c.priority == *p))
            .unwrap_or(65000);
        f.groups[0].collections.push(RuleCollection {
            name: collection.clone(),
            priority,
            rules: CollectionRules::Dnat(vec![rule]),
        });
        let name = f.name.clone();
        out.changes.push(format!("+ firewall {name} DNAT collection {collection}: {public}:{mapped} -> {vm_ip}:{} (priority {priority})", port.number));
        self.record(
            now,
            SECURITY_RP,
            "Create or Update Azure Firewall",
            &format!("{name}/natRuleCollections/{collection}"),
            "Succeeded",
            format!("JIT DNAT {public}:{mapped} -> {vm_ip}:{}", port.number),
        );
        (fw, collection, mapped)
    }

    fn remove_deny_rules(&mut self, topology: &mut Topology, vm: VmId, now: Instant, out: &mut JitOutcome) {
        let Some(config) = self.configured.get(&vm).cloned() else { return };
        for (nsg, _, name) in &config.deny_rules {
            self.delete_rule(topology, *nsg, name, now, out);
        }
        if let Some(c) = self.configured.get_mut(&vm) {
            c.deny_rules.clear();
        }
    }

    fn write_rule(
        &mut self,
        topology: &mut Topology,
        nsg: NsgId,
        rule: SecurityRule,
        now: Instant,
        out: &mut JitOutcome,
    ) {
        let nsg_name = topology.nsg(nsg).name.clone();
        let line = format!("+ {nsg_name} {}", crate::sim::describe_rule(topology, &rule));
        self.record(
            now,
            SECURITY_RP,
            "Create or Update Security Rule",
            &format!("{nsg_name}/securityRules/{}", rule.name),
            "Succeeded",
            format!("priority {} {} {}", rule.priority, rule.access, rule.destination_ports),
        );
        topology.nsg_mut(nsg).rules.push(rule);
        out.changes.push(line);
        if !out.changed_nsgs.contains(&nsg) {
            out.changed_nsgs.push(nsg);
        }
    }

    fn delete_rule(
        &mut self,
        topology: &mut Topology,
        nsg: NsgId,
        name: &str,
        now: Instant,
        out: &mut JitOutcome,
    ) {
        let n = topology.nsg(nsg);
        let Some(rule) = n.rules.iter().find(|r| r.name == name && r.direction == Direction::Inbound) else {
            return;
        };
        let line = format!("- {} {}", n.name, crate::sim::describe_rule(topology, rule));
        let resource = format!("{}/securityRules/{name}", n.name);
        topology.nsg_mut(nsg).rules.retain(|r| r.name != name);
        self.record(now, SECURITY_RP, "Delete Security Rule", &resource, "Succeeded", String::new());
        out.changes.push(line);
        if !out.changed_nsgs.contains(&nsg) {
            out.changed_nsgs.push(nsg);
        }
    }
}

fn roles_text(roles: &[String]) -> String {
    if roles.is_empty() { "none".into() } else { roles.join(", ") }
}

fn describe_ports(topology: &Topology, ports: &[PortRequest]) -> String {
    let parts: Vec<String> =
        ports.iter().map(|p| format!("{}:{}", topology.vm(p.vm).name, p.number)).collect();
    format!("access to {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::{JitProtocol, PortPolicy};
    use crate::model::Os;
    use crate::nsg::{Access, Nsg};

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().expect("valid literal")
    }

    struct Fixture {
        topology: Topology,
        vm: VmId,
        subnet_nsg: NsgId,
        nic_nsg: NsgId,
        t0: Instant,
    }

    /// One VM with NSGs on both its subnet and its NIC.
    fn fixture() -> Fixture {
        let mut t = Topology::new();
        let v = t.add_vnet("v", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let s = t.add_subnet(v, "s", "10.0.1.0/24".parse().expect("net")).expect("subnet");
        let subnet_nsg = t.add_nsg(Nsg { name: "subnet-nsg".into(), rules: vec![] }).expect("nsg");
        let nic_nsg = t.add_nsg(Nsg { name: "nic-nsg".into(), rules: vec![] }).expect("nsg");
        t.set_subnet_nsg(s, Some(subnet_nsg));
        let vm = t.add_vm("vm1", Os::Linux, false, ("sub", "rg")).expect("vm");
        let nic = t.add_nic("nic1", s, ip("10.0.1.4"), Some(vm)).expect("nic");
        t.set_nic_nsg(nic, Some(nic_nsg));
        Fixture {
            topology: t,
            vm,
            subnet_nsg,
            nic_nsg,
            t0: Instant::parse("2025-01-01T00:00:00Z").expect("valid"),
        }
    }

    fn user(name: &str, roles: &[&str], source: &str) -> User {
        User {
            name: name.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            source_ip: ip(source),
        }
    }

    fn ssh_policy(max_secs: i64, approvers: &[&str]) -> JitPolicy {
        JitPolicy {
            ports: vec![PortPolicy {
                number: 22,
                protocol: JitProtocol::Tcp,
                allowed_sources: AllowedSources::Prefixes(vec!["203.0.113.0/24".parse().expect("net")]),
                max_duration: Duration::from_secs(max_secs),
            }],
            approver_roles: approvers.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn jit_rules(t: &Topology, nsg: NsgId, access: Access) -> usize {
        t.nsg(nsg).rules.iter().filter(|r| crate::jit::is_jit_rule(&r.name) && r.access == access).count()
    }

    #[test]
    fn enable_writes_deny_rules_into_both_levels() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::Recommended);
        let out = jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &owner, f.t0);
        assert!(out.accepted, "{}", out.summary);
        assert_eq!(jit_rules(&f.topology, f.subnet_nsg, Access::Deny), 4);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 4);
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::Configured);
    }

    #[test]
    fn refusal_reasons() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let reader = user("r", &["Reader"], "203.0.113.2");
        let refused = jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &reader, f.t0);
        assert!(
            !refused.accepted && refused.summary.contains("jitNetworkAccessPolicies/write"),
            "{}",
            refused.summary
        );
        let not_configured = jit.request(
            &mut f.topology,
            "r0",
            &owner,
            vec![PortRequest { vm: f.vm, number: 22 }],
            Duration::from_secs(60),
            None,
            None,
            f.t0,
        );
        assert!(not_configured.summary.contains("not configured"), "{}", not_configured.summary);
        jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        let cases = [
            (&reader, 22, 600, None, "initiate/action"),
            (&owner, 3389, 600, None, "not in the JIT policy"),
            (&owner, 22, 3601, None, "exceeds the maximum"),
            (&owner, 22, 600, Some("198.51.100.0/24"), "outside the allowed source prefixes"),
        ];
        for (i, (who, port, secs, source, reason)) in cases.into_iter().enumerate() {
            let source = source.map(|s| s.parse().expect("net"));
            let out = jit.request(
                &mut f.topology,
                &format!("r{i}"),
                who,
                vec![PortRequest { vm: f.vm, number: port }],
                Duration::from_secs(secs),
                source,
                None,
                f.t0,
            );
            assert!(!out.accepted && out.summary.contains(reason), "case {i}: {}", out.summary);
            let r = jit.request_by_name(&format!("r{i}")).expect("recorded");
            assert_eq!(jit.request_status(r), RequestStatus::Refused);
        }
        // A narrower prefix inside the allowed range is accepted.
        let ok = jit.request(
            &mut f.topology,
            "narrow",
            &owner,
            vec![PortRequest { vm: f.vm, number: 22 }],
            Duration::from_secs(600),
            Some("203.0.113.128/25".parse().expect("net")),
            None,
            f.t0,
        );
        assert!(ok.accepted, "{}", ok.summary);
        assert!(
            jit.log()
                .entries()
                .iter()
                .any(|e| e.status == "Failed" && e.detail.contains("exceeds the maximum"))
        );
    }

    #[test]
    fn grant_lives_until_its_end_instant_and_supersession_keeps_the_newer() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let other = user("p", &["Contributor"], "203.0.113.9");
        jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        let first = jit.request(
            &mut f.topology,
            "first",
            &owner,
            vec![PortRequest { vm: f.vm, number: 22 }],
            Duration::from_secs(600),
            None,
            None,
            f.t0,
        );
        assert_eq!(first.new_grants.len(), 1);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 1);
        assert_eq!(jit.next_deadline(), Some(f.t0.plus(Duration::from_secs(600))));
        let (g1, end1) = first.new_grants[0];
        assert!(
            jit.expire(&mut f.topology, g1, end1.plus(Duration::from_secs(-1))).is_none(),
            "not due one second early"
        );
        let second = jit.request(
            &mut f.topology,
            "second",
            &other,
            vec![PortRequest { vm: f.vm, number: 22 }],
            Duration::from_secs(1200),
            None,
            None,
            f.t0.plus(Duration::from_secs(60)),
        );
        assert_eq!(
            jit.request_status(jit.request_by_name("first").expect("made")),
            RequestStatus::Superseded
        );
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 1, "the older allow rule is replaced");
        // The older grant's end passes with no effect on the newer one.
        assert!(jit.expire(&mut f.topology, g1, end1).is_none());
        let (g2, end2) = second.new_grants[0];
        let expired = jit.expire(&mut f.topology, g2, end2).expect("due");
        assert_eq!(expired.ended_grants, vec![g2]);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        assert_eq!(jit_rules(&f.topology, f.subnet_nsg, Access::Allow), 0);
        assert_eq!(jit.request_status(jit.request_by_name("second").expect("made")), RequestStatus::Expired);
    }

    #[test]
    fn approval_and_revoke() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let approver = user("sec", &["Security Admin"], "203.0.113.6");
        jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &["Security Admin"]).into(), &owner, f.t0);
        let pending = jit.request(
            &mut f.topology,
            "r",
            &dev,
            vec![PortRequest { vm: f.vm, number: 22 }],
            Duration::from_secs(900),
            None,
            None,
            f.t0,
        );
        assert!(pending.new_grants.is_empty());
        assert_eq!(jit.request_status(jit.request_by_name("r").expect("made")), RequestStatus::Pending);
        let wrong = jit.approve(&mut f.topology, "r", &owner, f.t0).expect("request exists");
        assert!(!wrong.accepted && wrong.summary.contains("approver roles"), "{}", wrong.summary);
        let later = f.t0.plus(Duration::from_secs(300));
        let ok = jit.approve(&mut f.topology, "r", &approver, later).expect("request exists");
        assert_eq!(ok.new_grants[0].1, later.plus(Duration::from_secs(900)), "the window starts at approval");
        let revoked = jit.revoke(&mut f.topology, "r", &dev, later).expect("request exists");
        assert_eq!(revoked.ended_grants.len(), 1);
        assert_eq!(jit.request_status(jit.request_by_name("r").expect("made")), RequestStatus::Revoked);
        assert!(jit.log().entries().iter().any(|e| e.operation == "Revoke JIT access" && e.extension));
        assert!(jit.approve(&mut f.topology, "nope", &approver, later).is_err());
    }

    #[test]
    fn nic_only_option_and_unsupported_vms() {
        let mut f = fixture();
        let options = JitOptions { levels: NsgLevels::NicOnly, ..JitOptions::default() };
        let mut jit = JitEngine::new(options, RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &owner, f.t0);
        assert_eq!(jit_rules(&f.topology, f.subnet_nsg, Access::Deny), 0);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 4);

        let mut t = fixture().topology;
        let s = t.subnet_ids().next().expect("subnet");
        let classic = t.add_vm("old", Os::Windows, true, ("sub", "rg")).expect("vm");
        t.add_nic("old-nic", s, ip("10.0.1.5"), Some(classic)).expect("nic");
        let jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        assert!(matches!(jit.status(&t, classic), Supportability::Unsupported(r) if r.contains("Classic")));
        let no_plan = JitEngine::new(
            JitOptions { defender_plan2: false, ..JitOptions::default() },
            RoleBook::default(),
            vec![],
        );
        assert!(
            matches!(no_plan.status(&t, classic), Supportability::Unsupported(r) if r.contains("Plan 2"))
        );
    }
}

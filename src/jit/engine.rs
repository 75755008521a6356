//! The JIT engine: per-VM configuration, requests, grants and their lifecycles.

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;

use crate::model::{
    CollectionRules, DnatRule, FirewallId, FirewallMode, NsgId, RuleCollection, RuleCollectionGroup,
    Topology, User, VmId,
};
use crate::net::AddrSet;
use crate::nsg::{AddressSpec, Direction, MAX_RULES_PER_NSG, NsgError, Priority, SecurityRule};
use crate::time::{Duration, Instant};

use super::log::SECURITY_RP;
use super::rules::{allow_blocker, allow_priority, allow_rule, covering_rules, deny_priority, deny_rule};
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
    /// Withdrawn while it waited for approval, with the reason (approval extension: JIT was
    /// disabled on one of its VMs).
    Cancelled(String),
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

/// A protected port that an existing rule still opens: the rule allows the port ahead of JIT's
/// deny rule, so JIT does not protect it (Defender's portal warns about these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenPort {
    /// The NSG.
    pub nsg: String,
    /// The protected port.
    pub port: u16,
    /// The existing allow rule.
    pub rule: String,
    /// Its priority.
    pub priority: u16,
    /// Its source, in words.
    pub source: String,
}

impl OpenPort {
    /// The warning Defender gives, in one line.
    pub fn warning(&self) -> String {
        format!(
            "NSG '{}': existing rule '{}' (priority {}) allows port {} from {} and keeps precedence over the JIT deny rule: JIT does not protect this port until it is removed",
            self.nsg, self.rule, self.priority, self.port, self.source
        )
    }
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

/// One grant of a request, worked out before anything is written: the port, the VM's address,
/// the priority of its allow rule in each NSG, and the firewall that also gets a DNAT rule.
#[derive(Clone, Debug)]
struct PlannedGrant {
    vm: VmId,
    port: super::PortPolicy,
    vm_ip: std::net::IpAddr,
    rules: Vec<(NsgId, u16)>,
    firewall: Option<FirewallId>,
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

    #[expect(clippy::too_many_arguments, reason = "one activity-log entry's fields")]
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
        self.write_policy(topology, vm, change, actor, now, false)
    }

    /// Edits the JIT policy of a configured VM, as the portal's Edit does (it is offered only on
    /// the Configured tab): what `change` gives replaces, the rest is kept. Refused, with the
    /// reason, on a VM where JIT is not enabled: an edit never enables JIT silently.
    pub fn edit(
        &mut self,
        topology: &mut Topology,
        vm: VmId,
        change: PolicyChange,
        actor: &User,
        now: Instant,
    ) -> JitOutcome {
        self.write_policy(topology, vm, change, actor, now, true)
    }

    fn write_policy(
        &mut self,
        topology: &mut Topology,
        vm: VmId,
        change: PolicyChange,
        actor: &User,
        now: Instant,
        edit_only: bool,
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
        let editing = self.configured.contains_key(&vm);
        if edit_only && !editing {
            let reason = format!(
                "vm '{vm_name}' is not configured for JIT ({}): Edit changes the policy of a configured VM; enable JIT on it first (EnableJit)",
                self.status(topology, vm)
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
        let nsgs = self.path_nsgs(topology, vm);
        let Some(nic) = topology.primary_nic(vm) else {
            return self.refuse(now, &actor.name, operation, &resource, format!("vm '{vm_name}' has no NIC"));
        };
        // Azure's limit of rules per NSG holds for JIT's writes as for anyone's: refuse before
        // changing anything.
        for &nsg in &nsgs {
            let n = topology.nsg(nsg);
            let own = self.configured.get(&vm).map_or(0, |c| {
                c.deny_rules.iter().filter(|(d, _, name)| *d == nsg && n.rule(name).is_some()).count()
            });
            let count = n.rules.len() - own + policy.ports.len();
            if count > MAX_RULES_PER_NSG {
                let limit = NsgError::TooManyRules { nsg: n.name.clone(), count };
                let reason = format!("JIT cannot write its deny rules for vm '{vm_name}': {limit}");
                return self.refuse(now, &actor.name, operation, &resource, reason);
            }
        }
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
        let config = VmJit { policy, nsgs, deny_rules, firewall };
        out.warnings.extend(open_ports_of(&config, topology, vm).iter().map(OpenPort::warning));
        if config.deny_rules.is_empty() && firewall.is_none() {
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
        self.configured.insert(vm, config);
        if editing {
            // A request that waits for approval on this VM and whose VMs now name no approver
            // role could never be approved or denied: cancel it rather than leave it pending for
            // ever. The requester asks again, and the new request is decided at once.
            let reason = format!(
                "the JIT policy of vm '{vm_name}' no longer names approver roles (edited by {}), so nobody could approve the request; request access again (nsgsim extension)",
                actor.name
            );
            let cancelled = self.cancel_pending(now, &actor.name, &reason, |jit, r| {
                r.ports.iter().any(|p| p.vm == vm) && jit.approvers_for(&r.ports).is_empty()
            });
            if !cancelled.is_empty() {
                out.summary.push_str(&format!(
                    "; pending request {} cancelled: no approver role is left (nsgsim extension)",
                    cancelled.join(", ")
                ));
            }
        }
        out
    }

    /// The protected ports of `vm` that existing rules still open: allow rules for the port that
    /// come before JIT's deny rule in an NSG JIT manages (Defender's portal warns about these;
    /// they keep precedence until someone removes them). Empty when JIT is not enabled.
    pub fn open_ports(&self, topology: &Topology, vm: VmId) -> Vec<OpenPort> {
        self.configured.get(&vm).map(|config| open_ports_of(config, topology, vm)).unwrap_or_default()
    }

    /// Disables JIT on `vm`: removes it from the policy, ends its active grants, cancels the
    /// requests that wait for approval on it (approval extension), and (unless the Learn-module
    /// option says otherwise) removes its deny rules.
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
        self.record(now, &actor.name, operation, &resource, "Succeeded", "JIT was disabled on the VM".into());
        // A request waiting for approval on this VM could never be granted now: cancel it
        // rather than leave it pending for ever.
        let reason = format!(
            "JIT was disabled on vm '{vm_name}' by {} while the request waited for approval (nsgsim extension)",
            actor.name
        );
        let cancelled =
            self.cancel_pending(now, &actor.name, &reason, |_, r| r.ports.iter().any(|p| p.vm == vm));
        out.summary = format!("disabled JIT on vm '{vm_name}'");
        if !cancelled.is_empty() {
            out.summary.push_str(&format!(
                "; pending request {} cancelled (nsgsim extension: it waited for approval)",
                cancelled.join(", ")
            ));
        }
        out
    }

    /// Requests access (`initiate`). Refusals are outcomes (`accepted == false`), recorded in the
    /// log and on the request. `source` is what to allow: `None` = the requester's IP,
    /// `AddressSpec::Any` = `*` (every IPv4 and IPv6 source, written `*` as Azure does), or
    /// prefixes.
    #[expect(clippy::too_many_arguments, reason = "the fields of the API's initiate request")]
    pub fn request(
        &mut self,
        topology: &mut Topology,
        name: &str,
        user: &User,
        ports: Vec<PortRequest>,
        duration: Duration,
        source: Option<AddressSpec>,
        justification: Option<String>,
        now: Instant,
    ) -> JitOutcome {
        let source_spec = source.unwrap_or_else(|| AddressSpec::Prefixes(vec![IpNet::from(user.source_ip)]));
        let resource = request_resource(topology, &ports);
        let operation = "Initiate JIT Network Access Policy";
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
        let checked =
            self.check_role(user).and_then(|()| self.check_request(topology, &ports, duration, &source_spec));
        if let Err(reason) = checked {
            request.state = RequestState::Refused(reason.clone());
            self.requests.push(request);
            return self.refuse(now, &user.name, operation, &resource, reason);
        }
        let approvers = self.approvers_for(&ports);
        let what = describe_ports(topology, &ports);
        if !approvers.is_empty() {
            self.requests.push(request);
            self.record_extension(
                now,
                &user.name,
                operation,
                &resource,
                "Accepted",
                format!("pending approval by {}", approvers.join(" or ")),
            );
            return JitOutcome {
                summary: format!(
                    "{} requested {what} for {duration}: pending approval by {} (nsgsim extension)",
                    user.name,
                    approvers.join(" or ")
                ),
                accepted: true,
                ..JitOutcome::default()
            };
        }
        let plan = match self.plan_grants(topology, &request) {
            Ok(plan) => plan,
            Err(reason) => {
                request.state = RequestState::Refused(reason.clone());
                self.requests.push(request);
                return self.refuse(now, &user.name, operation, &resource, reason);
            }
        };
        self.requests.push(request);
        self.record(
            now,
            &user.name,
            operation,
            &resource,
            "Succeeded",
            format!("{what} for {duration} from {}", topology.describe_address(&source_spec)),
        );
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        let superseded = self.grant_request(topology, id, plan, now, &mut out);
        out.summary = format!(
            "{} was granted {what} from {} until {}{}{}",
            user.name,
            topology.describe_address(&source_spec),
            now.plus(duration),
            self.mapped_ports(topology, &out.new_grants),
            superseded_text(&superseded)
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

    /// Whether `user`'s roles allow requesting access.
    fn check_role(&self, user: &User) -> Result<(), String> {
        self.roles.check(&user.roles, Permission::Request).map_err(|action| {
            format!(
                "user '{}' (roles: {}) lacks {action}, needed to request JIT access",
                user.name,
                roles_text(&user.roles)
            )
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
        source: &AddressSpec,
    ) -> Result<(), String> {
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
                    topology.describe_address(source),
                    port.allowed_sources,
                    p.number
                ));
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
        let operation = "Approve JIT request";
        if let Some(reason) = self.approval_refusal(topology, id, approver) {
            return Ok(self.refuse_extension(now, &approver.name, operation, &resource, reason));
        }
        let request = self.requests[id.0 as usize].clone();
        let plan = self
            .check_request(topology, &request.ports, request.duration, &request.source)
            .and_then(|()| self.plan_grants(topology, &request));
        let plan = match plan {
            Ok(plan) => plan,
            Err(reason) => {
                let reason = format!("request '{name}' no longer passes its checks: {reason}");
                self.requests[id.0 as usize].state = RequestState::Refused(reason.clone());
                return Ok(self.refuse_extension(now, &approver.name, operation, &resource, reason));
            }
        };
        let mut out = JitOutcome { accepted: true, ..JitOutcome::default() };
        self.record_extension(now, &approver.name, operation, &resource, "Succeeded", "approved".into());
        let superseded = self.grant_request(topology, id, plan, now, &mut out);
        out.summary = format!(
            "{} approved request '{name}' (nsgsim extension): {} has {} from {} until {}{}{}",
            approver.name,
            request.requester,
            describe_ports(topology, &request.ports),
            topology.describe_address(&request.source),
            now.plus(request.duration),
            self.mapped_ports(topology, &out.new_grants),
            superseded_text(&superseded)
        );
        Ok(out)
    }

    /// Denies a pending request (nsgsim extension).
    ///
    /// # Errors
    /// When no request has that name.
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

    /// Cancels every pending request that `stuck` picks, recording `reason` as `actor`'s
    /// cancellation in the log; returns `'name' of requester` for each, for the summary.
    fn cancel_pending(
        &mut self,
        now: Instant,
        actor: &str,
        reason: &str,
        stuck: impl Fn(&Self, &Request) -> bool,
    ) -> Vec<String> {
        let picked: Vec<usize> = (0..self.requests.len())
            .filter(|&i| self.requests[i].state == RequestState::Pending && stuck(self, &self.requests[i]))
            .collect();
        let mut cancelled = Vec::new();
        for i in picked {
            let r = &self.requests[i];
            let (name, requester) = (r.name.clone(), r.requester.clone());
            self.requests[i].state = RequestState::Cancelled(reason.to_string());
            let resource = format!("JIT request '{name}'");
            self.record_extension(
                now,
                actor,
                "Cancel JIT request",
                &resource,
                "Succeeded",
                reason.to_string(),
            );
            cancelled.push(format!("'{name}' of {requester}"));
        }
        cancelled
    }

    /// The approver roles the current policies of the VMs of `ports` name, sorted, deduplicated.
    fn approvers_for(&self, ports: &[PortRequest]) -> Vec<String> {
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
    fn approval_refusal(&self, topology: &Topology, id: RequestId, approver: &User) -> Option<String> {
        let r = &self.requests[id.0 as usize];
        if r.state != RequestState::Pending {
            let why = match &r.state {
                RequestState::Cancelled(why) | RequestState::Refused(why) => format!(": {why}"),
                _ => String::new(),
            };
            return Some(format!(
                "request '{}' is not pending (it is {}{why})",
                r.name,
                self.request_status(r)
            ));
        }
        if r.requester == approver.name && !self.options.allow_self_approval {
            return Some(format!("'{}' cannot approve their own request", approver.name));
        }
        let allowed = self.approvers_for(&r.ports);
        if allowed.is_empty() {
            let mut vms: Vec<&str> = r.ports.iter().map(|p| topology.vm(p.vm).name.as_str()).collect();
            vms.sort();
            vms.dedup();
            return Some(format!(
                "the JIT policy of vm {} names no approver roles any more, so nobody can approve or deny request '{}'",
                vms.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", "),
                r.name
            ));
        }
        if !approver.roles.iter().any(|role| allowed.contains(role)) {
            return Some(format!(
                "user '{}' (roles: {}) holds none of the approver roles {}",
                approver.name,
                roles_text(&approver.roles),
                allowed.join(", ")
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

    /// Works out every allow rule a request needs, without writing anything, so that a request
    /// either gets all its grants or none: each NSG JIT manages for the VM must have a free
    /// priority ahead of the JIT deny rule for the port and of any existing deny rule that
    /// would defeat the grant, and room under Azure's limit of rules per NSG.
    ///
    /// # Errors
    /// The reason the grant cannot take effect.
    fn plan_grants(&self, topology: &Topology, request: &Request) -> Result<Vec<PlannedGrant>, String> {
        let source = match &request.source {
            AddressSpec::Prefixes(p) => AddrSet::from_nets(p),
            _ => AddrSet::any(),
        };
        // Rules that older grants on the same ports will give up, and priorities this plan
        // has already taken, per NSG.
        let mut freed: BTreeMap<NsgId, Vec<String>> = BTreeMap::new();
        for p in &request.ports {
            for g in self
                .grants
                .iter()
                .filter(|g| g.vm == p.vm && g.port == p.number && g.state == GrantState::Active)
            {
                for (nsg, name) in &g.rules {
                    freed.entry(*nsg).or_default().push(name.clone());
                }
            }
        }
        let mut reserved: BTreeMap<NsgId, Vec<u16>> = BTreeMap::new();
        let mut plan = Vec::new();
        for p in &request.ports {
            let vm_name = &topology.vm(p.vm).name;
            let config = self
                .configured
                .get(&p.vm)
                .ok_or_else(|| format!("vm '{vm_name}' is not configured for JIT"))?;
            let port = config
                .policy
                .port(p.number)
                .cloned()
                .ok_or_else(|| format!("port {} is not in the JIT policy of vm '{vm_name}'", p.number))?;
            let nic = topology.primary_nic(p.vm).ok_or_else(|| format!("vm '{vm_name}' has no NIC"))?;
            let vm_ip = topology.nic(nic).private_ip;
            let ctx = topology.resolve_context_for_subnet(topology.nic(nic).subnet);
            let mut rules = Vec::new();
            for &nsg in &config.nsgs {
                let n = topology.nsg(nsg);
                let gone = freed.get(&nsg).cloned().unwrap_or_default();
                let taken_here = reserved.entry(nsg).or_default();
                let count = n.rules.iter().filter(|r| !gone.contains(&r.name)).count() + taken_here.len() + 1;
                if count > MAX_RULES_PER_NSG {
                    let limit = NsgError::TooManyRules { nsg: n.name.clone(), count };
                    return Err(format!(
                        "JIT cannot write the allow rule for port {} of vm '{vm_name}': {limit}",
                        p.number
                    ));
                }
                let jit_deny = config
                    .deny_rules
                    .iter()
                    .find(|(d, port_no, _)| *d == nsg && *port_no == p.number)
                    .and_then(|(_, _, name)| n.rule(name))
                    .map(|r| (r.priority.0, r.name.as_str()));
                let blocker = allow_blocker(n, &port, vm_ip, &source, &ctx, jit_deny);
                let free = |priority: u16| {
                    !taken_here.contains(&priority)
                        && !n.rules.iter().any(|r| {
                            r.direction == Direction::Inbound
                                && r.priority.0 == priority
                                && !gone.contains(&r.name)
                        })
                };
                let Some(priority) = allow_priority(blocker.as_ref(), free) else {
                    // Without a blocker, 3,997 priorities serve at most 1,000 rules: one is free.
                    let Some(b) = blocker else {
                        return Err(format!("NSG '{}' has no free inbound priority", n.name));
                    };
                    let what = if b.is_jit_deny {
                        format!("the JIT deny rule '{}'", b.name)
                    } else {
                        format!(
                            "existing rule '{}', which denies port {} from {}",
                            b.name,
                            p.number,
                            topology.describe_address(&request.source)
                        )
                    };
                    let taken = match b.priority - Priority::MIN_USER {
                        0 => "no priority comes before it".to_string(),
                        1 => format!("priority {} is taken", Priority::MIN_USER),
                        _ => format!("priorities {}-{} are all taken", Priority::MIN_USER, b.priority - 1),
                    };
                    return Err(format!(
                        "NSG '{}' has no free priority ahead of {what} (priority {}) for port {} of vm '{vm_name}': {taken}, and an allow rule placed after it would not open the port",
                        n.name, b.priority, p.number
                    ));
                };
                taken_here.push(priority);
                rules.push((nsg, priority));
            }
            plan.push(PlannedGrant { vm: p.vm, port, vm_ip, rules, firewall: config.firewall });
        }
        Ok(plan)
    }

    /// Grants a request as `plan` (from [`Self::plan_grants`]) says: supersedes older grants on
    /// the same ports, writes the allow rules (and DNAT rules), and marks the request granted.
    /// Returns, one line each, the grants it superseded, for the narrative.
    fn grant_request(
        &mut self,
        topology: &mut Topology,
        id: RequestId,
        plan: Vec<PlannedGrant>,
        now: Instant,
        out: &mut JitOutcome,
    ) -> Vec<String> {
        let request = self.requests[id.0 as usize].clone();
        let expires_at = now.plus(request.duration);
        let first = self.grants.len() as u32;
        // A newer request for the same port supersedes the older one, whoever made it.
        let mut superseded = Vec::new();
        for (i, planned) in plan.iter().enumerate() {
            let gid = GrantId(first + i as u32);
            let older: Vec<GrantId> = self
                .grants
                .iter()
                .filter(|g| {
                    g.vm == planned.vm && g.port == planned.port.number && g.state == GrantState::Active
                })
                .map(|g| g.id)
                .collect();
            for o in older {
                let g = self.grant(o);
                superseded.push(format!(
                    "{}'s grant #{} for {}:{} from {} (request '{}', until {})",
                    g.requester,
                    o.0,
                    topology.vm(g.vm).name,
                    g.port,
                    topology.describe_address(&g.source),
                    self.requests[g.request.0 as usize].name,
                    g.expires_at
                ));
                self.end_grant(topology, o, GrantState::Superseded { by: gid }, now, out);
            }
        }
        for (i, planned) in plan.into_iter().enumerate() {
            let gid = GrantId(first + i as u32);
            let vm_name = topology.vm(planned.vm).name.clone();
            let mut rules = Vec::new();
            for (nsg, priority) in planned.rules {
                let seed = self.next_seed();
                let rule =
                    allow_rule(&vm_name, planned.vm_ip, &planned.port, &request.source, priority, seed);
                rules.push((nsg, rule.name.clone()));
                self.write_rule(topology, nsg, rule, now, out);
            }
            let firewall_rule = planned.firewall.map(|fw| {
                self.write_dnat(
                    topology,
                    fw,
                    &vm_name,
                    planned.vm_ip,
                    &planned.port,
                    &request.source,
                    gid,
                    now,
                    out,
                )
            });
            self.grants.push(Grant {
                id: gid,
                request: id,
                requester: request.requester.clone(),
                vm: planned.vm,
                port: planned.port.number,
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
        superseded
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
    #[expect(clippy::too_many_arguments, reason = "the grant's facts a DNAT rule is made of")]
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
        let line = format!("+ {nsg_name} {}", topology.describe_rule(&rule));
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
        let line = format!("- {} {}", n.name, topology.describe_rule(rule));
        let resource = format!("{}/securityRules/{name}", n.name);
        topology.nsg_mut(nsg).rules.retain(|r| r.name != name);
        self.record(now, SECURITY_RP, "Delete Security Rule", &resource, "Succeeded", String::new());
        out.changes.push(line);
        if !out.changed_nsgs.contains(&nsg) {
            out.changed_nsgs.push(nsg);
        }
    }
}

/// The protected ports of `vm` (configured as `config`) that existing allow rules still open.
fn open_ports_of(config: &VmJit, topology: &Topology, vm: VmId) -> Vec<OpenPort> {
    let Some(nic) = topology.primary_nic(vm) else { return Vec::new() };
    let vm_ip = topology.nic(nic).private_ip;
    let ctx = topology.resolve_context_for_subnet(topology.nic(nic).subnet);
    let mut open = Vec::new();
    for &nsg in &config.nsgs {
        let n = topology.nsg(nsg);
        for port in &config.policy.ports {
            let deny_at = config
                .deny_rules
                .iter()
                .find(|(d, number, _)| *d == nsg && *number == port.number)
                .and_then(|(_, _, name)| n.rule(name))
                .map_or(u16::MAX, |r| r.priority.0);
            for existing in covering_rules(n, port, vm_ip, &ctx) {
                if existing.access == crate::nsg::Access::Allow && existing.priority.0 < deny_at {
                    open.push(OpenPort {
                        nsg: n.name.clone(),
                        port: port.number,
                        rule: existing.name.clone(),
                        priority: existing.priority.0,
                        source: topology.describe_address(&existing.source),
                    });
                }
            }
        }
    }
    open
}

fn roles_text(roles: &[String]) -> String {
    if roles.is_empty() { "none".into() } else { roles.join(", ") }
}

/// The resource a request acts on, as its log entries name it.
fn request_resource(topology: &Topology, ports: &[PortRequest]) -> String {
    let vms: std::collections::BTreeSet<&str> =
        ports.iter().map(|p| topology.vm(p.vm).name.as_str()).collect();
    format!("jitNetworkAccessPolicies/default (vm {})", vms.into_iter().collect::<Vec<_>>().join(", "))
}

/// "; this supersedes …" for the grants a new grant replaced, or nothing.
fn superseded_text(superseded: &[String]) -> String {
    if superseded.is_empty() {
        String::new()
    } else {
        format!(
            "; this supersedes {} (statusReason NewerRequestInitiated: that access ends now)",
            superseded.join(" and ")
        )
    }
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
        t.set_subnet_nsg(s, Some(subnet_nsg)).expect("the subnet takes an NSG");
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
            let source = source.map(net);
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
            Some(net("203.0.113.128/25")),
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

    // ---- helpers for the focused tests below ----

    fn rule(name: &str, priority: u16, access: Access, port: u16, source: AddressSpec) -> SecurityRule {
        SecurityRule {
            name: name.into(),
            priority: crate::nsg::Priority(priority),
            direction: Direction::Inbound,
            access,
            protocol: crate::nsg::RuleProtocol::Tcp,
            source,
            source_ports: crate::nsg::PortSpec::any(),
            destination: AddressSpec::Any,
            destination_ports: crate::nsg::PortSpec::single(port),
            description: String::new(),
            kind: crate::nsg::RuleKind::Security,
        }
    }

    fn at(t0: Instant, secs: i64) -> Instant {
        t0.plus(Duration::from_secs(secs))
    }

    /// Requests port `port` of the fixture's VM for `secs` seconds, `at_secs` after the start.
    #[expect(clippy::too_many_arguments, reason = "a request's fields, spelt out in each test")]
    fn ask(
        jit: &mut JitEngine,
        f: &mut Fixture,
        name: &str,
        who: &User,
        port: u16,
        secs: i64,
        source: Option<AddressSpec>,
        at_secs: i64,
    ) -> JitOutcome {
        let now = f.t0.plus(Duration::from_secs(at_secs));
        jit.request(
            &mut f.topology,
            name,
            who,
            vec![PortRequest { vm: f.vm, number: port }],
            Duration::from_secs(secs),
            source,
            None,
            now,
        )
    }

    fn status_of(jit: &JitEngine, name: &str) -> RequestStatus {
        jit.request_status(jit.request_by_name(name).expect("request made"))
    }

    fn allow_sources(t: &Topology, nsg: NsgId) -> Vec<AddressSpec> {
        t.nsg(nsg)
            .rules
            .iter()
            .filter(|r| crate::jit::is_jit_rule(&r.name) && r.access == Access::Allow)
            .map(|r| r.source.clone())
            .collect()
    }

    fn net(s: &str) -> AddressSpec {
        AddressSpec::Prefixes(vec![s.parse().expect("valid literal")])
    }

    /// An engine with the fixture's VM enabled for SSH (max one hour, sources 203.0.113.0/24).
    fn enabled(options: JitOptions, approvers: &[&str]) -> (Fixture, JitEngine, User) {
        let mut f = fixture();
        let mut jit = JitEngine::new(options, RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let out = jit.enable(&mut f.topology, f.vm, ssh_policy(3600, approvers).into(), &owner, f.t0);
        assert!(out.accepted, "{}", out.summary);
        (f, jit, owner)
    }

    /// A refused request writes nothing, is Refused with the reason, and is logged as Failed.
    #[track_caller]
    fn assert_refused(jit: &JitEngine, f: &Fixture, name: &str, out: &JitOutcome, reason: &str) {
        assert!(!out.accepted, "{}", out.summary);
        assert!(out.summary.contains(reason), "{} lacks {reason:?}", out.summary);
        assert!(out.new_grants.is_empty() && out.changed_nsgs.is_empty());
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        assert_eq!(status_of(jit, name), RequestStatus::Refused);
        let r = jit.request_by_name(name).expect("recorded");
        assert!(matches!(&r.state, RequestState::Refused(why) if why.contains(reason)), "{:?}", r.state);
        let last = jit.log().entries().last().expect("logged");
        assert_eq!(
            (last.status.as_str(), last.operation.as_str()),
            ("Failed", "Initiate JIT Network Access Policy")
        );
        assert!(last.detail.contains(reason), "{}", last.detail);
    }

    // ---- refusal reasons, one each ----

    #[test]
    fn refuses_a_role_without_initiate() {
        let (mut f, mut jit, _) = enabled(JitOptions::default(), &[]);
        let reader = user("r", &["Reader"], "203.0.113.2");
        let out = ask(&mut jit, &mut f, "r", &reader, 22, 600, None, 0);
        assert_refused(&jit, &f, "r", &out, "user 'r' (roles: Reader) lacks");
        assert!(out.summary.contains("initiate/action"), "{}", out.summary);
        // Security Reader may only view (S17), whatever a training text says.
        let sec_reader = user("sr", &["Security Reader"], "203.0.113.2");
        let out = ask(&mut jit, &mut f, "sr", &sec_reader, 22, 600, None, 0);
        assert_refused(&jit, &f, "sr", &out, "initiate/action");
        let nobody = user("n", &[], "203.0.113.2");
        let out = ask(&mut jit, &mut f, "n", &nobody, 22, 600, None, 0);
        assert_refused(&jit, &f, "n", &out, "(roles: none)");
    }

    #[test]
    fn refuses_a_vm_not_configured() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let out = ask(&mut jit, &mut f, "r", &owner, 22, 600, None, 0);
        assert_refused(&jit, &f, "r", &out, "vm 'vm1' is not configured for JIT (Recommended)");
    }

    #[test]
    fn refuses_a_port_not_in_the_policy() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let out = ask(&mut jit, &mut f, "r", &owner, 3389, 600, None, 0);
        assert_refused(
            &jit,
            &f,
            "r",
            &out,
            "port 3389 is not in the JIT policy of vm 'vm1' (configured: 22)",
        );
    }

    #[test]
    fn refuses_a_duration_over_the_maximum_and_accepts_the_maximum() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let out = ask(&mut jit, &mut f, "long", &owner, 22, 3601, None, 0);
        assert_refused(&jit, &f, "long", &out, "exceeds the maximum 1h (PT1H) for port 22");
        let out = ask(&mut jit, &mut f, "zero", &owner, 22, 0, None, 0);
        assert_refused(&jit, &f, "zero", &out, "is not positive");
        let exact = ask(&mut jit, &mut f, "exact", &owner, 22, 3600, None, 0);
        assert!(exact.accepted, "{}", exact.summary);
        assert_eq!(exact.new_grants[0].1, at(f.t0, 3600));
    }

    #[test]
    fn refuses_a_source_outside_the_allowed_range() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let outsider = user("x", &["Owner"], "198.51.100.7");
        // The requester's own IP is the default source.
        let out = ask(&mut jit, &mut f, "own-ip", &outsider, 22, 600, None, 0);
        assert_refused(
            &jit,
            &f,
            "own-ip",
            &out,
            "source 198.51.100.7 is outside the allowed source prefixes 203.0.113.0/24",
        );
        // A range that only overlaps the allowed one is outside it.
        let out = ask(&mut jit, &mut f, "wide", &owner, 22, 600, Some(net("203.0.112.0/23")), 0);
        assert_refused(&jit, &f, "wide", &out, "outside the allowed source prefixes");
        // `*` is outside any list of prefixes.
        let out = ask(&mut jit, &mut f, "any", &owner, 22, 600, Some(AddressSpec::Any), 0);
        assert_refused(&jit, &f, "any", &out, "source * is outside");
    }

    // ---- the allow rule's placement (audit: strict deny placement) ----

    #[test]
    fn strict_placement_refuses_a_grant_whose_allow_could_not_precede_the_deny() {
        let mut f = fixture();
        let options =
            JitOptions { levels: NsgLevels::NicOnly, strict_deny_placement: true, ..JitOptions::default() };
        let mut jit = JitEngine::new(options, RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let rules = &mut f.topology.nsg_mut(f.nic_nsg).rules;
        for p in 100..=104 {
            rules.push(rule(&format!("r{p}"), p, Access::Allow, 8000 + p, AddressSpec::Any));
        }
        rules.push(rule("ssh-office", 106, Access::Allow, 22, net("198.51.100.0/24")));
        let policy = JitPolicy {
            ports: vec![PortPolicy {
                number: 22,
                protocol: JitProtocol::Tcp,
                allowed_sources: AllowedSources::Any,
                max_duration: Duration::from_secs(3600),
            }],
            approver_roles: vec![],
        };
        jit.enable(&mut f.topology, f.vm, policy.into(), &owner, f.t0);
        let deny = f
            .topology
            .nsg(f.nic_nsg)
            .rules
            .iter()
            .find(|r| r.name.starts_with("SecurityCenter-JITRule_-"))
            .expect("deny written")
            .priority
            .0;
        assert_eq!(deny, 105, "strict: above ssh-office at 106");
        let out = ask(&mut jit, &mut f, "r", &owner, 22, 600, None, 60);
        assert_refused(&jit, &f, "r", &out, "NSG 'nic-nsg' has no free priority ahead of the JIT deny rule");
        assert!(
            out.summary.contains("(priority 105)")
                && out.summary.contains("priorities 100-104 are all taken"),
            "{}",
            out.summary
        );
    }

    #[test]
    fn an_existing_deny_for_the_source_is_respected_and_other_sources_are_not_blocked() {
        let mut f = fixture();
        let options = JitOptions { levels: NsgLevels::NicOnly, ..JitOptions::default() };
        let mut jit = JitEngine::new(options, RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let rules = &mut f.topology.nsg_mut(f.nic_nsg).rules;
        rules.push(rule("taken", 100, Access::Allow, 80, AddressSpec::Any));
        rules.push(rule("deny-bad-range", 101, Access::Deny, 22, net("203.0.113.128/25")));
        jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        let bad = user("b", &["Owner"], "203.0.113.200");
        let out = ask(&mut jit, &mut f, "bad", &bad, 22, 600, None, 0);
        assert_refused(
            &jit,
            &f,
            "bad",
            &out,
            "ahead of existing rule 'deny-bad-range', which denies port 22 from 203.0.113.200",
        );
        let ok = ask(&mut jit, &mut f, "ok", &owner, 22, 600, None, 0);
        assert!(ok.accepted, "{}", ok.summary);
        let allow = f
            .topology
            .nsg(f.nic_nsg)
            .rules
            .iter()
            .find(|r| r.access == Access::Allow && crate::jit::is_jit_rule(&r.name))
            .expect("written");
        assert_eq!(
            allow.priority.0, 102,
            "the first free priority: the deny for other sources does not matter"
        );
    }

    #[test]
    fn jit_rule_writes_respect_the_rule_limit_per_nsg() {
        let mut f = fixture();
        let owner = user("o", &["Owner"], "203.0.113.1");
        // 997 rules: enabling the four default ports would make 1,001.
        let filler: Vec<SecurityRule> = (0..997)
            .map(|i| rule(&format!("f{i}"), 1000 + i, Access::Allow, 8080, AddressSpec::Any))
            .collect();
        f.topology.nsg_mut(f.nic_nsg).rules = filler.clone();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let out = jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &owner, f.t0);
        assert!(!out.accepted, "{}", out.summary);
        assert!(
            out.summary.contains("NSG 'nic-nsg' has 1001 rules; Azure allows at most 1000"),
            "{}",
            out.summary
        );
        assert_eq!(f.topology.nsg(f.nic_nsg).rules.len(), 997, "nothing written");
        assert_eq!(
            jit_rules(&f.topology, f.subnet_nsg, Access::Deny),
            0,
            "nothing written at the other level either"
        );
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::Recommended);
        // One port fits (998); its grant would be the 999th... and with one more filler, the 1,001st.
        let out = jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert!(out.accepted, "{}", out.summary);
        f.topology.nsg_mut(f.nic_nsg).rules.push(rule("f-last", 999, Access::Allow, 8081, AddressSpec::Any));
        f.topology.nsg_mut(f.nic_nsg).rules.push(rule("f-last2", 998, Access::Allow, 8081, AddressSpec::Any));
        assert_eq!(f.topology.nsg(f.nic_nsg).rules.len(), 1000);
        let out = ask(&mut jit, &mut f, "full", &owner, 22, 600, None, 0);
        assert_refused(&jit, &f, "full", &out, "NSG 'nic-nsg' has 1001 rules; Azure allows at most 1000");
        assert_eq!(
            jit_rules(&f.topology, f.subnet_nsg, Access::Allow),
            0,
            "no half grant at the subnet level"
        );
    }

    #[test]
    fn a_source_of_star_is_written_as_star() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let policy = JitPolicy { ports: default_ports(), approver_roles: vec![] };
        jit.edit(&mut f.topology, f.vm, policy.into(), &owner, f.t0);
        let out = ask(&mut jit, &mut f, "any", &owner, 22, 600, Some(AddressSpec::Any), 0);
        assert!(out.accepted, "{}", out.summary);
        assert!(out.summary.contains("from * until"), "{}", out.summary);
        assert_eq!(allow_sources(&f.topology, f.nic_nsg), vec![AddressSpec::Any]);
        assert_eq!(allow_sources(&f.topology, f.subnet_nsg), vec![AddressSpec::Any]);
        let grant = jit.grant(out.new_grants[0].0);
        assert_eq!(grant.source, AddressSpec::Any, "IPv4 and IPv6, not 0.0.0.0/0");
    }

    // ---- expiry, revoke, overlap, supersession ----

    #[test]
    fn expiry_happens_at_the_exact_end_instant() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let out = ask(&mut jit, &mut f, "r", &owner, 22, 600, None, 60);
        let (g, end) = out.new_grants[0];
        assert_eq!(end, at(f.t0, 660));
        assert_eq!(jit.next_deadline(), Some(end));
        let early = end.plus(Duration::from_secs(-1));
        assert!(jit.expire(&mut f.topology, g, early).is_none(), "one second before the end: still active");
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 1);
        assert_eq!(status_of(&jit, "r"), RequestStatus::Active);
        let expired = jit.expire(&mut f.topology, g, end).expect("due at the end instant");
        assert_eq!(expired.ended_grants, vec![g]);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        assert_eq!(jit_rules(&f.topology, f.subnet_nsg, Access::Allow), 0);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 1, "the deny rule stays");
        assert_eq!(status_of(&jit, "r"), RequestStatus::Expired);
        assert_eq!(jit.grant_ended_at(g), Some(end));
        assert_eq!(jit.next_deadline(), None);
        assert!(jit.expire(&mut f.topology, g, end).is_none(), "expires once");
        assert!(jit.log().entries().iter().any(|e| e.detail.contains("statusReason: Expired")));
    }

    #[test]
    fn revoke_ends_grants_for_the_requester_or_a_configurer_only() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let stranger = user("s", &["JIT Access Role"], "203.0.113.6");
        ask(&mut jit, &mut f, "r", &dev, 22, 600, None, 0);
        let refused = jit.revoke(&mut f.topology, "r", &stranger, at(f.t0, 10)).expect("exists");
        assert!(
            !refused.accepted
                && refused.summary.contains("neither the requester nor allowed to configure JIT")
        );
        assert_eq!(status_of(&jit, "r"), RequestStatus::Active);
        let by_owner = jit.revoke(&mut f.topology, "r", &owner, at(f.t0, 20)).expect("exists");
        assert!(by_owner.accepted && by_owner.summary.contains("1 grant(s) ended"), "{}", by_owner.summary);
        assert!(by_owner.summary.contains("nsgsim extension"));
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        assert_eq!(status_of(&jit, "r"), RequestStatus::Revoked);
        assert_eq!(jit.grant_ended_at(jit.request_by_name("r").expect("made").grants[0]), Some(at(f.t0, 20)));
        // Its queued expiry later does nothing.
        let g = jit.request_by_name("r").expect("made").grants[0];
        assert!(jit.expire(&mut f.topology, g, at(f.t0, 600)).is_none());
        // The requester may revoke their own, once there is something to revoke.
        ask(&mut jit, &mut f, "r2", &dev, 22, 600, None, 30);
        let own = jit.revoke(&mut f.topology, "r2", &dev, at(f.t0, 40)).expect("exists");
        assert!(own.accepted, "{}", own.summary);
        assert!(jit.log().entries().iter().any(|e| e.detail.contains("statusReason: UserRequested")));
        assert!(jit.revoke(&mut f.topology, "none", &dev, at(f.t0, 40)).is_err());
    }

    #[test]
    fn a_superseded_grant_ending_leaves_the_newer_grant_for_the_port_alone() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let bob = user("bob", &["Contributor"], "203.0.113.9");
        let first = ask(&mut jit, &mut f, "a", &owner, 22, 600, None, 0);
        let second = ask(&mut jit, &mut f, "b", &bob, 22, 3600, None, 60);
        let (g1, end1) = first.new_grants[0];
        let (g2, end2) = second.new_grants[0];
        assert!(jit.expire(&mut f.topology, g1, end1).is_none(), "the superseded grant's end passes quietly");
        assert_eq!(allow_sources(&f.topology, f.nic_nsg), vec![net("203.0.113.9/32")]);
        assert_eq!(status_of(&jit, "b"), RequestStatus::Active);
        assert_eq!(jit.next_deadline(), Some(end2));
        jit.expire(&mut f.topology, g2, end2).expect("due");
        assert!(allow_sources(&f.topology, f.nic_nsg).is_empty());
    }

    #[test]
    fn grants_for_the_same_port_on_two_vms_end_independently() {
        let mut f = fixture();
        let s = f.topology.subnet_ids().next().expect("subnet");
        let vm2 = f.topology.add_vm("vm2", Os::Linux, false, ("sub", "rg")).expect("vm");
        f.topology.add_nic("nic2", s, ip("10.0.1.5"), Some(vm2)).expect("nic");
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        jit.enable(&mut f.topology, vm2, ssh_policy(3600, &[]).into(), &owner, f.t0);
        let short = ask(&mut jit, &mut f, "short", &owner, 22, 600, None, 0);
        let long = jit.request(
            &mut f.topology,
            "long",
            &owner,
            vec![PortRequest { vm: vm2, number: 22 }],
            Duration::from_secs(1200),
            None,
            None,
            f.t0,
        );
        assert_eq!(status_of(&jit, "short"), RequestStatus::Active, "another VM's grant supersedes nothing");
        let (g1, end1) = short.new_grants[0];
        jit.expire(&mut f.topology, g1, end1).expect("due");
        assert_eq!(status_of(&jit, "short"), RequestStatus::Expired);
        assert_eq!(status_of(&jit, "long"), RequestStatus::Active);
        assert_eq!(jit.next_deadline(), Some(long.new_grants[0].1));
        assert_eq!(
            jit_rules(&f.topology, f.subnet_nsg, Access::Allow),
            1,
            "vm2's allow stays in the shared subnet NSG"
        );
    }

    #[test]
    fn supersession_names_the_grant_it_replaces_and_for_whom() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let bob = user("bob", &["Contributor"], "203.0.113.9");
        ask(&mut jit, &mut f, "mine", &owner, 22, 600, None, 0);
        let newer = ask(&mut jit, &mut f, "bobs", &bob, 22, 600, None, 60);
        assert!(newer.accepted, "{}", newer.summary);
        assert!(
            newer.summary.contains("this supersedes o's grant #0 for vm1:22 from 203.0.113.1 (request 'mine', until 2025-01-01T00:10:00Z)"),
            "{}",
            newer.summary
        );
        assert!(newer.summary.contains("NewerRequestInitiated"));
        assert_eq!(status_of(&jit, "mine"), RequestStatus::Superseded);
        let g0 = jit.request_by_name("mine").expect("made").grants[0];
        assert_eq!(jit.grant(g0).state, GrantState::Superseded { by: newer.new_grants[0].0 });
        assert!(jit.log().entries().iter().any(|e| e.detail.contains("statusReason: NewerRequestInitiated")));
        // A request that supersedes nothing says nothing about it.
        let plain = ask(&mut jit, &mut f, "plain", &owner, 22, 600, None, 120);
        assert!(plain.summary.contains("supersedes bob's grant"), "{}", plain.summary);
        let mut g = fixture();
        let mut fresh = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        fresh.enable(&mut g.topology, g.vm, ssh_policy(3600, &[]).into(), &owner, g.t0);
        let first = ask(&mut fresh, &mut g, "first", &owner, 22, 600, None, 0);
        assert!(!first.summary.contains("supersedes"), "{}", first.summary);
    }

    #[test]
    fn a_granted_request_without_grants_is_not_called_superseded() {
        let (f, mut jit, _) = enabled(JitOptions::default(), &[]);
        jit.requests.push(Request {
            id: RequestId(0),
            name: "empty".into(),
            requester: "o".into(),
            requested_at: f.t0,
            ports: vec![],
            source: AddressSpec::Any,
            duration: Duration::from_secs(60),
            justification: None,
            state: RequestState::Granted,
            grants: vec![],
        });
        assert_eq!(status_of(&jit, "empty"), RequestStatus::Refused);
    }

    // ---- approval (nsgsim extension) ----

    #[test]
    fn approval_approve_deny_wrong_approver_and_self_approval() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &["Security Admin"]);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let sec = user("sec", &["Security Admin"], "203.0.113.6");
        let pending = ask(&mut jit, &mut f, "r", &dev, 22, 900, None, 0);
        assert!(pending.accepted && pending.new_grants.is_empty(), "{}", pending.summary);
        assert!(pending.summary.contains("pending approval by Security Admin (nsgsim extension)"));
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        // Wrong approver: the message names the roles on both sides.
        let wrong = jit.approve(&mut f.topology, "r", &owner, f.t0).expect("exists");
        assert!(!wrong.accepted, "{}", wrong.summary);
        assert!(
            wrong.summary.contains("user 'o' (roles: Owner) holds none of the approver roles Security Admin"),
            "{}",
            wrong.summary
        );
        // Self-approval is refused, even by someone holding the role.
        let self_approver = user("dev", &["Security Admin", "JIT Access Role"], "203.0.113.5");
        let own = jit.approve(&mut f.topology, "r", &self_approver, f.t0).expect("exists");
        assert!(!own.accepted && own.summary.contains("cannot approve their own request"), "{}", own.summary);
        assert_eq!(status_of(&jit, "r"), RequestStatus::Pending);
        // Approval: the window starts then.
        let later = at(f.t0, 300);
        let ok = jit.approve(&mut f.topology, "r", &sec, later).expect("exists");
        assert!(ok.accepted, "{}", ok.summary);
        assert_eq!(ok.new_grants[0].1, later.plus(Duration::from_secs(900)));
        assert_eq!(status_of(&jit, "r"), RequestStatus::Active);
        let again = jit.approve(&mut f.topology, "r", &sec, later).expect("exists");
        assert!(
            !again.accepted && again.summary.contains("is not pending (it is Active)"),
            "{}",
            again.summary
        );
        // Deny.
        ask(&mut jit, &mut f, "r2", &dev, 22, 900, None, 300);
        let denied = jit.deny(&f.topology, "r2", &sec, "not in a change window", later).expect("exists");
        assert!(denied.accepted && denied.summary.contains("not in a change window"), "{}", denied.summary);
        assert_eq!(status_of(&jit, "r2"), RequestStatus::Denied);
        let wrong_deny = jit.deny(&f.topology, "r2", &owner, "x", later).expect("exists");
        assert!(!wrong_deny.accepted && wrong_deny.summary.contains("is not pending (it is Denied)"));
        assert!(jit.log().entries().iter().any(|e| e.operation == "Deny JIT request" && e.extension));
        // With the option, a requester holding an approver role may approve their own request.
        let (mut g, mut jit2, _) =
            enabled(JitOptions { allow_self_approval: true, ..JitOptions::default() }, &["Security Admin"]);
        ask(&mut jit2, &mut g, "mine", &self_approver, 22, 900, None, 0);
        let ok = jit2.approve(&mut g.topology, "mine", &self_approver, g.t0).expect("exists");
        assert!(ok.accepted, "{}", ok.summary);
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
        assert!(!rdp.accepted, "{}", rdp.summary);
        assert!(
            rdp.summary.contains("port 3389 is not in the JIT policy of vm 'vm1' (configured: 22)"),
            "{}",
            rdp.summary
        );
        assert!(!rdp.summary.contains("has access"), "no access is announced: {}", rdp.summary);
        assert_eq!(status_of(&jit, "rdp"), RequestStatus::Refused);
        let ssh = jit.approve(&mut f.topology, "ssh", &sec, at(f.t0, 120)).expect("exists");
        assert!(ssh.summary.contains("exceeds the maximum 30m"), "{}", ssh.summary);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0, "no rule written");
        let failed = jit
            .log()
            .entries()
            .iter()
            .filter(|e| e.operation == "Approve JIT request" && e.status == "Failed")
            .count();
        assert_eq!(failed, 2);
    }

    #[test]
    fn disabling_jit_cancels_requests_waiting_for_approval() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &["Security Admin"]);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let sec = user("sec", &["Security Admin"], "203.0.113.6");
        ask(&mut jit, &mut f, "r", &dev, 22, 900, None, 0);
        let off = jit.disable(&mut f.topology, f.vm, &owner, at(f.t0, 60));
        assert!(
            off.summary.contains("pending request 'r' of dev cancelled (nsgsim extension"),
            "{}",
            off.summary
        );
        assert_eq!(status_of(&jit, "r"), RequestStatus::Cancelled);
        assert!(jit.log().entries().iter().any(|e| e.operation == "Cancel JIT request" && e.extension));
        let late = jit.approve(&mut f.topology, "r", &sec, at(f.t0, 120)).expect("exists");
        assert!(!late.accepted, "{}", late.summary);
        assert!(
            late.summary.contains("is not pending (it is Cancelled: JIT was disabled on vm 'vm1' by o"),
            "{}",
            late.summary
        );
        assert!(!late.summary.contains("approver roles "), "{}", late.summary);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
    }

    #[test]
    fn removing_the_approvers_cancels_the_requests_that_wait_for_them() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &["Security Admin"]);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let sec = user("sec", &["Security Admin"], "203.0.113.6");
        ask(&mut jit, &mut f, "r", &dev, 22, 900, None, 0);
        // An edit that keeps an approver role leaves the request waiting.
        let kept = PolicyChange { ports: None, approver_roles: Some(vec!["Owner".into()]) };
        let out = jit.edit(&mut f.topology, f.vm, kept, &owner, f.t0);
        assert!(!out.summary.contains("cancelled"), "{}", out.summary);
        assert_eq!(status_of(&jit, "r"), RequestStatus::Pending);
        // Removing the last one cancels it: nobody could approve or deny it any more.
        let none = PolicyChange { ports: None, approver_roles: Some(vec![]) };
        let out = jit.edit(&mut f.topology, f.vm, none, &owner, at(f.t0, 60));
        assert!(out.accepted, "{}", out.summary);
        assert!(
            out.summary.ends_with(
                "; pending request 'r' of dev cancelled: no approver role is left (nsgsim extension)"
            ),
            "{}",
            out.summary
        );
        assert_eq!(status_of(&jit, "r"), RequestStatus::Cancelled);
        let cancel =
            jit.log().entries().iter().find(|e| e.operation == "Cancel JIT request").expect("logged");
        assert!(cancel.extension && cancel.status == "Succeeded", "{cancel:?}");
        let late = jit.approve(&mut f.topology, "r", &sec, at(f.t0, 120)).expect("exists");
        assert!(!late.accepted);
        assert!(
            late.summary.contains(
                "is not pending (it is Cancelled: the JIT policy of vm 'vm1' no longer names approver roles (edited by o)"
            ),
            "{}",
            late.summary
        );
        assert!(
            !late.summary.contains("approver roles ,") && !late.summary.ends_with("roles "),
            "{}",
            late.summary
        );
        // Asked again, the request is decided at once.
        ask(&mut jit, &mut f, "r2", &dev, 22, 900, None, 180);
        assert_eq!(status_of(&jit, "r2"), RequestStatus::Active);
    }

    // ---- edit and open ports ----

    #[test]
    fn edit_refuses_a_vm_that_is_not_configured() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let out = jit.edit(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert!(!out.accepted, "{}", out.summary);
        assert!(out.summary.contains("vm 'vm1' is not configured for JIT (Recommended)"), "{}", out.summary);
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::Recommended, "not enabled silently");
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 0);
        let last = jit.log().entries().last().expect("logged");
        assert_eq!(last.status, "Failed");
        // Enabled first, the same edit works.
        jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &owner, f.t0);
        let out = jit.edit(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert!(
            out.accepted && out.summary.starts_with("updated JIT on vm 'vm1' for ports 22"),
            "{}",
            out.summary
        );
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 1);
    }

    #[test]
    fn open_ports_lists_allows_ahead_of_the_deny_until_they_go() {
        let mut f = fixture();
        f.topology.nsg_mut(f.nic_nsg).rules.push(rule("ssh-any", 300, Access::Allow, 22, AddressSpec::Any));
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        assert!(jit.open_ports(&f.topology, f.vm).is_empty(), "nothing to say before JIT is enabled");
        let out = jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        let open = jit.open_ports(&f.topology, f.vm);
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(
            (open[0].nsg.as_str(), open[0].rule.as_str(), open[0].priority, open[0].port),
            ("nic-nsg", "ssh-any", 300, 22)
        );
        assert!(out.warnings.contains(&open[0].warning()), "enable warns the same: {:?}", out.warnings);
        f.topology.nsg_mut(f.nic_nsg).rules.retain(|r| r.name != "ssh-any");
        assert!(jit.open_ports(&f.topology, f.vm).is_empty());
        // Strict placement puts the deny first: nothing stays open.
        let mut g = fixture();
        g.topology.nsg_mut(g.nic_nsg).rules.push(rule("ssh-any", 300, Access::Allow, 22, AddressSpec::Any));
        let mut strict = JitEngine::new(
            JitOptions { strict_deny_placement: true, ..JitOptions::default() },
            RoleBook::default(),
            vec![],
        );
        strict.enable(&mut g.topology, g.vm, ssh_policy(3600, &[]).into(), &owner, g.t0);
        assert!(strict.open_ports(&g.topology, g.vm).is_empty());
    }
}

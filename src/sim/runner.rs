//! Playing a timeline: apply actions, check expectations, record what happened.

use std::collections::BTreeMap;

use crate::jit::{JitEngine, JitOutcome, RequestState, is_jit_rule};
use crate::model::{NsgId, Topology, User, VmId};
use crate::nsg::{Access, AddressSpec, SecurityRule, validate_nsg};
use crate::path::{Destination, FlowRequest, PolicyCache, Source, Trace, evaluate};

use super::event::{Event, EventQueue};
use super::{Action, Attachment, Duration, Endpoints, Expectation, Instant, Step};

/// Everything a simulation starts from.
#[derive(Clone, Debug)]
pub struct World {
    /// The topology at the start.
    pub topology: Topology,
    /// The start instant.
    pub start: Instant,
    /// The people.
    pub users: Vec<User>,
    /// JIT state at the start (options, roles, scoped policies; nothing enabled yet).
    pub jit: JitEngine,
}

/// The principal that performs setup actions with no named actor: an Owner.
pub const SETUP_PRINCIPAL: &str = "scenario-setup";

/// A step that cannot be applied: the scenario is inconsistent at that point in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step at {at}{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
pub struct SimError {
    /// The step's offset.
    pub at: Duration,
    /// The step's line in the file.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A tracked connection.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The flow that opened it.
    pub request: FlowRequest,
    /// Names for the narrative.
    pub endpoints: Endpoints,
    /// When it was opened.
    pub opened_at: Instant,
    /// Whether it is still open.
    pub open: bool,
}

/// What an action did.
#[derive(Clone, Debug)]
pub struct ActionOutcome {
    /// One line saying what was done.
    pub summary: String,
    /// Rule-level changes, one line each (`+ web-nsg securityRules/x (priority 100, Allow …)`).
    pub changes: Vec<String>,
    /// For `Connect`: the trace of the opening flow.
    pub trace: Option<Trace>,
    /// Warnings (e.g. existing rules that defeat a JIT deny rule).
    pub warnings: Vec<String>,
    /// False when Azure refused the operation (the reason is in `summary`).
    pub accepted: bool,
    /// Every NSG whose rules the action changed, with its rules before and after.
    pub nsg_changes: Vec<NsgChange>,
}

/// One NSG's user rules before and after an action.
#[derive(Clone, Debug)]
pub struct NsgChange {
    /// The NSG's name.
    pub nsg: String,
    /// Its rules before.
    pub before: Vec<SecurityRule>,
    /// Its rules after.
    pub after: Vec<SecurityRule>,
}

/// What an expectation found.
#[derive(Clone, Debug)]
pub struct ExpectationOutcome {
    /// The expectation in words.
    pub description: String,
    /// Whether it held.
    pub passed: bool,
    /// What was expected, in words.
    pub expected: String,
    /// What was found, in words.
    pub actual: String,
    /// The flow trace behind the answer, when a flow was evaluated.
    pub trace: Option<Trace>,
}

/// Where a reported step came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A step of the scenario's timeline.
    Timeline,
    /// Something that happened by itself (a grant's expiry, JIT enabled at the start).
    Event,
}

/// One step as it played out.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Timeline step or event.
    pub kind: StepKind,
    /// The offset from the start.
    pub offset: Duration,
    /// The instant.
    pub at: Instant,
    /// The file line.
    pub line: Option<usize>,
    /// The note, if any.
    pub note: Option<String>,
    /// The action's outcome, if the step had one.
    pub action: Option<ActionOutcome>,
    /// The expectation's outcome, if the step had one.
    pub expectation: Option<ExpectationOutcome>,
}

/// A whole run.
#[derive(Debug)]
pub struct RunReport {
    /// The start instant.
    pub start: Instant,
    /// Every step, in the order played.
    pub steps: Vec<StepReport>,
    /// The simulation at the end (for the activity log, final rules, JIT state).
    pub end: Simulator,
}

impl RunReport {
    /// The last instant the run covers: its last step or event, or the end of the last grant.
    pub fn last_instant(&self) -> Instant {
        self.steps
            .iter()
            .map(|s| s.at)
            .chain(self.end.jit().grants().iter().map(|g| g.expires_at))
            .max()
            .unwrap_or(self.start)
    }

    /// How many expectations passed and failed.
    pub fn tally(&self) -> (usize, usize) {
        let outcomes = self.steps.iter().filter_map(|s| s.expectation.as_ref());
        outcomes.fold((0, 0), |(p, f), o| if o.passed { (p + 1, f) } else { (p, f + 1) })
    }
}

/// The state of a simulation at one instant.
#[derive(Debug)]
pub struct Simulator {
    topology: Topology,
    cache: PolicyCache,
    start: Instant,
    now: Instant,
    connections: BTreeMap<String, Connection>,
    users: Vec<User>,
    jit: JitEngine,
    events: EventQueue,
}

impl Simulator {
    /// A simulation of `world` at its start.
    pub fn new(world: World) -> Simulator {
        let cache = PolicyCache::new(&world.topology);
        Simulator {
            topology: world.topology,
            cache,
            start: world.start,
            now: world.start,
            connections: BTreeMap::new(),
            users: world.users,
            jit: world.jit,
            events: EventQueue::default(),
        }
    }

    /// The JIT state.
    pub fn jit(&self) -> &JitEngine {
        &self.jit
    }

    /// The people.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    fn user(&self, name: &str) -> Result<User, String> {
        if name == SETUP_PRINCIPAL {
            return Ok(setup_principal());
        }
        self.users.iter().find(|u| u.name == name).cloned().ok_or_else(|| {
            let names: Vec<&str> = self.users.iter().map(|u| u.name.as_str()).collect();
            format!("unknown user '{name}'; valid: {}", names.join(", "))
        })
    }

    /// Applies the result of a JIT operation: mark changed NSGs for recompilation (the caller
    /// flushes the cache once its batch of operations is done), queue expiries.
    fn absorb(&mut self, out: JitOutcome) -> ActionOutcome {
        for nsg in &out.changed_nsgs {
            self.cache.invalidate(*nsg);
        }
        for (grant, at) in &out.new_grants {
            self.events.schedule(*at, Event::GrantExpiry(*grant));
        }
        ActionOutcome {
            summary: out.summary,
            changes: out.changes,
            trace: None,
            warnings: out.warnings,
            accepted: out.accepted,
            nsg_changes: Vec::new(),
        }
    }

    /// Enables JIT at the start on every supported VM covered by a scoped policy that asks for it.
    pub fn enable_scoped_policies(&mut self) -> Vec<ActionOutcome> {
        self.enable_scoped(true)
    }

    /// As [`Simulator::enable_scoped_policies`], for callers that only need the resulting state
    /// (`reach`, `exposure`): the outcomes carry no NSG changes, which spares copying a VM's NSGs
    /// before and after each enabling (most of the start-up time at thousands of VMs).
    pub fn enable_scoped_policies_without_changes(&mut self) {
        self.enable_scoped(false);
    }

    fn enable_scoped(&mut self, record_changes: bool) -> Vec<ActionOutcome> {
        let mut outcomes = Vec::new();
        let vms: Vec<VmId> = self.topology.vm_ids().collect();
        for vm in vms {
            let wants = self
                .jit
                .scoped_policy_for(&self.topology, vm)
                .filter(|s| s.enable_at_start)
                .map(|s| (s.name.clone(), s.policy.clone()));
            let Some((name, policy)) = wants else { continue };
            if matches!(self.jit.status(&self.topology, vm), crate::jit::Supportability::Unsupported(_)) {
                continue;
            }
            let before =
                if record_changes { self.rules_snapshot_of(self.nsgs_of_vm(vm)) } else { Vec::new() };
            let out = self.jit.enable(&mut self.topology, vm, policy.into(), &setup_principal(), self.now);
            let mut outcome = self.absorb(out);
            outcome.nsg_changes = self.changes_since(before);
            outcome.summary = format!("{} (scoped policy '{name}')", outcome.summary);
            outcomes.push(outcome);
        }
        self.cache.flush(&self.topology);
        outcomes
    }

    /// Processes every queued event due at or before `until`, each at its own instant.
    pub fn process_events(&mut self, until: Instant) -> Vec<(Instant, ActionOutcome)> {
        let mut out = Vec::new();
        while let Some((at, event)) = self.events.pop_due(until) {
            self.advance_to(at);
            match event {
                Event::GrantExpiry(grant) => {
                    let before = self.rules_snapshot_of(self.nsgs_of_vm(self.jit.grant(grant).vm));
                    let firewalls_before = self.firewall_rules();
                    if let Some(result) = self.jit.expire(&mut self.topology, grant, at) {
                        let mut outcome = self.absorb(result);
                        self.cache.flush(&self.topology);
                        outcome.nsg_changes = self.changes_since(before);
                        outcome.changes.extend(self.drop_sessions_denied_by_firewalls(firewalls_before));
                        if self.jit.options().expiry_drops_sessions {
                            let vm = self.jit.grant(grant).vm;
                            outcome.warnings.extend(self.drop_denied_sessions(vm));
                        }
                        out.push((at, outcome));
                    }
                }
            }
        }
        out
    }

    /// The instant of the next queued event.
    pub fn next_event_at(&self) -> Option<Instant> {
        self.events.next_at()
    }

    /// Every firewall's rule collection groups, to compare after a change.
    fn firewall_rules(&self) -> Vec<Vec<crate::model::RuleCollectionGroup>> {
        self.topology.firewall_ids().map(|f| self.topology.firewall(f).groups.clone()).collect()
    }

    /// Azure Firewall, unlike an NSG, drops existing sessions when a rule change denies them
    /// ("If you change a rule to deny previously allowed traffic, any relevant existing sessions
    /// are dropped", Azure Firewall rule processing). After the rules of some firewalls changed
    /// (`before` is [`Simulator::firewall_rules`] from before the change), every open connection
    /// is evaluated again and closed when a changed firewall is now what denies it. Returns one
    /// narrative line per closed connection.
    fn drop_sessions_denied_by_firewalls(
        &mut self,
        before: Vec<Vec<crate::model::RuleCollectionGroup>>,
    ) -> Vec<String> {
        let t = &self.topology;
        let changed: Vec<String> = before
            .iter()
            .zip(t.firewall_ids())
            .filter(|(groups, f)| **groups != t.firewall(*f).groups)
            .map(|(_, f)| t.firewall(f).name.clone())
            .collect();
        if changed.is_empty() {
            return Vec::new();
        }
        let mut dropped = Vec::new();
        let open: Vec<String> =
            self.connections.iter().filter(|(_, c)| c.open).map(|(n, _)| n.clone()).collect();
        for name in open {
            let trace = self.evaluate(&self.connections[&name].request);
            let Some(hop) = trace
                .deciding_hop()
                .filter(|h| trace.verdict == Access::Deny && h.kind == crate::path::HopKind::Firewall)
                .filter(|h| changed.contains(&h.resource))
            else {
                continue;
            };
            let line = format!(
                "connection '{name}' dropped: the rules of Azure Firewall '{}' changed and now deny it ({}); a firewall drops existing sessions that a rule change denies, unlike an NSG",
                hop.resource, hop.detail
            );
            if let Some(c) = self.connections.get_mut(&name) {
                c.open = false;
            }
            dropped.push(line);
        }
        dropped
    }

    /// Training-text option: closes open connections to `vm` that the rules no longer allow.
    fn drop_denied_sessions(&mut self, vm: VmId) -> Vec<String> {
        let nics = self.topology.vm(vm).nics.clone();
        let mut dropped = Vec::new();
        let names: Vec<String> =
            self.connections.iter().filter(|(_, c)| c.open).map(|(n, _)| n.clone()).collect();
        for name in names {
            let c = &self.connections[&name];
            let to_vm = match c.request.destination {
                Destination::Nic(n) => nics.contains(&n),
                Destination::PublicIp(p) => self.topology.public_ip(p).nic.is_some_and(|n| nics.contains(&n)),
                Destination::Address(a) => {
                    self.topology.nic_by_private_ip(a).is_some_and(|n| nics.contains(&n))
                }
            };
            if to_vm && self.evaluate(&c.request).verdict == Access::Deny {
                if let Some(c) = self.connections.get_mut(&name) {
                    c.open = false;
                }
                dropped.push(format!("connection '{name}' dropped at expiry (option jit_expiry_drops_sessions, training-text behaviour; Azure keeps established connections)"));
            }
        }
        dropped
    }

    /// The topology as it is now.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The scenario's start.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Tracked connections by name.
    pub fn connections(&self) -> &BTreeMap<String, Connection> {
        &self.connections
    }

    /// Moves the clock forward to `at` (never backwards).
    pub fn advance_to(&mut self, at: Instant) {
        if at > self.now {
            self.now = at;
        }
    }

    /// The compiled NSGs in force.
    pub fn policies(&self) -> &PolicyCache {
        &self.cache
    }

    /// Evaluates a new flow against the current rules.
    pub fn evaluate(&self, request: &FlowRequest) -> Trace {
        evaluate(&self.topology, &self.cache, request)
    }

    /// Applies one action.
    ///
    /// # Errors
    /// When the action does not fit the current state (a rule priority clash, an unknown rule,
    /// a connection name reused).
    pub fn apply(&mut self, action: &Action) -> Result<ActionOutcome, String> {
        let before = match self.nsgs_touched_by(action) {
            Some(nsgs) => self.rules_snapshot_of(nsgs),
            None => self.rules_snapshot(),
        };
        let firewalls_before = self.firewall_rules();
        let result = self.apply_inner(action);
        self.cache.flush(&self.topology);
        let mut outcome = result?;
        outcome.nsg_changes = self.changes_since(before);
        outcome.changes.extend(self.drop_sessions_denied_by_firewalls(firewalls_before));
        self.log_manual(action, &outcome);
        Ok(outcome)
    }

    /// Rule and association changes made by the scenario go to the activity log too.
    fn log_manual(&mut self, action: &Action, outcome: &ActionOutcome) {
        let operation = match action {
            Action::AddRule { .. } => "Create or Update Security Rule",
            Action::RemoveRule { .. } => "Delete Security Rule",
            Action::AttachNsg { .. } | Action::DetachNsg { .. } => {
                "Update network security group association"
            }
            _ => return,
        };
        for change in &outcome.nsg_changes {
            self.jit.record_manual(
                self.now,
                SETUP_PRINCIPAL,
                operation,
                &change.nsg,
                outcome.summary.clone(),
            );
        }
        if outcome.nsg_changes.is_empty() {
            self.jit.record_manual(self.now, SETUP_PRINCIPAL, operation, "", outcome.summary.clone());
        }
    }

    /// Every NSG's user rules, to compare after a change.
    fn rules_snapshot(&self) -> Vec<(NsgId, String, Vec<SecurityRule>)> {
        self.rules_snapshot_of(self.topology.nsg_ids())
    }

    /// The rules of some NSGs, to compare after a change that can touch only them.
    fn rules_snapshot_of(
        &self,
        nsgs: impl IntoIterator<Item = NsgId>,
    ) -> Vec<(NsgId, String, Vec<SecurityRule>)> {
        nsgs.into_iter()
            .map(|n| (n, self.topology.nsg(n).name.clone(), self.topology.nsg(n).rules.clone()))
            .collect()
    }

    /// The NSGs whose rules `action` can change, when that is known without applying it (`None` =
    /// any). Copying every NSG before each step costs too much at thousands of VMs.
    fn nsgs_touched_by(&self, action: &Action) -> Option<Vec<NsgId>> {
        let of_vms = |vms: &mut dyn Iterator<Item = VmId>| {
            let mut nsgs: Vec<NsgId> = vms.flat_map(|vm| self.nsgs_of_vm(vm)).collect();
            nsgs.sort();
            nsgs.dedup();
            nsgs
        };
        let of_request =
            |name: &str| self.jit.request_by_name(name).map(|r| of_vms(&mut r.ports.iter().map(|p| p.vm)));
        match action {
            Action::AddRule { nsg, .. } | Action::RemoveRule { nsg, .. } => Some(vec![*nsg]),
            Action::AttachNsg { .. }
            | Action::DetachNsg { .. }
            | Action::Connect { .. }
            | Action::Disconnect { .. }
            | Action::DenyJit { .. } => Some(Vec::new()),
            Action::EnableJit { vm, .. } | Action::DisableJit { vm, .. } => Some(self.nsgs_of_vm(*vm)),
            // A new grant also supersedes older grants for the same VM and port: same NSGs.
            Action::RequestJit { ports, .. } => Some(of_vms(&mut ports.iter().map(|p| p.vm))),
            Action::ApproveJit { request, .. } | Action::RevokeJit { request, .. } => of_request(request),
        }
    }

    /// The NSGs on `vm`'s paths: its NICs' and their subnets'. Enabling JIT writes only there, so
    /// enabling a scoped policy on thousands of VMs need not copy every NSG for each of them.
    fn nsgs_of_vm(&self, vm: VmId) -> Vec<NsgId> {
        let t = &self.topology;
        let mut out: Vec<NsgId> = t
            .vm(vm)
            .nics
            .iter()
            .flat_map(|n| [t.nic(*n).nsg, t.subnet(t.nic(*n).subnet).nsg])
            .flatten()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn changes_since(&self, before: Vec<(NsgId, String, Vec<SecurityRule>)>) -> Vec<NsgChange> {
        before
            .into_iter()
            .filter(|(id, _, rules)| *rules != self.topology.nsg(*id).rules)
            .map(|(id, nsg, before)| NsgChange { nsg, before, after: self.topology.nsg(id).rules.clone() })
            .collect()
    }

    fn apply_inner(&mut self, action: &Action) -> Result<ActionOutcome, String> {
        match action {
            Action::AttachNsg { nsg, target } => {
                let where_ = self.attachment_name(*target);
                match *target {
                    Attachment::Subnet(s) => self.topology.set_subnet_nsg(s, Some(*nsg)),
                    Attachment::Nic(n) => self.topology.set_nic_nsg(n, Some(*nsg)),
                }
                self.cache.rebuild(&self.topology);
                let name = &self.topology.nsg(*nsg).name;
                Ok(outcome(format!("associated NSG '{name}' with {where_}"), vec![]))
            }
            Action::DetachNsg { target } => {
                let where_ = self.attachment_name(*target);
                let previous = match *target {
                    Attachment::Subnet(s) => self.topology.subnet(s).nsg,
                    Attachment::Nic(n) => self.topology.nic(n).nsg,
                };
                let Some(previous) = previous else {
                    return Err(format!("{where_} has no NSG to detach"));
                };
                match *target {
                    Attachment::Subnet(s) => self.topology.set_subnet_nsg(s, None),
                    Attachment::Nic(n) => self.topology.set_nic_nsg(n, None),
                }
                self.cache.rebuild(&self.topology);
                let name = &self.topology.nsg(previous).name;
                Ok(outcome(format!("dissociated NSG '{name}' from {where_}"), vec![]))
            }
            Action::AddRule { nsg, rule } => {
                let changes = self.put_rule(*nsg, rule.clone())?;
                let name = &self.topology.nsg(*nsg).name;
                Ok(outcome(format!("added rule '{}' to NSG '{name}'", rule.name), changes))
            }
            Action::RemoveRule { nsg, name } => {
                let changes = self.delete_rule(*nsg, name)?;
                let nsg_name = &self.topology.nsg(*nsg).name;
                Ok(outcome(format!("removed rule '{name}' from NSG '{nsg_name}'"), changes))
            }
            Action::Connect { name, request, endpoints } => {
                if self.connections.get(name).is_some_and(|c| c.open) {
                    return Err(format!("connection '{name}' is already open"));
                }
                let trace = self.evaluate(request);
                let summary = if trace.verdict == Access::Allow {
                    self.connections.insert(
                        name.clone(),
                        Connection {
                            request: *request,
                            endpoints: endpoints.clone(),
                            opened_at: self.now,
                            open: true,
                        },
                    );
                    format!(
                        "{} opened connection '{name}' to {} port {}",
                        endpoints.from, endpoints.to, request.dst_port
                    )
                } else {
                    format!(
                        "{} tried to open connection '{name}' to {} port {}: denied",
                        endpoints.from, endpoints.to, request.dst_port
                    )
                };
                Ok(ActionOutcome {
                    summary,
                    changes: vec![],
                    trace: Some(trace),
                    warnings: vec![],
                    accepted: true,
                    nsg_changes: vec![],
                })
            }
            Action::Disconnect { name } => match self.connections.get_mut(name) {
                Some(c) if c.open => {
                    c.open = false;
                    Ok(outcome(format!("closed connection '{name}'"), vec![]))
                }
                _ => Err(format!("connection '{name}' is not open")),
            },
            Action::EnableJit { vm, actor, change } => {
                let actor = self.user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))?;
                let out = self.jit.enable(&mut self.topology, *vm, change.clone(), &actor, self.now);
                Ok(self.absorb(out))
            }
            Action::DisableJit { vm, actor } => {
                let actor = self.user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))?;
                let out = self.jit.disable(&mut self.topology, *vm, &actor, self.now);
                Ok(self.absorb(out))
            }
            Action::RequestJit { name, user, ports, duration, source, justification } => {
                let user = self.user(user)?;
                let out = self.jit.request(
                    &mut self.topology,
                    name,
                    &user,
                    ports.clone(),
                    *duration,
                    *source,
                    justification.clone(),
                    self.now,
                );
                Ok(self.absorb(out))
            }
            Action::ApproveJit { request, approver } => {
                let approver = self.user(approver)?;
                let out = self
                    .jit
                    .approve(&mut self.topology, request, &approver, self.now)
                    .map_err(|e| e.to_string())?;
                Ok(self.absorb(out))
            }
            Action::DenyJit { request, approver, reason } => {
                let approver = self.user(approver)?;
                let out = self.jit.deny(request, &approver, reason, self.now).map_err(|e| e.to_string())?;
                Ok(self.absorb(out))
            }
            Action::RevokeJit { request, actor } => {
                let actor = self.user(actor)?;
                let out = self
                    .jit
                    .revoke(&mut self.topology, request, &actor, self.now)
                    .map_err(|e| e.to_string())?;
                Ok(self.absorb(out))
            }
        }
    }

    /// Adds `rule` to `nsg` (replacing a rule of the same name), validates the NSG, recompiles it.
    /// Returns the change lines.
    ///
    /// # Errors
    /// When the NSG would be invalid (e.g. a priority clash); the NSG is left unchanged.
    pub fn put_rule(&mut self, nsg: NsgId, rule: SecurityRule) -> Result<Vec<String>, String> {
        let mut candidate = self.topology.nsg(nsg).clone();
        let mut changes = Vec::new();
        if let Some(pos) = candidate.rules.iter().position(|r| r.name == rule.name) {
            let old = candidate.rules.remove(pos);
            changes.push(format!("- {} {}", candidate.name, describe_rule(&self.topology, &old)));
        }
        changes.push(format!("+ {} {}", candidate.name, describe_rule(&self.topology, &rule)));
        candidate.rules.push(rule);
        validate_nsg(&candidate).map_err(|e| format!("NSG '{}': {e}", candidate.name))?;
        *self.topology.nsg_mut(nsg) = candidate;
        self.cache.refresh(&self.topology, nsg);
        Ok(changes)
    }

    /// Deletes the rule called `name` from `nsg` and recompiles it. Returns the change lines.
    ///
    /// # Errors
    /// When there is no such rule.
    pub fn delete_rule(&mut self, nsg: NsgId, name: &str) -> Result<Vec<String>, String> {
        let n = self.topology.nsg(nsg);
        let Some(pos) = n.rules.iter().position(|r| r.name == name) else {
            return Err(format!("NSG '{}' has no rule '{name}'", n.name));
        };
        let line = format!("- {} {}", n.name, describe_rule(&self.topology, &n.rules[pos]));
        self.topology.nsg_mut(nsg).rules.remove(pos);
        self.cache.refresh(&self.topology, nsg);
        Ok(vec![line])
    }

    /// Checks one expectation against the current state.
    pub fn check(&self, expectation: &Expectation) -> ExpectationOutcome {
        match expectation {
            Expectation::Flow { request, endpoints, verdict, nsg, rule } => {
                let trace = self.evaluate(request);
                let description = format!(
                    "{} -> {} {} port {}",
                    endpoints.from, endpoints.to, request.protocol, request.dst_port
                );
                let decided = trace.deciding_hop();
                let actual_rule = decided.and_then(|h| h.rule.clone());
                let actual_nsg = decided.filter(|h| h.rule.is_some()).map(|h| h.resource.clone());
                let mut expected = verdict.to_string();
                let mut passed = trace.verdict == *verdict;
                if let Some(nsg) = nsg {
                    let want = &self.topology.nsg(*nsg).name;
                    expected.push_str(&format!(" by NSG '{want}'"));
                    passed &= actual_nsg.as_deref() == Some(want.as_str());
                }
                if let Some(rule) = rule {
                    expected.push_str(&format!(" by rule {rule}"));
                    passed &= actual_rule.as_deref().is_some_and(|actual| rule_name_matches(actual, rule));
                }
                let mut actual = trace.verdict.to_string();
                let by_firewall = decided.is_some_and(|h| h.kind == crate::path::HopKind::Firewall);
                if let (Some(n), Some(r)) = (&actual_nsg, &actual_rule) {
                    let what = if by_firewall { "Azure Firewall" } else { "NSG" };
                    actual.push_str(&format!(" by {what} '{n}' rule {r}"));
                } else if let Some(h) = decided {
                    actual.push_str(&format!(" ({})", h.detail));
                }
                ExpectationOutcome { description, passed, expected, actual, trace: Some(trace) }
            }
            Expectation::Reply { connection, verdict } => {
                let description = format!("reply traffic of connection '{connection}'");
                match self.connections.get(connection) {
                    Some(c) if c.open => ExpectationOutcome {
                        description,
                        passed: *verdict == Access::Allow,
                        expected: verdict.to_string(),
                        actual: "Allow (stateful: replies of an established connection need no rule)".into(),
                        trace: None,
                    },
                    _ => {
                        // No flow record: the reply is a new flow from the destination back.
                        let trace = self.reply_as_new_flow(connection);
                        let actual = match &trace {
                            Some(t) => {
                                format!("{} (no established connection: evaluated as a new flow)", t.verdict)
                            }
                            None => "Deny (connection was never opened)".into(),
                        };
                        let got = trace.as_ref().map(|t| t.verdict).unwrap_or(Access::Deny);
                        ExpectationOutcome {
                            description,
                            passed: got == *verdict,
                            expected: verdict.to_string(),
                            actual,
                            trace,
                        }
                    }
                }
            }
            Expectation::Connection { name, open } => {
                let is_open = self.connections.get(name).is_some_and(|c| c.open);
                let word = |b: bool| if b { "open" } else { "closed" };
                ExpectationOutcome {
                    description: format!("connection '{name}'"),
                    passed: is_open == *open,
                    expected: word(*open).into(),
                    actual: word(is_open).into(),
                    trace: None,
                }
            }
            Expectation::JitStatus { vm, status, reason } => {
                let actual = self.jit.status(&self.topology, *vm);
                let mut passed = actual.label().eq_ignore_ascii_case(status);
                let mut expected = status.clone();
                if let Some(text) = reason {
                    expected.push_str(&format!(" (reason containing '{text}')"));
                    passed &= actual.to_string().to_lowercase().contains(&text.to_lowercase());
                }
                ExpectationOutcome {
                    description: format!("JIT status of vm '{}'", self.topology.vm(*vm).name),
                    passed,
                    expected,
                    actual: actual.to_string(),
                    trace: None,
                }
            }
            Expectation::JitRequest { request, status, reason } => {
                let description = format!("JIT request '{request}'");
                let Some(r) = self.jit.request_by_name(request) else {
                    return ExpectationOutcome {
                        description,
                        passed: false,
                        expected: status.to_string(),
                        actual: "no such request has been made".into(),
                        trace: None,
                    };
                };
                let actual_status = self.jit.request_status(r);
                let why = match &r.state {
                    RequestState::Refused(why) => why.clone(),
                    RequestState::Denied { by, reason } => format!("{by}: {reason}"),
                    _ => String::new(),
                };
                let mut passed = actual_status == *status;
                let mut expected = status.to_string();
                if let Some(text) = reason {
                    expected.push_str(&format!(" (reason containing '{text}')"));
                    passed &= why.to_lowercase().contains(&text.to_lowercase());
                }
                let actual = if why.is_empty() {
                    actual_status.to_string()
                } else {
                    format!("{actual_status}: {why}")
                };
                ExpectationOutcome { description, passed, expected, actual, trace: None }
            }
            Expectation::JitRules { vm, nsg, deny, allow } => {
                let (denies, allows) = self.count_jit_rules(*vm, *nsg);
                let mut expected = Vec::new();
                let mut passed = true;
                if let Some(d) = deny {
                    expected.push(format!("{d} deny"));
                    passed &= denies == *d;
                }
                if let Some(a) = allow {
                    expected.push(format!("{a} allow"));
                    passed &= allows == *a;
                }
                let scope = match nsg {
                    Some(n) => format!("NSG '{}'", self.topology.nsg(*n).name),
                    None => "all NSGs".into(),
                };
                ExpectationOutcome {
                    description: format!("JIT rules for vm '{}' in {scope}", self.topology.vm(*vm).name),
                    passed,
                    expected: expected.join(", "),
                    actual: format!("{denies} deny, {allows} allow"),
                    trace: None,
                }
            }
            Expectation::BastionRules { bastion, missing } => {
                let found: Vec<String> = crate::path::missing_bastion_rules(&self.topology, *bastion)
                    .into_iter()
                    .map(|m| m.rule.to_string())
                    .collect();
                let mut want = missing.clone();
                want.sort();
                let mut got = found.clone();
                got.sort();
                let list = |v: &[String]| {
                    if v.is_empty() {
                        "none missing".to_string()
                    } else {
                        format!("missing {}", v.join(", "))
                    }
                };
                ExpectationOutcome {
                    description: format!(
                        "required rules of the NSG on the subnet of Bastion '{}'",
                        self.topology.bastion(*bastion).name
                    ),
                    passed: want == got,
                    expected: list(&want),
                    actual: list(&found),
                    trace: None,
                }
            }
            Expectation::Rule { nsg, name, exists } => {
                let n = self.topology.nsg(*nsg);
                let found = n.rule(name).is_some();
                let word = |b: bool| if b { "present" } else { "absent" };
                ExpectationOutcome {
                    description: format!("rule '{name}' in NSG '{}'", n.name),
                    passed: found == *exists,
                    expected: word(*exists).into(),
                    actual: word(found).into(),
                    trace: None,
                }
            }
        }
    }

    /// Counts the JIT deny and allow rules whose destination is one of `vm`'s addresses.
    fn count_jit_rules(&self, vm: VmId, nsg: Option<NsgId>) -> (usize, usize) {
        let ips: Vec<std::net::IpAddr> =
            self.topology.vm(vm).nics.iter().map(|n| self.topology.nic(*n).private_ip).collect();
        let nsgs: Vec<NsgId> = match nsg {
            Some(n) => vec![n],
            None => self.topology.nsg_ids().collect(),
        };
        let mut counts = (0, 0);
        for id in nsgs {
            for r in &self.topology.nsg(id).rules {
                let for_vm = matches!(&r.destination, AddressSpec::Prefixes(p) if p.iter().any(|n| ips.contains(&n.addr())));
                if is_jit_rule(&r.name) && for_vm {
                    match r.access {
                        Access::Deny => counts.0 += 1,
                        Access::Allow => counts.1 += 1,
                    }
                }
            }
        }
        counts
    }

    fn reply_as_new_flow(&self, connection: &str) -> Option<Trace> {
        // Only connections that were attempted have a known flow; a closed one is replayed backwards.
        let c = self.connections.get(connection)?;
        let source = match c.request.destination {
            Destination::Nic(n) => Source::Nic(n),
            Destination::PublicIp(p) => Source::Nic(self.topology.public_ip(p).nic?),
            Destination::Address(a) => match self.topology.nic_by_private_ip(a) {
                Some(n) => Source::Nic(n),
                None => Source::Address(a),
            },
        };
        let destination = match c.request.source {
            Source::Nic(n) => Destination::Nic(n),
            Source::Address(a) => Destination::Address(a),
        };
        let reply = FlowRequest {
            source,
            destination,
            protocol: c.request.protocol,
            src_port: c.request.dst_port,
            dst_port: c.request.src_port,
            via: None,
        };
        Some(self.evaluate(&reply))
    }

    fn attachment_name(&self, target: Attachment) -> String {
        match target {
            Attachment::Subnet(s) => {
                let subnet = self.topology.subnet(s);
                format!("subnet '{}/{}'", self.topology.vnet(subnet.vnet).name, subnet.name)
            }
            Attachment::Nic(n) => format!("nic '{}'", self.topology.nic(n).name),
        }
    }
}

fn outcome(summary: String, changes: Vec<String>) -> ActionOutcome {
    ActionOutcome {
        summary,
        changes,
        trace: None,
        warnings: Vec::new(),
        accepted: true,
        nsg_changes: Vec::new(),
    }
}

fn setup_principal() -> User {
    User {
        name: SETUP_PRINCIPAL.into(),
        roles: vec!["Owner".into()],
        source_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

/// One line describing a rule, for narratives and change lists.
pub fn describe_rule(topology: &Topology, rule: &SecurityRule) -> String {
    format!(
        "{} (priority {}, {} {}, {} {} -> {} port {})",
        rule.azure_name(),
        rule.priority,
        rule.direction,
        rule.access,
        rule.protocol,
        crate::nsg::describe_address(&rule.source, topology),
        crate::nsg::describe_address(&rule.destination, topology),
        rule.destination_ports
    )
}

/// Whether an actual Azure rule name (`securityRules/x`) matches what a scenario expects
/// (`securityRules/x`, `defaultSecurityRules/x` or bare `x`).
fn rule_name_matches(actual: &str, expected: &str) -> bool {
    actual == expected || actual.rsplit('/').next() == Some(expected)
}

/// Applies the actions of every step at or before `offset` (expectations are not checked), and
/// the events due by then, and returns the simulator at that instant: "what does the network look
/// like at 90m?".
///
/// # Errors
/// The first step that cannot be applied.
pub fn replay_until(world: World, steps: &[Step], offset: Duration) -> Result<Simulator, SimError> {
    let start = world.start;
    let mut sim = Simulator::new(world);
    sim.enable_scoped_policies_without_changes();
    let mut order: Vec<&Step> = steps.iter().filter(|s| s.at <= offset).collect();
    order.sort_by_key(|s| s.at);
    for step in order {
        let at = start.plus(step.at);
        sim.process_events(at);
        sim.advance_to(at);
        if let Some(a) = &step.action {
            sim.apply(a).map_err(|message| SimError { at: step.at, line: step.line, message })?;
        }
    }
    sim.process_events(start.plus(offset));
    sim.advance_to(start.plus(offset));
    Ok(sim)
}

/// Plays the timeline's actions and events (expectations are not checked) and calls `observe`
/// with the simulator at the start and after every instant at which something changed, up to
/// `until` (the last step or event when `None`). Used by analyses over time, such as exposure.
///
/// # Errors
/// The first step that cannot be applied.
pub fn observe(
    world: World,
    steps: &[Step],
    until: Option<Duration>,
    mut observe: impl FnMut(&Simulator),
) -> Result<Simulator, SimError> {
    let start = world.start;
    let mut sim = Simulator::new(world);
    sim.enable_scoped_policies_without_changes();
    observe(&sim);
    let end = until.map(|d| start.plus(d));
    let mut order: Vec<&Step> = steps.iter().filter(|s| end.is_none_or(|e| start.plus(s.at) <= e)).collect();
    order.sort_by_key(|s| s.at);
    let mut i = 0;
    loop {
        let next_step = order.get(i).map(|s| start.plus(s.at));
        let next_event = sim.next_event_at().filter(|at| end.is_none_or(|e| *at <= e));
        let at = match (next_step, next_event) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        sim.process_events(at);
        sim.advance_to(at);
        while let Some(step) = order.get(i).filter(|s| start.plus(s.at) == at) {
            if let Some(a) = &step.action {
                sim.apply(a).map_err(|message| SimError { at: step.at, line: step.line, message })?;
            }
            i += 1;
        }
        observe(&sim);
    }
    if let Some(e) = end {
        sim.advance_to(e);
    }
    Ok(sim)
}

/// Plays `steps` (sorted by time, file order for ties) from the world's start. Events (grant
/// expiries) due at a step's instant happen before the step, so a grant ending at 10:00 is gone
/// for a check at 10:00 and still there at 09:59:59. Events after the last step are played too.
///
/// # Errors
/// The first step that cannot be applied.
pub fn run(world: World, steps: &[Step]) -> Result<RunReport, SimError> {
    let start = world.start;
    let mut sim = Simulator::new(world);
    let mut reports = Vec::new();
    for outcome in sim.enable_scoped_policies() {
        reports.push(event_report(start, start, outcome));
    }
    let mut order: Vec<&Step> = steps.iter().collect();
    order.sort_by_key(|s| s.at);
    for step in order {
        let at = start.plus(step.at);
        for (when, outcome) in sim.process_events(at) {
            reports.push(event_report(start, when, outcome));
        }
        sim.advance_to(at);
        let action = match &step.action {
            Some(a) => {
                Some(sim.apply(a).map_err(|message| SimError { at: step.at, line: step.line, message })?)
            }
            None => None,
        };
        let expectation = step.expect.as_ref().map(|e| sim.check(e));
        reports.push(StepReport {
            kind: StepKind::Timeline,
            offset: step.at,
            at,
            line: step.line,
            note: step.note.clone(),
            action,
            expectation,
        });
    }
    while let Some(next) = sim.next_event_at() {
        for (when, outcome) in sim.process_events(next) {
            reports.push(event_report(start, when, outcome));
        }
    }
    Ok(RunReport { start, steps: reports, end: sim })
}

fn event_report(start: Instant, at: Instant, outcome: ActionOutcome) -> StepReport {
    StepReport {
        kind: StepKind::Event,
        offset: at.since(start),
        at,
        line: None,
        note: None,
        action: Some(outcome),
        expectation: None,
    }
}

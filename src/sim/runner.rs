//! Playing a timeline: apply actions, check expectations, record what happened.

use std::collections::{BTreeMap, HashSet};

use crate::jit::{JitEngine, JitOutcome, RequestState, is_jit_rule};
use crate::model::{NsgId, Topology, User, VmId, VnetId};
use crate::nsg::{Access, AddressSpec, NsgError, SecurityRule, default_rules, validate_nsg};
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

/// A step that cannot be applied: the scenario is inconsistent at that point in time (a priority
/// clash, a rule or request that does not exist then). Printed as
/// `timeline[3].action.rule: step at 6m (line 19, column 9): NSG 'web' has no rule 'x'`;
/// `scenario::Scenario::step_error` turns it into a `file:line:col` diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: step at {at}{}: {message}", position_text(*line, *column))]
pub struct SimError {
    /// The step's offset.
    pub at: Duration,
    /// The step's line in the file.
    pub line: Option<usize>,
    /// The step's column in the file.
    pub column: Option<usize>,
    /// The field the problem is in (`timeline[3].action.rule`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn position_text(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

/// Why an action could not be applied: the field of the action at fault (`rule.priority`,
/// `request`; empty for the action as a whole) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActionError {
    field: &'static str,
    message: String,
}

impl ActionError {
    fn new(field: &'static str, message: impl Into<String>) -> ActionError {
        ActionError { field, message: message.into() }
    }

    /// The error of `step`, whose action this is.
    fn at_step(self, step: &Step) -> SimError {
        let action = format!("{}.action", step.path);
        SimError {
            at: step.at,
            line: step.line,
            column: step.column,
            field: if self.field.is_empty() { action } else { format!("{action}.{}", self.field) },
            message: self.message,
        }
    }
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
    /// Every NSG whose rules the action changed, with the rules added and removed.
    pub nsg_changes: Vec<NsgChange>,
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

    /// What setting `allowVirtualNetworkAccess` on `vnet`'s side of its peering with `remote`
    /// did. By default only `vnet`'s `VirtualNetwork` tag changes, and open connections stay open
    /// (NSGs are stateful, as for a rule change). Under option `peering_access_blocks_all_traffic`
    /// a peering with a side set to false carries no traffic, so connections across it close: the
    /// option's premise is that the peering itself stops forwarding (model choice).
    fn peering_access_set(&mut self, vnet: VnetId, remote: VnetId, allow: bool) -> ActionOutcome {
        let t = &self.topology;
        let (v, r) = (t.vnet(vnet).name.clone(), t.vnet(remote).name.clone());
        let tag = if allow { "joins" } else { "leaves" };
        let mut summary = format!(
            "set allowVirtualNetworkAccess {allow} on the peering of vnet '{v}' to '{r}': '{r}' {tag} the VirtualNetwork tag of '{v}'"
        );
        let mut changes = Vec::new();
        if !t.peering_access_blocks_all_traffic() {
            summary.push_str("; open connections stay open (NSGs are stateful)");
            return outcome(summary, changes);
        }
        let Some(side) = t.peering_access_blocked_by(vnet, remote) else {
            summary
                .push_str("; the peering carries traffic again (option peering_access_blocks_all_traffic)");
            return outcome(summary, changes);
        };
        summary.push_str(&format!(
            "; the peering carries no traffic while the side of '{}' sets it false (option peering_access_blocks_all_traffic)",
            t.vnet(side).name
        ));
        // The sessions whose two ends are in the two VNets (a Bastion session counts from the
        // Bastion's VNet); a session relayed across the peering by a firewall in a third VNet is
        // not followed (model choice).
        let pair = |a: Option<VnetId>, b: Option<VnetId>| matches!((a, b), (Some(a), Some(b)) if (a, b) == (vnet, remote) || (b, a) == (vnet, remote));
        let crossing: Vec<String> = self
            .connections
            .iter()
            .filter(|(_, c)| c.open)
            .filter(|(_, c)| pair(self.source_vnet(&c.request), self.destination_vnet(&c.request)))
            .map(|(n, _)| n.clone())
            .collect();
        for name in crossing {
            changes.push(format!(
                "connection '{name}' dropped: the peering of '{v}' and '{r}' carries no traffic now (option peering_access_blocks_all_traffic; model choice: the peering stops forwarding established sessions too)"
            ));
            if let Some(c) = self.connections.get_mut(&name) {
                c.open = false;
            }
        }
        outcome(summary, changes)
    }

    /// The VNet a flow starts in: its NIC's, its address's, or its Bastion's (a Bastion session
    /// starts in the Bastion's subnet); `None` outside every VNet.
    fn source_vnet(&self, request: &FlowRequest) -> Option<VnetId> {
        let t = &self.topology;
        if let Some(b) = request.via {
            return Some(t.bastion(b).vnet);
        }
        match request.source {
            Source::Nic(n) => Some(t.vnet_of_nic(n)),
            Source::Address(ip) => t.vnet_of_ip(ip),
        }
    }

    /// The VNet a flow is addressed into privately; `None` for a public IP or an outside address.
    fn destination_vnet(&self, request: &FlowRequest) -> Option<VnetId> {
        let t = &self.topology;
        match request.destination {
            Destination::Nic(n) => Some(t.vnet_of_nic(n)),
            Destination::Address(ip) => t.vnet_of_ip(ip),
            Destination::PublicIp(_) => None,
        }
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
        self.apply_action(action).map_err(|e| e.message)
    }

    /// [`Simulator::apply`], keeping the field at fault for the step's diagnostic.
    fn apply_action(&mut self, action: &Action) -> Result<ActionOutcome, ActionError> {
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
            Action::SetPeeringAccess { .. } => "Create or Update Virtual Network Peering",
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
            | Action::SetPeeringAccess { .. }
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
            // Most snapshotted NSGs did not change: an equality test spares building the sets.
            .filter(|(id, _, rules)| *rules != self.topology.nsg(*id).rules)
            .filter_map(|(id, nsg, before)| NsgChange::between(&nsg, &before, &self.topology.nsg(id).rules))
            .collect()
    }

    fn apply_inner(&mut self, action: &Action) -> Result<ActionOutcome, ActionError> {
        match action {
            Action::AttachNsg { nsg, target } => {
                let where_ = self.attachment_name(*target);
                match *target {
                    Attachment::Subnet(s) => self
                        .topology
                        .set_subnet_nsg(s, Some(*nsg))
                        .map_err(|e| ActionError::new("subnet", e.to_string()))?,
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
                    let field = match target {
                        Attachment::Subnet(_) => "subnet",
                        Attachment::Nic(_) => "nic",
                    };
                    return Err(ActionError::new(field, format!("{where_} has no NSG to detach")));
                };
                match *target {
                    // Dissociating never fails.
                    Attachment::Subnet(s) => {
                        let _ = self.topology.set_subnet_nsg(s, None);
                    }
                    Attachment::Nic(n) => self.topology.set_nic_nsg(n, None),
                }
                self.cache.rebuild(&self.topology);
                let name = &self.topology.nsg(previous).name;
                Ok(outcome(format!("dissociated NSG '{name}' from {where_}"), vec![]))
            }
            Action::AddRule { nsg, rule } => {
                let changes = self.try_put_rule(*nsg, rule.clone()).map_err(|(e, message)| match e {
                    NsgError::DuplicatePriority { .. } | NsgError::PriorityOutOfRange { .. } => {
                        ActionError::new("rule.priority", message)
                    }
                    NsgError::DuplicateName { .. } | NsgError::InvalidName { .. } => {
                        ActionError::new("rule.name", message)
                    }
                    _ => ActionError::new("rule", message),
                })?;
                let name = &self.topology.nsg(*nsg).name;
                Ok(outcome(format!("added rule '{}' to NSG '{name}'", rule.name), changes))
            }
            Action::RemoveRule { nsg, name } => {
                let changes = self.delete_rule(*nsg, name).map_err(|e| ActionError::new("rule", e))?;
                let nsg_name = &self.topology.nsg(*nsg).name;
                Ok(outcome(format!("removed rule '{name}' from NSG '{nsg_name}'"), changes))
            }
            Action::SetPeeringAccess { vnet, remote, allow } => {
                self.topology
                    .set_peering_access(*vnet, *remote, *allow)
                    .map_err(|e| ActionError::new("remote", e.to_string()))?;
                self.cache.rebuild(&self.topology);
                Ok(self.peering_access_set(*vnet, *remote, *allow))
            }
            Action::Connect { name, request, endpoints } => {
                if self.connections.get(name).is_some_and(|c| c.open) {
                    return Err(ActionError::new(
                        "name",
                        format!("connection '{name}' is already open; valid: a name no open connection uses"),
                    ));
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
                _ => Err(ActionError::new("name", format!("connection '{name}' is not open"))),
            },
            Action::EnableJit { vm, actor, change, edit } => {
                let actor = self
                    .user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))
                    .map_err(|e| ActionError::new("by", e))?;
                let out = if *edit {
                    self.jit.edit(&mut self.topology, *vm, change.clone(), &actor, self.now)
                } else {
                    self.jit.enable(&mut self.topology, *vm, change.clone(), &actor, self.now)
                };
                Ok(self.absorb(out))
            }
            Action::DisableJit { vm, actor } => {
                let actor = self
                    .user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))
                    .map_err(|e| ActionError::new("by", e))?;
                let out = self.jit.disable(&mut self.topology, *vm, &actor, self.now);
                Ok(self.absorb(out))
            }
            Action::RequestJit { name, user, ports, duration, source, justification } => {
                let user = self.user(user).map_err(|e| ActionError::new("user", e))?;
                let out = self.jit.request(
                    &mut self.topology,
                    name,
                    &user,
                    ports.clone(),
                    *duration,
                    source.clone(),
                    justification.clone(),
                    self.now,
                );
                Ok(self.absorb(out))
            }
            Action::ApproveJit { request, approver } => {
                let approver = self.user(approver).map_err(|e| ActionError::new("by", e))?;
                let out = self
                    .jit
                    .approve(&mut self.topology, request, &approver, self.now)
                    .map_err(|e| ActionError::new("request", e.to_string()))?;
                Ok(self.absorb(out))
            }
            Action::DenyJit { request, approver, reason } => {
                let approver = self.user(approver).map_err(|e| ActionError::new("by", e))?;
                let out = self
                    .jit
                    .deny(&self.topology, request, &approver, reason, self.now)
                    .map_err(|e| ActionError::new("request", e.to_string()))?;
                Ok(self.absorb(out))
            }
            Action::RevokeJit { request, actor } => {
                let actor = self.user(actor).map_err(|e| ActionError::new("by", e))?;
                let out = self
                    .jit
                    .revoke(&mut self.topology, request, &actor, self.now)
                    .map_err(|e| ActionError::new("request", e.to_string()))?;
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
        self.try_put_rule(nsg, rule).map_err(|(_, message)| message)
    }

    /// [`Simulator::put_rule`], keeping the validation error. Rule names are compared as Azure
    /// compares resource names, case-insensitively: writing `Allow-SSH` replaces `allow-ssh`.
    fn try_put_rule(&mut self, nsg: NsgId, rule: SecurityRule) -> Result<Vec<String>, (NsgError, String)> {
        let mut candidate = self.topology.nsg(nsg).clone();
        let mut changes = Vec::new();
        if let Some(pos) = candidate.rules.iter().position(|r| r.name.eq_ignore_ascii_case(&rule.name)) {
            let old = candidate.rules.remove(pos);
            changes.push(format!("- {} {}", candidate.name, self.topology.describe_rule(&old)));
        }
        changes.push(format!("+ {} {}", candidate.name, self.topology.describe_rule(&rule)));
        if let Some((_, _, message)) = self.topology.rule_asgs_vnet_conflict(&rule) {
            let e = NsgError::AsgsInDifferentVnets { rule: rule.name.clone(), message };
            let message = format!("NSG '{}': {e}", candidate.name);
            return Err((e, message));
        }
        candidate.rules.push(rule);
        validate_nsg(&candidate).map_err(|e| {
            let message = format!("NSG '{}': {e}", candidate.name);
            (e, message)
        })?;
        *self.topology.nsg_mut(nsg) = candidate;
        self.cache.refresh(&self.topology, nsg);
        Ok(changes)
    }

    /// Deletes the rule called `name` (compared case-insensitively, as Azure does) from `nsg` and
    /// recompiles it. Returns the change lines.
    ///
    /// # Errors
    /// When there is no such user rule (default rules cannot be deleted).
    pub fn delete_rule(&mut self, nsg: NsgId, name: &str) -> Result<Vec<String>, String> {
        let n = self.topology.nsg(nsg);
        let Some(pos) = n.rules.iter().position(|r| r.name.eq_ignore_ascii_case(name)) else {
            let names: Vec<&str> = n.rules.iter().map(|r| r.name.as_str()).collect();
            let valid = if names.is_empty() { "(none)".to_string() } else { names.join(", ") };
            if default_rules().iter().any(|d| d.name.eq_ignore_ascii_case(name)) {
                return Err(format!(
                    "'{name}' is a default rule of NSG '{}'; default rules cannot be deleted; valid: a user rule ({valid})",
                    n.name
                ));
            }
            return Err(format!("NSG '{}' has no rule '{name}'; valid: {valid}", n.name));
        };
        let line = format!("- {} {}", n.name, self.topology.describe_rule(&n.rules[pos]));
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
                    RequestState::Cancelled(why) => why.clone(),
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
            sim.apply_action(a).map_err(|e| e.at_step(step))?;
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
                sim.apply_action(a).map_err(|e| e.at_step(step))?;
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
            Some(a) => Some(sim.apply_action(a).map_err(|e| e.at_step(step))?),
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

#[cfg(test)]
mod tests {
    //! The scenarios are written in the file format (the loader is the quickest way to build a
    //! world and a timeline); what is tested is the runner.
    use std::path::Path;

    use super::*;
    use crate::scenario::{Scenario, load_str};

    const BASE: &str = r#"Scenario(
        name: "t",
        start: "2025-01-06T09:00:00Z",
        vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [
            Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "nsg-a"),
            Subnet(name: "b", prefix: "10.0.2.0/24"),
        ])],
        nsgs: [Nsg(name: "nsg-a", rules: [
            Rule(name: "allow-ssh", priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
                 source: "10.0.2.0/24", destination_ports: "22"),
        ])],
        vms: [
            Vm(name: "vm1", os: Linux, nics: [Nic(name: "vm1-nic", subnet: "v/a", private_ip: "10.0.1.4")]),
            Vm(name: "vm2", os: Linux, nics: [Nic(name: "vm2-nic", subnet: "v/b", private_ip: "10.0.2.4")]),
        ],
        users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.5")],
        timeline: [TIMELINE],
    )"#;

    fn scenario(timeline: &str) -> Scenario {
        load_str(&BASE.replace("TIMELINE", timeline), Path::new("t.ron")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn play(timeline: &str) -> RunReport {
        let s = scenario(timeline);
        run(s.world(), &s.steps).unwrap_or_else(|e| panic!("{e}"))
    }

    fn outcomes(report: &RunReport) -> Vec<(bool, String, String)> {
        report
            .steps
            .iter()
            .filter_map(|s| s.expectation.as_ref())
            .map(|e| (e.passed, e.expected.clone(), e.actual.clone()))
            .collect()
    }

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
    fn flow_expectations_check_the_verdict_the_nsg_and_the_rule() {
        let report = play(
            r#"(at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, nsg: "nsg-a", rule: "allow-ssh")),
               (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, rule: "securityRules/allow-ssh")),
               (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, rule: "defaultSecurityRules/allow-ssh")),
               (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Deny)),
               (at: "0", expect: Flow(from: "alice", to: "vm1", port: 22, verdict: Deny, rule: "DenyAllInBound")),
               (at: "0", expect: Flow(from: "vm1", to: "vm2", port: 22, verdict: Allow, nsg: "nsg-a"))"#,
        );
        let got = outcomes(&report);
        assert!(got[0].0 && got[1].0, "{got:?}");
        assert!(!got[2].0, "a default-rule name must not match a user rule: {got:?}");
        assert_eq!(
            got[3],
            (false, "Deny".into(), "Allow by NSG 'nsg-a' rule securityRules/allow-ssh".into())
        );
        // No NSG decided (no route from the Internet to a VM without a public IP): an expectation
        // that names a rule fails even though the verdict matches.
        assert!(!got[4].0 && got[4].2.contains("not routable from the Internet"), "{got:?}");
        // vm1 -> vm2: nsg-a decides outbound (vm2 has no NSG), by AllowVnetOutBound.
        assert_eq!(
            got[5],
            (
                true,
                "Allow by NSG 'nsg-a'".into(),
                "Allow by NSG 'nsg-a' rule defaultSecurityRules/AllowVnetOutBound".into()
            )
        );
        assert_eq!(report.tally(), (3, 3));
    }

    #[test]
    fn established_connections_survive_rule_changes_and_replies_need_no_rule() {
        let report = play(
            r#"(at: "0", action: Connect(name: "ssh", from: "vm2", to: "vm1", port: 22)),
               (at: "1m", action: RemoveRule(nsg: "nsg-a", rule: "allow-ssh")),
               (at: "1m", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, rule: "AllowVnetInBound")),
               (at: "1m", expect: Connection(name: "ssh", open: true)),
               (at: "1m", expect: Reply(connection: "ssh", verdict: Allow)),
               (at: "2m", action: Disconnect(name: "ssh")),
               (at: "2m", expect: Connection(name: "ssh", open: false)),
               (at: "2m", expect: Reply(connection: "ssh", verdict: Allow)),
               (at: "2m", expect: Reply(connection: "never", verdict: Deny)),
               (at: "2m", expect: Connection(name: "never", open: false))"#,
        );
        let got = outcomes(&report);
        assert!(got.iter().all(|g| g.0), "{got:?}");
        assert!(got[2].2.contains("stateful"), "{got:?}");
        assert!(got[4].2.contains("no established connection: evaluated as a new flow"), "{got:?}");
        assert_eq!(got[5].2, "Deny (connection was never opened)");
        let removed = report.steps[1].action.as_ref().expect("an action");
        assert_eq!(removed.summary, "removed rule 'allow-ssh' from NSG 'nsg-a'");
        assert_eq!(removed.nsg_changes.len(), 1);
        let change = &removed.nsg_changes[0];
        assert!(change.added.is_empty());
        assert_eq!(change.removed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["allow-ssh"]);
        assert!(change.apply(&change.removed).is_empty());
    }

    #[test]
    fn steps_run_in_time_order_then_file_order() {
        let report =
            play(r#"(at: "10m", note: "third"), (at: "5m", note: "first"), (at: "5m", note: "second")"#);
        let notes: Vec<(&str, String)> =
            report.steps.iter().map(|s| (s.note.as_deref().unwrap_or(""), s.offset.to_string())).collect();
        assert_eq!(notes, [("first", "5m".into()), ("second", "5m".into()), ("third", "10m".into())]);
        assert_eq!(report.steps[2].at.to_string(), "2025-01-06T09:10:00Z");
        assert_eq!(report.last_instant().to_string(), "2025-01-06T09:10:00Z");
    }

    #[test]
    fn a_step_that_does_not_apply_names_its_position_and_field() {
        let s = scenario(
            r#"(at: "0", note: "x"),
        (at: "6m", action: AddRule(nsg: "nsg-a", rule: Rule(name: "clash", priority: 100, direction: Inbound,
            access: Deny, protocol: Any, destination_ports: "*")))"#,
        );
        let e = run(s.world(), &s.steps).expect_err("a priority clash");
        assert_eq!((e.at.to_string().as_str(), e.field.as_str()), ("6m", "timeline[1].action.rule.priority"));
        assert_eq!((e.line, e.column), (s.steps[1].line, s.steps[1].column));
        assert!(e.line.is_some() && e.column.is_some());
        assert!(e.message.contains("SecurityRuleConflict"), "{e}");
        assert!(e.to_string().starts_with("timeline[1].action.rule.priority: step at 6m (line "), "{e}");
        let shown = s.step_error(&e).to_string();
        assert!(shown.starts_with("t.ron:"), "{shown}");
        assert!(
            shown.contains(": timeline[1].action.rule.priority: step at 6m: NSG 'nsg-a': rule 'clash'"),
            "{shown}"
        );

        for (step, field, message) in [
            (
                r#"(at: "1m", action: RemoveRule(nsg: "nsg-a", rule: "gone"))"#,
                "rule",
                "NSG 'nsg-a' has no rule 'gone'; valid: allow-ssh",
            ),
            (r#"(at: "1m", action: DetachNsg(nic: "vm1-nic"))"#, "nic", "nic 'vm1-nic' has no NSG to detach"),
            (
                r#"(at: "1m", action: DetachNsg(subnet: "v/b"))"#,
                "subnet",
                "subnet 'v/b' has no NSG to detach",
            ),
            (r#"(at: "1m", action: Disconnect(name: "ghost"))"#, "name", "connection 'ghost' is not open"),
            (
                r#"(at: "1m", action: ApproveJit(request: "none", by: "alice"))"#,
                "request",
                "no JIT request named 'none'",
            ),
            (
                r#"(at: "1m", action: RevokeJit(request: "none", by: "alice"))"#,
                "request",
                "no JIT request named 'none'",
            ),
        ] {
            let s = scenario(step);
            let e = run(s.world(), &s.steps).expect_err(step);
            assert_eq!(e.field, format!("timeline[0].action.{field}"), "{step}");
            assert!(e.message.contains(message), "{step}: {e}");
            // The same step stops a replay to a later offset.
            let replayed = replay_until(s.world(), &s.steps, Duration::from_secs(3600)).expect_err(step);
            assert_eq!(replayed, e);
        }
    }

    #[test]
    fn rule_names_are_compared_as_azure_compares_them() {
        let s = scenario("");
        let mut sim = Simulator::new(s.world());
        let nsg = sim.topology().nsg_by_name("nsg-a").expect("nsg");
        let mut rule = sim.topology().nsg(nsg).rules[0].clone();
        rule.name = "Allow-SSH".into();
        rule.priority = crate::nsg::Priority(200);
        let changes = sim.put_rule(nsg, rule).expect("a PUT of the same name in another case replaces it");
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(changes[0].starts_with("- nsg-a securityRules/allow-ssh"), "{changes:?}");
        let names: Vec<&str> = sim.topology().nsg(nsg).rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Allow-SSH"]);
        let e = sim.delete_rule(nsg, "DenyAllInBound").expect_err("default rules cannot be deleted");
        assert!(e.contains("is a default rule") && e.contains("valid: a user rule (Allow-SSH)"), "{e}");
        sim.delete_rule(nsg, "allow-ssh").expect("deleted whatever the case");
        assert!(sim.topology().nsg(nsg).rules.is_empty());
    }

    #[test]
    fn replay_until_applies_actions_up_to_the_offset_only() {
        let s = scenario(
            r#"(at: "5m", action: RemoveRule(nsg: "nsg-a", rule: "allow-ssh")),
               (at: "10m", action: DetachNsg(subnet: "v/a"))"#,
        );
        let at = |secs| replay_until(s.world(), &s.steps, Duration::from_secs(secs)).expect("replays");
        let nsg =
            |sim: &Simulator| sim.topology().nsg_by_name("nsg-a").map(|n| sim.topology().nsg(n).rules.len());
        let before = at(299);
        assert_eq!((nsg(&before), before.now().to_string().as_str()), (Some(1), "2025-01-06T09:04:59Z"));
        assert_eq!(nsg(&at(300)), Some(0));
        let subnet = |sim: &Simulator| {
            let t = sim.topology();
            t.subnet_ids().find(|&id| t.subnet(id).name == "a").and_then(|id| t.subnet(id).nsg)
        };
        assert!(subnet(&at(599)).is_some());
        assert!(subnet(&at(600)).is_none());
    }

    #[test]
    fn jit_expectations_and_expiry_events() {
        let report = play(
            r#"(at: "0", action: EnableJit(vm: "vm1", ports: [Port(number: 22)])),
               (at: "0", expect: JitStatus(vm: "vm1", status: Configured)),
               (at: "0", expect: JitRules(vm: "vm1", deny: 1, allow: 0)),
               (at: "1m", action: RequestJit(id: "r1", user: "alice", vm: "vm1", ports: [22], duration: "1h")),
               (at: "1m", expect: JitRequest(request: "r1", status: Active)),
               (at: "1m", expect: JitRules(vm: "vm1", nsg: "nsg-a", allow: 1)),
               (at: "1m", expect: JitRequest(request: "nope", status: Active)),
               (at: "1h1m", expect: JitRules(vm: "vm1", allow: 0)),
               (at: "1h1m", expect: JitRequest(request: "r1", status: Expired))"#,
        );
        let got = outcomes(&report);
        assert_eq!(got.iter().filter(|g| !g.0).count(), 1, "{got:?}");
        assert_eq!(got[4].2, "no such request has been made");
        // The expiry is an event at its own instant, before the steps at that instant.
        let expiry = report.steps.iter().position(|s| s.kind == StepKind::Event).expect("an expiry event");
        assert_eq!(report.steps[expiry].at.to_string(), "2025-01-06T10:01:00Z");
        assert!(report.steps[expiry + 1].expectation.as_ref().is_some_and(|e| e.passed));
    }
}

//! Applying a step's action: NSG associations and rule edits (validated as Azure validates
//! them), peering access, tracked connections, and JIT operations; recording each NSG's rules
//! added and removed, the manual writes in the activity log, and the sessions that a firewall
//! or a blocked peering closes.

use crate::jit::{JitOutcome, LogKind, RuleChange};
use crate::model::{NsgId, RuleCollectionGroup, User, VmId, VnetId};
use crate::nsg::{Access, NsgError, SecurityRule, default_rules, validate_nsg};
use crate::path::{FlowRequest, HopKind};

use super::event::Event;
use super::{
    Action, ActionError, ActionFault, ActionOutcome, Attached, Attachment, Change, Connection, DropCause,
    DroppedConnection, Happened, NsgChange, PeeringEffect, SETUP_PRINCIPAL, Simulator, Warning,
};

/// Each NSG's name and rules, to compare after a change.
pub(super) type RulesSnapshot = Vec<(NsgId, String, Vec<SecurityRule>)>;

impl Simulator {
    /// The user called `name` (the setup principal for [`SETUP_PRINCIPAL`]).
    fn user(&self, name: &str) -> Result<User, ActionFault> {
        if name == SETUP_PRINCIPAL {
            return Ok(setup_principal());
        }
        self.users.iter().find(|u| crate::name::same_name(&u.name, name)).cloned().ok_or_else(|| {
            ActionFault::UnknownUser {
                name: name.into(),
                valid: self.users.iter().map(|u| u.name.clone()).collect(),
            }
        })
    }

    /// Applies the result of a JIT operation: mark changed NSGs for recompilation (the caller
    /// flushes the cache once its batch of operations is done), queue expiries.
    pub(super) fn absorb(&mut self, out: JitOutcome) -> ActionOutcome {
        for nsg in &out.changed_nsgs {
            self.cache.invalidate(*nsg);
        }
        for (grant, at) in &out.new_grants {
            self.events.schedule(*at, Event::GrantExpiry(*grant));
        }
        ActionOutcome {
            what: Happened::Jit(out.event),
            changes: out.changes.into_iter().map(Change::Rule).collect(),
            trace: None,
            warnings: out.warnings.into_iter().map(Warning::Jit).collect(),
            nsg_changes: Vec::new(),
            log: 0..0,
        }
    }

    /// Every firewall's rule collection groups, to compare after a change.
    pub(super) fn firewall_rules(&self) -> Vec<Vec<RuleCollectionGroup>> {
        self.topology.firewall_ids().map(|f| self.topology.firewall(f).groups.clone()).collect()
    }

    /// Azure Firewall, unlike an NSG, drops existing sessions when a rule change denies them
    /// ("If you change a rule to deny previously allowed traffic, any relevant existing sessions
    /// are dropped", Azure Firewall rule processing). After the rules of some firewalls changed
    /// (`before` is [`Simulator::firewall_rules`] from before the change), every open connection
    /// is evaluated again and closed when a changed firewall is now what denies it. Returns the
    /// connections closed.
    pub(super) fn drop_sessions_denied_by_firewalls(
        &mut self,
        before: Vec<Vec<RuleCollectionGroup>>,
    ) -> Vec<Change> {
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
        self.close_connections_denied_by(
            HopKind::Firewall,
            |name| changed.contains(&name.to_string()),
            |hop| DropCause::FirewallRuleChange {
                firewall: hop.resource.clone(),
                detail: hop.detail.clone(),
            },
        )
    }

    /// Evaluates every open connection again and closes those now denied at a hop of `kind`
    /// whose resource `closes` accepts; `cause` says why, from that hop. Returns the connections
    /// closed.
    fn close_connections_denied_by(
        &mut self,
        kind: HopKind,
        closes: impl Fn(&str) -> bool,
        cause: impl Fn(&crate::path::Hop) -> DropCause,
    ) -> Vec<Change> {
        let mut dropped = Vec::new();
        let open: Vec<String> =
            self.connections.iter().filter(|(_, c)| c.open).map(|(n, _)| n.clone()).collect();
        for name in open {
            let trace = self.evaluate(&self.connections[&name].request);
            let Some(hop) = trace
                .deciding_hop()
                .filter(|h| trace.verdict == Access::Deny && h.kind == kind && closes(&h.resource))
            else {
                continue;
            };
            let cause = cause(hop);
            if let Some(c) = self.connections.get_mut(&name) {
                c.open = false;
            }
            dropped.push(Change::ConnectionDropped(DroppedConnection { connection: name, cause }));
        }
        dropped
    }

    /// NSG `flushConnection` ("When enabled, flows created from Network Security Group
    /// connections will be re-evaluated when rules are updated", REST API): after the rules of
    /// some NSGs changed (`changed`, from [`Simulator::changes_since`]), every open connection is
    /// evaluated again and closed when the NSG now denying it is one of them with flushing on.
    /// NSGs without it keep their established connections (Azure's default). Returns the
    /// connections closed.
    pub(super) fn drop_sessions_flushed_by_nsgs(&mut self, changed: &[NsgChange]) -> Vec<Change> {
        let t = &self.topology;
        let flushing: Vec<&str> = changed
            .iter()
            .map(|c| c.nsg.as_str())
            .filter(|name| t.nsg_by_name(name).is_some_and(|id| t.flushes_connections(id)))
            .collect();
        if flushing.is_empty() {
            return Vec::new();
        }
        self.close_connections_denied_by(
            HopKind::Nsg,
            |name| flushing.iter().any(|n| crate::name::same_name(n, name)),
            |hop| DropCause::NsgFlush { nsg: hop.resource.clone(), detail: hop.detail.clone() },
        )
    }

    /// What setting `allowVirtualNetworkAccess` on `vnet`'s side of its peering with `remote`
    /// did. By default only `vnet`'s `VirtualNetwork` tag changes, and open connections stay open
    /// (NSGs are stateful, as for a rule change). Under option `peering_access_blocks_all_traffic`
    /// a peering with a side set to false carries no traffic, so connections across it close: the
    /// option's premise is that the peering itself stops forwarding (model choice).
    fn peering_access_set(&mut self, vnet: VnetId, remote: VnetId, allow: bool) -> ActionOutcome {
        let t = &self.topology;
        let (v, r) = (t.vnet(vnet).name.clone(), t.vnet(remote).name.clone());
        let happened =
            |effect| Happened::PeeringAccessSet { vnet: v.clone(), remote: r.clone(), allow, effect };
        if !t.peering_access_blocks_all_traffic() {
            return ActionOutcome::of(happened(PeeringEffect::TagOnly));
        }
        let Some(side) = t.peering_access_blocked_by(vnet, remote) else {
            return ActionOutcome::of(happened(PeeringEffect::CarriesTraffic));
        };
        let mut outcome = ActionOutcome::of(happened(PeeringEffect::CarriesNoTraffic {
            blocked_by: t.vnet(side).name.clone(),
        }));
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
            let cause = DropCause::PeeringBlocked { vnet: v.clone(), remote: r.clone() };
            outcome
                .changes
                .push(Change::ConnectionDropped(DroppedConnection { connection: name.clone(), cause }));
            if let Some(c) = self.connections.get_mut(&name) {
                c.open = false;
            }
        }
        outcome
    }

    /// The VNet a flow starts in: its NIC's, its address's, or its Bastion's (a Bastion session
    /// starts in the Bastion's subnet); `None` outside every VNet.
    fn source_vnet(&self, request: &FlowRequest) -> Option<VnetId> {
        crate::path::sending_vnet(&self.topology, request)
    }

    /// The VNet a flow is addressed into privately; `None` for a public IP or an outside address.
    fn destination_vnet(&self, request: &FlowRequest) -> Option<VnetId> {
        crate::path::destination_vnet(&self.topology, request)
    }

    /// Training-text option: closes open connections to `vm` that the rules no longer allow.
    pub(super) fn drop_denied_sessions(&mut self, vm: VmId) -> Vec<Warning> {
        let nics = self.topology.vm(vm).nics.clone();
        let mut dropped = Vec::new();
        let names: Vec<String> =
            self.connections.iter().filter(|(_, c)| c.open).map(|(n, _)| n.clone()).collect();
        for name in names {
            let c = &self.connections[&name];
            let to_vm =
                crate::path::destination_nic(&self.topology, &c.request).is_some_and(|n| nics.contains(&n));
            if to_vm && self.evaluate(&c.request).verdict == Access::Deny {
                if let Some(c) = self.connections.get_mut(&name) {
                    c.open = false;
                }
                dropped.push(Warning::SessionDroppedAtExpiry { connection: name });
            }
        }
        dropped
    }

    /// Applies one action.
    ///
    /// # Errors
    /// When the action does not fit the current state (a rule priority clash, an unknown rule,
    /// a connection name reused), with the field of the action at fault.
    pub fn apply(&mut self, action: &Action) -> Result<ActionOutcome, ActionError> {
        let before = match self.nsgs_touched_by(action) {
            Some(nsgs) => self.rules_snapshot_of(nsgs),
            None => self.rules_snapshot_of(self.topology.nsg_ids()),
        };
        let firewalls_before = self.firewall_rules();
        let logged = self.jit.log().entries().len();
        let result = self.apply_inner(action);
        self.cache.flush(&self.topology);
        let mut outcome = result?;
        outcome.nsg_changes = self.changes_since(before);
        outcome.changes.extend(self.drop_sessions_denied_by_firewalls(firewalls_before));
        let flushed = self.drop_sessions_flushed_by_nsgs(&outcome.nsg_changes);
        outcome.changes.extend(flushed);
        self.log_manual(action, &outcome);
        outcome.log = logged..self.jit.log().entries().len();
        Ok(outcome)
    }

    /// Rule and association changes made by the scenario go to the activity log too.
    fn log_manual(&mut self, action: &Action, outcome: &ActionOutcome) {
        let (kind, operation) = match action {
            Action::AddRule { .. } => (LogKind::Rule, "Create or Update Security Rule"),
            Action::RemoveRule { .. } => (LogKind::Rule, "Delete Security Rule"),
            Action::AttachNsg { .. } | Action::DetachNsg { .. } => {
                (LogKind::Network, "Update network security group association")
            }
            Action::SetPeeringAccess { .. } => (LogKind::Network, "Create or Update Virtual Network Peering"),
            _ => return,
        };
        let summary = outcome.what.to_string();
        for change in &outcome.nsg_changes {
            self.jit.record_manual(kind, self.now, SETUP_PRINCIPAL, operation, &change.nsg, summary.clone());
        }
        if outcome.nsg_changes.is_empty() {
            self.jit.record_manual(kind, self.now, SETUP_PRINCIPAL, operation, "", summary);
        }
    }

    /// The rules of some NSGs, to compare after a change that can touch only them.
    pub(super) fn rules_snapshot_of(&self, nsgs: impl IntoIterator<Item = NsgId>) -> RulesSnapshot {
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
            | Action::DeployAdminConfiguration { .. }
            | Action::UndeployAdminConfiguration { .. }
            | Action::Connect { .. }
            | Action::Disconnect { .. }
            | Action::DenyJit { .. } => Some(Vec::new()),
            Action::EnableJit { vm, .. }
            | Action::DisableJit { vm, .. }
            | Action::ConnectPageRequest { vm, .. } => Some(self.nsgs_of_vm(*vm)),
            Action::EnableJitOnVms { vms, .. } => Some(of_vms(&mut vms.iter().copied())),
            Action::SetDefenderPlan2 { .. } => Some(Vec::new()),
            // A new grant also supersedes older grants for the same VM and port: same NSGs.
            Action::RequestJit { ports, .. } => Some(of_vms(&mut ports.iter().map(|p| p.vm))),
            Action::ApproveJit { request, .. } | Action::RevokeJit { request, .. } => of_request(request),
        }
    }

    /// The NSGs on `vm`'s paths: its NICs' and their subnets'. Enabling JIT writes only there, so
    /// enabling a scoped policy on thousands of VMs need not copy every NSG for each of them.
    pub(super) fn nsgs_of_vm(&self, vm: VmId) -> Vec<NsgId> {
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

    /// What changed in the NSGs of `before` since it was taken.
    pub(super) fn changes_since(&self, before: RulesSnapshot) -> Vec<NsgChange> {
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
                let attached = self.attached(*target);
                match *target {
                    Attachment::Subnet(s) => self
                        .topology
                        .set_subnet_nsg(s, Some(*nsg))
                        .map_err(|e| ActionError::new(&["subnet"], ActionFault::Topology(e)))?,
                    Attachment::Nic(n) => self.topology.set_nic_nsg(n, Some(*nsg)),
                }
                self.cache.rebuild(&self.topology);
                let nsg = self.topology.nsg(*nsg).name.clone();
                Ok(ActionOutcome::of(Happened::NsgAssociated { nsg, target: attached }))
            }
            Action::DetachNsg { target } => {
                let attached = self.attached(*target);
                let previous = match *target {
                    Attachment::Subnet(s) => self.topology.subnet(s).nsg,
                    Attachment::Nic(n) => self.topology.nic(n).nsg,
                };
                let Some(previous) = previous else {
                    let field = match target {
                        Attachment::Subnet(_) => "subnet",
                        Attachment::Nic(_) => "nic",
                    };
                    return Err(ActionError::new(&[field], ActionFault::NoNsgToDetach { target: attached }));
                };
                match *target {
                    // Dissociating never fails.
                    Attachment::Subnet(s) => {
                        let _ = self.topology.set_subnet_nsg(s, None);
                    }
                    Attachment::Nic(n) => self.topology.set_nic_nsg(n, None),
                }
                self.cache.rebuild(&self.topology);
                let nsg = self.topology.nsg(previous).name.clone();
                Ok(ActionOutcome::of(Happened::NsgDissociated { nsg, target: attached }))
            }
            Action::AddRule { nsg, rule } => {
                let changes = self.put_rule(*nsg, rule.clone()).map_err(|fault| {
                    let field = match &fault {
                        ActionFault::Nsg {
                            error: NsgError::DuplicatePriority { .. } | NsgError::PriorityOutOfRange { .. },
                            ..
                        } => &["rule", "priority"][..],
                        ActionFault::Nsg {
                            error: NsgError::DuplicateName { .. } | NsgError::InvalidName { .. },
                            ..
                        } => &["rule", "name"],
                        _ => &["rule"],
                    };
                    ActionError::new(field, fault)
                })?;
                let nsg = self.topology.nsg(*nsg).name.clone();
                let mut outcome = ActionOutcome::of(Happened::RuleAdded { nsg, rule: rule.name.clone() });
                outcome.changes = changes.into_iter().map(Change::Rule).collect();
                Ok(outcome)
            }
            Action::RemoveRule { nsg, name } => {
                let changes = self.delete_rule(*nsg, name).map_err(|e| ActionError::new(&["rule"], e))?;
                let nsg = self.topology.nsg(*nsg).name.clone();
                let mut outcome = ActionOutcome::of(Happened::RuleRemoved { nsg, rule: name.clone() });
                outcome.changes = changes.into_iter().map(Change::Rule).collect();
                Ok(outcome)
            }
            Action::SetPeeringAccess { vnet, remote, allow } => {
                self.topology
                    .set_peering_access(*vnet, *remote, *allow)
                    .map_err(|e| ActionError::new(&["remote"], ActionFault::Topology(e)))?;
                self.cache.rebuild(&self.topology);
                Ok(self.peering_access_set(*vnet, *remote, *allow))
            }
            Action::DeployAdminConfiguration { configuration } => {
                self.set_admin_deployment(*configuration, true)
            }
            Action::UndeployAdminConfiguration { configuration } => {
                self.set_admin_deployment(*configuration, false)
            }
            Action::Connect { name, request, endpoints } => {
                if self.connections.get(name).is_some_and(|c| c.open) {
                    return Err(ActionError::new(
                        &["name"],
                        ActionFault::ConnectionOpen { connection: name.clone() },
                    ));
                }
                let trace = self.evaluate(request);
                let opened = trace.verdict == Access::Allow;
                if opened {
                    self.connections.insert(
                        name.clone(),
                        Connection {
                            request: *request,
                            endpoints: endpoints.clone(),
                            opened_at: self.now,
                            open: true,
                        },
                    );
                }
                let mut outcome = ActionOutcome::of(Happened::ConnectionAttempted {
                    connection: name.clone(),
                    from: endpoints.from.clone(),
                    to: endpoints.to.clone(),
                    port: request.dst_port,
                    opened,
                });
                outcome.trace = Some(trace);
                Ok(outcome)
            }
            Action::Disconnect { name } => match self.connections.get_mut(name) {
                Some(c) if c.open => {
                    c.open = false;
                    Ok(ActionOutcome::of(Happened::ConnectionClosed { connection: name.clone() }))
                }
                _ => {
                    let open =
                        self.connections.iter().filter(|(_, c)| c.open).map(|(n, _)| n.clone()).collect();
                    Err(ActionError::new(
                        &["name"],
                        ActionFault::ConnectionNotOpen { connection: name.clone(), open },
                    ))
                }
            },
            Action::EnableJit { vm, actor, change, edit } => {
                let actor = self
                    .user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))
                    .map_err(|e| ActionError::new(&["by"], e))?;
                let out = if *edit {
                    self.jit.edit(&mut self.topology, *vm, change.clone(), &actor, self.now)
                } else {
                    self.jit.enable(&mut self.topology, *vm, change.clone(), &actor, self.now)
                };
                Ok(self.absorb(out))
            }
            Action::EnableJitOnVms { vms, actor, change } => {
                let actor = self
                    .user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))
                    .map_err(|e| ActionError::new(&["by"], e))?;
                let out = self.jit.enable_many(&mut self.topology, vms, change.clone(), &actor, self.now);
                Ok(self.absorb(out))
            }
            Action::SetDefenderPlan2 { enabled, actor } => {
                let actor = self
                    .user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))
                    .map_err(|e| ActionError::new(&["by"], e))?;
                let out = self.jit.set_plan2(&self.topology, *enabled, &actor, self.now);
                Ok(self.absorb(out))
            }
            Action::ConnectPageRequest { name, user, vm, enable, justification } => {
                let user = self.user(user).map_err(|e| ActionError::new(&["user"], e))?;
                let out = self.jit.connect_page(
                    &mut self.topology,
                    name,
                    &user,
                    *vm,
                    *enable,
                    justification.clone(),
                    self.now,
                );
                Ok(self.absorb(out))
            }
            Action::DisableJit { vm, actor } => {
                let actor = self
                    .user(actor.as_deref().unwrap_or(SETUP_PRINCIPAL))
                    .map_err(|e| ActionError::new(&["by"], e))?;
                let out = self.jit.disable(&mut self.topology, *vm, &actor, self.now);
                Ok(self.absorb(out))
            }
            Action::RequestJit { name, user, ports, duration, source, justification } => {
                let user = self.user(user).map_err(|e| ActionError::new(&["user"], e))?;
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
                let approver = self.user(approver).map_err(|e| ActionError::new(&["by"], e))?;
                let out = self
                    .jit
                    .approve(&mut self.topology, request, &approver, self.now)
                    .map_err(|e| ActionError::new(&["request"], ActionFault::Jit(e)))?;
                Ok(self.absorb(out))
            }
            Action::DenyJit { request, approver, reason } => {
                let approver = self.user(approver).map_err(|e| ActionError::new(&["by"], e))?;
                let out = self
                    .jit
                    .deny(&self.topology, request, &approver, reason, self.now)
                    .map_err(|e| ActionError::new(&["request"], ActionFault::Jit(e)))?;
                Ok(self.absorb(out))
            }
            Action::RevokeJit { request, actor } => {
                let actor = self.user(actor).map_err(|e| ActionError::new(&["by"], e))?;
                let out = self
                    .jit
                    .revoke(&mut self.topology, request, &actor, self.now)
                    .map_err(|e| ActionError::new(&["request"], ActionFault::Jit(e)))?;
                Ok(self.absorb(out))
            }
        }
    }

    /// Adds `rule` to `nsg` (replacing a rule of the same name), validates the NSG, recompiles
    /// it. Rule names are compared as Azure compares resource names, case-insensitively: writing
    /// `Allow-SSH` replaces `allow-ssh`. Returns the rules removed and added.
    ///
    /// # Errors
    /// [`ActionFault::Nsg`] with the validation error when the NSG would be invalid (e.g. a
    /// priority clash); the NSG is left unchanged.
    pub fn put_rule(&mut self, nsg: NsgId, rule: SecurityRule) -> Result<Vec<RuleChange>, ActionFault> {
        let mut candidate = self.topology.nsg(nsg).clone();
        let mut changes = Vec::new();
        if let Some(pos) = candidate.rules.iter().position(|r| r.name.eq_ignore_ascii_case(&rule.name)) {
            let old = candidate.rules.remove(pos);
            changes.push(RuleChange::Removed { nsg: candidate.name.clone(), rule: old });
        }
        changes.push(RuleChange::Added { nsg: candidate.name.clone(), rule: rule.clone() });
        if let Some((_, _, message)) = self.topology.rule_asgs_vnet_conflict(&rule) {
            let error = NsgError::AsgsInDifferentVnets { rule: rule.name.clone(), message };
            return Err(ActionFault::Nsg { nsg: candidate.name, error });
        }
        candidate.rules.push(rule);
        if let Err(error) = validate_nsg(&candidate) {
            return Err(ActionFault::Nsg { nsg: candidate.name, error });
        }
        *self.topology.nsg_mut(nsg) = candidate;
        self.cache.refresh(&self.topology, nsg);
        Ok(changes)
    }

    /// Deletes the rule called `name` (compared case-insensitively, as Azure does) from `nsg` and
    /// recompiles it. Returns the rule removed.
    ///
    /// # Errors
    /// When there is no such user rule (default rules cannot be deleted).
    pub fn delete_rule(&mut self, nsg: NsgId, name: &str) -> Result<Vec<RuleChange>, ActionFault> {
        let n = self.topology.nsg(nsg);
        let Some(pos) = n.rules.iter().position(|r| r.name.eq_ignore_ascii_case(name)) else {
            let valid: Vec<String> = n.rules.iter().map(|r| r.name.clone()).collect();
            let (nsg, rule) = (n.name.clone(), name.to_string());
            if default_rules().iter().any(|d| d.name.eq_ignore_ascii_case(name)) {
                return Err(ActionFault::DefaultRule { nsg, rule, valid });
            }
            return Err(ActionFault::NoSuchRule { nsg, rule, valid });
        };
        let change = RuleChange::Removed { nsg: n.name.clone(), rule: n.rules[pos].clone() };
        self.topology.nsg_mut(nsg).rules.remove(pos);
        self.cache.refresh(&self.topology, nsg);
        Ok(vec![change])
    }

    /// Where `target` is, by name.
    fn attached(&self, target: Attachment) -> Attached {
        match target {
            Attachment::Subnet(s) => {
                let subnet = self.topology.subnet(s);
                Attached::Subnet {
                    vnet: self.topology.vnet(subnet.vnet).name.clone(),
                    subnet: subnet.name.clone(),
                }
            }
            Attachment::Nic(n) => Attached::Nic { nic: self.topology.nic(n).name.clone() },
        }
    }
}

/// The principal of setup actions with no named actor: an Owner.
pub(super) fn setup_principal() -> User {
    User {
        name: SETUP_PRINCIPAL.into(),
        roles: vec!["Owner".into()],
        source_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Found;
    use crate::sim::testing::{outcomes, play, scenario};

    #[test]
    fn rule_names_are_compared_as_azure_compares_them() {
        let s = scenario("");
        let mut sim = Simulator::new(s.world());
        let nsg = sim.topology().nsg_by_name("nsg-a").expect("nsg");
        let old = sim.topology().nsg(nsg).rules[0].clone();
        let mut rule = old.clone();
        rule.name = "Allow-SSH".into();
        rule.priority = crate::nsg::Priority(200);
        let changes =
            sim.put_rule(nsg, rule.clone()).expect("a PUT of the same name in another case replaces it");
        assert_eq!(
            changes,
            [
                RuleChange::Removed { nsg: "nsg-a".into(), rule: old },
                RuleChange::Added { nsg: "nsg-a".into(), rule }
            ]
        );
        let names: Vec<&str> = sim.topology().nsg(nsg).rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Allow-SSH"]);
        let e = sim.delete_rule(nsg, "DenyAllInBound").expect_err("default rules cannot be deleted");
        assert_eq!(
            e,
            ActionFault::DefaultRule {
                nsg: "nsg-a".into(),
                rule: "DenyAllInBound".into(),
                valid: vec!["Allow-SSH".into()]
            }
        );
        assert_eq!(
            e.to_string(),
            "'DenyAllInBound' is a default rule of NSG 'nsg-a'; default rules cannot be deleted; valid: a user rule (Allow-SSH)"
        );
        sim.delete_rule(nsg, "allow-ssh").expect("deleted whatever the case");
        assert!(sim.topology().nsg(nsg).rules.is_empty());
        assert_eq!(
            sim.delete_rule(nsg, "x").expect_err("no rule").to_string(),
            "NSG 'nsg-a' has no rule 'x'; valid: (none)"
        );
    }

    #[test]
    fn a_put_that_breaks_the_nsg_keeps_the_validation_error() {
        let s = scenario("");
        let mut sim = Simulator::new(s.world());
        let nsg = sim.topology().nsg_by_name("nsg-a").expect("nsg");
        let mut clash = sim.topology().nsg(nsg).rules[0].clone();
        clash.name = "other".into();
        let e = sim.put_rule(nsg, clash).expect_err("same priority and direction");
        assert!(
            matches!(e, ActionFault::Nsg { ref nsg, error: NsgError::DuplicatePriority { .. } } if nsg == "nsg-a"),
            "{e:?}"
        );
        assert_eq!(sim.topology().nsg(nsg).rules.len(), 1, "left unchanged");
    }

    #[test]
    fn established_connections_survive_rule_changes_and_record_what_changed() {
        let report = play(
            r#"(at: "0", action: Connect(name: "ssh", from: "vm2", to: "vm1", port: 22)),
               (at: "1m", action: RemoveRule(nsg: "nsg-a", rule: "allow-ssh")),
               (at: "1m", expect: Connection(name: "ssh", open: true)),
               (at: "2m", action: Disconnect(name: "ssh")),
               (at: "2m", expect: Connection(name: "ssh", open: false))"#,
        );
        let got = outcomes(&report);
        assert_eq!(got[0].2, Found::Connection { open: true });
        assert_eq!(got[1].2, Found::Connection { open: false });
        let opened = report.steps[0].action.as_ref().expect("an action");
        assert_eq!(
            opened.what,
            Happened::ConnectionAttempted {
                connection: "ssh".into(),
                from: "vm2".into(),
                to: "vm1".into(),
                port: 22,
                opened: true
            }
        );
        assert!(opened.trace.is_some());
        let removed = report.steps[1].action.as_ref().expect("an action");
        assert_eq!(removed.what, Happened::RuleRemoved { nsg: "nsg-a".into(), rule: "allow-ssh".into() });
        assert_eq!(removed.what.to_string(), "removed rule 'allow-ssh' from NSG 'nsg-a'");
        assert!(
            matches!(&removed.changes[..], [Change::Rule(RuleChange::Removed { nsg, rule })] if nsg == "nsg-a" && rule.name == "allow-ssh")
        );
        assert_eq!(removed.nsg_changes.len(), 1);
        let change = &removed.nsg_changes[0];
        assert!(change.added.is_empty());
        assert_eq!(change.removed.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["allow-ssh"]);
        assert!(change.apply(&change.removed).is_empty());
        let log = report.end.jit().log().entries();
        assert!(log.iter().any(|e| e.operation == "Delete Security Rule"
            && e.detail == "removed rule 'allow-ssh' from NSG 'nsg-a'"));
    }

    #[test]
    fn a_jit_refusal_is_an_outcome_and_an_unknown_user_a_fault() {
        let report = play(
            r#"(at: "0", action: RequestJit(id: "r", user: "alice", vm: "vm1", ports: [22], duration: "1h"))"#,
        );
        let refused = report.steps[0].action.as_ref().expect("an action");
        assert!(!refused.accepted());
        assert!(
            matches!(refused.refusal(), Some(crate::jit::JitError::NotConfigured { vm, .. }) if vm == "vm1")
        );
        let s = scenario("");
        let mut sim = Simulator::new(s.world());
        let action = Action::DisableJit {
            vm: sim.topology().vm_by_name("vm1").expect("vm"),
            actor: Some("bob".into()),
        };
        let e = sim.apply(&action).expect_err("no such user");
        assert_eq!(e.field, crate::scenario::FieldPath::root("by"));
        assert_eq!(*e.fault, ActionFault::UnknownUser { name: "bob".into(), valid: vec!["alice".into()] });
    }
}

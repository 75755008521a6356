//! Configuring JIT on a VM: enable, edit, disable, and the protected ports that existing rules
//! still open.
//!
//! Enabling writes a deny rule per protected port into the NSGs on the VM's inbound path (the
//! levels the options name), where existing rules for the port keep precedence, and warns about
//! those (Defender's portal does). "Enable JIT on n VMs" enables several VMs in one action, all
//! or none. Editing rewrites the deny rules of the ports it changes (the others stay as they
//! are) and ends the grants of ports no longer protected. Disabling ends the VM's grants and
//! removes its deny rules. Turning Defender for Servers Plan 2 off makes JIT unavailable.

use std::fmt;

use crate::model::{FirewallMode, NicId, NsgId, Topology, User, VmId};
use crate::nsg::{MAX_RULES_PER_NSG, NsgError};
use crate::time::Instant;

use super::engine::VmJit;
use super::log::{LogKind, LogStatus};
use super::outcome::Effects;
use super::rules::{covering_rules, deny_priority, deny_rule, existing_deny_rule, is_deny_rule_for};
use super::{
    CancelReason, GrantId, GrantState, JitEngine, JitError, JitEvent, JitOutcome, JitPolicy, JitWarning,
    NsgLevels, Permission, PolicyChange, PolicyEdit, Supportability, default_ports, supportability,
};

/// What a policy write does with the deny rules: enable (write those missing), edit (the same,
/// on a VM where JIT is enabled only), or take over a policy in force in Azure while the NSGs
/// are as a plan writes them (keep those found, write none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PolicyWrite {
    Enable,
    Edit,
    InForce,
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
    /// Its source field as Azure writes it (`*`, `10.0.0.0/8`, `Internet`, `asg:admins`).
    pub source: String,
}

impl fmt::Display for OpenPort {
    /// The warning Defender gives, in one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NSG '{}': existing rule '{}' (priority {}) allows port {} from {} and keeps precedence over the JIT deny rule: JIT does not protect this port until it is removed",
            self.nsg, self.rule, self.priority, self.port, self.source
        )
    }
}

/// The resource a VM's JIT policy operations name in the activity log.
fn policy_resource(vm: &str) -> String {
    format!("jitNetworkAccessPolicies/default (vm '{vm}')")
}

impl JitEngine {
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
        self.write_policy(topology, vm, change, actor, now, PolicyWrite::Enable)
    }

    /// Takes over a JIT policy that is in force in Azure on `vm` while its NSGs are as a plan
    /// writes them (`in_force_from` of an imported policy): JIT is enabled with the policy and
    /// keeps the deny rules it finds, but writes none that is missing, because an apply of the
    /// plan leaves the NSGs without them. Each missing one is a warning
    /// ([`JitWarning::DenyRulesMissing`]); `lint` reports what the Internet then reaches
    /// (`analysis::jit_drift`).
    pub fn take_over_in_force(
        &mut self,
        topology: &mut Topology,
        vm: VmId,
        change: PolicyChange,
        actor: &User,
        now: Instant,
    ) -> JitOutcome {
        self.write_policy(topology, vm, change, actor, now, PolicyWrite::InForce)
    }

    /// The (NSG, port) pairs where JIT, enabled on `vm`, protects the port but the NSG holds no
    /// deny rule of JIT's for it (a plan's NSG written without them, or a rule deleted by hand):
    /// in the NSGs JIT manages for the VM, in its policy's port order.
    pub fn missing_deny_rules(&self, topology: &Topology, vm: VmId) -> Vec<(NsgId, u16)> {
        let Some(config) = self.configured.get(&vm) else { return Vec::new() };
        let mut out = Vec::new();
        for &nsg in &config.nsgs {
            for port in &config.policy.ports {
                let present = config.deny_rules.iter().any(|(n, p, name)| {
                    *n == nsg && *p == port.number && topology.nsg(nsg).rule(name).is_some()
                });
                if !present {
                    out.push((nsg, port.number));
                }
            }
        }
        out
    }

    /// The NSGs JIT manages for `vm` where an active grant of a VM taken over as in force
    /// ([`JitEngine::take_over_in_force`]) has no allow rule: the plan dropped it, so the access
    /// ends at an apply. Each as (grant, NSG).
    pub fn missing_grant_rules(&self, topology: &Topology, vm: VmId) -> Vec<(GrantId, NsgId)> {
        let Some(config) = self.configured.get(&vm).filter(|c| c.in_force) else { return Vec::new() };
        let mut out = Vec::new();
        for g in self.grants.iter().filter(|g| g.vm == vm && g.state == GrantState::Active) {
            for &nsg in &config.nsgs {
                let held =
                    g.rules.iter().any(|(n, name)| *n == nsg && topology.nsg(nsg).rule(name).is_some());
                if !held {
                    out.push((g.id, nsg));
                }
            }
        }
        out
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
        self.write_policy(topology, vm, change, actor, now, PolicyWrite::Edit)
    }

    /// Whether `actor` may configure JIT: the action their roles lack, as a refusal.
    pub(super) fn check_configure(&self, actor: &User) -> Result<(), JitError> {
        self.roles.check(&actor.roles, Permission::Configure).map_err(|action| JitError::MissingPermission {
            user: actor.name.clone(),
            roles: actor.roles.clone(),
            action,
            permission: Permission::Configure,
        })
    }

    /// The policy an enable or edit of `vm` would write, and where: refused (with the reason)
    /// when `actor` may not configure JIT, an edit names a VM not configured, the VM is
    /// unsupported, the policy's name would be too long, or the deny rules would break Azure's
    /// limit of rules per NSG. Nothing is written or logged here, so that "Enable JIT on n VMs"
    /// can check every VM before it writes anything.
    fn plan_policy(
        &self,
        topology: &Topology,
        vm: VmId,
        change: PolicyChange,
        actor: &User,
        write: PolicyWrite,
    ) -> Result<(JitPolicy, Vec<NsgId>, NicId), JitError> {
        let vm_name = topology.vm(vm).name.clone();
        self.check_configure(actor)?;
        if write == PolicyWrite::Edit && !self.configured.contains_key(&vm) {
            return Err(JitError::EditNotConfigured { vm: vm_name, status: self.status(topology, vm) });
        }
        let status =
            supportability(topology, vm, false, self.options.defender_plan2, &self.options.disabled_scopes);
        if let Supportability::Unsupported(reason) = status {
            return Err(JitError::Unsupported { vm: vm_name, reason });
        }
        if format!("default{vm_name}").len() > 56 {
            return Err(JitError::PolicyNameTooLong { vm: vm_name });
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
            return Err(JitError::NoNic { vm: vm_name });
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
                return Err(JitError::DenyRulesOverLimit { vm: vm_name, limit });
            }
        }
        Ok((policy, nsgs, nic))
    }

    fn write_policy(
        &mut self,
        topology: &mut Topology,
        vm: VmId,
        change: PolicyChange,
        actor: &User,
        now: Instant,
        write: PolicyWrite,
    ) -> JitOutcome {
        let vm_name = topology.vm(vm).name.clone();
        let resource = policy_resource(&vm_name);
        let operation = "Update JIT Network Access Policy";
        let (policy, nsgs, nic) = match self.plan_policy(topology, vm, change, actor, write) {
            Ok(planned) => planned,
            Err(e) => return self.refuse(LogKind::Policy, now, &actor.name, operation, &resource, e),
        };
        let editing = self.configured.contains_key(&vm);
        let before = self.configured.get(&vm).map(|c| c.policy.clone());
        let mut out = Effects::default();
        if editing {
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
        let ports: Vec<u16> = policy.ports.iter().map(|p| p.number).collect();
        let listed: Vec<String> = ports.iter().map(u16::to_string).collect();
        self.record(
            LogKind::Policy,
            now,
            &actor.name,
            operation,
            &resource,
            LogStatus::Succeeded,
            format!("ports {}", listed.join(", ")),
        );
        let vm_ip = topology.nic(nic).private_ip;
        let ctx = topology.resolve_context_for_subnet(topology.nic(nic).subnet);
        if self.options.strict_deny_placement {
            out.warnings.push(JitWarning::StrictDenyPlacement);
        }
        match self.options.levels {
            NsgLevels::Both => {}
            NsgLevels::NicOnly => out.warnings.push(JitWarning::NicLevelOnly),
            NsgLevels::SubnetOnly => out.warnings.push(JitWarning::SubnetLevelOnly),
        }
        // "Defender for Cloud ensures 'deny all inbound traffic' rules exist for your selected
        // ports": on an edit, a deny rule that is still right (same NSG, port and protocol) stays
        // as it is, and only the rules of removed or changed ports are deleted and rewritten, so
        // an edit changes (and shows) only what it changes.
        let old_rules = self.configured.get(&vm).map(|c| c.deny_rules.clone()).unwrap_or_default();
        let still_right = |(nsg, number, name): &(NsgId, u16, String)| {
            nsgs.contains(nsg)
                && policy.port(*number).is_some_and(|port| {
                    topology.nsg(*nsg).rule(name).is_some_and(|r| is_deny_rule_for(r, vm_ip, port))
                })
        };
        let (kept, stale): (Vec<_>, Vec<_>) = old_rules.into_iter().partition(|r| still_right(r));
        for (nsg, _, name) in &stale {
            self.delete_rule(topology, *nsg, name, now, &mut out);
        }
        let mut deny_rules = kept;
        let mut missing = Vec::new();
        for &nsg in &nsgs {
            for port in &policy.ports {
                if deny_rules.iter().any(|(n, p, _)| *n == nsg && *p == port.number) {
                    continue;
                }
                // A deny rule Defender wrote before (an imported NSG holds it) is JIT's own:
                // Defender "ensures 'deny all inbound traffic' rules exist", it does not add one
                // next to another.
                if let Some(existing) = existing_deny_rule(topology.nsg(nsg), port, vm_ip) {
                    deny_rules.push((nsg, port.number, existing.name.clone()));
                    continue;
                }
                if write == PolicyWrite::InForce {
                    missing.push((topology.nsg(nsg).name.clone(), port.number));
                    continue;
                }
                let nsg_name = topology.nsg(nsg).name.clone();
                let Some((priority, as_intended)) =
                    deny_priority(topology.nsg(nsg), port, vm_ip, &ctx, self.options.strict_deny_placement)
                else {
                    out.warnings.push(JitWarning::NoFreeDenyPriority { nsg: nsg_name, port: port.number });
                    continue;
                };
                let seed = self.next_seed();
                let rule = deny_rule(&vm_name, vm_ip, port, priority, seed);
                if !as_intended {
                    out.warnings.push(JitWarning::DenyPlacedElsewhere {
                        nsg: nsg_name,
                        port: port.number,
                        priority,
                    });
                }
                self.write_rule(topology, nsg, rule.clone(), now, &mut out);
                deny_rules.push((nsg, port.number, rule.name));
            }
        }
        let approver_roles = policy.approver_roles.clone();
        let firewall = super::support::firewall_for(topology, vm).filter(|&f| {
            let fw = topology.firewall(f);
            fw.mode == FirewallMode::Classic && fw.public_ip.is_some()
        });
        let edit = before.map(|b| PolicyEdit::between(&b, &policy));
        let in_force = write == PolicyWrite::InForce;
        let config = VmJit { policy, nsgs, deny_rules, firewall, in_force };
        // A port without JIT's deny rule (a policy in force beside a plan) has no deny rule to
        // keep precedence over: DenyRulesMissing says so instead.
        let no_deny = |o: &OpenPort| missing.iter().any(|(nsg, port)| *nsg == o.nsg && *port == o.port);
        out.warnings.extend(
            open_ports_of(&config, topology, vm)
                .into_iter()
                .filter(|o| !no_deny(o))
                .map(JitWarning::OpenPort),
        );
        if !missing.is_empty() {
            out.warnings.push(JitWarning::DenyRulesMissing { vm: vm_name.clone(), missing });
        } else if config.deny_rules.is_empty() && firewall.is_none() {
            out.warnings.push(JitWarning::NoRuleWritten { vm: vm_name.clone(), levels: self.options.levels });
        }
        if let Some(f) = firewall {
            let firewall = topology.firewall(f).name.clone();
            out.warnings.push(JitWarning::BehindFirewall { vm: vm_name.clone(), firewall });
        }
        // JIT's rules name one destination, the VM's (primary) private IP; a VM's other NICs get
        // none, so the protected ports there are whatever their own NSGs say (model choice).
        let others: Vec<(String, std::net::IpAddr)> = topology
            .vm(vm)
            .nics
            .iter()
            .filter(|&&n| n != nic)
            .map(|&n| (topology.nic(n).name.clone(), topology.nic(n).private_ip))
            .collect();
        if !others.is_empty() {
            let primary = (topology.nic(nic).name.clone(), vm_ip);
            out.warnings.push(JitWarning::OtherNicsUnprotected { vm: vm_name.clone(), primary, others });
        }
        // The same for secondary IP configurations: the rules name the primary configuration's
        // address alone.
        let configs: Vec<(String, std::net::IpAddr)> = topology
            .vm(vm)
            .nics
            .iter()
            .flat_map(|&n| {
                let name = &topology.nic(n).name;
                topology.nic(n).secondary.iter().map(move |c| (format!("{name}/{}", c.name), c.private_ip))
            })
            .collect();
        if !configs.is_empty() {
            let primary = (topology.nic(nic).name.clone(), vm_ip);
            out.warnings.push(JitWarning::OtherIpConfigsUnprotected {
                vm: vm_name.clone(),
                primary,
                others: configs,
            });
        }
        self.configured.insert(vm, config);
        let mut cancelled = Vec::new();
        if editing {
            // A request that waits for approval on this VM and whose VMs now name no approver
            // role could never be approved or denied: cancel it rather than leave it pending for
            // ever. The requester asks again, and the new request is decided at once.
            let reason = CancelReason::NoApproverLeft { vm: vm_name.clone(), by: actor.name.clone() };
            cancelled = self.cancel_pending(now, &actor.name, &reason, |jit, r| {
                r.ports.iter().any(|p| p.vm == vm) && jit.approvers_for(&r.ports).is_empty()
            });
        }
        out.finish(JitEvent::Enabled {
            vm: vm_name,
            ports,
            approver_roles,
            updated: editing,
            edit,
            cancelled,
        })
    }

    /// "Enable JIT on n VMs" (the portal's Not configured tab, several VMs selected): one action
    /// that writes one policy. Every VM is checked first, and when one of them cannot be enabled
    /// the action is refused with that VM's reason and nothing is written, as one policy PUT is
    /// accepted or refused whole.
    pub fn enable_many(
        &mut self,
        topology: &mut Topology,
        vms: &[VmId],
        change: PolicyChange,
        actor: &User,
        now: Instant,
    ) -> JitOutcome {
        for &vm in vms {
            if let Err(e) = self.plan_policy(topology, vm, change.clone(), actor, PolicyWrite::Enable) {
                let resource = policy_resource(&topology.vm(vm).name);
                return self.refuse(
                    LogKind::Policy,
                    now,
                    &actor.name,
                    "Update JIT Network Access Policy",
                    &resource,
                    e,
                );
            }
        }
        let mut out = Effects::default();
        let mut events = Vec::new();
        for &vm in vms {
            let one = self.write_policy(topology, vm, change.clone(), actor, now, PolicyWrite::Enable);
            events.push(out.absorb(one));
        }
        out.finish(JitEvent::EnabledOnVms(events))
    }

    /// Turns Defender for Servers Plan 2 on or off. JIT requires the plan: while it is off no VM
    /// can be enabled and every request is refused. What happens to VMs already configured is
    /// undocumented; nsgsim keeps their policies and deny rules (nobody deletes them), and their
    /// open grants end at their end time (model choice, [`super::PLAN2_OFF_MODEL_CHOICE`]).
    pub fn set_plan2(
        &mut self,
        topology: &Topology,
        enabled: bool,
        actor: &User,
        now: Instant,
    ) -> JitOutcome {
        let operation = "Update Defender plan (Microsoft.Security/pricings/write)";
        let resource = "pricings/VirtualMachines (Defender for Servers Plan 2)";
        if let Err(action) = self.roles.check(&actor.roles, Permission::SetPlan) {
            let e = JitError::MissingPermission {
                user: actor.name.clone(),
                roles: actor.roles.clone(),
                action,
                permission: Permission::SetPlan,
            };
            return self.refuse(LogKind::Policy, now, &actor.name, operation, resource, e);
        }
        self.options.defender_plan2 = enabled;
        let state = if enabled { "on" } else { "off" };
        self.record(
            LogKind::Policy,
            now,
            &actor.name,
            operation,
            resource,
            LogStatus::Succeeded,
            format!("Plan 2 {state}"),
        );
        let configured = self.configured.keys().map(|&vm| topology.vm(vm).name.clone()).collect();
        Effects::default().finish(JitEvent::Plan2Set { enabled, configured })
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
        let resource = policy_resource(&vm_name);
        let operation = "Delete JIT Network Access Policy";
        if let Err(e) = self.check_configure(actor) {
            return self.refuse(LogKind::Policy, now, &actor.name, operation, &resource, e);
        }
        if !self.configured.contains_key(&vm) {
            let e = JitError::DisableNotConfigured { vm: vm_name };
            return self.refuse(LogKind::Policy, now, &actor.name, operation, &resource, e);
        }
        let mut out = Effects::default();
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
            out.warnings.push(JitWarning::DenyRulesKept);
        } else {
            self.remove_deny_rules(topology, vm, now, &mut out);
        }
        self.configured.remove(&vm);
        self.record(
            LogKind::Policy,
            now,
            &actor.name,
            operation,
            &resource,
            LogStatus::Succeeded,
            "JIT was disabled on the VM".into(),
        );
        // A request waiting for approval on this VM could never be granted now: cancel it
        // rather than leave it pending for ever.
        let reason = CancelReason::JitDisabled { vm: vm_name.clone(), by: actor.name.clone() };
        let cancelled =
            self.cancel_pending(now, &actor.name, &reason, |_, r| r.ports.iter().any(|p| p.vm == vm));
        out.finish(JitEvent::Disabled { vm: vm_name, cancelled })
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

    fn remove_deny_rules(&mut self, topology: &mut Topology, vm: VmId, now: Instant, out: &mut Effects) {
        let Some(config) = self.configured.get(&vm).cloned() else { return };
        for (nsg, _, name) in &config.deny_rules {
            self.delete_rule(topology, *nsg, name, now, out);
        }
        if let Some(c) = self.configured.get_mut(&vm) {
            c.deny_rules.clear();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::RoleBook;
    use crate::jit::testing::{
        ask, assert_refused, at, enabled, fixture, jit_rules, rule, ssh_policy, status_of, user,
    };
    use crate::jit::{
        CancelledRequest, JitOptions, RequestState, RequestStatus, RuleChange, UnsupportedReason,
    };
    use crate::model::Os;
    use crate::nsg::{Access, AddressSpec, SecurityRule};

    #[test]
    fn enable_writes_deny_rules_into_both_levels() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::NotConfigured);
        let out = jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &owner, f.t0);
        assert!(out.accepted(), "{}", out.event);
        assert_eq!(jit_rules(&f.topology, f.subnet_nsg, Access::Deny), 4);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 4);
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::Configured);
        match &out.event {
            JitEvent::Enabled { vm, ports, updated: false, cancelled, .. } => {
                assert_eq!((vm.as_str(), ports.as_slice()), ("vm1", [22, 3389, 5985, 5986].as_slice()));
                assert!(cancelled.is_empty());
            }
            other => panic!("expected Enabled, got {other:?}"),
        }
        let added = out.changes.iter().filter(|c| matches!(c, RuleChange::Added { .. })).count();
        assert_eq!(added, 8, "one deny rule per port and NSG");
    }

    #[test]
    fn a_role_without_write_cannot_configure() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let reader = user("r", &["Reader"], "203.0.113.2");
        let refused = jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &reader, f.t0);
        assert!(
            matches!(
                refused.refusal(),
                Some(JitError::MissingPermission { user, action, permission: Permission::Configure, .. })
                    if user == "r" && action.ends_with("jitNetworkAccessPolicies/write")
            ),
            "{:?}",
            refused.event
        );
        assert!(refused.changes.is_empty());
        let off = jit.disable(&mut f.topology, f.vm, &reader, f.t0);
        assert!(matches!(off.refusal(), Some(JitError::MissingPermission { .. })), "{:?}", off.event);
    }

    #[test]
    fn nic_only_option_and_unsupported_vms() {
        let mut f = fixture();
        let options = JitOptions { levels: NsgLevels::NicOnly, ..Default::default() };
        let mut jit = JitEngine::new(options, RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let out = jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &owner, f.t0);
        assert_eq!(jit_rules(&f.topology, f.subnet_nsg, Access::Deny), 0);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 4);
        assert_eq!(out.warnings.first(), Some(&JitWarning::NicLevelOnly));

        let mut t = fixture().topology;
        let s = t.subnet_ids().next().expect("subnet");
        let classic = t.add_vm("old", Os::Windows, true, ("sub", "rg")).expect("vm");
        t.add_nic("old-nic", s, "10.0.1.5".parse().expect("ip"), Some(classic)).expect("nic");
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        assert_eq!(jit.status(&t, classic), Supportability::Unsupported(UnsupportedReason::Classic));
        let refused = jit.enable(&mut t, classic, PolicyChange::default(), &owner, f.t0);
        assert!(
            matches!(
                refused.refusal(),
                Some(JitError::Unsupported { vm, reason: UnsupportedReason::Classic }) if vm == "old"
            ),
            "{:?}",
            refused.event
        );
        let no_plan = JitEngine::new(
            JitOptions { defender_plan2: false, ..Default::default() },
            RoleBook::default(),
            vec![],
        );
        assert!(matches!(
            no_plan.status(&t, classic),
            Supportability::Unsupported(UnsupportedReason::NoPlan2 { subscription }) if subscription == "sub"
        ));
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
        assert!(
            matches!(
                out.refusal(),
                Some(JitError::DenyRulesOverLimit { vm, limit: NsgError::TooManyRules { nsg, count: 1001 } })
                    if vm == "vm1" && nsg == "nic-nsg"
            ),
            "{:?}",
            out.event
        );
        assert_eq!(f.topology.nsg(f.nic_nsg).rules.len(), 997, "nothing written");
        assert_eq!(
            jit_rules(&f.topology, f.subnet_nsg, Access::Deny),
            0,
            "nothing written at the other level either"
        );
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::NotConfigured);
        // One port fits (998); its grant would be the 999th... and with one more filler, the 1,001st.
        let out = jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert!(out.accepted(), "{}", out.event);
        f.topology.nsg_mut(f.nic_nsg).rules.push(rule("f-last", 999, Access::Allow, 8081, AddressSpec::Any));
        f.topology.nsg_mut(f.nic_nsg).rules.push(rule("f-last2", 998, Access::Allow, 8081, AddressSpec::Any));
        assert_eq!(f.topology.nsg(f.nic_nsg).rules.len(), 1000);
        let out = ask(&mut jit, &mut f, "full", &owner, 22, 600, None, 0);
        assert_refused(&jit, &f, "full", &out, |e| {
            matches!(
                e,
                JitError::AllowRuleOverLimit { port: 22, limit: NsgError::TooManyRules { nsg, count: 1001 }, .. }
                    if nsg == "nic-nsg"
            )
        });
        assert_eq!(
            jit_rules(&f.topology, f.subnet_nsg, Access::Allow),
            0,
            "no half grant at the subnet level"
        );
    }

    #[test]
    fn edit_refuses_a_vm_that_is_not_configured() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let out = jit.edit(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert_eq!(
            out.refusal(),
            Some(&JitError::EditNotConfigured { vm: "vm1".into(), status: Supportability::NotConfigured })
        );
        assert_eq!(jit.status(&f.topology, f.vm), Supportability::NotConfigured, "not enabled silently");
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 0);
        let last = jit.log().entries().last().expect("logged");
        assert_eq!(last.status, LogStatus::Failed);
        // Enabled first, the same edit works.
        jit.enable(&mut f.topology, f.vm, PolicyChange::default(), &owner, f.t0);
        let out = jit.edit(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert!(
            matches!(&out.event, JitEvent::Enabled { updated: true, ports, .. } if ports == &[22]),
            "{:?}",
            out.event
        );
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 1);
    }

    #[test]
    fn disabling_a_vm_that_is_not_configured_is_refused() {
        let mut f = fixture();
        let mut jit = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let out = jit.disable(&mut f.topology, f.vm, &owner, f.t0);
        assert_eq!(out.refusal(), Some(&JitError::DisableNotConfigured { vm: "vm1".into() }));
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
            (
                open[0].nsg.as_str(),
                open[0].rule.as_str(),
                open[0].priority,
                open[0].port,
                open[0].source.as_str()
            ),
            ("nic-nsg", "ssh-any", 300, 22, "*")
        );
        assert!(
            out.warnings.contains(&JitWarning::OpenPort(open[0].clone())),
            "enable warns the same: {:?}",
            out.warnings
        );
        f.topology.nsg_mut(f.nic_nsg).rules.retain(|r| r.name != "ssh-any");
        assert!(jit.open_ports(&f.topology, f.vm).is_empty());
        // Strict placement puts the deny first: nothing stays open.
        let mut g = fixture();
        g.topology.nsg_mut(g.nic_nsg).rules.push(rule("ssh-any", 300, Access::Allow, 22, AddressSpec::Any));
        let mut strict = JitEngine::new(
            JitOptions { strict_deny_placement: true, ..Default::default() },
            RoleBook::default(),
            vec![],
        );
        let out = strict.enable(&mut g.topology, g.vm, ssh_policy(3600, &[]).into(), &owner, g.t0);
        assert!(strict.open_ports(&g.topology, g.vm).is_empty());
        assert_eq!(out.warnings.first(), Some(&JitWarning::StrictDenyPlacement));
    }

    #[test]
    fn open_port_warning_reads_as_defender_gives_it() {
        let open =
            OpenPort { nsg: "n".into(), port: 22, rule: "ssh".into(), priority: 300, source: "*".into() };
        assert_eq!(
            open.to_string(),
            "NSG 'n': existing rule 'ssh' (priority 300) allows port 22 from * and keeps precedence over the JIT deny rule: JIT does not protect this port until it is removed"
        );
    }

    #[test]
    fn disabling_jit_cancels_requests_waiting_for_approval() {
        let (mut f, mut jit, owner) = enabled(Default::default(), &["Security Admin"]);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let sec = user("sec", &["Security Admin"], "203.0.113.6");
        ask(&mut jit, &mut f, "r", &dev, 22, 900, None, 0);
        let off = jit.disable(&mut f.topology, f.vm, &owner, at(f.t0, 60));
        let cancelled = match &off.event {
            JitEvent::Disabled { cancelled, .. } => cancelled.clone(),
            other => panic!("expected Disabled, got {other:?}"),
        };
        assert_eq!(cancelled, [CancelledRequest { request: "r".into(), requester: "dev".into() }]);
        assert_eq!(status_of(&jit, "r"), RequestStatus::Cancelled);
        assert!(jit.log().entries().iter().any(|e| e.operation == "Cancel JIT request" && e.extension));
        let late = jit.approve(&mut f.topology, "r", &sec, at(f.t0, 120)).expect("exists");
        let Some(JitError::NotPending { status, state, .. }) = late.refusal() else {
            panic!("expected NotPending, got {:?}", late.event)
        };
        assert_eq!(*status, RequestStatus::Cancelled);
        assert_eq!(
            **state,
            RequestState::Cancelled(CancelReason::JitDisabled { vm: "vm1".into(), by: "o".into() })
        );
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
    }

    #[test]
    fn removing_the_approvers_cancels_the_requests_that_wait_for_them() {
        let (mut f, mut jit, owner) = enabled(Default::default(), &["Security Admin"]);
        let dev = user("dev", &["JIT Access Role"], "203.0.113.5");
        let sec = user("sec", &["Security Admin"], "203.0.113.6");
        ask(&mut jit, &mut f, "r", &dev, 22, 900, None, 0);
        // An edit that keeps an approver role leaves the request waiting.
        let kept = PolicyChange { ports: None, approver_roles: Some(vec!["Owner".into()]) };
        let out = jit.edit(&mut f.topology, f.vm, kept, &owner, f.t0);
        assert!(
            matches!(&out.event, JitEvent::Enabled { cancelled, .. } if cancelled.is_empty()),
            "{:?}",
            out.event
        );
        assert_eq!(status_of(&jit, "r"), RequestStatus::Pending);
        // Removing the last one cancels it: nobody could approve or deny it any more.
        let none = PolicyChange { ports: None, approver_roles: Some(vec![]) };
        let out = jit.edit(&mut f.topology, f.vm, none, &owner, at(f.t0, 60));
        assert!(
            matches!(&out.event, JitEvent::Enabled { cancelled, approver_roles, .. }
                if approver_roles.is_empty() && cancelled.len() == 1 && cancelled[0].request == "r"),
            "{:?}",
            out.event
        );
        assert_eq!(status_of(&jit, "r"), RequestStatus::Cancelled);
        let cancel =
            jit.log().entries().iter().find(|e| e.operation == "Cancel JIT request").expect("logged");
        assert!(cancel.extension && cancel.status == LogStatus::Succeeded, "{cancel:?}");
        let late = jit.approve(&mut f.topology, "r", &sec, at(f.t0, 120)).expect("exists");
        assert!(
            matches!(late.refusal(), Some(JitError::NotPending { state, .. })
                if **state == RequestState::Cancelled(CancelReason::NoApproverLeft { vm: "vm1".into(), by: "o".into() })),
            "{:?}",
            late.event
        );
        // Asked again, the request is decided at once.
        ask(&mut jit, &mut f, "r2", &dev, 22, 900, None, 180);
        assert_eq!(status_of(&jit, "r2"), RequestStatus::Active);
    }
}

//! JIT policies, and Defender's own rules in the imported NSGs.
//!
//! Each VM of an imported JIT policy becomes a scoped policy enabled at the start, with the
//! grants its `requests` still hold open (`active_grants`). Defender names the NSG rules it
//! writes (`SecurityCenter-JITRule_-<n>_<hex>` deny rules, `SecurityCenter-JITRule-<n>-<hex>`
//! allow rules); an NSG exported with its JIT policy holds them already. When the policy is
//! enabled at the start, JIT takes over the deny rules it finds for the VM's ports ("Defender
//! for Cloud ensures 'deny all inbound traffic' rules exist for your selected ports") and the
//! allow rules of its open grants, rather than writing a second set. A JIT allow rule no open
//! grant accounts for would stay open for ever in the scenario, where Defender deletes it at
//! the grant's end: a gap.
//!
//! A policy read from `az`/REST JSON (`az security jit-policy list`, the REST GET body) beside
//! a Terraform plan or an ARM template is different: the policy is what is in force in Azure,
//! and the NSGs are what the plan or template will make them, which an apply enforces, JIT's
//! rules or not. Such a policy is written `in_force_from` its file: JIT takes over what it finds
//! at the start and writes no missing deny rule, so the planned scenario shows the NSGs as the
//! apply leaves them and `lint` reports each deny rule the plan drops (JIT005), rather than the
//! import re-creating them and hiding the drop.

use super::{Res, VM};
use crate::import::inventory::Inventory;
use crate::import::json_position::file_position;
use crate::import::source::Src;
use crate::jit::JIT_RULE_PREFIX;
use crate::scenario::schema::{
    AccessSpec, ActiveGrantSpec, CaveatKindSpec, JitPolicySpec, NsgSpec, ScopeSpec, VmSpec,
};

impl Inventory {
    /// The scenario's JIT policies, one per VM of each imported policy that is in the scenario.
    pub(super) fn jit_policy_specs(&mut self, vms: &[VmSpec], nsgs: &[NsgSpec]) -> Res<Vec<JitPolicySpec>> {
        let mut out = Vec::new();
        let records = std::mem::take(&mut self.jit);
        for j in &records {
            let (r, src) = &j.vm;
            let vm = match self.resolve(r, src, VM) {
                Ok(vm) if vms.iter().any(|v| v.name == vm) => vm,
                Ok(vm) => {
                    self.diag.warn(src, format!("JIT policy '{}' covers virtual machine '{vm}', which is not imported (see above); nothing to enable", j.policy));
                    continue;
                }
                Err(e) if !r.kind.eq_ignore_ascii_case(VM) => return Err(e),
                Err(_) => {
                    // The VM is not in the scenario, so the policy changes nothing there.
                    self.diag.warn(
                        src,
                        format!(
                            "JIT policy '{}' covers virtual machine '{}', which is not in the input; nothing to enable",
                            j.policy,
                            r.name()
                        ),
                    );
                    continue;
                }
            };
            let active_grants: Vec<ActiveGrantSpec> = self
                .jit_grants
                .iter()
                .filter(|g| g.policy == j.policy && g.vm.0.key() == r.key())
                .map(|g| ActiveGrantSpec {
                    vm: vm.clone(),
                    port: g.port.into(),
                    source: g.source.clone(),
                    requestor: g.requestor.clone(),
                    ends_at: g.ends_at.clone(),
                })
                .collect();
            self.imported(j.res);
            let in_force_from = self.in_force_from(src, &j.policy, &vm);
            out.push(JitPolicySpec {
                name: format!("{}/{vm}", j.policy),
                scope: ScopeSpec::Vm(vm),
                ports: Some(j.ports.clone()),
                approvers: Vec::new(),
                enable_at_start: true,
                in_force_from,
                active_grants,
            });
        }
        self.jit = records;
        self.defender_rules(vms, nsgs, &out)?;
        Ok(out)
    }

    /// Where a JIT policy read at `src` is in force from, when it was read from `az`/REST JSON
    /// beside a plan or template (which says what the NSGs will be): the scenario then takes the
    /// policy over as it stands, and JIT's deny rules the plan drops stay absent (module docs).
    fn in_force_from(&mut self, src: &Src, policy: &str, vm: &str) -> Option<String> {
        if self.declared_files.is_empty() || self.declared_files.contains(&src.file) {
            return None;
        }
        let from = file_position(self.diag.file(src.file), src.position);
        self.diag.warn(
            src,
            format!(
                "JIT policy '{policy}' for VM '{vm}' is taken as in force in Azure while the NSGs are as the plan or template declares them: JIT's deny rules that the NSGs lack are not written again (an apply removes them); `nsgsim lint` reports each (JIT005)"
            ),
        );
        Some(from)
    }

    /// Defender's rules in the NSGs: each is said to be JIT's (taken over at the start) or,
    /// for an allow rule no open grant accounts for, a gap.
    fn defender_rules(&mut self, vms: &[VmSpec], nsgs: &[NsgSpec], policies: &[JitPolicySpec]) -> Res<()> {
        for n in nsgs {
            for rule in n.rules.iter().filter(|r| r.name.starts_with(JIT_RULE_PREFIX)) {
                let Some(src) = self
                    .nsgs
                    .iter()
                    .find(|x| x.name == n.name)
                    .and_then(|x| x.rules.iter().find(|r| r.spec.name == rule.name))
                    .map(|r| r.src.clone())
                else {
                    continue;
                };
                let destination = rule.destination.as_deref().unwrap_or("*");
                let vm = vms
                    .iter()
                    .find(|v| v.nics.iter().any(|nic| nic.private_ip == destination.trim_end_matches("/32")));
                let vm_name = vm.map_or("(no VM of the input)", |v| v.name.as_str());
                let policy = vm.and_then(|v| {
                    policies.iter().find(|p| matches!(&p.scope, ScopeSpec::Vm(x) if *x == v.name))
                });
                let deny = rule.access == AccessSpec::Deny;
                match (deny, policy) {
                    (true, Some(p)) => self.diag.warn(
                        &src,
                        format!(
                            "rule '{}' of NSG '{}' is Defender's JIT deny rule for VM '{vm_name}' port {}: JIT policy '{}' takes it over at the start rather than writing another",
                            rule.name, n.name, rule.destination_ports, p.name
                        ),
                    ),
                    (true, None) => self.diag.warn(
                        &src,
                        format!(
                            "rule '{}' of NSG '{}' is Defender's JIT deny rule for VM '{vm_name}', whose JIT policy is not in the input: kept as an ordinary rule",
                            rule.name, n.name
                        ),
                    ),
                    (false, _) => {
                        let port: Option<i64> = rule.destination_ports.trim().parse().ok();
                        let granted = policy.is_some_and(|p| {
                            p.active_grants.iter().any(|g| Some(g.port) == port)
                        });
                        if granted {
                            self.diag.warn(
                                &src,
                                format!(
                                    "rule '{}' of NSG '{}' is the allow rule of an open JIT grant for VM '{vm_name}' port {}: JIT takes it over at the start and deletes it at the grant's end",
                                    rule.name, n.name, rule.destination_ports
                                ),
                            );
                            continue;
                        }
                        let reason = format!(
                            "rule '{}' of NSG '{}' is a JIT allow rule (access granted to VM '{vm_name}' port {} from {}), but no open request of a JIT policy in the input says when it ends; kept as an ordinary rule, so it stays open where Defender deletes it at the grant's end",
                            rule.name,
                            n.name,
                            rule.destination_ports,
                            rule.source.as_deref().unwrap_or("*")
                        );
                        let affects = vm.map(|v| vec![v.name.clone()]).unwrap_or_default();
                        let resource = format!("NSG '{}' rule '{}'", n.name, rule.name);
                        self.gap(CaveatKindSpec::Other, resource, &src, reason, affects)?;
                    }
                }
            }
        }
        Ok(())
    }
}

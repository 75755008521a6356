//! Access granted before the scenario's start: what an imported JIT policy's `requests` say is
//! still open, and the allow rules Defender wrote for it, which an exported NSG holds.
//!
//! Enabling JIT at the start keeps the deny rules already in place (`configure.rs`); then each
//! open grant is taken over here: the allow rules for its port and source in the NSGs JIT manages
//! become the grant's (an NSG that lacks one gets one, as a grant would write it), and the grant
//! ends at its end time like any other, deleting them. A grant whose end time has passed by the
//! start ends at the start. For a policy taken over as in force beside a plan, a missing allow
//! rule is not written: the apply leaves the NSG without it, and `lint` says so.

use crate::model::{Topology, VmId};
use crate::nsg::Direction;
use crate::time::Instant;

use super::grant::{Grant, GrantId, GrantState};
use super::log::{LogKind, LogStatus};
use super::outcome::{Effects, PortAccess};
use super::request::{PortRequest, Request, RequestId, RequestSource, RequestState};
use super::rules::{allow_blocker, allow_priority, allow_rule, existing_allow_rules};
use super::{GrantSummary, JitEngine, JitError, JitEvent, JitOutcome, JitWarning};

/// Access to one port of a VM granted before the scenario's start and open then (Azure's
/// `requests[].virtualMachines[].ports[]` with status `Initiated`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveGrant {
    /// The VM, by name.
    pub vm: String,
    /// The port.
    pub port: u16,
    /// The source allowed.
    pub source: RequestSource,
    /// Who asked (`requestor`).
    pub requester: String,
    /// When the access ends (`endTimeUtc`).
    pub ends_at: Instant,
}

impl JitEngine {
    /// Takes over `grant` on `vm`, where JIT is enabled, at `now`: see the module docs. Refused
    /// (nothing written) when JIT is not enabled on the VM or the port is not in its policy.
    pub fn adopt_grant(
        &mut self,
        topology: &mut Topology,
        vm: VmId,
        grant: &ActiveGrant,
        now: Instant,
    ) -> JitOutcome {
        let vm_name = topology.vm(vm).name.clone();
        let resource = format!("jitNetworkAccessPolicies/default (vm '{vm_name}')");
        let operation = "Initiate JIT Network Access Policy";
        let Some(config) = self.configured.get(&vm).cloned() else {
            let e = JitError::NotConfigured { vm: vm_name, status: self.status(topology, vm) };
            return self.refuse(LogKind::Request, now, &grant.requester, operation, &resource, e);
        };
        let Some(port) = config.policy.port(grant.port).cloned() else {
            let configured = config.policy.ports.iter().map(|p| p.number).collect();
            let e = JitError::PortNotInPolicy { vm: vm_name, port: grant.port, configured };
            return self.refuse(LogKind::Request, now, &grant.requester, operation, &resource, e);
        };
        let Some(nic) = topology.primary_nic(vm) else {
            return self.refuse(
                LogKind::Request,
                now,
                &grant.requester,
                operation,
                &resource,
                JitError::NoNic { vm: vm_name },
            );
        };
        let vm_ip = topology.nic(nic).private_ip;
        let ctx = topology.resolve_context_for_subnet(topology.nic(nic).subnet);
        let source = grant.source.address_spec();
        let mut out = Effects::default();
        let mut rules = Vec::new();
        let mut written = 0;
        let mut absent = Vec::new();
        for &nsg in &config.nsgs {
            if let Some(existing) = existing_allow_rules(topology.nsg(nsg), &port, vm_ip, &source).first() {
                rules.push((nsg, existing.name.clone()));
                continue;
            }
            // A policy in force beside a plan: the plan's NSG is what an apply leaves, without
            // the grant's rule (`lint` reports it, and the outcome's warning says so).
            if config.in_force {
                absent.push(topology.nsg(nsg).name.clone());
                continue;
            }
            // As a grant writes it: ahead of the VM's deny rule and of any deny that would defeat it.
            let n = topology.nsg(nsg);
            let jit_deny = config
                .deny_rules
                .iter()
                .find(|(d, number, _)| *d == nsg && *number == port.number)
                .and_then(|(_, _, name)| n.rule(name))
                .map(|r| (r.priority.0, r.name.as_str()));
            let blocker = allow_blocker(n, &port, vm_ip, &grant.source.addresses(), &ctx, jit_deny);
            let free =
                |p: u16| !n.rules.iter().any(|r| r.direction == Direction::Inbound && r.priority.0 == p);
            let Some(priority) = allow_priority(blocker.as_ref(), free) else { continue };
            let seed = self.next_seed();
            let rule = allow_rule(&vm_name, vm_ip, &port, &source, priority, seed);
            rules.push((nsg, rule.name.clone()));
            self.write_rule(topology, nsg, rule, now, &mut out);
            written += 1;
        }
        if !absent.is_empty() {
            out.warnings.push(JitWarning::GrantRuleAbsent {
                requester: grant.requester.clone(),
                vm: vm_name.clone(),
                port: grant.port,
                ends_at: grant.ends_at,
                nsgs: absent,
            });
        }
        let expires_at = grant.ends_at.max(now);
        let id = RequestId(self.requests.len() as u32);
        let gid = GrantId(self.grants.len() as u32);
        self.requests.push(Request {
            id,
            name: format!("open at the start: {vm_name}:{}", grant.port),
            requester: grant.requester.clone(),
            requested_at: now,
            ports: vec![PortRequest { vm, number: grant.port }],
            source: grant.source.clone(),
            duration: expires_at.since(now),
            justification: None,
            state: RequestState::Granted,
            grants: vec![gid],
        });
        self.grants.push(Grant {
            id: gid,
            request: id,
            requester: grant.requester.clone(),
            vm,
            port: grant.port,
            source: grant.source.clone(),
            granted_at: now,
            expires_at,
            rules: rules.clone(),
            firewall_rule: None,
            state: GrantState::Active,
        });
        out.new_grants.push((gid, expires_at));
        self.record(
            LogKind::Request,
            now,
            &grant.requester,
            operation,
            &resource,
            LogStatus::Succeeded,
            format!(
                "port {} from {} until {}: granted before the start; {} allow rule(s) already in place, {written} written",
                grant.port,
                grant.source,
                grant.ends_at,
                rules.len() - written
            ),
        );
        out.finish(JitEvent::Granted(GrantSummary {
            requester: grant.requester.clone(),
            access: vec![PortAccess { vm: vm_name, port: grant.port }],
            source: grant.source.clone(),
            expires_at,
            mapped: Vec::new(),
            superseded: Vec::new(),
            justification: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::testing::{at, enabled, jit_rules, ssh_policy, status_of};
    use crate::jit::{JitOptions, RequestStatus, RoleBook};
    use crate::nsg::Access;

    #[test]
    fn a_grant_open_before_the_start_takes_over_its_allow_rules_and_ends_on_time() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let grant = ActiveGrant {
            vm: "vm1".into(),
            port: 22,
            source: RequestSource::Prefixes(vec!["203.0.113.5/32".parse().expect("net")]),
            requester: "alice@contoso.com".into(),
            ends_at: at(f.t0, 1800),
        };
        // No allow rule in place yet: the grant writes one per NSG, as a request would.
        let out = jit.adopt_grant(&mut f.topology, f.vm, &grant, f.t0);
        assert!(out.accepted(), "{}", out.event);
        assert_eq!(
            (
                jit_rules(&f.topology, f.nic_nsg, Access::Allow),
                jit_rules(&f.topology, f.subnet_nsg, Access::Allow)
            ),
            (1, 1)
        );
        assert_eq!(out.new_grants, vec![(GrantId(0), at(f.t0, 1800))]);

        // A second engine over the same NSGs stands for an import of them: enabling keeps
        // Defender's deny rules, and the grant takes over its allow rules; nothing is written.
        let mut imported = JitEngine::new(JitOptions::default(), RoleBook::default(), vec![]);
        let enabled_again =
            imported.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        assert!(enabled_again.changes.is_empty(), "{:?}", enabled_again.changes);
        assert_eq!(
            jit_rules(&f.topology, f.nic_nsg, Access::Deny),
            1,
            "no second deny rule (wrong answer (g))"
        );
        let again = imported.adopt_grant(&mut f.topology, f.vm, &grant, f.t0);
        assert!(again.accepted() && again.changes.is_empty(), "{:?}", again.changes);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 1, "no second allow rule");
        assert_eq!(status_of(&imported, "open at the start: vm1:22"), RequestStatus::Active);
        let (g, end) = again.new_grants[0];
        assert!(
            imported.expire(&mut f.topology, g, end.plus(crate::time::Duration::from_secs(-1))).is_none()
        );
        let expired = imported.expire(&mut f.topology, g, end).expect("due");
        assert!(matches!(expired.event, JitEvent::Expired { port: 22, .. }));
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0, "deleted at its end");
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Deny), 1, "the deny rule stays");
        // A grant whose end has passed by the start ends at the start.
        let late = imported.adopt_grant(
            &mut f.topology,
            f.vm,
            &ActiveGrant { ends_at: at(f.t0, -60), ..grant },
            f.t0,
        );
        assert_eq!(late.new_grants[0].1, f.t0);
    }

    #[test]
    fn a_grant_for_a_port_outside_the_policy_is_refused() {
        let (mut f, mut jit, _owner) = enabled(JitOptions::default(), &[]);
        let grant = ActiveGrant {
            vm: "vm1".into(),
            port: 8080,
            source: RequestSource::Any,
            requester: "a".into(),
            ends_at: at(f.t0, 60),
        };
        let out = jit.adopt_grant(&mut f.topology, f.vm, &grant, f.t0);
        assert!(matches!(out.refusal(), Some(JitError::PortNotInPolicy { port: 8080, .. })), "{}", out.event);
    }
}

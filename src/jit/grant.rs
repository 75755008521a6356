//! Grants: planning a request's allow rules before anything is written, granting (which
//! supersedes older grants for the same port), and a grant's end: at its end time (`Expired`),
//! revoked (an nsgsim extension), or superseded. Every end goes through [`JitEngine::end_grant`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::model::{FirewallId, NsgId, Topology, User, VmId};
use crate::nsg::{Direction, MAX_RULES_PER_NSG, NsgError};
use crate::time::Instant;

use super::log::{LogKind, LogStatus, SECURITY_RP};
use super::outcome::Effects;
use super::rules::{allow_blocker, allow_priority, allow_rule};
use super::{
    JitEngine, JitError, JitEvent, JitOutcome, Permission, PortPolicy, Request, RequestId, RequestSource,
    RequestState, SupersededGrant,
};

/// Typed ids live in [`crate::ids`]; re-exported here where they have always been named.
pub use crate::ids::GrantId;

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
        /// The request the newer grant comes from.
        request: RequestId,
    },
}

impl fmt::Display for GrantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantState::Active => f.write_str("Active"),
            GrantState::Expired => f.write_str("Expired"),
            GrantState::Revoked { by } => write!(f, "Revoked by {by}"),
            GrantState::Superseded { .. } => f.write_str("Superseded"),
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
    pub source: RequestSource,
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

/// One grant of a request, worked out before anything is written: the port, the VM's address,
/// the priority of its allow rule in each NSG, and the firewall that also gets a DNAT rule.
#[derive(Clone, Debug)]
pub(super) struct PlannedGrant {
    vm: VmId,
    port: PortPolicy,
    vm_ip: IpAddr,
    rules: Vec<(NsgId, u16)>,
    firewall: Option<FirewallId>,
}

impl JitEngine {
    /// Works out every allow rule a request needs, without writing anything, so that a request
    /// either gets all its grants or none: each NSG JIT manages for the VM must have a free
    /// priority ahead of the JIT deny rule for the port and of any existing deny rule that
    /// would defeat the grant, and room under Azure's limit of rules per NSG.
    ///
    /// # Errors
    /// The reason the grant cannot take effect.
    pub(super) fn plan_grants(
        &self,
        topology: &Topology,
        request: &Request,
    ) -> Result<Vec<PlannedGrant>, JitError> {
        let source = request.source.addresses();
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
            // The request's checks ran just before (`check_request`): the VM is configured and
            // the port is in its policy.
            let config = self.configured.get(&p.vm).ok_or_else(|| JitError::NotConfigured {
                vm: vm_name.clone(),
                status: self.status(topology, p.vm),
            })?;
            let port = config.policy.port(p.number).cloned().ok_or_else(|| JitError::PortNotInPolicy {
                vm: vm_name.clone(),
                port: p.number,
                configured: config.policy.ports.iter().map(|x| x.number).collect(),
            })?;
            let nic = topology.primary_nic(p.vm).ok_or_else(|| JitError::NoNic { vm: vm_name.clone() })?;
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
                    return Err(JitError::AllowRuleOverLimit { vm: vm_name.clone(), port: p.number, limit });
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
                    let Some(blocker) = blocker else {
                        return Err(JitError::NoFreePriority { nsg: n.name.clone() });
                    };
                    return Err(JitError::AllowWouldNotPrecede {
                        nsg: n.name.clone(),
                        vm: vm_name.clone(),
                        port: p.number,
                        blocker,
                        source: request.source.clone(),
                    });
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
    /// Returns the grants it superseded.
    pub(super) fn grant_request(
        &mut self,
        topology: &mut Topology,
        id: RequestId,
        plan: Vec<PlannedGrant>,
        now: Instant,
        out: &mut Effects,
    ) -> Vec<SupersededGrant> {
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
                superseded.push(SupersededGrant {
                    grant: o,
                    requester: g.requester.clone(),
                    vm: topology.vm(g.vm).name.clone(),
                    port: g.port,
                    source: g.source.clone(),
                    request: self.requests[g.request.0 as usize].name.clone(),
                    expires_at: g.expires_at,
                });
                self.end_grant(topology, o, GrantState::Superseded { by: gid, request: id }, now, out);
            }
        }
        let source = request.source.address_spec();
        for (i, planned) in plan.into_iter().enumerate() {
            let gid = GrantId(first + i as u32);
            let vm_name = topology.vm(planned.vm).name.clone();
            let mut rules = Vec::new();
            for (nsg, priority) in planned.rules {
                let seed = self.next_seed();
                let rule = allow_rule(&vm_name, planned.vm_ip, &planned.port, &source, priority, seed);
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

    /// The one place a grant changes state: removes its rules (and DNAT rule) when it leaves
    /// `Active`, logs the change with Azure's `statusReason`. Does nothing to a grant that is no
    /// longer active.
    pub(super) fn end_grant(
        &mut self,
        topology: &mut Topology,
        grant: GrantId,
        state: GrantState,
        now: Instant,
        out: &mut Effects,
    ) {
        let g = self.grants[grant.0 as usize].clone();
        if g.state != GrantState::Active || state == GrantState::Active {
            return;
        }
        for (nsg, name) in &g.rules {
            self.delete_rule(topology, *nsg, name, now, out);
        }
        if let Some((fw, collection, mapped)) = &g.firewall_rule {
            self.remove_dnat(topology, *fw, collection, *mapped, now, out);
        }
        // The API's port status goes Initiated => Revoked with a statusReason; who revoked and
        // which request superseded it are said only where they add something.
        let reason = match &state {
            GrantState::Expired => "Expired".to_string(),
            GrantState::Revoked { by } => format!("UserRequested; revoked by {by}"),
            GrantState::Superseded { request, .. } => {
                let newer = &self.requests[request.0 as usize].name;
                format!("NewerRequestInitiated; superseded by request '{newer}'")
            }
            GrantState::Active => "Initiated".to_string(),
        };
        let vm_name = topology.vm(g.vm).name.clone();
        let request = &self.requests[g.request.0 as usize].name;
        self.record(
            LogKind::Request,
            now,
            SECURITY_RP,
            "JIT port status change",
            &format!("vm '{vm_name}' port {}", g.port),
            LogStatus::Succeeded,
            format!("request '{request}' of {}: Initiated => Revoked (statusReason: {reason})", g.requester),
        );
        self.grants[grant.0 as usize].state = state;
        self.ended_at.insert(grant, now);
        out.ended_grants.push(grant);
    }

    /// Revokes the active grants of a request at once (nsgsim extension: the JIT API has no revoke).
    ///
    /// # Errors
    /// [`JitError::UnknownRequest`] when no request has that name.
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
            let reason = JitError::MayNotRevoke { user: actor.name.clone() };
            return Ok(self.refuse_extension(
                LogKind::Request,
                now,
                &actor.name,
                "Revoke JIT access",
                &resource,
                reason,
            ));
        }
        let active: Vec<GrantId> =
            r.grants.iter().copied().filter(|g| self.grant(*g).state == GrantState::Active).collect();
        let mut out = Effects::default();
        for g in &active {
            self.end_grant(topology, *g, GrantState::Revoked { by: actor.name.clone() }, now, &mut out);
        }
        self.record_extension(
            LogKind::Request,
            now,
            &actor.name,
            "Revoke JIT access",
            &resource,
            LogStatus::Succeeded,
            format!("{} grant(s) ended", active.len()),
        );
        Ok(out.finish(JitEvent::Revoked {
            by: actor.name.clone(),
            request: name.into(),
            ended: active.len(),
        }))
    }

    /// Ends `grant` if it is still active and due at `now` (its queued expiry event).
    pub fn expire(&mut self, topology: &mut Topology, grant: GrantId, now: Instant) -> Option<JitOutcome> {
        let g = self.grant(grant);
        if g.state != GrantState::Active || g.expires_at > now {
            return None;
        }
        let mut out = Effects::default();
        let (requester, port, vm) = (g.requester.clone(), g.port, g.vm);
        self.end_grant(topology, grant, GrantState::Expired, now, &mut out);
        Some(out.finish(JitEvent::Expired { requester, vm: topology.vm(vm).name.clone(), port }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::testing::{
        allow_sources, ask, assert_refused, at, enabled, fixture, jit_rules, net, rule, ssh_policy,
        status_of, user,
    };
    use crate::jit::{
        AllowedSources, Blocker, JitOptions, JitPolicy, JitProtocol, NsgLevels, PortRequest, RequestStatus,
        RoleBook,
    };
    use crate::model::Os;
    use crate::nsg::{Access, AddressSpec};
    use crate::time::Duration;

    #[test]
    fn grant_lives_until_its_end_instant_and_supersession_keeps_the_newer() {
        let (mut f, mut jit, owner) = enabled(JitOptions::default(), &[]);
        let other = user("p", &["Contributor"], "203.0.113.9");
        let first = ask(&mut jit, &mut f, "first", &owner, 22, 600, None, 0);
        assert_eq!(first.new_grants.len(), 1);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 1);
        assert_eq!(jit.next_deadline(), Some(at(f.t0, 600)));
        let (g1, end1) = first.new_grants[0];
        assert!(
            jit.expire(&mut f.topology, g1, end1.plus(Duration::from_secs(-1))).is_none(),
            "not due one second early"
        );
        let second = ask(&mut jit, &mut f, "second", &other, 22, 1200, None, 60);
        assert_eq!(status_of(&jit, "first"), RequestStatus::Superseded);
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 1, "the older allow rule is replaced");
        // The older grant's end passes with no effect on the newer one.
        assert!(jit.expire(&mut f.topology, g1, end1).is_none());
        let (g2, end2) = second.new_grants[0];
        let expired = jit.expire(&mut f.topology, g2, end2).expect("due");
        assert_eq!(expired.ended_grants, vec![g2]);
        assert_eq!(expired.event, JitEvent::Expired { requester: "p".into(), vm: "vm1".into(), port: 22 });
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        assert_eq!(jit_rules(&f.topology, f.subnet_nsg, Access::Allow), 0);
        assert_eq!(status_of(&jit, "second"), RequestStatus::Expired);
    }

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
        assert_eq!(refused.refusal(), Some(&JitError::MayNotRevoke { user: "s".into() }));
        assert_eq!(status_of(&jit, "r"), RequestStatus::Active);
        let by_owner = jit.revoke(&mut f.topology, "r", &owner, at(f.t0, 20)).expect("exists");
        assert_eq!(by_owner.event, JitEvent::Revoked { by: "o".into(), request: "r".into(), ended: 1 });
        assert!(jit.log().entries().iter().any(|e| e.operation == "Revoke JIT access" && e.extension));
        assert_eq!(jit_rules(&f.topology, f.nic_nsg, Access::Allow), 0);
        assert_eq!(status_of(&jit, "r"), RequestStatus::Revoked);
        assert_eq!(jit.grant_ended_at(jit.request_by_name("r").expect("made").grants[0]), Some(at(f.t0, 20)));
        // Its queued expiry later does nothing.
        let g = jit.request_by_name("r").expect("made").grants[0];
        assert!(jit.expire(&mut f.topology, g, at(f.t0, 600)).is_none());
        // The requester may revoke their own, once there is something to revoke.
        ask(&mut jit, &mut f, "r2", &dev, 22, 600, None, 30);
        let own = jit.revoke(&mut f.topology, "r2", &dev, at(f.t0, 40)).expect("exists");
        assert!(own.accepted(), "{}", own.event);
        assert!(jit.log().entries().iter().any(|e| e.detail.contains("statusReason: UserRequested")));
        assert!(matches!(
            jit.revoke(&mut f.topology, "none", &dev, at(f.t0, 40)),
            Err(JitError::UnknownRequest { name, .. }) if name == "none"
        ));
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
        assert_eq!(allow_sources(&f.topology, f.nic_nsg), vec![net("203.0.113.9/32").address_spec()]);
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
        f.topology.add_nic("nic2", s, "10.0.1.5".parse().expect("ip"), Some(vm2)).expect("nic");
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
        let mine = ask(&mut jit, &mut f, "mine", &owner, 22, 600, None, 0);
        let newer = ask(&mut jit, &mut f, "bobs", &bob, 22, 600, None, 60);
        let JitEvent::Granted(grant) = &newer.event else {
            panic!("expected a grant, got {:?}", newer.event)
        };
        assert_eq!(
            grant.superseded,
            [SupersededGrant {
                grant: mine.new_grants[0].0,
                requester: "o".into(),
                vm: "vm1".into(),
                port: 22,
                source: net("203.0.113.1/32"),
                request: "mine".into(),
                expires_at: at(f.t0, 600),
            }]
        );
        assert!(
            newer.event.to_string().ends_with(
                "; this supersedes o's grant for vm1:22 from 203.0.113.1 (request 'mine', until 2025-01-01T00:10:00Z) (statusReason NewerRequestInitiated: that access ends now)"
            ),
            "{}",
            newer.event
        );
        assert_eq!(status_of(&jit, "mine"), RequestStatus::Superseded);
        let g0 = jit.request_by_name("mine").expect("made").grants[0];
        assert!(
            matches!(jit.grant(g0).state, GrantState::Superseded { by, .. } if by == newer.new_grants[0].0),
            "{:?}",
            jit.grant(g0).state
        );
        assert!(jit.log().entries().iter().any(|e| e.detail.contains("statusReason: NewerRequestInitiated")));
        // A request that supersedes nothing says nothing about it.
        let plain = ask(&mut jit, &mut f, "plain", &owner, 22, 600, None, 120);
        assert!(matches!(&plain.event, JitEvent::Granted(g) if g.superseded[0].requester == "bob"));
        let (mut g, mut fresh, _) = enabled(JitOptions::default(), &[]);
        let first = ask(&mut fresh, &mut g, "first", &owner, 22, 600, None, 0);
        assert!(matches!(&first.event, JitEvent::Granted(g) if g.superseded.is_empty()), "{:?}", first.event);
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
        rules.push(rule("ssh-office", 106, Access::Allow, 22, net("198.51.100.0/24").address_spec()));
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
            .clone();
        assert_eq!(deny.priority.0, 105, "strict: above ssh-office at 106");
        let out = ask(&mut jit, &mut f, "r", &owner, 22, 600, None, 60);
        assert_refused(&jit, &f, "r", &out, |e| {
            *e == JitError::AllowWouldNotPrecede {
                nsg: "nic-nsg".into(),
                vm: "vm1".into(),
                port: 22,
                blocker: Blocker { priority: 105, name: deny.name.clone(), is_jit_deny: true },
                source: net("203.0.113.1/32"),
            }
        });
    }

    #[test]
    fn an_existing_deny_for_the_source_is_respected_and_other_sources_are_not_blocked() {
        let mut f = fixture();
        let options = JitOptions { levels: NsgLevels::NicOnly, ..JitOptions::default() };
        let mut jit = JitEngine::new(options, RoleBook::default(), vec![]);
        let owner = user("o", &["Owner"], "203.0.113.1");
        let rules = &mut f.topology.nsg_mut(f.nic_nsg).rules;
        rules.push(rule("taken", 100, Access::Allow, 80, AddressSpec::Any));
        rules.push(rule("deny-bad-range", 101, Access::Deny, 22, net("203.0.113.128/25").address_spec()));
        jit.enable(&mut f.topology, f.vm, ssh_policy(3600, &[]).into(), &owner, f.t0);
        let bad = user("b", &["Owner"], "203.0.113.200");
        let out = ask(&mut jit, &mut f, "bad", &bad, 22, 600, None, 0);
        assert_refused(&jit, &f, "bad", &out, |e| {
            matches!(e, JitError::AllowWouldNotPrecede { blocker, source, .. }
                if *blocker == Blocker { priority: 101, name: "deny-bad-range".into(), is_jit_deny: false }
                    && *source == net("203.0.113.200/32"))
        });
        let ok = ask(&mut jit, &mut f, "ok", &owner, 22, 600, None, 0);
        assert!(ok.accepted(), "{}", ok.event);
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
}

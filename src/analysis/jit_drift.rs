//! What applying a planned policy does to the rules Defender for Cloud's just-in-time VM access
//! owns in the live one: its deny rules and the allow rules of its active grants.
//!
//! Why: JIT writes NSG rules that no template and no Terraform configuration declares. An
//! infrastructure-as-code apply makes an NSG's rules what the code says, so it removes them,
//! and the ports JIT protected are then decided by whatever the code left: often the "old allow
//! rule" JIT was enabled to close. Neither `diff` (which lists changed flows by rule) nor `lint`
//! of the plan alone (which has no JIT policy) says that in JIT's terms; this module does.
//!
//! How: in the old (live) simulation, every VM with JIT enabled is walked NIC by NIC and level by
//! level for the deny rule JIT keeps per protected port (`SecurityCenter-JITRule_-…`, inbound,
//! to the NIC's address alone, the port alone). Each is looked for in the new policy at the same
//! level of the same NIC (by VM and NIC name): by its name, or as any JIT deny rule of the same
//! shape. Then the new NSG chain is partitioned exactly ([`super::chain`]) over the flows from
//! the Internet to the port, and the pieces it allows (other than by JIT's own allow rules) are
//! what the apply leaves open. A policy in force beside a plan (`in_force_from`) is checked in
//! the plan alone ([`in_force_drift`]): each NSG JIT manages that lacks its deny rule. A grant
//! is removed when an allow rule JIT wrote for it is not
//! in the new NSG of that name. The result is data ([`JitDrift`]); its `Display` is the sentence
//! `diff` and `lint` print.

use std::fmt;

use ipnet::IpNet;

use crate::jit::{GrantState, JitEngine, JitProtocol, is_jit_rule};
use crate::matcher::MatchBox;
use crate::model::{NicId, Topology, VmId};
use crate::net::{AddrSet, IpProtocol, ProtocolSet};
use crate::nsg::{Access, AddressSpec, Direction, PortSpec, RuleRef, SecurityRule};
use crate::path::Level;
use crate::time::Instant;

use super::chain::{Chains, Decider, internet_seen_by, nsg_at};
use super::finding_code::FindingCode;
use super::lint::{Finding, FindingRule, POLICY_MANAGEMENT_PORTS_JIT, Severity};
use super::space::describe_addrs;

/// One JIT deny rule of the old policy, where it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitDenyRule {
    /// The VM JIT protects.
    pub vm: String,
    /// The NIC whose address the rule names.
    pub nic: String,
    /// The NSG holding the rule.
    pub nsg: String,
    /// Subnet or NIC level.
    pub level: Level,
    /// The rule's name (`SecurityCenter-JITRule_-…`).
    pub rule: String,
    /// Its priority.
    pub priority: u16,
    /// The protected port.
    pub port: u16,
    /// The port's protocol in the JIT policy.
    pub protocol: JitProtocol,
}

/// Flows from the Internet to a protected port that the new policy allows without JIT, and the
/// rules that allow them.
#[derive(Clone, Debug)]
pub struct OpenFlows {
    /// The deciding rules, in evaluation order (subnet NSG, then NIC NSG).
    pub deciders: Vec<Decider>,
    /// The Internet sources concerned.
    pub sources: AddrSet,
    /// Whether they are all the Internet addresses the VM's subnet sees.
    pub whole_internet: bool,
}

/// What an apply of the new policy does to one rule JIT owns in the old one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum JitDrift {
    /// The new policy has no JIT deny rule for the port at that level: the apply removes it.
    /// `open` is what then lets the Internet in on the port (empty: other rules still deny).
    DenyRuleRemoved {
        /// The rule removed.
        deny: JitDenyRule,
        /// What the new policy allows from the Internet to the port, without a request.
        open: Vec<OpenFlows>,
        /// Whether the old policy already let some of them in (the deny rule was defeated).
        was_open: bool,
    },
    /// The deny rule stays, but a rule of the new policy decides flows from the Internet to the
    /// port before it and allows them: the "old allow rule" that keeps JIT from doing anything.
    DenyRulePreceded {
        /// The deny rule that stays.
        deny: JitDenyRule,
        /// What the new policy allows from the Internet to the port, and by which rules.
        open: Vec<OpenFlows>,
    },
    /// A JIT policy is in force in Azure (imported from `az`/REST JSON beside a plan) but the
    /// planned NSG has no JIT deny rule for the port: the apply removes the one JIT keeps there.
    /// Found in the plan alone ([`in_force_drift`]), so the live rule's name is not known.
    DenyRuleAbsent {
        /// The VM JIT protects.
        vm: String,
        /// The planned NSG without the deny rule.
        nsg: String,
        /// Subnet or NIC level.
        level: Level,
        /// The protected port.
        port: u16,
        /// The JIT policy in force.
        policy: String,
        /// Where it was read (`jit.json:12:9`).
        from: String,
        /// What the planned NSGs allow from the Internet to the port (empty: they deny it).
        open: Vec<OpenFlows>,
    },
    /// A JIT policy is in force beside a plan and one of its grants is open, but the planned
    /// NSG has no allow rule for it: the apply ends the access before its end time. Found in
    /// the plan alone ([`in_force_drift`]).
    GrantAbsent {
        /// The VM.
        vm: String,
        /// The planned NSG without the grant's rule.
        nsg: String,
        /// The port.
        port: u16,
        /// Who asked for the access.
        requester: String,
        /// The source allowed.
        source: String,
        /// When the grant ends.
        expires_at: Instant,
        /// Where the policy in force was read.
        from: String,
    },
    /// An allow rule JIT wrote for an active grant is not in the new policy: the apply ends
    /// the access before its end time.
    GrantRemoved {
        /// The VM.
        vm: String,
        /// The NSG the rule is in.
        nsg: String,
        /// The allow rule's name (`SecurityCenter-JITRule-…`).
        rule: String,
        /// The port.
        port: u16,
        /// Who asked for the access.
        requester: String,
        /// The source allowed, as a rule's address field prints it.
        source: String,
        /// When the grant ends.
        expires_at: Instant,
    },
}

impl JitDrift {
    /// The VM concerned.
    pub fn vm(&self) -> &str {
        match self {
            JitDrift::DenyRuleRemoved { deny, .. } | JitDrift::DenyRulePreceded { deny, .. } => &deny.vm,
            JitDrift::DenyRuleAbsent { vm, .. }
            | JitDrift::GrantAbsent { vm, .. }
            | JitDrift::GrantRemoved { vm, .. } => vm,
        }
    }

    /// The NSG concerned (in the old policy).
    pub fn nsg(&self) -> &str {
        match self {
            JitDrift::DenyRuleRemoved { deny, .. } | JitDrift::DenyRulePreceded { deny, .. } => &deny.nsg,
            JitDrift::DenyRuleAbsent { nsg, .. }
            | JitDrift::GrantAbsent { nsg, .. }
            | JitDrift::GrantRemoved { nsg, .. } => nsg,
        }
    }

    /// The rules concerned, as Azure names them: JIT's rule, then the new policy's user rules
    /// that let the Internet in.
    pub fn rules(&self) -> Vec<FindingRule> {
        match self {
            JitDrift::DenyRuleRemoved { deny, open, .. } | JitDrift::DenyRulePreceded { deny, open } => {
                let mut out = vec![FindingRule::own(RuleRef::Security { name: deny.rule.clone() })];
                out.extend(user_rules(open));
                out
            }
            JitDrift::DenyRuleAbsent { open, .. } => user_rules(open),
            JitDrift::GrantAbsent { .. } => Vec::new(),
            JitDrift::GrantRemoved { rule, .. } => {
                vec![FindingRule::own(RuleRef::Security { name: rule.clone() })]
            }
        }
    }
}

/// The user rules that decide `open`, each once, in order.
fn user_rules(open: &[OpenFlows]) -> Vec<FindingRule> {
    let mut out: Vec<FindingRule> = Vec::new();
    for d in open.iter().flat_map(|o| &o.deciders).filter(|d| d.user_rule()) {
        let rule = FindingRule::own(d.rule.clone());
        if !out.contains(&rule) {
            out.push(rule);
        }
    }
    out
}

/// The label of what "an apply removes" assumes (docs/fidelity.md, "Drift and JIT").
const APPLY_MODEL_CHOICE: &str = " [model choice: the plan's rules are taken as the NSG's after the apply, as for inline security_rule blocks; separate azurerm_network_security_rule resources leave JIT's rules in place]";

/// The service a management port carries, as the portal and Microsoft's pages call it.
fn service(port: u16) -> String {
    match port {
        22 => "SSH".into(),
        3389 => "RDP".into(),
        5985 | 5986 => "WinRM".into(),
        p => format!("port {p}"),
    }
}

/// `allowed by R (priority P)` for every group of open flows.
fn allowed_by(open: &[OpenFlows]) -> String {
    open.iter()
        .map(|o| {
            let by = o
                .deciders
                .iter()
                .filter(|d| d.user_rule())
                .map(|d| match (&d.nsg, d.priority) {
                    (Some(nsg), Some(p)) => format!("{} in {nsg} (priority {p})", d.rule.bare_name()),
                    _ => d.to_string(),
                })
                .collect::<Vec<_>>();
            let by = if by.is_empty() {
                o.deciders.iter().map(Decider::to_string).collect::<Vec<_>>().join(" then ")
            } else {
                by.join(" then ")
            };
            let from = if o.whole_internet {
                String::new()
            } else {
                format!(" from {}", describe_addrs(&o.sources, 4))
            };
            format!("allowed{from} by {by}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A rule's name without `securityRules/`.
impl fmt::Display for JitDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitDrift::DenyRuleRemoved { deny, open, was_open } => {
                write!(
                    f,
                    "an apply removes JIT's deny rule for {} on {} ({} in {}, priority {}): ",
                    deny.port, deny.vm, deny.rule, deny.nsg, deny.priority
                )?;
                let what = format!("{} from the Internet", service(deny.port));
                match (open.is_empty(), was_open) {
                    (true, _) => {
                        write!(f, "{what} stays denied by the planned rules, but JIT no longer owns the port")
                    }
                    (false, false) => write!(f, "{what} becomes {}", allowed_by(open)),
                    (false, true) => {
                        write!(f, "{what} stays {} (the deny rule was already defeated)", allowed_by(open))
                    }
                }?;
                f.write_str(APPLY_MODEL_CHOICE)
            }
            JitDrift::DenyRuleAbsent { vm, nsg, level, port, policy, from, open } => {
                write!(
                    f,
                    "JIT policy '{policy}' (in force, from {from}) protects {port} on {vm}, but the planned NSG {nsg} ({} level) has no JIT deny rule for it, so an apply removes the one JIT keeps there: ",
                    level.as_str()
                )?;
                let what = format!("{} from the Internet", service(*port));
                if open.is_empty() {
                    write!(f, "{what} stays denied by the planned rules, but JIT no longer owns the port")?;
                } else {
                    write!(f, "{what} becomes {}", allowed_by(open))?;
                }
                f.write_str(APPLY_MODEL_CHOICE)
            }
            JitDrift::DenyRulePreceded { deny, open } => write!(
                f,
                "a planned rule takes precedence over JIT's deny rule for {} on {} ({} in {}, priority {}): {} from the Internet is {} without a JIT request",
                deny.port,
                deny.vm,
                deny.rule,
                deny.nsg,
                deny.priority,
                service(deny.port),
                allowed_by(open)
            ),
            JitDrift::GrantAbsent { vm, nsg, port, requester, source, expires_at, from } => write!(
                f,
                "the active grant of {requester} (expires {expires_at}) for {} on {vm} from {source}, in the JIT policy in force (from {from}), has no allow rule in the planned NSG {nsg}: the access ends at the apply{APPLY_MODEL_CHOICE}",
                service(*port)
            ),
            JitDrift::GrantRemoved { vm, nsg, rule, port, requester, source, expires_at } => write!(
                f,
                "an apply removes the active grant of {requester} (expires {expires_at}) for {} on {vm} from {source} ({rule} in {nsg}): the access ends at the apply{APPLY_MODEL_CHOICE}",
                service(*port)
            ),
        }
    }
}

/// Everything an apply of `new` does to the rules JIT owns in `old` (JIT state `old_jit`), by VM
/// in the old topology's order: removed deny rules, deny rules a planned rule precedes,
/// removed grants.
pub fn jit_drift(old: &Topology, old_jit: &JitEngine, new: &Topology) -> Vec<JitDrift> {
    let (old_chains, new_chains) = (Chains::new(old), Chains::new(new));
    let mut out = Vec::new();
    for vm in old.vm_ids() {
        let Some(policy) = old_jit.policy(vm) else { continue };
        let vm_name = &old.vm(vm).name;
        let Some(new_vm) = new.vm_by_name(vm_name) else { continue };
        for (k, &nic) in old.vm(vm).nics.iter().enumerate() {
            let Some(new_nic) = counterpart(old, nic, new, new_vm, k) else { continue };
            for level in [Level::Subnet, Level::Nic] {
                let Some(nsg) = nsg_at(old, nic, level) else { continue };
                for port in &policy.ports {
                    let old_nsg = old.nsg(nsg);
                    let ip = old.nic(nic).private_ip;
                    let Some(rule) = old_nsg.rules.iter().find(|r| is_deny_for(r, ip, port.number)) else {
                        continue;
                    };
                    let deny = JitDenyRule {
                        vm: vm_name.clone(),
                        nic: old.nic(nic).name.clone(),
                        nsg: old_nsg.name.clone(),
                        level,
                        rule: rule.name.clone(),
                        priority: rule.priority.0,
                        port: port.number,
                        protocol: port.protocol,
                    };
                    let kept = nsg_at(new, new_nic, level).is_some_and(|n| {
                        let ip = new.nic(new_nic).private_ip;
                        new.nsg(n).rules.iter().any(|r| {
                            (r.name == deny.rule && r.access == Access::Deny)
                                || is_deny_for(r, ip, port.number)
                        })
                    });
                    let open = open_flows(&new_chains, new_nic, port.number, port.protocol);
                    if !kept {
                        let was_open = !open_flows(&old_chains, nic, port.number, port.protocol).is_empty();
                        out.push(JitDrift::DenyRuleRemoved { deny, open, was_open });
                    } else if !open.is_empty() {
                        out.push(JitDrift::DenyRulePreceded { deny, open });
                    }
                }
            }
        }
        grants_removed(old, old_jit, vm, new, &mut out);
    }
    out
}

/// What an apply of a plan does to the JIT policies in force beside it (`in_force_from`, a
/// policy imported from `az`/REST JSON with the plan), found in the plan alone: for every VM
/// where such a policy is taken over, each NSG JIT manages that lacks its deny rule for a
/// protected port, with what the planned NSGs then let in from the Internet.
pub fn in_force_drift(topology: &Topology, jit: &JitEngine) -> Vec<JitDrift> {
    let chains = Chains::new(topology);
    let mut out = Vec::new();
    for vm in topology.vm_ids() {
        let Some(scoped) = jit.scoped_policy_for(topology, vm) else { continue };
        let (Some(from), Some(policy), Some(nic)) =
            (&scoped.in_force_from, jit.policy(vm), topology.primary_nic(vm))
        else {
            continue;
        };
        for (nsg, port) in jit.missing_deny_rules(topology, vm) {
            let Some(protocol) = policy.port(port).map(|p| p.protocol) else { continue };
            let level =
                if nsg_at(topology, nic, Level::Nic) == Some(nsg) { Level::Nic } else { Level::Subnet };
            out.push(JitDrift::DenyRuleAbsent {
                vm: topology.vm(vm).name.clone(),
                nsg: topology.nsg(nsg).name.clone(),
                level,
                port,
                policy: scoped.name.clone(),
                from: from.clone(),
                open: open_flows(&chains, nic, port, protocol),
            });
        }
        for (grant, nsg) in jit.missing_grant_rules(topology, vm) {
            let g = jit.grant(grant);
            out.push(JitDrift::GrantAbsent {
                vm: topology.vm(vm).name.clone(),
                nsg: topology.nsg(nsg).name.clone(),
                port: g.port,
                requester: g.requester.clone(),
                source: g.source.to_string(),
                expires_at: g.expires_at,
                from: from.clone(),
            });
        }
    }
    out
}

/// The NIC of `new_vm` that stands for `nic` (the `k`-th of its VM): the one of the same name,
/// else the one at the same place.
fn counterpart(old: &Topology, nic: NicId, new: &Topology, new_vm: VmId, k: usize) -> Option<NicId> {
    let nics = &new.vm(new_vm).nics;
    let name = &old.nic(nic).name;
    nics.iter().copied().find(|&n| new.nic(n).name == *name).or_else(|| nics.get(k).copied())
}

/// Whether `rule` is a JIT deny rule for `port` of the NIC at `ip` (JIT's name, inbound, deny,
/// to that address alone, that port alone).
fn is_deny_for(rule: &SecurityRule, ip: std::net::IpAddr, port: u16) -> bool {
    is_jit_rule(&rule.name)
        && rule.access == Access::Deny
        && rule.direction == Direction::Inbound
        && rule.destination == AddressSpec::Prefixes(vec![IpNet::from(ip)])
        && rule.destination_ports == PortSpec::single(port)
}

/// The flows from the Internet to `port` of `nic` that its inbound chain allows other than by
/// JIT's own allow rules, grouped by their deciding rules.
fn open_flows(chains: &Chains, nic: NicId, port: u16, protocol: JitProtocol) -> Vec<OpenFlows> {
    let internet = internet_seen_by(chains.topology(), nic);
    let protocols = match protocol {
        JitProtocol::Tcp => ProtocolSet::single(IpProtocol::TCP),
        JitProtocol::Udp => ProtocolSet::single(IpProtocol::UDP),
        JitProtocol::Any => MatchBox::any().protocols,
    };
    let probe = MatchBox {
        protocols,
        src: internet.clone(),
        dst_ports: crate::net::PortSet::from_ranges([crate::net::PortRange::single(port)]),
        ..MatchBox::any()
    };
    let by_jit =
        |deciders: &[Decider]| deciders.iter().any(|d| d.rule.user_rule_name().is_some_and(is_jit_rule));
    chains
        .allowed_inbound(nic, &probe, by_jit)
        .into_iter()
        .map(|(deciders, region)| {
            let sources = region.boxes().iter().fold(AddrSet::empty(), |acc, b| acc.union(&b.src));
            OpenFlows { deciders, whole_internet: sources == internet, sources }
        })
        .collect()
}

/// The active grants of `vm` in `old_jit` one of whose allow rules `new` lacks.
fn grants_removed(old: &Topology, old_jit: &JitEngine, vm: VmId, new: &Topology, out: &mut Vec<JitDrift>) {
    for grant in old_jit.grants().iter().filter(|g| g.vm == vm && g.state == GrantState::Active) {
        for (nsg, rule) in &grant.rules {
            let nsg_name = &old.nsg(*nsg).name;
            let kept =
                new.nsg_by_name(nsg_name).is_some_and(|n| new.nsg(n).rules.iter().any(|r| r.name == *rule));
            if !kept {
                out.push(JitDrift::GrantRemoved {
                    vm: old.vm(vm).name.clone(),
                    nsg: nsg_name.clone(),
                    rule: rule.clone(),
                    port: grant.port,
                    requester: grant.requester.clone(),
                    source: grant.source.to_string(),
                    expires_at: grant.expires_at,
                });
            }
        }
    }
}

/// `lint --live`'s findings for `drifts`: each is a warning with JIT's rule and the planned
/// rules that let the Internet in, and the Azure Policy definition on JIT.
pub fn drift_findings(drifts: &[JitDrift]) -> Vec<Finding> {
    drifts
        .iter()
        .map(|d| {
            let (code, fix) = match d {
                JitDrift::DenyRuleRemoved { .. } | JitDrift::DenyRuleAbsent { .. } => (
                    FindingCode::ApplyRemovesJitDeny,
                    "declare the NSG's rules so that the apply leaves JIT's rules alone (separate azurerm_network_security_rule resources instead of inline security_rule blocks, or lifecycle { ignore_changes = [security_rule] }), or re-enable JIT on the VM after the apply so that Defender writes its deny rules again",
                ),
                JitDrift::DenyRulePreceded { .. } => (
                    FindingCode::PlannedRulePrecedesJit,
                    "remove the planned allow rule for the port, or restrict its source to your admin ranges: JIT's deny rule only protects the port when no rule before it allows the Internet",
                ),
                JitDrift::GrantRemoved { .. } | JitDrift::GrantAbsent { .. } => (
                    FindingCode::ApplyRemovesActiveGrant,
                    "apply after the grant ends, or tell its requester to request access again after the apply",
                ),
            };
            Finding {
                severity: Severity::Warning,
                code,
                nsg: Some(d.nsg().to_string()),
                vm: Some(d.vm().to_string()),
                rules: d.rules(),
                message: d.to_string(),
                fix: fix.into(),
                policies: vec![POLICY_MANAGEMENT_PORTS_JIT],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::testing::user_rule;
    use super::*;
    use crate::scenario::load_str;
    use crate::sim::{Duration, Simulator, replay_until};

    const JIT_DENY_3389: &str = "SecurityCenter-JITRule_-1_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    const JIT_ALLOW_22: &str = "SecurityCenter-JITRule-1-4d5e6f708192a3b4c5d6e7f8091a2b3c";

    const POLICY: &str = r#"JitPolicy(name: "default/vm-web", scope: Vm("vm-web"), enable_at_start: true, {in_force}
        ports: [Port(number: 22, protocol: Any), Port(number: 3389, protocol: Any)],
        active_grants: [Grant(vm: "vm-web", port: 22, source: "198.51.100.9", requestor: "alice@contoso.com", ends_at: "2025-01-06T11:30:00Z")])"#;

    /// One VM at 10.1.1.4 with a Standard public IP behind `nsg-web` holding `rules`, and the
    /// JIT policies `policies`, at the start.
    fn scenario(rules: &str, policies: &str) -> Simulator {
        let text = format!(
            r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.1.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.1.1.0/24", nsg: "nsg-web")])],
                nsgs: [Nsg(name: "nsg-web", rules: [{rules}])],
                public_ips: [PublicIp(name: "pip", address: "20.61.10.4", sku: Standard)],
                vms: [Vm(name: "vm-web", os: Linux, nics: [Nic(name: "nic-web", subnet: "v/s", private_ip: "10.1.1.4", public_ip: "pip")])],
                jit_policies: [{policies}])"#
        );
        let s = load_str(&text, Path::new("t.ron")).unwrap_or_else(|e| panic!("loads: {e}\n{text}"));
        replay_until(s.world(), &s.steps, Duration::from_secs(0)).expect("replays")
    }

    /// `rules` behind `nsg-web`; with `jit`, a JIT policy on 22 and 3389 enabled at the start
    /// with alice's grant on 22.
    fn sim(rules: &str, jit: bool) -> Simulator {
        scenario(rules, &if jit { POLICY.replace("{in_force}", "") } else { String::new() })
    }

    /// As [`sim`] with JIT, the policy taken as in force beside a plan (`in_force_from`).
    fn in_force(rules: &str) -> Simulator {
        scenario(rules, &POLICY.replace("{in_force}", r#"in_force_from: "jit.json:10:15","#))
    }

    #[test]
    fn a_policy_in_force_beside_a_plan_without_jits_rules_is_a_removed_deny_rule_and_grant() {
        let plan = in_force(
            r#"Rule(name: "allow-rdp-legacy", priority: 300, direction: Inbound, access: Allow, protocol: Tcp, source: "Internet", destination_ports: "3389"),"#,
        );
        // Nothing of JIT's was written into the planned NSG: it is as the plan says.
        let nsg = plan.topology().nsg_by_name("nsg-web").expect("nsg");
        let names: Vec<&str> = plan.topology().nsg(nsg).rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["allow-rdp-legacy"]);
        let d = in_force_drift(plan.topology(), plan.jit());
        assert_eq!(d.len(), 3, "{d:?}");
        let rdp = d
            .iter()
            .find_map(|x| match x {
                JitDrift::DenyRuleAbsent { port: 3389, open, from, level, .. } => Some((open, from, *level)),
                _ => None,
            })
            .expect("3389");
        assert_eq!((rdp.1.as_str(), rdp.2), ("jit.json:10:15", Level::Subnet));
        assert!(
            rdp.0[0].whole_internet
                && rdp.0[0].deciders.iter().any(|d| d.rule.bare_name() == "allow-rdp-legacy")
        );
        assert!(
            d.iter().any(|x| matches!(x, JitDrift::DenyRuleAbsent { port: 22, open, .. } if open.is_empty()))
        );
        let text = d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(
            text.contains("protects 3389 on vm-web, but the planned NSG nsg-web (subnet level) has no JIT deny rule for it")
                && text.contains("RDP from the Internet becomes allowed by allow-rdp-legacy in nsg-web (priority 300)")
                && text.contains("the active grant of alice@contoso.com (expires 2025-01-06T11:30:00Z) for SSH on vm-web from 198.51.100.9"),
            "{text}"
        );
        let codes: Vec<FindingCode> = drift_findings(&d).iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                FindingCode::ApplyRemovesJitDeny,
                FindingCode::ApplyRemovesJitDeny,
                FindingCode::ApplyRemovesActiveGrant
            ]
        );
    }

    #[test]
    fn a_policy_in_force_beside_a_plan_that_keeps_jits_rules_has_no_drift_and_takes_them_over() {
        let plan = in_force(&format!(
            r#"Rule(name: "{JIT_ALLOW_22}", priority: 100, direction: Inbound, access: Allow, protocol: Any, source: "198.51.100.9", destination: "10.1.1.4", destination_ports: "22"),
               Rule(name: "{JIT_DENY_3389}", priority: 200, direction: Inbound, access: Deny, protocol: Any, destination: "10.1.1.4", destination_ports: "3389"),
               Rule(name: "SecurityCenter-JITRule_-2_1b2c3d4e5f60718293a4b5c6d7e8f90a", priority: 201, direction: Inbound, access: Deny, protocol: Any, destination: "10.1.1.4", destination_ports: "22"),"#
        ));
        assert!(in_force_drift(plan.topology(), plan.jit()).is_empty());
        let nsg = plan.topology().nsg_by_name("nsg-web").expect("nsg");
        assert_eq!(plan.topology().nsg(nsg).rules.len(), 3, "JIT wrote nothing beside its own rules");
        // The same policy enabled (not in force) is not checked in the plan alone.
        let enabled = sim("", true);
        assert!(in_force_drift(enabled.topology(), enabled.jit()).is_empty());
    }

    fn live() -> Simulator {
        sim(
            &format!(
                r#"Rule(name: "{JIT_ALLOW_22}", priority: 100, direction: Inbound, access: Allow, protocol: Any, source: "198.51.100.9", destination: "10.1.1.4", destination_ports: "22"),
                   Rule(name: "{JIT_DENY_3389}", priority: 200, direction: Inbound, access: Deny, protocol: Any, destination: "10.1.1.4", destination_ports: "3389"),
                   Rule(name: "allow-rdp-legacy", priority: 300, direction: Inbound, access: Allow, protocol: Tcp, source: "Internet", destination_ports: "3389"),"#
            ),
            true,
        )
    }

    fn drift(old: &Simulator, new: &Simulator) -> Vec<JitDrift> {
        jit_drift(old.topology(), old.jit(), new.topology())
    }

    #[test]
    fn a_plan_without_jits_rules_removes_the_deny_rules_and_the_grant_and_names_the_rule_that_opens_rdp() {
        let plan = sim(
            r#"Rule(name: "allow-rdp-legacy", priority: 300, direction: Inbound, access: Allow, protocol: Tcp, source: "Internet", destination_ports: "3389"),"#,
            false,
        );
        let d = drift(&live(), &plan);
        let rdp = d
            .iter()
            .find_map(|x| match x {
                JitDrift::DenyRuleRemoved { deny, open, was_open } if deny.port == 3389 => {
                    Some((deny, open, *was_open))
                }
                _ => None,
            })
            .expect("the 3389 deny rule is removed");
        assert_eq!((rdp.0.rule.as_str(), rdp.0.priority, rdp.2), (JIT_DENY_3389, 200, false));
        assert_eq!(rdp.1.len(), 1);
        assert!(rdp.1[0].whole_internet);
        assert!(
            rdp.1[0]
                .deciders
                .iter()
                .any(|d| d.rule.user_rule_name() == Some("allow-rdp-legacy") && d.priority == Some(300))
        );
        let text = d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(
            text.contains(
                "RDP from the Internet becomes allowed by allow-rdp-legacy in nsg-web (priority 300)"
            ),
            "{text}"
        );
        // JIT wrote its own deny rule for 22 at the start (none was in the NSG): removed too,
        // and SSH stays denied by the default rules.
        assert!(d.iter().any(|x| matches!(x, JitDrift::DenyRuleRemoved { deny, open, .. } if deny.port == 22 && open.is_empty())));
        assert!(
            text.contains(
                "an apply removes the active grant of alice@contoso.com (expires 2025-01-06T11:30:00Z)"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_plan_keeping_the_deny_rule_but_allowing_rdp_before_it_is_a_precedence_finding() {
        let plan = sim(
            &format!(
                r#"Rule(name: "{JIT_ALLOW_22}", priority: 100, direction: Inbound, access: Allow, protocol: Any, source: "198.51.100.9", destination: "10.1.1.4", destination_ports: "22"),
                   Rule(name: "allow-rdp-vendor", priority: 150, direction: Inbound, access: Allow, protocol: Tcp, source: "203.0.113.0/24", destination_ports: "3389"),
                   Rule(name: "{JIT_DENY_3389}", priority: 200, direction: Inbound, access: Deny, protocol: Any, destination: "10.1.1.4", destination_ports: "3389"),
                   Rule(name: "SecurityCenter-JITRule_-2_1b2c3d4e5f60718293a4b5c6d7e8f90a", priority: 201, direction: Inbound, access: Deny, protocol: Any, destination: "10.1.1.4", destination_ports: "22"),"#
            ),
            false,
        );
        let d = drift(&live(), &plan);
        assert_eq!(d.len(), 1, "{d:?}");
        let JitDrift::DenyRulePreceded { deny, open } = &d[0] else { panic!("{d:?}") };
        assert_eq!(deny.port, 3389);
        assert!(!open[0].whole_internet);
        assert_eq!(describe_addrs(&open[0].sources, 4), "203.0.113.0/24");
        assert!(
            d[0].to_string()
                .contains("allowed from 203.0.113.0/24 by allow-rdp-vendor in nsg-web (priority 150)")
        );
    }

    #[test]
    fn the_same_policy_on_both_sides_has_no_drift() {
        assert!(drift(&live(), &live()).is_empty());
    }

    #[test]
    fn lint_findings_carry_the_codes_the_vm_and_the_rules() {
        let plan = sim(
            r#"Rule(name: "allow-rdp-legacy", priority: 300, direction: Inbound, access: Allow, protocol: Tcp, source: "Internet", destination_ports: "3389"),"#,
            false,
        );
        let drifts = drift(&live(), &plan);
        let findings = drift_findings(&drifts);
        let codes: Vec<FindingCode> = findings.iter().map(|f| f.code).collect();
        assert!(
            codes.contains(&FindingCode::ApplyRemovesJitDeny)
                && codes.contains(&FindingCode::ApplyRemovesActiveGrant)
        );
        // One finding per drift, in order: the finding of the drift that removes 3389's deny rule.
        assert_eq!(findings.len(), drifts.len());
        let (_, rdp) = drifts
            .iter()
            .zip(&findings)
            .find(|(d, _)| matches!(d, JitDrift::DenyRuleRemoved { deny, .. } if deny.port == 3389))
            .expect("3389");
        assert_eq!(rdp.rules, [user_rule(JIT_DENY_3389), user_rule("allow-rdp-legacy")]);
        assert_eq!(
            (rdp.vm.as_deref(), rdp.nsg.as_deref(), rdp.severity),
            (Some("vm-web"), Some("nsg-web"), Severity::Warning)
        );
    }
}

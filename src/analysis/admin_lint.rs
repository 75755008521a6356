//! Lint checks of Azure Virtual Network Manager's security admin rules, which are evaluated
//! before the NSGs (`path/admin.rs`):
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `AVNM001-nsg-allow-overridden` | warning | an NSG allow rule every flow of which an admin Deny stops (or an AlwaysAllow takes past the NSGs) first, a Deny among them: it never decides anything |
//! | `AVNM002-always-allow-management-port` | error | an AlwaysAllow admin rule lets 22/3389/5985/5986 in from the Internet past every NSG, so neither an NSG nor JIT can close it |
//! | `AVNM003-admin-deny-blocks-jit` | warning | a JIT-protected port that an admin Deny stops: a granted request writes an NSG allow the admin rule overrides, so the connection still fails |
//!
//! Exact, like the rest of lint: the admin rules of a VNet partition the flow space by first
//! match ([`super::space::partition`]); the pieces an admin Deny decides are compared with the
//! NSG rules' regions.

use crate::jit::{JitEngine, is_jit_rule};
use crate::matcher::{MatchBox, MatchRule};
use crate::model::{AdminAction, AppliedAdminRule, SubnetId, Topology};
use crate::net::{IpProtocol, PortRange, PortSet, ProtocolSet};
use crate::nsg::{Access, Direction, RuleKind};

use super::chain::{Chains, universe};
use super::finding_code::FindingCode;
use super::lint::{Finding, FindingRule, MANAGEMENT_PORTS, Severity};
use super::space::{Region, describe_box, partition};

/// The admin rules of `subnet`'s VNet in `direction`, resolved there, and the region each
/// decides first (by priority).
fn decided<'t>(
    topology: &'t Topology,
    subnet: SubnetId,
    direction: Direction,
) -> Vec<(AppliedAdminRule<'t>, MatchRule, Region)> {
    let applied = topology.admin_rules_for(topology.subnet(subnet).vnet, direction);
    let ctx = topology.resolve_context_for_subnet(subnet);
    let rules: Vec<MatchRule> = applied.iter().map(|a| a.rule.resolve(&ctx)).collect();
    let (parts, _) = partition(&rules, &Region::all());
    applied.into_iter().zip(rules).zip(parts).map(|((a, m), r)| (a, m, r)).collect()
}

/// Every admin-rule check.
pub(super) fn admin_checks(chains: &Chains, jit: &JitEngine, out: &mut Vec<Finding>) {
    let topology = chains.topology();
    overridden_allows(chains, out);
    always_allowed_management(topology, out);
    jit_blocked(topology, jit, out);
}

/// `AVNM001`: NSG user allow rules that an admin Deny stops entirely, where the NSG applies.
fn overridden_allows(chains: &Chains, out: &mut Vec<Finding>) {
    let topology = chains.topology();
    let mut seen = std::collections::BTreeSet::new();
    for nsg in topology.nsg_ids() {
        let (subnets, nics) = topology.associations(nsg);
        let places = subnets.into_iter().chain(nics.iter().map(|n| topology.nic(*n).subnet));
        for subnet in places {
            if !topology.has_admin_rules(topology.subnet(subnet).vnet) {
                continue;
            }
            for direction in [Direction::Inbound, Direction::Outbound] {
                let admin = decided(topology, subnet, direction);
                let compiled = chains.compile(nsg, subnet, direction);
                for (rule, resolved) in compiled.rules().iter().zip(compiled.resolved()) {
                    // Defender's own allow rules are grants; AVNM003 reports the port they open.
                    if rule.kind != RuleKind::Security
                        || rule.access != Access::Allow
                        || is_jit_rule(&rule.name)
                    {
                        continue;
                    }
                    let mut region = Region::from_rule(resolved);
                    if region.is_empty() {
                        continue;
                    }
                    // The flows an admin Deny or AlwaysAllow decides never reach the NSGs.
                    let mut by: Vec<FindingRule> = Vec::new();
                    let mut denied = false;
                    for (a, _, part) in admin.iter().filter(|(a, _, _)| a.rule.action != AdminAction::Allow) {
                        let before = region.clone();
                        region = region.subtract(part);
                        if before.boxes() != region.boxes() {
                            by.push(FindingRule::admin(a, true));
                            denied |= a.rule.action == AdminAction::Deny;
                        }
                    }
                    let nsg_name = &topology.nsg(nsg).name;
                    if !region.is_empty() || !denied || !seen.insert((nsg_name.clone(), rule.name.clone())) {
                        continue;
                    }
                    out.push(Finding {
                        severity: Severity::Warning,
                        code: FindingCode::NsgAllowOverridden,
                        nsg: Some(nsg_name.clone()),
                        vm: None,
                        rules: std::iter::once(FindingRule::own(rule.rule_ref())).chain(by.iter().cloned()).collect(),
                        message: format!(
                            "{} of NSG '{nsg_name}' (priority {}) allows only {direction} traffic that the security admin rule(s) {} of Virtual Network Manager decide first in vnet '{}': admin rules are evaluated before NSG rules, a Deny stops the traffic and an AlwaysAllow skips the NSGs, so this allow never decides anything (what it was meant to let in, a Deny stops)",
                            rule.azure_name(),
                            rule.priority,
                            by.iter().map(FindingRule::to_string).collect::<Vec<_>>().join(", "),
                            topology.vnet(topology.subnet(subnet).vnet).name
                        ),
                        fix: "remove the NSG rule, or ask the network manager's administrators for an exception (an admin Allow or AlwaysAllow rule of higher priority for this traffic)".into(),
                        policies: Vec::new(),
                    });
                }
            }
        }
    }
}

/// The TCP flows from the Internet (as `subnet` sees it) to a management port.
fn internet_management(topology: &Topology, subnet: SubnetId) -> MatchBox {
    MatchBox {
        protocols: ProtocolSet::single(IpProtocol::TCP),
        src: topology.resolve_context_for_subnet(subnet).internet,
        dst_ports: PortSet::from_ranges(MANAGEMENT_PORTS.map(PortRange::single)),
        ..MatchBox::any()
    }
}

/// `AVNM002`: AlwaysAllow admin rules that let the Internet reach a management port of a VM.
fn always_allowed_management(topology: &Topology, out: &mut Vec<Finding>) {
    let mut seen = std::collections::BTreeSet::new();
    for vm in topology.vm_ids() {
        for &nic in &topology.vm(vm).nics {
            let subnet = topology.nic(nic).subnet;
            if !topology.has_admin_rules(topology.subnet(subnet).vnet) {
                continue;
            }
            let own = universe(topology, nic, Direction::Inbound)
                .intersect_box(&internet_management(topology, subnet));
            for (a, _, part) in decided(topology, subnet, Direction::Inbound) {
                if a.rule.action != AdminAction::AlwaysAllow {
                    continue;
                }
                let open = part.intersect(&own).merged();
                let Some(example) = open.boxes().first().map(describe_box) else { continue };
                if !seen.insert(a.path()) {
                    continue;
                }
                out.push(Finding {
                    severity: Severity::Error,
                    code: FindingCode::AlwaysAllowManagementPort,
                    nsg: None,
                    vm: Some(topology.vm(vm).name.clone()),
                    rules: vec![FindingRule::admin(&a, false)],
                    message: format!(
                        "the security admin rule {} (priority {}, AlwaysAllow) of network manager '{}' lets {example} in from the Internet to VM '{}' without evaluating its NSGs: no NSG rule can close the port, and Defender's JIT, which works by NSG deny rules, cannot protect it",
                        a.path(),
                        a.rule.priority,
                        a.configuration.network_manager,
                        topology.vm(vm).name
                    ),
                    fix: "narrow the admin rule's sources to the management ranges that need it, or make it Allow so that the NSGs (and JIT) still decide".into(),
                    policies: vec![super::lint::POLICY_MANAGEMENT_PORTS_CLOSED],
                });
            }
        }
    }
}

/// `AVNM003`: ports a JIT policy protects that an admin Deny stops for every source.
fn jit_blocked(topology: &Topology, jit: &JitEngine, out: &mut Vec<Finding>) {
    for vm in topology.vm_ids() {
        let Some(policy) = jit.policy(vm) else { continue };
        let Some(&nic) = topology.vm(vm).nics.first() else { continue };
        let subnet = topology.nic(nic).subnet;
        if !topology.has_admin_rules(topology.subnet(subnet).vnet) {
            continue;
        }
        let admin = decided(topology, subnet, Direction::Inbound);
        for port in &policy.ports {
            let wanted = universe(topology, nic, Direction::Inbound).intersect_box(&MatchBox {
                protocols: ProtocolSet::single(IpProtocol::TCP),
                dst_ports: PortSet::from_ranges([PortRange::single(port.number)]),
                ..MatchBox::any()
            });
            let denied: Vec<&AppliedAdminRule<'_>> = admin
                .iter()
                .filter(|(a, _, part)| {
                    a.rule.action == AdminAction::Deny && !part.intersect(&wanted).is_empty()
                })
                .map(|(a, _, _)| a)
                .collect();
            let Some(first) = denied.first() else { continue };
            out.push(Finding {
                severity: Severity::Warning,
                code: FindingCode::AdminDenyBlocksJit,
                nsg: None,
                vm: Some(topology.vm(vm).name.clone()),
                rules: denied.iter().map(|a| FindingRule::admin(a, false)).collect(),
                message: format!(
                    "the JIT policy of VM '{}' protects port {}, but the security admin rule {} (priority {}, Deny) of network manager '{}' stops that traffic before the NSGs: a request is approved and Defender writes its NSG allow rule, yet the connection is still refused, because admin rules are evaluated before NSG rules (model choice: Microsoft does not document JIT with admin rules; the order of evaluation decides)",
                    topology.vm(vm).name,
                    port.number,
                    first.path(),
                    first.rule.priority,
                    first.configuration.network_manager
                ),
                fix: "exempt the VM's VNet from the network group, or add an admin Allow of higher priority for the JIT sources so that the NSGs (and JIT's rules) decide".into(),
                policies: Vec::new(),
            });
        }
    }
}

//! The short form of a step's rule changes, for a room (`nsgsim run --brief`): JIT's rules by
//! what they do, not by their 32-hex-digit names.
//!
//! Enabling JIT on a VM with two NSG levels writes ten deny rules; what a class needs to see is
//! "JIT deny 22 (4096), 3389 (4095), … in snet-web-nsg, vm-iis01-nsg": the ports, the priorities,
//! and where. Rules that JIT did not write, DNAT rules and closed connections keep their full
//! line: they are few, and their details are the lesson.

use std::collections::BTreeMap;

use crate::jit::{RuleChange, is_jit_rule};
use crate::model::Topology;
use crate::nsg::{Access, AddressSpec, SecurityRule};
use crate::sim::Change;

use super::change_text;

/// JIT's rule changes of a step, grouped: (added, allow, VM, source) → each NSG with its
/// `port (priority)` items.
type JitGroups = BTreeMap<(bool, bool, String, String), Vec<(String, Vec<String>)>>;

/// The changes of a step in brief: one item per kind of JIT rule written or deleted (the NSGs
/// with the same ports and priorities named together), then every other change in full.
pub fn brief_changes(changes: &[Change], topology: &Topology) -> Vec<String> {
    // (added, allow, VM, source) → NSG → its (port, priority) items, in the order written. The
    // key's order is the order of the lines: deletions before additions (as an edit does them),
    // deny rules before allow rules.
    let mut jit: JitGroups = BTreeMap::new();
    let mut others = Vec::new();
    for change in changes {
        let (added, nsg, rule) = match change {
            Change::Rule(RuleChange::Added { nsg, rule }) if is_jit_rule(&rule.name) => (true, nsg, rule),
            Change::Rule(RuleChange::Removed { nsg, rule }) if is_jit_rule(&rule.name) => (false, nsg, rule),
            other => {
                others.push(change_text(other, topology));
                continue;
            }
        };
        let source = match rule.access {
            Access::Allow => topology.describe_address(&rule.source),
            Access::Deny => String::new(),
        };
        let per_nsg =
            jit.entry((added, rule.access == Access::Allow, vm_of(rule, topology), source)).or_default();
        let item = item(rule);
        match per_nsg.iter_mut().find(|(n, _)| n == nsg) {
            Some((_, items)) => items.push(item),
            None => per_nsg.push((nsg.clone(), vec![item])),
        }
    }
    let mut out = Vec::new();
    // Name the VM only when the changes concern more than one ("Enable JIT on 2 VMs").
    let vms: std::collections::BTreeSet<&String> = jit.keys().map(|(_, _, vm, _)| vm).collect();
    for (key, per_nsg) in &jit {
        let (added, allow, vm, source) = key;
        let for_vm = if vms.len() > 1 { format!(" for {vm}") } else { String::new() };
        let sign = if *added { "+" } else { "-" };
        let (what, from) =
            if *allow { ("JIT allow", format!(" from {source}")) } else { ("JIT deny", String::new()) };
        // NSGs that got the same ports at the same priorities are named together.
        let mut groups: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        for (nsg, items) in per_nsg {
            match groups.iter_mut().find(|(i, _)| i == items) {
                Some((_, nsgs)) => nsgs.push(nsg.clone()),
                None => groups.push((items.clone(), vec![nsg.clone()])),
            }
        }
        for (items, nsgs) in groups {
            out.push(format!("{sign} {what}{for_vm} {}{from} in {}", items.join(", "), nsgs.join(", ")));
        }
    }
    out.extend(others);
    out
}

/// The VM a JIT rule is for: the NIC whose private IP is its destination (JIT's rules name one
/// address), else the destination as written.
fn vm_of(rule: &SecurityRule, topology: &Topology) -> String {
    if let AddressSpec::Prefixes(p) = &rule.destination
        && let [net] = p.as_slice()
        && let Some(nic) = topology.nic_by_private_ip(net.addr())
        && let Some(vm) = topology.nic(nic).vm
    {
        return topology.vm(vm).name.clone();
    }
    topology.describe_address(&rule.destination)
}

/// `3389 (4095)`: a JIT rule's port and priority.
fn item(rule: &SecurityRule) -> String {
    format!("{} ({})", rule.destination_ports, rule.priority)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn jit_rules_read_by_port_and_priority_and_nsgs_with_the_same_rules_together() {
        let s = crate::scenario::load_str(
            r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "sub")])],
                nsgs: [Nsg(name: "sub"), Nsg(name: "nic", rules: [Rule(name: "web", priority: 4096, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "443")])],
                vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "nic1", subnet: "v/a", private_ip: "10.0.1.4", nsg: "nic")])],
                users: [User(name: "u", roles: ["Owner"], source_ip: "203.0.113.5")],
                timeline: [
                    (at: "0", action: EnableJit(vm: "vm1", ports: [Port(number: 22), Port(number: 3389)])),
                    (at: "1m", action: EditJit(vm: "vm1", ports: [Port(number: 22)])),
                    (at: "2m", action: RequestJit(id: "r", user: "u", vm: "vm1", ports: [22], duration: "1h")),
                ])"#,
            Path::new("t.ron"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let report = crate::sim::run(s.world(), &s.steps).expect("runs");
        let brief = |i: usize| {
            let step = &report.steps[i];
            brief_changes(&step.action.as_ref().expect("an action").changes, report.end.topology())
        };
        // The NIC's NSG has a rule at 4096, so its deny rules go one lower: two groups.
        assert_eq!(
            brief(0),
            ["+ JIT deny 22 (4096), 3389 (4095) in sub", "+ JIT deny 22 (4095), 3389 (4094) in nic"]
        );
        // The edit only deletes the rules of the port it removes.
        assert_eq!(brief(1), ["- JIT deny 3389 (4095) in sub", "- JIT deny 3389 (4094) in nic"]);
        assert_eq!(brief(2), ["+ JIT allow 22 (100) from 203.0.113.5 in sub, nic"]);
        // The expiry at 1h2m removes them again.
        let expiry = report.steps.len() - 1;
        assert_eq!(brief(expiry), ["- JIT allow 22 (100) from 203.0.113.5 in sub, nic"]);
    }
}

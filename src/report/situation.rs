//! The situation before a quiz question: what was done (each step's action as it was asked
//! for, not what came of it) and the facts of the VMs and users involved.
//!
//! A question must not carry its answer. The run's outcomes say "refused: user 'bob' … lacks
//! …initiate/action"; the situation says "bob requests RDP to vm1 for 1h" and, among the facts,
//! "bob: Security Reader", so the student has to know what a Security Reader may do. Actions
//! that cannot be refused (a rule added, an NSG associated) read the same either way.

use crate::jit::{PortRequest, RequestSource, protecting_firewall};
use crate::model::{FirewallMode, Os, PublicIpSku, Topology, User, VmId};
use crate::sim::{Action, Attachment, Simulator};

/// What an action asked for, in words, without its outcome.
pub fn action_text(action: &Action, topology: &Topology) -> String {
    let vm = |id: VmId| format!("vm '{}'", topology.vm(id).name);
    let who =
        |actor: &Option<String>| actor.clone().unwrap_or_else(|| crate::sim::SETUP_PRINCIPAL.to_string());
    let ports_of = |ports: &Option<Vec<crate::jit::PortPolicy>>| match ports {
        Some(p) => {
            let numbers: Vec<String> = p.iter().map(|x| x.number.to_string()).collect();
            format!("ports {}", numbers.join(", "))
        }
        None => "its default ports".to_string(),
    };
    match action {
        Action::AttachNsg { nsg, target } => {
            format!("NSG '{}' is associated with {}", topology.nsg(*nsg).name, attachment(*target, topology))
        }
        Action::DetachNsg { target } => {
            format!("the NSG of {} is dissociated", attachment(*target, topology))
        }
        Action::AddRule { nsg, rule } => {
            format!("rule added to NSG '{}': {}", topology.nsg(*nsg).name, topology.describe_rule(rule))
        }
        Action::RemoveRule { nsg, name } => {
            format!("rule '{name}' is removed from NSG '{}'", topology.nsg(*nsg).name)
        }
        Action::SetPeeringAccess { vnet, remote, allow } => format!(
            "allowVirtualNetworkAccess is set to {allow} on the peering of vnet '{}' to '{}'",
            topology.vnet(*vnet).name,
            topology.vnet(*remote).name
        ),
        Action::Connect { name, request, endpoints } => format!(
            "{} tries to connect to {} port {} (connection '{name}')",
            endpoints.from, endpoints.to, request.dst_port
        ),
        Action::Disconnect { name } => format!("connection '{name}' is closed by its user"),
        Action::DeployAdminConfiguration { configuration } => format!(
            "the central team deploys security admin configuration '{}'",
            topology.admin_configuration(*configuration).name
        ),
        Action::UndeployAdminConfiguration { configuration } => format!(
            "the central team removes the deployment of security admin configuration '{}'",
            topology.admin_configuration(*configuration).name
        ),
        Action::EnableJit { vm: id, actor, change, edit: false } => {
            format!("{} enables JIT on {} with {}", who(actor), vm(*id), ports_of(&change.ports))
        }
        Action::EnableJit { vm: id, actor, change, edit: true } => {
            format!("{} edits the JIT policy of {}: {}", who(actor), vm(*id), ports_of(&change.ports))
        }
        Action::EnableJitOnVms { vms, actor, change } => {
            let names: Vec<String> = vms.iter().map(|v| vm(*v)).collect();
            format!(
                "{} selects {} on the Not configured tab and clicks 'Enable JIT on {} VMs', with {}",
                who(actor),
                names.join(", "),
                vms.len(),
                ports_of(&change.ports)
            )
        }
        Action::DisableJit { vm: id, actor } => format!("{} disables JIT on {}", who(actor), vm(*id)),
        Action::SetDefenderPlan2 { enabled, actor } => format!(
            "{} turns Microsoft Defender for Servers Plan 2 {}",
            who(actor),
            if *enabled { "on" } else { "off" }
        ),
        Action::ConnectPageRequest { name, user, vm: id, enable, justification } => {
            let prompt = if *enable { ", answering yes if it prompts to enable JIT" } else { "" };
            format!(
                "{user} opens the Connect page of {} and selects Request access{prompt} (request '{name}'){}",
                vm(*id),
                justified(justification)
            )
        }
        Action::RequestJit { name, user, ports, duration, source, justification } => {
            let from = match source {
                None => String::new(),
                Some(RequestSource::Any) => " from any source (*)".to_string(),
                Some(s) => format!(" from {s}"),
            };
            format!(
                "{user} requests access to {} for {duration}{from} (request '{name}'){}",
                port_list(ports, topology),
                justified(justification)
            )
        }
        Action::ApproveJit { request, approver } => format!("{approver} approves request '{request}'"),
        Action::DenyJit { request, approver, reason } => {
            format!("{approver} denies request '{request}' (\"{reason}\")")
        }
        Action::RevokeJit { request, actor } => format!("{actor} revokes request '{request}'"),
    }
}

fn justified(justification: &Option<String>) -> String {
    justification.as_ref().map(|j| format!(", justification \"{j}\"")).unwrap_or_default()
}

fn port_list(ports: &[PortRequest], topology: &Topology) -> String {
    let parts: Vec<String> =
        ports.iter().map(|p| format!("{}:{}", topology.vm(p.vm).name, p.number)).collect();
    parts.join(", ")
}

fn attachment(target: Attachment, topology: &Topology) -> String {
    match target {
        Attachment::Subnet(s) => {
            format!("subnet '{}/{}'", topology.vnet(topology.subnet(s).vnet).name, topology.subnet(s).name)
        }
        Attachment::Nic(n) => format!("nic '{}'", topology.nic(n).name),
    }
}

/// The VMs and users an action names, to state their facts.
pub fn action_subjects(action: &Action) -> (Vec<VmId>, Vec<String>) {
    match action {
        Action::EnableJit { vm, actor, .. } | Action::DisableJit { vm, actor } => {
            (vec![*vm], actor.iter().cloned().collect())
        }
        Action::EnableJitOnVms { vms, actor, .. } => (vms.clone(), actor.iter().cloned().collect()),
        Action::ConnectPageRequest { user, vm, .. } => (vec![*vm], vec![user.clone()]),
        Action::RequestJit { user, ports, .. } => (ports.iter().map(|p| p.vm).collect(), vec![user.clone()]),
        Action::ApproveJit { approver, .. } | Action::DenyJit { approver, .. } => {
            (vec![], vec![approver.clone()])
        }
        Action::RevokeJit { actor, .. } => (vec![], vec![actor.clone()]),
        Action::SetDefenderPlan2 { actor, .. } => (vec![], actor.iter().cloned().collect()),
        _ => (vec![], vec![]),
    }
}

/// The facts of a VM that decide JIT and reachability questions: OS, deployment model, each
/// NIC's address, subnet, NSGs and public IP, the Azure Firewall and Bastion in its VNet.
pub fn vm_facts(sim: &Simulator, vm: VmId) -> String {
    let t = sim.topology();
    let v = t.vm(vm);
    let os = match v.os {
        Os::Windows => "Windows",
        Os::Linux => "Linux",
    };
    let model = if v.classic { ", classic (ASM) deployment" } else { "" };
    let nics: Vec<String> = v
        .nics
        .iter()
        .map(|&n| {
            let nic = t.nic(n);
            let subnet = t.subnet(nic.subnet);
            let subnet_nsg =
                subnet.nsg.map(|g| format!("NSG '{}'", t.nsg(g).name)).unwrap_or("no NSG".into());
            let nic_nsg = nic.nsg.map(|g| format!("NSG '{}'", t.nsg(g).name)).unwrap_or("no NSG".into());
            let public = match nic.public_ip {
                Some(p) => {
                    let pip = t.public_ip(p);
                    let sku = match pip.sku {
                        PublicIpSku::Standard => "Standard",
                        PublicIpSku::Basic => "Basic",
                    };
                    format!("public IP {} ({sku} SKU)", pip.address)
                }
                None => "no public IP".to_string(),
            };
            format!(
                "NIC '{}' {} in subnet '{}/{}' ({subnet_nsg} on the subnet, {nic_nsg} on the NIC), {public}",
                nic.name,
                nic.private_ip,
                t.vnet(subnet.vnet).name,
                subnet.name
            )
        })
        .collect();
    let mut text = format!("vm '{}' ({os}{model}): {}", v.name, nics.join("; "));
    if let Some((firewall, mode)) = protecting_firewall(t, vm) {
        let rules = match mode {
            FirewallMode::Classic => "classic rules",
            FirewallMode::Policy => "a Firewall Policy",
        };
        text.push_str(&format!("; Azure Firewall '{firewall}' ({rules}) in its VNet"));
    }
    if let Some(nic) = t.primary_nic(vm) {
        let vnet = t.vnet_of_nic(nic);
        for b in t.bastion_ids().filter(|&b| t.bastion(b).vnet == vnet) {
            text.push_str(&format!("; Azure Bastion '{}' in its VNet", t.bastion(b).name));
        }
    }
    text
}

/// The facts of a user: roles and the address their traffic comes from.
pub fn user_facts(user: &User) -> String {
    let roles = if user.roles.is_empty() { "no Azure role".to_string() } else { user.roles.join(", ") };
    format!("user '{}': {roles}; traffic from {}", user.name, user.source_ip)
}

/// The facts of the simulation as a whole that a question may turn on (Defender for Servers
/// Plan 2 off).
pub fn world_facts(sim: &Simulator) -> Vec<String> {
    if sim.jit().options().defender_plan2 {
        Vec::new()
    } else {
        vec!["Microsoft Defender for Servers Plan 2 is off".to_string()]
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_refused_request_reads_as_asked_and_the_facts_say_what_decides_it() {
        let s = crate::scenario::load_str(
            r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n")])],
                nsgs: [Nsg(name: "n")],
                vms: [Vm(name: "vm1", os: Windows, nics: [Nic(name: "nic1", subnet: "v/a", private_ip: "10.0.1.4")])],
                users: [User(name: "bob", roles: ["Security Reader"], source_ip: "203.0.113.5")],
                timeline: [
                    (at: "0", action: EnableJit(vm: "vm1")),
                    (at: "1m", action: RequestJit(id: "bob-rdp", user: "bob", vm: "vm1", ports: [3389], duration: "1h", justification: "patch")),
                ])"#,
            Path::new("t.ron"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let asked: Vec<String> =
            s.steps.iter().map(|step| action_text(step.action.as_ref().expect("an action"), t)).collect();
        assert_eq!(asked[0], "the scenario's Owner enables JIT on vm 'vm1' with its default ports");
        assert_eq!(
            asked[1],
            "bob requests access to vm1:3389 for 1h (request 'bob-rdp'), justification \"patch\""
        );
        assert!(asked.iter().all(|a| !a.contains("refused") && !a.contains("initiate")), "{asked:?}");
        let sim = crate::sim::Simulator::new(s.world());
        let vm = t.vm_by_name("vm1").expect("vm");
        assert_eq!(
            vm_facts(&sim, vm),
            "vm 'vm1' (Windows): NIC 'nic1' 10.0.1.4 in subnet 'v/a' (NSG 'n' on the subnet, no NSG on the NIC), no public IP"
        );
        assert_eq!(user_facts(&s.users[0]), "user 'bob': Security Reader; traffic from 203.0.113.5");
        assert!(world_facts(&sim).is_empty());
    }
}

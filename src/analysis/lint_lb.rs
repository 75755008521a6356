//! Lints of Azure Load Balancers: what a load balancer publishes, against the NSGs of the
//! members it sends to.
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `LB001-standard-rule-closed` | warning | a Standard load balancer's rule or NAT rule that no NSG on any member allows: "Standard load balancers … are closed to inbound connections unless opened by Network Security Groups", so it forwards nothing (likely a mistake) |
//! | `LB002-basic-management-port` | error | a Basic load balancer's public load-balancing rule sends a management port (22, 3389, 5985, 5986) to a member no NSG closes it on: "Basic load balancer is open to the internet by default" |
//! | `LB003-nat-rule-management-port` | error | an inbound NAT rule publishes SSH or RDP (22, 3389) from the Internet: the workaround that just-in-time VM access replaces |
//!
//! A member is judged by its inbound NSG chain (subnet, then NIC) over the flows the frontend
//! brings: from the Internet for a public frontend, from anywhere for an internal one (whose
//! clients are private). Every check is exact over those flows (the box algebra of
//! [`super::space`]), like the NSG lints.

use crate::matcher::MatchBox;
use crate::model::{FrontendAddress, LbProtocol, LbSku, LoadBalancer, NatRule, Topology};
use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, ProtocolSet};

use super::chain::{Chains, Decider, internet_seen_by};
use super::finding_code::FindingCode;
use super::lint::{Finding, FindingRule, MANAGEMENT_PORTS, POLICY_MANAGEMENT_PORTS_JIT, Severity};

/// One thing a load balancer forwards: a rule or a NAT rule, to each member's backend port.
struct Published<'a> {
    /// `rule 'x'` or `NAT rule 'x'`.
    label: String,
    /// The frontend's index.
    frontend: usize,
    /// The protocols it forwards.
    protocol: LbProtocol,
    /// The backend port (`None`: every port, HA ports).
    backend_port: Option<u16>,
    /// The frontend port (`None`: every port), as the client sees it.
    frontend_port: String,
    /// The members it sends to.
    members: Vec<crate::model::BackendMember>,
    /// The NAT rule, when it is one.
    nat: Option<&'a NatRule>,
}

/// Every rule and NAT rule of `lb`, with its members.
fn published(lb: &LoadBalancer) -> Vec<Published<'_>> {
    let mut out = Vec::new();
    for r in &lb.rules {
        let ha = r.ha_ports();
        out.push(Published {
            label: format!("rule '{}'", r.name),
            frontend: r.frontend,
            protocol: r.protocol,
            backend_port: (!ha).then_some(r.backend_port),
            frontend_port: if ha { "every port".into() } else { r.frontend_port.to_string() },
            members: lb.pools.get(r.pool).map(|p| p.members.clone()).unwrap_or_default(),
            nat: None,
        });
    }
    for n in &lb.nat_rules {
        let ports = if n.frontend_port_start == n.frontend_port_end {
            n.frontend_port_start.to_string()
        } else {
            format!("{}-{}", n.frontend_port_start, n.frontend_port_end)
        };
        out.push(Published {
            label: format!("NAT rule '{}'", n.name),
            frontend: n.frontend,
            protocol: n.protocol,
            backend_port: Some(n.backend_port),
            frontend_port: ports,
            members: lb.nat_members(n).into_iter().map(|(_, m)| m).collect(),
            nat: Some(n),
        });
    }
    out
}

fn protocols(p: LbProtocol) -> ProtocolSet {
    match p {
        LbProtocol::Tcp => ProtocolSet::single(IpProtocol::TCP),
        LbProtocol::Udp => ProtocolSet::single(IpProtocol::UDP),
        LbProtocol::All => ProtocolSet::ALL,
    }
}

/// Runs the load balancer checks.
pub fn lb_checks(chains: &Chains, out: &mut Vec<Finding>) {
    let topology = chains.topology();
    for id in topology.load_balancer_ids() {
        let lb = topology.load_balancer(id);
        for p in published(lb) {
            let Some(frontend) = lb.frontends.get(p.frontend) else { continue };
            let public = matches!(frontend.address, FrontendAddress::Public(_));
            let address = topology.frontend_address(id, p.frontend);
            let mut any_allowed = false;
            let mut open_management: Vec<(String, Vec<Decider>)> = Vec::new();
            for m in &p.members {
                let nic = m.nic;
                let src = if public { internet_seen_by(topology, nic) } else { AddrSet::any() };
                let probe = MatchBox {
                    protocols: protocols(p.protocol),
                    src,
                    dst_ports: p
                        .backend_port
                        .map_or_else(PortSet::any, |port| PortSet::from_ranges([PortRange::single(port)])),
                    ..MatchBox::any()
                };
                for (deciders, _) in chains.allowed_inbound(nic, &probe, |_| false) {
                    let by_nsg = deciders.iter().any(|d| d.nsg.is_some() && d.admin.is_none());
                    // Standard: only an NSG opens it; Basic: open unless an NSG denies.
                    let open = by_nsg || lb.sku == LbSku::Basic;
                    any_allowed |= open;
                    if open && public {
                        open_management.push((member_name(topology, m), deciders));
                    }
                }
            }
            if p.members.is_empty() {
                continue;
            }
            let by = |opened: &[(String, Vec<Decider>)]| -> String {
                opened
                    .iter()
                    .map(|(who, d)| {
                        let nsgs: Vec<String> =
                            d.iter().filter(|x| x.nsg.is_some()).map(Decider::to_string).collect();
                        if nsgs.is_empty() {
                            format!("{who} (no NSG on its subnet or NIC)")
                        } else {
                            format!("{who} (allowed by {})", nsgs.join(" then "))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let first_vm =
                p.members.first().and_then(|m| topology.nic(m.nic).vm).map(|v| topology.vm(v).name.clone());
            let service = match p.backend_port {
                Some(port) => format!("{} port {port}", p.protocol),
                None => "every protocol and port (HA ports)".into(),
            };
            if lb.sku == LbSku::Standard && !any_allowed {
                out.push(Finding {
                    severity: Severity::Warning,
                    code: FindingCode::StandardRuleClosed,
                    nsg: None,
                    vm: first_vm.clone(),
                    rules: Vec::new(),
                    message: format!(
                        "load balancer '{}' (Standard SKU) {} forwards {address}:{} to {service} of {}, but no NSG on any of them allows it{}: a Standard load balancer is closed to inbound connections unless an NSG opens them, so the rule forwards nothing",
                        lb.name,
                        p.label,
                        p.frontend_port,
                        p.members.iter().map(|m| member_name(topology, m)).collect::<Vec<_>>().join(", "),
                        if public { " from the Internet" } else { "" }
                    ),
                    fix: format!("add an inbound allow for {service} to the NSG of the members' subnet or NIC (from the clients' addresses), or remove the rule"),
                    policies: Vec::new(),
                });
            }
            let Some(port) = p.backend_port else { continue };
            if open_management.is_empty() || !matches!(p.protocol, LbProtocol::Tcp | LbProtocol::All) {
                continue;
            }
            let (code, message, fix) = if let Some(n) = p.nat {
                if port != 22 && port != 3389 {
                    continue;
                }
                (
                    FindingCode::NatRuleManagementPort,
                    format!(
                        "load balancer '{}' NAT rule '{}' publishes {} (TCP {port}) at {address}:{} to the Internet: {}",
                        lb.name,
                        n.name,
                        if port == 22 { "SSH" } else { "RDP" },
                        p.frontend_port,
                        by(&open_management)
                    ),
                    "remove the NAT rule and use just-in-time VM access (Defender for Cloud), which opens the port to the requester's address only for the hours requested, or Azure Bastion; a NAT rule on a high frontend port is the standing workaround JIT replaces (obscurity, not access control)",
                )
            } else if lb.sku == LbSku::Basic && MANAGEMENT_PORTS.contains(&port) {
                (
                    FindingCode::BasicManagementPort,
                    format!(
                        "load balancer '{}' (Basic SKU) {} publishes management port {port} at {address}:{} to the Internet: a Basic load balancer is open by default, and nothing closes it on {}",
                        lb.name,
                        p.label,
                        p.frontend_port,
                        by(&open_management)
                    ),
                    "deny the port from the Internet in the members' NSG and use just-in-time VM access or Azure Bastion; move to a Standard load balancer (Basic was retired on 30 September 2025), which is closed unless an NSG opens it",
                )
            } else {
                continue;
            };
            out.push(published_management(code, message, fix, first_vm, &open_management));
        }
    }
}

/// `LB002`/`LB003`: a management port a load balancer publishes to the Internet, an error that
/// names the first open member's NSG and the user rules that let the port through, each once.
fn published_management(
    code: FindingCode,
    message: String,
    fix: &str,
    first_vm: Option<String>,
    opened: &[(String, Vec<Decider>)],
) -> Finding {
    let mut rules: Vec<FindingRule> = Vec::new();
    for d in opened.iter().flat_map(|(_, d)| d.iter()).filter(|d| d.user_rule()) {
        let rule = FindingRule::own(d.rule.clone());
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    Finding {
        severity: Severity::Error,
        code,
        nsg: opened.first().and_then(|(_, d)| d.iter().find_map(|d| d.nsg.clone())),
        vm: first_vm,
        rules,
        message,
        fix: fix.into(),
        policies: vec![POLICY_MANAGEMENT_PORTS_JIT],
    }
}

/// `vm 'x' (NIC 'y')` for a member.
fn member_name(topology: &Topology, m: &crate::model::BackendMember) -> String {
    let nic = topology.nic(m.nic);
    match nic.vm {
        Some(vm) => format!("VM '{}' (NIC '{}')", topology.vm(vm).name, nic.name),
        None => format!("NIC '{}'", nic.name),
    }
}

//! Lint: problems in a policy that Azure accepts but that defeat its intent, each with a stable
//! code, a severity, the NSG and rules involved, why, and a fix.
//!
//! Every check is exact: NSGs are resolved where they apply (service tags and ASGs per VNet
//! context) and compared with the box algebra of [`super::space`], never by sampling flows.
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `NSG001-shadowed-rule` | warning | a rule no flow ever reaches: earlier rules of the same NSG and direction cover it |
//! | `NSG002-redundant-rule` | info | removing the rule changes no verdict: the rules after it decide the same |
//! | `NSG003-level-conflict` | warning | one level (subnet or NIC) allows by a user rule what the other level denies |
//! | `NSG004-management-port-open` | error | 22/3389/5985/5986 allowed from `*` or the Internet (Azure Policy 22730e10-…, b0f33259-…) |
//! | `NSG005-unassociated-nsg` | info | the NSG is on no subnet or NIC, so its rules are not analysed |
//! | `JIT001-rule-defeats-jit` | error | an allow with higher precedence than a JIT deny rule keeps the port open |
//! | `JIT002-any-source` | warning | a JIT policy lets requests name any source (`*`) |
//! | `BAS001-bastion-missing-rule` | error | the NSG on `AzureBastionSubnet` lacks one of Azure's required rules |
//!
//! Rules written by JIT itself (`SecurityCenter-JITRule…`) are not reported as shadowed or
//! redundant: Defender places them, and `JIT001` covers the case where they do not bite.

use std::collections::BTreeSet;
use std::fmt;

use crate::jit::{AllowedSources, JitEngine, is_jit_rule};
use crate::matcher::MatchBox;
use crate::model::{BASTION_SUBNET, NsgId, SubnetId, Topology};
use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, ProtocolSet};
use crate::nsg::{Access, AddressSpec, CompiledNsg, Direction, RuleKind, ServiceTag};
use crate::path::Level;

use super::chain::{compile, level_partition, universe};
use super::space::{Region, describe_box, partition};

/// Azure Policy "Management ports should be closed on your virtual machines".
pub const POLICY_MANAGEMENT_PORTS_CLOSED: &str = "Azure Policy 22730e10-96f6-4aac-ad84-9383d35b5917 \"Management ports should be closed on your virtual machines\"";
/// Azure Policy "Management ports of virtual machines should be protected with just-in-time
/// network access control".
pub const POLICY_MANAGEMENT_PORTS_JIT: &str = "Azure Policy b0f33259-77d7-4c9e-aac6-3aabcfae693c \"Management ports of virtual machines should be protected with just-in-time network access control\"";

/// The remote management ports Defender for Cloud and the policies above watch.
pub const MANAGEMENT_PORTS: [u16; 4] = [22, 3389, 5985, 5986];

/// How serious a finding is. `lint` exits 1 when any finding is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Traffic is open that should not be, or a service breaks.
    Error,
    /// The policy does not do what it says.
    Warning,
    /// Tidiness.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable code, e.g. `NSG001-shadowed-rule`.
    pub code: &'static str,
    /// The NSG concerned.
    pub nsg: Option<String>,
    /// The VM concerned.
    pub vm: Option<String>,
    /// The rules concerned, as Azure names them.
    pub rules: Vec<String>,
    /// What is wrong and why.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// Azure Policy definitions that flag the same thing.
    pub policies: Vec<&'static str>,
}

/// Runs every check on `topology` with JIT state `jit`, errors first.
pub fn lint(topology: &Topology, jit: &JitEngine) -> Vec<Finding> {
    let mut out = Vec::new();
    for nsg in topology.nsg_ids() {
        nsg_checks(topology, nsg, &mut out);
    }
    level_conflicts(topology, &mut out);
    jit_checks(topology, jit, &mut out);
    bastion_checks(topology, &mut out);
    out.sort_by(|a, b| (a.severity, a.code).cmp(&(b.severity, b.code)));
    out
}

/// The subnets an NSG applies in, one per resolution context.
fn contexts(topology: &Topology, nsg: NsgId) -> Vec<SubnetId> {
    let (subnets, nics) = topology.associations(nsg);
    let mut all: Vec<SubnetId> = subnets;
    all.extend(nics.iter().map(|n| topology.nic(*n).subnet));
    let mut seen = BTreeSet::new();
    all.into_iter().filter(|s| seen.insert(topology.context_key(*s))).collect()
}

/// The VMs behind an NSG: on its NICs, and on NICs in its subnets.
fn vms_behind(topology: &Topology, nsg: NsgId) -> Vec<String> {
    let (subnets, nics) = topology.associations(nsg);
    let mut out = BTreeSet::new();
    for n in topology.nic_ids() {
        let nic = topology.nic(n);
        if (nics.contains(&n) || subnets.contains(&nic.subnet))
            && let Some(vm) = nic.vm
        {
            out.insert(topology.vm(vm).name.clone());
        }
    }
    out.into_iter().collect()
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "(none)".into() } else { items.join(", ") }
}

fn ports_of(region: &Region) -> PortSet {
    region.boxes().iter().fold(PortSet::empty(), |acc, b| acc.union(&b.dst_ports))
}

fn nsg_checks(topology: &Topology, nsg: NsgId, out: &mut Vec<Finding>) {
    let name = topology.nsg(nsg).name.clone();
    let subnets = contexts(topology, nsg);
    if subnets.is_empty() {
        out.push(Finding {
            severity: Severity::Info,
            code: "NSG005-unassociated-nsg",
            nsg: Some(name),
            vm: None,
            rules: Vec::new(),
            message: "the NSG is associated with no subnet and no network interface, so it filters nothing; its rules are not analysed (service tags and ASGs only have a meaning where an NSG applies)".into(),
            fix: "associate it with a subnet or NIC, or delete it".into(),
            policies: Vec::new(),
        });
        return;
    }
    for direction in [Direction::Inbound, Direction::Outbound] {
        let compiled: Vec<(SubnetId, CompiledNsg)> =
            subnets.iter().map(|&s| (s, compile(topology, nsg, s, direction))).collect();
        let parts: Vec<Vec<Region>> =
            compiled.iter().map(|(_, c)| partition(c.resolved(), &Region::all()).0).collect();
        let rules = compiled[0].1.rules();
        // Azure requires its Bastion rules even where broader rules already cover them.
        let on_bastion = subnets.iter().any(|s| topology.subnet(*s).name == BASTION_SUBNET);
        for (i, rule) in rules.iter().enumerate() {
            if rule.kind != RuleKind::Security || is_jit_rule(&rule.name) {
                continue;
            }
            if on_bastion && REQUIRED.iter().any(|r| r.name.eq_ignore_ascii_case(&rule.name)) {
                continue;
            }
            let azure = rule.azure_name();
            let shadowed = parts.iter().all(|p| p[i].is_empty());
            if shadowed {
                let own: Vec<Region> =
                    compiled.iter().map(|(_, c)| Region::from_rule(&c.resolved()[i])).collect();
                if own.iter().all(Region::is_empty) {
                    out.push(Finding {
                        severity: Severity::Warning,
                        code: "NSG001-shadowed-rule",
                        nsg: Some(name.clone()),
                        vm: None,
                        rules: vec![azure.clone()],
                        message: format!("{azure} (priority {}, {direction}) matches no flow where the NSG applies (an ASG without members here, or ports on a protocol without ports)", rule.priority),
                        fix: "delete the rule, or correct its source, destination, ASGs or protocol".into(),
                        policies: Vec::new(),
                    });
                    continue;
                }
                let mut covering = Vec::new();
                for (j, earlier) in rules[..i].iter().enumerate() {
                    let overlaps = compiled
                        .iter()
                        .zip(&own)
                        .any(|((_, c), o)| !o.intersect(&Region::from_rule(&c.resolved()[j])).is_empty());
                    if overlaps {
                        covering.push(earlier.azure_name());
                    }
                }
                let opposite =
                    rules[..i].iter().any(|r| covering.contains(&r.azure_name()) && r.access != rule.access);
                out.push(Finding {
                    severity: Severity::Warning,
                    code: "NSG001-shadowed-rule",
                    nsg: Some(name.clone()),
                    vm: None,
                    rules: std::iter::once(azure.clone()).chain(covering.iter().cloned()).collect(),
                    message: format!(
                        "{azure} (priority {}, {direction}, {}) is never matched: {} of the same NSG and direction come first and together cover every flow it matches{}",
                        rule.priority,
                        rule.access,
                        list(&covering),
                        if opposite { format!("; the {} it states never happens", rule.access.to_string().to_lowercase()) } else { String::new() }
                    ),
                    fix: format!("delete it, or give it a priority below {} if it should take effect", rules[..i].iter().filter(|r| covering.contains(&r.azure_name())).map(|r| r.priority.0).min().unwrap_or(rule.priority.0)),
                    policies: Vec::new(),
                });
                continue;
            }
            // Redundant: in every context, the rules after it decide its flows the same way.
            let mut takers = BTreeSet::new();
            let mut redundant = true;
            for ((_, c), p) in compiled.iter().zip(&parts) {
                if p[i].is_empty() {
                    continue;
                }
                let (after, _) = partition(&c.resolved()[i + 1..], &p[i]);
                for (k, region) in after.iter().enumerate() {
                    if region.is_empty() {
                        continue;
                    }
                    let later = &c.rules()[i + 1 + k];
                    if later.access != rule.access {
                        redundant = false;
                    }
                    takers.insert(later.azure_name());
                }
            }
            if redundant {
                let takers: Vec<String> = takers.into_iter().collect();
                out.push(Finding {
                    severity: Severity::Info,
                    code: "NSG002-redundant-rule",
                    nsg: Some(name.clone()),
                    vm: None,
                    rules: std::iter::once(azure.clone()).chain(takers.iter().cloned()).collect(),
                    message: format!(
                        "removing {azure} (priority {}, {direction}, {}) changes no verdict: without it, {} would {} the same flows",
                        rule.priority,
                        rule.access,
                        list(&takers),
                        rule.access.to_string().to_lowercase()
                    ),
                    fix: "delete it to keep the NSG short, or keep it deliberately as documentation".into(),
                    policies: Vec::new(),
                });
            }
            if direction == Direction::Inbound && rule.access == Access::Allow {
                management_ports(topology, nsg, &name, rule, i, &compiled, &parts, out);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn management_ports(
    topology: &Topology,
    nsg: NsgId,
    name: &str,
    rule: &crate::nsg::SecurityRule,
    i: usize,
    compiled: &[(SubnetId, CompiledNsg)],
    parts: &[Vec<Region>],
    out: &mut Vec<Finding>,
) {
    let open_source = match &rule.source {
        AddressSpec::Any => Some("*"),
        AddressSpec::Tag(ServiceTag::Internet) => Some("Internet"),
        AddressSpec::Prefixes(p) if p.iter().any(|n| n.prefix_len() == 0) => Some("0.0.0.0/0"),
        _ => None,
    };
    let Some(open_source) = open_source else { return };
    let mgmt = PortSet::from_ranges(MANAGEMENT_PORTS.map(PortRange::single));
    let mut exposed = PortSet::empty();
    for ((subnet, _), p) in compiled.iter().zip(parts) {
        let internet = topology.resolve_context_for_subnet(*subnet).internet;
        let b = MatchBox {
            protocols: ProtocolSet::single(IpProtocol::TCP),
            src: internet,
            dst_ports: mgmt.clone(),
            ..MatchBox::any()
        };
        exposed = exposed.union(&ports_of(&p[i].intersect_box(&b)));
    }
    if exposed.is_empty() {
        return;
    }
    let azure = rule.azure_name();
    let vms = vms_behind(topology, nsg);
    out.push(Finding {
        severity: Severity::Error,
        code: "NSG004-management-port-open",
        nsg: Some(name.to_string()),
        vm: None,
        rules: vec![azure.clone()],
        message: format!(
            "{azure} (priority {}) allows TCP {exposed} from {open_source}: remote management ports are open to the Internet for {}",
            rule.priority,
            if vms.is_empty() { "whatever the NSG protects".to_string() } else { format!("VM(s) {}", vms.join(", ")) }
        ),
        fix: "restrict the source to your admin ranges or remove the rule, and enable just-in-time VM access (Defender for Cloud) or use Azure Bastion".into(),
        policies: vec![POLICY_MANAGEMENT_PORTS_CLOSED, POLICY_MANAGEMENT_PORTS_JIT],
    });
}

fn level_conflicts(topology: &Topology, out: &mut Vec<Finding>) {
    for vm in topology.vm_ids() {
        for &nic in &topology.vm(vm).nics {
            let n = topology.nic(nic);
            let (Some(nic_nsg), Some(sub_nsg)) = (n.nsg, topology.subnet(n.subnet).nsg) else { continue };
            if nic_nsg == sub_nsg {
                continue;
            }
            for direction in [Direction::Inbound, Direction::Outbound] {
                let all = universe(topology, nic, direction);
                let subnet = level_partition(topology, nic, Level::Subnet, direction, &all);
                let nic_level = level_partition(topology, nic, Level::Nic, direction, &all);
                for (ds, rs) in &subnet {
                    for (dn, rn) in &nic_level {
                        let (allow, deny) = match (ds.access, dn.access) {
                            (Access::Allow, Access::Deny) if ds.user_rule => (ds, dn),
                            (Access::Deny, Access::Allow) if dn.user_rule => (dn, ds),
                            _ => continue,
                        };
                        let both = rs.intersect(rn);
                        if both.is_empty() {
                            continue;
                        }
                        let merged = both.merged();
                        let example = merged.boxes().first().map(describe_box).unwrap_or_default();
                        let more = merged.boxes().len().saturating_sub(1);
                        let level_name = |d: &super::chain::Decider| match d.level {
                            Level::Subnet => "subnet",
                            Level::Nic => "NIC",
                        };
                        out.push(Finding {
                            severity: Severity::Warning,
                            code: "NSG003-level-conflict",
                            nsg: allow.nsg.clone(),
                            vm: Some(topology.vm(vm).name.clone()),
                            rules: vec![
                                format!("{} {}", allow.nsg.clone().unwrap_or_default(), allow.rule),
                                format!("{} {}", deny.nsg.clone().unwrap_or_default(), deny.rule),
                            ],
                            message: format!(
                                "{direction} traffic of VM '{}' (nic '{}'): the {} NSG '{}' allows by {} what the {} NSG '{}' denies by {}, so it is denied: {example}{}",
                                topology.vm(vm).name,
                                n.name,
                                level_name(allow),
                                allow.nsg.clone().unwrap_or_default(),
                                allow.rule,
                                level_name(deny),
                                deny.nsg.clone().unwrap_or_default(),
                                deny.rule,
                                if more > 0 { format!(" (+{more} more boxes)") } else { String::new() }
                            ),
                            fix: format!(
                                "both levels must allow: add a matching allow to '{}' if the traffic is wanted, or remove {} from '{}' if it is not",
                                deny.nsg.clone().unwrap_or_default(),
                                allow.rule,
                                allow.nsg.clone().unwrap_or_default()
                            ),
                            policies: Vec::new(),
                        });
                    }
                }
            }
        }
    }
}

fn jit_checks(topology: &Topology, jit: &JitEngine, out: &mut Vec<Finding>) {
    for vm in topology.vm_ids() {
        let Some(policy) = jit.policy(vm) else { continue };
        let vm_name = topology.vm(vm).name.clone();
        let any: Vec<String> = policy
            .ports
            .iter()
            .filter(|p| p.allowed_sources == AllowedSources::Any)
            .map(|p| p.number.to_string())
            .collect();
        if !any.is_empty() {
            out.push(Finding {
                severity: Severity::Warning,
                code: "JIT002-any-source",
                nsg: None,
                vm: Some(vm_name.clone()),
                rules: Vec::new(),
                message: format!(
                    "the JIT policy of VM '{vm_name}' lets requests name any source ('*') on port(s) {}: a requester can open the port to any address, not only their own",
                    any.join(", ")
                ),
                fix: "set allowedSourceAddressPrefixes of those ports to your corporate or admin ranges".into(),
                policies: Vec::new(),
            });
        }
        let Some(nic) = topology.primary_nic(vm) else { continue };
        for level in [Level::Subnet, Level::Nic] {
            let Some(nsg) = super::chain::nsg_at(topology, nic, level) else { continue };
            let c = compile(topology, nsg, topology.nic(nic).subnet, Direction::Inbound);
            let (parts, _) = partition(c.resolved(), &universe(topology, nic, Direction::Inbound));
            for (k, deny) in c.rules().iter().enumerate() {
                if !(is_jit_rule(&deny.name) && deny.access == Access::Deny) {
                    continue;
                }
                let deny_region = Region::from_rule(&c.resolved()[k]);
                for (i, allow) in c.rules()[..k].iter().enumerate() {
                    if allow.access != Access::Allow || is_jit_rule(&allow.name) {
                        continue;
                    }
                    let open = parts[i].intersect(&deny_region);
                    if open.is_empty() {
                        continue;
                    }
                    let merged = open.merged();
                    let example = merged.boxes().first().map(describe_box).unwrap_or_default();
                    out.push(Finding {
                        severity: Severity::Error,
                        code: "JIT001-rule-defeats-jit",
                        nsg: Some(topology.nsg(nsg).name.clone()),
                        vm: Some(vm_name.clone()),
                        rules: vec![allow.azure_name(), deny.azure_name()],
                        message: format!(
                            "{} (priority {}) allows {example} ahead of the JIT deny rule {} (priority {}) for VM '{vm_name}': the port is open without a JIT request (Defender keeps existing rules for a port above its deny rule)",
                            allow.azure_name(),
                            allow.priority,
                            deny.azure_name(),
                            deny.priority
                        ),
                        fix: format!("remove {} or narrow it so it no longer covers the JIT-protected port; request access through JIT instead", allow.azure_name()),
                        policies: vec![POLICY_MANAGEMENT_PORTS_JIT],
                    });
                }
            }
        }
    }
    for scoped in jit.scoped_policies() {
        if scoped.enable_at_start {
            continue;
        }
        let any: Vec<String> = scoped
            .policy
            .ports
            .iter()
            .filter(|p| p.allowed_sources == AllowedSources::Any)
            .map(|p| p.number.to_string())
            .collect();
        if !any.is_empty() {
            out.push(Finding {
                severity: Severity::Warning,
                code: "JIT002-any-source",
                nsg: None,
                vm: None,
                rules: Vec::new(),
                message: format!(
                    "JIT policy '{}' ({}) lets requests name any source ('*') on port(s) {}",
                    scoped.name,
                    scoped.scope,
                    any.join(", ")
                ),
                fix: "set allowed_sources of those ports to your corporate or admin ranges".into(),
                policies: Vec::new(),
            });
        }
    }
}

/// One of Azure's required rules for an NSG on `AzureBastionSubnet` (reference §5.2). The
/// Bastion side of each rule is the subnet itself.
struct Required {
    name: &'static str,
    direction: Direction,
    other: &'static str,
    ports: &'static [u16],
    tcp_only: bool,
    /// The Internet rule may be narrowed to "a set of public IPs you specify".
    any_source: bool,
}

const REQUIRED: &[Required] = &[
    Required {
        name: "AllowHttpsInbound",
        direction: Direction::Inbound,
        other: "Internet",
        ports: &[443],
        tcp_only: true,
        any_source: true,
    },
    Required {
        name: "AllowGatewayManagerInbound",
        direction: Direction::Inbound,
        other: "GatewayManager",
        ports: &[443],
        tcp_only: true,
        any_source: false,
    },
    Required {
        name: "AllowBastionHostCommunication",
        direction: Direction::Inbound,
        other: "VirtualNetwork",
        ports: &[8080, 5701],
        tcp_only: false,
        any_source: false,
    },
    Required {
        name: "AllowAzureLoadBalancerInbound",
        direction: Direction::Inbound,
        other: "AzureLoadBalancer",
        ports: &[443],
        tcp_only: true,
        any_source: false,
    },
    Required {
        name: "AllowSshRdpOutbound",
        direction: Direction::Outbound,
        other: "VirtualNetwork",
        ports: &[22, 3389],
        tcp_only: false,
        any_source: false,
    },
    Required {
        name: "AllowAzureCloudOutbound",
        direction: Direction::Outbound,
        other: "AzureCloud",
        ports: &[443],
        tcp_only: true,
        any_source: false,
    },
    Required {
        name: "AllowBastionCommunication",
        direction: Direction::Outbound,
        other: "VirtualNetwork",
        ports: &[8080, 5701],
        tcp_only: false,
        any_source: false,
    },
    Required {
        name: "AllowHttpOutbound",
        direction: Direction::Outbound,
        other: "Internet",
        ports: &[80],
        tcp_only: false,
        any_source: false,
    },
];

fn bastion_checks(topology: &Topology, out: &mut Vec<Finding>) {
    for subnet in topology.subnet_ids() {
        let s = topology.subnet(subnet);
        if s.name != BASTION_SUBNET {
            continue;
        }
        let Some(nsg) = s.nsg else { continue };
        let ctx = topology.resolve_context_for_subnet(subnet);
        let own = AddrSet::from_net(s.prefix);
        let vnet = topology.vnet(s.vnet).name.clone();
        for req in REQUIRED {
            let c = compile(topology, nsg, subnet, req.direction);
            let other = ctx.tag(&ServiceTag::parse(req.other).unwrap_or(ServiceTag::Other(req.other.into())));
            let (src, dst) = match req.direction {
                Direction::Inbound => (other, own.clone()),
                Direction::Outbound => (own.clone(), other),
            };
            let protocols = if req.tcp_only {
                ProtocolSet::single(IpProtocol::TCP)
            } else {
                ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP])
            };
            let needed = Region::from_box(MatchBox {
                protocols,
                src,
                dst,
                dst_ports: PortSet::from_ranges(req.ports.iter().map(|p| PortRange::single(*p))),
                ..MatchBox::any()
            });
            let (parts, _) = partition(c.resolved(), &needed);
            let allowed = c
                .rules()
                .iter()
                .zip(&parts)
                .filter(|(r, _)| r.access == Access::Allow)
                .fold(Region::empty(), |acc, (_, p)| acc.union(p));
            let missing = needed.subtract(&allowed);
            let fails = if req.any_source { allowed.is_empty() } else { !missing.is_empty() };
            if !fails {
                continue;
            }
            let blocker = c
                .rules()
                .iter()
                .zip(&parts)
                .find(|(r, p)| r.access == Access::Deny && !p.intersect(&missing).is_empty())
                .map(|(r, _)| r.azure_name())
                .unwrap_or_else(|| "no allowing rule".into());
            let ports: Vec<String> = req.ports.iter().map(u16::to_string).collect();
            let what = format!(
                "{} {} {} {}",
                req.direction,
                if req.tcp_only { "TCP" } else { "TCP/UDP" },
                ports.join(","),
                match req.direction {
                    Direction::Inbound => format!("from {}", req.other),
                    Direction::Outbound => format!("to {}", req.other),
                }
            );
            out.push(Finding {
                severity: Severity::Error,
                code: "BAS001-bastion-missing-rule",
                nsg: Some(topology.nsg(nsg).name.clone()),
                vm: None,
                rules: vec![blocker.clone()],
                message: format!(
                    "the NSG on {BASTION_SUBNET} of vnet '{vnet}' lacks Azure's required rule {} ({what}): blocked by {blocker}; Azure Bastion needs it to work and to receive platform updates",
                    req.name
                ),
                fix: format!(
                    "add an Allow rule {} ({what}) with a priority above {blocker}",
                    req.name
                ),
                policies: Vec::new(),
            });
        }
    }
}

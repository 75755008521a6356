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
//! | `JIT003-active-grant` | info | a management port open to the Internet only by an active JIT grant (it closes at the grant's end) |
//! | `JIT004-port-5989` | warning | a JIT policy protects 5989, a training text's typo for WinRM's 5986 |
//! | `BAS001-bastion-missing-rule` | error | the NSG on `AzureBastionSubnet` lacks one of Azure's required rules |
//! | `AVNM001`–`AVNM003` | | Virtual Network Manager's security admin rules (`admin_lint.rs`) |
//! | `NSG007-…`, `NSG008-…` | | rules that deploy but do nothing, management ports behind a multi-tenant tag (`analysis/lint_intent.rs`) |
//! | `NSG009-…`, `NSG010-…` | | tags whose `networkFeatures` in Microsoft's file lack `NSG`, or that have no list (`analysis/lint_tags.rs`) |
//! | `NSG011-management-exposure-width` | warning | a management port the Internet reaches wide: any Internet address, all of `AzureCloud`, more than a /16, a JIT grant from any source (`analysis/lint_width.rs`) |
//! | `LB001-…`–`LB003-…` | | load balancer rules no NSG opens, Basic load balancers and NAT rules publishing management ports (`analysis/lint_lb.rs`) |
//!
//! Rules written by JIT itself (`SecurityCenter-JITRule…`) are not reported as shadowed or
//! redundant: Defender places them, and `JIT001` covers the case where they do not bite.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use std::rc::Rc;

use crate::jit::{AllowedSources, JitEngine, JitPolicy, is_jit_rule};
use crate::matcher::MatchBox;
use crate::model::{BASTION_SUBNET, NicId, NsgId, PublicIpSku, SubnetId, Topology, VmId};
use crate::net::{AddrSet, IpProtocol, PortRange, PortSet, ProtocolSet};
use crate::nsg::{Access, CompiledNsg, Direction, RuleKind, RuleRef, ServiceTag};
use crate::path::Level;

use super::chain::{Chains, Decider, Piece, allowed, compile, universe};
pub use super::finding_code::FindingCode;
pub use super::finding_rule::FindingRule;
use super::space::{Region, describe_addrs, describe_box, partition};

/// Azure Policy "Management ports should be closed on your virtual machines".
pub const POLICY_MANAGEMENT_PORTS_CLOSED: &str = "Azure Policy 22730e10-96f6-4aac-ad84-9383d35b5917 \"Management ports should be closed on your virtual machines\"";
/// Azure Policy "Management ports of virtual machines should be protected with just-in-time
/// network access control".
pub const POLICY_MANAGEMENT_PORTS_JIT: &str = "Azure Policy b0f33259-77d7-4c9e-aac6-3aabcfae693c \"Management ports of virtual machines should be protected with just-in-time network access control\"";

/// Azure Policy "Internet-facing virtual machines should be protected with network security groups".
pub const POLICY_INTERNET_FACING_NSG: &str = "Azure Policy f6de0be7-9a8a-4b8a-b349-43cf02d22f7c \"Internet-facing virtual machines should be protected with network security groups\"";

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
    /// Which check found it; its stable code (`NSG001-shadowed-rule`) is [`FindingCode::as_str`].
    pub code: FindingCode,
    /// The NSG concerned.
    pub nsg: Option<String>,
    /// The VM concerned.
    pub vm: Option<String>,
    /// The rules concerned (rendered as Azure names them).
    pub rules: Vec<FindingRule>,
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
    // One cache of compiled NSGs for every check (nsg_checks compiled its own before).
    let chains = Chains::new(topology);
    for nsg in topology.nsg_ids() {
        nsg_checks(&chains, nsg, &mut out);
    }
    level_conflicts(&chains, &mut out);
    exposure_and_jit_checks(&chains, jit, &mut out);
    bastion_checks(topology, &mut out);
    super::admin_lint::admin_checks(&chains, jit, &mut out);
    super::lint_intent::intent_checks(topology, &mut out);
    super::lint_tags::tag_feature_checks(topology, &mut out);
    super::lint_lb::lb_checks(&chains, &mut out);
    out.sort_by_key(|f| (f.severity, f.code));
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

fn list(items: &[String]) -> String {
    if items.is_empty() { "(none)".into() } else { items.join(", ") }
}

fn ports_of(region: &Region) -> PortSet {
    region.boxes().iter().fold(PortSet::empty(), |acc, b| acc.union(&b.dst_ports))
}

fn nsg_checks(chains: &Chains, nsg: NsgId, out: &mut Vec<Finding>) {
    let topology = chains.topology();
    let name = topology.nsg(nsg).name.clone();
    let subnets = contexts(topology, nsg);
    if subnets.is_empty() {
        out.push(Finding {
            severity: Severity::Info,
            code: FindingCode::UnassociatedNsg,
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
        let compiled: Vec<(SubnetId, Rc<CompiledNsg>)> =
            subnets.iter().map(|&s| (s, chains.compile(nsg, s, direction))).collect();
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
                        code: FindingCode::ShadowedRule,
                        nsg: Some(name.clone()),
                        vm: None,
                        rules: vec![FindingRule::own(rule.rule_ref())],
                        message: format!("{azure} (priority {}, {direction}) matches no flow where the NSG applies (an ASG without members here, or ports on a protocol without ports)", rule.priority),
                        fix: "delete the rule, or correct its source, destination, ASGs or protocol".into(),
                        policies: Vec::new(),
                    });
                    continue;
                }
                // Only the rules that actually decide some of its flows: an earlier rule that is
                // itself shadowed, or whose overlap a still earlier rule takes, covers nothing.
                let mut covering = Vec::new();
                let mut covering_rules = Vec::new();
                for (j, earlier) in rules[..i].iter().enumerate() {
                    let decides = parts.iter().zip(&own).any(|(p, o)| !o.intersect(&p[j]).is_empty());
                    if decides {
                        covering.push(earlier.azure_name());
                        covering_rules.push(FindingRule::own(earlier.rule_ref()));
                    }
                }
                let opposite =
                    rules[..i].iter().any(|r| covering.contains(&r.azure_name()) && r.access != rule.access);
                out.push(Finding {
                    severity: Severity::Warning,
                    code: FindingCode::ShadowedRule,
                    nsg: Some(name.clone()),
                    vm: None,
                    rules: std::iter::once(FindingRule::own(rule.rule_ref())).chain(covering_rules).collect(),
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
            // By Azure's name, the order the message lists them in.
            let mut takers = BTreeMap::new();
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
                    takers.insert(later.azure_name(), later.rule_ref());
                }
            }
            if redundant {
                let (takers, taker_rules): (Vec<String>, Vec<RuleRef>) = takers.into_iter().unzip();
                out.push(Finding {
                    severity: Severity::Info,
                    code: FindingCode::RedundantRule,
                    nsg: Some(name.clone()),
                    vm: None,
                    rules: std::iter::once(rule.rule_ref()).chain(taker_rules).map(FindingRule::own).collect(),
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
        }
    }
}

/// The checks of each VM's NICs against their inbound chain: the management exposure, then
/// JIT's (each check's findings in the order of VMs, as when they ran one after the other).
/// Both walk the same chain of each NIC, computed once here: it is most of their work, and
/// computing it twice was a third of `lint` on the 10,000-VM scenario.
fn exposure_and_jit_checks(chains: &Chains, jit: &JitEngine, out: &mut Vec<Finding>) {
    let topology = chains.topology();
    let mut jit_found = Vec::new();
    for vm in topology.vm_ids() {
        let policy = jit.policy(vm);
        if let Some(policy) = policy {
            jit_vm_checks(topology, vm, policy, &mut jit_found);
        }
        for &nic in &topology.vm(vm).nics {
            let inbound = chains.chain(nic, Direction::Inbound);
            management_exposure(chains, vm, nic, &inbound, out);
            if policy.is_some() {
                jit_nic_checks(chains, vm, nic, &inbound, &mut jit_found);
            }
        }
    }
    jit_scoped_checks(jit, &mut jit_found);
    out.extend(jit_found);
}

/// What the Internet can reach of a VM: its NICs' public IPs, their SKUs, and the whole NSG
/// chain (subnet then NIC) decide together, as in `path` (docs/fidelity.md): a Basic public IP
/// is open where no NSG denies; a Standard one is closed unless an NSG on the path allows.
/// `inbound` is the chain of `nic`.
fn management_exposure(chains: &Chains, vm: VmId, nic: NicId, inbound: &[Piece], out: &mut Vec<Finding>) {
    let topology = chains.topology();
    let mgmt = PortSet::from_ranges(MANAGEMENT_PORTS.map(PortRange::single));
    let vm_name = topology.vm(vm).name.clone();
    let n = topology.nic(nic);
    let no_nsg = n.nsg.is_none() && topology.subnet(n.subnet).nsg.is_none();
    // Every IP configuration's public IP, the primary's first: a VM reached only through
    // a secondary configuration's public IP is still Internet-facing.
    let pips: Vec<&crate::model::PublicIp> = std::iter::once(n.public_ip)
        .chain(n.secondary.iter().map(|c| c.public_ip))
        .flatten()
        .map(|p| topology.public_ip(p))
        .collect();
    // A Basic one decides NSG006's severity: it is open where no NSG denies.
    let pip = pips.iter().find(|p| p.sku == PublicIpSku::Basic).or(pips.first()).copied();
    let pip_text = (!pips.is_empty()).then(|| {
        let each: Vec<String> =
            pips.iter().map(|p| format!("public IP '{}' {}, {:?} SKU", p.name, p.address, p.sku)).collect();
        each.join("; ")
    });
    if no_nsg && let (Some(p), Some(pip_text)) = (pip, &pip_text) {
        let basic = p.sku == PublicIpSku::Basic;
        out.push(Finding {
            severity: if basic { Severity::Error } else { Severity::Warning },
            code: FindingCode::InternetFacingVmWithoutNsg,
            nsg: None,
            vm: Some(vm_name.clone()),
            rules: Vec::new(),
            message: if basic {
                format!("VM '{vm_name}' (NIC '{}', {pip_text}) has no NSG on its subnet or NIC: a Basic public IP is open by default, so every port is reachable from the Internet", n.name)
            } else {
                format!("VM '{vm_name}' (NIC '{}', {pip_text}) has no NSG on its subnet or NIC: a Standard public IP stays closed to inbound traffic until an NSG allows it, so nothing is reachable yet, but nothing states what should be", n.name)
            },
            fix: "associate an NSG with the subnet or the NIC that allows only the traffic the VM serves".into(),
            policies: vec![POLICY_INTERNET_FACING_NSG],
        });
    }
    let internet = chains.internet_seen_by(nic);
    let probe = MatchBox {
        protocols: ProtocolSet::single(IpProtocol::TCP),
        src: internet.clone(),
        dst_ports: mgmt.clone(),
        ..MatchBox::any()
    };
    for (deciders, region) in allowed(inbound, &probe, |_| false) {
        // Without any NSG, only a Basic public IP lets the Internet in (NSG006 says so).
        let reachable = match pip {
            Some(p) => p.sku == PublicIpSku::Basic || !no_nsg,
            None => false,
        };
        if no_nsg && !reachable {
            continue;
        }
        let ports = ports_of(&region);
        let sources = region.boxes().iter().fold(AddrSet::empty(), |acc, b| acc.union(&b.src));
        let from = if sources == internet {
            "any Internet address".to_string()
        } else {
            format!("the Internet addresses {}", describe_addrs(&sources, 4))
        };
        let by = if deciders.iter().all(|d| d.nsg.is_none()) {
            "no NSG on the subnet or the NIC filters them".to_string()
        } else {
            format!(
                "allowed by {}",
                deciders.iter().map(Decider::to_string).collect::<Vec<_>>().join(" then ")
            )
        };
        let user: Vec<&Decider> = deciders.iter().filter(|d| d.user_rule()).collect();
        // Open only by JIT's own allow rules: a granted request, which closes at its end
        // time. That is JIT working, not a management port left open.
        let jit_grant = !user.is_empty()
            && user
                .iter()
                .all(|d| d.access == Access::Allow && d.rule.user_rule_name().is_some_and(is_jit_rule));
        if reachable && pip_text.is_some() {
            out.extend(super::lint_width::width_finding(
                topology, &vm_name, &n.name, &ports, &sources, &internet, &user, jit_grant,
            ));
        }
        if jit_grant {
            out.push(Finding {
                severity: Severity::Info,
                code: FindingCode::ActiveGrant,
                nsg: user.first().and_then(|d| d.nsg.clone()),
                vm: Some(vm_name.clone()),
                rules: user.iter().map(|d| FindingRule::own(d.rule.clone())).collect(),
                message: format!(
                    "VM '{vm_name}' (NIC '{}') accepts TCP {ports} from {from} through an active JIT grant ({by}): opened on request, it closes at the grant's end time",
                    n.name
                ),
                fix: "nothing to fix: JIT opened it on request; `nsgsim jit status --at OFFSET` shows the grant and its end".into(),
                policies: Vec::new(),
            });
            continue;
        }
        let (severity, message) = match &pip_text {
            Some(pip_text) if reachable => (
                Severity::Error,
                format!(
                    "VM '{vm_name}' (NIC '{}', {pip_text}) accepts TCP {ports} from {from}: remote management ports are open to the Internet, {by}",
                    n.name
                ),
            ),
            _ => (
                Severity::Warning,
                format!(
                    "the NSGs of VM '{vm_name}' (NIC '{}') allow TCP {ports} from {from} ({by}), but the NIC has no public IP, so the Internet cannot reach it directly; attaching a public IP would open these ports at once",
                    n.name
                ),
            ),
        };
        out.push(Finding {
            severity,
            code: FindingCode::ManagementPortOpen,
            nsg: user.first().and_then(|d| d.nsg.clone()),
            vm: Some(vm_name.clone()),
            rules: user.iter().map(|d| FindingRule::own(d.rule.clone())).collect(),
            message,
            fix: "restrict the source to your admin ranges or remove the rule, and enable just-in-time VM access (Defender for Cloud) or use Azure Bastion".into(),
            policies: vec![POLICY_MANAGEMENT_PORTS_CLOSED, POLICY_MANAGEMENT_PORTS_JIT],
        });
    }
}

fn level_conflicts(chains: &Chains, out: &mut Vec<Finding>) {
    let topology = chains.topology();
    for vm in topology.vm_ids() {
        for &nic in &topology.vm(vm).nics {
            let n = topology.nic(nic);
            let (Some(nic_nsg), Some(sub_nsg)) = (n.nsg, topology.subnet(n.subnet).nsg) else { continue };
            if nic_nsg == sub_nsg {
                continue;
            }
            for direction in [Direction::Inbound, Direction::Outbound] {
                let all = universe(topology, nic, direction);
                let subnet = chains.level_partition(nic, Level::Subnet, direction, &all);
                let nic_level = chains.level_partition(nic, Level::Nic, direction, &all);
                for (ds, rs) in &subnet {
                    for (dn, rn) in &nic_level {
                        let (allow, deny) = match (ds.access, dn.access) {
                            (Access::Allow, Access::Deny) if ds.user_rule() => (ds, dn),
                            (Access::Deny, Access::Allow) if dn.user_rule() => (dn, ds),
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
                            code: FindingCode::LevelConflict,
                            nsg: allow.nsg.clone(),
                            vm: Some(topology.vm(vm).name.clone()),
                            rules: vec![
                                FindingRule::Nsg {
                                    nsg: Some(allow.nsg.clone().unwrap_or_default()),
                                    rule: allow.rule.clone(),
                                },
                                FindingRule::Nsg {
                                    nsg: Some(deny.nsg.clone().unwrap_or_default()),
                                    rule: deny.rule.clone(),
                                },
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

/// JIT004 and JIT002 of a VM's JIT policy.
fn jit_vm_checks(topology: &Topology, vm: VmId, policy: &JitPolicy, out: &mut Vec<Finding>) {
    let vm_name = topology.vm(vm).name.clone();
    let any: Vec<String> = policy
        .ports
        .iter()
        .filter(|p| p.allowed_sources == AllowedSources::Any)
        .map(|p| p.number.to_string())
        .collect();
    if policy.port(5989).is_some() {
        out.push(Finding {
            severity: Severity::Warning,
            code: FindingCode::JitPort5989,
            nsg: None,
            vm: Some(vm_name.clone()),
            rules: Vec::new(),
            message: format!(
                "the JIT policy of VM '{vm_name}' protects port 5989, which is not a WinRM port (WinRM uses 5985 for HTTP and 5986 for HTTPS): a training text's typo for 5986, so 5986 is probably left unprotected"
            ),
            fix: "protect 5986 (and 5985) instead of 5989, as Defender for Cloud's default ports do".into(),
            policies: Vec::new(),
        });
    }
    if !any.is_empty() {
        out.push(Finding {
            severity: Severity::Warning,
            code: FindingCode::JitAnySource,
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
}

/// JIT001 on `nic` of a VM with a JIT policy; `inbound` is its chain. The whole inbound chain
/// decides, as in `path`: a flow is open without a request only if both levels allow it, and
/// the JIT deny rule of a level is defeated only by a user allow of that same level with higher
/// precedence.
fn jit_nic_checks(chains: &Chains, vm: VmId, nic: NicId, inbound: &[Piece], out: &mut Vec<Finding>) {
    let topology = chains.topology();
    let vm_name = topology.vm(vm).name.clone();
    // Only deny rules that reach this NIC's flows can be defeated here; an NSG shared
    // by many VMs holds the JIT rules of all of them.
    let own = universe(topology, nic, Direction::Inbound);
    let mut denies = Vec::new();
    for level in [Level::Subnet, Level::Nic] {
        let Some(nsg) = super::chain::nsg_at(topology, nic, level) else { continue };
        let c = chains.compile(nsg, topology.nic(nic).subnet, Direction::Inbound);
        for (k, deny) in c.rules().iter().enumerate() {
            let reaches = || c.resolved()[k].boxes.iter().any(|b| own.overlaps_box(b));
            if is_jit_rule(&deny.name) && deny.access == Access::Deny && reaches() {
                denies.push((
                    level,
                    topology.nsg(nsg).name.clone(),
                    deny.clone(),
                    Region::from_rule(&c.resolved()[k]),
                ));
            }
        }
    }
    if denies.is_empty() {
        return;
    }
    let mut groups: Vec<(Decider, usize, Region)> = Vec::new();
    for piece in inbound {
        if piece.verdict != Access::Allow {
            continue;
        }
        for (d, (level, _, _, deny_region)) in denies.iter().enumerate() {
            let open = piece.region.intersect(deny_region);
            if open.is_empty() {
                continue;
            }
            let Some(allow) = piece.deciders.iter().find(|x| x.level == *level) else { continue };
            // A JIT allow rule is a granted request, not a defeat.
            if allow.rule.user_rule_name().is_none_or(is_jit_rule) {
                continue;
            }
            match groups.iter_mut().find(|(a, i, _)| a == allow && *i == d) {
                Some(g) => g.2 = g.2.union(&open),
                None => groups.push((allow.clone(), d, open)),
            }
        }
    }
    for (allow, d, open) in groups {
        let (_, nsg_name, deny, _) = &denies[d];
        let merged = open.merged();
        let example = merged.boxes().first().map(describe_box).unwrap_or_default();
        let more = merged.boxes().len().saturating_sub(1);
        out.push(Finding {
            severity: Severity::Error,
            code: FindingCode::RuleDefeatsJit,
            nsg: Some(nsg_name.clone()),
            vm: Some(vm_name.clone()),
            rules: vec![FindingRule::own(allow.rule.clone()), FindingRule::own(deny.rule_ref())],
            message: format!(
                "{} (priority {}) allows {example}{} ahead of the JIT deny rule {} (priority {}) for VM '{vm_name}', and the other NSG level lets it through too: the port is open without a JIT request (Defender keeps existing rules for a port above its deny rule)",
                allow.rule,
                allow.priority.unwrap_or_default(),
                if more > 0 { format!(" (+{more} more boxes)") } else { String::new() },
                deny.azure_name(),
                deny.priority
            ),
            fix: format!("remove {} or narrow it so it no longer covers the JIT-protected port; request access through JIT instead", allow.rule),
            policies: vec![POLICY_MANAGEMENT_PORTS_JIT],
        });
    }
}

/// JIT002 of the scoped policies not enabled at the start.
fn jit_scoped_checks(jit: &JitEngine, out: &mut Vec<Finding>) {
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
                code: FindingCode::JitAnySource,
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
                .map_or(FindingRule::NoAllowingRule, |(r, _)| FindingRule::own(r.rule_ref()));
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
                code: FindingCode::BastionMissingRule,
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

#[cfg(test)]
mod tests {
    use super::super::testing::{self, RulePools, user_rule};
    use std::net::IpAddr;
    use std::path::Path;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::net::Flow;
    use crate::scenario::load_str;
    use crate::sim::{Duration, replay_until};

    fn findings(text: &str) -> Vec<Finding> {
        let s = load_str(text, Path::new("t.ron")).unwrap_or_else(|e| panic!("loads: {e}\n{text}"));
        let sim = replay_until(s.world(), &s.steps, Duration::from_secs(0)).expect("replays");
        lint(sim.topology(), sim.jit())
    }

    fn scenario(subnet_rules: &str, nic: &str, extra: &str) -> String {
        format!(
            r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.0.0/24", nsg: "sub")])],
                asgs: ["asg1"],
                nsgs: [Nsg(name: "sub", rules: [{subnet_rules}]), Nsg(name: "nic", rules: [])],
                vms: [Vm(name: "vm", os: Linux, nics: [Nic(name: "n", subnet: "v/s", private_ip: "10.0.0.4"{nic})])],
                {extra})"#
        )
    }

    const POOLS: RulePools = RulePools {
        sources: &[
            "*",
            "10.0.0.0/24",
            "10.0.0.0/25",
            "10.0.0.128/25",
            "10.0.1.0/24",
            "Internet",
            "VirtualNetwork",
            "192.0.2.0/28,10.0.0.128/26",
            "203.0.113.0/24",
            "ASG",
        ],
        source_ports: &["*", "*", "1024-65535", "50000"],
        priority_slots: 20,
        outbound_one_in: 4,
    };

    fn random_rules(rng: &mut StdRng, n: usize) -> String {
        testing::random_rules(rng, n, &POOLS)
    }

    /// One address of every class the rules above can tell apart (both families, since `*` and
    /// `Internet` hold IPv6 too), and the ports around every boundary.
    fn sweep() -> Vec<Flow> {
        let addresses: Vec<IpAddr> = [
            "10.0.0.1",
            "10.0.0.4",
            "10.0.0.130",
            "10.0.0.200",
            "10.0.1.9",
            "10.0.9.1",
            "10.1.0.1",
            "192.0.2.3",
            "192.0.2.20",
            "203.0.113.5",
            "168.63.129.16",
            "2001:db8::1",
            "fd00::1",
        ]
        .iter()
        .map(|a| a.parse().expect("ip"))
        .collect();
        let mut out = Vec::new();
        for &src in &addresses {
            for &dst in &addresses {
                for protocol in [IpProtocol::TCP, IpProtocol::UDP, IpProtocol::ICMP, IpProtocol::ESP] {
                    for dst_port in [0u16, 19, 20, 22, 23, 26, 80, 81, 1000, 2000, 2001, 65535] {
                        for src_port in [80u16, 1024, 50000, 50001] {
                            out.push(Flow::new(protocol, src, src_port, dst, dst_port));
                        }
                    }
                }
            }
        }
        out
    }

    /// NSG001 and NSG002 are exact: checked against first-match evaluation of every flow of a
    /// universe that holds a witness of every class the rules distinguish.
    #[test]
    fn shadowed_and_redundant_rules_agree_with_brute_force() {
        let mut rng = StdRng::seed_from_u64(77);
        let flows = sweep();
        let (mut shadowed_seen, mut redundant_seen, mut live_seen) = (0, 0, 0);
        for round in 0..12 {
            let rules = random_rules(&mut rng, 6);
            let text = scenario(&rules, ", asgs: [\"asg1\"]", "");
            let s = load_str(&text, Path::new("t.ron")).expect("loads");
            let t = &s.topology;
            let found = findings(&text);
            let nsg_id = t.nsg_by_name("sub").expect("sub");
            let subnet = t.subnet_ids().next().expect("a subnet");
            let ctx = t.resolve_context_for_subnet(subnet);
            let nsg = t.nsg(nsg_id).clone();
            for direction in [Direction::Inbound, Direction::Outbound] {
                let whole = CompiledNsg::compile(&nsg, direction, &ctx);
                let winners: Vec<Option<String>> =
                    flows.iter().map(|f| Some(whole.evaluate(f).rule.name.clone())).collect();
                for rule in nsg.rules.iter().filter(|r| r.direction == direction) {
                    let azure = rule.azure_name();
                    let report = |code: FindingCode| {
                        let own = FindingRule::own(rule.rule_ref());
                        found.iter().find(|f| f.code == code && f.rules.first() == Some(&own)).cloned()
                    };
                    let wins = winners.iter().any(|w| w.as_deref() == Some(rule.name.as_str()));
                    let shadowed = report(FindingCode::ShadowedRule);
                    assert_eq!(
                        shadowed.is_some(),
                        !wins,
                        "round {round} {azure}: shadowed {shadowed:?}, wins {wins}\n{rules}"
                    );
                    if let Some(f) = &shadowed {
                        shadowed_seen += 1;
                        // Every rule listed as covering decides some flow the shadowed rule matches.
                        for coverer in &f.rules[1..] {
                            let decides = flows.iter().zip(&winners).any(|(flow, w)| {
                                whole.all_matches(flow).iter().any(|h| h.rule.name == rule.name)
                                    && w.as_deref().map(user_rule) == Some(coverer.clone())
                            });
                            assert!(
                                decides,
                                "round {round}: {coverer} listed as covering {azure} but decides none of its flows\n{rules}"
                            );
                        }
                        continue;
                    }
                    live_seen += 1;
                    let mut without = nsg.clone();
                    without.rules.retain(|r| r.name != rule.name);
                    let cut = CompiledNsg::compile(&without, direction, &ctx);
                    let changes =
                        flows.iter().any(|f| cut.evaluate(f).rule.access != whole.evaluate(f).rule.access);
                    let redundant = report(FindingCode::RedundantRule);
                    assert_eq!(
                        redundant.is_some(),
                        !changes,
                        "round {round} {azure}: redundant {redundant:?}\n{rules}"
                    );
                    redundant_seen += usize::from(redundant.is_some());
                }
            }
        }
        assert!(
            shadowed_seen > 3 && redundant_seen > 3 && live_seen > 10,
            "{shadowed_seen} {redundant_seen} {live_seen}"
        );
    }

    #[test]
    fn covering_rules_are_only_those_that_take_effect() {
        let rules = r#"Rule(name: "web1", priority: 120, direction: Inbound, access: Allow, protocol: Tcp, source: "Internet", destination_ports: "80-90"),
            Rule(name: "web-both", priority: 140, direction: Inbound, access: Allow, protocol: Tcp, source: "8.8.8.0/24", destination_ports: "85-95"),
            Rule(name: "deny-after", priority: 150, direction: Inbound, access: Deny, protocol: Tcp, source: "8.8.8.8", destination_ports: "85"),"#;
        let found = findings(&scenario(rules, "", ""));
        let f = found.iter().find(|f| f.rules[0] == user_rule("deny-after")).expect("shadowed");
        assert_eq!(f.rules, [user_rule("deny-after"), user_rule("web1")]);
    }

    fn codes(found: &[Finding], code: FindingCode) -> Vec<Finding> {
        found.iter().filter(|f| f.code == code).cloned().collect()
    }

    #[test]
    fn management_ports_count_only_what_the_internet_reaches() {
        let halves = r#"Rule(name: "halves", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "0.0.0.0/1,128.0.0.0/1", destination_ports: "3389"),"#;
        let pip = r#"public_ips: [PublicIp(name: "pip", address: "20.1.1.1")]"#;
        // Standard public IP, open subnet rule: an error naming the rule and all of the Internet.
        let found =
            codes(&findings(&scenario(halves, ", public_ip: \"pip\"", pip)), FindingCode::ManagementPortOpen);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("accepts TCP 3389 from any Internet address"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].rules, [user_rule("halves")]);
        // The NIC's NSG denies it: nothing is open.
        assert!(
            codes(
                &findings(&scenario(halves, ", public_ip: \"pip\", nsg: \"nic\"", pip)),
                FindingCode::ManagementPortOpen
            )
            .is_empty()
        );
        // No public IP: only a warning that says why.
        let found = codes(&findings(&scenario(halves, "", "")), FindingCode::ManagementPortOpen);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("has no public IP"), "{}", found[0].message);
        // A source narrower than the Internet is named.
        let narrow = halves.replace("0.0.0.0/1,128.0.0.0/1", "203.0.113.0/24");
        let found = codes(
            &findings(&scenario(&narrow, ", public_ip: \"pip\"", pip)),
            FindingCode::ManagementPortOpen,
        );
        assert!(
            found[0].message.contains("from the Internet addresses 203.0.113.0/24"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn internet_facing_vms_without_an_nsg() {
        let text = |sku: &str| {
            format!(
                r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.0.0/24")])],
                    public_ips: [PublicIp(name: "pip", address: "20.1.1.1", sku: {sku})],
                    vms: [Vm(name: "vm", os: Linux, nics: [Nic(name: "n", subnet: "v/s", private_ip: "10.0.0.4", public_ip: "pip")])])"#
            )
        };
        let basic = findings(&text("Basic"));
        assert_eq!(codes(&basic, FindingCode::InternetFacingVmWithoutNsg)[0].severity, Severity::Error);
        let open = codes(&basic, FindingCode::ManagementPortOpen);
        assert_eq!(open.len(), 1);
        assert!(
            open[0].message.contains("TCP 22,3389,5985-5986 from any Internet address"),
            "{}",
            open[0].message
        );
        // Standard: closed by default, so no open port, but the missing NSG is still reported.
        let standard = findings(&text("Standard"));
        assert_eq!(codes(&standard, FindingCode::InternetFacingVmWithoutNsg)[0].severity, Severity::Warning);
        assert!(codes(&standard, FindingCode::ManagementPortOpen).is_empty());
    }

    #[test]
    fn jit_is_defeated_only_when_the_whole_chain_lets_the_port_through() {
        let jit = r#"jit_policies: [JitPolicy(name: "p", scope: Vm("vm"), enable_at_start: true, ports: [
            Port(number: 22, protocol: Tcp, allowed_sources: ["10.8.0.0/16"], max_duration: "PT1H")])]"#;
        let allow = r#"Rule(name: "allow-ssh", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "10.0.0.0/8", destination_ports: "22"),"#;
        // The subnet allows, the JIT deny rule in the NIC NSG still denies: JIT works.
        let both = findings(&scenario(allow, ", nsg: \"nic\"", jit));
        assert!(codes(&both, FindingCode::RuleDefeatsJit).is_empty(), "{both:?}");
        // Without a NIC NSG, the subnet's allow lets SSH through ahead of the JIT deny rule.
        let subnet_only = codes(&findings(&scenario(allow, "", jit)), FindingCode::RuleDefeatsJit);
        assert_eq!(subnet_only.len(), 1);
        assert_eq!(subnet_only[0].nsg.as_deref(), Some("sub"));
        assert_eq!(subnet_only[0].rules[0], user_rule("allow-ssh"));
        assert!(
            subnet_only[0].message.contains("Tcp from 10.0.0.0/8 to 10.0.0.4 ports 22"),
            "{}",
            subnet_only[0].message
        );
    }
}

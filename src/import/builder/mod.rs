//! The scenario builder: the inventory's records, with their references resolved across every
//! input file, become a [`ScenarioFile`], with the origin of each part and the summary of what
//! was imported.
//!
//! Child resources join their parents (a child given both inline and as a resource of its own
//! stands as the child, as ARM deploys it after the parent); Azure's rules for a whole NSG are
//! checked where the JSON says them; peerings and gateways are merged in [`transit`]; NICs get
//! the addresses Azure's dynamic allocation would give; NICs join their VMs, and a NIC no VM
//! claims becomes a VM of its own. Everything dropped is said in a warning, and every resource
//! ends up counted in the [`Summary`] as imported or skipped.
//!
//! The builder is the inventory's second half: its methods are `impl Inventory` blocks here, as
//! smoltcp splits one interface type over files by concern.

mod transit;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use super::arm::{ResourceRef, key};
use super::inventory::{Inventory, Outcome, SubnetRec};
use super::json_position::file_position;
use super::resource::{Kind, Skipped};
use super::source::{Diagnostics, Src};
use super::summary::{Relevance, SkipReason, Summary};
use super::{ImportError, ImportOptions, Imported, Origin};
use crate::scenario::schema::{
    BastionSpec, CaveatKindSpec, CaveatSpec, JitPolicySpec, NicSpec, NsgSpec, OptionsSpec, OsSpec,
    PublicIpSpec, RuleSpec, ScenarioFile, ScopeSpec, SubnetSpec, VmSpec, VnetSpec,
};

type Res<T> = Result<T, ImportError>;

const NSG: &str = "microsoft.network/networksecuritygroups";
const VNET: &str = "microsoft.network/virtualnetworks";
const SUBNET: &str = "microsoft.network/virtualnetworks/subnets";
const NIC: &str = "microsoft.network/networkinterfaces";
const PIP: &str = "microsoft.network/publicipaddresses";
const ASG: &str = "microsoft.network/applicationsecuritygroups";
const VM: &str = "microsoft.compute/virtualmachines";
const GATEWAY: &str = "microsoft.network/virtualnetworkgateways";
const LOCAL_GATEWAY: &str = "microsoft.network/localnetworkgateways";

/// The kind in words, for messages: `kind` is a lower-case type.
fn kind_label(kind: &str) -> &'static str {
    Kind::of(kind).map_or("resource", Kind::label)
}

/// Builds the scenario from `inventory`, given the resources the readers skipped and the lines
/// of the summary each resource read stands for: `(resource index, type)`, where a resource
/// may stand for several (a Terraform association folded into the resource it associates)
/// and each counts with that resource's outcome.
///
/// # Errors
/// An unresolvable reference, or a rule Azure applies to a whole NSG that the input breaks.
pub fn build(
    mut inventory: Inventory,
    kinds: &[(usize, String)],
    skipped: &[Skipped],
    options: &ImportOptions,
) -> Res<Imported> {
    let (mut scenario, origins) = inventory.scenario(options)?;
    scenario.caveats = skipped
        .iter()
        .filter(|s| s.reason.can_change_traffic())
        .map(|s| caveat(s, &inventory.diag))
        .collect();
    let mut summary = Summary::default();
    for (kind, outcome) in kinds.iter().filter_map(|(res, kind)| Some((kind, inventory.outcomes.get(*res)?)))
    {
        match outcome {
            Outcome::Imported => summary.imported(kind),
            Outcome::Skipped(reason) => summary.skipped(kind, *reason),
            Outcome::Read => summary.skipped(kind, SkipReason::NotImported),
        }
    }
    for s in skipped {
        summary.skipped(&s.kind, s.reason);
    }
    Ok(Imported { scenario, warnings: inventory.diag.into_warnings(), origins, summary })
}

impl Inventory {
    /// Marks resource `res` as in the scenario.
    fn imported(&mut self, res: usize) {
        if let Some(o) = self.outcomes.get_mut(res) {
            *o = Outcome::Imported;
        }
    }

    /// The defined name `r` refers to, or an error naming what exists of that kind.
    fn resolve(&self, r: &ResourceRef, src: &Src, expected: &str) -> Res<String> {
        if !r.kind.eq_ignore_ascii_case(expected) {
            return Err(self.diag.unresolved(
                src,
                r,
                format!("expected a reference to a {expected}, found {}", r.kind),
            ));
        }
        if let Some(name) = self.defined.get(&r.key()) {
            return Ok(name.clone());
        }
        let prefix = format!("{}|", expected.to_ascii_lowercase());
        let mut known: Vec<&String> =
            self.defined.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(k, _)| k).collect();
        known.sort();
        let known: Vec<String> = known.iter().map(|k| k[prefix.len()..].to_string()).collect();
        Err(self.diag.unresolved(
            src,
            r,
            format!(
                "{} '{}' is not in the input; import the file that defines it (defined: {})",
                kind_label(&expected.to_ascii_lowercase()),
                r.names.join("/"),
                if known.is_empty() { "none".into() } else { known.join(", ") }
            ),
        ))
    }

    /// Resolves every reference and builds the scenario and the origins of its parts.
    fn scenario(&mut self, options: &ImportOptions) -> Res<(ScenarioFile, Vec<Origin>)> {
        self.join_rules()?;
        self.check_nsgs()?;
        self.join_subnets()?;
        self.join_peerings();
        for asg_ref in self.nsgs.iter().flat_map(|n| n.rules.iter().flat_map(|r| r.asgs.iter())) {
            self.resolve(&asg_ref.0, &asg_ref.1, ASG)?;
        }

        let sites = self.sites()?;
        let mut vnets = Vec::new();
        for v in &self.vnets {
            let mut subnets = Vec::new();
            for s in &v.subnets {
                let nsg = match &s.nsg {
                    Some((r, src)) => Some(self.resolve(r, src, NSG)?),
                    None => None,
                };
                subnets.push(SubnetSpec {
                    name: s.name.clone(),
                    prefix: s.prefix.clone(),
                    nsg,
                    route_table: None,
                    default_outbound_access: s.default_outbound_access,
                });
            }
            let on_premises = sites.get(&v.name).map(|s| s.spaces.clone()).unwrap_or_default();
            vnets.push(VnetSpec {
                name: v.name.clone(),
                address_space: v.spaces.clone(),
                subnets,
                on_premises,
            });
        }
        for res in self.vnets.iter().map(|v| v.res).collect::<Vec<_>>() {
            self.imported(res);
        }
        let peerings = self.peerings(&sites)?;
        let vms = self.vms_with_nics(&vnets)?;

        let mut public_ips = Vec::new();
        let mut next_placeholder = 10u8;
        for p in &self.pips {
            let address = match &p.address {
                Some(a) if !a.is_empty() => a.clone(),
                _ => {
                    let a = format!("192.0.2.{next_placeholder}");
                    next_placeholder = next_placeholder.saturating_add(1);
                    self.diag.warn(&p.src, format!("public IP '{}' has no ipAddress (it is allocated at deployment); imported as the placeholder {a}", p.name));
                    a
                }
            };
            public_ips.push(PublicIpSpec { name: p.name.clone(), address, sku: Some(p.sku) });
        }

        let mut bastions = Vec::new();
        for b in &self.bastions {
            self.resolve(&b.subnet.0, &b.subnet.1, SUBNET)?;
            let vnet = self.defined.get(&key(VNET, &b.subnet.0.names[..1])).cloned().unwrap_or_default();
            let public_ip = match &b.public_ip {
                Some((r, src)) => Some(self.resolve(r, src, PIP)?),
                None => None,
            };
            bastions.push(BastionSpec { name: b.name.clone(), vnet, public_ip });
        }

        let mut jit_policies = Vec::new();
        for j in &self.jit {
            let vm = self.resolve(&j.vm.0, &j.vm.1, VM)?;
            jit_policies.push(JitPolicySpec {
                name: format!("{}/{vm}", j.policy),
                scope: ScopeSpec::Vm(vm),
                ports: Some(j.ports.clone()),
                approvers: Vec::new(),
                enable_at_start: true,
            });
        }

        let nsgs: Vec<NsgSpec> = self
            .nsgs
            .iter()
            .map(|n| {
                let mut rules: Vec<RuleSpec> = n.rules.iter().map(|r| r.spec.clone()).collect();
                rules.sort_by_key(|r| (r.direction as u8, r.priority));
                NsgSpec { name: n.name.clone(), rules }
            })
            .collect();
        let service_tags = self.placeholder_service_tags(&nsgs);
        let imported: Vec<usize> = (self.pips.iter().map(|p| p.res))
            .chain(self.bastions.iter().map(|b| b.res))
            .chain(self.jit.iter().map(|j| j.res))
            .chain(self.nsgs.iter().map(|n| n.res))
            .chain(self.asgs.iter().map(|(_, res)| *res))
            .collect();
        for res in imported {
            self.imported(res);
        }
        let origins = self.origins(&vnets, &nsgs, &vms, &public_ips, &bastions, &jit_policies);
        let sources: Vec<String> = self.diag.files().iter().map(|f| f.display().to_string()).collect();
        let scenario = ScenarioFile {
            name: options.name.clone(),
            description: format!("Imported by nsgsim from {}", sources.join(", ")),
            start: options.start.clone(),
            service_tags,
            vnets,
            peerings,
            nsgs,
            asgs: self.asgs.iter().map(|(name, _)| name.clone()).collect(),
            public_ips,
            vms,
            users: Vec::new(),
            route_tables: Vec::new(),
            firewalls: Vec::new(),
            bastions,
            roles: BTreeMap::new(),
            jit_policies,
            options: OptionsSpec::default(),
            timeline: Vec::new(),
            caveats: Vec::new(),
        };
        Ok((scenario, origins))
    }

    /// Security rules given as resources of their own join their NSGs.
    fn join_rules(&mut self) -> Res<()> {
        for child in std::mem::take(&mut self.child_rules) {
            let r = parent_ref(Kind::Nsg, &child.parent);
            let name = self.resolve(&r, &child.src.at("name"), NSG)?;
            let Some(ni) = self.nsgs.iter().position(|n| n.name == name) else { continue };
            let rule = child.record;
            self.imported(child.res);
            // The same rule inline and as a child resource (the portal's "Export template", or
            // `az network nsg show` with `az network nsg rule list`): ARM deploys the child
            // after its NSG, so the child's definition is the one that stands.
            let same =
                self.nsgs[ni].rules.iter().position(|r| r.spec.name.eq_ignore_ascii_case(&rule.spec.name));
            match same {
                Some(k) => {
                    let (was, now) = (
                        super::emit::rule_line(&self.nsgs[ni].rules[k].spec),
                        super::emit::rule_line(&rule.spec),
                    );
                    if was != now {
                        let first = &self.nsgs[ni].rules[k].src;
                        let message = format!(
                            "security rule '{}' of NSG '{name}' is also defined at {}, differently; the child resource is deployed after its NSG, so its definition stands (as in Azure): {now} (the other said {was})",
                            rule.spec.name,
                            self.diag.place(first)
                        );
                        self.diag.warn(&rule.src, message);
                    }
                    self.nsgs[ni].rules[k] = rule;
                }
                None => self.nsgs[ni].rules.push(rule),
            }
        }
        Ok(())
    }

    /// Azure's rules for a whole NSG, reported where the JSON says them.
    fn check_nsgs(&self) -> Res<()> {
        for n in &self.nsgs {
            if n.rules.len() > crate::nsg::MAX_RULES_PER_NSG {
                return Err(self.diag.invalid(
                    &n.src,
                    &n.rules.len().to_string(),
                    format!(
                        "NSG '{}' has {} rules; Azure allows at most {}",
                        n.name,
                        n.rules.len(),
                        crate::nsg::MAX_RULES_PER_NSG
                    ),
                ));
            }
            for (i, r) in n.rules.iter().enumerate() {
                if let Some(e) = n.rules[..i].iter().find(|e| {
                    e.spec.direction as u8 == r.spec.direction as u8 && e.spec.priority == r.spec.priority
                }) {
                    return Err(self.diag.invalid(
                        &r.priority_at,
                        &r.spec.priority.to_string(),
                        format!(
                            "security rules '{}' ({}) and '{}' of NSG '{}' have the same priority and direction; Azure rejects this (SecurityRuleConflict): give one of them another priority",
                            e.spec.name,
                            self.diag.place(&e.src),
                            r.spec.name,
                            n.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Subnets given as resources of their own join their VNets.
    fn join_subnets(&mut self) -> Res<()> {
        for child in std::mem::take(&mut self.child_subnets) {
            let r = parent_ref(Kind::Vnet, &child.parent);
            let name = self.resolve(&r, &child.src.at("name"), VNET)?;
            let mut names = child.parent.clone();
            let subnet = child.record;
            names.push(subnet.name.clone());
            let Some(vi) = self.vnets.iter().position(|v| v.name == name) else { continue };
            self.imported(child.res);
            // Inline in its VNet and again as a child resource (the portal's export): as with
            // rules, the child is deployed after its VNet and its definition stands.
            let same = self.vnets[vi].subnets.iter().position(|s| s.name.eq_ignore_ascii_case(&subnet.name));
            match same {
                Some(k) => {
                    let old = &self.vnets[vi].subnets[k];
                    let nsg_key = |s: &SubnetRec| s.nsg.as_ref().map(|(r, _)| r.key());
                    if old.prefix != subnet.prefix || nsg_key(old) != nsg_key(&subnet) {
                        let message = format!(
                            "subnet '{}' is also defined at {}, differently; the child resource is deployed after its virtual network, so its definition stands (as in Azure): prefix {}, NSG {} (the other said prefix {}, NSG {})",
                            names.join("/"),
                            self.diag.place(&old.src),
                            subnet.prefix,
                            subnet.nsg.as_ref().map_or("none", |(r, _)| r.name()),
                            old.prefix,
                            old.nsg.as_ref().map_or("none", |(r, _)| r.name()),
                        );
                        self.diag.warn(&child.src, message);
                    }
                    self.vnets[vi].subnets[k] = subnet;
                }
                None => {
                    self.defined.insert(key(SUBNET, &names), subnet.name.clone());
                    self.vnets[vi].subnets.push(subnet);
                }
            }
        }
        Ok(())
    }

    /// Peerings given as resources of their own join their VNets.
    fn join_peerings(&mut self) {
        for child in std::mem::take(&mut self.child_peerings) {
            let mut peering = child.record;
            peering.res = child.res;
            let Some(vi) = self.vnets.iter().position(|v| v.name.eq_ignore_ascii_case(&child.parent[0]))
            else {
                self.diag.warn(
                    &child.src,
                    format!(
                        "peering '{}' belongs to virtual network '{}', which is not in the input; not imported",
                        peering.name, child.parent[0]
                    ),
                );
                continue;
            };
            // Inline in its VNet and again as a child resource (the portal's export): as with
            // subnets, the child is deployed after its VNet and its definition stands.
            let same = self.vnets[vi].peers.iter().position(|p| p.name.eq_ignore_ascii_case(&peering.name));
            match same {
                Some(k) => {
                    let old = &self.vnets[vi].peers[k];
                    let (was, now) = (transit::peering_line(old), transit::peering_line(&peering));
                    if was != now {
                        let message = format!(
                            "peering '{}/{}' is also defined at {}, differently; the child resource is deployed after its virtual network, so its definition stands (as in Azure): {now} (the other said {was})",
                            self.vnets[vi].name,
                            peering.name,
                            self.diag.place(&old.src),
                        );
                        self.diag.warn(&child.src, message);
                    }
                    self.vnets[vi].peers[k] = peering;
                }
                None => self.vnets[vi].peers.push(peering),
            }
        }
    }

    /// The VMs: NICs resolved and given addresses, then joined to the VMs that claim them; a
    /// NIC no VM claims becomes a VM of its own.
    fn vms_with_nics(&mut self, vnets: &[VnetSpec]) -> Res<Vec<VmSpec>> {
        let mut nic_specs: Vec<(NicSpec, Option<ResourceRef>, Src)> = Vec::new();
        for n in &self.nics {
            let subnet_name = self.resolve(&n.subnet.0, &n.subnet.1, SUBNET)?;
            let vnet_name = self.defined.get(&key(VNET, &n.subnet.0.names[..1])).cloned().unwrap_or_default();
            let nsg = match &n.nsg {
                Some((r, src)) => Some(self.resolve(r, src, NSG)?),
                None => None,
            };
            let public_ip = match &n.public_ip {
                Some((r, src)) => Some(self.resolve(r, src, PIP)?),
                None => None,
            };
            let mut asgs = Vec::new();
            for (r, src) in &n.asgs {
                asgs.push(self.resolve(r, src, ASG)?);
            }
            nic_specs.push((
                NicSpec {
                    name: n.name.clone(),
                    subnet: format!("{vnet_name}/{subnet_name}"),
                    private_ip: n.private_ip.clone().unwrap_or_default(),
                    nsg,
                    asgs,
                    public_ip,
                },
                n.vm.clone(),
                n.src.clone(),
            ));
        }
        self.allocate_addresses(&mut nic_specs, vnets)?;

        // VMs take their NICs; NICs no VM claims become VMs of their own.
        let mut vms = Vec::new();
        let mut claimed: HashMap<String, String> = HashMap::new();
        let mut imported = Vec::new();
        for v in &self.vms {
            let mut nics = Vec::new();
            for (r, src) in &v.nics {
                let name = self.resolve(r, src, NIC)?;
                if let Some(owner) = claimed.insert(name.clone(), v.name.clone()) {
                    return Err(self.diag.unresolved(
                        src,
                        r,
                        format!(
                            "network interface '{name}' is already attached to virtual machine '{owner}'"
                        ),
                    ));
                }
                if let Some((spec, _, _)) = nic_specs.iter().find(|(n, _, _)| n.name == name) {
                    nics.push(clone_nic(spec));
                }
            }
            if nics.is_empty() {
                let message = format!(
                    "virtual machine '{}' has no network interface in the input; not imported",
                    v.name
                );
                self.diag.warn(&v.src, message);
                continue;
            }
            imported.push(v.res);
            let os = match v.os {
                Some(os) => os,
                None => {
                    let message =
                        format!("virtual machine '{}': the OS type is not given; imported as Linux", v.name);
                    self.diag.warn(&v.src, message);
                    OsSpec::Linux
                }
            };
            vms.push(VmSpec {
                name: v.name.clone(),
                os,
                classic: false,
                subscription: v.subscription.clone(),
                resource_group: v.resource_group.clone(),
                nics,
            });
        }
        for (nic, vm_ref, src) in &nic_specs {
            if claimed.contains_key(&nic.name) {
                continue;
            }
            // Scenario names of VMs and NICs share one namespace (flows name either), so a VM made
            // for a lone NIC cannot take the NIC's own name.
            let vm_name =
                vm_ref.as_ref().map(|r| r.name().to_string()).unwrap_or_else(|| format!("{}-vm", nic.name));
            let message = match vm_ref {
                Some(_) => format!(
                    "network interface '{}' belongs to virtual machine '{vm_name}', which is not in the input; imported as a Linux VM '{vm_name}'",
                    nic.name
                ),
                None => format!(
                    "network interface '{}' is attached to no virtual machine; imported as a Linux VM '{vm_name}'",
                    nic.name
                ),
            };
            self.diag.warn(src, message);
            self.defined.entry(key(VM, std::slice::from_ref(&vm_name))).or_insert_with(|| vm_name.clone());
            match vms.iter_mut().find(|v: &&mut VmSpec| v.name == vm_name) {
                Some(vm) => vm.nics.push(clone_nic(nic)),
                None => vms.push(VmSpec {
                    name: vm_name,
                    os: OsSpec::Linux,
                    classic: false,
                    subscription: vm_ref.as_ref().and_then(|r| r.subscription.clone()),
                    resource_group: vm_ref.as_ref().and_then(|r| r.resource_group.clone()),
                    nics: vec![clone_nic(nic)],
                }),
            }
        }
        // Every NIC is in a VM now, its own or one made for it.
        imported.extend(self.nics.iter().map(|n| n.res));
        for res in imported {
            self.imported(res);
        }
        Ok(vms)
    }

    /// Checks the given private addresses against their subnets and gives the others the
    /// subnet's first free address, as Azure's dynamic allocation does.
    fn allocate_addresses(
        &self,
        nic_specs: &mut [(NicSpec, Option<ResourceRef>, Src)],
        vnets: &[VnetSpec],
    ) -> Res<()> {
        let subnet_prefix = |subnet: &str| {
            vnets
                .iter()
                .flat_map(|v| v.subnets.iter().map(move |s| (format!("{}/{}", v.name, s.name), &s.prefix)))
                .find(|(name, _)| *name == subnet)
                .and_then(|(_, p)| p.parse::<IpNet>().ok())
        };
        for (n, (spec, _, _)) in self.nics.iter().zip(nic_specs.iter()) {
            let Ok(ip) = spec.private_ip.trim().parse::<IpAddr>() else { continue };
            if let Some(prefix) = subnet_prefix(&spec.subnet)
                && !prefix.contains(&ip)
            {
                return Err(self.diag.invalid(
                    &n.ip_src,
                    &spec.private_ip,
                    format!(
                        "network interface '{}': the address is outside its subnet '{}' ({prefix})",
                        spec.name, spec.subnet
                    ),
                ));
            }
        }
        let mut taken: Vec<IpAddr> =
            nic_specs.iter().filter_map(|(n, _, _)| n.private_ip.parse().ok()).collect();
        for (nic, _, src) in nic_specs.iter_mut().filter(|(n, _, _)| n.private_ip.is_empty()) {
            let free = subnet_prefix(&nic.subnet).and_then(|p| first_free(&p, &taken));
            let Some(ip) = free else {
                return Err(self.diag.invalid(
                    src,
                    &nic.subnet,
                    format!("no free address for network interface '{}' in its subnet", nic.name),
                ));
            };
            taken.push(ip);
            nic.private_ip = ip.to_string();
        }
        Ok(())
    }

    /// The placeholder `service_tags` entries for tags nsgsim does not know that rules use,
    /// each with a warning.
    fn placeholder_service_tags(&mut self, nsgs: &[NsgSpec]) -> BTreeMap<String, Vec<String>> {
        let mut service_tags = BTreeMap::new();
        let used = |tag: &str| {
            nsgs.iter()
                .flat_map(|n| n.rules.iter())
                .any(|r| r.source.as_deref() == Some(tag) || r.destination.as_deref() == Some(tag))
        };
        for (name, src) in std::mem::take(&mut self.placeholder_tags).into_values().filter(|(n, _)| used(n)) {
            let message = format!(
                "service tag '{name}' has no members in nsgsim (it computes VirtualNetwork, Internet and AzureLoadBalancer and has samples of {}); the scenario gets a placeholder `service_tags` entry with no members, so rules naming it match nothing until you fill in its prefixes (from `az network list-service-tags --location <region>` or Microsoft's weekly JSON)",
                crate::model::sample_service_tags().into_keys().collect::<Vec<_>>().join(", ")
            );
            self.diag.warn(&src, message);
            service_tags.insert(name, Vec::new());
        }
        service_tags
    }

    /// Where each part of the scenario came from, so that a problem the scenario loader finds
    /// can still be reported at its JSON path.
    fn origins(
        &self,
        vnets: &[VnetSpec],
        nsgs: &[NsgSpec],
        vms: &[VmSpec],
        public_ips: &[PublicIpSpec],
        bastions: &[BastionSpec],
        jit: &[JitPolicySpec],
    ) -> Vec<Origin> {
        let mut out = Vec::new();
        let mut add = |field: String, src: &Src| {
            out.push(Origin {
                field,
                file: self.diag.file(src.file).to_path_buf(),
                position: src.position,
                path: self.diag.shown(src),
            });
        };
        for (i, v) in vnets.iter().enumerate() {
            let Some(rec) = self.vnets.iter().find(|r| r.name == v.name) else { continue };
            add(format!("vnets[{i}]"), &rec.src);
            for (j, s) in v.subnets.iter().enumerate() {
                if let Some(sr) = rec.subnets.iter().find(|r| r.name == s.name) {
                    add(format!("vnets[{i}].subnets[{j}]"), &sr.src);
                }
            }
        }
        for (i, n) in nsgs.iter().enumerate() {
            let Some(rec) = self.nsgs.iter().find(|r| r.name == n.name) else { continue };
            add(format!("nsgs[{i}]"), &rec.src);
            for (j, r) in n.rules.iter().enumerate() {
                if let Some(rr) = rec.rules.iter().find(|x| x.spec.name == r.name) {
                    add(format!("nsgs[{i}].rules[{j}]"), &rr.psrc);
                }
            }
        }
        for (i, v) in vms.iter().enumerate() {
            if let Some(rec) = self.vms.iter().find(|r| r.name == v.name) {
                add(format!("vms[{i}]"), &rec.src);
            }
            for (j, n) in v.nics.iter().enumerate() {
                if let Some(rec) = self.nics.iter().find(|r| r.name == n.name) {
                    add(format!("vms[{i}].nics[{j}]"), &rec.src);
                }
            }
        }
        for (i, p) in public_ips.iter().enumerate() {
            if let Some(rec) = self.pips.iter().find(|r| r.name == p.name) {
                add(format!("public_ips[{i}]"), &rec.src);
            }
        }
        for (i, b) in bastions.iter().enumerate() {
            if let Some(rec) = self.bastions.iter().find(|r| r.name == b.name) {
                add(format!("bastions[{i}]"), &rec.src);
            }
        }
        for (i, _) in jit.iter().enumerate() {
            if let Some(rec) = self.jit.get(i) {
                add(format!("jit_policies[{i}]"), &rec.vm.1);
            }
        }
        out
    }
}

/// The caveat the scenario records for a skipped resource that can change traffic: it affects
/// everything, since nothing of the resource was read.
fn caveat(s: &Skipped, diag: &Diagnostics) -> CaveatSpec {
    let resource = if s.name.is_empty() { s.kind.clone() } else { format!("{}/{}", s.kind, s.name) };
    let reason = match s.reason {
        SkipReason::NotModelled(Relevance::Traffic(why)) => format!("not modelled: {why}"),
        _ => "not modelled, and nsgsim does not know whether it changes traffic".to_string(),
    };
    let source = file_position(diag.file(s.src.file), s.src.position);
    CaveatSpec::new(CaveatKindSpec::UnmodelledResource, resource, source, reason)
}

/// The reference of a child resource to its parent of kind `kind` named `names`.
fn parent_ref(kind: Kind, names: &[String]) -> ResourceRef {
    ResourceRef {
        kind: kind.azure_type().into(),
        names: names.to_vec(),
        subscription: None,
        resource_group: None,
    }
}

/// A copy of `n` (the schema types are not `Clone`).
fn clone_nic(n: &NicSpec) -> NicSpec {
    NicSpec {
        name: n.name.clone(),
        subnet: n.subnet.clone(),
        private_ip: n.private_ip.clone(),
        nsg: n.nsg.clone(),
        asgs: n.asgs.clone(),
        public_ip: n.public_ip.clone(),
    }
}

/// The lowest address Azure would hand out in `prefix` (from the fifth; the first four and the
/// last are reserved) that is not in `taken`.
fn first_free(prefix: &IpNet, taken: &[IpAddr]) -> Option<IpAddr> {
    match prefix {
        IpNet::V4(p) => {
            let lo = u32::from(p.network()).checked_add(4)?;
            let hi = u32::from(p.broadcast()).checked_sub(1)?;
            (lo..=hi).map(|n| IpAddr::from(std::net::Ipv4Addr::from(n))).find(|a| !taken.contains(a))
        }
        IpNet::V6(p) => {
            let lo = u128::from(p.network()).checked_add(4)?;
            let hi = u128::from(p.broadcast()).checked_sub(1)?;
            (lo..=hi.min(lo + 65536))
                .map(|n| IpAddr::from(std::net::Ipv6Addr::from(n)))
                .find(|a| !taken.contains(a))
        }
    }
}

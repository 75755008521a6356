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

mod associations;
mod avnm;
mod firewall;
mod gaps;
mod jit;
mod load_balancers;
mod nat_gateways;
mod peered_spaces;
mod routes;
mod transit;
mod vms;

use std::collections::BTreeMap;

use super::arm::{ResourceRef, key};
use super::inventory::{Inventory, Outcome, SubnetRec};
use super::json_position::file_position;
use super::resource::{Kind, Skipped};
use super::source::{Diagnostics, Src};
use super::summary::{Relevance, SkipReason, Summary};
use super::{ImportError, ImportOptions, Imported, Origin};
use crate::scenario::FieldPath;
use crate::scenario::schema::{
    BastionSpec, CaveatKindSpec, CaveatSpec, FirewallSpec, NsgSpec, OptionsSpec, PublicIpSpec, RuleSpec,
    ScenarioFile, SubnetSpec, VmSpec, VnetSpec,
};

type Res<T> = Result<T, ImportError>;

const NSG: &str = "microsoft.network/networksecuritygroups";
const VNET: &str = "microsoft.network/virtualnetworks";
const SUBNET: &str = "microsoft.network/virtualnetworks/subnets";
const NIC: &str = "microsoft.network/networkinterfaces";
const PIP: &str = "microsoft.network/publicipaddresses";
const ASG: &str = "microsoft.network/applicationsecuritygroups";
const VM: &str = "microsoft.compute/virtualmachines";
const ROUTE_TABLE: &str = "microsoft.network/routetables";
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
    inventory.strict = options.strict;
    let mut caveats = Vec::new();
    for s in skipped.iter().filter(|s| s.reason.can_change_traffic()) {
        if options.strict {
            return Err(inventory.strict_skip(&s.kind, &s.name, &s.src, &s.reason.to_string()));
        }
        caveats.push(caveat(s, &inventory.diag));
    }
    let (mut scenario, origins) = inventory.scenario(options)?;
    caveats.append(&mut inventory.caveats);
    settle_affects(&mut caveats, &scenario);
    scenario.caveats = caveats;
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
        self.join_routes()?;
        let rule_asgs: Vec<(ResourceRef, Src)> =
            self.nsgs.iter().flat_map(|n| n.rules.iter().flat_map(|r| r.asgs.iter().cloned())).collect();
        for (r, src) in &rule_asgs {
            self.asg_name(r, src)?;
        }
        self.nsg_associations();

        let sites = self.sites()?;
        let mut vnets = self.vnet_specs(&sites)?;
        for res in self.vnets.iter().map(|v| v.res).collect::<Vec<_>>() {
            self.imported(res);
        }
        let peerings = self.peerings(&sites)?;
        let route_tables = self.route_table_specs(&vnets, &peerings)?;
        let vms = self.vms_with_nics(&vnets)?;
        let mut public_ips = self.public_ip_specs(&vms)?;
        let public_ip_prefixes = self.public_ip_prefix_specs()?;
        self.public_ip_prefix_links(&mut public_ips, &public_ip_prefixes)?;
        let nat_gateways = self.nat_gateway_specs(&vnets, &vms)?;
        let firewalls = self.firewall_specs(&vnets, &public_ips)?;
        self.firewall_subnet_tables(&mut vnets, &route_tables, &firewalls)?;
        self.appliance_routes(&route_tables, &firewalls, &vnets)?;
        let bastions = self.bastion_specs()?;
        let load_balancers = self.load_balancer_specs(&vms, &vnets)?;
        let (network_groups, security_admin_configurations) = self.avnm_specs()?;
        let nsgs: Vec<NsgSpec> = self
            .nsgs
            .iter()
            .map(|n| {
                // Where each NSG and rule was read goes in the scenario's `origins` map (see
                // `origins` below), for every source alike: no `origin` field.
                let mut rules: Vec<RuleSpec> = n.rules.iter().map(|r| r.spec.clone()).collect();
                rules.sort_by_key(|r| (r.direction as u8, r.priority));
                NsgSpec { name: n.name.clone(), origin: None, rules, flush_connection: n.flush_connection }
            })
            .collect();
        let jit_policies = self.jit_policy_specs(&vms, &nsgs)?;
        let service_tags =
            self.placeholder_service_tags(&nsgs, &firewalls, options.service_tags.as_deref())?;
        let imported: Vec<usize> = (self.pips.iter().map(|p| p.res))
            .chain(self.nsgs.iter().map(|n| n.res))
            .chain(self.asgs.iter().map(|(_, res)| *res))
            .collect();
        for res in imported {
            self.imported(res);
        }
        let sources: Vec<String> = self.diag.files().iter().map(|f| f.display().to_string()).collect();
        let scenario = ScenarioFile {
            name: options.name.clone(),
            description: format!("Imported by nsgsim from {}", sources.join(", ")),
            start: options.start.clone(),
            service_tags,
            service_tags_file: None,
            vnets,
            peerings,
            nsgs,
            asgs: self.asgs.iter().map(|(name, _)| name.clone()).collect(),
            public_ips,
            public_ip_prefixes,
            nat_gateways,
            vms,
            users: Vec::new(),
            route_tables,
            firewalls,
            bastions,
            load_balancers,
            network_groups,
            security_admin_configurations,
            roles: BTreeMap::new(),
            jit_policies,
            options: OptionsSpec::default(),
            timeline: Vec::new(),
            caveats: Vec::new(),
            origins: BTreeMap::new(),
        };
        let origins = self.origins(&scenario);
        Ok((scenario, origins))
    }

    /// The VNets and their subnets, each subnet with its NSG and route table when they are in
    /// the input (when not, the subnet is imported without, and the gap recorded).
    fn vnet_specs(&mut self, sites: &BTreeMap<String, transit::Site>) -> Res<Vec<VnetSpec>> {
        // The records are taken out while gaps are recorded (which needs `self`), and put back;
        // on an error the inventory is dropped, so nothing needs them then.
        let records = std::mem::take(&mut self.vnets);
        let mut vnets = Vec::new();
        for v in &records {
            let mut subnets = Vec::new();
            for s in &v.subnets {
                let place = format!("{}/{}", v.name, s.name);
                let nsg = match &s.nsg {
                    Some((r, src)) => {
                        let lost = format!("subnet '{place}' is imported without its NSG");
                        self.resolve_or_gap(r, src, NSG, &lost, vec![place.clone()])?
                    }
                    None => None,
                };
                let route_table = match &s.route_table {
                    Some((r, src)) => {
                        let lost = format!("subnet '{place}' is imported without its route table");
                        self.resolve_or_gap(r, src, ROUTE_TABLE, &lost, vec![place.clone()])?
                    }
                    None => None,
                };
                let nat_gateway = match &s.nat_gateway {
                    Some((r, src)) => {
                        let lost = format!(
                            "subnet '{place}' is imported without its NAT gateway, so its way to the Internet (and the source address the receiver sees) is not its gateway's"
                        );
                        self.resolve_or_gap(r, src, nat_gateways::NAT_GATEWAY, &lost, vec![place.clone()])?
                    }
                    None => None,
                };
                subnets.push(SubnetSpec {
                    name: s.name.clone(),
                    prefix: s.prefix.clone(),
                    nsg,
                    route_table,
                    default_outbound_access: s.default_outbound_access,
                    nat_gateway,
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
        self.vnets = records;
        Ok(vnets)
    }

    /// The public IPs; one whose address is allocated at deployment gets a placeholder from the
    /// documentation range 192.0.2.0/24, recorded as a gap that concerns the VM using it (or
    /// everything, for a firewall's or a Bastion's).
    fn public_ip_specs(&mut self, vms: &[VmSpec]) -> Res<Vec<PublicIpSpec>> {
        let mut public_ips = Vec::new();
        let mut next_placeholder = 10u8;
        let records = std::mem::take(&mut self.pips);
        for p in &records {
            let address = match &p.address {
                Some(a) if !a.is_empty() => a.clone(),
                _ => {
                    let a = format!("192.0.2.{next_placeholder}");
                    next_placeholder = next_placeholder.saturating_add(1);
                    let users: Vec<String> = vms
                        .iter()
                        .filter(|v| {
                            v.nics.iter().any(|n| {
                                std::iter::once(&n.public_ip)
                                    .chain(n.ip_configs.iter().map(|c| &c.public_ip))
                                    .any(|ip| ip.as_deref() == Some(p.name.as_str()))
                            })
                        })
                        .map(|v| v.name.clone())
                        .collect();
                    let reason = format!(
                        "public IP '{}' has no ipAddress (Azure allocates it at deployment); imported as the placeholder {a}, so flows and rules that name its real address do not match it",
                        p.name
                    );
                    let resource = format!("ipAddress of public IP '{}'", p.name);
                    self.gap(CaveatKindSpec::Placeholder, resource, &p.src, reason, users)?;
                    a
                }
            };
            public_ips.push(PublicIpSpec { name: p.name.clone(), address, sku: Some(p.sku), prefix: None });
        }
        self.pips = records;
        Ok(public_ips)
    }

    /// The Bastion hosts whose subnet is in the input.
    fn bastion_specs(&mut self) -> Res<Vec<BastionSpec>> {
        let mut bastions = Vec::new();
        let records = std::mem::take(&mut self.bastions);
        for b in &records {
            let lost = format!("Bastion host '{}' is not imported: its virtual network is not known", b.name);
            let Some(_) = self.resolve_or_gap(&b.subnet.0, &b.subnet.1, SUBNET, &lost, Vec::new())? else {
                continue;
            };
            let vnet = self.defined.get(&key(VNET, &b.subnet.0.names[..1])).cloned().unwrap_or_default();
            let public_ip = match &b.public_ip {
                Some((r, src)) => {
                    let lost = format!(
                        "Bastion host '{}' is imported without its public IP, so no session can reach it",
                        b.name
                    );
                    self.resolve_or_gap(r, src, PIP, &lost, Vec::new())?
                }
                None => None,
            };
            self.imported(b.res);
            bastions.push(BastionSpec { name: b.name.clone(), vnet, public_ip });
        }
        self.bastions = records;
        Ok(bastions)
    }

    /// Security rules given as resources of their own join their NSGs.
    fn join_rules(&mut self) -> Res<()> {
        for child in std::mem::take(&mut self.child_rules) {
            let r = parent_ref(Kind::Nsg, &child.parent);
            let lost = format!("security rule '{}' is not imported with it", child.record.spec.name);
            let Some(name) = self.resolve_or_gap(&r, &child.src.at("name"), NSG, &lost, Vec::new())? else {
                continue;
            };
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
            let lost = format!("subnet '{}' is not imported with it", child.record.name);
            let Some(name) = self.resolve_or_gap(&r, &child.src.at("name"), VNET, &lost, Vec::new())? else {
                continue;
            };
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

    /// The placeholder `service_tags` entries for tags nsgsim does not know that NSG and
    /// firewall rules use, each a gap: a rule naming one matches nothing until its prefixes
    /// are filled in. With Microsoft's file (`--service-tags`) a tag the file holds (in any
    /// case, as Azure compares names) needs none, and the gap of one it lacks names the file
    /// and its nearest tags.
    fn placeholder_service_tags(
        &mut self,
        nsgs: &[NsgSpec],
        firewalls: &[FirewallSpec],
        tag_file: Option<&crate::model::ServiceTagFile>,
    ) -> Res<BTreeMap<String, Vec<String>>> {
        let mut service_tags = BTreeMap::new();
        let used = |tag: &str| {
            nsgs.iter()
                .flat_map(|n| n.rules.iter())
                .any(|r| r.source.as_deref() == Some(tag) || r.destination.as_deref() == Some(tag))
                || firewalls.iter().any(|f| firewall::names_address(f, tag))
        };
        for (name, src) in std::mem::take(&mut self.placeholder_tags).into_values().filter(|(n, _)| used(n)) {
            let reason = match tag_file {
                Some(file) if file.members.keys().any(|k| k.eq_ignore_ascii_case(&name)) => continue,
                Some(file) => format!(
                    "service tag '{name}' is not in {}; the nearest of its {} tags: {}; the scenario gets a placeholder `service_tags` entry with no members, so rules naming it match nothing until you fill in its prefixes (or give the file of the cloud the template deploys to)",
                    file.label(),
                    file.members.len(),
                    crate::model::nearest_names(&name, file.members.keys().map(String::as_str), 5).join(", ")
                ),
                None => format!(
                    "service tag '{name}' has no members in nsgsim (it computes VirtualNetwork, Internet and AzureLoadBalancer and has samples of {}); the scenario gets a placeholder `service_tags` entry with no members, so rules naming it match nothing until you fill in its prefixes (from `az network list-service-tags --location <region>` or Microsoft's weekly JSON, which `import --service-tags FILE` reads)",
                    crate::model::sample_service_tags().into_keys().collect::<Vec<_>>().join(", ")
                ),
            };
            self.gap(CaveatKindSpec::Placeholder, format!("service tag '{name}'"), &src, reason, Vec::new())?;
            service_tags.insert(name, Vec::new());
        }
        Ok(service_tags)
    }

    /// Where each part of the scenario came from, so that a problem the scenario loader finds
    /// can still be reported at its JSON path.
    fn origins(&self, scenario: &ScenarioFile) -> Vec<Origin> {
        let (vnets, nsgs, vms) = (&scenario.vnets, &scenario.nsgs, &scenario.vms);
        let (public_ips, bastions, jit) = (&scenario.public_ips, &scenario.bastions, &scenario.jit_policies);
        let firewalls = &scenario.firewalls;
        let mut out = Vec::new();
        let mut add = |field: FieldPath, src: &Src| {
            out.push(Origin {
                field,
                file: self.diag.file(src.file).to_path_buf(),
                position: src.position,
                path: self.diag.shown(src),
            });
        };
        for (i, v) in vnets.iter().enumerate() {
            let Some(rec) = self.vnets.iter().find(|r| r.name == v.name) else { continue };
            add(FieldPath::root("vnets").index(i), &rec.src);
            for (j, s) in v.subnets.iter().enumerate() {
                if let Some(sr) = rec.subnets.iter().find(|r| r.name == s.name) {
                    add(FieldPath::root("vnets").index(i).field("subnets").index(j), &sr.src);
                }
            }
        }
        for (i, n) in nsgs.iter().enumerate() {
            let Some(rec) = self.nsgs.iter().find(|r| r.name == n.name) else { continue };
            add(FieldPath::root("nsgs").index(i), &rec.src);
            for (j, r) in n.rules.iter().enumerate() {
                if let Some(rr) = rec.rules.iter().find(|x| x.spec.name == r.name) {
                    add(FieldPath::root("nsgs").index(i).field("rules").index(j), &rr.psrc);
                }
            }
        }
        for (i, v) in vms.iter().enumerate() {
            if let Some(rec) = self.vms.iter().find(|r| r.name == v.name) {
                add(FieldPath::root("vms").index(i), &rec.src);
            }
            for (j, n) in v.nics.iter().enumerate() {
                if let Some(rec) = self.nics.iter().find(|r| r.name == n.name) {
                    add(FieldPath::root("vms").index(i).field("nics").index(j), &rec.src);
                }
            }
        }
        for (i, p) in public_ips.iter().enumerate() {
            if let Some(rec) = self.pips.iter().find(|r| r.name == p.name) {
                add(FieldPath::root("public_ips").index(i), &rec.src);
            }
        }
        for (i, b) in bastions.iter().enumerate() {
            if let Some(rec) = self.bastions.iter().find(|r| r.name == b.name) {
                add(FieldPath::root("bastions").index(i), &rec.src);
            }
        }
        for (i, j) in jit.iter().enumerate() {
            if let Some(rec) = self
                .jit
                .iter()
                .find(|r| format!("{}/{}", r.policy, r.vm.0.name()).eq_ignore_ascii_case(&j.name))
            {
                add(FieldPath::root("jit_policies").index(i), &rec.vm.1);
            }
        }
        for (i, f) in firewalls.iter().enumerate() {
            if let Some(rec) = self.firewalls.iter().find(|r| r.name == f.name) {
                add(FieldPath::root("firewalls").index(i), &rec.src);
            }
        }
        for (i, l) in scenario.load_balancers.iter().enumerate() {
            if let Some(rec) = self.load_balancers.iter().find(|r| r.name == l.name) {
                add(FieldPath::root("load_balancers").index(i), &rec.src);
            }
        }
        for (i, g) in scenario.nat_gateways.iter().enumerate() {
            if let Some(rec) = self.nat_gateways.iter().find(|r| r.name == g.name) {
                add(FieldPath::root("nat_gateways").index(i), &rec.src);
            }
        }
        for (i, q) in scenario.public_ip_prefixes.iter().enumerate() {
            if let Some(rec) = self.public_ip_prefixes.iter().find(|r| r.name == q.name) {
                add(FieldPath::root("public_ip_prefixes").index(i), &rec.src);
            }
        }
        for (i, t) in self.route_tables.iter().enumerate() {
            add(FieldPath::root("route_tables").index(i), &t.src);
            for (j, r) in t.routes.iter().enumerate() {
                add(FieldPath::root("route_tables").index(i).field("routes").index(j), &r.src);
            }
        }
        out
    }
}

/// The caveat the scenario records for a skipped resource that can change traffic: it affects
/// everything, since nothing of the resource was read. It names the resource as its reader
/// does: an Azure resource by its type and name (`Microsoft.Network/natGateways/ng`), a
/// Terraform instance by its address alone (`module.hub.azurerm_nat_gateway.main`, which holds
/// its type), as the warning does, so an engineer finds the block to edit.
fn caveat(s: &Skipped, diag: &Diagnostics) -> CaveatSpec {
    let resource = if s.name.is_empty() {
        s.kind.clone()
    } else if is_terraform_type(&s.kind) {
        s.name.clone()
    } else {
        format!("{}/{}", s.kind, s.name)
    };
    let source = file_position(diag.file(s.src.file), s.src.position);
    let reason = match s.reason {
        SkipReason::NotModelled(Relevance::Traffic(why)) => format!("not modelled: {why}"),
        SkipReason::UnresolvedLink => {
            let reason = "a nested template that is not local is never fetched: what it deploys is not in the scenario";
            return CaveatSpec::new(CaveatKindSpec::UnresolvedLink, s.name.clone(), source, reason);
        }
        _ => "not modelled, and nsgsim does not know whether it changes traffic".to_string(),
    };
    CaveatSpec::new(CaveatKindSpec::UnmodelledResource, resource, source, reason)
}

/// Whether `kind` is a Terraform resource type (`azurerm_nat_gateway`, `azapi_resource`): an
/// Azure type always holds a `/` (`Microsoft.Network/natGateways`), a Terraform type never does,
/// and the Terraform reader records a skipped instance with its type and its address.
fn is_terraform_type(kind: &str) -> bool {
    !kind.is_empty() && !kind.contains('/') && kind.contains('_')
}

/// Makes each caveat's `affects` name only what the scenario holds: a NIC's name (which stands
/// for its VM while the VMs are built) becomes its VM's; a name the scenario does not hold (a VM
/// left out) is dropped; a caveat left with none affects everything, since what it concerned is
/// not modelled.
fn settle_affects(caveats: &mut [CaveatSpec], scenario: &ScenarioFile) {
    for c in caveats.iter_mut() {
        let mut settled: Vec<String> = Vec::new();
        for name in &c.affects {
            let found = if let Some(vm) = scenario.vms.iter().find(|v| v.nics.iter().any(|n| &n.name == name))
            {
                Some(vm.name.clone())
            } else if scenario.vms.iter().any(|v| &v.name == name)
                || scenario.vnets.iter().any(|v| &v.name == name)
                || scenario
                    .vnets
                    .iter()
                    .any(|v| v.subnets.iter().any(|s| format!("{}/{}", v.name, s.name) == *name))
            {
                Some(name.clone())
            } else {
                None
            };
            if let Some(found) = found
                && !settled.contains(&found)
            {
                settled.push(found);
            }
        }
        if settled.len() < c.affects.len() && settled.is_empty() {
            c.affects.clear();
        } else {
            c.affects = settled;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::is_terraform_type;

    #[test]
    fn terraform_types_are_told_from_azure_types() {
        assert!(is_terraform_type("azurerm_nat_gateway"));
        assert!(is_terraform_type("azapi_resource"));
        assert!(!is_terraform_type("Microsoft.Network/natGateways"));
        assert!(!is_terraform_type("Microsoft.Network/virtualNetworks/virtual_thing"));
        assert!(!is_terraform_type(""));
    }
}

//! Converting a parsed scenario file into model, NSG and simulator types.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use super::LoadError;
use super::endpoint::End;
use super::locate::SourceMap;
use super::schema::{
    AccessSpec, ActionSpec, DirectionSpec, ExpectSpec, OsSpec, PeeringSpec, ProtocolSpec, RuleSpec,
    ScenarioFile, SkuSpec, StepSpec,
};
use crate::jit::{JitEngine, RoleBook};
use crate::model::{Caveat, NicId, Os, PublicIpSku, SubnetId, Topology, TopologyError, User, VmId, VnetId};
use crate::net::{AddrSet, IpProtocol, PortRange, parse_prefix};
use crate::nsg::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule,
    ServiceTag, default_rules, validate_nsg,
};
use crate::path::FlowRequest;
use crate::sim::{Action, Attachment, Duration, Endpoints, Expectation, Instant, SimError, Step, World};

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file it came from.
    pub file: PathBuf,
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The start instant.
    pub start: Instant,
    /// The topology at the start.
    pub topology: Topology,
    /// The people in it.
    pub users: Vec<User>,
    /// The timeline, in file order.
    pub steps: Vec<Step>,
    /// JIT options, roles and scoped policies (nothing enabled yet).
    pub jit: JitEngine,
    /// Things Azure accepts but that probably do not do what the author meant (a port on an
    /// `Icmp` rule), each a one-line diagnostic like a load error. `check` prints them.
    pub warnings: Vec<LoadError>,
    /// What could not be read or modelled and can change traffic: every answer that depends on
    /// one names it ([`Scenario::caveats_for_vm`], [`Scenario::caveats_for_flow`]).
    pub caveats: Vec<Caveat>,
}

impl Scenario {
    /// The starting point of a simulation of this scenario.
    pub fn world(&self) -> World {
        World {
            topology: self.topology.clone(),
            start: self.start,
            users: self.users.clone(),
            jit: self.jit.clone(),
        }
    }

    /// Resolves a Bastion host by name.
    ///
    /// # Errors
    /// A message listing the Bastion hosts.
    pub fn bastion(&self, name: &str) -> Result<crate::model::BastionId, String> {
        self.topology.bastion_by_name(name).ok_or_else(|| {
            let names: Vec<String> =
                self.topology.bastion_ids().map(|b| self.topology.bastion(b).name.clone()).collect();
            format!("unknown bastion '{name}'; valid: {}", list_or_none(&names))
        })
    }

    /// A step that could not be applied, as a diagnostic of this file:
    /// `file:line:col: timeline[3].action.rule: step at 6m: NSG 'web' has no rule 'x'`.
    pub fn step_error(&self, e: &SimError) -> LoadError {
        LoadError {
            file: self.file.clone(),
            position: e.line.zip(e.column),
            field: Some(e.field.clone()),
            message: format!("step at {}: {}", e.at, e.fault),
        }
    }

    /// The instant `offset` after the start, if the calendar reaches it.
    ///
    /// # Errors
    /// A message with the last offset that is valid.
    pub fn instant_at(&self, offset: Duration) -> Result<Instant, String> {
        self.start.checked_plus(offset).ok_or_else(|| out_of_time(self.start, offset))
    }
}

/// Reads and loads a scenario file.
///
/// # Errors
/// Unreadable file, RON syntax, or meaning errors, each with the position.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError {
        file: path.to_path_buf(),
        position: None,
        field: None,
        message: format!("cannot read the file: {e}"),
    })?;
    load_str(&text, path)
}

/// Loads a scenario from `text`, naming `path` in errors.
///
/// # Errors
/// RON syntax or meaning errors, each with the position.
pub fn load_str(text: &str, path: &Path) -> Result<Scenario, LoadError> {
    let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let file: ScenarioFile = options.from_str(text).map_err(|e| LoadError {
        file: path.to_path_buf(),
        position: Some((e.span.start.line, e.span.start.col)),
        field: None,
        message: syntax_message(&e.code),
    })?;
    Loader { path, map: SourceMap::new(text), warnings: Default::default() }.load(file)
}

fn syntax_message(code: &ron::Error) -> String {
    let text = code.to_string();
    match code {
        ron::Error::NoSuchStructField { .. } | ron::Error::MissingStructField { .. } => {
            format!("{text} (see docs/scenario-format.md for every field)")
        }
        _ => text,
    }
}

pub(super) struct Loader<'a> {
    pub(super) path: &'a Path,
    pub(super) map: SourceMap<'a>,
    /// Warnings found while converting (conversion takes `&self`, hence the cell).
    pub(super) warnings: std::cell::RefCell<Vec<LoadError>>,
}

/// A meaning error before it gets its position: the field path (which locates it in the file),
/// the offending value (pointed at when it is written inside that field), and the message.
pub(super) struct Fault {
    field: String,
    value: String,
    message: String,
}

pub(super) fn fault(field: impl Into<String>, value: impl Into<String>, message: impl Into<String>) -> Fault {
    Fault { field: field.into(), value: value.into(), message: message.into() }
}

impl Loader<'_> {
    fn error(&self, f: Fault) -> LoadError {
        LoadError {
            file: self.path.to_path_buf(),
            position: self.map.find(&f.field, &f.value),
            field: Some(f.field),
            message: f.message,
        }
    }

    fn load(&self, file: ScenarioFile) -> Result<Scenario, LoadError> {
        let mut scenario = self.build(file).map_err(|f| self.error(f))?;
        scenario.warnings = self.warnings.take();
        Ok(scenario)
    }

    fn warn(&self, f: Fault) {
        let warning = self.error(f);
        self.warnings.borrow_mut().push(warning);
    }

    fn build(&self, file: ScenarioFile) -> Result<Scenario, Fault> {
        let start = Instant::parse(&file.start).map_err(|m| fault("start", &file.start, m))?;
        let mut t = Topology::new();

        for (tag, prefixes) in &file.service_tags {
            let field = format!("service_tags[\"{tag}\"]");
            if ServiceTag::parse(tag).is_none_or(|t| !matches!(t, ServiceTag::Other(_))) {
                return Err(fault(
                    &field,
                    tag,
                    format!(
                        "'{tag}' cannot be defined: VirtualNetwork, Internet and AzureLoadBalancer are computed from the topology, and a tag name uses letters, digits, '.', '_' or '-'"
                    ),
                ));
            }
            let nets = prefixes
                .iter()
                .enumerate()
                .map(|(i, p)| parse_prefix(p).map_err(|e| fault(format!("{field}[{i}]"), p, e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            t.define_service_tag(tag, AddrSet::from_nets(&nets));
        }

        for (vi, v) in file.vnets.iter().enumerate() {
            let field = format!("vnets[{vi}]");
            let spaces = v
                .address_space
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    parse_prefix(s)
                        .map_err(|e| fault(format!("{field}.address_space[{i}]"), s, e.to_string()))
                })
                .collect::<Result<Vec<IpNet>, _>>()?;
            if spaces.is_empty() {
                return Err(fault(
                    format!("{field}.address_space"),
                    &v.name,
                    "a VNet needs at least one address space",
                ));
            }
            let vnet = t.add_vnet(&v.name, spaces).map_err(|e| match e {
                TopologyError::DuplicateName { .. } => fault(format!("{field}.name"), &v.name, e.to_string()),
                TopologyError::ReservedAddressSpace { space, .. } => {
                    fault(format!("{field}.address_space"), space.to_string(), e.to_string())
                }
                TopologyError::AddressSpaceOverlap { second, .. } => {
                    fault(format!("{field}.address_space"), second.to_string(), e.to_string())
                }
                _ => fault(format!("{field}.address_space"), "", e.to_string()),
            })?;
            let on_prem = v
                .on_premises
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    parse_prefix(s).map_err(|e| fault(format!("{field}.on_premises[{i}]"), s, e.to_string()))
                })
                .collect::<Result<Vec<IpNet>, _>>()?;
            t.connect_on_premises(vnet, on_prem).map_err(|e| {
                let value = match &e {
                    TopologyError::AddressSpaceOverlap { second, .. } => second.to_string(),
                    _ => String::new(),
                };
                fault(format!("{field}.on_premises"), value, e.to_string())
            })?;
            for (si, s) in v.subnets.iter().enumerate() {
                let sfield = format!("{field}.subnets[{si}]");
                let prefix = parse_prefix(&s.prefix)
                    .map_err(|e| fault(format!("{sfield}.prefix"), &s.prefix, e.to_string()))?;
                let subnet = t.add_subnet(vnet, &s.name, prefix).map_err(|e| match e {
                    TopologyError::DuplicateName { .. } => {
                        fault(format!("{sfield}.name"), &s.name, e.to_string())
                    }
                    _ => fault(format!("{sfield}.prefix"), &s.prefix, e.to_string()),
                })?;
                if let Some(enabled) = s.default_outbound_access {
                    t.set_subnet_default_outbound_access(subnet, enabled);
                }
            }
        }

        // The VNet pairs peered so far (by id, as names are matched without case), with their entry.
        let mut peered_pairs: Vec<((VnetId, VnetId), usize)> = Vec::new();
        for (pi, p) in file.peerings.iter().enumerate() {
            let field = format!("peerings[{pi}]");
            let (a, b) = p.vnets();
            let (field_a, field_b) = match p {
                PeeringSpec::Pair(..) => (format!("{field}[0]"), format!("{field}[1]")),
                PeeringSpec::Options(_) => (format!("{field}.vnets[0]"), format!("{field}.vnets[1]")),
            };
            let va = self.vnet(&t, a, &field_a)?;
            let vb = self.vnet(&t, b, &field_b)?;
            // Azure: "There can be only one peering link between any two virtual networks". A
            // second entry for the pair would otherwise be merged, its flags silently winning.
            let pair = (va.min(vb), va.max(vb));
            if let Some(&(_, first)) = peered_pairs.iter().find(|(p, _)| *p == pair) {
                return Err(fault(
                    &field,
                    "",
                    format!(
                        "vnets '{a}' and '{b}' are already peered by peerings[{first}]; Azure allows one peering link between two virtual networks: put all its settings in one entry"
                    ),
                ));
            }
            peered_pairs.push((pair, pi));
            match p.subnets() {
                None => t.peer(va, vb).map_err(|e| fault(&field, "", e.to_string()))?,
                Some((names_a, names_b)) => {
                    let mut ids = [Vec::new(), Vec::new()];
                    for (i, (vnet, vname, names)) in
                        [(va, a, names_a), (vb, b, names_b)].into_iter().enumerate()
                    {
                        let sfield = format!("{field}.subnets[{i}]");
                        if names.is_empty() {
                            return Err(fault(
                                &sfield,
                                "[]",
                                format!(
                                    "a subnet peering names at least one subnet of vnet '{vname}'; valid: the names of its subnets, or no subnets field to peer the whole vnets"
                                ),
                            ));
                        }
                        for (k, name) in names.iter().enumerate() {
                            let Some(id) = t.subnet_by_name(vnet, name) else {
                                let known: Vec<&str> =
                                    t.vnet(vnet).subnets.iter().map(|s| t.subnet(*s).name.as_str()).collect();
                                return Err(fault(
                                    format!("{sfield}[{k}]"),
                                    name,
                                    format!(
                                        "vnet '{vname}' has no subnet '{name}'; valid: {}",
                                        if known.is_empty() {
                                            "none (it has no subnets)".into()
                                        } else {
                                            known.join(", ")
                                        }
                                    ),
                                ));
                            };
                            if ids[i].contains(&id) {
                                return Err(fault(
                                    format!("{sfield}[{k}]"),
                                    name,
                                    format!("subnet '{name}' of vnet '{vname}' is listed twice"),
                                ));
                            }
                            ids[i].push(id);
                        }
                    }
                    t.peer_subnets(va, vb, &ids[0], &ids[1])
                        .map_err(|e| fault(format!("{field}.subnets"), "", e.to_string()))?;
                }
            }
            let (a_access, b_access) = p.virtual_network_access();
            for (from, to, allow, i) in [(va, vb, a_access, 0), (vb, va, b_access, 1)] {
                t.set_peering_access(from, to, allow).map_err(|e| {
                    fault(
                        format!("{field}.allow_virtual_network_access[{i}]"),
                        allow.to_string(),
                        e.to_string(),
                    )
                })?;
            }
            let (allow_gateway_transit, use_remote_gateways) = p.gateway_flags();
            if use_remote_gateways {
                if !allow_gateway_transit {
                    return Err(fault(
                        format!("{field}.use_remote_gateways"),
                        "true",
                        format!(
                            "vnet '{b}' cannot use the gateway of vnet '{a}': its peering does not allow gateway transit; valid: allow_gateway_transit: true with use_remote_gateways: true"
                        ),
                    ));
                }
                t.use_remote_gateway(vb, va)
                    .map_err(|e| fault(format!("{field}.use_remote_gateways"), "true", e.to_string()))?;
            }
        }

        for (ai, name) in file.asgs.iter().enumerate() {
            t.add_asg(name).map_err(|e| fault(format!("asgs[{ai}]"), name, e.to_string()))?;
        }

        // NSGs are added before their rules are converted so that rules may name ASGs; rules are
        // then checked together (duplicate priorities and names need the whole list).
        for (ni, n) in file.nsgs.iter().enumerate() {
            let mut rules = Vec::new();
            for (ri, r) in n.rules.iter().enumerate() {
                rules.push(self.rule(&t, r, &format!("nsgs[{ni}].rules[{ri}]"))?);
            }
            let nsg = Nsg { name: n.name.clone(), rules };
            validate_nsg(&nsg).map_err(|e| self.nsg_fault(&e, ni, n))?;
            t.add_nsg(nsg).map_err(|e| fault(format!("nsgs[{ni}].name"), &n.name, e.to_string()))?;
        }

        for (vi, v) in file.vnets.iter().enumerate() {
            let vnet = t.vnet_by_name(&v.name).expect("added above");
            for (si, s) in v.subnets.iter().enumerate() {
                if let Some(nsg_name) = &s.nsg {
                    let field = format!("vnets[{vi}].subnets[{si}].nsg");
                    let nsg = self.nsg(&t, nsg_name, &field)?;
                    let subnet = t.subnet_by_name(vnet, &s.name).expect("added above");
                    t.set_subnet_nsg(subnet, Some(nsg)).map_err(|e| fault(field, nsg_name, e.to_string()))?;
                }
            }
        }

        for (pi, p) in file.public_ips.iter().enumerate() {
            let field = format!("public_ips[{pi}]");
            let address: IpAddr = p.address.parse().map_err(|_| {
                fault(format!("{field}.address"), &p.address, format!("'{}' is not an IP address", p.address))
            })?;
            let sku = match p.sku {
                Some(SkuSpec::Basic) => PublicIpSku::Basic,
                Some(SkuSpec::Standard) | None => PublicIpSku::Standard,
            };
            t.add_public_ip(&p.name, address, sku).map_err(|e| match e {
                TopologyError::DuplicateName { kind: "public IP", .. } => {
                    fault(format!("{field}.name"), &p.name, e.to_string())
                }
                _ => fault(format!("{field}.address"), &p.address, e.to_string()),
            })?;
        }

        self.network(&file, &mut t)?;
        t.set_peering_access_blocks_all_traffic(file.options.peering_access_blocks_all_traffic);
        if file.options.firewall_dnat_legacy_network_rules {
            for fw in t.firewall_ids().collect::<Vec<_>>() {
                t.firewall_mut(fw).legacy_dnat = true;
            }
        }

        for (vi, v) in file.vms.iter().enumerate() {
            let field = format!("vms[{vi}]");
            let os = match v.os {
                OsSpec::Linux => Os::Linux,
                OsSpec::Windows => Os::Windows,
            };
            let placement = (
                v.subscription.as_deref().unwrap_or("default"),
                v.resource_group.as_deref().unwrap_or("default"),
            );
            let vm = t
                .add_vm(&v.name, os, v.classic, placement)
                .map_err(|e| fault(format!("{field}.name"), &v.name, e.to_string()))?;
            if v.nics.is_empty() {
                return Err(fault(
                    format!("{field}.nics"),
                    "",
                    format!("vm '{}' has no NIC; a VM needs at least one", v.name),
                ));
            }
            for (ni, n) in v.nics.iter().enumerate() {
                self.nic(&mut t, vm, n, &format!("{field}.nics[{ni}]"))?;
            }
        }
        // ASGs are bound to a VNet by their members, known only now.
        for (ni, n) in file.nsgs.iter().enumerate() {
            let Some(id) = t.nsg_by_name(&n.name) else { continue };
            for (ri, rule) in t.nsg(id).rules.iter().enumerate() {
                if let Some((side, asg, message)) = t.rule_asgs_vnet_conflict(rule) {
                    return Err(fault(format!("nsgs[{ni}].rules[{ri}].{side}_asgs"), &asg, message));
                }
            }
        }

        let mut roles = RoleBook::default();
        for (name, actions) in &file.roles {
            if actions.is_empty() {
                return Err(fault(
                    format!("roles[\"{name}\"]"),
                    name,
                    format!("custom role '{name}' has no actions"),
                ));
            }
            roles.define(name, actions.clone());
        }
        let mut users = Vec::new();
        for (ui, u) in file.users.iter().enumerate() {
            for (ri, role) in u.roles.iter().enumerate() {
                if !roles.has(role) {
                    let known: Vec<&str> = roles.names().collect();
                    return Err(fault(
                        format!("users[{ui}].roles[{ri}]"),
                        role,
                        format!("unknown role '{role}'; valid: {}, or define it in roles", known.join(", ")),
                    ));
                }
            }
            let field = format!("users[{ui}].source_ip");
            let source_ip: IpAddr = u.source_ip.parse().map_err(|_| {
                fault(&field, &u.source_ip, format!("'{}' is not an IP address", u.source_ip))
            })?;
            if users.iter().any(|x: &User| x.name == u.name) {
                return Err(fault(
                    format!("users[{ui}].name"),
                    &u.name,
                    format!("user name '{}' is used twice", u.name),
                ));
            }
            users.push(User { name: u.name.clone(), roles: u.roles.clone(), source_ip });
        }

        self.unambiguous_names(&file)?;
        let caveats = self.caveats(&file.caveats, &t)?;
        let options = self.options(&file.options, &t)?;
        let scoped = self.scoped_policies(&file.jit_policies, &t, &roles)?;
        let mut scenario = Scenario {
            file: self.path.to_path_buf(),
            name: file.name,
            description: file.description,
            start,
            topology: t,
            users,
            steps: Vec::new(),
            jit: JitEngine::new(options, roles, scoped),
            warnings: Vec::new(),
            caveats,
        };
        let mut request_ids: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (si, s) in file.timeline.iter().enumerate() {
            let step = self.step(&scenario, s, si)?;
            scenario.steps.push(step);
            if let Some(ActionSpec::RequestJit { id, .. }) = &s.action
                && let Some(first) = request_ids.insert(id, si)
            {
                return Err(fault(
                    format!("timeline[{si}].action.id"),
                    id,
                    format!(
                        "request id '{id}' is already used by timeline[{first}]; each RequestJit needs its own id, which ApproveJit, DenyJit, RevokeJit and JitRequest refer to"
                    ),
                ));
            }
        }
        Ok(scenario)
    }

    /// Flow endpoints are written by name, so one name must not mean two things. Of two
    /// writings of a name, the later in the file is reported, at its own field.
    fn unambiguous_names(&self, file: &ScenarioFile) -> Result<(), Fault> {
        let mut seen: std::collections::HashMap<&str, (&'static str, String)> =
            std::collections::HashMap::new();
        let users =
            file.users.iter().enumerate().map(|(i, u)| (u.name.as_str(), "user", format!("users[{i}].name")));
        let vms = file.vms.iter().enumerate().map(|(i, v)| (v.name.as_str(), "vm", format!("vms[{i}].name")));
        let nics = file.vms.iter().enumerate().flat_map(|(i, v)| {
            v.nics
                .iter()
                .enumerate()
                .map(move |(j, n)| (n.name.as_str(), "nic", format!("vms[{i}].nics[{j}].name")))
        });
        let pips = file
            .public_ips
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), "public IP", format!("public_ips[{i}].name")));
        for (name, kind, field) in users.chain(vms).chain(nics).chain(pips) {
            if let Some((other, other_field)) = seen.insert(name, (kind, field.clone())) {
                let ((first, _), (second, at)) = if self.map.start(&other_field) <= self.map.start(&field) {
                    ((other, other_field), (kind, field))
                } else {
                    ((kind, field), (other, other_field))
                };
                return Err(fault(
                    at,
                    name,
                    format!(
                        "'{name}' names both a {first} and a {second}; flows refer to endpoints by name, so names of users, VMs, NICs and public IPs must be distinct"
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn vnet(&self, t: &Topology, name: &str, field: &str) -> Result<crate::model::VnetId, Fault> {
        t.vnet_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.vnet_ids().map(|v| t.vnet(v).name.clone()).collect();
            fault(field, name, format!("unknown vnet '{name}'; valid: {}", names.join(", ")))
        })
    }

    pub(super) fn nsg(&self, t: &Topology, name: &str, field: &str) -> Result<crate::model::NsgId, Fault> {
        t.nsg_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.nsg_ids().map(|n| t.nsg(n).name.clone()).collect();
            fault(field, name, format!("unknown nsg '{name}'; valid: {}", list_or_none(&names)))
        })
    }

    pub(super) fn subnet(&self, t: &Topology, path: &str, field: &str) -> Result<SubnetId, Fault> {
        let all = || -> Vec<String> {
            t.subnet_ids()
                .map(|s| format!("{}/{}", t.vnet(t.subnet(s).vnet).name, t.subnet(s).name))
                .collect()
        };
        let found =
            path.split_once('/').and_then(|(v, s)| t.vnet_by_name(v).and_then(|v| t.subnet_by_name(v, s)));
        found.ok_or_else(|| {
            fault(
                field,
                path,
                format!("unknown subnet '{path}'; write it as vnet/subnet, valid: {}", list_or_none(&all())),
            )
        })
    }

    fn nic_ref(&self, t: &Topology, name: &str, field: &str) -> Result<NicId, Fault> {
        t.nic_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.nic_ids().map(|n| t.nic(n).name.clone()).collect();
            fault(field, name, format!("unknown nic '{name}'; valid: {}", list_or_none(&names)))
        })
    }

    fn nic(&self, t: &mut Topology, vm: VmId, n: &super::schema::NicSpec, field: &str) -> Result<(), Fault> {
        let subnet = self.subnet(t, &n.subnet, &format!("{field}.subnet"))?;
        let ip: IpAddr = n.private_ip.parse().map_err(|_| {
            fault(
                format!("{field}.private_ip"),
                &n.private_ip,
                format!("'{}' is not an IP address", n.private_ip),
            )
        })?;
        let nic = t.add_nic(&n.name, subnet, ip, Some(vm)).map_err(|e| match e {
            TopologyError::DuplicateName { .. } => fault(format!("{field}.name"), &n.name, e.to_string()),
            TopologyError::ReservedSubnet { .. } => {
                fault(format!("{field}.subnet"), &n.subnet, e.to_string())
            }
            _ => fault(format!("{field}.private_ip"), &n.private_ip, e.to_string()),
        })?;
        if let Some(nsg_name) = &n.nsg {
            let nsg = self.nsg(t, nsg_name, &format!("{field}.nsg"))?;
            t.set_nic_nsg(nic, Some(nsg));
        }
        for (ai, asg_name) in n.asgs.iter().enumerate() {
            let asg = t.asg_by_name(asg_name).ok_or_else(|| {
                fault(
                    format!("{field}.asgs[{ai}]"),
                    asg_name,
                    format!("unknown application security group '{asg_name}'; declare it in asgs"),
                )
            })?;
            t.join_asg(nic, asg)
                .map_err(|e| fault(format!("{field}.asgs[{ai}]"), asg_name, e.to_string()))?;
        }
        if let Some(pip_name) = &n.public_ip {
            let pip = t.public_ip_by_name(pip_name).ok_or_else(|| {
                fault(
                    format!("{field}.public_ip"),
                    pip_name,
                    format!("unknown public IP '{pip_name}'; declare it in public_ips"),
                )
            })?;
            t.associate_public_ip(nic, pip)
                .map_err(|e| fault(format!("{field}.public_ip"), pip_name, e.to_string()))?;
        }
        Ok(())
    }

    fn nsg_fault(&self, e: &crate::nsg::NsgError, ni: usize, n: &super::schema::NsgSpec) -> Fault {
        use crate::nsg::NsgError as E;
        // Azure compares rule names case-insensitively, and so does `validate_nsg`: look the rule
        // up the same way, or a clash of `a` and `A` would be reported at rule 0.
        let positions_of = |name: &str| {
            n.rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.name.eq_ignore_ascii_case(name))
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        let position_of = |name: &str| positions_of(name).first().copied().unwrap_or(0);
        let ri = match e {
            E::PriorityOutOfRange { rule, .. }
            | E::InvalidName { name: rule, .. }
            | E::DescriptionTooLong { rule, .. }
            | E::TooManyEntries { rule, .. }
            | E::EmptyField { rule, .. } => position_of(rule),
            E::DuplicatePriority { first, second, .. } => {
                // The later of the two rules: when both share a name too, the second writing.
                let after_first = position_of(first);
                positions_of(second).into_iter().find(|&i| i > after_first).unwrap_or(0)
            }
            E::DuplicateName { name } => positions_of(name).get(1).copied().unwrap_or(0),
            _ => return fault(format!("nsgs[{ni}].rules"), "", e.to_string()),
        };
        let (sub, value) = rule_error_part(e);
        fault(format!("nsgs[{ni}].rules[{ri}].{sub}"), value, e.to_string())
    }

    fn rule(&self, t: &Topology, r: &RuleSpec, field: &str) -> Result<SecurityRule, Fault> {
        let priority = in_range(r.priority, Priority::MIN_USER, Priority::MAX_USER).ok_or_else(|| {
            fault(
                format!("{field}.priority"),
                r.priority.to_string(),
                format!("rule '{}': priority {} is outside 100..=4096", r.name, r.priority),
            )
        })?;
        let source = self.address(t, r.source.as_deref(), &r.source_asgs, &format!("{field}.source"))?;
        let destination =
            self.address(t, r.destination.as_deref(), &r.destination_asgs, &format!("{field}.destination"))?;
        let source_ports = ports(r.source_ports.as_deref().unwrap_or("*"))
            .map_err(|(v, m)| fault(format!("{field}.source_ports"), v, m))?;
        let destination_ports = ports(&r.destination_ports)
            .map_err(|(v, m)| fault(format!("{field}.destination_ports"), v, m))?;
        if let ProtocolSpec::Icmp | ProtocolSpec::Esp | ProtocolSpec::Ah = r.protocol {
            for (name, given) in [("source_ports", &source_ports), ("destination_ports", &destination_ports)]
            {
                if !given.is_any() {
                    self.warn(fault(
                        format!("{field}.{name}"),
                        given.to_string(),
                        format!(
                            "rule '{}': protocol {:?} has no ports, so {name} '{given}' makes the rule match no traffic in nsgsim (a rule of a portless protocol matches only with '*' ports). Azure accepts such a rule, but what it does with the port is undocumented; Microsoft says to use '*' (the portal sets it); valid: '*'",
                            r.name, r.protocol
                        ),
                    ));
                }
            }
        }
        Ok(SecurityRule {
            name: r.name.clone(),
            priority: Priority(priority),
            direction: match r.direction {
                DirectionSpec::Inbound => Direction::Inbound,
                DirectionSpec::Outbound => Direction::Outbound,
            },
            access: access(r.access),
            protocol: match r.protocol {
                ProtocolSpec::Tcp => RuleProtocol::Tcp,
                ProtocolSpec::Udp => RuleProtocol::Udp,
                ProtocolSpec::Icmp => RuleProtocol::Icmp,
                ProtocolSpec::Esp => RuleProtocol::Esp,
                ProtocolSpec::Ah => RuleProtocol::Ah,
                ProtocolSpec::Any => RuleProtocol::Any,
            },
            source,
            source_ports,
            destination,
            destination_ports,
            description: r.description.clone(),
            kind: RuleKind::Security,
        })
    }

    fn address(
        &self,
        t: &Topology,
        text: Option<&str>,
        asgs: &[String],
        field: &str,
    ) -> Result<AddressSpec, Fault> {
        if !asgs.is_empty() {
            if let Some(text) = text {
                return Err(fault(
                    field,
                    text,
                    format!(
                        "'{text}' cannot be combined with application security groups in one field; give either addresses/a tag or ASGs (Azure: *AddressPrefix and *ApplicationSecurityGroups are exclusive)"
                    ),
                ));
            }
            let ids = asgs
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    t.asg_by_name(a).ok_or_else(|| {
                        fault(
                            format!("{field}_asgs[{i}]"),
                            a,
                            format!("unknown application security group '{a}'; declare it in asgs"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(AddressSpec::Asgs(ids));
        }
        let text = text.unwrap_or("*").trim();
        if text == "*" || text.eq_ignore_ascii_case("any") {
            return Ok(AddressSpec::Any);
        }
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.len() == 1
            && let Some(tag) = ServiceTag::parse(parts[0])
        {
            // Azure accepts a tag in any case; keep its canonical spelling.
            let Some(canonical) = t.service_tag_name(tag.name()) else {
                return Err(fault(
                    field,
                    text,
                    format!(
                        "unknown service tag '{}'; valid: {}, or define it in service_tags",
                        tag.name(),
                        t.service_tag_names().join(", ")
                    ),
                ));
            };
            let tag = match tag {
                ServiceTag::Other(_) => ServiceTag::Other(canonical),
                builtin => builtin,
            };
            return Ok(AddressSpec::Tag(tag));
        }
        let mut nets = Vec::new();
        for p in parts {
            if p.is_empty() {
                return Err(fault(
                    field,
                    text,
                    format!("'{text}' has an empty entry; write a comma-separated list of IPs or CIDRs"),
                ));
            }
            if ServiceTag::parse(p).is_some() && p.parse::<IpAddr>().is_err() {
                return Err(fault(
                    field,
                    p,
                    format!(
                        "service tag '{p}' cannot be combined with other entries; a rule holds one tag, or a list of IPs/CIDRs"
                    ),
                ));
            }
            nets.push(parse_prefix(p).map_err(|e| fault(field, p, e.to_string()))?);
        }
        Ok(AddressSpec::Prefixes(nets))
    }

    fn step(&self, sc: &Scenario, s: &StepSpec, si: usize) -> Result<Step, Fault> {
        let field = format!("timeline[{si}]");
        let at = Duration::parse(&s.at).map_err(|m| fault(format!("{field}.at"), &s.at, m))?;
        sc.instant_at(at).map_err(|m| fault(format!("{field}.at"), &s.at, m))?;
        let position = self.map.start(&field);
        if s.action.is_none() && s.expect.is_none() && s.note.is_none() {
            return Err(fault(&field, "", "a step needs an action, an expect or a note"));
        }
        let action = match &s.action {
            Some(a) => Some(self.action(sc, a, &format!("{field}.action"))?),
            None => None,
        };
        let expect = match &s.expect {
            Some(e) => Some(self.expectation(sc, e, &format!("{field}.expect"))?),
            None => None,
        };
        Ok(Step {
            at,
            action,
            expect,
            note: s.note.clone(),
            line: position.map(|p| p.0),
            column: position.map(|p| p.1),
            path: field,
        })
    }

    fn attachment(
        &self,
        t: &Topology,
        subnet: &Option<String>,
        nic: &Option<String>,
        field: &str,
    ) -> Result<Attachment, Fault> {
        match (subnet, nic) {
            (Some(s), None) => Ok(Attachment::Subnet(self.subnet(t, s, &format!("{field}.subnet"))?)),
            (None, Some(n)) => Ok(Attachment::Nic(self.nic_ref(t, n, &format!("{field}.nic"))?)),
            (Some(_), Some(n)) => {
                Err(fault(format!("{field}.nic"), n, "give either subnet or nic, not both"))
            }
            (None, None) => Err(fault(field, "", "give a subnet (vnet/subnet) or a nic")),
        }
    }

    fn flow(
        &self,
        sc: &Scenario,
        spec: FlowSpec<'_>,
        field: &str,
    ) -> Result<(FlowRequest, Endpoints), Fault> {
        let FlowSpec { from, to, port, protocol, src_port, via } = spec;
        let via = via.map(|b| sc.bastion(b).map_err(|m| fault(format!("{field}.via"), b, m))).transpose()?;
        let (source, destination) = sc.endpoints(from, to).map_err(|e| {
            let value = if e.end == End::From { from } else { to };
            fault(format!("{field}.{}", e.end.field()), value, e.message)
        })?;
        let protocol = match protocol.unwrap_or(ProtocolSpec::Tcp) {
            ProtocolSpec::Tcp => IpProtocol::TCP,
            ProtocolSpec::Udp => IpProtocol::UDP,
            ProtocolSpec::Icmp => IpProtocol::ICMP,
            ProtocolSpec::Esp => IpProtocol::ESP,
            ProtocolSpec::Ah => IpProtocol::AH,
            ProtocolSpec::Any => {
                return Err(fault(
                    format!("{field}.protocol"),
                    "Any",
                    "a flow has one protocol: Tcp, Udp, Icmp, Esp or Ah",
                ));
            }
        };
        let port_in_range = |number: i64, name: &str| {
            in_range(number, 0u16, u16::MAX).ok_or_else(|| {
                fault(
                    format!("{field}.{name}"),
                    number.to_string(),
                    format!("port {number} is outside 0..=65535"),
                )
            })
        };
        let port = port_in_range(port, "port")?;
        let src_port = src_port.map(|p| port_in_range(p, "src_port")).transpose()?;
        let (src_port, dst_port) =
            if protocol.has_ports() { (src_port.unwrap_or(50000), port) } else { (0, 0) };
        Ok((
            FlowRequest { source, destination, protocol, src_port, dst_port, via },
            Endpoints { from: from.to_string(), to: to.to_string() },
        ))
    }

    fn action(&self, sc: &Scenario, a: &ActionSpec, field: &str) -> Result<Action, Fault> {
        let t = &sc.topology;
        Ok(match a {
            ActionSpec::AttachNsg { nsg, subnet, nic } => {
                let target = self.attachment(t, subnet, nic, field)?;
                // Refused here too, so that `check` names the step before anything is replayed.
                if let crate::sim::Attachment::Subnet(s) = target {
                    t.check_subnet_nsg(s).map_err(|e| {
                        fault(format!("{field}.subnet"), subnet.as_deref().unwrap_or_default(), e.to_string())
                    })?;
                }
                Action::AttachNsg { nsg: self.nsg(t, nsg, &format!("{field}.nsg"))?, target }
            }
            ActionSpec::DetachNsg { subnet, nic } => {
                Action::DetachNsg { target: self.attachment(t, subnet, nic, field)? }
            }
            ActionSpec::AddRule { nsg, rule } => {
                let id = self.nsg(t, nsg, &format!("{field}.nsg"))?;
                let rule = self.rule(t, rule, &format!("{field}.rule"))?;
                crate::nsg::validate_rule(&rule).map_err(|e| {
                    let (sub, value) = rule_error_part(&e);
                    fault(format!("{field}.rule.{sub}"), value, e.to_string())
                })?;
                Action::AddRule { nsg: id, rule }
            }
            ActionSpec::RemoveRule { nsg, rule } => {
                let id = self.nsg(t, nsg, &format!("{field}.nsg"))?;
                if let Some(default) = default_rules().into_iter().find(|d| d.name.eq_ignore_ascii_case(rule))
                {
                    return Err(fault(
                        format!("{field}.rule"),
                        rule,
                        format!(
                            "'{}' is one of the default rules, which cannot be removed (Azure: they can only be overridden by user rules of higher priority); valid: the name of a user rule",
                            default.name
                        ),
                    ));
                }
                Action::RemoveRule { nsg: id, name: rule.clone() }
            }
            ActionSpec::SetPeeringAccess { vnet, remote, allow } => {
                let id = self.vnet(t, vnet, &format!("{field}.vnet"))?;
                let remote_id = self.vnet(t, remote, &format!("{field}.remote"))?;
                if !t.vnet(id).peerings.contains(&remote_id) {
                    let peers: Vec<String> =
                        t.vnet(id).peerings.iter().map(|p| t.vnet(*p).name.clone()).collect();
                    return Err(fault(
                        format!("{field}.remote"),
                        remote,
                        format!(
                            "vnet '{vnet}' is not peered with '{remote}'; valid: a VNet peered with '{vnet}' ({})",
                            list_or_none(&peers)
                        ),
                    ));
                }
                Action::SetPeeringAccess { vnet: id, remote: remote_id, allow: *allow }
            }
            ActionSpec::Connect { name, from, to, port, protocol } => {
                let spec = FlowSpec { from, to, port: *port, protocol: *protocol, src_port: None, via: None };
                let (request, endpoints) = self.flow(sc, spec, field)?;
                Action::Connect { name: name.clone(), request, endpoints }
            }
            ActionSpec::Disconnect { name } => Action::Disconnect { name: name.clone() },
            other => self.jit_action(sc, other, field)?,
        })
    }

    fn expectation(&self, sc: &Scenario, e: &ExpectSpec, field: &str) -> Result<Expectation, Fault> {
        let t = &sc.topology;
        Ok(match e {
            ExpectSpec::Flow { from, to, port, protocol, src_port, via, verdict, nsg, rule } => {
                let spec = FlowSpec {
                    from,
                    to,
                    port: *port,
                    protocol: *protocol,
                    src_port: *src_port,
                    via: via.as_deref(),
                };
                let (request, endpoints) = self.flow(sc, spec, field)?;
                let nsg = match nsg {
                    Some(n) => Some(self.nsg(t, n, &format!("{field}.nsg"))?),
                    None => None,
                };
                Expectation::Flow { request, endpoints, verdict: access(*verdict), nsg, rule: rule.clone() }
            }
            ExpectSpec::Reply { connection, verdict } => {
                Expectation::Reply { connection: connection.clone(), verdict: access(*verdict) }
            }
            ExpectSpec::Connection { name, open } => {
                Expectation::Connection { name: name.clone(), open: *open }
            }
            ExpectSpec::JitStatus { .. } | ExpectSpec::JitRequest { .. } | ExpectSpec::JitRules { .. } => {
                self.jit_expectation(sc, e, field)?
            }
            ExpectSpec::BastionRules { bastion, missing } => Expectation::BastionRules {
                bastion: sc.bastion(bastion).map_err(|m| fault(format!("{field}.bastion"), bastion, m))?,
                missing: missing.clone(),
            },
            ExpectSpec::Rule { nsg, rule, exists } => Expectation::Rule {
                nsg: self.nsg(t, nsg, &format!("{field}.nsg"))?,
                name: rule.clone(),
                exists: *exists,
            },
        })
    }
}

/// A flow as written in a step, before its names are resolved.
struct FlowSpec<'a> {
    from: &'a str,
    to: &'a str,
    port: i64,
    protocol: Option<ProtocolSpec>,
    src_port: Option<i64>,
    via: Option<&'a str>,
}

/// The field of a rule an NSG validation error is about, and the value to point at.
fn rule_error_part(e: &crate::nsg::NsgError) -> (&'static str, String) {
    use crate::nsg::NsgError as E;
    match e {
        E::PriorityOutOfRange { priority, .. } | E::DuplicatePriority { priority, .. } => {
            ("priority", priority.to_string())
        }
        E::DuplicateName { name } | E::InvalidName { name, .. } => ("name", name.clone()),
        E::DescriptionTooLong { .. } => ("description", String::new()),
        E::TooManyEntries { field, .. } | E::EmptyField { field, .. } => (field, String::new()),
        _ => ("name", String::new()),
    }
}

fn access(a: AccessSpec) -> Access {
    match a {
        AccessSpec::Allow => Access::Allow,
        AccessSpec::Deny => Access::Deny,
    }
}

/// A port field: `*`, a port, a range `a-b`, or a comma-separated list of ports and ranges.
/// Errors carry the offending entry and the message.
fn ports(text: &str) -> Result<PortSpec, (String, String)> {
    let entries: Vec<&str> = text.split(',').map(str::trim).collect();
    if entries.len() > 1 {
        if entries.iter().any(|e| e.is_empty()) {
            return Err((
                String::new(),
                format!(
                    "'{text}' has an empty entry; valid: '*', a port, a range like 1000-2000, or a comma-separated list of ports and ranges"
                ),
            ));
        }
        if entries.contains(&"*") {
            return Err((
                "*".into(),
                format!(
                    "'{text}' lists '*' with other entries; Azure accepts '*' only on its own (it already means every port): write '*' or list the ports"
                ),
            ));
        }
    } else if entries[0].is_empty() {
        return Err((
            String::new(),
            format!(
                "'{text}' is empty; valid: '*', a port, a range like 1000-2000, or a comma-separated list"
            ),
        ));
    }
    let ranges = entries
        .iter()
        .map(|p| p.parse::<PortRange>().map_err(|e| (p.to_string(), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PortSpec(ranges))
}

/// `value` as a `T` when it lies in `lo..=hi`.
pub(super) fn in_range<T>(value: i64, lo: T, hi: T) -> Option<T>
where
    T: TryFrom<i64> + Into<i64> + Copy,
{
    T::try_from(value).ok().filter(|_| (lo.into()..=hi.into()).contains(&value))
}

/// The message for an offset that takes the clock past the last instant nsgsim can represent.
fn out_of_time(start: Instant, offset: Duration) -> String {
    format!(
        "offset {offset} after the start {start} is past {}, the last instant nsgsim can represent; valid: an offset up to {}",
        Instant::MAX,
        Instant::MAX.since(start)
    )
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() { "(none declared)".into() } else { names.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, Case, at};
    use super::*;
    use crate::path::{Destination, Source};

    /// One of each foundation entity. Tests change one thing in it.
    const BASE: &str = r#"// unit-test base
Scenario(
    name: "base",
    description: "d",
    start: "2025-01-06T09:00:00Z",
    service_tags: {"Office": ["203.0.113.0/24"]},
    vnets: [
        Vnet(name: "hub", address_space: ["10.0.0.0/16"], on_premises: ["192.168.0.0/16"], subnets: [
            Subnet(name: "web", prefix: "10.0.1.0/24", nsg: "web-nsg"),
            Subnet(name: "db", prefix: "10.0.2.0/24"),
        ]),
        Vnet(name: "spoke", address_space: ["10.5.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.5.1.0/24")]),
    ],
    peerings: [("hub", "spoke")],
    asgs: ["web-tier"],
    nsgs: [
        Nsg(name: "web-nsg", rules: [
            Rule(name: "allow-https", priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
                 source: "Internet", destination_asgs: ["web-tier"], destination_ports: "443,8443"),
            Rule(name: "allow-office", priority: 110, direction: Inbound, access: Allow, protocol: Tcp,
                 source: "Office", source_ports: "1024-65535", destination_ports: "22"),
            Rule(name: "deny-out", priority: 100, direction: Outbound, access: Deny, protocol: Any,
                 destination: "198.51.100.0/24, 198.51.100.7", destination_ports: "*", description: "no"),
        ]),
    ],
    public_ips: [PublicIp(name: "web-pip", address: "20.40.0.10"), PublicIp(name: "old-pip", address: "20.40.0.11", sku: Basic)],
    vms: [
        Vm(name: "vm-web", os: Linux, nics: [
            Nic(name: "vm-web-nic", subnet: "hub/web", private_ip: "10.0.1.4", asgs: ["web-tier"], public_ip: "web-pip"),
            Nic(name: "vm-web-nic2", subnet: "hub/db", private_ip: "10.0.2.5", nsg: "web-nsg"),
        ]),
        Vm(name: "vm-app", os: Windows, subscription: "sub1", resource_group: "rg1",
           nics: [Nic(name: "vm-app-nic", subnet: "spoke/app", private_ip: "10.5.1.4")]),
    ],
    users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.10")],
    timeline: [
        (at: "0", note: "start"),
        (at: "PT30M", action: AddRule(nsg: "web-nsg", rule: Rule(name: "x", priority: 200, direction: Inbound,
            access: Deny, protocol: Udp, destination_ports: "53"))),
        (at: "1h", expect: Flow(from: "alice", to: "web-pip", port: 443, verdict: Allow, nsg: "web-nsg", rule: "allow-https")),
    ],
)
"#;

    const FILE: &str = "u.ron";

    fn load(text: &str) -> Result<Scenario, LoadError> {
        testing::load(text, FILE)
    }

    /// The error of `BASE` with `from` replaced (once) by `to`.
    fn broken(from: &str, to: &str) -> (String, LoadError) {
        testing::broken(BASE, FILE, from, to)
    }

    /// Audit (fidelity, F3): Azure accepts service tag names in any case; nsgsim keeps the
    /// canonical spelling (built-in, sample and scenario-defined tags alike).
    #[test]
    fn service_tags_in_any_case_keep_their_canonical_spelling() {
        let text = BASE
            .replace(r#"source: "Internet", destination_asgs"#, r#"source: "internet", destination_asgs"#)
            .replace(r#"source: "Office", source_ports"#, r#"source: "OFFICE", source_ports"#);
        let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let nsg = t.nsg(t.nsg_by_name("web-nsg").expect("nsg"));
        assert_eq!(nsg.rule("allow-https").expect("rule").source, AddressSpec::Tag(ServiceTag::Internet));
        assert_eq!(
            nsg.rules
                .iter()
                .find(|r| r.source == AddressSpec::Tag(ServiceTag::Other("Office".into())))
                .map(|r| r.name.as_str()),
            Some("allow-office")
        );
        for (written, canonical) in [
            ("virtualnetwork", "VirtualNetwork"),
            ("AZURELOADBALANCER", "AzureLoadBalancer"),
            ("gatewaymanager", "GatewayManager"),
        ] {
            assert_eq!(t.service_tag_name(written).as_deref(), Some(canonical));
            let tag = ServiceTag::parse(written).expect("a tag");
            assert_eq!(t.service_tag_name(tag.name()).as_deref(), Some(canonical));
        }
        assert_eq!(t.service_tag_name("NoSuchTag"), None);
    }

    /// `subnets: (first VNet's, second VNet's)` makes a subnet peering; unknown names, an empty
    /// list, a name twice and a peered subnet in an address space the other VNet also holds are
    /// refused at the peering, saying what is valid; the overlap of the whole spaces is allowed.
    #[test]
    fn peering_subnets_make_a_subnet_peering() {
        let pair = r#"peerings: [("hub", "spoke")],"#;
        let with =
            |subnets: &str| format!(r#"peerings: [Peering(vnets: ("hub", "spoke"), subnets: {subnets})],"#);
        let text = BASE.replace(pair, &with(r#"(["web"], ["app"])"#));
        let t = load(&text).unwrap_or_else(|e| panic!("{e}")).topology;
        let (hub, spoke) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
        let web = t.subnet_by_name(hub, "web").expect("web");
        assert_eq!(t.peered_subnets(hub, spoke), Some(&[web][..]));
        assert!(!t.subnet_in_peering(t.subnet_by_name(hub, "db").expect("db"), spoke));
        assert!(!t.virtual_network_tag(spoke).contains("10.0.2.5".parse().expect("ip")));
        for (bad, field, says) in [
            (
                r#"(["web", "nope"], ["app"])"#,
                "peerings[0].subnets[0][1]",
                "vnet 'hub' has no subnet 'nope'; valid: web, db",
            ),
            (
                r#"(["web"], [])"#,
                "peerings[0].subnets[1]",
                "a subnet peering names at least one subnet of vnet 'spoke'",
            ),
            (
                r#"(["web", "web"], ["app"])"#,
                "peerings[0].subnets[0][1]",
                "subnet 'web' of vnet 'hub' is listed twice",
            ),
        ] {
            let (text, e) = broken(pair, &with(bad));
            let msg = e.to_string();
            assert!(msg.contains(field) && msg.contains(says), "{bad}: {msg}");
            assert_eq!(e.position.map(|(l, _)| l), Some(at(&text, "peerings:", 0).0), "{bad}: {e}");
        }
        // Overlapping spaces: refused for whole VNets, allowed for subnets outside the overlap,
        // refused for a peered subnet inside it.
        let overlap = BASE
            .replace(r#"address_space: ["10.5.0.0/16"]"#, r#"address_space: ["10.5.0.0/16", "172.16.0.0/16"]"#)
            .replace(r#"address_space: ["10.0.0.0/16"]"#, r#"address_space: ["10.0.0.0/16", "172.16.0.0/16"]"#)
            .replace(
                r#"Subnet(name: "db", prefix: "10.0.2.0/24"),"#,
                r#"Subnet(name: "db", prefix: "10.0.2.0/24"), Subnet(name: "shared", prefix: "172.16.1.0/24"),"#,
            );
        assert!(load(&overlap).is_err());
        let ok = overlap.replace(pair, &with(r#"(["web"], ["app"])"#));
        load(&ok).unwrap_or_else(|e| panic!("{e}"));
        let e = load(&overlap.replace(pair, &with(r#"(["shared"], ["app"])"#)))
            .expect_err("shared is in the overlap");
        assert!(
            e.to_string().contains("peerings[0].subnets") && e.to_string().contains("unique address spaces"),
            "{e}"
        );
    }

    /// `allow_virtual_network_access: (first side, second side)` reaches the topology, Azure's
    /// default (true) holds for a pair and for a `Peering` without the field, and the option
    /// `peering_access_blocks_all_traffic` is read.
    #[test]
    fn peering_sides_carry_allow_virtual_network_access() {
        let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let (hub, spoke) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
        assert!(t.allows_virtual_network_access(hub, spoke) && t.allows_virtual_network_access(spoke, hub));
        assert!(!t.peering_access_blocks_all_traffic());
        let text = BASE.replace(
            r#"peerings: [("hub", "spoke")],"#,
            r#"peerings: [Peering(vnets: ("hub", "spoke"), allow_virtual_network_access: (false, true))],
    options: Options(peering_access_blocks_all_traffic: true),"#,
        );
        let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        assert!(!t.allows_virtual_network_access(hub, spoke), "the first VNet's side");
        assert!(t.allows_virtual_network_access(spoke, hub), "the second VNet's side");
        assert!(t.peering_access_blocks_all_traffic());
        assert!(!t.virtual_network_tag(hub).contains("10.5.1.4".parse().expect("ip")));
        let text = BASE.replace(
            r#"peerings: [("hub", "spoke")],"#,
            r#"peerings: [Peering(vnets: ("spoke", "hub"), allow_virtual_network_access: (true, false))],"#,
        );
        let t = load(&text).unwrap_or_else(|e| panic!("{e}")).topology;
        assert!(!t.allows_virtual_network_access(hub, spoke), "sides follow the order of vnets");
        let text = BASE
            .replace(r#"peerings: [("hub", "spoke")],"#, r#"peerings: [Peering(vnets: ("hub", "spoke"))],"#);
        let t = load(&text).unwrap_or_else(|e| panic!("{e}")).topology;
        assert!(t.allows_virtual_network_access(hub, spoke) && t.allows_virtual_network_access(spoke, hub));
        // Anything but two booleans is refused, at the peering, saying what the field takes.
        for bad in ["false", "(false)", r#"(false, "no")"#, "(true, true, false)"] {
            let line = format!(
                r#"peerings: [Peering(vnets: ("hub", "spoke"), allow_virtual_network_access: {bad})],"#
            );
            let (text, e) = broken(r#"peerings: [("hub", "spoke")],"#, &line);
            assert_eq!(e.position.map(|(l, _)| l), Some(at(&text, "peerings:", 0).0), "{bad}: {e}");
            assert!(e.to_string().contains("allow_virtual_network_access: (bool, bool)"), "{bad}: {e}");
        }
    }

    /// A bad peering is reported at the value at fault, naming the field and what it takes; the
    /// pair form and `Peering(...)` are told apart without buffering the value.
    #[test]
    fn peering_errors_name_the_field_at_its_value() {
        let cases = [
            (
                r#"Peering(vnets: ("hub", "spoke"), allow_gateway_transit: "yes")"#,
                r#""yes""#,
                "peering field allow_gateway_transit: ",
            ),
            (
                r#"Peering(vnets: ("hub", "spoke"), gateway_transit: true)"#,
                "gateway_transit",
                "unknown peering field 'gateway_transit'; valid: vnets, allow_gateway_transit, use_remote_gateways, allow_virtual_network_access, subnets",
            ),
            (
                r#"Peering(vnets: ("hub", "spoke"), use_remote_gateways: true, use_remote_gateways: false)"#,
                "false)",
                "peering field use_remote_gateways is given twice",
            ),
            (r#"Peering(allow_gateway_transit: true)"#, ")]", "the peering has no vnets"),
            (
                r#"Peering(vnets: ("hub", "spoke"), subnets: ("web", ["app"]))"#,
                r#""web""#,
                "valid: subnets: (",
            ),
            (r#"("hub")"#, ")]", "but found one element instead"),
            (r#"("hub", "spoke", "shared")"#, r#""shared""#, "a peering: "),
        ];
        for (peering, at_value, message) in cases {
            let line = format!("peerings: [{peering}],");
            let (text, e) = broken(r#"peerings: [("hub", "spoke")],"#, &line);
            assert!(e.to_string().contains(message), "{peering}: {e}");
            let row = at(&text, &line, 0).0;
            let col = line.find(at_value).unwrap_or_else(|| panic!("no {at_value:?}"))
                + 1
                + text.lines().nth(row - 1).map_or(0, |l| l.len() - l.trim_start().len());
            // RON places the error where it started reading the value, the space before it included.
            let (erow, ecol) = e.position.unwrap_or_else(|| panic!("{peering}: no position in {e}"));
            assert_eq!(erow, row, "{peering}: {e}");
            assert!(
                (col - 1..=col + at_value.len()).contains(&ecol),
                "{peering}: error at column {ecol}, the value at {col}: {e}"
            );
        }
    }

    /// Azure allows one peering link between two VNets: a second entry for the same pair, in
    /// either order, is refused at the second entry.
    #[test]
    fn a_pair_peered_twice_is_refused() {
        for second in
            [r#"("hub", "spoke")"#, r#"Peering(vnets: ("spoke", "hub"), allow_gateway_transit: true)"#]
        {
            let line = format!(r#"peerings: [("hub", "spoke"), {second}],"#);
            let (text, e) = broken(r#"peerings: [("hub", "spoke")],"#, &line);
            assert!(
                e.to_string()
                    .contains("peerings[1]: vnets 'hub' and 'spoke' are already peered by peerings[0]")
                    || e.to_string()
                        .contains("peerings[1]: vnets 'spoke' and 'hub' are already peered by peerings[0]"),
                "{second}: {e}"
            );
            assert_eq!(e.position.map(|(l, _)| l), Some(at(&text, &line, 0).0), "{second}: {e}");
        }
    }

    #[test]
    fn loads_every_entity() {
        let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.name.as_str(), s.description.as_str()), ("base", "d"));
        assert_eq!(s.start.to_string(), "2025-01-06T09:00:00Z");
        let t = &s.topology;
        let hub = t.vnet_by_name("hub").expect("hub");
        assert_eq!(t.vnet(hub).on_premises, ["192.168.0.0/16".parse::<IpNet>().expect("net")]);
        assert_eq!(t.vnet(hub).peerings, [t.vnet_by_name("spoke").expect("spoke")]);
        let web = t.subnet_by_name(hub, "web").expect("web");
        assert_eq!(t.subnet(web).nsg, t.nsg_by_name("web-nsg"));
        assert!(t.has_service_tag("Office"));
        let nsg = t.nsg(t.nsg_by_name("web-nsg").expect("nsg"));
        let https = nsg.rule("allow-https").expect("rule");
        assert_eq!(
            (https.priority, https.direction, https.access),
            (Priority(100), Direction::Inbound, Access::Allow)
        );
        assert_eq!(https.source, AddressSpec::Tag(ServiceTag::Internet));
        assert_eq!(https.destination, AddressSpec::Asgs(vec![t.asg_by_name("web-tier").expect("asg")]));
        assert_eq!(https.destination_ports.to_string(), "443,8443");
        let office = nsg.rule("allow-office").expect("rule");
        assert_eq!(office.source, AddressSpec::Tag(ServiceTag::Other("Office".into())));
        assert_eq!(office.source_ports.to_string(), "1024-65535");
        let out = nsg.rule("deny-out").expect("rule");
        assert_eq!((out.protocol, out.description.as_str()), (RuleProtocol::Any, "no"));
        assert_eq!(describe_prefixes(&out.destination), ["198.51.100.0/24", "198.51.100.7/32"]);
        assert!(out.destination_ports.is_any());
        let pip = t.public_ip(t.public_ip_by_name("web-pip").expect("pip"));
        assert_eq!((pip.sku, pip.nic), (PublicIpSku::Standard, t.nic_by_name("vm-web-nic")));
        assert_eq!(t.public_ip(t.public_ip_by_name("old-pip").expect("pip")).sku, PublicIpSku::Basic);
        let vm = t.vm(t.vm_by_name("vm-web").expect("vm"));
        assert_eq!(vm.nics.len(), 2);
        assert!(t.nic(vm.nics[0]).primary && !t.nic(vm.nics[1]).primary);
        assert_eq!(t.nic(vm.nics[1]).nsg, t.nsg_by_name("web-nsg"));
        let app = t.vm(t.vm_by_name("vm-app").expect("vm"));
        assert_eq!(
            (app.os, app.subscription.as_str(), app.resource_group.as_str()),
            (Os::Windows, "sub1", "rg1")
        );
        assert_eq!(s.users.len(), 1);
        assert_eq!(s.users[0].source_ip, "203.0.113.10".parse::<IpAddr>().expect("ip"));
        assert!(s.warnings.is_empty());
    }

    fn describe_prefixes(spec: &AddressSpec) -> Vec<String> {
        match spec {
            AddressSpec::Prefixes(p) => p.iter().map(ToString::to_string).collect(),
            other => panic!("not prefixes: {other:?}"),
        }
    }

    #[test]
    fn loads_the_timeline_with_positions() {
        let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.steps.len(), 3);
        let offsets: Vec<String> = s.steps.iter().map(|st| st.at.to_string()).collect();
        assert_eq!(offsets, ["0s", "30m", "1h"]);
        assert_eq!(s.steps[0].note.as_deref(), Some("start"));
        assert!(matches!(&s.steps[1].action, Some(Action::AddRule { rule, .. }) if rule.name == "x"));
        assert!(matches!(
            &s.steps[2].expect,
            Some(Expectation::Flow { verdict: Access::Allow, rule: Some(r), nsg: Some(_), .. }) if r == "allow-https"
        ));
        let (line, col) = at(BASE, "(at: \"PT30M\"", 0);
        assert_eq!(
            (s.steps[1].line, s.steps[1].column, s.steps[1].path.as_str()),
            (Some(line), Some(col), "timeline[1]")
        );
        assert_eq!(
            s.instant_at(Duration::from_secs(60)).map(|i| i.to_string()),
            Ok("2025-01-06T09:01:00Z".into())
        );
        assert!(s.instant_at(Duration::from_secs(i64::MAX)).is_err());
    }

    #[test]
    fn resolves_endpoints_by_name() {
        let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
        let t = &s.topology;
        let source = |text: &str| s.endpoints(text, "vm-web").map(|e| e.0);
        let destination = |text: &str| s.endpoints("vm-web", text).map(|e| e.1);
        assert_eq!(source("vm-web"), Ok(Source::Nic(t.nic_by_name("vm-web-nic").expect("nic"))));
        assert_eq!(source("alice"), Ok(Source::Address("203.0.113.10".parse().expect("ip"))));
        assert_eq!(source("10.0.2.5"), Ok(Source::Nic(t.nic_by_name("vm-web-nic2").expect("nic"))));
        assert_eq!(
            destination("web-pip"),
            Ok(Destination::PublicIp(t.public_ip_by_name("web-pip").expect("pip")))
        );
        let e = destination("nobody").expect_err("unknown");
        assert!(e.message.contains("valid: VMs [vm-web, vm-app], users [alice]"), "{e}");
        assert!(s.bastion("b").expect_err("none").contains("(none declared)"));
    }

    /// Each meaning error: the field path, the position of the offending value, and the message.
    #[test]
    fn each_validation_error_names_its_field_and_position() {
        let cases: &[Case] = &[
            (
                r#"start: "2025-01-06T09:00:00Z""#,
                r#"start: "soon""#,
                "start",
                (r#""soon""#, 0),
                "is not an RFC 3339",
            ),
            (
                r#""Office": ["203.0.113.0/24"]"#,
                r#""Office": ["203.0.113.0/33"]"#,
                r#"service_tags["Office"][0]"#,
                (r#""203.0.113.0/33""#, 0),
                "IPv4 length",
            ),
            (
                r#""Office": ["#,
                r#""Internet": ["#,
                r#"service_tags["Internet"]"#,
                (r#""Internet""#, 0),
                "cannot be defined",
            ),
            (
                r#"address_space: ["10.5.0.0/16"]"#,
                r#"address_space: []"#,
                "vnets[1].address_space",
                ("[]", 0),
                "at least one address space",
            ),
            (
                r#"Vnet(name: "spoke""#,
                r#"Vnet(name: "hub""#,
                "vnets[1].name",
                (r#""hub""#, 1),
                "vnet name 'hub' is used twice",
            ),
            (
                r#"address_space: ["10.5.0.0/16"]"#,
                r#"address_space: ["127.0.0.0/16"]"#,
                "vnets[1].address_space",
                (r#""127.0.0.0/16""#, 0),
                "127.0.0.0/8 (loopback)",
            ),
            (
                r#"on_premises: ["192.168.0.0/16"]"#,
                r#"on_premises: ["10.0.128.0/17"]"#,
                "vnets[0].on_premises",
                (r#""10.0.128.0/17""#, 0),
                "overlap",
            ),
            (
                r#"Subnet(name: "db""#,
                r#"Subnet(name: "web""#,
                "vnets[0].subnets[1].name",
                (r#""web""#, 1),
                "subnet name 'hub/web' is used twice",
            ),
            (
                r#"prefix: "10.0.2.0/24""#,
                r#"prefix: "10.0.2.0/30""#,
                "vnets[0].subnets[1].prefix",
                (r#""10.0.2.0/30""#, 0),
                "smallest IPv4 subnet is /29",
            ),
            (
                r#"("hub", "spoke")"#,
                r#"("hub", "nowhere")"#,
                "peerings[0][1]",
                (r#""nowhere""#, 0),
                "unknown vnet 'nowhere'; valid: hub, spoke",
            ),
            (
                "    asgs: [\"web-tier\"],\n",
                "    asgs: [\"web-tier\", \"web-tier\"],\n",
                "asgs[1]",
                (r#""web-tier""#, 1),
                "is used twice",
            ),
            (
                r#"prefix: "10.0.1.0/24", nsg: "web-nsg")"#,
                r#"prefix: "10.0.1.0/24", nsg: "nope")"#,
                "vnets[0].subnets[0].nsg",
                (r#""nope""#, 0),
                "unknown nsg 'nope'; valid: web-nsg",
            ),
            (
                r#"priority: 110"#,
                r#"priority: 100"#,
                "nsgs[0].rules[1].priority",
                ("100", 1),
                "SecurityRuleConflict",
            ),
            (
                r#"name: "allow-office""#,
                r#"name: "ALLOW-HTTPS""#,
                "nsgs[0].rules[1].name",
                (r#""ALLOW-HTTPS""#, 0),
                "is used twice",
            ),
            (
                r#"priority: 110"#,
                r#"priority: -3"#,
                "nsgs[0].rules[1].priority",
                ("-3", 0),
                "priority -3 is outside 100..=4096",
            ),
            (
                r#"source: "Office""#,
                r#"source: "Offices""#,
                "nsgs[0].rules[1].source",
                (r#""Offices""#, 0),
                "unknown service tag 'Offices'",
            ),
            (
                r#"source: "Office""#,
                r#"source: "Office, 10.0.0.0/8""#,
                "nsgs[0].rules[1].source",
                ("Office", 1),
                "cannot be combined",
            ),
            (
                r#"destination_asgs: ["web-tier"]"#,
                r#"destination_asgs: ["nope"]"#,
                "nsgs[0].rules[0].destination_asgs[0]",
                (r#""nope""#, 0),
                "unknown application security group 'nope'",
            ),
            (
                r#"source_ports: "1024-65535""#,
                r#"source_ports: "1024-""#,
                "nsgs[0].rules[1].source_ports",
                ("\"1024-\"", 0),
                "not a number",
            ),
            (
                r#"destination_ports: "443,8443""#,
                r#"destination_ports: "443,*""#,
                "nsgs[0].rules[0].destination_ports",
                ("*\"", 0),
                "lists '*' with other entries",
            ),
            (
                r#"description: "no""#,
                &format!("description: \"{}\"", "x".repeat(141)),
                "nsgs[0].rules[2].description",
                ("\"xxx", 0),
                "141 characters",
            ),
            (
                r#"address: "20.40.0.11""#,
                r#"address: "20.40.0.10""#,
                "public_ips[1].address",
                (r#""20.40.0.10""#, 1),
                "public IP address name '20.40.0.10",
            ),
            (
                r#"private_ip: "10.0.2.5""#,
                r#"private_ip: "10.0.2.3""#,
                "vms[0].nics[1].private_ip",
                (r#""10.0.2.3""#, 0),
                "reserved by Azure",
            ),
            (
                r#"private_ip: "10.5.1.4""#,
                r#"private_ip: "10.0.1.4""#,
                "vms[1].nics[0].private_ip",
                (r#""10.0.1.4""#, 1),
                "outside subnet 'app'",
            ),
            (
                r#"Nic(name: "vm-app-nic""#,
                r#"Nic(name: "vm-web-nic""#,
                "vms[1].nics[0].name",
                (r#""vm-web-nic""#, 1),
                "nic name 'vm-web-nic' is used twice",
            ),
            (
                r#"subnet: "spoke/app""#,
                r#"subnet: "spoke""#,
                "vms[1].nics[0].subnet",
                (r#""spoke""#, 2),
                "write it as vnet/subnet",
            ),
            (
                r#"public_ip: "web-pip""#,
                r#"public_ip: "no-pip""#,
                "vms[0].nics[0].public_ip",
                (r#""no-pip""#, 0),
                "unknown public IP 'no-pip'",
            ),
            (
                r#"Vm(name: "vm-app""#,
                r#"Vm(name: "alice""#,
                "users[0].name",
                (r#""alice""#, 1),
                "'alice' names both a vm and a user",
            ),
            (
                r#"Vm(name: "vm-app""#,
                r#"Vm(name: "web-pip""#,
                "vms[1].name",
                (r#""web-pip""#, 2),
                "'web-pip' names both a public IP and a vm",
            ),
            (
                r#"roles: ["Owner"]"#,
                r#"roles: ["Owner", "Ownr"]"#,
                "users[0].roles[1]",
                (r#""Ownr""#, 0),
                "unknown role 'Ownr'",
            ),
            (
                r#"source_ip: "203.0.113.10""#,
                r#"source_ip: "203.0.113.0/24""#,
                "users[0].source_ip",
                (r#""203.0.113.0/24""#, 1),
                "is not an IP address",
            ),
            (
                r#"(at: "0", note: "start")"#,
                r#"(at: "0")"#,
                "timeline[0]",
                ("(at: \"0\")", 0),
                "a step needs an action, an expect or a note",
            ),
            (r#"at: "1h""#, r#"at: "1y""#, "timeline[2].at", (r#""1y""#, 0), "is not a duration"),
            (
                r#"port: 443"#,
                r#"port: 65536"#,
                "timeline[2].expect.port",
                ("65536", 0),
                "port 65536 is outside 0..=65535",
            ),
            (
                r#"verdict: Allow, nsg: "web-nsg""#,
                r#"verdict: Allow, nsg: "web""#,
                "timeline[2].expect.nsg",
                (r#""web""#, 1),
                "unknown nsg 'web'",
            ),
            (
                r#"priority: 200"#,
                r#"priority: 5000"#,
                "timeline[1].action.rule.priority",
                ("5000", 0),
                "priority 5000 is outside",
            ),
            (
                r#"AddRule(nsg: "web-nsg""#,
                r#"AddRule(nsg: "web-nsgg""#,
                "timeline[1].action.nsg",
                (r#""web-nsgg""#, 0),
                "unknown nsg",
            ),
        ];
        testing::assert_cases(BASE, FILE, cases);
    }

    #[test]
    fn syntax_errors_keep_the_parsers_position() {
        let (text, e) = broken("priority: 110,", "priority: 110");
        assert_eq!(e.field, None);
        assert_eq!(
            e.position,
            Some(at(
                &text,
                "direction: Inbound, access: Allow, protocol: Tcp,\n                 source: \"Office\"",
                0
            ))
        );
        let (_, e) = broken("Subnet(name: \"db\",", "Subnet(name: \"db\", colour: 1,");
        assert!(e.message.contains("`colour`") && e.message.contains("docs/scenario-format.md"), "{e}");
    }

    #[test]
    fn removing_a_default_rule_and_repeating_a_request_id_are_load_errors() {
        let steps = r#"(at: "0", note: "start"),
        (at: "1m", action: RemoveRule(nsg: "web-nsg", rule: "denyallinbound")),"#;
        let text = BASE.replacen(r#"(at: "0", note: "start"),"#, steps, 1);
        let e = load(&text).expect_err("default rule");
        assert_eq!(e.field.as_deref(), Some("timeline[1].action.rule"));
        assert!(e.message.contains("'DenyAllInBound' is one of the default rules"), "{e}");

        let steps = r#"(at: "0", action: RequestJit(id: "r", user: "alice", vm: "vm-web", ports: [22], duration: "1h")),
        (at: "1m", action: RequestJit(id: "r", user: "alice", vm: "vm-web", ports: [22], duration: "1h")),"#;
        let text = BASE.replacen(r#"(at: "0", note: "start"),"#, steps, 1);
        let e = load(&text).expect_err("repeated id");
        assert_eq!(e.field.as_deref(), Some("timeline[1].action.id"));
        assert_eq!(e.position, Some(at(&text, "\"r\"", 1)));
        assert!(e.message.contains("request id 'r' is already used by timeline[0]"), "{e}");
    }

    #[test]
    fn offsets_past_the_calendar_are_refused_with_the_last_valid_offset() {
        let (_, e) = broken(r#"at: "1h""#, r#"at: "9223372036854775807s""#);
        assert_eq!(e.field.as_deref(), Some("timeline[2].at"));
        assert!(e.message.contains("is past 9999-12-30T22:00:00Z"), "{e}");
        assert!(
            e.message.contains(&format!(
                "valid: an offset up to {}",
                Instant::MAX.since(Instant::parse("2025-01-06T09:00:00Z").expect("valid"))
            )),
            "{e}"
        );
    }

    #[test]
    fn ports_on_a_portless_protocol_are_a_warning() {
        let text = BASE.replacen(
            "access: Deny, protocol: Udp, destination_ports: \"53\"",
            "access: Deny, protocol: Icmp, destination_ports: \"53\"",
            1,
        );
        let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        let w = &s.warnings[0];
        assert_eq!(w.field.as_deref(), Some("timeline[1].action.rule.destination_ports"));
        assert_eq!(w.position, Some(at(&text, "\"53\"", 0)));
        assert!(w.message.contains("protocol Icmp has no ports") && w.message.contains("valid: '*'"), "{w}");
    }

    #[test]
    fn port_fields() {
        assert_eq!(ports("*").map(|p| p.is_any()), Ok(true));
        assert_eq!(ports(" 22 , 80-81 ").map(|p| p.to_string()), Ok("22,80-81".into()));
        assert!(ports("").is_err_and(|(_, m)| m.contains("is empty")));
        assert!(ports("22,").is_err_and(|(_, m)| m.contains("empty entry")));
        assert!(ports("*,22").is_err_and(|(v, m)| v == "*" && m.contains("'*' only on its own")));
        assert!(ports("22,70000").is_err_and(|(v, _)| v == "70000"));
        assert_eq!(in_range(100, 100u16, 4096), Some(100));
        assert_eq!(in_range(-1, 100u16, 4096), None);
        assert_eq!(in_range(i64::MAX, 0u16, u16::MAX), None);
    }
}

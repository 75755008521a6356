//! Converting a parsed scenario file into model, NSG and simulator types.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use crate::nsg::RuleRef;

use super::endpoint::End;
use super::locate::SourceMap;
use super::recover::LoadErrors;
use super::schema::{
    AccessSpec, ActionSpec, DirectionSpec, ExpectSpec, OsSpec, PeeringSpec, ProtocolSpec, RuleSpec,
    ScenarioFile, SkuSpec, StepSpec,
};
use super::{FieldPath, LoadError, TimelineError};
use crate::jit::{JitEngine, RoleBook};
use crate::model::{
    AsgId, Caveat, NicId, Os, PublicIpSku, SubnetId, Topology, TopologyError, User, VmId, VnetId,
};
use crate::net::{AddrSet, IpProtocol, PortRange, parse_prefix};
use crate::nsg::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule,
    ServiceTag, default_rules, validate_nsg,
};
use crate::path::FlowRequest;
use crate::sim::{Action, Attachment, Duration, Endpoints, Expectation, Instant, SimError, Step, World};

mod entry;
pub use entry::{
    LoadOptions, load_file, load_file_all, load_file_all_with, load_file_with, load_str, load_str_all,
    load_str_all_with, load_str_with,
};

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
    /// Where its NSGs, rules, VMs and subnets are written, and where an import read them.
    pub places: super::Places,
}

impl Scenario {
    /// Where the rule `rule` of NSG `nsg` (a user rule; any other kind has no place) is defined in what the scenario was imported from, else where the NSG is: the
    /// part's entry in the scenario's `origins` map, which every import writes, as
    /// `FILE:LINE:COLUMN PATH` (an ARM template's
    /// `azuredeploy.json:123:9 resources[2].properties.securityRules[0]`, a copy loop's iteration
    /// in its path: `resources[1](copyIndex=2)`), a Terraform place as its block's address
    /// (`plan.json:192:13 module.hub.azurerm_network_security_group.web`, see
    /// [`super::Place::defined_at`]). An older scenario's `origin` field is read into the same
    /// places by the loader.
    pub fn origin_of(&self, nsg: &str, rule: Option<&RuleRef>) -> Option<String> {
        let rule = rule.and_then(RuleRef::user_rule_name);
        let mapped = |part: super::Part<'_>| self.places.imported(&part).map(super::Place::defined_at);
        rule.and_then(|r| mapped(super::Part::Rule { nsg, rule: r }))
            .or_else(|| mapped(super::Part::Nsg(nsg)))
    }

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
    /// No such Bastion host: the error lists those there are.
    pub fn bastion(&self, name: &str) -> Result<crate::model::BastionId, TimelineError> {
        self.topology.bastion_by_name(name).ok_or_else(|| TimelineError::UnknownBastion {
            name: name.to_string(),
            declared: self.topology.bastion_ids().map(|b| self.topology.bastion(b).name.clone()).collect(),
        })
    }

    /// A step that could not be applied, as a diagnostic of this file:
    /// `file:line:col: timeline[3].action.rule: step at 6m: NSG 'web' has no rule 'x'`.
    pub fn step_error(&self, e: &SimError) -> LoadError {
        LoadError {
            file: self.file.clone(),
            position: e.position,
            field: Some(e.field.clone()),
            message: format!("step at {}: {}", e.at, e.fault),
        }
    }

    /// The instant `offset` after the start, if the calendar reaches it.
    ///
    /// # Errors
    /// The instant is past the calendar (the error says the last offset that is valid).
    pub fn instant_at(&self, offset: Duration) -> Result<Instant, TimelineError> {
        self.start.checked_plus(offset).ok_or(TimelineError::PastCalendar { start: self.start, offset })
    }

    /// Reads an offset of this scenario's timeline (`90m`, `PT1H`): a duration of 0 or more that
    /// stays within the calendar. The one rule for every offset a user gives, in a file or on
    /// the command line.
    ///
    /// # Errors
    /// Not a duration, or past the calendar (the error says the last offset it reaches).
    pub fn offset(&self, text: &str) -> Result<Duration, TimelineError> {
        let offset = Duration::parse(text)?;
        self.instant_at(offset)?;
        Ok(offset)
    }

    /// Checks that a JIT grant of `duration` from `offset` ends within the calendar, so that it
    /// is never cut short at the calendar's end.
    ///
    /// # Errors
    /// The grant would end past the calendar (the error says the longest duration that is
    /// valid at `offset`).
    pub fn grant_fits(&self, offset: Duration, duration: Duration) -> Result<(), TimelineError> {
        let from = self.instant_at(offset)?;
        match from.checked_plus(duration) {
            Some(_) => Ok(()),
            None => Err(TimelineError::GrantPastCalendar { duration, offset, from }),
        }
    }
}

pub(super) struct Loader<'a> {
    pub(super) path: &'a Path,
    /// What the command line adds (Microsoft's service-tag file).
    pub(super) options: &'a LoadOptions,
    pub(super) map: SourceMap<'a>,
    /// Warnings found while converting (conversion takes `&self`, hence the cell).
    pub(super) warnings: std::cell::RefCell<Vec<LoadError>>,
    /// The errors found so far (see `recover.rs`).
    pub(super) errors: std::cell::RefCell<Vec<LoadError>>,
    /// The names of items refused, whose references are not errors of their own.
    pub(super) skipped: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

/// A meaning error before it gets its position: the field path (which locates it in the file),
/// the offending value (pointed at when it is written inside that field), and the message.
pub(super) struct Fault {
    field: FieldPath,
    value: String,
    message: String,
    /// The fault only follows from an item already refused (a reference to a VNet whose own
    /// definition was wrong): it is not reported again.
    pub(super) dependent: bool,
}

pub(super) fn fault(
    field: impl Into<FieldPath>,
    value: impl Into<String>,
    message: impl Into<String>,
) -> Fault {
    Fault { field: field.into(), value: value.into(), message: message.into(), dependent: false }
}

/// A fault at `field` that follows from an item already refused.
pub(super) fn dependent(field: impl Into<FieldPath>) -> Fault {
    Fault { field: field.into(), value: String::new(), message: String::new(), dependent: true }
}

impl Loader<'_> {
    pub(super) fn error(&self, f: Fault) -> LoadError {
        LoadError {
            file: self.path.to_path_buf(),
            position: self.map.find(&f.field, &f.value),
            field: Some(f.field),
            message: f.message,
        }
    }

    /// The scenario, or every independent error found in it, in the order found.
    fn load(&self, file: ScenarioFile) -> Result<Scenario, LoadErrors> {
        let mut scenario = self.build(file);
        let mut errors = self.errors.take().into_iter();
        if let Some(first) = errors.next() {
            return Err(LoadErrors { first, more: errors.collect() });
        }
        scenario.warnings = self.warnings.take();
        Ok(scenario)
    }

    pub(super) fn warn(&self, f: Fault) {
        let warning = self.error(f);
        self.warnings.borrow_mut().push(warning);
    }

    /// Converts every top-level item of the file. An item that cannot be converted is recorded
    /// (see `recover.rs`) and left out, and conversion goes on with the next, so that `check`
    /// reports every independent error; the scenario is returned only when there was none.
    fn build(&self, file: ScenarioFile) -> Scenario {
        let start = self
            .item(&[], || {
                Instant::parse(&file.start).map_err(|m| fault(FieldPath::root("start"), &file.start, m))
            })
            .unwrap_or(Instant::MIN);
        let mut t = Topology::new();
        if let Some(tags) = self.service_tag_file(file.service_tags_file.as_deref()) {
            t.use_service_tag_file(tags);
        }

        for (tag, prefixes) in &file.service_tags {
            // An entry without members is a placeholder (what `import` writes for a tag it has
            // no members of): Microsoft's file fills it when it holds the tag.
            if prefixes.is_empty() && t.service_tag_file().is_some_and(|f| f.members.contains_key(tag)) {
                continue;
            }
            self.item(&[tag], || -> Result<(), Fault> {
            let field = FieldPath::root("service_tags").key(tag.as_str());
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
                .map(|(i, p)| parse_prefix(p).map_err(|e| fault(field.index(i), p, e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            t.define_service_tag(tag, AddrSet::from_nets(&nets));
            Ok(())
            });
        }

        for (vi, v) in file.vnets.iter().enumerate() {
            self.item(&[&v.name], || -> Result<(), Fault> {
                let field = FieldPath::root("vnets").index(vi);
                let spaces = v
                    .address_space
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        parse_prefix(s)
                            .map_err(|e| fault(field.field("address_space").index(i), s, e.to_string()))
                    })
                    .collect::<Result<Vec<IpNet>, _>>()?;
                if spaces.is_empty() {
                    return Err(fault(
                        field.field("address_space"),
                        &v.name,
                        "a VNet needs at least one address space",
                    ));
                }
                let vnet = t.add_vnet(&v.name, spaces).map_err(|e| match e {
                    TopologyError::DuplicateName { .. } => fault(field.field("name"), &v.name, e.to_string()),
                    TopologyError::ReservedAddressSpace { space, .. } => {
                        fault(field.field("address_space"), space.to_string(), e.to_string())
                    }
                    TopologyError::AddressSpaceOverlap { second, .. } => {
                        fault(field.field("address_space"), second.to_string(), e.to_string())
                    }
                    _ => fault(field.field("address_space"), "", e.to_string()),
                })?;
                let on_prem = v
                    .on_premises
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        parse_prefix(s)
                            .map_err(|e| fault(field.field("on_premises").index(i), s, e.to_string()))
                    })
                    .collect::<Result<Vec<IpNet>, _>>()?;
                t.connect_on_premises(vnet, on_prem).map_err(|e| {
                    let value = match &e {
                        TopologyError::AddressSpaceOverlap { second, .. } => second.to_string(),
                        _ => String::new(),
                    };
                    fault(field.field("on_premises"), value, e.to_string())
                })?;
                for (si, s) in v.subnets.iter().enumerate() {
                    let sfield = field.field("subnets").index(si);
                    let prefix = parse_prefix(&s.prefix)
                        .map_err(|e| fault(sfield.field("prefix"), &s.prefix, e.to_string()))?;
                    let subnet = t.add_subnet(vnet, &s.name, prefix).map_err(|e| match e {
                        TopologyError::DuplicateName { .. } => {
                            fault(sfield.field("name"), &s.name, e.to_string())
                        }
                        _ => fault(sfield.field("prefix"), &s.prefix, e.to_string()),
                    })?;
                    if let Some(enabled) = s.default_outbound_access {
                        t.set_subnet_default_outbound_access(subnet, enabled);
                    }
                }
                Ok(())
            });
        }

        // The VNet pairs peered so far (by id, as names are matched without case), with their entry.
        let mut peered_pairs: Vec<((VnetId, VnetId), usize)> = Vec::new();
        for (pi, p) in file.peerings.iter().enumerate() {
            self.item(&[], || -> Result<(), Fault> {
            let field = FieldPath::root("peerings").index(pi);
            let (a, b) = p.vnets();
            let (field_a, field_b) = match p {
                PeeringSpec::Pair(..) => (field.index(0), field.index(1)),
                PeeringSpec::Options(_) => (field.field("vnets").index(0), field.field("vnets").index(1)),
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
                        let sfield = field.field("subnets").index(i);
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
                                    sfield.index(k),
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
                                    sfield.index(k),
                                    name,
                                    format!("subnet '{name}' of vnet '{vname}' is listed twice"),
                                ));
                            }
                            ids[i].push(id);
                        }
                    }
                    t.peer_subnets(va, vb, &ids[0], &ids[1])
                        .map_err(|e| fault(field.field("subnets"), "", e.to_string()))?;
                }
            }
            let (a_access, b_access) = p.virtual_network_access();
            for (from, to, allow, i) in [(va, vb, a_access, 0), (vb, va, b_access, 1)] {
                t.set_peering_access(from, to, allow).map_err(|e| {
                    fault(
                        field.field("allow_virtual_network_access").index(i),
                        allow.to_string(),
                        e.to_string(),
                    )
                })?;
            }
            let (allow_gateway_transit, use_remote_gateways) = p.gateway_flags();
            if use_remote_gateways {
                if !allow_gateway_transit {
                    return Err(fault(
                        field.field("use_remote_gateways"),
                        "true",
                        format!(
                            "vnet '{b}' cannot use the gateway of vnet '{a}': its peering does not allow gateway transit; valid: allow_gateway_transit: true with use_remote_gateways: true"
                        ),
                    ));
                }
                t.use_remote_gateway(vb, va)
                    .map_err(|e| fault(field.field("use_remote_gateways"), "true", e.to_string()))?;
            }
            Ok(())
            });
        }

        for (ai, name) in file.asgs.iter().enumerate() {
            self.item(&[name], || {
                t.add_asg(name).map_err(|e| fault(FieldPath::root("asgs").index(ai), name, e.to_string()))
            });
        }

        // NSGs are added before their rules are converted so that rules may name ASGs; rules are
        // then checked together (duplicate priorities and names need the whole list).
        for (ni, n) in file.nsgs.iter().enumerate() {
            self.item(&[&n.name], || -> Result<(), Fault> {
                let mut rules = Vec::new();
                for (ri, r) in n.rules.iter().enumerate() {
                    rules.push(self.rule(
                        &t,
                        r,
                        &FieldPath::root("nsgs").index(ni).field("rules").index(ri),
                    )?);
                }
                let nsg = Nsg { name: n.name.clone(), rules };
                validate_nsg(&nsg).map_err(|e| self.nsg_fault(&e, ni, n))?;
                let id = t.add_nsg(nsg).map_err(|e| {
                    fault(FieldPath::root("nsgs").index(ni).field("name"), &n.name, e.to_string())
                })?;
                t.set_flush_connection(id, n.flush_connection);
                Ok(())
            });
        }

        for (vi, v) in file.vnets.iter().enumerate() {
            // A VNet or subnet refused above is not there: its association is not checked.
            let Some(vnet) = t.vnet_by_name(&v.name).filter(|_| !self.is_skipped(&v.name)) else { continue };
            for (si, s) in v.subnets.iter().enumerate() {
                let Some(subnet) = t.subnet_by_name(vnet, &s.name) else { continue };
                if let Some(nsg_name) = &s.nsg {
                    let field = FieldPath::root("vnets").index(vi).field("subnets").index(si).field("nsg");
                    self.item(&[], || -> Result<(), Fault> {
                        let nsg = self.nsg(&t, nsg_name, &field)?;
                        t.set_subnet_nsg(subnet, Some(nsg))
                            .map_err(|e| fault(&field, nsg_name, e.to_string()))
                    });
                }
            }
        }

        for (pi, p) in file.public_ips.iter().enumerate() {
            self.item(&[&p.name], || -> Result<(), Fault> {
                let field = FieldPath::root("public_ips").index(pi);
                let address: IpAddr = p
                    .address
                    .parse()
                    .map_err(|_| fault(field.field("address"), &p.address, not_an_ip(&p.address)))?;
                if let Some(special) = crate::net::non_public_range(address) {
                    return Err(fault(
                        field.field("address"),
                        &p.address,
                        format!(
                            "public IP '{}': {address} is a {} address ({}, {}); valid: a public, Internet-routable address such as 20.10.0.4 (Azure allocates public IPs from its public ranges)",
                            p.name,
                            if special.private { "private" } else { "non-public" },
                            special.range,
                            special.name,
                        ),
                    ));
                }
                let sku = match p.sku {
                    Some(SkuSpec::Basic) => PublicIpSku::Basic,
                    Some(SkuSpec::Standard) | None => PublicIpSku::Standard,
                };
                t.add_public_ip(&p.name, address, sku).map_err(|e| match e {
                    TopologyError::DuplicateName { kind: "public IP", .. } => {
                        fault(field.field("name"), &p.name, e.to_string())
                    }
                    _ => fault(field.field("address"), &p.address, e.to_string()),
                })?;
                Ok(())
            });
        }

        self.nat_gateways(&file, &mut t);
        self.network(&file, &mut t);
        self.admin(&file, &mut t);
        t.set_peering_access_blocks_all_traffic(file.options.peering_access_blocks_all_traffic);
        if file.options.firewall_dnat_legacy_network_rules {
            for fw in t.firewall_ids().collect::<Vec<_>>() {
                t.firewall_mut(fw).legacy_dnat = true;
            }
        }

        for (vi, v) in file.vms.iter().enumerate() {
            let mut names: Vec<&str> = vec![&v.name];
            names.extend(v.nics.iter().map(|n| n.name.as_str()));
            self.item(&names, || -> Result<(), Fault> {
                let field = FieldPath::root("vms").index(vi);
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
                    .map_err(|e| fault(field.field("name"), &v.name, e.to_string()))?;
                if v.nics.is_empty() {
                    return Err(fault(
                        field.field("nics"),
                        "",
                        format!("vm '{}' has no NIC; a VM needs at least one", v.name),
                    ));
                }
                for (ni, n) in v.nics.iter().enumerate() {
                    self.nic(&mut t, vm, n, &field.field("nics").index(ni))?;
                }
                Ok(())
            });
        }
        self.item(&[], || self.public_ips_not_private(&file, &t));
        // Load balancers after the VMs: their pools name NICs.
        self.load_balancers(&file.load_balancers, &mut t);
        self.nat_gateway_conflicts(&file, &t);
        // ASGs are bound to a VNet by their members, known only now.
        for (ni, n) in file.nsgs.iter().enumerate() {
            let Some(id) = t.nsg_by_name(&n.name) else { continue };
            for (ri, rule) in t.nsg(id).rules.iter().enumerate() {
                if let Some((side, asg, message)) = t.rule_asgs_vnet_conflict(rule) {
                    self.refuse_item(
                        fault(
                            FieldPath::root("nsgs")
                                .index(ni)
                                .field("rules")
                                .index(ri)
                                .field(format!("{side}_asgs")),
                            &asg,
                            message,
                        ),
                        &[],
                    );
                }
            }
        }

        let mut roles = RoleBook::default();
        for (name, role) in &file.roles {
            if role.actions.is_empty() {
                let f = fault(
                    FieldPath::root("roles").key(name.as_str()),
                    name,
                    format!("custom role '{name}' has no actions; valid: at least one action pattern"),
                );
                self.refuse_item(f, &[name]);
                continue;
            }
            roles.define_with_exclusions(name, role.actions.clone(), role.not_actions.clone());
        }
        let mut users = Vec::new();
        for (ui, u) in file.users.iter().enumerate() {
            self.item(&[&u.name], || -> Result<(), Fault> {
                for (ri, role) in u.roles.iter().enumerate() {
                    if self.is_skipped(role) {
                        return Err(dependent(FieldPath::root("users").index(ui).field("roles").index(ri)));
                    }
                    if !roles.has(role) {
                        let known: Vec<&str> = roles.names().collect();
                        return Err(fault(
                            FieldPath::root("users").index(ui).field("roles").index(ri),
                            role,
                            format!(
                                "unknown role '{role}'; valid: {}, or define it in roles",
                                known.join(", ")
                            ),
                        ));
                    }
                }
                let field = FieldPath::root("users").index(ui).field("source_ip");
                let source_ip: IpAddr =
                    u.source_ip.parse().map_err(|_| fault(&field, &u.source_ip, not_an_ip(&u.source_ip)))?;
                if users.iter().any(|x: &User| crate::name::same_name(&x.name, &u.name)) {
                    return Err(fault(
                        FieldPath::root("users").index(ui).field("name"),
                        &u.name,
                        format!("user name '{}' is used twice; names must be unique", u.name),
                    ));
                }
                users.push(User { name: u.name.clone(), roles: u.roles.clone(), source_ip });
                Ok(())
            });
        }

        self.item(&[], || self.unambiguous_names(&file));
        let caveats = self.item(&[], || self.caveats(&file.caveats, &t)).unwrap_or_default();
        let options = self.item(&[], || self.options(&file.options, &t)).unwrap_or_default();
        let scoped =
            self.item(&[], || self.scoped_policies(&file.jit_policies, &t, &roles)).unwrap_or_default();
        let mut places = super::Places::new(&file, &self.map, self.path);
        self.older_origins(&file, &mut places);
        let mut scenario = Scenario {
            file: self.path.to_path_buf(),
            name: file.name,
            description: file.description,
            start,
            topology: t,
            users,
            steps: Vec::with_capacity(file.timeline.len()),
            jit: JitEngine::new(options, roles, scoped),
            warnings: Vec::new(),
            caveats,
            places,
        };
        let mut request_ids: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (si, s) in file.timeline.iter().enumerate() {
            let Some(step) = self.item(&[], || -> Result<Step, Fault> {
                let step = self.step(&scenario, s, si)?;
                self.grant_in_calendar(&scenario, &step, &file.timeline, &request_ids, si)?;
                Ok(step)
            }) else {
                continue;
            };
            scenario.steps.push(step);
            if let Some(ActionSpec::RequestJit { id, .. } | ActionSpec::ConnectPageRequest { id, .. }) =
                s.action.as_deref()
                && let Some(first) = request_ids.insert(id, si)
            {
                self.refuse_item(fault(
                    FieldPath::root("timeline").index(si).field("action").field("id"),
                    id,
                    format!(
                        "request id '{id}' is already used by timeline[{first}]; valid: an id of its own for each RequestJit, which ApproveJit, DenyJit, RevokeJit and JitRequest refer to"
                    ),
                ), &[]);
            }
        }
        scenario
    }

    /// A grant starts when a request is granted (at the request, or at its approval) and must
    /// end within the calendar: a grant cut at the calendar's end would expire the instant it is
    /// granted. Refused at the request's duration.
    fn grant_in_calendar(
        &self,
        sc: &Scenario,
        step: &Step,
        timeline: &[StepSpec],
        request_ids: &std::collections::HashMap<&str, usize>,
        si: usize,
    ) -> Result<(), Fault> {
        let request_step = match step.action.as_deref() {
            Some(Action::RequestJit { .. }) => Some(si),
            Some(Action::ApproveJit { request, .. }) => request_ids.get(request.as_str()).copied(),
            _ => None,
        };
        let Some(ri) = request_step else { return Ok(()) };
        let Some(ActionSpec::RequestJit { duration, .. }) = timeline[ri].action.as_deref() else {
            return Ok(());
        };
        let request = if ri == si { Some(step) } else { sc.steps.get(ri) };
        let Some(Action::RequestJit { duration: length, .. }) = request.and_then(|s| s.action.as_deref())
        else {
            return Ok(());
        };
        sc.grant_fits(step.at, *length).map_err(|m| {
            fault(FieldPath::root("timeline").index(ri).field("action").field("duration"), duration, m)
        })
    }

    /// Flow endpoints are written by name, and names are found without case, so one name (in
    /// any case) must not mean two things. Of two writings of a name, the later in the file is
    /// reported, at its own field.
    fn unambiguous_names(&self, file: &ScenarioFile) -> Result<(), Fault> {
        let mut seen: std::collections::HashMap<String, (&str, &'static str, FieldPath)> =
            std::collections::HashMap::new();
        let users = file
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.name.as_str(), "user", FieldPath::root("users").index(i).field("name")));
        let vms = file
            .vms
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.as_str(), "vm", FieldPath::root("vms").index(i).field("name")));
        let nics = file.vms.iter().enumerate().flat_map(|(i, v)| {
            v.nics.iter().enumerate().map(move |(j, n)| {
                (n.name.as_str(), "nic", FieldPath::root("vms").index(i).field("nics").index(j).field("name"))
            })
        });
        let pips = file.public_ips.iter().enumerate().map(|(i, p)| {
            (p.name.as_str(), "public IP", FieldPath::root("public_ips").index(i).field("name"))
        });
        for (name, kind, field) in users.chain(vms).chain(nics).chain(pips) {
            if let Some((other_name, other, other_field)) =
                seen.insert(crate::name::name_key(name), (name, kind, field.clone()))
            {
                let ((first_name, first, _), (written, second, at)) =
                    if self.map.start(&other_field) <= self.map.start(&field) {
                        ((other_name, other, other_field), (name, kind, field))
                    } else {
                        ((name, kind, field), (other_name, other, other_field))
                    };
                let spelled = if first_name == written {
                    String::new()
                } else {
                    format!(" ('{first_name}': names are found without case)")
                };
                return Err(fault(
                    at,
                    written,
                    format!(
                        "'{written}' names both a {first}{spelled} and a {second}; flows refer to endpoints by name, so names of users, VMs, NICs and public IPs must be distinct"
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn vnet(
        &self,
        t: &Topology,
        name: &str,
        field: &FieldPath,
    ) -> Result<crate::model::VnetId, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        t.vnet_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.vnet_ids().map(|v| t.vnet(v).name.clone()).collect();
            fault(field, name, format!("unknown vnet '{name}'; valid: {}", names.join(", ")))
        })
    }

    pub(super) fn nsg(
        &self,
        t: &Topology,
        name: &str,
        field: &FieldPath,
    ) -> Result<crate::model::NsgId, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        t.nsg_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.nsg_ids().map(|n| t.nsg(n).name.clone()).collect();
            fault(field, name, format!("unknown nsg '{name}'; valid: {}", list_or_none(&names)))
        })
    }

    pub(super) fn subnet(&self, t: &Topology, path: &str, field: &FieldPath) -> Result<SubnetId, Fault> {
        let all = || -> Vec<String> {
            t.subnet_ids()
                .map(|s| format!("{}/{}", t.vnet(t.subnet(s).vnet).name, t.subnet(s).name))
                .collect()
        };
        if path.split_once('/').is_some_and(|(v, _)| self.is_skipped(v)) {
            return Err(dependent(field));
        }
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

    fn nic_ref(&self, t: &Topology, name: &str, field: &FieldPath) -> Result<NicId, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        t.nic_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.nic_ids().map(|n| t.nic(n).name.clone()).collect();
            fault(field, name, format!("unknown nic '{name}'; valid: {}", list_or_none(&names)))
        })
    }

    fn nic(
        &self,
        t: &mut Topology,
        vm: VmId,
        n: &super::schema::NicSpec,
        field: &FieldPath,
    ) -> Result<(), Fault> {
        let subnet = self.subnet(t, &n.subnet, &field.field("subnet"))?;
        let ip: IpAddr = n
            .private_ip
            .parse()
            .map_err(|_| fault(field.field("private_ip"), &n.private_ip, not_an_ip(&n.private_ip)))?;
        let nic = t.add_nic(&n.name, subnet, ip, Some(vm)).map_err(|e| match e {
            TopologyError::DuplicateName { .. } => fault(field.field("name"), &n.name, e.to_string()),
            TopologyError::ReservedSubnet { .. } => fault(field.field("subnet"), &n.subnet, e.to_string()),
            _ => fault(field.field("private_ip"), &n.private_ip, e.to_string()),
        })?;
        if let Some(nsg_name) = &n.nsg {
            let nsg = self.nsg(t, nsg_name, &field.field("nsg"))?;
            t.set_nic_nsg(nic, Some(nsg));
        }
        for (ai, asg_name) in n.asgs.iter().enumerate() {
            let at = field.field("asgs").index(ai);
            let asg = self.asg_ref(t, asg_name, &at)?;
            t.join_asg(nic, asg).map_err(|e| fault(&at, asg_name, e.to_string()))?;
        }
        if let Some(pip) = self.public_ip_ref(t, n.public_ip.as_deref(), field)? {
            t.associate_public_ip(nic, pip)
                .map_err(|e| fault(field.field("public_ip"), t.public_ip(pip).name.clone(), e.to_string()))?;
        }
        for (ci, c) in n.ip_configs.iter().enumerate() {
            self.ip_config(t, nic, c, &field.field("ip_configs").index(ci))?;
        }
        Ok(())
    }

    /// A NIC's secondary IP configuration, with its ASGs and public IP.
    fn ip_config(
        &self,
        t: &mut Topology,
        nic: NicId,
        c: &super::schema::IpConfigSpec,
        field: &FieldPath,
    ) -> Result<(), Fault> {
        let ip: IpAddr = c
            .private_ip
            .parse()
            .map_err(|_| fault(field.field("private_ip"), &c.private_ip, not_an_ip(&c.private_ip)))?;
        let config = t.add_ip_config(nic, &c.name, ip).map_err(|e| match e {
            TopologyError::DuplicateName { .. } => fault(field.field("name"), &c.name, e.to_string()),
            _ => fault(field.field("private_ip"), &c.private_ip, e.to_string()),
        })?;
        for (ai, asg_name) in c.asgs.iter().enumerate() {
            let at = field.field("asgs").index(ai);
            let asg = self.asg_ref(t, asg_name, &at)?;
            t.join_asg_config(nic, config, asg).map_err(|e| fault(&at, asg_name, e.to_string()))?;
        }
        if let Some(pip) = self.public_ip_ref(t, c.public_ip.as_deref(), field)? {
            t.associate_public_ip_config(nic, config, pip)
                .map_err(|e| fault(field.field("public_ip"), t.public_ip(pip).name.clone(), e.to_string()))?;
        }
        Ok(())
    }

    /// The ASG `name` at `field`.
    fn asg_ref(&self, t: &Topology, name: &str, field: &FieldPath) -> Result<AsgId, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        t.asg_by_name(name).ok_or_else(|| {
            fault(field, name, format!("unknown application security group '{name}'; declare it in asgs"))
        })
    }

    pub(super) fn step(&self, sc: &Scenario, s: &StepSpec, si: usize) -> Result<Step, Fault> {
        let field = FieldPath::root("timeline").index(si);
        let at = sc.offset(&s.at).map_err(|m| fault(field.field("at"), &s.at, m))?;
        let position = self.map.start(&field);
        if s.action.is_none()
            && s.expect.is_none()
            && s.note.is_none()
            && s.correction.is_none()
            && s.question.is_none()
        {
            return Err(fault(
                &field,
                "",
                "a step needs an action, an expect, a note, a correction or a question",
            ));
        }
        let action = match &s.action {
            Some(a) => Some(self.action(sc, a, &field.field("action"))?),
            None => None,
        };
        let expect = match &s.expect {
            Some(e) => Some(self.expectation(sc, e, &field.field("expect"))?),
            None => None,
        };
        let correction =
            s.correction.as_ref().map(|c| self.correction(c, &field.field("correction"))).transpose()?;
        let question = s.question.as_ref().map(|q| self.question(q, &field.field("question"))).transpose()?;
        Ok(Step {
            at,
            action: action.map(Box::new),
            expect: expect.map(Box::new),
            note: s.note.clone(),
            correction: correction.map(Box::new),
            question: question.map(Box::new),
            position,
            index: si,
        })
    }

    fn attachment(
        &self,
        t: &Topology,
        subnet: &Option<String>,
        nic: &Option<String>,
        field: &FieldPath,
    ) -> Result<Attachment, Fault> {
        match (subnet, nic) {
            (Some(s), None) => Ok(Attachment::Subnet(self.subnet(t, s, &field.field("subnet"))?)),
            (None, Some(n)) => Ok(Attachment::Nic(self.nic_ref(t, n, &field.field("nic"))?)),
            (Some(_), Some(n)) => Err(fault(field.field("nic"), n, "give either subnet or nic, not both")),
            (None, None) => Err(fault(field, "", "give a subnet (vnet/subnet) or a nic")),
        }
    }

    fn flow(
        &self,
        sc: &Scenario,
        spec: FlowSpec<'_>,
        field: &FieldPath,
    ) -> Result<(FlowRequest, Endpoints), Fault> {
        let FlowSpec { from, to, port, protocol, src_port, via } = spec;
        let via = via.map(|b| sc.bastion(b).map_err(|m| fault(field.field("via"), b, m))).transpose()?;
        let (source, destination) = sc.endpoints(from, to).map_err(|e| {
            let value = if e.end == End::From { from } else { to };
            fault(field.field(e.end.field()), value, e.to_string())
        })?;
        let protocol = match protocol.unwrap_or(ProtocolSpec::Tcp) {
            ProtocolSpec::Tcp => IpProtocol::TCP,
            ProtocolSpec::Udp => IpProtocol::UDP,
            ProtocolSpec::Icmp => IpProtocol::ICMP,
            ProtocolSpec::Esp => IpProtocol::ESP,
            ProtocolSpec::Ah => IpProtocol::AH,
            ProtocolSpec::Any => {
                return Err(fault(
                    field.field("protocol"),
                    "Any",
                    "a flow has one protocol: Tcp, Udp, Icmp, Esp or Ah",
                ));
            }
        };
        let port_in_range = |number: i64, name: &'static str| {
            in_range(number, 0u16, u16::MAX).ok_or_else(|| {
                fault(field.field(name), number.to_string(), format!("port {number} is outside 0..=65535"))
            })
        };
        let port = port_in_range(port, "port")?;
        let src_port = src_port.map(|p| port_in_range(p, "src_port")).transpose()?;
        let (src_port, dst_port) =
            if protocol.has_ports() { (src_port.unwrap_or(50000), port) } else { (0, 0) };
        Ok((
            FlowRequest { source, destination, protocol, src_port, dst_port, via },
            Endpoints { from: sc.endpoint_name(from), to: sc.endpoint_name(to) },
        ))
    }

    fn action(&self, sc: &Scenario, a: &ActionSpec, field: &FieldPath) -> Result<Action, Fault> {
        let t = &sc.topology;
        Ok(match a {
            ActionSpec::AttachNsg { nsg, subnet, nic } => {
                let target = self.attachment(t, subnet, nic, field)?;
                // Refused here too, so that `check` names the step before anything is replayed.
                if let crate::sim::Attachment::Subnet(s) = target {
                    t.check_subnet_nsg(s).map_err(|e| {
                        fault(field.field("subnet"), subnet.as_deref().unwrap_or_default(), e.to_string())
                    })?;
                }
                Action::AttachNsg { nsg: self.nsg(t, nsg, &field.field("nsg"))?, target }
            }
            ActionSpec::DetachNsg { subnet, nic } => {
                Action::DetachNsg { target: self.attachment(t, subnet, nic, field)? }
            }
            ActionSpec::AddRule { nsg, rule } => {
                let id = self.nsg(t, nsg, &field.field("nsg"))?;
                let rule = self.rule(t, rule, &field.field("rule"))?;
                crate::nsg::validate_rule(&rule).map_err(|e| {
                    let (sub, value) = rule_error_part(&e);
                    fault(field.field("rule").field(sub), value, e.to_string())
                })?;
                Action::AddRule { nsg: id, rule }
            }
            ActionSpec::RemoveRule { nsg, rule } => {
                let id = self.nsg(t, nsg, &field.field("nsg"))?;
                if let Some(default) = default_rules().into_iter().find(|d| d.name.eq_ignore_ascii_case(rule))
                {
                    return Err(fault(
                        field.field("rule"),
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
                let id = self.vnet(t, vnet, &field.field("vnet"))?;
                let remote_id = self.vnet(t, remote, &field.field("remote"))?;
                if !t.vnet(id).peerings.contains(&remote_id) {
                    let peers: Vec<String> =
                        t.vnet(id).peerings.iter().map(|p| t.vnet(*p).name.clone()).collect();
                    return Err(fault(
                        field.field("remote"),
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
            ActionSpec::DeployAdminConfiguration { configuration } => Action::DeployAdminConfiguration {
                configuration: self.admin_config(t, configuration, &field.field("configuration"))?,
            },
            ActionSpec::UndeployAdminConfiguration { configuration } => Action::UndeployAdminConfiguration {
                configuration: self.admin_config(t, configuration, &field.field("configuration"))?,
            },
            other => self.jit_action(sc, other, field)?,
        })
    }

    fn expectation(&self, sc: &Scenario, e: &ExpectSpec, field: &FieldPath) -> Result<Expectation, Fault> {
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
                    Some(n) => Some(self.nsg(t, n, &field.field("nsg"))?),
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
                bastion: sc.bastion(bastion).map_err(|m| fault(field.field("bastion"), bastion, m))?,
                missing: missing.clone(),
            },
            ExpectSpec::Rule { nsg, rule, exists } => Expectation::Rule {
                nsg: self.nsg(t, nsg, &field.field("nsg"))?,
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

/// `value` as a `T` when it lies in `lo..=hi`.
pub(super) fn in_range<T>(value: i64, lo: T, hi: T) -> Option<T>
where
    T: TryFrom<i64> + Into<i64> + Copy,
{
    T::try_from(value).ok().filter(|_| (lo.into()..=hi.into()).contains(&value))
}

/// The refusal of a text that should be an IP address, with what is valid.
pub(super) fn not_an_ip(text: &str) -> String {
    format!(
        "'{}' is not an IP address; valid: an IPv4 or IPv6 address such as 10.0.1.4",
        crate::text::shown(text)
    )
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() { "(none declared)".into() } else { names.join(", ") }
}

mod older_origins;
pub(super) mod rules;
use rules::{access, rule_error_part};

#[cfg(test)]
mod tests;

//! Converting a parsed scenario file into model, NSG and simulator types.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use super::LoadError;
use super::locate::Locator;
use super::schema::{
    AccessSpec, ActionSpec, DirectionSpec, ExpectSpec, OsSpec, ProtocolSpec, RuleSpec, ScenarioFile, SkuSpec,
    StepSpec,
};
use crate::jit::{JitEngine, RoleBook};
use crate::model::{NicId, Os, PublicIpSku, SubnetId, Topology, User, VmId};
use crate::net::{AddrSet, IpProtocol, PortRange, parse_prefix};
use crate::nsg::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule,
    ServiceTag, validate_nsg,
};
use crate::path::{Destination, FlowRequest, Source};
use crate::sim::{Action, Attachment, Duration, Endpoints, Expectation, Instant, Step, World};

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

    /// Resolves a flow source written as a user name, a VM name, a NIC name or an IP address.
    ///
    /// # Errors
    /// A message listing what would be valid.
    pub fn source(&self, text: &str) -> Result<Source, String> {
        if let Some(user) = self.users.iter().find(|u| u.name == text) {
            return Ok(match self.topology.nic_by_private_ip(user.source_ip) {
                Some(n) => Source::Nic(n),
                None => Source::Address(user.source_ip),
            });
        }
        if let Some(nic) = self.nic_of(text) {
            return Ok(Source::Nic(nic));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(match self.topology.nic_by_private_ip(ip) {
                Some(n) => Source::Nic(n),
                None => Source::Address(ip),
            });
        }
        Err(self.unknown_endpoint(text))
    }

    /// Resolves a flow destination written as a VM name, a NIC name, a public IP name or an IP.
    ///
    /// # Errors
    /// A message listing what would be valid.
    pub fn destination(&self, text: &str) -> Result<Destination, String> {
        if let Some(nic) = self.nic_of(text) {
            return Ok(Destination::Nic(nic));
        }
        if let Some(p) = self.topology.public_ip_by_name(text) {
            return Ok(Destination::PublicIp(p));
        }
        if let Some(user) = self.users.iter().find(|u| u.name == text) {
            return Ok(Destination::Address(user.source_ip));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Destination::Address(ip));
        }
        Err(self.unknown_endpoint(text))
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

    fn nic_of(&self, name: &str) -> Option<NicId> {
        match self.topology.vm_by_name(name) {
            Some(vm) => self.topology.primary_nic(vm),
            None => self.topology.nic_by_name(name),
        }
    }

    fn unknown_endpoint(&self, text: &str) -> String {
        let vms: Vec<String> = self.topology.vm_ids().map(|v| self.topology.vm(v).name.clone()).collect();
        let users: Vec<String> = self.users.iter().map(|u| u.name.clone()).collect();
        format!(
            "'{text}' is not a VM, NIC, public IP, user or IP address; valid: VMs [{}], users [{}], or an IP address",
            vms.join(", "),
            users.join(", ")
        )
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
    Loader { path, locator: Locator::new(text) }.load(file)
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
    pub(super) locator: Locator<'a>,
}

/// A meaning error before it gets its position: the field path, an anchor name to search after,
/// the offending value, and the message.
pub(super) struct Fault {
    field: String,
    anchor: Option<String>,
    value: String,
    message: String,
}

pub(super) fn fault(
    field: impl Into<String>,
    anchor: Option<&str>,
    value: impl Into<String>,
    message: impl Into<String>,
) -> Fault {
    Fault {
        field: field.into(),
        anchor: anchor.map(String::from),
        value: value.into(),
        message: message.into(),
    }
}

impl Loader<'_> {
    fn error(&self, f: Fault) -> LoadError {
        LoadError {
            file: self.path.to_path_buf(),
            position: self.locator.find(f.anchor.as_deref(), &f.value),
            field: Some(f.field),
            message: f.message,
        }
    }

    fn load(&self, file: ScenarioFile) -> Result<Scenario, LoadError> {
        self.build(file).map_err(|f| self.error(f))
    }

    fn build(&self, file: ScenarioFile) -> Result<Scenario, Fault> {
        let start = Instant::parse(&file.start).map_err(|m| fault("start", None, &file.start, m))?;
        let mut t = Topology::new();

        for (tag, prefixes) in &file.service_tags {
            let field = format!("service_tags[\"{tag}\"]");
            if ServiceTag::parse(tag).is_none_or(|t| !matches!(t, ServiceTag::Other(_))) {
                return Err(fault(
                    &field,
                    None,
                    tag,
                    format!(
                        "'{tag}' cannot be defined: VirtualNetwork, Internet and AzureLoadBalancer are computed from the topology, and a tag name uses letters, digits, '.', '_' or '-'"
                    ),
                ));
            }
            let nets = prefixes
                .iter()
                .map(|p| parse_prefix(p).map_err(|e| fault(&field, Some(tag), p, e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            t.define_service_tag(tag, AddrSet::from_nets(&nets));
        }

        for (vi, v) in file.vnets.iter().enumerate() {
            let field = format!("vnets[{vi}]");
            let spaces = v
                .address_space
                .iter()
                .map(|s| {
                    parse_prefix(s)
                        .map_err(|e| fault(format!("{field}.address_space"), Some(&v.name), s, e.to_string()))
                })
                .collect::<Result<Vec<IpNet>, _>>()?;
            if spaces.is_empty() {
                return Err(fault(
                    format!("{field}.address_space"),
                    None,
                    &v.name,
                    "a VNet needs at least one address space",
                ));
            }
            let vnet =
                t.add_vnet(&v.name, spaces).map_err(|e| fault(&field, None, &v.name, e.to_string()))?;
            let on_prem = v
                .on_premises
                .iter()
                .map(|s| {
                    parse_prefix(s)
                        .map_err(|e| fault(format!("{field}.on_premises"), Some(&v.name), s, e.to_string()))
                })
                .collect::<Result<Vec<IpNet>, _>>()?;
            t.connect_on_premises(vnet, on_prem)
                .map_err(|e| fault(format!("{field}.on_premises"), None, &v.name, e.to_string()))?;
            for (si, s) in v.subnets.iter().enumerate() {
                let sfield = format!("{field}.subnets[{si}]");
                let prefix = parse_prefix(&s.prefix).map_err(|e| {
                    fault(format!("{sfield}.prefix"), Some(&s.name), &s.prefix, e.to_string())
                })?;
                let subnet = t.add_subnet(vnet, &s.name, prefix).map_err(|e| {
                    fault(format!("{sfield}.prefix"), Some(&s.name), &s.prefix, e.to_string())
                })?;
                if let Some(enabled) = s.default_outbound_access {
                    t.set_subnet_default_outbound_access(subnet, enabled);
                }
            }
        }

        for (pi, p) in file.peerings.iter().enumerate() {
            let field = format!("peerings[{pi}]");
            let (a, b) = p.vnets();
            let va = self.vnet(&t, a, &field)?;
            let vb = self.vnet(&t, b, &field)?;
            t.peer(va, vb).map_err(|e| fault(&field, None, b, e.to_string()))?;
            let (allow_gateway_transit, use_remote_gateways) = p.gateway_flags();
            if use_remote_gateways {
                if !allow_gateway_transit {
                    return Err(fault(
                        format!("{field}.use_remote_gateways"),
                        None,
                        b,
                        format!(
                            "vnet '{b}' cannot use the gateway of vnet '{a}': its peering does not allow gateway transit; valid: allow_gateway_transit: true with use_remote_gateways: true"
                        ),
                    ));
                }
                t.use_remote_gateway(vb, va)
                    .map_err(|e| fault(format!("{field}.use_remote_gateways"), None, b, e.to_string()))?;
            }
        }

        for (ai, name) in file.asgs.iter().enumerate() {
            t.add_asg(name).map_err(|e| fault(format!("asgs[{ai}]"), None, name, e.to_string()))?;
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
            t.add_nsg(nsg).map_err(|e| fault(format!("nsgs[{ni}]"), None, &n.name, e.to_string()))?;
        }

        for (vi, v) in file.vnets.iter().enumerate() {
            let vnet = t.vnet_by_name(&v.name).expect("added above");
            for (si, s) in v.subnets.iter().enumerate() {
                if let Some(nsg_name) = &s.nsg {
                    let field = format!("vnets[{vi}].subnets[{si}].nsg");
                    let nsg = self.nsg(&t, nsg_name, &field, Some(&s.name))?;
                    // Azure disables subnet NSGs on AzureFirewallSubnet, with or without a
                    // firewall in it yet (Azure Firewall FAQ).
                    if s.name == crate::model::FIREWALL_SUBNET {
                        return Err(fault(
                            field,
                            Some(&s.name),
                            nsg_name,
                            "NSGs are not supported on AzureFirewallSubnet (Azure disables subnet-level NSGs there; the firewall has its own platform protection); remove the subnet's nsg",
                        ));
                    }
                    let subnet = t.subnet_by_name(vnet, &s.name).expect("added above");
                    t.set_subnet_nsg(subnet, Some(nsg));
                }
            }
        }

        for (pi, p) in file.public_ips.iter().enumerate() {
            let field = format!("public_ips[{pi}]");
            let address: IpAddr = p.address.parse().map_err(|_| {
                fault(
                    format!("{field}.address"),
                    Some(&p.name),
                    &p.address,
                    format!("'{}' is not an IP address", p.address),
                )
            })?;
            let sku = match p.sku {
                Some(SkuSpec::Basic) => PublicIpSku::Basic,
                Some(SkuSpec::Standard) | None => PublicIpSku::Standard,
            };
            t.add_public_ip(&p.name, address, sku)
                .map_err(|e| fault(&field, None, &p.name, e.to_string()))?;
        }

        self.network(&file, &mut t)?;
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
                .map_err(|e| fault(&field, None, &v.name, e.to_string()))?;
            if v.nics.is_empty() {
                return Err(fault(
                    format!("{field}.nics"),
                    None,
                    &v.name,
                    format!("vm '{}' has no NIC; a VM needs at least one", v.name),
                ));
            }
            for (ni, n) in v.nics.iter().enumerate() {
                self.nic(&mut t, vm, n, &format!("{field}.nics[{ni}]"))?;
            }
        }

        let mut roles = RoleBook::default();
        for (name, actions) in &file.roles {
            if actions.is_empty() {
                return Err(fault(
                    format!("roles[\"{name}\"]"),
                    None,
                    name,
                    format!("custom role '{name}' has no actions"),
                ));
            }
            roles.define(name, actions.clone());
        }
        let mut users = Vec::new();
        for (ui, u) in file.users.iter().enumerate() {
            for role in &u.roles {
                if !roles.has(role) {
                    let known: Vec<&str> = roles.names().collect();
                    return Err(fault(
                        format!("users[{ui}].roles"),
                        Some(&u.name),
                        role,
                        format!("unknown role '{role}'; valid: {}, or define it in roles", known.join(", ")),
                    ));
                }
            }
            let field = format!("users[{ui}].source_ip");
            let source_ip: IpAddr = u.source_ip.parse().map_err(|_| {
                fault(&field, Some(&u.name), &u.source_ip, format!("'{}' is not an IP address", u.source_ip))
            })?;
            if users.iter().any(|x: &User| x.name == u.name) {
                return Err(fault(
                    format!("users[{ui}]"),
                    None,
                    &u.name,
                    format!("user name '{}' is used twice", u.name),
                ));
            }
            users.push(User { name: u.name.clone(), roles: u.roles.clone(), source_ip });
        }

        self.unambiguous_names(&t, &users)?;
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
        };
        for (si, s) in file.timeline.iter().enumerate() {
            let step = self.step(&scenario, s, si)?;
            scenario.steps.push(step);
        }
        Ok(scenario)
    }

    /// Flow endpoints are written by name, so one name must not mean two things.
    fn unambiguous_names(&self, t: &Topology, users: &[User]) -> Result<(), Fault> {
        let mut seen: std::collections::HashMap<String, &'static str> = std::collections::HashMap::new();
        let names = users
            .iter()
            .map(|u| (u.name.clone(), "user"))
            .chain(t.vm_ids().map(|v| (t.vm(v).name.clone(), "vm")))
            .chain(t.nic_ids().map(|n| (t.nic(n).name.clone(), "nic")))
            .chain(t.public_ip_ids().map(|p| (t.public_ip(p).name.clone(), "public IP")));
        for (name, kind) in names {
            if let Some(other) = seen.insert(name.clone(), kind) {
                return Err(fault(
                    "names",
                    None,
                    &name,
                    format!(
                        "'{name}' names both a {other} and a {kind}; flows refer to endpoints by name, so names of users, VMs, NICs and public IPs must be distinct"
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn vnet(&self, t: &Topology, name: &str, field: &str) -> Result<crate::model::VnetId, Fault> {
        t.vnet_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.vnet_ids().map(|v| t.vnet(v).name.clone()).collect();
            fault(field, None, name, format!("unknown vnet '{name}'; valid: {}", names.join(", ")))
        })
    }

    pub(super) fn nsg(
        &self,
        t: &Topology,
        name: &str,
        field: &str,
        anchor: Option<&str>,
    ) -> Result<crate::model::NsgId, Fault> {
        t.nsg_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.nsg_ids().map(|n| t.nsg(n).name.clone()).collect();
            fault(field, anchor, name, format!("unknown nsg '{name}'; valid: {}", list_or_none(&names)))
        })
    }

    pub(super) fn subnet(
        &self,
        t: &Topology,
        path: &str,
        field: &str,
        anchor: Option<&str>,
    ) -> Result<SubnetId, Fault> {
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
                anchor,
                path,
                format!("unknown subnet '{path}'; write it as vnet/subnet, valid: {}", list_or_none(&all())),
            )
        })
    }

    fn nic_ref(&self, t: &Topology, name: &str, field: &str) -> Result<NicId, Fault> {
        t.nic_by_name(name).ok_or_else(|| {
            let names: Vec<String> = t.nic_ids().map(|n| t.nic(n).name.clone()).collect();
            fault(field, None, name, format!("unknown nic '{name}'; valid: {}", list_or_none(&names)))
        })
    }

    fn nic(&self, t: &mut Topology, vm: VmId, n: &super::schema::NicSpec, field: &str) -> Result<(), Fault> {
        let subnet = self.subnet(t, &n.subnet, &format!("{field}.subnet"), Some(&n.name))?;
        let ip: IpAddr = n.private_ip.parse().map_err(|_| {
            fault(
                format!("{field}.private_ip"),
                Some(&n.name),
                &n.private_ip,
                format!("'{}' is not an IP address", n.private_ip),
            )
        })?;
        let nic = t
            .add_nic(&n.name, subnet, ip, Some(vm))
            .map_err(|e| fault(format!("{field}.private_ip"), Some(&n.name), &n.private_ip, e.to_string()))?;
        if let Some(nsg_name) = &n.nsg {
            let nsg = self.nsg(t, nsg_name, &format!("{field}.nsg"), Some(&n.name))?;
            t.set_nic_nsg(nic, Some(nsg));
        }
        for asg_name in &n.asgs {
            let asg = t.asg_by_name(asg_name).ok_or_else(|| {
                fault(
                    format!("{field}.asgs"),
                    Some(&n.name),
                    asg_name,
                    format!("unknown application security group '{asg_name}'; declare it in asgs"),
                )
            })?;
            t.join_asg(nic, asg)
                .map_err(|e| fault(format!("{field}.asgs"), Some(&n.name), asg_name, e.to_string()))?;
        }
        if let Some(pip_name) = &n.public_ip {
            let pip = t.public_ip_by_name(pip_name).ok_or_else(|| {
                fault(
                    format!("{field}.public_ip"),
                    Some(&n.name),
                    pip_name,
                    format!("unknown public IP '{pip_name}'; declare it in public_ips"),
                )
            })?;
            t.associate_public_ip(nic, pip)
                .map_err(|e| fault(format!("{field}.public_ip"), Some(&n.name), pip_name, e.to_string()))?;
        }
        Ok(())
    }

    fn nsg_fault(&self, e: &crate::nsg::NsgError, ni: usize, n: &super::schema::NsgSpec) -> Fault {
        use crate::nsg::NsgError as E;
        let position_of = |name: &str| n.rules.iter().position(|r| r.name == name).unwrap_or(0);
        let positions_of = |name: &str| {
            n.rules.iter().enumerate().filter(|(_, r)| r.name == name).map(|(i, _)| i).collect::<Vec<_>>()
        };
        let (ri, sub, value) = match e {
            E::PriorityOutOfRange { rule, priority } => (position_of(rule), "priority", priority.to_string()),
            E::DuplicatePriority { second, priority, .. } => {
                (position_of(second), "priority", priority.to_string())
            }
            E::DuplicateName { name } => {
                (positions_of(name).get(1).copied().unwrap_or(0), "name", name.clone())
            }
            E::InvalidName { name, .. } => (position_of(name), "name", name.clone()),
            E::DescriptionTooLong { rule, .. } => (position_of(rule), "description", rule.clone()),
            E::TooManyEntries { rule, field, .. } | E::EmptyField { rule, field, .. } => {
                (position_of(rule), *field, rule.clone())
            }
            E::TooManyRules { .. } => (0, "rules", n.name.clone()),
        };
        let anchor = n.rules.get(ri).map(|r| r.name.as_str());
        fault(format!("nsgs[{ni}].rules[{ri}].{sub}"), anchor, value, e.to_string())
    }

    fn rule(&self, t: &Topology, r: &RuleSpec, field: &str) -> Result<SecurityRule, Fault> {
        let anchor = Some(r.name.as_str());
        let priority = u16::try_from(r.priority).unwrap_or(u16::MAX);
        if !(Priority::MIN_USER as u32..=Priority::MAX_USER as u32).contains(&r.priority) {
            return Err(fault(
                format!("{field}.priority"),
                anchor,
                r.priority.to_string(),
                format!("rule '{}': priority {} is outside 100..=4096", r.name, r.priority),
            ));
        }
        let source =
            self.address(t, r.source.as_deref(), &r.source_asgs, &format!("{field}.source"), anchor)?;
        let destination = self.address(
            t,
            r.destination.as_deref(),
            &r.destination_asgs,
            &format!("{field}.destination"),
            anchor,
        )?;
        let source_ports = ports(r.source_ports.as_deref().unwrap_or("*"))
            .map_err(|(v, m)| fault(format!("{field}.source_ports"), anchor, v, m))?;
        let destination_ports = ports(&r.destination_ports)
            .map_err(|(v, m)| fault(format!("{field}.destination_ports"), anchor, v, m))?;
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
        anchor: Option<&str>,
    ) -> Result<AddressSpec, Fault> {
        if !asgs.is_empty() {
            if let Some(text) = text {
                return Err(fault(
                    field,
                    anchor,
                    text,
                    format!(
                        "'{text}' cannot be combined with application security groups in one field; give either addresses/a tag or ASGs (Azure: *AddressPrefix and *ApplicationSecurityGroups are exclusive)"
                    ),
                ));
            }
            let ids = asgs
                .iter()
                .map(|a| {
                    t.asg_by_name(a).ok_or_else(|| {
                        fault(
                            format!("{field}_asgs"),
                            anchor,
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
            if !t.has_service_tag(tag.name()) {
                return Err(fault(
                    field,
                    anchor,
                    text,
                    format!(
                        "unknown service tag '{}'; valid: {}, or define it in service_tags",
                        tag.name(),
                        t.service_tag_names().join(", ")
                    ),
                ));
            }
            return Ok(AddressSpec::Tag(tag));
        }
        let mut nets = Vec::new();
        for p in parts {
            if p.is_empty() {
                return Err(fault(
                    field,
                    anchor,
                    text,
                    format!("'{text}' has an empty entry; write a comma-separated list of IPs or CIDRs"),
                ));
            }
            if ServiceTag::parse(p).is_some() && p.parse::<IpAddr>().is_err() {
                return Err(fault(
                    field,
                    anchor,
                    p,
                    format!(
                        "service tag '{p}' cannot be combined with other entries; a rule holds one tag, or a list of IPs/CIDRs"
                    ),
                ));
            }
            nets.push(parse_prefix(p).map_err(|e| fault(field, anchor, p, e.to_string()))?);
        }
        Ok(AddressSpec::Prefixes(nets))
    }

    fn step(&self, sc: &Scenario, s: &StepSpec, si: usize) -> Result<Step, Fault> {
        let field = format!("timeline[{si}]");
        let at = Duration::parse(&s.at).map_err(|m| fault(format!("{field}.at"), None, &s.at, m))?;
        let line = self.locator.step_line(si);
        if s.action.is_none() && s.expect.is_none() && s.note.is_none() {
            return Err(fault(&field, None, &s.at, "a step needs an action, an expect or a note"));
        }
        let action = match &s.action {
            Some(a) => Some(self.action(sc, a, &format!("{field}.action"))?),
            None => None,
        };
        let expect = match &s.expect {
            Some(e) => Some(self.expectation(sc, e, &format!("{field}.expect"))?),
            None => None,
        };
        Ok(Step { at, action, expect, note: s.note.clone(), line })
    }

    fn attachment(
        &self,
        t: &Topology,
        subnet: &Option<String>,
        nic: &Option<String>,
        field: &str,
    ) -> Result<Attachment, Fault> {
        match (subnet, nic) {
            (Some(s), None) => Ok(Attachment::Subnet(self.subnet(t, s, &format!("{field}.subnet"), None)?)),
            (None, Some(n)) => Ok(Attachment::Nic(self.nic_ref(t, n, &format!("{field}.nic"))?)),
            (Some(s), Some(_)) => Err(fault(field, None, s, "give either subnet or nic, not both")),
            (None, None) => Err(fault(field, None, "Nsg", "give a subnet (vnet/subnet) or a nic")),
        }
    }

    fn flow(
        &self,
        sc: &Scenario,
        spec: FlowSpec<'_>,
        field: &str,
    ) -> Result<(FlowRequest, Endpoints), Fault> {
        let FlowSpec { from, to, port, protocol, src_port, via } = spec;
        let via =
            via.map(|b| sc.bastion(b).map_err(|m| fault(format!("{field}.via"), None, b, m))).transpose()?;
        let source = sc.source(from).map_err(|m| fault(format!("{field}.from"), None, from, m))?;
        let destination = sc.destination(to).map_err(|m| fault(format!("{field}.to"), None, to, m))?;
        let protocol = match protocol.unwrap_or(ProtocolSpec::Tcp) {
            ProtocolSpec::Tcp => IpProtocol::TCP,
            ProtocolSpec::Udp => IpProtocol::UDP,
            ProtocolSpec::Icmp => IpProtocol::ICMP,
            ProtocolSpec::Esp => IpProtocol::ESP,
            ProtocolSpec::Ah => IpProtocol::AH,
            ProtocolSpec::Any => {
                return Err(fault(
                    format!("{field}.protocol"),
                    None,
                    "Any",
                    "a flow has one protocol: Tcp, Udp, Icmp, Esp or Ah",
                ));
            }
        };
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
                if let crate::sim::Attachment::Subnet(s) = target
                    && t.subnet(s).name == crate::model::FIREWALL_SUBNET
                {
                    return Err(fault(
                        format!("{field}.subnet"),
                        None,
                        subnet.as_deref().unwrap_or_default(),
                        "NSGs are not supported on AzureFirewallSubnet (Azure blocks the association); valid: another subnet or a NIC",
                    ));
                }
                Action::AttachNsg { nsg: self.nsg(t, nsg, &format!("{field}.nsg"), None)?, target }
            }
            ActionSpec::DetachNsg { subnet, nic } => {
                Action::DetachNsg { target: self.attachment(t, subnet, nic, field)? }
            }
            ActionSpec::AddRule { nsg, rule } => {
                let id = self.nsg(t, nsg, &format!("{field}.nsg"), None)?;
                let rule = self.rule(t, rule, &format!("{field}.rule"))?;
                crate::nsg::validate_rule(&rule)
                    .map_err(|e| fault(format!("{field}.rule"), None, &rule.name, e.to_string()))?;
                Action::AddRule { nsg: id, rule }
            }
            ActionSpec::RemoveRule { nsg, rule } => Action::RemoveRule {
                nsg: self.nsg(t, nsg, &format!("{field}.nsg"), None)?,
                name: rule.clone(),
            },
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
                    Some(n) => Some(self.nsg(t, n, &format!("{field}.nsg"), None)?),
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
                bastion: sc
                    .bastion(bastion)
                    .map_err(|m| fault(format!("{field}.bastion"), None, bastion, m))?,
                missing: missing.clone(),
            },
            ExpectSpec::Rule { nsg, rule, exists } => Expectation::Rule {
                nsg: self.nsg(t, nsg, &format!("{field}.nsg"), None)?,
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
    port: u16,
    protocol: Option<ProtocolSpec>,
    src_port: Option<u16>,
    via: Option<&'a str>,
}

fn access(a: AccessSpec) -> Access {
    match a {
        AccessSpec::Allow => Access::Allow,
        AccessSpec::Deny => Access::Deny,
    }
}

fn ports(text: &str) -> Result<PortSpec, (String, String)> {
    let ranges = text
        .split(',')
        .map(|p| p.trim().parse::<PortRange>().map_err(|e| (p.trim().to_string(), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PortSpec(ranges))
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() { "(none declared)".into() } else { names.join(", ") }
}

//! The typed inventory: each [`Resource`] the readers made, read into a typed record of its
//! kind, with every reference to another resource as a [`ResourceRef`] and where it is.
//!
//! One file per kind (Batfish's Azure representation has one class per resource): [`nsg`]
//! (network security groups and their rules), [`vnet`] (virtual networks, subnets, peerings),
//! [`nic`], [`public_ip`], [`asg`], [`vm`], [`bastion`], [`gateway`] (VPN gateways, local
//! network gateways, connections), [`route_table`] (route tables and routes), [`firewall`]
//! (Azure Firewalls, Firewall Policies and their rule collection groups, IP groups, with the
//! rule collections of both shapes in [`firewall_rules`]), [`load_balancer`] and [`jit`]. Each reads the body's values where they are and
//! checks them with the scenario loader's rules, so that a bad value is reported at its JSON
//! path and position. References are only recorded here; the builder resolves them across all
//! inputs.
//!
//! Bodies come evaluated: a value is a literal, or an unknown value an expression could not
//! make offline, which the helpers below turn into an error at the value, with the reason.

mod asg;
mod avnm;
mod bastion;
mod endpoint_names;
mod firewall;
mod firewall_rules;
mod gateway;
mod jit;
mod load_balancer;
mod nat_gateway;
mod nic;
mod nsg;
mod public_ip;
mod route_table;
mod stand_in;
mod vm;
mod vnet;

use std::collections::{BTreeMap, HashMap};

pub use avnm::AvnmRecs;
pub use bastion::BastionRec;
pub use firewall::{FirewallRec, GroupRec, IpGroupRec, PolicyRec};
pub use firewall_rules::{CollectionKind, CollectionRec, FwAddresses, FwRuleBody, FwRuleRec};
pub use gateway::{ConnectionRec, GatewayRec, LocalGatewayRec};
pub use jit::{JitGrantRec, JitRec};
pub use load_balancer::{FrontendRec, LbRec, NatRuleRec, PoolAddressRec, PoolRec};
pub use nat_gateway::{NatGatewayRec, PrefixRec};
pub use nic::{IpConfigRec, NicRec};
pub use nsg::{NsgRec, RuleRec};
pub use public_ip::PipRec;
pub use route_table::{NextHop, RouteRec, RouteTableRec};
pub use vm::VmRec;
pub use vnet::{PeeringRec, SubnetRec, VnetRec};

use super::ImportError;
use super::arm::{ResourceRef, key, parse_id};
use super::json::{Node, Object, Value};
use super::resource::{Kind, Resource};
use super::source::{Diagnostics, Src};
use super::summary::SkipReason;
use crate::scenario::schema::CaveatSpec;

type Res<T> = Result<T, ImportError>;

/// Properties every resource may carry that say nothing about traffic.
const META: &[&str] = &[
    "id",
    "name",
    "type",
    "etag",
    "location",
    "tags",
    "provisioningState",
    "resourceGuid",
    "resourceGroup",
    "apiVersion",
    "dependsOn",
    "comments",
    "zones",
    "kind",
    "extendedLocation",
    "systemData",
    "properties",
    "sku",
    "condition",
    "scope",
    "identity",
    "managedBy",
    "plan",
    "resources",
    "copy",
];

/// What happened to each resource the inventory was given, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Read; not (yet) known to be in the scenario.
    Read,
    /// In the scenario.
    Imported,
    /// Not in the scenario, and why.
    Skipped(SkipReason),
}

/// A child resource given apart from its parent (`parent/child`), to join it in the builder.
#[derive(Debug)]
pub struct Child<T> {
    /// The parent's names.
    pub parent: Vec<String>,
    /// The child's record.
    pub record: T,
    /// Where the child resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

impl<T> Child<T> {
    /// The record of child resource `r` (index `res`), whose first names are its parent's.
    fn of(r: &Resource, res: usize, record: T) -> Child<T> {
        let parent = r.names[..r.names.len().saturating_sub(1)].to_vec();
        Child { parent, record, src: r.src.clone(), res }
    }
}

/// Every resource of the input, by kind, and what the builder needs to resolve them.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Where everything is, and the warnings so far.
    pub diag: Diagnostics,
    /// Network security groups.
    pub nsgs: Vec<NsgRec>,
    /// Azure Virtual Network Manager's network groups and security admin configurations.
    pub avnm: AvnmRecs,
    /// Security rules given as resources of their own.
    pub child_rules: Vec<Child<RuleRec>>,
    /// Virtual networks.
    pub vnets: Vec<VnetRec>,
    /// Subnets given as resources of their own.
    pub child_subnets: Vec<Child<SubnetRec>>,
    /// Peerings given as resources of their own.
    pub child_peerings: Vec<Child<PeeringRec>>,
    /// Virtual network gateways.
    pub gateways: Vec<GatewayRec>,
    /// Local network gateways.
    pub local_gateways: Vec<LocalGatewayRec>,
    /// Gateway connections.
    pub connections: Vec<ConnectionRec>,
    /// Network interfaces.
    pub nics: Vec<NicRec>,
    /// Public IP addresses.
    pub pips: Vec<PipRec>,
    /// Application security groups: (name, resource index).
    pub asgs: Vec<(String, usize)>,
    /// Virtual machines.
    pub vms: Vec<VmRec>,
    /// Bastion hosts.
    pub bastions: Vec<BastionRec>,
    /// JIT policies, one record per VM.
    pub jit: Vec<JitRec>,
    /// Grants still open in the JIT policies' `requests`.
    pub jit_grants: Vec<JitGrantRec>,
    /// Route tables.
    pub route_tables: Vec<RouteTableRec>,
    /// Routes given as resources of their own.
    pub child_routes: Vec<Child<RouteRec>>,
    /// Azure Firewalls.
    pub firewalls: Vec<FirewallRec>,
    /// Firewall Policies.
    pub policies: Vec<PolicyRec>,
    /// Rule collection groups (always resources of their own, children of their policy).
    pub groups: Vec<Child<GroupRec>>,
    /// IP groups.
    pub ip_groups: Vec<IpGroupRec>,
    /// Load balancers.
    pub load_balancers: Vec<LbRec>,
    /// Backend pools given as resources of their own.
    pub lb_child_pools: Vec<Child<PoolRec>>,
    /// Inbound NAT rules given as resources of their own.
    pub lb_child_nat_rules: Vec<Child<NatRuleRec>>,
    /// NAT gateways.
    pub nat_gateways: Vec<NatGatewayRec>,
    /// Public IP prefixes.
    pub public_ip_prefixes: Vec<PrefixRec>,
    /// What the builder left out that can change traffic, as the scenario's caveats.
    pub caveats: Vec<CaveatSpec>,
    /// `--strict`: what would be a caveat is an error instead.
    pub strict: bool,
    /// Every resource defined: key → name.
    pub defined: HashMap<String, String>,
    /// Service tags nsgsim does not know, by lower-case name: (the first spelling, where).
    pub placeholder_tags: BTreeMap<String, (String, Src)>,
    /// What happened to each resource, by index.
    pub outcomes: Vec<Outcome>,
    /// The inputs that declare what a deployment makes (Terraform plans and states, ARM
    /// templates), by file index: a JIT policy read from another input (`az`/REST JSON) is in
    /// force in Azure while the NSGs are as these declare them.
    pub declared_files: Vec<usize>,
    /// (resource kind, property) → (first place, count), for one warning each.
    ignored: BTreeMap<(String, String), (Src, usize)>,
}

impl Inventory {
    /// An inventory that reports through `diag`.
    pub fn new(diag: Diagnostics) -> Inventory {
        Inventory { diag, ..Inventory::default() }
    }

    /// Reads every resource into its record.
    ///
    /// # Errors
    /// The first bad value, at its path.
    pub fn read_all(&mut self, resources: &[Resource]) -> Res<()> {
        self.outcomes = vec![Outcome::Read; resources.len()];
        for (res, resource) in resources.iter().enumerate() {
            self.read(res, resource)?;
        }
        self.separate_endpoint_names();
        self.report_ignored();
        Ok(())
    }

    /// Reads one resource into its record.
    fn read(&mut self, res: usize, r: &Resource) -> Res<()> {
        let (props, psrc) = r.properties();
        let names = r.names.as_slice();
        let Some(kind) = Kind::of(&r.kind) else { return Ok(()) };
        match kind {
            Kind::Nsg => self.nsg(res, names, props, &psrc, &r.src),
            Kind::SecurityRule => {
                let name_at = r.src.member(&r.body, "name");
                let rule = self.rule(names[1].clone(), &name_at, props, &psrc, &r.src)?;
                self.child_rules.push(Child::of(r, res, rule));
                Ok(())
            }
            Kind::Vnet => self.vnet(res, names, props, &psrc, &r.src),
            Kind::Subnet => {
                let subnet = self.subnet(names[1].clone(), props, &psrc)?;
                self.child_subnets.push(Child::of(r, res, subnet));
                Ok(())
            }
            Kind::Peering => {
                if let Some(peering) = self.peering(names[1].clone(), props, &psrc)? {
                    self.child_peerings.push(Child::of(r, res, peering));
                }
                Ok(())
            }
            Kind::Nic => self.nic(res, names, props, &psrc, &r.src),
            Kind::PublicIp => self.public_ip(res, r, props, &psrc),
            Kind::Asg => self.asg(res, names, &r.src),
            Kind::Vm => self.vm(res, names, &r.body, props, &psrc, &r.src),
            Kind::Bastion => self.bastion(res, r, props, &psrc),
            Kind::Gateway => self.gateway(res, names, props, &psrc, &r.src),
            Kind::LocalGateway => self.local_gateway(res, names, props, &psrc, &r.src),
            Kind::Connection => self.connection(res, names, props, &psrc, &r.src),
            Kind::JitPolicy => self.jit_policy(res, names, props, &psrc),
            Kind::RouteTable => self.route_table(res, names, props, &psrc, &r.src),
            Kind::Route => {
                let route = self.route(names[1].clone(), props, &psrc, res)?;
                self.child_routes.push(Child::of(r, res, route));
                Ok(())
            }
            Kind::Firewall => self.firewall(res, names, &r.body, props, &psrc, &r.src),
            Kind::FirewallPolicy => self.firewall_policy(res, names, props, &psrc, &r.src),
            Kind::RuleCollectionGroup => {
                let group = self.rule_collection_group(names[1].clone(), props, &psrc)?;
                self.groups.push(Child::of(r, res, group));
                Ok(())
            }
            Kind::IpGroup => self.ip_group(res, names, props, &psrc, &r.src),
            Kind::NetworkManager
            | Kind::NetworkGroup
            | Kind::StaticMember
            | Kind::AdminConfiguration
            | Kind::AdminRuleCollection
            | Kind::AdminRule => self.avnm(kind, res, names, props, &psrc, &r.src),
            Kind::LoadBalancer => self.load_balancer(res, r, props, &psrc),
            Kind::LbPool => self.lb_child_pool(r, res),
            Kind::LbNatRule => self.lb_child_nat_rule(r, res),
            Kind::NatGateway => self.nat_gateway(res, r, props, &psrc),
            Kind::PublicIpPrefix => self.public_ip_prefix(res, r, props, &psrc),
        }
    }

    /// Records `kind` `names` as defined; `false` (with a warning, and the resource marked a
    /// duplicate) when it already is.
    fn define(&mut self, kind: Kind, names: &[String], src: &Src, res: usize) -> bool {
        let k = key(kind.azure_type(), names);
        if self.defined.contains_key(&k) {
            self.diag.warn(
                src,
                format!(
                    "{} '{}' is defined more than once; the first definition is kept",
                    kind.label(),
                    names.join("/")
                ),
            );
            if let Some(o) = self.outcomes.get_mut(res) {
                *o = Outcome::Skipped(SkipReason::Duplicate);
            }
            return false;
        }
        self.defined.insert(k, names.last().cloned().unwrap_or_default());
        true
    }

    /// Notes every property of `m` that is neither metadata nor in `known` (any case), for one
    /// warning per (kind, property).
    fn check_props(&mut self, kind: &str, m: &Object, known: &[&str], src: &Src) {
        for (prop, node) in m.iter() {
            let listed = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(prop));
            if listed(META) || listed(known) {
                continue;
            }
            let entry = self
                .ignored
                .entry((kind.to_string(), prop.to_string()))
                .or_insert_with(|| (src.child(prop, node), 0));
            entry.1 += 1;
        }
    }

    fn report_ignored(&mut self) {
        for ((kind, prop), (src, count)) in std::mem::take(&mut self.ignored) {
            let times = if count > 1 { format!(" ({count} times)") } else { String::new() };
            self.diag.warn(&src, format!("property '{prop}' of {kind} is not modelled; ignored{times}"));
        }
    }

    /// The error for an unknown value at `src`: the expression and why it cannot be evaluated.
    fn unknown(&self, node: &Node, src: &Src) -> Option<ImportError> {
        match &node.value {
            Value::Unknown(u) => Some(self.diag.invalid(src, &u.expression, u.reason.to_string())),
            _ => None,
        }
    }

    /// A string field; `None` when absent or null. Numbers and booleans read as their text.
    fn string(&self, m: &Object, field: &str, src: &Src) -> Res<Option<String>> {
        let (node, at) = member(m, field, src);
        match node {
            None => Ok(None),
            Some(n) => self.text(n, &at),
        }
    }

    /// A value as text (see [`Inventory::string`]); `None` for null.
    fn text(&self, node: &Node, at: &Src) -> Res<Option<String>> {
        match &node.value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::Unknown(u) => Err(self.diag.invalid(at, &u.expression, u.reason.to_string())),
            _ => {
                Err(self.diag.invalid(at, &node.shown(), format!("expected a string, found {}", node.kind())))
            }
        }
    }

    /// The array at `field` of `m` and where it is: `None` when absent or null; an error for
    /// anything else, saying what was expected (a list of `what`), or why an expression could
    /// not make it.
    fn list<'n>(
        &self,
        m: &'n Object,
        field: &str,
        src: &Src,
        what: &str,
    ) -> Res<Option<(&'n Vec<Node>, Src)>> {
        let (node, at) = member(m, field, src);
        match node.map(|n| &n.value) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some((items, at))),
            Some(_) => {
                let node = node.expect("matched Some above");
                Err(self.unknown(node, &at).unwrap_or_else(|| {
                    self.diag.invalid(&at, &node.shown(), format!("expected a list of {what}"))
                }))
            }
        }
    }

    /// The array at `field` that must be there: as [`Inventory::list`], and when it is absent
    /// or null, an error at the object that lacks it saying `missing`.
    fn required_list<'n>(
        &self,
        m: &'n Object,
        field: &str,
        src: &Src,
        what: &str,
        missing: impl FnOnce() -> String,
    ) -> Res<(&'n Vec<Node>, Src)> {
        match self.list(m, field, src, what)? {
            Some(found) => Ok(found),
            None => Err(self.diag.invalid(&member(m, field, src).1, "", missing())),
        }
    }

    /// The properties of each entry of `ipConfigurations` (none when absent), with where each
    /// is: the loop every resource with IP configurations (firewall, gateway) reads them by.
    ///
    /// # Errors
    /// `ipConfigurations` is not a list, or an entry has no `properties` object.
    fn ip_configurations<'n>(&self, p: &'n Object, src: &Src) -> Res<Vec<(&'n Object, Src)>> {
        let Some((configs, csrc)) = self.list(p, "ipConfigurations", src, "IP configurations")? else {
            return Ok(Vec::new());
        };
        configs
            .iter()
            .enumerate()
            .map(|(i, config)| {
                let at = csrc.item(i, config);
                properties(config, &at).ok_or_else(|| {
                    self.diag.invalid(&at, &config.shown(), "expected an IP configuration object")
                })
            })
            .collect()
    }

    /// A list of strings at `field`, each with where it is; empty when absent. A single string
    /// reads as a list of one.
    fn strings(&self, m: &Object, field: &str, src: &Src) -> Res<Vec<(String, Src)>> {
        let (node, at) = member(m, field, src);
        let Some(node) = node else { return Ok(Vec::new()) };
        match &node.value {
            Value::Null => Ok(Vec::new()),
            Value::String(s) => Ok(vec![(s.clone(), at)]),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let item_at = at.item(i, item);
                    match &item.value {
                        Value::String(_) | Value::Number(_) | Value::Unknown(_) => {
                            if let Some(text) = self.text(item, &item_at)? {
                                out.push((text, item_at));
                            }
                        }
                        _ => {
                            return Err(self.diag.invalid(
                                &item_at,
                                &item.shown(),
                                format!("expected a string, found {}", item.kind()),
                            ));
                        }
                    }
                }
                Ok(out)
            }
            _ => Err(self
                .unknown(node, &at)
                .unwrap_or_else(|| self.diag.invalid(&at, &node.shown(), "expected a list of strings"))),
        }
    }

    /// The references `[{"id": …}, …]` at `field`, each with where it is; empty when absent.
    fn references(&self, m: &Object, field: &str, src: &Src, what: &str) -> Res<Vec<(ResourceRef, Src)>> {
        let mut out = Vec::new();
        if let Some((items, at)) = self.list(m, field, src, what)? {
            for (i, item) in items.iter().enumerate() {
                out.push(self.id(item, &at.item(i, item))?);
            }
        }
        Ok(out)
    }

    /// A reference `{"id": …}` at `field`; `None` when absent or null.
    fn reference(&self, m: &Object, field: &str, src: &Src) -> Res<Option<(ResourceRef, Src)>> {
        let (node, at) = member(m, field, src);
        match node {
            None => Ok(None),
            Some(n) if n.is_null() => Ok(None),
            Some(n) if n.as_object().is_some() => self.id(n, &at).map(Some),
            Some(n) => Err(self
                .unknown(n, &at)
                .unwrap_or_else(|| self.diag.invalid(&at, &n.shown(), "expected an object with an 'id'"))),
        }
    }

    /// The `id` of the reference object `node` at `src`.
    fn id(&self, node: &Node, src: &Src) -> Res<(ResourceRef, Src)> {
        let Some(obj) = node.as_object() else {
            return Err(self.unknown(node, src).unwrap_or_else(|| {
                self.diag.invalid(src, &node.shown(), "expected an object with an 'id'")
            }));
        };
        let (value, at) = member(obj, "id", src);
        let Some(value) = value else {
            return Err(self.diag.invalid(src, &node.shown(), "the reference has no 'id'"));
        };
        if let Some(e) = self.unknown(value, &at) {
            return Err(e);
        }
        let Some(text) = value.as_str() else {
            return Err(self.diag.invalid(
                &at,
                &value.shown(),
                format!("expected a resource id, found {}", value.kind()),
            ));
        };
        match parse_id(text) {
            Some(r) => Ok((r, at)),
            // A parameter given no value stands for a whole id here (the template takes the id
            // of a resource it does not declare): say which value is missing.
            None if text.strip_prefix(crate::import::arm::VISIBLE_PLACEHOLDER_PREFIX).is_some_and(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c))
            }) =>
            {
                let name = &text[crate::import::arm::VISIBLE_PLACEHOLDER_PREFIX.len()..];
                Err(self.diag.invalid(
                    &at,
                    text,
                    format!(
                        "parameter '{name}' has no value and stands for a whole resource id here (of a resource the input does not declare); pass it with --parameters FILE or --parameter {name}=/subscriptions/…/resourceGroups/…/providers/Microsoft.Network/<type>/<name>"
                    ),
                ))
            }
            None => Err(self.diag.invalid(
                &at,
                text,
                "not a resource id; valid: '/subscriptions/…/providers/Microsoft.Network/<type>/<name>' or \"[resourceId('Microsoft.Network/<type>', '<name>')]\"",
            )),
        }
    }

    /// A boolean property (`true`/`false`, or the strings); `None` when absent.
    fn flag(&self, m: &Object, field: &str, src: &Src, what: &str) -> Res<Option<bool>> {
        match self.string(m, field, src)? {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => {
                let (_, at) = member(m, field, src);
                Err(self.diag.invalid(&at, &v, format!("{what}: {field} must be true or false")))
            }
        }
    }

    /// A list of CIDR prefixes at `field`, each checked where it is.
    fn prefixes(&self, m: &Object, field: &str, src: &Src) -> Res<Vec<String>> {
        let mut out = Vec::new();
        for (prefix, at) in self.strings(m, field, src)? {
            crate::net::parse_prefix(&prefix).map_err(|e| self.diag.invalid(&at, &prefix, e.reason))?;
            out.push(prefix);
        }
        Ok(out)
    }
}

/// The member `field` of `m` (any case) and where it is: at its value, or at the object (`src`)
/// when it is missing.
fn member<'n>(m: &'n Object, field: &str, src: &Src) -> (Option<&'n Node>, Src) {
    match m.member(field) {
        Some((key, node)) => (Some(node), src.child(key, node)),
        None => (None, src.at(field)),
    }
}

/// The properties of the object `node` at `src` (its `properties` when it has them, else the
/// object itself, as `az` flattens them) and where they are.
fn properties<'n>(node: &'n Node, src: &Src) -> Option<(&'n Object, Src)> {
    let obj = node.as_object()?;
    match obj.member("properties") {
        Some((key, p)) if p.as_object().is_some() => p.as_object().map(|po| (po, src.child(key, p))),
        _ => Some((obj, src.clone())),
    }
}

//! The Terraform reader: `terraform show -json` output (a saved plan or a state) into the same
//! [`Resource`] records the ARM and `az` readers make, each keeping its Terraform address.
//!
//! Terraform and Azure describe the same resources in different shapes: `azurerm_subnet` with
//! `address_prefixes` is `Microsoft.Network/virtualNetworks/subnets` with
//! `properties.addressPrefixes`. The reader translates each instance of a type nsgsim imports
//! into Azure's shape ([`azurerm`]) and hands it to the one inventory, so that Terraform gets the
//! same checks and the same scenario as a template would. Every value keeps the position of the
//! Terraform value it comes from, and the reader records that value's own path, with the
//! instance's address in it (`resource_changes[3](module.hub.azurerm_subnet.web).change.after.
//! address_prefixes[0]`), so that a message names the block to edit.
//!
//! What a plan knows only after the apply (`after_unknown`: new ids, dynamic addresses) is
//! linked through the plan's `configuration` ([`config`]): `subnet_id = azurerm_subnet.web.id`
//! names the resource, whose Azure id the reader builds from its type and names. Terraform's
//! association resources (`azurerm_subnet_network_security_group_association`, …) are folded
//! into the resource they associate, as Azure stores them, and counted in the summary under
//! their own type with that resource's outcome. A resource the plan destroys is not in the
//! result and is counted as such; `azapi_resource` bodies are Azure's own shape and go through
//! the `az`/REST reader ([`azapi`]). Everything else is skipped by type, never silently: the
//! summary names it, with whether it can change traffic.
//!
//! Contract: nothing here panics; a value of the wrong kind is an [`ImportError`] at its
//! position, path and address; a reference that cannot be followed is a warning and a caveat.

mod attrs;
mod avnm;
mod azapi;
mod azurerm;
mod compute;
mod config;
mod firewall;
mod fold;
mod load_balancer;
mod nat_gateway;
mod network;
mod plan;
mod security;

use std::collections::{BTreeMap, HashMap, HashSet};

use self::attrs::{Attrs, reference};
use self::config::{Config, Seg, Target};
use self::plan::{Action, Instance};
use super::ImportError;
use super::arm::{key, parse_id};
use super::json::{Node, Value};
use super::json_position::{Position, file_position};
use super::resource::{Collected, Kind, Resource, Skipped};
use super::source::{Diagnostics, Src};
use super::summary::{SkipReason, relevance};
use crate::scenario::schema::{CaveatKindSpec, CaveatSpec};

type Res<T> = Result<T, ImportError>;

/// Whether `root` is Terraform's JSON: `terraform show -json` output (a plan or a state, with
/// its `format_version`) or a raw state file (`terraform.tfstate`).
pub fn is_terraform(root: &Node) -> bool {
    let Some(o) = root.as_object() else { return false };
    let has = |k: &str| o.contains_key(k);
    (has("format_version")
        && (has("terraform_version") || has("planned_values") || has("resource_changes") || has("values")))
        || (has("terraform_version") && has("version") && has("resources"))
}

/// Reads the Terraform document `root` of file `file` into `out`.
///
/// # Errors
/// A resource, change or value of the wrong shape, at its position, path and address.
pub fn read(root: &Node, file: usize, diag: &mut Diagnostics, out: &mut Collected) -> Res<()> {
    let instances = plan::instances(root, file, diag)?;
    let mut reader = Reader {
        file,
        config: Config::new(root),
        identities: Vec::new(),
        folds: HashMap::new(),
        ignored: BTreeMap::new(),
        dropped: HashSet::new(),
        notes: std::cell::RefCell::new(Vec::new()),
        instances,
        diag,
        out,
    };
    reader.run()
}

/// Who an instance is in Azure: its type and names (what a reference to it resolves by), and
/// its id.
#[derive(Clone, Debug)]
struct Identity {
    /// The Azure resource type.
    kind: &'static str,
    /// One name per type segment.
    names: Vec<String>,
    /// Its id: the literal one when known, else one built from the type, names and resource
    /// group.
    id: String,
}

/// Where a reference of an instance leads.
#[derive(Clone, Debug)]
enum Located {
    /// Another instance of the document (an inline subnet of a VNet: the VNet and the name).
    Instance(usize, Option<String>),
    /// A literal Azure id of something not in the document, at the value's position.
    Literal(String, Position),
    /// Only known after the apply, and the configuration does not say what it names: why.
    Unresolved(String),
    /// Not set.
    Absent,
}

/// What an association resource adds to the resource it associates.
#[derive(Clone, Debug)]
struct Fold {
    /// What it sets.
    what: fold::FoldKind,
    /// The Azure-shaped value: a reference `{"id": …}`, or a rule collection.
    node: Node,
    /// The association's Terraform type (for the summary) and address (for messages).
    kind: String,
    address: String,
    /// Where the association is.
    src: Src,
}

/// The reader's state over one document.
struct Reader<'a, 'd> {
    file: usize,
    config: Config<'a>,
    instances: Vec<Instance<'a>>,
    /// Each instance's identity, by index; `None` for types nsgsim does not translate.
    identities: Vec<Option<Identity>>,
    /// Associations folded into each (instance, inline subnet) they associate.
    folds: HashMap<(usize, Option<String>), Vec<Fold>>,
    /// (type, attribute) → (first place, count) of set attributes nsgsim does not read.
    ignored: BTreeMap<(String, String), (Src, usize)>,
    /// The instances skipped so far: a reference to one is not followed (the resource it names
    /// is not in the result), so that what refers to it is skipped or trimmed with a caveat
    /// rather than failing on a reference the inventory cannot resolve.
    dropped: HashSet<usize>,
    /// Warnings made while following references (which only read the reader), given to
    /// [`Diagnostics`] at the end.
    notes: std::cell::RefCell<Vec<(Src, String)>>,
    diag: &'d mut Diagnostics,
    out: &'d mut Collected,
}

impl<'a> Reader<'a, '_> {
    fn run(&mut self) -> Res<()> {
        self.alias_values();
        for i in 0..self.instances.len() {
            let identity = self.identity(i)?;
            self.identities.push(identity);
        }
        for i in 0..self.instances.len() {
            let inst = &self.instances[i];
            if inst.data || inst.action == Action::Read {
                continue;
            }
            if inst.action == Action::Delete {
                self.skip(i, SkipReason::Destroyed, "the plan destroys it; it is not in the result".into());
                continue;
            }
            if fold::is_association(&inst.kind) {
                self.fold(i)?;
            }
        }
        // What is referred to is translated before what refers to it, so that a reference to
        // a skipped resource is known as one.
        let mut order: Vec<usize> = (0..self.instances.len()).collect();
        order.sort_by_key(|&i| azurerm::rank(&self.instances[i].kind));
        for i in order {
            let inst = &self.instances[i];
            if inst.data
                || matches!(inst.action, Action::Read | Action::Delete)
                || fold::is_association(&inst.kind)
            {
                continue;
            }
            if inst.values.is_none() {
                let message = "the plan gives no values for it; skipped".to_string();
                self.skip(i, SkipReason::NotImported, message);
                continue;
            }
            if inst.kind == "azapi_resource" {
                self.azapi(i)?;
            } else if inst.kind == "azurerm_network_manager_deployment" {
                self.avnm_deployment(i)?;
            } else if azurerm::mapping(&inst.kind).is_some() {
                self.translate(i)?;
            } else {
                let reason = SkipReason::NotModelled(azurerm::relevance_of(&inst.kind));
                let message = format!("resource type '{}' is not imported: {reason}", inst.kind);
                self.skip(i, reason, message);
            }
        }
        self.unfolded();
        self.report_ignored();
        for (src, message) in self.notes.take() {
            self.diag.warn(&src, message);
        }
        Ok(())
    }

    /// Records the path in the document of every value of every instance, so that messages
    /// about the Azure-shaped values name the Terraform ones.
    fn alias_values(&mut self) {
        fn walk(diag: &mut Diagnostics, file: usize, node: &Node, path: &str) {
            diag.alias(file, node.position, path.to_string());
            match &node.value {
                Value::Object(o) => {
                    for (k, v) in o.iter() {
                        walk(diag, file, v, &format!("{path}.{k}"));
                    }
                }
                Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(diag, file, v, &format!("{path}[{i}]"));
                    }
                }
                _ => {}
            }
        }
        for inst in &self.instances {
            if let Some(values) = inst.values {
                walk(self.diag, self.file, values, &inst.src.path);
            }
        }
    }

    /// The attributes of instance `i` (its values beside `after_unknown`).
    fn attrs(&self, i: usize) -> Option<Attrs<'a>> {
        let inst = &self.instances[i];
        Some(Attrs { node: inst.values?, unknown: inst.unknown, src: inst.src.clone() })
    }

    /// The identity of instance `i`: from its literal `id` when the document knows it (state,
    /// an update), else from its names; `None` for a type nsgsim does not translate. A name only
    /// the apply knows, which no reference explains, is the instance's Terraform name, with a
    /// warning.
    fn identity(&mut self, i: usize) -> Res<Option<Identity>> {
        let inst = &self.instances[i];
        let Some(values) = inst.values else { return Ok(None) };
        let literal = values.get("id").and_then(Node::as_str).filter(|s| !s.is_empty());
        if inst.data {
            // A data source names an existing resource by its id.
            return Ok(literal.and_then(parse_id).and_then(|r| {
                let kind = Kind::of(&r.kind)?.azure_type();
                Some(Identity { kind, id: literal.unwrap_or_default().to_string(), names: r.names })
            }));
        }
        let Some(mapping) = azurerm::mapping(&inst.kind) else { return Ok(None) };
        if let Some(r) = literal.and_then(parse_id).filter(|r| r.kind.eq_ignore_ascii_case(mapping.arm)) {
            return Ok(Some(Identity {
                kind: mapping.arm,
                names: r.names,
                id: literal.unwrap_or_default().to_string(),
            }));
        }
        let attrs = Attrs { node: values, unknown: inst.unknown, src: inst.src.clone() };
        let mut names = Vec::new();
        for field in mapping.names {
            if let Some(parent) = field.strip_prefix("@@") {
                match self.parent_names(i, &attrs, parent, 0)? {
                    Some(parents) => names.extend(parents),
                    None => {
                        // The parent's names stand in for an unknown parent, one per level.
                        let levels = mapping.arm.split('/').count().saturating_sub(2).max(1);
                        let message = format!(
                            "{}: the parent '{parent}' names cannot be followed; the resource is named after its Terraform address",
                            inst.address
                        );
                        self.diag.warn(&attrs.src.member(values, parent), message);
                        names.extend(std::iter::repeat_n(inst.name.clone(), levels));
                    }
                }
                continue;
            }
            let name = match field.strip_prefix('@') {
                Some(parent) => self.parent_name(i, &attrs, parent)?,
                None => self.name_part(i, &attrs, field)?,
            };
            match name {
                Some(n) => names.push(n),
                None => {
                    let stand_in = match &inst.key {
                        Some(plan::Key::Index(n)) => format!("{}-{n}", inst.name),
                        Some(plan::Key::Name(k)) => format!("{}-{k}", inst.name),
                        None => inst.name.clone(),
                    };
                    let message = format!(
                        "{}: '{field}' is only known after the apply; the resource is named '{stand_in}' after its Terraform address",
                        inst.address
                    );
                    self.diag.warn(&attrs.src.member(values, field.trim_start_matches('@')), message);
                    names.push(stand_in);
                }
            }
        }
        let resource_group = attrs.text("resource_group_name", self.diag)?.map(|(s, _, _)| s);
        let id = built_id(mapping.arm, &names, resource_group.as_deref());
        Ok(Some(Identity { kind: mapping.arm, names, id }))
    }

    /// One name of instance `i`: the attribute `field`, or, when only the apply knows it, the
    /// name of the resource the configuration says it is (`virtual_network_name =
    /// azurerm_virtual_network.hub.name`).
    fn name_part(&self, i: usize, attrs: &Attrs<'_>, field: &str) -> Res<Option<String>> {
        if let Some((name, _, _)) = attrs.text(field, self.diag)? {
            return Ok(Some(name));
        }
        if !attrs.is_unknown(field) {
            return Ok(None);
        }
        let inst = &self.instances[i];
        let Some(expression) = self.config.expression(inst, &[Seg::Attr(field)]) else { return Ok(None) };
        Ok(self.config.targets(inst, expression).iter().find_map(|t| self.single_name(i, t)))
    }

    /// The name of the parent resource the reference `field` names (a rule collection group's
    /// firewall policy): from a literal id, or from the instance the configuration names.
    fn parent_name(&self, i: usize, attrs: &Attrs<'_>, field: &str) -> Res<Option<String>> {
        if let Some((text, _, at)) = attrs.text(field, self.diag)? {
            return match parse_id(&text) {
                Some(r) => Ok(Some(r.name().to_string())),
                None => Err(self.diag.invalid(&at, &text, format!("{field}: not an Azure resource id (valid: /subscriptions/…/resourceGroups/…/providers/<namespace>/<type>/<name>)"))),
            };
        }
        let inst = &self.instances[i];
        let Some(expression) = self.config.expression(inst, &[Seg::Attr(field)]) else { return Ok(None) };
        Ok(self.config.targets(inst, expression).iter().find_map(|t| self.single_name(i, t)))
    }

    /// Every name of the parent resource the reference `field` of instance `i` names, parent's
    /// parents first (`["nm", "ng"]` for a static member's `network_group_id`): from the id
    /// when the plan knows it, else from the configuration's reference to the parent, whose own
    /// names are found the same way (`depth` bounds the walk).
    fn parent_names(
        &self,
        i: usize,
        attrs: &Attrs<'_>,
        field: &str,
        depth: usize,
    ) -> Res<Option<Vec<String>>> {
        if let Some((text, _, at)) = attrs.text(field, self.diag)? {
            return match parse_id(&text) {
                Some(r) => Ok(Some(r.names)),
                None => Err(self.diag.invalid(&at, &text, format!("{field}: not an Azure resource id"))),
            };
        }
        if depth > 4 {
            return Ok(None);
        }
        let inst = &self.instances[i];
        let Some(expression) = self.config.expression(inst, &[Seg::Attr(field)]) else { return Ok(None) };
        for t in self.config.targets(inst, expression) {
            let [j] = self.find(&t)[..] else { continue };
            if j == i {
                continue;
            }
            let Some(mapping) = azurerm::mapping(&self.instances[j].kind) else { continue };
            let Some(parent) = self.attrs(j) else { continue };
            let mut names = Vec::new();
            for f in mapping.names {
                let part = match f.strip_prefix("@@") {
                    Some(up) => self.parent_names(j, &parent, up, depth + 1)?,
                    None => parent.text(f.trim_start_matches('@'), self.diag)?.map(|(s, _, _)| vec![s]),
                };
                match part {
                    Some(p) => names.extend(p),
                    None => return Ok(None),
                }
            }
            return Ok(Some(names));
        }
        Ok(None)
    }

    /// The `name` of the one instance `t` names (not `i` itself), when its values know it.
    fn single_name(&self, i: usize, t: &Target) -> Option<String> {
        let [j] = self.find(t)[..] else { return None };
        let name = self.instances.get(j).filter(|_| j != i)?.values?.get("name")?.as_str()?;
        (!name.is_empty()).then(|| name.to_string())
    }

    /// The instances a configuration target names: one, or every instance of the resource
    /// when the target picks none.
    fn find(&self, t: &Target) -> Vec<usize> {
        (0..self.instances.len())
            .filter(|&j| {
                let o = &self.instances[j];
                o.module == t.module
                    && o.data == t.data
                    && o.kind == t.kind
                    && o.name == t.name
                    && (t.key.is_none() || o.key == t.key)
            })
            .collect()
    }

    /// The instance (not a data source) whose identity is the resource `id` names, with the
    /// inline subnet when it is one of a VNet's.
    fn by_id(&self, id: &str) -> Option<(usize, Option<String>)> {
        let r = parse_id(id)?;
        let wanted = r.key();
        let managed = |j: &usize| !self.instances[*j].data;
        let identity = |j: usize| self.identities.get(j).and_then(Option::as_ref);
        if let Some(j) = (0..self.instances.len())
            .filter(managed)
            .find(|&j| identity(j).is_some_and(|x| key(x.kind, &x.names) == wanted))
        {
            return Some((j, None));
        }
        // An inline subnet of a VNet of the document.
        let [vnet, subnet] = r.names.as_slice() else { return None };
        if !r.kind.eq_ignore_ascii_case(azurerm::SUBNET) {
            return None;
        }
        let j = (0..self.instances.len()).filter(managed).find(|&j| {
            identity(j).is_some_and(|x| x.kind == azurerm::VNET && x.names[0].eq_ignore_ascii_case(vnet))
        })?;
        Some((j, Some(subnet.clone())))
    }

    /// Where the reference `name` of `attrs` (at `path` in instance `i`'s block) leads; when
    /// `expected` is not empty, an instance of another Azure type does not count.
    fn locate(
        &self,
        i: usize,
        attrs: &Attrs<'_>,
        name: &str,
        path: &[Seg<'_>],
        expected: &[&str],
    ) -> Res<Located> {
        if let Some((text, node, at)) = attrs.text(name, self.diag)? {
            let Some(r) = parse_id(&text) else {
                return Err(self.diag.invalid(&at, &text, format!("{name}: not an Azure resource id (valid: /subscriptions/…/resourceGroups/…/providers/Microsoft.Network/<type>/<name>)")));
            };
            if !expected.is_empty() && !expected.iter().any(|e| e.eq_ignore_ascii_case(&r.kind)) {
                return Err(self.diag.invalid(
                    &at,
                    &text,
                    format!("{name}: expected the id of a {}, found a {}", expected.join(" or "), r.kind),
                ));
            }
            return Ok(match self.by_id(&text) {
                Some((j, inline)) => Located::Instance(j, inline),
                None => Located::Literal(text, node.position),
            });
        }
        if !attrs.is_unknown(name) {
            return Ok(Located::Absent);
        }
        let inst = &self.instances[i];
        let Some(expression) = self.config.expression(inst, path) else {
            let why = if self.config.is_present() {
                format!(
                    "'{name}' is only known after the apply and the plan's configuration does not show what it refers to"
                )
            } else {
                format!("'{name}' is only known after the apply, and the plan has no configuration to follow")
            };
            return Ok(Located::Unresolved(why));
        };
        let mut found = Vec::new();
        for t in self.config.targets(inst, expression) {
            for j in self.find(&t) {
                let kind = self.identities.get(j).and_then(|x| x.as_ref()).map(|x| x.kind);
                if expected.is_empty() || kind.is_some_and(|k| expected.contains(&k)) {
                    found.push(j);
                }
            }
        }
        found.dedup();
        if found.is_empty()
            && expected == [azurerm::SUBNET]
            && let Some(located) = self.subnet_of_template(i, expression)
        {
            return Ok(located);
        }
        Ok(match found.as_slice() {
            [j] if self.instances[*j].data => match self.identities.get(*j).and_then(Option::as_ref) {
                Some(x) => Located::Literal(x.id.clone(), attrs.position()),
                None => Located::Unresolved(format!(
                    "'{name}' names data source {}, whose id is only known after the apply",
                    self.instances[*j].address
                )),
            },
            [j] => Located::Instance(*j, None),
            [] => Located::Unresolved(format!(
                "'{name}' is only known after the apply, and its expression ({}) names no {} of the plan",
                expression_text(expression),
                if expected.is_empty() { "resource".to_string() } else { expected.join(" or ") }
            )),
            many => Located::Unresolved(format!(
                "'{name}' is only known after the apply, and its expression ({}) names {} instances ({}); nsgsim cannot tell which",
                expression_text(expression),
                many.len(),
                many.iter().map(|&j| self.instances[j].address.as_str()).collect::<Vec<_>>().join(", ")
            )),
        })
    }

    /// A subnet id written as a template of a VNet's id and a subnet name
    /// (`"${azurerm_virtual_network.vnet.id}/subnets/${each.value.name}"`): the expression names
    /// one VNet of the plan and one `for_each` value the plan records, and no subnet. The JSON
    /// has the references, not the template, so this reading is a model choice, said in a
    /// warning.
    fn subnet_of_template(&self, i: usize, expression: &Node) -> Option<Located> {
        let inst = &self.instances[i];
        let vnets: Vec<usize> = self
            .config
            .targets(inst, expression)
            .iter()
            // `each.value` beside the VNet gives it the key of the association, which a VNet
            // without `for_each` does not have.
            .flat_map(|t| self.find(&Target { key: None, ..t.clone() }))
            .filter(|&j| self.instances[j].key.is_none())
            .filter(|&j| {
                self.identities.get(j).and_then(Option::as_ref).is_some_and(|x| x.kind == azurerm::VNET)
            })
            .collect();
        let [vnet] = vnets[..] else { return None };
        let refs: Vec<&str> = expression
            .get("references")
            .and_then(Node::as_array)
            .into_iter()
            .flatten()
            .filter_map(Node::as_str)
            .collect();
        let names: Vec<(&str, String)> =
            refs.iter().filter_map(|r| Some((*r, self.config.each_text(inst, r)?))).collect();
        let [(written, subnet)] = names.as_slice() else { return None };
        let vnet_id = &self.identities.get(vnet)?.as_ref()?.id;
        let (j, inline) = self.by_id(&format!("{vnet_id}/subnets/{subnet}"))?;
        let message = format!(
            "{}: read as the subnet '{subnet}' of {} (model choice: the expression names that VNet and {written} = '{subnet}', and the plan does not show how they are joined)",
            inst.address, self.instances[vnet].address
        );
        self.notes.borrow_mut().push((inst.src.clone(), message));
        Some(Located::Instance(j, inline))
    }

    /// The Azure reference `{"id": …}` that `name` of `attrs` makes, or why there is none
    /// (`Err(None)`: not set).
    fn reference(
        &self,
        i: usize,
        attrs: &Attrs<'_>,
        name: &str,
        path: &[Seg<'_>],
        expected: &[&str],
    ) -> Res<Result<Node, Option<String>>> {
        Ok(match self.locate(i, attrs, name, path, expected)? {
            Located::Instance(j, _) if self.dropped.contains(&j) => {
                let address = &self.instances[j].address;
                return Ok(Err(Some(format!(
                    "'{name}' names {address}, which is skipped (see its warning)"
                ))));
            }
            Located::Instance(j, inline) => {
                let id = match (self.identities.get(j).and_then(Option::as_ref), inline) {
                    (Some(x), Some(subnet)) => format!("{}/subnets/{subnet}", x.id),
                    (Some(x), None) => x.id.clone(),
                    (None, _) => {
                        return Ok(Err(Some(format!(
                            "'{name}' names {}, which nsgsim does not import",
                            self.instances[j].address
                        ))));
                    }
                };
                let at = attrs.value(name).map_or(attrs.position(), |(n, _)| n.position);
                Ok(reference(at, &id))
            }
            Located::Literal(id, at) => Ok(reference(at, &id)),
            Located::Unresolved(why) => Err(Some(why)),
            Located::Absent => Err(None),
        })
    }

    /// The references a list attribute makes (`network_interface_ids`), in order, and why each
    /// one that cannot be followed is left out (it names a skipped resource, or only the apply
    /// knows it and the configuration does not say what it names).
    fn references(
        &self,
        i: usize,
        attrs: &Attrs<'_>,
        name: &str,
        path: &[Seg<'_>],
        expected: &[&str],
    ) -> Res<(Vec<Node>, Vec<String>)> {
        let (mut out, mut missing) = (Vec::new(), Vec::new());
        let skipped = |j: usize| {
            format!("'{name}' names {}, which is skipped (see its warning)", self.instances[j].address)
        };
        if !attrs.has_unknown(name) {
            for (text, node, at) in attrs.texts(name, self.diag)? {
                let Some(r) = parse_id(&text) else {
                    return Err(self.diag.invalid(&at, &text, format!("{name}: not an Azure resource id (valid: /subscriptions/…/resourceGroups/…/providers/<namespace>/<type>/<name>)")));
                };
                if !expected.is_empty() && !expected.iter().any(|e| e.eq_ignore_ascii_case(&r.kind)) {
                    return Err(self.diag.invalid(
                        &at,
                        &text,
                        format!("{name}: expected the id of a {}, found a {}", expected.join(" or "), r.kind),
                    ));
                }
                match self.by_id(&text) {
                    Some((j, _)) if self.dropped.contains(&j) => missing.push(skipped(j)),
                    _ => out.push(reference(node.position, &text)),
                }
            }
            return Ok((out, missing));
        }
        let inst = &self.instances[i];
        let Some(expression) = self.config.expression(inst, path) else {
            missing.push(format!("'{name}' is only known after the apply and the plan's configuration does not show what it refers to"));
            return Ok((out, missing));
        };
        for t in self.config.targets(inst, expression) {
            let mut found = self.find(&t);
            found.sort_by_key(|&j| {
                self.instances[j].key.as_ref().map(|k| match k {
                    plan::Key::Index(n) => (*n, String::new()),
                    plan::Key::Name(s) => (0, s.clone()),
                })
            });
            for j in found {
                match self.identities.get(j).and_then(Option::as_ref) {
                    Some(_) if self.dropped.contains(&j) => missing.push(skipped(j)),
                    Some(x) if expected.is_empty() || expected.contains(&x.kind) => {
                        out.push(reference(attrs.position(), &x.id))
                    }
                    _ => {}
                }
            }
        }
        if out.is_empty() && missing.is_empty() {
            missing.push(format!(
                "'{name}' is only known after the apply, and its expression ({}) names no {} of the plan",
                expression_text(expression),
                expected.join(" or ")
            ));
        }
        Ok((out, missing))
    }

    /// Hands instance `i`, translated to Azure's `kind` with this body, to the inventory (or
    /// skips it when nsgsim does not model `kind`), counted under its Terraform type and the
    /// types of the associations folded into it.
    fn emit(&mut self, i: usize, kind: &'static str, body: Node) {
        let inst = &self.instances[i];
        let folded: Vec<String> = self
            .folds
            .iter()
            .filter(|((j, _), _)| *j == i)
            .flat_map(|(_, f)| f.iter().map(|f| f.kind.clone()))
            .collect();
        if Kind::of(kind).is_none() {
            let reason = SkipReason::NotModelled(relevance(kind));
            let message = format!("resource type '{}' ({kind}) is not imported: {reason}", inst.kind);
            self.skip(i, reason, message);
            for f in self
                .folds
                .iter()
                .filter(|((j, _), _)| *j == i)
                .flat_map(|(_, f)| f.iter())
                .cloned()
                .collect::<Vec<_>>()
            {
                self.out.skipped.push(Skipped { kind: f.kind, name: f.address, src: f.src, reason });
            }
            self.folds.retain(|(j, _), _| *j != i);
            return;
        }
        let names =
            self.identities.get(i).and_then(Option::as_ref).map(|x| x.names.clone()).unwrap_or_default();
        let mut kinds = vec![inst.kind.clone()];
        kinds.extend(folded);
        let index = self.out.resources.len();
        self.out.resources.push(Resource { kind: kind.to_string(), names, body, src: inst.src.clone() });
        self.out.counted_as.insert(index, kinds);
        self.folds.retain(|(j, _), _| *j != i);
    }

    /// Records instance `i` as skipped, with a warning.
    fn skip(&mut self, i: usize, reason: SkipReason, message: String) {
        self.dropped.insert(i);
        let inst = &self.instances[i];
        self.diag.warn(&inst.src, message);
        self.out.skipped.push(Skipped {
            kind: inst.kind.clone(),
            name: inst.address.clone(),
            src: inst.src.clone(),
            reason,
        });
    }

    /// Records a caveat about `address` at `src`.
    fn caveat(&mut self, kind: CaveatKindSpec, address: &str, src: &Src, reason: String) {
        let source = file_position(self.diag.file(src.file), src.position);
        self.out.caveats.push(CaveatSpec::new(kind, address, source, reason));
    }

    /// Notes every set attribute of `attrs` (of an instance of Terraform type `kind`) that is
    /// neither read (`read`) nor known to be harmless to traffic, for one warning each.
    fn note_unread(&mut self, kind: &str, attrs: &Attrs<'_>, read: &[&str], harmless: &[&str]) {
        for (name, node) in attrs.members() {
            if read.contains(&name)
                || harmless.contains(&name)
                || azurerm::HARMLESS.contains(&name)
                || is_unset(node)
            {
                continue;
            }
            let entry = self
                .ignored
                .entry((kind.to_string(), name.to_string()))
                .or_insert_with(|| (attrs.src.member(attrs.node, name), 0));
            entry.1 += 1;
        }
    }

    fn report_ignored(&mut self) {
        for ((kind, name), (src, count)) in std::mem::take(&mut self.ignored) {
            let times = if count > 1 { format!(" ({count} times)") } else { String::new() };
            self.diag.warn(&src, format!("attribute '{name}' of {kind} is not modelled; ignored{times}"));
        }
    }

    /// The associations whose resource was never emitted (it is not in the document's
    /// translated types): skipped, with a warning each.
    fn unfolded(&mut self) {
        for ((j, _), folds) in std::mem::take(&mut self.folds) {
            for f in folds {
                self.diag.warn(
                    &f.src,
                    format!(
                        "{} associates {}, which is not imported; skipped",
                        f.address, self.instances[j].address
                    ),
                );
                self.out.skipped.push(Skipped {
                    kind: f.kind,
                    name: f.address,
                    src: f.src,
                    reason: SkipReason::NotImported,
                });
            }
        }
    }
}

/// Whether a value is unset in Terraform's sense (null, `""`, `[]`, `{}`, `false`).
fn is_unset(node: &Node) -> bool {
    match &node.value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.iter().all(is_unset),
        Value::Object(o) => o.iter().all(|(_, v)| is_unset(v)),
        _ => false,
    }
}

/// An expression's references for a message: `azurerm_subnet.web.id, count.index`.
fn expression_text(expression: &Node) -> String {
    let refs: Vec<&str> = expression
        .get("references")
        .and_then(Node::as_array)
        .into_iter()
        .flatten()
        .filter_map(Node::as_str)
        .collect();
    if refs.is_empty() { "no references".into() } else { refs.join(", ") }
}

/// The id Azure would give a resource of `kind` named `names` in `resource_group` (the
/// subscription is left out: the plan does not say it).
fn built_id(kind: &str, names: &[String], resource_group: Option<&str>) -> String {
    let mut segments = kind.split('/');
    let namespace = segments.next().unwrap_or_default();
    let mut out = String::new();
    if let Some(rg) = resource_group {
        out.push_str("/resourceGroups/");
        out.push_str(rg);
    }
    out.push_str("/providers/");
    out.push_str(namespace);
    for (segment, name) in segments.zip(names) {
        out.push('/');
        out.push_str(segment);
        out.push('/');
        out.push_str(name);
    }
    out
}

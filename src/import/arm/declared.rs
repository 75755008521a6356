//! The resources a template declares, as `reference()`, `list*()` and `resourceInfo()` see them.
//!
//! Azure answers `reference()` from the deployed resource; offline, a resource the template
//! declares answers from its declared body, evaluated on demand in its own scope (a copied
//! resource in its iteration) and remembered. A resource is found by symbolic name
//! (`languageVersion` 2.0, `nsgs[1]` for an iteration), by id (its type and evaluated names) or
//! by bare name. An `existing` resource is declared but not deployed: its properties are only
//! known at deployment, so reading one is an unknown value saying so. A nested deployment
//! answers its `outputs`, evaluated by [`super::nested`]. A reference that runs back to itself is
//! an error naming the cycle.
//!
//! A value an expression could not make offline inside a referenced body travels as a marker
//! object (see [`UNKNOWN_MARKER`]) so that reading it fails with its reason, and the body
//! evaluator turns a marker that reaches a property back into an unknown value.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use serde_json::{Map, Value, json};

use super::body;
use super::expr::{ArmValue, ExprError, Resources, Target, TemplateScope, eval_count, eval_string};
use super::id::{ResourceRef, key, parse_id};
use crate::import::json::{Node, UnknownReason, Value as NodeValue};

/// The key of the marker object that stands for a value only known at deployment.
pub const UNKNOWN_MARKER: &str = "$nsgsimUnknown";

/// One resource declaration of a template.
#[derive(Debug)]
pub struct Entry {
    /// The symbolic name (`languageVersion` 2.0).
    pub symbolic: Option<String>,
    /// The declaration.
    pub node: Node,
    /// The scope it is evaluated in (without the table, which it would hold in a cycle).
    pub scope: TemplateScope,
    /// Declared `existing`: a reference target, not deployed.
    pub existing: bool,
    /// The nested deployment's outputs, for a `Microsoft.Resources/deployments`.
    pub outputs: Option<Outputs>,
}

/// Evaluates a nested deployment's outputs in the scope it is declared in.
pub type OutputsFn = Rc<dyn Fn(&TemplateScope) -> Result<Value, super::nested::NestedError>>;

/// How a nested deployment's outputs are evaluated, given the scope it is declared in.
pub struct Outputs(pub OutputsFn);

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outputs")
    }
}

/// A template's declared resources.
#[derive(Debug, Default)]
pub struct Declared {
    entries: Vec<Entry>,
    /// The enclosing template's table, asked when this one has no answer.
    parent: Option<Rc<Declared>>,
    me: RefCell<Weak<Declared>>,
    /// Bodies already evaluated and the evaluations in progress.
    memo: RefCell<HashMap<(usize, i64), Result<Value, ExprError>>>,
    active: RefCell<Vec<String>>,
    /// The entries whose type, name or copy count [`Declared::find`] is evaluating: a
    /// `reference()` inside one of them cannot name that entry, so the search skips it rather
    /// than evaluate the same name again without end (fresh fuzz seed 9355: a stack overflow).
    naming: RefCell<Vec<usize>>,
}

impl Declared {
    /// The table of `entries`, asking `parent` for what it does not declare.
    pub fn new(entries: Vec<Entry>, parent: Option<Rc<Declared>>) -> Rc<Declared> {
        let table = Rc::new(Declared { entries, parent, ..Declared::default() });
        *table.me.borrow_mut() = Rc::downgrade(&table);
        table
    }

    fn scope_of(&self, entry: &Entry) -> TemplateScope {
        match self.me.borrow().upgrade() {
            Some(me) => entry.scope.clone().with_resources(me),
            None => entry.scope.clone(),
        }
    }

    /// The iterations of entry `i`: `[None]` without a copy loop, else each index.
    fn iterations(&self, entry: &Entry) -> Vec<Option<(String, i64)>> {
        let Some(copy) = entry.node.get("copy") else { return vec![None] };
        let name = copy.get("name").and_then(Node::as_str).unwrap_or("copy").to_string();
        let count = copy
            .get("count")
            .map(|c| eval_count(&c.to_json(), &self.scope_of(entry)))
            .and_then(Result::ok)
            .unwrap_or(0);
        (0..count).map(|i| Some((name.clone(), i))).collect()
    }

    fn text(&self, entry: &Entry, field: &str, iteration: Option<&(String, i64)>) -> Option<String> {
        let scope = self.scope_of(entry);
        let scope = match iteration {
            Some((name, i)) => scope.with_copy(name, *i, true),
            None => scope,
        };
        match eval_string(entry.node.get(field)?.as_str()?, &scope).ok()? {
            ArmValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `look()` at entry `i`'s type, name or copy count, unless they are already being evaluated
    /// further up (then `None`: an entry's own name cannot depend on finding that entry).
    fn naming_entry<T>(&self, i: usize, look: impl FnOnce() -> Option<T>) -> Option<T> {
        if self.naming.borrow().contains(&i) {
            return None;
        }
        self.naming.borrow_mut().push(i);
        let found = look();
        self.naming.borrow_mut().pop();
        found
    }

    /// The entry and iteration `target` names.
    fn find(&self, target: &Target) -> Option<(usize, Option<(String, i64)>)> {
        match target {
            Target::Symbolic(s) => {
                let (name, index) = match s.split_once('[') {
                    Some((n, rest)) => (n, rest.trim_end_matches(']').trim().parse::<i64>().ok()),
                    None => (s.as_str(), None),
                };
                let Some(i) = self
                    .entries
                    .iter()
                    .position(|e| e.symbolic.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(name)))
                else {
                    // Without symbolic names, `reference('name')` names a resource by its name.
                    return self.find(&Target::Name(s.clone()));
                };
                let iteration = match (index, self.entries[i].node.get("copy")) {
                    (Some(ix), Some(copy)) => {
                        Some((copy.get("name").and_then(Node::as_str).unwrap_or("copy").to_string(), ix))
                    }
                    _ => None,
                };
                Some((i, iteration))
            }
            Target::Id(r) => {
                let wanted = r.key();
                self.entries.iter().enumerate().find_map(|(i, e)| {
                    self.naming_entry(i, || {
                        let kind = self.text(e, "type", None)?;
                        if !kind.eq_ignore_ascii_case(&r.kind) {
                            return None;
                        }
                        self.iterations(e).into_iter().find_map(|it| {
                            let name = self.text(e, "name", it.as_ref())?;
                            let names: Vec<String> = name.split('/').map(str::to_string).collect();
                            (key(&kind, &names) == wanted).then_some((i, it))
                        })
                    })
                })
            }
            Target::Name(n) => self.entries.iter().enumerate().find_map(|(i, e)| {
                self.naming_entry(i, || {
                    self.iterations(e).into_iter().find_map(|it| {
                        let name = self.text(e, "name", it.as_ref())?;
                        name.eq_ignore_ascii_case(n).then_some((i, it))
                    })
                })
            }),
        }
    }

    /// The declared body of entry `i` in `iteration`, as JSON with markers for unknown values.
    fn body(&self, i: usize, iteration: Option<&(String, i64)>) -> Result<Value, ExprError> {
        let entry = &self.entries[i];
        let memo_key = (i, iteration.map_or(-1, |(_, ix)| *ix));
        if let Some(done) = self.memo.borrow().get(&memo_key) {
            return done.clone();
        }
        let label = format!(
            "{}{}",
            entry.symbolic.clone().unwrap_or_else(|| format!("resources[{i}]")),
            iteration.map(|(_, ix)| format!("[{ix}]")).unwrap_or_default()
        );
        if self.active.borrow().contains(&label) {
            let mut chain = self.active.borrow().clone();
            chain.push(label);
            return Err(ExprError::ReferenceCycle(chain));
        }
        self.active.borrow_mut().push(label);
        let scope = self.scope_of(entry);
        let scope = match iteration {
            Some((name, ix)) => scope.with_copy(name, *ix, true),
            None => scope,
        };
        let out = body::evaluate_resource(&entry.node, &scope)
            .map(|n| to_json_with_markers(&n))
            .map_err(|e| ExprError::DeclaredBody { message: e.message });
        let out = out.and_then(|mut body| {
            let name = self.text(entry, "name", iteration).unwrap_or_default();
            let kind = self.text(entry, "type", None).unwrap_or_default();
            if let Value::Object(m) = &mut body {
                let names: Vec<String> = name.split('/').map(str::to_string).collect();
                let r = crate::import::arm::id::ResourceRef {
                    kind: kind.clone(),
                    names,
                    subscription: None,
                    resource_group: None,
                };
                let id = r.id(&scope.deployment);
                if let Some(Value::Object(p)) = m.get_mut("properties") {
                    add_child_ids(p, &id);
                    if kind.eq_ignore_ascii_case(FIREWALLS) && !entry.existing {
                        self.allocate_firewall_address(p);
                    }
                    if kind.eq_ignore_ascii_case(PUBLIC_IPS) && !entry.existing {
                        allocated_public_address(p, &name);
                    }
                }
                m.insert("id".into(), Value::String(id));
                m.insert("name".into(), Value::String(name));
                m.insert("type".into(), Value::String(kind));
                if let Some(location) = self.text(entry, "location", iteration) {
                    m.insert("location".into(), Value::String(location));
                }
                if entry.existing {
                    let resource = m.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                    m.insert("properties".into(), marker(&UnknownReason::ExistingProperties { resource }));
                }
                if let Some(outputs) = &entry.outputs {
                    let values = (outputs.0)(&scope).map_err(|e| match e {
                        super::nested::NestedError::Expr(e) => e,
                        other => ExprError::NestedOutputs { message: other.to_string() },
                    })?;
                    let properties = m.entry("properties").or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(p) = properties {
                        p.insert("outputs".into(), values);
                    }
                }
            }
            Ok(body)
        });
        self.active.borrow_mut().pop();
        self.memo.borrow_mut().insert(memo_key, out.clone());
        out
    }
}

impl Declared {
    /// Gives a declared Azure Firewall's first IP configuration the private address Azure
    /// allocates it, when the template does not write one: the first address of its subnet
    /// after the four Azure reserves, the placeholder the builder gives the firewall (and labels
    /// with a caveat), so that a route whose next hop is
    /// `reference(firewall).ipConfigurations[0].properties.privateIPAddress` points at it.
    /// Nothing is added when the subnet's prefix is not in the template.
    fn allocate_firewall_address(&self, properties: &mut Map<String, Value>) {
        let Some(Value::Array(configs)) = properties.get_mut("ipConfigurations") else { return };
        let Some(Value::Object(config)) = configs.first_mut() else { return };
        let Some(Value::Object(p)) = config.get_mut("properties") else { return };
        if p.contains_key("privateIPAddress") {
            return;
        }
        let subnet = p.get("subnet").and_then(|s| s.get("id")).and_then(Value::as_str).and_then(parse_id);
        let Some(prefix) = subnet.and_then(|s| self.subnet_prefix(&s)) else { return };
        if let Some(address) = first_address(&prefix) {
            p.insert("privateIPAddress".into(), Value::String(address));
        }
    }

    /// The address prefix of the subnet `subnet` as the template declares it: a subnet resource
    /// of its own, or one of its VNet's `subnets`.
    fn subnet_prefix(&self, subnet: &ResourceRef) -> Option<String> {
        let prefix_of = |p: &Value| {
            p.get("addressPrefix")
                .and_then(Value::as_str)
                .or_else(|| p.get("addressPrefixes")?.get(0)?.as_str())
                .map(str::to_string)
        };
        if let Some(Ok(p)) = self.reference(&Target::Id(subnet.clone()), false) {
            return prefix_of(&p);
        }
        let (vnet, name) = (subnet.names.first()?, subnet.names.get(1)?);
        let kind = subnet.kind.rsplit_once('/')?.0.to_string();
        let vnet = ResourceRef { kind, names: vec![vnet.clone()], subscription: None, resource_group: None };
        let Some(Ok(p)) = self.reference(&Target::Id(vnet), false) else { return None };
        let subnets = p.get("subnets")?.as_array()?;
        let found = subnets
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)))?;
        prefix_of(found.get("properties")?)
    }
}

/// The type of Azure Firewalls.
const FIREWALLS: &str = "Microsoft.Network/azureFirewalls";

/// The type of public IP addresses.
const PUBLIC_IPS: &str = "Microsoft.Network/publicIPAddresses";

/// Marks a declared public IP's `ipAddress`, when the template does not write one, as a value
/// only known at deployment: Azure allocates the address then (a Static one is kept for the
/// resource's life, but the template cannot know which it is). `reference(pip).ipAddress` then
/// reads as that unknown value with its reason, not as a property the resource lacks.
fn allocated_public_address(properties: &mut Map<String, Value>, name: &str) {
    if properties.keys().any(|k| k.eq_ignore_ascii_case("ipAddress")) {
        return;
    }
    let reason = UnknownReason::AllocatedAddress { public_ip: name.to_string() };
    properties.insert("ipAddress".into(), marker(&reason));
}

/// The first address Azure allocates in an IPv4 subnet `prefix`: the network address plus four
/// (Azure reserves the first four).
fn first_address(prefix: &str) -> Option<String> {
    let net: ipnet::Ipv4Net = prefix.trim().parse().ok()?;
    let first = u32::from(net.network()).checked_add(4)?;
    (first < u32::from(net.broadcast())).then(|| std::net::Ipv4Addr::from(first).to_string())
}

impl Resources for Declared {
    fn reference(&self, target: &Target, full: bool) -> Option<Result<Value, ExprError>> {
        let Some((i, iteration)) = self.find(target) else {
            return self.parent.as_ref().and_then(|p| p.reference(target, full));
        };
        Some(self.body(i, iteration.as_ref()).map(|body| {
            if full {
                body
            } else {
                body.get("properties").cloned().unwrap_or_else(|| Value::Object(Map::new()))
            }
        }))
    }

    fn info(&self, symbolic: &str) -> Option<Result<Value, ExprError>> {
        let Some((i, iteration)) = self.find(&Target::Symbolic(symbolic.to_string())) else {
            return self.parent.as_ref().and_then(|p| p.info(symbolic));
        };
        let entry = &self.entries[i];
        let kind = self.text(entry, "type", None).unwrap_or_default();
        let name = self.text(entry, "name", iteration.as_ref()).unwrap_or_default();
        let names: Vec<String> = name.split('/').map(str::to_string).collect();
        let r = crate::import::arm::id::ResourceRef {
            kind: kind.clone(),
            names,
            subscription: None,
            resource_group: None,
        };
        let api = entry.node.get("apiVersion").and_then(Node::as_str).unwrap_or_default();
        Some(Ok(json!({"id": r.id(&entry.scope.deployment), "name": name, "type": kind, "apiVersion": api})))
    }
}

/// Gives each child resource declared inline (a named object in an array property, as a VNet's
/// `subnets`, an NSG's `securityRules`, a NIC's `ipConfigurations`, a load balancer's
/// `backendAddressPools`, which may hold only a `name`) the `id` Azure gives it at deployment,
/// `{parent id}/{array property}/{name}`, unless it has one: what
/// `reference(vnet).subnets[0].id` and `reference(lb).backendAddressPools[0].id` read. Property
/// names are found without case, as ARM finds them (`"Name"`). **Model choice**: the runtime
/// state's other read-only properties are not invented.
fn add_child_ids(properties: &mut Map<String, Value>, parent: &str) {
    for (key, value) in properties.iter_mut() {
        let Value::Array(items) = value else { continue };
        for item in items {
            let Value::Object(child) = item else { continue };
            if child.keys().any(|k| k.eq_ignore_ascii_case("id")) {
                continue;
            }
            let name = child.iter().find(|(k, _)| k.eq_ignore_ascii_case("name")).map(|(_, v)| v);
            if let Some(Value::String(name)) = name {
                let id = format!("{parent}/{key}/{name}");
                child.insert("id".into(), Value::String(id));
            }
        }
    }
}

/// The marker object for a value only known at deployment, with the reason and its facts.
pub fn marker(reason: &UnknownReason) -> Value {
    json!({ UNKNOWN_MARKER: reason.to_json() })
}

/// The reason a marker object gives, if `value` is one.
pub fn marker_reason(value: &Value) -> Option<UnknownReason> {
    value
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.get(UNKNOWN_MARKER))
        .and_then(UnknownReason::from_json)
}

/// A body as JSON, each unknown value a marker.
pub(super) fn to_json_with_markers(node: &Node) -> Value {
    match &node.value {
        NodeValue::Unknown(u) => marker(&u.reason),
        NodeValue::Array(items) => Value::Array(items.iter().map(to_json_with_markers).collect()),
        NodeValue::Object(o) => {
            Value::Object(o.iter().map(|(k, n)| (k.to_string(), to_json_with_markers(n))).collect())
        }
        _ => node.to_json(),
    }
}

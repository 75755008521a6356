//! Resource ids and the ARM template expression language, evaluated offline.
//!
//! Azure refers to a resource by its id, `/subscriptions/S/resourceGroups/G/providers/
//! Microsoft.Network/virtualNetworks/V/subnets/S`, which `az` prints literally and templates
//! build with `[resourceId('Microsoft.Network/virtualNetworks/subnets', 'V', 'S')]`. Both become
//! a [`ResourceRef`]: the full resource type and the chain of names. Names are compared without
//! regard to case, as Azure does.
//!
//! Templates compute names, priorities, ports and conditions with expressions. nsgsim evaluates
//! the pure part of the language: literals, property access (`.location`), indexing (`[0]`),
//! `parameters` (a parameter's `defaultValue`), `variables` (including a `copy` variable),
//! `copyIndex`, and the string, number, logical, array and object functions listed in
//! docs/engineers.md. `if` evaluates only the branch it takes, as ARM does.
//!
//! What only a deployment knows has offline stand-ins, each reported as an assumption:
//! `resourceGroup()` and `subscription()` answer from a [`Deployment`] (location, resource group
//! and subscription, set with `nsgsim import --location/--resource-group/--subscription`).
//! `reference()`, `list*()`, `uniqueString()` and parameters without a `defaultValue` cannot be
//! known offline and are errors with their JSON path.
//!
//! Evaluation is bounded: a variable or parameter that refers to itself, directly or through
//! others, is reported with its chain (`variables('a') -> variables('b') -> variables('a')`)
//! instead of recursing, and expressions nest at most [`MAX_DEPTH`] levels.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use serde_json::{Map, Number, Value};

/// How deep expressions, and chains of variables and parameters, may nest.
pub const MAX_DEPTH: usize = 64;

/// ARM's limit on the iterations of one copy loop.
pub const MAX_COPY_COUNT: i64 = 800;

/// A reference to a resource: its full type and names (`Microsoft.Network/virtualNetworks/subnets`,
/// `["vnet1", "web"]`), plus the subscription and resource group when the id names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRef {
    /// The full resource type, as written.
    pub kind: String,
    /// One name per type segment after the namespace.
    pub names: Vec<String>,
    /// The subscription, from a literal id or an explicit `resourceId` argument.
    pub subscription: Option<String>,
    /// The resource group, from a literal id or an explicit `resourceId` argument.
    pub resource_group: Option<String>,
}

impl ResourceRef {
    /// The case-insensitive lookup key: `type|name/name`.
    pub fn key(&self) -> String {
        key(&self.kind, &self.names)
    }

    /// The last name (the resource's own name).
    pub fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or("")
    }

    /// The full resource id, with the deployment's stand-ins where the reference names no
    /// subscription or resource group.
    pub fn id(&self, deployment: &Deployment) -> String {
        let mut segments = self.kind.split('/');
        let namespace = segments.next().unwrap_or_default();
        let mut out = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{namespace}",
            self.subscription.as_deref().unwrap_or(&deployment.subscription),
            self.resource_group.as_deref().unwrap_or(&deployment.resource_group),
        );
        for (segment, name) in segments.zip(&self.names) {
            out.push('/');
            out.push_str(segment);
            out.push('/');
            out.push_str(name);
        }
        out
    }
}

/// The case-insensitive lookup key of a resource type and its names.
pub fn key(kind: &str, names: &[String]) -> String {
    format!("{}|{}", kind.to_ascii_lowercase(), names.join("/").to_ascii_lowercase())
}

/// What an expression evaluated to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArmValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A `resourceId(...)`.
    Ref(ResourceRef),
    /// Any other JSON value (a boolean, null, an array or an object).
    Json(Value),
}

/// The deployment context a template would run in, given offline: what `resourceGroup()` and
/// `subscription()` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// `resourceGroup().location`.
    pub location: String,
    /// `resourceGroup().name`.
    pub resource_group: String,
    /// `subscription().subscriptionId`.
    pub subscription: String,
}

impl Default for Deployment {
    fn default() -> Deployment {
        Deployment {
            location: "westeurope".into(),
            resource_group: "nsgsim-rg".into(),
            subscription: "00000000-0000-0000-0000-000000000000".into(),
        }
    }
}

/// One active copy loop: its name and the current index.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CopyBinding {
    name: String,
    index: i64,
    /// A resource loop (answers `copyIndex()` without a name) rather than a property loop.
    resource: bool,
}

/// The template's `parameters` and `variables`, the deployment stand-ins, and the copy loops
/// being expanded: everything an expression can refer to.
#[derive(Clone, Debug, Default)]
pub struct TemplateScope {
    /// The template's `parameters` object.
    pub parameters: Map<String, Value>,
    /// The template's `variables` object.
    pub variables: Map<String, Value>,
    /// What `resourceGroup()` and `subscription()` answer.
    pub deployment: Deployment,
    copies: Vec<CopyBinding>,
    /// The deployment functions used, for one warning each (shared by every copy of the scope).
    stand_ins: Rc<RefCell<BTreeSet<String>>>,
}

impl TemplateScope {
    /// An empty scope (no parameters or variables) in `deployment`.
    pub fn new(deployment: Deployment) -> TemplateScope {
        TemplateScope { deployment, ..TemplateScope::default() }
    }

    /// The scope inside one iteration of a copy loop named `name`.
    pub fn with_copy(&self, name: &str, index: i64, resource: bool) -> TemplateScope {
        let mut scope = self.clone();
        scope.copies.push(CopyBinding { name: name.to_string(), index, resource });
        scope
    }

    /// The deployment functions evaluated with offline stand-ins so far (`resourceGroup()`,
    /// `subscription()`), drained.
    pub fn take_stand_ins(&self) -> Vec<String> {
        std::mem::take(&mut *self.stand_ins.borrow_mut()).into_iter().collect()
    }
}

/// Parses a literal resource id. `None` when `text` is not one.
pub fn parse_id(text: &str) -> Option<ResourceRef> {
    let segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let find = |label: &str| lower.iter().position(|s| s == label).and_then(|i| segments.get(i + 1));
    let subscription = find("subscriptions").map(|s| s.to_string());
    let resource_group = find("resourcegroups").map(|s| s.to_string());
    let providers = lower.iter().rposition(|s| s == "providers")?;
    let rest = &segments[providers + 1..];
    let (namespace, pairs) = rest.split_first()?;
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return None;
    }
    let mut kind = namespace.to_string();
    let mut names = Vec::new();
    for pair in pairs.chunks(2) {
        kind.push('/');
        kind.push_str(pair[0]);
        names.push(pair[1].to_string());
    }
    Some(ResourceRef { kind, names, subscription, resource_group })
}

/// Evaluates a JSON string value: a template expression `[...]` or a literal (`[[` escapes a
/// literal `[`).
///
/// # Errors
/// A message saying what cannot be evaluated and why.
pub fn eval_string(text: &str, scope: &TemplateScope) -> Result<ArmValue, String> {
    let mut ev = Eval { scope, stack: Vec::new() };
    ev.text(text).map(|v| v.into_arm())
}

/// Evaluates any JSON value that may hold an expression: strings are evaluated, numbers pass,
/// arrays and objects are returned as they are.
///
/// # Errors
/// See [`eval_string`].
pub fn eval_value(value: &Value, scope: &TemplateScope) -> Result<ArmValue, String> {
    match value {
        Value::String(s) => eval_string(s, scope),
        Value::Number(n) => n.as_i64().map(ArmValue::Int).ok_or_else(|| format!("{n} is not an integer")),
        other => Ok(ArmValue::Json(other.clone())),
    }
}

/// Evaluates a template `condition`: a boolean, or an expression that gives one.
///
/// # Errors
/// An expression that cannot be evaluated, or a value that is not a boolean.
pub fn eval_condition(value: &Value, scope: &TemplateScope) -> Result<bool, String> {
    let v = match value {
        Value::String(s) => Eval { scope, stack: Vec::new() }.text(s)?,
        other => V::J(other.clone()),
    };
    match v {
        V::J(Value::Bool(b)) => Ok(b),
        V::J(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        V::J(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(format!("a condition must be a boolean, found {}", other.describe())),
    }
}

/// Evaluates a copy loop's `count`: an integer 0..=800.
///
/// # Errors
/// An expression that cannot be evaluated, or a value that is not such an integer.
pub fn eval_count(value: &Value, scope: &TemplateScope) -> Result<i64, String> {
    match eval_value(value, scope)? {
        ArmValue::Int(n) if (0..=MAX_COPY_COUNT).contains(&n) => Ok(n),
        ArmValue::Int(n) => Err(format!("a copy count is 0-{MAX_COPY_COUNT} (ARM's limit), found {n}")),
        other => Err(format!("a copy count is an integer, found {other:?}")),
    }
}

/// Expands the property copy loops (`"copy": [{"name", "count", "input"}]`) of a resource
/// object: each becomes the array property `name` with one evaluated `input` per iteration, in
/// which `copyIndex('name')` is the iteration. Nested child `resources` are left alone (they
/// are expanded in their own scope, which may add a resource loop). Expressions in an input that
/// cannot be evaluated offline are kept as written, to be reported with their path if nsgsim
/// reads them, unless they use `copyIndex` (whose value exists only here).
///
/// # Errors
/// `(JSON path relative to value, message)` for a malformed loop or a `copyIndex` input that
/// cannot be evaluated.
pub fn expand_property_copies(value: &Value, scope: &TemplateScope) -> Result<Value, (String, String)> {
    expand(value, scope, "", true)
}

/// The property copy loops of a resource object, as [`expand_property_copies`] finds them: for
/// each, the path of the array it makes (`properties.securityRules`) and the path of the loop
/// itself (`properties.copy[0]`), relative to `value`. A loop nested in another's `input` is
/// given at its place in the text (`properties.copy[0].input.properties.copy[0]`), so that an
/// expanded path can be rewritten loop by loop into the text's path.
pub fn property_copy_loops(value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    copy_loops(value, "", true, &mut out);
    out
}

fn copy_loops(value: &Value, path: &str, top: bool, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                if !(top && k == "resources" || k == "copy" && v.is_array()) {
                    copy_loops(v, &join_path(path, k), false, out);
                }
            }
            if let Some(Value::Array(loops)) = m.get("copy") {
                for (i, l) in loops.iter().enumerate() {
                    let at = join_path(path, &format!("copy[{i}]"));
                    if let Some(name) = l.get("name").and_then(Value::as_str) {
                        out.push((join_path(path, name), at.clone()));
                    }
                    if let Some(input) = l.get("input") {
                        copy_loops(input, &join_path(&at, "input"), false, out);
                    }
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                copy_loops(v, &format!("{path}[{i}]"), false, out);
            }
        }
        _ => {}
    }
}

fn join_path(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_string()
    } else if field.starts_with('[') {
        format!("{base}{field}")
    } else {
        format!("{base}.{field}")
    }
}

fn expand(value: &Value, scope: &TemplateScope, path: &str, top: bool) -> Result<Value, (String, String)> {
    match value {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if top && k == "resources" {
                    out.insert(k.clone(), v.clone());
                } else if k == "copy" && v.is_array() {
                    continue;
                } else {
                    out.insert(k.clone(), expand(v, scope, &join_path(path, k), false)?);
                }
            }
            if let Some(Value::Array(loops)) = m.get("copy") {
                for (i, l) in loops.iter().enumerate() {
                    let at = join_path(path, &format!("copy[{i}]"));
                    let Some(name) = l.get("name").and_then(Value::as_str) else {
                        return Err((join_path(&at, "name"), "a property copy loop needs a name".into()));
                    };
                    let count = l
                        .get("count")
                        .ok_or_else(|| (join_path(&at, "count"), "a copy loop needs a count".into()))
                        .and_then(|c| eval_count(c, scope).map_err(|e| (join_path(&at, "count"), e)))?;
                    let Some(input) = l.get("input") else {
                        return Err((join_path(&at, "input"), "a property copy loop needs an input".into()));
                    };
                    let mut items = Vec::new();
                    for n in 0..count {
                        let inner = scope.with_copy(name, n, false);
                        let item = lenient(input, &inner, &join_path(&at, "input"))?;
                        items.push(expand(&item, &inner, &join_path(&at, "input"), false)?);
                    }
                    out.insert(name.to_string(), Value::Array(items));
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| expand(v, scope, &format!("{path}[{i}]"), false))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::String(s) => match structured(s, scope) {
            Some(made) => expand(&made, scope, path, false),
            None => Ok(value.clone()),
        },
        other => Ok(other.clone()),
    }
}

/// The array or object that the expression `text` makes, when it evaluates offline to one
/// (`"securityRules": "[variables('rules')]"`, `"[concat(variables('base'), variables('extra'))]"`),
/// so that readers find the structure where a literal would be. Anything else is left to the reader that uses
/// it, which evaluates it and reports its errors at its path. A deployment function met on the
/// way (`resourceGroup()`) is noted only when the structure is kept: for anything else the
/// reader, if there is one, evaluates the expression again and notes it then.
fn structured(text: &str, scope: &TemplateScope) -> Option<Value> {
    // `[[` escapes a literal bracket; anything not in brackets is a plain string.
    if !text.starts_with('[') || text.starts_with("[[") || !text.ends_with(']') {
        return None;
    }
    let before = scope.take_stand_ins();
    let made = match (Eval { scope, stack: Vec::new() }).text(text).map(|v| v.into_arm()) {
        Ok(ArmValue::Json(v @ (Value::Array(_) | Value::Object(_)))) => Some(v),
        _ => None,
    };
    let met = scope.take_stand_ins();
    let mut keep = scope.stand_ins.borrow_mut();
    keep.extend(before);
    if made.is_some() {
        keep.extend(met);
    }
    made
}

/// Evaluates every expression in `value` that can be; keeps the others as written, except those
/// that need the copy index of this iteration.
fn lenient(value: &Value, scope: &TemplateScope, path: &str) -> Result<Value, (String, String)> {
    match value {
        Value::String(s) => match (Eval { scope, stack: Vec::new() }).text(s) {
            Ok(v) => Ok(v.into_literal(&scope.deployment)),
            Err(e) if s.to_ascii_lowercase().contains("copyindex") => Err((path.to_string(), e)),
            Err(_) => Ok(value.clone()),
        },
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.clone(), lenient(v, scope, &join_path(path, k))?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| lenient(v, scope, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// A value during evaluation: JSON, or a resource reference (which becomes its id string when
/// a string function uses it).
#[derive(Clone, Debug)]
enum V {
    J(Value),
    Ref(ResourceRef),
}

impl V {
    fn str(s: impl Into<String>) -> V {
        V::J(Value::String(s.into()))
    }

    fn int(n: i64) -> V {
        V::J(Value::Number(Number::from(n)))
    }

    fn bool(b: bool) -> V {
        V::J(Value::Bool(b))
    }

    fn into_arm(self) -> ArmValue {
        match self {
            V::Ref(r) => ArmValue::Ref(r),
            V::J(Value::String(s)) => ArmValue::Str(s),
            V::J(Value::Number(n)) if n.as_i64().is_some() => ArmValue::Int(n.as_i64().unwrap_or_default()),
            V::J(other) => ArmValue::Json(other),
        }
    }

    /// The value as JSON that reads back as the same value: strings that look like an
    /// expression are escaped.
    fn into_literal(self, deployment: &Deployment) -> Value {
        match self {
            V::Ref(r) => Value::String(r.id(deployment)),
            V::J(Value::String(s)) if s.starts_with('[') => Value::String(format!("[{s}")),
            V::J(v) => v,
        }
    }

    fn json(&self, deployment: &Deployment) -> Value {
        match self {
            V::Ref(r) => Value::String(r.id(deployment)),
            V::J(v) => v.clone(),
        }
    }

    fn describe(&self) -> String {
        match self {
            V::Ref(r) => format!("the resource id of {}/{}", r.kind, r.names.join("/")),
            V::J(Value::String(s)) => format!("the string '{s}'"),
            V::J(v) => format!("{v}"),
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct Eval<'a> {
    scope: &'a TemplateScope,
    /// The parameters and variables being evaluated, outermost first (cycle detection).
    stack: Vec<String>,
}

impl Eval<'_> {
    /// A string as ARM reads it: `[[…` is a literal, `[…]` an expression, anything else literal.
    fn text(&mut self, text: &str) -> Result<V, String> {
        let trimmed = text.trim();
        if let Some(rest) = trimmed.strip_prefix("[[") {
            return Ok(V::str(format!("[{rest}")));
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') && trimmed.len() >= 2 {
            let body = &trimmed[1..trimmed.len() - 1];
            let mut parser =
                Parser { chars: body.chars().collect(), pos: 0, depth: 0, skipping: 0, ev: self };
            let value = parser.expression()?;
            parser.skip_ws();
            if parser.pos != parser.chars.len() {
                return Err(format!(
                    "unsupported template expression '{text}': unexpected '{}' at character {}",
                    parser.chars[parser.pos..].iter().collect::<String>(),
                    parser.pos + 2
                ));
            }
            return Ok(value);
        }
        Ok(V::str(text))
    }

    /// A JSON value with every expression in it evaluated (a variable's or parameter's value).
    fn deep(&mut self, value: &Value) -> Result<V, String> {
        match value {
            Value::String(s) => self.text(s),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.deep(item)?.json(&self.scope.deployment));
                }
                Ok(V::J(Value::Array(out)))
            }
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    out.insert(k.clone(), self.deep(v)?.json(&self.scope.deployment));
                }
                Ok(V::J(Value::Object(out)))
            }
            other => Ok(V::J(other.clone())),
        }
    }

    /// Evaluates `value` as the definition of `label` (`variables('a')`), refusing cycles.
    fn named(&mut self, label: String, value: &Value) -> Result<V, String> {
        if let Some(at) = self.stack.iter().position(|s| s.eq_ignore_ascii_case(&label)) {
            let mut chain: Vec<&str> = self.stack[at..].iter().map(String::as_str).collect();
            chain.push(&label);
            return Err(format!("{label} refers to itself: {}", chain.join(" -> ")));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!(
                "parameters and variables refer to each other more than {MAX_DEPTH} levels deep ({})",
                self.stack.join(" -> ")
            ));
        }
        self.stack.push(label);
        let out = self.deep(value);
        self.stack.pop();
        out
    }

    fn variable(&mut self, name: &str) -> Result<V, String> {
        let vars = &self.scope.variables;
        if let Some((k, value)) = vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            let label = format!("variables('{k}')");
            return self.named(label, &value.clone());
        }
        // A variable copy loop: `"copy": [{"name": "x", "count": n, "input": ...}]`.
        if let Some(Value::Array(loops)) = vars.get("copy")
            && let Some(l) = loops
                .iter()
                .find(|l| l.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)))
        {
            let count = match l.get("count") {
                Some(c) => self.deep(c)?,
                None => return Err(format!("variables('{name}'): the copy loop has no count")),
            };
            let count = match count {
                V::J(Value::Number(n)) => n.as_i64().unwrap_or(-1),
                other => {
                    return Err(format!(
                        "variables('{name}'): a copy count is an integer, not {}",
                        other.describe()
                    ));
                }
            };
            if !(0..=MAX_COPY_COUNT).contains(&count) {
                return Err(format!(
                    "variables('{name}'): a copy count is 0-{MAX_COPY_COUNT}, found {count}"
                ));
            }
            let input = l.get("input").cloned().unwrap_or(Value::Null);
            let mut items = Vec::new();
            for i in 0..count {
                let inner = self.scope.with_copy(name, i, false);
                let mut ev = Eval { scope: &inner, stack: self.stack.clone() };
                let label = format!("variables('{name}')[{i}]");
                items.push(ev.named(label, &input)?.json(&inner.deployment));
            }
            return Ok(V::J(Value::Array(items)));
        }
        let mut known: Vec<&String> = vars.keys().filter(|k| *k != "copy").collect();
        known.sort();
        Err(format!(
            "variables('{name}'): the template declares no variable '{name}' (declared: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            }
        ))
    }

    fn parameter(&mut self, name: &str) -> Result<V, String> {
        let Some((k, param)) = self.scope.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
        else {
            return Err(format!("parameters('{name}'): the template declares no parameter '{name}'"));
        };
        let Some(default) = param.get("defaultValue") else {
            return Err(format!(
                "parameters('{name}'): the parameter has no defaultValue; give one in the template (the value is only known at deployment)"
            ));
        };
        let label = format!("parameters('{k}')");
        self.named(label, &default.clone())
    }

    fn copy_index(&self, name: Option<&str>, offset: i64) -> Result<V, String> {
        let binding = match name {
            Some(n) => self.scope.copies.iter().rev().find(|c| c.name.eq_ignore_ascii_case(n)),
            None => self.scope.copies.iter().rev().find(|c| c.resource),
        };
        match binding {
            Some(b) => Ok(V::int(b.index + offset)),
            None => Err(match name {
                Some(n) => format!("copyIndex('{n}') is used outside a copy loop named '{n}'"),
                None => "copyIndex() is used outside a resource copy loop".into(),
            }),
        }
    }

    fn note(&self, what: &str) {
        self.scope.stand_ins.borrow_mut().insert(what.to_string());
    }
}

struct Parser<'p, 'a> {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// Inside the branch of an `if` that is not taken: parse, but evaluate nothing.
    skipping: usize,
    ev: &'p mut Eval<'a>,
}

impl Parser<'_, '_> {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn expression(&mut self) -> Result<V, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("the template expression nests more than {MAX_DEPTH} levels deep"));
        }
        self.skip_ws();
        let mut value = match self.chars.get(self.pos) {
            Some('\'') => self.string().map(V::str)?,
            Some(c) if c.is_ascii_digit() || *c == '-' => self.number()?,
            Some(c) if c.is_ascii_alphabetic() => self.call()?,
            Some(c) => return Err(format!("unsupported template expression: unexpected '{c}'")),
            None => return Err("empty template expression".into()),
        };
        loop {
            self.skip_ws();
            match self.chars.get(self.pos) {
                Some('.') => {
                    self.pos += 1;
                    let name = self.identifier();
                    if name.is_empty() {
                        return Err(
                            "unsupported template expression: expected a property name after '.'".into()
                        );
                    }
                    value = self.member(value, &V::str(name))?;
                }
                Some('[') => {
                    self.pos += 1;
                    let index = self.expression()?;
                    self.skip_ws();
                    if self.chars.get(self.pos) != Some(&']') {
                        return Err("unsupported template expression: expected ']' after an index".into());
                    }
                    self.pos += 1;
                    value = self.member(value, &index)?;
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(value)
    }

    fn member(&self, value: V, index: &V) -> Result<V, String> {
        if self.skipping > 0 {
            return Ok(V::J(Value::Null));
        }
        let json = value.json(&self.ev.scope.deployment);
        match (&json, index) {
            (Value::Array(items), V::J(Value::Number(n))) => {
                let i = n.as_u64().and_then(|i| usize::try_from(i).ok());
                match i.and_then(|i| items.get(i)) {
                    Some(v) => Ok(V::J(v.clone())),
                    None => Err(format!("index {n} is out of range for an array of {} item(s)", items.len())),
                }
            }
            (Value::Object(m), V::J(Value::String(k))) => {
                match m.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)) {
                    Some((_, v)) => Ok(V::J(v.clone())),
                    None => Err(format!(
                        "the object has no property '{k}' (it has: {})",
                        m.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                }
            }
            (other, index) => Err(format!("cannot take {} of {}", index.describe(), type_name(other))),
        }
    }

    fn identifier(&mut self) -> String {
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.chars.get(self.pos) {
                Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                    out.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(*c);
                    self.pos += 1;
                }
                None => return Err("unterminated string literal in template expression".into()),
            }
        }
    }

    fn number(&mut self) -> Result<V, String> {
        let start = self.pos;
        self.pos += 1;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse().map(V::int).map_err(|_| format!("'{text}' is not an integer"))
    }

    fn call(&mut self) -> Result<V, String> {
        let name = self.identifier();
        self.skip_ws();
        if self.chars.get(self.pos) != Some(&'(') {
            return Err(format!(
                "unsupported template expression: '{name}' is not a function call (write {name}())"
            ));
        }
        self.pos += 1;
        let lower = name.to_ascii_lowercase();
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            if self.chars.get(self.pos) == Some(&')') {
                self.pos += 1;
                break;
            }
            // `if` evaluates only the branch it takes.
            let skip = lower == "if"
                && match (args.len(), args.first()) {
                    (1, Some(V::J(Value::Bool(c)))) => !*c,
                    (2, Some(V::J(Value::Bool(c)))) => *c,
                    _ => false,
                };
            if skip {
                self.skipping += 1;
            }
            let arg = self.expression();
            if skip {
                self.skipping -= 1;
            }
            args.push(arg?);
            self.skip_ws();
            match self.chars.get(self.pos) {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return Err(format!(
                        "unsupported template expression: expected ',' or ')' in {name}(...)"
                    ));
                }
            }
        }
        if self.skipping > 0 {
            return Ok(V::J(Value::Null));
        }
        self.apply(&name, args).map_err(|e| {
            // Messages that already name a call (`parameters('x'): …`) stand as they are.
            let named =
                e.find('(').is_some_and(|i| i > 0 && e[..i].chars().all(|c| c.is_ascii_alphanumeric()));
            if named { e } else { format!("{name}(): {e}") }
        })
    }

    fn to_text(&self, v: &V) -> Result<String, String> {
        match v {
            V::Ref(r) => Ok(r.id(&self.ev.scope.deployment)),
            V::J(Value::String(s)) => Ok(s.clone()),
            V::J(Value::Number(n)) => Ok(n.to_string()),
            V::J(Value::Bool(b)) => Ok(if *b { "True".into() } else { "False".into() }),
            V::J(Value::Null) => Ok(String::new()),
            V::J(other) => Ok(other.to_string()),
        }
    }

    fn apply(&mut self, name: &str, args: Vec<V>) -> Result<V, String> {
        let deployment = self.ev.scope.deployment.clone();
        let json: Vec<Value> = args.iter().map(|a| a.json(&deployment)).collect();
        let int = |i: usize| -> Result<i64, String> {
            match json.get(i) {
                Some(Value::Number(n)) => n.as_i64().ok_or_else(|| format!("{n} is not an integer")),
                Some(Value::String(s)) => s.trim().parse().map_err(|_| format!("'{s}' is not an integer")),
                Some(other) => {
                    Err(format!("argument {} must be an integer, found {}", i + 1, type_name(other)))
                }
                None => Err(format!("argument {} (an integer) is missing", i + 1)),
            }
        };
        let boolean = |i: usize| -> Result<bool, String> {
            match json.get(i) {
                Some(Value::Bool(b)) => Ok(*b),
                Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
                Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
                Some(other) => {
                    Err(format!("argument {} must be a boolean, found {}", i + 1, type_name(other)))
                }
                None => Err(format!("argument {} (a boolean) is missing", i + 1)),
            }
        };
        let text = |me: &Self, i: usize| -> Result<String, String> {
            args.get(i)
                .map(|a| me.to_text(a))
                .unwrap_or_else(|| Err(format!("argument {} (a string) is missing", i + 1)))
        };
        let arity = |n: usize| -> Result<(), String> {
            if args.len() == n { Ok(()) } else { Err(format!("takes {n} argument(s), given {}", args.len())) }
        };
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "parameters" => {
                arity(1)?;
                let p = text(self, 0)?;
                self.ev.parameter(&p)?
            }
            "variables" => {
                arity(1)?;
                let v = text(self, 0)?;
                self.ev.variable(&v)?
            }
            "copyindex" => match json.as_slice() {
                [] => self.ev.copy_index(None, 0)?,
                [Value::Number(_)] => self.ev.copy_index(None, int(0)?)?,
                [Value::String(s)] => self.ev.copy_index(Some(s), 0)?,
                [Value::String(s), _] => self.ev.copy_index(Some(s), int(1)?)?,
                _ => return Err("copyIndex() takes an optional loop name and an optional offset".into()),
            },
            "resourcegroup" => {
                arity(0)?;
                self.ev.note("resourceGroup()");
                V::J(serde_json::json!({
                    "id": format!("/subscriptions/{}/resourceGroups/{}", deployment.subscription, deployment.resource_group),
                    "name": deployment.resource_group,
                    "type": "Microsoft.Resources/resourceGroups",
                    "location": deployment.location,
                    "properties": {"provisioningState": "Succeeded"},
                }))
            }
            "subscription" => {
                arity(0)?;
                self.ev.note("subscription()");
                V::J(serde_json::json!({
                    "id": format!("/subscriptions/{}", deployment.subscription),
                    "subscriptionId": deployment.subscription,
                    "tenantId": "00000000-0000-0000-0000-000000000000",
                    "displayName": "nsgsim offline subscription",
                }))
            }
            "resourceid" | "subscriptionresourceid" => {
                let parts = args.iter().map(|a| self.to_text(a)).collect::<Result<Vec<_>, _>>()?;
                // Optional subscription id and resource group come before the type, which is the
                // first argument of the form Namespace/type.
                let Some(type_at) = parts.iter().position(|p| p.contains('/') && p.contains('.')) else {
                    return Err(format!(
                        "{name}() needs a resource type such as 'Microsoft.Network/networkSecurityGroups'"
                    ));
                };
                let kind = parts[type_at].clone();
                let names: Vec<String> = parts[type_at + 1..].to_vec();
                let segments = kind.split('/').count() - 1;
                if names.len() != segments {
                    return Err(format!(
                        "{name}('{kind}', ...) needs {segments} name(s), got {}",
                        names.len()
                    ));
                }
                let (subscription, resource_group) = match (lower.as_str(), type_at) {
                    ("resourceid", 2) => (Some(parts[0].clone()), Some(parts[1].clone())),
                    ("resourceid", 1) => (None, Some(parts[0].clone())),
                    ("subscriptionresourceid", 1) => (Some(parts[0].clone()), None),
                    (_, 0) => (None, None),
                    _ => return Err(format!("{name}(): too many arguments before the resource type")),
                };
                V::Ref(ResourceRef { kind, names, subscription, resource_group })
            }
            "concat" => {
                if json.first().is_some_and(Value::is_array) {
                    let mut out = Vec::new();
                    for (i, a) in json.iter().enumerate() {
                        let Value::Array(items) = a else {
                            return Err(format!(
                                "concat() of arrays: argument {} is {}",
                                i + 1,
                                type_name(a)
                            ));
                        };
                        out.extend(items.iter().cloned());
                    }
                    V::J(Value::Array(out))
                } else {
                    let mut out = String::new();
                    for a in &args {
                        out.push_str(&self.to_text(a)?);
                    }
                    V::str(out)
                }
            }
            "format" => {
                let fmt = text(self, 0)?;
                let rest = args[1..].iter().map(|a| self.to_text(a)).collect::<Result<Vec<_>, _>>()?;
                V::str(format_string(&fmt, &rest)?)
            }
            "tolower" => {
                arity(1)?;
                V::str(text(self, 0)?.to_lowercase())
            }
            "toupper" => {
                arity(1)?;
                V::str(text(self, 0)?.to_uppercase())
            }
            "string" => {
                arity(1)?;
                V::str(text(self, 0)?)
            }
            "trim" => {
                arity(1)?;
                V::str(text(self, 0)?.trim())
            }
            "replace" => {
                arity(3)?;
                V::str(text(self, 0)?.replace(&text(self, 1)?, &text(self, 2)?))
            }
            "split" => {
                arity(2)?;
                let s = text(self, 0)?;
                let delimiters: Vec<String> = match &json[1] {
                    Value::Array(d) => d.iter().map(|x| x.as_str().unwrap_or_default().to_string()).collect(),
                    _ => vec![text(self, 1)?],
                };
                let mut parts = vec![s];
                for d in delimiters.iter().filter(|d| !d.is_empty()) {
                    parts = parts
                        .iter()
                        .flat_map(|p| p.split(d.as_str()).map(str::to_string).collect::<Vec<_>>())
                        .collect();
                }
                V::J(Value::Array(parts.into_iter().map(Value::String).collect()))
            }
            "substring" => {
                let s: Vec<char> = text(self, 0)?.chars().collect();
                let start =
                    usize::try_from(int(1)?).map_err(|_| "substring(): a negative start".to_string())?;
                let len = if args.len() > 2 {
                    usize::try_from(int(2)?).map_err(|_| "substring(): a negative length".to_string())?
                } else {
                    s.len().saturating_sub(start)
                };
                if start + len > s.len() {
                    return Err(format!(
                        "substring(): {start}+{len} is beyond the string's {} characters",
                        s.len()
                    ));
                }
                V::str(s[start..start + len].iter().collect::<String>())
            }
            "startswith" => {
                arity(2)?;
                V::bool(text(self, 0)?.to_lowercase().starts_with(&text(self, 1)?.to_lowercase()))
            }
            "endswith" => {
                arity(2)?;
                V::bool(text(self, 0)?.to_lowercase().ends_with(&text(self, 1)?.to_lowercase()))
            }
            "contains" => {
                arity(2)?;
                V::bool(match &json[0] {
                    Value::Array(items) => items.iter().any(|x| x == &json[1]),
                    Value::Object(m) => m.keys().any(|k| Some(k.as_str()) == json[1].as_str()),
                    _ => text(self, 0)?.contains(&text(self, 1)?),
                })
            }
            "indexof" | "lastindexof" => {
                arity(2)?;
                let found = match &json[0] {
                    Value::Array(items) => {
                        let mut hits =
                            items.iter().enumerate().filter(|(_, x)| *x == &json[1]).map(|(i, _)| i);
                        if lower == "indexof" { hits.next() } else { hits.next_back() }
                    }
                    _ => {
                        let (s, t) = (text(self, 0)?.to_lowercase(), text(self, 1)?.to_lowercase());
                        let at = if lower == "indexof" { s.find(&t) } else { s.rfind(&t) };
                        at.map(|b| s[..b].chars().count())
                    }
                };
                V::int(found.map_or(-1, |i| i64::try_from(i).unwrap_or(-1)))
            }
            "length" => {
                arity(1)?;
                let n = match &json[0] {
                    Value::Array(items) => items.len(),
                    Value::Object(m) => m.len(),
                    Value::String(s) => s.chars().count(),
                    other => return Err(format!("length() of {}", type_name(other))),
                };
                V::int(i64::try_from(n).unwrap_or(i64::MAX))
            }
            "empty" => {
                arity(1)?;
                V::bool(match &json[0] {
                    Value::Array(items) => items.is_empty(),
                    Value::Object(m) => m.is_empty(),
                    Value::String(s) => s.is_empty(),
                    Value::Null => true,
                    _ => false,
                })
            }
            "first" | "last" => {
                arity(1)?;
                match &json[0] {
                    Value::Array(items) => {
                        let item = if lower == "first" { items.first() } else { items.last() };
                        V::J(item.cloned().unwrap_or(Value::Null))
                    }
                    Value::String(s) => {
                        let c = if lower == "first" { s.chars().next() } else { s.chars().last() };
                        V::str(c.map(String::from).unwrap_or_default())
                    }
                    other => return Err(format!("{name}() of {}", type_name(other))),
                }
            }
            "join" => {
                arity(2)?;
                let Value::Array(items) = &json[0] else {
                    return Err(format!("join() takes an array, found {}", type_name(&json[0])));
                };
                let parts =
                    items.iter().map(|x| self.to_text(&V::J(x.clone()))).collect::<Result<Vec<_>, _>>()?;
                V::str(parts.join(&text(self, 1)?))
            }
            "take" | "skip" => {
                arity(2)?;
                let n = usize::try_from(int(1)?.max(0)).unwrap_or(0);
                match &json[0] {
                    Value::Array(items) => {
                        let cut = n.min(items.len());
                        let part = if lower == "take" { &items[..cut] } else { &items[cut..] };
                        V::J(Value::Array(part.to_vec()))
                    }
                    _ => {
                        let s: Vec<char> = text(self, 0)?.chars().collect();
                        let cut = n.min(s.len());
                        let part = if lower == "take" { &s[..cut] } else { &s[cut..] };
                        V::str(part.iter().collect::<String>())
                    }
                }
            }
            "add" | "sub" | "mul" | "div" | "mod" => {
                arity(2)?;
                let (a, b) = (int(0)?, int(1)?);
                let out = match lower.as_str() {
                    "add" => a.checked_add(b),
                    "sub" => a.checked_sub(b),
                    "mul" => a.checked_mul(b),
                    "div" => a.checked_div(b),
                    _ => a.checked_rem(b),
                };
                V::int(out.ok_or_else(|| format!("{name}({a}, {b}) overflows or divides by zero"))?)
            }
            "min" | "max" => {
                let numbers: Vec<Value> = match json.as_slice() {
                    [Value::Array(items)] => items.clone(),
                    _ => json.clone(),
                };
                let ints = numbers
                    .iter()
                    .map(|n| n.as_i64().ok_or_else(|| format!("{name}() takes integers, found {n}")))
                    .collect::<Result<Vec<_>, _>>()?;
                let out = if lower == "min" { ints.iter().min() } else { ints.iter().max() };
                V::int(*out.ok_or_else(|| format!("{name}() needs at least one integer"))?)
            }
            "int" => {
                arity(1)?;
                V::int(int(0)?)
            }
            "bool" => {
                arity(1)?;
                match &json[0] {
                    Value::Number(n) => V::bool(n.as_i64() != Some(0)),
                    _ => V::bool(boolean(0)?),
                }
            }
            "true" => V::bool(true),
            "false" => V::bool(false),
            "null" => V::J(Value::Null),
            "equals" => {
                arity(2)?;
                V::bool(loose_eq(&json[0], &json[1]))
            }
            "not" => {
                arity(1)?;
                V::bool(!boolean(0)?)
            }
            "and" | "or" => {
                if args.len() < 2 {
                    return Err(format!("{name}() takes at least 2 booleans"));
                }
                let values = (0..args.len()).map(boolean).collect::<Result<Vec<_>, _>>()?;
                V::bool(if lower == "and" { values.iter().all(|b| *b) } else { values.iter().any(|b| *b) })
            }
            "if" => {
                arity(3)?;
                if boolean(0)? { args[1].clone() } else { args[2].clone() }
            }
            "greater" | "greaterorequals" | "less" | "lessorequals" => {
                arity(2)?;
                let ordering = match (&json[0], &json[1]) {
                    (Value::Number(_), _) | (_, Value::Number(_)) => int(0)?.cmp(&int(1)?),
                    _ => text(self, 0)?.cmp(&text(self, 1)?),
                };
                V::bool(match lower.as_str() {
                    "greater" => ordering.is_gt(),
                    "greaterorequals" => ordering.is_ge(),
                    "less" => ordering.is_lt(),
                    _ => ordering.is_le(),
                })
            }
            "coalesce" => {
                args.iter().find(|a| !matches!(a, V::J(Value::Null))).cloned().unwrap_or(V::J(Value::Null))
            }
            "createarray" => V::J(Value::Array(json.clone())),
            "array" => {
                arity(1)?;
                match &json[0] {
                    Value::Array(_) => V::J(json[0].clone()),
                    other => V::J(Value::Array(vec![other.clone()])),
                }
            }
            "createobject" => {
                if !args.len().is_multiple_of(2) {
                    return Err("createObject() takes key, value pairs".into());
                }
                let mut m = Map::new();
                for pair in json.chunks(2) {
                    let Value::String(k) = &pair[0] else {
                        return Err(format!(
                            "createObject(): a key must be a string, found {}",
                            type_name(&pair[0])
                        ));
                    };
                    m.insert(k.clone(), pair[1].clone());
                }
                V::J(Value::Object(m))
            }
            "range" => {
                arity(2)?;
                let (start, count) = (int(0)?, int(1)?);
                if !(0..=10_000).contains(&count) {
                    return Err(format!("range(): a count is 0-10000, found {count}"));
                }
                V::J(Value::Array((0..count).map(|i| Value::from(start + i)).collect()))
            }
            "union" => match json.first() {
                Some(Value::Array(_)) => {
                    let mut out: Vec<Value> = Vec::new();
                    for a in &json {
                        for item in a.as_array().into_iter().flatten() {
                            if !out.contains(item) {
                                out.push(item.clone());
                            }
                        }
                    }
                    V::J(Value::Array(out))
                }
                Some(Value::Object(_)) => {
                    let mut out = Map::new();
                    for a in &json {
                        for (k, v) in a.as_object().into_iter().flatten() {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                    V::J(Value::Object(out))
                }
                _ => return Err("union() takes arrays or objects".into()),
            },
            "json" => {
                arity(1)?;
                let s = text(self, 0)?;
                V::J(serde_json::from_str(&s).map_err(|e| format!("json(): '{s}' is not JSON: {e}"))?)
            }
            "reference" | "list" | "listkeys" | "listsecrets" | "uniquestring" | "guid" | "newguid"
            | "utcnow" | "deployment" | "environment" | "managementgroup" | "tenant" | "pickzones" => {
                return Err(format!(
                    "{name}() is only known at deployment and cannot be evaluated offline; write the value into the template (or a parameter's defaultValue) before importing"
                ));
            }
            _ if lower.starts_with("list") => {
                return Err(format!("{name}() is only known at deployment and cannot be evaluated offline"));
            }
            _ => {
                return Err(format!(
                    "unsupported template function '{name}()'; see docs/engineers.md for the functions nsgsim evaluates"
                ));
            }
        })
    }
}

/// ARM's `equals`: deep equality, with strings compared exactly and numbers by value.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_i64() == y.as_i64() && x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `format('{0}-{1}', ...)`: `{n}` (an optional `:spec` is ignored), `{{` and `}}` escapes.
fn format_string(fmt: &str, args: &[String]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    spec.push(d);
                }
                let index = spec.split(':').next().unwrap_or_default().trim();
                let i: usize = index
                    .parse()
                    .map_err(|_| format!("format(): '{{{spec}}}' is not a placeholder like {{0}}"))?;
                let value = args.get(i).ok_or_else(|| format!("format(): '{{{i}}}' has no argument"))?;
                out.push_str(value);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> TemplateScope {
        let v: Value = serde_json::json!({
            "parameters": {"nsgName": {"type": "string", "defaultValue": "web-nsg"},
                           "noDefault": {"type": "string"},
                           "ports": {"type": "array", "defaultValue": ["22", "3389"]},
                           "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
                           "deploy": {"type": "bool", "defaultValue": false}},
            "variables": {"vnet": "prod", "subnetRef": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnet'), 'web')]",
                          "self": "[variables('self')]",
                          "a": "[variables('b')]", "b": "[concat(variables('a'), 'x')]",
                          "cfg": {"name": "[parameters('nsgName')]", "list": [1, 2]},
                          "copy": [{"name": "names", "count": 3, "input": "[concat('r', copyIndex('names'))]"}]}
        });
        TemplateScope {
            parameters: v["parameters"].as_object().cloned().unwrap_or_default(),
            variables: v["variables"].as_object().cloned().unwrap_or_default(),
            ..TemplateScope::default()
        }
    }

    fn s(text: &str) -> ArmValue {
        ArmValue::Str(text.into())
    }

    #[test]
    fn literal_ids_parse_into_type_and_names() {
        let r = parse_id("/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/prod/subnets/web")
            .expect("an id");
        assert_eq!(r.kind, "Microsoft.Network/virtualNetworks/subnets");
        assert_eq!(r.names, ["prod", "web"]);
        assert_eq!(r.subscription.as_deref(), Some("s1"));
        assert_eq!(r.resource_group.as_deref(), Some("rg1"));
        assert!(parse_id("web-nsg").is_none());
        assert!(parse_id("/subscriptions/s1/providers/Microsoft.Network/virtualNetworks").is_none());
        // An id built by resourceId() reads back as the same reference.
        let again = parse_id(&r.id(&Deployment::default())).expect("an id");
        assert_eq!(again, r);
    }

    #[test]
    fn expressions_resolve_parameters_variables_and_resource_ids() {
        let sc = scope();
        assert_eq!(eval_string("[parameters('nsgName')]", &sc), Ok(s("web-nsg")));
        assert_eq!(eval_string("[concat(parameters('nsgName'), '-', 'x')]", &sc), Ok(s("web-nsg-x")));
        assert_eq!(eval_string("[format('{0}-{1}', 'a', 2)]", &sc), Ok(s("a-2")));
        assert_eq!(eval_string("[format('{{{0}}}', 'a')]", &sc), Ok(s("{a}")));
        let ArmValue::Ref(r) = eval_string("[variables('subnetRef')]", &sc).expect("a ref") else {
            panic!("not a ref")
        };
        assert_eq!(r.key(), "microsoft.network/virtualnetworks/subnets|prod/web");
        let err = eval_string("[parameters('noDefault')]", &sc).expect_err("no default");
        assert!(err.contains("defaultValue"), "{err}");
        assert_eq!(eval_string("[[literal]", &sc), Ok(s("[literal]")));
        assert_eq!(eval_string("plain", &sc), Ok(s("plain")));
    }

    #[test]
    fn functions_indexing_and_property_access() {
        let sc = scope();
        assert_eq!(eval_string("[length(parameters('ports'))]", &sc), Ok(ArmValue::Int(2)));
        assert_eq!(eval_string("[parameters('ports')[1]]", &sc), Ok(s("3389")));
        assert_eq!(eval_string("[add(100, mul(2, 5))]", &sc), Ok(ArmValue::Int(110)));
        assert_eq!(eval_string("[variables('cfg').name]", &sc), Ok(s("web-nsg")));
        assert_eq!(eval_string("[variables('cfg').list[0]]", &sc), Ok(ArmValue::Int(1)));
        assert_eq!(eval_string("[toLower('AbC')]", &sc), Ok(s("abc")));
        assert_eq!(eval_string("[if(equals(1, 1), 'yes', 'no')]", &sc), Ok(s("yes")));
        assert_eq!(eval_string("[not(parameters('deploy'))]", &sc), Ok(ArmValue::Json(Value::Bool(true))));
        assert_eq!(eval_string("[split('a,b', ',')[1]]", &sc), Ok(s("b")));
        assert_eq!(eval_string("[variables('names')[2]]", &sc), Ok(s("r2")));
        assert_eq!(
            eval_string("[concat(createArray(1), createArray(2))]", &sc),
            Ok(ArmValue::Json(serde_json::json!([1, 2])))
        );
        // `if` evaluates only the branch it takes: the other may not be evaluable.
        assert_eq!(eval_string("[if(true(), 'x', reference('y'))]", &sc), Ok(s("x")));
        assert!(
            eval_string("[if(false(), 'x', reference('y'))]", &sc)
                .expect_err("reference")
                .contains("deployment")
        );
        assert!(eval_string("[parameters('ports')[5]]", &sc).expect_err("range").contains("out of range"));
    }

    #[test]
    fn deployment_functions_answer_from_the_offline_stand_ins() {
        let mut sc = scope();
        sc.deployment.location = "northeurope".into();
        assert_eq!(eval_string("[parameters('location')]", &sc), Ok(s("northeurope")));
        assert_eq!(
            eval_string("[concat(parameters('location'), '/default')]", &sc),
            Ok(s("northeurope/default"))
        );
        assert_eq!(
            eval_string("[subscription().subscriptionId]", &sc),
            Ok(s("00000000-0000-0000-0000-000000000000"))
        );
        assert_eq!(sc.take_stand_ins(), ["resourceGroup()", "subscription()"]);
        assert!(sc.take_stand_ins().is_empty());
    }

    #[test]
    fn self_reference_is_an_error_naming_the_chain_not_a_stack_overflow() {
        let sc = scope();
        let err = eval_string("[variables('self')]", &sc).expect_err("a cycle");
        assert!(err.contains("variables('self') -> variables('self')"), "{err}");
        let err = eval_string("[variables('a')]", &sc).expect_err("a cycle");
        assert!(err.contains("variables('a') -> variables('b') -> variables('a')"), "{err}");
        // A long but finite chain is fine; a deep expression is refused, not overflowed.
        let deep = format!("[{}'x'{}]", "concat(".repeat(200), ")".repeat(200));
        assert!(eval_string(&deep, &sc).expect_err("too deep").contains("nests more than"));
    }

    #[test]
    fn copy_index_and_property_copy_loops() {
        let sc = scope();
        assert!(eval_string("[copyIndex()]", &sc).is_err());
        let inner = sc.with_copy("loop", 2, true);
        assert_eq!(eval_string("[copyIndex()]", &inner), Ok(ArmValue::Int(2)));
        assert_eq!(eval_string("[copyIndex(1)]", &inner), Ok(ArmValue::Int(3)));
        assert_eq!(eval_string("[copyIndex('loop', 10)]", &inner), Ok(ArmValue::Int(12)));
        let resource = serde_json::json!({"properties": {"copy": [{"name": "securityRules", "count": "[length(parameters('ports'))]",
            "input": {"name": "[concat('deny-', parameters('ports')[copyIndex('securityRules')])]",
                      "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "later": "[reference('x')]",
                                     "literal": "[[x]"}}}]},
            "resources": [{"copy": [{"name": "x", "count": 1, "input": "[copyIndex()]"}]}]});
        let out = expand_property_copies(&resource, &sc).expect("expands");
        let rules = out["properties"]["securityRules"].as_array().expect("an array");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1]["name"], "deny-3389");
        assert_eq!(rules[1]["properties"]["priority"], 101);
        // Kept for later (and an error if read); escapes survive.
        assert_eq!(rules[0]["properties"]["later"], "[reference('x')]");
        assert_eq!(rules[0]["properties"]["literal"], "[[x]");
        assert!(out["properties"].get("copy").is_none());
        // Child resources are expanded in their own scope.
        assert!(out["resources"][0].get("copy").is_some());
        let bad = serde_json::json!({"properties": {"copy": [{"name": "r", "count": 1, "input": "[copyIndex('other')]"}]}});
        let (path, message) = expand_property_copies(&bad, &sc).expect_err("unknown loop");
        assert_eq!(path, "properties.copy[0].input");
        assert!(message.contains("copyIndex('other')"), "{message}");
    }

    #[test]
    fn conditions_and_counts() {
        let sc = scope();
        assert_eq!(eval_condition(&Value::Bool(false), &sc), Ok(false));
        assert_eq!(eval_condition(&Value::String("[parameters('deploy')]".into()), &sc), Ok(false));
        assert_eq!(
            eval_condition(&Value::String("[equals(variables('vnet'), 'prod')]".into()), &sc),
            Ok(true)
        );
        assert!(eval_condition(&Value::String("[variables('vnet')]".into()), &sc).is_err());
        assert_eq!(eval_count(&serde_json::json!(3), &sc), Ok(3));
        assert!(eval_count(&serde_json::json!(801), &sc).is_err());
    }
}

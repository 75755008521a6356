//! The ARM template expression language, evaluated offline.
//!
//! Templates compute names, priorities, ports and conditions with expressions. nsgsim evaluates
//! the pure part of the language: literals, property access (`.location`), indexing (`[0]`),
//! `parameters` (the value given at deployment, see [`Supplied`], else the `defaultValue`),
//! `variables` (including a `copy` variable), `copyIndex`, and the string, number, logical,
//! array and object functions listed in docs/engineers.md. `if` evaluates only the branch it
//! takes, as ARM does.
//!
//! What only a deployment knows has offline stand-ins, each reported as an assumption:
//! `resourceGroup()` and `subscription()` answer from a [`Deployment`] (location, resource group
//! and subscription, set with `nsgsim import --location/--resource-group/--subscription`).
//! `reference()`, `list*()`, `uniqueString()`, a Key Vault reference and a parameter with no
//! value and no `defaultValue` cannot be known offline: their evaluation fails with a message
//! saying why, which the template reader turns into an unknown value (an error only where
//! nsgsim reads it).
//!
//! Evaluation is bounded: a variable or parameter that refers to itself, directly or through
//! others, is reported with its chain (`variables('a') -> variables('b') -> variables('a')`)
//! instead of recursing, and expressions nest at most [`MAX_DEPTH`] levels.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use serde_json::{Map, Number, Value};

use super::id::ResourceRef;
use crate::import::json::kind_of as type_name;

mod functions;

/// How deep expressions, and chains of variables and parameters, may nest.
pub const MAX_DEPTH: usize = 64;

/// ARM's limit on the iterations of one copy loop.
pub const MAX_COPY_COUNT: i64 = 800;

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

/// What a parameter is given at deployment (`--parameters`, `--parameter`).
#[derive(Clone, Debug, PartialEq)]
pub enum Supplied {
    /// A value, used as it is (ARM evaluates no expression in a parameter value).
    Value(Value),
    /// A Key Vault secret reference: only the deployment can read the secret.
    KeyVault {
        /// The secret's name.
        secret: String,
        /// The vault's resource id.
        vault: String,
    },
}

/// A template's declarations and the values given for its parameters.
#[derive(Debug, Default)]
struct Declarations {
    parameters: Map<String, Value>,
    variables: Map<String, Value>,
    /// Given values, by lower-case parameter name.
    supplied: HashMap<String, Supplied>,
}

/// The template's `parameters` (declarations and given values) and `variables`, the deployment
/// stand-ins, and the copy loops being expanded: everything an expression can refer to. Cheap
/// to clone: the declarations are shared.
#[derive(Clone, Debug, Default)]
pub struct TemplateScope {
    declarations: Rc<Declarations>,
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

    /// The scope of a template: its `parameters` and `variables` objects and the values given
    /// for its parameters (by parameter name, any case).
    pub fn template(
        parameters: Map<String, Value>,
        variables: Map<String, Value>,
        supplied: HashMap<String, Supplied>,
        deployment: Deployment,
    ) -> TemplateScope {
        let supplied = supplied.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        TemplateScope {
            declarations: Rc::new(Declarations { parameters, variables, supplied }),
            deployment,
            ..TemplateScope::default()
        }
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
        ArmValue::Str(s) => Err(format!("a copy count is an integer, found the string '{s}'")),
        ArmValue::Ref(r) => Err(format!("a copy count is an integer, found the resource id of {}", r.kind)),
        ArmValue::Json(v) => Err(format!("a copy count is an integer, found {}", type_name(&v))),
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
        let declarations = Rc::clone(&self.scope.declarations);
        let vars = &declarations.variables;
        if let Some((k, value)) = vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            let label = format!("variables('{k}')");
            return self.named(label, value);
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
            let null = Value::Null;
            let input = l.get("input").unwrap_or(&null);
            let mut items = Vec::new();
            for i in 0..count {
                let inner = self.scope.with_copy(name, i, false);
                let mut ev = Eval { scope: &inner, stack: self.stack.clone() };
                let label = format!("variables('{name}')[{i}]");
                items.push(ev.named(label, input)?.json(&inner.deployment));
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

    /// A parameter: the value given at deployment, as it is, else its `defaultValue`
    /// (evaluated in the template's scope).
    fn parameter(&mut self, name: &str) -> Result<V, String> {
        let declarations = Rc::clone(&self.scope.declarations);
        let Some((k, param)) = declarations.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
        else {
            let mut known: Vec<&str> = declarations.parameters.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(format!(
                "parameters('{name}'): the template declares no parameter '{name}' (declared: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ));
        };
        match declarations.supplied.get(&k.to_ascii_lowercase()) {
            Some(Supplied::Value(v)) => return Ok(V::J(v.clone())),
            Some(Supplied::KeyVault { secret, vault }) => {
                return Err(format!(
                    "parameters('{k}'): a Key Vault reference (secret '{secret}' of {vault}) is only read at deployment; give the value with --parameter {k}=VALUE"
                ));
            }
            None => {}
        }
        let Some(default) = param.get("defaultValue") else {
            return Err(format!(
                "parameters('{k}'): the parameter has no value and no defaultValue; pass it with --parameters FILE or --parameter {k}=VALUE"
            ));
        };
        let label = format!("parameters('{k}')");
        self.named(label, default)
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
        TemplateScope::template(
            v["parameters"].as_object().cloned().unwrap_or_default(),
            v["variables"].as_object().cloned().unwrap_or_default(),
            HashMap::new(),
            Deployment::default(),
        )
    }

    fn s(text: &str) -> ArmValue {
        ArmValue::Str(text.into())
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
        let ArmValue::Ref(slash) =
            eval_string("[resourceId('Microsoft.Network/virtualNetworks/subnets/', 'prod', 'web')]", &sc)
                .expect("a ref")
        else {
            panic!("not a ref")
        };
        assert_eq!(slash, r);
        let err = eval_string("[parameters('noDefault')]", &sc).expect_err("no default");
        assert_eq!(
            err,
            "parameters('noDefault'): the parameter has no value and no defaultValue; pass it with --parameters FILE or --parameter noDefault=VALUE"
        );
        let err = eval_string("[parameters('nothing')]", &sc).expect_err("undeclared");
        assert!(err.ends_with("(declared: deploy, location, noDefault, nsgName, ports)"), "{err}");
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
    fn copy_index_answers_the_innermost_loop_of_its_name() {
        let sc = scope();
        assert!(eval_string("[copyIndex()]", &sc).is_err());
        let inner = sc.with_copy("loop", 2, true);
        assert_eq!(eval_string("[copyIndex()]", &inner), Ok(ArmValue::Int(2)));
        assert_eq!(eval_string("[copyIndex(1)]", &inner), Ok(ArmValue::Int(3)));
        assert_eq!(eval_string("[copyIndex('loop', 10)]", &inner), Ok(ArmValue::Int(12)));
    }

    #[test]
    fn given_parameter_values_win_over_defaults_and_are_not_evaluated() {
        let v = serde_json::json!({"name": {"type": "string", "defaultValue": "from-default"},
                                   "noDefault": {"type": "string"}, "secret": {"type": "securestring"}});
        let supplied = HashMap::from([
            ("NAME".to_string(), Supplied::Value(serde_json::json!("[not an expression]"))),
            ("nodefault".to_string(), Supplied::Value(serde_json::json!(42))),
            (
                "secret".to_string(),
                Supplied::KeyVault { secret: "pw".into(), vault: "/subscriptions/s/vaults/kv".into() },
            ),
        ]);
        let sc = TemplateScope::template(
            v.as_object().cloned().unwrap_or_default(),
            Map::new(),
            supplied,
            Deployment::default(),
        );
        assert_eq!(eval_string("[parameters('name')]", &sc), Ok(s("[not an expression]")));
        assert_eq!(eval_string("[add(parameters('noDefault'), 1)]", &sc), Ok(ArmValue::Int(43)));
        let e = eval_string("[parameters('secret')]", &sc).expect_err("only at deployment");
        assert!(e.contains("Key Vault reference (secret 'pw' of /subscriptions/s/vaults/kv)"), "{e}");
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
        assert_eq!(
            eval_count(&serde_json::json!("[createArray(1)]"), &sc),
            Err("a copy count is an integer, found an array".into())
        );
    }
}

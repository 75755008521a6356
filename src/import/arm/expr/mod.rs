//! The ARM template expression language, evaluated offline.
//!
//! Templates compute names, priorities, ports and conditions with expressions. nsgsim evaluates
//! the language as Azure Resource Manager does: literals, property access (`.location`, any
//! case), indexing (`[0]`), function names in any case, `[[` escaping a literal `[`, and every
//! function of Microsoft's function reference that can be evaluated offline ([`functions`],
//! listed in docs/engineers.md): `parameters` (the value given at deployment, see [`Supplied`],
//! else the `defaultValue`), `variables` (including `copy` variables), user-defined functions,
//! `copyIndex`, lambdas, and the string, number, logical, array, object, date, CIDR and resource
//! id functions. `if` evaluates only the branch it takes, as ARM does.
//!
//! What only a deployment knows answers from the offline [`Deployment`] context, each use
//! reported once as an assumption; `uniqueString()` and `guid()` are computed exactly as Azure
//! computes them ([`hash`]). `reference()` and `list*()` of a resource the template declares
//! answer from its declared properties through the [`Resources`] the reader gives the scope;
//! anything else that cannot be known offline (a resource not in the input, a Key Vault secret,
//! a non-string parameter with no value) fails with a message saying why, which the template
//! reader turns into an unknown value (an error only where nsgsim reads it). A string parameter
//! with no value is a [`placeholder`] that may only name things.
//!
//! Evaluation is bounded: an expression is at most [`MAX_EXPRESSION_CHARS`] characters (ARM's
//! limit) and nests at most [`MAX_DEPTH`] levels; a variable or parameter that refers to
//! itself is reported with its chain; variables and parameter defaults are evaluated once and
//! remembered; integer arithmetic is checked; and what expressions build is counted against
//! the import's [`budget::Budget`].

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use serde_json::{Map, Number, Value};

use super::id::ResourceRef;
use crate::import::json::{kind_of as type_name, shorten};

pub mod budget;
mod context;
mod error;
mod format;
mod function_error;
mod functions;
pub mod hash;
mod parser;
pub mod placeholder;

pub use budget::Budget;
pub use context::Deployment;
pub use error::{ArgKind, CopyCountError, ExprError, ParentValue, SyntaxError, VariableCopyError};
pub use function_error::{FunctionError, TextKind, Usage};
use parser::Parser;

/// How deep expressions, and chains of variables and parameters, may nest.
pub const MAX_DEPTH: usize = 64;

/// ARM's limit on the iterations of one copy loop.
pub const MAX_COPY_COUNT: i64 = 800;

/// ARM's limit on the length of one template expression ("24,576 characters in a template
/// expression", Microsoft's template best practices).
pub const MAX_EXPRESSION_CHARS: usize = 24_576;

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
    /// A value the parent template passes in that cannot be known offline.
    Unknown {
        /// The parameter, as the parent names it.
        parameter: String,
        /// Why its value cannot be known.
        why: ParentValue,
    },
}

/// What `reference()`, `list*()` and `resourceInfo()` may ask of the template's resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A symbolic name (`languageVersion` 2.0), with an index for a copied resource (`nsgs[1]`).
    Symbolic(String),
    /// A resource id (from `resourceId()` or written out).
    Id(ResourceRef),
    /// A bare resource name, as `reference('vnet')` may give it.
    Name(String),
}

/// The resources a template declares, as the reader knows them: what `reference()` and
/// `resourceInfo()` answer for a resource of the template.
pub trait Resources: std::fmt::Debug {
    /// The declared resource `target` as `reference()` gives it: its properties, or with
    /// `full` the whole resource (`id`, `name`, `type`, `location`, `sku`, `properties`, …).
    /// `None` when the template declares no such resource.
    fn reference(&self, target: &Target, full: bool) -> Option<Result<Value, ExprError>>;

    /// `resourceInfo('symbolic')`: `id`, `name`, `type` and `apiVersion`. `None` when the
    /// template declares no such symbolic name.
    fn info(&self, symbolic: &str) -> Option<Result<Value, ExprError>>;
}

/// A template's declarations and the values given for its parameters.
#[derive(Debug, Default)]
struct Declarations {
    parameters: Map<String, Value>,
    variables: Map<String, Value>,
    /// User-defined functions, by lower-case `namespace.name`.
    functions: HashMap<String, Value>,
    /// Given values, by lower-case parameter name.
    supplied: HashMap<String, Supplied>,
    /// The template's `$schema` and `contentVersion`, for `deployment()`.
    schema: String,
    content_version: String,
    /// Variables and parameter defaults already evaluated, by their label (lower case).
    memo: RefCell<HashMap<String, Result<Value, ExprError>>>,
}

/// The template's `parameters` (declarations and given values) and `variables`, the deployment
/// context, the copy loops being expanded and the lambda variables bound: everything an
/// expression can refer to. Cheap to clone: the declarations are shared.
#[derive(Clone, Debug, Default)]
pub struct TemplateScope {
    declarations: Rc<Declarations>,
    /// What `resourceGroup()`, `subscription()`, `deployment()` and the rest answer.
    pub deployment: Deployment,
    copies: Vec<CopyBinding>,
    /// Lambda variables bound, innermost last.
    lambdas: Vec<(String, Value)>,
    /// The deployment functions used, for one warning each (shared by every copy of the scope).
    stand_ins: Rc<RefCell<BTreeSet<String>>>,
    /// What evaluation may build, shared by every scope of an import.
    budget: Rc<Budget>,
    /// The template's resources, for `reference()`.
    resources: Option<Rc<dyn Resources>>,
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
            declarations: Rc::new(Declarations {
                parameters,
                variables,
                supplied,
                ..Declarations::default()
            }),
            deployment,
            ..TemplateScope::default()
        }
    }

    /// The same scope with the template's user-defined `functions` section, `$schema` and
    /// `contentVersion` (call before the scope is shared).
    pub fn with_template_details(
        mut self,
        functions: &Value,
        schema: &str,
        content_version: &str,
    ) -> TemplateScope {
        let mut table = HashMap::new();
        for namespace in functions.as_array().into_iter().flatten() {
            let Some(ns) = namespace.get("namespace").and_then(Value::as_str) else { continue };
            for (name, definition) in
                namespace.get("members").and_then(Value::as_object).into_iter().flatten()
            {
                table.insert(format!("{ns}.{name}").to_ascii_lowercase(), definition.clone());
            }
        }
        let d = &self.declarations;
        self.declarations = Rc::new(Declarations {
            parameters: d.parameters.clone(),
            variables: d.variables.clone(),
            functions: table,
            supplied: d.supplied.clone(),
            schema: schema.to_string(),
            content_version: content_version.to_string(),
            memo: RefCell::default(),
        });
        self
    }

    /// The same scope counting against `budget` (one per import).
    pub fn with_budget(mut self, budget: Rc<Budget>) -> TemplateScope {
        self.budget = budget;
        self
    }

    /// The same scope answering `reference()` from `resources`.
    pub fn with_resources(mut self, resources: Rc<dyn Resources>) -> TemplateScope {
        self.resources = Some(resources);
        self
    }

    /// The scope inside one iteration of a copy loop named `name`.
    pub fn with_copy(&self, name: &str, index: i64, resource: bool) -> TemplateScope {
        let mut scope = self.clone();
        scope.copies.push(CopyBinding { name: name.to_string(), index, resource });
        scope
    }

    /// The scope with lambda variable `name` bound to `value`.
    fn with_lambda(&self, name: &str, value: Value) -> TemplateScope {
        let mut scope = self.clone();
        scope.lambdas.push((name.to_string(), value));
        scope
    }

    /// The import's budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The shared budget, to give another template's scope.
    pub fn shared_budget(&self) -> Rc<Budget> {
        Rc::clone(&self.budget)
    }

    /// The same scope with a set of deployment functions used of its own, so that what it
    /// evaluates is not reported with the template's (see [`TemplateScope::take_stand_ins`]).
    pub fn quiet(&self) -> TemplateScope {
        TemplateScope { stand_ins: Rc::default(), ..self.clone() }
    }

    /// The deployment functions evaluated with offline stand-ins so far (`resourceGroup()`,
    /// `subscription()`, `utcNow()`, …), drained.
    pub fn take_stand_ins(&self) -> Vec<String> {
        std::mem::take(&mut *self.stand_ins.borrow_mut()).into_iter().collect()
    }
}

/// Evaluates a JSON string value: a template expression `[...]` or a literal (`[[` escapes a
/// literal `[`).
///
/// # Errors
/// A message saying what cannot be evaluated and why.
pub fn eval_string(text: &str, scope: &TemplateScope) -> Result<ArmValue, ExprError> {
    let mut ev = Eval { scope, stack: Vec::new() };
    ev.text(text).map(V::into_arm)
}

/// Reads the body of an expression (the text between `[` and `]`) as the evaluator reads it,
/// evaluating nothing: `Ok` when it reads, else the syntax error (for the test that the
/// validator's reader agrees).
#[cfg(test)]
pub(crate) fn read_only(body: &str) -> Result<(), ExprError> {
    let scope = TemplateScope::template(Map::new(), Map::new(), HashMap::new(), Deployment::default());
    let mut ev = Eval { scope: &scope, stack: Vec::new() };
    let mut parser = parser::Parser::new(body.chars().collect(), &mut ev).reading_only();
    parser.expression().and_then(|_| parser.end())
}

/// Evaluates any JSON value that may hold an expression: strings are evaluated, numbers pass,
/// arrays and objects are returned with every expression in them evaluated.
///
/// # Errors
/// See [`eval_string`].
pub fn eval_value(value: &Value, scope: &TemplateScope) -> Result<ArmValue, ExprError> {
    match value {
        Value::String(s) => eval_string(s, scope),
        Value::Number(n) => n
            .as_i64()
            .map(ArmValue::Int)
            .ok_or_else(|| ExprError::NotAnInteger { value: n.to_string(), string: false }),
        other => {
            let mut ev = Eval { scope, stack: Vec::new() };
            ev.deep(other).map(V::into_arm)
        }
    }
}

/// Evaluates any JSON value to plain JSON (resource ids as their id strings).
///
/// # Errors
/// See [`eval_string`].
pub fn eval_json(value: &Value, scope: &TemplateScope) -> Result<Value, ExprError> {
    let mut ev = Eval { scope, stack: Vec::new() };
    Ok(ev.deep(value)?.json(&scope.deployment))
}

/// Evaluates a template `condition`: a boolean, or an expression that gives one.
///
/// # Errors
/// An expression that cannot be evaluated, or a value that is not a boolean.
pub fn eval_condition(value: &Value, scope: &TemplateScope) -> Result<bool, ExprError> {
    let v = match value {
        Value::String(s) => Eval { scope, stack: Vec::new() }.text(s)?,
        other => V::J(other.clone()),
    };
    match v {
        V::J(Value::Bool(b)) => Ok(b),
        V::J(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        V::J(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        V::J(v) if placeholder::in_json(&v) => {
            let mut names = std::collections::BTreeSet::new();
            placeholder::names_in_json(&v, &mut names);
            Err(placeholder::needed(&names, "a condition"))
        }
        other => Err(ExprError::ConditionNotBoolean(other.describe())),
    }
}

/// Evaluates a copy loop's `count`: an integer 0..=800.
///
/// # Errors
/// An expression that cannot be evaluated, or a value that is not such an integer.
pub fn eval_count(value: &Value, scope: &TemplateScope) -> Result<i64, ExprError> {
    match eval_value(value, scope)? {
        ArmValue::Int(n) if (0..=MAX_COPY_COUNT).contains(&n) => Ok(n),
        ArmValue::Int(n) => Err(CopyCountError::OutOfRange(n).into()),
        ArmValue::Str(s) if placeholder::in_str(&s) => {
            let mut names = std::collections::BTreeSet::new();
            placeholder::names_in_str(&s, &mut names);
            Err(placeholder::needed(&names, "a copy count"))
        }
        ArmValue::Str(s) => Err(CopyCountError::String(shorten(&s)).into()),
        ArmValue::Ref(r) => Err(CopyCountError::ResourceId(r.kind.to_string()).into()),
        ArmValue::Json(v) => Err(CopyCountError::Json(type_name(&v)).into()),
    }
}

/// A value during evaluation: JSON, a resource reference (which becomes its id string when a
/// string function uses it), or a lambda (only as an argument of the lambda functions).
#[derive(Clone, Debug)]
enum V {
    J(Value),
    Ref(ResourceRef),
    Lambda(Rc<Lambda>),
}

/// `lambda('x', 'y', body)`: the variable names and the body's text, evaluated per call.
#[derive(Debug)]
struct Lambda {
    params: Vec<String>,
    body: String,
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
            V::Lambda(_) => ArmValue::Json(Value::Null),
        }
    }

    fn json(&self, deployment: &Deployment) -> Value {
        match self {
            V::Ref(r) => Value::String(r.id(deployment)),
            V::J(v) => v.clone(),
            V::Lambda(_) => Value::Null,
        }
    }

    /// The value for a message: never more than about 200 characters, control characters
    /// escaped.
    fn describe(&self) -> String {
        match self {
            V::Ref(r) => format!("the resource id of {}/{}", r.kind, shorten(&r.names.join("/"))),
            V::J(Value::String(s)) => format!("the string '{}'", shorten(s)),
            V::J(v) => format!("{} {}", type_name(v), shorten(&v.to_string())),
            V::Lambda(_) => "a lambda".into(),
        }
    }
}

/// One evaluation: the scope, and the parameters and variables being evaluated (for cycles).
struct Eval<'a> {
    scope: &'a TemplateScope,
    /// The parameters and variables being evaluated, outermost first (cycle detection).
    stack: Vec<Frame>,
}

/// What an evaluation is inside of, for cycles, depth and the places `utcNow()` may be used.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Frame {
    /// A parameter's default value (its name as declared).
    Parameter(String),
    /// A variable's value (its name as declared).
    Variable(String),
    /// An item of a variable copy loop: the loop's name as written, and the index.
    CopyItem(String, i64),
    /// A user-defined function's output (`ns.name`).
    Function(String),
}

impl Frame {
    /// Whether `self` and `other` are the same declaration (names compared without case, as
    /// ARM compares them).
    fn is(&self, other: &Frame) -> bool {
        self.to_string().eq_ignore_ascii_case(&other.to_string())
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Frame::Parameter(name) => write!(f, "parameters('{name}')"),
            Frame::Variable(name) => write!(f, "variables('{name}')"),
            Frame::CopyItem(name, i) => write!(f, "variables('{name}')[{i}]"),
            Frame::Function(name) => write!(f, "{name}()"),
        }
    }
}

/// The error of variable copy loop `name`.
fn variable_copy(name: &str, error: VariableCopyError) -> ExprError {
    ExprError::VariableCopy { name: name.to_string(), error }
}

impl Eval<'_> {
    /// A string as ARM reads it: `[[…` is a literal, `[…]` an expression, anything else literal.
    fn text(&mut self, text: &str) -> Result<V, ExprError> {
        let trimmed = text.trim();
        if let Some(rest) = trimmed.strip_prefix("[[") {
            return Ok(V::str(format!("[{rest}")));
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') && trimmed.len() >= 2 {
            return self.expression(&trimmed[1..trimmed.len() - 1]);
        }
        Ok(V::str(text))
    }

    /// The expression `body` (without its brackets).
    fn expression(&mut self, body: &str) -> Result<V, ExprError> {
        let chars: Vec<char> = body.chars().collect();
        if chars.len() > MAX_EXPRESSION_CHARS {
            return Err(SyntaxError::TooLong { chars: chars.len(), limit: MAX_EXPRESSION_CHARS }.into());
        }
        let mut parser = Parser::new(chars, self);
        let parsed = parser.expression().and_then(|value| parser.end().map(|()| value));
        parsed.map_err(ExprError::with_syntax_hint)
    }

    /// A JSON value with every expression in it evaluated (a variable's or parameter's value).
    fn deep(&mut self, value: &Value) -> Result<V, ExprError> {
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

    /// Evaluates `value` as the definition of `label` (`variables('a')`), refusing cycles, once:
    /// the result is remembered for the template (`memo`), or not at all (`None`, for values that
    /// depend on a copy loop).
    fn named(&mut self, label: Frame, value: &Value, memo: bool) -> Result<V, ExprError> {
        let key = label.to_string().to_ascii_lowercase();
        if memo && let Some(done) = self.scope.declarations.memo.borrow().get(&key) {
            return done.clone().map(V::J);
        }
        if let Some(at) = self.stack.iter().position(|s| s.is(&label)) {
            let mut chain: Vec<String> = self.stack[at..].iter().map(Frame::to_string).collect();
            chain.push(label.to_string());
            return Err(ExprError::Cycle(chain));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(ExprError::TooDeepReferences(self.stack.iter().map(Frame::to_string).collect()));
        }
        self.stack.push(label);
        let out = self.deep(value).map(|v| v.json(&self.scope.deployment));
        self.stack.pop();
        // A spent budget is not remembered as this variable's failure: it is the import's.
        if memo && !self.scope.budget.is_exceeded() {
            self.scope.declarations.memo.borrow_mut().insert(key, out.clone());
        }
        out.map(V::J)
    }

    fn variable(&mut self, name: &str) -> Result<V, ExprError> {
        let declarations = Rc::clone(&self.scope.declarations);
        let vars = &declarations.variables;
        if let Some((k, value)) = vars.iter().find(|(k, _)| k.eq_ignore_ascii_case(name) && *k != "copy") {
            return self.named(Frame::Variable(k.clone()), value, true);
        }
        // A variable copy loop: `"copy": [{"name": "x", "count": n, "input": ...}]`.
        if let Some(Value::Array(loops)) = vars.get("copy")
            && let Some(l) = loops
                .iter()
                .find(|l| l.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)))
        {
            let key = format!("variables('{name}')").to_ascii_lowercase();
            if let Some(done) = declarations.memo.borrow().get(&key) {
                return done.clone().map(V::J);
            }
            let count = match l.get("count") {
                Some(c) => self.deep(c)?,
                None => return Err(variable_copy(name, VariableCopyError::NoCount)),
            };
            let count = match count {
                V::J(Value::Number(n)) => n.as_i64().unwrap_or(-1),
                other => return Err(variable_copy(name, VariableCopyError::NotAnInteger(other.describe()))),
            };
            if !(0..=MAX_COPY_COUNT).contains(&count) {
                return Err(variable_copy(name, VariableCopyError::OutOfRange(count)));
            }
            let null = Value::Null;
            let input = l.get("input").unwrap_or(&null);
            let mut items = Vec::new();
            for i in 0..count {
                let inner = self.scope.with_copy(name, i, false);
                let mut ev = Eval { scope: &inner, stack: self.stack.clone() };
                let label = Frame::CopyItem(name.to_string(), i);
                items.push(ev.named(label, input, false)?.json(&inner.deployment));
            }
            let out = Value::Array(items);
            declarations.memo.borrow_mut().insert(key, Ok(out.clone()));
            return Ok(V::J(out));
        }
        let mut declared: Vec<String> = vars.keys().filter(|k| *k != "copy").cloned().collect();
        declared.sort();
        Err(ExprError::UndeclaredVariable { name: name.to_string(), declared })
    }

    /// A parameter: the value given at deployment, as it is, else its `defaultValue`
    /// (evaluated in the template's scope), else `null` for a nullable parameter. A `null`
    /// given for a parameter that has a `defaultValue` counts as not given: the default is
    /// used (**model choice**, see [`null_takes_the_default`]).
    fn parameter(&mut self, name: &str) -> Result<V, ExprError> {
        let declarations = Rc::clone(&self.scope.declarations);
        let Some((k, param)) = declarations.parameters.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
        else {
            let mut declared: Vec<String> = declarations.parameters.keys().cloned().collect();
            declared.sort_unstable();
            return Err(ExprError::UndeclaredParameter { name: name.to_string(), declared });
        };
        match declarations.supplied.get(&k.to_ascii_lowercase()) {
            Some(Supplied::Value(v)) if null_takes_the_default(v, param) => {}
            Some(Supplied::Value(v)) => return Ok(V::J(v.clone())),
            Some(Supplied::KeyVault { secret, vault }) => {
                return Err(ExprError::KeyVault {
                    parameter: k.clone(),
                    secret: secret.clone(),
                    vault: vault.clone(),
                });
            }
            Some(Supplied::Unknown { parameter, why }) => {
                return Err(ExprError::ParentParameter { parameter: parameter.clone(), why: why.clone() });
            }
            None => {}
        }
        let Some(default) = param.get("defaultValue") else {
            if param.get("nullable").and_then(Value::as_bool) == Some(true) {
                return Ok(V::J(Value::Null));
            }
            // A string the deployment would ask for: a placeholder that may only name things.
            let declared = param.get("type").and_then(Value::as_str).unwrap_or("");
            if declared.eq_ignore_ascii_case("string") || declared.eq_ignore_ascii_case("securestring") {
                return Ok(V::str(placeholder::make(k)));
            }
            return Err(ExprError::NoParameterValue { parameter: k.clone() });
        };
        self.named(Frame::Parameter(k.clone()), default, true)
    }

    /// Whether a parameter's default value is being evaluated (where `utcNow()` and
    /// `newGuid()` are allowed), and which: `parameters('name')`.
    fn parameter_default(&self) -> Option<String> {
        self.stack.iter().rev().find(|s| matches!(s, Frame::Parameter(_))).map(Frame::to_string)
    }

    fn copy_index(&self, name: Option<&str>, offset: i64) -> Result<V, ExprError> {
        let binding = match name {
            Some(n) => self.scope.copies.iter().rev().find(|c| c.name.eq_ignore_ascii_case(n)),
            None => self.scope.copies.iter().rev().find(|c| c.resource),
        };
        match binding {
            Some(b) => b
                .index
                .checked_add(offset)
                .map(V::int)
                .ok_or(ExprError::CopyIndexOverflow { index: b.index, offset }),
            None => {
                Err(ExprError::CopyIndexOutside { name: name.map(shorten), valid: self.valid_copy_indexes() })
            }
        }
    }

    /// What `copyIndex()` may be called as here: the loops that enclose the expression, the
    /// innermost first (none outside every loop).
    fn valid_copy_indexes(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        if self.scope.copies.iter().any(|c| c.resource) {
            names.push("copyIndex()".into());
        }
        for c in self.scope.copies.iter().rev() {
            let call = format!("copyIndex('{}')", shorten(&c.name));
            if !names.contains(&call) {
                names.push(call);
            }
        }
        names
    }

    /// `lambdaVariables('x')`: the innermost lambda variable of that name.
    fn lambda_variable(&self, name: &str) -> Result<V, ExprError> {
        self.scope
            .lambdas
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| V::J(v.clone()))
            .ok_or_else(|| ExprError::NoLambdaVariable { name: shorten(name) })
    }

    /// Calls `lambda` with `values` bound to its variables.
    fn call_lambda(&mut self, lambda: &Lambda, values: Vec<Value>) -> Result<Value, ExprError> {
        if lambda.params.len() > values.len() {
            return Err(ExprError::LambdaArity { takes: lambda.params.len(), given: values.len() });
        }
        let mut scope = self.scope.clone();
        for (name, value) in lambda.params.iter().zip(values) {
            scope = scope.with_lambda(name, value);
        }
        let mut ev = Eval { scope: &scope, stack: self.stack.clone() };
        Ok(ev.expression(&lambda.body)?.json(&scope.deployment))
    }

    /// A user-defined function `namespace.name(args)`: its `output.value` with its parameters
    /// bound to `args` (they are the only names it sees, as in ARM).
    fn user_function(&mut self, name: &str, args: Vec<Value>) -> Result<V, ExprError> {
        let declarations = Rc::clone(&self.scope.declarations);
        let Some(definition) = declarations.functions.get(&name.to_ascii_lowercase()) else {
            return Err(ExprError::UndefinedFunction { name: name.to_string() });
        };
        let params: Vec<&str> = definition
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        if params.len() != args.len() {
            return Err(ExprError::UserFunctionArity {
                name: name.to_string(),
                takes: params.len(),
                given: args.len(),
            });
        }
        let Some(output) = definition.get("output").and_then(|o| o.get("value")) else {
            return Err(ExprError::NoOutput { name: name.to_string() });
        };
        let label = Frame::Function(name.to_string());
        if self.stack.contains(&label) || self.stack.len() >= MAX_DEPTH {
            return Err(ExprError::Recursion { name: name.to_string() });
        }
        let declarations = Declarations {
            parameters: params
                .iter()
                .zip(&args)
                .map(|(p, a)| ((*p).to_string(), serde_json::json!({"defaultValue": a})))
                .collect(),
            functions: declarations.functions.clone(),
            schema: declarations.schema.clone(),
            content_version: declarations.content_version.clone(),
            ..Declarations::default()
        };
        // A default given as a value must not be evaluated again: strings that look like
        // expressions are passed as supplied values instead.
        let supplied =
            params.iter().zip(args).map(|(p, a)| (p.to_ascii_lowercase(), Supplied::Value(a))).collect();
        let scope = TemplateScope {
            declarations: Rc::new(Declarations { supplied, ..declarations }),
            ..self.scope.clone()
        };
        let mut stack = self.stack.clone();
        stack.push(label);
        let mut ev = Eval { scope: &scope, stack };
        Ok(V::J(ev.deep(output)?.json(&scope.deployment)))
    }

    fn note(&self, what: &str) {
        self.scope.stand_ins.borrow_mut().insert(what.to_string());
    }
}

/// Whether the value `given` for the parameter declared as `param` counts as not given, so that
/// its `defaultValue` is used: a `null` for a parameter that has a default. **Model choice**:
/// Microsoft's own Bicep-built modules rely on it (the Azure Verified Module for virtual
/// networks passes `tryGet(peering, 'name')` to its peering module, `null` when the caller
/// gave no name, and documents the parameter as "If not provided, default value will be
/// peer-localVnetName-remoteVnetName"); a parameter without a default keeps the `null`.
fn null_takes_the_default(given: &Value, param: &Value) -> bool {
    given.is_null() && param.get("defaultValue").is_some()
}

#[cfg(test)]
mod tests;

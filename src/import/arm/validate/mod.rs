//! The validation pass: every expression of a template checked as Azure Resource Manager checks
//! it before deploying anything, whether or not nsgsim imports its resource (and, a model choice
//! said in every message, whether or not the resource is deployed).
//!
//! The reader skips a resource of a type nsgsim does not model before evaluating it, and a
//! resource whose `condition` is false, or whose copy count is 0, is never evaluated either; an
//! expression nsgsim does not need is never evaluated. Azure is stricter: it reads every
//! expression of the template first and refuses the whole template when one is not an
//! expression ("Unable to parse language expression …"), calls a function it does not know
//! ("The template function '…' is not valid") or names a variable or parameter the template
//! does not declare ("The template variable '…' is not found", "The template parameter '…' is
//! not found"). Microsoft's pages and the errors users report are quoted in docs/fidelity.md.
//! A template Azure would refuse must not import with exit 0, so this pass runs first, over the
//! whole document:
//!
//! - every string of every resource (any type, any condition, any copy count, child resources
//!   included), of `variables` (copy loops too), of `outputs`, and of parameter `defaultValue`s;
//! - user-defined functions' `output`, where `parameters('x')` names the function's own
//!   parameters ("The function can only use parameters that are defined in the function");
//! - nested inline templates (`Microsoft.Resources/deployments`, and any embedded template, such
//!   as a template spec's `mainTemplate`): with `expressionEvaluationOptions.scope` `inner`, only
//!   their own parameters and variables; else (`outer`, the default) the parent's, and, as a
//!   **model choice** (never refusing what Azure might accept), their own as well;
//! - `languageVersion` 2.0 resources keyed by symbolic name alike.
//!
//! Only names written as literals are checked: `variables(concat('a', 'b'))` is not checkable
//! offline and is left to the evaluator; nor are names in the branches of `if()` (and after the
//! first argument of `and()`/`or()`), which Azure evaluates only when they are taken. The first problem, in document order, is a positioned
//! error (exit 2). The walk visits each value once and reads each string once ([`syntax`]), so
//! its time is linear in the document, which the JSON reader already bounds.

mod functions;
mod syntax;

use std::collections::HashSet;
use std::fmt;
use std::rc::Rc;

use super::nested::DEPLOYMENTS;
use crate::import::ImportError;
use crate::import::json::{Node, Value as NodeValue, shorten};
use crate::import::source::{Diagnostics, Src};
use syntax::{Expr, Unread};

/// Checks every expression of the template `root` (at `at`) as Azure does before deploying it.
///
/// # Errors
/// The first expression Azure would refuse: where it is, the expression, what is wrong and
/// what would be valid.
pub fn template(root: &Node, at: &Src, diag: &Diagnostics) -> Result<(), ImportError> {
    let names = Names::of(root);
    Walk { diag }.template(root, at, &names)
}

/// A set of declared names: as declared (for messages) and lower case (for look-ups), shared
/// between the scopes that see it.
#[derive(Debug, Default)]
struct Set {
    names: Vec<String>,
    lower: HashSet<String>,
}

impl Set {
    fn new(names: Vec<String>) -> Rc<Set> {
        let lower = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        Rc::new(Set { names, lower })
    }
}

/// The layers of sets a scope sees (a nested template's own, then its parent's): a look-up is
/// a hash look-up per layer, and a nested template shares its parent's sets instead of copying
/// them, so the walk stays linear however many names and nested templates there are.
type Layers = Vec<Rc<Set>>;

/// Whether any layer of `layers` has `name`, compared without case as Azure compares names.
fn has(layers: &Layers, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    layers.iter().any(|s| s.lower.contains(&lower))
}

/// Every name of `layers`, sorted, each once (for a message).
fn declared(layers: &Layers) -> Vec<String> {
    let mut all: Vec<String> = layers.iter().flat_map(|s| s.names.iter().cloned()).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// What a template's expressions may name: its parameters, variables and user-defined
/// functions, as declared. `None`: not checked there (variables inside a user-defined function,
/// which Azure forbids in other words).
#[derive(Clone, Debug, Default)]
struct Names {
    parameters: Option<Layers>,
    variables: Option<Layers>,
    functions: Layers,
    /// Inside the user-defined function of this name.
    function: Option<String>,
}

impl Names {
    /// The names the template `root` declares.
    fn of(root: &Node) -> Names {
        let keys = |key: &str| -> Vec<String> {
            root.get(key)
                .and_then(Node::as_object)
                .map(|o| o.keys().map(str::to_string).collect())
                .unwrap_or_default()
        };
        let mut variables: Vec<String> = keys("variables").into_iter().filter(|k| k != "copy").collect();
        // A variable copy loop declares a variable of its name.
        let loops = root.get("variables").and_then(|v| v.get("copy")).and_then(Node::as_array);
        variables.extend(
            loops
                .into_iter()
                .flatten()
                .filter_map(|l| l.get("name").and_then(Node::as_str))
                .map(str::to_string),
        );
        let mut functions = Vec::new();
        for namespace in root.get("functions").and_then(Node::as_array).into_iter().flatten() {
            let Some(ns) = namespace.get("namespace").and_then(Node::as_str) else { continue };
            let members = namespace.get("members").and_then(Node::as_object);
            functions.extend(members.into_iter().flat_map(|m| m.keys()).map(|name| format!("{ns}.{name}")));
        }
        Names {
            parameters: Some(vec![Set::new(keys("parameters"))]),
            variables: Some(vec![Set::new(variables)]),
            functions: vec![Set::new(functions)],
            function: None,
        }
    }

    /// These names and `other`'s (an outer-scoped nested template sees both, see the module).
    fn union(&self, other: &Names) -> Names {
        let join = |a: &Option<Layers>, b: &Option<Layers>| match (a, b) {
            (Some(a), Some(b)) => Some(b.iter().chain(a).cloned().collect()),
            _ => None,
        };
        Names {
            parameters: join(&self.parameters, &other.parameters),
            variables: join(&self.variables, &other.variables),
            functions: other.functions.iter().chain(&self.functions).cloned().collect(),
            function: None,
        }
    }

    /// The names inside the user-defined function `name` declared as `definition`: its own
    /// parameters, and the template's functions.
    fn in_function(&self, name: String, definition: &Node) -> Names {
        let parameters = definition.get("parameters").and_then(Node::as_array).into_iter().flatten();
        let parameters = parameters.filter_map(|p| p.get("name").and_then(Node::as_str)).map(str::to_string);
        Names {
            parameters: Some(vec![Set::new(parameters.collect())]),
            variables: None,
            functions: self.functions.clone(),
            function: Some(name),
        }
    }
}

/// What Azure refuses in an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Problem {
    /// Not an expression: the evaluator's words for it.
    Syntax(String),
    /// A call of a function Azure does not know (`user_defined`: the template's functions, for
    /// a namespaced name).
    UnknownFunction { name: String, user_defined: Option<Vec<String>> },
    /// `variables('name')` of a variable the template does not declare.
    UndefinedVariable { name: String, declared: Vec<String> },
    /// `parameters('name')` of a parameter the template (or the user-defined function
    /// `function`) does not declare.
    UndefinedParameter { name: String, declared: Vec<String>, function: Option<String> },
}

/// Why it matters, after every problem.
const WHOLE: &str =
    "Azure validates a template's expressions before it deploys anything, and refuses the whole template";

/// What nsgsim decided where Microsoft is silent, after Azure's own words.
const ALIKE: &str = "; nsgsim checks every resource alike, those it does not import included, and those under a false condition or a copy count of 0 (model choice: Microsoft's pages do not say)";

/// `a, b, c` or `none`, shortened.
fn listed(names: &[String]) -> String {
    if names.is_empty() { "none".into() } else { shorten(&names.join(", ")) }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax(error) => {
                write!(f, "{error}; {WHOLE} (\"Unable to parse language expression\"){ALIKE}")
            }
            Problem::UnknownFunction { name, user_defined: None } => write!(
                f,
                "the template function '{name}' is not valid: ARM has no function of that name; valid: a function of Microsoft's template function reference (docs/engineers.md lists them); {WHOLE} (\"The template function '{name}' is not valid\"){ALIKE}"
            ),
            Problem::UnknownFunction { name, user_defined: Some(declared) } => write!(
                f,
                "the template function '{name}' is not valid: the template declares no user-defined function of that name (declared: {}); {WHOLE} (\"The template function '{name}' is not valid\"){ALIKE}",
                listed(declared)
            ),
            Problem::UndefinedVariable { name, declared } => write!(
                f,
                "variables('{name}'): the template declares no variable '{name}' (declared: {}); {WHOLE} (\"The template variable '{name}' is not found\"){ALIKE}",
                listed(declared)
            ),
            Problem::UndefinedParameter { name, declared, function: None } => write!(
                f,
                "parameters('{name}'): the template declares no parameter '{name}' (declared: {}); {WHOLE} (\"The template parameter '{name}' is not found\"){ALIKE}",
                listed(declared)
            ),
            Problem::UndefinedParameter { name, declared, function: Some(function) } => write!(
                f,
                "parameters('{name}'): the user-defined function '{function}' declares no parameter '{name}' (its parameters: {}), and a user-defined function \"can only use parameters that are defined in the function\"; {WHOLE}{ALIKE}",
                listed(declared)
            ),
        }
    }
}

/// The first problem in `expr`, depth first.
fn check(expr: &Expr, names: &Names) -> Option<Problem> {
    match expr {
        Expr::Str(_) | Expr::Number => None,
        Expr::Access { target, index } => {
            check(target, names).or_else(|| index.as_deref().and_then(|i| check(i, names)))
        }
        Expr::Call { name, args } => call(name, args, names)
            .or_else(|| args.iter().take(checked_args(name)).find_map(|a| check(a, names))),
    }
}

/// How many arguments of a call of `name` Azure always evaluates: the branches of `if()` only
/// when taken ("only the true value is evaluated"), and **model choice**, as the evaluator
/// reads them, `and()`/`or()` only until one decides; so a name in those is not checked (its
/// syntax is, as Azure parses it all).
fn checked_args(name: &str) -> usize {
    if ["if", "and", "or"].iter().any(|f| name.eq_ignore_ascii_case(f)) { 1 } else { usize::MAX }
}

/// What is wrong with the call of `name` with `args`, itself (not its arguments).
fn call(name: &str, args: &[Expr], names: &Names) -> Option<Problem> {
    if !functions::is_builtin(name) {
        let namespaced = name.contains('.');
        if namespaced && has(&names.functions, name) {
            return None;
        }
        let user_defined = namespaced.then(|| declared(&names.functions));
        return Some(Problem::UnknownFunction { name: shorten(name), user_defined });
    }
    let [Expr::Str(given)] = args else { return None };
    if name.eq_ignore_ascii_case("variables")
        && let Some(layers) = &names.variables
        && !has(layers, given)
    {
        return Some(Problem::UndefinedVariable { name: shorten(given), declared: declared(layers) });
    }
    if name.eq_ignore_ascii_case("parameters")
        && let Some(layers) = &names.parameters
        && !has(layers, given)
    {
        return Some(Problem::UndefinedParameter {
            name: shorten(given),
            declared: declared(layers),
            function: names.function.clone(),
        });
    }
    None
}

/// Whether `node` is a whole template embedded as a value (a template spec's `mainTemplate`):
/// an object with `resources` whose `$schema` names a deployment template.
fn is_embedded_template(node: &Node) -> bool {
    let schema = node.get("$schema").and_then(Node::as_str).unwrap_or_default();
    node.get("resources").is_some() && schema.to_ascii_lowercase().contains("deploymenttemplate")
}

/// The walk, which makes errors through `diag`.
struct Walk<'d> {
    diag: &'d Diagnostics,
}

impl Walk<'_> {
    /// The template `root` at `at`, its expressions naming `names`.
    fn template(&self, root: &Node, at: &Src, names: &Names) -> Result<(), ImportError> {
        let Some(o) = root.as_object() else { return Ok(()) };
        for (key, value) in o.iter() {
            let src = at.child(key, value);
            match key.to_ascii_lowercase().as_str() {
                "parameters" => {
                    for (name, declaration) in value.as_object().into_iter().flat_map(|p| p.iter()) {
                        let psrc = src.child(name, declaration);
                        if let Some((k, default)) =
                            declaration.as_object().and_then(|d| d.member("defaultValue"))
                        {
                            self.value(default, &psrc.child(k, default), names)?;
                        }
                    }
                }
                "variables" => self.value(value, &src, names)?,
                "outputs" => {
                    for (name, output) in value.as_object().into_iter().flat_map(|p| p.iter()) {
                        self.declaration(output, &src.child(name, output), names)?;
                    }
                }
                "functions" => self.functions(value, &src, names)?,
                "resources" => match &value.value {
                    NodeValue::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.resource(item, &src.item(i, item), names)?;
                        }
                    }
                    NodeValue::Object(members) => {
                        for (symbolic, item) in members.iter() {
                            self.resource(item, &src.child(symbolic, item), names)?;
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        Ok(())
    }

    /// The user-defined functions `value` at `src`: each `output` with the function's own
    /// parameters.
    fn functions(&self, value: &Node, src: &Src, names: &Names) -> Result<(), ImportError> {
        for (i, namespace) in value.as_array().into_iter().flatten().enumerate() {
            let nsrc = src.item(i, namespace);
            let ns = namespace.get("namespace").and_then(Node::as_str).unwrap_or_default();
            let Some((key, members)) = namespace.as_object().and_then(|o| o.member("members")) else {
                continue;
            };
            let msrc = nsrc.child(key, members);
            for (name, definition) in members.as_object().into_iter().flat_map(|m| m.iter()) {
                let inner = names.in_function(format!("{ns}.{name}"), definition);
                if let Some((k, output)) = definition.as_object().and_then(|d| d.member("output")) {
                    let fsrc = msrc.child(name, definition);
                    self.declaration(output, &fsrc.child(k, output), &inner)?;
                }
            }
        }
        Ok(())
    }

    /// An object whose members are expressions but whose `metadata` is only words (an output,
    /// a function's output).
    fn declaration(&self, node: &Node, src: &Src, names: &Names) -> Result<(), ImportError> {
        let Some(o) = node.as_object() else { return self.value(node, src, names) };
        for (key, value) in o.iter() {
            if !key.eq_ignore_ascii_case("metadata") {
                self.value(value, &src.child(key, value), names)?;
            }
        }
        Ok(())
    }

    /// A resource declaration (any type): every member but `metadata`; child resources alike;
    /// a nested deployment's inline template in its own scope.
    fn resource(&self, node: &Node, src: &Src, names: &Names) -> Result<(), ImportError> {
        let Some(o) = node.as_object() else { return Ok(()) };
        let kind = o.get("type").and_then(Node::as_str).unwrap_or_default();
        let deployment = kind.eq_ignore_ascii_case(DEPLOYMENTS);
        for (key, value) in o.iter() {
            let at = src.child(key, value);
            if key.eq_ignore_ascii_case("metadata") {
                continue;
            }
            if key.eq_ignore_ascii_case("resources")
                && let Some(children) = value.as_array()
            {
                for (i, child) in children.iter().enumerate() {
                    self.resource(child, &at.item(i, child), names)?;
                }
            } else if deployment && key.eq_ignore_ascii_case("properties") && value.as_object().is_some() {
                self.deployment(value, &at, names)?;
            } else {
                self.value(value, &at, names)?;
            }
        }
        Ok(())
    }

    /// A nested deployment's `properties`: its inline `template` in the scope its
    /// `expressionEvaluationOptions.scope` gives, the rest in the parent's.
    fn deployment(&self, properties: &Node, src: &Src, names: &Names) -> Result<(), ImportError> {
        let inner = properties
            .get("expressionEvaluationOptions")
            .and_then(|o| o.get("scope"))
            .and_then(Node::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        for (key, value) in properties.as_object().into_iter().flat_map(|o| o.iter()) {
            let at = src.child(key, value);
            if key.eq_ignore_ascii_case("template") && value.as_object().is_some() {
                let own = Names::of(value);
                let scope = if inner {
                    Names { functions: names.union(&own).functions, ..own }
                } else {
                    names.union(&own)
                };
                self.template(value, &at, &scope)?;
            } else {
                self.value(value, &at, names)?;
            }
        }
        Ok(())
    }

    /// Any value: its strings checked, arrays and objects walked; an embedded template in its
    /// own and its parent's names.
    fn value(&self, node: &Node, src: &Src, names: &Names) -> Result<(), ImportError> {
        match &node.value {
            NodeValue::String(text) => self.string(text, src, names),
            NodeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.value(item, &src.item(i, item), names)?;
                }
                Ok(())
            }
            NodeValue::Object(members) => {
                if is_embedded_template(node) {
                    return self.template(node, src, &names.union(&Names::of(node)));
                }
                for (key, value) in members.iter() {
                    self.value(value, &src.child(key, value), names)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A string: when it is an expression, read and checked.
    fn string(&self, text: &str, src: &Src, names: &Names) -> Result<(), ImportError> {
        let problem = match syntax::read(text) {
            None | Some(Err(Unread::TooDeep)) => return Ok(()),
            Some(Err(Unread::Invalid(error))) => Problem::Syntax(error.to_string()),
            Some(Ok(expr)) => match check(&expr, names) {
                Some(problem) => problem,
                None => return Ok(()),
            },
        };
        Err(self.diag.invalid(src, text, problem.to_string()))
    }
}

#[cfg(test)]
mod tests;

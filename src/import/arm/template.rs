//! A template document: its declarations, the scope its expressions run in, and the table of the
//! resources it declares.
//!
//! Resources are a list, or (`languageVersion` 2.0, every Bicep build with user-defined types)
//! an object keyed by symbolic name; both become [`Decl`]s. A 2.0 template's `definitions`
//! (user-defined types) are not used to validate values (a warning says so once);
//! `nullable` parameters answer `null` when given nothing; `existing` resources are reference
//! targets, never deployed.
//!
//! ARM limits a template to 800 resources, copy counts included ("800 resources (including copy
//! count)", Microsoft's template best practices); [`count_resources`] checks it before anything
//! is expanded, so an 800-by-800 template fails at once instead of after building 640,000 rules.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{Map, Value};

use super::declared::{Declared, Entry, Outputs};
use super::expr::{Deployment, MAX_COPY_COUNT, Supplied, TemplateScope, eval_count};
use super::nested;
use crate::import::json::{Node, Value as NodeValue};
use crate::import::source::Src;

/// ARM's limit on the resources of one template, copies counted.
pub const MAX_RESOURCES: i64 = 800;

/// One resource declaration of a template.
#[derive(Clone, Debug)]
pub struct Decl<'n> {
    /// The symbolic name (`languageVersion` 2.0).
    pub symbolic: Option<String>,
    /// The declaration.
    pub node: &'n Node,
    /// Where it is.
    pub src: Src,
}

impl Decl<'_> {
    /// Whether it is declared `existing`: read as a reference target, not deployed.
    pub fn existing(&self) -> bool {
        self.node.get("existing").and_then(Node::as_bool) == Some(true)
    }
}

/// The resource declarations of the template `root` at `at`.
///
/// # Errors
/// `resources` that is neither a list nor an object keyed by symbolic name: the message and
/// where.
pub fn declarations<'n>(root: &'n Node, at: &Src) -> Result<Vec<Decl<'n>>, (Src, String, String)> {
    let resources_src = at.member(root, "resources");
    match root.get("resources").map(|r| &r.value) {
        None => Ok(Vec::new()),
        Some(NodeValue::Array(items)) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, item)| Decl { symbolic: None, node: item, src: resources_src.item(i, item) })
            .collect()),
        Some(NodeValue::Object(members)) => Ok(members
            .iter()
            .map(|(name, item)| Decl {
                symbolic: Some(name.to_string()),
                node: item,
                src: resources_src.child(name, item),
            })
            .collect()),
        Some(_) => {
            let shown = root.get("resources").map(Node::shown).unwrap_or_default();
            Err((resources_src, shown, "expected a list of resources, or an object of resources keyed by symbolic name (languageVersion 2.0)".into()))
        }
    }
}

/// A member of `root` as JSON, or an empty object.
fn object(root: &Node, key: &str) -> Map<String, Value> {
    match root.get(key).map(Node::to_json) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The scope of the template `root`, with `supplied` parameter values, in `deployment`.
pub fn scope(root: &Node, supplied: HashMap<String, Supplied>, deployment: Deployment) -> TemplateScope {
    let text = |key: &str| root.get(key).and_then(Node::as_str).unwrap_or_default().to_string();
    let functions = root.get("functions").map(Node::to_json).unwrap_or(Value::Null);
    TemplateScope::template(parameter_declarations(root), object(root, "variables"), supplied, deployment)
        .with_template_details(&functions, &text("$schema"), &text("contentVersion"))
}

/// The declared parameters of `root`, as JSON, each typed by a user-defined type
/// (`"$ref": "#/definitions/NAME"`) taking that type's `type` and `nullable` where it does not
/// declare its own: a parameter of a nullable type answers `null` when given nothing, as one
/// declared `"nullable": true` does (every Azure Verified Module's optional parameters are so).
pub fn parameter_declarations(root: &Node) -> Map<String, Value> {
    let definitions = object(root, "definitions");
    let mut parameters = object(root, "parameters");
    for declaration in parameters.values_mut() {
        resolve_type_ref(declaration, &definitions);
    }
    parameters
}

/// Fills `declaration`'s missing `type` and `nullable` from the user-defined type its `$ref`
/// names, following a chain of references up to a small depth (a cycle ends there).
fn resolve_type_ref(declaration: &mut Value, definitions: &Map<String, Value>) {
    const MAX_CHAIN: usize = 16;
    let Some(fields) = declaration.as_object_mut() else { return };
    let mut target = fields.get("$ref").and_then(Value::as_str).map(str::to_string);
    for _ in 0..MAX_CHAIN {
        let Some(name) = target.as_deref().and_then(|r| r.strip_prefix("#/definitions/")) else { return };
        let Some(definition) = definitions.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, d)| d)
        else {
            return;
        };
        for key in ["type", "nullable"] {
            if let Some(value) = definition.get(key)
                && !fields.contains_key(key)
            {
                fields.insert(key.to_string(), value.clone());
            }
        }
        target = definition.get("$ref").and_then(Value::as_str).map(str::to_string);
    }
}

/// The `file:` URI of `path`, as `deployment().properties.templateLink.uri` gives it offline.
pub fn file_uri(path: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", absolute.display())
}

/// The table of the resources `decls` declare, in `scope` (read from `file`), asking `parent`
/// for what they do not declare.
pub fn table(
    decls: &[Decl<'_>],
    scope: &TemplateScope,
    file: &Path,
    parent: Option<Rc<Declared>>,
) -> Rc<Declared> {
    let entries = decls
        .iter()
        .map(|d| {
            let kind = d.node.get("type").and_then(Node::as_str).unwrap_or_default();
            let outputs = kind
                .eq_ignore_ascii_case(nested::DEPLOYMENTS)
                .then(|| Outputs(nested::outputs_of(d.node.clone(), file.to_path_buf())));
            Entry {
                symbolic: d.symbolic.clone(),
                node: d.node.clone(),
                scope: scope.clone(),
                existing: d.existing(),
                outputs,
            }
        })
        .collect();
    Declared::new(entries, parent)
}

/// Checks ARM's limit of 800 resources per template, copy counts included: the declaration
/// that crosses it and the message, or `None`. A count that cannot be evaluated counts one (the
/// resource fails later, where it is read, if nsgsim needs it).
pub fn count_resources(decls: &[Decl<'_>], scope: &TemplateScope) -> Option<(usize, String)> {
    let mut total: i64 = 0;
    for (i, d) in decls.iter().enumerate() {
        if d.existing() {
            continue;
        }
        let copies = d
            .node
            .get("copy")
            .and_then(|c| c.get("count"))
            .and_then(|c| eval_count(&c.to_json(), scope).ok())
            .unwrap_or(1)
            .min(MAX_COPY_COUNT);
        let children = d.node.get("resources").and_then(Node::as_array).map_or(0, Vec::len);
        total = total.saturating_add(copies.saturating_mul(1 + i64::try_from(children).unwrap_or(0)));
        if total > MAX_RESOURCES {
            return Some((
                i,
                format!(
                    "the template declares more than {MAX_RESOURCES} resources, copies counted ({total} with this one); ARM refuses it (\"800 resources (including copy count)\"); valid: at most {MAX_RESOURCES} resources per template, copies counted (split it into nested templates)"
                ),
            ));
        }
    }
    None
}

/// The path a `relativePath` link names, next to the file `from`.
pub fn relative_to(from: &Path, relative: &str) -> PathBuf {
    from.parent().unwrap_or_else(|| Path::new("")).join(relative)
}

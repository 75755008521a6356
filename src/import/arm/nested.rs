//! Nested deployments (`Microsoft.Resources/deployments`): every Bicep module compiles to one.
//!
//! The nested template is inline (`properties.template`) or linked
//! (`properties.templateLink`): a `relativePath` is read next to the file that links it (and
//! evaluated recursively, cycles and depth bounded); a `uri` is read only when it is a local
//! `file:` URI (what `deployment().properties.templateLink.uri` answers offline, so that the
//! quickstart convention of building links from it resolves next to the template). Any other
//! link is **never fetched**: a warning names it and the scenario records an `UnresolvedLink`
//! caveat.
//!
//! `properties.expressionEvaluationOptions.scope` decides what an inline template's
//! expressions see: `outer` (the default) the parent's parameters, variables and context; `inner`
//! its own, with `properties.parameters` evaluated in the parent and passed in. A linked template
//! always has its own. In its own scope, the deployment's `resourceGroup` and `subscriptionId`
//! set the context of what it deploys (see [`inner_scope`]), and its
//! name becomes `deployment().name` inside. `reference()` of the deployment answers its
//! template's `outputs` (output copy loops included), evaluated in its scope ([`outputs_of`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{Map, Value};

use super::declared::{OutputsFn, marker, to_json_with_markers};
use super::expr::{
    ArmValue, ExprError, ParentValue, Supplied, TemplateScope, eval_count, eval_json, eval_string,
};
use super::template;
use crate::import::json::{MAX_INPUT_BYTES, Node, UnknownReason, parse, shorten};

/// The nested deployment type, lower case.
pub const DEPLOYMENTS: &str = "microsoft.resources/deployments";

/// How deep nested deployments may nest (ARM documents no limit; nsgsim's bound).
pub const MAX_NESTING: usize = 32;

/// Why a nested deployment's template, scope or outputs cannot be read: the facts; `Display`
/// writes what the importer prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NestedError {
    /// Neither `properties.template` nor `properties.templateLink`.
    NoTemplate,
    /// A `templateLink` with no `uri`, `relativePath` or `id`.
    NoLinkTarget,
    /// A linked template file that cannot be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        reason: String,
    },
    /// A linked template file larger than the input bound.
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// A linked template file that is not JSON.
    NotJson {
        /// The file.
        path: PathBuf,
        /// Where the parser stopped.
        position: crate::position::Position,
        /// The parser's reason.
        reason: String,
    },
    /// The outputs of a template that is not local, which only the deployment knows.
    RemoteOutputs {
        /// The link as written.
        link: String,
    },
    /// An output with neither a value nor a copy loop.
    NoOutputValue,
    /// An output copy loop with no count.
    NoOutputCount,
    /// An expression of the nested template that cannot be evaluated (a spent budget, in
    /// [`inner_scope`]).
    Expr(ExprError),
    /// The nested template's declarations, or a parameter passed in, refused by the reader: its
    /// message (positioned where it has one).
    Read(String),
}

impl std::fmt::Display for NestedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NestedError::NoTemplate => {
                f.write_str("a nested deployment needs properties.template or properties.templateLink")
            }
            NestedError::NoLinkTarget => {
                f.write_str("properties.templateLink needs a uri, a relativePath or an id")
            }
            NestedError::Unreadable { path, reason } => {
                write!(f, "{}: cannot read the linked template: {reason}", path.display())
            }
            NestedError::TooLarge { path } => {
                write!(f, "{}: the linked template is larger than {MAX_INPUT_BYTES} bytes", path.display())
            }
            NestedError::NotJson { path, position, reason } => {
                write!(f, "{}:{position}: not valid JSON: {reason}", path.display())
            }
            NestedError::RemoteOutputs { link } => write!(
                f,
                "the outputs of a nested template that is not local ({}) are only known at deployment; valid: a local link (relativePath or a file: URI nsgsim can read), or the value written into the template in its place",
                shorten(link)
            ),
            NestedError::NoOutputValue => f.write_str("the output has neither a value nor a copy loop"),
            NestedError::NoOutputCount => f.write_str("the output's copy loop has no count"),
            NestedError::Expr(e) => write!(f, "{e}"),
            NestedError::Read(message) => f.write_str(message),
        }
    }
}

impl From<ExprError> for NestedError {
    fn from(e: ExprError) -> NestedError {
        NestedError::Expr(e)
    }
}

impl From<NestedError> for String {
    fn from(e: NestedError) -> String {
        e.to_string()
    }
}

/// Where a nested deployment's template is.
#[derive(Debug)]
pub enum Link {
    /// Inline, in `properties.template`.
    Inline(Node),
    /// A local file (a `relativePath`, or a `file:` URI).
    Local(PathBuf),
    /// Anything that would have to be fetched, or that cannot be known offline: what to name.
    Remote(String),
}

/// Where the template of the deployment `node` (evaluated in `scope`, declared in the file
/// `file`) is.
///
/// # Errors
/// A deployment with neither `template` nor `templateLink`.
pub fn link(node: &Node, scope: &TemplateScope, file: &Path) -> Result<Link, NestedError> {
    let props = node.get("properties");
    if let Some(t) = props.and_then(|p| p.get("template")) {
        return Ok(Link::Inline(t.clone()));
    }
    let Some(l) = props.and_then(|p| p.get("templateLink")) else {
        return Err(NestedError::NoTemplate);
    };
    // The link's text evaluated, or as written when it cannot be (a link to name, not follow).
    let text = |field: &str| -> Option<Result<String, &str>> {
        let raw = l.get(field)?.as_str()?;
        Some(match eval_string(raw, scope) {
            Ok(ArmValue::Str(s)) => Ok(s),
            Ok(_) | Err(_) => Err(raw),
        })
    };
    if let Some(relative) = text("relativePath") {
        return Ok(match relative {
            Ok(r) => Link::Local(template::relative_to(file, &r)),
            Err(raw) => Link::Remote(raw.to_string()),
        });
    }
    if let Some(uri) = text("uri") {
        return Ok(match uri {
            Ok(u) if u.to_ascii_lowercase().starts_with("file://") => {
                let path = u[7..].split(['?', '#']).next().unwrap_or_default();
                Link::Local(PathBuf::from(percent_decoded(path)))
            }
            Ok(u) => Link::Remote(u),
            Err(raw) => Link::Remote(raw.to_string()),
        });
    }
    if let Some(id) = text("id") {
        return Ok(Link::Remote(id.unwrap_or_else(str::to_string)));
    }
    Err(NestedError::NoLinkTarget)
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads a linked template file.
///
/// # Errors
/// The file cannot be read, is too large or is not JSON.
pub fn load(path: &Path) -> Result<Node, NestedError> {
    let unreadable =
        |e: std::io::Error| NestedError::Unreadable { path: path.to_path_buf(), reason: e.to_string() };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_INPUT_BYTES as u64 {
        return Err(NestedError::TooLarge { path: path.to_path_buf() });
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    parse(&bytes).map_err(|e| NestedError::NotJson {
        path: path.to_path_buf(),
        position: e.position,
        reason: e.message,
    })
}

/// The scope of the template `root` that the deployment `node` deploys, given the parent's
/// `scope`, and, for a linked template, where it is (`uri`, for `deployment()` inside; `None` for
/// an inline template).
///
/// As Microsoft's "ARM template functions in deployment scopes" says: "When you link to an
/// external template, the functions always resolve to the scope for that template. When you nest
/// a template within a parent template, use the expressionEvaluationOptions property to specify
/// whether the functions resolve to the resource group and subscription for the parent template
/// or the nested template." So a linked template, or an inline one with scope `inner`, has its own
/// parameters, variables and context (the deployment's `resourceGroup`, `subscriptionId` and
/// name); an inline one with scope `outer` (the default) is evaluated wholly in the parent's.
///
/// # Errors
/// A spent budget while evaluating the parameters passed in.
pub fn inner_scope(
    node: &Node,
    root: &Node,
    scope: &TemplateScope,
    uri: Option<String>,
) -> Result<TemplateScope, NestedError> {
    let props = node.get("properties");
    if !own_scope(node, uri.is_some()) {
        return Ok(scope.clone());
    }
    let mut deployment = scope.deployment.clone();
    // `resourceGroup` and `subscriptionId` are members of the deployment resource itself.
    let text = |field: &str| -> Option<String> {
        let raw = node.get(field).or_else(|| props?.get(field))?.as_str()?;
        match eval_string(raw, scope).ok()? {
            ArmValue::Str(s) => Some(s),
            _ => None,
        }
    };
    if let Some(rg) = text("resourceGroup") {
        deployment.resource_group = rg;
    }
    if let Some(sub) = text("subscriptionId") {
        deployment.subscription = sub;
    }
    if let Some(ArmValue::Str(name)) =
        node.get("name").and_then(Node::as_str).and_then(|n| eval_string(n, scope).ok())
    {
        deployment.name = name;
    }
    if uri.is_some() {
        deployment.template_uri = uri;
    }
    let mut supplied = HashMap::new();
    for (name, given) in
        props.and_then(|p| p.get("parameters")).and_then(Node::as_object).into_iter().flat_map(|o| o.iter())
    {
        // Bicep writes a conditional module parameter as one expression that builds the whole
        // entry (`"[if(…, createObject('value', …), createObject('value', …))]"`); ARM
        // evaluates it, then reads the entry it made.
        let value = if let Some(raw) = given.as_str() {
            match eval_json(&Value::String(raw.to_string()), scope) {
                Ok(Value::Object(mut entry)) if entry.contains_key("value") => {
                    Supplied::Value(entry.remove("value").unwrap_or(Value::Null))
                }
                Ok(other) => unknown(name, ParentValue::NotAnEntry { gives: other }),
                Err(e) if scope.budget().is_exceeded() => return Err(e.into()),
                Err(e) => unknown(name, ParentValue::Failed(Box::new(e))),
            }
        } else if given.get("value").is_none() && given.get("copy").is_some_and(|c| c.as_array().is_some()) {
            // A value that a property copy loop makes (`{"copy": [{"name": "value", "count": …,
            // "input": …}]}`), as Bicep writes a module parameter built by a `for` expression.
            match super::body::evaluate(given, scope, "") {
                Ok(made) => match made.get("value") {
                    Some(v) => Supplied::Value(to_json_with_markers(v)),
                    None => unknown(name, ParentValue::CopyMakesNoValue),
                },
                Err(e) if scope.budget().is_exceeded() => return Err(NestedError::Read(e.message)),
                Err(e) => unknown(name, ParentValue::CopyFailed { message: e.message }),
            }
        } else if let Some(v) = given.get("value") {
            match eval_json(&v.to_json(), scope) {
                Ok(v) => Supplied::Value(v),
                Err(e) if scope.budget().is_exceeded() => return Err(e.into()),
                Err(e) => unknown(name, ParentValue::Failed(Box::new(e))),
            }
        } else if let Some(r) = given.get("reference") {
            let secret = r.get("secretName").and_then(Node::as_str).unwrap_or_default().to_string();
            let vault = r
                .get("keyVault")
                .and_then(|k| k.get("id"))
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string();
            Supplied::KeyVault { secret, vault }
        } else {
            continue;
        };
        supplied.insert(name.to_string(), value);
    }
    Ok(template::scope(root, supplied, deployment).with_budget(scope.shared_budget()))
}

/// Whether the deployment `node`'s template has its own parameters, variables and context: it
/// is `linked`, or inline with `properties.expressionEvaluationOptions.scope` `inner`.
pub fn own_scope(node: &Node, linked: bool) -> bool {
    linked
        || node
            .get("properties")
            .and_then(|p| p.get("expressionEvaluationOptions"))
            .and_then(|o| o.get("scope"))
            .and_then(Node::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"))
}

/// A parameter the parent passes in whose value cannot be known offline, and why.
fn unknown(parameter: &str, why: ParentValue) -> Supplied {
    Supplied::Unknown { parameter: parameter.to_string(), why }
}

/// What `reference()` of the deployment `node` (declared in `file`) answers under
/// `properties.outputs`: each output of its template, `{"type": …, "value": …}`, evaluated in the
/// deployment's scope; an output that cannot be evaluated offline is an unknown value.
pub fn outputs_of(node: Node, file: PathBuf) -> OutputsFn {
    Rc::new(move |scope: &TemplateScope| {
        let (root, path, uri) = match link(&node, scope, &file)? {
            Link::Inline(t) => (t, file.clone(), None),
            Link::Local(p) => {
                let uri = template::file_uri(&p);
                (load(&p)?, p, Some(uri))
            }
            Link::Remote(link) => return Err(NestedError::RemoteOutputs { link }),
        };
        let inner = inner_scope(&node, &root, scope, uri)?;
        let at = crate::import::source::Src { file: 0, path: String::new(), position: None };
        let decls = template::declarations(&root, &at).map_err(|(_, _, m)| NestedError::Read(m))?;
        let table = template::table(&decls, &inner, &path, None);
        let inner = inner.with_resources(table);
        let mut out = Map::new();
        for (name, output) in root.get("outputs").and_then(Node::as_object).into_iter().flat_map(|o| o.iter())
        {
            let kind = output.get("type").map(Node::to_json).unwrap_or(Value::Null);
            let value = match output.get("copy") {
                Some(copy) => output_copy(copy, &inner),
                None => match output.get("value") {
                    Some(v) => eval_json(&v.to_json(), &inner).map_err(NestedError::Expr),
                    None => Err(NestedError::NoOutputValue),
                },
            };
            let value = match value {
                Ok(v) => v,
                Err(e) if inner.budget().is_exceeded() => return Err(e),
                Err(e) => {
                    let reason = match e {
                        NestedError::Expr(e) => e.unknown_reason(),
                        other => {
                            UnknownReason::Expression { message: other.to_string(), names_a_call: false }
                        }
                    };
                    marker(&UnknownReason::NestedOutput { reason: Box::new(reason) })
                }
            };
            out.insert(name.to_string(), serde_json::json!({"type": kind, "value": value}));
        }
        Ok(Value::Object(out))
    })
}

/// An output's copy loop (`"copy": {"count": n, "input": …}`): the array of its `input`
/// evaluated for each index, `copyIndex()` answering the index, as ARM's "Output iteration in ARM
/// templates" describes it.
///
/// # Errors
/// A count that is not 0-800, or an input that cannot be evaluated offline.
fn output_copy(copy: &Node, scope: &TemplateScope) -> Result<Value, NestedError> {
    let count = copy.get("count").ok_or(NestedError::NoOutputCount)?;
    let count = eval_count(&count.to_json(), scope)?;
    let input = copy.get("input").map(Node::to_json).unwrap_or(Value::Null);
    let mut items = Vec::new();
    for index in 0..count {
        items.push(eval_json(&input, &scope.with_copy("output", index, true))?);
    }
    Ok(Value::Array(items))
}

//! The ARM template reader: a template and its parameter values in, the resources it deploys
//! out, as Azure Resource Manager would deploy them, offline.
//!
//! For each resource declaration (a list, or an object keyed by symbolic name in
//! `languageVersion` 2.0, see [`template`]) the reader reads the `type` first: a type nsgsim does
//! not model is recorded as skipped and nothing else of it is evaluated (unless a `reference()`
//! asks for it). An `existing` resource is a reference target, never deployed. For the others it
//! applies the resource copy loop (`copy`, one resource per iteration, `copyIndex()` the
//! iteration, the path marked `(copyIndex=i)`), the `condition` (false: not deployed, with a
//! warning; as in ARM it does not cascade to nested resources), evaluates the name, and
//! evaluates the body ([`body`]: every expression, every property copy loop). A nested
//! deployment (`Microsoft.Resources/deployments`) is evaluated in turn ([`nested`]). What
//! cannot be evaluated offline becomes an unknown value in the body, an error only where the
//! inventory reads it; a template too big to evaluate ([`expr::budget`], ARM's 800 resources)
//! is a positioned error.
//!
//! A string parameter given no value is a placeholder that may only name things; the reader
//! writes it out and records where it stands ([`placeholders`]). A resource skipped by its type
//! is named by its evaluated name when that needs no deployment function.
//!
//! Before anything is evaluated, [`validate`] checks every expression of the template as Azure
//! does (syntax, function names, the variables and parameters named), including those of
//! resources the reader skips: Azure refuses the whole template for one bad expression.
//!
//! The expression language is in [`expr`], resource ids in [`id`], parameter values in
//! [`params`], what `reference()` answers in [`declared`].

mod body;
mod declared;
mod expr;
mod id;
mod nested;
mod params;
mod placeholders;
mod template;
mod undeclared;
mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

/// How a parameter given no value reads where it stands in a name or id: `param.NAME`.
pub use expr::placeholder::VISIBLE_PREFIX as VISIBLE_PLACEHOLDER_PREFIX;
pub use expr::{ArmValue, Deployment, TemplateScope, eval_condition, eval_count, eval_string};
pub use id::{ResourceRef, key, parse_id};
pub use params::{Parameters, command_line, is_parameters_file, read_file as read_parameters_file};
pub use placeholders::report as report_placeholders;
pub use undeclared::{
    Place as UndeclaredPlace, Receiver as UndeclaredReceiver, Undeclared, UndeclaredParameters,
    of_templates as undeclared_parameters,
};

use super::ImportError;
use super::json::Node;
use super::resource::{
    Collected, Kind, Resource, Skipped, full_kind, resource_names, skip_unmodelled_named, skip_untyped,
};
use super::source::{Diagnostics, Src, join};
use super::summary::SkipReason;
use declared::Declared;
use template::Decl;

/// Whether `root` is an ARM template: an object with `resources` that is not itself a resource
/// (`az vm show` output has `resources`, its extensions, and a `type`), or one whose `$schema`
/// says `deploymentTemplate`.
pub fn is_template(root: &Node) -> bool {
    let Some(o) = root.as_object() else { return false };
    let schema = o.get("$schema").and_then(Node::as_str).unwrap_or("").to_ascii_lowercase();
    schema.contains("deploymenttemplate") || (o.contains_key("resources") && !o.contains_key("type"))
}

/// Reads the template `root` of file `file` with the given parameter values: the resources it
/// deploys (and those its nested deployments deploy) go to `out`. A nested deployment that passes a parameter its template
/// does not declare is refused as Azure refuses it, unless `allow_undeclared`
/// (`--allow-undeclared-parameters`), which warns and ignores the value.
///
/// # Errors
/// Anything the template needs that is wrong or cannot be evaluated: a resource's type, name,
/// condition or copy count, a malformed property copy loop or nested deployment, a parameter
/// value its declaration refuses, a parameter a nested template does not declare, more than 800
/// resources, a template too big to evaluate.
pub fn read_template(
    root: &Node,
    file: usize,
    parameters: &Parameters,
    deployment: &Deployment,
    allow_undeclared: bool,
    diag: &mut Diagnostics,
    out: &mut Collected,
) -> Result<(), ImportError> {
    // Azure refuses a template with an invalid expression anywhere, deployed or not.
    validate::template(root, &Src::root(file, root), diag)?;
    let declarations = template::parameter_declarations(root);
    let mut supplied = HashMap::new();
    for (name, declaration) in &declarations {
        if let Some(given) = parameters.get(name) {
            supplied.insert(name.clone(), params::supplied(name, declaration, given, diag)?);
        }
    }
    let mut deployment = deployment.clone();
    if deployment.template_uri.is_none() {
        deployment.template_uri = Some(template::file_uri(diag.file(file)));
    }
    let scope = template::scope(root, supplied, deployment.clone());
    let top = Src::root(file, root);
    let mut reader = Reader { diag, out, links: Vec::new(), depth: 0, allow_undeclared };
    reader.links.push(reader.diag.file(file).to_path_buf());
    reader.template(root, &top, &scope, None)?;
    let file_level = Src { file, path: String::new(), position: None };
    if root.get("definitions").and_then(Node::as_object).is_some_and(|d| !d.is_empty()) {
        reader.diag.warn(
            &file_level,
            "the template declares user-defined types ('definitions'); nsgsim does not validate values against them (Azure would refuse a value that does not match its type)",
        );
    }
    for function in scope.take_stand_ins() {
        let answer = match function.as_str() {
            "resourceGroup()" => format!(
                "resource group '{}' in location '{}' (set them with --resource-group and --location)",
                deployment.resource_group, deployment.location
            ),
            "subscription()" => {
                format!("subscription '{}' (set it with --subscription-id)", deployment.subscription)
            }
            "tenant()" | "managementGroup()" | "deployer()" => {
                format!("tenant '{}' (set it with --tenant-id)", deployment.tenant)
            }
            "deployment()" => {
                format!("deployment '{}' of this file (set the name with --deployment-name)", deployment.name)
            }
            "environment()" => "the public cloud, AzureCloud".to_string(),
            "utcNow()" => format!("{} (set it with --utc-now)", deployment.utc_now),
            "newGuid()" => {
                "a GUID made from the parameter's and the deployment's names, the same on every run".into()
            }
            "pickZones()" => "a region with availability zones 1, 2 and 3".into(),
            other => other.to_string(),
        };
        reader.diag.warn(
            &file_level,
            format!("{function} is only known at deployment; evaluated offline as {answer}"),
        );
    }
    Ok(())
}

/// The walk over a template's resources, and the nested templates it reaches.
struct Reader<'a> {
    diag: &'a mut Diagnostics,
    out: &'a mut Collected,
    /// The files of the templates being read, outermost first (cycles of linked templates).
    links: Vec<PathBuf>,
    /// How deep nested deployments are.
    depth: usize,
    /// `--allow-undeclared-parameters`: a parameter a nested template does not declare is a
    /// warning, not an error.
    allow_undeclared: bool,
}

/// A child resource's parent: its full type and names.
type Parent<'a> = Option<(&'a str, &'a [String])>;

impl Reader<'_> {
    /// The template `root` at `at`, in `scope` (without its resource table yet); `parent` is the
    /// resource table of the template that deploys it.
    fn template(
        &mut self,
        root: &Node,
        at: &Src,
        scope: &TemplateScope,
        parent: Option<Rc<Declared>>,
    ) -> Result<(), ImportError> {
        let decls = template::declarations(root, at)
            .map_err(|(src, shown, message)| self.diag.invalid(&src, &shown, message))?;
        let file = self.diag.file(at.file).to_path_buf();
        let table = template::table(&decls, scope, &file, parent);
        let resources: Rc<dyn expr::Resources> = table.clone();
        let scope = scope.clone().with_resources(resources);
        if let Some((i, message)) = template::count_resources(&decls, &scope) {
            return Err(self.diag.invalid(&decls[i].src, "", message));
        }
        for d in &decls {
            if d.existing() {
                continue;
            }
            self.resource(d, &scope, None, &table)?;
        }
        Ok(())
    }

    fn resource(
        &mut self,
        d: &Decl<'_>,
        scope: &TemplateScope,
        parent: Parent<'_>,
        table: &Rc<Declared>,
    ) -> Result<(), ImportError> {
        let (node, src) = (d.node, &d.src);
        let Some(obj) = node.as_object() else {
            return Err(self.diag.invalid(src, &node.shown(), "expected a resource object"));
        };
        let Some(type_node) = obj.get("type") else {
            skip_untyped(src, self.out, self.diag);
            return Ok(());
        };
        let written = self.text(type_node, &src.member(node, "type"), scope)?;
        let relative = parent.is_some() && !written.contains('/');
        let kind = full_kind(&written, parent.map(|p| p.0));
        let nested = kind.eq_ignore_ascii_case(nested::DEPLOYMENTS);
        if Kind::of(&kind).is_none() && !nested {
            let name = skipped_name(node, scope);
            skip_unmodelled_named(&kind, name, node, src, self.out, self.diag);
            return Ok(());
        }
        let Some(copy) = obj.get("copy") else {
            return self.deployed(node, src, scope, parent, &kind, relative, table);
        };
        // A resource copy loop: `"copy": {"name": "loop", "count": n}`; copyIndex() is the
        // iteration. (`mode` and `batchSize` order the deployment and change nothing here.)
        let at = src.member(node, "copy");
        if copy.as_object().is_none() {
            return Err(self.diag.invalid(
                &at,
                &copy.shown(),
                "a resource copy loop is not an object; valid: an object {\"name\": ..., \"count\": ...} (property loops go inside 'properties')",
            ));
        }
        let Some(name) = copy.get("name").and_then(Node::as_str) else {
            return Err(self.diag.invalid(&at.member(copy, "name"), "", "a resource copy loop needs a name"));
        };
        let Some(count) = copy.get("count") else {
            return Err(self.diag.invalid(
                &at.member(copy, "count"),
                "",
                "a resource copy loop needs a count",
            ));
        };
        let count = eval_count(&count.to_json(), scope)
            .map_err(|e| self.diag.invalid(&at.member(copy, "count"), &count.shown(), e))?;
        for i in 0..count {
            let inner = scope.with_copy(name, i, true);
            let isrc = Src { path: join(&src.path, &format!("(copyIndex={i})")), ..src.clone() };
            self.deployed(node, &isrc, &inner, parent, &kind, relative, table)?;
        }
        Ok(())
    }

    /// One resource as deployed: skipped when its `condition` is false, else evaluated (a
    /// nested deployment: its template read); then the resources nested in it.
    #[expect(clippy::too_many_arguments, reason = "the walk's state, passed down one level")]
    fn deployed(
        &mut self,
        node: &Node,
        src: &Src,
        scope: &TemplateScope,
        parent: Parent<'_>,
        kind: &str,
        relative: bool,
        table: &Rc<Declared>,
    ) -> Result<(), ImportError> {
        let deploy = match node.get("condition") {
            Some(condition) => eval_condition(&condition.to_json(), scope)
                .map_err(|e| self.diag.invalid(&src.member(node, "condition"), &condition.shown(), e))?,
            None => true,
        };
        let name_src = src.member(node, "name");
        let id = node.get("id").and_then(Node::as_str);
        let parent_names = parent.map_or(&[][..], |p| p.1);
        let names = match node.get("name") {
            // A resource that is not deployed is named only in a warning: a name that cannot be
            // evaluated is shown as written.
            Some(name) if !deploy => {
                let raw = self.text(name, &name_src, scope).unwrap_or_else(|_| name.shown());
                let raw = expr::placeholder::render(&raw);
                resource_names(kind, &raw, relative, parent_names, id)
                    .unwrap_or_else(|_| raw.split('/').map(str::to_string).collect())
            }
            Some(name) => {
                let raw = self.text(name, &name_src, scope)?;
                let raw = placeholders::name(&raw, &name_src, &mut self.out.placeholders);
                resource_names(kind, &raw, relative, parent_names, id)
                    .map_err(|e| self.diag.invalid(&name_src, &raw, e.to_string()))?
            }
            None => resource_names(kind, "", relative, parent_names, id)
                .map_err(|e| self.diag.invalid(&name_src, "", e.to_string()))?,
        };
        if !deploy {
            // ARM does not cascade a condition to nested resources: they keep their own.
            let condition = node
                .get("condition")
                .map(|c| super::json::shorten(&c.to_json().to_string()))
                .unwrap_or_default();
            self.diag.warn(
                src,
                format!(
                    "the condition {condition} is false: {kind} '{}' is not deployed, and not imported",
                    names.join("/")
                ),
            );
            self.out.skipped.push(Skipped {
                kind: kind.to_string(),
                name: names.join("/"),
                src: src.clone(),
                reason: SkipReason::ConditionFalse,
            });
        } else if kind.eq_ignore_ascii_case(nested::DEPLOYMENTS) {
            self.nested(node, src, scope, kind, &names, table)?;
        } else {
            let body = body::evaluate_resource(node, scope).map_err(|e| {
                let at = Src { file: src.file, path: join(&src.path, &e.path), position: Some(e.position) };
                self.diag.invalid(&at, "", e.message)
            })?;
            let body = placeholders::body(body, src, &mut self.out.placeholders);
            self.out.resources.push(Resource {
                kind: kind.to_string(),
                names: names.clone(),
                body,
                src: src.clone(),
            });
        }
        let children_src = src.member(node, "resources");
        for (i, child) in node.get("resources").and_then(Node::as_array).into_iter().flatten().enumerate() {
            let d = Decl { symbolic: None, node: child, src: children_src.item(i, child) };
            self.resource(&d, scope, Some((kind, &names)), table)?;
        }
        Ok(())
    }

    /// A nested deployment named `names`: its template read in its scope, or, when it is not
    /// local, a warning and an unresolved link.
    fn nested(
        &mut self,
        node: &Node,
        src: &Src,
        scope: &TemplateScope,
        kind: &str,
        names: &[String],
        table: &Rc<Declared>,
    ) -> Result<(), ImportError> {
        let file = self.diag.file(src.file).to_path_buf();
        let link = nested::link(node, scope, &file)
            .map_err(|e| self.diag.invalid(&src.member(node, "properties"), "", e))?;
        let name = names.join("/");
        let unresolved = |me: &mut Self, what: String, why: String| {
            me.diag.warn(src, format!("nested deployment '{name}': {why}; what it deploys is not imported"));
            me.out.skipped.push(Skipped {
                kind: kind.to_string(),
                name: what,
                src: src.clone(),
                reason: SkipReason::UnresolvedLink,
            });
        };
        let (root, at, uri) = match link {
            nested::Link::Inline(t) => {
                let props = node.get("properties").unwrap_or(node);
                let at = src.member(node, "properties").member(props, "template");
                (t, at, None)
            }
            nested::Link::Remote(uri) => {
                let why =
                    format!("the linked template {} is not local and is never fetched", json_shown(&uri));
                unresolved(self, uri, why);
                return Ok(());
            }
            nested::Link::Local(path) => {
                if self.depth >= nested::MAX_NESTING {
                    return Err(self.diag.invalid(
                        src,
                        "",
                        format!("nested deployments nest more than {} levels deep", nested::MAX_NESTING),
                    ));
                }
                let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if self
                    .links
                    .iter()
                    .any(|l| std::fs::canonicalize(l).unwrap_or_else(|_| l.clone()) == canonical)
                {
                    return Err(self.diag.invalid(
                        src,
                        &path.display().to_string(),
                        "the linked template links back to a template that links it: a cycle",
                    ));
                }
                let root = match nested::load(&path) {
                    Ok(root) => root,
                    Err(why) => {
                        unresolved(self, path.display().to_string(), why.to_string());
                        return Ok(());
                    }
                };
                let f = self.diag.add_file(&path);
                let at = Src::root(f, &root);
                validate::template(&root, &at, self.diag)?;
                (root, at, Some(template::file_uri(&path)))
            }
        };
        // A template with its own scope receives `properties.parameters`, which Azure checks
        // against what it declares (an `outer` one shares its parent's: **model choice**, see
        // docs/fidelity.md).
        if nested::own_scope(node, uri.is_some())
            && let Some(refused) = undeclared::of_nested(node, src, &root, &name, self.diag)
        {
            if !self.allow_undeclared {
                return Err(ImportError::UndeclaredParameters(Box::new(refused)));
            }
            for warning in refused.warnings() {
                self.diag.push(warning);
            }
        }
        let inner =
            nested::inner_scope(node, &root, scope, uri).map_err(|e| self.diag.invalid(src, "", e))?;
        self.out.skipped.push(Skipped {
            kind: kind.to_string(),
            name: name.clone(),
            src: src.clone(),
            reason: SkipReason::NestedDeployment,
        });
        self.depth += 1;
        self.links.push(self.diag.file(at.file).to_path_buf());
        let result = self.template(&root, &at, &inner, Some(Rc::clone(table)));
        self.links.pop();
        self.depth -= 1;
        result
    }

    /// A string member that the reader needs (a type, a name): evaluated, or an error at `src`.
    fn text(&self, node: &Node, src: &Src, scope: &TemplateScope) -> Result<String, ImportError> {
        let Some(text) = node.as_str() else {
            return Err(self.diag.invalid(
                src,
                &node.shown(),
                format!("expected a string, found {}", node.kind()),
            ));
        };
        match eval_string(text, scope).map_err(|e| self.diag.invalid(src, text, e))? {
            ArmValue::Str(s) => Ok(s),
            ArmValue::Int(n) => Ok(n.to_string()),
            ArmValue::Json(serde_json::Value::Bool(b)) => Ok(b.to_string()),
            ArmValue::Ref(r) => Err(self.diag.invalid(
                src,
                text,
                format!("expected a string, found the resource id of {}", r.kind),
            )),
            ArmValue::Json(other) => Err(self.diag.invalid(
                src,
                text,
                format!("expected a string, found {}", super::json::kind_of(&other)),
            )),
        }
    }
}

/// The name of a resource skipped by its type, for its warning and caveat: evaluated when that
/// needs nothing the resource's evaluation would report (a deployment function's stand-in is
/// not reported for a name alone), else as written (a `copyIndex()` outside its loop, a
/// `reference()`). A placeholder reads as in a scenario.
fn skipped_name(node: &Node, scope: &TemplateScope) -> String {
    let Some(name) = node.get("name") else { return String::new() };
    let quiet = scope.quiet();
    match name.as_str().map(|text| eval_string(text, &quiet)) {
        Some(Ok(ArmValue::Str(s))) if quiet.take_stand_ins().is_empty() => expr::placeholder::render(&s),
        _ => name.shown(),
    }
}

/// A link or expression as a message quotes it.
fn json_shown(text: &str) -> String {
    format!("'{}'", super::json::shorten(text))
}

#[cfg(test)]
mod tests;

//! The ARM template reader: a template and its parameter values in, the resources it deploys
//! out, as Azure Resource Manager would deploy them, offline.
//!
//! For each entry of `resources` (and each resource nested in one) the reader reads the `type`
//! first: a type nsgsim does not model is recorded as skipped and nothing else of it is
//! evaluated (its name may use `uniqueString()`, which only a deployment knows). For the others
//! it applies the resource copy loop (`copy`, one resource per iteration, `copyIndex()` the
//! iteration, the path marked `(copyIndex=i)`), the `condition` (false: not deployed, with a
//! warning; as in ARM it does not cascade to nested resources), evaluates the name, and
//! evaluates the body ([`body`]: every expression, every property copy loop). What cannot be
//! evaluated offline becomes an unknown value in the body, an error only where the inventory
//! reads it.
//!
//! The expression language is in [`expr`], resource ids in [`id`], parameter values in
//! [`params`]. Still to come (and refused or skipped with a message until then):
//! `languageVersion` 2.0 (resources keyed by symbolic name) and nested deployments
//! (`Microsoft.Resources/deployments`, skipped as a type that can change traffic).

mod body;
mod expr;
mod id;
mod params;

use std::collections::HashMap;

pub use expr::{ArmValue, Deployment, TemplateScope, eval_condition, eval_count, eval_string};
pub use id::{ResourceRef, key, parse_id};
pub use params::{Origin, Parameters, command_line, is_parameters_file, read_file as read_parameters_file};

use super::ImportError;
use super::json::{Node, Value};
use super::resource::{
    Collected, Kind, Resource, Skipped, full_kind, resource_names, skip_unmodelled, skip_untyped,
};
use super::source::{Diagnostics, Src, join};
use super::summary::SkipReason;

/// Whether `root` is an ARM template: an object with `resources` that is not itself a resource
/// (`az vm show` output has `resources`, its extensions, and a `type`), or one whose `$schema`
/// says `deploymentTemplate`.
pub fn is_template(root: &Node) -> bool {
    let Some(o) = root.as_object() else { return false };
    let schema = o.get("$schema").and_then(Node::as_str).unwrap_or("").to_ascii_lowercase();
    schema.contains("deploymenttemplate") || (o.contains_key("resources") && !o.contains_key("type"))
}

/// Reads the template `root` of file `file` with the given parameter values: the resources it
/// deploys go to `out`. Returns the names of the parameters the template declares.
///
/// # Errors
/// Anything the template needs that is wrong or cannot be evaluated: a resource's type, name,
/// condition or copy count, a malformed property copy loop, a parameter value its declaration
/// refuses; and a `languageVersion` 2.0 template, not read yet.
pub fn read_template(
    root: &Node,
    file: usize,
    parameters: &Parameters,
    deployment: &Deployment,
    diag: &mut Diagnostics,
    out: &mut Collected,
) -> Result<Vec<String>, ImportError> {
    let top = Src::root(file, root);
    let resources_src = top.member(root, "resources");
    let resources = match root.get("resources").map(|r| &r.value) {
        None => &[][..],
        Some(Value::Array(items)) => items.as_slice(),
        Some(Value::Object(_)) => {
            let version = root.get("languageVersion").map(Node::shown).unwrap_or_default();
            return Err(diag.invalid(
                &resources_src,
                "",
                format!(
                    "the resources are an object keyed by symbolic name (languageVersion {}), as Bicep builds templates with user-defined types; nsgsim does not read these templates yet",
                    if version.is_empty() { "2.0".to_string() } else { version }
                ),
            ));
        }
        Some(_) => {
            let shown = root.get("resources").map(Node::shown).unwrap_or_default();
            return Err(diag.invalid(&resources_src, &shown, "expected a list of resources"));
        }
    };
    let object = |key: &str| match root.get(key).map(Node::to_json) {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let declarations = object("parameters");
    let mut supplied = HashMap::new();
    for (name, declaration) in &declarations {
        if let Some(given) = parameters.get(name) {
            supplied.insert(name.clone(), params::supplied(name, declaration, given, diag)?);
        }
    }
    let declared: Vec<String> = declarations.keys().cloned().collect();
    let scope = TemplateScope::template(declarations, object("variables"), supplied, deployment.clone());
    let mut reader = Reader { diag, out };
    for (i, item) in resources.iter().enumerate() {
        reader.resource(item, &resources_src.item(i, item), &scope, None)?;
    }
    for function in scope.take_stand_ins() {
        let answer = match function.as_str() {
            "resourceGroup()" => format!(
                "resource group '{}' in location '{}' (set them with --resource-group and --location)",
                deployment.resource_group, deployment.location
            ),
            _ => format!("subscription '{}' (set it with --subscription)", deployment.subscription),
        };
        let file_level = Src { file, path: String::new(), position: None };
        reader.diag.warn(
            &file_level,
            format!("{function} is only known at deployment; evaluated offline as {answer}"),
        );
    }
    Ok(declared)
}

struct Reader<'a> {
    diag: &'a mut Diagnostics,
    out: &'a mut Collected,
}

/// The enclosing resource of a nested one: its full type and names.
type Parent<'p> = Option<(&'p str, &'p [String])>;

impl Reader<'_> {
    /// One entry of `resources`, at `src`: skipped by type, or one resource per iteration of its
    /// copy loop.
    fn resource(
        &mut self,
        node: &Node,
        src: &Src,
        scope: &TemplateScope,
        parent: Parent<'_>,
    ) -> Result<(), ImportError> {
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
        if Kind::of(&kind).is_none() {
            skip_unmodelled(&kind, node, src, self.out, self.diag);
            return Ok(());
        }
        let Some(copy) = obj.get("copy") else {
            return self.deployed(node, src, scope, parent, &kind, relative);
        };
        // A resource copy loop: `"copy": {"name": "loop", "count": n}`; copyIndex() is the
        // iteration. (`mode` and `batchSize` order the deployment and change nothing here.)
        let at = src.member(node, "copy");
        if copy.as_object().is_none() {
            return Err(self.diag.invalid(
                &at,
                &copy.shown(),
                "a resource copy loop is an object {\"name\": ..., \"count\": ...} (property loops go inside 'properties')",
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
            self.deployed(node, &isrc, &inner, parent, &kind, relative)?;
        }
        Ok(())
    }

    /// One resource as deployed: skipped when its `condition` is false, else evaluated; then
    /// the resources nested in it.
    fn deployed(
        &mut self,
        node: &Node,
        src: &Src,
        scope: &TemplateScope,
        parent: Parent<'_>,
        kind: &str,
        relative: bool,
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
                resource_names(kind, &raw, relative, parent_names, id)
                    .unwrap_or_else(|_| raw.split('/').map(str::to_string).collect())
            }
            Some(name) => {
                let raw = self.text(name, &name_src, scope)?;
                resource_names(kind, &raw, relative, parent_names, id)
                    .map_err(|e| self.diag.invalid(&name_src, &raw, e))?
            }
            None => resource_names(kind, "", relative, parent_names, id)
                .map_err(|e| self.diag.invalid(&name_src, "", e))?,
        };
        if deploy {
            let body = body::evaluate_resource(node, scope).map_err(|e| {
                let at = Src { file: src.file, path: join(&src.path, &e.path), position: Some(e.position) };
                self.diag.invalid(&at, "", e.message)
            })?;
            self.out.resources.push(Resource {
                kind: kind.to_string(),
                names: names.clone(),
                body,
                src: src.clone(),
            });
        } else {
            // ARM does not cascade a condition to nested resources: they keep their own.
            let condition = node.get("condition").map(|c| c.to_json().to_string()).unwrap_or_default();
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
        }
        let children_src = src.member(node, "resources");
        for (i, child) in node.get("resources").and_then(Node::as_array).into_iter().flatten().enumerate() {
            self.resource(child, &children_src.item(i, child), scope, Some((kind, &names)))?;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::import::json::parse;

    fn read(text: &str, parameters: &Parameters) -> Result<(Collected, Diagnostics), ImportError> {
        let mut diag = Diagnostics::default();
        let file = diag.add_file(Path::new("t.json"));
        let root = parse(text.as_bytes()).expect("JSON");
        let mut out = Collected::default();
        read_template(&root, file, parameters, &Deployment::default(), &mut diag, &mut out)?;
        Ok((out, diag))
    }

    #[test]
    fn unmodelled_types_are_skipped_before_their_names_are_evaluated() {
        let text = r#"{"resources": [
            {"type": "Microsoft.Storage/storageAccounts", "name": "[concat('sa', uniqueString(resourceGroup().id))]",
             "resources": [{"type": "blobServices", "name": "[guid()]"}]},
            {"type": "Microsoft.Network/applicationSecurityGroups", "name": "asg"}]}"#;
        let (out, diag) = read(text, &Parameters::default()).expect("reads");
        assert_eq!(out.resources.len(), 1);
        assert_eq!(out.resources[0].names, ["asg"]);
        let skipped: Vec<&str> = out.skipped.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            skipped,
            ["Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/blobServices"]
        );
        let w: Vec<String> = diag.into_warnings().iter().map(ToString::to_string).collect();
        assert!(w[0].starts_with("t.json:2:13: resources[0]: resource type 'Microsoft.Storage/storageAccounts' is not imported: not modelled; cannot change NSG traffic"), "{w:?}");
    }

    #[test]
    fn given_values_win_over_defaults_and_unneeded_unknowns_cost_nothing() {
        let text = r#"{"parameters": {"name": {"type": "string", "defaultValue": "x"}, "adminPassword": {"type": "securestring"}},
            "resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[parameters('name')]",
                           "properties": {"secret": "[parameters('adminPassword')]"}}]}"#;
        let mut parameters = Parameters::default();
        parameters.extend(vec![command_line("name=from-cli").expect("ok")]);
        let (out, _) = read(text, &parameters).expect("the password is never read");
        assert_eq!(out.resources[0].names, ["from-cli"]);
        let secret = out.resources[0].body.get("properties").and_then(|p| p.get("secret")).expect("kept");
        assert!(
            matches!(&secret.value, Value::Unknown(u) if u.reason.contains("--parameter adminPassword=VALUE"))
        );
    }

    #[test]
    fn a_template_keyed_by_symbolic_name_is_refused_with_its_position() {
        let e = read(
            r#"{"languageVersion": "2.0", "resources": {"nsg": {"type": "x"}}}"#,
            &Parameters::default(),
        )
        .expect_err("not read yet");
        assert!(e.to_string().starts_with("t.json:1:41: resources: the resources are an object keyed by symbolic name (languageVersion 2.0)"), "{e}");
    }

    #[test]
    fn templates_are_told_from_resources_with_children() {
        let template = parse(br#"{"resources": []}"#).expect("JSON");
        let vm_show =
            parse(br#"{"type": "Microsoft.Compute/virtualMachines", "name": "vm", "resources": []}"#)
                .expect("JSON");
        let schema = parse(br#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"}"#)
            .expect("JSON");
        assert!(is_template(&template) && is_template(&schema));
        assert!(!is_template(&vm_show));
    }
}

//! The `az` and REST reader: resources as Azure prints them, literal values only.
//!
//! Shapes: one resource (`az … show`, a REST GET), a list of resources (`az … list`), a REST
//! list `{"value": [...]}`; properties under `properties` (REST, portal JSON view) or flattened
//! to the top level (`az`). Child resources may be nested under a resource's `resources` (`az vm
//! show` lists a VM's extensions there) with a type relative to their parent's, or stand alone
//! with their parent's name in their `id`. Nothing is evaluated: what Azure prints is what was
//! deployed, so a string starting with `[` is just a string.

use super::ImportError;
use super::json::{Node, Object, Value};
use super::resource::{Collected, Kind, Resource, full_kind, resource_names, skip_unmodelled, skip_untyped};
use super::source::{Diagnostics, Src};

/// Reads the resources of `root`, the document of file `file`, into `out`.
///
/// # Errors
/// A document that is none of the shapes above, an item that is not an object, a type that is
/// not a string, or names that do not fit the type.
pub fn read(
    root: &Node,
    file: usize,
    diag: &mut Diagnostics,
    out: &mut Collected,
) -> Result<(), ImportError> {
    let top = Src::root(file, root);
    match &root.value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                resource(item, &top.item(i, item), None, diag, out)?;
            }
        }
        Value::Object(o) if o.get("value").is_some_and(|v| v.as_array().is_some()) => {
            let at = top.member(root, "value");
            for (i, item) in o.get("value").and_then(Node::as_array).into_iter().flatten().enumerate() {
                resource(item, &at.item(i, item), None, diag, out)?;
            }
        }
        Value::Object(_) => resource(root, &top, None, diag, out)?,
        _ => {
            return Err(diag.invalid(
                &top,
                &root.shown(),
                "the file is neither an ARM template (an object with 'resources'), a resource (an object with 'type'), a REST list ({\"value\": [...]}) nor a list of resources",
            ));
        }
    }
    Ok(())
}

/// One resource at `src`, and the resources nested in it. `parent` = (type, names) of the
/// resource it is nested in. The Terraform reader hands `azapi_resource` bodies here.
pub(super) fn resource(
    node: &Node,
    src: &Src,
    parent: Option<(&str, &[String])>,
    diag: &mut Diagnostics,
    out: &mut Collected,
) -> Result<(), ImportError> {
    let Some(obj) = node.as_object() else {
        return Err(diag.invalid(src, &node.shown(), "expected a resource object"));
    };
    let Some(type_node) = obj.get("type") else {
        skip_untyped(src, out, diag);
        return Ok(());
    };
    let Some(written) = type_node.as_str() else {
        return Err(diag.invalid(
            &src.member(node, "type"),
            &type_node.shown(),
            format!("expected a string, found {}", type_node.kind()),
        ));
    };
    let relative = parent.is_some() && !written.contains('/');
    let kind = full_kind(written, parent.map(|p| p.0));
    if Kind::of(&kind).is_none() {
        skip_unmodelled(&kind, node, src, out, diag);
        return Ok(());
    }
    let name_src = src.member(node, "name");
    let raw = match obj.get("name") {
        None => String::new(),
        Some(n) => match n.as_str() {
            Some(s) => s.to_string(),
            None => {
                return Err(diag.invalid(
                    &name_src,
                    &n.shown(),
                    format!("expected a string, found {}", n.kind()),
                ));
            }
        },
    };
    let id = obj.get("id").and_then(Node::as_str);
    let names = resource_names(&kind, &raw, relative, parent.map_or(&[][..], |p| p.1), id)
        .map_err(|e| diag.invalid(&name_src, &raw, e))?;
    let mut body = Object::new();
    for (key, value) in obj.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("resources")) {
        body.insert(key.to_string(), value.clone());
    }
    out.resources.push(Resource {
        kind: kind.clone(),
        names: names.clone(),
        body: Node::new(Value::Object(body), node.position),
        src: src.clone(),
    });
    let children = src.member(node, "resources");
    for (i, child) in obj.get("resources").and_then(Node::as_array).into_iter().flatten().enumerate() {
        resource(child, &children.item(i, child), Some((&kind, &names)), diag, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::import::json::parse;

    fn read_text(text: &str) -> Result<(Collected, Diagnostics), ImportError> {
        let mut diag = Diagnostics::default();
        let file = diag.add_file(Path::new("a.json"));
        let mut out = Collected::default();
        read(&parse(text.as_bytes()).expect("JSON"), file, &mut diag, &mut out)?;
        Ok((out, diag))
    }

    /// `az vm show` with extensions: the VM is read (its `resources` are its extensions, not a
    /// template's resources), the extensions are skipped by type.
    #[test]
    fn a_vm_with_extensions_is_a_vm() {
        let text = r#"{"type": "Microsoft.Compute/virtualMachines", "name": "vm1",
            "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1",
            "resources": [{"type": "Microsoft.Compute/virtualMachines/extensions", "name": "ext",
                           "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1/extensions/ext"}]}"#;
        let (out, _) = read_text(text).expect("reads");
        assert_eq!(out.resources.len(), 1);
        assert_eq!(out.resources[0].names, ["vm1"]);
        assert!(out.resources[0].body.get("resources").is_none());
        assert_eq!(out.skipped[0].kind, "Microsoft.Compute/virtualMachines/extensions");
    }

    #[test]
    fn expressions_in_az_output_are_literal_text() {
        let text = r#"[{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[not-evaluated]"}]"#;
        let (out, _) = read_text(text).expect("reads");
        assert_eq!(out.resources[0].names, ["[not-evaluated]"]);
        let e = read_text("[42]").expect_err("not a resource").to_string();
        assert_eq!(e, "a.json:1:2: [0]: '42': expected a resource object");
    }
}

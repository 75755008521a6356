//! The `az` and REST reader: resources as Azure prints them, literal values only.
//!
//! Shapes: one resource (`az … show`, a REST GET), a list of resources (`az … list`), a REST
//! list `{"value": [...]}`; a REST API example file (`{"parameters": …, "responses": {"200":
//! {"body": …}}}`, as Microsoft's API specs publish them), read as the body of its first
//! successful response; a Resource Graph answer, `{"data": [...]}` (objects) or `{"data":
//! {"columns": [...], "rows": [[...]]}}` (a table, each row read as an object keyed by the
//! column names). Properties sit under `properties` (REST, portal JSON view, Resource Graph) or
//! are flattened to the top level (`az`). Child resources may be nested under a resource's
//! `resources` (`az vm show` lists a VM's extensions there) with a type relative to their
//! parent's, or stand alone with their parent's name in their `id`. Nothing is evaluated: what
//! Azure prints is what was deployed, so a string starting with `[` is just a string.

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
    document(root, &Src::root(file, root), diag, out)
}

/// The resources of the document `node` at `src`, whatever its shape (see the module docs).
fn document(node: &Node, src: &Src, diag: &mut Diagnostics, out: &mut Collected) -> Result<(), ImportError> {
    match &node.value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                resource(item, &src.item(i, item), None, diag, out)?;
            }
        }
        Value::Object(o)
            if !o.contains_key("type") && o.get("value").is_some_and(|v| v.as_array().is_some()) =>
        {
            document(o.get("value").expect("checked above"), &src.member(node, "value"), diag, out)?;
        }
        Value::Object(o)
            if !o.contains_key("type") && o.get("responses").is_some_and(|r| r.as_object().is_some()) =>
        {
            let responses = o.get("responses").expect("checked above");
            let at = src.member(node, "responses");
            let body =
                responses.as_object().into_iter().flat_map(|r| r.iter()).find_map(|(status, response)| {
                    let ok = status.len() == 3 && status.starts_with('2');
                    let body = response.as_object().and_then(|r| r.member("body"));
                    if ok { body.map(|(key, b)| (at.child(status, response).child(key, b), b)) } else { None }
                });
            match body {
                Some((body_src, body)) => document(body, &body_src, diag, out)?,
                None => {
                    diag.warn(src, "a REST API example with no successful response body; nothing to read")
                }
            }
        }
        Value::Object(o) if !o.contains_key("type") && o.get("data").is_some() => {
            let data = o.get("data").expect("checked above");
            let at = src.member(node, "data");
            match data.as_object() {
                Some(table) if table.contains_key("rows") => graph_table(data, table, &at, diag, out)?,
                _ => document(data, &at, diag, out)?,
            }
        }
        Value::Object(_) => resource(node, src, None, diag, out)?,
        _ => {
            return Err(diag.invalid(
                src,
                &node.shown(),
                "the file is neither an ARM template (an object with 'resources'), a resource (an object with 'type'), a REST list ({\"value\": [...]}), a REST API example ({\"responses\": …}), a Resource Graph answer ({\"data\": …}) nor a list of resources",
            ));
        }
    }
    Ok(())
}

/// A Resource Graph table (`{"columns": [{"name": …}], "rows": [[…]]}`): each row is read as
/// the object whose members are the columns' names and the row's cells, placed at the row.
fn graph_table(
    node: &Node,
    table: &Object,
    src: &Src,
    diag: &mut Diagnostics,
    out: &mut Collected,
) -> Result<(), ImportError> {
    let columns_at = src.member(node, "columns");
    let mut names = Vec::new();
    for (i, column) in table.get("columns").and_then(Node::as_array).into_iter().flatten().enumerate() {
        let Some(name) = column.get("name").and_then(Node::as_str) else {
            return Err(diag.invalid(&columns_at.item(i, column), &column.shown(), "a column needs a name"));
        };
        names.push(name.to_string());
    }
    let rows_at = src.member(node, "rows");
    for (i, row) in table.get("rows").and_then(Node::as_array).into_iter().flatten().enumerate() {
        let at = rows_at.item(i, row);
        let Some(cells) = row.as_array() else {
            return Err(diag.invalid(&at, &row.shown(), "expected a row (a list of cells)"));
        };
        if cells.len() != names.len() {
            return Err(diag.invalid(
                &at,
                &cells.len().to_string(),
                format!("the row has {} cells and the table {} columns; valid: one cell per column, in the order of 'columns'", cells.len(), names.len()),
            ));
        }
        let mut object = Object::new();
        for (name, cell) in names.iter().zip(cells) {
            object.insert(name.clone(), cell.clone());
        }
        resource(&Node::new(Value::Object(object), row.position), &at, None, diag, out)?;
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
        .map_err(|e| diag.invalid(&name_src, &raw, e.to_string()))?;
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

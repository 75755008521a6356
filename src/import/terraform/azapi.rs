//! `azapi_resource`: an Azure resource written in Azure's own shape (`type =
//! "Microsoft.Security/locations/jitNetworkAccessPolicies@2020-01-01"`, `parent_id`, `name`,
//! `body`), which is how JIT policies and other resources the azurerm provider lacks appear in
//! Terraform. Its body is what the REST API takes, so it goes through the `az`/REST reader as
//! one resource, with its type and names from `type`, `parent_id` and `name`.
//!
//! azapi 1.x takes the body as a JSON string (`jsonencode(...)`), 2.x as an object; a string is
//! parsed, and every value in it is placed at the string (as a template expression's results
//! are placed at the expression). A body the plan knows only in part (a VM id of a VM the same
//! apply creates) is not read: the resource is skipped with a caveat.

use super::attrs::{object, text};
use super::{Reader, Res};
use crate::import::arm::parse_id;
use crate::import::json::{Node, Object, Value, parse};
use crate::import::json_position::Position;
use crate::import::resource::Kind;
use crate::import::summary::SkipReason;
use crate::scenario::schema::CaveatKindSpec;

impl<'a> Reader<'a, '_> {
    /// Reads `azapi_resource` instance `i` through the `az`/REST reader.
    pub(super) fn azapi(&mut self, i: usize) -> Res<()> {
        let a = self.values(i)?;
        let Some((written, type_node, type_at)) = a.text("type", self.diag)? else {
            return Err(self.diag.invalid(
                &a.src.member(a.node, "type"),
                "",
                "an azapi_resource needs its type (TYPE@API-VERSION)",
            ));
        };
        let (kind, api_version) = written.split_once('@').unwrap_or((written.as_str(), ""));
        if kind.split('/').count() < 2 {
            return Err(self.diag.invalid(&type_at, &written, "not an Azure resource type (valid: e.g. Microsoft.Security/locations/jitNetworkAccessPolicies@2020-01-01)"));
        }
        let address = self.instances[i].address.clone();
        if Kind::of(kind).is_some() && a.has_unknown("body") {
            let why = format!(
                "{address}: its body is only known after the apply (it uses values the same apply creates); the {kind} is not imported"
            );
            self.skip(i, SkipReason::NotImported, why.clone());
            let src = a.src.member(a.node, "body");
            self.caveat(CaveatKindSpec::UnresolvedReference, &address, &src, why);
            return Ok(());
        }
        let body = match a.value("body") {
            None => object(a.position(), []),
            Some((node, at)) => match &node.value {
                Value::Object(_) => node.clone(),
                Value::String(s) => match parse(s.as_bytes()) {
                    Ok(parsed) => placed(parsed, node.position),
                    Err(e) => return Err(self.diag.invalid(&at, s, format!("body: not JSON ({e})"))),
                },
                _ => {
                    return Err(self.diag.invalid(
                        &at,
                        &node.shown(),
                        "body: expected an object or a JSON string",
                    ));
                }
            },
        };
        let name = a.text("name", self.diag)?.map(|(s, _, _)| s).unwrap_or_default();
        let parent = a.text("parent_id", self.diag)?.map(|(s, _, _)| s).unwrap_or_default();
        // A child type of the parent's takes the parent's names first.
        let mut names = match parse_id(&parent) {
            Some(p)
                if kind.to_ascii_lowercase().starts_with(&format!("{}/", p.kind.to_ascii_lowercase())) =>
            {
                p.names
            }
            _ => Vec::new(),
        };
        names.push(name.clone());
        let mut resource = Object::new();
        if let Some(o) = body.as_object() {
            for (k, v) in o.iter() {
                resource.insert(k.to_string(), v.clone());
            }
        }
        let id = a.text("id", self.diag)?.map(|(s, _, _)| s).unwrap_or_else(|| {
            let own: Vec<String> =
                kind.split('/').skip(1).zip(&names).map(|(t, n)| format!("{t}/{n}")).collect();
            let root = parent.split("/providers/").next().unwrap_or_default();
            format!("{root}/providers/{}/{}", kind.split('/').next().unwrap_or_default(), own.join("/"))
        });
        resource.insert("id".into(), text(a.position(), &id));
        resource.insert("type".into(), text(type_node.position, kind));
        resource.insert(
            "name".into(),
            text(a.value("name").map_or(a.position(), |(n, _)| n.position), &names.join("/")),
        );
        if !api_version.is_empty() {
            resource.insert("apiVersion".into(), text(type_node.position, api_version));
        }
        let node = Node::new(Value::Object(resource), a.position());
        let src = self.instances[i].src.clone();
        crate::import::rest::resource(&node, &src, None, self.diag, self.out)
    }
}

/// `node` with every value placed at `at` (values parsed out of a string sit at the string).
fn placed(node: Node, at: Position) -> Node {
    let value = match node.value {
        Value::Array(items) => Value::Array(items.into_iter().map(|n| placed(n, at)).collect()),
        Value::Object(o) => {
            let mut out = Object::new();
            for (k, v) in o.iter() {
                out.insert(k.to_string(), placed(v.clone(), at));
            }
            Value::Object(out)
        }
        other => other,
    };
    Node::new(value, at)
}

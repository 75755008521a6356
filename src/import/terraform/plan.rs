//! The resource instances of a Terraform document, whatever its shape: a saved plan
//! (`resource_changes` with each change's `after` and `after_unknown`, or `planned_values` when a
//! plan has no `resource_changes`), state as `terraform show -json` prints it (`values`), or a
//! raw state file (`terraform.tfstate`, `resources[].instances[]`). Child modules are walked at
//! any depth. Each instance keeps its address, its module path with instance keys, what the
//! plan does to it, and where its values are, with the address in the path
//! (`resource_changes[3](module.hub.azurerm_subnet.web).change.after`), so that every message
//! about one of its values names the Terraform block.

use std::fmt;

use crate::import::ImportError;
use crate::import::json::{Node, Value};
use crate::import::source::{Diagnostics, Src};

/// An instance key: `[0]` of a resource or module with `count`, `["web"]` with `for_each`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// A `count` index.
    Index(i64),
    /// A `for_each` key.
    Name(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Index(i) => write!(f, "[{i}]"),
            Key::Name(n) => write!(f, "[\"{n}\"]"),
        }
    }
}

/// One step of a module path: `module.hub`, `module.spoke["a"]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// The module call's name.
    pub name: String,
    /// The module instance's key.
    pub key: Option<Key>,
}

/// What a plan does to an instance (Terraform's `change.actions`), or that it is in a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `["create"]`.
    Create,
    /// `["update"]`.
    Update,
    /// `["delete", "create"]` or `["create", "delete"]`: destroyed and created again.
    Replace,
    /// `["no-op"]`.
    NoOp,
    /// `["delete"]`, or a deposed object: gone after the apply.
    Delete,
    /// `["read"]`: a data source read during the apply.
    Read,
    /// `["forget"]`: left in Azure, no longer managed.
    Forget,
    /// In `planned_values` of a plan without `resource_changes`: as planned.
    Planned,
    /// In a state: as it is.
    State,
}

impl Action {
    fn of(actions: &[&str]) -> Option<Action> {
        Some(match actions {
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            ["no-op"] => Action::NoOp,
            ["delete"] => Action::Delete,
            ["read"] => Action::Read,
            ["forget"] => Action::Forget,
            _ => return None,
        })
    }
}

/// One resource instance of the document.
#[derive(Clone, Debug)]
pub struct Instance<'a> {
    /// Its full address: `module.hub.azurerm_subnet.web["a"]`.
    pub address: String,
    /// Its module path, with instance keys.
    pub module: Vec<Step>,
    /// Whether it is a data source.
    pub data: bool,
    /// Its resource type: `azurerm_subnet`.
    pub kind: String,
    /// Its name in the configuration: `web`.
    pub name: String,
    /// Its instance key.
    pub key: Option<Key>,
    /// What the plan does to it.
    pub action: Action,
    /// Its values after the apply (`after`, `values`, `attributes`); `None` when destroyed.
    pub values: Option<&'a Node>,
    /// Which of them are only known after the apply (`after_unknown`).
    pub unknown: Option<&'a Node>,
    /// Where its values are (where the instance is, when it has none).
    pub src: Src,
}

impl Instance<'_> {
    /// The address within its module, without the key: `azurerm_subnet.web`, `data.x.y`.
    pub fn local_address(&self) -> String {
        if self.data {
            format!("data.{}.{}", self.kind, self.name)
        } else {
            format!("{}.{}", self.kind, self.name)
        }
    }
}

type Res<T> = Result<T, ImportError>;

/// Every resource instance of the Terraform document `root` of file `file`: the plan's changes
/// (or its planned values), or the state's resources; data sources a plan read while planning
/// (its `prior_state`) are added for the references that name them.
///
/// # Errors
/// A resource or change that is not an object, lacks its type or name, or has actions
/// Terraform does not write.
pub fn instances<'a>(root: &'a Node, file: usize, diag: &Diagnostics) -> Res<Vec<Instance<'a>>> {
    let top = Src::root(file, root);
    let mut out = Vec::new();
    if let Some(changes) = root.get("resource_changes").and_then(Node::as_array) {
        let at = top.member(root, "resource_changes");
        for (i, change) in changes.iter().enumerate() {
            out.extend(resource_change(change, &at.item(i, change), diag)?);
        }
        if let Some(prior) = root.get("prior_state")
            && let Some(values) = prior.get("values")
        {
            let at = top.member(root, "prior_state").member(prior, "values");
            let mut known = Vec::new();
            module_values(values, &at, Action::State, diag, &mut known)?;
            // A data source the plan read while planning has its values in the prior state; one
            // read during the apply is in the changes, with its values unknown.
            for d in known.into_iter().filter(|d| d.data) {
                if !out.iter().any(|o| o.data && o.address == d.address) {
                    out.push(d);
                }
            }
        }
    } else if let Some(planned) = root.get("planned_values") {
        module_values(planned, &top.member(root, "planned_values"), Action::Planned, diag, &mut out)?;
    } else if let Some(values) = root.get("values") {
        module_values(values, &top.member(root, "values"), Action::State, diag, &mut out)?;
    } else if let Some(resources) = root.get("resources").and_then(Node::as_array) {
        let at = top.member(root, "resources");
        for (i, r) in resources.iter().enumerate() {
            out.extend(raw_state_resource(r, &at.item(i, r), diag)?);
        }
    }
    Ok(out)
}

/// The string member `field` of `node`, or an error at `src` saying the object needs it.
fn required<'a>(node: &'a Node, src: &Src, field: &str, what: &str, diag: &Diagnostics) -> Res<&'a str> {
    match node.get(field) {
        Some(v) => v.as_str().ok_or_else(|| {
            diag.invalid(
                &src.member(node, field),
                &v.shown(),
                format!("expected a string, found {}", v.kind()),
            )
        }),
        None => Err(diag.invalid(&src.member(node, field), "", format!("{what} needs '{field}'"))),
    }
}

/// The instance key at `index` of `node` (a number or a string), if any.
fn key_of(node: &Node, field: &str, src: &Src, diag: &Diagnostics) -> Res<Option<Key>> {
    match node.get(field).map(|k| &k.value) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Some(Key::Index(i))),
            None => Err(diag.invalid(
                &src.member(node, field),
                &n.to_string(),
                "an instance index is a whole number",
            )),
        },
        Some(Value::String(s)) => Ok(Some(Key::Name(s.clone()))),
        Some(_) => {
            let shown = node.get(field).map(Node::shown).unwrap_or_default();
            Err(diag.invalid(
                &src.member(node, field),
                &shown,
                "an instance key is expected to be a number (a count index) or a string (a for_each key)",
            ))
        }
    }
}

/// The address of an instance: its module path, `data.` for a data source, type, name, key.
fn address(module: &[Step], data: bool, kind: &str, name: &str, key: Option<&Key>) -> String {
    let mut out = String::new();
    for step in module {
        out.push_str("module.");
        out.push_str(&step.name);
        if let Some(k) = &step.key {
            out.push_str(&k.to_string());
        }
        out.push('.');
    }
    if data {
        out.push_str("data.");
    }
    out.push_str(kind);
    out.push('.');
    out.push_str(name);
    if let Some(k) = key {
        out.push_str(&k.to_string());
    }
    out
}

/// One entry of `resource_changes`.
fn resource_change<'a>(node: &'a Node, src: &Src, diag: &Diagnostics) -> Res<Option<Instance<'a>>> {
    if node.as_object().is_none() {
        return Err(diag.invalid(src, &node.shown(), "expected a resource change object"));
    }
    let what = "a resource change";
    let kind = required(node, src, "type", what, diag)?.to_string();
    let name = required(node, src, "name", what, diag)?.to_string();
    let module_text = node.get("module_address").and_then(Node::as_str).unwrap_or("");
    let module = parse_module_path(module_text).ok_or_else(|| {
        diag.invalid(
            &src.member(node, "module_address"),
            module_text,
            "not a module address (valid: module.NAME, module.NAME[0], module.NAME[\"key\"], joined by '.')",
        )
    })?;
    let data = node.get("mode").and_then(Node::as_str) == Some("data");
    let key = key_of(node, "index", src, diag)?;
    let address = address(&module, data, &kind, &name, key.as_ref());
    let at = src.at(&format!("({address})"));
    let Some(change) = node.get("change").filter(|c| c.as_object().is_some()) else {
        return Err(diag.invalid(
            &at.member(node, "change"),
            "",
            "a resource change needs its 'change' object",
        ));
    };
    let change_at = at.member(node, "change");
    let actions: Vec<&str> = change
        .get("actions")
        .and_then(Node::as_array)
        .into_iter()
        .flatten()
        .filter_map(Node::as_str)
        .collect();
    let Some(mut action) = Action::of(&actions) else {
        return Err(diag.invalid(
            &change_at.member(change, "actions"),
            &change.get("actions").map(Node::shown).unwrap_or_default(),
            "not a list of actions Terraform writes (valid: [\"create\"], [\"update\"], [\"no-op\"], [\"delete\"], [\"delete\", \"create\"], [\"create\", \"delete\"], [\"read\"], [\"forget\"])",
        ));
    };
    // A deposed object is an old object of the instance that the apply destroys.
    if node.get("deposed").is_some_and(|d| !d.is_null()) {
        action = Action::Delete;
    }
    let (values, unknown, values_at) = match action {
        Action::Delete => (None, None, change_at.clone()),
        Action::Forget => {
            let before = change.get("before").filter(|b| b.as_object().is_some());
            (before, None, change_at.member(change, "before"))
        }
        _ => {
            let after = change.get("after").filter(|a| a.as_object().is_some());
            (after, change.get("after_unknown"), change_at.member(change, "after"))
        }
    };
    Ok(Some(Instance { address, module, data, kind, name, key, action, values, unknown, src: values_at }))
}

/// The resources of a module of `planned_values` or `values` (`root_module` and its
/// `child_modules`, at any depth).
fn module_values<'a>(
    node: &'a Node,
    src: &Src,
    action: Action,
    diag: &Diagnostics,
    out: &mut Vec<Instance<'a>>,
) -> Res<()> {
    let Some(root) = node.get("root_module") else { return Ok(()) };
    walk_module(root, &src.member(node, "root_module"), action, diag, out, 0)
}

/// The deepest module nesting read (Terraform itself has no limit; this guards the stack).
const MAX_MODULE_DEPTH: usize = 64;

fn walk_module<'a>(
    module: &'a Node,
    src: &Src,
    action: Action,
    diag: &Diagnostics,
    out: &mut Vec<Instance<'a>>,
    depth: usize,
) -> Res<()> {
    if depth > MAX_MODULE_DEPTH {
        return Err(diag.invalid(src, "", format!("modules nested deeper than {MAX_MODULE_DEPTH}")));
    }
    let module_text = module.get("address").and_then(Node::as_str).unwrap_or("");
    let path = parse_module_path(module_text).ok_or_else(|| {
        diag.invalid(
            &src.member(module, "address"),
            module_text,
            "not a module address (valid: module.NAME, module.NAME[0], module.NAME[\"key\"], joined by '.')",
        )
    })?;
    let resources_at = src.member(module, "resources");
    for (i, r) in module.get("resources").and_then(Node::as_array).into_iter().flatten().enumerate() {
        let at = resources_at.item(i, r);
        if r.as_object().is_none() {
            return Err(diag.invalid(&at, &r.shown(), "expected a resource object"));
        }
        let kind = required(r, &at, "type", "a resource", diag)?.to_string();
        let name = required(r, &at, "name", "a resource", diag)?.to_string();
        let data = r.get("mode").and_then(Node::as_str) == Some("data");
        let key = key_of(r, "index", &at, diag)?;
        let address = address(&path, data, &kind, &name, key.as_ref());
        let at = at.at(&format!("({address})"));
        let values = r.get("values").filter(|v| v.as_object().is_some());
        let values_at = at.member(r, "values");
        out.push(Instance {
            address,
            module: path.clone(),
            data,
            kind,
            name,
            key,
            action,
            values,
            unknown: None,
            src: values_at,
        });
    }
    let children_at = src.member(module, "child_modules");
    for (i, child) in module.get("child_modules").and_then(Node::as_array).into_iter().flatten().enumerate() {
        walk_module(child, &children_at.item(i, child), action, diag, out, depth + 1)?;
    }
    Ok(())
}

/// One resource of a raw state file (`terraform.tfstate`, version 4): one instance per entry of
/// its `instances`, the values in `attributes`.
fn raw_state_resource<'a>(node: &'a Node, src: &Src, diag: &Diagnostics) -> Res<Vec<Instance<'a>>> {
    if node.as_object().is_none() {
        return Err(diag.invalid(src, &node.shown(), "expected a resource object"));
    }
    let kind = required(node, src, "type", "a resource", diag)?.to_string();
    let name = required(node, src, "name", "a resource", diag)?.to_string();
    let module_text = node.get("module").and_then(Node::as_str).unwrap_or("");
    let module = parse_module_path(module_text).ok_or_else(|| {
        diag.invalid(
            &src.member(node, "module"),
            module_text,
            "not a module address (valid: module.NAME, module.NAME[0], module.NAME[\"key\"], joined by '.')",
        )
    })?;
    let data = node.get("mode").and_then(Node::as_str) == Some("data");
    let mut out = Vec::new();
    let at = src.member(node, "instances");
    for (i, instance) in node.get("instances").and_then(Node::as_array).into_iter().flatten().enumerate() {
        let iat = at.item(i, instance);
        let key = key_of(instance, "index_key", &iat, diag)?;
        let address = address(&module, data, &kind, &name, key.as_ref());
        let iat = iat.at(&format!("({address})"));
        // A deposed object is an old object of the instance, destroyed at the next apply.
        let action = if instance.get("deposed").is_some_and(|d| !d.is_null()) {
            Action::Delete
        } else {
            Action::State
        };
        let values = instance.get("attributes").filter(|v| v.as_object().is_some());
        out.push(Instance {
            address,
            module: module.clone(),
            data,
            kind: kind.clone(),
            name: name.clone(),
            key,
            action,
            values,
            unknown: None,
            src: iat.member(instance, "attributes"),
        });
    }
    Ok(out)
}

/// The parts of a Terraform address or reference separated by `.` outside brackets and
/// quotes: `module.a["x.y"].b` is `module`, `a["x.y"]`, `b`.
pub fn split_address(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut depth, mut quoted, mut escaped) = (0, 0usize, false, false);
    for (i, c) in text.char_indices() {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A part of an address (`web`, `web[0]`, `web["a"]`) as its name and key; `None` for a key
/// that is neither a number nor a quoted string (`[*]`, `[each.key]`).
pub fn name_and_key(part: &str) -> Option<(&str, Option<Key>)> {
    let Some(open) = part.find('[') else { return Some((part, None)) };
    let inner = part[open..].strip_prefix('[')?.strip_suffix(']')?;
    let key = if let Some(quoted) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Key::Name(quoted.replace("\\\"", "\"").replace("\\\\", "\\"))
    } else {
        Key::Index(inner.parse().ok()?)
    };
    Some((&part[..open], Some(key)))
}

/// A module address (`module.a[0].module.b`) as its steps; `None` when it is not one. The
/// empty address is the root module.
pub fn parse_module_path(text: &str) -> Option<Vec<Step>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    let parts = split_address(text);
    if !parts.len().is_multiple_of(2) {
        return None;
    }
    parts
        .chunks(2)
        .map(|pair| {
            if pair[0] != "module" {
                return None;
            }
            let (name, key) = name_and_key(pair[1])?;
            (!name.is_empty()).then(|| Step { name: name.to_string(), key })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::import::json::parse;

    #[test]
    fn module_addresses_and_keys_parse_with_dots_inside_quotes() {
        assert_eq!(split_address(r#"module.a["x.y"].b"#), vec!["module", r#"a["x.y"]"#, "b"]);
        let path =
            parse_module_path(r#"module.hub.module.spoke["a.b"].module.vm[2]"#).expect("a module path");
        assert_eq!(path.len(), 3);
        assert_eq!(path[1], Step { name: "spoke".into(), key: Some(Key::Name("a.b".into())) });
        assert_eq!(path[2].key, Some(Key::Index(2)));
        assert_eq!(parse_module_path(""), Some(Vec::new()));
        assert_eq!(parse_module_path("azurerm_subnet.web"), None);
        assert_eq!(parse_module_path("module"), None);
        assert_eq!(name_and_key("web[*]"), None);
        assert_eq!(
            address(&path[..1], true, "azurerm_subnet", "x", Some(&Key::Index(0))),
            "module.hub.data.azurerm_subnet.x[0]"
        );
    }

    fn read(text: &str) -> Vec<(String, Action, bool)> {
        let root = parse(text.as_bytes()).expect("JSON");
        let mut diag = Diagnostics::default();
        let file = diag.add_file(Path::new("plan.json"));
        let found = instances(&root, file, &diag).expect("instances");
        found.iter().map(|i| (i.address.clone(), i.action, i.values.is_some())).collect()
    }

    #[test]
    fn changes_planned_values_state_and_raw_state_give_their_instances() {
        let plan = r#"{"format_version": "1.2", "resource_changes": [
            {"address": "module.hub.azurerm_subnet.web[\"a\"]", "module_address": "module.hub", "mode": "managed", "type": "azurerm_subnet", "name": "web", "index": "a",
             "change": {"actions": ["create"], "before": null, "after": {"name": "web"}, "after_unknown": {"id": true}}},
            {"address": "azurerm_network_security_group.old", "mode": "managed", "type": "azurerm_network_security_group", "name": "old",
             "change": {"actions": ["delete"], "before": {"name": "old"}, "after": null}},
            {"address": "azurerm_network_security_group.nsg", "mode": "managed", "type": "azurerm_network_security_group", "name": "nsg",
             "change": {"actions": ["delete", "create"], "before": {"name": "nsg"}, "after": {"name": "nsg"}}}],
            "prior_state": {"values": {"root_module": {"resources": [
              {"address": "data.azurerm_subnet.existing", "mode": "data", "type": "azurerm_subnet", "name": "existing", "values": {"id": "x"}}]}}}}"#;
        assert_eq!(
            read(plan),
            vec![
                ("module.hub.azurerm_subnet.web[\"a\"]".to_string(), Action::Create, true),
                ("azurerm_network_security_group.old".to_string(), Action::Delete, false),
                ("azurerm_network_security_group.nsg".to_string(), Action::Replace, true),
                ("data.azurerm_subnet.existing".to_string(), Action::State, true),
            ]
        );
        let state = r#"{"format_version": "1.0", "values": {"root_module": {"resources": [
            {"address": "azurerm_virtual_network.v", "mode": "managed", "type": "azurerm_virtual_network", "name": "v", "values": {}}],
            "child_modules": [{"address": "module.a", "child_modules": [{"address": "module.a.module.b[0]", "resources": [
              {"address": "module.a.module.b[0].azurerm_subnet.s", "mode": "managed", "type": "azurerm_subnet", "name": "s", "values": {}}]}]}]}}}"#;
        assert_eq!(
            read(state),
            vec![
                ("azurerm_virtual_network.v".to_string(), Action::State, true),
                ("module.a.module.b[0].azurerm_subnet.s".to_string(), Action::State, true),
            ]
        );
        let raw = r#"{"version": 4, "terraform_version": "1.5.0", "resources": [
            {"module": "module.m", "mode": "managed", "type": "azurerm_subnet", "name": "s", "instances": [
              {"index_key": 0, "attributes": {"name": "s0"}}, {"index_key": 1, "attributes": {"name": "s1"}}]}]}"#;
        assert_eq!(
            read(raw).iter().map(|(a, _, _)| a.as_str()).collect::<Vec<_>>(),
            ["module.m.azurerm_subnet.s[0]", "module.m.azurerm_subnet.s[1]"]
        );
    }

    #[test]
    fn a_change_without_type_or_with_odd_actions_is_an_error_at_its_place() {
        let root = parse(br#"{"resource_changes": [{"name": "x", "change": {}}]}"#).expect("JSON");
        let mut diag = Diagnostics::default();
        let file = diag.add_file(Path::new("plan.json"));
        let e = instances(&root, file, &diag).expect_err("no type").to_string();
        assert_eq!(e, "plan.json:1:23: resource_changes[0].type: a resource change needs 'type'");
        let root = parse(
            br#"{"resource_changes": [{"type": "t", "name": "x", "change": {"actions": ["explode"]}}]}"#,
        )
        .expect("JSON");
        let e = instances(&root, file, &diag).expect_err("bad actions").to_string();
        assert!(e.starts_with("plan.json:1:72: resource_changes[0](t.x).change.actions: '[\"explode\"]': not a list of actions"), "{e}");
    }
}

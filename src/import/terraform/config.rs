//! The plan's `configuration`: what each attribute was written as, to link a value known only
//! after the apply (a new subnet's `id`) to the resource it names (`subnet_id =
//! azurerm_subnet.web.id`).
//!
//! Terraform writes, for each attribute of each resource block, either its `constant_value` or
//! the `references` its expression makes (`["azurerm_subnet.web.id", "azurerm_subnet.web"]`,
//! most specific first). A reference is followed across modules: `var.X` inside a module is the
//! module call's argument `X` in the calling module, `module.M.O` is the output `O` of module
//! `M`; `count.index` and `each.key` beside a reference pick the instance of the same key as
//! the resource that refers (or, for a module's variable, as the module instance). Locals,
//! function results and values built from `each.value` are not in the JSON, so references
//! through them cannot be followed: the reader says so and records a caveat.

use super::plan::{Instance, Key, Step, name_and_key, split_address};
use crate::import::json::Node;

/// How deep references are followed through variables and outputs (cycles are impossible in a
/// valid configuration; this bounds a crafted one).
const MAX_HOPS: usize = 32;

/// A resource instance a reference names. `key: None` names every instance of the resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The module it is in.
    pub module: Vec<Step>,
    /// Whether it is a data source.
    pub data: bool,
    /// Its type.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its instance key, when the reference picks one.
    pub key: Option<Key>,
    /// The attribute named after it (`id`, `name`, `subnet`), if any.
    pub attribute: Option<String>,
}

/// Where a reference is read: the module it is written in, and the key of the instance it is
/// written for (what `count.index` and `each.key` stand for there).
#[derive(Clone, Debug)]
struct Scope {
    module: Vec<Step>,
    key: Option<Key>,
}

/// A step of an attribute path in a resource's expressions.
#[derive(Clone, Copy, Debug)]
pub enum Seg<'p> {
    /// An attribute or block type.
    Attr(&'p str),
    /// The block at this index.
    Index(usize),
}

/// The plan's configuration.
#[derive(Clone, Copy, Debug)]
pub struct Config<'a> {
    root: Option<&'a Node>,
    /// The plan's root module variable values (`variables.NAME.value`).
    variables: Option<&'a Node>,
}

impl<'a> Config<'a> {
    /// The configuration of the document `root`; empty for a state, which has none.
    pub fn new(root: &'a Node) -> Config<'a> {
        Config {
            root: root.get("configuration").and_then(|c| c.get("root_module")),
            variables: root.get("variables"),
        }
    }

    /// Whether the document has a configuration to follow references in.
    pub fn is_present(&self) -> bool {
        self.root.is_some()
    }

    /// The module configuration at `path` (keys are instances of the same configuration).
    fn module(&self, path: &[Step]) -> Option<&'a Node> {
        let mut node = self.root?;
        for step in path {
            node = node.get("module_calls")?.get(&step.name)?.get("module")?;
        }
        Some(node)
    }

    /// The block of the resource `local_address` (`azurerm_subnet.web`, `data.x.y`) in the
    /// module at `path`.
    fn resource(&self, path: &[Step], local_address: &str) -> Option<&'a Node> {
        let module = self.module(path)?;
        module
            .get("resources")?
            .as_array()?
            .iter()
            .find(|r| r.get("address").and_then(Node::as_str) == Some(local_address))
    }

    /// The expression written for the attribute at `path` of `instance`'s block. A block list
    /// written once with `dynamic` or in one block stands for every index.
    pub fn expression(&self, instance: &Instance<'_>, path: &[Seg<'_>]) -> Option<&'a Node> {
        let mut node = self.resource(&instance.module, &instance.local_address())?.get("expressions")?;
        for seg in path {
            node = match seg {
                Seg::Attr(name) => node.get(name)?,
                Seg::Index(i) => {
                    let items = node.as_array()?;
                    items.get(*i).or_else(|| if items.len() == 1 { items.first() } else { None })?
                }
            };
        }
        Some(node)
    }

    /// The text a `for_each` reference of `instance`'s block stands for: `each.key` is the
    /// instance's key; `each.value.ATTR` is read when the block iterates over one root-module
    /// variable (`for_each = var.subnets`), whose value the plan records, as that value's entry
    /// for the key. `None` when the plan does not say.
    pub fn each_text(&self, instance: &Instance<'_>, reference: &str) -> Option<String> {
        let Some(Key::Name(key)) = &instance.key else { return None };
        if reference == "each.key" {
            return Some(key.clone());
        }
        let attribute = reference.strip_prefix("each.value.")?;
        if !instance.module.is_empty() || attribute.contains(['.', '[']) {
            return None;
        }
        let block = self.resource(&instance.module, &instance.local_address())?;
        let over = references(block.get("for_each_expression")?);
        let [variable] = over.as_slice() else { return None };
        let name = variable.strip_prefix("var.")?;
        let value = self.variables?.get(name)?.get("value")?.get(key)?.get(attribute)?.as_str()?;
        Some(value.to_string())
    }

    /// The resource instances the expression `expression` of `instance`'s block refers to, in
    /// the order written, each once.
    pub fn targets(&self, instance: &Instance<'_>, expression: &Node) -> Vec<Target> {
        let scope = Scope { module: instance.module.clone(), key: instance.key.clone() };
        let mut out = Vec::new();
        self.follow(&references(expression), &scope, None, &mut out, 0);
        out
    }

    /// Follows `refs`, read in `scope`, into `out`; `hint` is a key the reference that led
    /// here picked (`module.m.ids["web"]`).
    fn follow(&self, refs: &[String], scope: &Scope, hint: Option<&Key>, out: &mut Vec<Target>, hops: usize) {
        if hops > MAX_HOPS {
            return;
        }
        let by_instance =
            refs.iter().any(|r| r == "count.index" || r.starts_with("each.key") || r == "each.value");
        let selector = if by_instance { scope.key.clone() } else { hint.cloned() };
        for r in refs {
            let parts = split_address(r);
            match parts.first().copied() {
                Some("var") => {
                    let (Some(name), Some((call, parent))) = (parts.get(1), scope.module.split_last()) else {
                        continue;
                    };
                    let Some(expression) = self
                        .module(parent)
                        .and_then(|m| m.get("module_calls"))
                        .and_then(|c| c.get(&call.name))
                        .and_then(|c| c.get("expressions"))
                        .and_then(|e| e.get(name))
                    else {
                        continue;
                    };
                    let outer = Scope { module: parent.to_vec(), key: call.key.clone() };
                    self.follow(&references(expression), &outer, selector.as_ref(), out, hops + 1);
                }
                Some("module") => {
                    let (Some(call), Some(output)) = (parts.get(1), parts.get(2)) else { continue };
                    let Some((call_name, call_key)) = name_and_key(call) else { continue };
                    let Some(expression) = self
                        .module(&scope.module)
                        .and_then(|m| m.get("module_calls"))
                        .and_then(|c| c.get(call_name))
                        .and_then(|c| c.get("module"))
                        .and_then(|m| m.get("outputs"))
                        .and_then(|o| o.get(name_and_key(output).map_or(*output, |(n, _)| n)))
                        .and_then(|o| o.get("expression"))
                    else {
                        continue;
                    };
                    let key = call_key.or_else(|| if by_instance { scope.key.clone() } else { None });
                    let mut inner = scope.module.clone();
                    inner.push(Step { name: call_name.to_string(), key });
                    // `module.m.ids["web"]` picks the instance "web" of what the output lists.
                    let picked = name_and_key(output).and_then(|(_, k)| k).or_else(|| {
                        parts
                            .get(3)
                            .and_then(|p| name_and_key(p))
                            .and_then(|(n, k)| if n.is_empty() { k } else { None })
                    });
                    let inner = Scope { module: inner, key: None };
                    self.follow(&references(expression), &inner, picked.as_ref(), out, hops + 1);
                }
                Some("data") => {
                    if let Some(t) = target(&parts[1..], true, scope, selector.as_ref()) {
                        push(out, t);
                    }
                }
                Some("local" | "each" | "count" | "path" | "terraform" | "self") | None => {}
                Some(_) => {
                    if let Some(t) = target(&parts, false, scope, selector.as_ref()) {
                        push(out, t);
                    }
                }
            }
        }
    }
}

/// The references of an expression (`{"references": [...]}`), as written.
fn references(expression: &Node) -> Vec<String> {
    expression
        .get("references")
        .and_then(Node::as_array)
        .into_iter()
        .flatten()
        .filter_map(Node::as_str)
        .map(str::to_string)
        .collect()
}

/// The target of a resource reference `TYPE.NAME[KEY].ATTRIBUTE…` split into `parts`.
fn target(parts: &[&str], data: bool, scope: &Scope, selector: Option<&Key>) -> Option<Target> {
    let kind = parts.first()?;
    let (name, key) = name_and_key(parts.get(1)?)?;
    let attribute = parts.get(2).and_then(|a| name_and_key(a)).map(|(a, _)| a.to_string());
    Some(Target {
        module: scope.module.clone(),
        data,
        kind: (*kind).to_string(),
        name: name.to_string(),
        key: key.or_else(|| selector.cloned()),
        attribute,
    })
}

/// Adds `t` unless it names an instance already there: Terraform lists the most specific
/// reference first (`x.y["a"].id`, then `x.y["a"]`, then `x.y`), so the first keeps its key
/// and attribute, and a later one without a key adds nothing.
fn push(out: &mut Vec<Target>, t: Target) {
    let same_resource =
        |o: &&Target| o.module == t.module && o.data == t.data && o.kind == t.kind && o.name == t.name;
    if !out.iter().filter(same_resource).any(|o| o.key == t.key || t.key.is_none()) {
        out.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::json::parse;
    use crate::import::source::Src;
    use crate::import::terraform::plan::Action;

    fn instance<'a>(module: Vec<Step>, kind: &str, name: &str, key: Option<Key>) -> Instance<'a> {
        Instance {
            address: String::new(),
            module,
            data: false,
            kind: kind.into(),
            name: name.into(),
            key,
            action: Action::Create,
            values: None,
            unknown: None,
            src: Src { file: 0, path: String::new(), position: None },
        }
    }

    fn step(name: &str, key: Option<Key>) -> Step {
        Step { name: name.into(), key }
    }

    const CONFIG: &str = r#"{"configuration": {"root_module": {
        "resources": [
          {"address": "azurerm_network_interface.nic", "expressions": {"ip_configuration": [
             {"subnet_id": {"references": ["azurerm_subnet.subnets[\"web\"].id", "azurerm_subnet.subnets[\"web\"]", "azurerm_subnet.subnets"]}}]}},
          {"address": "azurerm_windows_virtual_machine.vm", "expressions": {
             "network_interface_ids": {"references": ["azurerm_network_interface.web_nic", "count.index"]}}},
          {"address": "azurerm_subnet_network_security_group_association.a", "expressions": {
             "subnet_id": {"references": ["module.net.subnet_ids[\"app\"]", "module.net.subnet_ids", "module.net"]},
             "network_security_group_id": {"references": ["data.azurerm_network_security_group.shared.id", "data.azurerm_network_security_group.shared"]}}}],
        "module_calls": {
          "vm": {"expressions": {"subnet_id": {"references": ["azurerm_subnet.default.id", "azurerm_subnet.default"]}},
                 "module": {"resources": [{"address": "azurerm_network_interface.nic", "expressions": {
                    "ip_configuration": [{"subnet_id": {"references": ["var.subnet_id"]}}]}}]}},
          "net": {"module": {"outputs": {"subnet_ids": {"expression": {"references": ["azurerm_subnet.this"]}}}}}}}}}"#;

    #[test]
    fn each_value_is_read_from_the_root_variable_the_block_iterates_over() {
        let root = parse(br#"{"variables": {"subnets": {"value": {"web": {"name": "snet-web"}}}},
          "configuration": {"root_module": {"resources": [{"address": "azurerm_subnet_network_security_group_association.a",
            "for_each_expression": {"references": ["var.subnets"]}, "expressions": {}}]}}}"#)
        .expect("JSON");
        let config = Config::new(&root);
        let a = instance(
            Vec::new(),
            "azurerm_subnet_network_security_group_association",
            "a",
            Some(Key::Name("web".into())),
        );
        assert_eq!(config.each_text(&a, "each.value.name").as_deref(), Some("snet-web"));
        assert_eq!(config.each_text(&a, "each.key").as_deref(), Some("web"));
        assert_eq!(config.each_text(&a, "each.value.prefix"), None);
        let other = instance(
            Vec::new(),
            "azurerm_subnet_network_security_group_association",
            "a",
            Some(Key::Name("app".into())),
        );
        assert_eq!(config.each_text(&other, "each.value.name"), None);
    }

    #[test]
    fn references_are_followed_through_keys_variables_and_outputs() {
        let root = parse(CONFIG.as_bytes()).expect("JSON");
        let config = Config::new(&root);
        let nic = instance(Vec::new(), "azurerm_network_interface", "nic", None);
        let e = config
            .expression(&nic, &[Seg::Attr("ip_configuration"), Seg::Index(0), Seg::Attr("subnet_id")])
            .expect("written");
        let t = config.targets(&nic, e);
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].kind.as_str(), t[0].name.as_str()), ("azurerm_subnet", "subnets"));
        assert_eq!(
            (t[0].key.clone(), t[0].attribute.as_deref()),
            (Some(Key::Name("web".into())), Some("id"))
        );

        let vm = instance(Vec::new(), "azurerm_windows_virtual_machine", "vm", Some(Key::Index(1)));
        let e = config.expression(&vm, &[Seg::Attr("network_interface_ids")]).expect("written");
        let t = config.targets(&vm, e);
        assert_eq!((t[0].name.as_str(), t[0].key.clone()), ("web_nic", Some(Key::Index(1))));

        // `var.subnet_id` in module.vm[1] is what the root passes to the module.
        let inner = instance(vec![step("vm", Some(Key::Index(1)))], "azurerm_network_interface", "nic", None);
        let e = config
            .expression(&inner, &[Seg::Attr("ip_configuration"), Seg::Index(0), Seg::Attr("subnet_id")])
            .expect("written");
        let t = config.targets(&inner, e);
        assert_eq!((t[0].module.len(), t[0].name.as_str()), (0, "default"));

        // `module.net.subnet_ids["app"]` is the instance "app" of the subnets the output lists;
        // a data source is a target too.
        let a = instance(Vec::new(), "azurerm_subnet_network_security_group_association", "a", None);
        let t = config.targets(&a, config.expression(&a, &[Seg::Attr("subnet_id")]).expect("written"));
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].module[0].name.as_str(), t[0].name.as_str()), ("net", "this"));
        assert_eq!(t[0].key, Some(Key::Name("app".into())));
        let t = config
            .targets(&a, config.expression(&a, &[Seg::Attr("network_security_group_id")]).expect("written"));
        assert!(t[0].data);
    }
}

//! A resource's body as deployed: every template expression in it evaluated, every property
//! copy loop expanded, into a positioned tree.
//!
//! Each string that is an expression (`"[...]"`) is evaluated on its own. What it makes takes the
//! expression's position, whatever its shape (a string, a number, or the array of rules a
//! `"[variables('rules')]"` makes), so an error found later in that value points at the
//! expression. An expression that cannot be evaluated offline (`uniqueString()`, a parameter
//! with no value) becomes a [`Value::Unknown`] holding the expression and the reason: a property
//! nobody reads then costs nothing, and one that is read fails where it is, saying why.
//!
//! A property copy loop (`"copy": [{"name": "securityRules", "count": n, "input": {...}}]`) is
//! replaced by the array it makes, `name`, with one evaluated `input` per iteration, in which
//! `copyIndex('securityRules')` is the iteration; the array is placed at the loop. A loop whose
//! count cannot be evaluated makes an unknown array. A loop that is malformed (no name, no
//! input) is an error, as ARM refuses the template.

use super::declared::UNKNOWN_MARKER;
use super::expr::placeholder;
use super::expr::{ArmValue, ExprError, TemplateScope, eval_count, eval_string};
use super::id::parse_id;
use crate::import::json::{Node, Object, Unknown, UnknownReason, Value};
use crate::import::source::join;

/// A malformed copy loop: the path relative to the value evaluated, where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyError {
    /// The JSON path of the problem, relative to the evaluated value.
    pub path: String,
    /// The node the problem is at.
    pub position: crate::import::json_position::Position,
    /// What is wrong.
    pub message: String,
}

/// Members of a template resource that are not part of what it deploys as data: the reader
/// handles `type`, `condition`, `copy` and child `resources` itself, and the others say nothing
/// about traffic (evaluating `location` would report `resourceGroup()` for nothing). `apiVersion`
/// is kept: Azure's defaults depend on it (a public IP's SKU).
const NOT_EVALUATED: &[&str] =
    &["type", "condition", "copy", "resources", "dependsOn", "comments", "location", "tags"];

/// The resource object `node` as deployed in `scope`: see the module docs.
///
/// # Errors
/// A property copy loop without a name or an input.
pub fn evaluate_resource(node: &Node, scope: &TemplateScope) -> Result<Node, BodyError> {
    let Value::Object(members) = &node.value else {
        return evaluate(node, scope, "");
    };
    let mut out = Object::new();
    for (key, child) in members.iter() {
        if NOT_EVALUATED.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        if key.eq_ignore_ascii_case("copy") && child.as_array().is_some() {
            continue;
        }
        out.insert(key.to_string(), evaluate(child, scope, key)?);
    }
    expand_loops(members, &mut out, scope, "")?;
    Ok(Node::new(Value::Object(out), node.position))
}

/// Any value as deployed in `scope`, at relative path `path` (for errors).
///
/// # Errors
/// See [`evaluate_resource`].
pub fn evaluate(node: &Node, scope: &TemplateScope, path: &str) -> Result<Node, BodyError> {
    let value = match &node.value {
        Value::String(text) => return evaluate_string(text, node, scope, path),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| evaluate(item, scope, &join(path, &format!("[{i}]"))))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(members) => {
            let mut out = Object::new();
            for (key, child) in members.iter() {
                if key.eq_ignore_ascii_case("copy") && child.as_array().is_some() {
                    continue;
                }
                out.insert(key.to_string(), evaluate(child, scope, &join(path, key))?);
            }
            expand_loops(members, &mut out, scope, path)?;
            Value::Object(out)
        }
        other => other.clone(),
    };
    Ok(Node::new(value, node.position))
}

/// A string as deployed: an expression's value at its position, a literal as it is (`[[`
/// unescaped), or an unknown value saying why the expression cannot be evaluated. A value made
/// from a referenced resource keeps its unknown parts unknown.
///
/// # Errors
/// The import's budget is spent: the template is too big, wherever it is read.
fn evaluate_string(text: &str, node: &Node, scope: &TemplateScope, path: &str) -> Result<Node, BodyError> {
    if !text.trim_start().starts_with('[') {
        return Ok(node.clone());
    }
    let key = last_key(path);
    Ok(match eval_string(text, scope) {
        Ok(ArmValue::Str(s)) => {
            placeholder_guard(Node::new(Value::String(s), node.position), key, text, in_sku(path))
        }
        Ok(ArmValue::Int(n)) => Node::new(Value::Number(n.into()), node.position),
        Ok(ArmValue::Ref(r)) => Node::new(Value::String(r.id(&scope.deployment)), node.position),
        Ok(ArmValue::Json(v)) => {
            placeholder_guard(with_unknowns(Node::from_json(&v, node.position)), key, text, in_sku(path))
        }
        Err(reason) if scope.budget().is_exceeded() => {
            return Err(BodyError {
                path: path.to_string(),
                position: node.position,
                message: reason.into(),
            });
        }
        Err(error) => unknown(text, reason_of(error), node),
    })
}

/// The member name a relative path ends in: `id` of `properties.subnet.id`, `name` of
/// `securityRules[0].name`; empty for an item.
fn last_key(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    if last.ends_with(']') { "" } else { last }
}

/// Whether a string holding a placeholder (a parameter given no value) may stand at member
/// `key`: only as a name or a resource id, which name things and decide nothing.
/// A `sku`'s `name` is a tier, which can change traffic (a Basic public IP is open by default).
fn placeholder_may_stand(key: &str, text: &str) -> bool {
    key.eq_ignore_ascii_case("name") || key.eq_ignore_ascii_case("id") || parse_id(text).is_some()
}

/// Whether `path` (relative to the resource) is inside its `sku`, where nothing is only a name.
fn in_sku(path: &str) -> bool {
    path.split(['.', '[']).any(|segment| segment.eq_ignore_ascii_case("sku"))
}

/// `node` (made by `expression`, at member `key`) with every string that holds a placeholder
/// where a placeholder may not stand made an unknown value naming the parameter: a placeholder
/// never becomes an address, a port, a protocol or an access (see [`placeholder`]).
fn placeholder_guard(node: Node, key: &str, expression: &str, sku: bool) -> Node {
    let position = node.position;
    let value = match node.value {
        Value::String(s) if placeholder::in_str(&s) && (sku || !placeholder_may_stand(key, &s)) => {
            let mut names = std::collections::BTreeSet::new();
            placeholder::names_in_str(&s, &mut names);
            let what = if key.is_empty() { "this value".to_string() } else { format!("property '{key}'") };
            let reason = reason_of(placeholder::needed(&names, &what));
            return Node::new(
                Value::Unknown(Box::new(Unknown { expression: expression.to_string(), reason })),
                position,
            );
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|n| placeholder_guard(n, key, expression, sku)).collect())
        }
        Value::Object(o) => {
            let mut out = Object::new();
            for (k, n) in o.iter() {
                let sku = sku || k.eq_ignore_ascii_case("sku");
                out.insert(k.to_string(), placeholder_guard(n.clone(), k, expression, sku));
            }
            Value::Object(out)
        }
        other => other,
    };
    Node::new(value, position)
}

/// `node` with every marker of a value only known at deployment made an unknown value again.
fn with_unknowns(node: Node) -> Node {
    if let Value::Object(o) = &node.value
        && o.len() == 1
        && let Some(reason) = o.get(UNKNOWN_MARKER).and_then(|m| UnknownReason::from_json(&m.to_json()))
    {
        return unknown("[reference(...)]", reason, &node);
    }
    let value = match node.value {
        Value::Array(items) => Value::Array(items.into_iter().map(with_unknowns).collect()),
        Value::Object(o) => {
            let mut out = Object::new();
            for (k, n) in o.iter() {
                out.insert(k.to_string(), with_unknowns(n.clone()));
            }
            Value::Object(out)
        }
        other => other,
    };
    Node::new(value, node.position)
}

/// Why an expression that failed with `error` is unknown: [`ExprError::unknown_reason`] (a value
/// it read that is itself unknown keeps that value's reason).
fn reason_of(error: ExprError) -> UnknownReason {
    error.unknown_reason()
}

fn unknown(expression: &str, reason: UnknownReason, at: &Node) -> Node {
    Node::new(Value::Unknown(Box::new(Unknown { expression: expression.to_string(), reason })), at.position)
}

/// The approximate size in bytes of what `node` holds, as the budget counts it.
fn node_size(node: &Node) -> u64 {
    match &node.value {
        Value::String(s) => 16 + s.len() as u64,
        Value::Array(items) => 16 + items.iter().map(node_size).sum::<u64>(),
        Value::Object(o) => 16 + o.iter().map(|(k, n)| k.len() as u64 + node_size(n)).sum::<u64>(),
        _ => 16,
    }
}

/// Adds to `out` the arrays the property copy loops of `members` make.
fn expand_loops(
    members: &Object,
    out: &mut Object,
    scope: &TemplateScope,
    path: &str,
) -> Result<(), BodyError> {
    let Some((copy_key, loops)) = members.member("copy") else { return Ok(()) };
    let Some(loops) = loops.as_array() else { return Ok(()) };
    for (i, l) in loops.iter().enumerate() {
        let at = join(path, &format!("{copy_key}[{i}]"));
        let error = |field: &str, message: &str| BodyError {
            path: join(&at, field),
            position: l.position,
            message: message.to_string(),
        };
        let Some(name) = l.get("name").and_then(Node::as_str) else {
            return Err(error("name", "a property copy loop needs a name (the array it makes)"));
        };
        let Some(input) = l.get("input") else {
            return Err(error("input", "a property copy loop needs an input (each item it makes)"));
        };
        let Some(count) = l.get("count") else {
            return Err(error("count", "a copy loop needs a count"));
        };
        let made = match eval_count(&count.to_json(), scope) {
            Ok(n) => {
                let mut items = Vec::new();
                for n in 0..n {
                    let inner = scope.with_copy(name, n, false);
                    let item = evaluate(input, &inner, &join(&at, "input"))?;
                    // What a loop makes counts against the budget as it is made.
                    scope.budget().charge(node_size(&item)).map_err(|e| error("input", &e.to_string()))?;
                    items.push(item);
                }
                Node::new(Value::Array(items), l.position)
            }
            Err(reason) => {
                let shown = count.as_str().map_or_else(|| count.to_json().to_string(), str::to_string);
                let reason =
                    UnknownReason::CopyCount { copy: name.to_string(), reason: Box::new(reason_of(reason)) };
                unknown(&shown, reason, count)
            }
        };
        out.insert(name.to_string(), made);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::import::arm::expr::Deployment;
    use crate::import::json::{DeploymentFunction, parse};

    fn scope() -> TemplateScope {
        let v = serde_json::json!({"ports": {"type": "array", "defaultValue": ["22", "3389"]}});
        TemplateScope::template(
            v.as_object().cloned().unwrap_or_default(),
            serde_json::Map::new(),
            HashMap::new(),
            Deployment::default(),
        )
    }

    fn line_col(node: &Node) -> (usize, usize) {
        (node.position.line, node.position.column)
    }

    #[test]
    fn property_copy_loops_make_their_arrays_with_positions_in_the_input() {
        let text = r#"{"type": "x", "location": "[resourceGroup().location]", "properties": {"copy": [{"name": "securityRules", "count": "[length(parameters('ports'))]",
            "input": {"name": "[concat('deny-', parameters('ports')[copyIndex('securityRules')])]",
                      "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "later": "[reference('x')]",
                                     "literal": "[[x]", "plain": 7}}}]},
            "resources": [{"copy": [{"name": "x", "count": 1, "input": "[copyIndex()]"}]}]}"#;
        let node = parse(text.as_bytes()).expect("JSON");
        let out = evaluate_resource(&node, &scope()).expect("expands");
        // What the reader handles itself, and what says nothing about traffic, is left out.
        assert!(out.get("type").is_none() && out.get("resources").is_none() && out.get("location").is_none());
        let props = out.get("properties").expect("properties");
        assert!(props.get("copy").is_none());
        let rules = props.get("securityRules").and_then(Node::as_array).expect("an array");
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].get("name").and_then(Node::as_str), Some("deny-3389"));
        let priority = rules[1].get("properties").and_then(|p| p.get("priority")).expect("priority");
        assert_eq!(priority.to_json(), serde_json::json!(101));
        // Made values are at the expression that made them, literals where they are.
        assert_eq!(line_col(priority), (3, 50));
        let literal = rules[0].get("properties").and_then(|p| p.get("literal")).expect("literal");
        assert_eq!((literal.as_str(), line_col(literal)), (Some("[x]"), (4, 49)));
        // An expression only a deployment can evaluate is an unknown value that says why.
        let later = rules[0].get("properties").and_then(|p| p.get("later")).expect("later");
        let Value::Unknown(u) = &later.value else { panic!("{later:?}") };
        assert_eq!(u.expression, "[reference('x')]");
        assert!(u.reason.names_a_call() && u.reason.to_string().starts_with("reference('x') reads"));
        assert!(
            matches!(&u.reason, UnknownReason::DeploymentFunction(DeploymentFunction::NotInTemplate { list: false, target }) if target == "x"),
            "{:?}",
            u.reason
        );
    }

    #[test]
    fn a_loop_whose_count_is_unknown_makes_an_unknown_array_and_a_malformed_loop_is_an_error() {
        let text = r#"{"properties": {"storageProfile": {"copy": [{"name": "dataDisks", "count": "[parameters('n')]", "input": {}}]}}}"#;
        let node = parse(text.as_bytes()).expect("JSON");
        let out = evaluate_resource(&node, &scope()).expect("evaluates");
        let disks =
            out.get("properties").and_then(|p| p.get("storageProfile")).and_then(|s| s.get("dataDisks"));
        let Some(Value::Unknown(u)) = disks.map(|d| &d.value) else { panic!("{disks:?}") };
        assert!(
            matches!(&u.reason, UnknownReason::CopyCount { copy, reason } if copy == "dataDisks" && matches!(&**reason, UnknownReason::Expression { message, names_a_call: true } if message.starts_with("parameters('n')"))),
            "{:?}",
            u.reason
        );
        let bad = parse(br#"{"properties": {"copy": [{"name": "r", "count": 1}]}}"#).expect("JSON");
        let e = evaluate_resource(&bad, &scope()).expect_err("no input");
        assert_eq!(e.path, "properties.copy[0].input");
        let bad = parse(
            br#"{"properties": {"copy": [{"name": "r", "count": 1, "input": "[copyIndex('other')]"}]}}"#,
        )
        .expect("JSON");
        let out = evaluate_resource(&bad, &scope()).expect("an unknown item, not an error");
        let item = out.get("properties").and_then(|p| p.get("r")).and_then(Node::as_array).expect("array");
        let Value::Unknown(u) = &item[0].value else { panic!("{item:?}") };
        assert!(
            matches!(&u.reason, UnknownReason::Expression { message, .. } if message.contains("copyIndex('other')")),
            "{:?}",
            u.reason
        );
    }
}

//! Placeholders for string parameters given no value: a template imported alone.
//!
//! Azure asks for a parameter that has no `defaultValue` when the template is deployed; an
//! engineer trying nsgsim on a template imports it alone. Most such parameters are only a name
//! (a VM's, an NSG's, a DNS prefix, an admin's password) that cannot change traffic, so a
//! `string` or `securestring` parameter with no value evaluates to a *placeholder*: a string
//! that stands for the parameter, the same wherever it is used, so `resourceId()` and
//! `reference()` still link the resources named with it (a model choice, see docs/fidelity.md).
//!
//! A placeholder must never decide anything. It carries markers (two characters of Unicode's
//! private use area around the parameter's name) that every function call checks ([`check_call`]):
//! a call given a placeholder may pass it on (it builds a name: `concat`, `format`, `toLower`,
//! `resourceId`, …, whose result still holds it) or use only the shape of what holds it (the
//! `length()` of an array of objects one of which holds a password: sharepoint-adfs's copy
//! count); any other use (`equals`, `contains`, `int`, `split`, `substring`, `uniqueString`, a
//! `condition`, a copy count) fails with the error Azure's own demand for the value amounts to,
//! naming the parameter and how to give it. The template reader then accepts a placeholder only
//! in a name or a resource id, and makes it an unknown value anywhere else (an error where the
//! inventory reads it): a placeholder never becomes an address, a port, a protocol or an access.

use std::collections::BTreeSet;

use super::ExprError;
use serde_json::Value;

/// Opens a placeholder's parameter name (Unicode private use: no template writes it, and no
/// case mapping changes it).
const OPEN: char = '\u{E000}';
/// Closes a placeholder's parameter name.
const CLOSE: char = '\u{E001}';

/// How a placeholder reads in names, after [`render`]: `param.vmName`.
pub const VISIBLE_PREFIX: &str = "param.";

/// The placeholder of parameter `name`.
pub fn make(name: &str) -> String {
    format!("{OPEN}{name}{CLOSE}")
}

/// Whether `text` holds a placeholder.
pub fn in_str(text: &str) -> bool {
    text.contains(OPEN) || text.contains(CLOSE)
}

/// Whether `value` holds a placeholder anywhere (in a string, a key, or an item).
pub fn in_json(value: &Value) -> bool {
    match value {
        Value::String(s) => in_str(s),
        Value::Array(items) => items.iter().any(in_json),
        Value::Object(m) => m.iter().any(|(k, v)| in_str(k) || in_json(v)),
        _ => false,
    }
}

/// The parameters whose placeholders `text` holds, as written (a case mapping may have changed
/// the name's case: names are compared without it).
pub fn names_in_str(text: &str, out: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len_utf8()..];
        match after.find(CLOSE) {
            Some(end) => {
                out.insert(after[..end].to_string());
                rest = &after[end + CLOSE.len_utf8()..];
            }
            None => {
                out.insert(after.to_string());
                return;
            }
        }
    }
}

/// The parameters whose placeholders `value` holds.
pub fn names_in_json(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => names_in_str(s, out),
        Value::Array(items) => items.iter().for_each(|v| names_in_json(v, out)),
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            names_in_str(k, out);
            names_in_json(v, out);
        }),
        _ => {}
    }
}

/// `text` with each placeholder as it reads in a scenario: `param.NAME` (a name Azure's rules
/// accept: letters, digits, `.`, `-`, `_`).
pub fn render(text: &str) -> String {
    text.replace(OPEN, VISIBLE_PREFIX).replace(CLOSE, "")
}

/// The error for a placeholder of `names` used where its value matters: `what` says where.
pub fn needed(names: &BTreeSet<String>, what: &str) -> ExprError {
    ExprError::NeedsParameter { names: names.iter().cloned().collect(), what: what.to_string() }
}

/// The functions that pass a placeholder on into what they build (a name, an id): their result
/// must still hold it.
const CARRY: &[&str] = &[
    "concat",
    "format",
    "tolower",
    "toupper",
    "trim",
    "string",
    "replace",
    "padleft",
    "uri",
    "uricomponent",
    "resourceid",
    "subscriptionresourceid",
    "tenantresourceid",
    "extensionresourceid",
    "managementgroupresourceid",
    "coalesce",
    "if",
    "createarray",
    "array",
    "createobject",
    "items",
    "flatten",
    "shallowmerge",
];

/// The functions that use only the shape of an array or object (how many items, which keys,
/// which item), or check each item themselves (a lambda's body is evaluated, its calls checked).
const SHAPE: &[&str] = &[
    "length",
    "empty",
    "first",
    "last",
    "skip",
    "take",
    "objectkeys",
    "map",
    "filter",
    "reduce",
    "sort",
    "toobject",
    "mapvalues",
    "groupby",
];

/// Whether a call of `function` (lower case) on `first`, its first argument, cuts a string
/// that holds a placeholder (`take(parameters('name'), 15)`, a name kept within Azure's length
/// limit): the placeholder is then kept whole, since cutting it would lose what it stands for.
/// What it makes is still only a name (a model choice: Azure's name would be the cut value).
pub fn kept_whole(function: &str, first: Option<&Value>) -> bool {
    matches!(function, "take" | "skip" | "substring" | "first" | "last")
        && matches!(first, Some(Value::String(s)) if in_str(s))
}

/// Checks a call of `function` (lower case) whose arguments `args` hold placeholders of
/// `names`, and which gave `result`: see the module docs.
///
/// # Errors
/// The placeholder's value is needed: [`needed`], naming the call.
pub fn check_call(
    function: &str,
    args: &[Value],
    result: &Result<Value, ExprError>,
    names: &BTreeSet<String>,
) -> Result<(), ExprError> {
    let refuse = || Err(needed(names, &format!("{function}()")));
    let Ok(result) = result else { return refuse() };
    // A string's characters are its value: only carrying it on keeps the placeholder whole
    // (`first('abc')`, `take('abc', 2)` and `length('abc')` read them).
    let string_given = args.iter().any(|a| matches!(a, Value::String(s) if in_str(s)));
    let allowed = match function {
        // Looks a resource up by its name or id: the same placeholder names the same resource.
        "reference" | "resourceinfo" => true,
        f if f.starts_with("list") => true,
        f if CARRY.contains(&f) => in_json(result),
        // An array's items are compared (duplicates dropped); objects' keys are not placeholders.
        "union" => args.iter().all(Value::is_object) && in_json(result),
        f if SHAPE.contains(&f) => !string_given,
        // A property looked up by a key that is not a placeholder.
        "contains" | "tryget" => {
            args.first().is_some_and(|a| a.is_object() || a.is_array()) && !args.get(1).is_some_and(in_json)
        }
        _ => false,
    };
    if allowed { Ok(()) } else { refuse() }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn a_placeholder_renders_as_a_valid_name_and_names_its_parameters() {
        let p = make("vmName");
        let text = format!("{p}-nic");
        assert!(in_str(&text) && !in_str("vm-nic"));
        assert_eq!(render(&text), "param.vmName-nic");
        let mut found = BTreeSet::new();
        names_in_json(&json!({"a": [text, make("other")]}), &mut found);
        assert_eq!(found, names(&["other", "vmName"]));
    }

    #[test]
    fn a_call_may_carry_a_placeholder_or_use_a_shape_but_never_decide_on_it() {
        let p = json!(make("x"));
        let used = names(&["x"]);
        // Carried into a name.
        let made = Ok(json!(format!("{}-nsg", make("x"))));
        assert!(check_call("concat", &[p.clone(), json!("-nsg")], &made, &used).is_ok());
        // The length of an array of objects, one of which holds a password.
        let array = json!([{"password": make("x")}, {"password": "a"}]);
        assert!(check_call("length", std::slice::from_ref(&array), &Ok(json!(2)), &used).is_ok());
        // The length of the placeholder itself, a comparison, a split, a hash: refused.
        for (f, args, out) in [
            ("length", vec![p.clone()], json!(3)),
            ("equals", vec![p.clone(), json!("Yes")], json!(false)),
            ("split", vec![p.clone(), json!(",")], json!([make("x")])),
            ("uniquestring", vec![p.clone()], json!("abc")),
            ("first", vec![p.clone()], json!("\u{E000}")),
            ("tolower", vec![p.clone()], json!("lost")),
        ] {
            let e = check_call(f, &args, &Ok(out), &used).expect_err(f);
            assert_eq!(e, ExprError::NeedsParameter { names: vec!["x".into()], what: format!("{f}()") });
        }
        // A call that fails on a placeholder says the parameter has no value, not why it failed.
        let failed = Err(ExprError::NotAnInteger { value: make("x"), string: true });
        let e = check_call("int", std::slice::from_ref(&p), &failed, &used).expect_err("int");
        assert_eq!(e, ExprError::NeedsParameter { names: vec!["x".into()], what: "int()".into() });
        assert_eq!(
            e.to_string(),
            "parameters('x'): the parameter has no value and no defaultValue, and int() needs its value (nsgsim puts a placeholder only in a name or a resource id); valid: pass it with --parameters FILE or --parameter x=VALUE"
        );
    }
}

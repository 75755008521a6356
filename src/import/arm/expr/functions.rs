//! The template functions nsgsim evaluates offline (the list is in docs/engineers.md), as a
//! second `impl` block of the expression parser: `apply` takes a call's evaluated arguments and
//! gives its value, or says why it cannot.

use serde_json::{Map, Value};

use super::{Parser, V, type_name};
use crate::import::arm::id::ResourceRef;

impl Parser<'_, '_> {
    fn to_text(&self, v: &V) -> Result<String, String> {
        match v {
            V::Ref(r) => Ok(r.id(&self.ev.scope.deployment)),
            V::J(Value::String(s)) => Ok(s.clone()),
            V::J(Value::Number(n)) => Ok(n.to_string()),
            V::J(Value::Bool(b)) => Ok(if *b { "True".into() } else { "False".into() }),
            V::J(Value::Null) => Ok(String::new()),
            V::J(other) => Ok(other.to_string()),
        }
    }

    pub(super) fn apply(&mut self, name: &str, args: Vec<V>) -> Result<V, String> {
        let deployment = self.ev.scope.deployment.clone();
        let json: Vec<Value> = args.iter().map(|a| a.json(&deployment)).collect();
        let int = |i: usize| -> Result<i64, String> {
            match json.get(i) {
                Some(Value::Number(n)) => n.as_i64().ok_or_else(|| format!("{n} is not an integer")),
                Some(Value::String(s)) => s.trim().parse().map_err(|_| format!("'{s}' is not an integer")),
                Some(other) => {
                    Err(format!("argument {} must be an integer, found {}", i + 1, type_name(other)))
                }
                None => Err(format!("argument {} (an integer) is missing", i + 1)),
            }
        };
        let boolean = |i: usize| -> Result<bool, String> {
            match json.get(i) {
                Some(Value::Bool(b)) => Ok(*b),
                Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
                Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
                Some(other) => {
                    Err(format!("argument {} must be a boolean, found {}", i + 1, type_name(other)))
                }
                None => Err(format!("argument {} (a boolean) is missing", i + 1)),
            }
        };
        let text = |me: &Self, i: usize| -> Result<String, String> {
            args.get(i)
                .map(|a| me.to_text(a))
                .unwrap_or_else(|| Err(format!("argument {} (a string) is missing", i + 1)))
        };
        let arity = |n: usize| -> Result<(), String> {
            if args.len() == n { Ok(()) } else { Err(format!("takes {n} argument(s), given {}", args.len())) }
        };
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "parameters" => {
                arity(1)?;
                let p = text(self, 0)?;
                self.ev.parameter(&p)?
            }
            "variables" => {
                arity(1)?;
                let v = text(self, 0)?;
                self.ev.variable(&v)?
            }
            "copyindex" => match json.as_slice() {
                [] => self.ev.copy_index(None, 0)?,
                [Value::Number(_)] => self.ev.copy_index(None, int(0)?)?,
                [Value::String(s)] => self.ev.copy_index(Some(s), 0)?,
                [Value::String(s), _] => self.ev.copy_index(Some(s), int(1)?)?,
                _ => return Err("copyIndex() takes an optional loop name and an optional offset".into()),
            },
            "resourcegroup" => {
                arity(0)?;
                self.ev.note("resourceGroup()");
                V::J(serde_json::json!({
                    "id": format!("/subscriptions/{}/resourceGroups/{}", deployment.subscription, deployment.resource_group),
                    "name": deployment.resource_group,
                    "type": "Microsoft.Resources/resourceGroups",
                    "location": deployment.location,
                    "properties": {"provisioningState": "Succeeded"},
                }))
            }
            "subscription" => {
                arity(0)?;
                self.ev.note("subscription()");
                V::J(serde_json::json!({
                    "id": format!("/subscriptions/{}", deployment.subscription),
                    "subscriptionId": deployment.subscription,
                    "tenantId": "00000000-0000-0000-0000-000000000000",
                    "displayName": "nsgsim offline subscription",
                }))
            }
            "resourceid" | "subscriptionresourceid" => {
                let parts = args.iter().map(|a| self.to_text(a)).collect::<Result<Vec<_>, _>>()?;
                // Optional subscription id and resource group come before the type, which is the
                // first argument of the form Namespace/type.
                let Some(type_at) = parts.iter().position(|p| p.contains('/') && p.contains('.')) else {
                    return Err(format!(
                        "{name}() needs a resource type such as 'Microsoft.Network/networkSecurityGroups'"
                    ));
                };
                // ARM accepts a type written with a trailing slash
                // (`'Microsoft.Network/virtualNetworks/subnets/'`, in published templates).
                let kind = parts[type_at].trim_end_matches('/').to_string();
                let names: Vec<String> = parts[type_at + 1..].to_vec();
                let segments = kind.split('/').count() - 1;
                if names.len() != segments {
                    return Err(format!(
                        "{name}('{kind}', ...) needs {segments} name(s), got {}",
                        names.len()
                    ));
                }
                let (subscription, resource_group) = match (lower.as_str(), type_at) {
                    ("resourceid", 2) => (Some(parts[0].clone()), Some(parts[1].clone())),
                    ("resourceid", 1) => (None, Some(parts[0].clone())),
                    ("subscriptionresourceid", 1) => (Some(parts[0].clone()), None),
                    (_, 0) => (None, None),
                    _ => return Err(format!("{name}(): too many arguments before the resource type")),
                };
                V::Ref(ResourceRef { kind, names, subscription, resource_group })
            }
            "concat" => {
                if json.first().is_some_and(Value::is_array) {
                    let mut out = Vec::new();
                    for (i, a) in json.iter().enumerate() {
                        let Value::Array(items) = a else {
                            return Err(format!(
                                "concat() of arrays: argument {} is {}",
                                i + 1,
                                type_name(a)
                            ));
                        };
                        out.extend(items.iter().cloned());
                    }
                    V::J(Value::Array(out))
                } else {
                    let mut out = String::new();
                    for a in &args {
                        out.push_str(&self.to_text(a)?);
                    }
                    V::str(out)
                }
            }
            "format" => {
                let fmt = text(self, 0)?;
                let rest = args[1..].iter().map(|a| self.to_text(a)).collect::<Result<Vec<_>, _>>()?;
                V::str(format_string(&fmt, &rest)?)
            }
            "tolower" => {
                arity(1)?;
                V::str(text(self, 0)?.to_lowercase())
            }
            "toupper" => {
                arity(1)?;
                V::str(text(self, 0)?.to_uppercase())
            }
            "string" => {
                arity(1)?;
                V::str(text(self, 0)?)
            }
            "trim" => {
                arity(1)?;
                V::str(text(self, 0)?.trim())
            }
            "replace" => {
                arity(3)?;
                V::str(text(self, 0)?.replace(&text(self, 1)?, &text(self, 2)?))
            }
            "split" => {
                arity(2)?;
                let s = text(self, 0)?;
                let delimiters: Vec<String> = match &json[1] {
                    Value::Array(d) => d.iter().map(|x| x.as_str().unwrap_or_default().to_string()).collect(),
                    _ => vec![text(self, 1)?],
                };
                let mut parts = vec![s];
                for d in delimiters.iter().filter(|d| !d.is_empty()) {
                    parts = parts
                        .iter()
                        .flat_map(|p| p.split(d.as_str()).map(str::to_string).collect::<Vec<_>>())
                        .collect();
                }
                V::J(Value::Array(parts.into_iter().map(Value::String).collect()))
            }
            "substring" => {
                let s: Vec<char> = text(self, 0)?.chars().collect();
                let start =
                    usize::try_from(int(1)?).map_err(|_| "substring(): a negative start".to_string())?;
                let len = if args.len() > 2 {
                    usize::try_from(int(2)?).map_err(|_| "substring(): a negative length".to_string())?
                } else {
                    s.len().saturating_sub(start)
                };
                if start + len > s.len() {
                    return Err(format!(
                        "substring(): {start}+{len} is beyond the string's {} characters",
                        s.len()
                    ));
                }
                V::str(s[start..start + len].iter().collect::<String>())
            }
            "startswith" => {
                arity(2)?;
                V::bool(text(self, 0)?.to_lowercase().starts_with(&text(self, 1)?.to_lowercase()))
            }
            "endswith" => {
                arity(2)?;
                V::bool(text(self, 0)?.to_lowercase().ends_with(&text(self, 1)?.to_lowercase()))
            }
            "contains" => {
                arity(2)?;
                V::bool(match &json[0] {
                    Value::Array(items) => items.iter().any(|x| x == &json[1]),
                    Value::Object(m) => m.keys().any(|k| Some(k.as_str()) == json[1].as_str()),
                    _ => text(self, 0)?.contains(&text(self, 1)?),
                })
            }
            "indexof" | "lastindexof" => {
                arity(2)?;
                let found = match &json[0] {
                    Value::Array(items) => {
                        let mut hits =
                            items.iter().enumerate().filter(|(_, x)| *x == &json[1]).map(|(i, _)| i);
                        if lower == "indexof" { hits.next() } else { hits.next_back() }
                    }
                    _ => {
                        let (s, t) = (text(self, 0)?.to_lowercase(), text(self, 1)?.to_lowercase());
                        let at = if lower == "indexof" { s.find(&t) } else { s.rfind(&t) };
                        at.map(|b| s[..b].chars().count())
                    }
                };
                V::int(found.map_or(-1, |i| i64::try_from(i).unwrap_or(-1)))
            }
            "length" => {
                arity(1)?;
                let n = match &json[0] {
                    Value::Array(items) => items.len(),
                    Value::Object(m) => m.len(),
                    Value::String(s) => s.chars().count(),
                    other => return Err(format!("length() of {}", type_name(other))),
                };
                V::int(i64::try_from(n).unwrap_or(i64::MAX))
            }
            "empty" => {
                arity(1)?;
                V::bool(match &json[0] {
                    Value::Array(items) => items.is_empty(),
                    Value::Object(m) => m.is_empty(),
                    Value::String(s) => s.is_empty(),
                    Value::Null => true,
                    _ => false,
                })
            }
            "first" | "last" => {
                arity(1)?;
                match &json[0] {
                    Value::Array(items) => {
                        let item = if lower == "first" { items.first() } else { items.last() };
                        V::J(item.cloned().unwrap_or(Value::Null))
                    }
                    Value::String(s) => {
                        let c = if lower == "first" { s.chars().next() } else { s.chars().last() };
                        V::str(c.map(String::from).unwrap_or_default())
                    }
                    other => return Err(format!("{name}() of {}", type_name(other))),
                }
            }
            "join" => {
                arity(2)?;
                let Value::Array(items) = &json[0] else {
                    return Err(format!("join() takes an array, found {}", type_name(&json[0])));
                };
                let parts =
                    items.iter().map(|x| self.to_text(&V::J(x.clone()))).collect::<Result<Vec<_>, _>>()?;
                V::str(parts.join(&text(self, 1)?))
            }
            "take" | "skip" => {
                arity(2)?;
                let n = usize::try_from(int(1)?.max(0)).unwrap_or(0);
                match &json[0] {
                    Value::Array(items) => {
                        let cut = n.min(items.len());
                        let part = if lower == "take" { &items[..cut] } else { &items[cut..] };
                        V::J(Value::Array(part.to_vec()))
                    }
                    _ => {
                        let s: Vec<char> = text(self, 0)?.chars().collect();
                        let cut = n.min(s.len());
                        let part = if lower == "take" { &s[..cut] } else { &s[cut..] };
                        V::str(part.iter().collect::<String>())
                    }
                }
            }
            "add" | "sub" | "mul" | "div" | "mod" => {
                arity(2)?;
                let (a, b) = (int(0)?, int(1)?);
                let out = match lower.as_str() {
                    "add" => a.checked_add(b),
                    "sub" => a.checked_sub(b),
                    "mul" => a.checked_mul(b),
                    "div" => a.checked_div(b),
                    _ => a.checked_rem(b),
                };
                V::int(out.ok_or_else(|| format!("{name}({a}, {b}) overflows or divides by zero"))?)
            }
            "min" | "max" => {
                let numbers: Vec<Value> = match json.as_slice() {
                    [Value::Array(items)] => items.clone(),
                    _ => json.clone(),
                };
                let ints = numbers
                    .iter()
                    .map(|n| n.as_i64().ok_or_else(|| format!("{name}() takes integers, found {n}")))
                    .collect::<Result<Vec<_>, _>>()?;
                let out = if lower == "min" { ints.iter().min() } else { ints.iter().max() };
                V::int(*out.ok_or_else(|| format!("{name}() needs at least one integer"))?)
            }
            "int" => {
                arity(1)?;
                V::int(int(0)?)
            }
            "bool" => {
                arity(1)?;
                match &json[0] {
                    Value::Number(n) => V::bool(n.as_i64() != Some(0)),
                    _ => V::bool(boolean(0)?),
                }
            }
            "true" => V::bool(true),
            "false" => V::bool(false),
            "null" => V::J(Value::Null),
            "equals" => {
                arity(2)?;
                V::bool(loose_eq(&json[0], &json[1]))
            }
            "not" => {
                arity(1)?;
                V::bool(!boolean(0)?)
            }
            "and" | "or" => {
                if args.len() < 2 {
                    return Err(format!("{name}() takes at least 2 booleans"));
                }
                let values = (0..args.len()).map(boolean).collect::<Result<Vec<_>, _>>()?;
                V::bool(if lower == "and" { values.iter().all(|b| *b) } else { values.iter().any(|b| *b) })
            }
            "if" => {
                arity(3)?;
                if boolean(0)? { args[1].clone() } else { args[2].clone() }
            }
            "greater" | "greaterorequals" | "less" | "lessorequals" => {
                arity(2)?;
                let ordering = match (&json[0], &json[1]) {
                    (Value::Number(_), _) | (_, Value::Number(_)) => int(0)?.cmp(&int(1)?),
                    _ => text(self, 0)?.cmp(&text(self, 1)?),
                };
                V::bool(match lower.as_str() {
                    "greater" => ordering.is_gt(),
                    "greaterorequals" => ordering.is_ge(),
                    "less" => ordering.is_lt(),
                    _ => ordering.is_le(),
                })
            }
            "coalesce" => {
                args.iter().find(|a| !matches!(a, V::J(Value::Null))).cloned().unwrap_or(V::J(Value::Null))
            }
            "createarray" => V::J(Value::Array(json.clone())),
            "array" => {
                arity(1)?;
                match &json[0] {
                    Value::Array(_) => V::J(json[0].clone()),
                    other => V::J(Value::Array(vec![other.clone()])),
                }
            }
            "createobject" => {
                if !args.len().is_multiple_of(2) {
                    return Err("createObject() takes key, value pairs".into());
                }
                let mut m = Map::new();
                for pair in json.chunks(2) {
                    let Value::String(k) = &pair[0] else {
                        return Err(format!(
                            "createObject(): a key must be a string, found {}",
                            type_name(&pair[0])
                        ));
                    };
                    m.insert(k.clone(), pair[1].clone());
                }
                V::J(Value::Object(m))
            }
            "range" => {
                arity(2)?;
                let (start, count) = (int(0)?, int(1)?);
                if !(0..=10_000).contains(&count) {
                    return Err(format!("range(): a count is 0-10000, found {count}"));
                }
                V::J(Value::Array((0..count).map(|i| Value::from(start + i)).collect()))
            }
            "union" => match json.first() {
                Some(Value::Array(_)) => {
                    let mut out: Vec<Value> = Vec::new();
                    for a in &json {
                        for item in a.as_array().into_iter().flatten() {
                            if !out.contains(item) {
                                out.push(item.clone());
                            }
                        }
                    }
                    V::J(Value::Array(out))
                }
                Some(Value::Object(_)) => {
                    let mut out = Map::new();
                    for a in &json {
                        for (k, v) in a.as_object().into_iter().flatten() {
                            out.insert(k.clone(), v.clone());
                        }
                    }
                    V::J(Value::Object(out))
                }
                _ => return Err("union() takes arrays or objects".into()),
            },
            "json" => {
                arity(1)?;
                let s = text(self, 0)?;
                V::J(serde_json::from_str(&s).map_err(|e| format!("json(): '{s}' is not JSON: {e}"))?)
            }
            "reference" | "list" | "listkeys" | "listsecrets" | "uniquestring" | "guid" | "newguid"
            | "utcnow" | "deployment" | "environment" | "managementgroup" | "tenant" | "pickzones" => {
                return Err(format!(
                    "{name}() is only known at deployment and cannot be evaluated offline; write the value into the template (or a parameter's defaultValue) before importing"
                ));
            }
            _ if lower.starts_with("list") => {
                return Err(format!("{name}() is only known at deployment and cannot be evaluated offline"));
            }
            _ => {
                return Err(format!(
                    "unsupported template function '{name}()'; see docs/engineers.md for the functions nsgsim evaluates"
                ));
            }
        })
    }
}

/// ARM's `equals`: deep equality, with strings compared exactly and numbers by value.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_i64() == y.as_i64() && x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `format('{0}-{1}', ...)`: `{n}` (an optional `:spec` is ignored), `{{` and `}}` escapes.
fn format_string(fmt: &str, args: &[String]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    spec.push(d);
                }
                let index = spec.split(':').next().unwrap_or_default().trim();
                let i: usize = index
                    .parse()
                    .map_err(|_| format!("format(): '{{{spec}}}' is not a placeholder like {{0}}"))?;
                let value = args.get(i).ok_or_else(|| format!("format(): '{{{i}}}' has no argument"))?;
                out.push_str(value);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

//! Array and object functions, and the functions that take strings and arrays alike: `array`,
//! `concat` (of arrays), `contains`, `createArray`, `createObject`, `empty`, `first`,
//! `flatten`, `indexOf`, `intersection`, `items`, `json`, `last`, `lastIndexOf`, `length`,
//! `null`, `objectKeys`, `range`, `shallowMerge`, `skip`, `take`, `tryGet`, `union`.

use serde_json::{Map, Value};

use super::{Args, Res};
use crate::import::arm::expr::parser::Parser;
use crate::import::arm::expr::{ExprError, FunctionError, Usage, V, type_name};
use crate::import::json::shorten;

/// ARM's limit on `range()`'s count ("count: ... up to 10000").
const MAX_RANGE: i64 = 10_000;

pub(super) fn call(_p: &mut Parser<'_, '_>, name: &str, a: &Args) -> Option<Res> {
    Some(match name {
        "array" => a.arity(1).map(|()| match &a.json[0] {
            Value::Array(_) => V::J(a.json[0].clone()),
            other => V::J(Value::Array(vec![other.clone()])),
        }),
        "concat" => concat_arrays(a),
        "createarray" => Ok(V::J(Value::Array(a.json.clone()))),
        "createobject" => create_object(a),
        "null" => a.arity(0).map(|()| V::J(Value::Null)),
        "contains" => contains(a),
        "empty" => a.arity(1).map(|()| {
            V::bool(match &a.json[0] {
                Value::Array(items) => items.is_empty(),
                Value::Object(m) => m.is_empty(),
                Value::String(s) => s.is_empty(),
                Value::Null => true,
                _ => false,
            })
        }),
        "first" | "last" => first_last(name, a),
        "indexof" | "lastindexof" => index_of(name, a),
        "length" => (|| {
            a.arity(1)?;
            let n = match &a.json[0] {
                Value::Array(items) => items.len(),
                Value::Object(m) => m.len(),
                Value::String(s) => s.chars().count(),
                other => {
                    return Err(FunctionError::OfType {
                        function: "length".into(),
                        found: type_name(other),
                        valid: "a string, an array or an object",
                    }
                    .into());
                }
            };
            Ok(V::int(i64::try_from(n).unwrap_or(i64::MAX)))
        })(),
        "take" | "skip" => take_skip(name, a),
        "range" => range(a),
        "union" => union(a),
        "intersection" => intersection(a),
        "flatten" => (|| {
            a.arity(1)?;
            let mut out = Vec::new();
            for item in a.array(0)? {
                match item {
                    Value::Array(inner) => out.extend(inner.iter().cloned()),
                    other => {
                        return Err(FunctionError::ItemOfType {
                            function: "flatten",
                            items: "arrays",
                            found: type_name(other),
                        }
                        .into());
                    }
                }
            }
            Ok(V::J(Value::Array(out)))
        })(),
        "items" => (|| {
            a.arity(1)?;
            let mut pairs: Vec<(&String, &Value)> = a.object(0)?.iter().collect();
            // "the items() function sorts the objects in the alphabetical order" of their keys.
            pairs.sort_by_key(|(k, _)| k.to_lowercase());
            Ok(V::J(Value::Array(
                pairs.into_iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect(),
            )))
        })(),
        "objectkeys" => a
            .arity(1)
            .and_then(|()| a.object(0))
            .map(|m| V::J(Value::Array(m.keys().cloned().map(Value::String).collect()))),
        "shallowmerge" => (|| {
            a.arity(1)?;
            let mut out = Map::new();
            for item in a.array(0)? {
                let Value::Object(m) = item else {
                    return Err(FunctionError::ItemOfType {
                        function: "shallowMerge",
                        items: "objects",
                        found: type_name(item),
                    }
                    .into());
                };
                for (k, v) in m {
                    insert_any_case(&mut out, k, v.clone());
                }
            }
            Ok(V::J(Value::Object(out)))
        })(),
        "tryget" => try_get(a),
        "json" => (|| {
            a.arity(1)?;
            let s = a.text(0)?;
            serde_json::from_str(&s)
                .map(V::J)
                .map_err(|e| FunctionError::NotJson { text: shorten(&s), reason: e.to_string() }.into())
        })(),
        _ => return None,
    })
}

/// Sets `key` in `m`, replacing a key that differs only in case (ARM's keys have no case).
fn insert_any_case(m: &mut Map<String, Value>, key: &str, value: Value) {
    if let Some(existing) = m.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned() {
        m.remove(&existing);
    }
    m.insert(key.to_string(), value);
}

fn concat_arrays(a: &Args) -> Res {
    let mut out = Vec::new();
    for (i, v) in a.json.iter().enumerate() {
        match v {
            Value::Array(items) => out.extend(items.iter().cloned()),
            Value::Null => {}
            other => {
                return Err(FunctionError::MixedArguments {
                    call: "concat() of arrays",
                    position: i + 1,
                    found: type_name(other),
                    valid: "all arrays, or all strings and numbers",
                }
                .into());
            }
        }
    }
    Ok(V::J(Value::Array(out)))
}

fn create_object(a: &Args) -> Res {
    if !a.len().is_multiple_of(2) {
        return Err(FunctionError::Usage(Usage::KeyValuePairs).into());
    }
    let mut m = Map::new();
    for pair in a.json.chunks(2) {
        let Value::String(k) = &pair[0] else {
            return Err(FunctionError::KeyNotString(type_name(&pair[0]).to_string()).into());
        };
        insert_any_case(&mut m, k, pair[1].clone());
    }
    Ok(V::J(Value::Object(m)))
}

/// `contains`: an array item (exactly), an object key (without case), a substring (with case),
/// as Microsoft's reference says.
fn contains(a: &Args) -> Res {
    a.arity(2)?;
    Ok(V::bool(match &a.json[0] {
        Value::Array(items) => items.iter().any(|x| same(x, &a.json[1])),
        Value::Object(m) => {
            let key = a.text(1)?;
            m.keys().any(|k| k.eq_ignore_ascii_case(&key))
        }
        _ => a.text(0)?.contains(&a.text(1)?),
    }))
}

/// ARM's equality of JSON values: numbers by value, strings exactly, objects without key case.
pub(super) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| y.iter().any(|(k2, v2)| k.eq_ignore_ascii_case(k2) && same(v, v2)))
        }
        _ => a == b,
    }
}

fn first_last(name: &str, a: &Args) -> Res {
    a.arity(1)?;
    Ok(match &a.json[0] {
        Value::Array(items) => {
            let item = if name == "first" { items.first() } else { items.last() };
            V::J(item.cloned().unwrap_or(Value::Null))
        }
        Value::String(s) => {
            let c = if name == "first" { s.chars().next() } else { s.chars().last() };
            V::str(c.map(String::from).unwrap_or_default())
        }
        other => {
            return Err(FunctionError::OfType {
                function: name.to_string(),
                found: type_name(other),
                valid: "an array or a string",
            }
            .into());
        }
    })
}

/// `indexOf`/`lastIndexOf`: in an array, the item's index; in a string, the substring's
/// character index, without case ("The values are case-insensitive").
fn index_of(name: &str, a: &Args) -> Res {
    a.arity(2)?;
    let first = name == "indexof";
    let found = match &a.json[0] {
        Value::Array(items) => {
            let mut hits = items.iter().enumerate().filter(|(_, x)| same(x, &a.json[1])).map(|(i, _)| i);
            if first { hits.next() } else { hits.next_back() }
        }
        _ => {
            let (s, t) = (a.text(0)?.to_lowercase(), a.text(1)?.to_lowercase());
            let at = if first { s.find(&t) } else { s.rfind(&t) };
            at.map(|b| s[..b].chars().count())
        }
    };
    Ok(V::int(found.map_or(-1, |i| i64::try_from(i).unwrap_or(-1))))
}

fn take_skip(name: &str, a: &Args) -> Res {
    a.arity(2)?;
    let n = usize::try_from(a.int(1)?.max(0)).unwrap_or(usize::MAX);
    Ok(match &a.json[0] {
        Value::Array(items) => {
            let cut = n.min(items.len());
            let part = if name == "take" { &items[..cut] } else { &items[cut..] };
            V::J(Value::Array(part.to_vec()))
        }
        _ => {
            let s: Vec<char> = a.text(0)?.chars().collect();
            let cut = n.min(s.len());
            let part = if name == "take" { &s[..cut] } else { &s[cut..] };
            V::str(part.iter().collect::<String>())
        }
    })
}

/// `range(startIndex, count)`: "The sum of startIndex and count must be no greater than
/// 2147483647", and the count is at most 10000.
fn range(a: &Args) -> Res {
    a.arity(2)?;
    let (start, count) = (a.int(0)?, a.int(1)?);
    if !(0..=MAX_RANGE).contains(&count) {
        return Err(FunctionError::RangeCount { count, max: MAX_RANGE }.into());
    }
    let end = start.checked_add(count).filter(|end| *end <= i64::from(i32::MAX));
    let Some(end) = end.filter(|_| start >= i64::from(i32::MIN)) else {
        return Err(FunctionError::RangeBeyond { start, count }.into());
    };
    Ok(V::J(Value::Array((start..end).map(Value::from).collect())))
}

/// `union`: arrays without duplicates, in order; objects merged, later values winning, nested
/// objects merged too.
fn union(a: &Args) -> Res {
    match a.json.first() {
        Some(Value::Array(_)) => {
            let mut out: Vec<Value> = Vec::new();
            for (i, v) in a.json.iter().enumerate() {
                let Value::Array(items) = v else {
                    return Err(FunctionError::MixedArguments {
                        call: "union() of arrays",
                        position: i + 1,
                        found: type_name(v),
                        valid: "all arrays or all objects",
                    }
                    .into());
                };
                for item in items {
                    if !out.iter().any(|o| same(o, item)) {
                        out.push(item.clone());
                    }
                }
            }
            Ok(V::J(Value::Array(out)))
        }
        Some(Value::Object(_)) => {
            let mut out = Map::new();
            for (i, v) in a.json.iter().enumerate() {
                let Value::Object(m) = v else {
                    return Err(FunctionError::MixedArguments {
                        call: "union() of objects",
                        position: i + 1,
                        found: type_name(v),
                        valid: "all arrays or all objects",
                    }
                    .into());
                };
                merge(&mut out, m);
            }
            Ok(V::J(Value::Object(out)))
        }
        _ => Err(FunctionError::Usage(Usage::ArraysOrObjects).into()),
    }
}

fn merge(out: &mut Map<String, Value>, m: &Map<String, Value>) {
    for (k, v) in m {
        let existing = out.iter_mut().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v);
        match (existing, v) {
            (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
            _ => insert_any_case(out, k, v.clone()),
        }
    }
}

/// `intersection`: the items, or the members, every argument has.
fn intersection(a: &Args) -> Res {
    match a.json.first() {
        Some(Value::Array(first)) => {
            let mut out: Vec<Value> = Vec::new();
            for item in first {
                let everywhere = a.json[1..]
                    .iter()
                    .all(|v| v.as_array().is_some_and(|other| other.iter().any(|o| same(o, item))));
                if everywhere && !out.iter().any(|o| same(o, item)) {
                    out.push(item.clone());
                }
            }
            Ok(V::J(Value::Array(out)))
        }
        Some(Value::Object(first)) => {
            let mut out = Map::new();
            for (k, v) in first {
                let everywhere = a.json[1..].iter().all(|o| {
                    o.as_object()
                        .is_some_and(|m| m.iter().any(|(k2, v2)| k2.eq_ignore_ascii_case(k) && same(v, v2)))
                });
                if everywhere {
                    out.insert(k.clone(), v.clone());
                }
            }
            Ok(V::J(Value::Object(out)))
        }
        _ => Err(FunctionError::Usage(Usage::ArraysOrObjects).into()),
    }
}

/// `tryGet(itemToTest, keyOrIndex, ...)`: the value at the path, or null where it is absent.
fn try_get(a: &Args) -> Res {
    if a.len() < 2 {
        return Err(FunctionError::Usage(Usage::ValueAndKeys).into());
    }
    let mut current = a.json[0].clone();
    for key in &a.json[1..] {
        current = match (&current, key) {
            (Value::Object(m), Value::String(k)) => m
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(k))
                .map_or(Value::Null, |(_, v)| v.clone()),
            (Value::Array(items), Value::Number(n)) => n
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| items.get(i))
                .cloned()
                .unwrap_or(Value::Null),
            (Value::Null, _) => Value::Null,
            (other, key) => {
                return Err(ExprError::NotIndexable {
                    index: shorten(&key.to_string()),
                    of: type_name(other),
                });
            }
        };
    }
    Ok(V::J(current))
}

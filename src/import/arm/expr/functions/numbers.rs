//! Numeric, comparison and logical functions: `add`, `sub`, `mul`, `div`, `mod` (checked:
//! ARM computes with 64-bit integers, and dividing by zero is an error), `min`, `max`, `int`,
//! `float`; `equals`, `greater`, `greaterOrEquals`, `less`, `lessOrEquals`, `coalesce`; `and`,
//! `or`, `not`, `bool`, `true`, `false`, `if`.

use std::cmp::Ordering;

use serde_json::Value;

use super::collections::same;
use super::{Args, Res, checked};
use crate::import::arm::expr::parser::Parser;
use crate::import::arm::expr::{ExprError, FunctionError, TextKind, Usage, V, type_name};
use crate::import::json::shorten;

pub(super) fn call(_p: &mut Parser<'_, '_>, name: &str, a: &Args) -> Option<Res> {
    Some(match name {
        "add" | "sub" | "mul" | "div" | "mod" => arithmetic(name, a),
        "min" | "max" => min_max(name, a),
        "int" => a.arity(1).and_then(|()| match &a.json[0] {
            Value::Number(n) if n.as_i64().is_none() => {
                let f = n.as_f64().unwrap_or(0.0).trunc();
                if f.abs() < 9.2e18 {
                    // Truncation toward zero, as .NET's conversion of a float to an integer.
                    Ok(V::int(f as i64))
                } else {
                    Err(FunctionError::Overflow { function: None, operands: n.to_string() }.into())
                }
            }
            _ => a.int(0).map(V::int),
        }),
        "float" => a.arity(1).and_then(|()| {
            let f = match &a.json[0] {
                Value::Number(n) => n.as_f64().unwrap_or(0.0),
                Value::String(s) => s.trim().parse().map_err(|_| FunctionError::Unreadable {
                    text: shorten(s),
                    expected: TextKind::Number,
                })?,
                other => {
                    return Err(FunctionError::OfType {
                        function: "float".into(),
                        found: type_name(other),
                        valid: "a number or a string that holds one",
                    }
                    .into());
                }
            };
            serde_json::Number::from_f64(f)
                .map(|n| V::J(Value::Number(n)))
                .ok_or_else(|| FunctionError::NotFinite(f.to_string()).into())
        }),
        "bool" => a.arity(1).and_then(|()| match &a.json[0] {
            Value::Number(n) => Ok(V::bool(n.as_f64() != Some(0.0))),
            _ => a.boolean(0).map(V::bool),
        }),
        "true" => a.arity(0).map(|()| V::bool(true)),
        "false" => a.arity(0).map(|()| V::bool(false)),
        "equals" => a.arity(2).map(|()| V::bool(same(&a.json[0], &a.json[1]))),
        "not" => a.arity(1).and_then(|()| a.boolean(0)).map(|b| V::bool(!b)),
        "and" | "or" => (|| {
            if a.len() < 2 {
                return Err(FunctionError::Usage(Usage::TwoBooleans).into());
            }
            // Left to right, stopping where the answer is known: the arguments after it were
            // not evaluated (the parser skipped them).
            let decisive = name == "or";
            for i in 0..a.len() {
                if a.boolean(i)? == decisive {
                    return Ok(V::bool(decisive));
                }
            }
            Ok(V::bool(!decisive))
        })(),
        "if" => a
            .arity(3)
            .and_then(|()| a.boolean(0))
            .map(|c| if c { a.vals[1].clone() } else { a.vals[2].clone() }),
        "greater" | "greaterorequals" | "less" | "lessorequals" => (|| {
            a.arity(2)?;
            let ordering = compare(a)?;
            Ok(V::bool(match name {
                "greater" => ordering.is_gt(),
                "greaterorequals" => ordering.is_ge(),
                "less" => ordering.is_lt(),
                _ => ordering.is_le(),
            }))
        })(),
        "coalesce" => {
            Ok(a.vals.iter().find(|v| !matches!(v, V::J(Value::Null))).cloned().unwrap_or(V::J(Value::Null)))
        }
        _ => return None,
    })
}

fn arithmetic(name: &str, a: &Args) -> Res {
    a.arity(2)?;
    let (x, y) = (a.int(0)?, a.int(1)?);
    if matches!(name, "div" | "mod") && y == 0 {
        return Err(FunctionError::DivideByZero { function: name.to_string(), dividend: x }.into());
    }
    let out = match name {
        "add" => x.checked_add(y),
        "sub" => x.checked_sub(y),
        "mul" => x.checked_mul(y),
        "div" => x.checked_div(y),
        _ => x.checked_rem(y),
    };
    checked(out, || (Some(name.to_string()), format!("{x}, {y}")))
}

fn min_max(name: &str, a: &Args) -> Res {
    let numbers: Vec<Value> = match a.json.as_slice() {
        [Value::Array(items)] => items.clone(),
        _ => a.json.clone(),
    };
    let ints = numbers
        .iter()
        .map(|n| n.as_i64().ok_or_else(|| FunctionError::NotIntegers(shorten(&n.to_string())).into()))
        .collect::<Result<Vec<_>, ExprError>>()?;
    let out = if name == "min" { ints.iter().min() } else { ints.iter().max() };
    Ok(V::int(*out.ok_or(FunctionError::Usage(Usage::OneInteger))?))
}

/// Numbers by value, strings ordinally, as ARM compares them.
fn compare(a: &Args) -> Result<Ordering, ExprError> {
    match (&a.json[0], &a.json[1]) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .ok_or_else(|| FunctionError::Incomparable.into()),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (x, y) => Err(FunctionError::CompareTypes { left: type_name(x), right: type_name(y) }.into()),
    }
}

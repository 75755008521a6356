//! Lambda functions: `filter`, `map`, `reduce`, `sort`, `toObject`, `groupBy`, `mapValues`,
//! and `lambdaVariables`. A lambda (`lambda('x', body)`) is an argument of these functions
//! only, as ARM allows; `filter`, `map` and `reduce` pass the index as an optional last
//! variable, as Microsoft's examples do.

use serde_json::{Map, Value};

use super::{Args, Res};
use crate::import::arm::expr::parser::Parser;
use crate::import::arm::expr::{ArgKind, ExprError, FunctionError, Lambda, V, type_name};
use crate::import::json::shorten;

pub(super) fn call(p: &mut Parser<'_, '_>, name: &str, a: &Args) -> Option<Res> {
    Some(match name {
        "lambdavariables" => a.arity(1).and_then(|()| a.text(0)).and_then(|n| p.ev.lambda_variable(&n)),
        "filter" => (|| {
            a.arity(2)?;
            let (items, f) = (a.array(0)?, lambda(a, 1)?);
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match p.ev.call_lambda(f, vec![item.clone(), index(i)])? {
                    Value::Bool(true) => out.push(item.clone()),
                    Value::Bool(false) => {}
                    other => {
                        return Err(FunctionError::LambdaNotBoolean(type_name(&other)).into());
                    }
                }
            }
            Ok(V::J(Value::Array(out)))
        })(),
        "map" => (|| {
            a.arity(2)?;
            let (items, f) = (a.array(0)?, lambda(a, 1)?);
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(p.ev.call_lambda(f, vec![item.clone(), index(i)])?);
            }
            Ok(V::J(Value::Array(out)))
        })(),
        "reduce" => (|| {
            a.arity(3)?;
            let (items, f) = (a.array(0)?, lambda(a, 2)?);
            let mut acc = a.json[1].clone();
            for (i, item) in items.iter().enumerate() {
                acc = p.ev.call_lambda(f, vec![acc, item.clone(), index(i)])?;
            }
            Ok(V::J(acc))
        })(),
        "sort" => (|| {
            a.arity(2)?;
            let (items, f) = (a.array(0)?, lambda(a, 1)?);
            // An insertion sort on the lambda's "comes before": stable, and it calls the lambda
            // a bounded number of times (at most n²/2 for the 10,000 items an array may have
            // here before the budget stops it).
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                let mut at = out.len();
                while at > 0 {
                    match p.ev.call_lambda(f, vec![item.clone(), out[at - 1].clone()])? {
                        Value::Bool(true) => at -= 1,
                        Value::Bool(false) => break,
                        other => {
                            return Err(FunctionError::LambdaNotBoolean(type_name(&other)).into());
                        }
                    }
                }
                out.insert(at, item.clone());
            }
            Ok(V::J(Value::Array(out)))
        })(),
        "toobject" => (|| {
            a.arity_between(2, 3)?;
            let (items, key) = (a.array(0)?, lambda(a, 1)?);
            let value = if a.len() == 3 { Some(lambda(a, 2)?) } else { None };
            let mut out = Map::new();
            for item in items {
                let k = key_text(p.ev.call_lambda(key, vec![item.clone()])?)?;
                let v = match value {
                    Some(f) => p.ev.call_lambda(f, vec![item.clone()])?,
                    None => item.clone(),
                };
                out.insert(k, v);
            }
            Ok(V::J(Value::Object(out)))
        })(),
        "groupby" => (|| {
            a.arity(2)?;
            let (items, key) = (a.array(0)?, lambda(a, 1)?);
            let mut out = Map::new();
            for item in items {
                let k = key_text(p.ev.call_lambda(key, vec![item.clone()])?)?;
                match out.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
                    Value::Array(group) => group.push(item.clone()),
                    _ => return Err(FunctionError::GroupNotArray.into()),
                }
            }
            Ok(V::J(Value::Object(out)))
        })(),
        "mapvalues" => (|| {
            a.arity(2)?;
            let (object, f) = (a.object(0)?, lambda(a, 1)?);
            let mut out = Map::new();
            for (k, v) in object {
                out.insert(k.clone(), p.ev.call_lambda(f, vec![v.clone()])?);
            }
            Ok(V::J(Value::Object(out)))
        })(),
        _ => return None,
    })
}

fn lambda(a: &Args, i: usize) -> Result<&Lambda, ExprError> {
    match a.vals.get(i) {
        Some(V::Lambda(l)) => Ok(l),
        Some(other) => Err(FunctionError::NotALambda { position: i + 1, found: other.describe() }.into()),
        None => Err(ExprError::MissingArgument { position: i + 1, expected: ArgKind::Lambda }),
    }
}

fn index(i: usize) -> Value {
    Value::from(i64::try_from(i).unwrap_or(i64::MAX))
}

fn key_text(key: Value) -> Result<String, ExprError> {
    match key {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(FunctionError::KeyNotString(shorten(&other.to_string())).into()),
    }
}

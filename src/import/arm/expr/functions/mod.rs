//! The template functions nsgsim evaluates offline, one file per family of Microsoft's function
//! reference (the list, and the functions that cannot be evaluated offline, are in
//! docs/engineers.md): [`strings`], [`collections`] (array and object functions),
//! [`numbers`] (numeric, comparison and logical), [`dates`], [`cidr`], [`deployment`]
//! (deployment and scope functions), [`resources`] (resource ids, `reference()`, `list*()`) and
//! [`lambdas`].
//!
//! `apply` is a second `impl` block of the expression parser: it takes a call's evaluated
//! arguments ([`Args`]) and gives its value, or says why it cannot. Each family answers the
//! names it knows and `None` for the others.

mod cidr;
mod collections;
mod dates;
mod deployment;
mod lambdas;
mod numbers;
mod resources;
mod strings;

use serde_json::Value;

use super::parser::Parser;
use super::{Deployment, V, type_name};
use crate::import::arm::expr::{ArgKind, ExprError, FunctionError};
use crate::import::json::shorten;

/// A call's evaluated arguments, with the accessors every function uses.
pub(super) struct Args {
    /// The arguments as evaluated.
    pub vals: Vec<V>,
    /// The arguments as JSON (resource ids as their id strings, lambdas as null).
    pub json: Vec<Value>,
    deployment: Deployment,
}

type Res = Result<V, ExprError>;

impl Args {
    fn new(vals: Vec<V>, deployment: &Deployment) -> Args {
        let json = vals.iter().map(|a| a.json(deployment)).collect();
        Args { vals, json, deployment: deployment.clone() }
    }

    fn len(&self) -> usize {
        self.vals.len()
    }

    /// Exactly `n` arguments.
    fn arity(&self, n: usize) -> Result<(), ExprError> {
        self.arity_between(n, n)
    }

    /// Between `min` and `max` arguments.
    fn arity_between(&self, min: usize, max: usize) -> Result<(), ExprError> {
        if (min..=max).contains(&self.len()) {
            Ok(())
        } else {
            Err(ExprError::Arity { min, max, given: self.len() })
        }
    }

    /// Argument `i` as an integer (a string of digits too, as ARM converts).
    fn int(&self, i: usize) -> Result<i64, ExprError> {
        match self.json.get(i) {
            Some(Value::Number(n)) => {
                n.as_i64().ok_or_else(|| ExprError::NotAnInteger { value: n.to_string(), string: false })
            }
            Some(Value::String(s)) => {
                s.trim().parse().map_err(|_| ExprError::NotAnInteger { value: shorten(s), string: true })
            }
            other => Err(Args::kind_error(i, ArgKind::Integer, other)),
        }
    }

    /// Argument `i` as a boolean (`'true'` and `'false'` too).
    fn boolean(&self, i: usize) -> Result<bool, ExprError> {
        match self.json.get(i) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(Args::kind_error(i, ArgKind::Boolean, other)),
        }
    }

    /// Argument `i` as text: strings as they are, numbers and booleans as ARM writes them
    /// (`True`), null as empty, arrays and objects as compact JSON.
    fn text(&self, i: usize) -> Result<String, ExprError> {
        match self.vals.get(i) {
            Some(v) => Ok(text_of(v, &self.deployment)),
            None => Err(Args::kind_error(i, ArgKind::String, None)),
        }
    }

    /// Argument `i`, which must be a string.
    fn string(&self, i: usize) -> Result<String, ExprError> {
        match self.json.get(i) {
            // A resource reference's JSON form is its id string.
            Some(Value::String(s)) => Ok(s.clone()),
            other => Err(Args::kind_error(i, ArgKind::String, other)),
        }
    }

    /// Every argument as text.
    fn texts(&self) -> Vec<String> {
        self.vals.iter().map(|v| text_of(v, &self.deployment)).collect()
    }

    /// Argument `i`, which must be an array.
    fn array(&self, i: usize) -> Result<&Vec<Value>, ExprError> {
        match self.json.get(i) {
            Some(Value::Array(items)) => Ok(items),
            other => Err(Args::kind_error(i, ArgKind::Array, other)),
        }
    }

    /// Argument `i`, which must be an object.
    fn object(&self, i: usize) -> Result<&serde_json::Map<String, Value>, ExprError> {
        match self.json.get(i) {
            Some(Value::Object(m)) => Ok(m),
            other => Err(Args::kind_error(i, ArgKind::Object, other)),
        }
    }

    /// Argument `i` (from 0) is not `expected`: it is of another type, or missing (`None`).
    fn kind_error(i: usize, expected: ArgKind, found: Option<&Value>) -> ExprError {
        match found {
            Some(other) => ExprError::WrongType { position: i + 1, expected, found: type_name(other) },
            None => ExprError::MissingArgument { position: i + 1, expected },
        }
    }
}

/// A value as text, as ARM's string functions take it.
fn text_of(v: &V, deployment: &Deployment) -> String {
    match v {
        V::Ref(r) => r.id(deployment),
        V::J(Value::String(s)) => s.clone(),
        V::J(Value::Number(n)) => n.to_string(),
        V::J(Value::Bool(b)) => {
            if *b {
                "True".into()
            } else {
                "False".into()
            }
        }
        V::J(Value::Null) | V::Lambda(_) => String::new(),
        V::J(other) => other.to_string(),
    }
}

/// An integer result, checked: ARM computes with 64-bit integers. `what` gives the function
/// and its operands, for the error.
fn checked(out: Option<i64>, what: impl FnOnce() -> (Option<String>, String)) -> Res {
    out.map(V::int).ok_or_else(|| {
        let (function, operands) = what();
        FunctionError::Overflow { function, operands }.into()
    })
}

impl Parser<'_, '_> {
    pub(super) fn apply(&mut self, name: &str, vals: Vec<V>) -> Res {
        let lower = name.to_ascii_lowercase();
        if lower.contains('.') {
            let json = vals.iter().map(|v| v.json(&self.ev.scope.deployment)).collect();
            return self.ev.user_function(name, json);
        }
        let args = Args::new(vals, &self.ev.scope.deployment);
        let found = strings::call(self, &lower, &args)
            .or_else(|| collections::call(self, &lower, &args))
            .or_else(|| numbers::call(self, &lower, &args))
            .or_else(|| dates::call(self, &lower, &args))
            .or_else(|| cidr::call(&lower, &args))
            .or_else(|| deployment::call(self, &lower, &args))
            .or_else(|| resources::call(self, &lower, &args))
            .or_else(|| lambdas::call(self, &lower, &args));
        match found {
            Some(result) => result,
            None => Err(ExprError::UnsupportedFunction { name: shorten(name) }),
        }
    }
}

#[cfg(test)]
mod tests;

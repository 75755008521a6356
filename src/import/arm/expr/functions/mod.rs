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
use crate::import::json::shorten;

/// A call's evaluated arguments, with the accessors every function uses.
pub(super) struct Args {
    /// The arguments as evaluated.
    pub vals: Vec<V>,
    /// The arguments as JSON (resource ids as their id strings, lambdas as null).
    pub json: Vec<Value>,
    deployment: Deployment,
}

type Res = Result<V, String>;

impl Args {
    fn new(vals: Vec<V>, deployment: &Deployment) -> Args {
        let json = vals.iter().map(|a| a.json(deployment)).collect();
        Args { vals, json, deployment: deployment.clone() }
    }

    fn len(&self) -> usize {
        self.vals.len()
    }

    /// Exactly `n` arguments.
    fn arity(&self, n: usize) -> Result<(), String> {
        if self.len() == n { Ok(()) } else { Err(format!("takes {n} argument(s), given {}", self.len())) }
    }

    /// Between `min` and `max` arguments.
    fn arity_between(&self, min: usize, max: usize) -> Result<(), String> {
        if (min..=max).contains(&self.len()) {
            Ok(())
        } else {
            Err(format!("takes {min} to {max} arguments, given {}", self.len()))
        }
    }

    /// Argument `i` as an integer (a string of digits too, as ARM converts).
    fn int(&self, i: usize) -> Result<i64, String> {
        match self.json.get(i) {
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| format!("{n} is not an integer")),
            Some(Value::String(s)) => {
                s.trim().parse().map_err(|_| format!("'{}' is not an integer", shorten(s)))
            }
            Some(other) => Err(format!("argument {} must be an integer, found {}", i + 1, type_name(other))),
            None => Err(format!("argument {} (an integer) is missing", i + 1)),
        }
    }

    /// Argument `i` as a boolean (`'true'` and `'false'` too).
    fn boolean(&self, i: usize) -> Result<bool, String> {
        match self.json.get(i) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => Err(format!("argument {} must be a boolean, found {}", i + 1, type_name(other))),
            None => Err(format!("argument {} (a boolean) is missing", i + 1)),
        }
    }

    /// Argument `i` as text: strings as they are, numbers and booleans as ARM writes them
    /// (`True`), null as empty, arrays and objects as compact JSON.
    fn text(&self, i: usize) -> Result<String, String> {
        match self.vals.get(i) {
            Some(v) => Ok(text_of(v, &self.deployment)),
            None => Err(format!("argument {} (a string) is missing", i + 1)),
        }
    }

    /// Argument `i`, which must be a string.
    fn string(&self, i: usize) -> Result<String, String> {
        match (self.vals.get(i), self.json.get(i)) {
            // A resource reference's JSON form is its id string.
            (_, Some(Value::String(s))) => Ok(s.clone()),
            (_, Some(other)) => {
                Err(format!("argument {} must be a string, found {}", i + 1, type_name(other)))
            }
            _ => Err(format!("argument {} (a string) is missing", i + 1)),
        }
    }

    /// Every argument as text.
    fn texts(&self) -> Vec<String> {
        self.vals.iter().map(|v| text_of(v, &self.deployment)).collect()
    }

    /// Argument `i`, which must be an array.
    fn array(&self, i: usize) -> Result<&Vec<Value>, String> {
        match self.json.get(i) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(format!("argument {} must be an array, found {}", i + 1, type_name(other))),
            None => Err(format!("argument {} (an array) is missing", i + 1)),
        }
    }

    /// Argument `i`, which must be an object.
    fn object(&self, i: usize) -> Result<&serde_json::Map<String, Value>, String> {
        match self.json.get(i) {
            Some(Value::Object(m)) => Ok(m),
            Some(other) => Err(format!("argument {} must be an object, found {}", i + 1, type_name(other))),
            None => Err(format!("argument {} (an object) is missing", i + 1)),
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

/// An integer result, checked: ARM computes with 64-bit integers.
fn checked(out: Option<i64>, what: impl FnOnce() -> String) -> Res {
    out.map(V::int).ok_or_else(|| {
        format!(
            "{} is beyond the 64-bit integers ARM computes with; valid: {}..={}",
            what(),
            i64::MIN,
            i64::MAX
        )
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
            None => Err(format!(
                "unsupported template function '{}()'; valid: a template function nsgsim evaluates (docs/engineers.md lists them) or a user-defined function the template declares",
                shorten(name)
            )),
        }
    }
}

#[cfg(test)]
mod tests;

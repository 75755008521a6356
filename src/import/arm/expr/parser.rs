//! The expression parser, which evaluates as it reads (a template expression is small and read
//! once per evaluation): literals, calls, `.property` and `[index]`.
//!
//! Two forms are read without being evaluated: the branch of an `if` that is not taken (ARM
//! evaluates only the branch it takes) and the body of a `lambda(...)`, which is kept as text and
//! evaluated for each item by the lambda functions. Every value a call returns, and every
//! property or item taken from a value, is counted against the import's budget as it is made.

use serde_json::Value;

use std::collections::BTreeSet;

use super::ExprError;
use super::{Eval, Lambda, MAX_DEPTH, V, placeholder, type_name};
use crate::import::json::shorten;

pub(super) struct Parser<'p, 'a> {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// Inside the branch of an `if` that is not taken, or a lambda's body: parse, but evaluate
    /// nothing.
    skipping: usize,
    pub(super) ev: &'p mut Eval<'a>,
}

impl<'p, 'a> Parser<'p, 'a> {
    pub(super) fn new(chars: Vec<char>, ev: &'p mut Eval<'a>) -> Parser<'p, 'a> {
        Parser { chars, pos: 0, depth: 0, skipping: 0, ev }
    }

    /// Checks that the whole text was read.
    pub(super) fn end(&mut self) -> Result<(), ExprError> {
        self.skip_ws();
        if self.pos != self.chars.len() {
            return Err(format!(
                "unsupported template expression: unexpected '{}' at character {}",
                shorten(&self.chars[self.pos..].iter().collect::<String>()),
                self.pos + 2
            )
            .into());
        }
        Ok(())
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    pub(super) fn expression(&mut self) -> Result<V, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("the template expression nests more than {MAX_DEPTH} levels deep").into());
        }
        self.skip_ws();
        let mut value = match self.chars.get(self.pos) {
            Some('\'') => self.string().map(V::str)?,
            Some(c) if c.is_ascii_digit() || *c == '-' => self.number()?,
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => self.call()?,
            Some(c) => {
                return Err(format!(
                    "unsupported template expression: unexpected '{}'",
                    shorten(&c.to_string())
                )
                .into());
            }
            None => return Err("empty template expression".into()),
        };
        loop {
            self.skip_ws();
            match self.chars.get(self.pos) {
                Some('.') => {
                    self.pos += 1;
                    self.skip_ws();
                    let name = self.identifier();
                    if name.is_empty() {
                        return Err(
                            "unsupported template expression: expected a property name after '.'".into()
                        );
                    }
                    value = self.member(value, &V::str(name))?;
                }
                Some('[') => {
                    self.pos += 1;
                    let index = self.expression()?;
                    self.skip_ws();
                    if self.chars.get(self.pos) != Some(&']') {
                        return Err("unsupported template expression: expected ']' after an index".into());
                    }
                    self.pos += 1;
                    value = self.member(value, &index)?;
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(value)
    }

    /// `value.name` or `value[index]`: properties found without case, as ARM finds them.
    fn member(&self, value: V, index: &V) -> Result<V, ExprError> {
        if self.skipping > 0 {
            return Ok(V::J(Value::Null));
        }
        let json = value.json(&self.ev.scope.deployment);
        if let Some(reason) = crate::import::arm::declared::marker_reason(&json) {
            return Err(reason.to_string().into());
        }
        let mut placeholders = BTreeSet::new();
        if let Value::String(s) = &json {
            placeholder::names_in_str(s, &mut placeholders);
        }
        if let V::J(Value::String(s)) = index {
            placeholder::names_in_str(s, &mut placeholders);
        }
        if !placeholders.is_empty() {
            return Err(placeholder::needed(&placeholders, "a property or an index").into());
        }
        let out = match (&json, index) {
            (Value::Array(items), V::J(Value::Number(n))) => {
                let i = n.as_u64().and_then(|i| usize::try_from(i).ok());
                match i.and_then(|i| items.get(i)) {
                    Some(v) => v.clone(),
                    None => {
                        let valid = match items.len() {
                            0 => "none, the array is empty".to_string(),
                            len => format!("0..={}", len - 1),
                        };
                        return Err(format!(
                            "index {n} is out of range for an array of {} item(s); valid: {valid}",
                            items.len()
                        )
                        .into());
                    }
                }
            }
            (Value::Object(m), V::J(Value::String(k))) => {
                match m.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)) {
                    Some((_, v)) => v.clone(),
                    None => {
                        let keys = m.keys().cloned().collect::<Vec<_>>().join(", ");
                        return Err(format!(
                            "the object has no property '{}' (it has: {})",
                            shorten(k),
                            shorten(&keys)
                        )
                        .into());
                    }
                }
            }
            (other, index) => {
                return Err(format!(
                    "cannot take {} of {}; valid: a property of an object or an index of an array",
                    index.describe(),
                    type_name(other)
                )
                .into());
            }
        };
        if let Some(reason) = crate::import::arm::declared::marker_reason(&out) {
            return Err(reason.to_string().into());
        }
        self.ev.scope.budget.charge_value(&out)?;
        Ok(V::J(out))
    }

    pub(super) fn identifier(&mut self) -> String {
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn string(&mut self) -> Result<String, ExprError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.chars.get(self.pos) {
                Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                    out.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(*c);
                    self.pos += 1;
                }
                None => return Err("unterminated string literal in template expression".into()),
            }
        }
    }

    fn number(&mut self) -> Result<V, ExprError> {
        let start = self.pos;
        self.pos += 1;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if let Ok(n) = text.parse::<i64>() {
            return Ok(V::int(n));
        }
        match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            Some(n) if text.contains('.') => Ok(V::J(Value::Number(n))),
            _ => Err(format!("'{}' is not a number ARM computes with (integers are 64-bit)", shorten(&text))
                .into()),
        }
    }

    fn call(&mut self) -> Result<V, ExprError> {
        let mut name = self.identifier();
        // A user-defined function is called as `namespace.name(...)`.
        if self.chars.get(self.pos) == Some(&'.') {
            let save = self.pos;
            self.pos += 1;
            let member = self.identifier();
            self.skip_ws();
            if !member.is_empty() && self.chars.get(self.pos) == Some(&'(') {
                name = format!("{name}.{member}");
            } else {
                self.pos = save;
            }
        }
        self.skip_ws();
        if self.chars.get(self.pos) != Some(&'(') {
            return Err(format!(
                "unsupported template expression: '{}' is not a function call (write {}())",
                shorten(&name),
                shorten(&name)
            )
            .into());
        }
        self.pos += 1;
        let lower = name.to_ascii_lowercase();
        if lower == "lambda" {
            return self.lambda();
        }
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            if self.chars.get(self.pos) == Some(&')') {
                self.pos += 1;
                break;
            }
            // `if` evaluates only the branch it takes; `and` stops at the first `false`, `or` at
            // the first `true` (templates rely on it: `and(contains(x, 'a'), x.a)`, as Bicep
            // writes `contains(x, 'a') && x.a`; see Azure/PSRule.Rules.Azure#1026).
            let decided = |value: bool| args.iter().any(|a| matches!(a, V::J(Value::Bool(b)) if *b == value));
            let skip = match lower.as_str() {
                "if" => match (args.len(), args.first()) {
                    (1, Some(V::J(Value::Bool(c)))) => !*c,
                    (2, Some(V::J(Value::Bool(c)))) => *c,
                    _ => false,
                },
                "and" => decided(false),
                "or" => decided(true),
                _ => false,
            };
            if skip {
                self.skipping += 1;
            }
            let arg = self.expression();
            if skip {
                self.skipping -= 1;
            }
            args.push(arg?);
            self.separator(&name)?;
            if self.chars.get(self.pos.wrapping_sub(1)) == Some(&')') {
                break;
            }
        }
        if self.skipping > 0 {
            return Ok(V::J(Value::Null));
        }
        if placeholder::kept_whole(
            &lower,
            args.first().and_then(|a| if let V::J(v) = a { Some(v) } else { None }),
        ) {
            return Ok(args.swap_remove(0));
        }
        let placeholders = placeholders_in(&args);
        let given = (!placeholders.is_empty())
            .then(|| args.iter().map(|a| a.json(&self.ev.scope.deployment)).collect::<Vec<_>>());
        let out = self.apply(&name, args);
        let out = match given {
            Some(given) => {
                let result = out.as_ref().map(|v| v.json(&self.ev.scope.deployment)).map_err(Clone::clone);
                placeholder::check_call(&lower, &given, &result, &placeholders).and(out)
            }
            None => out,
        };
        // A failure that already names a call (`parameters('x'): …`) stands as it is.
        let out = out.map_err(|e| e.in_call(&name))?;
        if let V::J(v) = &out {
            self.ev.scope.budget.charge_value(v)?;
        }
        Ok(out)
    }

    /// After an argument: `,` (then another) or `)` (the end, consumed).
    fn separator(&mut self, name: &str) -> Result<(), ExprError> {
        self.skip_ws();
        match self.chars.get(self.pos) {
            Some(',' | ')') => {
                self.pos += 1;
                Ok(())
            }
            _ => {
                Err(format!("unsupported template expression: expected ',' or ')' in {}(...)", shorten(name))
                    .into())
            }
        }
    }

    /// `lambda('x', ..., body)`: variable names (string literals) and a body kept as text.
    fn lambda(&mut self) -> Result<V, ExprError> {
        let mut spans = Vec::new();
        loop {
            self.skip_ws();
            if self.chars.get(self.pos) == Some(&')') {
                self.pos += 1;
                break;
            }
            let start = self.pos;
            self.skipping += 1;
            let parsed = self.expression();
            self.skipping -= 1;
            parsed?;
            spans.push((start, self.pos));
            self.separator("lambda")?;
            if self.chars.get(self.pos.wrapping_sub(1)) == Some(&')') {
                break;
            }
        }
        let Some(((body_start, body_end), names)) = spans.split_last() else {
            return Err("lambda() needs at least a body".into());
        };
        let mut params = Vec::new();
        for (start, end) in names {
            let text: String = self.chars[*start..*end].iter().collect();
            let text = text.trim();
            match text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
                Some(name) if !name.contains('\'') => params.push(name.to_string()),
                _ => {
                    return Err(format!(
                        "lambda(): a lambda variable is named by a string literal, found {}",
                        shorten(text)
                    )
                    .into());
                }
            }
        }
        if self.skipping > 0 {
            return Ok(V::J(Value::Null));
        }
        let body = self.chars[*body_start..*body_end].iter().collect();
        Ok(V::Lambda(std::rc::Rc::new(Lambda { params, body })))
    }
}

/// The parameters whose placeholders a call's arguments hold (usually none).
fn placeholders_in(args: &[V]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for a in args {
        match a {
            V::J(v) => placeholder::names_in_json(v, &mut names),
            V::Ref(r) => r.names.iter().for_each(|n| placeholder::names_in_str(n, &mut names)),
            V::Lambda(_) => {}
        }
    }
    names
}

//! The expression parser, which evaluates as it reads (a template expression is small and read
//! once per evaluation): literals, calls, `.property` and `[index]`.
//!
//! Two forms are read without being evaluated: the branch of an `if` that is not taken (ARM
//! evaluates only the branch it takes) and the body of a `lambda(...)`, which is kept as text and
//! evaluated for each item by the lambda functions. Every value a call returns, and every
//! property or item taken from a value, is counted against the import's budget as it is made.

use serde_json::Value;

use std::collections::BTreeSet;

use super::{Eval, Lambda, MAX_DEPTH, V, placeholder, type_name};
use super::{ExprError, SyntaxError};
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

    /// The parser reading without evaluating anything, as it reads an `if` branch not taken.
    #[cfg(test)]
    pub(super) fn reading_only(mut self) -> Self {
        self.skipping = 1;
        self
    }

    /// Checks that the whole text was read.
    pub(super) fn end(&mut self) -> Result<(), ExprError> {
        self.skip_ws();
        if self.pos != self.chars.len() {
            return Err(SyntaxError::TrailingText {
                rest: shorten(&self.chars[self.pos..].iter().collect::<String>()),
                at: self.pos + 2,
            }
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
            return Err(SyntaxError::TooDeep.into());
        }
        self.skip_ws();
        let mut value = match self.chars.get(self.pos) {
            Some('\'') => self.string().map(V::str)?,
            Some(c) if c.is_ascii_digit() || *c == '-' => self.number()?,
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => self.call()?,
            Some(c) => {
                return Err(SyntaxError::Unexpected { found: *c }.into());
            }
            None => return Err(SyntaxError::Empty.into()),
        };
        loop {
            self.skip_ws();
            match self.chars.get(self.pos) {
                Some('.') => {
                    self.pos += 1;
                    self.skip_ws();
                    let name = self.identifier();
                    if name.is_empty() {
                        return Err(SyntaxError::PropertyNameExpected.into());
                    }
                    value = self.member(value, &V::str(name))?;
                }
                Some('[') => {
                    self.pos += 1;
                    let index = self.expression()?;
                    self.skip_ws();
                    if self.chars.get(self.pos) != Some(&']') {
                        return Err(SyntaxError::IndexNotClosed.into());
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
            return Err(ExprError::OnlyAtDeployment { reason });
        }
        let mut placeholders = BTreeSet::new();
        if let Value::String(s) = &json {
            placeholder::names_in_str(s, &mut placeholders);
        }
        if let V::J(Value::String(s)) = index {
            placeholder::names_in_str(s, &mut placeholders);
        }
        if !placeholders.is_empty() {
            return Err(placeholder::needed(&placeholders, "a property or an index"));
        }
        let out = match (&json, index) {
            (Value::Array(items), V::J(Value::Number(n))) => {
                let i = n.as_u64().and_then(|i| usize::try_from(i).ok());
                match i.and_then(|i| items.get(i)) {
                    Some(v) => v.clone(),
                    None => {
                        return Err(ExprError::IndexOutOfRange { index: n.to_string(), len: items.len() });
                    }
                }
            }
            (Value::Object(m), V::J(Value::String(k))) => {
                match m.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)) {
                    Some((_, v)) => v.clone(),
                    None => {
                        return Err(ExprError::NoProperty {
                            property: k.clone(),
                            has: m.keys().cloned().collect(),
                        });
                    }
                }
            }
            (other, index) => {
                return Err(ExprError::NotIndexable { index: index.describe(), of: type_name(other) });
            }
        };
        if let Some(reason) = crate::import::arm::declared::marker_reason(&out) {
            return Err(ExprError::OnlyAtDeployment { reason });
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
                None => return Err(SyntaxError::UnterminatedString.into()),
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
            _ => Err(SyntaxError::NotANumber { text: shorten(&text) }.into()),
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
            return Err(SyntaxError::NotACall { name: shorten(&name) }.into());
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
            _ => Err(SyntaxError::SeparatorExpected { function: shorten(name) }.into()),
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
            return Err(SyntaxError::LambdaWithoutBody.into());
        };
        let mut params = Vec::new();
        for (start, end) in names {
            let text: String = self.chars[*start..*end].iter().collect();
            let text = text.trim();
            match text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
                Some(name) if !name.contains('\'') => params.push(name.to_string()),
                _ => {
                    return Err(SyntaxError::LambdaVariableNotLiteral { found: shorten(text) }.into());
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

//! A template expression read into a tree, without evaluating anything: what the validation
//! pass checks (the calls, and the literal names given to `variables()` and `parameters()`).
//!
//! The grammar is the evaluator's (`expr::parser`), so that validation never refuses what the
//! evaluator reads: a literal (`'text'` with `''` for a quote, an integer or a decimal), or a
//! call `name(args)` / `namespace.name(args)`, each followed by any number of `.property` and
//! `[index]`; `lambda(...)` with a body and its variables as string literals. Syntax errors are
//! the evaluator's [`SyntaxError`]s, so both word them alike; a property test (`agreement`) reads
//! random and mutated expressions with both and requires the same verdict.
//!
//! Reading is bounded: one pass over the characters, nesting at most [`MAX_DEPTH`] levels (an
//! expression nested deeper is not checked: the limit is nsgsim's, not ARM's).

use crate::import::arm::expr::{ExprError, MAX_DEPTH, MAX_EXPRESSION_CHARS, SyntaxError};
use crate::import::json::shorten;

/// An expression, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A string literal, its quotes removed.
    Str(String),
    /// A number literal.
    Number,
    /// A call: the name as written (`concat`, `ns.fn`) and its arguments.
    Call {
        /// The function's name as written.
        name: String,
        /// The arguments, in order.
        args: Vec<Expr>,
    },
    /// `target.property` or `target[index]`.
    Access {
        /// What is indexed.
        target: Box<Expr>,
        /// The index (`None` for `.property`, whose name is only a name).
        index: Option<Box<Expr>>,
    },
}

/// Why an expression was not read.
#[derive(Debug)]
pub enum Unread {
    /// Not an expression ARM reads: the error, worded as the evaluator words it.
    Invalid(ExprError),
    /// Nested deeper than nsgsim reads: not checked.
    TooDeep,
}

/// The expression of the JSON string `text` when it is one (`[...]`, not `[[...`), read; `None`
/// when the string is a literal.
///
/// # Errors
/// See [`Unread`].
pub fn read(text: &str) -> Option<Result<Expr, Unread>> {
    let trimmed = text.trim();
    if trimmed.starts_with("[[")
        || !(trimmed.starts_with('[') && trimmed.ends_with(']') && trimmed.len() >= 2)
    {
        return None;
    }
    let body = &trimmed[1..trimmed.len() - 1];
    let chars: Vec<char> = body.chars().collect();
    if chars.len() > MAX_EXPRESSION_CHARS {
        let error = SyntaxError::TooLong { chars: chars.len(), limit: MAX_EXPRESSION_CHARS };
        return Some(Err(Unread::Invalid(ExprError::from(error))));
    }
    let mut reader = Reader { chars, pos: 0, depth: 0 };
    Some(reader.expression().and_then(|e| reader.end().map(|()| e)))
}

struct Reader {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// A syntax error, with the hint the evaluator gives.
fn invalid(error: SyntaxError) -> Unread {
    Unread::Invalid(ExprError::from(error).with_syntax_hint())
}

impl Reader {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn end(&mut self) -> Result<(), Unread> {
        self.skip_ws();
        if self.pos != self.chars.len() {
            let rest = shorten(&self.chars[self.pos..].iter().collect::<String>());
            return Err(invalid(SyntaxError::TrailingText { rest, at: self.pos + 2 }));
        }
        Ok(())
    }

    fn expression(&mut self) -> Result<Expr, Unread> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unread::TooDeep);
        }
        self.skip_ws();
        let mut value = match self.peek() {
            Some('\'') => Expr::Str(self.string()?),
            Some(c) if c.is_ascii_digit() || c == '-' => self.number()?,
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.call()?,
            Some(found) => return Err(invalid(SyntaxError::Unexpected { found })),
            None => return Err(invalid(SyntaxError::Empty)),
        };
        loop {
            self.skip_ws();
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.identifier().is_empty() {
                        return Err(invalid(SyntaxError::PropertyNameExpected));
                    }
                    value = Expr::Access { target: Box::new(value), index: None };
                }
                Some('[') => {
                    self.pos += 1;
                    let index = self.expression()?;
                    self.skip_ws();
                    if self.peek() != Some(']') {
                        return Err(invalid(SyntaxError::IndexNotClosed));
                    }
                    self.pos += 1;
                    value = Expr::Access { target: Box::new(value), index: Some(Box::new(index)) };
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(value)
    }

    fn identifier(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn string(&mut self) -> Result<String, Unread> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                    out.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
                None => return Err(invalid(SyntaxError::UnterminatedString)),
            }
        }
    }

    fn number(&mut self) -> Result<Expr, Unread> {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let decimal = text.contains('.') && text.parse::<f64>().is_ok_and(f64::is_finite);
        if text.parse::<i64>().is_ok() || decimal {
            Ok(Expr::Number)
        } else {
            Err(invalid(SyntaxError::NotANumber { text: shorten(&text) }))
        }
    }

    fn call(&mut self) -> Result<Expr, Unread> {
        let mut name = self.identifier();
        // A user-defined function is called as `namespace.name(...)`.
        if self.peek() == Some('.') {
            let save = self.pos;
            self.pos += 1;
            let member = self.identifier();
            self.skip_ws();
            if !member.is_empty() && self.peek() == Some('(') {
                name = format!("{name}.{member}");
            } else {
                self.pos = save;
            }
        }
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(invalid(SyntaxError::NotACall { name: shorten(&name) }));
        }
        self.pos += 1;
        let mut args = Vec::new();
        let mut spans = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(')') {
                self.pos += 1;
                break;
            }
            let start = self.pos;
            args.push(self.expression()?);
            spans.push((start, self.pos));
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(invalid(SyntaxError::SeparatorExpected { function: shorten(&name) })),
            }
        }
        if name.eq_ignore_ascii_case("lambda") {
            self.lambda(&args, &spans)?;
        }
        Ok(Expr::Call { name, args })
    }

    /// What the evaluator requires of `lambda(...)`'s form: a body (the last argument), and
    /// variables (the others) named by string literals without a quote.
    fn lambda(&self, args: &[Expr], spans: &[(usize, usize)]) -> Result<(), Unread> {
        let Some((_, variables)) = args.split_last() else {
            return Err(invalid(SyntaxError::LambdaWithoutBody));
        };
        for (arg, (start, end)) in variables.iter().zip(spans) {
            if !matches!(arg, Expr::Str(name) if !name.contains('\'')) {
                let text: String = self.chars[*start..*end].iter().collect();
                return Err(invalid(SyntaxError::LambdaVariableNotLiteral { found: shorten(text.trim()) }));
            }
        }
        Ok(())
    }
}

/// The validator's reader and the evaluator's parser accept and refuse the same expressions,
/// with the same syntax error: random expressions of a small grammar (literals, calls,
/// user-defined calls, `.property`, `[index]`, lambdas), each then mutated (a character deleted,
/// a token inserted, the text cut short).
#[cfg(test)]
mod agreement {
    use proptest::prelude::*;

    use super::{Unread, read};
    use crate::import::arm::expr::{ExprError, SyntaxError, read_only};

    /// What a reader made of a body: read, refused with a syntax error, or not compared (deeper
    /// than nsgsim reads).
    #[derive(Debug, PartialEq)]
    enum Verdict {
        Read,
        Refused(SyntaxError),
        Uncompared,
    }

    fn syntax(e: ExprError) -> Verdict {
        match e {
            ExprError::Syntax { error: SyntaxError::TooDeep, .. } => Verdict::Uncompared,
            ExprError::Syntax { error, .. } => Verdict::Refused(error),
            other => panic!("reading alone fails only on syntax: {other:?}"),
        }
    }

    fn validator(body: &str) -> Verdict {
        match read(&format!("[{body}]")) {
            None => Verdict::Uncompared,
            Some(Ok(_)) => Verdict::Read,
            Some(Err(Unread::TooDeep)) => Verdict::Uncompared,
            Some(Err(Unread::Invalid(e))) => syntax(e),
        }
    }

    fn evaluator(body: &str) -> Verdict {
        match read_only(body) {
            Ok(()) => Verdict::Read,
            Err(e) => syntax(e),
        }
    }

    fn expression() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            "[a-z' ]{0,4}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
            (-20i64..2000).prop_map(|n| n.to_string()),
            "-?[0-9]{1,3}\\.[0-9]{0,2}",
            Just("99999999999999999999".to_string()),
            "[a-zA-Z_][a-zA-Z0-9_$]{0,5}\\(\\)",
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                ("[a-zA-Z_][a-zA-Z0-9_]{0,5}", prop::collection::vec(inner.clone(), 0..3))
                    .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
                ("[a-z]{1,3}", "[a-z]{1,3}", prop::collection::vec(inner.clone(), 0..2))
                    .prop_map(|(ns, f, args)| format!("{ns}.{f}({})", args.join(","))),
                (inner.clone(), "[a-zA-Z_$][a-zA-Z0-9]{0,4}").prop_map(|(e, p)| format!("{e}.{p}")),
                (inner.clone(), inner.clone()).prop_map(|(e, i)| format!("{e}[{i}]")),
                (prop::collection::vec("[a-z]{1,2}", 0..2), inner.clone()).prop_map(|(vars, body)| {
                    let vars: Vec<String> = vars.iter().map(|v| format!("'{v}', ")).collect();
                    format!("lambda({}{body})", vars.concat())
                }),
                (inner.clone(), inner).prop_map(|(a, b)| format!(" {a} ,{b} ")),
            ]
        })
    }

    /// A token to insert: what the grammar is made of.
    const TOKENS: &[&str] = &[
        "(", ")", "'", "''", ",", ".", "[", "]", " ", "-", "1", "1.5", "a", "x(", "lambda(", "ns.", "#", "é",
    ];

    fn mutated() -> impl Strategy<Value = String> {
        (expression(), 0..4usize, any::<prop::sample::Index>(), 0..TOKENS.len()).prop_map(
            |(text, how, at, token)| {
                let chars: Vec<char> = text.chars().collect();
                let i = at.index(chars.len() + 1);
                let (head, tail) = chars.split_at(i);
                let (head, tail): (String, String) = (head.iter().collect(), tail.iter().collect());
                match how {
                    0 => text,
                    1 => format!("{head}{}", tail.chars().skip(1).collect::<String>()),
                    2 => format!("{head}{}{tail}", TOKENS[token]),
                    _ => head,
                }
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn both_readers_agree(body in mutated()) {
            let (v, e) = (validator(&body), evaluator(&body));
            if v != Verdict::Uncompared && e != Verdict::Uncompared {
                prop_assert_eq!(v, e, "body: {}", body);
            }
        }
    }
}

//! Why a template expression cannot be evaluated, as data: the function, the argument, the value
//! and what is valid. `Display` writes the words the importer prints (unchanged from when the
//! evaluator returned sentences); callers that must branch match on the variants or ask the
//! query methods ([`ExprError::names_a_call`], [`SyntaxError::wants_hint`]), never the words.
//!
//! The common failures every function shares (argument count, a missing argument, an argument
//! of another type, a value that is not an integer, an unknown function, a failure inside a
//! call), the parser's syntax errors ([`SyntaxError`]), the references (parameters, variables,
//! copy loops, lambdas, user-defined functions) and the bounds are variants with their facts.
//! The failures particular to one built-in function (a CIDR out of range, a date that does not
//! parse, …) are [`FunctionError`]'s. A failure another evaluation found is relayed with its
//! facts: a parent template's parameter ([`ExprError::ParentParameter`], the relayed error
//! boxed), a declared resource's body or a nested template's outputs that `reference()` reads.
//! A value marked unknown in JSON ([`ExprError::OnlyAtDeployment`]) carries its typed
//! [`UnknownReason`] through the marker object, so whether its words begin with a call is a fact
//! of the reason ([`UnknownReason::names_a_call`]), not read off the words.

use std::fmt;

use super::budget::BudgetExceeded;
use super::function_error::FunctionError;
use super::{MAX_COPY_COUNT, MAX_DEPTH};
use crate::import::json::{DeploymentFunction, UnknownReason, Via, is_call_name, shorten};

/// What an argument of a template function must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A 64-bit integer (a string of digits too, as ARM converts).
    Integer,
    /// `true` or `false` (`'true'` and `'false'` too).
    Boolean,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
    /// A `lambda(...)`.
    Lambda,
}

impl fmt::Display for ArgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArgKind::Integer => "an integer",
            ArgKind::Boolean => "a boolean",
            ArgKind::String => "a string",
            ArgKind::Array => "an array",
            ArgKind::Object => "an object",
            ArgKind::Lambda => "a lambda",
        })
    }
}

/// Why the text of an expression is not one nsgsim can read (values as written, shortened).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyntaxError {
    /// Text left over after a whole expression.
    TrailingText {
        /// What is left (shortened).
        rest: String,
        /// Where it starts: the character's place in the JSON string, from 1 (the `[` is 1).
        at: usize,
    },
    /// A character no expression starts with.
    Unexpected {
        /// The character.
        found: char,
    },
    /// Nothing where an expression must be.
    Empty,
    /// A `.` not followed by a property name.
    PropertyNameExpected,
    /// An index not closed by `]`.
    IndexNotClosed,
    /// A string literal not closed by `'`.
    UnterminatedString,
    /// A number that is neither a 64-bit integer nor a finite decimal.
    NotANumber {
        /// The number as written (shortened).
        text: String,
    },
    /// A name not followed by `(`.
    NotACall {
        /// The name (shortened).
        name: String,
    },
    /// An argument not followed by `,` or `)`.
    SeparatorExpected {
        /// The function being called (shortened).
        function: String,
    },
    /// `lambda()` with no body.
    LambdaWithoutBody,
    /// A lambda variable named by something other than a string literal.
    LambdaVariableNotLiteral {
        /// What names it (shortened).
        found: String,
    },
    /// An expression nested deeper than [`MAX_DEPTH`] levels.
    TooDeep,
    /// An expression longer than ARM's limit.
    TooLong {
        /// Its length, in characters.
        chars: usize,
        /// ARM's limit.
        limit: usize,
    },
}

impl SyntaxError {
    /// Whether the error is one of reading the expression's form, after which the importer
    /// shows what a valid expression looks like.
    pub fn wants_hint(&self) -> bool {
        matches!(
            self,
            SyntaxError::TrailingText { .. }
                | SyntaxError::Unexpected { .. }
                | SyntaxError::PropertyNameExpected
                | SyntaxError::IndexNotClosed
                | SyntaxError::UnterminatedString
                | SyntaxError::NotACall { .. }
                | SyntaxError::SeparatorExpected { .. }
        )
    }

    /// Whether its words begin with the call it is in (`lambda(`).
    fn names_a_call(&self) -> bool {
        matches!(self, SyntaxError::LambdaWithoutBody | SyntaxError::LambdaVariableNotLiteral { .. })
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNSUPPORTED: &str = "unsupported template expression";
        match self {
            SyntaxError::TrailingText { rest, at } => {
                write!(f, "{UNSUPPORTED}: unexpected '{rest}' at character {at}")
            }
            SyntaxError::Unexpected { found } => {
                write!(f, "{UNSUPPORTED}: unexpected '{}'", shorten(&found.to_string()))
            }
            SyntaxError::Empty => f.write_str("empty template expression"),
            SyntaxError::PropertyNameExpected => {
                write!(f, "{UNSUPPORTED}: expected a property name after '.'")
            }
            SyntaxError::IndexNotClosed => write!(f, "{UNSUPPORTED}: expected ']' after an index"),
            SyntaxError::UnterminatedString => {
                f.write_str("unterminated string literal in template expression")
            }
            SyntaxError::NotANumber { text } => {
                write!(f, "'{text}' is not a number ARM computes with (integers are 64-bit)")
            }
            SyntaxError::NotACall { name } => {
                write!(f, "{UNSUPPORTED}: '{name}' is not a function call (write {name}())")
            }
            SyntaxError::SeparatorExpected { function } => {
                write!(f, "{UNSUPPORTED}: expected ',' or ')' in {function}(...)")
            }
            SyntaxError::LambdaWithoutBody => f.write_str("lambda() needs at least a body"),
            SyntaxError::LambdaVariableNotLiteral { found } => {
                write!(f, "lambda(): a lambda variable is named by a string literal, found {found}")
            }
            SyntaxError::TooDeep => {
                write!(f, "the template expression nests more than {MAX_DEPTH} levels deep")
            }
            SyntaxError::TooLong { chars, limit } => {
                write!(f, "the template expression has {chars} characters; ARM's limit is {limit}")
            }
        }
    }
}

/// Why a copy loop's `count` is not one: what it is instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyCountError {
    /// An integer outside 0..=[`MAX_COPY_COUNT`].
    OutOfRange(i64),
    /// A string (shortened).
    String(String),
    /// A resource id, of this resource type.
    ResourceId(String),
    /// Another JSON value, of this type (`an array`, …).
    Json(&'static str),
}

impl fmt::Display for CopyCountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyCountError::OutOfRange(n) => write!(
                f,
                "a copy count is {n}; valid: 0..={MAX_COPY_COUNT} (ARM's limit: \"The count can't exceed 800\")"
            ),
            CopyCountError::String(s) => write!(f, "a copy count is an integer, found the string '{s}'"),
            CopyCountError::ResourceId(kind) => {
                write!(f, "a copy count is an integer, found the resource id of {kind}")
            }
            CopyCountError::Json(kind) => write!(f, "a copy count is an integer, found {kind}"),
        }
    }
}

/// Why a variable copy loop (`"copy": [{"name": …, "count": …, "input": …}]`) makes no array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariableCopyError {
    /// It has no `count`.
    NoCount,
    /// Its count is not an integer: what it is (`the string 'x'`, …).
    NotAnInteger(String),
    /// Its count is outside 0..=[`MAX_COPY_COUNT`].
    OutOfRange(i64),
}

/// Why a template expression cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprError {
    /// A function given a number of arguments it does not take.
    Arity {
        /// The fewest it takes.
        min: usize,
        /// The most it takes.
        max: usize,
        /// How many it was given.
        given: usize,
    },
    /// An argument that is not there.
    MissingArgument {
        /// Its place, from 1.
        position: usize,
        /// What it must be.
        expected: ArgKind,
    },
    /// An argument of another JSON type than the function takes.
    WrongType {
        /// Its place, from 1.
        position: usize,
        /// What it must be.
        expected: ArgKind,
        /// The JSON type it is (`a string`, `an object`, …).
        found: &'static str,
    },
    /// A value that is not an integer where one is needed.
    NotAnInteger {
        /// The value as written: a number as it is, a string shortened.
        value: String,
        /// Whether it was a string (written in quotes).
        string: bool,
    },
    /// A function nsgsim does not evaluate and the template does not declare.
    UnsupportedFunction {
        /// The name as written (shortened).
        name: String,
    },
    /// A failure inside a call of `function`.
    InCall {
        /// The function called, as written (`concat`, `ns.fn`).
        function: String,
        /// What went wrong in it.
        cause: Box<ExprError>,
    },
    /// The expression's text cannot be read.
    Syntax {
        /// What is wrong with it.
        error: SyntaxError,
        /// Whether what a valid expression looks like follows (once, however deep the
        /// expression that failed is nested).
        hint: bool,
    },
    /// The expressions of the import built more than the budget allows.
    Budget(BudgetExceeded),
    /// Parameters with no value (placeholders) where their value is needed.
    NeedsParameter {
        /// The parameters, as declared, in order.
        names: Vec<String>,
        /// What needs the value (`a condition`, `equals()`, …).
        what: String,
    },
    /// A parameter whose value the parent template passes in (a nested deployment's or a
    /// module's `parameters`) but that cannot be known offline.
    ParentParameter {
        /// The parameter, as the parent names it.
        parameter: String,
        /// Why its value cannot be known.
        why: ParentValue,
    },
    /// A declared resource's body, which `reference()` reads, that cannot be evaluated: the
    /// import's budget is spent, or a property copy loop lacks its name, input or count (the
    /// body evaluator's message, which names no call).
    DeclaredBody {
        /// The body evaluator's message.
        message: String,
    },
    /// A nested deployment whose outputs `reference()` reads, but whose template cannot be
    /// read: no template or link, a linked file that cannot be read or is not JSON, a link only
    /// the deployment can follow (the reader's message, which names no call).
    NestedOutputs {
        /// The reader's message.
        message: String,
    },
    /// A value marked unknown in the JSON of a declared resource's body or a parameter (a
    /// public IP's address, an existing resource's properties, an expression that could not be
    /// evaluated): only known at deployment. The marker carries its reason through JSON.
    OnlyAtDeployment {
        /// Why, with its facts, as the evaluation that marked it found it.
        reason: UnknownReason,
    },
    /// `reference()` of declared resources whose bodies read each other: the chain, the first
    /// and the last the same.
    ReferenceCycle(Vec<String>),
    /// A parameter given as a Key Vault reference, whose secret only the deployment reads.
    KeyVault {
        /// The parameter, as declared.
        parameter: String,
        /// The secret's name.
        secret: String,
        /// The vault's resource id.
        vault: String,
    },
    /// A parameter with no value, no default, not nullable and not a string.
    NoParameterValue {
        /// The parameter, as declared.
        parameter: String,
    },
    /// `parameters('name')` of a parameter the template does not declare.
    UndeclaredParameter {
        /// The name as written.
        name: String,
        /// The parameters it declares, sorted.
        declared: Vec<String>,
    },
    /// `variables('name')` of a variable the template does not declare.
    UndeclaredVariable {
        /// The name as written.
        name: String,
        /// The variables it declares, sorted.
        declared: Vec<String>,
    },
    /// A variable copy loop that makes no array.
    VariableCopy {
        /// The loop's name as written.
        name: String,
        /// Why.
        error: VariableCopyError,
    },
    /// A condition that is not a boolean: what it is (`the string 'x'`, …).
    ConditionNotBoolean(String),
    /// A copy loop's count that is not one.
    CopyCount(CopyCountError),
    /// Parameters and variables that refer to themselves: the chain, the first and the last
    /// the same (`variables('a')`, `variables('b')`, `variables('a')`).
    Cycle(Vec<String>),
    /// Parameters and variables that refer to each other more than [`MAX_DEPTH`] levels deep:
    /// the chain.
    TooDeepReferences(Vec<String>),
    /// `copyIndex()` or `copyIndex('name')` where no such loop encloses the expression.
    CopyIndexOutside {
        /// The loop's name, if one is given (shortened).
        name: Option<String>,
        /// The calls valid here (`copyIndex()`, `copyIndex('x')`), innermost loop first; none
        /// if no loop encloses the expression.
        valid: Vec<String>,
    },
    /// `copyIndex()` plus its offset beyond the 64-bit integers.
    CopyIndexOverflow {
        /// The loop's index.
        index: i64,
        /// The offset.
        offset: i64,
    },
    /// `lambdaVariables('name')` where no lambda variable of that name is in scope.
    NoLambdaVariable {
        /// The name (shortened).
        name: String,
    },
    /// A lambda of more variables than the function gives it.
    LambdaArity {
        /// The variables it takes.
        takes: usize,
        /// The values the function gives.
        given: usize,
    },
    /// `ns.name()` of a user-defined function the template does not define.
    UndefinedFunction {
        /// The name as written.
        name: String,
    },
    /// A user-defined function given another number of arguments than it declares.
    UserFunctionArity {
        /// The function (`ns.name`).
        name: String,
        /// The parameters it declares.
        takes: usize,
        /// The arguments given.
        given: usize,
    },
    /// A user-defined function with no `output.value`.
    NoOutput {
        /// The function (`ns.name`).
        name: String,
    },
    /// A user-defined function that calls itself (or nests too deep).
    Recursion {
        /// The function (`ns.name`).
        name: String,
    },
    /// An index outside an array.
    IndexOutOfRange {
        /// The index as written.
        index: String,
        /// The array's length.
        len: usize,
    },
    /// A property an object does not have.
    NoProperty {
        /// The property.
        property: String,
        /// The properties it has.
        has: Vec<String>,
    },
    /// A property or index of a value that has none.
    NotIndexable {
        /// The property or index (`the string 'x'`, `a number 1`).
        index: String,
        /// What the value is (`a string`, …).
        of: &'static str,
    },
    /// A failure particular to one built-in function.
    Function(FunctionError),
}

/// Why the value a parent template passes in for a parameter cannot be known offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParentValue {
    /// An expression that builds the whole entry (as Bicep writes a conditional module
    /// parameter) gave something other than an object with `value`.
    NotAnEntry {
        /// What it gave.
        gives: serde_json::Value,
    },
    /// The value's expression failed.
    Failed(Box<ExprError>),
    /// A property copy loop that builds the value makes no `value`.
    CopyMakesNoValue,
    /// A property copy loop that builds the value cannot be evaluated (the body evaluator's
    /// message).
    CopyFailed {
        /// The body evaluator's message.
        message: String,
    },
}

impl ExprError {
    /// The failure inside a call of `function`, unless it already names the call it is in: a
    /// failure inside a call, or one whose words begin with a call (`parameters('x'): …`).
    pub fn in_call(self, function: &str) -> ExprError {
        if self.names_a_call() {
            self
        } else {
            ExprError::InCall { function: function.to_string(), cause: Box::new(self) }
        }
    }

    /// Whether its words begin with a call (`name(`), so that a caller adds no name of its own.
    pub fn names_a_call(&self) -> bool {
        match self {
            ExprError::InCall { function, .. } => is_call_name(function),
            ExprError::Syntax { error, .. } => error.names_a_call(),
            ExprError::NeedsParameter { .. }
            | ExprError::KeyVault { .. }
            | ExprError::NoParameterValue { .. }
            | ExprError::UndeclaredParameter { .. }
            | ExprError::UndeclaredVariable { .. }
            | ExprError::VariableCopy { .. }
            | ExprError::Cycle(_)
            | ExprError::CopyIndexOutside { .. }
            | ExprError::CopyIndexOverflow { .. }
            | ExprError::NoLambdaVariable { .. }
            | ExprError::ReferenceCycle(_) => true,
            ExprError::UserFunctionArity { name, .. }
            | ExprError::NoOutput { name }
            | ExprError::Recursion { name } => is_call_name(name),
            ExprError::Function(e) => e.names_a_call(),
            // `parameters('NAME'), passed in by the parent …`.
            ExprError::ParentParameter { .. } => true,
            // A reason another evaluation found, carried through JSON with its facts.
            ExprError::OnlyAtDeployment { reason } => reason.names_a_call(),
            ExprError::Arity { .. }
            | ExprError::MissingArgument { .. }
            | ExprError::WrongType { .. }
            | ExprError::NotAnInteger { .. }
            | ExprError::UnsupportedFunction { .. }
            | ExprError::Budget(_)
            | ExprError::ConditionNotBoolean(_)
            | ExprError::CopyCount(_)
            | ExprError::TooDeepReferences(_)
            | ExprError::LambdaArity { .. }
            | ExprError::UndefinedFunction { .. }
            | ExprError::IndexOutOfRange { .. }
            | ExprError::NoProperty { .. }
            | ExprError::NotIndexable { .. }
            | ExprError::DeclaredBody { .. }
            | ExprError::NestedOutputs { .. } => false,
        }
    }

    /// Why a value this error leaves unknown is unknown, with the facts wherever the reason has
    /// a shape for them: a parameter given no value, a function only the deployment can call, a
    /// value read from another unknown value (the reason it carries), and any of these reached
    /// through calls or a parent's parameter ([`UnknownReason::Through`]). Any other failure is
    /// an [`UnknownReason::Expression`] with its words and whether they name a call. The words
    /// are this error's, byte for byte.
    pub fn unknown_reason(self) -> UnknownReason {
        match self {
            ExprError::OnlyAtDeployment { reason } => reason,
            ExprError::NeedsParameter { names, what } => {
                UnknownReason::ParameterNeeded { parameters: names, what }
            }
            ExprError::NoParameterValue { parameter } => UnknownReason::NoParameterValue { parameter },
            ExprError::KeyVault { parameter, secret, vault } => {
                UnknownReason::KeyVault { parameter, secret, vault }
            }
            ExprError::Function(FunctionError::Providers) => {
                UnknownReason::DeploymentFunction(DeploymentFunction::Providers)
            }
            ExprError::Function(FunctionError::NotInTemplate { list, target }) => {
                UnknownReason::DeploymentFunction(DeploymentFunction::NotInTemplate { list, target })
            }
            ExprError::InCall { function, cause } => match cause.as_ref().clone().unknown_reason() {
                UnknownReason::Expression { .. } => ExprError::InCall { function, cause }.expression_reason(),
                reason => reason.through(Via::Call(function)),
            },
            ExprError::ParentParameter { parameter, why: ParentValue::Failed(cause) } => {
                match cause.as_ref().clone().unknown_reason() {
                    UnknownReason::Expression { .. } => {
                        ExprError::ParentParameter { parameter, why: ParentValue::Failed(cause) }
                            .expression_reason()
                    }
                    reason => reason.through(Via::ParentParameter(parameter)),
                }
            }
            other => other.expression_reason(),
        }
    }

    /// The error as an [`UnknownReason::Expression`]: its words and whether they name a call.
    fn expression_reason(self) -> UnknownReason {
        UnknownReason::Expression { names_a_call: self.names_a_call(), message: self.to_string() }
    }

    /// The same error followed by what a valid expression looks like, if it is a syntax error
    /// that wants one and has none yet.
    pub fn with_syntax_hint(self) -> ExprError {
        match self {
            ExprError::Syntax { error, hint: false } if error.wants_hint() => {
                ExprError::Syntax { error, hint: true }
            }
            other => other,
        }
    }
}

/// `a, b, c`, or `none`, shortened.
fn listed(names: &[String]) -> String {
    shorten(&if names.is_empty() { "none".to_string() } else { names.join(", ") })
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprError::Arity { min, max, given } if min == max => {
                write!(f, "takes {min} argument(s), given {given}")
            }
            ExprError::Arity { min, max, given } => {
                write!(f, "takes {min} to {max} arguments, given {given}")
            }
            ExprError::MissingArgument { position, expected } => {
                write!(f, "argument {position} ({expected}) is missing")
            }
            ExprError::WrongType { position, expected, found } => {
                write!(f, "argument {position} must be {expected}, found {found}")
            }
            ExprError::NotAnInteger { value, string: true } => write!(f, "'{value}' is not an integer"),
            ExprError::NotAnInteger { value, string: false } => write!(f, "{value} is not an integer"),
            ExprError::UnsupportedFunction { name } => write!(
                f,
                "unsupported template function '{name}()'; valid: a template function nsgsim evaluates (docs/engineers.md lists them) or a user-defined function the template declares"
            ),
            ExprError::InCall { function, cause } => write!(f, "{function}(): {cause}"),
            ExprError::Syntax { error, hint } => {
                write!(f, "{error}")?;
                if *hint {
                    f.write_str("; valid: an expression as ARM writes it, such as [concat(parameters('name'), '-nsg')]: function calls with their arguments in parentheses, 'single-quoted' strings, numbers, .property and [index]")?;
                }
                Ok(())
            }
            ExprError::Budget(e) => write!(f, "{e}"),
            // The words of a reason a value is unknown are the reason's own.
            ExprError::NeedsParameter { names, what } => {
                let reason = UnknownReason::ParameterNeeded { parameters: names.clone(), what: what.clone() };
                write!(f, "{reason}")
            }
            ExprError::ParentParameter { parameter, why } => {
                write!(f, "parameters('{parameter}'), passed in by the parent")?;
                match why {
                    ParentValue::NotAnEntry { gives } => write!(
                        f,
                        " as an expression that gives {}, not an object with 'value'",
                        shorten(&gives.to_string())
                    ),
                    ParentValue::Failed(e) => write!(f, ": {e}"),
                    ParentValue::CopyMakesNoValue => f.write_str(": its copy loop does not make 'value'"),
                    ParentValue::CopyFailed { message } => write!(f, ": {message}"),
                }
            }
            ExprError::DeclaredBody { message } | ExprError::NestedOutputs { message } => {
                f.write_str(message)
            }
            ExprError::OnlyAtDeployment { reason } => write!(f, "{reason}"),
            ExprError::ReferenceCycle(chain) => {
                write!(f, "reference() runs in a cycle: {}", chain.join(" -> "))
            }
            ExprError::KeyVault { parameter, secret, vault } => {
                let reason = UnknownReason::KeyVault {
                    parameter: parameter.clone(),
                    secret: secret.clone(),
                    vault: vault.clone(),
                };
                write!(f, "{reason}")
            }
            ExprError::NoParameterValue { parameter } => {
                write!(f, "{}", UnknownReason::NoParameterValue { parameter: parameter.clone() })
            }
            ExprError::UndeclaredParameter { name, declared } => write!(
                f,
                "parameters('{name}'): the template declares no parameter '{name}' (declared: {})",
                listed(declared)
            ),
            ExprError::UndeclaredVariable { name, declared } => write!(
                f,
                "variables('{name}'): the template declares no variable '{name}' (declared: {})",
                listed(declared)
            ),
            ExprError::VariableCopy { name, error } => match error {
                VariableCopyError::NoCount => write!(f, "variables('{name}'): the copy loop has no count"),
                VariableCopyError::NotAnInteger(found) => {
                    write!(f, "variables('{name}'): a copy count is an integer, not {found}")
                }
                VariableCopyError::OutOfRange(count) => {
                    write!(f, "variables('{name}'): a copy count is {count}; valid: 0..={MAX_COPY_COUNT}")
                }
            },
            ExprError::ConditionNotBoolean(found) => {
                write!(f, "a condition must be a boolean, found {found}")
            }
            ExprError::CopyCount(e) => write!(f, "{e}"),
            ExprError::Cycle(chain) => write!(
                f,
                "{} refers to itself: {}; valid: a value that does not depend on itself (break the cycle at one of these)",
                chain.last().map_or("", String::as_str),
                chain.join(" -> ")
            ),
            ExprError::TooDeepReferences(chain) => write!(
                f,
                "parameters and variables refer to each other more than {MAX_DEPTH} levels deep ({})",
                chain.join(" -> ")
            ),
            ExprError::CopyIndexOutside { name, valid } => {
                match name {
                    Some(n) => write!(f, "copyIndex('{n}') is used outside a copy loop named '{n}'; ")?,
                    None => f.write_str("copyIndex() is used outside a resource copy loop; ")?,
                }
                if valid.is_empty() {
                    f.write_str(
                        "valid only inside a copy loop (a resource's `copy`, or a `copy` entry of properties, \
                         variables or outputs), and no copy loop encloses this expression",
                    )
                } else {
                    write!(f, "valid here: {}", valid.join(", "))
                }
            }
            ExprError::CopyIndexOverflow { index, offset } => write!(
                f,
                "copyIndex(): {index} + {offset} is beyond the 64-bit integers ARM computes with; valid: {}..={}",
                i64::MIN,
                i64::MAX
            ),
            ExprError::NoLambdaVariable { name } => {
                write!(f, "lambdaVariables('{name}'): no lambda variable of that name is in scope")
            }
            ExprError::LambdaArity { takes, given } => {
                write!(f, "the lambda takes {takes} variable(s), the function gives {given}")
            }
            ExprError::UndefinedFunction { name } => write!(
                f,
                "unsupported template function '{name}()': the template defines no such user-defined function; valid: a function declared in the template's functions section"
            ),
            ExprError::UserFunctionArity { name, takes, given } => {
                write!(f, "{name}() takes {takes} argument(s), given {given}")
            }
            ExprError::NoOutput { name } => write!(f, "{name}(): the function has no output value"),
            ExprError::Recursion { name } => write!(f, "{name}() calls itself"),
            ExprError::IndexOutOfRange { index, len } => {
                write!(f, "index {index} is out of range for an array of {len} item(s); valid: ")?;
                match len {
                    0 => f.write_str("none, the array is empty"),
                    len => write!(f, "0..={}", len - 1),
                }
            }
            ExprError::NoProperty { property, has } => write!(
                f,
                "the object has no property '{}' (it has: {})",
                shorten(property),
                shorten(&has.join(", "))
            ),
            ExprError::NotIndexable { index, of } => write!(
                f,
                "cannot take {index} of {of}; valid: a property of an object or an index of an array"
            ),
            ExprError::Function(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ExprError {}

impl From<SyntaxError> for ExprError {
    fn from(error: SyntaxError) -> ExprError {
        ExprError::Syntax { error, hint: false }
    }
}

impl From<BudgetExceeded> for ExprError {
    fn from(e: BudgetExceeded) -> ExprError {
        ExprError::Budget(e)
    }
}

impl From<FunctionError> for ExprError {
    fn from(e: FunctionError) -> ExprError {
        ExprError::Function(e)
    }
}

impl From<CopyCountError> for ExprError {
    fn from(e: CopyCountError) -> ExprError {
        ExprError::CopyCount(e)
    }
}

impl From<ExprError> for String {
    fn from(e: ExprError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_display_as_the_importer_prints_them() {
        assert_eq!(ExprError::Arity { min: 2, max: 2, given: 1 }.to_string(), "takes 2 argument(s), given 1");
        assert_eq!(
            ExprError::Arity { min: 1, max: 3, given: 0 }.to_string(),
            "takes 1 to 3 arguments, given 0"
        );
        let missing = ExprError::MissingArgument { position: 2, expected: ArgKind::Integer };
        assert_eq!(missing.to_string(), "argument 2 (an integer) is missing");
        let lambda = ExprError::MissingArgument { position: 2, expected: ArgKind::Lambda };
        assert_eq!(lambda.to_string(), "argument 2 (a lambda) is missing");
        let wrong = ExprError::WrongType { position: 1, expected: ArgKind::Array, found: "a string" };
        assert_eq!(wrong.to_string(), "argument 1 must be an array, found a string");
        assert_eq!(
            ExprError::NotAnInteger { value: "x".into(), string: true }.to_string(),
            "'x' is not an integer"
        );
        assert_eq!(
            ExprError::NotAnInteger { value: "1.5".into(), string: false }.to_string(),
            "1.5 is not an integer"
        );
        let cycle =
            ExprError::Cycle(vec!["variables('a')".into(), "variables('b')".into(), "variables('a')".into()]);
        assert_eq!(
            cycle.to_string(),
            "variables('a') refers to itself: variables('a') -> variables('b') -> variables('a'); valid: a value that does not depend on itself (break the cycle at one of these)"
        );
        let outside = ExprError::CopyIndexOutside { name: None, valid: vec![] };
        assert!(outside.to_string().ends_with("and no copy loop encloses this expression"), "{outside}");
        let inside =
            ExprError::CopyIndexOutside { name: Some("x".into()), valid: vec!["copyIndex()".into()] };
        assert_eq!(
            inside.to_string(),
            "copyIndex('x') is used outside a copy loop named 'x'; valid here: copyIndex()"
        );
        assert_eq!(
            ExprError::IndexOutOfRange { index: "5".into(), len: 0 }.to_string(),
            "index 5 is out of range for an array of 0 item(s); valid: none, the array is empty"
        );
        assert_eq!(
            ExprError::IndexOutOfRange { index: "5".into(), len: 2 }.to_string(),
            "index 5 is out of range for an array of 2 item(s); valid: 0..=1"
        );
    }

    #[test]
    fn a_syntax_error_gets_its_hint_once_and_only_if_it_is_about_the_form() {
        let bad: ExprError = SyntaxError::IndexNotClosed.into();
        assert_eq!(bad.to_string(), "unsupported template expression: expected ']' after an index");
        let hinted = bad.with_syntax_hint();
        assert!(matches!(hinted, ExprError::Syntax { error: SyntaxError::IndexNotClosed, hint: true }));
        assert_eq!(hinted.clone().with_syntax_hint(), hinted);
        assert!(hinted.to_string().contains("; valid: an expression as ARM writes it"), "{hinted}");
        // A bound, not a form: no hint.
        let deep = ExprError::from(SyntaxError::TooDeep).with_syntax_hint();
        assert!(matches!(deep, ExprError::Syntax { hint: false, .. }));
        assert_eq!(
            deep.to_string(),
            format!("the template expression nests more than {MAX_DEPTH} levels deep")
        );
        // A failure inside a call is not the expression's form.
        let inside = ExprError::from(SyntaxError::UnterminatedString).in_call("map").with_syntax_hint();
        assert!(matches!(inside, ExprError::InCall { .. }));
    }

    #[test]
    fn a_call_is_named_once() {
        let inner = ExprError::Arity { min: 1, max: 1, given: 0 }.in_call("length");
        assert!(matches!(&inner, ExprError::InCall { function, .. } if function == "length"));
        // The outer call keeps the inner call's name rather than adding its own.
        let outer = inner.clone().in_call("concat");
        assert_eq!(outer, inner);
        assert_eq!(outer.to_string(), "length(): takes 1 argument(s), given 0");
        // An error whose words begin with its call stands as it is; another is named.
        let named = ExprError::NoParameterValue { parameter: "x".into() }.in_call("concat");
        assert!(matches!(named, ExprError::NoParameterValue { .. }));
        let function = ExprError::from(FunctionError::DivideByZero { function: "div".into(), dividend: 1 });
        assert_eq!(function.clone().in_call("div"), function);
        let unnamed = ExprError::from(CopyCountError::OutOfRange(900)).in_call("concat");
        assert!(matches!(&unnamed, ExprError::InCall { function, cause }
            if function == "concat" && **cause == ExprError::CopyCount(CopyCountError::OutOfRange(900))));
        // A user-defined function's name is a call's name only if it reads as one.
        assert!(ExprError::NoOutput { name: "ns.f".into() }.names_a_call());
        assert!(!ExprError::NoOutput { name: "my_ns.f".into() }.names_a_call());
        // A parent's parameter names its call, whatever the failure it relays.
        let failed = ExprError::Arity { min: 1, max: 1, given: 0 };
        let parent =
            ExprError::ParentParameter { parameter: "x".into(), why: ParentValue::Failed(Box::new(failed)) };
        assert_eq!(parent.clone().in_call("concat"), parent);
        assert_eq!(
            parent.to_string(),
            "parameters('x'), passed in by the parent: takes 1 argument(s), given 0"
        );
        let entry = ExprError::ParentParameter {
            parameter: "y".into(),
            why: ParentValue::NotAnEntry { gives: serde_json::json!(3) },
        };
        assert_eq!(
            entry.to_string(),
            "parameters('y'), passed in by the parent as an expression that gives 3, not an object with 'value'"
        );
        // A body's or a nested template's failure names none: the call that read it is named.
        let body = ExprError::DeclaredBody { message: "a copy loop needs a count".into() };
        assert!(
            matches!(body.in_call("reference"), ExprError::InCall { function, .. } if function == "reference")
        );
        // A value marked unknown in JSON: its reason says whether it names a call.
        let named =
            UnknownReason::Expression { message: "parameters('x'): no value".into(), names_a_call: true };
        assert!(ExprError::OnlyAtDeployment { reason: named }.names_a_call());
        let existing = UnknownReason::ExistingProperties { resource: "x".into() };
        assert!(!ExprError::OnlyAtDeployment { reason: existing }.names_a_call());
        // An unknown function is named by the call that failed, as before.
        let unknown = ExprError::UnsupportedFunction { name: "foo".into() }.in_call("foo");
        assert!(unknown.to_string().starts_with("foo(): unsupported template function 'foo()'"));
    }
}

#[cfg(test)]
mod unknown_reason_tests {
    use super::*;

    /// Errors of every shape the reason distinguishes, and some it keeps as words.
    fn errors() -> Vec<ExprError> {
        let allocated = UnknownReason::AllocatedAddress { public_ip: "pip".into() };
        let at_deployment = ExprError::OnlyAtDeployment { reason: allocated };
        let not_in_template = FunctionError::NotInTemplate { list: true, target: "kv".into() };
        vec![
            ExprError::NeedsParameter { names: vec!["a".into()], what: "a condition".into() },
            ExprError::NoParameterValue { parameter: "n".into() },
            ExprError::KeyVault { parameter: "pw".into(), secret: "s".into(), vault: "/kv".into() },
            ExprError::Function(FunctionError::Providers),
            ExprError::Function(not_in_template.clone()),
            at_deployment.clone(),
            ExprError::InCall { function: "concat".into(), cause: Box::new(at_deployment.clone()) },
            ExprError::InCall { function: "listKeys".into(), cause: Box::new(not_in_template.into()) },
            ExprError::ParentParameter {
                parameter: "ip".into(),
                why: ParentValue::Failed(Box::new(ExprError::InCall {
                    function: "string".into(),
                    cause: Box::new(at_deployment),
                })),
            },
            ExprError::InCall {
                function: "concat".into(),
                cause: Box::new(ExprError::Arity { min: 1, max: 1, given: 0 }),
            },
            ExprError::UnsupportedFunction { name: "nope".into() },
        ]
    }

    #[test]
    fn a_reason_has_the_words_and_the_call_of_its_error() {
        for e in errors() {
            let reason = e.clone().unknown_reason();
            assert_eq!(reason.to_string(), e.to_string(), "{e:?}");
            assert_eq!(reason.names_a_call(), e.names_a_call(), "{e:?}");
            assert_eq!(UnknownReason::from_json(&reason.to_json()), Some(reason.clone()), "{e:?}");
        }
    }

    #[test]
    fn a_reason_has_the_shape_of_its_error() {
        let shapes: Vec<UnknownReason> = errors().into_iter().map(ExprError::unknown_reason).collect();
        assert!(
            matches!(&shapes[0], UnknownReason::ParameterNeeded { parameters, .. } if parameters == &["a"])
        );
        assert!(matches!(&shapes[1], UnknownReason::NoParameterValue { parameter } if parameter == "n"));
        assert!(matches!(&shapes[2], UnknownReason::KeyVault { parameter, .. } if parameter == "pw"));
        assert_eq!(shapes[3], UnknownReason::DeploymentFunction(DeploymentFunction::Providers));
        assert!(matches!(&shapes[5], UnknownReason::AllocatedAddress { public_ip } if public_ip == "pip"));
        let UnknownReason::Through { via, reason } = &shapes[6] else { panic!("{:?}", shapes[6]) };
        assert_eq!((via.as_slice(), &**reason), ([Via::Call("concat".into())].as_slice(), &shapes[5]));
        let UnknownReason::Through { via, reason } = &shapes[7] else { panic!("{:?}", shapes[7]) };
        assert_eq!(via, &[Via::Call("listKeys".into())]);
        assert_eq!(**reason, shapes[4]);
        let UnknownReason::Through { via, .. } = &shapes[8] else { panic!("{:?}", shapes[8]) };
        assert_eq!(via, &[Via::ParentParameter("ip".into()), Via::Call("string".into())]);
        // A failure with no better shape keeps its words, whatever call it is in.
        assert!(matches!(&shapes[9], UnknownReason::Expression { names_a_call: true, .. }));
        assert!(matches!(&shapes[10], UnknownReason::Expression { names_a_call: false, .. }));
    }
}

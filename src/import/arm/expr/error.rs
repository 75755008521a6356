//! Why a template expression cannot be evaluated, as data: the function, the argument, the value
//! and what is valid. `Display` writes the words the importer prints (unchanged from when the
//! evaluator returned sentences); callers that must branch match on the variants.
//!
//! The common failures every function shares (argument count, a missing argument, an argument
//! of another type, a value that is not an integer, an unknown function, a failure inside a
//! call) are variants with their facts. The other failures are still sentences
//! ([`ExprError::Message`]), written where they are found; they become variants as they are
//! needed.

use std::fmt;

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
}

impl fmt::Display for ArgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArgKind::Integer => "an integer",
            ArgKind::Boolean => "a boolean",
            ArgKind::String => "a string",
            ArgKind::Array => "an array",
            ArgKind::Object => "an object",
        })
    }
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
    /// Any other failure, in the words of the place that found it.
    Message(String),
}

impl ExprError {
    /// The failure inside a call of `function`, unless it already names the call it is in: a
    /// failure inside a call, or a sentence that begins with one (`parameters('x'): …`).
    pub fn in_call(self, function: &str) -> ExprError {
        if self.names_a_call() {
            self
        } else {
            ExprError::InCall { function: function.to_string(), cause: Box::new(self) }
        }
    }

    /// Whether its words begin with a call (`name(`), so that a caller adds no name of its own.
    fn names_a_call(&self) -> bool {
        let call_name =
            |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
        match self {
            ExprError::InCall { function, .. } => call_name(function),
            // A sentence not yet a variant: the words its place wrote are all there is.
            ExprError::Message(text) => text.find('(').is_some_and(|i| call_name(&text[..i])),
            _ => false,
        }
    }
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
            ExprError::Message(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for ExprError {}

impl From<String> for ExprError {
    fn from(text: String) -> ExprError {
        ExprError::Message(text)
    }
}

impl From<&str> for ExprError {
    fn from(text: &str) -> ExprError {
        ExprError::Message(text.to_string())
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
    }

    #[test]
    fn a_call_is_named_once() {
        let inner = ExprError::Arity { min: 1, max: 1, given: 0 }.in_call("length");
        assert!(matches!(&inner, ExprError::InCall { function, .. } if function == "length"));
        // The outer call keeps the inner call's name rather than adding its own.
        let outer = inner.clone().in_call("concat");
        assert_eq!(outer, inner);
        assert_eq!(outer.to_string(), "length(): takes 1 argument(s), given 0");
        // A sentence that begins with its call stands as it is; another is named.
        let named = ExprError::from("parameters('x'): no value".to_string()).in_call("concat");
        assert_eq!(named.to_string(), "parameters('x'): no value");
        let unnamed = ExprError::from("a copy count is 0-800".to_string()).in_call("concat");
        assert_eq!(unnamed.to_string(), "concat(): a copy count is 0-800");
        // An unknown function is named by the call that failed, as before.
        let unknown = ExprError::UnsupportedFunction { name: "foo".into() }.in_call("foo");
        assert!(unknown.to_string().starts_with("foo(): unsupported template function 'foo()'"));
    }
}

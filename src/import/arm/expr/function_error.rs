//! Why one built-in template function cannot give a value, as data: the failures particular to
//! a function or a family of them (the failures every function shares are [`ExprError`]'s own
//! variants). `Display` writes the words the importer prints; [`FunctionError::names_a_call`]
//! says whether they begin with the call, so that the caller adds no name of its own.

use std::fmt;

#[cfg(doc)]
use super::ExprError;
use crate::import::json::DeploymentFunction;

/// A text that does not read as what a function needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// An address range in CIDR notation (`cidrSubnet`, `cidrHost`, `parseCidr`).
    Cidr,
    /// A number (`float`).
    Number,
    /// An ISO 8601 duration (`dateTimeAdd`).
    Duration,
    /// A date and time (`dateTimeAdd`, `dateTimeToEpoch`).
    DateTime,
    /// A .NET date format nsgsim evaluates.
    DateFormat,
    /// A .NET numeric format nsgsim evaluates (`format`).
    NumericFormat,
    /// Base64 (`base64ToString`, `base64ToJson`).
    Base64,
    /// Bytes that decode to UTF-8 text.
    Utf8,
    /// A data URI (`dataUriToString`).
    DataUri,
    /// Percent-escapes of two hex digits (`uriComponentToString`).
    PercentEscapes,
    /// An alignment of a `format` placeholder (`{0,8}`).
    Alignment,
}

/// What a function takes, when it was given something else (a fixed description).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// `createObject`: key, value pairs.
    KeyValuePairs,
    /// `union`, `intersection`: arrays or objects.
    ArraysOrObjects,
    /// `tryGet`: a value and at least one key or index.
    ValueAndKeys,
    /// `and`, `or`: at least 2 booleans.
    TwoBooleans,
    /// `uniqueString`, `guid`: at least 1 string.
    OneString,
    /// `min`, `max`: at least one integer.
    OneInteger,
    /// `reference`, `list*`: the resource's name, symbolic name or id.
    ResourceTarget,
    /// `resourceId` and the other id functions: fewer arguments before the resource type.
    TooManyBeforeType,
    /// `resourceId` and the other id functions: a resource type.
    ResourceType,
    /// `extensionResourceId`: a base resource id, a type and at least one name.
    ExtensionId,
    /// `copyIndex`: an optional loop name and an optional offset.
    CopyIndex,
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Usage::KeyValuePairs => "takes key, value pairs",
            Usage::ArraysOrObjects => "takes arrays or objects",
            Usage::ValueAndKeys => "takes a value and at least one key or index",
            Usage::TwoBooleans => "takes at least 2 booleans",
            Usage::OneString => "takes at least 1 string",
            Usage::OneInteger => "needs at least one integer",
            Usage::ResourceTarget => "takes the resource's name, symbolic name or id",
            Usage::TooManyBeforeType => "too many arguments before the resource type",
            Usage::ResourceType => "needs a resource type such as 'Microsoft.Network/networkSecurityGroups'",
            Usage::ExtensionId => "takes a base resource id, a type and at least one name",
            Usage::CopyIndex => "copyIndex() takes an optional loop name and an optional offset",
        })
    }
}

/// Why a built-in function cannot give a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FunctionError {
    /// A text that is not what the function reads.
    Unreadable {
        /// The text (shortened).
        text: String,
        /// What it must be.
        expected: TextKind,
    },
    /// A text that is not JSON (`json`, `base64ToJson`).
    NotJson {
        /// The text (shortened).
        text: String,
        /// The parser's reason.
        reason: String,
    },
    /// Arguments other than the function takes.
    Usage(Usage),
    /// A result beyond the 64-bit integers.
    Overflow {
        /// The function that computed it (`add`), if one did.
        function: Option<String>,
        /// Its operands (`1, 2`), or the number.
        operands: String,
    },
    /// `div(x, 0)` or `mod(x, 0)`.
    DivideByZero {
        /// `div` or `mod`.
        function: String,
        /// The dividend.
        dividend: i64,
    },
    /// A function of a value of a type it does not take (`length() of a number`).
    OfType {
        /// The function, as Microsoft writes it.
        function: String,
        /// The type given (`a number`).
        found: &'static str,
        /// What it takes.
        valid: &'static str,
    },
    /// An array function given an array with an item of another type (`flatten`,
    /// `shallowMerge`).
    ItemOfType {
        /// The function, as Microsoft writes it.
        function: &'static str,
        /// What every item must be (`arrays`, `objects`).
        items: &'static str,
        /// The type of the item that is not.
        found: &'static str,
    },
    /// Arguments that must all be of one kind, one of which is not (`concat`, `union`).
    MixedArguments {
        /// What the call is (`concat() of arrays`).
        call: &'static str,
        /// The argument's place, from 1.
        position: usize,
        /// Its type.
        found: &'static str,
        /// What is valid.
        valid: &'static str,
    },
    /// An object key that is not a string: what it is.
    KeyNotString(String),
    /// `range()`'s count outside 0..=10000.
    RangeCount {
        /// The count.
        count: i64,
        /// ARM's limit.
        max: i64,
    },
    /// `range(start, count)` beyond the 32-bit integers.
    RangeBeyond {
        /// The start.
        start: i64,
        /// The count.
        count: i64,
    },
    /// A lambda that gives something other than a boolean: its type.
    LambdaNotBoolean(&'static str),
    /// An argument that must be a lambda and is not.
    NotALambda {
        /// Its place, from 1.
        position: usize,
        /// What it is.
        found: String,
    },
    /// `groupBy` found a group that is not an array.
    GroupNotArray,
    /// `dateTimeAdd` beyond the dates.
    DateAddOutOfRange {
        /// The duration (shortened).
        duration: String,
        /// The instant.
        base: String,
        /// Why.
        reason: String,
    },
    /// `dateTimeFromEpoch` beyond the dates.
    EpochOutOfRange {
        /// The seconds.
        seconds: i64,
        /// Why.
        reason: String,
    },
    /// `utcNow()` or `newGuid()` outside a parameter's default value.
    OnlyInParameterDefault {
        /// `utcNow` or `newGuid`.
        function: &'static str,
    },
    /// `cidrSubnet`'s new prefix length outside the network's.
    CidrPrefix {
        /// The network's prefix length.
        min: u8,
        /// The address family's length.
        max: u8,
        /// The length asked for.
        found: i64,
    },
    /// `cidrSubnet`'s index beyond the subnets.
    SubnetIndex {
        /// The last index.
        last: u128,
        /// The index asked for.
        found: i64,
    },
    /// `cidrHost` given a negative index.
    NegativeHostIndex,
    /// `cidrHost` given an index too large to add.
    HostIndexTooLarge,
    /// `cidrHost` beyond the network's usable hosts.
    NoUsableHost {
        /// The network.
        network: String,
        /// The index asked for.
        index: u128,
    },
    /// An address beyond IPv4.
    BeyondIpv4,
    /// `min`/`max` given a value that is not an integer (shortened).
    NotIntegers(String),
    /// A value that is not a finite number.
    NotFinite(String),
    /// Two numbers that do not compare.
    Incomparable,
    /// A comparison of values of two types.
    CompareTypes {
        /// The first's type.
        left: &'static str,
        /// The second's type.
        right: &'static str,
    },
    /// `replace` of an empty string.
    EmptyReplace,
    /// `substring` given a negative start.
    NegativeStart,
    /// `substring` given a negative length.
    NegativeLength,
    /// `substring` beyond the string.
    SubstringBeyond {
        /// The start.
        start: usize,
        /// The length.
        len: usize,
        /// The string's length, in characters.
        chars: usize,
    },
    /// `padLeft`'s total length outside 0..=16384.
    PadLength(i64),
    /// `padLeft`'s padding not one character (shortened).
    PadCharacter(String),
    /// A `format` placeholder with no closing brace: what follows the `{` (shortened).
    UnclosedPlaceholder(String),
    /// A `}` alone in a format string.
    LoneBrace,
    /// A `format` placeholder that is not one.
    NotAPlaceholder {
        /// What is between the braces (shortened).
        spec: String,
        /// The arguments after the format string.
        args: usize,
    },
    /// A `format` placeholder of an argument that is not there.
    NoArgument {
        /// The placeholder's index.
        index: usize,
        /// The arguments after the format string.
        args: usize,
    },
    /// A numeric format that takes an integer given another number.
    FormatNeedsInteger {
        /// `D` or `X`.
        format: char,
        /// The number.
        found: String,
    },
    /// `resourceInfo('name')` of no declared resource (shortened).
    NoSymbolicName(String),
    /// `pickZones` asked for more zones than a region has.
    Zones {
        /// The count asked for.
        count: i64,
        /// The offset.
        offset: i64,
    },
    /// `providers()`, which reads Azure's registry.
    Providers,
    /// A resource type given another number of names than its segments.
    ResourceNames {
        /// The type (shortened).
        kind: String,
        /// The names it needs.
        segments: usize,
        /// The names given.
        given: usize,
    },
    /// `reference()` or `list*()` of a resource that is not in the template.
    NotInTemplate {
        /// Whether it was a `list*()`.
        list: bool,
        /// The resource as named (shortened).
        target: String,
    },
}

impl FunctionError {
    /// Whether its words begin with the call (`length() of …`), so that a caller adds no name
    /// of its own.
    pub fn names_a_call(&self) -> bool {
        match self {
            FunctionError::Usage(u) => *u == Usage::CopyIndex,
            FunctionError::Overflow { function, .. } => function.is_some(),
            FunctionError::DivideByZero { .. }
            | FunctionError::OfType { .. }
            | FunctionError::ItemOfType { .. }
            | FunctionError::MixedArguments { .. }
            | FunctionError::RangeBeyond { .. }
            | FunctionError::OnlyInParameterDefault { .. }
            | FunctionError::NoSymbolicName(_)
            | FunctionError::Providers
            | FunctionError::NotInTemplate { list: false, .. } => true,
            _ => false,
        }
    }
}

/// What placeholders a format string with `args` arguments may hold.
fn valid_placeholders(args: usize) -> String {
    let forms = "{N}, {N,width} or {N:format}";
    match args {
        0 => format!("{forms}, but format() was given no argument after the format string"),
        1 => format!("{forms} with N = 0 (one argument after the format string)"),
        n => format!("{forms} with N from 0 to {} ({n} arguments after the format string)", n - 1),
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FunctionError::Unreadable { text, expected } => match expected {
                TextKind::Cidr => write!(f, "'{text}' is not an address range in CIDR notation"),
                TextKind::Number => write!(f, "'{text}' is not a number"),
                TextKind::Duration => write!(f, "'{text}' is not an ISO 8601 duration such as PT1H or -P9D"),
                TextKind::DateTime => {
                    write!(f, "'{text}' is not a date and time such as 2020-04-07T14:53:14Z")
                }
                TextKind::DateFormat => {
                    write!(
                        f,
                        "'{text}' is not a date format nsgsim evaluates (u, s, o, d, or a custom pattern)"
                    )
                }
                TextKind::NumericFormat => write!(
                    f,
                    "'{text}' is not a numeric format nsgsim evaluates (D, X, N, F, E, G, P, or a pattern of 0 # , .)"
                ),
                TextKind::Base64 => write!(f, "'{text}' is not base64"),
                TextKind::Utf8 => write!(f, "'{text}' does not decode to UTF-8 text"),
                TextKind::DataUri => write!(f, "'{text}' is not a data URI (data:[type];base64,DATA)"),
                TextKind::PercentEscapes => write!(f, "'{text}' has a '%' not followed by two hex digits"),
                TextKind::Alignment => {
                    write!(
                        f,
                        "'{text}' is not an alignment; valid: an integer width, e.g. {{0,8}} or {{0,-8}}"
                    )
                }
            },
            FunctionError::NotJson { text, reason } => {
                write!(f, "'{text}' is not JSON: {reason}; valid: a JSON text (RFC 8259)")
            }
            FunctionError::Usage(u) => write!(f, "{u}"),
            FunctionError::Overflow { function, operands } => {
                match function {
                    Some(function) => write!(f, "{function}({operands})")?,
                    None => f.write_str(operands)?,
                }
                write!(
                    f,
                    " is beyond the 64-bit integers ARM computes with; valid: {}..={}",
                    i64::MIN,
                    i64::MAX
                )
            }
            FunctionError::DivideByZero { function, dividend } => {
                write!(f, "{function}({dividend}, 0) divides by zero")
            }
            FunctionError::OfType { function, found, valid } => {
                write!(f, "{function}() of {found}; valid: {valid}")
            }
            FunctionError::ItemOfType { function, items, found } => write!(
                f,
                "{function}() takes an array of {items}, found {found} in it; valid: an array whose items are all {items}"
            ),
            FunctionError::MixedArguments { call, position, found, valid } => {
                write!(f, "{call}: argument {position} is {found}; valid: {valid}")
            }
            FunctionError::KeyNotString(found) => write!(f, "a key must be a string, found {found}"),
            FunctionError::RangeCount { count, max } => write!(f, "the count is {count}; valid: 0 to {max}"),
            FunctionError::RangeBeyond { start, count } => write!(
                f,
                "range({start}, {count}) goes beyond 2147483647: \"The sum of startIndex and count must be no greater than 2147483647\""
            ),
            FunctionError::LambdaNotBoolean(found) => {
                write!(f, "the lambda gives {found}; valid: a lambda that gives a boolean")
            }
            FunctionError::NotALambda { position, found } => {
                write!(f, "argument {position} must be a lambda(...), found {found}")
            }
            FunctionError::GroupNotArray => f.write_str("a group is not an array"),
            FunctionError::DateAddOutOfRange { duration, base, reason } => {
                write!(f, "adding {duration} to {base} is out of range: {reason}")
            }
            FunctionError::EpochOutOfRange { seconds, reason } => {
                write!(f, "{seconds} seconds is out of range: {reason}")
            }
            FunctionError::OnlyInParameterDefault { function } => write!(
                f,
                "{function}() can only be used in the default value of a parameter (ARM refuses it elsewhere)"
            ),
            FunctionError::CidrPrefix { min, max, found } => {
                write!(f, "the new CIDR is {min}-{max}, found {found}")
            }
            FunctionError::SubnetIndex { last, found } => {
                write!(f, "the subnet index is 0-{last}, found {found}")
            }
            FunctionError::NegativeHostIndex => f.write_str("a negative host index"),
            FunctionError::HostIndexTooLarge => f.write_str("the host index is too large"),
            FunctionError::NoUsableHost { network, index } => {
                write!(f, "{network} has no usable host at index {index}")
            }
            FunctionError::BeyondIpv4 => f.write_str("beyond the IPv4 addresses"),
            FunctionError::NotIntegers(found) => write!(f, "takes integers, found {found}"),
            FunctionError::NotFinite(value) => write!(f, "{value} is not a finite number"),
            FunctionError::Incomparable => f.write_str("the numbers do not compare"),
            FunctionError::CompareTypes { left, right } => write!(
                f,
                "compares two numbers or two strings, found {left} and {right}; valid: two numbers or two strings"
            ),
            FunctionError::EmptyReplace => f.write_str("the string to replace is empty"),
            FunctionError::NegativeStart => f.write_str("a negative start index"),
            FunctionError::NegativeLength => f.write_str("a negative length"),
            FunctionError::SubstringBeyond { start, len, chars } => {
                write!(f, "{start}+{len} is beyond the string's {chars} characters")
            }
            FunctionError::PadLength(total) => write!(f, "the total length is 0-16384, found {total}"),
            FunctionError::PadCharacter(pad) => write!(f, "the padding is one character, found '{pad}'"),
            FunctionError::UnclosedPlaceholder(spec) => write!(
                f,
                "'{{{spec}' has no closing brace; valid: a placeholder closed by '}}' ({{0}}), or '{{{{' for a brace"
            ),
            FunctionError::LoneBrace => {
                f.write_str("a lone '}'; valid: '}}' for a brace, or a placeholder such as {0}")
            }
            FunctionError::NotAPlaceholder { spec, args } => {
                write!(f, "'{{{spec}}}' is not a placeholder; valid: {}", valid_placeholders(*args))
            }
            FunctionError::NoArgument { index, args } => {
                write!(f, "'{{{index}}}' has no argument; valid: {}", valid_placeholders(*args))
            }
            FunctionError::FormatNeedsInteger { format, found } => {
                write!(f, "format '{format}' takes an integer, found {found}")
            }
            FunctionError::NoSymbolicName(name) => {
                write!(f, "resourceInfo('{name}'): the template declares no resource of that symbolic name")
            }
            FunctionError::Zones { count, offset } => {
                write!(f, "a region has at most 3 zones; asked for {count} from offset {offset}")
            }
            // The words of a function only the deployment can call are the unknown reason's own.
            FunctionError::Providers => write!(f, "{}", DeploymentFunction::Providers),
            FunctionError::ResourceNames { kind, segments, given } => {
                write!(f, "'{kind}' needs {segments} name(s), got {given}")
            }
            FunctionError::NotInTemplate { list, target } => {
                write!(f, "{}", DeploymentFunction::NotInTemplate { list: *list, target: target.clone() })
            }
        }
    }
}

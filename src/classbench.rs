//! Reading ClassBench filter sets and header traces, the standard benchmark of packet
//! classifiers, into [`MatchRule`]s and [`Flow`]s.
//!
//! Two dialects of filter set exist and both are read: the original generator's (tab-separated,
//! with a TCP-flags column) and Haoyu Song's (space-separated, no flags). A rule line is
//!
//! ```text
//! @<src a.b.c.d>/<len>  <dst a.b.c.d>/<len>  <lo> : <hi>  <lo> : <hi>  0x<proto>/0x<mask>  [ignored…]
//! ```
//!
//! Line order is priority order (the first line is rule 0). Host bits set beyond a prefix length
//! are cleared, as every ClassBench reader does. The protocol matches every value `p` with
//! `p & mask == proto & mask` (in practice the mask is `0xFF` or `0x00`).
//!
//! A trace line is `src dst sport dport proto [more…] match`, decimal, host order; the last column
//! is the first matching rule, counted from 0 in the traces shipped with nsgsim
//! (`tests/data/classbench/`, whose generator notes say so) and from 1 in Haoyu Song's traces
//! (`ehzuf/HyperSplit`): [`MatchBase`] says which. Ports are kept for every protocol (unlike
//! [`Flow::new`]), because ClassBench rules and traces carry ports on non-TCP/UDP protocols too.
//!
//! Every error names the file, the line, the column, the field, the bad value and what would be
//! valid. Parsing does no I/O; [`load_rules`] and [`load_trace`] read the file first.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use crate::matcher::{MatchBox, MatchRule};
use crate::net::{AddrSet, Flow, IpProtocol, PortRange, PortSet, ProtocolSet};

/// Why a ClassBench file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{}:{}: {error}", path.display(), error.position)]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Where, and which bytes.
        error: crate::text::NotUtf8,
    },
    /// A line is malformed.
    #[error("{}:{position}: invalid {field} '{value}': {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where the bad field starts (the column counts characters).
        position: crate::position::Position,
        /// The field, e.g. `source prefix`.
        field: &'static str,
        /// The text found (empty when the line ended early).
        value: String,
        /// What is wrong and what would be valid.
        reason: String,
    },
}

/// How a trace numbers the expected rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MatchBase {
    /// Rule 0 is the first line (the traces shipped in `tests/data/classbench/`).
    #[default]
    Zero,
    /// Rule 1 is the first line (Song / HyperSplit traces).
    One,
}

impl MatchBase {
    fn offset(self) -> usize {
        match self {
            MatchBase::Zero => 0,
            MatchBase::One => 1,
        }
    }
}

/// One header of a trace: the flow and the rule it is expected to match first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The packet.
    pub flow: Flow,
    /// The expected first matching rule, 0-based whatever the file's [`MatchBase`].
    pub expected: usize,
    /// 1-based line number in the trace file.
    pub line: usize,
}

/// Reads and parses the filter set at `path`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Parse`] for the first malformed line.
pub fn load_rules(path: &Path) -> Result<Vec<MatchRule>, Error> {
    let text = read(path)?;
    parse_rules(path, &text)
}

/// Reads and parses the trace at `path`; expectations, numbered from `base`, must name one of
/// `rule_count` rules.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Parse`] for the first malformed line.
pub fn load_trace(path: &Path, rule_count: usize, base: MatchBase) -> Result<Vec<TraceEntry>, Error> {
    let text = read(path)?;
    parse_trace(path, &text, rule_count, base)
}

fn read(path: &Path) -> Result<String, Error> {
    crate::text::read_file(path).map_err(|e| match e {
        crate::text::ReadError::Io(source) => Error::Io { path: path.to_path_buf(), source },
        crate::text::ReadError::NotUtf8(error) => Error::NotUtf8 { path: path.to_path_buf(), error },
    })
}

/// A whitespace-separated token and its 1-based column.
#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    text: &'a str,
    column: usize,
}

/// Cursor over the tokens of one line, producing located errors.
struct Line<'a> {
    path: &'a Path,
    number: usize,
    /// Column just past the end of the line, for "line ends early" errors.
    end: usize,
    tokens: Vec<Token<'a>>,
    next: usize,
}

impl<'a> Line<'a> {
    /// Splits `text` at whitespace; with `split_colons`, a `:` is a token of its own.
    fn new(path: &'a Path, number: usize, text: &'a str, split_colons: bool) -> Line<'a> {
        let mut tokens = Vec::new();
        let mut start: Option<usize> = None;
        let mut column_of = Vec::with_capacity(text.len() + 1);
        let mut column = 1;
        for _ in text.char_indices() {
            column_of.push(column);
            column += 1;
        }
        column_of.push(column);
        // Work on byte offsets, report character columns.
        let col = |byte: usize| column_of[text[..byte].chars().count()];
        for (i, ch) in text.char_indices() {
            let separator = ch.is_whitespace() || (split_colons && ch == ':');
            if separator {
                if let Some(s) = start.take() {
                    tokens.push(Token { text: &text[s..i], column: col(s) });
                }
                if ch == ':' {
                    tokens.push(Token { text: &text[i..i + 1], column: col(i) });
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            tokens.push(Token { text: &text[s..], column: col(s) });
        }
        Line { path, number, end: column, tokens, next: 0 }
    }

    fn error(&self, at: Option<Token<'_>>, field: &'static str, reason: impl Into<String>) -> Error {
        Error::Parse {
            path: self.path.to_path_buf(),
            position: crate::position::Position::new(self.number, at.map_or(self.end, |t| t.column)),
            field,
            value: at.map_or(String::new(), |t| t.text.to_string()),
            reason: reason.into(),
        }
    }

    /// The next token, or an error saying the line ended before `field`.
    fn take(&mut self, field: &'static str, what: &str) -> Result<Token<'a>, Error> {
        let token = self.tokens.get(self.next).copied();
        self.next += 1;
        token.ok_or_else(|| self.error(None, field, format!("the line ends early; expected {what}")))
    }
}

/// Parses a filter set. `path` is only used in error messages.
///
/// # Errors
/// [`Error::Parse`] for the first malformed line.
pub fn parse_rules(path: &Path, text: &str) -> Result<Vec<MatchRule>, Error> {
    let mut rules = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let mut line = Line::new(path, i + 1, raw, true);
        rules.push(parse_rule(&mut line)?);
    }
    Ok(rules)
}

fn parse_rule(line: &mut Line<'_>) -> Result<MatchRule, Error> {
    let src_token = line.take("source prefix", "a prefix like @10.0.0.0/8")?;
    let src_text = src_token.text.strip_prefix('@').unwrap_or(src_token.text);
    let src = parse_prefix(line, Token { text: src_text, column: src_token.column }, "source prefix")?;
    let dst_token = line.take("destination prefix", "a prefix like 10.0.0.0/8")?;
    let dst = parse_prefix(line, dst_token, "destination prefix")?;
    let src_ports = parse_port_range(line, "source port range")?;
    let dst_ports = parse_port_range(line, "destination port range")?;
    let proto_token = line.take("protocol", "a value/mask like 0x06/0xFF")?;
    let protocols = parse_protocol(line, proto_token)?;
    // Flags and extension columns, if any, are ignored like every ClassBench reader does.
    Ok(MatchRule::from_box(MatchBox {
        protocols,
        src: AddrSet::from_ranges(vec![src], Vec::new()),
        src_ports: PortSet::from_ranges([src_ports]),
        dst: AddrSet::from_ranges(vec![dst], Vec::new()),
        dst_ports: PortSet::from_ranges([dst_ports]),
    }))
}

/// `a.b.c.d/len` → the inclusive range of the prefix (host bits cleared).
fn parse_prefix(line: &Line<'_>, token: Token<'_>, field: &'static str) -> Result<(u32, u32), Error> {
    const VALID: &str = "expected a.b.c.d/len with a prefix length 0-32";
    let (addr, len) = token.text.split_once('/').ok_or_else(|| line.error(Some(token), field, VALID))?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| line.error(Some(token), field, VALID))?;
    let len: u32 = match len.parse() {
        Ok(len) if len <= 32 => len,
        _ => return Err(line.error(Some(token), field, VALID)),
    };
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    let lo = u32::from(addr) & mask;
    Ok((lo, lo | !mask))
}

/// `lo : hi` (the colon may touch either number).
fn parse_port_range(line: &mut Line<'_>, field: &'static str) -> Result<PortRange, Error> {
    let what = "a range like 0 : 65535";
    let lo_token = line.take(field, what)?;
    let lo = parse_port(line, lo_token, field)?;
    let colon = line.take(field, what)?;
    if colon.text != ":" {
        return Err(line.error(Some(colon), field, format!("expected ':' between the ends of {what}")));
    }
    let hi_token = line.take(field, what)?;
    let hi = parse_port(line, hi_token, field)?;
    PortRange::new(lo, hi).map_err(|_| {
        line.error(Some(lo_token), field, format!("the start {lo} is above the end {hi}; expected lo <= hi"))
    })
}

fn parse_port(line: &Line<'_>, token: Token<'_>, field: &'static str) -> Result<u16, Error> {
    if !token.text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(line.error(Some(token), field, "expected a decimal port 0-65535"));
    }
    token.text.parse().map_err(|_| line.error(Some(token), field, "expected a decimal port 0-65535"))
}

/// `0xPP/0xMM` → every protocol `p` with `p & mask == value & mask`.
fn parse_protocol(line: &Line<'_>, token: Token<'_>) -> Result<ProtocolSet, Error> {
    const VALID: &str = "expected value/mask in hex, each 0x00-0xFF, like 0x06/0xFF or 0x00/0x00";
    let hex = |s: &str| -> Option<u8> {
        let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
        u8::from_str_radix(digits, 16).ok()
    };
    let (value, mask) =
        token.text.split_once('/').ok_or_else(|| line.error(Some(token), "protocol", VALID))?;
    let (Some(value), Some(mask)) = (hex(value), hex(mask)) else {
        return Err(line.error(Some(token), "protocol", VALID));
    };
    let mut set = ProtocolSet::EMPTY;
    for p in 0..=255u8 {
        if p & mask == value & mask {
            set.insert(IpProtocol(p));
        }
    }
    Ok(set)
}

/// Parses a trace whose expectations, numbered from `base`, name one of `rule_count` rules.
/// `path` is only used in error messages.
///
/// # Errors
/// [`Error::Parse`] for the first malformed line, including an expectation outside the rules.
pub fn parse_trace(
    path: &Path,
    text: &str,
    rule_count: usize,
    base: MatchBase,
) -> Result<Vec<TraceEntry>, Error> {
    let first = base.offset();
    let valid = match rule_count {
        0 => "a rule number, but the filter set is empty".to_string(),
        n => format!("the {first}-based number of the first matching rule, {first}-{}", n - 1 + first),
    };
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let mut line = Line::new(path, i + 1, raw, false);
        let src = number::<u32>(&mut line, "source address", "a decimal IPv4 address 0-4294967295")?;
        let dst = number::<u32>(&mut line, "destination address", "a decimal IPv4 address 0-4294967295")?;
        let src_port = number::<u16>(&mut line, "source port", "a decimal port 0-65535")?;
        let dst_port = number::<u16>(&mut line, "destination port", "a decimal port 0-65535")?;
        let protocol = number::<u8>(&mut line, "protocol", "a decimal protocol number 0-255")?;
        if line.tokens.len() <= line.next {
            return Err(line.error(None, "expected match", format!("the line ends early; expected {valid}")));
        }
        let last = line.tokens[line.tokens.len() - 1];
        let expected = match last.text.parse::<usize>() {
            Ok(n) if n >= first && n - first < rule_count => n - first,
            _ => return Err(line.error(Some(last), "expected match", format!("expected {valid}"))),
        };
        let flow = Flow {
            protocol: IpProtocol(protocol),
            src: IpAddr::V4(Ipv4Addr::from(src)),
            src_port,
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            dst_port,
        };
        out.push(TraceEntry { flow, expected, line: i + 1 });
    }
    Ok(out)
}

fn number<T: std::str::FromStr>(line: &mut Line<'_>, field: &'static str, valid: &str) -> Result<T, Error> {
    let token = line.take(field, valid)?;
    if !token.text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(line.error(Some(token), field, format!("expected {valid}")));
    }
    token.text.parse().map_err(|_| line.error(Some(token), field, format!("expected {valid}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> &'static Path {
        Path::new("set.rules")
    }

    #[test]
    fn parses_both_dialects() {
        let text = "@186.11.101.36/32\t20.69.109.43/32\t0 : 65535\t1521 : 1521\t0x06/0xFF\t0x1000/0x1000\t\n\
                    @10.1.2.3/8 0.0.0.0/0 0:65535 0 :1023 0x00/0x00\n\n";
        let rules = parse_rules(path(), text).expect("valid");
        assert_eq!(rules.len(), 2);
        let b = &rules[0].boxes[0];
        assert_eq!(b.src.to_string(), "186.11.101.36/32");
        assert_eq!(b.dst_ports.to_string(), "1521");
        assert_eq!(b.protocols.to_string(), "Tcp");
        let b = &rules[1].boxes[0];
        assert_eq!(b.src.to_string(), "10.0.0.0/8", "host bits are cleared");
        assert!(b.protocols.is_all());
        assert_eq!(b.dst_ports.to_string(), "0-1023");
        assert!(b.src_ports.is_any());
    }

    #[test]
    fn rule_errors_are_located() {
        let text = "@1.2.3.4/32 5.6.7.8/32 0 : 65535 80 : 80 0x06/0xFF\n@1.2.3.4/33 5.6.7.8/32 0 : 1 2 : 3 0x06/0xFF\n";
        let err = parse_rules(path(), text).expect_err("bad length").to_string();
        assert_eq!(
            err,
            "set.rules:2:1: invalid source prefix '1.2.3.4/33': expected a.b.c.d/len with a prefix length 0-32"
        );
        let err =
            parse_rules(path(), "@1.2.3.4/32 5.6.7.8/32 0 : 65536 80 : 80 0x06/0xFF").expect_err("port");
        assert!(err.to_string().starts_with("set.rules:1:28: invalid source port range '65536'"), "{err}");
        let err = parse_rules(path(), "@1.2.3.4/32 5.6.7.8/32 9 : 8 80 : 80 0x06/0xFF").expect_err("order");
        assert!(err.to_string().contains("the start 9 is above the end 8"), "{err}");
        let err = parse_rules(path(), "@1.2.3.4/32 5.6.7.8/32 0 : 1 80 : 80").expect_err("short");
        assert!(err.to_string().contains("protocol '': the line ends early"), "{err}");
        let err = parse_rules(path(), "@1.2.3.4/32 5.6.7.8/32 0 : 1 80 : 80 6/0xFF").expect_err("hex");
        assert!(err.to_string().contains("invalid protocol '6/0xFF'"), "{err}");
    }

    #[test]
    fn parses_traces_and_checks_expectations() {
        let text = "3992788484\t151908630\t0\t1711\t6\t2\n16909060 0 1 2 0 0 1\n";
        let trace = parse_trace(Path::new("t"), text, 2, MatchBase::One).expect("valid");
        assert_eq!(trace[0].expected, 1);
        assert_eq!(trace[0].flow.src.to_string(), "237.253.30.4");
        assert_eq!(trace[0].flow.dst_port, 1711);
        assert_eq!(trace[1].flow.src.to_string(), "1.2.3.4");
        assert_eq!(trace[1].flow.src_port, 1, "ports are kept for protocol 0");
        assert_eq!(trace[1].expected, 0);
        let err = parse_trace(Path::new("t"), "1 2 3 4 6 3\n", 2, MatchBase::One).expect_err("beyond");
        assert_eq!(
            err.to_string(),
            "t:1:11: invalid expected match '3': expected the 1-based number of the first matching rule, 1-2"
        );
        let zero =
            parse_trace(Path::new("t"), "1 2 3 4 6 0\n1 2 3 4 6 1\n", 2, MatchBase::Zero).expect("valid");
        assert_eq!((zero[0].expected, zero[1].expected), (0, 1));
        let err = parse_trace(Path::new("t"), "1 2 3 4 6 2\n", 2, MatchBase::Zero).expect_err("beyond");
        assert!(
            err.to_string().ends_with("expected the 0-based number of the first matching rule, 0-1"),
            "{err}"
        );
        let err = parse_trace(Path::new("t"), "1 2 3 70000 6 1\n", 2, MatchBase::One).expect_err("port");
        assert!(err.to_string().starts_with("t:1:7: invalid destination port '70000'"), "{err}");
        let err = parse_trace(Path::new("t"), "1 2 3 4 6\n", 2, MatchBase::One).expect_err("short");
        assert!(err.to_string().contains("the line ends early"), "{err}");
    }
}

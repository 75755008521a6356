//! The CSV format for hand-made replays.
//!
//! ```text
//! src,dst,src_port,dst_port,protocol,expected,at
//! 198.18.0.1,10.0.1.4,50000,443,tcp,allow,0
//! 203.0.113.10,10.0.1.4,50001,22,tcp,deny,
//! 10.0.1.5,10.0.1.4,0,0,icmp,,
//! ```
//!
//! The first line that is not blank or a `#` comment is the header. It names the columns, in any
//! order: `src`, `dst`, `src_port`, `dst_port` and `protocol` are required, `expected` (`allow`
//! or `deny`) and `at` (an offset of the timeline, `90m`, `PT1H`) are optional, and an empty cell
//! in them means "not given". Protocols are `tcp`, `udp`, `icmp` or a protocol number; ports may
//! be empty for protocols without ports. Fields are not quoted; spaces around them are ignored.

use std::net::IpAddr;
use std::path::Path;

use super::{BadInput, BadKind, Chunk, FlowLogError, Origin, RawChunk, Tuple};
use crate::net::{Flow, IpProtocol};
use crate::nsg::Access;
use crate::position::Position;
use crate::time::Duration;

/// The header, for messages.
pub(super) const HEADER: &str = "src,dst,src_port,dst_port,protocol[,expected][,at]";

/// A column of the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Src,
    Dst,
    SrcPort,
    DstPort,
    Protocol,
    Expected,
    At,
}

const COLUMNS: [(&str, Column); 7] = [
    ("src", Column::Src),
    ("dst", Column::Dst),
    ("src_port", Column::SrcPort),
    ("dst_port", Column::DstPort),
    ("protocol", Column::Protocol),
    ("expected", Column::Expected),
    ("at", Column::At),
];

/// One field of a line: its text and 1-based column.
struct Cell<'a> {
    text: &'a str,
    column: usize,
}

/// Splits a line on commas, trimming each field and noting where it starts.
fn cells(line: &str) -> Vec<Cell<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for part in line.split(',') {
        let lead = part.len() - part.trim_start().len();
        out.push(Cell { text: part.trim(), column: line[..start + lead].chars().count() + 1 });
        start += part.len() + 1;
    }
    out
}

/// The columns of a CSV input, in the order its header names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    columns: Vec<Column>,
    /// The header line as written, for messages.
    text: String,
}

impl Header {
    /// Parses the header line `text`, line `line` of `path`.
    pub(super) fn parse(path: &Path, line: usize, text: &str) -> Result<Header, FlowLogError> {
        let error = |column: usize, message: String| FlowLogError::At {
            file: path.to_path_buf(),
            position: Position::new(line, column),
            message,
        };
        let mut columns: Vec<Column> = Vec::new();
        for cell in cells(text) {
            let Some(&(_, column)) = COLUMNS.iter().find(|(name, _)| name.eq_ignore_ascii_case(cell.text))
            else {
                let hint = if line == 1 && columns.is_empty() {
                    "; the file is neither Azure flow-log JSON nor CSV with a header"
                } else {
                    ""
                };
                return Err(error(
                    cell.column,
                    format!("header: unknown column '{}'; valid: {HEADER}{hint}", cell.text),
                ));
            };
            if columns.contains(&column) {
                return Err(error(
                    cell.column,
                    format!("header: column '{}' appears twice; valid: each column named once", cell.text),
                ));
            }
            columns.push(column);
        }
        for (name, column) in &COLUMNS[..5] {
            if !columns.contains(column) {
                return Err(error(1, format!("header: the column '{name}' is missing; valid: {HEADER}")));
            }
        }
        Ok(Header { columns, text: text.trim().to_string() })
    }
}

/// Parses the lines of a chunk; the first is line `first_line`. An `at` past `latest_at` is
/// refused like any bad cell.
pub(super) fn parse(
    raw: &RawChunk,
    (first_line, header): (usize, &Header),
    path: &Path,
    (skip_bad, latest_at): (bool, Option<Duration>),
    chunk: &mut Chunk,
) -> Result<(), FlowLogError> {
    let text = match std::str::from_utf8(&raw.bytes) {
        Ok(text) => text,
        Err(e) => {
            let p = raw.position(e.valid_up_to());
            let error = FlowLogError::At {
                file: path.to_path_buf(),
                position: p,
                message: crate::text::not_utf8_message(&raw.bytes, e),
            };
            if !skip_bad {
                return Err(error);
            }
            let ordinal = chunk.ordinal(0);
            chunk.bad.push(BadInput { ordinal, error, what: BadKind::RestOfInput });
            return Ok(());
        }
    };
    for (i, line) in text.split_terminator('\n').enumerate() {
        let number = first_line + i;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        match row(path, header, number, line, latest_at) {
            Ok(tuple) => chunk.tuples.push(tuple),
            Err(error) => {
                if !skip_bad {
                    return Err(error);
                }
                let ordinal = chunk.ordinal(chunk.tuples.len());
                chunk.bad.push(BadInput { ordinal, error, what: BadKind::Tuple });
            }
        }
    }
    Ok(())
}

/// One data line.
fn row(
    path: &Path,
    header: &Header,
    number: usize,
    line: &str,
    latest_at: Option<Duration>,
) -> Result<Tuple, FlowLogError> {
    let error = |column: usize, message: String| FlowLogError::At {
        file: path.to_path_buf(),
        position: Position::new(number, column),
        message,
    };
    let columns = &header.columns;
    let cells = cells(line);
    if cells.len() != columns.len() {
        return Err(error(
            1,
            format!("{} fields; the header has {}: {}", cells.len(), columns.len(), header.text),
        ));
    }
    let cell = |c: Column| -> &Cell<'_> {
        let index = columns.iter().position(|x| *x == c).unwrap_or(0);
        &cells[index]
    };
    let bad = |c: Column, what: &str, valid: &str| {
        let cell = cell(c);
        error(cell.column, format!("{what} '{}': valid: {valid}", cell.text))
    };
    let address = |c: Column, what: &str| -> Result<IpAddr, FlowLogError> {
        cell(c).text.parse().map_err(|_| bad(c, what, "an IPv4 or IPv6 address"))
    };
    let src = address(Column::Src, "src")?;
    let dst = address(Column::Dst, "dst")?;
    let protocol_text = cell(Column::Protocol).text;
    let protocol = match IpProtocol::parse(protocol_text) {
        Some(p) if !protocol_text.is_empty() => p,
        _ => return Err(bad(Column::Protocol, "protocol", "tcp, udp, icmp or a protocol number 0-255")),
    };
    let port = |c: Column, what: &str| -> Result<u16, FlowLogError> {
        let text = cell(c).text;
        if text.is_empty() && !protocol.has_ports() {
            return Ok(0);
        }
        text.parse().map_err(|_| bad(c, what, "a port 0-65535"))
    };
    let src_port = port(Column::SrcPort, "src_port")?;
    let dst_port = port(Column::DstPort, "dst_port")?;
    let expected = if columns.contains(&Column::Expected) {
        match cell(Column::Expected).text.to_ascii_lowercase().as_str() {
            "" => None,
            "allow" => Some(Access::Allow),
            "deny" => Some(Access::Deny),
            _ => return Err(bad(Column::Expected, "expected", "allow, deny, or empty")),
        }
    } else {
        None
    };
    let at = if columns.contains(&Column::At) && !cell(Column::At).text.is_empty() {
        let c = cell(Column::At);
        // The message shows the value already (cut and escaped), and says what is valid.
        let at = Duration::parse(c.text).map_err(|m| error(c.column, format!("at: {m}")))?;
        if let Some(latest) = latest_at.filter(|&latest| at > latest) {
            return Err(error(
                c.column,
                format!(
                    "at: offset {at} after the scenario's start is past {}, the last instant nsgsim can represent; valid: an offset up to {latest}",
                    crate::time::Instant::MAX
                ),
            ));
        }
        Some(at)
    } else {
        None
    };
    Ok(Tuple {
        flow: Flow::new(protocol, src, src_port, dst, dst_port),
        time: None,
        at,
        expected,
        logged: None,
        origin: Origin::Csv { line: number as u32 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::read::{Input, InputFormat};

    fn parse_str(text: &str) -> Result<Input, FlowLogError> {
        super::super::parse(Path::new("flows.csv"), text)
    }

    fn error(text: &str) -> String {
        parse_str(text).expect_err("the input is malformed").to_string()
    }

    #[test]
    fn rows_give_flows_with_optional_expectations_and_offsets() {
        let text = "# a replay\nsrc,dst,src_port,dst_port,protocol,expected,at\n\
                    198.18.0.1, 10.0.1.4 ,50000,443,tcp,allow,10m\n\
                    \n\
                    10.0.1.5,10.0.1.4,,,icmp,,\n\
                    10.0.1.5,10.0.1.4,1,53,17,DENY,PT1H\n";
        let input = parse_str(text).expect("valid CSV");
        assert_eq!(input.format, InputFormat::Csv);
        assert_eq!(input.records.len(), 3);
        let first = &input.records[0];
        assert_eq!(first.origin, "flows.csv:3");
        assert_eq!(
            first.flow.to_string(),
            Flow::new(
                IpProtocol::TCP,
                "198.18.0.1".parse().expect("ip"),
                50000,
                "10.0.1.4".parse().expect("ip"),
                443
            )
            .to_string()
        );
        assert_eq!(first.expected, Some(Access::Allow));
        assert_eq!(first.at, Some(Duration::from_secs(600)));
        assert!(first.logged.is_none());
        let ping = &input.records[1];
        assert_eq!((ping.flow.protocol, ping.flow.src_port, ping.flow.dst_port), (IpProtocol::ICMP, 0, 0));
        assert_eq!((ping.expected, ping.at), (None, None));
        assert_eq!(input.records[2].flow.protocol, IpProtocol::UDP);
        assert_eq!(input.records[2].expected, Some(Access::Deny));
        assert_eq!(input.records[2].at, Some(Duration::from_secs(3600)));
    }

    #[test]
    fn columns_may_come_in_any_order_and_the_optional_ones_may_be_left_out() {
        let input = parse_str("protocol,dst_port,src_port,dst,src\r\nudp,53,40000,10.0.0.4,10.0.0.5\r\n")
            .expect("valid");
        let f = input.records[0].flow;
        assert_eq!((f.protocol, f.src_port, f.dst_port), (IpProtocol::UDP, 40000, 53));
        assert_eq!((f.src.to_string(), f.dst.to_string()), ("10.0.0.5".into(), "10.0.0.4".into()));
    }

    #[test]
    fn bad_values_are_reported_with_line_column_value_and_what_is_valid() {
        let head = "src,dst,src_port,dst_port,protocol,expected,at\n";
        assert_eq!(
            error(&format!("{head}10.0.0.1,10.0.0.2,1,2,tcp,allow,\n10.0.0.1,10.0.0.300,1,2,tcp,,\n")),
            "flows.csv:3:10: dst '10.0.0.300': valid: an IPv4 or IPv6 address"
        );
        assert_eq!(
            error(&format!("{head}10.0.0.1,10.0.0.2,1,99999,tcp,,\n")),
            "flows.csv:2:21: dst_port '99999': valid: a port 0-65535"
        );
        assert_eq!(
            error(&format!("{head}10.0.0.1,10.0.0.2,1,2,sctp,,\n")),
            "flows.csv:2:23: protocol 'sctp': valid: tcp, udp, icmp or a protocol number 0-255"
        );
        assert_eq!(
            error(&format!("{head}10.0.0.1,10.0.0.2,,2,tcp,,\n")),
            "flows.csv:2:19: src_port '': valid: a port 0-65535"
        );
        assert_eq!(
            error(&format!("{head}10.0.0.1,10.0.0.2,1,2,tcp,maybe,\n")),
            "flows.csv:2:27: expected 'maybe': valid: allow, deny, or empty"
        );
        assert!(
            error(&format!("{head}10.0.0.1,10.0.0.2,1,2,tcp,,soon\n"))
                .starts_with("flows.csv:2:28: at: 'soon' is not a duration")
        );
        assert_eq!(
            error(&format!("{head}10.0.0.1,10.0.0.2,1,2,tcp\n")),
            "flows.csv:2:1: 5 fields; the header has 7: src,dst,src_port,dst_port,protocol,expected,at"
        );
    }

    #[test]
    fn the_header_is_checked() {
        assert_eq!(
            error("source,dst\n"),
            "flows.csv:1:1: header: unknown column 'source'; valid: src,dst,src_port,dst_port,protocol[,expected][,at]; the file is neither Azure flow-log JSON nor CSV with a header"
        );
        assert_eq!(
            error("src,dst,src_port,dst_port\n"),
            "flows.csv:1:1: header: the column 'protocol' is missing; valid: src,dst,src_port,dst_port,protocol[,expected][,at]"
        );
        assert_eq!(
            error("src,dst,src,dst_port,protocol\n"),
            "flows.csv:1:9: header: column 'src' appears twice; valid: each column named once"
        );
        assert_eq!(
            error("# only a comment\n"),
            "flows.csv:1:1: no header line; valid: src,dst,src_port,dst_port,protocol[,expected][,at]"
        );
    }
}

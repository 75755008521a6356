//! One flow tuple of an Azure flow log: `time,src,dst,sport,dport,protocol,direction,...`
//! (see `azure` for the formats), read into its fields.
//!
//! Why three readers of one small format: a replay reads millions of tuples and the generic
//! reader (split the fields, trim, `str::parse`) was the largest single cost. Tuples as Network
//! Watcher writes them (no spaces, dotted quads, plain digits) are read in one pass over their
//! bytes, straight from the JSON text ([`parse_tuple_raw`]: no unescaped copy, no field
//! splitting) or from the unescaped string ([`parse_tuple_fast`]); anything else, and every
//! error, goes to [`parse_tuple_fields`], which says which field is wrong, the value and what
//! is valid. The fast readers answer only where the field reader gives the same answer
//! (property tests hold them equal).

use std::net::IpAddr;

use super::{FlowState, unix_instant};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, Direction};

/// Times above this are milliseconds (virtual network flow logs).
const MILLISECONDS_FROM: i64 = 100_000_000_000;

/// Which flow log a tuple comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// An NSG flow log of this version (1 or 2).
    Nsg { version: u8 },
    /// A virtual network flow log.
    Vnet,
}

/// Why a tuple could not be read; shown as "which field, the value, what is valid".
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum TupleError {
    /// The tuple has `count` fields, not the number its kind has.
    FieldCount { count: usize, kind: Kind },
    /// Field `index` (0-based) holds `value`, which is not valid there.
    Field { index: usize, kind: Kind, value: String, valid: &'static str },
}

impl std::fmt::Display for TupleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TupleError::FieldCount { count, kind } => {
                let what = match kind {
                    Kind::Nsg { version: 1 } => {
                        "a version 1 NSG flow tuple has 8 fields (time,src,dst,sport,dport,T|U,I|O,A|D)"
                    }
                    Kind::Nsg { .. } => {
                        "a version 2 NSG flow tuple has 13 fields (time,src,dst,sport,dport,T|U,I|O,A|D,B|C|E, then 4 counts that may be empty)"
                    }
                    Kind::Vnet => {
                        "a virtual network flow tuple has 13 fields (time,src,dst,sport,dport,protocol number,I|O,B|C|E|D,encryption, then 4 counts)"
                    }
                };
                write!(f, "{count} fields; {what}")
            }
            TupleError::Field { index, kind, value, valid } => {
                write!(f, "field {} ({}) '{value}': valid: {valid}", index + 1, field_name(*index, *kind))
            }
        }
    }
}

/// The names of tuple fields, for messages (1-based positions).
fn field_name(index: usize, kind: Kind) -> &'static str {
    match (index, kind) {
        (0, _) => "time",
        (1, _) => "source IP",
        (2, _) => "destination IP",
        (3, _) => "source port",
        (4, _) => "destination port",
        (5, _) => "protocol",
        (6, _) => "direction",
        (7, Kind::Nsg { .. }) => "decision",
        (7, Kind::Vnet) => "flow state",
        (8, Kind::Nsg { .. }) => "flow state",
        (8, Kind::Vnet) => "encryption",
        _ => "count",
    }
}

/// `text` without surrounding whitespace (Azure writes none, so this is one test per field).
fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] if !first.is_ascii_whitespace() && !last.is_ascii_whitespace() => text,
        [one] if !one.is_ascii_whitespace() => text,
        _ => text.trim(),
    }
}

/// A dotted-quad IPv4 address read a byte at a time, as std reads one: at most three digits
/// and 255 an octet, no leading zero (`01`), four octets. The one accumulator behind both
/// readers of addresses ([`address`] on a field, [`Bytes::ipv4`] in the JSON text); it was two
/// copies of the same loop (issue 20, third round).
#[derive(Clone, Copy, Debug, Default)]
struct Quad {
    octets: [u8; 4],
    /// Octets done.
    n: usize,
    /// The octet being read and its digits so far.
    value: u32,
    digits: u32,
}

/// What one byte did to a [`Quad`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fed {
    /// A digit or a dot, taken.
    Taken,
    /// A byte that is not part of a dotted quad (the end of the field, or another syntax).
    Other,
    /// A digit or a dot that makes the text no address at all (an octet over 255, a leading
    /// zero): std refuses it too.
    Refused,
}

impl Quad {
    /// Feeds one byte.
    #[inline(always)]
    fn feed(&mut self, b: u8) -> Fed {
        match b {
            b'0'..=b'9' if self.digits < 3 => {
                if self.digits == 1 && self.value == 0 {
                    return Fed::Refused;
                }
                self.value = self.value * 10 + u32::from(b - b'0');
                self.digits += 1;
                Fed::Taken
            }
            b'.' if self.digits > 0 && self.n < 3 => {
                let Ok(octet) = u8::try_from(self.value) else { return Fed::Refused };
                self.octets[self.n] = octet;
                self.n += 1;
                self.value = 0;
                self.digits = 0;
                Fed::Taken
            }
            _ => Fed::Other,
        }
    }

    /// The address, if the bytes fed were a whole dotted quad: `Err(())` for four octets with
    /// the last one over 255 (no address), `Ok(None)` for anything short of four octets.
    #[inline(always)]
    fn finish(mut self) -> Result<Option<IpAddr>, ()> {
        if self.n != 3 || self.digits == 0 {
            return Ok(None);
        }
        self.octets[3] = u8::try_from(self.value).map_err(|_| ())?;
        Ok(Some(IpAddr::from(self.octets)))
    }
}

/// An address: dotted-quad IPv4 read directly (most of a flow log), anything else by std.
fn address(text: &str) -> Option<IpAddr> {
    let mut quad = Quad::default();
    for &b in text.as_bytes() {
        match quad.feed(b) {
            Fed::Taken => {}
            Fed::Refused => return None,
            Fed::Other => return text.parse().ok(),
        }
    }
    match quad.finish() {
        Ok(Some(ip)) => Some(ip),
        Ok(None) => text.parse().ok(),
        Err(()) => None,
    }
}

/// A tuple's fields.
#[derive(Debug, PartialEq)]
pub(super) struct Parsed {
    /// The 5-tuple.
    pub flow: Flow,
    /// When it was logged.
    pub time: crate::time::Instant,
    /// The direction at the logging NIC.
    pub direction: Direction,
    /// Azure's decision.
    pub access: Access,
    /// The flow state (version 2 and virtual network flow logs).
    pub state: Option<FlowState>,
}

/// Parses one tuple in place; the error says which field is wrong, the value, and what is valid.
///
/// Tuples as Network Watcher writes them (no spaces, IPv4 dotted quads, plain digits) take
/// [`parse_tuple_fast`], one pass over the bytes; anything else, and every error, takes
/// [`parse_tuple_fields`], which splits the fields first and says what is wrong. The fast path
/// answers only where the full reader gives the same answer (a property test holds them equal).
pub(super) fn parse_tuple(text: &str, kind: Kind) -> Result<Parsed, TupleError> {
    match parse_tuple_fast(text, kind) {
        Some(parsed) => Ok(parsed),
        None => parse_tuple_fields(text, kind),
    }
}

/// The fields of a tuple, one at a time, for the fast path.
struct FieldCursor<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> FieldCursor<'t> {
    /// The next field (up to a comma or the end), or `None` past the last one.
    fn next(&mut self) -> Option<&'t str> {
        let rest = self.text.get(self.pos..)?;
        // A field is a few bytes: a plain loop beats a vectorised search here.
        let len = rest.bytes().position(|b| b == b',').unwrap_or(rest.len());
        self.pos += len + 1;
        Some(&rest[..len])
    }

    /// How many fields are left.
    fn remaining(&self) -> usize {
        match self.text.get(self.pos..) {
            Some(rest) => 1 + rest.bytes().filter(|&b| b == b',').count(),
            None => 0,
        }
    }
}

/// Plain decimal digits (no sign, no space) as a number, if they fit in `max_digits` digits.
fn digits(field: &str, max_digits: usize) -> Option<u64> {
    if field.is_empty() || field.len() > max_digits {
        return None;
    }
    field.bytes().try_fold(0u64, |n, b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

/// One pass over a tuple as Network Watcher writes it; `None` for anything else (the caller
/// then reads it with [`parse_tuple_fields`], which either accepts it or says what is wrong).
fn parse_tuple_fast(text: &str, kind: Kind) -> Option<Parsed> {
    let mut f = FieldCursor { text, pos: 0 };
    let mut time = i64::try_from(digits(f.next()?, 18)?).ok()?;
    if matches!(kind, Kind::Vnet) && time >= MILLISECONDS_FROM {
        time /= 1000;
    }
    let time = unix_instant(time)?;
    let src = address(f.next()?)?;
    let dst = address(f.next()?)?;
    let (src_port, dst_port) = (f.next()?, f.next()?);
    let protocol = match (kind, f.next()?) {
        (Kind::Nsg { .. }, "T") => IpProtocol::TCP,
        (Kind::Nsg { .. }, "U") => IpProtocol::UDP,
        (Kind::Vnet, number) => IpProtocol(u8::try_from(digits(number, 3)?).ok()?),
        _ => return None,
    };
    let port = |field: &str| -> Option<u16> {
        if field.is_empty() && !protocol.has_ports() {
            return Some(0);
        }
        u16::try_from(digits(field, 5)?).ok()
    };
    let (src_port, dst_port) = (port(src_port)?, port(dst_port)?);
    let direction = match f.next()? {
        "I" => Direction::Inbound,
        "O" => Direction::Outbound,
        _ => return None,
    };
    let state_of = |field: &str| match field {
        "B" => Some(FlowState::Begin),
        "C" => Some(FlowState::Continuing),
        "E" => Some(FlowState::End),
        "D" if matches!(kind, Kind::Vnet) => Some(FlowState::Denied),
        _ => None,
    };
    let (access, state, expected_left) = match kind {
        Kind::Nsg { version } => {
            let access = match f.next()? {
                "A" => Access::Allow,
                "D" => Access::Deny,
                _ => return None,
            };
            if version >= 2 { (access, Some(state_of(f.next()?)?), 4) } else { (access, None, 0) }
        }
        Kind::Vnet => {
            let state = state_of(f.next()?)?;
            let access = if state == FlowState::Denied { Access::Deny } else { Access::Allow };
            // The encryption field and the four counts are not read.
            (access, Some(state), 5)
        }
    };
    (f.remaining() == expected_left).then_some(())?;
    Some(Parsed { flow: Flow::new(protocol, src, src_port, dst, dst_port), time, direction, access, state })
}

/// A tuple's bytes in the JSON text, read once from the left for [`parse_tuple_raw`]; every
/// reader is `None` on anything but what Network Watcher writes.
struct Bytes<'b> {
    bytes: &'b [u8],
    pos: usize,
}

impl Bytes<'_> {
    /// The next byte.
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// The comma that ends a field.
    fn comma(&mut self) -> Option<()> {
        (self.byte()? == b',').then_some(())
    }

    /// A one-letter field and its comma.
    fn letter(&mut self) -> Option<u8> {
        let b = self.byte()?;
        self.comma()?;
        Some(b)
    }

    /// Plain digits, at most `max` of them, and the comma after them: the number and how many
    /// digits (0 for an empty field).
    fn number(&mut self, max: usize) -> Option<(u64, usize)> {
        let mut n = 0u64;
        let mut count = 0;
        loop {
            match self.byte()? {
                b @ b'0'..=b'9' if count < max => {
                    n = n * 10 + u64::from(b - b'0');
                    count += 1;
                }
                b',' => return Some((n, count)),
                _ => return None,
            }
        }
    }

    /// A dotted-quad IPv4 address and its comma, by [`address`]'s rules (no leading zeros, at
    /// most three digits and 255 an octet).
    fn ipv4(&mut self) -> Option<IpAddr> {
        let mut quad = Quad::default();
        loop {
            let b = self.byte()?;
            match quad.feed(b) {
                Fed::Taken => {}
                Fed::Other if b == b',' => return quad.finish().ok().flatten(),
                Fed::Other | Fed::Refused => return None,
            }
        }
    }

    /// The rest of the string: `commas` more commas, then the closing quote (its offset). No
    /// escape and no control character: the text is then the string's value as written.
    fn rest(&mut self, commas: usize) -> Option<usize> {
        let mut seen = 0;
        loop {
            match self.byte()? {
                b'"' => return (seen == commas).then_some(self.pos - 1),
                b',' => seen += 1,
                b'\\' | 0..=0x1f => return None,
                _ => {}
            }
        }
    }
}

/// One pass over a tuple in the JSON text, from the byte after its opening quote, for tuples as
/// Network Watcher writes them: the tuple and the offset of its closing quote. `None` for
/// anything else: an escape, a control character, a space, an IPv6 address, a value out of
/// range or a wrong field (the caller then reads the string as JSON and the tuple with
/// [`parse_tuple`], which accepts it or says what is wrong). It answers as [`parse_tuple_fast`]
/// does on the string's value (a property test holds them equal).
pub(super) fn parse_tuple_raw(bytes: &[u8], kind: Kind) -> Option<(Parsed, usize)> {
    let mut r = Bytes { bytes, pos: 0 };
    let (time, digits) = r.number(18)?;
    (digits > 0).then_some(())?;
    let mut time = i64::try_from(time).ok()?;
    if matches!(kind, Kind::Vnet) && time >= MILLISECONDS_FROM {
        time /= 1000;
    }
    let time = unix_instant(time)?;
    let src = r.ipv4()?;
    let dst = r.ipv4()?;
    let (src_port, dst_port) = (r.number(5)?, r.number(5)?);
    let protocol = match kind {
        Kind::Nsg { .. } => match r.letter()? {
            b'T' => IpProtocol::TCP,
            b'U' => IpProtocol::UDP,
            _ => return None,
        },
        Kind::Vnet => match r.number(3)? {
            (_, 0) => return None,
            (n, _) => IpProtocol(u8::try_from(n).ok()?),
        },
    };
    let port = |(n, digits): (u64, usize)| -> Option<u16> {
        if digits == 0 {
            return (!protocol.has_ports()).then_some(0);
        }
        u16::try_from(n).ok()
    };
    let (src_port, dst_port) = (port(src_port)?, port(dst_port)?);
    let direction = match r.letter()? {
        b'I' => Direction::Inbound,
        b'O' => Direction::Outbound,
        _ => return None,
    };
    let state_of = |b: u8| match b {
        b'B' => Some(FlowState::Begin),
        b'C' => Some(FlowState::Continuing),
        b'E' => Some(FlowState::End),
        b'D' if matches!(kind, Kind::Vnet) => Some(FlowState::Denied),
        _ => None,
    };
    let (access, state, end) = match kind {
        Kind::Nsg { version } => {
            let access = match r.byte()? {
                b'A' => Access::Allow,
                b'D' => Access::Deny,
                _ => return None,
            };
            if version >= 2 {
                r.comma()?;
                // The state, then four counts (three more commas).
                (access, Some(state_of(r.letter()?)?), r.rest(3)?)
            } else {
                // The decision is the last field: the closing quote follows.
                let end = r.pos;
                (r.byte()? == b'"').then_some(())?;
                (access, None, end)
            }
        }
        Kind::Vnet => {
            let state = state_of(r.letter()?)?;
            let access = if state == FlowState::Denied { Access::Deny } else { Access::Allow };
            // The encryption field and four counts (four more commas), not read.
            (access, Some(state), r.rest(4)?)
        }
    };
    let parsed =
        Parsed { flow: Flow::new(protocol, src, src_port, dst, dst_port), time, direction, access, state };
    Some((parsed, end))
}

/// Reads a tuple by its fields, saying which field is wrong, the value, and what is valid.
fn parse_tuple_fields(text: &str, kind: Kind) -> Result<Parsed, TupleError> {
    let mut fields = [""; 13];
    let mut count = 0;
    let mut start = 0;
    for comma in memchr::memchr_iter(b',', text.as_bytes()).chain(std::iter::once(text.len())) {
        if count < fields.len() {
            fields[count] = trim(&text[start..comma]);
        }
        count += 1;
        start = comma + 1;
    }
    let expected = match kind {
        Kind::Nsg { version: 1 } => 8,
        Kind::Nsg { .. } | Kind::Vnet => 13,
    };
    if count != expected {
        return Err(TupleError::FieldCount { count, kind });
    }
    let bad = |index: usize, valid: &'static str| TupleError::Field {
        index,
        kind,
        value: fields[index].to_string(),
        valid,
    };
    let mut time: i64 = fields[0].parse().map_err(|_| bad(0, "a Unix time in seconds"))?;
    if matches!(kind, Kind::Vnet) && time >= MILLISECONDS_FROM {
        time /= 1000;
    }
    let time = unix_instant(time).ok_or_else(|| bad(0, "a Unix time within the years -9999..9999"))?;
    let src = address(fields[1]).ok_or_else(|| bad(1, "an IPv4 or IPv6 address"))?;
    let dst = address(fields[2]).ok_or_else(|| bad(2, "an IPv4 or IPv6 address"))?;
    let protocol = match kind {
        Kind::Nsg { .. } => match fields[5] {
            "T" | "t" => IpProtocol::TCP,
            "U" | "u" => IpProtocol::UDP,
            _ => return Err(bad(5, "T (TCP) or U (UDP)")),
        },
        Kind::Vnet => IpProtocol(
            fields[5]
                .parse()
                .map_err(|_| bad(5, "an IANA protocol number 0-255, e.g. 6 (TCP), 17 (UDP), 1 (ICMP)"))?,
        ),
    };
    let port = |i: usize| -> Result<u16, TupleError> {
        if fields[i].is_empty() && !protocol.has_ports() {
            return Ok(0);
        }
        fields[i].parse().map_err(|_| bad(i, "a port 0-65535"))
    };
    let (src_port, dst_port) = (port(3)?, port(4)?);
    let direction = match fields[6] {
        "I" | "i" => Direction::Inbound,
        "O" | "o" => Direction::Outbound,
        _ => return Err(bad(6, "I (inbound) or O (outbound)")),
    };
    let state_of = |i: usize, valid: &'static str| -> Result<FlowState, TupleError> {
        match fields[i] {
            "B" | "b" => Ok(FlowState::Begin),
            "C" | "c" => Ok(FlowState::Continuing),
            "E" | "e" => Ok(FlowState::End),
            "D" | "d" if matches!(kind, Kind::Vnet) => Ok(FlowState::Denied),
            _ => Err(bad(i, valid)),
        }
    };
    let (access, state) = match kind {
        Kind::Nsg { version } => {
            let access = match fields[7] {
                "A" | "a" => Access::Allow,
                "D" | "d" => Access::Deny,
                _ => return Err(bad(7, "A (allowed) or D (denied)")),
            };
            let state =
                if version >= 2 { Some(state_of(8, "B (begin), C (continuing) or E (end)")?) } else { None };
            (access, state)
        }
        Kind::Vnet => {
            let state = state_of(7, "B (begin), C (continuing), E (end) or D (denied)")?;
            let access = if state == FlowState::Denied { Access::Deny } else { Access::Allow };
            (access, Some(state))
        }
    };
    Ok(Parsed { flow: Flow::new(protocol, src, src_port, dst, dst_port), time, direction, access, state })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [Kind; 3] = [Kind::Nsg { version: 1 }, Kind::Nsg { version: 2 }, Kind::Vnet];

    #[test]
    fn addresses_are_read_as_std_reads_them() {
        for text in [
            "10.0.1.4",
            "0.0.0.0",
            "255.255.255.255",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.2.3.4",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            "::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "",
            "a.b.c.d",
            "1000.1.1.1",
        ] {
            assert_eq!(address(text), text.parse::<IpAddr>().ok(), "{text:?}");
        }
    }

    #[test]
    fn tuples_as_network_watcher_writes_them_take_the_fast_path() {
        for (text, kind) in [
            ("1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,", Kind::Nsg { version: 2 }),
            ("1542110379,10.5.16.4,203.0.113.117,59932,443,T,O,A,E,1,66,1,66", Kind::Nsg { version: 2 }),
            ("1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D", Kind::Nsg { version: 1 }),
            ("1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,0,0,0,0", Kind::Vnet),
            ("1663146003606,10.0.0.6,192.0.2.180,0,0,1,O,D,NX,0,0,0,0", Kind::Vnet),
        ] {
            let fast = parse_tuple_fast(text, kind);
            assert!(fast.is_some(), "{text}");
            assert_eq!(fast.map(Ok), Some(parse_tuple_fields(text, kind)), "{text}");
        }
    }

    #[test]
    fn tuples_in_the_json_text_are_read_in_place_up_to_their_closing_quote() {
        for (text, kind) in [
            ("1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,", Kind::Nsg { version: 2 }),
            ("1542110379,10.5.16.4,203.0.113.117,59932,443,T,O,A,E,1,66,1,66", Kind::Nsg { version: 2 }),
            ("1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D", Kind::Nsg { version: 1 }),
            ("1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,0,0,0,0", Kind::Vnet),
            ("1663146003606,10.0.0.6,192.0.2.180,,,1,O,D,NX,0,0,0,0", Kind::Vnet),
        ] {
            let json = format!("{text}\",\n\"");
            let (raw, end) = parse_tuple_raw(json.as_bytes(), kind).expect("as Network Watcher writes it");
            assert_eq!(end, text.len(), "{text}");
            assert_eq!(Ok(raw), parse_tuple(text, kind), "{text}");
        }
        // Escapes, control characters, unclosed strings, spaces, IPv6 and wrong fields are left
        // to the JSON and field readers.
        for (json, kind) in [
            ("1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,\\u0031,\"", Kind::Nsg { version: 2 }),
            ("1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,\t\"", Kind::Nsg { version: 2 }),
            ("1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,", Kind::Nsg { version: 2 }),
            ("1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,\"", Kind::Nsg { version: 2 }),
            ("1542110402, 192.0.2.190,10.5.16.4,28746,443,U,I,D,B,,,,\"", Kind::Nsg { version: 2 }),
            ("1542110402,2001:db8::1,10.5.16.4,28746,443,U,I,D,B,,,,\"", Kind::Nsg { version: 2 }),
            ("1542110402,192.0.2.190,10.5.16.4,28746,443,U,I,D,B\"", Kind::Nsg { version: 2 }),
            ("1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D,\"", Kind::Nsg { version: 1 }),
            ("1487282421,42.119.146.95,10.1.0.4,,5358,T,I,D\"", Kind::Nsg { version: 1 }),
            ("1663146003606,10.0.0.6,192.0.2.180,0,0,1,O,A,NX,0,0,0,0\"", Kind::Vnet),
        ] {
            assert_eq!(parse_tuple_raw(json.as_bytes(), kind), None, "{json}");
        }
    }

    #[test]
    fn tuples_written_otherwise_are_read_by_their_fields() {
        for (text, kind) in [
            ("1542110402, 192.0.2.190,10.5.16.4,28746,443,u,i,d,b,,,,", Kind::Nsg { version: 2 }),
            ("+1542110402,192.0.2.190,10.5.16.4,+28746,443,U,I,D,B,,,,", Kind::Nsg { version: 2 }),
            ("1542110402,2001:db8::1,2001:db8::2,28746,443,T,O,A", Kind::Nsg { version: 1 }),
        ] {
            assert_eq!(parse_tuple_fast(text, kind).is_none(), !text.contains("2001"), "{text}");
            assert!(parse_tuple(text, kind).is_ok(), "{text}");
        }
        // Wrong tuples are refused by both, with the field reader's message.
        let wrong = "1542110402,192.0.2.190,10.5.16.4,28746,70000,U,I,D,B,,,,";
        assert_eq!(parse_tuple_fast(wrong, Kind::Nsg { version: 2 }), None);
        let message =
            parse_tuple(wrong, Kind::Nsg { version: 2 }).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("field 5 (destination port) '70000'"), "{message}");
    }

    /// The two address readers before they shared [`Quad`] (issue 20, third round), kept to
    /// hold the merged one to them.
    mod before_quad {
        use std::net::IpAddr;

        pub fn address(text: &str) -> Option<IpAddr> {
            let mut octets = [0u8; 4];
            let mut n = 0;
            let mut value: u32 = 0;
            let mut digits = 0;
            for &b in text.as_bytes() {
                match b {
                    b'0'..=b'9' if digits < 3 => {
                        if digits == 1 && value == 0 {
                            return None;
                        }
                        value = value * 10 + u32::from(b - b'0');
                        digits += 1;
                    }
                    b'.' if digits > 0 && n < 3 => {
                        octets[n] = u8::try_from(value).ok()?;
                        n += 1;
                        value = 0;
                        digits = 0;
                    }
                    _ => return text.parse().ok(),
                }
            }
            if n != 3 || digits == 0 {
                return text.parse().ok();
            }
            octets[3] = u8::try_from(value).ok()?;
            Some(IpAddr::from(octets))
        }

        /// The raw reader's loop: the address and how many bytes it took with its comma.
        pub fn ipv4(bytes: &[u8]) -> Option<(IpAddr, usize)> {
            let mut octets = [0u8; 4];
            let mut n = 0;
            let mut value: u32 = 0;
            let mut digits = 0;
            let mut pos = 0;
            loop {
                let b = *bytes.get(pos)?;
                pos += 1;
                match b {
                    b'0'..=b'9' if digits < 3 => {
                        if digits == 1 && value == 0 {
                            return None;
                        }
                        value = value * 10 + u32::from(b - b'0');
                        digits += 1;
                    }
                    b'.' if digits > 0 && n < 3 => {
                        octets[n] = u8::try_from(value).ok()?;
                        n += 1;
                        value = 0;
                        digits = 0;
                    }
                    b',' if n == 3 && digits > 0 => {
                        octets[3] = u8::try_from(value).ok()?;
                        return Some((IpAddr::from(octets), pos));
                    }
                    _ => return None,
                }
            }
        }
    }

    #[test]
    fn the_merged_address_reader_answers_as_the_two_before_it() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let octet = prop_oneof![4 => (0u16..256).prop_map(|o| o.to_string()), 1 => "[0-9]{0,4}"];
        let text = prop_oneof![
            4 => proptest::collection::vec(octet.clone(), 4..5).prop_map(|o| o.join(".")),
            2 => proptest::collection::vec(octet, 1..7).prop_map(|o| o.join(".")),
            1 => "[0-9.:a-f,]{0,18}",
            1 => Just("::ffff:10.0.0.1".to_string()),
        ];
        // What follows the address in the JSON text: its comma, mostly.
        let after = prop_oneof![3 => ",[0-9\"]{0,2}", 1 => "[,\"0-9.]{0,3}"];
        let mut runner = TestRunner::new(Config { cases: 20_000, ..Config::default() });
        let found = std::cell::Cell::new(0u32);
        runner
            .run(&(text, after), |(text, after)| {
                prop_assert_eq!(address(&text), before_quad::address(&text), "{:?}", text);
                let raw = format!("{text}{after}");
                let mut r = Bytes { bytes: raw.as_bytes(), pos: 0 };
                let merged = r.ipv4().map(|ip| (ip, r.pos));
                prop_assert_eq!(merged, before_quad::ipv4(raw.as_bytes()), "{:?}", raw);
                if merged.is_some() {
                    found.set(found.get() + 1);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(found.get() > 1000, "{}", found.get());
    }

    #[test]
    fn the_fast_path_answers_only_as_the_field_reader_does() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        // Each position draws a well-formed value most of the time, and otherwise something
        // near it (case, spaces, signs, leading zeros, out of range, IPv6, empty, junk).
        let number = prop_oneof![
            10 => "[0-9]{1,12}",
            1 => "[0-9]{17,20}",
            1 => "[+-]?0*[0-9]{1,6}",
            1 => "[0-9 ]{0,4}",
        ];
        let ip = prop_oneof![
            10 => (0u8.., 0u8.., 0u8.., 0u8..).prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
            1 => Just("2001:db8::7".to_string()),
            1 => "[0-9.: a-f]{0,16}",
        ];
        let port = prop_oneof![10 => "[0-9]{1,5}", 1 => number.clone(), 1 => Just(String::new())];
        let near =
            |good: &'static str| prop_oneof![12 => good, 1 => "[tuioadbcex6 ]{0,2}", 1 => "[0-9]{1,4}"];
        let field = prop_oneof![number.clone(), ip.clone(), near("[TUIOADBCE]"), "[^,]{0,3}"];
        let tuple = (
            number,
            ip.clone(),
            ip,
            port.clone(),
            port,
            prop_oneof![near("[TU]"), "(6|17|1|0)"],
            near("[IO]"),
            near("[ADBCE]"),
            near("[BCE]|NX"),
            proptest::collection::vec(field, 4..6),
            prop_oneof![2 => Just(13usize), 1 => Just(8), 1 => 5usize..16],
            0usize..3,
        )
            .prop_map(|(t, s, d, sp, dp, a, b, c, e, rest, len, k)| {
                let mut fields = vec![t, s, d, sp, dp, a, b, c, e];
                fields.extend(rest);
                fields.truncate(len);
                (fields.join(","), k)
            });
        let mut runner = TestRunner::new(Config { cases: 20_000, ..Config::default() });
        let fast_answers = std::cell::Cell::new(0u32);
        let raw_answers = std::cell::Cell::new(0u32);
        runner
            .run(&tuple, |(text, k)| {
                let kind = KINDS[k];
                if let Some(fast) = parse_tuple_fast(&text, kind) {
                    fast_answers.set(fast_answers.get() + 1);
                    prop_assert_eq!(Ok(fast), parse_tuple_fields(&text, kind), "{:?}", text);
                }
                // The raw reader reads the string as the JSON text writes it (escaped), from
                // after its opening quote, with whatever follows it in the text.
                let json = format!("{},\"next\"]", serde_json::to_string(&text).unwrap_or_default());
                if let Some((raw, end)) = parse_tuple_raw(&json.as_bytes()[1..], kind) {
                    raw_answers.set(raw_answers.get() + 1);
                    prop_assert_eq!(end, json.len() - "\",\"next\"]".len() - 1, "{:?}", text);
                    prop_assert_eq!(Ok(raw), parse_tuple(&text, kind), "{:?}", text);
                } else {
                    // Refused only where the fast reader refuses too, for an address it leaves
                    // to std (IPv6), or for a string with escapes in the JSON text.
                    let plain = !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
                    let fast = parse_tuple_fast(&text, kind);
                    prop_assert!(fast.is_none() || text.contains(':') || !plain, "{:?}", text);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        // Not vacuous: a good share of the generated tuples took the fast paths.
        assert!(fast_answers.get() > 200, "{}", fast_answers.get());
        assert!(raw_answers.get() > 200, "{}", raw_answers.get());
    }
}

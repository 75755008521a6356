//! Cutting flow-log records in parallel: speculate where records start, let the workers find
//! the records, and keep what they prove.
//!
//! Why: finding where a record ends means scanning its structure (every string, every bracket).
//! Done on the reader thread, that scan is serial work that caps how far more threads help
//! (profiled on the generated 1,000,000-tuple log: the reader thread did an eighth of all the
//! work, and the workers scanned each record four more times to skip over its nested members).
//!
//! How: Network Watcher writes every record as an object whose first member is `time`, so the
//! bytes `,{"time"` (whitespace allowed around the comma) are, in a valid document, a candidate
//! boundary between two records — but only a candidate: an object nested in a record could start
//! the same way. The reader looks only for candidates: it cuts a window of the stream (about
//! [`WINDOW_BYTES`]) into pieces of at least [`PIECE_BYTES`] ending at candidates, without
//! reading their structure ([`cuts`]), and hands the window out. Each piece is parsed on any
//! worker as if it started just after a record ([`parse_piece`]): `,` record, `,` record, … to
//! its very end, every record whole and every tuple valid. Then, in input order ([`settle`]):
//! the first piece starts where the reader stood, just after a record, so if it parses cleanly
//! its end is just after a record too, which is where the next piece starts; and so on. The
//! clean prefix of the window is kept (its records numbered from where the reader stood), and the
//! reader goes on from its end, reading the rest of the window exactly, record by record, as it
//! would without speculation. So a wrong guess, a malformed record, a record larger than a piece,
//! or the end of the records array costs time (that part is read again exactly), never a
//! different answer or a differently placed error: errors are only ever reported by the exact
//! reading, at the position it computes.
//!
//! Memory stays bounded: a window and its parsed pieces are in flight at a time; the reader
//! waits for each window's verdict before it goes on.

use std::path::Path;
use std::sync::Arc;

use memchr::memmem;

use super::json::Containers;
use super::source::{RawChunk, RawKind};
use super::{Catalog, Chunk, azure};
use crate::import::json_position::Position;
use crate::position::chars_in;

/// The size a piece is cut at (it ends at the first candidate past it).
pub const PIECE_BYTES: usize = 1 << 17;
/// The size of a window of pieces.
pub const WINDOW_BYTES: usize = 1 << 20;

/// How windows are cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutting {
    /// The least size of a piece.
    pub piece: usize,
    /// How much of the stream a window looks at.
    pub window: usize,
}

impl Default for Cutting {
    fn default() -> Cutting {
        Cutting { piece: PIECE_BYTES, window: WINDOW_BYTES }
    }
}

/// What a [`super::Splitter`] hands out.
#[derive(Debug)]
pub enum Cut {
    /// A chunk of exactly cut records (or CSV lines).
    Chunk(RawChunk),
    /// A window of speculative pieces, to be settled ([`super::Splitter::settle`]).
    Window(Window),
}

/// Pieces of the stream cut at candidate record boundaries, in order.
#[derive(Debug)]
pub struct Window {
    /// The pieces ([`RawKind::Piece`]).
    pub pieces: Vec<RawChunk>,
    /// The index in the records array of the first record after the reader's position.
    pub first_index: u32,
}

/// How a position moves over some bytes: the newlines in them, and the characters after the
/// last one (or in all of them, without a newline).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Advance {
    newlines: usize,
    tail: usize,
}

impl Advance {
    /// How a position moves over `bytes`.
    pub fn of(bytes: &[u8]) -> Advance {
        match memchr::memrchr(b'\n', bytes) {
            None => Advance { newlines: 0, tail: chars_in(bytes) },
            Some(last) => Advance {
                newlines: memchr::memchr_iter(b'\n', bytes).count(),
                tail: chars_in(&bytes[last + 1..]),
            },
        }
    }

    /// Moving over these bytes, then over `next`'s.
    pub fn then(self, next: Advance) -> Advance {
        if next.newlines == 0 {
            Advance { newlines: self.newlines, tail: self.tail + next.tail }
        } else {
            Advance { newlines: self.newlines + next.newlines, tail: next.tail }
        }
    }

    /// The position after these bytes, starting at `at`.
    pub fn apply(self, at: Position) -> Position {
        if self.newlines == 0 {
            Position { line: at.line, column: at.column + self.tail }
        } else {
            Position { line: at.line + self.newlines, column: 1 + self.tail }
        }
    }
}

/// How much of a window was read as whole records: the reader goes on after it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The pieces kept (a prefix).
    pub pieces: usize,
    /// Their bytes.
    pub bytes: usize,
    /// Their records.
    pub records: u32,
    /// How the position moves over them.
    pub advance: Advance,
}

/// What a worker found in a piece.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Speculation {
    /// Whether the piece is `,` record, `,` record, … to its end, every record and tuple valid.
    pub clean: bool,
    /// Its records (when clean).
    pub records: u32,
    /// Its length.
    pub bytes: usize,
    /// How the position moves over it.
    pub advance: Advance,
}

/// The first member of a record as Network Watcher writes it (`{"time": …`).
const RECORD_START: &[u8] = b"\"time\"";

/// The last byte before `end` that is not whitespace.
fn before(bytes: &[u8], end: usize) -> Option<usize> {
    bytes[..end].iter().rposition(|&b| !is_space(b))
}

/// Where to cut `bytes` (which start just after a record): the offsets of the commas before
/// candidate records (`,{"time"`, whitespace allowed between), each at least `piece` bytes after
/// the cut before it (the first after 0).
pub(super) fn cuts(bytes: &[u8], piece: usize) -> Vec<usize> {
    let finder = memmem::Finder::new(RECORD_START);
    let piece = piece.max(1);
    let mut out = Vec::new();
    let (mut last, mut search) = (0usize, piece);
    while search < bytes.len() {
        let Some(i) = finder.find(&bytes[search..]) else { break };
        let at = search + i;
        let comma = before(bytes, at).filter(|&b| bytes[b] == b'{').and_then(|b| before(bytes, b));
        match comma {
            Some(comma) if bytes[comma] == b',' && comma > last => {
                out.push(comma);
                last = comma;
                search = comma + piece;
            }
            _ => search = at + 1,
        }
    }
    out
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// The records of a piece: (index from 0, offset), if the piece is `,` record, `,` record, … to
/// its end with whitespace between, each record an object whose brackets pair up.
/// Their containers are kept as they are found, for the walk (`json::Containers`).
fn records_of(bytes: &[u8]) -> Option<(Vec<(u32, usize)>, Containers)> {
    let mut out = Vec::new();
    let mut containers = Containers::default();
    let mut i = 0;
    loop {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            return (!out.is_empty()).then_some((out, containers));
        }
        if bytes[i] != b',' {
            return None;
        }
        i += 1;
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'{') {
            return None;
        }
        let len = containers.append(&bytes[i..], i).ok()??;
        out.push((u32::try_from(out.len()).ok()?, i));
        i += len;
    }
}

/// Parses a piece as if it started just after a record, into `chunk`; the tuples' record
/// numbers count from 0 (see [`settle`]). Never an error: anything unexpected makes the piece
/// not clean, and it is then read again exactly.
pub(super) fn parse_piece(
    raw: &RawChunk,
    records_key: &str,
    catalog: &Catalog,
    name: &Path,
    chunk: &mut Chunk,
) {
    let mut speculation =
        Speculation { clean: false, records: 0, bytes: raw.bytes.len(), advance: Advance::default() };
    if let Some((records, containers)) = records_of(&raw.bytes) {
        // A tuple as Network Watcher writes it is some 60 bytes: no growing and copying.
        chunk.tuples.reserve(raw.bytes.len() / 56);
        let parsed = azure::parse(raw, (&records, &containers), records_key, catalog, name, false, chunk);
        if parsed.is_ok() && chunk.bad.is_empty() {
            speculation.clean = true;
            speculation.records = records.len() as u32;
            speculation.advance = Advance::of(&raw.bytes);
        }
    }
    if !speculation.clean {
        chunk.tuples.clear();
        chunk.groups.clear();
        chunk.bad.clear();
        chunk.nsg_version = None;
        chunk.vnet = false;
    }
    chunk.speculation = Some(speculation);
}

/// Settles a window whose pieces were parsed into `chunks` (in order): numbers the records of
/// its clean prefix from `first_index` ([`Window::first_index`]; [`Chunk::record_base`]) and
/// says how far the reader may go on; the caller keeps the first [`Verdict::pieces`] chunks and drops the rest.
pub fn settle<'c>(first_index: u32, chunks: impl IntoIterator<Item = &'c mut Chunk>) -> Verdict {
    let mut verdict = Verdict::default();
    for chunk in chunks {
        let Some(s) = chunk.speculation.filter(|s| s.clean) else { break };
        chunk.record_base = first_index.saturating_add(verdict.records);
        verdict.pieces += 1;
        verdict.bytes += s.bytes;
        verdict.records = verdict.records.saturating_add(s.records);
        verdict.advance = verdict.advance.then(s.advance);
    }
    verdict
}

/// The records key of a piece, if `raw` is one.
pub(super) fn piece_key(raw: &RawChunk) -> Option<&Arc<str>> {
    match &raw.kind {
        RawKind::Piece { records_key } => Some(records_key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_before_commas_that_precede_a_record_start() {
        let text = b"},\n{\"time\":1},{\"time\":2}, {\"x\":{\"time\":3}},\n {\"time\":4}";
        assert_eq!(cuts(text, 1), vec![1, 13, 42]);
        // At least `piece` bytes apart.
        assert_eq!(cuts(text, 13), vec![13, 42]);
        assert_eq!(cuts(text, 100), Vec::<usize>::new());
        // Not after a comma, or not a first member: no cut.
        assert_eq!(cuts(b"xx:{\"time\":1}", 1), Vec::<usize>::new());
        assert_eq!(cuts(b"xx,{\"a\":1,\"time\":1}", 1), Vec::<usize>::new());
        assert_eq!(cuts(b"},\n  {\n \"time\":1}", 1), vec![1]);
    }

    #[test]
    fn pieces_are_records_after_commas_or_nothing() {
        assert_eq!(records_of(b" ,{\"a\":[1]},\n{\"b\":\"}\"} ").map(|r| r.0), Some(vec![(0, 2), (1, 13)]));
        assert!(records_of(b"{\"a\":1}").is_none(), "a piece starts after a record");
        assert!(records_of(b",{\"a\":[1}").is_none(), "brackets must pair up");
        assert!(records_of(b",{\"a\":[1").is_none(), "a record must end in the piece");
        assert!(records_of(b",{\"a\":1}]}").is_none(), "the end of the array is read exactly");
        assert!(records_of(b"  ").is_none());
    }

    #[test]
    fn advances_compose_as_positions_do() {
        let at = Position { line: 3, column: 5 };
        let (a, b) = ("ab\ncdé".as_bytes(), "xy".as_bytes());
        let joined = "ab\ncdéxy".as_bytes();
        assert_eq!(Advance::of(a).then(Advance::of(b)), Advance::of(joined));
        assert_eq!(Advance::of(joined).apply(at), Position { line: 4, column: 6 });
        assert_eq!(Advance::of(b).apply(at), Position { line: 3, column: 7 });
        assert_eq!(super::super::source::advance_position(at, joined), Advance::of(joined).apply(at));
    }
}

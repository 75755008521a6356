//! Inputs as they are stored, and cutting them into chunks of whole records.
//!
//! A [`Source`] is a file or standard input; [`expand`] turns the paths given on the command line
//! into sources, walking directories recursively in name order (Network Watcher's storage layout:
//! `resourceId=/…/y=2025/m=01/d=06/h=09/m=00/macAddress=…/PT1H.json`). A source is opened as a
//! byte stream; a gzip stream (told by its magic bytes, whatever the name) is decompressed on the
//! fly (`flate2`, multi-member, as `gzip -c a b > c` writes).
//!
//! A [`Splitter`] reads one stream through a buffer and hands out [`RawChunk`]s of about
//! [`CHUNK_BYTES`]: whole flow-log records (JSON) or whole lines (CSV), with the line and column
//! at which the chunk starts, so that a chunk can be parsed on any thread and still place its
//! errors. The buffer holds at most one record beyond a chunk; a record larger than
//! [`MAX_RECORD_BYTES`] is refused. Memory is therefore bounded whatever the size of the input.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::json::{Containers, Cursor, SyntaxError, value_end};
use super::{FlowLogError, Recycled, csv};
use crate::import::json_position::Position;
use crate::position::chars_in;

/// The size a chunk is cut at (it ends at the first record boundary past it).
pub const CHUNK_BYTES: usize = 1 << 17;
/// The largest flow-log record read (Network Watcher writes one a minute per NSG or NIC).
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// How much is read from the stream at a time.
const READ_BYTES: usize = 1 << 20;

/// Where flow records come from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Source {
    /// The name used in messages and origins.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "(stdin)".into(),
        }
    }

    /// The size in bytes as stored, when known (for progress).
    pub fn size(&self) -> Option<u64> {
        match self {
            Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Source::Stdin => None,
        }
    }
}

/// Whether a file found in a directory walk is a flow log or CSV (`.json`, `.csv`, either gzipped).
fn is_input_name(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".json") || name.ends_with(".csv")
}

/// The sources named by `paths`: `-` is standard input, a directory every `.json`, `.csv`,
/// `.json.gz` and `.csv.gz` file under it (recursively, in path order), anything else a file.
///
/// # Errors
/// A path that does not exist or a directory that cannot be read.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Source>, FlowLogError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Source::Stdin);
            continue;
        }
        let meta =
            std::fs::metadata(path).map_err(|source| FlowLogError::Read { file: path.clone(), source })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            out.extend(found.into_iter().map(Source::File));
        } else {
            out.push(Source::File(path.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FlowLogError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FlowLogError::Read { file: dir.into(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| FlowLogError::Read { file: dir.into(), source })?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|source| FlowLogError::Read { file: path.clone(), source })?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if is_input_name(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Counts the bytes read from the storage (before decompression), for progress.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `source` as a byte stream, decompressing gzip; `read` counts the stored bytes read.
///
/// # Errors
/// A file that cannot be opened.
pub fn open(source: &Source, read: Arc<AtomicU64>) -> Result<(Box<dyn Read + Send>, bool), FlowLogError> {
    let name = PathBuf::from(source.name());
    let raw: Box<dyn Read + Send> = match source {
        Source::File(p) => {
            Box::new(std::fs::File::open(p).map_err(|source| FlowLogError::Read { file: p.clone(), source })?)
        }
        Source::Stdin => Box::new(std::io::stdin()),
    };
    let mut buffered = BufReader::with_capacity(1 << 16, Counting { inner: raw, read });
    let head = buffered.fill_buf().map_err(|source| FlowLogError::Read { file: name, source })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok((Box::new(flate2::bufread::MultiGzDecoder::new(buffered)), true))
    } else {
        Ok((Box::new(buffered), false))
    }
}

/// A stream read through a buffer, knowing the line and column of the next byte.
struct Stream {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// The next byte to consume.
    pos: usize,
    /// The end of what was read.
    len: usize,
    eof: bool,
    /// The position of `buf[pos]`.
    at: Position,
    /// Bytes consumed so far (the offset of `buf[pos]` in the stream).
    consumed: u64,
    /// Why the stream cannot be read further, once it failed: asked again, it fails again.
    failure: Option<String>,
    file: PathBuf,
    gzip: bool,
}

impl Stream {
    fn new(reader: Box<dyn Read + Send>, file: PathBuf, gzip: bool) -> Stream {
        Stream {
            reader,
            buf: vec![0; READ_BYTES],
            pos: 0,
            len: 0,
            eof: false,
            at: Position { line: 1, column: 1 },
            consumed: 0,
            failure: None,
            file,
            gzip,
        }
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    /// Reads more; false at the end of the stream.
    fn fill(&mut self) -> Result<bool, FlowLogError> {
        if let Some(what) = &self.failure {
            return Err(self.error_at_end(what.clone()));
        }
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            let (pos, len) = (self.pos, self.len);
            self.buf.copy_within(pos..len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() - self.len < READ_BYTES / 2 {
            if self.len >= MAX_RECORD_BYTES {
                return Err(self.error_here(format!(
                    "a value longer than {} MiB: Network Watcher writes a record a minute, and nsgsim reads one record at a time",
                    MAX_RECORD_BYTES >> 20
                )));
            }
            let grown = (self.buf.len() * 2).min(MAX_RECORD_BYTES + READ_BYTES);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let what = if self.gzip {
                        format!("the gzip stream is truncated or corrupt ({e})")
                    } else {
                        format!("cannot read further ({e})")
                    };
                    self.failure = Some(what.clone());
                    return Err(self.error_at_end(what));
                }
            }
        }
    }

    /// The position after the last byte read so far.
    fn end_position(&self) -> Position {
        advance_position(self.at, &self.buf[self.pos..self.len])
    }

    fn error_at_end(&self, message: String) -> FlowLogError {
        let p = self.end_position();
        FlowLogError::At { file: self.file.clone(), position: p, message }
    }

    fn error_here(&self, message: String) -> FlowLogError {
        FlowLogError::At { file: self.file.clone(), position: self.at, message }
    }

    fn error_at(&self, offset: usize, message: String) -> FlowLogError {
        let p = advance_position(self.at, &self.buf[self.pos..self.pos + offset.min(self.len - self.pos)]);
        FlowLogError::At { file: self.file.clone(), position: p, message }
    }

    /// Consumes `n` bytes, copying them to `into` when given.
    fn advance(&mut self, n: usize, into: Option<&mut Vec<u8>>) {
        let bytes = &self.buf[self.pos..self.pos + n];
        self.at = advance_position(self.at, bytes);
        if let Some(out) = into {
            out.extend_from_slice(bytes);
        }
        self.pos += n;
        self.consumed += n as u64;
    }

    /// Skips whitespace (refilling); the next byte, or `None` at the end.
    fn next_significant(&mut self, mut into: Option<&mut Vec<u8>>) -> Result<Option<u8>, FlowLogError> {
        loop {
            let ws =
                self.available().iter().take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t')).count();
            self.advance(ws, into.as_deref_mut());
            if let Some(&b) = self.available().first() {
                return Ok(Some(b));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// The length of the JSON value at the cursor, reading until it is complete.
    fn value_len(&mut self, stack: &mut Vec<u8>) -> Result<usize, FlowLogError> {
        self.value_len_indexed(stack, None)
    }

    /// [`Stream::value_len`], keeping the value's containers in `index` (at offset `base` of
    /// the chunk) when given.
    fn value_len_indexed(
        &mut self,
        stack: &mut Vec<u8>,
        mut index: Option<(&mut Containers, usize)>,
    ) -> Result<usize, FlowLogError> {
        loop {
            let scanned = match index.as_mut() {
                Some((containers, base)) => containers.append(self.available(), *base),
                None => value_end(self.available(), stack),
            };
            match scanned {
                Ok(Some(end)) => return Ok(end),
                Ok(None) => {
                    if !self.fill()? {
                        // A scalar may end at the end of the stream; anything else is cut short.
                        let all = self.available();
                        if !all.is_empty() && !matches!(all[0], b'{' | b'[' | b'"') {
                            return Ok(all.len());
                        }
                        return Err(self.error_at_end("not valid JSON: the text ends inside a value".into()));
                    }
                }
                Err(e) => return Err(self.syntax(e)),
            }
        }
    }

    fn syntax(&self, e: SyntaxError) -> FlowLogError {
        self.error_at(e.offset, format!("not valid JSON: {}", e.message))
    }
}

/// The position after `bytes`, starting at `at`: lines end at `\n`, columns count characters.
pub(super) fn advance_position(at: Position, bytes: &[u8]) -> Position {
    let Some(last) = memchr::memrchr(b'\n', bytes) else {
        return Position { line: at.line, column: at.column + chars_in(bytes) };
    };
    Position { line: at.line + count_newlines(&bytes[..=last]), column: 1 + chars_in(&bytes[last + 1..]) }
}

/// How many `\n` there are in `bytes`.
///
/// Blocks of 32 bytes are summed as bytes (at most 32 fit in one), which the compiler turns into
/// vector comparisons. Why not memchr's iterator (sixth round of issue 20, `perf record`, one
/// thread): it costs a call per line, and a flow log as Network Watcher's tools write it has a
/// line per tuple; the reader counts the lines of every record it cuts, so that positions are
/// exact, and that was 3 % of a replay's CPU.
fn count_newlines(bytes: &[u8]) -> usize {
    let mut blocks = bytes.chunks_exact(32);
    let mut n = 0;
    for block in &mut blocks {
        n += usize::from(block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>());
    }
    n + blocks.remainder().iter().filter(|&&b| b == b'\n').count()
}

/// What a chunk holds.
#[derive(Debug)]
pub enum RawKind {
    /// Flow-log records: each one's index in `records` and byte offset in the chunk.
    Json {
        /// (record index, offset) pairs.
        records: Vec<(u32, usize)>,
        /// The records array's key as the file spells it.
        records_key: Arc<str>,
        /// Where the records' objects and arrays end, found as they were cut.
        containers: Containers,
    },
    /// Whole CSV lines; the first is this line number.
    Csv {
        /// The first line's number.
        first_line: usize,
        /// The header.
        header: Arc<csv::Header>,
    },
}

/// Whole records (or lines) of one input, with where they start.
#[derive(Debug)]
pub struct RawChunk {
    /// The input's index.
    pub file: u32,
    /// The chunk's number within the input.
    pub seq: u32,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The position of the first byte.
    pub start: Position,
    /// What the bytes are.
    pub kind: RawKind,
}

impl RawChunk {
    /// The position of byte `offset`.
    pub fn position(&self, offset: usize) -> Position {
        advance_position(self.start, &self.bytes[..offset.min(self.bytes.len())])
    }
}

enum State {
    Detect,
    Top { first: bool },
    Records { first: bool, index: u32 },
    Csv { header: Arc<csv::Header>, line: usize },
    Done,
}

/// An empty byte list with room for `capacity` bytes, from `buffers` when there are.
fn buffer(buffers: &Option<Arc<Recycled<u8>>>, capacity: usize) -> Vec<u8> {
    match buffers {
        Some(b) => b.take(capacity),
        None => Vec::with_capacity(capacity),
    }
}

/// Cuts one input into chunks.
pub struct Splitter {
    stream: Stream,
    file: u32,
    seq: u32,
    state: State,
    stack: Vec<u8>,
    /// Where the document starts and the records key as spelled, once seen.
    root: Position,
    records_key: Option<Arc<str>>,
    /// The format, once detected.
    json: Option<bool>,
    /// Where chunks' byte lists come from, when the caller gives them back.
    buffers: Option<Arc<Recycled<u8>>>,
}

impl std::fmt::Debug for Splitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Splitter").field("file", &self.stream.file).field("seq", &self.seq).finish()
    }
}

impl Splitter {
    /// A splitter over `reader`, the input numbered `file`, named `name` in errors.
    pub fn new(reader: Box<dyn Read + Send>, file: u32, name: PathBuf, gzip: bool) -> Splitter {
        Splitter {
            stream: Stream::new(reader, name, gzip),
            file,
            seq: 0,
            state: State::Detect,
            stack: Vec::new(),
            root: Position { line: 1, column: 1 },
            records_key: None,
            json: None,
            buffers: None,
        }
    }

    /// Takes chunks' byte lists from `buffers` (the caller gives them back when it is done
    /// with the chunks) rather than allocating new ones.
    pub fn recycling(mut self, buffers: Arc<Recycled<u8>>) -> Splitter {
        self.buffers = Some(buffers);
        self
    }

    /// Whether the input is JSON (after the first chunk).
    pub fn is_json(&self) -> Option<bool> {
        self.json
    }

    fn file(&self) -> PathBuf {
        self.stream.file.clone()
    }

    fn chunk(&mut self, bytes: Vec<u8>, start: Position, kind: RawKind) -> RawChunk {
        self.seq += 1;
        RawChunk { file: self.file, seq: self.seq - 1, bytes, start, kind }
    }

    /// The next chunk, or `None` at the end of the input.
    ///
    /// # Errors
    /// The stream cannot be read, or the document's structure is broken (a syntax error outside a
    /// record, a record that does not end, a missing `records` array); the splitter is then done.
    pub fn next_chunk(&mut self) -> Result<Option<RawChunk>, FlowLogError> {
        let result = self.step();
        if result.is_err() {
            self.state = State::Done;
        }
        result
    }

    fn step(&mut self) -> Result<Option<RawChunk>, FlowLogError> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(None),
                State::Detect => self.detect()?,
                State::Top { first } => {
                    if !self.top_member(first)? {
                        return Ok(None);
                    }
                }
                State::Records { first, index } => return self.records(first, index).map(Some),
                State::Csv { header, line } => {
                    if let Some(chunk) = self.csv_lines(header, line)? {
                        return Ok(Some(chunk));
                    }
                }
            }
        }
    }

    fn detect(&mut self) -> Result<(), FlowLogError> {
        // A UTF-8 byte order mark is not part of the text (nor a column).
        while self.stream.available().len() < 3 && self.stream.fill()? {}
        if self.stream.available().starts_with(b"\xEF\xBB\xBF") {
            self.stream.pos += 3;
        }
        match self.stream.next_significant(None)? {
            Some(b'{') => {
                self.json = Some(true);
                self.root = self.stream.at;
                self.stream.advance(1, None);
                self.state = State::Top { first: true };
                Ok(())
            }
            Some(_) => {
                self.json = Some(false);
                let (header, line) = self.csv_header()?;
                self.state = State::Csv { header: Arc::new(header), line };
                Ok(())
            }
            None => Err(FlowLogError::At {
                file: self.file(),
                position: Position::new(1, 1),
                message: format!(
                    "the file is empty; valid: Azure flow-log JSON ({{\"records\": [...]}}) or CSV with the header {}",
                    csv::HEADER
                ),
            }),
        }
    }

    /// One member of the top-level object; false after the document ends.
    fn top_member(&mut self, first: bool) -> Result<bool, FlowLogError> {
        let s = &mut self.stream;
        match s.next_significant(None)? {
            Some(b'}') => {
                s.advance(1, None);
                match s.next_significant(None)? {
                    None => {}
                    Some(b) => {
                        return Err(s.error_here(format!(
                            "not valid JSON: trailing characters after the document: '{}'",
                            b as char
                        )));
                    }
                }
                if self.records_key.is_none() {
                    return Err(FlowLogError::Field {
                        file: self.file(),
                        position: Some(self.root),
                        path: "records".into(),
                        message: "missing; a flow log has records here".into(),
                    });
                }
                return Ok(false);
            }
            Some(b',') if !first => {
                s.advance(1, None);
                s.next_significant(None)?;
            }
            Some(b'"') if first => {}
            None => return Err(s.error_here("not valid JSON: the text ends inside the document".into())),
            Some(b) => {
                let expected = if first { "a member name or '}'" } else { "',' or '}'" };
                return Err(
                    s.error_here(format!("not valid JSON: expected {expected}, found '{}'", b as char))
                );
            }
        }
        let key_len = s.value_len(&mut self.stack)?;
        let key_bytes = &s.available()[..key_len];
        let key_text = std::str::from_utf8(key_bytes)
            .map_err(|e| s.error_at(e.valid_up_to(), crate::text::not_utf8_message(key_bytes, e)))?
            .to_string();
        let key = Cursor::new(&key_text, 0).string().map_err(|e| s.syntax(e))?.into_owned();
        s.advance(key_len, None);
        match s.next_significant(None)? {
            Some(b':') => s.advance(1, None),
            other => {
                return Err(s.error_here(format!(
                    "not valid JSON: expected ':', found {}",
                    other.map_or("the end".into(), |b| format!("'{}'", b as char))
                )));
            }
        }
        let Some(b) = s.next_significant(None)? else {
            return Err(s.error_here("not valid JSON: the text ends inside the document".into()));
        };
        if key.eq_ignore_ascii_case("records") && self.records_key.is_none() {
            if b != b'[' {
                let at = s.at;
                let len = s.value_len(&mut self.stack)?;
                let text = String::from_utf8_lossy(&s.available()[..len]).into_owned();
                let mut c = Cursor::new(&text, 0);
                c.skip().and_then(|_| c.end()).map_err(|e| s.syntax(e))?;
                let shown = shown(&text);
                return Err(FlowLogError::Field {
                    file: self.file(),
                    position: Some(at),
                    path: key,
                    message: format!("{shown}: expected an array of flow-log records"),
                });
            }
            s.advance(1, None);
            self.records_key = Some(Arc::from(key.as_str()));
            self.state = State::Records { first: true, index: 0 };
        } else {
            // Another member: read it whole, check it is JSON, and drop it.
            let len = s.value_len(&mut self.stack)?;
            let bytes = &s.available()[..len];
            let text = std::str::from_utf8(bytes)
                .map_err(|e| s.error_at(e.valid_up_to(), crate::text::not_utf8_message(bytes, e)))?;
            let mut c = Cursor::new(text, 0);
            c.skip().and_then(|_| c.end()).map_err(|e| s.syntax(e))?;
            s.advance(len, None);
            self.state = State::Top { first: false };
        }
        Ok(true)
    }

    /// Records up to a chunk's worth.
    fn records(&mut self, mut first: bool, mut index: u32) -> Result<RawChunk, FlowLogError> {
        let mut bytes = buffer(&self.buffers, CHUNK_BYTES + CHUNK_BYTES / 4);
        let mut records = Vec::new();
        let mut containers = Containers::default();
        let start = self.stream.at;
        let records_key = self.records_key.clone().unwrap_or_else(|| Arc::from("records"));
        loop {
            let s = &mut self.stream;
            match s.next_significant(Some(&mut bytes))? {
                Some(b']') => {
                    s.advance(1, None);
                    self.state = State::Top { first: false };
                    break;
                }
                Some(b',') if !first => {
                    s.advance(1, Some(&mut bytes));
                    s.next_significant(Some(&mut bytes))?;
                }
                None => {
                    return Err(s.error_here("not valid JSON: the text ends inside the records array".into()));
                }
                Some(_) if first => {}
                Some(b) => {
                    return Err(
                        s.error_here(format!("not valid JSON: expected ',' or ']', found '{}'", b as char))
                    );
                }
            }
            first = false;
            // The record's structure is kept for the worker that reads it (`json::Containers`).
            let len = s.value_len_indexed(&mut self.stack, Some((&mut containers, bytes.len())))?;
            records.push((index, bytes.len()));
            s.advance(len, Some(&mut bytes));
            index += 1;
            if bytes.len() >= CHUNK_BYTES {
                self.state = State::Records { first: false, index };
                break;
            }
        }
        Ok(self.chunk(bytes, start, RawKind::Json { records, records_key, containers }))
    }

    /// The CSV header: the first line that is not blank or a comment.
    fn csv_header(&mut self) -> Result<(csv::Header, usize), FlowLogError> {
        loop {
            let line_no = self.stream.at.line;
            let line = self.line()?;
            let Some(line) = line else {
                return Err(FlowLogError::At {
                    file: self.file(),
                    position: Position::new(1, 1),
                    message: format!("no header line; valid: {}", csv::HEADER),
                });
            };
            let text = std::str::from_utf8(&line).map_err(|e| FlowLogError::At {
                file: self.file(),
                position: Position::new(line_no, 1 + chars_in(&line[..e.valid_up_to()])),
                message: crate::text::not_utf8_message(&line, e),
            })?;
            let text = text.strip_suffix('\r').unwrap_or(text);
            if text.trim().is_empty() || text.trim_start().starts_with('#') {
                continue;
            }
            let header = csv::Header::parse(&self.stream.file, line_no, text)?;
            return Ok((header, self.stream.at.line));
        }
    }

    /// One whole line (without its `\n`), or `None` at the end.
    fn line(&mut self) -> Result<Option<Vec<u8>>, FlowLogError> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', self.stream.available()) {
                let line = self.stream.available()[..i].to_vec();
                self.stream.advance(i + 1, None);
                return Ok(Some(line));
            }
            if !self.stream.fill()? {
                let rest = self.stream.available().to_vec();
                self.stream.advance(rest.len(), None);
                return Ok((!rest.is_empty()).then_some(rest));
            }
        }
    }

    /// Whole lines up to a chunk's worth.
    fn csv_lines(&mut self, header: Arc<csv::Header>, line: usize) -> Result<Option<RawChunk>, FlowLogError> {
        let s = &mut self.stream;
        while s.available().len() < CHUNK_BYTES && s.fill()? {}
        let available = s.available();
        if available.is_empty() {
            return Ok(None);
        }
        let take = if s.eof && available.len() <= CHUNK_BYTES {
            available.len()
        } else {
            match memchr::memrchr(b'\n', &available[..available.len().min(CHUNK_BYTES)]) {
                Some(i) => i + 1,
                None => match memchr::memchr(b'\n', available) {
                    Some(i) => i + 1,
                    None => available.len(),
                },
            }
        };
        let start = s.at;
        let mut bytes = buffer(&self.buffers, take);
        s.advance(take, Some(&mut bytes));
        let next_line = s.at.line;
        self.state = State::Csv { header: header.clone(), line: next_line };
        Ok(Some(self.chunk(bytes, start, RawKind::Csv { first_line: line, header })))
    }
}

/// A value as it appears in a message: the one helper of every error path ([`crate::text::shown`]:
/// control and bidirectional characters escaped, cut at 200 characters).
pub(super) use crate::text::shown;

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Result<Vec<RawChunk>, FlowLogError> {
        let mut s = Splitter::new(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            0,
            "t.json".into(),
            false,
        );
        let mut out = Vec::new();
        while let Some(c) = s.next_chunk()? {
            out.push(c);
        }
        Ok(out)
    }

    #[test]
    fn newlines_are_counted_in_blocks_and_the_rest() {
        assert_eq!(count_newlines(b""), 0);
        assert_eq!(count_newlines(&[b'\n'; 100]), 100);
        for len in [31, 32, 33, 64, 65, 1000] {
            let text: Vec<u8> = (0..len).map(|i| if i % 7 == 3 { b'\n' } else { b'x' }).collect();
            assert_eq!(count_newlines(&text), text.iter().filter(|&&b| b == b'\n').count(), "{len}");
        }
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let at = Position { line: 3, column: 5 };
        assert_eq!(advance_position(at, b"ab"), Position { line: 3, column: 7 });
        assert_eq!(advance_position(at, "x\né\ny".as_bytes()), Position { line: 5, column: 2 });
        assert_eq!(advance_position(at, "é".as_bytes()), Position { line: 3, column: 6 });
    }

    #[test]
    fn records_are_cut_whole_and_placed() {
        let chunks =
            split("{\"other\": [1, {\"a\": \"]\"}],\n \"Records\": [\n {\"x\": 1},\n {\"y\": [2]}\n ]}\n")
                .expect("valid");
        assert_eq!(chunks.len(), 1);
        let c = &chunks[0];
        let RawKind::Json { records, records_key, .. } = &c.kind else { panic!("json") };
        assert_eq!(records_key.as_ref(), "Records");
        assert_eq!(records.len(), 2);
        assert_eq!(c.position(records[0].1), Position { line: 3, column: 2 });
        assert_eq!(c.position(records[1].1), Position { line: 4, column: 2 });
        assert_eq!(&c.bytes[records[1].1..records[1].1 + 10], b"{\"y\": [2]}");
    }

    #[test]
    fn broken_documents_are_positioned_errors() {
        let err = |text: &str| split(text).expect_err("broken").to_string();
        assert_eq!(err("{\"value\": []}"), "t.json:1:1: records: missing; a flow log has records here");
        assert_eq!(
            err("{\"records\": {}}"),
            "t.json:1:13: records: {}: expected an array of flow-log records"
        );
        assert!(
            err("{\"records\": [{\"a\": 1}").starts_with("t.json:1:22: not valid JSON"),
            "{}",
            err("{\"records\": [{\"a\": 1}")
        );
        assert!(
            err("{\"records\": [{\"a\": [1}]}")
                .starts_with("t.json:1:22: not valid JSON: '}' does not close")
        );
        assert!(err("{\"records\": []} x").starts_with("t.json:1:17: not valid JSON: trailing"));
        assert!(err("  \n").starts_with("t.json:1:1: the file is empty"));
    }
}

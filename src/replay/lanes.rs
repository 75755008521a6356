//! Running a replay on lanes: every thread reads, parses and evaluates.
//!
//! Why: the shards must see their tuples in input order (a connection's records are counted
//! once, and the first disagreements are the first in the input), and before this design the
//! replay kept that order in waves: a reader thread cut the input, a wave of chunks was parsed
//! in parallel, then the shards were evaluated in parallel. Each wave had two barriers and the
//! reader thread was a third thread on two cores; measured on the generated 1,000,000-tuple log
//! (issue 20, sixth round, idle guest), two threads were 1.3–1.45× one.
//!
//! How: `n` lanes, each owning the shards `s` with `s % n == lane`. The inputs are one sequence
//! of items (an input's start, a chunk of whole records, its end, an error that stops it),
//! numbered in input order as the reader makes them. A lane whose next item is not ready takes
//! the next one from the reader (the reader's lock is held only while it cuts a chunk), parses
//! it outside any lock, and publishes it. Every lane goes through every item in order and
//! evaluates the tuples of its own shards, so each shard sees exactly its tuples in input order,
//! as on one lane, and nothing in the result depends on the number of lanes. An item is dropped
//! when every lane has gone past it, and at most [`AHEAD_PER_LANE`] items a lane are in flight:
//! memory stays bounded. Lane 0 also keeps the input-order bookkeeping (the inputs and their
//! formats, what `--skip-bad` skipped, the progress).
//!
//! On one lane this is what the replay did before on one thread: read a chunk, parse it, and
//! evaluate its tuples at once, while they are in the cache, all on one core.
//!
//! Lanes are scoped threads, not rayon tasks: a lane may wait for an item another lane is
//! parsing, or for every lane to go past an item, which needs lanes that truly run at the same
//! time; rayon does not promise that a task it was given starts while the one that gave it
//! waits.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::read::{
    self, BadKind, Catalog, Chunk, FlowLogError, InputFormat, RawChunk, Recycled, Source, Splitter,
};
use super::{Context, InputSummary, Progress, ProgressState, ReplayError, SHARDS, Shard, Skipped, shard_of};
use crate::sim::Duration;

/// How many items a lane may have in flight (read and not yet gone past by every lane).
pub(super) const AHEAD_PER_LANE: usize = 4;

/// What the reader makes, in input order.
enum Message {
    /// An input starts.
    Start { name: String },
    /// A chunk of whole records of it.
    Chunk(RawChunk),
    /// It ends; whether it was JSON.
    End { file: u32, json: Option<bool> },
    /// It could not be read on from here.
    Error { error: FlowLogError },
}

/// The inputs, read in order, one message at a time.
struct Inputs<'a> {
    sources: &'a [Source],
    catalog: &'a Catalog,
    bytes: Arc<AtomicU64>,
    buffers: Arc<Recycled<u8>>,
    skip_bad: bool,
    /// The next source to open.
    next: usize,
    /// The input being read and its index.
    current: Option<(u32, Splitter)>,
    /// Messages made and not given yet.
    queue: VecDeque<Message>,
    /// Nothing more is read (all read, or an input could not be read on and `skip_bad` is off).
    finished: bool,
}

impl Inputs<'_> {
    /// The next message, or `None` when all is read: an input's start, its chunks, its end; an
    /// error ends everything unless `skip_bad` (the rest of that input is skipped; an input that
    /// cannot be opened ends everything).
    fn pull(&mut self) -> Option<Message> {
        loop {
            if let Some(m) = self.queue.pop_front() {
                return Some(m);
            }
            if self.finished {
                return None;
            }
            let Some((file, splitter)) = &mut self.current else {
                let Some(source) = self.sources.get(self.next) else {
                    self.finished = true;
                    continue;
                };
                self.next += 1;
                let name = source.name();
                let file = self.catalog.add_file(name.clone());
                self.queue.push_back(Message::Start { name: name.clone() });
                match read::open(source, self.bytes.clone()) {
                    Ok((reader, gzip)) => {
                        let splitter =
                            Splitter::new(reader, file, name.into(), gzip).recycling(self.buffers.clone());
                        self.current = Some((file, splitter));
                    }
                    Err(error) => {
                        self.queue.push_back(Message::Error { error });
                        self.finished = true;
                    }
                }
                continue;
            };
            match splitter.next_chunk() {
                Ok(Some(chunk)) => return Some(Message::Chunk(chunk)),
                Ok(None) => {
                    self.queue.push_back(Message::End { file: *file, json: splitter.is_json() });
                    self.current = None;
                }
                Err(error) => {
                    let end = Message::End { file: *file, json: splitter.is_json() };
                    self.queue.push_back(Message::Error { error });
                    if self.skip_bad {
                        self.queue.push_back(end);
                    } else {
                        self.finished = true;
                    }
                    self.current = None;
                }
            }
        }
    }
}

/// The reader and the numbers it gave.
struct Reader<'a> {
    inputs: Inputs<'a>,
    /// The next item's number.
    next: u64,
    /// The inputs' names by index, for parsing their chunks.
    names: Vec<Arc<Path>>,
}

/// A parsed chunk and the shard of each of its tuples.
struct Parsed {
    chunk: Chunk,
    shards: Vec<u8>,
}

/// One item, as every lane sees it.
enum Item {
    /// An input starts.
    Start { name: String },
    /// A chunk, parsed.
    Chunk(Parsed),
    /// An input ends.
    End { file: u32, json: Option<bool> },
    /// An input could not be read on, and `--skip-bad` skips the rest of it.
    Skipped { error: FlowLogError },
    /// The replay stops here (the error is in [`Ring::stop`]).
    Stop,
}

/// The items in flight, from the oldest that some lane has not gone past.
struct Ring {
    /// The number of `items[0]`.
    base: u64,
    /// Each item (`None` while it is parsed) and how many lanes went past it.
    items: VecDeque<(Option<Arc<Item>>, usize)>,
    /// Every item is numbered: how many there are.
    total: Option<u64>,
    /// The first item that stops the replay, and its error.
    stop: Option<(u64, FlowLogError)>,
    /// A lane could not be started, or one panicked: every lane stops.
    aborted: bool,
}

impl Ring {
    fn slot(&mut self, number: u64) -> &mut (Option<Arc<Item>>, usize) {
        let at = (number - self.base) as usize;
        while self.items.len() <= at {
            self.items.push_back((None, 0));
        }
        &mut self.items[at]
    }

    /// The item `number`, when it is ready.
    fn ready(&self, number: u64) -> Option<Arc<Item>> {
        let at = usize::try_from(number.checked_sub(self.base)?).ok()?;
        self.items.get(at).and_then(|(item, _)| item.clone())
    }

    /// Whether `number` is past the last item, or at the item that stops the replay.
    fn done(&self, number: u64) -> bool {
        self.aborted
            || self.total.is_some_and(|t| number >= t)
            || self.stop.as_ref().is_some_and(|(s, _)| number >= *s)
    }
}

/// What lane 0 keeps in input order.
#[derive(Default)]
pub(super) struct Bookkeeping {
    /// The inputs, in order.
    pub(super) inputs: Vec<InputSummary>,
    /// Per input: the highest NSG flow-log version, whether VNet flow-log records, whether CSV.
    pub(super) formats: Vec<(Option<u8>, bool, bool)>,
    /// What `--skip-bad` skipped.
    pub(super) skipped: Skipped,
    /// Tuples read.
    pub(super) tuples: usize,
}

/// What every lane shares.
struct Shared<'a, 'c> {
    reader: Mutex<Reader<'a>>,
    ring: Mutex<Ring>,
    /// Told when an item is published, when items are dropped, and when the replay ends.
    changed: Condvar,
    lanes: usize,
    ahead: u64,
    ctx: &'a Context<'c>,
    latest_at: Duration,
    /// Chunks' bytes (the reader takes them, parsing gives them back).
    buffers: Arc<Recycled<u8>>,
    tuple_lists: Recycled<read::Tuple>,
    shard_lists: Recycled<u8>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The inputs the lanes read, and where their bytes are counted.
pub(super) struct Reading<'a> {
    /// The inputs, in order.
    pub(super) sources: &'a [Source],
    /// Bytes read from storage.
    pub(super) bytes: Arc<AtomicU64>,
    /// The most lanes (at most [`SHARDS`] are used).
    pub(super) lanes: usize,
    /// The last offset the calendar reaches (a CSV `at` past it is refused).
    pub(super) latest_at: Duration,
}

/// Runs the replay on lanes (see the module docs): every shard handles its tuples in input
/// order; returns lane 0's bookkeeping.
///
/// # Errors
/// The first item in input order that stops the replay (an input that cannot be opened or read,
/// a malformed record without `skip_bad`), or a lane that cannot be started.
pub(super) fn run(
    reading: Reading<'_>,
    ctx: &Context<'_>,
    shards: &[Mutex<Shard<'_>>],
    progress: &dyn Progress,
) -> Result<Bookkeeping, ReplayError> {
    let lanes = reading.lanes.clamp(1, SHARDS);
    let ahead = (AHEAD_PER_LANE * lanes) as u64;
    // Each item in flight holds one chunk's bytes until it is parsed, and its tuples and shards
    // until every lane is past it.
    let lists = ahead as usize + lanes;
    let buffers = Arc::new(Recycled::new(lists, 2 * read::CHUNK_BYTES));
    let inputs = Inputs {
        sources: reading.sources,
        catalog: ctx.catalog,
        bytes: reading.bytes.clone(),
        buffers: buffers.clone(),
        skip_bad: ctx.options.skip_bad,
        next: 0,
        current: None,
        queue: VecDeque::new(),
        finished: false,
    };
    let shared = Shared {
        reader: Mutex::new(Reader { inputs, next: 0, names: Vec::new() }),
        ring: Mutex::new(Ring { base: 0, items: VecDeque::new(), total: None, stop: None, aborted: false }),
        changed: Condvar::new(),
        lanes,
        ahead,
        ctx,
        latest_at: reading.latest_at,
        buffers,
        tuple_lists: Recycled::new(lists, 8192),
        shard_lists: Recycled::new(lists, 8192),
    };
    let shown = ProgressState {
        inputs: reading.sources.len(),
        total_bytes: reading.sources.iter().map(Source::size).sum::<Option<u64>>(),
        ..ProgressState::default()
    };
    let shared = &shared;
    let bookkeeping = std::thread::scope(|scope| -> Result<Bookkeeping, ReplayError> {
        let mut others = Vec::with_capacity(lanes - 1);
        for lane in 1..lanes {
            let spawned = std::thread::Builder::new()
                .name(format!("replay-lane-{lane}"))
                .spawn_scoped(scope, move || drive(shared, shards, lane, None));
            match spawned {
                Ok(handle) => others.push(handle),
                Err(source) => {
                    // Stop the lanes started so far, then say why.
                    lock(&shared.ring).aborted = true;
                    shared.changed.notify_all();
                    for handle in others {
                        let _ = handle.join();
                    }
                    return Err(ReplayError::Lanes { lanes, source });
                }
            }
        }
        let mut kept =
            Keeping { bookkeeping: Bookkeeping::default(), shown, progress, bytes: &reading.bytes };
        drive(shared, shards, 0, Some(&mut kept));
        for handle in others {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Ok(kept.bookkeeping)
    })?;
    let stop = lock(&shared.ring).stop.take();
    match stop {
        Some((_, error)) => Err(error.into()),
        None => Ok(bookkeeping),
    }
}

/// Lane 0's bookkeeping and where it reports progress.
struct Keeping<'p> {
    bookkeeping: Bookkeeping,
    shown: ProgressState,
    progress: &'p dyn Progress,
    bytes: &'p AtomicU64,
}

impl Keeping<'_> {
    fn keep(&mut self, item: &Item, samples: usize) {
        let b = &mut self.bookkeeping;
        match item {
            Item::Start { name } => {
                b.inputs.push(InputSummary { name: name.clone(), format: InputFormat::Csv });
                b.formats.push((None, false, false));
            }
            Item::Chunk(parsed) => {
                let chunk = &parsed.chunk;
                if let Some(f) = b.formats.get_mut(chunk.file as usize) {
                    f.0 = f.0.max(chunk.nsg_version);
                    f.1 |= chunk.vnet;
                    f.2 |= chunk.csv;
                }
                for bad in &chunk.bad {
                    match bad.what {
                        BadKind::Tuple => b.skipped.tuples += 1,
                        BadKind::Record => b.skipped.records += 1,
                        BadKind::RestOfInput => b.skipped.rest_of_inputs += 1,
                    }
                    if b.skipped.first.len() < samples {
                        b.skipped.first.push(bad.error.to_string());
                    }
                }
                b.tuples += chunk.tuples.len();
            }
            Item::End { file, json } => {
                if let Some(f) = b.formats.get_mut(*file as usize) {
                    f.2 = *json == Some(false);
                }
                self.shown.inputs_done += 1;
            }
            Item::Skipped { error } => {
                b.skipped.rest_of_inputs += 1;
                if b.skipped.first.len() < samples {
                    b.skipped.first.push(format!("{error} (the rest of this input is skipped)"));
                }
                // The input's end follows (and counts it done).
            }
            Item::Stop => {}
        }
        self.shown.bytes = self.bytes.load(Ordering::Relaxed);
        self.shown.tuples = b.tuples as u64;
        if matches!(item, Item::Chunk(_) | Item::End { .. }) {
            self.progress.update(&self.shown);
        }
    }
}

/// What a lane does next.
enum Next {
    /// Go past this item.
    Pass(Arc<Item>),
    /// Read the next item.
    Read,
    /// Nothing is left.
    Done,
}

/// One lane: goes past every item in order, handling the tuples of its shards, and reads and
/// parses items when its next one is not ready; `keeping` on lane 0.
fn drive(
    shared: &Shared<'_, '_>,
    shards: &[Mutex<Shard<'_>>],
    lane: usize,
    mut keeping: Option<&mut Keeping<'_>>,
) {
    let lanes = shared.lanes;
    let _stop_all_if_this_lane_panics = StopAllOnPanic(shared);
    // This lane's shards, held for the whole replay: shard `s` is `mine[s / lanes]`.
    let mut mine: Vec<MutexGuard<'_, Shard<'_>>> =
        shards.iter().skip(lane).step_by(lanes).map(lock).collect();
    let mut next = 0u64;
    loop {
        let step = {
            let mut ring = lock(&shared.ring);
            loop {
                if ring.done(next) {
                    break Next::Done;
                }
                if let Some(item) = ring.ready(next) {
                    break Next::Pass(item);
                }
                if ring.total.is_none() && ring.stop.is_none() && (ring.items.len() as u64) < shared.ahead {
                    break Next::Read;
                }
                ring = shared.changed.wait(ring).unwrap_or_else(|e| e.into_inner());
            }
        };
        match step {
            Next::Done => return,
            Next::Read => read_one(shared),
            Next::Pass(item) => {
                if let Item::Chunk(parsed) = &*item {
                    let chunk = &parsed.chunk;
                    for (i, (t, &s)) in chunk.tuples.iter().zip(&parsed.shards).enumerate() {
                        let s = usize::from(s);
                        if s % lanes == lane {
                            mine[s / lanes].handle(shared.ctx, chunk, i, t);
                        }
                    }
                }
                if let Some(keeping) = keeping.as_deref_mut() {
                    keeping.keep(&item, shared.ctx.options.samples);
                }
                drop(item);
                went_past(shared, next);
                next += 1;
            }
        }
    }
}

/// Stops every lane when the lane holding it panics (a defect), so that the others do not wait
/// for it for ever: the panic then reaches the caller once every lane has stopped.
struct StopAllOnPanic<'s, 'a, 'c>(&'s Shared<'a, 'c>);

impl Drop for StopAllOnPanic<'_, '_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(&self.0.ring).aborted = true;
            self.0.changed.notify_all();
        }
    }
}

/// Counts one more lane past item `number`; drops the items every lane went past.
fn went_past(shared: &Shared<'_, '_>, number: u64) {
    let mut dropped = Vec::new();
    {
        let mut ring = lock(&shared.ring);
        ring.slot(number).1 += 1;
        while ring.items.front().is_some_and(|(item, past)| item.is_some() && *past == shared.lanes) {
            if let Some((Some(item), _)) = ring.items.pop_front() {
                dropped.push(item);
            }
            ring.base += 1;
        }
    }
    if dropped.is_empty() {
        return;
    }
    shared.changed.notify_all();
    for item in dropped {
        if let Some(Item::Chunk(parsed)) = Arc::into_inner(item) {
            shared.tuple_lists.give_back([parsed.chunk.tuples]);
            shared.shard_lists.give_back([parsed.shards]);
        }
    }
}

/// Reads the next item, parses it when it is a chunk, and publishes it.
fn read_one(shared: &Shared<'_, '_>) {
    let (number, message, name) = {
        let mut reader = lock(&shared.reader);
        let message = reader.inputs.pull();
        let number = reader.next;
        let Some(message) = message else {
            drop(reader);
            let mut ring = lock(&shared.ring);
            ring.total = Some(number);
            drop(ring);
            shared.changed.notify_all();
            return;
        };
        reader.next += 1;
        if let Message::Start { name } = &message {
            reader.names.push(Arc::from(Path::new(name)));
        }
        let name = match &message {
            Message::Chunk(raw) => reader.names.get(raw.file as usize).cloned(),
            _ => None,
        };
        // The slot exists before the lock is let go, so that the number is never past the
        // ring's end while the item is parsed.
        lock(&shared.ring).slot(number);
        (number, message, name)
    };
    let (item, stop) = match message {
        Message::Start { name } => (Item::Start { name }, None),
        Message::End { file, json } => (Item::End { file, json }, None),
        Message::Error { error } => {
            if shared.ctx.options.skip_bad && !matches!(error, FlowLogError::Read { .. }) {
                (Item::Skipped { error }, None)
            } else {
                (Item::Stop, Some(error))
            }
        }
        Message::Chunk(raw) => {
            let name = name.unwrap_or_else(|| Arc::from(Path::new("")));
            let into = shared.tuple_lists.take(0);
            let parsed = read::parse_chunk_into(
                &raw,
                shared.ctx.catalog,
                &name,
                shared.ctx.options.skip_bad,
                Some(shared.latest_at),
                into,
            );
            shared.buffers.give_back([raw.bytes]);
            match parsed {
                Ok(chunk) => {
                    let mut shards = shared.shard_lists.take(chunk.tuples.len());
                    shards.extend(chunk.tuples.iter().enumerate().map(|(i, t)| shard_of(&chunk, i, t) as u8));
                    (Item::Chunk(Parsed { chunk, shards }), None)
                }
                Err(error) => (Item::Stop, Some(error)),
            }
        }
    };
    {
        let mut ring = lock(&shared.ring);
        if let Some(error) = stop
            && ring.stop.as_ref().is_none_or(|(s, _)| number < *s)
        {
            ring.stop = Some((number, error));
        }
        ring.slot(number).0 = Some(Arc::new(item));
    }
    shared.changed.notify_all();
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::{NoProgress, Options, Replay, Timing, replay};
    use super::*;
    use crate::scenario::load_str;

    /// A CSV replay of scenario 01 of `rows` rows (many chunks), with a bad port at `bad`.
    fn csv(rows: usize, bad: Option<usize>) -> String {
        let mut out = String::from("src,dst,src_port,dst_port,protocol,expected,at\n");
        for i in 0..rows {
            let port = if Some(i) == bad { "99999".to_string() } else { [443, 22, 3389][i % 3].to_string() };
            let expected = if i % 3 == 0 { "allow" } else { "deny" };
            out.push_str(&format!(
                "198.18.{}.{},10.0.1.4,{},{port},tcp,{expected},0\n",
                i / 250 % 250,
                i % 250 + 1,
                1024 + i % 60_000
            ));
        }
        out
    }

    /// What a replay answered, without what may differ (nothing may).
    fn answer(r: &Replay) -> String {
        format!("{:?} {} {} {:?} {:?} {:?}", r.tally, r.tuples, r.flows, r.skipped, r.inputs, r.counts)
    }

    fn run(files: &[PathBuf], threads: usize, skip_bad: bool) -> Result<String, String> {
        let text = include_str!("../../scenarios/01-nsg-evaluation-order.ron");
        let scenario = load_str(text, Path::new("01.ron")).expect("loads");
        let sources: Vec<Source> = files.iter().cloned().map(Source::File).collect();
        let options = Options { timing: Timing::default(), skip_bad, samples: 5, threads };
        replay(&scenario.world(), &scenario.steps, &sources, &options, &NoProgress)
            .map(|r| answer(&r))
            .map_err(|e| e.to_string())
    }

    /// A progress display that panics, standing for a defect on lane 0.
    struct Boom;

    impl Progress for Boom {
        fn update(&self, _: &ProgressState) {
            panic!("boom");
        }
    }

    #[test]
    fn a_lane_that_panics_stops_the_others_and_the_panic_reaches_the_caller() {
        let dir = std::env::temp_dir().join(format!("nsgsim-lanes-panic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let path = dir.join("many.csv");
        std::fs::write(&path, csv(60_000, None)).expect("written");
        let (tx, rx) = std::sync::mpsc::channel();
        let sources = vec![Source::File(path)];
        std::thread::spawn(move || {
            let text = include_str!("../../scenarios/01-nsg-evaluation-order.ron");
            let scenario = load_str(text, Path::new("01.ron")).expect("loads");
            let options = Options { timing: Timing::default(), skip_bad: false, samples: 5, threads: 3 };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                replay(&scenario.world(), &scenario.steps, &sources, &options, &Boom).is_ok()
            }));
            let _ = tx.send(outcome.is_err());
        });
        // Without the guard the other lanes wait for lane 0 for ever.
        let panicked = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the replay ends");
        assert!(panicked, "the panic reaches the caller");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A progress display that keeps the last state it was shown.
    #[derive(Default)]
    struct Last(Mutex<ProgressState>);

    impl Progress for Last {
        fn update(&self, state: &ProgressState) {
            *lock(&self.0) = *state;
        }
    }

    #[test]
    fn progress_counts_each_input_done_once_even_when_the_rest_of_one_is_skipped() {
        let dir = std::env::temp_dir().join(format!("nsgsim-lanes-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let log = include_str!("../../tests/data/flowlogs/nsg-v2-web-subnet.json");
        let cut = dir.join("cut.json");
        std::fs::write(&cut, &log[..log.len() * 2 / 3]).expect("written");
        let good = dir.join("good.csv");
        std::fs::write(&good, csv(30_000, None)).expect("written");
        let text = include_str!("../../scenarios/01-nsg-evaluation-order.ron");
        let scenario = load_str(text, Path::new("01.ron")).expect("loads");
        for threads in [1, 2] {
            let last = Last::default();
            let options = Options { timing: Timing::default(), skip_bad: true, samples: 5, threads };
            let sources = [Source::File(cut.clone()), Source::File(good.clone())];
            let r = replay(&scenario.world(), &scenario.steps, &sources, &options, &last).expect("skips");
            assert_eq!(r.skipped.rest_of_inputs, 1, "{threads} threads");
            let shown = *lock(&last.0);
            assert_eq!((shown.inputs_done, shown.inputs), (2, 2), "{threads} threads");
            assert_eq!(shown.tuples, r.tuples as u64, "{threads} threads");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn any_number_of_lanes_answers_as_one_and_stops_at_the_first_error_in_input_order() {
        let dir = std::env::temp_dir().join(format!("nsgsim-lanes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("written");
            path
        };
        // About 40 bytes a row: 30,000 rows are about ten chunks.
        let good = write("good.csv", &csv(30_000, None));
        let late = write("late.csv", &csv(30_000, Some(25_000)));
        let early = write("early.csv", &csv(30_000, Some(100)));
        let files = [good.clone(), late.clone(), good.clone(), early.clone()];
        let one = run(&files, 1, true).expect("skips the bad rows");
        assert!(one.contains("tuples: 2"), "two bad rows skipped: {one}");
        let stopped = run(&files, 1, false).expect_err("the first bad row stops it");
        assert!(stopped.contains("late.csv:25002:"), "{stopped}");
        for lanes in [2, 3, 5, 16, 40] {
            assert_eq!(run(&files, lanes, true).as_ref(), Ok(&one), "{lanes} lanes");
            assert_eq!(run(&files, lanes, false).as_ref(), Err(&stopped), "{lanes} lanes");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

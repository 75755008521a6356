//! Flow-log replay throughput (issue 20), on a generated NSG flow log (version 2) for
//! `scenarios/01-nsg-evaluation-order.ron` (see `flowlog_gen.rs`):
//! - `replay/read`: cutting the log into chunks and parsing its tuples, one thread;
//! - `replay/full/{threads}`: the whole replay (read, one flow per connection, evaluation,
//!   totals) on 1 and 2 threads (lanes).
//!
//! Throughput is in tuples (flow-log records). Run: `cargo bench --bench replay`.
//! `NSGSIM_WRITE_FLOWLOG=FILE [NSGSIM_FLOWLOG_TUPLES=N] cargo bench --bench replay` writes a log
//! of N tuples (default 1,000,000) to FILE and runs nothing, so that the CLI can be timed on the
//! same input (`nsgsim replay scenarios/01-nsg-evaluation-order.ron FILE --at 0`), and CPython's
//! `json.load` beside it.

mod flowlog_gen;

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use nsgsim::replay::read::{Catalog, Splitter, parse_chunk};
use nsgsim::replay::{NoProgress, Options, Timing, replay};
use nsgsim::scenario::load_file;
use nsgsim::sim::Duration;

/// Tuples in the benched log (the CLI figures use the 1,000,000-tuple file).
const TUPLES: usize = 200_000;

fn log_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    flowlog_gen::write_nsg_v2(&mut out, TUPLES, 20).expect("the log is generated");
    out
}

fn bench_read(c: &mut Criterion) {
    let bytes = log_bytes();
    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(TUPLES as u64));
    group.sample_size(10);
    group.bench_function("read", |b| {
        b.iter(|| {
            let catalog = Catalog::default();
            let file = catalog.add_file("gen.json".into());
            let mut splitter =
                Splitter::new(Box::new(std::io::Cursor::new(bytes.clone())), file, "gen.json".into(), false);
            let mut tuples = 0;
            while let Some(raw) = splitter.next_chunk().expect("the log splits") {
                tuples += parse_chunk(&raw, &catalog, Path::new("gen.json"), false)
                    .expect("it parses")
                    .tuples
                    .len();
            }
            assert_eq!(tuples, TUPLES);
            tuples
        })
    });
    group.finish();
}

fn bench_full(c: &mut Criterion) {
    let path: PathBuf = std::env::temp_dir().join(format!("nsgsim-bench-{}.json", std::process::id()));
    std::fs::write(&path, log_bytes()).expect("the temp file is writable");
    let scenario = load_file(Path::new("scenarios/01-nsg-evaluation-order.ron")).expect("the scenario loads");
    let world = scenario.world();
    let sources = nsgsim::replay::read::expand(std::slice::from_ref(&path)).expect("the log is there");
    let options = |threads| Options {
        timing: Timing { at: Some(Duration::from_secs(0)), log_start: None },
        skip_bad: false,
        samples: 10,
        threads,
    };
    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(TUPLES as u64));
    group.sample_size(10);
    for threads in [1usize, 2] {
        let options = options(threads);
        group.bench_with_input(BenchmarkId::new("full", threads), &threads, |b, _| {
            b.iter(|| {
                let r = replay(&world, &scenario.steps, &sources, &options, &NoProgress)
                    .expect("the replay runs");
                assert_eq!(r.tuples, TUPLES);
                assert_eq!(r.tally.disagreements, 0, "the generated log agrees with scenario 01");
                r.tally.evaluated
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench_read, bench_full);

fn main() {
    if let Ok(path) = std::env::var("NSGSIM_WRITE_FLOWLOG") {
        let tuples: usize =
            std::env::var("NSGSIM_FLOWLOG_TUPLES").ok().and_then(|t| t.parse().ok()).unwrap_or(1_000_000);
        let file = std::fs::File::create(&path).expect("the flow-log file is writable");
        let mut out = std::io::BufWriter::new(file);
        flowlog_gen::write_nsg_v2(&mut out, tuples, 20).expect("the flow log is written");
        std::io::Write::flush(&mut out).expect("the flow log is written");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

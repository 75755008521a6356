//! `nsgsim classbench RULES TRACE`: checks a matcher engine against a ClassBench filter set and
//! its header trace, and measures it (build time, memory, lookups per second on one core in trace
//! and shuffled order, and batch throughput over 1..N rayon threads).
//!
//! Every lookup is compared with the trace's expected first match and, unless `--no-oracle`, with
//! the linear oracle. Any disagreement prints the first few packets and exits 1; a malformed file
//! is an error (exit 2).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::json;

use super::common::print_json;
use super::{EXIT_FAILED, EXIT_OK, Format};
use crate::classbench::{MatchBase, TraceEntry, load_rules, load_trace};
use crate::matcher::{Engine, LinearMatcher, Matcher};
use crate::net::Flow;

/// Arguments of `nsgsim classbench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// ClassBench filter set (one rule per line, line order = priority).
    pub rules: PathBuf,
    /// ClassBench header trace whose last column is the expected first match (see --match-base).
    pub trace: PathBuf,
    /// How the trace numbers rules: 0 = the first rule is 0 (the sets in tests/data/classbench),
    /// 1 = the first rule is 1 (Song / HyperSplit traces).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub match_base: u8,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Matcher engine to check and measure.
    #[arg(long, value_enum, default_value_t = EngineArg::Compiled)]
    pub engine: EngineArg,
    /// Largest number of threads for the batch run (it runs 1, 2, 4, … up to this); default: the
    /// available cores. At most 1024, like `replay --threads`.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Skip the comparison with the linear oracle (it takes about 3 µs per lookup at 10K rules).
    #[arg(long)]
    pub no_oracle: bool,
    /// Timed passes over the trace for each throughput figure (the median is reported).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// How many mismatching packets to show.
    #[arg(long, default_value_t = 5)]
    pub show: usize,
}

/// `--engine` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    /// The compiled bitset engine.
    Compiled,
    /// The linear scan.
    Linear,
}

impl From<EngineArg> for Engine {
    fn from(arg: EngineArg) -> Engine {
        match arg {
            EngineArg::Compiled => Engine::Compiled,
            EngineArg::Linear => Engine::Linear,
        }
    }
}

/// One lookup whose answer differs from an expectation.
struct Mismatch {
    line: usize,
    flow: Flow,
    expected: Option<usize>,
    got: Option<usize>,
    against: &'static str,
}

/// Throughput of one measured configuration.
#[derive(Clone, Copy)]
struct Rate {
    lookups_per_sec: f64,
}

impl Rate {
    fn of(lookups: usize, elapsed: Duration) -> Rate {
        Rate { lookups_per_sec: lookups as f64 / elapsed.as_secs_f64().max(1e-12) }
    }
    fn ns(self) -> f64 {
        1e9 / self.lookups_per_sec
    }
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let rules = load_rules(&args.rules)?;
    let base = if args.match_base == 0 { MatchBase::Zero } else { MatchBase::One };
    let trace = load_trace(&args.trace, rules.len(), base)?;
    let shown = |r: Option<usize>| r.map(|r| r + usize::from(args.match_base));
    let engine = Engine::from(args.engine);

    let started = Instant::now();
    let matcher = Matcher::build(engine, rules.clone()).context("cannot compile the rules")?;
    let build = started.elapsed();
    let flows: Vec<Flow> = trace.iter().map(|e| e.flow).collect();

    let mut mismatches = check_trace(&matcher, &trace);
    let trace_mismatches = mismatches.len();
    let mut oracle = None;
    if !args.no_oracle {
        let linear = LinearMatcher::new(rules.clone());
        let started = Instant::now();
        let answers: Vec<Option<usize>> = flows.iter().map(|f| linear.first_match(f)).collect();
        let rate = Rate::of(flows.len(), started.elapsed());
        let before = mismatches.len();
        for (entry, want) in trace.iter().zip(&answers) {
            let got = matcher.first_match(&entry.flow);
            if got != *want {
                mismatches.push(Mismatch {
                    line: entry.line,
                    flow: entry.flow,
                    expected: *want,
                    got,
                    against: "linear oracle",
                });
            }
        }
        oracle = Some((mismatches.len() - before, rate));
    }

    let trace_order = single_core(&matcher, &flows, args.rounds);
    let mut shuffled_flows = flows.clone();
    shuffled_flows.shuffle(&mut StdRng::seed_from_u64(0x5EED));
    let shuffled = single_core(&matcher, &shuffled_flows, args.rounds);
    let max_threads = args
        .threads
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let batch = batch_scaling(&matcher, &flows, max_threads.max(1), args.rounds)?;

    let code = if mismatches.is_empty() { EXIT_OK } else { EXIT_FAILED };
    let engine_name = match engine {
        Engine::Compiled => "compiled",
        Engine::Linear => "linear",
    };
    match args.format {
        Format::Json => print_json(&json!({
            "rules_file": args.rules.display().to_string(),
            "trace_file": args.trace.display().to_string(),
            "rules": rules.len(),
            "packets": trace.len(),
            "engine": engine_name,
            "build_ms": build.as_secs_f64() * 1e3,
            "heap_bytes": matcher.heap_bytes(),
            "structure": matcher.compiled_stats().map(|st| json!({
                "boxes": st.boxes,
                "words_per_bitset": st.words,
                "bitsets_per_lookup": st.bitsets_per_lookup,
                "classes": { "ports": st.classes.ports, "src": st.classes.src, "dst": st.classes.dst },
                "intervals": {
                    "src": { "v4": st.src_intervals.0, "v6": st.src_intervals.1 },
                    "dst": { "v4": st.dst_intervals.0, "v6": st.dst_intervals.1 },
                },
            })),
            "trace_mismatches": trace_mismatches,
            "oracle_mismatches": oracle.map(|(n, _)| n),
            "linear_lookups_per_sec": oracle.map(|(_, r)| r.lookups_per_sec),
            "lookups_per_sec": { "trace_order": trace_order.lookups_per_sec, "shuffled": shuffled.lookups_per_sec },
            "speedup_over_linear": oracle.map(|(_, r)| trace_order.lookups_per_sec / r.lookups_per_sec),
            "batch": batch.iter().map(|(t, r)| json!({ "threads": t, "lookups_per_sec": r.lookups_per_sec })).collect::<Vec<_>>(),
            "mismatches": mismatches.iter().take(args.show).map(|m| json!({
                "line": m.line,
                "packet": m.flow.to_string(),
                "against": m.against,
                "expected_rule": shown(m.expected),
                "got_rule": shown(m.got),
            })).collect::<Vec<_>>(),
        })),
        Format::Text => {
            let mut out = String::new();
            let mut line = |s: String| {
                out.push_str(&s);
                out.push('\n');
            };
            line(format!("rules:        {} ({} rules)", args.rules.display(), rules.len()));
            line(format!("trace:        {} ({} packets)", args.trace.display(), trace.len()));
            line(format!("engine:       {engine_name}"));
            line(format!("build:        {:.2} ms", build.as_secs_f64() * 1e3));
            line(format!("memory:       {:.2} MiB", matcher.heap_bytes() as f64 / (1024.0 * 1024.0)));
            if let Some(st) = matcher.compiled_stats() {
                line(format!(
                    "structure:    {} boxes, {} words a bitset, {} bitsets a lookup; classes: ports {}, src {}, dst {}; IPv4 intervals: src {}, dst {}",
                    st.boxes,
                    st.words,
                    st.bitsets_per_lookup,
                    st.classes.ports,
                    st.classes.src,
                    st.classes.dst,
                    st.src_intervals.0,
                    st.dst_intervals.0
                ));
            }
            line(format!("trace check:  {trace_mismatches} mismatches in {} lookups", trace.len()));
            match oracle {
                Some((n, rate)) => line(format!(
                    "oracle check: {n} mismatches with the linear oracle (linear: {:.3} M lookups/s, {:.0} ns)",
                    rate.lookups_per_sec / 1e6,
                    rate.ns()
                )),
                None => line("oracle check: skipped (--no-oracle)".to_string()),
            }
            line(format!(
                "single core:  {:.2} M lookups/s in trace order ({:.1} ns), {:.2} M/s shuffled ({:.1} ns)",
                trace_order.lookups_per_sec / 1e6,
                trace_order.ns(),
                shuffled.lookups_per_sec / 1e6,
                shuffled.ns()
            ));
            if let Some((_, rate)) = oracle {
                line(format!(
                    "speed-up:     {:.0}x over the linear scan",
                    trace_order.lookups_per_sec / rate.lookups_per_sec
                ));
            }
            let one = batch.first().map_or(1.0, |(_, r)| r.lookups_per_sec);
            let parts: Vec<String> = batch
                .iter()
                .map(|(t, r)| {
                    format!(
                        "{t} thread{}: {:.2} M/s ({:.2}x)",
                        if *t == 1 { "" } else { "s" },
                        r.lookups_per_sec / 1e6,
                        r.lookups_per_sec / one
                    )
                })
                .collect();
            line(format!("batch:        {}", parts.join(", ")));
            for m in mismatches.iter().take(args.show) {
                let show = |r: Option<usize>| shown(r).map_or("no rule".to_string(), |r| format!("rule {r}"));
                line(format!(
                    "mismatch:     {}:{}: {}: {} expects {}, the {engine_name} engine says {}",
                    args.trace.display(),
                    m.line,
                    m.flow,
                    m.against,
                    show(m.expected),
                    show(m.got)
                ));
            }
            if mismatches.len() > args.show {
                line(format!("              … and {} more", mismatches.len() - args.show));
            }
            print!("{out}");
        }
    }
    Ok(code)
}

/// Every trace entry whose first match differs from the trace's expectation.
fn check_trace(matcher: &Matcher, trace: &[TraceEntry]) -> Vec<Mismatch> {
    trace
        .iter()
        .filter_map(|e| {
            let got = matcher.first_match(&e.flow);
            (got != Some(e.expected)).then_some(Mismatch {
                line: e.line,
                flow: e.flow,
                expected: Some(e.expected),
                got,
                against: "trace",
            })
        })
        .collect()
}

/// The median of `rounds` timed single-threaded passes over `flows`.
fn single_core(matcher: &Matcher, flows: &[Flow], rounds: u32) -> Rate {
    // One untimed pass warms the caches, like the published harnesses do.
    for f in flows {
        black_box(matcher.first_match(black_box(f)));
    }
    median((0..rounds).map(|_| {
        let started = Instant::now();
        for f in flows {
            black_box(matcher.first_match(black_box(f)));
        }
        Rate::of(flows.len(), started.elapsed())
    }))
}

/// Batch throughput on rayon pools of 1, 2, 4, … `max_threads` threads.
fn batch_scaling(
    matcher: &Matcher,
    flows: &[Flow],
    max_threads: usize,
    rounds: u32,
) -> anyhow::Result<Vec<(usize, Rate)>> {
    let mut counts: Vec<usize> =
        std::iter::successors(Some(1usize), |&t| Some(t * 2)).take_while(|&t| t < max_threads).collect();
    counts.push(max_threads);
    let mut out = vec![None; flows.len()];
    let mut rates = Vec::new();
    for threads in counts {
        // The system may refuse threads below the limit (a low ulimit): say so once, with the
        // flag, instead of the pool's error and its cause repeating each other.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
            anyhow::anyhow!(
                "--threads: cannot start {threads} threads ({e}); valid: fewer threads, from 1 to what the system allows"
            )
        })?;
        let rate = pool.install(|| {
            matcher.first_match_batch(flows, &mut out);
            median((0..rounds).map(|_| {
                let started = Instant::now();
                matcher.first_match_batch(flows, &mut out);
                black_box(&out);
                Rate::of(flows.len(), started.elapsed())
            }))
        });
        rates.push((threads, rate));
    }
    Ok(rates)
}

fn median(rates: impl Iterator<Item = Rate>) -> Rate {
    let mut all: Vec<Rate> = rates.collect();
    all.sort_by(|a, b| a.lookups_per_sec.total_cmp(&b.lookups_per_sec));
    all[all.len() / 2]
}

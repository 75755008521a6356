//! Matcher benchmarks (issue 3): build time, lookup throughput, single-rule updates and batch
//! scaling, on the ClassBench 10K sets and on NSG-like sets of 10, 100 and 1,000 rules.
//!
//! Run: `cargo bench --bench matcher` (a few minutes on 2 cores); one group:
//! `cargo bench --bench matcher -- evaluate/`. Inputs are built outside the timed closures from
//! `tests/data/classbench/` and from the seeded generator `nsgsim::matcher::synth`.
//!
//! Group `service_tags` (issue 19 item 7): the load time of a service-tag file in the shape of
//! Microsoft's weekly download (generated at the real Public file's size, and Microsoft's own
//! file when `../shared/data/real-world/service-tags/` is beside the checkout), and an NSG whose
//! rule names `AzureCloud` (13,155 prefixes) from that file: its compiled size (printed once)
//! and its lookup rate. `cargo bench --bench matcher -- service_tags/`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nsgsim::classbench::{MatchBase, load_rules, load_trace};
use nsgsim::matcher::{CompiledMatcher, Engine, LinearMatcher, MatchBox, MatchRule, Matcher, synth};
use nsgsim::net::{AddrSet, Flow, IpProtocol, PortRange, PortSet, ProtocolSet};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

#[path = "common/service_tag_file.rs"]
mod service_tag_file;

const SETS: [&str; 3] = ["acl1_10K", "fw1_10K", "ipc1_10K"];
const NSG_SIZES: [usize; 3] = [10, 100, 1000];

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/classbench").join(name)
}

/// A ClassBench set and its trace's flows, in trace order.
fn classbench(set: &str) -> (Vec<MatchRule>, Vec<Flow>) {
    let rules = load_rules(&data(set)).expect("bundled filter set");
    let trace =
        load_trace(&data(&format!("{set}_trace")), rules.len(), MatchBase::Zero).expect("bundled trace");
    (rules, trace.into_iter().map(|e| e.flow).collect())
}

/// An NSG-like set of `n` rules and 10,000 flows aimed at its rules' corners.
fn nsg(n: usize) -> (Vec<MatchRule>, Vec<Flow>) {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let rules = synth::nsg_rules(&mut rng, n);
    let flows = synth::flows(&mut rng, &rules, 10_000);
    (rules, flows)
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    for n in NSG_SIZES {
        let (rules, _) = nsg(n);
        group.bench_function(BenchmarkId::from_parameter(format!("nsg_{n}")), |b| {
            b.iter(|| CompiledMatcher::build(black_box(&rules)).expect("builds"))
        });
    }
    for set in SETS {
        let (rules, _) = classbench(set);
        group.bench_function(BenchmarkId::from_parameter(set), |b| {
            b.iter(|| CompiledMatcher::build(black_box(&rules)).expect("builds"))
        });
    }
    group.finish();
}

fn evaluate_all(matcher: &Matcher, flows: &[Flow]) -> usize {
    flows.iter().map(|f| matcher.first_match(black_box(f)).unwrap_or(usize::MAX)).fold(0, usize::wrapping_add)
}

fn evaluate(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    let mut inputs: Vec<(String, Vec<MatchRule>, Vec<Flow>)> =
        SETS.iter().map(|s| (s.to_string(), classbench(s))).map(|(s, (r, f))| (s, r, f)).collect();
    inputs.extend(NSG_SIZES.iter().map(|&n| (format!("nsg_{n}"), nsg(n))).map(|(s, (r, f))| (s, r, f)));
    for (name, rules, flows) in &inputs {
        let matcher = Matcher::build(Engine::Compiled, rules.clone()).expect("builds");
        group.throughput(Throughput::Elements(flows.len() as u64));
        group
            .bench_function(BenchmarkId::new("compiled", name), |b| b.iter(|| evaluate_all(&matcher, flows)));
        let mut shuffled = flows.clone();
        shuffled.shuffle(&mut StdRng::seed_from_u64(1));
        group.bench_function(BenchmarkId::new("compiled_shuffled", name), |b| {
            b.iter(|| evaluate_all(&matcher, &shuffled))
        });
        // The linear oracle on the first 1,000 flows only: at 10K rules it takes microseconds each.
        let linear = LinearMatcher::new(rules.clone());
        let few = &flows[..flows.len().min(1000)];
        group.throughput(Throughput::Elements(few.len() as u64));
        group.bench_function(BenchmarkId::new("linear", name), |b| {
            b.iter(|| few.iter().map(|f| linear.first_match(black_box(f)).unwrap_or(0)).sum::<usize>())
        });
    }
    group.finish();
}

/// A JIT-style grant: TCP 22 from one address to one VM.
fn grant() -> MatchRule {
    let src = AddrSet::from_ranges(vec![(0xCB00_7105, 0xCB00_7105)], Vec::new());
    let dst = AddrSet::from_ranges(vec![(0x0A00_0004, 0x0A00_0004)], Vec::new());
    MatchRule::from_box(MatchBox {
        protocols: ProtocolSet::single(IpProtocol::TCP),
        src,
        src_ports: PortSet::any(),
        dst,
        dst_ports: PortSet::from_ranges([PortRange::single(22)]),
    })
}

fn update(c: &mut Criterion) {
    let mut group = c.benchmark_group("update");
    group.sample_size(20).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    let (rules, flows) = nsg(1000);
    let matcher = Matcher::build(Engine::Compiled, rules.clone()).expect("builds");
    // Insert alone and remove alone, each on a fresh copy (the copy is not timed), then the
    // round trip with the first lookup after it: "ready again" means answering.
    group.bench_function("insert/1000", |b| {
        b.iter_batched_ref(|| matcher.clone(), |m| m.insert(black_box(100), grant()), BatchSize::SmallInput)
    });
    group.bench_function("remove/1000", |b| {
        b.iter_batched_ref(|| matcher.clone(), |m| black_box(m.remove(black_box(100))), BatchSize::SmallInput)
    });
    let mut m = matcher.clone();
    group.bench_function("insert_lookup_remove/1000", |b| {
        b.iter(|| {
            m.insert(black_box(100), grant());
            let hit = m.first_match(black_box(&flows[0]));
            m.remove(100);
            hit
        })
    });
    // A full rebuild of the same set, for comparison with the overlay update.
    group.bench_function("rebuild/1000", |b| {
        b.iter(|| CompiledMatcher::build(black_box(&rules)).expect("builds"))
    });
    // Lookups with eight pending inserts in the overlay (the rebuild threshold), so the cost of
    // the overlay before a background rebuild lands is visible.
    let mut busy = matcher.clone();
    for i in 0..7 {
        busy.insert(10 * i, grant());
    }
    group.throughput(Throughput::Elements(flows.len() as u64));
    group.bench_function("evaluate_with_overlay/1000", |b| b.iter(|| evaluate_all(&busy, &flows)));
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for set in ["acl1_10K", "fw1_10K"] {
        let (rules, flows) = classbench(set);
        let matcher = Matcher::build(Engine::Compiled, rules).expect("builds");
        let mut out = vec![None; flows.len()];
        group.throughput(Throughput::Elements(flows.len() as u64));
        for threads in std::iter::successors(Some(1usize), |t| Some(t * 2)).take_while(|&t| t <= cores) {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
            group.bench_function(BenchmarkId::new(set, format!("{threads}_threads")), |b| {
                b.iter(|| pool.install(|| matcher.first_match_batch(&flows, &mut out)))
            });
        }
    }
    group.finish();
}

/// Microsoft's Public file beside the checkout (`../shared/...`), when it is there.
fn real_tag_file() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/real-world/service-tags/ServiceTags_Public.json");
    path.exists().then_some(path)
}

/// An NSG of 100 rules led by TCP 443 allowed from `AzureCloud` (its members from the file), and
/// 10,000 flows: half from addresses of `AzureCloud` to port 443, half aimed at the other rules.
fn nsg_naming_azure_cloud(file: &nsgsim::model::ServiceTagFile) -> (Vec<MatchRule>, Vec<Flow>) {
    let cloud = file.members.get("AzureCloud").expect("the file holds AzureCloud").clone();
    let (mut rules, mut flows) = nsg(100);
    let sources: Vec<(u32, u32)> = cloud.v4_ranges().to_vec();
    rules.insert(
        0,
        MatchRule::from_box(MatchBox {
            protocols: ProtocolSet::single(IpProtocol::TCP),
            src: cloud,
            src_ports: PortSet::any(),
            dst: AddrSet::any(),
            dst_ports: PortSet::from_ranges([PortRange::single(443)]),
        }),
    );
    let mut rng = StdRng::seed_from_u64(13_155);
    for flow in flows.iter_mut().step_by(2) {
        let (lo, hi) = sources[rand::RngExt::random_range(&mut rng, 0..sources.len())];
        flow.src = std::net::IpAddr::V4(rand::RngExt::random_range(&mut rng, lo..=hi).into());
        flow.protocol = IpProtocol::TCP;
        flow.dst_port = 443;
    }
    (rules, flows)
}

fn service_tags(c: &mut Criterion) {
    let mut group = c.benchmark_group("service_tags");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    let text = service_tag_file::text();
    let generated = std::path::Path::new("generated.json");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("load/generated", |b| {
        b.iter(|| nsgsim::scenario::parse_service_tag_file(black_box(&text), generated, "generated.json"))
    });
    let mut files = vec![(
        "generated",
        nsgsim::scenario::parse_service_tag_file(&text, generated, "generated.json").expect("generated file"),
    )];
    if let Some(path) = real_tag_file() {
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        group.throughput(Throughput::Bytes(size));
        group.bench_function("load/microsoft_public", |b| {
            b.iter(|| nsgsim::scenario::read_service_tag_file(black_box(&path), "ServiceTags_Public.json"))
        });
        let file = nsgsim::scenario::read_service_tag_file(&path, "ServiceTags_Public.json")
            .expect("Microsoft's file");
        files.push(("microsoft_public", file));
    }
    for (name, file) in &files {
        let (rules, flows) = nsg_naming_azure_cloud(file);
        let matcher = Matcher::build(Engine::Compiled, rules.clone()).expect("builds");
        let stats = matcher.compiled_stats().expect("compiled");
        #[expect(clippy::print_stderr, reason = "the compiled size is a figure of the bench, printed once")]
        {
            eprintln!(
                "service_tags/{name}: AzureCloud {} IPv4 + {} IPv6 prefixes -> {} IPv4 + {} IPv6 ranges; NSG of {} rules compiles to {} boxes, source intervals {:?}, {} heap bytes",
                file.members["AzureCloud"].to_prefixes().iter().filter(|p| p.addr().is_ipv4()).count(),
                file.members["AzureCloud"].to_prefixes().iter().filter(|p| p.addr().is_ipv6()).count(),
                file.members["AzureCloud"].v4_ranges().len(),
                file.members["AzureCloud"].v6_ranges().len(),
                stats.rules,
                stats.boxes,
                stats.src_intervals,
                stats.heap_bytes
            );
        }
        group.bench_function(BenchmarkId::new("compile_azure_cloud_nsg", name), |b| {
            b.iter(|| CompiledMatcher::build(black_box(&rules)).expect("builds"))
        });
        group.throughput(Throughput::Elements(flows.len() as u64));
        group.bench_function(BenchmarkId::new("evaluate_azure_cloud_nsg", name), |b| {
            b.iter(|| evaluate_all(&matcher, &flows))
        });
    }
    group.finish();
}

criterion_group!(benches, compile, evaluate, update, batch, service_tags);
criterion_main!(benches);

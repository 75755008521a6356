//! Long timelines (issue 20): `check` of a scenario whose timeline is N note steps, the shape of
//! the fuzzer's `hang-check-timeline-100k-steps.ron` (one VM, one NSG, a step a second), so that
//! loading (RON, the position map, resolving each step) and playing are measured together:
//! - `timeline/check/{steps}`: load the text and replay the timeline, as `nsgsim check` does.
//!
//! Throughput is in steps. Run: `cargo bench --bench timeline`.
//! `NSGSIM_WRITE_TIMELINE=FILE [NSGSIM_TIMELINE_STEPS=N] cargo bench --bench timeline` writes the
//! scenario with N steps (default 1,000,000; about 36 MB) to FILE and runs nothing, so that the
//! CLI can be timed on it (`/usr/bin/time -v nsgsim check FILE`).

use std::fmt::Write as _;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

/// The scenario of the fuzzer's reproducer, with `steps` note steps one second apart.
fn timeline_text(steps: usize) -> String {
    let mut out = String::with_capacity(600 + steps * 36);
    out.push_str(
        r#"Scenario(
    name: "t",
    start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [
        Subnet(name: "s", prefix: "10.0.1.0/24", nsg: "big")])],
    nsgs: [Nsg(name: "big", rules: [
        Rule(name: "a", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "203.0.113.0/24", destination_ports: "22")
    ])],
    public_ips: [PublicIp(name: "pip", address: "20.10.0.4")],
    vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "vm1-nic", subnet: "v/s", private_ip: "10.0.1.4", public_ip: "pip")])],
    users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.10")],

    timeline: ["#,
    );
    for i in 0..steps {
        let sep = if i == 0 { "" } else { ",\n        " };
        let _ = write!(out, "{sep}(at: \"{i}s\", note: \"n\")");
    }
    out.push_str("],\n)\n");
    out
}

fn bench_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeline/check");
    group.sample_size(10);
    for steps in [10_000usize, 100_000] {
        let text = timeline_text(steps);
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_with_input(BenchmarkId::from_parameter(steps), &text, |b, text| {
            b.iter(|| {
                let scenario =
                    nsgsim::scenario::load_str(text, Path::new("timeline.ron")).expect("the timeline loads");
                let report = nsgsim::sim::run(scenario.world(), &scenario.steps).expect("every step applies");
                assert_eq!(report.steps.len(), steps);
                report.steps.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_check);

fn main() {
    if let Ok(path) = std::env::var("NSGSIM_WRITE_TIMELINE") {
        let steps: usize =
            std::env::var("NSGSIM_TIMELINE_STEPS").ok().and_then(|t| t.parse().ok()).unwrap_or(1_000_000);
        std::fs::write(&path, timeline_text(steps)).expect("the timeline file is writable");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

//! Writes the bench's synthetic NSG-like rule set (`nsgsim::matcher::synth`) as a ClassBench-style
//! filter set and header trace, so that classifiers that only take single-valued rules (DPDK's
//! `rte_acl` in `benches/reference/rte_acl.c`) can be measured on the same rules and flows.
//!
//! Every box is expanded into the cross-product of its lists (protocol runs as value/mask pairs,
//! address ranges as prefixes, port ranges), one line each, with the rule's index appended as a
//! sixth field; the trace holds the IPv4 flows (the other 10 % are IPv6, which ClassBench cannot
//! express) with the linear oracle's first match, 0-based, last.
//!
//! It then times nsgsim's compiled matcher on the same IPv4 flows the way the C harness times
//! `rte_acl` (build once, 50 rounds over the flows, median and best), so both sides of the
//! comparison come from one method.
//!
//! Run: `cargo run --release --example nsg_as_classbench -- 1000 /tmp` writes
//! `/tmp/nsg_1000.rules` and `/tmp/nsg_1000.trace`.
#![expect(clippy::print_stdout, clippy::print_stderr, reason = "an example program reports on the terminal")]

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::hint::black_box;
use std::time::Instant;

use nsgsim::matcher::{CompiledMatcher, LinearMatcher, MatchBox, synth};
use nsgsim::net::{Flow, range_to_prefixes_v4};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The IPv4 prefixes covering `lo..=hi` exactly, as (network, length).
fn prefixes(lo: u32, hi: u32) -> Vec<(u64, u32)> {
    range_to_prefixes_v4(lo, hi)
        .into_iter()
        .map(|net| (u64::from(u32::from(net.network())), u32::from(net.prefix_len())))
        .collect()
}

/// The runs of consecutive protocol numbers in a box, as value/mask pairs.
fn protocol_masks(b: &MatchBox) -> Vec<(u64, u64)> {
    let numbers: Vec<u64> = b.protocols.iter().map(|p| u64::from(p.0)).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let lo = numbers[i];
        while i + 1 < numbers.len() && numbers[i + 1] == numbers[i] + 1 {
            i += 1;
        }
        // The protocol byte as the top byte of an address: its prefixes are value/mask pairs.
        let (lo, hi) = (lo as u32, numbers[i] as u32);
        for (value, len) in prefixes(lo << 24, hi << 24 | 0x00FF_FFFF) {
            out.push((value >> 24, (0xFFu64 << (8 - len.min(8))) & 0xFF));
        }
        i += 1;
    }
    out
}

fn dotted(a: u64) -> String {
    format!("{}.{}.{}.{}", a >> 24 & 255, a >> 16 & 255, a >> 8 & 255, a & 255)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(dir)) = (args.first().and_then(|n| n.parse::<usize>().ok()), args.get(1)) else {
        eprintln!("usage: nsg_as_classbench RULES DIR (RULES: how many rules, as the bench's nsg_RULES set)");
        return ExitCode::from(2);
    };
    // The bench's seed and generator: the same rules and flows as `evaluate/compiled/nsg_N`.
    let mut rng = StdRng::seed_from_u64(n as u64);
    let rules = synth::nsg_rules(&mut rng, n);
    let flows = synth::flows(&mut rng, &rules, 10_000);

    let mut filters = String::new();
    let mut lines = 0usize;
    for (index, rule) in rules.iter().enumerate() {
        for b in &rule.boxes {
            let v4 = |set: &nsgsim::net::AddrSet| -> Vec<(u64, u32)> {
                set.v4_ranges().iter().flat_map(|&(lo, hi)| prefixes(lo, hi)).collect()
            };
            let (src, dst) = (v4(&b.src), v4(&b.dst));
            for (pv, pm) in protocol_masks(b) {
                for &(s, sl) in &src {
                    for &(d, dl) in &dst {
                        for &(sp0, sp1) in b.src_ports.as_pairs() {
                            for &(dp0, dp1) in b.dst_ports.as_pairs() {
                                let _ = writeln!(
                                    filters,
                                    "@{}/{sl}\t{}/{dl}\t{sp0} : {sp1}\t{dp0} : {dp1}\t0x{pv:02x}/0x{pm:02x}\t{index}",
                                    dotted(s),
                                    dotted(d)
                                );
                                lines += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    let oracle = LinearMatcher::new(rules.clone());
    let mut trace = String::new();
    let mut v4_flows = Vec::new();
    for f in &flows {
        if let (IpAddr::V4(s), IpAddr::V4(d), Some(hit)) = (f.src, f.dst, oracle.first_match(f)) {
            let _ = writeln!(
                trace,
                "{}\t{}\t{}\t{}\t{}\t{hit}",
                u32::from(s),
                u32::from(d),
                f.src_port,
                f.dst_port,
                f.protocol.0
            );
            v4_flows.push(*f);
        }
    }
    let dir = PathBuf::from(dir);
    for (name, text) in [(format!("nsg_{n}.rules"), &filters), (format!("nsg_{n}.trace"), &trace)] {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    println!(
        "nsg_{n}: {} rules as {lines} single-valued filters; {} IPv4 flows",
        rules.len(),
        v4_flows.len()
    );
    time_compiled(&rules, &v4_flows);
    ExitCode::SUCCESS
}

/// Builds the compiled matcher and times 50 rounds of first matches over `flows`: median and best.
fn time_compiled(rules: &[nsgsim::matcher::MatchRule], flows: &[Flow]) {
    if flows.is_empty() {
        println!("nsgsim compiled: no IPv4 flows to time");
        return;
    }
    let started = Instant::now();
    let Ok(m) = CompiledMatcher::build(rules) else {
        eprintln!("the rules do not compile");
        return;
    };
    let build = started.elapsed();
    let mut rounds: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            for f in flows {
                black_box(m.first_match(black_box(f)));
            }
            t.elapsed().as_secs_f64()
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    let per = |secs: f64| secs / flows.len() as f64 * 1e9;
    let (median, best) = (per((rounds[24] + rounds[25]) / 2.0), per(rounds[0]));
    println!(
        "nsgsim compiled: build {:.1} ms; 50 rounds: median {median:.1} ns/lookup ({:.2} M/s), best {best:.1} ns ({:.2} M/s)",
        build.as_secs_f64() * 1e3,
        1e3 / median,
        1e3 / best
    );
}

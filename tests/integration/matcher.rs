//! The compiled matcher against the linear oracle and against ClassBench's expected matches
//! (issue 3): the real filter sets and traces, property tests on random rule sets and flows
//! (overlapping prefixes, port ranges, protocol sets, multi-box rules, edge values, IPv6),
//! random insert/remove sequences, and the `classbench` command.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use ipnet::IpNet;
use nsgsim::classbench::{MatchBase, load_rules, load_trace};
use nsgsim::matcher::{Engine, LinearMatcher, MatchBox, MatchRule, Matcher};
use nsgsim::net::{AddrSet, Flow, IpProtocol, PortRange, PortSet, ProtocolSet};
use proptest::prelude::*;

use super::util::{TempDir, nsgsim};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/classbench").join(name)
}

/// Every lookup of the trace agrees with the trace's expected first match and with the oracle.
fn check_set(name: &str) {
    let rules = load_rules(&data(name)).expect("filter set parses");
    let trace =
        load_trace(&data(&format!("{name}_trace")), rules.len(), MatchBase::Zero).expect("trace parses");
    let compiled = Matcher::build(Engine::Compiled, rules.clone()).expect("builds");
    let linear = LinearMatcher::new(rules);
    let mut mismatches = Vec::new();
    for entry in &trace {
        let got = compiled.first_match(&entry.flow);
        if got != Some(entry.expected) || got != linear.first_match(&entry.flow) {
            mismatches.push((entry.line, got, entry.expected));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{name}: {} mismatches, first {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
    assert!(trace.len() > 1000, "{name}: the trace is real");
}

#[test]
fn classbench_1k_sets_match_trace_and_oracle() {
    for name in ["acl1_1K", "fw1_1K", "ipc1_1K"] {
        check_set(name);
    }
}

#[test]
fn classbench_10k_sets_match_trace_and_oracle() {
    for name in ["acl1_10K", "fw1_10K", "ipc1_10K"] {
        check_set(name);
    }
}

#[test]
fn classbench_command_reports_and_gates() {
    let ok = nsgsim(&[
        "classbench",
        &data("acl1_1K").display().to_string(),
        &data("acl1_1K_trace").display().to_string(),
        "--format",
        "json",
    ]);
    let json = ok.assert_code(0).json();
    let text = json.to_string();
    assert!(text.contains("mismatch"), "{text}");
    let dir = TempDir::new("classbench");
    // Corrupt one expectation: the command must report it and exit 1.
    let trace = std::fs::read_to_string(data("acl1_1K_trace")).expect("readable");
    let mut lines: Vec<String> = trace.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[0].split_whitespace().map(String::from).collect();
    let last = fields.len() - 1;
    let wrong = if fields[last] == "0" { "1" } else { "0" };
    fields[last] = wrong.to_string();
    lines[0] = fields.join("\t");
    let bad_trace = dir.write("bad_trace", &(lines.join("\n") + "\n"));
    nsgsim(&["classbench", &data("acl1_1K").display().to_string(), &bad_trace]).assert_code(1);
    // A malformed rule line: exit 2, naming the file and the line.
    let rules = std::fs::read_to_string(data("acl1_1K")).expect("readable");
    let mut rule_lines: Vec<&str> = rules.lines().collect();
    rule_lines[2] = "@10.0.0.0/40\t1.2.3.4/32\t0 : 65535\t22 : 22\t0x06/0xFF";
    let bad_rules = dir.write("bad_rules", &(rule_lines.join("\n") + "\n"));
    nsgsim(&["classbench", &bad_rules, &data("acl1_1K_trace").display().to_string()])
        .assert_code(2)
        .stderr_has(&["bad_rules", "3"]);
}

// ---- property tests -------------------------------------------------------------------------

/// A small address universe with edge values, so random prefixes overlap and flows hit corners.
fn v4_net() -> impl Strategy<Value = IpNet> {
    let base = prop_oneof![
        Just(0u32),
        Just(u32::MAX),
        Just(u32::from(Ipv4Addr::new(10, 0, 0, 0))),
        Just(u32::from(Ipv4Addr::new(10, 0, 1, 0))),
        Just(u32::from(Ipv4Addr::new(192, 168, 1, 0))),
        any::<u32>(),
    ];
    (base, prop_oneof![Just(0u8), Just(32u8), 8u8..=32]).prop_map(|(addr, len)| {
        IpNet::new(IpAddr::V4(Ipv4Addr::from(addr)), len).expect("valid length").trunc()
    })
}

fn v6_net() -> impl Strategy<Value = IpNet> {
    let base = prop_oneof![Just(0u128), Just(u128::MAX), Just(0x2001_0db8u128 << 96), any::<u128>()];
    (base, prop_oneof![Just(0u8), Just(128u8), 16u8..=128]).prop_map(|(addr, len)| {
        IpNet::new(IpAddr::V6(Ipv6Addr::from(addr)), len).expect("valid length").trunc()
    })
}

fn addr_set() -> impl Strategy<Value = AddrSet> {
    prop_oneof![
        3 => prop::collection::vec(v4_net(), 1..4).prop_map(|n| AddrSet::from_nets(&n)),
        1 => prop::collection::vec(prop_oneof![v4_net(), v6_net()], 1..3).prop_map(|n| AddrSet::from_nets(&n)),
        1 => Just(AddrSet::any()),
    ]
}

fn port_set() -> impl Strategy<Value = PortSet> {
    let range = prop_oneof![
        Just((0u16, 65535u16)),
        Just((0, 0)),
        Just((65535, 65535)),
        Just((22, 22)),
        Just((1000, 2000)),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| (a.min(b), a.max(b))),
    ];
    prop::collection::vec(range, 1..3).prop_map(|r| {
        PortSet::from_ranges(r.into_iter().map(|(lo, hi)| PortRange::new(lo, hi).expect("ordered")))
    })
}

fn protocols() -> impl Strategy<Value = ProtocolSet> {
    prop_oneof![
        Just(ProtocolSet::ALL),
        Just(ProtocolSet::single(IpProtocol::TCP)),
        Just(ProtocolSet::single(IpProtocol::UDP)),
        Just(ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP])),
        Just(ProtocolSet::of(&[IpProtocol::ICMP, IpProtocol::ICMPV6])),
    ]
}

fn match_box() -> impl Strategy<Value = MatchBox> {
    (protocols(), addr_set(), port_set(), addr_set(), port_set()).prop_map(
        |(protocols, src, src_ports, dst, dst_ports)| MatchBox { protocols, src, src_ports, dst, dst_ports },
    )
}

fn rule() -> impl Strategy<Value = MatchRule> {
    prop::collection::vec(match_box(), 1..3).prop_map(|boxes| MatchRule { boxes })
}

/// Flows at the corners of the rules' sets (and random ones), so boundaries get exercised.
fn flows_for(rules: &[MatchRule], seeds: &[(u64, u16, u16, u8)]) -> Vec<Flow> {
    let corner = |set: &AddrSet, pick: u64| -> IpAddr {
        let v4 = set.v4_ranges();
        let v6 = set.v6_ranges();
        let n = (v4.len() + v6.len()).max(1) as u64;
        let i = (pick % n) as usize;
        if i < v4.len() {
            let (lo, hi) = v4[i];
            let value = match pick % 4 {
                0 => lo,
                1 => hi,
                2 => lo.wrapping_sub(1),
                _ => hi.wrapping_add(1),
            };
            IpAddr::V4(Ipv4Addr::from(value))
        } else if let Some(&(lo, hi)) = v6.get(i - v4.len()) {
            IpAddr::V6(Ipv6Addr::from(if pick.is_multiple_of(2) { lo } else { hi }))
        } else {
            IpAddr::V4(Ipv4Addr::from(pick as u32))
        }
    };
    let mut out = Vec::new();
    for &(pick, sport, dport, proto) in seeds {
        let protocol =
            [IpProtocol::TCP, IpProtocol::UDP, IpProtocol::ICMP, IpProtocol(proto)][(pick % 4) as usize];
        if rules.is_empty() {
            continue;
        }
        let r = &rules[(pick as usize) % rules.len()];
        let b = &r.boxes[(pick as usize / 7) % r.boxes.len()];
        let src = corner(&b.src, pick);
        let mut dst = corner(&b.dst, pick / 3);
        // A flow is one family: fix a mixed pair.
        if src.is_ipv4() != dst.is_ipv4() {
            dst = if src.is_ipv4() {
                IpAddr::V4(Ipv4Addr::from(pick as u32))
            } else {
                IpAddr::V6(Ipv6Addr::from(pick as u128))
            };
        }
        let port = |set: &PortSet, p: u16| {
            set.as_pairs().first().map(|&(lo, hi)| if p.is_multiple_of(2) { lo } else { hi }).unwrap_or(p)
        };
        out.push(Flow::new(protocol, src, port(&b.src_ports, sport), dst, port(&b.dst_ports, dport)));
        out.push(Flow::new(protocol, src, sport, dst, dport));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn compiled_equals_linear_on_random_rule_sets(
        rules in prop::collection::vec(rule(), 1..60),
        seeds in prop::collection::vec((any::<u64>(), any::<u16>(), any::<u16>(), any::<u8>()), 64..128),
    ) {
        let compiled = Matcher::build(Engine::Compiled, rules.clone()).expect("builds");
        let linear = LinearMatcher::new(rules.clone());
        for flow in flows_for(&rules, &seeds) {
            prop_assert_eq!(compiled.first_match(&flow), linear.first_match(&flow), "flow {}", flow);
            prop_assert_eq!(compiled.all_matches(&flow), linear.all_matches(&flow), "flow {}", flow);
        }
    }

    #[test]
    fn compiled_equals_linear_after_inserts_and_removals(
        rules in prop::collection::vec(rule(), 1..40),
        edits in prop::collection::vec((any::<bool>(), any::<usize>(), rule()), 1..30),
        seeds in prop::collection::vec((any::<u64>(), any::<u16>(), any::<u16>(), any::<u8>()), 32..64),
    ) {
        let mut compiled = Matcher::build(Engine::Compiled, rules.clone()).expect("builds");
        let mut linear = LinearMatcher::new(rules);
        for (insert, at, rule) in edits {
            if insert || linear.rules().is_empty() {
                let i = at % (linear.rules().len() + 1);
                compiled.insert(i, rule.clone());
                linear.insert(i, rule);
            } else {
                let i = at % linear.rules().len();
                compiled.remove(i);
                linear.remove(i);
            }
            let rules = linear.rules().to_vec();
            for flow in flows_for(&rules, &seeds) {
                prop_assert_eq!(compiled.first_match(&flow), linear.first_match(&flow), "flow {}", flow);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// A few large sets (up to 2,000 rules) so the multi-word bitsets and summaries are exercised.
    #[test]
    fn compiled_equals_linear_on_large_rule_sets(
        rules in prop::collection::vec(rule(), 500..2000),
        seeds in prop::collection::vec((any::<u64>(), any::<u16>(), any::<u16>(), any::<u8>()), 200..300),
    ) {
        let compiled = Matcher::build(Engine::Compiled, rules.clone()).expect("builds");
        let linear = LinearMatcher::new(rules.clone());
        for flow in flows_for(&rules, &seeds) {
            prop_assert_eq!(compiled.first_match(&flow), linear.first_match(&flow), "flow {}", flow);
        }
    }
}

#[test]
fn empty_and_catch_all_sets() {
    let any = Flow::new(
        IpProtocol::TCP,
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        0,
        IpAddr::V4(Ipv4Addr::BROADCAST),
        65535,
    );
    let empty = Matcher::build(Engine::Compiled, vec![]).expect("builds");
    assert_eq!(empty.first_match(&any), None);
    let catch_all =
        Matcher::build(Engine::Compiled, vec![MatchRule::from_box(MatchBox::any())]).expect("builds");
    assert_eq!(catch_all.first_match(&any), Some(0));
    let v6 = Flow::new(IpProtocol::UDP, "2001:db8::1".parse().expect("ip"), 1, "::".parse().expect("ip"), 2);
    assert_eq!(catch_all.first_match(&v6), Some(0));
}

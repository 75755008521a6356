//! The hot path: field values → classes → ANDed bitsets → lowest set bit. Never allocates
//! (except `all_matches`, which returns a `Vec`) and never fails.

use rayon::prelude::*;

use super::{CompiledMatcher, PortStage};
use crate::net::Flow;

/// Flows per rayon task in batch lookups: large enough to amortise scheduling, small enough to
/// balance two to a few dozen cores.
const BATCH_CHUNK: usize = 2048;

/// A computation over the class bitsets of one flow, for any number of fields. Each bitset is
/// given by its word offset in `bits`, where it is stored as `summary ++ words`.
trait Scan<R> {
    fn scan<const N: usize>(self, bits: &[u64], sets: [usize; N], summary: usize) -> R;
}

/// The first set bit of the AND of the bitsets (and of `live`), visiting only the words whose
/// summary bits survive the AND of the summaries.
struct FirstBox<'a> {
    live: Option<&'a [u64]>,
}

impl Scan<Option<usize>> for FirstBox<'_> {
    #[inline(always)]
    fn scan<const N: usize>(self, bits: &[u64], sets: [usize; N], summary: usize) -> Option<usize> {
        for i in 0..summary {
            let mut candidates = sets.iter().fold(u64::MAX, |acc, &s| acc & bits[s + i]);
            while candidates != 0 {
                let w = i * 64 + candidates.trailing_zeros() as usize;
                let mut hit = sets.iter().fold(u64::MAX, |acc, &s| acc & bits[s + summary + w]);
                if let Some(live) = self.live {
                    hit &= live[w];
                }
                if hit != 0 {
                    return Some(w * 64 + hit.trailing_zeros() as usize);
                }
                candidates &= candidates - 1;
            }
        }
        None
    }
}

/// Every word of the AND of the bitsets (and of `live`).
struct AllBoxes<'a> {
    live: Option<&'a [u64]>,
    words: usize,
}

impl Scan<Vec<u64>> for AllBoxes<'_> {
    fn scan<const N: usize>(self, bits: &[u64], sets: [usize; N], summary: usize) -> Vec<u64> {
        (0..self.words)
            .map(|w| {
                let hit = sets.iter().fold(u64::MAX, |acc, &s| acc & bits[s + summary + w]);
                self.live.map_or(hit, |live| hit & live[w])
            })
            .collect()
    }
}

impl CompiledMatcher {
    /// The rule that box bit `b` belongs to.
    #[inline]
    pub(crate) fn rule_of_box(&self, b: usize) -> usize {
        self.box_rule[b] as usize
    }

    /// Calls `scan` with the offsets of the class bitsets of the flow's fields: three, four or
    /// five of them, depending on how the port fields were crossed.
    #[inline(always)]
    fn with_classes<R>(&self, flow: &Flow, scan: impl Scan<R>) -> R {
        let proto = usize::from(self.proto_table[usize::from(flow.protocol.0)]);
        let sport = self.sport_index.class(u32::from(flow.src_port));
        let dport = self.dport_index.class(u32::from(flow.dst_port));
        let src = self.src_index.class(flow.src);
        let dst = self.dst_index.class(flow.dst);
        let bits = self.bits.as_slice();
        match &self.ports {
            PortStage::Crossed { table, sports, dports } => {
                let c = table[(proto * sports + sport) * dports + dport] as usize;
                scan.scan(bits, [c, src, dst], self.summary)
            }
            PortStage::Paired { table, sports, dport: dports } => {
                let c = table[proto * sports + sport] as usize;
                scan.scan(bits, [c, dports[dport] as usize, src, dst], self.summary)
            }
            PortStage::Separate { proto: p, sport: s, dport: d } => {
                let sets = [p[proto] as usize, s[sport] as usize, d[dport] as usize, src, dst];
                scan.scan(bits, sets, self.summary)
            }
        }
    }

    /// The index of the first rule that matches `flow`, if any.
    #[inline]
    pub fn first_match(&self, flow: &Flow) -> Option<usize> {
        self.first_box(flow, None).map(|b| self.box_rule[b] as usize)
    }

    /// The first box bit matching `flow` that is also set in `live` (when given; `live` has one
    /// bit per box bit, [`CompiledMatcher::words`] words).
    #[inline]
    pub(crate) fn first_box(&self, flow: &Flow, live: Option<&[u64]>) -> Option<usize> {
        self.with_classes(flow, FirstBox { live })
    }

    /// The indices of every rule that matches `flow`, ascending (the winner first).
    pub fn all_matches(&self, flow: &Flow) -> Vec<usize> {
        self.all_boxes_masked(flow, None)
    }

    /// The rules of every matching box that is set in `live` (when given), ascending, deduplicated.
    pub(crate) fn all_boxes_masked(&self, flow: &Flow, live: Option<&[u64]>) -> Vec<usize> {
        let words = self.with_classes(flow, AllBoxes { live, words: self.words });
        let mut out: Vec<usize> = Vec::new();
        for (w, mut hit) in words.into_iter().enumerate() {
            while hit != 0 {
                let rule = self.box_rule[w * 64 + hit.trailing_zeros() as usize] as usize;
                // Boxes of one rule are adjacent bits, so duplicates are neighbours.
                if out.last() != Some(&rule) {
                    out.push(rule);
                }
                hit &= hit - 1;
            }
        }
        out
    }

    /// The first match of every flow of `flows`, written to `out`, using every rayon worker.
    ///
    /// # Panics
    /// When `out` is shorter than `flows`.
    pub fn first_match_batch(&self, flows: &[Flow], out: &mut [Option<usize>]) {
        assert!(out.len() >= flows.len(), "out holds {} results for {} flows", out.len(), flows.len());
        flows.par_chunks(BATCH_CHUNK).zip(out.par_chunks_mut(BATCH_CHUNK)).for_each(|(flows, out)| {
            for (flow, slot) in flows.iter().zip(out) {
                *slot = self.first_match(flow);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::matcher::{CompiledMatcher, LinearMatcher, MatchBox, MatchRule};
    use crate::net::{AddrSet, Flow, IpProtocol, PortRange, PortSet, ProtocolSet, parse_prefix};

    fn flow(proto: u8, src: &str, sport: u16, dst: &str, dport: u16) -> Flow {
        Flow {
            protocol: IpProtocol(proto),
            src: src.parse().expect("ip"),
            src_port: sport,
            dst: dst.parse().expect("ip"),
            dst_port: dport,
        }
    }

    fn addrs(prefixes: &[&str]) -> AddrSet {
        let nets: Vec<_> = prefixes.iter().map(|p| parse_prefix(p).expect("prefix")).collect();
        AddrSet::from_nets(&nets)
    }

    fn ports(ranges: &[(u16, u16)]) -> PortSet {
        PortSet::from_ranges(ranges.iter().map(|&(lo, hi)| PortRange::new(lo, hi).expect("range")))
    }

    fn rules() -> Vec<MatchRule> {
        let tcp = ProtocolSet::single(IpProtocol::TCP);
        vec![
            // 0: ssh from two management prefixes, IPv4 and IPv6, to one VM.
            MatchRule::from_box(MatchBox {
                protocols: tcp,
                src: addrs(&["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]),
                dst: addrs(&["10.0.0.4", "fd00::4"]),
                dst_ports: ports(&[(22, 22)]),
                ..MatchBox::any()
            }),
            // 1: a two-box rule: TCP/UDP 53 to the VNet, or any protocol to 10.0.9.0/24.
            MatchRule {
                boxes: vec![
                    MatchBox {
                        protocols: ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP]),
                        dst: addrs(&["10.0.0.0/16"]),
                        dst_ports: ports(&[(53, 53)]),
                        ..MatchBox::any()
                    },
                    MatchBox { dst: addrs(&["10.0.9.0/24"]), ..MatchBox::any() },
                ],
            },
            // 2: nothing (an empty rule).
            MatchRule::default(),
            // 3: deny the management ports from anywhere.
            MatchRule::from_box(MatchBox {
                protocols: tcp,
                dst_ports: ports(&[(22, 22), (3389, 3389), (5985, 5986)]),
                ..MatchBox::any()
            }),
            // 4: everything.
            MatchRule::from_box(MatchBox::any()),
        ]
    }

    #[test]
    fn agrees_with_the_oracle_on_hand_picked_flows() {
        let rules = rules();
        let compiled = CompiledMatcher::build(&rules).expect("small");
        let linear = LinearMatcher::new(rules);
        let flows = [
            flow(6, "203.0.113.9", 5000, "10.0.0.4", 22),
            flow(6, "203.0.112.255", 5000, "10.0.0.4", 22),
            flow(6, "198.51.100.7", 0, "10.0.0.4", 22),
            flow(6, "2001:db8::1", 1, "fd00::4", 22),
            flow(6, "2001:db9::1", 1, "fd00::4", 22),
            flow(17, "1.1.1.1", 53, "10.0.200.1", 53),
            flow(1, "1.1.1.1", 0, "10.0.200.1", 53),
            flow(1, "1.1.1.1", 0, "10.0.9.200", 0),
            flow(6, "1.1.1.1", 65535, "10.0.1.1", 5986),
            flow(6, "0.0.0.0", 0, "255.255.255.255", 65535),
            flow(255, "::", 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 3389),
            flow(6, "10.0.0.4", 22, "2001:db8::1", 22),
        ];
        for f in &flows {
            assert_eq!(compiled.first_match(f), linear.first_match(f), "{f}");
            assert_eq!(compiled.all_matches(f), linear.all_matches(f), "{f}");
        }
        let mut out = vec![None; flows.len()];
        compiled.first_match_batch(&flows, &mut out);
        let expected: Vec<_> = flows.iter().map(|f| linear.first_match(f)).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn empty_rule_list_matches_nothing() {
        let m = CompiledMatcher::build(&[]).expect("empty");
        assert_eq!(m.first_match(&flow(6, "1.2.3.4", 1, "5.6.7.8", 2)), None);
        assert!(m.all_matches(&flow(6, "::1", 1, "::2", 2)).is_empty());
        assert!(m.is_empty());
    }

    #[test]
    fn many_rules_use_the_summary() {
        // 300 rules: port p for p in 0..300, then a catch-all; crosses several words and
        // summary bits.
        let mut rules: Vec<MatchRule> = (0..300u16)
            .map(|p| MatchRule::from_box(MatchBox { dst_ports: ports(&[(p * 2, p * 2)]), ..MatchBox::any() }))
            .collect();
        rules.push(MatchRule::from_box(MatchBox::any()));
        let m = CompiledMatcher::build(&rules).expect("small");
        for p in [0u16, 1, 2, 64, 128, 598, 599, 600, 65535] {
            let f = flow(6, "1.1.1.1", 1, "2.2.2.2", p);
            let expected = if p % 2 == 0 && p < 600 { usize::from(p / 2) } else { 300 };
            assert_eq!(m.first_match(&f), Some(expected), "port {p}");
        }
    }
}

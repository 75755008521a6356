//! The compiled matcher: per-field equivalence classes and priority-ordered bitsets with an
//! aggregated summary (the Lucent bit-vector scheme with ABV summaries and RFC-style class
//! deduplication).
//!
//! # How it works
//!
//! Every non-empty [`MatchBox`](super::MatchBox) of every rule gets one bit, numbered in rule
//! order: the boxes of rule 0 first, then those of rule 1, and so on. Bits are per *box*, not per
//! rule, because a rule is a union of boxes: "some box has the source, some box has the
//! destination" does not mean one box has both.
//!
//! For each of the five fields (protocol, source port, destination port, source address,
//! destination address) the build sweeps the field's value space once, left to right, keeping the
//! set of boxes whose field set covers the current value. Each elementary interval (a maximal run
//! of values that every box treats alike) gets the bitset of the boxes covering it, and equal
//! bitsets are interned into one *class*. The protocol and port fields are crossed into one class
//! when the product stays small (RFC's phase one), so a lookup ANDs three bitsets, not five. A
//! lookup maps each field value to its class through an index (protocol: a 256-entry table;
//! ports and IPv4 addresses: a multibit trie, 8 bits a level, see `trie.rs`; IPv6: a binary
//! search over `u128` boundaries), ANDs the class bitsets and takes the lowest set bit. Because
//! bits are in rule order, the lowest bit is the first matching box, whose rule is the first
//! matching rule.
//!
//! Each class bitset is stored behind its summary: one bit per 64-bit word, set when that word is
//! non-zero. The lookup ANDs the five summaries first and only visits words whose summary bit
//! survives, so a 10,000-rule set costs three summary words plus the few candidate words, not
//! 157 words per field.
//!
//! # Why this technique
//!
//! The choice was made by measurement; `docs/matcher.md` has the full tables and the commands.
//! On this project's 2-core KVM guest (AMD EPYC, Zen 3), single core, release build, trace order,
//! the ClassBench 10K sets run at 4–11 M lookups/s, 300–700× the linear scan, and build in
//! 25–65 ms into 12–17 MiB; the ClassBench 1K sets at 18–22 M lookups/s; a 1,000-rule NSG-like
//! set with flows aimed at random rules at about 10 M lookups/s, limited by L2 misses (the
//! structure is 2.7 MiB). The alternatives in
//! `classification.md` were rejected for this crate's workload: decision trees and DPDK-style
//! tries build in seconds and blow up on firewall-style sets, and tuple-space search needs every
//! NSG list expanded into a cross-product of single-valued rules, while the bitset scheme takes
//! lists natively and yields the full match set for explanations.
//!
//! # Contract
//!
//! [`CompiledMatcher::build`] fails only when the structure would exceed its size limits; the
//! lookups never fail, never allocate (except [`CompiledMatcher::all_matches`], which returns a
//! `Vec`), and agree with [`LinearMatcher`](super::LinearMatcher) on every flow.

mod build;
mod index;
mod lookup;
mod trie;

use index::AddrIndex;
use trie::Trie;

/// A rule list compiled for fast first-match lookups. Immutable: see [`Matcher`](super::Matcher)
/// for inserts and removals.
///
/// # Examples
/// ```
/// use nsgsim::matcher::{CompiledMatcher, MatchBox, MatchRule};
/// use nsgsim::net::{Flow, IpProtocol, PortRange, PortSet, ProtocolSet};
///
/// let ssh = MatchBox {
///     protocols: ProtocolSet::single(IpProtocol::TCP),
///     dst_ports: PortSet::from_ranges([PortRange::single(22)]),
///     ..MatchBox::any()
/// };
/// let m = CompiledMatcher::build(&[MatchRule::from_box(ssh), MatchRule::from_box(MatchBox::any())])?;
/// let flow = Flow::new(IpProtocol::TCP, "1.2.3.4".parse()?, 40000, "10.0.0.4".parse()?, 22);
/// assert_eq!(m.first_match(&flow), Some(0));
/// assert_eq!(m.all_matches(&flow), vec![0, 1]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CompiledMatcher {
    /// Number of rules compiled (including rules that match nothing).
    n_rules: usize,
    /// The rule of each box bit, ascending.
    box_rule: Vec<u32>,
    /// The first box bit of each rule; `n_rules + 1` entries.
    rule_first_box: Vec<u32>,
    /// Words per class bitset without its summary, and summary words (one bit per word).
    words: usize,
    summary: usize,
    /// Every class bitset of every field, each `summary ++ words`. The indexes below hold word
    /// offsets into it rather than class ids, so a lookup goes from a field value to its bitset
    /// without a multiply or a per-field table.
    bits: Vec<u64>,
    /// Protocol number → protocol class.
    proto_table: Vec<u16>,
    /// Source port → source-port class.
    sport_index: Trie,
    /// Destination port → destination-port class.
    dport_index: Trie,
    /// Protocol and port classes → bitset offsets.
    ports: PortStage,
    /// Source address → bitset offset (IPv4 and IPv6).
    src_index: AddrIndex,
    /// Destination address → bitset offset.
    dst_index: AddrIndex,
    /// Classes per field (after crossing), for the statistics.
    class_counts: ClassCounts,
}

/// Numbers of distinct class bitsets, per field after crossing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassCounts {
    /// Bitsets of the protocol and port fields (one crossed field, or two or three fields).
    pub ports: usize,
    /// Bitsets of the source address field.
    pub src: usize,
    /// Bitsets of the destination address field.
    pub dst: usize,
}

/// The shape of a [`CompiledMatcher`]: what its lookups cost and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompiledStats {
    /// Rules compiled.
    pub rules: usize,
    /// Box bits (non-empty boxes over all rules).
    pub boxes: usize,
    /// 64-bit words per class bitset (without the summary).
    pub words: usize,
    /// Bitsets ANDed per lookup (3 when protocol and ports are crossed into one).
    pub bitsets_per_lookup: usize,
    /// Distinct bitsets per field.
    pub classes: ClassCounts,
    /// Elementary intervals of the source address field, IPv4 and IPv6.
    pub src_intervals: (usize, usize),
    /// Elementary intervals of the destination address field, IPv4 and IPv6.
    pub dst_intervals: (usize, usize),
    /// Heap bytes of the structure.
    pub heap_bytes: usize,
}

/// The protocol and port fields, crossed into fewer bitsets when that stays small (RFC's
/// phase-one cross-producting): every bitset fewer saves a summary word and a candidate word per
/// lookup, and the crossed bitsets are exact, so fewer summary candidates turn out empty. Every
/// table holds bitset offsets.
#[derive(Clone, Debug)]
enum PortStage {
    /// One bitset for protocol × source port × destination port:
    /// `table[(proto * sports + sport) * dports + dport]`.
    Crossed { table: Vec<u32>, sports: usize, dports: usize },
    /// One bitset for protocol × source port (`table[proto * sports + sport]`), one for the
    /// destination port (`dport[class]`).
    Paired { table: Vec<u32>, sports: usize, dport: Vec<u32> },
    /// Three bitsets, one per field class.
    Separate { proto: Vec<u32>, sport: Vec<u32>, dport: Vec<u32> },
}

impl PortStage {
    fn heap_bytes(&self) -> usize {
        let bytes = |v: &Vec<u32>| v.capacity() * 4;
        match self {
            PortStage::Crossed { table, .. } => bytes(table),
            PortStage::Paired { table, dport, .. } => bytes(table) + bytes(dport),
            PortStage::Separate { proto, sport, dport } => bytes(proto) + bytes(sport) + bytes(dport),
        }
    }

    /// Number of bitsets ANDed per lookup.
    fn bitsets(&self) -> usize {
        match self {
            PortStage::Crossed { .. } => 3,
            PortStage::Paired { .. } => 4,
            PortStage::Separate { .. } => 5,
        }
    }
}

impl CompiledMatcher {
    /// Number of rules compiled.
    pub fn len(&self) -> usize {
        self.n_rules
    }

    /// Whether no rule was compiled.
    pub fn is_empty(&self) -> bool {
        self.n_rules == 0
    }

    /// Number of box bits (non-empty boxes over all rules).
    pub fn box_count(&self) -> usize {
        self.box_rule.len()
    }

    /// The range of box bits that belong to rule `rule`.
    ///
    /// # Panics
    /// When `rule >= len()`.
    pub fn rule_boxes(&self, rule: usize) -> std::ops::Range<usize> {
        self.rule_first_box[rule] as usize..self.rule_first_box[rule + 1] as usize
    }

    /// Number of 64-bit words of one class bitset (without its summary).
    pub fn words(&self) -> usize {
        self.words
    }

    /// The shape of the compiled structure, for reports and tuning.
    pub fn stats(&self) -> CompiledStats {
        CompiledStats {
            rules: self.n_rules,
            boxes: self.box_rule.len(),
            words: self.words,
            bitsets_per_lookup: self.ports.bitsets(),
            classes: self.class_counts,
            src_intervals: self.src_index.interval_counts(),
            dst_intervals: self.dst_index.interval_counts(),
            heap_bytes: self.heap_bytes(),
        }
    }

    /// Bytes of heap memory owned by the structure (tables, bitsets, indexes), from the
    /// capacities of its vectors.
    pub fn heap_bytes(&self) -> usize {
        fn vec_bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        vec_bytes(&self.box_rule)
            + vec_bytes(&self.rule_first_box)
            + vec_bytes(&self.bits)
            + vec_bytes(&self.proto_table)
            + self.sport_index.heap_bytes()
            + self.dport_index.heap_bytes()
            + self.src_index.heap_bytes()
            + self.dst_index.heap_bytes()
            + self.ports.heap_bytes()
    }
}

//! Compiling a rule list into a [`CompiledMatcher`]: number the boxes, sweep each field, build
//! the direct tables.

use std::collections::HashMap;

use super::index::{AddrIndex, ClassTable, Intervals, Key, sweep};
use super::trie::Trie;
use super::{ClassCounts, CompiledMatcher, PortStage};
use crate::matcher::{BuildError, MatchRule};
use crate::net::{IpProtocol, ProtocolSet};

/// Default cap on the bytes of one field's class bitsets. Far above what 10,000 ClassBench rules
/// need (a few MiB per field) but low enough that a pathological rule list fails with an error
/// instead of exhausting memory.
pub const DEFAULT_FIELD_LIMIT: usize = 1 << 30;

/// Most box bits a matcher can hold (box ids are `u32`, and the class tables must stay sane).
pub const MAX_BOXES: usize = 1 << 24;

impl CompiledMatcher {
    /// Compiles `rules` (index 0 first).
    ///
    /// # Errors
    /// [`BuildError::TooManyBoxes`] when the rules hold more than 2²⁴ non-empty boxes, and
    /// [`BuildError::TooLarge`] when one field's class bitsets would exceed 1 GiB.
    pub fn build(rules: &[MatchRule]) -> Result<CompiledMatcher, BuildError> {
        Self::build_with_limit(rules, DEFAULT_FIELD_LIMIT)
    }

    /// [`CompiledMatcher::build`] with a cap of `field_limit` bytes on each field's bitsets.
    ///
    /// # Errors
    /// As [`CompiledMatcher::build`], with `field_limit` as the size cap.
    pub fn build_with_limit(rules: &[MatchRule], field_limit: usize) -> Result<CompiledMatcher, BuildError> {
        // Number the non-empty boxes in rule order: bit order is priority order.
        let mut box_rule = Vec::new();
        let mut rule_first_box = Vec::with_capacity(rules.len() + 1);
        for (r, rule) in rules.iter().enumerate() {
            rule_first_box.push(box_rule.len() as u32);
            for b in &rule.boxes {
                if !b.is_empty() {
                    box_rule.push(r as u32);
                }
            }
            if box_rule.len() > MAX_BOXES {
                return Err(BuildError::TooManyBoxes { given: box_rule.len(), limit: MAX_BOXES });
            }
        }
        rule_first_box.push(box_rule.len() as u32);
        let boxes = || rules.iter().flat_map(|r| r.boxes.iter()).filter(|b| !b.is_empty());
        // At least one word, so that an empty rule list still has well-formed (empty) classes.
        let words = box_rule.len().div_ceil(64).max(1);

        // Protocol sets repeat a lot (Any, Tcp, Udp), so turn each distinct set into runs once.
        let mut proto_runs: HashMap<ProtocolSet, Vec<(u16, u16)>> = HashMap::new();
        let mut proto = Vec::new();
        let mut sport = Vec::new();
        let mut dport = Vec::new();
        let (mut src4, mut src6, mut dst4, mut dst6) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, b) in boxes().enumerate() {
            let i = i as u32;
            let runs = proto_runs.entry(b.protocols).or_insert_with(|| protocol_runs(&b.protocols));
            proto.extend(runs.iter().map(|&(lo, hi)| (lo, hi, i)));
            sport.extend(b.src_ports.as_pairs().iter().map(|&(lo, hi)| (lo, hi, i)));
            dport.extend(b.dst_ports.as_pairs().iter().map(|&(lo, hi)| (lo, hi, i)));
            src4.extend(b.src.v4_ranges().iter().map(|&(lo, hi)| (lo, hi, i)));
            src6.extend(b.src.v6_ranges().iter().map(|&(lo, hi)| (lo, hi, i)));
            dst4.extend(b.dst.v4_ranges().iter().map(|&(lo, hi)| (lo, hi, i)));
            dst6.extend(b.dst.v6_ranges().iter().map(|&(lo, hi)| (lo, hi, i)));
        }

        let mut proto = ClassTable::new(words, field_limit).with_sweep(&proto)?;
        let proto_table = direct_table(&proto.1, 256);
        let mut sport = ClassTable::new(words, field_limit).with_sweep(&sport)?;
        let sport_index = Trie::new(&sport.1, 16);
        let mut dport = ClassTable::new(words, field_limit).with_sweep(&dport)?;
        let dport_index = Trie::new(&dport.1, 16);
        let mut src_classes = ClassTable::new(words, field_limit);
        let src_index = AddrIndex::new(sweep(&src4, &mut src_classes)?, sweep(&src6, &mut src_classes)?);
        let mut dst_classes = ClassTable::new(words, field_limit);
        let dst_index = AddrIndex::new(sweep(&dst4, &mut dst_classes)?, sweep(&dst6, &mut dst_classes)?);
        for table in [&mut proto.0, &mut sport.0, &mut dport.0, &mut src_classes, &mut dst_classes] {
            table.finish();
        }
        let crossed = cross_ports(proto.0, sport.0, dport.0, field_limit.min(CROSS_BYTES));
        let class_counts =
            ClassCounts { ports: crossed.classes(), src: src_classes.len(), dst: dst_classes.len() };

        // Lay every field's bitsets end to end and turn class ids into word offsets.
        let summary = words.div_ceil(64);
        let stride = (summary + words) as u32;
        let mut layout = Layout::default();
        let ports = crossed.place(&mut layout, stride);
        let src_base = layout.place(src_classes);
        let dst_base = layout.place(dst_classes);
        if layout.bits.len() >= MAX_OFFSET {
            return Err(BuildError::TooLarge {
                bytes: layout.bits.len() * 8,
                limit: MAX_OFFSET * 8,
                classes: class_counts.ports + class_counts.src + class_counts.dst,
            });
        }
        let mut src_index = src_index;
        src_index.relocate(|c| src_base + c * stride);
        let mut dst_index = dst_index;
        dst_index.relocate(|c| dst_base + c * stride);
        Ok(CompiledMatcher {
            n_rules: rules.len(),
            box_rule,
            rule_first_box,
            words,
            summary,
            bits: layout.bits,
            proto_table,
            sport_index,
            dport_index,
            ports,
            src_index,
            dst_index,
            class_counts,
        })
    }
}

/// Most bytes of crossed protocol/port bitsets; above it the fields stay apart.
const CROSS_BYTES: usize = 16 << 20;

/// Most entries of a crossing table (`u32` each).
const CROSS_ENTRIES: usize = 1 << 18;

impl ClassTable {
    /// Sweeps `ranges` into this table, returning both.
    fn with_sweep<K: Key>(
        mut self,
        ranges: &[(K, K, u32)],
    ) -> Result<(ClassTable, Intervals<K>), BuildError> {
        let intervals = sweep(ranges, &mut self)?;
        Ok((self, intervals))
    }
}

/// The classes of `a` × `b`: `table[i * b.len() + j]` is the class of `a[i] & b[j]`.
fn cross(a: &ClassTable, b: &ClassTable, limit: usize) -> Option<(Vec<u32>, ClassTable)> {
    let entries = a.len().checked_mul(b.len()).filter(|&n| n <= CROSS_ENTRIES)?;
    let (words, summary) = (a.words(), a.summary_words());
    let mut out = ClassTable::new(words, limit);
    let mut table = Vec::with_capacity(entries);
    let mut and = vec![0u64; words];
    for i in 0..a.len() {
        let x = &a.class(i)[summary..];
        for j in 0..b.len() {
            let y = &b.class(j)[summary..];
            for ((o, &x), &y) in and.iter_mut().zip(x).zip(y) {
                *o = x & y;
            }
            table.push(out.intern(&and).ok()?);
        }
    }
    out.finish();
    Some((table, out))
}

/// Offsets of class bitsets must fit an index entry (2³⁰, the top two bits being its tag).
const MAX_OFFSET: usize = 1 << 30;

/// The class bitsets of every field, end to end.
#[derive(Default)]
struct Layout {
    bits: Vec<u64>,
}

impl Layout {
    /// Appends `table`'s bitsets; returns the word offset of its class 0.
    fn place(&mut self, table: ClassTable) -> u32 {
        // Offsets past MAX_OFFSET are caught by the caller before any is used; saturating keeps
        // this conversion from wrapping in the meantime.
        let base = u32::try_from(self.bits.len()).unwrap_or(u32::MAX);
        self.bits.extend(table.into_bits());
        base
    }
}

/// The protocol and port classes as crossed, with class ids not yet placed.
enum Crossing {
    Crossed { table: Vec<u32>, sports: usize, dports: usize, classes: ClassTable },
    Paired { table: Vec<u32>, sports: usize, pair: ClassTable, dport: ClassTable },
    Separate { proto: ClassTable, sport: ClassTable, dport: ClassTable },
}

impl Crossing {
    /// Number of distinct bitsets.
    fn classes(&self) -> usize {
        match self {
            Crossing::Crossed { classes, .. } => classes.len(),
            Crossing::Paired { pair, dport, .. } => pair.len() + dport.len(),
            Crossing::Separate { proto, sport, dport } => proto.len() + sport.len() + dport.len(),
        }
    }

    /// Places the bitsets in `layout` and maps every class id to its offset.
    fn place(self, layout: &mut Layout, stride: u32) -> PortStage {
        let offsets = |layout: &mut Layout, table: ClassTable| -> Vec<u32> {
            let n = table.len() as u32;
            let base = layout.place(table);
            (0..n).map(|c| base.saturating_add(c * stride)).collect()
        };
        match self {
            Crossing::Crossed { table, sports, dports, classes } => {
                let base = layout.place(classes);
                let table = table.into_iter().map(|c| base.saturating_add(c * stride)).collect();
                PortStage::Crossed { table, sports, dports }
            }
            Crossing::Paired { table, sports, pair, dport } => {
                let base = layout.place(pair);
                let table = table.into_iter().map(|c| base.saturating_add(c * stride)).collect();
                PortStage::Paired { table, sports, dport: offsets(layout, dport) }
            }
            Crossing::Separate { proto, sport, dport } => PortStage::Separate {
                proto: offsets(layout, proto),
                sport: offsets(layout, sport),
                dport: offsets(layout, dport),
            },
        }
    }
}

/// Crosses protocol × source port, then × destination port, as far as the size limits allow.
fn cross_ports(proto: ClassTable, sport: ClassTable, dport: ClassTable, limit: usize) -> Crossing {
    let Some((pair_table, pair)) = cross(&proto, &sport, limit) else {
        return Crossing::Separate { proto, sport, dport };
    };
    let sports = sport.len();
    let dports = dport.len();
    let full = pair_table.len().checked_mul(dports).filter(|&n| n <= CROSS_ENTRIES);
    if let Some((by_pair, classes)) = full.and_then(|_| cross(&pair, &dport, limit)) {
        // Compose (proto, sport) → pair class → (pair, dport) class into one table.
        let table = pair_table
            .iter()
            .flat_map(|&q| by_pair[q as usize * dports..(q as usize + 1) * dports].iter().copied())
            .collect();
        return Crossing::Crossed { table, sports, dports, classes };
    }
    Crossing::Paired { table: pair_table, sports, pair, dport }
}

/// The runs of consecutive protocol numbers in `set`.
fn protocol_runs(set: &ProtocolSet) -> Vec<(u16, u16)> {
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for p in 0..=255u8 {
        if set.contains(IpProtocol(p)) {
            match runs.last_mut() {
                Some(last) if last.1 + 1 == u16::from(p) => last.1 = u16::from(p),
                _ => runs.push((u16::from(p), u16::from(p))),
            }
        }
    }
    runs
}

/// A direct value → class table of `size` entries from a field's intervals. Port and protocol
/// fields have at most 65,536 intervals, so class ids fit in `u16`.
fn direct_table<K: Key + Into<u128>>(intervals: &Intervals<K>, size: usize) -> Vec<u16> {
    let mut table = Vec::with_capacity(size);
    for (i, &class) in intervals.classes.iter().enumerate() {
        let end = intervals.bounds.get(i + 1).map_or(size, |&b| Into::<u128>::into(b) as usize);
        table.resize(end, class as u16);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::MatchBox;
    use crate::net::{AddrSet, PortRange, PortSet};

    #[test]
    fn protocol_runs_groups_neighbours() {
        let set = ProtocolSet::of(&[IpProtocol(0), IpProtocol(1), IpProtocol(6), IpProtocol(255)]);
        assert_eq!(protocol_runs(&set), vec![(0, 1), (6, 6), (255, 255)]);
        assert_eq!(protocol_runs(&ProtocolSet::ALL), vec![(0, 255)]);
    }

    #[test]
    fn empty_boxes_get_no_bit() {
        let empty = MatchBox { dst: AddrSet::empty(), ..MatchBox::any() };
        let ssh = MatchBox { dst_ports: PortSet::from_ranges([PortRange::single(22)]), ..MatchBox::any() };
        let rules = [MatchRule::from_box(empty), MatchRule { boxes: vec![ssh, MatchBox::any()] }];
        let m = CompiledMatcher::build(&rules).expect("small");
        assert_eq!(m.box_count(), 2);
        assert_eq!(m.rule_boxes(0), 0..0);
        assert_eq!(m.rule_boxes(1), 0..2);
        assert_eq!(m.stats().bitsets_per_lookup, 3, "protocol and ports are crossed");
    }

    #[test]
    fn size_limit_is_an_error() {
        let rules: Vec<MatchRule> = (0..100u16)
            .map(|p| {
                MatchRule::from_box(MatchBox {
                    dst_ports: PortSet::from_ranges([PortRange::single(p)]),
                    ..MatchBox::any()
                })
            })
            .collect();
        let err = CompiledMatcher::build_with_limit(&rules, 64).expect_err("tiny limit");
        assert!(matches!(err, BuildError::TooLarge { .. }), "{err}");
    }
}

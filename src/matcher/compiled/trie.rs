//! Value → class for a 16- or 32-bit field (ports, IPv4 addresses): a multibit trie, 8 bits per
//! level, over the field's elementary intervals.
//!
//! # Why a trie and not a flat table
//!
//! A flat table (65,536 `u16` per port field, or a /16 table of 65,536 `u32` per address field)
//! answers in one load, but it is 128–256 KiB per field: four of them fill a 512 KiB L2 cache, so
//! a stream of flows to random rules misses the cache on nearly every field. Real rule sets are
//! uniform over most of the value space (all source ports are one class; most of the Internet is
//! one class), so a trie whose uniform blocks end at the first level touches a 1 KiB root for
//! most values and a few 1 KiB child blocks for the busy regions (well-known ports, the VNet's
//! prefixes, a service tag's ranges). On the ClassBench 10K sets and 1,000-rule NSGs this cut
//! the L2 misses per lookup by half when it replaced the flat tables (cachegrind; today's figures
//! are in `docs/matcher.md`).
//!
//! Each entry is one `u32`: a class (the whole block is one interval), a short run of intervals
//! to count through (a block with few boundaries, cheaper than a child block), or a child block
//! of 256 entries for the next 8 bits. A block of one value is always a class, so the trie has at
//! most `width / 8` levels.

use super::index::Intervals;

/// Entry tag (top two bits): the rest is a class id.
const DIRECT: u32 = 0;
/// Entry tag: the rest indexes `runs`, a short run of intervals to count through.
const SPAN: u32 = 1 << 30;
/// Entry tag: the rest is the number of a 256-entry child block in `nodes`.
const CHILD: u32 = 2 << 30;
/// The tag bits.
const TAG: u32 = 3 << 30;
/// A block meeting more boundaries than this gets a child block instead of a counted run.
const DENSE: usize = 7;

/// A short run of intervals, in one cache line: the boundaries inside a block and the classes on
/// either side of them. Unused boundaries are `u32::MAX` and unused classes repeat the last one,
/// so a count over all seven slots is exact (a padding boundary is at or below a value only when
/// the value is `u32::MAX`, which lies in the block's last interval anyway).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Run {
    bounds: [u32; DENSE],
    classes: [u32; DENSE + 1],
}

/// A multibit trie over the elementary intervals of a field of `width` bits (16 or 32).
#[derive(Clone, Debug)]
pub(super) struct Trie {
    /// Bits of the field.
    width: u32,
    /// Entries for the top 8 bits.
    root: Box<[u32; 256]>,
    /// Child blocks, 256 entries each.
    nodes: Vec<u32>,
    /// The counted runs.
    runs: Vec<Run>,
    /// The intervals while building: `bounds[i]` starts interval `i`, whose class is
    /// `classes[i]`. Emptied once built (the entries and runs hold all a lookup needs).
    bounds: Vec<u32>,
    classes: Vec<u32>,
    /// Number of elementary intervals.
    intervals: usize,
}

/// The first and last intervals that meet `start..=end`, searching from interval `from` on.
fn span(bounds: &[u32], start: u32, end: u32, mut from: usize) -> (usize, usize) {
    while from + 1 < bounds.len() && bounds[from + 1] <= start {
        from += 1;
    }
    let mut last = from;
    while last + 1 < bounds.len() && bounds[last + 1] <= end {
        last += 1;
    }
    (from, last)
}

impl Trie {
    /// The trie over `intervals` of a `width`-bit field (`bounds[0] == 0`, class ids below
    /// 2³⁰, which [`ClassTable`](super::index::ClassTable) guarantees).
    ///
    /// # Panics
    /// When `width` is not 16 or 32 (a caller bug, not an input error).
    pub(super) fn new<K: Copy + Into<u32>>(intervals: &Intervals<K>, width: u32) -> Trie {
        assert!(width == 16 || width == 32, "trie width {width}");
        let mut trie = Trie {
            width,
            root: Box::new([0; 256]),
            nodes: Vec::new(),
            runs: Vec::new(),
            bounds: intervals.bounds.iter().map(|&b| b.into()).collect(),
            classes: intervals.classes.clone(),
            intervals: intervals.bounds.len(),
        };
        let bits = width - 8;
        let mut first = 0;
        for top in 0..256u32 {
            let start = top << bits;
            let (f, last) = span(&trie.bounds, start, start | low_mask(bits), first);
            first = f;
            trie.root[top as usize] = trie.entry(start, bits, f, last);
        }
        trie.bounds = Vec::new();
        trie.classes = Vec::new();
        trie
    }

    /// The entry for the block of `2^bits` values from `start`, which meets intervals
    /// `first..=last`.
    fn entry(&mut self, start: u32, bits: u32, first: usize, last: usize) -> u32 {
        if first == last {
            return DIRECT | self.classes[first];
        }
        // Port fields take a child block (1 KiB of direct entries) for every mixed block: there
        // are at most 256 of them, and a direct entry is cheaper to read than a run to count.
        if last - first <= DENSE && self.width == 32 {
            let mut run = Run { bounds: [u32::MAX; DENSE], classes: [self.classes[last]; DENSE + 1] };
            run.bounds[..last - first].copy_from_slice(&self.bounds[first + 1..=last]);
            run.classes[..=last - first].copy_from_slice(&self.classes[first..=last]);
            self.runs.push(run);
            return SPAN | (self.runs.len() - 1) as u32;
        }
        // Several intervals meet this block, so it holds more than one value: bits >= 8.
        let child_bits = bits - 8;
        let block = self.nodes.len() / 256;
        self.nodes.resize(self.nodes.len() + 256, 0);
        let mut sub_first = first;
        for sub in 0..256u32 {
            let sub_start = start | sub << child_bits;
            let (f, l) = span(&self.bounds, sub_start, sub_start | low_mask(child_bits), sub_first);
            sub_first = f;
            let e = self.entry(sub_start, child_bits, f, l);
            self.nodes[block * 256 + sub as usize] = e;
        }
        CHILD | block as u32
    }

    /// The class of `value` (of the trie's width).
    #[inline]
    pub(super) fn class(&self, value: u32) -> usize {
        let mut shift = self.width - 8;
        let mut entry = self.root[(value >> shift) as usize & 0xFF];
        while entry & TAG == CHILD {
            // A child holds blocks of `shift` bits' values; a one-value block is never a child,
            // so `shift >= 8` here.
            shift -= 8;
            entry = self.nodes[((entry & !TAG) as usize) << 8 | ((value >> shift) & 0xFF) as usize];
        }
        if entry & TAG == DIRECT {
            return entry as usize;
        }
        // Count the boundaries at or below `value`: that is the interval holding it. The count
        // is branch-free over a fixed seven slots, all in one cache line.
        let run = &self.runs[(entry & !TAG) as usize];
        let idx = run.bounds.iter().map(|&b| usize::from(b <= value)).sum::<usize>();
        run.classes[idx] as usize
    }

    /// Replaces every class id `c` by `f(c)` (which must stay below 2³⁰): the matcher stores
    /// word offsets of class bitsets in place of class ids.
    pub(super) fn relocate(&mut self, f: impl Fn(u32) -> u32) {
        for c in self.runs.iter_mut().flat_map(|r| r.classes.iter_mut()) {
            *c = f(*c);
        }
        for e in self.root.iter_mut().chain(self.nodes.iter_mut()) {
            if *e & TAG == DIRECT {
                *e = f(*e);
            }
        }
    }

    /// Number of elementary intervals.
    pub(super) fn intervals(&self) -> usize {
        self.intervals
    }

    /// Number of child blocks (each 1 KiB).
    #[cfg(test)]
    pub(super) fn child_blocks(&self) -> usize {
        self.nodes.len() / 256
    }

    /// Heap bytes.
    pub(super) fn heap_bytes(&self) -> usize {
        256 * 4 + self.nodes.capacity() * 4 + self.runs.capacity() * 64
    }
}

/// The low `bits` bits set.
fn low_mask(bits: u32) -> u32 {
    if bits >= 32 { u32::MAX } else { (1u32 << bits) - 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The class of `v` by a plain search of the intervals.
    fn oracle(iv: &Intervals<u32>, v: u32) -> usize {
        iv.classes[iv.bounds.partition_point(|&b| b <= v) - 1] as usize
    }

    fn intervals(bounds: Vec<u32>) -> Intervals<u32> {
        let classes = (0..bounds.len() as u32).map(|i| i % 7).collect();
        Intervals { bounds, classes }
    }

    #[test]
    fn uniform_field_is_one_root_entry_per_block() {
        let iv = intervals(vec![0]);
        let t = Trie::new(&iv, 32);
        assert_eq!(t.child_blocks(), 0);
        for v in [0, 1, 0x0A00_0004, u32::MAX] {
            assert_eq!(t.class(v), 0);
        }
    }

    #[test]
    fn busy_blocks_get_children_down_to_single_values() {
        // Twenty single addresses in 10.0.0.0/24, each its own interval, plus the top address.
        let mut bounds = vec![0];
        for i in 0..20u32 {
            bounds.push(0x0A00_0000 + 2 * i);
            bounds.push(0x0A00_0000 + 2 * i + 1);
        }
        bounds.push(u32::MAX);
        let iv = intervals(bounds);
        let t = Trie::new(&iv, 32);
        assert_eq!(t.child_blocks(), 3, "10/8 → 10.0/16 → 10.0.0/24");
        for v in (0x09FF_FFF0..0x0A00_0040).chain([0, 0x0B00_0000, u32::MAX - 1, u32::MAX]) {
            assert_eq!(t.class(v), oracle(&iv, v), "{v:#x}");
        }
    }

    #[test]
    fn ports_have_two_levels() {
        let iv = intervals(vec![0, 22, 23, 80, 81, 443, 444, 1024, 3389, 3390, 5985, 5987, 49152]);
        let t = Trie::new(&iv, 16);
        for v in 0..=u32::from(u16::MAX) {
            assert_eq!(t.class(v), oracle(&iv, v), "port {v}");
        }
    }

    #[test]
    fn agrees_with_a_search_on_random_bounds() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for round in 0..20 {
            let mut bounds: Vec<u32> = (0..rng.random_range(1..400))
                .map(|_| {
                    // Cluster half of the bounds in one /16 so that every level is exercised.
                    if rng.random_bool(0.5) {
                        0xC0A8_0000 | rng.random_range(0..0x1_0000)
                    } else {
                        rng.random()
                    }
                })
                .collect();
            bounds.push(0);
            bounds.sort_unstable();
            bounds.dedup();
            let iv = intervals(bounds.clone());
            let t = Trie::new(&iv, 32);
            for &b in &bounds {
                for v in [b.wrapping_sub(1), b, b.saturating_add(1)] {
                    assert_eq!(t.class(v), oracle(&iv, v), "round {round} value {v:#x}");
                }
            }
            for _ in 0..2000 {
                let v = rng.random();
                assert_eq!(t.class(v), oracle(&iv, v), "round {round} value {v:#x}");
            }
        }
    }
}

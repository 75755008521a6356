//! The per-field pieces of the compiled matcher: interned class bitsets, the sweep that turns a
//! field's ranges into elementary intervals and classes, and the address indexes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::trie::Trie;
use crate::matcher::BuildError;

/// Interned class bitsets of one field. Each class is stored as `summary ++ words`: `summary`
/// words hold one bit per word of `words`, set when that word is non-zero.
#[derive(Clone, Debug)]
pub(super) struct ClassTable {
    words: usize,
    summary: usize,
    /// Class `c` occupies `bits[c * stride .. (c + 1) * stride]`.
    bits: Vec<u64>,
    /// Content hash → class id, with linear probing in hash space on collisions.
    map: HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>,
    /// Largest number of bytes the field's bitsets may take.
    limit: usize,
}

impl ClassTable {
    /// An empty table for bitsets of `words` words.
    pub(super) fn new(words: usize, limit: usize) -> ClassTable {
        ClassTable { words, summary: words.div_ceil(64), bits: Vec::new(), map: HashMap::default(), limit }
    }

    /// Words per class including the summary.
    #[inline]
    pub(super) fn stride(&self) -> usize {
        self.summary + self.words
    }

    /// Words per class bitset, without the summary.
    #[inline]
    pub(super) fn words(&self) -> usize {
        self.words
    }

    /// Summary words per class.
    #[inline]
    pub(super) fn summary_words(&self) -> usize {
        self.summary
    }

    /// Number of classes.
    pub(super) fn len(&self) -> usize {
        self.bits.len().checked_div(self.stride()).unwrap_or(0)
    }

    /// The summary and bitset of class `class`.
    #[inline]
    pub(super) fn class(&self, class: usize) -> &[u64] {
        let stride = self.stride();
        &self.bits[class * stride..(class + 1) * stride]
    }

    /// The bitsets of every class, `stride()` words each, in class order.
    pub(super) fn into_bits(self) -> Vec<u64> {
        self.bits
    }

    /// Drops the build-time intern map and spare capacity.
    pub(super) fn finish(&mut self) {
        self.map = HashMap::default();
        self.bits.shrink_to_fit();
    }

    /// The id of the class whose bitset is `active`, creating it when new.
    pub(super) fn intern(&mut self, active: &[u64]) -> Result<u32, BuildError> {
        debug_assert_eq!(active.len(), self.words);
        let mut hash = hash_words(active);
        let stride = self.stride();
        while let Some(&id) = self.map.get(&hash) {
            let start = id as usize * stride + self.summary;
            if self.bits[start..start + self.words] == *active {
                return Ok(id);
            }
            // A different bitset has this hash: probe the next hash value.
            hash = hash.wrapping_add(1);
        }
        let id = self.len();
        let bytes = (self.bits.len() + stride) * 8;
        if bytes > self.limit || id >= MAX_CLASSES {
            return Err(BuildError::TooLarge { bytes, limit: self.limit, classes: id + 1 });
        }
        let start = self.bits.len();
        self.bits.resize(start + self.summary, 0);
        for (i, &w) in active.iter().enumerate() {
            if w != 0 {
                self.bits[start + i / 64] |= 1 << (i % 64);
            }
        }
        self.bits.extend_from_slice(active);
        let id = id as u32;
        self.map.insert(hash, id);
        Ok(id)
    }
}

/// Class ids from this on cannot be stored in an address index entry (the top two bits are a tag).
pub(super) const MAX_CLASSES: usize = 1 << 30;

/// A 64-bit content hash of a bitset.
fn hash_words(words: &[u64]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for &w in words {
        h = (h.rotate_left(23) ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    h ^ (h >> 29)
}

/// A hasher for keys that already are good hashes.
#[derive(Default)]
pub(super) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The integer types a field's values are drawn from.
pub(super) trait Key: Copy + Ord + Default + std::fmt::Debug {
    /// `self + 1`, or `None` at the top of the type.
    fn succ(self) -> Option<Self>;
}

impl Key for u16 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
}
impl Key for u32 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
}
impl Key for u128 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
}

/// The elementary intervals of one field: interval `i` is `bounds[i] .. bounds[i + 1]` (the last
/// one runs to the top of the type) and its boxes are class `classes[i]`. `bounds[0]` is 0, and
/// consecutive intervals have different classes.
#[derive(Clone, Debug, Default)]
pub(super) struct Intervals<K> {
    pub(super) bounds: Vec<K>,
    pub(super) classes: Vec<u32>,
}

/// Sweeps a field's ranges (`(lo, hi, box)`, inclusive, the ranges of one box pairwise disjoint
/// and non-adjacent) into elementary intervals whose classes are interned in `table`.
pub(super) fn sweep<K: Key>(
    ranges: &[(K, K, u32)],
    table: &mut ClassTable,
) -> Result<Intervals<K>, BuildError> {
    // An event toggles one box's bit at a position: on at `lo`, off at `hi + 1`. A box's ranges
    // in one field never overlap or touch, so toggling is exact and no counters are needed.
    let mut events: Vec<(K, u32)> = Vec::with_capacity(ranges.len() * 2);
    for &(lo, hi, b) in ranges {
        events.push((lo, b));
        if let Some(end) = hi.succ() {
            events.push((end, b));
        }
    }
    events.sort_unstable_by_key(|&(pos, _)| pos);
    let mut active = vec![0u64; table.words()];
    let mut out = Intervals { bounds: Vec::new(), classes: Vec::new() };
    let mut pos = K::default();
    let mut i = 0;
    loop {
        while let Some(&(at, b)) = events.get(i)
            && at == pos
        {
            active[b as usize / 64] ^= 1 << (b % 64);
            i += 1;
        }
        let class = table.intern(&active)?;
        if out.classes.last() != Some(&class) {
            out.bounds.push(pos);
            out.classes.push(class);
        }
        match events.get(i) {
            Some(&(at, _)) => pos = at,
            None => break,
        }
    }
    Ok(out)
}

/// Address → class for one address field, both families: a multibit trie for IPv4 (see
/// [`Trie`]) and a binary search over the `u128` boundaries for IPv6, whose rules are few.
#[derive(Clone, Debug)]
pub(super) struct AddrIndex {
    v4: Trie,
    v6: Intervals<u128>,
}

impl AddrIndex {
    /// The index over the given IPv4 and IPv6 intervals.
    pub(super) fn new(v4: Intervals<u32>, v6: Intervals<u128>) -> AddrIndex {
        AddrIndex { v4: Trie::new(&v4, 32), v6 }
    }

    /// The class of IPv4 address `addr`.
    #[inline]
    pub(super) fn class_v4(&self, addr: u32) -> usize {
        self.v4.class(addr)
    }

    /// The class of IPv6 address `addr`.
    #[inline]
    pub(super) fn class_v6(&self, addr: u128) -> usize {
        let idx = self.v6.bounds.partition_point(|&b| b <= addr);
        // `bounds[0] == 0`, so `idx >= 1`.
        self.v6.classes[idx - 1] as usize
    }

    /// The class of `addr`.
    #[inline]
    pub(super) fn class(&self, addr: std::net::IpAddr) -> usize {
        match addr {
            std::net::IpAddr::V4(a) => self.class_v4(u32::from(a)),
            std::net::IpAddr::V6(a) => self.class_v6(u128::from(a)),
        }
    }

    /// Number of IPv4 and IPv6 elementary intervals.
    pub(super) fn interval_counts(&self) -> (usize, usize) {
        (self.v4.intervals(), self.v6.bounds.len())
    }

    /// Replaces every class id `c` by `f(c)` (below 2³⁰), as [`Trie::relocate`].
    pub(super) fn relocate(&mut self, f: impl Fn(u32) -> u32) {
        self.v4.relocate(&f);
        for c in &mut self.v6.classes {
            *c = f(*c);
        }
    }

    /// Heap bytes of the index.
    pub(super) fn heap_bytes(&self) -> usize {
        self.v4.heap_bytes() + self.v6.bounds.capacity() * 16 + self.v6.classes.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_merges_equal_neighbours_and_interns_classes() {
        let mut table = ClassTable::new(1, usize::MAX);
        // Box 0 covers 10..=19 and 30..=39, box 1 covers 15..=u16::MAX.
        let ranges = [(10u16, 19, 0), (30, 39, 0), (15, u16::MAX, 1)];
        let iv = sweep(&ranges, &mut table).expect("small");
        assert_eq!(iv.bounds, vec![0, 10, 15, 20, 30, 40]);
        let bits: Vec<u64> = iv.classes.iter().map(|&c| table.class(c as usize)[1]).collect();
        assert_eq!(bits, vec![0, 0b01, 0b11, 0b10, 0b11, 0b10]);
        // {1} appears twice and {0,1} twice but each is one class.
        assert_eq!(table.len(), 4);
        assert_eq!(table.class(iv.classes[2] as usize)[0], 1, "summary bit of a non-empty word");
    }

    #[test]
    fn intern_survives_hash_collisions() {
        let mut table = ClassTable::new(1, usize::MAX);
        let a = table.intern(&[1]).expect("small");
        // Force a collision: give the other bitset's hash slot to `a`'s class.
        table.map.insert(hash_words(&[2]), a);
        let b = table.intern(&[2]).expect("small");
        assert_ne!(a, b);
        assert_eq!(table.intern(&[2]).expect("small"), b);
        assert_eq!(table.intern(&[1]).expect("small"), a);
    }
}

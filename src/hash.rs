//! A fast hasher for tables keyed by data nsgsim made itself (field paths of a scenario, flow
//! keys of a replay), where SipHash's defence against chosen collisions buys nothing and costs a
//! large share of the time.
//!
//! The mixing is rustc's `FxHasher` (multiply and rotate, a word at a time) with MurmurHash3's
//! finaliser, so that the low bits a hash table indexes by depend on every input bit.

use std::hash::{BuildHasherDefault, Hasher};

/// The hasher; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHasher(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.mix(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A `HashMap` builder with [`FastHasher`].
pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    #[test]
    fn low_bits_spread_over_keys_that_differ_in_high_bits_only() {
        let build = FastBuild::default();
        let buckets: std::collections::BTreeSet<u64> =
            (0u64..64).map(|i| build.hash_one(i << 40) & 63).collect();
        assert!(buckets.len() > 32, "{} buckets of 64", buckets.len());
        let mut a = FastHasher::default();
        "timeline[1].note".hash(&mut a);
        let mut b = FastHasher::default();
        "timeline[2].note".hash(&mut b);
        assert_ne!(a.finish(), b.finish());
    }
}

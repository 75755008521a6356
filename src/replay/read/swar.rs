//! Eight bytes of a flow tuple at a time (SWAR: SIMD within a register), for the tuple reader.
//!
//! Why: reading tuples was the largest part of a replay's CPU (about 37 % of a worker, issue 20,
//! fourth round), most of it one byte, one bounds check and one branch at a time. A tuple as
//! Network Watcher writes it is short digit runs, dotted quads and one-letter fields, so one
//! unaligned 8-byte load answers "where does this run of digits end", "which byte is the next
//! comma, quote, backslash or control character" and "what is the number" with a few word
//! operations. Every helper here is exact (no false positives across bytes), and each caller
//! falls back to the byte-at-a-time reader near the end of the buffer (fewer than 8 bytes left).

/// Each byte of a word set to `b`.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The bytes of `bytes` from `pos`, as a little-endian word (the first byte lowest), if eight
/// are there.
#[inline(always)]
pub(super) fn load(bytes: &[u8], pos: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(pos..pos.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// A word with a nonzero byte exactly where `w`'s byte is not an ASCII digit.
#[inline(always)]
pub(super) fn non_digits(w: u64) -> u64 {
    // A digit is 0x30..=0x39: high nibble 3, and low nibble + 6 stays below 0x10.
    let high = (w & splat(0xF0)) ^ splat(0x30);
    let low = (w & splat(0x0F)).wrapping_add(splat(0x06)) & splat(0xF0);
    high | low
}

/// The index (0..=8) of the first nonzero byte of `mask` (8 if none).
#[inline(always)]
pub(super) fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The high bit of each byte of `w` set exactly where that byte equals `b`.
#[inline(always)]
fn equal(w: u64, b: u8) -> u64 {
    let x = w ^ splat(b);
    // Exact (no borrow between bytes): a byte is zero iff adding 0x7F to its low seven bits
    // does not reach the high bit and its own high bit is clear.
    !(((x & splat(0x7F)).wrapping_add(splat(0x7F))) | x | splat(0x7F))
}

/// The high bit of each byte of `w` set exactly where that byte is below 0x20 (a control
/// character, which JSON does not allow unescaped in a string).
#[inline(always)]
fn control(w: u64) -> u64 {
    !(((w & splat(0x7F)).wrapping_add(splat(0x60))) | w | splat(0x7F))
}

/// Bytes that end a tuple's tail (a quote, a backslash, a control character) and its commas,
/// each as a mask of high bits.
#[inline(always)]
pub(super) fn stops_and_commas(w: u64) -> (u64, u64) {
    (equal(w, b'"') | equal(w, b'\\') | control(w), equal(w, b','))
}

/// The number written by the first `k` (0..=8) bytes of `w`, all ASCII digits, the first byte
/// the most significant.
#[inline(always)]
pub(super) fn number(w: u64, k: usize) -> u64 {
    if k == 0 {
        return 0;
    }
    // The digits' values moved to the top `k` bytes: the bytes below are leading zeros.
    let val = (w & splat(0x0F)) << (8 * (8 - k));
    // Pairs, then quads, then the eight digits (Lemire's eight-digit conversion).
    let val = val.wrapping_mul(10).wrapping_add(val >> 8);
    let mask = 0x0000_00FF_0000_00FF;
    let mul1 = 100 + (1_000_000 << 32);
    let mul2 = 1 + (10_000 << 32);
    ((val & mask).wrapping_mul(mul1).wrapping_add(((val >> 16) & mask).wrapping_mul(mul2))) >> 32
}

/// 10 to the power `k` (0..=8).
#[inline(always)]
pub(super) fn pow10(k: usize) -> u64 {
    const POW: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];
    POW[k.min(8)]
}

/// Byte `i` (0..8) of `w`.
#[inline(always)]
pub(super) fn byte(w: u64, i: usize) -> u8 {
    (w >> (8 * (i & 7))) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    #[test]
    fn word_masks_agree_with_the_bytes() {
        let mut runner = TestRunner::new(Config { cases: 20_000, ..Config::default() });
        let bytes = proptest::collection::vec(
            prop_oneof![any::<u8>(), "[0-9,\"\\\\./:]".prop_map(|s| s.as_bytes()[0])],
            8..9,
        );
        runner
            .run(&bytes, |bytes| {
                let w = load(&bytes, 0).unwrap_or_default();
                let (stops, commas) = stops_and_commas(w);
                let nd = non_digits(w);
                for (i, &b) in bytes.iter().enumerate() {
                    prop_assert_eq!(byte(w, i), b);
                    prop_assert_eq!(byte(nd, i) != 0, !b.is_ascii_digit(), "{:?}", bytes);
                    prop_assert_eq!(byte(stops, i) != 0, b == b'"' || b == b'\\' || b < 0x20, "{:?}", bytes);
                    prop_assert_eq!(byte(commas, i) != 0, b == b',', "{:?}", bytes);
                }
                let k = first(nd);
                let text = std::str::from_utf8(&bytes[..k]).unwrap_or_default();
                prop_assert_eq!(number(w, k), text.parse::<u64>().unwrap_or(0), "{:?}", bytes);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn numbers_of_every_length() {
        for text in ["", "0", "7", "42", "255", "0255", "65535", "123456", "1234567", "17361540", "99999999"]
        {
            let mut bytes = text.as_bytes().to_vec();
            bytes.resize(8, b',');
            let w = load(&bytes, 0).unwrap_or_default();
            assert_eq!(first(non_digits(w)), text.len(), "{text}");
            assert_eq!(number(w, text.len()), text.parse::<u64>().unwrap_or(0), "{text}");
        }
    }
}

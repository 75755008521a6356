//! `uniqueString()` and `guid()` as Azure Resource Manager computes them.
//!
//! Both are deterministic, so a template that names a NIC `concat('nic-',
//! uniqueString(resourceGroup().id))` gets the same name offline as in Azure, given the same
//! deployment context (`--subscription-id`, `--resource-group`).
//!
//! - `uniqueString(a, b, …)`: the arguments joined with `-`, as UTF-8, hashed with the 64-bit
//!   "MurmurHash64" of Microsoft's resource stack (two 32-bit MurmurHash3-style lanes over
//!   8-byte blocks, mixed together at the end), and the hash written as 13 characters of RFC 4648
//!   base32 in lower case, most significant 5 bits first (the 13th character takes the last 4
//!   bits and a zero).
//! - `guid(a, b, …)`: a name-based UUID of version 5 (RFC 4122 §4.3: SHA-1 of the namespace's 16
//!   bytes then the name, version and variant bits set), the namespace being ARM's
//!   `11fb06fb-712d-4ddd-98c7-e71bbd588830` and the name the arguments joined with `-`, as UTF-8.
//!
//! The unit tests compare with values Microsoft's engine produced, each cited where it is used.

use sha1::{Digest, Sha1};

/// ARM's namespace for `guid()`.
const GUID_NAMESPACE: [u8; 16] =
    [0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30];

/// `uniqueString(parts…)`: 13 lower-case base32 characters.
pub fn unique_string(parts: &[String]) -> String {
    let hash = murmur_hash64(parts.join("-").as_bytes());
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..13)
        .map(|i| {
            // Character i takes bits 63-5i down to 59-5i; the last one runs past bit 0 and is
            // filled with zeros, as the shift below does.
            let shifted = hash.checked_shl(5 * i).unwrap_or(0);
            char::from(ALPHABET[usize::try_from(shifted >> 59).unwrap_or(0) & 31])
        })
        .collect()
}

/// `guid(parts…)`: a version 5 UUID in ARM's namespace, lower-case and hyphenated.
pub fn guid(parts: &[String]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(GUID_NAMESPACE);
    hasher.update(parts.join("-").as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The 64-bit MurmurHash variant of Microsoft's resource stack, with seed 0.
fn murmur_hash64(data: &[u8]) -> u64 {
    const C1: u32 = 0x239b_961b;
    const C2: u32 = 0xab0e_9789;
    let word = |chunk: &[u8]| -> u32 {
        chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (8 * i)))
    };
    let (mut h1, mut h2) = (0u32, 0u32);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let k1 = word(&block[..4]).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        let k2 = word(&block[4..]).wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
        h1 = (h1 ^ k1).rotate_left(19).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x561c_cd1b);
        h2 = (h2 ^ k2).rotate_left(13).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x0bca_a747);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let (first, second) = tail.split_at(tail.len().min(4));
        h1 ^= word(first).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        if !second.is_empty() {
            h2 ^= word(second).wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
        }
    }
    // The length is mixed in as a 32-bit value, as the original does.
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let fmix = |mut h: u32| {
        h = (h ^ (h >> 16)).wrapping_mul(0x85eb_ca6b);
        h = (h ^ (h >> 13)).wrapping_mul(0xc2b2_ae35);
        h ^ (h >> 16)
    };
    h2 ^= length;
    h1 = (h1 ^ length).wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| (*p).to_string()).collect()
    }

    #[test]
    fn unique_string_matches_values_azure_produced() {
        // Microsoft's own engine (the Azure.Deployments.Expression package that ARM and Bicep
        // use), run locally: SimonWahlin/AzExpression, docs/en-US/New-AzUniqueString.md,
        // "New-AzUniqueString -InputStrings 'test','value'" returns `bhxq2thzm5dym`.
        assert_eq!(unique_string(&s(&["test", "value"])), "bhxq2thzm5dym");
        // The same engine in a local build: "./out/uniqueString test" prints `rbgf3xv4ufgzg`
        // (a README in the search tool's code corpus, "ARM uniqueString Function that runs
        // locally"); the arm2tf Terraform provider's acceptance test asserts the same value.
        assert_eq!(unique_string(&s(&["test"])), "rbgf3xv4ufgzg");
        // A real deployment: microsoft/commercial-marketplace-offer-deploy, test
        // ArmFunctionsTests.UniqueStringShouldEqualValueCreatedFromArmTemplate (UnitTests
        // version), the id of a VM an ARM deployment created and the value its template output.
        let id = "/subscriptions/31e9f9a0-9fd2-4294-a0a3-0101246d9700/resourceGroups/rg-modm201-20230913120256/providers/Microsoft.Compute/virtualMachines/bobjacmodm201";
        assert_eq!(unique_string(&s(&[id])), "yvjxno3je5on2");
        // Every length of the last block takes its own path through the hash.
        let lengths: std::collections::BTreeSet<String> =
            (0..17).map(|n| unique_string(&[("x".repeat(n))])).collect();
        assert_eq!(lengths.len(), 17);
        assert!(lengths.iter().all(|u| u.len() == 13 && u.chars().all(|c| c.is_ascii_alphanumeric())));
    }

    #[test]
    fn guid_matches_values_azure_produced() {
        // Microsoft's engine, run locally: SimonWahlin/AzExpression, docs/en-US/New-AzGuid.md,
        // "New-AzGuid -InputStrings 'test','value'" returns this value.
        assert_eq!(guid(&s(&["test", "value"])), "95b33d6a-06a0-5961-9b94-a0f6c648352b");
        // cloud-maker-ai/go-guid, guid_test.go, and the arm2tf provider's test: guid('test').
        assert_eq!(guid(&s(&["test"])), "d6a5baf1-8b9b-542a-8525-2982f1f98a0c");
        let g = guid(&s(&["a"]));
        assert_eq!(&g[14..15], "5", "version 5");
        assert!(matches!(&g[19..20], "8" | "9" | "a" | "b"), "RFC 4122 variant");
    }
}

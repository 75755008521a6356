//! A service-tag file in the shape of Microsoft's weekly "Azure IP Ranges and Service Tags"
//! download, generated so that the matcher bench (and the tests that include this file) run on a
//! user's clone, where Microsoft's file is not shipped.
//!
//! The sizes follow the Public file of changeNumber 376 (`../shared/data/real-world/service-tags/
//! ServiceTags_Public.json`): 3,041 tags holding 95,823 prefixes, `AzureCloud` alone 13,155 of
//! them (9,637 IPv4, 3,518 IPv6) with prefix lengths spread as in that file (a quarter /24), and
//! 1,534 tags without a `networkFeatures` list.

use std::fmt::Write;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// `AzureCloud`'s IPv4 prefixes in the Public file of changeNumber 376.
pub const AZURE_CLOUD_V4: usize = 9_637;
/// `AzureCloud`'s IPv6 prefixes in the same file.
pub const AZURE_CLOUD_V6: usize = 3_518;
/// Tags in the same file.
pub const TAGS: usize = 3_041;
/// Prefixes of all its tags together.
pub const ALL_PREFIXES: usize = 95_823;

/// IPv4 prefix lengths of the real `AzureCloud` and how many of each (changeNumber 376).
const V4_LENGTHS: [(u8, u32); 18] = [
    (15, 19),
    (16, 226),
    (17, 531),
    (18, 430),
    (19, 314),
    (20, 240),
    (21, 314),
    (22, 433),
    (23, 1045),
    (24, 3165),
    (25, 463),
    (26, 470),
    (27, 672),
    (28, 486),
    (29, 232),
    (30, 263),
    (31, 324),
    (32, 10),
];

/// The first octets of public space the generated prefixes fall in (Microsoft's ranges start at
/// 4, 13, 20, 40, 51, 52, …).
const FIRST_OCTETS: [u32; 12] = [4, 13, 20, 23, 40, 51, 52, 65, 102, 104, 137, 191];

fn v4_prefix(rng: &mut StdRng, length: u8) -> String {
    let first = FIRST_OCTETS[rng.random_range(0..FIRST_OCTETS.len())];
    let address = (first << 24) | rng.random_range(0..1u32 << 24);
    let mask = if length == 0 { 0 } else { u32::MAX << (32 - u32::from(length)) };
    let a = address & mask;
    format!("{}.{}.{}.{}/{length}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)
}

fn v6_prefix(rng: &mut StdRng) -> String {
    let length: u8 = [48, 56, 63, 64][rng.random_range(0..4)];
    let bits = u128::from(rng.random::<u64>()) << 64;
    let address = (0x2603u128 << 112) | (bits >> 16);
    let a = address & (u128::MAX << (128 - u32::from(length)));
    format!("{}/{length}", std::net::Ipv6Addr::from(a))
}

/// `AzureCloud`'s generated prefixes: the real file's counts per IPv4 length, then IPv6.
fn azure_cloud(rng: &mut StdRng) -> Vec<String> {
    let mut list = Vec::with_capacity(AZURE_CLOUD_V4 + AZURE_CLOUD_V6);
    for (length, count) in V4_LENGTHS {
        list.extend((0..count).map(|_| v4_prefix(rng, length)));
    }
    list.extend((0..AZURE_CLOUD_V6).map(|_| v6_prefix(rng)));
    list
}

fn write_tag(out: &mut String, name: &str, region: &str, features: Option<&str>, prefixes: &[String]) {
    let quoted: Vec<String> = prefixes.iter().map(|p| format!("\"{p}\"")).collect();
    let features = features.map_or(String::new(), |f| format!(",\n        \"networkFeatures\": [{f}]"));
    let _ = write!(
        out,
        "    {{\n      \"name\": \"{name}\",\n      \"id\": \"{name}\",\n      \"properties\": {{\n        \"changeNumber\": 7,\n        \"region\": \"{region}\",\n        \"regionId\": 0,\n        \"platform\": \"Azure\",\n        \"systemService\": \"\",\n        \"addressPrefixes\": [\n          {}\n        ]{features}\n      }}\n    }}",
        quoted.join(",\n          ")
    );
}

/// The generated file's text (seeded: the same every run): `AzureCloud` first with the real
/// file's size, then `Service{i}` tags and their regional `Service{i}.Region{j}` tags up to
/// [`TAGS`] tags and [`ALL_PREFIXES`] prefixes, every other regional tag without
/// `networkFeatures` as in Microsoft's file.
pub fn text() -> String {
    let mut rng = StdRng::seed_from_u64(376);
    let mut out = String::from("{\n  \"changeNumber\": 376,\n  \"cloud\": \"Public\",\n  \"values\": [\n");
    let cloud = azure_cloud(&mut rng);
    write_tag(&mut out, "AzureCloud", "", Some("\"API\", \"NSG\""), &cloud);
    let rest = TAGS - 1;
    let per_tag = (ALL_PREFIXES - cloud.len()) / rest;
    for i in 0..rest {
        let (name, region, features) = if i % 20 == 0 {
            (format!("Service{}", i / 20), String::new(), Some("\"API\", \"NSG\", \"UDR\", \"FW\""))
        } else {
            let with = i % 2 == 0;
            (
                format!("Service{}.Region{}", i / 20, i % 20),
                format!("region{}", i % 20),
                with.then_some("\"API\", \"NSG\""),
            )
        };
        let prefixes: Vec<String> = (0..per_tag)
            .map(|_| {
                let length = rng.random_range(22..=30);
                v4_prefix(&mut rng, length)
            })
            .collect();
        out.push_str(",\n");
        write_tag(&mut out, &name, &region, features, &prefixes);
    }
    out.push_str("\n  ]\n}\n");
    out
}

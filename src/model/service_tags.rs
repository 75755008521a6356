//! Members of the service tags that are not derived from the topology.
//!
//! `VirtualNetwork` and `Internet` are computed per VNet (see `Topology::resolve_context`).
//! Tags such as `AzureCloud` or `GatewayManager` are long lists of Microsoft prefixes that
//! change weekly. Microsoft publishes them every week as the "Azure IP Ranges and Service Tags"
//! file (the shape `az network list-service-tags` prints); a scenario reads it through
//! [`ServiceTagFile`] (`--service-tags FILE` or its `service_tags_file` field), and every output
//! that uses a tag then names the file's cloud and change number. Without a file nsgsim falls
//! back on a small *sample* of a few tags (labelled "built-in sample, not Microsoft's list" in
//! every output that uses them), and a scenario may define the members it wants in
//! `service_tags`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::net::AddrSet;

/// The host platform address (DHCP, DNS, health probes): the `AzureLoadBalancer` tag, and a
/// member of `VirtualNetwork`.
pub const PLATFORM_HOST_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(168, 63, 129, 16));

fn nets(list: &[&str]) -> AddrSet {
    let parsed: Vec<IpNet> = list.iter().filter_map(|s| s.parse().ok()).collect();
    AddrSet::from_nets(&parsed)
}

/// Sample members for common tags, used when a scenario does not define the tag itself.
/// These are representative prefixes, not Microsoft's current lists.
pub fn sample_service_tags() -> BTreeMap<String, AddrSet> {
    let mut tags = BTreeMap::new();
    tags.insert(
        "AzureCloud".to_string(),
        nets(&["13.64.0.0/11", "20.0.0.0/11", "40.64.0.0/10", "52.224.0.0/11"]),
    );
    tags.insert("GatewayManager".to_string(), nets(&["20.36.120.104/29", "40.74.0.0/25", "52.161.0.0/25"]));
    tags.insert("AzureBastion".to_string(), nets(&["20.36.120.104/29", "52.161.0.0/25"]));
    tags.insert("Storage".to_string(), nets(&["20.38.96.0/19", "52.239.128.0/17"]));
    tags.insert("Sql".to_string(), nets(&["13.66.140.0/24", "40.78.224.0/21"]));
    tags.insert("AzureMonitor".to_string(), nets(&["13.66.143.220/30", "20.42.64.0/24"]));
    tags.insert("AzureActiveDirectory".to_string(), nets(&["20.190.128.0/18", "40.126.0.0/18"]));
    // The platform services' tags (Microsoft, NSG overview, "Azure platform considerations"):
    // DNS and IMDS are the documented host addresses; LKM holds the KMS hosts
    // kms.core.windows.net and azkms.core.windows.net (a sample, like the tags above).
    tags.insert("AzurePlatformDNS".to_string(), nets(&["168.63.129.16/32"]));
    tags.insert("AzurePlatformIMDS".to_string(), nets(&["169.254.169.254/32"]));
    tags.insert(
        "AzurePlatformLKM".to_string(),
        nets(&["23.102.135.246/32", "20.118.99.224/32", "40.83.235.53/32"]),
    );
    tags
}

/// What Microsoft's service-tag file says of one tag besides its prefixes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TagFacts {
    /// The region of a regional tag (`westeurope` for `Storage.WestEurope`); empty for a global tag.
    pub region: String,
    /// The service the tag belongs to (`AzureStorage`), as the file writes it; may be empty.
    pub system_service: String,
    /// The tag's own change number.
    pub change_number: u64,
    /// Where Azure lets the tag be used (`API`, `NSG`, `UDR`, `FW`, `VSE`); `None` when the file
    /// gives no list (it does not for about half of the regional tags).
    pub network_features: Option<Vec<String>>,
}

impl TagFacts {
    /// Whether the file lists `NSG` among the tag's network features: `Some(false)` when it
    /// gives a list without it, `None` when it gives no list at all.
    pub fn usable_in_nsg(&self) -> Option<bool> {
        self.network_features.as_ref().map(|list| list.iter().any(|f| f.eq_ignore_ascii_case("NSG")))
    }
}

/// Microsoft's "Azure IP Ranges and Service Tags" file, read (see `scenario::read_service_tag_file`).
#[derive(Clone, Debug, Default)]
pub struct ServiceTagFile {
    /// The file as the user named it.
    pub path: String,
    /// Its `cloud` (`Public`, `AzureGovernment`, …).
    pub cloud: String,
    /// Its `changeNumber`: the week's version of the whole file.
    pub change_number: u64,
    /// Each tag's members, by the name the file gives (`AzureCloud`, `Storage.WestEurope`).
    pub members: BTreeMap<String, AddrSet>,
    /// Each tag's facts, by the same names.
    pub facts: BTreeMap<String, TagFacts>,
    /// How many IPv6 prefixes the file holds (kept as members of their tags).
    pub ipv6_prefixes: usize,
}

impl ServiceTagFile {
    /// The file as outputs name it: `Microsoft's service tags ServiceTags_Public.json (cloud
    /// Public, changeNumber 376)`.
    pub fn label(&self) -> String {
        format!(
            "Microsoft's service tags {} (cloud {}, changeNumber {})",
            self.path, self.cloud, self.change_number
        )
    }
}

/// Where the members of a tag a rule names come from.
#[derive(Clone, Copy, Debug)]
pub enum TagProvenance<'a> {
    /// `VirtualNetwork`, `Internet`, `AzureLoadBalancer`: computed from the topology.
    Computed,
    /// Defined by the scenario's `service_tags`.
    Scenario,
    /// Read from Microsoft's file.
    File(&'a ServiceTagFile),
    /// nsgsim's built-in sample: not Microsoft's list.
    Sample,
}

/// The names of `known` nearest to `name` (by edit distance, ignoring case), closest first, at
/// most `count` of them: what an error about an unknown tag suggests when there are thousands.
pub fn nearest_names<'a>(name: &str, known: impl Iterator<Item = &'a str>, count: usize) -> Vec<&'a str> {
    let wanted = name.to_ascii_lowercase();
    let mut scored: Vec<(usize, &str)> =
        known.map(|k| (edit_distance(&wanted, &k.to_ascii_lowercase()), k)).collect();
    scored.sort_unstable();
    scored.into_iter().take(count).map(|(_, k)| k).collect()
}

/// Levenshtein distance between two strings, by characters, in O(len(a) × len(b)) time and
/// O(len(b)) memory; the lengths are cut at 256 characters (a tag name is short; a longer text
/// is not a tag name and needs no finer ranking).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(256).collect();
    let b: Vec<char> = b.chars().take(256).collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The public address space: what the `Internet` tag covers before the VNet's own space is
/// taken out. Model choice (docs/fidelity.md): IPv4 unicast minus the private, shared, loopback,
/// link-local, multicast and reserved blocks; IPv6 global unicast 2000::/3.
pub fn internet_space() -> AddrSet {
    let everything_v4 = nets(&["0.0.0.0/0"]);
    let special = nets(&[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    ]);
    everything_v4.subtract(&special).union(&nets(&["2000::/3"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_excludes_private_space() {
        let internet = internet_space();
        assert!(internet.contains("203.0.113.5".parse().expect("ip")));
        assert!(!internet.contains("10.1.2.3".parse().expect("ip")));
        assert!(!internet.contains("192.168.1.1".parse().expect("ip")));
        assert!(internet.contains("2001:db8::1".parse().expect("ip")));
        assert!(!internet.contains("fd00::1".parse().expect("ip")));
    }

    #[test]
    fn nearest_names_rank_by_edit_distance_without_case() {
        let known = ["AzureCloud", "AzureCloud.WestEurope", "Storage", "Storage.WestEurope", "Sql"];
        assert_eq!(nearest_names("azurecloud.westeurope", known.into_iter(), 1), ["AzureCloud.WestEurope"]);
        assert_eq!(
            nearest_names("Storag.WestEurope", known.into_iter(), 2),
            ["Storage.WestEurope", "AzureCloud.WestEurope"]
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn a_tag_is_usable_in_an_nsg_only_when_its_features_list_nsg() {
        let mut facts = TagFacts::default();
        assert_eq!(facts.usable_in_nsg(), None);
        facts.network_features = Some(vec!["API".into()]);
        assert_eq!(facts.usable_in_nsg(), Some(false));
        facts.network_features = Some(vec!["API".into(), "NSG".into()]);
        assert_eq!(facts.usable_in_nsg(), Some(true));
    }
}

//! Members of the service tags that are not derived from the topology.
//!
//! `VirtualNetwork` and `Internet` are computed per VNet (see `Topology::resolve_context`).
//! Tags such as `AzureCloud` or `GatewayManager` are long lists of Microsoft prefixes that
//! change weekly; nsgsim ships a small *sample* of each (labelled so in every output that uses
//! them) and a scenario may define the members it wants in `service_tags`.

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
}

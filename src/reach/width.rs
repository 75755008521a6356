//! How wide an exposure of a management port is (issue 25 item 4): "wide" when anyone on the
//! Internet, or anyone with an Azure subscription, can send to it; "narrow" when only specific
//! prefixes can.
//!
//! Microsoft's Defender for Cloud ranks what it finds by "the risk and scope of that exposure"
//! ("Internet exposure analysis", learn.microsoft.com/azure/defender-for-cloud/internet-exposure-analysis),
//! and its attack paths start from a resource "exposed to the internet". It publishes no rule
//! for where a scope turns wide, so the labels here are nsgsim's (model choice, docs/fidelity.md):
//!
//! 1. every Internet address the VM sees (a rule from `*`, `Internet`, `0.0.0.0/0`, a JIT grant
//!    from any source): wide;
//! 2. every address of a multi-tenant tag (`AzureCloud` or a regional `AzureCloud.*`: "All
//!    datacenter public IP addresses", which any Azure customer can send from): wide;
//! 3. more than 65,536 IPv4 addresses (a /16) or an IPv6 block larger than a /48: wide;
//! 4. anything else (specific prefixes, an admin range, a JIT grant from one address): narrow.

use std::fmt;

use crate::model::Topology;
use crate::net::AddrSet;

/// The IPv4 addresses above which a source set is wide: a /16.
pub const WIDE_IPV4_ADDRESSES: u64 = 1 << 16;
/// The IPv6 addresses above which a source set is wide: a /48.
pub const WIDE_IPV6_ADDRESSES: u128 = 1 << 80;

/// Wide or narrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// Anyone on the Internet, any Azure customer, or a range wider than a /16.
    Wide,
    /// Specific prefixes only.
    Narrow,
}

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Width::Wide => "wide",
            Width::Narrow => "narrow",
        })
    }
}

/// A width with the reason it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WidthLabel {
    /// Wide or narrow.
    pub width: Width,
    /// Why, in words: `any Internet address`, `every address of AzureCloud (any Azure
    /// customer can send from it)`, `3 IPv4 addresses`.
    pub why: String,
}

/// The number of IPv4 and IPv6 addresses in `set` (IPv6 saturating).
fn sizes(set: &AddrSet) -> (u64, u128) {
    let v4 = set.v4_ranges().iter().map(|&(lo, hi)| u64::from(hi - lo) + 1).sum();
    let v6 =
        set.v6_ranges().iter().fold(0u128, |acc, &(lo, hi)| acc.saturating_add((hi - lo).saturating_add(1)));
    (v4, v6)
}

/// The width of an exposure to `sources`, a part of `internet` (the Internet as the VM's VNet
/// sees it), with the multi-tenant tags `topology` knows.
pub fn width_of(sources: &AddrSet, internet: &AddrSet, topology: &Topology) -> WidthLabel {
    let wide = |why: String| WidthLabel { width: Width::Wide, why };
    if !internet.is_empty() && internet.is_subset(sources) {
        return wide("any Internet address".into());
    }
    for name in topology.service_tag_names() {
        let lower = name.to_ascii_lowercase();
        if lower != "azurecloud" && !lower.starts_with("azurecloud.") {
            continue;
        }
        let Some(members) = topology.service_tag_members(&name) else { continue };
        let public = members.intersect(internet);
        if !public.is_empty() && public.is_subset(sources) {
            return wide(format!("every address of {name}, which any Azure customer can send from"));
        }
    }
    let (v4, v6) = sizes(sources);
    if v4 > WIDE_IPV4_ADDRESSES || v6 > WIDE_IPV6_ADDRESSES {
        return wide(format!("{v4} IPv4 addresses, more than a /16 (nsgsim's threshold, a model choice)"));
    }
    let what = match (v4, v6) {
        (v4, 0) => format!("{v4} IPv4 address{}", if v4 == 1 { "" } else { "es" }),
        (0, _) => "specific IPv6 prefixes".to_string(),
        (v4, _) => format!("{v4} IPv4 addresses and specific IPv6 prefixes"),
    };
    WidthLabel { width: Width::Narrow, why: format!("only {what}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(prefixes: &[&str]) -> AddrSet {
        let nets: Vec<ipnet::IpNet> = prefixes.iter().map(|p| p.parse().expect("prefix")).collect();
        AddrSet::from_nets(&nets)
    }

    #[test]
    fn the_whole_internet_azurecloud_and_large_ranges_are_wide_specific_prefixes_narrow() {
        let mut t = Topology::new();
        t.define_service_tag("AzureCloud", set(&["20.0.0.0/11", "40.64.0.0/10"]));
        let internet = set(&["1.0.0.0/8", "20.0.0.0/8", "40.0.0.0/8", "203.0.113.0/24"]);
        let any = width_of(&internet, &internet, &t);
        assert_eq!((any.width, any.why.as_str()), (Width::Wide, "any Internet address"));
        let cloud = width_of(&set(&["20.0.0.0/11", "40.64.0.0/10"]), &internet, &t);
        assert_eq!(cloud.width, Width::Wide);
        assert!(cloud.why.contains("every address of AzureCloud"), "{}", cloud.why);
        let half = width_of(&set(&["1.0.0.0/9"]), &internet, &t);
        assert_eq!(half.width, Width::Wide);
        assert!(half.why.contains("more than a /16"), "{}", half.why);
        let slash16 = width_of(&set(&["1.2.0.0/16"]), &internet, &t);
        assert_eq!(slash16.width, Width::Narrow, "a /16 itself is not more than a /16");
        let admin = width_of(&set(&["203.0.113.0/24"]), &internet, &t);
        assert_eq!((admin.width, admin.why.as_str()), (Width::Narrow, "only 256 IPv4 addresses"));
        let one = width_of(&set(&["203.0.113.7/32"]), &internet, &t);
        assert_eq!(one.why, "only 1 IPv4 address");
        // Part of AzureCloud is not all of it.
        assert_eq!(width_of(&set(&["20.0.0.0/24"]), &internet, &t).width, Width::Narrow);
    }
}

//! Sets of IPv4 and IPv6 addresses, built from prefixes and kept as normalised ranges.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::range;

/// Why an address or prefix did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{}' is not an IP address or CIDR prefix: {reason}", crate::text::shown(text))]
pub struct ParseAddrError {
    /// The text that was given.
    pub text: String,
    /// What is wrong with it, and what would be valid.
    pub reason: String,
}

/// Parses an IP address (as a host prefix) or a CIDR prefix whose host bits are zero.
///
/// Azure rejects a prefix such as `10.0.0.5/24`; so do we, naming the network it probably meant.
pub fn parse_prefix(text: &str) -> Result<IpNet, ParseAddrError> {
    let trimmed = text.trim();
    let err = |reason: String| ParseAddrError { text: text.to_string(), reason };
    if let Ok(addr) = trimmed.parse::<IpAddr>() {
        return Ok(IpNet::from(addr));
    }
    let net: IpNet = trimmed.parse().map_err(|_| {
        err("expected an address like 10.0.0.4 or a prefix like 10.0.0.0/24 (IPv4 length 0-32, IPv6 0-128)".into())
    })?;
    if net.trunc() != net {
        return Err(err(format!(
            "host bits are set; the network is {}; valid: that network, or the address {} alone",
            net.trunc(),
            net.addr()
        )));
    }
    Ok(net)
}

/// The special-purpose range `addr` is in, when it is one that no public (Internet-routable)
/// address is taken from: private use (RFC 1918, fc00::/7), shared address space (RFC 6598),
/// loopback, link-local, "this network", multicast and reserved. Returns the range, its name and
/// whether it is for private use.
///
/// The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
/// not listed: examples and tests use them for public addresses.
pub fn non_public_range(addr: IpAddr) -> Option<NonPublicRange> {
    const fn r(range: &'static str, name: &'static str, private: bool) -> NonPublicRange {
        NonPublicRange { range, name, private }
    }
    const V4: &[NonPublicRange] = &[
        r("10.0.0.0/8", "RFC 1918", true),
        r("172.16.0.0/12", "RFC 1918", true),
        r("192.168.0.0/16", "RFC 1918", true),
        r("100.64.0.0/10", "shared address space, RFC 6598", false),
        r("127.0.0.0/8", "loopback", false),
        r("169.254.0.0/16", "link-local", false),
        r("0.0.0.0/8", "this network", false),
        r("224.0.0.0/4", "multicast", false),
        r("240.0.0.0/4", "reserved", false),
    ];
    const V6: &[NonPublicRange] = &[
        r("fc00::/7", "unique local", true),
        r("fe80::/10", "link-local", false),
        r("::1/128", "loopback", false),
        r("::/128", "unspecified", false),
        r("ff00::/8", "multicast", false),
    ];
    let table = if addr.is_ipv4() { V4 } else { V6 };
    table.iter().copied().find(|r| r.range.parse::<IpNet>().is_ok_and(|n| n.contains(&addr)))
}

/// A special-purpose range no public address is taken from (see [`non_public_range`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonPublicRange {
    /// The range, e.g. `10.0.0.0/8`.
    pub range: &'static str,
    /// Its name, e.g. `RFC 1918` or `loopback`.
    pub name: &'static str,
    /// Whether it is for private use (RFC 1918, IPv6 unique local), rather than another
    /// special purpose.
    pub private: bool,
}

/// A set of addresses of both families, each family a normalised list of ranges.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct AddrSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl AddrSet {
    /// The empty set.
    pub fn empty() -> AddrSet {
        AddrSet::default()
    }

    /// Every IPv4 and every IPv6 address (the meaning of `*`).
    pub fn any() -> AddrSet {
        AddrSet { v4: vec![(0, u32::MAX)], v6: vec![(0, u128::MAX)] }
    }

    /// The union of the given prefixes.
    pub fn from_nets<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> AddrSet {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for net in nets {
            match net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.broadcast()))),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()))),
            }
        }
        AddrSet { v4: range::normalize(v4), v6: range::normalize(v6) }
    }

    /// The set of one prefix.
    pub fn from_net(net: IpNet) -> AddrSet {
        AddrSet::from_nets([&net])
    }

    /// The set of one address.
    pub fn from_addr(addr: IpAddr) -> AddrSet {
        AddrSet::from_net(IpNet::from(addr))
    }

    /// The set of the given raw IPv4 and IPv6 ranges (normalised on the way in).
    pub fn from_ranges(v4: Vec<(u32, u32)>, v6: Vec<(u128, u128)>) -> AddrSet {
        AddrSet { v4: range::normalize(v4), v6: range::normalize(v6) }
    }

    /// Whether `addr` is in the set.
    #[inline]
    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => range::contains(&self.v4, u32::from(a)),
            IpAddr::V6(a) => range::contains(&self.v6, u128::from(a)),
        }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Whether the set holds every address of both families.
    pub fn is_any(&self) -> bool {
        self.v4 == [(0, u32::MAX)] && self.v6 == [(0, u128::MAX)]
    }

    /// The IPv4 ranges, ascending.
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        &self.v4
    }

    /// The IPv6 ranges, ascending.
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        &self.v6
    }

    /// Set union.
    pub fn union(&self, other: &AddrSet) -> AddrSet {
        AddrSet { v4: range::union(&self.v4, &other.v4), v6: range::union(&self.v6, &other.v6) }
    }

    /// Set intersection.
    pub fn intersect(&self, other: &AddrSet) -> AddrSet {
        AddrSet { v4: range::intersect(&self.v4, &other.v4), v6: range::intersect(&self.v6, &other.v6) }
    }

    /// Whether the two sets share an address (without building their intersection).
    pub fn overlaps(&self, other: &AddrSet) -> bool {
        range::overlaps(&self.v4, &other.v4) || range::overlaps(&self.v6, &other.v6)
    }

    /// Set difference `self \ other`.
    pub fn subtract(&self, other: &AddrSet) -> AddrSet {
        AddrSet { v4: range::subtract(&self.v4, &other.v4), v6: range::subtract(&self.v6, &other.v6) }
    }

    /// Whether every address of `self` is in `other`.
    pub fn is_subset(&self, other: &AddrSet) -> bool {
        self.subtract(other).is_empty()
    }

    /// The set as a minimal list of CIDR prefixes (IPv4 first), as Azure's effective rules show it.
    pub fn to_prefixes(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for &(lo, hi) in &self.v4 {
            out.extend(range_to_prefixes_v4(lo, hi).into_iter().map(IpNet::V4));
        }
        for &(lo, hi) in &self.v6 {
            out.extend(range_to_prefixes_v6(lo, hi).into_iter().map(IpNet::V6));
        }
        out
    }
}

/// Splits `set` at the given cut points (each cut starts a new piece): the pieces are the
/// non-empty intersections of `set` with the intervals between consecutive cuts. Used to find
/// one representative address per class of addresses that rules treat alike.
pub fn split_at(set: &AddrSet, v4_cuts: &mut Vec<u32>, v6_cuts: &mut Vec<u128>) -> Vec<AddrSet> {
    v4_cuts.sort_unstable();
    v4_cuts.dedup();
    v6_cuts.sort_unstable();
    v6_cuts.dedup();
    let mut out = Vec::new();
    for &(lo, hi) in &set.v4 {
        let mut start = lo;
        for &cut in v4_cuts.iter().filter(|&&c| c > lo && c <= hi) {
            out.push(AddrSet { v4: vec![(start, cut - 1)], v6: Vec::new() });
            start = cut;
        }
        out.push(AddrSet { v4: vec![(start, hi)], v6: Vec::new() });
    }
    for &(lo, hi) in &set.v6 {
        let mut start = lo;
        for &cut in v6_cuts.iter().filter(|&&c| c > lo && c <= hi) {
            out.push(AddrSet { v4: Vec::new(), v6: vec![(start, cut - 1)] });
            start = cut;
        }
        out.push(AddrSet { v4: Vec::new(), v6: vec![(start, hi)] });
    }
    out
}

impl AddrSet {
    /// A short description of `self` as a part of `whole` (named `name`): `all of NAME`,
    /// `NAME except A,B`, or the prefix list, cut after `limit` prefixes.
    pub fn describe_within(&self, whole: &AddrSet, name: &str, limit: usize) -> String {
        if self == whole {
            return format!("all of {name}");
        }
        let list = |set: &AddrSet| {
            let prefixes = set.to_prefixes();
            let shown: Vec<String> = prefixes.iter().take(limit).map(|p| p.to_string()).collect();
            let more = prefixes.len().saturating_sub(limit);
            if more > 0 { format!("{} (+{more} more)", shown.join(",")) } else { shown.join(",") }
        };
        let missing = whole.subtract(self);
        if self.is_subset(whole) && missing.to_prefixes().len() < self.to_prefixes().len() {
            return format!("{name} except {}", list(&missing));
        }
        list(self)
    }

    /// The lowest address of the set (IPv4 first), if any.
    pub fn first(&self) -> Option<IpAddr> {
        if let Some(&(lo, _)) = self.v4.first() {
            return Some(IpAddr::V4(Ipv4Addr::from(lo)));
        }
        self.v6.first().map(|&(lo, _)| IpAddr::V6(Ipv6Addr::from(lo)))
    }
}

/// The minimal list of IPv4 prefixes covering exactly `lo..=hi`.
pub fn range_to_prefixes_v4(lo: u32, hi: u32) -> Vec<Ipv4Net> {
    range_to_prefixes(lo as u128, hi as u128, 32)
        .into_iter()
        .filter_map(|(start, len)| Ipv4Net::new(Ipv4Addr::from(start as u32), len).ok())
        .collect()
}

/// The minimal list of IPv6 prefixes covering exactly `lo..=hi`.
pub fn range_to_prefixes_v6(lo: u128, hi: u128) -> Vec<Ipv6Net> {
    range_to_prefixes(lo, hi, 128)
        .into_iter()
        .filter_map(|(start, len)| Ipv6Net::new(Ipv6Addr::from(start), len).ok())
        .collect()
}

/// Splits `lo..=hi` within a `bits`-wide space into aligned blocks `(start, prefix_len)`.
fn range_to_prefixes(lo: u128, hi: u128, bits: u32) -> Vec<(u128, u8)> {
    let mut out = Vec::new();
    let mut start = lo;
    loop {
        // The block is as large as both the alignment of `start` and the room left up to `hi` allow.
        let align = if start == 0 { bits } else { start.trailing_zeros().min(bits) };
        let remaining = hi - start;
        let room = if remaining == u128::MAX { 128 } else { 127 - (remaining + 1).leading_zeros() };
        let size_log = align.min(room);
        out.push((start, (bits - size_log) as u8));
        let last = if size_log == 128 { u128::MAX } else { start + ((1u128 << size_log) - 1) };
        if last >= hi {
            break;
        }
        start = last + 1;
    }
    out
}

impl fmt::Debug for AddrSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for AddrSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            return f.write_str("*");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self.to_prefixes().iter().map(|p| p.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_ranges() {
        let range = |a: &str| non_public_range(a.parse().expect("an address")).map(|r| r.range);
        assert_eq!(range("10.0.1.4"), Some("10.0.0.0/8"));
        assert_eq!(range("172.31.255.255"), Some("172.16.0.0/12"));
        assert_eq!(range("172.32.0.1"), None);
        assert_eq!(range("192.168.0.1"), Some("192.168.0.0/16"));
        assert_eq!(range("100.64.0.1"), Some("100.64.0.0/10"));
        assert_eq!(range("127.0.0.1"), Some("127.0.0.0/8"));
        assert_eq!(range("224.0.0.1"), Some("224.0.0.0/4"));
        assert_eq!(range("255.255.255.255"), Some("240.0.0.0/4"));
        assert_eq!(range("fd00::1"), Some("fc00::/7"));
        let private = |a: &str| non_public_range(a.parse().expect("an address")).map(|r| r.private);
        assert_eq!(private("192.168.0.1"), Some(true));
        assert_eq!(private("fd00::1"), Some(true));
        assert_eq!(private("100.64.0.1"), Some(false), "shared address space is not private use");
        assert_eq!(private("fe80::1"), Some(false));
        assert_eq!(range("::1"), Some("::1/128"));
        for public in ["20.10.0.4", "52.1.1.10", "192.0.2.10", "203.0.113.10", "2001:db8::1", "2603:1000::1"]
        {
            assert_eq!(range(public), None, "{public}");
        }
    }

    fn net(s: &str) -> IpNet {
        parse_prefix(s).expect("valid literal")
    }

    #[test]
    fn parses_addresses_and_prefixes() {
        assert_eq!(net("10.0.0.4").to_string(), "10.0.0.4/32");
        assert_eq!(net("10.0.0.0/24").to_string(), "10.0.0.0/24");
        assert_eq!(net("2001:db8::/32").to_string(), "2001:db8::/32");
        let err = parse_prefix("10.0.0.5/24").expect_err("host bits set");
        assert!(err.to_string().contains("10.0.0.0/24"), "{err}");
        assert!(parse_prefix("10.0.0.0/33").is_err());
        assert!(parse_prefix("10.0.0").is_err());
    }

    #[test]
    fn contains_and_algebra() {
        let set = AddrSet::from_nets(&[net("10.0.0.0/24"), net("10.0.1.0/24")]);
        assert_eq!(set.to_string(), "10.0.0.0/23");
        assert!(set.contains("10.0.1.255".parse().expect("ip")));
        assert!(!set.contains("10.0.2.0".parse().expect("ip")));
        let minus = set.subtract(&AddrSet::from_net(net("10.0.0.128/25")));
        assert_eq!(minus.to_string(), "10.0.0.0/25,10.0.1.0/24");
        assert!(AddrSet::any().contains("::1".parse().expect("ip")));
    }

    #[test]
    fn split_at_cuts_inside_ranges_only() {
        let set = AddrSet::from_nets(&[net("10.0.0.0/24")]);
        let (mut v4, mut v6) = (vec![u32::from(std::net::Ipv4Addr::new(10, 0, 0, 128)), 5], Vec::new());
        let pieces = split_at(&set, &mut v4, &mut v6);
        let shown: Vec<String> = pieces.iter().map(|p| p.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/25", "10.0.0.128/25"]);
        assert_eq!(pieces[1].first(), Some("10.0.0.128".parse().expect("ip")));
    }

    #[test]
    fn range_to_prefix_edges() {
        assert_eq!(range_to_prefixes_v4(0, u32::MAX).len(), 1);
        assert_eq!(range_to_prefixes_v4(0, u32::MAX)[0].to_string(), "0.0.0.0/0");
        assert_eq!(range_to_prefixes_v6(0, u128::MAX)[0].to_string(), "::/0");
        let parts: Vec<String> = range_to_prefixes_v4(1, 6).iter().map(|p| p.to_string()).collect();
        assert_eq!(parts, ["0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/31", "0.0.0.6/32"]);
        assert_eq!(range_to_prefixes_v4(u32::MAX, u32::MAX)[0].to_string(), "255.255.255.255/32");
    }
}

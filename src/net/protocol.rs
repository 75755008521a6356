//! IP protocol numbers and sets of them.

use std::fmt;

/// An IP protocol number (the IPv4 `protocol` / IPv6 `next header` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// ICMP for IPv4.
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// TCP.
    pub const TCP: IpProtocol = IpProtocol(6);
    /// UDP.
    pub const UDP: IpProtocol = IpProtocol(17);
    /// IPsec Encapsulating Security Payload.
    pub const ESP: IpProtocol = IpProtocol(50);
    /// IPsec Authentication Header.
    pub const AH: IpProtocol = IpProtocol(51);
    /// ICMP for IPv6.
    pub const ICMPV6: IpProtocol = IpProtocol(58);

    /// Whether packets of this protocol carry source and destination ports.
    ///
    /// Only TCP and UDP do, as far as NSG rules are concerned: for every other protocol the port
    /// fields of a packet are meaningless and the simulator carries them as 0.
    pub fn has_ports(self) -> bool {
        self == Self::TCP || self == Self::UDP
    }

    /// Parses `tcp`, `udp`, `icmp`, `esp`, `ah`, `icmpv6` (any case) or a decimal number.
    pub fn parse(text: &str) -> Option<IpProtocol> {
        let lower = text.to_ascii_lowercase();
        Some(match lower.as_str() {
            "tcp" => Self::TCP,
            "udp" => Self::UDP,
            "icmp" => Self::ICMP,
            "esp" => Self::ESP,
            "ah" => Self::AH,
            "icmpv6" => Self::ICMPV6,
            _ => IpProtocol(lower.parse().ok()?),
        })
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TCP => f.write_str("Tcp"),
            Self::UDP => f.write_str("Udp"),
            Self::ICMP => f.write_str("Icmp"),
            Self::ESP => f.write_str("Esp"),
            Self::AH => f.write_str("Ah"),
            Self::ICMPV6 => f.write_str("IcmpV6"),
            IpProtocol(n) => write!(f, "proto-{n}"),
        }
    }
}

/// A set of IP protocol numbers, as a 256-bit bitmap.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ProtocolSet([u64; 4]);

impl ProtocolSet {
    /// The empty set.
    pub const EMPTY: ProtocolSet = ProtocolSet([0; 4]);
    /// Every protocol number 0..=255.
    pub const ALL: ProtocolSet = ProtocolSet([u64::MAX; 4]);

    /// The set holding exactly `protocol`.
    pub fn single(protocol: IpProtocol) -> ProtocolSet {
        let mut set = ProtocolSet::EMPTY;
        set.insert(protocol);
        set
    }

    /// The set of the given protocols.
    pub fn of(protocols: &[IpProtocol]) -> ProtocolSet {
        let mut set = ProtocolSet::EMPTY;
        for &p in protocols {
            set.insert(p);
        }
        set
    }

    /// Adds `protocol`.
    pub fn insert(&mut self, protocol: IpProtocol) {
        let n = protocol.0 as usize;
        self.0[n / 64] |= 1 << (n % 64);
    }

    /// Whether `protocol` is in the set.
    #[inline]
    pub fn contains(&self, protocol: IpProtocol) -> bool {
        let n = protocol.0 as usize;
        self.0[n / 64] & (1 << (n % 64)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    /// Whether the set holds every protocol.
    pub fn is_all(&self) -> bool {
        self.0 == [u64::MAX; 4]
    }

    /// Whether the two sets share a protocol.
    pub fn overlaps(&self, other: &ProtocolSet) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }

    /// Set intersection.
    pub fn intersect(&self, other: &ProtocolSet) -> ProtocolSet {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0) {
            *a &= b;
        }
        out
    }

    /// Set union.
    pub fn union(&self, other: &ProtocolSet) -> ProtocolSet {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        out
    }

    /// Set difference `self \ other`.
    pub fn subtract(&self, other: &ProtocolSet) -> ProtocolSet {
        let mut out = *self;
        for (a, b) in out.0.iter_mut().zip(other.0) {
            *a &= !b;
        }
        out
    }

    /// The protocols in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = IpProtocol> + '_ {
        (0..=255u8).map(IpProtocol).filter(|p| self.contains(*p))
    }
}

impl fmt::Debug for ProtocolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ProtocolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("Any");
        }
        let names: Vec<String> = self.iter().map(|p| p.to_string()).collect();
        if names.is_empty() { f.write_str("none") } else { f.write_str(&names.join(",")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!(IpProtocol::parse("TCP"), Some(IpProtocol::TCP));
        assert_eq!(IpProtocol::parse("icmp"), Some(IpProtocol::ICMP));
        assert_eq!(IpProtocol::parse("47"), Some(IpProtocol(47)));
        assert_eq!(IpProtocol::parse("tcpp"), None);
        assert_eq!(IpProtocol::parse("256"), None);
    }

    #[test]
    fn set_algebra() {
        let tcp_udp = ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP]);
        assert!(tcp_udp.contains(IpProtocol::TCP));
        assert!(!tcp_udp.contains(IpProtocol::ICMP));
        assert!(tcp_udp.intersect(&ProtocolSet::single(IpProtocol::ICMP)).is_empty());
        assert!(ProtocolSet::ALL.subtract(&tcp_udp).contains(IpProtocol(255)));
        assert!(!ProtocolSet::ALL.subtract(&tcp_udp).contains(IpProtocol::UDP));
        assert_eq!(tcp_udp.to_string(), "Tcp,Udp");
        assert_eq!(ProtocolSet::ALL.to_string(), "Any");
    }
}

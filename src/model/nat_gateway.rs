//! Azure NAT Gateway and public IP prefixes: the outbound-only translation a subnet gets from the
//! NAT gateway attached to it, and the contiguous ranges of public addresses a NAT gateway (or a
//! public IP drawn from one) takes its addresses from.
//!
//! Microsoft ("Azure NAT Gateway resource"): "When configured on a subnet, the private IPs within
//! your subnets SNAT to a NAT gateway's static public IP addresses to connect outbound to the
//! internet"; "NAT Gateway doesn't provide unsolicited inbound connections from the internet".
//! The checks Azure makes (SKU, IPv4 only, at most 16 addresses, one VNet, no gateway subnet) are
//! in `topology/nat_gateways.rs`; which way out wins is `path::outbound`. Quotes in
//! docs/fidelity.md ("NAT gateway").

use std::fmt;

use ipnet::IpNet;

use crate::ids::PublicIpId;

/// Typed ids live in [`crate::ids`]; re-exported here where they have always been named.
pub use crate::ids::{NatGatewayId, PublicIpPrefixId};

/// Most public addresses one NAT gateway can use, its public IPs and prefixes together ("A NAT
/// gateway can use public IP addresses or prefixes in any combination up to a total of 16 IP
/// addresses").
pub const MAX_NAT_GATEWAY_ADDRESSES: u64 = 16;

/// SNAT ports each public address of a NAT gateway provides ("Each NAT gateway public IP address
/// provides 64,512 SNAT ports to make outbound connections").
pub const NAT_SNAT_PORTS_PER_ADDRESS: u64 = 64_512;

/// The TCP idle timeout range a NAT gateway accepts, in minutes ("A NAT gateway provides a
/// configurable idle timeout range of 4 minutes to 120 minutes for TCP protocols").
pub const NAT_IDLE_TIMEOUT_MINUTES: std::ops::RangeInclusive<u16> = 4..=120;

/// NAT gateway SKU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatSku {
    /// `Standard`, the SKU Azure's `natGateways` resource has always had.
    Standard,
    /// `StandardV2`, the newer zone-redundant SKU.
    StandardV2,
}

impl fmt::Display for NatSku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NatSku::Standard => "Standard",
            NatSku::StandardV2 => "StandardV2",
        })
    }
}

/// A public IP prefix: a contiguous range of public addresses (`Microsoft.Network/publicIPPrefixes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicIpPrefix {
    /// Name, unique in the topology.
    pub name: String,
    /// The range.
    pub prefix: IpNet,
}

impl PublicIpPrefix {
    /// How many addresses the prefix holds (saturating for IPv6).
    pub fn size(&self) -> u64 {
        let bits = match self.prefix {
            IpNet::V4(_) => 32,
            IpNet::V6(_) => 128,
        } - u32::from(self.prefix.prefix_len());
        if bits >= 64 { u64::MAX } else { 1u64 << bits }
    }
}

/// A NAT gateway (`Microsoft.Network/natGateways`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatGateway {
    /// Name, unique in the topology.
    pub name: String,
    /// SKU.
    pub sku: NatSku,
    /// Its public IPs (Standard SKU, IPv4).
    pub public_ips: Vec<PublicIpId>,
    /// Its public IP prefixes: every address of each is the gateway's ("If you assign a public
    /// IP prefix, the entire public IP prefix is used").
    pub public_ip_prefixes: Vec<PublicIpPrefixId>,
    /// TCP idle timeout in minutes (4 to 120; Azure's default 4).
    pub idle_timeout_minutes: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_counts_its_addresses() {
        let p = |s: &str| PublicIpPrefix { name: "p".into(), prefix: s.parse().expect("prefix") };
        assert_eq!(p("20.0.0.0/28").size(), 16);
        assert_eq!(p("20.0.0.0/31").size(), 2);
        assert_eq!(p("20.0.0.1/32").size(), 1);
        assert_eq!(p("2001:db8::/124").size(), 16);
        assert_eq!(p("2001:db8::/48").size(), u64::MAX);
    }
}

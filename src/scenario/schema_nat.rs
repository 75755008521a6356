//! The scenario format's NAT gateways and public IP prefixes (serde types only; `load_nat.rs`
//! gives them meaning):
//!
//! ```ron
//! public_ip_prefixes: [PublicIpPrefix(name: "egress", prefix: "20.50.0.0/30")],
//! public_ips: [PublicIp(name: "nat-pip", address: "20.40.0.10")],
//! nat_gateways: [NatGateway(name: "nat-web", public_ips: ["nat-pip"],
//!                           public_ip_prefixes: ["egress"], idle_timeout_minutes: 4)],
//! // and on the subnet: Subnet(name: "web", prefix: "10.0.1.0/24", nat_gateway: "nat-web")
//! ```

use serde::Deserialize;

/// A public IP prefix: a contiguous range of public addresses.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "PublicIpPrefix")]
pub struct PublicIpPrefixSpec {
    /// Name.
    pub name: String,
    /// The range (CIDR), e.g. `20.50.0.0/30`.
    pub prefix: String,
}

/// An Azure NAT gateway.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "NatGateway")]
pub struct NatGatewaySpec {
    /// Name.
    pub name: String,
    /// Its public IPs (names of `public_ips` entries; Standard SKU, IPv4).
    #[serde(default)]
    pub public_ips: Vec<String>,
    /// Its public IP prefixes (names of `public_ip_prefixes` entries), each used whole.
    #[serde(default)]
    pub public_ip_prefixes: Vec<String>,
    /// TCP idle timeout in minutes, 4 to 120 (default 4).
    #[serde(default)]
    pub idle_timeout_minutes: Option<i64>,
    /// `Standard` (default) or `StandardV2`.
    #[serde(default)]
    pub sku: Option<NatSkuSpec>,
}

/// NAT gateway SKU.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "NatSku")]
pub enum NatSkuSpec {
    /// Standard.
    Standard,
    /// StandardV2.
    StandardV2,
}

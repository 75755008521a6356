//! Route tables, Azure Firewall and Azure Bastion: the resources that steer or relay traffic.
//!
//! Their rules are plain data here; how traffic goes through them is `path`'s job.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::ids::{PublicIpId, SubnetId, VnetId};
use crate::net::{AddrSet, PortSet, ProtocolSet};

/// Typed ids live in [`crate::ids`]; re-exported here where they have always been named.
pub use crate::ids::{BastionId, FirewallId, RouteTableId};

/// Where a user-defined route sends traffic (Azure's `nextHopType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// A network virtual appliance at this private address (e.g. an Azure Firewall).
    VirtualAppliance(IpAddr),
    /// Out to the Internet.
    Internet,
    /// Within the VNet's own address space.
    VnetLocal,
    /// The VNet's VPN/ExpressRoute gateway.
    VirtualNetworkGateway,
    /// Dropped.
    None,
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextHop::VirtualAppliance(ip) => write!(f, "VirtualAppliance {ip}"),
            NextHop::Internet => f.write_str("Internet"),
            NextHop::VnetLocal => f.write_str("VnetLocal"),
            NextHop::VirtualNetworkGateway => f.write_str("VirtualNetworkGateway"),
            NextHop::None => f.write_str("None"),
        }
    }
}

/// One user-defined route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Name.
    pub name: String,
    /// Destination prefix.
    pub prefix: IpNet,
    /// Next hop.
    pub next_hop: NextHop,
}

/// A route table, associated with subnets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTable {
    /// Name.
    pub name: String,
    /// Its routes.
    pub routes: Vec<Route>,
}

impl RouteTable {
    /// Its IPv4 default route (`0.0.0.0/0`), if it has one: the route that forced tunnelling, the
    /// firewall subnet's requirement and the licensing platform rule all turn on.
    pub fn default_route(&self) -> Option<&Route> {
        self.routes.iter().find(|r| r.prefix.prefix_len() == 0 && r.prefix.addr().is_ipv4())
    }
}

/// Whether the firewall uses classic rules or a Firewall Policy (Firewall Manager).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirewallMode {
    /// Rules (classic): JIT can manage it.
    Classic,
    /// Firewall Policy / Firewall Manager: JIT cannot manage it.
    Policy,
}

/// Allow or deny, for network and application rule collections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirewallAction {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// A DNAT rule: traffic to the firewall's public IP and port is translated to a private target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnatRule {
    /// Name.
    pub name: String,
    /// Protocols.
    pub protocols: ProtocolSet,
    /// Sources it applies to.
    pub sources: AddrSet,
    /// The public destination address (the firewall's public IP).
    pub destination: IpAddr,
    /// The public destination port.
    pub destination_port: u16,
    /// The private address it translates to.
    pub translated_address: IpAddr,
    /// The port it translates to.
    pub translated_port: u16,
    /// Whether JIT wrote it for a grant (JIT behind a classic firewall): the trace then says
    /// the VM's NSGs see the firewall's address. A rule of the scenario is never JIT's.
    pub written_by_jit: bool,
}

/// A network rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkRule {
    /// Name.
    pub name: String,
    /// Protocols.
    pub protocols: ProtocolSet,
    /// Sources.
    pub sources: AddrSet,
    /// Destinations.
    pub destinations: AddrSet,
    /// Destination ports.
    pub destination_ports: PortSet,
}

/// An application rule (HTTP/HTTPS/MSSQL to target FQDNs). Flows carry addresses, so each FQDN
/// is matched through the addresses the scenario gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationRule {
    /// Name.
    pub name: String,
    /// Sources.
    pub sources: AddrSet,
    /// Target FQDNs, as written.
    pub fqdns: Vec<String>,
    /// The addresses those FQDNs resolve to.
    pub destinations: AddrSet,
    /// Ports (`Http:80` = 80, `Https:443` = 443, `Mssql:1433` = 1433).
    pub ports: PortSet,
}

/// The rules of one collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CollectionRules {
    /// DNAT rules.
    Dnat(Vec<DnatRule>),
    /// Network rules with the collection's action.
    Network(FirewallAction, Vec<NetworkRule>),
    /// Application rules with the collection's action.
    Application(FirewallAction, Vec<ApplicationRule>),
}

/// A rule collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCollection {
    /// Name.
    pub name: String,
    /// 100–65000, lower first.
    pub priority: u32,
    /// Its rules.
    pub rules: CollectionRules,
}

/// A rule collection group (Firewall Policy; classic rules sit in one implicit group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCollectionGroup {
    /// Name.
    pub name: String,
    /// 100–65000, lower first.
    pub priority: u32,
    /// Its collections.
    pub collections: Vec<RuleCollection>,
}

/// An Azure Firewall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firewall {
    /// Name.
    pub name: String,
    /// Its subnet (`AzureFirewallSubnet`).
    pub subnet: SubnetId,
    /// Its private address (the next hop of UDRs).
    pub private_ip: IpAddr,
    /// Its public IP, for DNAT and SNAT to the Internet.
    pub public_ip: Option<PublicIpId>,
    /// Classic rules or Firewall Policy.
    pub mode: FirewallMode,
    /// Rule collection groups.
    pub groups: Vec<RuleCollectionGroup>,
    /// Older documented DNAT behaviour: translated traffic gets an implicit network allow that
    /// explicit network deny rules override (scenario option `firewall_dnat_legacy_network_rules`).
    pub legacy_dnat: bool,
    /// The destinations network-rule traffic is not SNAT-ed to (`privateRanges`).
    pub private_ranges: SnatPrivateRanges,
}

/// The name Azure Firewall gives its default private ranges, RFC 1918 and RFC 6598.
pub const IANA_PRIVATE_RANGES: &str = "IANAPrivateRanges";

/// The prefixes `IANAPrivateRanges` stands for (Microsoft, "Azure Firewall SNAT private IP
/// address ranges": "a private IP address range per IANA RFC 1918 or shared address space per
/// IANA RFC 6598").
const IANA_PREFIXES: [&str; 4] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

fn iana_nets() -> Vec<IpNet> {
    IANA_PREFIXES.iter().filter_map(|p| p.parse::<IpNet>().ok()).collect()
}

/// An Azure Firewall's SNAT private IP address ranges: network-rule traffic to an address inside
/// them keeps its source; to any other address it is SNAT-ed (to the firewall's private address,
/// or its public IP when it leaves for the Internet). `0.0.0.0/0` means never SNAT,
/// `255.255.255.255/32` (alone) means always: both fall out of the same test. Application rules
/// always SNAT whatever these are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnatPrivateRanges {
    /// The entries as written (`IANAPrivateRanges`, `198.51.100.0/24`), for traces.
    written: Vec<String>,
    /// Their addresses, `IANAPrivateRanges` expanded.
    addresses: AddrSet,
    /// Firewall Policy's `autoLearnPrivateRanges`: Azure learns more ranges from an Azure Route
    /// Server every hour, which no offline model can do; nsgsim uses the written ranges and says so.
    pub auto_learn: bool,
}

impl Default for SnatPrivateRanges {
    /// `IANAPrivateRanges`, Azure's default.
    fn default() -> SnatPrivateRanges {
        SnatPrivateRanges {
            written: vec![IANA_PRIVATE_RANGES.to_string()],
            addresses: AddrSet::from_nets(&iana_nets()),
            auto_learn: false,
        }
    }
}

impl SnatPrivateRanges {
    /// Reads the entries of a `privateRanges` list: `IANAPrivateRanges` (any case), an address or
    /// a CIDR prefix. An empty list is Azure's default. The error is the bad entry's index and
    /// what is wrong with it and what is valid.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<SnatPrivateRanges, (usize, String)> {
        if entries.is_empty() {
            return Ok(SnatPrivateRanges::default());
        }
        let mut written = Vec::new();
        let mut nets = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let entry = entry.as_ref().trim();
            if entry.eq_ignore_ascii_case(IANA_PRIVATE_RANGES) {
                nets.extend(iana_nets());
                written.push(IANA_PRIVATE_RANGES.to_string());
                continue;
            }
            let net = crate::net::parse_prefix(entry).map_err(|e| {
                (index, format!("{} (a SNAT private range is {IANA_PRIVATE_RANGES}, an address such as 192.168.1.10, or a prefix such as 192.168.1.0/24)", e.reason))
            })?;
            nets.push(net);
            written.push(entry.to_string());
        }
        Ok(SnatPrivateRanges { written, addresses: AddrSet::from_nets(&nets), auto_learn: false })
    }

    /// Whether network-rule traffic to `destination` keeps its source (no SNAT).
    pub fn contains(&self, destination: IpAddr) -> bool {
        self.addresses.contains(destination)
    }

    /// The entries as written.
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// Whether these are Azure's default (`IANAPrivateRanges` alone, auto-learn off).
    pub fn is_default(&self) -> bool {
        !self.auto_learn && self.written.len() == 1 && self.written[0] == IANA_PRIVATE_RANGES
    }
}

impl fmt::Display for SnatPrivateRanges {
    /// `[IANAPrivateRanges, 198.51.100.0/24]`, and the auto-learn note when it is on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.written.join(", "))?;
        if self.auto_learn {
            f.write_str(" (autoLearnPrivateRanges is on: the ranges Azure learns from Azure Route Server are not known offline, model choice)")?;
        }
        Ok(())
    }
}

/// An Azure Bastion host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bastion {
    /// Name.
    pub name: String,
    /// Its VNet.
    pub vnet: VnetId,
    /// Its subnet (`AzureBastionSubnet`, /26 or larger).
    pub subnet: SubnetId,
    /// Its public IP (users connect to it on 443).
    pub public_ip: Option<PublicIpId>,
    /// The address its sessions to VMs come from (model choice: the subnet's first usable address).
    pub private_ip: IpAddr,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn iana_private_ranges_are_rfc_1918_and_rfc_6598_by_default() {
        let default = SnatPrivateRanges::default();
        assert!(default.is_default());
        for kept in
            ["10.2.1.4", "172.16.0.1", "172.31.255.255", "192.168.1.10", "100.64.0.1", "100.127.255.255"]
        {
            assert!(default.contains(ip(kept)), "{kept} is private per IANA");
        }
        for snat in ["198.51.100.4", "172.32.0.1", "100.128.0.1", "20.30.0.10", "11.0.0.1"] {
            assert!(!default.contains(ip(snat)), "{snat} is not");
        }
        assert_eq!(SnatPrivateRanges::new::<&str>(&[]), Ok(default.clone()), "an empty list is the default");
        assert_eq!(SnatPrivateRanges::new(&["ianaprivateranges"]), Ok(default), "any case");
    }

    #[test]
    fn never_and_always_snat_fall_out_of_the_ranges() {
        let never = SnatPrivateRanges::new(&["0.0.0.0/0"]).expect("valid");
        assert!(never.contains(ip("203.0.113.9")) && never.contains(ip("10.0.0.1")));
        let always = SnatPrivateRanges::new(&["255.255.255.255/32"]).expect("valid");
        assert!(!always.contains(ip("10.0.0.1")) && !always.contains(ip("192.168.1.1")));
        // Custom ranges replace the default unless IANAPrivateRanges is listed too.
        let custom = SnatPrivateRanges::new(&["198.51.100.0/24"]).expect("valid");
        assert!(custom.contains(ip("198.51.100.4")) && !custom.contains(ip("10.0.0.1")));
        let both = SnatPrivateRanges::new(&["IANAPrivateRanges", " 192.0.2.10 "]).expect("valid");
        assert!(
            both.contains(ip("192.0.2.10"))
                && both.contains(ip("10.0.0.1"))
                && !both.contains(ip("192.0.2.11"))
        );
        assert_eq!(both.to_string(), "[IANAPrivateRanges, 192.0.2.10]");
    }

    #[test]
    fn a_bad_entry_is_named_by_index_with_what_is_valid() {
        let (index, reason) =
            SnatPrivateRanges::new(&["IANAPrivateRanges", "10.0.0.5/8"]).expect_err("host bits");
        assert_eq!(index, 1);
        assert!(reason.contains("10.0.0.0/8") && reason.contains("IANAPrivateRanges"), "{reason}");
        let (index, reason) = SnatPrivateRanges::new(&["RFC1918"]).expect_err("not a range");
        assert_eq!(index, 0);
        assert!(reason.contains("192.168.1.0/24"), "{reason}");
    }
}

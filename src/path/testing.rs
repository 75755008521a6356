//! Small builders for the unit tests of `path`: literals, rules, and a VM with its NIC.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{
    CollectionRules, Firewall, FirewallAction, FirewallMode, NetworkRule, NicId, NsgId, Os, PublicIpId,
    PublicIpSku, RuleCollection, RuleCollectionGroup, SubnetId, Topology,
};
use crate::net::PortRange;
use crate::net::{AddrSet, IpProtocol, PortSet, ProtocolSet};

use super::{Destination, FlowRequest, PolicyCache, Source, Trace, evaluate};
use crate::nsg::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule, ServiceTag,
};

/// An address literal.
pub fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address literal")
}

/// A prefix literal.
pub fn net(text: &str) -> IpNet {
    crate::net::parse_prefix(text).expect("a prefix literal")
}

/// A prefix as a rule address.
pub fn prefix(text: &str) -> AddressSpec {
    AddressSpec::Prefixes(vec![net(text)])
}

/// A service tag as a rule address.
pub fn tag(name: &str) -> AddressSpec {
    AddressSpec::Tag(ServiceTag::parse(name).unwrap_or(ServiceTag::Other(name.into())))
}

/// A user rule on `ports` (`"22"`, `"22,3389"`, `"*"`).
pub fn rule(
    name: &str,
    priority: u16,
    direction: Direction,
    access: Access,
    protocol: RuleProtocol,
    (source, destination): (AddressSpec, AddressSpec),
    ports: &str,
) -> SecurityRule {
    let ranges = ports.split(',').map(|p| p.parse::<PortRange>().expect("a port literal")).collect();
    SecurityRule {
        name: name.into(),
        priority: Priority(priority),
        direction,
        access,
        protocol,
        source,
        source_ports: PortSpec::any(),
        destination,
        destination_ports: PortSpec(ranges),
        description: String::new(),
        kind: RuleKind::Security,
    }
}

/// Adds an NSG with `rules`.
pub fn nsg(t: &mut Topology, name: &str, rules: Vec<SecurityRule>) -> NsgId {
    t.add_nsg(Nsg { name: name.into(), rules }).expect("a valid NSG")
}

/// Adds a Linux VM with one NIC at `address` in `subnet`, and a Standard public IP if `public` is
/// given.
pub fn vm(t: &mut Topology, name: &str, subnet: SubnetId, address: &str, public: Option<&str>) -> NicId {
    let vm = t.add_vm(name, Os::Linux, false, ("sub", "rg")).expect("a new VM");
    let nic = t.add_nic(&format!("{name}-nic"), subnet, ip(address), Some(vm)).expect("a valid NIC");
    if let Some(address) = public {
        let pip = t
            .add_public_ip(&format!("{name}-pip"), ip(address), PublicIpSku::Standard)
            .expect("a new public IP");
        t.associate_public_ip(nic, pip).expect("a free public IP");
    }
    nic
}

/// A TCP flow from source port 50000 to `port`.
pub fn tcp(source: Source, destination: Destination, port: u16) -> FlowRequest {
    FlowRequest { source, destination, protocol: IpProtocol::TCP, src_port: 50000, dst_port: port, via: None }
}

/// Evaluates `req` with a fresh policy cache.
pub fn run(t: &Topology, req: FlowRequest) -> Trace {
    evaluate(t, &PolicyCache::new(t), &req)
}

/// A classic-rules Azure Firewall named `name` at `private_ip` whose one network rule
/// (`classic/net/all`) allows every TCP flow. `add_firewall` places it in its VNet's
/// `AzureFirewallSubnet`.
pub fn tcp_firewall(name: &str, private_ip: &str, public_ip: Option<PublicIpId>) -> Firewall {
    let allow_all = NetworkRule {
        name: "all".into(),
        protocols: ProtocolSet::single(IpProtocol::TCP),
        sources: AddrSet::any(),
        destinations: AddrSet::any(),
        destination_ports: PortSet::any(),
    };
    Firewall {
        name: name.into(),
        subnet: SubnetId(0),
        private_ip: ip(private_ip),
        public_ip,
        mode: FirewallMode::Classic,
        groups: vec![RuleCollectionGroup {
            name: "classic".into(),
            priority: 100,
            collections: vec![RuleCollection {
                name: "net".into(),
                priority: 100,
                rules: CollectionRules::Network(FirewallAction::Allow, vec![allow_all]),
            }],
        }],
        legacy_dnat: false,
        private_ranges: crate::model::SnatPrivateRanges::default(),
    }
}

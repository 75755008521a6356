//! Turning a rule's symbolic fields (service tags, ASGs, `*`, protocol names) into the concrete
//! sets the matcher works on.

use std::collections::HashMap;

use crate::ids::AsgId;
use crate::matcher::{MatchBox, MatchRule};
use crate::net::{AddrSet, IpProtocol, PortSet, ProtocolSet};

use super::{AddressSpec, PortSpec, RuleProtocol, SecurityRule, ServiceTag};

/// What symbolic addresses mean where an NSG is applied.
///
/// `VirtualNetwork` differs per VNet (its own spaces plus peered ones), so the same NSG attached
/// in two VNets is resolved, and compiled, once per VNet.
#[derive(Clone, Debug, Default)]
pub struct ResolveContext {
    /// Members of `VirtualNetwork` here.
    pub virtual_network: AddrSet,
    /// Members of `Internet` here.
    pub internet: AddrSet,
    /// Members of `AzureLoadBalancer`.
    pub load_balancer: AddrSet,
    /// Members of every other known tag, by name: shared with the topology (Microsoft's file
    /// has thousands of tags, which each context would otherwise copy).
    pub tags: std::sync::Arc<std::collections::BTreeMap<String, AddrSet>>,
    /// The private addresses of the NICs in each application security group.
    pub asg_members: HashMap<AsgId, AddrSet>,
    /// `VirtualNetwork` as the list of prefixes it is made of, unmerged, in the order Azure's
    /// effective rules list them (address spaces, peers, on-premises, UDRs, the host address).
    pub virtual_network_prefixes: Vec<ipnet::IpNet>,
}

impl ResolveContext {
    /// The members of `tag`; an unknown tag has none (validation rejects unknown tags earlier).
    pub fn tag(&self, tag: &ServiceTag) -> AddrSet {
        match tag {
            ServiceTag::VirtualNetwork => self.virtual_network.clone(),
            ServiceTag::Internet => self.internet.clone(),
            ServiceTag::AzureLoadBalancer => self.load_balancer.clone(),
            ServiceTag::Other(name) => self.tags.get(name).cloned().unwrap_or_default(),
        }
    }

    /// The concrete addresses of a source or destination field.
    pub fn addresses(&self, spec: &AddressSpec) -> AddrSet {
        match spec {
            AddressSpec::Any => AddrSet::any(),
            AddressSpec::Prefixes(nets) => AddrSet::from_nets(nets),
            AddressSpec::Tag(tag) => self.tag(tag),
            AddressSpec::Asgs(asgs) => asgs
                .iter()
                .filter_map(|id| self.asg_members.get(id))
                .fold(AddrSet::empty(), |acc, members| acc.union(members)),
        }
    }
}

/// The protocols a rule's protocol field covers.
///
/// Model choice (docs/fidelity.md): `*` covers every IP protocol, ESP and AH included (Microsoft
/// documents only that Any "encompasses TCP, UDP, and ICMP"); `Icmp` covers ICMPv4 and ICMPv6.
pub fn protocols(protocol: RuleProtocol) -> ProtocolSet {
    match protocol {
        RuleProtocol::Tcp => ProtocolSet::single(IpProtocol::TCP),
        RuleProtocol::Udp => ProtocolSet::single(IpProtocol::UDP),
        RuleProtocol::Icmp => ProtocolSet::of(&[IpProtocol::ICMP, IpProtocol::ICMPV6]),
        RuleProtocol::Esp => ProtocolSet::single(IpProtocol::ESP),
        RuleProtocol::Ah => ProtocolSet::single(IpProtocol::AH),
        RuleProtocol::Any => ProtocolSet::ALL,
    }
}

/// The set of ports a port field covers.
pub fn ports(spec: &PortSpec) -> PortSet {
    PortSet::from_ranges(spec.0.iter().copied())
}

/// Resolves a rule to the matcher's union-of-boxes form.
///
/// Ports only exist for TCP and UDP. A rule's port conditions therefore apply to TCP and UDP
/// traffic; traffic of a portless protocol (ICMP, ESP, AH, …) matches the rule only when both
/// port fields are `*` (model choice, docs/fidelity.md): a rule "Any, port 22" does not match a ping.
pub fn resolve_rule(rule: &SecurityRule, ctx: &ResolveContext) -> MatchRule {
    let src = ctx.addresses(&rule.source);
    let dst = ctx.addresses(&rule.destination);
    resolve_fields(rule.protocol, src, &rule.source_ports, dst, &rule.destination_ports)
}

/// Resolves a rule's fields, its addresses already concrete, to the matcher's form, with the
/// port semantics of [`resolve_rule`]. Rules that are not NSG rules but take the same fields
/// (Virtual Network Manager's security admin rules) resolve through it too.
pub fn resolve_fields(
    protocol: RuleProtocol,
    src: AddrSet,
    source_ports: &PortSpec,
    dst: AddrSet,
    destination_ports: &PortSpec,
) -> MatchRule {
    let all = protocols(protocol);
    let src_ports = ports(source_ports);
    let dst_ports = ports(destination_ports);
    if src_ports.is_any() && dst_ports.is_any() {
        return MatchRule::from_box(MatchBox { protocols: all, src, src_ports, dst, dst_ports });
    }
    let with_ports = ProtocolSet::of(&[IpProtocol::TCP, IpProtocol::UDP]);
    let port_protocols = all.intersect(&with_ports);
    let mut boxes = Vec::new();
    if !port_protocols.is_empty() {
        boxes.push(MatchBox { protocols: port_protocols, src, src_ports, dst, dst_ports });
    }
    MatchRule { boxes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Flow, PortRange};
    use crate::nsg::{Access, Direction, Priority, RuleKind};

    fn rule(protocol: RuleProtocol, dst_ports: PortSpec) -> SecurityRule {
        SecurityRule {
            name: "r".into(),
            priority: Priority(100),
            direction: Direction::Inbound,
            access: Access::Allow,
            protocol,
            source: AddressSpec::Any,
            source_ports: PortSpec::any(),
            destination: AddressSpec::Any,
            destination_ports: dst_ports,
            description: String::new(),
            kind: RuleKind::Security,
        }
    }

    fn flow(protocol: IpProtocol, port: u16) -> Flow {
        Flow::new(protocol, "1.1.1.1".parse().expect("ip"), 1000, "10.0.0.4".parse().expect("ip"), port)
    }

    #[test]
    fn port_conditions_apply_to_tcp_and_udp_only() {
        let ctx = ResolveContext::default();
        let any22 = resolve_rule(&rule(RuleProtocol::Any, PortSpec::single(22)), &ctx);
        assert!(any22.contains(&flow(IpProtocol::TCP, 22)));
        assert!(any22.contains(&flow(IpProtocol::UDP, 22)));
        assert!(!any22.contains(&flow(IpProtocol::TCP, 23)));
        assert!(!any22.contains(&flow(IpProtocol::ICMP, 0)));
        let any_any = resolve_rule(&rule(RuleProtocol::Any, PortSpec::any()), &ctx);
        assert!(any_any.contains(&flow(IpProtocol::ESP, 0)));
        let icmp = resolve_rule(&rule(RuleProtocol::Icmp, PortSpec::any()), &ctx);
        assert!(icmp.contains(&flow(IpProtocol::ICMP, 0)) && !icmp.contains(&flow(IpProtocol::TCP, 22)));
        let range = resolve_rule(
            &rule(RuleProtocol::Tcp, PortSpec(vec![PortRange::single(80), PortRange::single(443)])),
            &ctx,
        );
        assert!(range.contains(&flow(IpProtocol::TCP, 443)) && !range.contains(&flow(IpProtocol::TCP, 442)));
    }

    #[test]
    fn asg_resolves_to_member_addresses() {
        let mut ctx = ResolveContext::default();
        ctx.asg_members.insert(AsgId(0), AddrSet::from_addr("10.0.0.4".parse().expect("ip")));
        let mut r = rule(RuleProtocol::Tcp, PortSpec::any());
        r.destination = AddressSpec::Asgs(vec![AsgId(0)]);
        let m = resolve_rule(&r, &ctx);
        assert!(m.contains(&flow(IpProtocol::TCP, 80)));
        let other = Flow::new(
            IpProtocol::TCP,
            "1.1.1.1".parse().expect("ip"),
            1,
            "10.0.0.5".parse().expect("ip"),
            80,
        );
        assert!(!m.contains(&other));
    }
}

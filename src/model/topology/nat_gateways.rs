//! NAT gateways and public IP prefixes in the topology: the checks Azure makes when a prefix, a
//! NAT gateway or a subnet's association is created, and the lookups a flow's walk needs (a
//! gateway's addresses).
//!
//! Every refusal quotes Microsoft's "Azure NAT Gateway resource" page (docs/fidelity.md, "NAT
//! gateway").

use std::net::IpAddr;

use ipnet::IpNet;

use super::{
    NatGatewayConflict, NatGatewayProblem as P, PublicIpSku, Resource, Topology, TopologyError, overlaps,
};
use crate::ids::{PublicIpId, SubnetId};
use crate::model::load_balancer::LbSku;
use crate::model::nat_gateway::{
    MAX_NAT_GATEWAY_ADDRESSES, NAT_IDLE_TIMEOUT_MINUTES, NatGateway, NatGatewayId, PublicIpPrefix,
    PublicIpPrefixId,
};

/// The reserved name of the subnet that holds a VPN or ExpressRoute gateway.
pub const GATEWAY_SUBNET: &str = "GatewaySubnet";

impl Topology {
    /// Adds a public IP prefix.
    ///
    /// # Errors
    /// A duplicate name, or a range that overlaps another prefix's.
    pub fn add_public_ip_prefix(
        &mut self,
        name: &str,
        prefix: IpNet,
    ) -> Result<PublicIpPrefixId, TopologyError> {
        if self.public_ip_prefixes.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
            return Err(TopologyError::DuplicateName { kind: "public IP prefix", name: name.into() });
        }
        let prefix = prefix.trunc();
        if let Some(other) = self.public_ip_prefixes.iter().find(|p| overlaps(&p.prefix, &prefix)) {
            return Err(TopologyError::requirement(
                Resource::PublicIpPrefix(name.into()),
                P::PrefixOverlap { prefix, other: other.name.clone(), other_prefix: other.prefix },
            ));
        }
        self.public_ip_prefixes.push(PublicIpPrefix { name: name.into(), prefix });
        Ok(PublicIpPrefixId(self.public_ip_prefixes.len() as u32 - 1))
    }

    /// Records that public IP `public_ip` was allocated from `prefix`.
    ///
    /// # Errors
    /// The address is outside the prefix, or the prefix is a NAT gateway's ("If you assign a
    /// public IP prefix, the entire public IP prefix is used. You can't assign a public IP prefix
    /// and then break out individual IP addresses to assign to other resources").
    pub fn set_public_ip_prefix(
        &mut self,
        public_ip: PublicIpId,
        prefix: PublicIpPrefixId,
    ) -> Result<(), TopologyError> {
        let p = &self.public_ip_prefixes[prefix.0 as usize];
        let pip = &self.public_ips[public_ip.index()];
        let resource = || Resource::PublicIp(pip.name.clone());
        if !p.prefix.contains(&pip.address) {
            return Err(TopologyError::requirement(
                resource(),
                P::AddressOutsidePrefix { address: pip.address, prefix: p.name.clone(), range: p.prefix },
            ));
        }
        if let Some(g) = self.nat_gateways.iter().find(|g| g.public_ip_prefixes.contains(&prefix)) {
            return Err(TopologyError::requirement(
                resource(),
                P::PrefixUsedWhole { prefix: p.name.clone(), gateway: g.name.clone() },
            ));
        }
        self.public_ips[public_ip.index()].prefix = Some(prefix);
        Ok(())
    }

    /// Adds a NAT gateway (not yet attached to any subnet).
    ///
    /// # Errors
    /// What Azure refuses: a duplicate name; an idle timeout outside 4 to 120 minutes; a public
    /// IP of Basic SKU ("A NAT gateway can't be used with basic SKU public IP addresses"), of
    /// IPv6, or associated with another resource; an IPv6 prefix ("A NAT gateway can't be used
    /// with IPv6 public IP addresses or prefixes"); a prefix another resource draws public IPs
    /// from; more than 16 addresses in all ("up to a total of 16 IP addresses").
    pub fn add_nat_gateway(&mut self, gw: NatGateway) -> Result<NatGatewayId, TopologyError> {
        if self.nat_gateways.iter().any(|g| g.name.eq_ignore_ascii_case(&gw.name)) {
            return Err(TopologyError::DuplicateName { kind: "NAT gateway", name: gw.name });
        }
        let requirement =
            |problem: P| TopologyError::requirement(Resource::NatGateway(gw.name.clone()), problem);
        if !NAT_IDLE_TIMEOUT_MINUTES.contains(&gw.idle_timeout_minutes) {
            return Err(requirement(P::IdleTimeout { minutes: gw.idle_timeout_minutes }));
        }
        for (i, &p) in gw.public_ips.iter().enumerate() {
            let pip = &self.public_ips[p.index()];
            let public_ip = pip.name.clone();
            if gw.public_ips[..i].contains(&p) {
                return Err(requirement(P::PublicIpTwice { public_ip }));
            }
            if pip.sku == PublicIpSku::Basic {
                return Err(requirement(P::BasicPublicIp { public_ip }));
            }
            if pip.address.is_ipv6() {
                return Err(requirement(P::Ipv6PublicIp { public_ip, address: pip.address }));
            }
            if let Some(holder) = self.public_ip_holder(p) {
                let resource = Resource::NatGateway(gw.name.clone()).to_string();
                return Err(TopologyError::PublicIpInUse { public_ip, holder, resource });
            }
        }
        let mut total = gw.public_ips.len() as u64;
        for (i, &q) in gw.public_ip_prefixes.iter().enumerate() {
            let prefix = &self.public_ip_prefixes[q.0 as usize];
            let name = prefix.name.clone();
            if gw.public_ip_prefixes[..i].contains(&q) {
                return Err(requirement(P::PrefixTwice { prefix: name }));
            }
            if matches!(prefix.prefix, IpNet::V6(_)) {
                return Err(requirement(P::Ipv6Prefix { prefix: name, range: prefix.prefix }));
            }
            if let Some(g) = self.nat_gateways.iter().find(|g| g.public_ip_prefixes.contains(&q)) {
                return Err(requirement(P::PrefixTaken { prefix: name, gateway: g.name.clone() }));
            }
            if let Some(pip) = self.public_ips.iter().find(|p| p.prefix == Some(q)) {
                return Err(requirement(P::PrefixPartlyUsed { public_ip: pip.name.clone(), prefix: name }));
            }
            total = total.saturating_add(prefix.size());
        }
        if total > MAX_NAT_GATEWAY_ADDRESSES {
            return Err(requirement(P::TooManyAddresses { total, public_ips: gw.public_ips.len() }));
        }
        self.nat_gateways.push(gw);
        Ok(NatGatewayId(self.nat_gateways.len() as u32 - 1))
    }

    /// Attaches NAT gateway `gw` to `subnet`.
    ///
    /// # Errors
    /// The gateway subnet ("A NAT gateway can't be used with a gateway subnet"), or a subnet of
    /// another VNet than the gateway's other subnets ("A NAT gateway can't be attached to subnets
    /// from different virtual networks"). A subnet has one NAT gateway at most by construction.
    pub fn set_subnet_nat_gateway(
        &mut self,
        subnet: SubnetId,
        gw: NatGatewayId,
    ) -> Result<(), TopologyError> {
        let s = &self.subnets[subnet.index()];
        let g = &self.nat_gateways[gw.0 as usize];
        let resource = || Resource::NatGateway(g.name.clone());
        let vnet = || self.vnets[s.vnet.index()].name.clone();
        if s.name.eq_ignore_ascii_case(GATEWAY_SUBNET) {
            return Err(TopologyError::requirement(resource(), P::GatewaySubnet { vnet: vnet() }));
        }
        if let Some(other) = self.nat_gateway_subnets(gw).find(|o| self.subnets[o.index()].vnet != s.vnet) {
            let o = &self.subnets[other.index()];
            return Err(TopologyError::requirement(
                resource(),
                P::SubnetsOfTwoVnets {
                    attached: o.name.clone(),
                    attached_vnet: self.vnets[o.vnet.index()].name.clone(),
                    subnet: s.name.clone(),
                    vnet: vnet(),
                },
            ));
        }
        self.subnets[subnet.index()].nat_gateway = Some(gw);
        Ok(())
    }

    /// Why Azure refuses the NAT gateway on `subnet`, given what is in the subnet: a NIC with a
    /// Basic public IP, or a member of a Basic load balancer ("Basic load balancers and basic
    /// public IP addresses aren't compatible with NAT gateway"). `None` when there is no gateway
    /// or nothing Basic. Checked once the whole topology is loaded.
    pub fn nat_gateway_conflict(&self, subnet: SubnetId) -> Option<NatGatewayConflict> {
        let gw = self.subnets[subnet.index()].nat_gateway?;
        let g = &self.nat_gateways[gw.0 as usize];
        let s = &self.subnets[subnet.index()];
        for &n in &s.nics {
            let nic = &self.nics[n.index()];
            let basic = std::iter::once(nic.public_ip)
                .chain(nic.secondary.iter().map(|c| c.public_ip))
                .flatten()
                .find(|p| self.public_ips[p.index()].sku == PublicIpSku::Basic);
            if let Some(p) = basic {
                return Some(NatGatewayConflict::BasicPublicIp {
                    gateway: g.name.clone(),
                    subnet: s.name.clone(),
                    nic: nic.name.clone(),
                    public_ip: self.public_ips[p.index()].name.clone(),
                });
            }
        }
        for id in self.load_balancer_ids() {
            let l = self.load_balancer(id);
            if l.sku != LbSku::Basic {
                continue;
            }
            let member = l
                .pools
                .iter()
                .flat_map(|p| p.members.iter())
                .find(|m| self.nics[m.nic.index()].subnet == subnet);
            if let Some(m) = member {
                return Some(NatGatewayConflict::BasicLoadBalancer {
                    gateway: g.name.clone(),
                    subnet: s.name.clone(),
                    nic: self.nics[m.nic.index()].name.clone(),
                    load_balancer: l.name.clone(),
                });
            }
        }
        None
    }

    /// A NAT gateway.
    pub fn nat_gateway(&self, id: NatGatewayId) -> &NatGateway {
        &self.nat_gateways[id.0 as usize]
    }

    /// Every NAT gateway's id.
    pub fn nat_gateway_ids(&self) -> impl Iterator<Item = NatGatewayId> + '_ {
        (0..self.nat_gateways.len() as u32).map(NatGatewayId)
    }

    /// The NAT gateway named `name` (case-insensitive).
    pub fn nat_gateway_by_name(&self, name: &str) -> Option<NatGatewayId> {
        self.nat_gateways
            .iter()
            .position(|g| g.name.eq_ignore_ascii_case(name))
            .map(|i| NatGatewayId(i as u32))
    }

    /// The subnets NAT gateway `gw` is attached to.
    pub fn nat_gateway_subnets(&self, gw: NatGatewayId) -> impl Iterator<Item = SubnetId> + '_ {
        self.subnet_ids().filter(move |s| self.subnets[s.index()].nat_gateway == Some(gw))
    }

    /// NAT gateway `gw`'s public addresses: its public IPs' addresses in order, then every
    /// address of each prefix in order (at most 16 once the gateway is accepted).
    pub fn nat_gateway_addresses(&self, gw: NatGatewayId) -> Vec<IpAddr> {
        let g = &self.nat_gateways[gw.0 as usize];
        let mut out: Vec<IpAddr> = g.public_ips.iter().map(|p| self.public_ips[p.index()].address).collect();
        for q in &g.public_ip_prefixes {
            let prefix = self.public_ip_prefixes[q.0 as usize].prefix;
            let room = (MAX_NAT_GATEWAY_ADDRESSES as usize).saturating_sub(out.len());
            out.extend(prefix.hosts_or_all().take(room));
        }
        out
    }

    /// The NAT gateway one of whose addresses (a public IP's, or in a prefix) is `ip`.
    pub fn nat_gateway_with_address(&self, ip: IpAddr) -> Option<NatGatewayId> {
        self.nat_gateways
            .iter()
            .position(|g| {
                g.public_ips.iter().any(|p| self.public_ips[p.index()].address == ip)
                    || g.public_ip_prefixes
                        .iter()
                        .any(|q| self.public_ip_prefixes[q.0 as usize].prefix.contains(&ip))
            })
            .map(|i| NatGatewayId(i as u32))
    }

    /// A public IP prefix.
    pub fn public_ip_prefix(&self, id: PublicIpPrefixId) -> &PublicIpPrefix {
        &self.public_ip_prefixes[id.0 as usize]
    }

    /// The public IP prefix named `name` (case-insensitive).
    pub fn public_ip_prefix_by_name(&self, name: &str) -> Option<PublicIpPrefixId> {
        self.public_ip_prefixes
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))
            .map(|i| PublicIpPrefixId(i as u32))
    }

    /// Every public IP prefix's id.
    pub fn public_ip_prefix_ids(&self) -> impl Iterator<Item = PublicIpPrefixId> + '_ {
        (0..self.public_ip_prefixes.len() as u32).map(PublicIpPrefixId)
    }

    /// The NAT gateway that has public IP `public_ip`, if any.
    pub(super) fn nat_gateway_holding(&self, public_ip: PublicIpId) -> Option<String> {
        self.nat_gateways
            .iter()
            .find(|g| g.public_ips.contains(&public_ip))
            .map(|g| format!("NAT gateway '{}'", g.name))
    }
}

/// Every address of a prefix, network and broadcast included (a public IP prefix's addresses are
/// all usable), in order.
trait AllAddresses {
    fn hosts_or_all(&self) -> Box<dyn Iterator<Item = IpAddr>>;
}

impl AllAddresses for IpNet {
    fn hosts_or_all(&self) -> Box<dyn Iterator<Item = IpAddr>> {
        match *self {
            IpNet::V4(n) => {
                let start = u32::from(n.network());
                let count = 1u64 << (32 - u32::from(n.prefix_len()));
                Box::new((0..count).map(move |i| IpAddr::V4((start + i as u32).into())))
            }
            IpNet::V6(n) => Box::new(std::iter::once(IpAddr::V6(n.network()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NatSku, RequirementProblem};

    /// The NAT family's problem of a refusal (`None`: another error).
    fn problem(e: &TopologyError) -> Option<&P> {
        match e.requirement_problem()? {
            RequirementProblem::NatGateway(p) => Some(p),
            _ => None,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn gw(name: &str, public_ips: Vec<PublicIpId>, prefixes: Vec<PublicIpPrefixId>) -> NatGateway {
        NatGateway {
            name: name.into(),
            sku: NatSku::Standard,
            public_ips,
            public_ip_prefixes: prefixes,
            idle_timeout_minutes: 4,
        }
    }

    fn base() -> (Topology, SubnetId) {
        let mut t = Topology::new();
        let v = t.add_vnet("vnet", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let s = t.add_subnet(v, "web", "10.0.1.0/24".parse().expect("net")).expect("subnet");
        (t, s)
    }

    #[test]
    fn a_gateway_takes_standard_ipv4_addresses_up_to_sixteen() {
        let (mut t, s) = base();
        let basic = t.add_public_ip("basic", ip("20.0.0.1"), PublicIpSku::Basic).expect("pip");
        let e = t.add_nat_gateway(gw("nat", vec![basic], vec![])).expect_err("basic");
        assert_eq!(problem(&e), Some(&P::BasicPublicIp { public_ip: "basic".into() }), "{e}");
        assert!(
            matches!(&e, TopologyError::Requirement { resource: Resource::NatGateway(n), .. } if n == "nat")
        );
        let std1 = t.add_public_ip("std1", ip("20.0.0.2"), PublicIpSku::Standard).expect("pip");
        let p28 = t.add_public_ip_prefix("p28", "20.1.0.0/28".parse().expect("net")).expect("prefix");
        let e = t.add_nat_gateway(gw("nat", vec![std1], vec![p28])).expect_err("17 addresses");
        assert_eq!(problem(&e), Some(&P::TooManyAddresses { total: 17, public_ips: 1 }), "{e}");
        let p30 = t.add_public_ip_prefix("p30", "20.2.0.0/30".parse().expect("net")).expect("prefix");
        let id = t.add_nat_gateway(gw("nat", vec![std1], vec![p30])).expect("5 addresses");
        assert_eq!(
            t.nat_gateway_addresses(id),
            vec![ip("20.0.0.2"), ip("20.2.0.0"), ip("20.2.0.1"), ip("20.2.0.2"), ip("20.2.0.3")]
        );
        assert_eq!(t.public_ip_holder(std1).as_deref(), Some("NAT gateway 'nat'"));
        t.set_subnet_nat_gateway(s, id).expect("attach");
        assert_eq!(t.subnet(s).nat_gateway, Some(id));
        assert_eq!(t.nat_gateway_subnets(id).collect::<Vec<_>>(), vec![s]);
        let mut slow = gw("slow", vec![], vec![]);
        slow.idle_timeout_minutes = 121;
        let e = t.add_nat_gateway(slow).expect_err("121 minutes");
        assert_eq!(problem(&e), Some(&P::IdleTimeout { minutes: 121 }), "{e}");
    }

    #[test]
    fn a_gateway_serves_one_vnet_and_never_the_gateway_subnet() {
        let (mut t, s) = base();
        let v = t.subnet(s).vnet;
        let gs = t.add_subnet(v, "GatewaySubnet", "10.0.255.0/27".parse().expect("net")).expect("subnet");
        let other = t.add_vnet("other", vec!["10.9.0.0/16".parse().expect("net")]).expect("vnet");
        let os = t.add_subnet(other, "app", "10.9.1.0/24".parse().expect("net")).expect("subnet");
        let id = t.add_nat_gateway(gw("nat", vec![], vec![])).expect("gw");
        let e = t.set_subnet_nat_gateway(gs, id).expect_err("gateway subnet");
        assert_eq!(problem(&e), Some(&P::GatewaySubnet { vnet: "vnet".into() }), "{e}");
        t.set_subnet_nat_gateway(s, id).expect("attach");
        let e = t.set_subnet_nat_gateway(os, id).expect_err("other vnet");
        let two = P::SubnetsOfTwoVnets {
            attached: "web".into(),
            attached_vnet: "vnet".into(),
            subnet: "app".into(),
            vnet: "other".into(),
        };
        assert_eq!(problem(&e), Some(&two), "{e}");
    }

    #[test]
    fn a_gateway_conflicts_with_a_basic_public_ip_in_its_subnet() {
        let (mut t, s) = base();
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), None).expect("nic");
        let basic = t.add_public_ip("basic", ip("20.0.0.1"), PublicIpSku::Basic).expect("pip");
        t.associate_public_ip(nic, basic).expect("associate");
        assert_eq!(t.nat_gateway_conflict(s), None, "no gateway yet");
        let id = t.add_nat_gateway(gw("nat", vec![], vec![])).expect("gw");
        t.set_subnet_nat_gateway(s, id).expect("attach");
        let conflict = NatGatewayConflict::BasicPublicIp {
            gateway: "nat".into(),
            subnet: "web".into(),
            nic: "nic".into(),
            public_ip: "basic".into(),
        };
        assert_eq!(t.nat_gateway_conflict(s), Some(conflict));
    }

    #[test]
    fn a_prefix_given_to_a_gateway_is_used_whole() {
        let (mut t, _) = base();
        let p = t.add_public_ip_prefix("p", "20.3.0.0/30".parse().expect("net")).expect("prefix");
        let pip = t.add_public_ip("from-p", ip("20.3.0.1"), PublicIpSku::Standard).expect("pip");
        let outside = t.add_public_ip("outside", ip("20.4.0.1"), PublicIpSku::Standard).expect("pip");
        let e = t.set_public_ip_prefix(outside, p).expect_err("outside");
        assert!(matches!(problem(&e), Some(P::AddressOutsidePrefix { prefix, .. }) if prefix == "p"), "{e}");
        t.set_public_ip_prefix(pip, p).expect("inside");
        let e = t.add_nat_gateway(gw("nat", vec![], vec![p])).expect_err("broken out");
        let partly = P::PrefixPartlyUsed { public_ip: "from-p".into(), prefix: "p".into() };
        assert_eq!(problem(&e), Some(&partly), "{e}");
        let e = t.add_public_ip_prefix("q", "20.3.0.2/31".parse().expect("net")).expect_err("overlap");
        assert!(matches!(problem(&e), Some(P::PrefixOverlap { other, .. }) if other == "p"), "{e}");
    }
}

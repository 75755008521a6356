//! Routing domains: what a private address means depends on where the packet is.
//!
//! Azure lets virtual networks that are not connected use the same address spaces and the same
//! private addresses. Each VNet routes its own address space to itself (`VnetLocal`), so a packet
//! sent inside one never enters another VNet unless a peering (or a gateway) routes it there.
//! Inside one VNet and the VNets peered with it an address has one meaning: Azure refuses
//! overlapping spaces in one VNet, the peering of two VNets whose spaces overlap
//! (`VnetAddressSpacesOverlap`), and the peering of a VNet whose space overlaps one already peered
//! with the other (`VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`); [`Topology::peer`] and
//! [`Topology::peer_subnets`] refuse the same, so the lookups "as seen from a VNet" here have at
//! most one answer.
//!
//! The contract: every lookup of a private address names the VNet it is seen from
//! ([`Topology::vnet_seen_from`], [`Topology::nic_in_vnet`], [`Topology::subnet_in_vnet`],
//! [`Topology::firewall_in_vnet`], [`Topology::gateway_seen_from`]). The only lookups without a
//! place ([`Topology::sites_of`], [`Topology::nics_with_ip`]) return every candidate, so that a
//! caller can say an address is ambiguous instead of picking the first VNet that holds it.

use std::net::IpAddr;

use ipnet::IpNet;

use super::appliance::FirewallId;
use super::topology::{Topology, TopologyError, overlaps};
use crate::ids::{SubnetId, VnetId};

/// Where an address can lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Site {
    /// In this VNet's address space: one of its NICs, or a host nsgsim does not model.
    Vnet(VnetId),
    /// In an on-premises network connected through this VNet's VPN/ExpressRoute gateway.
    OnPremises(VnetId),
}

impl Topology {
    /// Whether `vnet`'s own address space holds `ip`.
    pub fn vnet_holds(&self, vnet: VnetId, ip: IpAddr) -> bool {
        self.vnet(vnet).address_space.iter().any(|space| space.contains(&ip))
    }

    /// Every VNet whose address space holds `ip`, in id order: more than one only when VNets
    /// that are not connected reuse the address.
    pub fn vnets_holding(&self, ip: IpAddr) -> impl Iterator<Item = VnetId> + '_ {
        let networked = self.is_networked(ip);
        self.vnet_ids().filter(move |v| networked && self.vnet_holds(*v, ip))
    }

    /// The subnet of `vnet` whose prefix holds `ip`.
    pub fn subnet_in_vnet(&self, vnet: VnetId, ip: IpAddr) -> Option<SubnetId> {
        self.vnet(vnet).subnets.iter().copied().find(|s| self.subnet(*s).prefix.contains(&ip))
    }

    /// The Azure Firewall of `vnet` whose private address is `ip`.
    pub fn firewall_in_vnet(&self, vnet: VnetId, ip: IpAddr) -> Option<FirewallId> {
        self.firewall_ids().find(|f| {
            let fw = self.firewall(*f);
            fw.private_ip == ip && self.subnet(fw.subnet).vnet == vnet
        })
    }

    /// Whether `other` is `vnet` or a VNet peered with it.
    pub fn is_self_or_peer(&self, vnet: VnetId, other: VnetId) -> bool {
        vnet == other || self.vnet(vnet).peerings.contains(&other)
    }

    /// The VNet in which `ip` lies as seen from `from`: `from` itself when its address space holds
    /// it (Azure's `VnetLocal` route beats any peering, since no peer may overlap it), else the
    /// VNet peered with `from` whose peered prefixes hold it (`VNetPeering`), else a VNet peered
    /// with `from` whose address space holds it outside those prefixes (over a subnet peering, a
    /// subnet that is not in the peering: the caller says why it is not reached). `None` when the
    /// address is in neither: on-premises, on the Internet, or in a VNet `from` is not peered
    /// with, which is a separate routing domain whatever it holds.
    pub fn vnet_seen_from(&self, from: VnetId, ip: IpAddr) -> Option<VnetId> {
        if self.vnet_holds(from, ip) {
            return Some(from);
        }
        let peers = &self.vnet(from).peerings;
        peers
            .iter()
            .copied()
            .find(|p| match self.peered_subnets(*p, from) {
                Some(list) => list.iter().any(|s| self.subnet(*s).prefix.contains(&ip)),
                None => self.vnet_holds(*p, ip),
            })
            .or_else(|| peers.iter().copied().find(|p| self.vnet_holds(*p, ip)))
    }

    /// The VNet whose gateway connects the on-premises network holding `ip`, as seen from `from`:
    /// `from`'s own gateway, or the peered VNet's gateway it uses (gateway transit).
    pub fn gateway_seen_from(&self, from: VnetId, ip: IpAddr) -> Option<VnetId> {
        let v = self.vnet(from);
        let holds = |g: VnetId| self.vnet(g).on_premises.iter().any(|s| s.contains(&ip));
        if holds(from) {
            return Some(from);
        }
        v.remote_gateway.filter(|g| holds(*g))
    }

    /// Every place `ip` can be, when nothing says where it is seen from: the VNets whose address
    /// space holds it (in id order), then the on-premises networks behind the gateways whose
    /// spaces hold it. An on-premises site is left out when a VNet of its own routing domain (the
    /// gateway's VNet or a VNet peered with it) holds the address: from there Azure routes it to
    /// that VNet ("System routes for traffic related to virtual network, virtual network
    /// peerings, or virtual network service endpoints, are preferred routes, even if BGP routes
    /// are more specific"; model choice for the address of a host, docs/fidelity.md).
    ///
    /// Empty for an Internet address; more than one site when separate routing domains share the
    /// address, and the caller must say which one it means.
    pub fn sites_of(&self, ip: IpAddr) -> Vec<Site> {
        if !self.is_networked(ip) {
            return Vec::new();
        }
        let vnets: Vec<VnetId> = self.vnets_holding(ip).collect();
        let gateways = self.vnet_ids().filter(|g| {
            self.vnet(*g).on_premises.iter().any(|s| s.contains(&ip))
                && !vnets.iter().any(|v| self.is_self_or_peer(*g, *v))
        });
        let mut sites: Vec<Site> = vnets.iter().map(|v| Site::Vnet(*v)).collect();
        sites.extend(gateways.map(Site::OnPremises));
        sites
    }

    /// The sites of `ip` as seen toward `vnet` (the other end of a flow): when separate routing
    /// domains share the address and exactly one of them reaches `vnet` privately, that one;
    /// otherwise every site (empty for an Internet address), for the caller to evaluate each or
    /// to say the address is ambiguous.
    pub fn sites_toward(&self, ip: IpAddr, vnet: VnetId) -> Vec<Site> {
        let sites = self.sites_of(ip);
        if sites.len() < 2 {
            return sites;
        }
        let fits: Vec<Site> = sites.iter().copied().filter(|s| self.site_reaches(*s, vnet)).collect();
        if fits.len() == 1 { fits } else { sites }
    }

    /// Whether a packet from `site` is routed privately to `vnet`: from a VNet, to itself and the
    /// VNets peered with it; from on-premises, to the gateway's VNet and the VNets that use its
    /// gateway (gateway transit). A peering that carries no traffic under option
    /// `peering_access_blocks_all_traffic` still routes: the path evaluation stops the packet
    /// there and says why.
    pub fn site_reaches(&self, site: Site, vnet: VnetId) -> bool {
        match site {
            Site::Vnet(v) => self.is_self_or_peer(v, vnet),
            Site::OnPremises(g) => g == vnet || self.vnet(vnet).remote_gateway == Some(g),
        }
    }

    /// Where `ip` lies as seen from `site`, when it routes it privately: a VNet it reaches
    /// ([`Topology::vnet_seen_from`], [`Topology::site_reaches`]) or, from a VNet, the
    /// on-premises network behind its gateway or the gateway it uses.
    pub fn site_sees(&self, site: Site, ip: IpAddr) -> Option<Site> {
        match site {
            Site::Vnet(v) => self
                .vnet_seen_from(v, ip)
                .map(Site::Vnet)
                .or_else(|| self.gateway_seen_from(v, ip).map(Site::OnPremises)),
            Site::OnPremises(g) => {
                self.vnet_seen_from(g, ip).filter(|d| self.site_reaches(site, *d)).map(Site::Vnet)
            }
        }
    }

    /// `ip` at `site` in words, for messages: `vm-a (vnet-a)` for a NIC's address (the NIC's name
    /// when it has no VM), `an unmodelled host of vnet-a`, `an on-premises host behind the
    /// gateway of vnet-hub`.
    pub fn site_label(&self, site: Site, ip: IpAddr) -> String {
        match site {
            Site::Vnet(v) => {
                let vnet = &self.vnet(v).name;
                match self.nic_in_vnet(v, ip) {
                    Some(n) => {
                        let nic = self.nic(n);
                        let owner = nic.vm.map_or(nic.name.as_str(), |vm| self.vm(vm).name.as_str());
                        format!("{owner} ({vnet})")
                    }
                    None => format!("an unmodelled host of {vnet}"),
                }
            }
            Site::OnPremises(g) => format!("an on-premises host behind the gateway of {}", self.vnet(g).name),
        }
    }

    /// Refuses a peering of `a` and `b` that would route `a_carried` (prefixes of `a`) to `b`, or
    /// `b_carried` to `a`, where the receiving VNet already routes an overlapping prefix over
    /// another peering (Azure's `VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`).
    pub(super) fn check_distinct_among_peers(
        &self,
        a: VnetId,
        b: VnetId,
        a_carried: &[IpNet],
        b_carried: &[IpNet],
    ) -> Result<(), TopologyError> {
        for (from, to, carried) in [(a, b, a_carried), (b, a, b_carried)] {
            for peer in self.vnet(to).peerings.iter().copied().filter(|p| *p != from) {
                for theirs in self.peered_prefixes(to, peer) {
                    if let Some(ours) = carried.iter().find(|x| overlaps(x, &theirs)) {
                        return Err(TopologyError::PeeringOverlapsPeered {
                            first: self.vnet(from).name.clone(),
                            second: self.vnet(to).name.clone(),
                            third: self.vnet(peer).name.clone(),
                            ours: *ours,
                            theirs,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Firewall, FirewallMode, Os};

    fn net(s: &str) -> IpNet {
        s.parse().expect("valid literal")
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().expect("valid literal")
    }

    /// Two unpeered VNets with the same space and the same NIC address, a third peered with the
    /// first, and an on-premises network behind the first's gateway.
    fn twins() -> (Topology, [VnetId; 3]) {
        let mut t = Topology::new();
        let a = t.add_vnet("vnet-a", vec![net("10.0.0.0/16")]).expect("vnet");
        let b = t.add_vnet("vnet-b", vec![net("10.0.0.0/16")]).expect("overlapping spaces are allowed");
        let c = t.add_vnet("vnet-c", vec![net("10.9.0.0/16")]).expect("vnet");
        t.peer(a, c).expect("disjoint spaces peer");
        t.connect_on_premises(a, vec![net("192.168.0.0/16")]).expect("gateway");
        for (v, name) in [(a, "a"), (b, "b"), (c, "c")] {
            let prefix = if v == c { "10.9.1.0/24" } else { "10.0.1.0/24" };
            let s = t.add_subnet(v, "app", net(prefix)).expect("subnet");
            let vm = t.add_vm(&format!("vm-{name}"), Os::Linux, false, ("sub", "rg")).expect("vm");
            let address = if v == c { "10.9.1.4" } else { "10.0.1.4" };
            t.add_nic(&format!("nic-{name}"), s, ip(address), Some(vm)).expect("one address per VNet");
        }
        (t, [a, b, c])
    }

    #[test]
    fn the_same_address_in_two_routing_domains_loads_and_resolves_per_vnet() {
        let (t, [a, b, c]) = twins();
        let nics = t.nics_with_ip(ip("10.0.1.4"));
        assert_eq!(nics.len(), 2);
        assert_eq!(t.nic_by_private_ip(ip("10.0.1.4")), None, "ambiguous without a place");
        assert_eq!(t.nic_in_vnet(a, ip("10.0.1.4")), Some(nics[0]));
        assert_eq!(t.nic_in_vnet(b, ip("10.0.1.4")), Some(nics[1]));
        assert_eq!(t.nic_by_private_ip(ip("10.9.1.4")), t.nic_in_vnet(c, ip("10.9.1.4")));
        // Seen from a VNet: its own space first, then its peers; never an unpeered VNet.
        assert_eq!(t.vnet_seen_from(a, ip("10.0.1.9")), Some(a));
        assert_eq!(t.vnet_seen_from(b, ip("10.0.1.9")), Some(b));
        assert_eq!(t.vnet_seen_from(c, ip("10.0.1.9")), Some(a), "c is peered with a only");
        assert_eq!(t.vnet_seen_from(b, ip("10.9.1.4")), None, "b is not peered with c");
        assert_eq!(t.subnet_in_vnet(b, ip("10.0.1.9")).map(|s| t.subnet(s).vnet), Some(b));
        assert_eq!(t.gateway_seen_from(a, ip("192.168.1.1")), Some(a));
        assert_eq!(t.gateway_seen_from(b, ip("192.168.1.1")), None);
    }

    #[test]
    fn duplicate_addresses_are_refused_within_a_vnet_only() {
        let (mut t, [a, ..]) = twins();
        let s = t.subnet_in_vnet(a, ip("10.0.1.4")).expect("subnet");
        let e = t.add_nic("again", s, ip("10.0.1.4"), None).expect_err("a duplicate in vnet-a");
        assert!(matches!(e, TopologyError::DuplicateIp { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "nic 'again': private IP 10.0.1.4 is already used by nic 'nic-a' in vnet 'vnet-a'; valid: an address of the subnet that no other NIC of the VNet has"
        );
    }

    #[test]
    fn sites_list_every_routing_domain_and_what_each_reaches() {
        let (t, [a, b, c]) = twins();
        assert_eq!(t.sites_of(ip("10.0.1.4")), [Site::Vnet(a), Site::Vnet(b)]);
        assert_eq!(t.sites_of(ip("10.9.1.4")), [Site::Vnet(c)]);
        assert_eq!(t.sites_of(ip("192.168.1.1")), [Site::OnPremises(a)]);
        assert!(t.sites_of(ip("203.0.113.9")).is_empty());
        assert!(
            !t.is_networked(ip("203.0.113.9"))
                && t.is_networked(ip("192.168.1.1"))
                && t.is_networked(ip("10.9.0.1"))
        );
        assert!(t.site_reaches(Site::Vnet(a), c) && !t.site_reaches(Site::Vnet(b), c));
        assert!(t.site_reaches(Site::OnPremises(a), a) && !t.site_reaches(Site::OnPremises(a), c));
        assert_eq!(t.site_sees(Site::Vnet(c), ip("10.0.1.4")), Some(Site::Vnet(a)));
        assert_eq!(t.site_sees(Site::Vnet(b), ip("10.9.1.4")), None);
        assert_eq!(t.site_sees(Site::Vnet(a), ip("192.168.1.1")), Some(Site::OnPremises(a)));
        assert_eq!(t.site_sees(Site::OnPremises(a), ip("10.0.1.4")), Some(Site::Vnet(a)));
        assert_eq!(t.site_sees(Site::OnPremises(a), ip("10.9.1.4")), None, "no gateway transit to c");
        assert_eq!(t.sites_toward(ip("10.0.1.4"), c), [Site::Vnet(a)], "only a reaches c");
        assert_eq!(t.sites_toward(ip("10.0.1.4"), b), [Site::Vnet(b)]);
        assert_eq!(t.site_label(Site::Vnet(b), ip("10.0.1.4")), "vm-b (vnet-b)");
        assert_eq!(t.site_label(Site::Vnet(b), ip("10.0.1.9")), "an unmodelled host of vnet-b");
        assert_eq!(
            t.site_label(Site::OnPremises(a), ip("192.168.1.1")),
            "an on-premises host behind the gateway of vnet-a"
        );
    }

    #[test]
    fn an_on_premises_space_yields_to_a_vnet_of_its_own_routing_domain() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.2.0.0/16")]).expect("vnet");
        let other = t.add_vnet("other", vec![net("10.3.0.0/16")]).expect("vnet");
        t.peer(hub, spoke).expect("peer");
        t.connect_on_premises(hub, vec![net("10.0.0.0/8")]).expect_err("overlaps the hub's own space");
        t.connect_on_premises(hub, vec![net("10.2.0.0/15")]).expect("a space beside the hub");
        assert_eq!(t.sites_of(ip("10.2.0.9")), [Site::Vnet(spoke)], "the spoke is in the hub's domain");
        assert_eq!(
            t.sites_of(ip("10.3.0.9")),
            [Site::Vnet(other), Site::OnPremises(hub)],
            "separate domains"
        );
    }

    #[test]
    fn a_peering_may_not_make_an_address_ambiguous_for_the_vnet_in_the_middle() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let one = t.add_vnet("spoke1", vec![net("10.1.0.0/16")]).expect("vnet");
        let two = t.add_vnet("spoke2", vec![net("10.1.0.0/24")]).expect("overlaps spoke1, unpeered");
        t.peer(hub, one).expect("peer");
        let e = t.peer(hub, two).expect_err("spoke2 overlaps spoke1, already peered with the hub");
        assert_eq!(
            e.to_string(),
            "vnets 'spoke2' and 'hub' cannot be peered: 10.1.0.0/24 of vnet 'spoke2' overlaps 10.1.0.0/16 of vnet 'spoke1', which is already peered with vnet 'hub' (Azure refuses it: VnetAddressSpaceOverlapsWithAlreadyPeeredVnet); the VNets peered with one VNet must have distinct address spaces"
        );
        // The other way round is the same peering.
        assert!(matches!(t.peer(two, hub), Err(TopologyError::PeeringOverlapsPeered { .. })));
        // A subnet peering is checked on the prefixes it routes.
        let s = t.add_subnet(two, "app", net("10.1.0.0/26")).expect("subnet");
        let h = t.add_subnet(hub, "web", net("10.0.1.0/24")).expect("subnet");
        let e = t.peer_subnets(two, hub, &[s], &[h]).expect_err("10.1.0.0/26 overlaps spoke1");
        assert!(matches!(e, TopologyError::PeeringOverlapsPeered { .. }), "{e}");
    }

    #[test]
    fn a_firewall_is_found_in_its_own_vnet_only() {
        let mut t = Topology::new();
        let a = t.add_vnet("a", vec![net("10.0.0.0/16")]).expect("vnet");
        let b = t.add_vnet("b", vec![net("10.0.0.0/16")]).expect("vnet");
        t.add_subnet(a, crate::model::FIREWALL_SUBNET, net("10.0.1.0/26")).expect("subnet");
        let fw = Firewall {
            name: "fw".into(),
            private_ip: ip("10.0.1.4"),
            public_ip: None,
            subnet: SubnetId(0),
            groups: Vec::new(),
            mode: FirewallMode::Classic,
            legacy_dnat: false,
            private_ranges: crate::model::SnatPrivateRanges::default(),
        };
        let id = t.add_firewall(fw, a).expect("firewall");
        assert_eq!(t.firewall_in_vnet(a, ip("10.0.1.4")), Some(id));
        assert_eq!(t.firewall_in_vnet(b, ip("10.0.1.4")), None);
    }
}

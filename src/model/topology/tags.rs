//! What symbolic addresses mean in a topology: service tags (Microsoft's file, the built-in
//! sample, or the scenario's), the `VirtualNetwork` tag of each VNet and subnet, and the resolve
//! context NSGs are compiled with.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::super::appliance::RouteTableId;
use super::super::service_tags::{
    PLATFORM_HOST_ADDRESS, ServiceTagFile, TagFacts, TagProvenance, internet_space, sample_service_tags,
};
use super::Topology;
use crate::ids::{AsgId, SubnetId, VnetId};
use crate::net::AddrSet;
use crate::nsg::ResolveContext;

impl Topology {
    /// Defines (or redefines) a service tag's members.
    pub fn define_service_tag(&mut self, name: &str, members: AddrSet) {
        Arc::make_mut(&mut self.service_tags).insert(name.to_string(), members);
        self.custom_tags.push(name.to_string());
    }

    /// Takes every tag's members from Microsoft's file instead of the built-in sample. The
    /// platform tags the file does not hold (`AzurePlatformDNS`, `AzurePlatformIMDS`,
    /// `AzurePlatformLKM`: Microsoft documents them on the NSG page, not in the file) keep their
    /// built-in members; tags the scenario defined stay as defined.
    pub fn use_service_tag_file(&mut self, file: Arc<ServiceTagFile>) {
        let mut tags = file.members.clone();
        for (name, members) in sample_service_tags() {
            if name.starts_with("AzurePlatform") && !tags.contains_key(&name) {
                tags.insert(name, members);
            }
        }
        for name in &self.custom_tags {
            if let Some(members) = self.service_tags.get(name) {
                tags.insert(name.clone(), members.clone());
            }
        }
        self.service_tags = Arc::new(tags);
        self.tag_file = Some(file);
    }

    /// Microsoft's service-tag file the tags come from, when one was given.
    pub fn service_tag_file(&self) -> Option<&ServiceTagFile> {
        self.tag_file.as_deref()
    }

    /// What Microsoft's file says of a tag (its region, network features), when a file was
    /// given and holds it.
    pub fn service_tag_facts(&self, name: &str) -> Option<&TagFacts> {
        self.tag_file.as_ref().and_then(|f| f.facts.get(name))
    }

    /// Where the members of the known tag `name` (canonical spelling) come from.
    pub fn service_tag_provenance(&self, name: &str) -> TagProvenance<'_> {
        if matches!(name, "VirtualNetwork" | "Internet" | "AzureLoadBalancer") {
            TagProvenance::Computed
        } else if self.custom_tags.iter().any(|t| t == name) {
            TagProvenance::Scenario
        } else if let Some(file) = self.tag_file.as_deref().filter(|f| f.members.contains_key(name)) {
            TagProvenance::File(file)
        } else {
            TagProvenance::Sample
        }
    }

    /// Whether a tag of that name is known (built in, sample, or defined by the scenario).
    pub fn has_service_tag(&self, name: &str) -> bool {
        matches!(name, "VirtualNetwork" | "Internet" | "AzureLoadBalancer")
            || self.service_tags.contains_key(name)
    }

    /// The canonical spelling of a known tag written in any case (`internet` → `Internet`,
    /// `gatewaymanager` → `GatewayManager`): Azure compares tag names without regard to case.
    pub fn service_tag_name(&self, name: &str) -> Option<String> {
        ["VirtualNetwork", "Internet", "AzureLoadBalancer"]
            .into_iter()
            .map(String::from)
            .chain(self.service_tags.keys().cloned())
            .find(|known| known.eq_ignore_ascii_case(name))
    }

    /// The members of a tag from the sample table or the scenario (not the three tags computed
    /// per VNet: `VirtualNetwork`, `Internet`, `AzureLoadBalancer`).
    pub fn service_tag_members(&self, name: &str) -> Option<&AddrSet> {
        self.service_tags.get(name)
    }

    /// Whether the tag's members come from nsgsim's sample table rather than the scenario.
    pub fn is_sample_tag(&self, name: &str) -> bool {
        self.service_tags.contains_key(name)
            && matches!(self.service_tag_provenance(name), TagProvenance::Sample)
    }

    /// Names of every known tag.
    pub fn service_tag_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            ["VirtualNetwork", "Internet", "AzureLoadBalancer"].map(String::from).to_vec();
        names.extend(self.service_tags.keys().cloned());
        names
    }

    /// The tags other than the three computed ones that some NSG rule names (source or
    /// destination), canonical spelling, sorted: what an answer's provenance note covers.
    pub fn service_tags_named(&self) -> std::collections::BTreeSet<String> {
        use crate::nsg::{AddressSpec, ServiceTag};
        self.nsgs
            .iter()
            .flat_map(|n| &n.rules)
            .flat_map(|r| [&r.source, &r.destination])
            .filter_map(|spec| match spec {
                AddressSpec::Tag(ServiceTag::Other(name)) => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// What an error about the unknown tag `name` offers instead: every known tag while there
    /// are few (the built-in sample), else the five nearest names (Microsoft's file has
    /// thousands), and where the members come from.
    pub fn known_tags_hint(&self, name: &str) -> String {
        let names = self.service_tag_names();
        let listed = if names.len() <= 20 {
            names.join(", ")
        } else {
            let nearest =
                super::super::service_tags::nearest_names(name, names.iter().map(String::as_str), 5);
            format!("the nearest of {} known tags: {}", names.len(), nearest.join(", "))
        };
        match self.service_tag_file() {
            Some(file) => format!("{listed} (from {})", file.label()),
            None => listed,
        }
    }

    /// The members of `VirtualNetwork` as seen from `vnet`: its address spaces, its connected
    /// on-premises spaces, those of the VNets peered with it whose peering from `vnet` allows
    /// virtual network access, and the host platform address 168.63.129.16.
    pub fn virtual_network_tag(&self, vnet: VnetId) -> AddrSet {
        AddrSet::from_nets(&self.virtual_network_prefixes(vnet))
    }

    /// The prefixes `VirtualNetwork` is made of in `vnet`, unmerged: address spaces, connected
    /// on-premises spaces, peered VNets' spaces, the host platform address.
    ///
    /// A peered VNet's spaces are left out when `vnet`'s own side of the peering sets
    /// `allowVirtualNetworkAccess: false`: Microsoft's peering page describes the setting on
    /// "This virtual network" ("The VirtualNetwork service tag for network security groups
    /// encompasses the virtual network and peered virtual network when this setting is set to
    /// Allow"), so the remote side's flag shapes only the remote VNet's tag. On-premises spaces
    /// reached through gateway transit stay, whatever the flag: Microsoft ties the setting to the
    /// peered virtual network's space only (model choice, docs/fidelity.md).
    ///
    /// Over a subnet peering only the remote peered subnets' prefixes join, in every subnet of
    /// `vnet` (model choice, docs/fidelity.md: Microsoft does not say; the tag follows what the
    /// peering routes and what Azure shows as the peering's `remoteAddressSpace`).
    pub fn virtual_network_prefixes(&self, vnet: VnetId) -> Vec<IpNet> {
        let v = &self.vnets[vnet.index()];
        let mut nets: Vec<IpNet> = v.address_space.clone();
        nets.extend(v.on_premises.iter().copied());
        if let Some(remote) = v.remote_gateway {
            nets.extend(self.vnets[remote.index()].on_premises.iter().copied());
        }
        for peer in v.peerings.iter().filter(|p| !v.peerings_without_access.contains(p)) {
            nets.extend(self.peered_prefixes(vnet, *peer));
        }
        nets.push(IpNet::from(PLATFORM_HOST_ADDRESS));
        nets
    }

    /// Whether `ip` is a member of `VirtualNetwork` for an NSG applied to `subnet` (or a NIC in
    /// it): [`Topology::virtual_network_prefixes`] plus the subnet's user-defined route prefixes,
    /// as [`Topology::resolve_context_for_subnet`] resolves the tag, without building the rest of
    /// the context.
    pub fn virtual_network_tag_contains(&self, subnet: SubnetId, ip: IpAddr) -> bool {
        self.virtual_network_prefixes(self.subnets[subnet.index()].vnet).iter().any(|n| n.contains(&ip))
            || self.route_tag_prefixes(subnet).any(|p| p.contains(&ip))
    }

    /// The prefixes of the user-defined routes of `subnet`'s route table that join its
    /// `VirtualNetwork` tag: every route's but those with next hop `None`.
    fn route_tag_prefixes(&self, subnet: SubnetId) -> impl Iterator<Item = IpNet> + '_ {
        self.subnets[subnet.index()]
            .route_table
            .into_iter()
            .flat_map(|rt| &self.route_tables[rt.0 as usize].routes)
            .filter(|r| r.next_hop != super::super::appliance::NextHop::None)
            .map(|r| r.prefix)
    }

    /// What every symbolic address means for an NSG applied to `subnet` or to a NIC in it.
    ///
    /// `VirtualNetwork` also holds the prefixes of the user-defined routes of the subnet's route
    /// table (Microsoft: "address prefixes used on user-defined routes"); with forced tunnelling
    /// (`0.0.0.0/0` to an appliance) it therefore covers everything, a known surprise.
    ///
    /// `Internet` does not shrink with those routes (model choice, docs/fidelity.md): Microsoft
    /// describes it as the public address space outside the virtual network and nowhere ties it
    /// to routes, so it stays the public space minus the VNet's own, peered and on-premises
    /// spaces. With forced tunnelling both tags then cover the public space, and a rule's
    /// priority decides, as it would in Azure: a user rule "deny Internet outbound" still matches.
    pub fn resolve_context_for_subnet(&self, subnet: SubnetId) -> ResolveContext {
        let s = &self.subnets[subnet.index()];
        let mut ctx = self.resolve_context(s.vnet);
        if s.route_table.is_some() {
            let udr: Vec<IpNet> = self.route_tag_prefixes(subnet).collect();
            ctx.virtual_network = ctx.virtual_network.union(&AddrSet::from_nets(&udr));
            for prefix in udr {
                if !ctx.virtual_network_prefixes.contains(&prefix) {
                    let host = ctx.virtual_network_prefixes.len().saturating_sub(1);
                    ctx.virtual_network_prefixes.insert(host, prefix);
                }
            }
        }
        ctx
    }

    /// The key under which NSGs applied to `subnet` (or its NICs) are compiled: NSGs resolve the
    /// same way in subnets of one VNet with the same route table.
    pub fn context_key(&self, subnet: SubnetId) -> (VnetId, Option<RouteTableId>) {
        let s = &self.subnets[subnet.index()];
        (s.vnet, s.route_table)
    }

    /// What every symbolic address means for an NSG applied inside `vnet`, before any
    /// user-defined route is considered.
    pub fn resolve_context(&self, vnet: VnetId) -> ResolveContext {
        let virtual_network = self.virtual_network_tag(vnet);
        // A peered VNet's spaces are routed over the peering, never to the Internet, so they stay
        // out of `Internet` even when `allowVirtualNetworkAccess: false` takes them out of
        // `VirtualNetwork` (model choice for a peer with public address space, docs/fidelity.md).
        let peers: Vec<IpNet> =
            self.vnets[vnet.index()].peerings.iter().flat_map(|p| self.peered_prefixes(vnet, *p)).collect();
        let internet = internet_space().subtract(&virtual_network).subtract(&AddrSet::from_nets(&peers));
        // An ASG's members are addresses of its VNet; seen from a VNet that neither is nor is
        // peered with it they are not those NICs (a separate routing domain may reuse the
        // addresses), so the ASG matches nothing here.
        let mut asg_members = HashMap::new();
        for (i, asg) in self.asgs.iter().enumerate() {
            let ips: Vec<IpNet> = if asg.vnet.is_none_or(|v| self.is_self_or_peer(vnet, v)) {
                let primaries = asg.members.iter().map(|n| self.nics[n.index()].private_ip);
                let secondaries =
                    asg.config_members.iter().map(|(n, c)| self.nics[n.index()].secondary[*c].private_ip);
                primaries.chain(secondaries).map(IpNet::from).collect()
            } else {
                Vec::new()
            };
            asg_members.insert(AsgId(i as u32), AddrSet::from_nets(&ips));
        }
        ResolveContext {
            virtual_network_prefixes: self.virtual_network_prefixes(vnet),
            virtual_network,
            internet,
            load_balancer: AddrSet::from_addr(PLATFORM_HOST_ADDRESS),
            tags: Arc::clone(&self.service_tags),
            asg_members,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::appliance::RouteTable;
    use super::super::tests::{ip, net, small};

    /// Audit: a 0.0.0.0/0 UDR emptied `Internet` (it was computed minus `VirtualNetwork`, which
    /// takes in UDR prefixes), so a rule "deny Internet outbound" never matched.
    #[test]
    fn forced_tunnelling_widens_virtual_network_but_leaves_internet_alone() {
        let (mut t, v, s) = small();
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        t.peer(v, spoke).expect("peer");
        let table = t
            .add_route_table(RouteTable {
                name: "to-fw".into(),
                routes: vec![super::super::super::appliance::Route {
                    name: "default".into(),
                    prefix: net("0.0.0.0/0"),
                    next_hop: super::super::super::appliance::NextHop::VirtualAppliance(ip("10.0.8.4")),
                }],
            })
            .expect("table");
        let before = t.resolve_context_for_subnet(s);
        t.set_subnet_route_table(s, table).expect("route table");
        let ctx = t.resolve_context_for_subnet(s);
        assert!(ctx.virtual_network.contains(ip("8.8.8.8")), "UDR prefixes are VirtualNetwork");
        assert_eq!(ctx.internet, before.internet, "Internet does not depend on routes");
        assert!(ctx.internet.contains(ip("8.8.8.8")));
        for private in ["10.0.1.4", "10.1.0.4", "168.63.129.16"] {
            assert!(!ctx.internet.contains(ip(private)), "{private}");
        }
    }

    #[test]
    fn virtual_network_tag_includes_peers_and_host() {
        let (mut t, hub, _) = small();
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        let other = t.add_vnet("other", vec![net("10.2.0.0/16")]).expect("vnet");
        t.peer(hub, spoke).expect("peer");
        let tag = t.virtual_network_tag(hub);
        assert!(tag.contains(ip("10.1.5.5")) && tag.contains(ip("168.63.129.16")));
        assert!(!tag.contains(ip("10.2.0.4")));
        // Peering is not transitive and is symmetric.
        assert!(t.virtual_network_tag(spoke).contains(ip("10.0.1.4")));
        assert!(!t.virtual_network_tag(other).contains(ip("10.0.1.4")));
        let overlapping = t.add_vnet("clash", vec![net("10.0.128.0/17")]).expect("vnet");
        assert!(t.peer(hub, overlapping).is_err());
    }
}

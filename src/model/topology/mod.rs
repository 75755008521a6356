//! The topology tables and their checked constructors.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use super::admin::{NetworkGroup, SecurityAdminConfiguration};
use super::appliance::{Bastion, Firewall, RouteTable, RouteTableId};
use super::service_tags::sample_service_tags;
use crate::ids::{AsgId, NicId, NsgId, PublicIpId, SubnetId, VmId, VnetId};
use crate::name::name_key;
use crate::net::AddrSet;
use crate::nsg::Nsg;

mod admin;
mod appliances;
mod error;
mod ip_configs;
mod load_balancers;
mod nat_gateways;
mod peering;
mod requirement;
mod tags;

pub use error::{SubnetPeeringProblem, TopologyError};
pub use ip_configs::IpConfig;
pub use nat_gateways::GATEWAY_SUBNET;
pub use requirement::{
    AdminRuleProblem, ApplianceProblem, LoadBalancerProblem, NatGatewayConflict, NatGatewayProblem,
    PeeringProblem, RequirementProblem, Resource,
};

/// Most application security groups one NIC (IP configuration) can join (Azure limits,
/// "Networking limits").
pub const MAX_ASGS_PER_NIC: usize = 20;

/// Azure's limit on subnets in one VNet (Azure subscription and service limits, networking
/// limits: "Subnets per virtual network: 3,000").
pub const MAX_SUBNETS_PER_VNET: usize = 3_000;

/// Azure's limit on private IP addresses in one VNet (Azure subscription and service limits,
/// networking limits: "Private IP addresses per virtual network: 65,536").
pub const MAX_PRIVATE_IPS_PER_VNET: usize = 65_536;

/// The reserved name of the subnet that holds Azure Bastion.
pub const BASTION_SUBNET: &str = "AzureBastionSubnet";
/// The reserved name of the subnet that holds Azure Firewall.
pub const FIREWALL_SUBNET: &str = "AzureFirewallSubnet";

/// A virtual network.
#[derive(Clone, Debug)]
pub struct Vnet {
    /// Name, unique in the topology.
    pub name: String,
    /// One or more address spaces.
    pub address_space: Vec<IpNet>,
    /// Its subnets.
    pub subnets: Vec<SubnetId>,
    /// VNets it is peered with (peering is not transitive).
    pub peerings: Vec<VnetId>,
    /// The peered VNets to which this VNet's side of the peering does not allow virtual network
    /// access (Azure's `allowVirtualNetworkAccess: false` on this VNet's peering resource): their
    /// address spaces are left out of this VNet's `VirtualNetwork` tag. Every entry is also in
    /// `peerings`.
    pub peerings_without_access: Vec<VnetId>,
    /// Subnet peerings (Azure's `peerCompleteVnets: false`): for a peered VNet, this VNet's
    /// subnets in the peering (Azure's `localSubnetNames` on this VNet's side). A peered VNet
    /// missing here is peered whole. Every VNet here is also in `peerings`.
    pub subnet_peerings: Vec<(VnetId, Vec<SubnetId>)>,
    /// On-premises address spaces connected through a VPN or ExpressRoute gateway: routed
    /// privately to the VNet and part of its `VirtualNetwork` tag.
    pub on_premises: Vec<IpNet>,
    /// The peered VNet whose gateway this VNet uses (gateway transit: that VNet's peering allows
    /// gateway transit and this VNet's uses remote gateways); its on-premises spaces are then
    /// routed to this VNet too.
    pub remote_gateway: Option<VnetId>,
}

/// A subnet of a VNet.
#[derive(Clone, Debug)]
pub struct Subnet {
    /// Name, unique in its VNet.
    pub name: String,
    /// The VNet it belongs to.
    pub vnet: VnetId,
    /// Its prefix, inside one of the VNet's address spaces.
    pub prefix: IpNet,
    /// The NSG associated with the subnet, if any.
    pub nsg: Option<NsgId>,
    /// The route table associated with the subnet, if any.
    pub route_table: Option<RouteTableId>,
    /// NICs in the subnet.
    pub nics: Vec<NicId>,
    /// Azure's `defaultOutboundAccess`: a VM without its own public IP reaches the Internet
    /// through an implicit Microsoft address. `false` makes it a private subnet.
    pub default_outbound_access: bool,
    /// The NAT gateway attached to the subnet, if any: its way to the Internet
    /// (`topology/nat_gateways.rs`, `path::outbound`).
    pub nat_gateway: Option<super::nat_gateway::NatGatewayId>,
}

/// A network interface. Its own address, public IP and ASGs are its primary IP configuration's;
/// further configurations are in `secondary` (see [`IpConfig`]).
#[derive(Clone, Debug)]
pub struct Nic {
    /// Name, unique in the topology.
    pub name: String,
    /// The subnet it is attached to.
    pub subnet: SubnetId,
    /// Its private address, inside the subnet.
    pub private_ip: IpAddr,
    /// The NSG associated with the NIC, if any.
    pub nsg: Option<NsgId>,
    /// Application security groups the NIC is a member of.
    pub asgs: Vec<AsgId>,
    /// Whether it is its VM's primary NIC.
    pub primary: bool,
    /// The VM it is attached to.
    pub vm: Option<VmId>,
    /// The public IP associated with it.
    pub public_ip: Option<PublicIpId>,
    /// Its secondary IP configurations (the fields above are its primary configuration).
    pub secondary: Vec<IpConfig>,
}

/// A VM's operating system, as JIT's defaults and the portal care about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    /// Linux.
    Linux,
    /// Windows.
    Windows,
}

/// A virtual machine.
#[derive(Clone, Debug)]
pub struct Vm {
    /// Name, unique in the topology.
    pub name: String,
    /// Operating system.
    pub os: Os,
    /// Deployed through the classic (ASM) model rather than Resource Manager.
    pub classic: bool,
    /// Its NICs; the primary one first.
    pub nics: Vec<NicId>,
    /// The resource group it is deployed in (JIT policies can be scoped to it).
    pub resource_group: String,
    /// The subscription it is deployed in (JIT policies can be scoped to it).
    pub subscription: String,
}

/// Public IP SKU: decides what happens with no NSG on the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicIpSku {
    /// Open to inbound traffic unless an NSG denies it (retired September 2025).
    Basic,
    /// Closed to inbound traffic unless an NSG allows it ("secure by default").
    Standard,
}

/// A public IP address resource.
#[derive(Clone, Debug)]
pub struct PublicIp {
    /// Name, unique in the topology.
    pub name: String,
    /// The address.
    pub address: IpAddr,
    /// SKU.
    pub sku: PublicIpSku,
    /// The NIC it is associated with, if any.
    pub nic: Option<NicId>,
    /// The NIC's IP configuration it is associated with: 0 the primary, `i` the NIC's
    /// `secondary[i - 1]`.
    pub nic_config: usize,
    /// The public IP prefix it was allocated from, if any.
    pub prefix: Option<super::nat_gateway::PublicIpPrefixId>,
}

/// An application security group.
#[derive(Clone, Debug)]
pub struct Asg {
    /// Name, unique in the topology.
    pub name: String,
    /// The VNet of its first member: every member must be in it.
    pub vnet: Option<VnetId>,
    /// Member NICs (by their primary IP configuration).
    pub members: Vec<NicId>,
    /// Member secondary IP configurations: the NIC and the index in its `secondary`.
    pub config_members: Vec<(NicId, usize)>,
}

/// The whole network: every table, plus the service tag members known to the scenario.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    vnets: Vec<Vnet>,
    subnets: Vec<Subnet>,
    nics: Vec<Nic>,
    vms: Vec<Vm>,
    public_ips: Vec<PublicIp>,
    nsgs: Vec<Nsg>,
    asgs: Vec<Asg>,
    /// Every known tag's members (sample, Microsoft's file, the scenario's): shared, as each
    /// resolve context and each copy of the topology holds them and Microsoft's file has
    /// thousands of tags.
    service_tags: std::sync::Arc<BTreeMap<String, AddrSet>>,
    custom_tags: Vec<String>,
    /// Microsoft's service-tag file the members come from, when one was given.
    tag_file: Option<std::sync::Arc<super::service_tags::ServiceTagFile>>,
    route_tables: Vec<RouteTable>,
    firewalls: Vec<Firewall>,
    bastions: Vec<Bastion>,
    /// Azure Load Balancers (`load_balancers.rs`).
    load_balancers: Vec<super::load_balancer::LoadBalancer>,
    /// Public IP prefixes and NAT gateways (`nat_gateways.rs`).
    public_ip_prefixes: Vec<super::nat_gateway::PublicIpPrefix>,
    nat_gateways: Vec<super::nat_gateway::NatGateway>,
    /// Virtual Network Manager's network groups and security admin configurations (`admin.rs`).
    network_groups: Vec<NetworkGroup>,
    admin_configurations: Vec<SecurityAdminConfiguration>,
    /// Address indexes: every flow looks its endpoints up, so these must not be linear scans.
    /// A private address maps to every NIC that has it: VNets that are not connected may use the
    /// same addresses (see `model::domain`), one NIC per VNet at most.
    nics_by_ip: HashMap<IpAddr, Vec<NicId>>,
    public_ip_by_addr: HashMap<IpAddr, PublicIpId>,
    /// Every VNet address space and on-premises space together: an address outside it (most of
    /// what `reach` and `exposure` ask about) is in no routing domain, answered without scanning
    /// the VNets.
    networked: AddrSet,
    /// Name indexes of the resources a scenario has thousands of: loading checks every new name
    /// against them, and a linear scan made loading 10,000 VMs quadratic.
    vm_by_name: HashMap<String, VmId>,
    nic_by_name: HashMap<String, NicId>,
    public_ip_by_name: HashMap<String, PublicIpId>,
    /// Scenario option `peering_access_blocks_all_traffic` (older documentation): a peering with
    /// `allowVirtualNetworkAccess: false` on either side carries no traffic at all.
    peering_access_blocks_all_traffic: bool,
    /// The NSGs whose `flushConnection` is true: a rule change re-evaluates their established
    /// connections (kept beside the NSGs rather than in [`Nsg`], whose literal every test builds).
    flushing_nsgs: std::collections::BTreeSet<NsgId>,
}

/// Whether two prefixes share an address.
pub(super) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The ranges Azure refuses in a VNet's address space (Microsoft's Virtual Network FAQ, "What
/// address ranges can I use in my virtual networks?").
const RESERVED_SPACES: [(&str, &str); 5] = [
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("168.63.129.16/32", "the Azure platform address used for DNS and health probes"),
];

/// The first range of [`RESERVED_SPACES`] that `space` overlaps.
fn reserved_overlap(space: &IpNet) -> Option<(IpNet, &'static str)> {
    RESERVED_SPACES.iter().find_map(|(text, what)| {
        let reserved: IpNet = text.parse().expect("the table holds valid prefixes");
        overlaps(space, &reserved).then_some((reserved, *what))
    })
}

/// Why Azure would refuse `prefix` as a subnet's size: IPv4 subnets are /2 to /29, IPv6 subnets
/// exactly /64 (Microsoft's Virtual Network FAQ, "How small and how large can virtual networks and
/// subnets be?").
fn subnet_size_problem(prefix: &IpNet) -> Option<(&'static str, &'static str)> {
    match prefix {
        IpNet::V4(n) if n.prefix_len() > 29 => Some((
            "smaller than Azure allows (the smallest IPv4 subnet is /29: Azure reserves five addresses in each subnet)",
            "a prefix length of /2 to /29",
        )),
        IpNet::V4(n) if n.prefix_len() < 2 => {
            Some(("larger than Azure allows (the largest IPv4 subnet is /2)", "a prefix length of /2 to /29"))
        }
        IpNet::V6(n) if n.prefix_len() != 64 => {
            Some(("not a /64 (Azure's IPv6 subnets are exactly /64)", "an IPv6 prefix of length /64"))
        }
        _ => None,
    }
}

impl Topology {
    /// An empty topology whose service tags are nsgsim's samples.
    pub fn new() -> Topology {
        Topology { service_tags: std::sync::Arc::new(sample_service_tags()), ..Topology::default() }
    }

    /// Adds a VNet.
    ///
    /// # Errors
    /// A duplicate name, overlapping address spaces, or a space that takes in a range Azure
    /// refuses (multicast, broadcast, loopback, link-local, the platform address).
    pub fn add_vnet(&mut self, name: &str, address_space: Vec<IpNet>) -> Result<VnetId, TopologyError> {
        if self.vnets.iter().any(|v| v.name.eq_ignore_ascii_case(name)) {
            return Err(TopologyError::DuplicateName { kind: "vnet", name: name.into() });
        }
        for (i, a) in address_space.iter().enumerate() {
            if let Some((reserved, what)) = reserved_overlap(a) {
                return Err(TopologyError::ReservedAddressSpace {
                    vnet: name.into(),
                    space: *a,
                    reserved,
                    what,
                });
            }
            if let Some(b) = address_space[..i].iter().find(|b| overlaps(a, b)) {
                return Err(TopologyError::AddressSpaceOverlap { vnet: name.into(), first: *b, second: *a });
            }
        }
        self.networked = self.networked.union(&AddrSet::from_nets(&address_space));
        self.vnets.push(Vnet {
            name: name.into(),
            address_space,
            subnets: Vec::new(),
            peerings: Vec::new(),
            peerings_without_access: Vec::new(),
            subnet_peerings: Vec::new(),
            on_premises: Vec::new(),
            remote_gateway: None,
        });
        Ok(VnetId(self.vnets.len() as u32 - 1))
    }

    /// Sets a subnet's `defaultOutboundAccess` (`false` = a private subnet).
    pub fn set_subnet_default_outbound_access(&mut self, subnet: SubnetId, enabled: bool) {
        self.subnets[subnet.index()].default_outbound_access = enabled;
    }

    /// Adds a subnet to a VNet.
    ///
    /// # Errors
    /// A duplicate name in the VNet, a size Azure does not allow, a prefix outside the VNet, or an
    /// overlap with a sibling.
    pub fn add_subnet(&mut self, vnet: VnetId, name: &str, prefix: IpNet) -> Result<SubnetId, TopologyError> {
        let v = &self.vnets[vnet.index()];
        if v.subnets.iter().any(|s| self.subnets[s.index()].name.eq_ignore_ascii_case(name)) {
            return Err(TopologyError::DuplicateName {
                kind: "subnet",
                name: format!("{}/{}", v.name, name),
            });
        }
        if v.subnets.len() >= MAX_SUBNETS_PER_VNET {
            return Err(TopologyError::VnetLimit {
                vnet: v.name.clone(),
                resource: format!("subnet '{name}'"),
                limit: MAX_SUBNETS_PER_VNET,
                what: "Subnets per virtual network: 3,000",
            });
        }
        if let Some((problem, valid)) = subnet_size_problem(&prefix) {
            return Err(TopologyError::SubnetSize { subnet: name.into(), prefix, problem, valid });
        }
        if !v.address_space.iter().any(|space| space.contains(&prefix)) {
            let spaces: Vec<String> = v.address_space.iter().map(|s| s.to_string()).collect();
            return Err(TopologyError::SubnetOutsideVnet {
                subnet: name.into(),
                prefix,
                vnet: v.name.clone(),
                spaces: spaces.join(", "),
            });
        }
        if let Some(other) =
            v.subnets.iter().map(|s| &self.subnets[s.index()]).find(|s| overlaps(&s.prefix, &prefix))
        {
            return Err(TopologyError::SubnetOverlap {
                vnet: v.name.clone(),
                first: other.name.clone(),
                first_prefix: other.prefix,
                second: name.into(),
                second_prefix: prefix,
            });
        }
        self.subnets.push(Subnet {
            name: name.into(),
            vnet,
            prefix,
            nsg: None,
            route_table: None,
            nics: Vec::new(),
            default_outbound_access: true,
            nat_gateway: None,
        });
        let id = SubnetId(self.subnets.len() as u32 - 1);
        self.vnets[vnet.index()].subnets.push(id);
        Ok(id)
    }

    /// Adds an NSG.
    ///
    /// # Errors
    /// A duplicate name.
    pub fn add_nsg(&mut self, nsg: Nsg) -> Result<NsgId, TopologyError> {
        if self.nsgs.iter().any(|n| n.name.eq_ignore_ascii_case(&nsg.name)) {
            return Err(TopologyError::DuplicateName { kind: "nsg", name: nsg.name });
        }
        self.nsgs.push(nsg);
        Ok(NsgId(self.nsgs.len() as u32 - 1))
    }

    /// Adds an application security group.
    ///
    /// # Errors
    /// A duplicate name.
    pub fn add_asg(&mut self, name: &str) -> Result<AsgId, TopologyError> {
        if self.asgs.iter().any(|a| a.name.eq_ignore_ascii_case(name)) {
            return Err(TopologyError::DuplicateName {
                kind: "application security group",
                name: name.into(),
            });
        }
        self.asgs.push(Asg {
            name: name.into(),
            vnet: None,
            members: Vec::new(),
            config_members: Vec::new(),
        });
        Ok(AsgId(self.asgs.len() as u32 - 1))
    }

    /// Adds a public IP.
    ///
    /// # Errors
    /// A duplicate name.
    pub fn add_public_ip(
        &mut self,
        name: &str,
        address: IpAddr,
        sku: PublicIpSku,
    ) -> Result<PublicIpId, TopologyError> {
        if self.public_ip_by_name.contains_key(&name_key(name)) {
            return Err(TopologyError::DuplicateName { kind: "public IP", name: name.into() });
        }
        if let Some(other) = self.public_ip_by_addr.get(&address).map(|p| &self.public_ips[p.index()]) {
            return Err(TopologyError::DuplicateName {
                kind: "public IP address",
                name: format!("{address} (also '{}')", other.name),
            });
        }
        self.public_ips.push(PublicIp {
            name: name.into(),
            address,
            sku,
            nic: None,
            nic_config: 0,
            prefix: None,
        });
        let id = PublicIpId(self.public_ips.len() as u32 - 1);
        self.public_ip_by_addr.insert(address, id);
        self.public_ip_by_name.insert(name_key(name), id);
        Ok(id)
    }

    /// Adds a VM with no NICs yet, in `placement` = (subscription, resource group).
    ///
    /// # Errors
    /// A duplicate name.
    pub fn add_vm(
        &mut self,
        name: &str,
        os: Os,
        classic: bool,
        placement: (&str, &str),
    ) -> Result<VmId, TopologyError> {
        if self.vm_by_name.contains_key(&name_key(name)) {
            return Err(TopologyError::DuplicateName { kind: "vm", name: name.into() });
        }
        let (subscription, resource_group) = placement;
        self.vms.push(Vm {
            name: name.into(),
            os,
            classic,
            nics: Vec::new(),
            resource_group: resource_group.into(),
            subscription: subscription.into(),
        });
        let id = VmId(self.vms.len() as u32 - 1);
        self.vm_by_name.insert(name_key(name), id);
        Ok(id)
    }

    /// Adds a NIC in `subnet` with `private_ip`, optionally attached to a VM.
    ///
    /// # Errors
    /// A duplicate name, an address outside the subnet, reserved or already used.
    pub fn add_nic(
        &mut self,
        name: &str,
        subnet: SubnetId,
        private_ip: IpAddr,
        vm: Option<VmId>,
    ) -> Result<NicId, TopologyError> {
        if self.nic_by_name.contains_key(&name_key(name)) {
            return Err(TopologyError::DuplicateName { kind: "nic", name: name.into() });
        }
        self.check_nic_address(name, subnet, private_ip)?;
        let primary = vm.is_some_and(|v| self.vms[v.index()].nics.is_empty());
        self.nics.push(Nic {
            name: name.into(),
            subnet,
            private_ip,
            nsg: None,
            asgs: Vec::new(),
            primary,
            vm,
            public_ip: None,
            secondary: Vec::new(),
        });
        let id = NicId(self.nics.len() as u32 - 1);
        self.nics_by_ip.entry(private_ip).or_default().push(id);
        self.nic_by_name.insert(name_key(name), id);
        self.subnets[subnet.index()].nics.push(id);
        if let Some(v) = vm {
            self.vms[v.index()].nics.push(id);
        }
        Ok(id)
    }

    /// Why Azure would refuse `private_ip` for NIC `name` in `subnet`: a subnet reserved for a
    /// service, an address outside the subnet or among the five Azure reserves, or one another
    /// NIC (or IP configuration) of the VNet already has.
    pub(super) fn check_nic_address(
        &self,
        name: &str,
        subnet: SubnetId,
        private_ip: IpAddr,
    ) -> Result<(), TopologyError> {
        let s = &self.subnets[subnet.index()];
        if let Some(service) = reserved_service(&s.name) {
            return Err(TopologyError::ReservedSubnet {
                subnet: s.name.clone(),
                service,
                resource: format!("nic '{name}'"),
            });
        }
        if !s.prefix.contains(&private_ip) {
            return Err(TopologyError::IpOutsideSubnet {
                nic: name.into(),
                ip: private_ip,
                subnet: s.name.clone(),
                prefix: s.prefix,
            });
        }
        if let Some((first_usable, last_usable)) = usable_range(&s.prefix)
            && (private_ip < first_usable || private_ip > last_usable)
        {
            return Err(TopologyError::IpReserved {
                nic: name.into(),
                ip: private_ip,
                prefix: s.prefix,
                first_usable,
                last_usable,
            });
        }
        let vnet = &self.vnets[s.vnet.index()];
        let used: usize = vnet.subnets.iter().map(|id| self.subnets[id.index()].nics.len()).sum();
        if used >= MAX_PRIVATE_IPS_PER_VNET {
            return Err(TopologyError::VnetLimit {
                vnet: vnet.name.clone(),
                resource: format!("nic '{name}' ({private_ip})"),
                limit: MAX_PRIVATE_IPS_PER_VNET,
                what: "Private IP addresses per virtual network: 65,536",
            });
        }
        // Unique within the VNet only: VNets that are not connected are separate routing domains
        // and may reuse addresses, as Azure lets them (see `model::domain`).
        if let Some(other) = self.nic_in_vnet(s.vnet, private_ip).map(|n| &self.nics[n.index()]) {
            return Err(TopologyError::DuplicateIp {
                ip: private_ip,
                first: other.name.clone(),
                second: name.into(),
                vnet: self.vnets[s.vnet.index()].name.clone(),
            });
        }
        Ok(())
    }

    /// Makes `nic` a member of `asg`.
    ///
    /// # Errors
    /// When the ASG's members are in another VNet.
    pub fn join_asg(&mut self, nic: NicId, asg: AsgId) -> Result<(), TopologyError> {
        let nic_vnet = self.subnets[self.nics[nic.index()].subnet.index()].vnet;
        self.check_asg_vnet(nic, asg, &self.nics[nic.index()].name)?;
        let a = &mut self.asgs[asg.index()];
        if !a.members.contains(&nic) {
            if self.nics[nic.index()].asgs.len() >= MAX_ASGS_PER_NIC {
                return Err(TopologyError::TooManyAsgsOnNic {
                    asg: a.name.clone(),
                    nic: self.nics[nic.index()].name.clone(),
                    limit: MAX_ASGS_PER_NIC,
                });
            }
            a.vnet = Some(nic_vnet);
            a.members.push(nic);
            self.nics[nic.index()].asgs.push(asg);
        }
        Ok(())
    }

    /// Why Azure would refuse `rule` for its application security groups: every ASG in its source
    /// and destination must have its members in one VNet (Microsoft, "Application security
    /// groups": "If you specify an application security group as the source and destination in a
    /// security rule, the network interfaces in both application security groups must exist in the
    /// same virtual network"). ASGs without members yet are not bound to a VNet.
    ///
    /// Returns the field (`source` or `destination`) and name of the ASG at fault, and the message.
    pub fn rule_asgs_vnet_conflict(
        &self,
        rule: &crate::nsg::SecurityRule,
    ) -> Option<(&'static str, String, String)> {
        use crate::nsg::AddressSpec;
        let mut seen: Option<(&str, VnetId)> = None;
        for (field, spec) in [("source", &rule.source), ("destination", &rule.destination)] {
            let AddressSpec::Asgs(ids) = spec else { continue };
            for id in ids {
                let asg = &self.asgs[id.index()];
                let Some(vnet) = asg.vnet else { continue };
                match seen {
                    Some((first, v)) if v != vnet => {
                        return Some((
                            field,
                            asg.name.clone(),
                            format!(
                                "rule '{}': application security groups '{first}' (vnet '{}') and '{}' (vnet '{}') are in different VNets; Azure requires the network interfaces of every ASG in a rule, source and destination, to be in one virtual network",
                                rule.name,
                                self.vnets[v.index()].name,
                                asg.name,
                                self.vnets[vnet.index()].name
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => seen = Some((&asg.name, vnet)),
                }
            }
        }
        None
    }

    /// Associates a public IP with a NIC.
    ///
    /// # Errors
    /// When the public IP is already associated with another resource (NIC, firewall or Bastion).
    pub fn associate_public_ip(&mut self, nic: NicId, public_ip: PublicIpId) -> Result<(), TopologyError> {
        let resource = format!("nic '{}'", self.nics[nic.index()].name);
        if let Some(holder) = self.public_ip_holder(public_ip).filter(|h| *h != resource) {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[public_ip.index()].name.clone(),
                holder,
                resource,
            });
        }
        self.public_ips[public_ip.index()].nic = Some(nic);
        self.nics[nic.index()].public_ip = Some(public_ip);
        Ok(())
    }

    /// The resource a public IP is associated with, written as errors name it (`nic 'x'`,
    /// `firewall 'y'`, `bastion 'z'`, `load balancer 'w'`, `NAT gateway 'v'`), or `None` when it
    /// is free.
    pub fn public_ip_holder(&self, public_ip: PublicIpId) -> Option<String> {
        if let Some(nic) = self.public_ips[public_ip.index()].nic {
            return Some(format!("nic '{}'", self.nics[nic.index()].name));
        }
        if let Some(f) = self.firewalls.iter().find(|f| f.public_ip == Some(public_ip)) {
            return Some(format!("firewall '{}'", f.name));
        }
        if let Some(b) = self.bastions.iter().find(|b| b.public_ip == Some(public_ip)) {
            return Some(format!("bastion '{}'", b.name));
        }
        self.load_balancer_holding(public_ip).or_else(|| self.nat_gateway_holding(public_ip))
    }

    /// Whether Azure lets an NSG be associated with `subnet`: not with `AzureFirewallSubnet`,
    /// where subnet-level NSGs "are disabled to ensure no service interruption" (Azure Firewall
    /// FAQ), whether or not a firewall is deployed there yet.
    ///
    /// # Errors
    /// [`TopologyError::Requirement`] for `AzureFirewallSubnet`.
    pub fn check_subnet_nsg(&self, subnet: SubnetId) -> Result<(), TopologyError> {
        let s = &self.subnets[subnet.index()];
        if s.name == FIREWALL_SUBNET {
            return Err(TopologyError::requirement(
                Resource::Subnet { vnet: self.vnets[s.vnet.index()].name.clone(), subnet: s.name.clone() },
                ApplianceProblem::NsgOnFirewallSubnet,
            ));
        }
        Ok(())
    }

    /// Associates (or with `None`, dissociates) an NSG with a subnet.
    ///
    /// # Errors
    /// As [`Topology::check_subnet_nsg`] when associating.
    pub fn set_subnet_nsg(&mut self, subnet: SubnetId, nsg: Option<NsgId>) -> Result<(), TopologyError> {
        if nsg.is_some() {
            self.check_subnet_nsg(subnet)?;
        }
        self.subnets[subnet.index()].nsg = nsg;
        Ok(())
    }

    /// Associates (or with `None`, dissociates) an NSG with a NIC.
    pub fn set_nic_nsg(&mut self, nic: NicId, nsg: Option<NsgId>) {
        self.nics[nic.index()].nsg = nsg;
    }

    /// Mutable access to an NSG's rules (the simulator edits them; callers validate).
    pub fn nsg_mut(&mut self, id: NsgId) -> &mut Nsg {
        &mut self.nsgs[id.index()]
    }

    /// A VNet.
    pub fn vnet(&self, id: VnetId) -> &Vnet {
        &self.vnets[id.index()]
    }
    /// A subnet.
    pub fn subnet(&self, id: SubnetId) -> &Subnet {
        &self.subnets[id.index()]
    }
    /// A NIC.
    pub fn nic(&self, id: NicId) -> &Nic {
        &self.nics[id.index()]
    }
    /// A VM.
    pub fn vm(&self, id: VmId) -> &Vm {
        &self.vms[id.index()]
    }
    /// A public IP.
    pub fn public_ip(&self, id: PublicIpId) -> &PublicIp {
        &self.public_ips[id.index()]
    }
    /// An NSG.
    pub fn nsg(&self, id: NsgId) -> &Nsg {
        &self.nsgs[id.index()]
    }
    /// An ASG.
    pub fn asg(&self, id: AsgId) -> &Asg {
        &self.asgs[id.index()]
    }

    /// Every VNet id.
    pub fn vnet_ids(&self) -> impl Iterator<Item = VnetId> + '_ {
        (0..self.vnets.len() as u32).map(VnetId)
    }
    /// Every subnet id.
    pub fn subnet_ids(&self) -> impl Iterator<Item = SubnetId> + '_ {
        (0..self.subnets.len() as u32).map(SubnetId)
    }
    /// Every NIC id.
    pub fn nic_ids(&self) -> impl Iterator<Item = NicId> + '_ {
        (0..self.nics.len() as u32).map(NicId)
    }
    /// Every VM id.
    pub fn vm_ids(&self) -> impl Iterator<Item = VmId> + '_ {
        (0..self.vms.len() as u32).map(VmId)
    }
    /// Sets an NSG's `flushConnection` (Azure's default is false).
    pub fn set_flush_connection(&mut self, id: NsgId, flush: bool) {
        if flush {
            self.flushing_nsgs.insert(id);
        } else {
            self.flushing_nsgs.remove(&id);
        }
    }
    /// Whether an NSG's `flushConnection` is true: "flows created from Network Security Group
    /// connections will be re-evaluated when rules are updated" (REST API).
    pub fn flushes_connections(&self, id: NsgId) -> bool {
        self.flushing_nsgs.contains(&id)
    }
    /// Every NSG id.
    pub fn nsg_ids(&self) -> impl Iterator<Item = NsgId> + '_ {
        (0..self.nsgs.len() as u32).map(NsgId)
    }
    /// Every public IP id.
    pub fn public_ip_ids(&self) -> impl Iterator<Item = PublicIpId> + '_ {
        (0..self.public_ips.len() as u32).map(PublicIpId)
    }

    /// The VNet with this name.
    pub fn vnet_by_name(&self, name: &str) -> Option<VnetId> {
        self.vnets.iter().position(|v| v.name.eq_ignore_ascii_case(name)).map(|i| VnetId(i as u32))
    }
    /// The subnet `name` of VNet `vnet`.
    pub fn subnet_by_name(&self, vnet: VnetId, name: &str) -> Option<SubnetId> {
        self.vnets[vnet.index()]
            .subnets
            .iter()
            .copied()
            .find(|s| self.subnets[s.index()].name.eq_ignore_ascii_case(name))
    }
    /// The VM with this name.
    pub fn vm_by_name(&self, name: &str) -> Option<VmId> {
        self.vm_by_name.get(&name_key(name)).copied()
    }
    /// The NIC with this name.
    pub fn nic_by_name(&self, name: &str) -> Option<NicId> {
        self.nic_by_name.get(&name_key(name)).copied()
    }
    /// The NSG with this name.
    pub fn nsg_by_name(&self, name: &str) -> Option<NsgId> {
        self.nsgs.iter().position(|v| v.name.eq_ignore_ascii_case(name)).map(|i| NsgId(i as u32))
    }
    /// The ASG with this name.
    pub fn asg_by_name(&self, name: &str) -> Option<AsgId> {
        self.asgs.iter().position(|v| v.name.eq_ignore_ascii_case(name)).map(|i| AsgId(i as u32))
    }
    /// The public IP with this name.
    pub fn public_ip_by_name(&self, name: &str) -> Option<PublicIpId> {
        self.public_ip_by_name.get(&name_key(name)).copied()
    }

    /// The NIC whose private address is `ip`, when exactly one NIC has it. `None` when none does,
    /// and when NICs of separate routing domains share it: such an address means a NIC only as
    /// seen from somewhere ([`Topology::nic_in_vnet`], [`Topology::vnet_seen_from`]).
    pub fn nic_by_private_ip(&self, ip: IpAddr) -> Option<NicId> {
        match self.nics_with_ip(ip) {
            [only] => Some(*only),
            _ => None,
        }
    }
    /// Whether a VNet's address space or an on-premises space behind a gateway holds `ip` (one
    /// lookup, not a scan of the VNets).
    pub fn is_networked(&self, ip: IpAddr) -> bool {
        self.networked.contains(ip)
    }
    /// Every NIC whose private address is `ip`, in the order they were added: one per VNet at
    /// most, so more than one only when VNets that are not connected reuse the address.
    pub fn nics_with_ip(&self, ip: IpAddr) -> &[NicId] {
        self.nics_by_ip.get(&ip).map_or(&[], Vec::as_slice)
    }
    /// The NIC of `vnet` whose private address is `ip`.
    pub fn nic_in_vnet(&self, vnet: VnetId, ip: IpAddr) -> Option<NicId> {
        self.nics_with_ip(ip).iter().copied().find(|n| self.vnet_of_nic(*n) == vnet)
    }
    /// The public IP resource whose address is `ip`.
    pub fn public_ip_by_address(&self, ip: IpAddr) -> Option<PublicIpId> {
        self.public_ip_by_addr.get(&ip).copied()
    }
    /// The VNet a NIC is in.
    pub fn vnet_of_nic(&self, nic: NicId) -> VnetId {
        self.subnets[self.nics[nic.index()].subnet.index()].vnet
    }
    /// The VM's primary NIC.
    pub fn primary_nic(&self, vm: VmId) -> Option<NicId> {
        let nics = &self.vms[vm.index()].nics;
        nics.iter().copied().find(|n| self.nics[n.index()].primary).or_else(|| nics.first().copied())
    }

    /// The subnets and NICs an NSG is associated with.
    pub fn associations(&self, nsg: NsgId) -> (Vec<SubnetId>, Vec<NicId>) {
        let subnets = self.subnet_ids().filter(|s| self.subnets[s.index()].nsg == Some(nsg)).collect();
        let nics = self.nic_ids().filter(|n| self.nics[n.index()].nsg == Some(nsg)).collect();
        (subnets, nics)
    }
}

/// The service a subnet name is reserved for.
fn reserved_service(name: &str) -> Option<&'static str> {
    match name {
        BASTION_SUBNET => Some("Azure Bastion"),
        FIREWALL_SUBNET => Some("Azure Firewall"),
        _ => None,
    }
}

/// The first and last address Azure lets a NIC use in `prefix`: it reserves the network address,
/// .1 (gateway), .2 and .3 (DNS) and the broadcast address. `None` for prefixes too small to
/// apply the rule to (Azure's smallest IPv4 subnet is /29).
fn usable_range(prefix: &IpNet) -> Option<(IpAddr, IpAddr)> {
    match prefix {
        IpNet::V4(n) if n.prefix_len() <= 29 => {
            let first = u32::from(n.network()) + 4;
            let last = u32::from(n.broadcast()) - 1;
            Some((
                IpAddr::from(std::net::Ipv4Addr::from(first)),
                IpAddr::from(std::net::Ipv4Addr::from(last)),
            ))
        }
        IpNet::V6(n) if n.prefix_len() <= 124 => {
            let first = u128::from(n.network()) + 4;
            let last = u128::from(n.broadcast());
            Some((
                IpAddr::from(std::net::Ipv6Addr::from(first)),
                IpAddr::from(std::net::Ipv6Addr::from(last)),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn net(s: &str) -> IpNet {
        s.parse().expect("valid literal")
    }
    pub(super) fn ip(s: &str) -> IpAddr {
        s.parse().expect("valid literal")
    }

    pub(super) fn small() -> (Topology, VnetId, SubnetId) {
        let mut t = Topology::new();
        let v = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "web", net("10.0.1.0/24")).expect("subnet");
        (t, v, s)
    }

    /// Issue 19 item 9: Azure's networking limits page, "Subnets per virtual network: 3,000" and
    /// "Private IP addresses per virtual network: 65,536": the one past the limit is refused,
    /// naming the VNet and quoting the limit.
    #[test]
    fn a_vnet_holds_at_most_3000_subnets_and_65536_private_addresses() {
        let mut t = Topology::new();
        let v = t.add_vnet("big", vec![net("10.0.0.0/8")]).expect("vnet");
        for i in 0..MAX_SUBNETS_PER_VNET as u32 {
            let prefix =
                IpNet::new(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i * 8)), 29).expect("prefix");
            t.add_subnet(v, &format!("s{i}"), prefix).expect("within the limit");
        }
        let e = t.add_subnet(v, "one-more", net("10.255.0.0/29")).expect_err("the 3,001st subnet");
        assert!(
            matches!(
                e,
                TopologyError::VnetLimit { limit: 3000, what: "Subnets per virtual network: 3,000", .. }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("\"Subnets per virtual network: 3,000\""), "{e}");

        let mut t = Topology::new();
        let v = t.add_vnet("big", vec![net("10.0.0.0/8")]).expect("vnet");
        let a = t.add_subnet(v, "a", net("10.1.0.0/16")).expect("subnet");
        let b = t.add_subnet(v, "b", net("10.2.0.0/16")).expect("subnet");
        let mut added = 0usize;
        'fill: for (subnet, base) in [(a, 0x0a01_0000u32), (b, 0x0a02_0000u32)] {
            for host in 4..65_535u32 {
                if added == MAX_PRIVATE_IPS_PER_VNET {
                    break 'fill;
                }
                let ip = IpAddr::from(std::net::Ipv4Addr::from(base + host));
                t.add_nic(&format!("n{added}"), subnet, ip, None).expect("within the limit");
                added += 1;
            }
        }
        let e = t.add_nic("one-more", b, ip("10.2.255.250"), None).expect_err("the 65,537th address");
        assert!(
            matches!(
                e,
                TopologyError::VnetLimit {
                    limit: 65_536,
                    what: "Private IP addresses per virtual network: 65,536",
                    ..
                }
            ),
            "{e}"
        );
        // Another VNet has its own allowance.
        let other = t.add_vnet("other", vec![net("192.168.0.0/16")]).expect("vnet");
        let s = t.add_subnet(other, "s", net("192.168.1.0/24")).expect("subnet");
        t.add_nic("elsewhere", s, ip("192.168.1.4"), None).expect("another VNet's address");
    }

    /// Issue 19 item 3: Azure names are case-insensitive, so a second definition that differs
    /// only in case is a duplicate, and lookups find the definition in any case.
    #[test]
    fn names_are_found_in_any_case_and_unique_without_regard_to_case() {
        let (mut t, v, s) = small();
        let vm = t.add_vm("vm-Web", Os::Linux, false, ("sub", "rg")).expect("vm");
        t.add_nic("vm-web-nic", s, ip("10.0.1.4"), Some(vm)).expect("nic");
        assert_eq!(t.vm_by_name("VM-WEB"), Some(vm));
        assert!(t.nic_by_name("VM-Web-NIC").is_some());
        assert_eq!(t.vnet_by_name("HUB"), Some(v));
        assert_eq!(t.subnet_by_name(v, "Web"), Some(s));
        assert!(matches!(
            t.add_vm("VM-WEB", Os::Linux, false, ("sub", "rg")),
            Err(TopologyError::DuplicateName { .. })
        ));
        assert!(matches!(
            t.add_vnet("Hub", vec![net("10.9.0.0/16")]),
            Err(TopologyError::DuplicateName { .. })
        ));
        assert!(matches!(
            t.add_subnet(v, "WEB", net("10.0.2.0/24")),
            Err(TopologyError::DuplicateName { .. })
        ));
    }

    /// Audit (fidelity, F4): a NIC joins at most 20 ASGs; a rule's ASGs (source and destination)
    /// must all have their members in one VNet.
    #[test]
    fn asg_limits_and_one_vnet_per_rule() {
        use crate::nsg::{
            Access, AddressSpec, Direction, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule,
        };
        let (mut t, _, s) = small();
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), None).expect("nic");
        let asgs: Vec<AsgId> = (0..21).map(|i| t.add_asg(&format!("asg{i}")).expect("asg")).collect();
        for &a in &asgs[..20] {
            t.join_asg(nic, a).expect("20 ASGs are allowed");
        }
        t.join_asg(nic, asgs[0]).expect("joining again changes nothing");
        let e = t.join_asg(nic, asgs[20]).expect_err("the 21st");
        assert!(matches!(e, TopologyError::TooManyAsgsOnNic { limit: 20, .. }), "{e}");
        assert!(
            e.to_string().contains("Application security groups per IP configuration, per NIC: 20"),
            "{e}"
        );
        assert_eq!(t.asg(asgs[20]).vnet, None, "a refused join binds the ASG to no VNet");

        let other = t.add_vnet("spoke", vec![net("10.9.0.0/16")]).expect("vnet");
        let far = t.add_subnet(other, "db", net("10.9.1.0/24")).expect("subnet");
        let far_nic = t.add_nic("far-nic", far, ip("10.9.1.4"), None).expect("nic");
        let db = t.add_asg("db").expect("asg");
        t.join_asg(far_nic, db).expect("join");
        let rule = |source: Vec<AsgId>, destination: Vec<AsgId>| SecurityRule {
            name: "r".into(),
            priority: Priority(100),
            direction: Direction::Inbound,
            access: Access::Allow,
            protocol: RuleProtocol::Tcp,
            source: AddressSpec::Asgs(source),
            source_ports: PortSpec::any(),
            destination: AddressSpec::Asgs(destination),
            destination_ports: PortSpec::single(1433),
            description: String::new(),
            kind: RuleKind::Security,
        };
        let (field, asg, message) =
            t.rule_asgs_vnet_conflict(&rule(vec![asgs[0]], vec![db])).expect("different VNets");
        assert_eq!((field, asg.as_str()), ("destination", "db"));
        assert!(message.contains("'asg0' (vnet 'hub') and 'db' (vnet 'spoke')"), "{message}");
        assert!(t.rule_asgs_vnet_conflict(&rule(vec![asgs[0], db], vec![asgs[1]])).is_some(), "one field");
        assert_eq!(t.rule_asgs_vnet_conflict(&rule(vec![asgs[0]], vec![asgs[1]])), None);
        assert_eq!(
            t.rule_asgs_vnet_conflict(&rule(vec![asgs[20]], vec![db])),
            None,
            "an empty ASG has no VNet"
        );
    }

    #[test]
    fn subnet_checks() {
        let (mut t, v, _) = small();
        assert!(matches!(
            t.add_subnet(v, "x", net("10.1.0.0/24")),
            Err(TopologyError::SubnetOutsideVnet { .. })
        ));
        assert!(matches!(
            t.add_subnet(v, "y", net("10.0.1.128/25")),
            Err(TopologyError::SubnetOverlap { .. })
        ));
        assert!(matches!(
            t.add_subnet(v, "web", net("10.0.2.0/24")),
            Err(TopologyError::DuplicateName { .. })
        ));
        assert!(t.add_subnet(v, "db", net("10.0.2.0/24")).is_ok());
    }

    /// Microsoft's VNet FAQ: IPv4 subnets /2 to /29, IPv6 subnets exactly /64 (audit: /30 and /32
    /// were accepted).
    #[test]
    fn subnet_sizes_are_azures() {
        let (mut t, v, _) = small();
        for too_small in ["10.0.9.0/30", "10.0.9.4/32", "10.0.9.0/31"] {
            let e = t.add_subnet(v, "x", net(too_small)).expect_err(too_small);
            assert!(
                matches!(e, TopologyError::SubnetSize { valid: "a prefix length of /2 to /29", .. }),
                "{too_small}: {e}"
            );
        }
        assert!(t.add_subnet(v, "smallest", net("10.0.9.0/29")).is_ok());
        let big = t.add_vnet("big", vec![net("0.0.0.0/2")]).expect("a /2 space");
        assert!(t.add_subnet(big, "largest", net("0.0.0.0/2")).is_ok());
        let v6 = t.add_vnet("v6", vec![net("fd00::/48")]).expect("vnet");
        assert!(t.add_subnet(v6, "ok", net("fd00::/64")).is_ok());
        for wrong in ["fd00:0:0:1::/80", "fd00:0:0:2::/63"] {
            let e = t.add_subnet(v6, "x", net(wrong)).expect_err(wrong);
            assert!(matches!(e, TopologyError::SubnetSize { prefix, .. } if prefix == net(wrong)), "{e}");
            assert!(e.to_string().contains("exactly /64"), "{e}");
        }
    }

    /// Microsoft's VNet FAQ lists ranges an address space may not take in (audit: 0.0.0.0/0 was
    /// accepted).
    #[test]
    fn address_spaces_may_not_take_in_reserved_ranges() {
        let mut t = Topology::new();
        for (space, reserved) in [
            ("0.0.0.0/0", "224.0.0.0/4"),
            ("224.1.0.0/16", "224.0.0.0/4"),
            ("255.255.255.255/32", "255.255.255.255/32"),
            ("127.0.0.0/16", "127.0.0.0/8"),
            ("169.254.0.0/24", "169.254.0.0/16"),
            ("168.63.0.0/16", "168.63.129.16/32"),
        ] {
            let e = t.add_vnet("x", vec![net("10.0.0.0/16"), net(space)]).expect_err(space);
            assert!(
                matches!(&e, TopologyError::ReservedAddressSpace { space: s, reserved: r, .. } if *s == net(space) && *r == net(reserved)),
                "{space}: {e}"
            );
        }
        assert!(t.add_vnet("public", vec![net("20.0.0.0/16")]).is_ok(), "public ranges are allowed");
        assert!(t.add_vnet("near", vec![net("168.63.128.0/24")]).is_ok());
    }

    #[test]
    fn nic_address_checks() {
        let (mut t, _, s) = small();
        assert!(matches!(
            t.add_nic("a", s, ip("10.0.2.4"), None),
            Err(TopologyError::IpOutsideSubnet { .. })
        ));
        assert!(matches!(t.add_nic("a", s, ip("10.0.1.1"), None), Err(TopologyError::IpReserved { .. })));
        assert!(matches!(t.add_nic("a", s, ip("10.0.1.255"), None), Err(TopologyError::IpReserved { .. })));
        for reserved in ["10.0.1.0", "10.0.1.2", "10.0.1.3"] {
            assert!(
                matches!(t.add_nic("a", s, ip(reserved), None), Err(TopologyError::IpReserved { .. })),
                "{reserved}"
            );
        }
        assert!(t.add_nic("a", s, ip("10.0.1.4"), None).is_ok());
        assert!(matches!(t.add_nic("b", s, ip("10.0.1.4"), None), Err(TopologyError::DuplicateIp { .. })));
    }

    /// Azure associates a public IP with one resource only (audit: a Bastion, a firewall and a
    /// NIC could share one).
    #[test]
    fn a_public_ip_serves_one_resource_only() {
        let (mut t, v, s) = small();
        t.add_subnet(v, FIREWALL_SUBNET, net("10.0.8.0/26")).expect("subnet");
        t.add_subnet(v, BASTION_SUBNET, net("10.0.9.0/26")).expect("subnet");
        let pip = t.add_public_ip("pip", ip("20.0.0.1"), PublicIpSku::Standard).expect("pip");
        let nic = t.add_nic("nic", s, ip("10.0.1.4"), None).expect("nic");
        let other = t.add_nic("other", s, ip("10.0.1.5"), None).expect("nic");
        assert_eq!(t.public_ip_holder(pip), None);
        t.associate_public_ip(nic, pip).expect("first use");
        t.associate_public_ip(nic, pip).expect("the same NIC again is no change");
        assert_eq!(t.public_ip_holder(pip).as_deref(), Some("nic 'nic'"));
        let firewall = |name: &str, public_ip| Firewall {
            name: name.into(),
            subnet: SubnetId(0),
            private_ip: ip("10.0.8.4"),
            public_ip,
            mode: crate::model::FirewallMode::Classic,
            groups: Vec::new(),
            legacy_dnat: false,
            private_ranges: crate::model::SnatPrivateRanges::default(),
        };
        let e = t.associate_public_ip(other, pip).expect_err("a second NIC");
        assert_eq!(
            e.to_string(),
            "public IP 'pip' is already associated with nic 'nic'; Azure associates a public IP with one resource only, so give nic 'other' a public IP of its own"
        );
        let e = t.add_firewall(firewall("fw", Some(pip)), v).expect_err("a firewall after a NIC");
        assert!(
            matches!(&e, TopologyError::PublicIpInUse { holder, resource, .. } if holder == "nic 'nic'" && resource == "firewall 'fw'"),
            "{e}"
        );
        let e = t.add_bastion("bas", v, Some(pip)).expect_err("a Bastion after a NIC");
        assert!(matches!(&e, TopologyError::PublicIpInUse { holder, .. } if holder == "nic 'nic'"), "{e}");

        let fw_pip = t.add_public_ip("fw-pip", ip("20.0.0.2"), PublicIpSku::Standard).expect("pip");
        t.add_firewall(firewall("fw", Some(fw_pip)), v).expect("a free public IP");
        let e = t.add_bastion("bas", v, Some(fw_pip)).expect_err("a Bastion after a firewall");
        assert!(
            matches!(&e, TopologyError::PublicIpInUse { holder, .. } if holder == "firewall 'fw'"),
            "{e}"
        );
        let e = t.associate_public_ip(other, fw_pip).expect_err("a NIC after a firewall");
        assert!(
            matches!(&e, TopologyError::PublicIpInUse { holder, .. } if holder == "firewall 'fw'"),
            "{e}"
        );

        let bastion_pip = t.add_public_ip("bas-pip", ip("20.0.0.3"), PublicIpSku::Standard).expect("pip");
        t.add_bastion("bas", v, Some(bastion_pip)).expect("a free public IP");
        let e =
            t.add_firewall(firewall("fw2", Some(bastion_pip)), v).expect_err("a firewall after a Bastion");
        assert!(
            matches!(&e, TopologyError::PublicIpInUse { holder, .. } if holder == "bastion 'bas'"),
            "{e}"
        );
        let e = t.associate_public_ip(other, bastion_pip).expect_err("a NIC after a Bastion");
        assert!(
            matches!(&e, TopologyError::PublicIpInUse { holder, .. } if holder == "bastion 'bas'"),
            "{e}"
        );
    }
}

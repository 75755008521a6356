//! The topology tables and their checked constructors.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use super::appliance::{Bastion, BastionId, Firewall, FirewallId, RouteTable, RouteTableId};
use super::service_tags::{PLATFORM_HOST_ADDRESS, internet_space, sample_service_tags};
use crate::ids::{AsgId, NicId, NsgId, PublicIpId, SubnetId, VmId, VnetId};
use crate::net::AddrSet;
use crate::nsg::{Nsg, ResolveContext};

/// Most application security groups one NIC (IP configuration) can join (Azure limits,
/// "Networking limits").
pub const MAX_ASGS_PER_NIC: usize = 20;

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
}

/// A network interface (its primary IP configuration).
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
}

/// An application security group.
#[derive(Clone, Debug)]
pub struct Asg {
    /// Name, unique in the topology.
    pub name: String,
    /// The VNet of its first member: every member must be in it.
    pub vnet: Option<VnetId>,
    /// Member NICs.
    pub members: Vec<NicId>,
}

/// Why a topology is not one Azure would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// A name used twice for one kind of resource.
    #[error("{kind} name '{name}' is used twice; names must be unique")]
    DuplicateName {
        /// Kind of resource.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// Two address spaces of one VNet overlap.
    #[error("vnet '{vnet}': address spaces {first} and {second} overlap")]
    AddressSpaceOverlap {
        /// The VNet.
        vnet: String,
        /// One space.
        first: IpNet,
        /// The other.
        second: IpNet,
    },
    /// An address space that takes in a range Azure does not allow in a VNet.
    #[error(
        "vnet '{vnet}': address space {space} includes {reserved} ({what}), which Azure does not allow in a virtual network; valid: a range outside 224.0.0.0/4, 255.255.255.255/32, 127.0.0.0/8, 169.254.0.0/16 and 168.63.129.16/32, such as a private RFC 1918 range like 10.0.0.0/16"
    )]
    ReservedAddressSpace {
        /// The VNet.
        vnet: String,
        /// The address space given.
        space: IpNet,
        /// The disallowed range it overlaps.
        reserved: IpNet,
        /// What that range is.
        what: &'static str,
    },
    /// A subnet whose size Azure does not allow.
    #[error("subnet '{subnet}': prefix {prefix} is {problem}; valid: {valid}")]
    SubnetSize {
        /// The subnet.
        subnet: String,
        /// Its prefix.
        prefix: IpNet,
        /// What is wrong.
        problem: &'static str,
        /// What would be valid.
        valid: &'static str,
    },
    /// A subnet prefix outside the VNet's address spaces.
    #[error(
        "subnet '{subnet}': prefix {prefix} is outside vnet '{vnet}' address space {spaces}; valid: a prefix inside it"
    )]
    SubnetOutsideVnet {
        /// The subnet.
        subnet: String,
        /// Its prefix.
        prefix: IpNet,
        /// The VNet.
        vnet: String,
        /// The VNet's spaces, comma separated.
        spaces: String,
    },
    /// Two subnets of a VNet overlap.
    #[error(
        "subnet '{second}' ({second_prefix}) overlaps subnet '{first}' ({first_prefix}) in vnet '{vnet}'"
    )]
    SubnetOverlap {
        /// The VNet.
        vnet: String,
        /// The earlier subnet.
        first: String,
        /// Its prefix.
        first_prefix: IpNet,
        /// The later subnet.
        second: String,
        /// Its prefix.
        second_prefix: IpNet,
    },
    /// A NIC address outside its subnet.
    #[error(
        "nic '{nic}': private IP {ip} is outside subnet '{subnet}' ({prefix}); valid: an address inside {prefix}"
    )]
    IpOutsideSubnet {
        /// The NIC.
        nic: String,
        /// The address.
        ip: IpAddr,
        /// The subnet.
        subnet: String,
        /// Its prefix.
        prefix: IpNet,
    },
    /// A NIC address Azure reserves (network, .1 gateway, .2-.3 DNS, broadcast).
    #[error(
        "nic '{nic}': private IP {ip} is reserved by Azure in subnet {prefix} (the first four addresses and the last); valid: {first_usable}..{last_usable}"
    )]
    IpReserved {
        /// The NIC.
        nic: String,
        /// The address.
        ip: IpAddr,
        /// The subnet prefix.
        prefix: IpNet,
        /// First usable address.
        first_usable: IpAddr,
        /// Last usable address.
        last_usable: IpAddr,
    },
    /// Two NICs with one address in one VNet.
    #[error("nic '{second}': private IP {ip} is already used by nic '{first}' in vnet '{vnet}'")]
    DuplicateIp {
        /// The address.
        ip: IpAddr,
        /// The first NIC.
        first: String,
        /// The second NIC.
        second: String,
        /// The VNet both are in.
        vnet: String,
    },
    /// An ASG with members in two VNets.
    #[error(
        "nic '{nic}' cannot join application security group '{asg}': its members are in vnet '{asg_vnet}', the NIC is in vnet '{nic_vnet}' (all members must share one VNet)"
    )]
    AsgVnetMismatch {
        /// The ASG.
        asg: String,
        /// The NIC.
        nic: String,
        /// The ASG's VNet.
        asg_vnet: String,
        /// The NIC's VNet.
        nic_vnet: String,
    },
    /// A NIC in more application security groups than Azure allows.
    #[error(
        "nic '{nic}' cannot join application security group '{asg}': it is already in {limit}, and Azure allows at most {limit} per NIC (Azure limits, Networking limits: \"Application security groups per IP configuration, per NIC: 20\")"
    )]
    TooManyAsgsOnNic {
        /// The ASG.
        asg: String,
        /// The NIC.
        nic: String,
        /// The limit.
        limit: usize,
    },
    /// Peering two VNets whose spaces overlap.
    #[error("vnets '{first}' and '{second}' cannot be peered: their address spaces overlap")]
    PeeringOverlap {
        /// One VNet.
        first: String,
        /// The other.
        second: String,
    },
    /// Peering two VNets when one's space overlaps a VNet already peered with the other (Azure's
    /// `VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`): the VNets one VNet is peered with must
    /// hold distinct addresses, or its routes would send one address two ways.
    #[error(
        "vnets '{first}' and '{second}' cannot be peered: {ours} of vnet '{first}' overlaps {theirs} of vnet '{third}', which is already peered with vnet '{second}' (Azure refuses it: VnetAddressSpaceOverlapsWithAlreadyPeeredVnet); the VNets peered with one VNet must have distinct address spaces"
    )]
    PeeringOverlapsPeered {
        /// The VNet whose space overlaps.
        first: String,
        /// The VNet it would be peered with.
        second: String,
        /// The VNet already peered with `second`.
        third: String,
        /// The prefix of `first` that the peering would route.
        ours: IpNet,
        /// The prefix of `third` that `second` already routes over their peering.
        theirs: IpNet,
    },
    /// A resource placed in a subnet reserved for Azure Bastion or Azure Firewall.
    #[error(
        "subnet '{subnet}' is reserved for {service} and can't contain other resources; put {resource} in another subnet"
    )]
    ReservedSubnet {
        /// The subnet.
        subnet: String,
        /// The service it is reserved for.
        service: &'static str,
        /// The resource that was put there.
        resource: String,
    },
    /// A service whose dedicated subnet is missing or wrongly sized.
    #[error("{service} '{name}' needs a subnet named '{subnet}' {requirement} in vnet '{vnet}'{found}")]
    ServiceSubnet {
        /// Azure Bastion or Azure Firewall.
        service: &'static str,
        /// The resource.
        name: String,
        /// The required subnet name.
        subnet: &'static str,
        /// The size requirement.
        requirement: &'static str,
        /// The VNet.
        vnet: String,
        /// What was found instead.
        found: String,
    },
    /// A route table on the Bastion subnet.
    #[error(
        "route table '{table}' cannot be associated with AzureBastionSubnet: UDR isn't supported on an Azure Bastion subnet"
    )]
    UdrOnBastionSubnet {
        /// The route table.
        table: String,
    },
    /// A VNet peered with itself.
    #[error("vnet '{vnet}' cannot be peered with itself")]
    SelfPeering {
        /// The VNet.
        vnet: String,
    },
    /// A resource that breaks one of Azure's requirements for it.
    #[error("{resource}: {problem}")]
    Requirement {
        /// The resource, e.g. `firewall 'hub-fw'`.
        resource: String,
        /// What is wrong and what would be valid.
        problem: String,
    },
    /// A public IP associated with a second resource: Azure associates a public IP address
    /// resource with one resource only (a NIC's IP configuration, a firewall, a Bastion host).
    #[error(
        "public IP '{public_ip}' is already associated with {holder}; Azure associates a public IP with one resource only, so give {resource} a public IP of its own"
    )]
    PublicIpInUse {
        /// The public IP.
        public_ip: String,
        /// The resource that has it: `nic 'x'`, `firewall 'y'` or `bastion 'z'`.
        holder: String,
        /// The resource that asked for it, written the same way.
        resource: String,
    },
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
    service_tags: BTreeMap<String, AddrSet>,
    custom_tags: Vec<String>,
    route_tables: Vec<RouteTable>,
    firewalls: Vec<Firewall>,
    bastions: Vec<Bastion>,
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
        Topology { service_tags: sample_service_tags(), ..Topology::default() }
    }

    /// Defines (or redefines) a service tag's members.
    pub fn define_service_tag(&mut self, name: &str, members: AddrSet) {
        self.service_tags.insert(name.to_string(), members);
        self.custom_tags.push(name.to_string());
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
        self.service_tags.contains_key(name) && !self.custom_tags.iter().any(|t| t == name)
    }

    /// Names of every known tag.
    pub fn service_tag_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            ["VirtualNetwork", "Internet", "AzureLoadBalancer"].map(String::from).to_vec();
        names.extend(self.service_tags.keys().cloned());
        names
    }

    /// Adds a VNet.
    ///
    /// # Errors
    /// A duplicate name, overlapping address spaces, or a space that takes in a range Azure
    /// refuses (multicast, broadcast, loopback, link-local, the platform address).
    pub fn add_vnet(&mut self, name: &str, address_space: Vec<IpNet>) -> Result<VnetId, TopologyError> {
        if self.vnets.iter().any(|v| v.name == name) {
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

    /// Connects on-premises address spaces to a VNet through a gateway.
    ///
    /// # Errors
    /// When a space overlaps the VNet's own address space.
    pub fn connect_on_premises(&mut self, vnet: VnetId, spaces: Vec<IpNet>) -> Result<(), TopologyError> {
        let v = &self.vnets[vnet.index()];
        for space in &spaces {
            if let Some(own) = v.address_space.iter().find(|a| overlaps(a, space)) {
                return Err(TopologyError::AddressSpaceOverlap {
                    vnet: v.name.clone(),
                    first: *own,
                    second: *space,
                });
            }
        }
        self.networked = self.networked.union(&AddrSet::from_nets(&spaces));
        self.vnets[vnet.index()].on_premises.extend(spaces);
        Ok(())
    }

    /// Peers two VNets (both directions).
    ///
    /// # Errors
    /// When their address spaces overlap, or one's overlaps a VNet already peered with the other.
    pub fn peer(&mut self, a: VnetId, b: VnetId) -> Result<(), TopologyError> {
        let overlap = self.vnets[a.index()]
            .address_space
            .iter()
            .any(|x| self.vnets[b.index()].address_space.iter().any(|y| overlaps(x, y)));
        if a == b {
            return Err(TopologyError::SelfPeering { vnet: self.vnets[a.index()].name.clone() });
        }
        if overlap {
            return Err(TopologyError::PeeringOverlap {
                first: self.vnets[a.index()].name.clone(),
                second: self.vnets[b.index()].name.clone(),
            });
        }
        if !self.vnets[a.index()].peerings.contains(&b) {
            let (sa, sb) =
                (self.vnets[a.index()].address_space.clone(), self.vnets[b.index()].address_space.clone());
            self.check_distinct_among_peers(a, b, &sa, &sb)?;
            self.vnets[a.index()].peerings.push(b);
            self.vnets[b.index()].peerings.push(a);
        }
        Ok(())
    }

    /// Peers subnets of two VNets (Azure's subnet peering, `peerCompleteVnets: false`):
    /// `a_subnets` of `a` with `b_subnets` of `b` (Azure's `localSubnetNames` and
    /// `remoteSubnetNames`). The VNets' address spaces may overlap; Microsoft's rule holds
    /// instead: "The participating subnets must be unique and must belong to unique address
    /// spaces", i.e. no address space of a VNet that holds one of its peered subnets overlaps an
    /// address space of the other VNet.
    ///
    /// Every subnet of each VNet gets routes to the other side's peered subnets only; traffic
    /// from a subnet that is not in the peering is dropped (see [`Topology::subnet_in_peering`]).
    ///
    /// # Errors
    /// A VNet peered with itself, VNets already peered (Azure allows one peering link between two
    /// VNets), an empty list, a subnet of another VNet, the overlap above, or a peered subnet that
    /// overlaps what the other VNet already reaches over another peering (Azure's rule for whole
    /// VNets, `VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`, applied to the prefixes the subnet
    /// peering routes: model choice, docs/fidelity.md).
    pub fn peer_subnets(
        &mut self,
        a: VnetId,
        b: VnetId,
        a_subnets: &[SubnetId],
        b_subnets: &[SubnetId],
    ) -> Result<(), TopologyError> {
        let (an, bn) = (self.vnets[a.index()].name.clone(), self.vnets[b.index()].name.clone());
        if a == b {
            return Err(TopologyError::SelfPeering { vnet: an });
        }
        let requirement = |problem: String| TopologyError::Requirement {
            resource: format!("the subnet peering of vnets '{an}' and '{bn}'"),
            problem,
        };
        if self.vnets[a.index()].peerings.contains(&b) {
            return Err(requirement(
                "the vnets are already peered; Azure allows only one peering link between two virtual networks".into(),
            ));
        }
        for (vnet, other, list) in [(a, b, a_subnets), (b, a, b_subnets)] {
            let (vname, oname) = (&self.vnets[vnet.index()].name, &self.vnets[other.index()].name);
            if list.is_empty() {
                return Err(requirement(format!(
                    "names no subnet of vnet '{vname}'; a subnet peering needs at least one subnet on each side"
                )));
            }
            for s in list {
                let sub = &self.subnets[s.index()];
                if sub.vnet != vnet {
                    return Err(requirement(format!("subnet '{}' is not in vnet '{vname}'", sub.name)));
                }
                for space in
                    self.vnets[vnet.index()].address_space.iter().filter(|x| overlaps(x, &sub.prefix))
                {
                    if let Some(theirs) =
                        self.vnets[other.index()].address_space.iter().find(|y| overlaps(space, y))
                    {
                        return Err(requirement(format!(
                            "subnet '{}' ({}) of vnet '{vname}' belongs to address space {space}, which overlaps {theirs} of vnet '{oname}'; Azure: \"The participating subnets must be unique and must belong to unique address spaces\"",
                            sub.name, sub.prefix
                        )));
                    }
                }
            }
        }
        let prefixes = |list: &[SubnetId]| -> Vec<IpNet> {
            list.iter().map(|s| self.subnets[s.index()].prefix).collect()
        };
        self.check_distinct_among_peers(a, b, &prefixes(a_subnets), &prefixes(b_subnets))?;
        let dedup = |list: &[SubnetId]| {
            let mut v = list.to_vec();
            v.sort();
            v.dedup();
            v
        };
        self.vnets[a.index()].peerings.push(b);
        self.vnets[b.index()].peerings.push(a);
        self.vnets[a.index()].subnet_peerings.push((b, dedup(a_subnets)));
        self.vnets[b.index()].subnet_peerings.push((a, dedup(b_subnets)));
        Ok(())
    }

    /// `vnet`'s subnets in its subnet peering with `remote` (Azure's `localSubnetNames`), or
    /// `None` when the two are peered whole or not peered.
    pub fn peered_subnets(&self, vnet: VnetId, remote: VnetId) -> Option<&[SubnetId]> {
        self.vnets[vnet.index()].subnet_peerings.iter().find(|(r, _)| *r == remote).map(|(_, s)| s.as_slice())
    }

    /// Whether `subnet` takes part in its VNet's peering with `remote`: always for a peering of
    /// whole VNets, only a listed subnet for a subnet peering. Microsoft: a subnet outside the
    /// peering still has the route to the remote peered subnets ("forward route from non-peered
    /// subnet to peered subnet exists") but "the packet is dropped and doesn't reach the virtual
    /// machine".
    pub fn subnet_in_peering(&self, subnet: SubnetId, remote: VnetId) -> bool {
        self.peered_subnets(self.subnets[subnet.index()].vnet, remote)
            .is_none_or(|list| list.contains(&subnet))
    }

    /// The prefixes of `remote` that `vnet` reaches over their peering (routes `VNetPeering`,
    /// and the peered part of `VirtualNetwork`): `remote`'s address spaces, or for a subnet
    /// peering the prefixes of `remote`'s peered subnets (Azure's `remoteAddressSpace`). Every
    /// subnet of `vnet` gets them, peered or not (Microsoft, Marc de Droog's subnet peering
    /// walkthrough: "the ip space of the subnets listed in --remote-subnet-names is propagated to
    /// all subnets in the local vnet"). Empty when they are not peered.
    pub fn peered_prefixes(&self, vnet: VnetId, remote: VnetId) -> Vec<IpNet> {
        if !self.vnets[vnet.index()].peerings.contains(&remote) {
            return Vec::new();
        }
        match self.peered_subnets(remote, vnet) {
            Some(list) => list.iter().map(|s| self.subnets[s.index()].prefix).collect(),
            None => self.vnets[remote.index()].address_space.clone(),
        }
    }

    /// Sets Azure's `allowVirtualNetworkAccess` on `vnet`'s side of its peering with `remote`
    /// (Azure's default: true). With `false`, `remote`'s address spaces leave `vnet`'s
    /// `VirtualNetwork` tag (Microsoft's current documentation: "only changes the definition of
    /// the VirtualNetwork service tag"); under option `peering_access_blocks_all_traffic` the
    /// peering also carries no traffic (see [`Topology::peering_access_blocked_by`]).
    ///
    /// # Errors
    /// When the two VNets are not peered.
    pub fn set_peering_access(
        &mut self,
        vnet: VnetId,
        remote: VnetId,
        allow: bool,
    ) -> Result<(), TopologyError> {
        let v = &self.vnets[vnet.index()];
        if !v.peerings.contains(&remote) {
            return Err(TopologyError::Requirement {
                resource: format!("vnet '{}'", v.name),
                problem: format!(
                    "is not peered with vnet '{}'; peer them first",
                    self.vnets[remote.index()].name
                ),
            });
        }
        let without = &mut self.vnets[vnet.index()].peerings_without_access;
        without.retain(|r| *r != remote);
        if !allow {
            without.push(remote);
        }
        Ok(())
    }

    /// Whether `vnet`'s side of its peering with `remote` allows virtual network access (Azure's
    /// `allowVirtualNetworkAccess`); true when they are not peered, as there is no side to say no.
    pub fn allows_virtual_network_access(&self, vnet: VnetId, remote: VnetId) -> bool {
        !self.vnets[vnet.index()].peerings_without_access.contains(&remote)
    }

    /// The VNet (`a` or `b`, `a` first) whose side of their peering sets
    /// `allowVirtualNetworkAccess: false`, if they are peered and one does.
    pub fn peering_access_blocked_by(&self, a: VnetId, b: VnetId) -> Option<VnetId> {
        if !self.vnets[a.index()].peerings.contains(&b) {
            return None;
        }
        [(a, b), (b, a)].into_iter().find(|&(x, y)| !self.allows_virtual_network_access(x, y)).map(|(x, _)| x)
    }

    /// Turns on scenario option `peering_access_blocks_all_traffic`: the older peering
    /// documentation ("When this setting is disabled, traffic doesn't flow between the peered
    /// virtual networks"), where a peering with `allowVirtualNetworkAccess: false` on either side
    /// carries no traffic whatever the NSGs say.
    pub fn set_peering_access_blocks_all_traffic(&mut self, on: bool) {
        self.peering_access_blocks_all_traffic = on;
    }

    /// Whether option `peering_access_blocks_all_traffic` is on.
    pub fn peering_access_blocks_all_traffic(&self) -> bool {
        self.peering_access_blocks_all_traffic
    }

    /// Lets `vnet` use the gateway of the peered VNet `remote` (gateway transit).
    ///
    /// # Errors
    /// As Azure refuses it: the VNets are not peered, `remote` has no gateway (no on-premises
    /// spaces), `vnet` has a gateway of its own, or `vnet` already uses another remote gateway.
    pub fn use_remote_gateway(&mut self, vnet: VnetId, remote: VnetId) -> Result<(), TopologyError> {
        let (v, r) = (&self.vnets[vnet.index()], &self.vnets[remote.index()]);
        let problem = if !v.peerings.contains(&remote) {
            Some(format!("is not peered with vnet '{}'; peer them first", r.name))
        } else if r.on_premises.is_empty() {
            Some(format!("cannot use the gateway of vnet '{}': it has none (no on_premises spaces)", r.name))
        } else if !v.on_premises.is_empty() {
            Some(
                "has a gateway of its own (on_premises); a VNet with a gateway cannot use remote gateways"
                    .into(),
            )
        } else if let Some(other) = v.remote_gateway.filter(|o| *o != remote) {
            Some(format!(
                "already uses the gateway of vnet '{}'; a VNet can use one remote gateway",
                self.vnets[other.index()].name
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(TopologyError::Requirement { resource: format!("vnet '{}'", v.name), problem });
        }
        self.vnets[vnet.index()].remote_gateway = Some(remote);
        Ok(())
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
        if v.subnets.iter().any(|s| self.subnets[s.index()].name == name) {
            return Err(TopologyError::DuplicateName {
                kind: "subnet",
                name: format!("{}/{}", v.name, name),
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
        if self.nsgs.iter().any(|n| n.name == nsg.name) {
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
        if self.asgs.iter().any(|a| a.name == name) {
            return Err(TopologyError::DuplicateName {
                kind: "application security group",
                name: name.into(),
            });
        }
        self.asgs.push(Asg { name: name.into(), vnet: None, members: Vec::new() });
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
        if self.public_ip_by_name.contains_key(name) {
            return Err(TopologyError::DuplicateName { kind: "public IP", name: name.into() });
        }
        if let Some(other) = self.public_ip_by_addr.get(&address).map(|p| &self.public_ips[p.index()]) {
            return Err(TopologyError::DuplicateName {
                kind: "public IP address",
                name: format!("{address} (also '{}')", other.name),
            });
        }
        self.public_ips.push(PublicIp { name: name.into(), address, sku, nic: None });
        let id = PublicIpId(self.public_ips.len() as u32 - 1);
        self.public_ip_by_addr.insert(address, id);
        self.public_ip_by_name.insert(name.into(), id);
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
        if self.vm_by_name.contains_key(name) {
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
        self.vm_by_name.insert(name.into(), id);
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
        if self.nic_by_name.contains_key(name) {
            return Err(TopologyError::DuplicateName { kind: "nic", name: name.into() });
        }
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
        });
        let id = NicId(self.nics.len() as u32 - 1);
        self.nics_by_ip.entry(private_ip).or_default().push(id);
        self.nic_by_name.insert(name.into(), id);
        self.subnets[subnet.index()].nics.push(id);
        if let Some(v) = vm {
            self.vms[v.index()].nics.push(id);
        }
        Ok(id)
    }

    /// Makes `nic` a member of `asg`.
    ///
    /// # Errors
    /// When the ASG's members are in another VNet.
    pub fn join_asg(&mut self, nic: NicId, asg: AsgId) -> Result<(), TopologyError> {
        let nic_vnet = self.subnets[self.nics[nic.index()].subnet.index()].vnet;
        let a = &mut self.asgs[asg.index()];
        match a.vnet {
            Some(v) if v != nic_vnet => {
                return Err(TopologyError::AsgVnetMismatch {
                    asg: a.name.clone(),
                    nic: self.nics[nic.index()].name.clone(),
                    asg_vnet: self.vnets[v.index()].name.clone(),
                    nic_vnet: self.vnets[nic_vnet.index()].name.clone(),
                });
            }
            _ => {}
        }
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

    /// Adds a route table.
    ///
    /// # Errors
    /// A duplicate name.
    pub fn add_route_table(&mut self, table: RouteTable) -> Result<RouteTableId, TopologyError> {
        if self.route_tables.iter().any(|t| t.name == table.name) {
            return Err(TopologyError::DuplicateName { kind: "route table", name: table.name });
        }
        self.route_tables.push(table);
        Ok(RouteTableId(self.route_tables.len() as u32 - 1))
    }

    /// Associates a route table with a subnet.
    ///
    /// # Errors
    /// On `AzureBastionSubnet`, which does not support UDRs.
    pub fn set_subnet_route_table(
        &mut self,
        subnet: SubnetId,
        table: RouteTableId,
    ) -> Result<(), TopologyError> {
        if self.subnets[subnet.index()].name == BASTION_SUBNET {
            return Err(TopologyError::UdrOnBastionSubnet {
                table: self.route_tables[table.0 as usize].name.clone(),
            });
        }
        self.subnets[subnet.index()].route_table = Some(table);
        Ok(())
    }

    /// Adds an Azure Firewall in its VNet's `AzureFirewallSubnet` at `private_ip`.
    ///
    /// # Errors
    /// A duplicate name, no `AzureFirewallSubnet`, an address outside it, a public IP already
    /// associated with another resource (NIC, firewall or Bastion).
    pub fn add_firewall(
        &mut self,
        mut firewall: Firewall,
        vnet: VnetId,
    ) -> Result<FirewallId, TopologyError> {
        if self.firewalls.iter().any(|f| f.name == firewall.name) {
            return Err(TopologyError::DuplicateName { kind: "firewall", name: firewall.name });
        }
        let vnet_name = self.vnets[vnet.index()].name.clone();
        let missing = |name: String, found: String| TopologyError::ServiceSubnet {
            service: "Azure Firewall",
            name,
            subnet: FIREWALL_SUBNET,
            requirement: "of /26 or larger",
            vnet: vnet_name.clone(),
            found,
        };
        let Some(subnet) = self.subnet_by_name(vnet, FIREWALL_SUBNET) else {
            return Err(missing(firewall.name, String::new()));
        };
        let prefix = self.subnets[subnet.index()].prefix;
        if prefix.prefix_len() > 26 || !matches!(prefix, IpNet::V4(_)) {
            return Err(missing(firewall.name, format!("; found {prefix}")));
        }
        self.check_firewall_subnet(&firewall, subnet)?;
        if !prefix.contains(&firewall.private_ip) {
            return Err(TopologyError::IpOutsideSubnet {
                nic: format!("firewall {}", firewall.name),
                ip: firewall.private_ip,
                subnet: FIREWALL_SUBNET.into(),
                prefix,
            });
        }
        if let Some(p) = firewall.public_ip
            && let Some(holder) = self.public_ip_holder(p)
        {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[p.index()].name.clone(),
                holder,
                resource: format!("firewall '{}'", firewall.name),
            });
        }
        firewall.subnet = subnet;
        self.firewalls.push(firewall);
        Ok(FirewallId(self.firewalls.len() as u32 - 1))
    }

    /// Azure's requirements on the firewall's subnet and public IP, checked when it is added (an
    /// NSG cannot be there: [`Topology::check_subnet_nsg`]): a route table there must send `0.0.0.0/0` to the Internet (Azure's `AzureFirewallSubnetRouteTableMustHaveDefaultRouteToInternet`),
    /// and the public IP must be Standard.
    fn check_firewall_subnet(&self, firewall: &Firewall, subnet: SubnetId) -> Result<(), TopologyError> {
        let resource = format!("firewall '{}'", firewall.name);
        let s = &self.subnets[subnet.index()];
        if let Some(rt) = s.route_table {
            let table = &self.route_tables[rt.0 as usize];
            let default = table.default_route();
            if default.is_none_or(|r| r.next_hop != super::appliance::NextHop::Internet) {
                let found = match default {
                    Some(r) => format!("its 0.0.0.0/0 route '{}' goes to {}", r.name, r.next_hop),
                    None => "it has no 0.0.0.0/0 route".into(),
                };
                return Err(TopologyError::Requirement {
                    resource,
                    problem: format!(
                        "route table '{}' on AzureFirewallSubnet must have a 0.0.0.0/0 route with next hop Internet (the firewall needs direct Internet connectivity); {found}",
                        table.name
                    ),
                });
            }
        }
        if let Some(p) = firewall.public_ip {
            self.require_standard_ip(p, resource, "Azure Firewall")?;
        }
        Ok(())
    }

    fn require_standard_ip(
        &self,
        p: PublicIpId,
        resource: String,
        service: &str,
    ) -> Result<(), TopologyError> {
        let pip = &self.public_ips[p.index()];
        if pip.sku == PublicIpSku::Standard {
            return Ok(());
        }
        Err(TopologyError::Requirement {
            resource,
            problem: format!(
                "public IP '{}' is {:?} SKU; {service} requires a Standard SKU public IP",
                pip.name, pip.sku
            ),
        })
    }

    /// Adds an Azure Bastion host in `vnet`'s `AzureBastionSubnet` (/26 or larger).
    ///
    /// # Errors
    /// A duplicate name, no suitable `AzureBastionSubnet`, or a public IP already associated
    /// with another resource.
    pub fn add_bastion(
        &mut self,
        name: &str,
        vnet: VnetId,
        public_ip: Option<PublicIpId>,
    ) -> Result<BastionId, TopologyError> {
        if self.bastions.iter().any(|b| b.name == name) {
            return Err(TopologyError::DuplicateName { kind: "bastion", name: name.into() });
        }
        let vnet_name = self.vnets[vnet.index()].name.clone();
        let missing = |found: String| TopologyError::ServiceSubnet {
            service: "Azure Bastion",
            name: name.into(),
            subnet: BASTION_SUBNET,
            requirement: "of /26 or larger",
            vnet: vnet_name.clone(),
            found,
        };
        let Some(subnet) = self.subnet_by_name(vnet, BASTION_SUBNET) else {
            return Err(missing(String::new()));
        };
        let prefix = self.subnets[subnet.index()].prefix;
        if prefix.prefix_len() > 26 || !matches!(prefix, IpNet::V4(_)) {
            return Err(missing(format!("; found {prefix}")));
        }
        if let Some(p) = public_ip
            && let Some(holder) = self.public_ip_holder(p)
        {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[p.index()].name.clone(),
                holder,
                resource: format!("bastion '{name}'"),
            });
        }
        if let Some(p) = public_ip {
            self.require_standard_ip(p, format!("bastion '{name}'"), "Azure Bastion")?;
        }
        let private_ip = usable_range(&prefix).map(|(first, _)| first).unwrap_or(prefix.network());
        self.bastions.push(Bastion { name: name.into(), vnet, subnet, public_ip, private_ip });
        Ok(BastionId(self.bastions.len() as u32 - 1))
    }

    /// The resource a public IP is associated with, written as errors name it (`nic 'x'`,
    /// `firewall 'y'`, `bastion 'z'`), or `None` when it is free.
    pub fn public_ip_holder(&self, public_ip: PublicIpId) -> Option<String> {
        if let Some(nic) = self.public_ips[public_ip.index()].nic {
            return Some(format!("nic '{}'", self.nics[nic.index()].name));
        }
        if let Some(f) = self.firewalls.iter().find(|f| f.public_ip == Some(public_ip)) {
            return Some(format!("firewall '{}'", f.name));
        }
        self.bastions.iter().find(|b| b.public_ip == Some(public_ip)).map(|b| format!("bastion '{}'", b.name))
    }

    /// A route table.
    pub fn route_table(&self, id: RouteTableId) -> &RouteTable {
        &self.route_tables[id.0 as usize]
    }
    /// A firewall.
    pub fn firewall(&self, id: FirewallId) -> &Firewall {
        &self.firewalls[id.0 as usize]
    }
    /// Mutable access to a firewall (JIT adds DNAT rules).
    pub fn firewall_mut(&mut self, id: FirewallId) -> &mut Firewall {
        &mut self.firewalls[id.0 as usize]
    }
    /// A Bastion host.
    pub fn bastion(&self, id: BastionId) -> &Bastion {
        &self.bastions[id.0 as usize]
    }
    /// Every firewall id.
    pub fn firewall_ids(&self) -> impl Iterator<Item = FirewallId> + '_ {
        (0..self.firewalls.len() as u32).map(FirewallId)
    }
    /// Every Bastion id.
    pub fn bastion_ids(&self) -> impl Iterator<Item = BastionId> + '_ {
        (0..self.bastions.len() as u32).map(BastionId)
    }
    /// Every route table id.
    pub fn route_table_ids(&self) -> impl Iterator<Item = RouteTableId> + '_ {
        (0..self.route_tables.len() as u32).map(RouteTableId)
    }
    /// The route table with this name.
    pub fn route_table_by_name(&self, name: &str) -> Option<RouteTableId> {
        self.route_tables.iter().position(|t| t.name == name).map(|i| RouteTableId(i as u32))
    }
    /// The firewall with this name.
    pub fn firewall_by_name(&self, name: &str) -> Option<FirewallId> {
        self.firewalls.iter().position(|f| f.name == name).map(|i| FirewallId(i as u32))
    }
    /// The Bastion host with this name.
    pub fn bastion_by_name(&self, name: &str) -> Option<BastionId> {
        self.bastions.iter().position(|b| b.name == name).map(|i| BastionId(i as u32))
    }
    /// The firewall whose public IP resource is `p`.
    pub fn firewall_by_public_ip(&self, p: PublicIpId) -> Option<FirewallId> {
        self.firewalls.iter().position(|f| f.public_ip == Some(p)).map(|i| FirewallId(i as u32))
    }
    /// The Bastion host whose public IP resource is `p`.
    pub fn bastion_by_public_ip(&self, p: PublicIpId) -> Option<BastionId> {
        self.bastions.iter().position(|b| b.public_ip == Some(p)).map(|i| BastionId(i as u32))
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
            return Err(TopologyError::Requirement {
                resource: format!("subnet '{}/{}'", self.vnets[s.vnet.index()].name, s.name),
                problem: "NSGs are not supported on AzureFirewallSubnet (Azure disables subnet-level NSGs there; the firewall has its own platform protection); remove the subnet's nsg, or put the NSG on another subnet or a NIC".into(),
            });
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
        self.vnets.iter().position(|v| v.name == name).map(|i| VnetId(i as u32))
    }
    /// The subnet `name` of VNet `vnet`.
    pub fn subnet_by_name(&self, vnet: VnetId, name: &str) -> Option<SubnetId> {
        self.vnets[vnet.index()].subnets.iter().copied().find(|s| self.subnets[s.index()].name == name)
    }
    /// The VM with this name.
    pub fn vm_by_name(&self, name: &str) -> Option<VmId> {
        self.vm_by_name.get(name).copied()
    }
    /// The NIC with this name.
    pub fn nic_by_name(&self, name: &str) -> Option<NicId> {
        self.nic_by_name.get(name).copied()
    }
    /// The NSG with this name.
    pub fn nsg_by_name(&self, name: &str) -> Option<NsgId> {
        self.nsgs.iter().position(|v| v.name == name).map(|i| NsgId(i as u32))
    }
    /// The ASG with this name.
    pub fn asg_by_name(&self, name: &str) -> Option<AsgId> {
        self.asgs.iter().position(|v| v.name == name).map(|i| AsgId(i as u32))
    }
    /// The public IP with this name.
    pub fn public_ip_by_name(&self, name: &str) -> Option<PublicIpId> {
        self.public_ip_by_name.get(name).copied()
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
            .filter(|r| r.next_hop != super::appliance::NextHop::None)
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
                asg.members.iter().map(|n| IpNet::from(self.nics[n.index()].private_ip)).collect()
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
            tags: self.service_tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            asg_members,
        }
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

    fn net(s: &str) -> IpNet {
        s.parse().expect("valid literal")
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().expect("valid literal")
    }

    fn small() -> (Topology, VnetId, SubnetId) {
        let mut t = Topology::new();
        let v = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "web", net("10.0.1.0/24")).expect("subnet");
        (t, v, s)
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
            assert!(matches!(e, TopologyError::SubnetSize { .. }), "{too_small}: {e}");
            assert!(e.to_string().contains("valid: a prefix length of /2 to /29"), "{e}");
        }
        assert!(t.add_subnet(v, "smallest", net("10.0.9.0/29")).is_ok());
        let big = t.add_vnet("big", vec![net("0.0.0.0/2")]).expect("a /2 space");
        assert!(t.add_subnet(big, "largest", net("0.0.0.0/2")).is_ok());
        let v6 = t.add_vnet("v6", vec![net("fd00::/48")]).expect("vnet");
        assert!(t.add_subnet(v6, "ok", net("fd00::/64")).is_ok());
        for wrong in ["fd00:0:0:1::/80", "fd00:0:0:2::/63"] {
            let e = t.add_subnet(v6, "x", net(wrong)).expect_err(wrong);
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
        assert!(e.to_string().contains("already associated with nic 'nic'"), "{e}");

        let fw_pip = t.add_public_ip("fw-pip", ip("20.0.0.2"), PublicIpSku::Standard).expect("pip");
        t.add_firewall(firewall("fw", Some(fw_pip)), v).expect("a free public IP");
        let e = t.add_bastion("bas", v, Some(fw_pip)).expect_err("a Bastion after a firewall");
        assert!(e.to_string().contains("already associated with firewall 'fw'"), "{e}");
        let e = t.associate_public_ip(other, fw_pip).expect_err("a NIC after a firewall");
        assert!(e.to_string().contains("already associated with firewall 'fw'"), "{e}");

        let bastion_pip = t.add_public_ip("bas-pip", ip("20.0.0.3"), PublicIpSku::Standard).expect("pip");
        t.add_bastion("bas", v, Some(bastion_pip)).expect("a free public IP");
        let e =
            t.add_firewall(firewall("fw2", Some(bastion_pip)), v).expect_err("a firewall after a Bastion");
        assert!(e.to_string().contains("already associated with bastion 'bas'"), "{e}");
        let e = t.associate_public_ip(other, bastion_pip).expect_err("a NIC after a Bastion");
        assert!(e.to_string().contains("already associated with bastion 'bas'"), "{e}");
    }

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
                routes: vec![super::super::appliance::Route {
                    name: "default".into(),
                    prefix: net("0.0.0.0/0"),
                    next_hop: super::super::appliance::NextHop::VirtualAppliance(ip("10.0.8.4")),
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

    /// Subnet peering: each VNet's `VirtualNetwork` tag and routes get the other side's peered
    /// subnets only (the same for every local subnet), the VNets' shared 172.16.0.0/16 is
    /// allowed, and Microsoft's "unique address spaces" rule refuses a peered subnet whose
    /// address space overlaps the other VNet's, as well as a second link or an empty side.
    #[test]
    fn subnet_peering_shares_only_the_peered_subnets() {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
        let web = t.add_subnet(hub, "web", net("10.0.1.0/24")).expect("subnet");
        let db = t.add_subnet(hub, "db", net("10.0.2.0/24")).expect("subnet");
        let shared = t.add_subnet(hub, "shared", net("172.16.1.0/24")).expect("subnet");
        let app = t.add_subnet(spoke, "app", net("10.1.1.0/24")).expect("subnet");
        let data = t.add_subnet(spoke, "data", net("10.1.2.0/24")).expect("subnet");
        assert!(t.peer(hub, spoke).is_err(), "whole VNets with overlapping spaces");
        let e = t.peer_subnets(hub, spoke, &[web, shared], &[app]).expect_err("172.16.0.0/16 is in both");
        assert!(e.to_string().contains("subnet 'shared' (172.16.1.0/24) of vnet 'hub' belongs to address space 172.16.0.0/16, which overlaps 172.16.0.0/16 of vnet 'spoke'"), "{e}");
        assert!(
            t.peer_subnets(hub, spoke, &[], &[app])
                .expect_err("empty")
                .to_string()
                .contains("names no subnet of vnet 'hub'")
        );
        assert!(
            t.peer_subnets(hub, spoke, &[app], &[app])
                .expect_err("wrong vnet")
                .to_string()
                .contains("subnet 'app' is not in vnet 'hub'")
        );
        assert!(t.vnet(hub).peerings.is_empty(), "a refused peering leaves nothing behind");
        t.peer_subnets(hub, spoke, &[web], &[app]).expect("subnet peering");
        assert!(t.peer_subnets(hub, spoke, &[web], &[app]).is_err(), "one link between two VNets");
        assert_eq!(t.peered_prefixes(hub, spoke), [net("10.1.1.0/24")]);
        assert_eq!(t.peered_prefixes(spoke, hub), [net("10.0.1.0/24")]);
        assert!(t.subnet_in_peering(web, spoke) && !t.subnet_in_peering(db, spoke));
        assert!(t.subnet_in_peering(app, hub) && !t.subnet_in_peering(data, hub));
        let tag = t.virtual_network_tag(hub);
        assert!(tag.contains(ip("10.1.1.9")) && !tag.contains(ip("10.1.2.9")), "hub's tag: spoke's app only");
        let tag = t.virtual_network_tag(spoke);
        assert!(tag.contains(ip("10.0.1.9")) && !tag.contains(ip("10.0.2.9")), "spoke's tag: hub's web only");
        // Every hub subnet has the tag and the route, peered or not.
        assert!(t.virtual_network_tag_contains(db, ip("10.1.1.9")));
        let hop = |s, d| crate::path::route::select(&t, s, ip(d)).map(|r| r.next_hop);
        use crate::path::route::Hop;
        assert_eq!(hop(db, "10.1.1.9"), Some(Hop::Vnet(spoke)), "Microsoft: the forward route exists");
        assert_eq!(hop(web, "10.1.2.9"), Some(Hop::Internet), "no route to a subnet left out");
        assert_eq!(hop(app, "10.0.2.9"), Some(Hop::Internet));
        assert_eq!(hop(app, "172.16.1.9"), Some(Hop::Vnet(spoke)), "the shared space stays local");
    }

    /// `allowVirtualNetworkAccess: false` on one side takes the remote VNet's spaces out of that
    /// side's `VirtualNetwork` only; the other side's tag keeps them (Microsoft's peering page
    /// sets it under "This virtual network"). The spaces never become `Internet`.
    #[test]
    fn peering_access_shapes_the_virtual_network_tag_of_its_own_side_only() {
        let (mut t, hub, _) = small();
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        let public = t.add_vnet("public", vec![net("20.50.0.0/16")]).expect("vnet");
        let web = t.subnet_by_name(hub, "web").expect("web");
        assert!(t.set_peering_access(hub, spoke, false).is_err(), "not peered yet");
        t.peer(hub, spoke).expect("peer");
        t.peer(hub, public).expect("peer");
        assert!(t.allows_virtual_network_access(hub, spoke), "Azure's default");
        assert_eq!(t.peering_access_blocked_by(hub, spoke), None);
        t.set_peering_access(hub, spoke, false).expect("hub's side");
        t.set_peering_access(hub, public, false).expect("hub's side");
        assert!(!t.allows_virtual_network_access(hub, spoke));
        assert!(t.allows_virtual_network_access(spoke, hub));
        assert_eq!(t.peering_access_blocked_by(spoke, hub), Some(hub));
        assert!(!t.virtual_network_tag(hub).contains(ip("10.1.5.5")), "hub's tag loses the spoke");
        assert!(t.virtual_network_tag(hub).contains(ip("10.0.1.4")), "and keeps its own space");
        assert!(t.virtual_network_tag(spoke).contains(ip("10.0.1.4")), "the spoke's tag keeps the hub");
        assert!(!t.virtual_network_tag_contains(web, ip("10.1.5.5")));
        assert!(t.virtual_network_tag_contains(web, ip("168.63.129.16")));
        let ctx = t.resolve_context(hub);
        assert!(!ctx.internet.contains(ip("20.50.1.1")), "a peer's public space is not Internet");
        assert!(!ctx.virtual_network.contains(ip("20.50.1.1")));
        // Setting it back restores the tag; a forced-tunnelling UDR puts everything in it anyway.
        t.set_peering_access(hub, spoke, true).expect("hub's side");
        assert!(t.virtual_network_tag(hub).contains(ip("10.1.5.5")));
        t.set_peering_access(hub, spoke, false).expect("hub's side");
        let rt = t
            .add_route_table(RouteTable {
                name: "rt".into(),
                routes: vec![super::super::appliance::Route {
                    name: "all".into(),
                    prefix: net("0.0.0.0/0"),
                    next_hop: super::super::appliance::NextHop::Internet,
                }],
            })
            .expect("table");
        t.set_subnet_route_table(web, rt).expect("associate");
        assert!(t.virtual_network_tag_contains(web, ip("10.1.5.5")), "UDR prefixes are VirtualNetwork");
        assert!(t.resolve_context_for_subnet(web).virtual_network.contains(ip("10.1.5.5")));
    }

    #[test]
    fn bastion_needs_its_subnet_of_at_least_26_without_udr_and_a_standard_ip() {
        let (mut t, v, _) = small();
        let standard = t.add_public_ip("std", ip("20.0.0.1"), PublicIpSku::Standard).expect("pip");
        let basic = t.add_public_ip("basic", ip("20.0.0.2"), PublicIpSku::Basic).expect("pip");
        assert!(matches!(t.add_bastion("b", v, Some(standard)), Err(TopologyError::ServiceSubnet { .. })));
        let small_subnet = t.add_subnet(v, BASTION_SUBNET, net("10.0.2.0/27")).expect("subnet");
        let err = t.add_bastion("b", v, Some(standard)).expect_err("a /27 is too small");
        assert!(err.to_string().contains("found 10.0.2.0/27"), "{err}");
        // A /26 in another VNet: the basic IP is refused, the standard one accepted.
        let v2 = t.add_vnet("v2", vec![net("10.9.0.0/16")]).expect("vnet");
        let good = t.add_subnet(v2, BASTION_SUBNET, net("10.9.0.0/26")).expect("subnet");
        let err = t.add_bastion("b", v2, Some(basic)).expect_err("basic SKU");
        assert!(err.to_string().contains("requires a Standard SKU public IP"), "{err}");
        let b = t.add_bastion("b", v2, Some(standard)).expect("a valid Bastion");
        assert_eq!(t.bastion(b).subnet, good);
        assert_eq!(t.bastion(b).private_ip, ip("10.9.0.4"), "the first usable address");
        // No UDR on AzureBastionSubnet.
        let rt = t.add_route_table(RouteTable { name: "rt".into(), routes: vec![] }).expect("table");
        assert!(matches!(t.set_subnet_route_table(good, rt), Err(TopologyError::UdrOnBastionSubnet { .. })));
        assert!(matches!(
            t.set_subnet_route_table(small_subnet, rt),
            Err(TopologyError::UdrOnBastionSubnet { .. })
        ));
    }

    #[test]
    fn firewall_subnet_refuses_an_nsg_and_a_default_route_not_to_the_internet() {
        use super::super::appliance::{FirewallMode, NextHop, Route};
        let firewall = |name: &str| Firewall {
            name: name.into(),
            subnet: SubnetId(0),
            private_ip: ip("10.0.1.4"),
            public_ip: None,
            mode: FirewallMode::Classic,
            groups: vec![],
            legacy_dnat: false,
        };
        let (mut t, v, _) = small();
        let fw_subnet = t.add_subnet(v, FIREWALL_SUBNET, net("10.0.1.0/26"));
        assert!(fw_subnet.is_err(), "overlaps 'web' (10.0.1.0/24)");
        let s = t.add_subnet(v, FIREWALL_SUBNET, net("10.0.2.0/26")).expect("subnet");
        let mut fw = firewall("fw");
        fw.private_ip = ip("10.0.2.4");
        let nsg = t.add_nsg(crate::nsg::Nsg { name: "n".into(), rules: vec![] }).expect("nsg");
        // The association itself is refused, firewall or not, so no firewall ever meets one.
        let err = t.set_subnet_nsg(s, Some(nsg)).expect_err("an NSG on AzureFirewallSubnet");
        assert!(err.to_string().contains("NSGs are not supported on AzureFirewallSubnet"), "{err}");
        assert_eq!(t.subnet(s).nsg, None);
        t.set_subnet_nsg(s, None).expect("dissociating always works");
        let to_itself = Route {
            name: "d".into(),
            prefix: net("0.0.0.0/0"),
            next_hop: NextHop::VirtualAppliance(ip("10.0.2.4")),
        };
        let rt = t.add_route_table(RouteTable { name: "rt".into(), routes: vec![to_itself] }).expect("table");
        t.set_subnet_route_table(s, rt).expect("associate");
        let err = t.add_firewall(fw.clone(), v).expect_err("a default route back at the firewall");
        assert!(err.to_string().contains("next hop Internet"), "{err}");
        let internet = Route { name: "d".into(), prefix: net("0.0.0.0/0"), next_hop: NextHop::Internet };
        let ok = t.add_route_table(RouteTable { name: "ok".into(), routes: vec![internet] }).expect("table");
        t.set_subnet_route_table(s, ok).expect("associate");
        assert!(t.add_firewall(fw, v).is_ok());
    }
}

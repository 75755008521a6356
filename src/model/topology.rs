//! The topology tables and their checked constructors.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use super::appliance::{Bastion, BastionId, Firewall, FirewallId, RouteTable, RouteTableId};
use super::ids::{AsgId, NicId, NsgId, PublicIpId, SubnetId, VmId, VnetId};
use super::service_tags::{PLATFORM_HOST_ADDRESS, internet_space, sample_service_tags};
use crate::net::AddrSet;
use crate::nsg::{Nsg, ResolveContext};

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
    /// Two NICs with one address.
    #[error("nic '{second}': private IP {ip} is already used by nic '{first}'")]
    DuplicateIp {
        /// The address.
        ip: IpAddr,
        /// The first NIC.
        first: String,
        /// The second NIC.
        second: String,
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
    /// Peering two VNets whose spaces overlap.
    #[error("vnets '{first}' and '{second}' cannot be peered: their address spaces overlap")]
    PeeringOverlap {
        /// One VNet.
        first: String,
        /// The other.
        second: String,
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
    /// A public IP associated twice.
    #[error("public IP '{public_ip}' is already associated with nic '{nic}'")]
    PublicIpInUse {
        /// The public IP.
        public_ip: String,
        /// The NIC that has it.
        nic: String,
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
    nic_by_ip: HashMap<IpAddr, NicId>,
    public_ip_by_addr: HashMap<IpAddr, PublicIpId>,
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
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
    /// A duplicate name or overlapping address spaces.
    pub fn add_vnet(&mut self, name: &str, address_space: Vec<IpNet>) -> Result<VnetId, TopologyError> {
        if self.vnets.iter().any(|v| v.name == name) {
            return Err(TopologyError::DuplicateName { kind: "vnet", name: name.into() });
        }
        for (i, a) in address_space.iter().enumerate() {
            if let Some(b) = address_space[..i].iter().find(|b| overlaps(a, b)) {
                return Err(TopologyError::AddressSpaceOverlap { vnet: name.into(), first: *b, second: *a });
            }
        }
        self.vnets.push(Vnet {
            name: name.into(),
            address_space,
            subnets: Vec::new(),
            peerings: Vec::new(),
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
        self.vnets[vnet.index()].on_premises.extend(spaces);
        Ok(())
    }

    /// The VNet whose gateway connects the on-premises network holding `ip`.
    pub fn vnet_of_on_premises_ip(&self, ip: IpAddr) -> Option<VnetId> {
        self.vnets
            .iter()
            .position(|v| v.on_premises.iter().any(|s| s.contains(&ip)))
            .map(|i| VnetId(i as u32))
    }

    /// Peers two VNets (both directions).
    ///
    /// # Errors
    /// When their address spaces overlap.
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
            self.vnets[a.index()].peerings.push(b);
            self.vnets[b.index()].peerings.push(a);
        }
        Ok(())
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
    /// A duplicate name in the VNet, a prefix outside the VNet, or an overlap with a sibling.
    pub fn add_subnet(&mut self, vnet: VnetId, name: &str, prefix: IpNet) -> Result<SubnetId, TopologyError> {
        let v = &self.vnets[vnet.index()];
        if v.subnets.iter().any(|s| self.subnets[s.index()].name == name) {
            return Err(TopologyError::DuplicateName {
                kind: "subnet",
                name: format!("{}/{}", v.name, name),
            });
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
        if self.public_ips.iter().any(|p| p.name == name) {
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
        if self.vms.iter().any(|v| v.name == name) {
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
        Ok(VmId(self.vms.len() as u32 - 1))
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
        if self.nics.iter().any(|n| n.name == name) {
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
        if let Some(other) = self.nic_by_ip.get(&private_ip).map(|n| &self.nics[n.index()]) {
            return Err(TopologyError::DuplicateIp {
                ip: private_ip,
                first: other.name.clone(),
                second: name.into(),
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
        self.nic_by_ip.insert(private_ip, id);
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
            _ => a.vnet = Some(nic_vnet),
        }
        if !a.members.contains(&nic) {
            a.members.push(nic);
            self.nics[nic.index()].asgs.push(asg);
        }
        Ok(())
    }

    /// Associates a public IP with a NIC.
    ///
    /// # Errors
    /// When the public IP is already associated with another NIC.
    pub fn associate_public_ip(&mut self, nic: NicId, public_ip: PublicIpId) -> Result<(), TopologyError> {
        if let Some(other) = self.public_ips[public_ip.index()].nic
            && other != nic
        {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[public_ip.index()].name.clone(),
                nic: self.nics[other.index()].name.clone(),
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
    /// A duplicate name, no `AzureFirewallSubnet`, an address outside it, a public IP in use.
    pub fn add_firewall(
        &mut self,
        mut firewall: Firewall,
        vnet: VnetId,
    ) -> Result<FirewallId, TopologyError> {
        if self.firewalls.iter().any(|f| f.name == firewall.name) {
            return Err(TopologyError::DuplicateName { kind: "firewall", name: firewall.name });
        }
        let vnet_name = self.vnets[vnet.index()].name.clone();
        let Some(subnet) = self.subnet_by_name(vnet, FIREWALL_SUBNET) else {
            return Err(TopologyError::ServiceSubnet {
                service: "Azure Firewall",
                name: firewall.name,
                subnet: FIREWALL_SUBNET,
                requirement: "of /26 or larger",
                vnet: vnet_name,
                found: String::new(),
            });
        };
        let prefix = self.subnets[subnet.index()].prefix;
        if prefix.prefix_len() > 26 || !matches!(prefix, IpNet::V4(_)) {
            return Err(TopologyError::ServiceSubnet {
                service: "Azure Firewall",
                name: firewall.name,
                subnet: FIREWALL_SUBNET,
                requirement: "of /26 or larger",
                vnet: vnet_name,
                found: format!("; found {prefix}"),
            });
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
            && let Some(other) = self.firewalls.iter().find(|f| f.public_ip == Some(p))
        {
            return Err(TopologyError::PublicIpInUse {
                public_ip: self.public_ips[p.index()].name.clone(),
                nic: format!("firewall {}", other.name),
            });
        }
        firewall.subnet = subnet;
        self.firewalls.push(firewall);
        Ok(FirewallId(self.firewalls.len() as u32 - 1))
    }

    /// Azure's requirements on the firewall's subnet and public IP, checked when it is added: no
    /// NSG on `AzureFirewallSubnet` (the platform blocks the association), a route table there
    /// must send `0.0.0.0/0` to the Internet (Azure's `AzureFirewallSubnetRouteTableMustHaveDefaultRouteToInternet`),
    /// and the public IP must be Standard.
    fn check_firewall_subnet(&self, firewall: &Firewall, subnet: SubnetId) -> Result<(), TopologyError> {
        let resource = format!("firewall '{}'", firewall.name);
        let s = &self.subnets[subnet.index()];
        if let Some(nsg) = s.nsg {
            return Err(TopologyError::Requirement {
                resource,
                problem: format!(
                    "AzureFirewallSubnet has NSG '{}', but NSGs are not supported on AzureFirewallSubnet (Azure blocks the association; the firewall has its own platform protection); remove the subnet's nsg",
                    self.nsgs[nsg.index()].name
                ),
            });
        }
        if let Some(rt) = s.route_table {
            let table = &self.route_tables[rt.0 as usize];
            let default =
                table.routes.iter().find(|r| r.prefix.prefix_len() == 0 && r.prefix.addr().is_ipv4());
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
    /// A duplicate name, or no suitable `AzureBastionSubnet`.
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
        if let Some(p) = public_ip {
            self.require_standard_ip(p, format!("bastion '{name}'"), "Azure Bastion")?;
        }
        let private_ip = usable_range(&prefix).map(|(first, _)| first).unwrap_or(prefix.network());
        self.bastions.push(Bastion { name: name.into(), vnet, subnet, public_ip, private_ip });
        Ok(BastionId(self.bastions.len() as u32 - 1))
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
    /// The firewall whose private address is `ip`.
    pub fn firewall_by_private_ip(&self, ip: IpAddr) -> Option<FirewallId> {
        self.firewalls.iter().position(|f| f.private_ip == ip).map(|i| FirewallId(i as u32))
    }
    /// The firewall whose public IP resource is `p`.
    pub fn firewall_by_public_ip(&self, p: PublicIpId) -> Option<FirewallId> {
        self.firewalls.iter().position(|f| f.public_ip == Some(p)).map(|i| FirewallId(i as u32))
    }
    /// The Bastion host whose public IP resource is `p`.
    pub fn bastion_by_public_ip(&self, p: PublicIpId) -> Option<BastionId> {
        self.bastions.iter().position(|b| b.public_ip == Some(p)).map(|i| BastionId(i as u32))
    }

    /// Associates (or with `None`, dissociates) an NSG with a subnet.
    pub fn set_subnet_nsg(&mut self, subnet: SubnetId, nsg: Option<NsgId>) {
        self.subnets[subnet.index()].nsg = nsg;
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
        self.vms.iter().position(|v| v.name == name).map(|i| VmId(i as u32))
    }
    /// The NIC with this name.
    pub fn nic_by_name(&self, name: &str) -> Option<NicId> {
        self.nics.iter().position(|v| v.name == name).map(|i| NicId(i as u32))
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
        self.public_ips.iter().position(|v| v.name == name).map(|i| PublicIpId(i as u32))
    }

    /// The NIC whose private address is `ip`.
    pub fn nic_by_private_ip(&self, ip: IpAddr) -> Option<NicId> {
        self.nic_by_ip.get(&ip).copied()
    }
    /// The public IP resource whose address is `ip`.
    pub fn public_ip_by_address(&self, ip: IpAddr) -> Option<PublicIpId> {
        self.public_ip_by_addr.get(&ip).copied()
    }
    /// The VNet whose address space holds `ip`.
    pub fn vnet_of_ip(&self, ip: IpAddr) -> Option<VnetId> {
        self.vnets
            .iter()
            .position(|v| v.address_space.iter().any(|s| s.contains(&ip)))
            .map(|i| VnetId(i as u32))
    }
    /// The subnet whose prefix holds `ip`.
    pub fn subnet_of_ip(&self, ip: IpAddr) -> Option<SubnetId> {
        // Every subnet lies inside its VNet's address space, so only the subnets of the VNets
        // that contain `ip` can: an Internet address (most of what `reach` and `exposure` ask
        // about) is then answered without scanning every subnet. The lowest id wins, as a scan
        // of all subnets would give when VNets overlap.
        self.vnets
            .iter()
            .filter(|v| v.address_space.iter().any(|space| space.contains(&ip)))
            .flat_map(|v| v.subnets.iter().copied())
            .filter(|s| self.subnets[s.index()].prefix.contains(&ip))
            .min()
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
    /// on-premises spaces, those of the VNets peered with it, and the host platform address
    /// 168.63.129.16.
    pub fn virtual_network_tag(&self, vnet: VnetId) -> AddrSet {
        AddrSet::from_nets(&self.virtual_network_prefixes(vnet))
    }

    /// The prefixes `VirtualNetwork` is made of in `vnet`, unmerged: address spaces, connected
    /// on-premises spaces, peered VNets' spaces, the host platform address.
    pub fn virtual_network_prefixes(&self, vnet: VnetId) -> Vec<IpNet> {
        let v = &self.vnets[vnet.index()];
        let mut nets: Vec<IpNet> = v.address_space.clone();
        nets.extend(v.on_premises.iter().copied());
        if let Some(remote) = v.remote_gateway {
            nets.extend(self.vnets[remote.index()].on_premises.iter().copied());
        }
        for peer in &v.peerings {
            nets.extend(self.vnets[peer.index()].address_space.iter().copied());
        }
        nets.push(IpNet::from(PLATFORM_HOST_ADDRESS));
        nets
    }

    /// What every symbolic address means for an NSG applied to `subnet` or to a NIC in it.
    ///
    /// `VirtualNetwork` also holds the prefixes of the user-defined routes of the subnet's route
    /// table (Microsoft: "address prefixes used on user-defined routes"); with forced tunnelling
    /// (`0.0.0.0/0` to an appliance) it therefore covers everything, a known surprise.
    pub fn resolve_context_for_subnet(&self, subnet: SubnetId) -> ResolveContext {
        let s = &self.subnets[subnet.index()];
        let mut ctx = self.resolve_context(s.vnet);
        if let Some(rt) = s.route_table {
            let udr: Vec<IpNet> = self.route_tables[rt.0 as usize]
                .routes
                .iter()
                .filter(|r| r.next_hop != super::appliance::NextHop::None)
                .map(|r| r.prefix)
                .collect();
            ctx.virtual_network = ctx.virtual_network.union(&AddrSet::from_nets(&udr));
            for prefix in udr {
                if !ctx.virtual_network_prefixes.contains(&prefix) {
                    let host = ctx.virtual_network_prefixes.len().saturating_sub(1);
                    ctx.virtual_network_prefixes.insert(host, prefix);
                }
            }
            ctx.internet = ctx.internet.subtract(&ctx.virtual_network);
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
        let internet = internet_space().subtract(&virtual_network);
        let mut asg_members = HashMap::new();
        for (i, asg) in self.asgs.iter().enumerate() {
            let ips: Vec<IpNet> =
                asg.members.iter().map(|n| IpNet::from(self.nics[n.index()].private_ip)).collect();
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

    #[test]
    fn nic_address_checks() {
        let (mut t, _, s) = small();
        assert!(matches!(
            t.add_nic("a", s, ip("10.0.2.4"), None),
            Err(TopologyError::IpOutsideSubnet { .. })
        ));
        assert!(matches!(t.add_nic("a", s, ip("10.0.1.1"), None), Err(TopologyError::IpReserved { .. })));
        assert!(matches!(t.add_nic("a", s, ip("10.0.1.255"), None), Err(TopologyError::IpReserved { .. })));
        assert!(t.add_nic("a", s, ip("10.0.1.4"), None).is_ok());
        assert!(matches!(t.add_nic("b", s, ip("10.0.1.4"), None), Err(TopologyError::DuplicateIp { .. })));
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
        t.set_subnet_nsg(s, Some(nsg));
        let err = t.add_firewall(fw.clone(), v).expect_err("an NSG on AzureFirewallSubnet");
        assert!(err.to_string().contains("NSGs are not supported on AzureFirewallSubnet"), "{err}");
        t.set_subnet_nsg(s, None);
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

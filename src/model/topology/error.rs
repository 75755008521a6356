//! Why a topology is not one Azure would accept.

use std::net::IpAddr;

use ipnet::IpNet;

use super::requirement::{RequirementProblem, Resource};

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
    #[error(
        "vnet '{vnet}': address spaces {first} and {second} overlap; valid: address spaces that share no address (keep the wider one, or give the other a range of its own)"
    )]
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
        "subnet '{second}' ({second_prefix}) overlaps subnet '{first}' ({first_prefix}) in vnet '{vnet}'; valid: a prefix that overlaps no other subnet of the VNet"
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
    #[error(
        "nic '{second}': private IP {ip} is already used by nic '{first}' in vnet '{vnet}'; valid: an address of the subnet that no other NIC of the VNet has"
    )]
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
    /// A VNet that would hold more of something (subnets, private IP addresses) than Azure allows.
    #[error(
        "vnet '{vnet}' cannot take {resource}: it already has {limit}, the most Azure allows (Azure subscription and service limits, networking limits: \"{what}\"); valid: at most {limit}"
    )]
    VnetLimit {
        /// The VNet.
        vnet: String,
        /// What was refused.
        resource: String,
        /// The limit.
        limit: usize,
        /// The limit's line on Microsoft's page, quoted.
        what: &'static str,
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
    #[error(
        "vnets '{first}' and '{second}' cannot be peered: their address spaces overlap; valid: VNets whose address spaces share no address, or a subnet peering of subnets that do not overlap"
    )]
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
    #[error("vnet '{vnet}' cannot be peered with itself; valid: a peering of two different VNets")]
    SelfPeering {
        /// The VNet.
        vnet: String,
    },
    /// A resource that breaks one of Azure's requirements for it.
    #[error("{resource}: {problem}")]
    Requirement {
        /// The resource, e.g. `firewall 'hub-fw'`.
        resource: Resource,
        /// What is wrong and what would be valid (boxed: a `Result` carrying the error stays
        /// small).
        problem: Box<RequirementProblem>,
    },
    /// A subnet peering Azure refuses.
    #[error("the subnet peering of vnets '{a}' and '{b}': {problem}")]
    SubnetPeering {
        /// The first VNet.
        a: String,
        /// The second VNet.
        b: String,
        /// What is wrong (boxed: a `Result` carrying the error stays small).
        problem: Box<SubnetPeeringProblem>,
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

impl TopologyError {
    /// A [`TopologyError::Requirement`]: `resource` breaks `problem`, a problem of its family.
    pub fn requirement(resource: Resource, problem: impl Into<RequirementProblem>) -> Self {
        TopologyError::Requirement { resource, problem: Box::new(problem.into()) }
    }

    /// The problem of a [`TopologyError::Requirement`], for matching on its family and facts.
    pub fn requirement_problem(&self) -> Option<&RequirementProblem> {
        match self {
            TopologyError::Requirement { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// Why Azure refuses a subnet peering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubnetPeeringProblem {
    /// The VNets are peered already.
    #[error("the vnets are already peered; Azure allows only one peering link between two virtual networks")]
    AlreadyPeered,
    /// One side names no subnet.
    #[error("names no subnet of vnet '{vnet}'; a subnet peering needs at least one subnet on each side")]
    NoSubnet {
        /// The VNet whose side is empty.
        vnet: String,
    },
    /// A subnet named on a side is in another VNet.
    #[error("subnet '{subnet}' is not in vnet '{vnet}'")]
    SubnetNotInVnet {
        /// The subnet.
        subnet: String,
        /// The VNet of the side that names it.
        vnet: String,
    },
    /// A subnet's address space overlaps an address space of the other VNet.
    #[error(
        "subnet '{subnet}' ({prefix}) of vnet '{vnet}' belongs to address space {space}, which overlaps {theirs} of vnet '{other}'; Azure: \"The participating subnets must be unique and must belong to unique address spaces\""
    )]
    SharedAddressSpace {
        /// The subnet.
        subnet: String,
        /// Its prefix.
        prefix: IpNet,
        /// Its VNet.
        vnet: String,
        /// The address space of its VNet that holds it.
        space: IpNet,
        /// The other VNet's address space that overlaps `space`.
        theirs: IpNet,
        /// The other VNet.
        other: String,
    },
}

//! Why a resource breaks one of Azure's requirements for it, as data (issue 23, "outcomes as
//! data").
//!
//! [`TopologyError::Requirement`](super::TopologyError::Requirement) used to carry its problem as
//! a sentence; tests then searched the sentence for words. Now the resource is a [`Resource`]
//! and the problem a [`RequirementProblem`]: one enum per resource family (load balancers, NAT
//! gateways and public IP prefixes, firewalls and Bastion hosts, peerings, admin rules) holding
//! the facts (names, prefixes, addresses, SKUs). `Display` writes the words the user has always
//! seen, so callers and tests branch on variants and fields instead.

use std::net::IpAddr;

use ipnet::IpNet;

use super::PublicIpSku;
use super::nat_gateways::GATEWAY_SUBNET;
use crate::model::appliance::NextHop;
use crate::model::load_balancer::{LbSku, OutboundRuleProblem};

/// The resource a requirement is about, written as errors name it (`load balancer 'lb'`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Resource {
    /// An Azure Firewall.
    #[error("firewall '{0}'")]
    Firewall(String),
    /// An Azure Bastion host.
    #[error("bastion '{0}'")]
    Bastion(String),
    /// A subnet of a VNet.
    #[error("subnet '{vnet}/{subnet}'")]
    Subnet {
        /// The VNet.
        vnet: String,
        /// The subnet.
        subnet: String,
    },
    /// A virtual network.
    #[error("vnet '{0}'")]
    Vnet(String),
    /// A public IP address.
    #[error("public IP '{0}'")]
    PublicIp(String),
    /// A public IP prefix.
    #[error("public IP prefix '{0}'")]
    PublicIpPrefix(String),
    /// A NAT gateway.
    #[error("NAT gateway '{0}'")]
    NatGateway(String),
    /// A load balancer.
    #[error("load balancer '{0}'")]
    LoadBalancer(String),
    /// A rule collection of a security admin configuration.
    #[error("rule collection '{configuration}/{collection}'")]
    RuleCollection {
        /// The security admin configuration.
        configuration: String,
        /// The collection.
        collection: String,
    },
    /// A security admin rule.
    #[error("admin rule '{configuration}/{collection}/{rule}'")]
    AdminRule {
        /// The security admin configuration.
        configuration: String,
        /// The collection.
        collection: String,
        /// The rule.
        rule: String,
    },
}

/// What is wrong with a resource and what would be valid, by resource family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequirementProblem {
    /// Azure Firewall, Azure Bastion and the firewall's subnet.
    #[error("{0}")]
    Appliance(ApplianceProblem),
    /// Peering and gateway transit.
    #[error("{0}")]
    Peering(PeeringProblem),
    /// NAT gateways, public IP prefixes and the public IPs drawn from them.
    #[error("{0}")]
    NatGateway(NatGatewayProblem),
    /// Load balancers.
    #[error("{0}")]
    LoadBalancer(LoadBalancerProblem),
    /// Virtual Network Manager's security admin rules and their collections.
    #[error("{0}")]
    AdminRule(AdminRuleProblem),
}

/// Why Azure refuses an Azure Firewall, an Azure Bastion host or an NSG on the firewall's subnet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplianceProblem {
    /// The route table on `AzureFirewallSubnet` has no `0.0.0.0/0` route (Azure's
    /// `AzureFirewallSubnetRouteTableMustHaveDefaultRouteToInternet`).
    #[error(
        "route table '{table}' on AzureFirewallSubnet must have a 0.0.0.0/0 route with next hop Internet (the firewall needs direct Internet connectivity); it has no 0.0.0.0/0 route"
    )]
    NoDefaultRoute {
        /// The route table.
        table: String,
    },
    /// The route table on `AzureFirewallSubnet` sends `0.0.0.0/0` elsewhere than the Internet.
    #[error(
        "route table '{table}' on AzureFirewallSubnet must have a 0.0.0.0/0 route with next hop Internet (the firewall needs direct Internet connectivity); its 0.0.0.0/0 route '{route}' goes to {next_hop}"
    )]
    DefaultRouteNotInternet {
        /// The route table.
        table: String,
        /// Its `0.0.0.0/0` route.
        route: String,
        /// Where that route goes.
        next_hop: NextHop,
    },
    /// A public IP whose SKU is not Standard.
    #[error("public IP '{public_ip}' is {sku:?} SKU; {service} requires a Standard SKU public IP")]
    NotStandardPublicIp {
        /// The public IP.
        public_ip: String,
        /// Its SKU.
        sku: PublicIpSku,
        /// `Azure Firewall` or `Azure Bastion`.
        service: &'static str,
    },
    /// An NSG on `AzureFirewallSubnet`.
    #[error(
        "NSGs are not supported on AzureFirewallSubnet (Azure disables subnet-level NSGs there; the firewall has its own platform protection); remove the subnet's nsg, or put the NSG on another subnet or a NIC"
    )]
    NsgOnFirewallSubnet,
}

/// Why Azure refuses a VNet's peering setting or its use of a remote gateway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeeringProblem {
    /// The VNets are not peered.
    #[error("is not peered with vnet '{remote}'; peer them first")]
    NotPeered {
        /// The other VNet.
        remote: String,
    },
    /// The remote VNet has no gateway.
    #[error("cannot use the gateway of vnet '{remote}': it has none (no on_premises spaces)")]
    RemoteHasNoGateway {
        /// The remote VNet.
        remote: String,
    },
    /// The VNet has a gateway of its own.
    #[error("has a gateway of its own (on_premises); a VNet with a gateway cannot use remote gateways")]
    HasOwnGateway,
    /// The VNet already uses another VNet's gateway.
    #[error("already uses the gateway of vnet '{other}'; a VNet can use one remote gateway")]
    UsesAnotherGateway {
        /// The VNet whose gateway it uses.
        other: String,
    },
}

/// Why Azure refuses a NAT gateway, a public IP prefix or a public IP's place in a prefix
/// (Microsoft's "Azure NAT Gateway resource" page, quoted in the words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NatGatewayProblem {
    /// A public IP prefix overlapping another.
    #[error(
        "{prefix} overlaps public IP prefix '{other}' ({other_prefix}); Azure allocates each prefix its own range of addresses"
    )]
    PrefixOverlap {
        /// The new prefix's range.
        prefix: IpNet,
        /// The prefix it overlaps.
        other: String,
        /// That prefix's range.
        other_prefix: IpNet,
    },
    /// A public IP whose address is outside the prefix it is said to come from.
    #[error(
        "its address {address} is outside public IP prefix '{prefix}' ({range}); valid: an address of the prefix"
    )]
    AddressOutsidePrefix {
        /// The public IP's address.
        address: IpAddr,
        /// The prefix.
        prefix: String,
        /// The prefix's range.
        range: IpNet,
    },
    /// A public IP drawn from a prefix a NAT gateway uses whole.
    #[error(
        "public IP prefix '{prefix}' is NAT gateway '{gateway}''s whole: \"If you assign a public IP prefix, the entire public IP prefix is used. You can't assign a public IP prefix and then break out individual IP addresses to assign to other resources\""
    )]
    PrefixUsedWhole {
        /// The prefix.
        prefix: String,
        /// The NAT gateway.
        gateway: String,
    },
    /// An idle timeout outside 4 to 120 minutes.
    #[error(
        "idle timeout {minutes} minutes is outside 4 to 120 (\"A NAT gateway provides a configurable idle timeout range of 4 minutes to 120 minutes for TCP protocols\")"
    )]
    IdleTimeout {
        /// The timeout given.
        minutes: u16,
    },
    /// A public IP listed twice.
    #[error("public IP '{public_ip}' is listed twice")]
    PublicIpTwice {
        /// The public IP.
        public_ip: String,
    },
    /// A Basic SKU public IP.
    #[error(
        "public IP '{public_ip}' is Basic SKU: \"A NAT gateway can't be used with basic SKU public IP addresses\"; valid: a Standard public IP"
    )]
    BasicPublicIp {
        /// The public IP.
        public_ip: String,
    },
    /// An IPv6 public IP.
    #[error(
        "public IP '{public_ip}' ({address}) is IPv6: \"A NAT gateway can't be used with IPv6 public IP addresses or prefixes\""
    )]
    Ipv6PublicIp {
        /// The public IP.
        public_ip: String,
        /// Its address.
        address: IpAddr,
    },
    /// A public IP prefix listed twice.
    #[error("public IP prefix '{prefix}' is listed twice")]
    PrefixTwice {
        /// The prefix.
        prefix: String,
    },
    /// An IPv6 public IP prefix.
    #[error(
        "public IP prefix '{prefix}' ({range}) is IPv6: \"A NAT gateway can't be used with IPv6 public IP addresses or prefixes\""
    )]
    Ipv6Prefix {
        /// The prefix.
        prefix: String,
        /// Its range.
        range: IpNet,
    },
    /// A prefix another NAT gateway has.
    #[error("public IP prefix '{prefix}' is already NAT gateway '{gateway}''s")]
    PrefixTaken {
        /// The prefix.
        prefix: String,
        /// The NAT gateway that has it.
        gateway: String,
    },
    /// A prefix some public IP is drawn from.
    #[error(
        "public IP '{public_ip}' is drawn from public IP prefix '{prefix}': \"If you assign a public IP prefix, the entire public IP prefix is used. You can't assign a public IP prefix and then break out individual IP addresses to assign to other resources\""
    )]
    PrefixPartlyUsed {
        /// The public IP drawn from the prefix.
        public_ip: String,
        /// The prefix.
        prefix: String,
    },
    /// More than 16 addresses in all.
    #[error(
        "{total} public addresses ({public_ips} public IPs and the prefixes' addresses): \"A NAT gateway can use public IP addresses or prefixes in any combination up to a total of 16 IP addresses\""
    )]
    TooManyAddresses {
        /// The addresses of the public IPs and prefixes together.
        total: u64,
        /// How many public IPs.
        public_ips: usize,
    },
    /// Attached to the gateway subnet.
    #[error(
        "it cannot be attached to {GATEWAY_SUBNET} of vnet '{vnet}': \"A NAT gateway can't be used with a gateway subnet\""
    )]
    GatewaySubnet {
        /// The VNet of the gateway subnet.
        vnet: String,
    },
    /// Attached to subnets of two VNets.
    #[error(
        "it is attached to subnet '{attached}' of vnet '{attached_vnet}' and cannot also serve subnet '{subnet}' of vnet '{vnet}': \"A NAT gateway can't be attached to subnets from different virtual networks\""
    )]
    SubnetsOfTwoVnets {
        /// A subnet it is attached to.
        attached: String,
        /// That subnet's VNet.
        attached_vnet: String,
        /// The subnet it would also serve.
        subnet: String,
        /// That subnet's VNet.
        vnet: String,
    },
}

/// Why Azure refuses a subnet's NAT gateway given what else is in the subnet ("Basic load
/// balancers and basic public IP addresses aren't compatible with NAT gateway"), found once the
/// whole topology is loaded ([`super::Topology::nat_gateway_conflict`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NatGatewayConflict {
    /// A NIC of the subnet has a Basic public IP.
    #[error(
        "NAT gateway '{gateway}' is on subnet '{subnet}', where nic '{nic}' has Basic public IP '{public_ip}': {BASIC_QUOTE}"
    )]
    BasicPublicIp {
        /// The NAT gateway.
        gateway: String,
        /// The subnet.
        subnet: String,
        /// The NIC.
        nic: String,
        /// Its Basic public IP.
        public_ip: String,
    },
    /// A NIC of the subnet is in a pool of a Basic load balancer.
    #[error(
        "NAT gateway '{gateway}' is on subnet '{subnet}', where nic '{nic}' is in a pool of Basic load balancer '{load_balancer}': {BASIC_QUOTE}"
    )]
    BasicLoadBalancer {
        /// The NAT gateway.
        gateway: String,
        /// The subnet.
        subnet: String,
        /// The NIC.
        nic: String,
        /// The Basic load balancer.
        load_balancer: String,
    },
}

/// Microsoft's words on Basic resources beside a NAT gateway, quoted.
const BASIC_QUOTE: &str = "\"Basic load balancers and basic public IP addresses aren't compatible with NAT gateway. Use standard SKU load balancers and public IPs instead\"";

/// Why Azure refuses a load balancer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadBalancerProblem {
    /// A public frontend whose public IP's SKU is not the load balancer's.
    #[error(
        "frontend '{frontend}': public IP '{public_ip}' is {ip_sku:?} SKU but the load balancer is {lb_sku} SKU; the SKU of the public IP and the load balancer must match"
    )]
    SkuMismatch {
        /// The frontend.
        frontend: String,
        /// Its public IP.
        public_ip: String,
        /// The public IP's SKU.
        ip_sku: PublicIpSku,
        /// The load balancer's SKU.
        lb_sku: LbSku,
    },
    /// A backend member whose NIC does not exist.
    #[error("pool '{pool}': a member NIC does not exist")]
    MissingMember {
        /// The pool.
        pool: String,
    },
    /// A backend member naming an IP configuration its NIC does not have.
    #[error("pool '{pool}': nic '{nic}' has no IP configuration number {config}")]
    NoSuchIpConfig {
        /// The pool.
        pool: String,
        /// The NIC.
        nic: String,
        /// The configuration's number (0: the primary).
        config: usize,
    },
    /// A pool whose members are in two VNets.
    #[error(
        "pool '{pool}': nic '{nic}' is in vnet '{vnet}' but the pool's first member is in vnet '{first_vnet}'; a backend pool's members are in one virtual network"
    )]
    PoolAcrossVnets {
        /// The pool.
        pool: String,
        /// The member NIC.
        nic: String,
        /// Its VNet.
        vnet: String,
        /// The VNet of the pool's first member.
        first_vnet: String,
    },
    /// A load-balancing rule naming a frontend or pool that does not exist.
    #[error("rule '{rule}' names a frontend or pool that does not exist")]
    RuleTargetMissing {
        /// The rule.
        rule: String,
    },
    /// A load-balancing rule naming a probe that does not exist.
    #[error("rule '{rule}' names a probe that does not exist")]
    RuleProbeMissing {
        /// The rule.
        rule: String,
    },
    /// An HA ports rule on a public or Basic load balancer.
    #[error(
        "rule '{rule}' is an HA ports rule (protocol All, port 0), which only an internal Standard load balancer has; valid: protocol Tcp or Udp with a port, or an internal Standard load balancer"
    )]
    HaPorts {
        /// The rule.
        rule: String,
    },
    /// An inbound NAT rule naming a frontend that does not exist.
    #[error("NAT rule '{rule}' names a frontend that does not exist")]
    NatRuleFrontendMissing {
        /// The NAT rule.
        rule: String,
    },
    /// An inbound NAT rule whose frontend port range ends before it starts.
    #[error("NAT rule '{rule}': frontend port range {start}-{end} ends before it starts")]
    NatRulePortRange {
        /// The NAT rule.
        rule: String,
        /// The range's first port.
        start: u16,
        /// The range's last port.
        end: u16,
    },
    /// An inbound NAT rule naming a pool that does not exist.
    #[error("NAT rule '{rule}' names a pool that does not exist")]
    NatRulePoolMissing {
        /// The NAT rule.
        rule: String,
    },
    /// An inbound NAT rule naming a NIC IP configuration that does not exist.
    #[error("NAT rule '{rule}' names a NIC IP configuration that does not exist")]
    NatRuleMemberMissing {
        /// The NAT rule.
        rule: String,
    },
    /// What Azure refuses in an outbound rule.
    #[error("{0}")]
    OutboundRule(OutboundRuleProblem),
}

/// Why Azure refuses a security admin rule or its collection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminRuleProblem {
    /// A collection applied to a network group that does not exist.
    #[error("network group #{group} does not exist")]
    NoSuchNetworkGroup {
        /// The group's index.
        group: u32,
    },
    /// A priority outside 1–4096.
    #[error("priority {priority} is outside 1..=4096")]
    PriorityOutOfRange {
        /// The priority given.
        priority: u16,
    },
    /// A priority another rule of the collection has.
    #[error(
        "priority {priority} is already used by rule '{other}' of the same collection; Azure: \"The priority number must be unique for each rule in the collection\""
    )]
    PriorityTaken {
        /// The priority.
        priority: u16,
        /// The rule that has it.
        other: String,
    },
    /// An application security group as a source or destination.
    #[error(
        "an admin rule's sources and destinations are IP prefixes or service tags, not application security groups"
    )]
    AsgAddress,
}

macro_rules! family {
    ($($family:ident => $variant:ident),* $(,)?) => {$(
        impl From<$family> for RequirementProblem {
            fn from(p: $family) -> Self {
                RequirementProblem::$variant(p)
            }
        }
    )*};
}

family!(
    ApplianceProblem => Appliance,
    PeeringProblem => Peering,
    NatGatewayProblem => NatGateway,
    LoadBalancerProblem => LoadBalancer,
    AdminRuleProblem => AdminRule,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_is_named_as_errors_name_it() {
        let rule =
            Resource::AdminRule { configuration: "c".into(), collection: "k".into(), rule: "r".into() };
        assert_eq!(rule.to_string(), "admin rule 'c/k/r'");
        let subnet = Resource::Subnet { vnet: "hub".into(), subnet: "AzureFirewallSubnet".into() };
        assert_eq!(subnet.to_string(), "subnet 'hub/AzureFirewallSubnet'");
        assert_eq!(Resource::NatGateway("gw".into()).to_string(), "NAT gateway 'gw'");
    }

    #[test]
    fn a_family_shows_its_problem_words() {
        let p: RequirementProblem =
            LoadBalancerProblem::NatRulePortRange { rule: "ssh".into(), start: 50_010, end: 50_001 }.into();
        assert_eq!(p.to_string(), "NAT rule 'ssh': frontend port range 50010-50001 ends before it starts");
        let p: RequirementProblem = ApplianceProblem::DefaultRouteNotInternet {
            table: "rt".into(),
            route: "d".into(),
            next_hop: NextHop::None,
        }
        .into();
        assert!(matches!(p, RequirementProblem::Appliance(ApplianceProblem::DefaultRouteNotInternet { .. })));
        assert_eq!(
            p.to_string(),
            "route table 'rt' on AzureFirewallSubnet must have a 0.0.0.0/0 route with next hop Internet (the firewall needs direct Internet connectivity); its 0.0.0.0/0 route 'd' goes to None"
        );
    }
}

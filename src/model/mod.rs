//! The topology: virtual networks, subnets, NICs, VMs, public IPs, NSGs and application security
//! groups, addressed by typed ids.
//!
//! A [`Topology`] is built through checked `add_*` methods, so one that exists is consistent:
//! subnets lie inside their VNet and do not overlap, NIC addresses lie inside their subnet and
//! are not among the addresses Azure reserves, every id points at something. References by name
//! are resolved once, at load time (`scenario`); the engine only passes ids around.
//!
//! A private address is unique only within a routing domain (a VNet and the VNets peered with it):
//! VNets that are not connected may reuse addresses, as Azure lets them, so address lookups take
//! the VNet they are seen from (see `domain`, and [`Site`]).
//!
//! [`Caveat`]s live beside the topology rather than in it: they say what the topology lacks
//! (a load balancer, a remote template) and whose traffic that can change, by id. So does a
//! scenario's teaching material ([`Correction`]s of training texts, [`ConceptQuestion`]s).

mod admin;
mod appliance;
mod caveat;
mod describe;
mod domain;
mod graph;
mod load_balancer;
mod nat_gateway;
mod service_tags;
mod teaching;
mod topology;
mod user;

/// The typed ids live in the bottom layer ([`crate::ids`]) so that `nsg`, below the model, can
/// name application security groups; re-exported here beside the tables they index.
pub use crate::ids::{AsgId, NicId, NsgId, PublicIpId, SubnetId, VmId, VnetId};
pub use admin::{
    ADMIN_PRIORITY_RANGE, AdminAction, AdminConfigId, AdminRule, AdminRuleCollection, AppliedAdminRule,
    NetworkGroup, NetworkGroupId, SecurityAdminConfiguration,
};
pub use appliance::{
    ApplicationRule, Bastion, BastionId, CollectionRules, DnatRule, Firewall, FirewallAction, FirewallId,
    FirewallMode, IANA_PRIVATE_RANGES, NetworkRule, NextHop, Route, RouteTable, RouteTableId, RuleCollection,
    RuleCollectionGroup, SnatPrivateRanges,
};
pub use caveat::{Affected, Caveat, CaveatKind, CaveatSource, CaveatTarget};
pub use domain::Site;
pub use graph::{GraphEdge, GraphNode, PrivateReach, TopologyGraph};
pub use load_balancer::{
    BackendMember, BackendPool, Frontend, FrontendAddress, LbProtocol, LbRule, LbSku, LoadBalancer,
    LoadBalancerId, NatRule, NatTarget, OutboundRule, OutboundRuleProblem, Probe, ProbeProtocol,
    SNAT_PORTS_PER_ADDRESS,
};
pub use nat_gateway::{
    MAX_NAT_GATEWAY_ADDRESSES, NAT_IDLE_TIMEOUT_MINUTES, NAT_SNAT_PORTS_PER_ADDRESS, NatGateway,
    NatGatewayId, NatSku, PublicIpPrefix, PublicIpPrefixId,
};
pub use service_tags::{
    PLATFORM_HOST_ADDRESS, ServiceTagFile, TagFacts, TagProvenance, internet_space, nearest_names,
    sample_service_tags,
};
pub use teaching::{ConceptQuestion, Correction, KnownClaim, MAX_CHOICES, MicrosoftPage, SourceRef};
pub use topology::{
    AdminRuleProblem, ApplianceProblem, Asg, BASTION_SUBNET, FIREWALL_SUBNET, GATEWAY_SUBNET, IpConfig,
    LoadBalancerProblem, MAX_ASGS_PER_NIC, NatGatewayConflict, NatGatewayProblem, Nic, Os, PeeringProblem,
    PublicIp, PublicIpSku, RequirementProblem, Resource, Subnet, SubnetPeeringProblem, Topology,
    TopologyError, Vm, Vnet,
};
pub use user::User;

//! End-to-end evaluation of one flow through the topology, hop by hop, in Azure's order.
//!
//! The order (Microsoft, "How network security groups filter traffic"):
//! - leaving a NIC: the NIC's NSG, then its subnet's NSG, both outbound;
//! - arriving at a NIC: its subnet's NSG, then the NIC's NSG, both inbound;
//! - a level without an NSG lets everything through; the first NSG that denies ends the path;
//! - inbound NSGs see the destination after public-to-private translation, outbound NSGs see
//!   the source before private-to-public translation;
//! - a Standard public IP is closed to inbound traffic unless an NSG on the path allows it.
//!
//! Every step is a [`Hop`] in the returned [`Trace`], so a verdict always says which NSG and
//! which rule decided it. This module reads no clock and does no I/O.

mod admin;
mod bastion;
mod detail;
mod evaluate;
mod firewall;
mod load_balancer;
pub mod outbound;
pub mod platform;
mod policy;
pub mod route;
#[cfg(test)]
mod testing;

pub use bastion::{MissingBastionRule, missing_bastion_rules};
pub use detail::{
    BlockedPeering, HopDetail, HostAt, LbDetail, LbFrontend, Member, MemberAnswer, NoSnat, NsgPlace,
    OutboundDetail, PartialSnat, PeeringLead, PeeringRole, PeeringTagNote, PlatformAnswer, PlatformDetail,
    PrivateWay, Probe, RouteDetail, RouteThen, RouteVia, Sender, SnatFrontend, SnatMember, SubnetPeeringGap,
};
pub use evaluate::{
    DEFAULT_OUTBOUND_ADDRESS, Destination, FlowRequest, Source, destination_nic, destination_vnet, evaluate,
    reply_source, sending_vnet, source_at,
};
pub use firewall::Snat;
pub use policy::PolicyCache;

use crate::nsg::{Access, Direction, RuleRef};

/// What a hop was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HopKind {
    /// An NSG was evaluated.
    Nsg,
    /// A level (subnet or NIC) had no NSG and let the flow through.
    NoNsg,
    /// A public IP translated the destination (inbound) or stood in front of the VM.
    PublicIp,
    /// Routing: whether the destination is reachable from the source at all.
    Route,
    /// Azure Firewall: DNAT, network and application rules.
    Firewall,
    /// Azure Bastion: the portal on 443 and the session it opens.
    Bastion,
    /// The host node answered a platform service (DNS, IMDS, DHCP, health) that NSGs do not
    /// filter by default.
    Platform,
    /// Azure Virtual Network Manager's security admin rules of the VNet, evaluated before its
    /// NSGs: the matching rule (Allow goes on to the NSGs, AlwaysAllow skips them, Deny stops),
    /// or none.
    AdminRule,
    /// Azure Load Balancer: the inbound NAT rule or load-balancing rule that took the flow (or
    /// none), the member it goes to, a Standard SKU's closed default; outbound, the outbound rule
    /// or load-balancing rule that translates a member's source to a frontend's address, or why
    /// none does.
    LoadBalancer,
    /// Azure NAT Gateway: the subnet's gateway translating a sender's source to one of its
    /// public addresses on the way to the Internet, or why it gives no way out.
    NatGateway,
}

impl HopKind {
    /// The stable name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            HopKind::Nsg => "nsg",
            HopKind::NoNsg => "no-nsg",
            HopKind::PublicIp => "public-ip",
            HopKind::Route => "route",
            HopKind::Firewall => "firewall",
            HopKind::Bastion => "bastion",
            HopKind::Platform => "platform",
            HopKind::AdminRule => "admin-rule",
            HopKind::LoadBalancer => "load-balancer",
            HopKind::NatGateway => "nat-gateway",
        }
    }
}

/// Where an NSG is associated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// On the subnet.
    Subnet,
    /// On the network interface.
    Nic,
}

impl Level {
    /// `subnet` or `networkInterface`, as Azure's effective-rules output names the association.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Subnet => "subnet",
            Level::Nic => "networkInterface",
        }
    }
}

/// One step of a flow's path and what it decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    /// What kind of step.
    pub kind: HopKind,
    /// The resource: an NSG name, `subnet vnet/name`, `nic name`, a public IP name, …
    pub resource: String,
    /// For NSG hops: where the NSG is associated.
    pub level: Option<Level>,
    /// For NSG hops: the direction evaluated.
    pub direction: Option<Direction>,
    /// The deciding rule: an NSG's (printed as Azure names it, `securityRules/NAME`,
    /// `defaultSecurityRules/NAME`), a security admin rule, a firewall or load balancer rule.
    pub rule: Option<RuleRef>,
    /// For NSG hops: the deciding rule's priority.
    pub priority: Option<u16>,
    /// What the hop did with the flow.
    pub access: Access,
    /// What the hop says, with its facts; its `Display` is the sentence for people.
    pub detail: HopDetail,
}

/// The outcome of evaluating a flow: the verdict and every hop that led to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Allow when every hop allowed.
    pub verdict: Access,
    /// The hops in path order; evaluation stops at the first deny.
    pub hops: Vec<Hop>,
}

impl Hop {
    /// The deciding rule as Azure spells it (what JSON and messages show), if the hop has one.
    pub fn rule_name(&self) -> Option<String> {
        self.rule.as_ref().map(ToString::to_string)
    }
}

impl Trace {
    /// The hop that decided the verdict: the denying hop, or for an allowed flow the last NSG hop
    /// (the rule that let it in), or the last hop when no NSG was on the path.
    pub fn deciding_hop(&self) -> Option<&Hop> {
        match self.verdict {
            Access::Deny => self.hops.iter().find(|h| h.access == Access::Deny),
            // An AlwaysAllow admin rule at the end of the path delivered the flow without NSGs.
            Access::Allow => match self.hops.last() {
                Some(last) if last.kind == HopKind::AdminRule && last.rule.is_some() => Some(last),
                _ => self
                    .hops
                    .iter()
                    .rev()
                    .find(|h| matches!(h.kind, HopKind::Nsg | HopKind::Firewall))
                    .or(self.hops.last()),
            },
        }
    }
}

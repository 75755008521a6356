//! Azure Virtual Network Manager's security admin rules: network groups of VNets, security admin
//! configurations, their rule collections and rules.
//!
//! Microsoft ("Security admin rules in Azure Virtual Network Manager"): "Security admin rules are
//! evaluated before NSG rules"; an `Allow` rule lets the traffic on to the NSGs, an `AlwaysAllow`
//! rule delivers it without them, a `Deny` rule stops it. A rule collection applies to network
//! groups, and a network group is a set of VNets: the rules apply to every resource of those
//! VNets. A configuration takes effect only once deployed ("Configurations don't take effect until
//! they're deployed"); [`SecurityAdminConfiguration::deployed`] says whether it is.
//!
//! The rules are plain data here; how a flow meets them is `path`'s job.

use std::fmt;

use crate::ids::VnetId;
use crate::matcher::MatchRule;
use crate::net::AddrSet;
use crate::nsg::{AddressSpec, Direction, PortSpec, ResolveContext, RuleProtocol, resolve_fields};

/// Typed ids live in [`crate::ids`]; re-exported here where they have always been named.
pub use crate::ids::{AdminConfigId, NetworkGroupId};

/// The lowest and highest priority of a security admin rule (REST `AdminPropertiesFormat`: "The
/// value can be between 1 and 4096").
pub const ADMIN_PRIORITY_RANGE: std::ops::RangeInclusive<u16> = 1..=4096;

/// What a security admin rule does with the traffic it matches (Azure's `access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminAction {
    /// Let it on to the NSGs, which decide.
    Allow,
    /// Deliver it without evaluating the NSGs.
    AlwaysAllow,
    /// Drop it; the NSGs are not evaluated.
    Deny,
}

impl AdminAction {
    /// Azure's spelling (`Allow`, `AlwaysAllow`, `Deny`).
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::Allow => "Allow",
            AdminAction::AlwaysAllow => "AlwaysAllow",
            AdminAction::Deny => "Deny",
        }
    }

    /// Parses Azure's spelling, in any case.
    pub fn parse(text: &str) -> Option<AdminAction> {
        Some(match text.to_ascii_lowercase().as_str() {
            "allow" => AdminAction::Allow,
            "alwaysallow" => AdminAction::AlwaysAllow,
            "deny" => AdminAction::Deny,
            _ => return None,
        })
    }
}

impl fmt::Display for AdminAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A network group: VNets that configurations apply to. nsgsim models static members; Azure
/// Policy's dynamic membership is not evaluated (write its result as static members).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkGroup {
    /// Name, unique in the topology.
    pub name: String,
    /// Its member VNets.
    pub members: Vec<VnetId>,
}

/// One security admin rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRule {
    /// Name, unique in its collection.
    pub name: String,
    /// 1–4096, lower first; unique in its collection.
    pub priority: u16,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Allow, AlwaysAllow or Deny.
    pub action: AdminAction,
    /// Protocol.
    pub protocol: RuleProtocol,
    /// Sources: IP prefixes or service tags; empty is any address.
    pub sources: Vec<AddressSpec>,
    /// Source ports.
    pub source_ports: PortSpec,
    /// Destinations: IP prefixes or service tags; empty is any address.
    pub destinations: Vec<AddressSpec>,
    /// Destination ports.
    pub destination_ports: PortSpec,
    /// Free text.
    pub description: String,
}

impl AdminRule {
    /// The rule in the matcher's form, its service tags resolved in `ctx` (the VNet it applies
    /// in, for `VirtualNetwork`).
    pub fn resolve(&self, ctx: &ResolveContext) -> MatchRule {
        let set = |specs: &[AddressSpec]| {
            if specs.is_empty() {
                return AddrSet::any();
            }
            specs.iter().fold(AddrSet::empty(), |acc, s| acc.union(&ctx.addresses(s)))
        };
        resolve_fields(
            self.protocol,
            set(&self.sources),
            &self.source_ports,
            set(&self.destinations),
            &self.destination_ports,
        )
    }

    /// Whether the rule names `port` among its destination ports for TCP.
    pub fn covers_tcp_port(&self, port: u16) -> bool {
        matches!(self.protocol, RuleProtocol::Tcp | RuleProtocol::Any)
            && self.destination_ports.0.iter().any(|r| r.contains(port))
    }
}

/// A rule collection: rules, and the network groups they apply to (Azure's `appliesToGroups`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRuleCollection {
    /// Name, unique in its configuration.
    pub name: String,
    /// The network groups whose VNets the rules apply to.
    pub applies_to: Vec<NetworkGroupId>,
    /// Its rules.
    pub rules: Vec<AdminRule>,
}

/// A security admin configuration of a network manager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityAdminConfiguration {
    /// Name, unique in the topology.
    pub name: String,
    /// The network manager it belongs to (for display).
    pub network_manager: String,
    /// Whether it is deployed (committed to the VNets' region): only then do its rules apply.
    pub deployed: bool,
    /// Its rule collections.
    pub collections: Vec<AdminRuleCollection>,
}

/// One admin rule as it applies to a VNet: the rule and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct AppliedAdminRule<'a> {
    /// The configuration.
    pub configuration: &'a SecurityAdminConfiguration,
    /// The rule collection.
    pub collection: &'a AdminRuleCollection,
    /// The rule.
    pub rule: &'a AdminRule,
}

impl AppliedAdminRule<'_> {
    /// The rule's path as nsgsim names it: `CONFIGURATION/COLLECTION/RULE` (Azure's id ends in
    /// `securityAdminConfigurations/C/ruleCollections/R/rules/NAME`).
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.configuration.name, self.collection.name, self.rule.name)
    }
}

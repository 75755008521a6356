//! The scenario format's Azure Virtual Network Manager part: network groups of VNets and security
//! admin configurations with their rule collections and rules.

use serde::Deserialize;

use super::schema::{DirectionSpec, ProtocolSpec};

/// A network group: `NetworkGroup(name: "prod", vnets: ["spoke-a", "spoke-b"])`. Members are
/// static; a group Azure Policy fills dynamically is written as the VNets it holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "NetworkGroup")]
pub struct NetworkGroupSpec {
    /// Name, unique among network groups.
    pub name: String,
    /// Its member VNets, by name.
    #[serde(default)]
    pub vnets: Vec<String>,
}

/// A security admin configuration:
/// `SecurityAdminConfiguration(name: "baseline", network_manager: "avnm", deployed: true,
/// rule_collections: [...])`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "SecurityAdminConfiguration")]
pub struct AdminConfigurationSpec {
    /// Name, unique among configurations.
    pub name: String,
    /// The network manager it belongs to (shown in traces). Default `network-manager`.
    #[serde(default)]
    pub network_manager: Option<String>,
    /// Whether it is deployed (committed to the VNets' region): only then do its rules apply.
    /// Default true.
    #[serde(default)]
    pub deployed: Option<bool>,
    /// Its rule collections.
    #[serde(default)]
    pub rule_collections: Vec<AdminRuleCollectionSpec>,
}

/// A rule collection: `AdminRuleCollection(name: "high-risk", applies_to: ["prod"], rules: [...])`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "AdminRuleCollection")]
pub struct AdminRuleCollectionSpec {
    /// Name, unique in its configuration.
    pub name: String,
    /// The network groups it applies to (Azure's `appliesToGroups`).
    pub applies_to: Vec<String>,
    /// Its rules.
    #[serde(default)]
    pub rules: Vec<AdminRuleSpec>,
}

/// What an admin rule does (Azure's `access`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "AdminAction")]
pub enum AdminActionSpec {
    /// On to the NSGs.
    Allow,
    /// Delivered without the NSGs.
    AlwaysAllow,
    /// Dropped.
    Deny,
}

/// One security admin rule:
/// `AdminRule(name: "deny-rdp", priority: 10, direction: Inbound, action: Deny, protocol: Tcp,
/// sources: ["Internet"], destination_ports: "3389")`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "AdminRule")]
pub struct AdminRuleSpec {
    /// Name, unique in its collection.
    pub name: String,
    /// 1–4096, lower first; unique in its collection.
    pub priority: i64,
    /// Inbound or Outbound.
    pub direction: DirectionSpec,
    /// Allow, AlwaysAllow or Deny.
    pub action: AdminActionSpec,
    /// Tcp, Udp, Icmp, Esp, Ah or Any.
    pub protocol: ProtocolSpec,
    /// Source IPs, CIDRs or service tags, one per entry. Default: any.
    #[serde(default)]
    pub sources: Vec<String>,
    /// `*`, a port, a range, or a comma-separated list. Default `*`.
    #[serde(default)]
    pub source_ports: Option<String>,
    /// Like `sources`. Default: any.
    #[serde(default)]
    pub destinations: Vec<String>,
    /// Like `source_ports`. Default `*`.
    #[serde(default)]
    pub destination_ports: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

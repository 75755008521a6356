//! The RON scenario format: serde types only. Field names are the file's field names.
//!
//! Only this module (and `import`) derives `Deserialize`; everything here is turned into model,
//! NSG and simulator types by `load`, which is where meaning and positions are checked.
//!
//! Numbers (priorities, ports, counts) are read as `i64`, wider than the values they hold, so
//! that an out-of-range number such as `priority: -1` or `port: 70000` reaches the loader, which
//! names the field, the value and the valid range; the parser alone would only say "Integer is
//! out of bounds".

use std::collections::BTreeMap;

use serde::Deserialize;

pub use super::schema_admin::*;
pub use super::schema_lb::*;
pub use super::schema_nat::{NatGatewaySpec, NatSkuSpec, PublicIpPrefixSpec};
pub use super::schema_origins::OriginSpec;
pub use super::schema_peering::{PeeringOptionsSpec, PeeringSpec};
pub use super::schema_teach::{CorrectionSpec, KnownClaimSpec, QuestionSpec, SourceSpec};

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct ScenarioFile {
    /// Short name.
    pub name: String,
    /// What the scenario shows.
    #[serde(default)]
    pub description: String,
    /// The start instant, RFC 3339 in UTC, e.g. `2025-01-06T09:00:00Z`.
    pub start: String,
    /// Members of service tags the scenario defines or overrides: tag → prefixes.
    #[serde(default)]
    pub service_tags: BTreeMap<String, Vec<String>>,
    /// Microsoft's "Azure IP Ranges and Service Tags" JSON to take tag members from, relative to
    /// the scenario file; the command line's `--service-tags FILE` overrides it.
    #[serde(default)]
    pub service_tags_file: Option<String>,
    /// Virtual networks with their subnets.
    #[serde(default)]
    pub vnets: Vec<VnetSpec>,
    /// Peerings between VNets, by name (each peering works both ways).
    #[serde(default)]
    pub peerings: Vec<PeeringSpec>,
    /// Network security groups.
    #[serde(default)]
    pub nsgs: Vec<NsgSpec>,
    /// Application security group names.
    #[serde(default)]
    pub asgs: Vec<String>,
    /// Public IP addresses.
    #[serde(default)]
    pub public_ips: Vec<PublicIpSpec>,
    /// Public IP prefixes (`schema_nat.rs`).
    #[serde(default)]
    pub public_ip_prefixes: Vec<PublicIpPrefixSpec>,
    /// NAT gateways, attached to subnets by their `nat_gateway` (`schema_nat.rs`).
    #[serde(default)]
    pub nat_gateways: Vec<NatGatewaySpec>,
    /// Virtual machines with their NICs.
    #[serde(default)]
    pub vms: Vec<VmSpec>,
    /// People who send traffic and, later, request JIT access.
    #[serde(default)]
    pub users: Vec<UserSpec>,
    /// Route tables (user-defined routes), associated with subnets by `route_table`.
    #[serde(default)]
    pub route_tables: Vec<RouteTableSpec>,
    /// Azure Firewalls.
    #[serde(default)]
    pub firewalls: Vec<FirewallSpec>,
    /// Azure Bastion hosts.
    #[serde(default)]
    pub bastions: Vec<BastionSpec>,
    /// Azure Load Balancers (`schema_lb.rs`).
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancerSpec>,
    /// Azure Virtual Network Manager's network groups: the VNets security admin configurations
    /// apply to.
    #[serde(default)]
    pub network_groups: Vec<NetworkGroupSpec>,
    /// Azure Virtual Network Manager's security admin configurations, evaluated before the NSGs.
    #[serde(default)]
    pub security_admin_configurations: Vec<AdminConfigurationSpec>,
    /// Custom Azure roles: role name → action patterns (`Microsoft.Security/*`, `*/read`), or
    /// `Role(actions: [...], not_actions: [...])`.
    #[serde(default)]
    pub roles: BTreeMap<String, super::role_spec::RoleSpec>,
    /// JIT policies scoped to a subscription, resource group or VM.
    #[serde(default)]
    pub jit_policies: Vec<JitPolicySpec>,
    /// Behaviour choices where sources disagree (see docs/fidelity.md).
    #[serde(default)]
    pub options: OptionsSpec,
    /// Steps at time offsets from `start`.
    #[serde(default)]
    pub timeline: Vec<StepSpec>,
    /// What could not be read or modelled and can change traffic (written by `nsgsim import`, or
    /// by hand); every answer that depends on one names it.
    #[serde(default)]
    pub caveats: Vec<CaveatSpec>,
    /// Where each part was read, written by `nsgsim import`: part (`nsg/NAME`,
    /// `nsg/NAME/rule/RULE`, `vm/NAME`, `nic/NAME`, `vnet/NAME/subnet/NAME`, `jit/NAME`, …) →
    /// its origin in the template, plan or `az` output. Findings point there
    /// (docs/scenario-format.md, "Origins").
    #[serde(default)]
    pub origins: BTreeMap<String, OriginSpec>,
}

/// One thing that could not be read or modelled and can change traffic:
/// `Caveat(kind: UnmodelledResource, resource: "Microsoft.Network/loadBalancers/lb-web",
/// source: "azuredeploy.json:120:7", reason: "…", affects: ["vm-web"])`.
///
/// The importer builds these directly ([`CaveatSpec::new`], then [`CaveatSpec::affecting`]) and
/// `import::to_ron` writes them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename = "Caveat")]
pub struct CaveatSpec {
    /// What kind of gap.
    pub kind: CaveatKindSpec,
    /// The resource concerned (`Microsoft.Network/loadBalancers/lb-web`), or the template link.
    pub resource: String,
    /// Where it is in the imported input (`azuredeploy.json:120:7`); may be empty.
    #[serde(default)]
    pub source: String,
    /// What it can do to traffic, for people.
    pub reason: String,
    /// The VMs, subnets (`vnet/subnet`) and VNets whose traffic it can change, by scenario name;
    /// empty = all.
    #[serde(default)]
    pub affects: Vec<String>,
}

impl CaveatSpec {
    /// A caveat that affects everything (add names with [`CaveatSpec::affecting`]).
    pub fn new(
        kind: CaveatKindSpec,
        resource: impl Into<String>,
        source: impl Into<String>,
        reason: impl Into<String>,
    ) -> CaveatSpec {
        CaveatSpec {
            kind,
            resource: resource.into(),
            source: source.into(),
            reason: reason.into(),
            affects: Vec::new(),
        }
    }

    /// The same caveat, affecting only these VMs, subnets (`vnet/subnet`) and VNets (by scenario
    /// name).
    pub fn affecting<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> CaveatSpec {
        self.affects.extend(names.into_iter().map(Into::into));
        self
    }
}

/// The kind of a caveat (see `model::CaveatKind` for each meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename = "CaveatKind")]
pub enum CaveatKindSpec {
    /// A resource of a type nsgsim does not model that can change traffic.
    UnmodelledResource,
    /// A nested template that is not local.
    UnresolvedLink,
    /// A reference to a resource not in the input.
    UnresolvedReference,
    /// A value only known at deployment, replaced by a labelled placeholder.
    Placeholder,
    /// Anything else.
    Other,
}

/// Named behaviour options. Every default follows Microsoft's documentation; the alternatives
/// reproduce training texts or user reports, and are labelled so in the output.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename = "Options")]
pub struct OptionsSpec {
    /// Which NSGs JIT writes into: `Both` (default), `NicOnly`, `SubnetOnly`.
    #[serde(default)]
    pub jit_nsg_levels: Option<NsgLevelsSpec>,
    /// Learn module: the JIT deny rule overrides existing allow rules for the port.
    #[serde(default)]
    pub jit_strict_deny_placement: bool,
    /// Learn module: disabling JIT leaves its deny rules in place.
    #[serde(default)]
    pub jit_keep_deny_rules_on_disable: bool,
    /// Training text: JIT expiry drops established sessions.
    #[serde(default)]
    pub jit_expiry_drops_sessions: bool,
    /// Whether Defender for Servers Plan 2 is enabled (default true; JIT requires it).
    #[serde(default)]
    pub defender_for_servers_plan2: Option<bool>,
    /// Scopes whose security policy disables JIT.
    #[serde(default)]
    pub jit_disabled_scopes: Vec<ScopeSpec>,
    /// Let a requester approve their own request (approval extension).
    #[serde(default)]
    pub jit_allow_self_approval: bool,
    /// Older Azure Firewall documentation: DNAT adds an implicit network allow that explicit
    /// network deny rules override (current docs: DNAT'd traffic skips network rules).
    #[serde(default)]
    pub firewall_dnat_legacy_network_rules: bool,
    /// Older peering documentation: a peering with `allow_virtual_network_access` false on either
    /// side carries no traffic at all (current docs: only the `VirtualNetwork` tag changes).
    #[serde(default)]
    pub peering_access_blocks_all_traffic: bool,
}

/// Which NSGs JIT writes into.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "NsgLevels")]
pub enum NsgLevelsSpec {
    /// Subnet and NIC NSGs.
    Both,
    /// Only the NIC's NSG.
    NicOnly,
    /// Only the subnet's NSG.
    SubnetOnly,
}

/// Where a JIT policy applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename = "Scope")]
pub enum ScopeSpec {
    /// Every VM of a subscription.
    Subscription(String),
    /// Every VM of a resource group.
    ResourceGroup(String),
    /// One VM.
    Vm(String),
}

/// A scoped JIT policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "JitPolicy")]
pub struct JitPolicySpec {
    /// Name, for messages.
    pub name: String,
    /// Where it applies.
    pub scope: ScopeSpec,
    /// Protected ports (default: 22, 3389, 5985, 5986).
    #[serde(default)]
    pub ports: Option<Vec<JitPortSpec>>,
    /// nsgsim extension: roles that must approve requests (none = no approval step).
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Enable JIT with this policy on every supported VM in scope at the start.
    #[serde(default)]
    pub enable_at_start: bool,
    /// The policy is in force in Azure, read from this file (`jit.json:3:5`, written by
    /// `nsgsim import` for a JIT policy in `az`/REST JSON imported beside a plan or template),
    /// while the NSGs are as the plan writes them: at the start JIT takes over the deny rules
    /// and grants it finds but writes no deny rule that is missing, because an apply of the
    /// plan leaves the NSGs without them; `lint` reports each (JIT005). Needs `enable_at_start`.
    #[serde(default)]
    pub in_force_from: Option<String>,
    /// Access granted before the start and still open then (what `nsgsim import` reads from a
    /// policy's `requests`): when the policy is enabled at the start, JIT takes over the allow
    /// rules already in the VM's NSGs for each grant (or writes them) and ends the grant at its
    /// `ends_at`. Needs `enable_at_start`.
    #[serde(default)]
    pub active_grants: Vec<ActiveGrantSpec>,
}

/// Access granted before the scenario's start:
/// `Grant(vm: "vm1", port: 22, source: "203.0.113.5", requestor: "alice@contoso.com",
/// ends_at: "2025-01-06T10:00:00Z")`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Grant")]
pub struct ActiveGrantSpec {
    /// The VM (in the policy's scope).
    pub vm: String,
    /// The port (in the policy).
    pub port: i64,
    /// The source allowed: `*`, or IPs and CIDRs separated by commas.
    pub source: String,
    /// Who asked (the API's `requestor`).
    pub requestor: String,
    /// When the access ends (the API's `endTimeUtc`), RFC 3339; at or before the start, it ends
    /// at the start.
    pub ends_at: String,
}

/// Protocol of a JIT port: `Tcp`, `Udp` or `Any` (the API's `TCP`, `UDP`, `*`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "JitProtocol")]
pub enum JitProtocolSpec {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// `*`.
    Any,
}

/// One protected port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Port")]
pub struct JitPortSpec {
    /// Port number.
    pub number: i64,
    /// Protocol (default Any).
    #[serde(default)]
    pub protocol: Option<JitProtocolSpec>,
    /// Allowed source prefixes; `["*"]` or absent = any ("per request").
    #[serde(default)]
    pub allowed_sources: Option<Vec<String>>,
    /// Maximum request duration, PT5M..P1D (default PT3H).
    #[serde(default)]
    pub max_duration: Option<String>,
}

/// A virtual network.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Vnet")]
pub struct VnetSpec {
    /// Name.
    pub name: String,
    /// Address spaces (CIDR).
    pub address_space: Vec<String>,
    /// Subnets.
    #[serde(default)]
    pub subnets: Vec<SubnetSpec>,
    /// On-premises address spaces connected through a VPN/ExpressRoute gateway (CIDR).
    #[serde(default)]
    pub on_premises: Vec<String>,
}

/// A subnet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Subnet")]
pub struct SubnetSpec {
    /// Name (`AzureBastionSubnet` and `AzureFirewallSubnet` are reserved for those services).
    pub name: String,
    /// Prefix (CIDR) inside the VNet.
    pub prefix: String,
    /// NSG associated with the subnet.
    #[serde(default)]
    pub nsg: Option<String>,
    /// Route table associated with the subnet.
    #[serde(default)]
    pub route_table: Option<String>,
    /// Azure's `defaultOutboundAccess`; `false` makes a private subnet. Default true.
    #[serde(default)]
    pub default_outbound_access: Option<bool>,
    /// The NAT gateway attached to the subnet (name of a `nat_gateways` entry).
    #[serde(default)]
    pub nat_gateway: Option<String>,
}

/// A route table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "RouteTable")]
pub struct RouteTableSpec {
    /// Name.
    pub name: String,
    /// Routes.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
}

/// A user-defined route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Route")]
pub struct RouteSpec {
    /// Name.
    pub name: String,
    /// Destination prefix (CIDR).
    pub prefix: String,
    /// Next hop.
    pub next_hop: NextHopSpec,
}

/// Next hop of a user-defined route.
#[derive(Debug, Deserialize)]
#[serde(rename = "NextHop")]
pub enum NextHopSpec {
    /// A virtual appliance (e.g. an Azure Firewall) at this private IP.
    VirtualAppliance(String),
    /// The Internet.
    Internet,
    /// The VNet itself.
    VnetLocal,
    /// The VNet's gateway.
    VirtualNetworkGateway,
    /// Drop.
    None,
}

/// An Azure Firewall.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Firewall")]
pub struct FirewallSpec {
    /// Name.
    pub name: String,
    /// The VNet whose `AzureFirewallSubnet` holds it.
    pub vnet: String,
    /// Its private IP (inside `AzureFirewallSubnet`); UDRs point at it.
    pub private_ip: String,
    /// Its public IP (name of a `public_ips` entry).
    #[serde(default)]
    pub public_ip: Option<String>,
    /// `Classic` (rules) or `Policy` (Firewall Policy / Firewall Manager). Default Classic.
    #[serde(default)]
    pub mode: Option<FirewallModeSpec>,
    /// FQDN → addresses, for application rules.
    #[serde(default)]
    pub fqdns: BTreeMap<String, Vec<String>>,
    /// Rule collections of a classic firewall (one implicit group).
    #[serde(default)]
    pub collections: Vec<CollectionSpec>,
    /// Rule collection groups (Firewall Policy).
    #[serde(default)]
    pub rule_collection_groups: Vec<RuleCollectionGroupSpec>,
    /// SNAT private IP address ranges (the classic firewall's `Network.SNAT.PrivateRanges`, a
    /// Firewall Policy's `snat.privateRanges`): network-rule traffic to these keeps its source,
    /// to any other address it is SNAT-ed to the firewall. Entries: `IANAPrivateRanges` (RFC 1918
    /// and RFC 6598), addresses, CIDR prefixes; `0.0.0.0/0` never SNATs, `255.255.255.255/32`
    /// always does. Default (empty): `IANAPrivateRanges`.
    #[serde(default)]
    pub private_ranges: Vec<String>,
    /// A Firewall Policy's `snat.autoLearnPrivateRanges`: Azure learns more private ranges from an
    /// Azure Route Server; offline nsgsim keeps `private_ranges` and says so in every trace through
    /// the firewall (model choice). Default false.
    #[serde(default)]
    pub auto_learn_private_ranges: bool,
}

/// Firewall management mode.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "FirewallMode")]
pub enum FirewallModeSpec {
    /// Rules (classic).
    Classic,
    /// Firewall Policy.
    Policy,
}

/// A rule collection group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "RuleCollectionGroup")]
pub struct RuleCollectionGroupSpec {
    /// Name.
    pub name: String,
    /// 100–65000, lower first.
    pub priority: i64,
    /// Collections.
    pub collections: Vec<CollectionSpec>,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "FirewallAction")]
pub enum FirewallActionSpec {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// Application protocol of an application rule.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "AppProtocol")]
pub enum AppProtocolSpec {
    /// HTTP, port 80.
    Http,
    /// HTTPS, port 443.
    Https,
    /// MSSQL, port 1433.
    Mssql,
}

/// A rule collection.
#[derive(Debug, Deserialize)]
#[serde(rename = "Collection")]
pub enum CollectionSpec {
    /// DNAT rules.
    Dnat {
        /// Name.
        name: String,
        /// 100–65000.
        priority: i64,
        /// Rules.
        rules: Vec<DnatRuleSpec>,
    },
    /// Network rules.
    Network {
        /// Name.
        name: String,
        /// 100–65000.
        priority: i64,
        /// Allow or Deny.
        action: FirewallActionSpec,
        /// Rules.
        rules: Vec<NetworkRuleSpec>,
    },
    /// Application rules.
    Application {
        /// Name.
        name: String,
        /// 100–65000.
        priority: i64,
        /// Allow or Deny.
        action: FirewallActionSpec,
        /// Rules.
        rules: Vec<ApplicationRuleSpec>,
    },
}

/// A DNAT rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "DnatRule")]
pub struct DnatRuleSpec {
    /// Name.
    pub name: String,
    /// Protocols (Tcp, Udp).
    pub protocols: Vec<ProtocolSpec>,
    /// Source addresses (`*`, IPs, CIDRs). Default `*`.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Public destination (default: the firewall's public IP).
    #[serde(default)]
    pub destination: Option<String>,
    /// Public destination port.
    pub destination_port: i64,
    /// Private target address.
    pub translated_address: String,
    /// Private target port.
    pub translated_port: i64,
}

/// A network rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "NetworkRule")]
pub struct NetworkRuleSpec {
    /// Name.
    pub name: String,
    /// Protocols (Tcp, Udp, Icmp, Any).
    pub protocols: Vec<ProtocolSpec>,
    /// Sources (`*`, IPs, CIDRs).
    pub sources: Vec<String>,
    /// Destinations (`*`, IPs, CIDRs, or one service tag).
    pub destinations: Vec<String>,
    /// Destination ports (`*`, ports, ranges).
    pub destination_ports: Vec<String>,
}

/// An application rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "ApplicationRule")]
pub struct ApplicationRuleSpec {
    /// Name.
    pub name: String,
    /// Sources.
    pub sources: Vec<String>,
    /// Protocols.
    pub protocols: Vec<AppProtocolSpec>,
    /// Target FQDNs (resolved through the firewall's `fqdns`).
    pub fqdns: Vec<String>,
}

/// An Azure Bastion host.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Bastion")]
pub struct BastionSpec {
    /// Name.
    pub name: String,
    /// The VNet whose `AzureBastionSubnet` holds it.
    pub vnet: String,
    /// Its public IP (name of a `public_ips` entry).
    #[serde(default)]
    pub public_ip: Option<String>,
}

/// A network security group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Nsg")]
pub struct NsgSpec {
    /// Name.
    pub name: String,
    /// Where the NSG is defined in what it was imported from, `FILE:LINE:COLUMN ADDRESS`
    /// (`nsgsim import` writes it for a Terraform plan or state, the address being the block to
    /// edit, `module.hub.azurerm_network_security_group.web`); `lint` and `diff` name it.
    #[serde(default)]
    pub origin: Option<String>,
    /// Security rules (the default rules are implied).
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Azure's `flushConnection`: when true, a change to the NSG's rules re-evaluates its
    /// established connections and closes those the new rules deny. Default false, as in Azure
    /// (established connections outlive rule changes).
    #[serde(default)]
    pub flush_connection: bool,
}

/// Rule direction.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "Direction")]
pub enum DirectionSpec {
    /// Inbound.
    Inbound,
    /// Outbound.
    Outbound,
}

/// Rule access.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename = "Access")]
pub enum AccessSpec {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// Protocol of a rule or flow. `Any` is Azure's `*`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "Protocol")]
pub enum ProtocolSpec {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// ESP.
    Esp,
    /// AH.
    Ah,
    /// `*`.
    Any,
}

/// One security rule, in Azure's terms.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename = "Rule")]
pub struct RuleSpec {
    /// Name, unique in the NSG.
    pub name: String,
    /// 100–4096, lower first.
    pub priority: i64,
    /// Inbound or Outbound.
    pub direction: DirectionSpec,
    /// Allow or Deny.
    pub access: AccessSpec,
    /// Tcp, Udp, Icmp, Esp, Ah or Any.
    pub protocol: ProtocolSpec,
    /// `*`, an IP, a CIDR, a comma-separated list of IPs/CIDRs, or one service tag. Default `*`.
    #[serde(default)]
    pub source: Option<String>,
    /// Application security groups as the source (instead of `source`).
    #[serde(default)]
    pub source_asgs: Vec<String>,
    /// `*`, a port, a range `a-b`, or a comma-separated list. Default `*`.
    #[serde(default)]
    pub source_ports: Option<String>,
    /// Like `source`. Default `*`.
    #[serde(default)]
    pub destination: Option<String>,
    /// Application security groups as the destination (instead of `destination`).
    #[serde(default)]
    pub destination_asgs: Vec<String>,
    /// Like `source_ports`. Required.
    pub destination_ports: String,
    /// Free text, at most 140 characters.
    #[serde(default)]
    pub description: String,
    /// Where the rule is defined in what it was imported from (see [`NsgSpec::origin`]).
    #[serde(default)]
    pub origin: Option<String>,
}

/// A public IP address.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "PublicIp")]
pub struct PublicIpSpec {
    /// Name.
    pub name: String,
    /// The address.
    pub address: String,
    /// Basic or Standard (default Standard).
    #[serde(default)]
    pub sku: Option<SkuSpec>,
    /// The public IP prefix it was allocated from (name of a `public_ip_prefixes` entry).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// Public IP SKU.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "Sku")]
pub enum SkuSpec {
    /// Open unless an NSG denies.
    Basic,
    /// Closed unless an NSG allows.
    Standard,
}

/// Operating system.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "Os")]
pub enum OsSpec {
    /// Linux.
    Linux,
    /// Windows.
    Windows,
}

/// A virtual machine.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Vm")]
pub struct VmSpec {
    /// Name.
    pub name: String,
    /// Linux or Windows.
    pub os: OsSpec,
    /// Deployed through the classic model (JIT does not support it).
    #[serde(default)]
    pub classic: bool,
    /// Subscription name (default `default`); JIT policies can be scoped to it.
    #[serde(default)]
    pub subscription: Option<String>,
    /// Resource group name (default `default`); JIT policies can be scoped to it.
    #[serde(default)]
    pub resource_group: Option<String>,
    /// NICs; the first is the primary.
    pub nics: Vec<NicSpec>,
}

/// A network interface.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Nic")]
pub struct NicSpec {
    /// Name.
    pub name: String,
    /// `vnet/subnet`.
    pub subnet: String,
    /// Private IP inside the subnet.
    pub private_ip: String,
    /// NSG associated with the NIC.
    #[serde(default)]
    pub nsg: Option<String>,
    /// ASG memberships.
    #[serde(default)]
    pub asgs: Vec<String>,
    /// Public IP associated with the NIC.
    #[serde(default)]
    pub public_ip: Option<String>,
    /// Secondary IP configurations, in the NIC's subnet; the fields above are the primary one.
    #[serde(default)]
    pub ip_configs: Vec<IpConfigSpec>,
}

/// A secondary IP configuration of a NIC: its own address, public IP and ASG memberships.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "IpConfig")]
pub struct IpConfigSpec {
    /// Name, unique among the NIC's configurations (e.g. `ipconfig2`).
    pub name: String,
    /// Private IP inside the NIC's subnet.
    pub private_ip: String,
    /// ASG memberships of this configuration.
    #[serde(default)]
    pub asgs: Vec<String>,
    /// Public IP associated with this configuration.
    #[serde(default)]
    pub public_ip: Option<String>,
}

/// A person.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "User")]
pub struct UserSpec {
    /// Name.
    pub name: String,
    /// Azure role names (e.g. `Owner`, `Reader`, `Security Admin`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// The public or private address the user's traffic comes from.
    pub source_ip: String,
}

/// One timeline step: at an offset, do something, expect something, or just narrate.
///
/// The optional parts are boxed: inline they made a step 704 bytes, and a million-step timeline
/// is read whole before it is loaded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Step")]
pub struct StepSpec {
    /// Offset from the start: `90m`, `2h30m`, `45s`, `0`, or ISO 8601 `PT1H30M`.
    pub at: String,
    /// A change to apply.
    #[serde(default)]
    pub action: Option<Box<ActionSpec>>,
    /// A check to make.
    #[serde(default)]
    pub expect: Option<Box<ExpectSpec>>,
    /// A sentence for the narrative.
    #[serde(default)]
    pub note: Option<String>,
    /// A training text's claim and Microsoft's answer, shown with the step.
    #[serde(default)]
    pub correction: Option<Box<CorrectionSpec>>,
    /// A concept question the quiz asks at this point of the story.
    #[serde(default)]
    pub question: Option<Box<QuestionSpec>>,
}

/// Something a step does.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Action")]
pub enum ActionSpec {
    /// Associate an NSG with a subnet (`vnet/subnet`) or a NIC.
    AttachNsg {
        /// The NSG.
        nsg: String,
        /// `vnet/subnet`.
        #[serde(default)]
        subnet: Option<String>,
        /// A NIC name.
        #[serde(default)]
        nic: Option<String>,
    },
    /// Remove the NSG association of a subnet or a NIC.
    DetachNsg {
        /// `vnet/subnet`.
        #[serde(default)]
        subnet: Option<String>,
        /// A NIC name.
        #[serde(default)]
        nic: Option<String>,
    },
    /// Add (or replace, by name) a rule in an NSG.
    AddRule {
        /// The NSG.
        nsg: String,
        /// The rule.
        rule: RuleSpec,
    },
    /// Delete a rule from an NSG.
    RemoveRule {
        /// The NSG.
        nsg: String,
        /// The rule's name.
        rule: String,
    },
    /// Set Azure's `allowVirtualNetworkAccess` on one VNet's side of a peering (the portal's
    /// "Allow 'vnet' to access 'remote'").
    SetPeeringAccess {
        /// The VNet whose side of the peering changes.
        vnet: String,
        /// The VNet it is peered with.
        remote: String,
        /// The new value.
        allow: bool,
    },
    /// Open a connection (if the flow is allowed) and track it by name.
    Connect {
        /// Name to refer to it.
        name: String,
        /// Source endpoint.
        from: String,
        /// Destination endpoint.
        to: String,
        /// Destination port.
        port: i64,
        /// Protocol (default Tcp).
        #[serde(default)]
        protocol: Option<ProtocolSpec>,
    },
    /// Close a tracked connection.
    Disconnect {
        /// Its name.
        name: String,
    },
    /// Enable JIT on a VM (or update its policy, if enabled), or on several VMs in one action
    /// (the portal's "Enable JIT on n VMs", with `vms`).
    EnableJit {
        /// The VM.
        #[serde(default)]
        vm: Option<String>,
        /// Several VMs, enabled in one action (all or none).
        #[serde(default)]
        vms: Vec<String>,
        /// Who (a user); default: the setup principal, an Owner.
        #[serde(default)]
        by: Option<String>,
        /// Ports; default: the scoped policy covering the VM, else 22, 3389, 5985, 5986.
        #[serde(default)]
        ports: Option<Vec<JitPortSpec>>,
        /// nsgsim extension: roles that must approve requests.
        #[serde(default)]
        approvers: Option<Vec<String>>,
    },
    /// Update a VM's JIT policy (same fields as EnableJit).
    EditJit {
        /// The VM.
        vm: String,
        /// Who.
        #[serde(default)]
        by: Option<String>,
        /// The new ports.
        #[serde(default)]
        ports: Option<Vec<JitPortSpec>>,
        /// nsgsim extension: roles that must approve requests.
        #[serde(default)]
        approvers: Option<Vec<String>>,
    },
    /// Turn Microsoft Defender for Servers Plan 2 on or off (JIT requires it).
    SetDefenderPlan2 {
        /// On (true) or off (false).
        enabled: bool,
        /// Who (needs Microsoft.Security/pricings/write); default: the scenario's Owner.
        #[serde(default)]
        by: Option<String>,
    },
    /// Request access from a VM's Connect page: every port of the VM's policy, from the
    /// requester's IP, for the shortest of their maximum durations. When JIT is not enabled the
    /// page prompts to enable it: `enable: true` accepts (RDP 3389 on Windows, SSH 22 on Linux,
    /// any source, 3 hours), otherwise the request is refused.
    ConnectPageRequest {
        /// A name to refer to the request.
        id: String,
        /// The requester.
        user: String,
        /// The VM.
        vm: String,
        /// Accept the prompt to enable JIT when it is not enabled.
        #[serde(default)]
        enable: bool,
        /// Free text.
        #[serde(default)]
        justification: Option<String>,
    },
    /// Disable JIT on a VM.
    DisableJit {
        /// The VM.
        vm: String,
        /// Who.
        #[serde(default)]
        by: Option<String>,
    },
    /// Request JIT access.
    RequestJit {
        /// A name to refer to the request.
        id: String,
        /// The requester.
        user: String,
        /// The VMs (or use `vm` for one).
        #[serde(default)]
        vms: Vec<String>,
        /// One VM.
        #[serde(default)]
        vm: Option<String>,
        /// Ports (on every VM named).
        ports: Vec<i64>,
        /// How long: `1h`, `PT3H`, ….
        duration: String,
        /// Source IP or CIDR to allow (default: the requester's IP).
        #[serde(default)]
        source: Option<String>,
        /// Free text.
        #[serde(default)]
        justification: Option<String>,
    },
    /// Approve a pending request (nsgsim extension).
    ApproveJit {
        /// The request's id.
        request: String,
        /// The approver.
        by: String,
    },
    /// Deny a pending request (nsgsim extension).
    DenyJit {
        /// The request's id.
        request: String,
        /// The approver.
        by: String,
        /// Why.
        #[serde(default)]
        reason: Option<String>,
    },
    /// End a request's access now (nsgsim extension: the JIT API has no revoke).
    RevokeJit {
        /// The request's id.
        request: String,
        /// Who.
        by: String,
    },
    /// Commit a Virtual Network Manager security admin configuration: it becomes its manager's
    /// deployed configuration, replacing the one deployed before (Azure's goal state: one
    /// security admin configuration per region; nsgsim has no regions, so every VNet of the
    /// manager's groups).
    DeployAdminConfiguration {
        /// The configuration's name.
        configuration: String,
    },
    /// Remove the deployment of a security admin configuration (Azure's commit of "None").
    UndeployAdminConfiguration {
        /// The configuration's name.
        configuration: String,
    },
}

/// A VM's JIT status.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "JitStatus")]
pub enum JitStatusSpec {
    /// JIT enabled.
    Configured,
    /// Not configured, could be: the portal's "Not configured" tab.
    NotConfigured,
    /// The older keyword for `NotConfigured` (the tab once read "Recommended"), kept as an alias.
    Recommended,
    /// Cannot be enabled.
    Unsupported,
}

/// A JIT request's status.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "RequestStatus")]
pub enum RequestStatusSpec {
    /// Refused by a check.
    Refused,
    /// Waiting for approval.
    Pending,
    /// Refused by an approver.
    Denied,
    /// Access in force.
    Active,
    /// Ended at its end time.
    Expired,
    /// Ended early.
    Revoked,
    /// Replaced by a newer request for the same port.
    Superseded,
    /// Withdrawn before approval: JIT was disabled on its VM (approval extension).
    Cancelled,
}

/// Something a step checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Expect")]
pub enum ExpectSpec {
    /// A new flow's verdict, and optionally what decided it.
    Flow {
        /// Source: a VM, a user, or an IP.
        from: String,
        /// Destination: a VM, a public IP name, or an IP.
        to: String,
        /// Destination port.
        port: i64,
        /// Protocol (default Tcp).
        #[serde(default)]
        protocol: Option<ProtocolSpec>,
        /// Source port (default 50000).
        #[serde(default)]
        src_port: Option<i64>,
        /// Go through this Bastion host (the user connects to it on 443; it opens the session).
        #[serde(default)]
        via: Option<String>,
        /// Allow or Deny.
        verdict: AccessSpec,
        /// The NSG that decided.
        #[serde(default)]
        nsg: Option<String>,
        /// The deciding rule, as Azure names it (`securityRules/NAME`, `defaultSecurityRules/NAME`)
        /// or just `NAME`.
        #[serde(default)]
        rule: Option<String>,
    },
    /// Whether reply traffic of a tracked connection gets through.
    Reply {
        /// The connection's name.
        connection: String,
        /// Allow or Deny.
        verdict: AccessSpec,
    },
    /// Whether a tracked connection is open.
    Connection {
        /// Its name.
        name: String,
        /// Open (true) or not.
        open: bool,
    },
    /// A VM's JIT status: the portal's Configured / Not configured (Recommended) / Unsupported.
    JitStatus {
        /// The VM.
        vm: String,
        /// Expected status.
        status: JitStatusSpec,
        /// Text the unsupported reason must contain.
        #[serde(default)]
        reason: Option<String>,
    },
    /// A JIT request's status.
    JitRequest {
        /// The request's id.
        request: String,
        /// Expected status.
        status: RequestStatusSpec,
        /// Text the refusal or denial reason must contain.
        #[serde(default)]
        reason: Option<String>,
    },
    /// How many JIT deny/allow rules for a VM are in an NSG (or in all NSGs).
    JitRules {
        /// The VM.
        vm: String,
        /// The NSG (default: all).
        #[serde(default)]
        nsg: Option<String>,
        /// Expected number of deny rules.
        #[serde(default)]
        deny: Option<i64>,
        /// Expected number of allow rules.
        #[serde(default)]
        allow: Option<i64>,
    },
    /// Which of Azure's required rules the NSG on a Bastion host's subnet lacks.
    BastionRules {
        /// The Bastion host.
        bastion: String,
        /// The names of the missing rules (Microsoft's names, e.g. `AllowGatewayManagerInbound`);
        /// empty = the NSG has them all.
        missing: Vec<String>,
    },
    /// Whether an NSG has a rule of that name.
    Rule {
        /// The NSG.
        nsg: String,
        /// The rule name.
        rule: String,
        /// Whether it should exist.
        exists: bool,
    },
}

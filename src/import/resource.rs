//! The record every reader produces: one deployed Azure resource, with its provenance.
//!
//! A reader (the ARM template evaluator, the `az`/REST reader, later a Terraform reader) turns
//! its input into [`Resource`]s: the full type, the chain of names, the body as a positioned tree
//! (for a template, with every expression evaluated, copy loops and conditions applied) and where
//! it came from. Resources of a type nsgsim does not model are not passed on: a reader records
//! them as [`Skipped`] before it evaluates their names or properties, so that a storage account
//! named with a function nsgsim cannot evaluate does not fail the import. The inventory then
//! reads the resources it knows ([`Kind`]), and the summary counts both.

use super::arm::parse_id;
use super::json::{Node, Object};
use super::source::{Diagnostics, Src};
use super::summary::{SkipReason, relevance};

/// One deployed resource, as a reader made it.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The full resource type as written (`Microsoft.Network/networkSecurityGroups/securityRules`).
    pub kind: String,
    /// One name per type segment after the namespace (`["web-nsg", "allow-https"]`).
    pub names: Vec<String>,
    /// The resource object as deployed (for a template: evaluated), without its child
    /// `resources`, which are resources of their own.
    pub body: Node,
    /// Where the resource is: its file, the JSON path with the copy iteration
    /// (`resources[2](copyIndex=1)`), and the position of its object.
    pub src: Src,
}

impl Resource {
    /// The resource's properties and where they are: `properties` in ARM and REST shapes, the
    /// object itself in `az` output (which flattens them).
    pub fn properties(&self) -> (&Object, Src) {
        let empty: &'static Object = empty_object();
        match self.body.as_object().and_then(|o| o.member("properties")) {
            Some((key, node)) if node.as_object().is_some() => {
                (node.as_object().unwrap_or(empty), self.src.child(key, node))
            }
            _ => (self.body.as_object().unwrap_or(empty), self.src.clone()),
        }
    }

    /// The API version the resource was written with (`apiVersion`: templates give it, `az`
    /// and REST output do not); `None` when absent or not a string.
    pub fn api_version(&self) -> Option<&str> {
        self.body.get("apiVersion").and_then(Node::as_str)
    }
}

fn empty_object() -> &'static Object {
    static EMPTY: std::sync::OnceLock<Object> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Object::new)
}

/// A resource a reader did not pass on, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The full resource type as written (empty when the object has none).
    pub kind: String,
    /// Its name as written (an expression is not evaluated); empty when it has none.
    pub name: String,
    /// Where it is.
    pub src: Src,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// What the readers produced: resources to read, and resources skipped.
#[derive(Debug, Default)]
pub struct Collected {
    /// Resources of the kinds the inventory reads, in input order.
    pub resources: Vec<Resource>,
    /// Resources not passed on.
    pub skipped: Vec<Skipped>,
    /// The types the summary counts a resource under when its source names types its own way,
    /// by the resource's index in `resources`: Terraform's `azurerm_subnet`, and the Terraform
    /// associations folded into it (`azurerm_subnet_network_security_group_association`), each
    /// counted with the resource's outcome. A resource not listed counts under its Azure type.
    pub counted_as: std::collections::BTreeMap<usize, Vec<String>>,
    /// What a reader could not read or follow and can change traffic, for the scenario's
    /// caveats.
    pub caveats: Vec<crate::scenario::schema::CaveatSpec>,
    /// Where the placeholder of an ARM parameter given no value stands (a name, a resource
    /// id): the parameter and the place, for the warning and caveat each parameter gets.
    pub placeholders: Vec<(String, Src)>,
    /// Virtual Network Manager deployments the input records (Terraform's
    /// `azurerm_network_manager_deployment`): which security admin configurations are deployed.
    pub admin_deployments: Vec<AdminDeployment>,
}

/// A deployment (commit) of security admin configurations, as an input records it.
#[derive(Clone, Debug)]
pub struct AdminDeployment {
    /// The network manager's name.
    pub network_manager: String,
    /// The configurations deployed: (manager, configuration) names.
    pub configurations: Vec<Vec<String>>,
}

impl Collected {
    /// The lines of the summary the resources stand for: `(resource index, type)`, in order.
    pub fn summary_types(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, r) in self.resources.iter().enumerate() {
            match self.counted_as.get(&i) {
                Some(kinds) => out.extend(kinds.iter().map(|k| (i, k.clone()))),
                None => out.push((i, r.kind.clone())),
            }
        }
        out
    }
}

/// The kinds of resource the inventory reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Microsoft.Network/networkSecurityGroups`.
    Nsg,
    /// `Microsoft.Network/networkSecurityGroups/securityRules`.
    SecurityRule,
    /// `Microsoft.Network/virtualNetworks`.
    Vnet,
    /// `Microsoft.Network/virtualNetworks/subnets`.
    Subnet,
    /// `Microsoft.Network/virtualNetworks/virtualNetworkPeerings`.
    Peering,
    /// `Microsoft.Network/networkInterfaces`.
    Nic,
    /// `Microsoft.Network/publicIPAddresses`.
    PublicIp,
    /// `Microsoft.Network/applicationSecurityGroups`.
    Asg,
    /// `Microsoft.Compute/virtualMachines`.
    Vm,
    /// `Microsoft.Network/bastionHosts`.
    Bastion,
    /// `Microsoft.Network/virtualNetworkGateways`.
    Gateway,
    /// `Microsoft.Network/localNetworkGateways`.
    LocalGateway,
    /// `Microsoft.Network/connections`.
    Connection,
    /// `Microsoft.Security/locations/jitNetworkAccessPolicies` (also without `locations/`).
    JitPolicy,
    /// `Microsoft.Network/routeTables`.
    RouteTable,
    /// `Microsoft.Network/routeTables/routes`.
    Route,
    /// `Microsoft.Network/azureFirewalls`.
    Firewall,
    /// `Microsoft.Network/firewallPolicies`.
    FirewallPolicy,
    /// `Microsoft.Network/firewallPolicies/ruleCollectionGroups`.
    RuleCollectionGroup,
    /// `Microsoft.Network/ipGroups`.
    IpGroup,
    /// `Microsoft.Network/networkManagers`.
    NetworkManager,
    /// `Microsoft.Network/networkManagers/networkGroups`.
    NetworkGroup,
    /// `Microsoft.Network/networkManagers/networkGroups/staticMembers`.
    StaticMember,
    /// `Microsoft.Network/networkManagers/securityAdminConfigurations`.
    AdminConfiguration,
    /// `Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections`.
    AdminRuleCollection,
    /// `Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/rules`.
    AdminRule,
    /// `Microsoft.Network/loadBalancers`.
    LoadBalancer,
    /// `Microsoft.Network/loadBalancers/inboundNatRules`.
    LbNatRule,
    /// `Microsoft.Network/loadBalancers/backendAddressPools`.
    LbPool,
    /// `Microsoft.Network/natGateways`.
    NatGateway,
    /// `Microsoft.Network/publicIPPrefixes`.
    PublicIpPrefix,
}

impl Kind {
    /// The kind of a full resource type (any case); `None` for a type nsgsim does not import.
    pub fn of(kind: &str) -> Option<Kind> {
        Some(match kind.to_ascii_lowercase().as_str() {
            "microsoft.network/networksecuritygroups" => Kind::Nsg,
            "microsoft.network/networksecuritygroups/securityrules" => Kind::SecurityRule,
            "microsoft.network/virtualnetworks" => Kind::Vnet,
            "microsoft.network/virtualnetworks/subnets" => Kind::Subnet,
            "microsoft.network/virtualnetworks/virtualnetworkpeerings" => Kind::Peering,
            "microsoft.network/networkinterfaces" => Kind::Nic,
            "microsoft.network/publicipaddresses" => Kind::PublicIp,
            "microsoft.network/applicationsecuritygroups" => Kind::Asg,
            "microsoft.compute/virtualmachines" => Kind::Vm,
            "microsoft.network/bastionhosts" => Kind::Bastion,
            "microsoft.network/virtualnetworkgateways" => Kind::Gateway,
            "microsoft.network/localnetworkgateways" => Kind::LocalGateway,
            "microsoft.network/connections" => Kind::Connection,
            "microsoft.security/locations/jitnetworkaccesspolicies"
            | "microsoft.security/jitnetworkaccesspolicies" => Kind::JitPolicy,
            "microsoft.network/routetables" => Kind::RouteTable,
            "microsoft.network/routetables/routes" => Kind::Route,
            "microsoft.network/azurefirewalls" => Kind::Firewall,
            "microsoft.network/firewallpolicies" => Kind::FirewallPolicy,
            "microsoft.network/firewallpolicies/rulecollectiongroups" => Kind::RuleCollectionGroup,
            "microsoft.network/ipgroups" => Kind::IpGroup,
            "microsoft.network/networkmanagers" => Kind::NetworkManager,
            "microsoft.network/networkmanagers/networkgroups" => Kind::NetworkGroup,
            "microsoft.network/networkmanagers/networkgroups/staticmembers" => Kind::StaticMember,
            "microsoft.network/networkmanagers/securityadminconfigurations" => Kind::AdminConfiguration,
            "microsoft.network/networkmanagers/securityadminconfigurations/rulecollections" => {
                Kind::AdminRuleCollection
            }
            "microsoft.network/networkmanagers/securityadminconfigurations/rulecollections/rules" => {
                Kind::AdminRule
            }
            "microsoft.network/loadbalancers" => Kind::LoadBalancer,
            "microsoft.network/loadbalancers/inboundnatrules" => Kind::LbNatRule,
            "microsoft.network/loadbalancers/backendaddresspools" => Kind::LbPool,
            "microsoft.network/natgateways" => Kind::NatGateway,
            "microsoft.network/publicipprefixes" => Kind::PublicIpPrefix,
            _ => return None,
        })
    }

    /// The resource type as Azure spells it.
    pub fn azure_type(self) -> &'static str {
        match self {
            Kind::Nsg => "Microsoft.Network/networkSecurityGroups",
            Kind::SecurityRule => "Microsoft.Network/networkSecurityGroups/securityRules",
            Kind::Vnet => "Microsoft.Network/virtualNetworks",
            Kind::Subnet => "Microsoft.Network/virtualNetworks/subnets",
            Kind::Peering => "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
            Kind::Nic => "Microsoft.Network/networkInterfaces",
            Kind::PublicIp => "Microsoft.Network/publicIPAddresses",
            Kind::Asg => "Microsoft.Network/applicationSecurityGroups",
            Kind::Vm => "Microsoft.Compute/virtualMachines",
            Kind::Bastion => "Microsoft.Network/bastionHosts",
            Kind::Gateway => "Microsoft.Network/virtualNetworkGateways",
            Kind::LocalGateway => "Microsoft.Network/localNetworkGateways",
            Kind::Connection => "Microsoft.Network/connections",
            Kind::JitPolicy => "Microsoft.Security/locations/jitNetworkAccessPolicies",
            Kind::RouteTable => "Microsoft.Network/routeTables",
            Kind::Route => "Microsoft.Network/routeTables/routes",
            Kind::Firewall => "Microsoft.Network/azureFirewalls",
            Kind::FirewallPolicy => "Microsoft.Network/firewallPolicies",
            Kind::RuleCollectionGroup => "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            Kind::IpGroup => "Microsoft.Network/ipGroups",
            Kind::NetworkManager => "Microsoft.Network/networkManagers",
            Kind::NetworkGroup => "Microsoft.Network/networkManagers/networkGroups",
            Kind::StaticMember => "Microsoft.Network/networkManagers/networkGroups/staticMembers",
            Kind::AdminConfiguration => "Microsoft.Network/networkManagers/securityAdminConfigurations",
            Kind::AdminRuleCollection => {
                "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections"
            }
            Kind::AdminRule => {
                "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/rules"
            }
            Kind::LoadBalancer => "Microsoft.Network/loadBalancers",
            Kind::LbNatRule => "Microsoft.Network/loadBalancers/inboundNatRules",
            Kind::LbPool => "Microsoft.Network/loadBalancers/backendAddressPools",
            Kind::NatGateway => "Microsoft.Network/natGateways",
            Kind::PublicIpPrefix => "Microsoft.Network/publicIPPrefixes",
        }
    }

    /// The kind in words, for messages (`network security group`).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Nsg => "network security group",
            Kind::SecurityRule => "security rule",
            Kind::Vnet => "virtual network",
            Kind::Subnet => "subnet",
            Kind::Peering => "virtual network peering",
            Kind::Nic => "network interface",
            Kind::PublicIp => "public IP address",
            Kind::Asg => "application security group",
            Kind::Vm => "virtual machine",
            Kind::Bastion => "bastion host",
            Kind::Gateway => "virtual network gateway",
            Kind::LocalGateway => "local network gateway",
            Kind::Connection => "connection",
            Kind::JitPolicy => "JIT network access policy",
            Kind::RouteTable => "route table",
            Kind::Route => "route",
            Kind::Firewall => "Azure Firewall",
            Kind::FirewallPolicy => "firewall policy",
            Kind::RuleCollectionGroup => "rule collection group",
            Kind::IpGroup => "IP group",
            Kind::NetworkManager => "network manager",
            Kind::NetworkGroup => "network group",
            Kind::StaticMember => "static member",
            Kind::AdminConfiguration => "security admin configuration",
            Kind::AdminRuleCollection => "admin rule collection",
            Kind::AdminRule => "security admin rule",
            Kind::LoadBalancer => "load balancer",
            Kind::LbNatRule => "inbound NAT rule",
            Kind::LbPool => "backend address pool",
            Kind::NatGateway => "NAT gateway",
            Kind::PublicIpPrefix => "public IP prefix",
        }
    }
}

/// The full type of a resource declared with `kind` inside a resource of type `parent`: a
/// child declared inside its parent may give its type relative to it (`securityRules`).
pub fn full_kind(kind: &str, parent: Option<&str>) -> String {
    match parent {
        Some(p) if !kind.contains('/') => format!("{p}/{kind}"),
        _ => kind.to_string(),
    }
}

/// A resource's name that does not have as many parts as its type has levels
/// (`Microsoft.Network/virtualNetworks/subnets` needs two: `vnet/subnet`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameCountError {
    /// The resource's full type.
    pub kind: String,
    /// How many names, separated by `/`, the type needs.
    pub needed: usize,
}

impl std::fmt::Display for NameCountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a {} needs {} name(s) separated by '/'", self.kind, self.needed)
    }
}

/// The chain of names of a resource of full type `kind` named `raw` (`vnet/subnet`): a child
/// declared inside its parent with a relative type gets the parent's names in front; a child in
/// `az` output, which gives only its own name, takes its parent's from its literal `id`.
///
/// # Errors
/// The number of names does not match the type: the error says how many are needed.
pub fn resource_names(
    kind: &str,
    raw: &str,
    relative: bool,
    parent_names: &[String],
    id: Option<&str>,
) -> Result<Vec<String>, NameCountError> {
    let mut names: Vec<String> = raw.split('/').map(str::to_string).collect();
    if relative {
        let mut full = parent_names.to_vec();
        full.extend(names);
        names = full;
    }
    let segments = kind.split('/').count().saturating_sub(1);
    if names.len() < segments
        && let Some(r) = id.and_then(parse_id)
        && r.names.len() == segments
    {
        names = r.names;
    }
    if names.iter().any(String::is_empty) || names.len() != segments.max(1) {
        return Err(NameCountError { kind: kind.to_string(), needed: segments.max(1) });
    }
    Ok(names)
}

/// Records a resource of a type nsgsim does not import, with a warning that says whether it
/// can change traffic, and the resources declared inside it (by their types alone: nothing of
/// them is evaluated).
pub fn skip_unmodelled(kind: &str, node: &Node, src: &Src, out: &mut Collected, diag: &mut Diagnostics) {
    let name = node.get("name").map(Node::shown).unwrap_or_default();
    skip_unmodelled_named(kind, name, node, src, out, diag);
}

/// [`skip_unmodelled`] for a resource whose name the reader could evaluate without evaluating
/// anything else of it (an ARM name expression that needs no deployment): caveats then read
/// `natGateways/nat-hub`, not the expression.
pub fn skip_unmodelled_named(
    kind: &str,
    name: String,
    node: &Node,
    src: &Src,
    out: &mut Collected,
    diag: &mut Diagnostics,
) {
    let reason = SkipReason::NotModelled(relevance(kind));
    diag.warn(src, format!("resource type '{kind}' is not imported: {reason}"));
    out.skipped.push(Skipped { kind: kind.to_string(), name, src: src.clone(), reason });
    let children = src.member(node, "resources");
    for (i, child) in node.get("resources").and_then(Node::as_array).into_iter().flatten().enumerate() {
        let csrc = children.item(i, child);
        match child.get("type").and_then(Node::as_str) {
            Some(t) => skip_unmodelled(&full_kind(t, Some(kind)), child, &csrc, out, diag),
            None => skip_untyped(&csrc, out, diag),
        }
    }
}

/// Records an object with no `type`, with a warning.
pub fn skip_untyped(src: &Src, out: &mut Collected, diag: &mut Diagnostics) {
    diag.warn(src, "the object has no 'type'; skipped (nsgsim imports Azure resources by their type)");
    out.skipped.push(Skipped {
        kind: String::new(),
        name: String::new(),
        src: src.clone(),
        reason: SkipReason::NoType,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_known_in_any_case_and_spelt_as_azure_does() {
        assert_eq!(Kind::of("microsoft.network/NETWORKSECURITYGROUPS"), Some(Kind::Nsg));
        assert_eq!(Kind::of("Microsoft.Security/jitNetworkAccessPolicies"), Some(Kind::JitPolicy));
        assert_eq!(Kind::of("Microsoft.Storage/storageAccounts"), None);
        assert_eq!(Kind::Subnet.azure_type(), "Microsoft.Network/virtualNetworks/subnets");
        assert_eq!(Kind::of(Kind::Peering.azure_type()), Some(Kind::Peering));
    }

    #[test]
    fn names_come_from_the_name_the_parent_or_the_id() {
        let subnet = "Microsoft.Network/virtualNetworks/subnets";
        assert_eq!(resource_names(subnet, "v/s", false, &[], None), Ok(vec!["v".into(), "s".into()]));
        assert_eq!(resource_names(subnet, "s", true, &["v".into()], None), Ok(vec!["v".into(), "s".into()]));
        let id = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/s";
        assert_eq!(resource_names(subnet, "s", false, &[], Some(id)), Ok(vec!["v".into(), "s".into()]));
        let err = resource_names(subnet, "s", false, &[], None);
        assert_eq!(err, Err(NameCountError { kind: subnet.to_string(), needed: 2 }));
        assert_eq!(err.unwrap_err().to_string(), format!("a {subnet} needs 2 name(s) separated by '/'"));
        assert!(resource_names("Microsoft.Network/virtualNetworks", "", false, &[], None).is_err());
        assert_eq!(full_kind("subnets", Some("Microsoft.Network/virtualNetworks")), subnet);
        assert_eq!(full_kind(subnet, Some("Microsoft.Network/virtualNetworks")), subnet);
    }
}

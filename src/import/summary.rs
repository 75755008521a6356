//! What an import read, imported and skipped, per resource type: the answer to "did nsgsim see
//! everything in my template that can change traffic?".
//!
//! The readers record every resource they meet; the builder says which ended up in the
//! scenario. A resource of a type nsgsim does not model is skipped with its [`Relevance`]: types
//! that cannot change what an NSG lets through (storage accounts, key vaults, disks, VM
//! extensions, diagnostics) are said to be harmless; types that can (load balancers, NAT and
//! application gateways, route tables and firewalls until they are imported, Virtual Network
//! Manager, private endpoints, Virtual WAN, nested deployments) are named as such; anything else
//! is "not classified", never silently harmless. [`Summary`]'s `Display` is the one place the
//! summary becomes text.

use std::collections::BTreeMap;
use std::fmt;

/// Whether a resource type nsgsim does not model can change the traffic a scenario answers for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relevance {
    /// It cannot change what reaches a VM or what NSGs decide.
    NoTraffic,
    /// It can; the reason says how.
    Traffic(&'static str),
    /// nsgsim does not know.
    Unclassified,
}

/// Why a resource is not in the scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// Its type is not modelled.
    NotModelled(Relevance),
    /// Its `condition` is false: the template does not deploy it.
    ConditionFalse,
    /// Another resource of the same type and name came first.
    Duplicate,
    /// The object has no `type`: it is not a resource.
    NoType,
    /// Read, but left out of the scenario (the warnings say why: a VM without a NIC in the
    /// input, a peering Azure would not connect, a gateway outside `GatewaySubnet`, …).
    NotImported,
    /// A nested deployment whose template is not local (or cannot be read): never fetched, so
    /// what it deploys is unknown.
    UnresolvedLink,
    /// A nested deployment that was read: what it deploys is counted by type.
    NestedDeployment,
    /// A Terraform plan destroys it: it exists now and will not after the apply.
    Destroyed,
}

impl SkipReason {
    /// Whether the skipped resource can (or may) change traffic.
    pub fn can_change_traffic(self) -> bool {
        matches!(
            self,
            SkipReason::NotModelled(Relevance::Traffic(_) | Relevance::Unclassified)
                | SkipReason::UnresolvedLink
        )
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotModelled(Relevance::NoTraffic) => {
                write!(f, "not modelled; cannot change NSG traffic")
            }
            SkipReason::NotModelled(Relevance::Traffic(why)) => {
                write!(f, "not modelled yet; CAN change traffic: {why}")
            }
            SkipReason::NotModelled(Relevance::Unclassified) => {
                write!(f, "not modelled; not classified, so it may change traffic")
            }
            SkipReason::ConditionFalse => write!(f, "condition false: not deployed"),
            SkipReason::Duplicate => write!(f, "defined more than once; the first definition is kept"),
            SkipReason::NoType => write!(f, "no 'type': not an Azure resource"),
            SkipReason::NotImported => write!(f, "left out, see the warnings"),
            SkipReason::UnresolvedLink => {
                write!(
                    f,
                    "a linked template that is not local, never fetched; CAN change traffic: what it deploys is unknown"
                )
            }
            SkipReason::NestedDeployment => {
                write!(f, "a nested deployment: what it deploys is read and counted by type")
            }
            SkipReason::Destroyed => write!(f, "the plan destroys it"),
        }
    }
}

/// The counts of one resource type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeSummary {
    /// The resource type as first spelt in the input (empty for objects with no type).
    pub kind: String,
    /// Resources of this type read (each iteration of a copy loop counts).
    pub read: usize,
    /// Resources that are in the scenario.
    pub imported: usize,
    /// Resources skipped, by reason.
    pub skipped: BTreeMap<SkipReason, usize>,
}

/// What an import read, imported and skipped, per resource type (types compared without case).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    types: BTreeMap<String, TypeSummary>,
}

impl Summary {
    fn entry(&mut self, kind: &str) -> &mut TypeSummary {
        self.types
            .entry(kind.to_ascii_lowercase())
            .or_insert_with(|| TypeSummary { kind: kind.to_string(), ..TypeSummary::default() })
    }

    /// Counts a resource of type `kind` that is in the scenario.
    pub fn imported(&mut self, kind: &str) {
        let e = self.entry(kind);
        e.read += 1;
        e.imported += 1;
    }

    /// Counts a resource of type `kind` that is not, and why.
    pub fn skipped(&mut self, kind: &str, reason: SkipReason) {
        let e = self.entry(kind);
        e.read += 1;
        *e.skipped.entry(reason).or_default() += 1;
    }

    /// Every type read, in order of their names (without case).
    pub fn types(&self) -> impl Iterator<Item = &TypeSummary> {
        self.types.values()
    }

    /// How many skipped resources can (or may) change traffic.
    pub fn traffic_skipped(&self) -> usize {
        self.types
            .values()
            .flat_map(|t| t.skipped.iter())
            .filter(|(r, _)| r.can_change_traffic())
            .map(|(_, n)| n)
            .sum()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "import summary, per resource type:")?;
        if self.types.is_empty() {
            writeln!(f, "  no resource read")?;
        }
        for t in self.types.values() {
            let kind = if t.kind.is_empty() { "(no type)" } else { t.kind.as_str() };
            write!(f, "  {kind}: {} read, {} imported", t.read, t.imported)?;
            let skipped: usize = t.skipped.values().sum();
            match t.skipped.iter().collect::<Vec<_>>().as_slice() {
                [] => {}
                [(reason, _)] => write!(f, ", {skipped} skipped ({reason})")?,
                many => {
                    write!(f, ", {skipped} skipped (")?;
                    for (i, (reason, n)) in many.iter().enumerate() {
                        write!(f, "{}{n} {reason}", if i == 0 { "" } else { "; " })?;
                    }
                    write!(f, ")")?;
                }
            }
            writeln!(f)?;
        }
        let traffic = self.traffic_skipped();
        if traffic > 0 {
            writeln!(
                f,
                "  {traffic} skipped resource(s) can or may change traffic: answers from this scenario do not account for them"
            )?;
        }
        Ok(())
    }
}

/// Whether a resource type nsgsim does not model can change traffic. Types are compared
/// without case; a child type (`…/loadBalancers/inboundNatRules`) is classified by its parent.
pub fn relevance(kind: &str) -> Relevance {
    let lower = kind.to_ascii_lowercase();
    // Diagnostic settings and other extension resources (`<type>/providers/<type>`) observe.
    if lower.contains("/providers/") {
        return Relevance::NoTraffic;
    }
    for (prefix, relevance) in CLASSIFIED {
        if lower == *prefix || lower.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')) {
            return *relevance;
        }
    }
    if let Some(namespace) = lower.split('/').next()
        && HARMLESS_NAMESPACES.contains(&namespace)
    {
        return Relevance::NoTraffic;
    }
    Relevance::Unclassified
}

/// Namespaces whose every type is harmless to NSG traffic: data, secrets, identity, monitoring.
const HARMLESS_NAMESPACES: &[&str] = &[
    "microsoft.storage",
    "microsoft.keyvault",
    "microsoft.insights",
    "microsoft.operationalinsights",
    "microsoft.operationsmanagement",
    "microsoft.managedidentity",
    "microsoft.authorization",
    "microsoft.automation",
    "microsoft.recoveryservices",
    "microsoft.alertsmanagement",
    "microsoft.portal",
    "microsoft.guestconfiguration",
    "microsoft.devtestlab",
    "microsoft.maintenance",
];

const LB: &str = "load-balancing and inbound NAT rules forward traffic from the frontend to VMs, past what the import shows";
const VWAN: &str = "Virtual WAN hubs and gateways route traffic between networks and sites";

/// Types classified one by one (a prefix covers its child types).
const CLASSIFIED: &[(&str, Relevance)] = &[
    ("microsoft.network/loadbalancers", Relevance::Traffic(LB)),
    (
        "microsoft.network/natgateways",
        Relevance::Traffic("a NAT gateway changes the outbound path and source address of its subnets"),
    ),
    (
        "microsoft.network/applicationgateways",
        Relevance::Traffic("an application gateway forwards traffic from its frontend to back ends"),
    ),
    (
        "microsoft.network/applicationgatewaywebapplicationfirewallpolicies",
        Relevance::Traffic(
            "a web application firewall policy blocks requests to an application gateway's back ends",
        ),
    ),
    // Route tables, routes, Azure Firewalls, Firewall Policies with their rule collection
    // groups, and IP groups are imported (resource.rs); a Firewall Policy's other children
    // (signature overrides, draft policies) are not.
    (
        "microsoft.network/firewallpolicies",
        Relevance::Traffic(
            "a Firewall Policy's settings beyond its rule collection groups (IDPS signature overrides, drafts) filter traffic",
        ),
    ),
    // Network managers, network groups, static members and security admin configurations with
    // their rule collections and rules are imported (resource.rs); the rest of a network manager
    // (connectivity and routing configurations, IPAM pools) is not.
    (
        "microsoft.network/networkmanagers",
        Relevance::Traffic(
            "Azure Virtual Network Manager changes traffic: its connectivity configurations peer virtual networks, its routing configurations add routes, and its security admin rules (imported from ARM and az, not yet from Terraform) are evaluated before NSGs",
        ),
    ),
    (
        "microsoft.network/privateendpoints",
        Relevance::Traffic(
            "a private endpoint puts an address for a service into a subnet, with a route to it",
        ),
    ),
    (
        "microsoft.network/privatelinkservices",
        Relevance::Traffic("a private link service takes traffic from endpoints in other networks"),
    ),
    ("microsoft.network/virtualwans", Relevance::Traffic(VWAN)),
    ("microsoft.network/virtualhubs", Relevance::Traffic(VWAN)),
    ("microsoft.network/vpngateways", Relevance::Traffic(VWAN)),
    ("microsoft.network/p2svpngateways", Relevance::Traffic(VWAN)),
    ("microsoft.network/vpnsites", Relevance::Traffic(VWAN)),
    ("microsoft.network/expressroutegateways", Relevance::Traffic(VWAN)),
    (
        "microsoft.network/expressroutecircuits",
        Relevance::Traffic("an ExpressRoute circuit brings on-premises routes learned over BGP"),
    ),
    (
        "microsoft.network/networkvirtualappliances",
        Relevance::Traffic("a network virtual appliance filters and forwards traffic"),
    ),
    (
        "microsoft.network/serviceendpointpolicies",
        Relevance::Traffic("a service endpoint policy filters outbound traffic to Azure services"),
    ),
    ("microsoft.network/frontdoors", Relevance::Traffic("Front Door forwards Internet traffic to back ends")),
    ("microsoft.cdn/profiles", Relevance::Traffic("Front Door forwards Internet traffic to back ends")),
    ("microsoft.network/ddosprotectionplans", Relevance::NoTraffic),
    ("microsoft.network/dnszones", Relevance::NoTraffic),
    ("microsoft.network/privatednszones", Relevance::NoTraffic),
    ("microsoft.network/networkwatchers", Relevance::NoTraffic),
    ("microsoft.network/publicipprefixes", Relevance::NoTraffic),
    ("microsoft.network/networkinterfaces/tapconfigurations", Relevance::NoTraffic),
    ("microsoft.network/networksecuritygroups/providers", Relevance::NoTraffic),
    (
        "microsoft.resources/deployments",
        Relevance::Traffic(
            "a nested deployment may deploy network resources; nsgsim does not evaluate nested deployments yet",
        ),
    ),
    (
        "microsoft.resources/deploymentscripts",
        Relevance::Traffic("a deployment script may change any resource"),
    ),
    ("microsoft.resources/tags", Relevance::NoTraffic),
    (
        "microsoft.compute/virtualmachinescalesets",
        Relevance::Traffic(
            "scale set instances have network interfaces, NSGs and load balancer pools that are not imported",
        ),
    ),
    ("microsoft.compute/virtualmachines/extensions", Relevance::NoTraffic),
    ("microsoft.compute/disks", Relevance::NoTraffic),
    ("microsoft.compute/availabilitysets", Relevance::NoTraffic),
    ("microsoft.compute/images", Relevance::NoTraffic),
    ("microsoft.compute/galleries", Relevance::NoTraffic),
    ("microsoft.compute/proximityplacementgroups", Relevance::NoTraffic),
    ("microsoft.compute/sshpublickeys", Relevance::NoTraffic),
    ("microsoft.compute/snapshots", Relevance::NoTraffic),
    ("microsoft.security/pricings", Relevance::NoTraffic),
    ("microsoft.security/workspacesettings", Relevance::NoTraffic),
    (
        "microsoft.sql/managedinstances",
        Relevance::Traffic(
            "SQL Managed Instance adds its own rules to its subnet's NSG and routes to its route table",
        ),
    ),
    (
        "microsoft.containerservice/managedclusters",
        Relevance::Traffic("AKS creates load balancers, NSG rules and routes for its nodes"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_classified_by_whether_they_can_change_traffic() {
        assert_eq!(relevance("Microsoft.Storage/storageAccounts"), Relevance::NoTraffic);
        assert_eq!(
            relevance("Microsoft.Storage/storageAccounts/blobServices/containers"),
            Relevance::NoTraffic
        );
        assert_eq!(relevance("Microsoft.Network/loadBalancers"), Relevance::Traffic(LB));
        assert_eq!(relevance("microsoft.network/LOADBALANCERS/inboundNatRules"), Relevance::Traffic(LB));
        // Route tables and routes are imported now; a Firewall Policy's children other than its
        // rule collection groups are not, and can change traffic.
        assert!(matches!(
            relevance("Microsoft.Network/firewallPolicies/signatureOverrides"),
            Relevance::Traffic(_)
        ));
        assert!(matches!(relevance("Microsoft.Resources/deployments"), Relevance::Traffic(_)));
        // A prefix only covers whole segments.
        assert_eq!(relevance("Microsoft.Network/loadBalancersX"), Relevance::Unclassified);
        assert_eq!(relevance("Microsoft.Network/somethingNew"), Relevance::Unclassified);
        assert_eq!(relevance("Microsoft.Compute/virtualMachines/extensions"), Relevance::NoTraffic);
        assert_eq!(
            relevance("Microsoft.Network/networkSecurityGroups/providers/diagnosticSettings"),
            Relevance::NoTraffic
        );
    }

    #[test]
    fn the_summary_counts_per_type_and_names_what_can_change_traffic() {
        let mut s = Summary::default();
        s.imported("Microsoft.Network/networkSecurityGroups");
        s.skipped(
            "Microsoft.Storage/storageAccounts",
            SkipReason::NotModelled(relevance("microsoft.storage/x")),
        );
        for _ in 0..2 {
            s.skipped("Microsoft.Network/loadBalancers", SkipReason::NotModelled(Relevance::Traffic(LB)));
        }
        s.skipped("microsoft.network/networksecuritygroups", SkipReason::ConditionFalse);
        assert_eq!(s.traffic_skipped(), 2);
        assert_eq!(
            s.to_string(),
            format!(
                "import summary, per resource type:
  Microsoft.Network/loadBalancers: 2 read, 0 imported, 2 skipped (not modelled yet; CAN change traffic: {LB})
  Microsoft.Network/networkSecurityGroups: 2 read, 1 imported, 1 skipped (condition false: not deployed)
  Microsoft.Storage/storageAccounts: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)
  2 skipped resource(s) can or may change traffic: answers from this scenario do not account for them
"
            )
        );
        s.skipped("Microsoft.Network/loadBalancers", SkipReason::Duplicate);
        assert!(
            s.to_string().contains("3 read, 0 imported, 3 skipped (2 not modelled yet; CAN change traffic: "),
            "{s}"
        );
        assert_eq!(
            Summary::default().to_string(),
            "import summary, per resource type:\n  no resource read\n"
        );
    }
}

//! Which Terraform types nsgsim reads and which Azure type each is, how each is named, and how
//! the others are classified when skipped.
//!
//! The translations themselves are one file per area: [`super::network`] (virtual networks,
//! subnets, peerings, route tables, VPN gateways), [`super::security`] (NSGs, their rules, ASGs),
//! [`super::compute`] (NICs, public IPs, VMs, Bastion) and [`super::firewall`] (Azure Firewall,
//! Firewall Policy, IP groups), [`super::load_balancer`] (load balancers and their parts);
//! [`super::fold`] folds the association resources into what they
//! associate. The attribute names are those of the azurerm provider's documentation (docs/
//! engineers.md lists them with the Azure property each becomes).

use super::attrs::{object, text};
use super::{Reader, Res};
use crate::import::json::Node;
use crate::import::summary::{Relevance, relevance};

/// `Microsoft.Network/virtualNetworks`.
pub const VNET: &str = "Microsoft.Network/virtualNetworks";
/// `Microsoft.Network/virtualNetworks/subnets`.
pub const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";
/// `Microsoft.Network/virtualNetworks/virtualNetworkPeerings`.
pub const PEERING: &str = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings";
/// `Microsoft.Network/networkSecurityGroups`.
pub const NSG: &str = "Microsoft.Network/networkSecurityGroups";
/// `Microsoft.Network/networkSecurityGroups/securityRules`.
pub const RULE: &str = "Microsoft.Network/networkSecurityGroups/securityRules";
/// `Microsoft.Network/applicationSecurityGroups`.
pub const ASG: &str = "Microsoft.Network/applicationSecurityGroups";
/// `Microsoft.Network/networkInterfaces`.
pub const NIC: &str = "Microsoft.Network/networkInterfaces";
/// `Microsoft.Network/publicIPAddresses`.
pub const PIP: &str = "Microsoft.Network/publicIPAddresses";
/// `Microsoft.Compute/virtualMachines`.
pub const VM: &str = "Microsoft.Compute/virtualMachines";
/// `Microsoft.Network/routeTables`.
pub const ROUTE_TABLE: &str = "Microsoft.Network/routeTables";
/// `Microsoft.Network/routeTables/routes`.
pub const ROUTE: &str = "Microsoft.Network/routeTables/routes";
/// `Microsoft.Network/bastionHosts`.
pub const BASTION: &str = "Microsoft.Network/bastionHosts";
/// `Microsoft.Network/azureFirewalls`.
pub const FIREWALL: &str = "Microsoft.Network/azureFirewalls";
/// `Microsoft.Network/firewallPolicies`.
pub const POLICY: &str = "Microsoft.Network/firewallPolicies";
/// `Microsoft.Network/firewallPolicies/ruleCollectionGroups`.
pub const GROUP: &str = "Microsoft.Network/firewallPolicies/ruleCollectionGroups";
/// `Microsoft.Network/ipGroups`.
pub const IP_GROUP: &str = "Microsoft.Network/ipGroups";
/// `Microsoft.Network/virtualNetworkGateways`.
pub const GATEWAY: &str = "Microsoft.Network/virtualNetworkGateways";
/// `Microsoft.Network/localNetworkGateways`.
pub const LOCAL_GATEWAY: &str = "Microsoft.Network/localNetworkGateways";
/// `Microsoft.Network/connections`.
pub const CONNECTION: &str = "Microsoft.Network/connections";

/// `Microsoft.Network/loadBalancers`.
pub const LB: &str = "Microsoft.Network/loadBalancers";
/// `Microsoft.Network/loadBalancers/backendAddressPools`.
pub const LB_POOL: &str = "Microsoft.Network/loadBalancers/backendAddressPools";
/// `Microsoft.Network/loadBalancers/probes`.
pub const LB_PROBE: &str = "Microsoft.Network/loadBalancers/probes";
/// `Microsoft.Network/loadBalancers/loadBalancingRules`.
pub const LB_RULE: &str = "Microsoft.Network/loadBalancers/loadBalancingRules";
/// `Microsoft.Network/loadBalancers/inboundNatRules`.
pub const LB_NAT_RULE: &str = "Microsoft.Network/loadBalancers/inboundNatRules";
/// `Microsoft.Network/loadBalancers/inboundNatPools`.
pub const LB_NAT_POOL: &str = "Microsoft.Network/loadBalancers/inboundNatPools";
/// `Microsoft.Network/loadBalancers/outboundRules`.
pub const LB_OUTBOUND: &str = "Microsoft.Network/loadBalancers/outboundRules";

/// `Microsoft.Network/natGateways`.
pub const NAT_GATEWAY: &str = "Microsoft.Network/natGateways";
/// `Microsoft.Network/publicIPPrefixes`.
pub const PUBLIC_IP_PREFIX: &str = "Microsoft.Network/publicIPPrefixes";

/// `Microsoft.Network/networkManagers`.
pub const NETWORK_MANAGER: &str = "Microsoft.Network/networkManagers";
/// `Microsoft.Network/networkManagers/networkGroups`.
pub const NETWORK_GROUP: &str = "Microsoft.Network/networkManagers/networkGroups";
/// `Microsoft.Network/networkManagers/networkGroups/staticMembers`.
pub const STATIC_MEMBER: &str = "Microsoft.Network/networkManagers/networkGroups/staticMembers";
/// `Microsoft.Network/networkManagers/securityAdminConfigurations`.
pub const ADMIN_CONFIG: &str = "Microsoft.Network/networkManagers/securityAdminConfigurations";
/// `Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections`.
pub const ADMIN_COLLECTION: &str =
    "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections";
/// `Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/rules`.
pub const ADMIN_RULE: &str =
    "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/rules";

/// A Terraform type nsgsim translates: its Azure type, and the attributes that give its names
/// (parent first; `@attr` is a parent named by the reference `attr`).
#[derive(Clone, Copy, Debug)]
pub struct Mapping {
    /// The azurerm type.
    pub terraform: &'static str,
    /// The Azure resource type.
    pub arm: &'static str,
    /// The attributes of its names.
    pub names: &'static [&'static str],
}

const fn m(terraform: &'static str, arm: &'static str, names: &'static [&'static str]) -> Mapping {
    Mapping { terraform, arm, names }
}

/// Every Terraform type nsgsim translates.
pub const MAPPINGS: &[Mapping] = &[
    m("azurerm_virtual_network", VNET, &["name"]),
    m("azurerm_subnet", SUBNET, &["virtual_network_name", "name"]),
    m("azurerm_virtual_network_peering", PEERING, &["virtual_network_name", "name"]),
    m("azurerm_network_security_group", NSG, &["name"]),
    m("azurerm_network_security_rule", RULE, &["network_security_group_name", "name"]),
    m("azurerm_application_security_group", ASG, &["name"]),
    m("azurerm_network_interface", NIC, &["name"]),
    m("azurerm_public_ip", PIP, &["name"]),
    m("azurerm_public_ip_prefix", PUBLIC_IP_PREFIX, &["name"]),
    m("azurerm_nat_gateway", NAT_GATEWAY, &["name"]),
    m("azurerm_linux_virtual_machine", VM, &["name"]),
    m("azurerm_windows_virtual_machine", VM, &["name"]),
    m("azurerm_virtual_machine", VM, &["name"]),
    m("azurerm_route_table", ROUTE_TABLE, &["name"]),
    m("azurerm_route", ROUTE, &["route_table_name", "name"]),
    m("azurerm_bastion_host", BASTION, &["name"]),
    m("azurerm_firewall", FIREWALL, &["name"]),
    m("azurerm_firewall_policy", POLICY, &["name"]),
    m("azurerm_firewall_policy_rule_collection_group", GROUP, &["@firewall_policy_id", "name"]),
    m("azurerm_ip_group", IP_GROUP, &["name"]),
    m("azurerm_virtual_network_gateway", GATEWAY, &["name"]),
    m("azurerm_local_network_gateway", LOCAL_GATEWAY, &["name"]),
    m("azurerm_virtual_network_gateway_connection", CONNECTION, &["name"]),
    // A load balancer's parts are folded into it (`super::load_balancer`); their ids are
    // Azure's ids of the parts, which rules and NIC associations refer to.
    m("azurerm_lb", LB, &["name"]),
    m("azurerm_lb_backend_address_pool", LB_POOL, &["@loadbalancer_id", "name"]),
    m("azurerm_lb_probe", LB_PROBE, &["@loadbalancer_id", "name"]),
    m("azurerm_lb_rule", LB_RULE, &["@loadbalancer_id", "name"]),
    m("azurerm_lb_nat_rule", LB_NAT_RULE, &["@loadbalancer_id", "name"]),
    m("azurerm_lb_nat_pool", LB_NAT_POOL, &["@loadbalancer_id", "name"]),
    m("azurerm_lb_outbound_rule", LB_OUTBOUND, &["@loadbalancer_id", "name"]),
    // `@@attr`: every name of the parent the reference `attr` names (a nested parent).
    m("azurerm_network_manager", NETWORK_MANAGER, &["name"]),
    m("azurerm_network_manager_network_group", NETWORK_GROUP, &["@@network_manager_id", "name"]),
    m("azurerm_network_manager_static_member", STATIC_MEMBER, &["@@network_group_id", "name"]),
    m(
        "azurerm_network_manager_security_admin_configuration",
        ADMIN_CONFIG,
        &["@@network_manager_id", "name"],
    ),
    m(
        "azurerm_network_manager_admin_rule_collection",
        ADMIN_COLLECTION,
        &["@@security_admin_configuration_id", "name"],
    ),
    m("azurerm_network_manager_admin_rule", ADMIN_RULE, &["@@admin_rule_collection_id", "name"]),
];

/// When an instance of Terraform type `kind` is translated: what others refer to comes first
/// (VNets, NSGs, public IPs before subnets and rules, those before load balancers, load
/// balancers before the NICs in their pools, NICs before VMs).
pub fn rank(kind: &str) -> u8 {
    match mapping(kind).map(|m| m.arm) {
        Some(
            VNET | NSG | ASG | PIP | PUBLIC_IP_PREFIX | ROUTE_TABLE | IP_GROUP | POLICY | LOCAL_GATEWAY
            | NETWORK_MANAGER,
        ) => 0,
        Some(NETWORK_GROUP | ADMIN_CONFIG | NAT_GATEWAY) => 1,
        Some(SUBNET | RULE | ROUTE | PEERING | GROUP) => 1,
        Some(LB) => 2,
        Some(NIC | BASTION | FIREWALL | GATEWAY) => 3,
        _ => 4,
    }
}

/// The translation of Terraform type `kind`, if nsgsim has one.
pub fn mapping(kind: &str) -> Option<&'static Mapping> {
    MAPPINGS.iter().find(|m| m.terraform == kind)
}

/// Attributes every azurerm resource may have that say nothing about traffic.
pub const HARMLESS: &[&str] =
    &["id", "name", "location", "resource_group_name", "tags", "timeouts", "edge_zone"];

/// Terraform types nsgsim does not translate, by the Azure type they create (a prefix stands for
/// the types that start with it and `_`): their relevance to traffic is that Azure type's.
const AZURE_TYPE_OF: &[(&str, &str)] = &[
    ("azurerm_lb", "Microsoft.Network/loadBalancers"),
    ("azurerm_network_interface_backend_address_pool_association", "Microsoft.Network/loadBalancers"),
    ("azurerm_network_interface_nat_rule_association", "Microsoft.Network/loadBalancers"),
    ("azurerm_application_gateway", "Microsoft.Network/applicationGateways"),
    (
        "azurerm_network_interface_application_gateway_backend_address_pool_association",
        "Microsoft.Network/applicationGateways",
    ),
    (
        "azurerm_web_application_firewall_policy",
        "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
    ),
    ("azurerm_private_endpoint", "Microsoft.Network/privateEndpoints"),
    ("azurerm_private_link_service", "Microsoft.Network/privateLinkServices"),
    ("azurerm_network_manager", "Microsoft.Network/networkManagers"),
    ("azurerm_virtual_wan", "Microsoft.Network/virtualWans"),
    ("azurerm_virtual_hub", "Microsoft.Network/virtualHubs"),
    ("azurerm_vpn_gateway", "Microsoft.Network/vpnGateways"),
    ("azurerm_point_to_site_vpn_gateway", "Microsoft.Network/p2sVpnGateways"),
    ("azurerm_express_route", "Microsoft.Network/expressRouteCircuits"),
    ("azurerm_subnet_service_endpoint_storage_policy", "Microsoft.Network/serviceEndpointPolicies"),
    ("azurerm_frontdoor", "Microsoft.Network/frontDoors"),
    ("azurerm_cdn_frontdoor", "Microsoft.Cdn/profiles"),
    ("azurerm_kubernetes_cluster", "Microsoft.ContainerService/managedClusters"),
    ("azurerm_linux_virtual_machine_scale_set", "Microsoft.Compute/virtualMachineScaleSets"),
    ("azurerm_windows_virtual_machine_scale_set", "Microsoft.Compute/virtualMachineScaleSets"),
    ("azurerm_orchestrated_virtual_machine_scale_set", "Microsoft.Compute/virtualMachineScaleSets"),
    ("azurerm_virtual_machine_scale_set", "Microsoft.Compute/virtualMachineScaleSets"),
    ("azurerm_mssql_managed_instance", "Microsoft.Sql/managedInstances"),
    ("azurerm_resource_group_template_deployment", "Microsoft.Resources/deployments"),
    ("azurerm_network_ddos_protection_plan", "Microsoft.Network/ddosProtectionPlans"),
    ("azurerm_dns", "Microsoft.Network/dnsZones"),
    ("azurerm_private_dns", "Microsoft.Network/privateDnsZones"),
    ("azurerm_network_watcher", "Microsoft.Network/networkWatchers"),
    ("azurerm_virtual_machine_extension", "Microsoft.Compute/virtualMachines/extensions"),
    ("azurerm_managed_disk", "Microsoft.Compute/disks"),
    ("azurerm_virtual_machine_data_disk_attachment", "Microsoft.Compute/disks"),
    ("azurerm_availability_set", "Microsoft.Compute/availabilitySets"),
    ("azurerm_image", "Microsoft.Compute/images"),
    ("azurerm_shared_image", "Microsoft.Compute/galleries"),
    ("azurerm_proximity_placement_group", "Microsoft.Compute/proximityPlacementGroups"),
    ("azurerm_ssh_public_key", "Microsoft.Compute/sshPublicKeys"),
    ("azurerm_snapshot", "Microsoft.Compute/snapshots"),
    ("azurerm_storage", "Microsoft.Storage/storageAccounts"),
    ("azurerm_key_vault", "Microsoft.KeyVault/vaults"),
    ("azurerm_log_analytics", "Microsoft.OperationalInsights/workspaces"),
    ("azurerm_monitor", "Microsoft.Insights/diagnosticSettings"),
    ("azurerm_application_insights", "Microsoft.Insights/components"),
    ("azurerm_role", "Microsoft.Authorization/roleAssignments"),
    ("azurerm_management_lock", "Microsoft.Authorization/locks"),
    ("azurerm_policy", "Microsoft.Authorization/policyAssignments"),
    ("azurerm_resource_policy", "Microsoft.Authorization/policyAssignments"),
    ("azurerm_subscription_policy", "Microsoft.Authorization/policyAssignments"),
    ("azurerm_resource_group_policy", "Microsoft.Authorization/policyAssignments"),
    ("azurerm_user_assigned_identity", "Microsoft.ManagedIdentity/userAssignedIdentities"),
    ("azurerm_recovery_services", "Microsoft.RecoveryServices/vaults"),
    ("azurerm_backup", "Microsoft.RecoveryServices/vaults"),
    ("azurerm_site_recovery", "Microsoft.RecoveryServices/vaults"),
    ("azurerm_automation", "Microsoft.Automation/automationAccounts"),
    ("azurerm_dev_test", "Microsoft.DevTestLab/schedules"),
    ("azurerm_maintenance", "Microsoft.Maintenance/maintenanceConfigurations"),
    ("azurerm_security_center_subscription_pricing", "Microsoft.Security/pricings"),
    ("azurerm_security_center_workspace", "Microsoft.Security/workspaceSettings"),
];

/// Terraform types that create nothing that carries traffic, with no Azure type of their own
/// in nsgsim's classification.
const HARMLESS_TYPES: &[&str] = &[
    "azurerm_resource_group",
    "azurerm_security_center_contact",
    "azurerm_security_center_setting",
    "azurerm_security_center_auto_provisioning",
    "azurerm_client_config",
    "azurerm_subscription",
    "azurerm_virtual_network_dns_servers",
];

/// Whether `kind` is `prefix` or starts with it and `_`.
fn covers(prefix: &str, kind: &str) -> bool {
    kind == prefix || kind.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('_'))
}

/// Whether a skipped Terraform type can change traffic: a type of another provider cannot
/// (`random_string`, `tls_private_key`, `azuread_group`: nothing in Azure's network); an azurerm
/// type is classified by the Azure type it creates; an azurerm type nsgsim does not know is
/// not classified, so it may.
pub fn relevance_of(kind: &str) -> Relevance {
    if !kind.starts_with("azurerm_") {
        return Relevance::NoTraffic;
    }
    if HARMLESS_TYPES.contains(&kind) {
        return Relevance::NoTraffic;
    }
    // The longest prefix decides (`azurerm_lb` for `azurerm_lb_rule`).
    AZURE_TYPE_OF
        .iter()
        .filter(|(prefix, _)| covers(prefix, kind))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or(Relevance::Unclassified, |(_, azure)| relevance(azure))
}

impl<'a> Reader<'a, '_> {
    /// Translates instance `i` (of a type in [`MAPPINGS`]) and hands it on.
    pub(super) fn translate(&mut self, i: usize) -> Res<()> {
        let Some(mapping) = mapping(&self.instances[i].kind) else { return Ok(()) };
        let properties = match mapping.terraform {
            "azurerm_virtual_network" => self.virtual_network(i)?,
            "azurerm_subnet" => self.subnet(i)?,
            "azurerm_virtual_network_peering" => self.peering(i)?,
            "azurerm_network_security_group" => self.security_group(i)?,
            "azurerm_network_security_rule" => self.security_rule(i)?,
            "azurerm_application_security_group" => Some(Vec::new()),
            "azurerm_network_interface" => self.network_interface(i)?,
            "azurerm_public_ip" => self.public_ip(i)?,
            "azurerm_public_ip_prefix" => self.public_ip_prefix(i)?,
            "azurerm_nat_gateway" => self.nat_gateway(i)?,
            "azurerm_linux_virtual_machine"
            | "azurerm_windows_virtual_machine"
            | "azurerm_virtual_machine" => self.virtual_machine(i)?,
            "azurerm_route_table" => self.route_table(i)?,
            "azurerm_route" => self.route(i)?,
            "azurerm_bastion_host" => self.bastion(i)?,
            "azurerm_firewall" => self.firewall(i)?,
            "azurerm_firewall_policy" => self.firewall_policy(i)?,
            "azurerm_firewall_policy_rule_collection_group" => self.rule_collection_group(i)?,
            "azurerm_ip_group" => self.ip_group(i)?,
            "azurerm_virtual_network_gateway" => self.gateway(i)?,
            "azurerm_local_network_gateway" => self.local_gateway(i)?,
            "azurerm_virtual_network_gateway_connection" => self.connection(i)?,
            "azurerm_lb" => self.load_balancer(i)?,
            "azurerm_network_manager"
            | "azurerm_network_manager_network_group"
            | "azurerm_network_manager_security_admin_configuration" => self.avnm_container(i)?,
            "azurerm_network_manager_static_member" => self.avnm_static_member(i)?,
            "azurerm_network_manager_admin_rule_collection" => self.avnm_rule_collection(i)?,
            "azurerm_network_manager_admin_rule" => self.avnm_admin_rule(i)?,
            _ => None,
        };
        // `None`: the translation skipped the instance and said why.
        let Some(members) = properties else { return Ok(()) };
        let body = self.body(i, mapping.arm, members);
        self.emit(i, mapping.arm, body);
        Ok(())
    }

    /// The Azure-shaped resource of instance `i`: its id, name and type, then `members`
    /// (`properties`, and `sku` where Azure has it).
    fn body(&self, i: usize, kind: &str, members: Vec<(&'static str, Node)>) -> Node {
        let inst = &self.instances[i];
        let at = inst.values.map_or(
            inst.src.position.unwrap_or(crate::import::json_position::Position { line: 1, column: 1 }),
            |v| v.position,
        );
        let identity = self.identities.get(i).and_then(Option::as_ref);
        let name_at = inst.values.and_then(|v| v.get("name")).map_or(at, |n| n.position);
        let mut all = vec![
            ("id", text(at, identity.map_or("", |x| x.id.as_str()))),
            ("name", text(name_at, identity.and_then(|x| x.names.last()).map_or("", String::as_str))),
            ("type", text(at, kind)),
        ];
        all.extend(members);
        object(at, all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_types_are_classified_by_the_azure_type_they_make() {
        assert!(matches!(relevance_of("azurerm_lb_rule"), Relevance::Traffic(_)));
        assert!(matches!(relevance_of("azurerm_application_gateway"), Relevance::Traffic(_)));
        assert!(matches!(relevance_of("azurerm_linux_virtual_machine_scale_set"), Relevance::Traffic(_)));
        assert_eq!(relevance_of("azurerm_storage_account"), Relevance::NoTraffic);
        assert_eq!(relevance_of("azurerm_key_vault_secret"), Relevance::NoTraffic);
        assert_eq!(relevance_of("azurerm_virtual_machine_extension"), Relevance::NoTraffic);
        assert_eq!(relevance_of("azurerm_resource_group"), Relevance::NoTraffic);
        assert_eq!(relevance_of("random_string"), Relevance::NoTraffic);
        assert_eq!(relevance_of("azurerm_something_new"), Relevance::Unclassified);
        // A prefix covers whole words only.
        assert_eq!(relevance_of("azurerm_lbx"), Relevance::Unclassified);
        assert!(MAPPINGS.iter().all(|m| mapping(m.terraform).is_some()));
    }
}

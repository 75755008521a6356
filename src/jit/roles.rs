//! Azure roles as sets of actions, and the permission checks JIT makes.
//!
//! Roles are modelled the way Azure RBAC models them: a role is a list of action patterns
//! (`Actions`: `*`, `Microsoft.Security/*`, `*/read`) minus its `NotActions`, and a permission
//! holds when, for every action Microsoft's JIT permissions table lists for the operation, some
//! role of the user grants it (an action of the role covers it and none of that role's
//! `NotActions` takes any of it away; another role may grant what one role's `NotActions`
//! removed). Matching is `action_pattern`'s. The built-in roles are Microsoft's published
//! definitions; a scenario may add custom roles.

use std::collections::BTreeMap;

use super::action_pattern::{action_matches, patterns_overlap};

/// What a user wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Enable, edit or disable JIT on a VM.
    Configure,
    /// Request access (`initiate`).
    Request,
    /// See JIT status.
    Read,
    /// Turn a Defender for Cloud plan (Defender for Servers Plan 2) on or off.
    SetPlan,
}

impl Permission {
    /// The actions the operation needs: Defender for Cloud's JIT permissions table, as written
    /// there (some are patterns, `…/*/read`; a role must grant everything they stand for).
    pub fn required_actions(self) -> &'static [&'static str] {
        match self {
            Permission::Configure => &[
                "Microsoft.Security/locations/jitNetworkAccessPolicies/write",
                "Microsoft.Compute/virtualMachines/write",
            ],
            Permission::Request => &[
                "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
                "Microsoft.Security/locations/jitNetworkAccessPolicies/*/read",
                "Microsoft.Compute/virtualMachines/read",
                "Microsoft.Network/networkInterfaces/*/read",
                "Microsoft.Network/publicIPAddresses/read",
            ],
            Permission::Read => &["Microsoft.Security/locations/jitNetworkAccessPolicies/read"],
            Permission::SetPlan => &["Microsoft.Security/pricings/write"],
        }
    }
}

/// Operations of Microsoft's resource-provider operations list that the wildcard entries of the
/// JIT permissions table stand for, so that a role is checked against operations, as Azure
/// checks it. `…/jitNetworkAccessPolicies/*/read`: the provider's only read of that type is
/// `…/jitNetworkAccessPolicies/read` ("Gets the just-in-time network access policies").
/// `…/networkInterfaces/*/read`: the network interface reads of Microsoft.Network.
const TABLE_WILDCARDS: &[(&str, &[&str])] = &[
    (
        "Microsoft.Security/locations/jitNetworkAccessPolicies/*/read",
        &["Microsoft.Security/locations/jitNetworkAccessPolicies/read"],
    ),
    (
        "Microsoft.Network/networkInterfaces/*/read",
        &[
            "Microsoft.Network/networkInterfaces/read",
            "Microsoft.Network/networkInterfaces/ipconfigurations/read",
            "Microsoft.Network/networkInterfaces/loadBalancers/read",
        ],
    ),
];

/// One role: what it allows (`Actions`) minus what it excludes (`NotActions`).
#[derive(Clone, Debug, Default)]
struct RoleDefinition {
    actions: Vec<String>,
    not_actions: Vec<String>,
}

impl RoleDefinition {
    /// Whether the role grants every operation `action` stands for.
    fn grants(&self, action: &str) -> bool {
        self.actions.iter().any(|a| action_matches(a, action))
            && !self.not_actions.iter().any(|n| patterns_overlap(n, action))
    }
}

/// Every role a scenario can name: the built-in ones plus the scenario's custom roles.
#[derive(Clone, Debug)]
pub struct RoleBook {
    roles: BTreeMap<String, RoleDefinition>,
}

impl Default for RoleBook {
    /// Microsoft's built-in role definitions ("Azure built-in roles"), as published, plus the
    /// least-privilege role of Microsoft's JIT script.
    fn default() -> Self {
        let mut book = RoleBook { roles: BTreeMap::new() };
        let mut add = |name: &str, actions: &[&str], not_actions: &[&str]| {
            let owned = |list: &[&str]| list.iter().map(|a| a.to_string()).collect();
            book.define_with_exclusions(name, owned(actions), owned(not_actions));
        };
        add("Owner", &["*"], &[]);
        add(
            "Contributor",
            &["*"],
            &[
                "Microsoft.Authorization/*/Delete",
                "Microsoft.Authorization/*/Write",
                "Microsoft.Authorization/elevateAccess/Action",
                "Microsoft.Blueprint/blueprintAssignments/write",
                "Microsoft.Blueprint/blueprintAssignments/delete",
                "Microsoft.Compute/galleries/share/action",
                "Microsoft.Purview/consents/write",
                "Microsoft.Purview/consents/delete",
                "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
                "Microsoft.Subscription/cancel/action",
                "Microsoft.Subscription/enable/action",
            ],
        );
        add("Reader", &["*/read"], &[]);
        add(
            "Security Reader",
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/read",
                "Microsoft.operationalInsights/workspaces/*/read",
                "Microsoft.Resources/deployments/*/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Security/*/read",
                "Microsoft.IoTSecurity/*/read",
                "Microsoft.Support/*/read",
                "Microsoft.Security/iotDefenderSettings/packageDownloads/action",
                "Microsoft.Security/iotDefenderSettings/downloadManagerActivation/action",
                "Microsoft.Security/iotSensors/downloadResetPassword/action",
                "Microsoft.IoTSecurity/defenderSettings/packageDownloads/action",
                "Microsoft.IoTSecurity/defenderSettings/downloadManagerActivation/action",
                "Microsoft.Management/managementGroups/read",
            ],
            &[],
        );
        add(
            "Security Admin",
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.Authorization/policyAssignments/*",
                "Microsoft.Authorization/policyDefinitions/*",
                "Microsoft.Authorization/policyExemptions/*",
                "Microsoft.Authorization/policySetDefinitions/*",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Management/managementGroups/read",
                "Microsoft.operationalInsights/workspaces/*/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Security/*",
                "Microsoft.IoTSecurity/*",
                "Microsoft.IoTFirmwareDefense/*",
                "Microsoft.Support/*",
            ],
            &[],
        );
        add(
            "Virtual Machine Contributor",
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.Compute/availabilitySets/*",
                "Microsoft.Compute/locations/*",
                "Microsoft.Compute/virtualMachines/*",
                "Microsoft.Compute/virtualMachineScaleSets/*",
                "Microsoft.Compute/disks/write",
                "Microsoft.Compute/disks/read",
                "Microsoft.Compute/disks/delete",
                "Microsoft.DevTestLab/schedules/*",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Network/applicationGateways/backendAddressPools/join/action",
                "Microsoft.Network/loadBalancers/backendAddressPools/join/action",
                "Microsoft.Network/loadBalancers/inboundNatPools/join/action",
                "Microsoft.Network/loadBalancers/inboundNatRules/join/action",
                "Microsoft.Network/loadBalancers/probes/join/action",
                "Microsoft.Network/loadBalancers/read",
                "Microsoft.Network/locations/*",
                "Microsoft.Network/networkInterfaces/*",
                "Microsoft.Network/networkSecurityGroups/join/action",
                "Microsoft.Network/networkSecurityGroups/read",
                "Microsoft.Network/publicIPAddresses/join/action",
                "Microsoft.Network/publicIPAddresses/read",
                "Microsoft.Network/virtualNetworks/read",
                "Microsoft.Network/virtualNetworks/subnets/join/action",
                "Microsoft.RecoveryServices/locations/*",
                "Microsoft.RecoveryServices/Vaults/backupFabrics/backupProtectionIntent/write",
                "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/*/read",
                "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/read",
                "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write",
                "Microsoft.RecoveryServices/Vaults/backupPolicies/read",
                "Microsoft.RecoveryServices/Vaults/backupPolicies/write",
                "Microsoft.RecoveryServices/Vaults/read",
                "Microsoft.RecoveryServices/Vaults/usages/read",
                "Microsoft.RecoveryServices/Vaults/write",
                "Microsoft.ResourceHealth/availabilityStatuses/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.SqlVirtualMachine/*",
                "Microsoft.Storage/storageAccounts/listKeys/action",
                "Microsoft.Storage/storageAccounts/read",
                "Microsoft.Support/*",
            ],
            &[],
        );
        // Not a built-in role: the custom least-privilege role that Microsoft's script
        // Set-JitLeastPrivilegedRole.ps1 creates under this name. nsgsim predefines it with the
        // script's actions so that scenarios need not write it out.
        add(
            "JIT Access Role",
            &[
                "Microsoft.Security/locations/jitNetworkAccessPolicies/read",
                "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
                "Microsoft.Security/policies/read",
                "Microsoft.Network/publicIPAddresses/read",
                "Microsoft.Compute/virtualMachines/read",
                "Microsoft.Network/*/read",
            ],
            &[],
        );
        book
    }
}

impl RoleBook {
    /// Adds (or replaces) a custom role with these `Actions` and no `NotActions`.
    pub fn define(&mut self, name: &str, actions: Vec<String>) {
        self.define_with_exclusions(name, actions, Vec::new());
    }

    /// Adds (or replaces) a custom role: its `Actions` minus its `NotActions`.
    pub fn define_with_exclusions(&mut self, name: &str, actions: Vec<String>, not_actions: Vec<String>) {
        self.roles.insert(name.to_string(), RoleDefinition { actions, not_actions });
    }

    /// Whether a role of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.roles.contains_key(name)
    }

    /// Every role name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Whether holding `roles` grants `permission`; otherwise the first action of Microsoft's
    /// table that no role grants in full.
    ///
    /// Each action must be granted by one role (`NotActions` only narrow their own role, as
    /// "Understand Azure role definitions" says: a second role may grant what one excludes).
    /// A wildcard entry of the table is checked as the operations it stands for
    /// (`TABLE_WILDCARDS`); one the catalogue does not know is checked as a pattern, which a
    /// role grants only when it grants everything the pattern could name.
    pub fn check(&self, roles: &[String], permission: Permission) -> Result<(), &'static str> {
        let definitions: Vec<&RoleDefinition> = roles.iter().filter_map(|r| self.roles.get(r)).collect();
        let granted = |operation: &str| definitions.iter().any(|d| d.grants(operation));
        for &action in permission.required_actions() {
            let operations = TABLE_WILDCARDS.iter().find(|(entry, _)| *entry == action).map(|(_, ops)| *ops);
            let ok = match operations {
                Some(ops) => ops.iter().all(|op| granted(op)),
                None => granted(action),
            };
            if !ok {
                return Err(action);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn owned(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_custom_role_built_exactly_from_microsofts_table_can_request_and_configure() {
        let mut book = RoleBook::default();
        book.define("Requester", owned(Permission::Request.required_actions()));
        book.define("Configurer", owned(Permission::Configure.required_actions()));
        assert_eq!(book.check(&roles(&["Requester"]), Permission::Request), Ok(()));
        assert_eq!(book.check(&roles(&["Configurer"]), Permission::Configure), Ok(()));
        assert!(book.check(&roles(&["Requester"]), Permission::Configure).is_err());
        // The same role spelled in another case: RBAC operations are case-insensitive.
        let lower: Vec<String> =
            Permission::Request.required_actions().iter().map(|a| a.to_lowercase()).collect();
        book.define("lower", lower);
        assert_eq!(book.check(&roles(&["lower"]), Permission::Request), Ok(()));
    }

    #[test]
    fn the_table_wildcards_need_every_operation_they_stand_for() {
        let mut book = RoleBook::default();
        let mut only_nic_read = owned(Permission::Request.required_actions());
        only_nic_read[3] = "Microsoft.Network/networkInterfaces/read".to_string();
        book.define("Narrow", only_nic_read);
        assert_eq!(
            book.check(&roles(&["Narrow"]), Permission::Request),
            Err("Microsoft.Network/networkInterfaces/*/read")
        );
    }

    #[test]
    fn not_actions_subtract_from_their_own_role_only() {
        let mut book = RoleBook::default();
        book.define_with_exclusions(
            "All but initiate",
            owned(&["*"]),
            owned(&["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"]),
        );
        book.define_with_exclusions(
            "Security but reads",
            owned(&["Microsoft.Security/*"]),
            owned(&["*/READ"]),
        );
        assert_eq!(
            book.check(&roles(&["All but initiate"]), Permission::Request),
            Err("Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action")
        );
        // "NotActions is not a deny rule": another role granting the action restores it.
        assert_eq!(book.check(&roles(&["All but initiate", "Security Admin"]), Permission::Request), Ok(()));
        // A NotActions pattern takes away every operation it matches, here the policy read.
        book.define("Reads", owned(&["Microsoft.Compute/*/read", "Microsoft.Network/*/read"]));
        assert_eq!(
            book.check(&roles(&["Security but reads", "Reads"]), Permission::Request),
            Err("Microsoft.Security/locations/jitNetworkAccessPolicies/*/read")
        );
    }

    #[test]
    fn built_in_roles_for_jit() {
        let book = RoleBook::default();
        assert!(book.check(&roles(&["Owner"]), Permission::Configure).is_ok());
        // Contributor's NotActions are all Authorization, Blueprint, Purview and Subscription.
        assert!(book.check(&roles(&["Contributor"]), Permission::Configure).is_ok());
        assert!(book.check(&roles(&["Contributor"]), Permission::Request).is_ok());
        assert!(book.check(&roles(&["Reader"]), Permission::Read).is_ok());
        assert_eq!(
            book.check(&roles(&["Reader"]), Permission::Request),
            Err("Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action")
        );
        assert!(book.check(&roles(&["Security Reader"]), Permission::Request).is_err());
        // Security Admin can initiate but cannot read VMs, so it cannot request on its own...
        assert_eq!(
            book.check(&roles(&["Security Admin"]), Permission::Request),
            Err("Microsoft.Compute/virtualMachines/read")
        );
        // ...and with Virtual Machine Contributor it can, and can configure.
        assert!(
            book.check(&roles(&["Security Admin", "Virtual Machine Contributor"]), Permission::Request)
                .is_ok()
        );
        assert!(
            book.check(&roles(&["Security Admin", "Virtual Machine Contributor"]), Permission::Configure)
                .is_ok()
        );
        assert!(book.check(&roles(&["JIT Access Role"]), Permission::Request).is_ok());
        assert!(book.check(&roles(&["JIT Access Role"]), Permission::Configure).is_err());
        assert!(book.check(&roles(&["Security Admin"]), Permission::SetPlan).is_ok());
        assert_eq!(
            book.check(&roles(&["Security Reader"]), Permission::SetPlan),
            Err("Microsoft.Security/pricings/write")
        );
        assert!(book.check(&roles(&["No Such Role"]), Permission::Read).is_err());
    }
}

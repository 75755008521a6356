//! Azure roles as sets of actions, and the permission checks JIT makes.
//!
//! Roles are modelled the way Azure RBAC models them: a role is a list of action patterns
//! (`*`, `Microsoft.Security/*`, `*/read`), and a permission holds when some pattern of some
//! role of the user matches every action the operation needs. The action lists of the built-in
//! roles are the ones that matter for JIT, from Microsoft's built-in role definitions; a scenario
//! may add custom roles.

use std::collections::BTreeMap;

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
    /// The actions the operation needs (Defender for Cloud's JIT permissions table).
    pub fn required_actions(self) -> &'static [&'static str] {
        match self {
            Permission::Configure => &[
                "Microsoft.Security/locations/jitNetworkAccessPolicies/write",
                "Microsoft.Compute/virtualMachines/write",
            ],
            Permission::Request => &[
                "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
                "Microsoft.Security/locations/jitNetworkAccessPolicies/read",
                "Microsoft.Compute/virtualMachines/read",
                "Microsoft.Network/networkInterfaces/read",
                "Microsoft.Network/publicIPAddresses/read",
            ],
            Permission::Read => &["Microsoft.Security/locations/jitNetworkAccessPolicies/read"],
            Permission::SetPlan => &["Microsoft.Security/pricings/write"],
        }
    }
}

/// Every role a scenario can name: the built-in ones plus the scenario's custom roles.
#[derive(Clone, Debug)]
pub struct RoleBook {
    roles: BTreeMap<String, Vec<String>>,
}

impl Default for RoleBook {
    fn default() -> Self {
        let mut roles = BTreeMap::new();
        let mut add = |name: &str, actions: &[&str]| {
            roles.insert(name.to_string(), actions.iter().map(|a| a.to_string()).collect());
        };
        add("Owner", &["*"]);
        add("Contributor", &["*"]);
        add("Reader", &["*/read"]);
        add(
            "Security Reader",
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.Insights/alertRules/read",
                "Microsoft.Management/managementGroups/read",
                "Microsoft.OperationalInsights/workspaces/*/read",
                "Microsoft.Resources/deployments/*/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Security/*/read",
                "Microsoft.Support/*/read",
            ],
        );
        add(
            "Security Admin",
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.Authorization/policyAssignments/*",
                "Microsoft.Authorization/policyDefinitions/*",
                "Microsoft.Authorization/policySetDefinitions/*",
                "Microsoft.Insights/alertRules/*",
                "Microsoft.Management/managementGroups/read",
                "Microsoft.OperationalInsights/workspaces/*/read",
                "Microsoft.Resources/deployments/*",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
                "Microsoft.Security/*",
                "Microsoft.Support/*",
            ],
        );
        add(
            "Virtual Machine Contributor",
            &[
                "Microsoft.Authorization/*/read",
                "Microsoft.Compute/virtualMachines/*",
                "Microsoft.Compute/availabilitySets/*",
                "Microsoft.Network/networkInterfaces/*",
                "Microsoft.Network/publicIPAddresses/read",
                "Microsoft.Network/virtualNetworks/read",
                "Microsoft.Network/networkSecurityGroups/read",
                "Microsoft.Resources/subscriptions/resourceGroups/read",
            ],
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
        );
        RoleBook { roles }
    }
}

impl RoleBook {
    /// Adds (or replaces) a custom role.
    pub fn define(&mut self, name: &str, actions: Vec<String>) {
        self.roles.insert(name.to_string(), actions);
    }

    /// Whether a role of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.roles.contains_key(name)
    }

    /// Every role name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Whether holding `roles` grants `permission`; otherwise the first missing action.
    pub fn check(&self, roles: &[String], permission: Permission) -> Result<(), &'static str> {
        for action in permission.required_actions() {
            let granted = roles
                .iter()
                .filter_map(|r| self.roles.get(r))
                .flatten()
                .any(|pattern| action_matches(pattern, action));
            if !granted {
                return Err(action);
            }
        }
        Ok(())
    }
}

/// Whether an RBAC action pattern (`*` matches any run of characters, case-insensitive)
/// covers `action`.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    glob(p.as_bytes(), a.as_bytes())
}

fn glob(p: &[u8], a: &[u8]) -> bool {
    match p.split_first() {
        None => a.is_empty(),
        Some((b'*', rest)) => (0..=a.len()).any(|i| glob(rest, &a[i..])),
        Some((c, rest)) => a.first() == Some(c) && glob(rest, &a[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(action_matches("*", "Microsoft.Compute/virtualMachines/write"));
        assert!(action_matches("*/read", "Microsoft.Compute/virtualMachines/read"));
        assert!(!action_matches("*/read", "Microsoft.Compute/virtualMachines/write"));
        assert!(action_matches(
            "microsoft.security/*",
            "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"
        ));
    }

    #[test]
    fn built_in_roles_for_jit() {
        let book = RoleBook::default();
        let roles = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(book.check(&roles(&["Owner"]), Permission::Configure).is_ok());
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

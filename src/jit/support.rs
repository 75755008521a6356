//! Which of the portal's three lists a VM is on: Configured, Not configured (recommended), or
//! Unsupported with the reason.

use std::fmt;

use crate::model::{FirewallId, FirewallMode, Topology, VmId};

use super::PolicyScope;

/// A VM's JIT status as the Defender for Cloud JIT page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Supportability {
    /// JIT is enabled on the VM.
    Configured,
    /// JIT is not enabled but could be (the portal's "Not configured" tab, a recommendation).
    Recommended,
    /// JIT cannot be enabled, with the portal's reason.
    Unsupported(String),
}

impl Supportability {
    /// `Configured`, `Recommended` or `Unsupported`.
    pub fn label(&self) -> &'static str {
        match self {
            Supportability::Configured => "Configured",
            Supportability::Recommended => "Recommended",
            Supportability::Unsupported(_) => "Unsupported",
        }
    }
}

impl fmt::Display for Supportability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Supportability::Unsupported(reason) => write!(f, "Unsupported: {reason}"),
            other => f.write_str(other.label()),
        }
    }
}

/// The status of `vm`. `configured` says whether JIT is enabled on it; `plan2` whether Defender
/// for Servers Plan 2 is on; `disabled_scopes` where the security policy turns JIT off.
pub fn supportability(
    topology: &Topology,
    vm: VmId,
    configured: bool,
    plan2: bool,
    disabled_scopes: &[PolicyScope],
) -> Supportability {
    let v = topology.vm(vm);
    if !plan2 {
        return Supportability::Unsupported(format!(
            "Microsoft Defender for Servers Plan 2 is not enabled on subscription '{}' (JIT requires it)",
            v.subscription
        ));
    }
    if v.classic {
        return Supportability::Unsupported(
            "Classic VM: JIT supports only VMs deployed through Azure Resource Manager".into(),
        );
    }
    if let Some(scope) = disabled_scopes.iter().find(|s| s.covers(v)) {
        return Supportability::Unsupported(format!(
            "Other: the JIT solution is disabled in the security policy of {scope}"
        ));
    }
    let has_nsg = v.nics.iter().any(|&n| {
        let nic = topology.nic(n);
        nic.nsg.is_some() || topology.subnet(nic.subnet).nsg.is_some()
    });
    if !has_nsg {
        return match protecting_firewall(topology, vm) {
            Some((_, FirewallMode::Classic)) => {
                if configured {
                    Supportability::Configured
                } else {
                    Supportability::Recommended
                }
            }
            Some((name, FirewallMode::Policy)) => Supportability::Unsupported(format!(
                "VMs protected by Azure Firewalls controlled by Azure Firewall Manager are not supported: firewall '{name}' uses a Firewall Policy, and the VM has no NSG"
            )),
            None => Supportability::Unsupported(
                "Missing network security group (NSG) or Azure Firewall: JIT requires an NSG on the VM's subnet or network interface, or an Azure Firewall configuration".into(),
            ),
        };
    }
    if configured { Supportability::Configured } else { Supportability::Recommended }
}

/// The Azure Firewall in the VM's own VNet, if any (JIT supports VMs "protected by Azure
/// Firewalls on the same VNET as the VM"), with its name and mode.
pub fn protecting_firewall(topology: &Topology, vm: VmId) -> Option<(String, FirewallMode)> {
    firewall_for(topology, vm).map(|f| {
        let fw = topology.firewall(f);
        (fw.name.clone(), fw.mode)
    })
}

/// The id of the Azure Firewall in the VM's VNet, if any.
pub fn firewall_for(topology: &Topology, vm: VmId) -> Option<FirewallId> {
    let nic = topology.primary_nic(vm)?;
    let vnet = topology.vnet_of_nic(nic);
    topology.firewall_ids().find(|&f| topology.subnet(topology.firewall(f).subnet).vnet == vnet)
}

//! Which of the portal's three lists a VM is on: Configured, Not configured, or Unsupported with
//! the reason.

use std::fmt;

use crate::model::{FirewallId, FirewallMode, Topology, VmId};

use super::PolicyScope;

/// A VM's JIT status as the Defender for Cloud JIT page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Supportability {
    /// JIT is enabled on the VM.
    Configured,
    /// JIT is not enabled but could be: the portal's "Not configured" tab (Defender recommends
    /// enabling JIT there; older portals said "Recommended", and scenarios may still write it).
    NotConfigured,
    /// JIT cannot be enabled, with the portal's reason.
    Unsupported(UnsupportedReason),
}

/// Why a VM is on the Unsupported tab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnsupportedReason {
    /// Defender for Servers Plan 2 is off on the VM's subscription (a reason nsgsim chose and
    /// labels as a model choice).
    NoPlan2 {
        /// The subscription.
        subscription: String,
    },
    /// A classic (Azure Service Manager) VM.
    Classic,
    /// The security policy of a scope covering the VM disables the JIT solution.
    DisabledByPolicy {
        /// The scope.
        scope: PolicyScope,
    },
    /// No NSG, and the VM's firewall is controlled by Azure Firewall Manager (a Firewall Policy);
    /// the wording is nsgsim's and labelled as a model choice.
    FirewallPolicy {
        /// The firewall.
        firewall: String,
    },
    /// No NSG on the subnet or NIC, and no Azure Firewall in the VNet.
    NoNsgOrFirewall,
}

impl fmt::Display for UnsupportedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsupportedReason::NoPlan2 { subscription } => write!(
                f,
                "Microsoft Defender for Servers Plan 2 is not enabled on subscription '{subscription}' (JIT requires it) [{PLAN2_MODEL_CHOICE}]"
            ),
            UnsupportedReason::Classic => {
                f.write_str("Classic VM: JIT supports only VMs deployed through Azure Resource Manager")
            }
            UnsupportedReason::DisabledByPolicy { scope } => {
                write!(f, "Other: the JIT solution is disabled in the security policy of {scope}")
            }
            UnsupportedReason::FirewallPolicy { firewall } => write!(
                f,
                "VMs protected by Azure Firewalls controlled by Azure Firewall Manager are not supported: firewall '{firewall}' uses a Firewall Policy, and the VM has no NSG [{FIREWALL_POLICY_MODEL_CHOICE}]"
            ),
            UnsupportedReason::NoNsgOrFirewall => f.write_str(
                "Missing network security group (NSG) or Azure Firewall: JIT requires an NSG on the VM's subnet or network interface, or an Azure Firewall configuration",
            ),
        }
    }
}

impl Supportability {
    /// The keyword a scenario and the JSON output write: `Configured`, `NotConfigured` or
    /// `Unsupported`.
    pub fn label(&self) -> &'static str {
        match self {
            Supportability::Configured => "Configured",
            Supportability::NotConfigured => "NotConfigured",
            Supportability::Unsupported(_) => "Unsupported",
        }
    }

    /// The tab of the portal's JIT page the VM is on: `Configured`, `Not configured` or
    /// `Unsupported`.
    pub fn tab(&self) -> &'static str {
        match self {
            Supportability::Configured => "Configured",
            Supportability::NotConfigured => "Not configured",
            Supportability::Unsupported(_) => "Unsupported",
        }
    }
}

impl fmt::Display for Supportability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Supportability::Unsupported(reason) => write!(f, "Unsupported: {reason}"),
            other => f.write_str(other.tab()),
        }
    }
}

/// The label on the Plan 2 reason: Microsoft documents that JIT requires Defender for Servers
/// Plan 2, not that the portal lists such VMs as Unsupported (without the plan it offers no JIT
/// page at all), so this reason is nsgsim's, not the portal's.
pub const PLAN2_MODEL_CHOICE: &str = "model choice: without Plan 2 the portal offers no JIT page; its documented Unsupported reasons are a missing NSG or firewall, a classic VM and a disabled security policy";

/// The label on what turning Defender for Servers Plan 2 off does to VMs where JIT is configured:
/// Microsoft documents that JIT requires the plan, not what happens to existing policies, rules
/// and grants when it is turned off.
pub const PLAN2_OFF_MODEL_CHOICE: &str = "model choice: Microsoft documents that JIT requires Defender for Servers Plan 2, not what turning it off does to configured VMs";

/// The label on the Firewall Manager reason: Microsoft documents that such VMs are not supported,
/// not which reason the portal shows for them.
pub const FIREWALL_POLICY_MODEL_CHOICE: &str =
    "model choice: Microsoft documents that these VMs are not supported, not the reason the portal shows";

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
        return Supportability::Unsupported(UnsupportedReason::NoPlan2 {
            subscription: v.subscription.clone(),
        });
    }
    if v.classic {
        return Supportability::Unsupported(UnsupportedReason::Classic);
    }
    if let Some(scope) = disabled_scopes.iter().find(|s| s.covers(v)) {
        return Supportability::Unsupported(UnsupportedReason::DisabledByPolicy { scope: scope.clone() });
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
                    Supportability::NotConfigured
                }
            }
            Some((firewall, FirewallMode::Policy)) => {
                Supportability::Unsupported(UnsupportedReason::FirewallPolicy { firewall })
            }
            None => Supportability::Unsupported(UnsupportedReason::NoNsgOrFirewall),
        };
    }
    if configured { Supportability::Configured } else { Supportability::NotConfigured }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Firewall, Os, SubnetId, VnetId};
    use crate::nsg::Nsg;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().expect("valid literal")
    }

    /// A VNet with a workload subnet (no NSG) and an `AzureFirewallSubnet`, and one VM.
    fn bare() -> (Topology, VnetId, SubnetId, VmId) {
        let mut t = Topology::new();
        let v = t.add_vnet("hub", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let s = t.add_subnet(v, "work", "10.0.1.0/24".parse().expect("net")).expect("subnet");
        t.add_subnet(v, "AzureFirewallSubnet", "10.0.9.0/26".parse().expect("net")).expect("subnet");
        let vm = t.add_vm("vm1", Os::Linux, false, ("sub-a", "rg-a")).expect("vm");
        t.add_nic("nic1", s, ip("10.0.1.4"), Some(vm)).expect("nic");
        (t, v, s, vm)
    }

    fn firewall(t: &mut Topology, v: VnetId, mode: FirewallMode) -> FirewallId {
        let fw = Firewall {
            name: "fw".into(),
            subnet: SubnetId(0),
            private_ip: ip("10.0.9.4"),
            public_ip: None,
            mode,
            groups: Vec::new(),
            legacy_dnat: false,
            private_ranges: crate::model::SnatPrivateRanges::default(),
        };
        t.add_firewall(fw, v).expect("firewall")
    }

    #[test]
    fn an_nsg_at_either_level_makes_a_vm_supported() {
        let (mut t, _, s, vm) = bare();
        assert_eq!(
            supportability(&t, vm, false, true, &[]),
            Supportability::Unsupported(UnsupportedReason::NoNsgOrFirewall)
        );
        let nsg = t.add_nsg(Nsg { name: "n".into(), rules: vec![] }).expect("nsg");
        t.set_subnet_nsg(s, Some(nsg)).expect("the subnet takes an NSG");
        assert_eq!(supportability(&t, vm, false, true, &[]), Supportability::NotConfigured);
        assert_eq!(supportability(&t, vm, true, true, &[]), Supportability::Configured);
        t.set_subnet_nsg(s, None).expect("the subnet takes an NSG");
        let nic = t.vm(vm).nics[0];
        t.set_nic_nsg(nic, Some(nsg));
        assert_eq!(supportability(&t, vm, false, true, &[]), Supportability::NotConfigured);
    }

    #[test]
    fn the_reasons_come_in_the_portal_order() {
        let (mut t, _, s, _) = bare();
        let nsg = t.add_nsg(Nsg { name: "n".into(), rules: vec![] }).expect("nsg");
        t.set_subnet_nsg(s, Some(nsg)).expect("the subnet takes an NSG");
        let classic = t.add_vm("old", Os::Windows, true, ("sub-a", "rg-a")).expect("vm");
        t.add_nic("old-nic", s, ip("10.0.1.5"), Some(classic)).expect("nic");
        let unsupported = |st: Supportability| match st {
            Supportability::Unsupported(r) => r,
            other => panic!("expected unsupported, got {other}"),
        };
        let text = |st: Supportability| unsupported(st).to_string();
        // Plan 2 off trumps everything, naming the subscription.
        let r = unsupported(supportability(&t, classic, false, false, &[]));
        assert_eq!(r, UnsupportedReason::NoPlan2 { subscription: "sub-a".into() });
        // Audit (fidelity, F5): a reason nsgsim chose, not one Microsoft documents, says so.
        let shown = r.to_string();
        assert!(shown.contains("Plan 2") && shown.contains("'sub-a'"), "{shown}");
        assert!(shown.contains("[model choice: "), "{shown}");
        let r = text(supportability(&t, classic, false, true, &[]));
        assert!(r.starts_with("Classic VM") && !r.contains("model choice"), "{r}");
        // A disabled scope covers the VM by subscription, resource group or name.
        let vm = t.vm_by_name("vm1").expect("vm");
        for scope in [
            PolicyScope::Subscription("sub-a".into()),
            PolicyScope::ResourceGroup("rg-a".into()),
            PolicyScope::Vm("vm1".into()),
        ] {
            let r = unsupported(supportability(&t, vm, false, true, std::slice::from_ref(&scope)));
            assert_eq!(r, UnsupportedReason::DisabledByPolicy { scope: scope.clone() });
            assert_eq!(
                r.to_string(),
                format!("Other: the JIT solution is disabled in the security policy of {scope}")
            );
        }
        let elsewhere = [PolicyScope::ResourceGroup("rg-b".into())];
        assert_eq!(supportability(&t, vm, false, true, &elsewhere), Supportability::NotConfigured);
    }

    #[test]
    fn a_firewall_in_the_vnet_supports_a_vm_without_nsg_only_with_classic_rules() {
        let (mut t, v, _, vm) = bare();
        let fw = firewall(&mut t, v, FirewallMode::Classic);
        assert_eq!(firewall_for(&t, vm), Some(fw));
        assert_eq!(protecting_firewall(&t, vm), Some(("fw".to_string(), FirewallMode::Classic)));
        assert_eq!(supportability(&t, vm, false, true, &[]), Supportability::NotConfigured);
        assert_eq!(supportability(&t, vm, true, true, &[]), Supportability::Configured);
        t.firewall_mut(fw).mode = FirewallMode::Policy;
        match supportability(&t, vm, false, true, &[]) {
            Supportability::Unsupported(r) => {
                assert_eq!(r, UnsupportedReason::FirewallPolicy { firewall: "fw".into() });
                let r = r.to_string();
                assert!(r.contains("Azure Firewall Manager") && r.contains("'fw'"), "{r}");
                assert!(r.ends_with(&format!("[{FIREWALL_POLICY_MODEL_CHOICE}]")), "{r}");
            }
            other => panic!("expected unsupported, got {other}"),
        }
    }

    #[test]
    fn a_firewall_in_another_vnet_does_not_count() {
        let (mut t, _, _, vm) = bare();
        let other = t.add_vnet("other", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        t.add_subnet(other, "AzureFirewallSubnet", "10.1.9.0/26".parse().expect("net")).expect("subnet");
        let fw = Firewall {
            name: "far".into(),
            subnet: SubnetId(0),
            private_ip: ip("10.1.9.4"),
            public_ip: None,
            mode: FirewallMode::Classic,
            groups: Vec::new(),
            legacy_dnat: false,
            private_ranges: crate::model::SnatPrivateRanges::default(),
        };
        t.add_firewall(fw, other).expect("firewall");
        assert_eq!(firewall_for(&t, vm), None);
        assert!(matches!(supportability(&t, vm, false, true, &[]), Supportability::Unsupported(_)));
    }

    #[test]
    fn labels_and_display() {
        assert_eq!(Supportability::Configured.label(), "Configured");
        assert_eq!(Supportability::NotConfigured.to_string(), "Not configured");
        assert_eq!(Supportability::NotConfigured.label(), "NotConfigured");
        let u = Supportability::Unsupported(UnsupportedReason::Classic);
        assert_eq!(u.label(), "Unsupported");
        assert_eq!(
            u.to_string(),
            "Unsupported: Classic VM: JIT supports only VMs deployed through Azure Resource Manager"
        );
    }
}

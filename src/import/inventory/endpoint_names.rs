//! One namespace for the endpoints a scenario names: VMs, network interfaces and public IPs.
//!
//! Why: Azure keeps names per resource type, so a template may give a VM, its network interface
//! and its public IP one name (the quickstarts `dsc-linux-azure-storage-on-ubuntu` and
//! `dsc-linux-public-storage-on-ubuntu` do, from one `vmName`), and Azure deploys it. A
//! scenario's flows name their endpoints, so there a name must mean one VM, NIC or public IP
//! (the scenario loader refuses two). The import keeps the VM's name and gives a NIC or a public
//! IP whose name is taken a name of its own (`NAME-nic`, `NAME-pip`), with a warning: a model
//! choice, said where it is made. References follow, because the builder resolves every
//! reference through [`Inventory::defined`].

use std::collections::HashSet;

use super::{Inventory, key};
use crate::import::resource::Kind;
use crate::name::name_key;

impl Inventory {
    /// Gives each NIC and public IP whose name a VM (or, for a public IP, a NIC) already has a
    /// name of its own; see the module docs.
    pub(super) fn separate_endpoint_names(&mut self) {
        // Names are compared as a scenario finds them ([`name_key`]).
        let mut taken: HashSet<String> = self.vms.iter().map(|v| name_key(&v.name)).collect();
        // A NIC's VM that is not in the input is made from the NIC's reference, with its name.
        taken.extend(self.nics.iter().filter_map(|n| n.vm.as_ref()).map(|r| name_key(r.name())));
        for i in 0..self.nics.len() {
            let old = self.nics[i].name.clone();
            if let Some(new) = own_name(&old, "nic", &taken) {
                self.defined.insert(key(Kind::Nic.azure_type(), std::slice::from_ref(&old)), new.clone());
                let src = self.nics[i].src.clone();
                self.diag.warn(&src, renamed("network interface", &old, &new, "a VM"));
                self.nics[i].name = new;
            }
            taken.insert(name_key(&self.nics[i].name));
        }
        for i in 0..self.pips.len() {
            let old = self.pips[i].name.clone();
            if let Some(new) = own_name(&old, "pip", &taken) {
                self.defined
                    .insert(key(Kind::PublicIp.azure_type(), std::slice::from_ref(&old)), new.clone());
                let src = self.pips[i].src.clone();
                self.diag.warn(&src, renamed("public IP", &old, &new, "a VM or network interface"));
                self.pips[i].name = new;
            }
            taken.insert(name_key(&self.pips[i].name));
        }
    }
}

/// A name for `name` that is not taken (`taken` holds [`name_key`]s), when `name` is:
/// `name-suffix`, then `name-suffix-2`, ….
fn own_name(name: &str, suffix: &str, taken: &HashSet<String>) -> Option<String> {
    if !taken.contains(&name_key(name)) {
        return None;
    }
    let first = format!("{name}-{suffix}");
    (1..)
        .map(|n| if n == 1 { first.clone() } else { format!("{first}-{n}") })
        .find(|c| !taken.contains(&name_key(c)))
}

fn renamed(what: &str, old: &str, new: &str, other: &str) -> String {
    format!(
        "{what} '{old}' is named '{new}' in the scenario: {other} has its name; Azure keeps names per resource type, and a scenario's VMs, network interfaces and public IPs share one namespace because flows name their endpoints (model choice)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_a_suffix_and_then_a_number() {
        let taken: HashSet<String> = ["web", "web-nic", "db"].into_iter().map(String::from).collect();
        assert_eq!(own_name("app", "nic", &taken), None);
        assert_eq!(own_name("db", "nic", &taken).as_deref(), Some("db-nic"));
        assert_eq!(own_name("web", "nic", &taken).as_deref(), Some("web-nic-2"));
        // Without case, as a scenario finds names.
        assert_eq!(own_name("WEB", "nic", &taken).as_deref(), Some("WEB-nic-2"));
    }
}

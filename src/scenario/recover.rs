//! Loading goes on after an error, so that `check` reports every independent error at once.
//!
//! Each top-level item of a file (a service tag, a VNet with its subnets, a peering, an NSG, a
//! public IP, a route table, a firewall, a Bastion host, a VM with its NICs, a role, a user, a
//! timeline step) is converted on its own: when it is wrong, its error is recorded, the item is
//! left out, and its name is remembered. A later reference to a name left out (a subnet of a
//! VNet that was refused) is not an error of its own: it would only repeat the first one, so it
//! is not reported. Errors inside one item stop that item at its first error.

use super::LoadError;
use super::load::{Fault, Loader};

/// Every error a file has, in the order found: never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadErrors {
    /// The first error.
    pub first: LoadError,
    /// The others.
    pub more: Vec<LoadError>,
}

impl LoadErrors {
    /// One error alone (a syntax error, an unreadable file).
    pub fn one(error: LoadError) -> LoadErrors {
        LoadErrors { first: error, more: Vec::new() }
    }

    /// Every error, the first first.
    pub fn iter(&self) -> impl Iterator<Item = &LoadError> {
        std::iter::once(&self.first).chain(&self.more)
    }

    /// How many errors.
    pub fn len(&self) -> usize {
        1 + self.more.len()
    }

    /// Never empty (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl Loader<'_> {
    /// Converts one item: its value, or `None` when it is wrong, its error recorded (unless it
    /// only follows from an item already refused) and its `names` remembered.
    pub(super) fn item<T>(&self, names: &[&str], convert: impl FnOnce() -> Result<T, Fault>) -> Option<T> {
        match convert() {
            Ok(value) => Some(value),
            Err(fault) => {
                self.refuse_item(fault, names);
                None
            }
        }
    }

    /// Records an item's fault and remembers the names it defines.
    pub(super) fn refuse_item(&self, fault: Fault, names: &[&str]) {
        if !fault.dependent {
            let error = self.error(fault);
            self.errors.borrow_mut().push(error);
        }
        self.skipped.borrow_mut().extend(names.iter().map(|n| n.to_string()));
    }

    /// Whether `name` was defined by an item that was refused.
    pub(super) fn is_skipped(&self, name: &str) -> bool {
        self.skipped.borrow().contains(name)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::{FieldPath, load_str_all};

    #[test]
    fn every_independent_error_is_reported_and_references_to_refused_items_are_not() {
        let text = r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
            vnets: [
                Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "bad")]),
                Vnet(name: "w", address_space: ["10.1.0.0/33"]),
            ],
            nsgs: [
                Nsg(name: "bad", rules: [Rule(name: "r", priority: 5000, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "22")]),
                Nsg(name: "good"),
            ],
            vms: [
                Vm(name: "vm1", os: Linux, nics: [Nic(name: "n1", subnet: "w/x", private_ip: "10.1.0.4")]),
                Vm(name: "vm2", os: Linux, nics: [Nic(name: "n2", subnet: "v/a", private_ip: "10.0.9.4")]),
            ],
            users: [User(name: "u", source_ip: "not-an-ip")],
            timeline: [
                (at: "0", action: EnableJit(vm: "vm1")),
                (at: "0", action: EnableJit(vm: "nope")),
                (at: "soon", note: "x"),
            ])"#;
        let errors = load_str_all(text, Path::new("t.ron")).expect_err("broken in many places");
        let fields: Vec<FieldPath> = errors.iter().filter_map(|e| e.field.clone()).collect();
        assert_eq!(
            fields,
            [
                FieldPath::root("vnets").index(1).field("address_space").index(0),
                FieldPath::root("nsgs").index(0).field("rules").index(0).field("priority"),
                FieldPath::root("vms").index(1).field("nics").index(0).field("private_ip"),
                FieldPath::root("users").index(0).field("source_ip"),
                FieldPath::root("timeline").index(1).field("action").field("vm"),
                FieldPath::root("timeline").index(2).field("at"),
            ],
            "{errors:#?}"
        );
        // Not reported again: the subnet's NSG 'bad' (refused), vm1's subnet in refused vnet 'w',
        // and the step that names vm1 (refused with its NIC).
        assert_eq!(errors.len(), 6);
        assert!(errors.iter().all(|e| e.position.is_some()), "{errors:#?}");
        // The first error is what load_str reports.
        let first = crate::scenario::load_str(text, Path::new("t.ron")).expect_err("broken");
        assert_eq!(first, errors.first);
    }
}

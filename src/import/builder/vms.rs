//! Network interfaces, the addresses Azure gives them, and the virtual machines they join.
//!
//! A NIC whose subnet is not in the input cannot be placed: it is left out (a gap: a caveat, or
//! under `--strict` the unresolved-reference error). A NIC without a private address gets the
//! one Azure's dynamic allocation would give, the first free host of its subnet after the four
//! Azure reserves, labelled a placeholder: Azure allocates in the order NICs are created, which a
//! template does not fix. Addresses are free per subnet, so a NIC is never moved to another
//! address because an unpeered VNet uses the same one; two NICs of one VNet with the same address
//! are an error at the second, as Azure refuses the second.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{ASG, NIC, NSG, PIP, Res, SUBNET, VNET};
use crate::import::arm::{ResourceRef, key};
use crate::import::inventory::{Inventory, IpConfigRec};
use crate::import::source::Src;
use crate::scenario::schema::{CaveatKindSpec, IpConfigSpec, NicSpec, OsSpec, VmSpec, VnetSpec};

/// A NIC as the scenario will hold it, with where it came from.
struct BuiltNic {
    spec: NicSpec,
    /// The VM `az`/REST output says it is attached to.
    vm: Option<ResourceRef>,
    /// Where the NIC is.
    src: Src,
    /// Where its private IP is given (or, when it is not, its IP configuration).
    ip_src: Src,
    /// The same for each of its secondary IP configurations (`spec.ip_configs`).
    config_ip_srcs: Vec<Src>,
}

impl Inventory {
    /// The VMs: NICs resolved and given addresses, then joined to the VMs that claim them; a
    /// NIC no VM claims becomes a VM of its own.
    pub(super) fn vms_with_nics(&mut self, vnets: &[VnetSpec]) -> Res<Vec<VmSpec>> {
        let records = std::mem::take(&mut self.nics);
        let built = self.build_nics(&records);
        self.nics = records;
        let mut nics = built?;
        self.allocate_addresses(&mut nics, vnets)?;

        // VMs take their NICs; NICs no VM claims become VMs of their own.
        let mut vms = Vec::new();
        let mut claimed: HashMap<String, String> = HashMap::new();
        let mut imported = Vec::new();
        // Taken out while gaps are recorded, and put back (an error drops the inventory).
        let records = std::mem::take(&mut self.vms);
        for v in &records {
            let mut vm_nics = Vec::new();
            for (r, src) in &v.nics {
                let lost = format!("virtual machine '{}' is imported without this network interface", v.name);
                let Some(name) = self.resolve_or_gap(r, src, NIC, &lost, vec![v.name.clone()])? else {
                    continue;
                };
                if let Some(owner) = claimed.insert(name.clone(), v.name.clone()) {
                    return Err(self.diag.unresolved(
                        src,
                        r,
                        format!(
                            "network interface '{name}' is already attached to virtual machine '{owner}'; valid: a network interface attached to one virtual machine only (Azure attaches a NIC to one VM)"
                        ),
                    ));
                }
                // A NIC left out (its subnet is not in the input) was reported where it is.
                if let Some(n) = nics.iter().find(|n| n.spec.name == name) {
                    vm_nics.push(clone_nic(&n.spec));
                }
            }
            if vm_nics.is_empty() {
                let reason = format!(
                    "virtual machine '{}' has no network interface in the input, so nothing of its network is known; not imported",
                    v.name
                );
                let resource = format!("Microsoft.Compute/virtualMachines/{}", v.name);
                self.gap(CaveatKindSpec::UnresolvedReference, resource, &v.src, reason, Vec::new())?;
                continue;
            }
            imported.push(v.res);
            let os = match &v.os {
                Ok(os) => *os,
                Err(missing) => {
                    let message = format!(
                        "virtual machine '{}': the OS is not known ({missing}); imported as Linux (JIT's default ports, 22, 3389, 5985 and 5986, cover both)",
                        v.name
                    );
                    self.diag.warn(&v.src, message);
                    OsSpec::Linux
                }
            };
            vms.push(VmSpec {
                name: v.name.clone(),
                os,
                classic: false,
                subscription: v.subscription.clone(),
                resource_group: v.resource_group.clone(),
                nics: vm_nics,
            });
        }
        self.vms = records;
        for nic in &nics {
            if claimed.contains_key(&nic.spec.name) {
                continue;
            }
            // Scenario names of VMs and NICs share one namespace (flows name either), so a VM made
            // for a lone NIC cannot take the NIC's own name.
            let vm_name = nic
                .vm
                .as_ref()
                .map(|r| r.name().to_string())
                .unwrap_or_else(|| format!("{}-vm", nic.spec.name));
            let message = match &nic.vm {
                Some(_) => format!(
                    "network interface '{}' belongs to virtual machine '{vm_name}', which is not in the input; imported as a Linux VM '{vm_name}'",
                    nic.spec.name
                ),
                None => format!(
                    "network interface '{}' is attached to no virtual machine; imported as a Linux VM '{vm_name}'",
                    nic.spec.name
                ),
            };
            self.diag.warn(&nic.src, message);
            self.defined
                .entry(key(super::VM, std::slice::from_ref(&vm_name)))
                .or_insert_with(|| vm_name.clone());
            match vms.iter_mut().find(|v: &&mut VmSpec| v.name == vm_name) {
                Some(vm) => vm.nics.push(clone_nic(&nic.spec)),
                None => vms.push(VmSpec {
                    name: vm_name,
                    os: OsSpec::Linux,
                    classic: false,
                    subscription: nic.vm.as_ref().and_then(|r| r.subscription.clone()),
                    resource_group: nic.vm.as_ref().and_then(|r| r.resource_group.clone()),
                    nics: vec![clone_nic(&nic.spec)],
                }),
            }
        }
        // Every NIC placed is in a VM now, its own or one made for it.
        let placed: Vec<usize> =
            self.nics.iter().filter(|n| nics.iter().any(|b| b.spec.name == n.name)).map(|n| n.res).collect();
        for res in imported.into_iter().chain(placed) {
            self.imported(res);
        }
        Ok(vms)
    }

    /// The NICs of `records` whose subnet is in the input, with their references resolved.
    fn build_nics(&mut self, records: &[crate::import::inventory::NicRec]) -> Res<Vec<BuiltNic>> {
        let mut out = Vec::new();
        for n in records {
            let lost = format!(
                "network interface '{}' cannot be placed, so it is not imported (nor its VM, unless it has another network interface in the input)",
                n.name
            );
            let Some(subnet_name) =
                self.resolve_or_gap(&n.subnet.0, &n.subnet.1, SUBNET, &lost, Vec::new())?
            else {
                continue;
            };
            let vnet_name = self.defined.get(&key(VNET, &n.subnet.0.names[..1])).cloned().unwrap_or_default();
            // The NIC's name stands for its VM in `affects` until the VMs are known.
            let me = vec![n.name.clone()];
            let nsg = match &n.nsg {
                Some((r, src)) => {
                    let lost = format!("network interface '{}' is imported without its NSG", n.name);
                    self.resolve_or_gap(r, src, NSG, &lost, me.clone())?
                }
                None => None,
            };
            let public_ip = match &n.public_ip {
                Some((r, src)) => {
                    let lost = format!("network interface '{}' is imported without its public IP", n.name);
                    self.resolve_or_gap(r, src, PIP, &lost, me.clone())?
                }
                None => None,
            };
            let mut asgs = Vec::new();
            for (r, src) in &n.asgs {
                asgs.push(self.asg_name(r, src)?);
            }
            let mut ip_configs = Vec::new();
            let mut config_ip_srcs = Vec::new();
            for c in &n.ip_configs {
                if let Some(config) = self.build_ip_config(n, c, &subnet_name)? {
                    ip_configs.push(config);
                    config_ip_srcs.push(c.ip_src.clone());
                }
            }
            out.push(BuiltNic {
                spec: NicSpec {
                    name: n.name.clone(),
                    subnet: format!("{vnet_name}/{subnet_name}"),
                    private_ip: n.private_ip.clone().unwrap_or_default(),
                    nsg,
                    asgs,
                    public_ip,
                    ip_configs,
                },
                vm: n.vm.clone(),
                src: n.src.clone(),
                ip_src: n.ip_src.clone(),
                config_ip_srcs,
            });
        }
        Ok(out)
    }

    /// A secondary IP configuration of NIC `n`, whose primary configuration is in subnet
    /// `subnet_name`; `None` (with a caveat) when it names another subnet, which nsgsim does not
    /// model.
    fn build_ip_config(
        &mut self,
        n: &crate::import::inventory::NicRec,
        c: &IpConfigRec,
        subnet_name: &str,
    ) -> Res<Option<IpConfigSpec>> {
        let me = vec![n.name.clone()];
        if let Some((r, src)) = &c.subnet {
            let lost = format!(
                "IP configuration '{}' of network interface '{}' is not imported: its subnet is not in the input",
                c.name, n.name
            );
            let Some(own) = self.resolve_or_gap(r, src, SUBNET, &lost, me.clone())? else {
                return Ok(None);
            };
            if own != subnet_name || !r.names[..1].eq(&n.subnet.0.names[..1]) {
                let reason = format!(
                    "IP configuration '{}' of network interface '{}' is in subnet '{own}', not the primary configuration's '{subnet_name}': nsgsim models a NIC's configurations in one subnet (model choice), so this configuration and its address are not imported",
                    c.name, n.name
                );
                let resource = format!("ipConfigurations/{} of network interface '{}'", c.name, n.name);
                self.gap(CaveatKindSpec::UnmodelledResource, resource, src, reason, me)?;
                return Ok(None);
            }
        }
        let public_ip = match &c.public_ip {
            Some((r, src)) => {
                let lost = format!(
                    "IP configuration '{}' of network interface '{}' is imported without its public IP",
                    c.name, n.name
                );
                self.resolve_or_gap(r, src, PIP, &lost, me)?
            }
            None => None,
        };
        let mut asgs = Vec::new();
        for (r, src) in &c.asgs {
            asgs.push(self.asg_name(r, src)?);
        }
        Ok(Some(IpConfigSpec {
            name: c.name.clone(),
            private_ip: c.private_ip.clone().unwrap_or_default(),
            asgs,
            public_ip,
        }))
    }

    /// The name of the application security group `r` refers to. One that is not in the input
    /// is declared from the reference: an ASG is only a name its members (NICs, all in the
    /// input) and rules share, so nothing is lost.
    pub(super) fn asg_name(&mut self, r: &ResourceRef, src: &Src) -> Res<String> {
        if r.kind.eq_ignore_ascii_case(ASG) && !self.defined.contains_key(&r.key()) {
            let name = r.name().to_string();
            self.diag.warn(
                src,
                format!(
                    "application security group '{name}' is not in the input; declared from this reference (an ASG has no properties that change traffic)"
                ),
            );
            self.defined.insert(r.key(), name.clone());
            self.asgs.push((name.clone(), usize::MAX));
            return Ok(name);
        }
        self.resolve(r, src, ASG)
    }

    /// Checks the given private addresses against their subnets and VNets, and gives the others
    /// the first free host of their subnet (Azure's dynamic allocation), each a placeholder.
    fn allocate_addresses(&mut self, nics: &mut [BuiltNic], vnets: &[VnetSpec]) -> Res<()> {
        let subnet_prefix = |subnet: &str| {
            vnets
                .iter()
                .flat_map(|v| v.subnets.iter().map(move |s| (format!("{}/{}", v.name, s.name), &s.prefix)))
                .find(|(name, _)| *name == subnet)
                .and_then(|(_, p)| p.parse::<IpNet>().ok())
        };
        let vnet_of = |subnet: &str| subnet.split('/').next().unwrap_or_default().to_string();
        // Every address to place: each NIC's primary configuration, then its secondary ones.
        let slots: Vec<(usize, Option<usize>)> = nics
            .iter()
            .enumerate()
            .flat_map(|(i, n)| {
                std::iter::once((i, None)).chain((0..n.spec.ip_configs.len()).map(move |c| (i, Some(c))))
            })
            .collect();
        // (VNet, address) → the slot that has it: one VNet is one routing domain for its own
        // addresses, and Azure refuses a second NIC with an address the VNet already uses.
        let mut used: HashMap<(String, IpAddr), (usize, Option<usize>)> = HashMap::new();
        for &(i, c) in &slots {
            let n = &nics[i];
            let given = address(n, c);
            let Ok(ip) = given.trim().parse::<IpAddr>() else { continue };
            if let Some(prefix) = subnet_prefix(&n.spec.subnet)
                && !prefix.contains(&ip)
            {
                return Err(self.diag.invalid(
                    address_src(n, c),
                    given,
                    format!(
                        "{}: the address is outside its subnet '{}' ({prefix})",
                        label(n, c),
                        n.spec.subnet
                    ),
                ));
            }
            if let Some(&(first, fc)) = used.get(&(vnet_of(&n.spec.subnet), ip)) {
                let other = &nics[first];
                return Err(self.diag.invalid(
                    address_src(n, c),
                    given,
                    format!(
                        "{} has the address of {} ({}) in the same virtual network '{}'; Azure refuses an address already in use in a virtual network",
                        label(n, c),
                        label(other, fc),
                        self.diag.place(address_src(other, fc)),
                        vnet_of(&n.spec.subnet)
                    ),
                ));
            }
            used.insert((vnet_of(&n.spec.subnet), ip), (i, c));
        }
        for &(i, c) in &slots {
            if !address(&nics[i], c).is_empty() {
                continue;
            }
            let subnet = nics[i].spec.subnet.clone();
            let taken: Vec<IpAddr> =
                used.keys().filter(|(v, _)| *v == vnet_of(&subnet)).map(|(_, ip)| *ip).collect();
            let Some(ip) = subnet_prefix(&subnet).and_then(|p| first_free(&p, &taken)) else {
                return Err(self.diag.invalid(
                    address_src(&nics[i], c),
                    &subnet,
                    format!("no free address for {} in its subnet; valid: a subnet with a free address (a larger prefix), or a privateIPAddress given", label(&nics[i], c)),
                ));
            };
            used.insert((vnet_of(&subnet), ip), (i, c));
            let nic = &mut nics[i];
            match c {
                None => nic.spec.private_ip = ip.to_string(),
                Some(c) => nic.spec.ip_configs[c].private_ip = ip.to_string(),
            }
            let (name, what) = (nic.spec.name.clone(), label(nic, c));
            let resource = match c {
                None => format!("privateIPAddress of network interface '{name}'"),
                Some(c) => format!(
                    "privateIPAddress of IP configuration '{}' of network interface '{name}'",
                    nic.spec.ip_configs[c].name
                ),
            };
            let reason = format!(
                "{what} has no privateIPAddress (dynamic allocation): Azure gives it the next free address of subnet '{subnet}' when it is created; nsgsim assumes {ip}, the first free one after the four Azure reserves, a placeholder"
            );
            let src = address_src(nic, c).clone();
            self.gap(CaveatKindSpec::Placeholder, resource, &src, reason, vec![name])?;
        }
        Ok(())
    }
}

/// The private address given for NIC `n`'s primary configuration (`None`) or secondary
/// configuration `c`; empty when none is given.
fn address(n: &BuiltNic, c: Option<usize>) -> &str {
    match c {
        None => &n.spec.private_ip,
        Some(c) => &n.spec.ip_configs[c].private_ip,
    }
}

/// Where that address is given (or its IP configuration, when it is not).
fn address_src(n: &BuiltNic, c: Option<usize>) -> &Src {
    match c {
        None => &n.ip_src,
        Some(c) => &n.config_ip_srcs[c],
    }
}

/// The NIC, or the NIC's secondary configuration, as messages name it.
fn label(n: &BuiltNic, c: Option<usize>) -> String {
    match c {
        None => format!("network interface '{}'", n.spec.name),
        Some(c) => {
            format!("network interface '{}' IP configuration '{}'", n.spec.name, n.spec.ip_configs[c].name)
        }
    }
}

/// A copy of `n` (the schema types are not `Clone`).
fn clone_nic(n: &NicSpec) -> NicSpec {
    NicSpec {
        name: n.name.clone(),
        subnet: n.subnet.clone(),
        private_ip: n.private_ip.clone(),
        nsg: n.nsg.clone(),
        asgs: n.asgs.clone(),
        public_ip: n.public_ip.clone(),
        ip_configs: n
            .ip_configs
            .iter()
            .map(|c| IpConfigSpec {
                name: c.name.clone(),
                private_ip: c.private_ip.clone(),
                asgs: c.asgs.clone(),
                public_ip: c.public_ip.clone(),
            })
            .collect(),
    }
}

/// The lowest address Azure would hand out in `prefix` (from the fifth; the first four and the
/// last are reserved) that is not in `taken`.
pub(super) fn first_free(prefix: &IpNet, taken: &[IpAddr]) -> Option<IpAddr> {
    match prefix {
        IpNet::V4(p) => {
            let lo = u32::from(p.network()).checked_add(4)?;
            let hi = u32::from(p.broadcast()).checked_sub(1)?;
            (lo..=hi).map(|n| IpAddr::from(std::net::Ipv4Addr::from(n))).find(|a| !taken.contains(a))
        }
        IpNet::V6(p) => {
            let lo = u128::from(p.network()).checked_add(4)?;
            let hi = u128::from(p.broadcast()).checked_sub(1)?;
            (lo..=hi.min(lo + 65536))
                .map(|n| IpAddr::from(std::net::Ipv6Addr::from(n)))
                .find(|a| !taken.contains(a))
        }
    }
}

//! A scenario's caveats (what could not be read or modelled and can change traffic): loading
//! them, and finding those that concern an answer.
//!
//! Each caveat's `affects` names are resolved against the topology at load, once, so that the
//! commands ask "does this caveat concern vm-db?" by id; a name that names nothing is an error at
//! its own position (a misspelt name would otherwise quietly narrow the caveat to nothing).
//!
//! Which caveats concern an answer: for a VM (`reach`, `effective-rules`), those that can change
//! its traffic; for a flow (`eval`, a `test` case), those that can change the traffic of either
//! end. An end that cannot be tied to a VM, a subnet or a VNet from the request alone (a
//! firewall's or Bastion's public IP, behind which DNAT picks the VM) is concerned by every
//! caveat: when in doubt, the caveat is named.

use std::net::IpAddr;

use super::FieldPath;
use super::load::{Fault, Loader, Scenario, fault};
use super::schema::{CaveatKindSpec, CaveatSpec};
use crate::model::{Affected, Caveat, CaveatKind, CaveatSource, CaveatTarget, NicId, Topology, VmId};
use crate::path::{Destination, FlowRequest, Source};

impl Scenario {
    /// The caveats that can change the traffic of `vm`, in file order.
    pub fn caveats_for_vm(&self, vm: VmId) -> Vec<&Caveat> {
        self.caveats.iter().filter(|c| c.touches_vm(&self.topology, vm)).collect()
    }

    /// The caveats that can change the answer for `request`: those that can change the traffic
    /// of its source or its destination, in file order.
    pub fn caveats_for_flow(&self, request: &FlowRequest) -> Vec<&Caveat> {
        let t = &self.topology;
        let source = match request.source {
            Source::Nic(nic) => End::Nic(nic),
            // An address placed in one routing domain is taken as the bare address: every place
            // that holds it is considered (when in doubt, the caveat is named).
            Source::Address(ip) | Source::AddressAt(ip, _) => end_of_address(t, ip),
        };
        let destination = match request.destination {
            Destination::Nic(nic) | Destination::Backend { nic, .. } => End::Nic(nic),
            Destination::PublicIp(p) => t.public_ip(p).nic.map_or(End::Unknown, End::Nic),
            Destination::Address(ip) => end_of_address(t, ip),
        };
        self.caveats.iter().filter(|c| source.touched_by(c, t) || destination.touched_by(c, t)).collect()
    }
}

/// One end of a flow, as far as caveats are concerned.
#[derive(Clone, Copy, Debug)]
enum End {
    /// A modelled NIC (of a VM).
    Nic(NicId),
    /// An address that is no modelled NIC: inside a subnet or VNet, or outside them all.
    Address(IpAddr),
    /// Something the request alone does not tie to a place (a firewall's or Bastion's public IP).
    Unknown,
}

impl End {
    fn touched_by(self, c: &Caveat, t: &Topology) -> bool {
        match self {
            End::Nic(nic) => c.touches_nic(t, nic),
            End::Unknown => true,
            // Every NIC, subnet and VNet that holds the address, so that a caveat is not missed
            // where unpeered VNets share an address space or a NIC's address.
            End::Address(ip) => {
                t.nics_with_ip(ip).iter().any(|&nic| c.touches_nic(t, nic))
                    || t.subnet_ids().any(|s| t.subnet(s).prefix.contains(&ip) && c.touches_subnet(t, s))
                    || t.vnet_ids().any(|v| {
                        t.vnet(v).address_space.iter().any(|space| space.contains(&ip)) && c.touches_vnet(v)
                    })
            }
        }
    }
}

/// The end an address stands for: a NIC by its private or public address, a public IP of
/// something else (unknown), or the address itself.
fn end_of_address(t: &Topology, ip: IpAddr) -> End {
    if let Some(nic) = t.nic_by_private_ip(ip) {
        return End::Nic(nic);
    }
    match t.public_ip_by_address(ip) {
        Some(p) => t.public_ip(p).nic.map_or(End::Unknown, End::Nic),
        None => End::Address(ip),
    }
}

impl Loader<'_> {
    /// The scenario's caveats, with their `affects` names resolved.
    pub(super) fn caveats(&self, specs: &[CaveatSpec], t: &Topology) -> Result<Vec<Caveat>, Fault> {
        specs.iter().enumerate().map(|(i, c)| caveat(c, t, &FieldPath::root("caveats").index(i))).collect()
    }
}

fn caveat(c: &CaveatSpec, t: &Topology, field: &FieldPath) -> Result<Caveat, Fault> {
    for (name, value) in [("resource", &c.resource), ("reason", &c.reason)] {
        if value.trim().is_empty() {
            return Err(fault(
                field.field(name),
                "",
                format!(
                    "a caveat's {name} is empty; valid: {}",
                    if name == "resource" {
                        "the resource it is about, e.g. \"Microsoft.Network/loadBalancers/lb-web\", or the template link"
                    } else {
                        "what it can do to traffic, e.g. \"load balancers are not modelled: their NAT rules can publish ports\""
                    }
                ),
            ));
        }
    }
    let mut affects: Vec<Affected> = Vec::new();
    for (i, name) in c.affects.iter().enumerate() {
        // A name listed twice says nothing more; it is kept once.
        if affects.iter().any(|a| a.name == *name) {
            continue;
        }
        let targets = targets(t, name);
        if targets.is_empty() {
            return Err(fault(field.field("affects").index(i), name, unknown_name(t, name)));
        }
        affects.push(Affected { name: name.clone(), targets });
    }
    Ok(Caveat {
        kind: kind(c.kind),
        resource: c.resource.clone(),
        source: CaveatSource::parse(&c.source),
        reason: c.reason.clone(),
        affects,
    })
}

fn kind(k: CaveatKindSpec) -> CaveatKind {
    match k {
        CaveatKindSpec::UnmodelledResource => CaveatKind::UnmodelledResource,
        CaveatKindSpec::UnresolvedLink => CaveatKind::UnresolvedLink,
        CaveatKindSpec::UnresolvedReference => CaveatKind::UnresolvedReference,
        CaveatKindSpec::Placeholder => CaveatKind::Placeholder,
        CaveatKindSpec::Other => CaveatKind::Other,
    }
}

/// What `name` names: a subnet written `vnet/subnet`, else a VM and/or a VNet of that name (both,
/// when both exist: a caveat then concerns more answers, never fewer).
fn targets(t: &Topology, name: &str) -> Vec<CaveatTarget> {
    if let Some((vnet, subnet)) = name.split_once('/') {
        return t
            .vnet_by_name(vnet)
            .and_then(|v| t.subnet_by_name(v, subnet))
            .map(CaveatTarget::Subnet)
            .into_iter()
            .collect();
    }
    let vm = t.vm_by_name(name).map(CaveatTarget::Vm);
    let vnet = t.vnet_by_name(name).map(CaveatTarget::Vnet);
    vm.into_iter().chain(vnet).collect()
}

/// The error for an affected name that names nothing, listing what would be valid.
fn unknown_name(t: &Topology, name: &str) -> String {
    let list = |names: Vec<String>| if names.is_empty() { "none".to_string() } else { names.join(", ") };
    let vms = list(t.vm_ids().map(|v| t.vm(v).name.clone()).collect());
    let subnets = list(
        t.subnet_ids().map(|s| format!("{}/{}", t.vnet(t.subnet(s).vnet).name, t.subnet(s).name)).collect(),
    );
    let vnets = list(t.vnet_ids().map(|v| t.vnet(v).name.clone()).collect());
    format!(
        "'{name}' is not a VM, a subnet (vnet/subnet) or a VNet of the scenario; valid: VMs [{vms}], subnets [{subnets}], VNets [{vnets}], or no affects to mean everything"
    )
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::super::testing::{Case, assert_cases, load};
    use crate::model::{CaveatKind, CaveatTarget};
    use crate::path::{Destination, FlowRequest, Source};

    const BASE: &str = r#"Scenario(
    name: "caveats",
    start: "2025-01-06T09:00:00Z",
    vnets: [
        Vnet(name: "prod", address_space: ["10.0.0.0/16"], subnets: [
            Subnet(name: "web", prefix: "10.0.1.0/24"),
            Subnet(name: "db", prefix: "10.0.2.0/24"),
        ]),
    ],
    vms: [
        Vm(name: "vm-web", os: Linux, nics: [Nic(name: "vm-web-nic", subnet: "prod/web", private_ip: "10.0.1.4")]),
        Vm(name: "vm-db", os: Linux, nics: [Nic(name: "vm-db-nic", subnet: "prod/db", private_ip: "10.0.2.4")]),
    ],
    caveats: [
        Caveat(
            kind: UnmodelledResource,
            resource: "Microsoft.Network/loadBalancers/lb-web",
            source: "azuredeploy.json:120:7",
            reason: "load balancers are not modelled",
            affects: ["vm-web", "prod/db", "prod", "vm-web"],
        ),
        Caveat(kind: UnresolvedLink, resource: "https://example.com/nested.json", reason: "not local"),
    ],
)"#;

    #[test]
    fn caveats_load_with_their_names_resolved() {
        let s = load(BASE, "c.ron").expect("the base scenario loads");
        assert_eq!(s.caveats.len(), 2);
        let lb = &s.caveats[0];
        assert_eq!(lb.kind, CaveatKind::UnmodelledResource);
        assert_eq!(lb.resource, "Microsoft.Network/loadBalancers/lb-web");
        assert_eq!(lb.source.as_ref().map(|s| s.to_string()).as_deref(), Some("azuredeploy.json:120:7"));
        let t = &s.topology;
        let vm_web = t.vm_by_name("vm-web").expect("vm-web");
        let prod = t.vnet_by_name("prod").expect("prod");
        let db = t.subnet_by_name(prod, "db").expect("db");
        let names: Vec<(&str, &[CaveatTarget])> =
            lb.affects.iter().map(|a| (a.name.as_str(), a.targets.as_slice())).collect();
        // The repeated vm-web is kept once.
        assert_eq!(
            names,
            [
                ("vm-web", &[CaveatTarget::Vm(vm_web)][..]),
                ("prod/db", &[CaveatTarget::Subnet(db)][..]),
                ("prod", &[CaveatTarget::Vnet(prod)][..]),
            ]
        );
        let link = &s.caveats[1];
        assert_eq!((link.kind, &link.source), (CaveatKind::UnresolvedLink, &None));
        assert!(link.affects_everything());
    }

    #[test]
    fn a_name_that_is_a_vm_and_a_vnet_names_both() {
        let text = BASE
            .replace(r#"Vm(name: "vm-db""#, r#"Vm(name: "prod""#)
            .replace(r#"affects: ["vm-web", "prod/db", "prod", "vm-web"]"#, r#"affects: ["prod"]"#);
        let s = load(&text, "c.ron").expect("loads");
        let t = &s.topology;
        let targets = &s.caveats[0].affects[0].targets;
        assert_eq!(
            targets,
            &[
                CaveatTarget::Vm(t.vm_by_name("prod").expect("the VM")),
                CaveatTarget::Vnet(t.vnet_by_name("prod").expect("the VNet"))
            ]
        );
    }

    #[test]
    fn a_flow_is_concerned_by_the_caveats_of_either_end() {
        let text = BASE
            .replace(
                r#"affects: ["vm-web", "prod/db", "prod", "vm-web"]"#,
                r#"affects: ["vm-web"]"#,
            )
            .replace(
                r#"Caveat(kind: UnresolvedLink, resource: "https://example.com/nested.json", reason: "not local")"#,
                r#"Caveat(kind: UnresolvedLink, resource: "https://example.com/nested.json", reason: "not local", affects: ["prod/db"])"#,
            )
            .replace(
                "    vms: [",
                r#"    public_ips: [PublicIp(name: "spare", address: "20.0.0.9")],
    vms: ["#,
            );
        let s = load(&text, "c.ron").expect("loads");
        let t = &s.topology;
        let nic = |vm: &str| t.primary_nic(t.vm_by_name(vm).expect("the VM")).expect("a NIC");
        let ip = |text: &str| text.parse::<IpAddr>().expect("an address");
        let flow = |source, destination| FlowRequest {
            source,
            destination,
            protocol: crate::net::IpProtocol::TCP,
            src_port: 50000,
            dst_port: 22,
            via: None,
        };
        let which = |request: FlowRequest| -> Vec<&str> {
            s.caveats_for_flow(&request).iter().map(|c| c.resource.as_str()).collect()
        };
        let (lb, link) = ("Microsoft.Network/loadBalancers/lb-web", "https://example.com/nested.json");
        let outside = Source::Address(ip("198.51.100.1"));
        assert_eq!(which(flow(outside, Destination::Nic(nic("vm-web")))), [lb]);
        assert_eq!(which(flow(outside, Destination::Nic(nic("vm-db")))), [link]);
        assert_eq!(which(flow(Source::Nic(nic("vm-web")), Destination::Nic(nic("vm-db")))), [lb, link]);
        // A NIC's address stands for the NIC.
        assert_eq!(which(flow(outside, Destination::Address(ip("10.0.1.4")))), [lb]);
        // An unmodelled host is concerned by its subnet's caveats, not by a VM's beside it.
        let outside_dst = Destination::Address(ip("198.51.100.2"));
        assert_eq!(which(flow(Source::Address(ip("10.0.2.50")), outside_dst)), [link]);
        assert!(which(flow(Source::Address(ip("10.0.1.50")), outside_dst)).is_empty());
        assert!(which(flow(outside, outside_dst)).is_empty());
        // A public IP of no NIC (a firewall's, behind which DNAT picks the VM) concerns them all.
        let spare = t.public_ip_by_name("spare").expect("the public IP");
        assert_eq!(which(flow(outside, Destination::PublicIp(spare))), [lb, link]);
        assert_eq!(which(flow(outside, Destination::Address(ip("20.0.0.9")))), [lb, link]);
        // And a VM's answers (reach, effective rules) by the VM's own.
        assert_eq!(s.caveats_for_vm(t.vm_by_name("vm-db").expect("vm-db")).len(), 1);
    }

    #[test]
    fn a_scenario_without_caveats_has_none() {
        let text = BASE.split("    caveats: [").next().expect("the part before caveats").to_string() + ")";
        assert!(load(&text, "c.ron").expect("loads").caveats.is_empty());
    }

    #[test]
    fn bad_caveats_are_refused_at_their_position() {
        let cases: &[Case] = &[
            (
                r#""prod/db", "prod", "vm-web"]"#,
                r#""prod/db", "vm-wbe", "vm-web"]"#,
                "caveats[0].affects[2]",
                ("\"vm-wbe\"", 0),
                "'vm-wbe' is not a VM, a subnet (vnet/subnet) or a VNet of the scenario; valid: VMs [vm-web, vm-db], subnets [prod/web, prod/db], VNets [prod]",
            ),
            (
                r#""prod/db", "prod", "vm-web"]"#,
                r#""prod/app", "prod", "vm-web"]"#,
                "caveats[0].affects[1]",
                ("\"prod/app\"", 0),
                "'prod/app' is not a VM",
            ),
            (
                r#"resource: "https://example.com/nested.json""#,
                r#"resource: " ""#,
                "caveats[1].resource",
                ("\" \"", 0),
                "a caveat's resource is empty",
            ),
            (r#"reason: "not local""#, r#"reason: """#, "caveats[1].reason", ("\"\"", 0), "reason is empty"),
        ];
        assert_cases(BASE, "c.ron", cases);
    }

    #[test]
    fn a_bad_kind_or_field_is_a_syntax_error_listing_what_is_valid() {
        let text = BASE.replace("kind: UnresolvedLink", "kind: LoadBalancer");
        let e = load(&text, "c.ron").expect_err("an unknown kind");
        let at = super::super::testing::at(&text, "LoadBalancer", 0);
        assert_eq!(e.position.map(|p| p.line), Some(at.line), "{e}");
        assert!(e.position.is_some_and(|p| p.column >= at.column), "{e}");
        for valid in ["UnmodelledResource", "UnresolvedLink", "UnresolvedReference", "Placeholder", "Other"] {
            assert!(e.message.contains(valid), "{e}");
        }
        let text = BASE.replace("reason: \"not local\"", "reason: \"not local\", vms: []");
        let e = load(&text, "c.ron").expect_err("an unknown field");
        assert!(e.message.contains("vms") && e.message.contains("affects"), "{e}");
    }
}

//! Reachability at scale: how long `reach` takes for every VM of a large generated topology
//! (the Internet class on the management ports, as `nsgsim exposure` computes at each instant).
//!
//! Run: `cargo bench --bench reach`.

use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};
use nsgsim::model::{Os, PublicIpSku, Topology, VmId};
use nsgsim::net::{PortRange, PortSet};
use nsgsim::nsg::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule,
};
use nsgsim::path::PolicyCache;
use nsgsim::reach::{Classes, MANAGEMENT_PORTS, reach};
use rayon::prelude::*;

fn rule(name: &str, priority: u16, access: Access, source: AddressSpec, port: u16) -> SecurityRule {
    SecurityRule {
        name: name.into(),
        priority: Priority(priority),
        direction: Direction::Inbound,
        access,
        protocol: RuleProtocol::Tcp,
        source,
        source_ports: PortSpec::any(),
        destination: AddressSpec::Any,
        destination_ports: PortSpec::single(port),
        description: String::new(),
        kind: RuleKind::Security,
    }
}

/// `vms` VMs, 100 per subnet, 10 subnets per VNet; every subnet has an NSG with a few typical
/// rules (an admin range on SSH, HTTPS from the Internet, a deny), every VM a public IP.
fn topology(vms: usize) -> (Topology, Vec<VmId>) {
    let mut t = Topology::new();
    let mut ids = Vec::new();
    let subnets = vms.div_ceil(100);
    for s in 0..subnets {
        let (vnet_no, subnet_no) = (s / 10, s % 10);
        let vnet_name = format!("vnet{vnet_no}");
        let vnet = match t.vnet_by_name(&vnet_name) {
            Some(v) => v,
            None => {
                let space =
                    IpNet::V4(Ipv4Net::new(Ipv4Addr::new(10, vnet_no as u8, 0, 0), 16).expect("valid"));
                t.add_vnet(&vnet_name, vec![space]).expect("vnet")
            }
        };
        let prefix =
            IpNet::V4(Ipv4Net::new(Ipv4Addr::new(10, vnet_no as u8, subnet_no as u8, 0), 24).expect("valid"));
        let subnet = t.add_subnet(vnet, &format!("s{subnet_no}"), prefix).expect("subnet");
        let admin = AddressSpec::Prefixes(vec![IpNet::V4(
            Ipv4Net::new(Ipv4Addr::new(203, 0, (s % 200) as u8, 0), 24).expect("valid"),
        )]);
        let nsg = t
            .add_nsg(Nsg {
                name: format!("nsg{s}"),
                rules: vec![
                    rule("ssh-admins", 100, Access::Allow, admin, 22),
                    rule("https", 110, Access::Allow, AddressSpec::Any, 443),
                    rule("no-rdp", 120, Access::Deny, AddressSpec::Any, 3389),
                ],
            })
            .expect("nsg");
        t.set_subnet_nsg(subnet, Some(nsg));
        for i in 0..100.min(vms - s * 100) {
            let name = format!("vm{s}-{i}");
            let vm = t.add_vm(&name, Os::Linux, false, ("sub", "rg")).expect("vm");
            let ip = IpAddr::V4(Ipv4Addr::new(10, vnet_no as u8, subnet_no as u8, 4 + i as u8));
            let nic = t.add_nic(&format!("{name}-nic"), subnet, ip, Some(vm)).expect("nic");
            let n = (s * 100 + i) as u32;
            let public = IpAddr::V4(Ipv4Addr::new(52, (n >> 16) as u8, (n >> 8) as u8, n as u8));
            let pip = t.add_public_ip(&format!("{name}-pip"), public, PublicIpSku::Standard).expect("pip");
            t.associate_public_ip(nic, pip).expect("associate");
            ids.push(vm);
        }
    }
    (t, ids)
}

fn bench_reach(c: &mut Criterion) {
    let mut group = c.benchmark_group("reach/internet-management-ports-all-vms");
    group.sample_size(10);
    for vms in [1_000usize, 10_000] {
        let (t, ids) = topology(vms);
        let cache = PolicyCache::new(&t);
        let ports = PortSet::from_ranges(MANAGEMENT_PORTS.map(PortRange::single));
        group.throughput(criterion::Throughput::Elements(vms as u64));
        group.bench_function(format!("{vms}"), |b| {
            b.iter(|| {
                let exposed: usize = ids
                    .par_iter()
                    .map(|&vm| {
                        reach(&t, &cache, vm, Some(&ports), Classes::InternetOnly)
                            .iter()
                            .filter(|c| !c.entries.is_empty())
                            .count()
                    })
                    .sum();
                assert_eq!(exposed, vms, "every VM has SSH open to its admin range");
                exposed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_reach);
criterion_main!(benches);

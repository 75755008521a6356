//! Reachability at scale, with the compiled matcher and rayon:
//! - `reach/internet-management-ports-all-vms`: the Internet class on the management ports for
//!   every VM of a simple generated topology (what `exposure` computes at one instant);
//! - `reach/full-to-vm`: a full `reach --to VM` (every source class: the Internet, users, Bastion,
//!   on-premises, every subnet) in a generated hub-and-spoke scenario with a firewall, Bastion,
//!   gateway transit and JIT enabled on every VM;
//! - `exposure/timeline-with-jit-grants`: `exposure` over that scenario's timeline of 40 JIT
//!   requests (each an instant, and each expiry another), replayed from the start;
//! - `lint/all-checks`: every lint check over that scenario with JIT enabled on every VM (10,000
//!   VMs share 100 NSGs, so each NSG holds 200 JIT rules).
//!
//! Run: `cargo bench --bench reach`. `NSGSIM_WRITE_SCENARIO=FILE cargo bench --bench reach`
//! writes the generated 10,000-VM scenario to FILE and runs nothing, so that the CLI can be timed
//! on exactly the same input (`nsgsim reach FILE --to vm0`, `nsgsim exposure FILE`).

use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group};
use ipnet::{IpNet, Ipv4Net};
use nsgsim::analysis::lint::lint;
use nsgsim::model::{Os, PublicIpSku, Topology, VmId};
use nsgsim::net::{PortRange, PortSet};
use nsgsim::nsg::{
    Access, AddressSpec, Direction, Nsg, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule,
};
use nsgsim::path::PolicyCache;
use nsgsim::reach::{Classes, MANAGEMENT_PORTS, exposure, reach};
use nsgsim::sim::{Duration, Simulator};
use rayon::prelude::*;

#[path = "common/generated.rs"]
mod generated;
use generated::scenario_text;

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
        t.set_subnet_nsg(subnet, Some(nsg)).expect("the subnet takes an NSG");
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

fn load(vms: usize) -> nsgsim::scenario::Scenario {
    nsgsim::scenario::load_str(&scenario_text(vms), std::path::Path::new("generated.ron"))
        .expect("the generated scenario is valid")
}

fn bench_full_reach(c: &mut Criterion) {
    let mut group = c.benchmark_group("reach/full-to-vm");
    group.sample_size(10);
    for vms in [1_000usize, 10_000] {
        let scenario = load(vms);
        let mut sim = Simulator::new(scenario.world());
        sim.enable_scoped_policies();
        let t = sim.topology();
        let target = t.vm_by_name("vm0").expect("vm0");
        group.bench_function(format!("{vms}"), |b| {
            b.iter(|| {
                let classes = reach(t, sim.policies(), target, None, Classes::All(sim.users()));
                assert!(classes.iter().any(|c| !c.entries.is_empty()), "someone reaches vm0");
                classes.len()
            })
        });
    }
    group.finish();
}

fn bench_exposure(c: &mut Criterion) {
    let mut group = c.benchmark_group("exposure/timeline-with-jit-grants");
    group.sample_size(10);
    for vms in [1_000usize, 10_000] {
        let scenario = load(vms);
        group.bench_function(format!("{vms}"), |b| {
            b.iter(|| {
                let windows = exposure(scenario.world(), &scenario.steps, Duration::default(), None)
                    .expect("the timeline applies");
                assert!(!windows.is_empty());
                windows.len()
            })
        });
    }
    group.finish();
}

fn bench_lint(c: &mut Criterion) {
    let mut group = c.benchmark_group("lint/all-checks");
    group.sample_size(10);
    for vms in [1_000usize, 10_000] {
        let scenario = load(vms);
        let mut sim = Simulator::new(scenario.world());
        sim.enable_scoped_policies_without_changes();
        group.bench_function(format!("{vms}"), |b| {
            b.iter(|| {
                let findings = lint(sim.topology(), sim.jit());
                assert!(findings.len() >= vms, "every VM has an allow ahead of its JIT deny rule");
                findings.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_reach, bench_full_reach, bench_exposure, bench_lint);

fn main() {
    if let Ok(path) = std::env::var("NSGSIM_WRITE_SCENARIO") {
        std::fs::write(&path, scenario_text(10_000)).expect("the scenario file is writable");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

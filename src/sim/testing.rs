//! Fixtures the simulator's unit tests share. The scenarios are written in the file format (the
//! loader is the quickest way to build a world and a timeline); what is tested is the runner.

use std::path::Path;

use crate::scenario::{Scenario, load_str};

use super::{Found, RunReport, run};

const BASE: &str = r#"Scenario(
    name: "t",
    start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [
        Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "nsg-a"),
        Subnet(name: "b", prefix: "10.0.2.0/24"),
    ])],
    nsgs: [Nsg(name: "nsg-a", rules: [
        Rule(name: "allow-ssh", priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
             source: "10.0.2.0/24", destination_ports: "22"),
    ])],
    vms: [
        Vm(name: "vm1", os: Linux, nics: [Nic(name: "vm1-nic", subnet: "v/a", private_ip: "10.0.1.4")]),
        Vm(name: "vm2", os: Linux, nics: [Nic(name: "vm2-nic", subnet: "v/b", private_ip: "10.0.2.4")]),
    ],
    users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.5")],
    EXTRA
    timeline: [TIMELINE],
)"#;

/// Two VMs in two subnets of one VNet, the first subnet's NSG allowing SSH from the second, and
/// `timeline` as the steps.
pub(super) fn scenario(timeline: &str) -> Scenario {
    scenario_with("", timeline)
}

/// [`scenario`] with more top-level fields (`extra`, each ending in a comma).
pub(super) fn scenario_with(extra: &str, timeline: &str) -> Scenario {
    let text = BASE.replace("EXTRA", extra).replace("TIMELINE", timeline);
    load_str(&text, Path::new("t.ron")).unwrap_or_else(|e| panic!("{e}"))
}

/// The run of [`scenario_with`].
pub(super) fn play_with(extra: &str, timeline: &str) -> RunReport {
    let s = scenario_with(extra, timeline);
    run(s.world(), &s.steps).unwrap_or_else(|e| panic!("{e}"))
}

/// The error of the run of [`scenario_with`], which must fail.
pub(super) fn run_with_error(extra: &str, timeline: &str) -> String {
    let s = scenario_with(extra, timeline);
    match run(s.world(), &s.steps) {
        Ok(_) => panic!("the run should fail"),
        Err(e) => e.to_string(),
    }
}

/// The run of [`scenario`].
pub(super) fn play(timeline: &str) -> RunReport {
    let s = scenario(timeline);
    run(s.world(), &s.steps).unwrap_or_else(|e| panic!("{e}"))
}

/// Each expectation's (passed, expected, found).
pub(super) fn outcomes(report: &RunReport) -> Vec<(bool, String, Found)> {
    report
        .steps
        .iter()
        .filter_map(|s| s.expectation.as_ref())
        .map(|e| (e.passed, e.expected.clone(), e.actual.clone()))
        .collect()
}

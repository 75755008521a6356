//! Issue 19 item 5, end to end through the binary: a NIC with several IP configurations, from
//! Microsoft's quickstart `vm-multiple-ipconfig` (copied with its licence to
//! `tests/data/import/real/`) and from the scenario format.

use crate::util::{TempDir, nsgsim, root};

/// A file of `tests/data/import/real/`.
fn real(name: &str) -> String {
    root().join("tests/data/import/real").join(name).display().to_string()
}

/// Microsoft: "Each NIC attached to a VM has one or more IP configurations associated to it";
/// the quickstart's NIC has three, the second with its own public IP. Every one is imported, and
/// traffic to the second public IP reaches the second configuration's address.
#[test]
fn the_quickstart_imports_every_ip_configuration_and_its_public_ip() {
    let dir = TempDir::new("multi-ip-import");
    let out = dir.path().join("out.ron").display().to_string();
    let run = nsgsim(&[
        "import",
        &real("quickstarts-microsoft.compute-vm-multiple-ipconfig.azuredeploy.json"),
        "--parameters",
        &real("quickstarts-microsoft.compute-vm-multiple-ipconfig.azuredeploy.parameters.json"),
        "-o",
        &out,
    ]);
    run.assert_code(0);
    assert!(!run.stderr.contains("nsgsim models the primary one"), "{}", run.stderr);
    let ron = std::fs::read_to_string(&out).expect("written");
    assert!(
        ron.contains(r#"ip_configs: [IpConfig(name: "IPConfig-2", private_ip: "10.0.0.5", public_ip: "myPublicIP2"), IpConfig(name: "IPConfig-3", private_ip: "10.0.0.6")]"#),
        "{ron}"
    );
    // IPConfig-3 has a dynamic address: a labelled placeholder, as the primary's.
    assert!(
        ron.contains("privateIPAddress of IP configuration 'IPConfig-3' of network interface 'myNic1'"),
        "{ron}"
    );
    nsgsim(&["check", &out]).assert_code(0);
    nsgsim(&[
        "eval",
        &out,
        "--from",
        "198.51.100.1",
        "--to",
        "myPublicIP2",
        "--port",
        "22",
        "--expect",
        "allow",
    ])
    .assert_code(0)
    .stdout_has(&["translates to 10.0.0.5 (IP configuration 'IPConfig-2' of nic 'myNic1')"]);
}

/// Microsoft's limits page counts ASGs "per IP configuration, per NIC": a configuration's ASGs
/// are its own, so an NSG rule to an ASG opens the member configuration's address and not the
/// NIC's other one. Exposure counts a management port open through the secondary public IP.
#[test]
fn asgs_and_public_ips_are_per_configuration_and_exposure_sees_the_secondary_one() {
    let scenario = root().join("scenarios/41-multi-ip-nic.ron").display().to_string();
    nsgsim(&["run", &scenario]).assert_code(0).stdout_has(&["8 passed, 0 failed"]);
    nsgsim(&["exposure", &scenario]).assert_code(0).stdout_has(&[
        "via public IP 'site-pip' (20.20.0.5) of IP configuration 'ipconfig2' (10.2.1.5), allowed by web-nsg securityRules/allow-ssh-legacy",
    ]);
    nsgsim(&["lint", &scenario]).stdout_has(&["NSG004-management-port-open", "public IP 'site-pip'"]);
}

/// A secondary configuration's address outside the NIC's subnet is refused at its field.
#[test]
fn a_secondary_address_outside_the_subnet_is_a_positioned_error() {
    let dir = TempDir::new("multi-ip-bad");
    let path = dir.path().join("bad.ron");
    std::fs::write(
        &path,
        r#"Scenario(name: "bad", start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.1.0/24")])],
    vms: [Vm(name: "vm", os: Linux, nics: [
        Nic(name: "n", subnet: "v/s", private_ip: "10.0.1.4",
            ip_configs: [IpConfig(name: "c2", private_ip: "10.0.9.9")]),
    ])],
)"#,
    )
    .expect("write");
    let p = path.display().to_string();
    nsgsim(&["check", &p])
        .assert_code(2)
        .stderr_has(&["vms[0].nics[0].ip_configs[0].private_ip", "10.0.9.9"]);
}

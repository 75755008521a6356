//! Issue 19 item 4, end to end through the binary: Azure Load Balancer (Standard and Basic,
//! load-balancing rules, inbound NAT rules, health probes) from the scenario format, with cases
//! written from Microsoft's text (quoted in docs/fidelity.md).

use crate::util::{TempDir, nsgsim, root};

/// `nsgsim eval FILE` from the customer's address 198.18.0.1 to `to` on `port`, expecting `expect`.
fn eval(file: &str, to: &str, port: &str, expect: &str) -> crate::util::Output {
    nsgsim(&["eval", file, "--from", "198.18.0.1", "--to", to, "--port", port, "--expect", expect])
}

fn scenario() -> String {
    root().join("scenarios/42-load-balancer.ron").display().to_string()
}

/// "Standard load balancers and standard public IP addresses are closed to inbound connections
/// unless opened by Network Security Groups"; "Basic load balancer is open to the internet by
/// default"; the NSG sees the client ("The source port and address range applied are from the
/// originating computer, not the load balancer").
#[test]
fn standard_is_closed_until_an_nsg_allows_basic_is_open_and_the_nsg_sees_the_client() {
    let file = scenario();
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&["load-balancer: 10 passed, 0 failed"]);
    eval(&file, "lb-app-pip", "443", "deny")
        .assert_code(0)
        .stdout_has(&["closed to inbound connections unless an NSG opens them"]);
    eval(&file, "lb-legacy-pip", "22", "allow")
        .assert_code(0)
        .stdout_has(&["load balancer 'lb-legacy' (Basic SKU)"]);
    eval(&file, "lb-web-pip", "80", "allow")
        .assert_code(0)
        .stdout_has(&["the client's source 198.18.0.1 is kept", "allow-http"]);
}

/// A NAT rule that publishes RDP counts in `exposure`, labelled with the load balancer and rule;
/// so does a Basic load balancer publishing SSH with no NSG.
#[test]
fn exposure_counts_a_nat_rule_publishing_rdp_and_a_basic_load_balancer_publishing_ssh() {
    nsgsim(&["exposure", &scenario()]).stdout_has(&[
        "via load balancer 'lb-web' NAT rule 'rdp-web-1' 20.30.0.10:50001 -> :3389, allowed by web-nsg securityRules/allow-rdp",
        "via load balancer 'lb-legacy' rule 'ssh' 20.30.0.30:22 -> :22, allowed by no NSG on the path",
    ]);
}

/// "When a health probe fails, the load balancer stops sending new connections to the respective
/// unhealthy instance": an NSG that denies `AzureLoadBalancer` takes the member out.
#[test]
fn a_member_whose_health_probe_an_nsg_denies_gets_no_new_connections() {
    let dir = TempDir::new("lb-probe");
    let text = std::fs::read_to_string(scenario()).expect("scenario").replace(
        r#"Rule(name: "allow-http", priority: 100,"#,
        r#"Rule(name: "no-probes", priority: 100, direction: Inbound, access: Deny, protocol: Any,
                 source: "AzureLoadBalancer", destination_ports: "*"),
            Rule(name: "allow-http", priority: 110,"#,
    );
    let file = dir.write("probe.ron", &text);
    eval(&file, "lb-web-pip", "80", "deny")
        .assert_code(0)
        .stdout_has(&["no healthy member", "is denied by web-nsg securityRules/no-probes"]);
    // NAT rules use no probe: RDP through the NAT rule still gets in.
    eval(&file, "lb-web-pip", "50001", "allow").assert_code(0);
}

/// A bad reference is a positioned error naming what is valid.
#[test]
fn a_pool_member_that_is_no_nic_is_an_error_at_its_position() {
    let dir = TempDir::new("lb-bad");
    let text = std::fs::read_to_string(scenario())
        .expect("scenario")
        .replace(r#"members: ["vm-app-nic"]"#, r#"members: ["vm-nope"]"#);
    let file = dir.write("bad.ron", &text);
    let out = nsgsim(&["check", &file]);
    out.assert_code(2);
    assert!(
        out.stderr.contains("load_balancers[1].pools[0].members[0]: unknown nic 'vm-nope'"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("bad.ron:"), "{}", out.stderr);
}

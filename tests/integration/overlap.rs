//! End-to-end tests of overlapping address spaces (issue 17, item 4 and wrong answer (a)): VNets
//! that are not peered are separate routing domains, may share address spaces and private
//! addresses, and an address is looked up where the packet is, never in the first VNet that holds
//! it. `tests/data/overlap/twin-vnets.ron` is the network: vnet-a and vnet-b, both 10.0.0.0/16,
//! with vm-a2 and vm-b at 10.0.1.5; vnet-c is peered with vnet-b.

use serde_json::Value;

use super::util::{TempDir, nsgsim, position, replace_once};

const TWINS: &str = "tests/data/overlap/twin-vnets.ron";

fn eval(args: &[&str]) -> Value {
    let mut all = vec!["eval", TWINS];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    nsgsim(&all).assert_code(0).json()
}

/// The resources of the trace's hops, in order.
fn resources(trace: &Value) -> Vec<String> {
    trace["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| h["resource"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn last_detail(trace: &Value) -> &str {
    trace["hops"].as_array().and_then(|h| h.last()).and_then(|h| h["detail"].as_str()).unwrap_or_default()
}

/// Wrong answer (a): before, the same address in two unpeered VNets was refused at load, and an
/// address of the other VNet was routed "VnetLocal" into it and allowed by its NSG. Now the file
/// loads, a packet to an address of the sender's own space stays in the sender's VNet (vm-a2, or
/// an unmodelled host there), a VM of the other VNet named as the destination is reached only
/// through a public IP, and a peer of the other VNet sees its own routing domain.
#[test]
fn r17_unpeered_vnets_with_the_same_addresses_are_separate_routing_domains() {
    nsgsim(&["check", TWINS]).assert_code(0).stdout_has(&["3 vnets, 4 subnets, 5 vms"]);
    nsgsim(&["run", TWINS]).assert_code(0).stdout_has(&["8 passed, 0 failed"]);

    let t = eval(&["--from", "vm-a1", "--to", "10.0.1.5", "--port", "22"]);
    assert_eq!((t["verdict"].as_str(), t["nsg"].as_str()), (Some("Deny"), Some("a-nsg")), "{t}");
    assert!(!resources(&t).contains(&"b-nsg".to_string()), "vnet-b is never entered: {t}");

    let t = eval(&["--from", "vm-a1", "--to", "vm-b", "--port", "22"]);
    assert_eq!(t["verdict"], "Deny", "{t}");
    assert!(
        last_detail(&t).starts_with(
            "10.0.1.5 is the private address of vm-b (vnet-b), but the packet stays in vnet 'vnet-a'"
        ),
        "{t}"
    );

    let t = eval(&["--from", "vm-a1", "--to", "10.0.1.6", "--port", "22"]);
    assert_eq!(t["nsg"], "a-nsg", "{t}");
    assert!(!resources(&t).contains(&"b-nsg".to_string()), "{t}");
    assert!(
        last_detail(&t).contains("(10.0.1.6 is also vm-b2 (vnet-b), in a VNet this packet does not enter"),
        "{t}"
    );

    let t = eval(&["--from", "vm-a1", "--to", "vm-b2", "--port", "22"]);
    assert_eq!(
        (t["verdict"].as_str(), t["rule"].as_str()),
        (Some("Allow"), Some("securityRules/allow-ssh-in"))
    );
    assert!(resources(&t).contains(&"vm-b2-pip".to_string()), "through the public IP: {t}");

    let t = eval(&["--from", "vm-c", "--to", "10.0.1.5", "--port", "22"]);
    assert_eq!(resources(&t).last().map(String::as_str), Some("nic 'vm-b-nic'"), "{t}");

    nsgsim(&["reach", TWINS, "--to", "vm-b", "--port", "22"])
        .assert_code(0)
        .stdout_has(&["subnet 'vnet-a/app': no access", "subnet 'vnet-c/app':"]);
}

/// An address that two routing domains share, written where the other end does not decide
/// which is meant, is a usage error (exit 2) naming the candidates and how to choose; when the
/// other end is a VM, the address is the one in that VM's routing domain. Scenario expectations
/// and assertion files are resolved the same way.
#[test]
fn r17_an_ambiguous_address_is_refused_with_its_candidates() {
    nsgsim(&["eval", TWINS, "--from", "10.0.1.5", "--to", "8.8.8.8", "--port", "443"]).assert_code(2).stderr_has(&[
        "--from: 10.0.1.5 is in more than one routing domain: vm-a2 (vnet-a), vm-b (vnet-b); the destination '8.8.8.8' reaches none of them privately",
        "name the VM instead (vm-a2 or vm-b), or give as the other end a VM, or an address that only one of them reaches",
    ]);
    nsgsim(&["eval", TWINS, "--from", "168.63.129.16", "--to", "10.0.1.5", "--port", "80"])
        .assert_code(2)
        .stderr_has(&[
            "--to: 10.0.1.5 is in more than one routing domain",
            "168.63.129.16 reaches every VNet",
        ]);
    let t = eval(&["--from", "10.0.1.5", "--to", "vm-c", "--port", "22"]);
    assert_eq!(resources(&t).first().map(String::as_str), Some("nic 'vm-b-nic'"), "vm-b reaches vm-c: {t}");
    let t = eval(&["--from", "10.0.1.5", "--to", "vm-a1", "--port", "22"]);
    assert_eq!(resources(&t).first().map(String::as_str), Some("nic 'vm-a2-nic'"), "{t}");

    let text = std::fs::read_to_string(TWINS).expect("the scenario");
    let dir = TempDir::new("overlap-ambiguous");
    let expectation = r#"expect: Flow(from: "10.0.1.5", to: "vm-c""#;
    let broken = replace_once(&text, expectation, r#"expect: Flow(from: "10.0.1.5", to: "8.8.8.8""#);
    let file = dir.write("ambiguous.ron", &broken);
    let (line, col) = position(&broken, r#""10.0.1.5", to: "8.8.8.8""#, 0);
    nsgsim(&["check", &file]).assert_code(2).stderr_has(&[&format!(
        "ambiguous.ron:{line}:{col}: timeline[11].expect.from: 10.0.1.5 is in more than one routing domain"
    )]);
    let cases = dir.write(
        "cases.ron",
        &format!(
            "Assertions(scenario: {:?}, cases: [\
             Case(name: \"shared\", from: \"10.0.1.5\", to: \"8.8.8.8\", port: 443, verdict: Allow),\
             Case(name: \"decided\", from: \"10.0.1.5\", to: \"vm-c\", port: 22, verdict: Allow, nsg: \"b-nsg\")])",
            super::util::root().join(TWINS).display().to_string()
        ),
    );
    nsgsim(&["test", &cases])
        .assert_code(2)
        .stdout_has(&["ERROR shared: from: 10.0.1.5 is in more than one routing domain", "PASS decided"]);
}

/// What Azure refuses stays refused: peering VNets whose spaces overlap, peering a VNet whose
/// space overlaps one already peered with the other (`VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`),
/// and one address twice in one VNet.
#[test]
fn r17_overlaps_azure_refuses_are_still_refused() {
    let text = std::fs::read_to_string(TWINS).expect("the scenario");
    let dir = TempDir::new("overlap-refused");
    let peerings = r#"peerings: [("vnet-b", "vnet-c")],"#;
    let both = dir.write("both.ron", &replace_once(&text, peerings, r#"peerings: [("vnet-a", "vnet-b")],"#));
    nsgsim(&["check", &both])
        .assert_code(2)
        .stderr_has(&["vnets 'vnet-a' and 'vnet-b' cannot be peered: their address spaces overlap"]);
    let third = dir.write(
        "third.ron",
        &replace_once(&text, peerings, r#"peerings: [("vnet-b", "vnet-c"), ("vnet-a", "vnet-c")],"#),
    );
    nsgsim(&["check", &third]).assert_code(2).stderr_has(&[
        "peerings[1]: vnets 'vnet-a' and 'vnet-c' cannot be peered: 10.0.0.0/16 of vnet 'vnet-a' overlaps 10.0.0.0/16 of vnet 'vnet-b', which is already peered with vnet 'vnet-c' (Azure refuses it: VnetAddressSpaceOverlapsWithAlreadyPeeredVnet)",
    ]);
    let twice = dir.write(
        "twice.ron",
        &replace_once(
            &text,
            r#"subnet: "vnet-a/app", private_ip: "10.0.1.4""#,
            r#"subnet: "vnet-a/app", private_ip: "10.0.1.5""#,
        ),
    );
    nsgsim(&["check", &twice]).assert_code(2).stderr_has(&[
        "nic 'vm-a2-nic': private IP 10.0.1.5 is already used by nic 'vm-a1-nic' in vnet 'vnet-a'",
    ]);
}

//! NAT gateways and public IP prefixes end to end through the binary: the shipped scenario
//! (`scenarios/45-nat-gateway.ron`), the trace's `nat-gateway` hop and the address the receiver
//! sees, inbound untouched (exposure), what Azure refuses as positioned errors, and the import of
//! a small ARM template and a small Terraform state (Microsoft's words in docs/fidelity.md,
//! "NAT gateway").

use serde_json::Value;

use crate::util::{TempDir, nsgsim, replace_once, root};

fn scenario() -> String {
    root().join("scenarios/45-nat-gateway.ron").display().to_string()
}

fn data(name: &str) -> String {
    root().join("tests/data").join(name).display().to_string()
}

/// `nsgsim eval FILE --from FROM --to TO --port PORT --protocol PROTOCOL --format json`.
fn eval_json(file: &str, from: &str, to: &str, port: &str, protocol: &str) -> Value {
    let out = nsgsim(&[
        "eval",
        file,
        "--from",
        from,
        "--to",
        to,
        "--port",
        port,
        "--protocol",
        protocol,
        "--format",
        "json",
    ]);
    out.assert_code(0);
    serde_json::from_str(&out.stdout).expect("eval's JSON")
}

fn hops<'v>(trace: &'v Value, kind: &str) -> Vec<&'v Value> {
    trace["hops"].as_array().expect("hops").iter().filter(|h| h["kind"] == kind).collect()
}

#[test]
fn the_shipped_scenario_passes() {
    nsgsim(&["run", &scenario()]).assert_code(0).stdout_has(&["nat-gateway: 9 passed, 0 failed"]);
}

/// "the NAT gateway takes precedence for outbound connectivity" over an instance-level public
/// IP: the trace has a nat-gateway hop naming the gateway and every address, no public-IP SNAT,
/// and the receiver's NSG decides on the gateway's address.
#[test]
fn a_vm_with_its_own_public_ip_leaves_through_the_subnets_nat_gateway() {
    let trace = eval_json(&scenario(), "vm-admin", "partner-pip", "443", "tcp");
    assert_eq!(trace["verdict"], "Allow", "{trace:#}");
    let nat = hops(&trace, "nat-gateway");
    assert_eq!(nat.len(), 1, "{trace:#}");
    assert_eq!(nat[0]["resource"], "nat-shop");
    let detail = nat[0]["detail"].as_str().expect("detail");
    for part in
        ["the source becomes its address 20.41.0.10", "20.41.1.0, 20.41.1.1", "idle timeout 10 minutes"]
    {
        assert!(detail.contains(part), "{part}: {detail}");
    }
    assert!(hops(&trace, "load-balancer").is_empty(), "{trace:#}");
    let text = trace.to_string();
    assert!(!text.contains("the source becomes the public IP 20.41.0.30"), "{text}");
}

/// The same for a load balancer's outbound rule ("NAT Gateway supersedes any outbound
/// configuration from a load-balancing rule or outbound rules"); without the gateway the rule
/// translates again, to out-fe's 20.41.0.21, which the partner does not allow.
#[test]
fn the_gateway_supersedes_the_load_balancers_outbound_rule_and_removing_it_restores_the_rule() {
    let trace = eval_json(&scenario(), "vm-web-1", "partner-pip", "443", "tcp");
    assert_eq!(trace["verdict"], "Allow", "{trace:#}");
    assert_eq!(hops(&trace, "nat-gateway").len(), 1, "{trace:#}");
    let dir = TempDir::new("natgw-removed");
    let text = std::fs::read_to_string(scenario()).expect("scenario");
    let without = replace_once(&text, ", nat_gateway: \"nat-shop\")", ")");
    let file = dir.write("without.ron", &without);
    let out = nsgsim(&[
        "eval",
        &file,
        "--from",
        "vm-web-1",
        "--to",
        "partner-pip",
        "--port",
        "443",
        "--format",
        "json",
    ]);
    let trace: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(trace["verdict"], "Deny", "{trace:#}");
    assert_eq!(hops(&trace, "load-balancer")[0]["rule"], "egress", "{trace:#}");
    assert!(hops(&trace, "nat-gateway").is_empty(), "{trace:#}");
}

/// ICMP has no way out (NAT gateway "doesn't support ICMP"; model choice that nothing else
/// takes over), and the gateway's addresses take no connection from the Internet.
#[test]
fn icmp_has_no_way_out_and_the_gateways_addresses_take_no_inbound_connection() {
    let trace = eval_json(&scenario(), "vm-admin", "partner-pip", "0", "icmp");
    assert_eq!(trace["verdict"], "Deny", "{trace:#}");
    let nat = hops(&trace, "nat-gateway");
    assert!(nat[0]["detail"].as_str().expect("detail").contains("model choice"), "{trace:#}");
    for to in ["nat-pip", "20.41.1.1"] {
        let trace = eval_json(&scenario(), "customer", to, "443", "tcp");
        assert_eq!(trace["verdict"], "Deny", "{trace:#}");
        let nat = hops(&trace, "nat-gateway");
        assert!(
            nat[0]["detail"].as_str().expect("detail").contains("unsolicited inbound connections"),
            "{trace:#}"
        );
    }
}

/// Exposure: the partner's VM is reachable on its management ports only from the addresses of
/// the shop's NAT gateway (its allowlist), and the gateway itself exposes nothing ("NAT Gateway
/// doesn't provide unsolicited inbound connections from the internet").
#[test]
fn exposure_names_the_gateways_addresses_as_the_only_sources_and_the_gateway_exposes_nothing() {
    let out = nsgsim(&["exposure", &scenario()]);
    out.assert_code(0).stdout_has(&["vm 'vm-partner-api'", "from 20.41.0.10/32,20.41.1.0/31"]);
    for absent in ["vm 'vm-admin'", "vm 'vm-web-1'", "nat-shop"] {
        assert!(!out.stdout.contains(absent), "{absent}: {}", out.stdout);
    }
}

/// What Azure refuses, each at its field: a Basic public IP, more than 16 addresses, an idle
/// timeout out of range, a gateway on GatewaySubnet, a NAT gateway beside a Basic public IP.
#[test]
fn what_azure_refuses_is_a_positioned_error() {
    let text = std::fs::read_to_string(scenario()).expect("scenario");
    let dir = TempDir::new("natgw-refused");
    let cases = [
        (
            replace_once(
                &text,
                "address: \"20.41.0.10\", sku: Standard",
                "address: \"20.41.0.10\", sku: Basic",
            ),
            "can't be used with basic SKU public IP addresses",
        ),
        (replace_once(&text, "prefix: \"20.41.1.0/31\"", "prefix: \"20.41.1.0/28\""), "17 public addresses"),
        (
            replace_once(&text, "idle_timeout_minutes: 10", "idle_timeout_minutes: 121"),
            "a TCP idle timeout of 121 minutes is outside a NAT gateway's range; valid: 4 to 120 minutes",
        ),
        (
            replace_once(
                &text,
                "Subnet(name: \"batch\", prefix: \"10.5.2.0/24\", default_outbound_access: false)",
                "Subnet(name: \"GatewaySubnet\", prefix: \"10.5.2.0/24\", nat_gateway: \"nat-shop\")",
            ),
            "can't be used with a gateway subnet",
        ),
        (
            replace_once(
                &text,
                "address: \"20.41.0.30\", sku: Standard",
                "address: \"20.41.0.30\", sku: Basic",
            ),
            "aren't compatible with NAT gateway",
        ),
    ];
    for (i, (bad, message)) in cases.iter().enumerate() {
        let file = dir.write(&format!("bad{i}.ron"), bad);
        let out = nsgsim(&["check", &file]);
        out.assert_code(2).assert_no_panic();
        assert!(out.stderr.contains(message), "{message}: {}", out.stderr);
        assert!(out.stderr.contains(&format!("bad{i}.ron:")), "positioned: {}", out.stderr);
    }
}

/// A small ARM template: the gateway, its public IP and prefix (a placeholder range from the
/// prefix's length), the subnet's natGateway; no caveat for the gateway and the VM leaves
/// through it.
#[test]
fn an_arm_template_with_a_nat_gateway_imports_and_the_vm_leaves_through_it() {
    let dir = TempDir::new("natgw-arm");
    let out = dir.path().join("arm.ron").display().to_string();
    let run = nsgsim(&["import", &data("import/natgw/arm-nat-gateway.json"), "-o", &out]);
    run.assert_code(0).stderr_has(&[
        "Microsoft.Network/natGateways: 1 read, 1 imported",
        "Microsoft.Network/publicIPPrefixes: 1 read, 1 imported",
        "imported as the placeholder 198.51.100.0/31",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    for part in [
        "Subnet(name: \"web\", prefix: \"10.0.1.0/24\", nat_gateway: \"nat-web\")",
        "NatGateway(name: \"nat-web\", public_ips: [\"nat-pip\"], public_ip_prefixes: [\"nat-prefix\"], idle_timeout_minutes: 10, sku: Standard)",
    ] {
        assert!(text.contains(part), "{part}\n{text}");
    }
    assert!(!text.contains("resource: \"Microsoft.Network/natGateways"), "{text}");
    let trace = eval_json(&out, "vm-web", "8.8.8.8", "443", "tcp");
    assert_eq!(hops(&trace, "nat-gateway")[0]["resource"], "nat-web", "{trace:#}");
}

/// A small Terraform state: `azurerm_nat_gateway`, `azurerm_public_ip_prefix` and the three
/// associations are folded as Azure stores them; the private subnet's VM leaves through the
/// gateway's public IP.
#[test]
fn a_terraform_state_with_a_nat_gateway_imports_and_the_vm_leaves_through_it() {
    let dir = TempDir::new("natgw-tf");
    let out = dir.path().join("tf.ron").display().to_string();
    let run = nsgsim(&["import", &data("terraform/nat-gateway-state.json"), "-o", &out]);
    run.assert_code(0).stderr_has(&[
        "azurerm_nat_gateway: 1 read, 1 imported",
        "azurerm_subnet_nat_gateway_association: 1 read, 1 imported",
        "azurerm_nat_gateway_public_ip_prefix_association: 1 read, 1 imported",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    for part in [
        "nat_gateway: \"ng-web\"",
        "PublicIpPrefix(name: \"ippre-nat\", prefix: \"20.42.1.0/30\")",
        "NatGateway(name: \"ng-web\", public_ips: [\"pip-nat\"], public_ip_prefixes: [\"ippre-nat\"], idle_timeout_minutes: 10, sku: Standard)",
    ] {
        assert!(text.contains(part), "{part}\n{text}");
    }
    let trace = eval_json(&out, "vm-web", "8.8.8.8", "443", "tcp");
    assert_eq!(trace["verdict"], "Allow", "{trace:#}");
    let detail = hops(&trace, "nat-gateway")[0]["detail"].as_str().expect("detail").to_string();
    assert!(detail.contains("the source becomes its address 20.42.0.10"), "{detail}");
}

/// Microsoft's quickstart "nat-gateway-hub-spoke-firewall" (a real file): the NAT gateway sits on
/// AzureFirewallSubnet, so the spoke VM's Internet traffic goes through the firewall, which hands
/// it to the gateway from its private IP ("Azure Firewall instances will send the traffic to NAT
/// gateway using their private IP address"), and leaves with the gateway's address.
#[test]
fn a_nat_gateway_on_the_firewall_subnet_takes_the_firewalls_internet_traffic() {
    let real = root().join("../shared/data/real-world/arm");
    let base = "quickstarts-microsoft.network-nat-gateway-hub-spoke-firewall";
    let template = real.join(format!("{base}.azuredeploy.json")).display().to_string();
    let parameters = real.join(format!("{base}.azuredeploy.parameters.json")).display().to_string();
    let dir = TempDir::new("natgw-firewall");
    let out = dir.path().join("hub.ron").display().to_string();
    nsgsim(&["import", &template, "--parameters", &parameters, "-o", &out]).assert_code(0);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.contains("Subnet(name: \"AzureFirewallSubnet\", prefix: \"10.0.1.64/26\", nat_gateway: "),
        "{text}"
    );
    let trace = eval_json(&out, "natfw-7wyu56wahitxs-vm-spoke", "8.8.8.8", "443", "tcp");
    assert_eq!(trace["verdict"], "Allow", "{trace:#}");
    let firewall = hops(&trace, "firewall");
    assert!(firewall[0]["detail"].as_str().expect("detail").contains("SNAT to 10.0.1.68"), "{trace:#}");
    let nat = hops(&trace, "nat-gateway");
    assert_eq!(nat[0]["resource"], "natfw-7wyu56wahitxs-nat-gateway", "{trace:#}");
    assert!(nat[0]["detail"].as_str().expect("detail").contains("from 10.0.1.68"), "{trace:#}");
}

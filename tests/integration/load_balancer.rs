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

fn data(path: &str) -> String {
    root().join("tests/data").join(path).display().to_string()
}

/// Import (issue 19 item 4): a load balancer from `az`/REST output, in the shape of the real
/// `custodian.loadBalancers.list.json` with its NICs beside it. Pool members are read from both
/// sides (the NIC's `loadBalancerBackendAddressPools`, the pool's `backendIPConfigurations`) and
/// a member given by IP address and VNet is mapped to the NIC that has it; a single-port NAT rule
/// takes its target from the NIC's `loadBalancerInboundNatRules`; the port-range NAT rule keeps
/// its pool; a NAT pool with no modelled member is a caveat, never silent; the outbound rule is
/// modelled, and the load-balancing rule that disables its own outbound SNAT says so.
#[test]
fn import_reads_a_load_balancer_from_az_output_with_members_from_both_sides() {
    let dir = TempDir::new("lb-import");
    let out = dir.path().join("lb.ron").display().to_string();
    let run = nsgsim(&[
        "import",
        &data("import/lb/loadBalancers.list.json"),
        &data("import/lb/network.list.json"),
        "-o",
        &out,
    ]);
    run.assert_code(0).stderr_has(&[
        "Microsoft.Network/loadBalancers: 1 read, 1 imported",
        "inbound NAT pool 'vmss-rdp' of load balancer 'lb-web' forwards frontend ports 50100-50199 to port 3389 of a scale set's instances, which nsgsim does not model; not imported",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    for line in [
        r#"LoadBalancer(name: "lb-web", sku: Standard,"#,
        r#"Frontend(name: "fe", public_ip: "lb-web-pip"),"#,
        r#"Pool(name: "web", members: ["vm-web-1-nic", "vm-web-2-nic"]),"#,
        r#"Probe(name: "http", protocol: Http, port: 80),"#,
        r#"LbRule(name: "http", frontend: "fe", protocol: Tcp, frontend_port: 80, backend_port: 80, pool: "web", probe: "http", disable_outbound_snat: true),"#,
        r#"NatRule(name: "rdp-web-1", frontend: "fe", protocol: Tcp, frontend_port: 50001, backend_port: 3389, target: "vm-web-1-nic"),"#,
        r#"NatRule(name: "ssh-range", frontend: "fe", protocol: Tcp, frontend_port: 60001, frontend_port_end: 60010, backend_port: 22, pool: "web"),"#,
        r#"OutboundRule(name: "egress", frontends: ["fe"], pool: "web", protocol: All),"#,
        r#"resource: "Microsoft.Network/loadBalancers/lb-web/inboundNatPools/vmss-rdp","#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    // The imported outbound rule translates the pool's traffic to the Internet.
    nsgsim(&["eval", &out, "--from", "vm-web-1-nic-vm", "--to", "8.8.8.8", "--port", "443"])
        .assert_code(0)
        .stdout_has(&["outbound rule 'egress' of load balancer 'lb-web'", "frontend 'fe' 20.30.0.10"]);
    // The imported load balancer answers: the NAT rule publishes RDP, named in reach and exposure.
    nsgsim(&["reach", &out, "--to", "vm-web-1-nic-vm", "--port", "3389"]).assert_code(0).stdout_has(&[
        "via load balancer 'lb-web' NAT rule 'rdp-web-1' 20.30.0.10:50001 -> :3389; allowed by web-nsg securityRules/allow-rdp",
    ]);
    nsgsim(&["exposure", &out])
        .stdout_has(&[
            "via load balancer 'lb-web' NAT rule 'rdp-web-1' 20.30.0.10:50001 -> :3389, allowed by web-nsg securityRules/allow-rdp",
        ])
        .stderr_has(&["inboundNatPools/vmss-rdp"]);
    // The load balancer's own lint finding names the NAT rule.
    nsgsim(&["lint", &out])
        .assert_code(1)
        .stdout_has(&["LB003-nat-rule-management-port", "NAT rule 'rdp-web-1' publishes RDP"]);
}

/// Real published templates import with their load balancers: Microsoft's quickstart
/// "vm-with-rdp-port" publishes RDP through an inbound NAT rule of a load balancer with no SKU
/// (Basic, as Azure creates it), joined from the NIC's `loadBalancerInboundNatRules`; the
/// Gateway load balancer demo's Gateway SKU is a caveat, and its standard load balancer's pool,
/// declared as a child resource with members by IP address and VNet, is mapped to the NICs.
#[test]
fn real_templates_import_their_load_balancers() {
    let corpus = root().join("../shared/data/real-world/arm");
    if !corpus.exists() {
        return;
    }
    let dir = TempDir::new("lb-real");
    let t = |name: &str| corpus.join(name).display().to_string();
    let out = dir.path().join("rdp.ron").display().to_string();
    nsgsim(&[
        "import",
        &t("quickstarts-microsoft.compute-vm-with-rdp-port.azuredeploy.json"),
        &t("quickstarts-microsoft.compute-vm-with-rdp-port.azuredeploy.parameters.json"),
        "-o",
        &out,
    ])
    .assert_code(0)
    .stderr_has(&["load balancer 'loadBalancer' has no sku: Azure creates a Basic load balancer"]);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains(r#"LoadBalancer(name: "loadBalancer", sku: Basic,"#), "{text}");
    assert!(text.contains(r#"NatRule(name: "rdp", frontend: "LBFE", protocol: Tcp, frontend_port: 50001, backend_port: 3389, target: "rdpVM-nic"),"#), "{text}");
    nsgsim(&["lint", &out]).stdout_has(&["LB003-nat-rule-management-port", "NAT rule 'rdp' publishes RDP"]);

    let out = dir.path().join("gw.ron").display().to_string();
    nsgsim(&[
        "import",
        &t("demos-load-balancer-gateway.azuredeploy.json"),
        &t("demos-load-balancer-gateway.azuredeploy.parameters.json"),
        "-o",
        &out,
    ])
    .assert_code(0)
    .stderr_has(&[
        "load balancer 'gwlb' is a Gateway load balancer",
        "frontend 'elbFrontEnd' of load balancer 'elb' is chained to a Gateway load balancer",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains(r#"Pool(name: "elbBackEndPool", members: ["#), "{text}");
    assert!(!text.contains(r#"Pool(name: "elbBackEndPool", members: []"#), "{text}");
    nsgsim(&["check", &out]).assert_code(0);
}

/// Lint of load balancers, on scenario 42: lb-app (Standard) sends 443 to a member no NSG opens
/// (LB001); lb-legacy (Basic) publishes SSH with no NSG (LB002); lb-web's NAT rule publishes RDP
/// from anywhere (LB003, whose fix names just-in-time access). SARIF carries their rules.
#[test]
fn lint_reports_a_closed_standard_rule_a_basic_management_port_and_an_rdp_nat_rule() {
    let run = nsgsim(&["lint", &scenario()]);
    run.assert_code(1).stdout_has(&[
        "LB001-standard-rule-closed",
        "load balancer 'lb-app' (Standard SKU) rule",
        "LB002-basic-management-port",
        "load balancer 'lb-legacy' (Basic SKU) rule 'ssh' publishes management port 22",
        "LB003-nat-rule-management-port",
        "load balancer 'lb-web' NAT rule 'rdp-web-1' publishes RDP (TCP 3389) at 20.30.0.10:50001 to the Internet",
        "just-in-time VM access",
    ]);
    let sarif = nsgsim(&["lint", &scenario(), "--format", "sarif"]);
    assert!(sarif.stdout.contains("\"LB003-nat-rule-management-port\""), "{}", sarif.stdout);
    assert!(sarif.stdout.contains("An inbound NAT rule publishes SSH or RDP"), "{}", sarif.stdout);
}

/// Drawings (issue 19 item 4): the topology graph has each load balancer as a node with its
/// SKU and frontend addresses, its public IPs, and an edge to each member's NIC labelled with the
/// rules and NAT rules that send to it; the HTML report's topology SVG draws the same edges.
#[test]
fn graph_and_topology_svg_draw_the_load_balancer_and_its_backend_edges() {
    let out = nsgsim(&["graph", &scenario()]);
    out.assert_code(0).stdout_has(&[
        r"Azure Load Balancer lb-web (Standard)\n20.30.0.10",
        "shape=trapezium",
        r#"[label="rule http, NAT rule rdp-web-1", color=blue]"#,
        r#"[label="rule http", color=blue]"#,
        r"Azure Load Balancer lb-legacy (Basic)\n20.30.0.30",
    ]);
    let dir = TempDir::new("lb-svg");
    let html = dir.path().join("lb.html").display().to_string();
    nsgsim(&["report", &scenario(), "--html", &html]).assert_code(0);
    let text = std::fs::read_to_string(&html).expect("written");
    assert!(text.contains("Azure Load Balancer lb-web (Standard)  20.30.0.10"), "no load balancer row");
    assert!(text.contains("<title>load balancer: rule http, NAT rule rdp-web-1</title>"), "no backend edge");
}

/// A frontend whose addresses come from a public IP prefix (`publicIPPrefix`) is not modelled:
/// it is left out with its rules, and the caveat names the prefix, never "no public IP nor
/// subnet" (which read as a broken template) and never silently.
#[test]
fn a_frontend_drawn_from_a_public_ip_prefix_is_a_caveat_naming_the_prefix() {
    let dir = TempDir::new("lb-prefix");
    let out = dir.path().join("lb.ron").display().to_string();
    nsgsim(&["import", &data("import/lb/frontend-prefix.json"), "-o", &out]).assert_code(0).stderr_has(&[
        "frontend-prefix.json:13:92: resources[3].properties.frontendIPConfigurations[0].properties.publicIPPrefix.id: frontend 'fe' of load balancer 'lb' takes its addresses from public IP prefix 'pfx', which nsgsim does not model for a load balancer frontend; not imported, nor its rules",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("kind: UnmodelledResource,"), "{text}");
    assert!(
        text.contains(r#"resource: "Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe","#),
        "{text}"
    );
    nsgsim(&["lint", &out]).assert_code(0).stdout_has(&["caveat", "frontendIPConfigurations/fe"]);
    nsgsim(&["import", &data("import/lb/frontend-prefix.json"), "--strict", "-o", &out])
        .assert_code(2)
        .stderr_has(&["--strict refuses"]);
}

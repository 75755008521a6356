//! Issue 19 item 4, outbound: a Standard load balancer's outbound rule gives its pool's members
//! the frontend's public address as their source to the Internet, end to end through the binary
//! (`scenarios/44-load-balancer-outbound.ron`; Microsoft's words in docs/fidelity.md, "Outbound
//! connectivity through a load balancer").

use serde_json::Value;

use crate::util::{TempDir, nsgsim, root};

fn scenario() -> String {
    root().join("scenarios/44-load-balancer-outbound.ron").display().to_string()
}

/// `nsgsim eval FILE --from FROM --to partner-pip --port PORT --protocol PROTOCOL --format json`.
fn eval_json(file: &str, from: &str, port: &str, protocol: &str) -> Value {
    let out = nsgsim(&[
        "eval",
        file,
        "--from",
        from,
        "--to",
        "partner-pip",
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

/// The hops of `kind`.
fn hops<'v>(trace: &'v Value, kind: &str) -> Vec<&'v Value> {
    trace["hops"].as_array().expect("hops").iter().filter(|h| h["kind"] == kind).collect()
}

/// The scenario's expectations hold: the pool VM without a public IP reaches the partner, whose
/// NSG allows only the outbound frontend's address; the VM with its own public IP is refused
/// there; UDP from the pool and the private subnet's VM outside it have no way out.
#[test]
fn the_shipped_scenario_passes() {
    nsgsim(&["run", &scenario()]).assert_code(0).stdout_has(&["load-balancer-outbound: 5 passed, 0 failed"]);
}

/// "An outbound rule configures outbound NAT for all virtual machines identified by the backend
/// pool to be translated to the frontend": the trace names the outbound rule and the frontend's
/// address, and the partner's NSG decides on that address (its only allow rule names it).
#[test]
fn a_pool_vm_without_a_public_ip_leaves_with_the_frontend_address_and_the_receiver_sees_it() {
    let trace = eval_json(&scenario(), "vm-web-1", "443", "tcp");
    assert_eq!(trace["verdict"], "Allow", "{trace:#}");
    let lb = hops(&trace, "load-balancer");
    assert_eq!(lb.len(), 1, "{trace:#}");
    assert_eq!(lb[0]["resource"], "lb-shop");
    assert_eq!(lb[0]["rule"], "egress");
    let detail = lb[0]["detail"].as_str().expect("detail");
    for part in [
        "outbound rule 'egress'",
        "frontend 'out-fe' 20.40.0.20",
        "receiver sees 20.40.0.20",
        "16000 SNAT ports per member",
        "idle timeout 15 minutes, TCP reset on idle",
    ] {
        assert!(detail.contains(part), "missing {part} in {detail}");
    }
    assert_eq!(trace["nsg"], "partner-nsg");
    assert_eq!(trace["rule"], "securityRules/allow-shop-egress");
    // The text output says the same.
    nsgsim(&["eval", &scenario(), "--from", "vm-web-1", "--to", "partner-pip", "--port", "443"])
        .assert_code(0)
        .stdout_has(&["outbound rule 'egress' of load balancer 'lb-shop'", "20.40.0.20"]);
}

/// "Outbound rules will only be followed if the backend VM doesn't have an instance-level public
/// IP address": vm-admin, in the same pool, keeps its own address, which the partner refuses.
#[test]
fn a_pool_vm_with_its_own_public_ip_keeps_it() {
    let trace = eval_json(&scenario(), "vm-admin", "443", "tcp");
    assert_eq!(trace["verdict"], "Deny", "{trace:#}");
    assert!(hops(&trace, "load-balancer").is_empty(), "{trace:#}");
    let text = trace.to_string();
    assert!(text.contains("the source becomes the public IP 20.40.0.30"), "{text}");
    assert_eq!(trace["rule"], "defaultSecurityRules/DenyAllInBound");
}

/// The rule translates TCP only and a Standard load balancer's member has no default outbound
/// access: UDP is refused at the load balancer, which says why; a rule for `All` lets it out, and
/// ICMP never is ("Load balancer doesn't support ICMP for outbound NAT").
#[test]
fn protocols_the_rule_does_not_translate_have_no_way_out() {
    let trace = eval_json(&scenario(), "vm-web-2", "53", "udp");
    assert_eq!(trace["verdict"], "Deny", "{trace:#}");
    let lb = hops(&trace, "load-balancer");
    let detail = lb.last().and_then(|h| h["detail"].as_str()).expect("a load-balancer hop");
    assert!(detail.contains("no default outbound access"), "{detail}");
    assert!(detail.contains("outbound rule 'egress' of 'lb-shop' translates Tcp only"), "{detail}");
    let dir = TempDir::new("lb-outbound-all");
    let text = std::fs::read_to_string(scenario()).expect("scenario").replace(
        r#"pool: "web-pool", protocol: Tcp,
                                          allocated_outbound_ports"#,
        r#"pool: "web-pool", protocol: All,
                                          allocated_outbound_ports"#,
    );
    let file = dir.write("all.ron", &text);
    // UDP now leaves by the rule; the partner's NSG, which allows TCP 443 only, then refuses it.
    let udp = eval_json(&file, "vm-web-2", "53", "udp");
    let lb = hops(&udp, "load-balancer");
    assert_eq!(
        lb.first().map(|h| (h["rule"].clone(), h["access"].clone())),
        Some(("egress".into(), "Allow".into())),
        "{udp:#}"
    );
    assert_eq!(udp["nsg"], "partner-nsg", "{udp:#}");
    let icmp = eval_json(&file, "vm-web-2", "0", "icmp");
    assert_eq!(icmp["verdict"], "Deny");
    assert!(icmp.to_string().contains("doesn't support ICMP for outbound NAT"), "{icmp:#}");
}

/// Without the outbound rule the private subnet's pool VMs have no way out; a load-balancing rule
/// that does not disable outbound SNAT then translates its own protocol to its frontend.
#[test]
fn a_load_balancing_rule_without_disable_outbound_snat_translates_to_its_frontend() {
    let dir = TempDir::new("lb-outbound-rule");
    let original = std::fs::read_to_string(scenario()).expect("scenario");
    let start = original.find("            outbound_rules: [").expect("the outbound rules");
    let end = original[start..].find("]),\n    ],").expect("their end") + start;
    let without = format!("{}{}", &original[..start], &original[end + 1..]);
    let file = dir.write("none.ron", &without.replace(", disable_outbound_snat: true", ""));
    let trace = eval_json(&file, "vm-web-1", "443", "tcp");
    assert_eq!(trace["verdict"], "Deny", "the partner allowlists out-fe, not web-fe: {trace:#}");
    let lb = hops(&trace, "load-balancer");
    assert_eq!(lb.first().map(|h| h["rule"].clone()), Some(Value::from("https")), "{trace:#}");
    assert!(trace.to_string().contains("leaves as frontend 'web-fe' 20.40.0.10"), "{trace:#}");
    let file = dir.write("disabled.ron", &without);
    let trace = eval_json(&file, "vm-web-1", "443", "tcp");
    assert_eq!(trace["verdict"], "Deny");
    assert!(trace.to_string().contains("no default outbound access"), "{trace:#}");
}

/// What Azure refuses is a positioned error naming what is valid: an outbound rule on a frontend
/// a load-balancing rule still SNATs through, on a Basic load balancer, ports not a multiple of 8,
/// an idle timeout out of range, an unknown frontend.
#[test]
fn a_bad_outbound_rule_is_an_error_at_its_field() {
    let dir = TempDir::new("lb-outbound-bad");
    let original = std::fs::read_to_string(scenario()).expect("scenario");
    let cases: [(&[(&str, &str)], &str); 5] = [
        // The outbound rule takes the frontend the load-balancing rule still SNATs through.
        (
            &[
                (", disable_outbound_snat: true", ""),
                (r#"frontends: ["out-fe"]"#, r#"frontends: ["web-fe"]"#),
            ],
            "load_balancers[0].outbound_rules[0].frontends: ",
        ),
        (
            &[("allocated_outbound_ports: 16000", "allocated_outbound_ports: 16001")],
            "load_balancers[0].outbound_rules[0].allocated_outbound_ports: ",
        ),
        (
            &[("idle_timeout_minutes: 15", "idle_timeout_minutes: 2")],
            "load_balancers[0].outbound_rules[0].idle_timeout_minutes: ",
        ),
        (
            &[(r#"frontends: ["out-fe"]"#, r#"frontends: ["nope"]"#)],
            "load_balancers[0].outbound_rules[0].frontends[0]: unknown frontend 'nope'",
        ),
        (&[("enable_tcp_reset: true", r#"enable_tcp_reset: true, colour: "blue""#)], "colour"),
    ];
    for (changes, expected) in cases {
        let mut text = original.clone();
        for (from, to) in changes {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        let file = dir.write("bad.ron", &text);
        let out = nsgsim(&["check", &file]);
        out.assert_code(2);
        assert!(out.stderr.contains(expected), "{expected} not in {}", out.stderr);
        assert!(out.stderr.contains("bad.ron:"), "{}", out.stderr);
    }
    // A Basic load balancer has no outbound rules (its public IPs must be Basic too).
    let basic = original
        .replace(
            r#"LoadBalancer(name: "lb-shop", sku: Standard"#,
            r#"LoadBalancer(name: "lb-shop", sku: Basic"#,
        )
        .replace(r#"address: "20.40.0.10", sku: Standard"#, r#"address: "20.40.0.10", sku: Basic"#)
        .replace(r#"address: "20.40.0.20", sku: Standard"#, r#"address: "20.40.0.20", sku: Basic"#);
    let file = dir.write("basic.ron", &basic);
    let out = nsgsim(&["check", &file]);
    out.assert_code(2);
    assert!(out.stderr.contains("load_balancers[0].outbound_rules[0].name: "), "{}", out.stderr);
    assert!(out.stderr.contains("a Basic load balancer has no outbound rules"), "{}", out.stderr);
}

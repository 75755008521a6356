//! End-to-end tests of paths through the whole network (issue 5): every hop of the traces of a
//! public IP, Bastion, firewall DNAT, spoke to spoke through the hub firewall, non-transitive
//! peering, a Bastion NSG missing rules, JIT behind a firewall; and the reach and exposure queries.

use serde_json::Value;

use super::util::{TempDir, nsgsim, replace_once, scenario};

const HUB: &str = "20-hub-spoke-firewall-bastion.ron";

fn eval(file: &str, args: &[&str]) -> Value {
    let mut all = vec!["eval", file];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    nsgsim(&all).assert_code(0).json()
}

/// The hops as (kind, resource, access, rule or "").
fn hops(trace: &Value) -> Vec<(String, String, String, String)> {
    trace["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap_or_default().to_string(),
                h["resource"].as_str().unwrap_or_default().to_string(),
                h["access"].as_str().unwrap_or_default().to_string(),
                h["rule"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The detail of the trace's last hop (the one that decided).
fn last_detail(trace: &Value) -> &str {
    trace["hops"].as_array().and_then(|h| h.last()).and_then(|h| h["detail"].as_str()).unwrap_or_default()
}

fn h(kind: &str, resource: &str, access: &str, rule: &str) -> (String, String, String, String) {
    (kind.into(), resource.into(), access.into(), rule.into())
}

#[test]
fn public_ip_reached_directly() {
    let t = eval(&scenario(HUB), &["--from", "admin", "--to", "vm-dmz", "--port", "22"]);
    assert_eq!(t["verdict"], "Allow");
    assert_eq!(
        hops(&t),
        vec![
            h("public-ip", "vm-dmz-pip", "Allow", ""),
            h("nsg", "dmz-nsg", "Allow", "securityRules/allow-ssh-admin"),
            h("no-nsg", "nic 'vm-dmz-nic'", "Allow", ""),
        ]
    );
}

#[test]
fn vm_without_public_ip_only_through_bastion() {
    let direct = eval(&scenario(HUB), &["--from", "admin", "--to", "vm-app1", "--port", "22"]);
    assert_eq!(direct["verdict"], "Deny");
    assert_eq!(hops(&direct), vec![h("route", "routing", "Deny", "")]);
    let t =
        eval(&scenario(HUB), &["--from", "admin", "--to", "vm-app1", "--port", "22", "--via", "hub-bastion"]);
    assert_eq!(t["verdict"], "Allow");
    assert_eq!(
        hops(&t),
        vec![
            h("bastion", "hub-bastion", "Allow", ""),
            h("nsg", "bastion-nsg", "Allow", "securityRules/AllowHttpsInbound"),
            h("bastion", "hub-bastion", "Allow", ""),
            h("nsg", "bastion-nsg", "Allow", "securityRules/AllowSshRdpOutbound"),
            h("nsg", "spoke1-nsg", "Allow", "securityRules/allow-ssh-from-bastion"),
            h("no-nsg", "nic 'vm-app1-nic'", "Allow", ""),
        ]
    );
    let rdp_port_80 =
        eval(&scenario(HUB), &["--from", "admin", "--to", "vm-app1", "--port", "80", "--via", "hub-bastion"]);
    assert_eq!(rdp_port_80["verdict"], "Deny", "Bastion opens 22/3389 sessions only");
}

#[test]
fn firewall_dnat_translates_and_rewrites_the_source() {
    let t = eval(&scenario(HUB), &["--from", "admin", "--to", "fw-pip", "--port", "50022"]);
    assert_eq!(t["verdict"], "Allow");
    assert_eq!(
        hops(&t),
        vec![
            h("firewall", "hub-fw", "Allow", "classic/inbound-ssh/ssh-to-app2"),
            h("route", "subnet 'hub/AzureFirewallSubnet'", "Allow", ""),
            h("nsg", "spoke2-nsg", "Allow", "securityRules/allow-ssh-from-firewall"),
            h("no-nsg", "nic 'vm-app2-nic'", "Allow", ""),
        ]
    );
    let detail = t["hops"][0]["detail"].as_str().expect("detail");
    assert!(detail.contains("the source becomes 10.0.1.4"), "{detail}");
    let stranger = eval(&scenario(HUB), &["--from", "stranger", "--to", "fw-pip", "--port", "50022"]);
    assert_eq!(hops(&stranger), vec![h("firewall", "hub-fw", "Deny", "")]);
}

#[test]
fn spoke_to_spoke_goes_through_the_hub_firewall() {
    let t = eval(&scenario(HUB), &["--from", "vm-app1", "--to", "vm-app2", "--port", "443"]);
    assert_eq!(t["verdict"], "Allow");
    assert_eq!(
        hops(&t),
        vec![
            h("no-nsg", "nic 'vm-app1-nic'", "Allow", ""),
            h("nsg", "spoke1-nsg", "Allow", "defaultSecurityRules/AllowVnetOutBound"),
            h("route", "subnet 'spoke1/workload'", "Allow", ""),
            h("firewall", "hub-fw", "Allow", "classic/spoke-to-spoke/app1-to-app2-https"),
            h("route", "subnet 'hub/AzureFirewallSubnet'", "Allow", ""),
            h("nsg", "spoke2-nsg", "Allow", "securityRules/allow-https-from-spoke1"),
            h("no-nsg", "nic 'vm-app2-nic'", "Allow", ""),
        ]
    );
    let ssh = eval(&scenario(HUB), &["--from", "vm-app1", "--to", "vm-app2", "--port", "22"]);
    assert_eq!(ssh["verdict"], "Deny");
    assert_eq!(hops(&ssh).last().map(|x| (x.0.as_str(), x.2.as_str())), Some(("firewall", "Deny")));
}

#[test]
fn peering_is_not_transitive() {
    let t = eval(&scenario(HUB), &["--from", "vm-dmz", "--to", "10.2.1.4", "--port", "443"]);
    assert_eq!(t["verdict"], "Deny");
    let last = t["hops"].as_array().and_then(|a| a.last()).expect("a hop");
    assert_eq!(last["kind"], "route");
    assert!(
        last["detail"].as_str().is_some_and(|d| d.contains("not peered") && d.contains("not transitive")),
        "{last}"
    );
}

#[test]
fn bastion_nsg_missing_rules_are_reported_and_stop_the_session() {
    let file = scenario("21-bastion-nsg-missing-rules.ron");
    nsgsim(&["check", &file]).assert_code(0).stdout_has(&[
        "lacks Azure's required rule AllowGatewayManagerInbound",
        "lacks Azure's required rule AllowSshRdpOutbound",
    ]);
    let t = eval(&file, &["--from", "admin", "--to", "vm-win", "--port", "3389", "--via", "prod-bastion"]);
    assert_eq!(t["verdict"], "Deny");
    assert_eq!(
        hops(&t),
        vec![
            h("bastion", "prod-bastion", "Allow", ""),
            h("nsg", "bastion-nsg", "Allow", "securityRules/AllowHttpsInbound"),
            h("bastion", "prod-bastion", "Allow", ""),
            h("nsg", "bastion-nsg", "Deny", "securityRules/DenyVnetOutbound"),
        ]
    );
    let fixed = eval(
        &file,
        &["--from", "admin", "--to", "vm-win", "--port", "3389", "--via", "prod-bastion", "--at", "10m"],
    );
    assert_eq!(fixed["verdict"], "Allow");
}

#[test]
fn jit_behind_a_firewall_shows_the_source_nat_pitfall() {
    let file = scenario("22-jit-behind-firewall.ron");
    let t = eval(&file, &["--from", "dba", "--to", "fw-pip", "--port", "50000", "--at", "5m"]);
    assert_eq!(t["verdict"], "Deny");
    let kinds: Vec<String> = hops(&t).into_iter().map(|x| x.0).collect();
    assert_eq!(kinds, ["firewall", "route", "nsg"]);
    assert!(t["hops"][0]["detail"].as_str().is_some_and(|d| d.contains("azure-docs#46777")));
    assert!(
        t["rule"].as_str().is_some_and(|r| r.starts_with("securityRules/SecurityCenter-JITRule_-")),
        "{t}"
    );
}

#[test]
fn reach_lists_source_classes_with_ports_and_rules() {
    let json =
        nsgsim(&["reach", &scenario(HUB), "--to", "vm-app2", "--format", "json"]).assert_code(0).json();
    let classes = json["classes"].as_array().expect("classes");
    let class = |name: &str| {
        classes
            .iter()
            .find(|c| c["class"].as_str().is_some_and(|n| n.starts_with(name)))
            .unwrap_or_else(|| panic!("class {name}"))
    };
    let internet = class("Internet");
    assert_eq!(internet["entries"][0]["ports"], "50022");
    assert_eq!(internet["entries"][0]["sources"], "203.0.113.0/24");
    assert!(internet["entries"][0]["entry"].as_str().is_some_and(|e| e.contains("DNAT")));
    let spoke1 = class("subnet 'spoke1/workload'");
    assert_eq!(spoke1["entries"][0]["ports"], "443");
    assert_eq!(spoke1["entries"][0]["allowed_by"], "spoke2-nsg securityRules/allow-https-from-spoke1");
    assert_eq!(class("subnet 'spoke1/dmz'")["reachable"], false);
    let bastion = class("Bastion users");
    assert_eq!(bastion["entries"][0]["ports"], "22,3389");
}

#[test]
fn exposure_follows_jit_grants_over_time() {
    let json =
        nsgsim(&["exposure", &scenario("10-jit-lifecycle.ron"), "--format", "json"]).assert_code(0).json();
    let windows = json["windows"].as_array().expect("windows");
    let ssh: Vec<(String, Option<String>, String)> = windows
        .iter()
        .filter(|w| w["vm"] == "vm1" && w["port"] == 22)
        .map(|w| {
            (
                w["from_offset"].as_str().unwrap_or_default().to_string(),
                w["to_offset"].as_str().map(String::from),
                w["sources"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(ssh.len(), 3, "{ssh:?}");
    assert_eq!(
        (ssh[0].0.as_str(), ssh[0].1.as_deref()),
        ("0s", Some("1m")),
        "open to all until the rule is removed"
    );
    assert_eq!(ssh[1], ("15m".into(), Some("1h15m".into()), "203.0.113.10/32".into()));
    assert_eq!(ssh[2].0, "2h");
    let clipped = nsgsim(&[
        "exposure",
        &scenario("10-jit-lifecycle.ron"),
        "--from",
        "20m",
        "--to",
        "1h",
        "--format",
        "json",
    ])
    .assert_code(0)
    .json();
    let w = &clipped["windows"][0];
    assert_eq!(w["from_offset"], "20m");
    assert_eq!(w["to_offset"], Value::Null, "still open at the end of the period");
}

#[test]
fn exposure_text_lists_each_vm_once_with_its_windows_in_order() {
    let out = nsgsim(&["exposure", &scenario("10-jit-lifecycle.ron")]);
    let text = &out.assert_code(0).stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "management ports (22, 3389, 5985, 5986) reachable from the Internet:");
    assert_eq!(lines[1], "  vm 'vm1'");
    assert_eq!(lines.iter().filter(|l| l.starts_with("  vm ")).count(), 1, "{text}");
    let windows: Vec<&str> = lines.iter().filter(|l| l.starts_with("    port ")).copied().collect();
    assert_eq!(windows.len(), 4, "{text}");
    assert!(windows[0].starts_with("    port 22    +0s (2025-01-06T09:00:00Z) -> +1m"), "{text}");
    // Each window is labelled: the open rule wide, alice's JIT grant from her address narrow.
    assert!(windows[0].ends_with("[wide: any Internet address]"), "{text}");
    assert!(windows[1].ends_with("from 203.0.113.10/32  [narrow: only 1 IPv4 address]"), "{text}");
    assert!(windows[3].starts_with("    port 5985  +2h"), "{text}");
    assert!(lines[3].contains("allowed by servers-nsg securityRules/allow-ssh-anywhere"), "{text}");
}

#[test]
fn graph_draws_peerings_routes_and_appliances() {
    let out = nsgsim(&["graph", &scenario(HUB)]);
    out.assert_code(0).stdout_has(&[
        "graph topology {",
        "VNet hub",
        "label=\"peering\"",
        "Azure Firewall hub-fw",
        "Azure Bastion hub-bastion",
        "UDR spoke1-via-fw/default 0.0.0.0/0",
    ]);
    assert_eq!(out.stdout.matches("label=\"peering\"").count(), 2, "hub-spoke1 and hub-spoke2 only");
}

/// A VM whose NSG denies all outbound traffic, a second NSG rule (added per case) and a route
/// table that sends everything to an appliance address.
const PLATFORM: &str = r#"Scenario(
    name: "platform-services",
    start: "2025-09-01T07:00:00Z",
    vnets: [Vnet(name: "app", address_space: ["10.80.0.0/16"], subnets: [
        Subnet(name: "web", prefix: "10.80.1.0/24", nsg: "web-nsg"),
    ])],
    nsgs: [Nsg(name: "web-nsg", rules: [
        Rule(name: "DenyAllOut", priority: 4000, direction: Outbound, access: Deny, protocol: Any,
             destination: "*", destination_ports: "*"),
        EXTRA
        Rule(name: "DenyProbes", priority: 4000, direction: Inbound, access: Deny, protocol: Any,
             source: "AzureLoadBalancer", destination_ports: "*"),
    ])],
    vms: [Vm(name: "vm-web", os: Linux, nics: [Nic(name: "vm-web-nic", subnet: "app/web", private_ip: "10.80.1.4")])],
)
"#;

/// Audit (fidelity, F1): Azure answers DNS, DHCP, health and IMDS traffic to 168.63.129.16 and
/// 169.254.169.254 without the NSGs, unless a rule names the service's tag (Microsoft, NSG
/// overview, "Azure platform considerations"); health probes *from* 168.63.129.16 are filtered.
#[test]
fn platform_services_bypass_nsgs_unless_their_tag_is_named() {
    let dir = super::util::TempDir::new("platform");
    let plain = dir.write("plain.ron", &PLATFORM.replace("EXTRA", ""));
    let dns =
        eval(&plain, &["--from", "vm-web", "--to", "168.63.129.16", "--protocol", "udp", "--port", "53"]);
    assert_eq!(dns["verdict"], "Allow", "{dns:#}");
    let last = hops(&dns).pop().expect("a hop");
    assert_eq!((last.0.as_str(), last.2.as_str()), ("platform", "Allow"), "{dns:#}");
    let detail = last_detail(&dns);
    assert!(
        detail.contains("Azure platform considerations") && detail.contains("AzurePlatformDNS"),
        "{detail}"
    );
    let imds = eval(&plain, &["--from", "vm-web", "--to", "169.254.169.254", "--port", "80"]);
    assert_eq!(imds["verdict"], "Allow", "{imds:#}");
    // Ordinary traffic is still denied by the rule, and the probe from the host is filtered.
    let web = eval(&plain, &["--from", "vm-web", "--to", "93.184.216.34", "--port", "443"]);
    assert_eq!(
        (web["verdict"].as_str(), web["rule"].as_str()),
        (Some("Deny"), Some("securityRules/DenyAllOut"))
    );
    let probe = eval(&plain, &["--from", "168.63.129.16", "--to", "vm-web", "--port", "80"]);
    assert_eq!(
        (probe["verdict"].as_str(), probe["rule"].as_str()),
        (Some("Deny"), Some("securityRules/DenyProbes"))
    );

    // A rule naming AzurePlatformDNS brings DNS under the NSGs; IMDS stays exempt.
    let tagged = dir.write(
        "tagged.ron",
        &PLATFORM.replace(
            "EXTRA",
            r#"Rule(name: "NoAzureDns", priority: 100, direction: Outbound, access: Deny, protocol: Any,
             destination: "AzurePlatformDNS", destination_ports: "*"),"#,
        ),
    );
    let dns =
        eval(&tagged, &["--from", "vm-web", "--to", "168.63.129.16", "--protocol", "udp", "--port", "53"]);
    assert_eq!(
        (dns["verdict"].as_str(), dns["rule"].as_str()),
        (Some("Deny"), Some("securityRules/NoAzureDns")),
        "{dns:#}"
    );
    let imds = eval(&tagged, &["--from", "vm-web", "--to", "169.254.169.254", "--port", "80"]);
    assert_eq!(imds["verdict"], "Allow", "{imds:#}");
}

/// Audit (fidelity): Windows licensing requests (TCP 1688 to the KMS hosts, `AzurePlatformLKM`)
/// pass the NSGs by a platform rule; a rule naming the tag brings them under the NSGs, and "for
/// deployments using default route 0.0.0.0/0 configuration, this platform rule is disabled"
/// (Microsoft, NSG overview, "Azure platform considerations").
#[test]
fn windows_licensing_passes_the_nsgs_unless_tagged_or_forced_through_a_default_route() {
    let dir = super::util::TempDir::new("kms");
    let kms = ["--from", "vm-web", "--to", "23.102.135.246", "--port", "1688"];
    let plain = dir.write("plain.ron", &PLATFORM.replace("EXTRA", ""));
    let licensing = eval(&plain, &kms);
    assert_eq!(licensing["verdict"], "Allow", "{licensing:#}");
    let last = hops(&licensing).pop().expect("a hop");
    assert_eq!((last.0.as_str(), last.2.as_str()), ("platform", "Allow"), "{licensing:#}");
    let detail = last_detail(&licensing);
    assert!(detail.contains("port 1688") && detail.contains("AzurePlatformLKM"), "{detail}");
    // Only licensing: another port of the same host is denied by the NSG.
    let https = eval(&plain, &["--from", "vm-web", "--to", "23.102.135.246", "--port", "443"]);
    assert_eq!(https["rule"], "securityRules/DenyAllOut", "{https:#}");

    let tagged = dir.write(
        "tagged.ron",
        &PLATFORM.replace(
            "EXTRA",
            r#"Rule(name: "NoLicensing", priority: 100, direction: Outbound, access: Deny, protocol: Tcp,
             destination: "AzurePlatformLKM", destination_ports: "1688"),"#,
        ),
    );
    let licensing = eval(&tagged, &kms);
    assert_eq!(
        (licensing["verdict"].as_str(), licensing["rule"].as_str()),
        (Some("Deny"), Some("securityRules/NoLicensing")),
        "{licensing:#}"
    );

    // A user-defined 0.0.0.0/0 route disables the platform rule: the NSG's DenyAllOut decides.
    let forced = PLATFORM
        .replace("EXTRA", "")
        .replace(r#"nsg: "web-nsg"),"#, r#"nsg: "web-nsg", route_table: "force"),"#)
        .replace(
            "    vms: [",
            r#"    route_tables: [RouteTable(name: "force", routes: [
        Route(name: "to-appliance", prefix: "0.0.0.0/0", next_hop: VirtualAppliance("10.80.1.200")),
    ])],
    vms: ["#,
        );
    let forced = dir.write("forced.ron", &forced);
    let licensing = eval(&forced, &kms);
    assert_eq!(
        (licensing["verdict"].as_str(), licensing["rule"].as_str()),
        (Some("Deny"), Some("securityRules/DenyAllOut")),
        "{licensing:#}"
    );
    let first = licensing["hops"][0]["detail"].as_str().unwrap_or_default();
    assert!(first.contains("route 'to-appliance'"), "{licensing:#}");
}

/// A hub with a firewall (and optionally more) for the validation tests: `subnet_extra` goes into
/// the AzureFirewallSubnet's `Subnet(...)`, `firewall_extra` into the `Firewall(...)`, `rest` at
/// the end of the scenario.
fn firewall_scenario(
    fw_prefix: &str,
    subnet_extra: &str,
    sku: &str,
    firewall_extra: &str,
    rest: &str,
) -> String {
    format!(
        r#"Scenario(
    name: "fw-validation", description: "x", start: "2025-06-02T10:00:00Z",
    vnets: [Vnet(name: "hub", address_space: ["10.0.0.0/16"], subnets: [
        Subnet(name: "AzureFirewallSubnet", prefix: "{fw_prefix}"{subnet_extra}),
        Subnet(name: "AzureBastionSubnet", prefix: "10.0.2.0/26"),
        Subnet(name: "work", prefix: "10.0.3.0/24"),
    ])],
    nsgs: [Nsg(name: "n")],
    route_tables: [
        RouteTable(name: "to-fw", routes: [Route(name: "d", prefix: "0.0.0.0/0", next_hop: VirtualAppliance("10.0.1.4"))]),
        RouteTable(name: "to-internet", routes: [Route(name: "d", prefix: "0.0.0.0/0", next_hop: Internet)]),
    ],
    public_ips: [PublicIp(name: "fw-pip", address: "20.0.0.2", sku: {sku}), PublicIp(name: "b-pip", address: "20.0.0.3", sku: {sku})],
    firewalls: [Firewall(name: "fw", vnet: "hub", private_ip: "10.0.1.4", public_ip: "fw-pip"{firewall_extra})],
    {rest}
)"#
    )
}

const NET: &str = r#"Network(name: "c", priority: 100, action: Allow, rules: [NetworkRule(name: "r", protocols: [Any], sources: ["*"], destinations: ["*"], destination_ports: ["*"])])"#;

/// r56-5: Azure's requirements for Azure Firewall and Bastion are checked (exit 2, one line saying
/// what is valid); before, `check` accepted all of these.
#[test]
fn r56_firewall_and_bastion_requirements_are_enforced() {
    let dir = TempDir::new("fw-validation");
    let check = |name: &str, text: String| nsgsim(&["check", &dir.write(name, &text)]);
    check("ok.ron", firewall_scenario("10.0.1.0/26", "", "Standard", "", "")).assert_code(0);
    check(
        "ok-route.ron",
        firewall_scenario("10.0.1.0/26", r#", route_table: "to-internet""#, "Standard", "", ""),
    )
    .assert_code(0);
    check("small.ron", firewall_scenario("10.0.1.0/28", "", "Standard", "", ""))
        .assert_code(2)
        .stderr_has(&["AzureFirewallSubnet", "of /26 or larger", "found 10.0.1.0/28"]);
    check("nsg.ron", firewall_scenario("10.0.1.0/26", r#", nsg: "n""#, "Standard", "", ""))
        .assert_code(2)
        .stderr_has(&["NSGs are not supported on AzureFirewallSubnet", "remove the subnet's nsg"]);
    check("route.ron", firewall_scenario("10.0.1.0/26", r#", route_table: "to-fw""#, "Standard", "", ""))
        .assert_code(2)
        .stderr_has(&[
            "must have a 0.0.0.0/0 route with next hop Internet",
            "goes to VirtualAppliance 10.0.1.4",
        ]);
    check("basic.ron", firewall_scenario("10.0.1.0/26", "", "Basic", "", ""))
        .assert_code(2)
        .stderr_has(&["public IP 'fw-pip' is Basic SKU", "Azure Firewall requires a Standard SKU public IP"]);
    let basic_bastion = firewall_scenario("10.0.1.0/26", "", "Standard", "", "")
        .replace(r#"sku: Standard)],"#, r#"sku: Basic)],"#)
        .replace(
            "    \n)",
            r#"    bastions: [Bastion(name: "b", vnet: "hub", public_ip: "b-pip")],
)"#,
        );
    check("basic-bastion.ron", basic_bastion)
        .assert_code(2)
        .stderr_has(&["bastion 'b'", "Azure Bastion requires a Standard SKU public IP"]);
    let attach = firewall_scenario(
        "10.0.1.0/26",
        "",
        "Standard",
        "",
        r#"timeline: [(at: "1m", action: AttachNsg(nsg: "n", subnet: "hub/AzureFirewallSubnet"))],"#,
    );
    check("attach.ron", attach).assert_code(2).stderr_has(&["not supported on AzureFirewallSubnet"]);
}

/// r56-5: classic rule collections and a Firewall Policy's rule collection groups are exclusive.
#[test]
fn r56_classic_rules_and_firewall_policy_do_not_mix() {
    let dir = TempDir::new("fw-modes");
    let check = |name: &str, extra: String| {
        nsgsim(&["check", &dir.write(name, &firewall_scenario("10.0.1.0/26", "", "Standard", &extra, ""))])
    };
    let groups = format!(
        r#"rule_collection_groups: [RuleCollectionGroup(name: "g", priority: 200, collections: [{NET}])]"#
    );
    check("both.ron", format!(", collections: [{NET}], {groups}")).assert_code(2).stderr_has(&[
        "classic rule collections (collections) or a Firewall Policy (rule_collection_groups), not both",
    ]);
    check("classic-groups.ron", format!(", mode: Classic, {groups}"))
        .assert_code(2)
        .stderr_has(&["rule collection groups belong to a Firewall Policy", "mode: Policy"]);
    check("policy-collections.ron", format!(", mode: Policy, collections: [{NET}]"))
        .assert_code(2)
        .stderr_has(&["classic rule collections need mode: Classic"]);
    check("groups.ron", format!(", {groups}")).assert_code(0);
    check("classic.ron", format!(", collections: [{NET}]")).assert_code(0);
}

/// r56-3: access that only a firewall application rule allows is found by `reach` (the rule's
/// ports cut the port space; before, 443 was tested as part of a wider range at another port).
#[test]
fn r56_reach_finds_access_allowed_only_by_an_application_rule() {
    let text = r#"Scenario(
    name: "appreach", description: "x", start: "2025-06-02T10:00:00Z",
    vnets: [
        Vnet(name: "hub", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "AzureFirewallSubnet", prefix: "10.0.1.0/26")]),
        Vnet(name: "spoke1", address_space: ["10.1.0.0/16"], subnets: [Subnet(name: "w", prefix: "10.1.1.0/24", route_table: "via-fw")]),
        Vnet(name: "spoke2", address_space: ["10.2.0.0/16"], subnets: [Subnet(name: "w", prefix: "10.2.1.0/24", nsg: "n2", route_table: "via-fw")]),
    ],
    peerings: [("hub", "spoke1"), ("hub", "spoke2")],
    route_tables: [RouteTable(name: "via-fw", routes: [Route(name: "d", prefix: "0.0.0.0/0", next_hop: VirtualAppliance("10.0.1.4"))])],
    public_ips: [PublicIp(name: "fw-pip", address: "20.30.0.10", sku: Standard)],
    firewalls: [Firewall(name: "fw", vnet: "hub", private_ip: "10.0.1.4", public_ip: "fw-pip",
        fqdns: { "app2.internal": ["10.2.1.4"] },
        collections: [Application(name: "spoke-app", priority: 200, action: Allow, rules: [
            ApplicationRule(name: "app2-https", sources: ["10.1.0.0/16"], protocols: [Https], fqdns: ["app2.internal"]),
        ])])],
    nsgs: [Nsg(name: "n2", rules: [
        Rule(name: "ssh-from-fw", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "10.0.1.0/26", destination_ports: "22"),
    ])],
    vms: [
        Vm(name: "app1", os: Linux, nics: [Nic(name: "app1-nic", subnet: "spoke1/w", private_ip: "10.1.1.4")]),
        Vm(name: "app2", os: Linux, nics: [Nic(name: "app2-nic", subnet: "spoke2/w", private_ip: "10.2.1.4")]),
    ],
)"#;
    let dir = TempDir::new("appreach");
    let file = dir.write("appreach.ron", text);
    let eval =
        nsgsim(&["eval", &file, "--from", "app1", "--to", "app2", "--port", "443", "--format", "json"])
            .assert_code(0)
            .json();
    assert_eq!(eval["verdict"], "Allow");
    let json = nsgsim(&["reach", &file, "--to", "app2", "--format", "json"]).assert_code(0).json();
    let spoke1 = json["classes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["class"] == "subnet 'spoke1/w'"))
        .expect("the spoke1 class");
    assert_eq!(spoke1["reachable"], true, "{spoke1}");
    assert_eq!(spoke1["entries"][0]["ports"], "443", "{spoke1}");
}

/// Two VMs in one subnet; `b` has a public IP. `subnet_extra` goes into the subnet.
fn snat_scenario(subnet_extra: &str, nsg_rules: &str) -> String {
    format!(
        r#"Scenario(
    name: "snat", description: "x", start: "2025-06-02T10:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "na"{subnet_extra})])],
    public_ips: [PublicIp(name: "bpip", address: "20.0.0.9", sku: Standard)],
    nsgs: [Nsg(name: "na", rules: [{nsg_rules}])],
    vms: [
        Vm(name: "a", os: Linux, nics: [Nic(name: "an", subnet: "v/a", private_ip: "10.0.1.4")]),
        Vm(name: "b", os: Linux, nics: [Nic(name: "bn", subnet: "v/a", private_ip: "10.0.1.5", public_ip: "bpip")]),
    ],
)"#
    )
}

/// r56-1: a VM without a public IP that connects to another VM's public IP leaves through outbound
/// SNAT (default outbound access), so the target's NSG sees a public source: before, it kept
/// 10.0.1.4 and AllowVnetInBound admitted it.
#[test]
fn r56_traffic_to_a_public_ip_leaves_through_outbound_snat() {
    let dir = TempDir::new("snat");
    let file = dir.write("snat.ron", &snat_scenario("", ""));
    let t = eval(&file, &["--from", "a", "--to", "bpip", "--port", "22"]);
    assert_eq!(t["verdict"], "Deny", "{t}");
    assert_eq!(t["rule"], "defaultSecurityRules/DenyAllInBound", "{t}");
    let route =
        t["hops"].as_array().and_then(|h| h.iter().find(|h| h["kind"] == "route")).expect("a route hop");
    assert!(
        route["detail"]
            .as_str()
            .is_some_and(|d| d.contains("default outbound access") && d.contains("40.64.0.1"))
    );
    // The Internet rules apply to it.
    let internet = r#"Rule(name: "ssh-from-internet", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "Internet", destination_ports: "22")"#;
    let file = dir.write("snat-internet.ron", &snat_scenario("", internet));
    let t = eval(&file, &["--from", "a", "--to", "bpip", "--port", "22"]);
    assert_eq!(t["verdict"], "Allow", "{t}");
    assert_eq!(t["rule"], "securityRules/ssh-from-internet");
    // A private subnet has no default outbound access: the flow stops at the route hop.
    let file = dir.write("snat-private.ron", &snat_scenario(", default_outbound_access: false", internet));
    let t = eval(&file, &["--from", "a", "--to", "bpip", "--port", "22"]);
    assert_eq!(t["verdict"], "Deny");
    let last = t["hops"].as_array().and_then(|h| h.last()).expect("a hop");
    assert_eq!(last["kind"], "route");
    assert!(
        last["detail"].as_str().is_some_and(|d| d.contains("private") && d.contains("no outbound Internet"))
    );
    // By name, b is reached privately: AllowVnetInBound, as before.
    let t = eval(&file, &["--from", "a", "--to", "b", "--port", "22"]);
    assert_eq!(t["rule"], "defaultSecurityRules/AllowVnetInBound");
}

/// A hub with a VPN gateway to 192.168.0.0/16 and a spoke; `peering` is the peerings entry.
fn transit_scenario(peering: &str) -> String {
    format!(
        r#"Scenario(
    name: "transit", description: "x", start: "2025-06-02T10:00:00Z",
    vnets: [
        Vnet(name: "hub", address_space: ["10.0.0.0/16"], on_premises: ["192.168.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.1.0/24")]),
        Vnet(name: "spoke", address_space: ["10.1.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.1.1.0/24")]),
    ],
    peerings: [{peering}],
    vms: [Vm(name: "vm", os: Linux, nics: [Nic(name: "vm-nic", subnet: "spoke/s", private_ip: "10.1.1.4")])],
    users: [User(name: "office", source_ip: "192.168.10.20")],
)"#
    )
}

/// r56-6: on-premises networks reach a hub's peered VNets only with gateway transit (Azure's
/// allowGatewayTransit on the hub's peering and useRemoteGateways on the spoke's); before, transit
/// was assumed for every peering.
#[test]
fn r56_on_premises_reaches_a_spoke_only_with_gateway_transit() {
    let dir = TempDir::new("transit");
    let plain = dir.write("plain.ron", &transit_scenario(r#"("hub", "spoke")"#));
    let t = eval(&plain, &["--from", "office", "--to", "vm", "--port", "22"]);
    assert_eq!(t["verdict"], "Deny", "{t}");
    assert!(t["hops"][0]["detail"].as_str().is_some_and(|d| d.contains("gateway transit")), "{t}");
    let back = eval(&plain, &["--from", "vm", "--to", "192.168.10.20", "--port", "22"]);
    assert_eq!(back["verdict"], "Deny", "the spoke has no route to on-premises: {back}");
    let transit = dir.write(
        "transit.ron",
        &transit_scenario(
            r#"Peering(vnets: ("hub", "spoke"), allow_gateway_transit: true, use_remote_gateways: true)"#,
        ),
    );
    let t = eval(&transit, &["--from", "office", "--to", "vm", "--port", "22"]);
    assert_eq!(t["verdict"], "Allow", "{t}");
    assert_eq!(t["rule"], serde_json::Value::Null, "no NSG on the path: {t}");
    let back = eval(&transit, &["--from", "vm", "--to", "192.168.10.20", "--port", "22"]);
    assert_eq!(back["verdict"], "Allow", "{back}");
    assert!(back.to_string().contains("VirtualNetworkGateway of peered vnet 'hub'"), "{back}");
    nsgsim(&["graph", &transit]).assert_code(0).stdout_has(&["uses remote gateway"]);
    // Azure refuses use_remote_gateways without allow_gateway_transit, and without a gateway.
    let half = dir.write(
        "half.ron",
        &transit_scenario(r#"Peering(vnets: ("hub", "spoke"), use_remote_gateways: true)"#),
    );
    nsgsim(&["check", &half]).assert_code(2).stderr_has(&["does not allow gateway transit"]);
    let reversed = dir.write(
        "reversed.ron",
        &transit_scenario(
            r#"Peering(vnets: ("spoke", "hub"), allow_gateway_transit: true, use_remote_gateways: true)"#,
        ),
    );
    nsgsim(&["check", &reversed]).assert_code(2).stderr_has(&["cannot use the gateway of vnet 'spoke'"]);
    let typo = dir
        .write("typo.ron", &transit_scenario(r#"Peering(vnets: ("hub", "spoke"), gateway_transit: true)"#));
    nsgsim(&["check", &typo]).assert_code(2).stderr_has(&[
        "typo.ron:",
        "unknown peering field 'gateway_transit'; valid: vnets, allow_gateway_transit, use_remote_gateways, allow_virtual_network_access, subnets",
    ]);
}

/// r56-7: option firewall_dnat_legacy_network_rules (older documentation): a network deny rule
/// matching the translated traffic overrides the DNAT; an application rule cannot; without the
/// option DNAT'd traffic skips network rules.
#[test]
fn r56_legacy_dnat_option_lets_network_deny_rules_override_dnat() {
    let base = std::fs::read_to_string(scenario(HUB)).expect("the hub scenario");
    let deny = replace_once(
        &base,
        r#"                Application(name: "egress", priority: 300"#,
        r#"                Network(name: "no-ssh-to-app2", priority: 150, action: Deny, rules: [
                    NetworkRule(name: "ssh", protocols: [Tcp], sources: ["*"], destinations: ["10.2.1.4"], destination_ports: ["22"]),
                ]),
                Application(name: "egress", priority: 300"#,
    );
    let legacy = replace_once(
        &deny,
        "    timeline: [",
        "    options: Options(firewall_dnat_legacy_network_rules: true),\n    timeline: [",
    );
    let dir = TempDir::new("legacy");
    let current =
        eval(&dir.write("current.ron", &deny), &["--from", "admin", "--to", "fw-pip", "--port", "50022"]);
    assert_eq!(current["verdict"], "Allow", "current docs: DNAT'd traffic skips network rules: {current}");
    let old =
        eval(&dir.write("legacy.ron", &legacy), &["--from", "admin", "--to", "fw-pip", "--port", "50022"]);
    assert_eq!(old["verdict"], "Deny", "{old}");
    assert_eq!(old["rule"], "classic/no-ssh-to-app2/ssh", "{old}");
    assert!(old.to_string().contains("firewall_dnat_legacy_network_rules"));
}

/// Azure disables subnet NSGs on AzureFirewallSubnet whether or not a firewall is deployed in it
/// yet: the association is refused (exit 2) even in a VNet without a firewall.
#[test]
fn an_nsg_on_azure_firewall_subnet_is_refused_without_a_firewall_too() {
    let dir = TempDir::new("fw-subnet-nsg");
    let text = |nsg: &str| {
        format!(
            r#"Scenario(
    name: "fw-subnet-nsg", description: "x", start: "2025-06-02T10:00:00Z",
    vnets: [Vnet(name: "hub", address_space: ["10.0.0.0/16"], subnets: [
        Subnet(name: "AzureFirewallSubnet", prefix: "10.0.1.0/26"{nsg}),
        Subnet(name: "work", prefix: "10.0.3.0/24", nsg: "n"),
    ])],
    nsgs: [Nsg(name: "n")],
)"#
        )
    };
    nsgsim(&["check", &dir.write("ok.ron", &text(""))]).assert_code(0);
    nsgsim(&["check", &dir.write("nsg.ron", &text(r#", nsg: "n""#))]).assert_code(2).stderr_has(&[
        "subnets[0].nsg",
        "NSGs are not supported on AzureFirewallSubnet",
        "remove the subnet's nsg",
    ]);
}

/// A VM published by a firewall DNAT rule is exposed on the port the rule translates to, whatever
/// the public port. Exposure asks one reach query per VM for the four management ports at once;
/// a DNAT entry's addressed port (50022) is none of them, and must still count for port 22.
#[test]
fn exposure_counts_a_dnat_rule_to_a_management_port() {
    let json = nsgsim(&["exposure", &scenario(HUB), "--format", "json"]).assert_code(0).json();
    let windows = json["windows"].as_array().expect("windows");
    let app2: Vec<&Value> = windows.iter().filter(|w| w["vm"] == "vm-app2").collect();
    assert_eq!(app2.len(), 1, "{app2:?}");
    assert_eq!(app2[0]["port"], 22);
    assert_eq!(app2[0]["sources"], "203.0.113.0/24");
    let ways = app2[0]["ways"].to_string();
    assert!(ways.contains("Tcp 50022 via DNAT on firewall 'hub-fw' 20.30.0.10:50022 -> :22"), "{ways}");
}

/// A hub-spoke peering whose hub side sets allowVirtualNetworkAccess false
/// (`tests/data/peering/virtual-network-access.ron`).
const PEERING_ACCESS: &str = "tests/data/peering/virtual-network-access.ron";

/// Microsoft's current peering documentation: allowVirtualNetworkAccess false on the hub's side
/// "only changes the definition of the VirtualNetwork service tag". The scenario's expectations
/// hold (the hub's default rules stop traffic both ways, Bastion reaches the spoke, a rule naming
/// the spoke's prefix opens the way); the deciding hop says why. Option
/// peering_access_blocks_all_traffic (the older documentation) stops everything at the peering,
/// and the same expectations then fail. Before this was modelled, every peering was open.
#[test]
fn peering_without_virtual_network_access_changes_the_tag_and_the_option_blocks_it() {
    nsgsim(&["run", PEERING_ACCESS]).assert_code(0).stdout_has(&["4 passed, 0 failed"]);
    let t = eval(PEERING_ACCESS, &["--from", "vm-hub", "--to", "vm-app", "--port", "22"]);
    assert_eq!(
        (t["verdict"].as_str(), t["rule"].as_str()),
        (Some("Deny"), Some("defaultSecurityRules/DenyAllOutBound")),
        "{t}"
    );
    assert!(
        last_detail(&t).contains("10.1.1.4 (vnet 'spoke') is not in this NSG's VirtualNetwork tag: the peering hub->spoke blocks virtual network access (allowVirtualNetworkAccess false on hub's side)"),
        "{t}"
    );
    assert!(
        last_detail(&t).contains("so AllowVnetOutBound and rules naming VirtualNetwork do not match it"),
        "{t}"
    );
    let back = eval(PEERING_ACCESS, &["--from", "vm-app", "--to", "vm-hub", "--port", "22"]);
    assert_eq!(
        hops(&back).last(),
        Some(&h("nsg", "hub-nsg", "Deny", "defaultSecurityRules/DenyAllInBound")),
        "{back}"
    );
    assert!(last_detail(&back).contains("so AllowVnetInBound and rules naming"), "{back}");
    // Both sides at Azure's default: the default rules allow both ways.
    let text = std::fs::read_to_string(PEERING_ACCESS).expect("the scenario");
    let dir = TempDir::new("peering-access");
    let open = dir.write(
        "open.ron",
        &replace_once(
            &text,
            "allow_virtual_network_access: (false, true)",
            "allow_virtual_network_access: (true, true)",
        ),
    );
    let t = eval(&open, &["--from", "vm-hub", "--to", "vm-app", "--port", "22"]);
    assert_eq!(
        (t["verdict"].as_str(), t["rule"].as_str()),
        (Some("Allow"), Some("defaultSecurityRules/AllowVnetInBound")),
        "{t}"
    );
    // The older documentation, as a named option: no traffic crosses the peering, either way.
    let legacy = dir.write(
        "legacy.ron",
        &replace_once(
            &text,
            "    peerings: [",
            "    options: Options(peering_access_blocks_all_traffic: true),\n    peerings: [",
        ),
    );
    // vm-hub to vm-app: after +10m the hub's NSG allows the spoke's prefix, and the peering
    // stops it; vm-app to vm-hub leaves the spoke and is stopped at the peering too.
    for (from, to, at) in [("vm-hub", "vm-app", "10m"), ("vm-app", "vm-hub", "0s")] {
        let t = eval(&legacy, &["--from", from, "--to", to, "--port", "22", "--at", at]);
        assert_eq!(t["verdict"], "Deny", "{t}");
        assert_eq!(hops(&t).last().map(|h| h.0.as_str()), Some("route"), "{t}");
        assert!(last_detail(&t).contains("blocks virtual network access (allowVirtualNetworkAccess false on hub's side) and carries no traffic either way: option peering_access_blocks_all_traffic"), "{t}");
    }
    // Before the rule, the hub's NSG stops it first, and its note does not promise a way round.
    let t = eval(&legacy, &["--from", "vm-hub", "--to", "vm-app", "--port", "22"]);
    assert_eq!(t["rule"], "defaultSecurityRules/DenyAllOutBound", "{t}");
    assert!(
        last_detail(&t).ends_with(
            "under option peering_access_blocks_all_traffic the peering carries no traffic anyway"
        ),
        "{t}"
    );
    let t = eval(&legacy, &["--from", "admin", "--to", "vm-app", "--port", "22", "--via", "hub-bastion"]);
    assert_eq!(t["verdict"], "Deny", "{t}");
    assert!(last_detail(&t).starts_with("Azure Bastion 'hub-bastion' reaches VMs in peered VNets over the peering; the peering hub->spoke blocks"), "{t}");
    nsgsim(&["run", &legacy]).assert_code(1).stdout_has(&["1 passed, 3 failed"]);
    nsgsim(&["graph", &legacy])
        .assert_code(0)
        .stdout_has(&["peering, no traffic (allowVirtualNetworkAccess false on hub's side)"]);
    // Anything but two booleans is refused, exit 2, naming the field's type.
    let bad = dir.write(
        "bad.ron",
        &replace_once(
            &text,
            "allow_virtual_network_access: (false, true)",
            "allow_virtual_network_access: false",
        ),
    );
    nsgsim(&["check", &bad])
        .assert_code(2)
        .stderr_has(&["bad.ron:", "allow_virtual_network_access: (bool, bool)"]);
}

/// A live peering whose access is cleared and restored (`SetPeeringAccess`,
/// `tests/data/peering/toggle-access.ron`): by default only the hub's VirtualNetwork tag changes,
/// so new flows meet the default deny and an open session survives (NSGs are stateful); under
/// option peering_access_blocks_all_traffic the peering stops, and the session with it.
#[test]
fn setting_peering_access_on_a_live_peering_changes_new_flows_and_keeps_sessions() {
    const TOGGLE: &str = "tests/data/peering/toggle-access.ron";
    nsgsim(&["run", TOGGLE]).assert_code(0).stdout_has(&[
        "set allowVirtualNetworkAccess false on the peering of vnet 'hub' to 'spoke': 'spoke' leaves the VirtualNetwork tag of 'hub'; open connections stay open (NSGs are stateful)",
        "set allowVirtualNetworkAccess true on the peering of vnet 'hub' to 'spoke': 'spoke' joins the VirtualNetwork tag of 'hub'",
        "4 passed, 0 failed",
    ]);
    let text = std::fs::read_to_string(TOGGLE).expect("the scenario");
    let dir = TempDir::new("peering-toggle");
    let legacy = replace_once(
        &text,
        "    peerings: [",
        "    options: Options(peering_access_blocks_all_traffic: true),\n    peerings: [",
    );
    let legacy = replace_once(
        &legacy,
        "expect: Connection(name: \"ssh\", open: true)",
        "expect: Connection(name: \"ssh\", open: false)",
    );
    let legacy = replace_once(
        &legacy,
        "verdict: Deny,\n            nsg: \"hub-nsg\", rule: \"defaultSecurityRules/DenyAllOutBound\")",
        "verdict: Deny)",
    );
    let legacy = dir.write("legacy.ron", &legacy);
    nsgsim(&["run", &legacy]).assert_code(0).stdout_has(&[
        "the peering carries no traffic while the side of 'hub' sets it false (option peering_access_blocks_all_traffic)",
        "connection 'ssh' dropped: the peering of 'hub' and 'spoke' carries no traffic now (option peering_access_blocks_all_traffic; model choice",
        "the peering carries traffic again (option peering_access_blocks_all_traffic)",
        "4 passed, 0 failed",
    ]);
    // A VNet that is not peered is refused at load, positioned, with the valid choices.
    let unpeered = dir.write(
        "unpeered.ron",
        &replace_once(
            &text,
            "SetPeeringAccess(vnet: \"hub\", remote: \"spoke\", allow: false)",
            "SetPeeringAccess(vnet: \"hub\", remote: \"hub\", allow: false)",
        ),
    );
    nsgsim(&["check", &unpeered]).assert_code(2).stderr_has(&[
        "unpeered.ron:32:66: timeline[3].action.remote: vnet 'hub' is not peered with 'hub'; valid: a VNet peered with 'hub' (spoke)",
    ]);
}

/// A subnet peering (`peerCompleteVnets: false`) of hub/web and hub/AzureBastionSubnet with
/// spoke/app (`tests/data/peering/subnet-peering.ron`).
const SUBNET_PEERING: &str = "tests/data/peering/subnet-peering.ron";

/// Microsoft's subnet peering: the peered subnets reach each other, a hub subnet left out has the
/// route but its packet is dropped (the route hop says so), a spoke subnet left out is neither in
/// the VirtualNetwork tag nor routed, Bastion reaches only peered subnets, and the graph names the
/// subnets. Peering the whole VNets instead is refused (their spaces overlap), and an unknown
/// subnet name exits 2. Before this was modelled, the scenario could not say it, and the import
/// peered the whole VNets.
#[test]
fn subnet_peering_reaches_only_the_peered_subnets() {
    nsgsim(&["run", SUBNET_PEERING]).assert_code(0).stdout_has(&["6 passed, 0 failed"]);
    let t = eval(SUBNET_PEERING, &["--from", "vm-db", "--to", "vm-app", "--port", "22"]);
    assert_eq!(t["verdict"], "Deny", "{t}");
    assert_eq!(hops(&t).last().map(|h| h.0.as_str()), Some("route"), "{t}");
    assert!(
        last_detail(&t).contains("the sender's subnet 'db' of 'hub' is not in the subnet peering hub<->spoke (peerCompleteVnets false; peered subnets of 'hub': web, AzureBastionSubnet)"),
        "{t}"
    );
    let t = eval(SUBNET_PEERING, &["--from", "vm-web", "--to", "vm-data", "--port", "22"]);
    assert_eq!(t["rule"], "defaultSecurityRules/DenyAllOutBound", "{t}");
    assert!(
        last_detail(&t).contains("10.1.2.4 is not in this NSG's VirtualNetwork tag: it is in subnet 'data' of 'spoke', which is not in the subnet peering hub<->spoke"),
        "{t}"
    );
    let t =
        eval(SUBNET_PEERING, &["--from", "admin", "--to", "vm-data", "--port", "22", "--via", "hub-bastion"]);
    assert_eq!(t["verdict"], "Deny", "{t}");
    assert!(
        last_detail(&t).contains("the destination's subnet 'data' of 'spoke' is not in the subnet peering"),
        "{t}"
    );
    nsgsim(&["graph", SUBNET_PEERING])
        .assert_code(0)
        .stdout_has(&["subnet peering (hub: web, AzureBastionSubnet; spoke: app)"]);

    let text = std::fs::read_to_string(SUBNET_PEERING).expect("the scenario");
    let dir = TempDir::new("subnet-peering");
    let peering = r#"Peering(vnets: ("hub", "spoke"), subnets: (["web", "AzureBastionSubnet"], ["app"]))"#;
    let whole = dir.write("whole.ron", &replace_once(&text, peering, r#"("hub", "spoke")"#));
    nsgsim(&["check", &whole]).assert_code(2).stderr_has(&["cannot be peered: their address spaces overlap"]);
    let unknown = dir.write(
        "unknown.ron",
        &replace_once(&text, peering, r#"Peering(vnets: ("hub", "spoke"), subnets: (["web"], ["nope"]))"#),
    );
    nsgsim(&["check", &unknown])
        .assert_code(2)
        .stderr_has(&["peerings[0].subnets[1][0]", "vnet 'spoke' has no subnet 'nope'; valid: app, data"]);
}

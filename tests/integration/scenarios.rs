//! The scenario corpus: every `scenarios/*.ron` must load and pass `nsgsim run` (new files are
//! picked up automatically), and the foundation scenarios must keep teaching what they claim:
//! each default rule, augmented rules, service tags, ASGs, NSG levels and stateful replies.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::{all_scenarios, array, nsgsim, scenario, string};

#[test]
fn every_scenario_passes_run() {
    let files = all_scenarios();
    assert!(files.len() >= 4, "expected the foundation scenarios, found {files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let out = nsgsim(&["run", &file.display().to_string()]);
        out.assert_no_panic();
        let summary = out.stdout.lines().last().unwrap_or_default().to_string();
        let passed_all = out.code == 0
            && summary.ends_with(" passed, 0 failed")
            && !summary.contains(": 0 passed")
            && !out.stdout.contains("FAIL");
        if !passed_all {
            failures.push(format!("{}: exit {}\n{}{}", file.display(), out.code, out.stdout, out.stderr));
        }
    }
    assert!(failures.is_empty(), "scenarios failed:\n{}", failures.join("\n"));
}

#[test]
fn every_scenario_passes_check_and_json_run() {
    let files: Vec<String> = all_scenarios().iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["check".to_string()];
    args.extend(files.iter().cloned());
    let out = nsgsim(&args);
    out.assert_code(0);
    assert_eq!(out.stdout.lines().filter(|l| l.starts_with("ok: ")).count(), files.len(), "{}", out.stdout);

    let mut args = vec!["run".to_string(), "--format".into(), "json".into()];
    args.extend(files.iter().cloned());
    let json = nsgsim(&args).assert_code(0).json();
    let runs = json.as_array().expect("run --format json prints an array");
    assert_eq!(runs.len(), files.len());
    for run in runs {
        let name = string(run, "scenario");
        assert_eq!(run["failed"], 0, "{name}");
        let expectations: Vec<&Value> =
            array(run, "steps").iter().filter(|s| !s["expect"].is_null()).map(|s| &s["expect"]).collect();
        assert!(!expectations.is_empty(), "{name} checks nothing");
        assert_eq!(run["passed"].as_u64(), Some(expectations.len() as u64), "{name}");
        assert!(expectations.iter().all(|e| e["passed"] == Value::Bool(true)), "{name}");
    }
}

/// The flow expectations of a scenario run: `(description, verdict, deciding NSG, deciding rule)`.
fn decided_flows(file: &str) -> Vec<(String, String, Option<String>, Option<String>)> {
    let json = nsgsim(&["run", "--format", "json", file]).assert_code(0).json();
    let run = &json[0];
    array(run, "steps")
        .iter()
        .filter_map(|s| {
            let e = &s["expect"];
            let flow = e.get("flow").filter(|f| !f.is_null())?;
            Some((
                string(e, "description").to_string(),
                string(flow, "verdict").to_string(),
                flow["nsg"].as_str().map(String::from),
                flow["rule"].as_str().map(String::from),
            ))
        })
        .collect()
}

#[test]
fn default_rules_scenario_exercises_the_default_rules() {
    let flows = decided_flows(&scenario("02-default-rules.ron"));
    let rules: BTreeSet<&str> = flows.iter().filter_map(|(_, _, _, r)| r.as_deref()).collect();
    for (rule, verdict) in [
        ("defaultSecurityRules/AllowVnetInBound", "Allow"),
        ("defaultSecurityRules/DenyAllInBound", "Deny"),
        ("defaultSecurityRules/AllowVnetOutBound", "Allow"),
        ("defaultSecurityRules/AllowInternetOutBound", "Allow"),
        ("defaultSecurityRules/DenyAllOutBound", "Deny"),
    ] {
        assert!(rules.contains(rule), "no flow decided by {rule}: {rules:?}");
        assert!(
            flows.iter().filter(|f| f.3.as_deref() == Some(rule)).all(|f| f.1 == verdict),
            "{rule} must always {verdict}"
        );
    }
    // AllowAzureLoadBalancerInBound (65001) never decides: VirtualNetwork contains 168.63.129.16, so
    // AllowVnetInBound (65000) matches health probes first. The scenario shows the shadowing and the
    // user-rule pitfall instead.
    let probe = flows
        .iter()
        .find(|f| f.0 == "168.63.129.16 -> vm-a Tcp port 80")
        .expect("the scenario probes vm-a from 168.63.129.16");
    assert_eq!(probe.3.as_deref(), Some("defaultSecurityRules/AllowVnetInBound"));
    assert!(rules.contains("securityRules/allow-lb-probes"));
    assert!(!rules.contains("defaultSecurityRules/AllowAzureLoadBalancerInBound"));
}

#[test]
fn service_tags_asgs_augmented_scenario_decisions() {
    let flows = decided_flows(&scenario("03-service-tags-asgs-augmented.ron"));
    let find = |description: &str| {
        flows
            .iter()
            .find(|f| f.0 == description)
            .unwrap_or_else(|| panic!("no flow {description}: {flows:?}"))
    };
    let rule = |d: &str| (find(d).1.clone(), find(d).3.clone());
    let some = |v: &str, r: &str| (v.to_string(), Some(r.to_string()));
    // Scenario-defined tag + port list.
    assert_eq!(rule("partner -> vm-web Tcp port 443"), some("Allow", "securityRules/allow-partner-https"));
    assert_eq!(
        rule("192.0.2.100 -> web-pip Tcp port 8443"),
        some("Allow", "securityRules/allow-partner-https")
    );
    assert_eq!(
        rule("192.0.2.200 -> vm-web Tcp port 443"),
        some("Deny", "defaultSecurityRules/DenyAllInBound")
    );
    // Augmented source list and port range.
    assert_eq!(rule("admin2 -> vm-web Tcp port 3390"), some("Allow", "securityRules/allow-admin-mgmt"));
    assert_eq!(rule("admin2 -> vm-web Tcp port 3391"), some("Deny", "defaultSecurityRules/DenyAllInBound"));
    // Sample tag.
    assert_eq!(rule("vm-web -> 20.38.96.10 Tcp port 443"), some("Allow", "securityRules/allow-storage-out"));
    // ASGs.
    assert_eq!(rule("vm-web -> vm-db Tcp port 1433"), some("Allow", "securityRules/allow-web-to-sql"));
    assert_eq!(rule("vm-web-staging -> vm-db Tcp port 1433"), some("Deny", "securityRules/deny-vnet-in"));
    // Peering widens VirtualNetwork; an unpeered VNet stays outside it.
    assert_eq!(rule("vm-web -> vm-spoke Tcp port 8080"), some("Allow", "securityRules/allow-vnet-8080"));
    assert_eq!(rule("10.2.1.50 -> vm-spoke Tcp port 8080"), some("Deny", "securityRules/deny-all-in"));
    // Public IP SKUs with no NSG: no rule decides.
    assert_eq!(rule("stranger -> vm-lab-basic Tcp port 80"), ("Allow".to_string(), None));
    assert_eq!(rule("stranger -> vm-lab-standard Tcp port 80"), ("Deny".to_string(), None));
    // Platform services pass the NSGs (no rule decides); other traffic to the KMS host does not.
    assert_eq!(rule("vm-web -> 168.63.129.16 Udp port 53"), ("Allow".to_string(), None));
    assert_eq!(rule("vm-web -> 23.102.135.246 Tcp port 1688"), ("Allow".to_string(), None));
    assert_eq!(
        rule("vm-web -> 23.102.135.246 Tcp port 443"),
        some("Deny", "securityRules/deny-internet-out")
    );
}

#[test]
fn standard_and_basic_public_ips_without_nsgs() {
    let file = scenario("03-service-tags-asgs-augmented.ron");
    let eval = |to: &str| {
        nsgsim(&["eval", &file, "--from", "stranger", "--to", to, "--port", "443", "--format", "json"])
            .assert_code(0)
            .json()
    };
    let standard = eval("vm-lab-standard");
    assert_eq!(standard["verdict"], "Deny");
    assert_eq!(standard["rule"], Value::Null);
    let last = array(&standard, "hops").last().cloned().expect("hops");
    assert_eq!((last["kind"].as_str(), last["access"].as_str()), (Some("public-ip"), Some("Deny")));
    assert!(string(&last, "detail").contains("closed to inbound traffic unless an NSG allows it"));

    let basic = eval("lab-basic-pip");
    assert_eq!(basic["verdict"], "Allow");
    let kinds: Vec<&str> = array(&basic, "hops").iter().filter_map(|h| h["kind"].as_str()).collect();
    assert_eq!(kinds, ["public-ip", "no-nsg", "no-nsg"]);
}

#[test]
fn nsg_levels_scenario_decisions() {
    let flows = decided_flows(&scenario("04-nsg-levels.ron"));
    let decided = |d: &str| -> Vec<(String, Option<String>, Option<String>)> {
        flows.iter().filter(|f| f.0 == d).map(|f| (f.1.clone(), f.2.clone(), f.3.clone())).collect()
    };
    let by = |v: &str, n: &str, r: &str| (v.to_string(), Some(n.to_string()), Some(r.to_string()));
    // Both levels inbound: the NIC NSG denies what the subnet allowed; the subnet denies first otherwise.
    assert_eq!(
        decided("vm-none -> vm-both Tcp port 443"),
        [by("Allow", "both-nic-nsg", "securityRules/allow-https-in")]
    );
    assert_eq!(
        decided("vm-none -> vm-both Tcp port 22"),
        [by("Deny", "both-subnet-nsg", "securityRules/deny-vnet-in")]
    );
    // The same flow before and after the NIC NSG is detached at 20m.
    assert_eq!(
        decided("vm-none -> vm-both Tcp port 80"),
        [
            by("Deny", "both-nic-nsg", "securityRules/deny-http-in"),
            by("Allow", "both-subnet-nsg", "securityRules/allow-web-in"),
        ]
    );
    // Outbound: NIC first, then subnet.
    assert_eq!(
        decided("vm-both -> vm-none Tcp port 3389"),
        [by("Deny", "both-subnet-nsg", "securityRules/deny-rdp-out")]
    );
    // Intra-subnet.
    assert_eq!(
        decided("vm-sub2 -> vm-sub Tcp port 22"),
        [by("Deny", "subnet-only-nsg", "securityRules/deny-vnet-in")]
    );
    // NIC only.
    assert_eq!(
        decided("vm-none -> vm-nic Tcp port 22"),
        [by("Deny", "nic-only-nsg", "securityRules/deny-ssh-in")]
    );
    // No NSG anywhere: allowed, and no rule is named.
    assert_eq!(decided("vm-none -> vm-none2 Tcp port 22"), [("Allow".to_string(), None, None)]);
    // Attached at 10m.
    assert_eq!(
        decided("vm-sub -> vm-none Tcp port 22"),
        [
            by("Allow", "subnet-only-nsg", "defaultSecurityRules/AllowVnetOutBound"),
            by("Deny", "nic-only-nsg", "securityRules/deny-ssh-in"),
        ]
    );
    // Added at 30m, removed at 40m.
    assert_eq!(
        decided("vm-both -> vm-sub Tcp port 22"),
        [
            by("Allow", "subnet-only-nsg", "securityRules/allow-ssh-from-both"),
            by("Deny", "subnet-only-nsg", "securityRules/deny-vnet-in"),
        ]
    );
}

#[test]
fn stateful_replies_need_no_inbound_rule() {
    let json = nsgsim(&["run", "--format", "json", &scenario("04-nsg-levels.ron")]).assert_code(0).json();
    let steps = array(&json[0], "steps");
    let replies: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| &s["expect"])
        .filter(|e| e["description"] == "reply traffic of connection 'fetch-updates'")
        .map(|e| (string(e, "expected"), string(e, "actual")))
        .collect();
    assert_eq!(
        replies,
        [
            ("Allow", "Allow (stateful: replies of an established connection need no rule)"),
            ("Deny", "Deny (no established connection: evaluated as a new flow)"),
        ]
    );
    let opened = steps
        .iter()
        .filter_map(|s| s["action"]["summary"].as_str())
        .find(|s| s.contains("'fetch-updates'"))
        .expect("the connection is opened");
    assert_eq!(opened, "vm-sub opened connection 'fetch-updates' to updates port 443");
    let refused = steps
        .iter()
        .find(|s| s["action"]["summary"].as_str().is_some_and(|t| t.contains("'plain-http'")))
        .expect("the refused connection is attempted");
    assert_eq!(refused["action"]["flow"]["verdict"], "Deny");
    assert_eq!(refused["action"]["flow"]["rule"], "securityRules/deny-internet-out");

    // The reply, as a new flow, is what DenyAllInBound stops.
    nsgsim(&[
        "eval",
        &scenario("04-nsg-levels.ron"),
        "--from",
        "updates",
        "--to",
        "vm-sub",
        "--port",
        "50000",
        "--src-port",
        "443",
        "--expect",
        "deny",
    ])
    .assert_code(0)
    .stdout_has(&["verdict: Deny", "defaultSecurityRules/DenyAllInBound denies"]);
}

#[test]
fn evaluation_order_scenario_verbose_traces() {
    let out = nsgsim(&["run", "--verbose", &scenario("01-nsg-evaluation-order.ron")]);
    out.assert_code(0).stdout_has(&[
        "nsg-evaluation-order: 15 passed, 0 failed",
        // With --verbose even passing expectations show their hops.
        "    allow  nsg     NSG 'web-subnet-nsg' on subnet 'prod/web' (Inbound): securityRules/allow-ssh-admins allows (priority 110)",
        "    deny   nsg     NSG 'web-nic-nsg' on nic 'vm-web-nic' (Inbound): securityRules/deny-ssh denies (priority 300)",
    ]);
    let quiet = nsgsim(&["run", &scenario("01-nsg-evaluation-order.ron")]);
    quiet.assert_code(0);
    assert!(!quiet.stdout.contains("    verdict:"), "{}", quiet.stdout);
}

/// The text of `docs/scenario-format.md`.
fn format_doc() -> String {
    std::fs::read_to_string(crate::util::root().join("docs/scenario-format.md"))
        .expect("docs/scenario-format.md is readable")
}

#[test]
fn the_documented_example_runs() {
    let doc = format_doc();
    let (_, rest) = doc.split_once("<!-- example:begin -->").expect("the doc marks its example");
    let (example, _) = rest.split_once("<!-- example:end -->").expect("the example ends");
    let ron: String = example.lines().filter(|l| !l.starts_with("```")).map(|l| format!("{l}\n")).collect();
    let dir = crate::util::TempDir::new("doc-example");
    let file = dir.write("example.ron", &ron);
    nsgsim(&["check", &file]).assert_code(0);
    // The example covers the NSG foundation and the JIT lifecycle (enable, request, expiry).
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&[
        "PASS expect JIT request 'admin-ssh': Active",
        "event: JIT access of admin to vm 'vm-web' port 22 expired",
        "example: 15 passed, 0 failed",
    ]);
}

#[test]
fn the_format_doc_names_every_field_and_variant_of_the_schema() {
    let doc = format_doc();
    // The schema, its teaching part (corrections and questions) and its Virtual Network Manager
    // part, each kept in a file of its own.
    let schema = [
        "src/scenario/schema.rs",
        "src/scenario/schema_teach.rs",
        "src/scenario/schema_admin.rs",
        "src/scenario/schema_lb.rs",
    ]
    .map(|f| std::fs::read_to_string(crate::util::root().join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
    .join("\n");
    let mut missing = Vec::new();
    for line in schema.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        // Struct fields (`pub name: T`) and fields of struct-like enum variants (`name: T`).
        let field = trimmed.strip_prefix("pub ").unwrap_or(trimmed);
        if let Some((name, _)) = field.split_once(": ")
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            if !doc.contains(&format!("`{name}`")) && !doc.contains(&format!("{name}:")) {
                missing.push(format!("field {name}"));
            }
            continue;
        }
        // Enum variants: `Name,`, `Name {`, `Name(...)` at the first level of an enum body.
        let variant: String = trimmed.chars().take_while(char::is_ascii_alphanumeric).collect();
        let after = &trimmed[variant.len()..];
        if indent == 4
            && variant.starts_with(|c: char| c.is_ascii_uppercase())
            && (after.starts_with(',') || after.starts_with(" {") || after.starts_with('('))
            && !doc.contains(&variant)
        {
            missing.push(format!("variant {variant}"));
        }
    }
    assert!(missing.is_empty(), "docs/scenario-format.md does not mention: {missing:?}");
}

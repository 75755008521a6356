//! Azure Virtual Network Manager's security admin rules end to end (issue 19 item 6), on
//! `scenarios/40-avnm-admin-rules.ron`: the admin-rule hop in traces, the rules in
//! `effective-rules`, `reach`, `lint`, and the scenario's own expectations (cases written from
//! Microsoft's "Security admin rules in Azure Virtual Network Manager").

use serde_json::Value;

use super::util::{TempDir, nsgsim, replace_once, scenario};

const AVNM: &str = "40-avnm-admin-rules.ron";

/// `eval` as JSON (exit 0 whatever the verdict: only `--expect` makes a verdict an exit code).
fn eval(file: &str, args: &[&str]) -> Value {
    let mut all = vec!["eval", file];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    nsgsim(&all).assert_code(0).json()
}

fn kinds(trace: &Value) -> Vec<String> {
    trace["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| h["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_scenario_plays_and_its_expectations_pass() {
    nsgsim(&["run", &scenario(AVNM)]).assert_code(0);
}

#[test]
fn deny_stops_before_the_nsgs_and_says_so() {
    // Microsoft: "When Deny is used, evaluation and therefore traffic is stopped without being
    // delivered to the destination."
    let t = eval(&scenario(AVNM), &["--from", "attacker", "--to", "vm-erp01", "--port", "3389"]);
    assert_eq!(t["verdict"], "Deny");
    assert_eq!(kinds(&t), ["public-ip", "admin-rule"], "{t}");
    let hop = &t["hops"][1];
    assert_eq!(hop["resource"], "org-baseline");
    assert_eq!(hop["rule"], "ruleCollections/high-risk-ports/rules/deny-rdp-internet");
    assert_eq!(hop["priority"], 10);
    let detail = hop["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("avnm-contoso") && detail.contains("JIT"), "{detail}");
}

#[test]
fn always_allow_skips_the_nsgs_and_allow_leaves_them_to_decide() {
    // "If the security admin rule is Always Allow, the traffic won't hit NSGs".
    let t = eval(&scenario(AVNM), &["--from", "scanner", "--to", "vm-erp01", "--port", "445"]);
    assert_eq!(kinds(&t), ["public-ip", "admin-rule"], "{t}");
    // "When the traffic is allowed by a security admin rule, it will be further evaluated by NSG
    // rules."
    let t = eval(&scenario(AVNM), &["--from", "attacker", "--to", "vm-erp01", "--port", "22"]);
    assert_eq!(kinds(&t), ["public-ip", "admin-rule", "nsg"], "{t}");
    assert_eq!(t["hops"][1]["rule"], "ruleCollections/high-risk-ports/rules/allow-ssh");
    assert_eq!(t["hops"][2]["rule"], "defaultSecurityRules/DenyAllInBound");
}

#[test]
fn an_undeployed_configuration_changes_nothing_and_deploying_it_does() {
    // "Configurations don't take effect until they're deployed."
    let t = eval(&scenario(AVNM), &["--from", "attacker", "--to", "vm-lab01", "--port", "3389"]);
    assert!(!kinds(&t).contains(&"admin-rule".to_string()), "{t}");
    let dir = TempDir::new("avnm-deploy");
    let text = std::fs::read_to_string(scenario(AVNM)).expect("scenario");
    let deployed = replace_once(&text, "deployed: false", "deployed: true");
    let file = dir.write("deployed.ron", &deployed);
    let t = eval(&file, &["--from", "attacker", "--to", "vm-lab01", "--port", "3389"]);
    assert_eq!(t["hops"][1]["rule"], "ruleCollections/deny-all-rdp/rules/deny-rdp", "{t}");
}

#[test]
fn effective_rules_list_the_admin_rules_before_the_nsgs() {
    let out = nsgsim(&["effective-rules", &scenario(AVNM), "--vm", "vm-erp01"]);
    out.assert_code(0).stdout_has(&[
        "security admin rules",
        "deny-rdp-internet",
        "AlwaysAllow",
        "org-baseline",
    ]);
    let json = nsgsim(&["effective-rules", &scenario(AVNM), "--vm", "vm-erp01", "--format", "json"])
        .assert_code(0)
        .json();
    let admin = json["nics"][0]["securityAdminRules"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = admin.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["always-allow-scanner", "deny-rdp-internet", "allow-ssh"], "{json}");
    assert_eq!(admin[1]["access"], "Deny");
    assert_eq!(admin[1]["sources"][0]["addressPrefixType"], "ServiceTag");
    // vm-lab01's configuration is not deployed: no admin rule applies.
    let lab = nsgsim(&["effective-rules", &scenario(AVNM), "--vm", "vm-lab01", "--format", "json"])
        .assert_code(0)
        .json();
    assert_eq!(lab["nics"][0]["securityAdminRules"], serde_json::json!([]));
}

#[test]
fn lint_reports_overridden_allows_always_allowed_management_ports_and_blocked_jit() {
    let dir = TempDir::new("avnm-lint");
    let text = std::fs::read_to_string(scenario(AVNM)).expect("scenario");
    // The scanner's AlwaysAllow also takes in 3389 from the Internet at large.
    let open = replace_once(&text, r#"sources: ["192.0.2.50"]"#, r#"sources: ["Internet"]"#);
    let file = dir.write("open.ron", &open);
    let out = nsgsim(&["lint", &file, "--at", "2m"]);
    out.assert_code(1).stdout_has(&["AVNM002-always-allow-management-port", "always-allow-scanner"]);
    let out = nsgsim(&["lint", &scenario(AVNM), "--at", "2m"]);
    out.stdout_has(&[
        "AVNM001-nsg-allow-overridden",
        "allow-rdp-anywhere",
        "AVNM003-admin-deny-blocks-jit",
        "port 3389",
    ]);
}

#[test]
fn reach_names_the_admin_rule_that_lets_the_scanner_in() {
    let out = nsgsim(&["reach", &scenario(AVNM), "--to", "vm-erp01", "--format", "json"]);
    let text = out.assert_code(0).stdout.clone();
    assert!(text.contains("always-allow-scanner"), "{text}");
    assert!(!text.contains("allow-rdp-anywhere"), "the NSG's RDP rule is overridden: {text}");
}

#[test]
fn bad_admin_rules_are_positioned_errors() {
    let dir = TempDir::new("avnm-bad");
    let text = std::fs::read_to_string(scenario(AVNM)).expect("scenario");
    let bad = replace_once(
        &text,
        "priority: 10, direction: Inbound, action: Deny,\n                          protocol: Tcp, sources: [\"Internet\"]",
        "priority: 5000, direction: Inbound, action: Deny,\n                          protocol: Tcp, sources: [\"Internet\"]",
    );
    let file = dir.write("bad.ron", &bad);
    nsgsim(&["check", &file]).assert_code(2).stderr_has(&[
        "bad.ron:",
        "priority",
        "5000",
        "outside 1..=4096",
    ]);
}

#[test]
fn import_reads_groups_configurations_and_rules_and_says_deployment_is_assumed() {
    let dir = TempDir::new("avnm-import");
    let input =
        crate::util::root().join("tests/data/import/avnm/avnm-security-admin.json").display().to_string();
    let out = dir.path().join("out.ron").display().to_string();
    let run = nsgsim(&["import", &input, "-o", &out]);
    run.assert_code(0);
    // The deployment assumption and the unmodelled connectivity configuration are said.
    assert!(
        run.stderr.contains("imported as deployed") && run.stderr.contains("model choice"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("connectivityConfigurations"), "{}", run.stderr);
    let ron = std::fs::read_to_string(&out).expect("written");
    assert!(ron.contains(r#"NetworkGroup(name: "ng-prod", vnets: ["vnet-prod"])"#), "{ron}");
    assert!(ron.contains("action: AlwaysAllow") && ron.contains(r#"sources: ["Internet"]"#), "{ron}");
    nsgsim(&["check", &out]).assert_code(0);
    // The imported admin Deny decides before the NSG's allow, and the answer names the caveat.
    let eval =
        nsgsim(&["eval", &out, "--from", "203.0.113.9", "--to", "vm1", "--port", "3389", "--format", "json"]);
    eval.assert_code(0).stderr_has(&["caveat", "securityAdminConfigurations/baseline"]);
    assert_eq!(eval.json()["hops"][1]["rule"], "ruleCollections/high-risk/rules/deny-rdp");
    let scanner =
        nsgsim(&["eval", &out, "--from", "192.0.2.50", "--to", "vm1", "--port", "445", "--format", "json"]);
    assert_eq!(scanner.assert_code(0).json()["verdict"], "Allow");
    // --strict refuses the assumption.
    nsgsim(&["import", &input, "--strict"]).assert_code(2).stderr_has(&["--strict refuses"]);
}

#[test]
fn deploying_replaces_the_managers_configuration_keeps_open_sessions_and_undeploying_undoes_it() {
    // "Configurations don't take effect until they're deployed"; a commit is the manager's goal
    // state and "Only one security configuration can be deployed to a region".
    let out = nsgsim(&["run", &scenario(AVNM)]);
    out.assert_code(0).stdout_has(&[
        "deployed security admin configuration 'lab-lockdown' of network manager 'avnm-contoso' to every VNet of its network groups (nsgsim has no regions: model choice); it replaces 'org-baseline'",
        "warning: connection 'lab-rdp' stays open, but a new connection like it would be denied now: security admin rule 'lab-lockdown/deny-all-rdp/deny-rdp'",
        "PASS expect connection 'lab-rdp': open",
        "removed the deployment of security admin configuration 'lab-lockdown'",
        "PASS expect attacker -> vm-erp01 Tcp port 3389: Allow by NSG 'snet-erp-nsg' rule securityRules/allow-rdp-anywhere",
    ]);
    let json = nsgsim(&["run", &scenario(AVNM), "--format", "json"]).assert_code(0).json();
    let text = json.to_string();
    assert!(text.contains("removed the deployment of security admin configuration 'lab-lockdown'"), "{text}");
}

#[test]
fn a_deployment_step_naming_no_configuration_or_removing_one_not_deployed_says_what_is_valid() {
    let dir = TempDir::new("avnm-deploy-bad");
    let text = std::fs::read_to_string(scenario(AVNM)).expect("scenario");
    let unknown = replace_once(
        &text,
        r#"DeployAdminConfiguration(configuration: "lab-lockdown")"#,
        r#"DeployAdminConfiguration(configuration: "lab-lockdwn")"#,
    );
    let file = dir.write("unknown.ron", &unknown);
    nsgsim(&["check", &file]).assert_code(2).stderr_has(&[
        "unknown.ron:",
        "configuration",
        "unknown security admin configuration 'lab-lockdwn'; valid: org-baseline, lab-lockdown",
    ]);
    let twice = replace_once(
        &text,
        r#"(at: "6m", action: DeployAdminConfiguration(configuration: "org-baseline")),"#,
        r#"(at: "6m", action: UndeployAdminConfiguration(configuration: "org-baseline")),"#,
    );
    let file = dir.write("twice.ron", &twice);
    let out = nsgsim(&["run", &file]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    out.assert_no_panic();
    assert!(
        out.stderr.contains(
            "security admin configuration 'org-baseline' is not deployed; valid: a deployed configuration (none is deployed)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn graph_draws_network_groups_and_the_admin_configurations_applied_to_them() {
    let out = nsgsim(&["graph", &scenario(AVNM)]);
    out.assert_code(0).stdout_has(&[
        "network group ng-production\\nadmin rules of 'org-baseline' (deployed)",
        "network group ng-lab\\nadmin rules of 'lab-lockdown' (not deployed: no effect)",
        "[label=\"member\", style=dashed, color=purple]",
    ]);
    let dir = TempDir::new("avnm-report");
    let html = dir.path().join("report.html").display().to_string();
    nsgsim(&["report", &scenario(AVNM), "--html", &html]).assert_code(0);
    let page = std::fs::read_to_string(&html).expect("written");
    assert!(page.contains(r#"data-group="ng-production" data-admin="org-baseline""#), "{page}");
    assert!(
        page.contains(
            "AVNM network group ng-lab: admin rules of &#39;lab-lockdown&#39; (not deployed: no effect)"
        ),
        "{page}"
    );
}

#[test]
fn a_terraform_plan_imports_the_manager_and_its_deployment_decides_what_is_deployed() {
    // `azurerm_network_manager_deployment` lists the configurations it commits: 'org-baseline'
    // is deployed, 'draft-open-rdp' (an AlwaysAllow of RDP) is not, and nothing is assumed.
    let dir = TempDir::new("avnm-terraform");
    let input = crate::util::root().join("tests/data/terraform/avnm-plan.json").display().to_string();
    let out = dir.path().join("out.ron").display().to_string();
    let run = nsgsim(&["import", &input, "-o", &out]);
    run.assert_code(0).stderr_has(&[
        "azurerm_network_manager_admin_rule: 2 read, 2 imported",
        "azurerm_network_manager_static_member: 1 read, 1 imported",
    ]);
    assert!(!run.stderr.contains("imported as deployed"), "{}", run.stderr);
    let ron = std::fs::read_to_string(&out).expect("written");
    assert!(ron.contains(r#"NetworkGroup(name: "ng-production", vnets: ["vnet-prod"])"#), "{ron}");
    assert!(
        ron.contains(r#"SecurityAdminConfiguration(name: "org-baseline", network_manager: "avnm-contoso", deployed: true"#),
        "{ron}"
    );
    assert!(
        ron.contains(r#"SecurityAdminConfiguration(name: "draft-open-rdp", network_manager: "avnm-contoso", deployed: false"#),
        "{ron}"
    );
    assert!(
        ron.contains(r#"sources: ["Internet"], source_ports: "0-65535", destination_ports: "3389""#),
        "{ron}"
    );
    // The admin hop is in the trace, with only the deployed configuration's inbound rule.
    let t = eval(&out, &["--from", "10.80.1.9", "--to", "vm-app", "--port", "3389"]);
    assert_eq!(kinds(&t)[0], "admin-rule", "{t}");
    let inbound = t["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .find(|h| h["kind"] == "admin-rule" && h["direction"] == "Inbound")
        .expect("an inbound admin hop");
    let detail = inbound["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("(1 inbound rule(s) checked)"), "{detail}");
    assert_eq!(t["verdict"], "Allow", "the undeployed AlwaysAllow does not decide: {t}");
}

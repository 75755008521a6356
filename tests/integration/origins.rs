//! Issue 18's leftover on provenance: `lint` and `diff` say where a finding's rule is defined in
//! the ARM template (or `az`/REST output) it was imported from, as they do for a Terraform block,
//! read from the `origins` map every import writes (one mechanism with SARIF's). On real
//! published templates: Microsoft's quickstart `vm-multiple-ipconfig` (copied with its licence to
//! `tests/data/import/real/`), and, where the corpus is checked out, the quickstart
//! `nsg-create-with-diagnostic-logs`, whose rules a property copy loop makes.

use crate::util::{TempDir, nsgsim, root};

/// The `defined at:` lines of a text report.
fn defined_at(stdout: &str) -> Vec<&str> {
    stdout.lines().filter_map(|l| l.trim_start().strip_prefix("defined at: ")).collect()
}

#[test]
fn lint_of_an_imported_arm_template_says_where_the_rule_is_defined() {
    let dir = TempDir::new("origins-arm");
    let real = root().join("tests/data/import/real");
    let template = real.join("quickstarts-microsoft.compute-vm-multiple-ipconfig.azuredeploy.json");
    let parameters =
        real.join("quickstarts-microsoft.compute-vm-multiple-ipconfig.azuredeploy.parameters.json");
    let out = dir.path().join("out.ron").display().to_string();
    let (template, parameters) = (template.display().to_string(), parameters.display().to_string());
    nsgsim(&["import", &template, "--parameters", &parameters, "-o", &out]).assert_code(0);
    let lint = nsgsim(&["lint", &out]);
    // The quickstart allows SSH from any source to a VM with a public IP.
    lint.assert_code(1).stdout_has(&["error[NSG004-management-port-open]", "securityRules/default-allow-22"]);
    let at = defined_at(&lint.stdout);
    // The rule's `properties` in the template (line 130, column 27), with its JSON path: the
    // place every import records for a rule (the copy-loop test below agrees).
    assert!(
        at.iter().any(|a| a
            .contains("quickstarts-microsoft.compute-vm-multiple-ipconfig.azuredeploy.json:130:27 ")
            && a.contains(".properties.securityRules[0].properties")),
        "{}",
        lint.stdout
    );
    // The same place through the template linted on the fly.
    let direct = nsgsim(&["lint", &template]);
    assert!(
        defined_at(&direct.stdout).iter().any(|a| a.contains("azuredeploy.json:130:27 ")),
        "{}",
        direct.stdout
    );
}

#[test]
#[expect(clippy::print_stderr, reason = "without the corpus the test says it skips")]
fn rules_a_copy_loop_makes_are_defined_at_the_loop_with_their_index() {
    let corpus = root().join("../shared/data/real-world/arm");
    let template =
        corpus.join("quickstarts-microsoft.network-nsg-create-with-diagnostic-logs.azuredeploy.json");
    if !template.is_file() {
        eprintln!("note: {} is not checked out; skipped", template.display());
        return;
    }
    let dir = TempDir::new("origins-copy");
    let out = dir.path().join("out.ron").display().to_string();
    // Two rules through the template's `securityRules` parameter, which its copy loop reads.
    let rules = r#"securityRules=[
        {"name": "deny-rdp", "properties": {"priority": 100, "access": "Deny", "direction": "Inbound", "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "3389"}},
        {"name": "allow-rdp", "properties": {"priority": 200, "access": "Allow", "direction": "Inbound", "protocol": "Tcp", "sourceAddressPrefix": "Internet", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "3389"}}]"#;
    let template = template.display().to_string();
    nsgsim(&["import", &template, "--parameter", "nsgName=nsg-diag", "--parameter", rules, "-o", &out])
        .assert_code(0);
    // Each rule is at the loop's input (`properties`, line 79, column 29 of the template), told
    // apart by its index in the path.
    let written = std::fs::read_to_string(&out).expect("written");
    for (rule, index) in [("deny-rdp", 0), ("allow-rdp", 1)] {
        let line = written
            .lines()
            .find(|l| l.contains(&format!("\"nsg/nsg-diag/rule/{rule}\"")))
            .unwrap_or_else(|| panic!("no origin of {rule} in {written}"));
        assert!(
            line.contains("line: 79, column: 29")
                && line.contains(&format!(
                    "path: \"resources[0].properties.securityRules[{index}].properties\""
                )),
            "{line}"
        );
    }
    // The NSG is associated with nothing, so lint's one finding is about the NSG, defined at its
    // properties in the template.
    let lint = nsgsim(&["lint", &out]);
    lint.assert_code(0).stdout_has(&["info[NSG005-unassociated-nsg] nsg 'nsg-diag'"]);
    assert!(
        defined_at(&lint.stdout)
            .iter()
            .any(|a| a.ends_with("azuredeploy.json:72:21 resources[0].properties")),
        "{}",
        lint.stdout
    );
}

/// Issue 18's leftover: a Terraform import wrote an NSG's and a rule's place twice, as an
/// `origin` field and in the `origins` map. Now only `origins` is written; a scenario in the
/// older shape (`tests/data/import/older-origin.ron`, the committed output of that version with
/// its `origins` map taken out) still loads, says per field how to move to `origins`, and its
/// findings still name the Terraform block.
#[test]
fn a_scenario_with_the_older_origin_field_loads_with_a_warning_and_keeps_its_places() {
    let older = "tests/data/import/older-origin.ron";
    nsgsim(&["check", older]).assert_code(0).stdout_has(&[
        "older-origin.ron:21:221: nsgs[0].rules[1].origin: `origin` is the older shape of import provenance; it is read as the `origins` entry \"nsg/nsg-web/rule/allow-rdp-legacy\"",
        "re-import the source, or move it to `origins:",
    ]);
    let lint = nsgsim(&["lint", older]);
    lint.assert_code(1).stdout_has(&["error[NSG004-management-port-open]", "securityRules/allow-rdp-legacy"]);
    assert!(
        defined_at(&lint.stdout)
            .contains(&"tests/data/live/plan.json:210:13 module.network.azurerm_network_security_group.web"),
        "{}",
        lint.stdout
    );
}

#[test]
fn a_terraform_import_writes_origins_only_and_findings_name_the_block() {
    let dir = TempDir::new("origins-terraform");
    let out = dir.path().join("planned.ron").display().to_string();
    nsgsim(&["import", "tests/data/live/plan.json", "-o", &out]).assert_code(0);
    let written = std::fs::read_to_string(&out).expect("written");
    assert!(!written.contains(" origin: "), "{written}");
    assert!(written.contains("\"nsg/nsg-web\": Origin("), "{written}");
    let lint = nsgsim(&["lint", &out]);
    assert!(
        defined_at(&lint.stdout)
            .iter()
            .any(|a| a.ends_with("plan.json:210:13 module.network.azurerm_network_security_group.web")),
        "{}",
        lint.stdout
    );
}

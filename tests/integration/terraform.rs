//! Issue 18, item 1 and 4, end to end: `terraform show -json` output (a saved plan with child
//! modules, `after_unknown` values linked through `configuration`, a state with `values` and an
//! `azapi_resource` JIT policy) imported through the binary; the Terraform address in every
//! message; exit 1 with the summary for a plan with no azurerm network resource; the fixtures
//! checked against the shapes of the real plans in `../shared` when it exists; and two real plans
//! (Apache-2.0, copied with their notice to `tests/data/terraform/real/`).

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{TempDir, nsgsim, position, root};

fn data(name: &str) -> String {
    root().join("tests/data/terraform").join(name).display().to_string()
}

#[test]
fn a_plan_with_nested_modules_imports_with_its_unknown_ids_linked_through_the_configuration() {
    let dir = TempDir::new("tf-plan");
    let out = dir.path().join("hub.ron").display().to_string();
    let run = nsgsim(&["import", &data("hub-plan.json"), "-o", &out]);
    run.assert_code(0).stderr_has(&[
        "  azurerm_subnet_network_security_group_association: 1 read, 1 imported\n",
        "  azurerm_network_security_group: 2 read, 1 imported, 1 skipped (the plan destroys it)\n",
        "  azurerm_network_security_rule: 1 read, 1 imported\n",
        "  azurerm_lb: 1 read, 0 imported, 1 skipped (not modelled yet; CAN change traffic",
        "  azurerm_resource_group: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)\n",
        "1 skipped resource(s) can or may change traffic",
        // The dynamic address is a labelled placeholder, at the NIC's block.
        "hub-plan.json:181:13: resource_changes[5](azurerm_network_interface.app).change.after.ip_configuration[0]: network interface 'nic-app' IP configuration 'internal' has no privateIPAddress (Dynamic allocation)",
        "resource_changes[8](azurerm_network_security_group.old).change: the plan destroys it",
        "imported 1 vnet(s), 1 nsg(s), 1 vm(s), 0 jit policies",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    // The association's two ids are unknown until the apply: module.hub's outputs name the
    // subnet of module.hub.module.web and the NSG.
    assert!(text.contains(r#"Subnet(name: "snet-web", prefix: "10.10.1.0/24", nsg: "nsg-web")"#), "{text}");
    // The standalone rule joins the NSG it names; the list forms become Azure's lists.
    assert!(
        text.contains(r#"Rule(name: "deny-smb", priority: 200, direction: Inbound, access: Deny"#),
        "{text}"
    );
    assert!(
        text.contains(r#"source: "198.51.100.0/24,203.0.113.7", destination: "10.10.1.0/24", destination_ports: "22,3389""#),
        "{text}"
    );
    assert!(
        text.contains(r#"Nic(name: "nic-app", subnet: "vnet-hub/snet-web", private_ip: "10.10.1.4")"#),
        "{text}"
    );
    assert!(!text.contains("nsg-old"), "a destroyed NSG is not in the result:\n{text}");
    nsgsim(&["check", &out]).assert_code(0);
    // The skipped load balancer is a caveat every command names, by its Terraform address.
    nsgsim(&["lint", &out]).stdout_has(&[
        "2 caveats: azurerm_lb/azurerm_lb.web (",
        "hub-plan.json:218:18)",
        "a placeholder for privateIPAddress of network interface 'nic-app' (",
    ]);
}

#[test]
fn a_state_with_an_azapi_jit_policy_imports_the_policy_through_the_rest_reader() {
    let dir = TempDir::new("tf-state");
    let out = dir.path().join("state.ron").display().to_string();
    nsgsim(&["import", &data("hub-state.json"), "-o", &out]).assert_code(0).stderr_has(&[
        "  azurerm_windows_virtual_machine: 1 read, 1 imported\n",
        "  Microsoft.Security/locations/jitNetworkAccessPolicies: 1 read, 1 imported\n",
        "imported 1 vnet(s), 1 nsg(s), 1 vm(s), 1 jit policy",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains(r#"JitPolicy(name: "default/vm-web", scope: Vm("vm-web")"#), "{text}");
    assert!(
        text.contains(r#"Port(number: 3389, protocol: Tcp, allowed_sources: ["*"], max_duration: "PT3H")"#),
        "{text}"
    );
    assert!(text.contains(r#"Vm(name: "vm-web", os: Windows"#), "{text}");
    nsgsim(&["check", &out]).assert_code(0);
}

#[test]
fn a_plan_with_no_azurerm_network_resource_exits_1_with_the_summary() {
    let dir = TempDir::new("tf-empty");
    let out = dir.path().join("none.ron");
    let run = nsgsim(&["import", &data("no-network.plan.json"), "-o", &out.display().to_string()]);
    run.assert_code(1).stderr_has(&[
        "  azurerm_resource_group: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)\n",
        "  azurerm_storage_account: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)\n",
        "  random_string: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)\n",
        "error: the input yields no virtual network and no network security group",
    ]);
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_bad_value_is_reported_at_its_place_with_the_json_path_and_the_terraform_address() {
    let text = std::fs::read_to_string(data("hub-plan.json")).expect("fixture");
    let bad = text.replacen(r#""priority": 100,"#, r#""priority": 5000,"#, 1);
    let (line, column) = position(&bad, "5000", 0);
    let dir = TempDir::new("tf-bad");
    let file = dir.write("bad.json", &bad);
    let run = nsgsim(&["import", &file, "-o", &dir.path().join("x.ron").display().to_string()]);
    run.assert_code(2).stderr_has(&[&format!(
        "{file}:{line}:{column}: resource_changes[2](module.hub.azurerm_network_security_group.web).change.after.security_rule[0].priority: '5000': security rule 'allow-https': a rule's priority is an integer 100-4096"
    )]);
}

#[test]
fn real_plans_copied_with_their_notice_import_or_fail_at_the_terraform_address() {
    let real = |name: &str| data(&format!("real/{name}"));
    let dir = TempDir::new("tf-real");
    let out = dir.path().join("checkov.ron").display().to_string();
    nsgsim(&["import", &real("checkov.plan_with_resource_reference.tfplan_extra_ref.json"), "-o", &out])
        .assert_code(0)
        .stderr_has(&[
            "  azurerm_network_security_group: 2 read, 2 imported\n",
            "  azurerm_network_security_rule: 1 read, 1 imported\n",
        ]);
    nsgsim(&["check", &out]).assert_code(0);
    // regula's input for its rule test holds a rule Azure refuses ('*' beside an address).
    let file = real("regula.azurerm-network-security_group_no_inbound_22_infra.json");
    nsgsim(&["import", &file]).assert_code(2).stderr_has(&[&format!(
        "{file}:632:13: resource_changes[4](azurerm_network_security_rule.invalidrule1).change.after.source_address_prefixes[0]: '*'"
    )]);
}

/// The shape of a Terraform JSON document: the paths of its members, array positions and the
/// contents of resource values (which depend on the resource type) left out, and modules nested
/// at any depth counted as one level (Terraform's `child_modules` is recursive).
fn shape(value: &serde_json::Value, path: &str, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                let p = format!("{path}.{k}").replace("child_modules[].child_modules", "child_modules");
                out.insert(p.clone());
                if !matches!(
                    k.as_str(),
                    "after"
                        | "before"
                        | "after_unknown"
                        | "values"
                        | "expressions"
                        | "sensitive_values"
                        | "after_sensitive"
                        | "before_sensitive"
                        | "module_calls"
                        | "outputs"
                        | "variables"
                        | "provider_config"
                        | "relevant_attributes"
                        | "prior_state"
                ) {
                    shape(v, &p, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                shape(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_fixtures_have_the_shape_of_the_real_plans() {
    let corpus = root().join("../shared/data/real-world/terraform");
    if !corpus.is_dir() {
        return;
    }
    let mut real = BTreeSet::new();
    for entry in std::fs::read_dir(&corpus).expect("readable").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&path).expect("readable");
            let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            shape(&value, "", &mut real);
        }
    }
    // A state as `terraform show -json` prints it has the plan's `planned_values` shape under
    // `values`.
    let as_plan: BTreeSet<String> = real
        .iter()
        .filter_map(|p| p.strip_prefix(".planned_values").map(|rest| format!(".values{rest}")))
        .collect();
    real.extend(as_plan);
    for fixture in ["hub-plan.json", "hub-state.json", "no-network.plan.json"] {
        let text = std::fs::read_to_string(Path::new(&data(fixture))).expect("fixture");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let mut mine = BTreeSet::new();
        shape(&value, "", &mut mine);
        let unknown: Vec<&String> = mine.difference(&real).collect();
        assert!(unknown.is_empty(), "{fixture}: members no real plan has: {unknown:?}");
    }
}

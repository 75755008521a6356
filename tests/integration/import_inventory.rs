//! Issue 17, stage 3, end to end through the binary: the wrong answers (d) to (g) and the
//! importer's side of (a), on the files in `tests/data/import/r17/`; each imported scenario is
//! then asked the question the wrong answer got wrong.

use crate::util::{TempDir, nsgsim, root};

/// A file of `tests/data/import/r17/`.
fn r17(name: &str) -> String {
    root().join("tests/data/import/r17").join(name).display().to_string()
}

/// Imports `files` into `dir`/out.ron (exit 0) and returns the path and the stderr.
fn import(dir: &TempDir, files: &[String]) -> (String, String) {
    let out = dir.path().join("out.ron").display().to_string();
    let mut args = vec!["import".to_string()];
    args.extend(files.iter().cloned());
    args.extend(["-o".into(), out.clone()]);
    let run = nsgsim(&args);
    run.assert_code(0);
    nsgsim(&["check", &out]).assert_code(0);
    (out, run.stderr.clone())
}

/// Wrong answer (d): a public IP with no SKU and Dynamic allocation became Standard (closed
/// unless an NSG allows); Azure makes it Basic, open where no NSG denies. The dynamic private IP
/// is allocated as Azure does (the first host after the four reserved) and labelled a placeholder.
#[test]
fn r17_d_a_dynamic_public_ip_without_sku_is_basic_and_open() {
    let dir = TempDir::new("r17-d");
    let (out, stderr) = import(&dir, &[r17("pip-no-sku.json")]);
    assert!(stderr.contains("public IP 'web-pip': no sku and Dynamic allocation (API version 2020-05-01): only a Basic public IP can be dynamic"), "{stderr}");
    assert!(
        stderr.contains(
            "nsgsim assumes 10.0.1.4, the first free one after the four Azure reserves, a placeholder"
        ),
        "{stderr}"
    );
    let ron = std::fs::read_to_string(&out).expect("written");
    assert!(ron.contains(r#"sku: Basic"#), "{ron}");
    // No NSG anywhere: a Basic public IP is open, and eval says so (naming the placeholders).
    nsgsim(&["eval", &out, "--from", "198.51.100.1", "--to", "web-pip", "--port", "22", "--expect", "allow"])
        .assert_code(0)
        .stderr_has(&["caveat"]);
    // --strict refuses the placeholders.
    nsgsim(&["import", &r17("pip-no-sku.json"), "--strict"]).assert_code(2).stderr_has(&["--strict refuses"]);
}

/// Wrong answer (f): a Windows image given through parameters was imported as Linux.
#[test]
fn r17_f_a_windows_image_through_parameters_is_windows() {
    let dir = TempDir::new("r17-f");
    let (out, _) = import(&dir, &[r17("windows-through-parameter.json")]);
    let ron = std::fs::read_to_string(&out).expect("written");
    assert!(ron.contains(r#"Vm(name: "win", os: Windows"#), "{ron}");
}

/// Wrong answer (g): an NSG holding Defender's JIT rules, imported with its JIT policy, got a
/// second set of deny rules; the open request's grant now ends at its endTimeUtc.
#[test]
fn r17_g_defender_rules_are_not_written_twice_and_the_open_grant_ends_on_time() {
    let dir = TempDir::new("r17-g");
    let (out, stderr) = import(&dir, &[r17("jit-export.json")]);
    assert!(stderr.contains("is Defender's JIT deny rule for VM 'vm1' port 22"), "{stderr}");
    let ron = std::fs::read_to_string(&out).expect("written");
    assert!(ron.contains(r#"Grant(vm: "vm1", port: 22, source: "203.0.113.5", requestor: "barbara@contoso.com", ends_at: "2025-01-06T10:00:00Z")"#), "{ron}");
    // One deny rule per port (Defender's for 22 kept, 3389's written), and the grant's allow
    // rule in place at the start (09:00) and deleted at its end (10:00).
    let grant = "SecurityCenter-JITRule-1105480617-9EF6964FE766478B9EC568B32FB82045";
    let at_start = nsgsim(&["effective-rules", &out, "--vm", "vm1"]);
    at_start.assert_code(0);
    assert_eq!(at_start.stdout.matches("SecurityCenter-JITRule_-").count(), 2, "{}", at_start.stdout);
    assert_eq!(
        at_start.stdout.matches("SecurityCenter-JITRule_-1105480617_").count(),
        1,
        "{}",
        at_start.stdout
    );
    assert!(at_start.stdout.contains(grant), "{}", at_start.stdout);
    let at_end = nsgsim(&["effective-rules", &out, "--vm", "vm1", "--at", "1h"]);
    at_end.assert_code(0);
    assert!(!at_end.stdout.contains(grant), "{}", at_end.stdout);
    assert_eq!(at_end.stdout.matches("SecurityCenter-JITRule_-").count(), 2, "the deny rules stay");
}

/// Wrong answer (e): Azure Firewall and route tables were not imported at all; a workload
/// subnet routed to the firewall now gets the firewall's verdicts.
#[test]
fn r17_e_firewall_and_route_tables_are_imported_and_decide() {
    let dir = TempDir::new("r17-e");
    let (out, stderr) = import(&dir, &[r17("firewall-routes.json")]);
    assert!(stderr.contains("Microsoft.Network/azureFirewalls: 1 read, 1 imported"), "{stderr}");
    assert!(stderr.contains("Microsoft.Network/routeTables: 1 read, 1 imported"), "{stderr}");
    nsgsim(&["eval", &out, "--from", "app", "--to", "10.9.0.1", "--port", "443"])
        .stdout_has(&["(Azure Firewall 'fw')", "Azure Firewall 'fw': rule classic/net/web allows Tcp"]);
    nsgsim(&["eval", &out, "--from", "app", "--to", "10.9.0.1", "--port", "22"]).stdout_has(&[
        "Azure Firewall 'fw': no network or application rule matches",
        "the firewall denies by default",
    ]);
    // What the model cannot express (an FQDN network rule, application rules) is named.
    nsgsim(&["lint", &out]).stderr_has(&["caveat"]);
}

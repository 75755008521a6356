//! Issue 19 item 2, end to end: Azure Firewall's SNAT private IP address ranges. Network-rule
//! traffic to a destination outside the ranges reaches the next NSG from the firewall's private
//! address, so the spoke's NSG decides on that address and not the client's; the ranges come from
//! the scenario, from a classic firewall's `Network.SNAT.PrivateRanges` and from a Firewall
//! Policy's `snat` (ARM and Terraform).

use crate::util::{TempDir, nsgsim, replace_once, root};

fn data(name: &str) -> String {
    root().join("tests/data/firewall-snat").join(name).display().to_string()
}

/// `eval --json`'s verdict and the firewall hop's detail.
fn verdict_and_firewall_hop(scenario: &str, to: &str) -> (String, String) {
    let run =
        nsgsim(&["eval", scenario, "--from", "vm-app1", "--to", to, "--port", "443", "--format", "json"]);
    let json = run.assert_code(0).json();
    let verdict = json["verdict"].as_str().unwrap_or_default().to_string();
    let hops = json["hops"].as_array().cloned().unwrap_or_default();
    let firewall: Vec<String> = hops
        .iter()
        .filter(|h| h["kind"] == "firewall")
        .map(|h| h["detail"].as_str().unwrap_or_default().to_string())
        .collect();
    (verdict, firewall.join(" | "))
}

/// Microsoft's case: the destination is in a registered (public) range the organisation uses
/// privately. By default the firewall SNATs, the spoke NSG sees 10.0.1.4 and its deny rule
/// matches; listing the range in `private_ranges` keeps the client's address, which the NSG admits.
#[test]
fn a_registered_range_is_snat_ed_unless_it_is_one_of_the_private_ranges() {
    let scenario = data("registered-range.ron");
    let (verdict, hop) = verdict_and_firewall_hop(&scenario, "vm-reg");
    assert_eq!(verdict, "Deny", "{hop}");
    assert!(
        hop.contains("SNAT to 10.0.1.4, the firewall's private address in AzureFirewallSubnet: destination 198.51.100.4 is not in the private ranges [IANAPrivateRanges]"),
        "{hop}"
    );
    nsgsim(&["eval", &scenario, "--from", "vm-app1", "--to", "vm-reg", "--port", "443"])
        .stdout_has(&["securityRules/deny-https denies"]);

    let dir = TempDir::new("fw-snat");
    let text = std::fs::read_to_string(&scenario).expect("read");
    let listed = dir.write(
        "listed.ron",
        &replace_once(
            &text,
            r#"public_ip: "fw-pip","#,
            r#"public_ip: "fw-pip", private_ranges: ["IANAPrivateRanges", "198.51.100.0/24"],"#,
        ),
    );
    let (verdict, hop) = verdict_and_firewall_hop(&listed, "vm-reg");
    assert_eq!(verdict, "Allow", "{hop}");
    assert!(
        hop.contains("no SNAT: destination 198.51.100.4 is in the private ranges [IANAPrivateRanges, 198.51.100.0/24], so the source is kept"),
        "{hop}"
    );
    // The Internet still leaves through the public IP.
    let (verdict, hop) = verdict_and_firewall_hop(&listed, "203.0.113.9");
    assert_eq!(verdict, "Allow", "{hop}");
    assert!(hop.contains("SNAT to its public IP 20.30.0.10 for the Internet"), "{hop}");

    // "use 0.0.0.0/0 as your private IP address range. With this configuration, Azure Firewall
    // can't route traffic directly to the Internet."
    let never = dir.write(
        "never.ron",
        &replace_once(
            &text,
            r#"public_ip: "fw-pip","#,
            r#"public_ip: "fw-pip", private_ranges: ["0.0.0.0/0"],"#,
        ),
    );
    assert_eq!(verdict_and_firewall_hop(&never, "vm-reg").0, "Allow", "never SNAT keeps the source");
    let (verdict, hop) = verdict_and_firewall_hop(&never, "203.0.113.9");
    assert_eq!(verdict, "Deny", "{hop}");
    assert!(hop.contains("can't route traffic directly to the Internet"), "{hop}");

    // An entry that is not a range is a positioned error saying what is valid.
    let bad = dir.write(
        "bad.ron",
        &replace_once(
            &text,
            r#"public_ip: "fw-pip","#,
            r#"public_ip: "fw-pip", private_ranges: ["RFC1918"],"#,
        ),
    );
    nsgsim(&["check", &bad]).assert_code(2).stderr_has(&[
        "bad.ron:",
        "firewalls[0].private_ranges[0]: expected an address",
        "IANAPrivateRanges, an address such as 192.168.1.10, or a prefix such as 192.168.1.0/24",
    ]);
}

/// A classic firewall's `additionalProperties`, written as Microsoft's page shows
/// (`"IANAPrivateRanges , IPRange1, IPRange2"`), and a Firewall Policy's `snat` import as
/// `private_ranges`; auto-learn is a caveat every command names.
#[test]
fn arm_templates_import_the_classic_and_the_policy_private_ranges() {
    let dir = TempDir::new("fw-snat-arm");
    let classic = dir.path().join("classic.ron").display().to_string();
    nsgsim(&["import", &data("classic-firewall.json"), "-o", &classic]).assert_code(0);
    let text = std::fs::read_to_string(&classic).expect("written");
    assert!(text.contains(r#"private_ranges: ["IANAPrivateRanges", "198.51.100.0/24"],"#), "{text}");
    nsgsim(&["check", &classic]).assert_code(0);

    let policy = dir.path().join("policy.ron").display().to_string();
    nsgsim(&["import", &data("firewall-policy.json"), "-o", &policy]).assert_code(0).stderr_has(&[
        "snat.autoLearnPrivateRanges: firewall policy 'hub-policy' learns SNAT private ranges",
    ]);
    let text = std::fs::read_to_string(&policy).expect("written");
    assert!(
        text.contains("private_ranges: [\"IANAPrivateRanges\", \"198.51.100.0/24\"],\n            auto_learn_private_ranges: true,"),
        "{text}"
    );
    nsgsim(&["lint", &policy]).stdout_has(&["hub-policy snat.autoLearnPrivateRanges"]);

    // A bad entry in Azure's comma-separated string is an error at its position.
    let template = std::fs::read_to_string(data("classic-firewall.json")).expect("read");
    let bad = dir.write("bad.json", &replace_once(&template, "198.51.100.0/24", "198.51.100.7/24"));
    nsgsim(&["import", &bad, "-o", &dir.path().join("bad.ron").display().to_string()])
        .assert_code(2)
        .stderr_has(&[
            "bad.json:",
            "additionalProperties.Network.SNAT.PrivateRanges: '198.51.100.7/24': not a SNAT private range",
            "the network is 198.51.100.0/24",
        ]);
}

/// Terraform: `azurerm_firewall`'s `private_ip_ranges` and `azurerm_firewall_policy`'s
/// `private_ip_ranges` (with `auto_learn_private_ranges_enabled` false: no caveat) reach the
/// scenario, and the policy's ranges apply to the firewall that uses it.
#[test]
fn terraform_state_imports_the_firewall_and_the_policy_private_ranges() {
    let dir = TempDir::new("fw-snat-tf");
    let out = dir.path().join("tf.ron").display().to_string();
    let run = nsgsim(&["import", &data("terraform-state.json"), "-o", &out]);
    run.assert_code(0);
    assert!(!run.stderr.contains("private_ip_ranges"), "read, never reported unread:\n{}", run.stderr);
    assert!(!run.stderr.contains("autoLearnPrivateRanges"), "auto-learn is off:\n{}", run.stderr);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.contains("Firewall(name: \"fw-a\", vnet: \"vnet-a\", private_ip: \"10.0.1.4\", mode: Classic,\n            private_ranges: [\"IANAPrivateRanges\", \"198.51.100.0/24\"],"),
        "{text}"
    );
    assert!(
        text.contains("Firewall(name: \"fw-b\", vnet: \"vnet-b\", private_ip: \"10.1.1.4\", mode: Policy,\n            private_ranges: [\"0.0.0.0/0\"],"),
        "{text}"
    );
    nsgsim(&["check", &out]).assert_code(0);
}

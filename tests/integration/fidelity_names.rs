//! Issue 19 item 3: Azure's names are case-insensitive ("Naming rules and restrictions for Azure
//! resources": "Resource names are case-insensitive unless noted in the valid characters
//! column"). Every name a user writes, on the command line or in a scenario, finds the resource
//! in any case, outputs print the definition's spelling, and two definitions that differ only in
//! case are refused as one name defined twice.

use crate::util::{TempDir, nsgsim, replace_once, scenario};

/// The command line names a VM, an NSG rule's spelling of Microsoft's articles, and an endpoint in
/// other cases than the scenario: the answer is the same and is printed in the scenario's spelling.
#[test]
fn command_line_names_match_in_any_case_and_print_azures_spelling() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let out =
        nsgsim(&["eval", &file, "--from", "VM-APP", "--to", "Vm-Web", "--port", "22", "--expect", "deny"]);
    out.assert_code(0).stdout_has(&["vm-app -> vm-web", "'web-nic-nsg'"]);
    let out = nsgsim(&["effective-rules", &file, "--vm", "VM-WEB"]);
    out.assert_code(0).stdout_has(&["vm-web", "DenyAllInBound"]);
    let out = nsgsim(&["reach", &file, "--to", "VM-WEB", "--port", "22"]);
    out.assert_code(0).stdout_has(&["who can reach vm 'vm-web'"]);
}

/// Microsoft's articles write `DenyAllInbound`, `AllowVNetInBound` and `AllowInternetOutbound`;
/// the API `DenyAllInBound`, `AllowVnetInBound`, `AllowInternetOutBound`. Expectations written as
/// the articles do pass, and the scenario's own names match in any case.
#[test]
fn expectations_in_microsofts_spelling_pass() {
    let dir = TempDir::new("names");
    let text = std::fs::read_to_string(scenario("01-nsg-evaluation-order.ron")).expect("scenario");
    let start = text.find("timeline: [").expect("a timeline");
    let cases = r#"timeline: [
        (at: "0", expect: Flow(from: "VM-APP", to: "vm-web", port: 22, verdict: Deny, nsg: "WEB-NIC-NSG", rule: "Deny-SSH")),
        (at: "0", expect: Flow(from: "VM-APP", to: "vm-web2", port: 9000, verdict: Allow, rule: "AllowVNetInBound")),
        (at: "0", expect: Flow(from: "vm-web2", to: "203.0.113.50", port: 443, verdict: Allow, rule: "AllowInternetOutbound")),
        (at: "0", expect: Flow(from: "203.0.113.50", to: "VM-WEB-PIP", port: 8080, verdict: Deny, rule: "DenyAllInbound")),
    ],
)
"#;
    let body = format!("{}{cases}", &text[..start]);
    let file = dir.write("microsoft-spelling.ron", &body);
    let out = nsgsim(&["run", &file]);
    out.assert_code(0).stdout_has(&["4 passed, 0 failed", "vm-app -> vm-web Tcp port 22"]);
}

/// Azure treats `web-nic-nsg` and `WEB-NIC-NSG` as one resource: a scenario that defines both is
/// refused at the second, with its position.
#[test]
fn names_that_differ_only_in_case_are_one_name_defined_twice() {
    let dir = TempDir::new("names-dup");
    let text = std::fs::read_to_string(scenario("01-nsg-evaluation-order.ron")).expect("scenario");
    let twice = replace_once(&text, r#"name: "app-subnet-nsg","#, r#"name: "WEB-NIC-NSG","#);
    let twice = twice.replace(r#"nsg: "app-subnet-nsg""#, r#"nsg: "web-subnet-nsg""#);
    let file = dir.write("dup.ron", &twice);
    let out = nsgsim(&["check", &file]);
    out.assert_code(2).stderr_has(&["WEB-NIC-NSG", "dup.ron:"]);
}

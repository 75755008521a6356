//! `nsgsim replay`: real-shaped Azure flow logs (NSG flow logs versions 1 and 2, a virtual network
//! flow log) and a CSV replayed against `scenarios/01-nsg-evaluation-order.ron`, end to end, on the
//! fixtures in `tests/data/flowlogs/`.

use serde_json::Value;

use crate::util::{TempDir, array, nsgsim, root, scenario, string};

const SCENARIO: &str = "01-nsg-evaluation-order.ron";

fn log(name: &str) -> String {
    let path = root().join("tests/data/flowlogs").join(name);
    assert!(path.is_file(), "no fixture {}", path.display());
    path.display().to_string()
}

/// `nsgsim replay SCENARIO FILES... EXTRA...`
fn replay(files: &[&str], extra: &[&str]) -> crate::util::Output {
    let mut args: Vec<String> = vec!["replay".into(), scenario(SCENARIO)];
    args.extend(files.iter().map(|f| log(f)));
    args.extend(extra.iter().map(|s| s.to_string()));
    nsgsim(&args)
}

/// The flows counted for `rule` of `nsg` in `direction`, from the JSON report.
fn flows_of(json: &Value, nsg: &str, direction: &str, rule: &str) -> u64 {
    array(json, "rules")
        .iter()
        .find(|r| string(r, "nsg") == nsg && string(r, "direction") == direction && string(r, "rule") == rule)
        .and_then(|r| r["flows"].as_u64())
        .unwrap_or(0)
}

#[test]
fn version_1_log_agrees_and_counts_flows_per_rule() {
    let out = replay(&["nsg-v1-web-nic.json"], &["--at", "0", "--format", "json"]);
    out.assert_code(0);
    let json = out.json();
    assert_eq!(json["agrees"], true);
    assert_eq!(json["compared"], 4);
    assert_eq!(json["evaluated"], 4);
    assert_eq!(string(&array(&json, "inputs")[0], "format"), "NSG flow log version 1");
    assert_eq!(flows_of(&json, "web-nic-nsg", "Inbound", "securityRules/allow-https"), 2);
    assert_eq!(flows_of(&json, "web-nic-nsg", "Inbound", "securityRules/deny-ssh"), 1);
    assert_eq!(flows_of(&json, "web-nic-nsg", "Outbound", "securityRules/deny-smtp-out"), 1);
    // The subnet NSG allowed the same inbound flows before the NIC NSG decided.
    assert_eq!(flows_of(&json, "web-subnet-nsg", "Inbound", "securityRules/allow-ssh-admins"), 1);
    assert_eq!(json["azure_verdicts"]["Inbound"]["allowed"], 2);
    assert_eq!(json["azure_verdicts"]["Inbound"]["denied"], 1);
}

#[test]
fn version_2_log_counts_each_connection_once_and_lists_unused_rules() {
    let out = replay(&["nsg-v2-web-subnet.json"], &["--at", "0", "--format", "json"]);
    out.assert_code(0);
    let json = out.json();
    // Five tuples: the B, C and E of one outbound connection count as one flow.
    assert_eq!((json["records"].as_u64(), json["flows"].as_u64()), (Some(5), Some(3)));
    assert_eq!(json["dropped_records"], 2);
    assert_eq!(flows_of(&json, "web-subnet-nsg", "Inbound", "defaultSecurityRules/DenyAllInBound"), 2);
    assert_eq!(
        flows_of(&json, "web-subnet-nsg", "Outbound", "defaultSecurityRules/AllowInternetOutBound"),
        1
    );
    let unused: Vec<String> = array(&json, "unused_rules")
        .iter()
        .map(|r| format!("{} {} {}", string(r, "nsg"), string(r, "direction"), string(r, "rule")))
        .collect();
    assert!(
        unused.contains(&"web-subnet-nsg Inbound securityRules/allow-ssh-admins".to_string()),
        "{unused:?}"
    );
    assert!(unused.contains(&"web-nic-nsg Outbound securityRules/deny-smtp-out".to_string()), "{unused:?}");
}

#[test]
fn virtual_network_flow_log_agrees_in_text_output() {
    replay(&["vnet-flowlog.json"], &["--at", "0"]).assert_code(0).stdout_has(&[
        "input  ",
        "virtual network flow log",
        "flows  4 (1 record of connections already counted dropped",
        "app-subnet-nsg (Inbound)",
        "securityRules/allow-web-to-app",
        "securityRules/deny-vnet-in",
        "agreement: nsgsim agrees on all 4 compared flows",
    ]);
}

#[test]
fn csv_rows_are_checked_against_their_expected_verdicts_at_their_own_offsets() {
    // The last row is at 10m, after the timeline removes web-subnet-nsg's allow-https.
    let out = replay(&["flows.csv"], &["--at", "0", "--format", "json"]);
    out.assert_code(0);
    let json = out.json();
    assert_eq!(json["compared"], 5);
    assert_eq!(flows_of(&json, "web-subnet-nsg", "Inbound", "defaultSecurityRules/DenyAllInBound"), 1);
}

#[test]
fn a_disagreement_exits_1_and_names_the_flow_and_both_rules() {
    let out = replay(&["disagree-v2.json"], &["--at", "0"]);
    out.assert_code(1).stdout_has(&[
        "disagreements: 1 of 2 compared flows",
        "disagree-v2.json: records[0].properties.flows[1].flows[0].flowTuples[0]",
        "Tcp 203.0.113.10:50200 -> 10.0.1.4:22 Inbound",
        "Azure:  Allow by web-nic-nsg securityRules/allow-ssh-ops (logged as UserRule_allow-ssh-ops)",
        "nsgsim: Deny by web-nic-nsg securityRules/deny-ssh",
    ]);
    let json = replay(&["disagree-v2.json"], &["--at", "0", "--format", "json"]);
    json.assert_code(1);
    let json = json.json();
    assert_eq!(json["agrees"], false);
    let d = &array(&json, "disagreements")[0];
    assert_eq!(string(&d["flow"], "src"), "203.0.113.10");
    assert_eq!(d["flow"]["dst_port"], 22);
    assert_eq!(string(&d["reference"], "rule"), "securityRules/allow-ssh-ops");
    assert_eq!(string(&d["nsgsim"], "rule"), "securityRules/deny-ssh");
    assert_eq!(string(&d["nsgsim"], "access"), "Deny");
}

#[test]
fn records_are_placed_on_the_timeline_by_their_own_time_with_log_start() {
    // At 09:12 the timeline has removed web-subnet-nsg's allow-https (at 10m): Azure's log of a
    // denied HTTPS attempt then agrees; evaluated at +0 instead, nsgsim would allow it.
    let dir = TempDir::new("replay-log-start");
    let text = std::fs::read_to_string(log("nsg-v2-web-subnet.json")).expect("fixture");
    let text =
        text.replace("1736154005,198.18.0.1,10.0.1.4,50300,22", "1736154720,198.18.0.1,10.0.1.4,50300,443");
    let file = dir.write("late.json", &text);
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = vec!["replay".into(), scenario(SCENARIO), file.clone()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    nsgsim(&args(&["--log-start", "scenario"])).assert_code(0);
    nsgsim(&args(&["--at", "0"])).assert_code(1).stdout_has(&["50300 -> 10.0.1.4:443"]);
}

#[test]
fn addresses_outside_the_scenario_are_reported_not_compared() {
    let dir = TempDir::new("replay-unknown");
    let csv = dir.write(
        "unknown.csv",
        "src,dst,src_port,dst_port,protocol,expected\n172.16.0.1,172.16.0.2,1000,443,tcp,allow\n198.18.0.1,10.0.1.4,50000,443,tcp,allow\n",
    );
    let out = nsgsim(&["replay", &scenario(SCENARIO), &csv, "--at", "0", "--format", "json"]);
    out.assert_code(0);
    let json = out.json();
    assert_eq!((json["unmapped_count"].as_u64(), json["compared"].as_u64()), (Some(1), Some(1)));
    let unknown: Vec<&str> = array(&json, "unknown_addresses").iter().map(|a| string(a, "address")).collect();
    assert_eq!(unknown, vec!["172.16.0.1", "172.16.0.2"]);
    assert!(string(&array(&json, "unmapped")[0], "reason").contains("neither 172.16.0.1 nor 172.16.0.2"));
}

#[test]
fn malformed_inputs_exit_2_with_file_position_value_and_what_is_valid() {
    let dir = TempDir::new("replay-malformed");
    let text = std::fs::read_to_string(log("nsg-v1-web-nic.json")).expect("fixture");
    let bad = dir.write("bad-protocol.json", &text.replace("50200,22,T,I,D", "50200,22,X,I,D"));
    nsgsim(&["replay", &scenario(SCENARIO), &bad]).assert_code(2).stderr_has(&[
        "bad-protocol.json:30:19: records[0].properties.flows[1].flows[0].flowTuples[0]: field 6 (protocol) 'X': valid: T (TCP) or U (UDP)",
    ]);
    let truncated = dir.write("truncated.json", &text[..text.len() / 2]);
    nsgsim(&["replay", &scenario(SCENARIO), &truncated])
        .assert_code(2)
        .stderr_has(&["truncated.json:", "not valid JSON"]);
    let csv = dir.write("bad.csv", "src,dst,src_port,dst_port,protocol\n10.0.1.4,10.0.2.999,1,2,tcp\n");
    nsgsim(&["replay", &scenario(SCENARIO), &csv])
        .assert_code(2)
        .stderr_has(&["bad.csv:2:10: dst '10.0.2.999': valid: an IPv4 or IPv6 address"]);
    nsgsim(&["replay", &scenario(SCENARIO), &dir.path().join("missing.json").display().to_string()])
        .assert_code(2)
        .stderr_has(&["missing.json: cannot read the file"]);
}

/// A flow log that is JSON but has a wrong field (found after parsing) is placed at the field's
/// line and column, like a syntax error, and keeps its JSON path; exit 2.
#[test]
fn malformed_flow_log_fields_exit_2_at_their_line_and_column() {
    let dir = TempDir::new("replay-fields");
    let text = std::fs::read_to_string(log("nsg-v1-web-nic.json")).expect("fixture");
    let version = dir.write("bad-version.json", &text.replace("\"Version\": 1,", "\"Version\": \"one\","));
    nsgsim(&["replay", &scenario(SCENARIO), &version])
        .assert_code(2)
        .stderr_has(&["bad-version.json:10:20: records[0].properties.Version: \"one\": valid: 1 or 2\n"]);
    // A missing field is placed at the object that lacks it.
    let no_rule = dir.write("no-rule.json", &text.replace("\"rule\": \"UserRule_deny-ssh\",", ""));
    nsgsim(&["replay", &scenario(SCENARIO), &no_rule]).assert_code(2).stderr_has(&[
        "no-rule.json:24:11: records[0].properties.flows[1].rule: missing; a flow log has rule here",
    ]);
    let not_array = dir.write(
        "not-array.json",
        &text.replacen("\"flowTuples\": [", "\"flowTuples\": {\"x\": [", 1).replacen("]", "]}", 1),
    );
    nsgsim(&["replay", &scenario(SCENARIO), &not_array])
        .assert_code(2)
        .stderr_has(&["not-array.json:17:31: records[0].properties.flows[0].flows[0].flowTuples: {\"x\":"]);
}

#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let files = [
        "nsg-v1-web-nic.json",
        "nsg-v2-web-subnet.json",
        "vnet-flowlog.json",
        "flows.csv",
        "disagree-v2.json",
    ];
    for format in ["text", "json"] {
        let one = replay(&files, &["--at", "0", "--threads", "1", "--format", format]);
        let two = replay(&files, &["--at", "0", "--threads", "2", "--format", format]);
        one.assert_code(1);
        two.assert_code(1);
        assert_eq!(one.stdout, two.stdout, "--threads 1 and --threads 2 differ ({format})");
    }
}

#[test]
fn a_flow_denied_before_the_logging_nsg_is_compared_with_that_nsg_alone() {
    // Azure logged SSH from the Internet as denied by web-nic-nsg's deny-ssh; in nsgsim the
    // subnet NSG's DenyAllInBound stops it first. web-nic-nsg alone denies it with deny-ssh, so
    // nsgsim agrees, and says how it found that.
    let dir = TempDir::new("replay-denied-before");
    let text = std::fs::read_to_string(log("nsg-v1-web-nic.json")).expect("fixture");
    let text = text.replace("203.0.113.10,10.0.1.4,50200,22,T,I,D", "198.18.0.1,10.0.1.4,50200,22,T,I,D");
    let file = dir.write("denied-earlier.json", &text);
    let out = nsgsim(&["replay", &scenario(SCENARIO), &file, "--at", "0", "--format", "json"]);
    out.assert_code(0);
    let json = out.json();
    assert_eq!(json["compared"], 4);
    // Counted at the subnet NSG that denied it on the path, and at web-nic-nsg evaluated alone.
    assert_eq!(flows_of(&json, "web-subnet-nsg", "Inbound", "defaultSecurityRules/DenyAllInBound"), 1);
    assert_eq!(flows_of(&json, "web-nic-nsg", "Inbound", "securityRules/deny-ssh"), 1);
    // Logged as allowed there instead: nsgsim disagrees and explains why.
    let allowed = dir.write(
        "allowed-there.json",
        &text.replace("198.18.0.1,10.0.1.4,50200,22,T,I,D", "198.18.0.1,10.0.1.4,50200,22,T,I,A"),
    );
    let out = nsgsim(&["replay", &scenario(SCENARIO), &allowed, "--at", "0"]);
    out.assert_code(1).stdout_has(&["note:   the flow is denied before it reaches NSG 'web-nic-nsg'"]);
}

#[test]
fn a_vnet_flow_log_is_compared_at_the_nsgs_of_the_logging_nic() {
    // SSH from the admin range passes web-subnet-nsg (allow-ssh-admins) and dies at web-nic-nsg
    // (deny-ssh). A VNet flow log names neither NSG (aclID is a GUID): deny-ssh agrees; a rule
    // that is at neither level does not.
    let dir = TempDir::new("replay-vnet-acl");
    let text = std::fs::read_to_string(log("vnet-flowlog.json")).expect("fixture");
    replay(&["vnet-flowlog.json"], &["--at", "0"]).assert_code(0);
    let wrong =
        dir.write("wrong-rule.json", &text.replace("\"UserRule_deny-ssh\"", "\"UserRule_deny-everything\""));
    nsgsim(&["replay", &scenario(SCENARIO), &wrong, "--at", "0"]).assert_code(1).stdout_has(&[
        "logged as UserRule_deny-everything",
        "nsgsim: Deny by web-nic-nsg securityRules/deny-ssh",
    ]);
}

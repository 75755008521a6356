//! End-to-end tests of just-in-time access through the real binary: `jit status`, `eval --at`
//! around a grant's end instant, `run --log` and the JSON activity log.

use super::util::{nsgsim, scenario};

fn eval_at(file: &str, from: &str, to: &str, port: &str, at: &str) -> serde_json::Value {
    nsgsim(&[
        "eval",
        &scenario(file),
        "--from",
        from,
        "--to",
        to,
        "--port",
        port,
        "--at",
        at,
        "--format",
        "json",
    ])
    .assert_code(0)
    .json()
}

#[test]
fn expiry_happens_at_the_exact_end_instant() {
    // alice's grant starts at 15m for one hour.
    let before = eval_at("10-jit-lifecycle.ron", "alice", "vm1", "22", "1h14m59s");
    assert_eq!(before["verdict"], "Allow");
    assert!(
        before["rule"].as_str().is_some_and(|r| r.starts_with("securityRules/SecurityCenter-JITRule-")),
        "{before}"
    );
    let at_end = eval_at("10-jit-lifecycle.ron", "alice", "vm1", "22", "1h15m");
    assert_eq!(at_end["verdict"], "Deny");
    assert!(
        at_end["rule"].as_str().is_some_and(|r| r.starts_with("securityRules/SecurityCenter-JITRule_-")),
        "{at_end}"
    );
}

#[test]
fn eval_before_jit_is_enabled_sees_the_original_rules() {
    let start = eval_at("10-jit-lifecycle.ron", "mallory", "vm1", "22", "0");
    assert_eq!(start["verdict"], "Allow");
    assert_eq!(start["rule"], "securityRules/allow-ssh-anywhere");
    assert_eq!(start["nsg"], "servers-nsg");
}

#[test]
fn jit_status_lists_the_three_portal_tabs() {
    let out = nsgsim(&["jit", "status", &scenario("11-jit-policies-approval.ron")]);
    out.assert_code(0).stdout_has(&[
        "Configured: 3",
        "Not configured (recommended): 0",
        "Unsupported: 2",
        "Classic VM",
        "Missing network security group",
    ]);
    let json = nsgsim(&[
        "jit",
        "status",
        &scenario("11-jit-policies-approval.ron"),
        "--at",
        "3h10m",
        "--format",
        "json",
    ])
    .assert_code(0)
    .json();
    let vms = json["vms"].as_array().expect("vms array");
    let db = vms.iter().find(|v| v["vm"] == "vm-db").expect("vm-db listed");
    assert_eq!(db["status"], "Configured");
    assert_eq!(db["approvers"][0], "Security Admin");
    assert_eq!(db["active_grants"][0]["requester"], "dev");
    assert_eq!(db["active_grants"][0]["until"], "2025-03-03T11:55:00Z");
    let bare = vms.iter().find(|v| v["vm"] == "vm-bare").expect("vm-bare listed");
    assert_eq!(bare["status"], "Unsupported");
}

#[test]
fn run_log_prints_the_activity_log() {
    nsgsim(&["run", &scenario("10-jit-lifecycle.ron"), "--log"]).assert_code(0).stdout_has(&[
        "activity log",
        "Update JIT Network Access Policy",
        "Initiate JIT Network Access Policy",
        "Windows Azure Security Resource Provider",
        "statusReason: Expired",
        "Revoke JIT access",
        "[nsgsim extension]",
        "Delete JIT Network Access Policy",
    ]);
}

#[test]
fn run_json_includes_the_activity_log_and_events() {
    let json = nsgsim(&["run", &scenario("10-jit-lifecycle.ron"), "--format", "json"]).assert_code(0).json();
    let doc = &json[0];
    assert_eq!(doc["failed"], 0);
    let log = doc["activity_log"].as_array().expect("activity_log");
    let failed: Vec<&str> =
        log.iter().filter(|e| e["status"] == "Failed").filter_map(|e| e["detail"].as_str()).collect();
    assert_eq!(failed.len(), 3, "three refused requests: {failed:?}");
    let expiry = doc["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["kind"] == "event")
        .expect("an expiry event step");
    assert_eq!(expiry["at"], "2025-01-06T10:15:00Z");
}

#[test]
fn a_failing_jit_expectation_exits_1() {
    let dir = super::util::TempDir::new("jit-fail");
    let text = std::fs::read_to_string(scenario("10-jit-lifecycle.ron")).expect("readable");
    let broken = text.replace(
        r#"(at: "1h15m", expect: JitRequest(request: "ssh", status: Expired)),"#,
        r#"(at: "1h15m", expect: JitRequest(request: "ssh", status: Active)),"#,
    );
    assert_ne!(broken, text, "the scenario line to change exists");
    let file = dir.write("jit.ron", &broken);
    nsgsim(&["run", &file])
        .assert_code(1)
        .stdout_has(&["FAIL expect JIT request 'ssh': Expired", "20 passed, 1 failed"]);
}

#[test]
fn unknown_jit_references_are_load_errors() {
    let dir = super::util::TempDir::new("jit-bad");
    let text = std::fs::read_to_string(scenario("10-jit-lifecycle.ron")).expect("readable");
    let cases = [
        (r#"EnableJit(vm: "vm1", by: "alice")"#, r#"EnableJit(vm: "vm9", by: "alice")"#, "unknown vm 'vm9'"),
        (
            r#"EnableJit(vm: "vm1", by: "alice")"#,
            r#"EnableJit(vm: "vm1", by: "alicia")"#,
            "unknown user 'alicia'",
        ),
        (r#"roles: ["Contributor"]"#, r#"roles: ["Contributer"]"#, "unknown role 'Contributer'"),
        (r#"duration: "4h")"#, r#"duration: "4 hours")"#, "is not a duration"),
    ];
    for (i, (from, to, message)) in cases.into_iter().enumerate() {
        let broken = text.replacen(from, to, 1);
        assert_ne!(broken, text, "case {i}: the text to change exists");
        let file = dir.write(&format!("case{i}.ron"), &broken);
        nsgsim(&["check", &file]).assert_code(2).stderr_has(&[message, &format!("case{i}.ron:")]);
    }
}

#[test]
fn jit_request_from_the_command_line() {
    let file = scenario("11-jit-policies-approval.ron");
    let granted = nsgsim(&[
        "jit",
        "request",
        &file,
        "--user",
        "ops",
        "--vm",
        "vm-win",
        "--port",
        "3389",
        "--duration",
        "30m",
        "--at",
        "1h",
        "--format",
        "json",
    ])
    .assert_code(0)
    .json();
    assert_eq!(granted["accepted"], true);
    assert_eq!(granted["flows"][0]["verdict"], "Allow");
    // dev's active grant on the same port is superseded: its rules are removed.
    let removed = granted["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c.as_str().is_some_and(|c| c.starts_with("- ")))
        .count();
    assert_eq!(removed, 2, "{granted}");
    nsgsim(&["jit", "request", &file, "--user", "ops-home", "--vm", "vm-win", "--port", "3389"])
        .assert_code(1)
        .stdout_has(&["refused: source 81.2.69.160 is outside the allowed source prefixes 10.0.0.0/8"]);
    nsgsim(&["jit", "request", &file, "--user", "nobody", "--vm", "vm-win", "--port", "3389"])
        .assert_code(2)
        .stderr_has(&["unknown user 'nobody'"]);
}

#[test]
fn narrative_colour_follows_the_terminal_and_no_color() {
    let file = scenario("10-jit-lifecycle.ron");
    // Piped output (as in this test) has no colour by default...
    let plain = nsgsim(&["run", &file]);
    assert!(!plain.assert_code(0).stdout.contains('\u{1b}'), "no escape codes when not a terminal");
    // ...colour can be forced, and then PASS is green and REFUSED red...
    let coloured = nsgsim(&["run", &file, "--color", "always"]);
    assert!(coloured.assert_code(0).stdout.contains("\u{1b}[32mPASS\u{1b}[0m"));
    assert!(coloured.stdout.contains("\u{1b}[31;1mREFUSED\u{1b}[0m"));
    // ...and the words are the same either way.
    let strip = |s: &str| {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(strip(&coloured.stdout), plain.stdout);
}

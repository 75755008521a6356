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
        "Not configured: 0",
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

/// A one-VM scenario (NIC NSG `nn` with `rules`, a public IP) with `users`, `options` and
/// `timeline` filled in, as the audit's reproductions are written.
fn one_vm(rules: &str, users: &str, options: &str, timeline: &str) -> String {
    format!(
        r#"Scenario(
    name: "jit-audit",
    start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.1.0/24")])],
    nsgs: [Nsg(name: "nn", rules: [{rules}])],
    public_ips: [PublicIp(name: "p1", address: "20.0.0.1")],
    vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "nic1", subnet: "v/s", private_ip: "10.0.1.4", nsg: "nn", public_ip: "p1")])],
    users: [{users}],
    options: Options({options}),
    timeline: [{timeline}],
)
"#
    )
}

const TWO_USERS: &str = r#"User(name: "u", roles: ["Owner"], source_ip: "203.0.113.5"), User(name: "boss", roles: ["Owner"], source_ip: "203.0.113.6")"#;

#[test]
fn r_audit24_strict_placement_refuses_a_grant_that_could_not_open_the_port() {
    // /tmp/audit24/strict.ron: the deny lands at 105; the allow used to go to 107, after it,
    // and the request reported Active while the flow stayed denied.
    let dir = super::util::TempDir::new("jit-strict");
    let rules = (100..=104)
        .map(|p| format!(r#"Rule(name: "r{p}", priority: {p}, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "{}"),"#, p - 20))
        .collect::<String>()
        + r#"Rule(name: "ssh-office", priority: 106, direction: Inbound, access: Allow, protocol: Tcp, source: "198.51.100.0/24", destination_ports: "22"),"#;
    let timeline = r#"
        (at: "0", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22)])),
        (at: "1m", action: RequestJit(id: "ra", user: "u", vm: "vm1", ports: [22], duration: "1h")),
        (at: "2m", expect: JitRequest(request: "ra", status: Refused, reason: "no free priority ahead of the JIT deny rule")),
        (at: "2m", expect: JitRules(vm: "vm1", deny: 1, allow: 0)),
        (at: "2m", expect: Flow(from: "u", to: "vm1", port: 22, verdict: Deny)),
    "#;
    let file =
        dir.write("strict.ron", &one_vm(&rules, TWO_USERS, "jit_strict_deny_placement: true", timeline));
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&[
        "REFUSED NSG 'nn' has no free priority ahead of the JIT deny rule 'SecurityCenter-JITRule_-",
        "(priority 105) for port 22 of vm 'vm1': priorities 100-104 are all taken",
        "3 passed, 0 failed",
    ]);
    let log = nsgsim(&["run", &file, "--log"]);
    assert!(
        log.stdout.lines().any(|l| l.contains("Failed") && l.contains("Initiate JIT Network Access Policy")),
        "the refusal is logged:\n{}",
        log.stdout
    );
}

#[test]
fn r_audit24_approval_rechecks_the_policy_and_disable_cancels_pending_requests() {
    let dir = super::util::TempDir::new("jit-approval");
    let rule = r#"Rule(name: "a", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "80"),"#;
    // /tmp/audit24/appr2.ron: approving after EditJit removed port 3389.
    let edited = r#"
        (at: "1m", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22), Port(number: 3389)], approvers: ["Owner"])),
        (at: "2m", action: RequestJit(id: "r", user: "u", vm: "vm1", ports: [3389], duration: "1h")),
        (at: "4m", action: EditJit(vm: "vm1", by: "boss", ports: [Port(number: 22)])),
        (at: "6m", action: ApproveJit(request: "r", by: "boss")),
        (at: "7m", expect: JitRequest(request: "r", status: Refused, reason: "port 3389 is not in the JIT policy")),
        (at: "7m", expect: JitRules(vm: "vm1", allow: 0)),
    "#;
    let file = dir.write("appr2.ron", &one_vm(rule, TWO_USERS, "", edited));
    let out = nsgsim(&["run", &file]);
    out.assert_code(0).stdout_has(&[
        "REFUSED request 'r' no longer passes its checks: port 3389 is not in the JIT policy of vm 'vm1' (configured: 22)",
        "2 passed, 0 failed",
    ]);
    assert!(!out.stdout.contains("has access"), "no access is announced:\n{}", out.stdout);
    // /tmp/audit24/appr.ron: DisableJit while a request waits.
    let disabled = r#"
        (at: "1m", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22)], approvers: ["Owner"])),
        (at: "2m", action: RequestJit(id: "r", user: "u", vm: "vm1", ports: [22], duration: "1h")),
        (at: "3m", expect: JitRequest(request: "r", status: Pending)),
        (at: "4m", action: DisableJit(vm: "vm1", by: "boss")),
        (at: "5m", expect: JitRequest(request: "r", status: Cancelled, reason: "JIT was disabled on vm 'vm1'")),
        (at: "6m", action: ApproveJit(request: "r", by: "boss")),
        (at: "7m", expect: JitRequest(request: "r", status: Cancelled)),
        (at: "7m", expect: JitStatus(vm: "vm1", status: Recommended)),
    "#;
    let file = dir.write("appr.ron", &one_vm(rule, TWO_USERS, "", disabled));
    let out = nsgsim(&["run", &file]);
    out.assert_code(0).stdout_has(&[
        "disabled JIT on vm 'vm1'; pending request 'r' of u cancelled (nsgsim extension",
        "REFUSED request 'r' is not pending (it is Cancelled: JIT was disabled on vm 'vm1' by boss",
        "4 passed, 0 failed",
    ]);
    assert!(
        !out.stdout.contains("approver roles \n") && !out.stdout.contains("approver roles  "),
        "{}",
        out.stdout
    );
    // An edit that removes the last approver role cancels the request that waited for one.
    let unapproved = r#"
        (at: "1m", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22)], approvers: ["Owner"])),
        (at: "2m", action: RequestJit(id: "r", user: "u", vm: "vm1", ports: [22], duration: "1h")),
        (at: "4m", action: EditJit(vm: "vm1", by: "boss", approvers: [])),
        (at: "5m", expect: JitRequest(request: "r", status: Cancelled, reason: "no longer names approver roles (edited by boss)")),
        (at: "6m", action: RequestJit(id: "again", user: "u", vm: "vm1", ports: [22], duration: "1h")),
        (at: "7m", expect: JitRequest(request: "again", status: Active)),
    "#;
    let file = dir.write("unapproved.ron", &one_vm(rule, TWO_USERS, "", unapproved));
    let out = nsgsim(&["run", &file]);
    out.assert_code(0).stdout_has(&[
        "updated JIT on vm 'vm1': approvers Owner -> none (nsgsim extension) (ports now 22); pending request 'r' of u cancelled: no approver role is left (nsgsim extension)",
        "2 passed, 0 failed",
    ]);
    // A wrong approver is told which roles approve.
    let wrong = r#"
        (at: "1m", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22)], approvers: ["Security Admin"])),
        (at: "2m", action: RequestJit(id: "r", user: "u", vm: "vm1", ports: [22], duration: "1h")),
        (at: "3m", action: ApproveJit(request: "r", by: "boss")),
        (at: "3m", action: DenyJit(request: "r", by: "boss", reason: "no")),
        (at: "4m", expect: JitRequest(request: "r", status: Pending)),
    "#;
    let file = dir.write("wrong.ron", &one_vm(rule, TWO_USERS, "", wrong));
    let out = nsgsim(&["run", &file]);
    out.assert_code(0);
    assert_eq!(
        out.stdout
            .matches("user 'boss' (roles: Owner) holds none of the approver roles Security Admin")
            .count(),
        2,
        "approve and deny both name the roles:\n{}",
        out.stdout
    );
}

#[test]
fn r_audit24_edit_jit_on_an_unconfigured_vm_is_refused() {
    let dir = super::util::TempDir::new("jit-edit");
    let rule = r#"Rule(name: "a", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "80"),"#;
    let timeline = r#"
        (at: "1m", action: EditJit(vm: "vm1", by: "u", ports: [Port(number: 22)])),
        (at: "1m", expect: JitStatus(vm: "vm1", status: Recommended)),
        (at: "1m", expect: JitRules(vm: "vm1", deny: 0)),
        (at: "2m", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22)])),
        (at: "3m", action: EditJit(vm: "vm1", by: "u", ports: [Port(number: 22), Port(number: 3389)])),
        (at: "3m", expect: JitRules(vm: "vm1", deny: 2)),
    "#;
    let file = dir.write("edit.ron", &one_vm(rule, TWO_USERS, "", timeline));
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&[
        "REFUSED vm 'vm1' is not configured for JIT (Not configured): Edit changes the policy of a configured VM",
        "updated JIT on vm 'vm1': added port 3389 (ports now 22, 3389)",
        "3 passed, 0 failed",
    ]);
}

#[test]
fn r_audit24_jit_writes_obey_the_limit_of_rules_per_nsg() {
    let dir = super::util::TempDir::new("jit-limit");
    let rules: String = (0..997)
        .map(|i| format!(r#"Rule(name: "f{i}", priority: {}, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "8080"),"#, 1000 + i))
        .collect();
    let timeline = r#"
        (at: "1m", action: EnableJit(vm: "vm1", by: "u")),
        (at: "1m", expect: JitStatus(vm: "vm1", status: Recommended)),
        (at: "1m", expect: JitRules(vm: "vm1", deny: 0)),
    "#;
    let file = dir.write("limit.ron", &one_vm(&rules, TWO_USERS, "", timeline));
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&[
        "REFUSED JIT cannot write its deny rules for vm 'vm1': NSG 'nn' has 1001 rules; Azure allows at most 1000",
        "2 passed, 0 failed",
    ]);
}

#[test]
fn r_audit24_a_request_from_star_writes_source_star() {
    let dir = super::util::TempDir::new("jit-star");
    let rule = r#"Rule(name: "a", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "80"),"#;
    let timeline = r#"
        (at: "1m", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22)])),
        (at: "2m", action: RequestJit(id: "any", user: "u", vm: "vm1", ports: [22], duration: "1h", source: "*")),
        (at: "3m", expect: Flow(from: "198.51.100.77", to: "vm1", port: 22, verdict: Allow)),
    "#;
    let file = dir.write("star.ron", &one_vm(rule, TWO_USERS, "", timeline));
    let out = nsgsim(&["run", &file]);
    out.assert_code(0).stdout_has(&["u was granted access to vm1:22 from * until"]);
    let allow_line = out
        .stdout
        .lines()
        .find(|l| l.contains("+ nn securityRules/SecurityCenter-JITRule-"))
        .unwrap_or_else(|| panic!("an allow rule is written:\n{}", out.stdout));
    assert!(
        allow_line.contains("Inbound Allow, * * -> 10.0.1.4 port 22"),
        "source `*`, not 0.0.0.0/0: {allow_line}"
    );
    assert!(!out.stdout.contains("0.0.0.0/0"), "{}", out.stdout);
    let status = nsgsim(&["jit", "status", &file, "--at", "3m", "--format", "json"]).assert_code(0).json();
    assert_eq!(status["vms"][0]["active_grants"][0]["source"], "*");
    // The command line takes `*` too.
    nsgsim(&[
        "jit", "request", &file, "--user", "boss", "--vm", "vm1", "--port", "22", "--source", "*", "--at",
        "1m",
    ])
    .assert_code(0)
    .stdout_has(&["boss was granted access to vm1:22 from * until"]);
}

#[test]
fn r_audit24_the_narrative_says_whose_grant_a_newer_request_supersedes() {
    // /tmp/audit24/ov.ron, trimmed: b's request for vm1:22 replaces a's.
    let dir = super::util::TempDir::new("jit-ov");
    let users = r#"User(name: "a", roles: ["Owner"], source_ip: "203.0.113.5"), User(name: "b", roles: ["Contributor"], source_ip: "198.51.100.9")"#;
    let timeline = r#"
        (at: "0", action: EnableJit(vm: "vm1", by: "a")),
        (at: "1m", action: RequestJit(id: "ra", user: "a", vm: "vm1", ports: [22, 3389], duration: "1h")),
        (at: "2m", action: RequestJit(id: "rb", user: "b", vm: "vm1", ports: [22], duration: "30m")),
        (at: "3m", expect: Flow(from: "a", to: "vm1", port: 22, verdict: Deny)),
        (at: "3m", expect: Flow(from: "b", to: "vm1", port: 22, verdict: Allow)),
        (at: "3m", expect: JitRequest(request: "ra", status: Active)),
    "#;
    let file = dir.write("ov.ron", &one_vm("", users, "", timeline));
    let out = nsgsim(&["run", &file]);
    out.assert_code(0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("b was granted access to vm1:22"))
        .unwrap_or_else(|| panic!("b's grant is narrated:\n{}", out.stdout));
    assert!(
        line.contains(
            "this supersedes a's grant for vm1:22 from 203.0.113.5 (request 'ra', until 2025-01-06T10:01:00Z)"
        ),
        "{line}"
    );
    let json = nsgsim(&["run", &file, "--format", "json"]).assert_code(0).json();
    let summaries: Vec<String> = json[0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["action"]["summary"].as_str().map(String::from))
        .collect();
    assert!(summaries.iter().any(|s| s.contains("supersedes a's grant")), "{summaries:?}");
}

#[test]
fn r_audit24_jit_status_flags_ports_left_open_by_existing_allow_rules() {
    let dir = super::util::TempDir::new("jit-open");
    let rule = r#"Rule(name: "ssh-anywhere", priority: 300, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "22"),"#;
    let timeline = r#"
        (at: "1m", action: EnableJit(vm: "vm1", by: "u", ports: [Port(number: 22), Port(number: 3389)])),
        (at: "10m", action: RemoveRule(nsg: "nn", rule: "ssh-anywhere")),
        (at: "10m", expect: JitStatus(vm: "vm1", status: Configured)),
    "#;
    let file = dir.write("open.ron", &one_vm(rule, TWO_USERS, "", timeline));
    let warning = "warning: NSG 'nn': existing rule 'ssh-anywhere' (priority 300) allows port 22 from * and keeps precedence over the JIT deny rule";
    nsgsim(&["jit", "status", &file, "--at", "5m"]).assert_code(0).stdout_has(&["Configured: 1", warning]);
    let json = nsgsim(&["jit", "status", &file, "--at", "5m", "--format", "json"]).assert_code(0).json();
    let open = json["vms"][0]["open_ports"].as_array().expect("open_ports");
    assert_eq!(open.len(), 1, "{json}");
    assert_eq!(open[0]["port"], 22);
    assert_eq!(open[0]["rule"], "ssh-anywhere");
    assert_eq!(open[0]["priority"], 300);
    assert_eq!(open[0]["nsg"], "nn");
    // Once the rule is gone, JIT protects the port and the warning goes.
    let later = nsgsim(&["jit", "status", &file, "--at", "10m"]);
    assert!(!later.assert_code(0).stdout.contains("warning:"), "{}", later.stdout);
    let json = nsgsim(&["jit", "status", &file, "--at", "10m", "--format", "json"]).assert_code(0).json();
    assert_eq!(json["vms"][0]["open_ports"], serde_json::json!([]));
}

/// The JIT lifecycle scenario with custom roles and users added, and a timeline of requests.
fn lifecycle_with_roles(roles: &str, users: &str, timeline: &str) -> String {
    let text = std::fs::read_to_string(scenario("10-jit-lifecycle.ron")).expect("shipped scenario");
    let text = super::util::replace_once(
        &text,
        "    users: [\n",
        &format!("    roles: {{{roles}}},\n    users: [\n{users}"),
    );
    let at = text.find("    timeline: [\n").expect("a timeline") + "    timeline: [\n".len();
    format!("{}{timeline}{}", &text[..at], &text[at..])
}

#[test]
fn a_custom_role_built_from_microsofts_permissions_table_can_request() {
    // Defender for Cloud, "Enable just-in-time access", the table's "Request JIT access to a VM"
    // row, spelled as Microsoft spells it, wildcards included.
    let table = r#""Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
        "Microsoft.Security/locations/jitNetworkAccessPolicies/*/read", "Microsoft.Compute/virtualMachines/read",
        "Microsoft.Network/networkInterfaces/*/read", "Microsoft.Network/publicIPAddresses/read""#;
    let roles = format!(
        r#""JIT Requester": [{table}],
        "All but initiate": Role(actions: ["*"],
            not_actions: ["microsoft.security/locations/jitNetworkAccessPolicies/INITIATE/action"])"#
    );
    let users = r#"        User(name: "bob", roles: ["JIT Requester"], source_ip: "203.0.113.20"),
        User(name: "carol", roles: ["All but initiate"], source_ip: "203.0.113.30"),
"#;
    let timeline = r#"        (at: "3m", action: RequestJit(id: "bob-ssh", user: "bob", vm: "vm1", ports: [22], duration: "1h")),
        (at: "3m", expect: JitRequest(request: "bob-ssh", status: Active)),
        (at: "3m", expect: Flow(from: "bob", to: "vm1", port: 22, verdict: Allow)),
        (at: "4m", action: RequestJit(id: "carol-ssh", user: "carol", vm: "vm1", ports: [22], duration: "1h")),
        (at: "4m", expect: JitRequest(request: "carol-ssh", status: Refused, reason: "initiate/action")),
"#;
    let dir = super::util::TempDir::new("jit-table-role");
    let file = dir.write("table-role.ron", &lifecycle_with_roles(&roles, users, timeline));
    nsgsim(&["run", &file]).assert_code(0);
    // Without the wildcard reads the same role is refused, naming the table's action.
    let narrow = roles.replace(
        "\"Microsoft.Network/networkInterfaces/*/read\"",
        "\"Microsoft.Network/networkInterfaces/read\"",
    );
    let file = dir.write("narrow-role.ron", &lifecycle_with_roles(&narrow, users, timeline));
    nsgsim(&["run", &file]).assert_code(1).stdout_has(&["Microsoft.Network/networkInterfaces/*/read"]);
}

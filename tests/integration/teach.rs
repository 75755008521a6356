//! Issue 24, "teach the why": the quiz tests without giving its answers away, training texts'
//! errors are corrected on screen, the portal's words and views, and pacing for a room
//! (`--brief`, `--log`, `--until`, `--step`, `check` reporting every error).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{TempDir, array, nsgsim, root, scenario, string};

/// Runs `nsgsim ARGS` with `input` on stdin.
fn nsgsim_with_input(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsgsim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nsgsim binary runs");
    child.stdin.take().expect("a stdin pipe").write_all(input.as_bytes()).expect("stdin takes the input");
    let out = child.wait_with_output().expect("the binary ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The quiz of a scenario as JSON, without answers.
fn quiz_json(file: &str) -> serde_json::Value {
    nsgsim(&["quiz", &scenario(file), "--format", "json"]).assert_code(0).json()
}

#[test]
fn no_situation_before_a_question_carries_its_outcome() {
    for path in crate::util::all_scenarios() {
        let file = path.display().to_string();
        let quiz = nsgsim(&["quiz", &file, "--format", "json"]).assert_code(0).json();
        for q in array(&quiz, "questions") {
            for line in array(q, "situation") {
                let line = line.as_str().unwrap_or_default();
                for outcome in ["refused", "REFUSED", "was granted", "lacks ", "expired", "PASS", "FAIL"] {
                    assert!(!line.contains(outcome), "{file}: the situation gives the outcome away: {line}");
                }
            }
        }
    }
}

#[test]
fn a_request_question_states_the_facts_that_decide_it() {
    let quiz = quiz_json("35-common-mistakes.ron");
    let sergei = array(&quiz, "questions")
        .iter()
        .find(|q| string(q, "prompt").contains("request 'sergei-try'"))
        .expect("a question on sergei's request");
    let situation: Vec<&str> = array(sergei, "situation").iter().filter_map(|l| l.as_str()).collect();
    assert!(
        situation.iter().any(|l| l.contains("sergei requests access to vm-erp01:3389 for 1h")),
        "{situation:?}"
    );
    let facts: Vec<&str> = array(sergei, "facts").iter().filter_map(|l| l.as_str()).collect();
    assert!(facts.contains(&"user 'sergei': Security Reader; traffic from 203.0.113.32"), "{facts:?}");
    assert!(facts.iter().any(|f| f.starts_with("vm 'vm-erp01' (Windows)")), "{facts:?}");
    assert_eq!(string(sergei, "answer"), "b", "refused");
    assert_eq!(array(sergei, "choices").len(), 4, "not a yes/no drill");
    // The why, after the answer: the refusal and Microsoft's answer to the training text.
    let why = string(sergei, "explanation");
    assert!(
        why.contains("initiate/action")
            && why.contains("Some training texts say a Security Reader can request"),
        "{why}"
    );
    let vm_app01 = array(&quiz, "questions")
        .iter()
        .find(|q| string(q, "prompt").contains("vm 'vm-app01'"))
        .expect("a question on vm-app01's tab");
    let facts: Vec<&str> = array(vm_app01, "facts").iter().filter_map(|l| l.as_str()).collect();
    assert!(facts.iter().any(|f| f.contains("vm 'vm-app01'") && f.ends_with("no public IP")), "{facts:?}");
}

#[test]
fn the_quiz_of_scenario_35_teaches_every_training_text_error_with_its_source() {
    let quiz = quiz_json("35-common-mistakes.ron");
    let questions = array(&quiz, "questions");
    let everything: String = questions
        .iter()
        .map(|q| format!("{}\n{}\n", string(q, "prompt"), string(q, "explanation")))
        .collect();
    for claim in [
        "a Security Reader can request JIT access",
        "JIT works only on a VM with a public IP",
        "JIT does not work for VMs behind Azure Firewall",
        "the default JIT ports include 5989",
        "open RDP and SSH sessions are cut when the JIT window ends",
        "JIT is a feature of Azure Firewall",
        "`az vm jit` commands enable and request JIT",
        "JIT writes its deny rules at priority 1000",
        "enabling JIT overrides the existing rules that allow its ports",
        "a JIT request waits for a manager's approval",
        "\"JIT Access Role\" is a built-in Azure role",
        "a VM with no NSG is open to the Internet",
    ] {
        assert!(
            everything.contains(&format!("Some training texts say {claim}")),
            "the quiz never corrects: {claim}"
        );
    }
    for q in questions {
        assert!(!array(q, "sources").is_empty(), "no source for {}", string(q, "prompt"));
        for s in array(q, "sources") {
            assert!(string(s, "url").starts_with("https://"), "{s}");
            assert!(!string(s, "title").is_empty());
        }
    }
    // Concept questions with choices, beyond the expectations' yes/no.
    let concept = questions.iter().filter(|q| array(q, "choices")[0]["key"] == "a").count();
    assert!(concept >= 10, "{concept} multiple-choice questions");
}

#[test]
fn answering_scores_and_json_judges_each_answer() {
    let quiz = quiz_json("35-common-mistakes.ron");
    let answers: Vec<&str> = array(&quiz, "questions").iter().map(|q| string(q, "answer")).collect();
    let all = answers.join(",");
    let file = scenario("35-common-mistakes.ron");
    let right = nsgsim(&["quiz", &file, "--format", "json", "--answers", &all]).assert_code(0).json();
    assert_eq!(right["score"]["right"], right["score"]["total"]);
    assert!(array(&right, "questions").iter().all(|q| q["correct"] == true));
    // One wrong answer: judged wrong, exit 1, and the text shows the right one with its why.
    let mut wrong: Vec<String> = answers.iter().map(|a| a.to_string()).collect();
    wrong[0] = if wrong[0] == "c" { "u".into() } else { "c".into() };
    let text = nsgsim(&["quiz", &file, "--answers", &wrong.join(",")]);
    text.assert_code(1).stdout_has(&[
        "Q1 of ",
        "  What happened:",
        "  Facts:",
        "  wrong: the answer is c) Configured.",
        "  Why:",
        "  Source: Enable just-in-time access on VMs (Microsoft Defender for Cloud), https://learn.microsoft.com/en-us/azure/defender-for-cloud/just-in-time-access-usage",
    ]);
    assert!(
        text.stdout.contains(&format!("score: {}/{} correct", answers.len() - 1, answers.len())),
        "{}",
        text.stdout
    );
    let judged =
        nsgsim(&["quiz", &file, "--format", "json", "--answers", &wrong.join(",")]).assert_code(1).json();
    assert_eq!(array(&judged, "questions")[0]["correct"], false);
    assert_eq!(array(&judged, "questions")[0]["given"], wrong[0].as_str());
}

#[test]
fn run_prints_the_corrections_once_where_they_apply() {
    let out = nsgsim(&["run", &scenario("35-common-mistakes.ron")]);
    out.assert_code(0);
    let line = "correction: Some training texts say a Security Reader can request JIT access; Microsoft:";
    assert_eq!(out.stdout.matches(line).count(), 1, "{}", out.stdout);
    // Printed right after the step that shows it: sergei's refusal.
    let at = out.stdout.find(line).expect("the correction");
    let before = &out.stdout[..at];
    assert!(before.trim_end().ends_with("needed to request JIT access"), "{}", &before[before.len() - 200..]);
    out.stdout_has(&[
        "correction: Some training texts say open RDP and SSH sessions are cut when the JIT window ends",
        "correction: Some training texts say a VM with no NSG is open to the Internet",
        "(Public IP addresses (Azure Virtual Network), https://learn.microsoft.com/en-us/azure/virtual-network/ip-services/public-ip-addresses)",
    ]);
    // The approval extension says what Azure offers instead.
    nsgsim(&["run", &scenario("33-regulated-approval.ron")]).assert_code(0).stdout_has(&[
        "correction: Some training texts say a JIT request waits for a manager's approval",
        "Privileged Identity Management",
    ]);
    // The HTML report and JSON carry them too.
    let dir = TempDir::new("teach-html");
    let html = dir.path().join("r.html").display().to_string();
    nsgsim(&["report", &scenario("35-common-mistakes.ron"), "--html", &html]).assert_code(0);
    let page = std::fs::read_to_string(&html).expect("the report is written");
    assert!(page.contains("<p class=\"correction\"><strong>Correction.</strong> Some training texts say a Security Reader can request JIT access."), "no correction in the report");
    let json =
        nsgsim(&["run", &scenario("35-common-mistakes.ron"), "--format", "json"]).assert_code(0).json();
    let known: Vec<String> = array(&json[0], "steps")
        .iter()
        .flat_map(|s| {
            array(s, "corrections").iter().map(|c| string(c, "known").to_string()).collect::<Vec<_>>()
        })
        .collect();
    assert!(
        known.contains(&"SecurityReaderCanRequest".to_string())
            && known.contains(&"NoNsgMeansOpen".to_string()),
        "{known:?}"
    );
}

#[test]
fn jit_request_prints_the_correction_and_the_justification() {
    let file = scenario("35-common-mistakes.ron");
    let out = nsgsim(&[
        "jit", "request", &file, "--user", "sergei", "--vm", "vm-erp01", "--port", "3389", "--at", "30m",
    ]);
    out.assert_code(1).stdout_has(&[
        "lacks Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
        "  correction: Some training texts say a Security Reader can request JIT access; Microsoft: \"Reader and SecurityReader roles can both view the JIT status and parameters\"",
    ]);
    let json = nsgsim(&[
        "jit",
        "request",
        &file,
        "--user",
        "kim",
        "--vm",
        "vm-files01",
        "--port",
        "3389",
        "--at",
        "30m",
        "--justification",
        "CHG-42",
        "--format",
        "json",
    ])
    .assert_code(0)
    .json();
    assert_eq!(json["justification"], "CHG-42");
    assert!(string(&json, "summary").contains("justification: \"CHG-42\""), "{json}");
}

#[test]
fn brief_tells_each_action_on_one_line_and_an_edit_only_what_changed() {
    let file = scenario("30-portal-walkthrough.ron");
    let brief = nsgsim(&["run", &file, "--brief"]);
    brief.assert_code(0).stdout_has(&[
        "enabled JIT on vm 'vm-iis01' for ports 22, 3389, 5985, 5986, 80: + JIT deny 22 (4096), 3389 (4095), 5985 (4094), 5986 (4093), 80 (4092) in snet-web-nsg, vm-iis01-nsg",
        "updated JIT on vm 'vm-iis01': removed port 5986; port 80 maximum PT3H -> PT1H (ports now 22, 3389, 5985, 80): - JIT deny 5986 (4093) in snet-web-nsg, vm-iis01-nsg",
        "Deny by NSG 'snet-web-nsg' JIT deny rule, priority 4095",
        "+ JIT deny for vm-iis02 22 (",
        "+ JIT deny for vm-api01 22 (",
    ]);
    // No rule written by JIT is named (the scenario's own notes may speak of the names).
    let jit_rule = "securityRules/SecurityCenter-JITRule_";
    assert!(!brief.stdout.contains(jit_rule), "no rule names in brief:\n{}", brief.stdout);
    // Without --brief an edit still lists only the two deny rules of the port it removed.
    let full = nsgsim(&["run", &file]).assert_code(0).stdout.clone();
    assert!(full.contains(jit_rule), "the full story names the rules:\n{full}");
    let edit = full.find("updated JIT on vm 'vm-iis01'").expect("the edit");
    let lines: Vec<&str> = full[edit..].lines().skip(1).take_while(|l| l.starts_with("    ")).collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines.iter().all(|l| l.starts_with("    - ") && l.ends_with("port 5986)")), "{lines:#?}");
}

#[test]
fn the_log_is_told_with_the_story_and_filtered() {
    let file = scenario("30-portal-walkthrough.ron");
    let requests = nsgsim(&["run", &file, "--log", "requests"]);
    requests.assert_code(0).stdout_has(&[
        "    log: 2025-02-03T09:31:00Z  Succeeded Initiate JIT Network Access Policy",
        "justification: \"deploy build 2025.02.03\"",
        "request 'rdp-http' of alex: Initiated => Revoked (statusReason: Expired)",
    ]);
    assert!(!requests.stdout.contains("Create or Update Security Rule"), "rule writes filtered out");
    // Each entry under the step that wrote it: the initiate right after alex's grant.
    let grant = requests.stdout.find("alex was granted access to vm-iis01:3389").expect("the grant");
    let next = &requests.stdout[grant..];
    assert!(next.lines().nth(5).is_some_and(|l| l.contains("log:")) || next.contains("\n    log:"), "{next}");
    let rules = nsgsim(&["run", &file, "--log", "rules"]);
    rules.assert_code(0).stdout_has(&["log:", "Create or Update Security Rule"]);
    assert!(!rules.stdout.contains("Initiate JIT Network Access Policy"));
    let all = nsgsim(&["run", &file, "--log"]);
    all.assert_code(0).stdout_has(&["Initiate JIT Network Access Policy", "Create or Update Security Rule"]);
    for noise in ["Expired; Expired", "grant #", "scenario-setup"] {
        assert!(!all.stdout.contains(noise), "{noise} in the log:\n{}", all.stdout);
    }
}

#[test]
fn until_stops_the_story_and_step_pauses_it() {
    let file = scenario("30-portal-walkthrough.ron");
    let until = nsgsim(&["run", &file, "--until", "30m"]);
    until.assert_code(0).stdout_has(&["[+30m", "stopped at +30m: "]);
    assert!(!until.stdout.contains("[+31m"), "{}", until.stdout);
    let json = nsgsim(&["run", &file, "--until", "30m", "--format", "json"]).assert_code(0).json();
    assert_eq!(json[0]["stopped_at"], "30m");
    nsgsim(&["run", &file, "--until", "nonsense"]).assert_code(2).stderr_has(&["--until"]);
    // --step: Enter goes on, q stops; the prompt goes to stderr.
    let (code, stdout, stderr) = nsgsim_with_input(&["run", &file, "--step"], "\n\nq\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("-- next: +5m; Enter to go on, q to stop --"), "{stderr}");
    assert!(stdout.contains("[+5m") && stdout.contains("[+10m"), "{stdout}");
    assert!(!stdout.contains("[+20m"), "stopped after two pauses:\n{stdout}");
    assert!(stdout.contains("stopped before +20m: "), "{stdout}");
    // At the end of the input the story goes on without pausing.
    let (code, stdout, _) = nsgsim_with_input(&["run", &file, "--step"], "");
    assert_eq!(code, 0);
    assert!(stdout.contains("portal-walkthrough: 34 passed, 0 failed"), "{stdout}");
    nsgsim(&["run", &file, "--step", "--format", "json"]).assert_code(2);
}

#[test]
fn check_reports_every_independent_error() {
    let dir = TempDir::new("check-all");
    let file = dir.write(
        "broken.ron",
        r#"Scenario(name: "broken", start: "2025-01-06T09:00:00Z",
    vnets: [
        Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "bad")]),
        Vnet(name: "w", address_space: ["10.1.0.0/33"]),
    ],
    nsgs: [Nsg(name: "bad", rules: [Rule(name: "r", priority: 5000, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "22")])],
    vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "n1", subnet: "v/a", private_ip: "10.0.9.4")])],
    users: [User(name: "u", source_ip: "not-an-ip")],
    timeline: [(at: "0", action: EnableJit(vm: "nope"))],
)"#,
    );
    let out = nsgsim(&["check", &file]);
    out.assert_code(2).stderr_has(&[
        "vnets[1].address_space[0]",
        "nsgs[0].rules[0].priority",
        "vms[0].nics[0].private_ip",
        "users[0].source_ip",
        "timeline[0].action.vm",
        "broken.ron: 5 errors",
    ]);
    assert_eq!(out.stderr.matches("error: ").count(), 5, "{}", out.stderr);
    let json = nsgsim(&["check", &file, "--format", "json"]).assert_code(2).json();
    assert_eq!(array(&array(&json, "files")[0], "errors").len(), 5);
    // Steps that cannot be applied: each is reported, the replay goes on without it.
    let steps = dir.write(
        "steps.ron",
        r#"Scenario(name: "steps", start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n")])],
    nsgs: [Nsg(name: "n")],
    timeline: [
        (at: "1m", action: RemoveRule(nsg: "n", rule: "gone")),
        (at: "2m", action: Disconnect(name: "never")),
        (at: "3m", note: "fine"),
    ],
)"#,
    );
    nsgsim(&["check", &steps]).assert_code(2).stderr_has(&[
        "timeline[0].action.rule: step at 1m",
        "timeline[1].action.name: step at 2m",
        "steps.ron: 2 errors",
    ]);
}

#[test]
fn jit_status_shows_the_configured_tab_and_every_request() {
    let file = scenario("30-portal-walkthrough.ron");
    let text = nsgsim(&["jit", "status", &file, "--at", "2h30m"]);
    text.assert_code(0).stdout_has(&[
        "  vm-iis01\n      approved (last 7 days): 1   last access: 2025-02-03T09:31:00Z   last user: alex",
        "      connection details: NSG (snet-web-nsg, vm-iis01-nsg) [NSG icon]",
        "        'rdp-http' by alex: port 3389 from 203.0.113.34 at 2025-02-03T09:31:00Z; Expired at 2025-02-03T10:31:00Z; justification \"deploy build 2025.02.03\"",
        "  vm-api01\n      approved (last 7 days): 0   last access: never   last user: -",
    ]);
    let json = nsgsim(&["jit", "status", &file, "--at", "2h30m", "--format", "json"]).assert_code(0).json();
    let iis01 = array(&json, "vms").iter().find(|v| v["vm"] == "vm-iis01").expect("vm-iis01");
    assert_eq!(iis01["status"], "Configured");
    assert_eq!(iis01["last_user"], "alex");
    assert_eq!(iis01["connection"]["via"], "nsg");
    assert_eq!(array(iis01, "history").len(), 2, "ended grants are kept");
    let at0 = nsgsim(&["jit", "status", &file, "--format", "json"]).assert_code(0).json();
    assert_eq!(array(&at0, "vms")[0]["status"], "NotConfigured");
    assert_eq!(array(&at0, "vms")[0]["tab"], "Not configured");
    // Behind a classic firewall: the firewall marker and the DNAT endpoint of an open grant.
    let fw = nsgsim(&["jit", "status", &scenario("22-jit-behind-firewall.ron"), "--at", "8m"]);
    fw.assert_code(0).stdout_has(&[
        "connection details: Azure Firewall 'secure-fw' (40.70.0.10) [firewall icon]",
        "; connect to 40.70.0.10:50000",
    ]);
}

#[test]
fn portal_actions_enable_several_vms_turn_plan2_and_request_from_the_connect_page() {
    nsgsim(&["run", &scenario("30-portal-walkthrough.ron")]).assert_code(0).stdout_has(&[
        "enabled JIT on 2 VMs in one action (the portal's 'Enable JIT on 2 VMs'): vm 'vm-iis02' ports 22, 3389, 5985, 5986; vm 'vm-api01' ports 22, 3389, 5985, 5986",
        "REFUSED from the Connect page of vm 'vm-tools01': JIT is not enabled on vm 'vm-tools01': its Connect page prompts to enable it",
        "from the Connect page of vm 'vm-tools01': JIT was not enabled, the page prompted to enable it and it was accepted: enabled JIT on vm 'vm-tools01' for ports 3389; then alex was granted access to vm-tools01:3389",
    ]);
    nsgsim(&["run", &scenario("37-defender-plan2-off.ron")]).assert_code(0).stdout_has(&[
        "turned Microsoft Defender for Servers Plan 2 on",
        "turned Microsoft Defender for Servers Plan 2 off",
        "PASS expect JIT request 'leo-again': Refused: vm 'vm-web01' is unsupported: Microsoft Defender for Servers Plan 2 is not enabled",
    ]);
    // "Enable JIT on n VMs" is all or none: one VM that cannot be enabled refuses the action.
    let dir = TempDir::new("enable-many");
    let file = dir.write(
        "many.ron",
        r#"Scenario(name: "many", start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [
        Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n"), Subnet(name: "b", prefix: "10.0.2.0/24")])],
    nsgs: [Nsg(name: "n")],
    vms: [Vm(name: "ok", os: Linux, nics: [Nic(name: "ok-nic", subnet: "v/a", private_ip: "10.0.1.4")]),
          Vm(name: "bare", os: Linux, nics: [Nic(name: "bare-nic", subnet: "v/b", private_ip: "10.0.2.4")])],
    timeline: [
        (at: "0", action: EnableJit(vms: ["ok", "bare"])),
        (at: "0", expect: JitStatus(vm: "ok", status: NotConfigured)),
        (at: "0", expect: JitRules(vm: "ok", deny: 0)),
    ],
)"#,
    );
    nsgsim(&["run", &file])
        .assert_code(0)
        .stdout_has(&["REFUSED vm 'bare' is unsupported: Missing network security group"]);
}

#[test]
fn smaller_errors_of_issue_24() {
    let dir = TempDir::new("issue24");
    // A JIT grant is not NSG004; port 5989 is reported by check and lint; a second NIC is warned.
    let file = dir.write(
        "small.ron",
        r#"Scenario(name: "small", start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [
        Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n"), Subnet(name: "b", prefix: "10.0.2.0/24", nsg: "m")])],
    nsgs: [Nsg(name: "n"), Nsg(name: "m", rules: [Rule(name: "rdp", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "3389")])],
    public_ips: [PublicIp(name: "p", address: "20.0.0.1"), PublicIp(name: "q", address: "20.0.0.2")],
    vms: [Vm(name: "vm1", os: Windows, nics: [
        Nic(name: "nic-a", subnet: "v/a", private_ip: "10.0.1.4", public_ip: "p"),
        Nic(name: "nic-b", subnet: "v/b", private_ip: "10.0.2.4", public_ip: "q")])],
    users: [User(name: "u", roles: ["Owner"], source_ip: "203.0.113.5")],
    timeline: [
        (at: "0", action: EnableJit(vm: "vm1", ports: [Port(number: 3389), Port(number: 5989)])),
        (at: "1m", action: RequestJit(id: "r", user: "u", vm: "vm1", ports: [3389], duration: "1h")),
    ],
)"#,
    );
    nsgsim(&["check", &file]).assert_code(0).stdout_has(&[
        "warning:",
        "port 5989 is not a WinRM port",
        "did you mean 5986?",
    ]);
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&[
        "warning: vm 'vm1' has 2 NICs: JIT's rules protect the primary NIC 'nic-a' (10.0.1.4) only, so on NIC 'nic-b' (10.0.2.4)",
        "correction: Some training texts say the default JIT ports include 5989",
    ]);
    let lint = nsgsim(&["lint", &file, "--at", "2m", "--format", "json"]).json();
    let codes: Vec<(String, String)> = array(&lint, "findings")
        .iter()
        .map(|f| (string(f, "code").to_string(), f["rules"].to_string()))
        .collect();
    assert!(codes.iter().any(|(c, _)| c == "JIT003-active-grant"), "{codes:?}");
    assert!(codes.iter().any(|(c, _)| c == "JIT004-port-5989"), "{codes:?}");
    // NSG004 still reports the second NIC, whose own NSG opens 3389, and never the JIT grant.
    assert!(
        codes
            .iter()
            .filter(|(c, _)| c == "NSG004-management-port-open")
            .all(|(_, r)| !r.contains("SecurityCenter-JITRule")),
        "{codes:?}"
    );
    assert!(
        codes.iter().any(|(c, r)| c == "NSG004-management-port-open" && r.contains("securityRules/rdp")),
        "{codes:?}"
    );
    // PASS lines name the Bastion a flow goes through.
    nsgsim(&["run", &scenario("20-hub-spoke-firewall-bastion.ron")])
        .assert_code(0)
        .stdout_has(&["PASS expect admin -> vm-app1 Tcp port 22 via bastion 'hub-bastion': Allow"]);
}

#[test]
fn effective_rules_align_their_columns_and_shorten_the_internet_tag() {
    let file = scenario("03-service-tags-asgs-augmented.ron");
    let vms = ["vm-web", "vm-app", "vm-db"];
    let mut shortened = false;
    for vm in vms {
        let out = nsgsim(&["effective-rules", &file, "--vm", vm]);
        if out.code != 0 {
            continue;
        }
        // Every row of a table starts its priority column at the header's offset.
        let mut header_at = None;
        for line in out.stdout.lines() {
            if line.trim_start().starts_with("name ") {
                header_at = line.find("priority").map(|p| p + "priority".len());
            } else if let Some(end) = header_at
                && (line.contains("securityRules/") || line.contains("defaultSecurityRules/"))
                && line.starts_with("      ")
            {
                let cells: Vec<&str> = line[..end].split_whitespace().collect();
                assert!(cells.last().is_some_and(|p| p.parse::<u32>().is_ok()), "misaligned: {line}");
            }
        }
        if out.stdout.contains("more; --full lists them all") {
            shortened = true;
            let full =
                nsgsim(&["effective-rules", &file, "--vm", vm, "--full"]).assert_code(0).stdout.clone();
            assert!(!full.contains("--full lists them all") && full.len() > out.stdout.len());
        }
    }
    assert!(shortened, "a rule naming the Internet tag is shortened in some VM's table");
}

#[test]
fn the_docs_never_call_jit_access_role_built_in() {
    for doc in ["docs/scenario-format.md", "docs/fidelity.md", "README.md"] {
        let text = std::fs::read_to_string(root().join(doc)).expect("readable");
        for paragraph in text.split("\n\n") {
            if paragraph.contains("JIT Access Role") && paragraph.contains("built-in") {
                assert!(
                    paragraph.contains("not built into Azure")
                        || paragraph.contains("**not** an Azure built-in role")
                        || paragraph.contains("**not** a built-in Azure role"),
                    "{doc} calls \"JIT Access Role\" built-in: {paragraph}"
                );
            }
        }
    }
}

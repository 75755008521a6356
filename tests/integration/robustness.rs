//! Issue 21 (robustness): what a hostile user found, each fixed and kept here, through the real
//! binary. The reproducers are the fuzzer's own files, kept under `tests/data/regressions/`
//! (README there); the fuzz harness itself is `tests/fuzz/`.
//!
//! Every refusal is exit 2 with `file:line:column` (or the argument), the field, the value (cut,
//! control characters escaped) and what is valid.

use crate::util::{TempDir, nsgsim, position, root, scenario};

/// A file of `tests/data/regressions/`.
fn regression(name: &str) -> String {
    let path = root().join("tests/data/regressions").join(name);
    assert!(path.is_file(), "no regression input {}", path.display());
    path.display().to_string()
}

fn regression_text(name: &str) -> String {
    std::fs::read_to_string(regression(name)).expect("the regression input is UTF-8")
}

/// Runs `nsgsim COMMAND` on the regression input `name` and asserts exit 2 with an error at the
/// position of `needle` in the file: `NAME:LINE:COLUMN: ` followed by `message`.
#[track_caller]
fn refused_at(command: &str, name: &str, needle: &str, message: &str) -> crate::util::Output {
    let (line, column) = position(&regression_text(name), needle, 0);
    let out = nsgsim(&[command, &regression(name)]);
    out.assert_code(2).stderr_has(&[&format!("{name}:{line}:{column}: {message}")]);
    out
}

/// The `error:` lines of stderr.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

/// `bytes` with `bad` inserted after the first occurrence of `after`, and the (line, column) of
/// the inserted bytes.
fn with_invalid_utf8(text: &str, after: &str, bad: &[u8]) -> (Vec<u8>, (usize, usize)) {
    let offset = text.find(after).expect("the anchor occurs") + after.len();
    let (line, column) = {
        let before = &text[..offset];
        (before.matches('\n').count() + 1, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1)
    };
    let mut bytes = text.as_bytes()[..offset].to_vec();
    bytes.extend_from_slice(bad);
    bytes.extend_from_slice(&text.as_bytes()[offset..]);
    (bytes, (line, column))
}

fn write_bytes(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("the temp file is writable");
    path.display().to_string()
}

#[test]
fn r21_invalid_utf8_has_a_position_in_every_input_kind() {
    // The reproducer: a scenario whose first comment holds a byte that is not UTF-8.
    let out = nsgsim(&["check", &regression("poor-invalid-utf8.ron")]);
    out.assert_code(2).stderr_has(&["poor-invalid-utf8.ron:1:12: ", "0xFF", "not valid UTF-8", "valid: "]);

    let dir = TempDir::new("utf8");
    let read = |path: &str| std::fs::read_to_string(root().join(path)).expect("a fixture");
    // Assertion files.
    let (bytes, (l, c)) =
        with_invalid_utf8(&read("tests/data/assertions/arm-gating.ron"), "name: \"arm-", b"\xC3(");
    let file = write_bytes(&dir, "gate.ron", &bytes);
    let out = nsgsim(&[
        "test",
        &file,
        "--scenario",
        &root().join("tests/data/import/expected-arm.ron").display().to_string(),
    ]);
    out.assert_code(2).stderr_has(&[&format!("gate.ron:{l}:{c}: "), "0xC3", "not valid UTF-8"]);
    // CSV and JSON flow logs.
    let (bytes, (l, c)) = with_invalid_utf8(&read("tests/data/flowlogs/flows.csv"), "198.18.0.1,", b"\xFE");
    let csv = write_bytes(&dir, "flows.csv", &bytes);
    let out = nsgsim(&["replay", &scenario("01-nsg-evaluation-order.ron"), &csv]);
    out.assert_code(2).stderr_has(&[&format!("flows.csv:{l}:{c}: "), "0xFE", "not valid UTF-8"]);
    let (bytes, (l, c)) =
        with_invalid_utf8(&read("tests/data/flowlogs/nsg-v2-web-subnet.json"), "\"rule\": \"", b"\x80");
    let json = write_bytes(&dir, "log.json", &bytes);
    let out = nsgsim(&["replay", &scenario("01-nsg-evaluation-order.ron"), &json]);
    out.assert_code(2).stderr_has(&[&format!("log.json:{l}:{c}: "), "0x80", "not valid UTF-8"]);
    // ClassBench filter sets and traces.
    let rules = read("tests/data/classbench/acl1_1K");
    let (bytes, (l, c)) = with_invalid_utf8(&rules, "@110.139", b"\xFF");
    let bad_rules = write_bytes(&dir, "rules", &bytes);
    let trace = root().join("tests/data/classbench/acl1_1K_trace").display().to_string();
    let out = nsgsim(&["classbench", &bad_rules, &trace, "--rounds", "1", "--threads", "1"]);
    out.assert_code(2).stderr_has(&[&format!("rules:{l}:{c}: "), "0xFF", "not valid UTF-8"]);
    let (bytes, (l, c)) = with_invalid_utf8(&read("tests/data/classbench/acl1_1K_trace"), "\t", b"\xFF");
    let bad_trace = write_bytes(&dir, "trace", &bytes);
    let rules_path = root().join("tests/data/classbench/acl1_1K").display().to_string();
    let out = nsgsim(&["classbench", &rules_path, &bad_trace, "--rounds", "1", "--threads", "1"]);
    out.assert_code(2).stderr_has(&[&format!("trace:{l}:{c}: "), "0xFF", "not valid UTF-8"]);
    // Import JSON.
    let (bytes, (l, c)) = with_invalid_utf8(&read("tests/data/import/arm-template.json"), "\"", b"\xF0\x28");
    let template = write_bytes(&dir, "template.json", &bytes);
    let out = nsgsim(&["import", &template, "-o", &dir.path().join("out.ron").display().to_string()]);
    out.assert_code(2).stderr_has(&[&format!("template.json:{l}:{c}: "), "0xF0", "UTF-8"]);
    assert!(!dir.path().join("out.ron").exists(), "nothing is written");
}

#[test]
fn r21_a_raw_identifier_keeps_every_later_position() {
    refused_at(
        "check",
        "poor-ron-raw-identifier.ron",
        "99",
        "nsgs[0].rules[1].priority: rule 'allow-https': priority 99 is outside 100..=4096",
    );
}

#[test]
fn r21_test_reports_a_case_error_on_stderr_at_its_position() {
    let text = regression_text("poor-assert-case-error-no-position.ron");
    let (line, column) = position(&text, "\"nosuch\"", 0);
    let out = nsgsim(&["test", &regression("poor-assert-case-error-no-position.ron")]);
    out.assert_code(2).stderr_has(&[&format!(
        "error: {}:{line}:{column}: cases[0].from: 'nosuch' is not a VM, NIC, public IP, user or IP address; valid: ",
        regression("poor-assert-case-error-no-position.ron")
    )]);
    // The other cases still run and are counted.
    out.stdout_has(&["0 passed, 2 failed, 1 invalid"]);
}

#[test]
fn r21_test_names_the_assertion_file_of_a_missing_scenario() {
    let text = regression_text("poor-assert-missing-scenario.ron");
    let (line, column) = position(&text, "\"nope.ron\"", 0);
    let out = nsgsim(&["test", &regression("poor-assert-missing-scenario.ron")]);
    out.assert_code(2);
    let errors = error_lines(&out.stderr);
    assert_eq!(errors.len(), 1, "one error line:\n{}", out.stderr);
    let want =
        format!("error: {}:{line}:{column}: scenario: ", regression("poor-assert-missing-scenario.ron"));
    assert!(errors[0].starts_with(&want), "{want}\n{}", out.stderr);
    assert!(
        errors[0].contains("nope.ron is not a file; valid: the path of a scenario file"),
        "{}",
        out.stderr
    );
}

#[test]
fn r21_star_in_a_list_says_that_it_cannot_be_combined() {
    let out = refused_at(
        "check",
        "poor-star-and-tag.ron",
        "*, Internet",
        "nsgs[0].rules[0].source: '*' (any address) cannot be combined with other entries; valid: '*' alone, one service tag, or a comma-separated list of IPs/CIDRs",
    );
    assert!(!out.stderr.contains("is not an IP address"), "{}", out.stderr);
}

#[test]
fn r21_a_start_past_the_calendar_says_the_valid_range() {
    let out = nsgsim(&["check", &regression("poor-start-year-9999.ron")]);
    out.assert_code(2).stderr_has(&[
        "poor-start-year-9999.ron:3:12: start: '9999-12-31T23:59:59Z' is outside the calendar nsgsim can represent; valid: a UTC timestamp from -9999-01-02T01:59:59Z to 9999-12-30T22:00:00Z",
    ]);
    for internal in ["Unix timestamp seconds", "civil datetime", "-377705023201"] {
        assert!(!out.stderr.contains(internal), "{internal}: {}", out.stderr);
    }
}

/// One rule for every command and field that takes an offset: past the calendar's end is
/// refused, naming the argument and the valid range.
#[test]
fn r21_every_command_refuses_an_offset_past_the_calendar() {
    let jit = scenario("10-jit-lifecycle.ron");
    let last = "valid: an offset up to 2912801d13h";
    let commands: Vec<Vec<&str>> = vec![
        vec!["eval", &jit, "--from", "alice", "--to", "vm1", "--port", "22", "--at", "99999999h"],
        vec!["lint", &jit, "--at", "99999999h"],
        vec!["diff", &jit, &jit, "--at", "99999999h"],
        vec!["exposure", &jit, "--from", "99999999h"],
        vec!["exposure", &jit, "--to", "99999999h"],
        vec!["reach", &jit, "--to", "vm1", "--at", "99999999h"],
        vec!["effective-rules", &jit, "--vm", "vm1", "--at", "99999999h"],
        vec!["jit", "status", &jit, "--at", "99999999h"],
        vec!["replay", &jit, "tests/data/flowlogs/flows.csv", "--at", "99999999h"],
    ];
    for args in commands {
        let out = nsgsim(&args);
        out.assert_code(2);
        let flag = args.iter().rev().nth(1).expect("a flag");
        assert!(
            out.stderr.contains(&format!("error: {flag}: offset 4166666d15h ")),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(last), "{args:?}: {}", out.stderr);
    }
    // The CSV `at` column is an offset like `--at`, under the same rule, at its cell.
    let dir = TempDir::new("csv-at");
    let csv = dir.write(
        "late.csv",
        "src,dst,src_port,dst_port,protocol,expected,at\n203.0.113.9,10.0.1.4,50000,22,tcp,,99999999h\n",
    );
    let out = nsgsim(&["replay", &jit, &csv]);
    out.assert_code(2).stderr_has(&["late.csv:2:36: at: offset 4166666d15h ", last]);
    // A long bad cell is cut, and what is valid still follows it (the streamed reader cut the
    // whole message, and "valid" with it: found by the fuzz run, tests/data/regressions).
    let cell = format!("\u{202E}{}", "x".repeat(10_000));
    let long = dir.write(
        "long.csv",
        &format!(
            "src,dst,src_port,dst_port,protocol,expected,at\n203.0.113.9,10.0.1.4,50000,22,tcp,,{cell}\n"
        ),
    );
    let out = nsgsim(&["replay", &jit, &long]);
    out.assert_code(2).stderr_has(&["long.csv:2:36: at: '\\u{202e}xxx", "(9801 more characters)", "valid: "]);
    assert!(!out.stderr.contains('\u{202E}'), "{}", out.stderr);
}

#[test]
fn r21_a_negative_offset_is_read_as_a_value_and_refused_with_what_is_valid() {
    let jit = scenario("10-jit-lifecycle.ron");
    for at in [["--at", "-5m"], ["--at=-5m", ""]] {
        let mut args = vec!["eval", &jit, "--from", "alice", "--to", "vm1", "--port", "22"];
        args.extend(at.iter().filter(|a| !a.is_empty()));
        let out = nsgsim(&args);
        out.assert_code(2).stderr_has(&["error: --at: '-5m' is negative; valid: 0 or more"]);
        assert!(!out.stderr.contains("unexpected argument"), "{}", out.stderr);
    }
    let out = nsgsim(&["lint", &jit, "--at", "-1h"]);
    out.assert_code(2).stderr_has(&["error: --at: '-1h' is negative"]);
    let out = nsgsim(&["exposure", &jit, "--from", "-1h"]);
    out.assert_code(2).stderr_has(&["error: --from: '-1h' is negative"]);
}

#[test]
fn r21_assertion_offsets_past_the_calendar_are_refused_at_their_position() {
    let out = refused_at(
        "test",
        "assert-at-beyond-calendar.ron",
        "\"99999999999h\"",
        "at: offset 4166666666d15h after the start 2025-01-06T09:00:00Z is past 9999-12-30T22:00:00Z",
    );
    assert!(!out.stdout.contains("+4166666666d15h"), "nothing is evaluated there:\n{}", out.stdout);

    let text = regression_text("assert-case-at-beyond-calendar.ron");
    let (line, column) = position(&text, "\"PT9223372036854775807S\"", 0);
    let out = nsgsim(&["test", &regression("assert-case-at-beyond-calendar.ron")]);
    out.assert_code(2)
        .stderr_has(&[&format!("assert-case-at-beyond-calendar.ron:{line}:{column}: cases[0].at: offset ")]);
    out.stderr_has(&["valid: an offset up to 2912801d13h"]);
    out.stdout_has(&["0 passed, 2 failed, 1 invalid"]);
}

#[test]
fn r21_a_grant_that_would_end_past_the_calendar_is_refused() {
    let text = regression_text("jit-grant-clamped-at-calendar-end.ron");
    let (line, column) = position(&text, "\"3h\"", 0);
    for command in ["check", "run"] {
        let out = nsgsim(&[command, &regression("jit-grant-clamped-at-calendar-end.ron")]);
        out.assert_code(2).stderr_has(&[&format!(
            "jit-grant-clamped-at-calendar-end.ron:{line}:{column}: timeline[1].action.duration: a 3h grant from offset 2912801d13h would end past 9999-12-30T22:00:00Z, the last instant nsgsim can represent; valid: a duration up to 0s at this offset"
        )]);
    }
    // The same rule for a what-if request on the command line.
    let jit = scenario("10-jit-lifecycle.ron");
    let out = nsgsim(&[
        "jit",
        "request",
        &jit,
        "--user",
        "alice",
        "--vm",
        "vm1",
        "--port",
        "22",
        "--duration",
        "3h",
        "--at",
        "2912801d12h",
    ]);
    out.assert_code(2).stderr_has(&[
        "error: --duration: a 3h grant from offset 2912801d12h would end past 9999-12-30T22:00:00Z",
    ]);
    out.stderr_has(&["valid: a duration up to 1h at this offset"]);
}

#[test]
fn r21_import_start_is_checked_as_an_argument() {
    let dir = TempDir::new("start");
    let out_file = dir.path().join("out.ron");
    for start in ["", "yesterday", "9999-12-31T23:59:59Z"] {
        let out = nsgsim(&[
            "import",
            "--start",
            start,
            "tests/data/import/arm-template.json",
            "-o",
            &out_file.display().to_string(),
        ]);
        out.assert_code(2).stderr_has(&["error: --start: ", "valid: "]);
        assert!(!out.stderr.contains("out.ron:"), "cites the unwritten file: {}", out.stderr);
        assert!(!out_file.exists(), "nothing is written");
    }
}

#[test]
fn r21_import_errors_name_their_position_and_field() {
    // Both reproducers gave a JSON path without a line and column before the import rewrite's
    // positioned reader (issue 23); kept here so that they stay positioned.
    let dir = TempDir::new("import-pos");
    let out_file = dir.path().join("out.ron").display().to_string();
    for (name, needle, message) in [
        (
            "poor-import-string-for-list.json",
            "\"-\"",
            "resources[0].properties.securityRules[0].properties.sourcePortRanges: '-': '-' is not a port range",
        ),
        (
            "poor-import-missing-addressspace.json",
            "{\n        \"subnets\"",
            "resources[2].properties.addressSpace.addressPrefixes: virtual network 'prod' has no address space",
        ),
    ] {
        let (line, column) = position(&regression_text(name), needle, 0);
        let out = nsgsim(&["import", &regression(name), "-o", &out_file]);
        out.assert_code(2).stderr_has(&[&format!("{name}:{line}:{column}: {message}")]);
    }
}

#[test]
fn r21_thread_counts_are_refused_before_any_thread_starts() {
    // The input files do not exist: the count is refused while the arguments are read, before any
    // file is opened or any thread started. Were that check ever lost, these runs would stop at the
    // missing file instead (the test fails) and still start no thread: the test itself can never
    // ask the machine for 65,535 threads.
    let dir = TempDir::new("threads");
    let missing = |name: &str| dir.path().join(name).display().to_string();
    let (rules, trace, log) = (missing("no-rules"), missing("no-trace"), missing("no-log.csv"));
    let s01 = scenario("01-nsg-evaluation-order.ron");
    for count in ["65535", "1025", "0"] {
        for args in [
            vec!["classbench", &rules, &trace, "--threads", count],
            vec!["replay", &s01, &log, "--threads", count],
        ] {
            let out = nsgsim(&args);
            out.assert_code(2).stderr_has(&["--threads", count, "1..=1024"]);
            assert!(!out.stderr.contains("no-"), "refused after reading the inputs: {}", out.stderr);
            assert!(!out.stderr.contains("os error"), "{}", out.stderr);
        }
    }
}

#[test]
fn r21_messages_cut_long_values_and_escape_control_characters() {
    let dir = TempDir::new("echo");
    let base = std::fs::read_to_string(scenario("01-nsg-evaluation-order.ron")).expect("a scenario");
    // A 100 KB port value with a right-to-left override and an escape sequence in it.
    let huge = format!("2\u{202E}2\u{1b}[2J{}", "9".repeat(100_000));
    let text = base.replacen("destination_ports: \"22\"", &format!("destination_ports: \"{huge}\""), 1);
    assert_ne!(text, base, "the base scenario has a rule on port 22");
    let file = dir.write("huge.ron", &text);
    let out = nsgsim(&["check", &file]);
    out.assert_code(2);
    assert!(out.stderr.len() < 1_000, "{} bytes of stderr", out.stderr.len());
    assert!(!out.stderr.contains('\u{202E}') && !out.stderr.contains('\u{1b}'), "{}", out.stderr);
    out.stderr_has(&["\\u{202e}", "\\u{1b}[2J", "more characters)"]);
    // A command-line value, through clap and through nsgsim's own parsers.
    let long_arg = format!("vm\u{202E}{}", "x".repeat(50_000));
    let jit = scenario("10-jit-lifecycle.ron");
    for args in [
        vec!["eval", &jit, "--from", &long_arg, "--to", "vm1", "--port", "22"],
        vec!["eval", &jit, "--from", "alice", "--to", "vm1", "--port", &long_arg],
        vec!["lint", &jit, "--at", &long_arg],
    ] {
        let out = nsgsim(&args);
        out.assert_code(2);
        assert!(out.stderr.len() < 2_000, "{} bytes of stderr", out.stderr.len());
        assert!(!out.stderr.contains('\u{202E}'), "{}", out.stderr);
    }
}

#[test]
fn r21_a_public_ip_must_be_a_public_address() {
    let out = refused_at(
        "check",
        "sem-public-ip-equals-private-ip.ron",
        "\"10.0.1.4\"",
        "public_ips[0].address: public IP 'pip': 10.0.1.4 is a private address (10.0.0.0/8, RFC 1918)",
    );
    assert!(out.stderr.contains("valid: a public"), "{}", out.stderr);
    // A public range used inside a VNet: the public IP may not be a NIC's private address.
    let text = regression_text("sem-public-ip-equals-private-ip.ron");
    let dir = TempDir::new("pip");
    let same = text
        .replace("\"10.0.0.0/16\"", "\"20.0.0.0/16\"")
        .replace("\"10.0.1.0/24\"", "\"20.0.1.0/24\"")
        .replace("\"10.0.2.0/24\"", "\"20.0.2.0/24\"")
        .replace("\"10.0.1.4\"", "\"20.0.1.4\"");
    let file = dir.write("same.ron", &same);
    let (line, column) = position(&same, "\"20.0.1.4\"", 0);
    let out = nsgsim(&["check", &file]);
    out.assert_code(2).stderr_has(&[&format!(
        "same.ron:{line}:{column}: public_ips[0].address: public IP 'pip': 20.0.1.4 is the private IP of nic 'vm1-nic'"
    )]);
}

#[test]
fn r21_a_jit_request_names_at_least_one_port() {
    let base = std::fs::read_to_string(scenario("10-jit-lifecycle.ron")).expect("a scenario");
    let from = "ports: [22], duration: \"1h\")),";
    assert_eq!(base.matches(from).count(), 1, "the base scenario has one such request");
    let text = base.replacen(from, "ports: [], duration: \"1h\")),", 1);
    let dir = TempDir::new("ports");
    let file = dir.write("empty-ports.ron", &text);
    let (line, column) = position(&text, "[], duration", 0);
    let out = nsgsim(&["check", &file]);
    out.assert_code(2).stderr_has(&[
        &format!("empty-ports.ron:{line}:{column}: timeline[",),
        "].action.ports: a request names at least one port; valid: ports of the VM's JIT policy, e.g. [22]",
    ]);
}

/// Found by fresh fuzz seeds 9109 and 9110: two refusals that said what is wrong but not what
/// would be valid.
#[test]
fn r21_a_priority_clash_and_an_empty_choice_say_what_is_valid() {
    refused_at(
        "check",
        "fuzz-scenario-duplicate-priority.ron",
        "100, direction: Inbound, access: Deny",
        "nsgs[0].rules[1].priority: rule 'deny-vnet-in' conflicts with rule 'allow-ssh': rules cannot have the same priority (100) and direction (Inbound) (Azure: SecurityRuleConflict); valid: a priority in 100..=4096 that no other Inbound rule of the NSG has",
    );
    refused_at(
        "check",
        "fuzz-scenario-empty-choice.ron",
        "\"   \"",
        "timeline[0].question.choices[1]: a choice is empty; valid: the choice's text, shown after its letter",
    );
}

/// Found by CI's fresh fuzz seed 1796613454130286963: overlapping address spaces of one VNet.
#[test]
fn r21_overlapping_address_spaces_say_what_is_valid() {
    refused_at(
        "check",
        "fuzz-scenario-overlapping-address-spaces.ron",
        "\"10.0.1.4/32\"",
        "vnets[0].address_space: vnet 'hub': address spaces 10.0.0.0/16 and 10.0.1.4/32 overlap; valid: address spaces that share no address (keep the wider one, or give the other a range of its own)",
    );
}

/// Found by fresh fuzz seed 9202: a VNet peered with itself.
#[test]
fn r21_a_self_peering_says_what_is_valid() {
    refused_at(
        "check",
        "fuzz-scenario-self-peering.ron",
        "(\"spoke\", \"spoke\")",
        "peerings[0]: vnet 'spoke' cannot be peered with itself; valid: a peering of two different VNets",
    );
}

/// Found by fresh fuzz seed 9315: an Azure Firewall in a subnet of another name said where
/// Azure deploys a firewall, in words the rule "say what is valid" did not recognise.
#[test]
fn r21_a_firewall_outside_its_subnet_says_what_is_valid() {
    let name = "fuzz-arm-firewall-wrong-subnet.json";
    let text = regression_text(name);
    let (line, column) =
        position(&text, "\"[resourceId('Microsoft.Network/virtualNetworks/subnets', 'hub', 'Azu+e", 0);
    let dir = TempDir::new("fw-subnet");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[&format!(
        "{name}:{line}:{column}: resources[2].properties.ipConfigurations[0].properties.subnet.id: 'Azu+eFirewallSubnet': Azure Firewall 'fw' is in subnet 'Azu+eFirewallSubnet'; valid: the subnet named AzureFirewallSubnet, the only one Azure deploys a firewall into"
    )]);
}

/// Found by fresh fuzz seeds 9328 and 9331: an empty concept question, and a Terraform
/// reference that is not a resource id, said what is wrong but not what is valid.
#[test]
fn r21_an_empty_question_and_a_bad_terraform_id_say_what_is_valid() {
    refused_at(
        "check",
        "fuzz-scenario-empty-question.ron",
        "\" \"",
        "timeline[0].question.ask: the question is empty; valid: the question's text, shown before its choices",
    );
    // Fresh seed 9537: a concept question's source with a blank title.
    refused_at(
        "check",
        "fuzz-scenario-empty-source-title.ron",
        "\"  \"",
        "timeline[0].question.source.title: the source's title is empty; valid: the title of the page where Microsoft says it",
    );
    let name = "fuzz-terraform-nic-id-not-an-id.json";
    let (line, column) = position(&regression_text(name), "\"source_port_range\"", 0);
    let dir = TempDir::new("tf-id");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[&format!(
        "{name}:{line}:{column}: values.root_module.resources[1](azurerm_windows_virtual_machine.web).values.network_interface_ids[0]: 'source_port_range': network_interface_ids: not an Azure resource id (valid: /subscriptions/…/resourceGroups/…/providers/<namespace>/<type>/<name>)"
    )]);
}

/// Found by fresh fuzz seed 9327: an index past the end of an ARM array said what is wrong but
/// not which indexes are valid.
#[test]
fn r21_an_arm_index_out_of_range_names_the_valid_indexes() {
    let name = "fuzz-arm-index-out-of-range.json";
    let (line, column) =
        position(&regression_text(name), "\"[parameters('rules')[copyIndex('securityRules')].name]\"", 0);
    let dir = TempDir::new("arm-index");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[&format!(
        "{name}:{line}:{column}: resources[0].properties.securityRules[2].name: '[parameters('rules')[copyIndex('securityRules')].name]': index 2 is out of range for an array of 2 item(s); valid: 0..=1"
    )]);
}

/// Found by fresh fuzz seed 9337: an ARM variable that refers to itself named the cycle but
/// not what is valid.
#[test]
fn r21_a_self_referring_arm_variable_says_what_is_valid() {
    let name = "fuzz-arm-variable-refers-to-itself.json";
    let (line, column) = position(&regression_text(name), "\"[variables('vnetName')]\"", 1);
    let dir = TempDir::new("arm-cycle");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[&format!(
        "{name}:{line}:{column}: resources[0].name: '[variables('vnetName')]': variables('vnetName') refers to itself: variables('vnetName') -> variables('vnetName'); valid: a value that does not depend on itself (break the cycle at one of these)"
    )]);
}

/// Found by fresh fuzz seed 9342: a resource `copy` that is not an object.
#[test]
fn r21_a_resource_copy_that_is_not_an_object_says_what_is_valid() {
    let name = "fuzz-arm-copy-not-an-object.json";
    let (line, column) = position(&regression_text(name), "\"[format('{0}{1}', 'pip', 2)]\"", 0);
    let dir = TempDir::new("arm-copy");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[&format!(
        "{name}:{line}:{column}: resources[0].copy: '[format('{{0}}{{1}}', 'pip', 2)]': a resource copy loop is not an object; valid: an object {{\"name\": ..., \"count\": ...}} (property loops go inside 'properties')"
    )]);
}

/// Found by fresh fuzz seed 9355, the first fact a fresh seed found since the fresh seed gates
/// on facts: `reference('network')` in a resource's own name, with no symbolic name `network`,
/// searched the resources by name, evaluating that same name again, until the stack overflowed.
#[test]
fn r21_a_reference_inside_its_own_name_ends_with_a_positioned_error() {
    let name = "fuzz-arm-reference-names-its-own-name.json";
    let (line, column) = position(&regression_text(name), "\"[format('{0}-{1}-nic'", 0);
    let dir = TempDir::new("arm-own-name");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[&format!(
        "{name}:{line}:{column}: resources.nic.name: '[format('{{0}}-{{1}}-nic', parameters('prefix'), reference('network').outputs.subnetName.value)]': reference('network') reads a resource that is not in the template"
    )]);
    assert!(!out.stderr.contains("overflow"), "{}", out.stderr);
}

/// Found by fresh fuzz seed 9363: `json()` of a text that is not JSON gave serde_json's reason
/// without what is valid.
#[test]
fn r21_json_of_a_text_that_is_not_json_says_what_is_valid() {
    let name = "fuzz-arm-json-function-not-json.json";
    let (line, column) = position(&regression_text(name), "\"[variables('config').name]\"", 0);
    let dir = TempDir::new("arm-json");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[
        &format!("{name}:{line}:{column}: resources[0].name: '[variables('config').name]': json(): '{{\"name\": \"web\\u{{1d}}nsg\"}}' is not JSON: control character"),
        "; valid: a JSON text (RFC 8259)",
    ]);
}

/// Found by the fuzz run of `.ci/check` the day NAT gateways were imported: a Basic public IP on a
/// NAT gateway (its `sku` deleted, so Azure's default Basic) was refused by the scenario check
/// with no position, because NAT gateways and prefixes had no origins. It is now told at the
/// gateway's definition, naming the Terraform address.
#[test]
fn r21_a_basic_public_ip_on_a_nat_gateway_is_refused_where_the_gateway_is() {
    let name = "fuzz-tf-nat-gateway-basic-ip.json";
    let text = regression_text(name);
    let (line, _) = position(&text, "\"address\": \"azurerm_nat_gateway.main\"", 0);
    let dir = TempDir::new("nat-basic-ip");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[
        &format!("{name}:{}:16: values.root_module.resources[4](azurerm_nat_gateway.main).values: NAT gateway 'ng-web': public IP 'pip-nat' is Basic SKU", line + 6),
        "valid: a Standard public IP (scenario field nat_gateways[0]); nothing written",
    ]);
    assert!(!output.exists(), "nothing written");
}

/// Found by fresh fuzz seed 9422: two VMs claiming one NIC (a plan whose second VM instance lost
/// its index) were refused without saying what is valid.
#[test]
fn r21_a_nic_claimed_by_two_vms_says_what_is_valid() {
    let name = "fuzz-tf-nic-attached-twice.json";
    let dir = TempDir::new("nic-twice");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[
        &format!("{name}:1608:14: resource_changes[25](azurerm_linux_virtual_machine.main).change.after: cannot resolve Microsoft.Network/networkInterfaces/lbex-nic0: network interface 'lbex-nic0' is already attached to virtual machine 'lbex-vm0'; valid: a network interface attached to one virtual machine only"),
    ]);
}

/// Found by fresh fuzz seed 9451: a network interface whose `ipConfigurations` is an empty list
/// panicked the importer (it took the primary configuration out of an empty list).
#[test]
fn r22_a_nic_with_no_ip_configuration_is_a_positioned_error() {
    let name = "fuzz-az-nic-empty-ip-configurations.json";
    let dir = TempDir::new("nic-empty-ipconfigs");
    let output = dir.path().join("out.ron");
    let out = nsgsim(&["import", &regression(name), "-o", &output.to_string_lossy()]);
    out.assert_code(2).stderr_has(&[&format!(
        "{name}:24:27: [1].properties.ipConfigurations: '[]': network interface 'vm1-nic' has an empty ipConfigurations: a network interface needs at least one IP configuration (its primary)"
    )]);
    assert!(!output.exists(), "nothing written");
}

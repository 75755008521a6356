//! End-to-end tests of the foundation's command line: `check`, `run`, `eval` and
//! `effective-rules` on the real binary, with exit codes, diagnostics and JSON shapes.
//!
//! Exit codes (DESIGN.md): 0 ok, 1 an expectation failed, 2 invalid input or usage.

use serde_json::Value;

use crate::util::{TempDir, array, nsgsim, position, replace_once, scenario, string};

/// A small valid scenario. Each broken-file test changes one thing in it. Note the two rules with
/// priority 100: the same priority in both directions is valid.
const BASE: &str = r#"// A small valid scenario; the tests break it one field at a time.
Scenario(
    name: "broken",
    start: "2025-01-06T09:00:00Z",
    vnets: [
        Vnet(name: "net", address_space: ["10.0.0.0/16"], subnets: [
            Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "nsg-a"),
            Subnet(name: "b", prefix: "10.0.2.0/24"),
        ]),
    ],
    asgs: ["web"],
    nsgs: [
        Nsg(name: "nsg-a", rules: [
            Rule(name: "allow-ssh", priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
                 source: "10.0.2.0/24", destination_ports: "22"),
            Rule(name: "deny-web-out", priority: 100, direction: Outbound, access: Deny, protocol: Tcp,
                 destination: "Internet", destination_ports: "80"),
        ]),
    ],
    public_ips: [PublicIp(name: "vm1-pip", address: "20.0.0.1")],
    vms: [
        Vm(name: "vm1", os: Linux, nics: [Nic(name: "vm1-nic", subnet: "net/a", private_ip: "10.0.1.4", public_ip: "vm1-pip")]),
        Vm(name: "vm2", os: Linux, nics: [Nic(name: "vm2-nic", subnet: "net/b", private_ip: "10.0.2.4", asgs: ["web"])]),
    ],
    users: [User(name: "alice", source_ip: "203.0.113.5")],
    timeline: [
        (at: "0", expect: Flow(from: "vm2", to: "vm1", port: 22, verdict: Allow, rule: "securityRules/allow-ssh")),
        (at: "5m", expect: Flow(from: "vm1", to: "alice", port: 80, verdict: Deny, nsg: "nsg-a", rule: "deny-web-out")),
    ],
)
"#;

/// One way to break `BASE`.
struct Broken {
    /// Test label (also the file name).
    label: &'static str,
    /// Text to replace (exactly once) ...
    from: &'static str,
    /// ... and its replacement.
    to: &'static str,
    /// Where the error must point: the `nth` occurrence of a needle in the broken text, or `None`
    /// when only the presence of `line:col` is checked.
    at: Option<(&'static str, usize)>,
    /// The field path printed after the position (empty for RON syntax errors, which have none).
    field: &'static str,
    /// Fragments the message must contain: the bad value and what is valid.
    message: &'static [&'static str],
}

const BROKEN: &[Broken] = &[
    Broken {
        label: "malformed-ron",
        from: "priority: 100, direction: Inbound",
        to: "priority: 100 direction: Inbound",
        at: Some(("direction: Inbound", 0)),
        field: "",
        message: &["Expected comma"],
    },
    Broken {
        label: "unknown-nsg-reference",
        from: r#"nsg: "nsg-a")"#,
        to: r#"nsg: "nsg-zz")"#,
        at: Some((r#""nsg-zz""#, 0)),
        field: "vnets[0].subnets[0].nsg",
        message: &["unknown nsg 'nsg-zz'", "valid: nsg-a"],
    },
    Broken {
        label: "ip-outside-subnet",
        from: r#"private_ip: "10.0.1.4""#,
        to: r#"private_ip: "10.0.5.4""#,
        at: Some((r#""10.0.5.4""#, 0)),
        field: "vms[0].nics[0].private_ip",
        message: &[
            "private IP 10.0.5.4 is outside subnet 'a' (10.0.1.0/24)",
            "valid: an address inside 10.0.1.0/24",
        ],
    },
    Broken {
        label: "reserved-ip",
        from: r#"private_ip: "10.0.1.4""#,
        to: r#"private_ip: "10.0.1.1""#,
        at: Some((r#""10.0.1.1""#, 0)),
        field: "vms[0].nics[0].private_ip",
        message: &["private IP 10.0.1.1 is reserved by Azure", "valid: 10.0.1.4..10.0.1.254"],
    },
    Broken {
        label: "reserved-broadcast",
        from: r#"private_ip: "10.0.2.4""#,
        to: r#"private_ip: "10.0.2.255""#,
        at: Some((r#""10.0.2.255""#, 0)),
        field: "vms[1].nics[0].private_ip",
        message: &["private IP 10.0.2.255 is reserved by Azure", "valid: 10.0.2.4..10.0.2.254"],
    },
    Broken {
        label: "not-an-ip",
        from: r#"private_ip: "10.0.2.4""#,
        to: r#"private_ip: "10.0.2.x""#,
        at: Some((r#""10.0.2.x""#, 0)),
        field: "vms[1].nics[0].private_ip",
        message: &["'10.0.2.x' is not an IP address"],
    },
    Broken {
        label: "overlapping-subnets",
        from: r#"prefix: "10.0.2.0/24""#,
        to: r#"prefix: "10.0.1.128/25""#,
        at: Some((r#""10.0.1.128/25""#, 0)),
        field: "vnets[0].subnets[1].prefix",
        message: &["subnet 'b' (10.0.1.128/25) overlaps subnet 'a' (10.0.1.0/24) in vnet 'net'"],
    },
    Broken {
        label: "subnet-outside-vnet",
        from: r#"prefix: "10.0.2.0/24""#,
        to: r#"prefix: "10.9.2.0/24""#,
        at: Some((r#""10.9.2.0/24""#, 0)),
        field: "vnets[0].subnets[1].prefix",
        message: &["prefix 10.9.2.0/24 is outside vnet 'net' address space 10.0.0.0/16"],
    },
    Broken {
        label: "priority-99",
        from: "priority: 100, direction: Inbound",
        to: "priority: 99, direction: Inbound",
        at: Some(("99", 0)),
        field: "nsgs[0].rules[0].priority",
        message: &["rule 'allow-ssh': priority 99 is outside 100..=4096"],
    },
    Broken {
        label: "priority-4097",
        from: "priority: 100, direction: Inbound",
        to: "priority: 4097, direction: Inbound",
        at: Some(("4097", 0)),
        field: "nsgs[0].rules[0].priority",
        message: &["rule 'allow-ssh': priority 4097 is outside 100..=4096"],
    },
    Broken {
        label: "duplicate-priority",
        from: "direction: Outbound",
        to: "direction: Inbound",
        // The second rule's priority.
        at: Some(("100", 1)),
        field: "nsgs[0].rules[1].priority",
        message: &[
            "rule 'deny-web-out' conflicts with rule 'allow-ssh'",
            "same priority (100) and direction (Inbound)",
            "SecurityRuleConflict",
        ],
    },
    Broken {
        label: "duplicate-rule-name",
        from: r#"name: "deny-web-out""#,
        to: r#"name: "allow-ssh""#,
        // The duplicate, not the first rule of that name.
        at: Some((r#""allow-ssh""#, 1)),
        field: "nsgs[0].rules[1].name",
        message: &["rule name 'allow-ssh' is used twice"],
    },
    Broken {
        // Azure compares rule names case-insensitively (audit: reported at rules[0]).
        label: "duplicate-rule-name-other-case",
        from: r#"name: "deny-web-out""#,
        to: r#"name: "Allow-SSH""#,
        at: Some((r#""Allow-SSH""#, 0)),
        field: "nsgs[0].rules[1].name",
        message: &["rule name 'Allow-SSH' is used twice", "unique within the NSG"],
    },
    Broken {
        label: "duplicate-vnet-name",
        from: r#"    ],
    asgs"#,
        to: r#"        Vnet(name: "net", address_space: ["10.9.0.0/16"]),
    ],
    asgs"#,
        // The second VNet's name, not the first's line (audit).
        at: Some((r#""net""#, 1)),
        field: "vnets[1].name",
        message: &["vnet name 'net' is used twice"],
    },
    Broken {
        label: "priority-negative",
        from: "priority: 100, direction: Inbound",
        to: "priority: -1, direction: Inbound",
        at: Some(("-1", 0)),
        field: "nsgs[0].rules[0].priority",
        message: &["rule 'allow-ssh': priority -1 is outside 100..=4096"],
    },
    Broken {
        label: "priority-huge",
        from: "priority: 100, direction: Inbound",
        to: "priority: 99999999999, direction: Inbound",
        at: Some(("99999999999", 0)),
        field: "nsgs[0].rules[0].priority",
        message: &["priority 99999999999 is outside 100..=4096"],
    },
    Broken {
        label: "flow-port-too-big",
        from: "to: \"vm1\", port: 22,",
        to: "to: \"vm1\", port: 70000,",
        at: Some(("70000", 0)),
        field: "timeline[0].expect.port",
        message: &["port 70000 is outside 0..=65535"],
    },
    Broken {
        label: "port-empty-entry",
        from: r#"destination_ports: "22""#,
        to: r#"destination_ports: "22,,23""#,
        at: Some((r#""22,,23""#, 0)),
        field: "nsgs[0].rules[0].destination_ports",
        message: &["'22,,23' has an empty entry", "valid: '*', a port"],
    },
    Broken {
        label: "port-blank",
        from: r#"destination_ports: "22""#,
        to: r#"destination_ports: " ""#,
        at: Some((r#"" ""#, 0)),
        field: "nsgs[0].rules[0].destination_ports",
        message: &["' ' is empty", "valid: '*', a port"],
    },
    Broken {
        label: "port-star-in-list",
        from: r#"destination_ports: "22""#,
        to: r#"destination_ports: "*,22""#,
        at: Some(("*,22", 0)),
        field: "nsgs[0].rules[0].destination_ports",
        message: &["'*,22' lists '*' with other entries", "valid: '*' alone, or a list of ports"],
    },
    Broken {
        label: "subnet-30",
        from: r#"prefix: "10.0.2.0/24""#,
        to: r#"prefix: "10.0.2.0/30""#,
        at: Some((r#""10.0.2.0/30""#, 0)),
        field: "vnets[0].subnets[1].prefix",
        message: &["prefix 10.0.2.0/30 is smaller than Azure allows", "valid: a prefix length of /2 to /29"],
    },
    Broken {
        label: "address-space-everything",
        from: r#"address_space: ["10.0.0.0/16"]"#,
        to: r#"address_space: ["0.0.0.0/0"]"#,
        at: Some((r#""0.0.0.0/0""#, 0)),
        field: "vnets[0].address_space",
        message: &["address space 0.0.0.0/0 includes 224.0.0.0/4 (multicast)", "valid: a range outside"],
    },
    Broken {
        label: "address-space-platform",
        from: r#"address_space: ["10.0.0.0/16"]"#,
        to: r#"address_space: ["10.0.0.0/16", "168.63.0.0/16"]"#,
        at: Some((r#""168.63.0.0/16""#, 0)),
        field: "vnets[0].address_space",
        message: &["includes 168.63.129.16/32"],
    },
    Broken {
        label: "offset-past-the-calendar",
        from: r#"at: "5m""#,
        to: r#"at: "9223372036854775807s""#,
        at: Some((r#""9223372036854775807s""#, 0)),
        field: "timeline[1].at",
        message: &["is past 9999-12-30T22:00:00Z", "valid: an offset up to"],
    },
    Broken {
        label: "remove-default-rule",
        from: "    ],\n)\n",
        to: "        (at: \"6m\", action: RemoveRule(nsg: \"nsg-a\", rule: \"DenyAllInBound\")),\n    ],\n)\n",
        at: Some((r#""DenyAllInBound""#, 0)),
        field: "timeline[2].action.rule",
        message: &["'DenyAllInBound' is one of the default rules, which cannot be removed"],
    },
    Broken {
        label: "cidr-host-bits",
        from: r#"source: "10.0.2.0/24""#,
        to: r#"source: "10.0.2.5/24""#,
        at: Some((r#""10.0.2.5/24""#, 0)),
        field: "nsgs[0].rules[0].source",
        message: &[
            "'10.0.2.5/24' is not an IP address or CIDR prefix",
            "host bits are set; the network is 10.0.2.0/24",
        ],
    },
    Broken {
        label: "cidr-33",
        from: r#"source: "10.0.2.0/24""#,
        to: r#"source: "10.0.2.0/33""#,
        at: Some((r#""10.0.2.0/33""#, 0)),
        field: "nsgs[0].rules[0].source",
        message: &["'10.0.2.0/33' is not an IP address or CIDR prefix", "IPv4 length 0-32"],
    },
    Broken {
        label: "cidr-in-list",
        from: r#"source: "10.0.2.0/24""#,
        to: r#"source: "10.0.2.0/24, 10.0.3.1/16""#,
        at: Some(("10.0.3.1/16", 0)),
        field: "nsgs[0].rules[0].source",
        message: &["'10.0.3.1/16' is not an IP address or CIDR prefix", "the network is 10.0.0.0/16"],
    },
    Broken {
        label: "port-range-reversed",
        from: r#"destination_ports: "22""#,
        to: r#"destination_ports: "22-20""#,
        at: Some((r#""22-20""#, 0)),
        field: "nsgs[0].rules[0].destination_ports",
        message: &["'22-20' is not a port range: the start is above the end", "valid: '*', a port 0-65535"],
    },
    Broken {
        label: "port-too-big",
        from: r#"destination_ports: "22""#,
        to: r#"destination_ports: "22,70000""#,
        at: Some(("70000", 0)),
        field: "nsgs[0].rules[0].destination_ports",
        message: &["'70000' is not a port range: a port must be at most 65535"],
    },
    Broken {
        label: "unknown-service-tag",
        from: r#"source: "10.0.2.0/24""#,
        to: r#"source: "AzureFoo""#,
        at: Some((r#""AzureFoo""#, 0)),
        field: "nsgs[0].rules[0].source",
        message: &[
            "unknown service tag 'AzureFoo'",
            "valid: VirtualNetwork, Internet, AzureLoadBalancer",
            "or define it in service_tags",
        ],
    },
    Broken {
        label: "two-service-tags",
        from: r#"source: "10.0.2.0/24""#,
        to: r#"source: "VirtualNetwork,Internet""#,
        at: Some(("VirtualNetwork", 0)),
        field: "nsgs[0].rules[0].source",
        message: &["service tag 'VirtualNetwork' cannot be combined with other entries"],
    },
    Broken {
        label: "asg-and-prefix",
        from: r#"source: "10.0.2.0/24", destination_ports: "22""#,
        to: r#"source: "10.0.2.0/24", source_asgs: ["web"], destination_ports: "22""#,
        at: Some((r#""10.0.2.0/24""#, 1)),
        field: "nsgs[0].rules[0].source",
        message: &["cannot be combined with application security groups"],
    },
    Broken {
        label: "unknown-asg",
        from: r#"asgs: ["web"])"#,
        to: r#"asgs: ["db"])"#,
        at: Some((r#""db""#, 0)),
        field: "vms[1].nics[0].asgs[0]",
        message: &["unknown application security group 'db'", "declare it in asgs"],
    },
    Broken {
        label: "unknown-subnet",
        from: r#"subnet: "net/b""#,
        to: r#"subnet: "net/c""#,
        at: Some((r#""net/c""#, 0)),
        field: "vms[1].nics[0].subnet",
        message: &["unknown subnet 'net/c'", "valid: net/a, net/b"],
    },
    Broken {
        label: "unknown-field",
        from: r#"Vm(name: "vm2", os: Linux,"#,
        to: r#"Vm(name: "vm2", os: Linux, colour: "red","#,
        at: Some(("colour", 0)),
        field: "",
        message: &["`colour`", "`Vm`", "expected one of `name`, `os`", "docs/scenario-format.md"],
    },
    Broken {
        label: "missing-field",
        from: r#"Subnet(name: "b", prefix: "10.0.2.0/24")"#,
        to: r#"Subnet(name: "b")"#,
        at: None,
        field: "",
        message: &["prefix", "docs/scenario-format.md"],
    },
    Broken {
        label: "unknown-endpoint-from",
        from: r#"from: "vm2""#,
        to: r#"from: "vm9""#,
        at: Some((r#""vm9""#, 0)),
        field: "timeline[0].expect.from",
        message: &[
            "'vm9' is not a VM, NIC, public IP, user or IP address",
            "valid: VMs [vm1, vm2], users [alice], or an IP address",
        ],
    },
    Broken {
        label: "unknown-endpoint-to",
        from: r#"to: "alice""#,
        to: r#"to: "bob""#,
        at: Some((r#""bob""#, 0)),
        field: "timeline[1].expect.to",
        message: &["'bob' is not a VM, NIC, public IP, user or IP address"],
    },
    Broken {
        label: "bad-duration",
        from: r#"at: "5m""#,
        to: r#"at: "90x""#,
        at: Some((r#""90x""#, 0)),
        field: "timeline[1].at",
        message: &["'90x' is not a duration", "valid: e.g. 90m, 2h30m, 45s, 1d, 0, or ISO 8601 like PT1H30M"],
    },
    Broken {
        label: "bad-start",
        from: r#"start: "2025-01-06T09:00:00Z""#,
        to: r#"start: "yesterday""#,
        at: Some((r#""yesterday""#, 0)),
        field: "start",
        message: &["'yesterday' is not an RFC 3339 UTC timestamp", "2025-01-06T09:00:00Z"],
    },
];

#[test]
fn base_scenario_is_valid_with_one_priority_in_both_directions() {
    let dir = TempDir::new("base");
    let file = dir.write("base.ron", BASE);
    nsgsim(&["check", &file]).assert_code(0).stdout_has(&[
        &format!("ok: {file} (broken: "),
        "1 vnets, 2 subnets, 2 vms, 1 nsgs, 1 users, 2 steps",
    ]);
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&["broken: 2 passed, 0 failed"]);
}

#[test]
fn broken_files_exit_2_with_position_field_value_and_what_is_valid() {
    let dir = TempDir::new("broken");
    for case in BROKEN {
        let text = replace_once(BASE, case.from, case.to);
        let file = dir.write(&format!("{}.ron", case.label), &text);
        for command in ["check", "run"] {
            let out = nsgsim(&[command, &file]);
            assert_eq!(out.code, 2, "{}: `{command}` exit code\n{}", case.label, out.stderr);
            out.assert_no_panic();
            assert!(out.stdout.is_empty() || command == "check", "{}: {}", case.label, out.stdout);
            let line = out.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| {
                panic!("{}: `{command}` printed no error line:\n{}", case.label, out.stderr)
            });
            let rest = line
                .strip_prefix(&format!("error: {file}:"))
                .unwrap_or_else(|| panic!("{}: no `file:` prefix in {line:?}", case.label));
            let (pos, after) = match rest.splitn(3, ':').collect::<Vec<_>>()[..] {
                [l, c, after] => ((l.parse::<usize>(), c.parse::<usize>()), after),
                _ => panic!("{}: no line:col in {line:?}", case.label),
            };
            let (Ok(l), Ok(c)) = pos else { panic!("{}: line:col are not numbers in {line:?}", case.label) };
            if let Some((needle, nth)) = case.at {
                assert_eq!((l, c), position(&text, needle, nth), "{}: position in {line:?}", case.label);
            }
            let after = after.trim_start();
            if case.field.is_empty() {
                assert!(!after.contains("]."), "{}: a syntax error has no field path: {line:?}", case.label);
            } else {
                let (field, _) = after
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("{}: no field path in {line:?}", case.label));
                assert!(field.ends_with(case.field), "{}: field {field:?} in {line:?}", case.label);
            }
            for fragment in case.message {
                assert!(line.contains(fragment), "{}: {fragment:?} missing from {line:?}", case.label);
            }
        }
    }
}

#[test]
fn check_reports_each_file_and_exits_2_if_any_is_broken() {
    let dir = TempDir::new("check-many");
    let good = dir.write("good.ron", BASE);
    let bad = dir.write("bad.ron", &replace_once(BASE, r#"at: "5m""#, r#"at: "soon""#));
    let out = nsgsim(&["check", &good, &bad]);
    out.assert_code(2).stdout_has(&[&format!("ok: {good}")]).stderr_has(&[&format!("error: {bad}:")]);
    assert!(!out.stdout.contains("bad.ron"), "{}", out.stdout);

    let json = nsgsim(&["check", "--format", "json", &good, &bad]).assert_code(2).json();
    let files = array(&json, "files");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["valid"], Value::Bool(true));
    assert_eq!(string(&files[0], "summary"), "1 vnets, 2 subnets, 2 vms, 1 nsgs, 1 users, 2 steps");
    assert_eq!(files[1]["valid"], Value::Bool(false));
    assert!(string(&files[1], "error").contains("timeline[1].at: 'soon' is not a duration"), "{json}");
}

#[test]
fn missing_file_exits_2() {
    nsgsim(&["check", "no/such/file.ron"])
        .assert_code(2)
        .stderr_has(&["no/such/file.ron: cannot read the file"]);
    nsgsim(&["run", "no/such/file.ron"]).assert_code(2).stderr_has(&["cannot read the file"]);
}

#[test]
fn run_exits_1_and_prints_fail_with_the_trace() {
    let dir = TempDir::new("run-fail");
    let text = replace_once(
        BASE,
        r#"port: 22, verdict: Allow, rule: "securityRules/allow-ssh""#,
        r#"port: 22, verdict: Deny, rule: "securityRules/allow-ssh""#,
    );
    let file = dir.write("fail.ron", &text);
    let out = nsgsim(&["run", &file]);
    out.assert_code(1).stdout_has(&[
        "FAIL expect vm2 -> vm1 Tcp port 22: Allow by NSG 'nsg-a' rule securityRules/allow-ssh",
        "    expected Deny by rule securityRules/allow-ssh",
        "    verdict: Allow",
        "    allow  no-nsg  nic 'vm2-nic' has no NSG: outbound traffic passes this level",
        "    allow  nsg     NSG 'nsg-a' on subnet 'net/a' (Inbound): securityRules/allow-ssh allows (priority 100)",
        // The other expectation still runs and passes: every failure is reported at once.
        "PASS expect vm1 -> alice Tcp port 80: Deny by NSG 'nsg-a' rule securityRules/deny-web-out",
        "broken: 1 passed, 1 failed",
    ]);
    // Passing expectations print no trace without --verbose.
    assert_eq!(out.stdout.matches("verdict: ").count(), 1, "{}", out.stdout);

    let json = nsgsim(&["run", "--format", "json", &file]).assert_code(1).json();
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    let run = &json[0];
    assert_eq!(run["passed"], 1);
    assert_eq!(run["failed"], 1);
    let failed: Vec<&Value> =
        array(run, "steps").iter().filter(|s| s["expect"]["passed"] == Value::Bool(false)).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(string(&failed[0]["expect"], "expected"), "Deny by rule securityRules/allow-ssh");
    assert_eq!(failed[0]["expect"]["flow"]["verdict"], "Allow");
    assert_eq!(failed[0]["expect"]["flow"]["rule"], "securityRules/allow-ssh");
}

#[test]
fn run_fails_on_a_wrong_nsg_or_rule_even_when_the_verdict_is_right() {
    let dir = TempDir::new("run-wrong-rule");
    let wrong_rule = replace_once(BASE, r#"rule: "deny-web-out""#, r#"rule: "DenyAllOutBound""#);
    let file = dir.write("wrong-rule.ron", &wrong_rule);
    nsgsim(&["run", &file]).assert_code(1).stdout_has(&[
        "FAIL expect vm1 -> alice Tcp port 80: Deny by NSG 'nsg-a' rule securityRules/deny-web-out",
        "expected Deny by NSG 'nsg-a' by rule DenyAllOutBound",
    ]);
    let wrong_kind =
        replace_once(BASE, r#"rule: "deny-web-out""#, r#"rule: "defaultSecurityRules/deny-web-out""#);
    let file = dir.write("wrong-kind.ron", &wrong_kind);
    nsgsim(&["run", &file]).assert_code(1).stdout_has(&["broken: 1 passed, 1 failed"]);
}

#[test]
fn run_exits_1_for_a_reply_of_a_connection_never_opened() {
    let dir = TempDir::new("run-reply");
    let text = replace_once(
        BASE,
        "    ],\n)\n",
        "        (at: \"6m\", expect: Reply(connection: \"ghost\", verdict: Allow)),\n    ],\n)\n",
    );
    let file = dir.write("reply.ron", &text);
    nsgsim(&["run", &file])
        .assert_code(1)
        .stdout_has(&["FAIL expect reply traffic of connection 'ghost': Deny (connection was never opened)"]);
}

/// Steps that load but cannot be applied at their time: `run` and `check` both refuse them (exit 2)
/// with `file:line:col` of the step, its field, and what is wrong (audit: `check` passed them).
#[test]
fn check_and_run_exit_2_when_a_step_cannot_be_applied() {
    let dir = TempDir::new("run-step");
    let cases: &[(&str, &str, &str)] = &[
        (
            "(at: \"6m\", action: RemoveRule(nsg: \"nsg-a\", rule: \"no-such-rule\"))",
            "timeline[2].action.rule",
            "step at 6m: NSG 'nsg-a' has no rule 'no-such-rule'; valid: allow-ssh, deny-web-out",
        ),
        (
            "(at: \"6m\", action: AddRule(nsg: \"nsg-a\", rule: Rule(name: \"clash\", priority: 100, \
             direction: Inbound, access: Deny, protocol: Any, destination_ports: \"*\")))",
            "timeline[2].action.rule.priority",
            "step at 6m: NSG 'nsg-a': rule 'clash' conflicts with rule 'allow-ssh'",
        ),
        (
            "(at: \"6m\", action: ApproveJit(request: \"nothing\", by: \"alice\"))",
            "timeline[2].action.request",
            "step at 6m: no JIT request named 'nothing' has been made",
        ),
        (
            "(at: \"6m\", action: DetachNsg(nic: \"vm1-nic\"))",
            "timeline[2].action.nic",
            "step at 6m: nic 'vm1-nic' has no NSG to detach",
        ),
    ];
    for (i, (step, field, message)) in cases.iter().enumerate() {
        let text = replace_once(BASE, "    ],\n)\n", &format!("        {step},\n    ],\n)\n"));
        let file = dir.write(&format!("step{i}.ron"), &text);
        let (line, col) = position(&text, "(at: \"6m\"", 0);
        let expected = format!("error: {file}:{line}:{col}: {field}: {message}");
        for command in ["check", "run"] {
            let out = nsgsim(&[command, &file]);
            out.assert_code(2).stderr_has(&[&expected]);
            assert!(!out.stdout.contains("ok:"), "{command} {step}: {}", out.stdout);
        }
    }
}

/// Audit (F6): every command that replays a timeline reports a step that cannot be applied as
/// `run` does (`file:line:col: field: step at …`) and exits 2, instead of a message without the
/// step's position.
#[test]
fn every_timeline_command_reports_a_step_that_cannot_be_applied() {
    let dir = TempDir::new("replay-step");
    let step = "(at: \"6m\", action: RemoveRule(nsg: \"nsg-a\", rule: \"no-such-rule\"))";
    let text = replace_once(BASE, "    ],\n)\n", &format!("        {step},\n    ],\n)\n"));
    let file = dir.write("broken-step.ron", &text);
    let good = dir.write("good.ron", BASE);
    let (line, col) = position(&text, "(at: \"6m\"", 0);
    let expected = format!(
        "error: {file}:{line}:{col}: timeline[2].action.rule: step at 6m: NSG 'nsg-a' has no rule 'no-such-rule'"
    );
    let html = dir.path().join("out.html").display().to_string();
    let commands: [Vec<&str>; 5] = [
        vec!["diff", &good, &file, "--at", "10m"],
        vec!["lint", &file, "--at", "10m"],
        vec!["quiz", &file, "--answers", "allow"],
        vec!["report", &file, "--html", &html],
        vec!["eval", &file, "--from", "vm1", "--to", "vm2", "--port", "22", "--at", "10m"],
    ];
    for args in commands {
        let out = nsgsim(&args);
        out.assert_code(2).stderr_has(&[&expected]);
        assert!(!out.stdout.contains("Q1."), "{args:?}: {}", out.stdout);
    }
}

/// An `AddRule` whose name differs only in case from an existing rule replaces it, as a PUT of
/// the rule resource does in Azure (names are case-insensitive); it is not a duplicate.
#[test]
fn add_rule_replaces_a_rule_named_in_another_case() {
    let dir = TempDir::new("run-case");
    let text = replace_once(
        BASE,
        "    ],\n)\n",
        "        (at: \"6m\", action: AddRule(nsg: \"nsg-a\", rule: Rule(name: \"Allow-SSH\", priority: 100, \
         direction: Inbound, access: Deny, protocol: Tcp, source: \"10.0.2.0/24\", destination_ports: \"22\"))),\n\
         (at: \"6m\", expect: Flow(from: \"vm2\", to: \"vm1\", port: 22, verdict: Deny, rule: \"Allow-SSH\")),\n    ],\n)\n",
    );
    let file = dir.write("case.ron", &text);
    nsgsim(&["check", &file]).assert_code(0);
    nsgsim(&["run", &file]).assert_code(0).stdout_has(&[
        "- nsg-a securityRules/allow-ssh",
        "+ nsg-a securityRules/Allow-SSH",
        "broken: 3 passed, 0 failed",
    ]);
}

/// Audit: `RequestJit` ids that repeat were accepted silently; the second is refused where it is
/// written, and JIT ports listed twice are refused at the second listing, not at an NSG rule.
#[test]
fn jit_ids_and_ports_are_refused_where_they_repeat() {
    let dir = TempDir::new("jit-repeat");
    let steps = "        (at: \"1m\", action: EnableJit(vm: \"vm1\", ports: [Port(number: 22), Port(number: 3389)])),\n\
                 (at: \"2m\", action: RequestJit(id: \"r\", user: \"alice\", vm: \"vm1\", ports: [22], duration: \"1h\")),\n\
                 (at: \"3m\", action: RequestJit(id: \"r\", user: \"alice\", vm: \"vm1\", ports: [22], duration: \"1h\")),\n";
    let text = replace_once(BASE, "    ],\n)\n", &format!("{steps}    ],\n)\n"));
    let text =
        text.replace("users: [User(name: \"alice\",", "users: [User(name: \"alice\", roles: [\"Owner\"],");
    let file = dir.write("ids.ron", &text);
    let (line, col) = position(&text, "id: \"r\"", 1);
    nsgsim(&["check", &file]).assert_code(2).stderr_has(&[&format!(
        "error: {file}:{line}:{}: timeline[4].action.id: request id 'r' is already used by timeline[3]",
        col + 4
    )]);

    let text = text.replace("Port(number: 3389)", "Port(number: 22)").replacen("id: \"r\"", "id: \"r2\"", 1);
    let file = dir.write("ports.ron", &text);
    let (line, col) = position(&text, "22)", 1);
    nsgsim(&["check", &file]).assert_code(2).stderr_has(&[&format!(
        "error: {file}:{line}:{col}: timeline[2].action.ports[1].number: port 22 is listed twice"
    )]);
}

/// Audit: `Port(number: 70000)` and `RequestJit(ports: [70000])` gave a bare "Integer is out of
/// bounds"; now the field, the value and the range are named.
#[test]
fn jit_port_numbers_out_of_range_name_field_value_and_range() {
    let dir = TempDir::new("jit-range");
    for (step, needle, field) in [
        (
            "(at: \"1m\", action: EnableJit(vm: \"vm1\", ports: [Port(number: 70000)]))",
            "70000",
            "timeline[2].action.ports[0].number",
        ),
        (
            "(at: \"1m\", action: RequestJit(id: \"r\", user: \"alice\", vm: \"vm1\", ports: [22, -5], duration: \"1h\"))",
            "-5",
            "timeline[2].action.ports[1]",
        ),
        ("(at: \"1m\", expect: JitRules(vm: \"vm1\", deny: -1))", "-1", "timeline[2].expect.deny"),
    ] {
        let text = replace_once(BASE, "    ],\n)\n", &format!("        {step},\n    ],\n)\n"));
        let file = dir.write("range.ron", &text);
        let (line, col) = position(&text, needle, 0);
        let out = nsgsim(&["check", &file]);
        out.assert_code(2).stderr_has(&[&format!("error: {file}:{line}:{col}: {field}: ")]);
        assert!(out.stderr.contains(needle) && !out.stderr.contains("out of bounds"), "{}", out.stderr);
    }
}

/// A port on an `Icmp` rule is accepted, as Azure accepts it, but `check` warns that it makes the
/// rule match nothing, with the position of the port field.
#[test]
fn check_warns_about_ports_on_an_icmp_rule() {
    let dir = TempDir::new("icmp-port");
    let text = replace_once(
        BASE,
        r#"protocol: Tcp,
                 source: "10.0.2.0/24", destination_ports: "22""#,
        r#"protocol: Icmp,
                 source: "10.0.2.0/24", destination_ports: "22""#,
    );
    let text = text.replace(
        r#"port: 22, verdict: Allow, rule: "securityRules/allow-ssh""#,
        r#"port: 22, verdict: Allow, rule: "AllowVnetInBound""#,
    );
    let file = dir.write("icmp.ron", &text);
    let (line, col) = position(&text, r#""22""#, 0);
    nsgsim(&["check", &file]).assert_code(0).stdout_has(&[&format!(
        "  warning: {file}:{line}:{col}: nsgs[0].rules[0].destination_ports: rule 'allow-ssh': protocol Icmp has no ports"
    )]);
    let json = nsgsim(&["check", "--format", "json", &file]).assert_code(0).json();
    assert!(json["files"][0]["warnings"][0].as_str().is_some_and(|w| w.contains("valid: '*'")), "{json}");
    // The rule matches no ping: ICMP falls through to the default rules.
    let eval = nsgsim(&[
        "eval",
        &file,
        "--from",
        "vm2",
        "--to",
        "vm1",
        "--port",
        "0",
        "--protocol",
        "icmp",
        "--format",
        "json",
    ]);
    assert_eq!(eval.assert_code(0).json()["rule"], "defaultSecurityRules/AllowVnetInBound");
    nsgsim(&["run", &file]).assert_code(0);
}

// ---- eval ----

#[test]
fn eval_text_explains_each_hop() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let out = nsgsim(&["eval", &file, "--from", "admin", "--to", "vm-web", "--port", "22"]);
    out.assert_code(0).stdout_has(&[
        "admin -> vm-web Tcp port 22 at +0s (2025-01-06T09:00:00Z)",
        "  verdict: Deny",
        "  allow  public-ip 20.50.60.70 (Standard SKU) translates to 10.0.1.4",
        "  allow  nsg     NSG 'web-subnet-nsg' on subnet 'prod/web' (Inbound): securityRules/allow-ssh-admins allows (priority 110)",
        "  deny   nsg     NSG 'web-nic-nsg' on nic 'vm-web-nic' (Inbound): securityRules/deny-ssh denies (priority 300)",
    ]);
    assert_eq!(out.stdout.lines().count(), 5, "{}", out.stdout);
}

/// `(kind, resource, level, direction, rule, access)` of each hop.
fn hops(json: &Value) -> Vec<(String, String, String, String, String, String)> {
    let text = |v: &Value| v.as_str().map(String::from).unwrap_or_else(|| "-".into());
    array(json, "hops")
        .iter()
        .map(|h| {
            (
                text(&h["kind"]),
                text(&h["resource"]),
                text(&h["level"]),
                text(&h["direction"]),
                text(&h["rule"]),
                text(&h["access"]),
            )
        })
        .collect()
}

fn hop(kind: &str, resource: &str, level: &str, direction: &str, rule: &str, access: &str) -> [String; 6] {
    [kind, resource, level, direction, rule, access].map(String::from)
}

/// Compares the hops; a resource of `*` in `expected` matches any resource (route hops name
/// the routing decision's place, which the routing model words for itself).
fn assert_hops(json: &Value, expected: &[[String; 6]]) {
    let mut actual: Vec<[String; 6]> =
        hops(json).into_iter().map(|(a, b, c, d, e, f)| [a, b, c, d, e, f]).collect();
    for (a, e) in actual.iter_mut().zip(expected) {
        if e[1] == "*" {
            a[1] = "*".into();
        }
    }
    assert_eq!(actual, expected, "{json:#}");
}

#[test]
fn eval_json_inbound_subnet_then_nic() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let json =
        nsgsim(&["eval", &file, "--from", "admin", "--to", "vm-web", "--port", "22", "--format", "json"])
            .assert_code(0)
            .json();
    assert_eq!(json["verdict"], "Deny");
    assert_eq!(json["nsg"], "web-nic-nsg");
    assert_eq!(json["rule"], "securityRules/deny-ssh");
    assert_eq!((json["from"].as_str(), json["to"].as_str()), (Some("admin"), Some("vm-web")));
    assert_eq!((json["protocol"].as_str(), json["port"].as_u64()), (Some("Tcp"), Some(22)));
    assert_eq!(json["at"], "2025-01-06T09:00:00Z");
    assert_hops(
        &json,
        &[
            hop("public-ip", "vm-web-pip", "-", "-", "-", "Allow"),
            hop("nsg", "web-subnet-nsg", "subnet", "Inbound", "securityRules/allow-ssh-admins", "Allow"),
            hop("nsg", "web-nic-nsg", "networkInterface", "Inbound", "securityRules/deny-ssh", "Deny"),
        ],
    );
    assert_eq!(array(&json, "hops")[2]["priority"], 300);
}

#[test]
fn eval_json_outbound_nic_then_subnet_and_a_subnet_deny_stops_the_path() {
    let file = scenario("04-nsg-levels.ron");
    let json = nsgsim(&[
        "eval", &file, "--from", "vm-both", "--to", "vm-none", "--port", "3389", "--format", "json",
    ])
    .assert_code(0)
    .json();
    assert_eq!(json["verdict"], "Deny");
    assert_eq!(json["rule"], "securityRules/deny-rdp-out");
    assert_hops(
        &json,
        &[
            hop(
                "nsg",
                "both-nic-nsg",
                "networkInterface",
                "Outbound",
                "defaultSecurityRules/AllowVnetOutBound",
                "Allow",
            ),
            hop("nsg", "both-subnet-nsg", "subnet", "Outbound", "securityRules/deny-rdp-out", "Deny"),
        ],
    );
    // Allowed: both outbound levels, the route, both inbound levels of the destination (no NSGs).
    let json = nsgsim(&[
        "eval", &file, "--from", "vm-both", "--to", "vm-none", "--port", "8080", "--format", "json",
    ])
    .assert_code(0)
    .json();
    assert_eq!(json["verdict"], "Allow");
    assert_eq!(json["nsg"], "both-subnet-nsg");
    assert_eq!(json["rule"], "defaultSecurityRules/AllowVnetOutBound");
    assert_hops(
        &json,
        &[
            hop(
                "nsg",
                "both-nic-nsg",
                "networkInterface",
                "Outbound",
                "defaultSecurityRules/AllowVnetOutBound",
                "Allow",
            ),
            hop(
                "nsg",
                "both-subnet-nsg",
                "subnet",
                "Outbound",
                "defaultSecurityRules/AllowVnetOutBound",
                "Allow",
            ),
            hop("route", "*", "-", "-", "-", "Allow"),
            hop("no-nsg", "subnet 'corp/none'", "subnet", "Inbound", "-", "Allow"),
            hop("no-nsg", "nic 'vm-none-nic'", "networkInterface", "Inbound", "-", "Allow"),
        ],
    );
}

#[test]
fn eval_names_default_rules_as_azure_does() {
    let file = scenario("02-default-rules.ron");
    let cases = [
        ("vm-b", "vm-a", "8080", "tcp", "Allow", "defaultSecurityRules/AllowVnetInBound"),
        ("visitor", "vm-a", "443", "tcp", "Deny", "defaultSecurityRules/DenyAllInBound"),
        ("vm-a", "10.10.9.9", "1433", "tcp", "Allow", "defaultSecurityRules/AllowVnetOutBound"),
        ("vm-a", "8.8.8.8", "53", "udp", "Allow", "defaultSecurityRules/AllowInternetOutBound"),
        ("vm-a", "192.168.5.10", "443", "tcp", "Deny", "defaultSecurityRules/DenyAllOutBound"),
        ("168.63.129.16", "vm-backend", "8080", "tcp", "Allow", "securityRules/allow-lb-probes"),
    ];
    for (from, to, port, protocol, verdict, rule) in cases {
        let json = nsgsim(&[
            "eval",
            &file,
            "--from",
            from,
            "--to",
            to,
            "--port",
            port,
            "--protocol",
            protocol,
            "--format",
            "json",
        ])
        .assert_code(0)
        .json();
        assert_eq!(
            (json["verdict"].as_str(), json["rule"].as_str()),
            (Some(verdict), Some(rule)),
            "{from} -> {to}"
        );
        let deciding: Vec<&Value> = array(&json, "hops").iter().filter(|h| h["rule"] == rule).collect();
        assert!(!deciding.is_empty(), "{from} -> {to}: no hop names {rule}: {json:#}");
        assert!(deciding.iter().all(|h| h["kind"] == "nsg" && h["access"] == verdict), "{json:#}");
    }
}

#[test]
fn eval_portless_protocol_and_public_ip_name() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let json = nsgsim(&[
        "eval",
        &file,
        "--from",
        "vm-web2",
        "--to",
        "vm-web",
        "--port",
        "22",
        "--protocol",
        "icmp",
        "--format",
        "json",
    ])
    .assert_code(0)
    .json();
    // Port rules do not match ICMP: deny-ssh is skipped, AllowVnetInBound lets the ping in.
    assert_eq!(json["verdict"], "Allow");
    assert_eq!(json["protocol"], "Icmp");
    assert_eq!(json["port"], 0);
    assert_eq!(json["rule"], "defaultSecurityRules/AllowVnetInBound");

    let file = scenario("02-default-rules.ron");
    let json =
        nsgsim(&["eval", &file, "--from", "visitor", "--to", "vm-a-pip", "--port", "22", "--format", "json"])
            .assert_code(0)
            .json();
    assert_eq!(json["verdict"], "Deny");
    assert_eq!(array(&json, "hops")[0]["kind"], "public-ip");
    assert_eq!(array(&json, "hops")[0]["resource"], "vm-a-pip");
    assert_eq!(json["rule"], "defaultSecurityRules/DenyAllInBound");
}

#[test]
fn eval_at_applies_the_timeline_up_to_that_offset() {
    let file = scenario("04-nsg-levels.ron");
    let eval = |at: Option<&str>| {
        let mut args =
            vec!["eval", &file, "--from", "vm-none", "--to", "vm-both", "--port", "80", "--format", "json"];
        if let Some(at) = at {
            args.extend(["--at", at]);
        }
        nsgsim(&args).assert_code(0).json()
    };
    let before = eval(None);
    assert_eq!(
        (before["verdict"].as_str(), before["rule"].as_str()),
        (Some("Deny"), Some("securityRules/deny-http-in"))
    );
    assert_eq!(before["at"], "2025-03-03T08:00:00Z");
    let just_before = eval(Some("19m"));
    assert_eq!(just_before["verdict"], "Deny");
    assert_eq!(just_before["at"], "2025-03-03T08:19:00Z");
    // At 20m the NIC NSG is detached: the subnet NSG alone decides.
    for at in ["20m", "PT20M", "1h"] {
        let after = eval(Some(at));
        assert_eq!(after["verdict"], "Allow", "--at {at}");
        assert_eq!(after["nsg"], "both-subnet-nsg", "--at {at}");
        assert_eq!(after["rule"], "securityRules/allow-web-in", "--at {at}");
    }
    // Text output names the offset and the instant.
    nsgsim(&["eval", &file, "--from", "vm-none", "--to", "vm-both", "--port", "80", "--at", "2h30m"])
        .assert_code(0)
        .stdout_has(&["vm-none -> vm-both Tcp port 80 at +2h30m (2025-03-03T10:30:00Z)", "verdict: Allow"]);
}

#[test]
fn eval_expect_sets_the_exit_code() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let args = ["eval", &file, "--from", "customer", "--to", "vm-web", "--port", "443"];
    nsgsim(&[&args[..], &["--expect", "allow"]].concat()).assert_code(0);
    nsgsim(&[&args[..], &["--expect", "deny"]].concat())
        .assert_code(1)
        .stdout_has(&["verdict: Allow"])
        .stderr_has(&["expected Deny"]);
    // After the rule is removed at 10m the same flow is denied.
    nsgsim(&[&args[..], &["--at", "10m", "--expect", "deny"]].concat()).assert_code(0);
    nsgsim(&[&args[..], &["--at", "10m", "--expect", "allow"]].concat())
        .assert_code(1)
        .stderr_has(&["expected Allow"]);
}

#[test]
fn eval_bad_arguments_exit_2() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let base = ["eval", &file, "--from", "admin", "--to", "vm-web", "--port", "22"];
    let cases: [(&[&str], &str); 6] = [
        (&["--at", "soon"], "--at: 'soon' is not a duration"),
        // Audit: this evaluated at the start (the offset overflowed).
        (
            &["--at", "9223372036854775807s"],
            "is past 9999-12-30T22:00:00Z, the last instant nsgsim can represent; valid: an offset up to",
        ),
        (&["--at", "99999999999999999999h"], "--at: '99999999999999999999h' is too long"),
        (&["--protocol", "gre"], "--protocol: 'gre' is not a protocol; valid: tcp, udp, icmp, esp, ah"),
        (&["--format", "yaml"], "invalid value 'yaml'"),
        (&["--expect", "maybe"], "invalid value 'maybe'"),
    ];
    for (extra, message) in cases {
        nsgsim(&[&base[..], extra].concat()).assert_code(2).stderr_has(&[message]);
    }
    nsgsim(&["eval", &file, "--from", "admin", "--to", "vm-web", "--port", "65536"])
        .assert_code(2)
        .stderr_has(&["invalid value '65536' for '--port <PORT>'"]);
    nsgsim(&["eval", &file, "--from", "nobody", "--to", "vm-web", "--port", "22"]).assert_code(2).stderr_has(
        &["--from: 'nobody' is not a VM, NIC, public IP, user or IP address", "users [admin, customer]"],
    );
    nsgsim(&["eval", &file, "--from", "admin", "--to", "vm-nowhere", "--port", "22"])
        .assert_code(2)
        .stderr_has(&["--to: 'vm-nowhere' is not a VM"]);
}

// ---- effective-rules ----

/// The effective-rules entry for `(nic, association)`.
fn association(json: &Value, nic: usize, index: usize) -> &Value {
    &array(&array(json, "nics")[nic], "value")[index]
}

/// The rule called `name` (Azure's form) in an association.
fn effective_rule<'a>(group: &'a Value, name: &str) -> &'a Value {
    array(group, "effectiveSecurityRules")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no rule {name} in {group:#}"))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn effective_rules_list_both_associations_with_defaults_and_expansions() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let json =
        nsgsim(&["effective-rules", &file, "--vm", "vm-web", "--format", "json"]).assert_code(0).json();
    assert_eq!(json["vm"], "vm-web");
    let nics = array(&json, "nics");
    assert_eq!(nics.len(), 1);
    assert_eq!(
        (nics[0]["nic"].as_str(), nics[0]["privateIp"].as_str()),
        (Some("vm-web-nic"), Some("10.0.1.4"))
    );
    assert_eq!(array(&nics[0], "value").len(), 2);

    let subnet = association(&json, 0, 0);
    assert_eq!(
        (subnet["association"].as_str(), subnet["networkSecurityGroup"].as_str()),
        (Some("subnet"), Some("web-subnet-nsg"))
    );
    let names: Vec<&str> =
        array(subnet, "effectiveSecurityRules").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "securityRules/allow-https",
            "securityRules/allow-ssh-admins",
            "defaultSecurityRules/AllowVnetInBound",
            "defaultSecurityRules/AllowAzureLoadBalancerInBound",
            "defaultSecurityRules/DenyAllInBound",
            "defaultSecurityRules/AllowVnetOutBound",
            "defaultSecurityRules/AllowInternetOutBound",
            "defaultSecurityRules/DenyAllOutBound",
        ]
    );
    let nic = association(&json, 0, 1);
    assert_eq!(
        (nic["association"].as_str(), nic["networkSecurityGroup"].as_str()),
        (Some("networkInterface"), Some("web-nic-nsg"))
    );
    // NIC rules in evaluation order: inbound by priority, then outbound.
    let names: Vec<&str> =
        array(nic, "effectiveSecurityRules").iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        &names[..3],
        ["securityRules/allow-https", "securityRules/deny-ssh", "defaultSecurityRules/AllowVnetInBound"]
    );
    assert_eq!(names[5], "securityRules/deny-smtp-out");

    // VirtualNetwork: the VNet's space and the host platform address.
    let vnet_in = effective_rule(subnet, "defaultSecurityRules/AllowVnetInBound");
    assert_eq!(
        (vnet_in["sourceAddressPrefix"].as_str(), vnet_in["priority"].as_u64()),
        (Some("VirtualNetwork"), Some(65000))
    );
    assert_eq!(strings(&vnet_in["expandedSourceAddressPrefix"]), ["10.0.0.0/16", "168.63.129.16"]);
    assert_eq!(strings(&vnet_in["expandedDestinationAddressPrefix"]), ["10.0.0.0/16", "168.63.129.16"]);
    assert_eq!(vnet_in["protocol"], "All");
    assert_eq!(strings(&vnet_in["destinationPortRanges"]), ["0-65535"]);
    let lb = effective_rule(subnet, "defaultSecurityRules/AllowAzureLoadBalancerInBound");
    assert_eq!(strings(&lb["expandedSourceAddressPrefix"]), ["168.63.129.16"]);
    // An ASG expands to its members' private addresses; an augmented source lists each prefix.
    let https = effective_rule(subnet, "securityRules/allow-https");
    assert_eq!(https["destinationAddressPrefix"], "asg:web-servers");
    assert_eq!(strings(&https["expandedDestinationAddressPrefix"]), ["10.0.1.4"]);
    assert_eq!(strings(&https["destinationPortRanges"]), ["443-443"]);
    assert!(
        !strings(&https["expandedSourceAddressPrefix"]).contains(&"10.0.0.0/16"),
        "Internet excludes the VNet"
    );
    let ssh = effective_rule(subnet, "securityRules/allow-ssh-admins");
    assert_eq!(ssh["sourceAddressPrefix"], "203.0.113.0/24,198.51.100.7");
    assert_eq!(strings(&ssh["expandedSourceAddressPrefix"]), ["198.51.100.7", "203.0.113.0/24"]);
}

#[test]
fn effective_rules_expand_peered_space_asgs_and_scenario_tags() {
    let file = scenario("03-service-tags-asgs-augmented.ron");
    let json =
        nsgsim(&["effective-rules", &file, "--vm", "vm-spoke", "--format", "json"]).assert_code(0).json();
    let spoke = association(&json, 0, 0);
    assert_eq!(spoke["networkSecurityGroup"], "spoke-nsg");
    assert_eq!(array(&array(&json, "nics")[0], "value").len(), 1, "no NIC NSG on vm-spoke");
    let vnet = effective_rule(spoke, "securityRules/allow-vnet-8080");
    // The spoke's own space, then peered hub's, then the host address, each listed on its own
    // as Azure's effective rules do; lab (10.2.0.0/16) is not peered and not included.
    assert_eq!(
        strings(&vnet["expandedSourceAddressPrefix"]),
        ["10.5.0.0/16", "10.0.0.0/16", "168.63.129.16"]
    );

    let json = nsgsim(&["effective-rules", &file, "--vm", "vm-db", "--format", "json"]).assert_code(0).json();
    let db = association(&json, 0, 0);
    let sql = effective_rule(db, "securityRules/allow-web-to-sql");
    assert_eq!(sql["sourceAddressPrefix"], "asg:web-tier");
    assert_eq!(strings(&sql["expandedSourceAddressPrefix"]), ["10.0.1.4"]);
    assert_eq!(strings(&sql["expandedDestinationAddressPrefix"]), ["10.0.2.4"]);
    let ops = effective_rule(db, "securityRules/allow-ops-ssh");
    assert_eq!(ops["sourceAddressPrefix"], "asg:ops-tier,asg:web-tier");
    assert_eq!(strings(&ops["expandedSourceAddressPrefix"]), ["10.0.1.4", "10.0.1.6"]);

    let json =
        nsgsim(&["effective-rules", &file, "--vm", "vm-web", "--format", "json"]).assert_code(0).json();
    let web = association(&json, 0, 0);
    let partner = effective_rule(web, "securityRules/allow-partner-https");
    assert_eq!(partner["sourceAddressPrefix"], "PartnerNet");
    assert_eq!(strings(&partner["expandedSourceAddressPrefix"]), ["192.0.2.0/25", "198.51.100.0/24"]);
    assert_eq!(strings(&partner["destinationPortRanges"]), ["443-443", "8443-8443"]);
    let mgmt = effective_rule(web, "securityRules/allow-admin-mgmt");
    assert_eq!(strings(&mgmt["expandedSourceAddressPrefix"]), ["203.0.113.10", "203.0.113.20/31"]);
    assert_eq!(strings(&mgmt["destinationPortRanges"]), ["22-22", "3389-3390"]);
    let vnet_in = effective_rule(web, "defaultSecurityRules/AllowVnetInBound");
    assert_eq!(
        strings(&vnet_in["expandedSourceAddressPrefix"]),
        ["10.0.0.0/16", "10.5.0.0/16", "168.63.129.16"]
    );
}

/// A subnet whose route table sends 0.0.0.0/0 to a firewall (forced tunnelling), with a user
/// rule that denies the Internet outbound.
const FORCED_TUNNEL: &str = r#"Scenario(
    name: "forced-tunnel",
    start: "2025-09-01T07:00:00Z",
    vnets: [
        Vnet(name: "secure", address_space: ["10.70.0.0/16"], subnets: [
            Subnet(name: "AzureFirewallSubnet", prefix: "10.70.0.0/26"),
            Subnet(name: "servers", prefix: "10.70.1.0/24", nsg: "servers-nsg", route_table: "via-fw"),
        ]),
    ],
    route_tables: [
        RouteTable(name: "via-fw", routes: [
            Route(name: "default", prefix: "0.0.0.0/0", next_hop: VirtualAppliance("10.70.0.4")),
        ]),
    ],
    firewalls: [Firewall(name: "fw", vnet: "secure", private_ip: "10.70.0.4")],
    nsgs: [Nsg(name: "servers-nsg", rules: [
        Rule(name: "DenyInternet", priority: 110, direction: Outbound, access: Deny, protocol: Any,
             destination: "Internet", destination_ports: "*"),
    ])],
    vms: [Vm(name: "vm-db", os: Linux, nics: [Nic(name: "vm-db-nic", subnet: "secure/servers", private_ip: "10.70.1.4")])],
)
"#;

/// Audit (fidelity review, item 3): with a 0.0.0.0/0 UDR the `Internet` tag was computed minus
/// the UDR prefixes and became empty for IPv4, so "deny Internet outbound" never matched.
/// `VirtualNetwork` takes in the UDR prefixes (Microsoft documents that); `Internet` stays the
/// public space, and the rule's priority decides.
#[test]
fn forced_tunnelling_keeps_the_internet_tag_public() {
    let dir = TempDir::new("forced-tunnel");
    let file = dir.write("forced.ron", FORCED_TUNNEL);
    let json = nsgsim(&["effective-rules", &file, "--vm", "vm-db", "--format", "json"]).assert_code(0).json();
    let subnet = association(&json, 0, 0);
    let deny = effective_rule(subnet, "securityRules/DenyInternet");
    let internet = strings(&deny["expandedDestinationAddressPrefix"]);
    assert!(internet.contains(&"8.0.0.0/7"), "Internet keeps the public space: {internet:?}");
    assert!(!internet.contains(&"10.70.0.0/16") && !internet.contains(&"0.0.0.0/0"), "{internet:?}");
    let internet_out = effective_rule(subnet, "defaultSecurityRules/AllowInternetOutBound");
    assert_eq!(strings(&internet_out["expandedDestinationAddressPrefix"]), internet);
    let vnet_out = effective_rule(subnet, "defaultSecurityRules/AllowVnetOutBound");
    assert_eq!(
        strings(&vnet_out["expandedDestinationAddressPrefix"]),
        ["10.70.0.0/16", "0.0.0.0/0", "168.63.129.16"],
        "VirtualNetwork takes in the UDR prefix"
    );

    let eval = nsgsim(&[
        "eval",
        &file,
        "--from",
        "vm-db",
        "--to",
        "93.184.216.34",
        "--port",
        "443",
        "--format",
        "json",
    ])
    .assert_code(0)
    .json();
    assert_eq!(
        (string(&eval, "verdict"), string(&eval, "nsg"), string(&eval, "rule")),
        ("Deny", "servers-nsg", "securityRules/DenyInternet")
    );
    // Private traffic in the VNet is not Internet: the default rule still lets it out.
    let eval =
        nsgsim(&["eval", &file, "--from", "vm-db", "--to", "10.70.1.9", "--port", "443", "--format", "json"])
            .json();
    assert_eq!(string(&eval, "rule"), "defaultSecurityRules/AllowVnetOutBound", "{eval:#}");
}

#[test]
fn effective_rules_follow_the_timeline_and_show_no_nsg() {
    let file = scenario("04-nsg-levels.ron");
    let json =
        nsgsim(&["effective-rules", &file, "--vm", "vm-none", "--format", "json"]).assert_code(0).json();
    assert!(array(&array(&json, "nics")[0], "value").is_empty(), "{json:#}");
    nsgsim(&["effective-rules", &file, "--vm", "vm-none"]).assert_code(0).stdout_has(&[
        "effective security rules: vm 'vm-none' nic 'vm-none-nic' (10.20.4.4)",
        "no NSG on the subnet or the NIC",
    ]);
    // At 10m nic-only-nsg is attached to the 'none' subnet.
    let json = nsgsim(&["effective-rules", &file, "--vm", "vm-none", "--at", "10m", "--format", "json"])
        .assert_code(0)
        .json();
    let group = association(&json, 0, 0);
    assert_eq!(
        (group["association"].as_str(), group["networkSecurityGroup"].as_str()),
        (Some("subnet"), Some("nic-only-nsg"))
    );
    // At 20m the NIC NSG of vm-both is detached: only the subnet association remains.
    let before =
        nsgsim(&["effective-rules", &file, "--vm", "vm-both", "--format", "json"]).assert_code(0).json();
    assert_eq!(array(&array(&before, "nics")[0], "value").len(), 2);
    let after = nsgsim(&["effective-rules", &file, "--vm", "vm-both", "--at", "20m", "--format", "json"])
        .assert_code(0)
        .json();
    let groups = array(&array(&after, "nics")[0], "value");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["association"], "subnet");
    // Text output: a table per NSG and direction, with expansions of symbolic addresses.
    nsgsim(&["effective-rules", &file, "--vm", "vm-both"]).assert_code(0).stdout_has(&[
        "NSG 'both-subnet-nsg' (association: subnet)",
        "NSG 'both-nic-nsg' (association: networkInterface)",
        "securityRules/allow-web-in",
        "expanded source: 10.20.0.0/16, 168.63.129.16",
    ]);
}

/// Audit: the text table expanded a symbol only when its name had no `.` or `:`, so ASGs
/// (`asg:web-servers`) and dotted tags (`Storage.WestEurope`) had no "expanded" line.
#[test]
fn effective_rules_text_expands_asgs_and_dotted_tags() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let out = nsgsim(&["effective-rules", &file, "--vm", "vm-web"]);
    let lines: Vec<&str> = out.assert_code(0).stdout.lines().collect();
    let https = lines
        .iter()
        .position(|l| l.contains("securityRules/allow-https") && l.contains("asg:web-servers"))
        .unwrap_or_else(|| panic!("no allow-https row:\n{}", out.stdout));
    assert!(lines[https + 1].trim_start().starts_with("expanded source: 1.0.0.0/8"), "{}", lines[https + 1]);
    assert_eq!(lines[https + 2].trim(), "expanded destination: 10.0.1.4");
    // Prefixes and `*` are shown as written, with no expansion line.
    let admins = lines.iter().position(|l| l.contains("securityRules/allow-ssh-admins")).expect("admins row");
    assert!(!lines[admins + 1].contains("expanded"), "{}", lines[admins + 1]);

    let dir = TempDir::new("effective-dotted");
    let text = replace_once(
        BASE,
        r#"destination: "Internet", destination_ports: "80""#,
        r#"destination: "Storage.WestEurope", destination_ports: "443""#,
    );
    let text = replace_once(
        &text,
        "    vnets: [",
        "    service_tags: {\"Storage.WestEurope\": [\"20.38.96.0/19\"]},\n    vnets: [",
    );
    let text = text.replace(r#"nsg: "nsg-a", rule: "deny-web-out""#, r#"nsg: "nsg-a""#);
    let file = dir.write("dotted.ron", &text);
    let out = nsgsim(&["effective-rules", &file, "--vm", "vm1"]);
    let lines: Vec<&str> = out.assert_code(0).stdout.lines().collect();
    let row = lines.iter().position(|l| l.contains("securityRules/deny-web-out")).expect("the rule's row");
    assert!(lines[row].contains("Storage.WestEurope"), "{}", lines[row]);
    assert_eq!(lines[row + 1].trim(), "expanded destination: 20.38.96.0/19");
}

#[test]
fn effective_rules_unknown_vm_exits_2() {
    let file = scenario("04-nsg-levels.ron");
    nsgsim(&["effective-rules", &file, "--vm", "vm-ghost"])
        .assert_code(2)
        .stderr_has(&["--vm: unknown vm 'vm-ghost'; valid: vm-both, vm-sub"]);
}

// ---- usage ----

#[test]
fn usage_errors_exit_2() {
    let file = scenario("01-nsg-evaluation-order.ron");
    let cases: [(&[&str], &str); 6] = [
        (&[], "Usage: nsgsim <COMMAND>"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["check"], "required arguments were not provided"),
        (&["run"], "required arguments were not provided"),
        (&["eval", &file, "--from", "admin", "--to", "vm-web"], "--port <PORT>"),
        (&["effective-rules", &file], "--vm <VM>"),
    ];
    for (args, message) in cases {
        nsgsim(args).assert_code(2).stderr_has(&[message]);
    }
    nsgsim(&["run", &file, "--no-such-flag"])
        .assert_code(2)
        .stderr_has(&["unexpected argument '--no-such-flag'"]);
}

#[test]
fn help_and_version_exit_0() {
    nsgsim(&["--help"]).assert_code(0).stdout_has(&["check", "run", "eval", "effective-rules"]);
    nsgsim(&["--version"]).assert_code(0).stdout_has(&[concat!("nsgsim ", env!("CARGO_PKG_VERSION"))]);
    nsgsim(&["eval", "--help"]).assert_code(0).stdout_has(&["--from", "--to", "--port", "--at", "--expect"]);
}

/// README: "Every command that prints a result takes `--format text|json`; `report` …, `import` …
/// and `quiz` … have no `--format`." (audit: it said every command).
#[test]
fn the_readme_says_exactly_which_commands_take_format() {
    let readme =
        std::fs::read_to_string(crate::util::root().join("README.md")).expect("README.md is readable");
    assert!(
        readme.contains("Every command that prints a result takes `--format text|json`"),
        "README sentence changed"
    );
    let with: &[&[&str]] = &[
        &["check"],
        &["run"],
        &["eval"],
        &["effective-rules"],
        &["reach"],
        &["exposure"],
        &["graph"],
        &["jit", "status"],
        &["jit", "request"],
        &["classbench"],
        &["lint"],
        &["diff"],
        &["test"],
        &["replay"],
        &["quiz"],
    ];
    for command in with {
        let out = nsgsim(&[*command, &["--help"]].concat());
        assert!(out.assert_code(0).stdout.contains("--format"), "{command:?} lacks --format");
    }
    for command in ["report", "import"] {
        assert!(readme.contains(&format!("`{command}`")), "README does not name {command}");
        let out = nsgsim(&[command, "--help"]);
        assert!(!out.assert_code(0).stdout.contains("--format"), "{command} has --format: fix the README");
    }
}

/// Audit (fidelity, F4): a rule whose source and destination ASGs have their members in different
/// VNets is refused where the ASG is named, as Azure refuses it ("Application security groups":
/// both ASGs' network interfaces "must exist in the same virtual network"); also when a timeline
/// step adds such a rule.
#[test]
fn a_rule_with_asgs_in_two_vnets_is_refused() {
    let dir = TempDir::new("asg-vnets");
    let two_vnets = BASE
        .replace(
            "    ],\n    asgs: [\"web\"],",
            "        Vnet(name: \"other\", address_space: [\"10.9.0.0/16\"], subnets: [Subnet(name: \"c\", prefix: \"10.9.1.0/24\")]),\n    ],\n    asgs: [\"web\", \"db\"],",
        )
        .replace(
            "    ],\n    users:",
            "        Vm(name: \"vm3\", os: Linux, nics: [Nic(name: \"vm3-nic\", subnet: \"other/c\", private_ip: \"10.9.1.4\", asgs: [\"db\"])]),\n    ],\n    users:",
        );
    let ok = dir.write("ok.ron", &two_vnets);
    nsgsim(&["check", &ok]).assert_code(0);
    let text = replace_once(
        &two_vnets,
        r#"source: "10.0.2.0/24", destination_ports: "22"),"#,
        r#"source_asgs: ["web"], destination_asgs: ["db"], destination_ports: "22"),"#,
    );
    let file = dir.write("asgs.ron", &text);
    let (line, col) = position(&text, r#""db"]"#, 1);
    nsgsim(&["check", &file]).assert_code(2).stderr_has(&[&format!(
        "error: {file}:{line}:{col}: nsgs[0].rules[0].destination_asgs: rule 'allow-ssh': application security groups 'web' (vnet 'net') and 'db' (vnet 'other') are in different VNets"
    )]);

    let step = "(at: \"6m\", action: AddRule(nsg: \"nsg-a\", rule: Rule(name: \"cross\", priority: 200, \
                direction: Inbound, access: Allow, protocol: Tcp, source_asgs: [\"db\"], destination_asgs: [\"web\"], destination_ports: \"22\")))";
    let text = replace_once(&two_vnets, "    ],\n)\n", &format!("        {step},\n    ],\n)\n"));
    let file = dir.write("step.ron", &text);
    nsgsim(&["run", &file]).assert_code(2).stderr_has(&[
        "timeline[2].action.rule: step at 6m: NSG 'nsg-a': rule 'cross': application security groups 'db' (vnet 'other') and 'web' (vnet 'net') are in different VNets",
    ]);
}

//! Never a silent all-clear (issue 17, item 5): a scenario's caveats (what could not be read or
//! modelled and can change traffic) are named by every command that answers, in text (one
//! `caveat:` line on stderr, and the all-clear summaries of `lint`, `diff` and `test`) and in JSON
//! (a `caveats` array), and `--strict` turns them into exit 1. The fixture
//! `tests/data/caveats/lb-web.ron` is a clean policy with two caveats that affect only `vm-web`
//! and the subnet `prod/web`.

use serde_json::Value;

use crate::util::{TempDir, array, nsgsim, position, replace_once, root, string};

const FIXTURE: &str = "tests/data/caveats/lb-web.ron";
const GATE: &str = "tests/data/caveats/gate.ron";
const CLEAN: &str = "tests/data/lint/clean.ron";

/// The caveat line the fixture gets wherever every caveat concerns the answer.
const LINE: &str = "caveat: tests/data/caveats/lb-web.ron: 2 things that can change traffic were not modelled: Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7), a remote nested template https://example.com/templates/web-tier.json (azuredeploy.json:88:5) — answers may be incomplete";

/// The clause the all-clear summaries get.
const CLAUSE: &str = "; but 2 caveats: Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7), a remote nested template https://example.com/templates/web-tier.json (azuredeploy.json:88:5) — answers may be incomplete";

/// The fixture's two caveats as every JSON answer carries them.
fn caveats_json() -> Value {
    serde_json::json!([
        {"kind": "UnmodelledResource", "resource": "Microsoft.Network/loadBalancers/lb-web",
         "source": "azuredeploy.json:120:7",
         "reason": "load balancers are not modelled: their NAT and load-balancing rules can publish ports",
         "affects": ["vm-web"]},
        {"kind": "UnresolvedLink", "resource": "https://example.com/templates/web-tier.json",
         "source": "azuredeploy.json:88:5",
         "reason": "the nested template is not local, so what it deploys was not read",
         "affects": ["prod/web"]},
    ])
}

/// Asserts that stderr names no caveat.
#[track_caller]
fn no_caveat_line(out: &crate::util::Output) {
    // A caveat is a `caveat:` line; other notes may name the fixture's path, which holds the word.
    assert!(!out.stderr.lines().any(|l| l.starts_with("caveat")), "stderr names a caveat:\n{}", out.stderr);
}

#[test]
fn lint_never_prints_no_findings_alone() {
    let out = nsgsim(&["lint", FIXTURE]);
    out.assert_code(0).stdout_has(&[&format!("no findings{CLAUSE}")]).stderr_has(&[LINE]);
    let v = nsgsim(&["lint", FIXTURE, "--format", "json"]).assert_code(0).json();
    assert_eq!(array(&v, "findings").len(), 0);
    assert_eq!(v["caveats"], caveats_json());

    // --strict refuses the incomplete model, in both formats, with a message.
    nsgsim(&["lint", FIXTURE, "--strict"])
        .assert_code(1)
        .stdout_has(&["no findings; but 2 caveats"])
        .stderr_has(&[LINE, "error: --strict: the answer depends on 2 caveats"]);
    let out = nsgsim(&["lint", FIXTURE, "--strict", "--format", "json"]);
    out.assert_code(1).stderr_has(&["--strict"]);
    assert_eq!(out.json()["caveats"], caveats_json());

    // Without caveats nothing changes: "no findings" alone, exit 0 even with --strict.
    let out = nsgsim(&["lint", CLEAN, "--strict"]);
    out.assert_code(0);
    assert!(out.stdout.trim_end().ends_with("\nno findings"), "{}", out.stdout);
    no_caveat_line(&out);
    assert_eq!(nsgsim(&["lint", CLEAN, "--format", "json"]).json()["caveats"], serde_json::json!([]));
}

#[test]
fn eval_names_the_caveats_of_an_affected_vm_only() {
    // vm-web is affected by both caveats (the load balancer names it, the link names its subnet).
    let out = nsgsim(&["eval", FIXTURE, "--from", "customer", "--to", "web-pip", "--port", "443"]);
    out.assert_code(0).stdout_has(&["verdict: Allow"]).stderr_has(&[LINE]);
    let v = nsgsim(&[
        "eval", FIXTURE, "--from", "customer", "--to", "vm-web", "--port", "443", "--format", "json",
    ])
    .assert_code(0)
    .json();
    assert_eq!(v["caveats"], caveats_json());
    // So is a flow that vm-web sends: either end counts.
    let v = nsgsim(&[
        "eval", FIXTURE, "--from", "vm-web", "--to", "vm-app", "--port", "8080", "--format", "json",
    ])
    .json();
    assert_eq!(array(&v, "caveats").len(), 2);

    // vm-app is in another subnet: its answers name no caveat.
    let out = nsgsim(&["eval", FIXTURE, "--from", "198.51.100.9", "--to", "vm-app", "--port", "22"]);
    out.assert_code(0).stdout_has(&["verdict: Deny"]);
    no_caveat_line(&out);
    let v = nsgsim(&[
        "eval", FIXTURE, "--from", "customer", "--to", "vm-app", "--port", "22", "--format", "json",
    ])
    .json();
    assert_eq!(v["caveats"], serde_json::json!([]));
    // An unmodelled host of the web subnet is in the linked template's subnet.
    let out = nsgsim(&["eval", FIXTURE, "--from", "10.0.1.50", "--to", "vm-app", "--port", "8080"]);
    out.assert_code(0)
        .stderr_has(&["1 thing that can change traffic was not modelled: a remote nested template"]);

    // --strict with --expect: exit 1 only when caveats concern the answer, even if it is met.
    let strict = |to: &str, port: &str, expect: &str| {
        nsgsim(&[
            "eval", FIXTURE, "--from", "customer", "--to", to, "--port", port, "--expect", expect, "--strict",
        ])
    };
    strict("web-pip", "443", "allow").assert_code(1).stderr_has(&[LINE, "error: --strict"]);
    let out = strict("vm-app", "22", "deny");
    out.assert_code(0);
    no_caveat_line(&out);
    strict("vm-app", "22", "allow").assert_code(1).stderr_has(&["expected Allow"]);
    // --strict is for --expect.
    nsgsim(&["eval", FIXTURE, "--from", "customer", "--to", "vm-app", "--port", "22", "--strict"])
        .assert_code(2)
        .stderr_has(&["--expect"]);
}

#[test]
fn reach_and_effective_rules_name_the_caveats_of_their_vm() {
    let out = nsgsim(&["reach", FIXTURE, "--to", "vm-web"]);
    out.assert_code(0).stdout_has(&["who can reach vm 'vm-web'"]).stderr_has(&[LINE]);
    assert_eq!(
        nsgsim(&["reach", FIXTURE, "--to", "vm-web", "--format", "json"]).json()["caveats"],
        caveats_json()
    );
    let out = nsgsim(&["reach", FIXTURE, "--to", "vm-app"]);
    out.assert_code(0);
    no_caveat_line(&out);
    assert_eq!(
        nsgsim(&["reach", FIXTURE, "--to", "vm-app", "--format", "json"]).json()["caveats"],
        serde_json::json!([])
    );

    nsgsim(&["effective-rules", FIXTURE, "--vm", "vm-web"]).assert_code(0).stderr_has(&[LINE]);
    let v = nsgsim(&["effective-rules", FIXTURE, "--vm", "vm-web", "--format", "json"]).json();
    assert_eq!(v["caveats"], caveats_json());
    no_caveat_line(&nsgsim(&["effective-rules", FIXTURE, "--vm", "vm-app"]));
}

#[test]
fn diff_names_both_sides_caveats_and_strict_refuses_them() {
    let out = nsgsim(&["diff", CLEAN, FIXTURE]);
    out.assert_code(0).stdout_has(&[&format!("no verdict changes{CLAUSE}")]).stderr_has(&[LINE]);
    assert!(
        !out.stderr.lines().any(|l| l.starts_with("caveat: tests/data/lint/clean.ron")),
        "the old side has no caveats:\n{}",
        out.stderr
    );
    let v = nsgsim(&["diff", CLEAN, FIXTURE, "--format", "json"]).assert_code(0).json();
    let caveats = array(&v, "caveats");
    assert_eq!(caveats.len(), 2);
    let expected = caveats_json();
    for (i, c) in caveats.iter().enumerate() {
        assert_eq!(string(c, "scenario"), "new");
        let mut without_side = c.clone();
        without_side.as_object_mut().expect("an object").remove("scenario");
        assert_eq!(without_side, expected[i]);
    }
    // Reversed, the caveats are the old side's.
    let v = nsgsim(&["diff", FIXTURE, CLEAN, "--format", "json"]).json();
    assert!(array(&v, "caveats").iter().all(|c| string(c, "scenario") == "old"));

    nsgsim(&["diff", CLEAN, FIXTURE, "--strict"]).assert_code(1).stderr_has(&["error: --strict"]);
    nsgsim(&["diff", FIXTURE, CLEAN, "--strict", "--format", "json"]).assert_code(1);
    let out = nsgsim(&["diff", CLEAN, CLEAN, "--strict"]);
    out.assert_code(0).stdout_has(&["no verdict changes\n"]);
    no_caveat_line(&out);
}

#[test]
fn run_check_and_report_name_every_caveat() {
    let out = nsgsim(&["run", FIXTURE]);
    out.assert_code(0).stdout_has(&["caveats: 2 passed, 0 failed"]).stderr_has(&[LINE]);
    let v = nsgsim(&["run", FIXTURE, "--format", "json"]).assert_code(0).json();
    assert_eq!(v[0]["caveats"], caveats_json());
    no_caveat_line(&nsgsim(&["run", CLEAN]));

    // check lists each caveat in full; caveats do not make a file invalid.
    nsgsim(&["check", FIXTURE]).assert_code(0).stdout_has(&[
        &format!("  {LINE}"),
        "    UnmodelledResource Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7): load balancers are not modelled: their NAT and load-balancing rules can publish ports; affects vm-web",
        "    UnresolvedLink https://example.com/templates/web-tier.json (azuredeploy.json:88:5): the nested template is not local, so what it deploys was not read; affects prod/web",
    ]);
    let v = nsgsim(&["check", FIXTURE, CLEAN, "--format", "json"]).assert_code(0).json();
    let files = array(&v, "files");
    assert_eq!(files[0]["caveats"], caveats_json());
    assert_eq!(files[1]["caveats"], serde_json::json!([]));

    let dir = TempDir::new("caveats-report");
    let html = dir.path().join("r.html");
    nsgsim(&["report", FIXTURE, "--html", &html.display().to_string()]).assert_code(0).stderr_has(&[LINE]);
    let page = std::fs::read_to_string(&html).expect("the report was written");
    assert!(page.contains("<section id=\"caveats\""), "no caveats section");
    assert!(
        page.contains(
            "<li>UnmodelledResource Microsoft.Network/loadBalancers/lb-web (azuredeploy.json:120:7)"
        )
    );
    let clean = dir.path().join("clean.html");
    nsgsim(&["report", CLEAN, "--html", &clean.display().to_string()]).assert_code(0);
    assert!(!std::fs::read_to_string(&clean).expect("written").contains("id=\"caveats\""));
}

#[test]
fn test_names_the_caveats_of_each_case_and_strict_fails_those_cases() {
    let out = nsgsim(&["test", GATE]);
    out.assert_code(0)
        .stdout_has(&[
            "PASS customers reach HTTPS on vm-web",
            &format!("2 passed, 0 failed, 0 invalid{CLAUSE}"),
        ])
        .stderr_has(&[LINE]);
    let v = nsgsim(&["test", GATE, "--format", "json"]).assert_code(0).json();
    let suite = &array(&v, "suites")[0];
    assert_eq!(suite["caveats"], caveats_json());
    let cases = array(suite, "cases");
    assert_eq!(cases[0]["caveats"], caveats_json());
    assert_eq!(cases[1]["caveats"], serde_json::json!([]));

    let dir = TempDir::new("caveats-test");
    let junit = dir.path().join("junit.xml");
    nsgsim(&["test", GATE, "--strict", "--junit", &junit.display().to_string()]).assert_code(1).stdout_has(
        &[
            "FAIL customers reach HTTPS on vm-web: --strict: 2 caveat(s) can change this answer",
            "PASS no SSH to vm-app from the Internet",
            "1 passed, 1 failed, 0 invalid",
        ],
    );
    let xml = std::fs::read_to_string(&junit).expect("JUnit written");
    assert!(xml.contains("failures=\"1\"") && xml.contains("--strict: 2 caveat(s)"), "{xml}");
}

#[test]
fn the_other_answers_carry_the_caveats_too() {
    let out = nsgsim(&["exposure", FIXTURE]);
    out.assert_code(0).stdout_has(&[&format!("none, at any time in the period{CLAUSE}")]).stderr_has(&[LINE]);
    assert_eq!(nsgsim(&["exposure", FIXTURE, "--format", "json"]).json()["caveats"], caveats_json());
    nsgsim(&["jit", "status", FIXTURE]).assert_code(0).stderr_has(&[LINE]);
    assert_eq!(nsgsim(&["jit", "status", FIXTURE, "--format", "json"]).json()["caveats"], caveats_json());

    let dir = TempDir::new("caveats-replay");
    let csv = dir.write(
        "flows.csv",
        "src,dst,src_port,dst_port,protocol,expected\n198.51.100.7,20.50.60.70,50000,443,tcp,allow\n",
    );
    nsgsim(&["replay", FIXTURE, &csv]).assert_code(0).stderr_has(&[LINE]);
    assert_eq!(nsgsim(&["replay", FIXTURE, &csv, "--format", "json"]).json()["caveats"], caveats_json());
}

#[test]
fn a_caveat_naming_something_unknown_is_refused_at_its_position() {
    let text = std::fs::read_to_string(root().join(FIXTURE)).expect("fixture");
    let dir = TempDir::new("caveats-bad");
    let broken = replace_once(&text, r#"affects: ["vm-web"]"#, r#"affects: ["vm-wbe"]"#);
    let file = dir.write("bad.ron", &broken);
    let (line, col) = position(&broken, "\"vm-wbe\"", 0);
    for command in ["check", "lint", "eval"] {
        let mut args = vec![command, file.as_str()];
        if command == "eval" {
            args.extend(["--from", "customer", "--to", "vm-app", "--port", "22"]);
        }
        nsgsim(&args).assert_code(2).stderr_has(&[&format!(
            "{file}:{line}:{col}: caveats[0].affects[0]: 'vm-wbe' is not a VM, a subnet (vnet/subnet) or a VNet of the scenario; valid: VMs [vm-web, vm-app]"
        )]);
    }
    let broken = replace_once(&text, "kind: UnresolvedLink", "kind: RemoteTemplate");
    let file = dir.write("kind.ron", &broken);
    let (line, col) = position(&broken, "RemoteTemplate", 0);
    nsgsim(&["check", &file]).assert_code(2).stderr_has(&[
        &format!("{file}:{line}:{col}: "),
        "expected one of `UnmodelledResource`, `UnresolvedLink`, `UnresolvedReference`, `Placeholder`, or `Other`",
    ]);
}

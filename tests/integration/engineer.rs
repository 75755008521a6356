//! For engineers before rollout (issue 7): `import`, `lint`, `diff` and `test` end to end, on the
//! fixtures in `tests/data/{import,lint,assertions}`.

use std::net::IpAddr;
use std::path::Path;

use nsgsim::net::IpProtocol;
use nsgsim::nsg::Access;
use nsgsim::path::{Destination, FlowRequest, Source};
use nsgsim::scenario::{Scenario, load_file, load_str};
use nsgsim::sim::{Duration, replay_until};

use crate::util::{TempDir, nsgsim, root};

fn data(rel: &str) -> String {
    let path = root().join("tests/data").join(rel);
    assert!(path.is_file(), "no fixture {}", path.display());
    path.display().to_string()
}

/// Imports `files` through the binary into `dir` and loads the result.
fn import(dir: &TempDir, files: &[&str]) -> (Scenario, String) {
    let out = dir.path().join("imported.ron");
    let mut args: Vec<String> = vec!["import".into()];
    args.extend(files.iter().map(|f| data(f)));
    args.extend(["-o".into(), out.display().to_string()]);
    nsgsim(&args).assert_code(0);
    let text = std::fs::read_to_string(&out).expect("the import wrote its output");
    let scenario = load_str(&text, &out).unwrap_or_else(|e| panic!("the import does not load: {e}\n{text}"));
    (scenario, out.display().to_string())
}

/// Every source (each VM, plus outside addresses) to every destination (each VM and public IP)
/// on a set of ports and protocols: (label, verdict, deciding rule).
fn verdicts(s: &Scenario, outside: &[&str]) -> Vec<(String, Access, Option<String>)> {
    let sim = replay_until(s.world(), &s.steps, Duration::from_secs(0)).expect("replays");
    let t = sim.topology();
    let mut sources: Vec<(String, Source)> =
        t.vm_ids().filter_map(|v| t.primary_nic(v).map(|n| (t.vm(v).name.clone(), Source::Nic(n)))).collect();
    for ip in outside {
        sources.push((ip.to_string(), Source::Address(ip.parse::<IpAddr>().expect("ip"))));
    }
    let mut destinations: Vec<(String, Destination)> = t
        .vm_ids()
        .filter_map(|v| t.primary_nic(v).map(|n| (t.vm(v).name.clone(), Destination::Nic(n))))
        .collect();
    for p in t.public_ip_ids() {
        destinations.push((t.public_ip(p).name.clone(), Destination::PublicIp(p)));
    }
    for ip in outside {
        destinations.push((ip.to_string(), Destination::Address(ip.parse::<IpAddr>().expect("ip"))));
    }
    let mut out = Vec::new();
    for (sname, source) in &sources {
        for (dname, destination) in &destinations {
            for protocol in [IpProtocol::TCP, IpProtocol::UDP, IpProtocol::ICMP] {
                for port in [22u16, 25, 80, 161, 443, 3389, 5986, 8080, 8089, 8090] {
                    let port = if protocol.has_ports() { port } else { 0 };
                    let req = FlowRequest {
                        source: *source,
                        destination: *destination,
                        protocol,
                        src_port: 50000,
                        dst_port: port,
                        via: None,
                    };
                    let trace = sim.evaluate(&req);
                    let rule = trace.deciding_hop().and_then(|h| h.rule.clone());
                    out.push((format!("{sname} -> {dname} {protocol} {port}"), trace.verdict, rule));
                }
            }
        }
    }
    out
}

#[test]
fn import_arm_template_round_trips_to_the_hand_written_scenario() {
    let dir = TempDir::new("import-arm");
    let (imported, _) = import(&dir, &["import/arm-template.json"]);
    let by_hand =
        load_file(Path::new(&data("import/expected-arm.ron"))).expect("the hand-written scenario loads");
    let outside = ["203.0.113.10", "198.51.100.7", "198.18.0.1", "10.0.3.200", "10.0.3.5"];
    let a = verdicts(&imported, &outside);
    let b = verdicts(&by_hand, &outside);
    assert_eq!(a.len(), b.len());
    assert!(a.len() > 1000, "too few flows compared: {}", a.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "imported and hand-written verdicts differ");
    }
    // The comparison is not vacuous: both verdicts occur, decided by user rules.
    assert!(
        a.iter().any(|(_, v, r)| *v == Access::Allow && r.as_deref() == Some("securityRules/allow-https"))
    );
    assert!(a.iter().any(|(_, v, r)| *v == Access::Deny && r.as_deref() == Some("securityRules/deny-ssh")));
    assert!(
        a.iter()
            .any(|(_, v, r)| *v == Access::Allow && r.as_deref() == Some("securityRules/allow-web-to-app"))
    );
}

#[test]
fn import_reports_warnings_and_the_check_accepts_the_output() {
    let dir = TempDir::new("import-warn");
    let out = dir.path().join("arm.ron").display().to_string();
    nsgsim(&["import", &data("import/arm-template.json"), "-o", &out]).assert_code(0).stderr_has(&[
        "warning: ",
        "resources[14]: resource type 'Microsoft.Storage/storageAccounts' is not imported",
        "'vm-app-nic' has no privateIPAddress",
        "placeholder 192.0.2.10",
    ]);
    nsgsim(&["check", &out]).assert_code(0);
    // To stdout without -o.
    nsgsim(&["import", &data("import/arm-template.json")]).assert_code(0).stdout_has(&[
        "Scenario(",
        "Rule(name: \"allow-monitoring\", priority: 120",
        "destination_ports: \"161,162\"",
    ]);
}

#[test]
fn import_az_output_and_jit_policy() {
    let dir = TempDir::new("import-az");
    let (s, file) = import(
        &dir,
        &[
            "import/az-vnet-show.json",
            "import/az-nsg-list.json",
            "import/az-nic-show.json",
            "import/jit-policy.json",
        ],
    );
    assert_eq!(s.topology.vm_ids().count(), 1);
    let text = std::fs::read_to_string(&file).expect("written");
    assert!(
        text.contains("JitPolicy(name: \"default/jumpbox\", scope: Vm(\"jumpbox\"), enable_at_start: true"),
        "{text}"
    );
    assert!(text.contains("Port(number: 3389, protocol: Any, allowed_sources: [\"198.51.100.0/24\", \"203.0.113.0/24\"], max_duration: \"PT1H\")"), "{text}");
    // The JIT policy is enabled at the start: its deny rules are in the NSG, and the status is Configured.
    nsgsim(&["jit", "status", &file]).assert_code(0).stdout_has(&["jumpbox"]);
    nsgsim(&["eval", &file, "--from", "10.20.1.50", "--to", "jumpbox", "--port", "3389", "--expect", "deny"])
        .assert_code(0)
        .stdout_has(&["SecurityCenter-JITRule"]);
    // SSH stays open: allow-ssh-any (120) keeps precedence over the JIT deny rule.
    nsgsim(&["eval", &file, "--from", "10.20.1.50", "--to", "jumpbox", "--port", "22", "--expect", "allow"])
        .assert_code(0)
        .stdout_has(&["securityRules/allow-ssh-any"]);
}

#[test]
fn import_unresolvable_reference_names_the_json_path() {
    nsgsim(&["import", &data("import/bad-ref.json")]).assert_code(2).stderr_has(&[
        "bad-ref.json: resources[1].properties.ipConfigurations[0].properties.subnet.id",
        "subnet 'prod/db' is not in the input",
        "defined: prod/web",
    ]);
    let dir = TempDir::new("import-bad");
    let not_json = dir.write("x.json", "{ \"resources\": [ }");
    nsgsim(&["import", &not_json]).assert_code(2).stderr_has(&["x.json:1:", "not valid JSON"]);
    let missing_param = dir.write(
        "p.json",
        r#"{"parameters": {"n": {"type": "string"}}, "resources": [
            {"type": "Microsoft.Network/networkSecurityGroups", "name": "[parameters('n')]", "properties": {}}]}"#,
    );
    nsgsim(&["import", &missing_param]).assert_code(2).stderr_has(&[
        "p.json: resources[0].name",
        "parameters('n')",
        "no defaultValue",
    ]);
}

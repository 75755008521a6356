//! JSON rendering. Shapes are part of the command-line contract; keep them stable.

use serde_json::{Value, json};

use crate::path::Trace;
use crate::sim::RunReport;

use super::{NicEffectiveRules, change_text};

/// A flow verdict with its hops.
pub fn trace_json(trace: &Trace) -> Value {
    let hops: Vec<Value> = trace
        .hops
        .iter()
        .map(|h| {
            json!({
                "kind": h.kind.as_str(),
                "resource": h.resource,
                "level": h.level.map(|l| l.as_str()),
                "direction": h.direction.map(|d| d.to_string()),
                "rule": h.rule,
                "priority": h.priority,
                "access": h.access.to_string(),
                "detail": h.detail,
            })
        })
        .collect();
    let decided = trace.deciding_hop();
    json!({
        "verdict": trace.verdict.to_string(),
        "nsg": decided.filter(|h| h.rule.is_some()).map(|h| h.resource.clone()),
        "rule": decided.and_then(|h| h.rule.clone()),
        "hops": hops,
    })
}

/// A whole run: every step's outcome and the tally.
pub fn run_json(name: &str, file: &str, report: &RunReport) -> Value {
    let topology = report.end.topology();
    let steps: Vec<Value> = report
        .steps
        .iter()
        .map(|s| {
            json!({
                "offset": s.offset.to_string(),
                "at": s.at.to_string(),
                "line": s.line,
                "note": s.note,
                "kind": match s.kind { crate::sim::StepKind::Timeline => "timeline", crate::sim::StepKind::Event => "event" },
                "action": s.action.as_ref().map(|a| json!({
                    "summary": a.what.to_string(),
                    "accepted": a.accepted(),
                    "changes": a.changes.iter().map(|c| change_text(c, topology)).collect::<Vec<_>>(),
                    "warnings": a.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "flow": a.trace.as_ref().map(trace_json),
                })),
                "expect": s.expectation.as_ref().map(|e| json!({
                    "description": e.description,
                    "passed": e.passed,
                    "expected": e.expected,
                    "actual": e.actual.to_string(),
                    "flow": e.trace.as_ref().map(trace_json),
                })),
            })
        })
        .collect();
    let (passed, failed) = report.tally();
    json!({
        "scenario": name,
        "file": file,
        "start": report.start.to_string(),
        "passed": passed,
        "failed": failed,
        "steps": steps,
        "activity_log": log_json(report.end.jit().log()),
    })
}

/// The activity log as a list of entries.
pub fn log_json(log: &crate::jit::ActivityLog) -> Value {
    let entries: Vec<Value> = log
        .entries()
        .iter()
        .map(|e| {
            json!({
                "time": e.at.to_string(),
                "caller": e.caller,
                "operation": e.operation,
                "resource": e.resource,
                "status": e.status.to_string(),
                "detail": e.detail,
                "extension": e.extension,
            })
        })
        .collect();
    Value::Array(entries)
}

/// Effective rules in the shape of `az network nic list-effective-nsg`.
pub fn effective_json(vm: &str, nics: &[NicEffectiveRules]) -> Value {
    let nics: Vec<Value> = nics
        .iter()
        .map(|n| {
            let value: Vec<Value> = n
                .nsgs
                .iter()
                .map(|g| {
                    let rules: Vec<Value> = g
                        .rules
                        .iter()
                        .map(|r| {
                            let ports = |p: &crate::nsg::PortSpec| -> Vec<String> {
                                p.0.iter().map(|x| if x.is_any() { "0-65535".into() } else { format!("{}-{}", x.lo(), x.hi()) }).collect()
                            };
                            json!({
                                "name": r.rule.azure_name(),
                                "priority": r.rule.priority.0,
                                "direction": r.rule.direction.to_string(),
                                "access": r.rule.access.to_string(),
                                "protocol": match r.rule.protocol.to_string().as_str() { "*" => "All".to_string(), p => p.to_string() },
                                "sourceAddressPrefix": r.source,
                                "destinationAddressPrefix": r.destination,
                                "expandedSourceAddressPrefix": r.expanded_source,
                                "expandedDestinationAddressPrefix": r.expanded_destination,
                                "sourcePortRanges": ports(&r.rule.source_ports),
                                "destinationPortRanges": ports(&r.rule.destination_ports),
                            })
                        })
                        .collect();
                    json!({
                        "networkSecurityGroup": g.nsg,
                        "association": g.association.as_str(),
                        "effectiveSecurityRules": rules,
                    })
                })
                .collect();
            json!({ "nic": n.nic, "privateIp": n.private_ip, "value": value })
        })
        .collect();
    json!({ "vm": vm, "nics": nics })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::load_str;

    fn report() -> RunReport {
        let s = load_str(
            r#"Scenario(name: "j", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n")])],
                nsgs: [Nsg(name: "n", rules: [Rule(name: "deny-ssh", priority: 100, direction: Inbound, access: Deny, protocol: Tcp, destination_ports: "22")])],
                vms: [Vm(name: "a", os: Linux, nics: [Nic(name: "a-nic", subnet: "v/a", private_ip: "10.0.1.4")]),
                      Vm(name: "b", os: Linux, nics: [Nic(name: "b-nic", subnet: "v/a", private_ip: "10.0.1.5")])],
                timeline: [
                    (at: "0", expect: Flow(from: "a", to: "b", port: 22, verdict: Deny, rule: "deny-ssh")),
                    (at: "5m", action: RemoveRule(nsg: "n", rule: "deny-ssh")),
                    (at: "5m", expect: Flow(from: "a", to: "b", port: 22, verdict: Deny)),
                ])"#,
            Path::new("j.ron"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        crate::sim::run(s.world(), &s.steps).expect("runs")
    }

    #[test]
    fn a_trace_names_the_deciding_nsg_and_rule_as_azure_does() {
        let r = report();
        let trace = r.steps[0].expectation.as_ref().and_then(|e| e.trace.as_ref()).expect("a trace");
        let v = trace_json(trace);
        assert_eq!(v["verdict"], "Deny");
        assert_eq!(v["nsg"], "n");
        assert_eq!(v["rule"], "securityRules/deny-ssh");
        let hops = v["hops"].as_array().expect("hops");
        let last = hops.last().expect("a hop");
        assert_eq!(
            (&last["kind"], &last["level"], &last["direction"], &last["priority"], &last["access"]),
            (&json!("nsg"), &json!("subnet"), &json!("Inbound"), &json!(100), &json!("Deny"))
        );
        for key in ["resource", "rule", "detail"] {
            assert!(last.get(key).is_some(), "{key} missing from {last}");
        }
    }

    #[test]
    fn a_run_lists_every_step_with_its_outcome_and_the_tally() {
        let v = run_json("j", "j.ron", &report());
        assert_eq!(
            (&v["scenario"], &v["file"], &v["start"]),
            (&json!("j"), &json!("j.ron"), &json!("2025-01-06T09:00:00Z"))
        );
        assert_eq!((&v["passed"], &v["failed"]), (&json!(1), &json!(1)));
        let steps = v["steps"].as_array().expect("steps");
        assert_eq!(steps.len(), 3);
        assert_eq!((&steps[1]["offset"], &steps[1]["kind"]), (&json!("5m"), &json!("timeline")));
        assert!(steps[1]["line"].as_u64().is_some(), "{}", steps[1]);
        assert_eq!(steps[1]["action"]["summary"], "removed rule 'deny-ssh' from NSG 'n'");
        assert_eq!(steps[1]["action"]["accepted"], true);
        assert_eq!(steps[2]["expect"]["passed"], false);
        assert_eq!(steps[2]["expect"]["expected"], "Deny");
        assert_eq!(steps[2]["expect"]["flow"]["rule"], "defaultSecurityRules/AllowVnetInBound");
        let log = v["activity_log"].as_array().expect("a log");
        assert_eq!(log[0]["operation"], "Delete Security Rule");
        assert_eq!(log[0]["time"], "2025-01-06T09:05:00Z");
    }

    #[test]
    fn effective_rules_in_the_shape_of_az_network_nic_list_effective_nsg() {
        let v = effective_json("vm", &super::super::effective::tests::rules());
        assert_eq!(v["vm"], "vm");
        let nic = &v["nics"][0];
        assert_eq!((&nic["nic"], &nic["privateIp"]), (&json!("vm-nic"), &json!("10.0.1.4")));
        let sub = &nic["value"][0];
        assert_eq!((&sub["networkSecurityGroup"], &sub["association"]), (&json!("sub"), &json!("subnet")));
        let rules = sub["effectiveSecurityRules"].as_array().expect("rules");
        let admins = &rules[1];
        assert_eq!(admins["name"], "securityRules/admins");
        assert_eq!(admins["priority"], 110);
        assert_eq!(admins["protocol"], "Tcp");
        assert_eq!(admins["destinationPortRanges"], json!(["22-22", "3389-3390"]));
        assert_eq!(admins["sourcePortRanges"], json!(["0-65535"]));
        assert_eq!(admins["expandedSourceAddressPrefix"], json!(["198.51.100.7", "203.0.113.0/24"]));
        let deny = rules
            .iter()
            .find(|r| r["name"] == "defaultSecurityRules/DenyAllInBound")
            .expect("DenyAllInBound");
        assert_eq!(
            (&deny["protocol"], &deny["access"], &deny["direction"]),
            (&json!("All"), &json!("Deny"), &json!("Inbound"))
        );
        assert_eq!(nic["value"][1]["association"], "networkInterface");
    }
}

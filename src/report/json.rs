//! JSON rendering. Shapes are part of the command-line contract; keep them stable.

use serde_json::{Value, json};

use crate::jit::{JitEvent, LogEntry, LogKind, RequestState, is_jit_rule};
use crate::model::{Caveat, NsgId, Topology};
use crate::net::IpProtocol;
use crate::nsg::{Access, Direction, SecurityRule};
use crate::path::{Hop, Trace};
use crate::sim::{Happened, Instant, RunReport, Simulator, StepKind, StepReport};

use super::teach::{CorrectionsShown, correction_json};
use super::{NicEffectiveRules, caveats_json, change_text};

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
                "rule": h.rule_name(),
                "priority": h.priority,
                "access": h.access.to_string(),
                "detail": h.detail.to_string(),
            })
        })
        .collect();
    let decided = trace.deciding_hop();
    json!({
        "verdict": trace.verdict.to_string(),
        "nsg": decided.filter(|h| h.rule.is_some()).map(|h| h.resource.clone()),
        "rule": decided.and_then(Hop::rule_name),
        "hops": hops,
    })
}

/// One step of a run as it played out: its offset and instant, its note, the action's outcome
/// and the expectation's. The elements of `run --format json`'s `steps`, and what `serve`
/// answers for every action, presenter step and event.
pub fn step_json(step: &StepReport, topology: &Topology) -> Value {
    json!({
        "offset": step.offset.to_string(),
        "at": step.at.to_string(),
        "line": step.line,
        "note": step.note,
        "kind": match step.kind { StepKind::Timeline => "timeline", StepKind::Event => "event" },
        "action": step.action.as_ref().map(|a| json!({
            "summary": a.what.to_string(),
            "accepted": a.accepted(),
            "justification": justification_of(&a.what),
            "changes": a.changes.iter().map(|c| change_text(c, topology)).collect::<Vec<_>>(),
            "warnings": a.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "flow": a.trace.as_ref().map(trace_json),
        })),
        "expect": step.expectation.as_ref().map(|e| json!({
            "description": e.description,
            "passed": e.passed,
            "expected": e.expected,
            "actual": e.actual.to_string(),
            "flow": e.trace.as_ref().map(trace_json),
        })),
    })
}

/// A whole run: every step's outcome and the tally.
pub fn run_json(name: &str, file: &str, report: &RunReport) -> Value {
    let topology = report.end.topology();
    let mut shown = CorrectionsShown::default();
    let steps: Vec<Value> = report
        .steps
        .iter()
        .map(|s| {
            let corrections: Vec<Value> = shown.for_step(s, topology).iter().map(correction_json).collect();
            let mut step = step_json(s, topology);
            if let Some(obj) = step.as_object_mut() {
                obj.insert("corrections".into(), Value::Array(corrections));
            }
            step
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

/// Every JIT request with its status (as a `JitRequest` expectation names it), the reason of a
/// refusal, denial or cancellation, and what it asked for: the list the live classroom offers
/// Approve, Deny and Revoke on. `newest` keeps only the last requests made (all with `usize::MAX`).
pub fn requests_json(sim: &Simulator, newest: usize) -> Value {
    let t = sim.topology();
    let jit = sim.jit();
    let all = jit.requests();
    let requests: Vec<Value> = all[all.len() - newest.min(all.len())..]
        .iter()
        .map(|r| {
            let reason = match &r.state {
                RequestState::Refused(e) => Some(e.to_string()),
                RequestState::Denied { by, reason } => Some(format!("denied by {by}: {reason}")),
                RequestState::Cancelled(c) => Some(c.to_string()),
                RequestState::Pending | RequestState::Granted => None,
            };
            let ports: Vec<Value> =
                r.ports.iter().map(|p| json!({ "vm": t.vm(p.vm).name, "port": p.number })).collect();
            json!({
                "id": r.name,
                "requester": r.requester,
                "requested_at": r.requested_at.to_string(),
                "status": jit.request_status(r).to_string(),
                "reason": reason,
                "ports": ports,
                "source": r.source.to_string(),
                "duration": r.duration.to_string(),
                "justification": r.justification,
            })
        })
        .collect();
    Value::Array(requests)
}

/// One flow's verdict as `eval --format json` prints it: the trace, what was asked (`from`,
/// `to`, `protocol`, `port`), when, and the caveats that can change the answer.
pub fn flow_json(trace: &Trace, asked: &FlowAsked<'_>, caveats: &[&Caveat]) -> Value {
    let mut value = trace_json(trace);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("from".into(), asked.from.into());
        obj.insert("to".into(), asked.to.into());
        obj.insert("protocol".into(), asked.protocol.to_string().into());
        obj.insert("port".into(), asked.port.into());
        obj.insert("at".into(), asked.at.to_string().into());
        obj.insert("caveats".into(), caveats_json(caveats));
    }
    value
}

/// What a flow question asked, as written: the endpoints, the protocol and port, and the instant.
#[derive(Clone, Copy, Debug)]
pub struct FlowAsked<'a> {
    /// The source as written.
    pub from: &'a str,
    /// The destination as written.
    pub to: &'a str,
    /// The protocol.
    pub protocol: IpProtocol,
    /// The destination port (0 for a portless protocol).
    pub port: u16,
    /// When it was evaluated.
    pub at: Instant,
}

/// Every NSG with where it is associated and its user rules in evaluation order (inbound, then
/// outbound, by priority), each rule marked `"jit": "deny"` or `"allow"` when JIT wrote it.
/// `nsgs` chooses which (all of `topology.nsg_ids()` for every NSG).
pub fn nsgs_json(topology: &Topology, nsgs: &[NsgId]) -> Value {
    let nsgs: Vec<Value> = nsgs
        .iter()
        .map(|&id| {
            let nsg = topology.nsg(id);
            let mut attached: Vec<String> = topology
                .subnet_ids()
                .filter(|&s| topology.subnet(s).nsg == Some(id))
                .map(|s| {
                    let subnet = topology.subnet(s);
                    format!("subnet {}/{}", topology.vnet(subnet.vnet).name, subnet.name)
                })
                .collect();
            attached.extend(
                topology
                    .nic_ids()
                    .filter(|&n| topology.nic(n).nsg == Some(id))
                    .map(|n| format!("nic {}", topology.nic(n).name)),
            );
            let mut rules: Vec<&SecurityRule> = nsg.rules.iter().collect();
            rules.sort_by_key(|r| (r.direction != Direction::Inbound, r.priority));
            let rules: Vec<Value> = rules
                .into_iter()
                .map(|r| {
                    let jit = is_jit_rule(&r.name).then_some(match r.access {
                        Access::Allow => "allow",
                        Access::Deny => "deny",
                    });
                    json!({
                        "name": r.name,
                        "priority": r.priority.0,
                        "direction": r.direction.to_string(),
                        "access": r.access.to_string(),
                        "protocol": r.protocol.to_string(),
                        "source": topology.describe_address(&r.source),
                        "source_ports": r.source_ports.to_string(),
                        "destination": topology.describe_address(&r.destination),
                        "destination_ports": r.destination_ports.to_string(),
                        "description": r.description,
                        "jit": jit,
                    })
                })
                .collect();
            json!({ "name": nsg.name, "attached": attached, "rules": rules })
        })
        .collect();
    Value::Array(nsgs)
}

/// The justification of a request the step made or decided, if it had one.
fn justification_of(what: &Happened) -> Option<String> {
    fn of(event: &JitEvent) -> Option<String> {
        match event {
            JitEvent::Granted(g) | JitEvent::Approved { grant: g, .. } => g.justification.clone(),
            JitEvent::Pending { justification, .. } => justification.clone(),
            JitEvent::ConnectPage { request, .. } => of(request),
            _ => None,
        }
    }
    match what {
        Happened::Jit(event) | Happened::ScopedPolicy { event, .. } => of(event),
        _ => None,
    }
}

/// The activity log as a list of entries.
pub fn log_json(log: &crate::jit::ActivityLog) -> Value {
    log_entries_json(log.entries())
}

/// Some entries of the activity log (the newest, for a page that shows only those).
pub fn log_entries_json(entries: &[LogEntry]) -> Value {
    let entries: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "kind": match e.kind {
                    LogKind::Policy => "policy",
                    LogKind::Request => "request",
                    LogKind::Rule => "rule",
                    LogKind::Network => "network",
                },
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
            // In the shape of Get-AzNetworkManagerEffectiveSecurityAdminRule's entries.
            let admin: Vec<Value> = n
                .admin_rules
                .iter()
                .map(|r| {
                    let ports = |p: &crate::nsg::PortSpec| -> Vec<String> { p.0.iter().map(|x| x.to_string()).collect() };
                    let prefixes = |list: &[String]| -> Vec<Value> {
                        list.iter()
                            .map(|a| {
                                let kind = if a.parse::<ipnet::IpNet>().is_ok() || a.parse::<std::net::IpAddr>().is_ok() || a == "*" { "IPPrefix" } else { "ServiceTag" };
                                json!({ "addressPrefix": a, "addressPrefixType": kind })
                            })
                            .collect()
                    };
                    json!({
                        "networkManager": r.network_manager,
                        "configuration": r.configuration,
                        "ruleCollection": r.collection,
                        "name": r.rule.name,
                        "priority": r.rule.priority,
                        "direction": r.rule.direction.to_string(),
                        "access": r.rule.action.as_str(),
                        "protocol": match r.rule.protocol.to_string().as_str() { "*" => "Any".to_string(), p => p.to_string() },
                        "sources": prefixes(&r.sources),
                        "destinations": prefixes(&r.destinations),
                        "sourcePortRanges": ports(&r.rule.source_ports),
                        "destinationPortRanges": ports(&r.rule.destination_ports),
                    })
                })
                .collect();
            json!({ "nic": n.nic, "privateIp": n.private_ip, "value": value, "securityAdminRules": admin })
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

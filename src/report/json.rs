//! JSON rendering. Shapes are part of the command-line contract; keep them stable.

use serde_json::{Value, json};

use crate::path::Trace;
use crate::sim::RunReport;

use super::NicEffectiveRules;

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
                    "summary": a.summary,
                    "accepted": a.accepted,
                    "changes": a.changes,
                    "warnings": a.warnings,
                    "flow": a.trace.as_ref().map(trace_json),
                })),
                "expect": s.expectation.as_ref().map(|e| json!({
                    "description": e.description,
                    "passed": e.passed,
                    "expected": e.expected,
                    "actual": e.actual,
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
                "status": e.status,
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

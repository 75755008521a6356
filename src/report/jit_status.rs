//! The JIT page as `nsgsim jit status` shows it: the three tabs (Configured, Not configured,
//! Unsupported with the reason), and on the Configured tab the portal's columns (Approved in the
//! last seven days, Last access, Connection details with the NSG or firewall marker and the DNAT
//! endpoint, Last user), the ports, the open grants, the existing rules that keep a port open,
//! and the grant history, ended grants included.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::jit::{ConfiguredRow, ConnectionVia, GrantRecord, GrantState, Supportability};
use crate::model::VmId;
use crate::sim::{Duration, Simulator};

/// One VM's row of the JIT page, as JSON.
fn vm_json(sim: &Simulator, vm: VmId) -> Value {
    let t = sim.topology();
    let jit = sim.jit();
    let status = jit.status(t, vm);
    let reason = match &status {
        Supportability::Unsupported(r) => Some(r.to_string()),
        _ => None,
    };
    let ports: Vec<Value> = jit
        .policy(vm)
        .map(|p| {
            p.ports
                .iter()
                .map(|port| {
                    json!({
                        "number": port.number,
                        "protocol": port.protocol.to_string(),
                        "allowed_sources": port.allowed_sources.to_string(),
                        "max_duration": port.max_duration.to_iso8601(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    // Protected ports that existing allow rules still open, as the portal warns.
    let open: Vec<Value> = jit
        .open_ports(t, vm)
        .iter()
        .map(|o| {
            json!({
                "nsg": o.nsg,
                "port": o.port,
                "rule": o.rule,
                "priority": o.priority,
                "source": o.source,
                "warning": o.to_string(),
            })
        })
        .collect();
    let row = jit.configured_row(t, vm, sim.now());
    let history: Vec<&GrantRecord> = row.as_ref().map(|r| r.history.iter().collect()).unwrap_or_default();
    let endpoint = |g: &GrantRecord| match (&row, g.mapped) {
        (Some(ConfiguredRow { via: ConnectionVia::Firewall { public_ip, .. }, .. }), Some(m)) => {
            Some(format!("{}:{m}", public_ip.map(|ip| ip.to_string()).unwrap_or_default()))
        }
        _ => None,
    };
    let grants: Vec<Value> = history
        .iter()
        .filter(|g| g.state == GrantState::Active)
        .map(|g| {
            json!({
                "port": g.port,
                "requester": g.requester,
                "request": g.request,
                "source": g.source.to_string(),
                "until": g.expires_at.to_string(),
                "connect_to": endpoint(g),
                "justification": g.justification,
            })
        })
        .collect();
    let past: Vec<Value> = history
        .iter()
        .map(|g| {
            json!({
                "request": g.request,
                "requester": g.requester,
                "port": g.port,
                "source": g.source.to_string(),
                "granted_at": g.granted_at.to_string(),
                "expires_at": g.expires_at.to_string(),
                "ended_at": g.ended_at.map(|e| e.to_string()),
                "state": g.state.to_string(),
                "connect_to": endpoint(g),
                "justification": g.justification,
            })
        })
        .collect();
    let connection = row.as_ref().map(|r| match &r.via {
        ConnectionVia::Nsg { nsgs } => json!({"via": "nsg", "nsgs": nsgs}),
        ConnectionVia::Firewall { firewall, public_ip } => {
            json!({"via": "firewall", "firewall": firewall, "public_ip": public_ip.map(|ip| ip.to_string())})
        }
    });
    json!({
        "vm": t.vm(vm).name,
        "status": status.label(),
        "tab": status.tab(),
        "reason": reason,
        "ports": ports,
        "open_ports": open,
        "approvers": jit.policy(vm).map(|p| p.approver_roles.clone()).unwrap_or_default(),
        "approved_last_7_days": row.as_ref().map(|r| r.approved_last_7_days),
        "last_access": row.as_ref().and_then(|r| r.last_access.as_ref()).map(|(at, _)| at.to_string()),
        "last_user": row.as_ref().and_then(|r| r.last_access.as_ref()).map(|(_, user)| user.clone()),
        "connection": connection,
        "active_grants": grants,
        "history": past,
    })
}

/// The rows of the JIT page for `vms` (all of `topology.vm_ids()` for the whole page), as JSON.
pub fn jit_status_json(sim: &Simulator, vms: &[VmId]) -> Vec<Value> {
    vms.iter().map(|&vm| vm_json(sim, vm)).collect()
}

/// The JIT page as text: the three tabs and, on the Configured tab, the portal's columns.
pub fn jit_status_text(sim: &Simulator, at: Duration) -> String {
    let vms: Vec<VmId> = sim.topology().vm_ids().collect();
    let rows = jit_status_json(sim, &vms);
    let mut out = String::new();
    let _ = writeln!(out, "JIT status at +{at} ({})", sim.now());
    for (label, title) in
        [("Configured", "Configured"), ("NotConfigured", "Not configured"), ("Unsupported", "Unsupported")]
    {
        let group: Vec<&Value> = rows.iter().filter(|r| r["status"] == label).collect();
        let _ = writeln!(out, "{title}: {}", group.len());
        for r in group {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            let _ = writeln!(out, "  {}", s(&r["vm"]));
            if let Some(reason) = r["reason"].as_str() {
                let _ = writeln!(out, "      reason: {reason}");
            }
            if label == "Configured" {
                let connection = match r["connection"]["via"].as_str() {
                    Some("firewall") => format!(
                        "Azure Firewall '{}' ({}) [firewall icon]",
                        s(&r["connection"]["firewall"]),
                        s(&r["connection"]["public_ip"])
                    ),
                    _ => {
                        let nsgs: Vec<String> =
                            r["connection"]["nsgs"].as_array().into_iter().flatten().map(s).collect();
                        format!("NSG ({}) [NSG icon]", nsgs.join(", "))
                    }
                };
                let last = r["last_access"].as_str().unwrap_or("never");
                let user = r["last_user"].as_str().unwrap_or("-");
                let _ = writeln!(
                    out,
                    "      approved (last 7 days): {}   last access: {last}   last user: {user}",
                    r["approved_last_7_days"].as_u64().unwrap_or(0)
                );
                let _ = writeln!(out, "      connection details: {connection}");
            }
            for p in r["ports"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "      port {:<5} protocol {:<3} allowed sources {:<24} max {}",
                    p["number"].to_string(),
                    s(&p["protocol"]),
                    s(&p["allowed_sources"]),
                    s(&p["max_duration"])
                );
            }
            for g in r["active_grants"].as_array().into_iter().flatten() {
                let connect =
                    g["connect_to"].as_str().map(|c| format!("; connect to {c}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "      open: port {} to {} from {} until {}{connect}",
                    g["port"],
                    s(&g["requester"]),
                    s(&g["source"]),
                    s(&g["until"])
                );
            }
            for o in r["open_ports"].as_array().into_iter().flatten() {
                let _ = writeln!(out, "      warning: {}", s(&o["warning"]));
            }
            if let Some(a) = r["approvers"].as_array().filter(|a| !a.is_empty()) {
                let names: Vec<String> = a.iter().map(s).collect();
                let _ = writeln!(out, "      approval by {} (nsgsim extension)", names.join(" or "));
            }
            let history: Vec<&Value> = r["history"].as_array().into_iter().flatten().collect();
            if !history.is_empty() {
                let _ = writeln!(out, "      requests:");
                for g in history {
                    let ended = match g["ended_at"].as_str() {
                        Some(at) => format!("{} at {at}", s(&g["state"])),
                        None => format!("{} until {}", s(&g["state"]), s(&g["expires_at"])),
                    };
                    let why = g["justification"]
                        .as_str()
                        .map(|j| format!("; justification \"{j}\""))
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "        '{}' by {}: port {} from {} at {}; {ended}{why}",
                        s(&g["request"]),
                        s(&g["requester"]),
                        g["port"],
                        s(&g["source"]),
                        s(&g["granted_at"])
                    );
                }
            }
        }
    }
    out
}

//! `nsgsim jit status FILE [--at OFFSET]`: the portal's three lists of VMs.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::common::{load, offset, print_json};
use super::{EXIT_OK, Format};
use crate::jit::{GrantState, Supportability};
use crate::nsg::describe_address;
use crate::sim::{Duration, Simulator, replay_until};

/// `nsgsim jit …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum JitCommand {
    /// List VMs as Configured, Not configured (recommended) and Unsupported (with the reason).
    Status(StatusArgs),
}

/// Arguments of `nsgsim jit status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Show the status at this offset of the timeline: 90m, 2h30m, PT1H.
    #[arg(long)]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs a `jit` subcommand.
pub fn run(command: &JitCommand) -> anyhow::Result<u8> {
    match command {
        JitCommand::Status(args) => status(args),
    }
}

fn status(args: &StatusArgs) -> anyhow::Result<u8> {
    let scenario = load(&args.file)?;
    let at = match &args.at {
        Some(text) => offset(text)?,
        None => Duration::from_secs(0),
    };
    let sim = replay_until(scenario.world(), &scenario.steps, at)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let rows = vm_rows(&sim);
    match args.format {
        Format::Json => print_json(&json!({ "at": sim.now().to_string(), "vms": rows })),
        Format::Text => {
            println!("JIT status at +{at} ({})", sim.now());
            for (label, title) in [
                ("Configured", "Configured"),
                ("Recommended", "Not configured (recommended)"),
                ("Unsupported", "Unsupported"),
            ] {
                let group: Vec<&Value> = rows.iter().filter(|r| r["status"] == label).collect();
                println!("{title}: {}", group.len());
                for r in group {
                    println!("  {}", r["vm"].as_str().unwrap_or_default());
                    if let Some(reason) = r["reason"].as_str() {
                        println!("      reason: {reason}");
                    }
                    for p in r["ports"].as_array().into_iter().flatten() {
                        println!(
                            "      port {:<5} protocol {:<3} allowed sources {:<24} max {}",
                            p["number"].to_string(),
                            p["protocol"].as_str().unwrap_or_default(),
                            p["allowed_sources"].as_str().unwrap_or_default(),
                            p["max_duration"].as_str().unwrap_or_default()
                        );
                    }
                    for g in r["active_grants"].as_array().into_iter().flatten() {
                        println!(
                            "      open: port {} to {} from {} until {}",
                            g["port"],
                            g["requester"].as_str().unwrap_or_default(),
                            g["source"].as_str().unwrap_or_default(),
                            g["until"].as_str().unwrap_or_default()
                        );
                    }
                    if let Some(a) = r["approvers"].as_array().filter(|a| !a.is_empty()) {
                        let names: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                        println!("      approval by {} (nsgsim extension)", names.join(" or "));
                    }
                }
            }
        }
    }
    Ok(EXIT_OK)
}

fn vm_rows(sim: &Simulator) -> Vec<Value> {
    let t = sim.topology();
    let jit = sim.jit();
    t.vm_ids()
        .map(|vm| {
            let status = jit.status(t, vm);
            let reason = match &status {
                Supportability::Unsupported(r) => Some(r.clone()),
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
            let grants: Vec<Value> = jit
                .grants()
                .iter()
                .filter(|g| g.vm == vm && g.state == GrantState::Active)
                .map(|g| {
                    json!({
                        "port": g.port,
                        "requester": g.requester,
                        "source": describe_address(&g.source, t),
                        "until": g.expires_at.to_string(),
                    })
                })
                .collect();
            json!({
                "vm": t.vm(vm).name,
                "status": status.label(),
                "reason": reason,
                "ports": ports,
                "approvers": jit.policy(vm).map(|p| p.approver_roles.clone()).unwrap_or_default(),
                "active_grants": grants,
            })
        })
        .collect()
}

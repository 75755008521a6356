//! `nsgsim reach FILE --to VM [--port N] [--at OFFSET]`: every source class that can reach a VM,
//! on which ports, and what allowed it, with the caveats that can change the VM's traffic.

use std::path::PathBuf;

use serde_json::json;

use super::common::{load, print_caveats, print_json, simulate_at};
use super::{EXIT_OK, Format};
use crate::net::{PortRange, PortSet};
use crate::reach::{Classes, reach};
use crate::report::caveats_json;

/// Arguments of `nsgsim reach`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// The VM.
    #[arg(long)]
    pub to: String,
    /// Only this destination port (or range, e.g. 5985-5986); default every port.
    #[arg(long)]
    pub port: Option<String>,
    /// At this offset of the timeline: 90m, 2h30m, PT1H.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.file, &args.tags)?;
    let ports = match &args.port {
        Some(p) => Some(PortSet::from_ranges([p
            .parse::<PortRange>()
            .map_err(|e| anyhow::anyhow!("--port: {e}"))?])),
        None => None,
    };
    let (sim, at) = simulate_at(&scenario, args.at.as_deref())?;
    let t = sim.topology();
    let vm = t.vm_by_name(&args.to).ok_or_else(|| {
        let names: Vec<String> = t.vm_ids().map(|v| t.vm(v).name.clone()).collect();
        anyhow::anyhow!("--to: unknown vm '{}'; valid: {}", args.to, names.join(", "))
    })?;
    let vm_name = &t.vm(vm).name;
    let classes = reach(t, sim.policies(), vm, ports.as_ref(), Classes::All(sim.users()));
    let ip = t.primary_nic(vm).map(|n| t.nic(n).private_ip.to_string()).unwrap_or_default();
    let caveats = scenario.caveats_for_vm(vm);
    match args.format {
        Format::Json => {
            let classes: Vec<_> = classes
                .iter()
                .map(|c| {
                    json!({
                        "class": c.class,
                        "addresses": c.addresses.to_string(),
                        "reachable": !c.entries.is_empty(),
                        "entries": c.entries.iter().map(|e| json!({
                            "protocol": e.protocol.to_string(),
                            "ports": e.ports.to_string(),
                            "sources": e.sources.to_string(),
                            "entry": e.entry,
                            "allowed_by": e.allowed_by,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            print_json(
                &json!({ "vm": vm_name, "private_ip": ip, "at": sim.now().to_string(), "classes": classes, "caveats": caveats_json(&caveats), "service_tags": crate::report::service_tags_json(&scenario.topology) }),
            );
        }
        Format::Text => {
            let which = ports.as_ref().map(|p| format!(" on port {p}")).unwrap_or_default();
            println!("who can reach vm '{vm_name}' ({ip}){which} at +{at} ({})", sim.now());
            for c in &classes {
                if c.entries.is_empty() {
                    println!("  {}: no access", c.class);
                    continue;
                }
                println!("  {}:", c.class);
                for e in &c.entries {
                    println!(
                        "    {} {:<12} from {}",
                        e.protocol,
                        e.ports.to_string(),
                        e.sources.describe_within(&c.addresses, &c.addresses_name, 6)
                    );
                    println!("      via {}; allowed by {}", e.entry, e.allowed_by);
                }
            }
        }
    }
    print_caveats(&args.file, &caveats);
    Ok(EXIT_OK)
}

//! `nsgsim exposure FILE [--from OFFSET --to OFFSET]`: for each VM, when its management ports
//! (22, 3389, 5985, 5986) were reachable from the Internet over the timeline, each window
//! labelled wide or narrow (`reach::width`: a JIT grant from any source opens a wide window for
//! its duration, one from an address a narrow one), with the scenario's caveats.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;

use serde_json::json;

use super::common::{flag_offset, load, print_caveats, print_json};
use super::{EXIT_OK, Format};
use crate::model::Caveat;
use crate::reach::{ExposureWindow, MANAGEMENT_PORTS, exposure};
use crate::report::{caveats_json, summary_with_caveats};
use crate::scenario::Scenario;
use crate::sim::Duration;

/// Arguments of `nsgsim exposure`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// Start of the period (offset; default the scenario's start).
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End of the period (offset; default the end of the timeline).
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

fn parse(scenario: &Scenario, flag: &str, text: &Option<String>) -> anyhow::Result<Option<Duration>> {
    text.as_deref().map(|t| flag_offset(scenario, flag, t)).transpose()
}

/// The windows as text, grouped by VM in the topology's order. Built whole and printed at once
/// (see `lint`'s `findings_text`).
fn exposure_text(
    scenario: &Scenario,
    windows: &[ExposureWindow],
    caveats: &[&Caveat],
) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    writeln!(out, "management ports (22, 3389, 5985, 5986) reachable from the Internet:")?;
    if windows.is_empty() {
        // The all-clear names the caveats: an unmodelled load balancer can publish a port.
        writeln!(out, "  {}", summary_with_caveats("none, at any time in the period", caveats))?;
    }
    let mut by_vm: HashMap<&str, Vec<&ExposureWindow>> = HashMap::new();
    for w in windows {
        by_vm.entry(w.vm.as_str()).or_default().push(w);
    }
    let t = &scenario.topology;
    for v in t.vm_ids() {
        let vm = t.vm(v).name.as_str();
        let Some(mine) = by_vm.get(vm) else { continue };
        writeln!(out, "  vm '{vm}'")?;
        let internet =
            t.primary_nic(v).map(|n| t.resolve_context(t.vnet_of_nic(n)).internet).unwrap_or_default();
        for w in mine {
            let end = match w.to {
                Some(t) => format!("+{} ({t})", t.since(scenario.start)),
                None => "end of period".into(),
            };
            let from = w.sources.describe_within(&internet, "the Internet", 6);
            writeln!(
                out,
                "    port {:<5} +{} ({}) -> {end}  from {from}  [{}: {}]",
                w.port,
                w.from.since(scenario.start),
                w.from,
                w.width.width,
                w.width.why
            )?;
            for way in &w.ways {
                writeln!(out, "        {way}")?;
            }
        }
    }
    Ok(out)
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.file, &args.tags)?;
    let from = parse(&scenario, "--from", &args.from)?.unwrap_or_default();
    let to = parse(&scenario, "--to", &args.to)?;
    if to.is_some_and(|t| t < from) {
        anyhow::bail!("--to must not be before --from");
    }
    let windows = exposure(scenario.world(), &scenario.steps, from, to)
        .map_err(|e| anyhow::anyhow!("{}", scenario.step_error(&e)))?;
    // Exposure answers about every VM, so every caveat concerns it.
    let caveats: Vec<&Caveat> = scenario.caveats.iter().collect();
    match args.format {
        Format::Json => {
            let list: Vec<_> = windows
                .iter()
                .map(|w| {
                    json!({
                        "vm": w.vm,
                        "port": w.port,
                        "from": w.from.to_string(),
                        "to": w.to.map(|t| t.to_string()),
                        "from_offset": w.from.since(scenario.start).to_string(),
                        "to_offset": w.to.map(|t| t.since(scenario.start).to_string()),
                        "sources": w.sources.to_string(),
                        "width": w.width.width.to_string(),
                        "width_reason": w.width.why,
                        "ways": w.ways,
                    })
                })
                .collect();
            print_json(
                &json!({ "management_ports": MANAGEMENT_PORTS, "windows": list, "caveats": caveats_json(&caveats), "service_tags": crate::report::service_tags_json(&scenario.topology) }),
            );
        }
        Format::Text => print!("{}", exposure_text(&scenario, &windows, &caveats)?),
    }
    print_caveats(&args.file, &caveats);
    Ok(EXIT_OK)
}

//! `nsgsim jit status FILE [--at OFFSET]`: the portal's three lists of VMs, with the warning
//! Defender gives for protected ports that existing allow rules still open.

use std::path::PathBuf;

use serde_json::json;

use super::common::{load, print_caveats, print_json, simulate_at};
use super::{EXIT_OK, Format};
use crate::model::Caveat;
use crate::report::{
    CorrectionsShown, caveats_json, correction_json, correction_line, jit_status_json, jit_status_text,
};
use crate::sim::Duration;

/// `nsgsim jit …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum JitCommand {
    /// List VMs as Configured, Not configured (recommended) and Unsupported (with the reason).
    Status(StatusArgs),
    /// Request access at a point of the timeline ("what if alice asks for SSH at 30m?"): prints
    /// the outcome, the rules written and the requester's flows afterwards. Exit 1 if refused.
    Request(RequestArgs),
}

/// Arguments of `nsgsim jit request`.
#[derive(Debug, clap::Args)]
pub struct RequestArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// The requester (a user of the scenario).
    #[arg(long)]
    pub user: String,
    /// The VM (repeat for several).
    #[arg(long = "vm", required = true)]
    pub vms: Vec<String>,
    /// The port (repeat for several).
    #[arg(long = "port", required = true)]
    pub ports: Vec<u16>,
    /// How long: 1h, 90m, PT3H.
    #[arg(long, default_value = "1h", allow_hyphen_values = true)]
    pub duration: String,
    /// Source IP or CIDR to allow, or `*` for any (default: the requester's IP).
    #[arg(long)]
    pub source: Option<String>,
    /// When, as an offset of the timeline (its steps up to then are applied first).
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Why access is needed (the request's justification, shown in the log and the JIT page).
    #[arg(long)]
    pub justification: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Arguments of `nsgsim jit status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Show the status at this offset of the timeline: 90m, 2h30m, PT1H.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Runs a `jit` subcommand.
pub fn run(command: &JitCommand) -> anyhow::Result<u8> {
    match command {
        JitCommand::Status(args) => status(args),
        JitCommand::Request(args) => request(args),
    }
}

fn status(args: &StatusArgs) -> anyhow::Result<u8> {
    let scenario = load(&args.file, &args.tags)?;
    let (sim, at) = simulate_at(&scenario, args.at.as_deref())?;
    let vms: Vec<crate::model::VmId> = sim.topology().vm_ids().collect();
    // The status lists every VM, so every caveat concerns it.
    let caveats: Vec<&Caveat> = scenario.caveats.iter().collect();
    match args.format {
        Format::Json => print_json(&json!({
            "at": sim.now().to_string(),
            "vms": jit_status_json(&sim, &vms),
            "caveats": caveats_json(&caveats),
        })),
        Format::Text => print!("{}", jit_status_text(&sim, at)),
    }
    print_caveats(&args.file, &caveats);
    Ok(EXIT_OK)
}

fn request(args: &RequestArgs) -> anyhow::Result<u8> {
    use crate::jit::PortRequest;
    use crate::net::IpProtocol;
    use crate::path::{Destination, FlowRequest};
    use crate::sim::Action;

    let scenario = load(&args.file, &args.tags)?;
    let duration = Duration::parse(&args.duration).map_err(|m| anyhow::anyhow!("--duration: {m}"))?;
    let source = match args.source.as_deref().map(str::trim) {
        Some("*") => Some(crate::jit::RequestSource::Any),
        Some(s) => Some(crate::jit::RequestSource::Prefixes(vec![
            crate::net::parse_prefix(s).map_err(|e| anyhow::anyhow!("--source: {e}"))?,
        ])),
        None => None,
    };
    let user =
        scenario.users.iter().find(|u| crate::name::same_name(&u.name, &args.user)).ok_or_else(|| {
            let names: Vec<&str> = scenario.users.iter().map(|u| u.name.as_str()).collect();
            anyhow::anyhow!("--user: unknown user '{}'; valid: {}", args.user, names.join(", "))
        })?;
    let mut ports = Vec::new();
    let mut vm_ids = Vec::new();
    for name in &args.vms {
        let vm =
            scenario.topology.vm_by_name(name).ok_or_else(|| anyhow::anyhow!("--vm: unknown vm '{name}'"))?;
        vm_ids.push(vm);
        ports.extend(args.ports.iter().map(|&number| PortRequest { vm, number }));
    }
    let (mut sim, at) = simulate_at(&scenario, args.at.as_deref())?;
    scenario.grant_fits(at, duration).map_err(|m| anyhow::anyhow!("--duration: {m}"))?;
    let action = Action::RequestJit {
        name: "cli-request".into(),
        user: user.name.clone(),
        ports,
        duration,
        source,
        justification: args.justification.clone(),
    };
    let outcome = sim.apply(&action).map_err(|m| anyhow::anyhow!("{m}"))?;
    // The training texts' claims this outcome calls for (a Security Reader refused, a VM without
    // a public IP granted anyway), with Microsoft's answer.
    let step = crate::sim::StepReport {
        kind: crate::sim::StepKind::Timeline,
        offset: at,
        at: sim.now(),
        line: None,
        note: None,
        correction: None,
        question: None,
        action: Some(Box::new(outcome.clone())),
        expectation: None,
    };
    let corrections = CorrectionsShown::default().for_step(&step, sim.topology());
    // The answer is about the requested VMs' flows.
    let caveats: Vec<&Caveat> = scenario
        .caveats
        .iter()
        .filter(|c| vm_ids.iter().any(|&vm| c.touches_vm(&scenario.topology, vm)))
        .collect();
    let mut flows = Vec::new();
    for &vm in &vm_ids {
        let Some(nic) = sim.topology().primary_nic(vm) else { continue };
        // The requester's address as given; one that separate routing domains share is placed
        // in the one that reaches the VM (when none or several do it stays bare, and the trace
        // says it is ambiguous).
        let t = sim.topology();
        let shared = t.sites_of(user.source_ip).len() > 1;
        let source = match t.sites_toward(user.source_ip, t.vnet_of_nic(nic)).as_slice() {
            [site] if shared => crate::path::source_at(t, user.source_ip, *site),
            _ => crate::path::Source::Address(user.source_ip),
        };
        for &port in &args.ports {
            let req = FlowRequest {
                source,
                destination: Destination::Nic(nic),
                protocol: IpProtocol::TCP,
                src_port: 50000,
                dst_port: port,
                via: None,
            };
            let trace = sim.evaluate(&req);
            flows.push((sim.topology().vm(vm).name.clone(), port, trace));
        }
    }
    let changes: Vec<String> =
        outcome.changes.iter().map(|c| crate::report::change_text(c, sim.topology())).collect();
    match args.format {
        Format::Json => print_json(&json!({
            "at": sim.now().to_string(),
            "accepted": outcome.accepted(),
            "summary": outcome.what.to_string(),
            "changes": changes,
            "warnings": outcome.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "justification": args.justification,
            "corrections": corrections.iter().map(correction_json).collect::<Vec<_>>(),
            "flows": flows.iter().map(|(vm, port, t)| {
                let mut v = crate::report::trace_json(t);
                if let Some(o) = v.as_object_mut() {
                    o.insert("vm".into(), vm.clone().into());
                    o.insert("port".into(), (*port).into());
                }
                v
            }).collect::<Vec<_>>(),
            "caveats": caveats_json(&caveats),
        })),
        Format::Text => {
            println!("at +{at} ({}): {}", sim.now(), outcome.what);
            for c in &changes {
                println!("  {c}");
            }
            for w in &outcome.warnings {
                println!("  warning: {w}");
            }
            for c in &corrections {
                println!("  {}", correction_line(c));
            }
            for (vm, port, t) in &flows {
                println!("{} -> {vm} Tcp port {port}:", args.user);
                print!("{}", crate::report::trace_text(t, "  ", super::common::style()));
            }
        }
    }
    print_caveats(&args.file, &caveats);
    Ok(if outcome.accepted() { EXIT_OK } else { super::EXIT_FAILED })
}

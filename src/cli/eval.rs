//! `nsgsim eval FILE --from A --to B --port N`: one flow's verdict and the trace behind it, and
//! the caveats that can change it (those of either end).

use std::path::PathBuf;

use super::common::{load, print_caveats, print_json, simulate_at, strict_code, style};
use super::{EXIT_FAILED, EXIT_OK, Format};
use crate::net::IpProtocol;
use crate::nsg::Access;
use crate::path::FlowRequest;
use crate::report::{FlowAsked, flow_json, trace_text};

/// Arguments of `nsgsim eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// Source: a VM, a user (their source IP), or an IP address.
    #[arg(long)]
    pub from: String,
    /// Destination: a VM, a public IP name, or an IP address.
    #[arg(long)]
    pub to: String,
    /// Destination port.
    #[arg(long)]
    pub port: u16,
    /// Protocol: tcp, udp, icmp, esp, ah.
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Source port.
    #[arg(long, default_value_t = 50000)]
    pub src_port: u16,
    /// Evaluate at this offset of the timeline (its actions up to then are applied): 90m, 2h30m, PT1H.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Go through this Bastion host: the user connects to it on 443 and it opens the session.
    #[arg(long)]
    pub via: Option<String>,
    /// Exit 1 unless the verdict is this (for scripts and CI).
    #[arg(long, value_enum)]
    pub expect: Option<ExpectedVerdict>,
    /// With --expect: exit 1 also when caveats can change this flow's answer (things that can
    /// change traffic were not modelled), so that CI refuses an incomplete model.
    #[arg(long, requires = "expect")]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// A verdict given on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExpectedVerdict {
    /// Allow.
    Allow,
    /// Deny.
    Deny,
}

/// Runs the command: 0, or 1 when `--expect` was given and not met (or, with `--strict`, when
/// caveats can change the answer).
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.file, &args.tags)?;
    let protocol = IpProtocol::parse(&args.protocol)
        .filter(|p| {
            [IpProtocol::TCP, IpProtocol::UDP, IpProtocol::ICMP, IpProtocol::ESP, IpProtocol::AH].contains(p)
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--protocol: '{}' is not a protocol; valid: tcp, udp, icmp, esp, ah",
                args.protocol
            )
        })?;
    let (source, destination) =
        scenario.endpoints(&args.from, &args.to).map_err(|e| anyhow::anyhow!("--{}: {e}", e.end.field()))?;
    let (from, to) = (scenario.endpoint_name(&args.from), scenario.endpoint_name(&args.to));
    let (sim, at) = simulate_at(&scenario, args.at.as_deref())?;
    let (src_port, dst_port) = if protocol.has_ports() { (args.src_port, args.port) } else { (0, 0) };
    let via = args
        .via
        .as_deref()
        .map(|b| scenario.bastion(b))
        .transpose()
        .map_err(|m| anyhow::anyhow!("--via: {m}"))?;
    let request = FlowRequest { source, destination, protocol, src_port, dst_port, via };
    let trace = sim.evaluate(&request);
    let caveats = scenario.caveats_for_flow(&request);
    let mut code = EXIT_OK;
    if let Some(expected) = args.expect {
        let want = match expected {
            ExpectedVerdict::Allow => Access::Allow,
            ExpectedVerdict::Deny => Access::Deny,
        };
        if trace.verdict != want {
            code = EXIT_FAILED;
        }
    }
    match args.format {
        Format::Text => {
            let proto = if protocol.has_ports() {
                format!("{protocol} port {dst_port}")
            } else {
                protocol.to_string()
            };
            println!("{from} -> {to} {proto} at +{at} ({})", sim.now());
            print!("{}", trace_text(&trace, "  ", style()));
            if code == EXIT_FAILED {
                eprintln!("expected {}", if trace.verdict == Access::Allow { "Deny" } else { "Allow" });
            }
        }
        Format::Json => {
            let asked = FlowAsked { from: &from, to: &to, protocol, port: dst_port, at: sim.now() };
            let mut value = flow_json(&trace, &asked, &caveats);
            if let Some(obj) = value.as_object_mut() {
                obj.insert("service_tags".into(), crate::report::service_tags_json(&scenario.topology));
            }
            print_json(&value);
        }
    }
    print_caveats(&args.file, &caveats);
    Ok(strict_code(args.strict, caveats.len(), code))
}

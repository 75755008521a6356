//! `nsgsim effective-rules FILE --vm NAME`: Azure's "effective security rules" for a VM's NICs,
//! with the caveats that can change the VM's traffic.

use std::path::PathBuf;

use super::common::{load, print_caveats, print_json, simulate_at, style};
use super::{EXIT_OK, Format};
use crate::report::{caveats_json, effective_json, effective_rules, effective_text};

/// Arguments of `nsgsim effective-rules`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// The VM.
    #[arg(long)]
    pub vm: String,
    /// Show the rules at this offset of the timeline.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// List every prefix of an expanded service tag or ASG (the Internet tag has dozens); by
    /// default the text shows the first few and how many more there are. JSON always lists all.
    #[arg(long)]
    pub full: bool,
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
    let (sim, _) = simulate_at(&scenario, args.at.as_deref())?;
    let t = sim.topology();
    let vm = t.vm_by_name(&args.vm).ok_or_else(|| {
        let names: Vec<String> = t.vm_ids().map(|v| t.vm(v).name.clone()).collect();
        anyhow::anyhow!("--vm: unknown vm '{}'; valid: {}", args.vm, names.join(", "))
    })?;
    let rules = effective_rules(t, &t.vm(vm).nics);
    let caveats = scenario.caveats_for_vm(vm);
    match args.format {
        Format::Text => print!("{}", effective_text(&args.vm, &rules, style(), args.full)),
        Format::Json => {
            let mut value = effective_json(&args.vm, &rules);
            if let Some(obj) = value.as_object_mut() {
                obj.insert("caveats".into(), caveats_json(&caveats));
                obj.insert("service_tags".into(), crate::report::service_tags_json(&scenario.topology));
            }
            print_json(&value);
        }
    }
    print_caveats(&args.file, &caveats);
    Ok(EXIT_OK)
}

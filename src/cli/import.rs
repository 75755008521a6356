//! `nsgsim import FILE... [--parameters FILE]... [--parameter NAME=VALUE]... [-o OUT]`: Azure
//! JSON (ARM templates with their parameters, `az` output, JIT REST policies) to a scenario file
//! that `nsgsim check` accepts, with a summary per resource type of what was read, imported and
//! skipped.

use std::path::{Path, PathBuf};

use super::{EXIT_FAILED, EXIT_OK};
use crate::import::json_position::file_position;
use crate::import::{Deployment, ImportOptions, import_files, to_ron};
use crate::scenario::load_str;

/// Arguments of `nsgsim import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON files: ARM templates, parameters files (recognised by their `$schema` or shape),
    /// `az network nsg|vnet|nic show|list` output, JIT policies (REST), Terraform plans and
    /// state (`terraform show -json`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A parameters file for the templates (`{"parameters": {"NAME": {"value": ...}}}`, or the
    /// bare `{"NAME": {"value": ...}}`; `@FILE` as `az` writes it is accepted); repeatable,
    /// later files win.
    #[arg(long = "parameters", value_name = "FILE")]
    pub parameter_files: Vec<String>,
    /// A template parameter value, read as JSON when it is JSON, else as a string; repeatable,
    /// wins over parameters files.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Write the scenario here (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The scenario's name (default: the output file's stem, else `imported`).
    #[arg(long)]
    pub name: Option<String>,
    /// The scenario's start instant, RFC 3339 UTC.
    #[arg(long, default_value = "2025-01-06T09:00:00Z")]
    pub start: String,
    /// What `resourceGroup().location` answers in templates (only a deployment knows it).
    #[arg(long, default_value = "westeurope")]
    pub location: String,
    /// What `resourceGroup().name` answers in templates.
    #[arg(long, default_value = "nsgsim-rg")]
    pub resource_group: String,
    /// What `subscription().subscriptionId` answers in templates.
    #[arg(long, default_value = "00000000-0000-0000-0000-000000000000")]
    pub subscription: String,
}

/// Runs the command: 0; 1 when the input yields no VNet and no NSG (nothing is written); or an
/// error (exit 2) for invalid input or unresolvable references. The summary per resource type
/// goes to standard error in every case but an error.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let name = args.name.clone().unwrap_or_else(|| {
        args.output
            .as_deref()
            .and_then(Path::file_stem)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "imported".into())
    });
    let deployment = Deployment {
        location: args.location.clone(),
        resource_group: args.resource_group.clone(),
        subscription: args.subscription.clone(),
    };
    let options =
        ImportOptions { name, start: args.start.clone(), deployment, parameters: args.parameters.clone() };
    let paths: Vec<&Path> = args.files.iter().map(PathBuf::as_path).collect();
    // `az` takes a parameters file as `@FILE`; nsgsim takes it with or without the `@`.
    let parameter_files: Vec<&Path> =
        args.parameter_files.iter().map(|f| Path::new(f.strip_prefix('@').unwrap_or(f))).collect();
    let imported = import_files(&paths, &parameter_files, &options)?;
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    eprint!("{}", imported.summary);
    if imported.is_empty() {
        eprintln!(
            "error: the input yields no virtual network and no network security group, so there is nothing to simulate (see the summary above); nothing written"
        );
        return Ok(EXIT_FAILED);
    }
    let text = to_ron(&imported.scenario);
    let shown = args.output.clone().unwrap_or_else(|| PathBuf::from("<stdout>"));
    // The output must be a scenario nsgsim accepts, and nothing is written unless it is. Import
    // checks values where it reads them; this catches the rest (overlapping address spaces, a
    // reserved address) and reports it at the JSON that defines the part concerned.
    if let Err(e) = load_str(&text, &shown) {
        let field = e.field.clone().unwrap_or_default();
        match imported.origin_of(&field) {
            Some(o) => anyhow::bail!(
                "{}: {}: {} (scenario field {field}); nothing written",
                file_position(&o.file, o.position),
                o.path,
                e.message
            ),
            None => anyhow::bail!("the imported scenario does not pass check: {e}; nothing written"),
        }
    }
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| anyhow::anyhow!("{}: cannot write the scenario: {e}", path.display()))?,
        None => print!("{text}"),
    }
    if let Some(path) = &args.output {
        let s = &imported.scenario;
        eprintln!(
            "imported {} vnet(s), {} nsg(s), {} vm(s), {} jit polic{} into {}",
            s.vnets.len(),
            s.nsgs.len(),
            s.vms.len(),
            s.jit_policies.len(),
            if s.jit_policies.len() == 1 { "y" } else { "ies" },
            path.display()
        );
    }
    Ok(EXIT_OK)
}

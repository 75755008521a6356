//! `nsgsim import FILE... [--parameters FILE]... [--parameter NAME=VALUE]...
//! [--allow-undeclared-parameters] [-o OUT] [--strict]`:
//! Azure JSON (ARM templates with their parameters, `az` output, REST responses and API examples,
//! Resource Graph answers) to a scenario file that `nsgsim check` accepts, with a summary per
//! resource type of what was read, imported and skipped, and the caveats of what was left out
//! (errors under `--strict`).

use std::path::{Path, PathBuf};

use super::common::print_warning;
use super::{EXIT_FAILED, EXIT_OK};
use crate::import::json_position::file_position;
use crate::import::{Deployment, ImportOptions, import_files, to_ron};
use crate::scenario::load_str_with;
use crate::sim::Instant;

/// Arguments of `nsgsim import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// JSON files: ARM templates, parameters files (recognised by their `$schema` or shape),
    /// `az network nsg|vnet|nic show|list` output, JIT policies (REST), Terraform plans and
    /// state (`terraform show -json`); a directory stands for its `.json` files (a whole `az`
    /// export).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A parameters file for the templates (`{"parameters": {"NAME": {"value": ...}}}`, or the
    /// bare `{"NAME": {"value": ...}}`; `@FILE` as `az` writes it is accepted); repeatable,
    /// later files win. A parameter the template does not declare is an error, as Azure refuses
    /// it (see --allow-undeclared-parameters).
    #[arg(long = "parameters", value_name = "FILE")]
    pub parameter_files: Vec<String>,
    /// A template parameter value, read as JSON when it is JSON, else as a string; repeatable,
    /// wins over parameters files.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Import although a parameters file, a --parameter or a nested deployment gives a value
    /// for a parameter its template does not declare, which Azure refuses: the value is ignored
    /// with a warning (a leniency of nsgsim's, model choice).
    #[arg(long = "allow-undeclared-parameters")]
    pub allow_undeclared_parameters: bool,
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
    /// What `subscription().subscriptionId` answers in templates (`resourceId()`,
    /// `uniqueString(resourceGroup().id)` and every id depend on it).
    #[arg(
        long = "subscription-id",
        visible_alias = "subscription",
        default_value = "00000000-0000-0000-0000-000000000000"
    )]
    pub subscription: String,
    /// What `subscription().tenantId` and `tenant()` answer in templates.
    #[arg(long = "tenant-id", default_value = "00000000-0000-0000-0000-000000000000")]
    pub tenant: String,
    /// What `deployment().name` answers in templates (`az deployment group create --name`).
    #[arg(long = "deployment-name", default_value = "nsgsim-import")]
    pub deployment_name: String,
    /// What `utcNow()` answers in parameter defaults, RFC 3339.
    #[arg(long = "utc-now", default_value = "2025-01-06T09:00:00Z")]
    pub utc_now: String,
    /// Refuse to leave anything out that can change traffic: a resource type nsgsim does not
    /// model, a reference to a resource not in the input, a value only a deployment knows (a
    /// dynamic address, an FQDN's addresses) is an error (exit 2, at its place) instead of a
    /// caveat in the scenario.
    #[arg(long)]
    pub strict: bool,
    /// Microsoft's service tags (`--service-tags FILE`): the scenario records the file as its
    /// `service_tags_file` (relative to the written scenario), tags the file holds need no
    /// placeholder, and a tag it lacks is reported with its nearest tag names.
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// The inputs with each directory replaced by its `.json` files (not its subdirectories), in
/// name order: `nsgsim import export/` reads a whole `az` export (one file per `az … list`)
/// as one scenario, with references linked across the files by resource id.
///
/// # Errors
/// A directory that cannot be read, or that holds no `.json` file (nothing would be imported
/// from it, which must not pass unnoticed).
fn expand_directories(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            out.push(input.clone());
            continue;
        }
        let entries = std::fs::read_dir(input)
            .map_err(|e| anyhow::anyhow!("{}: cannot read the directory: {e}", input.display()))?;
        let mut found = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| anyhow::anyhow!("{}: cannot read the directory: {e}", input.display()))?
                .path();
            let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
            if json && path.is_file() {
                found.push(path);
            }
        }
        if found.is_empty() {
            anyhow::bail!(
                "{}: the directory holds no .json file; valid: JSON files, or directories of them (an `az … list` export, one file per command)",
                input.display()
            );
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
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
        tenant: args.tenant.clone(),
        name: args.deployment_name.clone(),
        utc_now: args.utc_now.clone(),
        template_uri: None,
    };
    // Checked here, as the argument it is: otherwise the first to read it is the check of the
    // scenario about to be written, whose position is in a file that is never written.
    Instant::parse(&args.start).map_err(|m| anyhow::anyhow!("--start: {m}"))?;
    let options = ImportOptions {
        name,
        start: args.start.clone(),
        deployment,
        parameters: args.parameters.clone(),
        strict: args.strict,
        allow_undeclared_parameters: args.allow_undeclared_parameters,
        service_tags: args.tags.options()?.service_tags,
    };
    let files = expand_directories(&args.files)?;
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // `az` takes a parameters file as `@FILE`; nsgsim takes it with or without the `@`.
    let parameter_files: Vec<&Path> =
        args.parameter_files.iter().map(|f| Path::new(f.strip_prefix('@').unwrap_or(f))).collect();
    let imported = import_files(&paths, &parameter_files, &options)?;
    for warning in &imported.warnings {
        print_warning(warning);
    }
    // The summary names resource types as the input wrote them: made safe like every message.
    eprint!("{}", crate::text::safe_message(&imported.summary.to_string()));
    if imported.is_empty() {
        eprintln!(
            "error: the input yields no virtual network and no network security group, so there is nothing to simulate (see the summary above); nothing written"
        );
        return Ok(EXIT_FAILED);
    }
    // Where each part was read, relative to where the scenario is written, so that findings
    // about it point into the input (`lint --format sarif`).
    let dir = args.output.as_deref().map(|p| p.parent().unwrap_or(Path::new("")));
    let mut imported = imported;
    imported.scenario.origins = crate::import::origin_map(&imported.scenario, &imported.origins, dir);
    // The scenario reads the tag file relative to itself; on stdout, relative to here.
    imported.scenario.service_tags_file = args.tags.service_tags.as_deref().map(|file| {
        let written = dir.map_or_else(|| file.to_path_buf(), |dir| crate::import::relative_path(file, dir));
        written.to_string_lossy().replace('\\', "/")
    });
    let text = to_ron(&imported.scenario);
    let shown = args.output.clone().unwrap_or_else(|| PathBuf::from("<stdout>"));
    // The output must be a scenario nsgsim accepts, and nothing is written unless it is. Import
    // checks values where it reads them; this catches the rest (overlapping address spaces, a
    // reserved address) and reports it at the JSON that defines the part concerned.
    if let Err(e) = load_str_with(&text, &shown, &args.tags.options()?) {
        let field = e.field_text().unwrap_or_default();
        match e.field.as_ref().and_then(|f| imported.origin_of(f)) {
            Some(o) => anyhow::bail!(
                "{}: {}: {} (scenario field {field}); nothing written",
                file_position(&o.file, o.position),
                o.path,
                e.message
            ),
            // The position would be in the scenario text, which is not written: name the field.
            None => anyhow::bail!(
                "the imported scenario does not pass check: {}{}; nothing written",
                e.field.as_ref().map(|f| format!("{f}: ")).unwrap_or_default(),
                e.message
            ),
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

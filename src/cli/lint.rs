//! `nsgsim lint FILE [--at OFFSET] [--live LIVE] [--format json|sarif] [--strict]
//! [--allow-undeclared-parameters]`: findings with
//! severity, code, NSG, rules, why and a fix, and the scenario's caveats. Exit 1 when any finding
//! is an error, or with `--strict` when the scenario has caveats. With `--live`, FILE is a plan
//! and the findings include what its apply would do to the rules Defender's JIT owns in the live
//! estate (`analysis::jit_drift`). Without `--live`, a JIT policy in force beside a plan (imported
//! from `az`/REST JSON with it) is checked against the plan's NSGs alone.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::common::{at_offset, load, print_caveats, print_json, replay, strict_code};
use super::{EXIT_FAILED, EXIT_OK, GateFormat};
use crate::analysis::jit_drift::{JitDrift, drift_findings, in_force_drift, jit_drift};
use crate::analysis::lint::{Severity, lint};
use crate::model::Caveat;
use crate::report::{caveats_json, finding_json, findings_text, lint_sarif};
use crate::scenario::Scenario;
use crate::sim::Duration;

/// Arguments of `nsgsim lint`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file (hand-written or produced by `nsgsim import`), or JSON to import on the fly
    /// (an ARM template or Bicep build, `az`/REST output, a Terraform plan): findings then point
    /// into it.
    pub file: PathBuf,
    /// Lint the policy as it is at this offset of the timeline (JIT rules, steps applied): 90m, PT1H.
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
    /// Exit 1 when the scenario has caveats (things that can change traffic were not modelled),
    /// so that CI refuses an incomplete model.
    #[arg(long)]
    pub strict: bool,
    /// The live estate (a scenario imported from the `az` export, with its JIT policies and
    /// active grants, at its start): FILE is then a plan, and lint warns where applying it
    /// would remove JIT's deny rules or active grants, or put a rule before JIT's deny rule.
    #[arg(long, value_name = "LIVE")]
    pub live: Option<PathBuf>,
    /// When FILE is a template to import: a nested deployment passing its template a parameter
    /// it does not declare, which Azure refuses, is a warning and the value is ignored (as
    /// `import --allow-undeclared-parameters`; model choice).
    #[arg(long = "allow-undeclared-parameters")]
    pub allow_undeclared_parameters: bool,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Whether `file` is JSON to import (an ARM template or Bicep build, `az`/REST output, a
/// Terraform plan) rather than a scenario.
fn is_template(file: &Path) -> bool {
    file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The scenario `nsgsim import FILE` would write beside `file`, loaded without writing it: its
/// origins point into `file`, so findings do. The import's warnings go to stderr as `import`
/// prints them; what it could not model is in the scenario's caveats, which lint reports.
fn imported(
    file: &Path,
    tags: &super::common::TagArgs,
    allow_undeclared_parameters: bool,
) -> anyhow::Result<crate::scenario::Scenario> {
    let options = crate::import::ImportOptions { allow_undeclared_parameters, ..Default::default() };
    let mut imported = crate::import::import_files(&[file], &[], &options)?;
    for warning in &imported.warnings {
        super::common::print_warning(warning);
    }
    if imported.is_empty() {
        anyhow::bail!(
            "{}: the input yields no virtual network and no network security group, so there is nothing to lint (`nsgsim import {}` shows what was read and skipped)",
            file.display(),
            file.display()
        );
    }
    let dir = file.parent().unwrap_or(Path::new(""));
    imported.scenario.origins = crate::import::origin_map(&imported.scenario, &imported.origins, Some(dir));
    let text = crate::import::to_ron(&imported.scenario);
    let scenario = crate::scenario::load_str_with(&text, file, &tags.options()?).map_err(|e| {
        let at = e.field.as_ref().and_then(|f| imported.origin_of(f));
        match at {
            Some(o) => anyhow::anyhow!(
                "{}: {}: {} (as imported; `nsgsim import` shows the same)",
                crate::import::json_position::file_position(&o.file, o.position),
                o.path,
                e.message
            ),
            None => anyhow::anyhow!(
                "{}: the imported scenario does not pass check: {}",
                file.display(),
                e.message
            ),
        }
    })?;
    super::common::print_tag_note(&scenario);
    Ok(scenario)
}

/// Whether `plan` (a deny rule or grant's rule the plan lacks beside a policy in force) and
/// `live` (a rule of the live estate an apply removes) say the same: same VM, NSG and port.
fn same_removal(plan: &JitDrift, live: &JitDrift) -> bool {
    match (plan, live) {
        (JitDrift::DenyRuleAbsent { vm, nsg, port, .. }, JitDrift::DenyRuleRemoved { deny, .. }) => {
            deny.vm == *vm && deny.nsg == *nsg && deny.port == *port
        }
        (
            JitDrift::GrantAbsent { vm, nsg, port, requester, .. },
            JitDrift::GrantRemoved { vm: v, nsg: n, port: p, requester: r, .. },
        ) => v == vm && n == nsg && p == port && r == requester,
        _ => false,
    }
}

/// Runs the command: 0 (no errors), 1 (an error finding, or caveats under `--strict`), or an
/// error for invalid input.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = if is_template(&args.file) {
        imported(&args.file, &args.tags, args.allow_undeclared_parameters)?
    } else {
        load(&args.file, &args.tags)?
    };
    let at = at_offset(&scenario, args.at.as_deref())?;
    let sim = replay(&scenario, at)?;
    let mut findings = lint(sim.topology(), sim.jit());
    // JIT policies in force beside the plan (imported from az/REST JSON with it).
    let mut drifts = in_force_drift(sim.topology(), sim.jit());
    // The live estate's caveats concern the comparison as much as the plan's own.
    let mut live_caveats = Vec::new();
    let live = args.live.as_deref().map(|path| load(path, &args.tags)).transpose()?;
    if let Some(live) = &live {
        let live_sim = replay(live, Duration::from_secs(0))?;
        let from_live = jit_drift(live_sim.topology(), live_sim.jit(), sim.topology());
        // The live estate names the deny rule an apply removes: its finding stands for the
        // plan's own about the same port.
        drifts.retain(|d| !from_live.iter().any(|l| same_removal(d, l)));
        drifts.extend(from_live);
        live_caveats = live.caveats.clone();
    }
    if !drifts.is_empty() {
        findings.extend(drift_findings(&drifts));
        findings.sort_by_key(|f| (f.severity, f.code));
    }
    // A finding's rules are looked up in the plan, then in the live estate.
    let sources: Vec<&Scenario> = std::iter::once(&scenario).chain(live.as_ref()).collect();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (count(Severity::Error), count(Severity::Warning), count(Severity::Info));
    // Lint answers about the whole scenario, so every caveat concerns it.
    let caveats: Vec<&Caveat> = scenario.caveats.iter().chain(&live_caveats).collect();
    match args.format {
        GateFormat::Text => {
            let heading = format!("{} at +{at} ({})", args.file.display(), sim.now());
            print!("{}", findings_text(&sources, &heading, &findings, (errors, warnings, infos), &caveats)?);
        }
        GateFormat::Sarif => {
            let mut log = lint_sarif(&args.file, &findings, &caveats, &scenario.places);
            // Where the tags the findings rest on come from (Microsoft's file, or the sample).
            log.notes.extend(crate::report::service_tags_note(&scenario.topology));
            super::common::print_sarif(&log)?;
        }
        GateFormat::Json => print_json(&json!({
            "file": args.file.display().to_string(),
            "at": sim.now().to_string(),
            "findings": findings.iter().map(|f| finding_json(&sources, f)).collect::<Vec<_>>(),
            "summary": {"error": errors, "warning": warnings, "info": infos},
            "caveats": caveats_json(&caveats),
            "service_tags": crate::report::service_tags_json(&scenario.topology),
        })),
    }
    print_caveats(&args.file, &scenario.caveats.iter().collect::<Vec<_>>());
    if let Some(live_path) = &args.live {
        print_caveats(live_path, &live_caveats.iter().collect::<Vec<_>>());
    }
    Ok(strict_code(args.strict, caveats.len(), if errors > 0 { EXIT_FAILED } else { EXIT_OK }))
}

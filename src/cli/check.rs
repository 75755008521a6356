//! `nsgsim check FILE...`: load and validate scenario files, and replay their timelines (without
//! the narrative or the verdicts of expectations) so that a step `run` would refuse (a priority
//! clash, a rule or request that does not exist at that time) is reported here too. Every error
//! it can find is reported, not only the first: each wrong top-level item and each step that
//! cannot be applied, one per line. A valid
//! file's caveats (what could not be read or modelled and can change traffic) are listed in
//! full, one per line; they do not make the file invalid.

use std::path::PathBuf;

use serde_json::json;

use super::common::{print_error, print_json};
use super::{EXIT_INVALID, EXIT_OK, Format};
use crate::model::Caveat;
use crate::report::{caveat_detail, caveat_line, caveats_json};
use crate::scenario::{Scenario, load_file_all_with};
use crate::sim::Step;

/// Arguments of `nsgsim check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// The steps of the timeline that cannot be applied at their time, each as a diagnostic. The
/// timeline is replayed; a step that fails is reported, left out, and the replay starts again
/// without it, so that the later steps are checked too (up to [`MAX_REPLAY_ERRORS`]). A later
/// step that fails only because an earlier one was left out is reported as well: it would fail
/// in `run` once the first is fixed the way the file reads now.
///
/// The steps are copied only once one fails (a valid timeline of a million steps is replayed from
/// the scenario's own).
fn replay_errors(scenario: &Scenario) -> Vec<String> {
    let mut left: Option<Vec<Step>> = None;
    let mut errors = Vec::new();
    while errors.len() < MAX_REPLAY_ERRORS {
        let steps = left.as_deref().unwrap_or(&scenario.steps);
        let Err(e) = crate::sim::run(scenario.world(), steps) else { break };
        errors.push(scenario.step_error(&e).to_string());
        let failing = steps.iter().position(|s| s.at == e.at && s.position == e.position);
        match failing {
            Some(i) if e.position.is_some() => {
                left.get_or_insert_with(|| scenario.steps.clone()).remove(i);
            }
            _ => break,
        }
    }
    errors
}

/// The most failing steps one `check` reports per file.
const MAX_REPLAY_ERRORS: usize = 100;

/// Runs the command: exit 0 when every file is valid, 2 otherwise (each error on one line).
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let mut results = Vec::new();
    let mut code = EXIT_OK;
    for file in &args.files {
        // Every step must apply at its time: replay the timeline, ignoring what it prints and
        // whether its expectations hold (that is `run`'s answer, exit 1, not invalid input).
        let checked = match load_file_all_with(file, &args.tags.options()?) {
            Ok(s) => match replay_errors(&s) {
                errors if errors.is_empty() => Ok(s),
                errors => Err(errors),
            },
            Err(errors) => Err(errors.iter().map(ToString::to_string).collect()),
        };
        match checked {
            Ok(s) => {
                let t = &s.topology;
                let summary = format!(
                    "{} vnets, {} subnets, {} vms, {} nsgs, {} users, {} steps",
                    t.vnet_ids().count(),
                    t.subnet_ids().count(),
                    t.vm_ids().count(),
                    t.nsg_ids().count(),
                    s.users.len(),
                    s.steps.len()
                );
                let mut warnings: Vec<String> = s.warnings.iter().map(ToString::to_string).collect();
                for b in t.bastion_ids() {
                    for m in crate::path::missing_bastion_rules(t, b) {
                        warnings.push(format!(
                            "bastion '{}': the NSG on AzureBastionSubnet lacks Azure's required rule {} ({})",
                            t.bastion(b).name,
                            m.rule,
                            m.detail
                        ));
                    }
                }
                let caveats: Vec<&Caveat> = s.caveats.iter().collect();
                if args.format == Format::Text {
                    println!("ok: {} ({}: {summary})", file.display(), s.name);
                    for w in &warnings {
                        println!("  warning: {}", crate::text::safe_message(w));
                    }
                    for line in crate::report::service_tags_note(t) {
                        println!("  note: {}", crate::text::safe_message(&line));
                    }
                    // Check is where caveats are listed in full: the line that names them,
                    // then each with its reason and what it affects.
                    if let Some(line) = caveat_line(&file.display().to_string(), &caveats) {
                        println!("  {line}");
                        for c in &caveats {
                            println!("    {}", caveat_detail(c));
                        }
                    }
                }
                results.push(json!({"file": file.display().to_string(), "valid": true, "summary": summary, "warnings": warnings, "caveats": caveats_json(&caveats), "service_tags": crate::report::service_tags_json(t)}));
            }
            Err(errors) => {
                code = EXIT_INVALID;
                if args.format == Format::Text {
                    for e in &errors {
                        print_error(e);
                    }
                    if errors.len() > 1 {
                        eprintln!("{}: {} errors", file.display(), errors.len());
                    }
                }
                results.push(json!({
                    "file": file.display().to_string(),
                    "valid": false,
                    "error": errors.first(),
                    "errors": errors,
                }));
            }
        }
    }
    if args.format == Format::Json {
        print_json(&json!({ "files": results }));
    }
    Ok(code)
}

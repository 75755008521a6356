//! `nsgsim check FILE...`: load and validate scenario files without running them.

use std::path::PathBuf;

use serde_json::json;

use super::common::{load, print_json};
use super::{EXIT_INVALID, EXIT_OK, Format};

/// Arguments of `nsgsim check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the command: exit 0 when every file is valid, 2 otherwise (each error on one line).
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let mut results = Vec::new();
    let mut code = EXIT_OK;
    for file in &args.files {
        match load(file) {
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
                if args.format == Format::Text {
                    println!("ok: {} ({}: {summary})", file.display(), s.name);
                }
                results.push(json!({"file": file.display().to_string(), "valid": true, "summary": summary}));
            }
            Err(e) => {
                code = EXIT_INVALID;
                if args.format == Format::Text {
                    eprintln!("error: {e:#}");
                }
                results.push(
                    json!({"file": file.display().to_string(), "valid": false, "error": format!("{e:#}")}),
                );
            }
        }
    }
    if args.format == Format::Json {
        print_json(&json!({ "files": results }));
    }
    Ok(code)
}

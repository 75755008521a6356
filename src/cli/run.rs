//! `nsgsim run FILE...`: play each scenario's timeline and check its expectations; each
//! scenario's caveats are named after its run (stderr) and in its JSON document.

use std::path::PathBuf;

use super::common::{ColorChoice, load, print_caveats, print_error, print_json, run_timeline, style_for};
use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK, Format};
use crate::report::{caveats_json, log_text, run_json, run_text};

/// Arguments of `nsgsim run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the trace of every evaluated flow, not only of failures.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print the activity log (JIT operations and rule writes) after each run.
    #[arg(long)]
    pub log: bool,
    /// Colour: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Output format (JSON: one document per scenario, in an array).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs the command: 0 when every expectation passed, 1 when one failed, 2 on invalid input.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let style = style_for(args.color);
    let mut code = EXIT_OK;
    let mut documents = Vec::new();
    for file in &args.files {
        let scenario = match load(file) {
            Ok(s) => s,
            Err(e) => {
                print_error(&format_args!("{e:#}"));
                code = EXIT_INVALID;
                continue;
            }
        };
        let report = match run_timeline(&scenario) {
            Ok(r) => r,
            Err(e) => {
                print_error(&format_args!("{e:#}"));
                code = EXIT_INVALID;
                continue;
            }
        };
        let name = file.display().to_string();
        let caveats: Vec<&crate::model::Caveat> = scenario.caveats.iter().collect();
        if report.tally().1 > 0 && code == EXIT_OK {
            code = EXIT_FAILED;
        }
        match args.format {
            Format::Text => {
                print!(
                    "{}",
                    run_text(&scenario.name, &name, &scenario.description, &report, args.verbose, style)
                );
                if args.log {
                    print!("{}", log_text(report.end.jit().log(), style));
                }
                if args.files.len() > 1 {
                    println!();
                }
            }
            Format::Json => {
                let mut document = run_json(&scenario.name, &name, &report);
                if let Some(obj) = document.as_object_mut() {
                    obj.insert("caveats".into(), caveats_json(&caveats));
                }
                documents.push(document);
            }
        }
        print_caveats(file, &caveats);
    }
    if args.format == Format::Json {
        print_json(&serde_json::Value::Array(documents));
    }
    Ok(code)
}

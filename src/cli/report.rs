//! `nsgsim report FILE --html OUT.html [--svg OUT.svg]`: pictures of a run for trainers: a
//! self-contained HTML page, and the grant timeline alone as SVG.

use std::path::PathBuf;

use super::common::{load, print_caveats, run_timeline};
use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK};
use crate::report::{report_html, timeline_svg};

/// Arguments of `nsgsim report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// Write the HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write the timeline of JIT grants here, as SVG.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Runs the command: 0, or 1 when an expectation of the scenario failed (the report is written
/// either way), 2 on invalid input.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    if args.html.is_none() && args.svg.is_none() {
        eprintln!("error: give --html OUT.html and/or --svg OUT.svg");
        return Ok(EXIT_INVALID);
    }
    let scenario = load(&args.file, &args.tags)?;
    let report = run_timeline(&scenario)?;
    let file = args.file.display().to_string();
    let caveats: Vec<&crate::model::Caveat> = scenario.caveats.iter().collect();
    if let Some(path) = &args.html {
        let page =
            report_html(&scenario.name, &scenario.description, &file, &scenario.topology, &report, &caveats);
        std::fs::write(path, page).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.svg {
        let end = report.last_instant();
        let svg = timeline_svg(report.end.jit(), report.end.topology(), report.start, end);
        std::fs::write(path, svg).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    print_caveats(&args.file, &caveats);
    Ok(if report.tally().1 > 0 { EXIT_FAILED } else { EXIT_OK })
}

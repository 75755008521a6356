//! `nsgsim run FILE...`: play each scenario's timeline and check its expectations; each
//! scenario's caveats are named after its run (stderr) and in its JSON document.
//!
//! For a room: `--brief` tells each action on one line, `--log requests|rules|all` puts the
//! activity log under the step that wrote it, `--until OFFSET` stops the story at a point, and
//! `--step` pauses after each instant until Enter (`q` stops).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use super::common::{ColorChoice, flag_offset, load, print_caveats, print_error, print_json, style_for};
use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK, Format};
use crate::report::{LogFilter, Narration, Narrator, caveats_json, run_footer, run_header, run_json};
use crate::sim::{Duration, RunReport};

/// Which activity-log entries `--log` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogChoice {
    /// Every entry.
    All,
    /// JIT policy writes, requests, approvals and port status changes.
    Requests,
    /// Security rule and DNAT writes, associations and peering changes.
    Rules,
}

/// Arguments of `nsgsim run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the trace of every evaluated flow, not only of failures.
    #[arg(long, short)]
    pub verbose: bool,
    /// One line per action: JIT rules by port and priority, not by name.
    #[arg(long)]
    pub brief: bool,
    /// Show the activity log under the step that wrote it: all (the default), requests, or rules.
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "all", value_name = "WHICH")]
    pub log: Option<LogChoice>,
    /// Stop the story at this offset of the timeline (90m, 2h30m, PT1H): later steps are not played.
    #[arg(long, value_name = "OFFSET")]
    pub until: Option<String>,
    /// Pause after each instant of the story until Enter is pressed (q and Enter stops).
    #[arg(long)]
    pub step: bool,
    /// Colour: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Output format (JSON: one document per scenario, in an array).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Runs the command: 0 when every expectation passed, 1 when one failed, 2 on invalid input.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    if args.step && args.format == Format::Json {
        anyhow::bail!("--step pauses a text narrative; it cannot be used with --format json");
    }
    let how = Narration {
        verbose: args.verbose,
        brief: args.brief,
        log: args.log.map(|l| match l {
            LogChoice::All => LogFilter::All,
            LogChoice::Requests => LogFilter::Requests,
            LogChoice::Rules => LogFilter::Rules,
        }),
        style: style_for(args.color),
    };
    let mut pauses = args.step.then(Pauses::default);
    let mut code = EXIT_OK;
    let mut documents = Vec::new();
    for file in &args.files {
        let scenario = match load(file, &args.tags) {
            Ok(s) => s,
            Err(e) => {
                print_error(&format_args!("{e:#}"));
                code = EXIT_INVALID;
                continue;
            }
        };
        // The one rule of every offset: 0 or more, within the scenario's calendar.
        let until = args.until.as_deref().map(|text| flag_offset(&scenario, "--until", text)).transpose()?;
        let report = match crate::sim::run_until(scenario.world(), &scenario.steps, until) {
            Ok(r) => r,
            Err(e) => {
                print_error(&scenario.step_error(&e));
                code = EXIT_INVALID;
                continue;
            }
        };
        let name = file.display().to_string();
        let caveats: Vec<&crate::model::Caveat> = scenario.caveats.iter().collect();
        let not_played = until.map(|u| (u, scenario.steps.iter().filter(|s| s.at > u).count()));
        match args.format {
            Format::Text => {
                let (passed, failed) = tell(&scenario, &name, &report, how, not_played, pauses.as_mut());
                if failed > 0 && code == EXIT_OK {
                    code = EXIT_FAILED;
                }
                let _ = passed;
                if args.files.len() > 1 {
                    println!();
                }
            }
            Format::Json => {
                if report.tally().1 > 0 && code == EXIT_OK {
                    code = EXIT_FAILED;
                }
                let mut document = run_json(&scenario.name, &name, &report);
                if let Some(obj) = document.as_object_mut() {
                    obj.insert("caveats".into(), caveats_json(&caveats));
                    if let Some((at, left)) = not_played {
                        obj.insert("stopped_at".into(), at.to_string().into());
                        obj.insert("not_played".into(), left.into());
                    }
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

/// Prints the story of one run, pausing between instants when asked; returns the tally of the
/// expectations told (all of them, unless the trainer stopped the story).
fn tell(
    scenario: &crate::scenario::Scenario,
    file: &str,
    report: &RunReport,
    how: Narration,
    not_played: Option<(Duration, usize)>,
    mut pauses: Option<&mut Pauses>,
) -> (usize, usize) {
    print!("{}", run_header(&scenario.name, file, &scenario.description, report, how.style));
    let mut narrator = Narrator::new(report, how);
    let (mut passed, mut failed) = (0, 0);
    let steps = &report.steps;
    let mut i = 0;
    while i < steps.len() {
        let at = steps[i].at;
        while let Some(step) = steps.get(i).filter(|s| s.at == at) {
            print!("{}", narrator.step(step));
            if let Some(e) = &step.expectation {
                if e.passed {
                    passed += 1;
                } else {
                    failed += 1;
                }
            }
            i += 1;
        }
        if i < steps.len()
            && let Some(p) = pauses.as_deref_mut()
            && !p.wait(steps[i].offset)
        {
            let left = steps.len() - i;
            println!("stopped before +{}: {left} later step(s) not shown", steps[i].offset);
            println!("{}: {passed} passed, {failed} failed (of the steps shown)", scenario.name);
            return (passed, failed);
        }
    }
    print!("{}", run_footer(&scenario.name, report.tally(), not_played, how.style));
    report.tally()
}

/// Pauses between the instants of a story (`--step`): waits for a line on stdin. `q` stops the
/// story; at the end of stdin the story goes on without pausing.
#[derive(Debug, Default)]
struct Pauses {
    ended: bool,
}

impl Pauses {
    /// Waits before the instant at `next`; false when the trainer asked to stop.
    fn wait(&mut self, next: Duration) -> bool {
        if self.ended {
            return true;
        }
        eprint!("-- next: +{next}; Enter to go on, q to stop --");
        let _ = std::io::stderr().flush();
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                eprintln!();
                self.ended = true;
                true
            }
            Ok(_) => line.trim() != "q",
        }
    }
}

//! The command line: clap definitions and thin handlers that wire the library together.
//!
//! Only this module knows about clap, exit codes and `anyhow`. Each subcommand lives in its own
//! file with the same shape: parse arguments, call the library, render through `report`.
//! Exit codes: 0 success, 1 an expectation/check failed, 2 invalid input or usage.

mod check;
mod classbench;
mod common;
mod diff;
mod effective;
mod eval;
mod exposure;
mod graph;
mod import;
mod jit;
mod lint;
mod quiz;
mod reach;
mod replay;
mod report;
mod run;
mod serve;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when an expectation, lint or check failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for invalid input or usage.
pub const EXIT_INVALID: u8 = 2;

/// Output format shared by every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// Output format of the commands that gate CI (`lint`, `test`, `diff`, `replay`): SARIF too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum GateFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, Azure DevOps): each result located where the
    /// user edits (docs/engineers.md, "SARIF").
    Sarif,
}

/// nsgsim: an offline simulator of Azure NSGs and Defender for Cloud just-in-time VM access.
#[derive(Debug, Parser)]
#[command(name = "nsgsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate scenario files (syntax, references, Azure's rules and limits).
    Check(check::Args),
    /// Play scenario timelines and check their expectations.
    Run(run::Args),
    /// Evaluate one flow and explain the verdict hop by hop.
    Eval(eval::Args),
    /// Show a VM's effective security rules (both NSG levels, tags and ASGs expanded).
    EffectiveRules(effective::Args),
    /// Every source class that can reach a VM, on which ports, and what allowed it.
    Reach(reach::Args),
    /// When each VM's management ports were reachable from the Internet over the timeline.
    Exposure(exposure::Args),
    /// Pictures of a run: a self-contained HTML report (--html) and the grant timeline as SVG (--svg).
    Report(report::Args),
    /// Exam practice: the scenario's expectations as questions, answered on stdin or with --answers.
    Quiz(quiz::Args),
    /// The topology as a graph (Graphviz DOT; render with `dot -Tsvg`).
    Graph(graph::Args),
    /// Just-in-time VM access: the status of every VM (`status`), or a what-if request (`request`).
    #[command(subcommand)]
    Jit(jit::JitCommand),
    /// Check a ClassBench filter set against its header trace and measure lookup speed.
    Classbench(classbench::Args),
    /// Import Azure JSON (ARM templates, `az` output, JIT policies) as a scenario file.
    Import(import::Args),
    /// Lint a policy: shadowed, redundant and conflicting rules, open management ports, JIT and Bastion problems.
    Lint(lint::Args),
    /// Exactly which flows change verdict between two policies, per VM and direction.
    Diff(diff::Args),
    /// Run assertion files (named flows and expected verdicts) for CI; optional JUnit XML.
    Test(test::Args),
    /// Replay real traffic (Azure NSG/VNet flow logs, CSV) against a scenario: flows per rule, unused rules, disagreements with Azure's log.
    Replay(replay::Args),
    /// The live classroom: the JIT page, NSGs, flows, clock and activity log in the browser, with a JSON API.
    Serve(serve::Args),
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() => {
            // clap formats its own usage errors; they quote the argument, which is the user's
            // text, so it goes through the same escaping and cutting as every other message.
            let mut text = err.render().to_string();
            // A value with a line break would split the message: show each argument that holds
            // an unsafe character escaped first, where clap quotes it.
            for arg in std::env::args_os().map(|a| a.to_string_lossy().into_owned()) {
                if arg.chars().any(crate::text::is_unsafe) && text.contains(&arg) {
                    text = text.replace(&arg, &crate::text::shown(&arg));
                }
            }
            eprint!("{}", crate::text::safe_message(&text));
            return ExitCode::from(EXIT_INVALID);
        }
        Err(err) => {
            // Help and version.
            let _ = err.print();
            return ExitCode::from(EXIT_OK);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::EffectiveRules(args) => effective::run(&args),
        Command::Reach(args) => reach::run(&args),
        Command::Exposure(args) => exposure::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Quiz(args) => quiz::run(&args),
        Command::Jit(command) => jit::run(&command),
        Command::Classbench(args) => classbench::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Serve(args) => serve::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            common::print_error(&format_args!("{err:#}"));
            ExitCode::from(EXIT_INVALID)
        }
    }
}

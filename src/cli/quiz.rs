//! `nsgsim quiz FILE`: exam practice. Each expectation of the scenario becomes a question; the
//! answer is read from stdin (or `--answers`), judged, and explained with the trace.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use super::common::{load, print_caveats, run_timeline};
use super::{EXIT_FAILED, EXIT_OK};
use crate::quiz::{normalise, questions};

/// Arguments of `nsgsim quiz`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// Answers, comma separated (y,n,c,…), instead of asking on stdin.
    #[arg(long)]
    pub answers: Option<String>,
}

/// Runs the quiz: 0 when every answer was right, 1 otherwise.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.file)?;
    let report = run_timeline(&scenario)?;
    let questions = questions(&scenario.steps, &report);
    // Said before the first question, on stderr: the answers come from a model that lacks these.
    print_caveats(&args.file, &scenario.caveats.iter().collect::<Vec<_>>());
    let mut given: Option<std::vec::IntoIter<String>> =
        args.answers.as_ref().map(|a| a.split(',').map(str::to_string).collect::<Vec<_>>().into_iter());
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    println!("Quiz: {} ({} questions)\n{}\n", scenario.name, questions.len(), scenario.description);
    let mut right = 0;
    let mut asked = 0;
    for (i, q) in questions.iter().enumerate() {
        for line in &q.context {
            println!("  {line}");
        }
        let choices = q.choices.join("/");
        loop {
            print!("Q{}. {} ", i + 1, q.prompt);
            let _ = std::io::stdout().flush();
            let raw = match given.as_mut() {
                Some(list) => list.next(),
                None => lines.next().and_then(Result::ok),
            };
            let Some(raw) = raw else {
                println!("\n(no more answers: stopping)");
                return finish(right, asked, questions.len());
            };
            let answer = normalise(&raw);
            if given.is_some() {
                println!("{raw}");
            }
            if !q.choices.contains(&answer) && given.is_none() {
                println!("  please answer one of {choices}");
                continue;
            }
            asked += 1;
            if answer == q.answer {
                right += 1;
                println!("  correct.");
            } else {
                println!("  wrong: the answer is '{}'.", q.answer);
            }
            for line in q.explanation.lines() {
                println!("  {line}");
            }
            println!();
            break;
        }
    }
    finish(right, asked, questions.len())
}

fn finish(right: usize, asked: usize, total: usize) -> anyhow::Result<u8> {
    println!("score: {right}/{total} correct ({asked} answered)");
    Ok(if right == total { EXIT_OK } else { EXIT_FAILED })
}

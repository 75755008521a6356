//! `nsgsim quiz FILE`: exam practice. Each expectation of the scenario, and each concept
//! question it carries, becomes a question: the situation and the facts first, then the
//! question; the answer is read from stdin (or `--answers`), judged, and explained with its
//! sources; a score at the end. `--format json` prints the questions, the answers given and the
//! score as one document, for a class tool.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use serde_json::{Value, json};

use super::common::{load, print_caveats, print_json, run_timeline};
use super::{EXIT_FAILED, EXIT_OK, Format};
use crate::quiz::{Question, normalise, questions};
use crate::report::caveats_json;

/// Arguments of `nsgsim quiz`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario file.
    pub file: PathBuf,
    /// Answers, comma separated (y,n,c,a,…), instead of asking on stdin.
    #[arg(long)]
    pub answers: Option<String>,
    /// Output format. JSON never asks: it lists every question with its answer, and judges
    /// `--answers` when they are given.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// Runs the quiz: 0 when every answer was right (or, in JSON without answers, always), 1
/// otherwise.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let scenario = load(&args.file, &args.tags)?;
    let report = run_timeline(&scenario)?;
    let questions = questions(&scenario.world(), &scenario.steps, &report)
        .map_err(|e| anyhow::anyhow!("{}", scenario.step_error(&e)))?;
    let caveats: Vec<&crate::model::Caveat> = scenario.caveats.iter().collect();
    let given: Option<Vec<String>> =
        args.answers.as_ref().map(|a| a.split(',').map(|s| s.trim().to_string()).collect());
    if args.format == Format::Json {
        let code = json_quiz(&scenario.name, &questions, given.as_deref(), &caveats);
        print_caveats(&args.file, &caveats);
        return Ok(code);
    }
    // Said before the first question, on stderr: the answers come from a model that lacks these.
    print_caveats(&args.file, &caveats);
    let mut given = given.map(Vec::into_iter);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    println!("Quiz: {} ({} questions)\n{}\n", scenario.name, questions.len(), scenario.description);
    let total = questions.len();
    let (mut right, mut asked) = (0, 0);
    for (i, q) in questions.iter().enumerate() {
        println!("Q{} of {total} [+{}]", i + 1, q.offset);
        if !q.situation.is_empty() {
            println!("  What happened:");
            for line in &q.situation {
                println!("    {line}");
            }
        }
        if !q.facts.is_empty() {
            println!("  Facts:");
            for line in &q.facts {
                println!("    {line}");
            }
        }
        println!("  {}", q.prompt);
        for line in q.choices_text().lines() {
            println!("    {line}");
        }
        let keys: Vec<&str> = q.choices.iter().map(|c| c.key.as_str()).collect();
        loop {
            print!("  your answer [{}]: ", keys.join("/"));
            let _ = std::io::stdout().flush();
            let raw = match given.as_mut() {
                Some(list) => list.next(),
                None => lines.next().and_then(Result::ok),
            };
            let Some(raw) = raw else {
                println!("\n(no more answers: stopping)");
                return Ok(finish(right, asked, total));
            };
            let answer = normalise(&raw);
            if given.is_some() {
                println!("{raw}");
            }
            if !keys.contains(&answer.as_str()) && given.is_none() {
                println!("  please answer one of {}", keys.join(", "));
                continue;
            }
            asked += 1;
            let label = |key: &str| {
                q.choices.iter().find(|c| c.key == key).map(|c| c.label.clone()).unwrap_or_default()
            };
            if answer == q.answer {
                right += 1;
                println!("  correct: {}.", label(&q.answer));
            } else {
                println!("  wrong: the answer is {}) {}.", q.answer, label(&q.answer));
            }
            println!("  Why:");
            for line in q.explanation.lines() {
                println!("    {line}");
            }
            for s in &q.sources {
                println!("  Source: {s}");
            }
            println!();
            break;
        }
    }
    Ok(finish(right, asked, total))
}

fn finish(right: usize, asked: usize, total: usize) -> u8 {
    println!("score: {right}/{total} correct ({asked} answered)");
    if right == total { EXIT_OK } else { EXIT_FAILED }
}

/// The quiz as one JSON document; the exit code judges the answers given, if any.
fn json_quiz(
    name: &str,
    questions: &[Question],
    given: Option<&[String]>,
    caveats: &[&crate::model::Caveat],
) -> u8 {
    let mut right = 0;
    let items: Vec<Value> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let answer = given.and_then(|g| g.get(i)).map(|a| normalise(a));
            let correct = answer.as_ref().map(|a| *a == q.answer);
            if correct == Some(true) {
                right += 1;
            }
            json!({
                "number": i + 1,
                "offset": q.offset.to_string(),
                "situation": q.situation,
                "facts": q.facts,
                "prompt": q.prompt,
                "choices": q.choices.iter().map(|c| json!({"key": c.key, "label": c.label})).collect::<Vec<_>>(),
                "answer": q.answer,
                "explanation": q.explanation,
                "sources": q.sources.iter().map(|s| json!({"title": s.title, "url": s.url})).collect::<Vec<_>>(),
                "given": answer,
                "correct": correct,
            })
        })
        .collect();
    let answered = given.map_or(0, |g| g.len().min(questions.len()));
    let score = given.map(|_| json!({"right": right, "answered": answered, "total": questions.len()}));
    print_json(&json!({
        "scenario": name,
        "questions": items,
        "score": score,
        "caveats": caveats_json(caveats),
    }));
    match given {
        Some(_) if right < questions.len() => EXIT_FAILED,
        _ => EXIT_OK,
    }
}

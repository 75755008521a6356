//! The real-world corpus (issue 17): every published template and `az`/REST file in
//! `../shared/data/real-world/` (`arm/` with the parameters file beside each template, `az/`,
//! `az/cassettes/`, and the `terraform show -json` plans of `terraform/`), imported through the binary and compared with what
//! `tests/data/real-world-expectations.ron` records for it: the counts it imports (and the output
//! passes `check`), "empty" (exit 1: nothing to simulate), or the exact positioned error, each
//! with why Azure itself would need more. An outcome that changes fails the test, so an
//! improvement updates the expectations deliberately. Skipped, with a note, where the corpus is
//! not checked out.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::util::{TempDir, nsgsim, root};

#[derive(Debug, Deserialize)]
struct Expectations {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    /// Paths relative to the corpus directory, imported together.
    files: Vec<String>,
    outcome: Outcome,
}

#[derive(Debug, Deserialize, PartialEq)]
enum Outcome {
    /// Exit 0 with these counts; `skipped_traffic` counts skipped resources that can (or may)
    /// change traffic, as the summary's last line says.
    Imports { vnets: usize, nsgs: usize, vms: usize, jit_policies: usize, skipped_traffic: usize },
    /// Exit 1: no VNet and no NSG; `why` says why.
    Empty { why: String },
    /// Exit 2 with this error (paths relative to the corpus); `why` says why.
    Fails { error: String, why: String },
}

/// What one run gave, in the expectations' terms.
fn outcome(corpus: &Path, dir: &TempDir, files: &[String]) -> Result<Outcome, String> {
    let out = dir.path().join("out.ron");
    let _ = std::fs::remove_file(&out);
    let mut args: Vec<String> = vec!["import".into()];
    args.extend(files.iter().map(|f| corpus.join(f).display().to_string()));
    args.extend(["-o".into(), out.display().to_string()]);
    let run = nsgsim(&args);
    run.assert_no_panic();
    let prefix = format!("{}/", corpus.display());
    let stderr = run.stderr.replace(&prefix, "");
    match run.code {
        0 => {
            let line = stderr.lines().find(|l| l.starts_with("imported ")).ok_or("no 'imported' line")?;
            let numbers: Vec<usize> = line.split(' ').filter_map(|w| w.parse().ok()).collect::<Vec<_>>();
            let [vnets, nsgs, vms, jit_policies] = numbers[..] else {
                return Err(format!("odd line: {line}"));
            };
            let skipped_traffic = stderr
                .lines()
                .find(|l| l.contains("skipped resource(s) can or may change traffic"))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let check = nsgsim(&["check", &out.display().to_string()]);
            if check.code != 0 {
                return Err(format!("the output does not pass check:\n{}", check.stdout));
            }
            Ok(Outcome::Imports { vnets, nsgs, vms, jit_policies, skipped_traffic })
        }
        1 => {
            if out.exists() {
                return Err("exit 1, but a scenario was written".into());
            }
            Ok(Outcome::Empty { why: String::new() })
        }
        2 => {
            let error =
                stderr.lines().rev().find_map(|l| l.strip_prefix("error: ")).ok_or("no error line")?;
            Ok(Outcome::Fails { error: error.to_string(), why: String::new() })
        }
        code => Err(format!("exit code {code}:\n{stderr}")),
    }
}

/// Whether two outcomes agree (the `why` is documentation, not compared).
fn agree(expected: &Outcome, got: &Outcome) -> bool {
    match (expected, got) {
        (Outcome::Empty { .. }, Outcome::Empty { .. }) => true,
        (Outcome::Fails { error: a, .. }, Outcome::Fails { error: b, .. }) => a == b,
        (a, b) => a == b,
    }
}

/// Every JSON file of the corpus the test covers, relative to it.
fn corpus_files(corpus: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["arm", "az", "az/cassettes", "terraform"] {
        let Ok(entries) = std::fs::read_dir(corpus.join(dir)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "json") {
                out.insert(format!("{dir}/{}", path.file_name().unwrap_or_default().to_string_lossy()));
            }
        }
    }
    out
}

#[test]
#[expect(clippy::print_stdout, reason = "the test prints its tally, and says when it skips")]
fn real_world_corpus_outcomes_match_the_expectations() {
    let corpus: PathBuf = root().join("../shared/data/real-world");
    if !corpus.is_dir() {
        println!("note: {} is not here; the real-world corpus test is skipped", corpus.display());
        return;
    }
    let text = std::fs::read_to_string(root().join("tests/data/real-world-expectations.ron"))
        .expect("the expectations file is readable");
    let expectations: Expectations =
        ron::from_str(&text).unwrap_or_else(|e| panic!("the expectations file: {e}"));
    let mut problems = Vec::new();
    let covered: BTreeSet<String> = expectations.cases.iter().flat_map(|c| c.files.iter().cloned()).collect();
    for missing in corpus_files(&corpus).difference(&covered) {
        problems.push(format!("{missing}: no expectation; add a case for it"));
    }
    let dir = TempDir::new("corpus");
    let (mut ok, mut empty, mut fail) = (0, 0, 0);
    for case in &expectations.cases {
        let name = case.files.join(" + ");
        if let Some(absent) = case.files.iter().find(|f| !corpus.join(f).is_file()) {
            problems.push(format!("{name}: {absent} is not in the corpus"));
            continue;
        }
        match &case.outcome {
            Outcome::Imports { .. } => ok += 1,
            Outcome::Empty { why } | Outcome::Fails { why, .. } => {
                if matches!(case.outcome, Outcome::Empty { .. }) {
                    empty += 1
                } else {
                    fail += 1
                }
                if why.trim().is_empty() {
                    problems.push(format!("{name}: the expectation needs a 'why'"));
                }
            }
        }
        match outcome(&corpus, &dir, &case.files) {
            Ok(got) if agree(&case.outcome, &got) => {}
            Ok(got) => problems.push(format!("{name}:\n  expected {:?}\n  got      {got:?}", case.outcome)),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    println!(
        "real-world corpus: {ok} ok, {empty} empty, {fail} fail ({} cases, {} files)",
        expectations.cases.len(),
        covered.len()
    );
    assert!(
        problems.is_empty(),
        "{} outcome(s) differ from tests/data/real-world-expectations.ron:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

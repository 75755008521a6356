//! Fuzzing every input of the binary on stable Rust (issue 21), as part of `cargo test --release`.
//!
//! Why a small in-repo mutation engine (`mutate`) driven by seeded `rand`, and not cargo-fuzz,
//! bolero or proptest: there is no nightly toolchain here (cargo-fuzz and bolero's libFuzzer
//! engine need one); the invariant is about the real binary (exit codes, stderr, time and memory
//! under `prlimit`), which in-process harnesses cannot see; and the inputs worth trying are real
//! documents with one fault, which a mutation engine makes directly from the repository's files,
//! where proptest would need a generator per format and shrinking adds nothing a saved input
//! does not. Every input is made from `(seed, case)` alone, so one case replays exactly.
//!
//! - `bounded_fuzz_run`: at most 4,000 cases per seed (`NSGSIM_FUZZ_CASES`) and about 60 s in all
//!   (`NSGSIM_FUZZ_SECONDS`), shared by the fixed seeds and one fresh seed, which is printed
//!   before the run and again with anything it finds, so that it replays exactly. Every run,
//!   CI's included, explores a little new ground this way, as issue 21 asks. The fixed seeds
//!   gate on the whole invariant. The fresh seed gates on every fact about a run (a panic, a
//!   signal, the time or memory limit, an exit code, a raw control character, a value echoed
//!   whole, an error without a position); its *wording* finds, an exit-2 error whose words the
//!   heuristic list `SAYS_WHAT_IS_VALID` does not read as saying what is valid, are printed loudly
//!   ("NOT GATING") and saved, but fail the run only under `NSGSIM_FUZZ_FRESH=gate`. Why: a word
//!   list cannot judge every phrasing (seed 9315 found "Azure deploys a firewall only into the
//!   subnet named AzureFirewallSubnet", which does say it), and a gate must give the same answer
//!   on the same commit. The record: on 2026-12-06, 11 of the first 18 fresh seeds (4,000 cases
//!   each) found a message that did not say what is valid; on 2026-12-07, seeds 9301–9370 found
//!   one fact (9355, a stack overflow) and seven wording gaps, each fixed. `NSGSIM_FUZZ_FRESH=0` leaves the fresh seed out
//!   (to compare two builds on the same inputs). Replay: `NSGSIM_FUZZ_SEED=N` (that seed gates,
//!   whatever it is) and `NSGSIM_FUZZ_CASE=I` for one input. A longer run: `NSGSIM_FUZZ_SECONDS=3600 cargo test --release --test fuzz
//!   -- --nocapture`. A failing input is saved under `target/tmp/fuzz-failures/` with its
//!   command line; once fixed, it joins `tests/data/regressions/` (README there).
//! - `regressions_keep_the_invariant`: every input of `tests/data/regressions/INDEX` with its
//!   command and expected exit code.

#![expect(clippy::print_stderr, reason = "the fuzz run prints its seeds, for reproduction, and its counts")]

mod invariant;
mod mutate;
mod targets;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

/// The crate's root directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Cases per seed unless `NSGSIM_FUZZ_CASES` says otherwise: about 15 s per seed on this
/// project's 2-core machines when they are idle.
const DEFAULT_CASES_PER_SEED: u64 = 4_000;

/// The seeds every run uses; a fresh one is added to them unless `NSGSIM_FUZZ_FRESH=0`.
const FIXED_SEEDS: &[u64] = &[1, 2, 3];

/// How many failures are kept and reported (the first ones; the rest are counted).
const MAX_REPORTED: usize = 20;

/// The RNG of case `case` under `seed`: every input depends on these two numbers only.
fn case_rng(seed: u64, case: u64) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ case.rotate_left(17))
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(text.trim().parse().unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

/// A failure, as reported.
struct Failure {
    /// The seed whose case failed.
    seed: u64,
    /// Whether only the wording test failed ([`invariant::Violation::wording`]).
    wording: bool,
    text: String,
}

/// Runs one case of `seed` in `dir`; `Err` describes a failure (and saves its input), with
/// whether only its wording failed.
fn run_case(
    target: &targets::Target,
    (seed, case): (u64, u64),
    dir: &Path,
    prlimit: bool,
) -> Result<Duration, (bool, String)> {
    let mut rng = case_rng(seed, case);
    let input = target.case(&mut rng, dir, &root());
    if let Some((name, bytes)) = &input.file {
        std::fs::write(dir.join(name), bytes).expect("the worker directory is writable");
    }
    let run = invariant::run(&input.args, dir, prlimit);
    match invariant::check(&run, &target.exceptions) {
        Ok(()) => Ok(run.elapsed),
        Err(invariant::Violation { wording, text: reason }) => {
            let saved_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
            std::fs::create_dir_all(&saved_dir).expect("the failure directory is writable");
            let stem = format!("{}-seed{seed}-case{case}", target.name);
            let mut saved = String::new();
            if let Some((name, bytes)) = &input.file {
                let ext = Path::new(name)
                    .extension()
                    .map_or(String::new(), |e| format!(".{}", e.to_string_lossy()));
                let path = saved_dir.join(format!("{stem}{ext}"));
                std::fs::write(&path, bytes).expect("the failure directory is writable");
                saved = format!("\n  input saved: {}", path.display());
            }
            let command: Vec<String> = input.args.iter().map(|a| a.chars().take(120).collect()).collect();
            Err((
                wording,
                format!(
                    "{reason}\n  target {}, fault '{}' in {}\n  replay: NSGSIM_FUZZ_SEED={seed} NSGSIM_FUZZ_CASE={case} cargo test --release --test fuzz bounded\n  command: nsgsim {}{saved}\n  stderr: {}",
                    target.name,
                    input.fault,
                    input.seed,
                    command.join(" "),
                    run.stderr.chars().take(600).collect::<String>()
                ),
            ))
        }
    }
}

#[test]
fn bounded_fuzz_run() {
    let targets = targets::all(&root());
    let prlimit = invariant::has_prlimit();
    let budget = Duration::from_secs(env_number("NSGSIM_FUZZ_SECONDS").unwrap_or(60));
    let only_case = env_number("NSGSIM_FUZZ_CASE");
    // At most this many cases per seed (cases 0, 1, 2, … in order), so that a slower machine
    // runs a prefix of what a faster one runs, never other cases: CI's verdict is the one seen
    // where the cases were last run in full. Raise it with the time budget for a longer run.
    let max_cases = env_number("NSGSIM_FUZZ_CASES").unwrap_or(DEFAULT_CASES_PER_SEED);
    let fresh = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64 ^ u64::from(std::process::id()));
    let seeds: Vec<u64> = match env_number("NSGSIM_FUZZ_SEED") {
        Some(seed) => vec![seed],
        None if std::env::var_os("NSGSIM_FUZZ_FRESH").is_some_and(|v| v == "0") => FIXED_SEEDS.to_vec(),
        None => FIXED_SEEDS.iter().copied().chain([fresh]).collect(),
    };
    let seeds_text = seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    eprintln!(
        "fuzz: seeds {seeds_text} (the fixed ones {FIXED_SEEDS:?}, and any other is this run's fresh seed; replay one with NSGSIM_FUZZ_SEED=N), {} s in all, memory limit {}",
        budget.as_secs(),
        if prlimit { "1 GiB (prlimit)" } else { "NOT enforced: prlimit (util-linux) is missing" }
    );
    for t in &targets {
        eprintln!("fuzz: target {}: {} seed documents", t.name, t.seed_count());
    }

    let failures: Mutex<Vec<Failure>> = Mutex::new(Vec::new());
    let failed = AtomicUsize::new(0);
    let runs: Vec<AtomicUsize> = targets.iter().map(|_| AtomicUsize::new(0)).collect();
    let slowest = Mutex::new((Duration::ZERO, String::new()));
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let per_seed = budget / seeds.len().max(1) as u32;
    for &seed in &seeds {
        let deadline = Instant::now() + per_seed;
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for worker in 0..workers {
                let (targets, failures, failed, runs, slowest, next) =
                    (&targets, &failures, &failed, &runs, &slowest, &next);
                scope.spawn(move || {
                    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                        .join(format!("fuzz-{}-{worker}", std::process::id()));
                    std::fs::create_dir_all(&dir).expect("the worker directory is writable");
                    loop {
                        let case = match only_case {
                            Some(c) if next.fetch_add(1, Ordering::Relaxed) == 0 => c,
                            Some(_) => break,
                            None => next.fetch_add(1, Ordering::Relaxed) as u64,
                        };
                        if only_case.is_none() && (Instant::now() > deadline || case >= max_cases) {
                            break;
                        }
                        let which = (case % targets.len() as u64) as usize;
                        runs[which].fetch_add(1, Ordering::Relaxed);
                        match run_case(&targets[which], (seed, case), &dir, prlimit) {
                            Ok(elapsed) => {
                                let mut s = slowest.lock().expect("no worker panics");
                                if elapsed > s.0 {
                                    *s =
                                        (elapsed, format!("{} seed {seed} case {case}", targets[which].name));
                                }
                            }
                            Err((wording, text)) => {
                                failed.fetch_add(1, Ordering::Relaxed);
                                let mut f = failures.lock().expect("no worker panics");
                                if f.len() < MAX_REPORTED {
                                    f.push(Failure { seed, wording, text });
                                }
                            }
                        }
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                });
            }
        });
    }
    let total: usize = runs.iter().map(|r| r.load(Ordering::Relaxed)).sum();
    let per_target: Vec<String> =
        targets.iter().zip(&runs).map(|(t, r)| format!("{} {}", t.name, r.load(Ordering::Relaxed))).collect();
    let slowest = slowest.into_inner().expect("no worker panics");
    eprintln!(
        "fuzz: {total} runs ({}), slowest {:.2} s ({})",
        per_target.join(", "),
        slowest.0.as_secs_f64(),
        slowest.1
    );
    let mut failures = failures.into_inner().expect("no worker panics");
    let failed = failed.load(Ordering::Relaxed);
    // The fresh seed gates on every fact about a run (a panic, a signal, the time or memory
    // limit, an exit code, a raw control character, a value echoed whole, an error without a
    // position). Its wording finds (an error whose words the heuristic list does not read as
    // saying what is valid) are shown, saved and counted but do not decide the verdict unless
    // asked (`NSGSIM_FUZZ_FRESH=gate`): a gate must give the same answer on the same commit, and a
    // word list cannot judge every phrasing (docs in the module header).
    let fresh_gates_wording = std::env::var_os("NSGSIM_FUZZ_FRESH").is_some_and(|v| v == "gate");
    let explored = env_number("NSGSIM_FUZZ_SEED").is_none() && seeds.len() > FIXED_SEEDS.len();
    if explored && !fresh_gates_wording {
        let (found, gating): (Vec<Failure>, Vec<Failure>) =
            failures.into_iter().partition(|f| f.seed == fresh && f.wording);
        if !found.is_empty() {
            // Written to the process's standard error directly: the test harness captures
            // `eprintln!` of a test that passes, and this must be seen in CI's log.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "fuzz: NOT GATING: the fresh seed {fresh} found {} error(s) whose words do not say what is valid; replay with NSGSIM_FUZZ_SEED={fresh}, fix the message, and add the input to tests/data/regressions:\n\n{}",
                found.len(),
                found.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join("\n\n")
            );
        }
        failures = gating;
    }
    assert!(
        failures.is_empty(),
        "{failed} of {total} fuzz inputs broke the invariant (seeds {seeds_text}); the first {}:\n\n{}",
        failures.len(),
        failures.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join("\n\n")
    );
    assert!(
        only_case.is_some() || total >= targets.len(),
        "the fuzz run ran only {total} inputs in {budget:?}"
    );
}

/// One line of a regressions INDEX: the input (`-` for none), the exit code it must give, and
/// the command (`{}` is the input's path, `{root}` the crate's, `{tmp}` a scratch directory).
struct Regression {
    file: String,
    code: i32,
    args: Vec<String>,
}

fn index(dir: &Path, scratch: &Path) -> Vec<Regression> {
    let text = std::fs::read_to_string(dir.join("INDEX")).expect("the INDEX of the regressions is readable");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut words = line.split_whitespace();
            let file = words.next().expect("a file name").to_string();
            let code =
                words.next().and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no exit code: {line}"));
            let input = dir.join(&file).display().to_string();
            let args = words
                .map(|w| {
                    if w == "{}" {
                        input.clone()
                    } else {
                        w.replace("{root}", &root().display().to_string())
                            .replace("{tmp}", &scratch.display().to_string())
                    }
                })
                .collect();
            Regression { file, code, args }
        })
        .collect()
}

fn replay_index(dir: &Path) -> Vec<String> {
    let prlimit = invariant::has_prlimit();
    let scratch =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("regressions-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("the scratch directory is writable");
    let mut problems = Vec::new();
    for r in index(dir, &scratch) {
        assert!(
            r.file == "-" || dir.join(&r.file).is_file(),
            "INDEX names {}, which is not in {}",
            r.file,
            dir.display()
        );
        let run = invariant::run(&r.args, &scratch, prlimit);
        if let Err(violation) = invariant::check(&run, &[]) {
            problems.push(format!("{}: {}", r.file, violation.text));
        } else if run.code != Some(r.code) {
            problems.push(format!("{}: exit {:?}, expected {}: {}", r.file, run.code, r.code, run.stderr));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    problems
}

#[test]
fn regressions_keep_the_invariant() {
    let problems = replay_index(&root().join("tests/data/regressions"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 21's `hang-check-timeline-100k-steps.ron` (100,000 note-only steps took over 20 s,
/// quadratic in the steps, until the source map found positions by binary search), made here
/// instead of kept as a 3.5 MB file: the same document, byte for byte.
fn timeline_of_100k_steps() -> String {
    let mut text = String::from(
        r#"Scenario(
    name: "t",
    start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [
        Subnet(name: "s", prefix: "10.0.1.0/24", nsg: "big")])],
    nsgs: [Nsg(name: "big", rules: [
        Rule(name: "a", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "203.0.113.0/24", destination_ports: "22")
    ])],
    public_ips: [PublicIp(name: "pip", address: "20.10.0.4")],
    vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "vm1-nic", subnet: "v/s", private_ip: "10.0.1.4", public_ip: "pip")])],
    users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.10")],
    
    timeline: ["#,
    );
    let steps: Vec<String> = (0..100_000).map(|s| format!("(at: \"{s}s\", note: \"n\")")).collect();
    text.push_str(&steps.join(",\n        "));
    text.push_str("],\n)\n");
    text
}

#[test]
fn a_timeline_of_100k_steps_keeps_the_invariant() {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("timeline-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("the scratch directory is writable");
    let file = scratch.join("hang-check-timeline-100k-steps.ron");
    std::fs::write(&file, timeline_of_100k_steps()).expect("the scratch directory is writable");
    let prlimit = invariant::has_prlimit();
    for command in ["check", "run"] {
        let run = invariant::run(&[command.to_string(), file.display().to_string()], &scratch, prlimit);
        assert_eq!(invariant::check(&run, &[]), Ok(()), "{command}: {}", run.stderr);
        assert_eq!(run.code, Some(0), "{command}: {}", run.stderr);
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

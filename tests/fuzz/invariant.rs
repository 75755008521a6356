//! The invariant every input must keep, checked on one run of the real binary.
//!
//! - Exit 0, 1 or 2: never a panic, never a signal (an allocation over the memory limit aborts,
//!   which is a signal).
//! - No input takes more than [`TIME_LIMIT`] or [`MEMORY_LIMIT`]: the binary runs under
//!   `prlimit --as` and is killed at the time limit.
//! - Exit 2 names where: `file:line:column` or the argument (`--at`, clap's `'--port <PORT>'`).
//! - Exit 2 says what is valid.
//! - Messages never print a value longer than about 200 characters, nor a raw control or
//!   bidirectional character.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The most one run may take.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);
/// The most address space one run may map (`prlimit --as`).
pub const MEMORY_LIMIT: u64 = 1 << 30;

/// What one run produced.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `None` when a signal ended it (or the time limit did).
    pub code: Option<i32>,
    /// Whether the time limit killed it.
    pub timed_out: bool,
    /// How long it took.
    pub elapsed: Duration,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Whether `prlimit` exists (util-linux); without it the memory limit is not enforced, and the
/// fuzz test says so.
pub fn has_prlimit() -> bool {
    Command::new("prlimit").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Runs `nsgsim ARGS` in `dir` under the limits.
pub fn run(args: &[String], dir: &Path, prlimit: bool) -> Run {
    let binary = env!("CARGO_BIN_EXE_nsgsim");
    let mut command = if prlimit {
        let mut c = Command::new("prlimit");
        c.arg(format!("--as={MEMORY_LIMIT}")).arg("--").arg(binary);
        c
    } else {
        Command::new(binary)
    };
    let mut child = command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nsgsim binary starts");
    // Stderr is read on its own thread so that a chatty child never blocks on a full pipe.
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.by_ref().take(1 << 20).read_to_end(&mut bytes);
        bytes
    });
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("the killed child can be waited for");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    Run { code: if timed_out { None } else { status.code() }, timed_out, elapsed, stderr }
}

/// Whether `c` must never reach the terminal raw.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `line` names a position (`:12:5: `) or an argument (`--at`, `'--port <PORT>'`).
fn names_where(line: &str) -> bool {
    let bytes = line.as_bytes();
    let position = line.match_indices(':').any(|(i, _)| {
        // `:<digits>:<digits>:`
        let rest = &bytes[i + 1..];
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        n > 0 && rest.get(n) == Some(&b':') && {
            let rest = &rest[n + 1..];
            let m = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            m > 0 && rest.get(m) == Some(&b':')
        }
    });
    position || line.contains("error: --") || line.contains("'--") || line.contains("argument")
}

/// Words by which an error says what would be valid: `valid: …`, a range (`outside 100..=4096`,
/// `at most 140`), the expected form, or what to do (`declare it in`, `give either`); clap's
/// own (`possible values`, `Usage:`); and "No such file", where the valid thing is the file.
/// Compared without case.
const SAYS_WHAT_IS_VALID: &[&str] = &[
    "valid",
    "expected",
    "expecting",
    "outside",
    "..=",
    "at most",
    "at least",
    "must",
    "needs",
    "declare it",
    "give ",
    "one of",
    "possible values",
    "usage:",
    "no such file",
    // The flow-log readers describe the valid shape: "a flow log has records here", "neither an
    // NSG flow-log record (with properties.flows) nor …".
    "a flow log has",
    "flow tuple has",
    "neither",
    // clap: "a value is required for '--location <LOCATION>' …; for more information, try '--help'".
    "--help",
    // The importer says what to do instead: "import the file that defines it (defined: …)",
    // "pass it with --parameters FILE", "write the value into the template", "(declared: …)";
    // the valid form in words ("a port number is 0-65535", "an integer 100-4096", "a rule holds
    // '*', one service tag, or a list of IPs/CIDRs"); and a required field that is missing
    // ("has no 'protocol'", RON's "missing field"), where the valid input names the field.
    "import the file",
    "pass it with",
    "write the value",
    "declared:",
    "defined:",
    "a port number is",
    "a rule holds",
    "an integer",
    "has no ",
    "missing field",
    // A form nsgsim does not read, named as such ("nsgsim does not read these templates yet").
    "does not read",
];

/// Whether `text` holds one of [`SAYS_WHAT_IS_VALID`], not as the tail of a longer word: "invalid
/// UTF-8" says what is wrong, not what is valid.
fn says_what_is_valid(text: &str) -> bool {
    let lower = text.to_lowercase();
    SAYS_WHAT_IS_VALID.iter().any(|w| {
        // The match starts a word (or is not a word itself).
        lower.match_indices(w).any(|(i, _)| {
            !w.starts_with(|c: char| c.is_alphanumeric())
                || !lower[..i].ends_with(|c: char| c.is_alphanumeric())
        })
    })
}

/// How a run broke the invariant.
#[derive(Debug, PartialEq, Eq)]
pub struct Violation {
    /// Whether only the wording test failed: an exit-2 error whose words the list
    /// [`SAYS_WHAT_IS_VALID`] does not recognise. The list is a heuristic (an error can say what is
    /// valid in other words), so a fresh seed's wording finds are reported, not gated (see
    /// `tests/fuzz/main.rs`); every other violation is a fact about the run.
    pub wording: bool,
    /// What is wrong.
    pub text: String,
}

impl Violation {
    fn fact(text: String) -> Violation {
        Violation { wording: false, text }
    }
}

/// What is wrong with `run`, if anything; `exceptions` are the known, reported gaps that the
/// target tolerates (each one a note with the issue that fixes it).
pub fn check(run: &Run, exceptions: &[Exception]) -> Result<(), Violation> {
    if run.timed_out {
        return Err(Violation::fact(format!("took more than {} s", TIME_LIMIT.as_secs())));
    }
    let Some(code) = run.code else {
        return Err(Violation::fact(format!(
            "ended by a signal (a panic abort or the {} MiB limit?)",
            MEMORY_LIMIT >> 20
        )));
    };
    if !(0..=2).contains(&code) {
        return Err(Violation::fact(format!("exit code {code}, not 0, 1 or 2")));
    }
    if run.stderr.contains("panicked") || run.stderr.contains("RUST_BACKTRACE") {
        return Err(Violation::fact("panicked".into()));
    }
    for line in run.stderr.lines() {
        if let Some(c) = line.chars().find(|&c| unsafe_char(c)) {
            return Err(Violation::fact(format!(
                "stderr prints the raw character U+{:04X}: {}",
                c as u32,
                cut(line)
            )));
        }
        if line.chars().count() > 4_200 {
            return Err(Violation::fact(format!("a stderr line of {} characters", line.chars().count())));
        }
        if let Some(word) = line.split(' ').find(|w| w.chars().count() > 300) {
            return Err(Violation::fact(format!(
                "stderr echoes {} characters in one piece: {}",
                word.chars().count(),
                cut(line)
            )));
        }
    }
    if code == 2 {
        let Some(error) = run.stderr.lines().find(|l| l.starts_with("error:")) else {
            return Err(Violation::fact(format!("exit 2 without an 'error:' line: {}", cut(&run.stderr))));
        };
        // clap writes the reason and its usage over several lines: judge the whole text.
        let whole = run.stderr.as_str();
        let tolerated = |gap: Gap| exceptions.iter().any(|e| e.gap == gap && error.contains(e.contains));
        if !names_where(error) && !tolerated(Gap::Position) {
            return Err(Violation::fact(format!(
                "exit 2 names no file:line:column and no argument: {}",
                cut(error)
            )));
        }
        let says_valid = says_what_is_valid(whole);
        if !says_valid && !tolerated(Gap::Valid) {
            return Err(Violation {
                wording: true,
                text: format!("exit 2 does not say what is valid: {}", cut(error)),
            });
        }
    }
    Ok(())
}

/// A part of the invariant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// The error names no position or argument.
    Position,
    /// The error does not say what is valid.
    Valid,
}

/// A known gap, tolerated where an error line contains `contains`, until the work named beside
/// its definition fixes it.
#[derive(Clone, Copy, Debug)]
pub struct Exception {
    /// Which part of the invariant.
    pub gap: Gap,
    /// Text of the error lines it concerns.
    pub contains: &'static str,
}

fn cut(text: &str) -> String {
    let mut out: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: Option<i32>, stderr: &str) -> Run {
        Run { code, timed_out: false, elapsed: Duration::ZERO, stderr: stderr.into() }
    }

    #[test]
    fn the_invariant_accepts_good_errors_and_refuses_bad_ones() {
        let good = run(Some(2), "error: x.ron:3:4: start: 'y' is not a timestamp; valid: e.g. 2025\n");
        assert_eq!(check(&good, &[]), Ok(()));
        let arg = run(Some(2), "error: --at: '-5m' is negative; valid: 0 or more\n");
        assert_eq!(check(&arg, &[]), Ok(()));
        assert!(
            check(&run(Some(2), "error: x.ron: bad; valid: y\n"), &[]).is_err_and(|v| !v.wording),
            "no position"
        );
        assert!(
            check(&run(Some(2), "error: x.ron:1:2: bad\n"), &[]).is_err_and(|v| v.wording),
            "nothing valid"
        );
        let invalid = run(Some(2), "error: x.ron:1:2: invalid UTF-8; an invalid value\n");
        assert!(check(&invalid, &[]).is_err_and(|v| v.wording), "'invalid' does not say what is valid");
        assert_eq!(check(&run(Some(2), "error: x.ron:1:2: invalid byte; valid: UTF-8\n"), &[]), Ok(()));
        assert!(check(&run(Some(101), ""), &[]).is_err_and(|v| !v.wording), "a panic's exit code");
        assert!(check(&run(None, ""), &[]).is_err(), "a signal");
        assert!(check(&run(Some(2), "error: a:1:2: \u{202E}; valid\n"), &[]).is_err(), "bidi");
        let long = format!("error: a:1:2: '{}'; valid\n", "9".repeat(400));
        assert!(check(&run(Some(2), &long), &[]).is_err_and(|v| !v.wording), "a long value");
        let tolerated = [Exception { gap: Gap::Position, contains: "x.ron" }];
        assert_eq!(check(&run(Some(2), "error: x.ron: bad; valid: y\n"), &tolerated), Ok(()));
    }
}

//! Running the real `nsgsim` binary: paths, temporary scenario files, and assertions shared by
//! the end-to-end tests (in the spirit of ripgrep's `tests/util.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Output {
    /// The exit code (`-1` if the process was killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, printing both streams when it differs.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(
            self.code, code,
            "exit code {} (expected {code})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self.assert_no_panic()
    }

    /// Asserts that the binary did not panic.
    #[track_caller]
    pub fn assert_no_panic(&self) -> &Output {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "the binary panicked:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts that stdout contains every one of `needles`.
    #[track_caller]
    pub fn stdout_has(&self, needles: &[&str]) -> &Output {
        for needle in needles {
            assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n--- stdout ---\n{}", self.stdout);
        }
        self
    }

    /// Asserts that stderr contains every one of `needles`.
    #[track_caller]
    pub fn stderr_has(&self, needles: &[&str]) -> &Output {
        for needle in needles {
            assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n--- stderr ---\n{}", self.stderr);
        }
        self
    }

    /// Parses stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The crate's root directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the scenario corpus, by file name.
pub fn scenario(name: &str) -> String {
    let path = root().join("scenarios").join(name);
    assert!(path.is_file(), "no scenario {}", path.display());
    path.display().to_string()
}

/// Every `scenarios/*.ron`, sorted.
pub fn all_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("the scenarios directory is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    files
}

/// Runs `nsgsim ARGS` from the crate root, without colour.
pub fn nsgsim<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_nsgsim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the nsgsim binary runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A directory under the system temp dir, unique to this process and call, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `nsgsim-it-<pid>-<n>-<label>`.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("nsgsim-it-{}-{n}-{label}", std::process::id()));
        std::fs::create_dir_all(&path).expect("the temp dir is writable");
        TempDir { path }
    }

    /// Writes `text` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.path.join(name);
        std::fs::write(&path, text).expect("the temp file is writable");
        path.display().to_string()
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The 1-based (line, column) of the `nth` (0-based) occurrence of `needle` in `text`.
#[track_caller]
pub fn position(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let (offset, _) = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} occurs fewer than {} times", nth + 1));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `text` with the single occurrence of `from` replaced by `to` (panics unless exactly one).
#[track_caller]
pub fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur exactly once in the base scenario");
    text.replacen(from, to, 1)
}

/// The JSON array at `value[key]`.
#[track_caller]
pub fn array<'a>(value: &'a serde_json::Value, key: &str) -> &'a Vec<serde_json::Value> {
    value[key].as_array().unwrap_or_else(|| panic!("{key} is not an array in {value}"))
}

/// The string at `value[key]`.
#[track_caller]
pub fn string<'a>(value: &'a serde_json::Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

//! The pipeline integrations of issue 25: the GitHub Action's scripts (`action/`), run as a
//! runner would run them (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `RUNNER_TEMP`,
//! `GITHUB_ACTION_PATH`), and the pre-commit hooks (`.pre-commit-hooks.yaml`) run by the real
//! `pre-commit` tool on a scratch git repository. The pre-commit test skips with a note when the
//! tool is not installed, unless `NSGSIM_REQUIRE_PRECOMMIT=1` (set by `.ci/run`, which installs it).

use std::path::Path;
use std::process::Command;

use super::sarif::assert_valid_sarif;
use super::util::{TempDir, root};

struct Runner {
    dir: TempDir,
}

impl Runner {
    fn new(label: &str) -> Runner {
        let dir = TempDir::new(label);
        for f in ["output", "summary"] {
            std::fs::write(dir.path().join(f), "").expect("writable");
        }
        std::fs::create_dir_all(dir.path().join("temp")).expect("writable");
        Runner { dir }
    }

    /// Runs `action/SCRIPT` with the runner's variables and `env`, from the repository root (the
    /// workspace); returns the exit code and stderr.
    fn step(&self, script: &str, env: &[(&str, &str)]) -> (i32, String) {
        let out = Command::new("bash")
            .arg(root().join("action").join(script))
            .current_dir(root())
            .env("GITHUB_OUTPUT", self.dir.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary"))
            .env("RUNNER_TEMP", self.dir.path().join("temp"))
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_WORKSPACE", root())
            .envs(env.iter().copied())
            .output()
            .expect("bash runs");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_nsgsim");

#[test]
fn the_action_lints_writes_sarif_and_fails_by_nsgsims_exit_code() {
    let runner = Runner::new("action-lint");
    let (code, err) = runner.step("install.sh", &[("INPUT_NSGSIM", BIN)]);
    assert_eq!(code, 0, "{err}");
    assert!(runner.read("output").contains(&format!("nsgsim={BIN}")), "{}", runner.read("output"));
    let sarif_dir = runner.dir.path().join("sarif").display().to_string();
    let inputs = |paths: &str| {
        vec![
            ("NSGSIM", BIN.to_string()),
            ("INPUT_COMMAND", "lint".to_string()),
            ("INPUT_PATHS", paths.to_string()),
            ("INPUT_SARIF_DIR", sarif_dir.clone()),
        ]
    };
    let env = inputs("tests/data/lint/problems.ron tests/data/import/arm-template.json");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (code, err) = runner.step("run.sh", &env);
    assert_eq!(code, 1, "problems.ron has error findings: the job fails\n{err}");
    let output = runner.read("output");
    assert!(output.contains("exit-code=1") && output.contains(&format!("sarif-dir={sarif_dir}")), "{output}");
    for name in ["lint-problems.sarif", "lint-arm-template.sarif"] {
        let text = std::fs::read_to_string(Path::new(&sarif_dir).join(name)).expect("a SARIF file per path");
        let log: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_valid_sarif(&log, &text);
    }
    let summary = runner.read("summary");
    assert!(
        summary.contains("### nsgsim lint")
            && summary.contains("| `nsgsim lint tests/data/lint/problems.ron` | 1 |"),
        "{summary}"
    );
    // A clean scenario passes; an invalid input exits 2, the highest code wins.
    let env = inputs("tests/data/lint/clean.ron");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(runner.step("run.sh", &env).0, 0);
    let missing = runner.dir.path().join("missing.ron").display().to_string();
    let env = inputs(&format!("tests/data/lint/clean.ron {missing}"));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(runner.step("run.sh", &env).0, 2);
}

#[test]
fn the_action_runs_test_and_diff_and_refuses_bad_inputs() {
    let runner = Runner::new("action-test");
    let sarif_dir = runner.dir.path().join("sarif").display().to_string();
    let failing = "tests/data/assertions/failing.ron";
    let (code, err) = runner.step(
        "run.sh",
        &[
            ("NSGSIM", BIN),
            ("INPUT_COMMAND", "test"),
            ("INPUT_PATHS", failing),
            ("INPUT_SARIF_DIR", &sarif_dir),
        ],
    );
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(Path::new(&sarif_dir).join("test.sarif")).expect("test.sarif");
    let log: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_valid_sarif(&log, &text);
    let first = &log["runs"][0]["results"][0];
    assert_eq!(first["ruleId"], "TEST001-case-failed", "{log:#}");
    assert_eq!(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], failing);
    let same = format!(
        "{} {}",
        super::util::scenario("01-nsg-evaluation-order.ron"),
        super::util::scenario("01-nsg-evaluation-order.ron")
    );
    let (code, err) = runner.step(
        "run.sh",
        &[
            ("NSGSIM", BIN),
            ("INPUT_COMMAND", "diff"),
            ("INPUT_PATHS", &same),
            ("INPUT_SARIF_DIR", &sarif_dir),
        ],
    );
    assert_eq!(code, 0, "no change: {err}");
    let (code, err) =
        runner.step("run.sh", &[("NSGSIM", BIN), ("INPUT_COMMAND", "deploy"), ("INPUT_PATHS", failing)]);
    assert_eq!(code, 2);
    assert!(err.contains("not one of lint, test, diff"), "{err}");
    let (code, err) = runner.step("install.sh", &[("INPUT_NSGSIM", "/nonexistent/nsgsim")]);
    assert_eq!(code, 2);
    assert!(err.contains("is not an executable file"), "{err}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
#[expect(clippy::print_stderr, reason = "without the pre-commit tool the test says it skips")]
fn the_pre_commit_hooks_check_scenarios_and_lint_templates() {
    let tool = Command::new("pre-commit").arg("--version").output();
    if !tool.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var("NSGSIM_REQUIRE_PRECOMMIT").is_err(),
            "NSGSIM_REQUIRE_PRECOMMIT is set but `pre-commit` is not installed"
        );
        eprintln!("note: `pre-commit` is not installed (pip install pre-commit); the hook test is skipped");
        return;
    }
    let scratch = TempDir::new("pre-commit");
    let repo = scratch.path().join("repo");
    std::fs::create_dir_all(&repo).expect("writable");
    git(&repo, &["init", "-q"]);
    std::fs::copy(root().join("tests/data/lint/clean.ron"), repo.join("good.ron")).expect("copy");
    std::fs::write(repo.join("bad.ron"), "Scenario(name: \"x\", start: \"not a time\")\n").expect("writable");
    std::fs::copy(root().join("tests/data/import/arm-template.json"), repo.join("azuredeploy.json"))
        .expect("copy");
    git(&repo, &["add", "."]);
    // The hooks of this repository, with nsgsim (this build) on PATH.
    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let try_hook = |hook: &str, files: &[&str]| {
        let out = Command::new("pre-commit")
            .args(["try-repo", &root().display().to_string(), hook, "--files"])
            .args(files)
            .current_dir(&repo)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", scratch.path().join("cache"))
            .output()
            .expect("pre-commit runs");
        (
            out.status.code().unwrap_or(-1),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let (code, out) = try_hook("nsgsim-check-system", &["good.ron"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = try_hook("nsgsim-check-system", &["good.ron", "bad.ron"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("bad.ron:1:") && out.contains("start"),
        "the error names the file, position and field: {out}"
    );
    let (code, out) = try_hook("nsgsim-lint-system", &["azuredeploy.json"]);
    assert_eq!(code, 0, "warnings only: {out}");
    assert!(out.contains("NSG003-level-conflict") || out.contains("Passed"), "{out}");
    // The manifest's rust hooks are valid pre-commit hooks too.
    let out = Command::new("pre-commit")
        .args(["validate-manifest", &root().join(".pre-commit-hooks.yaml").display().to_string()])
        .output()
        .expect("pre-commit runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

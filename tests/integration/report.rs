//! The trainer's pictures and the exam practice, end to end: `report --html/--svg` (checked in a
//! real headless Chromium when one is installed; `.ci/run` installs it and requires it), and
//! `quiz` with `--answers` and on stdin.

use std::io::Write;
use std::process::{Command, Stdio};

use super::util::{TempDir, nsgsim, scenario};

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"].into_iter().map(String::from).find(|b| {
        Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn html_report_is_self_contained_and_draws_every_grant() {
    let dir = TempDir::new("report");
    let html = dir.path().join("r11.html");
    let svg = dir.path().join("r11.svg");
    nsgsim(&[
        "report",
        &scenario("11-jit-policies-approval.ron"),
        "--html",
        &html.display().to_string(),
        "--svg",
        &svg.display().to_string(),
    ])
    .assert_code(0);
    let page = std::fs::read_to_string(&html).expect("report written");
    // Scenario 11 grants: ops (superseded), dev, dev on vm-db, and the two-VM request of ops.
    assert_eq!(page.matches("<rect class=\"grant ").count(), 5, "one bar per grant");
    assert!(page.contains("class=\"grant Superseded\" data-requester=\"ops\""));
    assert!(page.contains("class=\"grant Expired\" data-requester=\"dev\""));
    assert!(page.contains("<g class=\"refused\">"), "refused requests are marked");
    assert!(page.contains("SecurityCenter-JITRule_-"), "rule tables show the JIT deny rules");
    assert!(page.contains("<tr class=\"added\">"), "rule changes are shown before/after");
    assert!(page.contains("33 expectations passed, 0 failed"));
    for external in ["http://", "https://", "<link", "src=\""] {
        let outside = page.replace("http://www.w3.org/2000/svg", "");
        assert!(!outside.contains(external), "the page must not load anything: found {external}");
    }
    let timeline = std::fs::read_to_string(&svg).expect("svg written");
    assert!(timeline.starts_with("<svg") && timeline.ends_with("</svg>"));
    assert_eq!(timeline.matches("<rect class=\"grant ").count(), 5);

    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("NSGSIM_REQUIRE_BROWSER").is_none(),
            "NSGSIM_REQUIRE_BROWSER is set but no Chromium is installed"
        );
        eprintln!("skipping the browser half of this test: no chromium installed (.ci/run installs it)");
        return;
    };
    let profile = dir.path().join("profile");
    let out = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(dom.contains("data-rendered=\"yes\""), "the page's script ran:\n{log}");
    assert!(dom.contains("data-grant-bars=\"5\""), "the browser sees five grant bars");
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("ERROR")))
        .collect();
    assert!(console_errors.is_empty(), "console errors: {console_errors:?}");
}

#[test]
fn quiz_with_answers_scores_and_explains() {
    // Scenario 21: BastionRules is context; the questions are the three flows.
    let all_right = nsgsim(&["quiz", &scenario("21-bastion-nsg-missing-rules.ron"), "--answers", "n,y,n"]);
    all_right.assert_code(0).stdout_has(&["Q1.", "through Bastion", "correct.", "score: 3/3 correct"]);
    let one_wrong = nsgsim(&["quiz", &scenario("21-bastion-nsg-missing-rules.ron"), "--answers", "y,y,n"]);
    one_wrong.assert_code(1).stdout_has(&[
        "wrong: the answer is 'n'.",
        "DenyVnetOutbound",
        "score: 2/3 correct",
    ]);
}

#[test]
fn quiz_reads_answers_on_stdin_and_asks_again_on_nonsense() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsgsim"))
        .args(["quiz", &scenario("21-bastion-nsg-missing-rules.ron")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"maybe\nno\nyes\nno\n").expect("write");
    let out = child.wait_with_output().expect("finish");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("please answer one of y/n"), "{stdout}");
    assert!(stdout.contains("score: 3/3 correct"), "{stdout}");
}

//! The trainer's pictures and the exam practice, end to end: `report --html/--svg` (checked in a
//! real headless Chromium when one is installed; `.ci/run` installs it and requires it), and
//! `quiz` with `--answers` and on stdin.

use std::io::Write;
use std::process::{Command, Stdio};

use super::util::{TempDir, nsgsim, scenario};

/// The installed Chromium's command, if any (the serve browser test uses it too).
pub fn chromium() -> Option<String> {
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
#[expect(clippy::print_stderr, reason = "without a browser the test says it skips its second half")]
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
    // The request an approver denied (db-again, at 4h05) is marked too, with the approver's reason.
    assert!(page.contains(": denied by secadmin: no change ticket</title>"), "denied requests are marked");
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
    let console_errors = console_problems(&log);
    assert!(console_errors.is_empty(), "console errors: {console_errors:?}");

    // The filter catches what Chromium really prints for `console.error` and an uncaught
    // exception (both arrive as `INFO:CONSOLE` lines, which the old filter let through).
    let broken = page.replace(
        "<script>",
        "<script>console.error('report-broke');window.setTimeout(function(){undefinedFunction();},0);",
    );
    let bad = dir.write("broken.html", &broken);
    let out = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", dir.path().join("profile-broken").display()))
        .arg("--dump-dom")
        .arg(format!("file://{bad}"))
        .output()
        .expect("chromium runs");
    let log = String::from_utf8_lossy(&out.stderr);
    let caught = console_problems(&log);
    assert!(caught.iter().any(|l| l.contains("report-broke")), "console.error is caught: {log}");
    assert!(caught.iter().any(|l| l.contains("Uncaught ReferenceError")), "an exception is caught: {log}");
}

/// The lines of a headless Chromium log that show the page misbehaving: anything the page wrote
/// to its console (our pages write nothing, so `console.log` is as suspect as `console.error`,
/// and Chromium logs both as `INFO:CONSOLE`), an uncaught exception, or any JavaScript error
/// (`TypeError`, `Error:` …). Chromium's own D-Bus complaints on a machine without a session bus
/// are not the page's and are ignored.
fn console_problems(log: &str) -> Vec<&str> {
    let js_error = |line: &str| {
        line.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word.ends_with("Error") && word != "ERROR")
    };
    log.lines()
        .filter(|l| !l.contains("dbus") && !l.contains("DBus"))
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || js_error(l))
        .collect()
}

#[test]
fn the_console_filter_catches_console_error_and_exceptions_but_not_chromium_noise() {
    // Lines as Chromium 148 prints them (captured from a real run).
    let log = r#"/usr/bin/chromium: 9: [: 25276063744: unexpected operator
[8688:8717:1129/201300.378666:ERROR:dbus/bus.cc:405] Failed to connect to the bus: Failed to connect to socket /run/dbus/system_bus_socket: No such file or directory
[8688:8688:1129/201300.907565:ERROR:dbus/object_proxy.cc:572] Failed to call method: org.freedesktop.DBus.NameHasOwner: object_path= /org/freedesktop/DBus: org.freedesktop.DBus.Error.ServiceUnknown
[9078:9078:1129/201309.860319:WARNING:sandbox/policy/linux/sandbox_linux.cc:404] InitializeSandbox() called with multiple threads in process gpu-process.
[9035:9035:1129/201311.316078:INFO:CONSOLE:63] "boom-err", source: file:///tmp/jitbr/bad.html (63)
[9147:9147:1129/201313.716897:INFO:CONSOLE:1] "Uncaught ReferenceError: undefinedFn is not defined", source: file:///tmp/jitbr/throw.html (1)
[1:1:0101/000000.000000:ERROR:renderer] TypeError: Cannot read properties of null
[1:1:0101/000000.000000:WARNING:page] Uncaught (in promise) 42
"#;
    let found = console_problems(log);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].contains("boom-err"), "console.error output (an INFO:CONSOLE line)");
    assert!(found[1].contains("Uncaught ReferenceError"));
    assert!(found[2].contains("TypeError"));
    assert!(found[3].contains("Uncaught (in promise)"));
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

/// Every `<h2>` section the HTML report has, in order.
const SECTIONS: [&str; 5] = [
    "<h2>Topology</h2>",
    "<h2>Just-in-time access over time</h2>",
    "<h2>Timeline</h2>",
    "<h2>NSG rules at the start</h2>",
    "<h2>Activity log</h2>",
];

/// How many grants a run made, counted from its narrative (not from the report under test):
/// each `… was granted access to vm:port, vm:port from …` and `… approved request … has
/// access to vm:port from …` names one grant per port.
fn grants_in_run(run: &serde_json::Value) -> usize {
    super::util::array(run, "steps")
        .iter()
        .filter_map(|s| s["action"]["summary"].as_str())
        .filter(|s| s.contains(" was granted access to ") || s.contains(" approved request '"))
        .map(|s| {
            let (_, after) = s.split_once("access to ").expect("a grant names its ports");
            let (ports, _) = after.split_once(" from ").expect("a grant names its source");
            ports.split(", ").count()
        })
        .sum()
}

#[test]
fn every_shipped_scenario_gets_a_self_contained_report_with_every_section() {
    let dir = TempDir::new("report-all");
    let mut with_grants = 0;
    for file in super::util::all_scenarios() {
        let file = file.display().to_string();
        let name = file.rsplit('/').next().expect("a file name").trim_end_matches(".ron").to_string();
        let html = dir.path().join(format!("{name}.html")).display().to_string();
        nsgsim(&["report", &file, "--html", &html]).assert_code(0);
        let page = std::fs::read_to_string(&html).expect("report written");
        assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"), "{name}");
        // Self-contained: the only URL is the SVG namespace, which is a name, not a fetch, and
        // `url(#id)` points inside the page (the topology drawing's arrow markers).
        let outside = page.replace("http://www.w3.org/2000/svg", "").replace("url(#", "");
        for external in ["http://", "https://", "<link", "src=", "url(", "@import", "<iframe", "<object"] {
            assert!(!outside.contains(external), "{name}: the page must not load anything: found {external}");
        }
        let mut at = 0;
        for section in SECTIONS {
            let found = page[at..].find(section).unwrap_or_else(|| panic!("{name}: no section {section}"));
            at += found + section.len();
        }
        assert!(page.contains("id=\"result\" class=\"pass\""), "{name}: shipped scenarios pass");
        let run = nsgsim(&["run", &file, "--format", "json"]).assert_code(0).json();
        let run = &run[0];
        let grants = grants_in_run(run);
        with_grants += usize::from(grants > 0);
        assert_eq!(page.matches("<rect class=\"grant ").count(), grants, "{name}: one bar per grant");
        let logged = super::util::array(run, "activity_log").len();
        if logged == 0 {
            assert!(page.contains("Nothing was logged"), "{name}: an empty log is said in words");
            assert!(!page.contains("<table id=\"log\">"), "{name}: no empty table");
        } else {
            let table = page.split_once("<table id=\"log\">").expect("a log table").1;
            let table = table.split_once("</table>").expect("the table ends").0;
            assert_eq!(table.matches("<tr>").count(), logged + 1, "{name}: header and one row per entry");
        }
    }
    assert!(with_grants >= 8, "the corpus exercises grants: {with_grants} scenarios");
}

#[test]
fn a_scenario_without_operations_says_its_activity_log_is_empty() {
    let dir = TempDir::new("report-nolog");
    let html = dir.path().join("r20.html").display().to_string();
    nsgsim(&["report", &scenario("20-hub-spoke-firewall-bastion.ron"), "--html", &html]).assert_code(0);
    let page = std::fs::read_to_string(&html).expect("report written");
    let (_, log) = page.split_once("<h2>Activity log</h2>").expect("the section");
    assert!(log.starts_with("<p id=\"log\" class=\"meta\">Nothing was logged: this timeline makes no JIT operation and changes no NSG rule or association.</p>"), "{log}");
}

/// `script` from util-linux, which runs a command on a pseudo-terminal.
fn script() -> Option<&'static str> {
    Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        .then_some("script")
}

/// Runs `nsgsim ARGS` with stdout on a terminal (through `script -qec`), `NO_COLOR` set to
/// `no_color` or unset; returns what the terminal showed.
fn on_a_terminal(args: &[&str], no_color: Option<&str>) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut command = quote(env!("CARGO_BIN_EXE_nsgsim"));
    for a in args {
        command.push(' ');
        command.push_str(&quote(a));
    }
    let mut script = Command::new("script");
    script.args(["-qec", &command, "/dev/null"]).current_dir(super::util::root()).stdin(Stdio::null());
    match no_color {
        Some(v) => script.env("NO_COLOR", v),
        None => script.env_remove("NO_COLOR"),
    };
    let out = script.output().expect("script runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[expect(clippy::print_stderr, reason = "without `script` the test says it skips")]
fn colour_appears_on_a_terminal_unless_no_color_is_set() {
    if script().is_none() {
        eprintln!("skipping: `script` (util-linux) is not installed, so no pseudo-terminal can be had");
        return;
    }
    let file = scenario("10-jit-lifecycle.ron");
    let coloured = on_a_terminal(&["run", &file], None);
    assert!(coloured.contains("\u{1b}[32mPASS\u{1b}[0m"), "colour on a terminal:\n{coloured}");
    assert!(coloured.contains("\u{1b}[31;1mREFUSED\u{1b}[0m"));
    let plain = on_a_terminal(&["run", &file], Some("1"));
    assert!(plain.contains("PASS expect"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "NO_COLOR is respected on a terminal:\n{plain}");
    // An empty NO_COLOR does not count (no-color.org: "present and not an empty string").
    let empty = on_a_terminal(&["run", &file], Some(""));
    assert!(empty.contains("\u{1b}[32mPASS"), "{empty}");
    // `jit status` and `eval` share the rule.
    let status = on_a_terminal(
        &["eval", &file, "--from", "alice", "--to", "vm1", "--port", "22", "--at", "20m"],
        Some("1"),
    );
    assert!(!status.contains('\u{1b}') && status.contains("verdict"), "{status}");
    let status = on_a_terminal(
        &["eval", &file, "--from", "alice", "--to", "vm1", "--port", "22", "--at", "20m"],
        None,
    );
    assert!(status.contains('\u{1b}'), "{status}");
}

#[test]
fn quiz_notes_come_after_the_answer_they_would_give_away() {
    let file = scenario("20-hub-spoke-firewall-bastion.ron");
    let text = std::fs::read_to_string(&file).expect("readable");
    let notes: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("note: \"").map(|(_, n)| n.split_once("\")").map_or(n, |(n, _)| n)))
        .collect();
    assert!(notes.len() >= 8, "{notes:?}");
    let answers = "y,n,n,y,y,n,y,n,n,y,n";
    let out = nsgsim(&["quiz", &file, "--answers", answers]);
    out.assert_no_panic();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let dnat = "The DNAT rule only admits 203.0.113.0/24.";
    let question = lines
        .iter()
        .position(|l| l.contains("from stranger reach fw-pip on Tcp port 50022"))
        .unwrap_or_else(|| panic!("the DNAT question is asked:\n{}", out.stdout));
    let shown = lines
        .iter()
        .position(|l| l.contains(dnat))
        .unwrap_or_else(|| panic!("the note is shown:\n{}", out.stdout));
    assert!(shown > question, "the DNAT note comes after its question:\n{}", out.stdout);
    assert!(
        lines[question + 1..shown]
            .iter()
            .any(|l| l.contains("correct.") || l.contains("wrong: the answer is")),
        "...and after its answer:\n{}",
        out.stdout
    );
    // No note is ever shown as context before a question: every occurrence is an explanation line.
    for note in notes {
        for line in lines.iter().filter(|l| l.contains(note)) {
            assert!(line.starts_with("  note [+"), "a note outside an explanation: {line}");
        }
    }
    // The story before a question stays: actions are context in scenario 10.
    let story = nsgsim(&["quiz", &scenario("10-jit-lifecycle.ron"), "--answers", "r,y,r,c"]);
    let enabled = story.stdout.find("  [+2m] enabled JIT on vm 'vm1'").expect("the enable is told");
    let next_q = story.stdout[enabled..].find("Q3.").expect("a later question");
    assert!(
        !story.stdout[enabled..enabled + next_q].contains("correct."),
        "told before Q3:\n{}",
        story.stdout
    );
}

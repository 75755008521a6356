//! `nsgsim test FILE... [--scenario PATH] [--junit OUT.xml] [--strict] [--format json|sarif]`: assertion files (named
//! flows with the verdict each must get) run against a scenario or an imported policy, for CI
//! gates. Each case names the caveats that can change its answer (those of either end of its
//! flow); `--strict` fails such a case. Exit 1 when a case fails, 2 when a file or case is
//! invalid.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::common::{TagArgs, load, print_caveats, print_error};
use super::{EXIT_FAILED, EXIT_INVALID, EXIT_OK, GateFormat};
use crate::import::assertions::{AssertionsFile, CaseProtocol, CaseSpec, CaseVerdict, parse};
use crate::model::Caveat;
use crate::net::IpProtocol;
use crate::nsg::Access;
use crate::path::FlowRequest;
use crate::position::Position;
use crate::report::{
    SarifLevel, SarifLog, SarifResult, SarifRule, Style, caveat_line, caveat_names, caveats_json, lint_sarif,
    summary_with_caveats, trace_text,
};
use crate::scenario::Place;
use crate::scenario::{End, FieldPath, Scenario, SourceMap};
use crate::sim::{Duration, Simulator, replay_until};
use crate::text::{ReadError, read_file, safe_message};

/// Arguments of `nsgsim test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Assertion files (RON; see docs/engineers.md).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run every file against this scenario instead of the one it names (e.g. an imported policy).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Also write the results as JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Fail every case whose answer caveats can change (things that can change traffic were not
    /// modelled), so that CI refuses an incomplete model.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

/// What happened to one case.
#[derive(Debug)]
enum Outcome {
    Pass,
    Fail(String),
    Error(String),
}

#[derive(Debug)]
struct CaseResult {
    name: String,
    outcome: Outcome,
    trace: String,
    /// The scenario's caveats that can change this case's answer.
    caveats: Vec<Caveat>,
    /// Where the case is written in its assertion file (line, column), for SARIF.
    position: Option<Position>,
}

#[derive(Debug)]
struct Suite {
    name: String,
    scenario: String,
    cases: Vec<CaseResult>,
    /// Why the whole file could not be run (unreadable, invalid, no cases, its scenario does
    /// not load); its cases are then not run.
    error: Option<String>,
    /// The caveats that can change some case's answer, each once, in the scenario's order.
    caveats: Vec<Caveat>,
}

fn protocol(p: Option<CaseProtocol>) -> IpProtocol {
    match p.unwrap_or(CaseProtocol::Tcp) {
        CaseProtocol::Tcp => IpProtocol::TCP,
        CaseProtocol::Udp => IpProtocol::UDP,
        CaseProtocol::Icmp => IpProtocol::ICMP,
        CaseProtocol::Esp => IpProtocol::ESP,
        CaseProtocol::Ah => IpProtocol::AH,
    }
}

/// Where a field of an assertions file is written, for messages: `file:line:col: cases[2].from`.
struct Places<'a> {
    file: &'a Path,
    map: SourceMap<'a>,
}

impl Places<'_> {
    /// `file:line:col: field: message`, pointing at `value` where it is written in the field.
    fn error(&self, field: &FieldPath, value: &str, message: &str) -> String {
        // A field left out of the file: the start of the file's value (`Assertions(`).
        let position = self
            .map
            .find(field, value)
            .or_else(|| self.map.start(&FieldPath::default()))
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        format!("{}{position}: {field}: {message}", self.file.display())
    }
}

fn run_case(
    scenario: &Scenario,
    file: &AssertionsFile,
    (index, case): (usize, &CaseSpec),
    places: &Places,
    sims: &mut HashMap<i64, Simulator>,
    strict: bool,
) -> CaseResult {
    let position = places.map.start(&FieldPath::root("cases").index(index));
    let result = |outcome, trace| CaseResult {
        name: case.name.clone(),
        outcome,
        trace,
        caveats: Vec::new(),
        position,
    };
    let invalid = |field: &'static str, value: &str, message: &str| {
        result(
            Outcome::Error(places.error(&FieldPath::root("cases").index(index).field(field), value, message)),
            String::new(),
        )
    };
    // The file's own `at` was checked before any case ran.
    let at = match &case.at {
        Some(text) => match scenario.offset(text) {
            Ok(d) => d,
            Err(m) => return invalid("at", text, &m.to_string()),
        },
        None => {
            file.at.as_deref().map_or(Ok(Duration::from_secs(0)), |t| scenario.offset(t)).unwrap_or_default()
        }
    };
    let sim = match sims.entry(at.as_secs()) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            match replay_until(scenario.world(), &scenario.steps, at) {
                Ok(sim) => e.insert(sim),
                Err(err) => {
                    return result(Outcome::Error(scenario.step_error(&err).to_string()), String::new());
                }
            }
        }
    };
    let (source, destination) = match scenario.endpoints(&case.from, &case.to) {
        Ok(ends) => ends,
        Err(e) => {
            let value = match e.end {
                End::From => &case.from,
                End::To => &case.to,
            };
            return invalid(e.end.field(), value, &e.to_string());
        }
    };
    let via = match case.via.as_deref().map(|b| scenario.bastion(b)).transpose() {
        Ok(v) => v,
        Err(m) => return invalid("via", case.via.as_deref().unwrap_or_default(), &m.to_string()),
    };
    let protocol = protocol(case.protocol);
    let (src_port, dst_port) =
        if protocol.has_ports() { (case.src_port.unwrap_or(50000), case.port) } else { (0, 0) };
    let request = FlowRequest { source, destination, protocol, src_port, dst_port, via };
    let trace = sim.evaluate(&request);
    let caveats = scenario.caveats_for_flow(&request);
    let mut text = format!(
        "{} -> {} {protocol} port {dst_port} at +{at}\n{}",
        case.from,
        case.to,
        trace_text(&trace, "  ", Style { color: false })
    );
    if let Some(line) = caveat_line(&scenario.file.display().to_string(), &caveats) {
        text.push_str(&format!("  {line}\n"));
    }
    let want = match case.verdict {
        CaseVerdict::Allow => Access::Allow,
        CaseVerdict::Deny => Access::Deny,
    };
    let hop = trace.deciding_hop();
    let decided = hop
        .map(|h| format!("{} {}", h.resource, h.rule_name().unwrap_or_default()).trim().to_string())
        .unwrap_or_default();
    let mut problems = Vec::new();
    if trace.verdict != want {
        problems.push(format!("expected {want}, got {} ({decided})", trace.verdict));
    }
    if let Some(nsg) = &case.nsg
        && hop.map(|h| h.resource.as_str()) != Some(nsg.as_str())
    {
        problems.push(format!("expected NSG '{nsg}' to decide, got '{decided}'"));
    }
    if let Some(rule) = &case.rule
        && !hop.and_then(|h| h.rule.as_ref()).is_some_and(|r| r.answers_to(rule))
    {
        problems.push(format!("expected rule '{rule}' to decide, got '{decided}'"));
    }
    if strict && !caveats.is_empty() {
        problems.push(format!(
            "--strict: {} caveat(s) can change this answer: {}",
            caveats.len(),
            caveat_names(&caveats)
        ));
    }
    let outcome = if problems.is_empty() { Outcome::Pass } else { Outcome::Fail(problems.join("; ")) };
    CaseResult { caveats: caveats.into_iter().cloned().collect(), ..result(outcome, text) }
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn junit(suites: &[Suite]) -> String {
    let count = |s: &Suite, f: fn(&Outcome) -> bool| s.cases.iter().filter(|c| f(&c.outcome)).count();
    let failed = |o: &Outcome| matches!(o, Outcome::Fail(_));
    let errored = |o: &Outcome| matches!(o, Outcome::Error(_));
    // A file that could not be run counts as one errored test case, so that CI shows it.
    let tests = |s: &Suite| s.cases.len() + usize::from(s.error.is_some());
    let errs = |s: &Suite| count(s, errored) + usize::from(s.error.is_some());
    let total: usize = suites.iter().map(tests).sum();
    let failures: usize = suites.iter().map(|s| count(s, failed)).sum();
    let errors: usize = suites.iter().map(errs).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"nsgsim\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for s in suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"0\">",
            xml(&s.name),
            tests(s),
            count(s, failed),
            errs(s)
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"scenario\" value=\"{}\"/></properties>",
            xml(&s.scenario)
        );
        if let Some(m) = &s.error {
            let _ = writeln!(
                out,
                "    <testcase name=\"(file)\" classname=\"{}\" time=\"0\">\n      <error message=\"{}\" type=\"invalid-file\"/>\n    </testcase>",
                xml(&s.name),
                xml(m)
            );
        }
        for c in &s.cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
                xml(&c.name),
                xml(&s.name)
            );
            match &c.outcome {
                Outcome::Pass => {
                    let _ =
                        writeln!(out, ">\n      <system-out>{}</system-out>\n    </testcase>", xml(&c.trace));
                }
                Outcome::Fail(m) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"verdict\">{}</failure>\n    </testcase>",
                        xml(m),
                        xml(&c.trace)
                    );
                }
                Outcome::Error(m) => {
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"{}\" type=\"invalid-case\"/>\n    </testcase>",
                        xml(m)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Runs one assertions file; a file that cannot be run becomes a suite with an error, so that
/// the other files still run and the JUnit report still says what happened.
fn suite(path: &Path, override_scenario: Option<&Path>, strict: bool, tags: &TagArgs) -> Suite {
    run_suite(path, override_scenario, strict, tags).unwrap_or_else(|e| Suite {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "assertions".into()),
        scenario: override_scenario.map(|p| p.display().to_string()).unwrap_or_default(),
        cases: Vec::new(),
        error: Some(format!("{e:#}")),
        caveats: Vec::new(),
    })
}

fn run_suite(
    path: &Path,
    override_scenario: Option<&Path>,
    strict: bool,
    tags: &TagArgs,
) -> anyhow::Result<Suite> {
    let text = read_file(path).map_err(|e| match e {
        ReadError::NotUtf8(at) => anyhow::anyhow!("{}:{}: {at}", path.display(), at.position),
        ReadError::Io(e) => anyhow::anyhow!("{}: cannot read the file: {e}", path.display()),
    })?;
    let file = parse(&text, path)?;
    let places = Places { file: path, map: SourceMap::new(&text) };
    // A gate that checks nothing must not pass quietly.
    if file.cases.is_empty() {
        anyhow::bail!(
            "{}",
            places.error(
                &FieldPath::root("cases"),
                "",
                "the file has no cases; a gate with no cases would pass without checking anything; valid: one Case(...) or more"
            )
        );
    }
    let scenario_path = match (override_scenario, &file.scenario) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(rel)) => path.parent().unwrap_or(Path::new(".")).join(rel),
        (None, None) => anyhow::bail!(
            "{}",
            places.error(
                &FieldPath::root("scenario"),
                "",
                "the file names no scenario; valid: `scenario: \"path/to/scenario.ron\"` in the file, or --scenario"
            )
        ),
    };
    if override_scenario.is_none()
        && let Some(named) = &file.scenario
        && !scenario_path.is_file()
    {
        anyhow::bail!(
            "{}",
            places.error(
                &FieldPath::root("scenario"),
                named,
                &format!(
                    "{} is not a file; valid: the path of a scenario file, relative to this assertion file",
                    scenario_path.display()
                )
            )
        );
    }
    let scenario = match (load(&scenario_path, tags), override_scenario, &file.scenario) {
        (Ok(s), _, _) => s,
        // The scenario this file names: say which file names it, and where.
        (Err(e), None, Some(named)) => anyhow::bail!(
            "{}",
            places.error(
                &FieldPath::root("scenario"),
                named,
                &format!("the scenario this file names does not load: {e:#}")
            )
        ),
        (Err(e), _, _) => return Err(e),
    };
    // The file's `at` is every case's default: an invalid one is the file's error, once.
    if let Some(at) = &file.at {
        scenario
            .offset(at)
            .map_err(|m| anyhow::anyhow!("{}", places.error(&FieldPath::root("at"), at, &m.to_string())))?;
    }
    let mut sims = HashMap::new();
    let cases: Vec<CaseResult> = file
        .cases
        .iter()
        .enumerate()
        .map(|c| run_case(&scenario, &file, c, &places, &mut sims, strict))
        .collect();
    let caveats =
        scenario.caveats.iter().filter(|c| cases.iter().any(|r| r.caveats.contains(c))).cloned().collect();
    let name = file.name.clone().unwrap_or_else(|| {
        path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "assertions".into())
    });
    Ok(Suite { name, scenario: scenario_path.display().to_string(), cases, error: None, caveats })
}

/// The run as SARIF: a failed case (`TEST001-case-failed`) or an invalid one or file
/// (`TEST002-invalid`) at its line in the assertion file, with the failure and the trace that
/// proves it; then the caveats that can change some answer.
fn suites_sarif(files: &[PathBuf], suites: &[Suite], caveats: &[&Caveat]) -> SarifLog {
    let first = files.first().map_or_else(PathBuf::new, Clone::clone);
    let mut log = lint_sarif(&first, &[], caveats, &crate::scenario::Places::default());
    log.command = "test".into();
    let rule = |id: &str, short: &str, full: &str| SarifRule {
        id: id.into(),
        short: short.into(),
        full: full.into(),
        help_uri: None,
        level: SarifLevel::Error,
    };
    let (failed, invalid) = ("TEST001-case-failed", "TEST002-invalid");
    let failed_rule = || {
        rule(
            failed,
            "A flow assertion failed",
            "The flow does not get the verdict (or deciding rule) the assertion file requires; the message holds the trace that proves it.",
        )
    };
    let invalid_rule = || {
        rule(
            invalid,
            "An invalid assertion file or case",
            "The assertion file or case cannot be run as written; the message names the field and what is valid.",
        )
    };
    let at = Place::in_scenario_file;
    let mut results = Vec::new();
    for (file, s) in files.iter().zip(suites) {
        if let Some(m) = &s.error {
            log.rule(invalid_rule());
            results.push(SarifResult {
                rule_id: invalid.into(),
                level: SarifLevel::Error,
                message: safe_message(m),
                places: vec![at(file, None)],
                identity: file.display().to_string(),
            });
        }
        for c in &s.cases {
            let (id, message, described) = match &c.outcome {
                Outcome::Pass => continue,
                Outcome::Fail(m) => {
                    (failed, format!("{} ({}): {m}\n{}", c.name, s.scenario, c.trace), failed_rule())
                }
                Outcome::Error(m) => (invalid, format!("{}: {}", c.name, safe_message(m)), invalid_rule()),
            };
            log.rule(described);
            results.push(SarifResult {
                rule_id: id.into(),
                level: SarifLevel::Error,
                message,
                places: vec![at(file, c.position)],
                identity: format!("{}|{}", file.display(), c.name),
            });
        }
    }
    results.append(&mut log.results);
    log.results = results;
    log
}

/// Runs the command: 0 when every case passes, 1 when one fails, 2 for invalid files or cases.
pub fn run(args: &Args) -> anyhow::Result<u8> {
    let suites: Vec<Suite> = args
        .files
        .iter()
        .map(|path| suite(path, args.scenario.as_deref(), args.strict, &args.tags))
        .collect();
    let all: Vec<&CaseResult> = suites.iter().flat_map(|s| s.cases.iter()).collect();
    let failed = all.iter().filter(|c| matches!(c.outcome, Outcome::Fail(_))).count();
    let errored = all.iter().filter(|c| matches!(c.outcome, Outcome::Error(_))).count();
    let passed = all.len() - failed - errored;
    let bad_files = suites.iter().filter(|s| s.error.is_some()).count();
    // Every caveat that can change some case's answer, once (suites often share a scenario).
    let mut caveats: Vec<&Caveat> = Vec::new();
    for c in suites.iter().flat_map(|s| &s.caveats) {
        if !caveats.contains(&c) {
            caveats.push(c);
        }
    }
    match args.format {
        GateFormat::Sarif => {
            super::common::print_sarif(&suites_sarif(&args.files, &suites, &caveats))?;
        }
        GateFormat::Text => {
            for s in &suites {
                if let Some(m) = &s.error {
                    println!("{}", s.name);
                    println!("  ERROR (file): {}", safe_message(m));
                    print_error(m);
                    continue;
                }
                println!("{} ({})", s.name, s.scenario);
                for c in &s.cases {
                    match &c.outcome {
                        Outcome::Pass => println!("  PASS {}", c.name),
                        Outcome::Fail(m) => {
                            println!("  FAIL {}: {m}", c.name);
                            for line in c.trace.lines() {
                                println!("    {line}");
                            }
                        }
                        Outcome::Error(m) => {
                            // On stdout with the results, and on stderr like every invalid input.
                            println!("  ERROR {}: {}", safe_message(&c.name), safe_message(m));
                            print_error(m);
                        }
                    }
                }
            }
            let files = if bad_files > 0 { format!(", {bad_files} invalid file(s)") } else { String::new() };
            let totals = format!("{passed} passed, {failed} failed, {errored} invalid{files}");
            println!("{}", summary_with_caveats(&totals, &caveats));
        }
        GateFormat::Json => super::common::print_json(&serde_json::json!({
            "suites": suites.iter().map(|s| serde_json::json!({
                "name": s.name,
                "scenario": s.scenario,
                "error": s.error,
                "caveats": caveats_json(&s.caveats.iter().collect::<Vec<_>>()),
                "cases": s.cases.iter().map(|c| {
                    let (status, message) = match &c.outcome {
                        Outcome::Pass => ("pass", None),
                        Outcome::Fail(m) => ("fail", Some(m.clone())),
                        Outcome::Error(m) => ("error", Some(m.clone())),
                    };
                    serde_json::json!({"name": c.name, "status": status, "message": message, "trace": c.trace, "caveats": caveats_json(&c.caveats.iter().collect::<Vec<_>>())})
                }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "summary": {"passed": passed, "failed": failed, "invalid": errored, "invalid_files": bad_files},
        })),
    }
    for s in &suites {
        print_caveats(Path::new(&s.scenario), &s.caveats.iter().collect::<Vec<_>>());
    }
    if let Some(out) = &args.junit {
        std::fs::write(out, junit(&suites))
            .map_err(|e| anyhow::anyhow!("{}: cannot write JUnit XML: {e}", out.display()))?;
    }
    Ok(if errored > 0 || bad_files > 0 {
        EXIT_INVALID
    } else if failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nsg::RuleRef;

    #[test]
    fn rule_names_match_with_or_without_prefix_in_any_case() {
        let deny_ssh = RuleRef::Security { name: "deny-ssh".into() };
        assert!(deny_ssh.answers_to("deny-ssh"));
        assert!(deny_ssh.answers_to("securityRules/deny-ssh"));
        assert!(deny_ssh.answers_to("Deny-SSH"));
        assert!(RuleRef::Default { name: "DenyAllInBound".into() }.answers_to("DenyAllInbound"));
        assert!(!deny_ssh.answers_to("deny"));
    }

    #[test]
    fn junit_escapes_and_counts() {
        let s = Suite {
            name: "a<b".into(),
            scenario: "x.ron".into(),
            cases: vec![
                CaseResult {
                    name: "ok".into(),
                    outcome: Outcome::Pass,
                    trace: "t".into(),
                    caveats: Vec::new(),
                    position: None,
                },
                CaseResult {
                    name: "bad \"one\"".into(),
                    outcome: Outcome::Fail("expected Deny & more".into()),
                    trace: "hop <1>".into(),
                    caveats: Vec::new(),
                    position: None,
                },
            ],
            error: None,
            caveats: Vec::new(),
        };
        let x = junit(&[s]);
        assert!(x.contains("<testsuite name=\"a&lt;b\" tests=\"2\" failures=\"1\" errors=\"0\""), "{x}");
        assert!(
            x.contains(
                "<failure message=\"expected Deny &amp; more\" type=\"verdict\">hop &lt;1&gt;</failure>"
            ),
            "{x}"
        );
        assert!(x.contains("name=\"bad &quot;one&quot;\""), "{x}");
    }
}

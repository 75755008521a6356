//! Plain-text rendering: traces, run narratives, effective-rule tables.
//!
//! Colour is optional and decided by the caller (`cli` turns it on only for a terminal and never
//! when `NO_COLOR` is set); the words are the same either way, so nothing depends on colour.

use std::fmt::Write;

use crate::jit::{LogKind, LogStatus, is_jit_rule};
use crate::nsg::{Access, AddressSpec, Direction, RuleRef};
use crate::path::Trace;
use crate::sim::{Duration, Found, RunReport, StepReport};

use super::teach::{CorrectionsShown, correction_line};
use super::{NicEffectiveRules, brief_changes, change_text, happened_text};

/// How text output is styled.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    fn good(&self, text: &str) -> String {
        self.paint("32", text)
    }
    fn bad(&self, text: &str) -> String {
        self.paint("31;1", text)
    }
    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    fn access(&self, access: Access) -> String {
        match access {
            Access::Allow => self.good("Allow"),
            Access::Deny => self.bad("Deny"),
        }
    }
}

/// A flow's trace: the verdict line, then one line per hop.
pub fn trace_text(trace: &Trace, indent: &str, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{indent}verdict: {}", style.access(trace.verdict));
    for hop in &trace.hops {
        let mark = match hop.access {
            Access::Allow => style.good("allow"),
            Access::Deny => style.bad("deny "),
        };
        let _ = writeln!(out, "{indent}{mark}  {:<7} {}", hop.kind.as_str(), hop.detail);
    }
    out
}

/// Which activity-log entries a narrative shows beside its steps (`--log requests|rules|all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFilter {
    /// Every entry.
    All,
    /// JIT policy writes, requests, approvals, revokes and port status changes.
    Requests,
    /// Security rule and DNAT writes, and other changes to the network.
    Rules,
}

impl LogFilter {
    /// Whether entries of this kind are shown.
    pub fn shows(self, kind: LogKind) -> bool {
        match self {
            LogFilter::All => true,
            LogFilter::Requests => matches!(kind, LogKind::Policy | LogKind::Request),
            LogFilter::Rules => matches!(kind, LogKind::Rule | LogKind::Network),
        }
    }
}

/// How a run's story is told.
#[derive(Clone, Copy, Debug, Default)]
pub struct Narration {
    /// Print the trace of every evaluated flow, not only of failures and refused connections.
    pub verbose: bool,
    /// One line per action: JIT rules by port and priority (`+ JIT deny 3389 (4095) in …`).
    pub brief: bool,
    /// The activity-log entries to show under the step that wrote them.
    pub log: Option<LogFilter>,
    /// Colour.
    pub style: Style,
}

/// The head of a run's story: the scenario, what it shows, when it starts.
pub fn run_header(name: &str, file: &str, description: &str, report: &RunReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}  ({file})", style.bold("scenario"), style.bold(name));
    if !description.is_empty() {
        for line in description.lines() {
            let _ = writeln!(out, "  {}", line.trim());
        }
    }
    let _ = writeln!(out, "  starts {}", report.start);
    out
}

/// The end of a run's story: the tally, and where the story was stopped (`--until`) with how
/// many steps were not played.
pub fn run_footer(
    name: &str,
    (passed, failed): (usize, usize),
    stopped: Option<(Duration, usize)>,
    style: Style,
) -> String {
    let mut out = String::new();
    if let Some((at, left)) = stopped {
        let _ = writeln!(out, "{}", style.dim(&format!("stopped at +{at}: {left} later step(s) not played")));
    }
    let summary = format!("{passed} passed, {failed} failed");
    let _ =
        writeln!(out, "{}: {}", name, if failed == 0 { style.good(&summary) } else { style.bad(&summary) });
    out
}

/// Tells a run step by step: each step's lines, with the corrections it calls for (each known
/// one once) and, when asked, its activity-log entries.
#[derive(Debug)]
pub struct Narrator<'a> {
    report: &'a RunReport,
    how: Narration,
    shown: CorrectionsShown,
}

impl<'a> Narrator<'a> {
    /// A narrator of `report`.
    pub fn new(report: &'a RunReport, how: Narration) -> Narrator<'a> {
        Narrator { report, how, shown: CorrectionsShown::default() }
    }

    /// The lines of one step.
    pub fn step(&mut self, step: &StepReport) -> String {
        let mut out = String::new();
        let topology = self.report.end.topology();
        let style = self.how.style;
        let head = style.dim(&format!("[+{:<6} {}]", step.offset.to_string(), step.at));
        let pad = "    ";
        if let Some(note) = &step.note {
            let _ = writeln!(out, "{head} {note}");
        }
        if let Some(action) = &step.action {
            let marker = match (step.kind, action.accepted()) {
                (_, false) => format!("{} ", style.bad("REFUSED")),
                (crate::sim::StepKind::Event, true) => format!("{} ", style.dim("event:")),
                _ => String::new(),
            };
            let what = happened_text(&action.what);
            if self.how.brief {
                let changes = brief_changes(&action.changes, topology);
                if changes.is_empty() {
                    let _ = writeln!(out, "{head} {marker}{what}");
                } else {
                    let _ = writeln!(out, "{head} {marker}{what}: {}", changes.join("; "));
                }
            } else {
                let _ = writeln!(out, "{head} {marker}{what}");
                for change in &action.changes {
                    let _ = writeln!(out, "{pad}{}", change_text(change, topology));
                }
            }
            for warning in &action.warnings {
                let _ = writeln!(out, "{pad}{} {warning}", style.bad("warning:"));
            }
            if let Some(trace) = &action.trace
                && (self.how.verbose || trace.verdict == Access::Deny)
            {
                out.push_str(&trace_text(trace, pad, style));
            }
        }
        if let (Some(filter), Some(action)) = (self.how.log, &step.action) {
            let entries = self.report.end.jit().log().entries();
            for e in
                entries.get(action.log.clone()).unwrap_or_default().iter().filter(|e| filter.shows(e.kind))
            {
                let _ = writeln!(out, "{pad}{} {}", style.dim("log:"), log_entry_text(e, style));
            }
        }
        if let Some(e) = &step.expectation {
            let verdict = if e.passed { style.good("PASS") } else { style.bad("FAIL") };
            let found = if self.how.brief { brief_found(&e.actual) } else { e.actual.to_string() };
            let _ = writeln!(out, "{head} {verdict} expect {}: {found}", e.description);
            if !e.passed {
                let _ = writeln!(out, "{pad}expected {}", e.expected);
            }
            if let Some(trace) = &e.trace
                && (self.how.verbose || !e.passed)
            {
                out.push_str(&trace_text(trace, pad, style));
            }
        }
        // Last, so that it reads as the lesson of what the step showed.
        for c in self.shown.for_step(step, topology) {
            let _ = writeln!(out, "{pad}{}", style.bold(&correction_line(&c)));
        }
        out
    }
}

/// What an expectation found, with a JIT rule named by what it is rather than by its name
/// (`Deny by NSG 'n' JIT deny rule, priority 4095`), for `--brief`.
fn brief_found(found: &Found) -> String {
    if let Found::Flow { verdict, decided: Some(hop) } = found
        && let Some(rule) = hop.rule.as_ref().and_then(RuleRef::user_rule_name)
        && is_jit_rule(rule)
    {
        let kind = if hop.access == Access::Allow { "allow" } else { "deny" };
        let priority = hop.priority.map(|p| format!(", priority {p}")).unwrap_or_default();
        return format!("{verdict} by NSG '{}' JIT {kind} rule{priority}", hop.resource);
    }
    found.to_string()
}

/// The narrative of a run, whole.
pub fn run_text(name: &str, file: &str, description: &str, report: &RunReport, how: Narration) -> String {
    let mut out = run_header(name, file, description, report, how.style);
    let mut narrator = Narrator::new(report, how);
    for step in &report.steps {
        out.push_str(&narrator.step(step));
    }
    out.push_str(&run_footer(name, report.tally(), None, how.style));
    out
}

/// One activity-log entry on a line: time, status, operation, resource, caller, detail.
fn log_entry_text(e: &crate::jit::LogEntry, style: Style) -> String {
    let ext = if e.extension { " [nsgsim extension]" } else { "" };
    let detail = if e.detail.is_empty() { String::new() } else { format!(" — {}", e.detail) };
    let status = e.status.to_string();
    let status = if e.status == LogStatus::Failed { style.bad(&status) } else { status };
    let resource = if e.resource.is_empty() { String::new() } else { format!(" {}", e.resource) };
    format!("{}  {:<9} {}{resource} by {}{detail}{ext}", e.at, status, e.operation, e.caller)
}

/// The activity log, one entry per line.
pub fn log_text(log: &crate::jit::ActivityLog, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold("activity log"));
    for e in log.entries() {
        let _ = writeln!(out, "  {}", log_entry_text(e, style));
    }
    out
}

/// How many prefixes of an expanded tag or ASG the text shows unless asked for all (`--full`):
/// the `Internet` tag alone expands to dozens.
pub const EXPANDED_SHOWN: usize = 6;

/// The security admin rules of a NIC's VNet, before its NSGs (nothing when there are none).
fn admin_rules_text(out: &mut String, rules: &[super::EffectiveAdminRule]) {
    if rules.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  security admin rules (Azure Virtual Network Manager; evaluated before the NSGs: Allow goes on to them, AlwaysAllow skips them, Deny stops)"
    );
    for r in rules {
        let ports = |p: &crate::nsg::PortSpec| if p.is_any() { "0-65535".to_string() } else { p.to_string() };
        let _ = writeln!(
            out,
            "    {} {:>4} {:<11} {} {} ports {} -> {} ports {}  ({}/{}/{} of network manager '{}')",
            r.rule.direction,
            r.rule.priority,
            r.rule.action.as_str(),
            match r.rule.protocol.to_string().as_str() {
                "*" => "All".to_string(),
                p => p.to_string(),
            },
            r.sources.join(","),
            ports(&r.rule.source_ports),
            r.destinations.join(","),
            ports(&r.rule.destination_ports),
            r.configuration,
            r.collection,
            r.rule.name,
            r.network_manager
        );
    }
}

/// The effective rules, one table per NIC and NSG, like the portal's "Effective security rules".
/// Columns are as wide as their widest cell. An expanded tag or ASG shows its first
/// [`EXPANDED_SHOWN`] prefixes and how many more there are, unless `full`.
pub fn effective_text(vm: &str, nics: &[NicEffectiveRules], style: Style, full: bool) -> String {
    let mut out = String::new();
    for nic in nics {
        let _ = writeln!(
            out,
            "{} vm '{vm}' nic '{}' ({})",
            style.bold("effective security rules:"),
            nic.nic,
            nic.private_ip
        );
        admin_rules_text(&mut out, &nic.admin_rules);
        if nic.nsgs.is_empty() {
            let _ = writeln!(out, "  no NSG on the subnet or the NIC: all traffic passes both levels");
        }
        for nsg in &nic.nsgs {
            let _ = writeln!(out, "  NSG '{}' (association: {})", nsg.nsg, nsg.association.as_str());
            for direction in [Direction::Inbound, Direction::Outbound] {
                let _ = writeln!(out, "    {direction}");
                let header = [
                    "name",
                    "priority",
                    "access",
                    "proto",
                    "source",
                    "src ports",
                    "destination",
                    "dst ports",
                ]
                .map(String::from);
                let rules: Vec<&super::EffectiveRule> =
                    nsg.rules.iter().filter(|r| r.rule.direction == direction).collect();
                let ports =
                    |p: &crate::nsg::PortSpec| if p.is_any() { "0-65535".to_string() } else { p.to_string() };
                let rows: Vec<[String; 8]> = rules
                    .iter()
                    .map(|r| {
                        let proto = match r.rule.protocol.to_string().as_str() {
                            "*" => "All".to_string(),
                            p => p.to_string(),
                        };
                        [
                            r.rule.azure_name(),
                            r.rule.priority.to_string(),
                            r.rule.access.to_string(),
                            proto,
                            r.source.clone(),
                            ports(&r.rule.source_ports),
                            r.destination.clone(),
                            ports(&r.rule.destination_ports),
                        ]
                    })
                    .collect();
                let mut widths = header.clone().map(|h| h.chars().count());
                for row in &rows {
                    for (w, cell) in widths.iter_mut().zip(row) {
                        *w = (*w).max(cell.chars().count());
                    }
                }
                let line = |cells: &[String; 8]| {
                    let mut text = String::from("      ");
                    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                        let pad = w.saturating_sub(cell.chars().count());
                        match i {
                            7 => text.push_str(cell),
                            // Priorities are numbers: right-aligned.
                            1 => text.push_str(&format!("{}{cell}  ", " ".repeat(pad))),
                            _ => text.push_str(&format!("{cell}{}  ", " ".repeat(pad))),
                        }
                    }
                    text
                };
                let _ = writeln!(out, "{}", line(&header));
                for (r, row) in rules.iter().zip(&rows) {
                    let _ = writeln!(out, "{}", line(row));
                    // Service tags and ASGs name addresses symbolically: show what they stand
                    // for. Decided from the rule's address kind, not from how the name is spelt
                    // (`Storage.WestEurope` and `asg:web` are symbolic too).
                    for (label, expanded, spec) in [
                        ("source", &r.expanded_source, &r.rule.source),
                        ("destination", &r.expanded_destination, &r.rule.destination),
                    ] {
                        if matches!(spec, AddressSpec::Tag(_) | AddressSpec::Asgs(_)) {
                            let shown = if expanded.is_empty() {
                                "(no members)".to_string()
                            } else if full || expanded.len() <= EXPANDED_SHOWN {
                                expanded.join(", ")
                            } else {
                                format!(
                                    "{}, … (+{} more; --full lists them all)",
                                    expanded[..EXPANDED_SHOWN].join(", "),
                                    expanded.len() - EXPANDED_SHOWN
                                )
                            };
                            let _ = writeln!(out, "        expanded {label}: {shown}");
                        }
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::load_str;

    #[test]
    fn effective_text_expands_tags_and_asgs_but_not_prefixes_or_any() {
        let text = effective_text("vm", &super::super::effective::tests::rules(), Style::default(), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "effective security rules: vm 'vm' nic 'vm-nic' (10.0.1.4)");
        assert_eq!(lines[1], "  NSG 'sub' (association: subnet)");
        let after = |name: &str| {
            let i =
                lines.iter().position(|l| l.contains(name)).unwrap_or_else(|| panic!("no {name}:\n{text}"));
            (lines[i], lines.get(i + 1).copied().unwrap_or(""), lines.get(i + 2).copied().unwrap_or(""))
        };
        let (row, source, destination) = after("securityRules/to-web");
        assert!(
            row.contains("Allow") && row.contains("Tcp") && row.contains("asg:web") && row.ends_with("443"),
            "{row}"
        );
        assert!(source.trim().starts_with("expanded source: 1.0.0.0/8"), "{source}");
        assert_eq!(destination.trim(), "expanded destination: 10.0.1.4");
        let (row, next, _) = after("securityRules/admins");
        assert!(row.contains("203.0.113.0/24,198.51.100.7") && row.ends_with("22,3389-3390"), "{row}");
        assert!(!next.contains("expanded"), "prefixes and * are shown as written: {next}");
        let (_, next, _) = after("securityRules/no-storage");
        assert_eq!(next.trim(), "expanded destination: 20.38.96.0/19");
        let (row, _, _) = after("defaultSecurityRules/DenyAllInBound");
        assert!(row.contains("All") && row.contains("0-65535"), "{row}");
    }

    #[test]
    fn effective_text_says_when_there_is_no_nsg() {
        let nics = vec![NicEffectiveRules {
            nic: "n".into(),
            private_ip: "10.0.0.4".into(),
            nsgs: vec![],
            admin_rules: vec![],
        }];
        let text = effective_text("vm", &nics, Style::default(), false);
        assert!(text.contains("no NSG on the subnet or the NIC: all traffic passes both levels"), "{text}");
    }

    #[test]
    fn run_text_tells_the_story_and_the_tally() {
        let s = load_str(
            r#"Scenario(name: "story", description: "What it shows.", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n")])],
                nsgs: [Nsg(name: "n", rules: [Rule(name: "deny-ssh", priority: 100, direction: Inbound, access: Deny, protocol: Tcp, destination_ports: "22")])],
                vms: [Vm(name: "a", os: Linux, nics: [Nic(name: "a-nic", subnet: "v/a", private_ip: "10.0.1.4")]),
                      Vm(name: "b", os: Linux, nics: [Nic(name: "b-nic", subnet: "v/a", private_ip: "10.0.1.5")])],
                timeline: [
                    (at: "0", note: "Intra-subnet SSH meets the deny rule."),
                    (at: "0", expect: Flow(from: "a", to: "b", port: 22, verdict: Deny)),
                    (at: "90m", action: RemoveRule(nsg: "n", rule: "deny-ssh")),
                    (at: "90m", expect: Flow(from: "a", to: "b", port: 22, verdict: Deny)),
                ])"#,
            Path::new("story.ron"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let report = crate::sim::run(s.world(), &s.steps).expect("runs");
        let text = run_text("story", "story.ron", "What it shows.", &report, Narration::default());
        for line in [
            "scenario story  (story.ron)",
            "  What it shows.",
            "  starts 2025-01-06T09:00:00Z",
            "[+0s     2025-01-06T09:00:00Z] Intra-subnet SSH meets the deny rule.",
            "[+0s     2025-01-06T09:00:00Z] PASS expect a -> b Tcp port 22: Deny by NSG 'n' rule securityRules/deny-ssh",
            "[+1h30m  2025-01-06T10:30:00Z] removed rule 'deny-ssh' from NSG 'n'",
            "    - n securityRules/deny-ssh (priority 100, Inbound Deny, Tcp * -> * port 22)",
            "[+1h30m  2025-01-06T10:30:00Z] FAIL expect a -> b Tcp port 22: Allow by NSG 'n' rule defaultSecurityRules/AllowVnetInBound",
            "    expected Deny",
            "    verdict: Allow",
            "story: 1 passed, 1 failed",
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line:?} in:\n{text}");
        }
        // Only the failure prints its trace without --verbose.
        assert_eq!(text.matches("verdict: ").count(), 1, "{text}");
        let verbose =
            run_text("story", "story.ron", "", &report, Narration { verbose: true, ..Narration::default() });
        assert_eq!(verbose.matches("verdict: ").count(), 2, "{verbose}");
        // Colour changes the look, not the words.
        let coloured = run_text(
            "story",
            "story.ron",
            "",
            &report,
            Narration { style: Style { color: true }, ..Narration::default() },
        );
        assert!(coloured.contains("\x1b[") && coloured.contains("FAIL"), "{coloured}");
    }
}

//! Plain-text rendering: traces, run narratives, effective-rule tables.
//!
//! Colour is optional and decided by the caller (`cli` turns it on only for a terminal and never
//! when `NO_COLOR` is set); the words are the same either way, so nothing depends on colour.

use std::fmt::Write;

use crate::jit::LogStatus;
use crate::model::Topology;
use crate::nsg::{Access, AddressSpec, Direction};
use crate::path::Trace;
use crate::sim::{RunReport, StepReport};

use super::{NicEffectiveRules, change_text, happened_text};

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

/// The narrative of a run.
pub fn run_text(
    name: &str,
    file: &str,
    description: &str,
    report: &RunReport,
    verbose: bool,
    style: Style,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}  ({file})", style.bold("scenario"), style.bold(name));
    if !description.is_empty() {
        for line in description.lines() {
            let _ = writeln!(out, "  {}", line.trim());
        }
    }
    let _ = writeln!(out, "  starts {}", report.start);
    for step in &report.steps {
        step_text(&mut out, step, report.end.topology(), verbose, style);
    }
    let (passed, failed) = report.tally();
    let summary = format!("{passed} passed, {failed} failed");
    let _ =
        writeln!(out, "{}: {}", name, if failed == 0 { style.good(&summary) } else { style.bad(&summary) });
    out
}

fn step_text(out: &mut String, step: &StepReport, topology: &Topology, verbose: bool, style: Style) {
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
        let _ = writeln!(out, "{head} {marker}{}", happened_text(&action.what));
        for change in &action.changes {
            let _ = writeln!(out, "{pad}{}", change_text(change, topology));
        }
        for warning in &action.warnings {
            let _ = writeln!(out, "{pad}{} {warning}", style.bad("warning:"));
        }
        if let Some(trace) = &action.trace
            && (verbose || trace.verdict == Access::Deny)
        {
            out.push_str(&trace_text(trace, pad, style));
        }
    }
    if let Some(e) = &step.expectation {
        let verdict = if e.passed { style.good("PASS") } else { style.bad("FAIL") };
        let _ = writeln!(out, "{head} {verdict} expect {}: {}", e.description, e.actual);
        if !e.passed {
            let _ = writeln!(out, "{pad}expected {}", e.expected);
        }
        if let Some(trace) = &e.trace
            && (verbose || !e.passed)
        {
            out.push_str(&trace_text(trace, pad, style));
        }
    }
}

/// The activity log, one entry per line.
pub fn log_text(log: &crate::jit::ActivityLog, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold("activity log"));
    for e in log.entries() {
        let ext = if e.extension { " [nsgsim extension]" } else { "" };
        let detail = if e.detail.is_empty() { String::new() } else { format!(" — {}", e.detail) };
        let status = e.status.to_string();
        let status = if e.status == LogStatus::Failed { style.bad(&status) } else { status };
        let _ = writeln!(
            out,
            "  {}  {:<9} {:<40} {} by {}{detail}{ext}",
            e.at, status, e.operation, e.resource, e.caller
        );
    }
    out
}

/// The effective rules, one table per NIC and NSG, like the portal's "Effective security rules".
pub fn effective_text(vm: &str, nics: &[NicEffectiveRules], style: Style) -> String {
    let mut out = String::new();
    for nic in nics {
        let _ = writeln!(
            out,
            "{} vm '{vm}' nic '{}' ({})",
            style.bold("effective security rules:"),
            nic.nic,
            nic.private_ip
        );
        if nic.nsgs.is_empty() {
            let _ = writeln!(out, "  no NSG on the subnet or the NIC: all traffic passes both levels");
        }
        for nsg in &nic.nsgs {
            let _ = writeln!(out, "  NSG '{}' (association: {})", nsg.nsg, nsg.association.as_str());
            for direction in [Direction::Inbound, Direction::Outbound] {
                let _ = writeln!(out, "    {direction}");
                let _ = writeln!(
                    out,
                    "      {:<48} {:>8} {:<6} {:<5} {:<22} {:<11} {:<22} dst ports",
                    "name", "priority", "access", "proto", "source", "src ports", "destination"
                );
                for r in nsg.rules.iter().filter(|r| r.rule.direction == direction) {
                    let proto = match r.rule.protocol.to_string().as_str() {
                        "*" => "All".to_string(),
                        p => p.to_string(),
                    };
                    let ports = |p: &crate::nsg::PortSpec| {
                        if p.is_any() { "0-65535".to_string() } else { p.to_string() }
                    };
                    let _ = writeln!(
                        out,
                        "      {:<48} {:>8} {:<6} {:<5} {:<22} {:<11} {:<22} {}",
                        r.rule.azure_name(),
                        r.rule.priority.to_string(),
                        r.rule.access.to_string(),
                        proto,
                        r.source,
                        ports(&r.rule.source_ports),
                        r.destination,
                        ports(&r.rule.destination_ports)
                    );
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
                            } else {
                                expanded.join(", ")
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
        let text = effective_text("vm", &super::super::effective::tests::rules(), Style::default());
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
        let nics = vec![NicEffectiveRules { nic: "n".into(), private_ip: "10.0.0.4".into(), nsgs: vec![] }];
        let text = effective_text("vm", &nics, Style::default());
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
        let text = run_text("story", "story.ron", "What it shows.", &report, false, Style::default());
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
        let verbose = run_text("story", "story.ron", "", &report, true, Style::default());
        assert_eq!(verbose.matches("verdict: ").count(), 2, "{verbose}");
        // Colour changes the look, not the words.
        let coloured = run_text("story", "story.ron", "", &report, false, Style { color: true });
        assert!(coloured.contains("\x1b[") && coloured.contains("FAIL"), "{coloured}");
    }
}

//! Plain-text rendering: traces, run narratives, effective-rule tables.
//!
//! Colour is optional and decided by the caller (`cli` turns it on only for a terminal and never
//! when `NO_COLOR` is set); the words are the same either way, so nothing depends on colour.

use std::fmt::Write;

use crate::nsg::{Access, AddressSpec, Direction};
use crate::path::Trace;
use crate::sim::{RunReport, StepReport};

use super::NicEffectiveRules;

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
        step_text(&mut out, step, verbose, style);
    }
    let (passed, failed) = report.tally();
    let summary = format!("{passed} passed, {failed} failed");
    let _ =
        writeln!(out, "{}: {}", name, if failed == 0 { style.good(&summary) } else { style.bad(&summary) });
    out
}

fn step_text(out: &mut String, step: &StepReport, verbose: bool, style: Style) {
    let head = style.dim(&format!("[+{:<6} {}]", step.offset.to_string(), step.at));
    let pad = "    ";
    if let Some(note) = &step.note {
        let _ = writeln!(out, "{head} {note}");
    }
    if let Some(action) = &step.action {
        let marker = match (step.kind, action.accepted) {
            (_, false) => format!("{} ", style.bad("REFUSED")),
            (crate::sim::StepKind::Event, true) => format!("{} ", style.dim("event:")),
            _ => String::new(),
        };
        let summary = action.summary.strip_prefix("refused: ").unwrap_or(&action.summary);
        let _ = writeln!(out, "{head} {marker}{summary}");
        for change in &action.changes {
            let _ = writeln!(out, "{pad}{change}");
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
        let status = if e.status == "Failed" { style.bad(&e.status) } else { e.status.clone() };
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

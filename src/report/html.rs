//! The self-contained HTML report of a run: topology drawing, timeline of grants, every step
//! with its rule changes (before and after), the NSG tables at the start, the activity log.
//!
//! One file, no network access: styles and SVG are inline, and the only script is a few lines
//! that count what was drawn (so a browser test can check the page rendered).

use std::collections::HashMap;
use std::fmt::Write;

use crate::model::{Caveat, Topology};
use crate::nsg::{Direction, SecurityRule};
use crate::sim::{RunReport, StepKind};

use super::happened_text;
use super::svg::{escape, timeline_svg, topology_svg};

const STYLE: &str = r#"
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{margin-bottom:4px}h2{border-bottom:2px solid #1565c0;padding-bottom:4px;margin-top:32px}
.meta{color:#555}.pass{color:#2e7d32;font-weight:bold}.fail{color:#c62828;font-weight:bold}
.refused{color:#c62828}.event{color:#6a1b9a}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eceff1}tr.added td{background:#e8f5e9}tr.removed td{background:#ffebee;text-decoration:line-through}
tr.same td{color:#777}.trace{font-family:monospace;font-size:12px;white-space:pre-wrap;color:#333}
.figure{overflow-x:auto;border:1px solid #ddd;padding:8px;background:#fafafa}
"#;

fn rule_row(class: &str, mark: &str, r: &SecurityRule, topology: &Topology) -> String {
    format!(
        "<tr class=\"{class}\"><td>{mark}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        r.priority,
        escape(&r.name),
        r.direction,
        r.access,
        r.protocol,
        escape(&topology.describe_address(&r.source)),
        escape(&r.source_ports.to_string()),
        escape(&topology.describe_address(&r.destination)),
        escape(&r.destination_ports.to_string())
    )
}

const RULE_HEADER: &str = "<tr><th></th><th>priority</th><th>name</th><th>direction</th><th>access</th><th>protocol</th><th>source</th><th>source ports</th><th>destination</th><th>destination ports</th></tr>";

/// A rule table comparing `before` and `after`: added rows green, removed rows struck out.
pub fn rule_diff_table(
    nsg: &str,
    before: &[SecurityRule],
    after: &[SecurityRule],
    topology: &Topology,
) -> String {
    let mut rows: Vec<(&SecurityRule, &str, &str)> = Vec::new();
    for r in after {
        if before.contains(r) {
            rows.push((r, "same", ""));
        } else {
            rows.push((r, "added", "+"));
        }
    }
    for r in before.iter().filter(|r| !after.contains(r)) {
        rows.push((r, "removed", "−"));
    }
    rows.sort_by_key(|(r, _, _)| (r.direction != Direction::Inbound, r.priority));
    let mut out = format!(
        "<table class=\"rules\" data-nsg=\"{}\"><caption>NSG {}</caption>{RULE_HEADER}",
        escape(nsg),
        escape(nsg)
    );
    for (r, class, mark) in rows {
        out.push_str(&rule_row(class, mark, r, topology));
    }
    out.push_str("</table>");
    out
}

/// The whole page; `caveats` (what the scenario could not model) are named under the result.
pub fn report_html(
    name: &str,
    description: &str,
    file: &str,
    initial: &Topology,
    report: &RunReport,
    caveats: &[&Caveat],
) -> String {
    let (passed, failed) = report.tally();
    let end = report.last_instant();
    let final_topology = report.end.topology();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>nsgsim: {}</title><style>{STYLE}</style></head><body>",
        escape(name)
    );
    let _ = write!(
        html,
        "<h1>{}</h1><p class=\"meta\">{} — <code>{}</code> — starts {}</p>",
        escape(name),
        escape(description),
        escape(file),
        report.start
    );
    let verdict = if failed == 0 { "pass" } else { "fail" };
    let _ = write!(
        html,
        "<p id=\"result\" class=\"{verdict}\">{passed} expectations passed, {failed} failed</p>"
    );
    html.push_str(&super::caveats_html(caveats));
    let _ = write!(html, "<h2>Topology</h2><div class=\"figure\">{}</div>", topology_svg(initial));
    let _ = write!(
        html,
        "<h2>Just-in-time access over time</h2><div class=\"figure\">{}</div>",
        timeline_svg(report.end.jit(), final_topology, report.start, end)
    );
    html.push_str("<h2>Timeline</h2><table id=\"steps\"><tr><th>time</th><th>what happened</th></tr>");
    // A step records only the rules it added and removed; the tables show the whole NSG, so
    // each NSG's rules are carried forward from the start.
    let mut rules: HashMap<&str, Vec<SecurityRule>> =
        initial.nsg_ids().map(|id| (initial.nsg(id).name.as_str(), initial.nsg(id).rules.clone())).collect();
    for step in &report.steps {
        let mut cell = String::new();
        if let Some(note) = &step.note {
            let _ = write!(cell, "<p><em>{}</em></p>", escape(note));
        }
        if let Some(a) = &step.action {
            let class = match (a.accepted(), step.kind) {
                (false, _) => "refused",
                (true, StepKind::Event) => "event",
                _ => "",
            };
            let prefix = match (a.accepted(), step.kind) {
                (false, _) => "REFUSED ",
                (true, StepKind::Event) => "event: ",
                _ => "",
            };
            let _ = write!(cell, "<p class=\"{class}\">{prefix}{}</p>", escape(&happened_text(&a.what)));
            for w in &a.warnings {
                let _ = write!(cell, "<p class=\"refused\">warning: {}</p>", escape(&w.to_string()));
            }
            for change in &a.nsg_changes {
                let before = rules.remove(change.nsg.as_str()).unwrap_or_default();
                let after = change.apply(&before);
                cell.push_str(&rule_diff_table(&change.nsg, &before, &after, final_topology));
                rules.insert(change.nsg.as_str(), after);
            }
            if let Some(trace) = &a.trace {
                let _ = write!(
                    cell,
                    "<div class=\"trace\">{}</div>",
                    escape(&super::trace_text(trace, "", super::Style::default()))
                );
            }
        }
        if let Some(e) = &step.expectation {
            let (class, word) = if e.passed { ("pass", "PASS") } else { ("fail", "FAIL") };
            let _ = write!(
                cell,
                "<p><span class=\"{class}\">{word}</span> expect {}: {}</p>",
                escape(&e.description),
                escape(&e.actual.to_string())
            );
            if !e.passed {
                let _ = write!(cell, "<p class=\"fail\">expected {}</p>", escape(&e.expected));
            }
            if let Some(trace) = &e.trace {
                let _ = write!(
                    cell,
                    "<details><summary>trace</summary><div class=\"trace\">{}</div></details>",
                    escape(&super::trace_text(trace, "", super::Style::default()))
                );
            }
        }
        let _ =
            write!(html, "<tr><td>+{}<br><small>{}</small></td><td>{cell}</td></tr>", step.offset, step.at);
    }
    html.push_str("</table>");
    html.push_str("<h2>NSG rules at the start</h2>");
    for id in initial.nsg_ids() {
        let nsg = initial.nsg(id);
        html.push_str(&rule_diff_table(&nsg.name, &nsg.rules, &nsg.rules, initial));
    }
    html.push_str("<h2>Activity log</h2>");
    let entries = report.end.jit().log().entries();
    if entries.is_empty() {
        html.push_str("<p id=\"log\" class=\"meta\">Nothing was logged: this timeline makes no JIT operation and changes no NSG rule or association.</p>");
    } else {
        html.push_str("<table id=\"log\"><tr><th>time</th><th>status</th><th>operation</th><th>resource</th><th>caller</th><th>detail</th></tr>");
    }
    for e in entries {
        let ext = if e.extension { " <em>(nsgsim extension)</em>" } else { "" };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}{ext}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.at,
            e.status,
            escape(&e.operation),
            escape(&e.resource),
            escape(&e.caller),
            escape(&e.detail)
        );
    }
    if !entries.is_empty() {
        html.push_str("</table>");
    }
    html.push_str("<p class=\"meta\">Generated by nsgsim. Answers follow Microsoft's documentation; see docs/fidelity.md for every modelling choice.</p>");
    html.push_str("<script>document.body.dataset.grantBars=String(document.querySelectorAll('rect.grant').length);document.body.dataset.steps=String(document.querySelectorAll('#steps tr').length-1);document.body.dataset.rendered='yes';</script>");
    html.push_str("</body></html>\n");
    html
}

//! `lint`'s findings for people (text) and programs (JSON): one block per finding with its
//! severity, code, subject, rules, where they are defined in what the scenario was imported
//! from, the fix and the Azure Policy definitions; then the totals, which name the caveats.
//! SARIF is `sarif_rules.rs`'s. The command (`cli::lint`) only loads, runs and prints.

use std::fmt::Write;

use serde_json::json;

use crate::analysis::lint::{Finding, FindingRule};
use crate::model::Caveat;
use crate::nsg::RuleRef;
use crate::scenario::Scenario;

use super::{rule_list, summary_with_caveats};

/// `lint`'s findings as text, one block per finding under `heading`, then the totals, which
/// name the caveats (`no findings` is never printed alone when caveats exist). Built whole and
/// printed at once: a large policy has 100,000 lines of findings, and stdout writes each line
/// separately when printed line by line.
pub fn findings_text(
    scenarios: &[&Scenario],
    heading: &str,
    findings: &[Finding],
    (errors, warnings, infos): (usize, usize, usize),
    caveats: &[&Caveat],
) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    writeln!(out, "{heading}")?;
    for f in findings {
        let subject = match (&f.nsg, &f.vm) {
            (Some(nsg), _) => format!(" nsg '{nsg}'"),
            (None, Some(vm)) => format!(" vm '{vm}'"),
            (None, None) => String::new(),
        };
        writeln!(out, "{}[{}]{subject}: {}", f.severity, f.code, f.message)?;
        if !f.rules.is_empty() {
            writeln!(out, "  rules: {}", rule_list(&f.rules, ", "))?;
        }
        for at in defined_at(scenarios, f) {
            writeln!(out, "  defined at: {at}")?;
        }
        writeln!(out, "  fix: {}", f.fix)?;
        for p in &f.policies {
            writeln!(out, "  see: {p}")?;
        }
    }
    let totals = if findings.is_empty() {
        "no findings".to_string()
    } else {
        format!("{errors} error(s), {warnings} warning(s), {infos} info")
    };
    writeln!(out, "{}", summary_with_caveats(&totals, caveats))?;
    Ok(out)
}

/// The rule of NSG `nsg` in `s` that a finding names as a rule of its own NSG, when `s` has it; a
/// rule `s` does not have, a default rule, a rule the finding places in a named NSG (of
/// `NSG003`'s two levels) and an admin rule are `None`, and the NSG stands for them.
fn named_rule<'r>(s: &Scenario, nsg: &str, named: &'r FindingRule) -> Option<&'r RuleRef> {
    let (None, rule) = named.nsg_rule()? else { return None };
    let id = s.topology.nsg_by_name(nsg)?;
    s.topology.nsg(id).rules.iter().any(|r| r.rule_ref() == *rule).then_some(rule)
}

/// Where the finding's rules (else its NSG) are defined in what the scenarios were imported
/// from (a Terraform plan's `file:line:column address`, a template's `file:line:column path`),
/// each once: for each rule, in the plan if it says, else in the live estate of `--live`.
fn defined_at(scenarios: &[&Scenario], f: &Finding) -> Vec<String> {
    let Some(nsg) = &f.nsg else { return Vec::new() };
    let mut out: Vec<String> = Vec::new();
    let rules: Vec<Option<&FindingRule>> =
        if f.rules.is_empty() { vec![None] } else { f.rules.iter().map(Some).collect() };
    for rule in rules {
        if let Some(at) =
            scenarios.iter().find_map(|s| s.origin_of(nsg, rule.and_then(|r| named_rule(s, nsg, r))))
            && !out.contains(&at)
        {
            out.push(at);
        }
    }
    out
}

/// One finding as `lint --format json` writes it, with where its rules (else its NSG) are
/// defined in what `scenarios` were imported from.
pub fn finding_json(scenarios: &[&Scenario], f: &Finding) -> serde_json::Value {
    json!({
        "defined_at": defined_at(scenarios, f),
        "severity": f.severity.to_string(),
        "code": f.code.as_str(),
        "nsg": f.nsg,
        "vm": f.vm,
        "rules": f.rules.iter().map(FindingRule::to_string).collect::<Vec<_>>(),
        "message": f.message,
        "fix": f.fix,
        "policies": f.policies,
    })
}

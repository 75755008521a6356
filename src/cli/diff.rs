//! `nsgsim diff OLD NEW [--at OFFSET] [--format json|sarif] [--fail-on-change] [--strict]`: exactly
//! which flows change verdict for each VM present in both policies, with the deciding rules on
//! each side, what an apply of the new policy does to the rules Defender's JIT owns in the old
//! one (`analysis::jit_drift`), and both scenarios' caveats.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::common::{at_offset, load, print_caveats, print_json, replay, strict_code};
use super::{EXIT_FAILED, EXIT_OK, GateFormat};
use crate::analysis::chain::Decider;
use crate::analysis::diff::{Change, PolicyDiff, diff};
use crate::analysis::jit_drift::{JitDrift, jit_drift};
use crate::analysis::space::{describe_box, describe_protocols};
use crate::matcher::MatchBox;
use crate::model::Caveat;
use crate::report::{
    SarifLevel, SarifLog, SarifResult, SarifRule, caveat_json, lint_sarif, summary_with_caveats,
};
use crate::scenario::Scenario;
use crate::scenario::{Part, Place};
use crate::sim::Duration;

/// Arguments of `nsgsim diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy before (scenario file).
    pub old: PathBuf,
    /// The policy after (scenario file).
    pub new: PathBuf,
    /// Compare both policies at this offset of their timelines (default: the start).
    #[arg(long, allow_hyphen_values = true)]
    pub at: Option<String>,
    /// Exit 1 when any verdict changes (for CI gates); without it, diff exits 0.
    #[arg(long)]
    pub fail_on_change: bool,
    /// Exit 1 when either scenario has caveats (things that can change traffic were not
    /// modelled), so that CI refuses to compare incomplete models.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
    /// Microsoft's service-tag file (`--service-tags FILE`).
    #[command(flatten)]
    pub tags: super::common::TagArgs,
}

fn decider_json(d: &Decider) -> serde_json::Value {
    json!({"nsg": d.nsg, "level": d.level.as_str(), "rule": d.rule.to_string(), "priority": d.priority, "access": d.access.to_string()})
}

fn box_json(b: &MatchBox) -> serde_json::Value {
    let cidrs =
        |s: &crate::net::AddrSet| -> Vec<String> { s.to_prefixes().iter().map(|p| p.to_string()).collect() };
    let ports = |p: &crate::net::PortSet| -> Vec<String> { p.ranges().map(|r| r.to_string()).collect() };
    json!({
        "protocols": describe_protocols(&b.protocols),
        "sources": cidrs(&b.src),
        "source_ports": ports(&b.src_ports),
        "destinations": cidrs(&b.dst),
        "destination_ports": ports(&b.dst_ports),
    })
}

fn change_json(c: &Change) -> serde_json::Value {
    json!({
        "vm": c.vm,
        "nic": c.nic,
        "primary_nic": c.primary,
        "direction": c.direction.to_string(),
        "old_verdict": c.old_verdict.to_string(),
        "new_verdict": c.new_verdict.to_string(),
        "old_rules": c.old.iter().map(decider_json).collect::<Vec<_>>(),
        "new_rules": c.new.iter().map(decider_json).collect::<Vec<_>>(),
        "flows": c.boxes.iter().map(box_json).collect::<Vec<_>>(),
    })
}

/// One JIT drift as JSON: its kind, where, the sentence, and the planned rules that let the
/// Internet in.
fn drift_json(d: &JitDrift) -> serde_json::Value {
    let rules: Vec<String> = d.rules().iter().map(ToString::to_string).collect();
    let mut value = json!({"vm": d.vm(), "nsg": d.nsg(), "rules": rules, "message": d.to_string()});
    let (kind, extra) = match d {
        JitDrift::DenyRuleRemoved { deny, open, was_open } => (
            "deny_rule_removed",
            json!({"rule": deny.rule, "priority": deny.priority, "port": deny.port, "level": deny.level.as_str(),
                   "open_by": open.iter().map(|o| o.deciders.iter().map(decider_json).collect::<Vec<_>>()).collect::<Vec<_>>(),
                   "was_open": was_open}),
        ),
        JitDrift::DenyRulePreceded { deny, open } => (
            "deny_rule_preceded",
            json!({"rule": deny.rule, "priority": deny.priority, "port": deny.port, "level": deny.level.as_str(),
                   "open_by": open.iter().map(|o| o.deciders.iter().map(decider_json).collect::<Vec<_>>()).collect::<Vec<_>>()}),
        ),
        JitDrift::DenyRuleAbsent { port, level, policy, from, open, .. } => (
            "deny_rule_absent",
            json!({"port": port, "level": level.as_str(), "policy": policy, "in_force_from": from,
                   "open_by": open.iter().map(|o| o.deciders.iter().map(decider_json).collect::<Vec<_>>()).collect::<Vec<_>>()}),
        ),
        JitDrift::GrantAbsent { port, requester, source, expires_at, from, .. } => (
            "grant_absent",
            json!({"port": port, "requestor": requester, "source": source, "expires_at": expires_at.to_string(), "in_force_from": from}),
        ),
        JitDrift::GrantRemoved { rule, port, requester, source, expires_at, .. } => (
            "grant_removed",
            json!({"rule": rule, "port": port, "requestor": requester, "source": source, "expires_at": expires_at.to_string()}),
        ),
    };
    value["kind"] = kind.into();
    if let (Some(v), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        v.extend(extra.clone());
    }
    value
}

/// Where the user rules of `ds` are defined in what `s` was imported from (a Terraform plan's
/// `file:line:column address`, a template's `file:line:column JSON path`), each once.
fn origins(s: &Scenario, ds: &[Decider]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in ds.iter().filter(|d| d.user_rule()) {
        if let Some(at) = d.nsg.as_deref().and_then(|nsg| s.origin_of(nsg, Some(&d.rule)))
            && !out.contains(&at)
        {
            out.push(at);
        }
    }
    out
}

/// The deciders of the planned rules a drift names (those that let the Internet in).
fn drift_deciders(d: &JitDrift) -> Vec<Decider> {
    match d {
        JitDrift::DenyRuleRemoved { open, .. }
        | JitDrift::DenyRulePreceded { open, .. }
        | JitDrift::DenyRuleAbsent { open, .. } => {
            open.iter().flat_map(|o| o.deciders.iter().cloned()).collect()
        }
        _ => Vec::new(),
    }
}

fn rules(ds: &[Decider]) -> String {
    ds.iter().map(Decider::to_string).collect::<Vec<_>>().join(" then ")
}

/// The verdict changes as text: what was not compared, then one block per change, then the
/// totals, which name both sides' caveats. Built whole and printed at once (see `lint`'s
/// `findings_text`).
fn diff_text(
    (old_scenario, new_scenario): (&Scenario, &Scenario),
    old: &Path,
    new: &Path,
    at: Duration,
    d: &PolicyDiff,
    drifts: &[JitDrift],
    caveats: &[&Caveat],
) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    writeln!(out, "{} -> {} at +{at}", old.display(), new.display())?;
    for vm in &d.removed_vms {
        writeln!(out, "vm '{vm}' is only in the old policy (not compared)")?;
    }
    for vm in &d.added_vms {
        writeln!(out, "vm '{vm}' is only in the new policy (not compared)")?;
    }
    for (vm, nic) in &d.removed_nics {
        writeln!(out, "vm '{vm}': nic '{nic}' is only in the old policy (not compared)")?;
    }
    for (vm, nic) in &d.added_nics {
        writeln!(out, "vm '{vm}': nic '{nic}' is only in the new policy (not compared)")?;
    }
    for (vm, nic, a, b) in &d.moved_vms {
        writeln!(
            out,
            "vm '{vm}' nic '{nic}' moved from {a} to {b}; flows are compared with the NIC's address standing for both"
        )?;
    }
    for c in &d.changes {
        let nic = if c.primary { String::new() } else { format!(" nic '{}'", c.nic) };
        writeln!(
            out,
            "{}{nic} {}: {} -> {}",
            c.vm,
            c.direction.to_string().to_lowercase(),
            c.old_verdict,
            c.new_verdict
        )?;
        for b in &c.boxes {
            writeln!(out, "  {}", describe_box(b))?;
        }
        writeln!(out, "  before: {}", rules(&c.old))?;
        writeln!(out, "  after:  {}", rules(&c.new))?;
        for at in origins(old_scenario, &c.old) {
            writeln!(out, "  before, defined at: {at}")?;
        }
        for at in origins(new_scenario, &c.new) {
            writeln!(out, "  after, defined at: {at}")?;
        }
    }
    if !drifts.is_empty() {
        writeln!(out, "rules Defender for Cloud's JIT owns in {}:", old.display())?;
        for drift in drifts {
            writeln!(out, "  {drift}")?;
            for at in origins(new_scenario, &drift_deciders(drift)) {
                writeln!(out, "    defined at: {at}")?;
            }
        }
    }
    let totals = if d.is_empty() {
        "no verdict changes".to_string()
    } else {
        let boxes: usize = d.changes.iter().map(|c| c.boxes.len()).sum();
        format!("{} change(s) in {boxes} flow box(es)", d.changes.len())
    };
    writeln!(out, "{}", summary_with_caveats(&totals, caveats))?;
    Ok(out)
}

/// The places of a side's deciding user rules (where an import read them first), in `scenario`.
fn decider_places(deciders: &[Decider], scenario: &Scenario) -> Vec<Place> {
    deciders
        .iter()
        .filter_map(|d| Some(Part::Rule { nsg: d.nsg.as_deref()?, rule: d.rule.user_rule_name()? }))
        .flat_map(|part| scenario.places.of(&part))
        .collect()
}

/// The diff as SARIF: one `DIFF001-verdict-change` result per changed flow set (an error under
/// `--fail-on-change`, else a warning), located at the rules that decide it in the new policy
/// (then the VM, then the old rules), with an example flow and both sides' deciding rules.
fn diff_sarif(
    args: &Args,
    d: &PolicyDiff,
    (old, new): (&Scenario, &Scenario),
    caveats: &[&Caveat],
) -> SarifLog {
    let mut log = lint_sarif(&args.new, &[], caveats, &new.places);
    log.command = "diff".into();
    let level = if args.fail_on_change { SarifLevel::Error } else { SarifLevel::Warning };
    let mut results = Vec::new();
    for c in &d.changes {
        log.rule(SarifRule {
            id: "DIFF001-verdict-change".into(),
            short: "A flow changes verdict".into(),
            full: "Between the old and the new policy, these flows of the VM change verdict (Allow to Deny or Deny to Allow); the message names an example flow and the rules that decide it on each side.".into(),
            help_uri: Some("https://learn.microsoft.com/en-us/azure/virtual-network/network-security-group-how-it-works".into()),
            level,
        });
        let rules = |ds: &[Decider]| ds.iter().map(Decider::to_string).collect::<Vec<_>>().join(" then ");
        let example = c.boxes.first().map(describe_box).unwrap_or_default();
        // What changed first: the new side's deciders the old side lacks (a default rule: its
        // NSG), then the old side's the new lacks (a rule removed), then the VM and the rest.
        let added: Vec<Decider> = c.new.iter().filter(|d| !c.old.contains(d)).cloned().collect();
        let removed: Vec<Decider> = c.old.iter().filter(|d| !c.new.contains(d)).cloned().collect();
        let mut places = decider_places(&added, new);
        places.extend(
            added
                .iter()
                .filter(|d| !d.user_rule())
                .filter_map(|d| d.nsg.as_deref())
                .flat_map(|n| new.places.of(&Part::Nsg(n))),
        );
        places.extend(decider_places(&removed, old));
        places.extend(new.places.of(&Part::Vm(&c.vm)));
        places.extend(decider_places(&c.new, new));
        let mut seen = Vec::new();
        places.retain(|p| {
            if seen.contains(p) {
                false
            } else {
                seen.push(p.clone());
                true
            }
        });
        places.sort_by_key(|p| p.in_scenario);
        results.push(SarifResult {
            rule_id: "DIFF001-verdict-change".into(),
            level,
            message: format!(
                "{} flows of VM '{}' (NIC '{}') change from {} to {}, e.g. {example} ({} flow box(es)). Before: {}. After: {}.",
                c.direction, c.vm, c.nic, c.old_verdict, c.new_verdict, c.boxes.len(), rules(&c.old), rules(&c.new)
            ),
            places,
            identity: format!("{}|{}|{}|{:?}", c.vm, c.nic, c.direction, c.boxes.first().map(describe_box)),
        });
    }
    results.append(&mut log.results);
    log.results = results;
    log
}

/// Runs the command: 0, or 1 with `--fail-on-change` when some verdict changes (or with
/// `--strict` when either scenario has caveats).
pub fn run(args: &Args) -> anyhow::Result<u8> {
    // The offset is checked against each scenario's calendar (their starts may differ).
    let state = |path: &PathBuf| -> anyhow::Result<(Scenario, crate::sim::Simulator, Duration)> {
        let s = load(path, &args.tags)?;
        let at = at_offset(&s, args.at.as_deref())?;
        let sim = replay(&s, at)?;
        Ok((s, sim, at))
    };
    let ((old_scenario, old, at), (new_scenario, new, _)) = (state(&args.old)?, state(&args.new)?);
    let d = diff(old.topology(), new.topology());
    let drifts = jit_drift(old.topology(), old.jit(), new.topology());
    // A diff compares every VM of both, so every caveat of either side concerns it.
    let (old_caveats, new_caveats): (Vec<&Caveat>, Vec<&Caveat>) =
        (old_scenario.caveats.iter().collect(), new_scenario.caveats.iter().collect());
    let both: Vec<&Caveat> = old_caveats.iter().chain(&new_caveats).copied().collect();
    // In JSON, each caveat says which side it belongs to.
    let sided = |side: &'static str, caveats: &[&Caveat]| -> Vec<serde_json::Value> {
        caveats
            .iter()
            .map(|c| {
                let mut value = caveat_json(c);
                value["scenario"] = side.into();
                value
            })
            .collect()
    };
    match args.format {
        GateFormat::Sarif => {
            let log = diff_sarif(args, &d, (&old_scenario, &new_scenario), &both);
            super::common::print_sarif(&log)?;
        }
        GateFormat::Text => print!(
            "{}",
            diff_text((&old_scenario, &new_scenario), &args.old, &args.new, at, &d, &drifts, &both)?
        ),
        GateFormat::Json => print_json(&json!({
            "old": args.old.display().to_string(),
            "new": args.new.display().to_string(),
            "at": at.to_string(),
            "changes": d.changes.iter().map(|c| {
                let mut value = change_json(c);
                value["old_defined_at"] = origins(&old_scenario, &c.old).into();
                value["new_defined_at"] = origins(&new_scenario, &c.new).into();
                value
            }).collect::<Vec<_>>(),
            "added_vms": d.added_vms,
            "removed_vms": d.removed_vms,
            "moved_vms": d.moved_vms.iter().map(|(v, n, a, b)| json!({"vm": v, "nic": n, "old": a, "new": b})).collect::<Vec<_>>(),
            "added_nics": d.added_nics.iter().map(|(v, n)| json!({"vm": v, "nic": n})).collect::<Vec<_>>(),
            "jit": drifts.iter().map(|x| {
                let mut value = drift_json(x);
                value["defined_at"] = origins(&new_scenario, &drift_deciders(x)).into();
                value
            }).collect::<Vec<_>>(),
            "removed_nics": d.removed_nics.iter().map(|(v, n)| json!({"vm": v, "nic": n})).collect::<Vec<_>>(),
            "caveats": sided("old", &old_caveats).into_iter().chain(sided("new", &new_caveats)).collect::<Vec<_>>(),
        })),
    }
    print_caveats(&args.old, &old_caveats);
    print_caveats(&args.new, &new_caveats);
    let code = if args.fail_on_change && !d.is_empty() { EXIT_FAILED } else { EXIT_OK };
    Ok(strict_code(args.strict, both.len(), code))
}

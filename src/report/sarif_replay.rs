//! `replay CURRENT LOGS --against PROPOSED --format sarif`: the observed paths the proposal would
//! break, as SARIF results located where the user edits the proposal.
//!
//! Why: a reviewer of a change to the NSGs wants the rule that would cut observed traffic
//! annotated in the change itself, with the flow-log record that proves the traffic exists. Each
//! path allowed now and denied under the proposal is one `REPLAY001-flow-would-break` result: at
//! the proposal's deciding rule (where it was imported from, then its scenario line; a default
//! rule at its NSG), with the first flow-log record of the path as a related location. A path
//! nsgsim cannot place in one of the scenarios is a `REPLAY002-indeterminate` warning, and paths
//! left unlisted are a notification, so that code scanning never shows an all-clear the replay
//! cannot give.

use std::path::{Path, PathBuf};

use crate::model::Caveat;
use crate::nsg::{Access, RuleRef};
use crate::replay::{Impact, ImpactClass, PathImpact, Side};
use crate::scenario::{Part, Place, Places};

use super::sarif::{SarifLevel, SarifLog, SarifResult, SarifRule};
use super::sarif_rules::lint_sarif;

/// The id of a path the proposal would break.
pub const BREAK_RULE: &str = "REPLAY001-flow-would-break";
/// The id of a path nsgsim cannot place in one of the scenarios.
pub const INDETERMINATE_RULE: &str = "REPLAY002-indeterminate";

/// Microsoft's page on the feature `--against` does offline (Traffic Analytics' rule impact
/// analyzer).
const IMPACT_PAGE: &str =
    "https://learn.microsoft.com/en-us/azure/network-watcher/traffic-analytics-rule-impact-analyzer";

/// How one scenario decides an observed path, for people:
/// `Allow by nsg-web securityRules/x (priority 100)`, or `not placed in this scenario`.
pub fn side_text(side: Option<&Side>) -> String {
    let Some(s) = side else { return "not placed in this scenario".into() };
    let mut out = s.access.to_string();
    match (&s.nsg, &s.rule) {
        (Some(nsg), Some(rule)) => out.push_str(&format!(" by {nsg} {rule}")),
        (None, Some(rule)) => out.push_str(&format!(" by {rule}")),
        (Some(nsg), None) => out.push_str(&format!(" at {nsg}")),
        (None, None) => {}
    }
    if let Some(p) = s.priority {
        out.push_str(&format!(" (priority {p})"));
    }
    out
}

/// Where the proposal's deciding rule is: the rule (a user rule), else its NSG, each imported
/// place first.
fn rule_places(side: Option<&Side>, places: &Places) -> Vec<Place> {
    let Some(Side { nsg: Some(nsg), rule, .. }) = side else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(name) = rule.as_ref().and_then(RuleRef::user_rule_name) {
        out.extend(places.of(&Part::Rule { nsg, rule: name }));
    }
    if out.is_empty() {
        out.extend(places.of(&Part::Nsg(nsg)));
    }
    out.sort_by_key(|p| p.in_scenario);
    out
}

/// The place of a flow-log record's origin as the replay reader writes it (`file:LINE` for a CSV
/// row, `file: JSON path` for a flow-log tuple, whose line the streaming reader does not keep).
fn record_place(origin: &str) -> Place {
    // A CSV record is a whole row: it starts at the row's first column.
    let at = |file: &str, line: Option<usize>, path: &str| Place {
        file: PathBuf::from(file),
        position: line.map(|line| crate::position::Position::new(line, 1)),
        path: path.to_string(),
        address: None,
        in_scenario: false,
    };
    if let Some((file, path)) = origin.split_once(": ") {
        return at(file, None, path);
    }
    match origin.rsplit_once(':') {
        Some((file, line)) if line.parse::<usize>().is_ok() => at(file, line.parse().ok(), ""),
        _ => at(origin, None, ""),
    }
}

/// `3 observed flow(s) on Tcp 10.0.1.4 -> 10.1.1.4:22 (first: PT1H.json: records[0]…)`.
fn observed(p: &PathImpact) -> String {
    format!(
        "{} observed flow(s) on {} {} -> {}:{} (first: {})",
        p.flows, p.path.protocol, p.path.src, p.path.dst, p.path.dst_port, p.record
    )
}

/// The replay's impact as a SARIF log on `proposed` (with `places`, the proposal's): one result
/// per path that breaks (an error under `--fail-on-break`, else a warning), one warning per
/// indeterminate path, the totals and unlisted paths as notifications, then `caveats`.
pub fn replay_sarif(
    proposed: &Path,
    impact: &Impact,
    places: &Places,
    caveats: &[&Caveat],
    fail_on_break: bool,
) -> SarifLog {
    let mut log = lint_sarif(proposed, &[], caveats, places);
    log.command = "replay".into();
    let level = if fail_on_break { SarifLevel::Error } else { SarifLevel::Warning };
    let mut results = Vec::new();
    for p in &impact.paths {
        let breaks = matches!((&p.before, &p.after), (Some(b), Some(a)) if b.access == Access::Allow && a.access == Access::Deny);
        let (rule_id, level, message) = if breaks {
            log.rule(SarifRule {
                id: BREAK_RULE.into(),
                short: "Observed traffic the proposal would deny".into(),
                full: "Flows observed in the flow logs are allowed by the current policy and would be denied by the proposed one; the result is located at the proposed rule that denies them, with the first flow-log record of the path as a related location.".into(),
                help_uri: Some(IMPACT_PAGE.into()),
                level,
            });
            let message = format!(
                "{} are allowed now ({}) and would be denied under {} ({}).",
                observed(p),
                side_text(p.before.as_ref()),
                proposed.display(),
                side_text(p.after.as_ref())
            );
            (BREAK_RULE, level, message)
        } else if p.class == ImpactClass::Indeterminate {
            log.rule(SarifRule {
                id: INDETERMINATE_RULE.into(),
                short: "Observed traffic nsgsim cannot place".into(),
                full: "Flows observed in the flow logs name an address, NIC or logging NSG that one of the scenarios does not have, so nsgsim cannot say what the proposal does to them.".into(),
                help_uri: Some(IMPACT_PAGE.into()),
                level: SarifLevel::Warning,
            });
            let message = format!(
                "{} cannot be placed in both scenarios: now {}, under {} {}; nsgsim cannot say whether the proposal breaks them.",
                observed(p),
                side_text(p.before.as_ref()),
                proposed.display(),
                side_text(p.after.as_ref())
            );
            (INDETERMINATE_RULE, SarifLevel::Warning, message)
        } else {
            continue;
        };
        let mut at = rule_places(p.after.as_ref(), places);
        at.push(record_place(&p.record));
        results.push(SarifResult {
            rule_id: rule_id.into(),
            level,
            message,
            places: at,
            identity: format!("{}|{}|{}|{}", p.path.protocol, p.path.src, p.path.dst, p.path.dst_port),
        });
    }
    let flows = |c: ImpactClass| impact.flows.get(&c).copied().unwrap_or(0);
    log.notes.push(format!(
        "replay against {}: {} observed flow(s) allowed now would be denied, {} denied now would be allowed; {} impacted, {} not impacted, {} indeterminate",
        proposed.display(),
        impact.breaks,
        impact.passes,
        flows(ImpactClass::Impacted),
        flows(ImpactClass::NotImpacted),
        flows(ImpactClass::Indeterminate)
    ));
    if impact.paths_not_listed > 0 {
        log.notes.push(format!(
            "{} impacted or indeterminate flow(s) on paths past the listing limit are counted but have no result of their own",
            impact.paths_not_listed
        ));
    }
    results.sort_by_key(|r| r.level);
    results.append(&mut log.results);
    log.results = results;
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_origins_become_places() {
        let csv = record_place("flows.csv:12");
        assert_eq!(
            (csv.file.to_str(), csv.position, csv.path.as_str()),
            (Some("flows.csv"), Some(crate::position::Position::new(12, 1)), "")
        );
        let json = record_place("PT1H.json: records[0].properties.flows[1].flows[0].flowTuples[3]");
        assert_eq!(
            (json.file.to_str(), json.position, json.path.as_str()),
            (Some("PT1H.json"), None, "records[0].properties.flows[1].flows[0].flowTuples[3]")
        );
        assert_eq!(record_place("stdin").file.to_str(), Some("stdin"));
    }
}

//! SARIF 2.1.0, the format code-scanning tools read (GitHub code scanning, Azure DevOps, IDEs):
//! findings of `lint`, failed cases of `test`, changed flows of `diff` and broken paths of
//! `replay --against`, each located where the user edits.
//!
//! The commands turn their outcomes into [`SarifResult`]s, each with the [`Place`]s of the parts
//! it is about (the template line an import recorded first, the scenario line next); this module
//! writes the log. A result's first place is its location; the others are related locations. A
//! path under the current directory is written relative to it (`uriBaseId` `%SRCROOT%`, as
//! GitHub resolves paths against the repository's root), any other as a `file://` URI.
//!
//! GitHub documents hard limits on uploads ("SARIF results exceed hard limit", docs.github.com):
//! 20 runs per file, 25,000 results per run, 1,000 locations per result. Results beyond 25,000
//! go to further runs of the same tool, each with its own `automationDetails.id` (one category
//! each, so that code scanning does not merge them); beyond 20 runs they are left out and the
//! log says how many (a notification, and the property `nsgsim/resultsLeftOut`): never silently.

use std::fmt::Write as _;
use std::path::{Component, Path};

use serde_json::{Value, json};

use crate::scenario::Place;

/// GitHub's limit on runs per SARIF file.
pub const GITHUB_MAX_RUNS: usize = 20;
/// GitHub's limit on results per run.
pub const GITHUB_MAX_RESULTS_PER_RUN: usize = 25_000;
/// GitHub's limit on locations per result (related locations are kept under it too).
pub const GITHUB_MAX_LOCATIONS_PER_RESULT: usize = 1_000;

/// SARIF's `level` of a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SarifLevel {
    /// `error`: the gate fails.
    Error,
    /// `warning`.
    Warning,
    /// `note`: information.
    Note,
}

impl SarifLevel {
    fn as_str(self) -> &'static str {
        match self {
            SarifLevel::Error => "error",
            SarifLevel::Warning => "warning",
            SarifLevel::Note => "note",
        }
    }
}

/// A rule (SARIF's `reportingDescriptor`): a stable id, what it finds in a line and in full,
/// and Microsoft's page where one applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SarifRule {
    /// The stable id, e.g. `NSG001-shadowed-rule`.
    pub id: String,
    /// One line.
    pub short: String,
    /// The whole description.
    pub full: String,
    /// Microsoft's page about it, when one applies.
    pub help_uri: Option<String>,
    /// The level its results have by default.
    pub level: SarifLevel,
}

/// One result: its rule, level, message (with the flow or rule that proves it), and places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SarifResult {
    /// The rule's id.
    pub rule_id: String,
    /// Its level.
    pub level: SarifLevel,
    /// What was found, with the proof.
    pub message: String,
    /// Where: the first is the location, the others related locations. Empty: the scenario
    /// file given to [`SarifLog::new`].
    pub places: Vec<Place>,
    /// What identifies the result across runs (its rule and subject, not its wording).
    pub identity: String,
}

/// A whole log: the command that made it, its rules and results, and notes (the caveats).
#[derive(Clone, Debug)]
pub struct SarifLog {
    /// The nsgsim command (`lint`, `test`, `diff`, `replay`).
    pub command: String,
    /// The file the command read (a result without a place is located there).
    pub file: std::path::PathBuf,
    /// The rules its results use.
    pub rules: Vec<SarifRule>,
    /// The results, most severe first.
    pub results: Vec<SarifResult>,
    /// Tool notifications (what could not be modelled), at warning level.
    pub notes: Vec<String>,
}

impl SarifLog {
    /// An empty log of `command` on `file`.
    pub fn new(command: &str, file: &Path) -> SarifLog {
        SarifLog {
            command: command.to_string(),
            file: file.to_path_buf(),
            rules: Vec::new(),
            results: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds `rule` unless a rule of its id is there.
    pub fn rule(&mut self, rule: SarifRule) {
        if !self.rules.iter().any(|r| r.id == rule.id) {
            self.rules.push(rule);
        }
    }
}

/// Percent-encodes what a URI path may not hold (RFC 3986: unreserved characters and `/` stay).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The artifact location of `file`: relative to `base` (`%SRCROOT%`) when under it, else an
/// absolute `file://` URI.
fn artifact(file: &Path, base: &Path) -> Value {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let clean = |p: &Path| -> String {
        p.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    match absolute.strip_prefix(base) {
        Ok(rel) if !rel.components().any(|c| c == Component::ParentDir) => {
            json!({"uri": encode(&clean(rel)), "uriBaseId": "%SRCROOT%"})
        }
        _ => {
            let shown = absolute.to_string_lossy().replace('\\', "/");
            let shown = if shown.starts_with('/') { shown } else { format!("/{shown}") };
            json!({"uri": format!("file://{}", encode(&shown))})
        }
    }
}

fn location(place: &Place, base: &Path, id: Option<usize>) -> Value {
    let mut physical = json!({"artifactLocation": artifact(&place.file, base)});
    // GitHub needs a line to show an annotation; a place without one is the file's first line.
    let mut region = json!({"startLine": place.position.map_or(1, |p| p.line)});
    if let Some(p) = place.position {
        region["startColumn"] = json!(p.column);
    }
    physical["region"] = region;
    let mut out = json!({"physicalLocation": physical});
    if !place.path.is_empty() {
        let kind = if place.in_scenario { "scenario field" } else { "imported from" };
        out["logicalLocations"] = json!([{"fullyQualifiedName": place.path, "kind": "member"}]);
        out["message"] = json!({"text": format!("{kind}: {}", place.path)});
    }
    if let Some(id) = id {
        out["id"] = json!(id);
    }
    out
}

fn rule_json(r: &SarifRule) -> Value {
    let mut out = json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": {"text": r.short},
        "fullDescription": {"text": r.full},
        "defaultConfiguration": {"level": r.level.as_str()},
        "help": {"text": r.full},
        "properties": {"tags": ["security", "azure", "network"]},
    });
    if let Some(uri) = &r.help_uri {
        out["helpUri"] = json!(uri);
    }
    out
}

/// A stable fingerprint of `identity` (hex SHA-1).
fn fingerprint(identity: &str) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(identity.as_bytes());
    digest.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn result_json(r: &SarifResult, rule_index: usize, log: &SarifLog, base: &Path) -> Value {
    let fallback = [Place { file: log.file.clone(), position: None, path: String::new(), in_scenario: true }];
    let places = if r.places.is_empty() { &fallback[..] } else { &r.places[..] };
    let related: Vec<Value> = places[1..]
        .iter()
        .take(GITHUB_MAX_LOCATIONS_PER_RESULT - 1)
        .enumerate()
        .map(|(i, p)| location(p, base, Some(i + 1)))
        .collect();
    let mut out = json!({
        "ruleId": r.rule_id,
        "ruleIndex": rule_index,
        "level": r.level.as_str(),
        "message": {"text": r.message},
        "locations": [location(&places[0], base, None)],
        "partialFingerprints": {"nsgsimIdentity/v1": fingerprint(&format!("{}\u{0}{}", r.rule_id, r.identity))},
    });
    if !related.is_empty() {
        out["relatedLocations"] = json!(related);
    }
    out
}

/// The log as SARIF 2.1.0 JSON, split into runs within GitHub's limits (see the module's
/// documentation); `base` is the directory relative paths are written against (the current
/// directory: a CI job runs at the repository's root).
pub fn sarif_json(log: &SarifLog, base: &Path) -> Value {
    sarif_json_within(log, base, GITHUB_MAX_RESULTS_PER_RUN, GITHUB_MAX_RUNS)
}

/// [`sarif_json`] with the limits given (the tests use small ones).
fn sarif_json_within(log: &SarifLog, base: &Path, per_run: usize, max_runs: usize) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let driver = json!({
        "name": "nsgsim",
        "version": version,
        "semanticVersion": version,
        "informationUri": "https://learn.microsoft.com/en-us/azure/virtual-network/network-security-groups-overview",
        "rules": log.rules.iter().map(rule_json).collect::<Vec<_>>(),
    });
    let index = |id: &str| log.rules.iter().position(|r| r.id == id).unwrap_or(0);
    let chunks: Vec<&[SarifResult]> =
        if log.results.is_empty() { vec![&[][..]] } else { log.results.chunks(per_run).collect() };
    let parts = chunks.len().min(max_runs);
    let left_out: usize = chunks.iter().skip(max_runs).map(|c| c.len()).sum();
    let mut notes: Vec<String> = log.notes.clone();
    if left_out > 0 {
        notes.push(format!(
            "{left_out} result(s) left out: GitHub accepts at most {max_runs} runs of {per_run} results per file; run `nsgsim {} --format json` for all of them",
            log.command
        ));
    }
    let base_uri = format!("file://{}/", encode(&base.to_string_lossy().replace('\\', "/")));
    let runs: Vec<Value> = chunks
        .iter()
        .take(max_runs)
        .enumerate()
        .map(|(i, chunk)| {
            let category = if parts == 1 {
                format!("nsgsim/{}/", log.command)
            } else {
                format!("nsgsim/{}/part-{}-of-{parts}/", log.command, i + 1)
            };
            let notifications: Vec<Value> = notes
                .iter()
                .map(|n| json!({"level": "warning", "message": {"text": n}}))
                .collect();
            let mut run = json!({
                "tool": {"driver": driver.clone()},
                "automationDetails": {"id": category},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": base_uri}},
                "invocations": [{
                    "executionSuccessful": true,
                    "toolExecutionNotifications": notifications,
                }],
                "results": chunk.iter().map(|r| result_json(r, index(&r.rule_id), log, base)).collect::<Vec<_>>(),
                "columnKind": "unicodeCodePoints",
            });
            if left_out > 0 {
                run["properties"] = json!({"nsgsim/resultsLeftOut": left_out});
            }
            run
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(file: &str, line: usize) -> Place {
        Place {
            file: file.into(),
            position: Some(crate::position::Position::new(line, 3)),
            path: "nsgs[0]".into(),
            in_scenario: true,
        }
    }

    fn log(n: usize) -> SarifLog {
        let mut log = SarifLog::new("lint", Path::new("/repo/prod.ron"));
        log.rule(SarifRule {
            id: "NSG001-shadowed-rule".into(),
            short: "s".into(),
            full: "f".into(),
            help_uri: None,
            level: SarifLevel::Warning,
        });
        for i in 0..n {
            log.results.push(SarifResult {
                rule_id: "NSG001-shadowed-rule".into(),
                level: SarifLevel::Warning,
                message: format!("m{i}"),
                places: vec![place("/repo/infra/main.json", 7), place("/elsewhere/a b.ron", 2)],
                identity: format!("{i}"),
            });
        }
        log
    }

    #[test]
    fn paths_under_the_base_are_relative_and_others_absolute_uris() {
        let v = sarif_json(&log(1), Path::new("/repo"));
        let r = &v["runs"][0]["results"][0];
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "infra/main.json");
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 7);
        assert_eq!(
            r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///elsewhere/a%20b.ron"
        );
        assert_eq!(v["runs"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn results_are_split_into_runs_within_githubs_limits_and_the_rest_is_named() {
        let v = sarif_json(&log(GITHUB_MAX_RESULTS_PER_RUN + 1), Path::new("/repo"));
        let runs = v["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["results"].as_array().map(Vec::len), Some(GITHUB_MAX_RESULTS_PER_RUN));
        assert_ne!(runs[0]["automationDetails"]["id"], runs[1]["automationDetails"]["id"]);
        // Beyond the runs allowed (here 3 of 10), the rest are counted, not dropped silently.
        let over = sarif_json_within(&log(35), Path::new("/repo"), 10, 3);
        assert_eq!(over["runs"].as_array().map(Vec::len), Some(3));
        assert_eq!(over["runs"][0]["properties"]["nsgsim/resultsLeftOut"], 5);
        let note =
            over["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].to_string();
        assert!(note.contains("5 result(s) left out"), "{note}");
    }

    #[test]
    fn fingerprints_follow_the_identity_not_the_wording() {
        let mut a = log(1);
        let v1 = sarif_json(&a, Path::new("/repo"));
        a.results[0].message = "reworded".into();
        let v2 = sarif_json(&a, Path::new("/repo"));
        let fp = |v: &Value| v["runs"][0]["results"][0]["partialFingerprints"].clone();
        assert_eq!(fp(&v1), fp(&v2));
    }
}

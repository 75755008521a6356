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
use std::path::Path;

use serde_json::Value;

use crate::scenario::Place;

pub use super::sarif_write::write_sarif;
use super::sarif_write::write_sarif_within;

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
    /// The level as SARIF writes it.
    pub fn as_str(self) -> &'static str {
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
pub(super) fn encode(path: &str) -> String {
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

/// The log as SARIF 2.1.0 JSON, split into runs within GitHub's limits (see the module's
/// documentation); `base` is the directory relative paths are written against (the current
/// directory: a CI job runs at the repository's root). The commands write the log with
/// [`write_sarif`] instead, without building the tree; this reads those bytes back, for callers
/// and tests that inspect the log.
pub fn sarif_json(log: &SarifLog, base: &Path) -> std::io::Result<Value> {
    sarif_json_within(log, base, GITHUB_MAX_RESULTS_PER_RUN, GITHUB_MAX_RUNS)
}

/// [`sarif_json`] with the limits given (the tests use small ones).
fn sarif_json_within(log: &SarifLog, base: &Path, per_run: usize, max_runs: usize) -> std::io::Result<Value> {
    let mut bytes = Vec::new();
    write_sarif_within(log, base, per_run, max_runs, &mut bytes)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::from)
}

/// A stable fingerprint of `identity` (hex SHA-1).
pub(super) fn fingerprint(identity: &str) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(identity.as_bytes());
    digest.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
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
            address: None,
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
        let v = sarif_json(&log(1), Path::new("/repo")).expect("writes");
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
        let v = sarif_json(&log(GITHUB_MAX_RESULTS_PER_RUN + 1), Path::new("/repo")).expect("writes");
        let runs = v["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["results"].as_array().map(Vec::len), Some(GITHUB_MAX_RESULTS_PER_RUN));
        assert_ne!(runs[0]["automationDetails"]["id"], runs[1]["automationDetails"]["id"]);
        // Beyond the runs allowed (here 3 of 10), the rest are counted, not dropped silently.
        let over = sarif_json_within(&log(35), Path::new("/repo"), 10, 3).expect("writes");
        assert_eq!(over["runs"].as_array().map(Vec::len), Some(3));
        assert_eq!(over["runs"][0]["properties"]["nsgsim/resultsLeftOut"], 5);
        let note =
            over["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].to_string();
        assert!(note.contains("5 result(s) left out"), "{note}");
    }

    #[test]
    fn fingerprints_follow_the_identity_not_the_wording() {
        let mut a = log(1);
        let v1 = sarif_json(&a, Path::new("/repo")).expect("writes");
        a.results[0].message = "reworded".into();
        let v2 = sarif_json(&a, Path::new("/repo")).expect("writes");
        let fp = |v: &Value| v["runs"][0]["results"][0]["partialFingerprints"].clone();
        assert_eq!(fp(&v1), fp(&v2));
    }
}

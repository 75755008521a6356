//! The reference for [`super::sarif_write`]: the SARIF log built as a `serde_json::Value` tree,
//! exactly as nsgsim wrote it before the streaming writer, and the tests that the writer's bytes
//! are `serde_json`'s bytes of this tree on logs that use every optional member (related
//! locations, logical locations, columns, help URIs, notes, runs split and results left out,
//! strings that need escaping, paths inside and outside the base).

use std::path::{Component, Path};

use serde_json::{Value, json};

use crate::scenario::Place;

use super::sarif::{GITHUB_MAX_LOCATIONS_PER_RESULT, SarifLog, SarifResult, SarifRule, encode, fingerprint};
use super::sarif_write::write_sarif_within;

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

fn result_json(r: &SarifResult, rule_index: usize, log: &SarifLog, base: &Path) -> Value {
    let fallback = [Place::in_scenario_file(&log.file, None)];
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

/// The log as a `Value` tree, as nsgsim built it before [`write_sarif_within`] (the reference).
pub(super) fn reference_json_within(log: &SarifLog, base: &Path, per_run: usize, max_runs: usize) -> Value {
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
    use crate::report::{SarifLevel, write_sarif};

    fn place(file: &str, position: Option<(usize, usize)>, path: &str, in_scenario: bool) -> Place {
        Place {
            file: file.into(),
            position: position.map(|(l, c)| crate::position::Position::new(l, c)),
            path: path.into(),
            address: None,
            in_scenario,
        }
    }

    /// A log with every optional member, and strings that need escaping.
    fn varied(n: usize, notes: usize) -> SarifLog {
        let mut log = SarifLog::new("lint", Path::new("/repo/prod.ron"));
        for (i, help) in [None, Some("https://learn.microsoft.com/x?a=1&b=\"q\"")].into_iter().enumerate() {
            log.rule(SarifRule {
                id: format!("NSG00{i}-rule"),
                short: format!("short {i} \u{1} é"),
                full: format!("full {i}\n\"quoted\"\t\\"),
                help_uri: help.map(str::to_string),
                level: [SarifLevel::Error, SarifLevel::Warning, SarifLevel::Note][i % 3],
            });
        }
        let many: Vec<Place> = (0..GITHUB_MAX_LOCATIONS_PER_RESULT + 3)
            .map(|k| place("/repo/a.json", Some((k + 1, 2)), "", false))
            .collect();
        for i in 0..n {
            let places = match i % 6 {
                0 => Vec::new(),
                1 => vec![place("/repo/infra/main.json", Some((7, 3)), "resources[0].x", false)],
                2 => vec![
                    place("relative dir/s.ron", None, "nsgs[1]", true),
                    place("/elsewhere/a b%.ron", Some((2, 1)), "", true),
                    place("/repo/../up.json", Some((9, 9)), "p\"q", false),
                ],
                3 => many.clone(),
                4 => vec![place("/repo/ünï cödé/x.json", Some((1, 1)), "", false)],
                _ => vec![place("C:\\win\\path.json", Some((3, 4)), "", false)],
            };
            log.results.push(SarifResult {
                rule_id: if i % 5 == 4 { "UNKNOWN".into() } else { format!("NSG00{}-rule", i % 2) },
                level: [SarifLevel::Error, SarifLevel::Warning, SarifLevel::Note][i % 3],
                message: format!("m{i} \u{7f}\u{0}\r</script>"),
                places,
                identity: format!("{i}"),
            });
        }
        log.notes = (0..notes).map(|k| format!("note {k} \"x\"")).collect();
        log
    }

    fn streamed(log: &SarifLog, base: &Path, per_run: usize, max_runs: usize) -> String {
        let mut bytes = Vec::new();
        write_sarif_within(log, base, per_run, max_runs, &mut bytes).expect("writes");
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn the_streamed_log_is_byte_for_byte_the_value_trees_serialisation() {
        let base = Path::new("/repo");
        let cases =
            [(0, 0, 10, 3), (1, 1, 10, 3), (12, 2, 5, 2), (35, 0, 10, 3), (35, 2, 10, 4), (7, 0, 25_000, 20)];
        for (n, notes, per_run, max_runs) in cases {
            let log = varied(n, notes);
            let reference = serde_json::to_string(&reference_json_within(&log, base, per_run, max_runs))
                .expect("serialises");
            assert_eq!(streamed(&log, base, per_run, max_runs), reference, "{n} results, {notes} notes");
        }
        // The public writer uses GitHub's limits.
        let log = varied(13, 1);
        let mut bytes = Vec::new();
        write_sarif(&log, base, &mut bytes).expect("writes");
        let reference = reference_json_within(
            &log,
            base,
            crate::report::GITHUB_MAX_RESULTS_PER_RUN,
            crate::report::GITHUB_MAX_RUNS,
        );
        assert_eq!(String::from_utf8(bytes).expect("UTF-8"), reference.to_string());
    }

    #[test]
    fn relative_paths_resolve_against_the_current_directory_as_before() {
        let base = std::env::current_dir().expect("a current directory");
        let log = varied(6, 0);
        let reference = serde_json::to_string(&reference_json_within(&log, &base, 4, 3)).expect("serialises");
        let text = streamed(&log, &base, 4, 3);
        assert_eq!(text, reference);
        assert!(text.contains("\"uri\":\"relative%20dir/s.ron\",\"uriBaseId\":\"%SRCROOT%\""), "{text}");
    }
}

//! The SARIF log written straight to a writer, piece by piece, as compact JSON.
//!
//! Why not a `serde_json::Value`: the 10,000-VM scenario's lint has 41,501 results (61 MB of
//! SARIF), and building that tree, serialising it and dropping it took more time than the lint
//! itself, a third of it in the allocator (issue 25's figure: the whole command under 2 s).
//! Nothing in the crate implements `Serialize` (ARCHITECTURE.md), so the objects are written by
//! hand here; strings go through `serde_json` so that escaping is exactly `serde_json`'s.
//!
//! The bytes are those `serde_json` writes for the same log built as a `Value` (keys in sorted
//! order, as `serde_json`'s map without `preserve_order` keeps them): the tests compare both on
//! logs that use every optional member. What is repeated in every run (the driver and its rules,
//! the notifications) is written once and copied; the artifact location of each file is computed
//! once (it resolves the path against the current directory).

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Component, Path};

use crate::scenario::Place;

use super::sarif::{
    GITHUB_MAX_LOCATIONS_PER_RESULT, GITHUB_MAX_RESULTS_PER_RUN, GITHUB_MAX_RUNS, SarifLog, SarifResult,
    SarifRule, encode, fingerprint,
};

/// A JSON string, escaped as `serde_json` escapes it.
fn string<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(out, s).map_err(io::Error::from)
}

/// `{"text":S}`, SARIF's message object.
fn text<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    out.write_all(b"{\"text\":")?;
    string(out, s)?;
    out.write_all(b"}")
}

/// The artifact location of `file`: relative to `base` (`%SRCROOT%`) when under it, else an
/// absolute `file://` URI.
fn artifact(file: &Path, base: &Path) -> io::Result<Vec<u8>> {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let clean = |p: &Path| -> String {
        p.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut out = Vec::new();
    match absolute.strip_prefix(base) {
        Ok(rel) if !rel.components().any(|c| c == Component::ParentDir) => {
            out.write_all(b"{\"uri\":")?;
            string(&mut out, &encode(&clean(rel)))?;
            out.write_all(b",\"uriBaseId\":\"%SRCROOT%\"}")?;
        }
        _ => {
            let shown = absolute.to_string_lossy().replace('\\', "/");
            let shown = if shown.starts_with('/') { shown } else { format!("/{shown}") };
            out.write_all(b"{\"uri\":")?;
            string(&mut out, &format!("file://{}", encode(&shown)))?;
            out.write_all(b"}")?;
        }
    }
    Ok(out)
}

/// Each file's artifact location, written once.
struct Artifacts<'a> {
    base: &'a Path,
    written: HashMap<&'a Path, Vec<u8>>,
}

impl<'a> Artifacts<'a> {
    fn get(&mut self, file: &'a Path) -> io::Result<&[u8]> {
        if !self.written.contains_key(file) {
            let bytes = artifact(file, self.base)?;
            self.written.insert(file, bytes);
        }
        Ok(self.written.get(file).map_or(&[][..], Vec::as_slice))
    }
}

/// One location (`id` for a related one). Keys in sorted order: `id`, `logicalLocations`,
/// `message`, `physicalLocation`.
fn location<'a, W: Write>(
    out: &mut W,
    place: &'a Place,
    artifacts: &mut Artifacts<'a>,
    id: Option<usize>,
) -> io::Result<()> {
    out.write_all(b"{")?;
    if let Some(id) = id {
        write!(out, "\"id\":{id},")?;
    }
    if !place.path.is_empty() {
        let kind = if place.in_scenario { "scenario field" } else { "imported from" };
        out.write_all(b"\"logicalLocations\":[{\"fullyQualifiedName\":")?;
        string(out, &place.path)?;
        out.write_all(b",\"kind\":\"member\"}],\"message\":")?;
        text(out, &format!("{kind}: {}", place.path))?;
        out.write_all(b",")?;
    }
    out.write_all(b"\"physicalLocation\":{\"artifactLocation\":")?;
    out.write_all(artifacts.get(&place.file)?)?;
    // GitHub needs a line to show an annotation; a place without one is the file's first line.
    match place.position {
        Some(p) => write!(out, ",\"region\":{{\"startColumn\":{},\"startLine\":{}}}}}}}", p.column, p.line),
        None => out.write_all(b",\"region\":{\"startLine\":1}}}"),
    }
}

/// A rule (`reportingDescriptor`). Keys in sorted order.
fn rule<W: Write>(out: &mut W, r: &SarifRule) -> io::Result<()> {
    write!(out, "{{\"defaultConfiguration\":{{\"level\":\"{}\"}},\"fullDescription\":", r.level.as_str())?;
    text(out, &r.full)?;
    out.write_all(b",\"help\":")?;
    text(out, &r.full)?;
    if let Some(uri) = &r.help_uri {
        out.write_all(b",\"helpUri\":")?;
        string(out, uri)?;
    }
    out.write_all(b",\"id\":")?;
    string(out, &r.id)?;
    out.write_all(b",\"name\":")?;
    string(out, &r.id)?;
    out.write_all(b",\"properties\":{\"tags\":[\"security\",\"azure\",\"network\"]},\"shortDescription\":")?;
    text(out, &r.short)?;
    out.write_all(b"}")
}

/// The tool's driver, with every rule of the log.
fn driver(log: &SarifLog) -> io::Result<Vec<u8>> {
    let version = env!("CARGO_PKG_VERSION");
    let mut out = Vec::new();
    out.write_all(b"{\"informationUri\":\"https://learn.microsoft.com/en-us/azure/virtual-network/network-security-groups-overview\",\"name\":\"nsgsim\",\"rules\":[")?;
    for (i, r) in log.rules.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        rule(&mut out, r)?;
    }
    out.write_all(b"],\"semanticVersion\":")?;
    string(&mut out, version)?;
    out.write_all(b",\"version\":")?;
    string(&mut out, version)?;
    out.write_all(b"}")?;
    Ok(out)
}

/// One result. Keys in sorted order: `level`, `locations`, `message`, `partialFingerprints`,
/// `relatedLocations`, `ruleId`, `ruleIndex`.
fn result<'a, W: Write>(
    out: &mut W,
    r: &'a SarifResult,
    rule_index: usize,
    fallback: &'a [Place],
    artifacts: &mut Artifacts<'a>,
) -> io::Result<()> {
    let places = if r.places.is_empty() { fallback } else { &r.places[..] };
    write!(out, "{{\"level\":\"{}\",\"locations\":[", r.level.as_str())?;
    location(out, &places[0], artifacts, None)?;
    out.write_all(b"],\"message\":")?;
    text(out, &r.message)?;
    out.write_all(b",\"partialFingerprints\":{\"nsgsimIdentity/v1\":")?;
    string(out, &fingerprint(&format!("{}\u{0}{}", r.rule_id, r.identity)))?;
    out.write_all(b"}")?;
    let related = &places[1..places.len().min(GITHUB_MAX_LOCATIONS_PER_RESULT)];
    if !related.is_empty() {
        out.write_all(b",\"relatedLocations\":[")?;
        for (i, p) in related.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            location(out, p, artifacts, Some(i + 1))?;
        }
        out.write_all(b"]")?;
    }
    out.write_all(b",\"ruleId\":")?;
    string(out, &r.rule_id)?;
    write!(out, ",\"ruleIndex\":{rule_index}}}")
}

/// Writes the log as SARIF 2.1.0 (compact JSON, no newline), split into runs within GitHub's
/// limits (see `sarif.rs`); `base` is the directory relative paths are written against (the
/// current directory: a CI job runs at the repository's root). Nothing of the log is held in
/// memory twice: each result is written as it is reached.
pub fn write_sarif<W: Write>(log: &SarifLog, base: &Path, out: &mut W) -> io::Result<()> {
    write_sarif_within(log, base, GITHUB_MAX_RESULTS_PER_RUN, GITHUB_MAX_RUNS, out)
}

/// [`write_sarif`] with the limits given (the tests use small ones).
pub(super) fn write_sarif_within<W: Write>(
    log: &SarifLog,
    base: &Path,
    per_run: usize,
    max_runs: usize,
    out: &mut W,
) -> io::Result<()> {
    let driver = driver(log)?;
    // A rule id's first index (an unknown id: 0, as before).
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, r) in log.rules.iter().enumerate() {
        index.entry(r.id.as_str()).or_insert(i);
    }
    let chunks: Vec<&[SarifResult]> =
        if log.results.is_empty() { vec![&[][..]] } else { log.results.chunks(per_run).collect() };
    let parts = chunks.len().min(max_runs);
    let left_out: usize = chunks.iter().skip(max_runs).map(|c| c.len()).sum();
    let mut notifications = Vec::new();
    let left_note = (left_out > 0).then(|| {
        format!(
            "{left_out} result(s) left out: GitHub accepts at most {max_runs} runs of {per_run} results per file; run `nsgsim {} --format json` for all of them",
            log.command
        )
    });
    for (i, n) in log.notes.iter().chain(&left_note).enumerate() {
        if i > 0 {
            notifications.write_all(b",")?;
        }
        notifications.write_all(b"{\"level\":\"warning\",\"message\":")?;
        text(&mut notifications, n)?;
        notifications.write_all(b"}")?;
    }
    let base_uri = format!("file://{}/", encode(&base.to_string_lossy().replace('\\', "/")));
    let fallback = [Place::in_scenario_file(&log.file, None)];
    let mut artifacts = Artifacts { base, written: HashMap::new() };
    out.write_all(b"{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"runs\":[")?;
    for (i, chunk) in chunks.iter().take(max_runs).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let category = if parts == 1 {
            format!("nsgsim/{}/", log.command)
        } else {
            format!("nsgsim/{}/part-{}-of-{parts}/", log.command, i + 1)
        };
        // Keys in sorted order: automationDetails, columnKind, invocations, originalUriBaseIds,
        // properties, results, tool.
        out.write_all(b"{\"automationDetails\":{\"id\":")?;
        string(out, &category)?;
        out.write_all(b"},\"columnKind\":\"unicodeCodePoints\",\"invocations\":[{\"executionSuccessful\":true,\"toolExecutionNotifications\":[")?;
        out.write_all(&notifications)?;
        out.write_all(b"]}],\"originalUriBaseIds\":{\"%SRCROOT%\":{\"uri\":")?;
        string(out, &base_uri)?;
        out.write_all(b"}},")?;
        if left_out > 0 {
            write!(out, "\"properties\":{{\"nsgsim/resultsLeftOut\":{left_out}}},")?;
        }
        out.write_all(b"\"results\":[")?;
        for (k, r) in chunk.iter().enumerate() {
            if k > 0 {
                out.write_all(b",")?;
            }
            let rule_index = index.get(r.rule_id.as_str()).copied().unwrap_or(0);
            result(out, r, rule_index, &fallback, &mut artifacts)?;
        }
        out.write_all(b"],\"tool\":{\"driver\":")?;
        out.write_all(&driver)?;
        out.write_all(b"}}")?;
    }
    out.write_all(b"],\"version\":\"2.1.0\"}")
}

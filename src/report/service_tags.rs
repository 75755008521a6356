//! Where the service tags an answer used come from: Microsoft's file (named with its cloud and
//! change number), or nsgsim's built-in sample ("not Microsoft's list"). Every command prints
//! the note on stderr and the JSON answers carry it, so that no answer that rests on a sample
//! tag reads as if it rested on Microsoft's list.

use serde_json::{Value, json};

use crate::model::{TagProvenance, Topology};

/// The tags NSG rules name, split by where their members come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagsUsed {
    /// From Microsoft's file.
    pub from_file: Vec<String>,
    /// From nsgsim's built-in sample.
    pub sample: Vec<String>,
    /// Defined by the scenario's `service_tags`.
    pub scenario: Vec<String>,
}

/// The tags the NSG rules of `topology` name, by provenance.
pub fn tags_used(topology: &Topology) -> TagsUsed {
    let mut used = TagsUsed::default();
    for name in topology.service_tags_named() {
        match topology.service_tag_provenance(&name) {
            TagProvenance::File(_) => used.from_file.push(name),
            TagProvenance::Sample => used.sample.push(name),
            TagProvenance::Scenario => used.scenario.push(name),
            TagProvenance::Computed => {}
        }
    }
    used
}

/// The provenance note of `topology`'s tags, one line per source, or nothing when its rules
/// name no tag that Microsoft publishes: `service tags AzureCloud: from Microsoft's service
/// tags F (cloud Public, changeNumber 376)`, `service tags GatewayManager: built-in sample, not
/// Microsoft's list (…)`.
pub fn service_tags_note(topology: &Topology) -> Vec<String> {
    let used = tags_used(topology);
    let mut lines = Vec::new();
    if let (false, Some(file)) = (used.from_file.is_empty(), topology.service_tag_file()) {
        lines.push(format!("service tags {}: from {}", used.from_file.join(", "), file.label()));
    }
    if !used.sample.is_empty() {
        lines.push(format!(
            "service tags {}: built-in sample, not Microsoft's list (valid: Microsoft's weekly \"Azure IP Ranges and Service Tags\" JSON with --service-tags FILE or the scenario's service_tags_file)",
            used.sample.join(", ")
        ));
    }
    lines
}

/// The same as data for the JSON answers: `{"file": …, "cloud": …, "change_number": …,
/// "from_file": [...], "sample": [...], "scenario": [...]}` (the file's fields are null
/// without one).
pub fn service_tags_json(topology: &Topology) -> Value {
    let used = tags_used(topology);
    let file = topology.service_tag_file();
    json!({
        "file": file.map(|f| f.path.clone()),
        "cloud": file.map(|f| f.cloud.clone()),
        "change_number": file.map(|f| f.change_number),
        "from_file": used.from_file,
        "sample": used.sample,
        "scenario": used.scenario,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOptions, load_str_with, parse_service_tag_file};

    const SCENARIO: &str = r#"(name: "t", start: "2025-01-06T09:00:00Z",
        service_tags: {"Office": ["203.0.113.0/24"]},
        vnets: [(name: "v", address_space: ["10.0.0.0/16"], subnets: [(name: "s", prefix: "10.0.1.0/24", nsg: "n")])],
        nsgs: [(name: "n", rules: [
            (name: "a", priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
             source: "AzureCloud", destination: "*", destination_ports: "22"),
            (name: "b", priority: 110, direction: Inbound, access: Allow, protocol: Tcp,
             source: "Office", destination: "*", destination_ports: "22"),
            (name: "c", priority: 120, direction: Inbound, access: Allow, protocol: Tcp,
             source: "GatewayManager", destination: "VirtualNetwork", destination_ports: "443")])])"#;

    #[test]
    fn the_note_names_the_files_cloud_and_change_number_or_says_sample() {
        let path = std::path::Path::new("t.ron");
        let sample = load_str_with(SCENARIO, path, &LoadOptions::default()).expect("scenario");
        let note = service_tags_note(&sample.topology);
        assert_eq!(note.len(), 1, "{note:?}");
        assert!(
            note[0].starts_with(
                "service tags AzureCloud, GatewayManager: built-in sample, not Microsoft's list"
            )
        );
        let file = parse_service_tag_file(
            r#"{"changeNumber": 376, "cloud": "Public", "values": [
                {"name": "AzureCloud", "properties": {"addressPrefixes": ["20.0.0.0/11"], "networkFeatures": ["NSG"]}}]}"#,
            std::path::Path::new("tags.json"),
            "tags.json",
        )
        .expect("file");
        let options = LoadOptions { service_tags: Some(std::sync::Arc::new(file)) };
        let error = load_str_with(SCENARIO, path, &options).expect_err("GatewayManager is not in the file");
        assert!(error.message.contains("unknown service tag 'GatewayManager'"), "{error}");
        assert!(
            error
                .message
                .contains("(from Microsoft's service tags tags.json (cloud Public, changeNumber 376))"),
            "{error}"
        );
        let with_file = load_str_with(&SCENARIO.replace("GatewayManager", "AzureCloud"), path, &options)
            .expect("scenario");
        assert_eq!(
            service_tags_note(&with_file.topology),
            [
                "service tags AzureCloud: from Microsoft's service tags tags.json (cloud Public, changeNumber 376)"
            ]
        );
        let value = service_tags_json(&with_file.topology);
        assert_eq!(value["cloud"], "Public");
        assert_eq!(value["change_number"], 376);
        assert_eq!(value["from_file"], json!(["AzureCloud"]));
        assert_eq!(value["scenario"], json!(["Office"]));
        assert!(
            with_file
                .topology
                .service_tag_members("AzureCloud")
                .expect("members")
                .contains("20.1.0.1".parse().expect("ip"))
        );
        assert!(
            !with_file
                .topology
                .service_tag_members("AzureCloud")
                .expect("members")
                .contains("13.64.0.1".parse().expect("ip")),
            "the sample's prefixes are gone"
        );
    }
}

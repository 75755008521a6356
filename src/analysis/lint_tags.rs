//! What Microsoft's service-tag file says of the tags NSG rules name (issue 25 item 4): each
//! tag's `networkFeatures` list (`API`, `NSG`, `UDR`, `FW`, `VSE`).
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `NSG009-tag-not-marked-for-nsg` | warning | a rule names a tag whose `networkFeatures` list in the file lacks `NSG` |
//! | `NSG010-tag-nsg-use-unknown` | info | a rule names a tag the file gives no `networkFeatures` list for: whether NSG rules take it cannot be known from the file |
//!
//! Why a warning and not an error: Microsoft documents no meaning for `networkFeatures` (the
//! service tags page never names the field). What it does say is that the downloadable file
//! holds more than NSG rules take: "The API data represents those tags that can be used with
//! NSG rules in your region. Use the API data as the source of truth for available Service Tags
//! as it may be different than the JSON downloadable file", and "the API data represents a
//! subset of the tags currently in the downloadable JSON file" (Virtual network service tags,
//! "Use the Service Tag Discovery API"). So a list without `NSG` is the file's own sign that the
//! tag may be one NSG rules do not take, and a tag with no list is one the file says nothing
//! of; neither tells whether Azure refuses the rule at deployment or accepts it. nsgsim keeps
//! evaluating such a rule with the file's members (model choice, docs/fidelity.md) and says so.

use crate::jit::is_jit_rule;
use crate::model::{TagProvenance, Topology};
use crate::nsg::{AddressSpec, RuleKind, ServiceTag};

use super::finding_code::FindingCode;
use super::lint::{Finding, FindingRule, Severity};

/// Where Microsoft says which tags NSG rules take: the Service Tag Discovery API.
const CHECK_WITH_API: &str = "ask Azure which tags NSG rules take in the NSG's region (`az network list-service-tags --location <region>`, the Service Tag Discovery API Microsoft calls the source of truth), and use a tag listed there";

/// Runs both checks on every NSG rule that names a tag read from Microsoft's file.
pub fn tag_feature_checks(topology: &Topology, out: &mut Vec<Finding>) {
    let Some(file) = topology.service_tag_file() else { return };
    for id in topology.nsg_ids() {
        let nsg = topology.nsg(id);
        for rule in nsg.rules.iter().filter(|r| r.kind == RuleKind::Security && !is_jit_rule(&r.name)) {
            for (field, spec) in [("source", &rule.source), ("destination", &rule.destination)] {
                let AddressSpec::Tag(ServiceTag::Other(name)) = spec else { continue };
                if !matches!(topology.service_tag_provenance(name), TagProvenance::File(_)) {
                    continue;
                }
                let Some(facts) = topology.service_tag_facts(name) else { continue };
                let (severity, code, why) = match (facts.usable_in_nsg(), &facts.network_features) {
                    (Some(true), _) => continue,
                    (Some(false), Some(list)) => (
                        Severity::Warning,
                        FindingCode::TagNotMarkedForNsg,
                        format!(
                            "its networkFeatures in {} are [{}], without NSG. Microsoft documents no meaning for networkFeatures, but says the downloadable file holds tags NSG rules do not take (\"the API data represents a subset of the tags currently in the downloadable JSON file\"), so Azure may refuse this rule at deployment or it may not match as written; nsgsim evaluates it with the file's members (model choice)",
                            file.label(),
                            list.join(", ")
                        ),
                    ),
                    _ => (
                        Severity::Info,
                        FindingCode::TagNsgUseUnknown,
                        format!(
                            "{} gives no networkFeatures list for it (as for about half of its regional tags), so whether NSG rules take it cannot be known from the file; nsgsim evaluates it with the file's members (model choice)",
                            file.label()
                        ),
                    ),
                };
                out.push(Finding {
                    severity,
                    code,
                    nsg: Some(nsg.name.clone()),
                    vm: None,
                    rules: vec![FindingRule::own(rule.rule_ref())],
                    message: format!(
                        "{} (priority {}) names the service tag {name} as its {field}: {why}",
                        rule.azure_name(),
                        rule.priority
                    ),
                    fix: CHECK_WITH_API.into(),
                    policies: Vec::new(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::scenario::{LoadOptions, load_str_with, parse_service_tag_file};

    const FILE: &str = r#"{"changeNumber": 377, "cloud": "Public", "values": [
        {"name": "Storage.WestEurope", "id": "Storage.WestEurope", "properties": {"addressPrefixes": ["20.38.108.0/23"], "networkFeatures": ["API", "NSG", "UDR", "FW"]}},
        {"name": "AzureResourceManager.NorwayEast", "id": "AzureResourceManager.NorwayEast", "properties": {"addressPrefixes": ["51.120.0.0/30"], "networkFeatures": ["API"]}},
        {"name": "ActionGroup.WestEurope", "id": "ActionGroup.WestEurope", "properties": {"addressPrefixes": ["4.145.74.52/30"]}}]}"#;

    fn findings(destination: &str, with_file: bool) -> Vec<Finding> {
        let text = format!(
            r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                service_tags: {{"Own": ["203.0.113.0/24"]}},
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.0.0/26", nsg: "n")])],
                nsgs: [Nsg(name: "n", rules: [Rule(name: "out", priority: 300, direction: Outbound, access: Allow, protocol: Tcp, destination: "{destination}", destination_ports: "443")])])"#
        );
        let file = parse_service_tag_file(FILE, Path::new("tags.json"), "tags.json").expect("file");
        let options = LoadOptions { service_tags: with_file.then(|| Arc::new(file)) };
        let s = load_str_with(&text, Path::new("t.ron"), &options).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut out = Vec::new();
        tag_feature_checks(&s.topology, &mut out);
        out
    }

    #[test]
    fn a_list_without_nsg_warns_and_a_missing_list_says_what_cannot_be_known() {
        let f = findings("AzureResourceManager.NorwayEast", true);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].code, f[0].severity), (FindingCode::TagNotMarkedForNsg, Severity::Warning));
        assert_eq!(f[0].rules, [super::super::testing::user_rule("out")]);
        assert!(f[0].message.contains("are [API], without NSG"), "{}", f[0].message);
        assert!(f[0].message.contains("cloud Public, changeNumber 377"), "{}", f[0].message);
        let f = findings("ActionGroup.WestEurope", true);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].code, f[0].severity), (FindingCode::TagNsgUseUnknown, Severity::Info));
        assert!(f[0].message.contains("cannot be known from the file"), "{}", f[0].message);
        // A tag the file marks for NSG, a computed tag and a scenario's own tag: nothing.
        for quiet in ["Storage.WestEurope", "Internet", "Own"] {
            assert!(findings(quiet, true).is_empty(), "{quiet}");
        }
    }
}

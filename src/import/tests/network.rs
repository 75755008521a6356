//! Route tables and Azure Firewalls (classic rules, Firewall Policy with rule collection groups,
//! IP groups) through the whole pipeline, with what the model cannot express recorded as
//! caveats; every output loads back with the scenario loader.

use super::{ok, warnings};
use crate::import::ImportOptions;
use crate::scenario::schema::{CaveatKindSpec, CollectionSpec, FirewallModeSpec, NextHopSpec};

/// A hub VNet with an AzureFirewallSubnet, a workload subnet using route table `rt`, and `extra`
/// resources.
fn hub(extra: &str) -> String {
    format!(
        r#"{{"resources": [
  {{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "hub", "properties": {{"addressSpace": {{"addressPrefixes": ["10.0.0.0/16"]}},
    "subnets": [{{"name": "AzureFirewallSubnet", "properties": {{"addressPrefix": "10.0.1.0/26"}}}},
                {{"name": "work", "properties": {{"addressPrefix": "10.0.2.0/24", "routeTable": {{"id": "[resourceId('Microsoft.Network/routeTables', 'rt')]"}}}}}}]}}}},
  {{"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2023-09-01", "name": "fw-pip", "sku": {{"name": "Standard"}}, "properties": {{"publicIPAllocationMethod": "Static", "ipAddress": "20.1.2.10"}}}},
  {extra}
]}}"#
    )
}

const ROUTE_TABLE: &str = r#"{"type": "Microsoft.Network/routeTables", "name": "rt", "properties": {"disableBgpRoutePropagation": true, "routes": [
    {"name": "to-fw", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4"}},
    {"name": "blackhole", "properties": {"addressPrefix": "192.168.0.0/16", "nextHopType": "None"}}]}},
  {"type": "Microsoft.Network/routeTables/routes", "name": "rt/to-storage", "properties": {"addressPrefix": "Storage", "nextHopType": "Internet"}}"#;

const CLASSIC: &str = r#"{"type": "Microsoft.Network/azureFirewalls", "name": "fw", "properties": {
    "sku": {"name": "AZFW_VNet", "tier": "Standard"}, "threatIntelMode": "Alert",
    "ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'hub', 'AzureFirewallSubnet')]"},
                           "publicIPAddress": {"id": "[resourceId('Microsoft.Network/publicIPAddresses', 'fw-pip')]"}}}],
    "natRuleCollections": [{"name": "inbound", "properties": {"priority": 100, "action": {"type": "Dnat"}, "rules": [
        {"name": "ssh", "protocols": ["TCP"], "sourceAddresses": ["*"], "destinationAddresses": ["[reference(resourceId('Microsoft.Network/publicIPAddresses', 'fw-pip')).ipAddress]"],
         "destinationPorts": ["2222"], "translatedAddress": "10.0.2.4", "translatedPort": "22"}]}}],
    "networkRuleCollections": [{"name": "net", "properties": {"priority": 200, "action": {"type": "Allow"}, "rules": [
        {"name": "web", "protocols": ["TCP", "UDP"], "sourceAddresses": ["10.0.2.0/24"], "destinationAddresses": ["10.9.0.1-10.9.0.6"], "destinationPorts": ["443", "8000-8080"]},
        {"name": "by-name", "protocols": ["TCP"], "sourceAddresses": ["*"], "destinationFqdns": ["db.contoso.com"], "destinationPorts": ["1433"]}]}}],
    "applicationRuleCollections": [{"name": "app", "properties": {"priority": 300, "action": {"type": "Allow"}, "rules": [
        {"name": "updates", "protocols": [{"protocolType": "Https", "port": 443}], "sourceAddresses": ["10.0.2.0/24"], "targetFqdns": ["updates.example.com"]},
        {"name": "anything", "protocols": [{"protocolType": "http", "port": "80"}], "targetFqdns": ["*"]},
        {"name": "tags", "protocols": [{"protocolType": "Https", "port": 443}], "sourceAddresses": ["*"], "fqdnTags": ["WindowsUpdate"]}]}}]}}"#;

fn caveat_kinds(i: &crate::import::Imported) -> Vec<(CaveatKindSpec, String)> {
    i.scenario.caveats.iter().map(|c| (c.kind, c.resource.clone())).collect()
}

#[test]
fn route_tables_import_with_their_subnets_and_say_what_they_cannot_express() {
    let (i, ron) = ok(&hub(&format!("{ROUTE_TABLE}, {CLASSIC}")));
    let rt = &i.scenario.route_tables[0];
    assert_eq!(rt.name, "rt");
    let routes: Vec<(&str, &str)> = rt.routes.iter().map(|r| (r.name.as_str(), r.prefix.as_str())).collect();
    assert_eq!(
        routes,
        [("to-fw", "0.0.0.0/0"), ("blackhole", "192.168.0.0/16")],
        "the service tag route is left out"
    );
    assert!(matches!(&rt.routes[0].next_hop, NextHopSpec::VirtualAppliance(ip) if ip == "10.0.1.4"));
    assert!(matches!(rt.routes[1].next_hop, NextHopSpec::None));
    assert_eq!(i.scenario.vnets[0].subnets[1].route_table.as_deref(), Some("rt"));
    assert!(
        ron.contains(r#"Route(name: "to-fw", prefix: "0.0.0.0/0", next_hop: VirtualAppliance("10.0.1.4")),"#),
        "{ron}"
    );
    assert!(ron.contains(r#"Subnet(name: "work", prefix: "10.0.2.0/24", route_table: "rt")"#), "{ron}");
    let w = warnings(&i);
    assert!(
        w.contains(
            "route 'to-storage' of route table 'rt' has the service tag 'Storage' as its addressPrefix"
        ),
        "{w}"
    );
    // disableBgpRoutePropagation changes nothing here: the hub has no gateway routes.
    assert!(!w.contains("disableBgpRoutePropagation"), "{w}");
    let kinds = caveat_kinds(&i);
    assert!(
        kinds.contains(&(CaveatKindSpec::Other, "Microsoft.Network/routeTables/rt/routes/to-storage".into())),
        "{kinds:?}"
    );
    let storage = i.scenario.caveats.iter().find(|c| c.resource.ends_with("to-storage")).expect("caveat");
    assert_eq!(storage.affects, ["hub/work"], "it concerns the subnets the table serves");
    // The route to the firewall's address is the firewall's: no appliance caveat.
    assert!(!w.contains("network virtual appliance"), "{w}");
}

#[test]
fn a_route_to_an_appliance_that_is_no_firewall_is_a_caveat() {
    let table = ROUTE_TABLE.replace("10.0.1.4", "10.0.2.50");
    let (i, _) = ok(&hub(&table));
    let c = i.scenario.caveats.iter().find(|c| c.resource.ends_with("routes/to-fw")).expect("caveat");
    assert!(
        c.reason
            .contains("network virtual appliance at 10.0.2.50, which is not an Azure Firewall of the input"),
        "{}",
        c.reason
    );
    assert_eq!(c.affects, ["hub/work"]);
}

#[test]
fn a_classic_firewall_imports_its_collections() {
    let (i, ron) = ok(&hub(&format!("{ROUTE_TABLE}, {CLASSIC}")));
    let fw = &i.scenario.firewalls[0];
    assert_eq!((fw.name.as_str(), fw.vnet.as_str(), fw.private_ip.as_str()), ("fw", "hub", "10.0.1.4"));
    assert_eq!(fw.public_ip.as_deref(), Some("fw-pip"));
    assert!(matches!(fw.mode, Some(FirewallModeSpec::Classic)));
    let names: Vec<(&str, i64)> = fw
        .collections
        .iter()
        .map(|c| match c {
            CollectionSpec::Dnat { name, priority, .. }
            | CollectionSpec::Network { name, priority, .. }
            | CollectionSpec::Application { name, priority, .. } => (name.as_str(), *priority),
        })
        .collect();
    assert_eq!(names, [("inbound", 100), ("net", 200), ("app", 300)]);
    let CollectionSpec::Dnat { rules, .. } = &fw.collections[0] else { panic!("dnat first") };
    assert_eq!((rules[0].destination_port, rules[0].translated_port), (2222, 22));
    assert_eq!(
        rules[0].destination, None,
        "reference() of the firewall's own public IP is that IP (the ARM evaluator reads the declared address)"
    );
    let CollectionSpec::Network { rules, .. } = &fw.collections[1] else { panic!("network second") };
    assert_eq!(rules.len(), 1, "the rule by FQDN is left out");
    assert_eq!(
        rules[0].destinations,
        ["10.9.0.1/32", "10.9.0.2/31", "10.9.0.4/31", "10.9.0.6/32"],
        "a range becomes prefixes"
    );
    let CollectionSpec::Application { rules, .. } = &fw.collections[2] else { panic!("application third") };
    let app: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(app, ["updates", "anything"], "an FQDN-tag rule is left out");
    assert_eq!(rules[1].sources, ["*"], "no source: any");
    assert_eq!(fw.fqdns.get("updates.example.com").map(Vec::len), Some(0), "a placeholder");
    assert_eq!(fw.fqdns.get("*").cloned(), Some(vec!["0.0.0.0/0".to_string()]));
    assert!(ron.contains("Firewall(name: \"fw\", vnet: \"hub\", private_ip: \"10.0.1.4\", public_ip: \"fw-pip\", mode: Classic,"), "{ron}");
    let kinds = caveat_kinds(&i);
    assert!(
        !kinds.iter().any(|(_, r)| r.ends_with("rule 'ssh'")),
        "no placeholder for an address the template declares: {kinds:?}"
    );
    for (kind, resource) in [
        (CaveatKindSpec::Placeholder, "private IP of Azure Firewall 'fw'"),
        (CaveatKindSpec::Other, "rule collection 'net' of 'fw', rule 'by-name'"),
        (CaveatKindSpec::Placeholder, "rule collection 'app' of 'fw', rule 'updates'"),
        (CaveatKindSpec::Other, "rule collection 'app' of 'fw', rule 'tags'"),
    ] {
        assert!(kinds.contains(&(kind, resource.to_string())), "{resource}: {kinds:?}");
    }
    let summary = i.summary.to_string();
    assert!(summary.contains("Microsoft.Network/azureFirewalls: 1 read, 1 imported\n"), "{summary}");
    assert!(summary.contains("Microsoft.Network/routeTables: 1 read, 1 imported\n"), "{summary}");
    assert!(summary.contains("Microsoft.Network/routeTables/routes: 1 read, 1 imported\n"), "{summary}");
}

const POLICY: &str = r#"{"type": "Microsoft.Network/routeTables", "name": "rt", "properties": {}},
  {"type": "Microsoft.Network/ipGroups", "name": "workloads", "properties": {"ipAddresses": ["10.0.2.0/24", "10.0.3.10-10.0.3.11"]}},
  {"type": "Microsoft.Network/firewallPolicies", "name": "pol", "properties": {"threatIntelMode": "Deny",
     "basePolicy": {"id": "[resourceId('Microsoft.Network/firewallPolicies', 'parent')]"}}},
  {"type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "name": "pol/late", "properties": {"priority": 300, "ruleCollections": [
     {"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "apps", "priority": 100, "action": {"type": "Deny"}, "rules": [
        {"ruleType": "ApplicationRule", "name": "bad", "protocols": [{"protocolType": "Https", "port": 443}], "sourceIpGroups": ["[resourceId('Microsoft.Network/ipGroups', 'workloads')]"], "targetFqdns": ["bad.example.com"]}]}]}},
  {"type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "name": "pol/early", "properties": {"priority": 200, "ruleCollections": [
     {"ruleCollectionType": "FirewallPolicyFilterRuleCollection", "name": "nets", "priority": 500, "action": {"type": "Allow"}, "rules": [
        {"ruleType": "NetworkRule", "name": "ntp", "ipProtocols": ["UDP"], "sourceIpGroups": ["[resourceId('Microsoft.Network/ipGroups', 'workloads')]"], "destinationAddresses": ["AzureCloud"], "destinationPorts": ["123"]},
        {"ruleType": "NetworkRule", "name": "gone", "ipProtocols": ["TCP"], "sourceIpGroups": ["[resourceId('Microsoft.Network/ipGroups', 'elsewhere')]"], "destinationAddresses": ["*"], "destinationPorts": ["22"]}]},
     {"ruleCollectionType": "FirewallPolicyNatRuleCollection", "name": "dnat", "priority": 100, "action": {"type": "DNAT"}, "rules": [
        {"ruleType": "NatRule", "name": "rdp", "ipProtocols": ["TCP"], "sourceAddresses": ["203.0.113.0/24"], "destinationAddresses": ["20.1.2.3"], "destinationPorts": ["3390"], "translatedAddress": "10.0.2.5", "translatedPort": "3389"}]}]}},
  {"type": "Microsoft.Network/azureFirewalls", "name": "fw", "sku": {"name": "AZFW_VNet", "tier": "Premium"}, "properties": {
    "ipConfigurations": [{"name": "c", "properties": {"privateIPAddress": "10.0.1.5", "subnet": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/hub/subnets/AzureFirewallSubnet"},
                           "publicIPAddress": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/publicIPAddresses/fw-pip"}}}],
    "firewallPolicy": {"id": "[resourceId('Microsoft.Network/firewallPolicies', 'pol')]"}}}"#;

#[test]
fn a_firewall_policy_imports_its_groups_by_priority_with_ip_groups() {
    let (i, ron) = ok(&hub(POLICY));
    let fw = &i.scenario.firewalls[0];
    assert_eq!(fw.private_ip, "10.0.1.5", "az/REST output gives the address");
    assert!(matches!(fw.mode, Some(FirewallModeSpec::Policy)));
    let groups: Vec<(&str, i64)> =
        fw.rule_collection_groups.iter().map(|g| (g.name.as_str(), g.priority)).collect();
    assert_eq!(groups, [("early", 200), ("late", 300)]);
    let early = &fw.rule_collection_groups[0].collections;
    assert!(
        matches!(&early[0], CollectionSpec::Dnat { name, .. } if name == "dnat"),
        "collections by priority"
    );
    let CollectionSpec::Dnat { rules, .. } = &early[0] else { panic!("dnat") };
    assert_eq!(rules[0].destination.as_deref(), Some("20.1.2.3"));
    let CollectionSpec::Network { rules, .. } = &early[1] else { panic!("network") };
    assert_eq!(rules.len(), 1, "the rule naming an IP group not in the input is left out, never widened");
    assert_eq!(rules[0].sources, ["10.0.2.0/24", "10.0.3.10/31"], "the IP group's addresses");
    assert_eq!(rules[0].destinations, ["AzureCloud"]);
    assert!(ron.contains("RuleCollectionGroup(name: \"early\", priority: 200, collections: ["), "{ron}");
    let kinds = caveat_kinds(&i);
    for (kind, resource) in [
        (CaveatKindSpec::UnresolvedReference, "Microsoft.Network/ipGroups/elsewhere"),
        (CaveatKindSpec::Other, "Microsoft.Network/firewallPolicies/pol basePolicy"),
        (CaveatKindSpec::Other, "Microsoft.Network/firewallPolicies/pol threatIntelMode"),
    ] {
        assert!(kinds.contains(&(kind, resource.to_string())), "{resource}: {kinds:?}");
    }
    let summary = i.summary.to_string();
    for line in [
        "Microsoft.Network/firewallPolicies: 1 read, 1 imported\n",
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups: 2 read, 2 imported\n",
        "Microsoft.Network/ipGroups: 1 read, 1 imported\n",
    ] {
        assert!(summary.contains(line), "{line}{summary}");
    }
    assert!(
        warnings(&i).contains(
            "Azure Firewall 'fw' is Premium: TLS inspection, IDPS and URL filtering are not modelled"
        )
    );
}

#[test]
fn strict_refuses_what_the_firewall_import_leaves_out() {
    let options = ImportOptions { strict: true, ..ImportOptions::default() };
    let inputs = vec![(std::path::PathBuf::from("t.json"), hub(POLICY))];
    let e = crate::import::import_texts(&inputs, &options).expect_err("strict").to_string();
    assert!(e.contains("--strict refuses an import that leaves out what can change traffic"), "{e}");
    // The unresolved IP group is the error import always gave for a reference not in the input.
    let gone = hub(POLICY).replace("threatIntelMode\": \"Deny\"", "threatIntelMode\": \"Alert\"").replace(
        r#""basePolicy": {"id": "[resourceId('Microsoft.Network/firewallPolicies', 'parent')]"}"#,
        r#""dnsSettings": {}"#,
    );
    let inputs = vec![(std::path::PathBuf::from("t.json"), gone)];
    let e = crate::import::import_texts(&inputs, &options).expect_err("strict").to_string();
    assert!(
        e.contains(
            "cannot resolve Microsoft.Network/ipGroups/elsewhere: IP group 'elsewhere' is not in the input"
        ),
        "{e}"
    );
}

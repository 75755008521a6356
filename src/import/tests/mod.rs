//! End-to-end tests of the import pipeline on small inputs: readers, inventory and builder
//! together, through [`import_texts`], with every output loaded back by the scenario loader.
//! The shared helpers are used by the tests of the builder's peerings too.

mod defaults;
mod network;

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{ImportError, ImportOptions, Imported, Position, import_texts, to_ron};
use crate::scenario::schema::CaveatKindSpec;
use crate::scenario::{FieldPath, load_str};

pub(super) fn import(files: &[(&str, &str)]) -> Result<Imported, ImportError> {
    let inputs: Vec<(PathBuf, String)> =
        files.iter().map(|(name, text)| (PathBuf::from(name), text.to_string())).collect();
    import_texts(&inputs, &ImportOptions::default())
}

/// Imports one file, checks that the scenario loader accepts the output, returns both.
pub(super) fn ok(text: &str) -> (Imported, String) {
    let imported = import(&[("t.json", text)]).unwrap_or_else(|e| panic!("import fails: {e}"));
    let ron = to_ron(&imported.scenario);
    load_str(&ron, Path::new("t.ron")).unwrap_or_else(|e| panic!("the output does not load: {e}\n{ron}"));
    (imported, ron)
}

pub(super) fn err(text: &str) -> String {
    match import(&[("t.json", text)]) {
        Ok(i) => panic!("imported, expected an error:\n{}", to_ron(&i.scenario)),
        Err(e) => e.to_string(),
    }
}

pub(super) fn warnings(i: &Imported) -> String {
    i.warnings.iter().map(|w| format!("{w}\n")).collect()
}

/// `t.json:LINE:COLUMN` of the `nth` (0-based) occurrence of `needle` in `text`, the column
/// in characters; counted here independently of the scanner under test.
pub(super) fn place_of(text: &str, needle: &str, nth: usize) -> String {
    let (offset, _) = text.match_indices(needle).nth(nth).expect("the needle occurs");
    let line_start = text[..offset].rfind('\n').map_or(0, |n| n + 1);
    let column = text[line_start..offset].chars().count() + 1;
    format!("t.json:{}:{column}", text[..offset].matches('\n').count() + 1)
}

const RULE: &str = r#"{"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Allow", "priority": 100, "direction": "Inbound"}"#;

fn nsg_with(rules: &str) -> String {
    format!(
        r#"{{"resources": [{{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {{"securityRules": [{rules}]}}}}]}}"#
    )
}

fn rule_with(field: &str, value: &str) -> String {
    let mut v: Value = serde_json::from_str(RULE).expect("json");
    v[field] = serde_json::from_str(value).expect("json value");
    format!(r#"{{"name": "r", "properties": {v}}}"#)
}

#[test]
fn export_template_rules_inline_and_as_child_resources_import_once() {
    let text = format!(
        r#"{{"resources": [
                {{"type": "Microsoft.Network/networkSecurityGroups", "name": "web-nsg", "properties": {{"securityRules": [{{"name": "allow-https", "properties": {RULE}}}]}}}},
                {{"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "web-nsg/allow-https", "properties": {RULE}}},
                {{"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {{"addressSpace": {{"addressPrefixes": ["10.0.0.0/16"]}},
                    "subnets": [{{"name": "web", "properties": {{"addressPrefix": "10.0.1.0/24"}}}}]}}}},
                {{"type": "Microsoft.Network/virtualNetworks/subnets", "name": "v/web", "properties": {{"addressPrefix": "10.0.1.0/24"}}}}
            ]}}"#
    );
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.nsgs[0].rules.len(), 1);
    assert_eq!(i.scenario.vnets[0].subnets.len(), 1);
    let w = warnings(&i);
    assert!(!w.contains("more than once") && !w.contains("differently"), "{w}");
}

#[test]
fn a_differing_child_rule_replaces_the_inline_one_with_a_warning() {
    let child = RULE.replace("\"443\"", "\"8443\"");
    let text = format!(
        r#"{{"resources": [
                {{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {{"securityRules": [{{"name": "R", "properties": {RULE}}}]}}}},
                {{"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "n/r", "properties": {child}}}
            ]}}"#
    );
    let (i, _) = ok(&text);
    let rules = &i.scenario.nsgs[0].rules;
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].destination_ports, "8443");
    let w = warnings(&i);
    assert!(w.contains("t.json:3:17: resources[1]: security rule 'r' of NSG 'n' is also defined at t.json:2:115: resources[0].properties.securityRules[0], differently"), "{w}");
}

#[test]
fn az_show_with_az_rule_list_of_the_same_nsg() {
    let show = format!(
        r#"{{"type": "Microsoft.Network/networkSecurityGroups", "name": "nsgA",
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsgA",
                "securityRules": [{{"name": "web", {}}}]}}"#,
        &RULE[1..RULE.len() - 1]
    );
    let list = format!(
        r#"[{{"name": "web", "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsgA/securityRules/web", {}}}]"#,
        &RULE[1..RULE.len() - 1]
    );
    let i = import(&[("show.json", &show), ("list.json", &list)]).expect("imports");
    assert_eq!(i.scenario.nsgs[0].rules.len(), 1);
}

#[test]
fn rest_list_shape_nested_children_and_bom() {
    let rest = format!(
            "\u{feff}{{\"value\": [{{\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"a\", \"properties\": {{\"securityRules\": []}},
                \"resources\": [{{\"type\": \"securityRules\", \"name\": \"nested\", \"properties\": {RULE}}}]}}]}}"
        );
    let (i, ron) = ok(&rest);
    assert_eq!(i.scenario.nsgs[0].rules[0].name, "nested");
    assert!(ron.contains("Rule(name: \"nested\", priority: 100"), "{ron}");
}

#[test]
fn template_expressions_copy_loops_and_conditions() {
    let text = r#"{"parameters": {"ports": {"type": "array", "defaultValue": ["22", "3389"]},
                                      "withWeb": {"type": "bool", "defaultValue": false},
                                      "location": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
            "variables": {"nsg": "[format('{0}-nsg', 'app')]"},
            "resources": [
              {"type": "Microsoft.Network/networkSecurityGroups", "name": "[variables('nsg')]", "location": "[parameters('location')]",
               "properties": {"copy": [{"name": "securityRules", "count": "[length(parameters('ports'))]",
                 "input": {"name": "[concat('deny-', parameters('ports')[copyIndex('securityRules')])]",
                   "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "direction": "Inbound", "access": "Deny",
                     "protocol": "Tcp", "sourceAddressPrefix": "*", "destinationPortRange": "[parameters('ports')[copyIndex('securityRules')]]"}}}]}},
              {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "[concat(variables('nsg'), '/allow-', copyIndex(1))]",
               "copy": {"name": "extra", "count": 2},
               "properties": {"priority": "[add(200, copyIndex())]", "direction": "Inbound", "access": "Allow", "protocol": "Udp",
                 "sourceAddressPrefix": "VirtualNetwork", "destinationPortRange": "[string(add(5000, copyIndex()))]"}},
              {"condition": "[parameters('withWeb')]", "type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "app-nsg/web",
               "properties": {"priority": 300, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "destinationPortRange": "80"}},
              {"condition": false, "type": "Microsoft.Compute/virtualMachines", "name": "skipped", "properties": {}},
              {"type": "Microsoft.Network/applicationSecurityGroups", "name": "[concat('asg-', parameters('location'))]"}
            ]}"#;
    let (i, _) = ok(text);
    let n = &i.scenario.nsgs[0];
    assert_eq!(n.name, "app-nsg");
    let names: Vec<(&str, i64, &str)> =
        n.rules.iter().map(|r| (r.name.as_str(), r.priority, r.destination_ports.as_str())).collect();
    assert_eq!(
        names,
        [
            ("deny-22", 100, "22"),
            ("deny-3389", 101, "3389"),
            ("allow-1", 200, "5000"),
            ("allow-2", 201, "5001")
        ]
    );
    let w = warnings(&i);
    assert!(w.contains("resources[2]: the condition \"[parameters('withWeb')]\" is false"), "{w}");
    assert!(w.contains("resources[3]: the condition false is false"), "{w}");
    assert!(w.contains("resourceGroup() is only known at deployment"), "{w}");
    assert_eq!(i.scenario.asgs, ["asg-westeurope"]);
}

#[test]
fn default_outbound_access_makes_a_private_subnet() {
    let vnet = |value: &str| {
        format!(
            r#"{{"resources": [{{"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {{"addressSpace": {{"addressPrefixes": ["10.0.0.0/16"]}}, "subnets": [{{"name": "private", "properties": {{"addressPrefix": "10.0.1.0/24", "defaultOutboundAccess": {value}}}}}, {{"name": "plain", "properties": {{"addressPrefix": "10.0.2.0/24"}}}}]}}}}]}}"#
        )
    };
    let (imported, ron) = ok(&vnet("false"));
    let subnets = &imported.scenario.vnets[0].subnets;
    assert_eq!(subnets[0].default_outbound_access, Some(false), "{ron}");
    assert_eq!(subnets[1].default_outbound_access, None, "{ron}");
    assert!(
        ron.contains("Subnet(name: \"private\", prefix: \"10.0.1.0/24\", default_outbound_access: false)"),
        "{ron}"
    );
    assert!(warnings(&imported).is_empty(), "{}", warnings(&imported));
    let (imported, _) = ok(&vnet("true"));
    assert_eq!(imported.scenario.vnets[0].subnets[0].default_outbound_access, Some(true));
    let e = err(&vnet("\"sometimes\""));
    assert!(
        e.contains("resources[0].properties.subnets[0].properties.defaultOutboundAccess")
            && e.contains("'sometimes'")
            && e.contains("must be true or false"),
        "{e}"
    );
}

#[test]
fn expression_errors_name_the_json_path() {
    let text = r#"{"variables": {"a": "[variables('a')]"}, "resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[variables('a')]"}]}"#;
    let e = err(text);
    assert!(
        e.starts_with(&format!(
            "{}: resources[0].name: '[variables('a')]': variables('a') refers to itself",
            place_of(text, "\"[variables('a')]\"", 1)
        )),
        "{e}"
    );
    let text = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {"copy": [{"name": "securityRules", "count": 1, "input": {"name": "[concat('r', copyIndex('other'))]"}}]}}]}"#;
    // The rule the loop makes is named by the path it is read at, placed at the expression in
    // the loop's input that cannot be evaluated.
    let e = err(text);
    assert_eq!(
        e,
        format!(
            "{}: resources[0].properties.securityRules[0].name: '[concat('r', copyIndex('other'))]': copyIndex('other') is used outside a copy loop named 'other'; valid here: copyIndex('securityRules')",
            place_of(text, "\"[concat", 0)
        )
    );
    // Outside every loop, the message says where copyIndex() is valid at all.
    let text = r#"{"resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[concat('a', copyIndex())]"}]}"#;
    let e = err(text);
    assert!(
        e.ends_with("copyIndex() is used outside a resource copy loop; valid only inside a copy loop (a resource's `copy`, or a `copy` entry of properties, variables or outputs), and no copy loop encloses this expression"),
        "{e}"
    );
    let text = r#"{"resources": [{"condition": "[reference('x').enabled]", "type": "Microsoft.Network/applicationSecurityGroups", "name": "a"}]}"#;
    let e = err(text);
    assert!(
        e.starts_with(&format!("{}: resources[0].condition", place_of(text, "\"[reference", 0)))
            && e.contains("deployment"),
        "{e}"
    );
    assert!(err("42").starts_with("t.json:1:1: (root): '42'"));
    assert!(err("\n  [42]").starts_with("t.json:2:4: [0]: '42': expected a resource object"));
}

#[test]
fn arrays_from_variables_and_parameters_are_read_like_literal_ones() {
    let text = format!(
        r#"{{"parameters": {{"prefixes": {{"type": "array", "defaultValue": ["10.0.0.0/16"]}},
                              "subnets": {{"type": "array", "defaultValue": [{{"name": "app", "properties": {{"addressPrefix": "10.0.1.0/24"}}}}]}}}},
              "variables": {{"rules": [{{"name": "https", "properties": {RULE}}}]}},
              "resources": [
                {{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {{"securityRules": "[variables('rules')]"}}}},
                {{"type": "Microsoft.Network/virtualNetworks", "name": "v",
                  "properties": {{"addressSpace": {{"addressPrefixes": "[parameters('prefixes')]"}}, "subnets": "[parameters('subnets')]"}}}}]}}"#
    );
    let (i, ron) = ok(&text);
    assert_eq!(i.scenario.vnets[0].subnets.len(), 1, "{ron}");
    assert!(ron.contains(r#"Subnet(name: "app", prefix: "10.0.1.0/24")"#), "{ron}");
    assert!(ron.contains(r#"Rule(name: "https", priority: 100"#), "{ron}");
    assert!(warnings(&i).is_empty(), "{}", warnings(&i));
    // Any expression that makes an array: ARM's idiom for a base list plus additions.
    let extra = RULE.replace(r#""priority": 100"#, r#""priority": 200"#).replace("443", "80");
    let joined = text
        .replace(r#""[variables('rules')]""#, r#""[concat(variables('rules'), variables('more'))]""#)
        .replace(
            r#""variables": {"#,
            &format!(r#""variables": {{"more": [{{"name": "http", "properties": {extra}}}],"#),
        );
    let (_, ron) = ok(&joined);
    assert!(
        ron.contains(r#"Rule(name: "https", priority: 100"#)
            && ron.contains(r#"Rule(name: "http", priority: 200"#),
        "{ron}"
    );
    // An error inside the made array names the item and points at the expression.
    let bad = text.replace(r#""priority": 100"#, r#""priority": 99"#);
    assert_eq!(
        err(&bad),
        format!(
            "{}: resources[0].properties.securityRules[0].properties.priority: '99': security rule 'https': a rule's priority is an integer 100-4096 (lower is evaluated first)",
            place_of(&bad, "\"[variables('rules')]\"", 0)
        )
    );
    // An expression that makes a string stays a string, reported (with the string it made) at
    // the expression.
    let text = r#"{"variables": {"s": "10.0.1.0/24"}, "resources": [{"type": "Microsoft.Network/virtualNetworks", "name": "v",
            "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": "[variables('s')]"}}]}"#;
    let e = err(text);
    assert!(e.ends_with("resources[0].properties.subnets: '10.0.1.0/24': expected a list of subnets"), "{e}");
    // A list variable that refers to itself reports that, not the shape.
    let text = text.replace(r#""s": "10.0.1.0/24""#, r#""s": ["[variables('s')]"]"#);
    let e = err(&text);
    assert!(
        e.ends_with("variables('s') refers to itself: variables('s') -> variables('s'); valid: a value that does not depend on itself (break the cycle at one of these)"),
        "{e}"
    );
}

#[test]
fn a_value_an_expression_makes_is_placed_at_the_expression() {
    let rule = RULE
        .replace(r#""destinationPortRange": "443""#, r#""destinationPortRanges": "[variables('ports')]""#);
    let text = format!(
        r#"{{"variables": {{"ports": ["443", "70000"]}},
              "resources": [{{"type": "Microsoft.Network/networkSecurityGroups", "name": "n",
                "properties": {{"securityRules": [{{"name": "r", "properties": {rule}}}]}}}}]}}"#
    );
    let e = err(&text);
    assert_eq!(
        e,
        format!(
            "{}: resources[0].properties.securityRules[0].properties.destinationPortRanges[1]: '70000': '70000' is not a port range: a port must be at most 65535 (valid: '*', a port 0-65535, or a range like '1000-2000')",
            place_of(&text, "\"[variables('ports')]\"", 0)
        )
    );
}

#[test]
fn values_made_by_copy_loops_are_placed_at_the_template_that_wrote_them() {
    // A property copy loop: the rule the loop makes is placed in the loop's input, not in a
    // literal `securityRules` array of the same name, which the loop replaces.
    let text = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "properties": {
            "securityRules": [{"name": "literal", "properties": {"protocol": "Tcp"}}],
            "copy": [{"name": "securityRules", "count": 2, "input": {
                "name": "[concat('r', copyIndex('securityRules'))]",
                "properties": {"priority": "[add(100, copyIndex('securityRules'))]", "direction": "Inbound", "access": "Allow", "protocol": "Foo"}}}]}}]}"#;
    let e = err(text);
    assert!(
        e.starts_with(&format!(
            "{}: resources[0].properties.securityRules[0].properties.protocol: 'Foo': valid: Tcp",
            place_of(text, "\"Foo\"", 0)
        )),
        "{e}"
    );
    // A rule with no priority: placed at the input's properties object that lacks it.
    let text = text.replace("\"priority\": \"[add(100, copyIndex('securityRules'))]\", ", "");
    let e = err(&text);
    assert!(
            e.starts_with(&format!(
                "{}: resources[0].properties.securityRules[0].properties.priority: security rule 'r0' has no 'priority'",
                place_of(&text, "{\"direction\"", 0)
            )),
            "{e}"
        );
    // A resource copy loop: every iteration is placed at the one template.
    let text = r#"{"resources": [{"type": "Microsoft.Network/networkSecurityGroups", "name": "[concat('n', copyIndex())]",
            "copy": {"name": "nsgs", "count": 2},
            "properties": {"securityRules": [{"name": "r", "properties": {"priority": 100, "direction": "Sideways", "access": "Allow", "protocol": "Tcp"}}]}}]}"#;
    let e = err(text);
    assert!(
        e.starts_with(&format!(
            "{}: resources[0](copyIndex=0).properties.securityRules[0].properties.direction: 'Sideways'",
            place_of(text, "\"Sideways\"", 0)
        )),
        "{e}"
    );
}

#[test]
fn warnings_and_origins_carry_line_and_column() {
    let text = "{\"resources\": [\n  {\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"n\", \"properties\": {\"odd.key\": {\"x\": 1}, \"securityRules\": []}},\n  {\"type\": \"Microsoft.Storage/storageAccounts\", \"name\": \"s\"}\n]}";
    let (i, _) = ok(text);
    let w = warnings(&i);
    // A key with a dot is found as the key it is.
    assert!(
            w.contains(&format!(
                "{}: resources[0].properties.odd.key: property 'odd.key' of microsoft.network/networksecuritygroups is not modelled",
                place_of(text, "{\"x\"", 0)
            )),
            "{w}"
        );
    assert!(
        w.contains(
            "t.json:3:3: resources[1]: resource type 'Microsoft.Storage/storageAccounts' is not imported"
        ),
        "{w}"
    );
    let o = i.origin_of(&FieldPath::root("nsgs").index(0)).expect("an origin");
    assert_eq!(o.position, Some(Position { line: 2, column: 82 }), "{o:?}");
    assert_eq!(&text.lines().nth(1).expect("line 2")[81..82], "{");
    // With a byte order mark, columns start after it (as serde_json's do).
    let e = err("\u{feff}[42]");
    assert!(e.starts_with("t.json:1:2: [0]: '42': expected a resource object"), "{e}");
    let e = err("\u{feff}[{\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": []}]");
    assert!(e.starts_with("t.json:1:62: [0].name: '[]'"), "{e}");
}

#[test]
fn service_tags_compare_without_case_and_unknown_ones_become_placeholders() {
    let rules = [
        "Storage.WestEurope",
        "sql.westeurope",
        "AzureKeyVault",
        "AzureFrontDoor.Backend",
        "internet",
        "STORAGE",
        "storage.westeurope",
    ]
    .iter()
    .enumerate()
    .map(|(k, tag)| {
        rule_with("destinationAddressPrefix", &format!("{tag:?}"))
            .replace("\"name\": \"r\"", &format!("\"name\": \"r{k}\""))
            .replace("\"priority\":100", &format!("\"priority\":{}", 100 + k))
    })
    .collect::<Vec<_>>()
    .join(",");
    let (i, ron) = ok(&nsg_with(&rules));
    let destinations: Vec<&str> =
        i.scenario.nsgs[0].rules.iter().filter_map(|r| r.destination.as_deref()).collect();
    assert_eq!(
        destinations,
        [
            "Storage.WestEurope",
            "sql.westeurope",
            "AzureKeyVault",
            "AzureFrontDoor.Backend",
            "Internet",
            "Storage",
            "Storage.WestEurope"
        ]
    );
    let tags: Vec<&String> = i.scenario.service_tags.keys().collect();
    assert_eq!(tags, ["AzureFrontDoor.Backend", "AzureKeyVault", "Storage.WestEurope", "sql.westeurope"]);
    assert!(ron.contains("// Placeholder: fill in this tag's prefixes"), "{ron}");
    assert!(warnings(&i).contains("service tag 'AzureKeyVault' has no members in nsgsim"));
}

#[test]
fn columns_count_characters_after_non_ascii_text() {
    // The NSG's name, before the bad value on the same line, has 2-byte characters: the
    // column is the character column, as in syntax errors and scenario errors.
    let text = nsg_with(&rule_with("priority", "5000")).replace("\"name\": \"n\"", "\"name\": \"réseau-ü\"");
    let e = err(&text);
    let at = place_of(&text, "5000", 0);
    assert!(e.starts_with(&format!("{at}: resources[0]")), "{e}");
    let bytes = text.find("5000").expect("there") + 1;
    assert_ne!(at, format!("t.json:1:{bytes}"), "the byte column differs: the test would prove nothing");
}

#[test]
fn rule_values_are_checked_at_their_json_path() {
    let at = |field: &str, value: &str| err(&nsg_with(&rule_with(field, value)));
    let e = at("destinationPortRanges", r#"["80", "443", "70000"]"#);
    let text = nsg_with(&rule_with("destinationPortRanges", r#"["80", "443", "70000"]"#));
    assert!(
        e.starts_with(&format!(
            "{}: resources[0].properties.securityRules[0].properties.destinationPortRanges[2]: '70000'",
            place_of(&text, "\"70000\"", 0)
        )),
        "{e}"
    );
    let e = at("destinationPortRange", r#""443-80""#);
    assert!(e.contains("securityRules[0].properties.destinationPortRange: '443-80'"), "{e}");
    // An ASG field that is not a list used to be ignored, which widened the rule to any
    // source; now it is an error.
    let e = at("sourceApplicationSecurityGroups", r#""web""#);
    assert!(
            e.ends_with("securityRules[0].properties.sourceApplicationSecurityGroups: 'web': expected a list of application security groups"),
            "{e}"
        );
    let e = at("sourceAddressPrefixes", r#"["10.0.0.0/8", "10.1.2.3/16"]"#);
    assert!(e.contains("properties.sourceAddressPrefixes[1]: '10.1.2.3/16': host bits are set"), "{e}");
    let e = at("priority", "5000");
    let text = nsg_with(&rule_with("priority", "5000"));
    assert!(
        e.starts_with(&format!("{}: resources[0]", place_of(&text, "5000", 0)))
            && e.contains("properties.priority: '5000'")
            && e.contains("100-4096"),
        "{e}"
    );
    let e = at("sourceAddressPrefix", r#""10.0.0.0/8,Internet""#);
    assert!(
        e.contains("properties.sourceAddressPrefix: 'Internet'") && e.contains("cannot be combined"),
        "{e}"
    );
    let e = at("sourceAddressPrefix", r#""10.0.0.300""#);
    assert!(e.contains("properties.sourceAddressPrefix: '10.0.0.300'"), "{e}");
    let bad_name = rule_with("priority", "100").replace("\"name\": \"r\"", "\"name\": \"-r\"");
    let e = err(&nsg_with(&bad_name));
    assert!(e.contains("securityRules[0].name: '-r': rule name '-r' is invalid"), "{e}");
    let two = format!(
        "{},{}",
        rule_with("priority", "100"),
        rule_with("priority", "200").replace("\"r\"", "\"R\"")
    );
    let e = err(&nsg_with(&two));
    let first = place_of(&nsg_with(&two), "{\"name\": \"r\"", 0);
    assert!(
        e.starts_with(&format!(
            "{}: resources[0].properties.securityRules[1].name: 'R': rule name 'R' is used twice",
            place_of(&nsg_with(&two), "\"R\"", 0)
        )) && e.contains(&format!("first at {first}: resources[0].properties.securityRules[0]")),
        "{e}"
    );
    let clash = format!(
        "{},{}",
        rule_with("priority", "100"),
        rule_with("priority", "100").replace("\"r\"", "\"s\"")
    );
    let e = err(&nsg_with(&clash));
    let rules = nsg_with(&clash);
    let expected = format!(
        "{}: resources[0].properties.securityRules[1].properties.priority: '100': security rules 'r' ({}: resources[0].properties.securityRules[0]) and 's'",
        place_of(&rules, "100", 1),
        place_of(&rules, "{\"name\": \"r\"", 0)
    );
    assert!(e.starts_with(&expected) && e.contains("SecurityRuleConflict"), "{e}");
}

#[test]
fn network_values_are_checked_at_their_json_path() {
    let vnet = |space: &str, subnet: &str, ip: &str| {
        format!(
            r#"{{"resources": [{{"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {{"addressSpace": {{"addressPrefixes": ["{space}"]}},
                    "subnets": [{{"name": "s", "properties": {{"addressPrefix": "{subnet}"}}}}]}}}},
                  {{"type": "Microsoft.Network/networkInterfaces", "name": "nic", "properties": {{"ipConfigurations": [{{"name": "c", "properties": {{
                    "privateIPAddress": "{ip}", "subnet": {{"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]"}}}}}}]}}}}]}}"#
        )
    };
    ok(&vnet("10.0.0.0/16", "10.0.1.0/24", "10.0.1.4"));
    let e = err(&vnet("10.0.0.0/33", "10.0.1.0/24", "10.0.1.4"));
    assert!(e.contains("resources[0].properties.addressSpace.addressPrefixes[0]: '10.0.0.0/33'"), "{e}");
    let e = err(&vnet("10.0.0.0/16", "10.0.1.1/24", "10.0.1.4"));
    assert!(e.contains("resources[0].properties.subnets[0].properties.addressPrefix: '10.0.1.1/24'"), "{e}");
    let e = err(&vnet("10.0.0.0/16", "10.0.1.0/24", "10.0.2.4"));
    assert!(
        e.contains("resources[1].properties.ipConfigurations[0].properties.privateIPAddress: '10.0.2.4'")
            && e.contains("outside its subnet"),
        "{e}"
    );
}

#[test]
fn scenario_fields_map_back_to_their_json() {
    let (i, _) = ok(&nsg_with(&rule_with("priority", "100")));
    let o = i
        .origin_of(&FieldPath::root("nsgs").index(0).field("rules").index(0).field("destination_ports"))
        .expect("an origin");
    assert_eq!(o.path, "resources[0].properties.securityRules[0].properties");
    assert_eq!(
        i.origin_of(&FieldPath::root("nsgs").index(0)).map(|o| o.path.as_str()),
        Some("resources[0].properties")
    );
    assert!(i.origin_of(&FieldPath::root("nsgs").index(10)).is_none());
}

#[test]
fn unmodelled_properties_of_vms_and_bastions_are_reported() {
    let text = r#"[{"type": "Microsoft.Compute/virtualMachines", "name": "vm", "properties": {"hardwareProfile": {}, "spotMagic": 1,
                        "networkProfile": {"networkInterfaceConfigurations": []}}},
                       {"type": "Microsoft.Network/bastionHosts", "name": "b", "properties": {"virtualNetwork": {"id": "x"}, "ipConfigurations": [
                        {"name": "c", "properties": {"subnet": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/AzureBastionSubnet"}}}]}},
                       {"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                        "subnets": [{"name": "AzureBastionSubnet", "properties": {"addressPrefix": "10.0.0.0/26"}}]}}]"#;
    let imported = import(&[("t.json", text)]).expect("imports");
    let w = warnings(&imported);
    let notes: Vec<&str> = w.lines().filter(|l| l.contains("is not modelled; ignored")).collect();
    assert_eq!(notes.len(), 3, "{w}");
    assert!(notes[0].contains("property 'spotMagic' of microsoft.compute/virtualmachines"), "{w}");
    assert!(notes[1].contains("property 'virtualNetwork' of microsoft.network/bastionhosts"), "{w}");
    assert!(notes[2].contains("property 'networkInterfaceConfigurations' of networkProfile"), "{w}");
}

#[test]
fn a_developer_bastion_is_left_out_with_a_caveat_not_an_error() {
    // The shape of the real nat-gateway-hub-spoke-firewall quickstart: no ipConfigurations, the
    // VNet named in properties.virtualNetwork, sku Developer.
    let text = r#"[{"type": "Microsoft.Network/bastionHosts", "name": "dev-bastion", "sku": {"name": "Developer"},
                        "properties": {"virtualNetwork": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v"}}},
                       {"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                        "subnets": [{"name": "web", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}]"#;
    let imported = import(&[("t.json", text)]).expect("imports");
    let caveat = imported.scenario.caveats.iter().find(|c| c.resource.ends_with("bastionHosts/dev-bastion"));
    let caveat = caveat.expect("a caveat names the Developer Bastion");
    assert_eq!(caveat.kind, CaveatKindSpec::UnmodelledResource);
    assert!(caveat.reason.contains("Developer SKU"), "{}", caveat.reason);
    assert!(imported.scenario.bastions.is_empty());
    assert!(!warnings(&imported).contains("not modelled; ignored"), "{}", warnings(&imported));
}

/// `flushConnection` is modelled now (issue 19 item 8): `true` reaches the scenario's
/// `flush_connection`, which the timeline applies, so it is no longer a caveat; a value that is
/// not a boolean is an error at its position.
#[test]
fn an_nsg_that_flushes_connections_is_imported_as_flush_connection() {
    let nsg = |flush: &str| {
        format!(
            r#"[{{"type": "Microsoft.Network/networkSecurityGroups", "name": "web-nsg", "properties": {{"flushConnection": {flush}, "securityRules": []}}}}]"#
        )
    };
    let imported = import(&[("t.json", &nsg("true"))]).expect("imports");
    assert!(imported.scenario.caveats.is_empty(), "modelled, not a gap");
    assert!(imported.scenario.nsgs.iter().any(|n| n.name == "web-nsg" && n.flush_connection));
    let imported = import(&[("t.json", &nsg("false"))]).expect("imports");
    assert!(imported.scenario.caveats.is_empty());
    assert!(imported.scenario.nsgs.iter().all(|n| !n.flush_connection), "Azure's default");
    let err = import(&[("t.json", &nsg(r#""yes""#))]).expect_err("not a boolean");
    assert!(err.to_string().contains("flushConnection: expected true or false"), "{err}");
}

/// A small template: an NSG named by a parameter without a default, a rule port from another,
/// and a storage account named with `uniqueString()`.
const PARAMETERISED: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {
    "nsgName": {"type": "string", "minLength": 3},
    "port": {"type": "int", "allowedValues": [22, 3389]},
    "adminPassword": {"type": "securestring"}
  },
  "resources": [
    {"type": "Microsoft.Storage/storageAccounts", "name": "[concat('sa', uniqueString(resourceGroup().id))]"},
    {"type": "Microsoft.Network/networkSecurityGroups", "name": "[parameters('nsgName')]",
     "properties": {"securityRules": [{"name": "mgmt", "properties": {"priority": 100, "direction": "Inbound",
       "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "Internet", "destinationPortRange": "[string(parameters('port'))]"}}]}}
  ]
}"#;

const PARAMETERS: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "nsgName": {"value": "web-nsg"},
    "port": {"value": 3389},
    "adminPassword": {"reference": {"keyVault": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv"}, "secretName": "vm-admin"}}
  }
}"#;

fn import_with(files: &[(&str, &str)], parameters: &[&str]) -> Result<Imported, ImportError> {
    let inputs: Vec<(PathBuf, String)> =
        files.iter().map(|(name, text)| (PathBuf::from(name), text.to_string())).collect();
    let options = ImportOptions {
        parameters: parameters.iter().map(|p| p.to_string()).collect(),
        ..ImportOptions::default()
    };
    import_texts(&inputs, &options)
}

/// Issue 17, wrong answer (h): a parameters file given as an input used to be read as an empty
/// resource file, and the template failed on its first parameter without a default.
#[test]
fn r17_h_a_parameters_file_among_the_inputs_applies_to_the_template() {
    let i =
        import_with(&[("t.json", PARAMETERISED), ("t.parameters.json", PARAMETERS)], &[]).expect("imports");
    let nsg = &i.scenario.nsgs[0];
    assert_eq!((nsg.name.as_str(), nsg.rules[0].destination_ports.as_str()), ("web-nsg", "3389"));
    let w = warnings(&i);
    assert!(
        w.contains("t.parameters.json:7:22: parameters.adminPassword: parameter 'adminPassword' is a Key Vault reference (secret 'vm-admin'"),
        "{w}"
    );
    // Without it, the NSG's name is a placeholder (a name decides nothing), and the port, which
    // decides what the rule lets through, is the error naming the parameter and how to pass it.
    let e = import_with(&[("t.json", PARAMETERISED)], &[]).expect_err("no value").to_string();
    assert_eq!(
        e,
        format!(
            "{}: resources[1].properties.securityRules[0].properties.destinationPortRange: '[string(parameters('port'))]': parameters('port'): the parameter has no value and no defaultValue; pass it with --parameters FILE or --parameter port=VALUE",
            place_of(PARAMETERISED, "\"[string(parameters('port'))]\"", 0)
        )
    );
    let i = import_with(&[("t.json", PARAMETERISED)], &["port=22"]).expect("a placeholder name");
    assert_eq!(i.scenario.nsgs[0].name, "param.nsgName");
    let w = warnings(&i);
    assert!(w.contains("parameters('nsgName') has no value and no defaultValue (Azure asks for it at deployment): the names it makes read 'param.nsgName' (a model choice), in resources[1].name"), "{w}");
    assert!(
        i.scenario.caveats.iter().any(|c| c.resource == "parameters('nsgName')"),
        "{:?}",
        i.scenario.caveats
    );
    let strict =
        ImportOptions { parameters: vec!["port=22".into()], strict: true, ..ImportOptions::default() };
    let e = import_texts(&[(PathBuf::from("t.json"), PARAMETERISED.to_string())], &strict)
        .expect_err("strict")
        .to_string();
    assert!(e.contains("--strict refuses its placeholder 'param.nsgName'; valid: pass it with --parameters FILE or --parameter nsgName=VALUE"), "{e}");
}

#[test]
fn command_line_values_win_over_files_and_are_checked_against_the_declaration() {
    let files = [("t.json", PARAMETERISED), ("t.parameters.json", PARAMETERS)];
    let i = import_with(&files, &["nsgName=cli-nsg", "port=22"]).expect("imports");
    assert_eq!(i.scenario.nsgs[0].name, "cli-nsg");
    assert_eq!(i.scenario.nsgs[0].rules[0].destination_ports, "22");
    let e = import_with(&files, &["port=80"]).expect_err("not allowed").to_string();
    assert!(
        e.starts_with(
            "--parameter port=80: parameter 'port': '80' is not one of the allowedValues (22, 3389)"
        ),
        "{e}"
    );
    let e = import_with(&files, &["nsgName=ab"]).expect_err("too short").to_string();
    assert_eq!(e, "--parameter nsgName=ab: parameter 'nsgName' has 2 characters, fewer than its minLength 3");
    // A value in a parameters file is placed there.
    let bad = PARAMETERS.replace("3389", "8080");
    let e = import_with(&[("t.json", PARAMETERISED), ("p.json", &bad)], &[])
        .expect_err("not allowed")
        .to_string();
    assert!(
        e.starts_with(&format!(
            "p.json:{}: parameters.port.value: '8080': parameter 'port'",
            &place_of(&bad, "8080", 0)[7..]
        )),
        "{e}"
    );
    // A name no template declares is refused, as Azure refuses it; names compare without case.
    let e = import_with(&files, &["nsgname=x-nsg", "colour=blue"]).expect_err("undeclared").to_string();
    assert_eq!(
        e,
        "--parameter colour=blue: parameter 'colour' is not declared by the template t.json; Azure refuses the deployment (\"If your parameter file contains extra parameters that don't match the template's parameters, you receive an error\"); parameters declared: nsgName, port, adminPassword; remove the argument from the command, or pass --allow-undeclared-parameters to import without the argument, with a warning (model choice)"
    );
    // --allow-undeclared-parameters imports it with a warning instead.
    let inputs: Vec<(PathBuf, String)> =
        files.iter().map(|(name, text)| (PathBuf::from(name), text.to_string())).collect();
    let lenient = ImportOptions {
        parameters: vec!["nsgname=x-nsg".into(), "colour=blue".into()],
        allow_undeclared_parameters: true,
        ..ImportOptions::default()
    };
    let i = import_texts(&inputs, &lenient).expect("imports");
    assert_eq!(i.scenario.nsgs[0].name, "x-nsg", "names compare without case");
    let w = warnings(&i);
    assert!(
        w.contains("--parameter colour=blue: parameter 'colour' is not declared by the template, and Azure refuses a deployment given it; ignored (--allow-undeclared-parameters, a model choice)"),
        "{w}"
    );
}

/// Every undeclared parameter is named in one error, each at its name in its parameters file or
/// as its argument, before anything is evaluated; without a template they stay a warning.
#[test]
fn undeclared_parameters_are_all_refused_at_their_names() {
    let extra = PARAMETERS.replace(
        "\"nsgName\": {\"value\": \"web-nsg\"},",
        "\"nsgName\": {\"value\": \"web-nsg\"},\n    \"vmSize\": {\"value\": \"Standard_B2s\"},\n    \"Location\": {\"value\": \"westeurope\"},",
    );
    let e = import_with(&[("t.json", PARAMETERISED), ("p.json", &extra)], &["colour=blue"])
        .expect_err("undeclared");
    let ImportError::UndeclaredParameters(refused) = &e else { panic!("{e}") };
    let names: Vec<(&str, String)> =
        refused.given.iter().map(|g| (g.name.as_str(), g.place.to_string())).collect();
    assert_eq!(
        names,
        [
            ("vmSize", "p.json:6:5: parameters.vmSize".to_string()),
            ("Location", "p.json:7:5: parameters.Location".to_string()),
            ("colour", "--parameter colour=blue".to_string())
        ]
    );
    assert!(
        e.to_string().starts_with(
            "p.json:6:5: parameters.vmSize: 3 parameters are not declared by the template t.json: 'vmSize' (here), 'Location' (p.json:7:5: parameters.Location), 'colour' (--parameter colour=blue); Azure refuses the deployment"
        ),
        "{e}"
    );
    // With no template, a parameter applies to nothing: a warning, at its name.
    let nsg = r#"{"type": "Microsoft.Network/networkSecurityGroups", "name": "nsgA",
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsgA",
        "securityRules": []}"#;
    let i = import_with(&[("az.json", nsg), ("p.json", &extra)], &[]).expect("imports");
    let w = warnings(&i);
    assert!(
        w.contains("p.json:6:5: parameters.vmSize: parameter 'vmSize' is given, but no ARM template is in the input; ignored"),
        "{w}"
    );
}

#[test]
fn a_key_vault_value_fails_only_where_nsgsim_needs_it() {
    let template = PARAMETERISED.replace("[parameters('nsgName')]", "[parameters('adminPassword')]");
    let e =
        import_with(&[("t.json", &template), ("p.json", PARAMETERS)], &[]).expect_err("needed").to_string();
    assert!(
        e.contains("parameters('adminPassword'): a Key Vault reference (secret 'vm-admin' of /subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv) is only read at deployment; give the value with --parameter adminPassword=VALUE"),
        "{e}"
    );
}

#[test]
fn the_summary_counts_each_type_read_imported_and_skipped() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Storage/storageAccounts", "name": "[uniqueString('x')]"},
        {"type": "Microsoft.Network/applicationGateways", "name": "agw", "copy": {"name": "c", "count": 3}},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "a"},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "A"},
        {"condition": false, "type": "Microsoft.Network/applicationSecurityGroups", "name": "b"},
        {"type": "Microsoft.Network/networkSecurityGroups", "name": "n"},
        {"name": "typeless"}
    ]}"#;
    let (i, _) = ok(text);
    let shown = i.summary.to_string();
    assert!(shown.contains("  Microsoft.Storage/storageAccounts: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)\n"), "{shown}");
    // A copy loop of a skipped type is one declaration: its count is not evaluated.
    assert!(shown.contains("  Microsoft.Network/applicationGateways: 1 read, 0 imported, 1 skipped (not modelled yet; CAN change traffic: "), "{shown}");
    assert!(
        shown.contains("  Microsoft.Network/applicationSecurityGroups: 3 read, 1 imported, 2 skipped (1 condition false: not deployed; 1 defined more than once; the first definition is kept)\n"),
        "{shown}"
    );
    assert!(shown.contains("  Microsoft.Network/networkSecurityGroups: 1 read, 1 imported\n"), "{shown}");
    assert!(
        shown.contains("  (no type): 1 read, 0 imported, 1 skipped (no 'type': not an Azure resource)\n"),
        "{shown}"
    );
    assert!(shown.ends_with("  1 skipped resource(s) can or may change traffic: answers from this scenario do not account for them\n"), "{shown}");
    assert!(!i.is_empty());
}

/// Held-out batch 4 (`fwm-docs-qs`): a firewall in a Virtual WAN hub is left out with a caveat;
/// the summary counted it, its policy and the policy's rule collection groups as "left out, see
/// the warnings" (no warning names the policy) and not among what can change traffic.
#[test]
fn a_hub_firewall_and_its_policy_count_among_the_skipped_resources_that_change_traffic() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.0.0/24"}}]}},
        {"type": "Microsoft.Network/firewallPolicies", "name": "pol", "properties": {}},
        {"type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups", "name": "pol/rcg",
         "properties": {"priority": 100, "ruleCollections": []}},
        {"type": "Microsoft.Network/azureFirewalls", "name": "fw", "properties": {
            "sku": {"name": "AZFW_Hub", "tier": "Standard"},
            "virtualHub": {"id": "[resourceId('Microsoft.Network/virtualHubs', 'hub')]"},
            "firewallPolicy": {"id": "[resourceId('Microsoft.Network/firewallPolicies', 'pol')]"}}}
    ]}"#;
    let (i, ron) = ok(text);
    let shown = i.summary.to_string();
    let why = "not modelled yet; CAN change traffic: an Azure Firewall in a Virtual WAN hub filters the traffic the hub routes through it";
    for kind in [
        "Microsoft.Network/azureFirewalls",
        "Microsoft.Network/firewallPolicies",
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
    ] {
        assert!(
            shown.contains(&format!("  {kind}: 1 read, 0 imported, 1 skipped ({why})\n")),
            "{kind}:\n{shown}"
        );
    }
    assert!(!shown.contains("left out"), "{shown}");
    assert!(shown.ends_with("  3 skipped resource(s) can or may change traffic: answers from this scenario do not account for them\n"), "{shown}");
    assert!(ron.contains(r#"resource: "Microsoft.Network/azureFirewalls/fw","#), "{ron}");
}

/// A policy that a firewall in a VNet also uses stays imported, whichever firewall comes first.
#[test]
fn a_policy_shared_with_a_vnet_firewall_stays_imported() {
    let hub = r#"{"type": "Microsoft.Network/azureFirewalls", "name": "hubfw", "properties": {
            "sku": {"name": "AZFW_Hub", "tier": "Standard"},
            "virtualHub": {"id": "[resourceId('Microsoft.Network/virtualHubs', 'hub')]"},
            "firewallPolicy": {"id": "[resourceId('Microsoft.Network/firewallPolicies', 'pol')]"}}}"#;
    let vnet_fw = r#"{"type": "Microsoft.Network/azureFirewalls", "name": "fw", "properties": {
            "ipConfigurations": [{"name": "c", "properties": {
                "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 'AzureFirewallSubnet')]"}}}],
            "firewallPolicy": {"id": "[resourceId('Microsoft.Network/firewallPolicies', 'pol')]"}}}"#;
    for (first, second) in [(hub, vnet_fw), (vnet_fw, hub)] {
        let text = format!(
            r#"{{"resources": [
            {{"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {{
                "addressSpace": {{"addressPrefixes": ["10.0.0.0/16"]}},
                "subnets": [{{"name": "AzureFirewallSubnet", "properties": {{"addressPrefix": "10.0.0.0/26"}}}}]}}}},
            {{"type": "Microsoft.Network/firewallPolicies", "name": "pol", "properties": {{}}}},
            {first}, {second}
        ]}}"#
        );
        let (i, _) = ok(&text);
        let shown = i.summary.to_string();
        assert!(shown.contains("  Microsoft.Network/firewallPolicies: 1 read, 1 imported\n"), "{shown}");
        assert!(shown.contains("  Microsoft.Network/azureFirewalls: 2 read, 1 imported, 1 skipped (not modelled yet; CAN change traffic: an Azure Firewall in a Virtual WAN hub"), "{shown}");
    }
}

/// Issue 17, wrong answer (b): `az vm show` output with extensions (`resources`) was read as a
/// template and the VM dropped, exit 0.
#[test]
fn r17_b_az_vm_show_with_extensions_is_a_vm() {
    let vm = r#"{"type": "Microsoft.Compute/virtualMachines", "name": "vm1",
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        "storageProfile": {"osDisk": {"osType": "Windows"}},
        "networkProfile": {"networkInterfaces": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic1"}]},
        "resources": [{"type": "Microsoft.Compute/virtualMachines/extensions", "name": "MDE.Windows",
          "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions/MDE.Windows"}]}"#;
    let net = r#"[{"type": "Microsoft.Network/virtualNetworks", "name": "v", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
          "subnets": [{"name": "s", "addressPrefix": "10.0.1.0/24"}]},
        {"type": "Microsoft.Network/networkInterfaces", "name": "nic1", "ipConfigurations": [{"name": "c",
          "privateIPAddress": "10.0.1.4", "subnet": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"}}]}]"#;
    let i = import(&[("vm.json", vm), ("net.json", net)]).expect("imports");
    assert_eq!(i.scenario.vms.len(), 1);
    assert_eq!(i.scenario.vms[0].name, "vm1");
    assert_eq!(i.scenario.vms[0].resource_group.as_deref(), Some("rg"));
    assert!(
        i.summary
            .to_string()
            .contains("Microsoft.Compute/virtualMachines/extensions: 1 read, 0 imported, 1 skipped")
    );
}

#[test]
fn templates_with_comments_multi_line_strings_and_any_case_keys_import() {
    let text = "// A template as ARM reads it.\n{\n  /* comments */ \"Resources\": [\n    {\"Type\": \"Microsoft.Network/networkSecurityGroups\", \"Name\": \"n\", // trailing\n     \"Properties\": {\"SecurityRules\": [{\"name\": \"r\", \"properties\": {\"Priority\": 100, \"direction\": \"Inbound\", \"access\": \"Deny\",\n       \"protocol\": \"*\", \"description\": \"two\nlines\", \"destinationPortRange\": \"x\"}}]}}]}";
    let e = err(text);
    // Positions count the comments and the line break inside the string; paths keep the
    // spelling of the keys.
    assert!(
        e.starts_with(&format!(
            "{}: Resources[0].Properties.SecurityRules[0].properties.destinationPortRange: 'x'",
            place_of(text, "\"x\"", 0)
        )),
        "{e}"
    );
    let (i, _) = ok(&text.replace("\"x\"", "\"22\""));
    assert_eq!(i.scenario.nsgs[0].rules[0].description, "two\nlines");
}

#[test]
fn bytes_that_are_not_utf8_are_placed() {
    let mut bytes =
        b"{\"resources\": [\n  {\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"r"
            .to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b"seau\"}]}");
    let input = super::Input { path: PathBuf::from("latin1.json"), bytes, parameters: false };
    let e = super::import_inputs(&[input], &ImportOptions::default()).expect_err("not UTF-8").to_string();
    assert!(e.starts_with("latin1.json:2:65: not valid JSON: not UTF-8: byte 0xE9"), "{e}");
}

/// The syntax page's own example: an expression broken over lines, and a resource id type with
/// a trailing slash.
#[test]
fn expressions_over_several_lines_and_types_with_a_trailing_slash_evaluate() {
    let text = "{\"parameters\": {\"prefix\": {\"type\": \"string\", \"defaultValue\": \"web\"}}, \"resources\": [\n  {\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"[\n    concat(parameters('prefix'), '-nsg')\n    ]\"},\n  {\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\"]},\n   \"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": \"10.0.1.0/24\",\n     \"networkSecurityGroup\": {\"id\": \"[resourceId('Microsoft.Network/networkSecurityGroups/', concat(parameters('prefix'), '-nsg'))]\"}}}]}}]}";
    let (i, _) = ok(text);
    assert_eq!(i.scenario.nsgs[0].name, "web-nsg");
    assert_eq!(i.scenario.vnets[0].subnets[0].nsg.as_deref(), Some("web-nsg"));
}

/// Issue 17, wrong answer (c): `az` output with the older casing `privateIpAddress` and
/// `publicIpAddress` lost the NIC's address and public IP. Property names are compared without
/// case, as ARM compares them.
#[test]
fn r17_c_older_property_casings_are_read() {
    let text = r#"[{"type": "Microsoft.Network/virtualNetworks", "name": "v", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [{"name": "s", "addressPrefix": "10.0.1.0/24"}]},
      {"type": "Microsoft.Network/publicIPAddresses", "name": "pip", "ipAddress": "20.1.2.3", "sku": {"name": "Standard"}},
      {"type": "Microsoft.Network/networkInterfaces", "name": "nic", "ipConfigurations": [{"name": "c", "privateIpAddress": "10.0.1.9",
        "privateIpAllocationMethod": "Static", "publicIpAddress": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/publicIPAddresses/pip"},
        "subnet": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/s"}}]}]"#;
    let (i, _) = ok(text);
    let nic = &i.scenario.vms[0].nics[0];
    assert_eq!((nic.private_ip.as_str(), nic.public_ip.as_deref()), ("10.0.1.9", Some("pip")));
    assert!(!warnings(&i).contains("privateIpAddress"), "{}", warnings(&i));
}

/// A skipped resource that can change traffic is recorded in the scenario's caveats (named as
/// written, where it is), so every answer that depends on it says so; a harmless one is not.
#[test]
fn skipped_resources_that_can_change_traffic_become_caveats() {
    let text = r#"{"resources": [
  {"type": "Microsoft.Storage/storageAccounts", "name": "[uniqueString('x')]"},
  {"type": "Microsoft.Network/applicationGateways", "name": "[concat('agw-', resourceGroup().name)]"},
  {"type": "Microsoft.Example/gadgets", "name": "g"},
  {"type": "Microsoft.Network/networkSecurityGroups", "name": "n"}]}"#;
    let (i, ron) = ok(text);
    let caveats: Vec<(&str, &str)> =
        i.scenario.caveats.iter().map(|c| (c.resource.as_str(), c.source.as_str())).collect();
    assert_eq!(
        caveats,
        [
            ("Microsoft.Network/applicationGateways/[concat('agw-', resourceGroup().name)]", "t.json:3:3"),
            ("Microsoft.Example/gadgets/g", "t.json:4:3")
        ]
    );
    assert!(
        i.scenario.caveats[0].reason.starts_with("not modelled: an application gateway forwards traffic")
    );
    assert_eq!(
        i.scenario.caveats[1].reason,
        "not modelled, and nsgsim does not know whether it changes traffic"
    );
    assert!(
        i.scenario.caveats.iter().all(|c| c.affects.is_empty()),
        "nothing of them was read: they affect all"
    );
    assert!(ron.contains("kind: UnmodelledResource,"), "{ron}");
}

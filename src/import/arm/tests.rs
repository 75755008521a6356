//! Unit tests of the template reader: unmodelled types, parameters, languageVersion 2.0,
//! references, nested deployments, limits.

use std::path::Path;

use super::*;
use crate::import::json::Value;
use crate::import::json::parse;

fn read(text: &str, parameters: &Parameters) -> Result<(Collected, Diagnostics), ImportError> {
    read_allowing(text, parameters, false)
}

fn read_allowing(
    text: &str,
    parameters: &Parameters,
    allow_undeclared: bool,
) -> Result<(Collected, Diagnostics), ImportError> {
    let mut diag = Diagnostics::default();
    let file = diag.add_file(Path::new("t.json"));
    let root = parse(text.as_bytes()).expect("JSON");
    let mut out = Collected::default();
    read_template(&root, file, parameters, &Deployment::default(), allow_undeclared, &mut diag, &mut out)?;
    Ok((out, diag))
}

#[test]
fn unmodelled_types_are_skipped_before_their_names_are_evaluated() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Storage/storageAccounts", "name": "[concat('sa', uniqueString(resourceGroup().id))]",
         "resources": [{"type": "blobServices", "name": "[guid()]"}]},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "asg"}]}"#;
    let (out, diag) = read(text, &Parameters::default()).expect("reads");
    assert_eq!(out.resources.len(), 1);
    assert_eq!(out.resources[0].names, ["asg"]);
    let skipped: Vec<&str> = out.skipped.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        skipped,
        ["Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/blobServices"]
    );
    let w: Vec<String> = diag.into_warnings().iter().map(ToString::to_string).collect();
    assert!(w[0].starts_with("t.json:2:9: resources[0]: resource type 'Microsoft.Storage/storageAccounts' is not imported: not modelled; cannot change NSG traffic"), "{w:?}");
}

#[test]
fn given_values_win_over_defaults_and_unneeded_unknowns_cost_nothing() {
    let text = r#"{"parameters": {"name": {"type": "string", "defaultValue": "x"}, "adminPassword": {"type": "securestring"}},
        "resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[parameters('name')]",
                       "properties": {"secret": "[parameters('adminPassword')]"}}]}"#;
    let mut parameters = Parameters::default();
    parameters.extend(vec![command_line("name=from-cli").expect("ok")]);
    let (out, _) = read(text, &parameters).expect("the password is never read");
    assert_eq!(out.resources[0].names, ["from-cli"]);
    let secret = out.resources[0].body.get("properties").and_then(|p| p.get("secret")).expect("kept");
    assert!(
        matches!(&secret.value, Value::Unknown(u) if matches!(&u.reason, crate::import::json::UnknownReason::ParameterNeeded { parameters, .. } if parameters == &["adminPassword"]) && u.reason.names_a_call() && u.reason.to_string().contains("--parameter adminPassword=VALUE")),
        "{secret:?}"
    );
}

#[test]
fn templates_are_told_from_resources_with_children() {
    let template = parse(br#"{"resources": []}"#).expect("JSON");
    let vm_show = parse(br#"{"type": "Microsoft.Compute/virtualMachines", "name": "vm", "resources": []}"#)
        .expect("JSON");
    let schema = parse(
        br#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"}"#,
    )
    .expect("JSON");
    assert!(is_template(&template) && is_template(&schema));
    assert!(!is_template(&vm_show));
}

fn names_of(out: &Collected) -> Vec<String> {
    out.resources.iter().map(|r| format!("{}|{}", r.kind, r.names.join("/"))).collect()
}

fn prop(r: &Resource, path: &[&str]) -> serde_json::Value {
    let mut node = &r.body;
    for p in path {
        match node.get(p) {
            Some(n) => node = n,
            None => return serde_json::Value::Null,
        }
    }
    match &node.value {
        Value::Unknown(u) => serde_json::Value::String(format!("unknown: {}", u.reason)),
        _ => node.to_json(),
    }
}

#[test]
fn language_version_2_reads_symbolic_resources_existing_references_and_copies() {
    let text = r##"{"languageVersion": "2.0", "contentVersion": "1.0.0.0",
      "definitions": {"ruleT": {"type": "object", "properties": {"port": {"type": "int"}}}},
      "parameters": {"prefix": {"type": "string", "defaultValue": "app"}, "maybe": {"type": "string", "nullable": true},
                     "rules": {"type": "array", "items": {"$ref": "#/definitions/ruleT"}, "defaultValue": [{"port": 22}, {"port": 3389}]}},
      "resources": {
        "hub": {"existing": true, "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "hub-vnet"},
        "vnet": {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "[format('{0}-vnet', parameters('prefix'))]",
                 "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [{"name": "web", "properties": {"addressPrefix": "10.0.1.0/24"}}]}},
        "nsgs": {"copy": {"name": "nsgs", "count": "[length(parameters('rules'))]"}, "type": "Microsoft.Network/networkSecurityGroups",
                 "apiVersion": "2023-09-01", "name": "[format('nsg-{0}', parameters('rules')[copyIndex()].port)]",
                 "dependsOn": ["vnet"], "properties": {"securityRules": []}},
        "asg": {"type": "Microsoft.Network/applicationSecurityGroups", "apiVersion": "2023-09-01",
                "name": "[format('{0}-{1}', reference('vnet').subnets[0].name, if(equals(parameters('maybe'), null()), 'none', 'x'))]",
                "tags": {"first": "[resourceInfo('nsgs[1]').name]"},
                "properties": {"probe": "[reference('hub').addressSpace]", "sibling": "[reference('nsgs[1]', '2023-09-01', 'Full').name]"}}
      }}"##;
    let (out, diag) = read(text, &Parameters::default()).expect("reads");
    assert_eq!(
        names_of(&out),
        [
            "Microsoft.Network/virtualNetworks|app-vnet",
            "Microsoft.Network/networkSecurityGroups|nsg-22",
            "Microsoft.Network/networkSecurityGroups|nsg-3389",
            "Microsoft.Network/applicationSecurityGroups|web-none"
        ],
        "the existing VNet is a reference target, not deployed"
    );
    let asg = &out.resources[3];
    assert_eq!(prop(asg, &["properties", "sibling"]), "nsg-3389");
    let probe = prop(asg, &["properties", "probe"]);
    assert!(
        probe.as_str().is_some_and(
            |p| p.contains("existing resource 'hub-vnet'") && p.contains("only known at deployment")
        ),
        "{probe}"
    );
    let w: Vec<String> = diag.into_warnings().iter().map(ToString::to_string).collect();
    assert!(w.iter().any(|w| w.contains("nsgsim does not validate values against them")), "{w:?}");
}

#[test]
fn a_parameter_of_a_nullable_user_defined_type_is_null_when_given_nothing() {
    // The shape of every Azure Verified Module's optional parameters: `$ref` to a definition that
    // is `nullable`, read through `coalesce(...)` in a property copy count.
    let text = r##"{"languageVersion": "2.0", "contentVersion": "1.0.0.0",
      "definitions": {"rulesT": {"type": "array", "items": {"type": "object"}, "nullable": true},
                      "aliasT": {"$ref": "#/definitions/rulesT"},
                      "requiredT": {"type": "array", "items": {"type": "object"}}},
      "parameters": {"rules": {"$ref": "#/definitions/rulesT"}, "aliased": {"$ref": "#/definitions/aliasT"},
                     "required": {"$ref": "#/definitions/requiredT"}},
      "resources": {
        "nsg": {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-11-01",
                "name": "[format('nsg-{0}-{1}', length(coalesce(parameters('rules'), createArray())), if(equals(parameters('aliased'), null()), 'none', 'some'))]",
                "properties": {"copy": [{"name": "securityRules", "count": "[length(coalesce(parameters('rules'), createArray()))]",
                                         "input": {"name": "[coalesce(parameters('rules'), createArray())[copyIndex('securityRules')].name]"}}]}}
      }}"##;
    let (out, _) = read(text, &Parameters::default()).expect("reads");
    assert_eq!(names_of(&out), ["Microsoft.Network/networkSecurityGroups|nsg-0-none"]);
    assert_eq!(prop(&out.resources[0], &["properties", "securityRules"]), serde_json::json!([]));
    // A type that is not nullable still needs a value, and the error says how to give it.
    let needs = text
        .replace("nsg-{0}-{1}", "nsg-{0}-{1}-{2}")
        .replace("'none', 'some'))]", "'none', 'some'), length(parameters('required')))]");
    let err = read(&needs, &Parameters::default()).expect_err("required has no value").to_string();
    assert!(err.contains("parameters('required'): the parameter has no value and no defaultValue"), "{err}");
}

#[test]
fn reference_resolves_a_declared_resource_by_id_and_a_cycle_is_named() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Network/networkInterfaces", "name": "nic",
         "properties": {"ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": "[reference(resourceId('Microsoft.Network/virtualNetworks', 'v')).subnets[0].id]"}}}],
                        "other": "[reference('nic').other]"}},
        {"type": "Microsoft.Network/virtualNetworks", "name": "v",
         "properties": {"subnets": [{"name": "s", "id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]"}]}}]}"#;
    let (out, _) = read(text, &Parameters::default()).expect("reads");
    let nic = &out.resources[0];
    let id = prop(nic, &["properties", "ipConfigurations"]);
    assert!(id.to_string().contains("/virtualNetworks/v/subnets/s"), "{id}");
    let cycle = prop(nic, &["properties", "other"]);
    assert!(cycle.as_str().is_some_and(|c| c.contains("cycle")), "{cycle}");
}

/// A nested template with its own scope is given `properties.parameters`, which Azure checks
/// against what declared: one it does not declare is refused at its name, every one in one
/// message; `--allow-undeclared-parameters` warns and deploys the rest. An `outer` template,
/// which has no parameters of its own, is not checked (model choice).
#[test]
fn a_nested_deployment_passing_an_undeclared_parameter_is_refused_at_its_name() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Resources/deployments", "name": "mod",
         "properties": {"expressionEvaluationOptions": {"scope": "inner"},
           "parameters": {"p": {"value": "x"},
             "extra": {"value": 1}, "other": {"value": 2}},
           "template": {"parameters": {"p": {"type": "string"}},
             "resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[parameters('p')]"}]}}},
        {"type": "Microsoft.Resources/deployments", "name": "outer",
         "properties": {"parameters": {"ignored": {"value": 1}},
           "template": {"resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "o"}]}}}]}"#;
    let e = read(text, &Parameters::default()).expect_err("undeclared");
    assert_eq!(
        e.to_string(),
        "t.json:5:14: resources[0].properties.parameters.extra: 2 parameters are not declared by the template of nested deployment 'mod': 'extra' (here), 'other' (t.json:5:37: resources[0].properties.parameters.other); Azure refuses the deployment (\"If your parameter file contains extra parameters that don't match the template's parameters, you receive an error\"); parameters declared: p; remove them from the deployment's properties.parameters, or pass --allow-undeclared-parameters to import without them, with a warning (model choice)"
    );
    let (out, diag) = read_allowing(text, &Parameters::default(), true).expect("reads");
    assert_eq!(
        names_of(&out),
        ["Microsoft.Network/applicationSecurityGroups|x", "Microsoft.Network/applicationSecurityGroups|o"]
    );
    let w: Vec<String> = diag.into_warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "t.json:5:14: resources[0].properties.parameters.extra: parameter 'extra' is not declared by the template of nested deployment 'mod', and Azure refuses a deployment given it; ignored (--allow-undeclared-parameters, a model choice)",
            "t.json:5:37: resources[0].properties.parameters.other: parameter 'other' is not declared by the template of nested deployment 'mod', and Azure refuses a deployment given it; ignored (--allow-undeclared-parameters, a model choice)"
        ]
    );
}

#[test]
fn nested_deployments_inner_and_outer_scopes_outputs_and_context() {
    let text = r#"{"parameters": {"p": {"type": "string", "defaultValue": "parent"}},
      "variables": {"v": "outer-var"},
      "resources": [
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "mod",
         "resourceGroup": "spoke-rg",
         "properties": {"expressionEvaluationOptions": {"scope": "inner"}, "mode": "Incremental",
           "parameters": {"p": {"value": "[concat(parameters('p'), '-given')]"}},
           "template": {"parameters": {"p": {"type": "string"}}, "variables": {"v": "inner-var"},
             "resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[concat(parameters('p'), '-', variables('v'), '-', resourceGroup().name, '-', deployment().name)]"},
                           {"type": "Microsoft.Resources/deployments", "name": "deeper", "properties": {"template": {"resources": [
                              {"type": "Microsoft.Network/applicationSecurityGroups", "name": "[concat('deep-', parameters('p'))]"}]}}}],
             "outputs": {"made": {"type": "string", "value": "[concat('out-', parameters('p'))]"}}}}},
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "outer", "resourceGroup": "other-rg",
         "properties": {"template": {"resources": [{"type": "Microsoft.Network/applicationSecurityGroups", "name": "[concat(variables('v'), '-', resourceGroup().name, '-', deployment().name)]"}]}}},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "[reference('mod').outputs.made.value]"}]}"#;
    let (out, _) = read(text, &Parameters::default()).expect("reads");
    assert_eq!(
        names_of(&out),
        [
            "Microsoft.Network/applicationSecurityGroups|parent-given-inner-var-spoke-rg-mod",
            "Microsoft.Network/applicationSecurityGroups|deep-parent-given",
            // An outer-scoped inline template resolves the context in the parent's scope too.
            "Microsoft.Network/applicationSecurityGroups|outer-var-nsgsim-rg-nsgsim-import",
            "Microsoft.Network/applicationSecurityGroups|out-parent-given"
        ]
    );
    assert_eq!(out.resources[0].src.path, "resources[0].properties.template.resources[0]");
    assert!(out.skipped.iter().filter(|s| s.reason == SkipReason::NestedDeployment).count() == 3);
}

#[test]
fn a_module_parameter_given_as_one_expression_is_evaluated_then_its_value_read() {
    // Bicep's form for a conditional module parameter (sharepoint-adfs, line 812 of the real file).
    let module = |entry: &str| {
        format!(
            r#"{{"parameters": {{"open": {{"type": "string", "defaultValue": "yes"}}}},
              "resources": [{{"type": "Microsoft.Resources/deployments", "name": "mod",
                "properties": {{"expressionEvaluationOptions": {{"scope": "inner"}},
                  "parameters": {{"p": {entry}}},
                  "template": {{"parameters": {{"p": {{"type": "array"}}}},
                    "resources": [{{"copy": {{"name": "asgs", "count": "[length(parameters('p'))]"}},
                      "type": "Microsoft.Network/applicationSecurityGroups",
                      "name": "[parameters('p')[copyIndex()]]"}}]}}}}}}]}}"#
        )
    };
    let conditional = r#""[if(equals(parameters('open'), 'no'), createObject('value', createArray()), createObject('value', createArray('asg-a', 'asg-b')))]""#;
    let (out, _) = read(&module(conditional), &Parameters::default()).expect("reads");
    assert_eq!(
        names_of(&out),
        [
            "Microsoft.Network/applicationSecurityGroups|asg-a",
            "Microsoft.Network/applicationSecurityGroups|asg-b"
        ]
    );
    // A parameter whose value a property copy loop makes (Bicep's `for` in a module parameter).
    let looped =
        r#"{"copy": [{"name": "value", "count": 2, "input": "[format('asg-{0}', copyIndex('value'))]"}]}"#;
    let (out, _) = read(&module(looped), &Parameters::default()).expect("reads");
    assert_eq!(
        names_of(&out),
        [
            "Microsoft.Network/applicationSecurityGroups|asg-0",
            "Microsoft.Network/applicationSecurityGroups|asg-1"
        ]
    );
    // An expression that does not give an entry leaves the parameter without a value, and says why.
    let err = read(&module(r#""[createArray('x')]""#), &Parameters::default()).expect_err("no value");
    let text = err.to_string();
    assert!(text.contains("not an object with 'value'"), "{text}");
}

#[test]
fn a_remote_link_is_never_fetched_and_is_recorded_unresolved() {
    let text = r#"{"resources": [{"type": "Microsoft.Resources/deployments", "name": "linked",
        "properties": {"templateLink": {"uri": "https://example.com/t/nested.json"}, "mode": "Incremental"}}]}"#;
    let (out, diag) = read(text, &Parameters::default()).expect("reads");
    assert!(out.resources.is_empty());
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(
        (out.skipped[0].name.as_str(), out.skipped[0].reason),
        ("https://example.com/t/nested.json", SkipReason::UnresolvedLink)
    );
    let w: Vec<String> = diag.into_warnings().iter().map(ToString::to_string).collect();
    assert!(
        w[0].contains(
            "the linked template 'https://example.com/t/nested.json' is not local and is never fetched"
        ),
        "{w:?}"
    );
}

#[test]
fn more_than_800_resources_is_refused_before_anything_is_expanded() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Network/networkSecurityGroups", "name": "[concat('n', copyIndex())]", "copy": {"name": "c", "count": 800},
         "properties": {"copy": [{"name": "securityRules", "count": 800, "input": {"name": "[concat('r', copyIndex('securityRules'))]"}}]}},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "one-more"}]}"#;
    let start = std::time::Instant::now();
    let e = read(text, &Parameters::default()).expect_err("801 resources").to_string();
    assert!(e.starts_with("t.json:4:9: resources[1]: the template declares more than 800 resources"), "{e}");
    assert!(start.elapsed().as_secs() < 2);
}

#[test]
fn an_output_copy_loop_is_an_array_of_its_input() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Resources/deployments", "name": "mod",
         "properties": {"expressionEvaluationOptions": {"scope": "inner"}, "template": {"resources": [],
           "outputs": {"names": {"type": "array", "copy": {"count": 2, "input": "[concat('asg-', string(copyIndex()))]"}}}}}},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "[reference('mod').outputs.names.value[1]]"}]}"#;
    let (out, _) = read(text, &Parameters::default()).expect("reads");
    assert_eq!(names_of(&out), ["Microsoft.Network/applicationSecurityGroups|asg-1"]);
}

#[test]
fn a_referenced_child_resource_declared_inline_has_the_id_azure_gives_it() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Network/virtualNetworks", "name": "vnet", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
          "subnets": [{"name": "web", "properties": {"addressPrefix": "10.0.1.0/24"}}]}},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "[last(split(reference(resourceId('Microsoft.Network/virtualNetworks', 'vnet')).subnets[0].id, '/subnets/'))]"},
        {"type": "Microsoft.Network/applicationSecurityGroups", "name": "[if(equals(reference('vnet').subnets[0].id, resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'web')), 'same-id', 'another-id')]"}]}"#;
    let (out, _) = read(text, &Parameters::default()).expect("reads");
    assert_eq!(
        names_of(&out)[1..],
        [
            "Microsoft.Network/applicationSecurityGroups|web".to_string(),
            "Microsoft.Network/applicationSecurityGroups|same-id".to_string()
        ]
    );
}

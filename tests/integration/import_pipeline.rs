//! Issue 17, stage 1, end to end: parameters files and `--parameter` values, the summary per
//! resource type, exit 1 for an input with nothing to simulate, and JSON as ARM reads it.

use crate::util::{TempDir, nsgsim, position};

/// A template that needs two parameters and holds a storage account named with a function
/// nsgsim does not evaluate, with `//` comments and a multi-line description.
const TEMPLATE: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  // Values come from a parameters file or the command line.
  "parameters": {
    "prefix": {"type": "string"},
    "rdpSource": {"type": "string", "allowedValues": ["Internet", "10.0.0.0/8"]}
  },
  "variables": {"vnet": "[concat(parameters('prefix'), '-vnet')]"},
  "resources": [
    {"type": "Microsoft.Storage/storageAccounts", "name": "[concat('diag', uniqueString(resourceGroup().id))]"},
    {"type": "Microsoft.Network/networkSecurityGroups", "name": "[concat(parameters('prefix'), '-nsg')]",
     "properties": {"securityRules": [
       {"name": "rdp", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefix": "[parameters('rdpSource')]", "destinationPortRange": "3389",
        "description": "RDP for the
operators"}}]}},
    {"type": "Microsoft.Network/virtualNetworks", "name": "[variables('vnet')]",
     "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
       "subnets": [{"name": "app", "properties": {"addressPrefix": "10.1.1.0/24",
         "networkSecurityGroup": {"id": "[resourceId('Microsoft.Network/networkSecurityGroups', concat(parameters('prefix'), '-nsg'))]"}}}]}}
  ]
}"#;

const PARAMETERS: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {"prefix": {"value": "prod"}, "rdpSource": {"value": "Internet"}}
}"#;

#[test]
fn import_applies_parameters_files_and_command_line_values() {
    let dir = TempDir::new("import-params");
    let template = dir.write("t.json", TEMPLATE);
    let params = dir.write("t.parameters.json", PARAMETERS);
    let out = dir.path().join("out.ron").display().to_string();
    let run = nsgsim(&["import", &template, "--parameters", &params, "-o", &out]);
    run.assert_code(0).stderr_has(&[
        "import summary, per resource type:",
        "  Microsoft.Network/networkSecurityGroups: 1 read, 1 imported\n",
        "  Microsoft.Network/virtualNetworks: 1 read, 1 imported\n",
        "  Microsoft.Storage/storageAccounts: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)\n",
        "imported 1 vnet(s), 1 nsg(s), 0 vm(s), 0 jit policies",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("Nsg(name: \"prod-nsg\", rules: ["), "{text}");
    assert!(
        text.contains(
            "source: \"Internet\", destination_ports: \"3389\", description: \"RDP for the\\noperators\""
        ),
        "{text}"
    );
    nsgsim(&["check", &out]).assert_code(0);
    // `@FILE` as az writes it, and a command-line value that wins over the file.
    let run =
        nsgsim(&["import", &template, "--parameters", &format!("@{params}"), "--parameter", "prefix=test"]);
    run.assert_code(0).stdout_has(&["\"test-nsg\"", "\"test-vnet\""]);
    // A value the declaration refuses: exit 2, at the value in its file, or naming the argument.
    let bad = dir.write("bad.parameters.json", &PARAMETERS.replace("\"Internet\"", "\"*\""));
    let (line, column) = position(&PARAMETERS.replace("\"Internet\"", "\"*\""), "\"*\"", 0);
    nsgsim(&["import", &template, "--parameters", &bad]).assert_code(2).stderr_has(&[
        &format!("bad.parameters.json:{line}:{column}: parameters.rdpSource.value: '*': parameter 'rdpSource': '*' is not one of the allowedValues (Internet, 10.0.0.0/8)"),
    ]);
    nsgsim(&["import", &template, "--parameters", &params, "--parameter", "rdpSource=Any"])
        .assert_code(2)
        .stderr_has(&[
            "--parameter rdpSource=Any: parameter 'rdpSource': 'Any' is not one of the allowedValues",
        ]);
    nsgsim(&["import", &template, "--parameter", "prefix"])
        .assert_code(2)
        .stderr_has(&["--parameter prefix: expected NAME=VALUE"]);
    // Without values: the prefix only names things (a placeholder), but the rule's source, which
    // decides traffic, is the error naming its parameter and how to give it (its allowedValues
    // are no licence to pick one).
    let (line, column) = position(TEMPLATE, "\"[parameters('rdpSource')]\"", 0);
    nsgsim(&["import", &template]).assert_code(2).stderr_has(&[&format!(
        "t.json:{line}:{column}: resources[1].properties.securityRules[0].properties.sourceAddressPrefix: '[parameters('rdpSource')]': parameters('rdpSource'): the parameter has no value and no defaultValue, and property 'sourceAddressPrefix' needs its value (nsgsim puts a placeholder only in a name or a resource id); valid: pass it with --parameters FILE or --parameter rdpSource=VALUE"
    )]);
}

/// Issue 17, wrong answer (h): a parameters file given as a plain input was silently read as an
/// empty resource file, and the template imported with its defaults (or failed on the first
/// parameter without one).
#[test]
fn r17_h_a_parameters_file_given_as_an_input_is_applied() {
    let dir = TempDir::new("import-params-input");
    let template = dir.write("t.json", TEMPLATE);
    let params = dir.write("t.parameters.json", PARAMETERS);
    // The bare form `az` also accepts, and a parameter no template declares.
    let bare = dir.write(
        "bare.json",
        r#"{"prefix": {"value": "bare"}, "rdpSource": {"value": "10.0.0.0/8"}, "extra": {"value": 1}}"#,
    );
    nsgsim(&["import", &template, &params]).assert_code(0).stdout_has(&["\"prod-nsg\""]);
    // The parameter no template declares is refused, as Azure refuses it, at its name (wp-params:
    // before, a warning); `--allow-undeclared-parameters` keeps the warning and imports.
    nsgsim(&["import", &template, &bare]).assert_code(2).stderr_has(&[
        "bare.json:1:69: extra: parameter 'extra' is not declared by the template ",
        "t.json; Azure refuses the deployment",
        "declared: prefix, rdpSource; remove it from the parameters file, or pass --allow-undeclared-parameters",
    ]);
    nsgsim(&["import", &template, &bare, "--allow-undeclared-parameters"]).assert_code(0).stdout_has(&["\"bare-nsg\"", "source: \"10.0.0.0/8\""]).stderr_has(&[
        "bare.json:1:69: extra: parameter 'extra' is not declared by the template, and Azure refuses a deployment given it; ignored (--allow-undeclared-parameters, a model choice)",
    ]);
}

/// An input with nothing nsgsim can simulate exits 1 with the summary, and writes nothing: an
/// empty scenario would lint clean and answer "no findings" for a template that opens RDP.
#[test]
fn import_of_nothing_to_simulate_exits_1_with_the_summary() {
    let dir = TempDir::new("import-empty");
    let lb = dir.write(
        "lb.json",
        // Application gateways: still skipped (NAT gateways, used here before, are imported).
        r#"{"value": [{"type": "Microsoft.Network/applicationGateways", "name": "agw1", "properties": {}},
                      {"type": "Microsoft.Network/applicationGateways", "name": "agw2", "properties": {}}]}"#,
    );
    let out = dir.path().join("out.ron");
    let run = nsgsim(&["import", &lb, "-o", &out.display().to_string()]);
    run.assert_code(1).stderr_has(&[
        "  Microsoft.Network/applicationGateways: 2 read, 0 imported, 2 skipped (not modelled yet; CAN change traffic: an application gateway forwards traffic",
        "  2 skipped resource(s) can or may change traffic",
        "the input yields no virtual network and no network security group",
        "nothing written",
    ]);
    assert!(!out.exists(), "an empty import was written");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // A nested deployment whose template deploys nothing: read (stage 2 evaluates nested
    // deployments) and counted, and the import is still refused as empty, never silently.
    let nested = dir.write(
        "nested.json",
        r#"{"resources": [{"type": "Microsoft.Resources/deployments", "name": "[uniqueString('x')]", "properties": {"template": {}}}]}"#,
    );
    nsgsim(&["import", &nested]).assert_code(1).stderr_has(&[
        "Microsoft.Resources/deployments: 1 read, 0 imported, 1 skipped (a nested deployment: what it deploys is read and counted by type)",
        "the input yields no virtual network and no network security group",
    ]);
}

/// Issue 17, wrong answer (b): `az vm show` output with its extensions (`resources`) was read as
/// a template; the VM was dropped and the import exited 0.
#[test]
fn r17_b_az_vm_show_with_extensions_is_imported_as_a_vm() {
    let dir = TempDir::new("import-vm-show");
    let vm = dir.write(
        "vm.json",
        r#"{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/jump",
  "name": "jump", "type": "Microsoft.Compute/virtualMachines", "location": "westeurope",
  "networkProfile": {"networkInterfaces": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/jump-nic"}]},
  "storageProfile": {"osDisk": {"osType": "Linux"}},
  "resources": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/jump/extensions/AzureMonitorLinuxAgent",
                 "name": "AzureMonitorLinuxAgent", "type": "Microsoft.Compute/virtualMachines/extensions"}]}"#,
    );
    let net = dir.write(
        "net.json",
        r#"[{"type": "Microsoft.Network/virtualNetworks", "name": "v", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "s", "addressPrefix": "10.0.1.0/24"}]},
           {"type": "Microsoft.Network/networkInterfaces", "name": "jump-nic", "ipConfigurations": [{"name": "c", "privateIPAddress": "10.0.1.4",
            "subnet": {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s"}}]}]"#,
    );
    nsgsim(&["import", &vm, &net])
        .assert_code(0)
        .stdout_has(&["Vm(name: \"jump\", os: Linux", "Nic(name: \"jump-nic\""])
        .stderr_has(&[
            "  Microsoft.Compute/virtualMachines: 1 read, 1 imported\n",
            "  Microsoft.Compute/virtualMachines/extensions: 1 read, 0 imported, 1 skipped (not modelled; cannot change NSG traffic)\n",
        ]);
}

/// Bytes that are not UTF-8 are placed at the bad byte (it used to be "stream did not contain
/// valid UTF-8", with no place).
#[test]
fn import_places_invalid_utf8_at_the_bad_byte() {
    let dir = TempDir::new("import-latin1");
    let path = dir.path().join("latin1.json");
    std::fs::write(
        &path,
        b"[{\"type\": \"Microsoft.Network/applicationSecurityGroups\",\n  \"name\": \"caf\xe9\"}]",
    )
    .expect("writable");
    nsgsim(&["import", &path.display().to_string()])
        .assert_code(2)
        .stderr_has(&["latin1.json:2:15: not valid JSON: not UTF-8: byte 0xE9"]);
}

/// What the import skipped that can change traffic is written into the scenario's caveats, so
/// `lint` does not say "no findings" alone and `--strict` refuses the incomplete model.
#[test]
fn skipped_resources_that_can_change_traffic_are_named_by_every_answer() {
    let dir = TempDir::new("import-caveats");
    let template = dir.write(
        "lb.json",
        "{\"resources\": [\n  {\"type\": \"Microsoft.Network/applicationGateways\", \"name\": \"agw-web\"},\n  {\"type\": \"Microsoft.Storage/storageAccounts\", \"name\": \"[uniqueString('x')]\"},\n  {\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"n\"}]}",
    );
    let out = dir.path().join("lb.ron").display().to_string();
    nsgsim(&["import", &template, "-o", &out]).assert_code(0);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("resource: \"Microsoft.Network/applicationGateways/agw-web\","), "{text}");
    assert!(!text.contains("storageAccounts"), "a harmless type is no caveat:\n{text}");
    nsgsim(&["lint", &out]).assert_code(0).stdout_has(&[
        "but 1 caveat: Microsoft.Network/applicationGateways/agw-web (",
        "lb.json:2:3) — answers may be incomplete",
    ]);
    nsgsim(&["lint", &out, "--strict"]).assert_code(1);
}

/// A peering to a VNet outside the input is not modelled (its space is neither routed nor in the
/// VirtualNetwork tag), and that changes answers: it is a caveat every answer names, not only an
/// import warning; `--strict` refuses it at the peering's `remoteVirtualNetwork.id`.
#[test]
fn a_peering_to_a_vnet_outside_the_input_is_a_caveat_of_every_answer() {
    let dir = TempDir::new("peering-outside");
    let template =
        crate::util::root().join("tests/data/import/peering-outside-input.json").display().to_string();
    let out = dir.path().join("a.ron").display().to_string();
    nsgsim(&["import", &template, "-o", &out]).assert_code(0).stderr_has(&[
        "peering-outside-input.json:15:47: resources[0].properties.virtualNetworkPeerings[0].properties.remoteVirtualNetwork.id: peering 'a-to-hub' of virtual network 'vnet-a' to virtual network 'vnet-hub', which is not in the input; not modelled",
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("kind: UnresolvedReference,"), "{text}");
    assert!(text.contains("resource: \"Microsoft.Network/virtualNetworks/vnet-hub\","), "{text}");
    assert!(text.contains("affects: [\"vnet-a\"]"), "{text}");
    nsgsim(&["lint", &out]).assert_code(0).stdout_has(&[
        "but 1 caveat: an unresolved reference to Microsoft.Network/virtualNetworks/vnet-hub (",
        "peering-outside-input.json:15:47) — answers may be incomplete",
    ]);
    nsgsim(&["import", &template, "--strict", "-o", &out])
        .assert_code(2)
        .stderr_has(&["peering-outside-input.json:15:47:", "--strict refuses"]);
}

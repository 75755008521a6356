//! Import at scale, through the public pipeline (`nsgsim::import::import_texts`):
//! - `import/template-200-resources`: a generated ARM template of 200 resources (40 each of NSGs
//!   with five rules, VNets with a subnet, public IPs, NICs and VMs), with parameters, variables,
//!   a copy loop and `resourceId()` references, imported into a scenario;
//! - `import/sharepoint-adfs`: the largest published template of the real-world corpus (1.6 MB,
//!   five nested deployments, evaluated), when `../shared/data/real-world/` is here.
//!
//! Run: `cargo bench --bench import`.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group};
use nsgsim::import::{ImportOptions, import_texts};

/// A template of `groups` × 5 resources.
fn template(groups: usize) -> String {
    let mut resources = Vec::new();
    for g in 0..groups {
        let rules: Vec<String> = (0..5)
            .map(|r| {
                format!(
                    r#"{{"name": "r{r}", "properties": {{"priority": {}, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                      "sourceAddressPrefix": "[parameters('source')]", "destinationPortRange": "{}"}}}}"#,
                    100 + r,
                    8000 + r
                )
            })
            .collect();
        resources.push(format!(
            r#"{{"type": "Microsoft.Network/networkSecurityGroups", "name": "[concat(variables('prefix'), 'nsg{g}')]", "location": "[resourceGroup().location]",
                "properties": {{"securityRules": [{}]}}}}"#,
            rules.join(",")
        ));
        resources.push(format!(
            r#"{{"type": "Microsoft.Network/virtualNetworks", "name": "vnet{g}", "properties": {{"addressSpace": {{"addressPrefixes": ["10.{g}.0.0/16"]}},
                "subnets": [{{"name": "s", "properties": {{"addressPrefix": "10.{g}.1.0/24",
                  "networkSecurityGroup": {{"id": "[resourceId('Microsoft.Network/networkSecurityGroups', concat(variables('prefix'), 'nsg{g}'))]"}}}}}}]}}}}"#
        ));
        resources.push(format!(
            r#"{{"type": "Microsoft.Network/publicIPAddresses", "name": "pip{g}", "sku": {{"name": "Standard"}}, "properties": {{"publicIPAllocationMethod": "Static"}}}}"#
        ));
        resources.push(format!(
            r#"{{"type": "Microsoft.Network/networkInterfaces", "name": "nic{g}", "properties": {{"ipConfigurations": [{{"name": "c", "properties": {{
                "privateIPAddress": "10.{g}.1.4", "subnet": {{"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet{g}', 's')]"}},
                "publicIPAddress": {{"id": "[resourceId('Microsoft.Network/publicIPAddresses', 'pip{g}')]"}}}}}}]}}}}"#
        ));
        resources.push(format!(
            r#"{{"type": "Microsoft.Compute/virtualMachines", "name": "vm{g}", "properties": {{"storageProfile": {{"osDisk": {{"osType": "Linux"}}}},
                "osProfile": {{"adminPassword": "[parameters('password')]"}},
                "networkProfile": {{"networkInterfaces": [{{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'nic{g}')]"}}]}}}}}}"#
        ));
    }
    format!(
        r#"{{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": {{"source": {{"type": "string", "defaultValue": "Internet"}}, "password": {{"type": "securestring"}}}},
  "variables": {{"prefix": "app-"}},
  "resources": [{}]}}"#,
        resources.join(",\n")
    )
}

fn bench_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    let text = template(40);
    let inputs = vec![(PathBuf::from("generated.json"), text)];
    let options = ImportOptions::default();
    let imported = import_texts(&inputs, &options).expect("the generated template imports");
    assert_eq!(imported.scenario.vms.len(), 40);
    group.bench_function("template-200-resources", |b| b.iter(|| import_texts(&inputs, &options).is_ok()));
    let sharepoint = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "../shared/data/real-world/arm/application-workloads-sharepoint-sharepoint-adfs.azuredeploy.json",
    );
    let parameters = sharepoint
        .with_file_name("application-workloads-sharepoint-sharepoint-adfs.azuredeploy.parameters.json");
    if let (Ok(text), Ok(given)) =
        (std::fs::read_to_string(&sharepoint), std::fs::read_to_string(&parameters))
    {
        // With its parameters file, as the corpus test imports it.
        let inputs = vec![(sharepoint.clone(), text), (parameters.clone(), given)];
        group.bench_function("sharepoint-adfs", |b| b.iter(|| import_texts(&inputs, &options).is_ok()));
    }
    group.finish();
}

criterion_group!(benches, bench_import);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}

//! What Azure decides when the JSON does not say, read as Azure decides it: a public IP's SKU
//! (issue 17, wrong answer (d)), a VM's OS through a parameter (wrong answer (f)), and
//! Defender's JIT rules already in an NSG imported with its policy (wrong answer (g)).

use super::{ok, warnings};
use crate::scenario::schema::{OsSpec, SkuSpec};

fn pip(extra: &str) -> String {
    format!(
        r#"{{"resources": [{{"type": "Microsoft.Network/networkSecurityGroups", "name": "n"}},
  {{"type": "Microsoft.Network/publicIPAddresses", "apiVersion": "2020-05-01", "name": "p", {extra}}}]}}"#
    )
}

/// Issue 17, wrong answer (d): a public IP with no SKU and Dynamic allocation became Standard
/// (closed unless an NSG allows) where Azure makes it Basic (open unless an NSG denies).
#[test]
fn r17_d_a_public_ip_without_sku_is_basic_as_azure_makes_it() {
    let (i, ron) = ok(&pip(r#""properties": {"publicIPAllocationMethod": "Dynamic"}"#));
    assert!(matches!(i.scenario.public_ips[0].sku, Some(SkuSpec::Basic)));
    assert!(ron.contains(r#"PublicIp(name: "p", address: "192.0.2.10", sku: Basic)"#), "{ron}");
    let w = warnings(&i);
    assert!(
        w.contains("public IP 'p': no sku and Dynamic allocation (API version 2020-05-01): only a Basic public IP can be dynamic"),
        "{w}"
    );
    // Static, no SKU: Basic too, Azure's default when none is given.
    let (i, _) = ok(&pip(r#""properties": {"publicIPAllocationMethod": "Static"}"#));
    assert!(matches!(i.scenario.public_ips[0].sku, Some(SkuSpec::Basic)));
    assert!(
        warnings(&i)
            .contains("no sku (API version 2020-05-01): Azure creates a Basic public IP when none is given")
    );
    // Given: as given, without a word.
    let (i, _) =
        ok(&pip(r#""sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}"#));
    assert!(matches!(i.scenario.public_ips[0].sku, Some(SkuSpec::Standard)));
    assert!(!warnings(&i).contains("sku"), "{}", warnings(&i));
    // Azure refuses a Standard public IP with Dynamic allocation.
    let e = super::err(&pip(
        r#""sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Dynamic"}"#,
    ));
    assert!(e.contains("properties.publicIPAllocationMethod: 'Dynamic': public IP 'p' is Standard SKU with Dynamic allocation; Azure refuses it"), "{e}");
}

/// Issue 17, wrong answer (f): a Windows image given through a parameter was imported as
/// Linux.
#[test]
fn r17_f_a_windows_image_given_through_a_parameter_is_windows() {
    let text = r#"{"parameters": {"image": {"type": "object", "defaultValue": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer", "sku": "2022-datacenter-azure-edition", "version": "latest"}},
                  "publisher": {"type": "string", "defaultValue": "MicrosoftSQLServer"}},
  "resources": [
  {"type": "Microsoft.Network/virtualNetworks", "name": "v", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.1.0/24"}}]}},
  {"type": "Microsoft.Network/networkInterfaces", "name": "n1", "properties": {"ipConfigurations": [{"name": "c", "properties": {"privateIPAddress": "10.0.1.4", "privateIPAllocationMethod": "Static", "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]"}}}]}},
  {"type": "Microsoft.Network/networkInterfaces", "name": "n2", "properties": {"ipConfigurations": [{"name": "c", "properties": {"privateIPAddress": "10.0.1.5", "privateIPAllocationMethod": "Static", "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]"}}}]}},
  {"type": "Microsoft.Network/networkInterfaces", "name": "n3", "properties": {"ipConfigurations": [{"name": "c", "properties": {"privateIPAddress": "10.0.1.6", "privateIPAllocationMethod": "Static", "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]"}}}]}},
  {"type": "Microsoft.Compute/virtualMachines", "name": "win", "properties": {"storageProfile": {"imageReference": "[parameters('image')]"},
     "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'n1')]"}]}}},
  {"type": "Microsoft.Compute/virtualMachines", "name": "sql", "properties": {"storageProfile": {"imageReference": {"publisher": "[parameters('publisher')]", "offer": "sql2022-ws2022", "sku": "standard-gen2"}},
     "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'n2')]"}]}}},
  {"type": "Microsoft.Compute/virtualMachines", "name": "custom", "properties": {"storageProfile": {"imageReference": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/images/golden"}},
     "networkProfile": {"networkInterfaces": [{"id": "[resourceId('Microsoft.Network/networkInterfaces', 'n3')]"}]}}}]}"#;
    let (i, _) = ok(text);
    let os: Vec<(&str, bool)> =
        i.scenario.vms.iter().map(|v| (v.name.as_str(), matches!(v.os, OsSpec::Windows))).collect();
    assert_eq!(os, [("win", true), ("sql", true), ("custom", false)]);
    let w = warnings(&i);
    assert!(
        w.contains("virtual machine 'custom': the OS is not known (no storageProfile.osDisk.osType, no osProfile.windowsConfiguration or linuxConfiguration, the image is a custom image (imageReference.id), whose OS the JSON does not say); imported as Linux (JIT's default ports, 22, 3389, 5985 and 5986, cover both)"),
        "{w}"
    );
}

/// An NSG exported with Defender's JIT rules, and the JIT policy with an open request.
pub(super) const JIT_EXPORT: &str = r#"[
  {"type": "Microsoft.Network/virtualNetworks", "name": "v", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
   "subnets": [{"name": "s", "addressPrefix": "10.0.1.0/24"}]},
  {"type": "Microsoft.Network/networkSecurityGroups", "name": "vm1-nsg", "securityRules": [
    {"name": "SecurityCenter-JITRule_-1105480617_9EF6964FE766478B9EC568B32FB82045", "priority": 4096, "direction": "Inbound", "access": "Deny", "protocol": "*",
     "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "10.0.1.4", "destinationPortRange": "22",
     "description": "ASC JIT Network Access rule for policy 'default' of VM 'vm1'."},
    {"name": "SecurityCenter-JITRule-1105480617-9EF6964FE766478B9EC568B32FB82045", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "203.0.113.5", "sourcePortRange": "*", "destinationAddressPrefix": "10.0.1.4", "destinationPortRange": "22",
     "description": "ASC JIT Network Access rule created by an initiation request for policy 'default' of VM 'vm1'."},
    {"name": "SecurityCenter-JITRule-77-AAAA", "priority": 101, "direction": "Inbound", "access": "Allow", "protocol": "*",
     "sourceAddressPrefix": "198.51.100.7", "sourcePortRange": "*", "destinationAddressPrefix": "10.0.1.4", "destinationPortRange": "3389"}]},
  {"type": "Microsoft.Network/networkInterfaces", "name": "vm1-nic", "ipConfigurations": [{"name": "c", "privateIpAddress": "10.0.1.4",
     "subnet": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/s"}}],
   "networkSecurityGroup": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/vm1-nsg"},
   "virtualMachine": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1"}},
  {"type": "Microsoft.Security/locations/jitNetworkAccessPolicies", "name": "default", "kind": "Basic",
   "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/default",
   "properties": {"virtualMachines": [{"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1",
       "ports": [{"number": 22, "protocol": "*", "allowedSourceAddressPrefix": "*", "maxRequestAccessDuration": "PT3H"},
                 {"number": 3389, "protocol": "*", "allowedSourceAddressPrefix": "*", "maxRequestAccessDuration": "PT3H"}]}],
     "requests": [{"virtualMachines": [{"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1",
          "ports": [{"number": 22, "allowedSourceAddressPrefix": "203.0.113.5", "endTimeUtc": "2025-01-06T10:00:00Z", "status": "Initiated", "statusReason": "UserRequested"}]}],
        "startTimeUtc": "2025-01-06T08:00:00Z", "requestor": "barbara@contoso.com"},
       {"virtualMachines": [{"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1",
          "ports": [{"number": 3389, "allowedSourceAddressPrefix": "198.51.100.7", "endTimeUtc": "2025-01-05T10:00:00Z", "status": "Revoked", "statusReason": "Expired"}]}],
        "startTimeUtc": "2025-01-05T08:00:00Z", "requestor": "carl@contoso.com"}]}}
]"#;

/// Issue 17, wrong answer (g): an NSG that already held Defender's JIT rules, imported with its
/// JIT policy, got a second set of JIT deny rules when the policy was enabled at the start.
#[test]
fn r17_g_defender_rules_are_taken_over_not_written_twice() {
    let (i, ron) = ok(JIT_EXPORT);
    let policy = &i.scenario.jit_policies[0];
    assert_eq!(policy.active_grants.len(), 1, "the revoked request is history");
    let g = &policy.active_grants[0];
    assert_eq!(
        (g.vm.as_str(), g.port, g.source.as_str(), g.requestor.as_str(), g.ends_at.as_str()),
        ("vm1", 22, "203.0.113.5", "barbara@contoso.com", "2025-01-06T10:00:00Z")
    );
    assert!(ron.contains(r#"active_grants: [
            Grant(vm: "vm1", port: 22, source: "203.0.113.5", requestor: "barbara@contoso.com", ends_at: "2025-01-06T10:00:00Z"),"#), "{ron}");
    let w = warnings(&i);
    assert!(w.contains("is Defender's JIT deny rule for VM 'vm1' port 22: JIT policy 'default/vm1' takes it over at the start"), "{w}");
    assert!(w.contains("is the allow rule of an open JIT grant for VM 'vm1' port 22"), "{w}");
    // The allow rule for 3389 belongs to no open request: kept, and named as a caveat.
    let c = i
        .scenario
        .caveats
        .iter()
        .find(|c| c.resource.contains("SecurityCenter-JITRule-77-AAAA"))
        .expect("caveat");
    assert_eq!(c.affects, ["vm1"]);

    // Simulated: one deny rule per port, the grant's allow rule until 10:00, then gone.
    let scenario = crate::scenario::load_str(&ron, std::path::Path::new("t.ron")).expect("loads");
    let mut sim = crate::sim::Simulator::new(scenario.world());
    sim.enable_scoped_policies();
    let t = sim.topology();
    let nsg = t.nsg(t.nsg_by_name("vm1-nsg").expect("nsg"));
    let deny: Vec<&str> = nsg
        .rules
        .iter()
        .filter(|r| r.name.starts_with("SecurityCenter-JITRule_-") && r.destination_ports.to_string() == "22")
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(
        deny,
        ["SecurityCenter-JITRule_-1105480617_9EF6964FE766478B9EC568B32FB82045"],
        "one deny rule for 22"
    );
    let deny_3389 = nsg
        .rules
        .iter()
        .filter(|r| {
            r.name.starts_with("SecurityCenter-JITRule_-") && r.destination_ports.to_string() == "3389"
        })
        .count();
    assert_eq!(deny_3389, 1, "3389 had none: JIT writes it");
    let grant = sim.jit().grants().iter().find(|g| g.port == 22).expect("adopted");
    assert_eq!(grant.rules.len(), 1);
    assert_eq!(grant.expires_at.to_string(), "2025-01-06T10:00:00Z");
    let at_ten = crate::time::Instant::parse("2025-01-06T10:00:00Z").expect("instant");
    sim.process_events(at_ten);
    let t = sim.topology();
    let nsg = t.nsg(t.nsg_by_name("vm1-nsg").expect("nsg"));
    assert!(
        nsg.rule("SecurityCenter-JITRule-1105480617-9EF6964FE766478B9EC568B32FB82045").is_none(),
        "deleted at its end"
    );
}

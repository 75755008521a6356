//! The builder's peerings, gateway transit and on-premises sites, against small templates.

use super::*;
use crate::import::Imported;
use crate::import::tests::{err, import, ok};

/// An inline peering of the VNet to `remote` with the given extra properties.
fn side(name: &str, remote: &str, flags: &str) -> String {
    let comma = if flags.is_empty() { "" } else { ", " };
    format!(
        r#"{{"name": "{name}", "properties": {{"remoteVirtualNetwork": {{"id": "[resourceId('Microsoft.Network/virtualNetworks', '{remote}')]"}}{comma}{flags}}}}}"#
    )
}

/// The same peering as a child resource of `vnet`.
fn child(vnet: &str, name: &str, remote: &str, flags: &str) -> String {
    let comma = if flags.is_empty() { "" } else { ", " };
    format!(
        r#"{{"type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "name": "{vnet}/{name}", "properties": {{"remoteVirtualNetwork": {{"id": "[resourceId('Microsoft.Network/virtualNetworks', '{remote}')]"}}{comma}{flags}}}}}"#
    )
}

fn vnet(name: &str, space: &str, subnet: &str, peers: &[String]) -> String {
    format!(
        r#"{{"type": "Microsoft.Network/virtualNetworks", "name": "{name}", "properties": {{"addressSpace": {{"addressPrefixes": ["{space}"]}},
                "subnets": [{{"name": "GatewaySubnet", "properties": {{"addressPrefix": "{subnet}"}}}}], "virtualNetworkPeerings": [{}]}}}}"#,
        peers.join(", ")
    )
}

/// A VPN gateway in `vnet`'s GatewaySubnet, a local network gateway for `site` and the
/// IPsec connection between them (`bgp` on the connection).
fn vpn(vnet: &str, site: &str, bgp: bool) -> String {
    format!(
        r#"{{"type": "Microsoft.Network/virtualNetworkGateways", "name": "{vnet}-gw", "properties": {{"gatewayType": "Vpn", "vpnType": "RouteBased",
                "ipConfigurations": [{{"name": "c", "properties": {{"subnet": {{"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', '{vnet}', 'GatewaySubnet')]"}}}}}}]}}}},
              {{"type": "Microsoft.Network/localNetworkGateways", "name": "{vnet}-onprem", "properties": {{"gatewayIpAddress": "203.0.113.1",
                "localNetworkAddressSpace": {{"addressPrefixes": ["{site}"]}}}}}},
              {{"type": "Microsoft.Network/connections", "name": "{vnet}-s2s", "properties": {{"connectionType": "IPsec", "enableBgp": {bgp},
                "virtualNetworkGateway1": {{"id": "[resourceId('Microsoft.Network/virtualNetworkGateways', '{vnet}-gw')]"}},
                "localNetworkGateway2": {{"id": "[resourceId('Microsoft.Network/localNetworkGateways', '{vnet}-onprem')]"}}}}}}"#
    )
}

const ALLOW: &str = r#""allowGatewayTransit": true"#;
const USE: &str = r#""useRemoteGateways": true"#;

fn hub(peers: &[String]) -> String {
    vnet("hub", "10.0.0.0/16", "10.0.255.0/27", peers)
}

fn spoke(peers: &[String]) -> String {
    vnet("spoke", "10.1.0.0/16", "10.1.255.0/27", peers)
}

fn template(resources: &[String]) -> String {
    format!(r#"{{"resources": [{}]}}"#, resources.join(",\n"))
}

/// A peering that allows gateway transit on `hub`'s side, and, with `use_remote`, lets
/// `spoke` use `hub`'s gateway.
fn options(hub: &str, spoke: &str, use_remote: bool) -> PeeringSpec {
    peering_spec(hub, spoke, (true, use_remote), (true, true))
}

fn transit(hub: &str, spoke: &str) -> PeeringSpec {
    options(hub, spoke, true)
}

/// The warnings about peerings and gateways, one per line.
fn peering_warnings(i: &Imported) -> String {
    i.warnings
        .iter()
        .filter(|w| {
            ["peering", "gateway", "connection"].iter().any(|k| w.message.contains(k))
                && !w.message.contains("is not modelled; ignored")
        })
        .map(|w| format!("{w}\n"))
        .collect()
}

#[test]
fn both_sides_merge_into_one_peering_with_the_hub_first_in_either_order() {
    let hub_vnet = hub(&[side("hub-to-spoke", "spoke", ALLOW)]);
    let spoke_vnet = spoke(&[side("spoke-to-hub", "hub", USE)]);
    let gw = vpn("hub", "192.168.0.0/16", false);
    for resources in [
        [hub_vnet.clone(), spoke_vnet.clone(), gw.clone()],
        [gw.clone(), spoke_vnet.clone(), hub_vnet.clone()],
    ] {
        let (i, ron) = ok(&template(&resources));
        assert_eq!(i.scenario.peerings, [transit("hub", "spoke")], "{ron}");
        let hub = i.scenario.vnets.iter().find(|v| v.name == "hub").expect("hub");
        assert_eq!(hub.on_premises, ["192.168.0.0/16"]);
        assert!(
                ron.contains(r#"peerings: [Peering(vnets: ("hub", "spoke"), allow_gateway_transit: true, use_remote_gateways: true)],"#),
                "{ron}"
            );
        assert!(ron.contains(r#"on_premises: ["192.168.0.0/16"],"#), "{ron}");
        assert_eq!(peering_warnings(&i), "");
    }
}

#[test]
fn child_resources_and_az_output_merge_like_inline_sides() {
    // Child resources (the spoke's side first), flags from template expressions.
    let text = format!(
        r#"{{"parameters": {{"transit": {{"type": "bool", "defaultValue": true}}}}, "resources": [{}, {}, {}, {}, {}]}}"#,
        child("spoke", "spoke-to-hub", "hub", r#""useRemoteGateways": "[parameters('transit')]""#),
        spoke(&[]),
        hub(&[]),
        child(
            "hub",
            "hub-to-spoke",
            "spoke",
            r#""allowGatewayTransit": "[parameters('transit')]", "allowForwardedTraffic": true"#
        ),
        vpn("hub", "192.168.0.0/16", false)
    );
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.peerings, [transit("hub", "spoke")]);
    assert_eq!(peering_warnings(&i), "");
    // `az network vnet peering list` of each VNet: flattened, the parent in the id.
    let az = |vnet: &str, name: &str, remote: &str, flags: &str| {
        format!(
            r#"[{{"type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "name": "{name}", "peeringState": "Connected",
                    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{vnet}/virtualNetworkPeerings/{name}",
                    "remoteVirtualNetwork": {{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{remote}"}},
                    "allowVirtualNetworkAccess": true, "allowForwardedTraffic": false, {flags}}}]"#
        )
    };
    let i = import(&[
        ("net.json", &template(&[hub(&[]), spoke(&[]), vpn("hub", "192.168.0.0/16", false)])),
        (
            "spoke.json",
            &az("spoke", "spoke-to-hub", "hub", r#""allowGatewayTransit": false, "useRemoteGateways": true"#),
        ),
        (
            "hub.json",
            &az("hub", "hub-to-spoke", "spoke", r#""allowGatewayTransit": true, "useRemoteGateways": false"#),
        ),
    ])
    .expect("imports");
    assert_eq!(i.scenario.peerings, [transit("hub", "spoke")]);
    assert_eq!(peering_warnings(&i), "");
}

#[test]
fn vnets_with_overlapping_spaces_are_not_peered() {
    // Azure refuses the peering; imported, it would make a scenario that does not load.
    let text = template(&[
        hub(&[side("hub-to-clash", "clash", ""), side("hub-to-spoke", "spoke", "")]),
        vnet("clash", "10.0.128.0/17", "10.0.200.0/27", &[side("clash-to-hub", "hub", "")]),
        spoke(&[side("spoke-to-hub", "hub", "")]),
    ]);
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.peerings, [PeeringSpec::Pair("hub".into(), "spoke".into())]);
    let w = peering_warnings(&i);
    assert!(
            w.contains("virtual networks 'hub' and 'clash' have overlapping address spaces (10.0.0.0/16 and 10.0.128.0/17): Azure refuses a peering between them; not imported"),
            "{w}"
        );
    assert_eq!(w.matches("overlapping").count(), 1, "one warning for the two sides: {w}");
}

#[test]
fn a_child_peering_replaces_its_inline_twin() {
    let text = template(&[
        hub(&[side("hub-to-spoke", "spoke", "")]),
        child("hub", "hub-to-spoke", "spoke", ALLOW),
        spoke(&[side("spoke-to-hub", "hub", USE)]),
        vpn("hub", "192.168.0.0/16", false),
    ]);
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.peerings, [transit("hub", "spoke")]);
    let w = peering_warnings(&i);
    assert!(
            w.contains("t.json:3:1: resources[1]: peering 'hub/hub-to-spoke' is also defined at t.json:2:173: resources[0].properties.virtualNetworkPeerings[0].properties, differently; the child resource is deployed after its virtual network, so its definition stands (as in Azure): remote 'spoke', allowGatewayTransit true"),
            "{w}"
        );
}

#[test]
fn one_side_only_keeps_what_it_can_say() {
    // The spoke's side alone: whether the hub allows transit is unknown.
    let text = template(&[
        hub(&[]),
        spoke(&[side("spoke-to-hub", "hub", USE)]),
        vpn("hub", "192.168.0.0/16", false),
    ]);
    let (i, ron) = ok(&text);
    assert_eq!(i.scenario.peerings, [PeeringSpec::Pair("hub".into(), "spoke".into())], "{ron}");
    let w = peering_warnings(&i);
    assert!(w.contains("t.json:4:173: resources[1].properties.virtualNetworkPeerings[0].properties: useRemoteGateways of peering 'spoke-to-hub' (virtual network 'spoke' to 'hub') is not imported: the peering of 'hub' back to 'spoke' is not in the input, so whether it sets allowGatewayTransit is unknown"), "{w}");
    assert!(w.contains("virtual network 'hub' is in the input but has no peering back to 'spoke'"), "{w}");
    // The hub's side alone: it allows transit, and no one uses it yet.
    let text = template(&[
        spoke(&[]),
        hub(&[side("hub-to-spoke", "spoke", ALLOW)]),
        vpn("hub", "192.168.0.0/16", false),
    ]);
    let (i, ron) = ok(&text);
    assert_eq!(i.scenario.peerings, [options("hub", "spoke", false)], "{ron}");
    assert!(ron.contains("allow_gateway_transit: true, use_remote_gateways: false"), "{ron}");
    // An exported side that says Connected: the other side exists in Azure.
    let text = template(&[hub(&[]), spoke(&[side("spoke-to-hub", "hub", r#""peeringState": "Connected""#)])]);
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.peerings, [PeeringSpec::Pair("hub".into(), "spoke".into())]);
    assert_eq!(peering_warnings(&i), "");
}

#[test]
fn inconsistent_flags_are_dropped_with_the_reason() {
    let gw = vpn("hub", "192.168.0.0/16", false);
    let case = |resources: &[String]| {
        let (i, _) = ok(&template(resources));
        (i.scenario.peerings.clone(), peering_warnings(&i))
    };
    // Use remote gateways, but the hub's side does not allow transit.
    let (p, w) = case(&[
        hub(&[side("hub-to-spoke", "spoke", "")]),
        spoke(&[side("spoke-to-hub", "hub", USE)]),
        gw.clone(),
    ]);
    assert_eq!(p, [PeeringSpec::Pair("hub".into(), "spoke".into())]);
    assert!(w.contains("useRemoteGateways of peering 'spoke-to-hub' (virtual network 'spoke' to 'hub') is not imported: the peering 'hub-to-spoke' of 'hub' back to 'spoke' (t.json:2:173: resources[0].properties.virtualNetworkPeerings[0].properties) does not set allowGatewayTransit, and Azure uses a remote gateway only when it does; the peering is imported without gateway transit"), "{w}");
    // Both sides use remote gateways: the hub has a gateway, so only the spoke can.
    let both = format!(r#"{ALLOW}, {USE}"#);
    let (p, w) = case(&[
        hub(&[side("hub-to-spoke", "spoke", &both)]),
        spoke(&[side("spoke-to-hub", "hub", &both)]),
        gw.clone(),
    ]);
    assert_eq!(p, [transit("hub", "spoke")]);
    assert!(w.contains("useRemoteGateways of peering 'hub-to-spoke' (virtual network 'hub' to 'spoke') is not imported: 'hub' has a virtual network gateway of its own ('hub-gw', t.json:5:1: resources[2]); Azure refuses useRemoteGateways on a virtual network with a gateway"), "{w}");
    assert_eq!(w.lines().count(), 1, "{w}");
    // The hub has no gateway in the input.
    let (p, w) =
        case(&[hub(&[side("hub-to-spoke", "spoke", ALLOW)]), spoke(&[side("spoke-to-hub", "hub", USE)])]);
    assert_eq!(p, [options("hub", "spoke", false)]);
    assert!(w.contains("'hub' has no virtual network gateway in the input (Azure refuses useRemoteGateways when the remote virtual network has none: RemoteVnetHasNoGateways)"), "{w}");
    // A gateway whose on-premises routes are not in the JSON (ExpressRoute).
    let er = gw.replace(r#""connectionType": "IPsec""#, r#""connectionType": "ExpressRoute""#);
    let (p, w) =
        case(&[hub(&[side("hub-to-spoke", "spoke", ALLOW)]), spoke(&[side("spoke-to-hub", "hub", USE)]), er]);
    assert_eq!(p, [options("hub", "spoke", false)]);
    assert!(w.contains("connection 'hub-s2s' is an ExpressRoute connection"), "{w}");
    assert!(
        w.contains("the gateway of 'hub' ('hub-gw') has no on-premises address space in the input"),
        "{w}"
    );
    assert!(
        w.contains("write them as on_premises of 'hub' and set use_remote_gateways: true on the peering"),
        "{w}"
    );
}

#[test]
fn what_is_left_out_of_routing_is_a_caveat_not_only_a_warning() {
    // A connection whose on-premises routes are not in the JSON (ExpressRoute).
    let er = vpn("hub", "192.168.0.0/16", false)
        .replace(r#""connectionType": "IPsec""#, r#""connectionType": "ExpressRoute""#);
    let (i, _) = ok(&template(&[hub(&[]), er]));
    let caveat = i.scenario.caveats.iter().find(|c| c.resource == "Microsoft.Network/connections/hub-s2s");
    let caveat = caveat.unwrap_or_else(|| panic!("{:?}", i.scenario.caveats));
    assert_eq!(caveat.kind, CaveatKindSpec::UnmodelledResource);
    assert!(caveat.affects.is_empty(), "{caveat:?}");
    // A peering to a VNet outside the input concerns the VNet that has it.
    let (i, _) = ok(&template(&[spoke(&[side("spoke-to-hub", "hub", "")])]));
    let caveat = i.scenario.caveats.iter().find(|c| c.resource == "Microsoft.Network/virtualNetworks/hub");
    let caveat = caveat.unwrap_or_else(|| panic!("{:?}", i.scenario.caveats));
    assert_eq!(
        (caveat.kind, caveat.affects.as_slice()),
        (CaveatKindSpec::UnresolvedReference, &["spoke".to_string()][..])
    );
}

#[test]
fn a_vnet_uses_remote_gateways_on_one_peering_only() {
    let text = template(&[
        hub(&[side("hub-to-spoke", "spoke", ALLOW)]),
        vnet("hub2", "10.2.0.0/16", "10.2.255.0/27", &[side("hub2-to-spoke", "spoke", ALLOW)]),
        spoke(&[side("spoke-to-hub", "hub", USE), side("spoke-to-hub2", "hub2", USE)]),
        vpn("hub", "192.168.0.0/16", false),
        vpn("hub2", "172.16.0.0/16", false),
    ]);
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.peerings, [transit("hub", "spoke"), options("hub2", "spoke", false)]);
    let w = peering_warnings(&i);
    assert!(w.contains("t.json:6:335: resources[2].properties.virtualNetworkPeerings[1].properties: useRemoteGateways of peering 'spoke-to-hub2' (virtual network 'spoke' to 'hub2') is not imported: 'spoke' already sets useRemoteGateways on its peering 'spoke-to-hub' to 'hub' (t.json:6:173: resources[2].properties.virtualNetworkPeerings[0].properties); Azure allows it on one peering of a virtual network"), "{w}");
}

#[test]
fn a_spoke_with_its_own_gateway_cannot_use_the_hubs() {
    let text = template(&[
        hub(&[side("hub-to-spoke", "spoke", ALLOW)]),
        spoke(&[side("spoke-to-hub", "hub", USE)]),
        vpn("hub", "192.168.0.0/16", false),
        vpn("spoke", "172.16.0.0/16", false),
    ]);
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.peerings, [options("hub", "spoke", false)]);
    assert!(peering_warnings(&i).contains("'spoke' has a virtual network gateway of its own ('spoke-gw'"));
}

/// `allowVirtualNetworkAccess: false` on a side is imported into
/// `allow_virtual_network_access`, in the order of the peering's `vnets`, with nothing to
/// warn about; the emitted scenario loads with that side's access off. (Until this was
/// modelled the import warned and imported the peering open.)
#[test]
fn a_side_without_virtual_network_access_is_imported_and_round_trips() {
    let no_access = r#""allowVirtualNetworkAccess": false"#;
    let text = template(&[
        hub(&[side("hub-to-spoke", "spoke", no_access)]),
        spoke(&[side("spoke-to-hub", "hub", "")]),
    ]);
    let (i, ron) = ok(&text);
    assert_eq!(i.scenario.peerings, [peering_spec("hub", "spoke", (false, false), (false, true))]);
    assert!(
        ron.contains(
            r#"peerings: [Peering(vnets: ("hub", "spoke"), allow_virtual_network_access: (false, true))],"#
        ),
        "{ron}"
    );
    assert_eq!(peering_warnings(&i), "", "a modelled setting needs no warning");
    let t = crate::scenario::load_str(&ron, std::path::Path::new("t.ron")).expect("loads").topology;
    let (h, s) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
    assert!(!t.allows_virtual_network_access(h, s) && t.allows_virtual_network_access(s, h));
    // The spoke's side, with gateway transit: the hub stays first, the flag follows its side.
    let both = format!("{USE}, {no_access}");
    let text = template(&[
        hub(&[side("hub-to-spoke", "spoke", ALLOW)]),
        spoke(&[side("spoke-to-hub", "hub", &both)]),
        vpn("hub", "192.168.0.0/16", false),
    ]);
    let (i, ron) = ok(&text);
    assert_eq!(i.scenario.peerings, [peering_spec("hub", "spoke", (true, true), (true, false))]);
    assert!(ron.contains(r#"Peering(vnets: ("hub", "spoke"), allow_gateway_transit: true, use_remote_gateways: true, allow_virtual_network_access: (true, false))"#), "{ron}");
    let t = crate::scenario::load_str(&ron, std::path::Path::new("t.ron")).expect("loads").topology;
    let (h, s) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
    assert!(t.allows_virtual_network_access(h, s) && !t.allows_virtual_network_access(s, h));
    // One side only: the missing side gets Azure's default, and the warning says so.
    let (i, _) = ok(&template(&[hub(&[side("hub-to-spoke", "spoke", no_access)]), spoke(&[])]));
    assert_eq!(i.scenario.peerings, [peering_spec("hub", "spoke", (false, false), (false, true))]);
    assert!(peering_warnings(&i).contains("as if 'spoke''s side existed outside the input with Azure's defaults (allowVirtualNetworkAccess true)"));
    // Both sides true, or absent: a plain pair, as before.
    let yes = r#""allowVirtualNetworkAccess": true"#;
    let (i, _) = ok(&template(&[
        hub(&[side("hub-to-spoke", "spoke", yes)]),
        spoke(&[side("spoke-to-hub", "hub", "")]),
    ]));
    assert_eq!(i.scenario.peerings, [PeeringSpec::Pair("hub".into(), "spoke".into())]);
}

#[test]
fn state_and_flag_values_of_a_side() {
    let text =
        template(&[hub(&[side("hub-to-spoke", "spoke", r#""peeringState": "Disconnected""#)]), spoke(&[])]);
    let (i, _) = ok(&text);
    assert!(i.scenario.peerings.is_empty());
    assert!(peering_warnings(&i).contains("peering 'hub-to-spoke' of virtual network 'hub' to 'spoke' is Disconnected: Azure passes traffic over a peering only when both virtual networks peer with each other (peeringState Connected); not imported"));
    let e = err(&template(&[
        hub(&[side("hub-to-spoke", "spoke", r#""useRemoteGateways": "sometimes""#)]),
        spoke(&[]),
    ]));
    assert!(
            e.contains("resources[0].properties.virtualNetworkPeerings[0].properties.useRemoteGateways: 'sometimes': peering 'hub-to-spoke': useRemoteGateways must be true or false"),
            "{e}"
        );
    let e = err(&template(&[
        hub(&[side("hub-to-spoke", "spoke", r#""allowVirtualNetworkAccess": "no""#)]),
        spoke(&[]),
    ]));
    assert!(
            e.contains("resources[0].properties.virtualNetworkPeerings[0].properties.allowVirtualNetworkAccess: 'no': peering 'hub-to-spoke': allowVirtualNetworkAccess must be true or false"),
            "{e}"
        );
}

#[test]
fn on_premises_spaces_come_from_connected_sites_and_the_client_pool() {
    let p2s = vpn("hub", "192.168.0.0/16", true).replace(
            r#""gatewayType": "Vpn""#,
            r#""gatewayType": "Vpn", "vpnClientConfiguration": {"vpnClientAddressPool": {"addressPrefixes": ["172.20.0.0/24"]}}"#,
        );
    let text = template(&[
            hub(&[]),
            p2s,
            r#"{"type": "Microsoft.Network/localNetworkGateways", "name": "unused", "properties": {"localNetworkAddressSpace": {"addressPrefixes": ["192.0.2.0/24"]}}}"#.into(),
            r#"{"type": "Microsoft.Network/localNetworkGateways", "name": "inside", "properties": {"localNetworkAddressSpace": {"addressPrefixes": ["10.0.5.0/24", "198.18.0.0/15"]}}}"#.into(),
            r#"{"type": "Microsoft.Network/connections", "name": "inside-s2s", "properties": {"connectionType": "IPsec",
                "virtualNetworkGateway1": {"id": "[resourceId('Microsoft.Network/virtualNetworkGateways', 'hub-gw')]"},
                "localNetworkGateway2": {"id": "[resourceId('Microsoft.Network/localNetworkGateways', 'inside')]"}}}"#.into(),
            r#"{"type": "Microsoft.Network/connections", "name": "elsewhere", "properties": {"connectionType": "IPsec",
                "virtualNetworkGateway1": {"id": "[resourceId('Microsoft.Network/virtualNetworkGateways', 'hub-gw')]"},
                "localNetworkGateway2": {"id": "[resourceId('Microsoft.Network/localNetworkGateways', 'missing')]"}}}"#.into(),
        ]);
    let (i, _) = ok(&text);
    assert_eq!(i.scenario.vnets[0].on_premises, ["172.20.0.0/24", "192.168.0.0/16", "198.18.0.0/15"]);
    let w = peering_warnings(&i);
    for expected in [
        "connection 'hub-s2s' uses BGP: the routes on-premises advertises are not in Azure's JSON; only the address space of local network gateway 'hub-onprem' (192.168.0.0/16) is imported",
        "t.json:11:1: resources[5]: the address space 10.0.5.0/24 of local network gateway 'inside' overlaps virtual network 'hub' (10.0.0.0/16)",
        "connection 'elsewhere': local network gateway 'missing' is not in the input",
        "t.json:10:1: resources[4]: local network gateway 'unused' is named by no IPsec connection in the input",
    ] {
        assert!(w.contains(expected), "{expected}\n{w}");
    }
    // A gateway outside the GatewaySubnet: Azure refuses it, so no on-premises spaces.
    let misplaced =
        vpn("hub", "192.168.0.0/16", false).replace("'hub', 'GatewaySubnet'", "'hub', 'workload'");
    let (i, _) = ok(&template(&[hub(&[]), misplaced]));
    assert!(i.scenario.vnets[0].on_premises.is_empty());
    let w = peering_warnings(&i);
    assert!(w.contains("t.json:4:84: resources[1].properties.ipConfigurations[0].properties.subnet.id: virtual network gateway 'hub-gw' is in subnet 'workload' of virtual network 'hub': Azure deploys a virtual network gateway only into the subnet named GatewaySubnet; not modelled"), "{w}");
    assert!(w.contains("connection 'hub-s2s' goes through virtual network gateway 'hub-gw', which is not modelled, so the address space of local network gateway 'hub-onprem' is not routed anywhere"), "{w}");
    assert!(!w.contains("named by no IPsec connection"), "{w}");
    // The name compares without case, as ARM names do.
    let lower =
        vpn("hub", "192.168.0.0/16", false).replace("'hub', 'GatewaySubnet'", "'hub', 'gatewaysubnet'");
    let (i, _) = ok(&template(&[hub(&[]), lower]));
    assert_eq!(i.scenario.vnets[0].on_premises, ["192.168.0.0/16"]);
    // A gateway whose VNet is not in the input.
    let (i, _) = ok(&template(&[vpn("far", "192.168.0.0/16", false)]));
    assert!(peering_warnings(&i).contains("virtual network gateway 'far-gw' is in virtual network 'far', which is not in the input; not modelled"));
    let e = err(&template(&[vpn("hub", "192.168.0.0/33", false), hub(&[])]));
    assert!(
        e.contains("resources[1].properties.localNetworkAddressSpace.addressPrefixes[0]: '192.168.0.0/33'"),
        "{e}"
    );
}

/// A VNet with address spaces `spaces` and subnets `(name, prefix)`, and peerings `peers`.
fn vnet_with(name: &str, spaces: &[&str], subnets: &[(&str, &str)], peers: &[String]) -> String {
    let spaces: Vec<String> = spaces.iter().map(|s| format!("\"{s}\"")).collect();
    let subnets: Vec<String> = subnets
        .iter()
        .map(|(n, p)| format!(r#"{{"name": "{n}", "properties": {{"addressPrefix": "{p}"}}}}"#))
        .collect();
    format!(
        r#"{{"type": "Microsoft.Network/virtualNetworks", "name": "{name}", "properties": {{"addressSpace": {{"addressPrefixes": [{}]}},
                "subnets": [{}], "virtualNetworkPeerings": [{}]}}}}"#,
        spaces.join(", "),
        subnets.join(", "),
        peers.join(", ")
    )
}

/// `peerCompleteVnets: false` with `localSubnetNames`/`remoteSubnetNames` is imported as a
/// subnet peering (no longer as whole VNets, which widened reachability), round-trips through
/// the emitted RON, and is allowed despite the VNets' overlapping 172.16.0.0/16. Sides that
/// disagree keep the subnets both name, with a warning; `enableOnlyIPv6Peering` and a peered
/// subnet in the overlap are not imported, with the reason.
#[test]
fn subnet_peering_is_imported_and_round_trips() {
    let sides = |hub_side: &str, spoke_side: &str, hub_subnets: &[(&str, &str)]| {
        template(&[
            vnet_with(
                "hub",
                &["10.0.0.0/16", "172.16.0.0/16"],
                hub_subnets,
                &[side("hub-to-spoke", "spoke", hub_side)],
            ),
            vnet_with(
                "spoke",
                &["10.1.0.0/16", "172.16.0.0/16"],
                &[("app", "10.1.1.0/24"), ("data", "10.1.2.0/24")],
                &[side("spoke-to-hub", "hub", spoke_side)],
            ),
        ])
    };
    let hub_subnets = [("web", "10.0.1.0/24"), ("db", "10.0.2.0/24"), ("shared", "172.16.1.0/24")];
    let hub_side = r#""peerCompleteVnets": false, "localSubnetNames": ["web"], "remoteSubnetNames": ["app"]"#;
    let spoke_side =
        r#""peerCompleteVnets": false, "localSubnetNames": ["app"], "remoteSubnetNames": ["web"]"#;
    let (i, ron) = ok(&sides(hub_side, spoke_side, &hub_subnets));
    assert_eq!(peering_warnings(&i), "", "a modelled setting needs no warning");
    assert!(!i.warnings.iter().any(|w| w.message.contains("peerCompleteVnets")), "{:?}", i.warnings);
    assert!(
        ron.contains(r#"peerings: [Peering(vnets: ("hub", "spoke"), subnets: (["web"], ["app"]))],"#),
        "{ron}"
    );
    let t = crate::scenario::load_str(&ron, std::path::Path::new("t.ron")).expect("loads").topology;
    let (h, s) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
    assert_eq!(t.peered_prefixes(h, s), ["10.1.1.0/24".parse::<IpNet>().expect("net")]);
    assert_eq!(t.peered_prefixes(s, h), ["10.0.1.0/24".parse::<IpNet>().expect("net")]);

    // The sides disagree (an update not synced): the subnets both name.
    let wider = r#""peerCompleteVnets": false, "localSubnetNames": ["web", "db"], "remoteSubnetNames": ["app", "data"]"#;
    let (i, ron) = ok(&sides(wider, spoke_side, &hub_subnets));
    assert!(ron.contains(r#"subnets: (["web"], ["app"])"#), "{ron}");
    assert!(
        peering_warnings(&i).contains("the two sides name different subnets"),
        "{}",
        peering_warnings(&i)
    );

    // A peered subnet in an address space both VNets hold: Azure refuses it.
    let in_overlap =
        r#""peerCompleteVnets": false, "localSubnetNames": ["shared"], "remoteSubnetNames": ["app"]"#;
    let spoke_back =
        r#""peerCompleteVnets": false, "localSubnetNames": ["app"], "remoteSubnetNames": ["shared"]"#;
    let (i, ron) = ok(&sides(in_overlap, spoke_back, &hub_subnets));
    assert!(i.scenario.peerings.is_empty(), "{ron}");
    assert!(peering_warnings(&i).contains("subnet 'shared' of 'hub' belongs to address space 172.16.0.0/16, which overlaps 172.16.0.0/16 of 'spoke'"), "{}", peering_warnings(&i));

    // IPv6-only peering is not modelled: not imported, saying so.
    let v6 = format!(r#"{hub_side}, "enableOnlyIPv6Peering": true"#);
    let (i, _) = ok(&sides(&v6, spoke_side, &hub_subnets));
    assert!(i.scenario.peerings.is_empty());
    assert!(
        peering_warnings(&i)
            .contains("enableOnlyIPv6Peering (subnet peering over IPv6 only): not modelled; not imported"),
        "{}",
        peering_warnings(&i)
    );
}

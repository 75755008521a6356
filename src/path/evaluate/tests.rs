//! Unit tests of the walk: translation, SNAT, routes, peering, firewall, Bastion, on-premises.

use super::*;
use crate::model::{Firewall, FirewallMode, NextHop, Route, RouteTable, RuleCollection, RuleCollectionGroup};
use crate::net::{AddrSet, ProtocolSet};
use crate::nsg::{AddressSpec, Direction::*, RuleProtocol::Tcp};
use crate::path::detail::{
    BlockedPeering, OutboundDetail, PeeringLead, PeeringRole, PeeringTagNote, RouteDetail, RouteThen,
    RouteVia, SubnetPeeringGap,
};
use crate::path::testing::{ip, net, nsg, prefix, rule, run, tag, tcp, tcp_firewall, vm};

/// The rule names of the NSG hops, in order.
fn rules(trace: &Trace) -> Vec<String> {
    trace.hops.iter().filter_map(Hop::rule_name).collect()
}

#[test]
fn public_ip_is_translated_before_the_inbound_nsgs() {
    let mut t = Topology::new();
    let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
    let s = t.add_subnet(v, "web", net("10.0.1.0/24")).expect("subnet");
    let web = vm(&mut t, "web", s, "10.0.1.4", Some("20.1.1.1"));
    // Keyed on the public address: never matches, inbound NSGs see the private one.
    let public_rule =
        rule("ssh-to-public", 100, Inbound, Access::Allow, Tcp, (AddressSpec::Any, prefix("20.1.1.1")), "22");
    let private_rule = rule(
        "ssh-to-private",
        110,
        Inbound,
        Access::Allow,
        Tcp,
        (AddressSpec::Any, prefix("10.0.1.4")),
        "22",
    );
    let id = nsg(&mut t, "web-nsg", vec![public_rule, private_rule]);
    t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
    let trace = run(&t, tcp(Source::Address(ip("198.51.100.7")), Destination::Nic(web), 22));
    assert_eq!(trace.verdict, Access::Allow);
    assert_eq!(trace.hops[0].kind, HopKind::PublicIp);
    assert_eq!(rules(&trace), ["securityRules/ssh-to-private"]);
}

#[test]
fn outbound_nsgs_see_the_private_source_before_translation_and_the_receiver_the_public_one() {
    let mut t = Topology::new();
    let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
    let s = t.add_subnet(v, "app", net("10.0.1.0/24")).expect("subnet");
    let a = vm(&mut t, "a", s, "10.0.1.4", Some("20.1.1.1"));
    let b = vm(&mut t, "b", s, "10.0.1.5", Some("20.1.1.2"));
    let out_private = rule(
        "out-from-private",
        100,
        Outbound,
        Access::Allow,
        Tcp,
        (prefix("10.0.1.4"), AddressSpec::Any),
        "22",
    );
    let in_from_a = rule(
        "in-from-a-public",
        100,
        Inbound,
        Access::Allow,
        Tcp,
        (prefix("20.1.1.1"), AddressSpec::Any),
        "22",
    );
    let id = nsg(&mut t, "app-nsg", vec![out_private, in_from_a]);
    t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
    let b_pip = t.nic(b).public_ip.expect("b has a public IP");
    let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
    assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
    assert_eq!(rules(&trace), ["securityRules/out-from-private", "securityRules/in-from-a-public"]);
}

#[test]
fn a_vm_without_a_public_ip_reaches_public_addresses_through_default_outbound_access() {
    let mut t = Topology::new();
    let v = t.add_vnet("v", vec![net("10.0.0.0/16")]).expect("vnet");
    let s = t.add_subnet(v, "app", net("10.0.1.0/24")).expect("subnet");
    let a = vm(&mut t, "a", s, "10.0.1.4", None);
    let b = vm(&mut t, "b", s, "10.0.1.5", Some("20.1.1.2"));
    let id = nsg(&mut t, "app-nsg", vec![]);
    t.set_subnet_nsg(s, Some(id)).expect("the subnet takes an NSG");
    let b_pip = t.nic(b).public_ip.expect("b has a public IP");
    // The receiver sees a public source: AllowVnetInBound does not apply, DenyAllInBound does.
    let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
    assert_eq!(trace.verdict, Access::Deny);
    assert_eq!(
        trace.deciding_hop().and_then(Hop::rule_name).as_deref(),
        Some("defaultSecurityRules/DenyAllInBound")
    );
    let route = trace.hops.iter().find(|h| h.kind == HopKind::Route).expect("a route hop");
    assert!(
        matches!(
            &route.detail,
            HopDetail::Route(RouteDetail::Routed {
                then: RouteThen::DefaultOutbound { address: DEFAULT_OUTBOUND_ADDRESS },
                ..
            })
        ),
        "{:?}",
        route.detail
    );
    // An Internet rule admits it, with the stand-in address as the source.
    let internet_ssh = rule(
        "ssh-from-internet",
        100,
        Inbound,
        Access::Allow,
        Tcp,
        (tag("Internet"), AddressSpec::Any),
        "22",
    );
    t.nsg_mut(id).rules.push(internet_ssh);
    let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
    assert_eq!(trace.verdict, Access::Allow);
    assert!(trace.hops.iter().any(|h| matches!(
        &h.detail,
        HopDetail::Route(RouteDetail::Routed { then: RouteThen::DefaultOutbound { address }, .. })
            if *address == DEFAULT_OUTBOUND_ADDRESS
    )));
    // A private subnet has no default outbound access: the flow ends at the route hop.
    t.set_subnet_default_outbound_access(s, false);
    let trace = run(&t, tcp(Source::Nic(a), Destination::PublicIp(b_pip), 22));
    assert_eq!(trace.verdict, Access::Deny);
    let last = trace.hops.last().expect("a hop");
    assert_eq!(last.kind, HopKind::Route);
    assert!(
        matches!(&last.detail, HopDetail::Outbound(OutboundDetail::PrivateSubnet { .. })),
        "{:?}",
        last.detail
    );
    // A VM with its own public IP is not affected by the subnet's setting.
    let trace = run(&t, tcp(Source::Nic(b), Destination::Address(ip("8.8.8.8")), 443));
    assert_eq!(trace.verdict, Access::Allow);
}

/// hub (firewall at 10.0.1.4) peered with spoke1 and spoke2; a VM in each spoke.
fn hub_and_spokes(routes: Vec<Route>) -> (Topology, NicId, NicId) {
    let mut t = Topology::new();
    let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
    let s1 = t.add_vnet("spoke1", vec![net("10.1.0.0/16")]).expect("vnet");
    let s2 = t.add_vnet("spoke2", vec![net("10.2.0.0/16")]).expect("vnet");
    t.peer(hub, s1).expect("peer");
    t.peer(hub, s2).expect("peer");
    t.add_subnet(hub, "AzureFirewallSubnet", net("10.0.1.0/26")).expect("subnet");
    let w1 = t.add_subnet(s1, "work", net("10.1.1.0/24")).expect("subnet");
    let w2 = t.add_subnet(s2, "work", net("10.2.1.0/24")).expect("subnet");
    t.add_firewall(tcp_firewall("fw", "10.0.1.4", None), hub).expect("firewall");
    if !routes.is_empty() {
        let rt = t.add_route_table(RouteTable { name: "rt".into(), routes }).expect("table");
        t.set_subnet_route_table(w1, rt).expect("associate");
    }
    let a = vm(&mut t, "a", w1, "10.1.1.4", None);
    let b = vm(&mut t, "b", w2, "10.2.1.4", None);
    (t, a, b)
}

fn route(name: &str, prefix: &str, next_hop: NextHop) -> Route {
    Route { name: name.into(), prefix: net(prefix), next_hop }
}

#[test]
fn peering_is_not_transitive() {
    let (t, a, b) = hub_and_spokes(vec![]);
    let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
    assert_eq!(trace.verdict, Access::Deny);
    let last = trace.hops.last().expect("a hop");
    assert_eq!(last.kind, HopKind::Route);
    match &last.detail {
        HopDetail::Route(RouteDetail::NotPeeredToInternet { holders, vnet, chain, .. }) => {
            assert_eq!((holders.as_slice(), vnet.as_str()), (["spoke2".to_string()].as_slice(), "spoke1"));
            assert_eq!(
                chain.as_deref(),
                Some(["spoke1".to_string(), "hub".into(), "spoke2".into()].as_slice())
            );
        }
        other => panic!("{other:?}"),
    }
}

/// hub (10.0.0.0/16: VM h at 10.0.1.4, a Bastion with public IP 20.0.0.9) peered with spoke
/// (10.1.0.0/16: VM s at 10.1.1.4); the hub's side of the peering sets
/// `allowVirtualNetworkAccess: false`. Both work subnets carry an NSG with the default rules
/// only.
fn access_blocked_on_the_hubs_side() -> (Topology, NicId, NicId, BastionId, crate::model::NsgId) {
    let mut t = Topology::new();
    let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
    let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
    t.peer(hub, spoke).expect("peer");
    t.set_peering_access(hub, spoke, false).expect("hub's side");
    let hw = t.add_subnet(hub, "work", net("10.0.1.0/24")).expect("subnet");
    let sw = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
    t.add_subnet(hub, crate::model::BASTION_SUBNET, net("10.0.2.0/26")).expect("subnet");
    let pip = t.add_public_ip("bastion-pip", ip("20.0.0.9"), PublicIpSku::Standard).expect("pip");
    let b = t.add_bastion("bastion", hub, Some(pip)).expect("bastion");
    let defaults = nsg(&mut t, "defaults", vec![]);
    t.set_subnet_nsg(hw, Some(defaults)).expect("nsg");
    t.set_subnet_nsg(sw, Some(defaults)).expect("nsg");
    let h = vm(&mut t, "h", hw, "10.0.1.4", None);
    let s = vm(&mut t, "s", sw, "10.1.1.4", None);
    (t, h, s, b, defaults)
}

/// Microsoft's current peering documentation: `allowVirtualNetworkAccess: false` "only changes
/// the definition of the VirtualNetwork service tag": traffic still crosses the peering, and
/// the hub's NSGs stop it at their default deny rules, both ways, saying why.
#[test]
fn a_side_without_virtual_network_access_loses_the_peer_from_its_virtual_network_tag() {
    let (mut t, h, s, _, defaults) = access_blocked_on_the_hubs_side();
    let out = run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22));
    assert_eq!(out.verdict, Access::Deny);
    let deny = out.deciding_hop().expect("a deciding hop");
    assert_eq!(deny.rule_name().as_deref(), Some("defaultSecurityRules/DenyAllOutBound"), "{out:#?}");
    // The facts are in the hop's detail as data, not only in its sentence.
    assert!(
        matches!(
            &deny.detail,
            HopDetail::Nsg { rule: crate::nsg::RuleRef::Default { name }, access: Access::Deny, direction: Outbound, peering_note, .. }
                if name == "DenyAllOutBound"
                    && *peering_note == Some(PeeringTagNote::AccessBlocked {
                        remote: ip("10.1.1.4"),
                        here: "hub".into(),
                        peer: "spoke".into(),
                        direction: Outbound,
                        blocks_all_traffic: false,
                    })
        ),
        "{:?}",
        deny.detail
    );
    // The reverse direction leaves the spoke (its tag keeps the hub) and is stopped as it
    // arrives in the hub.
    let back = run(&t, tcp(Source::Nic(s), Destination::Nic(h), 22));
    assert_eq!(back.verdict, Access::Deny);
    assert_eq!(
        rules(&back),
        ["defaultSecurityRules/AllowVnetOutBound", "defaultSecurityRules/DenyAllInBound"]
    );
    assert!(back.hops.last().is_some_and(|h| matches!(
        &h.detail,
        HopDetail::Nsg { peering_note: Some(PeeringTagNote::AccessBlocked { direction: Inbound, .. }), .. }
    )));
    // A rule naming the spoke's prefix lets it through: the peering itself is open.
    let by_prefix =
        rule("to-spoke", 100, Outbound, Access::Allow, Tcp, (AddressSpec::Any, prefix("10.1.0.0/16")), "22");
    t.nsg_mut(defaults).rules.push(by_prefix);
    let out = run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22));
    assert_eq!(out.verdict, Access::Allow, "{out:#?}");
    assert_eq!(rules(&out), ["securityRules/to-spoke", "defaultSecurityRules/AllowVnetInBound"]);
    // With the flag back to true, AllowVnetOutBound matches again and no note is given.
    let (mut t, h, s, _, _) = access_blocked_on_the_hubs_side();
    let (hub, spoke) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
    t.set_peering_access(hub, spoke, true).expect("hub's side");
    let out = run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22));
    assert_eq!(out.verdict, Access::Allow);
    assert!(out.hops.iter().all(|h| !matches!(&h.detail, HopDetail::Nsg { peering_note: Some(_), .. })));
}

/// Option `peering_access_blocks_all_traffic` (the older documentation: "traffic doesn't flow
/// between the peered virtual networks"): the peering carries nothing, either way, whatever
/// the NSGs allow; the route hop says which side blocks it.
#[test]
fn the_legacy_option_stops_all_traffic_over_a_peering_without_access() {
    let (mut t, h, s, _, defaults) = access_blocked_on_the_hubs_side();
    let any = rule("any", 100, Outbound, Access::Allow, Tcp, (AddressSpec::Any, AddressSpec::Any), "*");
    let any_in = rule("any-in", 100, Inbound, Access::Allow, Tcp, (AddressSpec::Any, AddressSpec::Any), "*");
    t.nsg_mut(defaults).rules.extend([any, any_in]);
    assert_eq!(run(&t, tcp(Source::Nic(h), Destination::Nic(s), 22)).verdict, Access::Allow);
    t.set_peering_access_blocks_all_traffic(true);
    for (from, to) in [(h, s), (s, h)] {
        let out = run(&t, tcp(Source::Nic(from), Destination::Nic(to), 22));
        assert_eq!(out.verdict, Access::Deny, "{out:#?}");
        let last = out.hops.last().expect("a hop");
        assert_eq!(last.kind, HopKind::Route);
        assert!(
            matches!(
                &last.detail,
                HopDetail::Route(RouteDetail::PeeringBlocked { peering: BlockedPeering { side, .. }, .. })
                    if side == "hub"
            ),
            "{:?}",
            last.detail
        );
    }
    // Addressed by a raw private address the route still selects the peering, which drops it.
    let out = run(&t, tcp(Source::Nic(h), Destination::Address(ip("10.1.1.9")), 22));
    assert_eq!(out.verdict, Access::Deny);
    assert!(out.hops.last().is_some_and(|h| matches!(
        &h.detail,
        HopDetail::Route(RouteDetail::PeeringBlocked {
            lead: PeeringLead::Route { via: RouteVia { source: route::RouteSource::Peering { vnet }, .. }, .. },
            ..
        }) if vnet == "spoke"
    )));
}

/// Bastion reaches VMs in peered VNets over the peering. By default the session is traffic
/// from the Bastion subnet like any other (the target's own tag decides); under the legacy
/// option a peering without access carries no session.
#[test]
fn bastion_sessions_over_a_peering_without_access() {
    let (mut t, _, s, b, _) = access_blocked_on_the_hubs_side();
    let mut req = tcp(Source::Address(ip("198.51.100.7")), Destination::Nic(s), 22);
    req.via = Some(b);
    // The spoke's side allows access, so its tag holds the Bastion subnet: AllowVnetInBound.
    let out = run(&t, req);
    assert_eq!(out.verdict, Access::Allow, "{out:#?}");
    assert_eq!(rules(&out), ["defaultSecurityRules/AllowVnetInBound"]);
    t.set_peering_access_blocks_all_traffic(true);
    let out = run(&t, req);
    assert_eq!(out.verdict, Access::Deny);
    let last = out.hops.last().expect("a hop");
    assert_eq!(last.kind, HopKind::Route);
    assert_eq!(last.resource, "bastion");
    assert!(
        matches!(
            &last.detail,
            HopDetail::Route(RouteDetail::PeeringBlocked {
                lead: PeeringLead::Bastion { bastion },
                peering: BlockedPeering { from, to, .. },
            }) if bastion == "bastion" && (from.as_str(), to.as_str()) == ("hub", "spoke")
        ),
        "{:?}",
        last.detail
    );
}

/// Under the legacy option the gateway transit over a blocked peering carries nothing either
/// (model choice): on-premises does not reach the spoke, and the spoke's route to on-premises
/// is stopped at the peering.
#[test]
fn the_legacy_option_stops_gateway_transit_over_a_blocked_peering() {
    let mut t = Topology::new();
    let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
    let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
    t.connect_on_premises(hub, vec![net("192.168.0.0/16")]).expect("gateway");
    t.peer(hub, spoke).expect("peer");
    t.use_remote_gateway(spoke, hub).expect("transit");
    let work = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
    let s = vm(&mut t, "s", work, "10.1.1.4", None);
    t.set_peering_access(spoke, hub, false).expect("spoke's side");
    let office = Source::Address(ip("192.168.10.20"));
    assert_eq!(run(&t, tcp(office, Destination::Nic(s), 22)).verdict, Access::Allow, "no NSG: default model");
    t.set_peering_access_blocks_all_traffic(true);
    let out = run(&t, tcp(office, Destination::Nic(s), 22));
    assert_eq!(out.verdict, Access::Deny);
    assert_eq!(
        out.hops[0].detail,
        HopDetail::Route(RouteDetail::PeeringBlocked {
            lead: PeeringLead::OnPremisesTransit { vnet: "hub".into(), dst_vnet: "spoke".into() },
            peering: BlockedPeering { from: "hub".into(), to: "spoke".into(), side: "spoke".into() },
        })
    );
    let back = run(&t, tcp(Source::Nic(s), Destination::Address(ip("192.168.10.20")), 22));
    assert_eq!(back.verdict, Access::Deny);
    assert!(
        back.hops.last().is_some_and(|h| matches!(
            &h.detail,
            HopDetail::Route(RouteDetail::PeeringBlocked { peering: BlockedPeering { from, to, .. }, .. })
                if (from.as_str(), to.as_str()) == ("spoke", "hub")
        )),
        "{back:#?}"
    );
}

#[test]
fn a_udr_to_the_firewall_joins_the_spokes_and_the_longest_prefix_wins() {
    let to_fw = NextHop::VirtualAppliance(ip("10.0.1.4"));
    let (t, a, b) = hub_and_spokes(vec![route("spoke2", "10.2.0.0/16", to_fw)]);
    let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
    assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
    assert!(trace.hops.iter().any(|h| h.kind == HopKind::Firewall && h.resource == "fw"));
    // A longer user prefix for b's subnet drops it even though the /16 leads to the firewall.
    let (t, a, b) = hub_and_spokes(vec![
        route("spoke2", "10.2.0.0/16", to_fw),
        route("drop", "10.2.1.0/24", NextHop::None),
    ]);
    let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
    assert_eq!(trace.verdict, Access::Deny);
    assert!(trace.hops.last().is_some_and(|h| matches!(
        &h.detail,
        HopDetail::Route(RouteDetail::Dropped { via }) if via.prefix == net("10.2.1.0/24")
    )));
}

#[test]
fn a_udr_beats_the_system_route_of_the_same_prefix() {
    // The system route for the peered hub (10.0.0.0/16, VNetPeering) ties with the UDR.
    let (t, a, _) = hub_and_spokes(vec![route("no-hub", "10.0.0.0/16", NextHop::None)]);
    let trace = run(&t, tcp(Source::Nic(a), Destination::Address(ip("10.0.5.5")), 443));
    assert_eq!(trace.verdict, Access::Deny);
    let last = trace.hops.last().expect("a hop");
    assert!(
        matches!(
            &last.detail,
            HopDetail::Route(RouteDetail::Dropped {
                via: RouteVia { source: route::RouteSource::User { table, route, next_hop: NextHop::None }, .. }
            }) if (table.as_str(), route.as_str()) == ("rt", "no-hub")
        ),
        "{:?}",
        last.detail
    );
    let (t, a, _) = hub_and_spokes(vec![]);
    let trace = run(&t, tcp(Source::Nic(a), Destination::Address(ip("10.0.5.5")), 443));
    assert_eq!(trace.verdict, Access::Allow, "without the UDR the peering route carries it");
}

/// Under the legacy option a spoke whose peering to the hub carries no traffic cannot reach
/// the hub's firewall either, and the firewall cannot forward into it.
#[test]
fn the_legacy_option_stops_routes_to_and_from_the_firewall_over_a_blocked_peering() {
    let to_fw = NextHop::VirtualAppliance(ip("10.0.1.4"));
    let (mut t, a, b) = hub_and_spokes(vec![route("spoke2", "10.2.0.0/16", to_fw)]);
    let (hub, s1, s2) = (VnetId(0), VnetId(1), VnetId(2));
    t.set_peering_access_blocks_all_traffic(true);
    t.set_peering_access(s1, hub, false).expect("spoke1's side");
    let out = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
    assert_eq!(out.verdict, Access::Deny);
    let last = out.hops.last().expect("a hop");
    assert!(
        matches!(
            &last.detail,
            HopDetail::Route(RouteDetail::PeeringBlocked {
                lead: PeeringLead::Route { firewall: Some(fw), .. },
                peering: BlockedPeering { from, to, .. },
            }) if fw == "fw" && (from.as_str(), to.as_str()) == ("spoke1", "hub")
        ),
        "{:?}",
        last.detail
    );
    t.set_peering_access(s1, hub, true).expect("spoke1's side");
    t.set_peering_access(hub, s2, false).expect("the hub's side to spoke2");
    let out = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 443));
    assert_eq!(out.verdict, Access::Deny);
    assert!(out.hops.iter().any(|h| h.kind == HopKind::Firewall && h.access == Access::Allow));
    let last = out.hops.last().expect("a hop");
    assert!(
        matches!(
            &last.detail,
            HopDetail::Route(RouteDetail::PeeringBlocked { peering: BlockedPeering { from, to, .. }, .. })
                if (from.as_str(), to.as_str()) == ("hub", "spoke2")
        ),
        "{:?}",
        last.detail
    );
}

#[test]
fn a_flow_the_firewall_has_no_rule_for_is_denied_at_the_firewall_hop() {
    // The firewall's only rule allows TCP: a UDP flow sent to it by the UDR matches nothing.
    let to_fw = NextHop::VirtualAppliance(ip("10.0.1.4"));
    let (t, a, b) = hub_and_spokes(vec![route("spoke2", "10.2.0.0/16", to_fw)]);
    let mut req = tcp(Source::Nic(a), Destination::Nic(b), 53);
    req.protocol = IpProtocol::UDP;
    let trace = run(&t, req);
    assert_eq!(trace.verdict, Access::Deny);
    let last = trace.hops.last().expect("a hop");
    assert_eq!((last.kind, last.access), (HopKind::Firewall, Access::Deny));
    assert!(last.detail.to_string().contains("denies by default"), "{}", last.detail);
    // The same flow over TCP is allowed by the rule, which the hop names.
    let trace = run(&t, tcp(Source::Nic(a), Destination::Nic(b), 53));
    assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
    let fw = trace.hops.iter().find(|h| h.kind == HopKind::Firewall).expect("a firewall hop");
    assert_eq!(fw.rule_name().as_deref(), Some("classic/net/all"));
}

/// hub (firewall 10.0.1.4 with public IP 20.0.0.1, DNAT 50022 -> 10.1.1.4:22) peered with a
/// spoke whose subnet NSG holds `rules`; the spoke VM has no public IP.
fn dnat_topology(rules: Vec<crate::nsg::SecurityRule>) -> (Topology, crate::model::PublicIpId) {
    use crate::model::{CollectionRules, DnatRule, PublicIpSku};
    let mut t = Topology::new();
    let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
    let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
    t.peer(hub, spoke).expect("peer");
    t.add_subnet(hub, "AzureFirewallSubnet", net("10.0.1.0/26")).expect("subnet");
    let work = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
    let pip = t.add_public_ip("fw-pip", ip("20.0.0.1"), PublicIpSku::Standard).expect("pip");
    let dnat = DnatRule {
        name: "ssh".into(),
        protocols: ProtocolSet::single(IpProtocol::TCP),
        sources: AddrSet::any(),
        destination: ip("20.0.0.1"),
        destination_port: 50022,
        translated_address: ip("10.1.1.4"),
        translated_port: 22,
        written_by_jit: false,
    };
    let firewall = Firewall {
        name: "fw".into(),
        subnet: SubnetId(0),
        private_ip: ip("10.0.1.4"),
        public_ip: Some(pip),
        mode: FirewallMode::Classic,
        groups: vec![RuleCollectionGroup {
            name: "classic".into(),
            priority: 100,
            collections: vec![RuleCollection {
                name: "in".into(),
                priority: 100,
                rules: CollectionRules::Dnat(vec![dnat]),
            }],
        }],
        legacy_dnat: false,
        private_ranges: crate::model::SnatPrivateRanges::default(),
    };
    t.add_firewall(firewall, hub).expect("firewall");
    let id = nsg(&mut t, "work-nsg", rules);
    t.set_subnet_nsg(work, Some(id)).expect("the subnet takes an NSG");
    vm(&mut t, "app", work, "10.1.1.4", None);
    (t, pip)
}

#[test]
fn dnat_translates_at_the_firewall_and_the_nsgs_see_the_firewall_as_the_source() {
    let client = "203.0.113.9";
    let from_client =
        rule("ssh-from-client", 100, Inbound, Access::Allow, Tcp, (prefix(client), AddressSpec::Any), "22");
    let deny_ssh =
        rule("deny-ssh", 200, Inbound, Access::Deny, Tcp, (AddressSpec::Any, AddressSpec::Any), "22");
    let (t, pip) = dnat_topology(vec![from_client, deny_ssh.clone()]);
    let req = tcp(Source::Address(ip(client)), Destination::PublicIp(pip), 50022);
    // The client's own address never reaches the NSG: its rule does not match, the deny does.
    let trace = run(&t, req);
    assert_eq!(trace.verdict, Access::Deny, "{trace:#?}");
    let kinds: Vec<HopKind> = trace.hops.iter().map(|h| h.kind).collect();
    let fw = kinds.iter().position(|k| *k == HopKind::Firewall).expect("a firewall hop");
    let nsg_hop = kinds.iter().position(|k| *k == HopKind::Nsg).expect("an NSG hop");
    assert!(fw < nsg_hop, "DNAT happens before the NSGs: {kinds:?}");
    assert_eq!(trace.hops[fw].access, Access::Allow);
    assert_eq!(trace.hops[fw].rule_name().as_deref(), Some("classic/in/ssh"));
    assert_eq!(rules(&trace).last().map(String::as_str), Some("securityRules/deny-ssh"));
    // A rule for the firewall's subnet admits it, on the translated port.
    let from_firewall = rule(
        "ssh-from-firewall",
        100,
        Inbound,
        Access::Allow,
        Tcp,
        (prefix("10.0.1.0/26"), AddressSpec::Any),
        "22",
    );
    let (t, pip) = dnat_topology(vec![from_firewall, deny_ssh]);
    let trace = run(&t, tcp(Source::Address(ip(client)), Destination::PublicIp(pip), 50022));
    assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
    assert_eq!(rules(&trace).last().map(String::as_str), Some("securityRules/ssh-from-firewall"));
    // No DNAT rule for another public port: the firewall denies.
    let trace = run(&t, tcp(Source::Address(ip(client)), Destination::PublicIp(pip), 50023));
    assert_eq!(trace.verdict, Access::Deny);
    assert_eq!(trace.deciding_hop().map(|h| h.kind), Some(HopKind::Firewall));
}

#[test]
fn on_premises_reaches_a_spoke_only_through_gateway_transit() {
    let build = |transit: bool| {
        let mut t = Topology::new();
        let hub = t.add_vnet("hub", vec![net("10.0.0.0/16")]).expect("vnet");
        let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16")]).expect("vnet");
        t.connect_on_premises(hub, vec![net("192.168.0.0/16")]).expect("gateway");
        t.peer(hub, spoke).expect("peer");
        if transit {
            t.use_remote_gateway(spoke, hub).expect("transit");
        }
        let work = t.add_subnet(spoke, "work", net("10.1.1.0/24")).expect("subnet");
        let id = nsg(&mut t, "work-nsg", vec![]);
        t.set_subnet_nsg(work, Some(id)).expect("the subnet takes an NSG");
        let nic = vm(&mut t, "app", work, "10.1.1.4", None);
        (t, nic)
    };
    let (t, nic) = build(false);
    let trace = run(&t, tcp(Source::Address(ip("192.168.5.5")), Destination::Nic(nic), 22));
    assert_eq!(trace.verdict, Access::Deny);
    let last = trace.hops.last().expect("a hop");
    assert_eq!(last.kind, HopKind::Route, "{trace:#?}");
    assert_eq!(
        last.detail,
        HopDetail::Route(RouteDetail::TransitOff { vnet: "hub".into(), peer: "spoke".into() })
    );
    // With transit the on-premises space joins the spoke's VirtualNetwork tag.
    let (t, nic) = build(true);
    let trace = run(&t, tcp(Source::Address(ip("192.168.5.5")), Destination::Nic(nic), 22));
    assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
    assert_eq!(rules(&trace), ["defaultSecurityRules/AllowVnetInBound"]);
}

/// Subnet peering (`peerCompleteVnets: false`) of hub's `web` and `AzureBastionSubnet` with
/// spoke's `app`; hub's `db` and spoke's `data` are left out. Both VNets also hold
/// 172.16.0.0/16, which Azure allows because no peered subnet is in it. Every subnet has an
/// NSG with the default rules only. Returns (topology, web VM, db VM, app VM, data VM, Bastion).
fn subnet_peered() -> (Topology, [NicId; 4], BastionId) {
    let mut t = Topology::new();
    let hub = t.add_vnet("hub", vec![net("10.0.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
    let spoke = t.add_vnet("spoke", vec![net("10.1.0.0/16"), net("172.16.0.0/16")]).expect("vnet");
    let web = t.add_subnet(hub, "web", net("10.0.1.0/24")).expect("subnet");
    let db = t.add_subnet(hub, "db", net("10.0.2.0/24")).expect("subnet");
    let bas = t.add_subnet(hub, crate::model::BASTION_SUBNET, net("10.0.3.0/26")).expect("subnet");
    let app = t.add_subnet(spoke, "app", net("10.1.1.0/24")).expect("subnet");
    let data = t.add_subnet(spoke, "data", net("10.1.2.0/24")).expect("subnet");
    t.peer_subnets(hub, spoke, &[web, bas], &[app]).expect("subnet peering");
    let pip = t.add_public_ip("bastion-pip", ip("20.0.0.9"), PublicIpSku::Standard).expect("pip");
    let b = t.add_bastion("bastion", hub, Some(pip)).expect("bastion");
    let defaults = nsg(&mut t, "defaults", vec![]);
    for s in [web, db, app, data] {
        t.set_subnet_nsg(s, Some(defaults)).expect("nsg");
    }
    let nics = [
        vm(&mut t, "w", web, "10.0.1.4", None),
        vm(&mut t, "d", db, "10.0.2.4", None),
        vm(&mut t, "a", app, "10.1.1.4", None),
        vm(&mut t, "x", data, "10.1.2.4", None),
    ];
    (t, nics, b)
}

/// Peered subnets reach each other (each side's VirtualNetwork tag holds the other's peered
/// subnet, so the default rules allow it); a subnet left out is stopped at the route, both
/// as sender (the route exists, Azure drops the packet) and as destination (no route).
#[test]
fn subnet_peering_carries_only_the_peered_subnets() {
    let (t, [w, d, a, x], b) = subnet_peered();
    let ok = run(&t, tcp(Source::Nic(w), Destination::Nic(a), 22));
    assert_eq!(ok.verdict, Access::Allow, "{ok:#?}");
    assert_eq!(
        rules(&ok),
        ["defaultSecurityRules/AllowVnetOutBound", "defaultSecurityRules/AllowVnetInBound"]
    );
    let back = run(&t, tcp(Source::Nic(a), Destination::Nic(w), 22));
    assert_eq!(back.verdict, Access::Allow, "{back:#?}");

    let from_db = run(&t, tcp(Source::Nic(d), Destination::Nic(a), 22));
    assert_eq!(from_db.verdict, Access::Deny);
    let hop = from_db.deciding_hop().expect("deciding hop");
    assert_eq!(hop.kind, HopKind::Route, "{from_db:#?}");
    match &hop.detail {
        HopDetail::Route(RouteDetail::SenderOutsideSubnetPeering { via, gap, .. }) => {
            assert_eq!(via.prefix, net("10.1.1.0/24"));
            assert_eq!(via.source, route::RouteSource::Peering { vnet: "spoke".into() });
            assert_eq!(
                *gap,
                SubnetPeeringGap {
                    role: PeeringRole::Sender,
                    subnet: "db".into(),
                    vnet: "hub".into(),
                    remote: "spoke".into(),
                    listed: vec!["web".into(), "AzureBastionSubnet".into()],
                }
            );
        }
        other => panic!("{other:?}"),
    }

    // To a subnet left out, the sender's NSG already stops it: the VirtualNetwork tag holds
    // only the peered subnets, and the note says so.
    let to_data = run(&t, tcp(Source::Nic(w), Destination::Nic(x), 22));
    assert_eq!(to_data.verdict, Access::Deny);
    let hop = to_data.deciding_hop().expect("deciding hop");
    assert_eq!(hop.rule_name().as_deref(), Some("defaultSecurityRules/DenyAllOutBound"), "{to_data:#?}");
    assert!(
        matches!(
            &hop.detail,
            HopDetail::Nsg { peering_note: Some(PeeringTagNote::OutsideSubnetPeering { remote, subnet: Some(subnet), here, peer }), .. }
                if *remote == ip("10.1.2.4") && (subnet.as_str(), here.as_str(), peer.as_str()) == ("data", "hub", "spoke")
        ),
        "{:?}",
        hop.detail
    );
    // Without NSGs the route stops it: no route over the peering, the default route sends
    // it to the Internet.
    let mut open = t.clone();
    for s in open.subnet_ids().collect::<Vec<_>>() {
        open.set_subnet_nsg(s, None).expect("no nsg");
    }
    let to_data = run(&open, tcp(Source::Nic(w), Destination::Nic(x), 22));
    assert_eq!(to_data.verdict, Access::Deny);
    let hop = to_data.deciding_hop().expect("deciding hop");
    assert_eq!(hop.kind, HopKind::Route);
    assert_eq!(
        hop.detail,
        HopDetail::Route(RouteDetail::UnpeeredSubnet {
            dst: ip("10.1.2.4"),
            subnet: Some("data".into()),
            here: "hub".into(),
            there: "spoke".into(),
        })
    );
    let to_db = run(&open, tcp(Source::Nic(a), Destination::Nic(d), 22));
    assert_eq!(to_db.verdict, Access::Deny);
    assert_eq!(
        to_db.deciding_hop().expect("hop").detail,
        HopDetail::Route(RouteDetail::UnpeeredSubnet {
            dst: ip("10.0.2.4"),
            subnet: Some("db".into()),
            here: "spoke".into(),
            there: "hub".into(),
        })
    );

    // Bastion in hub's peered AzureBastionSubnet reaches app, not data.
    let mut req = tcp(Source::Address(ip("198.51.100.7")), Destination::Nic(a), 22);
    req.via = Some(b);
    let trace = run(&t, req);
    assert_eq!(trace.verdict, Access::Allow, "{trace:#?}");
    req.destination = Destination::Nic(x);
    let trace = run(&t, req);
    assert_eq!(trace.verdict, Access::Deny);
    let hop = trace.deciding_hop().expect("hop");
    assert_eq!(hop.kind, HopKind::Bastion);
    assert!(
        matches!(
            &hop.detail,
            HopDetail::BastionOutsideSubnetPeering {
                gap: SubnetPeeringGap { role: PeeringRole::Destination, subnet, vnet, remote, .. },
                ..
            } if (subnet.as_str(), vnet.as_str(), remote.as_str()) == ("data", "spoke", "hub")
        ),
        "{:?}",
        hop.detail
    );
}

//! Unit tests of the scenario loader: what each field becomes, and each error's field and position.

use super::super::testing::{self, Case, at};
use super::rules::ports;
use super::*;
use crate::path::{Destination, Source};

/// One of each foundation entity. Tests change one thing in it.
const BASE: &str = r#"// unit-test base
Scenario(
    name: "base",
    description: "d",
    start: "2025-01-06T09:00:00Z",
    service_tags: {"Office": ["203.0.113.0/24"]},
    vnets: [
        Vnet(name: "hub", address_space: ["10.0.0.0/16"], on_premises: ["192.168.0.0/16"], subnets: [
            Subnet(name: "web", prefix: "10.0.1.0/24", nsg: "web-nsg"),
            Subnet(name: "db", prefix: "10.0.2.0/24"),
        ]),
        Vnet(name: "spoke", address_space: ["10.5.0.0/16"], subnets: [Subnet(name: "app", prefix: "10.5.1.0/24")]),
    ],
    peerings: [("hub", "spoke")],
    asgs: ["web-tier"],
    nsgs: [
        Nsg(name: "web-nsg", rules: [
            Rule(name: "allow-https", priority: 100, direction: Inbound, access: Allow, protocol: Tcp,
                 source: "Internet", destination_asgs: ["web-tier"], destination_ports: "443,8443"),
            Rule(name: "allow-office", priority: 110, direction: Inbound, access: Allow, protocol: Tcp,
                 source: "Office", source_ports: "1024-65535", destination_ports: "22"),
            Rule(name: "deny-out", priority: 100, direction: Outbound, access: Deny, protocol: Any,
                 destination: "198.51.100.0/24, 198.51.100.7", destination_ports: "*", description: "no"),
        ]),
    ],
    public_ips: [PublicIp(name: "web-pip", address: "20.40.0.10"), PublicIp(name: "old-pip", address: "20.40.0.11", sku: Basic)],
    vms: [
        Vm(name: "vm-web", os: Linux, nics: [
            Nic(name: "vm-web-nic", subnet: "hub/web", private_ip: "10.0.1.4", asgs: ["web-tier"], public_ip: "web-pip"),
            Nic(name: "vm-web-nic2", subnet: "hub/db", private_ip: "10.0.2.5", nsg: "web-nsg"),
        ]),
        Vm(name: "vm-app", os: Windows, subscription: "sub1", resource_group: "rg1",
           nics: [Nic(name: "vm-app-nic", subnet: "spoke/app", private_ip: "10.5.1.4")]),
    ],
    users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.10")],
    timeline: [
        (at: "0", note: "start"),
        (at: "PT30M", action: AddRule(nsg: "web-nsg", rule: Rule(name: "x", priority: 200, direction: Inbound,
            access: Deny, protocol: Udp, destination_ports: "53"))),
        (at: "1h", expect: Flow(from: "alice", to: "web-pip", port: 443, verdict: Allow, nsg: "web-nsg", rule: "allow-https")),
    ],
)
"#;

const FILE: &str = "u.ron";

fn load(text: &str) -> Result<Scenario, LoadError> {
    testing::load(text, FILE)
}

/// The error of `BASE` with `from` replaced (once) by `to`.
fn broken(from: &str, to: &str) -> (String, LoadError) {
    testing::broken(BASE, FILE, from, to)
}

/// Audit (fidelity, F3): Azure accepts service tag names in any case; nsgsim keeps the
/// canonical spelling (built-in, sample and scenario-defined tags alike).
#[test]
fn service_tags_in_any_case_keep_their_canonical_spelling() {
    let text = BASE
        .replace(r#"source: "Internet", destination_asgs"#, r#"source: "internet", destination_asgs"#)
        .replace(r#"source: "Office", source_ports"#, r#"source: "OFFICE", source_ports"#);
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let t = &s.topology;
    let nsg = t.nsg(t.nsg_by_name("web-nsg").expect("nsg"));
    assert_eq!(nsg.rule("allow-https").expect("rule").source, AddressSpec::Tag(ServiceTag::Internet));
    assert_eq!(
        nsg.rules
            .iter()
            .find(|r| r.source == AddressSpec::Tag(ServiceTag::Other("Office".into())))
            .map(|r| r.name.as_str()),
        Some("allow-office")
    );
    for (written, canonical) in [
        ("virtualnetwork", "VirtualNetwork"),
        ("AZURELOADBALANCER", "AzureLoadBalancer"),
        ("gatewaymanager", "GatewayManager"),
    ] {
        assert_eq!(t.service_tag_name(written).as_deref(), Some(canonical));
        let tag = ServiceTag::parse(written).expect("a tag");
        assert_eq!(t.service_tag_name(tag.name()).as_deref(), Some(canonical));
    }
    assert_eq!(t.service_tag_name("NoSuchTag"), None);
}

/// `subnets: (first VNet's, second VNet's)` makes a subnet peering; unknown names, an empty
/// list, a name twice and a peered subnet in an address space the other VNet also holds are
/// refused at the peering, saying what is valid; the overlap of the whole spaces is allowed.
#[test]
fn peering_subnets_make_a_subnet_peering() {
    let pair = r#"peerings: [("hub", "spoke")],"#;
    let with =
        |subnets: &str| format!(r#"peerings: [Peering(vnets: ("hub", "spoke"), subnets: {subnets})],"#);
    let text = BASE.replace(pair, &with(r#"(["web"], ["app"])"#));
    let t = load(&text).unwrap_or_else(|e| panic!("{e}")).topology;
    let (hub, spoke) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
    let web = t.subnet_by_name(hub, "web").expect("web");
    assert_eq!(t.peered_subnets(hub, spoke), Some(&[web][..]));
    assert!(!t.subnet_in_peering(t.subnet_by_name(hub, "db").expect("db"), spoke));
    assert!(!t.virtual_network_tag(spoke).contains("10.0.2.5".parse().expect("ip")));
    for (bad, field, says) in [
        (
            r#"(["web", "nope"], ["app"])"#,
            "peerings[0].subnets[0][1]",
            "vnet 'hub' has no subnet 'nope'; valid: web, db",
        ),
        (
            r#"(["web"], [])"#,
            "peerings[0].subnets[1]",
            "a subnet peering names at least one subnet of vnet 'spoke'",
        ),
        (
            r#"(["web", "web"], ["app"])"#,
            "peerings[0].subnets[0][1]",
            "subnet 'web' of vnet 'hub' is listed twice",
        ),
    ] {
        let (text, e) = broken(pair, &with(bad));
        let msg = e.to_string();
        assert!(msg.contains(field) && msg.contains(says), "{bad}: {msg}");
        assert_eq!(e.position.map(|p| p.line), Some(at(&text, "peerings:", 0).line), "{bad}: {e}");
    }
    // Overlapping spaces: refused for whole VNets, allowed for subnets outside the overlap,
    // refused for a peered subnet inside it.
    let overlap = BASE
        .replace(r#"address_space: ["10.5.0.0/16"]"#, r#"address_space: ["10.5.0.0/16", "172.16.0.0/16"]"#)
        .replace(r#"address_space: ["10.0.0.0/16"]"#, r#"address_space: ["10.0.0.0/16", "172.16.0.0/16"]"#)
        .replace(
            r#"Subnet(name: "db", prefix: "10.0.2.0/24"),"#,
            r#"Subnet(name: "db", prefix: "10.0.2.0/24"), Subnet(name: "shared", prefix: "172.16.1.0/24"),"#,
        );
    assert!(load(&overlap).is_err());
    let ok = overlap.replace(pair, &with(r#"(["web"], ["app"])"#));
    load(&ok).unwrap_or_else(|e| panic!("{e}"));
    let e = load(&overlap.replace(pair, &with(r#"(["shared"], ["app"])"#)))
        .expect_err("shared is in the overlap");
    assert!(
        e.to_string().contains("peerings[0].subnets") && e.to_string().contains("unique address spaces"),
        "{e}"
    );
}

/// `allow_virtual_network_access: (first side, second side)` reaches the topology, Azure's
/// default (true) holds for a pair and for a `Peering` without the field, and the option
/// `peering_access_blocks_all_traffic` is read.
#[test]
fn peering_sides_carry_allow_virtual_network_access() {
    let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
    let t = &s.topology;
    let (hub, spoke) = (t.vnet_by_name("hub").expect("hub"), t.vnet_by_name("spoke").expect("spoke"));
    assert!(t.allows_virtual_network_access(hub, spoke) && t.allows_virtual_network_access(spoke, hub));
    assert!(!t.peering_access_blocks_all_traffic());
    let text = BASE.replace(
        r#"peerings: [("hub", "spoke")],"#,
        r#"peerings: [Peering(vnets: ("hub", "spoke"), allow_virtual_network_access: (false, true))],
    options: Options(peering_access_blocks_all_traffic: true),"#,
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let t = &s.topology;
    assert!(!t.allows_virtual_network_access(hub, spoke), "the first VNet's side");
    assert!(t.allows_virtual_network_access(spoke, hub), "the second VNet's side");
    assert!(t.peering_access_blocks_all_traffic());
    assert!(!t.virtual_network_tag(hub).contains("10.5.1.4".parse().expect("ip")));
    let text = BASE.replace(
        r#"peerings: [("hub", "spoke")],"#,
        r#"peerings: [Peering(vnets: ("spoke", "hub"), allow_virtual_network_access: (true, false))],"#,
    );
    let t = load(&text).unwrap_or_else(|e| panic!("{e}")).topology;
    assert!(!t.allows_virtual_network_access(hub, spoke), "sides follow the order of vnets");
    let text =
        BASE.replace(r#"peerings: [("hub", "spoke")],"#, r#"peerings: [Peering(vnets: ("hub", "spoke"))],"#);
    let t = load(&text).unwrap_or_else(|e| panic!("{e}")).topology;
    assert!(t.allows_virtual_network_access(hub, spoke) && t.allows_virtual_network_access(spoke, hub));
    // Anything but two booleans is refused, at the peering, saying what the field takes.
    for bad in ["false", "(false)", r#"(false, "no")"#, "(true, true, false)"] {
        let line =
            format!(r#"peerings: [Peering(vnets: ("hub", "spoke"), allow_virtual_network_access: {bad})],"#);
        let (text, e) = broken(r#"peerings: [("hub", "spoke")],"#, &line);
        assert_eq!(e.position.map(|p| p.line), Some(at(&text, "peerings:", 0).line), "{bad}: {e}");
        assert!(e.to_string().contains("allow_virtual_network_access: (bool, bool)"), "{bad}: {e}");
    }
}

/// A bad peering is reported at the value at fault, naming the field and what it takes; the
/// pair form and `Peering(...)` are told apart without buffering the value.
#[test]
fn peering_errors_name_the_field_at_its_value() {
    let cases = [
        (
            r#"Peering(vnets: ("hub", "spoke"), allow_gateway_transit: "yes")"#,
            r#""yes""#,
            "peering field allow_gateway_transit: ",
        ),
        (
            r#"Peering(vnets: ("hub", "spoke"), gateway_transit: true)"#,
            "gateway_transit",
            "unknown peering field 'gateway_transit'; valid: vnets, allow_gateway_transit, use_remote_gateways, allow_virtual_network_access, subnets",
        ),
        (
            r#"Peering(vnets: ("hub", "spoke"), use_remote_gateways: true, use_remote_gateways: false)"#,
            "false)",
            "peering field use_remote_gateways is given twice",
        ),
        (r#"Peering(allow_gateway_transit: true)"#, ")]", "the peering has no vnets"),
        (r#"Peering(vnets: ("hub", "spoke"), subnets: ("web", ["app"]))"#, r#""web""#, "valid: subnets: ("),
        (r#"("hub")"#, ")]", "but found one element instead"),
        (r#"("hub", "spoke", "shared")"#, r#""shared""#, "a peering: "),
    ];
    for (peering, at_value, message) in cases {
        let line = format!("peerings: [{peering}],");
        let (text, e) = broken(r#"peerings: [("hub", "spoke")],"#, &line);
        assert!(e.to_string().contains(message), "{peering}: {e}");
        let row = at(&text, &line, 0).line;
        let col = line.find(at_value).unwrap_or_else(|| panic!("no {at_value:?}"))
            + 1
            + text.lines().nth(row - 1).map_or(0, |l| l.len() - l.trim_start().len());
        // RON places the error where it started reading the value, the space before it included.
        let crate::position::Position { line: erow, column: ecol } =
            e.position.unwrap_or_else(|| panic!("{peering}: no position in {e}"));
        assert_eq!(erow, row, "{peering}: {e}");
        assert!(
            (col - 1..=col + at_value.len()).contains(&ecol),
            "{peering}: error at column {ecol}, the value at {col}: {e}"
        );
    }
}

/// Azure allows one peering link between two VNets: a second entry for the same pair, in
/// either order, is refused at the second entry.
#[test]
fn a_pair_peered_twice_is_refused() {
    for second in [r#"("hub", "spoke")"#, r#"Peering(vnets: ("spoke", "hub"), allow_gateway_transit: true)"#]
    {
        let line = format!(r#"peerings: [("hub", "spoke"), {second}],"#);
        let (text, e) = broken(r#"peerings: [("hub", "spoke")],"#, &line);
        assert!(
            e.to_string().contains("peerings[1]: vnets 'hub' and 'spoke' are already peered by peerings[0]")
                || e.to_string()
                    .contains("peerings[1]: vnets 'spoke' and 'hub' are already peered by peerings[0]"),
            "{second}: {e}"
        );
        assert_eq!(e.position.map(|p| p.line), Some(at(&text, &line, 0).line), "{second}: {e}");
    }
}

#[test]
fn loads_every_entity() {
    let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.name.as_str(), s.description.as_str()), ("base", "d"));
    assert_eq!(s.start.to_string(), "2025-01-06T09:00:00Z");
    let t = &s.topology;
    let hub = t.vnet_by_name("hub").expect("hub");
    assert_eq!(t.vnet(hub).on_premises, ["192.168.0.0/16".parse::<IpNet>().expect("net")]);
    assert_eq!(t.vnet(hub).peerings, [t.vnet_by_name("spoke").expect("spoke")]);
    let web = t.subnet_by_name(hub, "web").expect("web");
    assert_eq!(t.subnet(web).nsg, t.nsg_by_name("web-nsg"));
    assert!(t.has_service_tag("Office"));
    let nsg = t.nsg(t.nsg_by_name("web-nsg").expect("nsg"));
    let https = nsg.rule("allow-https").expect("rule");
    assert_eq!(
        (https.priority, https.direction, https.access),
        (Priority(100), Direction::Inbound, Access::Allow)
    );
    assert_eq!(https.source, AddressSpec::Tag(ServiceTag::Internet));
    assert_eq!(https.destination, AddressSpec::Asgs(vec![t.asg_by_name("web-tier").expect("asg")]));
    assert_eq!(https.destination_ports.to_string(), "443,8443");
    let office = nsg.rule("allow-office").expect("rule");
    assert_eq!(office.source, AddressSpec::Tag(ServiceTag::Other("Office".into())));
    assert_eq!(office.source_ports.to_string(), "1024-65535");
    let out = nsg.rule("deny-out").expect("rule");
    assert_eq!((out.protocol, out.description.as_str()), (RuleProtocol::Any, "no"));
    assert_eq!(describe_prefixes(&out.destination), ["198.51.100.0/24", "198.51.100.7/32"]);
    assert!(out.destination_ports.is_any());
    let pip = t.public_ip(t.public_ip_by_name("web-pip").expect("pip"));
    assert_eq!((pip.sku, pip.nic), (PublicIpSku::Standard, t.nic_by_name("vm-web-nic")));
    assert_eq!(t.public_ip(t.public_ip_by_name("old-pip").expect("pip")).sku, PublicIpSku::Basic);
    let vm = t.vm(t.vm_by_name("vm-web").expect("vm"));
    assert_eq!(vm.nics.len(), 2);
    assert!(t.nic(vm.nics[0]).primary && !t.nic(vm.nics[1]).primary);
    assert_eq!(t.nic(vm.nics[1]).nsg, t.nsg_by_name("web-nsg"));
    let app = t.vm(t.vm_by_name("vm-app").expect("vm"));
    assert_eq!(
        (app.os, app.subscription.as_str(), app.resource_group.as_str()),
        (Os::Windows, "sub1", "rg1")
    );
    assert_eq!(s.users.len(), 1);
    assert_eq!(s.users[0].source_ip, "203.0.113.10".parse::<IpAddr>().expect("ip"));
    assert!(s.warnings.is_empty());
}

fn describe_prefixes(spec: &AddressSpec) -> Vec<String> {
    match spec {
        AddressSpec::Prefixes(p) => p.iter().map(ToString::to_string).collect(),
        other => panic!("not prefixes: {other:?}"),
    }
}

#[test]
fn loads_the_timeline_with_positions() {
    let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.steps.len(), 3);
    let offsets: Vec<String> = s.steps.iter().map(|st| st.at.to_string()).collect();
    assert_eq!(offsets, ["0s", "30m", "1h"]);
    assert_eq!(s.steps[0].note.as_deref(), Some("start"));
    assert!(matches!(s.steps[1].action.as_deref(), Some(Action::AddRule { rule, .. }) if rule.name == "x"));
    assert!(matches!(
        s.steps[2].expect.as_deref(),
        Some(Expectation::Flow { verdict: Access::Allow, rule: Some(r), nsg: Some(_), .. }) if r == "allow-https"
    ));
    assert_eq!(
        (s.steps[1].position, &s.steps[1].path()),
        (Some(at(BASE, "(at: \"PT30M\"", 0)), &FieldPath::root("timeline").index(1))
    );
    assert_eq!(
        s.instant_at(Duration::from_secs(60)).map(|i| i.to_string()),
        Ok("2025-01-06T09:01:00Z".into())
    );
    assert_eq!(
        s.instant_at(Duration::from_secs(i64::MAX)),
        Err(crate::scenario::TimelineError::PastCalendar {
            start: s.start,
            offset: Duration::from_secs(i64::MAX)
        })
    );
}

#[test]
fn resolves_endpoints_by_name() {
    let s = load(BASE).unwrap_or_else(|e| panic!("{e}"));
    let t = &s.topology;
    let source = |text: &str| s.endpoints(text, "vm-web").map(|e| e.0);
    let destination = |text: &str| s.endpoints("vm-web", text).map(|e| e.1);
    assert_eq!(source("vm-web"), Ok(Source::Nic(t.nic_by_name("vm-web-nic").expect("nic"))));
    assert_eq!(source("alice"), Ok(Source::Address("203.0.113.10".parse().expect("ip"))));
    assert_eq!(source("10.0.2.5"), Ok(Source::Nic(t.nic_by_name("vm-web-nic2").expect("nic"))));
    assert_eq!(
        destination("web-pip"),
        Ok(Destination::PublicIp(t.public_ip_by_name("web-pip").expect("pip")))
    );
    let e = destination("nobody").expect_err("unknown");
    assert!(
        matches!(e.fault.as_ref(), crate::scenario::EndpointFault::Unknown { vms, users, .. } if vms == &["vm-web", "vm-app"] && users == &["alice"]),
        "{e:?}"
    );
    let none = s.bastion("b").expect_err("none");
    assert_eq!(none, crate::scenario::TimelineError::UnknownBastion { name: "b".into(), declared: vec![] });
    assert_eq!(none.to_string(), "unknown bastion 'b'; valid: (none declared)");
}

/// Each meaning error: the field path, the position of the offending value, and the message.
#[test]
fn each_validation_error_names_its_field_and_position() {
    let cases: &[Case] = &[
        (
            r#"start: "2025-01-06T09:00:00Z""#,
            r#"start: "soon""#,
            "start",
            (r#""soon""#, 0),
            "is not an RFC 3339",
        ),
        (
            r#""Office": ["203.0.113.0/24"]"#,
            r#""Office": ["203.0.113.0/33"]"#,
            r#"service_tags["Office"][0]"#,
            (r#""203.0.113.0/33""#, 0),
            "IPv4 length",
        ),
        (
            r#""Office": ["#,
            r#""Internet": ["#,
            r#"service_tags["Internet"]"#,
            (r#""Internet""#, 0),
            "cannot be defined",
        ),
        (
            r#"address_space: ["10.5.0.0/16"]"#,
            r#"address_space: []"#,
            "vnets[1].address_space",
            ("[]", 0),
            "at least one address space",
        ),
        (
            r#"Vnet(name: "spoke""#,
            r#"Vnet(name: "hub""#,
            "vnets[1].name",
            (r#""hub""#, 1),
            "vnet name 'hub' is used twice",
        ),
        (
            r#"address_space: ["10.5.0.0/16"]"#,
            r#"address_space: ["127.0.0.0/16"]"#,
            "vnets[1].address_space",
            (r#""127.0.0.0/16""#, 0),
            "127.0.0.0/8 (loopback)",
        ),
        (
            r#"on_premises: ["192.168.0.0/16"]"#,
            r#"on_premises: ["10.0.128.0/17"]"#,
            "vnets[0].on_premises",
            (r#""10.0.128.0/17""#, 0),
            "overlap",
        ),
        (
            r#"Subnet(name: "db""#,
            r#"Subnet(name: "web""#,
            "vnets[0].subnets[1].name",
            (r#""web""#, 1),
            "subnet name 'hub/web' is used twice",
        ),
        (
            r#"prefix: "10.0.2.0/24""#,
            r#"prefix: "10.0.2.0/30""#,
            "vnets[0].subnets[1].prefix",
            (r#""10.0.2.0/30""#, 0),
            "smallest IPv4 subnet is /29",
        ),
        (
            r#"("hub", "spoke")"#,
            r#"("hub", "nowhere")"#,
            "peerings[0][1]",
            (r#""nowhere""#, 0),
            "unknown vnet 'nowhere'; valid: hub, spoke",
        ),
        (
            "    asgs: [\"web-tier\"],\n",
            "    asgs: [\"web-tier\", \"web-tier\"],\n",
            "asgs[1]",
            (r#""web-tier""#, 1),
            "is used twice",
        ),
        (
            r#"prefix: "10.0.1.0/24", nsg: "web-nsg")"#,
            r#"prefix: "10.0.1.0/24", nsg: "nope")"#,
            "vnets[0].subnets[0].nsg",
            (r#""nope""#, 0),
            "unknown nsg 'nope'; valid: web-nsg",
        ),
        (
            r#"priority: 110"#,
            r#"priority: 100"#,
            "nsgs[0].rules[1].priority",
            ("100", 1),
            "SecurityRuleConflict",
        ),
        (
            r#"name: "allow-office""#,
            r#"name: "ALLOW-HTTPS""#,
            "nsgs[0].rules[1].name",
            (r#""ALLOW-HTTPS""#, 0),
            "is used twice",
        ),
        (
            r#"priority: 110"#,
            r#"priority: -3"#,
            "nsgs[0].rules[1].priority",
            ("-3", 0),
            "priority -3 is outside 100..=4096",
        ),
        (
            r#"source: "Office""#,
            r#"source: "Offices""#,
            "nsgs[0].rules[1].source",
            (r#""Offices""#, 0),
            "unknown service tag 'Offices'",
        ),
        (
            r#"source: "Office""#,
            r#"source: "Office, 10.0.0.0/8""#,
            "nsgs[0].rules[1].source",
            ("Office", 1),
            "cannot be combined",
        ),
        (
            r#"destination_asgs: ["web-tier"]"#,
            r#"destination_asgs: ["nope"]"#,
            "nsgs[0].rules[0].destination_asgs[0]",
            (r#""nope""#, 0),
            "unknown application security group 'nope'",
        ),
        (
            r#"source_ports: "1024-65535""#,
            r#"source_ports: "1024-""#,
            "nsgs[0].rules[1].source_ports",
            ("\"1024-\"", 0),
            "not a number",
        ),
        (
            r#"destination_ports: "443,8443""#,
            r#"destination_ports: "443,*""#,
            "nsgs[0].rules[0].destination_ports",
            ("*\"", 0),
            "lists '*' with other entries",
        ),
        (
            r#"description: "no""#,
            &format!("description: \"{}\"", "x".repeat(141)),
            "nsgs[0].rules[2].description",
            ("\"xxx", 0),
            "141 characters",
        ),
        (
            r#"address: "20.40.0.11""#,
            r#"address: "20.40.0.10""#,
            "public_ips[1].address",
            (r#""20.40.0.10""#, 1),
            "public IP address name '20.40.0.10",
        ),
        (
            r#"private_ip: "10.0.2.5""#,
            r#"private_ip: "10.0.2.3""#,
            "vms[0].nics[1].private_ip",
            (r#""10.0.2.3""#, 0),
            "reserved by Azure",
        ),
        (
            r#"private_ip: "10.5.1.4""#,
            r#"private_ip: "10.0.1.4""#,
            "vms[1].nics[0].private_ip",
            (r#""10.0.1.4""#, 1),
            "outside subnet 'app'",
        ),
        (
            r#"Nic(name: "vm-app-nic""#,
            r#"Nic(name: "vm-web-nic""#,
            "vms[1].nics[0].name",
            (r#""vm-web-nic""#, 1),
            "nic name 'vm-web-nic' is used twice",
        ),
        (
            r#"subnet: "spoke/app""#,
            r#"subnet: "spoke""#,
            "vms[1].nics[0].subnet",
            (r#""spoke""#, 2),
            "write it as vnet/subnet",
        ),
        (
            r#"public_ip: "web-pip""#,
            r#"public_ip: "no-pip""#,
            "vms[0].nics[0].public_ip",
            (r#""no-pip""#, 0),
            "unknown public IP 'no-pip'",
        ),
        (
            r#"Vm(name: "vm-app""#,
            r#"Vm(name: "alice""#,
            "users[0].name",
            (r#""alice""#, 1),
            "'alice' names both a vm and a user",
        ),
        (
            r#"Vm(name: "vm-app""#,
            r#"Vm(name: "web-pip""#,
            "vms[1].name",
            (r#""web-pip""#, 2),
            "'web-pip' names both a public IP and a vm",
        ),
        (
            // Names are found without case: `WEB-PIP` would be either.
            r#"Vm(name: "vm-app""#,
            r#"Vm(name: "WEB-PIP""#,
            "vms[1].name",
            (r#""WEB-PIP""#, 0),
            "'WEB-PIP' names both a public IP ('web-pip': names are found without case) and a vm",
        ),
        (
            r#"roles: ["Owner"]"#,
            r#"roles: ["Owner", "Ownr"]"#,
            "users[0].roles[1]",
            (r#""Ownr""#, 0),
            "unknown role 'Ownr'",
        ),
        (
            r#"source_ip: "203.0.113.10""#,
            r#"source_ip: "203.0.113.0/24""#,
            "users[0].source_ip",
            (r#""203.0.113.0/24""#, 1),
            "is not an IP address",
        ),
        (
            r#"(at: "0", note: "start")"#,
            r#"(at: "0")"#,
            "timeline[0]",
            ("(at: \"0\")", 0),
            "a step needs an action, an expect, a note, a correction or a question",
        ),
        (r#"at: "1h""#, r#"at: "1y""#, "timeline[2].at", (r#""1y""#, 0), "is not a duration"),
        (
            r#"port: 443"#,
            r#"port: 65536"#,
            "timeline[2].expect.port",
            ("65536", 0),
            "port 65536 is outside 0..=65535",
        ),
        (
            r#"verdict: Allow, nsg: "web-nsg""#,
            r#"verdict: Allow, nsg: "web""#,
            "timeline[2].expect.nsg",
            (r#""web""#, 1),
            "unknown nsg 'web'",
        ),
        (
            r#"priority: 200"#,
            r#"priority: 5000"#,
            "timeline[1].action.rule.priority",
            ("5000", 0),
            "priority 5000 is outside",
        ),
        (
            r#"AddRule(nsg: "web-nsg""#,
            r#"AddRule(nsg: "web-nsgg""#,
            "timeline[1].action.nsg",
            (r#""web-nsgg""#, 0),
            "unknown nsg",
        ),
    ];
    testing::assert_cases(BASE, FILE, cases);
}

#[test]
fn syntax_errors_keep_the_parsers_position() {
    let (text, e) = broken("priority: 110,", "priority: 110");
    assert_eq!(e.field, None);
    assert_eq!(
        e.position,
        Some(at(
            &text,
            "direction: Inbound, access: Allow, protocol: Tcp,\n                 source: \"Office\"",
            0
        ))
    );
    let (_, e) = broken("Subnet(name: \"db\",", "Subnet(name: \"db\", colour: 1,");
    assert!(e.message.contains("`colour`") && e.message.contains("docs/scenario-format.md"), "{e}");
}

#[test]
fn removing_a_default_rule_and_repeating_a_request_id_are_load_errors() {
    let steps = r#"(at: "0", note: "start"),
        (at: "1m", action: RemoveRule(nsg: "web-nsg", rule: "denyallinbound")),"#;
    let text = BASE.replacen(r#"(at: "0", note: "start"),"#, steps, 1);
    let e = load(&text).expect_err("default rule");
    assert_eq!(e.field, Some(FieldPath::root("timeline").index(1).field("action").field("rule")));
    assert!(e.message.contains("'DenyAllInBound' is one of the default rules"), "{e}");

    let steps = r#"(at: "0", action: RequestJit(id: "r", user: "alice", vm: "vm-web", ports: [22], duration: "1h")),
        (at: "1m", action: RequestJit(id: "r", user: "alice", vm: "vm-web", ports: [22], duration: "1h")),"#;
    let text = BASE.replacen(r#"(at: "0", note: "start"),"#, steps, 1);
    let e = load(&text).expect_err("repeated id");
    assert_eq!(e.field, Some(FieldPath::root("timeline").index(1).field("action").field("id")));
    assert_eq!(e.position, Some(at(&text, "\"r\"", 1)));
    assert!(e.message.contains("request id 'r' is already used by timeline[0]"), "{e}");
}

#[test]
fn offsets_past_the_calendar_are_refused_with_the_last_valid_offset() {
    let (_, e) = broken(r#"at: "1h""#, r#"at: "9223372036854775807s""#);
    assert_eq!(e.field, Some(FieldPath::root("timeline").index(2).field("at")));
    assert!(e.message.contains("is past 9999-12-30T22:00:00Z"), "{e}");
    assert!(
        e.message.contains(&format!(
            "valid: an offset up to {}",
            Instant::MAX.since(Instant::parse("2025-01-06T09:00:00Z").expect("valid"))
        )),
        "{e}"
    );
}

#[test]
fn ports_on_a_portless_protocol_are_a_warning() {
    let text = BASE.replacen(
        "access: Deny, protocol: Udp, destination_ports: \"53\"",
        "access: Deny, protocol: Icmp, destination_ports: \"53\"",
        1,
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let w = &s.warnings[0];
    assert_eq!(
        w.field,
        Some(FieldPath::root("timeline").index(1).field("action").field("rule").field("destination_ports"))
    );
    assert_eq!(w.position, Some(at(&text, "\"53\"", 0)));
    assert!(w.message.contains("protocol Icmp has no ports") && w.message.contains("valid: '*'"), "{w}");
}

#[test]
fn port_fields() {
    assert_eq!(ports("*").map(|p| p.is_any()), Ok(true));
    assert_eq!(ports(" 22 , 80-81 ").map(|p| p.to_string()), Ok("22,80-81".into()));
    assert!(ports("").is_err_and(|(_, m)| m.contains("is empty")));
    assert!(ports("22,").is_err_and(|(_, m)| m.contains("empty entry")));
    assert!(ports("*,22").is_err_and(|(v, m)| v == "*" && m.contains("'*' only on its own")));
    assert!(ports("22,70000").is_err_and(|(v, _)| v == "70000"));
    assert_eq!(in_range(100, 100u16, 4096), Some(100));
    assert_eq!(in_range(-1, 100u16, 4096), None);
    assert_eq!(in_range(i64::MAX, 0u16, u16::MAX), None);
}

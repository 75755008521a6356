//! What a hop says, as data: the facts of each kind of step (the NSG and rule that decided, the
//! place without an NSG, the security admin rule, the firewall rule, the route, the load
//! balancer, the NAT gateway, the platform service), rendered into the sentence people read by
//! `Display`.
//!
//! Hops used to carry that sentence only, so code that wanted a fact (which rule, which address)
//! had to find it in the words again (issue 23). Every kind of hop is now a variant with fields;
//! the larger families live beside this file (`routing`, `load_balancer`, `outbound`,
//! `platform`). Every variant prints exactly what the sentence said before, byte for byte.

mod load_balancer;
mod outbound;
mod platform;
mod routing;

use std::fmt;
use std::net::IpAddr;

use crate::model::{AdminAction, PublicIpSku};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{Access, Direction, RuleRef};

use super::Snat;

pub use load_balancer::{LbDetail, LbFrontend, Member, MemberAnswer, Probe};
pub use outbound::{NoSnat, OutboundDetail, PartialSnat, Sender, SnatFrontend, SnatMember};
pub use platform::{PlatformAnswer, PlatformDetail};
pub use routing::{
    BlockedPeering, HostAt, PeeringLead, PeeringRole, PrivateWay, RouteDetail, RouteThen, RouteVia,
    SubnetPeeringGap,
};

/// The level an NSG hop is about: `subnet 'vnet/web'` or `nic 'web-nic'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NsgPlace {
    /// A subnet.
    Subnet {
        /// Its VNet.
        vnet: String,
        /// The subnet.
        subnet: String,
    },
    /// A network interface.
    Nic {
        /// The NIC.
        nic: String,
    },
}

impl fmt::Display for NsgPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NsgPlace::Subnet { vnet, subnet } => write!(f, "subnet '{vnet}/{subnet}'"),
            NsgPlace::Nic { nic } => write!(f, "nic '{nic}'"),
        }
    }
}

/// Why a denied flow's peered address is not in the NSG's `VirtualNetwork` tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeeringTagNote {
    /// The address is in a subnet that the subnet peering leaves out.
    OutsideSubnetPeering {
        /// The address on the other side.
        remote: IpAddr,
        /// Its subnet in the peered VNet, if a modelled one.
        subnet: Option<String>,
        /// The NSG's VNet.
        here: String,
        /// The peered VNet.
        peer: String,
    },
    /// The NSG's VNet sets `allowVirtualNetworkAccess: false` on its peering.
    AccessBlocked {
        /// The address on the other side.
        remote: IpAddr,
        /// The NSG's VNet.
        here: String,
        /// The peered VNet.
        peer: String,
        /// The direction evaluated (which default allow rule missed it).
        direction: Direction,
        /// Whether option `peering_access_blocks_all_traffic` is on.
        blocks_all_traffic: bool,
    },
}

impl fmt::Display for PeeringTagNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeeringTagNote::OutsideSubnetPeering { remote, subnet, here: h, peer: p } => {
                write!(f, "; {remote} is not in this NSG's VirtualNetwork tag: it is in ")?;
                match subnet {
                    Some(d) => write!(f, "subnet '{d}' of '{p}'")?,
                    None => write!(f, "no modelled subnet of '{p}'")?,
                }
                write!(
                    f,
                    ", which is not in the subnet peering {h}<->{p} (peerCompleteVnets false), and only the peered subnets' prefixes join vnet '{h}''s VirtualNetwork tag (model choice, docs/fidelity.md)"
                )
            }
            PeeringTagNote::AccessBlocked { remote, here: h, peer: p, direction, blocks_all_traffic } => {
                let default_rule = match direction {
                    Direction::Inbound => "AllowVnetInBound",
                    Direction::Outbound => "AllowVnetOutBound",
                };
                let then = if *blocks_all_traffic {
                    "; under option peering_access_blocks_all_traffic the peering carries no traffic anyway"
                } else {
                    "; a rule naming its prefix still lets it through (Microsoft: the setting \"only changes the definition of the VirtualNetwork service tag\")"
                };
                write!(
                    f,
                    "; {remote} (vnet '{p}') is not in this NSG's VirtualNetwork tag: the peering {h}->{p} blocks virtual network access (allowVirtualNetworkAccess false on {h}'s side), which leaves vnet '{p}' out of the VirtualNetwork tag of vnet '{h}', so {default_rule} and rules naming VirtualNetwork do not match it{then}"
                )
            }
        }
    }
}

/// What one hop says about the flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HopDetail {
    /// An NSG decided: `NSG 'web' on subnet 'vnet/web' (Inbound): securityRules/ssh allows
    /// (priority 100)`.
    Nsg {
        /// The NSG.
        nsg: String,
        /// Where it is associated.
        place: NsgPlace,
        /// The direction evaluated.
        direction: Direction,
        /// The deciding rule.
        rule: RuleRef,
        /// The deciding rule's priority.
        priority: u16,
        /// What it did.
        access: Access,
        /// For a deny: why a peered VNet missed the `VirtualNetwork` rules, if that is the case.
        peering_note: Option<PeeringTagNote>,
    },
    /// No NSG at a level: `subnet 'vnet/web' has no NSG: inbound traffic passes this level`.
    NoNsg {
        /// The level without an NSG.
        place: NsgPlace,
        /// The direction of the traffic.
        direction: Direction,
    },
    /// No security admin rule of the VNet's deployed Virtual Network Manager configurations
    /// matched: the NSGs decide.
    AdminNoMatch {
        /// The VNet.
        vnet: String,
        /// The direction of the traffic.
        direction: Direction,
        /// How many admin rules were checked.
        checked: usize,
    },
    /// A security admin rule matched.
    AdminRule {
        /// The security admin configuration.
        configuration: String,
        /// The rule collection.
        collection: String,
        /// The rule.
        rule: String,
        /// The rule's priority.
        priority: u16,
        /// Its network manager.
        network_manager: String,
        /// The VNet it applies to.
        vnet: String,
        /// The network groups through which it applies.
        groups: Vec<String>,
        /// What it does.
        action: AdminAction,
    },
    /// An Azure Firewall network or application rule allowed or denied the flow.
    FirewallRule {
        /// The firewall.
        firewall: String,
        /// The rule.
        rule: RuleRef,
        /// Allow or deny.
        access: Access,
        /// The flow as the firewall saw it.
        flow: Flow,
        /// For an allowed flow the firewall forwards: what it did to the source.
        snat: Option<Snat>,
    },
    /// No network or application rule of the firewall matched: its default deny.
    FirewallDefaultDeny {
        /// The firewall.
        firewall: String,
        /// The flow.
        flow: Flow,
    },
    /// Traffic to the firewall's public IP that no DNAT rule translates.
    FirewallNoDnat {
        /// The firewall.
        firewall: String,
        /// The flow.
        flow: Flow,
    },
    /// A DNAT rule translated the traffic to the firewall's public IP.
    FirewallDnat {
        /// The firewall.
        firewall: String,
        /// The DNAT rule.
        rule: RuleRef,
        /// The address and port the traffic was sent to.
        original: (IpAddr, u16),
        /// The private address and port it goes on to.
        translated: (IpAddr, u16),
        /// The source the VM sees: the firewall's private address.
        source: IpAddr,
        /// Whether JIT wrote the rule for a grant.
        written_by_jit: bool,
    },
    /// Under the legacy DNAT behaviour, a network deny rule overrode the implicit DNAT allow.
    FirewallLegacyDeny {
        /// The firewall.
        firewall: String,
        /// The network rule.
        rule: RuleRef,
    },
    /// Allowed traffic the firewall cannot send on: it may not SNAT to the Internet.
    FirewallStranded {
        /// The firewall.
        firewall: String,
        /// What its SNAT settings do to the flow ([`Snat::Stranded`]).
        snat: Snat,
    },
    /// A public IP associated with nothing.
    PublicIpUnassociated {
        /// The public IP's name.
        name: String,
        /// Its address.
        address: IpAddr,
    },
    /// A public IP translated inbound traffic to a NIC's private address.
    PublicIpTranslates {
        /// The public address.
        address: IpAddr,
        /// Its SKU.
        sku: PublicIpSku,
        /// The private address it translates to.
        private: IpAddr,
        /// For a secondary IP configuration: its name and its NIC's.
        config: Option<(String, String)>,
    },
    /// A Standard public IP whose NIC has no NSG at either level: closed to inbound traffic.
    PublicIpClosed,
    /// Traffic to a Bastion host's public IP that is not TCP 443.
    BastionOnly443 {
        /// The Bastion host.
        bastion: String,
    },
    /// A user connected to the Bastion host's portal.
    BastionConnects {
        /// The Bastion host.
        bastion: String,
        /// The user's address.
        from: IpAddr,
    },
    /// A Bastion host without a public IP: nobody can connect to it.
    BastionNoPublicIp {
        /// The Bastion host.
        bastion: String,
    },
    /// A Bastion session asked for a protocol or port Bastion does not open.
    BastionNotRdpOrSsh {
        /// The protocol asked for.
        protocol: IpProtocol,
        /// The port asked for.
        port: u16,
    },
    /// The target VM's VNet is peered with the Bastion host's, but the subnet peering leaves out
    /// one of the subnets.
    BastionOutsideSubnetPeering {
        /// The Bastion host.
        bastion: String,
        /// Which subnet the subnet peering leaves out.
        gap: SubnetPeeringGap,
    },
    /// The target VM's VNet is neither the Bastion host's nor peered with it.
    BastionOutOfReach {
        /// The Bastion host.
        bastion: String,
        /// The Bastion host's VNet.
        vnet: String,
        /// The target's VNet.
        target_vnet: String,
    },
    /// The Bastion host opened the session to the VM.
    BastionSession {
        /// The Bastion host.
        bastion: String,
        /// Its private address in AzureBastionSubnet, the session's source.
        from: IpAddr,
        /// The VM's address and port.
        to: (IpAddr, u16),
    },
    /// Bastion cannot find the destination as a VM it connects to.
    BastionNoTarget {
        /// The Bastion host's VNet.
        vnet: String,
        /// The address asked for, when the destination was one.
        address: Option<IpAddr>,
        /// NICs of other routing domains with that address; empty when the destination is no
        /// modelled NIC at all.
        elsewhere: Vec<HostAt>,
    },
    /// A routing hop: the route chosen, peering and gateway transit, unreachable addresses.
    Route(RouteDetail),
    /// A load balancer hop on the way in.
    LoadBalancer(LbDetail),
    /// An outbound hop: NAT gateway or load balancer SNAT, or no way out.
    Outbound(OutboundDetail),
    /// A flow to a platform service.
    Platform(PlatformDetail),
}

impl From<RouteDetail> for HopDetail {
    fn from(detail: RouteDetail) -> Self {
        HopDetail::Route(detail)
    }
}

impl From<LbDetail> for HopDetail {
    fn from(detail: LbDetail) -> Self {
        HopDetail::LoadBalancer(detail)
    }
}

impl From<OutboundDetail> for HopDetail {
    fn from(detail: OutboundDetail) -> Self {
        HopDetail::Outbound(detail)
    }
}

impl From<PlatformDetail> for HopDetail {
    fn from(detail: PlatformDetail) -> Self {
        HopDetail::Platform(detail)
    }
}

impl fmt::Display for HopDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HopDetail::Nsg { nsg, place, direction, rule, priority, access, peering_note } => {
                let verb = match access {
                    Access::Allow => "allows",
                    Access::Deny => "denies",
                };
                write!(f, "NSG '{nsg}' on {place} ({direction}): {rule} {verb} (priority {priority})")?;
                match peering_note {
                    Some(note) => write!(f, "{note}"),
                    None => Ok(()),
                }
            }
            HopDetail::NoNsg { place, direction } => {
                write!(
                    f,
                    "{place} has no NSG: {} traffic passes this level",
                    direction.to_string().to_lowercase()
                )
            }
            HopDetail::AdminNoMatch { vnet, direction, checked } => {
                let way = direction.to_string().to_lowercase();
                write!(
                    f,
                    "no security admin rule of the deployed Virtual Network Manager configurations applying to vnet '{vnet}' matches this {way} flow ({checked} {way} rule(s) checked): the NSGs decide"
                )
            }
            HopDetail::AdminRule {
                configuration,
                collection,
                rule,
                priority,
                network_manager,
                vnet,
                groups,
                action,
            } => {
                let what = match action {
                    AdminAction::Allow => {
                        "Allow: the traffic goes on to the NSGs, which still decide (\"When the traffic is allowed by a security admin rule, it will be further evaluated by NSG rules\")"
                    }
                    AdminAction::AlwaysAllow => {
                        "AlwaysAllow: delivered without evaluating the NSGs of this direction (\"the traffic won't hit NSGs, and instead deliver directly to VMs\")"
                    }
                    AdminAction::Deny => {
                        "Deny: stopped before the NSGs, whose rules are not evaluated, the allow rules Defender's JIT writes into them included (\"When Deny is used, evaluation and therefore traffic is stopped without being delivered to the destination\")"
                    }
                };
                let groups = groups.iter().map(|g| format!("'{g}'")).collect::<Vec<_>>().join(", ");
                write!(
                    f,
                    "security admin rule '{configuration}/{collection}/{rule}' (priority {priority}) of network manager '{network_manager}', applied to vnet '{vnet}' through network group(s) {groups}: {what}"
                )
            }
            HopDetail::FirewallRule { firewall, rule, access, flow, snat } => {
                let verb = match access {
                    Access::Allow => "allows",
                    Access::Deny => "denies",
                };
                write!(f, "Azure Firewall '{firewall}': rule {rule} {verb} {flow}")?;
                match snat {
                    Some(snat) => write!(f, "; {snat}"),
                    None => Ok(()),
                }
            }
            HopDetail::FirewallDefaultDeny { firewall, flow } => write!(
                f,
                "Azure Firewall '{firewall}': no network or application rule matches {flow}; the firewall denies by default"
            ),
            HopDetail::FirewallNoDnat { firewall, flow } => {
                write!(f, "Azure Firewall '{firewall}': no DNAT rule for {flow}; the firewall denies by default")
            }
            HopDetail::FirewallDnat { firewall, rule, original, translated, source, written_by_jit } => {
                write!(
                    f,
                    "Azure Firewall '{firewall}': DNAT rule {rule} translates {}:{} to {}:{}; the source becomes {source} (AzureFirewallSubnet)",
                    original.0, original.1, translated.0, translated.1
                )?;
                if *written_by_jit {
                    f.write_str(". This is a JIT rule: the VM's NSGs see the firewall's address, so a JIT NSG rule for the requester's IP does not match (reported by users, azure-docs#46777)")?;
                }
                Ok(())
            }
            HopDetail::FirewallLegacyDeny { firewall, rule } => write!(
                f,
                "Azure Firewall '{firewall}': network rule {rule} overrides the implicit DNAT allow (option firewall_dnat_legacy_network_rules, older documentation)"
            ),
            HopDetail::FirewallStranded { firewall, snat } => write!(
                f,
                "Azure Firewall '{firewall}': {snat} (Microsoft: \"With this configuration, Azure Firewall can't route traffic directly to the Internet\")"
            ),
            HopDetail::PublicIpUnassociated { name, address } => {
                write!(f, "public IP '{name}' ({address}) is not associated with anything")
            }
            HopDetail::PublicIpTranslates { address, sku, private, config } => {
                write!(f, "{address} ({sku:?} SKU) translates to {private}")?;
                if let Some((config, nic)) = config {
                    write!(f, " (IP configuration '{config}' of nic '{nic}')")?;
                }
                f.write_str("; inbound NSGs see the private address")
            }
            HopDetail::PublicIpClosed => f.write_str(
                "a Standard public IP is closed to inbound traffic unless an NSG allows it, and neither the subnet nor the NIC has an NSG",
            ),
            HopDetail::BastionOnly443 { bastion } => {
                write!(f, "Azure Bastion '{bastion}' accepts connections on TCP 443 only")
            }
            HopDetail::BastionConnects { bastion, from } => {
                write!(f, "{from} connects to Azure Bastion '{bastion}' on 443")
            }
            HopDetail::BastionNoPublicIp { bastion } => write!(f, "Azure Bastion '{bastion}' has no public IP"),
            HopDetail::BastionNotRdpOrSsh { protocol, port } => write!(
                f,
                "Azure Bastion opens RDP (TCP 3389) and SSH (TCP 22) sessions; {protocol} port {port} is not one (custom ports need the Standard SKU, not modelled)"
            ),
            HopDetail::BastionOutsideSubnetPeering { bastion, gap } => write!(
                f,
                "Azure Bastion '{bastion}' reaches VMs in peered VNets over the peering; {gap} (model choice, docs/fidelity.md: Bastion's session starts in AzureBastionSubnet, so both it and the VM's subnet must be in the subnet peering)"
            ),
            HopDetail::BastionOutOfReach { bastion, vnet, target_vnet } => write!(
                f,
                "Azure Bastion '{bastion}' reaches VMs in vnet '{vnet}' and peered VNets; vnet '{target_vnet}' is neither"
            ),
            HopDetail::BastionSession { bastion, from, to } => write!(
                f,
                "Azure Bastion '{bastion}' opens the session from {from} (AzureBastionSubnet) to {}:{}",
                to.0, to.1
            ),
            HopDetail::BastionNoTarget { vnet, address: Some(address), elsewhere } if !elsewhere.is_empty() => {
                let hosts: Vec<String> = elsewhere.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "Bastion connects to VMs by their private IP as vnet '{vnet}' and the VNets peered with it see it; there {address} is no modelled NIC ({} {} it, in other routing domains: name the VM)",
                    hosts.join(", "),
                    if hosts.len() == 1 { "has" } else { "have" }
                )
            }
            HopDetail::BastionNoTarget { .. } => f.write_str(
                "Bastion connects to VMs by their private IP; the destination is not a modelled NIC",
            ),
            HopDetail::Route(detail) => detail.fmt(f),
            HopDetail::LoadBalancer(detail) => detail.fmt(f),
            HopDetail::Outbound(detail) => detail.fmt(f),
            HopDetail::Platform(detail) => detail.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::IpProtocol;

    #[test]
    fn each_kind_of_hop_prints_the_sentence_it_always_printed() {
        let nsg = HopDetail::Nsg {
            nsg: "web-nsg".into(),
            place: NsgPlace::Subnet { vnet: "prod".into(), subnet: "web".into() },
            direction: Direction::Inbound,
            rule: RuleRef::Security { name: "ssh".into() },
            priority: 100,
            access: Access::Allow,
            peering_note: None,
        };
        assert_eq!(
            nsg.to_string(),
            "NSG 'web-nsg' on subnet 'prod/web' (Inbound): securityRules/ssh allows (priority 100)"
        );
        let none = HopDetail::NoNsg {
            place: NsgPlace::Nic { nic: "web-nic".into() },
            direction: Direction::Outbound,
        };
        assert_eq!(none.to_string(), "nic 'web-nic' has no NSG: outbound traffic passes this level");
        let unmatched =
            HopDetail::AdminNoMatch { vnet: "hub".into(), direction: Direction::Inbound, checked: 2 };
        assert_eq!(
            unmatched.to_string(),
            "no security admin rule of the deployed Virtual Network Manager configurations applying to vnet 'hub' matches this inbound flow (2 inbound rule(s) checked): the NSGs decide"
        );
        let admin = HopDetail::AdminRule {
            configuration: "cfg".into(),
            collection: "high-risk".into(),
            rule: "deny-rdp".into(),
            priority: 10,
            network_manager: "avnm".into(),
            vnet: "hub".into(),
            groups: vec!["all".into(), "prod".into()],
            action: AdminAction::Deny,
        };
        assert_eq!(
            admin.to_string(),
            "security admin rule 'cfg/high-risk/deny-rdp' (priority 10) of network manager 'avnm', applied to vnet 'hub' through network group(s) 'all', 'prod': Deny: stopped before the NSGs, whose rules are not evaluated, the allow rules Defender's JIT writes into them included (\"When Deny is used, evaluation and therefore traffic is stopped without being delivered to the destination\")"
        );
        let flow = Flow::new(
            IpProtocol::TCP,
            "10.0.0.4".parse().expect("ip"),
            50000,
            "10.1.0.4".parse().expect("ip"),
            22,
        );
        let rule = RuleRef::Firewall { group: "g".into(), collection: "c".into(), rule: "ssh".into() };
        let fw =
            HopDetail::FirewallRule { firewall: "fw".into(), rule, access: Access::Deny, flow, snat: None };
        assert_eq!(fw.to_string(), format!("Azure Firewall 'fw': rule g/c/ssh denies {flow}"));
    }

    #[test]
    fn bastion_without_a_target() {
        let none = HopDetail::BastionNoTarget { vnet: "hub".into(), address: None, elsewhere: Vec::new() };
        assert_eq!(
            none.to_string(),
            "Bastion connects to VMs by their private IP; the destination is not a modelled NIC"
        );
        let elsewhere = HopDetail::BastionNoTarget {
            vnet: "hub".into(),
            address: Some("10.1.0.4".parse().expect("ip")),
            elsewhere: vec![HostAt::Nic { owner: "vm-b".into(), vnet: "other".into() }],
        };
        assert_eq!(
            elsewhere.to_string(),
            "Bastion connects to VMs by their private IP as vnet 'hub' and the VNets peered with it see it; there 10.1.0.4 is no modelled NIC (vm-b (other) has it, in other routing domains: name the VM)"
        );
    }

    #[test]
    fn bastion_outside_a_subnet_peering() {
        let gap = SubnetPeeringGap {
            role: PeeringRole::BastionHost,
            subnet: "AzureBastionSubnet".into(),
            vnet: "hub".into(),
            remote: "spoke".into(),
            listed: vec!["web".into()],
        };
        assert_eq!(
            HopDetail::BastionOutsideSubnetPeering { bastion: "bas".into(), gap }.to_string(),
            "Azure Bastion 'bas' reaches VMs in peered VNets over the peering; the Bastion host's subnet 'AzureBastionSubnet' of 'hub' is not in the subnet peering hub<->spoke (peerCompleteVnets false; peered subnets of 'hub': web) (model choice, docs/fidelity.md: Bastion's session starts in AzureBastionSubnet, so both it and the VM's subnet must be in the subnet peering)"
        );
    }

    #[test]
    fn each_family_prints_through_its_own_display() {
        let route = RouteDetail::Loop;
        assert_eq!(HopDetail::from(route.clone()).to_string(), route.to_string());
        let lb = LbDetail::StandardClosed { nic: "n".into() };
        assert_eq!(HopDetail::from(lb.clone()).to_string(), lb.to_string());
        let out =
            OutboundDetail::NatGatewayNoInbound { dst: "20.0.0.1".parse().expect("ip"), gateway: "g".into() };
        assert_eq!(HopDetail::from(out.clone()).to_string(), out.to_string());
    }

    #[test]
    fn nsg_deny_with_each_peering_note() {
        let deny = |note| {
            HopDetail::Nsg {
                nsg: "hub-nsg".into(),
                place: NsgPlace::Subnet { vnet: "hub".into(), subnet: "work".into() },
                direction: Direction::Outbound,
                rule: RuleRef::Default { name: "DenyAllOutBound".into() },
                priority: 65500,
                access: Access::Deny,
                peering_note: Some(note),
            }
            .to_string()
        };
        let head = "NSG 'hub-nsg' on subnet 'hub/work' (Outbound): defaultSecurityRules/DenyAllOutBound denies (priority 65500)";
        let remote: IpAddr = "10.1.2.4".parse().expect("ip");
        let gap = |subnet| PeeringTagNote::OutsideSubnetPeering {
            remote,
            subnet,
            here: "hub".into(),
            peer: "spoke".into(),
        };
        let tail = ", which is not in the subnet peering hub<->spoke (peerCompleteVnets false), and only the peered subnets' prefixes join vnet 'hub''s VirtualNetwork tag (model choice, docs/fidelity.md)";
        assert_eq!(
            deny(gap(Some("data".into()))),
            format!(
                "{head}; 10.1.2.4 is not in this NSG's VirtualNetwork tag: it is in subnet 'data' of 'spoke'{tail}"
            )
        );
        assert_eq!(
            deny(gap(None)),
            format!(
                "{head}; 10.1.2.4 is not in this NSG's VirtualNetwork tag: it is in no modelled subnet of 'spoke'{tail}"
            )
        );
        let blocked = |direction, blocks_all_traffic| PeeringTagNote::AccessBlocked {
            remote,
            here: "hub".into(),
            peer: "spoke".into(),
            direction,
            blocks_all_traffic,
        };
        let middle = "; 10.1.2.4 (vnet 'spoke') is not in this NSG's VirtualNetwork tag: the peering hub->spoke blocks virtual network access (allowVirtualNetworkAccess false on hub's side), which leaves vnet 'spoke' out of the VirtualNetwork tag of vnet 'hub', so";
        assert_eq!(
            deny(blocked(Direction::Outbound, false)),
            format!(
                "{head}{middle} AllowVnetOutBound and rules naming VirtualNetwork do not match it; a rule naming its prefix still lets it through (Microsoft: the setting \"only changes the definition of the VirtualNetwork service tag\")"
            )
        );
        assert_eq!(
            deny(blocked(Direction::Inbound, true)),
            format!(
                "{head}{middle} AllowVnetInBound and rules naming VirtualNetwork do not match it; under option peering_access_blocks_all_traffic the peering carries no traffic anyway"
            )
        );
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn flow() -> Flow {
        Flow::new(IpProtocol::TCP, ip("203.0.113.9"), 50000, ip("20.0.0.10"), 443)
    }

    #[test]
    fn firewall_default_deny() {
        let d = HopDetail::FirewallDefaultDeny { firewall: "fw".into(), flow: flow() };
        assert_eq!(
            d.to_string(),
            format!(
                "Azure Firewall 'fw': no network or application rule matches {}; the firewall denies by default",
                flow()
            )
        );
    }

    #[test]
    fn firewall_no_dnat() {
        let d = HopDetail::FirewallNoDnat { firewall: "fw".into(), flow: flow() };
        assert_eq!(
            d.to_string(),
            format!("Azure Firewall 'fw': no DNAT rule for {}; the firewall denies by default", flow())
        );
    }

    #[test]
    fn firewall_dnat_with_and_without_jit() {
        let d = |written_by_jit| {
            HopDetail::FirewallDnat {
                firewall: "fw".into(),
                rule: RuleRef::Firewall { group: "g".into(), collection: "dnat".into(), rule: "rdp".into() },
                original: (ip("20.0.0.10"), 3389),
                translated: (ip("10.1.1.4"), 3389),
                source: ip("10.0.1.4"),
                written_by_jit,
            }
            .to_string()
        };
        let head = "Azure Firewall 'fw': DNAT rule g/dnat/rdp translates 20.0.0.10:3389 to 10.1.1.4:3389; the source becomes 10.0.1.4 (AzureFirewallSubnet)";
        assert_eq!(d(false), head);
        assert_eq!(
            d(true),
            format!(
                "{head}. This is a JIT rule: the VM's NSGs see the firewall's address, so a JIT NSG rule for the requester's IP does not match (reported by users, azure-docs#46777)"
            )
        );
    }

    #[test]
    fn firewall_legacy_deny() {
        let rule = RuleRef::Firewall { group: "g".into(), collection: "net".into(), rule: "deny".into() };
        assert_eq!(
            HopDetail::FirewallLegacyDeny { firewall: "fw".into(), rule }.to_string(),
            "Azure Firewall 'fw': network rule g/net/deny overrides the implicit DNAT allow (option firewall_dnat_legacy_network_rules, older documentation)"
        );
    }

    #[test]
    fn firewall_stranded() {
        let snat = Snat::Stranded { destination: ip("8.8.8.8"), ranges: "0.0.0.0/0".into() };
        assert_eq!(
            HopDetail::FirewallStranded { firewall: "fw".into(), snat: snat.clone() }.to_string(),
            format!(
                "Azure Firewall 'fw': {snat} (Microsoft: \"With this configuration, Azure Firewall can't route traffic directly to the Internet\")"
            )
        );
    }

    #[test]
    fn public_ip_unassociated() {
        let d = HopDetail::PublicIpUnassociated { name: "pip".into(), address: ip("20.0.0.1") };
        assert_eq!(d.to_string(), "public IP 'pip' (20.0.0.1) is not associated with anything");
    }

    #[test]
    fn public_ip_translates_for_a_primary_and_a_secondary_configuration() {
        let d = |config| {
            HopDetail::PublicIpTranslates {
                address: ip("20.0.0.1"),
                sku: PublicIpSku::Standard,
                private: ip("10.0.0.5"),
                config,
            }
            .to_string()
        };
        assert_eq!(
            d(None),
            "20.0.0.1 (Standard SKU) translates to 10.0.0.5; inbound NSGs see the private address"
        );
        assert_eq!(
            d(Some(("ipconfig2".into(), "web-nic".into()))),
            "20.0.0.1 (Standard SKU) translates to 10.0.0.5 (IP configuration 'ipconfig2' of nic 'web-nic'); inbound NSGs see the private address"
        );
    }

    #[test]
    fn public_ip_closed() {
        assert_eq!(
            HopDetail::PublicIpClosed.to_string(),
            "a Standard public IP is closed to inbound traffic unless an NSG allows it, and neither the subnet nor the NIC has an NSG"
        );
    }

    #[test]
    fn bastion_only_443() {
        let d = HopDetail::BastionOnly443 { bastion: "bas".into() };
        assert_eq!(d.to_string(), "Azure Bastion 'bas' accepts connections on TCP 443 only");
    }

    #[test]
    fn bastion_connects() {
        let d = HopDetail::BastionConnects { bastion: "bas".into(), from: ip("203.0.113.9") };
        assert_eq!(d.to_string(), "203.0.113.9 connects to Azure Bastion 'bas' on 443");
    }

    #[test]
    fn bastion_no_public_ip() {
        assert_eq!(
            HopDetail::BastionNoPublicIp { bastion: "bas".into() }.to_string(),
            "Azure Bastion 'bas' has no public IP"
        );
    }

    #[test]
    fn bastion_not_rdp_or_ssh() {
        let d = HopDetail::BastionNotRdpOrSsh { protocol: IpProtocol::UDP, port: 3389 };
        assert_eq!(
            d.to_string(),
            format!(
                "Azure Bastion opens RDP (TCP 3389) and SSH (TCP 22) sessions; {} port 3389 is not one (custom ports need the Standard SKU, not modelled)",
                IpProtocol::UDP
            )
        );
    }

    #[test]
    fn bastion_out_of_reach() {
        let d = HopDetail::BastionOutOfReach {
            bastion: "bas".into(),
            vnet: "hub".into(),
            target_vnet: "far".into(),
        };
        assert_eq!(
            d.to_string(),
            "Azure Bastion 'bas' reaches VMs in vnet 'hub' and peered VNets; vnet 'far' is neither"
        );
    }

    #[test]
    fn bastion_session() {
        let d = HopDetail::BastionSession {
            bastion: "bas".into(),
            from: ip("10.0.2.5"),
            to: (ip("10.1.1.4"), 22),
        };
        assert_eq!(
            d.to_string(),
            "Azure Bastion 'bas' opens the session from 10.0.2.5 (AzureBastionSubnet) to 10.1.1.4:22"
        );
    }
}

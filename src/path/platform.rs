//! Traffic from a VM to the Azure platform's own services, which NSGs do not filter by default.
//!
//! Microsoft, "Azure network security groups overview", *Azure platform considerations*:
//! "Basic infrastructure services like DHCP, DNS, IMDS, and health monitoring are provided
//! through the virtualized host IP addresses 168.63.129.16 and 169.254.169.254. […] By default,
//! these services aren't subject to the configured network security groups unless targeted by
//! service tags specific to each service. To override this basic infrastructure communication,
//! you can create a security rule to deny traffic by using the following service tags on your
//! Network Security Group rules: AzurePlatformDNS, AzurePlatformIMDS, AzurePlatformLKM."
//!
//! So a flow from a VM to 168.63.129.16 or 169.254.169.254 is answered by the host node whatever
//! the NSGs say, unless an outbound NSG on its path has a rule whose destination is the tag of that
//! service (`AzurePlatformDNS` for DNS on port 53 of 168.63.129.16, `AzurePlatformIMDS` for
//! 169.254.169.254): then the NSGs evaluate it as any other flow. The host's other services on
//! 168.63.129.16 (DHCP, the health and WireServer endpoints) have no such tag and are never
//! filtered. Traffic *from* 168.63.129.16 into a VNet is the Azure Load Balancer's health probe,
//! which NSGs do filter (the `AzureLoadBalancer` tag and `AllowAzureLoadBalancerInBound`); that
//! direction is not handled here.
//!
//! Windows licensing is the third platform service of that section: "Licensing (Key Management
//! Service): […] The request is made outbound through port 1688. For deployments using default
//! route 0.0.0.0/0 configuration, this platform rule is disabled." So TCP 1688 to the KMS hosts
//! (the members of `AzurePlatformLKM`) passes the NSGs like DNS, an outbound rule naming
//! `AzurePlatformLKM` brings it under them, and a user-defined `0.0.0.0/0` route in the source
//! subnet disables the exemption (the flow is then routed and filtered like any other). Reading
//! "default route 0.0.0.0/0 configuration" as a *user-defined* route is a model choice: every
//! subnet has the system route 0.0.0.0/0, and the exemption would otherwise never apply.

use std::net::{IpAddr, Ipv4Addr};

use crate::model::{PLATFORM_HOST_ADDRESS, Topology};
use crate::net::{Flow, IpProtocol};
use crate::nsg::{AddressSpec, Direction, Nsg, ServiceTag};

/// The Azure Instance Metadata Service address.
pub const IMDS_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));

/// The port of the Key Management Service (Windows activation).
pub const KMS_PORT: u16 = 1688;

/// The service tag of the KMS hosts.
pub const KMS_TAG: &str = "AzurePlatformLKM";

/// The name of the licensing service, as traces print it.
pub const KMS_NAME: &str = "Windows licensing (Key Management Service)";

/// Where the KMS exemption and its exception are documented, for traces.
pub const KMS_SOURCE: &str = "Microsoft, NSG overview, \"Azure platform considerations\": licensing requests are \"made outbound through port 1688. For deployments using default route 0.0.0.0/0 configuration, this platform rule is disabled\"";

/// Where the exemption is documented, for traces.
pub const SOURCE: &str = "Microsoft, NSG overview, \"Azure platform considerations\": these services \"aren't subject to the configured network security groups unless targeted by service tags specific to each service\"";

/// How the platform serves a flow it exempts from the NSGs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exemption {
    /// The host node answers it (168.63.129.16, 169.254.169.254); routes never take it away.
    HostNode,
    /// A platform rule lets it out (Windows licensing); a user-defined 0.0.0.0/0 route in the
    /// source subnet disables that rule.
    PlatformRule,
}

/// A platform service a flow is addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformService {
    /// What it is, for people.
    pub name: &'static str,
    /// The service tag with which an NSG rule brings the service under the NSGs, if any.
    pub tag: Option<&'static str>,
    /// How the flow passes the NSGs when no rule names the tag.
    pub exemption: Exemption,
}

/// The platform service `flow` is addressed to, if it is one. The KMS hosts are the members of
/// `AzurePlatformLKM` in `topology` (a sample unless the scenario defines the tag).
pub fn service_of(flow: &Flow, topology: &Topology) -> Option<PlatformService> {
    if flow.protocol == IpProtocol::TCP
        && flow.dst_port == KMS_PORT
        && topology.service_tag_members(KMS_TAG).is_some_and(|hosts| hosts.contains(flow.dst))
    {
        return Some(PlatformService {
            name: KMS_NAME,
            tag: Some(KMS_TAG),
            exemption: Exemption::PlatformRule,
        });
    }
    if flow.dst == IMDS_ADDRESS {
        return Some(PlatformService {
            name: "Instance Metadata Service (IMDS)",
            tag: Some("AzurePlatformIMDS"),
            exemption: Exemption::HostNode,
        });
    }
    if flow.dst != PLATFORM_HOST_ADDRESS {
        return None;
    }
    let dns = flow.dst_port == 53 && (flow.protocol == IpProtocol::UDP || flow.protocol == IpProtocol::TCP);
    Some(if dns {
        PlatformService {
            name: "Azure-provided DNS",
            tag: Some("AzurePlatformDNS"),
            exemption: Exemption::HostNode,
        }
    } else {
        PlatformService {
            name: "the host node's services (DHCP, health monitoring, WireServer)",
            tag: None,
            exemption: Exemption::HostNode,
        }
    })
}

/// Whether `nsg` has an outbound rule whose destination is `tag` (compared as Azure compares tag
/// names, without regard to case).
pub fn targets_tag(nsg: &Nsg, tag: &str) -> bool {
    nsg.rules.iter().any(|r| {
        r.direction == Direction::Outbound
            && matches!(&r.destination, AddressSpec::Tag(ServiceTag::Other(name)) if name.eq_ignore_ascii_case(tag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nsg::{Access, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule};

    fn flow(protocol: IpProtocol, dst: IpAddr, port: u16) -> Flow {
        Flow::new(protocol, "10.0.1.4".parse().expect("ip"), 50000, dst, port)
    }

    #[test]
    fn recognises_dns_imds_kms_and_other_host_services() {
        let t = Topology::new();
        let service_of = |f: &Flow| super::service_of(f, &t);
        let dns = service_of(&flow(IpProtocol::UDP, PLATFORM_HOST_ADDRESS, 53)).expect("dns");
        assert_eq!(dns.tag, Some("AzurePlatformDNS"));
        assert_eq!(
            service_of(&flow(IpProtocol::TCP, PLATFORM_HOST_ADDRESS, 53)).and_then(|s| s.tag),
            Some("AzurePlatformDNS")
        );
        let imds = service_of(&flow(IpProtocol::TCP, IMDS_ADDRESS, 80)).expect("imds");
        assert_eq!(imds.tag, Some("AzurePlatformIMDS"));
        let wire = service_of(&flow(IpProtocol::TCP, PLATFORM_HOST_ADDRESS, 32526)).expect("host");
        assert_eq!(wire.tag, None);
        assert_eq!(service_of(&flow(IpProtocol::TCP, "168.63.129.17".parse().expect("ip"), 53)), None);
        let kms_host: IpAddr = "23.102.135.246".parse().expect("ip");
        let kms = service_of(&flow(IpProtocol::TCP, kms_host, KMS_PORT)).expect("kms");
        assert_eq!((kms.name, kms.tag, kms.exemption), (KMS_NAME, Some(KMS_TAG), Exemption::PlatformRule));
        assert_eq!(dns.exemption, Exemption::HostNode);
        assert_eq!(service_of(&flow(IpProtocol::UDP, kms_host, KMS_PORT)), None, "KMS is TCP");
        assert_eq!(service_of(&flow(IpProtocol::TCP, kms_host, 443)), None);
        assert_eq!(service_of(&flow(IpProtocol::TCP, "23.102.135.247".parse().expect("ip"), KMS_PORT)), None);
    }

    #[test]
    fn only_an_outbound_rule_naming_the_tag_targets_it() {
        let rule = |direction, tag: &str| SecurityRule {
            name: "r".into(),
            priority: Priority(100),
            direction,
            access: Access::Deny,
            protocol: RuleProtocol::Any,
            source: AddressSpec::Any,
            source_ports: PortSpec::any(),
            destination: AddressSpec::Tag(ServiceTag::Other(tag.into())),
            destination_ports: PortSpec::any(),
            description: String::new(),
            kind: RuleKind::Security,
        };
        let nsg = |r| Nsg { name: "n".into(), rules: vec![r] };
        assert!(targets_tag(&nsg(rule(Direction::Outbound, "AzurePlatformDNS")), "AzurePlatformDNS"));
        assert!(targets_tag(&nsg(rule(Direction::Outbound, "azureplatformdns")), "AzurePlatformDNS"));
        assert!(!targets_tag(&nsg(rule(Direction::Inbound, "AzurePlatformDNS")), "AzurePlatformDNS"));
        assert!(!targets_tag(&nsg(rule(Direction::Outbound, "AzurePlatformIMDS")), "AzurePlatformDNS"));
    }
}

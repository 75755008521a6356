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

use std::net::{IpAddr, Ipv4Addr};

use crate::model::PLATFORM_HOST_ADDRESS;
use crate::net::{Flow, IpProtocol};
use crate::nsg::{AddressSpec, Direction, Nsg, ServiceTag};

/// The Azure Instance Metadata Service address.
pub const IMDS_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));

/// Where the exemption is documented, for traces.
pub const SOURCE: &str = "Microsoft, NSG overview, \"Azure platform considerations\": these services \"aren't subject to the configured network security groups unless targeted by service tags specific to each service\"";

/// A platform service a flow is addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformService {
    /// What it is, for people.
    pub name: &'static str,
    /// The service tag with which an NSG rule brings the service under the NSGs, if any.
    pub tag: Option<&'static str>,
}

/// The platform service `flow` is addressed to, if it is one.
pub fn service_of(flow: &Flow) -> Option<PlatformService> {
    if flow.dst == IMDS_ADDRESS {
        return Some(PlatformService {
            name: "Instance Metadata Service (IMDS)",
            tag: Some("AzurePlatformIMDS"),
        });
    }
    if flow.dst != PLATFORM_HOST_ADDRESS {
        return None;
    }
    let dns = flow.dst_port == 53 && (flow.protocol == IpProtocol::UDP || flow.protocol == IpProtocol::TCP);
    Some(if dns {
        PlatformService { name: "Azure-provided DNS", tag: Some("AzurePlatformDNS") }
    } else {
        PlatformService { name: "the host node's services (DHCP, health monitoring, WireServer)", tag: None }
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
    fn recognises_dns_imds_and_other_host_services() {
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

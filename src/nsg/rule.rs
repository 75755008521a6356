//! The security rule and NSG types, mirroring the REST `SecurityRulePropertiesFormat`.

use std::fmt;

use ipnet::IpNet;

use crate::ids::AsgId;
use crate::net::PortRange;

/// Traffic direction a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Traffic arriving at the resource.
    Inbound,
    /// Traffic leaving the resource.
    Outbound,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        })
    }
}

/// Whether a matching rule lets traffic through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Let the traffic through.
    Allow,
    /// Drop the traffic.
    Deny,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Allow => "Allow",
            Access::Deny => "Deny",
        })
    }
}

/// The protocol field of a rule: Azure's `Tcp`, `Udp`, `Icmp`, `Esp`, `Ah` or `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (v4 and v6).
    Icmp,
    /// IPsec ESP.
    Esp,
    /// IPsec AH.
    Ah,
    /// `*`: any protocol.
    Any,
}

impl RuleProtocol {
    /// Parses Azure's spelling (case-insensitive): `Tcp`, `Udp`, `Icmp`, `Esp`, `Ah`, `*` or `Any`.
    pub fn parse(text: &str) -> Option<RuleProtocol> {
        Some(match text.to_ascii_lowercase().as_str() {
            "tcp" => RuleProtocol::Tcp,
            "udp" => RuleProtocol::Udp,
            "icmp" => RuleProtocol::Icmp,
            "esp" => RuleProtocol::Esp,
            "ah" => RuleProtocol::Ah,
            "*" | "any" | "all" => RuleProtocol::Any,
            _ => return None,
        })
    }
}

impl fmt::Display for RuleProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleProtocol::Tcp => "Tcp",
            RuleProtocol::Udp => "Udp",
            RuleProtocol::Icmp => "Icmp",
            RuleProtocol::Esp => "Esp",
            RuleProtocol::Ah => "Ah",
            RuleProtocol::Any => "*",
        })
    }
}

/// A rule priority. User rules use 100–4096; default rules 65000, 65001 and 65500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Priority(pub u16);

impl Priority {
    /// The highest-precedence user priority.
    pub const MIN_USER: u16 = 100;
    /// The lowest-precedence user priority.
    pub const MAX_USER: u16 = 4096;

    /// Whether this is a valid priority for a user rule.
    pub fn is_user(self) -> bool {
        (Self::MIN_USER..=Self::MAX_USER).contains(&self.0)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A service tag: a named, Microsoft-managed group of prefixes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceTag {
    /// The VNet's address spaces, peered VNets' spaces and the host platform address.
    VirtualNetwork,
    /// Public address space outside the virtual network.
    Internet,
    /// The platform's health-probe source, 168.63.129.16.
    AzureLoadBalancer,
    /// Any other tag (`GatewayManager`, `AzureCloud`, `Storage.WestEurope`, …), whose members
    /// come from the scenario or from nsgsim's sample table.
    Other(String),
}

impl ServiceTag {
    /// Recognises a service tag name in any case, including the classic spellings
    /// (`VIRTUAL_NETWORK`, `INTERNET`, `AZURE_LOADBALANCER`); the three built-in tags come back in
    /// their canonical spelling, other names as written (see `Topology::service_tag_name`). Any
    /// name that is not an address and starts with a letter is taken as a tag; whether it is
    /// known is checked when the rule is resolved.
    pub fn parse(text: &str) -> Option<ServiceTag> {
        let first = text.chars().next()?;
        if !first.is_ascii_alphabetic() || text.contains('/') || text.contains(':') && !text.contains('.') {
            return None;
        }
        if text.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        // Azure accepts tag names in any case ("internet", "virtualnetwork"); the canonical
        // spelling is what nsgsim prints.
        Some(match text.to_ascii_lowercase().as_str() {
            "virtualnetwork" | "virtual_network" => ServiceTag::VirtualNetwork,
            "internet" => ServiceTag::Internet,
            "azureloadbalancer" | "azure_loadbalancer" => ServiceTag::AzureLoadBalancer,
            _ if text.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-') => {
                ServiceTag::Other(text.to_string())
            }
            _ => return None,
        })
    }

    /// The tag's canonical name.
    pub fn name(&self) -> &str {
        match self {
            ServiceTag::VirtualNetwork => "VirtualNetwork",
            ServiceTag::Internet => "Internet",
            ServiceTag::AzureLoadBalancer => "AzureLoadBalancer",
            ServiceTag::Other(name) => name,
        }
    }
}

impl fmt::Display for ServiceTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The source or destination of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AddressSpec {
    /// `*`.
    Any,
    /// One or more IP addresses or CIDR prefixes (several = an augmented rule).
    Prefixes(Vec<IpNet>),
    /// One service tag.
    Tag(ServiceTag),
    /// One or more application security groups.
    Asgs(Vec<AsgId>),
}

/// The source or destination ports of a rule: the union of its ranges (`*` is `[0-65535]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortSpec(pub Vec<PortRange>);

impl PortSpec {
    /// `*`.
    pub fn any() -> PortSpec {
        PortSpec(vec![PortRange::ANY])
    }

    /// One port.
    pub fn single(port: u16) -> PortSpec {
        PortSpec(vec![PortRange::single(port)])
    }

    /// Whether the spec covers every port.
    pub fn is_any(&self) -> bool {
        self.0.iter().any(|r| r.is_any())
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

/// Whether a rule is a user rule (`securityRules/`) or one of the six defaults
/// (`defaultSecurityRules/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// A rule in `securityRules`.
    Security,
    /// A rule in `defaultSecurityRules`.
    Default,
}

/// One security rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecurityRule {
    /// Unique within the NSG (both directions), at most 80 characters.
    pub name: String,
    /// Lower is evaluated first.
    pub priority: Priority,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Allow or deny.
    pub access: Access,
    /// Protocol.
    pub protocol: RuleProtocol,
    /// Source addresses.
    pub source: AddressSpec,
    /// Source ports.
    pub source_ports: PortSpec,
    /// Destination addresses.
    pub destination: AddressSpec,
    /// Destination ports.
    pub destination_ports: PortSpec,
    /// Free text, at most 140 characters.
    pub description: String,
    /// User rule or default rule.
    pub kind: RuleKind,
}

impl SecurityRule {
    /// The rule's name as IP flow verify and effective security rules print it:
    /// `securityRules/NAME` or `defaultSecurityRules/NAME`.
    pub fn azure_name(&self) -> String {
        self.rule_ref().to_string()
    }

    /// The rule as a [`super::RuleRef`]: a user rule or a default rule, by name.
    pub fn rule_ref(&self) -> super::RuleRef {
        match self.kind {
            RuleKind::Security => super::RuleRef::Security { name: self.name.clone() },
            RuleKind::Default => super::RuleRef::Default { name: self.name.clone() },
        }
    }
}

/// A network security group: a name and its user rules. The default rules are implied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nsg {
    /// The NSG's name.
    pub name: String,
    /// User rules, in any order (evaluation sorts by priority).
    pub rules: Vec<SecurityRule>,
}

impl Nsg {
    /// The user rules of one direction followed by the default rules, in evaluation order.
    pub fn evaluation_order(&self, direction: Direction) -> Vec<SecurityRule> {
        let mut rules: Vec<SecurityRule> =
            self.rules.iter().filter(|r| r.direction == direction).cloned().collect();
        rules.sort_by_key(|r| r.priority);
        rules.extend(super::default_rules().into_iter().filter(|r| r.direction == direction));
        rules
    }

    /// The user rule called `name` (compared without regard to case, as Azure does), if any.
    pub fn rule(&self, name: &str) -> Option<&SecurityRule> {
        self.rules.iter().find(|r| crate::name::same_name(&r.name, name))
    }
}

/// Test fixture shared by the unit tests of several modules.
#[cfg(test)]
impl SecurityRule {
    /// A user rule allowing TCP from anywhere to anywhere on port 22.
    pub(crate) fn ssh_for_tests(name: &str, priority: u16, direction: Direction) -> SecurityRule {
        SecurityRule {
            name: name.into(),
            priority: Priority(priority),
            direction,
            access: Access::Allow,
            protocol: RuleProtocol::Tcp,
            source: AddressSpec::Any,
            source_ports: PortSpec::any(),
            destination: AddressSpec::Any,
            destination_ports: PortSpec::single(22),
            description: String::new(),
            kind: RuleKind::Security,
        }
    }
}

/// A prefix, with host prefixes (/32, /128) written as plain addresses, as Azure shows them.
pub fn display_net(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() { net.addr().to_string() } else { net.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, priority: u16, direction: Direction) -> SecurityRule {
        SecurityRule::ssh_for_tests(name, priority, direction)
    }

    #[test]
    fn protocols_parse_in_any_case_and_print_as_azure() {
        assert_eq!(RuleProtocol::parse("TCP"), Some(RuleProtocol::Tcp));
        assert_eq!(RuleProtocol::parse("udp"), Some(RuleProtocol::Udp));
        assert_eq!(RuleProtocol::parse("Icmp"), Some(RuleProtocol::Icmp));
        assert_eq!(RuleProtocol::parse("esp"), Some(RuleProtocol::Esp));
        assert_eq!(RuleProtocol::parse("AH"), Some(RuleProtocol::Ah));
        for any in ["*", "Any", "all"] {
            assert_eq!(RuleProtocol::parse(any), Some(RuleProtocol::Any), "{any}");
        }
        assert_eq!(RuleProtocol::parse("gre"), None);
        assert_eq!(RuleProtocol::Any.to_string(), "*");
        assert_eq!(RuleProtocol::Icmp.to_string(), "Icmp");
    }

    #[test]
    fn service_tags_are_names_not_addresses() {
        assert_eq!(ServiceTag::parse("VirtualNetwork"), Some(ServiceTag::VirtualNetwork));
        assert_eq!(ServiceTag::parse("VIRTUAL_NETWORK"), Some(ServiceTag::VirtualNetwork));
        assert_eq!(ServiceTag::parse("INTERNET"), Some(ServiceTag::Internet));
        assert_eq!(ServiceTag::parse("AZURE_LOADBALANCER"), Some(ServiceTag::AzureLoadBalancer));
        assert_eq!(
            ServiceTag::parse("Storage.WestEurope"),
            Some(ServiceTag::Other("Storage.WestEurope".into()))
        );
        assert_eq!(
            ServiceTag::parse("Storage.WestEurope").map(|t| t.to_string()).as_deref(),
            Some("Storage.WestEurope")
        );
        for not_a_tag in ["10.0.0.4", "10.0.0.0/8", "2001:db8::1", "fd00::/8", "*", "", "1abc", "Bad Tag"] {
            assert_eq!(ServiceTag::parse(not_a_tag), None, "{not_a_tag}");
        }
    }

    #[test]
    fn port_specs() {
        assert!(PortSpec::any().is_any());
        assert!(!PortSpec::single(22).is_any());
        let list = PortSpec(vec![PortRange::single(22), "3389-3390".parse().expect("a range")]);
        assert_eq!(list.to_string(), "22,3389-3390");
        assert_eq!(PortSpec::any().to_string(), "*");
    }

    #[test]
    fn azure_names_and_priorities() {
        let mut r = rule("allow-ssh", 100, Direction::Inbound);
        assert_eq!(r.azure_name(), "securityRules/allow-ssh");
        r.kind = RuleKind::Default;
        assert_eq!(r.azure_name(), "defaultSecurityRules/allow-ssh");
        assert!(Priority(100).is_user() && Priority(4096).is_user());
        assert!(!Priority(99).is_user() && !Priority(4097).is_user() && !Priority(65000).is_user());
    }

    #[test]
    fn evaluation_order_is_by_priority_then_the_defaults_of_that_direction() {
        let nsg = Nsg {
            name: "n".into(),
            rules: vec![
                rule("late", 300, Direction::Inbound),
                rule("out", 100, Direction::Outbound),
                rule("early", 110, Direction::Inbound),
            ],
        };
        let names: Vec<String> =
            nsg.evaluation_order(Direction::Inbound).iter().map(|r| r.azure_name()).collect();
        assert_eq!(
            names,
            [
                "securityRules/early",
                "securityRules/late",
                "defaultSecurityRules/AllowVnetInBound",
                "defaultSecurityRules/AllowAzureLoadBalancerInBound",
                "defaultSecurityRules/DenyAllInBound",
            ]
        );
        let out = nsg.evaluation_order(Direction::Outbound);
        assert_eq!(out.first().map(|r| r.name.as_str()), Some("out"));
        assert_eq!(out.last().map(|r| r.name.as_str()), Some("DenyAllOutBound"));
        assert!(nsg.rule("early").is_some());
        assert!(nsg.rule("DenyAllInBound").is_none(), "default rules are not user rules");
    }

    #[test]
    fn host_prefixes_are_written_as_plain_addresses() {
        assert_eq!(display_net(&"10.0.0.4/32".parse().expect("net")), "10.0.0.4");
        assert_eq!(display_net(&"10.1.0.0/16".parse().expect("net")), "10.1.0.0/16");
        assert_eq!(display_net(&"2001:db8::1/128".parse().expect("net")), "2001:db8::1");
        assert_eq!(display_net(&"2001:db8::/32".parse().expect("net")), "2001:db8::/32");
    }
}

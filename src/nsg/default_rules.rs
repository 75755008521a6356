//! The six default rules every NSG carries, exactly as the API returns them
//! (`Get-AzNetworkSecurityGroup`; names are authoritative over the docs' spelling).

use super::{
    Access, AddressSpec, Direction, PortSpec, Priority, RuleKind, RuleProtocol, SecurityRule, ServiceTag,
};

/// The default rules, inbound first, each direction in priority order.
pub fn default_rules() -> Vec<SecurityRule> {
    use AddressSpec::{Any, Tag};
    let rule =
        |name: &str, priority, direction, access, source, destination, description: &str| SecurityRule {
            name: name.to_string(),
            priority: Priority(priority),
            direction,
            access,
            protocol: RuleProtocol::Any,
            source,
            source_ports: PortSpec::any(),
            destination,
            destination_ports: PortSpec::any(),
            description: description.to_string(),
            kind: RuleKind::Default,
        };
    let vnet = || Tag(ServiceTag::VirtualNetwork);
    vec![
        rule(
            "AllowVnetInBound",
            65000,
            Direction::Inbound,
            Access::Allow,
            vnet(),
            vnet(),
            "Allow inbound traffic from all VMs in VNET",
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            65001,
            Direction::Inbound,
            Access::Allow,
            Tag(ServiceTag::AzureLoadBalancer),
            Any,
            "Allow inbound traffic from azure load balancer",
        ),
        rule("DenyAllInBound", 65500, Direction::Inbound, Access::Deny, Any, Any, "Deny all inbound traffic"),
        rule(
            "AllowVnetOutBound",
            65000,
            Direction::Outbound,
            Access::Allow,
            vnet(),
            vnet(),
            "Allow outbound traffic from all VMs to all VMs in VNET",
        ),
        rule(
            "AllowInternetOutBound",
            65001,
            Direction::Outbound,
            Access::Allow,
            Any,
            Tag(ServiceTag::Internet),
            "Allow outbound traffic from all VMs to Internet",
        ),
        rule(
            "DenyAllOutBound",
            65500,
            Direction::Outbound,
            Access::Deny,
            Any,
            Any,
            "Deny all outbound traffic",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_rules_with_azure_names_and_priorities() {
        let rules = default_rules();
        let summary: Vec<(String, u16, Direction, Access)> =
            rules.iter().map(|r| (r.azure_name(), r.priority.0, r.direction, r.access)).collect();
        assert_eq!(
            summary,
            vec![
                ("defaultSecurityRules/AllowVnetInBound".into(), 65000, Direction::Inbound, Access::Allow),
                (
                    "defaultSecurityRules/AllowAzureLoadBalancerInBound".into(),
                    65001,
                    Direction::Inbound,
                    Access::Allow
                ),
                ("defaultSecurityRules/DenyAllInBound".into(), 65500, Direction::Inbound, Access::Deny),
                ("defaultSecurityRules/AllowVnetOutBound".into(), 65000, Direction::Outbound, Access::Allow),
                (
                    "defaultSecurityRules/AllowInternetOutBound".into(),
                    65001,
                    Direction::Outbound,
                    Access::Allow
                ),
                ("defaultSecurityRules/DenyAllOutBound".into(), 65500, Direction::Outbound, Access::Deny),
            ]
        );
    }
}

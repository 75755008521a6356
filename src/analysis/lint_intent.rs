//! Lints no peer has (issue 25 item 4): rules Azure accepts whose effect is not what their
//! author meant, found from where the NSG applies rather than from the rule alone.
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `NSG007-rule-does-nothing` | warning | an IPsec (`Ah`, `Esp`) rule in an NSG that applies only on `AzureBastionSubnet`: the subnet holds only Azure Bastion, whose documented traffic is TCP and UDP, so the rule deploys and never matches |
//! | `NSG008-multi-tenant-tag-management` | error | an inbound allow of a management port (22, 3389, 5985, 5986) whose only source restriction is `AzureCloud` (or a regional `AzureCloud.*`): those ranges hold public IPs any Azure customer can use |
//!
//! Both are read from the rules as written, where the NSG applies; a rule that is also shadowed
//! is reported by `NSG001` as well.

use crate::jit::is_jit_rule;
use crate::model::{BASTION_SUBNET, Topology};
use crate::nsg::{Access, AddressSpec, Direction, RuleKind, RuleProtocol, ServiceTag};

use super::finding_code::FindingCode;
use super::lint::{Finding, FindingRule, MANAGEMENT_PORTS, Severity};

/// Whether `tag` is one whose ranges any Azure customer can send from: `AzureCloud` and its
/// regional forms (Microsoft: "AzureCloud: All datacenter public IP addresses").
fn multi_tenant(tag: &ServiceTag) -> bool {
    match tag {
        ServiceTag::Other(name) => {
            let lower = name.to_ascii_lowercase();
            lower == "azurecloud" || lower.starts_with("azurecloud.")
        }
        _ => false,
    }
}

/// Runs both checks on every NSG that applies somewhere.
pub fn intent_checks(topology: &Topology, out: &mut Vec<Finding>) {
    for id in topology.nsg_ids() {
        let (subnets, nics) = topology.associations(id);
        if subnets.is_empty() && nics.is_empty() {
            continue;
        }
        let nsg = topology.nsg(id);
        let only_bastion =
            nics.is_empty() && subnets.iter().all(|s| topology.subnet(*s).name == BASTION_SUBNET);
        for rule in &nsg.rules {
            if rule.kind != RuleKind::Security || is_jit_rule(&rule.name) {
                continue;
            }
            if only_bastion && matches!(rule.protocol, RuleProtocol::Ah | RuleProtocol::Esp) {
                out.push(Finding {
                    severity: Severity::Warning,
                    code: FindingCode::RuleDoesNothing,
                    nsg: Some(nsg.name.clone()),
                    vm: None,
                    rules: vec![FindingRule::own(rule.rule_ref())],
                    message: format!(
                        "{} (priority {}, {}, {:?}) deploys but never matches: the NSG applies only on {BASTION_SUBNET}, which holds only Azure Bastion, and Bastion's traffic (the rules Azure requires on that subnet) is TCP and UDP, never IPsec {:?}",
                        rule.azure_name(),
                        rule.priority,
                        rule.direction,
                        rule.protocol,
                        rule.protocol
                    ),
                    fix: "delete the rule, or move it to the NSG of the subnet whose VMs speak IPsec".into(),
                    policies: Vec::new(),
                });
            }
            let mgmt: Vec<u16> = MANAGEMENT_PORTS
                .into_iter()
                .filter(|p| rule.destination_ports.0.iter().any(|r| r.contains(*p)))
                .collect();
            let tcp = matches!(rule.protocol, RuleProtocol::Tcp | RuleProtocol::Any);
            if rule.direction == Direction::Inbound
                && rule.access == Access::Allow
                && tcp
                && !mgmt.is_empty()
                && let AddressSpec::Tag(tag) = &rule.source
                && multi_tenant(tag)
            {
                let ports: Vec<String> = mgmt.iter().map(u16::to_string).collect();
                out.push(Finding {
                    severity: Severity::Error,
                    code: FindingCode::MultiTenantTagManagement,
                    nsg: Some(nsg.name.clone()),
                    vm: None,
                    rules: vec![FindingRule::own(rule.rule_ref())],
                    message: format!(
                        "{} (priority {}) allows management port(s) {} from the service tag {tag}, its only source restriction: {tag} holds the public IP ranges of Azure's datacenters, including those any customer's VMs and services use, so anyone with an Azure subscription can send from them",
                        rule.azure_name(),
                        rule.priority,
                        ports.join(", "),
                    ),
                    fix: "restrict the source to your own admin ranges (or the service's own tag, e.g. GatewayManager), and use just-in-time VM access or Azure Bastion for management".into(),
                    policies: Vec::new(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::load_str;

    fn findings(rules: &str, subnet: &str) -> Vec<Finding> {
        let text = format!(
            r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                service_tags: {{"AzureCloud.westeurope": ["20.50.0.0/16"]}},
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "{subnet}", prefix: "10.0.0.0/26", nsg: "n")])],
                nsgs: [Nsg(name: "n", rules: [{rules}])])"#
        );
        let s = load_str(&text, Path::new("t.ron")).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut out = Vec::new();
        intent_checks(&s.topology, &mut out);
        out
    }

    #[test]
    fn an_ipsec_rule_on_the_bastion_subnet_does_nothing() {
        let ah = r#"Rule(name: "ah", priority: 300, direction: Inbound, access: Allow, protocol: Ah, destination_ports: "*")"#;
        let f = findings(ah, "AzureBastionSubnet");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].code, FindingCode::RuleDoesNothing);
        assert_eq!(f[0].rules, [super::super::testing::user_rule("ah")]);
        // On an ordinary subnet, VMs may speak IPsec: nothing to report.
        assert!(findings(ah, "web").is_empty());
        let tcp = r#"Rule(name: "t", priority: 300, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "443")"#;
        assert!(findings(tcp, "AzureBastionSubnet").is_empty());
    }

    #[test]
    fn a_management_port_open_to_azurecloud_is_an_error() {
        for source in ["AzureCloud", "AzureCloud.westeurope", "azurecloud"] {
            let rule = format!(
                r#"Rule(name: "rdp", priority: 200, direction: Inbound, access: Allow, protocol: Tcp, source: "{source}", destination_ports: "3380-3390")"#
            );
            let f = findings(&rule, "web");
            assert_eq!(f.len(), 1, "{source}: {f:?}");
            assert_eq!((f[0].code, f[0].severity), (FindingCode::MultiTenantTagManagement, Severity::Error));
            assert!(f[0].message.contains("3389"), "{}", f[0].message);
        }
        let narrow = r#"Rule(name: "rdp", priority: 200, direction: Inbound, access: Allow, protocol: Tcp, source: "203.0.113.0/24", destination_ports: "3389")"#;
        assert!(findings(narrow, "web").is_empty());
        let https = r#"Rule(name: "h", priority: 200, direction: Inbound, access: Allow, protocol: Tcp, source: "AzureCloud", destination_ports: "443")"#;
        assert!(findings(https, "web").is_empty());
        let deny = r#"Rule(name: "d", priority: 200, direction: Inbound, access: Deny, protocol: Tcp, source: "AzureCloud", destination_ports: "22")"#;
        assert!(findings(deny, "web").is_empty());
    }
}

//! Rules and address fields written out as Azure writes them, with names resolved through the
//! topology (an ASG id becomes `asg:NAME`). It lives in the model, not in `nsg`, because naming
//! an ASG needs the topology's tables, and `nsg` sits below the model.

use super::Topology;
use crate::nsg::{AddressSpec, SecurityRule, display_net};

impl Topology {
    /// A source or destination field as Azure writes it: `*`, a comma-separated prefix list, a
    /// tag name, or the ASG names (`asg:web,asg:db`).
    pub fn describe_address(&self, spec: &AddressSpec) -> String {
        match spec {
            AddressSpec::Any => "*".into(),
            AddressSpec::Prefixes(p) => p.iter().map(display_net).collect::<Vec<_>>().join(","),
            AddressSpec::Tag(t) => t.to_string(),
            AddressSpec::Asgs(a) => {
                let names: Vec<String> = a.iter().map(|id| format!("asg:{}", self.asg(*id).name)).collect();
                names.join(",")
            }
        }
    }

    /// One line describing a rule, for narratives and change lists:
    /// `securityRules/x (priority 100, Inbound Allow, Tcp * -> 10.0.0.4 port 22)`.
    pub fn describe_rule(&self, rule: &SecurityRule) -> String {
        format!(
            "{} (priority {}, {} {}, {} {} -> {} port {})",
            rule.azure_name(),
            rule.priority,
            rule.direction,
            rule.access,
            rule.protocol,
            self.describe_address(&rule.source),
            self.describe_address(&rule.destination),
            rule.destination_ports
        )
    }
}

#[cfg(test)]
mod tests {
    use ipnet::IpNet;

    use super::*;
    use crate::nsg::{Direction, ServiceTag};

    #[test]
    fn addresses_are_written_as_azure_writes_them() {
        let mut t = Topology::new();
        let web = t.add_asg("web").expect("asg");
        let db = t.add_asg("db").expect("asg");
        let nets: Vec<IpNet> = vec!["10.0.0.4/32".parse().expect("net"), "10.1.0.0/16".parse().expect("net")];
        assert_eq!(t.describe_address(&AddressSpec::Prefixes(nets)), "10.0.0.4,10.1.0.0/16");
        assert_eq!(t.describe_address(&AddressSpec::Any), "*");
        assert_eq!(t.describe_address(&AddressSpec::Tag(ServiceTag::Internet)), "Internet");
        assert_eq!(t.describe_address(&AddressSpec::Asgs(vec![web, db])), "asg:web,asg:db");
    }

    #[test]
    fn a_rule_is_one_line_with_its_azure_name() {
        let mut t = Topology::new();
        let admins = t.add_asg("admins").expect("asg");
        let rule = SecurityRule {
            source: AddressSpec::Asgs(vec![admins]),
            destination: AddressSpec::Prefixes(vec!["10.0.0.4/32".parse().expect("net")]),
            ..SecurityRule::ssh_for_tests("ssh", 100, Direction::Inbound)
        };
        assert_eq!(
            t.describe_rule(&rule),
            "securityRules/ssh (priority 100, Inbound Allow, Tcp asg:admins -> 10.0.0.4 port 22)"
        );
    }
}

//! The security admin rules of Azure Virtual Network Manager, met before a VNet's NSGs.
//!
//! Microsoft ("Security admin rules in Azure Virtual Network Manager"): "Security admin rules are
//! evaluated before NSG rules." "When the traffic is allowed by a security admin rule, it will be
//! further evaluated by NSG rules"; "If the security admin rule is *Always Allow*, the traffic
//! won't hit NSGs, and instead deliver directly to VMs or other resource"; "When *Deny* is used,
//! evaluation and therefore traffic is stopped without being delivered to the destination."
//! Admin rules apply at the VNet level, so the hop comes before the whole NSG chain of one
//! direction (subnet and NIC): an AlwaysAllow skips both levels.

use crate::model::{AdminAction, SubnetId};
use crate::net::Flow;
use crate::nsg::{Access, Direction, RuleRef};

use super::evaluate::Walk;
use super::{Hop, HopDetail, HopKind};

impl Walk<'_> {
    /// The admin-rule hop of `subnet`'s VNet in `direction`: `Some(verdict)` when an AlwaysAllow
    /// (`true`) or Deny (`false`) rule decided, so that the NSGs are not evaluated; `None` when the
    /// NSGs decide (an Allow rule matched, or none did, or no deployed configuration applies to
    /// the VNet, in which case no hop is added).
    pub(in crate::path) fn admin_rules(
        &mut self,
        flow: &Flow,
        subnet: SubnetId,
        direction: Direction,
    ) -> Option<bool> {
        let t = self.topology;
        let vnet = t.subnet(subnet).vnet;
        if !t.has_admin_rules(vnet) {
            return None;
        }
        let applied = t.admin_rules_for(vnet, direction);
        let fresh;
        let compiled = match self.cache.admin_rules(t, subnet, direction) {
            Some(c) if c.len() == applied.len() => c,
            _ => {
                let ctx = t.resolve_context_for_subnet(subnet);
                fresh = applied.iter().map(|a| a.rule.resolve(&ctx)).collect::<Vec<_>>();
                &fresh
            }
        };
        let vnet_name = &t.vnet(vnet).name;
        let Some(i) = compiled.iter().position(|m| m.contains(flow)) else {
            self.hops.push(Hop {
                kind: HopKind::AdminRule,
                resource: format!("vnet '{vnet_name}'"),
                level: None,
                direction: Some(direction),
                rule: None,
                priority: None,
                access: Access::Allow,
                detail: HopDetail::AdminNoMatch {
                    vnet: vnet_name.clone(),
                    direction,
                    checked: applied.len(),
                },
            });
            return None;
        };
        let a = applied[i];
        let rule = a.rule;
        let (access, decided) = match rule.action {
            AdminAction::Allow => (Access::Allow, None),
            AdminAction::AlwaysAllow => (Access::Allow, Some(true)),
            AdminAction::Deny => (Access::Deny, Some(false)),
        };
        self.hops.push(Hop {
            kind: HopKind::AdminRule,
            resource: a.configuration.name.clone(),
            level: None,
            direction: Some(direction),
            rule: Some(RuleRef::Admin { collection: a.collection.name.clone(), rule: rule.name.clone() }),
            priority: Some(rule.priority),
            access,
            detail: HopDetail::AdminRule {
                configuration: a.configuration.name.clone(),
                collection: a.collection.name.clone(),
                rule: rule.name.clone(),
                priority: rule.priority,
                network_manager: a.configuration.network_manager.clone(),
                vnet: vnet_name.clone(),
                groups: a.collection.applies_to.iter().map(|g| t.network_group(*g).name.clone()).collect(),
                action: rule.action,
            },
        });
        decided
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{AdminAction, AdminRule, AdminRuleCollection, SecurityAdminConfiguration, Topology};
    use crate::nsg::{Access, AddressSpec, Direction, PortSpec, RuleProtocol, ServiceTag};
    use crate::path::testing::{ip, net, nsg, rule, vm};
    use crate::path::{Destination, FlowRequest, HopKind, PolicyCache, Source, evaluate};

    fn admin(name: &str, priority: u16, action: AdminAction, port: u16) -> AdminRule {
        AdminRule {
            name: name.into(),
            priority,
            direction: Direction::Inbound,
            action,
            protocol: RuleProtocol::Tcp,
            sources: vec![AddressSpec::Tag(ServiceTag::Internet)],
            source_ports: PortSpec::any(),
            destinations: vec![],
            destination_ports: PortSpec::single(port),
            description: String::new(),
        }
    }

    /// A VM with a public IP behind an NSG that allows 3389 and 22 from anywhere, its VNet in a
    /// network group with one configuration of `rules`.
    fn setup(rules: Vec<AdminRule>, deployed: bool) -> Topology {
        let mut t = Topology::new();
        let v = t.add_vnet("spoke", vec![net("10.0.0.0/16")]).expect("vnet");
        let s = t.add_subnet(v, "app", net("10.0.1.0/24")).expect("subnet");
        vm(&mut t, "vm1", s, "10.0.1.4", Some("20.1.2.3"));
        let any = (AddressSpec::Any, AddressSpec::Any);
        let open = |name: &str, p: u16, port: &str| {
            rule(name, p, Direction::Inbound, Access::Allow, RuleProtocol::Tcp, any.clone(), port)
        };
        let id = nsg(&mut t, "app-nsg", vec![open("rdp", 100, "3389"), open("ssh", 110, "22")]);
        t.set_subnet_nsg(s, Some(id)).expect("nsg");
        let g = t.add_network_group("prod", vec![v]).expect("group");
        t.add_admin_configuration(SecurityAdminConfiguration {
            name: "baseline".into(),
            network_manager: "avnm".into(),
            deployed,
            collections: vec![AdminRuleCollection { name: "high-risk".into(), applies_to: vec![g], rules }],
        })
        .expect("config");
        t
    }

    fn from_internet(t: &Topology, port: u16) -> crate::path::Trace {
        let cache = PolicyCache::new(t);
        let req = FlowRequest {
            source: Source::Address(ip("203.0.113.9")),
            destination: Destination::Address(ip("20.1.2.3")),
            protocol: crate::net::IpProtocol::TCP,
            src_port: 50000,
            dst_port: port,
            via: None,
        };
        evaluate(t, &cache, &req)
    }

    #[test]
    fn a_deny_admin_rule_stops_traffic_an_nsg_allows() {
        let t = setup(vec![admin("deny-rdp", 10, AdminAction::Deny, 3389)], true);
        let trace = from_internet(&t, 3389);
        assert_eq!(trace.verdict, Access::Deny, "{trace:?}");
        let decided = trace.deciding_hop().expect("hop");
        assert_eq!(decided.kind, HopKind::AdminRule);
        assert_eq!(decided.rule_name().as_deref(), Some("ruleCollections/high-risk/rules/deny-rdp"));
        assert!(!trace.hops.iter().any(|h| h.kind == HopKind::Nsg), "NSGs are not evaluated: {trace:?}");
        // Port 22 matches no admin rule: the hop says so and the NSG decides.
        let ssh = from_internet(&t, 22);
        assert_eq!(ssh.verdict, Access::Allow);
        assert!(ssh.hops.iter().any(|h| h.kind == HopKind::AdminRule && h.rule.is_none()));
        assert_eq!(ssh.deciding_hop().map(|h| h.kind), Some(HopKind::Nsg));
    }

    #[test]
    fn an_undeployed_configuration_changes_nothing() {
        let t = setup(vec![admin("deny-rdp", 10, AdminAction::Deny, 3389)], false);
        let trace = from_internet(&t, 3389);
        assert_eq!(trace.verdict, Access::Allow);
        assert!(!trace.hops.iter().any(|h| h.kind == HopKind::AdminRule));
    }

    #[test]
    fn always_allow_skips_the_nsgs_and_allow_leaves_them_to_decide() {
        // 8080 is denied by the NSG (DenyAllInBound) but always allowed by the admin rule.
        let t = setup(
            vec![
                admin("always", 20, AdminAction::AlwaysAllow, 8080),
                admin("allow", 30, AdminAction::Allow, 9090),
            ],
            true,
        );
        let always = from_internet(&t, 8080);
        assert_eq!(always.verdict, Access::Allow, "{always:?}");
        assert_eq!(
            always.deciding_hop().and_then(|h| h.rule_name()).as_deref(),
            Some("ruleCollections/high-risk/rules/always")
        );
        assert!(!always.hops.iter().any(|h| h.kind == HopKind::Nsg));
        let allow = from_internet(&t, 9090);
        assert_eq!(allow.verdict, Access::Deny, "Allow goes on to the NSG, whose DenyAllInBound denies");
        assert_eq!(
            allow.deciding_hop().and_then(|h| h.rule_name()).as_deref(),
            Some("defaultSecurityRules/DenyAllInBound")
        );
    }

    #[test]
    fn the_lower_priority_number_wins() {
        let t = setup(
            vec![
                admin("late-deny", 200, AdminAction::Deny, 3389),
                admin("early-always", 100, AdminAction::AlwaysAllow, 3389),
            ],
            true,
        );
        assert_eq!(from_internet(&t, 3389).verdict, Access::Allow);
    }
}

//! Virtual Network Manager's tables: network groups and security admin configurations, behind
//! checked constructors, and the admin rules that apply to a VNet in evaluation order.

use super::{AdminRuleProblem, Resource, Topology, TopologyError};
use crate::ids::VnetId;
use crate::model::admin::{
    ADMIN_PRIORITY_RANGE, AdminConfigId, AppliedAdminRule, NetworkGroup, NetworkGroupId,
    SecurityAdminConfiguration,
};
use crate::nsg::{AddressSpec, Direction};

impl Topology {
    /// Adds a network group of static member VNets.
    ///
    /// # Errors
    /// A name already used by another network group (names compare case-insensitively, as Azure
    /// compares resource names).
    pub fn add_network_group(
        &mut self,
        name: &str,
        members: Vec<VnetId>,
    ) -> Result<NetworkGroupId, TopologyError> {
        if self.network_groups.iter().any(|g| g.name.eq_ignore_ascii_case(name)) {
            return Err(TopologyError::DuplicateName { kind: "network group", name: name.into() });
        }
        let mut members = members;
        members.sort();
        members.dedup();
        self.network_groups.push(NetworkGroup { name: name.into(), members });
        Ok(NetworkGroupId(self.network_groups.len() as u32 - 1))
    }

    /// The network group `id`.
    pub fn network_group(&self, id: NetworkGroupId) -> &NetworkGroup {
        &self.network_groups[id.0 as usize]
    }

    /// Every network group's id.
    pub fn network_group_ids(&self) -> impl Iterator<Item = NetworkGroupId> + use<> {
        (0..self.network_groups.len() as u32).map(NetworkGroupId)
    }

    /// The network group called `name` (case-insensitive).
    pub fn network_group_by_name(&self, name: &str) -> Option<NetworkGroupId> {
        self.network_groups
            .iter()
            .position(|g| g.name.eq_ignore_ascii_case(name))
            .map(|i| NetworkGroupId(i as u32))
    }

    /// Adds a security admin configuration.
    ///
    /// # Errors
    /// A duplicate configuration name; a collection name used twice in it; a rule name or
    /// priority used twice in one collection; a priority outside 1–4096 (REST
    /// `AdminPropertiesFormat`: "The value can be between 1 and 4096. The priority number must be
    /// unique for each rule in the collection"); an application security group as an address
    /// (admin rules take IP prefixes and service tags only); a network group that does not exist.
    pub fn add_admin_configuration(
        &mut self,
        config: SecurityAdminConfiguration,
    ) -> Result<AdminConfigId, TopologyError> {
        if self.admin_configurations.iter().any(|c| c.name.eq_ignore_ascii_case(&config.name)) {
            return Err(TopologyError::DuplicateName {
                kind: "security admin configuration",
                name: config.name.clone(),
            });
        }
        for (ci, c) in config.collections.iter().enumerate() {
            if config.collections[..ci].iter().any(|o| o.name.eq_ignore_ascii_case(&c.name)) {
                return Err(TopologyError::DuplicateName {
                    kind: "rule collection",
                    name: format!("{}/{}", config.name, c.name),
                });
            }
            if let Some(g) = c.applies_to.iter().find(|g| g.0 as usize >= self.network_groups.len()) {
                return Err(TopologyError::requirement(
                    Resource::RuleCollection {
                        configuration: config.name.clone(),
                        collection: c.name.clone(),
                    },
                    AdminRuleProblem::NoSuchNetworkGroup { group: g.0 },
                ));
            }
            for (ri, r) in c.rules.iter().enumerate() {
                let resource = || Resource::AdminRule {
                    configuration: config.name.clone(),
                    collection: c.name.clone(),
                    rule: r.name.clone(),
                };
                if !ADMIN_PRIORITY_RANGE.contains(&r.priority) {
                    return Err(TopologyError::requirement(
                        resource(),
                        AdminRuleProblem::PriorityOutOfRange { priority: r.priority },
                    ));
                }
                if let Some(o) = c.rules[..ri].iter().find(|o| o.name.eq_ignore_ascii_case(&r.name)) {
                    return Err(TopologyError::DuplicateName {
                        kind: "admin rule",
                        name: format!("{}/{}/{}", config.name, c.name, o.name),
                    });
                }
                if let Some(o) = c.rules[..ri].iter().find(|o| o.priority == r.priority) {
                    return Err(TopologyError::requirement(
                        resource(),
                        AdminRuleProblem::PriorityTaken { priority: r.priority, other: o.name.clone() },
                    ));
                }
                if r.sources.iter().chain(&r.destinations).any(|a| matches!(a, AddressSpec::Asgs(_))) {
                    return Err(TopologyError::requirement(resource(), AdminRuleProblem::AsgAddress));
                }
            }
        }
        self.admin_configurations.push(config);
        Ok(AdminConfigId(self.admin_configurations.len() as u32 - 1))
    }

    /// The security admin configuration `id`.
    pub fn admin_configuration(&self, id: AdminConfigId) -> &SecurityAdminConfiguration {
        &self.admin_configurations[id.0 as usize]
    }

    /// Every security admin configuration's id.
    pub fn admin_configuration_ids(&self) -> impl Iterator<Item = AdminConfigId> + use<> {
        (0..self.admin_configurations.len() as u32).map(AdminConfigId)
    }

    /// The security admin configuration called `name` (case-insensitive).
    pub fn admin_configuration_by_name(&self, name: &str) -> Option<AdminConfigId> {
        self.admin_configurations
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .map(|i| AdminConfigId(i as u32))
    }

    /// Deploys (`true`) or removes the deployment of (`false`) a configuration: only a deployed
    /// configuration's rules apply ("Configurations don't take effect until they're deployed").
    pub fn set_admin_deployed(&mut self, id: AdminConfigId, deployed: bool) {
        self.admin_configurations[id.0 as usize].deployed = deployed;
    }

    /// Whether any deployed configuration applies a rule collection to `vnet` (its VNet is in a
    /// network group a collection applies to): then every flow to or from it meets an admin-rule
    /// hop, even when no rule matches.
    pub fn has_admin_rules(&self, vnet: VnetId) -> bool {
        self.admin_configurations.iter().filter(|c| c.deployed).any(|c| {
            c.collections
                .iter()
                .any(|col| col.applies_to.iter().any(|g| self.network_group(*g).members.contains(&vnet)))
        })
    }

    /// The admin rules of deployed configurations that apply to `vnet` in `direction`, in
    /// evaluation order: by priority, lower first; rules of equal priority (in different
    /// collections or configurations) in the order the configurations and collections are
    /// declared (model choice: Microsoft requires a priority unique only within a collection and
    /// does not say how equal priorities across collections are ordered).
    pub fn admin_rules_for(&self, vnet: VnetId, direction: Direction) -> Vec<AppliedAdminRule<'_>> {
        let mut out = Vec::new();
        for configuration in self.admin_configurations.iter().filter(|c| c.deployed) {
            for collection in &configuration.collections {
                if !collection.applies_to.iter().any(|g| self.network_group(*g).members.contains(&vnet)) {
                    continue;
                }
                for rule in collection.rules.iter().filter(|r| r.direction == direction) {
                    out.push(AppliedAdminRule { configuration, collection, rule });
                }
            }
        }
        out.sort_by_key(|a| a.rule.priority);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RequirementProblem;
    use crate::model::admin::{AdminAction, AdminRule, AdminRuleCollection};
    use crate::nsg::{PortSpec, RuleProtocol};

    fn rule(name: &str, priority: u16, action: AdminAction) -> AdminRule {
        AdminRule {
            name: name.into(),
            priority,
            direction: Direction::Inbound,
            action,
            protocol: RuleProtocol::Tcp,
            sources: vec![],
            source_ports: PortSpec::any(),
            destinations: vec![],
            destination_ports: PortSpec::single(3389),
            description: String::new(),
        }
    }

    fn config(name: &str, group: NetworkGroupId, rules: Vec<AdminRule>) -> SecurityAdminConfiguration {
        SecurityAdminConfiguration {
            name: name.into(),
            network_manager: "avnm".into(),
            deployed: true,
            collections: vec![AdminRuleCollection { name: "c".into(), applies_to: vec![group], rules }],
        }
    }

    fn topology() -> (Topology, VnetId, VnetId, NetworkGroupId) {
        let mut t = Topology::new();
        let a = t.add_vnet("a", vec!["10.0.0.0/16".parse().expect("net")]).expect("vnet");
        let b = t.add_vnet("b", vec!["10.1.0.0/16".parse().expect("net")]).expect("vnet");
        let g = t.add_network_group("prod", vec![a]).expect("group");
        (t, a, b, g)
    }

    #[test]
    fn rules_apply_to_member_vnets_of_deployed_configurations_in_priority_order() {
        let (mut t, a, b, g) = topology();
        let id = t
            .add_admin_configuration(config(
                "cfg",
                g,
                vec![rule("late", 200, AdminAction::Allow), rule("early", 10, AdminAction::Deny)],
            ))
            .expect("config");
        let names: Vec<&str> =
            t.admin_rules_for(a, Direction::Inbound).iter().map(|r| r.rule.name.as_str()).collect();
        assert_eq!(names, ["early", "late"]);
        assert!(t.admin_rules_for(a, Direction::Outbound).is_empty());
        assert!(t.admin_rules_for(b, Direction::Inbound).is_empty(), "b is in no group");
        assert!(t.has_admin_rules(a) && !t.has_admin_rules(b));
        t.set_admin_deployed(id, false);
        assert!(t.admin_rules_for(a, Direction::Inbound).is_empty(), "undeployed: no effect");
        assert!(!t.has_admin_rules(a));
    }

    #[test]
    fn refuses_what_azure_refuses() {
        let (mut t, _, _, g) = topology();
        let zero = t.add_admin_configuration(config("c0", g, vec![rule("r", 0, AdminAction::Deny)]));
        let problem =
            |r: &Result<AdminConfigId, TopologyError>| match r.as_ref().err()?.requirement_problem()? {
                RequirementProblem::AdminRule(p) => Some(p.clone()),
                _ => None,
            };
        assert_eq!(problem(&zero), Some(AdminRuleProblem::PriorityOutOfRange { priority: 0 }), "{zero:?}");
        let at = Resource::AdminRule { configuration: "c0".into(), collection: "c".into(), rule: "r".into() };
        assert!(
            matches!(&zero, Err(TopologyError::Requirement { resource, .. }) if *resource == at),
            "{zero:?}"
        );
        let high = t.add_admin_configuration(config("c1", g, vec![rule("r", 4097, AdminAction::Deny)]));
        assert_eq!(problem(&high), Some(AdminRuleProblem::PriorityOutOfRange { priority: 4097 }), "{high:?}");
        let twice = t.add_admin_configuration(config(
            "c2",
            g,
            vec![rule("r1", 5, AdminAction::Deny), rule("r2", 5, AdminAction::Allow)],
        ));
        let taken = AdminRuleProblem::PriorityTaken { priority: 5, other: "r1".into() };
        assert_eq!(problem(&twice), Some(taken), "{twice:?}");
        t.add_admin_configuration(config("ok", g, vec![rule("r", 4096, AdminAction::Deny)])).expect("4096");
        let again = t.add_admin_configuration(config("OK", g, vec![]));
        assert!(matches!(again, Err(TopologyError::DuplicateName { .. })), "{again:?}");
        assert!(t.add_network_group("PROD", vec![]).is_err(), "group names are case-insensitive");
    }
}

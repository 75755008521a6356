//! Converting a scenario's Azure Virtual Network Manager part: network groups (static members)
//! and security admin configurations, their rule collections and rules.

use super::FieldPath;
use super::load::rules::{direction, ports, protocol};
use super::load::{Fault, Loader, dependent, fault, in_range};
use super::schema::{AdminActionSpec, AdminConfigurationSpec, AdminRuleSpec, ScenarioFile};
use crate::model::{AdminAction, AdminRule, AdminRuleCollection, SecurityAdminConfiguration, Topology};
use crate::nsg::{AddressSpec, PortSpec};

/// The name a configuration's network manager gets when the scenario does not give one.
const DEFAULT_NETWORK_MANAGER: &str = "network-manager";

impl Loader<'_> {
    /// Network groups, then security admin configurations; each is its own item.
    pub(super) fn admin(&self, file: &ScenarioFile, t: &mut Topology) {
        for (gi, g) in file.network_groups.iter().enumerate() {
            self.item(&[&g.name], || -> Result<(), Fault> {
                let field = FieldPath::root("network_groups").index(gi);
                let members = g
                    .vnets
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        if self.is_skipped(v) {
                            return Err(dependent(field.field("vnets").index(i)));
                        }
                        self.vnet(t, v, &field.field("vnets").index(i))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                t.add_network_group(&g.name, members)
                    .map_err(|e| fault(field.field("name"), &g.name, e.to_string()))?;
                Ok(())
            });
        }
        for (ci, c) in file.security_admin_configurations.iter().enumerate() {
            self.item(&[&c.name], || {
                self.admin_configuration(c, t, &FieldPath::root("security_admin_configurations").index(ci))
            });
        }
    }

    /// The security admin configuration called `name`, for a timeline step's `configuration`.
    pub(super) fn admin_config(
        &self,
        t: &Topology,
        name: &str,
        field: &FieldPath,
    ) -> Result<crate::model::AdminConfigId, Fault> {
        if self.is_skipped(name) {
            return Err(dependent(field));
        }
        t.admin_configuration_by_name(name).ok_or_else(|| {
            let names: Vec<String> =
                t.admin_configuration_ids().map(|c| t.admin_configuration(c).name.clone()).collect();
            let valid = if names.is_empty() {
                "(none: the scenario has no security_admin_configurations)".to_string()
            } else {
                names.join(", ")
            };
            fault(field, name, format!("unknown security admin configuration '{name}'; valid: {valid}"))
        })
    }

    fn admin_configuration(
        &self,
        c: &AdminConfigurationSpec,
        t: &mut Topology,
        field: &FieldPath,
    ) -> Result<(), Fault> {
        let mut collections = Vec::new();
        for (ki, k) in c.rule_collections.iter().enumerate() {
            let kf = field.field("rule_collections").index(ki);
            if k.applies_to.is_empty() {
                return Err(fault(
                    kf.field("applies_to"),
                    "",
                    format!(
                        "rule collection '{}' applies to no network group; Azure requires appliesToGroups; valid: the names of one or more network_groups",
                        k.name
                    ),
                ));
            }
            let applies_to = k
                .applies_to
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let gf = kf.field("applies_to").index(i);
                    if self.is_skipped(g) {
                        return Err(dependent(gf));
                    }
                    t.network_group_by_name(g).ok_or_else(|| {
                        let names: Vec<String> =
                            t.network_group_ids().map(|id| t.network_group(id).name.clone()).collect();
                        fault(
                            &gf,
                            g,
                            format!(
                                "unknown network group '{g}'; valid: {}",
                                if names.is_empty() {
                                    "(none declared in network_groups)".into()
                                } else {
                                    names.join(", ")
                                }
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut rules = Vec::new();
            for (ri, r) in k.rules.iter().enumerate() {
                let rf = kf.field("rules").index(ri);
                let rule = self.admin_rule(t, r, &rf)?;
                if let Some(o) = rules.iter().find(|o: &&AdminRule| o.priority == rule.priority) {
                    return Err(fault(
                        rf.field("priority"),
                        r.priority.to_string(),
                        format!(
                            "admin rule '{}': priority {} is already used by rule '{}' of collection '{}'; Azure: \"The priority number must be unique for each rule in the collection\"; valid: another priority in 1..=4096",
                            r.name, r.priority, o.name, k.name
                        ),
                    ));
                }
                if let Some(o) = rules.iter().find(|o: &&AdminRule| o.name.eq_ignore_ascii_case(&r.name)) {
                    return Err(fault(
                        rf.field("name"),
                        &r.name,
                        format!(
                            "admin rule name '{}' is used twice in collection '{}'; valid: a name of its own",
                            o.name, k.name
                        ),
                    ));
                }
                rules.push(rule);
            }
            collections.push(AdminRuleCollection { name: k.name.clone(), applies_to, rules });
        }
        let config = SecurityAdminConfiguration {
            name: c.name.clone(),
            network_manager: c.network_manager.clone().unwrap_or_else(|| DEFAULT_NETWORK_MANAGER.into()),
            deployed: c.deployed.unwrap_or(true),
            collections,
        };
        t.add_admin_configuration(config).map_err(|e| fault(field.field("name"), &c.name, e.to_string()))?;
        Ok(())
    }

    fn admin_rule(&self, t: &Topology, r: &AdminRuleSpec, field: &FieldPath) -> Result<AdminRule, Fault> {
        let priority = in_range(r.priority, 1u16, 4096).ok_or_else(|| {
            fault(
                field.field("priority"),
                r.priority.to_string(),
                format!("admin rule '{}': priority {} is outside 1..=4096", r.name, r.priority),
            )
        })?;
        let addresses = |list: &[String], name: &'static str| -> Result<Vec<AddressSpec>, Fault> {
            let mut out = Vec::new();
            for (i, a) in list.iter().enumerate() {
                let f = field.field(name).index(i);
                match self.address(t, Some(a), &[], &f, &f)? {
                    AddressSpec::Any => return Ok(Vec::new()),
                    spec => out.push(spec),
                }
            }
            Ok(out)
        };
        let sources = addresses(&r.sources, "sources")?;
        let destinations = addresses(&r.destinations, "destinations")?;
        let port_field = |text: Option<&str>, name: &'static str| -> Result<PortSpec, Fault> {
            ports(text.unwrap_or("*")).map_err(|(v, m)| fault(field.field(name), v, m))
        };
        Ok(AdminRule {
            name: r.name.clone(),
            priority,
            direction: direction(r.direction),
            action: match r.action {
                AdminActionSpec::Allow => AdminAction::Allow,
                AdminActionSpec::AlwaysAllow => AdminAction::AlwaysAllow,
                AdminActionSpec::Deny => AdminAction::Deny,
            },
            protocol: protocol(r.protocol),
            sources,
            source_ports: port_field(r.source_ports.as_deref(), "source_ports")?,
            destinations,
            destination_ports: port_field(r.destination_ports.as_deref(), "destination_ports")?,
            description: r.description.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::nsg::Direction;
    use crate::scenario::load_str;

    const BASE: &str = r#"Scenario(
    name: "avnm",
    start: "2025-01-06T09:00:00Z",
    vnets: [(name: "spoke", address_space: ["10.0.0.0/16"], subnets: [(name: "app", prefix: "10.0.1.0/24")])],
    network_groups: [NetworkGroup(name: "prod", vnets: ["spoke"])],
    security_admin_configurations: [SecurityAdminConfiguration(name: "baseline", rule_collections: [
        AdminRuleCollection(name: "high-risk", applies_to: ["prod"], rules: [RULES]),
    ])],
)"#;

    fn with(rules: &str) -> String {
        BASE.replace("RULES", rules)
    }

    #[test]
    fn loads_groups_configurations_and_rules() {
        let text = with(
            r#"AdminRule(name: "deny-rdp", priority: 10, direction: Inbound, action: Deny, protocol: Tcp, sources: ["Internet"], destination_ports: "3389")"#,
        );
        let sc = load_str(&text, Path::new("a.ron")).expect("loads");
        let t = &sc.topology;
        let vnet = t.vnet_by_name("spoke").expect("vnet");
        let rules = t.admin_rules_for(vnet, Direction::Inbound);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].path(), "baseline/high-risk/deny-rdp");
        assert!(rules[0].configuration.deployed, "deployed by default");
    }

    #[test]
    fn errors_name_the_field_and_what_is_valid() {
        let cases = [
            (
                r#"AdminRule(name: "r", priority: 0, direction: Inbound, action: Deny, protocol: Tcp)"#,
                "rules[0].priority",
                "outside 1..=4096",
            ),
            (
                r#"AdminRule(name: "r", priority: 5, direction: Inbound, action: Deny, protocol: Tcp), AdminRule(name: "s", priority: 5, direction: Inbound, action: Allow, protocol: Tcp)"#,
                "rules[1].priority",
                "must be unique",
            ),
            (
                r#"AdminRule(name: "r", priority: 5, direction: Inbound, action: Deny, protocol: Tcp, sources: ["NoSuchTag"])"#,
                "rules[0].sources[0]",
                "unknown service tag",
            ),
        ];
        for (rules, field, message) in cases {
            let err = load_str(&with(rules), Path::new("a.ron")).expect_err("refused").to_string();
            assert!(err.contains(field) && err.contains(message), "{err}");
        }
        let bad_group =
            BASE.replace(r#"applies_to: ["prod"]"#, r#"applies_to: ["test"]"#).replace("RULES", "");
        let err = load_str(&bad_group, Path::new("a.ron")).expect_err("refused").to_string();
        assert!(
            err.contains("applies_to[0]") && err.contains("unknown network group 'test'; valid: prod"),
            "{err}"
        );
    }
}

//! Azure Virtual Network Manager: network groups and their static members, security admin
//! configurations, their rule collections (`appliesToGroups`) and rules. Connectivity and routing
//! configurations are not read (their types stay unimported, a caveat).
//!
//! Every record keeps its network manager's name and its parents' names, so that the builder
//! joins children given apart from their parents (`manager/group/member`).

use super::{Inventory, Res, member};
use crate::import::arm::ResourceRef;
use crate::import::json::Object;
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::scenario::schema::{AdminActionSpec, AdminRuleSpec};

/// A network group: (manager, group) names.
#[derive(Debug)]
pub struct NetworkGroupRec {
    /// Network manager, group.
    pub names: Vec<String>,
    /// The resource's index.
    pub res: usize,
}

/// A static member of a network group: the VNet it adds.
#[derive(Debug)]
pub struct StaticMemberRec {
    /// Network manager, group, member.
    pub names: Vec<String>,
    /// The VNet (`resourceId`), with where the reference is.
    pub vnet: (ResourceRef, Src),
    /// The resource's index.
    pub res: usize,
}

/// A security admin configuration: (manager, configuration) names.
#[derive(Debug)]
pub struct AdminConfigRec {
    /// Network manager, configuration.
    pub names: Vec<String>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A rule collection and the network groups it applies to.
#[derive(Debug)]
pub struct AdminCollectionRec {
    /// Network manager, configuration, collection.
    pub names: Vec<String>,
    /// `appliesToGroups[].networkGroupId`, each with where it is.
    pub applies_to: Vec<(ResourceRef, Src)>,
    /// The resource's index.
    pub res: usize,
}

/// A security admin rule, read into the scenario's form.
#[derive(Debug)]
pub struct AdminRuleRec {
    /// Network manager, configuration, collection, rule.
    pub names: Vec<String>,
    /// The rule.
    pub spec: AdminRuleSpec,
    /// The resource's index.
    pub res: usize,
}

/// Everything of Virtual Network Manager the input holds.
#[derive(Debug, Default)]
pub struct AvnmRecs {
    /// Network managers: (name, where, resource index).
    pub managers: Vec<(String, Src, usize)>,
    /// Network groups.
    pub groups: Vec<NetworkGroupRec>,
    /// Static members.
    pub members: Vec<StaticMemberRec>,
    /// Security admin configurations.
    pub configs: Vec<AdminConfigRec>,
    /// Rule collections.
    pub collections: Vec<AdminCollectionRec>,
    /// Rules.
    pub rules: Vec<AdminRuleRec>,
    /// The deployments the input records (Terraform's `azurerm_network_manager_deployment`);
    /// a manager with none is assumed deployed (a caveat).
    pub deployments: Vec<crate::import::resource::AdminDeployment>,
}

impl Inventory {
    /// One Virtual Network Manager resource of `kind`, named `names` (manager first).
    pub(super) fn avnm(
        &mut self,
        kind: Kind,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        if !self.define(kind, names, rsrc, res) {
            return Ok(());
        }
        let names_v = names.to_vec();
        match kind {
            Kind::NetworkManager => {
                self.check_props(
                    kind.azure_type(),
                    p,
                    &["networkManagerScopes", "networkManagerScopeAccesses", "description"],
                    src,
                );
                self.avnm.managers.push((names[0].clone(), rsrc.clone(), res));
            }
            Kind::NetworkGroup => {
                self.check_props(kind.azure_type(), p, &["description", "memberType"], src);
                self.avnm.groups.push(NetworkGroupRec { names: names_v, res });
            }
            Kind::StaticMember => {
                let (node, at) = member(p, "resourceId", src);
                let id = node.and_then(|n| n.as_str()).ok_or_else(|| {
                    self.diag.invalid(&at, "", "a static member needs the resourceId of a virtual network")
                })?;
                let Some(vnet) = crate::import::arm::parse_id(id) else {
                    return Err(self.diag.invalid(
                        &at,
                        id,
                        "not a resource id; valid: the id of a virtual network",
                    ));
                };
                self.avnm.members.push(StaticMemberRec { names: names_v, vnet: (vnet, at), res });
            }
            Kind::AdminConfiguration => {
                self.check_props(
                    kind.azure_type(),
                    p,
                    &[
                        "description",
                        "applyOnNetworkIntentPolicyBasedServices",
                        "networkGroupAddressSpaceAggregationOption",
                    ],
                    src,
                );
                self.avnm.configs.push(AdminConfigRec { names: names_v, src: rsrc.clone(), res });
            }
            Kind::AdminRuleCollection => {
                self.check_props(kind.azure_type(), p, &["description", "appliesToGroups"], src);
                let mut applies_to = Vec::new();
                if let Some((items, at)) = self.list(p, "appliesToGroups", src, "network group items")? {
                    for (i, item) in items.iter().enumerate() {
                        let item_at = at.item(i, item);
                        let Some(obj) = item.as_object() else {
                            return Err(self.diag.invalid(
                                &item_at,
                                &item.shown(),
                                "expected {\"networkGroupId\": …}",
                            ));
                        };
                        let (id, id_at) = member(obj, "networkGroupId", &item_at);
                        let text = match id.map(|n| &n.value) {
                            Some(crate::import::json::Value::String(s)) => s.clone(),
                            _ => {
                                return Err(id.and_then(|n| self.unknown(n, &id_at)).unwrap_or_else(|| {
                                    self.diag.invalid(&id_at, "", "expected the network group's id")
                                }));
                            }
                        };
                        let Some(r) = crate::import::arm::parse_id(&text) else {
                            return Err(self.diag.invalid(
                                &id_at,
                                &text,
                                "not a resource id; valid: the id of a network group",
                            ));
                        };
                        applies_to.push((r, id_at));
                    }
                }
                self.avnm.collections.push(AdminCollectionRec { names: names_v, applies_to, res });
            }
            Kind::AdminRule => {
                let spec = self.admin_rule(names.last().cloned().unwrap_or_default(), p, src)?;
                self.avnm.rules.push(AdminRuleRec { names: names_v, spec, res });
            }
            _ => {}
        }
        Ok(())
    }

    /// A security admin rule's properties, checked where they are.
    fn admin_rule(&mut self, name: String, p: &Object, src: &Src) -> Res<AdminRuleSpec> {
        self.check_props(
            Kind::AdminRule.azure_type(),
            p,
            &[
                "access",
                "direction",
                "priority",
                "protocol",
                "sources",
                "destinations",
                "sourcePortRanges",
                "destinationPortRanges",
                "description",
                "flag",
            ],
            src,
        );
        let required = |me: &Self, field: &str| -> Res<(String, Src)> {
            let at = member(p, field, src).1;
            match me.string(p, field, src)? {
                Some(v) => Ok((v, at)),
                None => Err(me.diag.invalid(&at, "", format!("admin rule '{name}' has no '{field}'"))),
            }
        };
        let (priority_text, at) = required(self, "priority")?;
        let priority: i64 = match priority_text.trim().parse() {
            Ok(n) if (1..=4096).contains(&n) => n,
            _ => {
                return Err(self.diag.invalid(
                    &at,
                    &priority_text,
                    format!("admin rule '{name}': a security admin rule's priority is an integer 1-4096 (lower is evaluated first)"),
                ));
            }
        };
        let (text, at) = required(self, "direction")?;
        let direction = self.direction_spec(&text, &at)?;
        let (text, at) = required(self, "access")?;
        let action = match text.to_ascii_lowercase().as_str() {
            "allow" => AdminActionSpec::Allow,
            "alwaysallow" => AdminActionSpec::AlwaysAllow,
            "deny" => AdminActionSpec::Deny,
            _ => return Err(self.diag.invalid(&at, &text, "valid: Allow, AlwaysAllow, Deny")),
        };
        let (text, at) = required(self, "protocol")?;
        let protocol = self.protocol_spec(&text, &at)?;
        let sources = self.admin_addresses(p, "sources", src)?;
        let destinations = self.admin_addresses(p, "destinations", src)?;
        let ports = |me: &Self, field: &str| -> Res<Option<String>> {
            let list = me.strings(p, field, src)?;
            for (entry, at) in &list {
                me.port_range(entry, at)?;
            }
            Ok((!list.is_empty()).then(|| list.into_iter().map(|(e, _)| e).collect::<Vec<_>>().join(",")))
        };
        Ok(AdminRuleSpec {
            name,
            priority,
            direction,
            action,
            protocol,
            sources,
            source_ports: ports(self, "sourcePortRanges")?,
            destinations,
            destination_ports: ports(self, "destinationPortRanges")?,
            description: self.string(p, "description", src)?.unwrap_or_default(),
        })
    }

    /// `sources` or `destinations`: `[{"addressPrefix": …, "addressPrefixType": "IPPrefix" |
    /// "ServiceTag"}]`, each prefix checked where it is.
    fn admin_addresses(&self, p: &Object, field: &str, src: &Src) -> Res<Vec<String>> {
        let mut out = Vec::new();
        let Some((items, at)) = self.list(p, field, src, "address prefix items")? else { return Ok(out) };
        for (i, item) in items.iter().enumerate() {
            let item_at = at.item(i, item);
            let Some(obj) = item.as_object() else {
                return Err(self.diag.invalid(
                    &item_at,
                    &item.shown(),
                    "expected {\"addressPrefix\": …, \"addressPrefixType\": …}",
                ));
            };
            let prefix_at = member(obj, "addressPrefix", &item_at).1;
            let prefix = self.string(obj, "addressPrefix", &item_at)?.ok_or_else(|| {
                self.diag.invalid(&prefix_at, "", "an address prefix item needs an addressPrefix")
            })?;
            let kind = self.string(obj, "addressPrefixType", &item_at)?.unwrap_or_else(|| "IPPrefix".into());
            if kind.eq_ignore_ascii_case("IPPrefix") && prefix != "*" {
                crate::net::parse_prefix(&prefix)
                    .map_err(|e| self.diag.invalid(&prefix_at, &prefix, e.reason))?;
            }
            out.push(prefix);
        }
        Ok(out)
    }
}

//! Azure Virtual Network Manager in Terraform: `azurerm_network_manager`, its network groups and
//! static members, security admin configurations, rule collections and rules, in Azure's shape,
//! and `azurerm_network_manager_deployment`, which says which configurations are deployed.
//!
//! The attribute names are the azurerm provider's: a rule's `action` is Azure's `access`, its
//! `source` and `destination` blocks (`address_prefix`, `address_prefix_type`) are `sources` and
//! `destinations`; a collection's `network_group_ids` is `appliesToGroups`; a static member's
//! `target_virtual_network_id` is `resourceId`. A deployment's `configuration_ids` is the commit
//! Azure makes ("Configurations don't take effect until they're deployed", Microsoft's
//! "Configuration deployments in Azure Virtual Network Manager"): the configurations it lists are
//! imported as deployed, the other configurations of that manager as not deployed, instead of the
//! assumption a template or an export needs. Azure Policy's dynamic membership is not evaluated
//! (the inventory's caveat).

use super::attrs::{list, object, text};
use super::azurerm::{ADMIN_CONFIG, NETWORK_GROUP, NETWORK_MANAGER, VNET};
use super::config::Seg;
use super::network::Members;
use super::{Reader, Res};
use crate::import::json::Node;
use crate::import::resource::AdminDeployment;

/// A rule's attributes that are Azure's under another name, in Azure's order.
const RULE_FIELDS: &[(&str, &str)] = &[
    ("priority", "priority"),
    ("direction", "direction"),
    ("action", "access"),
    ("protocol", "protocol"),
    ("source_port_ranges", "sourcePortRanges"),
    ("destination_port_ranges", "destinationPortRanges"),
    ("description", "description"),
];

impl<'a> Reader<'a, '_> {
    /// `azurerm_network_manager`, `…_network_group`, `…_security_admin_configuration`: nothing
    /// but their names decides traffic.
    pub(super) fn avnm_container(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let kind = self.instances[i].kind.clone();
        let harmless = [
            "network_manager_id",
            "description",
            "scope",
            "scope_accesses",
            "apply_on_network_intent_policy_based_services",
            "network_group_address_space_aggregation_option",
            "cross_tenant_scopes",
            "scope_access",
            "member_type",
        ];
        self.note_unread(&kind, &a, &[], &harmless);
        Ok(Some(vec![("properties", object(a.position(), []))]))
    }

    /// `azurerm_network_manager_static_member`: the VNet it adds to its group.
    pub(super) fn avnm_static_member(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let path = [Seg::Attr("target_virtual_network_id")];
        let vnet = match self.reference(i, &a, "target_virtual_network_id", &path, &[VNET])? {
            Ok(node) => node,
            Err(why) => {
                let why = why.unwrap_or_else(|| "it has no target_virtual_network_id".into());
                self.unfollowed(i, "static member", why);
                return Ok(None);
            }
        };
        let id = vnet.get("id").cloned().unwrap_or_else(|| text(a.position(), ""));
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &["target_virtual_network_id"], &["network_group_id"]);
        Ok(Some(vec![("properties", object(a.position(), [("resourceId", id)]))]))
    }

    /// `azurerm_network_manager_admin_rule_collection`: the network groups it applies to.
    pub(super) fn avnm_rule_collection(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let path = [Seg::Attr("network_group_ids")];
        let (groups, missing) = self.references(i, &a, "network_group_ids", &path, &[NETWORK_GROUP])?;
        self.not_followed(
            i,
            &a,
            "network_group_ids",
            &missing,
            "the collection's rules are not applied to that group's VNets",
        );
        let applies: Vec<Node> = groups
            .iter()
            .map(|g| {
                let id = g.get("id").cloned().unwrap_or_else(|| text(g.position, ""));
                object(g.position, [("networkGroupId", id)])
            })
            .collect();
        let at = a.node.get("network_group_ids").map_or(a.position(), |n| n.position);
        let kind = self.instances[i].kind.clone();
        self.note_unread(
            &kind,
            &a,
            &["network_group_ids"],
            &["security_admin_configuration_id", "description"],
        );
        Ok(Some(vec![("properties", object(a.position(), [("appliesToGroups", list(at, applies))]))]))
    }

    /// `azurerm_network_manager_admin_rule`: a security admin rule in Azure's shape.
    pub(super) fn avnm_admin_rule(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props: Vec<(&str, Node)> = Vec::new();
        for (terraform, azure) in RULE_FIELDS {
            if let Some((node, _)) = a.value(terraform) {
                props.push((azure, node.clone()));
            }
        }
        for (terraform, azure) in [("source", "sources"), ("destination", "destinations")] {
            let mut items = Vec::new();
            if let super::attrs::Blocks::Known(blocks) = a.blocks(terraform, self.diag)? {
                for b in blocks {
                    let mut item = Vec::new();
                    if let Some((node, _)) = b.value("address_prefix") {
                        item.push(("addressPrefix", node.clone()));
                    }
                    if let Some((node, _)) = b.value("address_prefix_type") {
                        item.push(("addressPrefixType", node.clone()));
                    }
                    items.push(object(b.position(), item));
                }
            }
            let at = a.node.get(terraform).map_or(a.position(), |n| n.position);
            props.push((azure, list(at, items)));
        }
        let kind = self.instances[i].kind.clone();
        let mut read: Vec<&str> = RULE_FIELDS.iter().map(|(t, _)| *t).collect();
        read.extend(["source", "destination"]);
        self.note_unread(&kind, &a, &read, &["admin_rule_collection_id"]);
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    /// `azurerm_network_manager_deployment`: the security admin configurations it commits, for
    /// the builder (a connectivity or routing deployment is counted and changes nothing here).
    pub(super) fn avnm_deployment(&mut self, i: usize) -> Res<()> {
        let a = self.values(i)?;
        let inst = &self.instances[i];
        let address = inst.address.clone();
        let access = a.text("scope_access", self.diag)?.map(|(s, _, _)| s);
        if access.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case("SecurityAdmin")) {
            let message = format!(
                "{address}: a {} deployment; nsgsim models security admin configurations only",
                access.unwrap_or_default()
            );
            self.skip(i, crate::import::summary::SkipReason::NotImported, message);
            return Ok(());
        }
        let manager_path = [Seg::Attr("network_manager_id")];
        let manager = match self.reference(i, &a, "network_manager_id", &manager_path, &[NETWORK_MANAGER])? {
            Ok(node) => node.get("id").and_then(Node::as_str).and_then(crate::import::arm::parse_id),
            Err(_) => None,
        };
        let path = [Seg::Attr("configuration_ids")];
        let (configs, missing) = self.references(i, &a, "configuration_ids", &path, &[ADMIN_CONFIG])?;
        let Some(manager) = manager.filter(|_| missing.is_empty()) else {
            let mut why = missing;
            if why.is_empty() {
                why.push("its network_manager_id cannot be followed".into());
            }
            let message = format!(
                "{address}: {}; which configurations it deploys is not known, so each is imported as deployed (the assumption a template needs)",
                why.join("; ")
            );
            self.skip(i, crate::import::summary::SkipReason::NotImported, message);
            return Ok(());
        };
        let configurations = configs
            .iter()
            .filter_map(|c| c.get("id").and_then(Node::as_str).and_then(crate::import::arm::parse_id))
            .map(|r| r.names)
            .collect();
        self.out.admin_deployments.push(AdminDeployment {
            network_manager: manager.names.into_iter().next().unwrap_or_default(),
            configurations,
        });
        Ok(())
    }
}

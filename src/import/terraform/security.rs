//! Network security groups with their inline `security_rule` blocks, and
//! `azurerm_network_security_rule`, in Azure's shape.
//!
//! The attributes are Azure's own under other names (`source_address_prefixes` is
//! `sourceAddressPrefixes`, `destination_application_security_group_ids` is
//! `destinationApplicationSecurityGroups`); Terraform writes an unset singular as `""` and an
//! unset list as `[]`, which Azure leaves out, and so does the translation. An NSG whose
//! `security_rule` the plan leaves unknown has no inline rules: its rules are the
//! `azurerm_network_security_rule` resources (the provider's note: "Since `security_rule` can
//! be configured both inline and via the separate `azurerm_network_security_rule` resource, we
//! have to explicitly set it to empty slice (`[]`) to remove it").

use super::attrs::{Attrs, Blocks, list, object, text};
use super::config::Seg;
use super::network::Members;
use super::{Reader, Res};
use crate::import::json::Node;
use crate::import::resource::Skipped;
use crate::import::summary::SkipReason;

/// A rule's attributes and the Azure property each is, in Azure's order.
const RULE_FIELDS: &[(&str, &str)] = &[
    ("priority", "priority"),
    ("direction", "direction"),
    ("access", "access"),
    ("protocol", "protocol"),
    ("source_port_range", "sourcePortRange"),
    ("source_port_ranges", "sourcePortRanges"),
    ("destination_port_range", "destinationPortRange"),
    ("destination_port_ranges", "destinationPortRanges"),
    ("source_address_prefix", "sourceAddressPrefix"),
    ("source_address_prefixes", "sourceAddressPrefixes"),
    ("destination_address_prefix", "destinationAddressPrefix"),
    ("destination_address_prefixes", "destinationAddressPrefixes"),
    ("description", "description"),
];

impl<'a> Reader<'a, '_> {
    pub(super) fn security_group(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        if let Blocks::Known(blocks) = a.blocks("security_rule", self.diag)? {
            let mut rules = Vec::new();
            for (k, b) in blocks.iter().enumerate() {
                let Some((name, name_node, _)) = b.text("name", self.diag)? else {
                    return Err(self.diag.invalid(&b.src, "", "a security_rule block needs a name"));
                };
                let Some(properties) =
                    self.rule_properties(i, b, &[Seg::Attr("security_rule"), Seg::Index(k)])?
                else {
                    continue;
                };
                rules.push(object(
                    b.position(),
                    [("name", text(name_node.position, &name)), ("properties", properties)],
                ));
            }
            let at = a.node.get("security_rule").map_or(a.position(), |n| n.position);
            props.push(("securityRules", list(at, rules)));
        }
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &["security_rule"], &[]);
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn security_rule(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        match self.rule_properties(i, &a, &[])? {
            Some(properties) => Ok(Some(vec![("properties", properties)])),
            None => {
                self.dropped.insert(i);
                let inst = &self.instances[i];
                let skipped = Skipped {
                    kind: inst.kind.clone(),
                    name: inst.address.clone(),
                    src: inst.src.clone(),
                    reason: SkipReason::NotImported,
                };
                self.out.skipped.push(skipped);
                Ok(None)
            }
        }
    }

    /// A rule's properties from an `azurerm_network_security_rule` or a `security_rule` block
    /// (at `block` in the configuration), attributes nsgsim does not read noted; `None` when an
    /// ASG it names cannot be followed: the rule is left out with a caveat, since without that
    /// ASG it would match other traffic (all of it, when the ASG was its only source).
    fn rule_properties(&mut self, i: usize, a: &Attrs<'_>, block: &[Seg<'_>]) -> Res<Option<Node>> {
        let mut props: Vec<(&str, Node)> = Vec::new();
        for (terraform, azure) in RULE_FIELDS {
            if let Some((node, _)) = a.value(terraform) {
                props.push((azure, node.clone()));
            }
        }
        for (terraform, azure) in [
            ("source_application_security_group_ids", "sourceApplicationSecurityGroups"),
            ("destination_application_security_group_ids", "destinationApplicationSecurityGroups"),
        ] {
            let (asgs, missing) = self.asg_references(i, a, terraform, block)?;
            if !missing.is_empty() {
                self.not_followed(
                    i,
                    a,
                    terraform,
                    &missing,
                    "the rule is left out (without the ASG it would match other traffic)",
                );
                return Ok(None);
            }
            if let Some(asgs) = asgs {
                props.push((azure, asgs));
            }
        }
        let kind =
            format!("{}{}", self.instances[i].kind, if block.is_empty() { "" } else { ".security_rule" });
        let mut read: Vec<&str> = RULE_FIELDS.iter().map(|(t, _)| *t).collect();
        read.extend(["source_application_security_group_ids", "destination_application_security_group_ids"]);
        self.note_unread(&kind, a, &read, &["network_security_group_name"]);
        Ok(Some(object(a.position(), props)))
    }
}

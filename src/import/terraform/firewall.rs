//! Azure Firewall (`azurerm_firewall` with its classic `azurerm_firewall_*_rule_collection`
//! resources), Firewall Policy and its rule collection groups, and IP groups, in Azure's shape
//! (the REST API's `azureFirewalls`, `firewallPolicies/ruleCollectionGroups` and `ipGroups`).
//!
//! Terraform names Azure's properties in its own way: a rule collection group's
//! `network_rule_collection` is a `FirewallPolicyFilterRuleCollection` of `NetworkRule`s, a
//! `nat_rule_collection` a `FirewallPolicyNatRuleCollection` of `NatRule`s whose one
//! `destination_address` is Azure's `destinationAddresses`; an application rule's `protocols`
//! blocks (`type`, `port`) are Azure's `protocols` (`protocolType`, `port`).

use super::attrs::{Attrs, Blocks, list, object, text};
use super::azurerm::{PIP, POLICY, SUBNET};
use super::config::Seg;
use super::network::Members;
use super::{Reader, Res};
use crate::import::json::{Node, Value};

/// One kind of rule: Terraform's attributes and Azure's properties, lists and single values.
struct RuleShape {
    /// Azure's `ruleType` (policy rules only).
    rule_type: &'static str,
    /// (Terraform attribute, Azure property) of list values; a lone value becomes a list.
    lists: &'static [(&'static str, &'static str)],
    /// (Terraform attribute, Azure property) of single values.
    singles: &'static [(&'static str, &'static str)],
}

const POLICY_NETWORK: RuleShape = RuleShape {
    rule_type: "NetworkRule",
    lists: &[
        ("protocols", "ipProtocols"),
        ("source_addresses", "sourceAddresses"),
        ("source_ip_groups", "sourceIpGroups"),
        ("destination_addresses", "destinationAddresses"),
        ("destination_ip_groups", "destinationIpGroups"),
        ("destination_fqdns", "destinationFqdns"),
        ("destination_ports", "destinationPorts"),
    ],
    singles: &[("description", "description")],
};

const POLICY_APPLICATION: RuleShape = RuleShape {
    rule_type: "ApplicationRule",
    lists: &[
        ("source_addresses", "sourceAddresses"),
        ("source_ip_groups", "sourceIpGroups"),
        ("destination_addresses", "destinationAddresses"),
        ("destination_fqdns", "targetFqdns"),
        ("destination_fqdn_tags", "fqdnTags"),
        ("destination_urls", "targetUrls"),
        ("web_categories", "webCategories"),
    ],
    singles: &[("terminate_tls", "terminateTLS"), ("description", "description")],
};

const POLICY_NAT: RuleShape = RuleShape {
    rule_type: "NatRule",
    lists: &[
        ("protocols", "ipProtocols"),
        ("source_addresses", "sourceAddresses"),
        ("source_ip_groups", "sourceIpGroups"),
        ("destination_address", "destinationAddresses"),
        ("destination_ports", "destinationPorts"),
    ],
    singles: &[
        ("translated_address", "translatedAddress"),
        ("translated_fqdn", "translatedFqdn"),
        ("translated_port", "translatedPort"),
    ],
};

const CLASSIC_NETWORK: RuleShape = RuleShape {
    rule_type: "",
    lists: &[
        ("protocols", "protocols"),
        ("source_addresses", "sourceAddresses"),
        ("source_ip_groups", "sourceIpGroups"),
        ("destination_addresses", "destinationAddresses"),
        ("destination_ip_groups", "destinationIpGroups"),
        ("destination_fqdns", "destinationFqdns"),
        ("destination_ports", "destinationPorts"),
    ],
    singles: &[("description", "description")],
};

const CLASSIC_APPLICATION: RuleShape = RuleShape {
    rule_type: "",
    lists: &[
        ("source_addresses", "sourceAddresses"),
        ("source_ip_groups", "sourceIpGroups"),
        ("target_fqdns", "targetFqdns"),
        ("fqdn_tags", "fqdnTags"),
    ],
    singles: &[("description", "description")],
};

const CLASSIC_NAT: RuleShape = RuleShape {
    rule_type: "",
    lists: &[
        ("protocols", "protocols"),
        ("source_addresses", "sourceAddresses"),
        ("source_ip_groups", "sourceIpGroups"),
        ("destination_addresses", "destinationAddresses"),
        ("destination_ports", "destinationPorts"),
    ],
    singles: &[
        ("translated_address", "translatedAddress"),
        ("translated_port", "translatedPort"),
        ("description", "description"),
    ],
};

impl<'a> Reader<'a, '_> {
    pub(super) fn firewall(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        let mut sku = Vec::new();
        if let Some((n, _)) = a.value("sku_name") {
            sku.push(("name", n.clone()));
        }
        if let Some((n, _)) = a.value("sku_tier") {
            sku.push(("tier", n.clone()));
        }
        if !sku.is_empty() {
            props.push(("sku", object(a.position(), sku)));
        }
        for (block_name, azure) in [
            ("ip_configuration", "ipConfigurations"),
            ("management_ip_configuration", "managementIpConfiguration"),
        ] {
            let Blocks::Known(blocks) = a.blocks(block_name, self.diag)? else { continue };
            let mut configs = Vec::new();
            for (k, b) in blocks.iter().enumerate() {
                let block = [Seg::Attr(block_name), Seg::Index(k)];
                let mut cp = Vec::new();
                if let Some(subnet) = self.own_reference(i, b, "subnet_id", &block, SUBNET)? {
                    cp.push(("subnet", subnet));
                }
                if let Some(pip) = self.own_reference(i, b, "public_ip_address_id", &block, PIP)? {
                    cp.push(("publicIPAddress", pip));
                }
                if let Some((n, _)) = b.value("private_ip_address") {
                    cp.push(("privateIPAddress", n.clone()));
                }
                let name = b
                    .text("name", self.diag)?
                    .map(|(s, _, _)| s)
                    .unwrap_or_else(|| format!("ipconfig{}", k + 1));
                configs.push(object(
                    b.position(),
                    [("name", text(b.position(), &name)), ("properties", object(b.position(), cp))],
                ));
            }
            match (azure, configs.len()) {
                (_, 0) => {}
                ("managementIpConfiguration", _) => props.push((azure, configs.remove(0))),
                _ => props.push((azure, list(a.position(), configs))),
            }
        }
        if let Some(policy) = self.own_reference(i, &a, "firewall_policy_id", &[], POLICY)? {
            props.push(("firewallPolicy", policy));
        }
        if let Some((n, _)) = a.value("threat_intel_mode") {
            props.push(("threatIntelMode", n.clone()));
        }
        for property in ["networkRuleCollections", "applicationRuleCollections", "natRuleCollections"] {
            if let Some(collections) = self.folded_collections(i, property) {
                props.push((property, collections));
            }
        }
        let ranges = a.texts("private_ip_ranges", self.diag)?;
        if let Some((n, _)) = a.value("private_ip_ranges") {
            let ranges = super::attrs::texts(n.position, &ranges);
            props
                .push(("additionalProperties", object(n.position, [("Network.SNAT.PrivateRanges", ranges)])));
        }
        let read = [
            "sku_name",
            "sku_tier",
            "ip_configuration",
            "management_ip_configuration",
            "firewall_policy_id",
            "threat_intel_mode",
            "private_ip_ranges",
        ];
        let harmless = ["zones", "dns_servers", "dns_proxy_enabled"];
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &read, &harmless);
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn firewall_policy(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        if let Some(base) = self.own_reference(i, &a, "base_policy_id", &[], POLICY)? {
            props.push(("basePolicy", base));
        }
        if let Some((n, _)) = a.value("threat_intelligence_mode") {
            props.push(("threatIntelMode", n.clone()));
        }
        if let Some((n, _)) = a.value("sku") {
            props.push(("sku", object(n.position, [("tier", n.clone())])));
        }
        let mut snat = Vec::new();
        let ranges = a.texts("private_ip_ranges", self.diag)?;
        if let Some((n, _)) = a.value("private_ip_ranges") {
            snat.push(("privateRanges", super::attrs::texts(n.position, &ranges)));
        }
        if let Some((learn, n)) = a.flag("auto_learn_private_ranges_enabled", self.diag)? {
            snat.push((
                "autoLearnPrivateRanges",
                text(n.position, if learn { "Enabled" } else { "Disabled" }),
            ));
        }
        if let Some((_, first)) = snat.first() {
            let at = first.position;
            props.push(("snat", object(at, snat)));
        }
        let read = [
            "base_policy_id",
            "threat_intelligence_mode",
            "sku",
            "private_ip_ranges",
            "auto_learn_private_ranges_enabled",
        ];
        let harmless = [
            "child_policies",
            "firewalls",
            "rule_collection_groups",
            "dns",
            "insights",
            "identity",
            "intrusion_detection",
            "threat_intelligence_allowlist",
            "tls_certificate",
            "sql_redirect_allowed",
            "explicit_proxy",
        ];
        let kind = self.instances[i].kind.clone();
        self.note_unread(&kind, &a, &read, &harmless);
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn rule_collection_group(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let mut props = Vec::new();
        if let Some((n, _)) = a.value("priority") {
            props.push(("priority", n.clone()));
        }
        let mut collections = Vec::new();
        for (block_name, collection_type, shape) in [
            ("application_rule_collection", "FirewallPolicyFilterRuleCollection", &POLICY_APPLICATION),
            ("network_rule_collection", "FirewallPolicyFilterRuleCollection", &POLICY_NETWORK),
            ("nat_rule_collection", "FirewallPolicyNatRuleCollection", &POLICY_NAT),
        ] {
            let Blocks::Known(blocks) = a.blocks(block_name, self.diag)? else { continue };
            for c in &blocks {
                let rules = self.rules(c, shape)?;
                let mut members = vec![("ruleCollectionType", text(c.position(), collection_type))];
                if let Some((n, _)) = c.value("name") {
                    members.push(("name", n.clone()));
                }
                if let Some((n, _)) = c.value("priority") {
                    members.push(("priority", n.clone()));
                }
                if let Some((n, _)) = c.value("action") {
                    members.push(("action", object(n.position, [("type", n.clone())])));
                }
                members.push(("rules", rules));
                collections.push(object(c.position(), members));
            }
        }
        props.push(("ruleCollections", list(a.position(), collections)));
        Ok(Some(vec![("properties", object(a.position(), props))]))
    }

    pub(super) fn ip_group(&mut self, i: usize) -> Res<Option<Members>> {
        let a = self.values(i)?;
        let cidrs = a.texts("cidrs", self.diag)?;
        let at = a.value("cidrs").map_or(a.position(), |(n, _)| n.position);
        let addresses = list(at, cidrs.iter().map(|(s, n, _)| text(n.position, s)).collect());
        Ok(Some(vec![("properties", object(a.position(), [("ipAddresses", addresses)]))]))
    }

    /// The Azure-shaped collection of a classic `azurerm_firewall_*_rule_collection` for the
    /// firewall's `property`.
    pub(super) fn classic_collection(&mut self, a: &Attrs<'a>, property: &str) -> Res<Node> {
        let shape = match property {
            "networkRuleCollections" => &CLASSIC_NETWORK,
            "applicationRuleCollections" => &CLASSIC_APPLICATION,
            _ => &CLASSIC_NAT,
        };
        let rules = self.rules(a, shape)?;
        let mut props = Vec::new();
        if let Some((n, _)) = a.value("priority") {
            props.push(("priority", n.clone()));
        }
        if let Some((n, _)) = a.value("action") {
            props.push(("action", object(n.position, [("type", n.clone())])));
        }
        props.push(("rules", rules));
        let name = a.value("name").map(|(n, _)| n.clone()).unwrap_or_else(|| text(a.position(), ""));
        Ok(object(a.position(), [("name", name), ("properties", object(a.position(), props))]))
    }

    /// The `rule` blocks of a collection `c`, in the Azure shape of `shape`.
    fn rules(&mut self, c: &Attrs<'a>, shape: &RuleShape) -> Res<Node> {
        let Blocks::Known(blocks) = c.blocks("rule", self.diag)? else {
            return Ok(list(c.position(), Vec::new()));
        };
        let mut rules = Vec::new();
        for r in &blocks {
            let mut members = Vec::new();
            if !shape.rule_type.is_empty() {
                members.push(("ruleType", text(r.position(), shape.rule_type)));
            }
            if let Some((n, _)) = r.value("name") {
                members.push(("name", n.clone()));
            }
            for (terraform, azure) in shape.lists {
                let Some((n, _)) = r.value(terraform) else { continue };
                let value = match &n.value {
                    Value::Array(_) => n.clone(),
                    _ => list(n.position, vec![n.clone()]),
                };
                members.push((azure, value));
            }
            for (terraform, azure) in shape.singles {
                if let Some((n, _)) = r.value(terraform) {
                    members.push((azure, n.clone()));
                }
            }
            // Application rules: `protocols` (policy) or `protocol` (classic) blocks, where
            // network and NAT rules have a list of protocol names.
            if !shape.lists.iter().any(|(t, _)| *t == "protocols") {
                for block_name in ["protocols", "protocol"] {
                    let Blocks::Known(protocols) = r.blocks(block_name, self.diag)? else { continue };
                    if protocols.is_empty() {
                        continue;
                    }
                    let items = protocols
                        .iter()
                        .map(|p| {
                            let mut m = Vec::new();
                            if let Some((n, _)) = p.value("type") {
                                m.push(("protocolType", n.clone()));
                            }
                            if let Some((n, _)) = p.value("port") {
                                m.push(("port", n.clone()));
                            }
                            object(p.position(), m)
                        })
                        .collect();
                    members.push(("protocols", list(r.position(), items)));
                }
            }
            rules.push(object(r.position(), members));
        }
        Ok(list(c.position(), rules))
    }
}

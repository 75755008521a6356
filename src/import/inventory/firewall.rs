//! Azure Firewalls, Firewall Policies (with their rule collection groups) and IP groups.
//!
//! A firewall sits in its VNet's `AzureFirewallSubnet` (the subnet of its IP configurations),
//! listens on the public IPs of those configurations, and takes its rules from its classic rule
//! collections or from the Firewall Policy it names. The rules themselves are read in
//! `firewall_rules.rs`; here are the resources around them.

use std::net::IpAddr;

use super::firewall_rules::CollectionRec;
use super::{Inventory, Res, member};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object};
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::model::SnatPrivateRanges;

/// An Azure Firewall.
#[derive(Debug)]
pub struct FirewallRec {
    /// Its name.
    pub name: String,
    /// `sku.tier`: `Basic`, `Standard` or `Premium` (absent in older templates: Standard).
    pub tier: Option<String>,
    /// `sku.name`: `AZFW_VNet`, or `AZFW_Hub` for a firewall in a Virtual WAN hub.
    pub sku_name: Option<String>,
    /// The subnet of its IP configurations (its `AzureFirewallSubnet`).
    pub subnet: Option<(ResourceRef, Src)>,
    /// The private IP of its first IP configuration, when given (`az`/REST output).
    pub private_ip: Option<IpAddr>,
    /// The public IPs of its IP configurations, in order.
    pub public_ips: Vec<(ResourceRef, Src)>,
    /// Its classic rule collections.
    pub collections: Vec<CollectionRec>,
    /// The Firewall Policy it takes its rules from.
    pub policy: Option<(ResourceRef, Src)>,
    /// `threatIntelMode` (`Off`, `Alert`, `Deny`).
    pub threat_intel: Option<String>,
    /// The Virtual WAN hub it sits in (`virtualHub`).
    pub hub: Option<(ResourceRef, Src)>,
    /// Its SNAT private ranges (`additionalProperties["Network.SNAT.PrivateRanges"]`, a
    /// comma-separated string), each checked; `None` when not set (Azure's default).
    pub private_ranges: Option<Vec<String>>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A Firewall Policy.
#[derive(Debug)]
pub struct PolicyRec {
    /// Its name.
    pub name: String,
    /// `basePolicy`: the parent policy whose rules come first.
    pub base: Option<(ResourceRef, Src)>,
    /// `threatIntelMode`.
    pub threat_intel: Option<String>,
    /// Premium features that can drop traffic: `intrusionDetection.mode`, when not `Off`.
    pub idps: Option<String>,
    /// `snat.privateRanges`, each checked; `None` when not set (Azure's default).
    pub private_ranges: Option<Vec<String>>,
    /// `snat.autoLearnPrivateRanges` is `Enabled`, and where it says so.
    pub auto_learn: Option<Src>,
    /// Where the resource is.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A rule collection group of a Firewall Policy.
#[derive(Debug)]
pub struct GroupRec {
    /// Its name.
    pub name: String,
    /// 100–65000, lower first.
    pub priority: i64,
    /// Its collections.
    pub collections: Vec<CollectionRec>,
}

/// An IP group: a named list of addresses firewall rules refer to.
#[derive(Debug)]
pub struct IpGroupRec {
    /// Its name.
    pub name: String,
    /// Its addresses (IPs, CIDRs, ranges), each with where it is.
    pub addresses: Vec<(String, Src)>,
    /// The resource's index.
    pub res: usize,
}

const FIREWALL: &str = "microsoft.network/azurefirewalls";
const POLICY: &str = "microsoft.network/firewallpolicies";
const GROUP: &str = "microsoft.network/firewallpolicies/rulecollectiongroups";
const IP_GROUP: &str = "microsoft.network/ipgroups";
/// The classic firewall's `additionalProperties` key for its SNAT private ranges.
const SNAT_PRIVATE_RANGES: &str = "Network.SNAT.PrivateRanges";

impl Inventory {
    pub(super) fn firewall(
        &mut self,
        res: usize,
        names: &[String],
        body: &Node,
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            FIREWALL,
            p,
            &[
                "ipConfigurations",
                "managementIpConfiguration",
                "applicationRuleCollections",
                "networkRuleCollections",
                "natRuleCollections",
                "firewallPolicy",
                "threatIntelMode",
                "virtualHub",
                "hubIPAddresses",
                "ipGroups",
                "additionalProperties",
                "autoscaleConfiguration",
            ],
            src,
        );
        if !self.define(Kind::Firewall, names, rsrc, res) {
            return Ok(());
        }
        // The SKU is a top-level member in templates and REST output, a property in `az`'s
        // flattened output: look in both.
        let sku = body.get("sku").or_else(|| p.get("sku"));
        let sku_text =
            |field: &str| sku.and_then(|s| s.get(field)).and_then(Node::as_str).map(str::to_string);
        let mut subnet = None;
        let mut private_ip = None;
        let mut public_ips = Vec::new();
        for (i, (cp, cpsrc)) in self.ip_configurations(p, src)?.into_iter().enumerate() {
            if let Some(r) = self.reference(cp, "subnet", &cpsrc)? {
                subnet.get_or_insert(r);
            }
            if i == 0
                && let Some(ip) = self.string(cp, "privateIPAddress", &cpsrc)?.filter(|s| !s.is_empty())
            {
                private_ip = Some(ip.trim().parse::<IpAddr>().map_err(|_| {
                    self.diag.invalid(
                        &member(cp, "privateIPAddress", &cpsrc).1,
                        &ip,
                        "not an IP address (valid: e.g. 10.0.1.4)",
                    )
                })?);
            }
            if let Some(r) = self.reference(cp, "publicIPAddress", &cpsrc)? {
                public_ips.push(r);
            }
        }
        let collections = self.classic_collections(p, src)?;
        let policy = self.reference(p, "firewallPolicy", src)?;
        let threat_intel = self.string(p, "threatIntelMode", src)?;
        let hub = self.reference(p, "virtualHub", src)?;
        let (additional, asrc) = member(p, "additionalProperties", src);
        // Azure writes one comma-separated string; Terraform's `private_ip_ranges` arrives as a list.
        let private_ranges = match additional.and_then(Node::as_object) {
            Some(o) if o.member(SNAT_PRIVATE_RANGES).is_some() => {
                let entries = self
                    .strings(o, SNAT_PRIVATE_RANGES, &asrc)?
                    .into_iter()
                    .flat_map(|(text, at)| {
                        text.split(',').map(|e| (e.trim().to_string(), at.clone())).collect::<Vec<_>>()
                    })
                    .filter(|(e, _)| !e.is_empty())
                    .collect();
                Some(self.snat_ranges(entries)?)
            }
            _ => None,
        };
        self.firewalls.push(FirewallRec {
            name: names[0].clone(),
            tier: sku_text("tier"),
            sku_name: sku_text("name"),
            subnet,
            private_ip,
            public_ips,
            collections,
            policy,
            threat_intel,
            hub,
            private_ranges,
            src: rsrc.clone(),
            res,
        });
        Ok(())
    }

    pub(super) fn firewall_policy(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            POLICY,
            p,
            &[
                "basePolicy",
                "threatIntelMode",
                "threatIntelWhitelist",
                "intrusionDetection",
                "dnsSettings",
                "sku",
                "ruleCollectionGroups",
                "firewalls",
                "childPolicies",
                "transportSecurity",
                "insights",
                "snat",
                "sql",
                "explicitProxy",
                "size",
            ],
            src,
        );
        if !self.define(Kind::FirewallPolicy, names, rsrc, res) {
            return Ok(());
        }
        let base = self.reference(p, "basePolicy", src)?;
        let threat_intel = self.string(p, "threatIntelMode", src)?;
        let (idps, isrc) = member(p, "intrusionDetection", src);
        let idps = match idps.and_then(Node::as_object) {
            Some(o) => self.string(o, "mode", &isrc)?.filter(|m| !m.eq_ignore_ascii_case("off")),
            None => None,
        };
        let (snat, ssrc) = member(p, "snat", src);
        let (private_ranges, auto_learn) = match snat.and_then(Node::as_object) {
            Some(o) => {
                let ranges = match o.member("privateRanges") {
                    Some(_) => Some(self.snat_ranges(self.strings(o, "privateRanges", &ssrc)?)?),
                    None => None,
                };
                let learn = self.string(o, "autoLearnPrivateRanges", &ssrc)?;
                let at = member(o, "autoLearnPrivateRanges", &ssrc).1;
                let auto_learn = match learn.as_deref().map(str::trim) {
                    None => None,
                    Some(v) if v.eq_ignore_ascii_case("enabled") => Some(at),
                    Some(v) if v.eq_ignore_ascii_case("disabled") => None,
                    Some(v) => {
                        return Err(self.diag.invalid(
                            &at,
                            v,
                            "not a value of autoLearnPrivateRanges (valid: Enabled, Disabled)",
                        ));
                    }
                };
                (ranges, auto_learn)
            }
            None => (None, None),
        };
        self.policies.push(PolicyRec {
            name: names[0].clone(),
            base,
            threat_intel,
            idps,
            private_ranges,
            auto_learn,
            src: rsrc.clone(),
            res,
        });
        Ok(())
    }

    /// SNAT private range entries, each checked where it is written: `IANAPrivateRanges`, an
    /// address or a CIDR prefix (Microsoft, "Azure Firewall SNAT private IP address ranges").
    fn snat_ranges(&self, entries: Vec<(String, Src)>) -> Res<Vec<String>> {
        let mut out = Vec::new();
        for (entry, at) in entries {
            if let Err((_, reason)) = SnatPrivateRanges::new(std::slice::from_ref(&entry)) {
                return Err(self.diag.invalid(&at, &entry, format!("not a SNAT private range: {reason}")));
            }
            out.push(entry);
        }
        Ok(out)
    }

    /// A rule collection group, a child resource of its policy.
    pub(super) fn rule_collection_group(&mut self, name: String, p: &Object, src: &Src) -> Res<GroupRec> {
        self.check_props(GROUP, p, &["priority", "ruleCollections", "size"], src);
        let priority = self.fw_priority(p, src, &name)?;
        let collections = self.policy_collections(p, src)?;
        Ok(GroupRec { name, priority, collections })
    }

    pub(super) fn ip_group(
        &mut self,
        res: usize,
        names: &[String],
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(IP_GROUP, p, &["ipAddresses", "firewalls", "firewallPolicies"], src);
        if !self.define(Kind::IpGroup, names, rsrc, res) {
            return Ok(());
        }
        let addresses = self.strings(p, "ipAddresses", src)?;
        self.ip_groups.push(IpGroupRec { name: names[0].clone(), addresses, res });
        Ok(())
    }
}

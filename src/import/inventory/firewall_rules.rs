//! Azure Firewall rule collections, in both of Azure's shapes: a classic firewall's
//! `applicationRuleCollections`, `networkRuleCollections` and `natRuleCollections`, and a
//! Firewall Policy rule collection group's `ruleCollections` (`FirewallPolicyNatRuleCollection`,
//! `FirewallPolicyFilterRuleCollection` of `NetworkRule`s or `ApplicationRule`s).
//!
//! Both become the same records: a collection (name, priority, kind and action) and its rules,
//! each value checked where it is. Addresses stay as written (IPs, CIDRs, ranges, service tags,
//! `*`) with the IP groups they name as references; what nsgsim cannot model (FQDN tags, web
//! categories, URLs, network rules by FQDN, a translated FQDN) is kept so that the builder can
//! say what it leaves out.

use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::{Node, Object, Unknown, Value};
use crate::import::source::Src;

/// A rule collection.
#[derive(Debug)]
pub struct CollectionRec {
    /// Its name.
    pub name: String,
    /// 100–65000, lower first.
    pub priority: i64,
    /// What its rules are and do.
    pub kind: CollectionKind,
    /// Its rules.
    pub rules: Vec<FwRuleRec>,
}

/// The kind of a rule collection and its action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectionKind {
    /// DNAT rules (classic `Dnat`, policy `DNAT`).
    Dnat,
    /// Network rules, allowing (`true`) or denying.
    Network(bool),
    /// Application rules, allowing (`true`) or denying.
    Application(bool),
}

/// The addresses one side of a firewall rule names.
#[derive(Debug, Default)]
pub struct FwAddresses {
    /// IPs, CIDRs, ranges (`10.0.0.1-10.0.0.9`), service tags or `*`, as written, each with
    /// where it is.
    pub literal: Vec<(String, Src)>,
    /// IP groups, with where each reference is.
    pub groups: Vec<(ResourceRef, Src)>,
    /// FQDNs (`destinationFqdns` of a network rule).
    pub fqdns: Vec<String>,
}

/// One firewall rule.
#[derive(Debug)]
pub struct FwRuleRec {
    /// Its name.
    pub name: String,
    /// What the rule matches and does.
    pub body: FwRuleBody,
    /// Where the rule is.
    pub src: Src,
}

/// The fields of a rule, by kind.
#[derive(Debug)]
pub enum FwRuleBody {
    /// A DNAT rule.
    Nat {
        /// `TCP`, `UDP`, as written.
        protocols: Vec<String>,
        /// Sources.
        sources: FwAddresses,
        /// The public addresses it listens on (an expression nsgsim cannot evaluate stays `Err`,
        /// with its text and why).
        destinations: Vec<Result<String, Unknown>>,
        /// Public ports, as written.
        destination_ports: Vec<String>,
        /// The private target (`None` with a `translatedFqdn`); `Err` with the expression and
        /// why when only a deployment knows it (a NIC's dynamic private IP read through
        /// `reference()`).
        translated_address: Option<Result<String, Unknown>>,
        /// `translatedFqdn`, which nsgsim does not resolve.
        translated_fqdn: Option<String>,
        /// The private port, as written.
        translated_port: Option<String>,
    },
    /// A network rule.
    Network {
        /// `TCP`, `UDP`, `ICMP`, `Any`, as written.
        protocols: Vec<String>,
        /// Sources.
        sources: FwAddresses,
        /// Destinations (IP groups and FQDNs too).
        destinations: FwAddresses,
        /// Ports, as written.
        destination_ports: Vec<String>,
    },
    /// An application rule.
    Application {
        /// Sources.
        sources: FwAddresses,
        /// `(protocolType, port)`; the port `None` when not given.
        protocols: Vec<(String, Option<u16>)>,
        /// `targetFqdns`.
        fqdns: Vec<String>,
        /// What it names that nsgsim does not model: `fqdnTags`, `webCategories`, `targetUrls`,
        /// each as `field: value`.
        unmodelled: Vec<String>,
    },
}

impl Inventory {
    /// The classic rule collections of an Azure Firewall's properties `p` (at `src`).
    pub(super) fn classic_collections(&mut self, p: &Object, src: &Src) -> Res<Vec<CollectionRec>> {
        let mut out = Vec::new();
        for (field, kind) in [
            ("natRuleCollections", "nat"),
            ("networkRuleCollections", "network"),
            ("applicationRuleCollections", "application"),
        ] {
            let Some((list, lsrc)) = self.list(p, field, src, "rule collections")? else { continue };
            for (i, c) in list.iter().enumerate() {
                let at = lsrc.item(i, c);
                let (Some(cobj), Some((cp, cpsrc))) = (c.as_object(), properties(c, &at)) else {
                    return Err(self.diag.invalid(&at, &c.shown(), "expected a rule collection object"));
                };
                let name = self.required_text(cobj, "name", &at, "a rule collection needs a name")?;
                self.check_props(field, cp, &["priority", "action", "rules"], &cpsrc);
                let priority = self.fw_priority(cp, &cpsrc, &name)?;
                let action = self.action(cp, &cpsrc, &name)?;
                let collection_kind = match (kind, action.to_ascii_lowercase().as_str()) {
                    ("nat", "dnat") => CollectionKind::Dnat,
                    ("network", "allow") => CollectionKind::Network(true),
                    ("network", "deny") => CollectionKind::Network(false),
                    ("application", "allow") => CollectionKind::Application(true),
                    ("application", "deny") => CollectionKind::Application(false),
                    _ => {
                        let valid = if kind == "nat" { "Dnat" } else { "Allow, Deny" };
                        return Err(self.diag.invalid(
                            &member(cp, "action", &cpsrc).1,
                            &action,
                            format!("rule collection '{name}': valid action types: {valid}"),
                        ));
                    }
                };
                let rules = self.fw_rules(cp, &cpsrc, collection_kind)?;
                out.push(CollectionRec { name, priority, kind: collection_kind, rules });
            }
        }
        Ok(out)
    }

    /// The `ruleCollections` of a rule collection group's properties `p` (at `src`).
    pub(super) fn policy_collections(&mut self, p: &Object, src: &Src) -> Res<Vec<CollectionRec>> {
        let mut out = Vec::new();
        let Some((list, lsrc)) = self.list(p, "ruleCollections", src, "rule collections")? else {
            return Ok(out);
        };
        for (i, c) in list.iter().enumerate() {
            let at = lsrc.item(i, c);
            let Some(cobj) = c.as_object() else {
                return Err(self.diag.invalid(&at, &c.shown(), "expected a rule collection object"));
            };
            self.check_props(
                "ruleCollection",
                cobj,
                &["ruleCollectionType", "priority", "action", "rules"],
                &at,
            );
            let name = self.required_text(cobj, "name", &at, "a rule collection needs a name")?;
            let priority = self.fw_priority(cobj, &at, &name)?;
            let shape =
                self.string(cobj, "ruleCollectionType", &at)?.unwrap_or_default().to_ascii_lowercase();
            let action = self.action(cobj, &at, &name)?.to_ascii_lowercase();
            let collection_kind = match (shape.as_str(), action.as_str()) {
                ("firewallpolicynatrulecollection", "dnat") => CollectionKind::Dnat,
                ("firewallpolicyfilterrulecollection", "allow" | "deny") => {
                    // A filter collection holds one kind of rule (Azure refuses a mix): the
                    // first rule's `ruleType` says which.
                    let application = cobj
                        .get("rules")
                        .and_then(Node::as_array)
                        .and_then(|r| r.first())
                        .and_then(|r| r.get("ruleType"))
                        .and_then(Node::as_str)
                        .is_some_and(|t| t.eq_ignore_ascii_case("ApplicationRule"));
                    if application {
                        CollectionKind::Application(action == "allow")
                    } else {
                        CollectionKind::Network(action == "allow")
                    }
                }
                ("firewallpolicynatrulecollection", _) => {
                    return Err(self.diag.invalid(
                        &member(cobj, "action", &at).1,
                        &action,
                        format!("rule collection '{name}': a NAT rule collection's action type is DNAT"),
                    ));
                }
                ("firewallpolicyfilterrulecollection", _) => {
                    return Err(self.diag.invalid(
                        &member(cobj, "action", &at).1,
                        &action,
                        format!("rule collection '{name}': valid action types: Allow, Deny"),
                    ));
                }
                _ => {
                    return Err(self.diag.invalid(
                        &member(cobj, "ruleCollectionType", &at).1,
                        &shape,
                        "valid: FirewallPolicyNatRuleCollection, FirewallPolicyFilterRuleCollection",
                    ));
                }
            };
            let rules = self.fw_rules(cobj, &at, collection_kind)?;
            out.push(CollectionRec { name, priority, kind: collection_kind, rules });
        }
        Ok(out)
    }

    /// A text field that must be there.
    fn required_text(&self, m: &Object, field: &str, src: &Src, missing: &str) -> Res<String> {
        self.string(m, field, src)?.ok_or_else(|| self.diag.invalid(&member(m, field, src).1, "", missing))
    }

    /// A rule collection's (or group's) priority, 100–65000.
    pub(super) fn fw_priority(&self, m: &Object, src: &Src, name: &str) -> Res<i64> {
        let at = member(m, "priority", src).1;
        let text = self
            .string(m, "priority", src)?
            .ok_or_else(|| self.diag.invalid(&at, "", format!("'{name}' has no priority")))?;
        match text.trim().parse::<i64>() {
            Ok(n) if (100..=65000).contains(&n) => Ok(n),
            _ => Err(self.diag.invalid(
                &at,
                &text,
                format!("'{name}': a rule collection's priority is an integer 100-65000 (lower first)"),
            )),
        }
    }

    /// `action.type` of a rule collection.
    fn action(&self, m: &Object, src: &Src, name: &str) -> Res<String> {
        let (node, at) = member(m, "action", src);
        let missing = || self.diag.invalid(&at, "", format!("rule collection '{name}' has no action type"));
        let Some(action) = node.and_then(Node::as_object) else { return Err(missing()) };
        self.string(action, "type", &at)?.ok_or_else(missing)
    }

    /// The `rules` of a collection of kind `kind`.
    fn fw_rules(&mut self, m: &Object, src: &Src, kind: CollectionKind) -> Res<Vec<FwRuleRec>> {
        let mut out: Vec<FwRuleRec> = Vec::new();
        let Some((list, lsrc)) = self.list(m, "rules", src, "rules")? else { return Ok(out) };
        for (i, r) in list.iter().enumerate() {
            let at = lsrc.item(i, r);
            let Some(robj) = r.as_object() else {
                return Err(self.diag.invalid(&at, &r.shown(), "expected a rule object"));
            };
            let name = self.required_text(robj, "name", &at, "a firewall rule needs a name")?;
            let body = match kind {
                CollectionKind::Dnat => self.nat_rule(robj, &at)?,
                CollectionKind::Network(_) => self.network_rule(robj, &at)?,
                CollectionKind::Application(_) => self.application_rule(robj, &at)?,
            };
            out.push(FwRuleRec { name, body, src: at });
        }
        Ok(out)
    }

    fn nat_rule(&mut self, r: &Object, at: &Src) -> Res<FwRuleBody> {
        self.check_props(
            "natRule",
            r,
            &[
                "ruleType",
                "description",
                "protocols",
                "ipProtocols",
                "sourceAddresses",
                "sourceIpGroups",
                "destinationAddresses",
                "destinationPorts",
                "translatedAddress",
                "translatedFqdn",
                "translatedPort",
            ],
            at,
        );
        let (node, dsrc) = member(r, "destinationAddresses", at);
        let mut destinations = Vec::new();
        if let Some(items) = node.and_then(Node::as_array) {
            for (i, item) in items.iter().enumerate() {
                match &item.value {
                    Value::Unknown(u) => destinations.push(Err((**u).clone())),
                    _ => destinations.push(Ok(self.text(item, &dsrc.item(i, item))?.unwrap_or_default())),
                }
            }
        } else if let Some(Value::Unknown(u)) = node.map(|n| &n.value) {
            destinations.push(Err((**u).clone()));
        } else {
            destinations =
                self.strings(r, "destinationAddresses", at)?.into_iter().map(|(s, _)| Ok(s)).collect();
        }
        Ok(FwRuleBody::Nat {
            protocols: self.protocol_names(r, at)?,
            sources: self.fw_addresses(r, at, "sourceAddresses", "sourceIpGroups", None)?,
            destinations,
            destination_ports: self.strings(r, "destinationPorts", at)?.into_iter().map(|(s, _)| s).collect(),
            translated_address: match member(r, "translatedAddress", at).0.map(|n| &n.value) {
                Some(Value::Unknown(u)) => Some(Err((**u).clone())),
                _ => self.string(r, "translatedAddress", at)?.filter(|s| !s.is_empty()).map(Ok),
            },
            translated_fqdn: self.string(r, "translatedFqdn", at)?.filter(|s| !s.is_empty()),
            translated_port: self.string(r, "translatedPort", at)?,
        })
    }

    fn network_rule(&mut self, r: &Object, at: &Src) -> Res<FwRuleBody> {
        self.check_props(
            "networkRule",
            r,
            &[
                "ruleType",
                "description",
                "protocols",
                "ipProtocols",
                "sourceAddresses",
                "sourceIpGroups",
                "destinationAddresses",
                "destinationIpGroups",
                "destinationFqdns",
                "destinationPorts",
            ],
            at,
        );
        Ok(FwRuleBody::Network {
            protocols: self.protocol_names(r, at)?,
            sources: self.fw_addresses(r, at, "sourceAddresses", "sourceIpGroups", None)?,
            destinations: self.fw_addresses(
                r,
                at,
                "destinationAddresses",
                "destinationIpGroups",
                Some("destinationFqdns"),
            )?,
            destination_ports: self.strings(r, "destinationPorts", at)?.into_iter().map(|(s, _)| s).collect(),
        })
    }

    fn application_rule(&mut self, r: &Object, at: &Src) -> Res<FwRuleBody> {
        self.check_props(
            "applicationRule",
            r,
            &[
                "ruleType",
                "description",
                "protocols",
                "sourceAddresses",
                "sourceIpGroups",
                "targetFqdns",
                "fqdnTags",
                "webCategories",
                "targetUrls",
                "terminateTLS",
                "destinationAddresses",
                "httpHeadersToInsert",
                "actions",
            ],
            at,
        );
        let mut protocols = Vec::new();
        if let Some((items, psrc)) = self.list(r, "protocols", at, "protocols")? {
            for (i, item) in items.iter().enumerate() {
                let iat = psrc.item(i, item);
                let Some(pobj) = item.as_object() else {
                    return Err(self.diag.invalid(
                        &iat,
                        &item.shown(),
                        "expected {\"protocolType\": ..., \"port\": ...}",
                    ));
                };
                let kind =
                    self.required_text(pobj, "protocolType", &iat, "a protocol needs a protocolType")?;
                let port = match self.string(pobj, "port", &iat)? {
                    None => None,
                    Some(text) => Some(text.trim().parse::<u16>().map_err(|_| {
                        self.diag.invalid(
                            &member(pobj, "port", &iat).1,
                            &text,
                            "not a port; valid: a port number 0-65535",
                        )
                    })?),
                };
                protocols.push((kind, port));
            }
        }
        let mut unmodelled = Vec::new();
        for field in ["fqdnTags", "webCategories", "targetUrls"] {
            for (value, _) in self.strings(r, field, at)? {
                unmodelled.push(format!("{field}: {value}"));
            }
        }
        let sources = self.fw_addresses(r, at, "sourceAddresses", "sourceIpGroups", None)?;
        // Premium's destinationAddresses on an application rule: targets by address.
        let destinations = self.strings(r, "destinationAddresses", at)?;
        if !destinations.is_empty() {
            unmodelled.extend(destinations.into_iter().map(|(d, _)| format!("destinationAddresses: {d}")));
        }
        Ok(FwRuleBody::Application {
            sources,
            protocols,
            fqdns: self.strings(r, "targetFqdns", at)?.into_iter().map(|(s, _)| s).collect(),
            unmodelled,
        })
    }

    /// `protocols` (classic) or `ipProtocols` (policy), as written.
    fn protocol_names(&self, r: &Object, at: &Src) -> Res<Vec<String>> {
        let mut out = self.strings(r, "ipProtocols", at)?;
        if out.is_empty() {
            out = self.strings(r, "protocols", at)?;
        }
        Ok(out.into_iter().map(|(s, _)| s).collect())
    }

    /// The addresses of one side of a rule: `literal` addresses, the IP groups of `groups`, and
    /// the FQDNs of `fqdns`.
    fn fw_addresses(
        &self,
        r: &Object,
        at: &Src,
        literal: &str,
        groups: &str,
        fqdns: Option<&str>,
    ) -> Res<FwAddresses> {
        let mut out = FwAddresses { literal: self.strings(r, literal, at)?, ..FwAddresses::default() };
        let (node, gsrc) = member(r, groups, at);
        if let Some(items) = node.and_then(Node::as_array) {
            for (i, item) in items.iter().enumerate() {
                let iat = gsrc.item(i, item);
                // IP groups are named by their resource ids, as strings.
                let id = self.text(item, &iat)?.unwrap_or_default();
                let r = crate::import::arm::parse_id(&id).ok_or_else(|| {
                    self.diag.invalid(
                        &iat,
                        &id,
                        "not a resource id; valid: the id of a Microsoft.Network/ipGroups",
                    )
                })?;
                out.groups.push((r, iat));
            }
        }
        if let Some(field) = fqdns {
            out.fqdns = self.strings(r, field, at)?.into_iter().map(|(s, _)| s).collect();
        }
        Ok(out)
    }
}

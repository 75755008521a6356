//! Azure Firewalls: each firewall in a VNet becomes a scenario `Firewall` with its classic rule
//! collections, or with the rule collection groups of its Firewall Policy (groups and
//! collections by priority), IP groups expanded to their addresses and IP ranges to CIDR
//! prefixes.
//!
//! What the model cannot express is a gap (a warning and a caveat, or an error under
//! `--strict`), never a silent drop and never a widening: a rule whose addresses cannot all be
//! expressed (an IP group not in the input, a network rule by FQDN) is left out rather than
//! imported with fewer addresses, which for an empty side would mean any. FQDNs of application
//! rules resolve through DNS at run time, so they enter the firewall's `fqdns` map with no
//! addresses (a placeholder), except `*`, which matches every destination.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

use super::vms::first_free;
use super::{PIP, Res, SUBNET, VNET};
use crate::import::arm::key;
use crate::import::inventory::{
    CollectionKind, CollectionRec, FirewallRec, FwAddresses, FwRuleBody, FwRuleRec, Inventory, Outcome,
};
use crate::import::source::Src;
use crate::import::summary::{Relevance, SkipReason};
use crate::net::{PortRange, parse_prefix};
use crate::scenario::schema::{
    AppProtocolSpec, ApplicationRuleSpec, CaveatKindSpec, CollectionSpec, DnatRuleSpec, FirewallActionSpec,
    FirewallModeSpec, FirewallSpec, NetworkRuleSpec, ProtocolSpec, PublicIpSpec, RuleCollectionGroupSpec,
    VnetSpec,
};

const POLICY: &str = "microsoft.network/firewallpolicies";
const IP_GROUP: &str = "microsoft.network/ipgroups";
const FIREWALL_SUBNET: &str = "AzureFirewallSubnet";
/// How a firewall in a Virtual WAN hub (and the policy and rule collection groups only it uses)
/// changes traffic, for the import summary: it is skipped, and it is one of the resources the
/// summary counts as able to change traffic, like any other type not modelled yet.
const HUB_FIREWALL: &str =
    "an Azure Firewall in a Virtual WAN hub filters the traffic the hub routes through it";

/// What a firewall's rules are converted with: its name (for messages), the address its DNAT
/// rules listen on, and the FQDNs its application rules name.
struct Target {
    name: String,
    /// The public IP's address, when it has one.
    public_address: Option<String>,
    /// The addresses of its other public IPs, which nsgsim does not model.
    other_addresses: Vec<String>,
    fqdns: BTreeMap<String, Vec<String>>,
}

impl Inventory {
    /// The scenario's firewalls; `public_ips` are the scenario's public IPs (a firewall's
    /// addresses are looked up there).
    pub(super) fn firewall_specs(
        &mut self,
        vnets: &[VnetSpec],
        public_ips: &[PublicIpSpec],
    ) -> Res<Vec<FirewallSpec>> {
        let records = std::mem::take(&mut self.firewalls);
        let mut out = Vec::new();
        for f in &records {
            if let Some(spec) = self.firewall_spec(f, vnets, public_ips)? {
                self.imported(f.res);
                out.push(spec);
            }
        }
        self.firewalls = records;
        let unused: Vec<(String, Src, usize)> =
            self.policies
                .iter()
                .filter(|p| {
                    !self.firewalls.iter().any(|f| {
                        f.policy.as_ref().is_some_and(|(r, _)| r.name().eq_ignore_ascii_case(&p.name))
                    })
                })
                .map(|p| (p.name.clone(), p.src.clone(), p.res))
                .collect();
        for (name, src, _) in unused {
            self.diag.warn(&src, format!("firewall policy '{name}' is used by no Azure Firewall in the input: its rules apply to nothing nsgsim models"));
        }
        Ok(out)
    }

    /// Marks firewall `f`, which sits in a Virtual WAN hub, as skipped for a reason that can
    /// change traffic, with its Firewall Policy and that policy's rule collection groups: the
    /// import summary then counts them with the other skipped resources that can change traffic
    /// instead of "left out". A policy a firewall in a VNet also uses is imported by that
    /// firewall whichever comes first ([`Inventory::imported`] overrides a skip; a skip never
    /// overrides an import).
    fn skip_hub_firewall(&mut self, f: &FirewallRec) {
        let reason = Outcome::Skipped(SkipReason::NotModelled(Relevance::Traffic(HUB_FIREWALL)));
        let skip = |outcomes: &mut [Outcome], res: usize| {
            if let Some(o) = outcomes.get_mut(res)
                && *o != Outcome::Imported
            {
                *o = reason;
            }
        };
        skip(&mut self.outcomes, f.res);
        let Some((policy, _)) = &f.policy else { return };
        let policy = policy.name();
        for p in self.policies.iter().filter(|p| p.name.eq_ignore_ascii_case(policy)) {
            skip(&mut self.outcomes, p.res);
        }
        for g in
            self.groups.iter().filter(|g| g.parent.first().is_some_and(|p| p.eq_ignore_ascii_case(policy)))
        {
            skip(&mut self.outcomes, g.res);
        }
    }

    /// One firewall; `None` (after recording the gap) when it cannot be placed.
    fn firewall_spec(
        &mut self,
        f: &FirewallRec,
        vnets: &[VnetSpec],
        public_ips: &[PublicIpSpec],
    ) -> Res<Option<FirewallSpec>> {
        let resource = format!("Microsoft.Network/azureFirewalls/{}", f.name);
        if f.hub.is_some() || f.sku_name.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("AZFW_Hub")) {
            let reason = format!(
                "Azure Firewall '{}' sits in a Virtual WAN hub, which nsgsim does not model; not imported",
                f.name
            );
            self.gap(CaveatKindSpec::UnmodelledResource, resource, &f.src, reason, Vec::new())?;
            self.skip_hub_firewall(f);
            return Ok(None);
        }
        let Some((subnet_ref, subnet_src)) = &f.subnet else {
            let reason = format!(
                "Azure Firewall '{}' names no subnet in its ipConfigurations, so its virtual network is unknown; not imported",
                f.name
            );
            self.gap(CaveatKindSpec::Other, resource, &f.src, reason, Vec::new())?;
            return Ok(None);
        };
        let lost = format!("Azure Firewall '{}' is not imported: its virtual network is not known", f.name);
        let Some(subnet) = self.resolve_or_gap(subnet_ref, subnet_src, SUBNET, &lost, Vec::new())? else {
            return Ok(None);
        };
        if !subnet.eq_ignore_ascii_case(FIREWALL_SUBNET) {
            return Err(self.diag.invalid(
                subnet_src,
                &subnet,
                format!(
                    "Azure Firewall '{}' is in subnet '{subnet}'; valid: the subnet named {FIREWALL_SUBNET}, the only one Azure deploys a firewall into",
                    f.name
                ),
            ));
        }
        let vnet = self.defined.get(&key(VNET, &subnet_ref.names[..1])).cloned().unwrap_or_default();
        let private_ip = match f.private_ip {
            Some(ip) => ip.to_string(),
            None => {
                let prefix = vnets
                    .iter()
                    .find(|v| v.name == vnet)
                    .and_then(|v| v.subnets.iter().find(|s| s.name.eq_ignore_ascii_case(FIREWALL_SUBNET)))
                    .and_then(|s| s.prefix.parse::<IpNet>().ok());
                let Some(ip) = prefix.and_then(|p| first_free(&p, &[])) else {
                    return Err(self.diag.invalid(
                        subnet_src,
                        &subnet,
                        "the subnet has no address for the firewall",
                    ));
                };
                let reason = format!(
                    "Azure Firewall '{}' has no private IP in the input (Azure allocates it at deployment); nsgsim assumes {ip}, the first address of {FIREWALL_SUBNET} after the four Azure reserves, a placeholder",
                    f.name
                );
                self.gap(
                    CaveatKindSpec::Placeholder,
                    format!("private IP of Azure Firewall '{}'", f.name),
                    &f.src,
                    reason,
                    Vec::new(),
                )?;
                ip.to_string()
            }
        };
        let mut addresses = Vec::new();
        let mut public_ip = None;
        for (i, (r, src)) in f.public_ips.iter().enumerate() {
            let lost = format!("Azure Firewall '{}' is imported without this public IP", f.name);
            let Some(name) = self.resolve_or_gap(r, src, PIP, &lost, Vec::new())? else { continue };
            let address = public_ips.iter().find(|p| p.name == name).map(|p| p.address.clone());
            if i == 0 || public_ip.is_none() {
                public_ip = Some(name);
                addresses.insert(0, address);
            } else {
                let reason = format!(
                    "Azure Firewall '{}' has more than one public IP; nsgsim models one ('{}'), so DNAT rules listening on '{name}' and traffic leaving from it are not modelled",
                    f.name,
                    public_ip.as_deref().unwrap_or_default()
                );
                self.gap(
                    CaveatKindSpec::Other,
                    format!("{resource} public IP '{name}'"),
                    src,
                    reason,
                    Vec::new(),
                )?;
                addresses.push(address);
            }
        }
        if let Some(tier) = f.tier.as_deref().filter(|t| t.eq_ignore_ascii_case("premium")) {
            self.diag.warn(
                &f.src,
                format!(
                    "Azure Firewall '{}' is {tier}: TLS inspection, IDPS and URL filtering are not modelled (an IDPS in Deny mode is named as a caveat where the policy sets it)",
                    f.name
                ),
            );
        }
        self.threat_intel(&resource, &f.name, f.threat_intel.as_deref(), &f.src)?;
        let mut target = Target {
            name: f.name.clone(),
            public_address: addresses.first().cloned().flatten(),
            other_addresses: addresses.iter().skip(1).flatten().cloned().collect(),
            fqdns: BTreeMap::new(),
        };
        let mut snat = (f.private_ranges.clone().unwrap_or_default(), false);
        let (mode, collections, groups) = match &f.policy {
            Some((r, src)) => {
                if !f.collections.is_empty() {
                    self.diag.warn(
                        &f.src,
                        format!(
                            "Azure Firewall '{}' has classic rule collections and a Firewall Policy; a firewall with a policy takes its rules from the policy, so the classic ones are not imported",
                            f.name
                        ),
                    );
                }
                let lost = format!(
                    "Azure Firewall '{}' is imported with no rules, so it denies everything it is given",
                    f.name
                );
                let groups = match self.resolve_or_gap(r, src, POLICY, &lost, Vec::new())? {
                    Some(policy) => {
                        snat = self.policy_snat(&policy, f)?;
                        self.policy_groups(&policy, &mut target)?
                    }
                    None => Vec::new(),
                };
                (FirewallModeSpec::Policy, Vec::new(), groups)
            }
            None => {
                let collections = self.collections(&f.collections, &mut target)?;
                (FirewallModeSpec::Classic, collections, Vec::new())
            }
        };
        Ok(Some(FirewallSpec {
            name: f.name.clone(),
            vnet,
            private_ip,
            public_ip,
            mode: Some(mode),
            fqdns: target.fqdns,
            collections,
            rule_collection_groups: groups,
            private_ranges: snat.0,
            auto_learn_private_ranges: snat.1,
        }))
    }

    /// The SNAT private ranges of a firewall managed by Firewall Policy `policy`: the policy's
    /// `snat` (model choice: the policy's settings win over the firewall's own
    /// `Network.SNAT.PrivateRanges`, as its rules do; a firewall naming both is warned about).
    /// Auto-learn is kept and named in every trace through the firewall.
    fn policy_snat(&mut self, policy: &str, f: &FirewallRec) -> Res<(Vec<String>, bool)> {
        let Some(p) = self.policies.iter().find(|p| p.name == policy) else {
            return Ok((f.private_ranges.clone().unwrap_or_default(), false));
        };
        let (ranges, auto_learn) = (p.private_ranges.clone(), p.auto_learn.clone());
        if f.private_ranges.is_some() && ranges.is_some() {
            self.diag.warn(
                &f.src,
                format!(
                    "Azure Firewall '{}' sets Network.SNAT.PrivateRanges and its Firewall Policy '{policy}' sets snat.privateRanges; nsgsim uses the policy's (model choice)",
                    f.name
                ),
            );
        }
        if let Some(at) = &auto_learn {
            let reason = format!(
                "firewall policy '{policy}' learns SNAT private ranges from an Azure Route Server (autoLearnPrivateRanges: Enabled), which nsgsim cannot know offline: it uses the written ranges, so a destination Azure learns as private may keep its source in Azure where nsgsim shows it SNAT-ed to the firewall"
            );
            self.gap(
                CaveatKindSpec::Other,
                format!("Microsoft.Network/firewallPolicies/{policy} snat.autoLearnPrivateRanges"),
                at,
                reason,
                Vec::new(),
            )?;
        }
        Ok((ranges.or_else(|| f.private_ranges.clone()).unwrap_or_default(), auto_learn.is_some()))
    }

    /// A threat intelligence mode of `Deny` drops traffic to and from known malicious addresses,
    /// which nsgsim does not know: a gap.
    fn threat_intel(&mut self, resource: &str, name: &str, mode: Option<&str>, src: &Src) -> Res<()> {
        if mode.is_some_and(|m| m.eq_ignore_ascii_case("deny")) {
            let reason = format!(
                "'{name}' sets threat intelligence to Deny: traffic to and from addresses Microsoft's feed lists as malicious is denied before any rule, and nsgsim does not have the feed"
            );
            self.gap(CaveatKindSpec::Other, format!("{resource} threatIntelMode"), src, reason, Vec::new())?;
        }
        Ok(())
    }

    /// The rule collection groups of Firewall Policy `policy`, by priority.
    fn policy_groups(&mut self, policy: &str, target: &mut Target) -> Res<Vec<RuleCollectionGroupSpec>> {
        if let Some(p) = self.policies.iter().position(|p| p.name == policy) {
            let (res, src, base, threat, idps) = {
                let p = &self.policies[p];
                (p.res, p.src.clone(), p.base.clone(), p.threat_intel.clone(), p.idps.clone())
            };
            self.imported(res);
            let resource = format!("Microsoft.Network/firewallPolicies/{policy}");
            if let Some((b, bsrc)) = base {
                let reason = format!(
                    "firewall policy '{policy}' inherits from base policy '{}': Azure evaluates the base policy's rule collections first; nsgsim does not model policy inheritance, so only '{policy}''s own rule collection groups are imported",
                    b.name()
                );
                self.gap(CaveatKindSpec::Other, format!("{resource} basePolicy"), &bsrc, reason, Vec::new())?;
            }
            self.threat_intel(&resource, policy, threat.as_deref(), &src)?;
            if let Some(mode) = idps.filter(|m| m.eq_ignore_ascii_case("deny")) {
                let reason = format!(
                    "firewall policy '{policy}' runs intrusion detection in {mode} mode: traffic matching its signatures is dropped, which nsgsim does not model"
                );
                self.gap(
                    CaveatKindSpec::Other,
                    format!("{resource} intrusionDetection"),
                    &src,
                    reason,
                    Vec::new(),
                )?;
            }
        }
        let mut children: Vec<usize> = (0..self.groups.len())
            .filter(|&i| self.groups[i].parent.first().is_some_and(|p| p.eq_ignore_ascii_case(policy)))
            .collect();
        children.sort_by_key(|&i| self.groups[i].record.priority);
        let mut out = Vec::new();
        for i in children {
            let group = std::mem::replace(
                &mut self.groups[i].record,
                crate::import::inventory::GroupRec {
                    name: String::new(),
                    priority: 0,
                    collections: Vec::new(),
                },
            );
            self.imported(self.groups[i].res);
            let collections = self.collections(&group.collections, target)?;
            out.push(RuleCollectionGroupSpec {
                name: group.name.clone(),
                priority: group.priority,
                collections,
            });
            self.groups[i].record = group;
        }
        Ok(out)
    }

    /// The collections, by priority, that can be expressed.
    fn collections(&mut self, list: &[CollectionRec], target: &mut Target) -> Res<Vec<CollectionSpec>> {
        let mut sorted: Vec<&CollectionRec> = list.iter().collect();
        sorted.sort_by_key(|c| c.priority);
        let mut out = Vec::new();
        for c in sorted {
            let context = format!("rule collection '{}' of '{}'", c.name, target.name);
            let spec = match c.kind {
                CollectionKind::Dnat => {
                    let mut rules = Vec::new();
                    for r in &c.rules {
                        if let Some(rule) = self.dnat_spec(r, &context, target)? {
                            rules.push(rule);
                        }
                    }
                    CollectionSpec::Dnat { name: c.name.clone(), priority: c.priority, rules }
                }
                CollectionKind::Network(allow) => {
                    let mut rules = Vec::new();
                    for r in &c.rules {
                        if let Some(rule) = self.network_spec(r, &context)? {
                            rules.push(rule);
                        }
                    }
                    CollectionSpec::Network {
                        name: c.name.clone(),
                        priority: c.priority,
                        action: action(allow),
                        rules,
                    }
                }
                CollectionKind::Application(allow) => {
                    let mut rules = Vec::new();
                    for r in &c.rules {
                        if let Some(rule) = self.application_spec(r, &context, target)? {
                            rules.push(rule);
                        }
                    }
                    CollectionSpec::Application {
                        name: c.name.clone(),
                        priority: c.priority,
                        action: action(allow),
                        rules,
                    }
                }
            };
            out.push(spec);
        }
        Ok(out)
    }

    /// A rule left out: the gap, then `None`.
    fn lost_rule<T>(&mut self, r: &FwRuleRec, context: &str, why: &str) -> Res<Option<T>> {
        let reason = format!("firewall rule '{}' of {context} is not imported: {why}", r.name);
        self.gap(CaveatKindSpec::Other, format!("{context}, rule '{}'", r.name), &r.src, reason, Vec::new())?;
        Ok(None)
    }

    fn dnat_spec(&mut self, r: &FwRuleRec, context: &str, target: &Target) -> Res<Option<DnatRuleSpec>> {
        let FwRuleBody::Nat {
            protocols,
            sources,
            destinations,
            destination_ports,
            translated_address,
            translated_fqdn,
            translated_port,
        } = &r.body
        else {
            return Ok(None);
        };
        if let Some(fqdn) = translated_fqdn {
            return self.lost_rule(
                r,
                context,
                &format!("it translates to the FQDN '{fqdn}', which resolves at run time"),
            );
        }
        let translated_address = match translated_address.clone() {
            Some(Ok(address)) => address,
            Some(Err(unknown)) => {
                return self.lost_rule(
                    r,
                    context,
                    &format!(
                        "its translatedAddress is only known at deployment ('{}': {})",
                        crate::import::json::shorten(&unknown.expression),
                        unknown.reason
                    ),
                );
            }
            None => {
                return Err(self.diag.invalid(
                    &r.src,
                    "",
                    format!(
                        "DNAT rule '{}' has no translatedAddress; valid: the private IP it forwards to",
                        r.name
                    ),
                ));
            }
        };
        if translated_address.parse::<IpAddr>().is_err() {
            return Err(self.diag.invalid(
                &r.src.at("translatedAddress"),
                &translated_address,
                "not an IP address (valid: the private IP the rule forwards to, e.g. 10.0.2.4)",
            ));
        }
        let single_port = |me: &Self, text: Option<&String>, field: &str| -> Res<Option<i64>> {
            let Some(text) = text else { return Ok(None) };
            match text.trim().parse::<PortRange>() {
                Ok(p) if p.lo() == p.hi() => Ok(Some(i64::from(p.lo()))),
                Ok(_) => Ok(None),
                Err(e) => Err(me.diag.invalid(&r.src.at(field), text, e.to_string())),
            }
        };
        let (Some(destination_port), [_]) =
            (single_port(self, destination_ports.first(), "destinationPorts")?, destination_ports.as_slice())
        else {
            return self.lost_rule(
                r,
                context,
                &format!(
                    "nsgsim models a DNAT rule on one public port, and it names {}",
                    destination_ports.join(", ")
                ),
            );
        };
        let Some(translated_port) = single_port(self, translated_port.as_ref(), "translatedPort")? else {
            return self.lost_rule(r, context, "its translatedPort is not one port");
        };
        let destination = match destinations.as_slice() {
            [] => None,
            [Ok(d)] if Some(d) == target.public_address.as_ref() => None,
            [Ok(d)] if target.other_addresses.contains(d) => {
                return self.lost_rule(
                    r,
                    context,
                    &format!("it listens on {d}, a public IP of the firewall nsgsim does not model"),
                );
            }
            [Ok(d)] => Some(d.clone()),
            [Err(unknown)] => {
                let reason = format!(
                    "DNAT rule '{}' of {context} listens on an address only known at deployment ('{}'); nsgsim assumes the firewall's public IP",
                    r.name,
                    crate::import::json::shorten(&unknown.expression)
                );
                self.gap(
                    CaveatKindSpec::Placeholder,
                    format!("{context}, rule '{}'", r.name),
                    &r.src,
                    reason,
                    Vec::new(),
                )?;
                None
            }
            _ => return self.lost_rule(r, context, "nsgsim models a DNAT rule on one destination address"),
        };
        let Some(protocols) = self.protocols(protocols, r, true)? else {
            return self.lost_rule(r, context, "it names a protocol a DNAT rule cannot have");
        };
        let Some(sources) = self.side_spec(sources, r, context, "sources")? else { return Ok(None) };
        Ok(Some(DnatRuleSpec {
            name: r.name.clone(),
            protocols,
            sources,
            destination,
            destination_port,
            translated_address,
            translated_port,
        }))
    }

    fn network_spec(&mut self, r: &FwRuleRec, context: &str) -> Res<Option<NetworkRuleSpec>> {
        let FwRuleBody::Network { protocols, sources, destinations, destination_ports } = &r.body else {
            return Ok(None);
        };
        if !destinations.fqdns.is_empty() {
            return self.lost_rule(
                r,
                context,
                &format!(
                    "it matches destinations by FQDN ({}), which the firewall resolves through DNS at run time",
                    destinations.fqdns.join(", ")
                ),
            );
        }
        let Some(protocols) = self.protocols(protocols, r, false)? else {
            return self.lost_rule(r, context, "it names no protocol nsgsim knows");
        };
        for p in destination_ports {
            if let Err(e) = p.trim().parse::<PortRange>() {
                return Err(self.diag.invalid(&r.src.at("destinationPorts"), p, e.to_string()));
            }
        }
        let Some(sources) = self.side_spec(sources, r, context, "sources")? else { return Ok(None) };
        let Some(destinations) = self.side_spec(destinations, r, context, "destinations")? else {
            return Ok(None);
        };
        Ok(Some(NetworkRuleSpec {
            name: r.name.clone(),
            protocols,
            sources,
            destinations,
            destination_ports: destination_ports.iter().map(|p| p.trim().to_string()).collect(),
        }))
    }

    fn application_spec(
        &mut self,
        r: &FwRuleRec,
        context: &str,
        target: &mut Target,
    ) -> Res<Option<ApplicationRuleSpec>> {
        let FwRuleBody::Application { sources, protocols, fqdns, unmodelled } = &r.body else {
            return Ok(None);
        };
        if !unmodelled.is_empty() {
            let what = unmodelled.join(", ");
            if fqdns.is_empty() {
                return self.lost_rule(
                    r,
                    context,
                    &format!("nsgsim does not model what it matches ({what})"),
                );
            }
            let reason = format!(
                "firewall rule '{}' of {context} also matches {what}, which nsgsim does not model; imported with its targetFqdns only",
                r.name
            );
            self.gap(
                CaveatKindSpec::Other,
                format!("{context}, rule '{}'", r.name),
                &r.src,
                reason,
                Vec::new(),
            )?;
        }
        if fqdns.is_empty() {
            return self.lost_rule(r, context, "it names no targetFqdns");
        }
        let mut kept = Vec::new();
        let mut lost = Vec::new();
        for (kind, port) in protocols {
            let (spec, default) = match kind.to_ascii_lowercase().as_str() {
                "http" => (AppProtocolSpec::Http, 80),
                "https" => (AppProtocolSpec::Https, 443),
                "mssql" => (AppProtocolSpec::Mssql, 1433),
                _ => {
                    lost.push(kind.clone());
                    continue;
                }
            };
            match port {
                Some(p) if *p != default => lost.push(format!("{kind}:{p}")),
                _ => kept.push(spec),
            }
        }
        if !lost.is_empty() {
            let why = format!(
                "nsgsim models application rules on HTTP 80, HTTPS 443 and MSSQL 1433, and it names {}",
                lost.join(", ")
            );
            if kept.is_empty() {
                return self.lost_rule(r, context, &why);
            }
            let reason = format!("firewall rule '{}' of {context}: {why}; imported with the others", r.name);
            self.gap(
                CaveatKindSpec::Other,
                format!("{context}, rule '{}'", r.name),
                &r.src,
                reason,
                Vec::new(),
            )?;
        }
        let Some(sources) = self.side_spec(sources, r, context, "sources")? else { return Ok(None) };
        let mut placeholders = Vec::new();
        for fqdn in fqdns {
            if target.fqdns.contains_key(fqdn) {
                continue;
            }
            if fqdn == "*" {
                target.fqdns.insert(fqdn.clone(), vec!["0.0.0.0/0".into()]);
            } else {
                target.fqdns.insert(fqdn.clone(), Vec::new());
                placeholders.push(fqdn.clone());
            }
        }
        if !placeholders.is_empty() {
            let reason = format!(
                "application rule '{}' of {context} names {}, which the firewall resolves through DNS at run time; the scenario's fqdns map lists no addresses for them, so the rule matches nothing until you add them",
                r.name,
                placeholders.join(", ")
            );
            self.gap(
                CaveatKindSpec::Placeholder,
                format!("{context}, rule '{}'", r.name),
                &r.src,
                reason,
                Vec::new(),
            )?;
        }
        Ok(Some(ApplicationRuleSpec { name: r.name.clone(), sources, protocols: kept, fqdns: fqdns.clone() }))
    }

    /// The protocols of a rule; `None` when one cannot be expressed (`dnat`: only TCP and UDP).
    fn protocols(&self, names: &[String], r: &FwRuleRec, dnat: bool) -> Res<Option<Vec<ProtocolSpec>>> {
        let mut out = Vec::new();
        for name in names {
            let p = match name.to_ascii_lowercase().as_str() {
                "tcp" => ProtocolSpec::Tcp,
                "udp" => ProtocolSpec::Udp,
                "icmp" if !dnat => ProtocolSpec::Icmp,
                "any" | "*" if !dnat => ProtocolSpec::Any,
                "icmp" | "any" | "*" => return Ok(None),
                _ => {
                    return Err(self.diag.invalid(
                        &r.src.at("protocols"),
                        name,
                        if dnat { "valid: TCP, UDP" } else { "valid: TCP, UDP, ICMP, Any" },
                    ));
                }
            };
            out.push(p);
        }
        Ok(if out.is_empty() { None } else { Some(out) })
    }

    /// One side of a rule as the scenario writes it: `*`, IPs and CIDRs (ranges and IP groups
    /// expanded), or service tags. `None` (after recording the gap) when an IP group is not in
    /// the input: a rule with fewer addresses would be another rule. A side that names nothing
    /// is any (`*`), with a warning.
    fn side_spec(
        &mut self,
        side: &FwAddresses,
        r: &FwRuleRec,
        context: &str,
        what: &str,
    ) -> Res<Option<Vec<String>>> {
        let mut out = Vec::new();
        for (text, at) in &side.literal {
            out.extend(self.firewall_address(text, at)?);
        }
        for (g, gsrc) in &side.groups {
            let lost = format!(
                "firewall rule '{}' of {context} is not imported (its {what} would be incomplete)",
                r.name
            );
            let Some(name) = self.resolve_or_gap(g, gsrc, IP_GROUP, &lost, Vec::new())? else {
                return Ok(None);
            };
            let Some(i) = self.ip_groups.iter().position(|x| x.name == name) else { return Ok(None) };
            self.imported(self.ip_groups[i].res);
            let addresses = self.ip_groups[i].addresses.clone();
            if addresses.is_empty() {
                return self.lost_rule(r, context, &format!("IP group '{name}' holds no address"));
            }
            for (text, at) in &addresses {
                out.extend(self.firewall_address(text, at)?);
            }
        }
        if out.is_empty() {
            self.diag.warn(
                &r.src,
                format!("firewall rule '{}' of {context} names no {what}; imported as any ('*')", r.name),
            );
            out.push("*".into());
        }
        if out.iter().any(|a| a == "*") {
            out = vec!["*".into()];
        }
        Ok(Some(out))
    }

    /// One address of a firewall rule: `*`, an IP, a CIDR, a range (as CIDRs), or a service tag.
    fn firewall_address(&mut self, text: &str, at: &Src) -> Res<Vec<String>> {
        let text = text.trim();
        if text == "*" {
            return Ok(vec!["*".into()]);
        }
        if parse_prefix(text).is_ok() {
            return Ok(vec![text.to_string()]);
        }
        if let Some((lo, hi)) = text.split_once('-')
            && let (Ok(lo), Ok(hi)) = (lo.trim().parse::<Ipv4Addr>(), hi.trim().parse::<Ipv4Addr>())
        {
            if lo > hi {
                return Err(self.diag.invalid(
                    at,
                    text,
                    "an IP range goes from the lower address to the higher",
                ));
            }
            return Ok(range_to_prefixes(lo, hi).into_iter().map(|n| n.to_string()).collect());
        }
        if crate::nsg::ServiceTag::parse(text).is_some() {
            return Ok(vec![self.service_tag(text, at)]);
        }
        Err(self.diag.invalid(
            at,
            text,
            "valid: '*', an IP, a CIDR prefix, an IP range (10.0.0.1-10.0.0.9) or a service tag",
        ))
    }
}

/// Whether a rule of firewall `f` names `address` as a source or destination.
pub(super) fn names_address(f: &FirewallSpec, address: &str) -> bool {
    let has = |list: &[String]| list.iter().any(|a| a == address);
    f.collections.iter().chain(f.rule_collection_groups.iter().flat_map(|g| g.collections.iter())).any(|c| {
        match c {
            CollectionSpec::Dnat { rules, .. } => rules.iter().any(|r| has(&r.sources)),
            CollectionSpec::Network { rules, .. } => {
                rules.iter().any(|r| has(&r.sources) || has(&r.destinations))
            }
            CollectionSpec::Application { rules, .. } => rules.iter().any(|r| has(&r.sources)),
        }
    })
}

fn action(allow: bool) -> FirewallActionSpec {
    if allow { FirewallActionSpec::Allow } else { FirewallActionSpec::Deny }
}

/// The fewest CIDR prefixes that cover exactly `lo..=hi`.
fn range_to_prefixes(lo: Ipv4Addr, hi: Ipv4Addr) -> Vec<Ipv4Net> {
    let (mut start, end) = (u64::from(u32::from(lo)), u64::from(u32::from(hi)));
    let mut out = Vec::new();
    while start <= end {
        // The largest block aligned at `start` that stays within the range.
        let mut size = if start == 0 { 1u64 << 32 } else { 1u64 << start.trailing_zeros().min(32) };
        while start + size - 1 > end {
            size >>= 1;
        }
        let len = 32 - size.trailing_zeros();
        if let Ok(net) = Ipv4Net::new(Ipv4Addr::from(start as u32), len as u8) {
            out.push(net);
        }
        start += size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_the_fewest_prefixes() {
        let r = |a: &str, b: &str| -> Vec<String> {
            range_to_prefixes(a.parse().expect("ip"), b.parse().expect("ip"))
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(r("10.0.0.0", "10.0.0.255"), ["10.0.0.0/24"]);
        assert_eq!(r("10.0.0.1", "10.0.0.9"), ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/31"]);
        assert_eq!(r("10.0.0.5", "10.0.0.5"), ["10.0.0.5/32"]);
        assert_eq!(r("0.0.0.0", "255.255.255.255"), ["0.0.0.0/0"]);
    }
}

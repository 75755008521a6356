//! Network security groups and their security rules (inline in `securityRules`, or resources of
//! their own), every value checked with the scenario loader's rules where it is.

use super::{Inventory, Res, member, properties};
use crate::import::arm::ResourceRef;
use crate::import::json::{Object, Value};
use crate::import::resource::Kind;
use crate::import::source::Src;
use crate::net::{PortRange, parse_prefix};
use crate::nsg::ServiceTag;
use crate::scenario::schema::{AccessSpec, DirectionSpec, ProtocolSpec, RuleSpec};

/// A network security group.
#[derive(Debug)]
pub struct NsgRec {
    /// Its name.
    pub name: String,
    /// Its rules, inline ones first.
    pub rules: Vec<RuleRec>,
    /// The NICs `az`/REST output says it is associated with (`networkInterfaces`), with where
    /// each reference is: the association is the NIC's, but an NSG exported alone says it too.
    pub nics: Vec<(ResourceRef, Src)>,
    /// The subnets it is associated with (`subnets`), likewise.
    pub subnets: Vec<(ResourceRef, Src)>,
    /// `flushConnection: true`: a rule change re-evaluates its established connections.
    pub flush_connection: bool,
    /// Where its properties are.
    pub src: Src,
    /// The resource's index.
    pub res: usize,
}

/// A security rule.
#[derive(Debug)]
pub struct RuleRec {
    /// The rule as the scenario holds it.
    pub spec: RuleSpec,
    /// The application security groups it names, with where.
    pub asgs: Vec<(ResourceRef, Src)>,
    /// Where the rule is defined (its object).
    pub src: Src,
    /// Where its properties are.
    pub psrc: Src,
    /// Where its priority is.
    pub priority_at: Src,
}

const NSG: &str = "microsoft.network/networksecuritygroups";
const RULE: &str = "microsoft.network/networksecuritygroups/securityrules";

impl Inventory {
    pub(super) fn nsg(
        &mut self,
        res: usize,
        names: &[String],
        props: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<()> {
        self.check_props(
            NSG,
            props,
            &[
                "securityRules",
                "defaultSecurityRules",
                "networkInterfaces",
                "subnets",
                "flushConnection",
                "flowLogs",
            ],
            src,
        );
        if !self.define(Kind::Nsg, names, rsrc, res) {
            return Ok(());
        }
        // "When enabled, flows created from Network Security Group connections will be
        // re-evaluated when rules are updates" (the REST API's NetworkSecurityGroupPropertiesFormat):
        // the scenario's `flush_connection`, which the timeline models.
        let flush_connection = match member(props, "flushConnection", src) {
            (Some(flush), at) => match &flush.value {
                Value::Bool(b) => *b,
                Value::Null => false,
                _ => {
                    return Err(self.unknown(flush, &at).unwrap_or_else(|| {
                        self.diag.invalid(&at, &flush.shown(), "flushConnection: expected true or false")
                    }));
                }
            },
            (None, _) => false,
        };
        let mut rules: Vec<RuleRec> = Vec::new();
        if let Some((list, lsrc)) = self.list(props, "securityRules", src, "rules")? {
            for (i, r) in list.iter().enumerate() {
                let rsrc = lsrc.item(i, r);
                let Some((rprops, rpsrc)) = properties(r, &rsrc) else {
                    return Err(self.diag.invalid(&rsrc, &r.shown(), "expected a rule object"));
                };
                let robj = r.as_object().expect("properties() found an object");
                let name_at = member(robj, "name", &rsrc).1;
                let name = self
                    .string(robj, "name", &rsrc)?
                    .ok_or_else(|| self.diag.invalid(&name_at, "", "a security rule needs a name"))?;
                if let Some(first) = rules.iter().find(|r| r.spec.name.eq_ignore_ascii_case(&name)) {
                    return Err(self.diag.invalid(
                        &name_at,
                        &name,
                        format!(
                            "rule name '{name}' is used twice in the NSG's securityRules (first at {}); names must be unique within an NSG, across both directions (Azure rejects the NSG)",
                            self.diag.place(&first.src)
                        ),
                    ));
                }
                rules.push(self.rule(name, &name_at, rprops, &rpsrc, &rsrc)?);
            }
        }
        let nics = self.references(props, "networkInterfaces", src, "network interfaces")?;
        let subnets = self.references(props, "subnets", src, "subnets")?;
        self.nsgs.push(NsgRec {
            name: names[0].clone(),
            rules,
            nics,
            subnets,
            flush_connection,
            src: src.clone(),
            res,
        });
        Ok(())
    }

    /// One security rule named `name` (at `name_at`): `p` its properties (at `src`), `rsrc` the
    /// rule object. Every value is checked here, where its JSON path is known, with the checks
    /// the scenario loader makes.
    pub(super) fn rule(
        &mut self,
        name: String,
        name_at: &Src,
        p: &Object,
        src: &Src,
        rsrc: &Src,
    ) -> Res<RuleRec> {
        self.check_props(
            RULE,
            p,
            &[
                "protocol",
                "sourcePortRange",
                "sourcePortRanges",
                "destinationPortRange",
                "destinationPortRanges",
                "sourceAddressPrefix",
                "sourceAddressPrefixes",
                "destinationAddressPrefix",
                "destinationAddressPrefixes",
                "sourceApplicationSecurityGroups",
                "destinationApplicationSecurityGroups",
                "access",
                "priority",
                "direction",
                "description",
            ],
            src,
        );
        let required = |me: &Self, field: &str| -> Res<(String, Src)> {
            let at = member(p, field, src).1;
            match me.string(p, field, src)? {
                Some(v) => Ok((v, at)),
                None => Err(me.diag.invalid(&at, "", format!("security rule '{name}' has no '{field}'"))),
            }
        };
        let (priority_text, priority_at) = required(self, "priority")?;
        let priority: u32 = match priority_text.trim().parse() {
            Ok(n) if (100..=4096).contains(&n) => n,
            _ => {
                return Err(self.diag.invalid(
                    &priority_at,
                    &priority_text,
                    format!("security rule '{name}': a rule's priority is an integer 100-4096 (lower is evaluated first)"),
                ));
            }
        };
        let (direction_text, at) = required(self, "direction")?;
        let direction = self.direction_spec(&direction_text, &at)?;
        let (access_text, at) = required(self, "access")?;
        let access = match access_text.to_ascii_lowercase().as_str() {
            "allow" => AccessSpec::Allow,
            "deny" => AccessSpec::Deny,
            _ => return Err(self.diag.invalid(&at, &access_text, "valid: Allow, Deny")),
        };
        let (protocol_text, at) = required(self, "protocol")?;
        let protocol = self.protocol_spec(&protocol_text, &at)?;
        let mut asgs = Vec::new();
        let (source, source_asgs) = self.side(
            &name,
            p,
            src,
            ("sourceAddressPrefix", "sourceAddressPrefixes", "sourceApplicationSecurityGroups"),
            &mut asgs,
        )?;
        let (destination, destination_asgs) = self.side(
            &name,
            p,
            src,
            (
                "destinationAddressPrefix",
                "destinationAddressPrefixes",
                "destinationApplicationSecurityGroups",
            ),
            &mut asgs,
        )?;
        let source_ports = self.ports(p, src, "sourcePortRange", "sourcePortRanges")?;
        let destination_ports = match self.ports(p, src, "destinationPortRange", "destinationPortRanges")? {
            Some(p) => p,
            None => {
                self.diag.warn(
                    src,
                    format!("security rule '{name}' has no destinationPortRange(s); imported as '*'"),
                );
                "*".into()
            }
        };
        let description = self.string(p, "description", src)?.unwrap_or_default();
        // Azure's rules for names and descriptions, as the scenario loader applies them.
        let probe = crate::nsg::SecurityRule {
            name: name.clone(),
            priority: crate::nsg::Priority(100),
            direction: crate::nsg::Direction::Inbound,
            access: crate::nsg::Access::Allow,
            protocol: crate::nsg::RuleProtocol::Any,
            source: crate::nsg::AddressSpec::Any,
            source_ports: crate::nsg::PortSpec::any(),
            destination: crate::nsg::AddressSpec::Any,
            destination_ports: crate::nsg::PortSpec::any(),
            description: description.clone(),
            kind: crate::nsg::RuleKind::Security,
        };
        if let Err(e) = crate::nsg::validate_rule(&probe) {
            let (at, value) = match e {
                crate::nsg::NsgError::DescriptionTooLong { .. } => {
                    (member(p, "description", src).1, description.clone())
                }
                _ => (name_at.clone(), name.clone()),
            };
            return Err(self.diag.invalid(&at, &value, e.to_string()));
        }
        let spec = RuleSpec {
            name,
            priority: priority.into(),
            direction,
            access,
            protocol,
            source: source.filter(|s| s != "*"),
            source_asgs,
            source_ports: source_ports.filter(|s| s != "*"),
            destination: destination.filter(|s| s != "*"),
            destination_asgs,
            destination_ports,
            description,
            origin: None,
        };
        Ok(RuleRec { spec, asgs, src: rsrc.clone(), psrc: src.clone(), priority_at })
    }

    /// One side of a rule: its address (`*`, a service tag, or IPs and CIDRs; `None` when ASGs
    /// stand in for it) and the names of its ASGs, whose references go to `asgs`.
    fn side(
        &mut self,
        rule: &str,
        p: &Object,
        src: &Src,
        (prefix_field, list_field, asg_field): (&str, &str, &str),
        asgs: &mut Vec<(ResourceRef, Src)>,
    ) -> Res<(Option<String>, Vec<String>)> {
        let list = self.strings(p, list_field, src)?;
        let single = self.string(p, prefix_field, src)?;
        let mut names = Vec::new();
        if let Some((items, at)) = self.list(p, asg_field, src, "application security groups")? {
            if items.len() > crate::nsg::MAX_ASGS_PER_FIELD {
                return Err(self.diag.invalid(
                    &at,
                    &items.len().to_string(),
                    format!(
                        "security rule '{rule}' lists {} application security groups; Azure allows at most {}",
                        items.len(),
                        crate::nsg::MAX_ASGS_PER_FIELD
                    ),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                let (r, rsrc) = self.id(item, &at.item(i, item))?;
                names.push(r.name().to_string());
                asgs.push((r, rsrc));
            }
        }
        let address = if !list.is_empty() {
            Some(self.addresses(&list, rule)?)
        } else if !names.is_empty() {
            None
        } else {
            match single {
                Some(text) => {
                    let at = member(p, prefix_field, src).1;
                    let entries: Vec<(String, Src)> =
                        text.split(',').map(|e| (e.trim().to_string(), at.clone())).collect();
                    Some(self.addresses(&entries, rule)?)
                }
                None => Some("*".into()),
            }
        };
        Ok((address, names))
    }

    /// A port field: the list form (each entry checked) joined with `,`, else the single form.
    fn ports(&self, p: &Object, src: &Src, single: &str, list: &str) -> Res<Option<String>> {
        let many = self.strings(p, list, src)?;
        if !many.is_empty() {
            for (entry, at) in &many {
                self.port_range(entry, at)?;
            }
            return Ok(Some(many.into_iter().map(|(e, _)| e).collect::<Vec<_>>().join(",")));
        }
        let one = self.string(p, single, src)?;
        if let Some(text) = &one {
            self.port_range(text, &member(p, single, src).1)?;
        }
        Ok(one)
    }

    /// A port, a range `1000-2000`, `*`, or a comma-separated list of those.
    /// A rule's `direction` (NSG and admin rules alike).
    pub(super) fn direction_spec(&self, text: &str, at: &Src) -> Res<DirectionSpec> {
        match text.to_ascii_lowercase().as_str() {
            "inbound" => Ok(DirectionSpec::Inbound),
            "outbound" => Ok(DirectionSpec::Outbound),
            _ => Err(self.diag.invalid(at, text, "valid: Inbound, Outbound")),
        }
    }

    /// A rule's `protocol` (NSG and admin rules alike; `*` and `Any` are the same).
    pub(super) fn protocol_spec(&self, text: &str, at: &Src) -> Res<ProtocolSpec> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "tcp" => ProtocolSpec::Tcp,
            "udp" => ProtocolSpec::Udp,
            "icmp" => ProtocolSpec::Icmp,
            "esp" => ProtocolSpec::Esp,
            "ah" => ProtocolSpec::Ah,
            "*" | "any" => ProtocolSpec::Any,
            _ => return Err(self.diag.invalid(at, text, "valid: Tcp, Udp, Icmp, Esp, Ah, *")),
        })
    }

    pub(super) fn port_range(&self, text: &str, at: &Src) -> Res<()> {
        for piece in text.split(',').map(str::trim) {
            if piece == "*" {
                continue;
            }
            if let Err(e) = piece.parse::<PortRange>() {
                // The parse error already says what is valid.
                return Err(self.diag.invalid(at, piece, e.to_string()));
            }
        }
        Ok(())
    }

    /// The address field of a rule from its entries (each with where it is): `*`, one service
    /// tag (spelt as nsgsim knows it), or IPs and CIDRs.
    fn addresses(&mut self, entries: &[(String, Src)], rule: &str) -> Res<String> {
        if entries.len() > crate::nsg::MAX_PREFIXES_PER_FIELD {
            let at = &entries[0].1;
            return Err(self.diag.invalid(
                at,
                &entries.len().to_string(),
                format!(
                    "security rule '{rule}' lists {} addresses; Azure allows at most {}",
                    entries.len(),
                    crate::nsg::MAX_PREFIXES_PER_FIELD
                ),
            ));
        }
        if let [(one, at)] = entries {
            if one == "*" || one.eq_ignore_ascii_case("any") {
                return Ok("*".into());
            }
            if parse_prefix(one).is_err() && ServiceTag::parse(one).is_some() {
                return Ok(self.service_tag(one, at));
            }
        }
        let mut out = Vec::new();
        for (entry, at) in entries {
            if entry.is_empty() {
                return Err(self.diag.invalid(
                    at,
                    entry,
                    format!("security rule '{rule}': an empty address entry; valid: an IP address, a CIDR prefix, a service tag or '*'"),
                ));
            }
            match parse_prefix(entry) {
                Ok(_) => out.push(entry.clone()),
                Err(_) if entry == "*" || ServiceTag::parse(entry).is_some() => {
                    return Err(self.diag.invalid(
                        at,
                        entry,
                        format!("security rule '{rule}': '{entry}' cannot be combined with other entries; a rule holds '*', one service tag, or a list of IPs/CIDRs"),
                    ));
                }
                Err(e) => {
                    return Err(self.diag.invalid(
                        at,
                        entry,
                        format!("{} (or '*', or a service tag such as Internet)", e.reason),
                    ));
                }
            }
        }
        Ok(out.join(","))
    }

    /// A service tag as nsgsim spells it. Azure compares tag names without regard to case.
    /// Tags that are neither computed (`VirtualNetwork`, `Internet`, `AzureLoadBalancer`) nor
    /// in nsgsim's sample table become placeholders in the scenario's `service_tags`, with a
    /// warning: their members are Microsoft's current prefixes, which only the user can supply.
    pub(crate) fn service_tag(&mut self, text: &str, at: &Src) -> String {
        let lower = text.to_ascii_lowercase();
        let computed = match lower.as_str() {
            "virtualnetwork" | "virtual_network" => Some("VirtualNetwork"),
            "internet" => Some("Internet"),
            "azureloadbalancer" | "azure_loadbalancer" => Some("AzureLoadBalancer"),
            _ => None,
        };
        if let Some(name) = computed {
            return name.to_string();
        }
        if let Some(name) =
            crate::model::sample_service_tags().into_keys().find(|k| k.eq_ignore_ascii_case(text))
        {
            return name;
        }
        if let Some((first, _)) = self.placeholder_tags.get(&lower) {
            return first.clone();
        }
        self.placeholder_tags.insert(lower, (text.to_string(), at.clone()));
        text.to_string()
    }
}

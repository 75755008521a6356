//! The NSG rules of a scenario file: a `Rule(...)` becomes a [`SecurityRule`], its addresses
//! (prefixes, service tags, ASGs) and ports are read, and an NSG's validation error is pointed at
//! the rule's field that causes it.

use super::*;

impl Loader<'_> {
    pub(super) fn nsg_fault(
        &self,
        e: &crate::nsg::NsgError,
        ni: usize,
        n: &crate::scenario::schema::NsgSpec,
    ) -> Fault {
        use crate::nsg::NsgError as E;
        // Azure compares rule names case-insensitively, and so does `validate_nsg`: look the rule
        // up the same way, or a clash of `a` and `A` would be reported at rule 0.
        let positions_of = |name: &str| {
            n.rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.name.eq_ignore_ascii_case(name))
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        let position_of = |name: &str| positions_of(name).first().copied().unwrap_or(0);
        let ri = match e {
            E::PriorityOutOfRange { rule, .. }
            | E::InvalidName { name: rule, .. }
            | E::DescriptionTooLong { rule, .. }
            | E::TooManyEntries { rule, .. }
            | E::EmptyField { rule, .. } => position_of(rule),
            E::DuplicatePriority { first, second, .. } => {
                // The later of the two rules: when both share a name too, the second writing.
                let after_first = position_of(first);
                positions_of(second).into_iter().find(|&i| i > after_first).unwrap_or(0)
            }
            E::DuplicateName { name } => positions_of(name).get(1).copied().unwrap_or(0),
            _ => return fault(FieldPath::root("nsgs").index(ni).field("rules"), "", e.to_string()),
        };
        let (sub, value) = rule_error_part(e);
        fault(FieldPath::root("nsgs").index(ni).field("rules").index(ri).field(sub), value, e.to_string())
    }

    pub(super) fn rule(&self, t: &Topology, r: &RuleSpec, field: &FieldPath) -> Result<SecurityRule, Fault> {
        let priority = in_range(r.priority, Priority::MIN_USER, Priority::MAX_USER).ok_or_else(|| {
            fault(
                field.field("priority"),
                r.priority.to_string(),
                format!("rule '{}': priority {} is outside 100..=4096", r.name, r.priority),
            )
        })?;
        let source = self.address(
            t,
            r.source.as_deref(),
            &r.source_asgs,
            &field.field("source"),
            &field.field("source_asgs"),
        )?;
        let destination = self.address(
            t,
            r.destination.as_deref(),
            &r.destination_asgs,
            &field.field("destination"),
            &field.field("destination_asgs"),
        )?;
        let source_ports = ports(r.source_ports.as_deref().unwrap_or("*"))
            .map_err(|(v, m)| fault(field.field("source_ports"), v, m))?;
        let destination_ports =
            ports(&r.destination_ports).map_err(|(v, m)| fault(field.field("destination_ports"), v, m))?;
        if let ProtocolSpec::Icmp | ProtocolSpec::Esp | ProtocolSpec::Ah = r.protocol {
            for (name, given) in [("source_ports", &source_ports), ("destination_ports", &destination_ports)]
            {
                if !given.is_any() {
                    self.warn(fault(
                        field.field(name),
                        given.to_string(),
                        format!(
                            "rule '{}': protocol {:?} has no ports, so {name} '{given}' makes the rule match no traffic in nsgsim (a rule of a portless protocol matches only with '*' ports). Azure accepts such a rule, but what it does with the port is undocumented; Microsoft says to use '*' (the portal sets it); valid: '*'",
                            r.name, r.protocol
                        ),
                    ));
                }
            }
        }
        Ok(SecurityRule {
            name: r.name.clone(),
            priority: Priority(priority),
            direction: direction(r.direction),
            access: access(r.access),
            protocol: protocol(r.protocol),
            source,
            source_ports,
            destination,
            destination_ports,
            description: r.description.clone(),
            kind: RuleKind::Security,
        })
    }

    pub(in crate::scenario) fn address(
        &self,
        t: &Topology,
        text: Option<&str>,
        asgs: &[String],
        field: &FieldPath,
        asgs_field: &FieldPath,
    ) -> Result<AddressSpec, Fault> {
        if !asgs.is_empty() {
            if let Some(text) = text {
                return Err(fault(
                    field,
                    text,
                    format!(
                        "'{text}' cannot be combined with application security groups in one field; give either addresses/a tag or ASGs (Azure: *AddressPrefix and *ApplicationSecurityGroups are exclusive)"
                    ),
                ));
            }
            let ids = asgs
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    t.asg_by_name(a).ok_or_else(|| {
                        fault(
                            asgs_field.index(i),
                            a,
                            format!("unknown application security group '{a}'; declare it in asgs"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(AddressSpec::Asgs(ids));
        }
        let text = text.unwrap_or("*").trim();
        if text == "*" || text.eq_ignore_ascii_case("any") {
            return Ok(AddressSpec::Any);
        }
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.len() == 1
            && let Some(tag) = ServiceTag::parse(parts[0])
        {
            // Azure accepts a tag in any case; keep its canonical spelling.
            let Some(canonical) = t.service_tag_name(tag.name()) else {
                return Err(fault(
                    field,
                    text,
                    format!(
                        "unknown service tag '{}'; valid: {}, or define it in service_tags",
                        tag.name(),
                        t.known_tags_hint(tag.name())
                    ),
                ));
            };
            let tag = match tag {
                ServiceTag::Other(_) => ServiceTag::Other(canonical),
                builtin => builtin,
            };
            return Ok(AddressSpec::Tag(tag));
        }
        let mut nets = Vec::new();
        for p in parts {
            if p.is_empty() {
                return Err(fault(
                    field,
                    text,
                    format!("'{text}' has an empty entry; valid: a comma-separated list of IPs or CIDRs"),
                ));
            }
            if p == "*" || p.eq_ignore_ascii_case("any") {
                return Err(fault(
                    field,
                    p,
                    format!(
                        "'{p}' (any address) cannot be combined with other entries; valid: '{p}' alone, one service tag, or a comma-separated list of IPs/CIDRs"
                    ),
                ));
            }
            if ServiceTag::parse(p).is_some() && p.parse::<IpAddr>().is_err() {
                return Err(fault(
                    field,
                    p,
                    format!(
                        "service tag '{p}' cannot be combined with other entries; valid: one service tag alone, '*' alone, or a comma-separated list of IPs/CIDRs"
                    ),
                ));
            }
            nets.push(parse_prefix(p).map_err(|e| fault(field, p, e.to_string()))?);
        }
        Ok(AddressSpec::Prefixes(nets))
    }
}

/// The field of a rule an NSG validation error is about, and the value to point at.
pub(super) fn rule_error_part(e: &crate::nsg::NsgError) -> (&'static str, String) {
    use crate::nsg::NsgError as E;
    match e {
        E::PriorityOutOfRange { priority, .. } | E::DuplicatePriority { priority, .. } => {
            ("priority", priority.to_string())
        }
        E::DuplicateName { name } | E::InvalidName { name, .. } => ("name", name.clone()),
        E::DescriptionTooLong { .. } => ("description", String::new()),
        E::TooManyEntries { field, .. } | E::EmptyField { field, .. } => (field, String::new()),
        _ => ("name", String::new()),
    }
}

/// A rule's direction (NSG and admin rules alike).
pub(in crate::scenario) fn direction(d: DirectionSpec) -> Direction {
    match d {
        DirectionSpec::Inbound => Direction::Inbound,
        DirectionSpec::Outbound => Direction::Outbound,
    }
}

/// A rule's protocol field (NSG and admin rules alike).
pub(in crate::scenario) fn protocol(p: ProtocolSpec) -> RuleProtocol {
    match p {
        ProtocolSpec::Tcp => RuleProtocol::Tcp,
        ProtocolSpec::Udp => RuleProtocol::Udp,
        ProtocolSpec::Icmp => RuleProtocol::Icmp,
        ProtocolSpec::Esp => RuleProtocol::Esp,
        ProtocolSpec::Ah => RuleProtocol::Ah,
        ProtocolSpec::Any => RuleProtocol::Any,
    }
}

pub(super) fn access(a: AccessSpec) -> Access {
    match a {
        AccessSpec::Allow => Access::Allow,
        AccessSpec::Deny => Access::Deny,
    }
}

/// A port field: `*`, a port, a range `a-b`, or a comma-separated list of ports and ranges.
/// Errors carry the offending entry and the message.
pub(in crate::scenario) fn ports(text: &str) -> Result<PortSpec, (String, String)> {
    let entries: Vec<&str> = text.split(',').map(str::trim).collect();
    if entries.len() > 1 {
        if entries.iter().any(|e| e.is_empty()) {
            return Err((
                String::new(),
                format!(
                    "'{text}' has an empty entry; valid: '*', a port, a range like 1000-2000, or a comma-separated list of ports and ranges"
                ),
            ));
        }
        if entries.contains(&"*") {
            return Err((
                "*".into(),
                format!(
                    "'{text}' lists '*' with other entries; Azure accepts '*' only on its own (it already means every port); valid: '*' alone, or a list of ports"
                ),
            ));
        }
    } else if entries[0].is_empty() {
        return Err((
            String::new(),
            format!(
                "'{text}' is empty; valid: '*', a port, a range like 1000-2000, or a comma-separated list"
            ),
        ));
    }
    let ranges = entries
        .iter()
        .map(|p| p.parse::<PortRange>().map_err(|e| (p.to_string(), e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PortSpec(ranges))
}

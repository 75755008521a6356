//! Checks that an NSG is one Azure would accept: priorities, names, limits, conflicts.

use super::{AddressSpec, Direction, Nsg, Priority, SecurityRule};

/// Most rules Azure allows in one NSG.
pub const MAX_RULES_PER_NSG: usize = 1000;
/// Most IP addresses and ranges in one source or destination field.
pub const MAX_PREFIXES_PER_FIELD: usize = 4000;
/// Most application security groups in one source or destination field.
pub const MAX_ASGS_PER_FIELD: usize = 10;
/// Most distinct application security groups all the rules of one NSG can reference.
pub const MAX_ASGS_PER_NSG: usize = 100;
/// Longest rule name.
pub const MAX_NAME_LEN: usize = 80;
/// Longest rule description.
pub const MAX_DESCRIPTION_LEN: usize = 140;

/// Why an NSG or rule is not one Azure would accept. Each variant names the offending values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NsgError {
    /// Priority outside 100–4096.
    #[error("rule '{rule}': priority {priority} is outside 100..=4096")]
    PriorityOutOfRange {
        /// The rule.
        rule: String,
        /// The priority given.
        priority: u16,
    },
    /// Two rules of one direction with the same priority (Azure's `SecurityRuleConflict`).
    #[error(
        "rule '{second}' conflicts with rule '{first}': rules cannot have the same priority ({priority}) and direction ({direction}) (Azure: SecurityRuleConflict); valid: a priority in 100..=4096 that no other {direction} rule of the NSG has"
    )]
    DuplicatePriority {
        /// The earlier rule.
        first: String,
        /// The later rule.
        second: String,
        /// The shared priority.
        priority: u16,
        /// The shared direction.
        direction: Direction,
    },
    /// Two rules with the same name.
    #[error("rule name '{name}' is used twice; names must be unique within the NSG across both directions")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// A name Azure would reject.
    #[error(
        "rule name '{name}' is invalid: {reason} (valid: 1-80 characters of letters, digits, '.', '-', '_', starting with a letter or digit and ending with a letter, digit or '_')"
    )]
    InvalidName {
        /// The name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Description over 140 characters.
    #[error("rule '{rule}': description has {len} characters; at most 140 are allowed")]
    DescriptionTooLong {
        /// The rule.
        rule: String,
        /// Its length.
        len: usize,
    },
    /// Too many prefixes or ASGs in one field.
    #[error("rule '{rule}': {field} lists {count} entries; at most {limit} are allowed ({})", field_limit_source(*limit))]
    TooManyEntries {
        /// The rule.
        rule: String,
        /// `source` or `destination`.
        field: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An empty list of prefixes, ASGs or ports.
    #[error("rule '{rule}': {field} is empty; give '*' or at least one value")]
    EmptyField {
        /// The rule.
        rule: String,
        /// The field.
        field: &'static str,
    },
    /// More distinct ASGs across the NSG's rules than Azure allows.
    #[error(
        "NSG '{nsg}' references {count} application security groups across its rules; Azure allows at most {limit} (Azure limits, Networking limits: \"Application security groups that can be specified within all security rules of a network security group: 100\")"
    )]
    TooManyAsgs {
        /// The NSG.
        nsg: String,
        /// How many distinct ASGs.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A rule whose application security groups are in different VNets (found with the
    /// topology, see `Topology::rule_asgs_vnet_conflict`).
    #[error("{message}")]
    AsgsInDifferentVnets {
        /// The rule.
        rule: String,
        /// The whole explanation.
        message: String,
    },
    /// More than 1,000 rules.
    #[error("NSG '{nsg}' has {count} rules; Azure allows at most 1000")]
    TooManyRules {
        /// The NSG.
        nsg: String,
        /// How many rules.
        count: usize,
    },
}

/// Where a per-field limit comes from, quoted from Azure's limits page.
fn field_limit_source(limit: usize) -> &'static str {
    if limit == MAX_ASGS_PER_FIELD {
        "Azure limits, Networking limits: \"Application security groups referenced as source/destination per NSG rule: 10\""
    } else {
        "Azure limits, Networking limits: \"IP addresses and ranges specified for source or destination in a security group: 4,000\""
    }
}

/// Checks one rule on its own.
///
/// # Errors
/// The first problem found.
pub fn validate_rule(rule: &SecurityRule) -> Result<(), NsgError> {
    validate_name(&rule.name)?;
    if !Priority(rule.priority.0).is_user() {
        return Err(NsgError::PriorityOutOfRange { rule: rule.name.clone(), priority: rule.priority.0 });
    }
    if rule.description.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(NsgError::DescriptionTooLong {
            rule: rule.name.clone(),
            len: rule.description.chars().count(),
        });
    }
    for (field, spec) in [("source", &rule.source), ("destination", &rule.destination)] {
        let (count, limit) = match spec {
            AddressSpec::Prefixes(p) => (p.len(), MAX_PREFIXES_PER_FIELD),
            AddressSpec::Asgs(a) => (a.len(), MAX_ASGS_PER_FIELD),
            AddressSpec::Any | AddressSpec::Tag(_) => continue,
        };
        if count == 0 {
            return Err(NsgError::EmptyField { rule: rule.name.clone(), field });
        }
        if count > limit {
            return Err(NsgError::TooManyEntries { rule: rule.name.clone(), field, count, limit });
        }
    }
    for (field, ports) in
        [("source_ports", &rule.source_ports), ("destination_ports", &rule.destination_ports)]
    {
        if ports.0.is_empty() {
            return Err(NsgError::EmptyField { rule: rule.name.clone(), field });
        }
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<(), NsgError> {
    let invalid = |reason| Err(NsgError::InvalidName { name: name.to_string(), reason });
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.chars().count() > MAX_NAME_LEN {
        return invalid("it is longer than 80 characters");
    }
    if !name.chars().all(|c| is_word(c) || c == '.' || c == '-') {
        return invalid("it contains a character other than letters, digits, '.', '-', '_'");
    }
    if !name.chars().next().is_some_and(is_word) {
        return invalid("it does not start with a letter, digit or '_'");
    }
    if !name.chars().last().is_some_and(is_word) {
        return invalid("it does not end with a letter, digit or '_'");
    }
    Ok(())
}

/// Checks a whole NSG: every rule, unique names, unique priority per direction, the rule limit.
///
/// # Errors
/// The first problem found, in rule order.
pub fn validate_nsg(nsg: &Nsg) -> Result<(), NsgError> {
    if nsg.rules.len() > MAX_RULES_PER_NSG {
        return Err(NsgError::TooManyRules { nsg: nsg.name.clone(), count: nsg.rules.len() });
    }
    let mut asgs: Vec<crate::ids::AsgId> = Vec::new();
    for rule in &nsg.rules {
        for spec in [&rule.source, &rule.destination] {
            if let AddressSpec::Asgs(ids) = spec {
                asgs.extend(ids.iter().copied());
            }
        }
    }
    asgs.sort_unstable();
    asgs.dedup();
    if asgs.len() > MAX_ASGS_PER_NSG {
        return Err(NsgError::TooManyAsgs {
            nsg: nsg.name.clone(),
            count: asgs.len(),
            limit: MAX_ASGS_PER_NSG,
        });
    }
    for (i, rule) in nsg.rules.iter().enumerate() {
        validate_rule(rule)?;
        for earlier in &nsg.rules[..i] {
            if earlier.name.eq_ignore_ascii_case(&rule.name) {
                return Err(NsgError::DuplicateName { name: rule.name.clone() });
            }
            if earlier.direction == rule.direction && earlier.priority == rule.priority {
                return Err(NsgError::DuplicatePriority {
                    first: earlier.name.clone(),
                    second: rule.name.clone(),
                    priority: rule.priority.0,
                    direction: rule.direction,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, priority: u16, direction: Direction) -> SecurityRule {
        SecurityRule::ssh_for_tests(name, priority, direction)
    }

    /// Audit (fidelity, F4): the per-field and per-NSG ASG limits of Azure's limits page, each
    /// refused with the limit and where it comes from.
    #[test]
    fn asg_limits_per_field_and_per_nsg_name_their_source() {
        use crate::ids::AsgId;
        let mut eleven = rule("many", 100, Direction::Inbound);
        eleven.destination = AddressSpec::Asgs((0..11).map(AsgId).collect());
        let e = validate_rule(&eleven).expect_err("11 ASGs in one field");
        assert_eq!(
            e,
            NsgError::TooManyEntries { rule: "many".into(), field: "destination", count: 11, limit: 10 }
        );
        // The words, once: the limit and where it comes from.
        assert!(
            e.to_string().contains("at most 10 are allowed")
                && e.to_string().contains(
                    "Application security groups referenced as source/destination per NSG rule: 10"
                ),
            "{e}"
        );
        let mut ten = rule("ten", 100, Direction::Inbound);
        ten.destination = AddressSpec::Asgs((0..10).map(AsgId).collect());
        assert!(validate_rule(&ten).is_ok());
        // 11 rules of 10 distinct ASGs each (110 in all) exceed the 100 per NSG; 10 rules (100) do not.
        let rules: Vec<SecurityRule> = (0..11u32)
            .map(|i| {
                let mut r = rule(&format!("r{i}"), 100 + i as u16, Direction::Inbound);
                r.destination = AddressSpec::Asgs((i * 10..i * 10 + 10).map(AsgId).collect());
                r
            })
            .collect();
        let nsg = Nsg { name: "n".into(), rules: rules[..10].to_vec() };
        assert!(validate_nsg(&nsg).is_ok());
        let nsg = Nsg { name: "n".into(), rules };
        let e = validate_nsg(&nsg).expect_err("110 ASGs in one NSG");
        assert_eq!(e, NsgError::TooManyAsgs { nsg: "n".into(), count: 110, limit: 100 });
        assert!(e.to_string().contains("within all security rules of a network security group: 100"), "{e}");
        // The prefix limit names its source too.
        let mut prefixes = rule("wide", 100, Direction::Inbound);
        prefixes.source = AddressSpec::Prefixes(vec!["10.0.0.0/8".parse().expect("net"); 4001]);
        let e = validate_rule(&prefixes).expect_err("4001 prefixes");
        assert_eq!(
            e,
            NsgError::TooManyEntries { rule: "wide".into(), field: "source", count: 4001, limit: 4000 }
        );
        assert!(e.to_string().contains("at most 4000") && e.to_string().contains("4,000"), "{e}");
    }

    #[test]
    fn priority_bounds() {
        assert!(validate_rule(&rule("a", 100, Direction::Inbound)).is_ok());
        assert!(validate_rule(&rule("a", 4096, Direction::Inbound)).is_ok());
        assert!(matches!(
            validate_rule(&rule("a", 99, Direction::Inbound)),
            Err(NsgError::PriorityOutOfRange { priority: 99, .. })
        ));
        assert!(validate_rule(&rule("a", 4097, Direction::Inbound)).is_err());
    }

    #[test]
    fn same_priority_allowed_once_per_direction() {
        let ok = Nsg {
            name: "n".into(),
            rules: vec![rule("a", 100, Direction::Inbound), rule("b", 100, Direction::Outbound)],
        };
        assert!(validate_nsg(&ok).is_ok());
        let clash = Nsg {
            name: "n".into(),
            rules: vec![rule("a", 100, Direction::Inbound), rule("b", 100, Direction::Inbound)],
        };
        let err = validate_nsg(&clash).expect_err("conflict");
        assert_eq!(
            err,
            NsgError::DuplicatePriority {
                first: "a".into(),
                second: "b".into(),
                priority: 100,
                direction: Direction::Inbound
            }
        );
        assert!(err.to_string().contains("SecurityRuleConflict"), "{err}");
        let dup = Nsg {
            name: "n".into(),
            rules: vec![rule("a", 100, Direction::Inbound), rule("a", 200, Direction::Outbound)],
        };
        assert!(matches!(validate_nsg(&dup), Err(NsgError::DuplicateName { .. })));
    }

    #[test]
    fn names_follow_azure_format() {
        assert!(validate_name("Allow-SSH_1.a").is_ok());
        assert!(validate_name("-bad").is_err());
        assert!(validate_name("bad-").is_err());
        assert!(validate_name("ends_").is_ok());
        assert!(validate_name("has space").is_err());
        assert!(validate_name(&"x".repeat(81)).is_err());
    }
}

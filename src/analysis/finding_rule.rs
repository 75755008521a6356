//! The rules a lint finding names, as data.
//!
//! Findings used to list their rules as the text lint prints (`securityRules/x`,
//! `nsg-sub securityRules/x`, `cfg/collection/rule (Deny)`), and SARIF cut that text back apart
//! to find where each rule is written (issue 23). A [`FindingRule`] keeps the facts (which NSG,
//! which rule, which admin rule and its action); its `Display` prints the text every output
//! (text, JSON, SARIF) shows, and [`FindingRule::nsg_rule`] answers what SARIF and `defined at`
//! used to read off the words.

use std::fmt;

use crate::model::{AdminAction, AppliedAdminRule};
use crate::nsg::RuleRef;

/// One rule a finding names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingRule {
    /// An NSG's rule (a user or default rule): of the finding's own NSG when `nsg` is `None`,
    /// else of the NSG named (a finding about two NSGs names each rule's NSG).
    Nsg {
        /// The rule's NSG when the finding names it beside the rule.
        nsg: Option<String>,
        /// The rule.
        rule: RuleRef,
    },
    /// A Virtual Network Manager security admin rule, by its configuration, collection and name.
    Admin {
        /// The security admin configuration.
        configuration: String,
        /// The rule collection.
        collection: String,
        /// The rule's name.
        rule: String,
        /// The rule's action, when the finding names it (a Deny or AlwaysAllow that decides
        /// first).
        action: Option<AdminAction>,
    },
    /// No rule: none of the flows an NSG must allow is there for a rule to block (a Bastion
    /// requirement whose service tag has no addresses), so no rule allows them.
    NoAllowingRule,
}

impl FindingRule {
    /// A rule of the finding's own NSG.
    pub fn own(rule: RuleRef) -> Self {
        FindingRule::Nsg { nsg: None, rule }
    }

    /// An admin rule as applied, with its action when `with_action`.
    pub fn admin(a: &AppliedAdminRule<'_>, with_action: bool) -> Self {
        FindingRule::Admin {
            configuration: a.configuration.name.clone(),
            collection: a.collection.name.clone(),
            rule: a.rule.name.clone(),
            action: with_action.then_some(a.rule.action),
        }
    }

    /// The NSG rule this names (the NSG when it is named, else `None` for the finding's own, and
    /// the rule); `None` for an admin rule or no rule.
    pub fn nsg_rule(&self) -> Option<(Option<&str>, &RuleRef)> {
        match self {
            FindingRule::Nsg { nsg, rule } => Some((nsg.as_deref(), rule)),
            FindingRule::Admin { .. } | FindingRule::NoAllowingRule => None,
        }
    }
}

impl fmt::Display for FindingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindingRule::Nsg { nsg: None, rule } => write!(f, "{rule}"),
            FindingRule::Nsg { nsg: Some(nsg), rule } => write!(f, "{nsg} {rule}"),
            FindingRule::Admin { configuration, collection, rule, action } => {
                write!(f, "{configuration}/{collection}/{rule}")?;
                match action {
                    Some(action) => write!(f, " ({action})"),
                    None => Ok(()),
                }
            }
            FindingRule::NoAllowingRule => f.write_str("no allowing rule"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_what_lint_shows() {
        let ssh = RuleRef::Security { name: "ssh".into() };
        assert_eq!(FindingRule::own(ssh.clone()).to_string(), "securityRules/ssh");
        let other = FindingRule::Nsg { nsg: Some("nsg-sub".into()), rule: ssh.clone() };
        assert_eq!(other.to_string(), "nsg-sub securityRules/ssh");
        let admin = FindingRule::Admin {
            configuration: "cfg".into(),
            collection: "c".into(),
            rule: "deny-rdp".into(),
            action: Some(AdminAction::Deny),
        };
        assert_eq!(admin.to_string(), "cfg/c/deny-rdp (Deny)");
        let bare = FindingRule::Admin {
            configuration: "cfg".into(),
            collection: "c".into(),
            rule: "deny-rdp".into(),
            action: None,
        };
        assert_eq!(bare.to_string(), "cfg/c/deny-rdp");
        assert_eq!(FindingRule::NoAllowingRule.to_string(), "no allowing rule");
    }

    #[test]
    fn only_nsg_rules_name_an_nsg_rule() {
        let ssh = RuleRef::Security { name: "ssh".into() };
        assert_eq!(FindingRule::own(ssh.clone()).nsg_rule(), Some((None, &ssh)));
        let other = FindingRule::Nsg { nsg: Some("n".into()), rule: ssh.clone() };
        assert_eq!(other.nsg_rule(), Some((Some("n"), &ssh)));
        assert_eq!(FindingRule::NoAllowingRule.nsg_rule(), None);
    }
}

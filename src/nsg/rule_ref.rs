//! Which rule decided, as data: an NSG's user or default rule, a Virtual Network Manager security
//! admin rule, an Azure Firewall rule, a load balancer's rule, or no NSG at all.
//!
//! The engine used to hand these around as the text Azure prints (`securityRules/NAME`), and the
//! code that needed the name back (where a rule is written, whether it is a user rule, whether an
//! expectation names it) cut the text apart again (issue 23). A [`RuleRef`] keeps the facts; its
//! `Display` prints Azure's spelling, which is what every output (text, JSON, SARIF) shows, and
//! its query methods answer what callers used to read off the words. It lives in `nsg`, the lowest
//! layer that names rules, so that `path` (hops) and `analysis` (deciders) share it.

use std::fmt;

use crate::name::same_name;

/// A reference to the rule that decided at one step of a flow's path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleRef {
    /// An NSG's user rule: `securityRules/NAME`.
    Security {
        /// The rule's name.
        name: String,
    },
    /// One of an NSG's default rules: `defaultSecurityRules/NAME`.
    Default {
        /// The rule's name (`DenyAllInBound`, …).
        name: String,
    },
    /// A Virtual Network Manager security admin rule: `ruleCollections/COLLECTION/rules/RULE`.
    Admin {
        /// The rule collection's name.
        collection: String,
        /// The rule's name.
        rule: String,
    },
    /// An Azure Firewall rule: `GROUP/COLLECTION/RULE`.
    Firewall {
        /// The rule collection group (or, for classic rules, the kind of collection).
        group: String,
        /// The rule collection.
        collection: String,
        /// The rule's name.
        rule: String,
    },
    /// A load balancer's load-balancing or outbound rule, by its name.
    LoadBalancer {
        /// The rule's name.
        name: String,
    },
    /// No NSG at a level, which lets everything through: `(no NSG)`.
    NoNsg,
}

impl RuleRef {
    /// The name of an NSG user rule (`securityRules/NAME`): where a scenario or an import writes
    /// it. `None` for every other kind of rule.
    pub fn user_rule_name(&self) -> Option<&str> {
        match self {
            RuleRef::Security { name } => Some(name),
            _ => None,
        }
    }

    /// Whether this is an NSG user rule (not a default rule, not another kind of rule).
    pub fn is_user_rule(&self) -> bool {
        matches!(self, RuleRef::Security { .. })
    }

    /// Whether this is one of an NSG's default rules.
    pub fn is_default(&self) -> bool {
        matches!(self, RuleRef::Default { .. })
    }

    /// The rule's own name, without its kind or collection: `NAME` of `securityRules/NAME`, `RULE`
    /// of `ruleCollections/C/rules/RULE` or of a firewall's `GROUP/COLLECTION/RULE`.
    pub fn bare_name(&self) -> &str {
        match self {
            RuleRef::Security { name } | RuleRef::Default { name } | RuleRef::LoadBalancer { name } => name,
            RuleRef::Admin { rule, .. } | RuleRef::Firewall { rule, .. } => rule,
            RuleRef::NoNsg => "(no NSG)",
        }
    }

    /// Whether a rule written by a user (in a scenario's expectation or a test case) names this
    /// rule: Azure's whole spelling (`securityRules/x`, `defaultSecurityRules/x`,
    /// `ruleCollections/c/rules/x`) or the bare name (`x`), without regard to case, since Azure's
    /// names are case-insensitive and Microsoft's articles write `DenyAllInbound` for the API's
    /// `DenyAllInBound`.
    pub fn answers_to(&self, written: &str) -> bool {
        same_name(self.bare_name(), written) || same_name(&self.to_string(), written)
    }
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleRef::Security { name } => write!(f, "securityRules/{name}"),
            RuleRef::Default { name } => write!(f, "defaultSecurityRules/{name}"),
            RuleRef::Admin { collection, rule } => write!(f, "ruleCollections/{collection}/rules/{rule}"),
            RuleRef::Firewall { group, collection, rule } => write!(f, "{group}/{collection}/{rule}"),
            RuleRef::LoadBalancer { name } => f.write_str(name),
            RuleRef::NoNsg => f.write_str("(no NSG)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(name: &str) -> RuleRef {
        RuleRef::Security { name: name.into() }
    }

    #[test]
    fn prints_azures_spelling() {
        assert_eq!(security("allow-ssh").to_string(), "securityRules/allow-ssh");
        assert_eq!(
            RuleRef::Default { name: "DenyAllInBound".into() }.to_string(),
            "defaultSecurityRules/DenyAllInBound"
        );
        let admin = RuleRef::Admin { collection: "high-risk".into(), rule: "deny-rdp".into() };
        assert_eq!(admin.to_string(), "ruleCollections/high-risk/rules/deny-rdp");
        let fw = RuleRef::Firewall { group: "classic".into(), collection: "net".into(), rule: "all".into() };
        assert_eq!(fw.to_string(), "classic/net/all");
        assert_eq!(RuleRef::LoadBalancer { name: "web".into() }.to_string(), "web");
        assert_eq!(RuleRef::NoNsg.to_string(), "(no NSG)");
    }

    #[test]
    fn queries_answer_without_reading_the_text() {
        assert_eq!(security("x").user_rule_name(), Some("x"));
        assert!(security("x").is_user_rule() && !security("x").is_default());
        let default = RuleRef::Default { name: "x".into() };
        assert_eq!(default.user_rule_name(), None);
        assert!(default.is_default() && !default.is_user_rule());
        assert_eq!(RuleRef::NoNsg.user_rule_name(), None);
        assert_eq!(RuleRef::Admin { collection: "c".into(), rule: "r".into() }.bare_name(), "r");
    }

    #[test]
    fn a_written_rule_names_it_whole_or_bare_in_any_case() {
        let ssh = security("allow-ssh");
        assert!(ssh.answers_to("securityRules/allow-ssh"));
        assert!(ssh.answers_to("allow-ssh"));
        assert!(ssh.answers_to("SecurityRules/Allow-SSH"));
        assert!(!ssh.answers_to("defaultSecurityRules/allow-ssh"));
        assert!(!ssh.answers_to("allow"));
        let deny = RuleRef::Default { name: "DenyAllInBound".into() };
        assert!(deny.answers_to("DenyAllInbound"));
        assert!(deny.answers_to("defaultSecurityRules/DenyAllInBound"));
        assert!(!deny.answers_to("securityRules/DenyAllInBound"));
        let admin = RuleRef::Admin { collection: "c".into(), rule: "deny-rdp".into() };
        assert!(admin.answers_to("deny-rdp") && admin.answers_to("ruleCollections/c/rules/deny-rdp"));
    }
}

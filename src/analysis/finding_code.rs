//! The stable code of each lint check, as a type: a finding says which check made it by a
//! variant, and [`FindingCode::as_str`] gives the code that text, JSON and SARIF print
//! (`NSG001-shadowed-rule`). Code that branches on a check (SARIF's rule catalogue, tests)
//! matches the variant, never the text; the text is a promise to users' scripts and CI gates and
//! never changes.

use std::cmp::Ordering;
use std::fmt;

/// Which check made a finding. The order findings are sorted in is the codes' text order
/// ([`Ord`] compares [`FindingCode::as_str`]), as it was when codes were text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingCode {
    /// `NSG001-shadowed-rule`: a rule no flow ever reaches.
    ShadowedRule,
    /// `NSG002-redundant-rule`: removing the rule changes no verdict.
    RedundantRule,
    /// `NSG003-level-conflict`: one level allows by a user rule what the other denies.
    LevelConflict,
    /// `NSG004-management-port-open`: a management port allowed from `*` or the Internet.
    ManagementPortOpen,
    /// `NSG005-unassociated-nsg`: an NSG on no subnet or NIC.
    UnassociatedNsg,
    /// `NSG006-internet-facing-vm-without-nsg`: a VM with a public IP and no NSG.
    InternetFacingVmWithoutNsg,
    /// `NSG007-rule-does-nothing`: a rule that deploys but no traffic can match.
    RuleDoesNothing,
    /// `NSG008-multi-tenant-tag-management`: a management port behind a multi-tenant tag.
    MultiTenantTagManagement,
    /// `NSG009-tag-not-marked-for-nsg`: a tag whose `networkFeatures` lack `NSG`.
    TagNotMarkedForNsg,
    /// `NSG010-tag-nsg-use-unknown`: a tag with no `networkFeatures` list.
    TagNsgUseUnknown,
    /// `NSG011-management-exposure-width`: a management port the Internet reaches wide.
    ManagementExposureWidth,
    /// `JIT001-rule-defeats-jit`: an allow before a JIT deny rule.
    RuleDefeatsJit,
    /// `JIT002-any-source`: a JIT policy that lets requests name any source.
    JitAnySource,
    /// `JIT003-active-grant`: a management port open only by an active JIT grant.
    ActiveGrant,
    /// `JIT004-port-5989`: a JIT policy that protects 5989 rather than 5986.
    JitPort5989,
    /// `JIT005-apply-removes-jit-deny`: a plan's apply removes JIT's deny rule.
    ApplyRemovesJitDeny,
    /// `JIT006-planned-rule-precedes-jit`: a planned allow before JIT's deny rule.
    PlannedRulePrecedesJit,
    /// `JIT007-apply-removes-active-grant`: a plan's apply removes an active grant's rule.
    ApplyRemovesActiveGrant,
    /// `BAS001-bastion-missing-rule`: the Bastion subnet's NSG lacks a required rule.
    BastionMissingRule,
    /// `LB001-standard-rule-closed`: a Standard load balancer rule no NSG opens.
    StandardRuleClosed,
    /// `LB002-basic-management-port`: a Basic load balancer publishes a management port.
    BasicManagementPort,
    /// `LB003-nat-rule-management-port`: an inbound NAT rule publishes SSH or RDP.
    NatRuleManagementPort,
    /// `AVNM001-nsg-allow-overridden`: an admin rule overrides an NSG's allow.
    NsgAllowOverridden,
    /// `AVNM002-always-allow-management-port`: an admin rule always allows a management port.
    AlwaysAllowManagementPort,
    /// `AVNM003-admin-deny-blocks-jit`: an admin deny blocks what JIT grants.
    AdminDenyBlocksJit,
}

impl FindingCode {
    /// Every code, in the order of the table in `docs/engineers.md`.
    pub const ALL: [FindingCode; 25] = [
        FindingCode::ShadowedRule,
        FindingCode::RedundantRule,
        FindingCode::LevelConflict,
        FindingCode::ManagementPortOpen,
        FindingCode::UnassociatedNsg,
        FindingCode::InternetFacingVmWithoutNsg,
        FindingCode::RuleDoesNothing,
        FindingCode::MultiTenantTagManagement,
        FindingCode::TagNotMarkedForNsg,
        FindingCode::TagNsgUseUnknown,
        FindingCode::ManagementExposureWidth,
        FindingCode::RuleDefeatsJit,
        FindingCode::JitAnySource,
        FindingCode::ActiveGrant,
        FindingCode::JitPort5989,
        FindingCode::ApplyRemovesJitDeny,
        FindingCode::PlannedRulePrecedesJit,
        FindingCode::ApplyRemovesActiveGrant,
        FindingCode::BastionMissingRule,
        FindingCode::StandardRuleClosed,
        FindingCode::BasicManagementPort,
        FindingCode::NatRuleManagementPort,
        FindingCode::NsgAllowOverridden,
        FindingCode::AlwaysAllowManagementPort,
        FindingCode::AdminDenyBlocksJit,
    ];

    /// The stable code users see and scripts match (`NSG001-shadowed-rule`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FindingCode::ShadowedRule => "NSG001-shadowed-rule",
            FindingCode::RedundantRule => "NSG002-redundant-rule",
            FindingCode::LevelConflict => "NSG003-level-conflict",
            FindingCode::ManagementPortOpen => "NSG004-management-port-open",
            FindingCode::UnassociatedNsg => "NSG005-unassociated-nsg",
            FindingCode::InternetFacingVmWithoutNsg => "NSG006-internet-facing-vm-without-nsg",
            FindingCode::RuleDoesNothing => "NSG007-rule-does-nothing",
            FindingCode::MultiTenantTagManagement => "NSG008-multi-tenant-tag-management",
            FindingCode::TagNotMarkedForNsg => "NSG009-tag-not-marked-for-nsg",
            FindingCode::TagNsgUseUnknown => "NSG010-tag-nsg-use-unknown",
            FindingCode::ManagementExposureWidth => "NSG011-management-exposure-width",
            FindingCode::RuleDefeatsJit => "JIT001-rule-defeats-jit",
            FindingCode::JitAnySource => "JIT002-any-source",
            FindingCode::ActiveGrant => "JIT003-active-grant",
            FindingCode::JitPort5989 => "JIT004-port-5989",
            FindingCode::ApplyRemovesJitDeny => "JIT005-apply-removes-jit-deny",
            FindingCode::PlannedRulePrecedesJit => "JIT006-planned-rule-precedes-jit",
            FindingCode::ApplyRemovesActiveGrant => "JIT007-apply-removes-active-grant",
            FindingCode::BastionMissingRule => "BAS001-bastion-missing-rule",
            FindingCode::StandardRuleClosed => "LB001-standard-rule-closed",
            FindingCode::BasicManagementPort => "LB002-basic-management-port",
            FindingCode::NatRuleManagementPort => "LB003-nat-rule-management-port",
            FindingCode::NsgAllowOverridden => "AVNM001-nsg-allow-overridden",
            FindingCode::AlwaysAllowManagementPort => "AVNM002-always-allow-management-port",
            FindingCode::AdminDenyBlocksJit => "AVNM003-admin-deny-blocks-jit",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Ord for FindingCode {
    fn cmp(&self, other: &FindingCode) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for FindingCode {
    fn partial_cmp(&self, other: &FindingCode) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_keep_their_text() {
        let texts: std::collections::BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(texts.len(), FindingCode::ALL.len(), "one text per code");
        assert_eq!(FindingCode::ShadowedRule.to_string(), "NSG001-shadowed-rule");
        assert_eq!(FindingCode::AdminDenyBlocksJit.as_str(), "AVNM003-admin-deny-blocks-jit");
    }

    #[test]
    fn codes_sort_as_their_text() {
        let mut codes = FindingCode::ALL.to_vec();
        codes.sort();
        let texts: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        let mut sorted = texts.clone();
        sorted.sort_unstable();
        assert_eq!(texts, sorted);
        assert!(FindingCode::NsgAllowOverridden < FindingCode::ShadowedRule, "AVNM… before NSG…");
    }
}

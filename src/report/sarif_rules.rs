//! What nsgsim's lint codes mean in SARIF: each code's short and full description and
//! Microsoft's page, and a lint run as a [`SarifLog`] whose results are located at the rules,
//! NSGs and VMs they name (where an import read them first, the scenario line next).
//!
//! Codes this catalogue does not describe yet (`JIT005`–`JIT007`, `AVNM001`–`AVNM003`) still
//! get a rule, described by their code: a new finding is never dropped for want of a
//! description.

use std::path::Path;

use crate::analysis::lint::{Finding, FindingCode, FindingRule, Severity};
use crate::model::{Caveat, CaveatSource};
use crate::scenario::{Part, Place, Places};

use super::caveat::caveat_detail;
use super::sarif::{SarifLevel, SarifLog, SarifResult, SarifRule};

const NSG_OVERVIEW: &str =
    "https://learn.microsoft.com/en-us/azure/virtual-network/network-security-groups-overview";
const NSG_HOW: &str =
    "https://learn.microsoft.com/en-us/azure/virtual-network/network-security-group-how-it-works";
const JIT_OVERVIEW: &str =
    "https://learn.microsoft.com/en-us/azure/defender-for-cloud/just-in-time-access-overview";
const BASTION_NSG: &str = "https://learn.microsoft.com/en-us/azure/bastion/bastion-nsg";
const PUBLIC_IP: &str =
    "https://learn.microsoft.com/en-us/azure/virtual-network/ip-services/public-ip-addresses";
const LB_OVERVIEW: &str = "https://learn.microsoft.com/en-us/azure/load-balancer/load-balancer-overview";
const SERVICE_TAGS: &str = "https://learn.microsoft.com/en-us/azure/virtual-network/service-tags-overview";

/// The id of the rule that carries a scenario's caveats into SARIF.
pub const CAVEAT_RULE: &str = "CAV001-not-modelled";

/// The SARIF rule of a lint check at `severity`.
pub fn lint_rule(code: FindingCode, severity: Severity) -> SarifRule {
    let id = code.as_str();
    let (short, full) = match description(code) {
        Some((short, full, _)) => (short.to_string(), full.to_string()),
        None => (
            format!("nsgsim finding {id}"),
            format!("nsgsim finding {id}; see docs/engineers.md for the code."),
        ),
    };
    let help = description(code).and_then(|(_, _, help)| help);
    SarifRule { id: id.to_string(), short, full, help_uri: help.map(str::to_string), level: level(severity) }
}

/// The SARIF rule that carries a scenario's caveats (`CAV001-not-modelled`), at warning.
pub fn caveat_rule() -> SarifRule {
    SarifRule {
        id: CAVEAT_RULE.to_string(),
        short: "Something that can change traffic was not modelled".to_string(),
        full: "Part of the input could not be read or modelled and can change traffic; answers about what it affects may be incomplete.".to_string(),
        help_uri: None,
        level: level(Severity::Warning),
    }
}

/// A check's short and full description and Microsoft's page; `None` for a check the catalogue
/// does not describe yet (its rule is then described by its code).
fn description(code: FindingCode) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    match code {
        FindingCode::ShadowedRule => Some((
            "A rule no flow ever reaches",
            "Earlier rules of the same NSG and direction cover every flow the rule matches (or it matches no flow where the NSG applies), so it never takes effect: Azure stops at the first matching rule, by priority.",
            Some(NSG_OVERVIEW),
        )),
        FindingCode::RedundantRule => Some((
            "A rule whose removal changes no verdict",
            "The rules after it decide the same flows the same way; removing it changes nothing.",
            Some(NSG_OVERVIEW),
        )),
        FindingCode::LevelConflict => Some((
            "Subnet and NIC NSGs disagree",
            "One NSG level (subnet or NIC) allows by a user rule what the other denies; traffic must be allowed by both, so the allow has no effect there.",
            Some(NSG_HOW),
        )),
        FindingCode::ManagementPortOpen => Some((
            "Management port open to the Internet",
            "SSH, RDP or WinRM (22, 3389, 5985, 5986) is allowed from any source or the Internet; Azure Policy 22730e10-96f6-4aac-ad84-9383d35b5917 and b0f33259-77d7-4c9e-aac6-3aabcfae693c flag it; use just-in-time VM access or Azure Bastion.",
            Some(JIT_OVERVIEW),
        )),
        FindingCode::UnassociatedNsg => Some((
            "NSG associated with nothing",
            "The NSG is on no subnet and no network interface, so it filters nothing.",
            Some(NSG_OVERVIEW),
        )),
        FindingCode::InternetFacingVmWithoutNsg => Some((
            "Internet-facing VM without an NSG",
            "A VM with a public IP has no NSG on its subnet or NIC: a Basic public IP is open by default; a Standard one is closed until an NSG allows.",
            Some(PUBLIC_IP),
        )),
        FindingCode::RuleDoesNothing => Some((
            "A rule that deploys but does nothing",
            "Azure accepts the rule, but no traffic where the NSG applies can match it: an IPsec (Ah, Esp) rule in an NSG that applies only on AzureBastionSubnet, which holds only Azure Bastion, whose traffic is TCP and UDP.",
            Some(NSG_OVERVIEW),
        )),
        FindingCode::MultiTenantTagManagement => Some((
            "Management port restricted only by a multi-tenant service tag",
            "A management port is allowed from a service tag such as AzureCloud, whose ranges include the public IPs any Azure customer can use: anyone with a subscription can send from them.",
            Some(SERVICE_TAGS),
        )),
        FindingCode::TagNotMarkedForNsg => Some((
            "Service tag not marked for NSGs in Microsoft's file",
            "A rule names a service tag whose networkFeatures in Microsoft's service-tag file lack NSG. Microsoft says the downloadable file holds tags NSG rules do not take (the Service Tag Discovery API lists those they do): Azure may refuse the rule, or it may not match as written.",
            Some(SERVICE_TAGS),
        )),
        FindingCode::TagNsgUseUnknown => Some((
            "Service tag whose use in NSGs the file does not state",
            "A rule names a service tag for which Microsoft's service-tag file gives no networkFeatures list, so whether NSG rules take it cannot be known from the file; the Service Tag Discovery API lists the tags NSG rules take.",
            Some(SERVICE_TAGS),
        )),
        FindingCode::ManagementExposureWidth => Some((
            "Management port exposed wide to the Internet",
            "A management port (22, 3389, 5985, 5986) the Internet reaches wide: from any Internet address, every address of AzureCloud, or more than a /16, as Defender for Cloud weighs the scope of an internet exposure; a JIT grant from any source is wide for its duration. Narrow exposures (specific prefixes) are labelled by nsgsim exposure.",
            Some(JIT_OVERVIEW),
        )),
        FindingCode::StandardRuleClosed => Some((
            "A Standard load balancer rule no NSG opens",
            "A Standard load balancer's load-balancing or inbound NAT rule sends to members whose NSGs allow none of its traffic: Standard load balancers are closed to inbound connections unless an NSG opens them, so the rule forwards nothing.",
            Some(LB_OVERVIEW),
        )),
        FindingCode::BasicManagementPort => Some((
            "A Basic load balancer publishes a management port",
            "A Basic load balancer's public rule sends 22, 3389, 5985 or 5986 to a member no NSG closes it on: a Basic load balancer is open to the Internet by default.",
            Some(LB_OVERVIEW),
        )),
        FindingCode::NatRuleManagementPort => Some((
            "An inbound NAT rule publishes SSH or RDP",
            "An inbound NAT rule publishes SSH (22) or RDP (3389) to the Internet: the standing workaround that just-in-time VM access replaces by opening the port only on request, to the requester's address, for a limited time.",
            Some(JIT_OVERVIEW),
        )),
        FindingCode::RuleDefeatsJit => Some((
            "An allow defeats a JIT deny rule",
            "An allow with higher precedence than the JIT deny rule keeps the port open without a JIT request.",
            Some(JIT_OVERVIEW),
        )),
        FindingCode::JitAnySource => Some((
            "JIT requests may name any source",
            "The JIT policy lets a request open the port to any address ('*'), not only the requester's.",
            Some(JIT_OVERVIEW),
        )),
        FindingCode::ActiveGrant => Some((
            "Port open by an active JIT grant",
            "A management port is open to the Internet only by an active JIT grant; it closes at the grant's end.",
            Some(JIT_OVERVIEW),
        )),
        FindingCode::JitPort5989 => Some((
            "JIT protects 5989, not WinRM's 5986",
            "Port 5989 is a training text's typo for WinRM's 5986, which is then left unprotected.",
            Some(JIT_OVERVIEW),
        )),
        FindingCode::BastionMissingRule => Some((
            "Bastion subnet NSG lacks a required rule",
            "An NSG on AzureBastionSubnet must carry every rule Azure Bastion requires, or Bastion stops working.",
            Some(BASTION_NSG),
        )),
        FindingCode::ApplyRemovesJitDeny
        | FindingCode::PlannedRulePrecedesJit
        | FindingCode::ApplyRemovesActiveGrant
        | FindingCode::NsgAllowOverridden
        | FindingCode::AlwaysAllowManagementPort
        | FindingCode::AdminDenyBlocksJit => None,
    }
}

/// SARIF's level of a severity.
pub fn level(severity: Severity) -> SarifLevel {
    match severity {
        Severity::Error => SarifLevel::Error,
        Severity::Warning => SarifLevel::Warning,
        Severity::Info => SarifLevel::Note,
    }
}

/// The NSG and rule a finding's rule names: a user rule of the NSG it names, else of the
/// finding's NSG; default rules are not written anywhere, so they have no place, nor have admin
/// rules here.
fn rule_part<'a>(finding_nsg: Option<&'a str>, rule: &'a FindingRule) -> Option<Part<'a>> {
    let (nsg, rule) = rule.nsg_rule()?;
    Some(Part::Rule { nsg: nsg.or(finding_nsg)?, rule: rule.user_rule_name()? })
}

/// Every place of a finding: its rules, its NSG, its VM, each where it was imported from and
/// where the scenario writes it; the first is where the user edits.
pub fn finding_places(f: &Finding, places: &Places) -> Vec<Place> {
    let mut parts: Vec<Part<'_>> = f.rules.iter().filter_map(|r| rule_part(f.nsg.as_deref(), r)).collect();
    parts.extend(f.nsg.as_deref().map(Part::Nsg));
    parts.extend(f.vm.as_deref().map(Part::Vm));
    let mut out: Vec<Place> = Vec::new();
    for part in &parts {
        for p in places.of(part) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    // Where the user edits first: imported places before scenario lines.
    out.sort_by_key(|p| p.in_scenario);
    out
}

/// The rules a finding names, as lint prints them (text, JSON, SARIF), joined by `sep`.
pub fn rule_list(rules: &[FindingRule], sep: &str) -> String {
    rules.iter().map(FindingRule::to_string).collect::<Vec<_>>().join(sep)
}

/// Where a caveat's resource is in the imported input, as a SARIF place (no position when the
/// caveat's source has none).
fn caveat_place(source: &CaveatSource) -> Place {
    Place {
        file: source.file.clone(),
        position: source.position,
        path: String::new(),
        address: None,
        in_scenario: false,
    }
}

/// A lint run as a SARIF log: one result per finding, then one warning per caveat (located at
/// what was not modelled, so that code scanning never shows an all-clear the caveats deny).
pub fn lint_sarif(file: &Path, findings: &[Finding], caveats: &[&Caveat], places: &Places) -> SarifLog {
    let mut log = SarifLog::new("lint", file);
    for f in findings {
        log.rule(lint_rule(f.code, f.severity));
        let mut message = f.message.trim_end().to_string();
        if !message.ends_with('.') {
            message.push('.');
        }
        if !f.rules.is_empty() {
            message.push_str(&format!(" Rules: {}.", rule_list(&f.rules, ", ")));
        }
        message.push_str(&format!(" Fix: {}.", f.fix.trim_end_matches('.')));
        for p in &f.policies {
            message.push_str(&format!(" See {p}."));
        }
        log.results.push(SarifResult {
            rule_id: f.code.as_str().to_string(),
            level: level(f.severity),
            message,
            places: finding_places(f, places),
            identity: format!("{:?}|{:?}|{}", f.nsg, f.vm, rule_list(&f.rules, ",")),
        });
    }
    for c in caveats {
        log.rule(caveat_rule());
        let text =
            format!("not modelled: {}; answers about what it affects may be incomplete", caveat_detail(c));
        log.notes.push(text.clone());
        log.results.push(SarifResult {
            rule_id: CAVEAT_RULE.to_string(),
            level: SarifLevel::Warning,
            message: text,
            places: c.source.iter().map(caveat_place).collect(),
            identity: format!(
                "{}|{}",
                c.resource,
                c.source.as_ref().map_or(String::new(), |s| s.to_string())
            ),
        });
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_in_findings_become_parts() {
        use crate::nsg::RuleRef;
        let user = |name: &str| RuleRef::Security { name: name.into() };
        let own = FindingRule::own(user("a"));
        assert_eq!(rule_part(Some("n"), &own), Some(Part::Rule { nsg: "n", rule: "a" }));
        assert_eq!(rule_part(None, &own), None, "a rule of no NSG is nowhere");
        let named = FindingRule::Nsg { nsg: Some("web".into()), rule: user("b") };
        assert_eq!(rule_part(None, &named), Some(Part::Rule { nsg: "web", rule: "b" }));
        assert_eq!(rule_part(Some("n"), &named), Some(Part::Rule { nsg: "web", rule: "b" }));
        let default = FindingRule::own(RuleRef::Default { name: "DenyAllInBound".into() });
        assert_eq!(rule_part(Some("n"), &default), None);
        let admin = FindingRule::Admin {
            configuration: "cfg".into(),
            collection: "c".into(),
            rule: "r".into(),
            action: Some(crate::model::AdminAction::Deny),
        };
        assert_eq!(rule_part(Some("n"), &admin), None);
        assert_eq!(rule_part(Some("n"), &FindingRule::NoAllowingRule), None);
    }

    #[test]
    fn caveat_sources_become_places() {
        let place = |text: &str| CaveatSource::parse(text).map(|s| caveat_place(&s));
        let p = place("infra/azuredeploy.json:120:7").expect("a place");
        assert_eq!(
            (p.file.to_str(), p.position),
            (Some("infra/azuredeploy.json"), Some(crate::position::Position::new(120, 7)))
        );
        assert!(!p.in_scenario && p.path.is_empty());
        assert_eq!(place("plan.json").and_then(|p| p.position), None);
        assert!(place("").is_none());
    }

    #[test]
    fn a_code_the_catalogue_does_not_describe_still_gets_a_rule() {
        let r = lint_rule(FindingCode::ApplyRemovesJitDeny, Severity::Error);
        assert_eq!(r.short, "nsgsim finding JIT005-apply-removes-jit-deny", "{r:?}");
        assert_eq!(r.level, SarifLevel::Error);
    }
}

//! Teaching material a scenario carries beside its topology: corrections of training texts
//! (a claim, Microsoft's answer and where Microsoft says it) and concept questions for the quiz.
//!
//! Students meet JIT in training texts that are sometimes wrong (a Security Reader can request,
//! JIT needs a public IP, port 5989). nsgsim follows Microsoft's documentation, and where a text
//! says otherwise the correction must be on screen, not in a source comment: a scenario step can
//! carry a [`Correction`], and the commands print it where it applies. The corrections nsgsim
//! knows ([`KnownClaim`]) are written once here, each with its source by title and address, so
//! that every scenario and command says the same thing; a scenario may also write its own.
//!
//! The text here is reference material (quotes and their sources), not an outcome of the
//! engine: nothing decides by reading it.

use std::fmt;

/// A Microsoft page, by title and address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRef {
    /// The page's title (`Enable just-in-time access on VMs`).
    pub title: String,
    /// Its address (`https://learn.microsoft.com/…`).
    pub url: String,
}

impl fmt::Display for SourceRef {
    /// `Title, https://…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.title, self.url)
    }
}

/// A claim of a training text and Microsoft's answer, with where Microsoft says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Correction {
    /// The catalogue entry, when the correction is one nsgsim knows (so that it is shown once).
    pub known: Option<KnownClaim>,
    /// What some training texts say ("a Security Reader can request JIT access").
    pub claim: String,
    /// Microsoft's answer.
    pub answer: String,
    /// Where Microsoft says it (at least one).
    pub sources: Vec<SourceRef>,
}

impl fmt::Display for Correction {
    /// `Some training texts say …; Microsoft: … (Title, https://…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sources: Vec<String> = self.sources.iter().map(ToString::to_string).collect();
        write!(
            f,
            "Some training texts say {}; Microsoft: {} ({})",
            self.claim,
            self.answer,
            sources.join("; ")
        )
    }
}

/// A question about a concept rather than about one flow: choices, the right one, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConceptQuestion {
    /// The question ("JIT or Bastion for a VM without a public IP?").
    pub ask: String,
    /// The choices, in order; answered by letter (`a`, `b`, …).
    pub choices: Vec<String>,
    /// The index of the right choice.
    pub answer: usize,
    /// Why that is the answer.
    pub why: String,
    /// Where Microsoft says it.
    pub sources: Vec<SourceRef>,
}

impl ConceptQuestion {
    /// The letter of choice `index` (`0` → `a`).
    pub fn letter(index: usize) -> String {
        char::from_u32(u32::from(b'a') + index as u32).map(String::from).unwrap_or_default()
    }
}

/// The most choices a concept question may have (answered `a` to `z`).
pub const MAX_CHOICES: usize = 26;

/// The Microsoft pages nsgsim quotes most, by title and address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MicrosoftPage {
    /// Defender for Cloud, "Enable just-in-time access on VMs".
    JitUsage,
    /// Defender for Cloud, "Understand just-in-time virtual machine access".
    JitOverview,
    /// Azure CLI reference, `az security jit-policy`.
    AzJitPolicy,
    /// Microsoft Entra, "What is Privileged Identity Management?".
    Pim,
    /// Virtual Network, "Public IP addresses".
    PublicIps,
    /// Virtual Network, "Network security groups" (the overview).
    NsgOverview,
    /// Virtual Network, "How network security groups filter network traffic".
    NsgHowItWorks,
    /// Azure Bastion, "What is Azure Bastion?".
    Bastion,
}

impl MicrosoftPage {
    /// The page's title and address.
    pub fn source(self) -> SourceRef {
        let (title, url) = match self {
            MicrosoftPage::JitUsage => (
                "Enable just-in-time access on VMs (Microsoft Defender for Cloud)",
                "https://learn.microsoft.com/en-us/azure/defender-for-cloud/just-in-time-access-usage",
            ),
            MicrosoftPage::JitOverview => (
                "Understand just-in-time virtual machine access (Microsoft Defender for Cloud)",
                "https://learn.microsoft.com/en-us/azure/defender-for-cloud/just-in-time-access-overview",
            ),
            MicrosoftPage::AzJitPolicy => (
                "az security jit-policy (Azure CLI reference)",
                "https://learn.microsoft.com/en-us/cli/azure/security/jit-policy",
            ),
            MicrosoftPage::Pim => (
                "What is Microsoft Entra Privileged Identity Management?",
                "https://learn.microsoft.com/en-us/entra/id-governance/privileged-identity-management/pim-configure",
            ),
            MicrosoftPage::PublicIps => (
                "Public IP addresses (Azure Virtual Network)",
                "https://learn.microsoft.com/en-us/azure/virtual-network/ip-services/public-ip-addresses",
            ),
            MicrosoftPage::NsgOverview => (
                "Network security groups (Azure Virtual Network)",
                "https://learn.microsoft.com/en-us/azure/virtual-network/network-security-groups-overview",
            ),
            MicrosoftPage::NsgHowItWorks => (
                "How network security groups filter network traffic (Azure Virtual Network)",
                "https://learn.microsoft.com/en-us/azure/virtual-network/network-security-group-how-it-works",
            ),
            MicrosoftPage::Bastion => {
                ("What is Azure Bastion?", "https://learn.microsoft.com/en-us/azure/bastion/bastion-overview")
            }
        };
        SourceRef { title: title.into(), url: url.into() }
    }
}

/// The training-text claims nsgsim knows to be wrong, each with Microsoft's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KnownClaim {
    /// "A Security Reader can request JIT access" (a Learn module).
    SecurityReaderCanRequest,
    /// "JIT needs a public IP on the VM".
    PublicIpRequired,
    /// "JIT does not work for VMs behind Azure Firewall".
    FirewallUnsupported,
    /// "Azure Firewall's JIT feature": JIT is Defender for Cloud's.
    FirewallJitFeature,
    /// "The default JIT ports include 5989".
    Port5989,
    /// "Open sessions are cut when the JIT window ends".
    SessionsDropAtExpiry,
    /// "`az vm jit …` enables and requests JIT".
    AzVmJitCommands,
    /// "JIT writes its deny rule at priority 1000".
    DenyAtPriority1000,
    /// "Enabling JIT overrides existing allow rules for its ports" (a Learn module).
    ExistingAllowsOverridden,
    /// "JIT requests wait for a manager's approval".
    ApprovalWorkflow,
    /// "\"JIT Access Role\" is a built-in role".
    JitAccessRoleBuiltIn,
    /// "A VM with no NSG is open to the Internet".
    NoNsgMeansOpen,
}

impl KnownClaim {
    /// Every known claim, in the order the documentation lists them.
    pub const ALL: [KnownClaim; 12] = [
        KnownClaim::SecurityReaderCanRequest,
        KnownClaim::PublicIpRequired,
        KnownClaim::FirewallUnsupported,
        KnownClaim::FirewallJitFeature,
        KnownClaim::Port5989,
        KnownClaim::SessionsDropAtExpiry,
        KnownClaim::AzVmJitCommands,
        KnownClaim::DenyAtPriority1000,
        KnownClaim::ExistingAllowsOverridden,
        KnownClaim::ApprovalWorkflow,
        KnownClaim::JitAccessRoleBuiltIn,
        KnownClaim::NoNsgMeansOpen,
    ];

    /// The name a scenario file writes: `Known(SecurityReaderCanRequest)`.
    pub fn keyword(self) -> &'static str {
        match self {
            KnownClaim::SecurityReaderCanRequest => "SecurityReaderCanRequest",
            KnownClaim::PublicIpRequired => "PublicIpRequired",
            KnownClaim::FirewallUnsupported => "FirewallUnsupported",
            KnownClaim::FirewallJitFeature => "FirewallJitFeature",
            KnownClaim::Port5989 => "Port5989",
            KnownClaim::SessionsDropAtExpiry => "SessionsDropAtExpiry",
            KnownClaim::AzVmJitCommands => "AzVmJitCommands",
            KnownClaim::DenyAtPriority1000 => "DenyAtPriority1000",
            KnownClaim::ExistingAllowsOverridden => "ExistingAllowsOverridden",
            KnownClaim::ApprovalWorkflow => "ApprovalWorkflow",
            KnownClaim::JitAccessRoleBuiltIn => "JitAccessRoleBuiltIn",
            KnownClaim::NoNsgMeansOpen => "NoNsgMeansOpen",
        }
    }

    /// The claim by its keyword.
    pub fn parse(keyword: &str) -> Option<KnownClaim> {
        KnownClaim::ALL.into_iter().find(|k| k.keyword() == keyword)
    }

    /// The correction: the claim, Microsoft's answer (quoted where Microsoft's words are short
    /// enough) and the page that says it.
    pub fn correction(self) -> Correction {
        let (claim, answer, sources): (&str, &str, &[MicrosoftPage]) = match self {
            KnownClaim::SecurityReaderCanRequest => (
                "a Security Reader can request JIT access",
                "\"Reader and SecurityReader roles can both view the JIT status and parameters\"; requesting needs Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action (with read on the VM, its network interfaces and public IPs), which neither role holds",
                &[MicrosoftPage::JitUsage],
            ),
            KnownClaim::PublicIpRequired => (
                "JIT works only on a VM with a public IP",
                "no public IP is required: JIT needs Defender for Servers Plan 2, a VM deployed through Azure Resource Manager, and \"an NSG to be configured or a Firewall configuration (or both)\"; on a VM without a public IP its rules control access from the VNet, peered networks and VPNs (Azure Bastion is the other way in)",
                &[MicrosoftPage::JitUsage],
            ),
            KnownClaim::FirewallUnsupported => (
                "JIT does not work for VMs behind Azure Firewall",
                "supported are \"VMs protected by Azure Firewalls on the same VNET as the VM\"; only firewalls \"controlled by Azure Firewall Manager\" (Firewall Policy) are not, and after approval Defender for Cloud gives \"the port mapping from the DNAT table\" to connect to",
                &[MicrosoftPage::JitUsage],
            ),
            KnownClaim::FirewallJitFeature => (
                "JIT is a feature of Azure Firewall",
                "JIT is a feature of Microsoft Defender for Cloud (Defender for Servers Plan 2); it \"ensures 'deny all inbound traffic' rules exist for your selected ports in the network security group (NSG) and Azure Firewall rules\", so a firewall only receives the DNAT rules Defender writes",
                &[MicrosoftPage::JitOverview],
            ),
            KnownClaim::Port5989 => (
                "the default JIT ports include 5989",
                "Defender for Cloud recommends protecting 22 (SSH), 3389 (RDP), 5985 and 5986 (WinRM); 5989 is a typo for 5986",
                &[MicrosoftPage::JitUsage],
            ),
            KnownClaim::SessionsDropAtExpiry => (
                "open RDP and SSH sessions are cut when the JIT window ends",
                "\"After the time has expired, Defender for Cloud restores the NSGs to their previous states. Connections that are already established aren't interrupted.\" Only new connections are refused",
                &[MicrosoftPage::JitOverview],
            ),
            KnownClaim::AzVmJitCommands => (
                "`az vm jit` commands enable and request JIT",
                "the Azure CLI has no `az vm jit`: its JIT command group is `az security jit-policy`, with `list` and `show` only; enable and request in the portal, with PowerShell (Set-AzJitNetworkAccessPolicy, Start-AzJitNetworkAccessPolicy) or with the REST API",
                &[MicrosoftPage::AzJitPolicy, MicrosoftPage::JitUsage],
            ),
            KnownClaim::DenyAtPriority1000 => (
                "JIT writes its deny rules at priority 1000",
                "Microsoft documents no number, only the order: \"If other rules already exist for the selected ports, then those existing rules take priority over the new 'deny all inbound traffic' rules. If there are no existing rules on the selected ports, then the new rules take top priority\"; the priorities seen in practice vary (1000, 4096)",
                &[MicrosoftPage::JitOverview],
            ),
            KnownClaim::ExistingAllowsOverridden => (
                "enabling JIT overrides the existing rules that allow its ports",
                "\"If other rules already exist for the selected ports, then those existing rules take priority over the new 'deny all inbound traffic' rules\": an old allow rule keeps the port open until someone removes it (the portal warns)",
                &[MicrosoftPage::JitOverview],
            ),
            KnownClaim::ApprovalWorkflow => (
                "a JIT request waits for a manager's approval",
                "JIT has no approver: \"When a user requests access to a VM, Defender for Cloud checks that the user has Azure role-based access control (Azure RBAC) permissions for that VM\" and opens the ports at once; for a human approval, make the role that holds initiate/action eligible in Privileged Identity Management, which can \"Require approval to activate privileged roles\"",
                &[MicrosoftPage::JitOverview, MicrosoftPage::Pim],
            ),
            KnownClaim::JitAccessRoleBuiltIn => (
                "\"JIT Access Role\" is a built-in Azure role",
                "it is a custom role: \"To create a least-privileged role for users that only need to request JIT access to a VM, use the Set-JitLeastPrivilegedRole script\"; nsgsim predefines a role of that name with the script's actions",
                &[MicrosoftPage::JitUsage],
            ),
            KnownClaim::NoNsgMeansOpen => (
                "a VM with no NSG is open to the Internet",
                "a Standard SKU public IP is secure by default, \"closed to inbound traffic when used as a frontend\" until an NSG allows the traffic; only the retired Basic SKU was open by default",
                &[MicrosoftPage::PublicIps],
            ),
        };
        Correction {
            known: Some(self),
            claim: claim.into(),
            answer: answer.into(),
            sources: sources.iter().map(|p| p.source()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_claim_has_a_keyword_a_claim_an_answer_and_a_microsoft_source() {
        for claim in KnownClaim::ALL {
            assert_eq!(KnownClaim::parse(claim.keyword()), Some(claim));
            let c = claim.correction();
            assert_eq!(c.known, Some(claim));
            assert!(!c.claim.is_empty() && !c.answer.is_empty(), "{claim:?}");
            assert!(!c.sources.is_empty(), "{claim:?}");
            for s in &c.sources {
                assert!(s.url.starts_with("https://learn.microsoft.com/"), "{claim:?}: {}", s.url);
                assert!(!s.title.is_empty());
            }
        }
        assert_eq!(KnownClaim::parse("Nope"), None);
    }

    #[test]
    fn a_correction_reads_claim_then_answer_then_source() {
        let text = KnownClaim::SecurityReaderCanRequest.correction().to_string();
        assert!(
            text.starts_with("Some training texts say a Security Reader can request JIT access; Microsoft: "),
            "{text}"
        );
        assert!(text.contains("initiate/action"), "{text}");
        assert!(
            text.ends_with("(Enable just-in-time access on VMs (Microsoft Defender for Cloud), https://learn.microsoft.com/en-us/azure/defender-for-cloud/just-in-time-access-usage)"),
            "{text}"
        );
    }

    #[test]
    fn choices_are_lettered_from_a() {
        assert_eq!(ConceptQuestion::letter(0), "a");
        assert_eq!(ConceptQuestion::letter(25), "z");
    }
}

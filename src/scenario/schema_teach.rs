//! The RON format of a step's teaching material: corrections of training texts and concept
//! questions (serde types only; `load_teach.rs` converts them). Kept beside `schema.rs`, which
//! re-exports them, so that the schema of the scenario itself stays one readable file.

use serde::Deserialize;

/// A Microsoft page: `Source(title: "Enable just-in-time access on VMs", url: "https://…")`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Source")]
pub struct SourceSpec {
    /// The page's title.
    pub title: String,
    /// Its address (`https://…`).
    pub url: String,
}

/// A correction of a training text: one nsgsim knows (`Known(SecurityReaderCanRequest)`), or the
/// scenario's own (`Correction(claim: "…", answer: "…", source: Source(…))`).
#[derive(Debug, Deserialize)]
#[serde(rename = "Correction")]
pub enum CorrectionSpec {
    /// A correction from nsgsim's catalogue.
    Known(KnownClaimSpec),
    /// The scenario's own correction.
    Correction {
        /// What some training texts say.
        claim: String,
        /// Microsoft's answer.
        answer: String,
        /// Where Microsoft says it.
        source: SourceSpec,
    },
}

/// The corrections nsgsim knows, by name (see `model::KnownClaim`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename = "KnownClaim")]
pub enum KnownClaimSpec {
    /// "A Security Reader can request JIT access".
    SecurityReaderCanRequest,
    /// "JIT needs a public IP".
    PublicIpRequired,
    /// "JIT does not work behind Azure Firewall".
    FirewallUnsupported,
    /// "Azure Firewall's JIT feature".
    FirewallJitFeature,
    /// "The default ports include 5989".
    Port5989,
    /// "Sessions are cut at expiry".
    SessionsDropAtExpiry,
    /// "`az vm jit` commands".
    AzVmJitCommands,
    /// "The deny rule is at priority 1000".
    DenyAtPriority1000,
    /// "Enabling JIT overrides existing allow rules".
    ExistingAllowsOverridden,
    /// "Requests wait for an approver".
    ApprovalWorkflow,
    /// "JIT Access Role is built in".
    JitAccessRoleBuiltIn,
    /// "No NSG means open to the Internet".
    NoNsgMeansOpen,
}

/// A concept question: `Question(ask: "…", choices: ["…", "…"], answer: "b", why: "…",
/// source: Source(…))`, or with `known: Port5989` for the why and the source of a known
/// correction.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Question")]
pub struct QuestionSpec {
    /// The question.
    pub ask: String,
    /// The choices, answered `a`, `b`, … in this order (2 to 26).
    pub choices: Vec<String>,
    /// The letter of the right choice.
    pub answer: String,
    /// Why that is the answer (default: the known correction's answer).
    #[serde(default)]
    pub why: Option<String>,
    /// Where Microsoft says it (default: the known correction's sources).
    #[serde(default)]
    pub source: Option<SourceSpec>,
    /// A known correction this question teaches.
    #[serde(default)]
    pub known: Option<KnownClaimSpec>,
}

//! Converting a step's teaching material: a correction of a training text (one nsgsim knows, or
//! the scenario's own, with its source) and a concept question for the quiz.

use super::FieldPath;
use super::load::{Fault, Loader, fault};
use super::schema::{CorrectionSpec, KnownClaimSpec, QuestionSpec, SourceSpec};
use crate::model::{ConceptQuestion, Correction, KnownClaim, MAX_CHOICES, SourceRef};

impl Loader<'_> {
    /// A step's correction.
    pub(super) fn correction(&self, c: &CorrectionSpec, field: &FieldPath) -> Result<Correction, Fault> {
        match c {
            CorrectionSpec::Known(k) => Ok(known(*k).correction()),
            CorrectionSpec::Correction { claim, answer, source } => {
                for (name, text) in [("claim", claim), ("answer", answer)] {
                    if text.trim().is_empty() {
                        return Err(fault(field.field(name), text, format!("the {name} is empty")));
                    }
                }
                let source = self.source(source, &field.field("source"))?;
                Ok(Correction {
                    known: None,
                    claim: claim.clone(),
                    answer: answer.clone(),
                    sources: vec![source],
                })
            }
        }
    }

    /// A step's concept question.
    pub(super) fn question(&self, q: &QuestionSpec, field: &FieldPath) -> Result<ConceptQuestion, Fault> {
        if q.ask.trim().is_empty() {
            return Err(fault(
                field.field("ask"),
                &q.ask,
                "the question is empty; valid: the question's text, shown before its choices",
            ));
        }
        if q.choices.len() < 2 || q.choices.len() > MAX_CHOICES {
            return Err(fault(
                field.field("choices"),
                "",
                format!(
                    "a question has {} choice(s); valid: 2 to {MAX_CHOICES}, answered a, b, …",
                    q.choices.len()
                ),
            ));
        }
        if let Some(i) = q.choices.iter().position(|c| c.trim().is_empty()) {
            return Err(fault(
                field.field("choices").index(i),
                "",
                "a choice is empty; valid: the choice's text, shown after its letter",
            ));
        }
        let letters: Vec<String> = (0..q.choices.len()).map(ConceptQuestion::letter).collect();
        let given = q.answer.trim().to_lowercase();
        let Some(answer) = letters.iter().position(|l| *l == given) else {
            return Err(fault(
                field.field("answer"),
                &q.answer,
                format!(
                    "answer '{}' is not one of the choices' letters; valid: {}",
                    q.answer,
                    letters.join(", ")
                ),
            ));
        };
        let correction = q.known.map(|k| known(k).correction());
        let why = match (&q.why, &correction) {
            (Some(why), _) => why.clone(),
            (None, Some(c)) => format!("Some training texts say {}; Microsoft: {}", c.claim, c.answer),
            (None, None) => {
                return Err(fault(field, "", "a question needs why: \"…\" (or known: a known correction)"));
            }
        };
        let mut sources = Vec::new();
        if let Some(s) = &q.source {
            sources.push(self.source(s, &field.field("source"))?);
        }
        if let Some(c) = correction {
            sources.extend(c.sources.into_iter().filter(|s| !sources.contains(s)).collect::<Vec<_>>());
        }
        if sources.is_empty() {
            return Err(fault(
                field,
                "",
                "a question needs source: Source(title: \"…\", url: \"https://…\") (or known: a known correction)",
            ));
        }
        Ok(ConceptQuestion { ask: q.ask.clone(), choices: q.choices.clone(), answer, why, sources })
    }

    fn source(&self, s: &SourceSpec, field: &FieldPath) -> Result<SourceRef, Fault> {
        if s.title.trim().is_empty() {
            return Err(fault(
                field.field("title"),
                &s.title,
                "the source's title is empty; valid: the title of the page where Microsoft says it",
            ));
        }
        if !(s.url.starts_with("https://") || s.url.starts_with("http://"))
            || s.url.contains(char::is_whitespace)
        {
            return Err(fault(
                field.field("url"),
                &s.url,
                format!(
                    "'{}' is not a web address; valid: https://… (the page where Microsoft says it)",
                    s.url
                ),
            ));
        }
        Ok(SourceRef { title: s.title.clone(), url: s.url.clone() })
    }
}

/// The catalogue entry a scenario names.
fn known(k: KnownClaimSpec) -> KnownClaim {
    match k {
        KnownClaimSpec::SecurityReaderCanRequest => KnownClaim::SecurityReaderCanRequest,
        KnownClaimSpec::PublicIpRequired => KnownClaim::PublicIpRequired,
        KnownClaimSpec::FirewallUnsupported => KnownClaim::FirewallUnsupported,
        KnownClaimSpec::FirewallJitFeature => KnownClaim::FirewallJitFeature,
        KnownClaimSpec::Port5989 => KnownClaim::Port5989,
        KnownClaimSpec::SessionsDropAtExpiry => KnownClaim::SessionsDropAtExpiry,
        KnownClaimSpec::AzVmJitCommands => KnownClaim::AzVmJitCommands,
        KnownClaimSpec::DenyAtPriority1000 => KnownClaim::DenyAtPriority1000,
        KnownClaimSpec::ExistingAllowsOverridden => KnownClaim::ExistingAllowsOverridden,
        KnownClaimSpec::ApprovalWorkflow => KnownClaim::ApprovalWorkflow,
        KnownClaimSpec::JitAccessRoleBuiltIn => KnownClaim::JitAccessRoleBuiltIn,
        KnownClaimSpec::NoNsgMeansOpen => KnownClaim::NoNsgMeansOpen,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::model::KnownClaim;
    use crate::scenario::{FieldPath, LoadError, Scenario, load_str};

    fn load(steps: &str) -> Result<Scenario, LoadError> {
        let text = format!(
            r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24")])],
                timeline: [{steps}])"#
        );
        load_str(&text, Path::new("t.ron"))
    }

    #[test]
    fn a_step_carries_a_known_or_its_own_correction() {
        let s = load(
            r#"(at: "0", correction: Known(SessionsDropAtExpiry)),
               (at: "1m", note: "n", correction: Correction(claim: "c", answer: "a",
                    source: Source(title: "T", url: "https://learn.microsoft.com/x")))"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let known = s.steps[0].correction.as_ref().expect("a correction");
        assert_eq!(known.known, Some(KnownClaim::SessionsDropAtExpiry));
        let own = s.steps[1].correction.as_ref().expect("a correction");
        assert_eq!((own.claim.as_str(), own.answer.as_str(), own.sources[0].title.as_str()), ("c", "a", "T"));
        assert_eq!(own.known, None);
    }

    #[test]
    fn a_question_has_lettered_choices_an_answer_a_why_and_a_source() {
        let s = load(
            r#"(at: "0", question: Question(ask: "Which?", choices: ["x", "y", "z"], answer: "B",
                    why: "because", source: Source(title: "T", url: "https://learn.microsoft.com/x"))),
               (at: "1m", question: Question(ask: "Default ports?", choices: ["22, 3389, 5985, 5986", "22, 3389, 5985, 5989"],
                    answer: "a", known: Port5989))"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let q = s.steps[0].question.as_ref().expect("a question");
        assert_eq!((q.answer, q.why.as_str(), q.sources.len()), (1, "because", 1));
        let k = s.steps[1].question.as_ref().expect("a question");
        assert!(k.why.starts_with("Some training texts say the default JIT ports include 5989"), "{}", k.why);
        assert_eq!(k.sources, KnownClaim::Port5989.correction().sources);
    }

    #[test]
    fn bad_questions_and_corrections_name_the_field_and_what_is_valid() {
        let source = r#"source: Source(title: "T", url: "https://learn.microsoft.com/x")"#;
        for (step, field, message) in [
            (
                format!(r#"(at: "0", question: Question(ask: "Q", choices: ["x"], answer: "a", why: "w", {source}))"#),
                FieldPath::root("timeline").index(0).field("question").field("choices"),
                "a question has 1 choice(s); valid: 2 to 26",
            ),
            (
                format!(r#"(at: "0", question: Question(ask: "Q", choices: ["x", "y"], answer: "c", why: "w", {source}))"#),
                FieldPath::root("timeline").index(0).field("question").field("answer"),
                "answer 'c' is not one of the choices' letters; valid: a, b",
            ),
            (
                r#"(at: "0", question: Question(ask: "Q", choices: ["x", "y"], answer: "a", why: "w"))"#.to_string(),
                FieldPath::root("timeline").index(0).field("question"),
                "a question needs source",
            ),
            (
                r#"(at: "0", correction: Correction(claim: "c", answer: "a", source: Source(title: "T", url: "learn.microsoft.com")))"#
                    .to_string(),
                FieldPath::root("timeline").index(0).field("correction").field("source").field("url"),
                "is not a web address",
            ),
            (
                r#"(at: "0", correction: Correction(claim: " ", answer: "a", source: Source(title: "T", url: "https://x")))"#
                    .to_string(),
                FieldPath::root("timeline").index(0).field("correction").field("claim"),
                "the claim is empty",
            ),
        ] {
            let e = load(&step).expect_err(&step);
            assert_eq!(e.field, Some(field), "{e}");
            assert!(e.message.contains(message), "{e}");
            assert!(e.position.is_some(), "{e}");
        }
    }
}

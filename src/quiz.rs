//! Exam practice: turning a scenario's expectations into questions, and judging answers.
//!
//! Every expectation of a run becomes a question about the moment it was checked ("at 10:45,
//! can alice reach vm1 on TCP 22?"). The right answer is what the simulation found, which for a
//! passing scenario is also what its author expected; the explanation is the trace. The notes
//! and actions before a question are its context, so a student reads the story first.

use crate::sim::{Expectation, RunReport, Step, StepKind};

/// One question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// What happened since the previous question (notes and actions), one line each.
    pub context: Vec<String>,
    /// The question.
    pub prompt: String,
    /// The accepted answers, lower case (e.g. `["y", "n"]`, `["c", "r", "u"]`).
    pub choices: Vec<String>,
    /// The right answer (one of `choices`).
    pub answer: String,
    /// Why: the simulation's finding and, for flows, the trace.
    pub explanation: String,
}

/// The questions of a run, in order. `steps` are the scenario's timeline (to know each
/// expectation's kind), `report` its run.
pub fn questions(steps: &[Step], report: &RunReport) -> Vec<Question> {
    let mut ordered: Vec<&Step> = steps.iter().collect();
    ordered.sort_by_key(|s| s.at);
    let mut expectations = ordered.iter().filter_map(|s| s.expect.as_ref());
    let mut out = Vec::new();
    let mut context = Vec::new();
    for step in &report.steps {
        if let Some(note) = &step.note {
            context.push(format!("[+{}] {note}", step.offset));
        }
        if let Some(a) = &step.action {
            let prefix = if step.kind == StepKind::Event { "event: " } else { "" };
            context.push(format!("[+{}] {prefix}{}", step.offset, a.summary));
        }
        let Some(outcome) = &step.expectation else { continue };
        let Some(expectation) = expectations.next() else { break };
        let when = format!("At {} (+{})", step.at, step.offset);
        let trace = outcome
            .trace
            .as_ref()
            .map(|t| crate::report::trace_text(t, "  ", crate::report::Style::default()))
            .unwrap_or_default();
        let yes_no = |truth: bool| if truth { "y".to_string() } else { "n".to_string() };
        let (prompt, choices, answer) = match expectation {
            Expectation::Flow { endpoints, request, .. } => {
                let how = match request.via {
                    Some(_) => " through Bastion",
                    None => "",
                };
                let port = if request.protocol.has_ports() {
                    format!(" on {} port {}", request.protocol, request.dst_port)
                } else {
                    format!(" with {}", request.protocol)
                };
                (
                    format!(
                        "{when}, can a new connection from {} reach {}{port}{how}? [y/n]",
                        endpoints.from, endpoints.to
                    ),
                    vec!["y".into(), "n".into()],
                    yes_no(outcome.actual.starts_with("Allow")),
                )
            }
            Expectation::Reply { connection, .. } => (
                format!("{when}, does reply traffic of connection '{connection}' get through? [y/n]"),
                vec!["y".into(), "n".into()],
                yes_no(outcome.actual.starts_with("Allow")),
            ),
            Expectation::Connection { name, .. } => (
                format!("{when}, is connection '{name}' still open? [y/n]"),
                vec!["y".into(), "n".into()],
                yes_no(outcome.actual == "open"),
            ),
            Expectation::JitStatus { .. } => {
                let status = outcome.actual.split(':').next().unwrap_or("").trim().to_string();
                let answer = match status.as_str() {
                    "Configured" => "c",
                    "Recommended" => "r",
                    _ => "u",
                };
                (
                    format!(
                        "{when}, on which list of Defender's JIT page is {}? [c]onfigured, [r]ecommended (not configured), [u]nsupported",
                        outcome.description.trim_start_matches("JIT status of ")
                    ),
                    vec!["c".into(), "r".into(), "u".into()],
                    answer.to_string(),
                )
            }
            Expectation::JitRequest { request, .. } => (
                format!("{when}, does JIT request '{request}' give access right now? [y/n]"),
                vec!["y".into(), "n".into()],
                yes_no(outcome.actual.starts_with("Active")),
            ),
            Expectation::JitRules { .. } | Expectation::Rule { .. } | Expectation::BastionRules { .. } => {
                context.push(format!("[+{}] ({}: {})", step.offset, outcome.description, outcome.actual));
                continue;
            }
        };
        let explanation =
            if trace.is_empty() { outcome.actual.clone() } else { format!("{}\n{trace}", outcome.actual) };
        out.push(Question { context: std::mem::take(&mut context), prompt, choices, answer, explanation });
    }
    out
}

/// Normalises an answer: trimmed, lower case, first letter (`Yes` → `y`).
pub fn normalise(answer: &str) -> String {
    answer.trim().to_lowercase().chars().next().map(String::from).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_normalised() {
        assert_eq!(normalise(" Yes\n"), "y");
        assert_eq!(normalise("n"), "n");
        assert_eq!(normalise("Configured"), "c");
        assert_eq!(normalise(""), "");
    }
}

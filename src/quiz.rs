//! Exam practice: turning a scenario's expectations into questions, and judging answers.
//!
//! Every expectation of a run becomes a question about the moment it was checked ("at 10:45,
//! can alice reach vm1 on TCP 22?"). The right answer is what the simulation found, which for a
//! passing scenario is also what its author expected; the explanation is the trace.
//!
//! What happened before a question (actions and events: who enabled, requested, changed what)
//! is its context, so a student reads the story first. The author's notes and the results of
//! checks that are not questions (rule counts, Bastion's required rules) come only after the
//! answer, in the explanation: notes usually explain the very next expectation ("the DNAT rule
//! only admits 203.0.113.0/24"), so shown first they would give the answer away.

use crate::jit::{RequestStatus, Supportability};
use crate::nsg::Access;
use crate::sim::{Expectation, Found, RunReport, Step, StepKind};

/// One question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// What happened since the previous question (actions and events), one line each. Never
    /// the author's notes, which often give the answer away.
    pub context: Vec<String>,
    /// The question.
    pub prompt: String,
    /// The accepted answers, lower case (e.g. `["y", "n"]`, `["c", "r", "u"]`).
    pub choices: Vec<String>,
    /// The right answer (one of `choices`).
    pub answer: String,
    /// Why: the simulation's finding and, for flows, the trace; then the author's notes and the
    /// other checks since the previous question.
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
    let mut commentary = Vec::new();
    for step in &report.steps {
        if let Some(note) = &step.note {
            commentary.push(format!("note [+{}]: {note}", step.offset));
        }
        if let Some(a) = &step.action {
            let prefix = if step.kind == StepKind::Event { "event: " } else { "" };
            context.push(format!("[+{}] {prefix}{}", step.offset, a.what));
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
                    yes_no(matches!(outcome.actual, Found::Flow { verdict: Access::Allow, .. })),
                )
            }
            Expectation::Reply { connection, .. } => (
                format!("{when}, does reply traffic of connection '{connection}' get through? [y/n]"),
                vec!["y".into(), "n".into()],
                yes_no(matches!(outcome.actual, Found::Reply(r) if r.verdict() == Access::Allow)),
            ),
            Expectation::Connection { name, .. } => (
                format!("{when}, is connection '{name}' still open? [y/n]"),
                vec!["y".into(), "n".into()],
                yes_no(matches!(outcome.actual, Found::Connection { open: true })),
            ),
            Expectation::JitStatus { vm, .. } => {
                let answer = match &outcome.actual {
                    Found::JitStatus(Supportability::Configured) => "c",
                    Found::JitStatus(Supportability::Recommended) => "r",
                    _ => "u",
                };
                (
                    format!(
                        "{when}, on which list of Defender's JIT page is vm '{}'? [c]onfigured, [r]ecommended (not configured), [u]nsupported",
                        report.end.topology().vm(*vm).name
                    ),
                    vec!["c".into(), "r".into(), "u".into()],
                    answer.to_string(),
                )
            }
            Expectation::JitRequest { request, .. } => (
                format!("{when}, does JIT request '{request}' give access right now? [y/n]"),
                vec!["y".into(), "n".into()],
                yes_no(matches!(outcome.actual, Found::JitRequest { status: RequestStatus::Active, .. })),
            ),
            Expectation::JitRules { .. } | Expectation::Rule { .. } | Expectation::BastionRules { .. } => {
                commentary
                    .push(format!("checked [+{}]: {}: {}", step.offset, outcome.description, outcome.actual));
                continue;
            }
        };
        let mut explanation = if trace.is_empty() {
            outcome.actual.to_string()
        } else {
            format!("{}\n{trace}", outcome.actual)
        };
        for line in commentary.drain(..) {
            if !explanation.ends_with('\n') {
                explanation.push('\n');
            }
            explanation.push_str(&line);
        }
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

    const SCENARIO: &str = r#"Scenario(
        name: "q",
        start: "2025-01-06T09:00:00Z",
        vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "s", prefix: "10.0.1.0/24", nsg: "n")])],
        nsgs: [Nsg(name: "n", rules: [
            Rule(name: "office-ssh", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: "203.0.113.0/24", destination_ports: "22"),
        ])],
        public_ips: [PublicIp(name: "p", address: "20.0.0.1")],
        vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "nic1", subnet: "v/s", private_ip: "10.0.1.4", public_ip: "p")])],
        users: [User(name: "u", roles: ["Owner"], source_ip: "198.51.100.7")],
        timeline: [
            (at: "0", note: "Only the office range may use SSH."),
            (at: "0", expect: Flow(from: "u", to: "vm1", port: 22, verdict: Deny)),
            (at: "1m", action: AddRule(nsg: "n", rule: Rule(name: "u-ssh", priority: 110, direction: Inbound, access: Allow, protocol: Tcp, source: "198.51.100.7", destination_ports: "22"))),
            (at: "1m", expect: Rule(nsg: "n", rule: "u-ssh", exists: true)),
            (at: "1m", expect: Flow(from: "u", to: "vm1", port: 22, verdict: Allow)),
        ],
    )"#;

    #[test]
    fn notes_and_checks_come_after_the_answer_and_actions_before_the_question() {
        let scenario =
            crate::scenario::load_str(SCENARIO, std::path::Path::new("q.ron")).expect("the scenario loads");
        let report = crate::sim::run(scenario.world(), &scenario.steps).expect("it runs");
        let qs = questions(&scenario.steps, &report);
        assert_eq!(qs.len(), 2, "the Rule check is not a question: {qs:#?}");
        assert!(qs[0].context.is_empty(), "the note would answer Q1: {:?}", qs[0].context);
        assert_eq!(qs[0].answer, "n");
        assert!(
            qs[0].explanation.contains("note [+0s]: Only the office range may use SSH."),
            "{}",
            qs[0].explanation
        );
        assert_eq!(qs[1].context, vec!["[+1m] added rule 'u-ssh' to NSG 'n'".to_string()]);
        assert!(
            qs[1].explanation.contains("checked [+1m]: rule 'u-ssh' in NSG 'n': present"),
            "{}",
            qs[1].explanation
        );
        assert_eq!(qs[1].answer, "y");
        for q in &qs {
            assert!(q.context.iter().all(|c| !c.contains("office range") && !c.contains("present")), "{q:?}");
        }
    }

    #[test]
    fn answers_are_normalised() {
        assert_eq!(normalise(" Yes\n"), "y");
        assert_eq!(normalise("n"), "n");
        assert_eq!(normalise("Configured"), "c");
        assert_eq!(normalise(""), "");
    }
}

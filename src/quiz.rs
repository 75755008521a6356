//! Exam practice: a scenario's expectations and concept questions as questions, and the judging
//! of answers.
//!
//! Every expectation of a run becomes a question about the moment it was checked ("at 10:45,
//! can alice reach vm1 on TCP 22?"), and a step can carry a concept question with choices of its
//! own ("JIT or Bastion for a VM without a public IP?"). A question never carries its answer:
//! before it, the student reads the *situation*, which is what was done since the previous
//! question as it was asked for (the step's action, not its outcome: "bob requests RDP to vm1
//! for 1h", never "refused: …"), and the *facts* of the VMs and users involved (this VM has no
//! public IP; bob is a Security Reader). The author's notes, the run's outcomes, the checks that
//! are not questions (rule counts) and the corrections of training texts come after the answer,
//! in the explanation, with the Microsoft pages that say why.

use std::collections::BTreeMap;

use crate::jit::{JitEvent, RequestStatus, Supportability};
use crate::model::{ConceptQuestion, MicrosoftPage, SourceRef, VmId};
use crate::nsg::Access;
use crate::report::{
    CorrectionsShown, action_subjects, action_text, correction_line, user_facts, vm_facts, world_facts,
};
use crate::sim::{
    Duration, Expectation, Found, Happened, RunReport, SimError, Simulator, Step, StepKind, World,
};

/// One answer a question accepts: the key typed (`y`, `a`, `c`) and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What the student types, lower case.
    pub key: String,
    /// What it means.
    pub label: String,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// When it is asked, as an offset of the timeline.
    pub offset: Duration,
    /// What was done since the previous question, one line each, as it was asked for (never
    /// its outcome, never the author's notes).
    pub situation: Vec<String>,
    /// The facts of the VMs and users involved (addresses, NSGs, public IPs, roles).
    pub facts: Vec<String>,
    /// The question.
    pub prompt: String,
    /// The accepted answers.
    pub choices: Vec<Choice>,
    /// The right answer (one of the choices' keys).
    pub answer: String,
    /// Why: what the simulation found and, for flows, the trace; then the author's notes, the
    /// other checks since the previous question and the corrections of training texts.
    pub explanation: String,
    /// The Microsoft pages behind the answer.
    pub sources: Vec<SourceRef>,
}

impl Question {
    /// The choices as the prompt lists them: `[y]es / [n]o`, or `a) … b) …` on lines of their own.
    pub fn choices_text(&self) -> String {
        let parts: Vec<String> = self.choices.iter().map(|c| format!("{}) {}", c.key, c.label)).collect();
        parts.join("\n")
    }
}

fn choice(key: &str, label: &str) -> Choice {
    Choice { key: key.into(), label: label.into() }
}

fn yes_no(truth: bool) -> (Vec<Choice>, String) {
    (vec![choice("y", "yes"), choice("n", "no")], if truth { "y" } else { "n" }.into())
}

/// The questions of a run, in order: `world` and `steps` are the scenario's (to replay the
/// facts at each question's time and to read what each step asked for), `report` its run.
///
/// # Errors
/// A step that cannot be applied while replaying the facts (the run itself would have failed).
pub fn questions(world: &World, steps: &[Step], report: &RunReport) -> Result<Vec<Question>, SimError> {
    let mut ordered: Vec<&Step> = steps.iter().collect();
    ordered.sort_by_key(|s| s.at);
    let mut timeline = ordered.into_iter();
    let mut at_offset: BTreeMap<Duration, Simulator> = BTreeMap::new();
    let mut out = Vec::new();
    let mut span = Span::default();
    let topology = report.end.topology();
    for reported in &report.steps {
        if reported.kind == StepKind::Event {
            // An expiry is an outcome (the student works out the end time); JIT enabled at the
            // start by a scoped policy is part of the setting.
            if let Some(Happened::ScopedPolicy { policy, event: JitEvent::Enabled { vm, .. } }) =
                reported.action.as_ref().map(|a| &a.what)
            {
                span.situation.push(format!(
                    "[+{}] scoped policy '{policy}' enables JIT on vm '{vm}'",
                    reported.offset
                ));
                span.vms.extend(topology.vm_by_name(vm));
            }
            continue;
        }
        let Some(step) = timeline.next() else { break };
        if let Some(note) = &reported.note {
            span.commentary.push(format!("note [+{}]: {note}", reported.offset));
        }
        if let Some(action) = &step.action {
            span.situation.push(format!("[+{}] {}", reported.offset, action_text(action, topology)));
            let (vms, users) = action_subjects(action);
            span.vms.extend(vms);
            span.users.extend(users);
        }
        for c in span.corrections.for_step(reported, topology) {
            span.sources.extend(c.sources.iter().cloned());
            span.commentary.push(correction_line(&c));
        }
        if let Some(q) = &reported.question {
            let sim = replayed(&mut at_offset, world, steps, reported.offset)?;
            out.push(span.take(concept(q, reported.offset), sim));
        }
        let (Some(outcome), Some(expectation)) = (&reported.expectation, step.expect.as_deref()) else {
            continue;
        };
        let when = format!("At {} (+{})", reported.at, reported.offset);
        let asked = match expectation {
            Expectation::Flow { endpoints, request, .. } => {
                span.users.extend([endpoints.from.clone(), endpoints.to.clone()]);
                span.names.extend([endpoints.from.clone(), endpoints.to.clone()]);
                let how = match request.via {
                    Some(b) => format!(" through Azure Bastion '{}'", topology.bastion(b).name),
                    None => String::new(),
                };
                let port = if request.protocol.has_ports() {
                    format!(" on {} port {}", request.protocol, request.dst_port)
                } else {
                    format!(" with {}", request.protocol)
                };
                let (choices, answer) =
                    yes_no(matches!(outcome.actual, Found::Flow { verdict: Access::Allow, .. }));
                Some(Asked {
                    prompt: format!(
                        "{when}, can a new connection from {} reach {}{port}{how}?",
                        endpoints.from, endpoints.to
                    ),
                    choices,
                    answer,
                    page: MicrosoftPage::NsgHowItWorks,
                })
            }
            Expectation::Reply { connection, .. } => {
                span.connections.push(connection.clone());
                let (choices, answer) =
                    yes_no(matches!(outcome.actual, Found::Reply(r) if r.verdict() == Access::Allow));
                Some(Asked {
                    prompt: format!("{when}, does reply traffic of connection '{connection}' get through?"),
                    choices,
                    answer,
                    page: MicrosoftPage::NsgOverview,
                })
            }
            Expectation::Connection { name, .. } => {
                span.connections.push(name.clone());
                let (choices, answer) = yes_no(matches!(outcome.actual, Found::Connection { open: true }));
                Some(Asked {
                    prompt: format!("{when}, is connection '{name}' still open?"),
                    choices,
                    answer,
                    page: MicrosoftPage::NsgOverview,
                })
            }
            Expectation::JitStatus { vm, .. } => {
                span.vms.push(*vm);
                let answer = match &outcome.actual {
                    Found::JitStatus(Supportability::Configured) => "c",
                    Found::JitStatus(Supportability::NotConfigured) => "n",
                    _ => "u",
                };
                Some(Asked {
                    prompt: format!(
                        "{when}, on which tab of Defender for Cloud's Just-in-time VM access page is vm '{}'?",
                        topology.vm(*vm).name
                    ),
                    choices: vec![
                        choice("c", "Configured"),
                        choice("n", "Not configured"),
                        choice("u", "Unsupported"),
                    ],
                    answer: answer.into(),
                    page: MicrosoftPage::JitUsage,
                })
            }
            Expectation::JitRequest { request, .. } => {
                span.requests.push(request.clone());
                let answer = match &outcome.actual {
                    Found::JitRequest { status: RequestStatus::Active, .. } => "a",
                    Found::JitRequest { status: RequestStatus::Pending, .. } => "c",
                    Found::JitRequest {
                        status: RequestStatus::Expired | RequestStatus::Revoked | RequestStatus::Superseded,
                        ..
                    } => "d",
                    _ => "b",
                };
                Some(Asked {
                    prompt: format!("{when}, where does JIT request '{request}' stand?"),
                    choices: vec![
                        choice("a", "granted: its ports are open to the requester now"),
                        choice("b", "refused: it never opened anything"),
                        choice("c", "waiting for an approver"),
                        choice("d", "it gave access, which has ended (expired, revoked or superseded)"),
                    ],
                    answer: answer.into(),
                    page: MicrosoftPage::JitUsage,
                })
            }
            Expectation::JitRules { .. } | Expectation::Rule { .. } | Expectation::BastionRules { .. } => {
                span.commentary.push(format!(
                    "checked [+{}]: {}: {}",
                    reported.offset, outcome.description, outcome.actual
                ));
                None
            }
        };
        let Some(asked) = asked else { continue };
        let trace = outcome
            .trace
            .as_ref()
            .map(|t| crate::report::trace_text(t, "  ", crate::report::Style::default()))
            .unwrap_or_default();
        let found = if trace.is_empty() {
            outcome.actual.to_string()
        } else {
            format!("{}\n{trace}", outcome.actual)
        };
        let sim = replayed(&mut at_offset, world, steps, reported.offset)?;
        let draft = Draft {
            offset: reported.offset,
            prompt: asked.prompt,
            choices: asked.choices,
            answer: asked.answer,
            explanation: found,
            sources: vec![asked.page.source()],
        };
        out.push(span.take(draft, sim));
    }
    Ok(out)
}

/// What a question asks, before the situation and the facts are added.
struct Asked {
    prompt: String,
    choices: Vec<Choice>,
    answer: String,
    page: MicrosoftPage,
}

/// A question without its situation and facts.
struct Draft {
    offset: Duration,
    prompt: String,
    choices: Vec<Choice>,
    answer: String,
    explanation: String,
    sources: Vec<SourceRef>,
}

fn concept(q: &ConceptQuestion, offset: Duration) -> Draft {
    let choices =
        q.choices.iter().enumerate().map(|(i, c)| choice(&ConceptQuestion::letter(i), c)).collect::<Vec<_>>();
    Draft {
        offset,
        prompt: q.ask.clone(),
        answer: ConceptQuestion::letter(q.answer),
        choices,
        explanation: q.why.clone(),
        sources: q.sources.clone(),
    }
}

/// What happened since the previous question, and whom it concerned.
#[derive(Default)]
struct Span {
    situation: Vec<String>,
    commentary: Vec<String>,
    sources: Vec<SourceRef>,
    corrections: CorrectionsShown,
    vms: Vec<VmId>,
    users: Vec<String>,
    /// Endpoint names (a VM, a user, an address) of the flows asked about.
    names: Vec<String>,
    connections: Vec<String>,
    requests: Vec<String>,
}

impl Span {
    /// The question made of `draft` with this span's situation, facts (at the question's time,
    /// from `sim`) and commentary; the span starts afresh.
    fn take(&mut self, draft: Draft, sim: &Simulator) -> Question {
        let span = std::mem::take(self);
        let t = sim.topology();
        let mut vms = span.vms.clone();
        let mut users = span.users.clone();
        for name in &span.names {
            if let Some(vm) = t.vm_by_name(name) {
                vms.push(vm);
            }
        }
        for c in &span.connections {
            if let Some(conn) = sim.connections().get(c) {
                for name in [&conn.endpoints.from, &conn.endpoints.to] {
                    users.push(name.clone());
                    if let Some(vm) = t.vm_by_name(name) {
                        vms.push(vm);
                    }
                }
            }
        }
        for r in &span.requests {
            if let Some(request) = sim.jit().request_by_name(r) {
                users.push(request.requester.clone());
                vms.extend(request.ports.iter().map(|p| p.vm));
            }
        }
        let mut facts = world_facts(sim);
        let mut seen_vms = Vec::new();
        for vm in vms {
            if !seen_vms.contains(&vm) {
                seen_vms.push(vm);
                facts.push(vm_facts(sim, vm));
            }
        }
        let mut seen_users: Vec<&str> = Vec::new();
        for name in &users {
            if let Some(u) = sim.users().iter().find(|u| crate::name::same_name(&u.name, name))
                && !seen_users.contains(&u.name.as_str())
            {
                seen_users.push(&u.name);
                facts.push(user_facts(u));
            }
        }
        let mut explanation = draft.explanation;
        for line in &span.commentary {
            if !explanation.ends_with('\n') {
                explanation.push('\n');
            }
            explanation.push_str(line);
        }
        let mut sources = draft.sources;
        for s in span.sources {
            if !sources.contains(&s) {
                sources.push(s);
            }
        }
        Question {
            offset: draft.offset,
            situation: span.situation,
            facts,
            prompt: draft.prompt,
            choices: draft.choices,
            answer: draft.answer,
            explanation,
            sources,
        }
    }
}

/// The simulation at `offset`, replayed once per offset.
fn replayed<'a>(
    cache: &'a mut BTreeMap<Duration, Simulator>,
    world: &World,
    steps: &[Step],
    offset: Duration,
) -> Result<&'a Simulator, SimError> {
    Ok(match cache.entry(offset) {
        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(crate::sim::replay_until(world.clone(), steps, offset)?)
        }
    })
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
        users: [User(name: "u", roles: ["Owner"], source_ip: "198.51.100.7"),
                User(name: "bob", roles: ["Security Reader"], source_ip: "198.51.100.8")],
        timeline: [
            (at: "0", note: "Only the office range may use SSH."),
            (at: "0", expect: Flow(from: "u", to: "vm1", port: 22, verdict: Deny)),
            (at: "1m", action: AddRule(nsg: "n", rule: Rule(name: "u-ssh", priority: 110, direction: Inbound, access: Allow, protocol: Tcp, source: "198.51.100.7", destination_ports: "22"))),
            (at: "1m", expect: Rule(nsg: "n", rule: "u-ssh", exists: true)),
            (at: "1m", expect: Flow(from: "u", to: "vm1", port: 22, verdict: Allow)),
            (at: "2m", action: EnableJit(vm: "vm1", ports: [Port(number: 3389)])),
            (at: "3m", action: RequestJit(id: "bob-rdp", user: "bob", vm: "vm1", ports: [3389], duration: "1h")),
            (at: "3m", expect: JitRequest(request: "bob-rdp", status: Refused)),
            (at: "4m", question: Question(ask: "Which role may request JIT access?", choices: ["Reader", "Security Reader", "a custom role with initiate/action"],
                answer: "c", known: SecurityReaderCanRequest)),
        ],
    )"#;

    fn quiz() -> Vec<Question> {
        let scenario =
            crate::scenario::load_str(SCENARIO, std::path::Path::new("q.ron")).expect("the scenario loads");
        let report = crate::sim::run(scenario.world(), &scenario.steps).expect("it runs");
        questions(&scenario.world(), &scenario.steps, &report).expect("replays")
    }

    #[test]
    fn notes_and_checks_come_after_the_answer_and_actions_before_the_question() {
        let qs = quiz();
        assert_eq!(qs.len(), 4, "the Rule check is not a question: {qs:#?}");
        assert!(qs[0].situation.is_empty(), "the note would answer Q1: {:?}", qs[0].situation);
        assert_eq!(qs[0].answer, "n");
        assert!(
            qs[0].explanation.contains("note [+0s]: Only the office range may use SSH."),
            "{}",
            qs[0].explanation
        );
        assert_eq!(qs[1].situation.len(), 1);
        assert!(
            qs[1].situation[0].starts_with("[+1m] rule added to NSG 'n': securityRules/u-ssh"),
            "{:?}",
            qs[1].situation
        );
        assert!(
            qs[1].explanation.contains("checked [+1m]: rule 'u-ssh' in NSG 'n': present"),
            "{}",
            qs[1].explanation
        );
        assert_eq!(qs[1].answer, "y");
        for q in &qs {
            assert!(
                q.situation.iter().all(|c| !c.contains("office range") && !c.contains("present")),
                "{q:?}"
            );
        }
    }

    #[test]
    fn the_situation_never_carries_the_outcome_and_the_facts_carry_what_decides_it() {
        let qs = quiz();
        let request = &qs[2];
        let text = request.situation.join("\n");
        assert!(text.contains("bob requests access to vm1:3389 for 1h (request 'bob-rdp')"), "{text}");
        assert!(!text.contains("refused") && !text.contains("initiate"), "the answer is given away: {text}");
        assert!(
            request.facts.iter().any(|f| f == "user 'bob': Security Reader; traffic from 198.51.100.8"),
            "{:?}",
            request.facts
        );
        assert!(
            request.facts.iter().any(|f| f.starts_with("vm 'vm1' (Linux): NIC 'nic1' 10.0.1.4")),
            "{:?}",
            request.facts
        );
        assert!(request.prompt.contains("where does JIT request 'bob-rdp' stand?"), "{}", request.prompt);
        assert_eq!(request.answer, "b");
        assert_eq!(request.choices.len(), 4);
        // The refusal and Microsoft's answer to the training text come after the answer.
        assert!(request.explanation.contains("initiate/action"), "{}", request.explanation);
        assert!(
            request.explanation.contains("correction: Some training texts say a Security Reader can request"),
            "{}",
            request.explanation
        );
        assert!(
            request.sources.iter().any(|s| s.url.ends_with("just-in-time-access-usage")),
            "{:?}",
            request.sources
        );
    }

    #[test]
    fn a_concept_question_has_lettered_choices_the_why_and_its_source() {
        let qs = quiz();
        let concept = &qs[3];
        assert_eq!(concept.prompt, "Which role may request JIT access?");
        assert_eq!(concept.answer, "c");
        assert_eq!(
            concept.choices_text(),
            "a) Reader\nb) Security Reader\nc) a custom role with initiate/action"
        );
        assert!(
            concept.explanation.starts_with("Some training texts say a Security Reader can request"),
            "{}",
            concept.explanation
        );
        assert!(!concept.sources.is_empty());
    }

    #[test]
    fn answers_are_normalised() {
        assert_eq!(normalise(" Yes\n"), "y");
        assert_eq!(normalise("n"), "n");
        assert_eq!(normalise("Configured"), "c");
        assert_eq!(normalise(""), "");
    }
}

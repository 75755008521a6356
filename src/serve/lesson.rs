//! What every session of one server starts from: the scenario, its text (to save a lesson into),
//! its timeline in play order with each step's text as written, and the simulation at the start,
//! built once (enabling the scoped policies of a 10,000-VM scenario takes seconds; cloning the
//! result takes milliseconds).

use serde_json::{Value, json};

use crate::jit::{DEFAULT_MAX_DURATION, default_ports, vm_page_default_port};
use crate::model::Os;

use crate::report::step_json;
use crate::scenario::{Scenario, timeline_steps};
use crate::sim::{Simulator, Step, StepKind, StepReport};

/// The scenario a server teaches, shared read-only by its sessions.
#[derive(Debug)]
pub struct Lesson {
    /// The loaded scenario.
    pub scenario: Scenario,
    /// Its file's text.
    pub text: String,
    /// Its timeline in play order (by time, file order for ties), with each step's text.
    pub timeline: Vec<(Step, String)>,
    /// The simulation at the start: scoped policies enabled, nothing else.
    pub start: Simulator,
    /// What happened at the start (JIT enabled by scoped policies), as `run` reports it.
    pub start_events: Vec<Value>,
}

impl Lesson {
    /// The lesson of `scenario`, loaded from `text`.
    pub fn new(scenario: Scenario, text: String) -> Lesson {
        let texts: Vec<String> = timeline_steps(&text).into_iter().map(str::to_string).collect();
        let mut timeline: Vec<(Step, String)> = scenario
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| (step.clone(), texts.get(i).cloned().unwrap_or_default()))
            .collect();
        // The order `run` plays them in: a stable sort by time keeps file order for ties.
        timeline.sort_by_key(|(step, _)| step.at);
        let mut start = Simulator::new(scenario.world());
        let at = start.now();
        let start_events = start
            .enable_scoped_policies()
            .into_iter()
            .map(|outcome| {
                let report = StepReport {
                    kind: StepKind::Event,
                    offset: crate::sim::Duration::from_secs(0),
                    at,
                    line: None,
                    note: None,
                    action: Some(Box::new(outcome)),
                    expectation: None,
                    correction: None,
                    question: None,
                };
                step_json(&report, start.topology())
            })
            .collect();
        Lesson { scenario, text, timeline, start, start_events }
    }
}

impl Lesson {
    /// What the page's forms offer: the scenario's VMs (with their OS and the port JIT pre-lists
    /// for it), users, NSGs, public IPs and Bastion hosts, and Defender's default JIT ports.
    pub fn info(&self) -> Value {
        let t = &self.scenario.topology;
        let vms: Vec<Value> = t
            .vm_ids()
            .map(|vm| {
                let v = t.vm(vm);
                let os = match v.os {
                    Os::Linux => "Linux",
                    Os::Windows => "Windows",
                };
                json!({ "name": v.name, "os": os, "default_port": vm_page_default_port(v.os) })
            })
            .collect();
        let users: Vec<Value> = self
            .scenario
            .users
            .iter()
            .map(|u| json!({ "name": u.name, "roles": u.roles, "source_ip": u.source_ip.to_string() }))
            .collect();
        let names = |it: Vec<String>| Value::from(it);
        json!({
            "name": self.scenario.name,
            "description": self.scenario.description,
            "file": self.scenario.file.display().to_string(),
            "start": self.scenario.start.to_string(),
            "timeline_steps": self.timeline.len(),
            "vms": vms,
            "users": users,
            "nsgs": names(t.nsg_ids().map(|n| t.nsg(n).name.clone()).collect()),
            "public_ips": names(t.public_ip_ids().map(|p| t.public_ip(p).name.clone()).collect()),
            "bastions": names(t.bastion_ids().map(|b| t.bastion(b).name.clone()).collect()),
            "jit_defaults": {
                "ports": default_ports().iter().map(|p| p.number).collect::<Vec<_>>(),
                "protocol": "Any",
                "max_duration": DEFAULT_MAX_DURATION.to_iso8601(),
            },
        })
    }
}

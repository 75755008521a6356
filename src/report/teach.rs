//! Corrections on screen: where a training text is wrong, the output says so at the step where
//! it matters, with Microsoft's answer and its source.
//!
//! A step shows the correction its scenario attached to it, and the corrections nsgsim knows
//! that its outcome calls for: a Security Reader refused for lack of `…/initiate/action`, a
//! grant on a VM without a public IP or behind Azure Firewall, a request waiting for approval,
//! an existing allow rule that keeps a JIT port open, port 5989, a session dropped at expiry
//! under the training-text option. Which corrections apply is decided from the outcome's data
//! (the refusal, the grant, the warnings), never from its sentences. Each known correction is
//! shown once per run, at the first step that calls for it.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::jit::{JitError, JitEvent, JitWarning, Permission};
use crate::model::{Correction, KnownClaim, Topology};
use crate::sim::{ActionOutcome, Happened, StepReport, Warning};

/// The known corrections an outcome calls for, in the catalogue's order.
pub fn known_claims_for(outcome: &ActionOutcome, topology: &Topology) -> Vec<KnownClaim> {
    let mut claims = BTreeSet::new();
    if let Happened::Jit(event) | Happened::ScopedPolicy { event, .. } = &outcome.what {
        event_claims(event, topology, &mut claims);
    }
    for w in &outcome.warnings {
        match w {
            Warning::Jit(JitWarning::OpenPort(_)) => {
                claims.insert(KnownClaim::ExistingAllowsOverridden);
            }
            Warning::SessionDroppedAtExpiry { .. } => {
                claims.insert(KnownClaim::SessionsDropAtExpiry);
            }
            _ => {}
        }
    }
    claims.into_iter().collect()
}

fn event_claims(event: &JitEvent, topology: &Topology, claims: &mut BTreeSet<KnownClaim>) {
    let no_public_ip = |vm: &str| {
        topology
            .vm_by_name(vm)
            .and_then(|v| topology.primary_nic(v))
            .is_some_and(|n| topology.nic(n).public_ip.is_none())
    };
    match event {
        JitEvent::Refused(JitError::MissingPermission { roles, permission: Permission::Request, .. })
            if roles.iter().any(|r| r == "Security Reader") =>
        {
            claims.insert(KnownClaim::SecurityReaderCanRequest);
        }
        JitEvent::Granted(grant) | JitEvent::Approved { grant, .. } => {
            if grant.access.iter().any(|a| no_public_ip(&a.vm)) {
                claims.insert(KnownClaim::PublicIpRequired);
            }
            if !grant.mapped.is_empty() {
                claims.insert(KnownClaim::FirewallUnsupported);
            }
        }
        JitEvent::Pending { .. } => {
            claims.insert(KnownClaim::ApprovalWorkflow);
        }
        JitEvent::Enabled { ports, .. } if ports.contains(&5989) => {
            claims.insert(KnownClaim::Port5989);
        }
        JitEvent::EnabledOnVms(each) => each.iter().for_each(|e| event_claims(e, topology, claims)),
        JitEvent::ConnectPage { enabled, request, .. } => {
            if let Some(e) = enabled {
                event_claims(e, topology, claims);
            }
            event_claims(request, topology, claims);
        }
        _ => {}
    }
}

/// Which known corrections a run has shown, so that each is shown once.
#[derive(Debug, Default)]
pub struct CorrectionsShown(BTreeSet<KnownClaim>);

impl CorrectionsShown {
    /// The corrections to show with `step`: the one its scenario attached, then the known ones
    /// its outcome calls for; a known correction already shown in this run is left out.
    pub fn for_step(&mut self, step: &StepReport, topology: &Topology) -> Vec<Correction> {
        let mut out = Vec::new();
        let attached = step.correction.as_deref().cloned().into_iter();
        let called: Vec<Correction> = step
            .action
            .as_ref()
            .map(|a| known_claims_for(a, topology).into_iter().map(KnownClaim::correction).collect())
            .unwrap_or_default();
        for c in attached.chain(called) {
            match c.known {
                Some(k) if !self.0.insert(k) => {}
                _ => out.push(c),
            }
        }
        out
    }
}

/// A correction as the narrative prints it: `correction: Some training texts say …`.
pub fn correction_line(c: &Correction) -> String {
    format!("correction: {c}")
}

/// A correction as JSON: the claim, Microsoft's answer, the sources and the catalogue's name.
pub fn correction_json(c: &Correction) -> Value {
    json!({
        "known": c.known.map(KnownClaim::keyword),
        "claim": c.claim,
        "answer": c.answer,
        "sources": c.sources.iter().map(|s| json!({"title": s.title, "url": s.url})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn run(timeline: &str) -> (crate::sim::RunReport, Topology) {
        let s = crate::scenario::load_str(
            &format!(
                r#"Scenario(name: "t", start: "2025-01-06T09:00:00Z",
                vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n")])],
                nsgs: [Nsg(name: "n", rules: [Rule(name: "rdp", priority: 300, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "3389")])],
                vms: [Vm(name: "vm1", os: Windows, nics: [Nic(name: "nic1", subnet: "v/a", private_ip: "10.0.1.4")])],
                users: [User(name: "sec", roles: ["Security Reader"], source_ip: "203.0.113.5"),
                        User(name: "dev", roles: ["Contributor"], source_ip: "203.0.113.6")],
                timeline: [{timeline}])"#
            ),
            Path::new("t.ron"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let report = crate::sim::run(s.world(), &s.steps).expect("runs");
        (report, s.topology)
    }

    #[test]
    fn outcomes_call_for_the_corrections_of_their_facts_once_per_run() {
        let (report, topology) = run(r#"(at: "0", action: EnableJit(vm: "vm1")),
               (at: "1m", action: RequestJit(id: "s", user: "sec", vm: "vm1", ports: [3389], duration: "1h")),
               (at: "2m", action: RequestJit(id: "d", user: "dev", vm: "vm1", ports: [3389], duration: "1h")),
               (at: "3m", action: RequestJit(id: "s2", user: "sec", vm: "vm1", ports: [3389], duration: "1h"), correction: Known(SecurityReaderCanRequest))"#);
        let claims: Vec<Vec<KnownClaim>> = report
            .steps
            .iter()
            .map(|s| s.action.as_ref().map(|a| known_claims_for(a, &topology)).unwrap_or_default())
            .collect();
        // The existing rule 'rdp' keeps 3389 open; the Security Reader is refused; the VM has no
        // public IP and is granted anyway.
        assert_eq!(claims[0], [KnownClaim::ExistingAllowsOverridden]);
        assert_eq!(claims[1], [KnownClaim::SecurityReaderCanRequest]);
        assert_eq!(claims[2], [KnownClaim::PublicIpRequired]);
        let mut shown = CorrectionsShown::default();
        let per_step: Vec<usize> = report.steps.iter().map(|s| shown.for_step(s, &topology).len()).collect();
        // The last step is the expiry of dev's grant, which calls for nothing.
        assert_eq!(per_step, [1, 1, 1, 0, 0], "each known correction once, attached or called for");
        let line = correction_line(&KnownClaim::SecurityReaderCanRequest.correction());
        assert!(
            line.starts_with("correction: Some training texts say a Security Reader can request"),
            "{line}"
        );
        let json = correction_json(&KnownClaim::Port5989.correction());
        assert_eq!(json["known"], "Port5989");
        assert!(
            json["sources"][0]["url"].as_str().is_some_and(|u| u.starts_with("https://learn.microsoft.com/"))
        );
    }
}

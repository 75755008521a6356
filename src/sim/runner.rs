//! Playing a timeline on the virtual clock: the simulator's state, the events it queues (grant
//! expiries), and the runs that apply steps in time order and record what happened.
//!
//! Applying an action lives in `apply.rs`, checking an expectation in `expect.rs`; both are
//! `impl Simulator` blocks on the state defined here.

use std::collections::BTreeMap;

use crate::jit::{ActiveGrant, JitEngine, Supportability};
use crate::model::{Topology, User, VmId};
use crate::path::{FlowRequest, PolicyCache, Trace, evaluate};

use super::apply::setup_principal;
use super::event::{Event, EventQueue};
use super::{ActionOutcome, Duration, Endpoints, ExpectationOutcome, Happened, Instant, SimError, Step};

/// Everything a simulation starts from.
#[derive(Clone, Debug)]
pub struct World {
    /// The topology at the start.
    pub topology: Topology,
    /// The start instant.
    pub start: Instant,
    /// The people.
    pub users: Vec<User>,
    /// JIT state at the start (options, roles, scoped policies; nothing enabled yet).
    pub jit: JitEngine,
}

/// The principal that performs setup actions with no named actor: an Owner.
pub const SETUP_PRINCIPAL: &str = "the scenario's Owner";
/// A tracked connection.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The flow that opened it.
    pub request: FlowRequest,
    /// Names for the narrative.
    pub endpoints: Endpoints,
    /// When it was opened.
    pub opened_at: Instant,
    /// Whether it is still open.
    pub open: bool,
}
/// Where a reported step came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// A step of the scenario's timeline.
    Timeline,
    /// Something that happened by itself (a grant's expiry, JIT enabled at the start).
    Event,
}

/// One step as it played out.
///
/// The optional parts are boxed: a report is kept per step, most steps have one part or none,
/// and inline they made a report 824 bytes (a million-step timeline's reports were 0.8 GB).
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Timeline step or event.
    pub kind: StepKind,
    /// The offset from the start.
    pub offset: Duration,
    /// The instant.
    pub at: Instant,
    /// The file line.
    pub line: Option<usize>,
    /// The note, if any.
    pub note: Option<String>,
    /// The training-text correction the step carries, if any.
    pub correction: Option<Box<crate::model::Correction>>,
    /// The concept question the step carries, if any (for the quiz).
    pub question: Option<Box<crate::model::ConceptQuestion>>,
    /// The action's outcome, if the step had one.
    pub action: Option<Box<ActionOutcome>>,
    /// The expectation's outcome, if the step had one.
    pub expectation: Option<Box<ExpectationOutcome>>,
}

/// A whole run.
#[derive(Debug)]
pub struct RunReport {
    /// The start instant.
    pub start: Instant,
    /// Every step, in the order played.
    pub steps: Vec<StepReport>,
    /// The simulation at the end (for the activity log, final rules, JIT state).
    pub end: Simulator,
}

impl RunReport {
    /// The last instant the run covers: its last step or event, or the end of the last grant.
    pub fn last_instant(&self) -> Instant {
        self.steps
            .iter()
            .map(|s| s.at)
            .chain(self.end.jit().grants().iter().map(|g| g.expires_at))
            .max()
            .unwrap_or(self.start)
    }

    /// How many expectations passed and failed.
    pub fn tally(&self) -> (usize, usize) {
        let outcomes = self.steps.iter().filter_map(|s| s.expectation.as_ref());
        outcomes.fold((0, 0), |(p, f), o| if o.passed { (p + 1, f) } else { (p, f + 1) })
    }
}

/// The state of a simulation at one instant. Cloning it forks the simulation (the live
/// classroom keeps one at the start of its scenario and clones it for each session and reset).
#[derive(Clone, Debug)]
pub struct Simulator {
    pub(super) topology: Topology,
    pub(super) cache: PolicyCache,
    start: Instant,
    pub(super) now: Instant,
    pub(super) connections: BTreeMap<String, Connection>,
    pub(super) users: Vec<User>,
    pub(super) jit: JitEngine,
    pub(super) events: EventQueue,
}
impl Simulator {
    /// A simulation of `world` at its start.
    pub fn new(world: World) -> Simulator {
        let cache = PolicyCache::new(&world.topology);
        Simulator {
            topology: world.topology,
            cache,
            start: world.start,
            now: world.start,
            connections: BTreeMap::new(),
            users: world.users,
            jit: world.jit,
            events: EventQueue::default(),
        }
    }

    /// The JIT state.
    pub fn jit(&self) -> &JitEngine {
        &self.jit
    }

    /// The people.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Enables JIT at the start on every supported VM covered by a scoped policy that asks for it.
    pub fn enable_scoped_policies(&mut self) -> Vec<ActionOutcome> {
        self.enable_scoped(true)
    }

    /// As [`Simulator::enable_scoped_policies`], for callers that only need the resulting state
    /// (`reach`, `exposure`): the outcomes carry no NSG changes, which spares copying a VM's NSGs
    /// before and after each enabling (most of the start-up time at thousands of VMs).
    pub fn enable_scoped_policies_without_changes(&mut self) {
        self.enable_scoped(false);
    }

    fn enable_scoped(&mut self, record_changes: bool) -> Vec<ActionOutcome> {
        let mut outcomes = Vec::new();
        let vms: Vec<VmId> = self.topology.vm_ids().collect();
        for vm in vms {
            let wants =
                self.jit.scoped_policy_for(&self.topology, vm).filter(|s| s.enable_at_start).map(|s| {
                    let vm_name = &self.topology.vm(vm).name;
                    let grants: Vec<ActiveGrant> =
                        s.active_grants.iter().filter(|g| g.vm == *vm_name).cloned().collect();
                    (s.name.clone(), s.policy.clone(), grants, s.in_force_from.is_some())
                });
            let Some((name, policy, grants, in_force)) = wants else { continue };
            if matches!(self.jit.status(&self.topology, vm), Supportability::Unsupported(_)) {
                continue;
            }
            let before =
                if record_changes { self.rules_snapshot_of(self.nsgs_of_vm(vm)) } else { Vec::new() };
            let logged = self.jit.log().entries().len();
            let out = if in_force {
                self.jit.take_over_in_force(
                    &mut self.topology,
                    vm,
                    policy.into(),
                    &setup_principal(),
                    self.now,
                )
            } else {
                self.jit.enable(&mut self.topology, vm, policy.into(), &setup_principal(), self.now)
            };
            let mut outcome = self.absorb(out);
            outcome.nsg_changes = self.changes_since(before);
            outcome.log = logged..self.jit.log().entries().len();
            if let Happened::Jit(event) = outcome.what {
                outcome.what = Happened::ScopedPolicy { policy: name.clone(), event };
            }
            outcomes.push(outcome);
            // Access granted before the start (an imported policy's open requests).
            for grant in &grants {
                let before =
                    if record_changes { self.rules_snapshot_of(self.nsgs_of_vm(vm)) } else { Vec::new() };
                let out = self.jit.adopt_grant(&mut self.topology, vm, grant, self.now);
                let mut outcome = self.absorb(out);
                outcome.nsg_changes = self.changes_since(before);
                if let Happened::Jit(event) = outcome.what {
                    outcome.what = Happened::ScopedPolicy { policy: name.clone(), event };
                }
                outcomes.push(outcome);
            }
        }
        self.cache.flush(&self.topology);
        outcomes
    }

    /// Processes every queued event due at or before `until`, each at its own instant.
    pub fn process_events(&mut self, until: Instant) -> Vec<(Instant, ActionOutcome)> {
        let mut out = Vec::new();
        while let Some((at, event)) = self.events.pop_due(until) {
            self.advance_to(at);
            match event {
                Event::GrantExpiry(grant) => {
                    let before = self.rules_snapshot_of(self.nsgs_of_vm(self.jit.grant(grant).vm));
                    let firewalls_before = self.firewall_rules();
                    let logged = self.jit.log().entries().len();
                    if let Some(result) = self.jit.expire(&mut self.topology, grant, at) {
                        let mut outcome = self.absorb(result);
                        outcome.log = logged..self.jit.log().entries().len();
                        self.cache.flush(&self.topology);
                        outcome.nsg_changes = self.changes_since(before);
                        outcome.changes.extend(self.drop_sessions_denied_by_firewalls(firewalls_before));
                        let flushed = self.drop_sessions_flushed_by_nsgs(&outcome.nsg_changes);
                        outcome.changes.extend(flushed);
                        if self.jit.options().expiry_drops_sessions {
                            let vm = self.jit.grant(grant).vm;
                            outcome.warnings.extend(self.drop_denied_sessions(vm));
                        }
                        out.push((at, outcome));
                    }
                }
            }
        }
        out
    }

    /// The instant of the next queued event.
    pub fn next_event_at(&self) -> Option<Instant> {
        self.events.next_at()
    }

    /// The topology as it is now.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The scenario's start.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Tracked connections by name.
    pub fn connections(&self) -> &BTreeMap<String, Connection> {
        &self.connections
    }

    /// Moves the clock forward to `at` (never backwards).
    pub fn advance_to(&mut self, at: Instant) {
        if at > self.now {
            self.now = at;
        }
    }

    /// The compiled NSGs in force.
    pub fn policies(&self) -> &PolicyCache {
        &self.cache
    }

    /// Evaluates a new flow against the current rules.
    pub fn evaluate(&self, request: &FlowRequest) -> Trace {
        evaluate(&self.topology, &self.cache, request)
    }
}

/// Applies the actions of every step at or before `offset` (expectations are not checked), and
/// the events due by then, and returns the simulator at that instant: "what does the network look
/// like at 90m?".
///
/// # Errors
/// The first step that cannot be applied.
pub fn replay_until(world: World, steps: &[Step], offset: Duration) -> Result<Simulator, SimError> {
    let start = world.start;
    let mut sim = Simulator::new(world);
    sim.enable_scoped_policies_without_changes();
    let mut order: Vec<&Step> = steps.iter().filter(|s| s.at <= offset).collect();
    order.sort_by_key(|s| s.at);
    for step in order {
        let at = start.plus(step.at);
        sim.process_events(at);
        sim.advance_to(at);
        if let Some(a) = &step.action {
            sim.apply(a).map_err(|e| e.at_step(step))?;
        }
    }
    sim.process_events(start.plus(offset));
    sim.advance_to(start.plus(offset));
    Ok(sim)
}

/// Plays the timeline's actions and events (expectations are not checked) and calls `observe`
/// with the simulator at the start and after every instant at which something changed, up to
/// `until` (the last step or event when `None`). Used by analyses over time, such as exposure.
///
/// # Errors
/// The first step that cannot be applied.
pub fn observe(
    world: World,
    steps: &[Step],
    until: Option<Duration>,
    mut observe: impl FnMut(&Simulator),
) -> Result<Simulator, SimError> {
    let start = world.start;
    let mut sim = Simulator::new(world);
    sim.enable_scoped_policies_without_changes();
    observe(&sim);
    let end = until.map(|d| start.plus(d));
    let mut order: Vec<&Step> = steps.iter().filter(|s| end.is_none_or(|e| start.plus(s.at) <= e)).collect();
    order.sort_by_key(|s| s.at);
    let mut i = 0;
    loop {
        let next_step = order.get(i).map(|s| start.plus(s.at));
        let next_event = sim.next_event_at().filter(|at| end.is_none_or(|e| *at <= e));
        let at = match (next_step, next_event) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        sim.process_events(at);
        sim.advance_to(at);
        while let Some(step) = order.get(i).filter(|s| start.plus(s.at) == at) {
            if let Some(a) = &step.action {
                sim.apply(a).map_err(|e| e.at_step(step))?;
            }
            i += 1;
        }
        observe(&sim);
    }
    if let Some(e) = end {
        sim.advance_to(e);
    }
    Ok(sim)
}

/// Plays `steps` (sorted by time, file order for ties) from the world's start. Events (grant
/// expiries) due at a step's instant happen before the step, so a grant ending at 10:00 is gone
/// for a check at 10:00 and still there at 09:59:59. Events after the last step are played too.
///
/// # Errors
/// The first step that cannot be applied.
pub fn run(world: World, steps: &[Step]) -> Result<RunReport, SimError> {
    run_until(world, steps, None)
}

/// As [`run`], stopping the story at `until` (an offset from the start): the steps after it are
/// not played and only the events due by then happen, so a trainer can stop at a point of the
/// story (`nsgsim run --until 30m`). `None` plays everything, as [`run`] does.
///
/// # Errors
/// The first step that cannot be applied.
pub fn run_until(world: World, steps: &[Step], until: Option<Duration>) -> Result<RunReport, SimError> {
    let start = world.start;
    let end = until.map(|d| start.plus(d));
    let mut sim = Simulator::new(world);
    // One report per step at least: sized up front, as a long timeline's reports are many.
    let mut reports = Vec::with_capacity(steps.len());
    for outcome in sim.enable_scoped_policies() {
        reports.push(event_report(start, start, outcome));
    }
    let mut order: Vec<&Step> = steps.iter().filter(|s| until.is_none_or(|u| s.at <= u)).collect();
    order.sort_by_key(|s| s.at);
    for step in order {
        let at = start.plus(step.at);
        for (when, outcome) in sim.process_events(at) {
            reports.push(event_report(start, when, outcome));
        }
        sim.advance_to(at);
        let action = match &step.action {
            Some(a) => Some(sim.apply(a).map_err(|e| e.at_step(step))?),
            None => None,
        };
        let expectation = step.expect.as_ref().map(|e| sim.check(e));
        reports.push(StepReport {
            kind: StepKind::Timeline,
            offset: step.at,
            at,
            line: step.position.map(|p| p.line),
            note: step.note.clone(),
            correction: step.correction.clone(),
            question: step.question.clone(),
            action: action.map(Box::new),
            expectation: expectation.map(Box::new),
        });
    }
    while let Some(next) = sim.next_event_at().filter(|at| end.is_none_or(|e| *at <= e)) {
        for (when, outcome) in sim.process_events(next) {
            reports.push(event_report(start, when, outcome));
        }
    }
    if let Some(e) = end {
        sim.advance_to(e);
    }
    Ok(RunReport { start, steps: reports, end: sim })
}

fn event_report(start: Instant, at: Instant, outcome: ActionOutcome) -> StepReport {
    StepReport {
        kind: StepKind::Event,
        offset: at.since(start),
        at,
        line: None,
        note: None,
        correction: None,
        question: None,
        action: Some(Box::new(outcome)),
        expectation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::JitError;
    use crate::nsg::NsgError;
    use crate::scenario::FieldPath;
    use crate::sim::testing::{play, scenario};
    use crate::sim::{ActionFault, Attached};

    #[test]
    fn steps_run_in_time_order_then_file_order() {
        let report =
            play(r#"(at: "10m", note: "third"), (at: "5m", note: "first"), (at: "5m", note: "second")"#);
        let notes: Vec<(&str, String)> =
            report.steps.iter().map(|s| (s.note.as_deref().unwrap_or(""), s.offset.to_string())).collect();
        assert_eq!(notes, [("first", "5m".into()), ("second", "5m".into()), ("third", "10m".into())]);
        assert_eq!(report.steps[2].at.to_string(), "2025-01-06T09:10:00Z");
        assert_eq!(report.last_instant().to_string(), "2025-01-06T09:10:00Z");
    }

    #[test]
    fn a_step_that_does_not_apply_names_its_position_and_field() {
        let s = scenario(
            r#"(at: "0", note: "x"),
        (at: "6m", action: AddRule(nsg: "nsg-a", rule: Rule(name: "clash", priority: 100, direction: Inbound,
            access: Deny, protocol: Any, destination_ports: "*")))"#,
        );
        let e = run(s.world(), &s.steps).expect_err("a priority clash");
        assert_eq!(e.at.to_string(), "6m");
        assert_eq!(
            e.field,
            FieldPath::root("timeline").index(1).field("action").field("rule").field("priority")
        );
        assert_eq!(e.position, s.steps[1].position);
        assert!(e.position.is_some());
        assert!(
            matches!(e.fault.as_ref(), ActionFault::Nsg { nsg, error: NsgError::DuplicatePriority { .. } } if nsg == "nsg-a"),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("timeline[1].action.rule.priority: step at 6m (line "), "{e}");
        let shown = s.step_error(&e).to_string();
        assert!(shown.starts_with("t.ron:"), "{shown}");
        assert!(
            shown.contains(": timeline[1].action.rule.priority: step at 6m: NSG 'nsg-a': rule 'clash'"),
            "{shown}"
        );

        let unknown =
            |name: &str| ActionFault::Jit(JitError::UnknownRequest { name: name.into(), made: vec![] });
        for (step, field, fault) in [
            (
                r#"(at: "1m", action: RemoveRule(nsg: "nsg-a", rule: "gone"))"#,
                "rule",
                ActionFault::NoSuchRule {
                    nsg: "nsg-a".into(),
                    rule: "gone".into(),
                    valid: vec!["allow-ssh".into()],
                },
            ),
            (
                r#"(at: "1m", action: DetachNsg(nic: "vm1-nic"))"#,
                "nic",
                ActionFault::NoNsgToDetach { target: Attached::Nic { nic: "vm1-nic".into() } },
            ),
            (
                r#"(at: "1m", action: DetachNsg(subnet: "v/b"))"#,
                "subnet",
                ActionFault::NoNsgToDetach {
                    target: Attached::Subnet { vnet: "v".into(), subnet: "b".into() },
                },
            ),
            (
                r#"(at: "1m", action: Disconnect(name: "ghost"))"#,
                "name",
                ActionFault::ConnectionNotOpen { connection: "ghost".into(), open: Vec::new() },
            ),
            (r#"(at: "1m", action: ApproveJit(request: "none", by: "alice"))"#, "request", unknown("none")),
            (r#"(at: "1m", action: RevokeJit(request: "none", by: "alice"))"#, "request", unknown("none")),
        ] {
            let s = scenario(step);
            let e = run(s.world(), &s.steps).expect_err(step);
            assert_eq!(e.field, FieldPath::root("timeline").index(0).field("action").field(field), "{step}");
            assert_eq!(*e.fault, fault, "{step}");
            // The same step stops a replay to a later offset.
            let replayed = replay_until(s.world(), &s.steps, Duration::from_secs(3600)).expect_err(step);
            assert_eq!(replayed, e);
        }
    }

    #[test]
    fn replay_until_applies_actions_up_to_the_offset_only() {
        let s = scenario(
            r#"(at: "5m", action: RemoveRule(nsg: "nsg-a", rule: "allow-ssh")),
               (at: "10m", action: DetachNsg(subnet: "v/a"))"#,
        );
        let at = |secs| replay_until(s.world(), &s.steps, Duration::from_secs(secs)).expect("replays");
        let nsg =
            |sim: &Simulator| sim.topology().nsg_by_name("nsg-a").map(|n| sim.topology().nsg(n).rules.len());
        let before = at(299);
        assert_eq!((nsg(&before), before.now().to_string().as_str()), (Some(1), "2025-01-06T09:04:59Z"));
        assert_eq!(nsg(&at(300)), Some(0));
        let subnet = |sim: &Simulator| {
            let t = sim.topology();
            t.subnet_ids().find(|&id| t.subnet(id).name == "a").and_then(|id| t.subnet(id).nsg)
        };
        assert!(subnet(&at(599)).is_some());
        assert!(subnet(&at(600)).is_none());
    }

    #[test]
    fn a_grant_expires_as_an_event_at_its_own_instant() {
        let report = play(
            r#"(at: "0", action: EnableJit(vm: "vm1", ports: [Port(number: 22)])),
               (at: "1m", action: RequestJit(id: "r1", user: "alice", vm: "vm1", ports: [22], duration: "1h")),
               (at: "1h1m", expect: JitRules(vm: "vm1", allow: 0))"#,
        );
        // The expiry is an event at its own instant, before the steps at that instant.
        let expiry = report.steps.iter().position(|s| s.kind == StepKind::Event).expect("an expiry event");
        assert_eq!(report.steps[expiry].at.to_string(), "2025-01-06T10:01:00Z");
        let what = &report.steps[expiry].action.as_ref().expect("an outcome").what;
        assert_eq!(
            *what,
            Happened::Jit(crate::jit::JitEvent::Expired {
                requester: "alice".into(),
                vm: "vm1".into(),
                port: 22
            })
        );
        assert!(report.steps[expiry + 1].expectation.as_ref().is_some_and(|e| e.passed));
    }
}

//! One class's simulation: its clock, its mode, and the steps it took, kept as the scenario text
//! that replays them.
//!
//! In **presenter** mode the session plays the scenario's own timeline, one step at a time, and
//! the clock may only move up to the next step (so each step happens at its own offset). In
//! **sandbox** mode the class acts freely: every action and every flow tried is checked and
//! resolved by the scenario loader, exactly as if it had been written in the file, applied, and
//! recorded as a step at the current offset (a flow tried becomes a `Flow` expectation of the
//! verdict it got). A presenter session can turn into a sandbox at any point; what was played
//! stays recorded. Saving writes the recorded steps as the timeline of the scenario's own text,
//! so `nsgsim run` replays them: the same actions at the same offsets, after the same events.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::body::{Fields, Query, shown};
use super::error::ApiError;
use super::lesson::Lesson;
use crate::model::{Caveat, NsgId};
use crate::nsg::Access;
use crate::report::{
    FlowAsked, caveats_json, flow_json, jit_status_json, log_entries_json, nsgs_json, requests_json,
    step_json, timeline_svg, topology_svg,
};
use crate::scenario::schema::{AccessSpec, ActionSpec, ExpectSpec, ProtocolSpec, StepSpec};
use crate::scenario::{load_str, with_timeline, write};
use crate::sim::{ActionOutcome, Duration, Expectation, Instant, Simulator, StepKind, StepReport};

/// How many steps and events a session keeps for its narrative (the newest).
const HISTORY: usize = 2_000;
/// How many of them the state shows.
const HISTORY_SHOWN: usize = 200;

/// Who drives a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The scenario's timeline, step by step.
    Presenter,
    /// The class, freely.
    Sandbox,
}

impl Mode {
    /// Reads `presenter` or `sandbox`.
    ///
    /// # Errors
    /// 422 naming `field`.
    pub fn parse(text: &str, field: &str) -> Result<Mode, ApiError> {
        match text {
            "presenter" => Ok(Mode::Presenter),
            "sandbox" => Ok(Mode::Sandbox),
            other => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                field,
                format!("'{}' is not a mode; valid: presenter, sandbox", shown(other)),
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Mode::Presenter => "presenter",
            Mode::Sandbox => "sandbox",
        }
    }
}

/// One session's simulation and record.
#[derive(Debug)]
pub struct Session {
    sim: Simulator,
    mode: Mode,
    /// The next step of the lesson's timeline (presenter mode).
    next: usize,
    /// The steps taken, as the scenario's text writes them.
    recorded: Vec<String>,
    /// The `RequestJit` ids of the recorded steps (each must be unique in the file).
    request_ids: BTreeSet<String>,
    /// Steps and events as they played (step JSON), the newest last.
    history: VecDeque<Value>,
    /// How many entries the history has had in all.
    history_total: usize,
    /// The last flow tried (`eval` JSON), for the page to draw its path.
    last_flow: Option<Value>,
}

impl Session {
    /// A session of `sim`, a copy of the lesson's simulation at the start.
    pub fn new(sim: Simulator, mode: Mode) -> Session {
        Session {
            sim,
            mode,
            next: 0,
            recorded: Vec::new(),
            request_ids: BTreeSet::new(),
            history: VecDeque::new(),
            history_total: 0,
            last_flow: None,
        }
    }

    fn offset(&self) -> Duration {
        self.sim.now().since(self.sim.start())
    }

    fn caveats(lesson: &Lesson) -> Vec<&Caveat> {
        lesson.scenario.caveats.iter().collect()
    }

    fn push_history(&mut self, entry: Value) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(entry);
        self.history_total += 1;
    }

    /// The session at a glance: clock, mode, the presenter's place, the next expiry, the
    /// connections, the last flow tried and the newest steps.
    pub fn state(&self, lesson: &Lesson, id: &str) -> Value {
        let start = self.sim.start();
        let next_step = (self.mode == Mode::Presenter)
            .then(|| lesson.timeline.get(self.next))
            .flatten()
            .map(|(step, _)| json!({ "offset": step.at.to_string(), "at": start.plus(step.at).to_string(), "note": step.note, "line": step.position.map(|p| p.line) }));
        let next_expiry = self
            .sim
            .next_event_at()
            .map(|at| json!({ "at": at.to_string(), "offset": at.since(start).to_string() }));
        let connections: Vec<Value> = self
            .sim
            .connections()
            .iter()
            .map(|(name, c)| {
                json!({ "name": name, "from": c.endpoints.from, "to": c.endpoints.to, "port": c.request.dst_port, "opened_at": c.opened_at.to_string(), "open": c.open })
            })
            .collect();
        let start_shown = lesson.start_events.len().min(HISTORY_SHOWN);
        let own_shown = self.history.len().min(HISTORY_SHOWN);
        let history: Vec<&Value> = lesson.start_events[..start_shown]
            .iter()
            .chain(self.history.iter().skip(self.history.len() - own_shown))
            .collect();
        json!({
            "session": id,
            "scenario": lesson.scenario.name,
            "description": lesson.scenario.description,
            "mode": self.mode.as_str(),
            "start": start.to_string(),
            "now": self.sim.now().to_string(),
            "offset": self.offset().to_string(),
            "presenter": {
                "played": self.next,
                "total": lesson.timeline.len(),
                "next": next_step,
            },
            "next_expiry": next_expiry,
            "connections": connections,
            "recorded": self.recorded.len(),
            "last_flow": self.last_flow,
            "history": history,
            "history_total": lesson.start_events.len() + self.history_total,
            "caveats": caveats_json(&Self::caveats(lesson)),
        })
    }

    /// The JIT page, as `jit status --format json` prints it, with the number of VMs in each
    /// status. `?status=Configured|NotConfigured|Unsupported` (`Recommended`, the older portal's word,
    /// for `NotConfigured`), `?filter=TEXT` (in the VM's name,
    /// any case) and `?limit=N` choose the rows, so that a page of a 10,000-VM scenario loads
    /// only what it shows.
    ///
    /// # Errors
    /// 422 for an unknown parameter, status or count.
    pub fn jit(&self, lesson: &Lesson, query: &Query) -> Result<Value, ApiError> {
        query.only(&["status", "filter", "limit"])?;
        let wanted = query.get("status").map(|s| if s == "Recommended" { "NotConfigured" } else { s });
        if let Some(s) = wanted.filter(|s| !["Configured", "NotConfigured", "Unsupported"].contains(s)) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "status",
                format!("'{}' is not a JIT status; valid: Configured, NotConfigured, Unsupported", shown(s)),
            ));
        }
        let filter = query.get("filter").map(str::to_lowercase);
        let limit = query.limit("limit")?.unwrap_or(usize::MAX);
        let t = self.sim.topology();
        let mut counts = BTreeMap::from([("Configured", 0), ("NotConfigured", 0), ("Unsupported", 0)]);
        let mut matched = 0;
        let mut chosen = Vec::new();
        for vm in t.vm_ids() {
            let status = self.sim.jit().status(t, vm).label();
            *counts.entry(status).or_default() += 1;
            let named = filter.as_deref().is_none_or(|f| t.vm(vm).name.to_lowercase().contains(f));
            if wanted.is_none_or(|w| w == status) && named {
                matched += 1;
                if chosen.len() < limit {
                    chosen.push(vm);
                }
            }
        }
        Ok(json!({
            "at": self.sim.now().to_string(),
            "vms": jit_status_json(&self.sim, &chosen),
            "counts": counts,
            "matched": matched,
            "caveats": caveats_json(&Self::caveats(lesson)),
        }))
    }

    /// Every NSG and its rules now; `?filter=TEXT` (in the name) and `?limit=N` choose which.
    ///
    /// # Errors
    /// 422 for an unknown parameter or a bad count.
    pub fn nsgs(&self, query: &Query) -> Result<Value, ApiError> {
        query.only(&["filter", "limit"])?;
        let filter = query.get("filter").map(str::to_lowercase);
        let limit = query.limit("limit")?.unwrap_or(usize::MAX);
        let t = self.sim.topology();
        let matched: Vec<NsgId> = t
            .nsg_ids()
            .filter(|&n| filter.as_deref().is_none_or(|f| t.nsg(n).name.to_lowercase().contains(f)))
            .collect();
        let shown = &matched[..matched.len().min(limit)];
        Ok(
            json!({ "at": self.sim.now().to_string(), "nsgs": nsgs_json(t, shown), "matched": matched.len(), "total": t.nsg_ids().count() }),
        )
    }

    /// The activity log, as `run --format json` prints it; `?limit=N` keeps the newest N.
    ///
    /// # Errors
    /// 422 for an unknown parameter or a bad count.
    pub fn log(&self, query: &Query) -> Result<Value, ApiError> {
        query.only(&["limit"])?;
        let entries = self.sim.jit().log().entries();
        let limit = query.limit("limit")?.unwrap_or(usize::MAX).min(entries.len());
        Ok(json!({
            "at": self.sim.now().to_string(),
            "activity_log": log_entries_json(&entries[entries.len() - limit..]),
            "total": entries.len(),
        }))
    }

    /// Every JIT request with its status; `?limit=N` keeps the newest N.
    ///
    /// # Errors
    /// 422 for an unknown parameter or a bad count.
    pub fn requests(&self, query: &Query) -> Result<Value, ApiError> {
        query.only(&["limit"])?;
        let limit = query.limit("limit")?.unwrap_or(usize::MAX);
        Ok(json!({
            "at": self.sim.now().to_string(),
            "requests": requests_json(&self.sim, limit),
            "total": self.sim.jit().requests().len(),
        }))
    }

    /// The topology drawing as it is now.
    pub fn topology_svg(&self) -> String {
        topology_svg(self.sim.topology())
    }

    /// The grant timeline from the start to now (at least an hour, and to the end of every grant).
    pub fn timeline_svg(&self) -> String {
        let start = self.sim.start();
        let last_grant = self.sim.jit().grants().iter().map(|g| g.expires_at).max();
        let end = [Some(self.sim.now()), last_grant, Some(start.plus(Duration::from_secs(3600)))]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(start);
        timeline_svg(self.sim.jit(), self.sim.topology(), start, end)
    }

    /// The scenario with what this session did as its timeline: a file `nsgsim run` replays.
    ///
    /// # Errors
    /// 500 if the result does not load (a bug: every step was loaded before it was applied).
    pub fn save(&self, lesson: &Lesson) -> Result<String, ApiError> {
        let text = with_timeline(&lesson.text, &self.recorded);
        match load_str(&text, &lesson.scenario.file) {
            Ok(_) => Ok(text),
            Err(e) => Err(ApiError::general(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the saved scenario does not load (a bug in nsgsim serve): {e}"),
            )),
        }
    }

    fn require(&self, mode: Mode, what: &str) -> Result<(), ApiError> {
        if self.mode == mode {
            return Ok(());
        }
        let hint = match mode {
            Mode::Sandbox => {
                "switch to sandbox mode first (POST mode {\"mode\": \"sandbox\"}): the presenter plays the scenario's own timeline"
            }
            Mode::Presenter => "reset into presenter mode (POST reset {\"mode\": \"presenter\"})",
        };
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "mode",
            format!("{what} needs {} mode; {hint}", mode.as_str()),
        ))
    }

    /// A step at the current offset, resolved against the scenario as the loader resolves the
    /// file's steps.
    fn resolve(&self, lesson: &Lesson, spec: &StepSpec) -> Result<crate::sim::Step, ApiError> {
        lesson.scenario.resolve_step(spec, self.recorded.len()).map_err(|e| ApiError::from_load(&e))
    }

    /// Plays every event due by `until` (grant expiries, each at its own instant), then moves
    /// the clock there. Returns the events as step JSON.
    fn run_clock_to(&mut self, until: Instant) -> Vec<Value> {
        let start = self.sim.start();
        let mut events = Vec::new();
        for (at, outcome) in self.sim.process_events(until) {
            let report = report(StepKind::Event, at.since(start), at, None, None, Some(outcome));
            let value = step_json(&report, self.sim.topology());
            self.push_history(value.clone());
            events.push(value);
        }
        self.sim.advance_to(until);
        events
    }

    /// Applies an action of the scenario format at the current offset (sandbox mode) and records
    /// it. Returns the step as `run --format json` reports it.
    ///
    /// # Errors
    /// 409 in presenter mode, or when the action does not fit the state (removing a rule that is
    /// not there, a request id already used); 422 when it names something the scenario does not
    /// have or a value the format refuses.
    pub fn act(&mut self, lesson: &Lesson, action: ActionSpec) -> Result<Value, ApiError> {
        self.require(Mode::Sandbox, "an action")?;
        if let ActionSpec::RequestJit { id, .. } = &action
            && self.request_ids.contains(id)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "id",
                format!("request id '{}' is already used; each request needs its own id", shown(id)),
            ));
        }
        let spec = StepSpec {
            at: self.offset().to_string(),
            action: Some(Box::new(action)),
            expect: None,
            note: None,
            correction: None,
            question: None,
        };
        let step = self.resolve(lesson, &spec)?;
        let Some(resolved) = &step.action else {
            return Err(ApiError::general(
                StatusCode::INTERNAL_SERVER_ERROR,
                "a resolved action step has no action",
            ));
        };
        let outcome = self
            .sim
            .apply(resolved)
            .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.field.to_string(), e.fault.to_string()))?;
        if let Some(ActionSpec::RequestJit { id, .. }) = spec.action.as_deref() {
            self.request_ids.insert(id.clone());
        }
        self.recorded.push(write::step(&spec));
        Ok(self.played(StepKind::Timeline, None, None, Some(outcome), None))
    }

    /// Records a played step in the history and returns its JSON with the clock.
    fn played(
        &mut self,
        kind: StepKind,
        line: Option<usize>,
        note: Option<String>,
        outcome: Option<ActionOutcome>,
        expectation: Option<crate::sim::ExpectationOutcome>,
    ) -> Value {
        let now = self.sim.now();
        let mut report = report(kind, self.offset(), now, line, note, outcome);
        report.expectation = expectation.map(Box::new);
        let value = step_json(&report, self.sim.topology());
        self.push_history(value.clone());
        json!({ "step": value, "now": now.to_string(), "offset": self.offset().to_string() })
    }

    /// Tries a flow now: `{"from", "to", "port", "protocol"?, "via"?}`, written as a `Flow`
    /// expectation is. Returns what `eval --format json` prints; in sandbox mode the flow is
    /// recorded as an expectation of the verdict it got (and the rule that decided it).
    ///
    /// # Errors
    /// 422 naming the field that does not resolve.
    pub fn try_flow(&mut self, lesson: &Lesson, fields: &Fields) -> Result<Value, ApiError> {
        fields.only(&["from", "to", "port", "protocol", "via"])?;
        let from = fields.string("from")?;
        let to = fields.string("to")?;
        let port = fields.integer("port", 0, 65535)?;
        let protocol = match fields.optional_string("protocol")?.map(|p| p.to_ascii_lowercase()).as_deref() {
            None | Some("tcp") => ProtocolSpec::Tcp,
            Some("udp") => ProtocolSpec::Udp,
            Some("icmp") => ProtocolSpec::Icmp,
            Some("esp") => ProtocolSpec::Esp,
            Some("ah") => ProtocolSpec::Ah,
            Some(other) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "protocol",
                    format!("'{}' is not a flow's protocol; valid: Tcp, Udp, Icmp, Esp, Ah", shown(other)),
                ));
            }
        };
        let via = fields.optional_string("via")?;
        let expect = |verdict, rule| ExpectSpec::Flow {
            from: from.clone(),
            to: to.clone(),
            port,
            protocol: Some(protocol),
            src_port: None,
            via: via.clone(),
            verdict,
            nsg: None,
            rule,
        };
        let spec = StepSpec {
            at: self.offset().to_string(),
            action: None,
            expect: Some(Box::new(expect(AccessSpec::Allow, None))),
            note: None,
            correction: None,
            question: None,
        };
        let step = self.resolve(lesson, &spec)?;
        let Some(Expectation::Flow { request, .. }) = step.expect.as_deref() else {
            return Err(ApiError::general(
                StatusCode::INTERNAL_SERVER_ERROR,
                "a resolved flow step has no flow",
            ));
        };
        let trace = self.sim.evaluate(request);
        let asked = FlowAsked {
            from: &from,
            to: &to,
            protocol: request.protocol,
            port: request.dst_port,
            at: self.sim.now(),
        };
        let mut value = flow_json(&trace, &asked, &lesson.scenario.caveats_for_flow(request));
        // The same shape as `eval --format json`: where the service tags' members came from.
        if let Some(obj) = value.as_object_mut() {
            obj.insert("service_tags".into(), crate::report::service_tags_json(&lesson.scenario.topology));
        }
        self.last_flow = Some(value.clone());
        // The verdict it got, and the rule that decided it, as the expectation the lesson checks.
        let verdict = if trace.verdict == Access::Allow { AccessSpec::Allow } else { AccessSpec::Deny };
        let rule = trace.deciding_hop().and_then(|h| h.rule_name());
        let spec = StepSpec { expect: Some(Box::new(expect(verdict, rule))), ..spec };
        let checked = self.resolve(lesson, &spec)?;
        let outcome = checked.expect.as_ref().map(|e| self.sim.check(e));
        if self.mode == Mode::Sandbox {
            self.recorded.push(write::step(&spec));
        }
        self.played(StepKind::Timeline, None, None, None, outcome);
        Ok(value)
    }

    /// Moves the clock forward: `{"advance": "10m"}`, `{"until": "next-expiry"}` or
    /// `{"until": "1h30m"}` (an offset from the start). Events due on the way happen at their own
    /// instants. In presenter mode the clock may not pass the next step.
    ///
    /// # Errors
    /// 422 for a bad duration or an offset in the past; 409 when nothing expires or the
    /// presenter's next step is earlier.
    pub fn move_clock(&mut self, lesson: &Lesson, fields: &Fields) -> Result<Value, ApiError> {
        fields.only(&["advance", "until"])?;
        let start = self.sim.start();
        let now = self.sim.now();
        let bad = |field: &str, m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, m);
        let (field, target) = match (fields.optional_string("advance")?, fields.optional_string("until")?) {
            (Some(d), None) => {
                let d = Duration::parse(&d).map_err(|m| bad("advance", format!("'{}': {m}", shown(&d))))?;
                ("advance", now.checked_plus(d))
            }
            (None, Some(u)) if u == "next-expiry" => {
                let at = self.sim.next_event_at().ok_or_else(|| {
                    ApiError::new(StatusCode::CONFLICT, "until", "no grant is active: nothing expires")
                })?;
                ("until", Some(at))
            }
            (None, Some(u)) => {
                let d = Duration::parse(&u).map_err(|m| {
                    bad(
                        "until",
                        format!("'{}': {m}; valid: an offset from the start, or next-expiry", shown(&u)),
                    )
                })?;
                ("until", start.checked_plus(d))
            }
            _ => {
                return Err(bad(
                    "advance",
                    "give exactly one of advance (a duration: 10m) and until (an offset: 1h30m, or next-expiry)".into(),
                ));
            }
        };
        let target =
            target.filter(|t| lesson.scenario.instant_at(t.since(start)).is_ok()).ok_or_else(|| {
                bad(field, "past the last instant nsgsim can represent (9999-12-30T22:00:00Z)".into())
            })?;
        if target < now {
            return Err(bad(
                field,
                format!("{} is before now ({now}): the clock only moves forward", target),
            ));
        }
        if self.mode == Mode::Presenter
            && let Some((step, _)) = lesson.timeline.get(self.next)
            && target > start.plus(step.at)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                field,
                format!(
                    "the presenter's next step is at +{}; play it first, or switch to sandbox mode to move freely",
                    step.at
                ),
            ));
        }
        let events = self.run_clock_to(target);
        Ok(
            json!({ "now": self.sim.now().to_string(), "offset": self.offset().to_string(), "events": events }),
        )
    }

    /// Plays the next step of the scenario's timeline (presenter mode): the events due by its
    /// offset, its action, its expectation. Returns the step as `run --format json` reports it,
    /// with the events before it.
    ///
    /// # Errors
    /// 409 in sandbox mode, at the end of the timeline, or when the step does not apply (a fault
    /// of the scenario, as `run` reports it).
    pub fn present_next(&mut self, lesson: &Lesson) -> Result<Value, ApiError> {
        self.require(Mode::Presenter, "the presenter's next step")?;
        let Some((step, text)) = lesson.timeline.get(self.next) else {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "mode",
                "the timeline is over: reset to play it again",
            ));
        };
        let at = self.sim.start().plus(step.at);
        let events = self.run_clock_to(at);
        let outcome = match &step.action {
            Some(a) => Some(self.sim.apply(a).map_err(|e| {
                let e = lesson.scenario.step_error(&e.at_step(step));
                ApiError::new(StatusCode::CONFLICT, e.field_text().unwrap_or_default(), e.to_string())
            })?),
            None => None,
        };
        let expectation = step.expect.as_ref().map(|e| self.sim.check(e));
        self.next += 1;
        self.recorded.push(text.clone());
        let mut value = self.played(
            StepKind::Timeline,
            step.position.map(|p| p.line),
            step.note.clone(),
            outcome,
            expectation,
        );
        if let Some(obj) = value.as_object_mut() {
            obj.insert("events".into(), Value::Array(events));
        }
        Ok(value)
    }

    /// Switches a presenter session to sandbox mode where it stands: `{"mode": "sandbox"}`.
    ///
    /// # Errors
    /// 422 for another mode; 409 to go from sandbox back to presenter (reset instead).
    pub fn set_mode(&mut self, fields: &Fields) -> Result<(), ApiError> {
        fields.only(&["mode"])?;
        match Mode::parse(&fields.string("mode")?, "mode")? {
            Mode::Sandbox => {
                self.mode = Mode::Sandbox;
                Ok(())
            }
            Mode::Presenter if self.mode == Mode::Presenter => Ok(()),
            Mode::Presenter => Err(ApiError::new(
                StatusCode::CONFLICT,
                "mode",
                "a sandbox cannot go back to presenting where it stands; reset with {\"mode\": \"presenter\"}",
            )),
        }
    }
}

fn report(
    kind: StepKind,
    offset: Duration,
    at: Instant,
    line: Option<usize>,
    note: Option<String>,
    action: Option<ActionOutcome>,
) -> StepReport {
    StepReport {
        kind,
        offset,
        at,
        line,
        note,
        action: action.map(Box::new),
        expectation: None,
        correction: None,
        question: None,
    }
}

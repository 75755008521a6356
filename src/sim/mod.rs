//! The simulation: a virtual clock, the timeline of steps, tracked connections, and the checks
//! of expectations.
//!
//! A run is deterministic: steps are applied in time order (file order breaks ties), time only
//! moves when the timeline says so, and nothing reads the wall clock or does I/O.
//!
//! Connections: NSGs are stateful. A flow allowed when it starts creates a flow record; its
//! replies pass without a rule, and later rule changes do not cut it (Microsoft: "existing
//! connections remain uninterrupted"). `Connect` steps open such tracked connections so that
//! scenarios can show both facts.
//!
//! Outcomes are data: a step's [`ActionOutcome`] says what [`Happened`] (with the JIT event or
//! refusal), the [`Change`]s and [`Warning`]s; an expectation's [`Found`] what was found. `report`
//! renders them. The [`Simulator`]'s state and the runs are in `runner.rs`; applying an action in
//! `apply.rs`; checking an expectation in `expect.rs`.

mod admin_deploy;
mod apply;
mod error;
mod event;
mod expect;
mod outcome;
mod runner;
#[cfg(test)]
mod testing;
mod timeline;

/// Virtual time lives in the bottom layer ([`crate::time`]) so that `jit` can use it without
/// depending on the simulator; re-exported here, where scenarios and timelines meet it.
pub use crate::time::{Duration, Instant};
pub use error::{ActionError, ActionFault, SimError};
pub use event::{Event, EventQueue};
pub use expect::{ExpectationOutcome, Found, ReplyFound};
pub use outcome::{
    ActionOutcome, Attached, Change, DropCause, DroppedConnection, Happened, NsgChange, PeeringEffect,
    Warning,
};
pub use runner::{
    Connection, RunReport, SETUP_PRINCIPAL, Simulator, StepKind, StepReport, World, observe, replay_until,
    run, run_until,
};
pub use timeline::{Action, Attachment, Endpoints, Expectation, Step};

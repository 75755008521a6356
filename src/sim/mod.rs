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

mod event;
mod runner;
mod timeline;

/// Virtual time lives in the bottom layer ([`crate::time`]) so that `jit` can use it without
/// depending on the simulator; re-exported here, where scenarios and timelines meet it.
pub use crate::time::{Duration, Instant};
pub use event::{Event, EventQueue};
pub use runner::{
    ActionOutcome, Connection, ExpectationOutcome, NsgChange, RunReport, SETUP_PRINCIPAL, SimError,
    Simulator, StepKind, StepReport, World, observe, replay_until, run,
};
pub use timeline::{Action, Attachment, Endpoints, Expectation, Step};

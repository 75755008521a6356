//! Scenario files: the RON format, loading it with precise errors, and turning it into the
//! topology, users and timeline the simulator runs.
//!
//! Loading happens in two passes. RON parsing (`schema`) catches syntax and shape errors with the
//! parser's line and column. Conversion (`load`) catches meaning errors (unknown references,
//! addresses outside their subnet, priority clashes) and points at the offending value with the
//! help of `locate`. Either way the user gets one line: file, position, field, value, and what
//! would be valid.

mod caveats;
mod endpoint;
mod error;
mod load;
mod load_jit;
mod load_network;
mod locate;
mod rewrite;
pub mod schema;
#[cfg(test)]
mod testing;
pub mod write;

pub use endpoint::{End, EndpointError};
pub use error::LoadError;
pub use load::{Scenario, load_file, load_str};
pub use rewrite::{timeline_steps, with_timeline};

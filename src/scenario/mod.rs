//! Scenario files: the RON format, loading it with precise errors, and turning it into the
//! topology, users and timeline the simulator runs.
//!
//! Loading happens in two passes. RON parsing (`schema`) catches syntax and shape errors with the
//! parser's line and column. Conversion (`load`) catches meaning errors (unknown references,
//! addresses outside their subnet, priority clashes) and points at the offending value with the
//! help of `locate`. Either way the user gets one line: file, position, field, value, and what
//! would be valid. Conversion goes on after an error (`recover`), so that `check` can report
//! every independent error of a file at once.

mod caveats;
mod endpoint;
mod error;
mod field_path;
mod load;
mod load_admin;
mod load_jit;
mod load_lb;
mod load_nat;
mod load_network;
mod load_teach;
mod locate;
mod places;
mod recover;
mod rewrite;
pub mod role_spec;
pub mod schema;
mod schema_admin;
mod schema_lb;
mod schema_nat;
mod schema_origins;
mod schema_peering;
mod schema_teach;
mod service_tag_file;
#[cfg(test)]
mod testing;
mod timeline_error;
pub mod write;

pub use endpoint::{End, EndpointError, EndpointFault, OtherEnd};
pub use error::LoadError;
pub use field_path::{FieldPath, Segment};
pub use load::{
    LoadOptions, Scenario, load_file, load_file_all, load_file_all_with, load_file_with, load_str,
    load_str_all, load_str_all_with, load_str_with,
};
pub use locate::SourceMap;
pub use places::{Part, Place, Places, older_origin};
pub use recover::LoadErrors;
pub use rewrite::{timeline_steps, with_timeline};
pub use service_tag_file::{MAX_TAG_FILE_BYTES, parse_service_tag_file, read_service_tag_file};
pub use timeline_error::TimelineError;

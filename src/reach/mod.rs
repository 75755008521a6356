//! Reachability questions: "who can reach this VM, on which ports?" and "when were its
//! management ports reachable from the Internet?".
//!
//! Answers are exact, not sampled. The flow space is cut into pieces on which every rule on the
//! relevant paths (NSGs, firewall rules) behaves the same way: address pieces from every range
//! boundary of the rules' address conditions, port pieces from every boundary of their port
//! conditions. One representative flow per piece is evaluated with `path::evaluate`; its verdict
//! holds for the whole piece. Pieces are evaluated in parallel with rayon.

mod exposure;
mod query;
mod width;

pub use exposure::{ExposureWindow, MANAGEMENT_PORTS, exposure};
pub use query::{ClassReach, Classes, ReachEntry, reach};
pub use width::{WIDE_IPV4_ADDRESSES, WIDE_IPV6_ADDRESSES, Width, WidthLabel, width_of};

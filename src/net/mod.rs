//! Network primitives that know nothing of Azure: IP protocols, port ranges and sets, address
//! ranges and sets, and the 5-tuple [`Flow`].
//!
//! Everything above this module (NSG rules, service tags, the matcher) is expressed in these
//! types, so that "does this rule cover this packet" is always a question about plain sets of
//! numbers. Sets are kept normalised (sorted, disjoint, non-adjacent ranges), which makes
//! equality, containment and the exact set algebra used by `diff` and `lint` straightforward.

mod addr;
mod flow;
mod port;
mod protocol;
mod range;

pub use addr::{
    AddrSet, NonPublicRange, ParseAddrError, non_public_range, parse_prefix, range_to_prefixes_v4,
    range_to_prefixes_v6, split_at,
};
pub use flow::Flow;
pub use port::{ParsePortError, PortRange, PortSet};
pub use protocol::{IpProtocol, ProtocolSet};

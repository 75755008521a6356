//! nsgsim: an offline simulator of Azure network security groups and Defender for Cloud
//! just-in-time VM access.
//!
//! The layers, bottom up:
//! - [`net`]: protocols, ports, address sets, the 5-tuple `Flow`; no Azure.
//! - [`matcher`]: first-match classification of flows against prioritised rule lists.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod cli;
pub mod matcher;
pub mod net;

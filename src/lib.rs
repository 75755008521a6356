//! nsgsim: an offline simulator of Azure network security groups and Defender for Cloud
//! just-in-time VM access.
//!
//! The layers, bottom up (a module imports only from its own layer or below; unit tests may use
//! any module to build their fixtures). Each numbered item is a layer and its modules are the
//! links in it: `tests/integration/architecture.rs` reads this list and fails on a `crate::`
//! path that runs up a layer, or on a module that is in no layer.
//! 1. [`net`] (protocols, ports, address sets, the 5-tuple `Flow`; no Azure), [`time`] (virtual
//!    instants and durations), [`ids`] (typed indices into the topology's tables), [`hash`] (a
//!    fast hasher for tables of nsgsim's own keys), [`text`] (user text made safe to print in
//!    messages, files decoded as UTF-8 with a position), [`name`] (Azure names, compared
//!    without regard to case), [`position`] (line and column in a text file, for every
//!    diagnostic).
//! 2. [`matcher`]: first-match classification of flows against prioritised rule lists;
//!    [`classbench`]: ClassBench filter sets and traces, to test and measure it.
//! 3. [`nsg`]: security rules as Azure defines them, default rules, resolution, one-NSG evaluation.
//! 4. [`model`]: the topology (VNets, subnets, NICs, VMs, public IPs, NSGs, ASGs, route tables,
//!    Azure Firewall, Bastion), and the caveats a scenario records about what it does not model.
//!    It holds NSGs, so it sits above `nsg`.
//! 5. [`path`]: hop-by-hop evaluation of a flow through the topology, with a trace;
//!    [`jit`]: policies, requests, grants and the activity log.
//! 6. [`sim`]: the timeline runner on a virtual clock; [`scenario`]: the RON format and loading.
//! 7. Analyses and outputs: [`reach`] (who can reach a VM, exposure over time), [`analysis`]
//!    (lint, exact diff), [`replay`] (flow logs against a scenario), [`quiz`], [`report`],
//!    [`import`] (Azure JSON and flow logs in).
//! 8. [`cli`]: the command line; the only module that knows clap, exit codes and `anyhow`;
//!    [`serve`]: the live classroom, a web page and a JSON API over the simulator (HTTP, no
//!    printing).

pub mod analysis;
pub mod classbench;
#[expect(clippy::print_stdout, clippy::print_stderr, reason = "the command line is what prints")]
pub mod cli;
pub mod hash;
pub mod ids;
pub mod import;
pub mod jit;
pub mod matcher;
pub mod model;
pub mod name;
pub mod net;
pub mod nsg;
pub mod path;
pub mod position;
pub mod quiz;
pub mod reach;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod serve;
pub mod sim;
pub mod text;
pub mod time;

//! nsgsim: an offline simulator of Azure network security groups and Defender for Cloud
//! just-in-time VM access.
//!
//! The layers, bottom up:
//! - [`net`]: protocols, ports, address sets, the 5-tuple `Flow`; no Azure.
//! - [`matcher`]: first-match classification of flows against prioritised rule lists.
//! - [`classbench`]: ClassBench filter sets and traces, to test and measure the matcher.
//! - [`model`]: the topology (VNets, subnets, NICs, VMs, public IPs, NSGs, ASGs) with typed ids.
//! - [`nsg`]: security rules as Azure defines them, default rules, resolution, one-NSG evaluation.
//! - [`path`]: hop-by-hop evaluation of a flow through the topology, with a trace.
//! - [`reach`]: exact reachability: who can reach a VM, and its management-port exposure over time.
//! - [`quiz`]: exam practice: a run's expectations as questions with explained answers.
//! - [`import`]: Azure JSON (ARM templates, `az` output, JIT REST policies) to scenarios; assertion files.
//! - [`analysis`]: lint, exact diff of two policies, and the box algebra behind them.
//! - [`replay`]: real traffic (flow logs, CSV) replayed against a scenario and compared with Azure's log.
//! - [`cli`]: the command line.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod analysis;
pub mod classbench;
pub mod cli;
pub mod ids;
pub mod import;
pub mod jit;
pub mod matcher;
pub mod model;
pub mod net;
pub mod nsg;
pub mod path;
pub mod quiz;
pub mod reach;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod time;

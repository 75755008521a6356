//! The single integration-test binary: end-to-end tests that drive the real `nsgsim` binary on
//! real scenario files, the oracle and property tests of the matcher, and the architecture's
//! invariants read from the source tree.

mod architecture;
mod arm_evaluator;
mod arm_validation;
mod avnm;
mod caveats;
mod cli_foundation;
mod corpus;
mod engineer;
mod fidelity_names;
mod firewall_snat;
mod held_out;
mod http;
mod import_inventory;
mod import_pipeline;
mod jit_cli;
mod lb_outbound;
mod limits;
mod live;
mod load_balancer;
mod matcher;
mod multi_ip;
mod nat_gateway;
mod origins;
mod overlap;
mod paths;
mod pipeline;
mod replay;
mod replay_stream;
mod report;
mod robustness;
mod sarif;
mod scenarios;
mod serve;
mod serve_browser;
mod service_tags;
mod teach;
mod terraform;
mod util;

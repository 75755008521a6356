//! The single integration-test binary: end-to-end tests that drive the real `nsgsim` binary on
//! real scenario files, plus the oracle and property tests of the matcher.

mod caveats;
mod cli_foundation;
mod engineer;
mod jit_cli;
mod matcher;
mod paths;
mod replay;
mod report;
mod robustness;
mod scenarios;
mod util;

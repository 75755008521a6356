//! The RON format of where an imported scenario's parts were read (serde types only; the
//! scenario's `places` module reads them). Kept beside `schema.rs`, which re-exports them.
//!
//! `nsgsim import` writes one entry per NSG, rule, VM, NIC, subnet, JIT policy and the like, so
//! that a finding about the scenario (`lint --format sarif`, `test`, `diff`) can point at the
//! template, plan or `az` output the user edits rather than at the generated scenario.

use serde::Deserialize;

/// Where one part was read: `Origin(file: "azuredeploy.json", line: 40, column: 7, path:
/// "resources[2].properties.securityRules[0]")`. `file` is relative to the scenario file's
/// directory (or absolute); `path` is the JSON path, or the Terraform address and its path.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename = "Origin")]
pub struct OriginSpec {
    /// The file the part was read from.
    pub file: String,
    /// 1-based line of the part in that file, when known.
    #[serde(default)]
    pub line: Option<i64>,
    /// 1-based column, when known.
    #[serde(default)]
    pub column: Option<i64>,
    /// The JSON path (ARM, `az`, REST) or the Terraform address with its path.
    #[serde(default)]
    pub path: String,
}

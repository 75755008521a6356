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

/// The Terraform address an origin's written `path` carries after its resource's index
/// (`resource_changes[2](module.hub.azurerm_network_security_group.web).change.after` →
/// `module.hub.azurerm_network_security_group.web`), as `nsgsim import` writes it; `None` for any
/// other path, an ARM copy loop's iteration (`resources[2](copyIndex=1)`) included. The one
/// reader of the written text: the loader calls it once per origin, and places keep the address
/// as data.
pub fn written_address(path: &str) -> Option<&str> {
    let start = path.find("](")? + 2;
    let rest = &path[start..];
    let end = rest.find(").").or_else(|| rest.strip_suffix(')').map(str::len))?;
    let address = &rest[..end];
    (!address.contains('=') && address.contains('.')).then_some(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_path_gives_its_terraform_address() {
        assert_eq!(
            written_address(
                "resource_changes[2](module.net.azurerm_network_security_group.web).change.after"
            ),
            Some("module.net.azurerm_network_security_group.web")
        );
        assert_eq!(
            written_address("values.root_module.resources[0](azurerm_subnet.a[\"x\"])"),
            Some("azurerm_subnet.a[\"x\"]")
        );
        assert_eq!(written_address("resources[2](copyIndex=1).properties"), None, "a copy loop's index");
        assert_eq!(written_address("[0].securityRules[1]"), None);
        assert_eq!(written_address("resources[0](nodot).x"), None);
        assert_eq!(written_address(""), None);
    }
}

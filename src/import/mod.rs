//! Reading files that are not scenarios: Azure's own JSON (ARM templates, `az` output, REST
//! responses) turned into a scenario, and the assertion files of `nsgsim test`.
//!
//! Import takes what Azure prints and produces the scenario types of `scenario::schema`, then
//! writes them as RON ([`to_ron`]) so the result is an ordinary scenario file that `nsgsim check`
//! accepts and people can edit. The mapping (see docs/engineers.md):
//!
//! | Azure | scenario |
//! |---|---|
//! | `Microsoft.Network/networkSecurityGroups` (+ `securityRules`, inline or child) | `nsgs` |
//! | `Microsoft.Network/virtualNetworks` (+ `subnets`, `virtualNetworkPeerings`) | `vnets`, `peerings` (both sides merged, with the gateway transit flags and each side's `allowVirtualNetworkAccess`) |
//! | `Microsoft.Network/virtualNetworkGateways`, `connections`, `localNetworkGateways` | a VNet's `on_premises` |
//! | `Microsoft.Network/networkInterfaces` (primary IP configuration) | a VM's `nics` |
//! | `Microsoft.Network/publicIPAddresses`, `applicationSecurityGroups`, `bastionHosts` | `public_ips`, `asgs`, `bastions` |
//! | `Microsoft.Compute/virtualMachines` | `vms` |
//! | `Microsoft.Security/locations/jitNetworkAccessPolicies` | `jit_policies` scoped to each VM, enabled at the start |
//!
//! Contract: an unresolvable reference or a bad value is an [`ImportError`] naming the file, the
//! line and column where the value starts ([`json_position`]), the JSON path and the value;
//! anything nsgsim does not model is a [`Warning`] and is skipped. Only this module and
//! `scenario` derive `Deserialize`.

mod arm;
pub mod assertions;
mod azure;
mod emit;
pub mod flowlog;
pub mod json_position;

use std::path::{Path, PathBuf};

pub use arm::{ArmValue, Deployment, ResourceRef, TemplateScope, eval_string, parse_id};
pub use emit::to_ron;
pub use json_position::Position;

use crate::scenario::schema::ScenarioFile;

/// Why Azure JSON could not be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be read.
    #[error("{}: cannot read the file", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{}:{line}:{column}: not valid JSON: {message}", file.display())]
    Json {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A reference to a resource that is not in the input (or of the wrong kind).
    #[error("{}: {path}: cannot resolve {reference}: {message}", json_position::file_position(file, *position))]
    Unresolved {
        /// The file.
        file: PathBuf,
        /// Where the reference starts in the file (for a value a template expression makes, that
        /// expression); `None` when the text holds neither.
        position: Option<Position>,
        /// The JSON path of the reference, e.g. `resources[3].properties.subnet.id`.
        path: String,
        /// The resource referred to, `type/name`.
        reference: String,
        /// Why, and what exists.
        message: String,
    },
    /// A value nsgsim cannot use.
    #[error("{}: {path}: {}{message}", json_position::file_position(file, *position), if value.is_empty() { String::new() } else { format!("'{value}': ") })]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Where the value starts in the file (for a missing value, the object that lacks it; for
        /// a value a template expression makes, that expression); `None` when the text holds
        /// none of these.
        position: Option<Position>,
        /// The JSON path.
        path: String,
        /// The value given (empty when missing).
        value: String,
        /// What is wrong and what is valid.
        message: String,
    },
}

/// Something skipped or assumed during import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The file.
    pub file: PathBuf,
    /// Where the value at `path` starts in the file (for a value a template expression makes,
    /// that expression); `None` for the file as a whole (an empty path) or when the text holds
    /// neither.
    pub position: Option<Position>,
    /// The JSON path; empty for the file as a whole.
    pub path: String,
    /// What was skipped or assumed.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            let place = json_position::file_position(&self.file, self.position);
            write!(f, "{place}: {}: {}", self.path, self.message)
        }
    }
}

/// Choices for the produced scenario.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The scenario's name.
    pub name: String,
    /// The scenario's start instant (RFC 3339).
    pub start: String,
    /// What `resourceGroup()` and `subscription()` answer in templates.
    pub deployment: Deployment,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            name: "imported".into(),
            start: "2025-01-06T09:00:00Z".into(),
            deployment: Deployment::default(),
        }
    }
}

/// Where a part of the produced scenario came from: a scenario field path prefix
/// (`nsgs[0].rules[2]`) and the JSON file and path that define it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The scenario field path, as the scenario loader names fields.
    pub field: String,
    /// The JSON file.
    pub file: PathBuf,
    /// Where the value at `path` starts in the file, when the path is in the text.
    pub position: Option<Position>,
    /// The JSON path.
    pub path: String,
}

/// An imported scenario and what was skipped on the way.
#[derive(Debug)]
pub struct Imported {
    /// The scenario, in the file format's types.
    pub scenario: ScenarioFile,
    /// Skipped properties and resources, and assumptions made.
    pub warnings: Vec<Warning>,
    /// Where the scenario's parts came from.
    pub origins: Vec<Origin>,
}

impl Imported {
    /// The JSON origin of a scenario field (`nsgs[0].rules[2].destination_ports`): the origin
    /// with the longest field path that is a prefix of it.
    pub fn origin_of(&self, field: &str) -> Option<&Origin> {
        self.origins
            .iter()
            .filter(|o| {
                field == o.field
                    || field.strip_prefix(o.field.as_str()).is_some_and(|rest| rest.starts_with(['.', '[']))
            })
            .max_by_key(|o| o.field.len())
    }
}

/// Imports the given `(path, contents)` inputs together: references may cross files.
///
/// # Errors
/// The first invalid JSON, bad value or unresolvable reference.
pub fn import_texts(inputs: &[(PathBuf, String)], options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut importer = azure::Importer::new(options);
    for (path, text) in inputs {
        importer.add_file(path, text)?;
    }
    importer.finish(options)
}

/// Reads and imports the given files.
///
/// # Errors
/// An unreadable file, or see [`import_texts`].
pub fn import_files(paths: &[&Path], options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut inputs = Vec::new();
    for path in paths {
        let text = crate::text::read_file(path).map_err(|e| match e {
            crate::text::ReadError::Io(source) => ImportError::Read { file: path.to_path_buf(), source },
            crate::text::ReadError::NotUtf8(at) => ImportError::Json {
                file: path.to_path_buf(),
                line: at.line,
                column: at.column,
                message: at.to_string(),
            },
        })?;
        inputs.push((path.to_path_buf(), text));
    }
    import_texts(&inputs, options)
}

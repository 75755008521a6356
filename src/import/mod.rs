//! Reading files that are not scenarios: Azure's own JSON (ARM templates with their parameters,
//! `az` output, REST responses) turned into a scenario, and the assertion files of `nsgsim test`.
//!
//! Import is a pipeline (DESIGN.md's import row), each stage one concept:
//! 1. [`json`] reads each input as ARM reads JSON (comments, multi-line strings, a byte order
//!    mark, keys without case) into a tree with the position of every value;
//! 2. **readers**, one per source, turn inputs into the same `resource::Resource` records (full
//!    type, names, body, provenance): `arm` evaluates a template with its parameter values
//!    (expressions, copy loops, conditions; a value an expression makes keeps the expression's
//!    position), `rest` takes `az`/REST output as it is, `terraform` translates each resource
//!    instance of a `terraform show -json` plan or state into Azure's shape, keeping its
//!    Terraform address in every path. A resource of a type nsgsim does not
//!    model is skipped before anything of it is evaluated, and counted;
//! 3. the **inventory** (`inventory`) reads each resource into a typed record of its kind, one
//!    small file per kind, checking values where they are and keeping references as
//!    [`ResourceRef`]s with their positions;
//! 4. the **builder** (`builder`) resolves references across files and builds the
//!    [`ScenarioFile`], where each part came from ([`Origin`]), the warnings and the
//!    [`Summary`] of what was read, imported and skipped per resource type.
//!
//! Splitting reading from evaluation from building is what lets a storage account named with
//! `uniqueString()` cost nothing, lets the Terraform reader feed the same inventory, and
//! keeps every message at `file:line:column: json.path`. The output is written as RON
//! ([`to_ron`]) so the result is an ordinary scenario file that `nsgsim check` accepts and
//! people can edit. The mapping of Azure types to scenario parts is in docs/engineers.md.
//!
//! Contract: an unresolvable reference or a bad value is an [`ImportError`] naming the file, the
//! line and column where the value starts, the JSON path and the value; anything nsgsim does not
//! model is a [`Warning`] and a line of the [`Summary`]. Only this module and `scenario` derive
//! `Deserialize`.

mod arm;
pub mod assertions;
mod builder;
mod emit;
mod inventory;
pub mod json;
pub mod json_position;
mod origin_map;
mod resource;
mod rest;
mod source;
mod summary;
mod terraform;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use arm::{
    ArmValue, Deployment, ResourceRef, TemplateScope, Undeclared, UndeclaredParameters, UndeclaredPlace,
    UndeclaredReceiver, eval_string, parse_id,
};
pub use emit::to_ron;
pub use json_position::Position;
pub use origin_map::{origin_map, relative as relative_path};
pub use summary::{Relevance, SkipReason, Summary, TypeSummary};

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
    /// The file is not JSON as ARM reads it (or not UTF-8, or too large or deep).
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
    /// A `--parameter NAME=VALUE` argument that is malformed or that the template refuses.
    #[error("--parameter {argument}: {message}")]
    Parameter {
        /// The argument as given.
        argument: String,
        /// What is wrong and what is valid.
        message: String,
    },
    /// Values given for parameters the template does not declare (in parameters files, as
    /// `--parameter`, or passed to a nested deployment), which Azure refuses: every one, at its
    /// name.
    #[error("{0}")]
    UndeclaredParameters(Box<UndeclaredParameters>),
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

/// Choices for the produced scenario, and what a deployment would be given.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The scenario's name.
    pub name: String,
    /// The scenario's start instant (RFC 3339).
    pub start: String,
    /// What `resourceGroup()` and `subscription()` answer in templates.
    pub deployment: Deployment,
    /// Template parameter values as `NAME=VALUE` (`--parameter`), in order: they win over
    /// parameters files, and a later one over an earlier one.
    pub parameters: Vec<String>,
    /// `--strict`: whatever can change traffic and would be left out (a resource type nsgsim
    /// does not model, a reference to a resource not in the input, a placeholder for a value
    /// only a deployment knows) is an error instead of a caveat.
    pub strict: bool,
    /// `--allow-undeclared-parameters`: a value given for a parameter the template does not
    /// declare is ignored with a warning (a named leniency, **model choice**) instead of the
    /// error Azure gives.
    pub allow_undeclared_parameters: bool,
    /// Microsoft's service-tag file (`import --service-tags FILE`): a tag a rule names that the
    /// file holds needs no placeholder, and one it lacks is reported with the file's nearest
    /// tag names.
    pub service_tags: Option<std::sync::Arc<crate::model::ServiceTagFile>>,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            name: "imported".into(),
            start: "2025-01-06T09:00:00Z".into(),
            deployment: Deployment::default(),
            parameters: Vec::new(),
            strict: false,
            allow_undeclared_parameters: false,
            service_tags: None,
        }
    }
}

/// One input of an import.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file's name, for messages.
    pub path: PathBuf,
    /// Its contents.
    pub bytes: Vec<u8>,
    /// Given as a parameters file (`--parameters`); otherwise what it is is recognised from its
    /// shape: a template, a parameters file, or `az`/REST output.
    pub parameters: bool,
}

/// Where a part of the produced scenario came from: a scenario field path prefix
/// (`nsgs[0].rules[2]`) and the JSON file and path that define it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The scenario field path, as the scenario loader names fields (`nsgs[0].rules[2]`).
    pub field: crate::scenario::FieldPath,
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
    /// What was read, imported and skipped, per resource type.
    pub summary: Summary,
}

impl Imported {
    /// Whether the scenario has neither a VNet nor an NSG: nothing any answer could rest on.
    pub fn is_empty(&self) -> bool {
        self.scenario.vnets.is_empty() && self.scenario.nsgs.is_empty()
    }

    /// The JSON origin of a scenario field (`nsgs[0].rules[2].destination_ports`): the origin
    /// of the field itself, else of the nearest field enclosing it (`nsgs[0].rules[2]`); of two
    /// origins of one field, the later.
    pub fn origin_of(&self, field: &crate::scenario::FieldPath) -> Option<&Origin> {
        let segments = field.segments();
        (1..=segments.len())
            .rev()
            .find_map(|n| self.origins.iter().rev().find(|o| o.field.segments() == &segments[..n]))
    }
}

/// Imports the given `(path, contents)` inputs together: references may cross files, and
/// parameters files among them (recognised by their `$schema` or shape) apply to the templates.
///
/// # Errors
/// See [`import_inputs`].
pub fn import_texts(inputs: &[(PathBuf, String)], options: &ImportOptions) -> Result<Imported, ImportError> {
    let inputs: Vec<Input> = inputs
        .iter()
        .map(|(path, text)| Input { path: path.clone(), bytes: text.clone().into_bytes(), parameters: false })
        .collect();
    import_inputs(&inputs, options)
}

/// Reads and imports the given files, with `parameter_files` (`--parameters`) applied to the
/// templates among them, later files winning.
///
/// # Errors
/// An unreadable file, or see [`import_inputs`].
pub fn import_files(
    paths: &[&Path],
    parameter_files: &[&Path],
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let mut inputs = Vec::new();
    for (path, parameters) in
        paths.iter().map(|p| (p, false)).chain(parameter_files.iter().map(|p| (p, true)))
    {
        let bytes =
            std::fs::read(path).map_err(|source| ImportError::Read { file: path.to_path_buf(), source })?;
        inputs.push(Input { path: path.to_path_buf(), bytes, parameters });
    }
    import_inputs(&inputs, options)
}

/// Imports `inputs` together: each is parsed, parameters files are gathered (those recognised
/// among the inputs first, then those given as parameters files, then `options.parameters`,
/// later ones winning), each template and `az`/REST document is read into resources, and the
/// inventory and the builder make the scenario.
///
/// # Errors
/// The first input that is not JSON, bad value, value a template cannot evaluate where nsgsim
/// needs it, refused parameter value, or unresolvable reference.
pub fn import_inputs(inputs: &[Input], options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut diag = source::Diagnostics::default();
    let mut documents = Vec::new();
    for input in inputs {
        let file = diag.add_file(&input.path);
        let root = json::parse(&input.bytes).map_err(|e| ImportError::Json {
            file: input.path.clone(),
            line: e.position.line,
            column: e.position.column,
            message: e.message,
        })?;
        documents.push((file, root, input.parameters));
    }
    let mut parameters = arm::Parameters::default();
    let mut parameter_files = Vec::new();
    for explicit in [false, true] {
        for (file, root, given_as) in &documents {
            if *given_as == explicit && (explicit || arm::is_parameters_file(root)) {
                parameters.extend(arm::read_parameters_file(root, *file, &mut diag)?);
                parameter_files.push(*file);
            }
        }
    }
    for argument in &options.parameters {
        parameters.extend(vec![arm::command_line(argument)?]);
    }
    // Azure checks the names given against the template before it deploys anything; with
    // several templates in one input, a name counts as declared when any of them declares it
    // (**model choice**: nsgsim imports them as one, Azure would deploy each on its own).
    let roots: Vec<(usize, &json::Node)> = documents
        .iter()
        .filter(|(file, root, _)| {
            !parameter_files.contains(file) && !terraform::is_terraform(root) && arm::is_template(root)
        })
        .map(|(file, root, _)| (*file, root))
        .collect();
    if roots.is_empty() {
        for given in parameters.iter() {
            let message =
                format!("parameter '{}' is given, but no ARM template is in the input; ignored", given.name);
            let warning = UndeclaredPlace::of(&given.origin, &diag).warning(message);
            diag.push(warning);
        }
    } else if let Some(refused) = arm::undeclared_parameters(&parameters, &roots, &diag) {
        if !options.allow_undeclared_parameters {
            return Err(ImportError::UndeclaredParameters(Box::new(refused)));
        }
        for warning in refused.warnings() {
            diag.push(warning);
        }
    }
    let mut collected = resource::Collected::default();
    let mut declared_files = Vec::new();
    for (file, root, _) in documents.iter().filter(|(file, _, _)| !parameter_files.contains(file)) {
        if terraform::is_terraform(root) {
            declared_files.push(*file);
            terraform::read(root, *file, &mut diag, &mut collected)?;
        } else if arm::is_template(root) {
            declared_files.push(*file);
            arm::read_template(
                root,
                *file,
                &parameters,
                &options.deployment,
                options.allow_undeclared_parameters,
                &mut diag,
                &mut collected,
            )?;
        } else {
            rest::read(root, *file, &mut diag, &mut collected)?;
        }
    }
    let placeholders = arm::report_placeholders(&collected.placeholders, options.strict, &mut diag)?;
    collected.caveats.extend(placeholders);
    let kinds = collected.summary_types();
    let mut inventory = inventory::Inventory::new(diag);
    // Gaps found while reading (a stand-in id, a route to an allocated address) obey `--strict`
    // as the builder's do.
    inventory.strict = options.strict;
    inventory.declared_files = declared_files;
    inventory.read_all(&collected.resources)?;
    inventory.avnm.deployments = std::mem::take(&mut collected.admin_deployments);
    let mut imported = builder::build(inventory, &kinds, &collected.skipped, options)?;
    imported.scenario.caveats.extend(collected.caveats);
    Ok(imported)
}

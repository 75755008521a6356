//! The ways in: a scenario read from a file or from text, with the options the command line adds
//! (Microsoft's service-tag file), first error or all of them. Each reads the RON, then hands the
//! parsed file to the [`Loader`], which gives every error its position.

use std::path::Path;

use super::{Loader, Scenario};
use crate::scenario::locate::SourceMap;
use crate::scenario::recover::LoadErrors;
use crate::scenario::schema::ScenarioFile;
use crate::scenario::{FieldPath, LoadError};

/// How a scenario is loaded beyond what its own text says.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Microsoft's service-tag file, already read (the command line's `--service-tags FILE`):
    /// it overrides the scenario's `service_tags_file`.
    pub service_tags: Option<std::sync::Arc<crate::model::ServiceTagFile>>,
}

/// Reads and loads a scenario file.
///
/// # Errors
/// Unreadable file, RON syntax, or meaning errors, each with the position.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    load_file_all(path).map_err(|errors| errors.first)
}

/// Reads and loads a scenario file with `options` (see [`load_file`]).
///
/// # Errors
/// As [`load_file`].
pub fn load_file_with(path: &Path, options: &LoadOptions) -> Result<Scenario, LoadError> {
    load_file_all_with(path, options).map_err(|errors| errors.first)
}

/// Reads and loads a scenario file, reporting every independent error (see [`load_str_all`]).
///
/// # Errors
/// An unreadable file (or one that is not UTF-8, at the first bad byte), a RON syntax error, or
/// every meaning error found.
pub fn load_file_all(path: &Path) -> Result<Scenario, LoadErrors> {
    load_file_all_with(path, &LoadOptions::default())
}

/// Reads and loads a scenario file with `options`, reporting every independent error (see
/// [`load_file_all`]).
///
/// # Errors
/// As [`load_file_all`].
pub fn load_file_all_with(path: &Path, options: &LoadOptions) -> Result<Scenario, LoadErrors> {
    let text = crate::text::read_file(path).map_err(|e| {
        LoadErrors::one(LoadError {
            file: path.to_path_buf(),
            position: match &e {
                crate::text::ReadError::NotUtf8(at) => Some(at.position),
                crate::text::ReadError::Io(_) => None,
            },
            field: None,
            message: e.to_string(),
        })
    })?;
    load_str_all_with(&text, path, options)
}

/// Loads a scenario from `text`, naming `path` in errors.
///
/// # Errors
/// RON syntax or meaning errors, each with the position.
pub fn load_str(text: &str, path: &Path) -> Result<Scenario, LoadError> {
    load_str_all(text, path).map_err(|errors| errors.first)
}

/// Loads a scenario from `text` with `options`, naming `path` in errors (see [`load_str`]).
///
/// # Errors
/// As [`load_str`].
pub fn load_str_with(text: &str, path: &Path, options: &LoadOptions) -> Result<Scenario, LoadError> {
    load_str_all_with(text, path, options).map_err(|errors| errors.first)
}

/// Loads a scenario from `text`, naming `path` in errors, and reports every independent error
/// rather than the first: each top-level item (a VNet, an NSG, a VM, a timeline step…) that is
/// wrong is reported and left out, and its references elsewhere are not reported again.
///
/// # Errors
/// A RON syntax error (alone: nothing after it can be read), or every meaning error found.
pub fn load_str_all(text: &str, path: &Path) -> Result<Scenario, LoadErrors> {
    load_str_all_with(text, path, &LoadOptions::default())
}

/// Loads a scenario from `text` with `options`, reporting every independent error (see
/// [`load_str_all`]).
///
/// # Errors
/// As [`load_str_all`].
pub fn load_str_all_with(
    text: &str,
    path: &Path,
    load_options: &LoadOptions,
) -> Result<Scenario, LoadErrors> {
    let options = ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let file: ScenarioFile = options.from_str(text).map_err(|e| {
        LoadErrors::one(LoadError {
            file: path.to_path_buf(),
            position: Some(crate::position::Position::new(e.span.start.line, e.span.start.col)),
            field: None,
            message: syntax_message(&e.code),
        })
    })?;
    let loader = Loader {
        path,
        options: load_options,
        map: SourceMap::new(text),
        warnings: Default::default(),
        errors: Default::default(),
        skipped: Default::default(),
    };
    loader.load(file)
}

impl Loader<'_> {
    /// Microsoft's service-tag file for this load: the command line's, else the scenario's
    /// `service_tags_file` (relative to the scenario) read now; `None` without either, or when
    /// the scenario's cannot be read (its error, in the tag file, is recorded).
    pub(super) fn service_tag_file(
        &self,
        written: Option<&str>,
    ) -> Option<std::sync::Arc<crate::model::ServiceTagFile>> {
        if let Some(given) = &self.options.service_tags {
            return Some(std::sync::Arc::clone(given));
        }
        let written = written?;
        let resolved = self.path.parent().unwrap_or(Path::new("")).join(written);
        match crate::scenario::read_service_tag_file(&resolved, &resolved.display().to_string()) {
            Ok(file) => Some(std::sync::Arc::new(file)),
            Err(mut e) => {
                if e.position.is_none() {
                    // The file could not be opened: point at the field that names it.
                    e = LoadError {
                        file: self.path.to_path_buf(),
                        position: self.map.find(&FieldPath::root("service_tags_file"), written),
                        field: Some(FieldPath::root("service_tags_file")),
                        message: format!(
                            "'{}' (read as {}): {}; valid: the path of Microsoft's service tag JSON, relative to the scenario",
                            crate::text::shown(written),
                            resolved.display(),
                            e.message
                        ),
                    };
                }
                self.errors.borrow_mut().push(e);
                None
            }
        }
    }
}

fn syntax_message(code: &ron::Error) -> String {
    let text = code.to_string();
    match code {
        ron::Error::NoSuchStructField { .. } => {
            format!("{text} (see docs/scenario-format.md for every field)")
        }
        ron::Error::MissingStructField { .. } => {
            format!("{text}; valid: the field is required (see docs/scenario-format.md for every field)")
        }
        // RON's syntax messages say what it expected, but not always ("Non-whitespace trailing
        // characters"): every one points at the format, so that no refusal leaves the user
        // without what is valid.
        _ => format!("{text} (valid: the scenario format of docs/scenario-format.md)"),
    }
}

//! Load errors: where in which file, which field, which value, and what would be valid.

use std::fmt;
use std::path::PathBuf;

/// Why a scenario file could not be loaded. Printed on one line, like a compiler diagnostic:
/// `scenarios/x.ron:12:27: vms[0].nics[0].private_ip: nic 'vm1-nic': private IP 10.0.2.4 is outside …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<crate::position::Position>,
    /// The field path (`nsgs[0].rules[2].priority`), where known.
    pub field: Option<super::FieldPath>,
    /// The message: what is wrong, with the bad value and what is valid.
    pub message: String,
}

impl LoadError {
    /// The field path as the message writes it (`nsgs[0].rules[2].priority`), where known.
    pub fn field_text(&self) -> Option<String> {
        self.field.as_ref().map(ToString::to_string)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(position) = self.position {
            write!(f, ":{position}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

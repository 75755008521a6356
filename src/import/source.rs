//! Where a value was read, and the warnings and errors that point there.
//!
//! Every stage of the pipeline names what it reads by a [`Src`]: the input file, the JSON path
//! as read (`resources[2](copyIndex=1).properties.subnets[0]`) and the position the reader's
//! tree gave the value (for a value a template expression made, that expression's position).
//! [`Diagnostics`] owns the list of files and collects warnings, and makes the errors, so that
//! every message reads `file:LINE:COLUMN: PATH: message`.
//!
//! A reader that translates its input into Azure's shape (the Terraform reader turns
//! `security_rule[0].priority` into `properties.securityRules[0].properties.priority`) keeps
//! each value's position and records the path the value has in its own file
//! ([`Diagnostics::alias`]); messages then name that path, so that the path and the position
//! point at the same text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::arm::ResourceRef;
use super::json::Node;
use super::json_position::{Position, file_position};
use super::{ImportError, Warning};

/// Where a value was read: the file (an index into [`Diagnostics`]' files), the JSON path as
/// read, and where the value is in the file's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Src {
    /// The file's index.
    pub file: usize,
    /// The JSON path of the value as read. After a resource copy loop it carries the iteration
    /// (`resources[2](copyIndex=1)`); inside a property copy loop it names the array the loop
    /// makes (`securityRules[3]`).
    pub path: String,
    /// Where the value starts (for a value an expression makes, the expression; for a member
    /// that is missing, the object that lacks it); `None` when not known.
    pub position: Option<Position>,
}

impl Src {
    /// The document `file` itself.
    pub fn root(file: usize, node: &Node) -> Src {
        Src { file, path: String::new(), position: Some(node.position) }
    }

    /// The path for people: `(root)` for the document itself.
    pub fn shown(&self) -> String {
        if self.path.is_empty() { "(root)".into() } else { self.path.clone() }
    }

    /// The member or index `field` (`name`, `[3]`, `a.b`) of this value, at this value's
    /// position (where a member that is missing would go).
    pub fn at(&self, field: &str) -> Src {
        Src { file: self.file, path: join(&self.path, field), position: self.position }
    }

    /// The member or index `field`, found at `node`.
    pub fn child(&self, field: &str, node: &Node) -> Src {
        Src { file: self.file, path: join(&self.path, field), position: Some(node.position) }
    }

    /// The member `field` of the object at this value: at the member's value when `node` has
    /// it (found without ASCII case, named as spelt), else at the object.
    pub fn member(&self, node: &Node, field: &str) -> Src {
        match node.as_object().and_then(|o| o.member(field)) {
            Some((key, value)) => self.child(key, value),
            None => self.at(field),
        }
    }

    /// Item `index` of the array at this value, found at `node`.
    pub fn item(&self, index: usize, node: &Node) -> Src {
        self.child(&format!("[{index}]"), node)
    }
}

/// `base` joined with `field`: `.field`, or `[i]` as it is.
pub fn join(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_string()
    } else if field.starts_with('[') || field.starts_with('(') {
        format!("{base}{field}")
    } else {
        format!("{base}.{field}")
    }
}

/// The inputs' file names, the warnings collected so far, and the paths values have in their
/// own files when a reader translated them.
#[derive(Debug, Default)]
pub struct Diagnostics {
    files: Vec<PathBuf>,
    warnings: Vec<Warning>,
    /// (file, position of a value) → the value's path in its own file, for values a reader
    /// moved into another shape.
    aliases: HashMap<(usize, Position), String>,
}

impl Diagnostics {
    /// Registers an input file; its index names it in every [`Src`].
    pub fn add_file(&mut self, path: &Path) -> usize {
        self.files.push(path.to_path_buf());
        self.files.len() - 1
    }

    /// The file with index `file`.
    pub fn file(&self, file: usize) -> &Path {
        self.files.get(file).map_or(Path::new(""), PathBuf::as_path)
    }

    /// Every input file, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Records that the value at `position` of `file` has the path `path` in that file: a
    /// reader that moves values into Azure's shape says where each was, and messages about it
    /// name that path.
    pub fn alias(&mut self, file: usize, position: Position, path: String) {
        self.aliases.insert((file, position), path);
    }

    /// The path of the value at `src` as its file has it: the path recorded with
    /// [`Diagnostics::alias`] for its position, else `src`'s own (`(root)` for the document).
    pub fn shown(&self, src: &Src) -> String {
        match src.position.and_then(|p| self.aliases.get(&(src.file, p))) {
            Some(path) => path.clone(),
            None => src.shown(),
        }
    }

    /// `file:LINE:COLUMN: PATH` (or `file: PATH`), for messages that point at another place.
    pub fn place(&self, src: &Src) -> String {
        format!("{}: {}", file_position(self.file(src.file), src.position), self.shown(src))
    }

    /// A warning at `src` (about the file as a whole when the path is empty).
    pub fn warning(&self, src: &Src, message: impl Into<String>) -> Warning {
        let path = if src.path.is_empty() { String::new() } else { self.shown(src) };
        Warning {
            file: self.file(src.file).to_path_buf(),
            position: if src.path.is_empty() { None } else { src.position },
            path,
            message: message.into(),
        }
    }

    /// Records a warning at `src`.
    pub fn warn(&mut self, src: &Src, message: impl Into<String>) {
        let warning = self.warning(src, message);
        self.warnings.push(warning);
    }

    /// Records a warning made elsewhere.
    pub fn push(&mut self, warning: Warning) {
        self.warnings.push(warning);
    }

    /// The warnings, in the order they were found.
    pub fn into_warnings(self) -> Vec<Warning> {
        self.warnings
    }

    /// A value nsgsim cannot use, at `src`: `value` as the input gives it (cut and escaped for
    /// the message), and what is wrong and what is valid.
    pub fn invalid(&self, src: &Src, value: &str, message: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            file: self.file(src.file).to_path_buf(),
            position: src.position,
            path: self.shown(src),
            value: super::json::shorten(value),
            message: message.into(),
        }
    }

    /// A reference at `src` to a resource that is not in the input, or not of the kind needed.
    pub fn unresolved(&self, src: &Src, reference: &ResourceRef, message: impl Into<String>) -> ImportError {
        ImportError::Unresolved {
            file: self.file(src.file).to_path_buf(),
            position: src.position,
            path: self.shown(src),
            reference: format!("{}/{}", reference.kind, reference.names.join("/")),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::json::parse;

    #[test]
    fn members_are_placed_at_their_value_or_at_the_object_that_lacks_them() {
        let node = parse(b"{\n  \"Name\": \"x\"}").expect("JSON");
        let src = Src::root(0, &node);
        let name = src.member(&node, "name");
        assert_eq!((name.path.as_str(), name.position), ("Name", Some(Position { line: 2, column: 11 })));
        let missing = src.member(&node, "type");
        assert_eq!(
            (missing.path.as_str(), missing.position),
            ("type", Some(Position { line: 1, column: 1 }))
        );
        assert_eq!(join("resources[2]", "(copyIndex=1)"), "resources[2](copyIndex=1)");
        assert_eq!(join("a", "[0]"), "a[0]");
        assert_eq!(Src { file: 0, path: String::new(), position: None }.shown(), "(root)");
    }

    #[test]
    fn a_translated_value_is_named_by_its_path_in_its_own_file() {
        let mut d = Diagnostics::default();
        let f = d.add_file(Path::new("plan.json"));
        let at = Position { line: 7, column: 21 };
        let src = Src {
            file: f,
            path: "properties.securityRules[0].properties.priority".into(),
            position: Some(at),
        };
        let terraform =
            "resource_changes[0](azurerm_network_security_group.web).change.after.security_rule[0].priority";
        d.alias(f, at, terraform.into());
        assert_eq!(d.shown(&src), terraform);
        assert_eq!(
            d.invalid(&src, "5000", "bad").to_string(),
            format!("plan.json:7:21: {terraform}: '5000': bad")
        );
        assert_eq!(d.warning(&src, "w").path, terraform);
        let elsewhere = Src { position: Some(Position { line: 8, column: 1 }), ..src };
        assert_eq!(d.shown(&elsewhere), "properties.securityRules[0].properties.priority");
    }

    #[test]
    fn values_in_errors_are_cut_and_escaped() {
        let mut d = Diagnostics::default();
        let f = d.add_file(Path::new("t.json"));
        let src = Src { file: f, path: "a".into(), position: Some(Position { line: 1, column: 2 }) };
        let e = d.invalid(&src, &format!("x\n{}", "y".repeat(300)), "bad").to_string();
        assert!(e.starts_with("t.json:1:2: a: 'x\\nyyy"), "{e}");
        assert!(e.ends_with("…': bad"), "{e}");
    }
}

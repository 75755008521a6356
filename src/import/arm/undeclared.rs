//! Parameter values given for parameters a template does not declare, which Azure refuses.
//!
//! Microsoft's "Create Resource Manager parameter file" says: "Your parameter file can only
//! contain values for parameters that are defined in the template. If your parameter file
//! contains extra parameters that don't match the template's parameters, you receive an error."
//! Azure's answer lists every such parameter at once ("The template parameters 'a, b' in the
//! parameters file are not valid; they are not present in the original template and can therefore
//! not be provided at deployment time"), and so does nsgsim: one [`UndeclaredParameters`] names
//! each, at its name in its parameters file (or as its `--parameter` argument, or at its name in
//! a nested deployment's `properties.parameters`), with what the template declares and what to do.
//!
//! `--allow-undeclared-parameters` turns each into a warning and the value is ignored: a named
//! leniency, a **model choice** (such a value cannot change what a template deploys, since no
//! expression can read it, but Azure would not deploy at all).

use std::path::PathBuf;

use super::params::{Origin, Parameters};
use crate::import::Warning;
use crate::import::json::Node;
use crate::import::json_position::{Position, file_position};
use crate::import::source::{Diagnostics, Src};

/// The most declared names a message lists before it says how many more there are.
pub const LISTED: usize = 20;

/// Where a value for an undeclared parameter was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// In a file (a parameters file, or a template's nested deployment), at the parameter's name.
    File {
        /// The file.
        file: PathBuf,
        /// Where the name starts.
        position: Option<Position>,
        /// The JSON path of the parameter's entry (`parameters.adminPassword`).
        path: String,
    },
    /// A `--parameter NAME=VALUE` argument, as given.
    CommandLine(String),
}

impl Place {
    /// Where the value `origin` was given: at the parameter's name in its file, or its argument.
    pub fn of(origin: &Origin, diag: &Diagnostics) -> Place {
        match origin {
            Origin::File { name, .. } => place(name, diag),
            Origin::CommandLine(argument) => Place::CommandLine(argument.clone()),
        }
    }

    /// A warning `message` at this place (an argument is named as the warning's file).
    pub fn warning(&self, message: String) -> Warning {
        match self {
            Place::File { file, position, path } => {
                Warning { file: file.clone(), position: *position, path: path.clone(), message }
            }
            Place::CommandLine(argument) => Warning {
                file: PathBuf::from(format!("--parameter {}", shown(argument))),
                position: None,
                path: String::new(),
                message,
            },
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::File { file, position, path } => write!(f, "{}: {path}", file_position(file, *position)),
            Place::CommandLine(argument) => write!(f, "--parameter {}", shown(argument)),
        }
    }
}

/// One value given for a parameter the template does not declare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undeclared {
    /// The parameter's name as given.
    pub name: String,
    /// Where it was given.
    pub place: Place,
}

/// What was meant to receive the values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Receiver {
    /// The templates of the input (a parameter counts as declared when any of them declares
    /// it).
    Templates(Vec<PathBuf>),
    /// The template of a nested deployment, which the parent passes `properties.parameters`.
    Nested {
        /// The deployment's name.
        deployment: String,
    },
}

/// Every value given for a parameter its template does not declare: why Azure refuses the
/// deployment. `Display` writes the one-line message, at the first value's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndeclaredParameters {
    /// The values, in the order given (at least one).
    pub given: Vec<Undeclared>,
    /// Who does not declare them.
    pub receiver: Receiver,
    /// The parameters the receiver declares, as spelt there.
    pub declared: Vec<String>,
}

impl std::fmt::Display for UndeclaredParameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(first) = self.given.first() else { return Ok(()) };
        let receiver = match &self.receiver {
            Receiver::Templates(files) if files.len() == 1 => {
                format!("the template {}", files[0].display())
            }
            Receiver::Templates(files) => format!(
                "any of the templates ({})",
                files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            Receiver::Nested { deployment } => {
                format!("the template of nested deployment '{}'", crate::import::json::shorten(deployment))
            }
        };
        write!(f, "{}: ", first.place)?;
        if self.given.len() == 1 {
            write!(f, "parameter '{}' is not declared by {receiver}", shown(&first.name))?;
        } else {
            let names: Vec<String> = self
                .given
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    if i == 0 {
                        format!("'{}' (here)", shown(&g.name))
                    } else {
                        format!("'{}' ({})", shown(&g.name), g.place)
                    }
                })
                .collect();
            write!(
                f,
                "{} parameters are not declared by {receiver}: {}",
                self.given.len(),
                names.join(", ")
            )?;
        }
        f.write_str(
            "; Azure refuses the deployment (\"If your parameter file contains extra parameters that don't match the template's parameters, you receive an error\")",
        )?;
        match self.declared.len() {
            0 => f.write_str("; parameters declared: none")?,
            n if n <= LISTED => write!(f, "; parameters declared: {}", listed(&self.declared))?,
            n => write!(
                f,
                "; parameters declared: {}, and {} more",
                listed(&self.declared[..LISTED]),
                n - LISTED
            )?,
        }
        let (it, from) = match (&self.receiver, self.given.len()) {
            (Receiver::Nested { .. }, 1) => ("it", "the deployment's properties.parameters"),
            (Receiver::Nested { .. }, _) => ("them", "the deployment's properties.parameters"),
            (_, 1) if matches!(first.place, Place::CommandLine(_)) => ("the argument", "the command"),
            (_, 1) => ("it", "the parameters file"),
            (_, _) => ("them", "the parameters files and arguments"),
        };
        write!(
            f,
            "; remove {it} from {from}, or pass --allow-undeclared-parameters to import without {it}, with a warning (model choice)"
        )
    }
}

impl UndeclaredParameters {
    /// The warnings `--allow-undeclared-parameters` gives instead of the error: one per value,
    /// at its place.
    pub fn warnings(&self) -> Vec<Warning> {
        self.given.iter().map(|given| given.place.warning(self.warning(given))).collect()
    }

    /// The warning for one value that `--allow-undeclared-parameters` lets through.
    pub fn warning(&self, given: &Undeclared) -> String {
        let name = shown(&given.name);
        let receiver = match &self.receiver {
            Receiver::Templates(files) if files.len() == 1 => "the template".to_string(),
            Receiver::Templates(_) => "any of the templates".to_string(),
            Receiver::Nested { deployment } => {
                format!("the template of nested deployment '{}'", crate::import::json::shorten(deployment))
            }
        };
        format!(
            "parameter '{name}' is not declared by {receiver}, and Azure refuses a deployment given it; ignored (--allow-undeclared-parameters, a model choice)"
        )
    }
}

/// The values of `parameters` that none of the `templates` (each its file's index and root)
/// declares, names compared without case as ARM compares them; `None` when every value is
/// declared.
pub fn of_templates(
    parameters: &Parameters,
    templates: &[(usize, &Node)],
    diag: &Diagnostics,
) -> Option<UndeclaredParameters> {
    let mut declared: Vec<String> = Vec::new();
    for (_, root) in templates {
        for name in declared_names(root) {
            if !declared.iter().any(|d| d.eq_ignore_ascii_case(&name)) {
                declared.push(name);
            }
        }
    }
    let given: Vec<Undeclared> = parameters
        .iter()
        .filter(|g| !declared.iter().any(|d| d.eq_ignore_ascii_case(&g.name)))
        .map(|g| Undeclared { name: g.name.clone(), place: Place::of(&g.origin, diag) })
        .collect();
    if given.is_empty() {
        return None;
    }
    let files = templates.iter().map(|(file, _)| diag.file(*file).to_path_buf()).collect();
    Some(UndeclaredParameters { given, receiver: Receiver::Templates(files), declared })
}

/// The members of the nested deployment `node`'s (at `src`, named `deployment`)
/// `properties.parameters` that its template `root` does not declare, each at its name; `None`
/// when every one is declared (or the deployment passes none, or not as an object).
pub fn of_nested(
    node: &Node,
    src: &Src,
    root: &Node,
    deployment: &str,
    diag: &Diagnostics,
) -> Option<UndeclaredParameters> {
    let props = node.get("properties")?;
    let passed = props.get("parameters")?;
    let object = passed.as_object()?;
    let at = src.member(node, "properties").member(props, "parameters");
    let declared = declared_names(root);
    let given: Vec<Undeclared> = object
        .iter()
        .filter(|(name, _)| !declared.iter().any(|d| d.eq_ignore_ascii_case(name)))
        .map(|(name, entry)| {
            let child = at.child(name, entry);
            let name_at = Src { position: object.key_position(name).or(child.position), ..child };
            Undeclared { name: name.to_string(), place: place(&name_at, diag) }
        })
        .collect();
    if given.is_empty() {
        return None;
    }
    Some(UndeclaredParameters {
        given,
        receiver: Receiver::Nested { deployment: deployment.to_string() },
        declared,
    })
}

/// The parameters the template `root` declares, in its order.
fn declared_names(root: &Node) -> Vec<String> {
    let declared = root.get("parameters").and_then(Node::as_object);
    declared.into_iter().flat_map(|o| o.keys()).map(str::to_string).collect()
}

fn place(src: &Src, diag: &Diagnostics) -> Place {
    Place::File { file: diag.file(src.file).to_path_buf(), position: src.position, path: diag.shown(src) }
}

fn shown(name: &str) -> String {
    crate::import::json::shorten(name)
}

fn listed(names: &[String]) -> String {
    names.iter().map(|n| shown(n)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: usize, column: usize, path: &str) -> Place {
        Place::File { file: file.into(), position: Some(Position { line, column }), path: path.into() }
    }

    #[test]
    fn one_parameter_is_named_at_its_place_with_what_the_template_declares() {
        let u = UndeclaredParameters {
            given: vec![Undeclared {
                name: "adminPassword".into(),
                place: at("p.json", 7, 5, "parameters.adminPassword"),
            }],
            receiver: Receiver::Templates(vec!["t.json".into()]),
            declared: vec!["location".into(), "vnetName".into()],
        };
        assert_eq!(
            u.to_string(),
            "p.json:7:5: parameters.adminPassword: parameter 'adminPassword' is not declared by the template t.json; Azure refuses the deployment (\"If your parameter file contains extra parameters that don't match the template's parameters, you receive an error\"); parameters declared: location, vnetName; remove it from the parameters file, or pass --allow-undeclared-parameters to import without it, with a warning (model choice)"
        );
        assert_eq!(
            u.warning(&u.given[0]),
            "parameter 'adminPassword' is not declared by the template, and Azure refuses a deployment given it; ignored (--allow-undeclared-parameters, a model choice)"
        );
    }

    #[test]
    fn every_parameter_is_listed_in_one_message_and_long_declarations_are_cut() {
        let u = UndeclaredParameters {
            given: vec![
                Undeclared { name: "a".into(), place: at("p.json", 3, 5, "parameters.a") },
                Undeclared { name: "b\nc".into(), place: Place::CommandLine("b\nc=1".into()) },
            ],
            receiver: Receiver::Templates(vec!["t1.json".into(), "t2.json".into()]),
            declared: (0..23).map(|i| format!("p{i}")).collect(),
        };
        let text = u.to_string();
        assert!(
            text.starts_with(
                "p.json:3:5: parameters.a: 2 parameters are not declared by any of the templates (t1.json, t2.json): 'a' (here), 'b\\nc' (--parameter b\\nc=1); Azure refuses"
            ),
            "{text}"
        );
        assert!(text.contains("; parameters declared: p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15, p16, p17, p18, p19, and 3 more; remove them from the parameters files and arguments, or pass --allow-undeclared-parameters to import without them"), "{text}");
        let cli = UndeclaredParameters {
            given: vec![Undeclared {
                name: "colour".into(),
                place: Place::CommandLine("colour=blue".into()),
            }],
            receiver: Receiver::Templates(vec!["t.json".into()]),
            declared: Vec::new(),
        };
        assert_eq!(
            cli.to_string(),
            "--parameter colour=blue: parameter 'colour' is not declared by the template t.json; Azure refuses the deployment (\"If your parameter file contains extra parameters that don't match the template's parameters, you receive an error\"); parameters declared: none; remove the argument from the command, or pass --allow-undeclared-parameters to import without the argument, with a warning (model choice)"
        );
    }

    #[test]
    fn a_nested_deployment_names_itself() {
        let u = UndeclaredParameters {
            given: vec![Undeclared {
                name: "extra".into(),
                place: at("t.json", 30, 13, "resources[1].properties.parameters.extra"),
            }],
            receiver: Receiver::Nested { deployment: "inner".into() },
            declared: vec!["vnetName".into()],
        };
        assert_eq!(
            u.to_string(),
            "t.json:30:13: resources[1].properties.parameters.extra: parameter 'extra' is not declared by the template of nested deployment 'inner'; Azure refuses the deployment (\"If your parameter file contains extra parameters that don't match the template's parameters, you receive an error\"); parameters declared: vnetName; remove it from the deployment's properties.parameters, or pass --allow-undeclared-parameters to import without it, with a warning (model choice)"
        );
        assert_eq!(
            u.warning(&u.given[0]),
            "parameter 'extra' is not declared by the template of nested deployment 'inner', and Azure refuses a deployment given it; ignored (--allow-undeclared-parameters, a model choice)"
        );
    }
}

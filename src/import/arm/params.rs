//! Parameter values for templates, as `az deployment group create` takes them: parameters files
//! (`--parameters FILE`, or a parameters file given among the inputs) and `--parameter
//! NAME=VALUE`, later ones winning.
//!
//! A parameters file is Microsoft's `deploymentParameters` document, `{"$schema": "…/
//! deploymentParameters.json#", "parameters": {"name": {"value": …}}}`, or the bare
//! `{"name": {"value": …}}` that `az` also accepts. A value may instead be a Key Vault
//! reference (`{"reference": {"keyVault": {"id": …}, "secretName": …}}`), which only the
//! deployment can read: it is kept as a labelled unknown value, with a warning, so that it fails
//! the import only if nsgsim needs it (it never needs a password).
//!
//! Values are checked against the template's declaration as ARM checks them at deployment
//! (type, `allowedValues`, `minValue`/`maxValue`, `minLength`/`maxLength`), each error placed at
//! the value in its file, or naming the `--parameter` argument.

use serde_json::Value as J;

use super::expr::Supplied;
use crate::import::ImportError;
use crate::import::json::Node;
use crate::import::source::{Diagnostics, Src};

/// Where a given value comes from.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A parameters file.
    File {
        /// At the value (or the Key Vault reference).
        value: Src,
        /// At the parameter's name.
        name: Src,
    },
    /// A `--parameter NAME=VALUE` argument, as given.
    CommandLine(String),
}

/// One parameter value given for the templates of an import.
#[derive(Clone, Debug)]
pub struct Given {
    /// The parameter's name as given.
    pub name: String,
    /// The value.
    pub value: GivenValue,
    /// Where it comes from.
    pub origin: Origin,
}

/// A given value, before it meets the template's declaration.
#[derive(Clone, Debug)]
pub enum GivenValue {
    /// A value from a parameters file.
    Json(J),
    /// A value from the command line: the text, and the text read as JSON when it is JSON.
    CommandLine {
        /// The text after `=`.
        raw: String,
        /// The text as JSON, when it parses.
        json: Option<J>,
    },
    /// A Key Vault secret reference.
    KeyVault {
        /// The secret's name.
        secret: String,
        /// The vault's resource id.
        vault: String,
    },
}

/// Every value given, in order: a later value for a name wins.
#[derive(Clone, Debug, Default)]
pub struct Parameters {
    given: Vec<Given>,
}

impl Parameters {
    /// Adds values; they win over those already added.
    pub fn extend(&mut self, values: Vec<Given>) {
        self.given.extend(values);
    }

    /// The value given last for `name` (compared without case, as ARM compares names).
    pub fn get(&self, name: &str) -> Option<&Given> {
        self.given.iter().rev().find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// Every value given, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Given> {
        self.given.iter()
    }
}

/// Reads `--parameter NAME=VALUE`: the value as JSON when it is JSON, else as a string (the
/// template's declared type decides, see [`supplied`]).
///
/// # Errors
/// No `=`, or an empty name.
pub fn command_line(argument: &str) -> Result<Given, ImportError> {
    let Some((name, raw)) = argument.split_once('=') else {
        return Err(ImportError::Parameter {
            argument: argument.to_string(),
            message:
                "expected NAME=VALUE, e.g. --parameter vnetName=prod-vnet or --parameter 'ports=[22, 3389]'"
                    .into(),
        });
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(ImportError::Parameter {
            argument: argument.to_string(),
            message: "the name before '=' is empty".into(),
        });
    }
    Ok(Given {
        name: name.to_string(),
        value: GivenValue::CommandLine { raw: raw.to_string(), json: serde_json::from_str(raw).ok() },
        origin: Origin::CommandLine(argument.to_string()),
    })
}

/// Whether `root` is a parameters file rather than a template or resources: it has no
/// `resources` or `type` member, and its `$schema` says `deploymentParameters`, or it holds only
/// `parameters` (with `$schema`/`contentVersion`), or every member is `{"value": …}` or
/// `{"reference": …}` (the bare form).
///
/// The structure decides before the `$schema`: a parameters file never has `resources`, and a
/// published template may carry the parameters schema by a copy-and-paste slip (held-out batch 5,
/// `84961/SandBoxBudgets`); `az deployment group create --template-file` sends such a file as the
/// template, so nsgsim reads it as one (**model choice**: whether ARM checks the `$schema` is not
/// documented; Microsoft describes it as the schema "that describes the version of the template
/// language" for editors).
pub fn is_parameters_file(root: &Node) -> bool {
    let Some(o) = root.as_object() else { return false };
    if o.contains_key("resources") || o.contains_key("type") {
        return false;
    }
    if o.get("$schema")
        .and_then(Node::as_str)
        .is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters"))
    {
        return true;
    }
    let values = |node: &Node| node.as_object().is_some_and(|m| m.iter().all(|(_, v)| is_value_object(v)));
    match o.get("parameters") {
        Some(p) => {
            values(p)
                && o.keys().all(|k| {
                    ["$schema", "contentVersion", "parameters"].iter().any(|x| x.eq_ignore_ascii_case(k))
                })
        }
        None => !o.is_empty() && values(root),
    }
}

fn is_value_object(node: &Node) -> bool {
    node.as_object().is_some_and(|m| m.contains_key("value") || m.contains_key("reference"))
}

/// The values of a parameters file (either form), each placed in the file.
///
/// # Errors
/// A member that is neither `{"value": …}` nor a Key Vault reference.
pub fn read_file(root: &Node, file: usize, diag: &mut Diagnostics) -> Result<Vec<Given>, ImportError> {
    let top = Src::root(file, root);
    let (members, src) = match root.get("parameters") {
        Some(p) if p.as_object().is_some() => (p, top.member(root, "parameters")),
        _ => (root, top.clone()),
    };
    let Some(object) = members.as_object() else {
        return Err(diag.invalid(
            &src,
            &members.shown(),
            "a parameters file is an object: {\"parameters\": {\"NAME\": {\"value\": …}}}",
        ));
    };
    let mut out = Vec::new();
    for (name, entry) in object.iter() {
        if name.starts_with('$') || name.eq_ignore_ascii_case("contentVersion") {
            continue;
        }
        let at = src.child(name, entry);
        let value = if let Some(v) = entry.get("value") {
            GivenValue::Json(v.to_json())
        } else if let Some(r) = entry.get("reference") {
            let vault = r.get("keyVault").and_then(|k| k.get("id")).and_then(Node::as_str);
            let secret = r.get("secretName").and_then(Node::as_str);
            let (Some(vault), Some(secret)) = (vault, secret) else {
                return Err(diag.invalid(
                    &at.member(entry, "reference"),
                    &r.shown(),
                    "a Key Vault reference is {\"keyVault\": {\"id\": \"<vault resource id>\"}, \"secretName\": \"<secret>\"}",
                ));
            };
            diag.warn(
                &at,
                format!(
                    "parameter '{name}' is a Key Vault reference (secret '{secret}' of {vault}): only the deployment can read it; nsgsim keeps it as an unknown value, an error only where nsgsim needs it"
                ),
            );
            GivenValue::KeyVault { secret: secret.to_string(), vault: vault.to_string() }
        } else {
            return Err(diag.invalid(
                &at,
                &entry.shown(),
                format!("parameter '{name}': expected {{\"value\": …}} or a Key Vault {{\"reference\": …}}"),
            ));
        };
        let name_at = Src { position: object.key_position(name).or(at.position), ..at.clone() };
        let origin = match entry.get("value") {
            Some(_) => Origin::File { value: at.member(entry, "value"), name: name_at },
            None => Origin::File { value: at, name: name_at },
        };
        out.push(Given { name: name.to_string(), value, origin });
    }
    Ok(out)
}

/// The value a template's parameter declared as `declaration` gets from `given`, checked as ARM
/// checks it at deployment.
///
/// # Errors
/// A value of the wrong type, not among `allowedValues`, or out of `minValue`/`maxValue`/
/// `minLength`/`maxLength`; placed at the value, or naming the `--parameter` argument.
pub fn supplied(
    name: &str,
    declaration: &J,
    given: &Given,
    diag: &Diagnostics,
) -> Result<Supplied, ImportError> {
    let declared = declaration.get("type").and_then(J::as_str).unwrap_or("").to_ascii_lowercase();
    let value = match &given.value {
        GivenValue::KeyVault { secret, vault } => {
            return Ok(Supplied::KeyVault { secret: secret.clone(), vault: vault.clone() });
        }
        GivenValue::Json(v) => v.clone(),
        // From the command line a string parameter takes the text as it is (`name=5` is the
        // string "5"), as `az` does; other types take the text read as JSON.
        GivenValue::CommandLine { raw, json } => match (declared.as_str(), json) {
            ("string" | "securestring", Some(J::String(s))) => J::String(s.clone()),
            ("string" | "securestring", _) | (_, None) => J::String(raw.clone()),
            (_, Some(v)) => v.clone(),
        },
    };
    check(name, &declared, declaration, &value).map_err(|refusal| match &given.origin {
        Origin::File { value: src, .. } => diag.invalid(src, &shown(&value), refusal.to_string()),
        Origin::CommandLine(argument) => {
            ImportError::Parameter { argument: argument.clone(), message: refusal.to_string() }
        }
    })?;
    Ok(Supplied::Value(value))
}

fn shown(value: &J) -> String {
    match value {
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Why ARM refuses a parameter's value at deployment: the parameter, the value and the bound of
/// its declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParameterRefusal {
    /// A value of another type than declared.
    Type {
        /// The parameter.
        name: String,
        /// Its declared type, lower case.
        declared: String,
        /// The value's JSON type.
        found: &'static str,
    },
    /// A value (or an item of an array value) not among `allowedValues`.
    NotAllowed {
        /// The parameter.
        name: String,
        /// The value, as shown.
        value: String,
        /// The allowed values, as shown.
        allowed: Vec<String>,
    },
    /// An integer below `minValue`.
    BelowMin {
        /// The parameter.
        name: String,
        /// The value.
        value: i64,
        /// Its `minValue`.
        min: i64,
    },
    /// An integer above `maxValue`.
    AboveMax {
        /// The parameter.
        name: String,
        /// The value.
        value: i64,
        /// Its `maxValue`.
        max: i64,
    },
    /// A string or array shorter than `minLength`.
    TooShort {
        /// The parameter.
        name: String,
        /// Its length.
        len: usize,
        /// `characters` or `items`.
        unit: &'static str,
        /// Its `minLength`.
        min: i64,
    },
    /// A string or array longer than `maxLength`.
    TooLong {
        /// The parameter.
        name: String,
        /// Its length.
        len: usize,
        /// `characters` or `items`.
        unit: &'static str,
        /// Its `maxLength`.
        max: i64,
    },
}

impl std::fmt::Display for ParameterRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParameterRefusal::Type { name, declared, found } => {
                write!(f, "parameter '{name}' is declared as {declared}, and the value is {found}")
            }
            ParameterRefusal::NotAllowed { name, value, allowed } => write!(
                f,
                "parameter '{name}': '{value}' is not one of the allowedValues ({}); Azure refuses the deployment (\"The parameter value is not part of the allowed values\")",
                allowed.join(", ")
            ),
            ParameterRefusal::BelowMin { name, value, min } => {
                write!(f, "parameter '{name}': {value} is below its minValue {min}")
            }
            ParameterRefusal::AboveMax { name, value, max } => {
                write!(f, "parameter '{name}': {value} is above its maxValue {max}")
            }
            ParameterRefusal::TooShort { name, len, unit, min } => {
                write!(f, "parameter '{name}' has {len} {unit}, fewer than its minLength {min}")
            }
            ParameterRefusal::TooLong { name, len, unit, max } => {
                write!(f, "parameter '{name}' has {len} {unit}, more than its maxLength {max}")
            }
        }
    }
}

/// ARM's checks of a parameter value against its declaration.
fn check(name: &str, declared: &str, declaration: &J, value: &J) -> Result<(), ParameterRefusal> {
    let name_ = || name.to_string();
    let type_ok = match declared {
        "string" | "securestring" => value.is_string(),
        "int" => value.as_i64().is_some(),
        "bool" => value.is_boolean(),
        "array" => value.is_array(),
        "object" | "secureobject" => value.is_object(),
        _ => true,
    };
    if !type_ok {
        return Err(ParameterRefusal::Type {
            name: name_(),
            declared: declared.to_string(),
            found: kind(value),
        });
    }
    if let Some(J::Array(allowed)) = declaration.get("allowedValues") {
        let items: Vec<&J> = match value {
            J::Array(items) if declared == "array" => items.iter().collect(),
            one => vec![one],
        };
        for item in items {
            if !allowed.iter().any(|a| same(a, item)) {
                return Err(ParameterRefusal::NotAllowed {
                    name: name_(),
                    value: shown(item),
                    allowed: allowed.iter().map(shown).collect(),
                });
            }
        }
    }
    let bound = |key: &str| declaration.get(key).and_then(J::as_i64);
    if let Some(n) = value.as_i64() {
        if let Some(min) = bound("minValue").filter(|min| n < *min) {
            return Err(ParameterRefusal::BelowMin { name: name_(), value: n, min });
        }
        if let Some(max) = bound("maxValue").filter(|max| n > *max) {
            return Err(ParameterRefusal::AboveMax { name: name_(), value: n, max });
        }
    }
    let length = match value {
        J::String(s) => Some((s.chars().count(), "characters")),
        J::Array(items) => Some((items.len(), "items")),
        _ => None,
    };
    if let Some((len, unit)) = length {
        let len_i = i64::try_from(len).unwrap_or(i64::MAX);
        if let Some(min) = bound("minLength").filter(|min| len_i < *min) {
            return Err(ParameterRefusal::TooShort { name: name_(), len, unit, min });
        }
        if let Some(max) = bound("maxLength").filter(|max| len_i > *max) {
            return Err(ParameterRefusal::TooLong { name: name_(), len, unit, max });
        }
    }
    Ok(())
}

/// Whether a value matches an allowed value: strings without case (model choice, see
/// docs/fidelity.md), anything else exactly.
fn same(allowed: &J, value: &J) -> bool {
    match (allowed, value) {
        (J::String(a), J::String(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    }
}

/// What kind of value `value` is, for messages, integers named as the `int` type does.
fn kind(value: &J) -> &'static str {
    if value.is_i64() { "an integer" } else { crate::import::json::kind_of(value) }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::import::json::parse;

    fn file(text: &str) -> (Node, Diagnostics) {
        let mut diag = Diagnostics::default();
        diag.add_file(Path::new("p.json"));
        (parse(text.as_bytes()).expect("JSON"), diag)
    }

    #[test]
    fn both_forms_and_key_vault_references_are_read_and_recognised() {
        let (root, mut diag) = file(
            r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
                "contentVersion": "1.0.0.0",
                "parameters": {"vnetName": {"value": "prod"}, "adminPassword": {"reference": {"keyVault": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/kv"}, "secretName": "pw"}}}}"#,
        );
        assert!(is_parameters_file(&root));
        let given = read_file(&root, 0, &mut diag).expect("reads");
        assert_eq!(given.len(), 2);
        assert!(matches!(&given[0].value, GivenValue::Json(J::String(s)) if s == "prod"));
        let Origin::File { value: src, name } = &given[0].origin else { panic!("a file") };
        assert_eq!(
            (src.path.as_str(), src.position.map(|p| (p.line, p.column))),
            ("parameters.vnetName.value", Some((3, 54)))
        );
        assert_eq!(
            (name.path.as_str(), name.position.map(|p| (p.line, p.column))),
            ("parameters.vnetName", Some((3, 32)))
        );
        assert!(matches!(&given[1].value, GivenValue::KeyVault { secret, .. } if secret == "pw"));
        let warnings = diag.into_warnings();
        assert!(
            warnings[0]
                .to_string()
                .contains("parameter 'adminPassword' is a Key Vault reference (secret 'pw'"),
            "{}",
            warnings[0]
        );
        let (bare, _) = file(r#"{"a": {"value": 1}, "b": {"value": [1]}}"#);
        assert!(is_parameters_file(&bare));
        for not in
            [r#"{"resources": []}"#, r#"{"type": "x", "value": {"value": 1}}"#, r#"{"a": 1}"#, "{}", "[]"]
        {
            assert!(!is_parameters_file(&file(not).0), "{not}");
        }
    }

    /// Held-out batch 5 (`84961/SandBoxBudgets`): a template whose `$schema` names the parameters
    /// schema is still a template when it has `resources`; a file with the same `$schema` and
    /// only `parameters` stays a parameters file.
    #[test]
    fn a_template_with_the_parameters_schema_is_a_template() {
        let schema = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#";
        let (template, _) = file(&format!(
            r#"{{"$schema": "{schema}", "contentVersion": "1.0.0.0",
                "parameters": {{"budgetName": {{"type": "string", "defaultValue": "b"}}}}, "resources": []}}"#
        ));
        assert!(!is_parameters_file(&template));
        let (params, _) =
            file(&format!(r#"{{"$schema": "{schema}", "parameters": {{"budgetName": {{"value": "b"}}}}}}"#));
        assert!(is_parameters_file(&params));
    }

    #[test]
    fn values_are_checked_against_the_declaration() {
        let decl =
            serde_json::json!({"type": "string", "allowedValues": ["Standard", "Basic"], "maxLength": 8});
        let diag = Diagnostics::default();
        let cli = |arg: &str| command_line(arg).expect("NAME=VALUE");
        assert_eq!(
            supplied("sku", &decl, &cli("sku=standard"), &diag).ok(),
            Some(Supplied::Value(J::String("standard".into())))
        );
        let e = supplied("sku", &decl, &cli("sku=Premium"), &diag).expect_err("not allowed").to_string();
        assert_eq!(
            e,
            "--parameter sku=Premium: parameter 'sku': 'Premium' is not one of the allowedValues (Standard, Basic); Azure refuses the deployment (\"The parameter value is not part of the allowed values\")"
        );
        // A string parameter takes the command line's text as it is.
        let plain = serde_json::json!({"type": "string"});
        assert_eq!(
            supplied("n", &plain, &cli("n=5"), &diag).ok(),
            Some(Supplied::Value(J::String("5".into())))
        );
        let int = serde_json::json!({"type": "int", "minValue": 1, "maxValue": 5});
        assert_eq!(supplied("n", &int, &cli("n=5"), &diag).ok(), Some(Supplied::Value(serde_json::json!(5))));
        assert!(
            supplied("n", &int, &cli("n=9"), &diag)
                .expect_err("max")
                .to_string()
                .contains("9 is above its maxValue 5")
        );
        assert!(
            supplied("n", &int, &cli("n=x"), &diag)
                .expect_err("type")
                .to_string()
                .contains("declared as int, and the value is a string")
        );
        let array = serde_json::json!({"type": "array", "allowedValues": [22, 3389], "minLength": 1});
        assert!(
            supplied("p", &array, &cli("p=[22, 80]"), &diag)
                .expect_err("80")
                .to_string()
                .contains("'80' is not one of")
        );
        assert!(
            supplied("p", &array, &cli("p=[]"), &diag)
                .expect_err("empty")
                .to_string()
                .contains("fewer than its minLength 1")
        );
        assert!(command_line("novalue").is_err());
        assert!(command_line("=1").is_err());
    }
}

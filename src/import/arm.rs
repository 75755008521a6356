//! Resource ids and the small part of the ARM template expression language that names resources.
//!
//! Azure refers to a resource by its id, `/subscriptions/S/resourceGroups/G/providers/
//! Microsoft.Network/virtualNetworks/V/subnets/S`, which `az` prints literally and templates
//! build with `[resourceId('Microsoft.Network/virtualNetworks/subnets', 'V', 'S')]`. Both become
//! a [`ResourceRef`]: the full resource type and the chain of names. Names are compared without
//! regard to case, as Azure does.
//!
//! Supported template functions: `resourceId`, `parameters` (a parameter's `defaultValue`),
//! `variables`, `concat` and `format` of strings, with string and integer literals. Anything else
//! (`reference()`, `resourceGroup().location`, property access, …) cannot be resolved offline and
//! is reported with its JSON path.

use serde_json::{Map, Value};

/// A reference to a resource: its full type and names (`Microsoft.Network/virtualNetworks/subnets`,
/// `["vnet1", "web"]`), plus the subscription and resource group when the id names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRef {
    /// The full resource type, as written.
    pub kind: String,
    /// One name per type segment after the namespace.
    pub names: Vec<String>,
    /// The subscription, from a literal id.
    pub subscription: Option<String>,
    /// The resource group, from a literal id.
    pub resource_group: Option<String>,
}

impl ResourceRef {
    /// The case-insensitive lookup key: `type|name/name`.
    pub fn key(&self) -> String {
        key(&self.kind, &self.names)
    }

    /// The last name (the resource's own name).
    pub fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or("")
    }
}

/// The case-insensitive lookup key of a resource type and its names.
pub fn key(kind: &str, names: &[String]) -> String {
    format!("{}|{}", kind.to_ascii_lowercase(), names.join("/").to_ascii_lowercase())
}

/// What an expression evaluated to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArmValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A `resourceId(...)`.
    Ref(ResourceRef),
    /// Any other JSON value (an object or array parameter).
    Json(Value),
}

/// The template's `parameters` and `variables`, for `parameters('x')` and `variables('x')`.
#[derive(Clone, Debug, Default)]
pub struct TemplateScope {
    /// The template's `parameters` object.
    pub parameters: Map<String, Value>,
    /// The template's `variables` object.
    pub variables: Map<String, Value>,
}

/// Parses a literal resource id. `None` when `text` is not one.
pub fn parse_id(text: &str) -> Option<ResourceRef> {
    let segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let find = |label: &str| lower.iter().position(|s| s == label).and_then(|i| segments.get(i + 1));
    let subscription = find("subscriptions").map(|s| s.to_string());
    let resource_group = find("resourcegroups").map(|s| s.to_string());
    let providers = lower.iter().rposition(|s| s == "providers")?;
    let rest = &segments[providers + 1..];
    let (namespace, pairs) = rest.split_first()?;
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return None;
    }
    let mut kind = namespace.to_string();
    let mut names = Vec::new();
    for pair in pairs.chunks(2) {
        kind.push('/');
        kind.push_str(pair[0]);
        names.push(pair[1].to_string());
    }
    Some(ResourceRef { kind, names, subscription, resource_group })
}

/// Evaluates a JSON string value: a template expression `[...]` or a literal (`[[` escapes a
/// literal `[`).
///
/// # Errors
/// A message saying what cannot be evaluated and why.
pub fn eval_string(text: &str, scope: &TemplateScope) -> Result<ArmValue, String> {
    let trimmed = text.trim();
    if let Some(rest) = trimmed.strip_prefix("[[") {
        return Ok(ArmValue::Str(format!("[{rest}")));
    }
    if trimmed.starts_with('[') && trimmed.ends_with(']') && trimmed.len() >= 2 {
        let body = &trimmed[1..trimmed.len() - 1];
        let mut parser = Parser { chars: body.chars().collect(), pos: 0, scope, depth: 0 };
        let value = parser.expression()?;
        parser.skip_ws();
        if parser.pos != parser.chars.len() {
            return Err(format!(
                "unsupported template expression '{text}': unexpected '{}' at character {}",
                parser.chars[parser.pos..].iter().collect::<String>(),
                parser.pos + 2
            ));
        }
        return Ok(value);
    }
    Ok(ArmValue::Str(text.to_string()))
}

/// Evaluates any JSON value that may hold an expression: strings are evaluated, numbers pass.
///
/// # Errors
/// See [`eval_string`].
pub fn eval_value(value: &Value, scope: &TemplateScope) -> Result<ArmValue, String> {
    match value {
        Value::String(s) => eval_string(s, scope),
        Value::Number(n) => n.as_i64().map(ArmValue::Int).ok_or_else(|| format!("{n} is not an integer")),
        other => Ok(ArmValue::Json(other.clone())),
    }
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    scope: &'a TemplateScope,
    depth: u8,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn expression(&mut self) -> Result<ArmValue, String> {
        self.skip_ws();
        match self.chars.get(self.pos) {
            Some('\'') => self.string().map(ArmValue::Str),
            Some(c) if c.is_ascii_digit() || *c == '-' => self.number(),
            Some(c) if c.is_ascii_alphabetic() => self.call(),
            Some(c) => Err(format!("unsupported template expression: unexpected '{c}'")),
            None => Err("empty template expression".into()),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.chars.get(self.pos) {
                Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                    out.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(*c);
                    self.pos += 1;
                }
                None => return Err("unterminated string literal in template expression".into()),
            }
        }
    }

    fn number(&mut self) -> Result<ArmValue, String> {
        let start = self.pos;
        self.pos += 1;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse().map(ArmValue::Int).map_err(|_| format!("'{text}' is not an integer"))
    }

    fn call(&mut self) -> Result<ArmValue, String> {
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        self.skip_ws();
        if self.chars.get(self.pos) != Some(&'(') {
            return Err(format!("unsupported template expression: '{name}' is not a function call"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            if self.chars.get(self.pos) == Some(&')') {
                self.pos += 1;
                break;
            }
            args.push(self.expression()?);
            self.skip_ws();
            match self.chars.get(self.pos) {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    return Err(format!(
                        "unsupported template expression: expected ',' or ')' in {name}(...)"
                    ));
                }
            }
        }
        if self.chars.get(self.pos).is_some_and(|c| *c == '.' || *c == '[') {
            return Err(format!(
                "unsupported template expression: property access after {name}(...) cannot be resolved offline"
            ));
        }
        self.apply(&name, args)
    }

    fn apply(&mut self, name: &str, args: Vec<ArmValue>) -> Result<ArmValue, String> {
        let strings = |args: &[ArmValue]| -> Result<Vec<String>, String> {
            args.iter()
                .map(|a| match a {
                    ArmValue::Str(s) => Ok(s.clone()),
                    ArmValue::Int(n) => Ok(n.to_string()),
                    other => Err(format!("{name}() takes strings, not {other:?}")),
                })
                .collect()
        };
        match name.to_ascii_lowercase().as_str() {
            "parameters" => {
                let [ArmValue::Str(p)] = args.as_slice() else {
                    return Err("parameters() takes one string".into());
                };
                let Some(param) = self.scope.parameters.get(p) else {
                    return Err(format!("parameters('{p}'): the template declares no parameter '{p}'"));
                };
                let Some(default) = param.get("defaultValue") else {
                    return Err(format!(
                        "parameters('{p}'): the parameter has no defaultValue; give one in the template (the value is only known at deployment)"
                    ));
                };
                self.nested(default)
            }
            "variables" => {
                let [ArmValue::Str(v)] = args.as_slice() else {
                    return Err("variables() takes one string".into());
                };
                let Some(value) = self.scope.variables.get(v) else {
                    return Err(format!("variables('{v}'): the template declares no variable '{v}'"));
                };
                self.nested(&value.clone())
            }
            "concat" => Ok(ArmValue::Str(strings(&args)?.concat())),
            "format" => {
                let parts = strings(&args)?;
                let Some((fmt, rest)) = parts.split_first() else {
                    return Err("format() needs a format string".into());
                };
                let mut out = fmt.clone();
                for (i, part) in rest.iter().enumerate() {
                    out = out.replace(&format!("{{{i}}}"), part);
                }
                Ok(ArmValue::Str(out))
            }
            "resourceid" => {
                let parts = strings(&args)?;
                // Optional subscription id and resource group come before the type, which is the
                // first argument of the form Namespace/type.
                let Some(type_at) = parts.iter().position(|p| p.contains('/') && p.contains('.')) else {
                    return Err("resourceId() needs a resource type such as 'Microsoft.Network/networkSecurityGroups'".into());
                };
                let kind = parts[type_at].clone();
                let names: Vec<String> = parts[type_at + 1..].to_vec();
                let segments = kind.split('/').count() - 1;
                if names.len() != segments {
                    return Err(format!(
                        "resourceId('{kind}', ...) needs {segments} name(s), got {}",
                        names.len()
                    ));
                }
                let (subscription, resource_group) = match type_at {
                    2 => (Some(parts[0].clone()), Some(parts[1].clone())),
                    1 => (None, Some(parts[0].clone())),
                    _ => (None, None),
                };
                Ok(ArmValue::Ref(ResourceRef { kind, names, subscription, resource_group }))
            }
            other => Err(format!(
                "unsupported template function '{other}()'; nsgsim resolves resourceId, parameters (defaultValue), variables, concat and format"
            )),
        }
    }

    fn nested(&mut self, value: &Value) -> Result<ArmValue, String> {
        self.depth += 1;
        if self.depth > 16 {
            return Err("template expressions nest too deeply (a variable refers to itself?)".into());
        }
        let out = match value {
            Value::String(s) => eval_string(s, self.scope),
            other => eval_value(other, self.scope),
        };
        self.depth -= 1;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> TemplateScope {
        let v: Value = serde_json::json!({
            "parameters": {"nsgName": {"type": "string", "defaultValue": "web-nsg"},
                           "noDefault": {"type": "string"}},
            "variables": {"vnet": "prod", "subnetRef": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnet'), 'web')]"}
        });
        TemplateScope {
            parameters: v["parameters"].as_object().cloned().unwrap_or_default(),
            variables: v["variables"].as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn literal_ids_parse_into_type_and_names() {
        let r = parse_id("/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/prod/subnets/web")
            .expect("an id");
        assert_eq!(r.kind, "Microsoft.Network/virtualNetworks/subnets");
        assert_eq!(r.names, ["prod", "web"]);
        assert_eq!(r.subscription.as_deref(), Some("s1"));
        assert_eq!(r.resource_group.as_deref(), Some("rg1"));
        assert!(parse_id("web-nsg").is_none());
        assert!(parse_id("/subscriptions/s1/providers/Microsoft.Network/virtualNetworks").is_none());
    }

    #[test]
    fn expressions_resolve_parameters_variables_and_resource_ids() {
        let s = scope();
        assert_eq!(eval_string("[parameters('nsgName')]", &s), Ok(ArmValue::Str("web-nsg".into())));
        assert_eq!(
            eval_string("[concat(parameters('nsgName'), '-', 'x')]", &s),
            Ok(ArmValue::Str("web-nsg-x".into()))
        );
        assert_eq!(eval_string("[format('{0}-{1}', 'a', 2)]", &s), Ok(ArmValue::Str("a-2".into())));
        let ArmValue::Ref(r) = eval_string("[variables('subnetRef')]", &s).expect("a ref") else {
            panic!("not a ref")
        };
        assert_eq!(r.key(), "microsoft.network/virtualnetworks/subnets|prod/web");
        let err = eval_string("[parameters('noDefault')]", &s).expect_err("no default");
        assert!(err.contains("defaultValue"), "{err}");
        assert!(eval_string("[resourceGroup().location]", &s).is_err());
        assert_eq!(eval_string("[[literal]", &s), Ok(ArmValue::Str("[literal]".into())));
        assert_eq!(eval_string("plain", &s), Ok(ArmValue::Str("plain".into())));
    }
}

//! Where the placeholders of parameters given no value stand in what the reader made, and what
//! the import says of them.
//!
//! The expression evaluator makes a placeholder for a `string` or `securestring` parameter with
//! neither a value nor a `defaultValue` (see [`super::expr::placeholder`]), and the body
//! evaluator lets one stand only in a name or a resource id. Here the reader writes each
//! placeholder as it reads in a scenario (`param.vmName`, the same for every use, so a NIC's
//! subnet id still names the subnet) and records where it stood; once the templates are read,
//! [`report`] makes one warning per parameter listing those places and a `Placeholder` caveat of
//! the scenario, or under `--strict` an error: Azure would ask for the value at deployment.

use std::collections::BTreeSet;

use super::expr::placeholder;
use crate::import::ImportError;
use crate::import::json::{Node, Object, Value};
use crate::import::json_position::file_position;
use crate::import::source::{Diagnostics, Src, join};
use crate::scenario::schema::{CaveatKindSpec, CaveatSpec};

/// One place a placeholder stands: the parameter (as the template names it) and where.
pub type Use = (String, Src);

/// How many places a warning lists before "and N more".
const LISTED: usize = 6;

/// `raw` (a resource's name, at `src`) with its placeholders written out; each recorded in
/// `uses`.
pub fn name(raw: &str, src: &Src, uses: &mut Vec<Use>) -> String {
    if !placeholder::in_str(raw) {
        return raw.to_string();
    }
    record(raw, src, uses);
    placeholder::render(raw)
}

/// The evaluated body `node` of the resource at `src`, with its placeholders written out; each
/// recorded in `uses` at its JSON path.
pub fn body(node: Node, src: &Src, uses: &mut Vec<Use>) -> Node {
    walk(node, src, "", uses)
}

fn walk(node: Node, src: &Src, path: &str, uses: &mut Vec<Use>) -> Node {
    let position = node.position;
    let value = match node.value {
        Value::String(s) if placeholder::in_str(&s) => {
            let at = Src { file: src.file, path: join(&src.path, path), position: Some(position) };
            record(&s, &at, uses);
            Value::String(placeholder::render(&s))
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| walk(item, src, &format!("{path}[{i}]"), uses))
                .collect(),
        ),
        Value::Object(o) => {
            let mut out = Object::new();
            for (k, n) in o.iter() {
                out.insert(k.to_string(), walk(n.clone(), src, &join(path, k), uses));
            }
            Value::Object(out)
        }
        other => other,
    };
    Node::new(value, position)
}

fn record(text: &str, src: &Src, uses: &mut Vec<Use>) {
    let mut names = BTreeSet::new();
    placeholder::names_in_str(text, &mut names);
    for n in names {
        uses.push((n, src.clone()));
    }
}

/// One warning per parameter whose placeholder stands somewhere (at its first place, listing
/// the others) and a `Placeholder` caveat each; under `strict`, the error at the first place.
///
/// # Errors
/// `strict` and a placeholder stands somewhere.
pub fn report(uses: &[Use], strict: bool, diag: &mut Diagnostics) -> Result<Vec<CaveatSpec>, ImportError> {
    // Parameters by name without case (`toLower()` may have changed a placeholder's case), in
    // the order first used.
    let mut parameters: Vec<(&str, Vec<&Src>)> = Vec::new();
    for (name, src) in uses {
        match parameters.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((n, places)) => {
                // The template's own spelling, where `toLower()` made the first use lower case.
                if n.chars().all(|c| !c.is_uppercase()) {
                    *n = name;
                }
                places.push(src);
            }
            None => parameters.push((name, vec![src])),
        }
    }
    let mut caveats = Vec::new();
    for (name, places) in parameters {
        let first = places[0];
        let shown = placeholder::render(&placeholder::make(name));
        if strict {
            return Err(diag.invalid(
                first,
                &shown,
                format!(
                    "parameters('{name}') has no value and no defaultValue (Azure asks for it at deployment); --strict refuses its placeholder '{shown}'; valid: pass it with --parameters FILE or --parameter {name}=VALUE"
                ),
            ));
        }
        let mut listed: Vec<&str> = Vec::new();
        for p in &places {
            if !listed.contains(&p.path.as_str()) {
                listed.push(&p.path);
            }
        }
        let more = listed.len().saturating_sub(LISTED);
        let mut at = listed.iter().take(LISTED).copied().collect::<Vec<_>>().join(", ");
        if more > 0 {
            at.push_str(&format!(" and {more} more"));
        }
        let reason = format!(
            "parameters('{name}') has no value and no defaultValue (Azure asks for it at deployment): the names it makes read '{shown}' (a model choice), in {at}; give it with --parameters FILE or --parameter {name}=VALUE"
        );
        diag.warn(first, reason.clone());
        let source = file_position(diag.file(first.file), first.position);
        caveats.push(CaveatSpec::new(
            CaveatKindSpec::Placeholder,
            format!("parameters('{name}')"),
            source,
            reason,
        ));
    }
    Ok(caveats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::json::parse;

    #[test]
    fn placeholders_are_written_out_and_each_place_is_recorded() {
        let p = placeholder::make("vmName");
        let text =
            format!(r#"{{"properties": {{"subnet": {{"id": "/x/{p}"}}, "plain": "a"}}, "tags": ["{p}"]}}"#);
        let node = parse(text.as_bytes()).expect("JSON");
        let src = Src { file: 0, path: "resources[1]".into(), position: None };
        let mut uses = Vec::new();
        let out = body(node, &src, &mut uses);
        let id = out.get("properties").and_then(|p| p.get("subnet")).and_then(|s| s.get("id"));
        assert_eq!(id.and_then(Node::as_str), Some("/x/param.vmName"));
        let paths: Vec<&str> = uses.iter().map(|(_, s)| s.path.as_str()).collect();
        assert_eq!(paths, ["resources[1].properties.subnet.id", "resources[1].tags[0]"]);
        assert_eq!(name(&format!("{p}-nic"), &src, &mut uses), "param.vmName-nic");
        assert_eq!(name("plain", &src, &mut uses), "plain");
        assert_eq!(uses.len(), 3);
    }
}

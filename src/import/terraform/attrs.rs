//! Reading one Terraform object's attributes (a resource's values or one of its blocks) beside
//! the plan's `after_unknown`, which says which of them only the apply will know; and making the
//! Azure-shaped values the other readers produce, each at the position of the Terraform value it
//! comes from.
//!
//! Terraform writes an unset string as `""` and an unset list as `[]`; both read as absent, as
//! Azure leaves such properties out.

use super::Res;
use crate::import::json::{Node, Object, Value};
use crate::import::json_position::Position;
use crate::import::source::{Diagnostics, Src};

/// The attributes of one object, with what `after_unknown` says of them and where it is.
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    /// The object.
    pub node: &'a Node,
    /// Its `after_unknown` counterpart: `true` for the whole object, or an object of the same
    /// shape with `true` at the values only the apply knows.
    pub unknown: Option<&'a Node>,
    /// Where it is.
    pub src: Src,
}

/// A block list: known (its blocks), or known only after the apply.
#[derive(Debug)]
pub enum Blocks<'a> {
    /// The blocks as planned (maybe none).
    Known(Vec<Attrs<'a>>),
    /// The whole list is only known after the apply.
    Unknown,
}

impl<'a> Attrs<'a> {
    /// Where the object starts.
    pub fn position(&self) -> Position {
        self.node.position
    }

    /// Azure's `sku` object (`name`, and `tier` when set) from the provider's `sku` and
    /// `sku_tier` attributes, at the `sku` attribute; `None` when `sku` is not set.
    pub fn sku(&self) -> Option<Node> {
        let (name, _) = self.value("sku")?;
        let mut sku = vec![("name", name.clone())];
        if let Some((tier, _)) = self.value("sku_tier") {
            sku.push(("tier", tier.clone()));
        }
        Some(object(name.position, sku))
    }

    /// The value of `name` when it is set (not absent, `null`, `""` or `[]`), and where it is.
    pub fn value(&self, name: &str) -> Option<(&'a Node, Src)> {
        let node = self.node.get(name)?;
        let empty = match &node.value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(items) => items.is_empty(),
            _ => false,
        };
        (!empty).then(|| (node, self.src.member(self.node, name)))
    }

    /// Whether `after_unknown` says `name` is only known after the apply (the whole attribute,
    /// or the whole object it is in).
    pub fn is_unknown(&self, name: &str) -> bool {
        match self.unknown {
            Some(u) if u.as_bool() == Some(true) => true,
            Some(u) => u.get(name).and_then(Node::as_bool) == Some(true),
            None => false,
        }
    }

    /// Whether anything of `name` is only known after the apply (`true`, or `true` anywhere in
    /// its `after_unknown` counterpart).
    pub fn has_unknown(&self, name: &str) -> bool {
        fn any_true(n: &Node) -> bool {
            match &n.value {
                Value::Bool(b) => *b,
                Value::Array(items) => items.iter().any(any_true),
                Value::Object(o) => o.iter().any(|(_, v)| any_true(v)),
                _ => false,
            }
        }
        self.is_unknown(name) || self.unknown.and_then(|u| u.get(name)).is_some_and(any_true)
    }

    /// A set string (numbers and booleans read as their text), and where it is.
    ///
    /// # Errors
    /// A value of another kind.
    pub fn text(&self, name: &str, diag: &Diagnostics) -> Res<Option<(String, &'a Node, Src)>> {
        let Some((node, at)) = self.value(name) else { return Ok(None) };
        let text = match &node.value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(diag.invalid(
                    &at,
                    &node.shown(),
                    format!("{name}: expected a string, found {}", node.kind()),
                ));
            }
        };
        Ok(Some((text, node, at)))
    }

    /// A set boolean.
    ///
    /// # Errors
    /// A value that is not `true` or `false`.
    pub fn flag(&self, name: &str, diag: &Diagnostics) -> Res<Option<(bool, &'a Node)>> {
        let Some((node, at)) = self.value(name) else { return Ok(None) };
        match node.as_bool() {
            Some(b) => Ok(Some((b, node))),
            None => Err(diag.invalid(&at, &node.shown(), format!("{name}: expected true or false"))),
        }
    }

    /// The strings of a list attribute (a lone string reads as a list of one), each with its
    /// node and where it is; empty strings are left out.
    ///
    /// # Errors
    /// A value that is neither a string nor a list of strings.
    pub fn texts(&self, name: &str, diag: &Diagnostics) -> Res<Vec<(String, &'a Node, Src)>> {
        let Some((node, at)) = self.value(name) else { return Ok(Vec::new()) };
        let items: Vec<(&Node, Src)> = match &node.value {
            Value::Array(items) => items.iter().enumerate().map(|(i, n)| (n, at.item(i, n))).collect(),
            _ => vec![(node, at.clone())],
        };
        let mut out = Vec::new();
        for (item, item_at) in items {
            match &item.value {
                Value::String(s) if s.is_empty() => {}
                Value::String(s) => out.push((s.clone(), item, item_at)),
                Value::Number(n) => out.push((n.to_string(), item, item_at)),
                Value::Null => {}
                _ => {
                    return Err(diag.invalid(
                        &item_at,
                        &item.shown(),
                        format!("{name}: expected a string, found {}", item.kind()),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The blocks of the block list (or single nested object) `name`.
    ///
    /// # Errors
    /// A value that is neither a list of objects nor an object.
    pub fn blocks(&self, name: &str, diag: &Diagnostics) -> Res<Blocks<'a>> {
        if self.is_unknown(name) {
            return Ok(Blocks::Unknown);
        }
        let Some((node, at)) = self.value(name) else { return Ok(Blocks::Known(Vec::new())) };
        let unknown = self.unknown.and_then(|u| u.get(name));
        let items: Vec<(usize, &Node)> = match &node.value {
            Value::Array(items) => items.iter().enumerate().collect(),
            Value::Object(_) => vec![(0, node)],
            _ => return Err(diag.invalid(&at, &node.shown(), format!("{name}: expected a list of blocks"))),
        };
        let mut out = Vec::new();
        for (i, item) in items {
            let item_at = if node.as_array().is_some() { at.item(i, item) } else { at.clone() };
            if item.as_object().is_none() {
                return Err(diag.invalid(
                    &item_at,
                    &item.shown(),
                    format!("{name}: expected a block (an object)"),
                ));
            }
            let item_unknown = match unknown {
                Some(u) if u.as_array().is_some() => u.as_array().and_then(|a| a.get(i)),
                other => other,
            };
            out.push(Attrs { node: item, unknown: item_unknown, src: item_at });
        }
        Ok(Blocks::Known(out))
    }

    /// The names of the attributes of the object, with their values.
    pub fn members(&self) -> impl Iterator<Item = (&'a str, &'a Node)> {
        self.node.as_object().into_iter().flat_map(Object::iter)
    }
}

/// An Azure-shaped object at `at` with these members (in order).
pub fn object<'k>(at: Position, members: impl IntoIterator<Item = (&'k str, Node)>) -> Node {
    let mut o = Object::new();
    for (key, node) in members {
        o.insert(key.to_string(), node);
    }
    Node::new(Value::Object(o), at)
}

/// A string at `at`.
pub fn text(at: Position, value: &str) -> Node {
    Node::new(Value::String(value.to_string()), at)
}

/// A boolean at `at`.
pub fn flag(at: Position, value: bool) -> Node {
    Node::new(Value::Bool(value), at)
}

/// A list at `at`.
pub fn list(at: Position, items: Vec<Node>) -> Node {
    Node::new(Value::Array(items), at)
}

/// A reference as Azure writes one, `{"id": …}`, at `at`.
pub fn reference(at: Position, id: &str) -> Node {
    object(at, [("id", text(at, id))])
}

/// The strings as a list at `at`, each at its own position.
pub fn texts(at: Position, items: &[(String, &Node, Src)]) -> Node {
    list(at, items.iter().map(|(s, n, _)| text(n.position, s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::json::parse;

    #[test]
    fn unset_values_read_as_absent_and_unknowns_are_seen() {
        let node =
            parse(br#"{"a": "", "b": [], "c": null, "d": "x", "e": ["1", "", "2"], "blk": [{"s": "y"}]}"#)
                .expect("JSON");
        let unknown = parse(br#"{"f": true, "blk": [{"id": true}]}"#).expect("JSON");
        let attrs = Attrs {
            node: &node,
            unknown: Some(&unknown),
            src: Src { file: 0, path: "after".into(), position: None },
        };
        let diag = Diagnostics::default();
        for absent in ["a", "b", "c", "zz"] {
            assert!(attrs.value(absent).is_none(), "{absent}");
        }
        let (d, _, at) = attrs.text("d", &diag).expect("ok").expect("set");
        assert_eq!((d.as_str(), at.path.as_str()), ("x", "after.d"));
        let e: Vec<String> = attrs.texts("e", &diag).expect("ok").into_iter().map(|(s, _, _)| s).collect();
        assert_eq!(e, ["1", "2"]);
        assert!(attrs.is_unknown("f") && !attrs.is_unknown("d"));
        assert!(attrs.has_unknown("blk") && !attrs.is_unknown("blk"));
        let Blocks::Known(blocks) = attrs.blocks("blk", &diag).expect("ok") else { panic!("known") };
        assert!(blocks[0].is_unknown("id"));
        assert_eq!(blocks[0].src.path, "after.blk[0]");
        assert!(matches!(attrs.blocks("f", &diag), Ok(Blocks::Unknown)));
        assert!(attrs.text("blk", &diag).is_err());
    }
}

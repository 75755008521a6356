//! A field of a scenario file as data: the steps from the file's root to the value at fault
//! (`timeline[3].action.rule.priority` is the field `timeline`, item 3, the fields `action`,
//! `rule` and `priority`). A [`super::LoadError`] and a [`crate::sim::SimError`] carry one, so
//! that a caller that needs part of it (the classroom's API names the field inside the step it
//! was sent) takes segments rather than cutting the text; `Display` writes the path as every
//! message has written it.
//!
//! A field is a `FieldPath`, built, never parsed back: the loader builds each path segment by
//! segment while it walks the file ([`FieldPath::root`], then [`FieldPath::field`],
//! [`FieldPath::index`], [`FieldPath::key`]), the simulator joins the field it names inside an
//! action to the step's own path ([`FieldPath::join`]), import names each origin's part by one,
//! and a serde error's path (Microsoft's service-tag file) is converted segment by segment
//! ([`FieldPath::from_serde_path`]). There is no parser: text is only written, never read back.
//! The [`super::SourceMap`] that positions an error is keyed by the text it writes, and finds a
//! path left out of the file by the written text of its enclosing paths
//! ([`FieldPath::written_with_parents`]), not by cutting text.

use std::borrow::Cow;
use std::fmt;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A named field: `action`, `priority` (a name the code spells is borrowed, not copied).
    Field(Cow<'static, str>),
    /// An item of a list: `[3]`.
    Index(usize),
    /// An entry of a map, by its key: `["AzureCloud"]`.
    Key(String),
}

/// The path of a field in a scenario file (or in Microsoft's service-tag file, for its errors).
///
/// Built by segments, each step returning a new path so that a parent can be shared by its
/// children: `FieldPath::root("vnets").index(2).field("subnets")` is written
/// `vnets[2].subnets`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// The top-level field `name` (`timeline`, `nsgs`).
    pub fn root(name: impl Into<Cow<'static, str>>) -> FieldPath {
        FieldPath { segments: vec![Segment::Field(name.into())] }
    }

    /// This path followed by `segment`.
    fn then(&self, segment: Segment) -> FieldPath {
        let mut segments = Vec::with_capacity(self.segments.len() + 1);
        segments.extend_from_slice(&self.segments);
        segments.push(segment);
        FieldPath { segments }
    }

    /// The field `name` of the value at this path (`nsgs[0]` → `nsgs[0].rules`).
    #[must_use]
    pub fn field(&self, name: impl Into<Cow<'static, str>>) -> FieldPath {
        self.then(Segment::Field(name.into()))
    }

    /// Item `index` of the list at this path (`nsgs` → `nsgs[0]`).
    #[must_use]
    pub fn index(&self, index: usize) -> FieldPath {
        self.then(Segment::Index(index))
    }

    /// The entry `key` of the map at this path (`service_tags` → `service_tags["Sql"]`).
    #[must_use]
    pub fn key(&self, key: impl Into<String>) -> FieldPath {
        self.then(Segment::Key(key.into()))
    }

    /// This path followed by every segment of `relative` (a step's action path joined with
    /// the field the simulator names inside the action, `rule.priority`).
    #[must_use]
    pub fn join(&self, relative: &FieldPath) -> FieldPath {
        let mut segments = Vec::with_capacity(self.segments.len() + relative.segments.len());
        segments.extend_from_slice(&self.segments);
        segments.extend_from_slice(&relative.segments);
        FieldPath { segments }
    }

    /// The path of the fields `names` in turn, relative to a value (`["rule", "priority"]` is
    /// `rule.priority`); empty for none.
    pub fn fields(names: &[&'static str]) -> FieldPath {
        FieldPath { segments: names.iter().map(|n| Segment::Field(Cow::Borrowed(*n))).collect() }
    }

    /// The path serde_path_to_error recorded while reading a JSON file (Microsoft's service-tag
    /// file), segment by segment: an item of a list is an index, a member or variant a field
    /// (serde writes both as `.name`), and a step it could not name the field `?`, as serde
    /// writes it. So the text is the one serde would write (`values[3].properties`).
    pub fn from_serde_path(path: &serde_path_to_error::Path) -> FieldPath {
        use serde_path_to_error::Segment as Serde;
        let segments = path
            .iter()
            .map(|s| match s {
                Serde::Seq { index } => Segment::Index(*index),
                Serde::Map { key } | Serde::Enum { variant: key } => Segment::Field(Cow::Owned(key.clone())),
                Serde::Unknown => Segment::Field(Cow::Borrowed("?")),
            })
            .collect();
        FieldPath { segments }
    }

    /// The steps, root first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether the path has no segment (the value as a whole).
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The text of this path, and where the text of each enclosing path ends in it, longest
    /// first down to the root field (`a.b[2]`: 6, 3, 1); for the empty path, 0 alone. A table
    /// keyed by written paths (the [`super::SourceMap`]) finds the nearest enclosing entry by
    /// slicing, without reading the text back.
    pub fn written_with_parents(&self) -> (String, Vec<usize>) {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(self.segments.len().max(1));
        if self.segments.is_empty() {
            ends.push(0);
        }
        for (i, segment) in self.segments.iter().enumerate() {
            // Writing to a String cannot fail.
            let _ = write_segment(&mut text, i, segment);
            ends.push(text.len());
        }
        ends.reverse();
        (text, ends)
    }

    /// The field inside a timeline step's action or expectation (`timeline[4].action.user` →
    /// `user`, `timeline[4].expect.port` → `port`); `None` for any other field, the step's own
    /// (`timeline[4].at`) and the action as a whole included.
    pub fn within_step(&self) -> Option<FieldPath> {
        match self.segments.as_slice() {
            [Segment::Field(timeline), Segment::Index(_), Segment::Field(part), inside @ ..]
                if timeline == "timeline" && (part == "action" || part == "expect") && !inside.is_empty() =>
            {
                Some(FieldPath { segments: inside.to_vec() })
            }
            _ => None,
        }
    }
}

impl From<&FieldPath> for FieldPath {
    fn from(path: &FieldPath) -> FieldPath {
        path.clone()
    }
}

/// Writes `segment`, the `i`-th of its path: a field after the first with its `.`.
fn write_segment(out: &mut impl fmt::Write, i: usize, segment: &Segment) -> fmt::Result {
    match segment {
        Segment::Field(name) if i == 0 => out.write_str(name),
        Segment::Field(name) => write!(out, ".{name}"),
        Segment::Index(index) => write!(out, "[{index}]"),
        Segment::Key(key) => write!(out, "[\"{key}\"]"),
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.segments.iter().enumerate().try_for_each(|(i, segment)| write_segment(f, i, segment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &'static str) -> Segment {
        Segment::Field(Cow::Borrowed(name))
    }

    #[test]
    fn a_built_path_holds_fields_indexes_and_keys() {
        let p = FieldPath::root("timeline").index(3).field("action").field("rule").field("priority");
        assert_eq!(
            p.segments(),
            [field("timeline"), Segment::Index(3), field("action"), field("rule"), field("priority")]
        );
        let p = FieldPath::root("firewalls").index(0).field("fqdns").key("a.b").index(2);
        assert_eq!(
            p.segments(),
            [
                field("firewalls"),
                Segment::Index(0),
                field("fqdns"),
                Segment::Key("a.b".into()),
                Segment::Index(2)
            ]
        );
        // A field named at run time equals the same name spelled in the code.
        assert_eq!(FieldPath::root("nsgs").index(0).field(format!("{}_asgs", "source")), {
            FieldPath::root("nsgs").index(0).field("source_asgs")
        });
        assert!(FieldPath::default().is_empty());
        assert_eq!(FieldPath::fields(&[]), FieldPath::default());
    }

    #[test]
    fn a_built_path_is_written_as_the_loader_wrote_it_as_text() {
        let (ni, ri, tag, role) = (0, 12, "Sql.WestEurope", "Reader");
        for (built, text) in [
            (
                FieldPath::root("nsgs").index(ni).field("rules").index(ri).field("destination_ports"),
                format!("nsgs[{ni}].rules[{ri}].destination_ports"),
            ),
            (FieldPath::root("service_tags").key(tag), format!("service_tags[\"{tag}\"]")),
            (FieldPath::root("service_tags").key(tag).index(1), format!("service_tags[\"{tag}\"][1]")),
            (
                FieldPath::root("roles").key(role).field("actions").index(0),
                format!("roles[\"{role}\"].actions[0]"),
            ),
            (FieldPath::root("peerings").index(2).index(1), "peerings[2][1]".to_string()),
            (FieldPath::root("changeNumber"), "changeNumber".to_string()),
            (FieldPath::default(), String::new()),
        ] {
            assert_eq!(built.to_string(), text);
        }
        // A key is written as given, quotes and brackets included, as `format!` wrote it.
        let odd = "a\"b]c.d";
        assert_eq!(FieldPath::root("roles").key(odd).to_string(), format!("roles[\"{odd}\"]"));
        assert_eq!(FieldPath::root("roles").key(odd).segments()[1], Segment::Key(odd.into()));
    }

    #[test]
    fn a_child_leaves_its_parent_as_it_was_and_join_appends_a_relative_path() {
        let step = FieldPath::root("timeline").index(3);
        let action = step.field("action");
        assert_eq!(step.to_string(), "timeline[3]");
        assert_eq!(
            action.join(&FieldPath::fields(&["rule", "priority"])).to_string(),
            "timeline[3].action.rule.priority"
        );
        assert_eq!(action.join(&FieldPath::default()), action);
        assert_eq!(FieldPath::from(&action), action);
    }

    #[test]
    fn a_path_is_written_with_where_each_enclosing_path_ends() {
        let written = |p: FieldPath| {
            let (text, ends) = p.written_with_parents();
            ends.iter().map(|&end| text[..end].to_string()).collect::<Vec<_>>()
        };
        assert_eq!(written(FieldPath::root("a").field("b").index(2)), ["a.b[2]", "a.b", "a"]);
        // Brackets and dots inside a map key are the key's, not a path's.
        assert_eq!(written(FieldPath::root("roles").key("x[1].y")), ["roles[\"x[1].y\"]", "roles"]);
        assert_eq!(written(FieldPath::root("a")), ["a"]);
        assert_eq!(written(FieldPath::default()), [""]);
    }

    #[test]
    fn a_serde_path_becomes_the_segments_serde_writes() {
        #[derive(serde::Deserialize, Debug)]
        #[expect(dead_code, reason = "read only to fail")]
        struct Tag {
            name: String,
            properties: Props,
        }
        #[derive(serde::Deserialize, Debug)]
        #[expect(dead_code, reason = "read only to fail")]
        struct Props {
            prefixes: Vec<u8>,
        }
        for (json, text) in [
            (r#"[{"name": "a", "properties": {"prefixes": [1, "x"]}}]"#, "[0].properties.prefixes[1]"),
            (r#"[{"name": 3}]"#, "[0].name"),
            (r#"{}"#, "."),
        ] {
            let mut de = serde_json::Deserializer::from_str(json);
            let e = serde_path_to_error::deserialize::<_, Vec<Tag>>(&mut de).expect_err("malformed");
            assert_eq!(e.path().to_string(), text, "{json}");
            let built = FieldPath::from_serde_path(e.path());
            let want = if text == "." { String::new() } else { text.to_string() };
            assert_eq!(built.to_string(), want, "{json}");
        }
        let mut de = serde_json::Deserializer::from_str(r#"[{"name": 3}]"#);
        let e = serde_path_to_error::deserialize::<_, Vec<Tag>>(&mut de).expect_err("malformed");
        assert_eq!(FieldPath::from_serde_path(e.path()).segments(), [Segment::Index(0), field("name")]);
    }

    #[test]
    fn the_field_inside_a_step_is_the_part_after_its_action_or_expectation() {
        let step = FieldPath::root("timeline").index(3);
        let inside = |p: FieldPath| p.within_step();
        assert_eq!(inside(step.field("action").field("user")), Some(FieldPath::root("user")));
        assert_eq!(
            inside(step.field("expect").field("rule").field("priority")),
            Some(FieldPath::fields(&["rule", "priority"]))
        );
        assert_eq!(inside(step.field("at")), None);
        assert_eq!(inside(step.field("action")), None, "the action as a whole");
        assert_eq!(inside(FieldPath::root("nsgs").index(0).field("action").field("x")), None, "not a step");
    }
}

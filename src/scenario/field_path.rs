//! A field of a scenario file as data: the steps from the file's root to the value at fault
//! (`timeline[3].action.rule.priority` is the field `timeline`, item 3, the fields `action`,
//! `rule` and `priority`). A [`super::LoadError`] carries one, so that a caller that needs part
//! of it (the classroom's API names the field inside the step it was sent) takes segments rather
//! than cutting the text; `Display` writes the path as every message has written it.
//!
//! The loader builds its paths as text while it walks the file (the [`super::SourceMap`] that
//! positions an error is keyed by the same text); [`FieldPath::parse`] reads that text into
//! segments once, where a fault becomes a `LoadError`. It is lossless: `parse(t).to_string()`
//! is `t` for every `t`, so every message stays as it was.

use std::fmt;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A named field: `action`, `priority`.
    Field(String),
    /// An item of a list: `[3]`.
    Index(usize),
    /// An entry of a map, by its key: `["AzureCloud"]`.
    Key(String),
    /// Text the path grammar does not cover, kept as written so that the path's text stays
    /// exact (no path the loader writes needs it).
    Raw(String),
}

/// The path of a field in a scenario file (or in Microsoft's service-tag file, for its errors).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// The path written `text` (`nsgs[0].rules[2].priority`, `service_tags["Sql"]`).
    pub fn parse(text: &str) -> FieldPath {
        let mut segments = Vec::new();
        let mut rest = text;
        let name_end = |s: &str| s.find(['.', '[']).unwrap_or(s.len());
        // A path starts with a field's name, or with an index (`[0].name` of a JSON array).
        let first = name_end(rest);
        if first > 0 {
            segments.push(Segment::Field(rest[..first].to_string()));
            rest = &rest[first..];
        }
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = name_end(after);
                segments.push(Segment::Field(after[..end].to_string()));
                rest = &after[end..];
            } else if let Some((key, after)) = rest.strip_prefix("[\"").and_then(|r| r.split_once("\"]")) {
                segments.push(Segment::Key(key.to_string()));
                rest = after;
            } else if let Some((index, after)) = rest.strip_prefix('[').and_then(|r| r.split_once(']'))
                && let Some(i) = canonical_index(index)
            {
                segments.push(Segment::Index(i));
                rest = after;
            } else {
                segments.push(Segment::Raw(rest.to_string()));
                break;
            }
        }
        FieldPath { segments }
    }

    /// The steps, root first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
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

/// `text` as an index when it is written as the loader writes one (digits, no leading zero),
/// so that writing it again gives the same text.
fn canonical_index(text: &str) -> Option<usize> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Field(name) if i == 0 => f.write_str(name)?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => write!(f, "[\"{key}\"]")?,
                Segment::Raw(text) => f.write_str(text)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Segment {
        Segment::Field(name.to_string())
    }

    #[test]
    fn a_path_is_read_into_fields_indexes_and_keys() {
        let p = FieldPath::parse("timeline[3].action.rule.priority");
        assert_eq!(
            p.segments(),
            [field("timeline"), Segment::Index(3), field("action"), field("rule"), field("priority")]
        );
        let p = FieldPath::parse("firewalls[0].fqdns[\"a.b\"][2]");
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
        assert_eq!(FieldPath::parse("[0].name").segments(), [Segment::Index(0), field("name")]);
        assert_eq!(FieldPath::parse("").segments(), []);
    }

    #[test]
    fn every_path_is_written_back_as_it_was_read() {
        for text in [
            "nsgs[0].rules[12].destination_ports",
            "service_tags[\"Sql.WestEurope\"]",
            "roles[\"Reader\"].actions[0]",
            "values[1].properties.addressPrefixes[0]",
            "changeNumber",
            "",
            "a..b",
            "a[007]",
            "a[x]",
            "a[\"unterminated",
            "a.",
            "[",
            "x[1]]",
        ] {
            assert_eq!(FieldPath::parse(text).to_string(), text);
        }
        assert_eq!(FieldPath::parse("a[007]").segments(), [field("a"), Segment::Raw("[007]".into())]);
    }

    #[test]
    fn the_field_inside_a_step_is_the_part_after_its_action_or_expectation() {
        let inside = |t: &str| FieldPath::parse(t).within_step().map(|p| p.to_string());
        assert_eq!(inside("timeline[3].action.user").as_deref(), Some("user"));
        assert_eq!(inside("timeline[3].expect.rule.priority").as_deref(), Some("rule.priority"));
        assert_eq!(inside("timeline[3].at"), None);
        assert_eq!(inside("timeline[3].action"), None, "the action as a whole");
        assert_eq!(inside("nsgs[0].action.x"), None, "not a step");
    }
}

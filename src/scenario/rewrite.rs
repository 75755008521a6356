//! A scenario's timeline taken apart and put back: each step's text as written, a step written
//! later resolved against the scenario exactly as the loader resolves the file's own, and the
//! file's text with a new timeline in place of the old.
//!
//! The live classroom (`serve`) records what a class does as steps and saves them as a lesson:
//! the original text with only its `timeline` replaced, so the topology, comments and layout stay
//! as their author wrote them, and the steps are read back by the same code that reads them now.

use super::FieldPath;
use super::load::Loader;
use super::locate::SourceMap;
use super::schema::StepSpec;
use super::{LoadError, Scenario};
use crate::sim::Step;

impl Scenario {
    /// Resolves `spec`, a step written against this scenario, as the loader resolves the step at
    /// `timeline[index]` of its file: names to ids, every value checked. A `RequestJit` id is not
    /// checked against other steps (the caller knows which steps it keeps).
    ///
    /// # Errors
    /// The loader's error, with the field path of the value at fault
    /// (`timeline[3].action.user`) and no position (the step has no text).
    pub fn resolve_step(&self, spec: &StepSpec, index: usize) -> Result<Step, LoadError> {
        let loader = Loader {
            path: &self.file,
            // The scenario's topology already holds its service tags.
            options: &super::LoadOptions::default(),
            map: SourceMap::new(""),
            warnings: Default::default(),
            errors: Default::default(),
            skipped: Default::default(),
        };
        loader.step(self, spec, index).map_err(|f| loader.error(f))
    }
}

/// The text of each step of the scenario written in `text` (which must have loaded), as written,
/// in file order; empty when it has no timeline.
pub fn timeline_steps(text: &str) -> Vec<&str> {
    let map = SourceMap::new(text);
    (0..)
        .map_while(|i| map.span(&FieldPath::root("timeline").index(i)))
        .map(|(start, end)| &text[start..end])
        .collect()
}

/// `text` (a scenario that loaded) with its timeline replaced by `steps` (each one step's RON
/// text), one step per line; a scenario without a `timeline` field gets one before its closing
/// parenthesis. Everything else stays as written.
pub fn with_timeline(text: &str, steps: &[String]) -> String {
    let map = SourceMap::new(text);
    let mut list = String::from("[\n");
    for step in steps {
        list.push_str("        ");
        list.push_str(step);
        list.push_str(",\n");
    }
    list.push_str("    ]");
    if let Some((start, end)) = map.span(&FieldPath::root("timeline")) {
        return format!("{}{list}{}", &text[..start], &text[end..]);
    }
    // No timeline: add the field before the root's closing parenthesis, after a comma unless the
    // last field already has one.
    let Some((_, root_end)) = map.span(&FieldPath::default()) else { return text.to_string() };
    let close = text[..root_end].rfind(')').unwrap_or(root_end);
    let before = text[..close].trim_end();
    let comma = if before.ends_with(',') || before.ends_with('(') { "" } else { "," };
    format!("{before}{comma}\n    timeline: {list},\n{}", &text[close..])
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::load_str;
    use crate::scenario::schema::ActionSpec;

    const BASE: &str = r#"// A comment that stays.
Scenario(name: "r", start: "2025-01-06T09:00:00Z",
    vnets: [Vnet(name: "v", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "a", prefix: "10.0.1.0/24", nsg: "n")])],
    nsgs: [Nsg(name: "n")],
    vms: [Vm(name: "vm1", os: Linux, nics: [Nic(name: "vm1-nic", subnet: "v/a", private_ip: "10.0.1.4")])],
    users: [User(name: "alice", roles: ["Owner"], source_ip: "203.0.113.7")],
    timeline: [
        (at: "0", note: "first"), // a step comment
        (at: "5m", action: EnableJit(vm: "vm1")),
    ],
)
"#;

    #[test]
    fn steps_are_read_as_written_and_the_timeline_replaced() {
        assert_eq!(
            timeline_steps(BASE),
            [r#"(at: "0", note: "first")"#, r#"(at: "5m", action: EnableJit(vm: "vm1"))"#]
        );
        let steps = vec![r#"(at: "1m", action: DisableJit(vm: "vm1"))"#.to_string()];
        let text = with_timeline(BASE, &steps);
        assert!(text.starts_with("// A comment that stays.\n"), "{text}");
        assert_eq!(timeline_steps(&text), [steps[0].as_str()]);
        let loaded = load_str(&text, Path::new("r.ron")).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(loaded.steps.len(), 1);
        assert_eq!(loaded.steps[0].at.as_secs(), 60);

        // Without a timeline, with or without a trailing comma.
        for tail in ["users: [], )", "users: [] )", "users: [],\n)\n"] {
            let bare = format!(r#"Scenario(name: "b", start: "2025-01-06T09:00:00Z", {tail}"#);
            let text = with_timeline(&bare, &[r#"(at: "0", note: "n")"#.to_string()]);
            let loaded = load_str(&text, Path::new("b.ron")).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(loaded.steps.len(), 1, "{text}");
        }
    }

    #[test]
    fn a_step_written_later_is_resolved_as_the_loader_resolves_the_files_own() {
        let scenario = load_str(BASE, Path::new("r.ron")).unwrap_or_else(|e| panic!("{e}"));
        let spec = StepSpec {
            at: "10m".into(),
            action: Some(Box::new(ActionSpec::DisableJit { vm: "vm1".into(), by: Some("alice".into()) })),
            expect: None,
            note: None,
            correction: None,
            question: None,
        };
        let step = scenario.resolve_step(&spec, 2).expect("resolves");
        assert!(matches!(step.action.as_deref(), Some(crate::sim::Action::DisableJit { .. })));
        assert_eq!((step.index, step.path()), (2, FieldPath::root("timeline").index(2)));
        let spec = StepSpec {
            at: "10m".into(),
            action: Some(Box::new(ActionSpec::DisableJit { vm: "vm9".into(), by: None })),
            expect: None,
            note: None,
            correction: None,
            question: None,
        };
        let e = scenario.resolve_step(&spec, 2).expect_err("no such VM");
        assert_eq!(e.field, Some(FieldPath::root("timeline").index(2).field("action").field("vm")));
        assert!(e.message.contains("vm9"), "{e}");
        assert_eq!(e.position, None);
    }
}

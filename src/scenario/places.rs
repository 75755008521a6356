//! Where each named part of a scenario is written, and where it was imported from, so that a
//! finding about an NSG, a rule or a VM can point at the line the user edits (SARIF's
//! locations, `lint --format sarif`).
//!
//! Two kinds of place: the part's own line and column in the scenario file (found with
//! [`SourceMap`], so hand-written scenarios locate their findings), and, for a scenario that
//! `nsgsim import` wrote, the part's origin in the template, plan or `az` output it was read
//! from (the scenario's `origins` field). An imported origin comes first: that is the file the
//! user edits; the scenario line follows as a related place.
//!
//! Parts are keyed by kind and name, as `origins` writes them (`nsg/NAME/rule/RULE`), without
//! ASCII case, as Azure compares resource names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::hash::FastBuild;
use crate::position::Position;

use super::schema::{OriginSpec, ScenarioFile};
use super::{FieldPath, SourceMap};

/// One place: a file, a 1-based line and column when known, and the logical path there (a JSON
/// path, a Terraform address, or the scenario field path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file (an imported origin's file is resolved against the scenario's directory).
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<crate::position::Position>,
    /// The JSON path, the Terraform address, or the scenario's field path.
    pub path: String,
    /// The Terraform address of the block the place is in, when it is in a plan or state
    /// (`module.hub.azurerm_network_security_group.web`): read once at load from the written
    /// origin (`schema_origins::written_address`).
    pub address: Option<String>,
    /// Whether the place is in the scenario file itself (otherwise: where it was imported from).
    pub in_scenario: bool,
}

impl Place {
    /// A place in the scenario file itself: at `position`, or the whole file when there is none
    /// (SARIF's fallback location, `test`'s results).
    pub fn in_scenario_file(file: &Path, position: Option<Position>) -> Place {
        Place { file: file.to_path_buf(), position, path: String::new(), address: None, in_scenario: true }
    }

    /// `FILE:LINE:COLUMN PATH` (what is known of it), as `lint` and `diff` print "defined at".
    pub fn shown(&self) -> String {
        let mut out = self.file.display().to_string();
        if let Some(position) = self.position {
            out.push_str(&format!(":{position}"));
        }
        if !self.path.is_empty() {
            out.push(' ');
            out.push_str(&self.path);
        }
        out
    }

    /// What `lint` and `diff` print as "defined at": [`Place::shown`], except that a place read
    /// from a Terraform plan or state names its block's address (the block to edit,
    /// `plan.json:192:13 module.network.azurerm_network_security_group.web`) rather than the
    /// whole JSON path the address sits in.
    pub fn defined_at(&self) -> String {
        // An imported place is resolved against the scenario's directory; a file under the
        // current directory is shown relative to it, as the import was given it.
        let cwd = std::env::current_dir().ok();
        let relative = cwd.as_deref().and_then(|cwd| self.file.strip_prefix(cwd).ok());
        if let Some(file) = relative.filter(|_| !self.in_scenario) {
            let shown = Place { file: file.to_path_buf(), ..self.clone() };
            return shown.defined_at_as_is();
        }
        self.defined_at_as_is()
    }

    /// [`Place::defined_at`] with the file as resolved.
    fn defined_at_as_is(&self) -> String {
        match &self.address {
            Some(address) if !self.in_scenario => Place { path: address.clone(), ..self.clone() }.shown(),
            _ => self.shown(),
        }
    }
}

/// An NSG's or rule's `origin` as scenarios written before the `origins` map hold it,
/// `FILE:LINE:COLUMN ADDRESS`, as a place: the file as written (those scenarios wrote it as the
/// import was given it), the position when the text has one, the rest as the path.
pub fn older_origin(text: &str) -> Place {
    let positioned = text.match_indices(' ').map(|(i, _)| i).chain([text.len()]).find_map(|i| {
        let (head, rest) = text.split_at(i);
        let (head, column) = head.rsplit_once(':')?;
        let (file, line) = head.rsplit_once(':')?;
        let position = Position::new(line.parse().ok()?, column.parse().ok()?);
        (!file.is_empty() && position.line > 0).then(|| (file, position, rest.trim_start()))
    });
    match positioned {
        Some((file, position, path)) => Place {
            file: PathBuf::from(file),
            position: Some(position),
            path: path.to_string(),
            address: None,
            in_scenario: false,
        },
        None => Place {
            file: PathBuf::from(text),
            position: None,
            path: String::new(),
            address: None,
            in_scenario: false,
        },
    }
}

/// A named part of a scenario that a finding can be about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part<'a> {
    /// A network security group, by name.
    Nsg(&'a str),
    /// A security rule of an NSG, by the NSG's and the rule's names.
    Rule {
        /// The NSG's name.
        nsg: &'a str,
        /// The rule's name.
        rule: &'a str,
    },
    /// A virtual machine, by name.
    Vm(&'a str),
    /// A JIT policy, by name.
    JitPolicy(&'a str),
    /// A subnet, by VNet and subnet names.
    Subnet {
        /// The VNet's name.
        vnet: &'a str,
        /// The subnet's name.
        subnet: &'a str,
    },
}

impl Part<'_> {
    /// The key `origins` uses for the part: `nsg/NAME/rule/RULE`, lower-cased.
    pub fn key(&self) -> String {
        let mut key = match self {
            Part::Nsg(n) => format!("nsg/{n}"),
            Part::Rule { nsg, rule } => format!("nsg/{nsg}/rule/{rule}"),
            Part::Vm(n) => format!("vm/{n}"),
            Part::JitPolicy(n) => format!("jit/{n}"),
            Part::Subnet { vnet, subnet } => format!("vnet/{vnet}/subnet/{subnet}"),
        };
        key.make_ascii_lowercase();
        key
    }
}

/// The places of a scenario's parts.
#[derive(Clone, Debug, Default)]
pub struct Places {
    /// The scenario file.
    file: PathBuf,
    /// Part key → (line, column, field path) in the scenario file.
    written: HashMap<String, (Position, String), FastBuild>,
    /// Part key → where it was imported from.
    imported: HashMap<String, Place, FastBuild>,
}

impl Places {
    /// The places of `file`'s parts: their spans in `map` (the scenario's text, read from
    /// `path`) and the `origins` the file records, resolved against `path`'s directory.
    pub fn new(file: &ScenarioFile, map: &SourceMap, path: &Path) -> Places {
        let mut written = HashMap::default();
        let mut put = |key: String, field: FieldPath| {
            if let Some(position) = map.start(&field) {
                written.entry(key.to_ascii_lowercase()).or_insert((position, field.to_string()));
            }
        };
        for (i, v) in file.vnets.iter().enumerate() {
            for (j, s) in v.subnets.iter().enumerate() {
                put(
                    format!("vnet/{}/subnet/{}", v.name, s.name),
                    FieldPath::root("vnets").index(i).field("subnets").index(j),
                );
            }
        }
        for (i, n) in file.nsgs.iter().enumerate() {
            put(format!("nsg/{}", n.name), FieldPath::root("nsgs").index(i));
            for (j, r) in n.rules.iter().enumerate() {
                put(
                    format!("nsg/{}/rule/{}", n.name, r.name),
                    FieldPath::root("nsgs").index(i).field("rules").index(j),
                );
            }
        }
        for (i, v) in file.vms.iter().enumerate() {
            put(format!("vm/{}", v.name), FieldPath::root("vms").index(i));
        }
        for (i, j) in file.jit_policies.iter().enumerate() {
            put(format!("jit/{}", j.name), FieldPath::root("jit_policies").index(i));
        }
        let dir = path.parent().unwrap_or(Path::new(""));
        let imported =
            file.origins.iter().map(|(key, o)| (key.to_ascii_lowercase(), imported_place(o, dir))).collect();
        Places { file: path.to_path_buf(), written, imported }
    }

    /// Records `place` as where `key`'s part was imported from, unless the scenario's `origins`
    /// already says (an older scenario's `origin` field, read by the loader, yields to it).
    pub fn add_imported(&mut self, key: &str, place: Place) {
        self.imported.entry(key.to_ascii_lowercase()).or_insert(place);
    }

    /// The scenario file.
    pub fn scenario_file(&self) -> &Path {
        &self.file
    }

    /// Where `part` was imported from, when the scenario records it.
    pub fn imported(&self, part: &Part<'_>) -> Option<&Place> {
        self.imported.get(&part.key())
    }

    /// Where `part` is written in the scenario file, when it is written there (rules JIT adds
    /// at run time are not).
    pub fn written(&self, part: &Part<'_>) -> Option<Place> {
        self.written_at(&part.key())
    }

    /// [`Places::written`] by the part's key.
    fn written_at(&self, key: &str) -> Option<Place> {
        self.written.get(key).map(|(position, field)| Place {
            file: self.file.clone(),
            position: Some(*position),
            path: field.clone(),
            address: None,
            in_scenario: true,
        })
    }

    /// Every place of `part`: where it was imported from first (the file the user edits), then
    /// its line in the scenario.
    pub fn of(&self, part: &Part<'_>) -> Vec<Place> {
        // The key once: lint's SARIF asks for the places of every finding's parts.
        let key = part.key();
        self.imported.get(&key).cloned().into_iter().chain(self.written_at(&key)).collect()
    }
}

fn imported_place(o: &OriginSpec, dir: &Path) -> Place {
    let file = Path::new(&o.file);
    let positive = |n: Option<i64>| n.and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0);
    Place {
        file: if file.is_absolute() { file.to_path_buf() } else { dir.join(file) },
        // An origin with a line but no column points at the line's start.
        position: positive(o.line).map(|line| Position::new(line, positive(o.column).unwrap_or(1))),
        path: o.path.clone(),
        address: super::schema_origins::written_address(&o.path).map(str::to_string),
        in_scenario: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"Scenario(
    name: "p",
    start: "2025-01-06T09:00:00Z",
    nsgs: [
        Nsg(name: "web-nsg", rules: [
            Rule(name: "AllowRdp", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "3389"),
        ]),
    ],
    origins: {
        "nsg/web-nsg/rule/AllowRdp": Origin(file: "azuredeploy.json", line: 40, column: 7, path: "resources[2].properties.securityRules[0]"),
    },
)"#;

    fn places() -> Places {
        let options =
            ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let file: ScenarioFile = options.from_str(TEXT).expect("parses");
        Places::new(&file, &SourceMap::new(TEXT), Path::new("gates/prod.ron"))
    }

    #[test]
    fn a_rule_is_found_at_its_line_and_at_its_origin_first() {
        let places = places();
        let rule = Part::Rule { nsg: "WEB-NSG", rule: "allowrdp" };
        let found = places.of(&rule);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].file,
            Path::new("gates/azuredeploy.json"),
            "relative to the scenario's directory"
        );
        assert_eq!(found[0].position, Some(Position::new(40, 7)));
        assert!(!found[0].in_scenario);
        assert_eq!(found[1].file, Path::new("gates/prod.ron"));
        assert_eq!(found[1].position, Some(Position::new(6, 13)));
        assert_eq!(found[1].path, "nsgs[0].rules[0]");
    }

    #[test]
    fn a_terraform_place_is_defined_at_its_block_address() {
        let place = Place {
            file: PathBuf::from("plan.json"),
            position: Some(Position::new(192, 13)),
            path: "resource_changes[2](module.net.azurerm_network_security_group.web).change.after.security_rule[0]"
                .to_string(),
            address: Some("module.net.azurerm_network_security_group.web".to_string()),
            in_scenario: false,
        };
        assert_eq!(place.defined_at(), "plan.json:192:13 module.net.azurerm_network_security_group.web");
        let arm = Place { path: "resources[2](copyIndex=1).properties".to_string(), address: None, ..place };
        assert_eq!(arm.defined_at(), arm.shown(), "no address, the whole path");
    }

    #[test]
    fn a_written_terraform_origin_loads_with_its_address() {
        let origin = OriginSpec {
            file: "plan.json".into(),
            line: Some(192),
            column: Some(13),
            path: "resource_changes[2](module.net.azurerm_network_security_group.web).change.after".into(),
        };
        let place = imported_place(&origin, Path::new("gates"));
        assert_eq!(place.address.as_deref(), Some("module.net.azurerm_network_security_group.web"));
        assert_eq!(
            place.defined_at(),
            "gates/plan.json:192:13 module.net.azurerm_network_security_group.web"
        );
        let arm = OriginSpec { path: "resources[2](copyIndex=1).properties".into(), ..origin };
        assert_eq!(imported_place(&arm, Path::new("")).address, None);
    }

    #[test]
    fn an_older_origin_is_read_as_a_place() {
        let o = older_origin(
            "tests/data/live/plan.json:186:18 module.network.azurerm_network_security_group.web",
        );
        assert_eq!(o.file, Path::new("tests/data/live/plan.json"));
        assert_eq!(o.position, Some(Position::new(186, 18)));
        assert_eq!(o.path, "module.network.azurerm_network_security_group.web");
        assert_eq!(
            o.shown(),
            "tests/data/live/plan.json:186:18 module.network.azurerm_network_security_group.web"
        );
        // A Windows drive, a file name with a space, and no position at all.
        let w = older_origin("C:/infra/my plan.json:3:4 azurerm_network_security_group.a");
        assert_eq!((w.file.to_str(), w.position), (Some("C:/infra/my plan.json"), Some(Position::new(3, 4))));
        let bare = older_origin("somewhere");
        assert_eq!((bare.file.to_str(), bare.position, bare.path.as_str()), (Some("somewhere"), None, ""));
    }

    #[test]
    fn the_origins_map_wins_over_an_older_origin() {
        let mut places = places();
        places.add_imported("NSG/web-nsg/rule/AllowRdp", older_origin("old.json:1:1 a.b"));
        places.add_imported("nsg/web-nsg", older_origin("old.json:2:1 a.b"));
        let rule = places.imported(&Part::Rule { nsg: "web-nsg", rule: "AllowRdp" }).expect("origin");
        assert_eq!(rule.position, Some(Position::new(40, 7)));
        let nsg = places.imported(&Part::Nsg("web-nsg")).expect("older origin");
        assert_eq!(nsg.shown(), "old.json:2:1 a.b");
    }

    #[test]
    fn a_part_without_origin_has_its_scenario_line_only() {
        let places = places();
        let nsg = places.of(&Part::Nsg("web-nsg"));
        assert_eq!(nsg.len(), 1);
        assert_eq!(nsg[0].position.map(|p| p.line), Some(5));
        assert!(places.of(&Part::Vm("nope")).is_empty());
    }
}

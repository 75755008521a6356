//! The `origins` field of an imported scenario: each NSG, rule, VM, NIC, subnet and other named
//! part, keyed as the scenario's `places` looks it up (`nsg/NAME/rule/RULE`), with the file,
//! line, column and JSON path (or Terraform address) it was read from. Findings about the
//! scenario then point into the template the user edits (`lint --format sarif`).
//!
//! The builder names origins by scenario field path (`nsgs[0].rules[2]`), which a person
//! editing the scenario would break; the map keys them by name instead.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::scenario::schema::{OriginSpec, ScenarioFile};
use crate::scenario::{FieldPath, Segment};

use super::Origin;

/// The part key of a scenario field path (`vms[1].nics[0]` → `nic/NAME`), when it names one:
/// read from the path's segments (a collection and its item, then, for a part inside one, a
/// collection of it and its item).
fn key(scenario: &ScenarioFile, field: &FieldPath) -> Option<String> {
    let (collection, index, inner) = match field.segments() {
        [Segment::Field(c), Segment::Index(i)] => (c.as_ref(), *i, None),
        [Segment::Field(c), Segment::Index(i), Segment::Field(n), Segment::Index(j), ..] => {
            (c.as_ref(), *i, Some(Some((n.as_ref(), *j))))
        }
        // A field of a part that is not itself a part (`vnets[0].name`).
        [Segment::Field(c), Segment::Index(i), ..] => (c.as_ref(), *i, Some(None)),
        _ => return None,
    };
    let key = match (collection, inner) {
        ("vnets", None) => format!("vnet/{}", scenario.vnets.get(index)?.name),
        ("vnets", Some(Some(("subnets", j)))) => {
            let v = scenario.vnets.get(index)?;
            format!("vnet/{}/subnet/{}", v.name, v.subnets.get(j)?.name)
        }
        ("nsgs", None) => format!("nsg/{}", scenario.nsgs.get(index)?.name),
        ("nsgs", Some(Some(("rules", j)))) => {
            let n = scenario.nsgs.get(index)?;
            format!("nsg/{}/rule/{}", n.name, n.rules.get(j)?.name)
        }
        ("vms", None) => format!("vm/{}", scenario.vms.get(index)?.name),
        ("vms", Some(Some(("nics", j)))) => format!("nic/{}", scenario.vms.get(index)?.nics.get(j)?.name),
        ("public_ips", None) => format!("public_ip/{}", scenario.public_ips.get(index)?.name),
        ("bastions", None) => format!("bastion/{}", scenario.bastions.get(index)?.name),
        ("firewalls", None) => format!("firewall/{}", scenario.firewalls.get(index)?.name),
        ("jit_policies", None) => format!("jit/{}", scenario.jit_policies.get(index)?.name),
        ("route_tables", None) => format!("route_table/{}", scenario.route_tables.get(index)?.name),
        ("route_tables", Some(Some(("routes", j)))) => {
            let t = scenario.route_tables.get(index)?;
            format!("route_table/{}/route/{}", t.name, t.routes.get(j)?.name)
        }
        _ => return None,
    };
    Some(key)
}

/// The origins of `scenario`'s parts, their files written relative to `dir` (the directory of
/// the scenario file about to be written) where both can be related, else as given.
pub fn origin_map(
    scenario: &ScenarioFile,
    origins: &[Origin],
    dir: Option<&Path>,
) -> BTreeMap<String, OriginSpec> {
    let mut out = BTreeMap::new();
    for o in origins {
        let Some(key) = key(scenario, &o.field) else { continue };
        let file = match dir {
            Some(dir) => relative(&o.file, dir),
            None => o.file.clone(),
        };
        out.entry(key).or_insert_with(|| OriginSpec {
            file: file.to_string_lossy().replace('\\', "/"),
            line: o.position.and_then(|p| i64::try_from(p.line).ok()),
            column: o.position.and_then(|p| i64::try_from(p.column).ok()),
            path: o.path.clone(),
        });
    }
    out
}

/// `file` relative to `dir`, both taken from the current directory when relative; `file` as
/// given when they cannot be related (another drive, a path that does not exist).
pub fn relative(file: &Path, dir: &Path) -> PathBuf {
    let absolute = |p: &Path| std::path::absolute(p).ok().map(|p| normal(&p));
    let (Some(f), Some(d)) = (absolute(file), absolute(dir)) else { return file.to_path_buf() };
    let (fc, dc): (Vec<Component>, Vec<Component>) = (f.components().collect(), d.components().collect());
    let common = fc.iter().zip(&dc).take_while(|(a, b)| a == b).count();
    // Sharing only the root (or a drive), the absolute path reads better than a climb to it.
    if common <= 1 && f.has_root() {
        return if file.is_absolute() { file.to_path_buf() } else { f };
    }
    let mut out = PathBuf::new();
    for _ in common..dc.len() {
        out.push("..");
    }
    for c in &fc[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_relative_to_the_scenario_directory() {
        assert_eq!(
            relative(Path::new("infra/azuredeploy.json"), Path::new("gates")),
            Path::new("../infra/azuredeploy.json")
        );
        assert_eq!(relative(Path::new("a/b/t.json"), Path::new("a")), Path::new("b/t.json"));
        assert_eq!(relative(Path::new("t.json"), Path::new("")), Path::new("t.json"));
    }

    #[test]
    fn field_paths_become_part_keys() {
        let text = r#"Scenario(name: "k", start: "2025-01-06T09:00:00Z",
            vnets: [Vnet(name: "hub", address_space: ["10.0.0.0/16"], subnets: [Subnet(name: "web", prefix: "10.0.1.0/24")])],
            nsgs: [Nsg(name: "a"), Nsg(name: "b", rules: [Rule(name: "r", priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: "22")])])"#;
        let options =
            ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let scenario: ScenarioFile = options.from_str(text).expect("a scenario");
        let key = |p: FieldPath| key(&scenario, &p);
        let nsgs = FieldPath::root("nsgs");
        assert_eq!(key(nsgs.index(1)).as_deref(), Some("nsg/b"));
        assert_eq!(key(nsgs.index(1).field("rules").index(0)).as_deref(), Some("nsg/b/rule/r"));
        assert_eq!(
            key(nsgs.index(1).field("rules").index(0).field("priority")).as_deref(),
            Some("nsg/b/rule/r")
        );
        assert_eq!(
            key(FieldPath::root("vnets").index(0).field("subnets").index(0)).as_deref(),
            Some("vnet/hub/subnet/web")
        );
        assert_eq!(key(FieldPath::root("vnets").index(0).field("name")), None, "a field, not a part");
        assert_eq!(key(nsgs.index(2)), None, "no such NSG");
        assert_eq!(key(nsgs), None);
    }
}

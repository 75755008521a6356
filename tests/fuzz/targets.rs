//! The fuzz targets: every parser and evaluator entry point of the binary, each with its seed
//! documents and the command lines that read them.
//!
//! | target | seeds | commands |
//! |---|---|---|
//! | scenario | `scenarios/*.ron`, `tests/data/**/*.ron` scenarios | `check`, `run`, `lint`, `exposure`, `diff`, `graph` |
//! | assertions | `tests/data/assertions/*.ron`, `tests/data/caveats/gate.ron` | `test` |
//! | import | `tests/data/import/*.json`; `../shared/data/real-world/{arm,az,terraform}` when present | `import` |
//! | flowlog | `tests/data/flowlogs/*` (NSG v1/v2 and VNet flow-log JSON, CSV) | `replay` |
//! | classbench | `tests/data/classbench/acl1_1K` and its trace | `classbench` |
//! | arguments | hostile values for every argument that reaches the engine | every command |
//!
//! Terraform plan JSON goes through `import` with the other JSON; when a Terraform reader lands
//! its own command line joins the table.

use std::path::{Path, PathBuf};

use rand::RngExt;
use rand::rngs::StdRng;

use crate::invariant::Exception;
use crate::mutate::{hostile_argument, mutate};

/// One seed document.
#[derive(Debug)]
pub struct Seed {
    /// Where it came from, for reports.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// One input to run: the file to write (if any), and the command line.
#[derive(Debug)]
pub struct Case {
    /// The fault injected, for reports.
    pub fault: String,
    /// The seed it came from.
    pub seed: String,
    /// The file's name in the worker's directory and its bytes.
    pub file: Option<(String, Vec<u8>)>,
    /// The arguments; the file is `input.EXT` in the worker's directory.
    pub args: Vec<String>,
}

/// What a target fuzzes.
#[derive(Debug)]
pub struct Target {
    /// Its name.
    pub name: &'static str,
    seeds: Vec<Seed>,
    kind: Kind,
    /// Known gaps this target tolerates, each fixed by work named in `exceptions`.
    pub exceptions: Vec<Exception>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Scenario,
    Assertions,
    Import,
    FlowLog,
    ClassBench,
    Arguments,
}

fn path_text(p: &Path) -> String {
    p.display().to_string()
}

fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && keep(p)).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn seeds(paths: &[PathBuf]) -> Vec<Seed> {
    paths
        .iter()
        .filter_map(|p| std::fs::read(p).ok().map(|bytes| Seed { name: path_text(p), bytes }))
        .collect()
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e == ext)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every target, with its seeds read from the repository (and from `../shared` when present).
pub fn all(root: &Path) -> Vec<Target> {
    let data = root.join("tests/data");
    let mut scenario_files = files_in(&root.join("scenarios"), |p| has_ext(p, "ron"));
    for dir in ["lint", "peering", "caveats", "regressions"] {
        scenario_files.extend(files_in(&data.join(dir), |p| {
            has_ext(p, "ron")
                && std::fs::read_to_string(p)
                    .is_ok_and(|t| t.contains("Scenario(") && !t.contains("Assertions("))
        }));
    }
    scenario_files.push(data.join("import/expected-arm.ron"));

    // Assertion files name their scenario relative to themselves; the copy under test lives
    // elsewhere, so the name becomes absolute first.
    let mut assertion_seeds = Vec::new();
    for path in files_in(&data.join("assertions"), |p| has_ext(p, "ron"))
        .into_iter()
        .chain([data.join("caveats/gate.ron")])
    {
        let text = std::fs::read_to_string(&path).expect("an assertions fixture");
        let dir = path.parent().expect("a directory");
        let fixed = match text.split_once("scenario: \"") {
            Some((before, after)) => match after.split_once('"') {
                Some((rel, rest)) => format!("{before}scenario: \"{}\"{rest}", path_text(&dir.join(rel))),
                None => text.clone(),
            },
            None => text.clone(),
        };
        assertion_seeds.push(Seed { name: path_text(&path), bytes: fixed.into_bytes() });
    }

    let mut import_files = files_in(&data.join("import"), |p| has_ext(p, "json"));
    import_files.extend(files_in(&data.join("terraform"), |p| has_ext(p, "json")));
    let shared = root.join("../shared/data/real-world");
    for dir in ["arm", "az", "terraform"] {
        import_files.extend(files_in(&shared.join(dir), |p| {
            has_ext(p, "json")
                && !p.to_string_lossy().ends_with(".parameters.json")
                && std::fs::metadata(p).is_ok_and(|m| m.len() < 64 * 1024)
        }));
    }

    let classbench = data.join("classbench");
    vec![
        Target {
            name: "scenario",
            seeds: seeds(&scenario_files),
            kind: Kind::Scenario,
            exceptions: Vec::new(),
        },
        Target { name: "assertions", seeds: assertion_seeds, kind: Kind::Assertions, exceptions: Vec::new() },
        Target { name: "import", seeds: seeds(&import_files), kind: Kind::Import, exceptions: Vec::new() },
        Target {
            name: "flowlog",
            seeds: seeds(&files_in(&data.join("flowlogs"), |_| true)),
            kind: Kind::FlowLog,
            exceptions: Vec::new(),
        },
        Target {
            name: "classbench",
            seeds: vec![
                Seed { name: "acl1_1K".into(), bytes: read(&classbench.join("acl1_1K")) },
                Seed { name: "acl1_1K_trace".into(), bytes: read(&classbench.join("acl1_1K_trace")) },
            ],
            kind: Kind::ClassBench,
            exceptions: Vec::new(),
        },
        Target { name: "arguments", seeds: Vec::new(), kind: Kind::Arguments, exceptions: Vec::new() },
    ]
}

impl Target {
    /// How many seed documents it has.
    pub fn seed_count(&self) -> usize {
        self.seeds.len()
    }

    /// One input, made from `rng` alone; `dir` is the worker's directory, `root` the crate's.
    pub fn case(&self, rng: &mut StdRng, dir: &Path, root: &Path) -> Case {
        let input = |ext: &str| path_text(&dir.join(format!("input.{ext}")));
        let scenario = |name: &str| path_text(&root.join("scenarios").join(name));
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        if let Kind::Arguments = self.kind {
            return arguments_case(rng, root, dir);
        }
        let seed = &self.seeds[rng.random_range(0..self.seeds.len())];
        let nesting = if matches!(self.kind, Kind::Import | Kind::FlowLog) { ("[", "]") } else { ("(", ")") };
        let (fault, bytes) = mutate(rng, &seed.bytes, nesting);
        let (ext, args) = match self.kind {
            Kind::Scenario => {
                let f = input("ron");
                let args = match rng.random_range(0..8) {
                    0 | 1 => strings(&["check", &f]),
                    2 | 3 => strings(&["run", &f]),
                    4 => strings(&["lint", &f]),
                    5 => strings(&["exposure", &f]),
                    6 => strings(&["diff", &f, &f]),
                    _ => strings(&["graph", &f]),
                };
                ("ron", args)
            }
            Kind::Assertions => ("ron", strings(&["test", &input("ron")])),
            Kind::Import => {
                ("json", strings(&["import", &input("json"), "-o", &path_text(&dir.join("out.ron"))]))
            }
            Kind::FlowLog => {
                let ext = if seed.name.ends_with(".csv") { "csv" } else { "json" };
                (
                    ext,
                    strings(&[
                        "replay",
                        &scenario("01-nsg-evaluation-order.ron"),
                        &input(ext),
                        "--threads",
                        "1",
                    ]),
                )
            }
            Kind::ClassBench => {
                let rules = path_text(&root.join("tests/data/classbench/acl1_1K"));
                let trace = path_text(&root.join("tests/data/classbench/acl1_1K_trace"));
                let f = input("txt");
                let (r, t) = if seed.name.contains("trace") { (rules, f) } else { (f, trace) };
                ("txt", strings(&["classbench", &r, &t, "--rounds", "1", "--threads", "1"]))
            }
            Kind::Arguments => unreachable!("handled above"),
        };
        Case {
            fault: fault.to_string(),
            seed: seed.name.clone(),
            file: Some((format!("input.{ext}"), bytes)),
            args,
        }
    }
}

/// A command line with one hostile value in an argument that reaches the engine.
fn arguments_case(rng: &mut StdRng, root: &Path, dir: &Path) -> Case {
    let s = |name: &str| path_text(&root.join("scenarios").join(name));
    let d = |name: &str| path_text(&root.join("tests/data").join(name));
    let (s01, s10) = (s("01-nsg-evaluation-order.ron"), s("10-jit-lifecycle.ron"));
    let out = path_text(&dir.join("out.ron"));
    let (acl, trace) = (d("classbench/acl1_1K"), d("classbench/acl1_1K_trace"));
    let (csv, v2) = (d("flowlogs/flows.csv"), d("flowlogs/nsg-v2-web-subnet.json"));
    let template = d("import/arm-template.json");
    let templates: Vec<Vec<&str>> = vec![
        vec!["eval", &s01, "--from", "admin", "--to", "vm-web", "--port", "{}"],
        vec!["eval", &s01, "--from", "{}", "--to", "vm-web", "--port", "22"],
        vec!["eval", &s01, "--from", "admin", "--to", "{}", "--port", "22"],
        vec!["eval", &s01, "--from", "admin", "--to", "vm-web", "--port", "22", "--protocol", "{}"],
        vec!["eval", &s01, "--from", "admin", "--to", "vm-web", "--port", "22", "--src-port", "{}"],
        vec!["eval", &s10, "--from", "alice", "--to", "vm1", "--port", "22", "--at", "{}"],
        vec!["eval", &s10, "--from", "alice", "--to", "vm1", "--port", "22", "--at={}"],
        vec!["jit", "request", &s10, "--user", "alice", "--vm", "vm1", "--port", "22", "--duration", "{}"],
        vec!["jit", "request", &s10, "--user", "alice", "--vm", "vm1", "--port", "22", "--source", "{}"],
        vec!["jit", "request", &s10, "--user", "alice", "--vm", "vm1", "--port", "{}"],
        vec!["jit", "request", &s10, "--user", "alice", "--vm", "vm1", "--port", "22", "--at", "{}"],
        vec!["jit", "status", &s10, "--at", "{}"],
        vec!["lint", &s10, "--at", "{}"],
        vec!["diff", &s10, &s10, "--at", "{}"],
        vec!["exposure", &s10, "--from", "{}"],
        vec!["exposure", &s10, "--to", "{}"],
        vec!["reach", &s10, "--to", "{}"],
        vec!["reach", &s10, "--to", "vm1", "--port", "{}"],
        vec!["effective-rules", &s01, "--vm", "{}"],
        vec!["replay", &s01, &csv, "--at", "{}"],
        vec!["replay", &s01, &v2, "--log-start", "{}"],
        vec!["replay", &s01, &csv, "--threads", "{}"],
        vec!["import", "--start", "{}", &template, "-o", &out],
        vec!["import", "--name", "{}", &template, "-o", &out],
        vec!["import", "--location", "{}", &template, "-o", &out],
        vec!["classbench", &acl, &trace, "--rounds", "1", "--threads", "{}"],
        vec!["classbench", &acl, &trace, "--threads", "1", "--rounds", "{}"],
        vec!["classbench", &acl, &trace, "--rounds", "1", "--threads", "1", "--match-base", "{}"],
    ];
    let template = &templates[rng.random_range(0..templates.len())];
    // An argument cannot hold a NUL byte (the operating system's rule, not nsgsim's).
    let value = hostile_argument(rng).replace('\0', "");
    let args = template.iter().map(|a| a.replace("{}", &value)).collect();
    Case { fault: "argument value".into(), seed: template.join(" "), file: None, args }
}
